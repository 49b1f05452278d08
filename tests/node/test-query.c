/* test-query.c: the read-only query guard */
#include "cb-query.h"
#include "cb-schema.h"

#include <string.h>

static const char * const tables[] = {
  "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value)",
  NULL,
};

static sqlite3 *
setup_db (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbSchema) schema = cb_schema_new ("test/kv", tables, &error);
  sqlite3 *db = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  g_assert_true (cb_schema_install (schema, db, &error));
  g_assert_cmpint (sqlite3_exec (db,
                                 "INSERT INTO kv VALUES ('a', 1), ('b', 2.5), ('c', 'text'),"
                                 " ('d', x'00ff'), ('e', NULL);"
                                 "CREATE TABLE _cb_log (x); INSERT INTO _cb_log VALUES (1);"
                                 "INSERT INTO _cb_rows VALUES ('kv', x'01', 1, x'02', 0)",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  return db;
}

static char *
run (sqlite3 *db, const char *sql, guint max_rows)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = cb_query_prepare_select (db, sql, &error);
  g_autoptr(JsonNode) result = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (stmt);
  result = cb_query_run (stmt, max_rows, &error);
  g_assert_no_error (error);
  sqlite3_finalize (stmt);
  return json_to_string (result, FALSE);
}

static void
test_select (void)
{
  sqlite3 *db = setup_db ();
  g_autofree char *all = run (db, "SELECT key, value FROM kv ORDER BY key", 0);
  g_autofree char *with = run (db, "  -- leading comment\n WITH x (n) AS (SELECT count (*) FROM kv)"
                                   " SELECT n, typeof (n) AS t FROM x;  /* trailing */ ", 0);
  g_autofree char *sub = run (db, "select (SELECT max (key) FROM kv) AS top", 0);
  g_autofree char *recursive = run (db, "WITH RECURSIVE c (i) AS (SELECT 1 UNION ALL "
                                        "SELECT i + 1 FROM c WHERE i < 3) SELECT i FROM c", 0);
  g_autofree char *schema = run (db, "SELECT count (*) > 0 FROM sqlite_schema", 0);

  g_assert_cmpstr (all, ==,
                   "{\"columns\":[\"key\",\"value\"],\"rows\":[[\"a\",1],[\"b\",2.5],"
                   "[\"c\",\"text\"],[\"d\",{\"$base64\":\"AP8=\"}],[\"e\",null]],"
                   "\"truncated\":false}");
  g_assert_cmpstr (with, ==, "{\"columns\":[\"n\",\"t\"],\"rows\":[[5,\"integer\"]],"
                             "\"truncated\":false}");
  g_assert_cmpstr (sub, ==, "{\"columns\":[\"top\"],\"rows\":[[\"e\"]],\"truncated\":false}");
  g_assert_cmpstr (recursive, ==, "{\"columns\":[\"i\"],\"rows\":[[1],[2],[3]],"
                                  "\"truncated\":false}");
  g_assert_cmpstr (schema, ==, "{\"columns\":[\"count (*) > 0\"],\"rows\":[[1]],"
                               "\"truncated\":false}");
  sqlite3_close (db);
}

static void
test_max_rows (void)
{
  sqlite3 *db = setup_db ();
  g_autofree char *two = run (db, "SELECT key FROM kv ORDER BY key", 2);
  g_autofree char *five = run (db, "SELECT key FROM kv ORDER BY key", 5);

  g_assert_cmpstr (two, ==, "{\"columns\":[\"key\"],\"rows\":[[\"a\"],[\"b\"]],\"truncated\":true}");
  g_assert_nonnull (strstr (five, "\"truncated\":false"));
  sqlite3_close (db);
}

typedef struct {
  const char *sql;
  int         code;
  const char *expect;
} Refused;

