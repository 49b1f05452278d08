/* cb-changeset.c: stamps, key encoding and the canonical-changeset validator
 *
 * Changesets arrive from other writers: the reader (cb-changeset-reader.c)
 * decodes the bytes, and every op is held to the schema here. */
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

/* 7 bits a byte, low first: short keys cost one length byte. */
static void
append_length (GByteArray *out, guint32 v)
{
  guint8 buf[5];
  guint n = 0;

  do
    {
      buf[n] = (guint8) (v & 0x7f);
      v >>= 7;
      if (v != 0)
        buf[n] |= 0x80;
      n++;
    }
  while (v != 0);
  g_byte_array_append (out, buf, n);
}

gboolean
_cb_changeset_encode_key_value (GByteArray    *out,
                                const CbValue *value)
{
  guint8 tag = value->type;

  switch (tag)
    {
    case SQLITE_INTEGER:
      {
        guint64 be = GUINT64_TO_BE ((guint64) value->v.i);

        g_byte_array_append (out, &tag, 1);
        g_byte_array_append (out, (const guint8 *) &be, 8);
      }
      return TRUE;
    case SQLITE_TEXT:
    case SQLITE_BLOB:
      g_byte_array_append (out, &tag, 1);
      append_length (out, value->len);
      if (value->len > 0)
        g_byte_array_append (out, value->v.bytes, value->len);
      return TRUE;
    default:
      return FALSE;
    }
}

/* ---- values ---------------------------------------------------------------- */

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
                           const CbValue        *value,
                           guint                 op_index,
                           const char           *op_name,
                           GError              **error)
{
  const CbSchemaColumn *col = &table->columns[column];
  gboolean key = col->pk_index > 0;
  int type;
  gboolean ok;

  type = value->type;
  if (type == 0)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u (%s on %s) has no value for column %s; changesets carry whole rows",
                   op_index, op_name, table->name, col->name);
      return FALSE;
    }
  if (type == SQLITE_NULL)
    {
      if (!col->not_null)
        return TRUE;
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u (%s on %s): %scolumn %s is NULL", op_index, op_name, table->name,
                   key ? "key " : "NOT NULL ", col->name);
      return FALSE;
    }
  if (type == SQLITE_FLOAT && isnan (value->v.d))
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
check_op (CbSchema                 *schema,
          const CbChangesetReader  *reader,
          GByteArray               *arena,
          GArray                   *refs,
          GError                  **error)
{
  guint n = reader->n_ops - 1;
  int op = reader->op;
  const char *op_name = op == SQLITE_INSERT ? "INSERT" : op == SQLITE_DELETE ? "DELETE" : "UPDATE";
  const CbValue *values = op == SQLITE_INSERT ? reader->new_values : reader->old_values;
  const CbSchemaTable *table;
  KeyRef ref;

  if (op == SQLITE_UPDATE)
    {
      g_autofree char *valid = g_utf8_make_valid (reader->table, -1);

      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u is an UPDATE of table %s; changesets carry whole rows "
                   "(INSERT or DELETE)", n, valid);
      return FALSE;
    }
  table = cb_schema_lookup_table (schema, reader->table);
  if (table == NULL)
    {
      g_autofree char *valid = g_utf8_make_valid (reader->table, -1);

      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u (%s) names table \"%s\", which system %s does not declare", n,
                   op_name, valid, cb_schema_get_system (schema));
      return FALSE;
    }
  if (reader->n_columns != table->n_columns)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                   "op %u (%s on %s) has %u columns; the table has %u", n, op_name,
                   table->name, reader->n_columns, table->n_columns);
      return FALSE;
    }
  /* sqlite3session writes each key column's place in the key; 1 for every
   * key column is accepted too. */
  for (guint c = 0; c < table->n_columns; c++)
    {
      guint place = reader->key_places[c];

      if ((place != 0) != (table->columns[c].pk_index > 0)
          || (place > 1 && place != table->columns[c].pk_index))
        {
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_INVALID,
                       "op %u (%s on %s) puts column %s at place %u of the primary key; "
                       "the table has it at %u (0: not in the key)", n, op_name, table->name,
                       table->columns[c].name, place, table->columns[c].pk_index);
          return FALSE;
        }
    }

  for (guint c = 0; c < table->n_columns; c++)
    {
      /* A DELETE's other old values do not matter. */
      if (op == SQLITE_DELETE && table->columns[c].pk_index == 0)
        continue;
      if (!_cb_changeset_check_value (table, c, &values[c], n, op_name, error))
        return FALSE;
    }

  /* The row's identity, to find a second op on it. */
  ref.offset = arena->len;
  ref.op_index = n;
  g_byte_array_append (arena, (const guint8 *) &(guint8) { (guint8) table->index }, 1);
  for (guint k = 0; k < table->n_pk; k++)
    _cb_changeset_encode_key_value (arena, &values[table->pk_columns[k]]);  /* checked above */
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
  CbChangesetReader reader;
  g_autoptr(GByteArray) arena = NULL;
  g_autoptr(GArray) refs = NULL;
  gboolean has_op = TRUE;
  gboolean ok = TRUE;

  if (n_ops_out != NULL)
    *n_ops_out = 0;
  if (len > CB_CHANGESET_MAX_BYTES)
    {
      g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE,
                   "a changeset of %" G_GSIZE_FORMAT " bytes; at most %d are accepted", len,
                   CB_CHANGESET_MAX_BYTES);
      return FALSE;
    }

  arena = g_byte_array_new ();
  refs = g_array_new (FALSE, FALSE, sizeof (KeyRef));
  _cb_changeset_reader_init (&reader);
  _cb_changeset_reader_reset (&reader, data, len);
  while (ok && (ok = _cb_changeset_reader_next (&reader, &has_op, error)) && has_op)
    {
      if (reader.n_ops > CB_CHANGESET_MAX_OPS)
        {
          g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_TOO_LARGE,
                       "a changeset with more than %d ops; split the write",
                       CB_CHANGESET_MAX_OPS);
          ok = FALSE;
        }
      else
        ok = check_op (schema, &reader, arena, refs, error);
    }
  _cb_changeset_reader_clear (&reader);
  if (!ok)
    return FALSE;

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
    *n_ops_out = refs->len;
  return TRUE;
}
