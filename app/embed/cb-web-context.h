/* cb-web-context.h: one profile's WebKit context and network session
 *
 * Everything the profile's web views share: the network session (cookies,
 * cache), WebKit settings, the content filter, downloads, and the
 * profile's stores (history, bookmarks, site settings).  A private
 * context has an ephemeral session and in-memory stores: nothing it does
 * reaches the disk. */
#pragma once

#include <webkit/webkit.h>

#include "cb-cloud-scheme.h"
#include "cb-cloudapp-scheme.h"
#include "cb-content-blocker.h"
#include "cb-download-manager.h"
#include "cb-reader.h"
#include "cb-user-profile.h"

G_BEGIN_DECLS

#define CB_TYPE_WEB_CONTEXT (cb_web_context_get_type ())
G_DECLARE_FINAL_TYPE (CbWebContext, cb_web_context, CB, WEB_CONTEXT, GObject)

CbWebContext         *cb_web_context_new                 (const char   *data_dir,
                                                          const char   *cache_dir,
                                                          CbUserProfile    *profile);
/* The XDG locations: $XDG_DATA_HOME/cloud-bevy/{web,profile},
 * $XDG_CACHE_HOME/cloud-bevy/web. */
CbWebContext         *cb_web_context_new_for_profile     (void);
/* Shares the parent's internal pages and reads its bookmarks. */
CbWebContext         *cb_web_context_new_private         (CbWebContext *parent);
gboolean              cb_web_context_is_private          (CbWebContext *self);

WebKitWebContext     *cb_web_context_get_web_context     (CbWebContext *self);
WebKitNetworkSession *cb_web_context_get_network_session (CbWebContext *self);
WebKitSettings       *cb_web_context_get_settings        (CbWebContext *self);
/* Shared by every view of the profile: the content filter and the cloud
 * app bridges live in it. */
WebKitUserContentManager *cb_web_context_get_user_content_manager (CbWebContext *self);
CbCloudScheme        *cb_web_context_get_cloud_scheme    (CbWebContext *self);
CbCloudappScheme     *cb_web_context_get_cloudapp_scheme (CbWebContext *self);
CbUserProfile            *cb_web_context_get_profile         (CbWebContext *self);
CbContentBlocker     *cb_web_context_get_content_blocker (CbWebContext *self);
CbDownloadManager    *cb_web_context_get_downloads       (CbWebContext *self);
CbReader             *cb_web_context_get_reader          (CbWebContext *self);

/* HTTPS-first: hosts the person chose to visit over plain http in this
 * session. */
void                  cb_web_context_allow_http          (CbWebContext *self,
                                                          const char   *host);
gboolean              cb_web_context_is_http_allowed     (CbWebContext *self,
                                                          const char   *host);

/* Clears cache and site data changed at or after @since_us (0: all) in
 * the network session; the history is the profile's.  WebKit does not
 * know when a cookie was set, so with a time range cookies are cleared for
 * the @visited_hosts (the sites visited in that range), all of them
 * without one. */
void                  cb_web_context_clear_data_async    (CbWebContext        *self,
                                                          WebKitWebsiteDataTypes types,
                                                          gint64               since_us,
                                                          const char * const  *visited_hosts,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
gboolean              cb_web_context_clear_data_finish   (CbWebContext        *self,
                                                          GAsyncResult        *result,
                                                          GError             **error);

G_END_DECLS
