/* test-history-store.c: the history store on real sqlite files */
#include "cb-history.h"
#include "cb-test-profile.h"

#include <string.h>

#define DAY_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

typedef struct {
  char *dir;
  char *path;
  CbHistory *history;
} Fixture;

static void
fixture_set_up (Fixture       *fx,
                gconstpointer  data)
{
  fx->dir = cb_test_tmpdir ();
  fx->path = g_build_filename (fx->dir, "history.db", NULL);
  fx->history = cb_history_new (fx->path);
}

static void
fixture_tear_down (Fixture       *fx,
                   gconstpointer  data)
{
  g_clear_object (&fx->history);
  cb_test_rmdir (fx->dir);
  g_free (fx->dir);
  g_free (fx->path);
}

/* --- synchronous wrappers --- */

static void
visit_at (CbHistory   *history,
          const char  *url,
          const char  *title,
          CbVisitType  type,
          gint64       time_us)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  cb_history_add_visit_async (history, url, title, type, time_us, NULL, cb_test_store_result,
                              &result);
  cb_test_await (&result);
  g_assert_true (cb_history_add_visit_finish (history, result, &error));
  g_assert_no_error (error);
}

static void
visit (CbHistory  *history,
       const char *url,
       const char *title)
{
  visit_at (history, url, title, CB_VISIT_LINK, 0);
}

static GPtrArray *
complete (CbHistory  *history,
          const char *text,
          guint       limit)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *entries;

  cb_history_complete_async (history, text, limit, NULL, cb_test_store_result, &result);
  cb_test_await (&result);
  entries = cb_history_complete_finish (history, result, &error);
  g_assert_no_error (error);
  return entries;
}

static GPtrArray *
query (CbHistory  *history,
       const char *text,
       gint64      since,
       guint       limit,
       guint       offset)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *entries;

  cb_history_query_async (history, text, since, limit, offset, NULL, cb_test_store_result,
                          &result);
  cb_test_await (&result);
  entries = cb_history_query_finish (history, result, &error);
  g_assert_no_error (error);
  return entries;
}

static CbHistoryEntry *
lookup (CbHistory  *history,
        const char *url)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  CbHistoryEntry *entry;

  cb_history_lookup_async (history, url, NULL, cb_test_store_result, &result);
  cb_test_await (&result);
  entry = cb_history_lookup_finish (history, result, &error);
  if (entry == NULL)
    g_assert_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_NOT_FOUND);
  return entry;
}

static void
clear (CbHistory *history,
       gint64     since)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  cb_history_clear_async (history, since, NULL, cb_test_store_result, &result);
  cb_test_await (&result);
  g_assert_true (cb_history_clear_finish (history, result, &error));
  g_assert_no_error (error);
}

static void
delete_url (CbHistory  *history,
            const char *url)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *urls[] = { url, NULL };

  cb_history_delete_urls_async (history, urls, NULL, cb_test_store_result, &result);
  cb_test_await (&result);
  g_assert_true (cb_history_delete_urls_finish (history, result, &error));
  g_assert_no_error (error);
}

static const char *
url_at (GPtrArray *entries,
        guint      i)
{
  g_assert_cmpuint (i, <, entries->len);
  return ((CbHistoryEntry *) entries->pdata[i])->url;
}

/* --- tests --- */

static void
test_visit_and_lookup (Fixture *fx, gconstpointer data)
{
  g_autoptr(CbHistoryEntry) entry = NULL;
  g_autoptr(CbHistoryEntry) missing = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  visit_at (fx->history, "https://example.org/", "Example", CB_VISIT_TYPED, 0);
  visit (fx->history, "https://example.org/", NULL);
  visit_at (fx->history, "https://example.org/", NULL, CB_VISIT_RELOAD, 0);
  entry = lookup (fx->history, "https://example.org/");
  g_assert_nonnull (entry);
  g_assert_cmpstr (entry->title, ==, "Example");    /* a visit without a title keeps it */
  g_assert_cmpuint (entry->visit_count, ==, 2);     /* reloads are not visits */
  g_assert_cmpuint (entry->typed_count, ==, 1);
  g_assert_cmpint (entry->last_visit, >, g_get_real_time () - 60 * G_USEC_PER_SEC);

  cb_history_set_title_async (fx->history, "https://example.org/", "Renamed", NULL,
                              cb_test_store_result, &result);
  cb_test_await (&result);
  g_assert_true (cb_history_set_title_finish (fx->history, result, NULL));
  g_clear_pointer (&entry, cb_history_entry_free);
  entry = lookup (fx->history, "https://example.org/");
  g_assert_cmpstr (entry->title, ==, "Renamed");

  missing = lookup (fx->history, "https://never.example/");
  g_assert_null (missing);
}

