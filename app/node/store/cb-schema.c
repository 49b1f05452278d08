/* cb-schema.c: declared tables, checked for replication, installed, digested */
#define G_LOG_DOMAIN "cb-schema"

#include "cb-schema.h"

#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (cb-schema-error-quark, cb_schema_error)

struct _CbSchema {
  gatomicrefcount  ref;
  char            *system;
  CbSchemaTable   *tables;
  guint            n_tables;
};

static const char rows_table_sql[] =
  "CREATE TABLE IF NOT EXISTS _cb_rows ("
  "  tbl TEXT NOT NULL, pk BLOB NOT NULL, hlc INTEGER NOT NULL, writer BLOB NOT NULL,"
  "  deleted INTEGER NOT NULL, PRIMARY KEY (tbl, pk)) WITHOUT ROWID";

char *
cb_schema_quote_identifier (const char *name)
{
  GString *out = g_string_sized_new (strlen (name) + 2);

  g_string_append_c (out, '"');
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

static gboolean
is_plain_identifier (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > CB_SCHEMA_MAX_NAME)
    return FALSE;
  if (!g_ascii_isalpha (name[0]) && name[0] != '_')
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '_')
      return FALSE;
  return TRUE;
}

static gboolean
has_prefix_nocase (const char *s, const char *prefix)
{
  return g_ascii_strncasecmp (s, prefix, strlen (prefix)) == 0;
}

/* SQLite's affinity rules (datatype3.html, 3.1), in their order. */
static CbSchemaAffinity
affinity_for (const char *decl_type, gboolean strict)
{
  g_autofree char *upper = g_ascii_strup (decl_type, -1);

  if (strict)
    {
      if (strcmp (upper, "INT") == 0 || strcmp (upper, "INTEGER") == 0)
        return CB_SCHEMA_AFFINITY_INTEGER;
      if (strcmp (upper, "REAL") == 0)
        return CB_SCHEMA_AFFINITY_REAL;
      if (strcmp (upper, "TEXT") == 0)
        return CB_SCHEMA_AFFINITY_TEXT;
      return CB_SCHEMA_AFFINITY_NONE;  /* BLOB, ANY */
    }
  if (strstr (upper, "INT") != NULL)
    return CB_SCHEMA_AFFINITY_INTEGER;
  if (strstr (upper, "CHAR") != NULL || strstr (upper, "CLOB") != NULL
      || strstr (upper, "TEXT") != NULL)
    return CB_SCHEMA_AFFINITY_TEXT;
  if (upper[0] == '\0' || strstr (upper, "BLOB") != NULL)
    return CB_SCHEMA_AFFINITY_NONE;
  if (strstr (upper, "REAL") != NULL || strstr (upper, "FLOA") != NULL
      || strstr (upper, "DOUB") != NULL)
    return CB_SCHEMA_AFFINITY_REAL;
  return CB_SCHEMA_AFFINITY_NUMERIC;
}

static void
table_clear (CbSchemaTable *table)
{
  for (guint i = 0; i < table->n_columns; i++)
    {
      g_free (table->columns[i].name);
      g_free (table->columns[i].decl_type);
    }
  g_free (table->columns);
  g_free (table->pk_columns);
  g_free (table->name);
  g_free (table->create_sql);
}

static gboolean
db_error (GError **error, sqlite3 *db, const char *doing)
{
  g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_DATABASE, "%s: %s", doing,
               sqlite3_errmsg (db));
  return FALSE;
}

/* ---- declaration checks ------------------------------------------------ */

static const char *
describe_action (int action)
{
  switch (action)
    {
    case SQLITE_CREATE_INDEX: return "creates an index (only the table's own key is kept)";
    case SQLITE_CREATE_VIEW: return "creates a view";
    case SQLITE_CREATE_TRIGGER: return "creates a trigger";
    case SQLITE_PRAGMA: return "is a PRAGMA";
    case SQLITE_ATTACH: return "attaches a database";
    case SQLITE_DELETE: return "deletes rows";
    case SQLITE_DROP_TABLE: return "drops a table";
    case SQLITE_ALTER_TABLE: return "alters a table";
    default: return "does more than create one table";
    }
}

