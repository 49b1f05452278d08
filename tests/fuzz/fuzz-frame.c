/* fuzz-frame.c: arbitrary frames into cb_channel_open
 *
 * The channel is the responder's end of a handshake with fixed keys and
 * seeds, so saved frames sealed by the initiator stay valid.  Input: one
 * mode byte; if it is odd, the rest is one frame; if even, the rest is a
 * sequence of frames, each a 2-byte big-endian length and that many bytes
 * (the last one takes whatever is left). */
#include "cb-handshake.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Both ends of the fixed session. */
static void
fuzz_channels (CbChannel **initiator, CbChannel **responder)
{
  guint8 net[CB_NETWORK_KEY_BYTES], seed[32], seed_i[32], seed_r[32];
  guint8 pk_i[32], sk_i[64], pk_r[32], sk_r[64];
  g_autoptr(CbHandshake) i = NULL, r = NULL;
  g_autoptr(GBytes) m1 = NULL, m2 = NULL, m3 = NULL, none = NULL;

  if (sodium_init () < 0)
    abort ();
  memset (net, 0x5a, sizeof net);
  memset (seed, 0x01, sizeof seed);
  crypto_sign_seed_keypair (pk_i, sk_i, seed);
  memset (seed, 0x02, sizeof seed);
  crypto_sign_seed_keypair (pk_r, sk_r, seed);
  memset (seed_i, 0x03, sizeof seed_i);
  memset (seed_r, 0x04, sizeof seed_r);
  i = cb_handshake_new (TRUE, net, sk_i, pk_r, seed_i);
  r = cb_handshake_new (FALSE, net, sk_r, pk_i, seed_r);
  m1 = cb_handshake_start (i, NULL);
  if (m1 == NULL ||
      !cb_handshake_receive (r, g_bytes_get_data (m1, NULL), g_bytes_get_size (m1), &m2, NULL) ||
      !cb_handshake_receive (i, g_bytes_get_data (m2, NULL), g_bytes_get_size (m2), &m3, NULL) ||
      !cb_handshake_receive (r, g_bytes_get_data (m3, NULL), g_bytes_get_size (m3), &none, NULL))
    abort ();
  *initiator = cb_handshake_into_channel (i);
  *responder = cb_handshake_into_channel (r);
}

/* Opens one frame from an exact-size copy; FALSE once the channel failed. */
static gboolean
open_one (CbChannel *ch, GByteArray *out, const guint8 *frame, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *copy = g_memdup2 (frame, len);
  guint before = out->len;
  gboolean final = FALSE;

  if (cb_channel_open (ch, copy, len, out, &final, &error))
    {
      if (out->len - before + CB_CHANNEL_TAG_BYTES > len)
        abort ();
      if (final && !cb_channel_peer_closed_cleanly (ch))
        abort ();
      return TRUE;
    }
  if (error == NULL || error->domain != CB_CHANNEL_ERROR || out->len != before || final)
    abort ();
  g_clear_error (&error);
  if (cb_channel_open (ch, copy, len, out, &final, &error) ||
      !g_error_matches (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_STATE))
    abort ();
  return FALSE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(CbChannel) initiator = NULL;
  g_autoptr(CbChannel) responder = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize at = 1;

  if (size < 1)
    return 0;
  fuzz_channels (&initiator, &responder);
  if (data[0] & 1)
    {
      open_one (responder, out, data + 1, size - 1);
      return 0;
    }
  while (at < size)
    {
      gsize len = size - at;

      if (len >= 2)
        {
          gsize want = ((gsize) data[at] << 8) | data[at + 1];

          at += 2;
          len = MIN (want, size - at);
        }
      else
        {
          at = size;
          len = 0;
        }
      if (!open_one (responder, out, data + at, len))
        break;
      at += len;
    }
  return 0;
}
