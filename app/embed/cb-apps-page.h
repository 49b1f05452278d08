/* cb-apps-page.h: cloud:apps, the app catalog
 *
 * Cards for every app the repositories offer and every installed app:
 * name, description, version, size, the publisher's key fingerprint and
 * state, with install, update, roll back, disable/enable, remove (keeping
 * or deleting the app's data) and open; a progress bar while an install
 * runs; a dialog to add and remove repositories, which shows the
 * fingerprint it pins.  The page's own script runs in a private script
 * world (the page's main world has nothing), and each served page carries
 * a token that ties its requests to its view. */
#pragma once

#include "cb-cloud-scheme.h"
#include "cb-node.h"

G_BEGIN_DECLS

#define CB_APPS_PAGE_WORLD "cloudbevy-catalog"

#define CB_TYPE_APPS_PAGE (cb_apps_page_get_type ())
G_DECLARE_FINAL_TYPE (CbAppsPage, cb_apps_page, CB, APPS_PAGE, GObject)

/* node may be NULL when it did not start; start_error then says why.
 * manager: the user content manager every view of the context uses. */
CbAppsPage *cb_apps_page_new (CbCloudScheme            *scheme,
                              WebKitUserContentManager *manager,
                              CbNode                   *node,
                              const char               *start_error);

G_END_DECLS