static void
test_recordable (void)
{
  g_assert_true (cb_history_is_recordable ("https://example.org/"));
  g_assert_true (cb_history_is_recordable ("http://127.0.0.1:8080/x"));
  g_assert_true (cb_history_is_recordable ("file:///tmp/a.html"));
  g_assert_false (cb_history_is_recordable ("cloud:node"));
  g_assert_false (cb_history_is_recordable ("about:blank"));
  g_assert_false (cb_history_is_recordable ("data:text/html,hi"));
  g_assert_false (cb_history_is_recordable ("view-source:https://example.org/"));
  g_assert_false (cb_history_is_recordable (NULL));
}

static void
test_frecency (Fixture *fx, gconstpointer data)
{
  gint64 now = g_get_real_time ();
  g_autoptr(GPtrArray) entries = NULL;

  /* Often beats once; typed beats followed; recent beats old. */
  for (int i = 0; i < 5; i++)
    visit (fx->history, "https://often.example/news", "News often");
  visit (fx->history, "https://once.example/news", "News once");
  visit_at (fx->history, "https://typed.example/news", "News typed", CB_VISIT_TYPED, 0);
  visit_at (fx->history, "https://linked.example/news", "News linked", CB_VISIT_LINK, 0);
  for (int i = 0; i < 3; i++)
    visit_at (fx->history, "https://old.example/news", "News old", CB_VISIT_LINK, now - 120 * DAY_US);
  for (int i = 0; i < 3; i++)
    visit_at (fx->history, "https://recent.example/news", "News recent", CB_VISIT_LINK,
              now - 1 * DAY_US);

  entries = complete (fx->history, "news", 10);
  g_assert_cmpuint (entries->len, ==, 6);
  g_assert_cmpstr (url_at (entries, 0), ==, "https://often.example/news");
  g_assert_cmpstr (url_at (entries, 1), ==, "https://recent.example/news");
  /* A typed visit weighs twice a followed link. */
  for (guint i = 0; i < entries->len; i++)
    g_test_message ("%u %s %.3f", i, url_at (entries, i),
                    ((CbHistoryEntry *) entries->pdata[i])->frecency);
  {
    double typed = 0, linked = 0, once = 0, old = 0;
    for (guint i = 0; i < entries->len; i++)
      {
        CbHistoryEntry *e = entries->pdata[i];
        if (strstr (e->url, "typed")) typed = e->frecency;
        if (strstr (e->url, "linked")) linked = e->frecency;
        if (strstr (e->url, "once")) once = e->frecency;
        if (strstr (e->url, "old")) old = e->frecency;
      }
    g_assert_cmpfloat (typed, >, linked);
    g_assert_cmpfloat_with_epsilon (typed - linked, G_LN2, 0.01);
    /* Three visits 120 days ago (four half-lives) are worth 3/16 of one now. */
    g_assert_cmpfloat (old, <, once);
  }
}

