/* cb-bookmarks.h: the profile's bookmarks, in folders, with tags
 *
 * All bookmarks are kept in memory (people have hundreds, not millions),
 * so the address bar and the star ask without waiting; every change is
 * saved at once, in order, by the bookmarks database's worker thread.  The
 * store loads itself when created and emits "changed" once loaded and
 * after every change. */
#pragma once

#include <gio/gio.h>

#include "cb-bookmark.h"
#include "cb-profile-db.h"

G_BEGIN_DECLS

#define CB_TYPE_BOOKMARKS (cb_bookmarks_get_type ())
G_DECLARE_FINAL_TYPE (CbBookmarks, cb_bookmarks, CB, BOOKMARKS, GObject)

/* @path NULL: kept in memory only. */
CbBookmarks *cb_bookmarks_new            (const char          *path);
CbProfileDb *cb_bookmarks_get_db         (CbBookmarks         *self);
gboolean     cb_bookmarks_is_loaded      (CbBookmarks         *self);

CbBookmark  *cb_bookmarks_add            (CbBookmarks         *self,
                                          const char          *url,
                                          const char          *title,
                                          const char          *parent,
                                          const char * const  *tags);
CbBookmark  *cb_bookmarks_add_folder     (CbBookmarks         *self,
                                          const char          *title,
                                          const char          *parent);
/* Changes a bookmark: NULL @url or @title keep the current one, @tags
 * NULL keeps the tags. */
void         cb_bookmarks_update         (CbBookmarks         *self,
                                          CbBookmark          *bookmark,
                                          const char          *url,
                                          const char          *title,
                                          const char * const  *tags);
/* Moves into @parent (NULL: the top level), at the end. */
gboolean     cb_bookmarks_move           (CbBookmarks         *self,
                                          CbBookmark          *bookmark,
                                          const char          *parent,
                                          GError             **error);
/* A folder goes with everything in it. */
void         cb_bookmarks_remove         (CbBookmarks         *self,
                                          CbBookmark          *bookmark);

CbBookmark  *cb_bookmarks_get            (CbBookmarks         *self,
                                          const char          *guid);
/* The first bookmark of @url, or NULL. */
CbBookmark  *cb_bookmarks_lookup_url     (CbBookmarks         *self,
                                          const char          *url);
/* Items directly in @parent (NULL: the top level), folders first, then
 * in their order.  Result: CbBookmark*, referenced. */
GPtrArray   *cb_bookmarks_list           (CbBookmarks         *self,
                                          const char          *parent);
/* Every folder, depth first, for choosers. */
GPtrArray   *cb_bookmarks_list_folders   (CbBookmarks         *self);
/* Bookmarks (not folders) whose title, address, tags or folder name
 * contain every word of @text, case-insensitively; with @tag, only those
 * with that tag.  Sorted by title. */
GPtrArray   *cb_bookmarks_search         (CbBookmarks         *self,
                                          const char          *text,
                                          const char          *tag);
/* Every tag in use, sorted. */
GStrv        cb_bookmarks_list_tags      (CbBookmarks         *self);
guint        cb_bookmarks_count          (CbBookmarks         *self);

/* Merges an HTML bookmarks file: folders of the same name at the same
 * place are merged, a bookmark already in its folder is not added twice.
 * Returns how many bookmarks were added; @skipped counts addresses that
 * cannot be bookmarked (javascript: and the like). */
guint        cb_bookmarks_import_html    (CbBookmarks         *self,
                                          const char          *data,
                                          gsize                len,
                                          guint               *skipped,
                                          GError             **error);
char        *cb_bookmarks_export_html    (CbBookmarks         *self);

/* Completes when everything changed so far is on disk. */
void         cb_bookmarks_flush_async    (CbBookmarks         *self,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean     cb_bookmarks_flush_finish   (CbBookmarks         *self,
                                          GAsyncResult        *result,
                                          GError             **error);

G_END_DECLS
