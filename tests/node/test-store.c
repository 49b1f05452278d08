/* test-store.c: the store takes only what verifies, and loses nothing
 *
 * Two stores in temp dirs (a writer A and a replica B) exchange runs the
 * way replication does; every forged, altered, misattributed or malformed
 * run is refused with its reason, counted, and leaves B's data as it was. */
#define G_LOG_DOMAIN "cb-test-store"

#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "cb-builtin-systems.h"
#include "cb-changeset.h"
#include "cb-hlc.h"
#include "cb-log-entry.h"
#include "cb-store.h"

#define KV CB_TEST_KV_SYSTEM

typedef struct {
  guint8 pk[32];
  guint8 sk[64];
} Key;

typedef struct {
  char     *dir;
  Key       key;
  CbStore  *store;
} Side;

static CbSchema *kv_schema;

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
side_init (Side *side)
{
  g_autoptr(GError) error = NULL;

  side->dir = g_dir_make_tmp ("cb-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  crypto_sign_keypair (side->key.pk, side->key.sk);
  side->store = cb_store_new (side->dir, side->key.sk, &error);
  g_assert_no_error (error);
  g_assert_true (cb_store_host (side->store, kv_schema, cb_builtin_system_validator (KV), NULL,
                                &error));
  g_assert_no_error (error);
}

static void
side_clear (Side *side)
{
  g_clear_object (&side->store);
  remove_tree (side->dir);
  g_free (side->dir);
}

typedef struct {
  gboolean done;
  gboolean ok;
  guint64  seq;
  guint    n_new;
  GError  *error;
} Wait;

static void
on_written (GObject *source, GAsyncResult *result, gpointer data)
{
  Wait *w = data;

  w->ok = cb_store_write_finish (CB_STORE (source), result, &w->seq, NULL, &w->error);
  w->done = TRUE;
}

static void
on_received (GObject *source, GAsyncResult *result, gpointer data)
{
  Wait *w = data;

  w->ok = cb_store_receive_finish (CB_STORE (source), result, &w->n_new, &w->error);
  w->done = TRUE;
}

static void
wait_done (Wait *w)
{
  while (!w->done)
    g_main_context_iteration (NULL, TRUE);
}

static GBytes *
kv_changeset (const char *key, const char *value)
{
  g_autoptr(GError) error = NULL;
  CbChangesetBuilder *builder = cb_changeset_builder_new (kv_schema, &error);
  g_autoptr(JsonObject) row = json_object_new ();
  GBytes *changeset;

  json_object_set_string_member (row, "key", key);
  json_object_set_string_member (row, "value", value);
  g_assert_true (cb_changeset_builder_upsert (builder, "kv", row, &error));
  changeset = cb_changeset_builder_finish (builder, &error);
  g_assert_no_error (error);
  cb_changeset_builder_free (builder);
  return changeset;
}

static guint64
write_kv (Side *side, const char *key, const char *value)
{
  g_autoptr(GBytes) changeset = kv_changeset (key, value);
  Wait w = { 0 };

  cb_store_write_async (side->store, KV, changeset, NULL, on_written, &w);
  wait_done (&w);
  g_assert_no_error (w.error);
  return w.seq;
}

static gboolean
receive (Side *side, const guint8 writer[32], guint64 first_seq, const guint8 sig[64],
         GPtrArray *entries, guint *n_new, GError **error)
{
  Wait w = { 0 };

  cb_store_receive_async (side->store, KV, writer, first_seq, sig, entries, NULL,
                          on_received, &w);
  wait_done (&w);
  if (n_new != NULL)
    *n_new = w.n_new;
  if (w.error != NULL)
    g_propagate_error (error, w.error);
  return w.ok;
}

static char *
digest (Side *side)
{
  g_autoptr(GError) error = NULL;
  char *d = cb_store_digest (side->store, KV, &error);

  g_assert_no_error (error);
  return d;
}

/* A's whole log as one run. */
static GPtrArray *
read_all (Side *a, guint8 sig[64])
{
  g_autoptr(GError) error = NULL;
  GPtrArray *entries = NULL;

  g_assert_true (cb_store_read_run (a->store, KV, a->key.pk, 1, G_MAXSIZE, &entries, sig, &error));
  g_assert_no_error (error);
  return entries;
}

/* An entry made by hand (signed by whoever holds sk). */
static GBytes *
make_entry (const guint8 writer[32], guint64 seq, const guint8 prev[32], guint64 hlc,
            GBytes *payload)
{
  CbLogEntry entry = { 0 };

  entry.system = (char *) KV;
  memcpy (entry.writer, writer, 32);
  entry.seq = seq;
  memcpy (entry.prev, prev, 32);
  entry.hlc = hlc;
  entry.payload = payload;
  return cb_log_entry_encode (&entry);
}

static void
hash_of (GBytes *encoded, guint8 out[32])
{
  cb_log_entry_hash (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), out);
}