static void
test_complete_matching (Fixture *fx, gconstpointer data)
{
  g_autoptr(GPtrArray) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL, f = NULL, g = NULL;

  visit (fx->history, "https://www.github.com/cloudbevy", "Cloud Bevy on GitHub");
  visit (fx->history, "https://docs.gtk.org/gtk4/class.Entry.html", "Gtk.Entry");
  visit (fx->history, "https://example.org/hub", "Something about hubs");
  visit (fx->history, "http://ünïcode.example/", "Ünïcode Straße");

  /* The scheme and www. are not part of what is matched... */
  a = complete (fx->history, "https", 10);
  g_assert_cmpuint (a->len, ==, 0);
  b = complete (fx->history, "www", 10);
  g_assert_cmpuint (b->len, ==, 0);
  /* ...the start of the address ranks first, case does not matter... */
  c = complete (fx->history, "GIT", 10);
  g_assert_cmpuint (c->len, ==, 1);
  g_assert_cmpstr (url_at (c, 0), ==, "https://www.github.com/cloudbevy");
  d = complete (fx->history, "hub", 10);
  g_assert_cmpuint (d->len, ==, 2);
  /* ...every word must match, in the address or the title. */
  e = complete (fx->history, "entry gtk4", 10);
  g_assert_cmpuint (e->len, ==, 1);
  g_assert_cmpstr (url_at (e, 0), ==, "https://docs.gtk.org/gtk4/class.Entry.html");
  f = complete (fx->history, "entry nothing", 10);
  g_assert_cmpuint (f->len, ==, 0);
  g = complete (fx->history, "straße", 10);
  g_assert_cmpuint (g->len, ==, 1);

  g_clear_pointer (&a, g_ptr_array_unref);
  a = complete (fx->history, "   ", 10);
  g_assert_cmpuint (a->len, ==, 0);
  g_clear_pointer (&a, g_ptr_array_unref);
  a = complete (fx->history, "e", 2);
  g_assert_cmpuint (a->len, ==, 2);
}

/* The in-memory index follows renames, deletions and clearing. */
static void
test_complete_follows_changes (Fixture *fx, gconstpointer data)
{
  g_autoptr(GPtrArray) before = NULL, renamed = NULL, old_name = NULL, gone = NULL, cleared = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  visit (fx->history, "https://a.example/", "Alpha page");
  visit (fx->history, "https://b.example/", "Beta page");
  before = complete (fx->history, "page", 10);
  g_assert_cmpuint (before->len, ==, 2);

  cb_history_set_title_async (fx->history, "https://a.example/", "Gamma article", NULL,
                              cb_test_store_result, &result);
  cb_test_await (&result);
  renamed = complete (fx->history, "gamma", 10);
  g_assert_cmpuint (renamed->len, ==, 1);
  old_name = complete (fx->history, "alpha", 10);
  g_assert_cmpuint (old_name->len, ==, 0);

  delete_url (fx->history, "https://b.example/");
  gone = complete (fx->history, "beta", 10);
  g_assert_cmpuint (gone->len, ==, 0);

  visit (fx->history, "https://c.example/", "Delta page");
  clear (fx->history, 0);
  cleared = complete (fx->history, "e", 10);
  g_assert_cmpuint (cleared->len, ==, 0);
}

static void
test_query (Fixture *fx, gconstpointer data)
{
  gint64 now = g_get_real_time ();
  g_autoptr(GPtrArray) all = NULL, page1 = NULL, page2 = NULL, found = NULL, recent = NULL;
  g_autoptr(GPtrArray) literal = NULL;

  for (int i = 0; i < 10; i++)
    {
      g_autofree char *url = g_strdup_printf ("https://site%d.example/", i);
      g_autofree char *title = g_strdup_printf ("Site %d", i);
      visit_at (fx->history, url, title, CB_VISIT_LINK, now - (10 - i) * DAY_US);
    }
  visit (fx->history, "https://percent.example/100%_sure", "100% sure");

  all = query (fx->history, NULL, 0, 0, 0);
  g_assert_cmpuint (all->len, ==, 11);
  g_assert_cmpstr (url_at (all, 0), ==, "https://percent.example/100%_sure");   /* newest first */
  g_assert_cmpstr (url_at (all, 1), ==, "https://site9.example/");
  page1 = query (fx->history, "site", 0, 4, 0);
  page2 = query (fx->history, "site", 0, 4, 4);
  g_assert_cmpuint (page1->len, ==, 4);
  g_assert_cmpuint (page2->len, ==, 4);
  g_assert_cmpstr (url_at (page2, 0), ==, "https://site5.example/");
  found = query (fx->history, "SITE 3", 0, 0, 0);
  g_assert_cmpuint (found->len, ==, 1);
  recent = query (fx->history, "site", now - 3 * DAY_US - 1, 0, 0);
  g_assert_cmpuint (recent->len, ==, 3);
  /* % and _ are letters to search for, not patterns. */
  literal = query (fx->history, "0%_", 0, 0, 0);
  g_assert_cmpuint (literal->len, ==, 1);
}

