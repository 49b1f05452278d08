/* cloud-bevy-ui.h: a plugin's optional native UI module (GTK 4)
 *
 * The core module stays free of GTK; the UI module is a second shared
 * object that the browser loads (never a headless node) when the user
 * opens the app.  It exports its ABI version and one function that makes
 * the app's widget for the running system's context:
 *
 *   static GtkWidget *
 *   notes_ui_create (CbContext *context, GError **error)
 *   { ... }
 *
 *   CB_PLUGIN_UI_DEFINE (notes_ui_create)
 */
#pragma once

#include <gtk/gtk.h>

#include "cloud-bevy.h"

G_BEGIN_DECLS

typedef GtkWidget *(*CbPluginUiCreateFunc) (CbContext  *context,
                                            GError    **error);

#define CB_PLUGIN_UI_DEFINE(create_func)                                          \
  G_MODULE_EXPORT const guint32 cloud_bevy_plugin_ui_abi = CB_PLUGIN_ABI_VERSION; \
  G_MODULE_EXPORT GtkWidget *cloud_bevy_plugin_ui_create (CbContext *context,     \
                                                          GError   **error);      \
  G_MODULE_EXPORT GtkWidget *                                                     \
  cloud_bevy_plugin_ui_create (CbContext *context,                                \
                               GError   **error)                                  \
  {                                                                               \
    return (create_func) (context, error);                                        \
  }

G_END_DECLS
