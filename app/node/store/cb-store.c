/* cb-store.c: per-system sqlite files, one writer thread, group commit */
#define G_LOG_DOMAIN "cb-store"

#include "cb-store.h"

#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "cb-changeset.h"
#include "cb-hex.h"
#include "cb-hlc.h"
#include "cb-log-entry.h"
#include "cb-query.h"

/* Jobs one transaction may carry: commits are the expensive part, so
 * queued writes share one (each in its own savepoint). */
#define MAX_JOBS_PER_COMMIT 256
/* Our own entries one signature may cover. */
#define MAX_LOCAL_BATCH_BYTES (512 * 1024)
/* A remote entry may run this far ahead of our clock. */
#define MAX_CLOCK_DRIFT_MS (60 * 1000)
/* WAL frames (pages) after which the checkpointer copies the WAL back
 * into the database: 4096 pages of 4 KiB. */
#define CHECKPOINT_FRAMES 4096

G_DEFINE_QUARK (cb-store-error-quark, cb_store_error)

typedef struct {
  guint64 seq;
  guint8  hash[32];
} Head;

typedef struct {
  char             *name;
  char             *path;
  CbSchema         *schema;
  CbStoreValidator  validator;
  gpointer          validator_data;
  /* Writer thread only (after hosting). */
  sqlite3          *wdb;
  CbMaterializer   *mat;
  sqlite3_stmt     *insert_log;
  gboolean          sync_full;  /* PRAGMA synchronous is FULL now */
  GHashTable       *heads;    /* GBytes writer -> Head* (committed) */
  /* Checkpointer thread only. */
  sqlite3          *cdb;
  gint              checkpoint_pending;  /* atomic */
  GAsyncQueue      *store_checkpoints;   /* the store's queue (not owned) */
  /* Caller's thread only. */
  sqlite3          *rdb;
  GHashTable       *vector;   /* GBytes writer -> guint64* */
  CbStoreStats      stats;
  /* Jobs queued and not completed; an unhosted system waits for them. */
  guint             pending;
  gboolean          closing;
} StoreSystem;

typedef enum { JOB_LOCAL, JOB_REMOTE, JOB_SYNC, JOB_STOP } JobKind;

typedef struct {
  JobKind      kind;
  StoreSystem *sys;
  GTask       *task;
  /* local */
  GBytes      *changeset;
  /* remote */
  guint8       writer[32];
  guint64      first_seq;
  guint8       sig[64];
  GPtrArray   *entries;
  CbLogEntry **decoded;       /* by the verifier: NULL-terminated */
  guint8       first_prev[32];
  guint8       last_hash[32];
  /* results */
  guint64      seq;
  guint64      hlc;
  guint        n_new;
  guint64      rows;
  guint64      max_hlc;
  GError      *error;
  GHashTable  *staged;        /* GBytes writer -> Head*: heads this job moves */
} Job;

struct _CbStore
{
  GObject       parent_instance;

  char         *dir;
  guint8        secret[64];
  guint8        self_id[32];
  GHashTable   *systems;      /* name -> StoreSystem* */
  GAsyncQueue  *queue;        /* Job*, to the writer thread */
  GAsyncQueue  *verify_queue; /* Job*: remote runs and syncs go through the verifier first */
  GThread      *verifier;
  GThread      *thread;
  GThread      *checkpointer;
  GAsyncQueue  *checkpoints;  /* StoreSystem* to checkpoint, or the store itself to stop */
  GMainContext *context;      /* where jobs complete */
  CbHlc         clock;        /* writer thread */
  GMutex        clock_lock;   /* hosting raises the clock from the caller's thread */
};

G_DEFINE_FINAL_TYPE (CbStore, cb_store, G_TYPE_OBJECT)

static guint
id_hash (gconstpointer key)
{
  return g_bytes_hash (key);
}

static GBytes *
id_bytes (const guint8 id[32])
{
  return g_bytes_new (id, 32);
}

static gboolean
db_fail (GError **error, sqlite3 *db, const char *what)
{
  g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_DATABASE, "%s: %s", what, sqlite3_errmsg (db));
  return FALSE;
}

static gboolean
exec (sqlite3 *db, const char *sql, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_DATABASE, "%s (%s)", message, sql);
      sqlite3_free (message);
      return FALSE;
    }
  return TRUE;
}

static void
job_free (Job *job)
{
  g_clear_pointer (&job->changeset, g_bytes_unref);
  g_clear_pointer (&job->entries, g_ptr_array_unref);
  for (guint i = 0; job->decoded != NULL && job->decoded[i] != NULL; i++)
    cb_log_entry_free (job->decoded[i]);
  g_free (job->decoded);
  g_clear_pointer (&job->staged, g_hash_table_unref);
  g_clear_error (&job->error);
  g_free (job);
}

static void
system_free (StoreSystem *sys)
{
  g_clear_pointer (&sys->mat, cb_materializer_free);
  g_clear_pointer (&sys->insert_log, sqlite3_finalize);
  /* The reader first: the last connection to close checkpoints and
   * removes the WAL, which a read-only one cannot do. */
  if (sys->rdb != NULL)
    sqlite3_close (sys->rdb);
  if (sys->cdb != NULL)
    sqlite3_close (sys->cdb);
  if (sys->wdb != NULL)
    sqlite3_close (sys->wdb);
  g_clear_pointer (&sys->schema, cb_schema_unref);
  g_clear_pointer (&sys->heads, g_hash_table_unref);
  g_clear_pointer (&sys->vector, g_hash_table_unref);
  g_free (sys->name);
  g_free (sys->path);
  g_free (sys);
}

/* An unhosted system, once its jobs completed: a checkpoint the writer
 * queued for it may still be running on the checkpointer's thread. */
