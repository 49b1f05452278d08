/* test-browser.c: the browser shell driven in real windows under Xvfb
 *
 * Every test browses the local libsoup server of cb-test-server.c through a
 * real CbApplication and CbWindow, and saves a screenshot of the window. */
#include "cb-config.h"
#include "cb-application.h"
#include "cb-cloud-init.h"
#include "cb-error-page.h"
#include "cb-test-server.h"
#include "cb-test-ui.h"

static CbApplication *app;
static CbTestServer *server;
/* A cloud of this test's own, with a file:// list in a temp dir. */
static char *cloud_dir;

static CbWindow *
new_window (void)
{
  CbWindow *window = cb_application_new_window (app);

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static WebKitWebView *
open_path (CbWindow   *window,
           const char *path)
{
  g_autofree char *uri = cb_test_server_uri (server, path);

  return WEBKIT_WEB_VIEW (cb_window_open_tab (window, uri, TRUE));
}

static const char *
entry_text (CbWindow *window)
{
  return gtk_editable_get_text (GTK_EDITABLE (cb_window_get_address_entry (window)));
}

/* What the Back and Forward buttons show: their actions' state. */
static gboolean
action_enabled (CbWindow   *window,
                const char *action)
{
  GtkWidget *button = g_str_equal (action, "win.back") ? cb_window_get_back_button (window)
                                                       : cb_window_get_forward_button (window);

  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==, action);
  return gtk_widget_is_sensitive (button);
}

static void
activate (CbWindow   *window,
          const char *action)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), action, NULL));
}

static void
close_window (CbWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  cb_test_iterate (50);
}

/* --- tests --- */

static void
test_open_page (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_path (window, "/");
  g_autofree char *uri = cb_test_server_uri (server, "/");
  AdwTabPage *page;
  g_autofree char *shot = NULL;

  cb_test_wait_for_title (view, "Index");
  page = adw_tab_view_get_selected_page (cb_window_get_tab_view (window));
  g_assert_cmpstr (adw_tab_page_get_title (page), ==, "Index");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Index");
  g_assert_cmpstr (entry_text (window), ==, uri);
  g_assert_false (cb_web_view_is_showing_error (CB_WEB_VIEW (view)));
  g_assert_cmpuint (cb_test_server_hits (server, "/"), >=, 1);
  shot = cb_test_screenshot (GTK_WIDGET (window), "browser-open-page");
  close_window (window);
}

static gboolean
tab_has_icon (gpointer data)
{
  return adw_tab_page_get_icon (data) != NULL;
}

static void
test_favicon (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_path (window, "/title/Favicon");
  AdwTabPage *page = adw_tab_view_get_page (cb_window_get_tab_view (window), GTK_WIDGET (view));
  g_autofree char *shot = NULL;

  cb_test_wait_for_title (view, "Favicon");
  cb_test_wait_until (tab_has_icon, page, "the tab to show the site's favicon");
  g_assert_cmpuint (cb_test_server_hits (server, "/favicon.png"), >=, 1);
  /* The tab bar is hidden with one tab; a second tab shows it. */
  cb_test_wait_for_title (open_path (window, "/page2"), "Page Two");
  adw_tab_view_set_selected_page (cb_window_get_tab_view (window), page);
  shot = cb_test_screenshot (GTK_WIDGET (window), "browser-favicon");
  close_window (window);
}

static void
test_follow_link_back_forward (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_path (window, "/");
  g_autofree char *page2 = cb_test_server_uri (server, "/page2");
  g_autofree char *result = NULL;
  g_autofree char *shot = NULL;

  cb_test_wait_for_title (view, "Index");
  g_assert_false (action_enabled (window, "win.back"));

  result = cb_test_run_js (view, "document.getElementById('next').click(); 'clicked'");
  g_assert_cmpstr (result, ==, "clicked");
  cb_test_wait_for_title (view, "Page Two");
  g_assert_cmpstr (entry_text (window), ==, page2);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Page Two");
  g_assert_true (action_enabled (window, "win.back"));
  g_assert_false (action_enabled (window, "win.forward"));

  activate (window, "win.back");
  cb_test_wait_for_title (view, "Index");
  g_assert_true (action_enabled (window, "win.forward"));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Index");

  activate (window, "win.forward");
  cb_test_wait_for_title (view, "Page Two");
  g_assert_cmpstr (entry_text (window), ==, page2);

  shot = cb_test_screenshot (GTK_WIDGET (window), "browser-follow-link");
  close_window (window);
}

