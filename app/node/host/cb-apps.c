/* cb-apps.c: repositories, installs and the running systems */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-apps.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cb-changeset.h"
#include "cb-hex.h"
#include "cb-json-check.h"
#include "cb-repo-url.h"
#include "cb-sdk-host.h"
#include "cb-store.h"
#include "cb-version.h"

#ifndef CB_HOST_ARCH
#error "CB_HOST_ARCH must name the architecture plugins are built for"
#endif

/* Root versions one refresh follows; more is a repository gone wrong. */
#define MAX_ROTATIONS 64
#define CORE_FILE "core.so"
#define UI_FILE "ui.so"

G_DEFINE_QUARK (cb-apps-error-quark, cb_apps_error)

typedef struct {
  CbApps         *apps;      /* not a reference: apps owns this */
  char           *system;
  CbPluginModule *module;
  CbContext      *context;
} Running;

typedef struct {
  char   *stage;
  double  fraction;
} Busy;

struct _CbApps
{
  GObject                parent_instance;

  char                  *apps_dir;
  char                  *code_dir;
  char                  *node_id;
  guint8                 node_key[32];
  CbAppState            *state;
  CbRepoFetcher         *fetcher;
  const CbAppsHostFuncs *host;
  gpointer               node;
  gboolean               with_ui;
  char                  *builtin_dir;
  GHashTable            *running;    /* system -> Running* */
  GHashTable            *failures;   /* system -> why it is not running */
  GHashTable            *busy;       /* system -> Busy* */
};

enum { SIGNAL_CHANGED, SIGNAL_PROGRESS, SIGNAL_DATA_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CbApps, cb_apps, G_TYPE_OBJECT)

static gint64
now_unix (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
emit_changed (CbApps *self)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
busy_free (gpointer data)
{
  Busy *busy = data;

  g_free (busy->stage);
  g_free (busy);
}

static void
set_busy (CbApps *self, const char *system, const char *stage, double fraction)
{
  Busy *busy = g_hash_table_lookup (self->busy, system);

  if (busy == NULL)
    {
      busy = g_new0 (Busy, 1);
      g_hash_table_insert (self->busy, g_strdup (system), busy);
    }
  g_free (busy->stage);
  busy->stage = g_strdup (stage);
  busy->fraction = fraction;
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, system, stage, fraction);
}

static void
clear_busy (CbApps *self, const char *system)
{
  g_hash_table_remove (self->busy, system);
}

/* ---- running systems ---- */

static void
running_free (gpointer data)
{
  Running *run = data;

  if (run->context != NULL)
    {
      _cb_context_detach (run->context);
      g_object_unref (run->context);
    }
  if (run->module != NULL)
    {
      cb_plugin_module_unload (run->module);
      g_object_unref (run->module);
    }
  g_free (run->system);
  g_free (run);
}

static GError *
to_sdk_error (GError *error)
{
  GError *out;
  int code = CB_SDK_ERROR_FAILED;

  if (error->domain == CB_SDK_ERROR)
    return error;
  if (error->domain == CB_CHANGESET_ERROR)
    code = CB_SDK_ERROR_INVALID;
  else if (g_error_matches (error, CB_STORE_ERROR, CB_STORE_ERROR_DORMANT)
           || g_error_matches (error, CB_STORE_ERROR, CB_STORE_ERROR_INVALID))
    code = CB_SDK_ERROR_REFUSED;
  else if (g_error_matches (error, CB_STORE_ERROR, CB_STORE_ERROR_UNKNOWN_SYSTEM))
    code = CB_SDK_ERROR_UNAVAILABLE;
  out = g_error_new_literal (CB_SDK_ERROR, code, error->message);
  g_error_free (error);
  return out;
}

static void
on_context_written (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CbApps *self = g_task_get_task_data (task);
  GError *error = NULL;

  if (!self->host->write_finish (self->node, result, &error))
    g_task_return_error (task, to_sdk_error (error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
context_write (gpointer            host,
               CbContextWriteKind  kind,
               const char         *table,
               JsonArray          *rows,
               GTask              *task)
{
  Running *run = host;
  CbApps *self = run->apps;
  CbSchema *schema = cb_plugin_module_get_schema (run->module);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbChangesetBuilder) builder = NULL;
  g_autoptr(GBytes) changeset = NULL;

  if (self->host == NULL || self->node == NULL)
    {
      g_task_return_new_error (task, CB_SDK_ERROR, CB_SDK_ERROR_UNAVAILABLE,
                               "no node hosts %s in this process", run->system);
      g_object_unref (task);
      return;
    }
  builder = cb_changeset_builder_new (schema, &error);
  for (guint i = 0; builder != NULL && error == NULL && i < json_array_get_length (rows); i++)
    {
      JsonNode *element = json_array_get_element (rows, i);

      if (!JSON_NODE_HOLDS_OBJECT (element))
        g_set_error (&error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID, "row %u is not a JSON object",
                     i + 1);
      else if (kind == CB_CONTEXT_WRITE_UPSERT)
        cb_changeset_builder_upsert (builder, table, json_node_get_object (element), &error);
      else
        cb_changeset_builder_delete (builder, table, json_node_get_object (element), &error);
    }
  if (error == NULL && builder != NULL)
    changeset = cb_changeset_builder_finish (builder, &error);
  /* The system's own rules, before the entry is made: peers would refuse
   * it anyway. */
  if (changeset != NULL && !cb_plugin_module_check_local (run->module, self->node_key, changeset,
                                                          &error))
    g_clear_pointer (&changeset, g_bytes_unref);
  if (changeset == NULL)
    {
      g_task_return_error (task, to_sdk_error (g_steal_pointer (&error)));
      g_object_unref (task);
      return;
    }
  /* The app may stop before the write completes: keep the manager only. */
  g_task_set_task_data (task, g_object_ref (self), g_object_unref);
  self->host->write_async (self->node, run->system, changeset, g_task_get_cancellable (task),
                           on_context_written, task);
}

static JsonNode *
context_query (gpointer     host,
               const char  *name,
               JsonObject  *params,
               GError     **error)
{
  Running *run = host;
  CbApps *self = run->apps;
  g_autofree char *sql = NULL;
  GError *local_error = NULL;
  JsonNode *result;

  if (self->host == NULL || self->node == NULL)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_UNAVAILABLE,
                   "no node hosts %s in this process", run->system);
      return NULL;
    }
  sql = cb_plugin_module_bind_query (run->module, name, params, error);
  if (sql == NULL)
    return NULL;
  result = self->host->query (self->node, run->system, sql, &local_error);
  if (result == NULL)
    g_propagate_error (error, to_sdk_error (local_error));
  return result;
}

static const CbContextHostFuncs context_funcs = {
  .write = context_write,
  .query = context_query,
};

/* Hosts a loaded module and gives its plugin a context. */
static gboolean
start_running (CbApps         *self,
               CbPluginModule *module,
               GError        **error)
{
  const char *system = cb_plugin_module_get_system (module);
  Running *run;

  if (self->host != NULL && !self->host->host (self->node, module, error))
    return FALSE;
  run = g_new0 (Running, 1);
  run->apps = self;
  run->system = g_strdup (system);
  run->module = g_object_ref (module);
  run->context = _cb_context_new (system, self->node_id, &context_funcs, run);
  g_hash_table_replace (self->running, run->system, run);
  g_hash_table_remove (self->failures, system);
  cb_plugin_module_started (module, run->context);
  return TRUE;
}

static void
stop_running (CbApps     *self,
              const char *system,
              gboolean    delete_data)
{
  Running *run = g_hash_table_lookup (self->running, system);

  if (run == NULL)
    {
      if (delete_data && self->host != NULL)
        self->host->unhost (self->node, system, TRUE);
      return;
    }
  cb_plugin_module_stopping (run->module, run->context);
  /* The store lets go of the validator before the module goes. */
  if (self->host != NULL)
    self->host->unhost (self->node, system, delete_data);
  g_hash_table_remove (self->running, system);
}

static char *
app_dir (CbApps *self, const char *relative)
{
  return g_build_filename (self->code_dir, relative, NULL);
}

/* Loads an installed version after checking its files are still the ones
 * verified at install. */
