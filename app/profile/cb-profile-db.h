/* cb-profile-db.h: one sqlite file of the profile, owned by one thread
 *
 * Every query runs on the database's own worker thread, fed by a queue, and
 * completes on the caller's main context (GNOME Web's history service does
 * the same).  Consecutive writes share a transaction, each job in its own
 * savepoint, so a burst of visits costs one commit and one failing job
 * never undoes the others.
 *
 * A damaged file is never a dead end: when sqlite reports corruption (on
 * open or on any query), the file is moved aside with a timestamp, a fresh
 * database is created, whatever rows can still be read from the damaged
 * copy are carried over, and the "reset" signal says in plain words what
 * happened and where the old file is. */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define CB_PROFILE_ERROR (cb_profile_error_quark ())
GQuark cb_profile_error_quark (void);

typedef enum {
  CB_PROFILE_ERROR_DATABASE,   /* sqlite failed (disk full, locked, …) */
  CB_PROFILE_ERROR_CORRUPT,    /* the file was damaged; it was set aside */
  CB_PROFILE_ERROR_TOO_NEW,    /* written by a newer Cloud Bevy; left untouched */
  CB_PROFILE_ERROR_INVALID,    /* input refused: a malformed file or argument */
  CB_PROFILE_ERROR_NOT_FOUND,
} CbProfileError;

typedef struct {
  const char         *name;            /* "history": used in messages and the thread name */
  const char * const *migrations;      /* migrations[i] takes user_version i to i + 1 */
  guint               n_migrations;
  const char * const *salvage_tables;  /* copied row by row out of a damaged file, in order */
  /* Runs on the worker after the database is open and migrated (e.g. to
   * set pragmas); may be NULL. */
  gboolean          (*setup) (sqlite3 *db, GError **error);
} CbProfileDbSchema;

/* Runs on the worker thread.  Returns the job's result (freed with the
 * result_free given to run_async when nobody takes it), or NULL with
 * @error set.  A NULL result without an error is a valid result. */
typedef gpointer (*CbProfileDbJob) (sqlite3   *db,
                                    gpointer   data,
                                    GError   **error);

#define CB_TYPE_PROFILE_DB (cb_profile_db_get_type ())
G_DECLARE_FINAL_TYPE (CbProfileDb, cb_profile_db, CB, PROFILE_DB, GObject)

/* @path NULL: an in-memory database that is never written to disk. */
CbProfileDb *cb_profile_db_new        (const char              *path,
                                       const CbProfileDbSchema *schema);
const char  *cb_profile_db_get_path   (CbProfileDb             *self);

void         cb_profile_db_run_async  (CbProfileDb             *self,
                                       gboolean                 write,
                                       CbProfileDbJob           job,
                                       gpointer                 data,
                                       GDestroyNotify           data_free,
                                       GDestroyNotify           result_free,
                                       GCancellable            *cancellable,
                                       GAsyncReadyCallback      callback,
                                       gpointer                 user_data);
gpointer     cb_profile_db_run_finish (CbProfileDb             *self,
                                       GAsyncResult            *result,
                                       GError                 **error);

/* Waits (iterating the thread-default main context) until every job
 * queued so far has completed: for shutdown and tests. */
void         cb_profile_db_sync       (CbProfileDb             *self);

/* Inside a job, on the worker thread: a number that changes whenever the
 * connection is replaced (a damaged file was set aside), so caches built
 * from the previous connection can tell they are stale. */
guint        cb_profile_db_worker_generation (void);

/* Inside a job: a prepared statement for @sql (a string literal: it is
 * cached by address) on the worker's connection, reset and unbound.  Do
 * not finalize it; it lives as long as the connection. */
sqlite3_stmt *cb_profile_db_prepare_cached (sqlite3     *db,
                                            const char  *sql,
                                            GError     **error);

/* Sets @error from the connection's last error, prefixed with @what. */
void         cb_profile_db_set_error  (GError                 **error,
                                       sqlite3                 *db,
                                       const char              *what);
/* Runs SQL without results; sets @error on failure. */
gboolean     cb_profile_db_exec       (sqlite3                 *db,
                                       const char              *sql,
                                       GError                 **error);

G_END_DECLS
