/* cb-store.h: the node's replicated data, one sqlite file per system
 *
 * Each hosted system has DATA/store/<system>.db (WAL) holding the
 * system's declared tables, materialised, and the logs they come from:
 * per writer an append-only chain of signed entries whose payloads are
 * changesets.  All writes go through one writer thread, one transaction
 * per job: an entry is acknowledged only after its transaction committed,
 * so kill -9 never loses an acknowledged write and never leaves a log
 * entry without its materialised rows or the reverse.  Reads (vectors,
 * runs of entries to send, queries, digests) use read-only connections on
 * the caller's thread. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cb-schema.h"

G_BEGIN_DECLS

#define CB_STORE_ERROR (cb_store_error_quark ())
GQuark cb_store_error_quark (void);

typedef enum {
  CB_STORE_ERROR_UNKNOWN_SYSTEM,  /* not hosted here */
  CB_STORE_ERROR_GAP,             /* entries missing before the batch */
  CB_STORE_ERROR_FORK,            /* a writer signed two different entries at one seq */
  CB_STORE_ERROR_INVALID,         /* an entry's changeset or the system's rules refuse it */
  CB_STORE_ERROR_CLOCK,           /* an entry's clock is too far in the future */
  CB_STORE_ERROR_DORMANT,         /* the system's hosting policy refuses writes now */
  CB_STORE_ERROR_DATABASE,        /* sqlite failed */
} CbStoreError;

/* Refuses an entry the system's own rules reject (a plugin's validator). */
typedef gboolean (*CbStoreValidator) (const char   *system,
                                      const guint8  writer[32],
                                      GBytes       *changeset,
                                      gpointer      user_data,
                                      GError      **error);

#define CB_TYPE_STORE (cb_store_get_type ())
G_DECLARE_FINAL_TYPE (CbStore, cb_store, CB, STORE, GObject)

CbStore  *cb_store_new           (const char       *data_dir,
                                  const guint8      identity_secret[64],
                                  GError          **error);
/* Opens (creating or migrating) the system's database. */
gboolean  cb_store_host          (CbStore          *self,
                                  CbSchema         *schema,
                                  CbStoreValidator  validator,
                                  gpointer          validator_data,
                                  GError          **error);
/* Stops hosting: the system's queued writes complete, then its database
 * closes (its files stay).  Its validator is not called after the jobs
 * queued before this. */
void      cb_store_unhost        (CbStore          *self,
                                  const char       *system);
/* DATA/store/<system>.db, where cb_store_new (data_dir) keeps the system. */
char     *cb_store_system_path   (const char       *data_dir,
                                  const char       *system);
gboolean  cb_store_hosts         (CbStore          *self,
                                  const char       *system);
GStrv     cb_store_list_systems  (CbStore          *self);
CbSchema *cb_store_get_schema    (CbStore          *self,
                                  const char       *system);

/* Appends our own entry.  Result: the entry's seq and hlc. */
void      cb_store_write_async   (CbStore             *self,
                                  const char          *system,
                                  GBytes              *changeset,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data);
gboolean  cb_store_write_finish  (CbStore             *self,
                                  GAsyncResult        *result,
                                  guint64             *seq,
                                  guint64             *hlc,
                                  GError             **error);

/* Verifies and stores a run of another writer's entries (first_seq..,
 * signed over the last).  Entries we have already are checked against
 * ours (a mismatch is a fork) and skipped.  Result: how many were new. */
void      cb_store_receive_async  (CbStore             *self,
                                   const char          *system,
                                   const guint8         writer[32],
                                   guint64              first_seq,
                                   const guint8         sig[64],
                                   GPtrArray           *entries,   /* GBytes* */
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
gboolean  cb_store_receive_finish (CbStore             *self,
                                   GAsyncResult        *result,
                                   guint               *n_new,
                                   GError             **error);

/* Highest seq stored per writer: 32-byte writer -> seq (keys are GBytes). */
GHashTable *cb_store_get_vector   (CbStore      *self,
                                   const char   *system);
guint64     cb_store_get_seq      (CbStore      *self,
                                   const char   *system,
                                   const guint8  writer[32]);
/* A run of entries from from_seq ending at a signed entry, about
 * max_bytes long: what a peer that has everything before from_seq needs.
 * FALSE when there is nothing from from_seq. */
gboolean    cb_store_read_run     (CbStore      *self,
                                   const char   *system,
                                   const guint8  writer[32],
                                   guint64       from_seq,
                                   gsize         max_bytes,
                                   GPtrArray   **entries,   /* GBytes* */
                                   guint8        sig[64],
                                   GError      **error);

/* Read-only: one SELECT; as_of_hlc > 0 reads the tables as they were when
 * the clock read as_of_hlc (replaying the logs up to it). */
JsonNode   *cb_store_query        (CbStore      *self,
                                   const char   *system,
                                   const char   *sql,
                                   guint64       as_of_hlc,
                                   guint         max_rows,
                                   GError      **error);
/* Whether sql is a SELECT the query would run, without running it. */
gboolean    cb_store_check_query  (CbStore      *self,
                                   const char   *system,
                                   const char   *sql,
                                   GError      **error);
char       *cb_store_digest       (CbStore      *self,
                                   const char   *system,
                                   GError      **error);

typedef struct {
  guint64 entries;
  guint64 writers;
  guint64 rejected;
  guint64 rows_applied;
  guint64 newest_hlc;     /* of any entry stored: how fresh this copy is */
} CbStoreStats;

void        cb_store_get_stats    (CbStore      *self,
                                   const char   *system,
                                   CbStoreStats *stats);
/* Completes once every write and receive queued before it has completed
 * (a barrier: what a peer sent before it is then stored, or refused). */
void        cb_store_sync_async   (CbStore             *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
gboolean    cb_store_sync_finish  (CbStore             *self,
                                   GAsyncResult        *result,
                                   GError             **error);
/* Waits for queued writes and closes every database. */
void        cb_store_close        (CbStore      *self);

G_END_DECLS
