/* test-context-menu.c: right-clicks (real ones, through the X server) on
 * a link, an image and text; the menu's items, used from the menu */
#include "cb-config.h"
#include "cb-test-app.h"

#include <string.h>

typedef struct {
  char *items;   /* the menu's items as the browser made it, "|ctx.name|stock-N…" */
} MenuSeen;

static char *labels (WebKitContextMenu *menu);

/* Connected after the browser's handler: sees the menu as it will be
 * shown (WebKit takes the items away once it shows them). */
static gboolean
on_context_menu (WebKitWebView       *view,
                 WebKitContextMenu   *menu,
                 WebKitHitTestResult *hit,
                 MenuSeen            *seen)
{
  g_free (seen->items);
  seen->items = labels (menu);
  return FALSE;   /* let WebKit show it */
}

static char *
labels (WebKitContextMenu *menu)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (GList *l = webkit_context_menu_get_items (menu); l != NULL; l = l->next)
    {
      GAction *action = webkit_context_menu_item_get_gaction (l->data);
      WebKitContextMenuAction stock = webkit_context_menu_item_get_stock_action (l->data);

      if (webkit_context_menu_item_is_separator (l->data))
        g_string_append (out, "|---");
      else if (stock == WEBKIT_CONTEXT_MENU_ACTION_CUSTOM && action != NULL)
        g_string_append_printf (out, "|ctx.%s", g_action_get_name (action));
      else
        g_string_append_printf (out, "|stock-%d", stock);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
menu_seen (gpointer data)
{
  return ((MenuSeen *) data)->items != NULL;
}

/* The element's centre in the view's coordinates (CSS pixels at zoom 1). */
static void
element_centre (WebKitWebView *view,
                const char    *id,
                double        *x,
                double        *y)
{
  g_autofree char *script = g_strdup_printf ("(function () { const r = document.getElementById('%s')"
                                             ".getBoundingClientRect(); return (r.left + r.width / 2) "
                                             "+ ',' + (r.top + r.height / 2); })()", id);
  g_autofree char *result = cb_test_run_js (view, script);
  g_auto(GStrv) parts = g_strsplit (result, ",", 2);

  *x = g_ascii_strtod (parts[0], NULL);
  *y = g_ascii_strtod (parts[1], NULL);
}

static const char *
right_click (WebKitWebView *view,
             const char    *id,
             MenuSeen      *seen)
{
  double x, y;

  g_clear_pointer (&seen->items, g_free);
  element_centre (view, id, &x, &y);
  cb_test_click (GTK_WIDGET (view), x, y, 3);
  cb_test_wait_until (menu_seen, seen, "the context menu");
  return seen->items;
}

static GtkWidget *
find_menu_button (GtkWidget  *widget,
                  const char *text)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (widget);

  if (gtk_widget_get_mapped (widget) && g_object_class_find_property (klass, "text") != NULL)
    {
      g_autofree char *label = NULL;

      g_object_get (widget, "text", &label, NULL);
      if (label != NULL)
        {
          g_autoptr(GString) plain = g_string_new (NULL);

          for (const char *p = label; *p; p++)
            if (*p != '_')
              g_string_append_c (plain, *p);
          if (g_str_equal (plain->str, text))
            return widget;
        }
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_menu_button (child, text);
      if (found)
        return found;
    }
  return NULL;
}

