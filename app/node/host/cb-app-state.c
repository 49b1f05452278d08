/* cb-app-state.c: apps.db */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-app-state.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

G_DEFINE_QUARK (cb-app-state-error-quark, cb_app_state_error)

struct _CbAppState
{
  sqlite3 *db;
  char    *path;
};

static const char schema_sql[] =
  "CREATE TABLE repos ("
  "  id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, base TEXT NOT NULL,"
  "  builtin INTEGER NOT NULL, name TEXT NOT NULL, fingerprint TEXT NOT NULL,"
  "  root_version INTEGER NOT NULL, added INTEGER NOT NULL,"
  "  index_version INTEGER NOT NULL DEFAULT 0, index_env BLOB,"
  "  refreshed INTEGER NOT NULL DEFAULT 0, error TEXT);"
  "CREATE TABLE roots (repo INTEGER NOT NULL, version INTEGER NOT NULL, envelope BLOB NOT NULL,"
  "  PRIMARY KEY (repo, version));"
  "CREATE TABLE seen (repo INTEGER NOT NULL, system TEXT NOT NULL, arch TEXT NOT NULL,"
  "  version TEXT NOT NULL, PRIMARY KEY (repo, system, arch));"
  "CREATE TABLE apps ("
  "  system TEXT PRIMARY KEY, repo INTEGER NOT NULL, title TEXT NOT NULL,"
  "  description TEXT NOT NULL, enabled INTEGER NOT NULL, installed INTEGER NOT NULL,"
  "  version TEXT NOT NULL, dir TEXT NOT NULL, core_url TEXT NOT NULL, core_sha256 BLOB NOT NULL,"
  "  core_size INTEGER NOT NULL, has_ui INTEGER NOT NULL, ui_url TEXT, ui_sha256 BLOB,"
  "  ui_size INTEGER, has_previous INTEGER NOT NULL,"
  "  prev_version TEXT, prev_dir TEXT, prev_core_url TEXT, prev_core_sha256 BLOB,"
  "  prev_core_size INTEGER, prev_has_ui INTEGER, prev_ui_url TEXT, prev_ui_sha256 BLOB,"
  "  prev_ui_size INTEGER);"
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
  "PRAGMA user_version = 1;";

static gboolean
db_error (CbAppState *state, GError **error, const char *doing)
{
  g_set_error (error, CB_APP_STATE_ERROR, CB_APP_STATE_ERROR_DATABASE, "%s in %s: %s", doing,
               state->path, sqlite3_errmsg (state->db));
  return FALSE;
}