static CbPluginModule *
load_installed (CbApps            *self,
                const char        *system,
                const CbAppFiles  *files,
                GError           **error)
{
  g_autofree char *dir = app_dir (self, files->dir);
  g_autofree char *core = g_build_filename (dir, CORE_FILE, NULL);

  if (!cb_repo_file_check (core, &files->core, error))
    return NULL;
  return cb_plugin_module_load (core, system, files->version, error);
}

static void
record_failure (CbApps *self, const char *system, const GError *error)
{
  g_warning ("%s does not run: %s", system, error->message);
  g_hash_table_replace (self->failures, g_strdup (system), g_strdup (error->message));
}

/* ---- lifecycle ---- */

static void
cb_apps_dispose (GObject *object)
{
  CbApps *self = CB_APPS (object);

  cb_apps_stop (self);
  g_clear_object (&self->fetcher);
  G_OBJECT_CLASS (cb_apps_parent_class)->dispose (object);
}

static void
cb_apps_finalize (GObject *object)
{
  CbApps *self = CB_APPS (object);

  g_hash_table_unref (self->running);
  g_hash_table_unref (self->failures);
  g_hash_table_unref (self->busy);
  cb_app_state_close (self->state);
  g_free (self->apps_dir);
  g_free (self->code_dir);
  g_free (self->node_id);
  g_free (self->builtin_dir);
  G_OBJECT_CLASS (cb_apps_parent_class)->finalize (object);
}

static void
cb_apps_class_init (CbAppsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_apps_dispose;
  object_class->finalize = cb_apps_finalize;

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                                           G_TYPE_STRING, G_TYPE_STRING, G_TYPE_DOUBLE);
  signals[SIGNAL_DATA_CHANGED] = g_signal_new ("data-changed", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
cb_apps_init (CbApps *self)
{
  self->running = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, running_free);
  self->failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, busy_free);
  self->fetcher = cb_repo_fetcher_new ();
}

CbApps *
cb_apps_new (const char  *data_dir,
             const char  *node_id,
             GError     **error)
{
  g_autoptr(CbApps) self = g_object_new (CB_TYPE_APPS, NULL);
  g_autofree char *db = NULL;
  const char *ca_file = g_getenv ("CB_APPS_CA_FILE");

  self->apps_dir = g_build_filename (data_dir, "apps", NULL);
  self->code_dir = g_build_filename (self->apps_dir, "code", NULL);
  self->node_id = g_strdup (node_id);
  if (node_id == NULL || !cb_hex_decode (node_id, self->node_key, 32))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "a node id is 64 hex digits");
      return NULL;
    }
  if (g_mkdir_with_parents (self->code_dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s",
                   self->code_dir, g_strerror (errno));
      return NULL;
    }
  db = g_build_filename (self->apps_dir, "apps.db", NULL);
  self->state = cb_app_state_open (db, error);
  if (self->state == NULL)
    return NULL;
  /* Private CAs (and the tests' own): trust exactly this PEM for https. */
  if (ca_file != NULL && *ca_file != '\0')
    {
      g_autoptr(GTlsDatabase) database = g_tls_file_database_new (ca_file, error);

      if (database == NULL)
        {
          g_prefix_error (error, "$CB_APPS_CA_FILE: ");
          return NULL;
        }
      cb_repo_fetcher_set_tls_database (self->fetcher, database);
    }
  return g_steal_pointer (&self);
}

void
cb_apps_set_host (CbApps                *self,
                  const CbAppsHostFuncs *funcs,
                  gpointer               node)
{
  self->host = funcs;
  self->node = node;
}

CbRepoFetcher *
cb_apps_get_fetcher (CbApps *self)
{
  return self->fetcher;
}

void
cb_apps_set_with_ui (CbApps  *self,
                     gboolean with_ui)
{
  self->with_ui = with_ui;
}

void
cb_apps_set_builtin_repository (CbApps     *self,
                                const char *dir)
{
  g_free (self->builtin_dir);
  self->builtin_dir = g_strdup (dir);
}

void
cb_apps_stop (CbApps *self)
{
  g_autoptr(GList) systems = NULL;

  if (self->running == NULL)
    return;
  systems = g_hash_table_get_keys (self->running);
  for (GList *l = systems; l != NULL; l = l->next)
    {
      Running *run = g_hash_table_lookup (self->running, l->data);

      cb_plugin_module_stopping (run->module, run->context);
    }
  /* The node closes its store before this when it stops; a context that
   * outlives it fails with UNAVAILABLE. */
  g_hash_table_remove_all (self->running);
}

/* ---- reading the cached indexes ---- */

static CbRepoIndex *
repo_index (const CbAppRepo *repo)
{
  g_autoptr(CbRepoEnvelope) envelope = NULL;

  if (repo->index == NULL)
    return NULL;
  /* Verified before it was stored. */
  envelope = cb_repo_envelope_parse (g_bytes_get_data (repo->index, NULL),
                                     g_bytes_get_size (repo->index), CB_REPO_MAX_INDEX, NULL);
  return envelope != NULL ? cb_repo_index_parse (envelope->signed_text, NULL) : NULL;
}

typedef struct {
  CbAppRepo     *repo;
  CbRepoPackage *package;
} Offer;

static void
offer_free (gpointer data)
{
  Offer *offer = data;

  cb_app_repo_free (offer->repo);
  cb_repo_package_free (offer->package);
  g_free (offer);
}

/* Every package for this machine's architecture, by system: the offers of
 * the repository an app was installed from come first. */
static GHashTable *
collect_offers (CbApps *self)
{
  GHashTable *offers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, offer_free);
  g_autoptr(GPtrArray) repos = cb_app_state_list_repos (self->state);

  for (guint r = 0; r < repos->len; r++)
    {
      CbAppRepo *repo = repos->pdata[r];
      g_autoptr(CbRepoIndex) index = repo_index (repo);

      for (guint i = 0; index != NULL && i < index->packages->len; i++)
        {
          CbRepoPackage *package = index->packages->pdata[i];
          Offer *have = g_hash_table_lookup (offers, package->system);
          g_autoptr(CbAppRecord) app = NULL;
          gboolean better;
          Offer *offer;

          if (strcmp (package->arch, CB_HOST_ARCH) != 0)
            continue;
          app = cb_app_state_get_app (self->state, package->system);
          if (have == NULL)
            better = TRUE;
          else if (app != NULL && app->repo != 0)
            better = app->repo == repo->id;
          else
            better = cb_version_compare (package->version, have->package->version) > 0;
          if (!better)
            continue;
          offer = g_new0 (Offer, 1);
          offer->repo = cb_app_state_get_repo_by_id (self->state, repo->id);
          offer->package = cb_repo_package_copy (package);
          g_hash_table_replace (offers, g_strdup (package->system), offer);
        }
    }
  return offers;
}

char *
cb_apps_resolve_name (CbApps      *self,
                      const char  *name,
                      GError     **error)
{
  g_autoptr(GHashTable) offers = collect_offers (self);
  g_autoptr(GPtrArray) apps = cb_app_state_list_apps (self->state);
  g_autoptr(GHashTable) titles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) matches = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  if (name == NULL || *name == '\0')
    {
      g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND, "no app name given");
      return NULL;
    }
  for (guint i = 0; i < apps->len; i++)
    {
      CbAppRecord *app = apps->pdata[i];
      g_hash_table_replace (titles, g_strdup (app->system), g_strdup (app->title));
    }
  g_hash_table_iter_init (&iter, offers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (titles, key))
      g_hash_table_replace (titles, g_strdup (key), g_strdup (((Offer *) value)->package->title));
  if (g_hash_table_contains (titles, name))
    return g_strdup (name);
  /* The last part of the name ("guestbook"), or the title, if unique. */
  g_hash_table_iter_init (&iter, titles);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *last = strrchr (key, '/');

      if ((last != NULL && g_ascii_strcasecmp (last + 1, name) == 0)
          || g_ascii_strcasecmp (value, name) == 0)
        g_ptr_array_add (matches, key);
    }
  if (matches->len == 1)
    return g_strdup (matches->pdata[0]);
  if (matches->len > 1)
    {
      g_autoptr(GString) list = g_string_new (NULL);

      for (guint i = 0; i < matches->len; i++)
        g_string_append_printf (list, "%s%s", i ? ", " : "", (char *) matches->pdata[i]);
      g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_AMBIGUOUS,
                   "\"%s\" could be any of %s; give the full system name", name, list->str);
      return NULL;
    }
  g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
               "no app called \"%s\" is installed or offered by the repositories for %s "
               "(`apps list` shows what there is)", name, CB_HOST_ARCH);
  return NULL;
}