static GtkWidget *
shown_popover_menu (GtkWidget *widget)
{
  if (GTK_IS_POPOVER_MENU (widget) && gtk_widget_get_visible (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = shown_popover_menu (child);
      if (found)
        return found;
    }
  return NULL;
}

static gboolean
popover_mapped (gpointer data)
{

  GtkWidget *popover = shown_popover_menu (data);

  return popover != NULL && gtk_widget_get_mapped (popover);
}

/* Clicks the item labelled @text in the menu WebKit shows. */
static void
choose (WebKitWebView *view,
        const char    *text)
{
  GtkWidget *popover, *button;

  cb_test_wait_until (popover_mapped, view, "the context menu to be shown");
  popover = shown_popover_menu (GTK_WIDGET (view));
  button = find_menu_button (popover, text);
  if (button == NULL)
    g_error ("no \"%s\" in the context menu", text);
  g_signal_emit_by_name (button, "clicked");
  /* A real click closes the menu as it activates; so does this. */
  gtk_popover_popdown (GTK_POPOVER (popover));
  cb_test_iterate (200);
}

static void
got_text (GObject *source, GAsyncResult *result, gpointer data)
{
  *(char **) data = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);
  if (*(char **) data == NULL)
    *(char **) data = g_strdup ("");
}

static gboolean
string_set (gpointer data)
{
  return *(char **) data != NULL;
}

static char *
clipboard_text (CbWindow *window)
{
  char *text = NULL;

  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (window)), NULL, got_text,
                                 &text);
  cb_test_wait_until (string_set, &text, "the clipboard");
  return text;
}

static gboolean
windows_are (gpointer data)
{
  return g_list_length (gtk_application_get_windows (GTK_APPLICATION (cb_test_app))) ==
         GPOINTER_TO_UINT (data);
}

static void
test_link (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/links");
  MenuSeen seen = { 0 };
  g_autofree char *link = cb_test_server_uri (cb_test_http, "/title/Linked%20Page");
  g_autofree char *items = NULL, *copied = NULL;
  guint windows = g_list_length (gtk_application_get_windows (GTK_APPLICATION (cb_test_app)));
  CbWindow *other;
  AdwTabView *tabs = cb_window_get_tab_view (window);

  g_signal_connect_after (view, "context-menu", G_CALLBACK (on_context_menu), &seen);
  cb_test_wait_for_title (view, "Links");

  items = g_strdup (right_click (view, "plain", &seen));
  g_test_message ("link menu: %s", items);
  g_assert_true (g_str_has_prefix (items, "|ctx.open-link-tab|ctx.open-link-window|ctx.copy-link"));
  {
    g_autofree char *inspect = g_strdup_printf ("stock-%d", WEBKIT_CONTEXT_MENU_ACTION_INSPECT_ELEMENT);
    g_assert_null (strstr (items, inspect));
  }
  g_free (cb_test_screenshot_screen ("context-menu-link"));

  /* Open in a new tab: beside this one, in the background. */
  choose (view, "Open Link in New Tab");
  cb_test_wait_tabs (window, 2);
  g_assert_true (WEBKIT_WEB_VIEW (cb_window_get_active_view (window)) == view);
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (adw_tab_page_get_child (adw_tab_view_get_nth_page (tabs, 1))),
                          "Linked Page");

  /* Open in a new window. */
  right_click (view, "plain", &seen);
  choose (view, "Open Link in New Window");
  cb_test_wait_until (windows_are, GUINT_TO_POINTER (windows + 1), "a new window");
  other = CB_WINDOW (gtk_application_get_windows (GTK_APPLICATION (cb_test_app))->data);
  g_assert_true (other != window);
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (cb_window_get_active_view (other)), "Linked Page");
  cb_test_close_window (other);

  /* Copy the address. */
  right_click (view, "plain", &seen);
  choose (view, "Copy Link Address");
  copied = clipboard_text (window);
  g_assert_cmpstr (copied, ==, link);

  g_clear_pointer (&seen.items, g_free);
  cb_test_close_window (window);
}

static gboolean
image_saved (gpointer data)
{
  GListModel *model = cb_download_manager_get_model (data);
  g_autoptr(CbDownload) download = g_list_model_get_n_items (model) ? g_list_model_get_item (model, 0)
                                                                    : NULL;

  return download != NULL && cb_download_get_state (download) == CB_DOWNLOAD_FINISHED &&
         g_str_has_suffix (cb_download_get_destination (download), "favicon.png");
}

