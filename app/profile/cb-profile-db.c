/* cb-profile-db.c: a sqlite connection that lives on its own thread */
#define G_LOG_DOMAIN "cb-profile"

#include "cb-profile-db.h"
#include "cb-aside-path.h"

#include <errno.h>
#include <glib/gstdio.h>

/* A burst longer than this commits and starts a new transaction, so one
 * long burst cannot hold readers of other connections off for long. */
#define MAX_BATCH 512

G_DEFINE_QUARK (cb-profile-error-quark, cb_profile_error)

typedef struct {
  GTask *task;                 /* NULL: the worker should stop */
  gboolean write;
  CbProfileDbJob func;
  gpointer data;
  GDestroyNotify data_free;
  GDestroyNotify result_free;
  gpointer result;
  GError *error;
} Job;

/* The worker thread's own state: it outlives the object if the last
 * reference goes while jobs are still queued, and is freed by the thread. */
typedef struct {
  char *path;                  /* NULL: in memory */
  const CbProfileDbSchema *schema;
  GMainContext *owner_context; /* where "reset" is emitted */
  GWeakRef owner;              /* the CbProfileDb */
  GAsyncQueue *queue;          /* Job* */
  sqlite3 *db;
  guint generation;            /* bumped on every successful open */
  GError *open_error;          /* a permanent reason not to open (too new) */
  GHashTable *statements;      /* SQL literal -> sqlite3_stmt, for db */
} Worker;

struct _CbProfileDb {
  GObject parent_instance;
  char *path;
  GAsyncQueue *queue;
  GThread *thread;
};

/* Statements first: a connection with live statements does not close. */
static void
close_connection (Worker *worker)
{
  if (worker->statements != NULL)
    g_hash_table_remove_all (worker->statements);
  g_clear_pointer (&worker->db, sqlite3_close);
}

static void
worker_free (Worker *worker)
{
  g_clear_pointer (&worker->statements, g_hash_table_unref);
  g_free (worker->path);
  g_main_context_unref (worker->owner_context);
  g_weak_ref_clear (&worker->owner);
  g_async_queue_unref (worker->queue);
  g_clear_error (&worker->open_error);
  g_free (worker);
}

G_DEFINE_FINAL_TYPE (CbProfileDb, cb_profile_db, G_TYPE_OBJECT)

/* The worker state of the current thread. */
static GPrivate worker_db;

enum { SIGNAL_RESET, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
job_free (Job *job)
{
  if (job->result != NULL && job->result_free != NULL)
    job->result_free (job->result);
  if (job->data != NULL && job->data_free != NULL)
    job->data_free (job->data);
  g_clear_error (&job->error);
  g_clear_object (&job->task);
  g_free (job);
}

static gboolean
is_corruption (int code)
{
  code &= 0xff;
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

void
cb_profile_db_set_error (GError     **error,
                         sqlite3     *db,
                         const char  *what)
{
  int code = sqlite3_extended_errcode (db);

  g_set_error (error, CB_PROFILE_ERROR,
               is_corruption (code) ? CB_PROFILE_ERROR_CORRUPT : CB_PROFILE_ERROR_DATABASE,
               "%s: %s", what, sqlite3_errmsg (db));
}

gboolean
cb_profile_db_exec (sqlite3     *db,
                    const char  *sql,
                    GError     **error)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;
  g_set_error (error, CB_PROFILE_ERROR,
               is_corruption (sqlite3_extended_errcode (db)) ? CB_PROFILE_ERROR_CORRUPT
                                                             : CB_PROFILE_ERROR_DATABASE,
               "%s", message ? message : sqlite3_errmsg (db));
  sqlite3_free (message);
  return FALSE;
}

/* --- opening, migrating, setting a damaged file aside --- */

static int
user_version (sqlite3    *db,
              const char *schema_name,
              GError    **error)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA %s.user_version", schema_name);
  sqlite3_stmt *stmt = NULL;
  int version = -1;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    cb_profile_db_set_error (error, db, "cannot read the schema version");
  else
    version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return version;
}

/* Quick structural check; catches a garbage file (NOTADB) and damaged
 * pages before the first query trips over them. */