/* ---- refreshing one repository ---- */

typedef struct {
  CbApps      *self;
  CbAppRepo   *repo;
  GPtrArray   *pinned;        /* CbRepoRoot*, oldest first; the last is trusted */
  CbRepoRoot  *trusted;       /* owned here */
  CbRepoRoot  *latest;        /* what root.json says */
  GBytes      *latest_bytes;
  GPtrArray   *new_roots;     /* CbRepoRoot* */
  GPtrArray   *new_envelopes; /* GBytes* */
  gboolean     repinned;
} Refresh;

static void
refresh_free (Refresh *r)
{
  cb_app_repo_free (r->repo);
  g_clear_pointer (&r->pinned, g_ptr_array_unref);
  cb_repo_root_free (r->trusted);
  cb_repo_root_free (r->latest);
  g_clear_pointer (&r->latest_bytes, g_bytes_unref);
  g_ptr_array_unref (r->new_roots);
  g_ptr_array_unref (r->new_envelopes);
  g_object_unref (r->self);
  g_free (r);
}

static void refresh_begin (GTask *task);

/* The builtin repository follows the files installed with the app: a new
 * build brings new keys and versions, which are trusted as the binary is. */
static gboolean
maybe_repin_builtin (GTask *task, const GError *error)
{
  Refresh *r = g_task_get_task_data (task);
  g_autoptr(GError) local_error = NULL;

  if (!r->repo->builtin || r->repinned || r->latest == NULL
      || error->domain != CB_REPO_ERROR
      || (error->code != CB_REPO_ERROR_KEY_CHANGED && error->code != CB_REPO_ERROR_ROLLBACK
          && error->code != CB_REPO_ERROR_MIX_AND_MATCH))
    return FALSE;
  g_info ("the app's own repository changed with the installed files (%s); trusting them",
          error->message);
  if (!cb_app_state_repin_repo (r->self->state, r->repo->id, r->latest_bytes, r->latest,
                                &local_error))
    return FALSE;
  r->repinned = TRUE;
  refresh_begin (task);
  return TRUE;
}

static void
refresh_fail (GTask *task, GError *error)
{
  Refresh *r = g_task_get_task_data (task);

  if (maybe_repin_builtin (task, error))
    {
      g_error_free (error);
      return;
    }
  g_prefix_error (&error, "%s: ", r->repo->url);
  cb_app_state_set_repo_error (r->self->state, r->repo->id, error->message);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
same_keys (const CbRepoRoot *a, const CbRepoRoot *b)
{
  g_autofree char *fa = cb_repo_root_fingerprint (a);
  g_autofree char *fb = cb_repo_root_fingerprint (b);

  return strcmp (fa, fb) == 0;
}

static void
on_index (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  Refresh *r = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) bytes = cb_repo_fetcher_get_finish (CB_REPO_FETCHER (source), result, &error);
  g_autoptr(GPtrArray) earlier = NULL;
  g_autoptr(CbRepoIndex) index = NULL;

  if (bytes == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  /* Keys any pinned root listed: signatures by them are "revoked". */
  earlier = g_ptr_array_new ();
  for (guint i = 0; i < r->pinned->len; i++)
    g_ptr_array_add (earlier, r->pinned->pdata[i]);
  for (guint i = 0; i + 1 < r->new_roots->len; i++)
    g_ptr_array_add (earlier, r->new_roots->pdata[i]);
  index = cb_repo_verify_index (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                r->trusted, earlier, r->repinned ? 0 : r->repo->index_version,
                                now_unix (), &error);
  if (index == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  /* The same version must be the same document. */
  if (!r->repinned && index->version == r->repo->index_version && r->repo->index != NULL)
    {
      g_autoptr(CbRepoEnvelope) old = cb_repo_envelope_parse (g_bytes_get_data (r->repo->index, NULL),
                                                              g_bytes_get_size (r->repo->index),
                                                              CB_REPO_MAX_INDEX, NULL);
      g_autoptr(CbRepoEnvelope) now = cb_repo_envelope_parse (g_bytes_get_data (bytes, NULL),
                                                              g_bytes_get_size (bytes),
                                                              CB_REPO_MAX_INDEX, NULL);

      if (old != NULL && now != NULL && strcmp (old->signed_text, now->signed_text) != 0)
        {
          refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                                           "index version %" G_GUINT64_FORMAT " changed without "
                                           "a new version number", index->version));
          return;
        }
    }
  /* No package goes back to a version older than one seen before. */
  for (guint i = 0; !r->repinned && i < index->packages->len; i++)
    {
      const CbRepoPackage *package = index->packages->pdata[i];
      g_autofree char *seen = cb_app_state_get_seen (r->self->state, r->repo->id, package->system,
                                                     package->arch);

      if (seen != NULL && cb_version_compare (package->version, seen) < 0)
        {
          refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK,
                                           "index version %" G_GUINT64_FORMAT " offers %s %s, "
                                           "older than version %s seen before (a rollback)",
                                           index->version, package->system, package->version,
                                           seen));
          return;
        }
    }
  if (!cb_app_state_commit_refresh (r->self->state, r->repo->id, r->new_roots, r->new_envelopes,
                                    bytes, index, now_unix (), &error))
    {
      refresh_fail (task, error);
      return;
    }
  g_debug ("%s: index version %" G_GUINT64_FORMAT ", %u packages", r->repo->url, index->version,
           index->packages->len);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
fetch_index (GTask *task)
{
  Refresh *r = g_task_get_task_data (task);
  g_autofree char *url = cb_repo_url_file (r->repo->base, "index.json");
  g_autoptr(GError) error = NULL;

  if (r->trusted->expires <= now_unix ())
    {
      g_autofree char *when = cb_json_format_time (r->trusted->expires);

      refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_EXPIRED,
                                       "root version %" G_GUINT64_FORMAT " expired on %s; the "
                                       "publisher must renew it", r->trusted->version, when));
      return;
    }
  cb_repo_fetcher_get_async (r->self->fetcher, url, CB_REPO_MAX_INDEX,
                             g_task_get_cancellable (task), on_index, task);
}

static void fetch_next_root (GTask *task);

static void
on_next_root (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  Refresh *r = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) bytes = cb_repo_fetcher_get_finish (CB_REPO_FETCHER (source), result, &error);
  CbRepoRoot *next;

  if (bytes == NULL)
    {
      if (g_error_matches (error, CB_REPO_ERROR, CB_REPO_ERROR_NOT_FOUND))
        {
          g_autofree char *was = cb_repo_root_fingerprint (r->trusted);
          g_autofree char *now = cb_repo_root_fingerprint (r->latest);

          g_clear_error (&error);
          error = g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_KEY_CHANGED,
                               "updates are blocked: the publisher's key changed from %s to %s "
                               "without a rotation signed by the old key (root version %"
                               G_GUINT64_FORMAT " is missing). If you trust the new key, remove "
                               "the repository and add it again", was, now,
                               r->trusted->version + 1);
        }
      refresh_fail (task, error);
      return;
    }
  next = cb_repo_verify_root (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), r->trusted,
                              now_unix (), FALSE, &error);
  if (next == NULL)
    {
      g_prefix_error (&error, "updates are blocked: ");
      refresh_fail (task, error);
      return;
    }
  g_ptr_array_add (r->new_envelopes, g_bytes_ref (bytes));
  g_ptr_array_add (r->new_roots, cb_repo_root_copy (next));
  cb_repo_root_free (r->trusted);
  r->trusted = next;
  fetch_next_root (task);
}

static void
fetch_next_root (GTask *task)
{
  Refresh *r = g_task_get_task_data (task);
  g_autofree char *name = NULL;
  g_autofree char *url = NULL;

  if (r->trusted->version >= r->latest->version)
    {
      if (!same_keys (r->trusted, r->latest))
        {
          refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                                           "root.json is not the root its rotations lead to"));
          return;
        }
      fetch_index (task);
      return;
    }
  if (r->new_roots->len >= MAX_ROTATIONS)
    {
      refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_TOO_LARGE,
                                       "more than %d root rotations at once", MAX_ROTATIONS));
      return;
    }
  name = g_strdup_printf ("%" G_GUINT64_FORMAT ".root.json", r->trusted->version + 1);
  url = cb_repo_url_file (r->repo->base, name);
  cb_repo_fetcher_get_async (r->self->fetcher, url, CB_REPO_MAX_ROOT,
                             g_task_get_cancellable (task), on_next_root, task);
}

