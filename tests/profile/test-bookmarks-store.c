/* test-bookmarks-store.c: the bookmarks store and the HTML bookmarks file */
#include "cb-bookmarks.h"
#include "cb-bookmarks-html.h"
#include "cb-test-profile.h"

#include <string.h>

static gboolean
is_loaded (CbBookmarks *bookmarks)
{
  return cb_bookmarks_is_loaded (bookmarks);
}

static CbBookmarks *
open_store (const char *path)
{
  CbBookmarks *bookmarks = cb_bookmarks_new (path);

  while (!is_loaded (bookmarks))
    g_main_context_iteration (NULL, TRUE);
  return bookmarks;
}

static void
flush (CbBookmarks *bookmarks)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  cb_bookmarks_flush_async (bookmarks, NULL, cb_test_store_result, &result);
  cb_test_await (&result);
  g_assert_true (cb_bookmarks_flush_finish (bookmarks, result, &error));
  g_assert_no_error (error);
}

/* Drops the store and waits until its database has closed its file (the
 * worker's connection goes with the last reference, which a completed
 * job's callback may still hold for a moment). */
static void
close_store (CbBookmarks **bookmarks)
{
  GObject *db = G_OBJECT (cb_bookmarks_get_db (*bookmarks));

  g_object_add_weak_pointer (db, (gpointer *) &db);
  g_clear_object (bookmarks);
  while (db != NULL)
    g_main_context_iteration (NULL, TRUE);
}

static char *
read_test_file (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static void
test_add_folders_tags (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "bookmarks.db", NULL);
  g_autoptr(CbBookmarks) store = open_store (path);
  g_autoptr(CbBookmarks) reopened = NULL;
  const char *work_tags[] = { "work", "docs", NULL };
  CbBookmark *work, *gtk, *news, *moved;
  g_autoptr(GPtrArray) top = NULL, in_work = NULL, tagged = NULL, found = NULL, folders = NULL;
  g_auto(GStrv) tags = NULL;
  g_autoptr(GError) error = NULL;

  work = cb_bookmarks_add_folder (store, "Work", NULL);
  gtk = cb_bookmarks_add (store, "https://docs.gtk.org/", "GTK Docs", cb_bookmark_get_guid (work),
                          work_tags);
  news = cb_bookmarks_add (store, "https://news.example/", "", NULL, NULL);
  g_assert_cmpstr (cb_bookmark_get_title (news), ==, "https://news.example/");   /* no title: the address */
  g_assert_true (cb_bookmarks_lookup_url (store, "https://docs.gtk.org/") == gtk);
  g_assert_null (cb_bookmarks_lookup_url (store, "https://nothing.example/"));
  g_assert_cmpuint (cb_bookmarks_count (store), ==, 2);

  top = cb_bookmarks_list (store, NULL);
  g_assert_cmpuint (top->len, ==, 2);
  g_assert_true (top->pdata[0] == work);        /* folders first */
  in_work = cb_bookmarks_list (store, cb_bookmark_get_guid (work));
  g_assert_cmpuint (in_work->len, ==, 1);
  tagged = cb_bookmarks_search (store, NULL, "docs");
  g_assert_cmpuint (tagged->len, ==, 1);
  found = cb_bookmarks_search (store, "gtk work", NULL);  /* title and folder name */
  g_assert_cmpuint (found->len, ==, 1);
  tags = cb_bookmarks_list_tags (store);
  g_assert_cmpuint (g_strv_length (tags), ==, 2);
  g_assert_cmpstr (tags[0], ==, "docs");

  /* A folder cannot go inside itself. */
  g_assert_false (cb_bookmarks_move (store, work, cb_bookmark_get_guid (work), &error));
  g_assert_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID);
  g_assert_true (cb_bookmarks_move (store, news, cb_bookmark_get_guid (work), NULL));
  cb_bookmarks_update (store, gtk, NULL, "GTK 4 Docs", NULL);
  flush (store);

  /* Everything is back after reopening. */
  reopened = open_store (path);
  g_assert_cmpuint (cb_bookmarks_count (reopened), ==, 2);
  moved = cb_bookmarks_lookup_url (reopened, "https://news.example/");
  g_assert_cmpstr (cb_bookmark_get_parent (moved), ==, cb_bookmark_get_guid (work));
  g_assert_cmpstr (cb_bookmark_get_title (cb_bookmarks_lookup_url (reopened, "https://docs.gtk.org/")),
                   ==, "GTK 4 Docs");
  g_assert_true (cb_bookmark_has_tag (cb_bookmarks_lookup_url (reopened, "https://docs.gtk.org/"),
                                      "work"));
  folders = cb_bookmarks_list_folders (reopened);
  g_assert_cmpuint (folders->len, ==, 1);

  /* Removing a folder removes what is in it, on disk too. */
  cb_bookmarks_remove (reopened, cb_bookmarks_get (reopened, cb_bookmark_get_guid (work)));
  g_assert_cmpuint (cb_bookmarks_count (reopened), ==, 0);
  flush (reopened);
  g_clear_object (&store);
  store = open_store (path);
  g_assert_cmpuint (cb_bookmarks_count (store), ==, 0);
  g_clear_object (&store);
  g_clear_object (&reopened);
  cb_test_rmdir (dir);
}

