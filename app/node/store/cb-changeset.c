/* cb-changeset.c: stamps and the canonical-changeset validator
 *
 * Changesets arrive from other writers: this is the checked decoder.  The
 * bytes are parsed by SQLite's changeset iterator (bounds-checked; it
 * reports SQLITE_CORRUPT on truncation or garbage), then every op is held
 * to the schema. */
#define G_LOG_DOMAIN "cb-changeset"

#include "cb-changeset-private.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (cb-changeset-error-quark, cb_changeset_error)

int
cb_stamp_compare (const CbStamp *a,
                  const CbStamp *b)
{
  if (a->hlc != b->hlc)
    return a->hlc < b->hlc ? -1 : 1;
  return memcmp (a->writer, b->writer, sizeof a->writer);
}

static void
append_u32 (GByteArray *out, guint32 v)
{
  guint32 be = GUINT32_TO_BE (v);
  g_byte_array_append (out, (const guint8 *) &be, 4);
}

gboolean
_cb_changeset_encode_key_value (GByteArray    *out,
                                sqlite3_value *value)
{
  guint8 tag;

  if (value == NULL)
    return FALSE;
  tag = (guint8) sqlite3_value_type (value);
  switch (tag)
    {
    case SQLITE_INTEGER:
      {
        guint64 be = GUINT64_TO_BE ((guint64) sqlite3_value_int64 (value));

        g_byte_array_append (out, &tag, 1);
        g_byte_array_append (out, (const guint8 *) &be, 8);
      }
      return TRUE;
    case SQLITE_TEXT:
      {
        const guint8 *text = sqlite3_value_text (value);
        int len = sqlite3_value_bytes (value);

        g_byte_array_append (out, &tag, 1);
        append_u32 (out, (guint32) len);
        if (len > 0)
          g_byte_array_append (out, text, (guint) len);
      }
      return TRUE;
    case SQLITE_BLOB:
      {
        const guint8 *blob = sqlite3_value_blob (value);
        int len = sqlite3_value_bytes (value);

        g_byte_array_append (out, &tag, 1);
        append_u32 (out, (guint32) len);
        if (len > 0)
          g_byte_array_append (out, blob, (guint) len);
      }
      return TRUE;
    default:
      return FALSE;
    }
}

static const char *
type_name (int type)
{
  switch (type)
    {
    case SQLITE_INTEGER: return "an INTEGER";
    case SQLITE_FLOAT: return "a REAL";
    case SQLITE_TEXT: return "a TEXT";
    case SQLITE_BLOB: return "a BLOB";
    default: return "a NULL";
    }
}

gboolean
_cb_changeset_check_value (const CbSchemaTable  *table,
                           guint                 column,
                           sqlite3_value        *value,
                           guint                 op_index,
                           const char           *op_name,
                           GError              **error)
{
  const CbSchemaColumn *col = &table->columns[column];
  gboolean key = col->pk_index > 0;
  int type;
  gboolean ok;

  if (value == NULL)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u (%s on %s) has no value for column %s; changesets carry whole rows",
                   op_index, op_name, table->name, col->name);
      return FALSE;
    }
  type = sqlite3_value_type (value);
  if (type == SQLITE_NULL)
    {
      if (!col->not_null)
        return TRUE;
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u (%s on %s): %scolumn %s is NULL", op_index, op_name, table->name,
                   key ? "key " : "NOT NULL ", col->name);
      return FALSE;
    }
  if (type == SQLITE_FLOAT && isnan (sqlite3_value_double (value)))
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u (%s on %s): column %s is NaN", op_index, op_name, table->name,
                   col->name);
      return FALSE;
    }

  if (key)
    {
      /* Only types the column stores unchanged: otherwise 1 and '1' would
       * be two encodings of one row. */
      switch (col->affinity)
        {
        case CB_SCHEMA_AFFINITY_INTEGER:
        case CB_SCHEMA_AFFINITY_NUMERIC:
          ok = type == SQLITE_INTEGER;
          break;
        case CB_SCHEMA_AFFINITY_TEXT:
          ok = type == SQLITE_TEXT;
          break;
        case CB_SCHEMA_AFFINITY_NONE:
          ok = type != SQLITE_FLOAT;
          break;
        default:
          ok = FALSE;
          break;
        }
    }
  else if (table->strict)
    {
      switch (col->affinity)
        {
        case CB_SCHEMA_AFFINITY_INTEGER:
          ok = type == SQLITE_INTEGER;
          break;
        case CB_SCHEMA_AFFINITY_REAL:
          ok = type == SQLITE_FLOAT || type == SQLITE_INTEGER;
          break;
        case CB_SCHEMA_AFFINITY_TEXT:
          ok = type == SQLITE_TEXT;
          break;
        default:  /* BLOB or ANY */
          ok = g_ascii_strcasecmp (col->decl_type, "ANY") == 0 || type == SQLITE_BLOB;
          break;
        }
    }
  else
    ok = TRUE;  /* affinity converts deterministically: every replica stores the same */

  if (!ok)
    g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                 "op %u (%s on %s): %scolumn %s (%s) cannot hold %s value", op_index,
                 op_name, table->name, key ? "key " : "", col->name,
                 col->decl_type[0] != '\0' ? col->decl_type : "untyped", type_name (type));
  return ok;
}

