/* cb-repo-server.h: repositories on a local libsoup HTTPS server
 *
 * Serves directories at https://127.0.0.1:PORT/NAME/ and, for the
 * github.com/ORG[/REPO] shorthand, stands in for GitHub Pages: requests
 * whose Host is ORG.github.io get ORG's Pages sites as GitHub serves them
 * (https://ORG.github.io/REPO/... from the REPO project site, anything
 * else from the ORG.github.io user site, /REPO redirected to /REPO/, a
 * 404 page for what is missing).  Clients reach it through
 * cb_repo_fetcher_set_connect_to(), with TLS checking the real name
 * against tests/sdk/data/repo-cert.pem.
 *
 * Hostile servers: a path can be made to send data forever, or to drip a
 * byte at a time. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _CbRepoServer CbRepoServer;

CbRepoServer *cb_repo_server_new         (GError      **error);
void          cb_repo_server_free        (CbRepoServer *server);
guint16       cb_repo_server_port        (CbRepoServer *server);
/* "127.0.0.1:PORT" */
char         *cb_repo_server_connect_to  (CbRepoServer *server);
/* https://127.0.0.1:PORT/NAME/ serves dir. */
char         *cb_repo_server_add_dir     (CbRepoServer *server,
                                          const char   *name,
                                          const char   *dir);
/* repo NULL: the ORG.github.io user site. */
void          cb_repo_server_add_pages   (CbRepoServer *server,
                                          const char   *org,
                                          const char   *repo,
                                          const char   *dir);
/* Requests for path (e.g. "/r/x.so") never end: data keeps coming. */
void          cb_repo_server_set_endless (CbRepoServer *server,
                                          const char   *path);
/* Requests for path get one byte every interval_ms. */
void          cb_repo_server_set_drip    (CbRepoServer *server,
                                          const char   *path,
                                          guint         interval_ms);
/* Requests for path (under a directory added with add_dir) get the file
 * whole, bytes_per_tick every interval_ms. */
void          cb_repo_server_set_throttle (CbRepoServer *server,
                                          const char   *path,
                                          guint         bytes_per_tick,
                                          guint         interval_ms);
/* Endless and dripping responses stop sending. */
void          cb_repo_server_stop_streams (CbRepoServer *server);
guint         cb_repo_server_hits        (CbRepoServer *server,
                                          const char   *path);
/* The TLS database that trusts the test certificate. */
GTlsDatabase *cb_repo_server_tls_database (GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbRepoServer, cb_repo_server_free)

G_END_DECLS
