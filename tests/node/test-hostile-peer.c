/* test-hostile-peer.c: a real cloud-bevy-node process against a peer that
 * sends bad entries
 *
 * The node ($CB_NODE) runs on 127.0.0.1 hosting test/kv.  The test is a
 * member of the same cloud (it knows the network key) with its own
 * identity, talking through a real CbTransport: the handshake is honest,
 * the entries are not.  Each kind of bad run is refused (a NACK naming the
 * reason comes back), counted in the node's status, and never materialised
 * (the digest stays the same); after more than five refusals within a
 * minute the node cuts the peer off and ignores it, while an honest run
 * sent before that is stored. */
#define G_LOG_DOMAIN "cb-test-hostile"

#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <string.h>

#include "cb-builtin-systems.h"
#include "cb-changeset.h"
#include "cb-cloud-config.h"
#include "cb-cloud-init.h"
#include "cb-control.h"
#include "cb-hex.h"
#include "cb-hlc.h"
#include "cb-log-entry.h"
#include "cb-replication-codec.h"
#include "cb-transport.h"

#define KV CB_TEST_KV_SYSTEM

typedef struct {
  char          *dir;
  char          *data_dir;
  GSubprocess   *node;
  CbCloudConfig *cloud;
  guint8         node_id[32];
  char          *node_addr;
  CbTransport   *transport;
  guint8         pk[32];
  guint8         sk[64];
  GQueue         nacks;      /* char* reason names */
  gboolean       closed;
  char          *closed_reason;
} Hostile;

static CbSchema *kv_schema;

static void
on_message (CbTransport *t, guint protocol, gpointer peer_id, GBytes *payload, gpointer data)
{
  Hostile *h = data;
  g_auto(CbReplicationMessage) m = { 0 };

  if (protocol != CB_PROTO_REPLICATION || !cb_replication_decode_bytes (payload, &m, NULL))
    return;
  if (m.type == CB_REPLICATION_MSG_NACK)
    g_queue_push_tail (&h->nacks, g_strdup (cb_replication_nack_reason_name (m.nack.reason)));
}

static void
on_peer_closed (CbTransport *t, gpointer peer_id, gboolean clean, const char *reason,
                gpointer data)
{
  Hostile *h = data;

  h->closed = TRUE;
  g_free (h->closed_reason);
  h->closed_reason = g_strdup (reason);
}

static JsonObject *
call (Hostile *h, const char *command, GError **error)
{
  g_autoptr(JsonObject) request = json_object_new ();
  JsonNode *result;

  json_object_set_string_member (request, "command", command);
  json_object_set_string_member (request, "system", KV);
  result = cb_control_call (h->data_dir, request, error);
  if (result == NULL)
    return NULL;
  {
    JsonObject *o = json_object_ref (json_node_get_object (result));
    json_node_unref (result);
    return o;
  }
}

static JsonObject *
kv_status (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) status = call (h, "status", &error);
  JsonArray *systems;

  g_assert_no_error (error);
  systems = json_object_get_array_member (status, "systems");
  for (guint i = 0; i < json_array_get_length (systems); i++)
    {
      JsonObject *s = json_array_get_object_element (systems, i);
      if (g_strcmp0 (json_object_get_string_member (s, "system"), KV) == 0)
        return json_object_ref (s);
    }
  g_assert_not_reached ();
}

static char *
digest (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) d = call (h, "digest", &error);

  g_assert_no_error (error);
  return g_strdup (json_object_get_string_member (d, "digest"));
}

static void
run_until (gboolean (*cond) (Hostile *), Hostile *h, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!cond (h))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

static gboolean
node_answers (Hostile *h)
{
  g_autoptr(JsonObject) st = call (h, "status", NULL);

  if (st == NULL)
    return FALSE;
  cb_hex_decode (json_object_get_string_member (st, "id"), h->node_id, 32);
  return TRUE;
}

