/* test-handshake.c: the node handshake, driven message by message */
#define G_LOG_DOMAIN "cb-test-handshake"

#include "cb-handshake.h"

#include <sodium.h>
#include <string.h>

typedef struct {
  guint8 pk[CB_NODE_ID_BYTES];
  guint8 sk[CB_IDENTITY_SECRET_BYTES];
} Id;

typedef struct {
  CbHandshake *i;
  CbHandshake *r;
  GBytes *m1;
  GBytes *m2;
  GBytes *m3;
} Session;

static void
fill (guint8 *buf, gsize len, guint8 value)
{
  memset (buf, value, len);
}

static void
make_id (Id *id, guint8 seed_byte)
{
  guint8 seed[crypto_sign_SEEDBYTES];

  fill (seed, sizeof seed, seed_byte);
  crypto_sign_seed_keypair (id->pk, id->sk, seed);
}

static guint8 net_a[CB_NETWORK_KEY_BYTES];
static guint8 net_b[CB_NETWORK_KEY_BYTES];
static Id id_a, id_b, id_c;

static CbHandshake *
new_hs (gboolean initiator, const guint8 *net, const Id *id,
        const guint8 *expected, guint8 seed_byte)
{
  guint8 seed[CB_HANDSHAKE_SEED_BYTES];

  fill (seed, sizeof seed, seed_byte);
  return cb_handshake_new (initiator, net, id->sk, expected, seed);
}

static void
session_clear (Session *s)
{
  g_clear_pointer (&s->i, cb_handshake_free);
  g_clear_pointer (&s->r, cb_handshake_free);
  g_clear_pointer (&s->m1, g_bytes_unref);
  g_clear_pointer (&s->m2, g_bytes_unref);
  g_clear_pointer (&s->m3, g_bytes_unref);
}

/* A completes a handshake to B (network A, given ephemeral seeds). */
static void
session_run (Session *s, const Id *ini, const Id *resp, guint8 seed_i, guint8 seed_r)
{
  g_autoptr(GError) error = NULL;
  GBytes *none = NULL;
  gsize len;
  const guint8 *data;

  memset (s, 0, sizeof *s);
  s->i = new_hs (TRUE, net_a, ini, NULL, seed_i);
  s->r = new_hs (FALSE, net_a, resp, NULL, seed_r);

  s->m1 = cb_handshake_start (s->i, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (s->m1, &len);
  g_assert_true (cb_handshake_receive (s->r, data, len, &s->m2, &error));
  g_assert_no_error (error);
  g_assert_nonnull (s->m2);
  g_assert_false (cb_handshake_is_done (s->r));

  data = g_bytes_get_data (s->m2, &len);
  g_assert_true (cb_handshake_receive (s->i, data, len, &s->m3, &error));
  g_assert_no_error (error);
  g_assert_nonnull (s->m3);
  g_assert_true (cb_handshake_is_done (s->i));

  data = g_bytes_get_data (s->m3, &len);
  g_assert_true (cb_handshake_receive (s->r, data, len, &none, &error));
  g_assert_no_error (error);
  g_assert_null (none);
  g_assert_true (cb_handshake_is_done (s->r));
}

static void
assert_fails (CbHandshake *hs, GBytes *msg, gint code)
{
  g_autoptr(GError) error = NULL;
  GBytes *reply = (GBytes *) 0x1;  /* must be reset to NULL */
  gsize len;
  const guint8 *data = g_bytes_get_data (msg, &len);

  g_assert_false (cb_handshake_receive (hs, data, len, &reply, &error));
  g_assert_error (error, CB_HANDSHAKE_ERROR, code);
  g_assert_null (reply);
  g_assert_false (cb_handshake_is_done (hs));
  g_assert_null (cb_handshake_get_peer_id (hs));
}

static void
assert_poisoned (CbHandshake *hs, GBytes *valid_msg)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) m = NULL;

  assert_fails (hs, valid_msg, CB_HANDSHAKE_ERROR_STATE);
  m = cb_handshake_start (hs, &error);
  g_assert_null (m);
  g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_STATE);
  g_assert_nonnull (strstr (error->message, "already failed"));
}

static GBytes *
flip_bit (GBytes *msg, gsize bit)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (msg, &len);
  guint8 *copy = g_memdup2 (data, len);

  copy[bit / 8] ^= (guint8) (1u << (bit % 8));
  return g_bytes_new_take (copy, len);
}

static gsize
size_of (GBytes *b)
{
  return g_bytes_get_size (b);
}

static gboolean
contains (GBytes *haystack, const guint8 *needle, gsize len)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (haystack, &size);

  for (gsize at = 0; at + len <= size; at++)
    if (memcmp (data + at, needle, len) == 0)
      return TRUE;
  return FALSE;
}