typedef struct {
  char     *created;     /* the table the statement creates */
  guint     n_created;
  gboolean  sequence;    /* AUTOINCREMENT asked for sqlite_sequence */
  char     *denied;      /* why the authorizer refused, for the message */
} DeclAuth;

/* A CREATE TABLE compiles into: create the table and its automatic
 * indexes, write sqlite_schema, read the columns its constraints name and
 * call their functions.  Anything else is not a plain table declaration. */
static int
decl_authorizer (void       *user_data,
                 int         action,
                 const char *arg1,
                 const char *arg2,
                 const char *db_name,
                 const char *trigger)
{
  DeclAuth *auth = user_data;

  switch (action)
    {
    case SQLITE_CREATE_TABLE:
      if (g_strcmp0 (db_name, "main") != 0)
        break;
      if (g_strcmp0 (arg1, "sqlite_sequence") == 0)
        auth->sequence = TRUE;
      else
        {
          auth->n_created++;
          g_free (auth->created);
          auth->created = g_strdup (arg1);
        }
      return SQLITE_OK;
    case SQLITE_CREATE_INDEX:
      /* Only the automatic ones: a CREATE INDEX statement is refused
       * before this, since it does not create a table. */
      if (arg1 != NULL && g_str_has_prefix (arg1, "sqlite_autoindex_"))
        return SQLITE_OK;
      break;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
      return SQLITE_OK;
    case SQLITE_SELECT:
      g_free (auth->denied);
      auth->denied = g_strdup ("it selects rows (and CREATE TABLE ... AS SELECT has no declared key)");
      return SQLITE_DENY;
    case SQLITE_CREATE_TEMP_TABLE:
      g_free (auth->denied);
      auth->denied = g_strdup ("temporary tables are not replicated");
      return SQLITE_DENY;
    default:
      break;
    }
  if (auth->denied == NULL)
    auth->denied = g_strdup_printf ("it %s", describe_action (action));
  return SQLITE_DENY;
}

static gboolean
check_one_statement (sqlite3     *db,
                     guint        n,
                     const char  *sql,
                     DeclAuth    *auth,
                     GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  sqlite3_stmt *extra = NULL;
  const char *tail = NULL;
  int rc;

  sqlite3_set_authorizer (db, decl_authorizer, auth);
  rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, &tail);
  if (rc != SQLITE_OK)
    {
      if (auth->denied != NULL)
        g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                     "table declaration %u is not a plain CREATE TABLE: %s", n + 1, auth->denied);
      else
        g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                     "table declaration %u does not compile: %s", n + 1, sqlite3_errmsg (db));
      sqlite3_set_authorizer (db, NULL, NULL);
      return FALSE;
    }
  if (stmt == NULL)
    {
      sqlite3_set_authorizer (db, NULL, NULL);
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "table declaration %u is empty", n + 1);
      return FALSE;
    }
  /* Only whitespace and comments may follow: they compile to nothing. */
  if (tail != NULL && *tail != '\0')
    {
      DeclAuth ignored = { 0 };

      sqlite3_set_authorizer (db, decl_authorizer, &ignored);
      rc = sqlite3_prepare_v2 (db, tail, -1, &extra, NULL);
      sqlite3_finalize (extra);
      g_free (ignored.created);
      g_free (ignored.denied);
      if (rc != SQLITE_OK || extra != NULL)
        {
          sqlite3_set_authorizer (db, NULL, NULL);
          sqlite3_finalize (stmt);
          g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                       "table declaration %u holds more than one statement; give one "
                       "CREATE TABLE per declaration", n + 1);
          return FALSE;
        }
    }
  sqlite3_set_authorizer (db, decl_authorizer, auth);
  if (auth->n_created != 1)
    {
      sqlite3_set_authorizer (db, NULL, NULL);
      sqlite3_finalize (stmt);
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "table declaration %u is not a CREATE TABLE statement", n + 1);
      return FALSE;
    }
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  sqlite3_set_authorizer (db, NULL, NULL);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "table declaration %u (%s) fails: %s", n + 1, auth->created,
                   sqlite3_errmsg (db));
      return FALSE;
    }
  return TRUE;
}

/* Runs a one-table-argument pragma query and returns the prepared stmt. */
static sqlite3_stmt *
prepare_bound (sqlite3     *db,
               const char  *sql,
               const char  *table,
               GError     **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      db_error (error, db, "reading a table's definition");
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, table, -1, SQLITE_TRANSIENT);
  return stmt;
}

