/* test-channel.c: the encrypted frame channel: order, integrity, closing */
#define G_LOG_DOMAIN "cb-test-channel"

#include "cb-channel.h"
#include "cb-handshake.h"

#include <sodium.h>
#include <string.h>

static guint8 key_ab[CB_CHANNEL_KEY_BYTES];
static guint8 key_ba[CB_CHANNEL_KEY_BYTES];

/* a = one side, b = its peer */
static void
pair (CbChannel **a, CbChannel **b)
{
  *a = cb_channel_new (key_ab, key_ba);
  *b = cb_channel_new (key_ba, key_ab);
}

static GBytes *
seal_str (CbChannel *ch, const char *text, gboolean final)
{
  g_autoptr(GError) error = NULL;
  GBytes *frame = cb_channel_seal (ch, (const guint8 *) text, strlen (text), final, &error);

  g_assert_no_error (error);
  g_assert_nonnull (frame);
  return frame;
}

static void
open_ok (CbChannel *ch, GBytes *frame, const char *expect, gboolean expect_final)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gboolean final = !expect_final;

  g_assert_true (cb_channel_open (ch, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                  out, &final, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (out->data, out->len, expect, strlen (expect));
  g_assert_cmpint (final, ==, expect_final);
}

/* The frame is refused with code, nothing is appended, and the channel is
 * poisoned afterwards. */
static void
open_fails (CbChannel *ch, const guint8 *data, gsize len, gint code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gboolean final = TRUE;

  g_byte_array_append (out, (const guint8 *) "keep", 4);
  g_assert_false (cb_channel_open (ch, data, len, out, &final, &error));
  g_assert_error (error, CB_CHANNEL_ERROR, code);
  g_assert_cmpmem (out->data, out->len, "keep", 4);
  g_assert_false (final);
  g_clear_error (&error);

  g_assert_false (cb_channel_open (ch, data, len, out, &final, &error));
  g_assert_error (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_STATE);
  g_assert_nonnull (strstr (error->message, "handshake again"));
  g_assert_false (cb_channel_peer_closed_cleanly (ch));
}

static void
open_bytes_fails (CbChannel *ch, GBytes *frame, gint code)
{
  open_fails (ch, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame), code);
}

