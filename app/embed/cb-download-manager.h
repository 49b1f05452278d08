/* cb-download-manager.h: every download of one network session
 *
 * Files go to the download folder (the "download-dir" setting, or the XDG
 * download directory: a place Flatpak's --filesystem=xdg-download opens,
 * so no portal round trip is needed per file), under the name the server
 * suggests made safe and unique: "report.pdf", then "report (2).pdf". */
#pragma once

#include <gio/gio.h>

#include "cb-download.h"

G_BEGIN_DECLS

#define CB_TYPE_DOWNLOAD_MANAGER (cb_download_manager_get_type ())
G_DECLARE_FINAL_TYPE (CbDownloadManager, cb_download_manager, CB, DOWNLOAD_MANAGER, GObject)

CbDownloadManager *cb_download_manager_new        (WebKitNetworkSession *session);
/* CbDownload items, newest first. */
GListModel        *cb_download_manager_get_model  (CbDownloadManager    *self);
char              *cb_download_manager_get_folder (CbDownloadManager    *self);
void               cb_download_manager_retry      (CbDownloadManager    *self,
                                                   CbDownload           *download);
/* Forgets finished, failed and cancelled downloads (not their files). */
void               cb_download_manager_clear      (CbDownloadManager    *self);
guint              cb_download_manager_count_running (CbDownloadManager *self);

/* "a/b\\..\\c.txt" -> "c.txt"; "" or dot files -> "download". */
char              *cb_download_safe_filename      (const char           *suggested);
/* @dir/@name, or "name (2).ext" … when taken (on disk or in @reserved). */
char              *cb_download_unique_path        (const char           *dir,
                                                   const char           *name,
                                                   GHashTable           *reserved);

G_END_DECLS
