/* cb-application.h: the single-instance browser application */
#pragma once

#include <adwaita.h>

#include "cb-node.h"
#include "cb-session-manager.h"
#include "cb-window.h"

G_BEGIN_DECLS

#define CB_TYPE_APPLICATION (cb_application_get_type ())
G_DECLARE_FINAL_TYPE (CbApplication, cb_application, CB, APPLICATION, AdwApplication)

CbApplication *cb_application_new             (const char    *application_id);
CbWindow      *cb_application_new_window      (CbApplication *self);
/* Private windows share one ephemeral context while any is open. */
CbWindow      *cb_application_new_private_window (CbApplication *self);
CbWebContext  *cb_application_get_web_context (CbApplication *self);
/* The session of the normal windows; NULL without a profile on disk. */
CbSessionManager *cb_application_get_session  (CbApplication *self);
/* The profile's cloud node; NULL until it has started (shortly after
 * startup) or when it could not start (cloud:node then says why). */
CbNode        *cb_application_get_node        (CbApplication *self);
char          *cb_application_resolve_argument (CbApplication *self,
                                                GFile         *cwd,
                                                const char    *arg);

G_END_DECLS