static guint64
now_hlc (void)
{
  return cb_hlc_from_unix_ms (g_get_real_time () / 1000);
}

static void
assert_refused (Side *b, const guint8 writer[32], guint64 first_seq, const guint8 sig[64],
                GPtrArray *entries, GQuark domain, gint code, const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = digest (b);
  g_autofree char *after = NULL;
  CbStoreStats stats_before, stats_after;

  cb_store_get_stats (b->store, KV, &stats_before);
  g_assert_false (receive (b, writer, first_seq, sig, entries, NULL, &error));
  g_test_message ("refused: %s", error->message);
  g_assert_error (error, domain, code);
  g_assert_nonnull (strstr (error->message, needle));
  after = digest (b);
  g_assert_cmpstr (before, ==, after);
  cb_store_get_stats (b->store, KV, &stats_after);
  g_assert_cmpuint (stats_after.rejected, ==, stats_before.rejected + 1);
  g_assert_cmpuint (stats_after.entries, ==, stats_before.entries);
}

static void
test_replicate_and_refuse (void)
{
  Side a, b;
  guint8 sig[64], bad_sig[64];
  g_autoptr(GPtrArray) run = NULL;
  g_autofree char *da = NULL;
  g_autofree char *db = NULL;
  guint n_new = 0;
  g_autoptr(GError) error = NULL;
  guint8 h1[32], h2[32], h3[32], zero[32] = { 0 };

  side_init (&a);
  side_init (&b);
  g_assert_cmpuint (write_kv (&a, "a", "1"), ==, 1);
  g_assert_cmpuint (write_kv (&a, "b", "2"), ==, 2);
  g_assert_cmpuint (write_kv (&a, "a", "3"), ==, 3);

  /* The honest run: taken whole, digests equal. */
  run = read_all (&a, sig);
  g_assert_cmpuint (run->len, ==, 3);
  g_assert_true (receive (&b, a.key.pk, 1, sig, run, &n_new, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_new, ==, 3);
  da = digest (&a);
  db = digest (&b);
  g_assert_cmpstr (da, ==, db);
  g_assert_cmpuint (cb_store_get_seq (b.store, KV, a.key.pk), ==, 3);
  hash_of (run->pdata[0], h1);
  hash_of (run->pdata[1], h2);
  hash_of (run->pdata[2], h3);

  /* Replayed: the same run again changes nothing and is no error. */
  g_assert_true (receive (&b, a.key.pk, 1, sig, run, &n_new, &error));
  g_assert_cmpuint (n_new, ==, 0);

  /* Forged signature. */
  {
    g_autoptr(GBytes) e4 = make_entry (a.key.pk, 4, h3, now_hlc (), kv_changeset ("x", "forged"));
    g_autoptr(GPtrArray) forged = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    guint8 h4[32];

    g_ptr_array_add (forged, g_bytes_ref (e4));
    hash_of (e4, h4);
    cb_log_batch_sign (KV, b.key.sk, 4, h4, bad_sig);  /* B's key, not A's */
    assert_refused (&b, a.key.pk, 4, bad_sig, forged, CB_LOG_ERROR, CB_LOG_ERROR_BAD_SIGNATURE,
                    "signature");
  }

  /* Broken chain: A's key signs, but entry 4 names the wrong predecessor
   * (an old entry replayed under a new number looks the same). */
  {
    g_autoptr(GBytes) payload = kv_changeset ("y", "chain");
    g_autoptr(GBytes) e4 = make_entry (a.key.pk, 4, h1, now_hlc (), payload);
    g_autoptr(GPtrArray) broken = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    guint8 h4[32];

    g_ptr_array_add (broken, g_bytes_ref (e4));
    hash_of (e4, h4);
    cb_log_batch_sign (KV, a.key.sk, 4, h4, bad_sig);
    assert_refused (&b, a.key.pk, 4, bad_sig, broken, CB_LOG_ERROR, CB_LOG_ERROR_BROKEN_CHAIN,
                    "prev");
  }

  /* An entry for another writer inside A's run. */
  {
    g_autoptr(GBytes) payload = kv_changeset ("z", "other");
    g_autoptr(GBytes) e4 = make_entry (b.key.pk, 4, h3, now_hlc (), payload);
    g_autoptr(GPtrArray) other = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    guint8 h4[32];

    g_ptr_array_add (other, g_bytes_ref (e4));
    hash_of (e4, h4);
    cb_log_batch_sign (KV, a.key.sk, 4, h4, bad_sig);
    assert_refused (&b, a.key.pk, 4, bad_sig, other, CB_LOG_ERROR, CB_LOG_ERROR_WRONG_WRITER,
                    "writer");
  }

  /* Malformed changeset, properly signed. */
  {
    g_autoptr(GBytes) garbage = g_bytes_new_static ("\x54\x02kv\x00garbage", 11);
    g_autoptr(GBytes) e4 = make_entry (a.key.pk, 4, h3, now_hlc (), garbage);
    g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    guint8 h4[32];

    g_ptr_array_add (bad, g_bytes_ref (e4));
    hash_of (e4, h4);
    cb_log_batch_sign (KV, a.key.sk, 4, h4, bad_sig);
    assert_refused (&b, a.key.pk, 4, bad_sig, bad, CB_STORE_ERROR, CB_STORE_ERROR_INVALID,
                    "entry 4");
  }

  /* A column outside the schema: a real changeset of a wider kv table. */
  {
    sqlite3 *mem = NULL;
    sqlite3_session *session = NULL;
    void *data = NULL;
    int size = 0;
    g_autoptr(GBytes) wide = NULL;
    g_autoptr(GBytes) e4 = NULL;
    g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    guint8 h4[32];

    g_assert_cmpint (sqlite3_open (":memory:", &mem), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_exec (mem, "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT, "
                                   "extra TEXT)", NULL, NULL, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3session_create (mem, "main", &session), ==, SQLITE_OK);
    sqlite3session_attach (session, NULL);
    g_assert_cmpint (sqlite3_exec (mem, "INSERT INTO kv VALUES ('w', 'v', 'sneaky')", NULL, NULL,
                                   NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3session_changeset (session, &size, &data), ==, SQLITE_OK);
    wide = g_bytes_new (data, (gsize) size);
    sqlite3_free (data);
    sqlite3session_delete (session);
    sqlite3_close (mem);

    e4 = make_entry (a.key.pk, 4, h3, now_hlc (), wide);
    g_ptr_array_add (bad, g_bytes_ref (e4));
    hash_of (e4, h4);
    cb_log_batch_sign (KV, a.key.sk, 4, h4, bad_sig);
    assert_refused (&b, a.key.pk, 4, bad_sig, bad, CB_STORE_ERROR, CB_STORE_ERROR_INVALID,
                    "column");
  }

  /* The system's own rule (test/kv: values of at most 4096 bytes). */
  {
    g_autofree char *big = g_strnfill (CB_TEST_KV_MAX_VALUE + 1, 'x');
    g_autoptr(GBytes) payload = kv_changeset ("big", big);
    g_autoptr(GBytes) e4 = make_entry (a.key.pk, 4, h3, now_hlc (), payload);
    g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    guint8 h4[32];

    g_ptr_array_add (bad, g_bytes_ref (e4));
    hash_of (e4, h4);
    cb_log_batch_sign (KV, a.key.sk, 4, h4, bad_sig);
    assert_refused (&b, a.key.pk, 4, bad_sig, bad, CB_STORE_ERROR, CB_STORE_ERROR_INVALID,
                    "refused by test/kv");
  }

  /* A clock far in the future. */
  {
    g_autoptr(GBytes) payload = kv_changeset ("t", "later");
    guint64 future = cb_hlc_from_unix_ms (g_get_real_time () / 1000 + 3600 * 1000);
    g_autoptr(GBytes) e4 = make_entry (a.key.pk, 4, h3, future, payload);
    g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    guint8 h4[32];

    g_ptr_array_add (bad, g_bytes_ref (e4));
    hash_of (e4, h4);
    cb_log_batch_sign (KV, a.key.sk, 4, h4, bad_sig);
    assert_refused (&b, a.key.pk, 4, bad_sig, bad, CB_STORE_ERROR, CB_STORE_ERROR_CLOCK, "ahead");
  }

  /* A fork: A signs a different entry 3. */
  {
    g_autoptr(GBytes) payload = kv_changeset ("a", "fork");
    g_autoptr(GBytes) e3 = make_entry (a.key.pk, 3, h2, now_hlc (), payload);
    g_autoptr(GBytes) e4 = NULL;
    g_autoptr(GPtrArray) fork = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    g_autoptr(GBytes) payload4 = kv_changeset ("q", "after fork");
    guint8 h3f[32], h4[32];

    hash_of (e3, h3f);
    e4 = make_entry (a.key.pk, 4, h3f, now_hlc (), payload4);
    hash_of (e4, h4);
    g_ptr_array_add (fork, g_bytes_ref (e3));
    g_ptr_array_add (fork, g_bytes_ref (e4));
    cb_log_batch_sign (KV, a.key.sk, 4, h4, bad_sig);
    assert_refused (&b, a.key.pk, 3, bad_sig, fork, CB_STORE_ERROR, CB_STORE_ERROR_FORK, "fork");
  }

  /* A gap is not an attack: it is refused for now, not counted.  (A
   * properly signed run: its own checks pass, only what is before it is
   * missing.) */
  {
    g_autoptr(GBytes) payload = kv_changeset ("g", "gap");
    g_autoptr(GBytes) e9 = make_entry (a.key.pk, 9, h3, now_hlc (), payload);
    g_autoptr(GPtrArray) gap = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    CbStoreStats stats;
    guint8 h9[32], sig9[64];

    hash_of (e9, h9);
    cb_log_batch_sign (KV, a.key.sk, 9, h9, sig9);
    g_ptr_array_add (gap, g_bytes_ref (e9));
    g_assert_false (receive (&b, a.key.pk, 9, sig9, gap, NULL, &error));
    g_assert_error (error, CB_STORE_ERROR, CB_STORE_ERROR_GAP);
    g_clear_error (&error);
    cb_store_get_stats (b.store, KV, &stats);
    g_assert_cmpuint (stats.rejected, ==, 8);
  }

  /* After all that, A's next honest entry still goes through. */
  {
    g_autoptr(GPtrArray) next = NULL;
    g_autofree char *da2 = NULL;
    g_autofree char *db2 = NULL;

    g_assert_cmpuint (write_kv (&a, "c", "4"), ==, 4);
    g_assert_true (cb_store_read_run (a.store, KV, a.key.pk, 4, G_MAXSIZE, &next, sig, &error));
    g_assert_true (receive (&b, a.key.pk, 4, sig, next, &n_new, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (n_new, ==, 1);
    da2 = digest (&a);
    db2 = digest (&b);
    g_assert_cmpstr (da2, ==, db2);
  }

  side_clear (&a);
  side_clear (&b);
  (void) zero;
}

/* Closing and reopening keeps every acknowledged write, and the log head
 * continues where it was. */
static void
test_reopen (void)
{
  Side a;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  side_init (&a);
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *k = g_strdup_printf ("k%u", i);
      write_kv (&a, k, "v");
    }
  before = digest (&a);
  g_clear_object (&a.store);
  a.store = cb_store_new (a.dir, a.key.sk, &error);
  g_assert_no_error (error);
  g_assert_true (cb_store_host (a.store, kv_schema, NULL, NULL, &error));
  after = digest (&a);
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpuint (cb_store_get_seq (a.store, KV, a.key.pk), ==, 50);
  g_assert_cmpuint (write_kv (&a, "next", "v"), ==, 51);
  side_clear (&a);
}

/* Read-only queries; the tables as of an earlier clock reading. */
static void
test_query_and_as_of (void)
{
  Side a;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) now = NULL;
  g_autoptr(JsonNode) then = NULL;
  g_autoptr(JsonNode) refused = NULL;
  g_autofree char *now_text = NULL;
  g_autofree char *then_text = NULL;
  guint64 between;

  side_init (&a);
  write_kv (&a, "a", "old");
  g_usleep (5000);
  between = cb_hlc_from_unix_ms (g_get_real_time () / 1000);
  g_usleep (5000);
  write_kv (&a, "a", "new");
  write_kv (&a, "b", "later");

  now = cb_store_query (a.store, KV, "SELECT key, value FROM kv ORDER BY key", 0, 100, &error);
  g_assert_no_error (error);
  then = cb_store_query (a.store, KV, "SELECT key, value FROM kv ORDER BY key", between, 100,
                         &error);
  g_assert_no_error (error);
  now_text = json_to_string (json_object_get_member (json_node_get_object (now), "rows"), FALSE);
  then_text = json_to_string (json_object_get_member (json_node_get_object (then), "rows"), FALSE);
  g_assert_cmpstr (now_text, ==, "[[\"a\",\"new\"],[\"b\",\"later\"]]");
  g_assert_cmpstr (then_text, ==, "[[\"a\",\"old\"]]");

  refused = cb_store_query (a.store, KV, "DELETE FROM kv", 0, 100, &error);
  g_assert_null (refused);
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  side_clear (&a);
}

int
main (int argc, char *argv[])
{
  static const char * const tables[] = {
    "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT)", NULL,
  };
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  kv_schema = cb_builtin_system_schema (KV, &error);
  g_assert_no_error (error);
  (void) tables;

  g_test_add_func ("/node/store/replicate-and-refuse", test_replicate_and_refuse);
  g_test_add_func ("/node/store/reopen", test_reopen);
  g_test_add_func ("/node/store/query-and-as-of", test_query_and_as_of);
  status = g_test_run ();
  cb_schema_unref (kv_schema);
  return status;
}