static void
system_release (StoreSystem *sys)
{
  while (g_atomic_int_get (&sys->checkpoint_pending))
    g_usleep (1000);
  system_free (sys);
}

/* ---- migrations ---- */

/* Each step moves user_version from its index to index + 1. */
static const char * const migrations[] = {
  "CREATE TABLE _cb_log ("
  "  writer BLOB NOT NULL, seq INTEGER NOT NULL, hlc INTEGER NOT NULL,"
  "  hash BLOB NOT NULL, sig BLOB, entry BLOB NOT NULL,"
  "  PRIMARY KEY (writer, seq)) WITHOUT ROWID;"
  "CREATE INDEX _cb_log_by_hlc ON _cb_log (hlc);",
};

static gboolean
migrate (sqlite3 *db, const char *path, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int version = 0;

  if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
    return db_fail (error, db, path);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);

  if (version > (int) G_N_ELEMENTS (migrations))
    {
      g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_DATABASE,
                   "%s was written by a newer Cloud Bevy (schema %d, this one knows %u); "
                   "update Cloud Bevy to use it", path, version, (guint) G_N_ELEMENTS (migrations));
      return FALSE;
    }
  for (guint i = (guint) version; i < G_N_ELEMENTS (migrations); i++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %u", i + 1);

      if (!exec (db, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!exec (db, migrations[i], error) || !exec (db, bump, error))
        {
          exec (db, "ROLLBACK", NULL);
          g_prefix_error (error, "%s: migrating to schema %u: ", path, i + 1);
          return FALSE;
        }
      if (!exec (db, "COMMIT", error))
        return FALSE;
    }
  return TRUE;
}

/* ---- writer thread ---- */

static Head *
head_lookup (StoreSystem *sys,
             GHashTable  *txn_staged,
             Job         *job,
             GBytes      *writer,
             GError     **error)
{
  Head *head;
  sqlite3_stmt *stmt = NULL;

  if (job->staged != NULL && (head = g_hash_table_lookup (job->staged, writer)) != NULL)
    return head;
  if ((head = g_hash_table_lookup (txn_staged, writer)) != NULL)
    return head;
  if ((head = g_hash_table_lookup (sys->heads, writer)) != NULL)
    return head;

  head = g_new0 (Head, 1);
  if (sqlite3_prepare_v2 (sys->wdb, "SELECT seq, hash FROM _cb_log WHERE writer = ? "
                                    "ORDER BY seq DESC LIMIT 1", -1, &stmt, NULL) != SQLITE_OK)
    {
      g_free (head);
      db_fail (error, sys->wdb, "reading a log head");
      return NULL;
    }
  sqlite3_bind_blob (stmt, 1, g_bytes_get_data (writer, NULL), 32, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_bytes (stmt, 1) == 32)
    {
      head->seq = (guint64) sqlite3_column_int64 (stmt, 0);
      memcpy (head->hash, sqlite3_column_blob (stmt, 1), 32);
    }
  sqlite3_finalize (stmt);
  g_hash_table_insert (sys->heads, g_bytes_ref (writer), head);
  return head;
}

static void
stage_head (Job *job, GBytes *writer, guint64 seq, const guint8 hash[32])
{
  Head *head = g_new0 (Head, 1);

  if (job->staged == NULL)
    job->staged = g_hash_table_new_full (id_hash, g_bytes_equal,
                                         (GDestroyNotify) g_bytes_unref, g_free);
  head->seq = seq;
  memcpy (head->hash, hash, 32);
  g_hash_table_replace (job->staged, g_bytes_ref (writer), head);
}

static gboolean
insert_entry (StoreSystem  *sys,
              const guint8  writer[32],
              guint64       seq,
              guint64       hlc,
              const guint8  hash[32],
              const guint8 *sig,
              GBytes       *encoded,
              GError      **error)
{
  sqlite3_stmt *stmt = sys->insert_log;
  int rc;

  sqlite3_bind_blob (stmt, 1, writer, 32, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) seq);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) hlc);
  sqlite3_bind_blob (stmt, 4, hash, 32, SQLITE_STATIC);
  if (sig != NULL)
    sqlite3_bind_blob (stmt, 5, sig, 64, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 6, g_bytes_get_data (encoded, NULL),
                     (int) g_bytes_get_size (encoded), SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE)
    return db_fail (error, sys->wdb, "storing a log entry");
  return TRUE;
}

static gint64
wall_ms (void)
{
  return g_get_real_time () / 1000;
}

/* One of our own writes: the next entry of our log for the system. */
static gboolean
run_local (CbStore     *self,
           StoreSystem *sys,
           GHashTable  *txn_staged,
           Job         *job,
           GError     **error)
{
  g_autoptr(GBytes) writer = id_bytes (self->self_id);
  Head *head = head_lookup (sys, txn_staged, job, writer, error);
  CbLogEntry entry = { 0 };
  g_autoptr(GBytes) encoded = NULL;
  guint8 hash[32];
  guint8 sig[64];
  CbStamp stamp;
  guint applied = 0, superseded = 0;
  guint n_ops = 0;

  if (head == NULL)
    return FALSE;
  if (!cb_changeset_validate (sys->schema, g_bytes_get_data (job->changeset, NULL),
                              g_bytes_get_size (job->changeset), &n_ops, error))
    {
      g_prefix_error (error, "not writing to %s: ", sys->name);
      return FALSE;
    }

  entry.system = sys->name;
  memcpy (entry.writer, self->self_id, 32);
  entry.seq = head->seq + 1;
  memcpy (entry.prev, head->hash, 32);
  g_mutex_lock (&self->clock_lock);
  entry.hlc = cb_hlc_now (&self->clock, wall_ms ());
  g_mutex_unlock (&self->clock_lock);
  entry.payload = job->changeset;
  encoded = cb_log_entry_encode (&entry);
  cb_log_entry_hash (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), hash);

  stamp.hlc = entry.hlc;
  memcpy (stamp.writer, self->self_id, 32);
  if (!cb_materializer_apply (sys->mat, g_bytes_get_data (job->changeset, NULL),
                              g_bytes_get_size (job->changeset), &stamp, &applied,
                              &superseded, error))
    return FALSE;
  /* Every local entry is signed on its own: it may be the last of its
   * batch, and signing is cheap next to a commit. */
  cb_log_batch_sign (sys->name, self->secret, entry.seq, hash, sig);
  if (!insert_entry (sys, self->self_id, entry.seq, entry.hlc, hash, sig, encoded, error))
    return FALSE;

  stage_head (job, writer, entry.seq, hash);
  job->seq = entry.seq;
  job->hlc = entry.hlc;
  job->max_hlc = entry.hlc;
  job->n_new = 1;
  job->rows = applied;
  return TRUE;
}