static void
test_clear_range (Fixture *fx, gconstpointer data)
{
  gint64 now = g_get_real_time ();
  g_autoptr(CbHistoryEntry) mixed = NULL;
  g_autoptr(CbHistoryEntry) recent_only = NULL;
  g_autoptr(CbHistoryEntry) old_only = NULL;
  g_autoptr(GPtrArray) left = NULL;
  double before;

  visit_at (fx->history, "https://mixed.example/", "Mixed", CB_VISIT_TYPED, now - 10 * DAY_US);
  visit_at (fx->history, "https://mixed.example/", "Mixed", CB_VISIT_LINK, now - 60 * G_USEC_PER_SEC);
  visit_at (fx->history, "https://recent.example/", "Recent", CB_VISIT_LINK, now - 60 * G_USEC_PER_SEC);
  visit_at (fx->history, "https://old.example/", "Old", CB_VISIT_LINK, now - 3 * DAY_US);
  mixed = lookup (fx->history, "https://mixed.example/");
  before = mixed->frecency;
  g_clear_pointer (&mixed, cb_history_entry_free);

  /* "The last hour" */
  clear (fx->history, now - G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC);
  mixed = lookup (fx->history, "https://mixed.example/");
  g_assert_nonnull (mixed);
  g_assert_cmpuint (mixed->visit_count, ==, 1);
  g_assert_cmpuint (mixed->typed_count, ==, 1);
  g_assert_cmpint (mixed->last_visit, ==, now - 10 * DAY_US);
  g_assert_cmpfloat (mixed->frecency, <, before);
  recent_only = lookup (fx->history, "https://recent.example/");
  g_assert_null (recent_only);
  old_only = lookup (fx->history, "https://old.example/");
  g_assert_nonnull (old_only);
  left = complete (fx->history, "example", 10);
  g_assert_cmpuint (left->len, ==, 2);
}

static char *
read_all (const char *path)
{
  char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return g_strdup ("");
  /* The bytes may hold NULs: make them searchable. */
  for (gsize i = 0; i < len; i++)
    if (contents[i] == '\0')
      contents[i] = ' ';
  return contents;
}

/* Cleared pages are gone from the bytes on disk, not only from queries. */
static void
test_clear_overwrites (Fixture *fx, gconstpointer data)
{
  g_autofree char *wal = g_strconcat (fx->path, "-wal", NULL);
  g_autofree char *main_file = NULL, *wal_file = NULL;

  for (int i = 0; i < 50; i++)
    {
      g_autofree char *url = g_strdup_printf ("https://secret-site-%d.example/", i);
      visit (fx->history, url, "very private title");
    }
  clear (fx->history, 0);
  main_file = read_all (fx->path);
  wal_file = read_all (wal);
  g_assert_null (strstr (main_file, "secret-site"));
  g_assert_null (strstr (wal_file, "secret-site"));
  g_assert_null (strstr (main_file, "very private"));
}

static void
test_persists (Fixture *fx, gconstpointer data)
{
  g_autoptr(CbHistoryEntry) entry = NULL;
  g_autoptr(GPtrArray) found = NULL;

  visit (fx->history, "https://kept.example/", "Kept");
  g_clear_object (&fx->history);
  fx->history = cb_history_new (fx->path);
  entry = lookup (fx->history, "https://kept.example/");
  g_assert_nonnull (entry);
  g_assert_cmpstr (entry->title, ==, "Kept");
  found = complete (fx->history, "kept", 10);
  g_assert_cmpuint (found->len, ==, 1);
}

static void
on_reset (CbProfileDb *db,
          const char  *message,
          char       **out)
{
  g_free (*out);
  *out = g_strdup (message);
}

static char *
find_aside (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "history.db.corrupt-") && !g_str_has_suffix (name, "-wal") &&
        !g_str_has_suffix (name, "-shm"))
      return g_build_filename (dir, name, NULL);
  return NULL;
}

