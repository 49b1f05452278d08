/* cb-cloudapp-scheme.h: cloudapp://ORIGIN/, the web UIs of cloud apps
 *
 * Each installed system with a web UI has an origin of its own
 * (cloudapp://github.com+cloudbevy+guestbook/, see cb-system-name.h).  Its
 * files come from the plugin's resources, with a strict
 * Content-Security-Policy: the origin's own scripts, styles and images, no
 * inline script, no network, no frames.  The page reaches its system only
 * through /.cloudbevy/bridge.js, whose requests a script of the browser's
 * in a private script world carries to the system: web pages of any other
 * origin (http, https, cloud:) have neither the script nor the handler.
 * The scheme is secure and display-isolated: other origins can neither
 * embed nor link to it. */
#pragma once

#include <webkit/webkit.h>

#include "cb-apps.h"

G_BEGIN_DECLS

#define CB_CLOUDAPP_WORLD "cloudbevy-app"
#define CB_CLOUDAPP_CSP \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
  "font-src 'self'; connect-src 'none'; frame-src 'none'; frame-ancestors 'none'; " \
  "form-action 'none'; base-uri 'none'; object-src 'none'"

#define CB_TYPE_CLOUDAPP_SCHEME (cb_cloudapp_scheme_get_type ())
G_DECLARE_FINAL_TYPE (CbCloudappScheme, cb_cloudapp_scheme, CB, CLOUDAPP_SCHEME, GObject)

CbCloudappScheme *cb_cloudapp_scheme_new      (void);
/* Registers the scheme on context and the bridge on manager (every view
 * of the context must use it). */
void              cb_cloudapp_scheme_attach   (CbCloudappScheme         *self,
                                               WebKitWebContext         *context,
                                               WebKitUserContentManager *manager);
/* The node's apps (NULL until the node runs). */
void              cb_cloudapp_scheme_set_apps (CbCloudappScheme         *self,
                                               CbApps                   *apps);
/* "cloudapp://github.com+cloudbevy+guestbook/" */
char             *cb_cloudapp_uri_for         (const char               *system);

G_END_DECLS