/* The checks of another writer's run that need nothing of our state, on
 * the verifier thread, so the writer thread only applies: every entry
 * decodes, the chain holds within the run (from the first entry's own
 * predecessor), the writer's signature covers the last entry, and every
 * changeset is well-formed, within the schema and accepted by the
 * system's own rules.  The link to what we hold is checked when applying. */
static void
verify_remote (Job *job)
{
  StoreSystem *sys = job->sys;
  g_autoptr(CbLogEntry) first = NULL;
  g_autoptr(GError) local_error = NULL;
  char writer_hex[17];
  guint n = job->entries->len;

  cb_hex_encode_into (job->writer, 8, writer_hex);
  first = cb_log_entry_decode (g_bytes_get_data (job->entries->pdata[0], NULL),
                               g_bytes_get_size (job->entries->pdata[0]), &job->error);
  if (first == NULL)
    return;
  memcpy (job->first_prev, first->prev, 32);
  if (!cb_log_verify_batch (sys->name, job->writer, job->first_seq, first->prev,
                            (GBytes * const *) job->entries->pdata, n, job->sig, &job->decoded,
                            job->last_hash, &job->error))
    return;
  for (guint i = 0; i < n; i++)
    {
      CbLogEntry *entry = job->decoded[i];
      guint n_ops = 0;

      if (!cb_changeset_validate (sys->schema, g_bytes_get_data (entry->payload, NULL),
                                  g_bytes_get_size (entry->payload), &n_ops, &local_error))
        {
          g_set_error (&job->error, CB_STORE_ERROR, CB_STORE_ERROR_INVALID,
                       "entry %" G_GUINT64_FORMAT " of writer %s: %s", entry->seq, writer_hex,
                       local_error->message);
          return;
        }
      if (sys->validator != NULL
          && !sys->validator (sys->name, job->writer, entry->payload, sys->validator_data,
                              &local_error))
        {
          g_set_error (&job->error, CB_STORE_ERROR, CB_STORE_ERROR_INVALID,
                       "entry %" G_GUINT64_FORMAT " of writer %s is refused by %s: %s",
                       entry->seq, writer_hex, sys->name, local_error->message);
          return;
        }
    }
}

/* Another writer's verified run: linked to what we hold, then stored. */
static gboolean
run_remote (CbStore     *self,
            StoreSystem *sys,
            GHashTable  *txn_staged,
            Job         *job,
            GError     **error)
{
  g_autoptr(GBytes) writer = id_bytes (job->writer);
  Head *head = head_lookup (sys, txn_staged, job, writer, error);
  guint8 prev[32] = { 0 };
  g_autoptr(GError) local_error = NULL;
  char writer_hex[17];
  gboolean ok = FALSE;
  guint n = job->entries->len;

  if (head == NULL)
    return FALSE;
  cb_hex_encode_into (job->writer, 8, writer_hex);
  if (job->first_seq > head->seq + 1)
    {
      g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_GAP,
                   "entries %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT " of writer %s are "
                   "missing before this run (we have up to %" G_GUINT64_FORMAT ")",
                   head->seq + 1, job->first_seq - 1, writer_hex, head->seq);
      return FALSE;
    }
  if (job->first_seq + n - 1 <= head->seq)
    return TRUE;  /* nothing new: a duplicate */

  /* The hash the run's first entry must name as its predecessor. */
  if (job->first_seq > 1)
    {
      if (job->first_seq - 1 == head->seq)
        memcpy (prev, head->hash, 32);
      else
        {
          sqlite3_stmt *stmt = NULL;

          if (sqlite3_prepare_v2 (sys->wdb, "SELECT hash FROM _cb_log WHERE writer = ? AND seq = ?",
                                  -1, &stmt, NULL) != SQLITE_OK)
            return db_fail (error, sys->wdb, "reading a log entry");
          sqlite3_bind_blob (stmt, 1, job->writer, 32, SQLITE_STATIC);
          sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) (job->first_seq - 1));
          if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_bytes (stmt, 0) == 32)
            memcpy (prev, sqlite3_column_blob (stmt, 0), 32);
          sqlite3_finalize (stmt);
        }
    }
  if (memcmp (prev, job->first_prev, 32) != 0)
    {
      g_set_error (error, CB_LOG_ERROR, CB_LOG_ERROR_BROKEN_CHAIN,
                   "entry %" G_GUINT64_FORMAT " of writer %s: its prev is not the hash of "
                   "entry %" G_GUINT64_FORMAT " as we hold it (a broken or forked chain)",
                   job->first_seq, writer_hex, job->first_seq - 1);
      return FALSE;
    }

  for (guint i = 0; i < n; i++)
    {
      CbLogEntry *entry = job->decoded[i];
      GBytes *encoded = g_ptr_array_index (job->entries, i);
      guint8 hash[32];
      CbStamp stamp;
      guint applied = 0, superseded = 0;

      cb_log_entry_hash (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), hash);
      if (entry->seq <= head->seq)
        {
          /* Already ours: it must be the very same entry. */
          if (entry->seq == head->seq && memcmp (hash, head->hash, 32) != 0)
            {
              g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_FORK,
                           "writer %s signed two different entries %" G_GUINT64_FORMAT
                           " (a forked log); refusing the second", writer_hex, entry->seq);
              goto out;
            }
          continue;
        }
      g_mutex_lock (&self->clock_lock);
      ok = cb_hlc_observe (&self->clock, entry->hlc, wall_ms (), MAX_CLOCK_DRIFT_MS, &local_error);
      g_mutex_unlock (&self->clock_lock);
      if (!ok)
        {
          g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_CLOCK,
                       "entry %" G_GUINT64_FORMAT " of writer %s: %s", entry->seq, writer_hex,
                       local_error->message);
          goto out;
        }
      ok = FALSE;
      stamp.hlc = entry->hlc;
      memcpy (stamp.writer, job->writer, 32);
      if (!cb_materializer_apply (sys->mat, g_bytes_get_data (entry->payload, NULL),
                                  g_bytes_get_size (entry->payload), &stamp, &applied,
                                  &superseded, error))
        goto out;
      if (!insert_entry (sys, job->writer, entry->seq, entry->hlc, hash,
                         i == n - 1 ? job->sig : NULL, encoded, error))
        goto out;
      job->n_new++;
      job->rows += applied;
      job->max_hlc = MAX (job->max_hlc, entry->hlc);
    }
  stage_head (job, writer, job->first_seq + n - 1, job->last_hash);
  ok = TRUE;