/* The node dies with the test, even when an assertion aborts it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
hostile_start (Hostile *h)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cloud_dir = NULL;
  g_autofree char *cloud_json = NULL;
  g_autofree char *list = NULL;
  const char *lists[2] = { NULL, NULL };
  const char *node_bin = g_getenv ("CB_NODE");
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *listen = NULL;
  guint port;

  g_assert_nonnull (node_bin);
  h->dir = g_dir_make_tmp ("cb-test-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  cloud_dir = g_build_filename (h->dir, "cloud", NULL);
  list = g_strdup_printf ("file://%s/nodes.json", cloud_dir);
  lists[0] = list;
  g_assert_true (cb_cloud_init (cloud_dir, "hostile", lists, NULL, &error));
  g_assert_no_error (error);
  cloud_json = g_build_filename (cloud_dir, "cloud.json", NULL);
  h->cloud = cb_cloud_config_load (cloud_json, &error);
  g_assert_no_error (error);

  /* A port that was free a moment ago. */
  g_assert_true (g_socket_bind (sock, any, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (sock, NULL);
  listen = g_strdup_printf ("127.0.0.1:%u", port);
  h->node_addr = g_strdup_printf ("ws://127.0.0.1:%u", port);
  h->data_dir = g_build_filename (h->dir, "node", NULL);
  {
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);

    g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
    h->node = g_subprocess_launcher_spawn (launcher, &error, node_bin, "run",
                                           "--data-dir", h->data_dir, "--cloud", cloud_json,
                                           "--listen", listen, "--host", KV, NULL);
  }
  g_assert_no_error (error);
  run_until (node_answers, h, "the node's control socket");

  crypto_sign_keypair (h->pk, h->sk);
  h->transport = cb_transport_new (h->cloud->network_key, h->sk);
  g_queue_init (&h->nacks);
  g_signal_connect (h->transport, "message", G_CALLBACK (on_message), h);
  g_signal_connect (h->transport, "peer-closed", G_CALLBACK (on_peer_closed), h);
}

static void
hostile_stop (Hostile *h)
{
  g_autoptr(GError) error = NULL;

  cb_transport_shutdown (h->transport);
  g_clear_object (&h->transport);
  g_subprocess_send_signal (h->node, SIGTERM);
  g_assert_true (g_subprocess_wait (h->node, NULL, &error));
  g_assert_no_error (error);
  /* A clean exit: no sanitizer report, no crash on the bad input. */
  g_assert_true (g_subprocess_get_if_exited (h->node));
  g_assert_cmpint (g_subprocess_get_exit_status (h->node), ==, 0);
  g_clear_object (&h->node);
  g_queue_clear_full (&h->nacks, g_free);
  g_clear_pointer (&h->cloud, cb_cloud_config_free);
  g_free (h->closed_reason);
  g_free (h->node_addr);
  g_free (h->data_dir);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", h->dir);
    g_assert_cmpint (system (cmd), ==, 0);
  }
  g_free (h->dir);
}

/* ---- crafting runs ---- */

static GBytes *
changeset_kv (const char *key, const char *value)
{
  g_autoptr(GError) error = NULL;
  CbChangesetBuilder *b = cb_changeset_builder_new (kv_schema, &error);
  g_autoptr(JsonObject) row = json_object_new ();
  GBytes *cs;

  json_object_set_string_member (row, "key", key);
  json_object_set_string_member (row, "value", value);
  g_assert_true (cb_changeset_builder_upsert (b, "kv", row, &error));
  cs = cb_changeset_builder_finish (b, &error);
  g_assert_no_error (error);
  cb_changeset_builder_free (b);
  return cs;
}

/* A real SQLite changeset of a kv table with a third column. */
static GBytes *
changeset_wider (void)
{
  sqlite3 *db = NULL;
  sqlite3_session *session = NULL;
  void *data = NULL;
  int len = 0;
  GBytes *cs;

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, "
                                     "value TEXT, secret TEXT)", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3session_create (db, "main", &session), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3session_attach (session, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "INSERT INTO kv VALUES ('w', 'x', 'y')", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3session_changeset (session, &len, &data), ==, SQLITE_OK);
  cs = g_bytes_new (data, len);
  sqlite3_free (data);
  sqlite3session_delete (session);
  sqlite3_close (db);
  return cs;
}

typedef enum {
  BAD_NONE,
  BAD_SIGNATURE,     /* signed by another key */
  BAD_CHAIN,         /* entry 2 names the wrong predecessor */
  BAD_WRITER,        /* entry of another writer inside our run */
  BAD_CHANGESET,     /* bytes that are no changeset */
  BAD_COLUMN,        /* a column outside the schema */
} Bad;

/* A run of two entries (seq 1..2) of a fresh writer, spoiled as asked,
 * sent as one BATCH by the hostile peer (peers relay each other's logs,
 * so the writer need not be the sender). */
