/* test-changeset.c: builder, validator and last-writer-wins materialiser */
#include "cb-changeset.h"

#include <glib/gstdio.h>
#include <string.h>

static const char * const tables[] = {
  "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT)",
  "CREATE TABLE scores (player TEXT NOT NULL, game INTEGER NOT NULL, points REAL, data BLOB,"
  "  PRIMARY KEY (game, player)) WITHOUT ROWID",
  "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0), tag ANY)"
  "  STRICT",
  NULL,
};

static CbSchema *
test_schema (void)
{
  g_autoptr(GError) error = NULL;
  CbSchema *schema = cb_schema_new ("test/changeset", tables, &error);

  g_assert_no_error (error);
  return schema;
}

static void
exec_ok (sqlite3 *db, const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static sqlite3 *
open_installed (CbSchema *schema, const char *path)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (strcmp (path, ":memory:") != 0)
    exec_ok (db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  g_assert_true (cb_schema_install (schema, db, &error));
  g_assert_no_error (error);
  return db;
}

static JsonObject *
obj (const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (json, &error);

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static void
upsert (CbChangesetBuilder *builder, const char *table, const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) row = obj (json);

  g_assert_true (cb_changeset_builder_upsert (builder, table, row, &error));
  g_assert_no_error (error);
}

static void
delete (CbChangesetBuilder *builder, const char *table, const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) key = obj (json);

  g_assert_true (cb_changeset_builder_delete (builder, table, key, &error));
  g_assert_no_error (error);
}

static GBytes *
finish (CbChangesetBuilder *builder)
{
  g_autoptr(GError) error = NULL;
  GBytes *bytes = cb_changeset_builder_finish (builder, &error);

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  return bytes;
}

static char *
dump (CbSchema *schema, sqlite3 *db, const char *table)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = cb_schema_dump_table (schema, db, table, &error);

  g_assert_no_error (error);
  return json_to_string (node, FALSE);
}

static char *
digest (CbSchema *schema, sqlite3 *db)
{
  g_autoptr(GError) error = NULL;
  char *hex = cb_schema_digest (schema, db, &error);

  g_assert_no_error (error);
  return hex;
}

static CbStamp
stamp (guint64 hlc, guint8 writer)
{
  CbStamp s = { .hlc = hlc };

  memset (s.writer, writer, sizeof s.writer);
  return s;
}

static void
apply (CbMaterializer *mat, sqlite3 *db, GBytes *changeset, const CbStamp *s,
       guint *applied, guint *superseded)
{
  g_autoptr(GError) error = NULL;

  exec_ok (db, "BEGIN");
  g_assert_true (cb_materializer_apply (mat, g_bytes_get_data (changeset, NULL),
                                        g_bytes_get_size (changeset), s, applied, superseded,
                                        &error));
  g_assert_no_error (error);
  exec_ok (db, "COMMIT");
}

