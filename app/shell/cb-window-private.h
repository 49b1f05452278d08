/* cb-window-private.h: CbWindow's instance struct and the internals its
 * feature files (cb-window-*.c) share, GNOME Text Editor style: each
 * feature lives in its own file with _cb_window_* entry points. */
#pragma once

#include "cb-window.h"

G_BEGIN_DECLS

struct _CbWindow {
  AdwApplicationWindow parent_instance;

  CbWebContext *context;
  GSettings *settings;

  AdwHeaderBar *header_bar;
  GtkButton *back_button;
  GtkButton *forward_button;
  GtkButton *reload_button;
  GtkEntry *address_entry;
  AdwTabBar *tab_bar;
  AdwTabView *tab_view;
};

G_END_DECLS
