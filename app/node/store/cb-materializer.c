/* cb-materializer.c: applying changesets with row-level last-writer-wins
 *
 * Per op: one UPSERT on _cb_rows whose WHERE keeps the greater stamp tells
 * (through sqlite3_changes) whether the op wins, in one B-tree descent;
 * only a winner touches the table.  Storing the stamp of every row ever
 * written, deletes included, makes apply commutative, associative and
 * idempotent.  Everything is prepared once, and values are bound straight
 * from the changeset's bytes (SQLITE_STATIC): the reader copies nothing, so
 * an op costs no allocation once the buffers have grown. */
#define G_LOG_DOMAIN "cb-changeset"

#include "cb-changeset-private.h"

#include <string.h>

typedef struct {
  const CbSchemaTable *table;
  sqlite3_stmt        *insert;  /* upsert, every column */
  sqlite3_stmt        *delete;  /* by key, parameters in key order */
} MatTable;

struct _CbMaterializer {
  CbSchema     *schema;
  sqlite3      *db;
  MatTable     *tables;
  sqlite3_stmt *stamp;
  GByteArray   *key;
  CbChangesetReader reader;
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

/* An upsert rather than INSERT OR REPLACE: a newer version of a row is
 * written in place instead of deleted and reinserted (and the schema has
 * no other UNIQUE constraint an upsert could trip over). */
static char *
insert_sql (const CbSchemaTable *table)
{
  g_autofree char *name = cb_schema_quote_identifier (table->name);
  GString *sql = g_string_new (NULL);
  gboolean first = TRUE;

  g_string_append_printf (sql, "INSERT INTO main.%s (", name);
  for (guint c = 0; c < table->n_columns; c++)
    {
      g_autofree char *column = cb_schema_quote_identifier (table->columns[c].name);
      g_string_append_printf (sql, "%s%s", c > 0 ? ", " : "", column);
    }
  g_string_append (sql, ") VALUES (");
  for (guint c = 0; c < table->n_columns; c++)
    g_string_append_printf (sql, "%s?%u", c > 0 ? ", " : "", c + 1);
  g_string_append (sql, ") ON CONFLICT (");
  for (guint k = 0; k < table->n_pk; k++)
    {
      g_autofree char *column =
        cb_schema_quote_identifier (table->columns[table->pk_columns[k]].name);
      g_string_append_printf (sql, "%s%s", k > 0 ? ", " : "", column);
    }
  g_string_append (sql, ") DO ");
  for (guint c = 0; c < table->n_columns; c++)
    {
      g_autofree char *column = NULL;

      if (table->columns[c].pk_index > 0)
        continue;
      column = cb_schema_quote_identifier (table->columns[c].name);
      g_string_append_printf (sql, "%s%s = excluded.%s", first ? "UPDATE SET " : ", ", column,
                              column);
      first = FALSE;
    }
  if (first)
    g_string_append (sql, "NOTHING");  /* every column is in the key */
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
  _cb_changeset_reader_init (&mat->reader);
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
  _cb_changeset_reader_clear (&mat->reader);
  cb_schema_unref (mat->schema);
  g_free (mat);
}

/* Binds without copying: the bytes outlive the statement's step. */
static inline void
bind_value (sqlite3_stmt  *stmt,
            int            param,
            const CbValue *value)
{
  switch (value->type)
    {
    case SQLITE_INTEGER:
      sqlite3_bind_int64 (stmt, param, value->v.i);
      break;
    case SQLITE_FLOAT:
      sqlite3_bind_double (stmt, param, value->v.d);
      break;
    case SQLITE_TEXT:
      sqlite3_bind_text (stmt, param, (const char *) value->v.bytes, (int) value->len,
                         SQLITE_STATIC);
      break;
    case SQLITE_BLOB:
      /* Never a NULL pointer, so an empty blob stays a blob. */
      sqlite3_bind_blob (stmt, param, value->v.bytes, (int) value->len, SQLITE_STATIC);
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
  CbChangesetReader *reader = &mat->reader;
  MatTable *mt = NULL;
  const char *last_name = NULL;
  guint applied = 0, superseded = 0;
  gboolean has_op = TRUE;
  gboolean ok = TRUE;

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

  /* Bound once: the same for every op. */
  sqlite3_bind_int64 (mat->stamp, 3, (sqlite3_int64) stamp->hlc);
  sqlite3_bind_blob (mat->stamp, 4, stamp->writer, sizeof stamp->writer, SQLITE_STATIC);

  _cb_changeset_reader_reset (reader, changeset, len);
  while (ok && (ok = _cb_changeset_reader_next (reader, &has_op, error)) && has_op)
    {
      guint n = reader->n_ops - 1;
      gboolean is_insert = reader->op == SQLITE_INSERT;
      const CbValue *values = is_insert ? reader->new_values : reader->old_values;
      const CbSchemaTable *table;

      if (reader->n_ops > CB_CHANGESET_MAX_OPS)
        {
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE,
                       "a changeset with more than %d ops; split the write",
                       CB_CHANGESET_MAX_OPS);
          ok = FALSE;
          break;
        }
      /* Ops come grouped by table: the name rarely changes. */
      if (reader->table != last_name)
        {
          mt = lookup (mat, reader->table);
          last_name = reader->table;
        }
      if (mt == NULL || (!is_insert && reader->op != SQLITE_DELETE)
          || reader->n_columns != mt->table->n_columns)
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
          const CbValue *value = &values[table->pk_columns[k]];

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
          continue;
        }

      if (is_insert)
        {
          for (guint c = 0; c < table->n_columns; c++)
            bind_value (mt->insert, (int) c + 1, &values[c]);
          ok = step_done (mat, mt->insert, n, table->name, error);
        }
      else
        ok = step_done (mat, mt->delete, n, table->name, error);
      applied++;
    }
  /* Nothing may point into the changeset once the caller frees it. */
  sqlite3_clear_bindings (mat->stamp);
  if (!ok)
    return FALSE;
  if (applied_out != NULL)
    *applied_out = applied;
  if (superseded_out != NULL)
    *superseded_out = superseded;
  return TRUE;
}
