/* test-history.c: history in real windows: visits recorded as pages load,
 * address-bar suggestions as you type, the history page, clearing data,
 * and a damaged history database found at start. */
#include "cb-config.h"
#include "cb-clear-data-dialog.h"
#include "cb-history-dialog.h"
#include "cb-test-app.h"

#include <string.h>

#define DAY_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

static CbHistory *
history_of (CbWindow *window)
{
  return cb_user_profile_get_history (cb_web_context_get_profile (cb_window_get_context (window)));
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static gboolean
result_set (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static CbHistoryEntry *
lookup (CbWindow   *window,
        const char *path)
{
  CbHistory *history = history_of (window);
  g_autofree char *url = cb_test_server_uri (cb_test_http, path);
  g_autoptr(GAsyncResult) result = NULL;

  cb_history_lookup_async (history, url, NULL, store_result, &result);
  cb_test_wait_until (result_set, &result, "a history lookup");
  return cb_history_lookup_finish (history, result, NULL);
}

static void
add_visit (CbWindow    *window,
           const char  *path,
           const char  *title,
           CbVisitType  type,
           gint64       time_us)
{
  CbHistory *history = history_of (window);
  g_autofree char *url = cb_test_server_uri (cb_test_http, path);
  g_autoptr(GAsyncResult) result = NULL;

  cb_history_add_visit_async (history, url, title, type, time_us, NULL, store_result, &result);
  cb_test_wait_until (result_set, &result, "a visit to be recorded");
  g_assert_true (cb_history_add_visit_finish (history, result, NULL));
}

typedef struct {
  CbWindow *window;
  const char *path;
  guint visits;
  const char *title;
} VisitWait;

static gboolean
has_visits (gpointer data)
{
  VisitWait *wait = data;
  g_autoptr(CbHistoryEntry) entry = lookup (wait->window, wait->path);

  return entry != NULL && entry->visit_count >= wait->visits &&
         (wait->title == NULL || g_strcmp0 (entry->title, wait->title) == 0);
}

static void
wait_visits (CbWindow   *window,
             const char *path,
             guint       visits,
             const char *title)
{
  VisitWait wait = { window, path, visits, title };
  g_autofree char *what = g_strdup_printf ("%u visits of %s in the history", visits, path);

  cb_test_wait_until (has_visits, &wait, what);
}

/* --- tests --- */

static gboolean
dialog_shown (gpointer data)
{
  return cb_test_find_window (ADW_TYPE_MESSAGE_DIALOG) != NULL;
}

/* First, before anything opened the profile: a damaged history file. */
static void
test_damaged_history (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "cloud-bevy", "profile", NULL);
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  const char garbage[] = "this is not an sqlite database at all, it was damaged on disk";
  CbWindow *window;
  AdwMessageDialog *dialog;
  g_autoptr(GDir) listing = NULL;
  const char *name;
  gboolean kept = FALSE;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, garbage, sizeof garbage - 1, NULL));

  window = cb_test_new_window ();
  cb_test_wait_for_title (cb_test_open (window, "/title/After%20Damage"), "After Damage");
  cb_test_wait_until (dialog_shown, NULL, "the damaged-history message");
  dialog = ADW_MESSAGE_DIALOG (cb_test_find_window (ADW_TYPE_MESSAGE_DIALOG));
  g_test_message ("%s: %s", adw_message_dialog_get_heading (dialog),
                  adw_message_dialog_get_body (dialog));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "history database"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "history.db.corrupt-"));
  g_free (cb_test_screenshot (GTK_WIDGET (dialog), "history-damaged-database"));

  /* The damaged file is kept aside; the new history works. */
  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    kept |= g_str_has_prefix (name, "history.db.corrupt-");
  g_assert_true (kept);
  wait_visits (window, "/title/After%20Damage", 1, "After Damage");
  gtk_window_destroy (GTK_WINDOW (dialog));
  cb_test_close_window (window);
}

