/* cb-web-context.h: one profile's WebKit context and network session */
#pragma once

#include <webkit/webkit.h>

#include "cb-cloud-scheme.h"
#include "cb-cloudapp-scheme.h"

G_BEGIN_DECLS

#define CB_TYPE_WEB_CONTEXT (cb_web_context_get_type ())
G_DECLARE_FINAL_TYPE (CbWebContext, cb_web_context, CB, WEB_CONTEXT, GObject)

CbWebContext         *cb_web_context_new                 (const char   *data_dir,
                                                          const char   *cache_dir);
CbWebContext         *cb_web_context_new_for_profile     (void);
WebKitWebContext     *cb_web_context_get_web_context     (CbWebContext *self);
WebKitNetworkSession *cb_web_context_get_network_session (CbWebContext *self);
CbCloudScheme        *cb_web_context_get_cloud_scheme    (CbWebContext *self);
CbCloudappScheme     *cb_web_context_get_cloudapp_scheme (CbWebContext *self);
/* Shared by every view of the profile: the cloud app bridges live in it. */
WebKitUserContentManager *cb_web_context_get_user_content_manager (CbWebContext *self);

G_END_DECLS
