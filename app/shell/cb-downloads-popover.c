/* cb-downloads-popover.c: rows bound to CbDownloadManager's model */
#define _GNU_SOURCE  /* O_PATH */
#define G_LOG_DOMAIN "cb-downloads"

#include "cb-config.h"
#include "cb-downloads-popover.h"

#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <unistd.h>

struct _CbDownloadsPopover {
  GtkPopover parent_instance;
  CbDownloadManager *manager;
  GtkListBox *list;
};

G_DEFINE_FINAL_TYPE (CbDownloadsPopover, cb_downloads_popover, GTK_TYPE_POPOVER)

/* --- opening --- */

static void
launched (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    g_warning ("the download could not be opened: %s", error->message);
}

void
cb_download_open_file (CbDownload *download,
                       GtkWindow  *parent)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(GAppLaunchContext) context = NULL;

  if (cb_download_get_destination (download) == NULL)
    return;
  file = g_file_new_for_path (cb_download_get_destination (download));
  uri = g_file_get_uri (file);
  context = G_APP_LAUNCH_CONTEXT (gdk_display_get_app_launch_context (
    parent ? gtk_widget_get_display (GTK_WIDGET (parent)) : gdk_display_get_default ()));
  /* GLib goes through the OpenURI portal by itself inside Flatpak. */
  g_app_info_launch_default_for_uri_async (uri, context, NULL, launched, NULL);
}

static void
folder_launched (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    g_warning ("the download folder could not be opened: %s", error->message);
}

static void
open_parent_directory (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) parent = g_file_get_parent (file);
  g_autofree char *uri = g_file_get_uri (parent);

  g_app_info_launch_default_for_uri_async (uri, NULL, NULL, folder_launched, NULL);
}

static void
shown (GObject      *source,
       GAsyncResult *result,
       gpointer      user_data)
{
  g_autofree char *path = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                             &error);

  if (reply != NULL)
    return;
  /* No file manager on the bus: open the folder itself. */
  g_info ("no file manager to show %s (%s); opening its folder", path, error->message);
  open_parent_directory (path);
}

static void
portal_shown (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree char *path = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
    g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source), NULL, result,
                                                     &error);

  if (reply == NULL)
    g_warning ("the download folder could not be opened: %s", error->message);
}

void
cb_download_show_folder (CbDownload *download,
                         GtkWindow  *parent)
{
  const char *path = cb_download_get_destination (download);
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *uri = NULL;
  const char *uris[2] = { NULL, NULL };

  if (path == NULL)
    return;
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  if (bus == NULL)
    {
      open_parent_directory (path);
      return;
    }
  if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    {
      /* The portal opens the folder with the file selected, and needs
       * nothing more of the sandbox than the file itself. */
      int fd = g_open (path, O_PATH | O_CLOEXEC, 0);
      g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
      GVariantBuilder options;

      if (fd < 0 || g_unix_fd_list_append (fds, fd, NULL) < 0)
        {
          if (fd >= 0)
            close (fd);
          open_parent_directory (path);
          return;
        }
      close (fd);
      g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
      g_dbus_connection_call_with_unix_fd_list (bus, "org.freedesktop.portal.Desktop",
                                                "/org/freedesktop/portal/desktop",
                                                "org.freedesktop.portal.OpenURI", "OpenDirectory",
                                                g_variant_new ("(sha{sv})", "", 0, &options),
                                                NULL, G_DBUS_CALL_FLAGS_NONE, -1, fds, NULL,
                                                portal_shown, g_strdup (path));
      return;
    }
  file = g_file_new_for_path (path);
  uri = g_file_get_uri (file);
  uris[0] = uri;
  g_dbus_connection_call (bus, "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                          "org.freedesktop.FileManager1", "ShowItems",
                          g_variant_new ("(^ass)", uris, ""), NULL,
                          G_DBUS_CALL_FLAGS_NONE, 5000, NULL, shown, g_strdup (path));
}

/* --- rows --- */

typedef struct {
  CbDownloadsPopover *popover;
  CbDownload *download;
  GtkProgressBar *progress;
  GtkLabel *status;
  GtkWidget *cancel, *retry, *open, *folder;
} Row;

static void
row_free (gpointer data)
{
  Row *row = data;

  g_signal_handlers_disconnect_by_data (row->download, row);
  g_object_unref (row->download);
  g_free (row);
}

static void
row_update (Row *row)
{
  CbDownloadState state = cb_download_get_state (row->download);
  g_autofree char *status = cb_download_describe (row->download);

  gtk_progress_bar_set_fraction (row->progress, cb_download_get_progress (row->download));
  gtk_widget_set_visible (GTK_WIDGET (row->progress), state == CB_DOWNLOAD_RUNNING);
  gtk_label_set_text (row->status, status);
  gtk_widget_set_visible (row->cancel, state == CB_DOWNLOAD_RUNNING);
  gtk_widget_set_visible (row->retry, state == CB_DOWNLOAD_FAILED || state == CB_DOWNLOAD_CANCELLED);
  gtk_widget_set_visible (row->open, state == CB_DOWNLOAD_FINISHED);
  gtk_widget_set_visible (row->folder, state == CB_DOWNLOAD_FINISHED);
}

static GtkWindow *
window_of (Row *row)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (row->popover));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

static void
on_cancel (GtkButton *button, Row *row)
{
  cb_download_cancel (row->download);
}