static void
test_roundtrip_handshake (void)
{
  guint8 net[CB_NETWORK_KEY_BYTES], seed_a[32], seed_b[32], seed_i[32], seed_r[32];
  guint8 pk_a[32], sk_a[64], pk_b[32], sk_b[64];
  g_autoptr(CbHandshake) hi = NULL, hr = NULL;
  g_autoptr(GBytes) m1 = NULL, m2 = NULL, m3 = NULL, none = NULL;
  g_autoptr(CbChannel) ci = NULL, cr = NULL;
  g_autoptr(GError) error = NULL;

  memset (net, 1, sizeof net);
  memset (seed_a, 2, sizeof seed_a);
  memset (seed_b, 3, sizeof seed_b);
  memset (seed_i, 4, sizeof seed_i);
  memset (seed_r, 5, sizeof seed_r);
  crypto_sign_seed_keypair (pk_a, sk_a, seed_a);
  crypto_sign_seed_keypair (pk_b, sk_b, seed_b);
  hi = cb_handshake_new (TRUE, net, sk_a, pk_b, seed_i);
  hr = cb_handshake_new (FALSE, net, sk_b, NULL, seed_r);
  m1 = cb_handshake_start (hi, &error);
  g_assert_true (cb_handshake_receive (hr, g_bytes_get_data (m1, NULL), g_bytes_get_size (m1), &m2, &error));
  g_assert_true (cb_handshake_receive (hi, g_bytes_get_data (m2, NULL), g_bytes_get_size (m2), &m3, &error));
  g_assert_true (cb_handshake_receive (hr, g_bytes_get_data (m3, NULL), g_bytes_get_size (m3), &none, &error));
  g_assert_no_error (error);
  ci = cb_handshake_into_channel (hi);
  cr = cb_handshake_into_channel (hr);

  /* interleaved traffic both ways, including empty frames */
  for (guint n = 0; n < 50; n++)
    {
      g_autofree char *to_r = g_strdup_printf ("initiator frame %u", n);
      g_autofree char *to_i = g_strdup_printf ("responder frame %u", n);
      g_autoptr(GBytes) f1 = seal_str (ci, to_r, FALSE);
      g_autoptr(GBytes) f2 = seal_str (cr, to_i, FALSE);
      g_autoptr(GBytes) f3 = seal_str (ci, "", FALSE);
      /* the first frame of each direction carries the stream header */
      gsize overhead = CB_CHANNEL_TAG_BYTES + (n == 0 ? CB_CHANNEL_HEADER_BYTES : 0);

      g_assert_cmpuint (g_bytes_get_size (f1), ==, strlen (to_r) + overhead);
      g_assert_cmpuint (g_bytes_get_size (f3), ==, CB_CHANNEL_TAG_BYTES);
      open_ok (cr, f1, to_r, FALSE);
      open_ok (ci, f2, to_i, FALSE);
      open_ok (cr, f3, "", FALSE);
    }
  {
    g_autoptr(GBytes) bye_i = seal_str (ci, "bye from initiator", TRUE);
    g_autoptr(GBytes) bye_r = seal_str (cr, "bye from responder", TRUE);

    g_assert_false (cb_channel_peer_closed_cleanly (cr));
    open_ok (cr, bye_i, "bye from initiator", TRUE);
    g_assert_true (cb_channel_peer_closed_cleanly (cr));
    g_assert_false (cb_channel_peer_closed_cleanly (ci));
    open_ok (ci, bye_r, "bye from responder", TRUE);
    g_assert_true (cb_channel_peer_closed_cleanly (ci));
  }
}

static void
test_replay (void)
{
  g_autoptr(CbChannel) a = NULL, b = NULL;
  g_autoptr(GBytes) f1 = NULL, f2 = NULL;

  pair (&a, &b);
  f1 = seal_str (a, "one", FALSE);
  f2 = seal_str (a, "two", FALSE);
  open_ok (b, f1, "one", FALSE);
  open_ok (b, f2, "two", FALSE);
  /* f2 again (without its header: a later frame has none) */
  open_bytes_fails (b, f2, CB_CHANNEL_ERROR_DECRYPT);

  /* replaying the first frame, header included, into a fresh receiver
   * that already had it */
  {
    g_autoptr(CbChannel) a2 = NULL, b2 = NULL;
    g_autoptr(GBytes) g1 = NULL;

    pair (&a2, &b2);
    g1 = seal_str (a2, "first", FALSE);
    open_ok (b2, g1, "first", FALSE);
    open_bytes_fails (b2, g1, CB_CHANNEL_ERROR_DECRYPT);
  }
}

static void
test_reorder (void)
{
  g_autoptr(CbChannel) a = NULL, b = NULL;
  g_autoptr(GBytes) f1 = NULL, f2 = NULL, f3 = NULL;

  pair (&a, &b);
  f1 = seal_str (a, "one", FALSE);
  f2 = seal_str (a, "two", FALSE);
  f3 = seal_str (a, "three", FALSE);
  open_ok (b, f1, "one", FALSE);
  open_bytes_fails (b, f3, CB_CHANNEL_ERROR_DECRYPT);  /* f2 and f3 swapped */

  /* a dropped frame in the middle is the same thing */
  {
    g_autoptr(CbChannel) a2 = NULL, b2 = NULL;
    g_autoptr(GBytes) g1 = NULL, g2 = NULL, g3 = NULL;

    pair (&a2, &b2);
    g1 = seal_str (a2, "one", FALSE);
    g2 = seal_str (a2, "two", FALSE);
    g3 = seal_str (a2, "three", FALSE);
    open_ok (b2, g1, "one", FALSE);
    open_bytes_fails (b2, g3, CB_CHANNEL_ERROR_DECRYPT);
  }
}

