/* cb-query.c: one read-only SELECT, checked by an authorizer while it compiles */
#define G_LOG_DOMAIN "cb-query"

#include "cb-query.h"

#include <string.h>

#include "cb-schema.h"

G_DEFINE_QUARK (cb-query-error-quark, cb_query_error)

typedef struct {
  char *denied;  /* why, for the message */
} QueryAuth;

static void
deny (QueryAuth *auth, char *why)
{
  if (auth->denied == NULL)
    auth->denied = why;
  else
    g_free (why);
}

/* Reads, selects and functions only; the store's own tables stay private. */
static int
query_authorizer (void       *user_data,
                  int         action,
                  const char *arg1,
                  const char *arg2,
                  const char *db_name,
                  const char *trigger)
{
  QueryAuth *auth = user_data;

  switch (action)
    {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_READ:
      if (arg1 != NULL && g_ascii_strncasecmp (arg1, "_cb", 3) == 0)
        {
          deny (auth, g_strdup_printf ("a read of %s (the store's own tables are private)",
                                       arg1));
          return SQLITE_DENY;
        }
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (arg2 != NULL && g_ascii_strcasecmp (arg2, "load_extension") == 0)
        {
          deny (auth, g_strdup ("load_extension()"));
          return SQLITE_DENY;
        }
      return SQLITE_OK;
    case SQLITE_PRAGMA:
      deny (auth, g_strdup_printf ("PRAGMA %s", arg1 != NULL ? arg1 : ""));
      return SQLITE_DENY;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      deny (auth, g_strdup (action == SQLITE_ATTACH ? "ATTACH" : "DETACH"));
      return SQLITE_DENY;
    case SQLITE_INSERT:
      deny (auth, g_strdup_printf ("an INSERT into %s", arg1));
      return SQLITE_DENY;
    case SQLITE_UPDATE:
      deny (auth, g_strdup_printf ("an UPDATE of %s", arg1));
      return SQLITE_DENY;
    case SQLITE_DELETE:
      deny (auth, g_strdup_printf ("a DELETE from %s", arg1));
      return SQLITE_DENY;
    default:
      deny (auth, g_strdup_printf ("a statement that is not a SELECT (SQLite action %d)",
                                   action));
      return SQLITE_DENY;
    }
}

/* Past whitespace and -- or C comments, as SQLite's tokenizer skips them. */
static const char *
skip_space (const char *p)
{
  for (;;)
    {
      while (g_ascii_isspace (*p))
        p++;
      if (p[0] == '-' && p[1] == '-')
        {
          while (*p != '\0' && *p != '\n')
            p++;
        }
      else if (p[0] == '/' && p[1] == '*')
        {
          const char *end = strstr (p + 2, "*/");
          p = end != NULL ? end + 2 : p + strlen (p);
        }
      else
        return p;
    }
}

/* The statement's first word, upper-cased, for messages. */
static char *
first_word (const char *sql)
{
  const char *p = skip_space (sql);
  gsize n = 0;

  while (n < 24 && (g_ascii_isalnum (p[n]) || p[n] == '_'))
    n++;
  if (n == 0)
    return g_strdup ("something that is not a statement");
  return g_ascii_strup (p, (gssize) n);
}

static sqlite3_stmt *
refuse (sqlite3_stmt *stmt, GError **error, const char *got)
{
  sqlite3_finalize (stmt);
  g_set_error (error, CB_QUERY_ERROR, CB_QUERY_ERROR_NOT_ALLOWED,
               "only a single SELECT is allowed; got %s", got);
  return NULL;
}