static void
test_parse_firefox_export (void)
{
  g_autofree char *html = read_test_file ("bookmarks-firefox.html");
  g_autoptr(CbBookmarksHtmlItem) root = NULL;
  g_autoptr(GError) error = NULL;
  CbBookmarksHtmlItem *toolbar, *first;
  guint skipped = 0;

  root = cb_bookmarks_html_parse (html, strlen (html), &skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (skipped, ==, 1);               /* the javascript: bookmarklet */
  g_assert_cmpuint (cb_bookmarks_html_count (root), ==, 5);
  g_assert_cmpuint (root->children->len, ==, 3);
  toolbar = root->children->pdata[0];
  g_assert_true (toolbar->is_folder);
  g_assert_cmpstr (toolbar->title, ==, "Bookmarks Toolbar");
  first = toolbar->children->pdata[0];
  g_assert_cmpstr (first->title, ==, "GNOME & Friends <3");  /* entities decoded */
  g_assert_cmpstr (first->url, ==, "https://www.gnome.org/?a=1&b=2");
  g_assert_cmpstr (first->tags, ==, "desktop,linux");
  g_assert_cmpint (first->added, ==, G_GINT64_CONSTANT (1600000000) * G_USEC_PER_SEC);
}

static void
test_parse_rejects (void)
{
  static const struct {
    const char *input;
    const char *message;
  } cases[] = {
    { "Hello, this is a letter.", "Not a bookmarks file" },
    { "<!DOCTYPE NETSCAPE-Bookmark-file-1><TITLE>x</TITLE>", "no list of bookmarks" },
    { "<!DOCTYPE NETSCAPE-Bookmark-file-1><DL><p></DL></DL>", "never began" },
    { "<!DOCTYPE NETSCAPE-Bookmark-file-1><DL><DT><A HREF=\"https://x", "not closed" },
    { "<!DOCTYPE NETSCAPE-Bookmark-file-1><DL><DT><A HREF=x", "not closed with '>'" },
    { "<!DOCTYPE NETSCAPE-Bookmark-file-1><!-- comment", "comment is not closed" },
    { "<!DOCTYPE NETSCAPE-Bookmark-file-1><DT><A HREF=\"https://x/\">X</A>", "outside any list" },
    { "<!DOCTYPE NETSCAPE-Bookmark-file-1><DL>\xff\xfe</DL>", "not UTF-8" },
  };
  g_autoptr(GString) deep = g_string_new ("<!DOCTYPE NETSCAPE-Bookmark-file-1><DL>");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CbBookmarksHtmlItem) root = cb_bookmarks_html_parse (cases[i].input,
                                                                     strlen (cases[i].input),
                                                                     NULL, &error);
      g_assert_null (root);
      g_assert_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID);
      g_test_message ("%s", error->message);
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": \"%s\" does not say \"%s\"", i, error->message,
                 cases[i].message);
    }

  for (int i = 0; i < 40; i++)
    g_string_append (deep, "<DT><H3>F</H3><DL>");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CbBookmarksHtmlItem) root = cb_bookmarks_html_parse (deep->str, deep->len, NULL,
                                                                   &error);
    g_assert_null (root);
    g_assert_nonnull (strstr (error->message, "nested more than"));
  }
}