/* Forms: a GET form navigates to its query, a POST form sends its body;
 * back and forward move between them. */
static void
test_forms (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_path (window, "/form");
  g_autofree char *result = NULL;
  g_autofree char *shot = NULL;

  cb_test_wait_for_title (view, "Form");
  result = cb_test_run_js (view, "document.getElementById('q').value = 'cloud bevy';"
                                 "document.getElementById('go').click(); 'sent'");
  g_assert_cmpstr (result, ==, "sent");
  cb_test_wait_for_title (view, "Search: cloud bevy");
  g_assert_nonnull (strstr (entry_text (window), "/search?q=cloud+bevy"));

  activate (window, "win.back");
  cb_test_wait_for_title (view, "Form");
  g_free (result);
  result = cb_test_run_js (view, "document.getElementById('note').value = 'Hello, form & co';"
                                 "document.getElementById('send').click(); 'sent'");
  cb_test_wait_for_title (view, "Posted: Hello, form & co");
  g_assert_nonnull (strstr (entry_text (window), "/posted"));
  shot = cb_test_screenshot (GTK_WIDGET (window), "browser-form-posted");

  activate (window, "win.back");
  cb_test_wait_for_title (view, "Form");
  g_assert_true (action_enabled (window, "win.forward"));
  close_window (window);
}

static gboolean
has_n_pages (gpointer data)
{
  CbWindow *window = data;

  return adw_tab_view_get_n_pages (cb_window_get_tab_view (window)) ==
         GPOINTER_TO_INT (g_object_get_data (G_OBJECT (window), "want-pages"));
}

static void
wait_n_pages (CbWindow *window,
              int       n)
{
  g_object_set_data (G_OBJECT (window), "want-pages", GINT_TO_POINTER (n));
  cb_test_wait_until (has_n_pages, window, "the tab count");
}

static gboolean
window_destroyed (gpointer data)
{
  return *(GtkWidget **) data == NULL;
}

