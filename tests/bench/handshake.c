/* handshake.c: benchmark of the node handshake against its own primitives
 *
 * A "handshake" here is both sides' work in one thread: two cb_handshake_new
 * (ephemeral key pairs), the three messages, and both channels.  The
 * baseline, measured in the same run, is the public-key work one handshake
 * cannot avoid: 2 X25519 base-point mults (the ephemeral keys), 2 X25519
 * DH mults, 2 ed25519 signatures and 2 ed25519 verifications.  The ratio
 * handshake/baseline says how much the protocol adds on top of the
 * machine's limit (hashing, AEAD, allocation, copying).
 *
 * Batches of handshakes and of primitives alternate, so drift (frequency
 * scaling, a noisy neighbour) hits both alike. */
#include "cb-handshake.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define BATCHES 5

static volatile guint8 sink;

static void
seed_for (guint8 seed[32], guint64 n, guint8 side)
{
  memset (seed, side, 32);
  memcpy (seed, &n, sizeof n);
}

typedef struct {
  const guint8 *net;
  const guint8 *sk_i;
  const guint8 *sk_r;
  gsize sizes[3];
  guint messages;  /* messages one handshake sent: 2 per round trip */
} Setup;

static void
one_handshake (Setup *setup, guint64 n)
{
  guint8 seed_i[32], seed_r[32];
  g_autoptr(CbHandshake) i = NULL;
  g_autoptr(CbHandshake) r = NULL;
  g_autoptr(GBytes) m1 = NULL, m2 = NULL, m3 = NULL, none = NULL;
  g_autoptr(CbChannel) ci = NULL, cr = NULL;
  g_autoptr(GError) error = NULL;

  seed_for (seed_i, n, 1);
  seed_for (seed_r, n, 2);
  i = cb_handshake_new (TRUE, setup->net, setup->sk_i, NULL, seed_i);
  r = cb_handshake_new (FALSE, setup->net, setup->sk_r, NULL, seed_r);
  if ((m1 = cb_handshake_start (i, &error)) == NULL ||
      !cb_handshake_receive (r, g_bytes_get_data (m1, NULL), g_bytes_get_size (m1), &m2, &error) ||
      !cb_handshake_receive (i, g_bytes_get_data (m2, NULL), g_bytes_get_size (m2), &m3, &error) ||
      !cb_handshake_receive (r, g_bytes_get_data (m3, NULL), g_bytes_get_size (m3), &none, &error) ||
      !cb_handshake_is_done (i) || !cb_handshake_is_done (r))
    g_error ("handshake %" G_GUINT64_FORMAT " failed: %s", n,
             error ? error->message : "not done");
  ci = cb_handshake_into_channel (i);
  cr = cb_handshake_into_channel (r);
  setup->sizes[0] = g_bytes_get_size (m1);
  setup->sizes[1] = g_bytes_get_size (m2);
  setup->sizes[2] = g_bytes_get_size (m3);
  setup->messages = 2 + (m3 != NULL) + (none != NULL);
  sink ^= cb_handshake_get_peer_id (i)[0];
}

typedef struct {
  guint8 sk_a[64], pk_a[32], sk_b[64], pk_b[32];
} Keys;