static gboolean
exec (CbAppState *state, const char *sql, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (state->db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;
  g_set_error (error, CB_APP_STATE_ERROR, CB_APP_STATE_ERROR_DATABASE, "%s: %s", state->path,
               message ? message : sqlite3_errmsg (state->db));
  sqlite3_free (message);
  return FALSE;
}

static sqlite3_stmt *
prepare (CbAppState *state, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (state->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      db_error (state, error, "preparing a statement");
      return NULL;
    }
  return stmt;
}

/* Opens and checks; FALSE (db closed) when the file is not a healthy
 * database of ours. */
static gboolean
try_open (CbAppState *state, char **why)
{
  sqlite3_stmt *stmt = NULL;
  int version = -1;
  gboolean ok = FALSE;

  if (sqlite3_open_v2 (state->path, &state->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                       NULL) != SQLITE_OK)
    {
      *why = g_strdup (state->db ? sqlite3_errmsg (state->db) : "out of memory");
      goto out;
    }
  sqlite3_busy_timeout (state->db, 5000);
  if (sqlite3_prepare_v2 (state->db, "PRAGMA quick_check", -1, &stmt, NULL) != SQLITE_OK
      || sqlite3_step (stmt) != SQLITE_ROW
      || g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "ok") != 0)
    {
      *why = g_strdup (stmt != NULL && sqlite3_column_text (stmt, 0) != NULL
                       ? (const char *) sqlite3_column_text (stmt, 0)
                       : sqlite3_errmsg (state->db));
      goto out;
    }
  sqlite3_finalize (stmt);
  stmt = NULL;
  if (sqlite3_prepare_v2 (state->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  stmt = NULL;
  if (version == 0)
    {
      if (!exec (state, "BEGIN", NULL) || !exec (state, schema_sql, NULL)
          || !exec (state, "COMMIT", NULL))
        {
          *why = g_strdup (sqlite3_errmsg (state->db));
          goto out;
        }
    }
  else if (version != 1)
    {
      *why = g_strdup_printf ("schema version %d, which this Cloud Bevy does not know", version);
      goto out;
    }
  ok = TRUE;
out:
  sqlite3_finalize (stmt);
  if (!ok && state->db != NULL)
    {
      sqlite3_close (state->db);
      state->db = NULL;
    }
  return ok;
}

CbAppState *
cb_app_state_open (const char  *path,
                   GError     **error)
{
  CbAppState *state = g_new0 (CbAppState, 1);
  g_autofree char *why = NULL;

  state->path = g_strdup (path);
  if (!try_open (state, &why))
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
      g_autofree char *aside = g_strdup_printf ("%s.corrupt-%s", path, stamp);
      g_autofree char *wal = g_strconcat (path, "-wal", NULL);
      g_autofree char *shm = g_strconcat (path, "-shm", NULL);
      g_autofree char *why2 = NULL;

      if (g_rename (path, aside) != 0)
        {
          g_set_error (error, CB_APP_STATE_ERROR, CB_APP_STATE_ERROR_DATABASE,
                       "%s is damaged (%s) and cannot be moved aside: %s", path, why,
                       g_strerror (errno));
          cb_app_state_close (state);
          return NULL;
        }
      g_unlink (wal);
      g_unlink (shm);
      g_warning ("the app database %s was damaged (%s); it is kept as %s and a new one started: "
                 "add the repositories again and reinstall the apps (their data is untouched)",
                 path, why, aside);
      if (!try_open (state, &why2))
        {
          g_set_error (error, CB_APP_STATE_ERROR, CB_APP_STATE_ERROR_DATABASE,
                       "cannot create %s: %s", path, why2);
          cb_app_state_close (state);
          return NULL;
        }
    }
  return state;
}

void
cb_app_state_close (CbAppState *state)
{
  if (state == NULL)
    return;
  if (state->db != NULL)
    sqlite3_close (state->db);
  g_free (state->path);
  g_free (state);
}

/* ---- records ---- */

void
cb_app_repo_free (CbAppRepo *repo)
{
  if (repo == NULL)
    return;
  g_free (repo->url);
  g_free (repo->base);
  g_free (repo->name);
  g_free (repo->fingerprint);
  g_clear_pointer (&repo->index, g_bytes_unref);
  g_free (repo->error);
  g_free (repo);
}

void
cb_app_files_clear (CbAppFiles *files)
{
  g_clear_pointer (&files->version, g_free);
  g_clear_pointer (&files->dir, g_free);
  g_clear_pointer (&files->core.url, g_free);
  g_clear_pointer (&files->ui.url, g_free);
  memset (files, 0, sizeof *files);
}

void
cb_app_files_copy (CbAppFiles       *to,
                   const CbAppFiles *from)
{
  *to = *from;
  to->version = g_strdup (from->version);
  to->dir = g_strdup (from->dir);
  to->core.url = g_strdup (from->core.url);
  to->ui.url = g_strdup (from->ui.url);
}

void
cb_app_record_free (CbAppRecord *app)
{
  if (app == NULL)
    return;
  g_free (app->system);
  g_free (app->title);
  g_free (app->description);
  cb_app_files_clear (&app->current);
  cb_app_files_clear (&app->previous);
  g_free (app);
}

static char *
column_text (sqlite3_stmt *stmt, int i)
{
  const unsigned char *text = sqlite3_column_text (stmt, i);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

static void
column_hash (sqlite3_stmt *stmt, int i, guint8 out[32])
{
  memset (out, 0, 32);
  if (sqlite3_column_bytes (stmt, i) == 32)
    memcpy (out, sqlite3_column_blob (stmt, i), 32);
}

#define REPO_COLUMNS "id, url, base, builtin, name, fingerprint, root_version, added, " \
                     "index_version, index_env, refreshed, error"

static CbAppRepo *
read_repo (sqlite3_stmt *stmt)
{
  CbAppRepo *repo = g_new0 (CbAppRepo, 1);

  repo->id = sqlite3_column_int64 (stmt, 0);
  repo->url = column_text (stmt, 1);
  repo->base = column_text (stmt, 2);
  repo->builtin = sqlite3_column_int (stmt, 3) != 0;
  repo->name = column_text (stmt, 4);
  repo->fingerprint = column_text (stmt, 5);
  repo->root_version = (guint64) sqlite3_column_int64 (stmt, 6);
  repo->added = sqlite3_column_int64 (stmt, 7);
  repo->index_version = (guint64) sqlite3_column_int64 (stmt, 8);
  if (sqlite3_column_type (stmt, 9) == SQLITE_BLOB)
    repo->index = g_bytes_new (sqlite3_column_blob (stmt, 9), (gsize) sqlite3_column_bytes (stmt, 9));
  repo->refreshed = sqlite3_column_int64 (stmt, 10);
  repo->error = column_text (stmt, 11);
  return repo;
}

GPtrArray *
cb_app_state_list_repos (CbAppState *state)
{
  GPtrArray *repos = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_app_repo_free);
  sqlite3_stmt *stmt = prepare (state, "SELECT " REPO_COLUMNS " FROM repos ORDER BY id", NULL);

  while (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (repos, read_repo (stmt));
  sqlite3_finalize (stmt);
  return repos;
}

CbAppRepo *
cb_app_state_get_repo (CbAppState *state,
                       const char *url)
{
  sqlite3_stmt *stmt = prepare (state, "SELECT " REPO_COLUMNS " FROM repos WHERE url = ?", NULL);
  CbAppRepo *repo = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, url, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    repo = read_repo (stmt);
  sqlite3_finalize (stmt);
  return repo;
}

CbAppRepo *
cb_app_state_get_repo_by_id (CbAppState *state,
                             gint64      id)
{
  sqlite3_stmt *stmt = prepare (state, "SELECT " REPO_COLUMNS " FROM repos WHERE id = ?", NULL);
  CbAppRepo *repo = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    repo = read_repo (stmt);
  sqlite3_finalize (stmt);
  return repo;
}

static gboolean
insert_root (CbAppState *state, gint64 id, guint64 version, GBytes *envelope, GError **error)
{
  sqlite3_stmt *stmt = prepare (state, "INSERT OR REPLACE INTO roots (repo, version, envelope) "
                                       "VALUES (?, ?, ?)", error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) version);
  sqlite3_bind_blob (stmt, 3, g_bytes_get_data (envelope, NULL), (int) g_bytes_get_size (envelope),
                     SQLITE_TRANSIENT);
  ok = sqlite3_step (stmt) == SQLITE_DONE || db_error (state, error, "pinning a root");
  sqlite3_finalize (stmt);
  return ok;
}

gboolean
cb_app_state_add_repo (CbAppState        *state,
                       const char        *url,
                       const char        *base,
                       gboolean           builtin,
                       GBytes            *root_envelope,
                       const CbRepoRoot  *root,
                       gint64             now,
                       gint64            *id,
                       GError           **error)
{
  g_autofree char *fingerprint = cb_repo_root_fingerprint (root);
  sqlite3_stmt *stmt;
  gboolean ok;

  if (!exec (state, "BEGIN IMMEDIATE", error))
    return FALSE;
  stmt = prepare (state, "INSERT INTO repos (url, base, builtin, name, fingerprint, root_version, "
                         "added) VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    {
      exec (state, "ROLLBACK", NULL);
      return FALSE;
    }
  sqlite3_bind_text (stmt, 1, url, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, base, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, builtin ? 1 : 0);
  sqlite3_bind_text (stmt, 4, root->name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, fingerprint, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, (sqlite3_int64) root->version);
  sqlite3_bind_int64 (stmt, 7, now);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (state->db) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, CB_APP_STATE_ERROR, CB_APP_STATE_ERROR_EXISTS,
                     "the repository %s is added already", url);
      else
        db_error (state, error, "adding a repository");
      sqlite3_finalize (stmt);
      exec (state, "ROLLBACK", NULL);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  *id = sqlite3_last_insert_rowid (state->db);
  ok = insert_root (state, *id, root->version, root_envelope, error) && exec (state, "COMMIT", error);
  if (!ok)
    exec (state, "ROLLBACK", NULL);
  return ok;
}