static void
wait_for_message (char **message)
{
  while (*message == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* A file that is not a database at all. */
static void
test_corrupt_garbage (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  const char garbage[] = "this is not an sqlite database, it is 64 bytes of plain text....";
  g_autoptr(CbHistory) history = NULL;
  g_autoptr(CbHistoryEntry) entry = NULL;
  g_autofree char *message = NULL;
  g_autofree char *aside = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *aside_name = NULL;
  gsize kept_len;

  g_assert_true (g_file_set_contents (path, garbage, sizeof garbage - 1, NULL));
  history = cb_history_new (path);
  g_signal_connect (cb_history_get_db (history), "reset", G_CALLBACK (on_reset), &message);

  /* The first use finds the damage, sets the file aside, and still works. */
  visit (history, "https://after.example/", "After");
  wait_for_message (&message);
  g_test_message ("reset: %s", message);
  aside = find_aside (dir);
  g_assert_nonnull (aside);
  aside_name = g_path_get_basename (aside);
  g_assert_nonnull (strstr (message, "history"));
  g_assert_nonnull (strstr (message, "damaged"));
  g_assert_nonnull (strstr (message, aside_name));
  /* Nothing lost: the damaged bytes are kept as they were. */
  g_assert_true (g_file_get_contents (aside, &kept, &kept_len, NULL));
  g_assert_cmpmem (kept, kept_len, garbage, sizeof garbage - 1);
  entry = lookup (history, "https://after.example/");
  g_assert_nonnull (entry);

  g_clear_object (&history);
  cb_test_rmdir (dir);
}

/* A real history with damaged pages: what can be read is carried over. */
static void
test_corrupt_pages (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autoptr(CbHistory) history = cb_history_new (path);
  g_autoptr(CbHistory) reopened = NULL;
  g_autofree char *message = NULL;
  g_autofree char *aside = NULL;
  g_autofree char *damaged = NULL;
  g_autofree char *kept = NULL;
  g_autoptr(GPtrArray) all = NULL;
  gsize len, kept_len;
  guint recovered = 0;
  const char *count;

  for (int i = 0; i < 2000; i++)
    {
      g_autofree char *url = g_strdup_printf ("https://page-%04d.example/some/long/path", i);
      cb_history_add_visit_async (history, url, "A page with a reasonably long title", CB_VISIT_LINK,
                                  0, NULL, NULL, NULL);
    }
  cb_profile_db_sync (cb_history_get_db (history));
  g_clear_object (&history);  /* checkpoints the WAL into the file */

  /* Scribble over a run of pages in the middle of the file. */
  g_assert_true (g_file_get_contents (path, &damaged, &len, NULL));
  g_assert_cmpuint (len, >, 64 * 1024);
  memset (damaged + len / 2, 0xA5, 16 * 1024);
  g_assert_true (g_file_set_contents (path, damaged, (gssize) len, NULL));

  reopened = cb_history_new (path);
  g_signal_connect (cb_history_get_db (reopened), "reset", G_CALLBACK (on_reset), &message);
  all = query (reopened, NULL, 0, 0, 0);
  wait_for_message (&message);
  g_test_message ("reset: %s", message);
  count = strstr (message, "; ");
  g_assert_nonnull (count);
  recovered = (guint) g_ascii_strtoull (count + 2, NULL, 10);
  g_assert_cmpuint (recovered, >, 0);
  /* Most pages survive; the ones on the damaged pages may not. */
  g_assert_cmpuint (all->len, >, 1000);
  g_assert_cmpuint (all->len, <=, 2000);
  aside = find_aside (dir);
  g_assert_true (g_file_get_contents (aside, &kept, &kept_len, NULL));
  g_assert_cmpmem (kept, kept_len, damaged, len);

  g_clear_object (&reopened);
  cb_test_rmdir (dir);
}

/* A file from a newer version is left alone, with an error that says so. */
static void
test_too_new (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autoptr(CbHistory) history = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;
  gsize before_len, after_len;
  sqlite3 *db;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE future (x); PRAGMA user_version = 99", NULL,
                                 NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));

  history = cb_history_new (path);
  cb_history_add_visit_async (history, "https://x.example/", NULL, CB_VISIT_LINK, 0, NULL,
                              cb_test_store_result, &result);
  cb_test_await (&result);
  g_assert_false (cb_history_add_visit_finish (history, result, &error));
  g_assert_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_TOO_NEW);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "newer version"));
  g_clear_object (&history);
  g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
  cb_test_rmdir (dir);
}

typedef struct {
  CbHistory *history;
  int thread;
  guint done;
} ThreadData;