/* Reads the table's shape from the database: columns, key, flags. */
static gboolean
introspect_table (sqlite3        *db,
                  const char     *name,
                  CbSchemaTable  *table,
                  GError        **error)
{
  sqlite3_stmt *stmt;
  g_autoptr(GArray) columns = g_array_new (FALSE, TRUE, sizeof (CbSchemaColumn));
  int rc;

  stmt = prepare_bound (db, "SELECT wr, strict FROM pragma_table_list(?1) WHERE schema = 'main'",
                        name, error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_NOT_FOUND, "no table %s", name);
      return FALSE;
    }
  table->without_rowid = sqlite3_column_int (stmt, 0) != 0;
  table->strict = sqlite3_column_int (stmt, 1) != 0;
  sqlite3_finalize (stmt);

  stmt = prepare_bound (db, "SELECT name, type, \"notnull\", pk, hidden FROM pragma_table_xinfo(?1) "
                        "ORDER BY cid", name, error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CbSchemaColumn column = { 0 };
      const char *type = (const char *) sqlite3_column_text (stmt, 1);

      column.name = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      column.decl_type = g_strdup (type != NULL ? type : "");
      column.not_null = sqlite3_column_int (stmt, 2) != 0;
      column.pk_index = (guint) sqlite3_column_int (stmt, 3);
      if (column.pk_index > 0)
        column.not_null = TRUE;
      column.affinity = affinity_for (column.decl_type, table->strict);
      g_array_append_val (columns, column);
      if (sqlite3_column_int (stmt, 4) != 0)
        {
          rc = SQLITE_MISMATCH;  /* generated, reported below */
          break;
        }
    }
  sqlite3_finalize (stmt);
  table->n_columns = columns->len;
  table->columns = (CbSchemaColumn *) (void *) g_array_free (g_steal_pointer (&columns), FALSE);
  if (rc == SQLITE_MISMATCH)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "table %s: column %s is generated; declare plain columns only "
                   "(changesets carry stored values)", name,
                   table->columns[table->n_columns - 1].name);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return db_error (error, db, "reading a table's columns");

  for (guint i = 0; i < table->n_columns; i++)
    if (table->columns[i].pk_index > table->n_pk)
      table->n_pk = table->columns[i].pk_index;
  table->pk_columns = g_new0 (guint, MAX (table->n_pk, 1));
  for (guint i = 0; i < table->n_columns; i++)
    if (table->columns[i].pk_index > 0)
      table->pk_columns[table->columns[i].pk_index - 1] = i;
  return TRUE;
}

