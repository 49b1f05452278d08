/* cb-builtin-systems.c: test/kv */
#define G_LOG_DOMAIN "cb-store"

#include "cb-builtin-systems.h"

#include <sqlite3.h>

static const char * const test_kv_tables[] = {
  "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT)",
  NULL,
};

/* Runs on the store's writer thread: no shared state. */
static gboolean
test_kv_validate (const char    *system,
                  const guint8   writer[32],
                  GBytes        *changeset,
                  gpointer       user_data,
                  GError       **error)
{
  sqlite3_changeset_iter *iter = NULL;
  gboolean ok = TRUE;

  if (sqlite3changeset_start (&iter, (int) g_bytes_get_size (changeset),
                              (void *) g_bytes_get_data (changeset, NULL)) != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a changeset");
      return FALSE;
    }
  while (ok && sqlite3changeset_next (iter) == SQLITE_ROW)
    {
      const char *table;
      int n_columns, op, indirect;
      sqlite3_value *value = NULL;

      sqlite3changeset_op (iter, &table, &n_columns, &op, &indirect);
      if (op != SQLITE_INSERT || n_columns != 2)
        continue;
      if (sqlite3changeset_new (iter, 1, &value) == SQLITE_OK && value != NULL
          && sqlite3_value_bytes (value) > CB_TEST_KV_MAX_VALUE)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "a value of %d bytes; test/kv allows at most %d",
                       sqlite3_value_bytes (value), CB_TEST_KV_MAX_VALUE);
          ok = FALSE;
        }
    }
  sqlite3changeset_finalize (iter);
  return ok;
}

CbSchema *
cb_builtin_system_schema (const char  *name,
                          GError     **error)
{
  if (g_strcmp0 (name, CB_TEST_KV_SYSTEM) == 0)
    return cb_schema_new (CB_TEST_KV_SYSTEM, test_kv_tables, error);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               "no system \"%s\" is built in (built in: %s); others come from plugins",
               name, CB_TEST_KV_SYSTEM);
  return NULL;
}

CbStoreValidator
cb_builtin_system_validator (const char *name)
{
  return g_strcmp0 (name, CB_TEST_KV_SYSTEM) == 0 ? test_kv_validate : NULL;
}
