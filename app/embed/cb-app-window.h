/* cb-app-window.h: a window holding an app's native UI
 *
 * A plugin may ship a native UI module (GTK 4, cloud-bevy-ui.h) beside its
 * core module; the browser loads it when the app is opened and shows the
 * widget it makes for the running system's context.  UI modules register
 * GTK types, so once loaded they stay loaded. */
#pragma once

#include <gtk/gtk.h>

#include "cb-sdk-host.h"

G_BEGIN_DECLS

#define CB_APP_WINDOW_ERROR (cb_app_window_error_quark ())
GQuark cb_app_window_error_quark (void);

typedef enum {
  CB_APP_WINDOW_ERROR_LOAD,   /* the module does not load, or is not a UI module of our ABI */
  CB_APP_WINDOW_ERROR_CREATE, /* its create function failed */
} CbAppWindowError;

GtkWidget *cb_app_window_new (CbContext   *context,
                              const char  *ui_module_path,
                              GtkWindow   *parent,
                              GError     **error);

G_END_DECLS
