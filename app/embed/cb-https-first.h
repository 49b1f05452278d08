/* cb-https-first.h: which plain-http addresses to try over https first
 *
 * Free of WebKit: the rules alone, so they can be unit tested.  Local
 * addresses (loopback, private networks, single-label, .local and
 * .localhost names) are left alone unless @upgrade_local, since they
 * rarely have certificates (Firefox's HTTPS-First makes the same call). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean  cb_https_first_is_local_host (const char *host);
/* The https:// address to try for @uri, or NULL to open it as it is.
 * http://host/x -> https://host/x; an explicit port is kept. */
char     *cb_https_first_upgrade       (const char *uri,
                                        gboolean    upgrade_local);
/* The http:// address an upgraded @https_uri came from (port kept). */
char     *cb_https_first_downgrade     (const char *https_uri);

G_END_DECLS
