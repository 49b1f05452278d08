/* bench-history: the history store at 100,000 pages
 *
 *   bench-history [--pages N] [--queries N] [--json FILE]
 *
 * 1. Insert throughput: N pages with 1–4 visits each (spread over a year,
 *    a fifth of them typed) through the store's async API, against the
 *    same visits written with plain sqlite, one transaction per visit (WAL,
 *    synchronous=NORMAL), into a file of the same schema.
 * 2. Address-bar completion latency: queries typed one character at a
 *    time (every prefix is a query, as in the address bar), each timed
 *    from the _async call to its callback on the main loop.  The baseline
 *    runs the same prefixes as LIKE '%word%' scans over url and title,
 *    ORDER BY visit_count DESC LIMIT 10, on the same file: the shape of
 *    GNOME Web's completion query.
 * Prints percentiles and ratios; goal: completion p99 <= 16 ms. */
#include "cb-history.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#define GOAL_P99_MS 16.0
#define LIMIT 10

static const char * const syllables[] = {
  "ba", "be", "bi", "bo", "ca", "co", "da", "de", "di", "do", "fa", "fe", "ga", "go", "ha",
  "he", "ka", "ke", "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "no", "pa",
  "pe", "pi", "po", "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti", "to",
  "va", "ve", "vi", "wa", "we", "ya", "za", "zo", "ch", "th", "st", "tr", "gr", "pl", "br",
};
static const char * const tlds[] = { "com", "org", "net", "io", "de", "fr", "dev", "info" };

static char *
make_word (GRand *rand)
{
  GString *word = g_string_new (NULL);
  int n = g_rand_int_range (rand, 2, 5);

  for (int i = 0; i < n; i++)
    g_string_append (word, syllables[g_rand_int_range (rand, 0, G_N_ELEMENTS (syllables))]);
  return g_string_free (word, FALSE);
}

typedef struct {
  char *url;
  char *title;
  int visits;
  CbVisitType type;
  gint64 first_time;
} Page;

static void
page_free (gpointer data)
{
  Page *page = data;

  g_free (page->url);
  g_free (page->title);
  g_free (page);
}

static GPtrArray *
make_pages (guint n,
            GPtrArray *words_out)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261201);
  GPtrArray *pages = g_ptr_array_new_with_free_func (page_free);
  g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  gint64 now = g_get_real_time ();

  for (guint i = 0; i < 4000; i++)
    g_ptr_array_add (words, make_word (rand));
  /* Few popular sites, many rare ones: a Zipf-like pick of 3000 hosts. */
  for (guint i = 0; i < 3000; i++)
    {
      g_autofree char *w = make_word (rand);
      g_ptr_array_add (hosts, g_strdup_printf ("%s%s.%s", g_rand_boolean (rand) ? "www." : "", w,
                                               tlds[g_rand_int_range (rand, 0, G_N_ELEMENTS (tlds))]));
    }
  for (guint i = 0; i < n; i++)
    {
      Page *page = g_new0 (Page, 1);
      double u = g_rand_double (rand);
      guint host = (guint) (pow (u, 3.0) * hosts->len);
      const char *w1 = words->pdata[g_rand_int_range (rand, 0, (gint32) words->len)];
      const char *w2 = words->pdata[g_rand_int_range (rand, 0, (gint32) words->len)];
      const char *w3 = words->pdata[g_rand_int_range (rand, 0, (gint32) words->len)];

      page->url = g_strdup_printf ("https://%s/%s/%s-%u", (char *) hosts->pdata[host], w1, w2, i);
      page->title = g_strdup_printf ("%c%s %s %s", g_ascii_toupper (w1[0]), w1 + 1, w2, w3);
      page->visits = g_rand_int_range (rand, 1, 5);
      page->type = g_rand_int_range (rand, 0, 5) == 0 ? CB_VISIT_TYPED : CB_VISIT_LINK;
      page->first_time = now - (gint64) (g_rand_double (rand) * 365 * 86400) * G_USEC_PER_SEC;
      g_ptr_array_add (pages, page);
    }
  for (guint i = 0; i < 300; i++)
    g_ptr_array_add (words_out, g_strdup (words->pdata[g_rand_int_range (rand, 0, (gint32) words->len)]));
  /* Some queries start with a site's name, as people type them. */
  for (guint i = 0; i < 100; i++)
    {
      const char *h = hosts->pdata[(guint) (pow (g_rand_double (rand), 3.0) * hosts->len)];
      if (g_str_has_prefix (h, "www."))
        h += 4;
      g_ptr_array_add (words_out, g_strndup (h, strcspn (h, ".")));
    }
  return pages;
}