static void
exchange_over_channels (CbHandshake *hs_i, CbHandshake *hs_r)
{
  g_autoptr(CbChannel) ci = cb_handshake_into_channel (hs_i);
  g_autoptr(CbChannel) cr = cb_handshake_into_channel (hs_r);
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) got = g_byte_array_new ();
  const char *hello = "hello responder";
  const char *back = "hello initiator";
  gboolean final = TRUE;
  GBytes *frame;

  g_assert_nonnull (ci);
  g_assert_nonnull (cr);

  frame = cb_channel_seal (ci, (const guint8 *) hello, strlen (hello), FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (cb_channel_open (cr, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                  got, &final, &error));
  g_assert_no_error (error);
  g_assert_false (final);
  g_assert_cmpmem (got->data, got->len, hello, strlen (hello));
  g_bytes_unref (frame);

  g_byte_array_set_size (got, 0);
  frame = cb_channel_seal (cr, (const guint8 *) back, strlen (back), TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (cb_channel_open (ci, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                  got, &final, &error));
  g_assert_no_error (error);
  g_assert_true (final);
  g_assert_cmpmem (got->data, got->len, back, strlen (back));
  g_assert_true (cb_channel_peer_closed_cleanly (ci));
  g_assert_false (cb_channel_peer_closed_cleanly (cr));
  g_bytes_unref (frame);
}

static void
test_full (void)
{
  /* both ways: A initiates to B, then B initiates to A */
  for (guint round = 0; round < 2; round++)
    {
      const Id *ini = round == 0 ? &id_a : &id_b;
      const Id *resp = round == 0 ? &id_b : &id_a;
      Session s;
      gsize total;

      session_run (&s, ini, resp, 11, 12);
      g_assert_cmpmem (cb_handshake_get_peer_id (s.i), CB_NODE_ID_BYTES, resp->pk, CB_NODE_ID_BYTES);
      g_assert_cmpmem (cb_handshake_get_peer_id (s.r), CB_NODE_ID_BYTES, ini->pk, CB_NODE_ID_BYTES);
      g_assert_cmpuint (size_of (s.m1), ==, CB_HANDSHAKE_M1_BYTES);
      g_assert_cmpuint (size_of (s.m2), ==, CB_HANDSHAKE_M2_BYTES);
      g_assert_cmpuint (size_of (s.m3), ==, CB_HANDSHAKE_M3_BYTES);
      g_assert_cmpuint (CB_HANDSHAKE_MAX_MESSAGE_BYTES, >=, size_of (s.m2));
      total = size_of (s.m1) + size_of (s.m2) + size_of (s.m3);
      g_test_message ("handshake bytes: %" G_GSIZE_FORMAT, total);
      g_assert_cmpuint (total, <=, 320);
      /* version 1, message numbers 1..3 */
      g_assert_cmphex (((const guint8 *) g_bytes_get_data (s.m1, NULL))[0], ==, 0x11);
      g_assert_cmphex (((const guint8 *) g_bytes_get_data (s.m2, NULL))[0], ==, 0x12);
      g_assert_cmphex (((const guint8 *) g_bytes_get_data (s.m3, NULL))[0], ==, 0x13);
      /* identities are never sent in the clear */
      g_assert_false (contains (s.m2, resp->pk, 8));
      g_assert_false (contains (s.m3, ini->pk, 8));

      exchange_over_channels (s.i, s.r);
      /* spent, but the verified peer stays readable */
      g_assert_true (cb_handshake_is_done (s.i));
      g_assert_cmpmem (cb_handshake_get_peer_id (s.i), CB_NODE_ID_BYTES, resp->pk, CB_NODE_ID_BYTES);
      session_clear (&s);
    }
}

static void
test_expected_peer_ok (void)
{
  g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, id_b.pk, 1);
  g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, id_a.pk, 2);
  g_autoptr(GBytes) m1 = NULL, m2 = NULL, m3 = NULL, none = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_null (cb_handshake_get_peer_id (i));
  m1 = cb_handshake_start (i, &error);
  g_assert_no_error (error);
  g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &m2, &error));
  g_assert_null (cb_handshake_get_peer_id (r));
  g_assert_true (cb_handshake_receive (i, g_bytes_get_data (m2, NULL), size_of (m2), &m3, &error));
  g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m3, NULL), size_of (m3), &none, &error));
  g_assert_no_error (error);
  g_assert_true (cb_handshake_is_done (i));
  g_assert_true (cb_handshake_is_done (r));
}