static void
test_import_export_round_trip (void)
{
  g_autofree char *html = read_test_file ("bookmarks-firefox.html");
  g_autoptr(CbBookmarks) store = open_store (NULL);
  g_autoptr(CbBookmarks) copy = open_store (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *exported = NULL, *again = NULL;
  guint added, skipped;

  added = cb_bookmarks_import_html (store, html, strlen (html), &skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (added, ==, 5);
  g_assert_cmpuint (skipped, ==, 1);
  /* Importing the same file again adds nothing. */
  added = cb_bookmarks_import_html (store, html, strlen (html), NULL, &error);
  g_assert_cmpuint (added, ==, 0);
  g_assert_cmpuint (cb_bookmarks_count (store), ==, 5);

  exported = cb_bookmarks_export_html (store);
  g_test_message ("%s", exported);
  g_assert_true (g_str_has_prefix (exported, "<!DOCTYPE NETSCAPE-Bookmark-file-1>"));
  g_assert_nonnull (strstr (exported, "GNOME &amp; Friends &lt;3"));
  g_assert_nonnull (strstr (exported, "TAGS=\"desktop,linux\""));
  added = cb_bookmarks_import_html (copy, exported, strlen (exported), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (added, ==, 5);
  again = cb_bookmarks_export_html (copy);
  g_assert_cmpstr (again, ==, exported);

  /* A bad file changes nothing. */
  added = cb_bookmarks_import_html (copy, "garbage", 7, NULL, &error);
  g_assert_cmpuint (added, ==, 0);
  g_assert_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID);
  g_assert_cmpuint (cb_bookmarks_count (copy), ==, 5);
}

static void
on_reset (CbProfileDb *db, const char *message, char **out)
{
  *out = g_strdup (message);
}

static void
test_corrupt (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "bookmarks.db", NULL);
  g_autoptr(CbBookmarks) store = NULL;
  g_autofree char *message = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *listing = NULL;
  gsize len;
  const char *magic = "SQLite format 3";

  /* A real store, then its header scribbled on. */
  store = open_store (path);
  for (int i = 0; i < 50; i++)
    {
      g_autofree char *url = g_strdup_printf ("https://saved-%d.example/", i);
      cb_bookmarks_add (store, url, "Saved", NULL, NULL);
    }
  flush (store);
  close_store (&store);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, 15, magic, 15);
  memset (contents + 16, 0xff, 84);    /* page size, formats, counters: all wrong */
  g_assert_true (g_file_set_contents (path, contents, (gssize) len, NULL));

  store = cb_bookmarks_new (path);
  g_signal_connect (cb_bookmarks_get_db (store), "reset", G_CALLBACK (on_reset), &message);
  while (!cb_bookmarks_is_loaded (store) || message == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("reset: %s", message);
  g_assert_nonnull (strstr (message, "bookmarks database"));
  g_assert_nonnull (strstr (message, "bookmarks.db.corrupt-"));
  /* A fresh start that works; the damaged file is kept beside it. */
  g_assert_cmpuint (cb_bookmarks_count (store), ==, 0);
  cb_bookmarks_add (store, "https://new.example/", "New", NULL, NULL);
  flush (store);
  listing = cb_test_list_dir (dir);
  g_test_message ("%s", listing);
  g_assert_nonnull (strstr (listing, "bookmarks.db.corrupt-"));
  g_clear_object (&store);
  store = open_store (path);
  g_assert_nonnull (cb_bookmarks_lookup_url (store, "https://new.example/"));
  g_clear_object (&store);
  cb_test_rmdir (dir);
}

/* Two stores on one file (as two processes would be) adding, changing
 * and removing at the same time: what each did is all there. */
static void
test_concurrent (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "bookmarks.db", NULL);
  g_autoptr(CbBookmarks) a = open_store (path);
  g_autoptr(CbBookmarks) b = open_store (path);
  g_autoptr(CbBookmarks) fresh = NULL;
  g_autoptr(GPtrArray) all = NULL;

  for (int i = 0; i < 300; i++)
    {
      g_autofree char *ua = g_strdup_printf ("https://a.example/%d", i);
      g_autofree char *ub = g_strdup_printf ("https://b.example/%d", i);
      CbBookmark *x = cb_bookmarks_add (a, ua, "A", NULL, NULL);
      CbBookmark *y = cb_bookmarks_add (b, ub, "B", NULL, NULL);

      if (i % 3 == 0)
        cb_bookmarks_update (a, x, NULL, "A renamed", NULL);
      if (i % 5 == 0)
        cb_bookmarks_remove (b, y);
    }
  flush (a);
  flush (b);
  fresh = open_store (path);
  g_assert_cmpuint (cb_bookmarks_count (fresh), ==, 300 + 300 - 60);
  all = cb_bookmarks_search (fresh, "renamed", NULL);
  g_assert_cmpuint (all->len, ==, 100);
  g_clear_object (&a);
  g_clear_object (&b);
  g_clear_object (&fresh);
  cb_test_rmdir (dir);
}

/* Changes made before the saved bookmarks were read are not undone by them. */
static void
test_changes_before_load (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "bookmarks.db", NULL);
  g_autoptr(CbBookmarks) store = open_store (path);
  g_autoptr(CbBookmarks) early = NULL;
  g_autofree char *guid = NULL;

  guid = g_strdup (cb_bookmark_get_guid (cb_bookmarks_add (store, "https://old.example/", "Old",
                                                           NULL, NULL)));
  flush (store);
  g_clear_object (&store);

  early = cb_bookmarks_new (path);
  cb_bookmarks_add (early, "https://early.example/", "Early", NULL, NULL);
  while (!cb_bookmarks_is_loaded (early))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (cb_bookmarks_count (early), ==, 2);
  g_assert_nonnull (cb_bookmarks_get (early, guid));
  g_clear_object (&early);
  cb_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/profile/bookmarks/add-folders-tags", test_add_folders_tags);
  g_test_add_func ("/profile/bookmarks/changes-before-load", test_changes_before_load);
  g_test_add_func ("/profile/bookmarks/html/parse-firefox-export", test_parse_firefox_export);
  g_test_add_func ("/profile/bookmarks/html/rejects", test_parse_rejects);
  g_test_add_func ("/profile/bookmarks/html/import-export", test_import_export_round_trip);
  g_test_add_func ("/profile/bookmarks/corrupt", test_corrupt);
  g_test_add_func ("/profile/bookmarks/concurrent", test_concurrent);

  return g_test_run ();
}
