/* cb-sdk-host.h: the SDK's side the host uses (not installed)
 *
 * Registration data a plugin recorded on its CbPlugin, the constructor of
 * the CbContext the host hands out (with the functions that do the work),
 * entries for validators and verb calls.  Only the host (app/node/host)
 * includes this; plugins see the installed headers only. */
#pragma once

#include "cloud-bevy.h"

G_BEGIN_DECLS

#define _CB_SDK_HOST_EXTERN __attribute__((visibility ("default"))) extern

/* ---- CbPlugin: what was registered ---- */

typedef struct {
  char *name;
  char *sql;
} CbPluginQuery;

typedef struct {
  char           *name;
  char           *summary;
  char           *params_help;
  CbVerbFunc      func;
  gpointer        user_data;
  GDestroyNotify  destroy;
} CbPluginVerb;

_CB_SDK_HOST_EXTERN CbPlugin   *_cb_plugin_new                (void);
_CB_SDK_HOST_EXTERN const char *_cb_plugin_get_system         (CbPlugin *plugin);
_CB_SDK_HOST_EXTERN const char *_cb_plugin_get_version        (CbPlugin *plugin);
/* Calls to cb_plugin_set_system (a second one is an error). */
_CB_SDK_HOST_EXTERN guint       _cb_plugin_get_n_system_calls (CbPlugin *plugin);
/* char*, in registration order */
_CB_SDK_HOST_EXTERN GPtrArray  *_cb_plugin_get_tables         (CbPlugin *plugin);
/* CbPluginQuery*, CbPluginVerb* */
_CB_SDK_HOST_EXTERN GPtrArray  *_cb_plugin_get_queries        (CbPlugin *plugin);
_CB_SDK_HOST_EXTERN GPtrArray  *_cb_plugin_get_verbs          (CbPlugin *plugin);
_CB_SDK_HOST_EXTERN CbEntryValidator _cb_plugin_get_validator (CbPlugin  *plugin,
                                                               gpointer  *user_data);
_CB_SDK_HOST_EXTERN gboolean    _cb_plugin_get_session_handlers (CbPlugin           *plugin,
                                                                 CbSessionValidator *validator,
                                                                 CbSessionReceiver  *receiver,
                                                                 gpointer           *user_data);
_CB_SDK_HOST_EXTERN void        _cb_plugin_get_lifecycle      (CbPlugin      *plugin,
                                                               CbContextFunc *started,
                                                               CbContextFunc *stopping,
                                                               gpointer      *user_data);
_CB_SDK_HOST_EXTERN GResource  *_cb_plugin_get_web_ui         (CbPlugin    *plugin,
                                                               const char **root);
/* Calls every GDestroyNotify the plugin gave and forgets its functions:
 * after this nothing points into the module, so it may be unloaded. */
_CB_SDK_HOST_EXTERN void        _cb_plugin_release            (CbPlugin *plugin);

/* ---- CbContext: what the host does for it ---- */

typedef enum {
  CB_CONTEXT_WRITE_UPSERT,
  CB_CONTEXT_WRITE_DELETE,
} CbContextWriteKind;

typedef struct {
  /* Completes task with a boolean or a CB_SDK_ERROR. */
  void      (*write) (gpointer            host,
                      CbContextWriteKind  kind,
                      const char         *table,
                      JsonArray          *rows,
                      GTask              *task);
  JsonNode *(*query) (gpointer            host,
                      const char         *name,
                      JsonObject         *params,
                      GError            **error);
} CbContextHostFuncs;

_CB_SDK_HOST_EXTERN CbContext *_cb_context_new          (const char               *system,
                                                         const char               *node_id,
                                                         const CbContextHostFuncs *funcs,
                                                         gpointer                  host);
/* The system stopped: from now on every call fails with UNAVAILABLE. */
_CB_SDK_HOST_EXTERN void       _cb_context_detach       (CbContext *context);
_CB_SDK_HOST_EXTERN void       _cb_context_emit_changed (CbContext *context);

/* ---- CbEntry ---- */

_CB_SDK_HOST_EXTERN CbEntry   *_cb_entry_new        (const char   *system,
                                                     const char   *writer_hex,
                                                     gboolean      local);
/* row: transfer full */
_CB_SDK_HOST_EXTERN void       _cb_entry_add_change (CbEntry      *entry,
                                                     CbChangeKind  kind,
                                                     const char   *table,
                                                     JsonObject   *row);
_CB_SDK_HOST_EXTERN void       _cb_entry_free       (CbEntry      *entry);

/* ---- CbVerbCall ---- */

/* Called once with the result (transfer full, never NULL: null is a
 * JSON null) or the error (transfer full). */
typedef void (*CbVerbReplyFunc) (JsonNode *result,
                                 GError   *error,
                                 gpointer  user_data);

_CB_SDK_HOST_EXTERN CbVerbCall *_cb_verb_call_new (CbVerbReplyFunc reply,
                                                   gpointer        user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbEntry, _cb_entry_free)

G_END_DECLS