static void
on_latest_root (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  Refresh *r = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) bytes = cb_repo_fetcher_get_finish (CB_REPO_FETCHER (source), result, &error);

  if (bytes == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  g_clear_pointer (&r->latest, cb_repo_root_free);
  r->latest = cb_repo_verify_root (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL,
                                   now_unix (), FALSE, &error);
  if (r->latest == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  g_clear_pointer (&r->latest_bytes, g_bytes_unref);
  r->latest_bytes = g_bytes_ref (bytes);
  if (r->latest->version < r->trusted->version)
    {
      refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK,
                                       "the repository serves root version %" G_GUINT64_FORMAT
                                       ", older than version %" G_GUINT64_FORMAT " pinned here",
                                       r->latest->version, r->trusted->version));
      return;
    }
  if (r->latest->version == r->trusted->version && !same_keys (r->latest, r->trusted))
    {
      g_autofree char *was = cb_repo_root_fingerprint (r->trusted);
      g_autofree char *now = cb_repo_root_fingerprint (r->latest);

      refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_KEY_CHANGED,
                                       "updates are blocked: the publisher's key changed from %s "
                                       "to %s without a rotation signed by the old key. If you "
                                       "trust the new key, remove the repository and add it "
                                       "again", was, now));
      return;
    }
  fetch_next_root (task);
}

static void
refresh_begin (GTask *task)
{
  Refresh *r = g_task_get_task_data (task);
  g_autofree char *url = NULL;
  GError *error = NULL;
  CbAppRepo *fresh = cb_app_state_get_repo_by_id (r->self->state, r->repo->id);

  if (fresh == NULL)
    {
      g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
                               "the repository %s was removed", r->repo->url);
      g_object_unref (task);
      return;
    }
  cb_app_repo_free (r->repo);
  r->repo = fresh;
  g_clear_pointer (&r->pinned, g_ptr_array_unref);
  g_clear_pointer (&r->trusted, cb_repo_root_free);
  g_ptr_array_set_size (r->new_roots, 0);
  g_ptr_array_set_size (r->new_envelopes, 0);
  r->pinned = cb_app_state_get_roots (r->self->state, r->repo->id, &error);
  if (r->pinned == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  r->trusted = cb_repo_root_copy (g_ptr_array_index (r->pinned, r->pinned->len - 1));
  g_ptr_array_remove_index (r->pinned, r->pinned->len - 1);
  url = cb_repo_url_file (r->repo->base, "root.json");
  cb_repo_fetcher_get_async (r->self->fetcher, url, CB_REPO_MAX_ROOT,
                             g_task_get_cancellable (task), on_latest_root, task);
}

static void
refresh_repo_async (CbApps              *self,
                    gint64               repo_id,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Refresh *r = g_new0 (Refresh, 1);

  g_task_set_source_tag (task, refresh_repo_async);
  r->self = g_object_ref (self);
  r->repo = g_new0 (CbAppRepo, 1);
  r->repo->id = repo_id;
  r->repo->url = g_strdup ("?");
  r->new_roots = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_repo_root_free);
  r->new_envelopes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_task_set_task_data (task, r, (GDestroyNotify) refresh_free);
  refresh_begin (task);
}

static gboolean
refresh_repo_finish (CbApps *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- adding, removing, refreshing repositories ---- */

typedef struct {
  char   *url;
  char   *base;
  gint64  id;
  gboolean builtin;
} AddOp;

static void
add_op_free (AddOp *op)
{
  g_free (op->url);
  g_free (op->base);
  g_free (op);
}

static JsonNode *
describe_repo (CbApps *self, gint64 id)
{
  g_autoptr(CbAppRepo) repo = cb_app_state_get_repo_by_id (self->state, id);
  g_autoptr(CbRepoIndex) index = repo != NULL ? repo_index (repo) : NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  if (repo != NULL)
    {
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, repo->url);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, repo->name);
      json_builder_set_member_name (builder, "fingerprint");
      json_builder_add_string_value (builder, repo->fingerprint);
      json_builder_set_member_name (builder, "packages");
      json_builder_add_int_value (builder, index != NULL ? index->packages->len : 0);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
on_added_refreshed (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  CbApps *self = g_task_get_source_object (task);
  AddOp *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!refresh_repo_finish (self, result, &error))
    {
      /* A repository whose index does not verify is not added. */
      cb_app_state_remove_repo (self->state, op->id, NULL);
      g_task_return_error (task, error);
    }
  else
    {
      emit_changed (self);
      g_task_return_pointer (task, describe_repo (self, op->id), (GDestroyNotify) json_node_unref);
    }
  g_object_unref (task);
}

static void
on_first_root (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  CbApps *self = g_task_get_source_object (task);
  AddOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) bytes = cb_repo_fetcher_get_finish (CB_REPO_FETCHER (source), result, &error);
  g_autoptr(CbRepoRoot) root = NULL;

  if (bytes != NULL)
    root = cb_repo_verify_root (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL,
                                now_unix (), TRUE, &error);
  /* Trust on first use: this root's keys are pinned from now on. */
  if (root == NULL
      || !cb_app_state_add_repo (self->state, op->url, op->base, op->builtin, bytes, root,
                                 now_unix (), &op->id, &error))
    {
      if (error->domain == CB_REPO_ERROR && error->code == CB_REPO_ERROR_NOT_FOUND)
        g_prefix_error (&error, "%s is not a Cloud Bevy repository (no root.json): ", op->url);
      else
        g_prefix_error (&error, "%s: ", op->url);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  refresh_repo_async (self, op->id, g_task_get_cancellable (task), on_added_refreshed, task);
}

static void
add_repository (CbApps              *self,
                const char          *address,
                gboolean             builtin,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  AddOp *op = g_new0 (AddOp, 1);
  g_autoptr(CbAppRepo) existing = NULL;
  g_autofree char *root_url = NULL;
  GError *error = NULL;

  g_task_set_source_tag (task, cb_apps_add_repository_async);
  g_task_set_task_data (task, op, (GDestroyNotify) add_op_free);
  op->builtin = builtin;
  op->url = cb_repo_url_normalize (address, &error);
  if (op->url == NULL || (op->base = cb_repo_url_resolve (address, &error)) == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  existing = cb_app_state_get_repo (self->state, op->url);
  if (existing != NULL)
    {
      g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_EXISTS,
                               "the repository %s is added already (publisher %s)", op->url,
                               existing->fingerprint);
      g_object_unref (task);
      return;
    }
  root_url = cb_repo_url_file (op->base, "root.json");
  cb_repo_fetcher_get_async (self->fetcher, root_url, CB_REPO_MAX_ROOT, cancellable,
                             on_first_root, task);
}

void
cb_apps_add_repository_async (CbApps              *self,
                              const char          *address,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  add_repository (self, address, FALSE, cancellable, callback, user_data);
}

JsonNode *
cb_apps_add_repository_finish (CbApps        *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static CbAppRepo *
find_repo (CbApps *self, const char *address, GError **error)
{
  g_autofree char *url = cb_repo_url_normalize (address, error);
  CbAppRepo *repo;

  if (url == NULL)
    return NULL;
  repo = cb_app_state_get_repo (self->state, url);
  if (repo == NULL)
    g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
                 "no repository %s is added here", url);
  return repo;
}

gboolean
cb_apps_remove_repository (CbApps      *self,
                           const char  *address,
                           GError     **error)
{
  g_autoptr(CbAppRepo) repo = find_repo (self, address, error);

  if (repo == NULL || !cb_app_state_remove_repo (self->state, repo->id, error))
    return FALSE;
  emit_changed (self);
  return TRUE;
}

typedef struct {
  guint   pending;
  guint   failed;
  guint   total;
  GError *first_error;
} RefreshAll;

static void
refresh_all_free (RefreshAll *all)
{
  g_clear_error (&all->first_error);
  g_free (all);
}