/* The public-key operations one handshake performs, nothing else. */
static void
one_primitives (const Keys *k, guint64 n)
{
  guint8 seed[32], e_a[32], e_b[32], s_a[32], s_b[32], dh[32], sig[64], msg[56];

  seed_for (seed, n, 3);
  memcpy (s_a, seed, 32);
  seed[31] ^= 0x55;
  memcpy (s_b, seed, 32);
  crypto_scalarmult_base (e_a, s_a);
  crypto_scalarmult_base (e_b, s_b);
  if (crypto_scalarmult (dh, s_a, e_b) != 0 || crypto_scalarmult (dh, s_b, e_a) != 0)
    g_error ("X25519 failed");
  memcpy (msg, dh, 32);
  memset (msg + 32, 0x42, sizeof msg - 32);
  crypto_sign_detached (sig, NULL, msg, sizeof msg, k->sk_b);
  if (crypto_sign_verify_detached (sig, msg, sizeof msg, k->pk_b) != 0)
    g_error ("ed25519 verify failed");
  crypto_sign_detached (sig, NULL, msg, sizeof msg, k->sk_a);
  if (crypto_sign_verify_detached (sig, msg, sizeof msg, k->pk_a) != 0)
    g_error ("ed25519 verify failed");
  sink ^= sig[0];
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static double
median (double *v, guint n)
{
  qsort (v, n, sizeof *v, compare_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main (int argc, char **argv)
{
  gint iterations = 20000;
  GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations,
      "Handshakes to run, split into 5 batches (default 20000)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- handshake benchmark");
  g_autoptr(GError) error = NULL;
  guint8 net[32], seed[32];
  Keys keys;
  Setup setup;
  double hs_rate[BATCHES], hs_us[BATCHES], prim_us[BATCHES];
  double hs_med, prim_med, rate_med, rate_min, rate_max;
  guint64 per_batch, n = 0;
  gsize total;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (iterations < BATCHES)
    {
      g_printerr ("--iterations must be at least %d\n", BATCHES);
      return 2;
    }
  if (sodium_init () < 0)
    g_error ("libsodium cannot initialise");

  memset (net, 0x11, sizeof net);
  memset (seed, 0xaa, sizeof seed);
  crypto_sign_seed_keypair (keys.pk_a, keys.sk_a, seed);
  memset (seed, 0xbb, sizeof seed);
  crypto_sign_seed_keypair (keys.pk_b, keys.sk_b, seed);
  setup.net = net;
  setup.sk_i = keys.sk_a;
  setup.sk_r = keys.sk_b;

  per_batch = (guint64) iterations / BATCHES;
  /* warm-up: caches, allocator, CPU frequency */
  for (guint64 w = 0; w < per_batch / 10 + 1; w++)
    {
      one_handshake (&setup, n++);
      one_primitives (&keys, n);
    }

  for (guint b = 0; b < BATCHES; b++)
    {
      gint64 t0, t1, t2;

      t0 = g_get_monotonic_time ();
      for (guint64 k = 0; k < per_batch; k++)
        one_handshake (&setup, n++);
      t1 = g_get_monotonic_time ();
      for (guint64 k = 0; k < per_batch; k++)
        one_primitives (&keys, n++);
      t2 = g_get_monotonic_time ();
      hs_us[b] = (double) (t1 - t0) / (double) per_batch;
      prim_us[b] = (double) (t2 - t1) / (double) per_batch;
      hs_rate[b] = 1e6 / hs_us[b];
    }

  total = setup.sizes[0] + setup.sizes[1] + setup.sizes[2];
  hs_med = median (hs_us, BATCHES);
  prim_med = median (prim_us, BATCHES);
  rate_min = hs_rate[0];
  rate_max = hs_rate[0];
  for (guint b = 1; b < BATCHES; b++)
    {
      rate_min = MIN (rate_min, hs_rate[b]);
      rate_max = MAX (rate_max, hs_rate[b]);
    }
  rate_med = median (hs_rate, BATCHES);

  g_print ("handshake benchmark: %" G_GUINT64_FORMAT " handshakes in %d batches "
           "(both sides' work in one thread, libsodium %s)\n",
           per_batch * BATCHES, BATCHES, sodium_version_string ());
  g_print ("bytes per message:   M1 %" G_GSIZE_FORMAT ", M2 %" G_GSIZE_FORMAT
           ", M3 %" G_GSIZE_FORMAT "\n", setup.sizes[0], setup.sizes[1], setup.sizes[2]);
  g_print ("bytes in total:      %" G_GSIZE_FORMAT " (goal <= 320: %s)\n",
           total, total <= 320 ? "met" : "NOT met");
  g_print ("round trips:         %.1f (%u messages; goal 1.5: %s)\n",
           setup.messages / 2.0, setup.messages, setup.messages <= 3 ? "met" : "NOT met");
  g_print ("handshakes/s:        median %.0f, min %.0f, max %.0f\n",
           rate_med, rate_min, rate_max);
  g_print ("time per handshake:  median %.1f us\n", hs_med);
  g_print ("baseline (machine's limit, same run): %.1f us per handshake for "
           "2 X25519 base mults + 2 X25519 DH + 2 ed25519 sign + 2 ed25519 verify "
           "(%.0f/s)\n", prim_med, 1e6 / prim_med);
  g_print ("ratio handshake/primitives: %.3f (protocol overhead %.1f%%)\n",
           hs_med / prim_med, (hs_med / prim_med - 1.0) * 100.0);
  return 0;
}
