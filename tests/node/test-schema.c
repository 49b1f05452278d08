/* test-schema.c: declarations, install, digest and dump */
#include "cb-schema.h"

#include <glib/gstdio.h>
#include <string.h>

static const char * const kv_tables[] = {
  "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT)",
  "CREATE TABLE scores (player TEXT NOT NULL, game INTEGER NOT NULL, points REAL, "
  "  data BLOB, PRIMARY KEY (game, player)) WITHOUT ROWID",
  "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, tag ANY) STRICT",
  NULL,
};

static sqlite3 *
open_db (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  return db;
}

static void
exec_ok (sqlite3 *db, const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static void
test_valid (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbSchema) schema = cb_schema_new ("test/kv", kv_tables, &error);
  const CbSchemaTable *table;

  g_assert_no_error (error);
  g_assert_cmpstr (cb_schema_get_system (schema), ==, "test/kv");
  g_assert_cmpuint (cb_schema_get_n_tables (schema), ==, 3);

  table = cb_schema_get_table (schema, 0);
  g_assert_cmpstr (table->name, ==, "kv");
  g_assert_cmpuint (table->n_columns, ==, 2);
  g_assert_cmpuint (table->n_pk, ==, 1);
  g_assert_cmpstr (table->columns[0].name, ==, "key");
  g_assert_cmpstr (table->columns[0].decl_type, ==, "TEXT");
  g_assert_cmpuint (table->columns[0].pk_index, ==, 1);
  g_assert_cmpuint (table->columns[1].pk_index, ==, 0);
  g_assert_cmpint (table->columns[0].affinity, ==, CB_SCHEMA_AFFINITY_TEXT);
  g_assert_false (table->columns[1].not_null);
  g_assert_false (table->without_rowid);

  /* The key's order is the PRIMARY KEY clause's, not the columns'. */
  table = cb_schema_lookup_table (schema, "scores");
  g_assert_nonnull (table);
  g_assert_true (table->without_rowid);
  g_assert_cmpuint (table->n_pk, ==, 2);
  g_assert_cmpuint (table->columns[0].pk_index, ==, 2);
  g_assert_cmpuint (table->columns[1].pk_index, ==, 1);
  g_assert_cmpuint (table->pk_columns[0], ==, 1);
  g_assert_cmpuint (table->pk_columns[1], ==, 0);
  g_assert_cmpint (table->columns[2].affinity, ==, CB_SCHEMA_AFFINITY_REAL);
  g_assert_cmpint (table->columns[3].affinity, ==, CB_SCHEMA_AFFINITY_NONE);

  table = cb_schema_lookup_table (schema, "COUNTERS");
  g_assert_nonnull (table);
  g_assert_true (table->strict);
  g_assert_cmpint (table->columns[0].affinity, ==, CB_SCHEMA_AFFINITY_INTEGER);
  g_assert_true (table->columns[1].not_null);
  g_assert_cmpint (table->columns[2].affinity, ==, CB_SCHEMA_AFFINITY_NONE);
  g_assert_null (cb_schema_lookup_table (schema, "nothing"));

  /* Comments after the statement are fine. */
  {
    const char * const sql[] = { "  CREATE TABLE t (x INTEGER PRIMARY KEY); -- a note\n/* c */ ",
                                 NULL };
    g_autoptr(CbSchema) other = cb_schema_new ("a/b", sql, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (cb_schema_get_table (other, 0)->name, ==, "t");
  }
}

typedef struct {
  const char *sql;
  const char *expect;  /* in the message */
} BadCase;

static void
test_rejects (void)
{
  static const BadCase cases[] = {
    { "CREATE TABLE t (a, b)", "table t declares no PRIMARY KEY" },
    { "CREATE TABLE _cb_x (a PRIMARY KEY)", "_cb_x" },
    { "CREATE TABLE _CBfoo (a PRIMARY KEY)", "reserved" },
    { "CREATE TABLE sqlite_x (a PRIMARY KEY)", "sqlite_x" },
    { "CREATE TABLE \"my table\" (a PRIMARY KEY)", "\"my table\" must be a plain identifier" },
    { "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, b)", "table t uses AUTOINCREMENT" },
    { "CREATE TABLE t (id INTEGER PRIMARY KEY, p INTEGER REFERENCES t (id))",
      "table t declares a foreign key" },
    { "CREATE TABLE t (id INTEGER PRIMARY KEY, FOREIGN KEY (id) REFERENCES u (x))",
      "foreign key" },
    { "CREATE VIEW v AS SELECT 1 AS x", "not a plain CREATE TABLE" },
    { "CREATE TABLE a (x PRIMARY KEY); CREATE TABLE b (y PRIMARY KEY)",
      "more than one statement" },
    { "CREATE TABLE a (x PRIMARY KEY); garbage", "more than one statement" },
    { "CREATE TEMP TABLE t (x PRIMARY KEY)", "temporary tables" },
    { "CREATE TABLE t AS SELECT 1 AS x", "AS SELECT" },
    { "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE)", "table t: UNIQUE on email" },
    { "CREATE TABLE t (a TEXT, b TEXT, PRIMARY KEY (a), UNIQUE (b, a))", "UNIQUE" },
    { "CREATE TABLE t (name TEXT COLLATE NOCASE PRIMARY KEY)",
      "key column name uses COLLATE NOCASE" },
    { "CREATE TABLE t (x REAL PRIMARY KEY, y)", "key column x is floating-point" },
    { "CREATE TABLE t (a INTEGER PRIMARY KEY, b AS (a * 2))", "column b is generated" },
    { "CREATE TABLE t (a PRIMARY KEY", "does not compile" },
    { "", "is empty" },
    { "  -- nothing here", "is empty" },
    { "SELECT 1", "not a plain CREATE TABLE" },
    { "CREATE INDEX i ON kv (value)", "" },
    { "PRAGMA journal_mode = WAL", "not a plain CREATE TABLE" },
    { "ATTACH 'x.db' AS x", "not a plain CREATE TABLE" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char * const sql[] = { "CREATE TABLE kv (key TEXT PRIMARY KEY, value)",
                                   cases[i].sql, NULL };
      g_autoptr(GError) error = NULL;
      g_autoptr(CbSchema) schema = cb_schema_new ("sys/x", sql, &error);

      g_test_message ("%s -> %s", cases[i].sql, error != NULL ? error->message : "(accepted)");
      g_assert_null (schema);
      g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_assert_true (g_str_has_prefix (error->message, "system sys/x: "));
    }

  /* Declared twice; system names; no tables. */
  {
    const char * const twice[] = { "CREATE TABLE t (a PRIMARY KEY)",
                                   "CREATE TABLE IF NOT EXISTS T (b PRIMARY KEY)", NULL };
    const char * const one[] = { "CREATE TABLE t (a PRIMARY KEY)", NULL };
    const char * const none[] = { NULL };
    g_autoptr(GError) error = NULL;

    g_assert_null (cb_schema_new ("s", twice, &error));
    g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_null (cb_schema_new ("", one, &error));
    g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_null (cb_schema_new ("bad\nname", one, &error));
    g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID);
    g_clear_error (&error);
    g_assert_null (cb_schema_new ("s", none, &error));
    g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "declares 0 tables"));
  }
}