static void
on_retry (GtkButton *button, Row *row)
{
  cb_download_manager_retry (row->popover->manager, row->download);
}

static void
on_open (GtkButton *button, Row *row)
{
  cb_download_open_file (row->download, window_of (row));
  gtk_popover_popdown (GTK_POPOVER (row->popover));
}

static void
on_folder (GtkButton *button, Row *row)
{
  cb_download_show_folder (row->download, window_of (row));
  gtk_popover_popdown (GTK_POPOVER (row->popover));
}

/* @icon NULL: a text button (Open, the main thing to do once finished). */
static GtkWidget *
row_button (const char *icon,
            const char *label,
            const char *name,
            GCallback   callback,
            Row        *row)
{
  GtkWidget *button = icon ? gtk_button_new_from_icon_name (icon) : gtk_button_new_with_label (label);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  if (icon != NULL)
    gtk_widget_add_css_class (button, "circular");
  gtk_widget_set_tooltip_text (button, label);
  gtk_widget_set_name (button, name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  g_signal_connect (button, "clicked", callback, row);
  return button;
}

static GtkWidget *
create_row (gpointer item,
            gpointer user_data)
{
  CbDownloadsPopover *self = user_data;
  Row *row = g_new0 (Row, 1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *list_row = gtk_list_box_row_new ();

  row->popover = self;
  row->download = g_object_ref (item);
  g_object_bind_property (item, "filename", name, "label", G_BINDING_SYNC_CREATE);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_width_chars (GTK_LABEL (name), 24);
  gtk_label_set_max_width_chars (GTK_LABEL (name), 36);
  row->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  row->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->status, 0);
  gtk_label_set_ellipsize (row->status, PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (GTK_WIDGET (row->status), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (row->status), "caption");
  gtk_box_append (GTK_BOX (texts), name);
  gtk_box_append (GTK_BOX (texts), GTK_WIDGET (row->progress));
  gtk_box_append (GTK_BOX (texts), GTK_WIDGET (row->status));
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_box_append (GTK_BOX (box), texts);
  row->cancel = row_button ("process-stop-symbolic", "Cancel", "cancel", G_CALLBACK (on_cancel), row);
  row->retry = row_button ("view-refresh-symbolic", "Retry", "retry", G_CALLBACK (on_retry), row);
  row->open = row_button (NULL, "Open", "open", G_CALLBACK (on_open), row);
  row->folder = row_button ("folder-open-symbolic", "Show in Folder", "folder",
                            G_CALLBACK (on_folder), row);
  gtk_box_append (GTK_BOX (box), row->cancel);
  gtk_box_append (GTK_BOX (box), row->retry);
  gtk_box_append (GTK_BOX (box), row->open);
  gtk_box_append (GTK_BOX (box), row->folder);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (list_row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (list_row), FALSE);
  g_object_set_data_full (G_OBJECT (list_row), "cb-row", row, row_free);
  g_signal_connect_swapped (item, "notify::state", G_CALLBACK (row_update), row);
  g_signal_connect_swapped (item, "notify::progress", G_CALLBACK (row_update), row);
  row_update (row);
  return list_row;
}

GtkWidget *
cb_downloads_popover_get_button (CbDownloadsPopover *self,
                                 guint               index,
                                 const char         *name)
{
  GtkListBoxRow *list_row = gtk_list_box_get_row_at_index (self->list, (int) index);
  Row *row = list_row ? g_object_get_data (G_OBJECT (list_row), "cb-row") : NULL;
  GtkWidget *button = NULL;

  if (row == NULL)
    return NULL;
  if (g_str_equal (name, "cancel"))
    button = row->cancel;
  else if (g_str_equal (name, "retry"))
    button = row->retry;
  else if (g_str_equal (name, "open"))
    button = row->open;
  else if (g_str_equal (name, "folder"))
    button = row->folder;
  return button && gtk_widget_get_visible (button) ? button : NULL;
}

static void
on_clear (GtkButton          *button,
          CbDownloadsPopover *self)
{
  cb_download_manager_clear (self->manager);
}

static void
cb_downloads_popover_dispose (GObject *object)
{
  CbDownloadsPopover *self = CB_DOWNLOADS_POPOVER (object);

  g_clear_object (&self->manager);
  G_OBJECT_CLASS (cb_downloads_popover_parent_class)->dispose (object);
}

static void
cb_downloads_popover_class_init (CbDownloadsPopoverClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_downloads_popover_dispose;
}

static void
cb_downloads_popover_init (CbDownloadsPopover *self)
{
}

GtkWidget *
cb_downloads_popover_new (CbDownloadManager *manager)
{
  CbDownloadsPopover *self = g_object_new (CB_TYPE_DOWNLOADS_POPOVER, NULL);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clear = gtk_button_new_with_mnemonic ("_Clear Finished");

  self->manager = g_object_ref (manager);
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Downloads", -1);
  gtk_list_box_bind_model (self->list, cb_download_manager_get_model (manager), create_row, self,
                           NULL);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->list));
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 420);
  gtk_widget_set_halign (clear, GTK_ALIGN_END);
  g_signal_connect (clear, "clicked", G_CALLBACK (on_clear), self);
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_box_append (GTK_BOX (box), clear);
  gtk_popover_set_child (GTK_POPOVER (self), box);
  return GTK_WIDGET (self);
}