sqlite3_stmt *
cb_query_prepare_select (sqlite3     *db,
                         const char  *sql,
                         GError     **error)
{
  QueryAuth auth = { 0 };
  sqlite3_stmt *stmt = NULL;
  sqlite3_stmt *extra = NULL;
  const char *tail = NULL;
  g_autofree char *word = NULL;
  int rc;

  if (sql == NULL || strlen (sql) > CB_QUERY_MAX_SQL)
    {
      g_set_error (error, CB_QUERY_ERROR, CB_QUERY_ERROR_NOT_ALLOWED,
                   "a query is 1 to %d bytes of SQL", CB_QUERY_MAX_SQL);
      return NULL;
    }
  word = first_word (sql);

  sqlite3_set_authorizer (db, query_authorizer, &auth);
  rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, &tail);
  if (rc == SQLITE_OK && stmt != NULL && tail != NULL && *tail != '\0')
    {
      int rc2 = sqlite3_prepare_v2 (db, tail, -1, &extra, NULL);

      sqlite3_finalize (extra);
      if (rc2 != SQLITE_OK || extra != NULL)
        {
          sqlite3_set_authorizer (db, NULL, NULL);
          g_free (auth.denied);
          return refuse (stmt, error, "more than one statement");
        }
    }
  sqlite3_set_authorizer (db, NULL, NULL);

  /* The authorizer's reason unless it only saw internals ("an INSERT into
   * sqlite_master" is a CREATE): then the first word says it better. */
  if (auth.denied != NULL && strcmp (word, "SELECT") != 0 && strcmp (word, "WITH") != 0
      && (strstr (auth.denied, "sqlite_master") != NULL
          || g_str_has_prefix (auth.denied, "a statement that is not")))
    g_clear_pointer (&auth.denied, g_free);
  if (auth.denied == NULL && strcmp (word, "SELECT") != 0 && strcmp (word, "WITH") != 0
      && (rc != SQLITE_OK || stmt != NULL))
    return refuse (stmt, error, word);
  if (rc != SQLITE_OK)
    {
      if (auth.denied != NULL)
        {
          g_autofree char *why = g_steal_pointer (&auth.denied);
          return refuse (stmt, error, why);
        }
      g_set_error (error, CB_QUERY_ERROR, CB_QUERY_ERROR_SQL, "the query does not compile: %s",
                   sqlite3_errmsg (db));
      return NULL;
    }
  g_clear_pointer (&auth.denied, g_free);
  if (stmt == NULL)
    return refuse (NULL, error, "no statement");
  if (strcmp (word, "SELECT") != 0 && strcmp (word, "WITH") != 0)
    return refuse (stmt, error, word);
  if (!sqlite3_stmt_readonly (stmt) || sqlite3_stmt_isexplain (stmt) != 0)
    return refuse (stmt, error, "a statement that writes");
  return stmt;
}

typedef struct {
  guint64 calls;
} Budget;

#define PROGRESS_PERIOD 10000

static int
over_budget (void *user_data)
{
  Budget *budget = user_data;

  return ++budget->calls * PROGRESS_PERIOD > CB_QUERY_MAX_STEPS;
}

JsonNode *
cb_query_run (sqlite3_stmt  *stmt,
              guint          max_rows,
              GError       **error)
{
  sqlite3 *db = sqlite3_db_handle (stmt);
  g_autoptr(JsonArray) columns = json_array_new ();
  g_autoptr(JsonArray) rows = json_array_new ();
  g_autoptr(JsonObject) result = json_object_new ();
  int n_columns = sqlite3_column_count (stmt);
  Budget budget = { 0 };
  gboolean truncated = FALSE;
  gsize result_bytes = 0;
  guint n_rows = 0;
  int old_length;
  int rc;

  if (max_rows == 0)
    max_rows = CB_QUERY_DEFAULT_MAX_ROWS;
  for (int c = 0; c < n_columns; c++)
    {
      const char *name = sqlite3_column_name (stmt, c);
      json_array_add_string_element (columns, name != NULL ? name : "");
    }

  sqlite3_progress_handler (db, PROGRESS_PERIOD, over_budget, &budget);
  old_length = sqlite3_limit (db, SQLITE_LIMIT_LENGTH, CB_QUERY_MAX_VALUE);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      JsonArray *row;
      gsize row_bytes = 0;

      for (int c = 0; c < n_columns; c++)
        row_bytes += 8 + (gsize) sqlite3_column_bytes (stmt, c);
      if (n_rows == max_rows || result_bytes + row_bytes > CB_QUERY_MAX_RESULT_BYTES)
        {
          truncated = TRUE;
          break;
        }
      result_bytes += row_bytes;
      row = json_array_sized_new ((guint) n_columns);
      for (int c = 0; c < n_columns; c++)
        json_array_add_element (row, cb_schema_column_to_json (stmt, c));
      json_array_add_array_element (rows, row);
      n_rows++;
    }
  sqlite3_limit (db, SQLITE_LIMIT_LENGTH, old_length);
  sqlite3_progress_handler (db, 0, NULL, NULL);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      if (rc == SQLITE_INTERRUPT && budget.calls * PROGRESS_PERIOD > CB_QUERY_MAX_STEPS)
        g_set_error (error, CB_QUERY_ERROR, CB_QUERY_ERROR_TOO_LONG,
                     "the query ran too long (over %d steps); narrow it or add a LIMIT",
                     CB_QUERY_MAX_STEPS);
      else
        g_set_error (error, CB_QUERY_ERROR, CB_QUERY_ERROR_FAILED, "the query failed: %s",
                     sqlite3_errmsg (db));
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);

  json_object_set_array_member (result, "columns", g_steal_pointer (&columns));
  json_object_set_array_member (result, "rows", g_steal_pointer (&rows));
  json_object_set_boolean_member (result, "truncated", truncated);
  return json_node_init_object (json_node_alloc (), result);
}