static void
test_records_visits (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/");
  g_autoptr(CbHistoryEntry) index = NULL, page2 = NULL, typed = NULL, blank = NULL;
  g_autofree char *typed_uri = cb_test_server_uri (cb_test_http, "/title/Typed%20Page");

  cb_test_wait_for_title (view, "Index");
  g_free (cb_test_run_js (view, "document.getElementById('next').click(); 'ok'"));
  cb_test_wait_for_title (view, "Page Two");
  wait_visits (window, "/page2", 1, "Page Two");
  page2 = lookup (window, "/page2");
  g_assert_cmpuint (page2->typed_count, ==, 0);

  /* Typed in the address bar: a typed visit. */
  cb_window_submit_address (window, typed_uri);
  cb_test_wait_for_title (view, "Typed Page");
  wait_visits (window, "/title/Typed%20Page", 1, "Typed Page");
  typed = lookup (window, "/title/Typed%20Page");
  g_assert_cmpuint (typed->typed_count, ==, 1);

  /* A reload is not another visit. */
  cb_test_activate (window, "win.reload");
  cb_test_wait_for_title (view, "Typed Page");
  g_clear_pointer (&typed, cb_history_entry_free);
  typed = lookup (window, "/title/Typed%20Page");
  g_assert_cmpuint (typed->visit_count, ==, 1);

  index = lookup (window, "/");
  g_assert_nonnull (index);
  g_assert_cmpstr (index->title, ==, "Index");
  /* Error pages and internal pages are not history. */
  webkit_web_view_load_uri (view, "cloud:node");
  cb_test_wait_for_title (view, "Cloud Node");
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(CbHistoryEntry) node = NULL;

    cb_history_lookup_async (history_of (window), "cloud:node", NULL, store_result, &result);
    cb_test_wait_until (result_set, &result, "a lookup");
    node = cb_history_lookup_finish (history_of (window), result, NULL);
    g_assert_null (node);
  }
  cb_test_close_window (window);
}

static gboolean
completion_shows (gpointer data)
{
  CbWindow *window = data;
  CbAddressCompletion *completion = cb_window_get_completion (window);
  g_auto(GStrv) rows = cb_address_completion_get_rows (completion);
  const char *want = g_object_get_data (G_OBJECT (window), "want-rows");

  return cb_address_completion_is_shown (completion) && g_strv_length (rows) == (guint) atoi (want);
}

static void
wait_rows (CbWindow *window,
           guint     n)
{
  g_autofree char *want = g_strdup_printf ("%u", n);

  g_object_set_data_full (G_OBJECT (window), "want-rows", g_steal_pointer (&want), g_free);
  cb_test_wait_until (completion_shows, window, "the suggestions");
}

static void
test_completion (void)
{
  CbWindow *window = cb_test_new_window ();
  CbWebView *view = cb_window_open_tab (window, NULL, TRUE);
  CbAddressCompletion *completion = cb_window_get_completion (window);
  CbBookmarks *bookmarks = cb_user_profile_get_bookmarks (cb_web_context_get_profile (cb_window_get_context (window)));
  gint64 now = g_get_real_time ();
  g_auto(GStrv) rows = NULL;
  g_autofree char *often = cb_test_server_uri (cb_test_http, "/title/Quokka%20Often");
  g_autofree char *marked = cb_test_server_uri (cb_test_http, "/title/Quokka%20Bookmarked");
  g_autofree char *typed = cb_test_server_uri (cb_test_http, "/title/Quokka%20Typed");

  /* Pages visited at different rates; one bookmarked. */
  for (int i = 0; i < 6; i++)
    add_visit (window, "/title/Quokka%20Often", "Quokka Often", CB_VISIT_LINK, 0);
  add_visit (window, "/title/Quokka%20Once", "Quokka Once", CB_VISIT_LINK, now - 200 * DAY_US);
  add_visit (window, "/title/Quokka%20Typed", "Quokka Typed", CB_VISIT_TYPED, 0);
  add_visit (window, "/title/Wombat", "Wombat", CB_VISIT_LINK, 0);
  cb_bookmarks_add (bookmarks, marked, "Quokka Bookmarked", NULL, NULL);

  /* Typing shows matches, bookmarks first, then by frecency. */
  cb_test_type_address (window, "quok");
  wait_rows (window, 4);
  rows = cb_address_completion_get_rows (completion);
  for (guint i = 0; rows[i]; i++)
    g_test_message ("suggestion %u: %s", i, rows[i]);
  g_assert_true (g_str_has_prefix (rows[0], marked));
  g_assert_true (g_str_has_prefix (rows[1], often));
  g_assert_true (g_str_has_prefix (rows[2], typed));
  g_assert_nonnull (strstr (rows[3], "Quokka Once"));
  g_free (cb_test_screenshot_screen ("history-completion"));

  /* More words narrow it. */
  cb_test_type_address (window, "quokka typ");
  wait_rows (window, 1);

  /* Down, Down, Enter on the keyboard opens the second suggestion. */
  cb_test_type_address (window, "quok");
  wait_rows (window, 4);
  cb_test_keys (GTK_WINDOW (window), "Down", "Down", NULL);
  g_assert_cmpstr (cb_address_completion_get_selected (completion), ==, often);
  cb_test_keys (GTK_WINDOW (window), "Return", NULL);
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Quokka Often");
  g_assert_false (cb_address_completion_is_shown (completion));
  g_assert_cmpstr (cb_test_entry_text (window), ==, often);

  /* Escape closes the list and keeps what was typed. */
  cb_test_type_address (window, "wom");
  wait_rows (window, 1);
  cb_test_keys (GTK_WINDOW (window), "Escape", NULL);
  g_assert_false (cb_address_completion_is_shown (completion));
  g_assert_cmpstr (cb_test_entry_text (window), ==, "wom");
  cb_test_close_window (window);
}

