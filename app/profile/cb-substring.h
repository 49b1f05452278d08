/* cb-substring.h: fast substring search for the history's match index */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *cb_find_substring (const char *haystack,
                               gsize       haystack_len,
                               const char *needle,
                               gsize       needle_len);

G_END_DECLS
