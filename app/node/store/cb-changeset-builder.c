/* cb-changeset-builder.c: local writes as canonical changesets
 *
 * A private in-memory database holds two copies of the system's tables:
 * "main" as declared (so NOT NULL, CHECK, STRICT and affinity apply to the
 * rows exactly as they will on every replica) and "del", the same columns
 * and key without constraints, listing keys to delete.  A session records
 * main from empty, so every upserted row comes out as one INSERT of its
 * final values.  At finish, a second session deletes the rows listed in
 * del, which comes out as one DELETE per key (other old values NULL); the
 * two changesets are concatenated.  A key lives in at most one of the two,
 * so the result has at most one op per row. */
#define G_LOG_DOMAIN "cb-changeset"

#include "cb-changeset-private.h"

#include <string.h>

typedef struct {
  const CbSchemaTable *table;
  sqlite3_stmt *upsert;     /* INSERT OR REPLACE INTO main.t, every column */
  sqlite3_stmt *in_main;    /* SELECT 1 FROM main.t WHERE key */
  sqlite3_stmt *unlist;     /* DELETE FROM main.t WHERE key */
  sqlite3_stmt *in_del;     /* SELECT 1 FROM del.t WHERE key */
  sqlite3_stmt *undelete;   /* DELETE FROM del.t WHERE key */
  sqlite3_stmt *tombstone;  /* INSERT OR IGNORE INTO del.t (key) */
} BuilderTable;

struct _CbChangesetBuilder {
  CbSchema        *schema;
  sqlite3         *db;
  sqlite3_session *session;  /* on main, from empty */
  BuilderTable    *tables;
  guint            n_ops;
  guint            n_deletes;
};

static gboolean
db_fail (CbChangesetBuilder *builder, const char *doing, GError **error)
{
  g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_DATABASE, "%s: %s", doing,
               sqlite3_errmsg (builder->db));
  return FALSE;
}

static gboolean
exec_sql (CbChangesetBuilder *builder, const char *sql, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (builder->db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;
  g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_DATABASE,
               "preparing the changeset builder: %s", message);
  sqlite3_free (message);
  return FALSE;
}

static void
append_key_where (GString *sql, const CbSchemaTable *table)
{
  g_string_append (sql, " WHERE ");
  for (guint k = 0; k < table->n_pk; k++)
    {
      g_autofree char *column =
        cb_schema_quote_identifier (table->columns[table->pk_columns[k]].name);
      g_string_append_printf (sql, "%s%s = ?%u", k > 0 ? " AND " : "", column, k + 1);
    }
}

static char *
column_list (const CbSchemaTable *table, gboolean keys_only, gboolean with_types)
{
  GString *out = g_string_new (NULL);
  guint n = keys_only ? table->n_pk : table->n_columns;

  for (guint i = 0; i < n; i++)
    {
      const CbSchemaColumn *column =
        &table->columns[keys_only ? table->pk_columns[i] : i];
      g_autofree char *quoted = cb_schema_quote_identifier (column->name);

      g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", quoted);
      if (with_types && column->decl_type[0] != '\0')
        g_string_append_printf (out, " %s", column->decl_type);
    }
  return g_string_free (out, FALSE);
}

static gboolean
prepare (CbChangesetBuilder  *builder,
         GString             *sql,
         sqlite3_stmt       **stmt,
         GError             **error)
{
  int rc = sqlite3_prepare_v3 (builder->db, sql->str, (int) sql->len, SQLITE_PREPARE_PERSISTENT,
                               stmt, NULL);

  g_string_free (sql, TRUE);
  return rc == SQLITE_OK || db_fail (builder, "preparing the changeset builder", error);
}