static void
test_wrong_network_responder (void)
{
  g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
  g_autoptr(CbHandshake) r = new_hs (FALSE, net_b, &id_b, NULL, 2);
  g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
  g_autoptr(GError) error = NULL;
  GBytes *reply = NULL;

  g_assert_false (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &reply, &error));
  g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_WRONG_NETWORK);
  g_assert_nonnull (strstr (error->message, "message 1"));
  g_assert_nonnull (strstr (error->message, "cloud.json"));
  g_assert_null (reply);  /* the stranger learns nothing */
  assert_poisoned (r, m1);
}

static void
test_wrong_network_initiator (void)
{
  /* Responders refuse a stranger's M1, so a foreign M2 only reaches an
   * initiator when a node of cloud B answers a cloud-B M1 that carried our
   * ephemeral key (misrouted or replayed).  Same seed, so same e_i. */
  g_autoptr(CbHandshake) i_a = new_hs (TRUE, net_a, &id_a, NULL, 1);
  g_autoptr(CbHandshake) i_b = new_hs (TRUE, net_b, &id_a, NULL, 1);
  g_autoptr(CbHandshake) r_b = new_hs (FALSE, net_b, &id_b, NULL, 2);
  g_autoptr(GBytes) m1_a = cb_handshake_start (i_a, NULL);
  g_autoptr(GBytes) m1_b = cb_handshake_start (i_b, NULL);
  g_autoptr(GBytes) m2 = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpmem (g_bytes_get_data (m1_a, NULL), 33, g_bytes_get_data (m1_b, NULL), 33);
  g_assert_true (memcmp (g_bytes_get_data (m1_a, NULL), g_bytes_get_data (m1_b, NULL),
                         CB_HANDSHAKE_M1_BYTES) != 0);
  g_assert_true (cb_handshake_receive (r_b, g_bytes_get_data (m1_b, NULL), size_of (m1_b), &m2, &error));
  g_assert_no_error (error);

  assert_fails (i_a, m2, CB_HANDSHAKE_ERROR_WRONG_NETWORK);
  assert_poisoned (i_a, m2);
}

static void
test_unexpected_peer_initiator (void)
{
  g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, id_c.pk, 1);
  g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
  g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
  g_autoptr(GBytes) m2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hex_b = g_malloc (65);
  g_autofree char *hex_c = g_malloc (65);
  GBytes *reply = NULL;

  sodium_bin2hex (hex_b, 65, id_b.pk, 32);
  sodium_bin2hex (hex_c, 65, id_c.pk, 32);
  g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &m2, NULL));
  g_assert_false (cb_handshake_receive (i, g_bytes_get_data (m2, NULL), size_of (m2), &reply, &error));
  g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_UNEXPECTED_PEER);
  g_assert_null (reply);  /* our identity is not revealed to the wrong node */
  g_assert_nonnull (strstr (error->message, hex_b));
  g_assert_nonnull (strstr (error->message, hex_c));
  g_assert_nonnull (strstr (error->message, "refresh the node list"));
  assert_poisoned (i, m2);
}

static void
test_unexpected_peer_responder (void)
{
  g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
  g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, id_c.pk, 2);
  g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
  g_autoptr(GBytes) m2 = NULL, m3 = NULL;

  g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &m2, NULL));
  g_assert_true (cb_handshake_receive (i, g_bytes_get_data (m2, NULL), size_of (m2), &m3, NULL));
  assert_fails (r, m3, CB_HANDSHAKE_ERROR_UNEXPECTED_PEER);
  assert_poisoned (r, m3);
}

static void
test_tamper_m1 (void)
{
  Session s;

  session_run (&s, &id_a, &id_b, 1, 2);
  for (gsize bit = 0; bit < size_of (s.m1) * 8; bit++)
    {
      g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
      g_autoptr(GBytes) bad = flip_bit (s.m1, bit);

      assert_fails (r, bad, bit < 8 ? CB_HANDSHAKE_ERROR_MALFORMED
                                    : CB_HANDSHAKE_ERROR_WRONG_NETWORK);
      assert_fails (r, s.m1, CB_HANDSHAKE_ERROR_STATE);
    }
  session_clear (&s);
}

static void
test_tamper_m2 (void)
{
  Session s;

  session_run (&s, &id_a, &id_b, 1, 2);
  for (gsize bit = 0; bit < size_of (s.m2) * 8; bit++)
    {
      g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
      g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
      g_autoptr(GBytes) bad = flip_bit (s.m2, bit);

      g_assert_true (g_bytes_equal (m1, s.m1));

      assert_fails (i, bad, bit < 8 ? CB_HANDSHAKE_ERROR_MALFORMED
                                    : CB_HANDSHAKE_ERROR_WRONG_NETWORK);
      assert_fails (i, s.m2, CB_HANDSHAKE_ERROR_STATE);
    }
  session_clear (&s);
}