typedef struct {
  guint32 offset;
  guint32 len;
  guint32 op_index;
} KeyRef;

static int
key_ref_compare (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  const KeyRef *x = a, *y = b;
  const guint8 *arena = user_data;
  int c = memcmp (arena + x->offset, arena + y->offset, MIN (x->len, y->len));

  if (c != 0)
    return c;
  if (x->len != y->len)
    return x->len < y->len ? -1 : 1;
  return x->op_index < y->op_index ? -1 : 1;
}

static gboolean
check_op (CbSchema                *schema,
          sqlite3_changeset_iter  *iter,
          guint                    n,
          GByteArray              *arena,
          GArray                  *refs,
          GError                 **error)
{
  const char *name = NULL;
  int n_columns = 0, op = 0, indirect = 0, n_pk_flags = 0;
  unsigned char *pk_flags = NULL;
  const CbSchemaTable *table;
  const char *op_name;
  KeyRef ref;

  if (sqlite3changeset_op (iter, &name, &n_columns, &op, &indirect) != SQLITE_OK
      || sqlite3changeset_pk (iter, &pk_flags, &n_pk_flags) != SQLITE_OK)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED,
                   "op %u cannot be read", n);
      return FALSE;
    }
  op_name = op == SQLITE_INSERT ? "INSERT" : op == SQLITE_DELETE ? "DELETE" : "UPDATE";
  if (op == SQLITE_UPDATE)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u is an UPDATE of table %s; changesets carry whole rows "
                   "(INSERT or DELETE)", n, name);
      return FALSE;
    }
  if (op != SQLITE_INSERT && op != SQLITE_DELETE)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED,
                   "op %u has unknown kind %d", n, op);
      return FALSE;
    }
  table = cb_schema_lookup_table (schema, name);
  if (table == NULL)
    {
      g_autofree char *valid = g_utf8_make_valid (name, -1);

      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u (%s) names table \"%s\", which system %s does not declare", n,
                   op_name, valid, cb_schema_get_system (schema));
      return FALSE;
    }
  if (n_columns < 0 || (guint) n_columns != table->n_columns || n_pk_flags != n_columns)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u (%s on %s) has %d columns; the table has %u", n, op_name,
                   table->name, n_columns, table->n_columns);
      return FALSE;
    }
  for (guint c = 0; c < table->n_columns; c++)
    if ((pk_flags[c] != 0) != (table->columns[c].pk_index > 0))
      {
        g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                     "op %u (%s on %s) %s column %s in the primary key; the table %s", n,
                     op_name, table->name, pk_flags[c] != 0 ? "puts" : "leaves",
                     table->columns[c].name,
                     pk_flags[c] != 0 ? "does not" : "does");
        return FALSE;
      }

  for (guint c = 0; c < table->n_columns; c++)
    {
      sqlite3_value *value = NULL;

      /* A DELETE's other old values do not matter. */
      if (op == SQLITE_DELETE && table->columns[c].pk_index == 0)
        continue;
      if (op == SQLITE_INSERT)
        sqlite3changeset_new (iter, (int) c, &value);
      else
        sqlite3changeset_old (iter, (int) c, &value);
      if (!_cb_changeset_check_value (table, c, value, n, op_name, error))
        return FALSE;
    }

  /* The row's identity, to find a second op on it. */
  ref.offset = arena->len;
  ref.op_index = n;
  g_byte_array_append (arena, (const guint8 *) &(guint8) { (guint8) table->index }, 1);
  for (guint k = 0; k < table->n_pk; k++)
    {
      sqlite3_value *value = NULL;

      if (op == SQLITE_INSERT)
        sqlite3changeset_new (iter, (int) table->pk_columns[k], &value);
      else
        sqlite3changeset_old (iter, (int) table->pk_columns[k], &value);
      _cb_changeset_encode_key_value (arena, value);  /* checked above */
    }
  ref.len = arena->len - ref.offset;
  g_array_append_val (refs, ref);
  return TRUE;
}