static gboolean
check_integrity (sqlite3  *db,
                 GError  **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  if (sqlite3_prepare_v2 (db, "PRAGMA quick_check(1)", -1, &stmt, NULL) != SQLITE_OK)
    cb_profile_db_set_error (error, db, "cannot check the database");
  else if (sqlite3_step (stmt) != SQLITE_ROW)
    cb_profile_db_set_error (error, db, "cannot check the database");
  else if (g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "ok") != 0)
    g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_CORRUPT, "%s",
                 (const char *) sqlite3_column_text (stmt, 0));
  else
    ok = TRUE;
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
check_not_too_new (Worker  *self,
                   GError **error)
{
  int version = user_version (self->db, "main", error);

  if (version < 0)
    return FALSE;
  if ((guint) version > self->schema->n_migrations)
    {
      g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_TOO_NEW,
                   "%s was written by a newer version of Cloud Bevy (schema %d, this "
                   "version knows %u); it was left as it is",
                   self->path, version, self->schema->n_migrations);
      return FALSE;
    }
  return TRUE;
}

/* Inside one immediate transaction, reading the version again there: a
 * second connection opening the same new file at the same moment waits,
 * then finds it already migrated. */
static gboolean
migrate (Worker  *self,
         GError **error)
{
  int version;

  if (!cb_profile_db_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  version = user_version (self->db, "main", error);
  if (version < 0)
    goto fail;
  for (guint v = (guint) version; v < self->schema->n_migrations; v++)
    {
      g_autofree char *sql = g_strdup_printf ("%s; PRAGMA user_version = %u",
                                              self->schema->migrations[v], v + 1);
      if (!cb_profile_db_exec (self->db, sql, error))
        {
          g_prefix_error (error, "cannot upgrade %s to schema %u: ",
                          self->path ? self->path : "the database", v + 1);
          goto fail;
        }
    }
  if (!cb_profile_db_exec (self->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

static gboolean
open_connection (Worker  *self,
                 GError      **error)
{
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
              SQLITE_OPEN_NOMUTEX;
  const char *target = self->path ? self->path : ":memory:";

  if (sqlite3_open_v2 (target, &self->db, flags, NULL) != SQLITE_OK)
    {
      g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_DATABASE, "cannot open %s: %s",
                   target, self->db ? sqlite3_errmsg (self->db) : "out of memory");
      close_connection (self);
      return FALSE;
    }
  sqlite3_extended_result_codes (self->db, 1);
  /* Two connections to one file (a test, or a second profile user) wait
   * for each other instead of failing at once. */
  sqlite3_busy_timeout (self->db, 5000);
  if (self->path != NULL && !check_integrity (self->db, error))
    return FALSE;
  /* Before anything writes to the file: a newer version's file stays as
   * it is. */
  if (!check_not_too_new (self, error))
    return FALSE;
  if (self->path != NULL &&
      !cb_profile_db_exec (self->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL",
                           error))
    return FALSE;
  if (!cb_profile_db_exec (self->db, "PRAGMA foreign_keys = ON", error) ||
      !migrate (self, error))
    return FALSE;
  if (self->schema->setup != NULL && !self->schema->setup (self->db, error))
    return FALSE;
  self->generation++;
  return TRUE;
}

static void
free_row (gpointer data)
{
  GPtrArray *row = data;

  g_ptr_array_unref (row);
}

/* Reads the table row by row in rowid order, so a damaged page loses the
 * rows on it, not the table: when a read fails the scan resumes past the
 * last good row, jumping further after each consecutive failure.  The rows
 * are written in a transaction of their own afterwards: sqlite refuses to
 * commit one that read a damaged page. */
static guint
salvage_table (sqlite3    *db,
               const char *table)
{
  g_autofree char *select = g_strdup_printf ("SELECT rowid, * FROM old.\"%s\" WHERE rowid > ? "
                                             "ORDER BY rowid", table);
  g_autoptr(GString) insert = g_string_new (NULL);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (free_row);
  sqlite3_stmt *read = NULL, *write = NULL;
  sqlite3_int64 last = G_MININT64, skip = 1;
  guint copied = 0, failures = 0;
  int columns = 0;

  if (sqlite3_prepare_v2 (db, select, -1, &read, NULL) != SQLITE_OK)
    goto out;
  columns = sqlite3_column_count (read) - 1;
  while (failures < 24)
    {
      int rc;

      sqlite3_reset (read);
      sqlite3_bind_int64 (read, 1, last);
      while ((rc = sqlite3_step (read)) == SQLITE_ROW)
        {
          GPtrArray *row = g_ptr_array_new_with_free_func ((GDestroyNotify) sqlite3_value_free);

          last = sqlite3_column_int64 (read, 0);
          failures = 0;
          skip = 1;
          for (int i = 0; i < columns; i++)
            g_ptr_array_add (row, sqlite3_value_dup (sqlite3_column_value (read, i + 1)));
          g_ptr_array_add (rows, row);
        }
      if (rc == SQLITE_DONE)
        break;
      /* Past the damage: rowids are dense here, so doubling jumps find the
       * next readable page quickly. */
      failures++;
      if (last == G_MININT64)
        last = 0;
      last += skip;
      skip *= 2;
    }
  g_clear_pointer (&read, sqlite3_finalize);

  g_string_printf (insert, "INSERT OR IGNORE INTO main.\"%s\" VALUES (", table);
  for (int i = 0; i < columns; i++)
    g_string_append (insert, i == 0 ? "?" : ", ?");
  g_string_append (insert, ")");
  if (rows->len == 0 || sqlite3_prepare_v2 (db, insert->str, -1, &write, NULL) != SQLITE_OK)
    goto out;
  sqlite3_exec (db, "BEGIN", NULL, NULL, NULL);
  for (guint r = 0; r < rows->len; r++)
    {
      GPtrArray *row = rows->pdata[r];

      for (int i = 0; i < columns; i++)
        sqlite3_bind_value (write, i + 1, row->pdata[i]);
      /* A row whose parent was lost (a visit of a page that was not
       * readable) fails its foreign key and is left out. */
      if (sqlite3_step (write) == SQLITE_DONE && sqlite3_changes (db) > 0)
        copied++;
      sqlite3_reset (write);
    }
  if (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      g_message ("cannot keep the rows salvaged from %s: %s", table, sqlite3_errmsg (db));
      sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      copied = 0;
    }
out:
  sqlite3_finalize (read);
  sqlite3_finalize (write);
  return copied;
}

static guint
salvage (Worker *self,
         const char  *aside)
{
  g_autofree char *uri = g_filename_to_uri (aside, NULL, NULL);
  g_autofree char *attach = NULL;
  g_autoptr(GError) error = NULL;
  guint copied = 0;

  if (uri == NULL || self->schema->salvage_tables == NULL)
    return 0;
  attach = sqlite3_mprintf ("ATTACH DATABASE '%q?mode=ro' AS old", uri);
  if (!cb_profile_db_exec (self->db, attach, &error))
    {
      g_info ("nothing to salvage from %s: %s", aside, error->message);
      sqlite3_free (g_steal_pointer (&attach));
      return 0;
    }
  sqlite3_free (g_steal_pointer (&attach));
  /* Rows of another schema version would not fit the new tables. */
  if (user_version (self->db, "old", NULL) == (int) self->schema->n_migrations)
    {
      for (guint i = 0; self->schema->salvage_tables[i] != NULL; i++)
        copied += salvage_table (self->db, self->schema->salvage_tables[i]);
    }
  sqlite3_exec (self->db, "DETACH DATABASE old", NULL, NULL, NULL);
  return copied;
}

typedef struct {
  GWeakRef owner;
  char *message;
} ResetNotice;

static gboolean
emit_reset (gpointer data)
{
  ResetNotice *notice = data;
  g_autoptr(CbProfileDb) owner = g_weak_ref_get (&notice->owner);

  g_message ("%s", notice->message);
  if (owner != NULL)
    g_signal_emit (owner, signals[SIGNAL_RESET], 0, notice->message);
  g_weak_ref_clear (&notice->owner);
  g_free (notice->message);
  g_free (notice);
  return G_SOURCE_REMOVE;
}

/* Moves the damaged file (and its WAL) aside, starts afresh and carries
 * over what can be read.  Returns FALSE if no fresh database could be made. */
static gboolean
set_aside_and_restart (Worker  *self,
                       const char   *reason,
                       GError      **error)
{
  g_autofree char *aside = cb_aside_path (self->path);
  g_autofree char *basename = g_path_get_basename (self->path);
  const char *suffixes[] = { "", "-wal", "-shm" };
  ResetNotice *notice;
  guint recovered;

  close_connection (self);
  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (self->path, suffixes[i], NULL);
      g_autofree char *to = g_strconcat (aside, suffixes[i], NULL);

      if (g_rename (from, to) != 0 && errno != ENOENT)
        {
          int saved = errno;
          g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_DATABASE,
                       "%s is damaged (%s) and cannot be moved aside: %s",
                       self->path, reason, g_strerror (saved));
          return FALSE;
        }
    }
  if (!open_connection (self, error))
    {
      close_connection (self);
      return FALSE;
    }
  recovered = salvage (self, aside);

  notice = g_new0 (ResetNotice, 1);
  {
    CbProfileDb *owner = g_weak_ref_get (&self->owner);

    g_weak_ref_init (&notice->owner, owner);
    g_clear_object (&owner);
  }
  /* sqlite's own words ("Page 63: btreeInitPage() returns error code
   * 11") go to the log; the person gets what happened and what was kept. */
  g_message ("%s: %s", self->path, reason);
  notice->message = g_strdup_printf (
    "The %s database (%s) was damaged and could not be read. It was kept as %s, and a "
    "new one was started; %u %s carried over from the damaged copy.",
    self->schema->name, basename, aside, recovered,
    recovered == 1 ? "record was" : "records were");
  g_main_context_invoke_full (self->owner_context, G_PRIORITY_DEFAULT, emit_reset, notice, NULL);
  return TRUE;
}

static gboolean
ensure_open (Worker  *self,
             GError      **error)
{
  g_autoptr(GError) local_error = NULL;

  if (self->db != NULL)
    return TRUE;
  if (self->open_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->open_error));
      return FALSE;
    }
  if (open_connection (self, &local_error))
    return TRUE;
  if (g_error_matches (local_error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_CORRUPT))
    return set_aside_and_restart (self, local_error->message, error);

  close_connection (self);
  if (g_error_matches (local_error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_TOO_NEW))
    self->open_error = g_error_copy (local_error);
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/* --- the worker --- */