out:
  return ok;
}

static gboolean complete_job (gpointer data);

static void
merge_staged (GHashTable *into, GHashTable *from)
{
  GHashTableIter iter;
  gpointer key, value;

  if (from == NULL)
    return;
  g_hash_table_iter_init (&iter, from);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Head *copy = g_memdup2 (value, sizeof (Head));
      g_hash_table_replace (into, g_bytes_ref (key), copy);
    }
}

/* Runs a group of jobs for one system in one transaction, each in its
 * own savepoint so one bad batch does not undo its neighbours. */
static void
run_group (CbStore     *self,
           StoreSystem *sys,
           GPtrArray   *jobs)
{
  g_autoptr(GHashTable) txn_staged = g_hash_table_new_full (id_hash, g_bytes_equal,
                                                             (GDestroyNotify) g_bytes_unref,
                                                             g_free);
  g_autoptr(GError) error = NULL;
  gboolean any_local = FALSE;

  /* Our own writes are acknowledged once committed: their commit waits for
   * the disk (FULL).  A group of other writers' entries only, which their
   * writers still hold, commits without the sync (NORMAL, still atomic):
   * a power cut may lose the last of them, and replication fetches them
   * again, since our vector then says we lack them. */
  for (guint i = 0; i < jobs->len; i++)
    any_local |= ((Job *) jobs->pdata[i])->kind == JOB_LOCAL;
  if (any_local != sys->sync_full)
    {
      exec (sys->wdb, any_local ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
            NULL);
      sys->sync_full = any_local;
    }
  if (!exec (sys->wdb, "BEGIN IMMEDIATE", &error))
    {
      for (guint i = 0; i < jobs->len; i++)
        ((Job *) jobs->pdata[i])->error = g_error_copy (error);
      return;
    }
  for (guint i = 0; i < jobs->len; i++)
    {
      Job *job = jobs->pdata[i];
      gboolean ok;

      if (job->error != NULL)
        continue;  /* the verifier refused it */
      exec (sys->wdb, "SAVEPOINT job", NULL);
      ok = job->kind == JOB_LOCAL ? run_local (self, sys, txn_staged, job, &job->error)
                                  : run_remote (self, sys, txn_staged, job, &job->error);
      if (ok)
        {
          exec (sys->wdb, "RELEASE job", NULL);
          merge_staged (txn_staged, job->staged);
        }
      else
        {
          exec (sys->wdb, "ROLLBACK TO job", NULL);
          exec (sys->wdb, "RELEASE job", NULL);
          job->n_new = 0;
          job->rows = 0;
        }
    }
  if (!exec (sys->wdb, "COMMIT", &error))
    {
      exec (sys->wdb, "ROLLBACK", NULL);
      for (guint i = 0; i < jobs->len; i++)
        {
          Job *job = jobs->pdata[i];
          g_clear_error (&job->error);
          job->error = g_error_copy (error);
        }
      return;
    }
  merge_staged (sys->heads, txn_staged);
}

/* Checkpoints run on their own thread and connection, so the writer never
 * waits for the WAL to be copied back (in WAL mode a PASSIVE checkpoint
 * and a writer go on side by side); SQLite's own autocheckpoint would do
 * it inside the writer's commit. */
static gpointer
checkpointer_thread (gpointer data)
{
  CbStore *self = data;

  for (;;)
    {
      gpointer item = g_async_queue_pop (self->checkpoints);
      StoreSystem *sys = item;
      int n_log = 0, n_done = 0, rc;

      if (item == (gpointer) self)
        break;
      rc = sqlite3_wal_checkpoint_v2 (sys->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, &n_log, &n_done);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        g_warning ("checkpointing %s: %s", sys->path, sqlite3_errmsg (sys->cdb));
      g_atomic_int_set (&sys->checkpoint_pending, 0);
    }
  return NULL;
}

