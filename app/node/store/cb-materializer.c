/* cb-materializer.c: applying changesets with row-level last-writer-wins
 *
 * Per op: one UPSERT on _cb_rows whose WHERE keeps the greater stamp tells
 * (through sqlite3_changes) whether the op wins, in one B-tree descent;
 * only a winner touches the table.  Storing the stamp of every row ever
 * written, deletes included, makes apply commutative, associative and
 * idempotent.  Everything is prepared once; values are bound straight from
 * the iterator's buffers (SQLITE_STATIC), reset before the iterator moves. */
#define G_LOG_DOMAIN "cb-changeset"

#include "cb-changeset-private.h"

#include <string.h>

typedef struct {
  const CbSchemaTable *table;
  sqlite3_stmt        *insert;  /* INSERT OR REPLACE, every column */
  sqlite3_stmt        *delete;  /* by key, parameters in key order */
} MatTable;

struct _CbMaterializer {
  CbSchema     *schema;
  sqlite3      *db;
  MatTable     *tables;
  sqlite3_stmt *stamp;
  GByteArray   *key;
};

static const char stamp_sql[] =
  "INSERT INTO _cb_rows (tbl, pk, hlc, writer, deleted) VALUES (?1, ?2, ?3, ?4, ?5) "
  "ON CONFLICT (tbl, pk) DO UPDATE SET hlc = excluded.hlc, writer = excluded.writer, "
  "deleted = excluded.deleted "
  "WHERE excluded.hlc > _cb_rows.hlc "
  "OR (excluded.hlc = _cb_rows.hlc AND excluded.writer > _cb_rows.writer)";

static gboolean
prepare (CbMaterializer  *mat,
         const char      *sql,
         sqlite3_stmt   **stmt,
         GError         **error)
{
  if (sqlite3_prepare_v3 (mat->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) == SQLITE_OK)
    return TRUE;
  g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_DATABASE,
               "preparing to write system %s: %s (are its tables installed?)",
               cb_schema_get_system (mat->schema), sqlite3_errmsg (mat->db));
  return FALSE;
}

static char *
insert_sql (const CbSchemaTable *table)
{
  g_autofree char *name = cb_schema_quote_identifier (table->name);
  GString *sql = g_string_new (NULL);

  g_string_append_printf (sql, "INSERT OR REPLACE INTO main.%s (", name);
  for (guint c = 0; c < table->n_columns; c++)
    {
      g_autofree char *column = cb_schema_quote_identifier (table->columns[c].name);
      g_string_append_printf (sql, "%s%s", c > 0 ? ", " : "", column);
    }
  g_string_append (sql, ") VALUES (");
  for (guint c = 0; c < table->n_columns; c++)
    g_string_append_printf (sql, "%s?%u", c > 0 ? ", " : "", c + 1);
  g_string_append_c (sql, ')');
  return g_string_free (sql, FALSE);
}

static char *
delete_sql (const CbSchemaTable *table)
{
  g_autofree char *name = cb_schema_quote_identifier (table->name);
  GString *sql = g_string_new (NULL);

  g_string_append_printf (sql, "DELETE FROM main.%s WHERE ", name);
  for (guint k = 0; k < table->n_pk; k++)
    {
      g_autofree char *column =
        cb_schema_quote_identifier (table->columns[table->pk_columns[k]].name);
      g_string_append_printf (sql, "%s%s = ?%u", k > 0 ? " AND " : "", column, k + 1);
    }
  return g_string_free (sql, FALSE);
}