static void
on_one_refreshed (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  CbApps *self = CB_APPS (source);
  RefreshAll *all = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!refresh_repo_finish (self, result, &error))
    {
      /* Recorded with the repository: the catalog shows it. */
      g_info ("%s", error->message);
      all->failed++;
      if (all->first_error == NULL)
        all->first_error = g_steal_pointer (&error);
    }
  if (--all->pending > 0)
    return;
  emit_changed (self);
  if (all->failed > 0 && all->failed == all->total)
    g_task_return_error (task, g_steal_pointer (&all->first_error));
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

void
cb_apps_refresh_async (CbApps              *self,
                       const char          *address,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  RefreshAll *all = g_new0 (RefreshAll, 1);
  g_autoptr(GPtrArray) repos = NULL;
  GError *error = NULL;

  g_task_set_source_tag (task, cb_apps_refresh_async);
  g_task_set_task_data (task, all, (GDestroyNotify) refresh_all_free);
  if (address != NULL)
    {
      CbAppRepo *repo = find_repo (self, address, &error);

      if (repo == NULL)
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      repos = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_app_repo_free);
      g_ptr_array_add (repos, repo);
    }
  else
    repos = cb_app_state_list_repos (self->state);
  if (repos->len == 0)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  all->pending = all->total = repos->len;
  for (guint i = 0; i < repos->len; i++)
    refresh_repo_async (self, ((CbAppRepo *) repos->pdata[i])->id, cancellable, on_one_refreshed,
                        task);
}

gboolean
cb_apps_refresh_finish (CbApps        *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the catalog ---- */

static void
add_files_size (JsonBuilder *builder, const char *member, guint64 size)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, (gint64) size);
}

static void
describe_running (JsonBuilder *builder, CbPluginModule *module)
{
  GPtrArray *verbs = cb_plugin_module_get_verbs (module);
  g_auto(GStrv) queries = cb_plugin_module_list_queries (module);

  json_builder_set_member_name (builder, "verbs");
  json_builder_begin_array (builder);
  for (guint i = 0; verbs != NULL && i < verbs->len; i++)
    {
      CbPluginVerb *verb = verbs->pdata[i];

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, verb->name);
      json_builder_set_member_name (builder, "summary");
      json_builder_add_string_value (builder, verb->summary);
      json_builder_set_member_name (builder, "params");
      json_builder_add_string_value (builder, verb->params_help);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "queries");
  json_builder_begin_array (builder);
  for (guint i = 0; queries[i] != NULL; i++)
    json_builder_add_string_value (builder, queries[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "web_ui");
  json_builder_add_boolean_value (builder, cb_plugin_module_has_web_ui (module));
}

static void
describe_app (CbApps      *self,
              JsonBuilder *builder,
              const char  *system,
              CbAppRecord *app,
              Offer       *offer)
{
  Running *run = g_hash_table_lookup (self->running, system);
  Busy *busy = g_hash_table_lookup (self->busy, system);
  const char *failure = g_hash_table_lookup (self->failures, system);
  g_autoptr(CbAppRepo) from = app != NULL && app->repo != 0
                              ? cb_app_state_get_repo_by_id (self->state, app->repo) : NULL;
  CbAppRepo *repo = from != NULL ? from : (offer != NULL ? offer->repo : NULL);
  g_autofree char *origin = cb_system_name_to_origin_host (system);
  const char *state;

  if (busy != NULL)
    state = "busy";
  else if (app == NULL)
    state = "available";
  else if (failure != NULL && app->enabled)
    state = "failed";
  else if (!app->enabled)
    state = "disabled";
  else if (offer != NULL && cb_version_compare (offer->package->version, app->current.version) > 0)
    state = "update";
  else
    state = "installed";

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, system);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, offer != NULL ? offer->package->title : app->title);
  json_builder_set_member_name (builder, "description");
  json_builder_add_string_value (builder, offer != NULL ? offer->package->description
                                                        : app->description);
  json_builder_set_member_name (builder, "origin");
  json_builder_add_string_value (builder, origin);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, state);
  json_builder_set_member_name (builder, "repository");
  if (repo != NULL)
    json_builder_add_string_value (builder, repo->url);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "publisher");
  if (repo != NULL)
    json_builder_add_string_value (builder, repo->name);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "fingerprint");
  if (repo != NULL)
    json_builder_add_string_value (builder, repo->fingerprint);
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "available");
  if (offer != NULL)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "version");
      json_builder_add_string_value (builder, offer->package->version);
      add_files_size (builder, "size", offer->package->core.size
                                       + (self->with_ui && offer->package->has_ui
                                          ? offer->package->ui.size : 0));
      json_builder_set_member_name (builder, "native_ui");
      json_builder_add_boolean_value (builder, offer->package->has_ui);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "installed");
  if (app != NULL)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "version");
      json_builder_add_string_value (builder, app->current.version);
      json_builder_set_member_name (builder, "enabled");
      json_builder_add_boolean_value (builder, app->enabled);
      json_builder_set_member_name (builder, "running");
      json_builder_add_boolean_value (builder, run != NULL);
      add_files_size (builder, "size", app->current.core.size
                                       + (app->current.has_ui ? app->current.ui.size : 0));
      json_builder_set_member_name (builder, "native_ui");
      json_builder_add_boolean_value (builder, app->current.has_ui);
      json_builder_set_member_name (builder, "previous");
      if (app->has_previous)
        json_builder_add_string_value (builder, app->previous.version);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "installed_at");
      json_builder_add_int_value (builder, app->installed);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "error");
  if (failure != NULL && app != NULL && app->enabled)
    json_builder_add_string_value (builder, failure);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "progress");
  if (busy != NULL)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "stage");
      json_builder_add_string_value (builder, busy->stage);
      json_builder_set_member_name (builder, "fraction");
      json_builder_add_double_value (builder, busy->fraction);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);
  if (run != NULL)
    describe_running (builder, run->module);
  json_builder_end_object (builder);
}

