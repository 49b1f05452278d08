/* cb-changeset-private.h: what the reader, validator, builder and
 * materialiser share */
#pragma once

#include "cb-changeset.h"

G_BEGIN_DECLS

/* One value of a record, pointing into the changeset's bytes. */
typedef struct {
  guint8        type;   /* 0: undefined, else SQLITE_INTEGER … SQLITE_NULL */
  guint32       len;    /* TEXT, BLOB */
  union {
    gint64        i;
    double        d;
    const guint8 *bytes;
  } v;
} CbValue;

/* The checked decoder of the changeset format (cb-changeset-reader.c):
 *
 *   changeset := table+
 *   table     := 'T' varint(n_columns) key_place{n_columns} name '\0' record+
 *                (key_place: 0, or the column's 1-based place in the key)
 *   record    := op(INSERT 18 | DELETE 9 | UPDATE 23) indirect(0|1) values
 *                (UPDATE: two value lists, old then new)
 *   value     := 0 (undefined) | 5 (NULL) | 1 int64-be | 2 double-be
 *              | 3 varint(n) utf8{n} | 4 varint(n) bytes{n}
 *
 * varints are SQLite's (7 bits a byte, big-endian, the 9th byte 8 bits),
 * minimally encoded, as sqlite3session writes them.  Every length is
 * checked against the end; nothing is copied or allocated per op.  SQLite's
 * own iterator is not used on untrusted bytes: in 3.40 it spins forever on
 * a zero-column table header. */
typedef struct {
  const guint8 *start;
  const guint8 *p;
  const guint8 *end;
  /* The current table. */
  const char   *table;
  guint         n_columns;
  const guint8 *key_places;
  /* The current op. */
  int           op;            /* SQLITE_INSERT, _DELETE or _UPDATE */
  CbValue      *old_values;    /* DELETE, UPDATE */
  CbValue      *new_values;    /* INSERT, UPDATE */
  guint         n_ops;         /* ops read so far */
  guint         capacity;
} CbChangesetReader;

void     _cb_changeset_reader_init  (CbChangesetReader *reader);
/* Starts on new bytes, keeping the value buffers. */
void     _cb_changeset_reader_reset (CbChangesetReader *reader,
                                     const guint8      *data,
                                     gsize              len);
/* TRUE with *has_op FALSE at the end; FALSE with a MALFORMED error. */
gboolean _cb_changeset_reader_next  (CbChangesetReader *reader,
                                     gboolean          *has_op,
                                     GError           **error);
void     _cb_changeset_reader_clear (CbChangesetReader *reader);

/* Appends the canonical encoding of one key value to out (_cb_rows.pk is
 * the key values' encodings in key order): a type tag (SQLITE_INTEGER,
 * _TEXT, _BLOB), then 8 big-endian bytes (INTEGER) or the length (7 bits a
 * byte, least significant first, high bit = more) and the bytes (TEXT,
 * BLOB).  Each value's encoding is self-delimiting, so the whole is
 * unambiguous.  FALSE, appending nothing, for values no key may hold
 * (undefined, NULL, REAL). */
gboolean _cb_changeset_encode_key_value (GByteArray     *out,
                                         const CbValue  *value);

/* Whether the value may stand in the column as it is: types the column's
 * affinity would convert are refused for keys (two encodings of one row)
 * and, in STRICT tables, for every column. */
gboolean _cb_changeset_check_value      (const CbSchemaTable  *table,
                                         guint                 column,
                                         const CbValue        *value,
                                         guint                 op_index,
                                         const char           *op_name,
                                         GError              **error);

G_END_DECLS