static void
test_tamper_m3 (void)
{
  Session s;

  session_run (&s, &id_a, &id_b, 1, 2);
  for (gsize bit = 0; bit < size_of (s.m3) * 8; bit++)
    {
      g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
      g_autoptr(GBytes) m2 = NULL;
      g_autoptr(GBytes) bad = flip_bit (s.m3, bit);

      g_assert_true (cb_handshake_receive (r, g_bytes_get_data (s.m1, NULL), size_of (s.m1), &m2, NULL));
      g_assert_true (g_bytes_equal (m2, s.m2));
      assert_fails (r, bad, bit < 8 ? CB_HANDSHAKE_ERROR_MALFORMED
                                    : CB_HANDSHAKE_ERROR_BAD_SIGNATURE);
      assert_fails (r, s.m3, CB_HANDSHAKE_ERROR_STATE);
    }
  session_clear (&s);
}

/* Every shorter length, and one byte more, of each message. */
static void
test_truncated_extended (void)
{
  Session s;

  session_run (&s, &id_a, &id_b, 1, 2);
  for (guint which = 1; which <= 3; which++)
    {
      GBytes *msg = which == 1 ? s.m1 : which == 2 ? s.m2 : s.m3;
      gsize full = size_of (msg);

      for (gsize len = 0; len <= full + 1; len++)
        {
          g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
          g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
          g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
          g_autoptr(GBytes) m2 = NULL;
          g_autoptr(GBytes) cut = NULL;
          g_autofree guint8 *buf = g_malloc0 (full + 1);
          g_autoptr(GError) error = NULL;
          CbHandshake *target = which == 2 ? i : r;
          GBytes *reply = NULL;

          if (len == full)
            continue;
          memcpy (buf, g_bytes_get_data (msg, NULL), full);
          cut = g_bytes_new (buf, len);
          if (which == 3)
            g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &m2, NULL));
          g_assert_false (cb_handshake_receive (target, len ? buf : NULL, len, &reply, &error));
          g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_MALFORMED);
          g_assert_null (reply);
          if (len == 0)
            g_assert_nonnull (strstr (error->message, "empty"));
          else
            g_assert_nonnull (strstr (error->message, "truncated or padded"));
        }
    }
  session_clear (&s);
}

static void
test_replay_m1 (void)
{
  Session s;
  g_autoptr(CbHandshake) r2 = new_hs (FALSE, net_a, &id_b, NULL, 3);
  g_autoptr(CbHandshake) other_i = new_hs (TRUE, net_a, &id_c, NULL, 4);
  g_autoptr(GBytes) other_m1 = NULL, m2_new = NULL;
  g_autoptr(GError) error = NULL;

  session_run (&s, &id_a, &id_b, 1, 2);
  /* the responder answers a replayed M1 (it cannot tell), with a fresh key */
  g_assert_true (cb_handshake_receive (r2, g_bytes_get_data (s.m1, NULL), size_of (s.m1), &m2_new, &error));
  g_assert_no_error (error);
  g_assert_false (g_bytes_equal (m2_new, s.m2));
  g_assert_false (cb_handshake_is_done (r2));

  /* the replayer cannot use the answer: without e_i's secret it cannot open
   * M2, and any initiator other than the original fails on it */
  other_m1 = cb_handshake_start (other_i, NULL);
  assert_fails (other_i, m2_new, CB_HANDSHAKE_ERROR_WRONG_NETWORK);

  /* nor finish with the old session's M3 */
  assert_fails (r2, s.m3, CB_HANDSHAKE_ERROR_BAD_SIGNATURE);
  session_clear (&s);
}

static void
test_replay_m3 (void)
{
  Session s1, s2;
  g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 6);
  g_autoptr(GBytes) m2 = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *reply = NULL;

  session_run (&s1, &id_a, &id_b, 1, 2);
  session_run (&s2, &id_a, &id_b, 5, 6);
  g_assert_false (g_bytes_equal (s1.m3, s2.m3));
  /* a responder in session 2's state fed session 1's M3 */
  g_assert_true (cb_handshake_receive (r, g_bytes_get_data (s2.m1, NULL), size_of (s2.m1), &m2, NULL));
  g_assert_false (cb_handshake_receive (r, g_bytes_get_data (s1.m3, NULL), size_of (s1.m3), &reply, &error));
  g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_BAD_SIGNATURE);
  g_assert_nonnull (strstr (error->message, "replayed"));
  session_clear (&s1);
  session_clear (&s2);
}

