/* cb-node-apps.c: the node's side of cloud apps: hosting the systems
 * CbApps loads, their writes and queries, and the apps-* control commands */
#define G_LOG_DOMAIN "cb-node"

#include "cb-config.h"

#include "cb-node-apps.h"
#include "cb-node-private.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "cb-builtin-systems.h"
#include "cb-node-meta.h"

#define APP_QUERY_MAX_ROWS 10000

/* ---- what CbApps asks of the node ---- */

static void
announce (CbNode *self)
{
  g_autoptr(GBytes) meta = NULL;

  if (!self->running)
    return;
  meta = _cb_node_encode_meta (self);
  cb_membership_set_meta (self->membership, meta, _cb_node_now_ms ());
  _cb_node_drain (self);
  _cb_node_emit_changed (self);
}

static gboolean
is_hosted (CbNode *self, const char *system)
{
  for (guint i = 0; self->hosted != NULL && i < self->hosted->len; i++)
    if (g_strcmp0 (self->hosted->pdata[i], system) == 0)
      return TRUE;
  return FALSE;
}

static void
forget_hosted (CbNode *self, const char *system)
{
  for (guint i = 0; self->hosted != NULL && i < self->hosted->len; i++)
    if (g_strcmp0 (self->hosted->pdata[i], system) == 0)
      g_ptr_array_remove_index (self->hosted, i--);
}

static gboolean
apps_host (gpointer         node,
           CbPluginModule  *module,
           GError         **error)
{
  CbNode *self = node;
  const char *system = cb_plugin_module_get_system (module);
  g_autoptr(GPtrArray) members = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gboolean added = !is_hosted (self, system);

  if (self->hosted == NULL)
    self->hosted = g_ptr_array_new_with_free_func (g_free);
  if (added)
    g_ptr_array_add (self->hosted, g_strdup (system));
  /* Before the node runs: _cb_node_data_start hosts what is listed. */
  if (!self->running)
    return TRUE;
  if (self->store == NULL)
    {
      self->store = cb_store_new (self->data_dir, self->identity->secret_key, error);
      if (self->store == NULL)
        {
          forget_hosted (self, system);
          return FALSE;
        }
    }
  /* The store calls the module's validator from its thread: keep the
   * object (not the code) alive until the store is gone. */
  g_ptr_array_add (self->app_modules, g_object_ref (module));
  if (!cb_store_host (self->store, cb_plugin_module_get_schema (module),
                      cb_plugin_module_validate_entry, module, error))
    {
      if (added)
        forget_hosted (self, system);
      return FALSE;
    }
  g_hash_table_iter_init (&iter, cb_store_get_vector (self->store, system));
  while (g_hash_table_iter_next (&iter, &key, &value))
    cb_replication_local_advanced (self->replication, system, g_bytes_get_data (key, NULL),
                                   *(guint64 *) value);
  announce (self);
  /* Peers already hosting it learn of us from our new metadata; open the
   * sessions to them from here too. */
  members = cb_membership_get_members (self->membership);
  for (guint i = 0; i < members->len; i++)
    {
      CbMembershipEvent event = { .type = CB_MEMBERSHIP_EVENT_UPDATE };

      event.member = *(CbMember *) members->pdata[i];
      _cb_node_data_member_event (self, &event);
    }
  g_info ("hosting %s", system);
  return TRUE;
}

static void
delete_store_files (CbNode *self, const char *system)
{
  g_autofree char *path = cb_store_system_path (self->data_dir, system);
  const char *suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);

      if (g_unlink (file) != 0 && errno != ENOENT)
        g_warning ("cannot delete %s: %s", file, g_strerror (errno));
    }
}

static void
apps_unhost (gpointer    node,
             const char *system,
             gboolean    delete_data)
{
  CbNode *self = node;

  forget_hosted (self, system);
  if (self->store != NULL)
    cb_store_unhost (self->store, system);
  if (delete_data)
    delete_store_files (self, system);
  g_hash_table_remove (self->app_seqs, system);
  announce (self);
  g_info ("no longer hosting %s%s", system, delete_data ? "; its data is deleted" : "");
}