/* What makes a table unsafe to replicate with row-level last-writer-wins. */
static gboolean
check_replicable (sqlite3              *db,
                  const CbSchemaTable  *table,
                  GError              **error)
{
  sqlite3_stmt *stmt;
  int n_fk = 0;
  gboolean ok = TRUE;

  if (table->n_pk == 0)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "table %s declares no PRIMARY KEY; every replicated table needs one "
                   "(rows are matched across replicas by key)", table->name);
      return FALSE;
    }
  for (guint k = 0; k < table->n_pk; k++)
    {
      const CbSchemaColumn *column = &table->columns[table->pk_columns[k]];

      if (column->affinity == CB_SCHEMA_AFFINITY_REAL)
        {
          g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                       "table %s: key column %s is floating-point (%s); use INTEGER, TEXT "
                       "or BLOB keys (0.0 and -0.0 are one key but not one value)",
                       table->name, column->name, column->decl_type);
          return FALSE;
        }
    }

  stmt = prepare_bound (db, "SELECT count(*) FROM pragma_foreign_key_list(?1)", table->name,
                        error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n_fk = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  if (n_fk > 0)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "table %s declares a foreign key; replicas receive rows in any order, "
                   "so references cannot be enforced", table->name);
      return FALSE;
    }

  /* UNIQUE besides the key would make INSERT OR REPLACE delete other rows
   * depending on arrival order; a non-binary key collation would make two
   * different key encodings one row. */
  stmt = prepare_bound (db, "SELECT l.origin, x.name, x.coll FROM pragma_index_list(?1) AS l "
                        "LEFT JOIN pragma_index_xinfo(l.name) AS x ON x.key = 1 "
                        "AND x.cid >= 0 ORDER BY l.seq, x.seqno", table->name, error);
  if (stmt == NULL)
    return FALSE;
  while (ok && sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *origin = (const char *) sqlite3_column_text (stmt, 0);
      const char *column = (const char *) sqlite3_column_text (stmt, 1);
      const char *coll = (const char *) sqlite3_column_text (stmt, 2);

      if (g_strcmp0 (origin, "pk") != 0)
        {
          g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                       "table %s: UNIQUE on %s is not supported; only the PRIMARY KEY may be "
                       "unique (replicas would resolve other conflicts differently)",
                       table->name, column != NULL ? column : "a column");
          ok = FALSE;
        }
      else if (coll != NULL && g_ascii_strcasecmp (coll, "BINARY") != 0)
        {
          g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                       "table %s: key column %s uses COLLATE %s; keys must compare as bytes "
                       "(BINARY)", table->name, column, coll);
          ok = FALSE;
        }
    }
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
declare_table (sqlite3        *db,
               guint           n,
               const char     *sql,
               GPtrArray      *seen,
               CbSchemaTable  *table,
               GError        **error)
{
  DeclAuth auth = { 0 };
  gboolean ok = FALSE;

  if (!check_one_statement (db, n, sql, &auth, error))
    goto out;
  if (!is_plain_identifier (auth.created))
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "table declaration %u: name \"%s\" must be a plain identifier "
                   "(letters, digits, _; at most %d characters)", n + 1, auth.created,
                   CB_SCHEMA_MAX_NAME);
      goto out;
    }
  if (has_prefix_nocase (auth.created, "_cb") || has_prefix_nocase (auth.created, "sqlite_"))
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "table %s: names starting with _cb or sqlite_ are reserved", auth.created);
      goto out;
    }
  for (guint i = 0; i < seen->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (seen, i), auth.created) == 0)
      {
        g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                     "table %s is declared twice", auth.created);
        goto out;
      }
  if (auth.sequence)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "table %s uses AUTOINCREMENT; keys must come from the writer "
                   "(each replica would number rows its own way)", auth.created);
      goto out;
    }
  g_ptr_array_add (seen, g_strdup (auth.created));

  table->name = g_strdup (auth.created);
  table->create_sql = g_strstrip (g_strdup (sql));
  table->index = n;
  if (!introspect_table (db, table->name, table, error)
      || !check_replicable (db, table, error))
    goto out;
  ok = TRUE;

out:
  g_free (auth.created);
  g_free (auth.denied);
  return ok;
}

static gboolean
check_system_name (const char *system, GError **error)
{
  gsize len = system != NULL ? strlen (system) : 0;

  if (len == 0 || len > CB_SCHEMA_MAX_SYSTEM_NAME || !g_utf8_validate (system, -1, NULL))
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "a system name must be 1 to %d bytes of UTF-8", CB_SCHEMA_MAX_SYSTEM_NAME);
      return FALSE;
    }
  for (const char *p = system; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                     "system name \"%s\" holds a control character", system);
        return FALSE;
      }
  return TRUE;
}

CbSchema *
cb_schema_new (const char          *system,
               const char * const  *create_table_sql,
               GError             **error)
{
  g_autoptr(CbSchema) schema = NULL;
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  sqlite3 *db = NULL;
  guint n = 0;

  g_return_val_if_fail (create_table_sql != NULL, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");
  if (!check_system_name (system, error))
    return NULL;
  while (create_table_sql[n] != NULL)
    n++;
  if (n == 0 || n > CB_SCHEMA_MAX_TABLES)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_INVALID,
                   "system %s declares %u tables; declare 1 to %d", system, n,
                   CB_SCHEMA_MAX_TABLES);
      return NULL;
    }

  schema = g_new0 (CbSchema, 1);
  g_atomic_ref_count_init (&schema->ref);
  schema->system = g_strdup (system);
  schema->tables = g_new0 (CbSchemaTable, n);

  if (sqlite3_open_v2 (":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
      != SQLITE_OK)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_DATABASE,
                   "cannot open an in-memory database: %s", sqlite3_errmsg (db));
      sqlite3_close (db);
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    {
      schema->n_tables = i + 1;  /* so unref clears what was filled in */
      if (!declare_table (db, i, create_table_sql[i], seen, &schema->tables[i], error))
        {
          sqlite3_close (db);
          g_prefix_error (error, "system %s: ", system);
          return NULL;
        }
    }
  sqlite3_close (db);
  return g_steal_pointer (&schema);
}