JsonNode *
cb_apps_list (CbApps *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) repos = cb_app_state_list_repos (self->state);
  g_autoptr(GPtrArray) apps = cb_app_state_list_apps (self->state);
  g_autoptr(GHashTable) offers = collect_offers (self);
  g_autoptr(GList) offered = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "arch");
  json_builder_add_string_value (builder, CB_HOST_ARCH);
  json_builder_set_member_name (builder, "repositories");
  json_builder_begin_array (builder);
  for (guint i = 0; i < repos->len; i++)
    {
      CbAppRepo *repo = repos->pdata[i];
      g_autoptr(CbRepoIndex) index = repo_index (repo);
      g_autofree char *base_shown = g_strcmp0 (repo->base, repo->url) != 0 ? g_strdup (repo->base) : NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, repo->url);
      json_builder_set_member_name (builder, "base");
      json_builder_add_string_value (builder, repo->base);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, repo->name);
      json_builder_set_member_name (builder, "fingerprint");
      json_builder_add_string_value (builder, repo->fingerprint);
      json_builder_set_member_name (builder, "builtin");
      json_builder_add_boolean_value (builder, repo->builtin);
      json_builder_set_member_name (builder, "root_version");
      json_builder_add_int_value (builder, (gint64) repo->root_version);
      json_builder_set_member_name (builder, "index_version");
      json_builder_add_int_value (builder, (gint64) repo->index_version);
      json_builder_set_member_name (builder, "packages");
      json_builder_add_int_value (builder, index != NULL ? index->packages->len : 0);
      json_builder_set_member_name (builder, "refreshed");
      json_builder_add_int_value (builder, repo->refreshed);
      json_builder_set_member_name (builder, "error");
      if (repo->error != NULL)
        json_builder_add_string_value (builder, repo->error);
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "apps");
  json_builder_begin_array (builder);
  for (guint i = 0; i < apps->len; i++)
    {
      CbAppRecord *app = apps->pdata[i];

      describe_app (self, builder, app->system, app, g_hash_table_lookup (offers, app->system));
    }
  offered = g_hash_table_get_keys (offers);
  offered = g_list_sort (offered, (GCompareFunc) strcmp);
  for (GList *l = offered; l != NULL; l = l->next)
    {
      g_autoptr(CbAppRecord) app = cb_app_state_get_app (self->state, l->data);

      if (app == NULL)
        describe_app (self, builder, l->data, NULL, g_hash_table_lookup (offers, l->data));
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* ---- installing and updating ---- */

typedef struct {
  char          *system;
  char          *parent;       /* code/ORIGIN: removed again if nothing is left in it */
  gint64         repo_id;
  gboolean       update;
  CbRepoPackage *package;
  CbAppRepo     *repo;
  char          *relative;     /* ORIGIN/VERSION under code/ */
  char          *staging;      /* full path of the temporary directory */
  CbAppFiles     files;
} InstallOp;

static void
install_op_free (InstallOp *op)
{
  if (op->staging != NULL)
    {
      g_autofree char *core = g_build_filename (op->staging, CORE_FILE, NULL);
      g_autofree char *ui = g_build_filename (op->staging, UI_FILE, NULL);

      g_unlink (core);
      g_unlink (ui);
      g_rmdir (op->staging);
    }
  if (op->parent != NULL)
    g_rmdir (op->parent);  /* only when empty: a failed first install */
  g_free (op->parent);
  g_free (op->system);
  cb_repo_package_free (op->package);
  cb_app_repo_free (op->repo);
  g_free (op->relative);
  g_free (op->staging);
  cb_app_files_clear (&op->files);
  g_free (op);
}

static void
install_fail (GTask *task, GError *error)
{
  CbApps *self = g_task_get_source_object (task);
  InstallOp *op = g_task_get_task_data (task);

  clear_busy (self, op->system);
  emit_changed (self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
remove_tree (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  if (handle == NULL)
    return g_rmdir (dir) == 0 || errno == ENOENT;
  while ((name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  return g_rmdir (dir) == 0;
}

static JsonNode *
describe_installed (const char *system, const char *version, const char *previous)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, system);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, version);
  if (previous != NULL)
    {
      json_builder_set_member_name (builder, "previous");
      json_builder_add_string_value (builder, previous);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* The files are verified: move them into place, load, swap, record, host. */
static void
install_commit (GTask *task)
{
  CbApps *self = g_task_get_source_object (task);
  InstallOp *op = g_task_get_task_data (task);
  g_autofree char *final = app_dir (self, op->relative);
  g_autofree char *core = NULL;
  g_autoptr(CbAppRecord) old = cb_app_state_get_app (self->state, op->system);
  g_autoptr(CbPluginModule) module = NULL;
  g_autoptr(CbAppRecord) record = g_new0 (CbAppRecord, 1);
  g_autofree char *old_previous_dir = NULL;
  GError *error = NULL;

  set_busy (self, op->system, "loading", -1);
  /* A leftover of an old install of this very version (kept as the
   * previous one after a rollback) is replaced by what was just checked. */
  if (old != NULL && old->has_previous && g_strcmp0 (old->previous.dir, op->relative) == 0)
    {
      old->has_previous = FALSE;
      cb_app_files_clear (&old->previous);
    }
  if (g_file_test (final, G_FILE_TEST_EXISTS)
      && (old == NULL || g_strcmp0 (old->current.dir, op->relative) != 0))
    remove_tree (final);
  if (g_rename (op->staging, final) != 0)
    {
      install_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_FAILED,
                                       "cannot move the download into %s: %s", final,
                                       g_strerror (errno)));
      return;
    }
  g_clear_pointer (&op->staging, g_free);
  core = g_build_filename (final, CORE_FILE, NULL);
  /* Only now does any of its code run. */
  module = cb_plugin_module_load (core, op->system, op->package->version, &error);
  if (module == NULL)
    {
      remove_tree (final);
      install_fail (task, error);
      return;
    }

  record->system = g_strdup (op->system);
  record->repo = op->repo->id;
  record->title = g_strdup (op->package->title);
  record->description = g_strdup (op->package->description);
  record->enabled = old != NULL ? old->enabled : TRUE;
  record->installed = now_unix ();
  cb_app_files_copy (&record->current, &op->files);
  if (old != NULL)
    {
      record->has_previous = TRUE;
      cb_app_files_copy (&record->previous, &old->current);
      if (old->has_previous)
        old_previous_dir = g_strdup (old->previous.dir);
    }
  if (old != NULL)
    stop_running (self, op->system, FALSE);
  if (!cb_app_state_put_app (self->state, record, &error))
    {
      cb_plugin_module_unload (module);
      remove_tree (final);
      if (old != NULL && old->enabled)
        {
          g_autoptr(GError) again = NULL;
          g_autoptr(CbPluginModule) back = load_installed (self, op->system, &old->current, &again);

          if (back == NULL || !start_running (self, back, &again))
            record_failure (self, op->system, again);
        }
      install_fail (task, error);
      return;
    }
  if (old_previous_dir != NULL && g_strcmp0 (old_previous_dir, op->relative) != 0)
    {
      g_autofree char *gone = app_dir (self, old_previous_dir);
      remove_tree (gone);
    }
  if (record->enabled && !start_running (self, module, &error))
    {
      record_failure (self, op->system, error);
      g_clear_error (&error);
    }
  clear_busy (self, op->system);
  emit_changed (self);
  g_info ("%s %s %s from %s", op->update ? "updated" : "installed", op->system,
          op->package->version, op->repo->url);
  g_task_return_pointer (task, describe_installed (op->system, op->package->version,
                                                   old != NULL ? old->current.version : NULL),
                         (GDestroyNotify) json_node_unref);
  g_object_unref (task);
}

static void
on_download_progress (guint64 received, guint64 total, gpointer user_data)
{
  GTask *task = user_data;
  CbApps *self = g_task_get_source_object (task);
  InstallOp *op = g_task_get_task_data (task);
  guint64 all = op->package->core.size + (op->files.has_ui ? op->package->ui.size : 0);
  guint64 before = g_strcmp0 (g_object_get_data (G_OBJECT (task), "cb-stage"), "ui") == 0
                   ? op->package->core.size : 0;

  set_busy (self, op->system, "downloading", all > 0 ? (double) (before + received) / (double) all : -1);
}

static void
on_ui_downloaded (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!cb_repo_fetcher_download_finish (CB_REPO_FETCHER (source), result, &error))
    {
      install_fail (task, error);
      return;
    }
  install_commit (task);
}

static void
on_core_downloaded (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  CbApps *self = g_task_get_source_object (task);
  InstallOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *dest = NULL;

  if (!cb_repo_fetcher_download_finish (CB_REPO_FETCHER (source), result, &error))
    {
      install_fail (task, error);
      return;
    }
  if (!op->files.has_ui)
    {
      install_commit (task);
      return;
    }
  g_object_set_data (G_OBJECT (task), "cb-stage", (gpointer) "ui");
  url = cb_repo_url_file (op->repo->base, op->package->ui.url);
  dest = g_build_filename (op->staging, UI_FILE, NULL);
  cb_repo_fetcher_download_async (self->fetcher, url, &op->package->ui, dest, on_download_progress,
                                  task, g_task_get_cancellable (task), on_ui_downloaded, task);
}

static void
install_download (GTask *task)
{
  CbApps *self = g_task_get_source_object (task);
  InstallOp *op = g_task_get_task_data (task);
  g_autofree char *origin = cb_system_name_to_origin_host (op->system);
  g_autofree char *parent = g_build_filename (self->code_dir, origin, NULL);
  g_autofree char *url = NULL;
  g_autofree char *dest = NULL;

  if (strcmp (op->package->arch, CB_HOST_ARCH) != 0 || strcmp (op->package->abi, CB_SDK_ABI_NAME) != 0)
    {
      install_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_UNSUPPORTED,
                                       "%s %s is built for %s with %s; this machine needs %s "
                                       "with %s", op->system, op->package->version,
                                       op->package->arch, op->package->abi, CB_HOST_ARCH,
                                       CB_SDK_ABI_NAME));
      return;
    }
  op->relative = g_build_filename (origin, op->package->version, NULL);
  op->files.version = g_strdup (op->package->version);
  op->files.dir = g_strdup (op->relative);
  op->files.core = op->package->core;
  op->files.core.url = g_strdup (CORE_FILE);
  op->files.has_ui = self->with_ui && op->package->has_ui;
  if (op->files.has_ui)
    {
      op->files.ui = op->package->ui;
      op->files.ui.url = g_strdup (UI_FILE);
    }
  op->parent = g_strdup (parent);
  if (g_mkdir_with_parents (parent, 0700) != 0)
    {
      install_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_FAILED, "cannot create %s: %s",
                                       parent, g_strerror (errno)));
      return;
    }
  op->staging = g_build_filename (parent, ".staging-XXXXXX", NULL);
  if (g_mkdtemp_full (op->staging, 0700) == NULL)
    {
      g_clear_pointer (&op->staging, g_free);
      install_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_FAILED, "cannot create a "
                                       "directory in %s: %s", parent, g_strerror (errno)));
      return;
    }
  set_busy (self, op->system, "downloading", 0);
  url = cb_repo_url_file (op->repo->base, op->package->core.url);
  dest = g_build_filename (op->staging, CORE_FILE, NULL);
  cb_repo_fetcher_download_async (self->fetcher, url, &op->package->core, dest,
                                  on_download_progress, task, g_task_get_cancellable (task),
                                  on_core_downloaded, task);
}