/* A real session changeset from an ad-hoc database: setup, then change. */
static GBytes *
session_changeset (const char *setup, const char *change)
{
  sqlite3 *db = NULL;
  sqlite3_session *session = NULL;
  void *data = NULL;
  int len = 0;
  GBytes *bytes;

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  exec_ok (db, setup);
  g_assert_cmpint (sqlite3session_create (db, "main", &session), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3session_attach (session, NULL), ==, SQLITE_OK);
  exec_ok (db, change);
  g_assert_cmpint (sqlite3session_changeset (session, &len, &data), ==, SQLITE_OK);
  bytes = g_bytes_new (data, (gsize) len);
  sqlite3_free (data);
  sqlite3session_delete (session);
  sqlite3_close (db);
  return bytes;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* "INSERT kv a" / "DELETE scores ann 2" (key values in column order), sorted, for comparing op lists. */
static char *
describe_ops (GBytes *changeset)
{
  sqlite3_changeset_iter *iter = NULL;
  g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func (g_free);

  g_assert_cmpint (sqlite3changeset_start (&iter, (int) g_bytes_get_size (changeset),
                                           (void *) g_bytes_get_data (changeset, NULL)),
                   ==, SQLITE_OK);
  while (sqlite3changeset_next (iter) == SQLITE_ROW)
    {
      const char *table;
      int n_columns, op, indirect, n_pk;
      unsigned char *pk;
      GString *line = g_string_new (NULL);

      sqlite3changeset_op (iter, &table, &n_columns, &op, &indirect);
      sqlite3changeset_pk (iter, &pk, &n_pk);
      g_assert_true (op == SQLITE_INSERT || op == SQLITE_DELETE);
      g_string_append_printf (line, "%s %s", op == SQLITE_INSERT ? "INSERT" : "DELETE", table);
      for (int c = 0; c < n_columns; c++)
        {
          sqlite3_value *value = NULL;

          if (op == SQLITE_INSERT)
            sqlite3changeset_new (iter, c, &value);
          else
            sqlite3changeset_old (iter, c, &value);
          /* Whole rows: every INSERT value is present. */
          if (op == SQLITE_INSERT)
            g_assert_nonnull (value);
          if (pk[c])
            g_string_append_printf (line, " %s", sqlite3_value_text (value));
        }
      g_ptr_array_add (ops, g_string_free (line, FALSE));
    }
  g_assert_cmpint (sqlite3changeset_finalize (iter), ==, SQLITE_OK);
  g_ptr_array_sort (ops, compare_strings);
  g_ptr_array_add (ops, NULL);
  return g_strjoinv (";", (char **) ops->pdata);
}

/* ---- builder -------------------------------------------------------------- */

static void
test_builder (void)
{
  g_autoptr(CbSchema) schema = test_schema ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CbChangesetBuilder) builder = cb_changeset_builder_new (schema, &error);
  g_autoptr(GBytes) changeset = NULL;
  g_autoptr(GBytes) empty = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(CbMaterializer) mat = NULL;
  g_autofree char *ops = NULL;
  sqlite3 *db;
  CbStamp s = stamp (100, 1);
  guint n_ops = 0, applied = 0, superseded = 0;

  g_assert_no_error (error);
  upsert (builder, "kv", "{\"key\": \"a\", \"value\": \"1\"}");
  upsert (builder, "kv", "{\"key\": \"b\"}");
  delete (builder, "kv", "{\"key\": \"c\"}");
  upsert (builder, "kv", "{\"key\": \"a\", \"value\": \"2\"}");        /* replaces */
  delete (builder, "kv", "{\"key\": \"b\"}");                          /* upsert, then delete */
  upsert (builder, "KV", "{\"KEY\": \"c\", \"value\": \"back\"}");     /* delete, then upsert */
  delete (builder, "kv", "{\"key\": \"c\"}");
  upsert (builder, "kv", "{\"key\": \"c\", \"value\": \"back\"}");
  upsert (builder, "scores", "{\"player\": \"ann\", \"game\": 2, \"points\": 1.5, "
                             "\"data\": {\"$base64\": \"AP8=\"}}");
  upsert (builder, "counters", "{\"id\": 1, \"n\": true, \"tag\": \"x\"}");
  delete (builder, "counters", "{\"id\": 9}");
  delete (builder, "counters", "{\"id\": 9}");
  g_assert_cmpuint (cb_changeset_builder_get_n_ops (builder), ==, 6);

  changeset = finish (builder);
  g_assert_true (cb_changeset_validate (schema, g_bytes_get_data (changeset, NULL),
                                        g_bytes_get_size (changeset), &n_ops, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_ops, ==, 6);
  ops = describe_ops (changeset);
  g_assert_cmpstr (ops, ==, "DELETE counters 9;DELETE kv b;INSERT counters 1;INSERT kv a;"
                            "INSERT kv c;INSERT scores ann 2");

  db = open_installed (schema, ":memory:");
  mat = cb_materializer_new (schema, db, &error);
  g_assert_no_error (error);
  apply (mat, db, changeset, &s, &applied, &superseded);
  g_assert_cmpuint (applied, ==, 6);
  g_assert_cmpuint (superseded, ==, 0);
  {
    g_autofree char *kv = dump (schema, db, "kv");
    g_autofree char *scores = dump (schema, db, "scores");
    g_autofree char *counters = dump (schema, db, "counters");

    g_assert_cmpstr (kv, ==, "[{\"key\":\"a\",\"value\":\"2\"},{\"key\":\"c\",\"value\":\"back\"}]");
    g_assert_cmpstr (scores, ==, "[{\"player\":\"ann\",\"game\":2,\"points\":1.5,"
                                 "\"data\":{\"$base64\":\"AP8=\"}}]");
    g_assert_cmpstr (counters, ==, "[{\"id\":1,\"n\":1,\"tag\":\"x\"}]");
  }

  /* Reused: empty, then only what came after. */
  g_assert_cmpuint (cb_changeset_builder_get_n_ops (builder), ==, 0);
  empty = finish (builder);
  g_assert_cmpuint (g_bytes_get_size (empty), ==, 0);
  g_assert_true (cb_changeset_validate (schema, NULL, 0, &n_ops, &error));
  g_assert_cmpuint (n_ops, ==, 0);
  delete (builder, "kv", "{\"key\": \"a\"}");
  again = finish (builder);
  g_clear_pointer (&ops, g_free);
  ops = describe_ops (again);
  g_assert_cmpstr (ops, ==, "DELETE kv a");

  /* Affinity applies before the bytes are made: 2.0 in an INTEGER key
   * would be refused, but 7 in an ANY column stays an INTEGER. */
  upsert (builder, "counters", "{\"id\": 2, \"n\": 0, \"tag\": 7}");
  g_clear_pointer (&again, g_bytes_unref);
  again = finish (builder);
  s = stamp (101, 1);
  apply (mat, db, again, &s, &applied, &superseded);
  {
    g_autofree char *counters = dump (schema, db, "counters");
    g_assert_cmpstr (counters, ==, "[{\"id\":1,\"n\":1,\"tag\":\"x\"},{\"id\":2,\"n\":0,\"tag\":7}]");
  }
  g_clear_pointer (&mat, cb_materializer_free);
  sqlite3_close (db);
}

typedef struct {
  gboolean    is_delete;
  const char *table;
  const char *json;
  const char *expect;
} BuilderBad;

static void
test_builder_errors (void)
{
  static const BuilderBad cases[] = {
    { FALSE, "nope", "{\"key\": \"a\"}", "system test/changeset has no table nope" },
    { FALSE, "kv", "{\"key\": \"a\", \"colour\": 1}", "table kv has no column colour" },
    { FALSE, "kv", "{\"value\": \"x\"}", "key column key of table kv is missing" },
    { FALSE, "kv", "{\"key\": null}", "key column key of table kv (TEXT) cannot be null" },
    { FALSE, "kv", "{\"key\": 5}", "key column key of table kv (TEXT) cannot be an integer" },
    { FALSE, "kv", "{\"key\": \"a\", \"value\": [1]}", "column value of table kv cannot be an array" },
    { FALSE, "kv", "{\"key\": \"a\", \"value\": {\"x\": 1}}", "{\"$base64\"" },
    { FALSE, "kv", "{\"key\": \"a\", \"value\": {\"$base64\": \"@@@\"}}", "not padded standard base64" },
    { FALSE, "kv", "{\"key\": \"a\", \"key\": \"b\"}", "" },
    { FALSE, "kv", "{\"key\": \"a\", \"KEY\": \"b\"}", "column key of table kv is given twice" },
    { FALSE, "scores", "{\"player\": \"x\", \"game\": 1.5}", "key column game of table scores (INTEGER) cannot be a number" },
    { FALSE, "scores", "{\"player\": \"x\", \"game\": \"1\"}", "(INTEGER) cannot be a string" },
    { FALSE, "counters", "{\"id\": 1}", "column n of table counters is NOT NULL" },
    { FALSE, "counters", "{\"id\": 1, \"n\": -1}", "table counters refuses the row: CHECK constraint failed" },
    { FALSE, "counters", "{\"id\": 1, \"n\": \"many\"}", "table counters refuses the row: cannot store TEXT value in INTEGER column" },
    { TRUE, "kv", "{\"key\": \"a\", \"value\": \"x\"}", "column value is not part of table kv's key" },
    { TRUE, "kv", "{}", "key column key of table kv is missing" },
    { TRUE, "scores", "{\"game\": 1}", "key column player of table scores is missing" },
  };
  g_autoptr(CbSchema) schema = test_schema ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CbChangesetBuilder) builder = cb_changeset_builder_new (schema, &error);
  g_autoptr(GBytes) changeset = NULL;
  g_autofree char *ops = NULL;

  g_assert_no_error (error);
  upsert (builder, "kv", "{\"key\": \"kept\", \"value\": \"1\"}");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) row = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      gboolean ok;

      g_assert_true (json_parser_load_from_data (parser, cases[i].json, -1, NULL));
      row = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
      ok = cases[i].is_delete
             ? cb_changeset_builder_delete (builder, cases[i].table, row, &error)
             : cb_changeset_builder_upsert (builder, cases[i].table, row, &error);
      if (*cases[i].expect == '\0')
        {
          /* json-glib keeps the last of repeated members: accepted. */
          g_assert_true (ok);
          continue;
        }
      g_test_message ("%s -> %s", cases[i].json, error != NULL ? error->message : "(accepted)");
      g_assert_false (ok);
      g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_clear_error (&error);
    }
  /* A refused row changes nothing: what was there stays. */
  changeset = finish (builder);
  ops = describe_ops (changeset);
  g_assert_cmpstr (ops, ==, "INSERT kv b;INSERT kv kept");
}