CbSchema *
cb_schema_ref (CbSchema *schema)
{
  g_atomic_ref_count_inc (&schema->ref);
  return schema;
}

void
cb_schema_unref (CbSchema *schema)
{
  if (schema == NULL || !g_atomic_ref_count_dec (&schema->ref))
    return;
  for (guint i = 0; i < schema->n_tables; i++)
    table_clear (&schema->tables[i]);
  g_free (schema->tables);
  g_free (schema->system);
  g_free (schema);
}

const char *
cb_schema_get_system (CbSchema *schema)
{
  return schema->system;
}

guint
cb_schema_get_n_tables (CbSchema *schema)
{
  return schema->n_tables;
}

const CbSchemaTable *
cb_schema_get_table (CbSchema *schema,
                     guint     i)
{
  g_return_val_if_fail (i < schema->n_tables, NULL);
  return &schema->tables[i];
}

const CbSchemaTable *
cb_schema_lookup_table (CbSchema   *schema,
                        const char *name)
{
  /* Exact first: it is what changesets carry. */
  for (guint i = 0; i < schema->n_tables; i++)
    if (strcmp (schema->tables[i].name, name) == 0)
      return &schema->tables[i];
  for (guint i = 0; i < schema->n_tables; i++)
    if (g_ascii_strcasecmp (schema->tables[i].name, name) == 0)
      return &schema->tables[i];
  return NULL;
}

/* ---- install ------------------------------------------------------------ */

static char *
describe_column (const CbSchemaColumn *column)
{
  return g_strdup_printf ("%s %s%s%s", column->name,
                          column->decl_type[0] != '\0' ? column->decl_type : "(untyped)",
                          column->not_null && column->pk_index == 0 ? " NOT NULL" : "",
                          column->pk_index > 0 ? " (key)" : "");
}

static gboolean
compare_installed (CbSchema             *schema,
                   sqlite3              *db,
                   const CbSchemaTable  *want,
                   GError              **error)
{
  CbSchemaTable have = { 0 };
  g_autoptr(GError) local_error = NULL;
  const char *hint = "the database was made for another version of this system; "
                     "tables cannot change in place";
  gboolean ok = FALSE;

  have.name = g_strdup (want->name);
  if (!introspect_table (db, want->name, &have, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      goto out;
    }
  if (have.strict != want->strict || have.without_rowid != want->without_rowid)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_MISMATCH,
                   "table %s of system %s exists here as a %s%s table but is declared "
                   "%s%s; %s", want->name, schema->system,
                   have.strict ? "STRICT " : "", have.without_rowid ? "WITHOUT ROWID" : "rowid",
                   want->strict ? "STRICT " : "", want->without_rowid ? "WITHOUT ROWID" : "rowid",
                   hint);
      goto out;
    }
  for (guint i = 0; i < MAX (have.n_columns, want->n_columns); i++)
    {
      const CbSchemaColumn *h = i < have.n_columns ? &have.columns[i] : NULL;
      const CbSchemaColumn *w = i < want->n_columns ? &want->columns[i] : NULL;
      g_autofree char *hd = h != NULL ? describe_column (h) : g_strdup ("nothing");
      g_autofree char *wd = w != NULL ? describe_column (w) : g_strdup ("nothing");

      if (h != NULL && w != NULL && strcmp (h->name, w->name) == 0
          && g_ascii_strcasecmp (h->decl_type, w->decl_type) == 0
          && h->pk_index == w->pk_index && h->not_null == w->not_null)
        continue;
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_MISMATCH,
                   "table %s of system %s differs: column %u is %s here but is declared %s; %s",
                   want->name, schema->system, i + 1, hd, wd, hint);
      goto out;
    }
  ok = TRUE;

out:
  table_clear (&have);
  return ok;
}

static gboolean
exec_sql (sqlite3 *db, const char *sql, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;
  g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_DATABASE, "%s", message);
  sqlite3_free (message);
  return FALSE;
}