static void
run_job (Worker *self,
         Job         *job)
{
  if (job->func == NULL)
    return;  /* answered by cancellation */
  g_clear_error (&job->error);
  if (job->result != NULL && job->result_free != NULL)
    job->result_free (job->result);
  job->result = NULL;
  if (g_task_return_error_if_cancelled (job->task))
    {
      /* Already answered; nothing more to return. */
      job->func = NULL;
      return;
    }
  job->result = job->func (self->db, job->data, &job->error);
}

static gboolean
step_cached (Worker     *self,
             const char *sql)
{
  sqlite3_stmt *stmt = cb_profile_db_prepare_cached (self->db, sql, NULL);
  gboolean ok = stmt != NULL && sqlite3_step (stmt) == SQLITE_DONE;

  if (stmt != NULL)
    sqlite3_reset (stmt);
  return ok;
}

static void
run_in_savepoint (Worker *self,
                  Job    *job)
{
  gboolean savepoint = step_cached (self, "SAVEPOINT job");

  run_job (self, job);
  if (!savepoint)
    return;
  if (job->error != NULL)
    step_cached (self, "ROLLBACK TO job");
  step_cached (self, "RELEASE job");
}

/* On the task's own main context: the answer, then the job's reference to
 * the task.  Were that reference dropped on the worker after the callback
 * had run, it could be the last one, and the database object would be
 * finalized on the very thread its finalize stops and joins. */