static void
test_image (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/links");
  MenuSeen seen = { 0 };
  CbDownloadManager *downloads = cb_web_context_get_downloads (cb_window_get_context (window));
  g_autofree char *image = cb_test_server_uri (cb_test_http, "/favicon.png");
  g_autofree char *items = NULL, *copied = NULL, *saved = NULL;
  g_autoptr(CbDownload) download = NULL;
  gsize saved_len = 0;

  g_signal_connect_after (view, "context-menu", G_CALLBACK (on_context_menu), &seen);
  cb_test_wait_for_title (view, "Links");
  items = g_strdup (right_click (view, "picture", &seen));
  g_test_message ("image menu: %s", items);
  g_assert_true (g_str_has_prefix (items, "|ctx.open-image-tab|ctx.save-image|ctx.copy-image-address"));
  g_free (cb_test_screenshot_screen ("context-menu-image"));

  choose (view, "Save Image");
  cb_test_wait_until (image_saved, downloads, "the image to be saved");
  /* The downloads list opened for it; a click elsewhere closes it. */
  gtk_popover_popdown (GTK_POPOVER (cb_window_get_downloads_popover (window)));
  download = g_list_model_get_item (cb_download_manager_get_model (downloads), 0);
  g_assert_true (g_file_get_contents (cb_download_get_destination (download), &saved, &saved_len,
                                      NULL));
  g_assert_cmpmem (saved, 8, "\x89PNG\r\n\x1a\n", 8);

  right_click (view, "picture", &seen);
  choose (view, "Copy Image Address");
  copied = clipboard_text (window);
  g_assert_cmpstr (copied, ==, image);
  g_clear_pointer (&seen.items, g_free);
  cb_test_close_window (window);
}

static gboolean
inspector_open (gpointer data)
{
  WebKitWebInspector *inspector = webkit_web_view_get_inspector (data);
  WebKitWebViewBase *inspector_view = webkit_web_inspector_get_web_view (inspector);

  /* Shown, and given a moment to draw its page. */
  if (inspector_view == NULL || !gtk_widget_get_mapped (GTK_WIDGET (inspector_view)))
    return FALSE;
  cb_test_iterate (1000);
  return TRUE;
}

static void
test_inspect (void)
{
  g_autoptr(GSettings) settings = g_settings_new (CB_SCHEMA_ID);
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/links");
  MenuSeen seen = { 0 };
  g_autofree char *inspect = g_strdup_printf ("stock-%d", WEBKIT_CONTEXT_MENU_ACTION_INSPECT_ELEMENT);
  g_autofree char *before = NULL, *after = NULL;

  g_signal_connect_after (view, "context-menu", G_CALLBACK (on_context_menu), &seen);
  cb_test_wait_for_title (view, "Links");
  /* Off by default: no inspector in the menu. */
  before = g_strdup (right_click (view, "text", &seen));
  g_assert_null (strstr (before, inspect));
  cb_test_keys (GTK_WINDOW (window), "Escape", NULL);

  /* The preference turns it on for every page. */
  g_settings_set_boolean (settings, "enable-developer-tools", TRUE);
  after = g_strdup (right_click (view, "text", &seen));
  g_test_message ("with developer tools: %s", after);
  g_assert_nonnull (strstr (after, inspect));
  choose (view, "Inspect Element");
  cb_test_wait_until (inspector_open, view, "the web inspector to open");
  g_free (cb_test_screenshot_screen ("context-menu-inspector"));
  webkit_web_inspector_close (webkit_web_view_get_inspector (view));
  g_settings_set_boolean (settings, "enable-developer-tools", FALSE);
  g_clear_pointer (&seen.items, g_free);
  cb_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  cb_test_app_init (&argc, &argv, "ContextMenu");
  g_test_add_func ("/shell/context-menu/link", test_link);
  g_test_add_func ("/shell/context-menu/image", test_image);
  g_test_add_func ("/shell/context-menu/inspect", test_inspect);
  return cb_test_app_run ();
}
