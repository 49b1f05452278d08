/* cb-window-downloads.c: the downloads button
 *
 * Hidden until this window's profile has downloaded something; a new
 * download shows the button and opens its list, so the person sees where
 * the file went. */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-window-private.h"
#include "cb-downloads-popover.h"

static void
update_button (CbWindow *self)
{
  CbDownloadManager *manager = cb_web_context_get_downloads (self->context);
  guint n = g_list_model_get_n_items (cb_download_manager_get_model (manager));
  guint running = cb_download_manager_count_running (manager);
  g_autofree char *tooltip = running ? g_strdup_printf ("Downloads (%u running)", running)
                                     : g_strdup ("Downloads");

  gtk_widget_set_visible (GTK_WIDGET (self->downloads_button), n > 0);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->downloads_button), tooltip);
  if (running)
    gtk_widget_add_css_class (GTK_WIDGET (self->downloads_button), "cb-downloading");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->downloads_button), "cb-downloading");
}

static void
on_state (CbDownload *download,
          GParamSpec *pspec,
          CbWindow   *self)
{
  update_button (self);
}

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  CbWindow   *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(CbDownload) download = g_list_model_get_item (model, i);
      g_signal_connect_object (download, "notify::state", G_CALLBACK (on_state), self, 0);
    }
  update_button (self);
}

static void
on_download_added (CbDownloadManager *manager,
                   CbDownload        *download,
                   CbWindow          *self)
{
  /* Only the window the person is looking at opens the list. */
  if (!gtk_window_is_active (GTK_WINDOW (self)) && gtk_application_get_active_window (
        gtk_window_get_application (GTK_WINDOW (self))) != GTK_WINDOW (self))
    return;
  update_button (self);
  gtk_menu_button_popup (self->downloads_button);
}

static void
action_downloads (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  CbWindow *self = CB_WINDOW (widget);

  update_button (self);
  if (gtk_widget_get_visible (GTK_WIDGET (self->downloads_button)))
    gtk_menu_button_popup (self->downloads_button);
  else
    _cb_window_toast (self, "No downloads yet");
}

void
_cb_window_downloads_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.downloads", NULL, action_downloads);
}

void
_cb_window_downloads_init (CbWindow *self)
{
  CbDownloadManager *manager = cb_web_context_get_downloads (self->context);
  GListModel *model = cb_download_manager_get_model (manager);

  self->downloads_popover = cb_downloads_popover_new (manager);
  gtk_menu_button_set_popover (self->downloads_button, self->downloads_popover);
  g_signal_connect_object (model, "items-changed", G_CALLBACK (on_items_changed), self, 0);
  g_signal_connect_object (manager, "download-added", G_CALLBACK (on_download_added), self,
                           G_CONNECT_AFTER);
  on_items_changed (model, 0, 0, g_list_model_get_n_items (model), self);
}

GtkWidget *
cb_window_get_downloads_popover (CbWindow *self)
{
  return self->downloads_popover;
}

GtkMenuButton *
cb_window_get_downloads_button (CbWindow *self)
{
  return self->downloads_button;
}