static gboolean
setup_table (CbChangesetBuilder   *builder,
             const CbSchemaTable  *table,
             BuilderTable         *bt,
             GError              **error)
{
  g_autofree char *name = cb_schema_quote_identifier (table->name);
  g_autofree char *all = column_list (table, FALSE, FALSE);
  g_autofree char *keys = column_list (table, TRUE, FALSE);
  g_autofree char *typed = column_list (table, FALSE, TRUE);
  g_autofree char *create_del = NULL;
  GString *sql;

  bt->table = table;
  if (!exec_sql (builder, table->create_sql, error))
    return FALSE;
  /* Same columns, types and key; no constraints, so a key alone is a row. */
  create_del = g_strdup_printf ("CREATE TABLE del.%s (%s, PRIMARY KEY (%s))%s%s%s", name, typed,
                                keys, table->without_rowid ? " WITHOUT ROWID" : "",
                                table->without_rowid && table->strict ? "," : "",
                                table->strict ? " STRICT" : "");
  if (!exec_sql (builder, create_del, error))
    return FALSE;

  sql = g_string_new (NULL);
  g_string_printf (sql, "INSERT OR REPLACE INTO main.%s (%s) VALUES (", name, all);
  for (guint c = 0; c < table->n_columns; c++)
    g_string_append_printf (sql, "%s?%u", c > 0 ? ", " : "", c + 1);
  g_string_append_c (sql, ')');
  if (!prepare (builder, sql, &bt->upsert, error))
    return FALSE;

  sql = g_string_new (NULL);
  g_string_printf (sql, "SELECT 1 FROM main.%s", name);
  append_key_where (sql, table);
  if (!prepare (builder, sql, &bt->in_main, error))
    return FALSE;
  sql = g_string_new (NULL);
  g_string_printf (sql, "DELETE FROM main.%s", name);
  append_key_where (sql, table);
  if (!prepare (builder, sql, &bt->unlist, error))
    return FALSE;
  sql = g_string_new (NULL);
  g_string_printf (sql, "SELECT 1 FROM del.%s", name);
  append_key_where (sql, table);
  if (!prepare (builder, sql, &bt->in_del, error))
    return FALSE;
  sql = g_string_new (NULL);
  g_string_printf (sql, "DELETE FROM del.%s", name);
  append_key_where (sql, table);
  if (!prepare (builder, sql, &bt->undelete, error))
    return FALSE;
  sql = g_string_new (NULL);
  g_string_printf (sql, "INSERT OR IGNORE INTO del.%s (%s) VALUES (", name, keys);
  for (guint k = 0; k < table->n_pk; k++)
    g_string_append_printf (sql, "%s?%u", k > 0 ? ", " : "", k + 1);
  g_string_append_c (sql, ')');
  return prepare (builder, sql, &bt->tombstone, error);
}

static gboolean
start_session (CbChangesetBuilder *builder, GError **error)
{
  if (sqlite3session_create (builder->db, "main", &builder->session) != SQLITE_OK
      || sqlite3session_attach (builder->session, NULL) != SQLITE_OK)
    return db_fail (builder, "starting a session", error);
  return TRUE;
}

CbChangesetBuilder *
cb_changeset_builder_new (CbSchema  *schema,
                          GError   **error)
{
  g_autoptr(CbChangesetBuilder) builder = g_new0 (CbChangesetBuilder, 1);
  guint n = cb_schema_get_n_tables (schema);

  builder->schema = cb_schema_ref (schema);
  builder->tables = g_new0 (BuilderTable, n);
  if (sqlite3_open_v2 (":memory:", &builder->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                       NULL) != SQLITE_OK)
    {
      db_fail (builder, "opening the builder's scratch database", error);
      return NULL;
    }
  if (!exec_sql (builder, "ATTACH ':memory:' AS del", error))
    return NULL;
  for (guint i = 0; i < n; i++)
    if (!setup_table (builder, cb_schema_get_table (schema, i), &builder->tables[i], error))
      return NULL;
  if (!start_session (builder, error))
    return NULL;
  return g_steal_pointer (&builder);
}

void
cb_changeset_builder_free (CbChangesetBuilder *builder)
{
  if (builder == NULL)
    return;
  if (builder->session != NULL)
    sqlite3session_delete (builder->session);
  for (guint i = 0; builder->tables != NULL && i < cb_schema_get_n_tables (builder->schema); i++)
    {
      BuilderTable *bt = &builder->tables[i];

      sqlite3_finalize (bt->upsert);
      sqlite3_finalize (bt->in_main);
      sqlite3_finalize (bt->unlist);
      sqlite3_finalize (bt->in_del);
      sqlite3_finalize (bt->undelete);
      sqlite3_finalize (bt->tombstone);
    }
  g_free (builder->tables);
  sqlite3_close (builder->db);
  cb_schema_unref (builder->schema);
  g_free (builder);
}

guint
cb_changeset_builder_get_n_ops (CbChangesetBuilder *builder)
{
  return builder->n_ops;
}

/* ---- JSON to values ------------------------------------------------------ */

