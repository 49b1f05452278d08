/* cb-history-dialog.h: the history page: search, open, delete */
#pragma once

#include <adwaita.h>

#include "cb-window.h"

G_BEGIN_DECLS

#define CB_TYPE_HISTORY_DIALOG (cb_history_dialog_get_type ())
G_DECLARE_FINAL_TYPE (CbHistoryDialog, cb_history_dialog, CB, HISTORY_DIALOG, AdwWindow)

CbHistoryDialog *cb_history_dialog_new         (CbWindow        *window);
/* What is listed, for tests: the pages' addresses. */
GStrv            cb_history_dialog_get_shown   (CbHistoryDialog *self);
gboolean         cb_history_dialog_is_loading  (CbHistoryDialog *self);
void             cb_history_dialog_set_search  (CbHistoryDialog *self,
                                                const char      *text);
/* Selects the rows of these addresses (for tests and keyboard users). */
void             cb_history_dialog_select      (CbHistoryDialog *self,
                                                const char      *url);

G_END_DECLS
