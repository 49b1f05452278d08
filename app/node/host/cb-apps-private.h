/* cb-apps-private.h: CbApps' state, shared by cb-apps*.c only
 *
 * cb-apps.c: the object, the running systems, the catalog, rollback,
 * enable and remove; cb-apps-repos.c: repositories and their refresh (the
 * TUF-lite client); cb-apps-install.c: installs and updates. */
#pragma once

#include "cb-apps.h"

G_BEGIN_DECLS

#define CORE_FILE "core.so"
#define UI_FILE "ui.so"

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

typedef struct {
  CbAppRepo     *repo;
  CbRepoPackage *package;
} Offer;

gint64          _cb_apps_now_unix          (void);
void            _cb_apps_emit_changed      (CbApps *self);
void            _cb_apps_set_busy          (CbApps *self, const char *system, const char *stage,
                                            double fraction);
void            _cb_apps_clear_busy        (CbApps *self, const char *system);
/* Hosts a loaded module and gives its plugin a context. */
gboolean        _cb_apps_start_running     (CbApps *self, CbPluginModule *module, GError **error);
void            _cb_apps_stop_running      (CbApps *self, const char *system, gboolean delete_data);
char           *_cb_apps_app_dir           (CbApps *self, const char *relative);
/* Loads an installed version after checking its files. */
CbPluginModule *_cb_apps_load_installed    (CbApps *self, const char *system,
                                            const CbAppFiles *files, GError **error);
void            _cb_apps_record_failure    (CbApps *self, const char *system, const GError *error);
/* The repository's cached (verified) index, or NULL. */
CbRepoIndex    *_cb_apps_repo_index        (const CbAppRepo *repo);
/* Every package for this machine, by system -> Offer*. */
GHashTable     *_cb_apps_collect_offers    (CbApps *self);
void            _cb_apps_offer_free        (gpointer data);
gboolean        _cb_apps_remove_tree       (const char *dir);
JsonNode       *_cb_apps_describe_installed (const char *system, const char *version,
                                             const char *previous);

/* cb-apps-repos.c */
void            _cb_apps_refresh_repo_async  (CbApps *self, gint64 repo_id,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data);
gboolean        _cb_apps_refresh_repo_finish (CbApps *self, GAsyncResult *result, GError **error);
void            _cb_apps_add_repository      (CbApps *self, const char *address, gboolean builtin,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data);

G_END_DECLS