/* {"$base64": "…"}: the only object a value may be. */
static gboolean
decode_blob (JsonNode             *node,
             const CbSchemaTable  *table,
             const CbSchemaColumn *column,
             guint8              **data,
             gsize                *len,
             GError              **error)
{
  JsonObject *object = json_node_get_object (node);
  JsonNode *member = json_object_get_member (object, "$base64");
  const char *text;
  g_autofree char *again = NULL;

  if (json_object_get_size (object) != 1 || member == NULL
      || json_node_get_value_type (member) != G_TYPE_STRING)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
                   "column %s of table %s: the only object a value may be is "
                   "{\"$base64\": \"…\"} (a BLOB)", column->name, table->name);
      return FALSE;
    }
  text = json_node_get_string (member);
  *data = g_base64_decode (text, len);
  /* g_base64_decode skips what it does not know: insist on the canonical text. */
  again = g_base64_encode (*data, *len);
  if (strcmp (again, text) != 0)
    {
      g_clear_pointer (data, g_free);
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
                   "column %s of table %s: \"$base64\" is not padded standard base64",
                   column->name, table->name);
      return FALSE;
    }
  return TRUE;
}

static const char *
json_kind (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return "null";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "an array";
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "a BLOB";
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING: return "a string";
    case G_TYPE_INT64: return "an integer";
    case G_TYPE_DOUBLE: return "a number with a fraction or exponent";
    case G_TYPE_BOOLEAN: return "a boolean";
    default: return "an unknown value";
    }
}

/* Keys get only types their column keeps unchanged (see the validator). */
static gboolean
key_accepts (const CbSchemaColumn *column, JsonNode *node)
{
  GType type;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node) || JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  if (JSON_NODE_HOLDS_OBJECT (node))
    return column->affinity == CB_SCHEMA_AFFINITY_NONE;
  type = json_node_get_value_type (node);
  switch (column->affinity)
    {
    case CB_SCHEMA_AFFINITY_INTEGER:
    case CB_SCHEMA_AFFINITY_NUMERIC:
      return type == G_TYPE_INT64 || type == G_TYPE_BOOLEAN;
    case CB_SCHEMA_AFFINITY_TEXT:
      return type == G_TYPE_STRING;
    case CB_SCHEMA_AFFINITY_NONE:
      return type != G_TYPE_DOUBLE;
    default:
      return FALSE;
    }
}

static gboolean
bind_json (sqlite3_stmt         *stmt,
           int                   param,
           JsonNode             *node,
           const CbSchemaTable  *table,
           const CbSchemaColumn *column,
           GError              **error)
{
  if (column->pk_index > 0 && !key_accepts (column, node))
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
                   node == NULL ? "key column %s of table %s is missing"
                                : "key column %s of table %s (%s) cannot be %s",
                   column->name, table->name,
                   column->decl_type[0] != '\0' ? column->decl_type : "untyped",
                   json_kind (node));
      return FALSE;
    }
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (column->not_null)
        {
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
                       "column %s of table %s is NOT NULL; give it a value", column->name,
                       table->name);
          return FALSE;
        }
      sqlite3_bind_null (stmt, param);
      return TRUE;
    }
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      guint8 *data = NULL;
      gsize len = 0;

      if (!decode_blob (node, table, column, &data, &len, error))
        return FALSE;
      /* sqlite frees it, even on failure. */
      sqlite3_bind_blob64 (stmt, param, data, len, g_free);
      return TRUE;
    }
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_STRING:
          sqlite3_bind_text (stmt, param, json_node_get_string (node), -1, SQLITE_TRANSIENT);
          return TRUE;
        case G_TYPE_INT64:
          sqlite3_bind_int64 (stmt, param, json_node_get_int (node));
          return TRUE;
        case G_TYPE_DOUBLE:
          sqlite3_bind_double (stmt, param, json_node_get_double (node));
          return TRUE;
        case G_TYPE_BOOLEAN:
          sqlite3_bind_int (stmt, param, json_node_get_boolean (node) ? 1 : 0);
          return TRUE;
        default:
          break;
        }
    }
  g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
               "column %s of table %s cannot be %s; store structured values as TEXT (JSON)",
               column->name, table->name, json_kind (node));
  return FALSE;
}

static const CbSchemaTable *
find_table (CbChangesetBuilder *builder, const char *name, GError **error)
{
  const CbSchemaTable *table = cb_schema_lookup_table (builder->schema, name);

  if (table == NULL)
    g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
                 "system %s has no table %s", cb_schema_get_system (builder->schema), name);
  return table;
}