static void
test_tabs (void)
{
  CbWindow *window = new_window ();
  AdwTabView *tabs = cb_window_get_tab_view (window);
  WebKitWebView *first = open_path (window, "/title/First");
  WebKitWebView *second;
  CbWebView *blank;
  WebKitWebView *beside;
  g_autofree char *shot = NULL;
  g_autofree char *result = NULL;
  g_autofree char *index_uri = cb_test_server_uri (server, "/");

  cb_test_wait_for_title (first, "First");

  /* Ctrl+T: a new, empty tab is selected and the address entry focused. */
  activate (window, "win.new-tab");
  g_assert_cmpint (adw_tab_view_get_n_pages (tabs), ==, 2);
  blank = cb_window_get_active_view (window);
  g_assert_true (WEBKIT_WEB_VIEW (blank) != first);
  g_assert_true (cb_window_address_has_focus (window));
  g_assert_cmpstr (entry_text (window), ==, "");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "New Tab");

  second = open_path (window, "/title/Second");
  cb_test_wait_for_title (second, "Second");
  g_assert_cmpint (adw_tab_view_get_n_pages (tabs), ==, 3);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Second");

  /* Ctrl+Tab walks the tabs and wraps around; the window title follows. */
  adw_tab_view_set_selected_page (tabs, adw_tab_view_get_nth_page (tabs, 0));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "First");
  activate (window, "win.next-tab");
  activate (window, "win.next-tab");
  activate (window, "win.next-tab");
  g_assert_true (WEBKIT_WEB_VIEW (cb_window_get_active_view (window)) == first);
  activate (window, "win.previous-tab");
  g_assert_true (WEBKIT_WEB_VIEW (cb_window_get_active_view (window)) == second);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Second");

  /* A target=_blank link opens a tab next to its page. */
  adw_tab_view_set_selected_page (tabs, adw_tab_view_get_nth_page (tabs, 0));
  cb_test_wait_for_title (first, "First");
  webkit_web_view_load_uri (first, index_uri);
  cb_test_wait_for_title (first, "Index");
  result = cb_test_run_js (first, "document.getElementById('blank').click(); 'ok'");
  wait_n_pages (window, 4);
  beside = WEBKIT_WEB_VIEW (cb_window_get_active_view (window));
  g_assert_true (beside != first);
  /* Beside its opener, after the opener's own earlier children. */
  g_assert_true (adw_tab_page_get_parent (adw_tab_view_get_page (tabs, GTK_WIDGET (beside))) ==
                 adw_tab_view_get_page (tabs, GTK_WIDGET (first)));
  cb_test_wait_for_title (beside, "Opened Beside");

  shot = cb_test_screenshot (GTK_WIDGET (window), "browser-tabs");

  /* Ctrl+W closes the selected tab and its view goes away. */
  g_object_add_weak_pointer (G_OBJECT (beside), (gpointer *) &beside);
  activate (window, "win.close-tab");
  wait_n_pages (window, 3);
  cb_test_wait_until (window_destroyed, &beside, "the closed tab's view to be freed");
  close_window (window);
}

static void
test_close_last_tab_closes_window (void)
{
  CbWindow *window = new_window ();
  GtkWidget *weak = GTK_WIDGET (window);

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &weak);
  cb_window_open_tab (window, NULL, TRUE);
  g_free (cb_test_screenshot (GTK_WIDGET (window), "browser-blank-tab"));
  activate (window, "win.close-tab");
  cb_test_wait_until (window_destroyed, &weak, "the window to close with its last tab");
}

static void
test_search_and_hosts (void)
{
  CbWindow *window = new_window ();
  CbWebView *view = cb_window_open_tab (window, NULL, TRUE);
  GtkEntry *entry = cb_window_get_address_entry (window);
  g_autofree char *host_form = NULL;
  g_autofree char *search_prefix = cb_test_server_uri (server, "/search?q=");
  g_autofree char *shot = NULL;

  /* Search terms go to the search engine from GSettings. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "cloud bevy tests");
  g_signal_emit_by_name (entry, "activate");
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Search: cloud bevy tests");
  g_assert_cmpstr (cb_test_server_last_query (server, "/search"), ==, "q=cloud%20bevy%20tests");
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (view)));
  g_assert_true (g_str_has_prefix (entry_text (window), search_prefix));
  shot = cb_test_screenshot (GTK_WIDGET (window), "browser-search");

  /* A bare host:port/path is an address, not a search. */
  host_form = g_strdup_printf ("localhost:%u/title/Bare%%20Host", cb_test_server_port (server));
  gtk_editable_set_text (GTK_EDITABLE (entry), host_form);
  g_signal_emit_by_name (entry, "activate");
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Bare Host");
  g_assert_true (g_str_has_prefix (entry_text (window), "http://localhost:"));

  /* Internal pages. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "cloud:node");
  g_signal_emit_by_name (entry, "activate");
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Cloud Node");
  g_assert_cmpstr (entry_text (window), ==, "cloud:node");
  gtk_editable_set_text (GTK_EDITABLE (entry), "cloud:apps");
  g_signal_emit_by_name (entry, "activate");
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Cloud Apps");
  gtk_editable_set_text (GTK_EDITABLE (entry), "cloud:no-such-page");
  g_signal_emit_by_name (entry, "activate");
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), CB_ERROR_PAGE_TITLE_NOT_FOUND);
  close_window (window);
}

static void
test_error_page_and_retry (void)
{
  guint16 port = cb_test_free_port ();
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u/title/Back%%20Online", port);
  g_autofree char *host = g_strdup_printf ("127.0.0.1:%u", port);
  CbWindow *window = new_window ();
  WebKitWebView *view = WEBKIT_WEB_VIEW (cb_window_open_tab (window, uri, TRUE));
  g_autoptr(CbTestServer) late_server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *shot = NULL;

  /* Nothing listens on the port: connection refused. */
  cb_test_wait_for_title (view, CB_ERROR_PAGE_TITLE_NETWORK);
  g_assert_true (cb_web_view_is_showing_error (CB_WEB_VIEW (view)));
  g_assert_cmpstr (entry_text (window), ==, uri);
  text = cb_test_run_js (view, "document.body.innerText");
  g_assert_nonnull (strstr (text, host));
  g_assert_nonnull (strstr (text, "Try Again"));
  g_test_message ("error page says: %s", text);
  shot = cb_test_screenshot (GTK_WIDGET (window), "browser-error-page");

  /* The site comes up; Try Again loads it. */
  late_server = cb_test_server_new (port, &error);
  g_assert_no_error (error);
  g_free (cb_test_run_js (view, "document.getElementById('retry').click(); 'ok'"));
  cb_test_wait_for_title (view, "Back Online");
  g_assert_false (cb_web_view_is_showing_error (CB_WEB_VIEW (view)));
  g_assert_cmpuint (cb_test_server_hits (late_server, "/title/Back Online"), ==, 1);
  g_free (cb_test_screenshot (GTK_WIDGET (window), "browser-error-page-retried"));
  close_window (window);
}