static void
test_reflection (void)
{
  g_autoptr(GError) error = NULL;

  /* A's own M1 fed back to A */
  {
    g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
    g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
    GBytes *reply = NULL;

    g_assert_false (cb_handshake_receive (i, g_bytes_get_data (m1, NULL), size_of (m1), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_MALFORMED);
    g_assert_nonnull (strstr (error->message, "reflected"));
    g_clear_error (&error);
  }
  /* ... relabelled as M2 and padded to M2's size: our own ephemeral key */
  {
    g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
    g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
    guint8 fake[CB_HANDSHAKE_M2_BYTES] = { 0 };
    g_autoptr(GBytes) fake_b = NULL;

    memcpy (fake, g_bytes_get_data (m1, NULL), size_of (m1));
    fake[0] = 0x12;
    fake_b = g_bytes_new (fake, sizeof fake);
    assert_fails (i, fake_b, CB_HANDSHAKE_ERROR_UNEXPECTED_PEER);
  }
  /* B's own M2 fed back to B as M3 */
  {
    g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
    g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
    g_autoptr(GBytes) m2 = NULL;
    GBytes *reply = NULL;

    g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &m2, NULL));
    g_assert_false (cb_handshake_receive (r, g_bytes_get_data (m2, NULL), size_of (m2), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_MALFORMED);
    g_assert_nonnull (strstr (error->message, "reflected"));
    g_clear_error (&error);
  }
  /* A connected to itself (both sides hold A's identity): every message is
   * valid, so only the identity check catches it */
  {
    g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_a, NULL, 2);
    g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
    g_autoptr(GBytes) m2 = NULL;
    GBytes *reply = NULL;

    g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &m2, NULL));
    g_assert_false (cb_handshake_receive (i, g_bytes_get_data (m2, NULL), size_of (m2), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_UNEXPECTED_PEER);
    g_assert_nonnull (strstr (error->message, "this node itself"));
    g_assert_null (reply);
    g_clear_error (&error);
  }
  /* the responder's side of the same check is in test_spec, which can
   * craft an M3 that carries the responder's own identity */
}

static void
test_determinism (void)
{
  Session s1, s2, s3;

  session_run (&s1, &id_a, &id_b, 7, 8);
  session_run (&s2, &id_a, &id_b, 7, 8);
  session_run (&s3, &id_a, &id_b, 9, 8);
  g_assert_true (g_bytes_equal (s1.m1, s2.m1));
  g_assert_true (g_bytes_equal (s1.m2, s2.m2));
  g_assert_true (g_bytes_equal (s1.m3, s2.m3));
  g_assert_false (g_bytes_equal (s1.m1, s3.m1));
  g_assert_false (g_bytes_equal (s1.m2, s3.m2));
  g_assert_false (g_bytes_equal (s1.m3, s3.m3));

  {
    g_autoptr(CbChannel) c1 = cb_handshake_into_channel (s1.i);
    g_autoptr(CbChannel) c2 = cb_handshake_into_channel (s2.i);
    g_autoptr(CbChannel) c3 = cb_handshake_into_channel (s3.i);
    g_autoptr(GBytes) f1 = cb_channel_seal (c1, (const guint8 *) "x", 1, FALSE, NULL);
    g_autoptr(GBytes) f2 = cb_channel_seal (c2, (const guint8 *) "x", 1, FALSE, NULL);
    g_autoptr(GBytes) f3 = cb_channel_seal (c3, (const guint8 *) "x", 1, FALSE, NULL);

    g_assert_true (g_bytes_equal (f1, f2));
    g_assert_false (g_bytes_equal (f1, f3));
  }
  session_clear (&s1);
  session_clear (&s2);
  session_clear (&s3);
}

static void
test_bad_signature (void)
{
  /* a secret key whose public half is another node's: the AEAD opens (the
   * sender has the network key and the DH), the signature does not verify */
  Id broken;
  char hex_c[65];

  memcpy (broken.sk, id_a.sk, 32);
  memcpy (broken.sk + 32, id_c.pk, 32);
  memcpy (broken.pk, id_c.pk, 32);
  sodium_bin2hex (hex_c, sizeof hex_c, id_c.pk, 32);

  /* broken initiator: the responder refuses M3 */
  {
    g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &broken, NULL, 1);
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
    g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
    g_autoptr(GBytes) m2 = NULL, m3 = NULL;
    g_autoptr(GError) error = NULL;
    GBytes *reply = NULL;

    g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &m2, NULL));
    g_assert_true (cb_handshake_receive (i, g_bytes_get_data (m2, NULL), size_of (m2), &m3, NULL));
    g_assert_false (cb_handshake_receive (r, g_bytes_get_data (m3, NULL), size_of (m3), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_BAD_SIGNATURE);
    g_assert_nonnull (strstr (error->message, hex_c));
  }
  /* broken responder: the initiator refuses M2, naming the claimed node */
  {
    g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &broken, NULL, 2);
    g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
    g_autoptr(GBytes) m2 = NULL;
    g_autoptr(GError) error = NULL;
    GBytes *reply = NULL;

    g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &m2, NULL));
    g_assert_false (cb_handshake_receive (i, g_bytes_get_data (m2, NULL), size_of (m2), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_BAD_SIGNATURE);
    g_assert_nonnull (strstr (error->message, hex_c));
    g_assert_nonnull (strstr (error->message, "identity key"));
  }
}