/* Member nodes by column index; errors for unknown or repeated names. */
static JsonNode **
row_nodes (const CbSchemaTable  *table,
           JsonObject           *row,
           gboolean              keys_only,
           GError              **error)
{
  g_autofree JsonNode **nodes = g_new0 (JsonNode *, table->n_columns);
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  json_object_iter_init (&iter, row);
  while (json_object_iter_next (&iter, &member, &node))
    {
      guint c;

      for (c = 0; c < table->n_columns; c++)
        if (g_ascii_strcasecmp (table->columns[c].name, member) == 0)
          break;
      if (c == table->n_columns)
        {
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
                       "table %s has no column %s", table->name, member);
          return NULL;
        }
      if (keys_only && table->columns[c].pk_index == 0)
        {
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
                       "column %s is not part of table %s's key; a delete names only the key",
                       member, table->name);
          return NULL;
        }
      if (nodes[c] != NULL)
        {
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
                       "column %s of table %s is given twice", table->columns[c].name,
                       table->name);
          return NULL;
        }
      nodes[c] = node;
    }
  return g_steal_pointer (&nodes);
}

static gboolean
bind_key (sqlite3_stmt         *stmt,
          const CbSchemaTable  *table,
          JsonNode            **nodes,
          GError              **error)
{
  for (guint k = 0; k < table->n_pk; k++)
    {
      guint c = table->pk_columns[k];

      if (!bind_json (stmt, (int) k + 1, nodes[c], table, &table->columns[c], error))
        {
          sqlite3_clear_bindings (stmt);
          return FALSE;
        }
    }
  return TRUE;
}

/* Runs a key statement; returns 1 (row / change), 0 (none) or -1 (error). */
static int
run_key_stmt (CbChangesetBuilder   *builder,
              sqlite3_stmt         *stmt,
              const CbSchemaTable  *table,
              JsonNode            **nodes,
              GError              **error)
{
  int rc;

  if (!bind_key (stmt, table, nodes, error))
    return -1;
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc == SQLITE_ROW)
    return 1;
  if (rc != SQLITE_DONE)
    {
      db_fail (builder, "updating the builder", error);
      return -1;
    }
  return sqlite3_stmt_readonly (stmt) ? 0 : sqlite3_changes (builder->db) > 0;
}

static gboolean
check_room (CbChangesetBuilder   *builder,
            BuilderTable         *bt,
            JsonNode            **nodes,
            GError              **error)
{
  int in_main, in_del;

  if (builder->n_ops < CB_CHANGESET_MAX_OPS)
    return TRUE;
  in_main = run_key_stmt (builder, bt->in_main, bt->table, nodes, error);
  if (in_main < 0)
    return FALSE;
  in_del = in_main ? 0 : run_key_stmt (builder, bt->in_del, bt->table, nodes, error);
  if (in_del < 0)
    return FALSE;
  if (in_main || in_del)
    return TRUE;
  g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE,
               "a changeset holds at most %d rows; finish this one and start another",
               CB_CHANGESET_MAX_OPS);
  return FALSE;
}

gboolean
cb_changeset_builder_upsert (CbChangesetBuilder  *builder,
                             const char          *table_name,
                             JsonObject          *row,
                             GError             **error)
{
  const CbSchemaTable *table = find_table (builder, table_name, error);
  g_autofree JsonNode **nodes = NULL;
  BuilderTable *bt;
  int was_there, was_deleted, rc;

  if (table == NULL || (nodes = row_nodes (table, row, FALSE, error)) == NULL)
    return FALSE;
  bt = &builder->tables[table->index];
  for (guint c = 0; c < table->n_columns; c++)
    if (!bind_json (bt->upsert, (int) c + 1, nodes[c], table, &table->columns[c], error))
      {
        sqlite3_clear_bindings (bt->upsert);
        return FALSE;
      }
  if (!check_room (builder, bt, nodes, error)
      || (was_there = run_key_stmt (builder, bt->in_main, table, nodes, error)) < 0)
    {
      sqlite3_clear_bindings (bt->upsert);
      return FALSE;
    }

  /* The declared table's constraints judge the row here. */
  rc = sqlite3_step (bt->upsert);
  sqlite3_reset (bt->upsert);
  sqlite3_clear_bindings (bt->upsert);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_ROW,
                   "table %s refuses the row: %s", table->name, sqlite3_errmsg (builder->db));
      return FALSE;
    }
  was_deleted = run_key_stmt (builder, bt->undelete, table, nodes, error);
  if (was_deleted < 0)
    return FALSE;
  if (was_deleted)
    builder->n_deletes--;
  else if (!was_there)
    builder->n_ops++;
  return TRUE;
}

