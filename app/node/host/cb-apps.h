/* cb-apps.h: a node's cloud apps: repositories, installs, running systems
 *
 * The node's app manager.  It keeps the repositories this node trusts
 * (pinned on first add, followed through signed key rotations), refreshes
 * their signed indexes (refusing rollbacks, freezes, mix-and-match and
 * key changes), installs packages (download to a temporary file, size and
 * hash checked, renamed, only then loaded), updates, rolls back, disables,
 * enables and removes them, and runs the loaded ones: each system gets a
 * CbContext through which its plugin reaches its own tables only.
 *
 * Files: DATA/apps/apps.db (cb-app-state.h) and
 * DATA/apps/code/ORIGIN/VERSION/{core,ui}.so.
 *
 * The node that hosts the systems plugs in through CbAppsHostFuncs; with
 * none (an offline `cloud-bevy-node apps` command) installs are verified
 * and recorded, and the node loads them when it starts.  A plugin that
 * fails to load is reported (its state says why) and never stops the
 * node or the other apps. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cb-app-state.h"
#include "cb-plugin-module.h"
#include "cb-repo-fetch.h"

G_BEGIN_DECLS

#define CB_APPS_ERROR (cb_apps_error_quark ())
GQuark cb_apps_error_quark (void);

typedef enum {
  CB_APPS_ERROR_NOT_FOUND,      /* no such app in any repository, or not installed */
  CB_APPS_ERROR_AMBIGUOUS,      /* a short name several apps answer to */
  CB_APPS_ERROR_EXISTS,         /* installed (or added) already */
  CB_APPS_ERROR_BUSY,           /* another operation on the app is running */
  CB_APPS_ERROR_NO_PREVIOUS,    /* nothing to roll back to */
  CB_APPS_ERROR_NOT_RUNNING,    /* the app is disabled, failed, or no node hosts it */
  CB_APPS_ERROR_UP_TO_DATE,
} CbAppsError;

typedef struct {
  /* Host the loaded system now (or, before the node starts, when it does). */
  gboolean  (*host)         (gpointer             node,
                             CbPluginModule      *module,
                             GError             **error);
  void      (*unhost)       (gpointer             node,
                             const char          *system,
                             gboolean             delete_data);
  void      (*write_async)  (gpointer             node,
                             const char          *system,
                             GBytes              *changeset,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data);
  gboolean  (*write_finish) (gpointer             node,
                             GAsyncResult        *result,
                             GError             **error);
  JsonNode *(*query)        (gpointer             node,
                             const char          *system,
                             const char          *sql,
                             GError             **error);
} CbAppsHostFuncs;

#define CB_TYPE_APPS (cb_apps_get_type ())
G_DECLARE_FINAL_TYPE (CbApps, cb_apps, CB, APPS, GObject)

/* node_id: this node's public key (64 hex), the writer of its entries. */
CbApps         *cb_apps_new                   (const char             *data_dir,
                                               const char             *node_id,
                                               GError                **error);
void            cb_apps_set_host              (CbApps                 *self,
                                               const CbAppsHostFuncs  *funcs,
                                               gpointer                node);
CbRepoFetcher  *cb_apps_get_fetcher           (CbApps                 *self);
/* Browsers also fetch native UI modules; headless nodes never do. */
void            cb_apps_set_with_ui           (CbApps                 *self,
                                               gboolean                with_ui);
/* The offline repository installed with the app: listed on first start. */
void            cb_apps_set_builtin_repository (CbApps                *self,
                                               const char             *dir);
/* Lists the builtin repository on first start and loads the enabled
 * installed apps; failures are reported per app, never fatal. */
void            cb_apps_start                 (CbApps                 *self);
/* The same; done once the builtin repository is listed and refreshed. */
void            cb_apps_start_async           (CbApps                 *self,
                                               GCancellable           *cancellable,
                                               GAsyncReadyCallback     callback,
                                               gpointer                user_data);
gboolean        cb_apps_start_finish          (CbApps                 *self,
                                               GAsyncResult           *result,
                                               GError                **error);
/* Stops and unloads every app (the node is going away). */
void            cb_apps_stop                  (CbApps                 *self);

/* ---- repositories ---- */

