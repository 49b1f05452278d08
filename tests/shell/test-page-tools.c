/* test-page-tools.c: find in page, per-site zoom, print, view source,
 * full screen and reader mode, in real windows with real key presses */
#include "cb-config.h"
#include "cb-test-app.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <gtk/gtkunixprint.h>
#include <string.h>

static gboolean
find_status_is (gpointer data)
{
  CbWindow *window = data;
  const char *want = g_object_get_data (G_OBJECT (window), "want-status");

  return g_strcmp0 (cb_window_get_find_status (window), want) == 0;
}

static void
wait_find_status (CbWindow   *window,
                  const char *status)
{
  g_autofree char *what = g_strdup_printf ("the find bar to say \"%s\"", status);

  g_object_set_data_full (G_OBJECT (window), "want-status", g_strdup (status), g_free);
  cb_test_wait_until (find_status_is, window, what);
}

static void
test_find (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/find");
  GtkSearchEntry *entry = cb_window_get_find_entry (window);
  g_autofree char *selected = NULL;

  cb_test_wait_for_title (view, "Find");
  gtk_widget_grab_focus (GTK_WIDGET (view));
  cb_test_keys (GTK_WINDOW (window), "ctrl+f", NULL);
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (entry)) ||
                 gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (window)), GTK_WIDGET (entry)));
  cb_test_keys (GTK_WINDOW (window), "b", "e", "v", "y", NULL);
  /* The entry searches a moment after the last key. */
  cb_test_iterate (400);
  /* Four in the text, any case: "bevy", "bevy", "BEVY", "bevy". */
  wait_find_status (window, "1 of 4");
  g_free (cb_test_screenshot (GTK_WIDGET (window), "page-find"));
  cb_test_keys (GTK_WINDOW (window), "Return", NULL);
  wait_find_status (window, "2 of 4");
  cb_test_keys (GTK_WINDOW (window), "ctrl+g", NULL);
  wait_find_status (window, "3 of 4");
  cb_test_keys (GTK_WINDOW (window), "shift+Return", NULL);
  wait_find_status (window, "2 of 4");
  cb_test_keys (GTK_WINDOW (window), "ctrl+shift+g", "ctrl+shift+g", NULL);
  wait_find_status (window, "4 of 4");    /* wraps around */
  selected = cb_test_run_js (view, "window.getSelection().toString()");
  g_assert_cmpstr (selected, ==, "bevy");

  /* Nothing to find. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "platypus");
  wait_find_status (window, "No matches");
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (entry), "error"));
  g_free (cb_test_screenshot (GTK_WIDGET (window), "page-find-none"));

  /* Escape closes the bar and gives the page the focus back. */
  cb_test_keys (GTK_WINDOW (window), "Escape", NULL);
  g_assert_false (gtk_search_bar_get_search_mode (GTK_SEARCH_BAR (gtk_widget_get_ancestor (
    GTK_WIDGET (entry), GTK_TYPE_SEARCH_BAR))));
  cb_test_close_window (window);
}

typedef struct {
  WebKitWebView *view;
  double zoom;
} ZoomWait;

static gboolean
zoom_is (gpointer data)
{
  ZoomWait *wait = data;

  return G_APPROX_VALUE (webkit_web_view_get_zoom_level (wait->view), wait->zoom, 0.001);
}

static void
wait_zoom (WebKitWebView *view,
           double         zoom)
{
  ZoomWait wait = { view, zoom };
  g_autofree char *what = g_strdup_printf ("zoom %.2f", zoom);

  cb_test_wait_until (zoom_is, &wait, what);
}