gboolean
cb_changeset_builder_delete (CbChangesetBuilder  *builder,
                             const char          *table_name,
                             JsonObject          *key,
                             GError             **error)
{
  const CbSchemaTable *table = find_table (builder, table_name, error);
  g_autofree JsonNode **nodes = NULL;
  BuilderTable *bt;
  int was_upserted, listed;

  if (table == NULL || (nodes = row_nodes (table, key, TRUE, error)) == NULL)
    return FALSE;
  bt = &builder->tables[table->index];
  if (!check_room (builder, bt, nodes, error))
    return FALSE;
  was_upserted = run_key_stmt (builder, bt->unlist, table, nodes, error);
  if (was_upserted < 0)
    return FALSE;
  listed = run_key_stmt (builder, bt->tombstone, table, nodes, error);
  if (listed < 0)
    return FALSE;
  if (listed)
    {
      builder->n_deletes++;
      if (!was_upserted)
        builder->n_ops++;
    }
  return TRUE;
}

/* ---- finish ------------------------------------------------------------ */

/* The DELETE ops: a session on del that empties it. */
static gboolean
delete_changeset (CbChangesetBuilder  *builder,
                  int                 *len,
                  void               **data,
                  GError             **error)
{
  sqlite3_session *session = NULL;
  gboolean ok = TRUE;

  if (sqlite3session_create (builder->db, "del", &session) != SQLITE_OK
      || sqlite3session_attach (session, NULL) != SQLITE_OK)
    ok = db_fail (builder, "starting a session", error);
  for (guint i = 0; ok && i < cb_schema_get_n_tables (builder->schema); i++)
    {
      g_autofree char *name = cb_schema_quote_identifier (builder->tables[i].table->name);
      g_autofree char *sql = g_strdup_printf ("DELETE FROM del.%s", name);

      ok = exec_sql (builder, sql, error);
    }
  if (ok && sqlite3session_changeset (session, len, data) != SQLITE_OK)
    ok = db_fail (builder, "collecting deletes", error);
  if (session != NULL)
    sqlite3session_delete (session);
  return ok;
}

/* Empties main and del (no session records it) and starts over. */
static gboolean
reset (CbChangesetBuilder *builder, GError **error)
{
  gboolean ok = TRUE;

  if (builder->session != NULL)
    sqlite3session_delete (builder->session);
  builder->session = NULL;
  for (guint i = 0; i < cb_schema_get_n_tables (builder->schema); i++)
    {
      g_autofree char *name = cb_schema_quote_identifier (builder->tables[i].table->name);
      g_autofree char *sql = g_strdup_printf ("DELETE FROM main.%s; DELETE FROM del.%s",
                                              name, name);

      ok = exec_sql (builder, sql, ok ? error : NULL) && ok;
    }
  builder->n_ops = 0;
  builder->n_deletes = 0;
  return start_session (builder, ok ? error : NULL) && ok;
}

static void
free_sqlite (gpointer data)
{
  sqlite3_free (data);
}

GBytes *
cb_changeset_builder_finish (CbChangesetBuilder  *builder,
                             GError             **error)
{
  void *inserts = NULL, *deletes = NULL, *both = NULL;
  int n_inserts = 0, n_deletes = 0, n_both = 0;
  g_autoptr(GBytes) result = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean ok = TRUE;

  if (sqlite3session_changeset (builder->session, &n_inserts, &inserts) != SQLITE_OK)
    ok = db_fail (builder, "collecting rows", &local_error);
  if (ok && builder->n_deletes > 0)
    ok = delete_changeset (builder, &n_deletes, &deletes, &local_error);
  if (ok && n_inserts > 0 && n_deletes > 0)
    {
      if (sqlite3changeset_concat (n_inserts, inserts, n_deletes, deletes, &n_both, &both)
          != SQLITE_OK)
        ok = db_fail (builder, "joining rows and deletes", &local_error);
      else
        result = g_bytes_new_with_free_func (both, (gsize) n_both, free_sqlite, both);
    }
  else if (ok && n_deletes > 0)
    {
      result = g_bytes_new_with_free_func (deletes, (gsize) n_deletes, free_sqlite, deletes);
      deletes = NULL;
    }
  else if (ok)
    {
      result = g_bytes_new_with_free_func (inserts, (gsize) n_inserts, free_sqlite, inserts);
      inserts = NULL;
    }
  sqlite3_free (inserts);
  sqlite3_free (deletes);

  if (!reset (builder, ok ? &local_error : NULL) && ok)
    ok = FALSE;
  /* Whatever the builder accepted must be what every replica accepts. */
  if (ok && !cb_changeset_validate (builder->schema, g_bytes_get_data (result, NULL),
                                    g_bytes_get_size (result), NULL, &local_error))
    {
      g_prefix_error (&local_error, "the built changeset is refused: ");
      ok = FALSE;
    }
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_steal_pointer (&result);
}