static gboolean
install_tables (CbSchema *schema, sqlite3 *db, GError **error)
{
  if (!exec_sql (db, rows_table_sql, error))
    return FALSE;
  for (guint i = 0; i < schema->n_tables; i++)
    {
      const CbSchemaTable *table = &schema->tables[i];
      sqlite3_stmt *stmt;
      gboolean exists;

      stmt = prepare_bound (db, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' "
                            "AND name = ?1 COLLATE NOCASE", table->name, error);
      if (stmt == NULL)
        return FALSE;
      exists = sqlite3_step (stmt) == SQLITE_ROW;
      sqlite3_finalize (stmt);
      if (exists ? !compare_installed (schema, db, table, error)
                 : !exec_sql (db, table->create_sql, error))
        {
          if (!exists)
            g_prefix_error (error, "creating table %s of system %s: ", table->name,
                            schema->system);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
cb_schema_install (CbSchema  *schema,
                   sqlite3   *db,
                   GError   **error)
{
  /* A savepoint works inside the caller's transaction or on its own. */
  if (!exec_sql (db, "SAVEPOINT cb_schema_install", error))
    return FALSE;
  if (!install_tables (schema, db, error))
    {
      sqlite3_exec (db, "ROLLBACK TO cb_schema_install; RELEASE cb_schema_install",
                    NULL, NULL, NULL);
      return FALSE;
    }
  return exec_sql (db, "RELEASE cb_schema_install", error);
}

/* ---- reading tables ----------------------------------------------------- */

static char *
select_all_sql (const CbSchemaTable *table)
{
  GString *sql = g_string_new ("SELECT ");

  for (guint i = 0; i < table->n_columns; i++)
    {
      g_autofree char *quoted = cb_schema_quote_identifier (table->columns[i].name);
      g_string_append_printf (sql, "%s%s", i > 0 ? ", " : "", quoted);
    }
  {
    g_autofree char *quoted = cb_schema_quote_identifier (table->name);
    g_string_append_printf (sql, " FROM main.%s ORDER BY ", quoted);
  }
  /* Keys are unique, non-NULL and BINARY: this order is total. */
  for (guint k = 0; k < table->n_pk; k++)
    {
      g_autofree char *quoted =
        cb_schema_quote_identifier (table->columns[table->pk_columns[k]].name);
      g_string_append_printf (sql, "%s%s", k > 0 ? ", " : "", quoted);
    }
  return g_string_free (sql, FALSE);
}

static sqlite3_stmt *
prepare_select_all (sqlite3              *db,
                    const CbSchemaTable  *table,
                    GError              **error)
{
  g_autofree char *sql = select_all_sql (table);
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_DATABASE,
                   "reading table %s: %s", table->name, sqlite3_errmsg (db));
      return NULL;
    }
  return stmt;
}

static void
hash_u64 (crypto_generichash_state *state, guint64 v)
{
  guint64 be = GUINT64_TO_BE (v);
  crypto_generichash_update (state, (const guint8 *) &be, 8);
}

static void
hash_bytes (crypto_generichash_state *state, guint8 tag, const void *data, gsize len)
{
  guint32 be = GUINT32_TO_BE ((guint32) len);

  crypto_generichash_update (state, &tag, 1);
  crypto_generichash_update (state, (const guint8 *) &be, 4);
  if (len > 0)
    crypto_generichash_update (state, data, len);
}

char *
cb_schema_digest (CbSchema  *schema,
                  sqlite3   *db,
                  GError   **error)
{
  static const char domain[] = "cloud-bevy/table-digest/v1";
  crypto_generichash_state state;
  guint8 digest[32];
  char hex[65];

  crypto_generichash_init (&state, NULL, 0, sizeof digest);
  crypto_generichash_update (&state, (const guint8 *) domain, sizeof domain);
  for (guint i = 0; i < schema->n_tables; i++)
    {
      const CbSchemaTable *table = &schema->tables[i];
      sqlite3_stmt *stmt = prepare_select_all (db, table, error);
      guint64 n_rows = 0;
      int rc;

      if (stmt == NULL)
        return NULL;
      hash_bytes (&state, 'T', table->name, strlen (table->name));
      hash_u64 (&state, table->n_columns);
      for (guint c = 0; c < table->n_columns; c++)
        hash_bytes (&state, 'C', table->columns[c].name, strlen (table->columns[c].name));
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          crypto_generichash_update (&state, (const guint8 *) "R", 1);
          for (guint c = 0; c < table->n_columns; c++)
            {
              guint8 tag = (guint8) sqlite3_column_type (stmt, (int) c);

              switch (tag)
                {
                case SQLITE_INTEGER:
                  crypto_generichash_update (&state, &tag, 1);
                  hash_u64 (&state, (guint64) sqlite3_column_int64 (stmt, (int) c));
                  break;
                case SQLITE_FLOAT:
                  {
                    double d = sqlite3_column_double (stmt, (int) c);
                    guint64 bits;

                    memcpy (&bits, &d, 8);
                    crypto_generichash_update (&state, &tag, 1);
                    hash_u64 (&state, bits);
                  }
                  break;
                case SQLITE_TEXT:
                  {
                    const unsigned char *text = sqlite3_column_text (stmt, (int) c);
                    hash_bytes (&state, tag, text, (gsize) sqlite3_column_bytes (stmt, (int) c));
                  }
                  break;
                case SQLITE_BLOB:
                  {
                    const void *blob = sqlite3_column_blob (stmt, (int) c);
                    hash_bytes (&state, tag, blob, (gsize) sqlite3_column_bytes (stmt, (int) c));
                  }
                  break;
                default:
                  tag = SQLITE_NULL;
                  crypto_generichash_update (&state, &tag, 1);
                  break;
                }
            }
          n_rows++;
        }
      sqlite3_finalize (stmt);
      if (rc != SQLITE_DONE)
        {
          g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_DATABASE,
                       "reading table %s: %s", table->name, sqlite3_errmsg (db));
          return NULL;
        }
      crypto_generichash_update (&state, (const guint8 *) "E", 1);
      hash_u64 (&state, n_rows);
    }
  crypto_generichash_final (&state, digest, sizeof digest);
  sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
  return g_strdup (hex);
}