static gboolean
table_exists (sqlite3 *db, const char *name)
{
  sqlite3_stmt *stmt = NULL;
  gboolean exists;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_schema WHERE name = ?", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  exists = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_finalize (stmt);
  return exists;
}

static void
test_install (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cb-schema-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "test-kv.db", NULL);
  g_autoptr(CbSchema) schema = cb_schema_new ("test/kv", kv_tables, &error);
  sqlite3 *db;

  g_assert_no_error (error);
  db = open_db (path);
  g_assert_true (cb_schema_install (schema, db, &error));
  g_assert_no_error (error);
  g_assert_true (table_exists (db, "kv"));
  g_assert_true (table_exists (db, "scores"));
  g_assert_true (table_exists (db, "counters"));
  g_assert_true (table_exists (db, "_cb_rows"));
  exec_ok (db, "INSERT INTO kv VALUES ('a', 'b')");
  sqlite3_close (db);

  /* Again, in a transaction of the caller's: nothing changes. */
  db = open_db (path);
  exec_ok (db, "BEGIN");
  g_assert_true (cb_schema_install (schema, db, &error));
  g_assert_no_error (error);
  exec_ok (db, "COMMIT");

  /* Another version of the system: refused, naming table and column, and
   * nothing of it is created. */
  {
    const char * const changed[] = {
      "CREATE TABLE extra (id INTEGER PRIMARY KEY)",
      "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value BLOB)",
      NULL,
    };
    const char * const more_columns[] = {
      "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT, at INTEGER)", NULL,
    };
    const char * const other_key[] = {
      "CREATE TABLE kv (key TEXT NOT NULL, value TEXT, PRIMARY KEY (key, value))", NULL,
    };
    const char * const strict[] = {
      "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT) STRICT", NULL,
    };
    g_autoptr(CbSchema) s1 = cb_schema_new ("test/kv", changed, &error);
    g_autoptr(CbSchema) s2 = cb_schema_new ("test/kv", more_columns, &error);
    g_autoptr(CbSchema) s3 = cb_schema_new ("test/kv", other_key, &error);
    g_autoptr(CbSchema) s4 = cb_schema_new ("test/kv", strict, &error);

    g_assert_no_error (error);
    g_assert_false (cb_schema_install (s1, db, &error));
    g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_MISMATCH);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "table kv of system test/kv differs: column 2 "
                                              "is value TEXT here but is declared value BLOB"));
    g_assert_false (table_exists (db, "extra"));
    g_clear_error (&error);

    g_assert_false (cb_schema_install (s2, db, &error));
    g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_MISMATCH);
    g_assert_nonnull (strstr (error->message, "column 3 is nothing here but is declared at"));
    g_clear_error (&error);

    g_assert_false (cb_schema_install (s3, db, &error));
    g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_MISMATCH);
    g_clear_error (&error);

    g_assert_false (cb_schema_install (s4, db, &error));
    g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_MISMATCH);
    g_assert_nonnull (strstr (error->message, "STRICT"));
    g_clear_error (&error);
  }
  /* The data is untouched. */
  {
    g_autoptr(JsonNode) rows = cb_schema_dump_table (schema, db, "kv", &error);
    g_autofree char *text = json_to_string (rows, FALSE);

    g_assert_no_error (error);
    g_assert_cmpstr (text, ==, "[{\"key\":\"a\",\"value\":\"b\"}]");
  }
  sqlite3_close (db);
  g_unlink (path);
  g_rmdir (dir);
}