/* The header bar's Reload on an error page tries the site again too. */
static void
test_error_page_reload_button (void)
{
  guint16 port = cb_test_free_port ();
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u/title/Reloaded%%20Site", port);
  CbWindow *window = new_window ();
  WebKitWebView *view = WEBKIT_WEB_VIEW (cb_window_open_tab (window, uri, TRUE));
  g_autoptr(CbTestServer) late_server = NULL;
  g_autoptr(GError) error = NULL;

  cb_test_wait_for_title (view, CB_ERROR_PAGE_TITLE_NETWORK);
  late_server = cb_test_server_new (port, &error);
  g_assert_no_error (error);
  gtk_widget_activate (GTK_WIDGET (cb_window_get_reload_button (window)));
  cb_test_wait_for_title (view, "Reloaded Site");
  g_assert_false (cb_web_view_is_showing_error (CB_WEB_VIEW (view)));
  g_free (cb_test_screenshot (GTK_WIDGET (window), "browser-error-page-reloaded"));
  close_window (window);
}

static void
test_tls_error_page (void)
{
  g_autofree char *cert = g_test_build_filename (G_TEST_DIST, "data", "test-cert.pem", NULL);
  g_autofree char *key = g_test_build_filename (G_TEST_DIST, "data", "test-key.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbTestServer) tls_server = cb_test_server_new_tls (cert, key, &error);
  g_autofree char *uri = NULL;
  CbWindow *window;
  WebKitWebView *view;
  g_autofree char *text = NULL;
  g_autofree char *shot = NULL;

  g_assert_no_error (error);
  uri = cb_test_server_uri (tls_server, "/title/Secret");
  g_assert_true (g_str_has_prefix (uri, "https://"));
  window = new_window ();
  view = WEBKIT_WEB_VIEW (cb_window_open_tab (window, uri, TRUE));

  cb_test_wait_for_title (view, CB_ERROR_PAGE_TITLE_TLS);
  g_assert_true (cb_web_view_is_showing_error (CB_WEB_VIEW (view)));
  text = cb_test_run_js (view, "document.body.innerText");
  g_test_message ("TLS error page says: %s", text);
  g_assert_nonnull (strstr (text, "not signed by an authority this computer trusts"));
  g_assert_nonnull (strstr (text, "Try Again"));
  /* The page itself was never served. */
  g_assert_cmpuint (cb_test_server_hits (tls_server, "/title/Secret"), ==, 0);
  shot = cb_test_screenshot (GTK_WIDGET (window), "browser-tls-error");
  close_window (window);
}

static gboolean
is_loading (gpointer data)
{
  return webkit_web_view_is_loading (data);
}

static gboolean
slow_request_arrived (gpointer data)
{
  return cb_test_server_hits (server, "/slow") > 0;
}

static void
test_never_answers_and_stop (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_path (window, "/slow");
  GtkButton *reload = cb_window_get_reload_button (window);
  g_autofree char *shot = NULL;

  cb_test_wait_until (slow_request_arrived, NULL, "the request to reach the server");
  cb_test_wait_until (is_loading, view, "the load to start");
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (reload)), ==, "win.stop");
  g_assert_cmpstr (gtk_button_get_icon_name (reload), ==, "process-stop-symbolic");
  g_assert_true (adw_tab_page_get_loading (adw_tab_view_get_selected_page (cb_window_get_tab_view (window))));
  /* The address entry shows the load's progress. */
  g_assert_cmpfloat (gtk_entry_get_progress_fraction (cb_window_get_address_entry (window)), >, 0.0);
  g_assert_cmpfloat (gtk_entry_get_progress_fraction (cb_window_get_address_entry (window)), <, 1.0);
  shot = cb_test_screenshot (GTK_WIDGET (window), "browser-never-answers");

  /* Stop (the same button) ends the load with no error page. */
  gtk_widget_activate (GTK_WIDGET (reload));
  cb_test_wait_loaded (view);
  g_assert_false (cb_web_view_is_showing_error (CB_WEB_VIEW (view)));
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (reload)), ==, "win.reload");
  g_assert_false (adw_tab_page_get_loading (adw_tab_view_get_selected_page (cb_window_get_tab_view (window))));
  g_assert_cmpfloat (gtk_entry_get_progress_fraction (cb_window_get_address_entry (window)), ==, 0.0);
  g_free (cb_test_screenshot (GTK_WIDGET (window), "browser-stopped"));
  close_window (window);
}