/* After every commit, on the writer thread: hand a long WAL over. */
static int
on_wal_commit (void *data, sqlite3 *db, const char *schema, int frames)
{
  StoreSystem *sys = data;

  if (frames >= CHECKPOINT_FRAMES && sys->store_checkpoints != NULL
      && g_atomic_int_compare_and_exchange (&sys->checkpoint_pending, 0, 1))
    g_async_queue_push (sys->store_checkpoints, sys);
  return SQLITE_OK;
}

/* Other writers' runs are checked here, in arrival order, while the writer
 * thread applies the ones before them; syncs pass through so they stay
 * behind every run queued before them. */
static gpointer
verifier_thread (gpointer data)
{
  CbStore *self = data;

  for (;;)
    {
      Job *job = g_async_queue_pop (self->verify_queue);

      if (job->kind == JOB_REMOTE)
        verify_remote (job);
      g_async_queue_push (self->queue, job);
      if (job->kind == JOB_STOP)
        break;
    }
  return NULL;
}

static gpointer
writer_thread (gpointer data)
{
  CbStore *self = data;
  gboolean stop = FALSE;

  while (!stop)
    {
      g_autoptr(GPtrArray) group = g_ptr_array_new ();
      Job *job = g_async_queue_pop (self->queue);
      Job *next;

      if (job->kind == JOB_STOP)
        {
          g_main_context_invoke (self->context, complete_job, job);
          break;
        }
      if (job->kind == JOB_SYNC)
        {
          /* Completions are invoked in order: everything before is done. */
          g_main_context_invoke (self->context, complete_job, job);
          continue;
        }
      g_ptr_array_add (group, job);
      /* Group commit: whatever else is queued for the same system. */
      while (group->len < MAX_JOBS_PER_COMMIT
             && (next = g_async_queue_try_pop (self->queue)) != NULL)
        {
          if (next->kind == JOB_STOP || next->kind == JOB_SYNC || next->sys != job->sys)
            {
              g_async_queue_push_front (self->queue, next);
              break;
            }
          g_ptr_array_add (group, next);
        }
      run_group (self, job->sys, group);
      for (guint i = 0; i < group->len; i++)
        g_main_context_invoke (self->context, complete_job, group->pdata[i]);
    }
  return NULL;
}

/* Back on the caller's thread: publish the new heads, then answer. */
static gboolean
complete_job (gpointer data)
{
  Job *job = data;
  GTask *task = job->task;
  StoreSystem *sys = job->sys;

  if ((job->kind == JOB_LOCAL || job->kind == JOB_REMOTE) && job->error == NULL
      && job->staged != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, job->staged);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          guint64 *seq = g_hash_table_lookup (sys->vector, key);
          if (seq == NULL)
            {
              seq = g_new0 (guint64, 1);
              g_hash_table_insert (sys->vector, g_bytes_ref (key), seq);
              sys->stats.writers++;
            }
          *seq = MAX (*seq, ((Head *) value)->seq);
        }
      sys->stats.entries += job->n_new;
      sys->stats.rows_applied += job->rows;
      sys->stats.newest_hlc = MAX (sys->stats.newest_hlc, job->max_hlc);
    }
  if (job->kind == JOB_REMOTE && job->error != NULL
      && !g_error_matches (job->error, CB_STORE_ERROR, CB_STORE_ERROR_GAP)
      && !g_error_matches (job->error, CB_STORE_ERROR, CB_STORE_ERROR_DATABASE))
    sys->stats.rejected++;

  if (task != NULL)
    {
      if (job->error != NULL)
        g_task_return_error (task, g_steal_pointer (&job->error));
      else
        g_task_return_boolean (task, TRUE);
      /* The task keeps the job for _finish. */
      g_object_unref (task);
    }
  else
    job_free (job);
  if (sys != NULL && --sys->pending == 0 && sys->closing)
    system_release (sys);
  return G_SOURCE_REMOVE;
}

static StoreSystem *
lookup_system (CbStore     *self,
               const char  *system,
               GError     **error)
{
  StoreSystem *sys = g_hash_table_lookup (self->systems, system);

  if (sys == NULL)
    g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_UNKNOWN_SYSTEM,
                 "this node does not host the system \"%s\"", system);
  return sys;
}

static void
queue_job (CbStore             *self,
           Job                 *job,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data,
           gpointer             source_tag)
{
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, source_tag);
  g_task_set_task_data (job->task, job, (GDestroyNotify) job_free);
  g_object_ref (job->task);  /* dropped by complete_job */
  if (job->sys != NULL)
    job->sys->pending++;
  g_async_queue_push (job->kind == JOB_LOCAL ? self->queue : self->verify_queue, job);
}

void
cb_store_write_async (CbStore             *self,
                      const char          *system,
                      GBytes              *changeset,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GError) error = NULL;
  StoreSystem *sys = lookup_system (self, system, &error);
  Job *job;

  if (sys == NULL)
    {
      g_task_report_error (self, callback, user_data, cb_store_write_async,
                           g_steal_pointer (&error));
      return;
    }
  job = g_new0 (Job, 1);
  job->kind = JOB_LOCAL;
  job->sys = sys;
  job->changeset = g_bytes_ref (changeset);
  queue_job (self, job, cancellable, callback, user_data, cb_store_write_async);
}

gboolean
cb_store_write_finish (CbStore       *self,
                       GAsyncResult  *result,
                       guint64       *seq,
                       guint64       *hlc,
                       GError       **error)
{
  Job *job;

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  job = g_task_get_task_data (G_TASK (result));
  if (seq != NULL)
    *seq = job->seq;
  if (hlc != NULL)
    *hlc = job->hlc;
  return TRUE;
}