static void
test_builder_limit (void)
{
  g_autoptr(CbSchema) schema = test_schema ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CbChangesetBuilder) builder = cb_changeset_builder_new (schema, &error);
  g_autoptr(GBytes) changeset = NULL;
  g_autoptr(JsonObject) row = json_object_new ();
  guint n_ops = 0;

  for (guint i = 0; i < CB_CHANGESET_MAX_OPS; i++)
    {
      json_object_set_int_member (row, "id", i);
      json_object_set_int_member (row, "n", i);
      g_assert_true (cb_changeset_builder_upsert (builder, "counters", row, &error));
    }
  /* One more row is refused; rewriting a row already there is not. */
  json_object_set_int_member (row, "id", CB_CHANGESET_MAX_OPS);
  g_assert_false (cb_changeset_builder_upsert (builder, "counters", row, &error));
  g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE);
  g_clear_error (&error);
  json_object_set_int_member (row, "id", 5);
  json_object_set_int_member (row, "n", 55);
  g_assert_true (cb_changeset_builder_upsert (builder, "counters", row, &error));
  changeset = finish (builder);
  g_assert_true (cb_changeset_validate (schema, g_bytes_get_data (changeset, NULL),
                                        g_bytes_get_size (changeset), &n_ops, &error));
  g_assert_cmpuint (n_ops, ==, CB_CHANGESET_MAX_OPS);
}

/* ---- validator -------------------------------------------------------- */

typedef struct {
  const char *setup;
  const char *change;
  int         code;
  const char *expect;
} ValidateBad;

