/* test-bookmarks.c: the star, the bookmark popover, the bookmarks page
 * with folders, tags and search, and HTML import/export, in real windows */
#include "cb-config.h"
#include "cb-bookmark-popover.h"
#include "cb-bookmarks-dialog.h"
#include "cb-test-app.h"

#include <string.h>
#include <glib/gstdio.h>

static CbBookmarks *
bookmarks_of (CbWindow *window)
{
  return cb_user_profile_get_bookmarks (cb_web_context_get_profile (cb_window_get_context (window)));
}

static const char *
star_icon (CbWindow *window)
{
  return gtk_entry_get_icon_name (cb_window_get_address_entry (window), GTK_ENTRY_ICON_SECONDARY);
}

static CbBookmarkPopover *
find_popover (CbWindow *window)
{
  GtkWidget *entry = GTK_WIDGET (cb_window_get_address_entry (window));

  for (GtkWidget *child = gtk_widget_get_first_child (entry); child;
       child = gtk_widget_get_next_sibling (child))
    if (CB_IS_BOOKMARK_POPOVER (child) && gtk_widget_get_visible (child))
      return CB_BOOKMARK_POPOVER (child);
  return NULL;
}

static gboolean
popover_shown (gpointer data)
{
  return find_popover (data) != NULL;
}

static gboolean
popover_gone (gpointer data)
{
  return find_popover (data) == NULL;
}

static void
click_star (CbWindow *window)
{
  GtkEntry *entry = cb_window_get_address_entry (window);
  GdkRectangle area;

  gtk_entry_get_icon_area (entry, GTK_ENTRY_ICON_SECONDARY, &area);
  /* A real click on the icon, through the X server. */
  cb_test_click (GTK_WIDGET (entry), area.x + area.width / 2.0, area.y + area.height / 2.0, 1);
  cb_test_wait_until (popover_shown, window, "the bookmark popover");
}

static void
test_star (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/title/Starry%20Page");
  g_autofree char *uri = cb_test_server_uri (cb_test_http, "/title/Starry%20Page");
  CbBookmarks *bookmarks = bookmarks_of (window);
  CbBookmark *folder, *bookmark;
  CbBookmarkPopover *popover;

  folder = cb_bookmarks_add_folder (bookmarks, "Reading List", NULL);
  cb_test_wait_for_title (view, "Starry Page");
  g_assert_cmpstr (star_icon (window), ==, "non-starred-symbolic");
  g_assert_null (cb_bookmarks_lookup_url (bookmarks, uri));

  /* Pressing the star bookmarks the page and opens the popover. */
  click_star (window);
  bookmark = cb_bookmarks_lookup_url (bookmarks, uri);
  g_assert_nonnull (bookmark);
  g_assert_cmpstr (cb_bookmark_get_title (bookmark), ==, "Starry Page");
  g_assert_cmpstr (star_icon (window), ==, "starred-symbolic");
  popover = find_popover (window);
  cb_bookmark_popover_set_title (popover, "Stars, Renamed");
  cb_bookmark_popover_set_tags (popover, "sky, night");
  g_assert_true (cb_bookmark_popover_set_folder (popover, "Reading List"));
  g_free (cb_test_screenshot_screen ("bookmarks-star-popover"));
  /* Enter is Done: the changes are saved as it closes. */
  cb_test_keys (GTK_WINDOW (window), "Return", NULL);
  cb_test_wait_until (popover_gone, window, "the popover to close");
  g_assert_cmpstr (cb_bookmark_get_title (bookmark), ==, "Stars, Renamed");
  g_assert_true (cb_bookmark_has_tag (bookmark, "sky"));
  g_assert_true (cb_bookmark_has_tag (bookmark, "night"));
  g_assert_cmpstr (cb_bookmark_get_parent (bookmark), ==, cb_bookmark_get_guid (folder));
  g_free (cb_test_screenshot (GTK_WIDGET (window), "bookmarks-starred"));

  /* Ctrl+D on a bookmarked page edits it; Remove removes it. */
  cb_test_keys (GTK_WINDOW (window), "ctrl+d", NULL);
  cb_test_wait_until (popover_shown, window, "the popover again");
  cb_bookmark_popover_remove (find_popover (window));
  cb_test_wait_until (popover_gone, window, "the popover to close");
  g_assert_null (cb_bookmarks_lookup_url (bookmarks, uri));
  g_assert_cmpstr (star_icon (window), ==, "non-starred-symbolic");

  /* Saved: what is left is on disk. */
  cb_test_flush_profile (window);
  cb_bookmarks_remove (bookmarks, folder);
  cb_test_close_window (window);
}

