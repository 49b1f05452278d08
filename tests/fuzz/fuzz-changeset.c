/* fuzz-changeset.c: the changeset reader, validator and materialiser
 *
 * The input is a changeset against a fixed schema.  Whatever validates must
 * read the same through SQLite's own iterator (same ops, tables and keys),
 * apply to an empty database without error, every op winning (the rows are
 * distinct and nothing is stored yet), and apply again changing nothing
 * (every op superseded by its own stamp).  The database is one in-memory
 * copy, rolled back after each input. */
#include "cb-changeset.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char * const tables[] = {
  "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT)",
  "CREATE TABLE scores (player TEXT NOT NULL, game INTEGER NOT NULL, points REAL, data BLOB,"
  "  PRIMARY KEY (game, player)) WITHOUT ROWID",
  "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, tag ANY) STRICT",
  "CREATE TABLE blobs (k PRIMARY KEY, v NUMERIC)",
  NULL,
};

/* SQLite's reading of bytes our reader accepted: ops, tables and key
 * values must agree with what validation saw. */
static void
compare_with_sqlite (const uint8_t *data, size_t size, guint n_ops)
{
  sqlite3_changeset_iter *iter = NULL;
  guint n = 0;

  if (size == 0)
    return;
  if (sqlite3changeset_start (&iter, (int) size, (void *) data) != SQLITE_OK)
    __builtin_trap ();
  while (sqlite3changeset_next (iter) == SQLITE_ROW)
    {
      const char *table;
      int n_columns, op, indirect, n_pk;
      unsigned char *pk;

      sqlite3changeset_op (iter, &table, &n_columns, &op, &indirect);
      sqlite3changeset_pk (iter, &pk, &n_pk);
      if ((op != SQLITE_INSERT && op != SQLITE_DELETE) || n_pk != n_columns)
        __builtin_trap ();
      for (int c = 0; c < n_columns; c++)
        {
          sqlite3_value *value = NULL;

          if (!pk[c])
            continue;
          if (op == SQLITE_INSERT)
            sqlite3changeset_new (iter, c, &value);
          else
            sqlite3changeset_old (iter, c, &value);
          /* Validation refused NULL, REAL and missing keys. */
          if (value == NULL || sqlite3_value_type (value) == SQLITE_NULL
              || sqlite3_value_type (value) == SQLITE_FLOAT)
            __builtin_trap ();
        }
      n++;
    }
  if (sqlite3changeset_finalize (iter) != SQLITE_OK || n != n_ops)
    __builtin_trap ();
}

static CbSchema *schema;
static sqlite3 *db;
static CbMaterializer *mat;

static void
ensure_setup (void)
{
  g_autoptr(GError) error = NULL;

  if (mat != NULL)
    return;
  schema = cb_schema_new ("fuzz/changeset", tables, &error);
  if (schema == NULL || sqlite3_open (":memory:", &db) != SQLITE_OK
      || !cb_schema_install (schema, db, &error)
      || (mat = cb_materializer_new (schema, db, &error)) == NULL)
    g_error ("fuzz setup: %s", error != NULL ? error->message : sqlite3_errmsg (db));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  CbStamp stamp = { .hlc = 1 };
  guint n_ops = 0, applied = 0, superseded = 0;

  ensure_setup ();
  if (!cb_changeset_validate (schema, data, size, &n_ops, &error))
    {
      /* Refusals are errors of this module, with a message. */
      if (error == NULL || error->domain != CB_CHANGESET_ERROR || error->message[0] == '\0')
        __builtin_trap ();
      return 0;
    }

  compare_with_sqlite (data, size, n_ops);
  if (sqlite3_exec (db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    __builtin_trap ();
  if (!cb_materializer_apply (mat, data, size, &stamp, &applied, &superseded, &error))
    g_error ("a valid changeset failed to apply: %s", error->message);
  if (applied != n_ops || superseded != 0)
    __builtin_trap ();
  if (!cb_materializer_apply (mat, data, size, &stamp, &applied, &superseded, &error))
    g_error ("a valid changeset failed to apply twice: %s", error->message);
  if (applied != 0 || superseded != n_ops)
    __builtin_trap ();
  {
    g_autofree char *digest = cb_schema_digest (schema, db, &error);

    if (digest == NULL)
      g_error ("digest: %s", error->message);
  }
  if (sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
    __builtin_trap ();
  return 0;
}
