/* test-replication.c: the replication session core, driven by hand */
#define G_LOG_DOMAIN "cb-test-replication"

#include <string.h>

#include "cb-replication.h"

static const guint8 A[32] = { 0xaa };
static const guint8 B[32] = { 0xbb };
static const guint8 W1[32] = { 0x01 };
static const guint8 W2[32] = { 0x02 };

/* Pops every action into a readable list: "HAVE bb reply", "RUN bb 01 from 3". */
static GPtrArray *
drain (CbReplication *r)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  CbReplicationAction a;

  while (cb_replication_pop_action (r, &a))
    {
      if (a.type == CB_REPLICATION_SEND_HAVE)
        g_ptr_array_add (out, g_strdup_printf ("HAVE %02x %s%s", a.peer[0], a.system,
                                               a.reply ? " reply" : ""));
      else
        g_ptr_array_add (out, g_strdup_printf ("RUN %02x %s %02x from %" G_GUINT64_FORMAT,
                                               a.peer[0], a.system, a.writer[0], a.from_seq));
      cb_replication_action_clear (&a);
    }
  return out;
}

static void
assert_actions (CbReplication *r, const char * const *expected)
{
  g_autoptr(GPtrArray) got = drain (r);
  guint n = g_strv_length ((char **) expected);

  for (guint i = 0; i < got->len; i++)
    g_test_message ("action: %s", (char *) got->pdata[i]);
  g_assert_cmpuint (got->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < got->len; j++)
        found |= g_strcmp0 (got->pdata[j], expected[i]) == 0;
      if (!found)
        g_error ("expected action \"%s\"", expected[i]);
    }
}

static void
test_session_exchange (void)
{
  CbReplication *r = cb_replication_new (5000);
  CbVectorItem theirs[] = { { { 0x01 }, 3 }, { { 0x02 }, 9 } };

  cb_replication_local_advanced (r, "test/kv", W1, 10);
  cb_replication_local_advanced (r, "test/kv", W2, 2);
  /* Opening: our vector goes out; nothing is streamed before theirs. */
  cb_replication_peer_up (r, B, "test/kv", 0);
  assert_actions (r, (const char *[]) { "HAVE bb test/kv", NULL });
  cb_replication_local_advanced (r, "test/kv", W1, 11);
  assert_actions (r, (const char *[]) { NULL });

  /* Their reply: they lack W1 4..11 and have more of W2 (they push it). */
  cb_replication_receive_have (r, B, "test/kv", theirs, G_N_ELEMENTS (theirs), TRUE, 10);
  assert_actions (r, (const char *[]) { "RUN bb test/kv 01 from 4", NULL });
  g_assert_cmpint (cb_replication_lag (r, B, "test/kv"), ==, 8);

  /* One run at a time per writer; sent() continues while we are ahead. */
  cb_replication_local_advanced (r, "test/kv", W1, 12);
  assert_actions (r, (const char *[]) { NULL });
  cb_replication_sent (r, B, "test/kv", W1, 8);
  assert_actions (r, (const char *[]) { "RUN bb test/kv 01 from 9", NULL });
  cb_replication_sent (r, B, "test/kv", W1, 12);
  assert_actions (r, (const char *[]) { NULL });
  g_assert_cmpint (cb_replication_lag (r, B, "test/kv"), ==, 0);

  /* Live: a new entry goes straight out. */
  cb_replication_local_advanced (r, "test/kv", W1, 13);
  assert_actions (r, (const char *[]) { "RUN bb test/kv 01 from 13", NULL });
  /* Nothing could be read: no busy loop, the next HAVE repairs it. */
  cb_replication_sent (r, B, "test/kv", W1, 0);
  assert_actions (r, (const char *[]) { NULL });

  /* B has W2 up to 9 (its HAVE said so): our catching up to 9 sends
   * nothing, going past it streams the rest. */
  cb_replication_local_advanced (r, "test/kv", W2, 9);
  assert_actions (r, (const char *[]) { NULL });
  cb_replication_local_advanced (r, "test/kv", W2, 10);
  assert_actions (r, (const char *[]) { "RUN bb test/kv 02 from 10", NULL });
  cb_replication_free (r);
}

static void
test_received_not_echoed (void)
{
  CbReplication *r = cb_replication_new (5000);
  CbVectorItem empty[] = { { { 0 }, 0 } };

  cb_replication_peer_up (r, B, "s", 0);
  cb_replication_receive_have (r, B, "s", empty, 0, TRUE, 0);
  assert_actions (r, (const char *[]) { "HAVE bb s", NULL });
  /* B's entries arrive: recorded as B's before our store advances. */
  cb_replication_received (r, B, "s", W2, 4);
  cb_replication_local_advanced (r, "s", W2, 4);
  assert_actions (r, (const char *[]) { NULL });
  cb_replication_free (r);
}

static void
test_peer_opens (void)
{
  CbReplication *r = cb_replication_new (5000);
  CbVectorItem theirs[] = { { { 0x01 }, 1 } };

  cb_replication_local_advanced (r, "s", W1, 2);
  /* B's HAVE arrives before we opened: our HAVE doubles as the reply, and
   * what B lacks goes out. */
  cb_replication_receive_have (r, B, "s", theirs, 1, FALSE, 0);
  assert_actions (r, (const char *[]) { "HAVE bb s", "RUN bb s 01 from 2", NULL });
  g_assert_true (cb_replication_has_session (r, B, "s"));
  g_assert_false (cb_replication_has_session (r, A, "s"));
  g_assert_cmpint (cb_replication_lag (r, A, "s"), ==, -1);
  cb_replication_free (r);
}

static void
test_anti_entropy_and_resync (void)
{
  CbReplication *r = cb_replication_new (1000);

  cb_replication_peer_up (r, A, "s", 0);
  cb_replication_peer_up (r, B, "s", 0);
  cb_replication_peer_up (r, B, "s", 0);  /* already open: no second HAVE */
  assert_actions (r, (const char *[]) { "HAVE aa s", "HAVE bb s", NULL });
  g_assert_cmpint (cb_replication_next_deadline (r), ==, 1000);
  cb_replication_tick (r, 999);
  assert_actions (r, (const char *[]) { NULL });
  cb_replication_tick (r, 1000);
  assert_actions (r, (const char *[]) { "HAVE aa s", "HAVE bb s", NULL });
  cb_replication_resync (r, A, "s");
  assert_actions (r, (const char *[]) { "HAVE aa s", NULL });
  cb_replication_peer_down (r, A);
  g_assert_false (cb_replication_has_session (r, A, "s"));
  cb_replication_tick (r, 5000);
  assert_actions (r, (const char *[]) { "HAVE bb s", NULL });
  cb_replication_free (r);
}

static void
test_rejects (void)
{
  CbReplication *r = cb_replication_new (1000);

  for (guint i = 0; i < 3; i++)
    g_assert_false (cb_replication_rejected (r, B, i * 100, 3, 1000));
  g_assert_true (cb_replication_rejected (r, B, 300, 3, 1000));
  /* Old rejects age out of the window. */
  g_assert_false (cb_replication_rejected (r, A, 0, 3, 1000));
  g_assert_false (cb_replication_rejected (r, B, 5000, 3, 1000));
  cb_replication_free (r);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/replication/session-exchange", test_session_exchange);
  g_test_add_func ("/node/replication/received-not-echoed", test_received_not_echoed);
  g_test_add_func ("/node/replication/peer-opens", test_peer_opens);
  g_test_add_func ("/node/replication/anti-entropy-resync", test_anti_entropy_and_resync);
  g_test_add_func ("/node/replication/rejects", test_rejects);
  return g_test_run ();
}