static void
test_reload (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_path (window, "/title/Reloaded");
  guint before;

  cb_test_wait_for_title (view, "Reloaded");
  before = cb_test_server_hits (server, "/title/Reloaded");
  activate (window, "win.reload");
  cb_test_wait_until (is_loading, view, "the reload to start");
  cb_test_wait_for_title (view, "Reloaded");
  g_assert_cmpuint (cb_test_server_hits (server, "/title/Reloaded"), ==, before + 1);
  g_free (cb_test_screenshot (GTK_WIDGET (window), "browser-reload"));
  close_window (window);
}

static void
assert_accel (const char *accel,
              const char *action)
{
  g_auto(GStrv) actions = gtk_application_get_actions_for_accel (GTK_APPLICATION (app), accel);

  g_assert_nonnull (actions);
  if (!g_strv_contains ((const char * const *) actions, action))
    g_error ("%s is not bound to %s", accel, action);
}

static void
test_shortcuts_and_windows (void)
{
  CbWindow *window = new_window ();
  guint windows_before;
  GtkWidget *weak;

  assert_accel ("<Control>l", "win.focus-location");
  assert_accel ("<Control>t", "win.new-tab");
  assert_accel ("<Control>w", "win.close-tab");
  assert_accel ("<Control>r", "win.reload");
  assert_accel ("F5", "win.reload");
  assert_accel ("<Alt>Left", "win.back");
  assert_accel ("<Alt>Right", "win.forward");
  assert_accel ("<Control>Tab", "win.next-tab");
  assert_accel ("<Control><Shift>Tab", "win.previous-tab");
  assert_accel ("<Control>q", "app.quit");
  assert_accel ("<Control>n", "app.new-window");

  /* Ctrl+L focuses the address entry and selects its text. */
  open_path (window, "/page2");
  gtk_widget_grab_focus (GTK_WIDGET (cb_window_get_active_view (window)));
  activate (window, "win.focus-location");
  g_assert_true (cb_window_address_has_focus (window));
  g_free (cb_test_screenshot (GTK_WIDGET (window), "browser-focus-location"));

  /* Ctrl+N opens a second window. */
  windows_before = g_list_length (gtk_application_get_windows (GTK_APPLICATION (app)));
  g_action_group_activate_action (G_ACTION_GROUP (app), "new-window", NULL);
  g_assert_cmpuint (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))), ==,
                    windows_before + 1);

  /* Ctrl+Q closes every window. */
  weak = GTK_WIDGET (window);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &weak);
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  cb_test_wait_until (window_destroyed, &weak, "Quit to close the windows");
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
}

