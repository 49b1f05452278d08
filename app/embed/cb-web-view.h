/* cb-web-view.h: a web view of one profile
 *
 * On top of WebKitWebView: Cloud Bevy's error pages, the profile's
 * history (visits recorded as pages commit), per-site zoom, permission
 * prompts answered from what the site settings remember, pop-up blocking,
 * HTTPS-first, and downloads for what cannot be shown. */
#pragma once

#include <webkit/webkit.h>

#include "cb-history.h"
#include "cb-permission-prompt.h"
#include "cb-web-context.h"

G_BEGIN_DECLS

#define CB_TYPE_WEB_VIEW (cb_web_view_get_type ())
G_DECLARE_FINAL_TYPE (CbWebView, cb_web_view, CB, WEB_VIEW, WebKitWebView)

GtkWidget    *cb_web_view_new              (CbWebContext *context);
GtkWidget    *cb_web_view_new_related      (CbWebView    *opener);
CbWebContext *cb_web_view_get_context      (CbWebView    *self);
void          cb_web_view_load_address     (CbWebView    *self,
                                            const char   *text,
                                            const char   *search_template);
/* Loads @uri recording the visit as @type (typed, from a bookmark …). */
void          cb_web_view_load_uri_as      (CbWebView    *self,
                                            const char   *uri,
                                            CbVisitType   type);
gboolean      cb_web_view_is_showing_error (CbWebView    *self);
const char   *cb_web_view_get_display_title (CbWebView   *self);
/* The address to show and bookmark: the article's for a reader page. */
const char   *cb_web_view_get_display_uri  (CbWebView    *self);
gboolean      cb_web_view_is_reader        (CbWebView    *self);

/* Zoom: remembered for the view's site (1.0 forgets it). */
void          cb_web_view_set_site_zoom    (CbWebView    *self,
                                            double        zoom);
/* Steps through the usual zoom levels; @direction -1, 0 (reset) or 1. */
void          cb_web_view_zoom_step        (CbWebView    *self,
                                            int           direction);

/* Whether a window.open()/target=_blank navigation may open a window:
 * clicks always may; without a click only when pop-ups are not blocked or
 * the site is allowed. */
gboolean      cb_web_view_allows_popup     (CbWebView              *self,
                                            WebKitNavigationAction *action);

G_END_DECLS