void
cb_store_sync_async (CbStore             *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  Job *job = g_new0 (Job, 1);

  job->kind = JOB_SYNC;
  queue_job (self, job, cancellable, callback, user_data, cb_store_sync_async);
}

gboolean
cb_store_sync_finish (CbStore       *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
cb_store_receive_async (CbStore             *self,
                        const char          *system,
                        const guint8         writer[32],
                        guint64              first_seq,
                        const guint8         sig[64],
                        GPtrArray           *entries,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GError) error = NULL;
  StoreSystem *sys = lookup_system (self, system, &error);
  Job *job;

  if (sys == NULL || entries->len == 0)
    {
      if (error == NULL)
        g_set_error (&error, CB_STORE_ERROR, CB_STORE_ERROR_INVALID, "an empty run of entries");
      g_task_report_error (self, callback, user_data, cb_store_receive_async,
                           g_steal_pointer (&error));
      return;
    }
  job = g_new0 (Job, 1);
  job->kind = JOB_REMOTE;
  job->sys = sys;
  memcpy (job->writer, writer, 32);
  job->first_seq = first_seq;
  memcpy (job->sig, sig, 64);
  job->entries = g_ptr_array_ref (entries);
  queue_job (self, job, cancellable, callback, user_data, cb_store_receive_async);
}

gboolean
cb_store_receive_finish (CbStore       *self,
                         GAsyncResult  *result,
                         guint         *n_new,
                         GError       **error)
{
  Job *job;

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  job = g_task_get_task_data (G_TASK (result));
  if (n_new != NULL)
    *n_new = job->n_new;
  return TRUE;
}

/* ---- hosting ---- */

static char *
file_name_for (const char *system)
{
  /* Readable and collision-free: the name's safe characters, then a hash. */
  GString *name = g_string_new (NULL);
  guint8 hash[8];
  char hex[17];

  for (const char *p = system; *p && name->len < 64; p++)
    g_string_append_c (name, g_ascii_isalnum (*p) || *p == '.' || *p == '-' ? *p : '_');
  crypto_generichash (hash, sizeof hash, (const guint8 *) system, strlen (system), NULL, 0);
  cb_hex_encode_into (hash, sizeof hash, hex);
  g_string_append_printf (name, "-%s.db", hex);
  return g_string_free (name, FALSE);
}

static gboolean
open_db (const char *path, gboolean readonly, sqlite3 **out, GError **error)
{
  sqlite3 *db = NULL;
  int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

  /* Each connection is used by one thread at a time (the writer thread,
   * or the caller's): SQLite's own mutexes would only cost time. */
  if (sqlite3_open_v2 (path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    {
      g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_DATABASE, "cannot open %s: %s", path,
                   db ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_busy_timeout (db, 5000);
  *out = db;
  return TRUE;
}

static gboolean
load_vector (StoreSystem *sys, guint64 *max_hlc, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (sys->rdb, "SELECT writer, MAX(seq), COUNT(*), MAX(hlc) FROM _cb_log "
                                    "GROUP BY writer", -1, &stmt, NULL) != SQLITE_OK)
    return db_fail (error, sys->rdb, sys->path);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      guint64 *seq;

      if (sqlite3_column_bytes (stmt, 0) != 32)
        continue;
      seq = g_new (guint64, 1);
      *seq = (guint64) sqlite3_column_int64 (stmt, 1);
      g_hash_table_insert (sys->vector, g_bytes_new (sqlite3_column_blob (stmt, 0), 32), seq);
      sys->stats.entries += (guint64) sqlite3_column_int64 (stmt, 2);
      sys->stats.writers++;
      *max_hlc = MAX (*max_hlc, (guint64) sqlite3_column_int64 (stmt, 3));
    }
  sqlite3_finalize (stmt);
  return TRUE;
}

gboolean
cb_store_host (CbStore           *self,
               CbSchema          *schema,
               CbStoreValidator   validator,
               gpointer           validator_data,
               GError           **error)
{
  const char *name = cb_schema_get_system (schema);
  g_autofree char *file = NULL;
  StoreSystem *sys;
  guint64 max_hlc = 0;

  if (g_hash_table_contains (self->systems, name))
    return TRUE;
  file = file_name_for (name);
  sys = g_new0 (StoreSystem, 1);
  sys->name = g_strdup (name);
  sys->path = g_build_filename (self->dir, file, NULL);
  sys->schema = cb_schema_ref (schema);
  sys->validator = validator;
  sys->validator_data = validator_data;
  sys->heads = g_hash_table_new_full (id_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, g_free);
  sys->vector = g_hash_table_new_full (id_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, g_free);

  if (!open_db (sys->path, FALSE, &sys->wdb, error)
      /* WAL: readers never block the writer; FULL: a commit is on disk
       * before a write is acknowledged; the WAL shrinks back to 8 MiB after
       * a checkpoint instead of keeping its largest size; 32 MiB of page
       * cache keeps a bulk of rows and their stamps from spilling to the
       * WAL mid-transaction (about 2x faster for 100,000 rows). */
      || !exec (sys->wdb, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                          "PRAGMA journal_size_limit = 8388608; PRAGMA cache_size = -32768;",
                error)
      || !open_db (sys->path, FALSE, &sys->cdb, error)
      || !migrate (sys->wdb, sys->path, error)
      || !cb_schema_install (schema, sys->wdb, error)
      || (sys->mat = cb_materializer_new (schema, sys->wdb, error)) == NULL
      || !open_db (sys->path, TRUE, &sys->rdb, error)
      || !load_vector (sys, &max_hlc, error))
    {
      system_free (sys);
      return FALSE;
    }
  sys->sync_full = TRUE;
  /* Our checkpointer replaces SQLite's automatic one (cb-store.c's
   * checkpointer_thread). */
  sys->store_checkpoints = self->checkpoints;
  sqlite3_wal_hook (sys->wdb, on_wal_commit, sys);
  if (sqlite3_prepare_v3 (sys->wdb, "INSERT INTO _cb_log (writer, seq, hlc, hash, sig, entry) "
                                    "VALUES (?, ?, ?, ?, ?, ?)", -1, SQLITE_PREPARE_PERSISTENT,
                          &sys->insert_log, NULL) != SQLITE_OK)
    {
      db_fail (error, sys->wdb, sys->path);
      system_free (sys);
      return FALSE;
    }
  sys->stats.newest_hlc = max_hlc;
  /* Our clock never runs behind anything already in the logs. */
  g_mutex_lock (&self->clock_lock);
  self->clock.last = MAX (self->clock.last, max_hlc);
  g_mutex_unlock (&self->clock_lock);
  g_hash_table_insert (self->systems, sys->name, sys);
  g_debug ("hosting %s in %s (%" G_GUINT64_FORMAT " entries)", name, sys->path, sys->stats.entries);
  return TRUE;
}

void
cb_store_unhost (CbStore    *self,
                 const char *system)
{
  StoreSystem *sys = g_hash_table_lookup (self->systems, system);

  if (sys == NULL)
    return;
  /* No new jobs find it; the queued ones complete, then it closes. */
  g_hash_table_steal (self->systems, system);
  sys->closing = TRUE;
  if (sys->pending == 0)
    system_release (sys);
  g_debug ("no longer hosting %s", system);
}

char *
cb_store_system_path (const char *data_dir,
                      const char *system)
{
  g_autofree char *file = file_name_for (system);

  return g_build_filename (data_dir, "store", file, NULL);
}

gboolean
cb_store_hosts (CbStore *self, const char *system)
{
  return g_hash_table_contains (self->systems, system);
}

GStrv
cb_store_list_systems (CbStore *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GList) names = g_hash_table_get_keys (self->systems);

  names = g_list_sort (names, (GCompareFunc) strcmp);
  for (GList *l = names; l; l = l->next)
    g_strv_builder_add (builder, l->data);
  return g_strv_builder_end (builder);
}