static void
apps_write_async (gpointer             node,
                  const char          *system,
                  GBytes              *changeset,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  _cb_node_data_write_async (CB_NODE (node), system, changeset, cancellable, callback, user_data);
}

static gboolean
apps_write_finish (gpointer       node,
                   GAsyncResult  *result,
                   GError       **error)
{
  return _cb_node_data_write_finish (CB_NODE (node), result, error);
}

static JsonNode *
apps_query (gpointer     node,
            const char  *system,
            const char  *sql,
            GError     **error)
{
  CbNode *self = node;

  if (self->store == NULL || !cb_store_hosts (self->store, system))
    {
      g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_UNKNOWN_SYSTEM,
                   "this node does not host %s now", system);
      return NULL;
    }
  return cb_store_query (self->store, system, sql, 0, APP_QUERY_MAX_ROWS, error);
}

static const CbAppsHostFuncs host_funcs = {
  .host = apps_host,
  .unhost = apps_unhost,
  .write_async = apps_write_async,
  .write_finish = apps_write_finish,
  .query = apps_query,
};

/* Tells the apps whose data changed (local writes, peers' entries). */
static void
on_node_changed (CbNode   *self,
                 gpointer  user_data)
{
  g_auto(GStrv) running = NULL;

  if (self->apps == NULL || self->store == NULL)
    return;
  running = cb_apps_list_running (self->apps);
  for (guint i = 0; running[i] != NULL; i++)
    {
      GHashTable *vector = cb_store_get_vector (self->store, running[i]);
      guint64 sum = 0, *last = g_hash_table_lookup (self->app_seqs, running[i]);
      GHashTableIter iter;
      gpointer key, value;

      if (vector == NULL)
        continue;
      g_hash_table_iter_init (&iter, vector);
      while (g_hash_table_iter_next (&iter, &key, &value))
        sum += *(guint64 *) value;
      if (last != NULL && *last == sum)
        continue;
      if (last == NULL)
        {
          last = g_new (guint64, 1);
          g_hash_table_insert (self->app_seqs, g_strdup (running[i]), last);
        }
      *last = sum;
      cb_apps_data_changed (self->apps, running[i]);
    }
}

CbApps *
cb_node_get_apps (CbNode *self)
{
  g_autoptr(GError) error = NULL;
  const char *builtin = g_getenv ("CB_DEFAULT_REPO");
  g_autofree char *installed = g_build_filename (CB_PKGDATADIR, "repo", NULL);

  g_return_val_if_fail (CB_IS_NODE (self), NULL);
  if (self->apps != NULL)
    return self->apps;
  self->apps = cb_apps_new (self->data_dir, self->id_hex, &error);
  if (self->apps == NULL)
    {
      g_warning ("cloud apps are not available: %s", error->message);
      return NULL;
    }
  self->app_modules = g_ptr_array_new_with_free_func (g_object_unref);
  self->app_seqs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  cb_apps_set_host (self->apps, &host_funcs, self);
  /* The offline repository installed with the app ($CB_DEFAULT_REPO for
   * uninstalled builds and tests; empty: none). */
  cb_apps_set_builtin_repository (self->apps, builtin != NULL ? (*builtin ? builtin : NULL)
                                                              : installed);
  g_signal_connect (self, "changed", G_CALLBACK (on_node_changed), NULL);
  return self->apps;
}

void
_cb_node_apps_free (CbNode *self)
{
  if (self->apps != NULL)
    {
      g_signal_handlers_disconnect_by_func (self, on_node_changed, NULL);
      cb_apps_stop (self->apps);
      cb_apps_set_host (self->apps, NULL, NULL);
      g_clear_object (&self->apps);
    }
  /* The store is closed by now (_cb_node_data_free). */
  g_clear_pointer (&self->app_modules, g_ptr_array_unref);
  g_clear_pointer (&self->app_seqs, g_hash_table_unref);
}

