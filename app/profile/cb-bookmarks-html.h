/* cb-bookmarks-html.h: the "Netscape" HTML bookmarks file
 *
 * Every browser imports and exports this format: a <DL> list of <DT><A
 * HREF=…> bookmarks and <DT><H3> folders followed by their own <DL>.  The
 * parser reads files from elsewhere, so it is a checked decoder: it
 * accepts the loose HTML real exports contain (missing end tags, any case,
 * <p> noise, entities) but refuses what is not such a file at all, is not
 * UTF-8, nests too deep or holds too much, with a message naming the
 * problem and where it is. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_BOOKMARKS_HTML_MAX_DEPTH 32
#define CB_BOOKMARKS_HTML_MAX_ITEMS 200000
#define CB_BOOKMARKS_HTML_MAX_BYTES (64 * 1024 * 1024)

typedef struct _CbBookmarksHtmlItem CbBookmarksHtmlItem;

struct _CbBookmarksHtmlItem {
  gboolean   is_folder;
  char      *title;
  char      *url;       /* bookmarks only */
  char      *tags;      /* comma-separated, as in Firefox's TAGS attribute; may be NULL */
  gint64     added;     /* µs since the epoch; 0 if the file did not say */
  GPtrArray *children;  /* folders only: CbBookmarksHtmlItem* */
};

CbBookmarksHtmlItem *cb_bookmarks_html_item_new_folder (const char          *title);
CbBookmarksHtmlItem *cb_bookmarks_html_item_new        (const char          *title,
                                                        const char          *url,
                                                        const char          *tags,
                                                        gint64               added);
void                 cb_bookmarks_html_item_free       (CbBookmarksHtmlItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbBookmarksHtmlItem, cb_bookmarks_html_item_free)

/* Returns the top-level folder (untitled) holding everything in the
 * file.  Bookmarks whose address is not http(s), ftp or file (javascript:
 * "bookmarklets", data: …) are left out and counted in @skipped. */
CbBookmarksHtmlItem *cb_bookmarks_html_parse (const char  *data,
                                              gsize        len,
                                              guint       *skipped,
                                              GError     **error);

/* Counts bookmarks (not folders) below @root. */
guint                cb_bookmarks_html_count (const CbBookmarksHtmlItem *root);

/* The file for @root's children. */
char                *cb_bookmarks_html_write (const CbBookmarksHtmlItem *root);

G_END_DECLS