static void
test_zoom (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/title/Zoomed");
  WebKitWebView *same_site, *other_site;
  CbSiteSettings *sites = cb_user_profile_get_site_settings (
    cb_web_context_get_profile (cb_window_get_context (window)));
  g_autofree char *site = cb_test_server_uri (cb_test_http, "");
  g_autofree char *other = g_strdup_printf ("http://localhost:%u/title/Elsewhere",
                                            cb_test_server_port (cb_test_http));

  cb_test_wait_for_title (view, "Zoomed");
  gtk_widget_grab_focus (GTK_WIDGET (view));
  cb_test_keys (GTK_WINDOW (window), "ctrl+plus", "ctrl+plus", NULL);
  wait_zoom (view, 1.2);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (cb_window_get_zoom_button (window))));
  g_assert_cmpstr (gtk_button_get_label (cb_window_get_zoom_button (window)), ==, "120%");
  g_assert_cmpfloat_with_epsilon (cb_site_settings_get_zoom (sites, site), 1.2, 0.001);
  g_free (cb_test_screenshot (GTK_WIDGET (window), "page-zoom"));

  /* Another tab of the same site opens at its zoom; another site does not. */
  same_site = cb_test_open (window, "/title/Same%20Site");
  cb_test_wait_for_title (same_site, "Same Site");
  wait_zoom (same_site, 1.2);
  other_site = WEBKIT_WEB_VIEW (cb_window_open_tab (window, other, TRUE));
  cb_test_wait_for_title (other_site, "Elsewhere");
  wait_zoom (other_site, 1.0);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (cb_window_get_zoom_button (window))));

  /* Ctrl+minus, then Ctrl+0: back to 100 %, and forgotten for the site. */
  adw_tab_view_set_selected_page (cb_window_get_tab_view (window),
                                  adw_tab_view_get_page (cb_window_get_tab_view (window),
                                                         GTK_WIDGET (view)));
  gtk_widget_grab_focus (GTK_WIDGET (view));
  cb_test_keys (GTK_WINDOW (window), "ctrl+minus", NULL);
  wait_zoom (view, 1.1);
  wait_zoom (same_site, 1.1);    /* every tab of the site follows */
  cb_test_keys (GTK_WINDOW (window), "ctrl+0", NULL);
  wait_zoom (view, 1.0);
  g_assert_cmpfloat (cb_site_settings_get_zoom (sites, site), ==, 0.0);
  cb_test_close_window (window);
}

static GtkPrintUnixDialog *
print_dialog (void)
{
  return (GtkPrintUnixDialog *) cb_test_find_window (GTK_TYPE_PRINT_UNIX_DIALOG);
}

static gboolean
printer_ready (gpointer data)
{
  GtkPrinter *printer = gtk_print_unix_dialog_get_selected_printer (print_dialog ());

  return printer != NULL && g_strcmp0 (gtk_printer_get_name (printer), "Print to File") == 0;
}

static gboolean
pdf_written (gpointer data)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (print_dialog () != NULL || !g_file_get_contents (data, &contents, &len, NULL))
    return FALSE;
  /* A whole PDF: its header, and the end-of-file marker it ends with. */
  return len > 1000 && memcmp (contents, "%PDF", 4) == 0 &&
         g_strstr_len (contents + len - 16, 16, "%%EOF") != NULL;
}

/* WebKit runs the print dialog in a loop of its own until it is
 * answered, so the answering happens from a timer inside that loop. */
typedef struct {
  char *pdf_uri;
  gboolean screenshot_taken;
  gboolean answered;
} PrintAnswer;

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_descendant (child, type);
      if (found)
        return found;
    }
  return NULL;
}

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
/* Clicks the printer's row, as a person would. */
static gboolean
select_printer (GtkPrintUnixDialog *dialog,
                const char         *name)
{
  GtkWidget *tree = find_descendant (GTK_WIDGET (dialog), GTK_TYPE_TREE_VIEW);
  GtkTreeModel *model = tree ? gtk_tree_view_get_model (GTK_TREE_VIEW (tree)) : NULL;
  GtkTreeIter iter;

  if (model == NULL || !gtk_tree_model_get_iter_first (model, &iter))
    return FALSE;
  do
    {
      GValue value = G_VALUE_INIT;
      gboolean match = FALSE;

      for (int column = 0; column < gtk_tree_model_get_n_columns (model) && !match; column++)
        {
          gtk_tree_model_get_value (model, &iter, column, &value);
          if (G_VALUE_HOLDS (&value, GTK_TYPE_PRINTER))
            match = g_strcmp0 (gtk_printer_get_name (g_value_get_object (&value)), name) == 0;
          else if (G_VALUE_HOLDS_STRING (&value))
            match = g_strcmp0 (g_value_get_string (&value), name) == 0;
          g_value_unset (&value);
        }
      if (match)
        {
          gtk_tree_selection_select_iter (gtk_tree_view_get_selection (GTK_TREE_VIEW (tree)), &iter);
          return TRUE;
        }
    }
  while (gtk_tree_model_iter_next (model, &iter));
  return FALSE;
}
G_GNUC_END_IGNORE_DEPRECATIONS

