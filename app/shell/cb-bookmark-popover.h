/* cb-bookmark-popover.h: edit one bookmark: name, folder, tags, remove
 *
 * Changes are saved when the popover closes (Done, Escape or a click
 * elsewhere), as in other browsers; Remove removes it at once. */
#pragma once

#include <gtk/gtk.h>

#include "cb-bookmarks.h"

G_BEGIN_DECLS

#define CB_TYPE_BOOKMARK_POPOVER (cb_bookmark_popover_get_type ())
G_DECLARE_FINAL_TYPE (CbBookmarkPopover, cb_bookmark_popover, CB, BOOKMARK_POPOVER, GtkPopover)

/* @added: the heading says it was just added (else "Edit Bookmark"). */
GtkWidget *cb_bookmark_popover_new       (CbBookmarks       *bookmarks,
                                          CbBookmark        *bookmark,
                                          gboolean           added);
/* For tests, as if typed and chosen. */
void       cb_bookmark_popover_set_title (CbBookmarkPopover *self,
                                          const char        *title);
void       cb_bookmark_popover_set_tags  (CbBookmarkPopover *self,
                                          const char        *tags);
gboolean   cb_bookmark_popover_set_folder (CbBookmarkPopover *self,
                                           const char        *folder_title);
void       cb_bookmark_popover_remove    (CbBookmarkPopover *self);

G_END_DECLS