static double
now_ms (void)
{
  return (double) g_get_monotonic_time () / 1000.0;
}

static guint pending;

static void
visit_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(GError) error = NULL;

  if (!cb_history_add_visit_finish (CB_HISTORY (source), result, &error))
    g_error ("visit failed: %s", error->message);
  pending--;
}

static double
insert_with_store (const char *path,
                   GPtrArray  *pages,
                   guint      *n_visits)
{
  g_autoptr(CbHistory) history = cb_history_new (path);
  double start = now_ms ();

  *n_visits = 0;
  for (guint i = 0; i < pages->len; i++)
    {
      Page *page = pages->pdata[i];

      for (int v = 0; v < page->visits; v++)
        {
          pending++;
          (*n_visits)++;
          cb_history_add_visit_async (history, page->url, page->title,
                                      v == 0 ? page->type : CB_VISIT_LINK,
                                      page->first_time + v * 3600 * (gint64) G_USEC_PER_SEC,
                                      NULL, visit_done, NULL);
        }
      /* A browser records visits as pages load, not all at once: keep at
       * most a few thousand in flight. */
      while (pending > 4096)
        g_main_context_iteration (NULL, TRUE);
    }
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);
  return now_ms () - start;
}

static void
exec_or_die (sqlite3 *db, const char *sql)
{
  char *error = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &error) != SQLITE_OK)
    g_error ("%s: %s", sql, error);
}

/* The naive store: one transaction per visit, same tables. */
static double
insert_plain (const char *path,
              GPtrArray  *pages)
{
  sqlite3 *db;
  sqlite3_stmt *find, *add_url, *add_visit, *bump;
  double start = now_ms ();

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  exec_or_die (db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                   "CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE,"
                   " title TEXT NOT NULL DEFAULT '', visit_count INTEGER NOT NULL DEFAULT 0,"
                   " typed_count INTEGER NOT NULL DEFAULT 0, last_visit INTEGER NOT NULL DEFAULT 0,"
                   " frecency REAL NOT NULL DEFAULT 0);"
                   "CREATE INDEX urls_last_visit ON urls (last_visit);"
                   "CREATE TABLE visits (id INTEGER PRIMARY KEY, url_id INTEGER NOT NULL,"
                   " time INTEGER NOT NULL, type INTEGER NOT NULL);"
                   "CREATE INDEX visits_url ON visits (url_id);"
                   "CREATE INDEX visits_time ON visits (time)");
  sqlite3_prepare_v2 (db, "SELECT id FROM urls WHERE url = ?", -1, &find, NULL);
  sqlite3_prepare_v2 (db, "INSERT INTO urls (url, title) VALUES (?, ?)", -1, &add_url, NULL);
  sqlite3_prepare_v2 (db, "INSERT INTO visits (url_id, time, type) VALUES (?, ?, ?)", -1,
                      &add_visit, NULL);
  sqlite3_prepare_v2 (db, "UPDATE urls SET visit_count = visit_count + 1, last_visit = ? "
                          "WHERE id = ?", -1, &bump, NULL);
  for (guint i = 0; i < pages->len; i++)
    {
      Page *page = pages->pdata[i];

      for (int v = 0; v < page->visits; v++)
        {
          gint64 id;

          exec_or_die (db, "BEGIN");
          sqlite3_bind_text (find, 1, page->url, -1, SQLITE_STATIC);
          if (sqlite3_step (find) == SQLITE_ROW)
            id = sqlite3_column_int64 (find, 0);
          else
            {
              sqlite3_bind_text (add_url, 1, page->url, -1, SQLITE_STATIC);
              sqlite3_bind_text (add_url, 2, page->title, -1, SQLITE_STATIC);
              sqlite3_step (add_url);
              sqlite3_reset (add_url);
              id = sqlite3_last_insert_rowid (db);
            }
          sqlite3_reset (find);
          sqlite3_bind_int64 (add_visit, 1, id);
          sqlite3_bind_int64 (add_visit, 2, page->first_time);
          sqlite3_bind_int (add_visit, 3, page->type);
          sqlite3_step (add_visit);
          sqlite3_reset (add_visit);
          sqlite3_bind_int64 (bump, 1, page->first_time);
          sqlite3_bind_int64 (bump, 2, id);
          sqlite3_step (bump);
          sqlite3_reset (bump);
          exec_or_die (db, "COMMIT");
        }
    }
  sqlite3_finalize (find);
  sqlite3_finalize (add_url);
  sqlite3_finalize (add_visit);
  sqlite3_finalize (bump);
  sqlite3_close (db);
  return now_ms () - start;
}

