/* cb-bookmark.h: one bookmark or folder of CbBookmarks
 *
 * Items are identified by a random GUID that never changes, so moves,
 * renames and imports never confuse two of them.  Change them only through
 * CbBookmarks, which saves every change; the getters are for everyone. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define CB_TYPE_BOOKMARK (cb_bookmark_get_type ())
G_DECLARE_FINAL_TYPE (CbBookmark, cb_bookmark, CB, BOOKMARK, GObject)

const char         *cb_bookmark_get_guid      (CbBookmark *self);
gboolean            cb_bookmark_is_folder     (CbBookmark *self);
const char         *cb_bookmark_get_url       (CbBookmark *self);  /* NULL for folders */
const char         *cb_bookmark_get_title     (CbBookmark *self);
/* The folder it is in; NULL at the top level. */
const char         *cb_bookmark_get_parent    (CbBookmark *self);
const char * const *cb_bookmark_get_tags      (CbBookmark *self);  /* never NULL */
gint64              cb_bookmark_get_added     (CbBookmark *self);  /* µs since the epoch */
gint64              cb_bookmark_get_modified  (CbBookmark *self);
int                 cb_bookmark_get_position  (CbBookmark *self);
gboolean            cb_bookmark_has_tag       (CbBookmark *self,
                                               const char *tag);

G_END_DECLS