static void
test_validate_rejects (void)
{
  static const ValidateBad cases[] = {
    { "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT);"
      "INSERT INTO kv VALUES ('a', '1')",
      "UPDATE kv SET value = '2' WHERE key = 'a'", CB_CHANGESET_ERROR_INVALID,
      "op 0 is an UPDATE of table kv; changesets carry whole rows" },
    { "CREATE TABLE other (x PRIMARY KEY)", "INSERT INTO other VALUES (1)",
      CB_CHANGESET_ERROR_INVALID,
      "op 0 (INSERT) names table \"other\", which system test/changeset does not declare" },
    { "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT, extra)",
      "INSERT INTO kv VALUES ('a', 'b', 'c')", CB_CHANGESET_ERROR_INVALID,
      "op 0 (INSERT on kv) has 3 columns; the table has 2" },
    { "CREATE TABLE kv (key TEXT, value TEXT PRIMARY KEY)", "INSERT INTO kv VALUES ('a', 'b')",
      CB_CHANGESET_ERROR_INVALID,
      "op 0 (INSERT on kv) puts column key at place 0 of the primary key; the table has it at 1" },
    { "CREATE TABLE kv (key TEXT, value TEXT, PRIMARY KEY (key, value))",
      "INSERT INTO kv VALUES ('a', 'b')", CB_CHANGESET_ERROR_INVALID,
      "puts column value at place 2 of the primary key; the table has it at 0" },
    { "CREATE TABLE scores (player TEXT NOT NULL, game INTEGER NOT NULL, points REAL, data BLOB,"
      " PRIMARY KEY (player, game)) WITHOUT ROWID",
      "INSERT INTO scores VALUES ('x', 1, NULL, NULL)", CB_CHANGESET_ERROR_INVALID,
      "puts column game at place 2 of the primary key; the table has it at 1" },
    { "CREATE TABLE kv (key PRIMARY KEY, value TEXT)", "INSERT INTO kv VALUES (5, 'x')",
      CB_CHANGESET_ERROR_INVALID, "key column key (TEXT) cannot hold an INTEGER value" },
    { "CREATE TABLE kv (key PRIMARY KEY, value TEXT); INSERT INTO kv VALUES (x'01', 'x')",
      "DELETE FROM kv", CB_CHANGESET_ERROR_INVALID,
      "op 0 (DELETE on kv): key column key (TEXT) cannot hold a BLOB value" },
    { "CREATE TABLE scores (player TEXT NOT NULL, game NOT NULL, points REAL, data BLOB,"
      " PRIMARY KEY (game, player)) WITHOUT ROWID",
      "INSERT INTO scores VALUES ('x', 1.5, NULL, NULL)", CB_CHANGESET_ERROR_INVALID,
      "key column game (INTEGER) cannot hold a REAL value" },
    { "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER, tag ANY) STRICT",
      "INSERT INTO counters VALUES (1, NULL, 1)", CB_CHANGESET_ERROR_INVALID,
      "op 0 (INSERT on counters): NOT NULL column n is NULL" },
    { "CREATE TABLE counters (id INTEGER PRIMARY KEY, n, tag)",
      "INSERT INTO counters VALUES (1, 'abc', NULL)", CB_CHANGESET_ERROR_INVALID,
      "column n (INTEGER) cannot hold a TEXT value" },
    { "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER, tag ANY) STRICT",
      "WITH RECURSIVE s (v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v <= 10000) "
      "INSERT INTO counters SELECT v, v, NULL FROM s", CB_CHANGESET_ERROR_TOO_LARGE,
      "more than 10000 ops" },
  };
  g_autoptr(CbSchema) schema = test_schema ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) changeset = session_changeset (cases[i].setup, cases[i].change);
      g_autoptr(GError) error = NULL;
      guint n_ops = 77;

      g_assert_cmpuint (g_bytes_get_size (changeset), >, 0);
      g_assert_false (cb_changeset_validate (schema, g_bytes_get_data (changeset, NULL),
                                             g_bytes_get_size (changeset), &n_ops, &error));
      g_test_message ("%s -> %s", cases[i].change, error->message);
      g_assert_error (error, CB_CHANGESET_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_assert_cmpuint (n_ops, ==, 0);
    }

  /* The same row twice (two changesets end to end). */
  {
    g_autoptr(GBytes) one = session_changeset ("CREATE TABLE kv (key TEXT PRIMARY KEY, value)",
                                               "INSERT INTO kv VALUES ('a', '1')");
    g_autoptr(GBytes) two = session_changeset ("CREATE TABLE kv (key TEXT PRIMARY KEY, value);"
                                               "INSERT INTO kv VALUES ('a', '1')",
                                               "DELETE FROM kv");
    g_autoptr(GByteArray) both = g_byte_array_new ();
    g_autoptr(GError) error = NULL;
    guint n_ops = 0;

    g_byte_array_append (both, g_bytes_get_data (one, NULL), g_bytes_get_size (one));
    g_assert_true (cb_changeset_validate (schema, both->data, both->len, &n_ops, &error));
    g_assert_cmpuint (n_ops, ==, 1);
    g_byte_array_append (both, g_bytes_get_data (two, NULL), g_bytes_get_size (two));
    g_assert_false (cb_changeset_validate (schema, both->data, both->len, &n_ops, &error));
    g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "ops 0 and 1 both change one row of table kv"));
  }

  /* Too many bytes, before reading any. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *big = g_malloc0 (CB_CHANGESET_MAX_BYTES + 1);

    g_assert_false (cb_changeset_validate (schema, big, CB_CHANGESET_MAX_BYTES + 1, NULL,
                                           &error));
    g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE);
  }
}

static void
test_validate_garbage (void)
{
#define BYTES(s) { s, sizeof s - 1 }
  static const struct { const char *data; gsize len; } garbage[] = {
    BYTES ("hello world"), BYTES ("T"), BYTES ("T\x00"), BYTES ("T\x02"),
    BYTES ("T\x02\x01\x00kv"), BYTES ("T\x02\x01\x00kv\x00"),
    BYTES ("T\x02\x01\x00kv\x00\x12"), BYTES ("T\x02\x01\x00kv\x00\x12\x00\x03\x05"),
    BYTES ("T\x02\x01\x00kv\x00\x12\x00\x03\x80\x01" "a\x05"),   /* varint not minimal */
    BYTES ("T\x02\x01\x00kv\x00\x12\x00\x03\x01" "a\x07"),        /* unknown value type */
    BYTES ("T\x02\x03\x00kv\x00\x12\x00\x03\x01" "a\x05"),        /* key place 3 of 2 */
    BYTES ("T\x02\x01\x00kv\x00\x12\x02\x03\x01" "a\x05"),        /* indirect 2 */
    BYTES ("T\x02\x01\x00kv\x00\x12\x00\x03\x01" "a\x05\x11"),   /* unknown op */
    BYTES ("P\x02\x01\x00kv\x00\x12\x00\x03\x01" "a\x05"),        /* a patchset */
    BYTES ("T\x02\x01\x00kv\x00T\x02\x01\x00kv\x00\x12\x00\x03\x01" "a\x05"),
    BYTES ("\xff\xff\xff\xff\xff\xff\xff\xff"),
    BYTES ("T\xff\xff\xff\xff\x0f\x01"),
    BYTES ("T\x81\x00\x01"),
  };
