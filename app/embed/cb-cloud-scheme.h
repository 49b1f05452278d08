/* cb-cloud-scheme.h: the cloud: scheme, Cloud Bevy's internal pages */
#pragma once

#include <webkit/webkit.h>

G_BEGIN_DECLS

#define CB_TYPE_CLOUD_SCHEME (cb_cloud_scheme_get_type ())
G_DECLARE_FINAL_TYPE (CbCloudScheme, cb_cloud_scheme, CB, CLOUD_SCHEME, GObject)

/* Builds the HTML of one internal page.  Returns NULL and sets @error when
 * the page cannot be produced right now. */
typedef char *(*CbCloudPageFunc) (const char *page,
                                  gpointer    user_data,
                                  GError    **error);

CbCloudScheme *cb_cloud_scheme_new      (void);
void           cb_cloud_scheme_add_page (CbCloudScheme  *self,
                                         const char     *page,
                                         CbCloudPageFunc func,
                                         gpointer        user_data,
                                         GDestroyNotify  destroy);
char          *cb_cloud_scheme_page_of  (const char     *uri);
void           cb_cloud_scheme_attach   (CbCloudScheme    *self,
                                         WebKitWebContext *context);

G_END_DECLS
