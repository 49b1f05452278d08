/* cb-view-source.h: view-source:<address>, a page's HTML as text
 *
 * The page is fetched again in an off-screen view of the same network
 * session (its cookies apply), and its main resource is shown escaped,
 * with line numbers, never parsed. */
#pragma once

#include <webkit/webkit.h>

G_BEGIN_DECLS

#define CB_TYPE_VIEW_SOURCE (cb_view_source_get_type ())
G_DECLARE_FINAL_TYPE (CbViewSource, cb_view_source, CB, VIEW_SOURCE, GObject)

CbViewSource *cb_view_source_new    (void);
void          cb_view_source_attach (CbViewSource         *self,
                                     WebKitWebContext     *context,
                                     WebKitNetworkSession *session);
/* The page shown for @source, fetched from @uri. */
char         *cb_view_source_render (const char           *uri,
                                     const char           *source,
                                     gsize                 len);

G_END_DECLS