static gboolean
run_with_id (CbAppState *state, const char *sql, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = prepare (state, sql, error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  ok = sqlite3_step (stmt) == SQLITE_DONE || db_error (state, error, "updating");
  sqlite3_finalize (stmt);
  return ok;
}

gboolean
cb_app_state_remove_repo (CbAppState  *state,
                          gint64       id,
                          GError     **error)
{
  gboolean ok = exec (state, "BEGIN IMMEDIATE", error)
                && run_with_id (state, "DELETE FROM repos WHERE id = ?", id, error)
                && run_with_id (state, "DELETE FROM roots WHERE repo = ?", id, error)
                && run_with_id (state, "DELETE FROM seen WHERE repo = ?", id, error)
                /* Installed apps stay; they no longer get updates. */
                && run_with_id (state, "UPDATE apps SET repo = 0 WHERE repo = ?", id, error)
                && exec (state, "COMMIT", error);

  if (!ok)
    exec (state, "ROLLBACK", NULL);
  return ok;
}

gboolean
cb_app_state_repin_repo (CbAppState        *state,
                         gint64             id,
                         GBytes            *root_envelope,
                         const CbRepoRoot  *root,
                         GError           **error)
{
  g_autofree char *fingerprint = cb_repo_root_fingerprint (root);
  sqlite3_stmt *stmt;
  gboolean ok = exec (state, "BEGIN IMMEDIATE", error)
                && run_with_id (state, "DELETE FROM roots WHERE repo = ?", id, error)
                && run_with_id (state, "DELETE FROM seen WHERE repo = ?", id, error)
                && insert_root (state, id, root->version, root_envelope, error);

  if (ok && (stmt = prepare (state, "UPDATE repos SET name = ?, fingerprint = ?, root_version = ?, "
                                    "index_version = 0, index_env = NULL, error = NULL "
                                    "WHERE id = ?", error)) != NULL)
    {
      sqlite3_bind_text (stmt, 1, root->name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, fingerprint, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) root->version);
      sqlite3_bind_int64 (stmt, 4, id);
      ok = sqlite3_step (stmt) == SQLITE_DONE || db_error (state, error, "re-pinning");
      sqlite3_finalize (stmt);
    }
  else
    ok = FALSE;
  ok = ok && exec (state, "COMMIT", error);
  if (!ok)
    exec (state, "ROLLBACK", NULL);
  return ok;
}