#undef BYTES
  g_autoptr(CbSchema) schema = test_schema ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CbChangesetBuilder) builder = cb_changeset_builder_new (schema, &error);
  g_autoptr(GBytes) valid = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  const guint8 *data;
  gsize len;
  guint n_errors = 0;

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_assert_false (cb_changeset_validate (schema, (const guint8 *) garbage[i].data,
                                             garbage[i].len, NULL, &error));
      g_test_message ("garbage %u -> %s", i, error->message);
      g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED);
      g_clear_error (&error);
    }
  /* The same shape made right is accepted: the refusals above are the
   * faults, not the frame. */
  {
    static const char good[] = "T\x02\x01\x00kv\x00\x12\x00\x03\x01" "a\x05";
    guint n_ops = 0;

    g_assert_true (cb_changeset_validate (schema, (const guint8 *) good, sizeof good - 1,
                                          &n_ops, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (n_ops, ==, 1);
    }

  /* Every truncation of a real changeset: either a shorter valid one (cut
   * at an op boundary) or an error; never a crash. */
  upsert (builder, "kv", "{\"key\": \"a\", \"value\": \"some text\"}");
  upsert (builder, "kv", "{\"key\": \"b\", \"value\": null}");
  upsert (builder, "scores", "{\"player\": \"p\", \"game\": 1, \"points\": 2.5, "
                             "\"data\": {\"$base64\": \"AAECAw==\"}}");
  delete (builder, "counters", "{\"id\": 4}");
  valid = finish (builder);
  data = g_bytes_get_data (valid, &len);
  for (gsize cut = 1; cut < len; cut++)
    {
      guint n_ops = 0;

      if (!cb_changeset_validate (schema, data, cut, &n_ops, &error))
        {
          g_assert_true (error->domain == CB_CHANGESET_ERROR);
          g_clear_error (&error);
          n_errors++;
        }
      else
        g_assert_cmpuint (n_ops, <, 4);
    }
  g_assert_cmpuint (n_errors, >, len / 2);
  g_assert_false (cb_changeset_validate (schema, data, len - 1, NULL, &error));
  g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED);
  g_clear_error (&error);

  /* Random flips of the real one. */
  for (guint i = 0; i < 2000; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, len);
      guint n_ops = 0;

      copy[g_rand_int_range (rand, 0, (gint32) len)] ^= (guint8) g_rand_int_range (rand, 1, 256);
      if (!cb_changeset_validate (schema, copy, len, &n_ops, &error))
        {
          g_assert_true (error->domain == CB_CHANGESET_ERROR);
          g_clear_error (&error);
        }
    }
}

/* ---- last writer wins ------------------------------------------------- */

static GBytes *
one_op (CbChangesetBuilder *builder, gboolean is_delete, const char *table, const char *json)
{
  if (is_delete)
    delete (builder, table, json);
  else
    upsert (builder, table, json);
  return finish (builder);
}

static void
test_lww_delete_then_older_insert (void)
{
  g_autoptr(CbSchema) schema = test_schema ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CbChangesetBuilder) builder = cb_changeset_builder_new (schema, &error);
  g_autoptr(GBytes) del10 = one_op (builder, TRUE, "kv", "{\"key\": \"a\"}");
  g_autoptr(GBytes) ins5 = one_op (builder, FALSE, "kv", "{\"key\": \"a\", \"value\": \"old\"}");
  g_autoptr(GBytes) ins15 = one_op (builder, FALSE, "kv", "{\"key\": \"a\", \"value\": \"new\"}");
  CbStamp s10 = stamp (10, 1), s5 = stamp (5, 2), s15 = stamp (15, 3);
  sqlite3 *a = open_installed (schema, ":memory:");
  sqlite3 *b = open_installed (schema, ":memory:");
  g_autoptr(CbMaterializer) ma = cb_materializer_new (schema, a, &error);
  g_autoptr(CbMaterializer) mb = cb_materializer_new (schema, b, &error);
  guint applied, superseded;

  /* a: delete@10 then insert@5; b: insert@5 then delete@10. */
  apply (ma, a, del10, &s10, &applied, &superseded);
  g_assert_cmpuint (applied, ==, 1);
  apply (ma, a, ins5, &s5, &applied, &superseded);
  g_assert_cmpuint (applied, ==, 0);
  g_assert_cmpuint (superseded, ==, 1);
  apply (mb, b, ins5, &s5, &applied, &superseded);
  apply (mb, b, del10, &s10, &applied, &superseded);
  {
    g_autofree char *ka = dump (schema, a, "kv");
    g_autofree char *kb = dump (schema, b, "kv");
    g_autofree char *da = digest (schema, a);
    g_autofree char *db_ = digest (schema, b);

    g_assert_cmpstr (ka, ==, "[]");
    g_assert_cmpstr (kb, ==, "[]");
    g_assert_cmpstr (da, ==, db_);
  }

  /* A newer insert resurrects the row; the older delete stays beaten. */
  apply (ma, a, ins15, &s15, &applied, &superseded);
  g_assert_cmpuint (applied, ==, 1);
  apply (ma, a, del10, &s10, &applied, &superseded);
  g_assert_cmpuint (superseded, ==, 1);
  {
    g_autofree char *ka = dump (schema, a, "kv");
    g_assert_cmpstr (ka, ==, "[{\"key\":\"a\",\"value\":\"new\"}]");
  }

  /* Equal clocks: the greater writer id wins, in either order. */
  {
    g_autoptr(GBytes) x = one_op (builder, FALSE, "kv", "{\"key\": \"t\", \"value\": \"x\"}");
    g_autoptr(GBytes) y = one_op (builder, FALSE, "kv", "{\"key\": \"t\", \"value\": \"y\"}");
    CbStamp sx = stamp (20, 0x80), sy = stamp (20, 0x81);
    g_autofree char *ka = NULL, *kb = NULL;

    apply (ma, a, x, &sx, NULL, NULL);
    apply (ma, a, y, &sy, NULL, NULL);
    apply (mb, b, y, &sy, NULL, NULL);
    apply (mb, b, x, &sx, NULL, NULL);
    ka = dump (schema, a, "kv");
    kb = dump (schema, b, "kv");
    g_assert_cmpstr (ka, ==, "[{\"key\":\"a\",\"value\":\"new\"},{\"key\":\"t\",\"value\":\"y\"}]");
    g_assert_cmpstr (kb, ==, "[{\"key\":\"t\",\"value\":\"y\"}]");
  }

  /* The same entry twice: the second is wholly superseded. */
  apply (mb, b, ins15, &s15, &applied, &superseded);
  g_assert_cmpuint (applied, ==, 1);
  apply (mb, b, ins15, &s15, &applied, &superseded);
  g_assert_cmpuint (applied, ==, 0);
  g_assert_cmpuint (superseded, ==, 1);
  {
    g_autofree char *da = digest (schema, a);
    g_autofree char *db_ = digest (schema, b);
    g_assert_cmpstr (da, ==, db_);
  }

  g_clear_pointer (&ma, cb_materializer_free);
  g_clear_pointer (&mb, cb_materializer_free);
  sqlite3_close (a);
  sqlite3_close (b);
}

