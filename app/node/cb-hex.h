/* cb-hex.h: strict hex encoding for keys and ids */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char     *cb_hex_encode (const guint8 *bytes,
                         gsize         len);
void      cb_hex_encode_into (const guint8 *bytes,
                              gsize         len,
                              char         *out /* 2*len + 1 */);
/* Exactly 2*len lowercase or uppercase hex digits, nothing else. */
gboolean  cb_hex_decode (const char   *text,
                         guint8       *out,
                         gsize         len);

G_END_DECLS