static gboolean
answer_print_dialog (gpointer data)
{
  PrintAnswer *answer = data;
  GtkPrintUnixDialog *dialog = print_dialog ();

  if (dialog == NULL || !gtk_widget_get_mapped (GTK_WIDGET (dialog)))
    return G_SOURCE_CONTINUE;
  if (!answer->screenshot_taken)
    {
      g_autoptr(GtkPrintSettings) settings = gtk_print_settings_new ();

      answer->screenshot_taken = TRUE;
      g_free (cb_test_screenshot_screen ("page-print-dialog"));
      /* As a person would: the "Print to File" printer, a file name. */
      gtk_print_settings_set_printer (settings, "Print to File");
      gtk_print_settings_set (settings, GTK_PRINT_SETTINGS_OUTPUT_URI, answer->pdf_uri);
      gtk_print_settings_set (settings, GTK_PRINT_SETTINGS_OUTPUT_FILE_FORMAT, "pdf");
      gtk_print_unix_dialog_set_settings (dialog, settings);
      return G_SOURCE_CONTINUE;
    }
  if (!printer_ready (NULL))
    {
      select_printer (dialog, "Print to File");
      return G_SOURCE_CONTINUE;
    }
  answer->answered = TRUE;
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  return G_SOURCE_REMOVE;
}

static void
test_print (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/find");
  g_autofree char *pdf = g_build_filename (g_get_tmp_dir (), "printed.pdf", NULL);
  PrintAnswer answer = { 0 };

  answer.pdf_uri = g_filename_to_uri (pdf, NULL, NULL);
  cb_test_wait_for_title (view, "Find");
  gtk_widget_grab_focus (GTK_WIDGET (view));
  g_timeout_add (100, answer_print_dialog, &answer);
  cb_test_keys (GTK_WINDOW (window), "ctrl+p", NULL);
  cb_test_wait_until (pdf_written, pdf, "the page to be printed to a PDF file");
  g_assert_true (answer.answered);
  g_unlink (pdf);
  g_free (answer.pdf_uri);
  cb_test_close_window (window);
}

static void
test_view_source (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/");
  g_autofree char *uri = cb_test_server_uri (cb_test_http, "/");
  g_autofree char *title = g_strdup_printf ("Source of %s", uri);
  g_autofree char *text = NULL;
  WebKitWebView *source;

  cb_test_wait_for_title (view, "Index");
  gtk_widget_grab_focus (GTK_WIDGET (view));
  cb_test_keys (GTK_WINDOW (window), "ctrl+u", NULL);
  cb_test_wait_tabs (window, 2);
  source = WEBKIT_WEB_VIEW (cb_window_get_active_view (window));
  g_assert_true (source != view);
  cb_test_wait_for_title (source, title);
  g_assert_true (g_str_has_prefix (webkit_web_view_get_uri (source), "view-source:"));
  text = cb_test_run_js (source, "document.getElementById('source').innerText");
  /* The HTML as text, not as a page. */
  g_assert_nonnull (strstr (text, "<title>Index</title>"));
  g_assert_nonnull (strstr (text, "<a id=\"next\" href=\"/page2\">"));
  {
    g_autofree char *links = cb_test_run_js (source, "String(document.links.length)");
    g_assert_cmpstr (links, ==, "0");
  }
  g_free (cb_test_screenshot (GTK_WIDGET (window), "page-view-source"));
  cb_test_close_window (window);
}

static gboolean
is_fullscreen (gpointer data)
{
  return gtk_window_is_fullscreen (data);
}

static gboolean
not_fullscreen (gpointer data)
{
  return !gtk_window_is_fullscreen (data);
}

static gboolean
wm_running (gpointer data)
{
  g_autofree char *out = NULL;
  const char *argv[] = { "xprop", "-root", "_NET_SUPPORTING_WM_CHECK", NULL };

  /* openbox sets it once it manages the screen. */
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                NULL, &out, NULL, NULL, NULL);
  return out != NULL && strstr (out, "window id") != NULL;
}

/* Full screen is the window manager's to grant: the tests' X server has
 * none, so this test runs one (openbox) while it lasts. */