static void
on_install_refreshed (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GTask *task = user_data;
  CbApps *self = g_task_get_source_object (task);
  InstallOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(CbRepoIndex) index = NULL;
  g_autoptr(CbAppRecord) app = NULL;
  const CbRepoPackage *package;

  if (!refresh_repo_finish (self, result, &error))
    {
      install_fail (task, error);
      return;
    }
  op->repo = cb_app_state_get_repo_by_id (self->state, op->repo_id);
  index = op->repo != NULL ? repo_index (op->repo) : NULL;
  package = index != NULL ? cb_repo_index_lookup (index, op->system, CB_HOST_ARCH) : NULL;
  if (package == NULL)
    {
      install_fail (task, g_error_new (CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
                                       "the repository no longer offers %s for %s", op->system,
                                       CB_HOST_ARCH));
      return;
    }
  app = cb_app_state_get_app (self->state, op->system);
  if (op->update && app != NULL && cb_version_compare (package->version, app->current.version) <= 0)
    {
      clear_busy (self, op->system);
      g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_UP_TO_DATE,
                               "%s %s is the newest version %s offers", op->system,
                               app->current.version, op->repo->url);
      g_object_unref (task);
      return;
    }
  op->package = cb_repo_package_copy (package);
  install_download (task);
}

static void
install_start (CbApps              *self,
               const char          *name,
               gboolean             update,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  InstallOp *op = g_new0 (InstallOp, 1);
  g_autoptr(CbAppRecord) app = NULL;
  g_autoptr(GHashTable) offers = NULL;
  Offer *offer;
  GError *error = NULL;

  g_task_set_source_tag (task, cb_apps_install_async);
  g_task_set_task_data (task, op, (GDestroyNotify) install_op_free);
  op->update = update;
  op->system = cb_apps_resolve_name (self, name, &error);
  if (op->system == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (g_hash_table_contains (self->busy, op->system))
    {
      g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_BUSY,
                               "%s is being installed or updated already", op->system);
      g_object_unref (task);
      return;
    }
  app = cb_app_state_get_app (self->state, op->system);
  if (!update && app != NULL)
    {
      g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_EXISTS,
                               "%s %s is installed already; `apps update` gets newer versions",
                               op->system, app->current.version);
      g_object_unref (task);
      return;
    }
  if (update && app == NULL)
    {
      g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
                               "%s is not installed", op->system);
      g_object_unref (task);
      return;
    }
  if (update && app->repo == 0)
    {
      g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
                               "%s gets no updates: the repository it came from was removed",
                               op->system);
      g_object_unref (task);
      return;
    }
  /* Updates come only from the repository an app was installed from. */
  if (update)
    op->repo_id = app->repo;
  else
    {
      offers = collect_offers (self);
      offer = g_hash_table_lookup (offers, op->system);
      if (offer == NULL)
        {
          g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
                                   "no repository offers %s for %s", op->system, CB_HOST_ARCH);
          g_object_unref (task);
          return;
        }
      op->repo_id = offer->repo->id;
    }
  set_busy (self, op->system, "refreshing", -1);
  emit_changed (self);
  refresh_repo_async (self, op->repo_id, cancellable, on_install_refreshed, task);
}

void
cb_apps_install_async (CbApps              *self,
                       const char          *name,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  install_start (self, name, FALSE, cancellable, callback, user_data);
}

typedef struct {
  GPtrArray *pending;   /* char*: systems still to update */
  JsonArray *updated;
  GError    *error;
} UpdateAll;

static void
update_all_free (UpdateAll *all)
{
  g_ptr_array_unref (all->pending);
  json_array_unref (all->updated);
  g_clear_error (&all->error);
  g_free (all);
}

static void update_next (GTask *task);

static void
on_one_updated (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  UpdateAll *all = g_task_get_task_data (task);
  GError *error = NULL;
  JsonNode *done = g_task_propagate_pointer (G_TASK (result), &error);

  if (done != NULL)
    json_array_add_element (all->updated, done);
  else if (g_error_matches (error, CB_APPS_ERROR, CB_APPS_ERROR_UP_TO_DATE))
    g_clear_error (&error);
  else
    {
      g_info ("%s", error->message);
      if (all->error == NULL)
        all->error = error;
      else
        g_clear_error (&error);
    }
  update_next (task);
}

static void
update_next (GTask *task)
{
  CbApps *self = g_task_get_source_object (task);
  UpdateAll *all = g_task_get_task_data (task);
  g_autofree char *system = NULL;

  if (all->pending->len == 0)
    {
      g_autoptr(JsonObject) obj = json_object_new ();
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      if (all->error != NULL && json_array_get_length (all->updated) == 0)
        {
          g_task_return_error (task, g_steal_pointer (&all->error));
          json_node_unref (node);
        }
      else
        {
          json_object_set_array_member (obj, "updated", json_array_ref (all->updated));
          if (all->error != NULL)
            json_object_set_string_member (obj, "error", all->error->message);
          json_node_set_object (node, obj);
          g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
        }
      g_object_unref (task);
      return;
    }
  system = g_ptr_array_steal_index (all->pending, 0);
  install_start (self, system, TRUE, g_task_get_cancellable (task), on_one_updated, task);
}

void
cb_apps_update_async (CbApps              *self,
                      const char          *name,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  GTask *task;
  UpdateAll *all;
  g_autoptr(GPtrArray) apps = NULL;

  if (name != NULL)
    {
      install_start (self, name, TRUE, cancellable, callback, user_data);
      return;
    }
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, cb_apps_install_async);
  all = g_new0 (UpdateAll, 1);
  all->pending = g_ptr_array_new_with_free_func (g_free);
  all->updated = json_array_new ();
  g_task_set_task_data (task, all, (GDestroyNotify) update_all_free);
  apps = cb_app_state_list_apps (self->state);
  for (guint i = 0; i < apps->len; i++)
    if (((CbAppRecord *) apps->pdata[i])->repo != 0)
      g_ptr_array_add (all->pending, g_strdup (((CbAppRecord *) apps->pdata[i])->system));
  update_next (task);
}

JsonNode *
cb_apps_install_finish (CbApps        *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- rollback, enable, disable, remove ---- */

static CbAppRecord *
installed_app (CbApps *self, const char *name, GError **error)
{
  g_autofree char *system = cb_apps_resolve_name (self, name, error);
  CbAppRecord *app;

  if (system == NULL)
    return NULL;
  if (g_hash_table_contains (self->busy, system))
    {
      g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_BUSY, "%s is being installed or updated",
                   system);
      return NULL;
    }
  app = cb_app_state_get_app (self->state, system);
  if (app == NULL)
    g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND, "%s is not installed", system);
  return app;
}

JsonNode *
cb_apps_rollback (CbApps      *self,
                  const char  *name,
                  GError     **error)
{
  g_autoptr(CbAppRecord) app = installed_app (self, name, error);
  g_autoptr(CbPluginModule) module = NULL;
  g_autoptr(GError) local_error = NULL;
  CbAppFiles swap;

  if (app == NULL)
    return NULL;
  if (!app->has_previous)
    {
      g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NO_PREVIOUS,
                   "%s %s has no previous version here to roll back to", app->system,
                   app->current.version);
      return NULL;
    }
  /* The previous files, checked again, must load before anything changes. */
  if (app->enabled)
    {
      stop_running (self, app->system, FALSE);
      module = load_installed (self, app->system, &app->previous, error);
      if (module == NULL)
        {
          g_autoptr(CbPluginModule) back = load_installed (self, app->system, &app->current,
                                                           &local_error);

          if (back == NULL || !start_running (self, back, &local_error))
            record_failure (self, app->system, local_error);
          g_prefix_error (error, "cannot roll %s back to %s: ", app->system, app->previous.version);
          return NULL;
        }
    }
  swap = app->current;
  app->current = app->previous;
  app->previous = swap;
  if (!cb_app_state_put_app (self->state, app, error))
    return NULL;
  if (module != NULL && !start_running (self, module, &local_error))
    record_failure (self, app->system, local_error);
  emit_changed (self);
  g_info ("rolled %s back to %s", app->system, app->current.version);
  return describe_installed (app->system, app->current.version, app->previous.version);
}