static gboolean
finish_job (gpointer data)
{
  Job *job = data;

  if (job->func == NULL)
    ;  /* answered by cancellation */
  else if (job->error != NULL)
    g_task_return_error (job->task, g_steal_pointer (&job->error));
  else
    {
      g_task_return_pointer (job->task, job->result, job->result_free);
      job->result = NULL;
    }
  job_free (job);
  return G_SOURCE_REMOVE;
}

static void
complete_job (Job *job)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, finish_job, job, NULL);
  g_source_set_static_name (source, "[cb-profile-db] finish job");
  g_source_attach (source, g_task_get_context (job->task));
}

static gboolean
batch_hit_corruption (GPtrArray *batch)
{
  for (guint i = 0; i < batch->len; i++)
    {
      Job *job = batch->pdata[i];
      if (g_error_matches (job->error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_CORRUPT))
        return TRUE;
    }
  return FALSE;
}

static void
fail_batch (GPtrArray    *batch,
            const GError *error)
{
  for (guint i = 0; i < batch->len; i++)
    {
      Job *job = batch->pdata[i];

      if (job->func == NULL)
        continue;
      g_clear_error (&job->error);
      job->error = g_error_copy (error);
    }
}

/* Runs a batch of writes in one transaction.  Returns FALSE when sqlite
 * reported corruption and nothing was committed. */
