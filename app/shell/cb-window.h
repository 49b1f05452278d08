/* cb-window.h: a browser window: tabs, header bar, address entry */
#pragma once

#include <adwaita.h>

#include "cb-address-completion.h"
#include "cb-web-view.h"

G_BEGIN_DECLS

#define CB_TYPE_WINDOW (cb_window_get_type ())
G_DECLARE_FINAL_TYPE (CbWindow, cb_window, CB, WINDOW, AdwApplicationWindow)

CbWindow   *cb_window_new              (GtkApplication *application,
                                        CbWebContext   *context);
CbWebView  *cb_window_open_tab         (CbWindow       *self,
                                        const char     *uri,
                                        gboolean        select);
CbWebView  *cb_window_open_tab_as      (CbWindow       *self,
                                        const char     *uri,
                                        CbVisitType     type,
                                        gboolean        select);
CbWebContext *cb_window_get_context    (CbWindow       *self);
/* Opens a suggestion of the address bar in the selected tab. */
void        cb_window_open_suggestion  (CbWindow       *self,
                                        const char     *uri);
void        cb_window_add_view         (CbWindow       *self,
                                        CbWebView      *view,
                                        gboolean        select);
CbWebView  *cb_window_get_active_view  (CbWindow       *self);
AdwTabView *cb_window_get_tab_view     (CbWindow       *self);
GtkEntry   *cb_window_get_address_entry (CbWindow      *self);
GtkButton  *cb_window_get_reload_button (CbWindow      *self);
GtkWidget  *cb_window_get_back_button  (CbWindow       *self);
GtkWidget  *cb_window_get_forward_button (CbWindow     *self);
gboolean    cb_window_address_has_focus (CbWindow      *self);
void        cb_window_submit_address   (CbWindow       *self,
                                        const char     *text);
CbAddressCompletion *cb_window_get_completion (CbWindow *self);
GtkWidget  *cb_window_get_downloads_popover (CbWindow  *self);
GtkMenuButton *cb_window_get_downloads_button (CbWindow *self);
GtkSearchEntry *cb_window_get_find_entry  (CbWindow       *self);
const char *cb_window_get_find_status  (CbWindow       *self);
GtkButton  *cb_window_get_zoom_button  (CbWindow       *self);
GtkToggleButton *cb_window_get_reader_button (CbWindow *self);
GtkRevealer *cb_window_get_header_revealer (CbWindow  *self);
GtkRevealer *cb_window_get_banner      (CbWindow       *self);
/* The banner's text while it shows, else NULL. */
const char *cb_window_get_banner_text  (CbWindow       *self);
void        cb_window_set_banner_remember (CbWindow    *self,
                                           gboolean     remember);
/* The site popover while it is open, else NULL. */
GtkWidget  *cb_window_get_site_popover (CbWindow       *self);

G_END_DECLS