GPtrArray *
cb_app_state_get_roots (CbAppState  *state,
                        gint64       id,
                        GError     **error)
{
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_repo_root_free);
  sqlite3_stmt *stmt = prepare (state, "SELECT envelope FROM roots WHERE repo = ? ORDER BY version",
                                error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      /* Verified when pinned: only parsed here. */
      g_autoptr(CbRepoEnvelope) envelope = cb_repo_envelope_parse (sqlite3_column_blob (stmt, 0),
                                                                   (gsize) sqlite3_column_bytes (stmt, 0),
                                                                   CB_REPO_MAX_ROOT, error);
      CbRepoRoot *root = envelope != NULL ? cb_repo_root_parse (envelope->signed_text, error) : NULL;

      if (root == NULL)
        {
          g_prefix_error (error, "a pinned root in %s is damaged: ", state->path);
          sqlite3_finalize (stmt);
          return NULL;
        }
      g_ptr_array_add (roots, root);
    }
  sqlite3_finalize (stmt);
  if (roots->len == 0)
    {
      g_set_error (error, CB_APP_STATE_ERROR, CB_APP_STATE_ERROR_NOT_FOUND,
                   "no root is pinned for repository %" G_GINT64_FORMAT, id);
      return NULL;
    }
  return g_steal_pointer (&roots);
}

