/* cb-changeset.h: canonical changesets, their builder and their materialiser
 *
 * A log entry's payload is a SQLite session changeset against its system's
 * tables, in canonical form: whole rows only, that is INSERT carrying every
 * column and DELETE whose key values matter (other old values may be
 * anything), at most one op per row.  Replicas apply them with row-level
 * last-writer-wins on the entry's stamp, remembered per row (deletes leave
 * a tombstone) in _cb_rows, so any arrival order, with repeats, ends in the
 * same tables.  That needs one stamp per entry: two entries of one writer
 * with one hlc could change a row in either order, so the store must refuse
 * an entry whose hlc is not above its predecessor's.
 *
 * Implemented in cb-changeset.c (stamps, key encoding, validation),
 * cb-changeset-reader.c (the checked byte decoder), cb-changeset-builder.c
 * and cb-materializer.c. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

#include "cb-schema.h"

G_BEGIN_DECLS

#define CB_CHANGESET_ERROR (cb_changeset_error_quark ())
GQuark cb_changeset_error_quark (void);

typedef enum {
  CB_CHANGESET_ERROR_MALFORMED,  /* not a well-formed changeset */
  CB_CHANGESET_ERROR_INVALID,    /* well-formed but not canonical for the schema */
  CB_CHANGESET_ERROR_TOO_LARGE,  /* over CB_CHANGESET_MAX_OPS or _MAX_BYTES */
  CB_CHANGESET_ERROR_ROW,        /* the builder was given a row it cannot write */
  CB_CHANGESET_ERROR_STAMP,      /* a stamp this store cannot order */
  CB_CHANGESET_ERROR_DATABASE,   /* sqlite failed while applying */
} CbChangesetError;

/* Rows one changeset may change: one entry stays one bounded transaction. */
#define CB_CHANGESET_MAX_OPS 10000
#define CB_CHANGESET_MAX_BYTES (4 * 1024 * 1024)
/* SQLite's default SQLITE_MAX_COLUMN. */
#define CB_CHANGESET_MAX_COLUMNS 2000

typedef struct {
  guint64 hlc;         /* at most G_MAXINT64: sqlite stores it signed */
  guint8  writer[32];
} CbStamp;

/* hlc first, then the writer's bytes. */
int       cb_stamp_compare      (const CbStamp  *a,
                                 const CbStamp  *b);

/* Reads every op: well-formed, INSERT/DELETE only, declared tables, exact
 * column count and key, values of types the columns keep as they are, no
 * row twice, at most CB_CHANGESET_MAX_OPS.  Errors name op, table and
 * column.  An empty changeset is valid (0 ops). */
gboolean  cb_changeset_validate (CbSchema       *schema,
                                 const guint8   *data,
                                 gsize           len,
                                 guint          *n_ops_out,
                                 GError        **error);

/* Local writes: rows in, one canonical changeset out.  The last call for a
 * row wins (an upsert after a delete of the same key replaces it). */
typedef struct _CbChangesetBuilder CbChangesetBuilder;

CbChangesetBuilder *cb_changeset_builder_new    (CbSchema            *schema,
                                                 GError             **error);
/* JSON string -> TEXT, integer -> INTEGER, double -> REAL, boolean -> 0/1,
 * null -> NULL, {"$base64": "…"} -> BLOB.  Missing columns are NULL, except
 * key columns (an error); unknown columns are an error.  The table's own
 * constraints (NOT NULL, CHECK, STRICT types) are checked here. */
gboolean  cb_changeset_builder_upsert (CbChangesetBuilder  *builder,
                                       const char          *table,
                                       JsonObject          *row,
                                       GError             **error);
/* key: exactly the key columns. */
gboolean  cb_changeset_builder_delete (CbChangesetBuilder  *builder,
                                       const char          *table,
                                       JsonObject          *key,
                                       GError             **error);
guint     cb_changeset_builder_get_n_ops (CbChangesetBuilder *builder);
/* The canonical changeset (empty bytes when nothing was written); the
 * builder is empty again afterwards, whether or not it succeeded. */
GBytes   *cb_changeset_builder_finish (CbChangesetBuilder  *builder,
                                       GError             **error);
void      cb_changeset_builder_free   (CbChangesetBuilder  *builder);

/* Applies changesets to a database holding the schema's tables (see
 * cb_schema_install).  Statements are prepared once per table. */
typedef struct _CbMaterializer CbMaterializer;

CbMaterializer *cb_materializer_new   (CbSchema        *schema,
                                       sqlite3         *db,
                                       GError         **error);
/* The caller owns the transaction: on error, roll back (a savepoint will
 * do), since earlier ops of this changeset may have been written.
 * applied + superseded = the changeset's ops; a superseded op lost to a
 * newer (or equal) stamp already stored for its row.  Either may be NULL. */
gboolean  cb_materializer_apply       (CbMaterializer  *mat,
                                       const guint8    *changeset,
                                       gsize            len,
                                       const CbStamp   *stamp,
                                       guint           *applied,
                                       guint           *superseded,
                                       GError         **error);
void      cb_materializer_free        (CbMaterializer  *mat);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbChangesetBuilder, cb_changeset_builder_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbMaterializer, cb_materializer_free)

G_END_DECLS