static gboolean completed;

static void
complete_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = cb_history_complete_finish (CB_HISTORY (source), result, &error);

  if (entries == NULL)
    g_error ("completion failed: %s", error->message);
  *(guint *) data += entries->len;
  completed = TRUE;
}

static double
time_completion (CbHistory  *history,
                 const char *text,
                 guint      *n_results)
{
  double start = now_ms ();

  completed = FALSE;
  cb_history_complete_async (history, text, LIMIT, NULL, complete_done, n_results);
  while (!completed)
    g_main_context_iteration (NULL, TRUE);
  return now_ms () - start;
}

static double
time_like (sqlite3    *db,
           const char *text,
           guint      *n_results)
{
  sqlite3_stmt *stmt;
  g_autofree char *pattern = g_strdup_printf ("%%%s%%", text);
  double start = now_ms ();

  sqlite3_prepare_v2 (db, "SELECT url, title FROM urls WHERE url LIKE ?1 OR title LIKE ?1 "
                          "ORDER BY visit_count DESC LIMIT 10", -1, &stmt, NULL);
  sqlite3_bind_text (stmt, 1, pattern, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    (*n_results)++;
  sqlite3_finalize (stmt);
  return now_ms () - start;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted, double p)
{
  guint i = (guint) ceil (p / 100.0 * sorted->len) - 1;

  return g_array_index (sorted, double, MIN (i, sorted->len - 1));
}

static void
print_latency (const char *name, GArray *ms)
{
  g_array_sort (ms, compare_double);
  printf ("%-32s %7u %8.2f %8.2f %8.2f %8.2f %8.2f\n", name, ms->len, percentile (ms, 50),
          percentile (ms, 90), percentile (ms, 99), percentile (ms, 99.9),
          g_array_index (ms, double, ms->len - 1));
}

static long
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmRSS:")) == NULL)
    return -1;
  return strtol (line + 6, NULL, 10);
}

