/* cb-site-settings.c: per-site keys in memory, saved through a worker */
#define G_LOG_DOMAIN "cb-site-settings"

#include "cb-site-settings.h"

#include <string.h>

struct _CbSiteSettings {
  GObject parent_instance;
  CbProfileDb *db;
  GHashTable *sites;   /* site -> GHashTable (key -> value) */
  GHashTable *touched; /* "site\nkey" set before the load finished */
  gboolean loaded;
};

G_DEFINE_FINAL_TYPE (CbSiteSettings, cb_site_settings, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_LOADED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char * const migrations[] = {
  /* 1 */
  "CREATE TABLE settings ("
  "  site TEXT NOT NULL,"
  "  key TEXT NOT NULL,"
  "  value TEXT NOT NULL,"
  "  modified INTEGER NOT NULL,"
  "  PRIMARY KEY (site, key))",
};

static const char * const salvage_tables[] = { "settings", NULL };

static const CbProfileDbSchema site_schema = {
  .name = "site settings",
  .migrations = migrations,
  .n_migrations = G_N_ELEMENTS (migrations),
  .salvage_tables = salvage_tables,
};

static const struct {
  const char *key;
  const char *label;
} permissions[CB_N_PERMISSIONS] = {
  [CB_PERMISSION_GEOLOCATION] = { "permission-geolocation", "Location" },
  [CB_PERMISSION_NOTIFICATIONS] = { "permission-notifications", "Notifications" },
  [CB_PERMISSION_CAMERA] = { "permission-camera", "Camera" },
  [CB_PERMISSION_MICROPHONE] = { "permission-microphone", "Microphone" },
};

const char *
cb_permission_get_key (CbPermission permission)
{
  g_return_val_if_fail (permission < CB_N_PERMISSIONS, NULL);
  return permissions[permission].key;
}

const char *
cb_permission_get_label (CbPermission permission)
{
  g_return_val_if_fail (permission < CB_N_PERMISSIONS, NULL);
  return permissions[permission].label;
}

char *
cb_site_for_uri (const char *uri)
{
  g_autoptr(GUri) parsed = uri ? g_uri_parse (uri, G_URI_FLAGS_NONE, NULL) : NULL;
  g_autofree char *scheme = NULL, *host = NULL;
  int port;

  if (parsed == NULL || g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
    return NULL;
  scheme = g_ascii_strdown (g_uri_get_scheme (parsed), -1);
  host = g_ascii_strdown (g_uri_get_host (parsed), -1);
  port = g_uri_get_port (parsed);
  if ((g_str_equal (scheme, "http") && port == 80) || (g_str_equal (scheme, "https") && port == 443))
    port = -1;
  if (strchr (host, ':') != NULL)   /* IPv6 */
    return port > 0 ? g_strdup_printf ("%s://[%s]:%d", scheme, host, port)
                    : g_strdup_printf ("%s://[%s]", scheme, host);
  return port > 0 ? g_strdup_printf ("%s://%s:%d", scheme, host, port)
                  : g_strdup_printf ("%s://%s", scheme, host);
}

char *
cb_site_get_host (const char *site)
{
  g_autoptr(GUri) parsed = site ? g_uri_parse (site, G_URI_FLAGS_NONE, NULL) : NULL;

  return parsed && g_uri_get_host (parsed) ? g_strdup (g_uri_get_host (parsed)) : NULL;
}

/* --- jobs --- */

typedef struct {
  char *site;
  char *key;     /* NULL: forget the whole site */
  char *value;   /* NULL: forget the key */
} WriteJob;

static void
write_job_free (gpointer data)
{
  WriteJob *job = data;

  g_free (job->site);
  g_free (job->key);
  g_free (job->value);
  g_free (job);
}

static gpointer
write_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  WriteJob *job = data;
  sqlite3_stmt *stmt;

  if (job->key == NULL)
    stmt = cb_profile_db_prepare_cached (db, "DELETE FROM settings WHERE site = ?", error);
  else if (job->value == NULL)
    stmt = cb_profile_db_prepare_cached (db, "DELETE FROM settings WHERE site = ? AND key = ?",
                                         error);
  else
    stmt = cb_profile_db_prepare_cached (db, "INSERT OR REPLACE INTO settings (site, key, value, "
                                             "modified) VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, job->site, -1, SQLITE_STATIC);
  if (job->key != NULL)
    sqlite3_bind_text (stmt, 2, job->key, -1, SQLITE_STATIC);
  if (job->key != NULL && job->value != NULL)
    {
      sqlite3_bind_text (stmt, 3, job->value, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 4, g_get_real_time ());
    }
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, "cannot save a site setting");
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);
  return GINT_TO_POINTER (1);
}

static void
free_rows (gpointer data)
{
  g_ptr_array_unref (data);
}