static void
test_refused (void)
{
  static const Refused cases[] = {
    { "INSERT INTO kv VALUES ('z', 1)", CB_QUERY_ERROR_NOT_ALLOWED, "only a single SELECT is allowed; got an INSERT into kv" },
    { "DELETE FROM kv", CB_QUERY_ERROR_NOT_ALLOWED, "only a single SELECT is allowed" },
    { "UPDATE kv SET value = 1", CB_QUERY_ERROR_NOT_ALLOWED, "only a single SELECT" },
    { "WITH x AS (SELECT 1) DELETE FROM kv", CB_QUERY_ERROR_NOT_ALLOWED, "only a single SELECT" },
    { "PRAGMA table_info (kv)", CB_QUERY_ERROR_NOT_ALLOWED, "got PRAGMA table_info" },
    { "PRAGMA journal_mode = DELETE", CB_QUERY_ERROR_NOT_ALLOWED, "got PRAGMA journal_mode" },
    { "SELECT * FROM pragma_table_info ('kv')", CB_QUERY_ERROR_NOT_ALLOWED, "only a single SELECT" },
    { "ATTACH 'other.db' AS other", CB_QUERY_ERROR_NOT_ALLOWED, "got ATTACH" },
    { "DETACH main", CB_QUERY_ERROR_NOT_ALLOWED, "only a single SELECT" },
    { "SELECT 1; SELECT 2", CB_QUERY_ERROR_NOT_ALLOWED, "got more than one statement" },
    { "SELECT 1; DROP TABLE kv", CB_QUERY_ERROR_NOT_ALLOWED, "got more than one statement" },
    { "SELECT 1; garbage", CB_QUERY_ERROR_NOT_ALLOWED, "got more than one statement" },
    { "SELECT * FROM _cb_rows", CB_QUERY_ERROR_NOT_ALLOWED, "got a read of _cb_rows" },
    { "SELECT x FROM _CB_LOG", CB_QUERY_ERROR_NOT_ALLOWED, "a read of _cb_log" },
    { "SELECT k.key FROM kv AS k JOIN _cb_rows AS r ON r.tbl = 'kv'", CB_QUERY_ERROR_NOT_ALLOWED, "_cb_rows" },
    { "SELECT (SELECT count (*) FROM _cb_log)", CB_QUERY_ERROR_NOT_ALLOWED, "_cb_log" },
    { "WITH r AS (SELECT * FROM _cb_rows) SELECT count (*) FROM r", CB_QUERY_ERROR_NOT_ALLOWED, "_cb_rows" },
    { "EXPLAIN SELECT 1", CB_QUERY_ERROR_NOT_ALLOWED, "got EXPLAIN" },
    { "CREATE TABLE t (a)", CB_QUERY_ERROR_NOT_ALLOWED, "only a single SELECT is allowed; got CREATE" },
    { "SELECT load_extension ('x')", CB_QUERY_ERROR_NOT_ALLOWED, "load_extension" },
    { "VACUUM", CB_QUERY_ERROR_NOT_ALLOWED, "only a single SELECT" },
    { "BEGIN", CB_QUERY_ERROR_NOT_ALLOWED, "got BEGIN" },
    { "VALUES (1)", CB_QUERY_ERROR_NOT_ALLOWED, "got VALUES" },
    { "", CB_QUERY_ERROR_NOT_ALLOWED, "got no statement" },
    { "  -- just a comment", CB_QUERY_ERROR_NOT_ALLOWED, "got no statement" },
    { "SELECT 1 +", CB_QUERY_ERROR_SQL, "does not compile" },
    { "SELEKT 1", CB_QUERY_ERROR_NOT_ALLOWED, "got SELEKT" },
    { "SELECT * FROM nowhere", CB_QUERY_ERROR_SQL, "no such table: nowhere" },
  };
  sqlite3 *db = setup_db ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      sqlite3_stmt *stmt = cb_query_prepare_select (db, cases[i].sql, &error);

      g_test_message ("%s -> %s", cases[i].sql, error != NULL ? error->message : "(allowed)");
      g_assert_null (stmt);
      g_assert_error (error, CB_QUERY_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
    }

  /* Nothing was changed, and the connection has no authorizer left over. */
  {
    g_autofree char *count = run (db, "SELECT count (*) FROM kv", 0);
    g_assert_cmpstr (count, ==, "{\"columns\":[\"count (*)\"],\"rows\":[[5]],\"truncated\":false}");
    g_assert_cmpint (sqlite3_exec (db, "SELECT * FROM _cb_rows", NULL, NULL, NULL), ==, SQLITE_OK);
  }
  sqlite3_close (db);
}

static void
test_runaway (void)
{
  sqlite3 *db = setup_db ();
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = cb_query_prepare_select (
    db, "WITH RECURSIVE c (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) "
        "SELECT count (*) FROM c", &error);
  g_autoptr(JsonNode) result = NULL;

  g_assert_no_error (error);
  result = cb_query_run (stmt, 10, &error);
  g_assert_null (result);
  g_assert_error (error, CB_QUERY_ERROR, CB_QUERY_ERROR_TOO_LONG);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

static void
test_big_values (void)
{
  sqlite3 *db = setup_db ();
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = cb_query_prepare_select (db, "SELECT length (randomblob (1000000000))",
                                                &error);
  g_autoptr(JsonNode) result = NULL;

  g_assert_no_error (error);
  result = cb_query_run (stmt, 0, &error);
  g_assert_null (result);
  g_assert_error (error, CB_QUERY_ERROR, CB_QUERY_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "too big"));
  sqlite3_finalize (stmt);
  g_clear_error (&error);

  /* Rows of 10 MiB: the result stops before 32 MiB, marked truncated. */
  stmt = cb_query_prepare_select (db, "WITH RECURSIVE c (i) AS (SELECT 1 UNION ALL "
                                      "SELECT i + 1 FROM c WHERE i < 10) "
                                      "SELECT i, zeroblob (10485760) FROM c", &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  result = cb_query_run (stmt, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_node_get_object (result), "rows")), ==, 3);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (result), "truncated"));
  sqlite3_finalize (stmt);

  /* The connection's own limit is back. */
  g_assert_cmpint (sqlite3_limit (db, SQLITE_LIMIT_LENGTH, -1), >, CB_QUERY_MAX_VALUE);
  sqlite3_close (db);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/query/select", test_select);
  g_test_add_func ("/node/query/max-rows", test_max_rows);
  g_test_add_func ("/node/query/refused", test_refused);
  g_test_add_func ("/node/query/runaway", test_runaway);
  g_test_add_func ("/node/query/big-values", test_big_values);
  return g_test_run ();
}