gboolean
cb_app_state_commit_refresh (CbAppState         *state,
                             gint64              id,
                             GPtrArray          *new_roots,
                             GPtrArray          *root_envelopes,
                             GBytes             *index_envelope,
                             const CbRepoIndex  *index,
                             gint64              now,
                             GError            **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = exec (state, "BEGIN IMMEDIATE", error);

  for (guint i = 0; ok && new_roots != NULL && i < new_roots->len; i++)
    {
      CbRepoRoot *root = new_roots->pdata[i];
      g_autofree char *fingerprint = cb_repo_root_fingerprint (root);

      ok = insert_root (state, id, root->version, root_envelopes->pdata[i], error);
      if (ok && (stmt = prepare (state, "UPDATE repos SET name = ?, fingerprint = ?, "
                                        "root_version = ? WHERE id = ?", error)) != NULL)
        {
          sqlite3_bind_text (stmt, 1, root->name, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (stmt, 2, fingerprint, -1, SQLITE_TRANSIENT);
          sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) root->version);
          sqlite3_bind_int64 (stmt, 4, id);
          ok = sqlite3_step (stmt) == SQLITE_DONE || db_error (state, error, "pinning a root");
          g_clear_pointer (&stmt, sqlite3_finalize);
        }
      else
        ok = FALSE;
    }
  if (ok && (stmt = prepare (state, "UPDATE repos SET index_version = ?, index_env = ?, "
                                    "refreshed = ?, error = NULL WHERE id = ?", error)) != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) index->version);
      sqlite3_bind_blob (stmt, 2, g_bytes_get_data (index_envelope, NULL),
                         (int) g_bytes_get_size (index_envelope), SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 3, now);
      sqlite3_bind_int64 (stmt, 4, id);
      ok = sqlite3_step (stmt) == SQLITE_DONE || db_error (state, error, "storing the index");
      g_clear_pointer (&stmt, sqlite3_finalize);
    }
  else
    ok = FALSE;
  for (guint i = 0; ok && i < index->packages->len; i++)
    {
      const CbRepoPackage *package = index->packages->pdata[i];

      /* The caller checked the version is not below what was seen. */
      stmt = prepare (state, "INSERT OR REPLACE INTO seen (repo, system, arch, version) "
                             "VALUES (?, ?, ?, ?)", error);
      if (stmt == NULL)
        {
          ok = FALSE;
          break;
        }
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_text (stmt, 2, package->system, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, package->arch, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, package->version, -1, SQLITE_TRANSIENT);
      ok = sqlite3_step (stmt) == SQLITE_DONE || db_error (state, error, "recording versions");
      g_clear_pointer (&stmt, sqlite3_finalize);
    }
  ok = ok && exec (state, "COMMIT", error);
  if (!ok)
    exec (state, "ROLLBACK", NULL);
  return ok;
}

gboolean
cb_app_state_set_repo_error (CbAppState *state,
                             gint64      id,
                             const char *message)
{
  sqlite3_stmt *stmt = prepare (state, "UPDATE repos SET error = ? WHERE id = ?", NULL);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, message, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, id);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  sqlite3_finalize (stmt);
  return ok;
}