static gpointer
load_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = cb_profile_db_prepare_cached (db, "SELECT site, key, value FROM settings",
                                                     error);
  int rc;

  if (stmt == NULL)
    {
      g_ptr_array_unref (rows);
      return NULL;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    for (int i = 0; i < 3; i++)
      g_ptr_array_add (rows, g_strdup ((const char *) sqlite3_column_text (stmt, i)));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, "cannot read the site settings");
      g_ptr_array_unref (rows);
      return NULL;
    }
  return rows;
}

static gpointer
noop_job (sqlite3 *db, gpointer data, GError **error)
{
  return GINT_TO_POINTER (1);
}

static void
written (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (cb_profile_db_run_finish (CB_PROFILE_DB (source), result, &error) == NULL)
    g_warning ("a site setting could not be saved: %s", error->message);
}

static void
queue_write (CbSiteSettings *self,
             const char     *site,
             const char     *key,
             const char     *value)
{
  WriteJob *job = g_new0 (WriteJob, 1);

  job->site = g_strdup (site);
  job->key = g_strdup (key);
  job->value = g_strdup (value);
  cb_profile_db_run_async (self->db, TRUE, write_job, job, write_job_free, NULL, NULL, written,
                           NULL);
}

/* --- memory --- */

static GHashTable *
site_table (CbSiteSettings *self,
            const char     *site,
            gboolean        create)
{
  GHashTable *table = g_hash_table_lookup (self->sites, site);

  if (table == NULL && create)
    {
      table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (self->sites, g_strdup (site), table);
    }
  return table;
}

static void
set_in_memory (CbSiteSettings *self,
               const char     *site,
               const char     *key,
               const char     *value)
{
  GHashTable *table = site_table (self, site, value != NULL);

  if (table == NULL)
    return;
  if (value != NULL)
    g_hash_table_replace (table, g_strdup (key), g_strdup (value));
  else
    g_hash_table_remove (table, key);
  if (g_hash_table_size (table) == 0)
    g_hash_table_remove (self->sites, site);
}

const char *
cb_site_settings_get (CbSiteSettings *self,
                      const char     *site,
                      const char     *key)
{
  GHashTable *table;

  g_return_val_if_fail (CB_IS_SITE_SETTINGS (self), NULL);
  if (site == NULL)
    return NULL;
  table = site_table (self, site, FALSE);
  return table ? g_hash_table_lookup (table, key) : NULL;
}

void
cb_site_settings_set (CbSiteSettings *self,
                      const char     *site,
                      const char     *key,
                      const char     *value)
{
  g_return_if_fail (CB_IS_SITE_SETTINGS (self));
  g_return_if_fail (key != NULL);
  if (site == NULL || g_strcmp0 (cb_site_settings_get (self, site, key), value) == 0)
    return;
  set_in_memory (self, site, key, value);
  if (!self->loaded)
    g_hash_table_add (self->touched, g_strconcat (site, "\n", key, NULL));
  queue_write (self, site, key, value);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, site, key);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char **) a, *(const char **) b);
}

GStrv
cb_site_settings_list_sites (CbSiteSettings *self)
{
  g_autoptr(GPtrArray) sites = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->sites);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (sites, key);
  g_ptr_array_sort (sites, compare_strings);
  g_ptr_array_add (sites, NULL);
  return g_strdupv ((char **) sites->pdata);
}

void
cb_site_settings_forget_site (CbSiteSettings *self,
                              const char     *site)
{
  g_return_if_fail (CB_IS_SITE_SETTINGS (self));
  if (!self->loaded)
    g_hash_table_add (self->touched, g_strconcat (site, "\n", NULL));
  if (!g_hash_table_remove (self->sites, site))
    return;
  queue_write (self, site, NULL, NULL);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, site, NULL);
}

double
cb_site_settings_get_zoom (CbSiteSettings *self,
                           const char     *site)
{
  const char *value = cb_site_settings_get (self, site, "zoom");
  double zoom = value ? g_ascii_strtod (value, NULL) : 0.0;

  /* WebKit's own limits, against a hand-edited or damaged value. */
  return zoom >= 0.25 && zoom <= 5.0 ? zoom : 0.0;
}

void
cb_site_settings_set_zoom (CbSiteSettings *self,
                           const char     *site,
                           double          zoom)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  if (zoom <= 0 || G_APPROX_VALUE (zoom, 1.0, 0.001))
    cb_site_settings_set (self, site, "zoom", NULL);
  else
    cb_site_settings_set (self, site, "zoom", g_ascii_formatd (buffer, sizeof buffer, "%.2f", zoom));
}

CbPermissionState
cb_site_settings_get_permission (CbSiteSettings *self,
                                 const char     *site,
                                 CbPermission    permission)
{
  const char *value = cb_site_settings_get (self, site, cb_permission_get_key (permission));

  if (g_strcmp0 (value, "allow") == 0)
    return CB_PERMISSION_ALLOW;
  if (g_strcmp0 (value, "deny") == 0)
    return CB_PERMISSION_DENY;
  return CB_PERMISSION_ASK;
}

