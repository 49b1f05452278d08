/* cb-plugin.h: what a plugin registers, and its one entry point
 *
 * A plugin is a shared object that exports its ABI version and one entry
 * point; CB_PLUGIN_DEFINE writes both.  The host loads it (lazily, with
 * local symbols), checks the ABI, then calls the entry point with a
 * CbPlugin on which the plugin declares everything about its system:
 *
 *   static gboolean
 *   guestbook_register (CbPlugin *plugin, GError **error)
 *   {
 *     cb_plugin_set_system (plugin, "github.com/cloudbevy/guestbook", "1.0.0");
 *     cb_plugin_add_table (plugin, "CREATE TABLE entries (id TEXT PRIMARY KEY, ...)");
 *     cb_plugin_add_query (plugin, "latest", "SELECT ... LIMIT :limit");
 *     cb_plugin_set_entry_validator (plugin, validate_entry, NULL, NULL);
 *     cb_plugin_add_verb (plugin, "sign", "Sign the guestbook", "author=NAME message=TEXT",
 *                         sign_verb, NULL, NULL);
 *     cb_plugin_set_web_ui (plugin, guestbook_get_resource (), "/guestbook/web");
 *     return TRUE;
 *   }
 *
 *   CB_PLUGIN_DEFINE (guestbook_register)
 *
 * Registration only records; the host checks it all (the name against the
 * repository's, the tables for replication, the queries against the
 * tables) and refuses the plugin, saying which call was wrong, before the
 * system runs.  Anything the plugin registers with a GDestroyNotify is
 * freed before the module is unloaded. */
#pragma once

#if !defined (CLOUD_BEVY_INSIDE) && !defined (CB_SDK_COMPILATION)
# error "Only <cloud-bevy/cloud-bevy.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gmodule.h>

#include "cb-context.h"
#include "cb-entry.h"
#include "cb-sdk-version.h"
#include "cb-verb.h"

G_BEGIN_DECLS

#define CB_TYPE_PLUGIN (cb_plugin_get_type ())
CB_SDK_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (CbPlugin, cb_plugin, CB, PLUGIN, GObject)

/* The entry point's type.  FALSE with error refuses to load. */
typedef gboolean (*CbPluginRegisterFunc) (CbPlugin  *plugin,
                                          GError   **error);

/* The system's name (see cb-system-name.h) and the plugin's version
 * (MAJOR.MINOR.PATCH): both must match what the repository lists. */
CB_SDK_AVAILABLE_IN_1_0
void cb_plugin_set_system           (CbPlugin            *plugin,
                                     const char          *system,
                                     const char          *version);

/* One CREATE TABLE with an explicit PRIMARY KEY per table. */
CB_SDK_AVAILABLE_IN_1_0
void cb_plugin_add_table            (CbPlugin            *plugin,
                                     const char          *create_table_sql);

/* A named, read-only query: one SELECT over the system's tables, with
 * :name parameters.  UIs and the CLI run queries only by name. */
CB_SDK_AVAILABLE_IN_1_0
void cb_plugin_add_query            (CbPlugin            *plugin,
                                     const char          *name,
                                     const char          *select_sql);

/* Rules every entry must pass, on every node (see cb-entry.h). */
CB_SDK_AVAILABLE_IN_1_0
void cb_plugin_set_entry_validator  (CbPlugin            *plugin,
                                     CbEntryValidator     validator,
                                     gpointer             user_data,
                                     GDestroyNotify       destroy);

/* params_help: how the CLI shows the parameters, e.g. "author=NAME". */
CB_SDK_AVAILABLE_IN_1_0
void cb_plugin_add_verb             (CbPlugin            *plugin,
                                     const char          *name,
                                     const char          *summary,
                                     const char          *params_help,
                                     CbVerbFunc           func,
                                     gpointer             user_data,
                                     GDestroyNotify       destroy);

/* Live sessions (a game, say): the host delivers a session message to the
 * receiver only after the validator (if any) accepted it.  sender is the
 * sending node's id (hex). */
typedef gboolean (*CbSessionValidator) (CbContext   *context,
                                        const char  *session,
                                        const char  *sender,
                                        GBytes      *message,
                                        gpointer     user_data,
                                        GError     **error);
typedef void     (*CbSessionReceiver)  (CbContext   *context,
                                        const char  *session,
                                        const char  *sender,
                                        GBytes      *message,
                                        gpointer     user_data);
CB_SDK_AVAILABLE_IN_1_0
void cb_plugin_set_session_handlers (CbPlugin            *plugin,
                                     CbSessionValidator   validator,
                                     CbSessionReceiver    receiver,
                                     gpointer             user_data,
                                     GDestroyNotify       destroy);

/* Called when the system starts running on this node (its context is
 * ready: keep a reference, connect to "changed") and when it stops. */
typedef void (*CbContextFunc) (CbContext *context,
                               gpointer   user_data);
CB_SDK_AVAILABLE_IN_1_0
void cb_plugin_set_lifecycle        (CbPlugin            *plugin,
                                     CbContextFunc        started,
                                     CbContextFunc        stopping,
                                     gpointer             user_data,
                                     GDestroyNotify       destroy);

/* Web UI: files under root in resource (compiled into the module with
 * glib-compile-resources; give it a prefix of your own, like
 * /org/example/guestbook, since resources share one namespace) are served
 * at cloudapp://ORIGIN/, "/" being index.html, with a
 * strict Content-Security-Policy (only the origin's own scripts, styles
 * and images; no network).  Pages reach the system through
 * /.cloudbevy/bridge.js, which the host serves. */
CB_SDK_AVAILABLE_IN_1_0
void cb_plugin_set_web_ui           (CbPlugin            *plugin,
                                     GResource           *resource,
                                     const char          *root);

/* Writes the exports the host looks for: the ABI version, the entry point
 * and a g_module_check_init() that refuses to load into another SDK ABI. */
#define CB_PLUGIN_DEFINE(register_func)                                          \
  G_MODULE_EXPORT const guint32 cloud_bevy_plugin_abi = CB_PLUGIN_ABI_VERSION;   \
  G_MODULE_EXPORT const char *g_module_check_init (GModule *module);            \
  G_MODULE_EXPORT const char *                                                  \
  g_module_check_init (GModule *module)                                         \
  {                                                                             \
    return cb_sdk_check_abi (CB_PLUGIN_ABI_VERSION);                            \
  }                                                                             \
  G_MODULE_EXPORT gboolean cloud_bevy_plugin_register (CbPlugin *plugin,        \
                                                       GError  **error);       \
  G_MODULE_EXPORT gboolean                                                      \
  cloud_bevy_plugin_register (CbPlugin *plugin,                                 \
                              GError  **error)                                  \
  {                                                                             \
    return (register_func) (plugin, error);                                     \
  }

G_END_DECLS