static void
test_truncation (void)
{
  g_autoptr(CbChannel) a = NULL, b = NULL;
  g_autoptr(GBytes) f1 = NULL, f2 = NULL, fin = NULL;

  pair (&a, &b);
  f1 = seal_str (a, "one", FALSE);
  f2 = seal_str (a, "two", FALSE);
  fin = seal_str (a, "last", TRUE);
  open_ok (b, f1, "one", FALSE);
  open_ok (b, f2, "two", FALSE);
  /* the connection ends here: the final frame was dropped */
  g_assert_false (cb_channel_peer_closed_cleanly (b));
  open_ok (b, fin, "last", TRUE);
  g_assert_true (cb_channel_peer_closed_cleanly (b));

  /* an attacker cannot fake the close by marking a frame final */
  {
    g_autoptr(CbChannel) a2 = NULL, b2 = NULL;
    g_autoptr(GBytes) g1 = NULL, g2 = NULL;
    gsize len;
    g_autofree guint8 *forged = NULL;

    pair (&a2, &b2);
    g1 = seal_str (a2, "one", FALSE);
    g2 = seal_str (a2, "two", FALSE);
    open_ok (b2, g1, "one", FALSE);
    len = g_bytes_get_size (g2);
    forged = g_memdup2 (g_bytes_get_data (g2, NULL), len);
    forged[0] ^= crypto_secretstream_xchacha20poly1305_TAG_FINAL;  /* the encrypted tag byte */
    open_fails (b2, forged, len, CB_CHANNEL_ERROR_DECRYPT);
  }
}

/* Every single bit of a short frame, one at a time: the first frame (with
 * the header) and a later one. */
static void
test_bit_flips (void)
{
  g_autoptr(CbChannel) a = NULL, b = NULL;
  g_autoptr(GBytes) first = NULL, second = NULL;

  pair (&a, &b);
  first = seal_str (a, "hi", FALSE);
  second = seal_str (a, "there", FALSE);
  g_assert_cmpuint (g_bytes_get_size (first), ==, 2 + CB_CHANNEL_HEADER_BYTES + CB_CHANNEL_TAG_BYTES);

  for (guint which = 0; which < 2; which++)
    {
      GBytes *frame = which == 0 ? first : second;
      gsize len;
      const guint8 *data = g_bytes_get_data (frame, &len);

      for (gsize bit = 0; bit < len * 8; bit++)
        {
          g_autoptr(CbChannel) rx = cb_channel_new (key_ba, key_ab);
          g_autofree guint8 *bad = g_memdup2 (data, len);

          if (which == 1)
            open_ok (rx, first, "hi", FALSE);
          bad[bit / 8] ^= (guint8) (1u << (bit % 8));
          open_fails (rx, bad, len, CB_CHANNEL_ERROR_DECRYPT);
        }
    }
}

static void
test_after_final (void)
{
  g_autoptr(CbChannel) a = NULL, b = NULL;
  g_autoptr(GBytes) f1 = NULL, fin = NULL, more = NULL;
  g_autoptr(GError) error = NULL;

  pair (&a, &b);
  f1 = seal_str (a, "one", FALSE);
  fin = seal_str (a, "end", TRUE);

  /* the sender cannot go on after its final frame */
  more = cb_channel_seal (a, (const guint8 *) "more", 4, FALSE, &error);
  g_assert_null (more);
  g_assert_error (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_CLOSED);
  g_assert_nonnull (strstr (error->message, "final frame"));
  g_clear_error (&error);
  more = cb_channel_seal (a, (const guint8 *) "more", 4, FALSE, &error);
  g_assert_error (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_STATE);
  g_clear_error (&error);

  /* the receiver refuses anything after it: here, a frame from a sender
   * that ignored the rule (same keys, one frame further) */
  open_ok (b, f1, "one", FALSE);
  open_ok (b, fin, "end", TRUE);
  {
    g_autoptr(CbChannel) rogue = cb_channel_new (key_ab, key_ba);
    g_autoptr(GBytes) r3 = NULL;

    g_bytes_unref (seal_str (rogue, "one", FALSE));
    g_bytes_unref (seal_str (rogue, "end", FALSE));
    r3 = seal_str (rogue, "extra", FALSE);
    open_bytes_fails (b, r3, CB_CHANNEL_ERROR_CLOSED);
  }
  /* a clean close is no longer claimed once the channel is poisoned */
  g_assert_false (cb_channel_peer_closed_cleanly (b));
}