CbSchema *
cb_store_get_schema (CbStore *self, const char *system)
{
  StoreSystem *sys = g_hash_table_lookup (self->systems, system);

  return sys != NULL ? sys->schema : NULL;
}

/* ---- reads ---- */

GHashTable *
cb_store_get_vector (CbStore *self, const char *system)
{
  StoreSystem *sys = g_hash_table_lookup (self->systems, system);

  return sys != NULL ? sys->vector : NULL;
}

guint64
cb_store_get_seq (CbStore *self, const char *system, const guint8 writer[32])
{
  StoreSystem *sys = g_hash_table_lookup (self->systems, system);
  g_autoptr(GBytes) key = id_bytes (writer);
  guint64 *seq = sys != NULL ? g_hash_table_lookup (sys->vector, key) : NULL;

  return seq != NULL ? *seq : 0;
}

gboolean
cb_store_read_run (CbStore      *self,
                   const char   *system,
                   const guint8  writer[32],
                   guint64       from_seq,
                   gsize         max_bytes,
                   GPtrArray   **entries_out,
                   guint8        sig_out[64],
                   GError      **error)
{
  StoreSystem *sys = lookup_system (self, system, error);
  g_autoptr(GPtrArray) entries = NULL;
  sqlite3_stmt *stmt = NULL;
  guint signed_len = 0;
  gsize bytes = 0;
  int rc;

  if (sys == NULL)
    return FALSE;
  if (sqlite3_prepare_v3 (sys->rdb, "SELECT entry, sig FROM _cb_log WHERE writer = ? AND seq >= ? "
                                    "ORDER BY seq", -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                          NULL) != SQLITE_OK)
    return db_fail (error, sys->rdb, sys->path);
  sqlite3_bind_blob (stmt, 1, writer, 32, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) from_seq);
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  /* Any signed entry can end a run: the chain authenticates everything
   * before it.  Stop at the last signed one once the run is big enough. */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int len = sqlite3_column_bytes (stmt, 0);

      g_ptr_array_add (entries, g_bytes_new (sqlite3_column_blob (stmt, 0), (gsize) len));
      bytes += (gsize) len + 8;
      if (sqlite3_column_bytes (stmt, 1) == 64)
        {
          memcpy (sig_out, sqlite3_column_blob (stmt, 1), 64);
          signed_len = entries->len;
          if (bytes >= max_bytes)
            break;
        }
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail (error, sys->rdb, sys->path);
  if (signed_len == 0)
    return FALSE;
  g_ptr_array_set_size (entries, signed_len);
  *entries_out = g_steal_pointer (&entries);
  return TRUE;
}

/* The tables as of a clock reading: replay every entry up to it into a
 * private in-memory copy.  The LWW rule makes the order irrelevant. */