static void
test_fullscreen (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) wm = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                                "openbox", "--sm-disable", NULL);
  CbWindow *window;
  WebKitWebView *view;

  g_assert_no_error (error);
  cb_test_wait_until (wm_running, NULL, "the window manager to start");
  window = cb_test_new_window ();
  view = cb_test_open (window, "/find");

  cb_test_wait_for_title (view, "Find");
  gtk_widget_grab_focus (GTK_WIDGET (view));
  cb_test_keys (GTK_WINDOW (window), "F11", NULL);
  cb_test_wait_until (is_fullscreen, window, "full screen");
  g_assert_false (gtk_revealer_get_reveal_child (cb_window_get_header_revealer (window)));
  g_free (cb_test_screenshot (GTK_WIDGET (window), "page-fullscreen"));
  cb_test_keys (GTK_WINDOW (window), "F11", NULL);
  cb_test_wait_until (not_fullscreen, window, "leaving full screen");
  g_assert_true (gtk_revealer_get_reveal_child (cb_window_get_header_revealer (window)));
  /* Escape leaves too. */
  cb_test_keys (GTK_WINDOW (window), "F11", NULL);
  cb_test_wait_until (is_fullscreen, window, "full screen again");
  cb_test_keys (GTK_WINDOW (window), "Escape", NULL);
  cb_test_wait_until (not_fullscreen, window, "Escape to leave full screen");
  cb_test_close_window (window);
  g_subprocess_send_signal (wm, SIGTERM);
  g_subprocess_wait (wm, NULL, NULL);
}

static gboolean
reader_offered (gpointer data)
{
  CbWindow *window = data;

  return gtk_widget_get_visible (GTK_WIDGET (cb_window_get_reader_button (window)));
}

static gboolean
is_reader (gpointer data)
{
  return cb_web_view_is_reader (data) && !webkit_web_view_is_loading (data);
}

static gboolean
not_reader (gpointer data)
{
  return !cb_web_view_is_reader (data) && !webkit_web_view_is_loading (data);
}

static void
test_reader (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/article");
  WebKitWebView *plain;
  g_autofree char *uri = cb_test_server_uri (cb_test_http, "/article");
  g_autofree char *text = NULL, *scripted = NULL, *links = NULL;

  /* A short page is not offered reader view. */
  plain = cb_test_open (window, "/page2");
  cb_test_wait_for_title (plain, "Page Two");
  cb_test_iterate (500);
  g_assert_false (reader_offered (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.close-tab", NULL);
  cb_test_wait_tabs (window, 1);

  cb_test_wait_for_title (view, "A Calm Article");
  cb_test_wait_until (reader_offered, window, "reader view to be offered");
  gtk_widget_grab_focus (GTK_WIDGET (view));
  cb_test_keys (GTK_WINDOW (window), "ctrl+alt+r", NULL);
  cb_test_wait_until (is_reader, view, "the reader view");
  g_assert_true (gtk_toggle_button_get_active (cb_window_get_reader_button (window)));
  /* The address is still the article's. */
  g_assert_cmpstr (cb_test_entry_text (window), ==, uri);
  text = cb_test_run_js (view, "document.body.innerText");
  g_test_message ("reader view: %.300s", text);
  g_assert_nonnull (strstr (text, "A Calm Article"));
  g_assert_nonnull (strstr (text, "Why reading should be calm"));
  g_assert_nonnull (strstr (text, "calm column"));
  /* Menus, sidebars and footers stay behind; the page's scripts too. */
  g_assert_null (strstr (text, "Related story"));
  g_assert_null (strstr (text, "Weather"));
  g_assert_null (strstr (text, "Copyright nobody"));
  scripted = cb_test_run_js (view, "String(document.body.dataset.scripted)");
  g_assert_cmpstr (scripted, ==, "undefined");
  links = cb_test_run_js (view, "document.getElementById('cb-reader-original').href");
  g_assert_cmpstr (links, ==, uri);
  g_free (cb_test_screenshot_screen ("page-reader"));

  /* The same key (or button) goes back to the page. */
  cb_test_keys (GTK_WINDOW (window), "ctrl+alt+r", NULL);
  cb_test_wait_until (not_reader, view, "the page itself");
  cb_test_wait_for_title (view, "A Calm Article");
  g_assert_cmpstr (webkit_web_view_get_uri (view), ==, uri);
  cb_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  cb_test_app_init (&argc, &argv, "PageTools");
  g_test_add_func ("/shell/page/find", test_find);
  g_test_add_func ("/shell/page/zoom", test_zoom);
  g_test_add_func ("/shell/page/print", test_print);
  g_test_add_func ("/shell/page/view-source", test_view_source);
  g_test_add_func ("/shell/page/fullscreen", test_fullscreen);
  g_test_add_func ("/shell/page/reader", test_reader);
  return cb_test_app_run ();
}
