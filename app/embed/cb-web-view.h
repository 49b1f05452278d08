/* cb-web-view.h: a web view that shows Cloud Bevy's error pages */
#pragma once

#include <webkit/webkit.h>

#include "cb-web-context.h"

G_BEGIN_DECLS

#define CB_TYPE_WEB_VIEW (cb_web_view_get_type ())
G_DECLARE_FINAL_TYPE (CbWebView, cb_web_view, CB, WEB_VIEW, WebKitWebView)

GtkWidget  *cb_web_view_new              (CbWebContext *context);
GtkWidget  *cb_web_view_new_related      (CbWebView    *opener);
void        cb_web_view_load_address     (CbWebView    *self,
                                          const char   *text,
                                          const char   *search_template);
gboolean    cb_web_view_is_showing_error (CbWebView    *self);
const char *cb_web_view_get_display_title (CbWebView   *self);

G_END_DECLS