int
main (int   argc,
      char *argv[])
{
  gint pages_n = 100000, queries_n = 400;
  g_autofree char *json_path = NULL;
  GOptionEntry entries[] = {
    { "pages", 0, 0, G_OPTION_ARG_INT, &pages_n, "Pages in the history (default 100000)", "N" },
    { "queries", 0, 0, G_OPTION_ARG_INT, &queries_n, "Words typed (default 400)", "N" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Write the figures as JSON", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("- history store benchmark");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) pages = NULL;
  g_autofree char *dir = NULL, *store_path = NULL, *plain_path = NULL;
  g_autoptr(CbHistory) history = NULL;
  g_autoptr(GArray) ours = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) like = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *by_length[4];
  guint n_visits = 0, ours_results = 0, like_results = 0;
  double store_ms, plain_ms, first_ms, p99, like_p99, store_rate, plain_rate;
  long rss_before, rss_after;
  sqlite3 *db;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }
  dir = g_dir_make_tmp ("cb-bench-history-XXXXXX", &error);
  g_assert_no_error (error);
  store_path = g_build_filename (dir, "history.db", NULL);
  plain_path = g_build_filename (dir, "plain.db", NULL);
  pages = make_pages ((guint) pages_n, words);
  printf ("history of %d pages; sqlite %s; files in %s\n\n", pages_n, sqlite3_libversion (), dir);

  /* 1. Insert throughput. */
  store_ms = insert_with_store (store_path, pages, &n_visits);
  plain_ms = insert_plain (plain_path, pages);
  store_rate = n_visits / (store_ms / 1000.0);
  plain_rate = n_visits / (plain_ms / 1000.0);
  printf ("insert %u visits        %10s %12s\n", n_visits, "seconds", "visits/s");
  printf ("  cb-history async API %10.2f %12.0f\n", store_ms / 1000, store_rate);
  printf ("  plain sqlite, 1 tx/visit %6.2f %12.0f\n", plain_ms / 1000, plain_rate);
  printf ("  ratio cb-history/plain (throughput): %.2f\n\n", store_rate / plain_rate);

  /* 2. Completion latency, typed one character at a time. */
  history = cb_history_new (store_path);
  rss_before = rss_kib ();
  first_ms = time_completion (history, "a", &ours_results);
  rss_after = rss_kib ();
  printf ("first completion (reads the history into the match index): %.1f ms, "
          "RSS +%.1f MiB\n", first_ms, (rss_after - rss_before) / 1024.0);
  g_assert_cmpint (sqlite3_open_v2 (store_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  for (guint i = 0; i < G_N_ELEMENTS (by_length); i++)
    by_length[i] = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint q = 0; q < (guint) queries_n && q < words->len; q++)
    {
      const char *word = words->pdata[q];

      for (gsize len = 1; len <= strlen (word); len++)
        {
          g_autofree char *prefix = g_strndup (word, len);
          double t = time_completion (history, prefix, &ours_results);
          double b = time_like (db, prefix, &like_results);

          g_array_append_val (ours, t);
          g_array_append_val (by_length[MIN (len, G_N_ELEMENTS (by_length)) - 1], t);
          g_array_append_val (like, b);
        }
    }
  sqlite3_close (db);

  printf ("\ncompletion latency, ms           queries      p50      p90      p99    p99.9      max\n");
  print_latency ("  cb-history (async, index)", ours);
  print_latency ("  LIKE scan (GNOME Web shape)", like);
  for (guint i = 0; i < G_N_ELEMENTS (by_length); i++)
    {
      g_autofree char *name = g_strdup_printf ("    of them, %u%s characters typed", i + 1,
                                               i + 1 == G_N_ELEMENTS (by_length) ? " or more" : "");
      print_latency (name, by_length[i]);
      g_array_unref (by_length[i]);
    }
  p99 = percentile (ours, 99);
  like_p99 = percentile (like, 99);
  printf ("  results: %u ours, %u LIKE (both at most %d per query)\n", ours_results, like_results,
          LIMIT);
  printf ("  ratio cb-history/LIKE (p99): %.2f\n", p99 / like_p99);
  printf ("goal: completion p99 %.2f ms <= %.0f ms: %s\n", p99, GOAL_P99_MS,
          p99 <= GOAL_P99_MS ? "met" : "not met");

  if (json_path != NULL)
    {
      g_autofree char *json = g_strdup_printf (
        "{\"pages\": %d, \"visits\": %u, \"insert_store_s\": %.3f, \"insert_plain_s\": %.3f,"
        " \"insert_store_per_s\": %.0f, \"insert_plain_per_s\": %.0f,"
        " \"first_completion_ms\": %.2f, \"completion_p50_ms\": %.3f,"
        " \"completion_p99_ms\": %.3f, \"like_p50_ms\": %.3f, \"like_p99_ms\": %.3f,"
        " \"queries\": %u}\n",
        pages_n, n_visits, store_ms / 1000, plain_ms / 1000, store_rate, plain_rate, first_ms,
        percentile (ours, 50), p99, percentile (like, 50), like_p99, ours->len);
      g_file_set_contents (json_path, json, -1, NULL);
    }

  g_clear_object (&history);
  {
    const char *suffixes[] = { "", "-wal", "-shm" };
    for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
      {
        g_autofree char *a = g_strconcat (store_path, suffixes[i], NULL);
        g_autofree char *b = g_strconcat (plain_path, suffixes[i], NULL);
        g_unlink (a);
        g_unlink (b);
      }
    g_rmdir (dir);
  }
  return 0;
}