static void
test_stamp_compare (void)
{
  CbStamp a = stamp (5, 1), b = stamp (5, 2), c = stamp (6, 0);

  g_assert_cmpint (cb_stamp_compare (&a, &a), ==, 0);
  g_assert_cmpint (cb_stamp_compare (&a, &b), <, 0);
  g_assert_cmpint (cb_stamp_compare (&b, &a), >, 0);
  g_assert_cmpint (cb_stamp_compare (&b, &c), <, 0);
  b.writer[31] = 0;
  a.writer[31] = 0xff;
  /* The first differing byte decides, not the last. */
  g_assert_cmpint (cb_stamp_compare (&a, &b), <, 0);
}

#define N_WRITERS 3
#define N_RANDOM_OPS 200
#define N_REPLICAS 5
#define N_KV_KEYS 24

typedef struct {
  GBytes  *changeset;
  CbStamp  stamp;
} Entry;

typedef struct {
  CbStamp  stamp;
  gboolean present;
  char    *row;      /* expected dump text of the row, when present */
} Winner;

static void
winner_free (gpointer data)
{
  Winner *w = data;

  g_free (w->row);
  g_free (w);
}

static void
note_op (GHashTable *winners, const char *id, const CbStamp *s, gboolean present,
         const char *row)
{
  Winner *w = g_hash_table_lookup (winners, id);

  if (w != NULL && cb_stamp_compare (&w->stamp, s) >= 0)
    return;
  if (w == NULL)
    {
      w = g_new0 (Winner, 1);
      g_hash_table_insert (winners, g_strdup (id), w);
    }
  w->stamp = *s;
  w->present = present;
  g_free (w->row);
  w->row = g_strdup (row);
}

static char *
rows_table_text (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  GString *out = g_string_new (NULL);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT tbl, hex (pk), hlc, hex (writer), deleted "
                                           "FROM _cb_rows ORDER BY tbl, pk", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (out, "%s|%s|%lld|%s|%d\n", sqlite3_column_text (stmt, 0),
                            sqlite3_column_text (stmt, 1), sqlite3_column_int64 (stmt, 2),
                            sqlite3_column_text (stmt, 3), sqlite3_column_int (stmt, 4));
  sqlite3_finalize (stmt);
  return g_string_free (out, FALSE);
}