/* The wire format in cb-handshake.c, recomputed here to craft messages
 * that pass the network MAC but carry a bad key or version. */
static GBytes *
craft_m1 (guint8 type, const guint8 e[32], const guint8 *net)
{
  guint8 m[CB_HANDSHAKE_M1_BYTES];
  crypto_generichash_state st;

  m[0] = type;
  memcpy (m + 1, e, 32);
  crypto_generichash_init (&st, net, 32, 16);
  crypto_generichash_update (&st, (const guint8 *) "cb-hs1 m1", 9);
  crypto_generichash_update (&st, m, 33);
  crypto_generichash_final (&st, m + 33, 16);
  return g_bytes_new (m, sizeof m);
}

static void
test_wire_format (void)
{
  guint8 zero[32] = { 0 };
  g_autoptr(GError) error = NULL;

  /* the documented MAC matches what the initiator sends */
  {
    g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
    g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
    g_autoptr(GBytes) again = craft_m1 (0x11, (const guint8 *) g_bytes_get_data (m1, NULL) + 1, net_a);

    g_assert_true (g_bytes_equal (m1, again));
  }
  /* low-order ephemeral key with a valid MAC */
  {
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
    g_autoptr(GBytes) m1 = craft_m1 (0x11, zero, net_a);
    GBytes *reply = NULL;

    g_assert_false (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_MALFORMED);
    g_assert_nonnull (strstr (error->message, "low-order"));
    g_assert_null (reply);
    g_clear_error (&error);
  }
  /* low-order key in M2 */
  {
    g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
    g_autoptr(GBytes) m1 = cb_handshake_start (i, NULL);
    guint8 m2[CB_HANDSHAKE_M2_BYTES] = { 0x12 };
    g_autoptr(GBytes) m2_b = g_bytes_new (m2, sizeof m2);

    g_assert_nonnull (m1);

    assert_fails (i, m2_b, CB_HANDSHAKE_ERROR_MALFORMED);
  }
  /* a future version is recognised as such */
  {
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
    g_autoptr(GBytes) m1 = craft_m1 (0x21, zero, net_a);
    GBytes *reply = NULL;

    g_assert_false (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), size_of (m1), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_MALFORMED);
    g_assert_nonnull (strstr (error->message, "version 2"));
    g_assert_nonnull (strstr (error->message, "updated"));
    g_clear_error (&error);
  }
  /* a responder that receives M3 first */
  {
    Session s;
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
    GBytes *reply = NULL;

    session_run (&s, &id_a, &id_b, 1, 2);
    g_assert_false (cb_handshake_receive (r, g_bytes_get_data (s.m3, NULL), size_of (s.m3), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_MALFORMED);
    g_assert_nonnull (strstr (error->message, "expected handshake message 1 but received message 3"));
    g_clear_error (&error);
    session_clear (&s);
  }
}

static void
hash_cat (guint8 out[32], const guint8 *key, gsize key_len,
          const void *a, gsize a_len, const void *b, gsize b_len,
          const void *c, gsize c_len)
{
  crypto_generichash_state st;

  crypto_generichash_init (&st, key, key_len, 32);
  crypto_generichash_update (&st, a, a_len);
  if (b != NULL)
    crypto_generichash_update (&st, b, b_len);
  if (c != NULL)
    crypto_generichash_update (&st, c, c_len);
  crypto_generichash_final (&st, out, 32);
}

static GBytes *
spec_seal (guint8 type, const guint8 *e /* NULL for M3 */, const guint8 key[32],
           const guint8 h[32], const Id *id, const char *label)
{
  guint8 payload[96], msg[64], out[1 + 32 + 96 + 16];
  gsize label_len = strlen (label), n = 0;

  memcpy (payload, id->pk, 32);
  memcpy (msg, label, label_len);
  memcpy (msg + label_len, h, 32);
  crypto_sign_detached (payload + 32, NULL, msg, label_len + 32, id->sk);
  out[n++] = type;
  if (e != NULL)
    {
      memcpy (out + n, e, 32);
      n += 32;
    }
  crypto_aead_chacha20poly1305_ietf_encrypt (out + n, NULL, payload, sizeof payload, h, 32,
                                             NULL, (const guint8[12]) { 0 }, key);
  return g_bytes_new (out, n + sizeof payload + 16);
}

/* Recomputes a session from the format documented in cb-handshake.c and
 * compares it byte for byte; then uses that knowledge to craft the M3 a
 * looped connection would carry. */