gboolean
cb_changeset_validate (CbSchema      *schema,
                       const guint8  *data,
                       gsize          len,
                       guint         *n_ops_out,
                       GError       **error)
{
  sqlite3_changeset_iter *iter = NULL;
  g_autoptr(GByteArray) arena = NULL;
  g_autoptr(GArray) refs = NULL;
  guint n = 0;
  int rc;

  if (n_ops_out != NULL)
    *n_ops_out = 0;
  if (len > CB_CHANGESET_MAX_BYTES)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE,
                   "a changeset of %" G_GSIZE_FORMAT " bytes; at most %d are accepted", len,
                   CB_CHANGESET_MAX_BYTES);
      return FALSE;
    }
  if (len == 0)
    return TRUE;
  if (sqlite3changeset_start (&iter, (int) len, (void *) data) != SQLITE_OK)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED,
                   "not a changeset");
      return FALSE;
    }

  arena = g_byte_array_new ();
  refs = g_array_new (FALSE, FALSE, sizeof (KeyRef));
  while ((rc = sqlite3changeset_next (iter)) == SQLITE_ROW)
    {
      if (n >= CB_CHANGESET_MAX_OPS)
        {
          sqlite3changeset_finalize (iter);
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE,
                       "a changeset with more than %d ops; split the write",
                       CB_CHANGESET_MAX_OPS);
          return FALSE;
        }
      if (!check_op (schema, iter, n, arena, refs, error))
        {
          sqlite3changeset_finalize (iter);
          return FALSE;
        }
      n++;
    }
  sqlite3changeset_finalize (iter);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED,
                   "the changeset is malformed after %u good ops (%s)", n, sqlite3_errstr (rc));
      return FALSE;
    }

  g_array_sort_with_data (refs, key_ref_compare, arena->data);
  for (guint i = 1; i < refs->len; i++)
    {
      const KeyRef *a = &g_array_index (refs, KeyRef, i - 1);
      const KeyRef *b = &g_array_index (refs, KeyRef, i);

      if (a->len == b->len && memcmp (arena->data + a->offset, arena->data + b->offset,
                                      a->len) == 0)
        {
          const CbSchemaTable *table = cb_schema_get_table (schema, arena->data[a->offset]);

          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                       "ops %u and %u both change one row of table %s; a changeset holds "
                       "at most one op per row", MIN (a->op_index, b->op_index),
                       MAX (a->op_index, b->op_index), table->name);
          return FALSE;
        }
    }
  if (n_ops_out != NULL)
    *n_ops_out = n;
  return TRUE;
}