static void
test_oversize (void)
{
  g_autoptr(CbChannel) a = NULL, b = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *big = g_malloc0 (CB_CHANNEL_MAX_SEALED + 1);
  g_autoptr(GBytes) max = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gboolean final;

  pair (&a, &b);
  /* exactly the cap works, and the sealed size is CB_CHANNEL_MAX_SEALED */
  max = cb_channel_seal (a, big, CB_CHANNEL_MAX_FRAME, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (max), ==, CB_CHANNEL_MAX_SEALED);
  g_assert_true (cb_channel_open (b, g_bytes_get_data (max, NULL), g_bytes_get_size (max), out, &final, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out->len, ==, CB_CHANNEL_MAX_FRAME);

  /* one byte more is refused by the sender ... */
  g_assert_null (cb_channel_seal (a, big, CB_CHANNEL_MAX_FRAME + 1, FALSE, &error));
  g_assert_error (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "smaller frames"));
  g_clear_error (&error);

  /* ... and by a receiver, before any decryption, first frame or later */
  {
    g_autoptr(CbChannel) rx = cb_channel_new (key_ba, key_ab);

    open_fails (rx, big, CB_CHANNEL_MAX_SEALED + 1, CB_CHANNEL_ERROR_TOO_LARGE);
  }
  {
    g_autoptr(CbChannel) tx = cb_channel_new (key_ab, key_ba);
    g_autoptr(CbChannel) rx = cb_channel_new (key_ba, key_ab);
    g_autoptr(GBytes) f1 = seal_str (tx, "one", FALSE);

    open_ok (rx, f1, "one", FALSE);
    open_fails (rx, big, CB_CHANNEL_MAX_FRAME + CB_CHANNEL_TAG_BYTES + 1, CB_CHANNEL_ERROR_TOO_LARGE);
  }
}

static void
test_short (void)
{
  guint8 zeros[CB_CHANNEL_HEADER_BYTES + CB_CHANNEL_TAG_BYTES] = { 0 };

  /* first frame: anything shorter than header + tag, including empty */
  for (gsize len = 0; len < CB_CHANNEL_HEADER_BYTES + CB_CHANNEL_TAG_BYTES; len++)
    {
      g_autoptr(CbChannel) rx = cb_channel_new (key_ba, key_ab);
      g_autoptr(GError) error = NULL;
      g_autoptr(GByteArray) out = g_byte_array_new ();

      g_assert_false (cb_channel_open (rx, len ? zeros : NULL, len, out, NULL, &error));
      g_assert_error (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_MALFORMED);
      g_assert_nonnull (strstr (error->message, "stream header and tag"));
    }
  /* exactly header + tag of zeros: well-formed, but not authentic */
  {
    g_autoptr(CbChannel) rx = cb_channel_new (key_ba, key_ab);

    open_fails (rx, zeros, sizeof zeros, CB_CHANNEL_ERROR_DECRYPT);
  }
  /* later frames: shorter than the tag */
  for (gsize len = 0; len < CB_CHANNEL_TAG_BYTES; len++)
    {
      g_autoptr(CbChannel) tx = cb_channel_new (key_ab, key_ba);
      g_autoptr(CbChannel) rx = cb_channel_new (key_ba, key_ab);
      g_autoptr(GBytes) f1 = seal_str (tx, "one", FALSE);
      g_autoptr(GBytes) f2 = seal_str (tx, "", FALSE);

      open_ok (rx, f1, "one", FALSE);
      open_fails (rx, g_bytes_get_data (f2, NULL), len, CB_CHANNEL_ERROR_MALFORMED);
    }
}

