/* cb-node-page.h: cloud:node, the live dashboard of this profile's node
 *
 * Registers the "node" page with the cloud: scheme.  The page renders the
 * node's status (id, cloud, addresses, roles, list health, peers and their
 * state) with a small script; whenever the node changes, the new status is
 * pushed into every view showing the page, so it updates without
 * reloading.  Nothing is exposed to web content: the status goes only to
 * views whose current page is cloud:node. */
#pragma once

#include "cb-cloud-scheme.h"
#include "cb-node.h"

G_BEGIN_DECLS

#define CB_TYPE_NODE_PAGE (cb_node_page_get_type ())
G_DECLARE_FINAL_TYPE (CbNodePage, cb_node_page, CB, NODE_PAGE, GObject)

/* node may be NULL when it could not start; start_error then says why. */
CbNodePage *cb_node_page_new (CbCloudScheme *scheme,
                              CbNode        *node,
                              const char    *start_error);

G_END_DECLS
