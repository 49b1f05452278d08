/* cb-node-apps.h: a node's cloud apps
 *
 * Every node has a CbApps (host/cb-apps.h) on its data dir: the installed,
 * enabled apps load when the node starts and are hosted like any system
 * (their data stored and replicated here, the cloud told this node hosts
 * them); installing, updating, disabling or removing one while the node
 * runs hosts or stops hosting it at once.  The node's control socket
 * takes the `apps-*` commands the CLI sends. */
#pragma once

#include "cb-apps.h"
#include "cb-node.h"

G_BEGIN_DECLS

/* The node's app manager (made on first use); NULL, with a warning, only
 * when its database cannot be created at all. */
CbApps *cb_node_get_apps (CbNode *node);

G_END_DECLS