/* Result: {"url", "name", "fingerprint", "packages"}. */
void            cb_apps_add_repository_async  (CbApps                 *self,
                                               const char             *address,
                                               GCancellable           *cancellable,
                                               GAsyncReadyCallback     callback,
                                               gpointer                user_data);
JsonNode       *cb_apps_add_repository_finish (CbApps                 *self,
                                               GAsyncResult           *result,
                                               GError                **error);
gboolean        cb_apps_remove_repository     (CbApps                 *self,
                                               const char             *address,
                                               GError                **error);
/* address NULL: every repository (each one's failure is recorded and
 * shown; the call fails only with the first error when all fail). */
void            cb_apps_refresh_async         (CbApps                 *self,
                                               const char             *address,
                                               GCancellable           *cancellable,
                                               GAsyncReadyCallback     callback,
                                               gpointer                user_data);
gboolean        cb_apps_refresh_finish        (CbApps                 *self,
                                               GAsyncResult           *result,
                                               GError                **error);

/* {"arch", "repositories": [...], "apps": [...]}: what the catalog shows. */
JsonNode       *cb_apps_list                  (CbApps                 *self);

/* ---- installs ---- */

/* name: a system name, or a name only one app answers to ("guestbook"). */
void            cb_apps_install_async         (CbApps                 *self,
                                               const char             *name,
                                               GCancellable           *cancellable,
                                               GAsyncReadyCallback     callback,
                                               gpointer                user_data);
/* name NULL: every installed app with a newer version. */
void            cb_apps_update_async          (CbApps                 *self,
                                               const char             *name,
                                               GCancellable           *cancellable,
                                               GAsyncReadyCallback     callback,
                                               gpointer                user_data);
/* Both: {"system", "version"} (install) or {"updated": [{...}]} (update). */
JsonNode       *cb_apps_install_finish        (CbApps                 *self,
                                               GAsyncResult           *result,
                                               GError                **error);
JsonNode       *cb_apps_rollback              (CbApps                 *self,
                                               const char             *name,
                                               GError                **error);
gboolean        cb_apps_set_enabled           (CbApps                 *self,
                                               const char             *name,
                                               gboolean                enabled,
                                               GError                **error);
/* Unloads and deletes the code; the system's data stays unless
 * delete_data. */
gboolean        cb_apps_remove                (CbApps                 *self,
                                               const char             *name,
                                               gboolean                delete_data,
                                               GError                **error);

/* ---- running systems ---- */

/* NULL when the system is not installed here or not running. */
CbPluginModule *cb_apps_lookup_module         (CbApps                 *self,
                                               const char             *system);
CbContext      *cb_apps_get_context           (CbApps                 *self,
                                               const char             *system);
/* The installed native UI module, checked against its hash; NULL
 * without an error when the app has none (or does not run). */
char           *cb_apps_get_ui_module_path    (CbApps                 *self,
                                               const char             *system,
                                               GError                **error);
void            cb_apps_run_verb_async        (CbApps                 *self,
                                               const char             *system,
                                               const char             *verb,
                                               JsonObject             *params,
                                               GCancellable           *cancellable,
                                               GAsyncReadyCallback     callback,
                                               gpointer                user_data);
JsonNode       *cb_apps_run_verb_finish       (CbApps                 *self,
                                               GAsyncResult           *result,
                                               GError                **error);
JsonNode       *cb_apps_query                 (CbApps                 *self,
                                               const char             *system,
                                               const char             *query,
                                               JsonObject             *params,
                                               GError                **error);
/* A system's data changed here: its context emits "changed". */
void            cb_apps_data_changed          (CbApps                 *self,
                                               const char             *system);
/* Names of the systems running now. */
GStrv           cb_apps_list_running          (CbApps                 *self);
/* The resolved name: what name refers to among the installed apps and
 * the repositories' packages. */
char           *cb_apps_resolve_name          (CbApps                 *self,
                                               const char             *name,
                                               GError                **error);

/* Signals: "changed" (anything the catalog shows), "progress" (system,
 * stage: "refreshing" | "downloading" | "loading", fraction 0..1 or -1
 * when unknown), "data-changed" (system: its data changed here). */

G_END_DECLS