void
cb_site_settings_set_permission (CbSiteSettings    *self,
                                 const char        *site,
                                 CbPermission       permission,
                                 CbPermissionState  state)
{
  cb_site_settings_set (self, site, cb_permission_get_key (permission),
                        state == CB_PERMISSION_ALLOW ? "allow"
                        : state == CB_PERMISSION_DENY ? "deny" : NULL);
}

GStrv
cb_site_settings_list_with (CbSiteSettings    *self,
                            CbPermission       permission,
                            CbPermissionState  state)
{
  g_auto(GStrv) sites = cb_site_settings_list_sites (self);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; sites[i] != NULL; i++)
    if (cb_site_settings_get_permission (self, sites[i], permission) == state)
      g_strv_builder_add (builder, sites[i]);
  return g_strv_builder_end (builder);
}

gboolean
cb_site_settings_get_popups_allowed (CbSiteSettings *self,
                                     const char     *site)
{
  return g_strcmp0 (cb_site_settings_get (self, site, "popups"), "allow") == 0;
}

void
cb_site_settings_set_popups_allowed (CbSiteSettings *self,
                                     const char     *site,
                                     gboolean        allowed)
{
  cb_site_settings_set (self, site, "popups", allowed ? "allow" : NULL);
}

gboolean
cb_site_settings_get_blocker_disabled (CbSiteSettings *self,
                                       const char     *site)
{
  return g_strcmp0 (cb_site_settings_get (self, site, "content-blocker"), "off") == 0;
}

void
cb_site_settings_set_blocker_disabled (CbSiteSettings *self,
                                       const char     *site,
                                       gboolean        disabled)
{
  cb_site_settings_set (self, site, "content-blocker", disabled ? "off" : NULL);
}

/* --- loading, flushing --- */

static void
loaded (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(CbSiteSettings) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = cb_profile_db_run_finish (CB_PROFILE_DB (source), result, &error);

  if (rows == NULL)
    g_warning ("the site settings could not be read: %s", error->message);
  for (guint i = 0; rows != NULL && i + 2 < rows->len; i += 3)
    {
      g_autofree char *touched = g_strconcat (rows->pdata[i], "\n", rows->pdata[i + 1], NULL);
      g_autofree char *forgotten = g_strconcat (rows->pdata[i], "\n", NULL);

      /* What this session set or forgot before the file was read wins. */
      if (!g_hash_table_contains (self->touched, touched) &&
          !g_hash_table_contains (self->touched, forgotten))
        set_in_memory (self, rows->pdata[i], rows->pdata[i + 1], rows->pdata[i + 2]);
    }
  self->loaded = TRUE;
  g_hash_table_remove_all (self->touched);
  g_signal_emit (self, signals[SIGNAL_LOADED], 0);
}

static void
flushed (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (cb_profile_db_run_finish (CB_PROFILE_DB (source), result, &error) == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
cb_site_settings_flush_async (CbSiteSettings      *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, cb_site_settings_flush_async);
  cb_profile_db_run_async (self->db, TRUE, noop_job, NULL, NULL, NULL, NULL, flushed, task);
}

gboolean
cb_site_settings_flush_finish (CbSiteSettings  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
cb_site_settings_dispose (GObject *object)
{
  CbSiteSettings *self = CB_SITE_SETTINGS (object);

  g_clear_object (&self->db);
  g_clear_pointer (&self->sites, g_hash_table_unref);
  g_clear_pointer (&self->touched, g_hash_table_unref);
  G_OBJECT_CLASS (cb_site_settings_parent_class)->dispose (object);
}

static void
cb_site_settings_class_init (CbSiteSettingsClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_site_settings_dispose;

  /* (site, key); key NULL when the whole site was forgotten. */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
                                          G_TYPE_STRING);
  signals[SIGNAL_LOADED] = g_signal_new ("loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cb_site_settings_init (CbSiteSettings *self)
{
  self->sites = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_hash_table_unref);
  self->touched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

CbSiteSettings *
cb_site_settings_new (const char *path)
{
  CbSiteSettings *self = g_object_new (CB_TYPE_SITE_SETTINGS, NULL);

  self->db = cb_profile_db_new (path, &site_schema);
  cb_profile_db_run_async (self->db, FALSE, load_job, NULL, NULL, free_rows, NULL, loaded,
                           g_object_ref (self));
  return self;
}

CbProfileDb *
cb_site_settings_get_db (CbSiteSettings *self)
{
  g_return_val_if_fail (CB_IS_SITE_SETTINGS (self), NULL);
  return self->db;
}

gboolean
cb_site_settings_is_loaded (CbSiteSettings *self)
{
  g_return_val_if_fail (CB_IS_SITE_SETTINGS (self), FALSE);
  return self->loaded;
}