static void
test_lww_converges (void)
{
  static const char * const players[] = { "ann", "bob", "cy", "dee" };
  g_autoptr(CbSchema) schema = test_schema ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CbChangesetBuilder) builder = cb_changeset_builder_new (schema, &error);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  g_autoptr(GArray) entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_autoptr(GHashTable) winners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         winner_free);
  g_autoptr(GHashTable) used_stamps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                             NULL);
  g_autofree char *dir = g_dir_make_tmp ("cb-lww-XXXXXX", &error);
  guint8 writers[N_WRITERS][32];
  sqlite3 *dbs[N_REPLICAS];
  char *paths[N_REPLICAS] = { NULL };
  g_autofree char *digest0 = NULL;
  g_autofree char *rows0 = NULL;
  guint n_ops = 0;

  g_assert_no_error (error);
  for (guint w = 0; w < N_WRITERS; w++)
    for (guint i = 0; i < 32; i++)
      writers[w][i] = (guint8) g_rand_int_range (rand, 0, 256);

  /* Entries of 1-4 ops, each op on a distinct row within its entry; clocks
   * drawn from a narrow range, so rows see ties broken by writer. */
  while (n_ops < N_RANDOM_OPS)
    {
      Entry entry = { 0 };
      guint w = (guint) g_rand_int_range (rand, 0, N_WRITERS);
      guint size = (guint) g_rand_int_range (rand, 1, 5);
      g_autoptr(GHashTable) in_entry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                              NULL);
      g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);

      entry.stamp.hlc = (guint64) g_rand_int_range (rand, 1, 80);
      memcpy (entry.stamp.writer, writers[w], 32);
      {
        g_autofree char *id = g_strdup_printf ("%u/%" G_GUINT64_FORMAT, w, entry.stamp.hlc);

        /* A writer's clock never repeats. */
        if (g_hash_table_contains (used_stamps, id))
          continue;
        g_hash_table_add (used_stamps, g_steal_pointer (&id));
      }
      for (guint i = 0; i < size && n_ops < N_RANDOM_OPS; i++)
        {
          gboolean is_delete = g_rand_int_range (rand, 0, 10) < 3;
          g_autofree char *id = NULL;
          g_autofree char *json = NULL;
          g_autofree char *row = NULL;

          if (g_rand_boolean (rand))
            {
              guint k = (guint) g_rand_int_range (rand, 0, N_KV_KEYS);
              guint v = (guint) g_rand_int_range (rand, 0, 1000);

              id = g_strdup_printf ("kv:k%02u", k);
              if (g_hash_table_contains (in_entry, id))
                continue;
              if (is_delete)
                delete (builder, "kv", (json = g_strdup_printf ("{\"key\": \"k%02u\"}", k)));
              else if (v % 7 == 0)
                {
                  upsert (builder, "kv", (json = g_strdup_printf ("{\"key\": \"k%02u\"}", k)));
                  row = g_strdup_printf ("{\"key\":\"k%02u\",\"value\":null}", k);
                }
              else
                {
                  upsert (builder, "kv",
                          (json = g_strdup_printf ("{\"key\": \"k%02u\", \"value\": \"v%u\"}",
                                                   k, v)));
                  row = g_strdup_printf ("{\"key\":\"k%02u\",\"value\":\"v%u\"}", k, v);
                }
            }
          else
            {
              guint game = (guint) g_rand_int_range (rand, 1, 4);
              const char *player = players[g_rand_int_range (rand, 0, G_N_ELEMENTS (players))];
              guint points = (guint) g_rand_int_range (rand, 0, 100);

              id = g_strdup_printf ("scores:%u/%s", game, player);
              if (g_hash_table_contains (in_entry, id))
                continue;
              if (is_delete)
                delete (builder, "scores",
                        (json = g_strdup_printf ("{\"game\": %u, \"player\": \"%s\"}", game,
                                                 player)));
              else
                {
                  upsert (builder, "scores",
                          (json = g_strdup_printf ("{\"game\": %u, \"player\": \"%s\", "
                                                   "\"points\": %u.5, \"data\": "
                                                   "{\"$base64\": \"AAE=\"}}",
                                                   game, player, points)));
                  row = g_strdup_printf ("{\"player\":\"%s\",\"game\":%u,\"points\":%u.5,"
                                         "\"data\":{\"$base64\":\"AAE=\"}}", player, game,
                                         points);
                }
            }
          note_op (winners, id, &entry.stamp, !is_delete, row);
          g_hash_table_add (in_entry, g_steal_pointer (&id));
          n_ops++;
        }
      entry.changeset = finish (builder);
      if (g_bytes_get_size (entry.changeset) == 0)
        {
          g_bytes_unref (entry.changeset);
          continue;
        }
      g_array_append_val (entries, entry);
    }
  g_test_message ("%u ops in %u entries", n_ops, entries->len);

  for (guint r = 0; r < N_REPLICAS; r++)
    {
      g_autoptr(CbMaterializer) mat = NULL;
      g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
      guint total_applied = 0;

      /* Replicas 0-2 are files (WAL), 3-4 in memory. */
      paths[r] = r < 3 ? g_strdup_printf ("%s/replica-%u.db", dir, r) : g_strdup (":memory:");
      dbs[r] = open_installed (schema, paths[r]);
      mat = cb_materializer_new (schema, dbs[r], &error);
      g_assert_no_error (error);

      /* A random order, with about a fifth of the entries delivered twice. */
      for (guint i = 0; i < entries->len; i++)
        {
          g_array_append_val (order, i);
          if (r > 0 && g_rand_int_range (rand, 0, 5) == 0)
            g_array_append_val (order, i);
        }
      for (guint i = order->len - 1; r > 0 && i > 0; i--)
        {
          guint j = (guint) g_rand_int_range (rand, 0, (gint32) i + 1);
          guint t = g_array_index (order, guint, i);

          g_array_index (order, guint, i) = g_array_index (order, guint, j);
          g_array_index (order, guint, j) = t;
        }

      exec_ok (dbs[r], "BEGIN");
      for (guint i = 0; i < order->len; i++)
        {
          Entry *entry = &g_array_index (entries, Entry, g_array_index (order, guint, i));
          guint applied = 0, superseded = 0, n = 0;

          g_assert_true (cb_changeset_validate (schema, g_bytes_get_data (entry->changeset, NULL),
                                                g_bytes_get_size (entry->changeset), &n, &error));
          g_assert_true (cb_materializer_apply (mat, g_bytes_get_data (entry->changeset, NULL),
                                                g_bytes_get_size (entry->changeset),
                                                &entry->stamp, &applied, &superseded, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (applied + superseded, ==, n);
          total_applied += applied;
          /* Commit now and then: transactions do not matter to the result. */
          if (i % 17 == 16)
            exec_ok (dbs[r], "COMMIT; BEGIN");
        }
      exec_ok (dbs[r], "COMMIT");
      g_test_message ("replica %u: %u deliveries, %u ops applied", r, order->len,
                      total_applied);

      {
        g_autofree char *d = digest (schema, dbs[r]);
        g_autofree char *rows = rows_table_text (dbs[r]);

        if (r == 0)
          {
            digest0 = g_steal_pointer (&d);
            rows0 = g_steal_pointer (&rows);
          }
        else
          {
            g_assert_cmpstr (d, ==, digest0);
            g_assert_cmpstr (rows, ==, rows0);
          }
      }
    }

  /* The winners are the ops with the greatest stamps. */
  {
    Winner *w;
    g_autoptr(GString) kv = g_string_new ("[");
    g_autoptr(GString) scores = g_string_new ("[");
    g_autoptr(GList) ids = g_list_sort (g_hash_table_get_keys (winners), (GCompareFunc) strcmp);
    g_autofree char *dump_kv = dump (schema, dbs[N_REPLICAS - 1], "kv");
    g_autofree char *dump_scores = dump (schema, dbs[N_REPLICAS - 1], "scores");
    guint n_live = 0, n_deleted = 0;

    /* kv keys sort as their dump does; scores by game then player, which
     * the id's "game/player" order matches for one-digit games. */
    for (GList *l = ids; l != NULL; l = l->next)
      {
        w = g_hash_table_lookup (winners, l->data);
        if (!w->present)
          {
            n_deleted++;
            continue;
          }
        n_live++;
        if (g_str_has_prefix (l->data, "kv:"))
          g_string_append_printf (kv, "%s%s", kv->len > 1 ? "," : "", w->row);
        else
          g_string_append_printf (scores, "%s%s", scores->len > 1 ? "," : "", w->row);
      }
    g_string_append_c (kv, ']');
    g_string_append_c (scores, ']');
    g_test_message ("%u rows live, %u deleted", n_live, n_deleted);
    g_assert_cmpuint (n_live, >, 5);
    g_assert_cmpuint (n_deleted, >, 2);
    g_assert_cmpstr (dump_kv, ==, kv->str);
    g_assert_cmpstr (dump_scores, ==, scores->str);

    /* Every row ever touched has its stamp stored, deletes as tombstones. */
    {
      sqlite3_stmt *stmt = NULL;

      g_assert_cmpint (sqlite3_prepare_v2 (dbs[0], "SELECT count (*), sum (deleted) FROM _cb_rows",
                                           -1, &stmt, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, (int) g_hash_table_size (winners));
      g_assert_cmpint (sqlite3_column_int (stmt, 1), ==, (int) n_deleted);
      sqlite3_finalize (stmt);
    }
  }

  for (guint r = 0; r < N_REPLICAS; r++)
    {
      sqlite3_close (dbs[r]);
      if (r < 3)
        {
          g_autofree char *wal = g_strconcat (paths[r], "-wal", NULL);
          g_autofree char *shm = g_strconcat (paths[r], "-shm", NULL);

          g_unlink (paths[r]);
          g_unlink (wal);
          g_unlink (shm);
        }
      g_free (paths[r]);
    }
  g_rmdir (dir);
  for (guint i = 0; i < entries->len; i++)
    g_bytes_unref (g_array_index (entries, Entry, i).changeset);
}

/* ---- apply errors ------------------------------------------------------ */

static void
test_apply_errors (void)
{
  g_autoptr(CbSchema) schema = test_schema ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CbChangesetBuilder) builder = cb_changeset_builder_new (schema, &error);
  g_autoptr(GBytes) good = one_op (builder, FALSE, "kv", "{\"key\": \"a\", \"value\": \"1\"}");
  g_autoptr(GBytes) update = session_changeset (
    "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT); INSERT INTO kv VALUES ('a', '1')",
    "UPDATE kv SET value = '2'");
  /* Valid by type, refused by the table's CHECK: only apply can tell. */
  g_autoptr(GBytes) negative = session_changeset (
    "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, tag ANY) STRICT",
    "INSERT INTO counters VALUES (1, -5, NULL)");
  sqlite3 *db = open_installed (schema, ":memory:");
  sqlite3 *bare = NULL;
  g_autoptr(CbMaterializer) mat = cb_materializer_new (schema, db, &error);
  CbStamp huge = stamp (G_MAXUINT64, 1), ok = stamp (1, 1);

  g_assert_no_error (error);
  g_assert_false (cb_materializer_apply (mat, g_bytes_get_data (good, NULL),
                                         g_bytes_get_size (good), &huge, NULL, NULL, &error));
  g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_STAMP);
  g_clear_error (&error);

  g_assert_false (cb_materializer_apply (mat, g_bytes_get_data (update, NULL),
                                         g_bytes_get_size (update), &ok, NULL, NULL, &error));
  g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_false (cb_materializer_apply (mat, (const guint8 *) "garbage!", 8, &ok, NULL, NULL,
                                         &error));
  g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED);
  g_clear_error (&error);

  g_assert_true (cb_changeset_validate (schema, g_bytes_get_data (negative, NULL),
                                        g_bytes_get_size (negative), NULL, &error));
  exec_ok (db, "SAVEPOINT entry");
  g_assert_false (cb_materializer_apply (mat, g_bytes_get_data (negative, NULL),
                                         g_bytes_get_size (negative), &ok, NULL, NULL, &error));
  g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_DATABASE);
  g_assert_nonnull (strstr (error->message, "table counters of system test/changeset"));
  g_clear_error (&error);
  exec_ok (db, "ROLLBACK TO entry; RELEASE entry");
  {
    g_autofree char *rows = rows_table_text (db);
    g_assert_cmpstr (rows, ==, "");
  }

  /* Tables not installed. */
  g_assert_cmpint (sqlite3_open (":memory:", &bare), ==, SQLITE_OK);
  g_assert_null (cb_materializer_new (schema, bare, &error));
  g_assert_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_DATABASE);
  g_assert_nonnull (strstr (error->message, "installed"));
  sqlite3_close (bare);

  g_clear_pointer (&mat, cb_materializer_free);
  sqlite3_close (db);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/changeset/builder", test_builder);
  g_test_add_func ("/node/changeset/builder-errors", test_builder_errors);
  g_test_add_func ("/node/changeset/builder-limit", test_builder_limit);
  g_test_add_func ("/node/changeset/validate-rejects", test_validate_rejects);
  g_test_add_func ("/node/changeset/validate-garbage", test_validate_garbage);
  g_test_add_func ("/node/changeset/stamp-compare", test_stamp_compare);
  g_test_add_func ("/node/changeset/lww-delete-insert", test_lww_delete_then_older_insert);
  g_test_add_func ("/node/changeset/lww-converges", test_lww_converges);
  g_test_add_func ("/node/changeset/apply-errors", test_apply_errors);
  return g_test_run ();
}