static char *
digest_of (CbSchema *schema, sqlite3 *db)
{
  g_autoptr(GError) error = NULL;
  char *digest = cb_schema_digest (schema, db, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (digest), ==, 64);
  return digest;
}

static void
test_digest (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbSchema) schema = cb_schema_new ("test/kv", kv_tables, &error);
  g_autofree char *dir = g_dir_make_tmp ("cb-schema-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "a.db", NULL);
  sqlite3 *a = open_db (path);
  sqlite3 *b = open_db (":memory:");
  g_autofree char *da = NULL, *db_ = NULL, *empty = NULL;

  g_assert_no_error (error);
  g_assert_true (cb_schema_install (schema, a, &error));
  g_assert_true (cb_schema_install (schema, b, &error));
  g_assert_no_error (error);
  empty = digest_of (schema, a);
  da = digest_of (schema, b);
  g_assert_cmpstr (empty, ==, da);
  g_clear_pointer (&da, g_free);

  /* Same rows, different insertion order and history (a has had rows
   * deleted and a vacuum): same digest. */
  exec_ok (a, "BEGIN; INSERT INTO kv VALUES ('x', 'junk'), ('y', '2'), ('z', NULL);"
              "INSERT INTO scores VALUES ('ann', 2, 1.5, x'00ff'), ('bob', 1, NULL, NULL);"
              "INSERT INTO counters VALUES (7, 1, 'seven'), (3, 2, 3);"
              "WITH RECURSIVE s (v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 500) "
              "INSERT INTO kv SELECT 'tmp' || v, v FROM s;"
              "COMMIT;");
  exec_ok (a, "DELETE FROM kv WHERE key LIKE 'tmp%'; UPDATE kv SET value = '1' WHERE key = 'x';"
              "VACUUM");
  exec_ok (b, "INSERT INTO counters VALUES (3, 2, 3), (7, 1, 'seven');"
              "INSERT INTO scores VALUES ('bob', 1, NULL, NULL), ('ann', 2, 1.5, x'00ff');"
              "INSERT INTO kv VALUES ('z', NULL), ('y', '2'), ('x', '1');");
  da = digest_of (schema, a);
  db_ = digest_of (schema, b);
  g_assert_cmpstr (da, ==, db_);
  g_assert_cmpstr (da, !=, empty);

  /* One value's type (3 vs '3' in an ANY column) changes it. */
  exec_ok (b, "UPDATE counters SET tag = '3' WHERE id = 3");
  g_clear_pointer (&db_, g_free);
  db_ = digest_of (schema, b);
  g_assert_cmpstr (da, !=, db_);
  exec_ok (b, "UPDATE counters SET tag = 3 WHERE id = 3");
  g_clear_pointer (&db_, g_free);
  db_ = digest_of (schema, b);
  g_assert_cmpstr (da, ==, db_);

  /* A row moved between tables with equal columns still changes it:
   * NULL vs empty, and row boundaries, are encoded. */
  exec_ok (b, "UPDATE kv SET value = '' WHERE key = 'z'");
  g_clear_pointer (&db_, g_free);
  db_ = digest_of (schema, b);
  g_assert_cmpstr (da, !=, db_);

  /* The store's own tables do not count. */
  exec_ok (a, "INSERT INTO _cb_rows VALUES ('kv', x'01', 1, x'00', 1)");
  g_clear_pointer (&db_, g_free);
  db_ = digest_of (schema, a);
  g_assert_cmpstr (da, ==, db_);

  /* Without the tables: an error, not a digest. */
  {
    sqlite3 *bare = open_db (":memory:");

    g_assert_null (cb_schema_digest (schema, bare, &error));
    g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_DATABASE);
    g_assert_nonnull (strstr (error->message, "kv"));
    g_clear_error (&error);
    sqlite3_close (bare);
  }
  sqlite3_close (a);
  sqlite3_close (b);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_dump (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbSchema) schema = cb_schema_new ("test/kv", kv_tables, &error);
  sqlite3 *db = open_db (":memory:");
  g_autoptr(JsonNode) rows = NULL;
  g_autofree char *text = NULL;

  g_assert_true (cb_schema_install (schema, db, &error));
  exec_ok (db, "INSERT INTO scores VALUES ('bob', 1, NULL, NULL), ('ann', 2, 1.5, x'00ff'),"
               "('al', 2, 3, x'')");
  rows = cb_schema_dump_table (schema, db, "scores", &error);
  g_assert_no_error (error);
  text = json_to_string (rows, FALSE);
  g_assert_cmpstr (text, ==,
                   "[{\"player\":\"bob\",\"game\":1,\"points\":null,\"data\":null},"
                   "{\"player\":\"al\",\"game\":2,\"points\":3.0,\"data\":{\"$base64\":\"\"}},"
                   "{\"player\":\"ann\",\"game\":2,\"points\":1.5,\"data\":{\"$base64\":\"AP8=\"}}]");
  g_assert_null (cb_schema_dump_table (schema, db, "nope", &error));
  g_assert_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_NOT_FOUND);
  sqlite3_close (db);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/schema/valid", test_valid);
  g_test_add_func ("/node/schema/rejects", test_rejects);
  g_test_add_func ("/node/schema/install", test_install);
  g_test_add_func ("/node/schema/digest", test_digest);
  g_test_add_func ("/node/schema/dump", test_dump);
  return g_test_run ();
}