void
_cb_node_apps_start (CbNode *self)
{
  CbApps *apps = cb_node_get_apps (self);

  if (apps != NULL)
    cb_apps_start (apps);
}

gboolean
_cb_node_apps_is_app (CbNode     *self,
                      const char *system)
{
  CbApps *apps = cb_node_get_apps (self);
  g_autoptr(GError) error = NULL;
  g_autofree char *resolved = NULL;
  g_autoptr(JsonNode) list = NULL;
  JsonArray *array;

  if (apps == NULL || cb_builtin_system_validator (system) != NULL)
    return FALSE;
  list = cb_apps_list (apps);
  array = json_object_get_array_member (json_node_get_object (list), "apps");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *app = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (app, "system"), system) == 0)
        return json_object_get_member (app, "installed") != NULL
               && !JSON_NODE_HOLDS_NULL (json_object_get_member (app, "installed"));
    }
  return FALSE;
}

gboolean
_cb_node_apps_check_system (CbNode      *self,
                            const char  *system,
                            GError     **error)
{
  g_autoptr(CbSchema) builtin = cb_builtin_system_schema (system, NULL);

  if (builtin != NULL || _cb_node_apps_is_app (self, system))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               "no system \"%s\" is built in or installed here (built in: %s; install apps with "
               "`cloud-bevy-node apps install`)", system, CB_TEST_KV_SYSTEM);
  return FALSE;
}

CbSchema *
_cb_node_apps_resolve (CbNode            *self,
                       const char        *system,
                       CbStoreValidator  *validator,
                       gpointer          *validator_data,
                       GError           **error)
{
  CbPluginModule *module = self->apps != NULL ? cb_apps_lookup_module (self->apps, system) : NULL;
  CbSchema *schema;

  if (module != NULL)
    {
      g_ptr_array_add (self->app_modules, g_object_ref (module));
      *validator = cb_plugin_module_validate_entry;
      *validator_data = module;
      return cb_schema_ref (cb_plugin_module_get_schema (module));
    }
  if (_cb_node_apps_is_app (self, system))
    {
      g_autoptr(JsonNode) list = cb_apps_list (self->apps);
      JsonArray *apps = json_object_get_array_member (json_node_get_object (list), "apps");
      const char *why = "it is disabled";

      for (guint i = 0; i < json_array_get_length (apps); i++)
        {
          JsonObject *app = json_array_get_object_element (apps, i);

          if (g_strcmp0 (json_object_get_string_member (app, "system"), system) == 0
              && json_object_get_string_member_with_default (app, "error", NULL) != NULL)
            why = json_object_get_string_member (app, "error");
        }
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the app %s is not running: %s", system,
                   why);
      return NULL;
    }
  schema = cb_builtin_system_schema (system, error);
  if (schema != NULL)
    {
      *validator = cb_builtin_system_validator (system);
      *validator_data = NULL;
    }
  return schema;
}

/* ---- control: the apps-* commands ---- */

static void
reply_result (CbControlReply *reply, JsonNode *result, GError *error)
{
  if (result != NULL)
    cb_control_reply_return (reply, result);
  else
    cb_control_reply_error (reply, error);
  g_clear_error (&error);
}

static JsonNode *
ok_node (void)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, json_object_new ());
  json_object_set_boolean_member (json_node_get_object (node), "done", TRUE);
  return node;
}

static void
on_repo_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  JsonNode *added = cb_apps_add_repository_finish (CB_APPS (source), result, &error);

  reply_result (user_data, added, error);
}

static void
on_refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;

  reply_result (user_data, cb_apps_refresh_finish (CB_APPS (source), result, &error)
                           ? cb_apps_list (CB_APPS (source)) : NULL, error);
}

