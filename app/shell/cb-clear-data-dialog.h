/* cb-clear-data-dialog.h: clear history, cookies, cache by time range */
#pragma once

#include <adwaita.h>

#include "cb-window.h"

G_BEGIN_DECLS

typedef enum {
  CB_CLEAR_LAST_HOUR,
  CB_CLEAR_LAST_DAY,
  CB_CLEAR_LAST_WEEK,
  CB_CLEAR_LAST_4_WEEKS,
  CB_CLEAR_EVERYTHING,
} CbClearRange;

#define CB_TYPE_CLEAR_DATA_DIALOG (cb_clear_data_dialog_get_type ())
G_DECLARE_FINAL_TYPE (CbClearDataDialog, cb_clear_data_dialog, CB, CLEAR_DATA_DIALOG, AdwWindow)

CbClearDataDialog *cb_clear_data_dialog_new       (CbWindow          *window,
                                                   GtkWindow         *parent);
/* For tests: choose as a person would, then press Clear. */
void               cb_clear_data_dialog_set_range (CbClearDataDialog *self,
                                                   CbClearRange       range);
void               cb_clear_data_dialog_set_kinds (CbClearDataDialog *self,
                                                   gboolean           history,
                                                   gboolean           cookies,
                                                   gboolean           cache);

/* µs since the epoch the range starts at, 0 for everything. */
gint64             cb_clear_range_start           (CbClearRange       range,
                                                   gint64             now_us);

G_END_DECLS