static sqlite3 *
replay_as_of (StoreSystem *sys, guint64 as_of_hlc, GError **error)
{
  sqlite3 *mem = NULL;
  sqlite3_stmt *stmt = NULL;
  CbMaterializer *mat = NULL;
  gboolean ok = TRUE;

  if (!open_db (":memory:", FALSE, &mem, error))
    return NULL;
  if (!cb_schema_install (sys->schema, mem, error)
      || (mat = cb_materializer_new (sys->schema, mem, error)) == NULL
      || !exec (mem, "BEGIN", error))
    {
      sqlite3_close (mem);
      return NULL;
    }
  if (sqlite3_prepare_v2 (sys->rdb, "SELECT entry FROM _cb_log WHERE hlc <= ?", -1, &stmt,
                          NULL) != SQLITE_OK)
    ok = db_fail (error, sys->rdb, sys->path);
  else
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) as_of_hlc);
  while (ok && sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(CbLogEntry) entry = cb_log_entry_decode (sqlite3_column_blob (stmt, 0),
                                                         (gsize) sqlite3_column_bytes (stmt, 0),
                                                         error);
      CbStamp stamp;

      if (entry == NULL)
        {
          ok = FALSE;
          break;
        }
      stamp.hlc = entry->hlc;
      memcpy (stamp.writer, entry->writer, 32);
      ok = cb_materializer_apply (mat, g_bytes_get_data (entry->payload, NULL),
                                  g_bytes_get_size (entry->payload), &stamp, NULL, NULL, error);
    }
  sqlite3_finalize (stmt);
  cb_materializer_free (mat);
  if (!ok || !exec (mem, "COMMIT", error))
    {
      sqlite3_close (mem);
      return NULL;
    }
  return mem;
}

JsonNode *
cb_store_query (CbStore     *self,
                const char  *system,
                const char  *sql,
                guint64      as_of_hlc,
                guint        max_rows,
                GError     **error)
{
  StoreSystem *sys = lookup_system (self, system, error);
  sqlite3 *db;
  sqlite3 *mem = NULL;
  sqlite3_stmt *stmt;
  JsonNode *result;

  if (sys == NULL)
    return NULL;
  db = sys->rdb;
  if (as_of_hlc > 0)
    {
      mem = replay_as_of (sys, as_of_hlc, error);
      if (mem == NULL)
        return NULL;
      db = mem;
    }
  stmt = cb_query_prepare_select (db, sql, error);
  result = stmt != NULL ? cb_query_run (stmt, max_rows, error) : NULL;
  if (stmt != NULL)
    sqlite3_finalize (stmt);
  if (mem != NULL)
    sqlite3_close (mem);
  return result;
}

gboolean
cb_store_check_query (CbStore     *self,
                      const char  *system,
                      const char  *sql,
                      GError     **error)
{
  StoreSystem *sys = lookup_system (self, system, error);
  sqlite3_stmt *stmt;

  if (sys == NULL || (stmt = cb_query_prepare_select (sys->rdb, sql, error)) == NULL)
    return FALSE;
  sqlite3_finalize (stmt);
  return TRUE;
}

char *
cb_store_digest (CbStore     *self,
                 const char  *system,
                 GError     **error)
{
  StoreSystem *sys = lookup_system (self, system, error);

  return sys != NULL ? cb_schema_digest (sys->schema, sys->rdb, error) : NULL;
}

void
cb_store_get_stats (CbStore      *self,
                    const char   *system,
                    CbStoreStats *stats)
{
  StoreSystem *sys = g_hash_table_lookup (self->systems, system);

  memset (stats, 0, sizeof *stats);
  if (sys != NULL)
    *stats = sys->stats;
}

/* ---- lifecycle ---- */

void
cb_store_close (CbStore *self)
{
  if (self->thread != NULL)
    {
      Job *stop = g_new0 (Job, 1);

      /* Through the verifier, which hands it on to the writer. */
      stop->kind = JOB_STOP;
      g_async_queue_push (self->verify_queue, stop);
      g_thread_join (self->verifier);
      self->verifier = NULL;
      g_thread_join (self->thread);
      self->thread = NULL;
      /* Complete what the thread handed back. */
      while (g_main_context_iteration (self->context, FALSE))
        ;
    }
  if (self->checkpointer != NULL)
    {
      g_async_queue_push (self->checkpoints, self);
      g_thread_join (self->checkpointer);
      self->checkpointer = NULL;
    }
  g_hash_table_remove_all (self->systems);
}

static void
cb_store_dispose (GObject *object)
{
  CbStore *self = CB_STORE (object);

  cb_store_close (self);
  G_OBJECT_CLASS (cb_store_parent_class)->dispose (object);
}

static void
cb_store_finalize (GObject *object)
{
  CbStore *self = CB_STORE (object);

  g_hash_table_unref (self->systems);
  g_async_queue_unref (self->queue);
  g_async_queue_unref (self->verify_queue);
  g_async_queue_unref (self->checkpoints);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->clock_lock);
  sodium_memzero (self->secret, sizeof self->secret);
  g_free (self->dir);
  G_OBJECT_CLASS (cb_store_parent_class)->finalize (object);
}

static void
cb_store_class_init (CbStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_store_dispose;
  object_class->finalize = cb_store_finalize;
}

static void
cb_store_init (CbStore *self)
{
  self->systems = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) system_free);
  self->queue = g_async_queue_new ();
  g_mutex_init (&self->clock_lock);
}

CbStore *
cb_store_new (const char    *data_dir,
              const guint8   identity_secret[64],
              GError       **error)
{
  g_autoptr(CbStore) self = g_object_new (CB_TYPE_STORE, NULL);

  self->dir = g_build_filename (data_dir, "store", NULL);
  if (g_mkdir_with_parents (self->dir, 0700) != 0)
    {
      g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_DATABASE, "cannot create %s: %s",
                   self->dir, g_strerror (errno));
      return NULL;
    }
  memcpy (self->secret, identity_secret, 64);
  crypto_sign_ed25519_sk_to_pk (self->self_id, self->secret);
  self->context = g_main_context_ref_thread_default ();
  self->checkpoints = g_async_queue_new ();
  self->verify_queue = g_async_queue_new ();
  self->thread = g_thread_new ("cb-store-writer", writer_thread, self);
  self->verifier = g_thread_new ("cb-store-verify", verifier_thread, self);
  self->checkpointer = g_thread_new ("cb-store-ckpt", checkpointer_thread, self);
  return g_steal_pointer (&self);
}
