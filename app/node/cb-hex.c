/* cb-hex.c: strict hex, no whitespace, no prefixes */
#define G_LOG_DOMAIN "cb-hex"

#include "cb-hex.h"

#include <string.h>

void
cb_hex_encode_into (const guint8 *bytes,
                    gsize         len,
                    char         *out)
{
  static const char digits[] = "0123456789abcdef";

  for (gsize i = 0; i < len; i++)
    {
      out[2 * i] = digits[bytes[i] >> 4];
      out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
  out[2 * len] = '\0';
}

char *
cb_hex_encode (const guint8 *bytes,
               gsize         len)
{
  char *out = g_malloc (2 * len + 1);

  cb_hex_encode_into (bytes, len, out);
  return out;
}

gboolean
cb_hex_decode (const char *text,
               guint8     *out,
               gsize       len)
{
  if (text == NULL || strlen (text) != 2 * len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]);
      int lo = g_ascii_xdigit_value (text[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}