static void
on_installed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  JsonNode *done = cb_apps_install_finish (CB_APPS (source), result, &error);

  reply_result (user_data, done, error);
}

static void
on_verb_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  JsonNode *done = cb_apps_run_verb_finish (CB_APPS (source), result, &error);

  reply_result (user_data, done, error);
}

static JsonObject *
params_of (JsonObject *request)
{
  JsonNode *params = json_object_get_member (request, "params");

  return params != NULL && JSON_NODE_HOLDS_OBJECT (params) ? json_node_get_object (params) : NULL;
}

gboolean
_cb_node_apps_control (CbNode         *self,
                       const char     *command,
                       JsonObject     *request,
                       CbControlReply *reply)
{
  CbApps *apps;
  const char *name = json_object_get_string_member_with_default (request, "name", NULL);
  const char *address = json_object_get_string_member_with_default (request, "address", NULL);
  GError *error = NULL;

  if (!g_str_has_prefix (command, "apps-"))
    return FALSE;
  apps = cb_node_get_apps (self);
  if (apps == NULL)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "cloud apps are not available on this node (see its log)");
      reply_result (reply, NULL, error);
      return TRUE;
    }
  if (g_strcmp0 (command, "apps-list") == 0)
    reply_result (reply, cb_apps_list (apps), NULL);
  else if (g_strcmp0 (command, "apps-repo-add") == 0)
    cb_apps_add_repository_async (apps, address, NULL, on_repo_added, reply);
  else if (g_strcmp0 (command, "apps-repo-remove") == 0)
    reply_result (reply, cb_apps_remove_repository (apps, address, &error) ? ok_node () : NULL,
                  error);
  else if (g_strcmp0 (command, "apps-refresh") == 0)
    cb_apps_refresh_async (apps, address, NULL, on_refreshed, reply);
  else if (g_strcmp0 (command, "apps-install") == 0)
    cb_apps_install_async (apps, name, NULL, on_installed, reply);
  else if (g_strcmp0 (command, "apps-update") == 0)
    cb_apps_update_async (apps, name, NULL, on_installed, reply);
  else if (g_strcmp0 (command, "apps-rollback") == 0)
    {
      JsonNode *done = cb_apps_rollback (apps, name, &error);
      reply_result (reply, done, error);
    }
  else if (g_strcmp0 (command, "apps-enable") == 0 || g_strcmp0 (command, "apps-disable") == 0)
    reply_result (reply, cb_apps_set_enabled (apps, name, g_strcmp0 (command, "apps-enable") == 0,
                                              &error) ? ok_node () : NULL, error);
  else if (g_strcmp0 (command, "apps-remove") == 0)
    reply_result (reply, cb_apps_remove (apps, name, json_object_get_boolean_member_with_default (
                                           request, "delete_data", FALSE), &error)
                         ? ok_node () : NULL, error);
  else if (g_strcmp0 (command, "apps-run") == 0 || g_strcmp0 (command, "apps-query") == 0)
    {
      g_autofree char *system = cb_apps_resolve_name (apps, name, &error);
      const char *what = json_object_get_string_member_with_default (
        request, g_strcmp0 (command, "apps-run") == 0 ? "verb" : "query", NULL);

      if (system != NULL && what == NULL)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "which %s? (`apps list` shows what %s offers)",
                     g_strcmp0 (command, "apps-run") == 0 ? "verb" : "query", system);
      if (error != NULL)
        reply_result (reply, NULL, error);
      else if (g_strcmp0 (command, "apps-run") == 0)
        cb_apps_run_verb_async (apps, system, what, params_of (request), NULL, on_verb_done, reply);
      else
        {
          JsonNode *rows = cb_apps_query (apps, system, what, params_of (request), &error);
          reply_result (reply, rows, error);
        }
    }
  else
    return FALSE;
  return TRUE;
}
