/* cb-changeset-private.h: what the validator, builder and materialiser share */
#pragma once

#include "cb-changeset.h"

G_BEGIN_DECLS

/* Appends the canonical encoding of one key value to out: a type tag, then
 * 8 big-endian bytes (INTEGER) or a 4-byte big-endian length and the bytes
 * (TEXT, BLOB).  FALSE, appending nothing, for values no key may hold
 * (missing, NULL, REAL). */
gboolean _cb_changeset_encode_key_value (GByteArray    *out,
                                         sqlite3_value *value);

/* Whether the value may stand in the column as it is: types the column's
 * affinity would convert are refused for keys (two encodings of one row)
 * and, in STRICT tables, for every column. */
gboolean _cb_changeset_check_value      (const CbSchemaTable  *table,
                                         guint                 column,
                                         sqlite3_value        *value,
                                         guint                 op_index,
                                         const char           *op_name,
                                         GError              **error);

G_END_DECLS