static CbBookmarksDialog *
open_dialog (CbWindow *window)
{
  cb_test_activate (window, "win.bookmarks");
  cb_test_wait_window (CB_TYPE_BOOKMARKS_DIALOG);
  return CB_BOOKMARKS_DIALOG (cb_test_find_window (CB_TYPE_BOOKMARKS_DIALOG));
}

static void
assert_shown (CbBookmarksDialog  *dialog,
              const char * const *titles)
{
  g_auto(GStrv) shown = cb_bookmarks_dialog_get_shown (dialog);

  g_assert_cmpstrv (shown, titles);
}

static gboolean
title_is (gpointer data)
{
  CbWindow *window = data;
  CbWebView *view = cb_window_get_active_view (window);

  return view && g_strcmp0 (webkit_web_view_get_title (WEBKIT_WEB_VIEW (view)), "Deep Link") == 0;
}

static void
test_bookmarks_page (void)
{
  CbWindow *window = cb_test_new_window ();
  CbBookmarks *bookmarks = bookmarks_of (window);
  CbBookmarksDialog *dialog;
  CbBookmark *docs, *deep;
  g_autofree char *deep_uri = cb_test_server_uri (cb_test_http, "/title/Deep%20Link");
  const char *gtk_tags[] = { "toolkit", "reference", NULL };
  const char *news_tags[] = { "daily", NULL };

  cb_window_open_tab (window, NULL, TRUE);
  docs = cb_bookmarks_add_folder (bookmarks, "Docs", NULL);
  deep = cb_bookmarks_add_folder (bookmarks, "Deeper", cb_bookmark_get_guid (docs));
  cb_bookmarks_add (bookmarks, "https://docs.gtk.org/gtk4/", "GTK 4 Reference",
                    cb_bookmark_get_guid (docs), gtk_tags);
  cb_bookmarks_add (bookmarks, deep_uri, "Deep Link", cb_bookmark_get_guid (deep), NULL);
  cb_bookmarks_add (bookmarks, "https://news.example/", "News", NULL, news_tags);

  dialog = open_dialog (window);
  /* The top level: folders first. */
  assert_shown (dialog, (const char *[]) { "Docs", "News", NULL });
  g_free (cb_test_screenshot (GTK_WIDGET (dialog), "bookmarks-page"));
  /* Into a folder, and deeper. */
  cb_bookmarks_dialog_activate (dialog, "Docs");
  assert_shown (dialog, (const char *[]) { "Deeper", "GTK 4 Reference", NULL });
  cb_bookmarks_dialog_activate (dialog, "Deeper");
  assert_shown (dialog, (const char *[]) { "Deep Link", NULL });
  g_free (cb_test_screenshot (GTK_WIDGET (dialog), "bookmarks-page-folder"));
  /* Alt+Up goes back up. */
  cb_test_keys (GTK_WINDOW (dialog), "alt+Up", NULL);
  assert_shown (dialog, (const char *[]) { "Deeper", "GTK 4 Reference", NULL });

  /* Search across folders: title, address, tags and folder names. */
  cb_bookmarks_dialog_set_search (dialog, "reference");
  assert_shown (dialog, (const char *[]) { "GTK 4 Reference", NULL });
  cb_bookmarks_dialog_set_search (dialog, "docs");
  assert_shown (dialog, (const char *[]) { "GTK 4 Reference", NULL });
  cb_bookmarks_dialog_set_search (dialog, "");
  g_assert_true (cb_bookmarks_dialog_set_tag (dialog, "daily"));
  assert_shown (dialog, (const char *[]) { "News", NULL });
  g_free (cb_test_screenshot (GTK_WIDGET (dialog), "bookmarks-page-tag"));
  g_assert_true (cb_bookmarks_dialog_set_tag (dialog, NULL));

  /* Activating a bookmark opens it in a new tab. */
  cb_bookmarks_dialog_set_search (dialog, "deep");
  cb_bookmarks_dialog_activate (dialog, "Deep Link");
  cb_test_wait_tabs (window, 2);
  cb_test_wait_until (title_is, window, "the bookmark to open");

  gtk_window_destroy (GTK_WINDOW (dialog));
  cb_bookmarks_remove (bookmarks, docs);
  cb_bookmarks_remove (bookmarks, cb_bookmarks_lookup_url (bookmarks, "https://news.example/"));
  g_assert_cmpuint (cb_bookmarks_count (bookmarks), ==, 0);
  cb_test_close_window (window);
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

static gboolean
message_shown (gpointer data)
{
  return cb_test_find_window (ADW_TYPE_MESSAGE_DIALOG) != NULL;
}

static void
test_import_export (void)
{
  CbWindow *window = cb_test_new_window ();
  CbBookmarks *bookmarks = bookmarks_of (window);
  CbBookmarksDialog *dialog;
  g_autofree char *source = g_test_build_filename (G_TEST_DIST, "..", "profile", "data",
                                                   "bookmarks-firefox.html", NULL);
  g_autofree char *dir = g_dir_make_tmp ("cb-test-bookmarks-XXXXXX", NULL);
  g_autofree char *exported_path = g_build_filename (dir, "exported.html", NULL);
  g_autofree char *bad_path = g_build_filename (dir, "letter.html", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (source);
  g_autoptr(GFile) exported = g_file_new_for_path (exported_path);
  g_autoptr(GFile) bad = g_file_new_for_path (bad_path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *html = NULL;
  AdwMessageDialog *message;

  cb_window_open_tab (window, NULL, TRUE);
  dialog = open_dialog (window);
  cb_bookmarks_dialog_import_file_async (dialog, file, store_result, &result);
  cb_test_wait_until (result_set, &result, "the import");
  g_assert_cmpint (cb_bookmarks_dialog_import_file_finish (dialog, result, &error), ==, 5);
  g_assert_no_error (error);
  g_assert_cmpuint (cb_bookmarks_count (bookmarks), ==, 5);
  assert_shown (dialog, (const char *[]) { "Bookmarks Toolbar", "Bookmarks Menu",
                                           "Example — AB", NULL });
  g_free (cb_test_screenshot (GTK_WIDGET (window), "bookmarks-imported"));

  g_clear_object (&result);
  cb_bookmarks_dialog_export_file_async (dialog, exported, store_result, &result);
  cb_test_wait_until (result_set, &result, "the export");
  g_assert_true (cb_bookmarks_dialog_export_file_finish (dialog, result, &error));
  g_assert_true (g_file_get_contents (exported_path, &html, NULL, NULL));
  g_assert_true (g_str_has_prefix (html, "<!DOCTYPE NETSCAPE-Bookmark-file-1>"));
  g_assert_nonnull (strstr (html, "\">Nested</H3>"));
  g_assert_nonnull (strstr (html, "TAGS=\"desktop,linux\""));

  /* Not a bookmarks file: a clear message, nothing imported. */
  g_assert_true (g_file_set_contents (bad_path, "Dear friend, this is a letter.", -1, NULL));
  g_clear_object (&result);
  cb_bookmarks_dialog_import_file_async (dialog, bad, store_result, &result);
  cb_test_wait_until (result_set, &result, "the failed import");
  g_assert_cmpint (cb_bookmarks_dialog_import_file_finish (dialog, result, &error), ==, -1);
  g_assert_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID);
  cb_test_wait_until (message_shown, NULL, "the import error message");
  message = ADW_MESSAGE_DIALOG (cb_test_find_window (ADW_TYPE_MESSAGE_DIALOG));
  g_test_message ("%s", adw_message_dialog_get_body (message));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (message), "letter.html"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (message), "Not a bookmarks file"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (message), "Nothing was imported"));
  g_free (cb_test_screenshot (GTK_WIDGET (message), "bookmarks-import-error"));
  g_assert_cmpuint (cb_bookmarks_count (bookmarks), ==, 5);

  gtk_window_destroy (GTK_WINDOW (message));
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_unlink (exported_path);
  g_unlink (bad_path);
  g_rmdir (dir);
  cb_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  cb_test_app_init (&argc, &argv, "Bookmarks");
  g_test_add_func ("/shell/bookmarks/star", test_star);
  g_test_add_func ("/shell/bookmarks/page", test_bookmarks_page);
  g_test_add_func ("/shell/bookmarks/import-export", test_import_export);
  return cb_test_app_run ();
}
