/* cb-entry.h: one log entry, as a system's validator sees it
 *
 * Every write to a system is an entry in its writer's signed log: a set of
 * row changes to the system's tables.  Before any node stores an entry
 * (its own or a peer's) it asks the system's validator, which may refuse
 * it; a refused entry is never stored or passed on.
 *
 * Rows are JSON objects keyed by column: TEXT is a string, INTEGER an
 * integer, REAL a double, NULL null and BLOB {"$base64": "..."}. */
#pragma once

#if !defined (CLOUD_BEVY_INSIDE) && !defined (CB_SDK_COMPILATION)
# error "Only <cloud-bevy/cloud-bevy.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "cb-sdk-version.h"

G_BEGIN_DECLS

typedef struct _CbEntry CbEntry;

typedef enum {
  CB_CHANGE_UPSERT,  /* the row, every column, inserted or replacing the row with its key */
  CB_CHANGE_DELETE,  /* the key columns of the row deleted */
} CbChangeKind;

CB_SDK_AVAILABLE_IN_1_0
const char   *cb_entry_get_system       (const CbEntry *entry);
/* The writer: 64 lowercase hex digits, the node's public key. */
CB_SDK_AVAILABLE_IN_1_0
const char   *cb_entry_get_writer       (const CbEntry *entry);
/* TRUE for a write this node is about to make, FALSE for a peer's. */
CB_SDK_AVAILABLE_IN_1_0
gboolean      cb_entry_is_local         (const CbEntry *entry);
CB_SDK_AVAILABLE_IN_1_0
guint         cb_entry_get_n_changes    (const CbEntry *entry);
CB_SDK_AVAILABLE_IN_1_0
CbChangeKind  cb_entry_get_change_kind  (const CbEntry *entry,
                                         guint          i);
CB_SDK_AVAILABLE_IN_1_0
const char   *cb_entry_get_change_table (const CbEntry *entry,
                                         guint          i);
/* Owned by the entry. */
CB_SDK_AVAILABLE_IN_1_0
JsonObject   *cb_entry_get_change_row   (const CbEntry *entry,
                                         guint          i);

/* Runs on the store's writer thread, not the main thread: read only the
 * entry and data of your own that is safe to read from any thread.
 * Return FALSE and set error (any domain; the message reaches the writer's
 * logs) to refuse the entry. */
typedef gboolean (*CbEntryValidator) (const CbEntry  *entry,
                                      gpointer        user_data,
                                      GError        **error);

G_END_DECLS
