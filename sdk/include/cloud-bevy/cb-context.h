/* cb-context.h: a running system, as its plugin reaches it
 *
 * The host gives each loaded plugin one CbContext, bound to the plugin's
 * own system: writes go to its tables only, queries are its own named
 * queries over its own tables.  There is no way to name another system.
 * Everything here runs on the main thread. */
#pragma once

#if !defined (CLOUD_BEVY_INSIDE) && !defined (CB_SDK_COMPILATION)
# error "Only <cloud-bevy/cloud-bevy.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cb-sdk-version.h"

G_BEGIN_DECLS

#define CB_TYPE_CONTEXT (cb_context_get_type ())
CB_SDK_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (CbContext, cb_context, CB, CONTEXT, GObject)

CB_SDK_AVAILABLE_IN_1_0
const char *cb_context_get_system  (CbContext           *context);
/* This node's id (64 hex digits): the writer of the entries it makes. */
CB_SDK_AVAILABLE_IN_1_0
const char *cb_context_get_node_id (CbContext           *context);

/* Writes rows (JSON objects, every column; see cb-entry.h for values) to
 * one of the system's tables as one entry of this node's log.  The
 * system's validator sees it first.  Done once it is stored here;
 * replication then takes it to the other hosts. */
CB_SDK_AVAILABLE_IN_1_0
void        cb_context_upsert_async (CbContext           *context,
                                     const char          *table,
                                     JsonArray           *rows,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
/* keys: objects with exactly the table's key columns. */
CB_SDK_AVAILABLE_IN_1_0
void        cb_context_delete_async (CbContext           *context,
                                     const char          *table,
                                     JsonArray           *keys,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
/* For both: TRUE once stored. */
CB_SDK_AVAILABLE_IN_1_0
gboolean    cb_context_write_finish (CbContext           *context,
                                     GAsyncResult        *result,
                                     GError             **error);

/* Runs one of the system's named queries (cb_plugin_add_query) over this
 * node's copy of the data.  params: values for the query's :parameters
 * (strings, numbers, booleans, null); a parameter not given is NULL.
 * Returns {"columns": [...], "rows": [[...], ...], "truncated": bool}. */
CB_SDK_AVAILABLE_IN_1_0
JsonNode   *cb_context_query        (CbContext           *context,
                                     const char          *query,
                                     JsonObject          *params,
                                     GError             **error);

/* Signal "changed": the system's data changed here, by a local write or
 * by entries from peers.  Coalesced: one emission may stand for many. */

G_END_DECLS
