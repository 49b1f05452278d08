/* cb-bookmarks-dialog.h: the bookmarks page: folders, tags, search,
 * import and export */
#pragma once

#include <adwaita.h>

#include "cb-window.h"

G_BEGIN_DECLS

#define CB_TYPE_BOOKMARKS_DIALOG (cb_bookmarks_dialog_get_type ())
G_DECLARE_FINAL_TYPE (CbBookmarksDialog, cb_bookmarks_dialog, CB, BOOKMARKS_DIALOG, AdwWindow)

CbBookmarksDialog *cb_bookmarks_dialog_new         (CbWindow          *window);
void               cb_bookmarks_dialog_open_folder (CbBookmarksDialog *self,
                                                    const char        *guid);
/* What the file choosers do once a file is chosen (also for tests). */
void               cb_bookmarks_dialog_import_file_async  (CbBookmarksDialog   *self,
                                                           GFile               *file,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
/* How many bookmarks were added, or -1 with @error. */
gssize             cb_bookmarks_dialog_import_file_finish (CbBookmarksDialog   *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
void               cb_bookmarks_dialog_export_file_async  (CbBookmarksDialog   *self,
                                                           GFile               *file,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean           cb_bookmarks_dialog_export_file_finish (CbBookmarksDialog   *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
/* For tests: the rows' titles; searching; filtering; activating a row. */
GStrv              cb_bookmarks_dialog_get_shown   (CbBookmarksDialog *self);
void               cb_bookmarks_dialog_set_search  (CbBookmarksDialog *self,
                                                    const char        *text);
gboolean           cb_bookmarks_dialog_set_tag     (CbBookmarksDialog *self,
                                                    const char        *tag);
void               cb_bookmarks_dialog_activate    (CbBookmarksDialog *self,
                                                    const char        *title);

G_END_DECLS