static void
send_run (Hostile *h, Bad bad, const char *key)
{
  guint8 prev[32] = { 0 }, hash[32], sig[64], other_pk[32], other_sk[64];
  guint8 writer_pk[32], writer_sk[64];
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;
  guint64 hlc = cb_hlc_from_unix_ms (g_get_real_time () / 1000);

  crypto_sign_keypair (other_pk, other_sk);
  crypto_sign_keypair (writer_pk, writer_sk);
  for (guint seq = 1; seq <= 2; seq++)
    {
      CbLogEntry e = { 0 };
      g_autoptr(GBytes) payload = NULL;
      g_autofree char *k = g_strdup_printf ("%s-%u", key, seq);
      GBytes *encoded;

      if (seq == 2 && bad == BAD_CHANGESET)
        payload = g_bytes_new ("\x54\x02\x01\x00kv\x00\x12\x00\xff\xff", 12);
      else if (seq == 2 && bad == BAD_COLUMN)
        payload = changeset_wider ();
      else
        payload = changeset_kv (k, "v");
      e.system = (char *) KV;
      memcpy (e.writer, seq == 2 && bad == BAD_WRITER ? other_pk : writer_pk, 32);
      e.seq = seq;
      memcpy (e.prev, prev, 32);
      if (seq == 2 && bad == BAD_CHAIN)
        memset (e.prev, 0x42, 32);
      e.hlc = hlc + seq;
      e.payload = payload;
      encoded = cb_log_entry_encode (&e);
      cb_log_entry_hash (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), hash);
      memcpy (prev, hash, 32);
      g_ptr_array_add (entries, encoded);
    }
  cb_log_batch_sign (KV, bad == BAD_SIGNATURE ? other_sk : writer_sk, 2, hash, sig);
  message = cb_replication_encode_batch (KV, writer_pk, 1, sig, (GBytes * const *) entries->pdata,
                                         entries->len, &error);
  g_assert_no_error (error);
  cb_transport_send (h->transport, h->node_id, h->node_addr, CB_PROTO_REPLICATION, message);
}

static gboolean
has_nack (Hostile *h)
{
  return !g_queue_is_empty (&h->nacks);
}

static gboolean
is_closed (Hostile *h)
{
  return h->closed;
}

static gint64
rejected (Hostile *h)
{
  g_autoptr(JsonObject) st = kv_status (h);

  return json_object_get_int_member (st, "rejected");
}

static void
test_bad_runs (void)
{
  Hostile h = { 0 };
  g_autofree char *before = NULL;
  static const struct { Bad bad; const char *nack; } cases[] = {
    { BAD_SIGNATURE, "bad-signature" },
    { BAD_CHAIN, "broken-chain" },
    { BAD_WRITER, "wrong-writer" },
    { BAD_CHANGESET, "refused" },
    { BAD_COLUMN, "refused" },
  };

  hostile_start (&h);
  before = digest (&h);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *reason = NULL;
      g_autofree char *now = NULL;
      g_autofree char *key = g_strdup_printf ("bad%u", i);

      send_run (&h, cases[i].bad, key);
      run_until (has_nack, &h, "a NACK");
      reason = g_queue_pop_head (&h.nacks);
      g_assert_cmpstr (reason, ==, cases[i].nack);
      g_assert_cmpint (rejected (&h), ==, i + 1);
      now = digest (&h);
      g_assert_cmpstr (now, ==, before);   /* nothing materialised */
      g_assert_false (h.closed);
    }

  /* An honest run still goes through: refusals do not poison the peer yet. */
  send_run (&h, BAD_NONE, "honest");
  {
    gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
    g_autofree char *now = NULL;

    while ((now = digest (&h)) != NULL && g_strcmp0 (now, before) == 0)
      {
        g_assert_cmpint (g_get_monotonic_time (), <, deadline);
        g_free (now);
        g_main_context_iteration (NULL, FALSE);
        g_usleep (5000);
      }
    g_free (before);
    before = g_steal_pointer (&now);
  }

  /* The sixth refusal within a minute: cut off. */
  send_run (&h, BAD_SIGNATURE, "sixth");
  run_until (is_closed, &h, "the node to disconnect us");
  g_assert_cmpint (rejected (&h), ==, G_N_ELEMENTS (cases) + 1);
  /* While banned, nothing it sends is even looked at. */
  h.closed = FALSE;
  send_run (&h, BAD_SIGNATURE, "banned");
  {
    gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;
    while (g_get_monotonic_time () < until)
      g_main_context_iteration (NULL, FALSE), g_usleep (5000);
  }
  g_assert_cmpint (rejected (&h), ==, G_N_ELEMENTS (cases) + 1);
  {
    g_autofree char *now = digest (&h);
    g_assert_cmpstr (now, ==, before);
  }
  hostile_stop (&h);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_init (&argc, &argv, NULL);
  kv_schema = cb_builtin_system_schema (KV, &error);
  g_assert_no_error (error);
  g_test_add_func ("/node/hostile-peer/bad-runs", test_bad_runs);
  return g_test_run ();
}