JsonNode *
cb_schema_column_to_json (sqlite3_stmt *stmt,
                          int           column)
{
  JsonNode *node = json_node_alloc ();

  switch (sqlite3_column_type (stmt, column))
    {
    case SQLITE_INTEGER:
      return json_node_init_int (node, sqlite3_column_int64 (stmt, column));
    case SQLITE_FLOAT:
      return json_node_init_double (node, sqlite3_column_double (stmt, column));
    case SQLITE_TEXT:
      {
        const char *text = (const char *) sqlite3_column_text (stmt, column);
        int len = sqlite3_column_bytes (stmt, column);
        g_autofree char *valid = g_utf8_make_valid (text, len);

        return json_node_init_string (node, valid);
      }
    case SQLITE_BLOB:
      {
        const guchar *blob = sqlite3_column_blob (stmt, column);
        g_autofree char *b64 = g_base64_encode (blob, (gsize) sqlite3_column_bytes (stmt, column));
        g_autoptr(JsonObject) object = json_object_new ();

        json_object_set_string_member (object, "$base64", b64);
        return json_node_init_object (node, object);
      }
    default:
      return json_node_init_null (node);
    }
}

JsonNode *
cb_schema_dump_table (CbSchema    *schema,
                      sqlite3     *db,
                      const char  *table_name,
                      GError     **error)
{
  const CbSchemaTable *table = cb_schema_lookup_table (schema, table_name);
  g_autoptr(JsonArray) rows = NULL;
  sqlite3_stmt *stmt;
  int rc;

  if (table == NULL)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_NOT_FOUND,
                   "system %s declares no table %s", schema->system, table_name);
      return NULL;
    }
  stmt = prepare_select_all (db, table, error);
  if (stmt == NULL)
    return NULL;
  rows = json_array_new ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      JsonObject *row = json_object_new ();

      for (guint c = 0; c < table->n_columns; c++)
        json_object_set_member (row, table->columns[c].name,
                                cb_schema_column_to_json (stmt, (int) c));
      json_array_add_object_element (rows, row);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, CB_SCHEMA_ERROR, CB_SCHEMA_ERROR_DATABASE,
                   "reading table %s: %s", table->name, sqlite3_errmsg (db));
      return NULL;
    }
  return json_node_init_array (json_node_alloc (), rows);
}