gboolean
cb_apps_set_enabled (CbApps      *self,
                     const char  *name,
                     gboolean     enabled,
                     GError     **error)
{
  g_autoptr(CbAppRecord) app = installed_app (self, name, error);

  if (app == NULL)
    return FALSE;
  if (enabled && !g_hash_table_contains (self->running, app->system))
    {
      g_autoptr(CbPluginModule) module = load_installed (self, app->system, &app->current, error);

      if (module == NULL || !start_running (self, module, error))
        return FALSE;
    }
  else if (!enabled)
    {
      stop_running (self, app->system, FALSE);
      g_hash_table_remove (self->failures, app->system);
    }
  app->enabled = enabled;
  if (!cb_app_state_put_app (self->state, app, error))
    return FALSE;
  emit_changed (self);
  return TRUE;
}

gboolean
cb_apps_remove (CbApps      *self,
                const char  *name,
                gboolean     delete_data,
                GError     **error)
{
  g_autoptr(CbAppRecord) app = installed_app (self, name, error);
  g_autofree char *origin = NULL;
  g_autofree char *dir = NULL;

  if (app == NULL)
    return FALSE;
  stop_running (self, app->system, delete_data);
  g_hash_table_remove (self->failures, app->system);
  if (!cb_app_state_delete_app (self->state, app->system, error))
    return FALSE;
  origin = cb_system_name_to_origin_host (app->system);
  dir = g_build_filename (self->code_dir, origin, NULL);
  remove_tree (dir);
  emit_changed (self);
  g_info ("removed %s%s", app->system, delete_data ? " and its data" : " (its data is kept)");
  return TRUE;
}

/* ---- running ---- */

CbPluginModule *
cb_apps_lookup_module (CbApps     *self,
                       const char *system)
{
  Running *run = g_hash_table_lookup (self->running, system);

  return run != NULL ? run->module : NULL;
}

CbContext *
cb_apps_get_context (CbApps     *self,
                     const char *system)
{
  Running *run = g_hash_table_lookup (self->running, system);

  return run != NULL ? run->context : NULL;
}

char *
cb_apps_get_ui_module_path (CbApps      *self,
                            const char  *system,
                            GError     **error)
{
  g_autoptr(CbAppRecord) app = cb_app_state_get_app (self->state, system);
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;

  if (app == NULL || !app->current.has_ui || !g_hash_table_contains (self->running, system))
    return NULL;
  dir = app_dir (self, app->current.dir);
  path = g_build_filename (dir, UI_FILE, NULL);
  /* Checked again before its code runs, like the core module. */
  if (!cb_repo_file_check (path, &app->current.ui, error))
    return NULL;
  return g_steal_pointer (&path);
}

GStrv
cb_apps_list_running (CbApps *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GList) systems = g_hash_table_get_keys (self->running);

  systems = g_list_sort (systems, (GCompareFunc) strcmp);
  for (GList *l = systems; l != NULL; l = l->next)
    g_strv_builder_add (builder, l->data);
  return g_strv_builder_end (builder);
}

static Running *
require_running (CbApps *self, const char *system, GError **error)
{
  Running *run = g_hash_table_lookup (self->running, system);
  g_autoptr(CbAppRecord) app = NULL;

  if (run != NULL)
    return run;
  app = cb_app_state_get_app (self->state, system);
  if (app == NULL)
    g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
                 "%s is not installed here (`apps install` it first)", system);
  else if (!app->enabled)
    g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_RUNNING, "%s is disabled here", system);
  else
    g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_RUNNING, "%s is not running: %s", system,
                 (const char *) g_hash_table_lookup (self->failures, system) ?: "no node hosts it");
  return NULL;
}

static void
on_verb_reply (JsonNode *result,
               GError   *error,
               gpointer  user_data)
{
  GTask *task = user_data;

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) json_node_unref);
  g_object_unref (task);
}

void
cb_apps_run_verb_async (CbApps              *self,
                        const char          *system,
                        const char          *verb_name,
                        JsonObject          *params,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  Running *run = require_running (self, system, &error);
  const CbPluginVerb *verb;
  g_autoptr(JsonObject) owned = params != NULL ? json_object_ref (params) : json_object_new ();

  g_task_set_source_tag (task, cb_apps_run_verb_async);
  if (run == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  verb = cb_plugin_module_lookup_verb (run->module, verb_name);
  if (verb == NULL)
    {
      GPtrArray *verbs = cb_plugin_module_get_verbs (run->module);
      g_autoptr(GString) list = g_string_new (NULL);

      for (guint i = 0; verbs != NULL && i < verbs->len; i++)
        g_string_append_printf (list, "%s%s", i ? ", " : "", ((CbPluginVerb *) verbs->pdata[i])->name);
      g_task_return_new_error (task, CB_SDK_ERROR, CB_SDK_ERROR_NOT_FOUND,
                               "%s has no verb \"%s\" (its verbs: %s)", system, verb_name,
                               list->len ? list->str : "none");
      g_object_unref (task);
      return;
    }
  g_object_set_data_full (G_OBJECT (task), "cb-params", json_object_ref (owned),
                          (GDestroyNotify) json_object_unref);
  verb->func (run->context, owned, _cb_verb_call_new (on_verb_reply, task), verb->user_data);
}

JsonNode *
cb_apps_run_verb_finish (CbApps        *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

JsonNode *
cb_apps_query (CbApps      *self,
               const char  *system,
               const char  *query,
               JsonObject  *params,
               GError     **error)
{
  Running *run = require_running (self, system, error);

  return run != NULL ? cb_context_query (run->context, query, params, error) : NULL;
}

void
cb_apps_data_changed (CbApps     *self,
                      const char *system)
{
  Running *run = g_hash_table_lookup (self->running, system);

  if (run == NULL)
    return;
  _cb_context_emit_changed (run->context);
  g_signal_emit (self, signals[SIGNAL_DATA_CHANGED], 0, system);
}

/* ---- start ---- */

static void
on_builtin_added (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) added = cb_apps_add_repository_finish (CB_APPS (source), result, &error);

  if (added == NULL)
    g_warning ("the default app repository cannot be listed: %s", error->message);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_builtin_refreshed (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;

  if (!refresh_repo_finish (CB_APPS (source), result, &error))
    g_warning ("the default app repository: %s", error->message);
  emit_changed (CB_APPS (source));
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

void
cb_apps_start (CbApps *self)
{
  cb_apps_start_async (self, NULL, NULL, NULL);
}

gboolean
cb_apps_start_finish (CbApps        *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
cb_apps_start_async (CbApps              *self,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GPtrArray) apps = cb_app_state_list_apps (self->state);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, cb_apps_start_async);

  for (guint i = 0; i < apps->len; i++)
    {
      CbAppRecord *app = apps->pdata[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(CbPluginModule) module = NULL;

      if (!app->enabled || g_hash_table_contains (self->running, app->system))
        continue;
      module = load_installed (self, app->system, &app->current, &error);
      if (module == NULL || !start_running (self, module, &error))
        record_failure (self, app->system, error);
    }
  if (self->builtin_dir != NULL && g_file_test (self->builtin_dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *added = cb_app_state_get_meta (self->state, "builtin-added");
      g_autoptr(GFile) dir = g_file_new_for_path (self->builtin_dir);
      g_autofree char *uri = g_file_get_uri (dir);
      g_autofree char *url = cb_repo_url_normalize (uri, NULL);
      g_autoptr(CbAppRepo) repo = url != NULL ? cb_app_state_get_repo (self->state, url) : NULL;

      if (repo != NULL)
        {
          refresh_repo_async (self, repo->id, cancellable, on_builtin_refreshed, task);
          return;
        }
      if (added == NULL)
        {
          /* First start only: a person who removes it keeps it removed. */
          cb_app_state_set_meta (self->state, "builtin-added", "1", NULL);
          add_repository (self, uri, TRUE, cancellable, on_builtin_added, task);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}
