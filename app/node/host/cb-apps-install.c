/* cb-apps-install.c: installing and updating apps: download, verify,
 * rename, load, swap, host */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-apps-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cb-repo-url.h"
#include "cb-sdk-host.h"
#include "cb-version.h"

#ifndef CB_HOST_ARCH
#error "CB_HOST_ARCH must name the architecture plugins are built for"
#endif

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

  _cb_apps_clear_busy (self, op->system);
  _cb_apps_emit_changed (self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* The files are verified: move them into place, load, swap, record, host. */
static void
install_commit (GTask *task)
{
  CbApps *self = g_task_get_source_object (task);
  InstallOp *op = g_task_get_task_data (task);
  g_autofree char *final = _cb_apps_app_dir (self, op->relative);
  g_autofree char *core = NULL;
  g_autoptr(CbAppRecord) old = cb_app_state_get_app (self->state, op->system);
  g_autoptr(CbPluginModule) module = NULL;
  g_autoptr(CbAppRecord) record = g_new0 (CbAppRecord, 1);
  g_autofree char *old_previous_dir = NULL;
  GError *error = NULL;

  _cb_apps_set_busy (self, op->system, "loading", -1);
  /* A leftover of an old install of this very version (kept as the
   * previous one after a rollback) is replaced by what was just checked. */
  if (old != NULL && old->has_previous && g_strcmp0 (old->previous.dir, op->relative) == 0)
    {
      old->has_previous = FALSE;
      cb_app_files_clear (&old->previous);
    }
  if (g_file_test (final, G_FILE_TEST_EXISTS)
      && (old == NULL || g_strcmp0 (old->current.dir, op->relative) != 0))
    _cb_apps_remove_tree (final);
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
      _cb_apps_remove_tree (final);
      install_fail (task, error);
      return;
    }

  record->system = g_strdup (op->system);
  record->repo = op->repo->id;
  record->title = g_strdup (op->package->title);
  record->description = g_strdup (op->package->description);
  record->enabled = old != NULL ? old->enabled : TRUE;
  record->installed = _cb_apps_now_unix ();
  cb_app_files_copy (&record->current, &op->files);
  if (old != NULL)
    {
      record->has_previous = TRUE;
      cb_app_files_copy (&record->previous, &old->current);
      if (old->has_previous)
        old_previous_dir = g_strdup (old->previous.dir);
    }
  if (old != NULL)
    _cb_apps_stop_running (self, op->system, FALSE);
  if (!cb_app_state_put_app (self->state, record, &error))
    {
      cb_plugin_module_unload (module);
      _cb_apps_remove_tree (final);
      if (old != NULL && old->enabled)
        {
          g_autoptr(GError) again = NULL;
          g_autoptr(CbPluginModule) back = _cb_apps_load_installed (self, op->system, &old->current, &again);

          if (back == NULL || !_cb_apps_start_running (self, back, &again))
            _cb_apps_record_failure (self, op->system, again);
        }
      install_fail (task, error);
      return;
    }
  if (old_previous_dir != NULL && g_strcmp0 (old_previous_dir, op->relative) != 0)
    {
      g_autofree char *gone = _cb_apps_app_dir (self, old_previous_dir);
      _cb_apps_remove_tree (gone);
    }
  if (record->enabled && !_cb_apps_start_running (self, module, &error))
    {
      _cb_apps_record_failure (self, op->system, error);
      g_clear_error (&error);
    }
  _cb_apps_clear_busy (self, op->system);
  _cb_apps_emit_changed (self);
  g_info ("%s %s %s from %s", op->update ? "updated" : "installed", op->system,
          op->package->version, op->repo->url);
  g_task_return_pointer (task, _cb_apps_describe_installed (op->system, op->package->version,
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

  _cb_apps_set_busy (self, op->system, "downloading", all > 0 ? (double) (before + received) / (double) all : -1);
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
  _cb_apps_set_busy (self, op->system, "downloading", 0);
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

  if (!_cb_apps_refresh_repo_finish (self, result, &error))
    {
      install_fail (task, error);
      return;
    }
  op->repo = cb_app_state_get_repo_by_id (self->state, op->repo_id);
  index = op->repo != NULL ? _cb_apps_repo_index (op->repo) : NULL;
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
      _cb_apps_clear_busy (self, op->system);
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
      offers = _cb_apps_collect_offers (self);
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
  _cb_apps_set_busy (self, op->system, "refreshing", -1);
  _cb_apps_emit_changed (self);
  _cb_apps_refresh_repo_async (self, op->repo_id, cancellable, on_install_refreshed, task);
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