static gboolean
app_node_started (gpointer data)
{
  return cb_application_get_node (app) != NULL;
}

typedef struct {
  WebKitWebView *view;
  const char    *script;
  const char    *expect;  /* substring of the script's result */
} JsWait;

static gboolean
js_result_has (gpointer data)
{
  JsWait *wait = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *result = cb_test_try_js (wait->view, wait->script, &error);

  /* Polled while the page redraws itself: a failed try is "not yet". */
  if (error != NULL)
    g_test_message ("not yet: %s", error->message);
  if (result != NULL && strstr (result, wait->expect) != NULL)
    return TRUE;
  cb_test_iterate (200);
  return FALSE;
}

static void
on_second_stopped (GObject *source, GAsyncResult *result, gpointer data)
{
  g_assert_true (cb_node_stop_finish (CB_NODE (source), result, NULL));
  *(gboolean *) data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* cloud:node shows this profile's node, then a second node joining and
 * leaving, live: the page is updated in place, never reloaded. */
static void
test_cloud_node_page (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cloud_json = g_build_filename (cloud_dir, "cloud", "cloud.json", NULL);
  g_autofree char *publisher_key = g_build_filename (cloud_dir, "cloud", "publisher.key", NULL);
  g_autofree char *second_dir = g_build_filename (cloud_dir, "second", NULL);
  g_autoptr(CbCloudConfig) cloud = NULL;
  g_autoptr(CbNode) second = NULL;
  g_autofree char *text = NULL;
  g_autofree char *second_short = NULL;
  g_autofree char *marker = NULL;
  g_autofree char *shot = NULL;
  gboolean stopped = FALSE;
  CbNode *mine;
  JsWait wait;

  cb_test_wait_until (app_node_started, NULL, "the profile's node to start");
  mine = cb_application_get_node (app);
  view = WEBKIT_WEB_VIEW (cb_window_open_tab (window, "cloud:node", TRUE));
  cb_test_wait_for_title (view, "Cloud Node");
  text = cb_test_run_js (view, "document.getElementById('node').innerText");
  g_assert_nonnull (strstr (text, cb_node_get_id (mine)));
  g_assert_nonnull (strstr (text, "No peers yet"));
  /* It hosts no system yet: the data section says how to get one. */
  g_assert_nonnull (strstr (text, "This node hosts no systems"));
  g_free (cb_test_run_js (view, "window.cbTestMarker = 'same page'; 'set'"));

  /* A second node of the same cloud, eligible to publish: it writes itself
   * into the list, which our node (alone) re-reads and joins from. */
  cloud = cb_cloud_config_load (cloud_json, &error);
  g_assert_no_error (error);
  second = cb_node_new (second_dir, cloud, &error);
  g_assert_no_error (error);
  cb_node_set_listen (second, "127.0.0.1:0");
  g_assert_true (cb_node_set_publisher_key (second, publisher_key, &error));
  g_assert_true (cb_node_start (second, &error));
  g_assert_no_error (error);
  second_short = g_strndup (cb_node_get_id (second), 16);

  wait.view = view;
  wait.script = "Array.from(document.querySelectorAll('tr')).map(r => r.innerText).join('|')";
  wait.expect = second_short;
  cb_test_wait_until (js_result_has, &wait, "the second node to appear on cloud:node");
  wait.script = "document.querySelector('tr[data-id] .badge').innerText";
  wait.expect = "alive";
  cb_test_wait_until (js_result_has, &wait, "the second node to show as alive");
  text = (g_free (text), cb_test_run_js (view, "document.getElementById('node').innerText"));
  g_assert_nonnull (strstr (text, "publisher"));
  marker = cb_test_run_js (view, "window.cbTestMarker");
  g_assert_cmpstr (marker, ==, "same page");
  shot = cb_test_screenshot (GTK_WIDGET (window), "cloud-node-page");

  /* It leaves: the page says so. */
  cb_node_stop_async (second, NULL, on_second_stopped, &stopped);
  cb_test_wait_until (flag_set, &stopped, "the second node to stop");
  wait.expect = "left";
  cb_test_wait_until (js_result_has, &wait, "the second node to show as left");
  /* Still the page it was: updated in place, never reloaded (a reload
   * would lose the marker for good). */
  wait.script = "String(window.cbTestMarker)";
  wait.expect = "same page";
  cb_test_wait_until (js_result_has, &wait, "the page to still be the one first opened");
  close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *search = NULL;
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  /* The profile's node joins a cloud made for this run, on loopback. */
  {
    g_autofree char *dir = NULL;
    g_autofree char *list = NULL;
    g_autofree char *json = NULL;
    const char *lists[2] = { NULL, NULL };

    cloud_dir = g_dir_make_tmp ("cb-test-browser-XXXXXX", &error);
    g_assert_no_error (error);
    dir = g_build_filename (cloud_dir, "cloud", NULL);
    list = g_strdup_printf ("file://%s/nodes.json", dir);
    lists[0] = list;
    g_assert_true (cb_cloud_init (dir, "test-browser", lists, NULL, &error));
    g_assert_no_error (error);
    json = g_build_filename (dir, "cloud.json", NULL);
    g_setenv ("CB_CLOUD_CONFIG", json, TRUE);
    g_setenv ("CB_NODE_LISTEN", "127.0.0.1:0", TRUE);
  }

  server = cb_test_server_new (0, &error);
  g_assert_no_error (error);
  search = cb_test_server_uri (server, "/search?q=%s");
  settings = g_settings_new (CB_SCHEMA_ID);
  g_settings_set_string (settings, "search-url", search);

  app = cb_application_new ("io.github.cloudbevy.CloudBevy.TestBrowser");
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/shell/browser/open-page", test_open_page);
  g_test_add_func ("/shell/browser/favicon", test_favicon);
  g_test_add_func ("/shell/browser/follow-link-back-forward", test_follow_link_back_forward);
  g_test_add_func ("/shell/browser/forms", test_forms);
  g_test_add_func ("/shell/browser/tabs", test_tabs);
  g_test_add_func ("/shell/browser/close-last-tab", test_close_last_tab_closes_window);
  g_test_add_func ("/shell/browser/search-and-hosts", test_search_and_hosts);
  g_test_add_func ("/shell/browser/error-page-retry", test_error_page_and_retry);
  g_test_add_func ("/shell/browser/error-page-reload-button", test_error_page_reload_button);
  g_test_add_func ("/shell/browser/tls-error-page", test_tls_error_page);
  g_test_add_func ("/shell/browser/never-answers-stop", test_never_answers_and_stop);
  g_test_add_func ("/shell/browser/reload", test_reload);
  g_test_add_func ("/shell/browser/cloud-node-page", test_cloud_node_page);
  g_test_add_func ("/shell/browser/shortcuts-windows", test_shortcuts_and_windows);

  status = g_test_run ();
  g_clear_object (&app);
  g_clear_pointer (&server, cb_test_server_free);
  return status;
}
