/* cb-schema.h: a system's declared tables
 *
 * A system (test/kv, a plugin) declares its tables as CREATE TABLE
 * statements with explicit primary keys.  The schema checks that every
 * replica can apply the same changes to them and end up with the same rows
 * (no AUTOINCREMENT, no foreign keys, no UNIQUE besides the key, binary
 * key collation, key types that never convert), installs them into a
 * database, and digests their contents so replicas can compare. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define CB_SCHEMA_ERROR (cb_schema_error_quark ())
GQuark cb_schema_error_quark (void);

typedef enum {
  CB_SCHEMA_ERROR_INVALID,    /* a declaration the store cannot replicate */
  CB_SCHEMA_ERROR_MISMATCH,   /* the database holds a different version of a table */
  CB_SCHEMA_ERROR_NOT_FOUND,  /* no such table */
  CB_SCHEMA_ERROR_DATABASE,   /* sqlite failed */
} CbSchemaError;

/* Column affinity, by SQLite's rules for the declared type (STRICT tables:
 * ANY is NONE, since STRICT ANY keeps values as given). */
typedef enum {
  CB_SCHEMA_AFFINITY_NONE,     /* "BLOB" or no type: values kept as given */
  CB_SCHEMA_AFFINITY_TEXT,
  CB_SCHEMA_AFFINITY_NUMERIC,
  CB_SCHEMA_AFFINITY_INTEGER,
  CB_SCHEMA_AFFINITY_REAL,
} CbSchemaAffinity;

/* Longest table or system name accepted. */
#define CB_SCHEMA_MAX_NAME 64
#define CB_SCHEMA_MAX_SYSTEM_NAME 255
#define CB_SCHEMA_MAX_TABLES 64

typedef struct {
  char             *name;
  char             *decl_type;  /* as declared, "" when none */
  guint             pk_index;   /* 0: not in the key, else 1-based position in the PRIMARY KEY */
  CbSchemaAffinity  affinity;
  gboolean          not_null;   /* NOT NULL, or a key column */
} CbSchemaColumn;

typedef struct {
  char           *name;
  char           *create_sql;
  CbSchemaColumn *columns;
  guint           n_columns;
  guint           n_pk;
  guint          *pk_columns;     /* n_pk column indexes, in key order */
  guint           index;          /* position in the schema */
  gboolean        strict;
  gboolean        without_rowid;
} CbSchemaTable;

typedef struct _CbSchema CbSchema;   /* refcounted, immutable after new: share freely */

/* create_table_sql: NULL-terminated. */
CbSchema            *cb_schema_new          (const char          *system,
                                             const char * const  *create_table_sql,
                                             GError             **error);
CbSchema            *cb_schema_ref          (CbSchema            *schema);
void                 cb_schema_unref        (CbSchema            *schema);
const char          *cb_schema_get_system   (CbSchema            *schema);
guint                cb_schema_get_n_tables (CbSchema            *schema);
const CbSchemaTable *cb_schema_get_table    (CbSchema            *schema,
                                             guint                i);
const CbSchemaTable *cb_schema_lookup_table (CbSchema            *schema,
                                             const char          *name);

/* Creates the tables (and _cb_rows) that are missing; fails naming the
 * table and column when an existing table was declared differently. */
gboolean             cb_schema_install      (CbSchema            *schema,
                                             sqlite3             *db,
                                             GError             **error);
/* 64 hex digits: BLAKE2b-256 of every table in declared order, rows in key
 * order, values with type tags.  Equal tables give equal digests however
 * they were written.  Only reads. */
char                *cb_schema_digest       (CbSchema            *schema,
                                             sqlite3             *db,
                                             GError             **error);
/* [{column: value, ...}, ...] in key order; see cb_schema_column_to_json. */
JsonNode            *cb_schema_dump_table   (CbSchema            *schema,
                                             sqlite3             *db,
                                             const char          *table,
                                             GError             **error);
/* A result column as JSON: INTEGER -> int, REAL -> double, TEXT -> string
 * (invalid UTF-8 repaired), BLOB -> {"$base64": "…"}, NULL -> null.  The
 * same mapping the changeset builder reads. */
JsonNode            *cb_schema_column_to_json (sqlite3_stmt      *stmt,
                                               int                column);

/* "name" with embedded quotes doubled, for building SQL. */
char                *cb_schema_quote_identifier (const char      *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbSchema, cb_schema_unref)

G_END_DECLS