static gboolean
dialog_loaded (gpointer data)
{
  return !cb_history_dialog_is_loading (data);
}

static void
test_history_page (void)
{
  CbWindow *window = cb_test_new_window ();
  CbHistoryDialog *dialog;
  g_auto(GStrv) all = NULL, found = NULL, after = NULL;
  g_autofree char *alpaca = cb_test_server_uri (cb_test_http, "/title/Alpaca%20Page");
  g_autoptr(CbHistoryEntry) gone = NULL;

  cb_test_wait_for_title (cb_test_open (window, "/title/Alpaca%20Page"), "Alpaca Page");
  cb_test_wait_for_title (cb_test_open (window, "/title/Llama%20Page"), "Llama Page");
  wait_visits (window, "/title/Llama%20Page", 1, "Llama Page");

  cb_test_activate (window, "win.history");
  cb_test_wait_window (CB_TYPE_HISTORY_DIALOG);
  dialog = CB_HISTORY_DIALOG (cb_test_find_window (CB_TYPE_HISTORY_DIALOG));
  cb_test_wait_until (dialog_loaded, dialog, "the history page to load");
  all = cb_history_dialog_get_shown (dialog);
  g_assert_cmpuint (g_strv_length (all), >=, 2);
  g_free (cb_test_screenshot (GTK_WIDGET (dialog), "history-page"));

  /* Search. */
  cb_history_dialog_set_search (dialog, "alpaca");
  cb_test_wait_until (dialog_loaded, dialog, "the search");
  found = cb_history_dialog_get_shown (dialog);
  g_assert_cmpuint (g_strv_length (found), ==, 1);
  g_assert_cmpstr (found[0], ==, alpaca);
  g_free (cb_test_screenshot (GTK_WIDGET (dialog), "history-page-search"));

  /* Delete the selected page: gone from the page and from the store. */
  cb_history_dialog_select (dialog, alpaca);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "history.delete", NULL));
  cb_profile_db_sync (cb_history_get_db (history_of (window)));
  cb_test_wait_until (dialog_loaded, dialog, "the page to refresh");
  after = cb_history_dialog_get_shown (dialog);
  g_assert_cmpuint (g_strv_length (after), ==, 0);
  gone = lookup (window, "/title/Alpaca%20Page");
  g_assert_null (gone);

  gtk_window_destroy (GTK_WINDOW (dialog));
  cb_test_close_window (window);
}

static gboolean
is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static void
test_clear_data (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/cookie/set");
  g_autofree char *show = cb_test_server_uri (cb_test_http, "/cookie/show");
  CbClearDataDialog *dialog;
  g_autoptr(CbHistoryEntry) recent = NULL, old = NULL;
  gint64 now = g_get_real_time ();

  cb_test_wait_for_title (view, "Cookie Set");
  webkit_web_view_load_uri (view, show);
  cb_test_wait_for_title (view, "Cookie: cbtest=remembered");
  wait_visits (window, "/cookie/show", 1, NULL);
  add_visit (window, "/title/Old%20Visit", "Old Visit", CB_VISIT_LINK, now - 3 * DAY_US);

  cb_test_activate (window, "win.clear-data");
  cb_test_wait_window (CB_TYPE_CLEAR_DATA_DIALOG);
  dialog = CB_CLEAR_DATA_DIALOG (cb_test_find_window (CB_TYPE_CLEAR_DATA_DIALOG));
  cb_clear_data_dialog_set_range (dialog, CB_CLEAR_LAST_HOUR);
  cb_clear_data_dialog_set_kinds (dialog, TRUE, TRUE, TRUE);
  g_free (cb_test_screenshot (GTK_WIDGET (dialog), "history-clear-data"));
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "clear-data.clear", NULL));
  /* It closes itself once everything is cleared. */
  cb_test_wait_until (is_null, &dialog, "the data to be cleared");

  /* The last hour is gone, older history stays. */
  recent = lookup (window, "/cookie/show");
  g_assert_null (recent);
  old = lookup (window, "/title/Old%20Visit");
  g_assert_nonnull (old);
  /* The cookie is gone: the site no longer receives it. */
  webkit_web_view_reload_bypass_cache (view);
  cb_test_wait_for_title (view, "Cookie: none");
  g_free (cb_test_screenshot (GTK_WIDGET (window), "history-cleared"));
  cb_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  cb_test_app_init (&argc, &argv, "History");
  /* First: it needs the profile not yet opened. */
  g_test_add_func ("/shell/history/damaged-database", test_damaged_history);
  g_test_add_func ("/shell/history/records-visits", test_records_visits);
  g_test_add_func ("/shell/history/completion", test_completion);
  g_test_add_func ("/shell/history/page", test_history_page);
  g_test_add_func ("/shell/history/clear-data", test_clear_data);
  return cb_test_app_run ();
}