CbMaterializer *
cb_materializer_new (CbSchema  *schema,
                     sqlite3   *db,
                     GError   **error)
{
  g_autoptr(CbMaterializer) mat = g_new0 (CbMaterializer, 1);
  guint n = cb_schema_get_n_tables (schema);

  mat->schema = cb_schema_ref (schema);
  mat->db = db;
  mat->key = g_byte_array_sized_new (64);
  mat->tables = g_new0 (MatTable, n);
  if (!prepare (mat, stamp_sql, &mat->stamp, error))
    return NULL;
  for (guint i = 0; i < n; i++)
    {
      MatTable *mt = &mat->tables[i];
      g_autofree char *ins = NULL;
      g_autofree char *del = NULL;

      mt->table = cb_schema_get_table (schema, i);
      ins = insert_sql (mt->table);
      del = delete_sql (mt->table);
      if (!prepare (mat, ins, &mt->insert, error) || !prepare (mat, del, &mt->delete, error))
        return NULL;
    }
  return g_steal_pointer (&mat);
}

void
cb_materializer_free (CbMaterializer *mat)
{
  if (mat == NULL)
    return;
  for (guint i = 0; mat->tables != NULL && i < cb_schema_get_n_tables (mat->schema); i++)
    {
      sqlite3_finalize (mat->tables[i].insert);
      sqlite3_finalize (mat->tables[i].delete);
    }
  sqlite3_finalize (mat->stamp);
  g_free (mat->tables);
  g_byte_array_unref (mat->key);
  cb_schema_unref (mat->schema);
  g_free (mat);
}

/* Binds without copying: the value lives until the iterator moves on, and
 * the statement is reset before it does. */
static void
bind_value (sqlite3_stmt  *stmt,
            int            param,
            sqlite3_value *value)
{
  switch (sqlite3_value_type (value))
    {
    case SQLITE_INTEGER:
      sqlite3_bind_int64 (stmt, param, sqlite3_value_int64 (value));
      break;
    case SQLITE_FLOAT:
      sqlite3_bind_double (stmt, param, sqlite3_value_double (value));
      break;
    case SQLITE_TEXT:
      {
        const char *text = (const char *) sqlite3_value_text (value);
        sqlite3_bind_text (stmt, param, text, sqlite3_value_bytes (value), SQLITE_STATIC);
      }
      break;
    case SQLITE_BLOB:
      {
        const void *blob = sqlite3_value_blob (value);
        sqlite3_bind_blob (stmt, param, blob, sqlite3_value_bytes (value), SQLITE_STATIC);
      }
      break;
    default:
      sqlite3_bind_null (stmt, param);
      break;
    }
}

static gboolean
step_done (CbMaterializer  *mat,
           sqlite3_stmt    *stmt,
           guint            n,
           const char      *table,
           GError         **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_DATABASE,
               "applying op %u to table %s of system %s: %s", n, table,
               cb_schema_get_system (mat->schema), sqlite3_errmsg (mat->db));
  return FALSE;
}

static MatTable *
lookup (CbMaterializer *mat,
        const char     *name)
{
  const CbSchemaTable *table = cb_schema_lookup_table (mat->schema, name);

  return table != NULL ? &mat->tables[table->index] : NULL;
}

