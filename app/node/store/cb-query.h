/* cb-query.h: the read-only query guard
 *
 * Queries come from apps and peers: one SELECT (or WITH … SELECT), nothing
 * that writes, attaches or changes settings, and never the store's own
 * tables (_cb…).  Results are bounded in rows and in work. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define CB_QUERY_ERROR (cb_query_error_quark ())
GQuark cb_query_error_quark (void);

typedef enum {
  CB_QUERY_ERROR_NOT_ALLOWED,  /* not a single read-only SELECT */
  CB_QUERY_ERROR_SQL,          /* does not compile */
  CB_QUERY_ERROR_TOO_LONG,     /* ran past CB_QUERY_MAX_STEPS */
  CB_QUERY_ERROR_FAILED,       /* sqlite failed while running it */
} CbQueryError;

/* Rows returned when max_rows is 0. */
#define CB_QUERY_DEFAULT_MAX_ROWS 1000
#define CB_QUERY_MAX_SQL 65536
/* Virtual-machine steps one query may take: about a second here (a scan
 * of a million rows takes some 20 million), and it stops a runaway
 * recursive CTE. */
#define CB_QUERY_MAX_STEPS 100000000
/* Largest string or blob a query may make (randomblob(1e9) would
 * otherwise allocate a gigabyte), and the result's size, after which it is
 * cut short and marked truncated. */
#define CB_QUERY_MAX_VALUE (16 * 1024 * 1024)
#define CB_QUERY_MAX_RESULT_BYTES (32 * 1024 * 1024)

/* The caller finalizes the statement.  Installs, then removes, an
 * authorizer on db while compiling. */
sqlite3_stmt *cb_query_prepare_select (sqlite3       *db,
                                       const char    *sql,
                                       GError       **error);
/* {"columns": [name, …], "rows": [[value, …], …], "truncated": bool},
 * values as cb_schema_column_to_json; truncated when more than max_rows
 * (0: CB_QUERY_DEFAULT_MAX_ROWS) or CB_QUERY_MAX_RESULT_BYTES would be
 * returned.  Resets the statement when done.  While it runs, the
 * connection's progress handler and length limit are its own. */
JsonNode     *cb_query_run            (sqlite3_stmt  *stmt,
                                       guint          max_rows,
                                       GError       **error);

G_END_DECLS
