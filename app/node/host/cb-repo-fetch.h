/* cb-repo-fetch.h: bounded downloads from repositories
 *
 * Every read has a size cap and a deadline for the whole transfer: a
 * server that never stops sending is cut off at the cap (the size the
 * signed index promised, for packages), one that drips is cut off at the
 * deadline.  Packages are written to a temporary file beside their
 * destination, checked (size, SHA-256), synced and only then renamed into
 * place: a file at the destination is always a verified one.
 *
 * URLs: https:// (http:// only to this machine) through libsoup, and
 * file:// through GIO. */
#pragma once

#include <gio/gio.h>

#include "cb-repo-format.h"

G_BEGIN_DECLS

/* Defaults: metadata within 30 s; a package within 30 s plus the time it
 * takes at 64 KiB/s (so a slow but honest link still gets there). */
#define CB_REPO_FETCH_METADATA_MS 30000
#define CB_REPO_FETCH_PACKAGE_BASE_MS 30000
#define CB_REPO_FETCH_MIN_RATE (64 * 1024)

typedef void (*CbRepoProgressFunc) (guint64  received,
                                    guint64  total,
                                    gpointer user_data);

#define CB_TYPE_REPO_FETCHER (cb_repo_fetcher_get_type ())
G_DECLARE_FINAL_TYPE (CbRepoFetcher, cb_repo_fetcher, CB, REPO_FETCHER, GObject)

CbRepoFetcher *cb_repo_fetcher_new             (void);
/* Trust these CAs for https (NULL: the system's). */
void           cb_repo_fetcher_set_tls_database (CbRepoFetcher  *self,
                                                 GTlsDatabase   *database);
/* Send every connection to host:port whatever the URL's host (TLS still
 * checks the URL's name), as curl's --connect-to does. */
void           cb_repo_fetcher_set_connect_to   (CbRepoFetcher  *self,
                                                 const char     *host_port);
void           cb_repo_fetcher_set_deadlines    (CbRepoFetcher  *self,
                                                 guint           metadata_ms,
                                                 guint           package_base_ms,
                                                 guint           min_bytes_per_second);

/* The whole file, at most max_bytes; NOT_FOUND when there is none. */
void           cb_repo_fetcher_get_async        (CbRepoFetcher       *self,
                                                 const char          *url,
                                                 gsize                max_bytes,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GBytes        *cb_repo_fetcher_get_finish       (CbRepoFetcher       *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

void           cb_repo_fetcher_download_async   (CbRepoFetcher       *self,
                                                 const char          *url,
                                                 const CbRepoFile    *expect,
                                                 const char          *dest_path,
                                                 CbRepoProgressFunc   progress,
                                                 gpointer             progress_data,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean       cb_repo_fetcher_download_finish  (CbRepoFetcher       *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* TRUE when the file's size and SHA-256 are expect's. */
gboolean       cb_repo_file_check               (const char          *path,
                                                 const CbRepoFile    *expect,
                                                 GError             **error);

G_END_DECLS