gboolean
cb_materializer_apply (CbMaterializer  *mat,
                       const guint8    *changeset,
                       gsize            len,
                       const CbStamp   *stamp,
                       guint           *applied_out,
                       guint           *superseded_out,
                       GError         **error)
{
  sqlite3_changeset_iter *iter = NULL;
  MatTable *mt = NULL;
  const char *last_name = NULL;
  guint applied = 0, superseded = 0, n = 0;
  gboolean ok = TRUE;
  int rc = SQLITE_OK;

  if (applied_out != NULL)
    *applied_out = 0;
  if (superseded_out != NULL)
    *superseded_out = 0;
  if (stamp->hlc > G_MAXINT64)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_STAMP,
                   "clock reading %" G_GUINT64_FORMAT " is beyond 2^63-1; refusing it",
                   stamp->hlc);
      return FALSE;
    }
  if (len > CB_CHANGESET_MAX_BYTES)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE,
                   "a changeset of %" G_GSIZE_FORMAT " bytes; at most %d are accepted", len,
                   CB_CHANGESET_MAX_BYTES);
      return FALSE;
    }
  if (len == 0)
    return TRUE;
  if (sqlite3changeset_start (&iter, (int) len, (void *) changeset) != SQLITE_OK)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED, "not a changeset");
      return FALSE;
    }

  /* Bound once: the same for every op. */
  sqlite3_bind_int64 (mat->stamp, 3, (sqlite3_int64) stamp->hlc);
  sqlite3_bind_blob (mat->stamp, 4, stamp->writer, sizeof stamp->writer, SQLITE_STATIC);

  while (ok && (rc = sqlite3changeset_next (iter)) == SQLITE_ROW)
    {
      const char *name;
      int n_columns, op, indirect;
      const CbSchemaTable *table;
      gboolean is_insert;

      if (n >= CB_CHANGESET_MAX_OPS)
        {
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE,
                       "a changeset with more than %d ops; split the write",
                       CB_CHANGESET_MAX_OPS);
          ok = FALSE;
          break;
        }
      sqlite3changeset_op (iter, &name, &n_columns, &op, &indirect);
      /* Ops come grouped by table: the name rarely changes. */
      if (last_name == NULL || (name != last_name && strcmp (name, last_name) != 0))
        {
          mt = lookup (mat, name);
          last_name = name;
        }
      is_insert = op == SQLITE_INSERT;
      if (mt == NULL || (!is_insert && op != SQLITE_DELETE)
          || n_columns != (int) mt->table->n_columns)
        {
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                       "op %u is not a whole-row INSERT or DELETE of a table of system %s; "
                       "validate changesets before applying them", n,
                       cb_schema_get_system (mat->schema));
          ok = FALSE;
          break;
        }
      table = mt->table;

      g_byte_array_set_size (mat->key, 0);
      for (guint k = 0; k < table->n_pk; k++)
        {
          sqlite3_value *value = NULL;

          if (is_insert)
            sqlite3changeset_new (iter, (int) table->pk_columns[k], &value);
          else
            sqlite3changeset_old (iter, (int) table->pk_columns[k], &value);
          if (!_cb_changeset_encode_key_value (mat->key, value))
            {
              g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                           "op %u on table %s: key column %s is missing, NULL or REAL", n,
                           table->name, table->columns[table->pk_columns[k]].name);
              ok = FALSE;
              break;
            }
          if (!is_insert)
            bind_value (mt->delete, (int) k + 1, value);
        }
      if (!ok)
        break;

      sqlite3_bind_text (mat->stamp, 1, table->name, -1, SQLITE_STATIC);
      sqlite3_bind_blob (mat->stamp, 2, mat->key->data, (int) mat->key->len, SQLITE_STATIC);
      sqlite3_bind_int (mat->stamp, 5, is_insert ? 0 : 1);
      if (!step_done (mat, mat->stamp, n, "_cb_rows", error))
        {
          ok = FALSE;
          break;
        }
      if (sqlite3_changes (mat->db) == 0)
        {
          /* A newer (or this very) stamp is stored for the row. */
          superseded++;
          n++;
          continue;
        }

      if (is_insert)
        {
          for (guint c = 0; c < table->n_columns; c++)
            {
              sqlite3_value *value = NULL;

              sqlite3changeset_new (iter, (int) c, &value);
              if (value == NULL)
                sqlite3_bind_null (mt->insert, (int) c + 1);
              else
                bind_value (mt->insert, (int) c + 1, value);
            }
          ok = step_done (mat, mt->insert, n, table->name, error);
        }
      else
        ok = step_done (mat, mt->delete, n, table->name, error);
      applied++;
      n++;
    }
  sqlite3changeset_finalize (iter);
  /* Nothing may point into the changeset once it is gone. */
  sqlite3_clear_bindings (mat->stamp);
  if (ok && rc != SQLITE_DONE)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED,
                   "the changeset is malformed after %u ops (%s)", n, sqlite3_errstr (rc));
      ok = FALSE;
    }
  if (!ok)
    return FALSE;
  if (applied_out != NULL)
    *applied_out = applied;
  if (superseded_out != NULL)
    *superseded_out = superseded;
  return TRUE;
}
