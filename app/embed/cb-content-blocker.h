/* cb-content-blocker.h: WebKit content filters from our bundled list
 *
 * The list (resources/content-blocker.json, WebKit's content-blocker
 * format, written by us) blocks third-party requests to advertising and
 * tracking hosts and hides the usual ad containers.  Turning the blocker
 * off for one site appends an "ignore-previous-rules" rule for that site,
 * so the decision is WebKit's own, for the page and everything it loads.
 * Compiled lists are cached in a store directory, keyed by their content. */
#pragma once

#include <webkit/webkit.h>

#include "cb-site-settings.h"

G_BEGIN_DECLS

#define CB_TYPE_CONTENT_BLOCKER (cb_content_blocker_get_type ())
G_DECLARE_FINAL_TYPE (CbContentBlocker, cb_content_blocker, CB, CONTENT_BLOCKER, GObject)

CbContentBlocker *cb_content_blocker_new         (WebKitUserContentManager *manager,
                                                  CbSiteSettings           *sites,
                                                  const char               *store_dir);
void              cb_content_blocker_set_enabled (CbContentBlocker         *self,
                                                  gboolean                  enabled);
gboolean          cb_content_blocker_get_enabled (CbContentBlocker         *self);
/* Whether the filter in force matches the current settings (a change is
 * compiled asynchronously; "updated" is emitted when it is in force). */
gboolean          cb_content_blocker_is_ready    (CbContentBlocker         *self);
/* The rules as compiled for the current settings (for tests). */
char             *cb_content_blocker_build_rules (CbContentBlocker         *self);

G_END_DECLS
