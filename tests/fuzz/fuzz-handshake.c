/* fuzz-handshake.c: arbitrary bytes as handshake messages
 *
 * The first input byte picks the role (mod 3), the rest is the message:
 *   0: M1 to a fresh responder
 *   1: M2 to an initiator that sent its M1
 *   2: M3 to a responder that answered the fixed M1
 * Keys and seeds are fixed, so a saved valid M2/M3 stays valid and lets the
 * fuzzer reach the code after authentication. */
#include "cb-handshake.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
  guint8 net[CB_NETWORK_KEY_BYTES];
  guint8 pk_i[CB_NODE_ID_BYTES], sk_i[CB_IDENTITY_SECRET_BYTES];
  guint8 pk_r[CB_NODE_ID_BYTES], sk_r[CB_IDENTITY_SECRET_BYTES];
  guint8 seed_i[CB_HANDSHAKE_SEED_BYTES], seed_r[CB_HANDSHAKE_SEED_BYTES];
} FuzzKeys;

static const FuzzKeys *
fuzz_keys (void)
{
  static FuzzKeys keys;
  static gboolean ready;
  guint8 seed[crypto_sign_SEEDBYTES];

  if (ready)
    return &keys;
  if (sodium_init () < 0)
    abort ();
  memset (keys.net, 0x5a, sizeof keys.net);
  memset (seed, 0x01, sizeof seed);
  crypto_sign_seed_keypair (keys.pk_i, keys.sk_i, seed);
  memset (seed, 0x02, sizeof seed);
  crypto_sign_seed_keypair (keys.pk_r, keys.sk_r, seed);
  memset (keys.seed_i, 0x03, sizeof keys.seed_i);
  memset (keys.seed_r, 0x04, sizeof keys.seed_r);
  ready = TRUE;
  return &keys;
}

/* Feeds msg; on failure a second call must report the poisoned state. */
static void
feed (CbHandshake *hs, const guint8 *msg, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(GBytes) again = NULL;

  if (cb_handshake_receive (hs, msg, len, &reply, &error))
    {
      if (cb_handshake_is_done (hs))
        {
          g_autoptr(CbChannel) ch = cb_handshake_into_channel (hs);

          if (ch == NULL || cb_handshake_get_peer_id (hs) == NULL)
            abort ();
        }
      return;
    }
  if (error == NULL || error->domain != CB_HANDSHAKE_ERROR || reply != NULL ||
      error->message == NULL || error->message[0] == '\0')
    abort ();
  g_clear_error (&error);
  if (cb_handshake_receive (hs, msg, len, &again, &error) ||
      !g_error_matches (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_STATE))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const FuzzKeys *k = fuzz_keys ();
  g_autoptr(CbHandshake) i = NULL;
  g_autoptr(CbHandshake) r = NULL;
  g_autoptr(GBytes) m1 = NULL;
  g_autoptr(GBytes) m2 = NULL;
  g_autofree guint8 *copy = NULL;
  gsize len;

  if (size < 1)
    return 0;
  /* a copy of exactly the message, so ASan sees any read past it */
  len = size - 1;
  copy = g_memdup2 (data + 1, len);

  switch (data[0] % 3)
    {
    case 0:
      r = cb_handshake_new (FALSE, k->net, k->sk_r, NULL, k->seed_r);
      feed (r, copy, len);
      break;
    case 1:
      i = cb_handshake_new (TRUE, k->net, k->sk_i, k->pk_r, k->seed_i);
      m1 = cb_handshake_start (i, NULL);
      if (m1 == NULL)
        abort ();
      feed (i, copy, len);
      break;
    default:
      i = cb_handshake_new (TRUE, k->net, k->sk_i, NULL, k->seed_i);
      r = cb_handshake_new (FALSE, k->net, k->sk_r, k->pk_i, k->seed_r);
      m1 = cb_handshake_start (i, NULL);
      if (m1 == NULL ||
          !cb_handshake_receive (r, g_bytes_get_data (m1, NULL), g_bytes_get_size (m1), &m2, NULL))
        abort ();
      feed (r, copy, len);
      break;
    }
  return 0;
}