char *
cb_app_state_get_seen (CbAppState *state,
                       gint64      id,
                       const char *system,
                       const char *arch)
{
  sqlite3_stmt *stmt = prepare (state, "SELECT version FROM seen WHERE repo = ? AND system = ? "
                                       "AND arch = ?", NULL);
  char *version = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_text (stmt, 2, system, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, arch, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = column_text (stmt, 0);
  sqlite3_finalize (stmt);
  return version;
}

/* ---- apps ---- */

#define APP_COLUMNS "system, repo, title, description, enabled, installed, " \
  "version, dir, core_url, core_sha256, core_size, has_ui, ui_url, ui_sha256, ui_size, " \
  "has_previous, prev_version, prev_dir, prev_core_url, prev_core_sha256, prev_core_size, " \
  "prev_has_ui, prev_ui_url, prev_ui_sha256, prev_ui_size"

static void
read_files (sqlite3_stmt *stmt, int at, CbAppFiles *files)
{
  files->version = column_text (stmt, at);
  files->dir = column_text (stmt, at + 1);
  files->core.url = column_text (stmt, at + 2);
  column_hash (stmt, at + 3, files->core.sha256);
  files->core.size = (guint64) sqlite3_column_int64 (stmt, at + 4);
  files->has_ui = sqlite3_column_int (stmt, at + 5) != 0;
  files->ui.url = column_text (stmt, at + 6);
  column_hash (stmt, at + 7, files->ui.sha256);
  files->ui.size = (guint64) sqlite3_column_int64 (stmt, at + 8);
}

static CbAppRecord *
read_app (sqlite3_stmt *stmt)
{
  CbAppRecord *app = g_new0 (CbAppRecord, 1);

  app->system = column_text (stmt, 0);
  app->repo = sqlite3_column_int64 (stmt, 1);
  app->title = column_text (stmt, 2);
  app->description = column_text (stmt, 3);
  app->enabled = sqlite3_column_int (stmt, 4) != 0;
  app->installed = sqlite3_column_int64 (stmt, 5);
  read_files (stmt, 6, &app->current);
  app->has_previous = sqlite3_column_int (stmt, 15) != 0;
  if (app->has_previous)
    read_files (stmt, 16, &app->previous);
  return app;
}

GPtrArray *
cb_app_state_list_apps (CbAppState *state)
{
  GPtrArray *apps = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_app_record_free);
  sqlite3_stmt *stmt = prepare (state, "SELECT " APP_COLUMNS " FROM apps ORDER BY system", NULL);

  while (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (apps, read_app (stmt));
  sqlite3_finalize (stmt);
  return apps;
}

CbAppRecord *
cb_app_state_get_app (CbAppState *state,
                      const char *system)
{
  sqlite3_stmt *stmt = prepare (state, "SELECT " APP_COLUMNS " FROM apps WHERE system = ?", NULL);
  CbAppRecord *app = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, system, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    app = read_app (stmt);
  sqlite3_finalize (stmt);
  return app;
}

static void
bind_files (sqlite3_stmt *stmt, int at, const CbAppFiles *files, gboolean present)
{
  if (!present)
    {
      for (int i = 0; i < 9; i++)
        sqlite3_bind_null (stmt, at + i);
      return;
    }
  sqlite3_bind_text (stmt, at, files->version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, at + 1, files->dir, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, at + 2, files->core.url, -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, at + 3, files->core.sha256, 32, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, at + 4, (sqlite3_int64) files->core.size);
  sqlite3_bind_int (stmt, at + 5, files->has_ui ? 1 : 0);
  if (files->has_ui)
    {
      sqlite3_bind_text (stmt, at + 6, files->ui.url, -1, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, at + 7, files->ui.sha256, 32, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, at + 8, (sqlite3_int64) files->ui.size);
    }
  else
    for (int i = 6; i < 9; i++)
      sqlite3_bind_null (stmt, at + i);
}

gboolean
cb_app_state_put_app (CbAppState         *state,
                      const CbAppRecord  *app,
                      GError            **error)
{
  sqlite3_stmt *stmt = prepare (state, "INSERT OR REPLACE INTO apps (" APP_COLUMNS ") VALUES "
                                       "(?,?,?,?,?,?, ?,?,?,?,?,?,?,?,?, ?,?,?,?,?,?,?,?,?,?)",
                                error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, app->system, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, app->repo);
  sqlite3_bind_text (stmt, 3, app->title != NULL ? app->title : app->system, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, app->description != NULL ? app->description : "", -1,
                     SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 5, app->enabled ? 1 : 0);
  sqlite3_bind_int64 (stmt, 6, app->installed);
  bind_files (stmt, 7, &app->current, TRUE);
  sqlite3_bind_int (stmt, 16, app->has_previous ? 1 : 0);
  bind_files (stmt, 17, &app->previous, app->has_previous);
  ok = sqlite3_step (stmt) == SQLITE_DONE || db_error (state, error, "recording an app");
  sqlite3_finalize (stmt);
  return ok;
}

gboolean
cb_app_state_delete_app (CbAppState  *state,
                         const char  *system,
                         GError     **error)
{
  sqlite3_stmt *stmt = prepare (state, "DELETE FROM apps WHERE system = ?", error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, system, -1, SQLITE_TRANSIENT);
  ok = sqlite3_step (stmt) == SQLITE_DONE || db_error (state, error, "removing an app");
  sqlite3_finalize (stmt);
  return ok;
}

char *
cb_app_state_get_meta (CbAppState *state,
                       const char *key)
{
  sqlite3_stmt *stmt = prepare (state, "SELECT value FROM meta WHERE key = ?", NULL);
  char *value = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = column_text (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

gboolean
cb_app_state_set_meta (CbAppState  *state,
                       const char  *key,
                       const char  *value,
                       GError     **error)
{
  sqlite3_stmt *stmt = prepare (state, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);
  ok = sqlite3_step (stmt) == SQLITE_DONE || db_error (state, error, "recording a setting");
  sqlite3_finalize (stmt);
  return ok;
}
