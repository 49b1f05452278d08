/* cb-window-private.h: CbWindow's instance struct and the internals its
 * feature files (cb-window-*.c) share, GNOME Text Editor style: each
 * feature lives in its own file with _cb_window_* entry points, called
 * from cb-window.c at class_init, init and on tab changes. */
#pragma once

#include "cb-address-completion.h"
#include "cb-window.h"

G_BEGIN_DECLS

struct _CbWindow {
  AdwApplicationWindow parent_instance;

  CbWebContext *context;
  GSettings *settings;

  AdwToastOverlay *toasts;
  GtkRevealer *header_revealer;
  AdwHeaderBar *header_bar;
  GtkButton *back_button;
  GtkButton *forward_button;
  GtkButton *reload_button;
  GtkWidget *private_indicator;
  GtkEntry *address_entry;
  GtkButton *zoom_button;
  GtkToggleButton *reader_button;
  GtkMenuButton *menu_button;
  GtkMenuButton *downloads_button;
  GMenuModel *primary_menu;
  GtkSearchBar *find_bar;
  GtkSearchEntry *find_entry;
  GtkLabel *find_status;
  GtkRevealer *banner_revealer;
  GtkImage *banner_icon;
  GtkLabel *banner_label;
  GtkCheckButton *banner_remember;
  GtkButton *banner_allow;
  GtkButton *banner_deny;
  AdwTabBar *tab_bar;
  AdwTabView *tab_view;

  CbAddressCompletion *completion;
  GtkWidget *zoom_label;            /* in the main menu */
  GtkWidget *bookmark_popover;      /* CbBookmarkPopover, while shown */
  GtkWidget *site_popover;          /* CbSitePopover, while shown */
  GtkWidget *downloads_popover;

  /* Find in page, for the selected view. */
  guint find_matches;
  guint find_current;
  CbWebView *previous_view;         /* weak: the tab selected before */

  /* What the context menu was opened on. */
  WebKitHitTestResult *context_hit;
  CbWebView *context_view;          /* weak */
};

/* cb-window.c */
CbUserProfile *_cb_window_get_profile      (CbWindow  *self);
void           _cb_window_toast            (CbWindow  *self,
                                            const char *message);

/* cb-window-history.c: completion, the history page, clearing data */
void _cb_window_history_class_init (GtkWidgetClass *widget_class);
void _cb_window_history_init       (CbWindow       *self);

/* cb-window-bookmarks.c: the star, the bookmark popover, the page */
void _cb_window_bookmarks_class_init (GtkWidgetClass *widget_class);
void _cb_window_bookmarks_init       (CbWindow       *self);
void _cb_window_bookmarks_update     (CbWindow       *self);

/* cb-window-downloads.c: the downloads button and list */
void _cb_window_downloads_class_init (GtkWidgetClass *widget_class);
void _cb_window_downloads_init       (CbWindow       *self);

/* cb-window-find.c: find in page */
void _cb_window_find_class_init  (GtkWidgetClass *widget_class);
void _cb_window_find_init        (CbWindow       *self);
void _cb_window_find_add_view    (CbWindow       *self,
                                  CbWebView      *view);
void _cb_window_find_tab_changed (CbWindow       *self,
                                  CbWebView      *previous);

/* cb-window-zoom.c: per-site zoom */
void       _cb_window_zoom_class_init (GtkWidgetClass *widget_class);
void       _cb_window_zoom_add_view   (CbWindow       *self,
                                       CbWebView      *view);
void       _cb_window_zoom_update     (CbWindow       *self);
GtkWidget *_cb_window_zoom_menu_row   (CbWindow       *self);

/* cb-window-page.c: print, view source, full screen, reader mode */
void _cb_window_page_class_init (GtkWidgetClass *widget_class);
void _cb_window_page_init       (CbWindow       *self);
void _cb_window_page_add_view   (CbWindow       *self,
                                 CbWebView      *view);
void _cb_window_page_update     (CbWindow       *self);

/* cb-window-context-menu.c: the page's context menu */
void _cb_window_context_menu_init     (CbWindow  *self);
void _cb_window_context_menu_add_view (CbWindow  *self,
                                       CbWebView *view);

/* cb-window-site.c: permission prompts, blocked pop-ups, the site popover */
void _cb_window_site_class_init (GtkWidgetClass *widget_class);
void _cb_window_site_init       (CbWindow       *self);
void _cb_window_site_add_view   (CbWindow       *self,
                                 CbWebView      *view);
void _cb_window_site_update     (CbWindow       *self);

G_END_DECLS
