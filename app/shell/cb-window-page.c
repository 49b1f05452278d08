/* cb-window-page.c: what to do with the page as a whole
 *
 * Print (Ctrl+P, GTK's print dialog), view its source (Ctrl+U, in a new
 * tab), full screen (F11: the header bar goes; F11 or Escape bring it
 * back), and reader mode (Ctrl+Alt+R, offered when the page looks like an
 * article). */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-window-private.h"
#include "cb-reader.h"

static GtkPrintSettings *last_print_settings;

static void
on_print_finished (WebKitPrintOperation *operation,
                   gpointer              user_data)
{
  g_set_object (&last_print_settings, webkit_print_operation_get_print_settings (operation));
}

static void
on_print_failed (WebKitPrintOperation *operation,
                 GError               *error,
                 CbWindow             *self)
{
  g_autofree char *message = g_strdup_printf ("The page could not be printed: %s", error->message);

  _cb_window_toast (self, message);
}

static void
action_print (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  CbWindow *self = CB_WINDOW (widget);
  CbWebView *view = cb_window_get_active_view (self);
  g_autoptr(WebKitPrintOperation) operation = NULL;

  if (view == NULL)
    return;
  operation = webkit_print_operation_new (WEBKIT_WEB_VIEW (view));
  /* The choices of the last print, as people expect. */
  if (last_print_settings != NULL)
    webkit_print_operation_set_print_settings (operation, last_print_settings);
  g_signal_connect (operation, "finished", G_CALLBACK (on_print_finished), NULL);
  g_signal_connect_object (operation, "failed", G_CALLBACK (on_print_failed), self, 0);
  webkit_print_operation_run_dialog (operation, GTK_WINDOW (self));
}

static void
action_view_source (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  CbWindow *self = CB_WINDOW (widget);
  CbWebView *view = cb_window_get_active_view (self);
  const char *uri = view ? cb_web_view_get_display_uri (view) : NULL;
  g_autofree char *source = NULL;

  if (uri == NULL || !(g_str_has_prefix (uri, "http:") || g_str_has_prefix (uri, "https:") ||
                       g_str_has_prefix (uri, "file:")))
    {
      _cb_window_toast (self, "This page has no source to show");
      return;
    }
  source = g_strconcat ("view-source:", uri, NULL);
  cb_window_open_tab (self, source, TRUE);
}

static void
update_fullscreen (CbWindow *self)
{
  gboolean fullscreen = gtk_window_is_fullscreen (GTK_WINDOW (self));

  gtk_revealer_set_reveal_child (self->header_revealer, !fullscreen);
  gtk_widget_set_visible (GTK_WIDGET (self->tab_bar), !fullscreen);
  /* Escape only means something while in full screen. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.leave-fullscreen", fullscreen);
}

static void
on_fullscreened (CbWindow   *self,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  update_fullscreen (self);
}

static void
action_fullscreen (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  GtkWindow *window = GTK_WINDOW (widget);

  if (gtk_window_is_fullscreen (window))
    gtk_window_unfullscreen (window);
  else
    gtk_window_fullscreen (window);
}

static void
action_leave_fullscreen (GtkWidget  *widget,
                         const char *name,
                         GVariant   *param)
{
  gtk_window_unfullscreen (GTK_WINDOW (widget));
}

/* --- reader mode --- */

static void
reader_opened (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(CbWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!cb_reader_open_finish (CB_READER (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *message = g_strdup_printf ("Reader view is not available: %s", error->message);
      _cb_window_toast (self, message);
    }
}

static void
action_reader_mode (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  CbWindow *self = CB_WINDOW (widget);
  CbWebView *view = cb_window_get_active_view (self);

  if (view == NULL)
    return;
  if (cb_web_view_is_reader (view))
    {
      /* Back to the page itself, as it was. */
      if (webkit_web_view_can_go_back (WEBKIT_WEB_VIEW (view)))
        webkit_web_view_go_back (WEBKIT_WEB_VIEW (view));
      else
        webkit_web_view_load_uri (WEBKIT_WEB_VIEW (view), cb_web_view_get_display_uri (view));
      return;
    }
  cb_reader_open_async (cb_web_context_get_reader (self->context), WEBKIT_WEB_VIEW (view), NULL,
                        reader_opened, g_object_ref (self));
}

static void
update_reader_button (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);
  gboolean reader = view && cb_web_view_is_reader (view);
  gboolean article = view && g_object_get_data (G_OBJECT (view), "cb-article") != NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->reader_button), reader || article);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->reader_button),
                               reader ? "Leave reader view (Ctrl+Alt+R)" : "Reader view (Ctrl+Alt+R)");
  g_signal_handlers_block_matched (self->reader_button, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  gtk_toggle_button_set_active (self->reader_button, reader);
  g_signal_handlers_unblock_matched (self->reader_button, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL,
                                     self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reader-mode", reader || article);
}

typedef struct {
  CbWindow *window;
  CbWebView *view;
  char *uri;
} CheckData;

static void
checked (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  CheckData *check = user_data;
  gboolean article = cb_reader_check_finish (CB_READER (source), result, NULL);

  /* Still the page that was checked. */
  if (g_strcmp0 (webkit_web_view_get_uri (WEBKIT_WEB_VIEW (check->view)), check->uri) == 0)
    {
      g_object_set_data (G_OBJECT (check->view), "cb-article", article ? GINT_TO_POINTER (1) : NULL);
      update_reader_button (check->window);
    }
  g_object_unref (check->window);
  g_object_unref (check->view);
  g_free (check->uri);
  g_free (check);
}

static void
on_load_changed (CbWebView       *view,
                 WebKitLoadEvent  event,
                 CbWindow        *self)
{
  const char *uri = webkit_web_view_get_uri (WEBKIT_WEB_VIEW (view));
  CheckData *check;

  if (event == WEBKIT_LOAD_COMMITTED)
    {
      g_object_set_data (G_OBJECT (view), "cb-article", NULL);
      if (view == cb_window_get_active_view (self))
        update_reader_button (self);
      return;
    }
  if (event != WEBKIT_LOAD_FINISHED || cb_web_view_is_showing_error (view) || uri == NULL ||
      !(g_str_has_prefix (uri, "http:") || g_str_has_prefix (uri, "https:") ||
        g_str_has_prefix (uri, "file:")))
    return;
  check = g_new0 (CheckData, 1);
  check->window = g_object_ref (self);
  check->view = g_object_ref (view);
  check->uri = g_strdup (uri);
  cb_reader_check_async (cb_web_context_get_reader (self->context), WEBKIT_WEB_VIEW (view), NULL,
                         checked, check);
}

void
_cb_window_page_add_view (CbWindow  *self,
                          CbWebView *view)
{
  g_signal_connect_object (view, "load-changed", G_CALLBACK (on_load_changed), self, G_CONNECT_AFTER);
}

void
_cb_window_page_update (CbWindow *self)
{
  update_reader_button (self);
}

void
_cb_window_page_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.print", NULL, action_print);
  gtk_widget_class_install_action (widget_class, "win.view-source", NULL, action_view_source);
  gtk_widget_class_install_action (widget_class, "win.fullscreen", NULL, action_fullscreen);
  gtk_widget_class_install_action (widget_class, "win.leave-fullscreen", NULL,
                                   action_leave_fullscreen);
  gtk_widget_class_install_action (widget_class, "win.reader-mode", NULL, action_reader_mode);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.leave-fullscreen", NULL);
}

void
_cb_window_page_init (CbWindow *self)
{
  g_signal_connect (self, "notify::fullscreened", G_CALLBACK (on_fullscreened), NULL);
  update_fullscreen (self);
}
