/* cb-downloads-popover.h: the downloads list behind the header bar button
 *
 * One row per download: its name, a progress bar while it runs, what
 * happened, and the buttons that make sense now: Cancel while running,
 * Retry after a failure or cancellation, Open and Show in Folder once
 * finished. */
#pragma once

#include <gtk/gtk.h>

#include "cb-download-manager.h"

G_BEGIN_DECLS

#define CB_TYPE_DOWNLOADS_POPOVER (cb_downloads_popover_get_type ())
G_DECLARE_FINAL_TYPE (CbDownloadsPopover, cb_downloads_popover, CB, DOWNLOADS_POPOVER, GtkPopover)

GtkWidget *cb_downloads_popover_new (CbDownloadManager *manager);

/* Opening a finished download: the file with its default application,
 * or its folder in the file manager (the FileManager1 D-Bus interface, the
 * OpenURI portal's OpenDirectory under Flatpak). */
void       cb_download_open_file    (CbDownload *download,
                                     GtkWindow  *parent);
void       cb_download_show_folder  (CbDownload *download,
                                     GtkWindow  *parent);

/* The button of row @index named "cancel", "retry", "open" or "folder",
 * for tests; NULL when that row does not show it now. */
GtkWidget *cb_downloads_popover_get_button (CbDownloadsPopover *self,
                                            guint               index,
                                            const char         *name);

G_END_DECLS
