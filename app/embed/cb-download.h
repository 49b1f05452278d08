/* cb-download.h: one download, for the downloads list
 *
 * Wraps the WebKitDownload doing the work; a retry (by the manager) starts
 * a new one for the same address and the same row goes on.  Properties notify as the
 * download moves, so a list row can simply bind to them. */
#pragma once

#include <webkit/webkit.h>

G_BEGIN_DECLS

typedef enum {
  CB_DOWNLOAD_RUNNING,
  CB_DOWNLOAD_FINISHED,
  CB_DOWNLOAD_FAILED,
  CB_DOWNLOAD_CANCELLED,
} CbDownloadState;

#define CB_TYPE_DOWNLOAD (cb_download_get_type ())
G_DECLARE_FINAL_TYPE (CbDownload, cb_download, CB, DOWNLOAD, GObject)

const char      *cb_download_get_uri          (CbDownload *self);
/* The file's name as saved (or to be saved). */
const char      *cb_download_get_filename     (CbDownload *self);
/* NULL until WebKit has asked where to save it. */
const char      *cb_download_get_destination  (CbDownload *self);
CbDownloadState  cb_download_get_state        (CbDownload *self);
double           cb_download_get_progress     (CbDownload *self);
guint64          cb_download_get_received     (CbDownload *self);
/* 0 when the server did not say. */
guint64          cb_download_get_total        (CbDownload *self);
/* Why it failed, for a person; NULL unless failed. */
const char      *cb_download_get_error        (CbDownload *self);
/* "3.1 MB of 10.0 MB", "Finished — 10.0 MB", "Failed: …", "Cancelled". */
char            *cb_download_describe         (CbDownload *self);

void             cb_download_cancel           (CbDownload *self);

G_END_DECLS