static gboolean
run_write_batch (Worker *self,
                 GPtrArray   *batch)
{
  g_autoptr(GError) error = NULL;
  gboolean in_transaction = cb_profile_db_exec (self->db, "BEGIN IMMEDIATE", &error);

  if (!in_transaction && g_error_matches (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_CORRUPT))
    return FALSE;
  g_clear_error (&error);
  for (guint i = 0; i < batch->len; i++)
    run_in_savepoint (self, batch->pdata[i]);
  if (batch_hit_corruption (batch))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  if (in_transaction && !cb_profile_db_exec (self->db, "COMMIT", &error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      if (g_error_matches (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_CORRUPT))
        return FALSE;
      g_prefix_error (&error, "cannot save to %s: ", self->path ? self->path : "memory");
      fail_batch (batch, error);
    }
  return TRUE;
}

static void
fail_batch_take (GPtrArray *batch,
                 GError    *error)
{
  fail_batch (batch, error);
  g_error_free (error);
}

static gpointer
worker_main (gpointer data)
{
  Worker *self = data;
  Job *job;

  g_private_set (&worker_db, self);
  while ((job = g_async_queue_pop (self->queue))->task != NULL)
    {
      g_autoptr(GPtrArray) batch = g_ptr_array_new ();
      GError *open_error = NULL;
      gboolean ok;

      g_ptr_array_add (batch, job);
      if (job->write)
        {
          Job *next;

          while (batch->len < MAX_BATCH && (next = g_async_queue_try_pop (self->queue)) != NULL)
            {
              if (next->task == NULL || !next->write)
                {
                  g_async_queue_push_front (self->queue, next);
                  break;
                }
              g_ptr_array_add (batch, next);
            }
        }

      if (!ensure_open (self, &open_error))
        fail_batch_take (batch, open_error);
      else
        {
          /* A query can find damage the open-time check missed: set the
           * file aside and run the batch again on the fresh database, so a
           * write asked for is still made. */
          for (guint attempt = 0; attempt < 2; attempt++)
            {
              if (job->write)
                ok = run_write_batch (self, batch);
              else
                {
                  run_job (self, job);
                  ok = !batch_hit_corruption (batch);
                }
              if (ok || self->path == NULL)
                break;
              {
                Job *first_corrupt = NULL;
                g_autofree char *reason = NULL;

                for (guint i = 0; i < batch->len && first_corrupt == NULL; i++)
                  if (g_error_matches (((Job *) batch->pdata[i])->error, CB_PROFILE_ERROR,
                                       CB_PROFILE_ERROR_CORRUPT))
                    first_corrupt = batch->pdata[i];
                reason = g_strdup (first_corrupt ? first_corrupt->error->message
                                                 : "the database disk image is malformed");
                if (attempt == 1 || !set_aside_and_restart (self, reason, &open_error))
                  {
                    if (open_error != NULL)
                      fail_batch_take (batch, open_error);
                    open_error = NULL;
                    break;
                  }
              }
            }
        }
      for (guint i = 0; i < batch->len; i++)
        complete_job (batch->pdata[i]);
    }
  job_free (job);
  close_connection (self);
  worker_free (self);
  return NULL;
}

/* --- object --- */

static void
cb_profile_db_finalize (GObject *object)
{
  CbProfileDb *self = CB_PROFILE_DB (object);
  Job *quit = g_new0 (Job, 1);

  g_async_queue_push (self->queue, quit);
  /* The last reference can go on the worker itself (a task it completed
   * held it); it then stops on its own after this. */
  if (g_thread_self () != self->thread)
    g_thread_join (self->thread);
  else
    g_thread_unref (self->thread);
  g_async_queue_unref (self->queue);
  g_free (self->path);
  G_OBJECT_CLASS (cb_profile_db_parent_class)->finalize (object);
}

static void
cb_profile_db_class_init (CbProfileDbClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cb_profile_db_finalize;

  /* The file was damaged and replaced; the argument is a sentence for a
   * person, naming where the damaged copy was kept. */
  signals[SIGNAL_RESET] = g_signal_new ("reset", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
cb_profile_db_init (CbProfileDb *self)
{
  self->queue = g_async_queue_new ();
}

CbProfileDb *
cb_profile_db_new (const char              *path,
                   const CbProfileDbSchema *schema)
{
  CbProfileDb *self = g_object_new (CB_TYPE_PROFILE_DB, NULL);
  g_autofree char *thread_name = g_strdup_printf ("cb-%s-db", schema->name);
  Worker *worker = g_new0 (Worker, 1);

  self->path = g_strdup (path);
  worker->path = g_strdup (path);
  worker->schema = schema;
  worker->owner_context = g_main_context_ref_thread_default ();
  g_weak_ref_init (&worker->owner, self);
  worker->queue = g_async_queue_ref (self->queue);
  /* The worker holds no reference to the object: finalize stops it. */
  self->thread = g_thread_new (thread_name, worker_main, worker);
  return self;
}

const char *
cb_profile_db_get_path (CbProfileDb *self)
{
  g_return_val_if_fail (CB_IS_PROFILE_DB (self), NULL);
  return self->path;
}

void
cb_profile_db_run_async (CbProfileDb         *self,
                         gboolean             write,
                         CbProfileDbJob       func,
                         gpointer             data,
                         GDestroyNotify       data_free,
                         GDestroyNotify       result_free,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  Job *job = g_new0 (Job, 1);

  g_return_if_fail (CB_IS_PROFILE_DB (self));
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, cb_profile_db_run_async);
  job->write = write;
  job->func = func;
  job->data = data;
  job->data_free = data_free;
  job->result_free = result_free;
  g_async_queue_push (self->queue, job);
}

gpointer
cb_profile_db_run_finish (CbProfileDb   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
cb_profile_db_worker_generation (void)
{
  Worker *worker = g_private_get (&worker_db);

  g_return_val_if_fail (worker != NULL, 0);
  return worker->generation;
}

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

sqlite3_stmt *
cb_profile_db_prepare_cached (sqlite3     *db,
                              const char  *sql,
                              GError     **error)
{
  Worker *worker = g_private_get (&worker_db);
  sqlite3_stmt *stmt;

  g_return_val_if_fail (worker != NULL && worker->db == db, NULL);
  if (worker->statements == NULL)
    worker->statements = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                                finalize_statement);
  stmt = g_hash_table_lookup (worker->statements, sql);
  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  if (sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      cb_profile_db_set_error (error, db, "cannot prepare a query");
      sqlite3_finalize (stmt);
      return NULL;
    }
  g_hash_table_insert (worker->statements, (gpointer) sql, stmt);
  return stmt;
}

static gpointer
barrier_job (sqlite3 *db, gpointer data, GError **error)
{
  return NULL;
}

static void
barrier_done (GObject *source, GAsyncResult *result, gpointer data)
{
  *(gboolean *) data = TRUE;
}

void
cb_profile_db_sync (CbProfileDb *self)
{
  gboolean done = FALSE;
  GMainContext *context = g_main_context_ref_thread_default ();

  cb_profile_db_run_async (self, FALSE, barrier_job, NULL, NULL, NULL, NULL, barrier_done, &done);
  while (!done)
    g_main_context_iteration (context, TRUE);
  g_main_context_unref (context);
}
