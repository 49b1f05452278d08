/* cb-plugin-module.h: one plugin's core module, loaded and checked
 *
 * Loading opens the shared object with GModule (lazy, local binding: the
 * plugin's symbols never resolve another plugin's), checks that it is a
 * Cloud Bevy plugin of our ABI, calls its entry point and checks what it
 * registered: the system's name and version (against what the repository
 * promised), its tables (replicable), its named queries (read-only SELECTs
 * that compile against those tables), its verbs and web UI.  Any failure
 * closes the module again and says what was wrong; nothing of the plugin
 * runs after that.
 *
 * A loaded module is the system's rules for the store (the validator,
 * safe to call from the store's writer thread while the module is
 * loaded) and its named queries, verbs, session handlers and web files. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cb-schema.h"
#include "cb-sdk-host.h"

G_BEGIN_DECLS

#define CB_PLUGIN_MODULE_ERROR (cb_plugin_module_error_quark ())
GQuark cb_plugin_module_error_quark (void);

typedef enum {
  CB_PLUGIN_MODULE_ERROR_LOAD,        /* the file does not load as a shared object */
  CB_PLUGIN_MODULE_ERROR_NOT_PLUGIN,  /* no cloud_bevy_plugin_abi export */
  CB_PLUGIN_MODULE_ERROR_ABI,         /* built for another plugin ABI */
  CB_PLUGIN_MODULE_ERROR_NO_ENTRY,    /* no cloud_bevy_plugin_register export */
  CB_PLUGIN_MODULE_ERROR_INIT,        /* the entry point failed */
  CB_PLUGIN_MODULE_ERROR_INVALID,     /* what it registered cannot run */
  CB_PLUGIN_MODULE_ERROR_MISMATCH,    /* another system or version than expected */
  CB_PLUGIN_MODULE_ERROR_UNLOADED,    /* used after cb_plugin_module_unload() */
} CbPluginModuleError;

#define CB_TYPE_PLUGIN_MODULE (cb_plugin_module_get_type ())
G_DECLARE_FINAL_TYPE (CbPluginModule, cb_plugin_module, CB, PLUGIN_MODULE, GObject)

/* expect_system, expect_version: what the repository lists (NULL: any). */
CbPluginModule     *cb_plugin_module_load            (const char      *path,
                                                      const char      *expect_system,
                                                      const char      *expect_version,
                                                      GError         **error);
const char         *cb_plugin_module_get_path        (CbPluginModule  *self);
const char         *cb_plugin_module_get_system      (CbPluginModule  *self);
const char         *cb_plugin_module_get_version     (CbPluginModule  *self);
CbSchema           *cb_plugin_module_get_schema      (CbPluginModule  *self);
CbPlugin           *cb_plugin_module_get_plugin      (CbPluginModule  *self);

/* A CbStoreValidator: pass the module as its data.  Decodes the (already
 * validated) changeset into a CbEntry for the plugin's validator; refuses
 * every entry once the module is unloaded. */
gboolean            cb_plugin_module_validate_entry  (const char      *system,
                                                      const guint8     writer[32],
                                                      GBytes          *changeset,
                                                      gpointer         module,
                                                      GError         **error);
/* The same rules for a write this node is about to make. */
gboolean            cb_plugin_module_check_local     (CbPluginModule  *self,
                                                      const guint8     writer[32],
                                                      GBytes          *changeset,
                                                      GError         **error);

/* Query names in registration order. */
GStrv               cb_plugin_module_list_queries    (CbPluginModule  *self);
/* The named query with params bound as SQL literals (main thread only):
 * what the store runs.  Unknown parameters are an error. */
char               *cb_plugin_module_bind_query      (CbPluginModule  *self,
                                                      const char      *name,
                                                      JsonObject      *params,
                                                      GError         **error);

GPtrArray          *cb_plugin_module_get_verbs       (CbPluginModule  *self);  /* CbPluginVerb* */
const CbPluginVerb *cb_plugin_module_lookup_verb     (CbPluginModule  *self,
                                                      const char      *name);

gboolean            cb_plugin_module_has_web_ui      (CbPluginModule  *self);
/* path: the request's path ("/" is index.html).  NOT_FOUND for anything
 * outside the UI's files. */
GBytes             *cb_plugin_module_read_web_file   (CbPluginModule  *self,
                                                      const char      *path,
                                                      char           **content_type,
                                                      GError         **error);

/* Validates, then delivers; FALSE (message not delivered) when the
 * plugin's validator refuses it or it has no session handlers. */
gboolean            cb_plugin_module_session_message (CbPluginModule  *self,
                                                      CbContext       *context,
                                                      const char      *session,
                                                      const char      *sender,
                                                      GBytes          *message,
                                                      GError         **error);

void                cb_plugin_module_started         (CbPluginModule  *self,
                                                      CbContext       *context);
void                cb_plugin_module_stopping        (CbPluginModule  *self,
                                                      CbContext       *context);

/* Waits for validators running on other threads, drops everything the
 * plugin registered (its destroy notifies run) and closes the module.
 * The object stays, refusing everything. */
void                cb_plugin_module_unload          (CbPluginModule  *self);
gboolean            cb_plugin_module_is_loaded       (CbPluginModule  *self);

G_END_DECLS
