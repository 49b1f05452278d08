/* cb-apps.c: the app manager: its lifecycle, the running systems and
 * their contexts, the catalog, rollback, enable/disable and remove
 * (repositories: cb-apps-repos.c; installs: cb-apps-install.c) */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-apps-private.h"

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

G_DEFINE_QUARK (cb-apps-error-quark, cb_apps_error)

enum { SIGNAL_CHANGED, SIGNAL_PROGRESS, SIGNAL_DATA_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CbApps, cb_apps, G_TYPE_OBJECT)

gint64
_cb_apps_now_unix (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

void
_cb_apps_emit_changed (CbApps *self)
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

void
_cb_apps_set_busy (CbApps *self, const char *system, const char *stage, double fraction)
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

void
_cb_apps_clear_busy (CbApps *self, const char *system)
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
gboolean
_cb_apps_start_running (CbApps         *self,
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

void
_cb_apps_stop_running (CbApps     *self,
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

char *
_cb_apps_app_dir (CbApps *self, const char *relative)
{
  return g_build_filename (self->code_dir, relative, NULL);
}

/* Loads an installed version after checking its files are still the ones
 * verified at install. */
CbPluginModule *
_cb_apps_load_installed (CbApps            *self,
                const char        *system,
                const CbAppFiles  *files,
                GError           **error)
{
  g_autofree char *dir = _cb_apps_app_dir (self, files->dir);
  g_autofree char *core = g_build_filename (dir, CORE_FILE, NULL);

  if (!cb_repo_file_check (core, &files->core, error))
    return NULL;
  return cb_plugin_module_load (core, system, files->version, error);
}

void
_cb_apps_record_failure (CbApps *self, const char *system, const GError *error)
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

CbRepoIndex *
_cb_apps_repo_index (const CbAppRepo *repo)
{
  g_autoptr(CbRepoEnvelope) envelope = NULL;

  if (repo->index == NULL)
    return NULL;
  /* Verified before it was stored. */
  envelope = cb_repo_envelope_parse (g_bytes_get_data (repo->index, NULL),
                                     g_bytes_get_size (repo->index), CB_REPO_MAX_INDEX, NULL);
  return envelope != NULL ? cb_repo_index_parse (envelope->signed_text, NULL) : NULL;
}

void
_cb_apps_offer_free (gpointer data)
{
  Offer *offer = data;

  cb_app_repo_free (offer->repo);
  cb_repo_package_free (offer->package);
  g_free (offer);
}

/* Every package for this machine's architecture, by system: the offers of
 * the repository an app was installed from come first. */
GHashTable *
_cb_apps_collect_offers (CbApps *self)
{
  GHashTable *offers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, _cb_apps_offer_free);
  g_autoptr(GPtrArray) repos = cb_app_state_list_repos (self->state);

  for (guint r = 0; r < repos->len; r++)
    {
      CbAppRepo *repo = repos->pdata[r];
      g_autoptr(CbRepoIndex) index = _cb_apps_repo_index (repo);

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
  g_autoptr(GHashTable) offers = _cb_apps_collect_offers (self);
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
  g_autoptr(GHashTable) offers = _cb_apps_collect_offers (self);
  g_autoptr(GList) offered = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "arch");
  json_builder_add_string_value (builder, CB_HOST_ARCH);
  json_builder_set_member_name (builder, "repositories");
  json_builder_begin_array (builder);
  for (guint i = 0; i < repos->len; i++)
    {
      CbAppRepo *repo = repos->pdata[i];
      g_autoptr(CbRepoIndex) index = _cb_apps_repo_index (repo);
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
      _cb_apps_stop_running (self, app->system, FALSE);
      module = _cb_apps_load_installed (self, app->system, &app->previous, error);
      if (module == NULL)
        {
          g_autoptr(CbPluginModule) back = _cb_apps_load_installed (self, app->system, &app->current,
                                                           &local_error);

          if (back == NULL || !_cb_apps_start_running (self, back, &local_error))
            _cb_apps_record_failure (self, app->system, local_error);
          g_prefix_error (error, "cannot roll %s back to %s: ", app->system, app->previous.version);
          return NULL;
        }
    }
  swap = app->current;
  app->current = app->previous;
  app->previous = swap;
  if (!cb_app_state_put_app (self->state, app, error))
    return NULL;
  if (module != NULL && !_cb_apps_start_running (self, module, &local_error))
    _cb_apps_record_failure (self, app->system, local_error);
  _cb_apps_emit_changed (self);
  g_info ("rolled %s back to %s", app->system, app->current.version);
  return _cb_apps_describe_installed (app->system, app->current.version, app->previous.version);
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
      g_autoptr(CbPluginModule) module = _cb_apps_load_installed (self, app->system, &app->current, error);

      if (module == NULL || !_cb_apps_start_running (self, module, error))
        return FALSE;
    }
  else if (!enabled)
    {
      _cb_apps_stop_running (self, app->system, FALSE);
      g_hash_table_remove (self->failures, app->system);
    }
  app->enabled = enabled;
  if (!cb_app_state_put_app (self->state, app, error))
    return FALSE;
  _cb_apps_emit_changed (self);
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
  _cb_apps_stop_running (self, app->system, delete_data);
  g_hash_table_remove (self->failures, app->system);
  if (!cb_app_state_delete_app (self->state, app->system, error))
    return FALSE;
  origin = cb_system_name_to_origin_host (app->system);
  dir = g_build_filename (self->code_dir, origin, NULL);
  _cb_apps_remove_tree (dir);
  _cb_apps_emit_changed (self);
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
  dir = _cb_apps_app_dir (self, app->current.dir);
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

  if (!_cb_apps_refresh_repo_finish (CB_APPS (source), result, &error))
    g_warning ("the default app repository: %s", error->message);
  _cb_apps_emit_changed (CB_APPS (source));
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
      module = _cb_apps_load_installed (self, app->system, &app->current, &error);
      if (module == NULL || !_cb_apps_start_running (self, module, &error))
        _cb_apps_record_failure (self, app->system, error);
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
          _cb_apps_refresh_repo_async (self, repo->id, cancellable, on_builtin_refreshed, task);
          return;
        }
      if (added == NULL)
        {
          /* First start only: a person who removes it keeps it removed. */
          cb_app_state_set_meta (self->state, "builtin-added", "1", NULL);
          _cb_apps_add_repository (self, uri, TRUE, cancellable, on_builtin_added, task);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

gboolean
_cb_apps_remove_tree (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  if (handle == NULL)
    return g_rmdir (dir) == 0 || errno == ENOENT;
  while ((name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        _cb_apps_remove_tree (child);
      else
        g_unlink (child);
    }
  return g_rmdir (dir) == 0;
}

JsonNode *
_cb_apps_describe_installed (const char *system, const char *version, const char *previous)
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