static void
test_poisoned (void)
{
  g_autoptr(CbChannel) a = NULL, b = NULL;
  g_autoptr(GBytes) f1 = NULL, f2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 junk[64] = { 0 };

  pair (&a, &b);
  f1 = seal_str (a, "one", FALSE);
  f2 = seal_str (a, "two", FALSE);
  open_ok (b, f1, "one", FALSE);
  open_fails (b, junk, sizeof junk, CB_CHANNEL_ERROR_DECRYPT);
  /* the genuine next frame is refused too, and sending is over as well */
  g_assert_false (cb_channel_open (b, g_bytes_get_data (f2, NULL), g_bytes_get_size (f2), out, NULL, &error));
  g_assert_error (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_STATE);
  g_clear_error (&error);
  g_assert_null (cb_channel_seal (b, (const guint8 *) "x", 1, FALSE, &error));
  g_assert_error (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_STATE);
  g_clear_error (&error);

  /* a sender error poisons as well */
  {
    g_autofree guint8 *big = g_malloc0 (CB_CHANNEL_MAX_FRAME + 1);

    g_assert_null (cb_channel_seal (a, big, CB_CHANNEL_MAX_FRAME + 1, FALSE, &error));
    g_assert_error (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_TOO_LARGE);
    g_clear_error (&error);
    g_assert_null (cb_channel_seal (a, (const guint8 *) "x", 1, FALSE, &error));
    g_assert_error (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_STATE);
  }
}

static void
test_foreign (void)
{
  guint8 other[CB_CHANNEL_KEY_BYTES];
  g_autoptr(CbChannel) a = NULL, b = NULL;
  g_autoptr(GBytes) f1 = NULL;

  pair (&a, &b);
  f1 = seal_str (a, "one", FALSE);
  /* reflected to its own sender: the directions have different keys */
  open_bytes_fails (a, f1, CB_CHANNEL_ERROR_DECRYPT);
  /* from another session */
  memset (other, 0x77, sizeof other);
  {
    g_autoptr(CbChannel) stranger = cb_channel_new (key_ba, other);

    open_bytes_fails (stranger, f1, CB_CHANNEL_ERROR_DECRYPT);
  }
}

static void
test_deterministic (void)
{
  g_autoptr(CbChannel) a1 = cb_channel_new (key_ab, key_ba);
  g_autoptr(CbChannel) a2 = cb_channel_new (key_ab, key_ba);
  g_autoptr(CbChannel) b1 = cb_channel_new (key_ba, key_ab);

  for (guint n = 0; n < 3; n++)
    {
      g_autoptr(GBytes) f1 = seal_str (a1, "same", n == 2);
      g_autoptr(GBytes) f2 = seal_str (a2, "same", n == 2);
      g_autoptr(GBytes) g1 = seal_str (b1, "same", FALSE);

      g_assert_true (g_bytes_equal (f1, f2));
      g_assert_false (g_bytes_equal (f1, g1));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  memset (key_ab, 0xab, sizeof key_ab);
  memset (key_ba, 0xba, sizeof key_ba);

  g_test_add_func ("/node/channel/roundtrip", test_roundtrip_handshake);
  g_test_add_func ("/node/channel/replay", test_replay);
  g_test_add_func ("/node/channel/reorder", test_reorder);
  g_test_add_func ("/node/channel/truncation", test_truncation);
  g_test_add_func ("/node/channel/bit-flips", test_bit_flips);
  g_test_add_func ("/node/channel/after-final", test_after_final);
  g_test_add_func ("/node/channel/oversize", test_oversize);
  g_test_add_func ("/node/channel/short", test_short);
  g_test_add_func ("/node/channel/poisoned", test_poisoned);
  g_test_add_func ("/node/channel/foreign", test_foreign);
  g_test_add_func ("/node/channel/deterministic", test_deterministic);

  return g_test_run ();
}
