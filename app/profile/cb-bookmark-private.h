/* cb-bookmark-private.h: what CbBookmarks uses to build and change items */
#pragma once

#include "cb-bookmark.h"

G_BEGIN_DECLS

struct _CbBookmark {
  GObject parent_instance;
  char *guid;
  gboolean is_folder;
  char *url;
  char *title;
  char *parent;
  char **tags;
  gint64 added;
  gint64 modified;
  int position;
};

CbBookmark *_cb_bookmark_new      (const char         *guid,
                                   gboolean            is_folder,
                                   const char         *url,
                                   const char         *title,
                                   const char         *parent,
                                   const char * const *tags,
                                   gint64              added,
                                   gint64              modified,
                                   int                 position);
void        _cb_bookmark_set      (CbBookmark         *self,
                                   const char         *url,
                                   const char         *title,
                                   const char         *parent,
                                   const char * const *tags,
                                   int                 position);
/* "a, b,,c " -> {"a", "b", "c"}; and back, comma-separated. */
char      **_cb_bookmark_split_tags (const char       *text);
char       *_cb_bookmark_join_tags  (const char * const *tags);

G_END_DECLS