static void
test_spec (void)
{
  Session s;
  guint8 seed_i[32], seed_r[32], ei_pk[32], ei_sk[32], er_pk[32], er_sk[32];
  guint8 h0[32], h1[32], h2[32], h3[32], h4[32], dh[32], ck[32], k2[32], k3[32];
  guint8 payload_r[96], payload_i[96], master[32], i2r[32], header[24];
  guint8 m2_head[33];
  g_autoptr(GBytes) m1 = NULL, m2 = NULL, m3 = NULL;

  session_run (&s, &id_a, &id_b, 1, 2);
  fill (seed_i, 32, 1);
  fill (seed_r, 32, 2);
  crypto_kx_seed_keypair (ei_pk, ei_sk, seed_i);
  crypto_kx_seed_keypair (er_pk, er_sk, seed_r);

  hash_cat (h0, NULL, 0, "cloud-bevy handshake v1", 23, NULL, 0, NULL, 0);
  m1 = craft_m1 (0x11, ei_pk, net_a);
  g_assert_true (g_bytes_equal (m1, s.m1));
  hash_cat (h1, NULL, 0, h0, 32, g_bytes_get_data (m1, NULL), 49, NULL, 0);
  m2_head[0] = 0x12;
  memcpy (m2_head + 1, er_pk, 32);
  hash_cat (h2, NULL, 0, h1, 32, m2_head, 33, NULL, 0);
  g_assert_cmpint (crypto_scalarmult (dh, ei_sk, er_pk), ==, 0);
  hash_cat (ck, net_a, 32, "cb-hs1 ck", 9, dh, 32, h2, 32);
  crypto_kdf_derive_from_key (k2, 32, 1, "cbhs1key", ck);
  crypto_kdf_derive_from_key (k3, 32, 2, "cbhs1key", ck);
  m2 = spec_seal (0x12, er_pk, k2, h2, &id_b, "cloud-bevy hs1 responder");
  g_assert_true (g_bytes_equal (m2, s.m2));
  memcpy (payload_r, (const guint8 *) g_bytes_get_data (s.m2, NULL) + 33, 96);
  g_assert_cmpint (crypto_aead_chacha20poly1305_ietf_decrypt (payload_r, NULL, NULL,
                   (const guint8 *) g_bytes_get_data (s.m2, NULL) + 33, 112, h2, 32,
                   (const guint8[12]) { 0 }, k2), ==, 0);
  hash_cat (h3, NULL, 0, h2, 32, payload_r, 96, NULL, 0);
  m3 = spec_seal (0x13, NULL, k3, h3, &id_a, "cloud-bevy hs1 initiator");
  g_assert_true (g_bytes_equal (m3, s.m3));
  g_assert_cmpint (crypto_aead_chacha20poly1305_ietf_decrypt (payload_i, NULL, NULL,
                   (const guint8 *) g_bytes_get_data (s.m3, NULL) + 1, 112, h3, 32,
                   (const guint8[12]) { 0 }, k3), ==, 0);
  hash_cat (h4, NULL, 0, h3, 32, payload_i, 96, NULL, 0);
  hash_cat (master, ck, 32, "cb-hs1 session", 14, h4, 32, NULL, 0);
  crypto_kdf_derive_from_key (i2r, 32, 1, "cbchanl1", master);
  crypto_generichash (header, 24, (const guint8 *) "cloud-bevy channel header v1", 28, i2r, 32);
  {
    g_autoptr(CbChannel) ch = cb_handshake_into_channel (s.i);
    g_autoptr(GBytes) frame = cb_channel_seal (ch, NULL, 0, FALSE, NULL);

    g_assert_cmpmem (g_bytes_get_data (frame, NULL), 24, header, 24);
  }

  /* a looped connection seen by the responder: M3 carries B's own identity */
  {
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
    g_autoptr(GBytes) m2_again = NULL;
    g_autoptr(GBytes) self_m3 = spec_seal (0x13, NULL, k3, h3, &id_b, "cloud-bevy hs1 initiator");
    g_autoptr(GError) error = NULL;
    GBytes *reply = NULL;

    g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), 49, &m2_again, NULL));
    g_assert_false (cb_handshake_receive (r, g_bytes_get_data (self_m3, NULL), 113, &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_UNEXPECTED_PEER);
    g_assert_nonnull (strstr (error->message, "this node itself"));
  }
  /* the responder's own signature, sent back as if it were the initiator's:
   * the role labels differ, so it does not verify */
  {
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
    g_autoptr(GBytes) m2_again = NULL;
    g_autoptr(GBytes) wrong_role = spec_seal (0x13, NULL, k3, h3, &id_a, "cloud-bevy hs1 responder");

    g_assert_true (cb_handshake_receive (r, g_bytes_get_data (m1, NULL), 49, &m2_again, NULL));
    assert_fails (r, wrong_role, CB_HANDSHAKE_ERROR_BAD_SIGNATURE);
  }
  session_clear (&s);
}

