/* cb-version.c: numeric versions */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-version.h"

#include <string.h>

static gboolean
parse (const char *version, guint32 out[CB_VERSION_MAX_COMPONENTS], guint *n_out)
{
  const char *p = version;
  guint n = 0;

  if (version == NULL || strlen (version) > CB_VERSION_MAX_LEN || *p == '\0')
    return FALSE;
  memset (out, 0, sizeof (guint32) * CB_VERSION_MAX_COMPONENTS);
  for (;;)
    {
      guint64 value = 0;
      const char *start = p;

      if (n == CB_VERSION_MAX_COMPONENTS || !g_ascii_isdigit (*p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        {
          value = value * 10 + (guint64) (*p - '0');
          if (value > CB_VERSION_MAX_COMPONENT)
            return FALSE;
          p++;
        }
      if (p - start > 1 && *start == '0')
        return FALSE;
      out[n++] = (guint32) value;
      if (*p == '\0')
        break;
      if (*p != '.')
        return FALSE;
      p++;
    }
  if (n_out != NULL)
    *n_out = n;
  return TRUE;
}

gboolean
cb_version_validate (const char  *version,
                     GError     **error)
{
  guint32 parts[CB_VERSION_MAX_COMPONENTS];

  if (parse (version, parts, NULL))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "\"%s\" is not a version: use up to %d dot-separated numbers without leading "
               "zeros, like 1.2.0", version != NULL ? version : "", CB_VERSION_MAX_COMPONENTS);
  return FALSE;
}

int
cb_version_compare (const char *a,
                    const char *b)
{
  guint32 pa[CB_VERSION_MAX_COMPONENTS], pb[CB_VERSION_MAX_COMPONENTS];
  gboolean va = parse (a, pa, NULL), vb = parse (b, pb, NULL);

  if (!va || !vb)
    return va - vb;
  for (guint i = 0; i < CB_VERSION_MAX_COMPONENTS; i++)
    if (pa[i] != pb[i])
      return pa[i] < pb[i] ? -1 : 1;
  return 0;
}
