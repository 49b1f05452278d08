/* cb-download-private.h: what the download manager uses */
#pragma once

#include "cb-download.h"

G_BEGIN_DECLS

CbDownload     *_cb_download_new        (WebKitDownload       *download);
/* A retry hands over its new WebKitDownload. */
void            _cb_download_attach     (CbDownload           *self,
                                         WebKitDownload       *download);
void            _cb_download_set_destination (CbDownload      *self,
                                              const char      *path);
WebKitDownload *_cb_download_get_webkit (CbDownload           *self);

G_END_DECLS