static void
test_state (void)
{
  Session s;
  g_autoptr(GError) error = NULL;

  session_run (&s, &id_a, &id_b, 1, 2);

  /* responder asked to start */
  {
    g_autoptr(CbHandshake) r = new_hs (FALSE, net_a, &id_b, NULL, 2);
    g_autoptr(GBytes) m = cb_handshake_start (r, &error);

    g_assert_null (m);
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_STATE);
    g_assert_nonnull (strstr (error->message, "responder"));
    g_clear_error (&error);
    assert_poisoned (r, s.m1);  /* even a valid M1 is refused now */
  }
  /* initiator receiving before start, and starting twice */
  {
    g_autoptr(CbHandshake) i = new_hs (TRUE, net_a, &id_a, NULL, 1);
    g_autoptr(CbHandshake) i2 = new_hs (TRUE, net_a, &id_a, NULL, 1);
    g_autoptr(GBytes) m1 = cb_handshake_start (i2, NULL);
    g_autoptr(GBytes) again = NULL;

    g_assert_nonnull (m1);

    assert_fails (i, s.m2, CB_HANDSHAKE_ERROR_STATE);
    again = cb_handshake_start (i2, &error);
    g_assert_null (again);
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_STATE);
    g_assert_nonnull (strstr (error->message, "already started"));
    g_clear_error (&error);
    assert_fails (i2, s.m2, CB_HANDSHAKE_ERROR_STATE);
  }
  /* anything after done fails and kills the handshake */
  {
    GBytes *reply = NULL;

    g_assert_false (cb_handshake_receive (s.r, g_bytes_get_data (s.m3, NULL), size_of (s.m3), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_STATE);
    g_assert_nonnull (strstr (error->message, "already complete"));
    g_clear_error (&error);
    g_assert_false (cb_handshake_is_done (s.r));
    g_test_expect_message ("cb-handshake", G_LOG_LEVEL_CRITICAL, "*STATE_DONE*");
    g_assert_null (cb_handshake_into_channel (s.r));
    g_test_assert_expected_messages ();
  }
  /* a spent handshake */
  {
    g_autoptr(CbChannel) ch = cb_handshake_into_channel (s.i);
    GBytes *reply = NULL;

    g_assert_nonnull (ch);
    g_test_expect_message ("cb-handshake", G_LOG_LEVEL_CRITICAL, "*STATE_DONE*");
    g_assert_null (cb_handshake_into_channel (s.i));
    g_test_assert_expected_messages ();
    g_assert_false (cb_handshake_receive (s.i, g_bytes_get_data (s.m2, NULL), size_of (s.m2), &reply, &error));
    g_assert_error (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_STATE);
    g_assert_nonnull (strstr (error->message, "channel"));
    g_clear_error (&error);
  }
  session_clear (&s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  fill (net_a, sizeof net_a, 0xa1);
  fill (net_b, sizeof net_b, 0xb2);
  make_id (&id_a, 0x0a);
  make_id (&id_b, 0x0b);
  make_id (&id_c, 0x0c);

  g_test_add_func ("/node/handshake/full", test_full);
  g_test_add_func ("/node/handshake/expected-peer", test_expected_peer_ok);
  g_test_add_func ("/node/handshake/wrong-network/responder", test_wrong_network_responder);
  g_test_add_func ("/node/handshake/wrong-network/initiator", test_wrong_network_initiator);
  g_test_add_func ("/node/handshake/unexpected-peer/initiator", test_unexpected_peer_initiator);
  g_test_add_func ("/node/handshake/unexpected-peer/responder", test_unexpected_peer_responder);
  g_test_add_func ("/node/handshake/tamper/m1", test_tamper_m1);
  g_test_add_func ("/node/handshake/tamper/m2", test_tamper_m2);
  g_test_add_func ("/node/handshake/tamper/m3", test_tamper_m3);
  g_test_add_func ("/node/handshake/truncated-extended", test_truncated_extended);
  g_test_add_func ("/node/handshake/replay/m1", test_replay_m1);
  g_test_add_func ("/node/handshake/replay/m3", test_replay_m3);
  g_test_add_func ("/node/handshake/reflection", test_reflection);
  g_test_add_func ("/node/handshake/determinism", test_determinism);
  g_test_add_func ("/node/handshake/bad-signature", test_bad_signature);
  g_test_add_func ("/node/handshake/wire-format", test_wire_format);
  g_test_add_func ("/node/handshake/spec", test_spec);
  g_test_add_func ("/node/handshake/state", test_state);

  return g_test_run ();
}
