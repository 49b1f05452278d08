/* cb-test-server.h: the local web sites the shell tests browse */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _CbTestServer CbTestServer;

/* Plain HTTP on 127.0.0.1; @port 0 picks a free one. */
CbTestServer *cb_test_server_new        (guint16       port,
                                         GError      **error);
/* HTTPS with the self-signed certificate in tests/shell/data. */
CbTestServer *cb_test_server_new_tls    (const char   *cert_file,
                                         const char   *key_file,
                                         GError      **error);
void          cb_test_server_free       (CbTestServer *server);
char         *cb_test_server_uri        (CbTestServer *server,
                                         const char   *path);
guint16       cb_test_server_port       (CbTestServer *server);
/* How many requests for @path (query ignored) have arrived. */
guint         cb_test_server_hits       (CbTestServer *server,
                                         const char   *path);
/* The last query string seen for @path, or NULL. */
const char   *cb_test_server_last_query (CbTestServer *server,
                                         const char   *path);

guint16       cb_test_free_port         (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbTestServer, cb_test_server_free)

G_END_DECLS