static void
thread_visit_done (GObject *source, GAsyncResult *result, gpointer data)
{
  ThreadData *td = data;

  g_assert_true (cb_history_add_visit_finish (CB_HISTORY (source), result, NULL));
  td->done++;
}

#define PER_THREAD 250

static gpointer
visiting_thread (gpointer data)
{
  ThreadData *td = data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  for (int i = 0; i < PER_THREAD; i++)
    {
      g_autofree char *url = g_strdup_printf ("https://t%d.example/%d", td->thread, i % 50);
      cb_history_add_visit_async (td->history, url, "Threaded", CB_VISIT_LINK, 0, NULL,
                                  thread_visit_done, td);
    }
  while (td->done < PER_THREAD)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static guint
total_visits (CbHistory *history)
{
  g_autoptr(GPtrArray) all = query (history, NULL, 0, 0, 0);
  guint total = 0;

  for (guint i = 0; i < all->len; i++)
    total += ((CbHistoryEntry *) all->pdata[i])->visit_count;
  return total;
}

/* Callers on four threads at once: every visit is counted once. */
static void
test_concurrent_threads (Fixture *fx, gconstpointer data)
{
  ThreadData td[4];
  GThread *threads[4];

  for (int i = 0; i < 4; i++)
    {
      td[i] = (ThreadData) { fx->history, i, 0 };
      threads[i] = g_thread_new ("visitor", visiting_thread, &td[i]);
    }
  for (int i = 0; i < 4; i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (total_visits (fx->history), ==, 4 * PER_THREAD);
}

/* Two connections to one file (two stores) writing at the same time:
 * sqlite's locking plus our busy timeout lose nothing. */
static void
test_concurrent_connections (Fixture *fx, gconstpointer data)
{
  g_autoptr(CbHistory) other = cb_history_new (fx->path);
  g_autoptr(CbHistory) fresh = NULL;
  guint done = 0;

  for (int i = 0; i < 500; i++)
    {
      g_autofree char *a = g_strdup_printf ("https://a.example/%d", i % 100);
      g_autofree char *b = g_strdup_printf ("https://b.example/%d", i % 100);
      cb_history_add_visit_async (fx->history, a, "A", CB_VISIT_LINK, 0, NULL, NULL, NULL);
      cb_history_add_visit_async (other, b, "B", CB_VISIT_LINK, 0, NULL, NULL, NULL);
    }
  cb_profile_db_sync (cb_history_get_db (fx->history));
  cb_profile_db_sync (cb_history_get_db (other));
  (void) done;
  fresh = cb_history_new (fx->path);
  g_assert_cmpuint (total_visits (fresh), ==, 1000);
}

/* Private windows: nothing reaches the disk. */
static void
test_in_memory (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *cwd = g_get_current_dir ();
  g_autoptr(CbHistory) history = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autofree char *listing = NULL;

  g_assert_cmpint (g_chdir (dir), ==, 0);
  history = cb_history_new (NULL);
  visit (history, "https://private.example/", "Private");
  found = complete (history, "private", 10);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_object (&history);
  listing = cb_test_list_dir (dir);
  g_assert_cmpstr (listing, ==, "");
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  cb_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/profile/history/visit-and-lookup", test_visit_and_lookup);
  g_test_add_func ("/profile/history/recordable", test_recordable);
  ADD ("/profile/history/frecency", test_frecency);
  ADD ("/profile/history/complete-matching", test_complete_matching);
  ADD ("/profile/history/complete-follows-changes", test_complete_follows_changes);
  ADD ("/profile/history/query", test_query);
  ADD ("/profile/history/clear-range", test_clear_range);
  ADD ("/profile/history/clear-overwrites", test_clear_overwrites);
  ADD ("/profile/history/persists", test_persists);
  g_test_add_func ("/profile/history/corrupt-garbage", test_corrupt_garbage);
  g_test_add_func ("/profile/history/corrupt-pages", test_corrupt_pages);
  g_test_add_func ("/profile/history/too-new", test_too_new);
  ADD ("/profile/history/concurrent-threads", test_concurrent_threads);
  ADD ("/profile/history/concurrent-connections", test_concurrent_connections);
  g_test_add_func ("/profile/history/in-memory", test_in_memory);
#undef ADD

  return g_test_run ();
}
