/* cb-app-window.c: loading a UI module and showing its widget */
#define G_LOG_DOMAIN "cb-app-window"

#include "cb-app-window.h"

#include <gmodule.h>

G_DEFINE_QUARK (cb-app-window-error-quark, cb_app_window_error)

typedef GtkWidget *(*CreateFunc) (CbContext *context, GError **error);

GtkWidget *
cb_app_window_new (CbContext   *context,
                   const char  *ui_module_path,
                   GtkWindow   *parent,
                   GError     **error)
{
  GModule *module = g_module_open (ui_module_path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  gpointer abi = NULL, create = NULL;
  g_autoptr(GError) local_error = NULL;
  GtkWidget *widget, *window, *header;

  if (module == NULL)
    {
      g_set_error (error, CB_APP_WINDOW_ERROR, CB_APP_WINDOW_ERROR_LOAD,
                   "cannot load the UI of %s: %s", cb_context_get_system (context),
                   g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (module, "cloud_bevy_plugin_ui_abi", &abi) || abi == NULL
      || *(const guint32 *) abi != CB_PLUGIN_ABI_VERSION
      || !g_module_symbol (module, "cloud_bevy_plugin_ui_create", &create) || create == NULL)
    {
      g_set_error (error, CB_APP_WINDOW_ERROR, CB_APP_WINDOW_ERROR_LOAD,
                   "%s is not a UI module of plugin ABI %d (build it with CB_PLUGIN_UI_DEFINE)",
                   ui_module_path, CB_PLUGIN_ABI_VERSION);
      g_module_close (module);
      return NULL;
    }
  /* Its GTK types cannot be unregistered: it stays. */
  g_module_make_resident (module);
  widget = ((CreateFunc) create) (context, &local_error);
  if (widget == NULL)
    {
      g_set_error (error, CB_APP_WINDOW_ERROR, CB_APP_WINDOW_ERROR_CREATE,
                   "the UI of %s failed: %s", cb_context_get_system (context),
                   local_error != NULL ? local_error->message : "it made no widget");
      return NULL;
    }
  window = gtk_window_new ();
  header = gtk_header_bar_new ();
  gtk_window_set_titlebar (GTK_WINDOW (window), header);
  gtk_window_set_title (GTK_WINDOW (window), cb_context_get_system (context));
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 480);
  if (parent != NULL)
    gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_child (GTK_WINDOW (window), widget);
  /* The window keeps the context alive as long as the widget may use it. */
  g_object_set_data_full (G_OBJECT (window), "cb-context", g_object_ref (context), g_object_unref);
  return window;
}
