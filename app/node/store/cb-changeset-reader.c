/* cb-changeset-reader.c: the checked decoder of changeset bytes
 *
 * The format is in cb-changeset-private.h.  Changesets come from other
 * writers: every read is bounds-checked, unknown tags are refused, and a
 * fault is reported with the op and byte it was found at. */
#define G_LOG_DOMAIN "cb-changeset"

#include "cb-changeset-private.h"

#include <string.h>

void
_cb_changeset_reader_init (CbChangesetReader *reader)
{
  memset (reader, 0, sizeof *reader);
}

void
_cb_changeset_reader_reset (CbChangesetReader *reader,
                            const guint8      *data,
                            gsize              len)
{
  reader->start = data;
  reader->p = data;
  reader->end = data + len;
  reader->table = NULL;
  reader->n_columns = 0;
  reader->key_places = NULL;
  reader->op = 0;
  reader->n_ops = 0;
}

void
_cb_changeset_reader_clear (CbChangesetReader *reader)
{
  g_free (reader->old_values);
  g_free (reader->new_values);
  memset (reader, 0, sizeof *reader);
}

static gboolean
read_varint (CbChangesetReader *r, guint64 *out)
{
  guint64 v = 0;

  for (guint i = 0; i < 9; i++)
    {
      guint8 b;

      if (r->p >= r->end)
        return FALSE;
      b = *r->p++;
      if (i == 0 && b == 0x80)
        return FALSE;  /* not minimal */
      if (i == 8)
        {
          *out = (v << 8) | b;
          return TRUE;
        }
      v = (v << 7) | (b & 0x7f);
      if ((b & 0x80) == 0)
        {
          *out = v;
          return TRUE;
        }
    }
  return FALSE;
}

static guint64
read_be64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return GUINT64_FROM_BE (v);
}

static gboolean
read_values (CbChangesetReader *r, CbValue *values)
{
  for (guint c = 0; c < r->n_columns; c++)
    {
      CbValue *value = &values[c];
      guint64 n;

      if (r->p >= r->end)
        return FALSE;
      value->type = *r->p++;
      switch (value->type)
        {
        case 0:
        case SQLITE_NULL:
          break;
        case SQLITE_INTEGER:
        case SQLITE_FLOAT:
          if (r->end - r->p < 8)
            return FALSE;
          if (value->type == SQLITE_INTEGER)
            value->v.i = (gint64) read_be64 (r->p);
          else
            {
              guint64 bits = read_be64 (r->p);
              memcpy (&value->v.d, &bits, 8);
            }
          r->p += 8;
          break;
        case SQLITE_TEXT:
        case SQLITE_BLOB:
          if (!read_varint (r, &n) || n > (guint64) (r->end - r->p))
            return FALSE;
          value->v.bytes = r->p;
          value->len = (guint32) n;
          r->p += n;
          break;
        default:
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
fail (CbChangesetReader *r, gboolean in_op, const char *why, GError **error)
{
  gsize at = (gsize) (r->p - r->start), len = (gsize) (r->end - r->start);

  if (in_op)
    g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED,
                 "not a well-formed changeset: op %u has %s (byte %" G_GSIZE_FORMAT
                 " of %" G_GSIZE_FORMAT ")", r->n_ops, why, at, len);
  else
    g_set_error (error, CB_CHANGESET_ERROR, CB_CHANGESET_ERROR_MALFORMED,
                 "not a well-formed changeset: %s at byte %" G_GSIZE_FORMAT " of %"
                 G_GSIZE_FORMAT, why, at, len);
  return FALSE;
}

static gboolean
read_table_header (CbChangesetReader *r, GError **error)
{
  guint64 n_columns;
  const guint8 *nul;

  if (!read_varint (r, &n_columns) || n_columns == 0 || n_columns > CB_CHANGESET_MAX_COLUMNS)
    return fail (r, FALSE, "a table header with a bad column count", error);
  if ((guint64) (r->end - r->p) < n_columns)
    return fail (r, FALSE, "a truncated table header", error);
  for (guint c = 0; c < n_columns; c++)
    if (r->p[c] > n_columns)
      return fail (r, FALSE, "a table header with a bad key flag", error);
  r->key_places = r->p;
  r->p += n_columns;
  nul = memchr (r->p, 0, (gsize) (r->end - r->p));
  if (nul == NULL || nul == r->p)
    return fail (r, FALSE, "a table header without a name", error);
  r->table = (const char *) r->p;
  r->p = nul + 1;
  if (r->p >= r->end || *r->p == 'T' || *r->p == 'P')
    return fail (r, FALSE, "a table header without ops", error);

  r->n_columns = (guint) n_columns;
  if (r->capacity < r->n_columns)
    {
      r->capacity = MAX (r->n_columns, 16);
      r->old_values = g_renew (CbValue, r->old_values, r->capacity);
      r->new_values = g_renew (CbValue, r->new_values, r->capacity);
    }
  return TRUE;
}

gboolean
_cb_changeset_reader_next (CbChangesetReader  *r,
                           gboolean           *has_op,
                           GError            **error)
{
  guint8 tag;

  *has_op = FALSE;
  if (r->p >= r->end)
    return TRUE;
  tag = *r->p++;
  if (tag == 'T')
    {
      if (!read_table_header (r, error))
        return FALSE;
      tag = *r->p++;  /* an op follows: checked above */
    }
  else if (tag == 'P')
    return fail (r, FALSE, "a patchset (changesets carry whole rows)", error);
  else if (r->table == NULL)
    return fail (r, FALSE, "an op before any table header", error);

  if (tag != SQLITE_INSERT && tag != SQLITE_DELETE && tag != SQLITE_UPDATE)
    return fail (r, FALSE, "an unknown op", error);
  if (r->p >= r->end || *r->p > 1)
    return fail (r, TRUE, "a bad indirect flag", error);
  r->p++;
  r->op = tag;
  if ((tag != SQLITE_INSERT && !read_values (r, r->old_values))
      || (tag != SQLITE_DELETE && !read_values (r, r->new_values)))
    return fail (r, TRUE, "truncated or unknown values", error);
  r->n_ops++;
  *has_op = TRUE;
  return TRUE;
}
