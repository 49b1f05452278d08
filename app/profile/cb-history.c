/* cb-history.c: visits in sqlite, suggestions from an in-memory index
 *
 * Frecency is kept in log space so it never needs recomputing as time
 * passes: a visit at time t with weight w adds w·2^((t - T0)/half-life) to
 * a page's score, and the stored value is the logarithm of that sum.  The
 * decayed score "now" of every page is that sum times the same factor
 * 2^(-(now - T0)/half-life), so comparing stored values compares scores.
 *
 * Address-bar completion must answer within a frame on 100,000 pages.  A
 * LIKE scan in sqlite takes tens of milliseconds there, so the worker keeps
 * each page's lower-cased address and title in one contiguous buffer and
 * searches it with cb_find_substring() (16 bytes a step); only the ten winners are read back from the
 * database.  The buffer is built on the first completion and kept in step
 * by every write job (all of which run on the same thread). */
#define _GNU_SOURCE  /* memmem */
#define G_LOG_DOMAIN "cb-history"

#include "cb-history.h"
#include "cb-substring.h"

#include <math.h>
#include <string.h>

#define HALF_LIFE_S (30.0 * 24 * 3600)
/* 2020-01-01T00:00:00Z: keeps the exponents small. */
#define EPOCH_S 1577836800.0
#define NO_VISITS (-1e300)
#define MAX_WORDS 8

struct _CbHistory {
  GObject parent_instance;
  CbProfileDb *db;
  GMainContext *owner_context;  /* where "changed" is emitted */
  struct _Worker *worker;       /* shared with jobs; touched only on the worker */
};

G_DEFINE_FINAL_TYPE (CbHistory, cb_history, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (CbHistoryEntry, cb_history_entry, cb_history_entry_copy,
                     cb_history_entry_free)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

CbHistoryEntry *
cb_history_entry_copy (const CbHistoryEntry *entry)
{
  CbHistoryEntry *copy = g_memdup2 (entry, sizeof *entry);

  copy->url = g_strdup (entry->url);
  copy->title = g_strdup (entry->title);
  return copy;
}

void
cb_history_entry_free (CbHistoryEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->url);
  g_free (entry->title);
  g_free (entry);
}

static const char * const migrations[] = {
  /* 1 */
  "CREATE TABLE urls ("
  "  id INTEGER PRIMARY KEY,"
  "  url TEXT NOT NULL UNIQUE,"
  "  title TEXT NOT NULL DEFAULT '',"
  "  visit_count INTEGER NOT NULL DEFAULT 0,"
  "  typed_count INTEGER NOT NULL DEFAULT 0,"
  "  last_visit INTEGER NOT NULL DEFAULT 0,"
  "  frecency REAL NOT NULL DEFAULT -1e300);"
  "CREATE INDEX urls_last_visit ON urls (last_visit);"
  "CREATE TABLE visits ("
  "  id INTEGER PRIMARY KEY,"
  "  url_id INTEGER NOT NULL REFERENCES urls (id) ON DELETE CASCADE,"
  "  time INTEGER NOT NULL,"
  "  type INTEGER NOT NULL);"
  "CREATE INDEX visits_url ON visits (url_id);"
  "CREATE INDEX visits_time ON visits (time)",
};

static const char * const salvage_tables[] = { "urls", "visits", NULL };

static gboolean
setup_history (sqlite3  *db,
               GError  **error)
{
  /* Cleared history must not linger in free pages. */
  return cb_profile_db_exec (db, "PRAGMA secure_delete = ON", error);
}

static const CbProfileDbSchema history_schema = {
  .name = "history",
  .migrations = migrations,
  .n_migrations = G_N_ELEMENTS (migrations),
  .salvage_tables = salvage_tables,
  .setup = setup_history,
};

/* --- frecency --- */

static double
visit_weight (CbVisitType type)
{
  switch (type)
    {
    case CB_VISIT_TYPED:
      return 2.0;
    case CB_VISIT_BOOKMARK:
      return 1.5;
    case CB_VISIT_RELOAD:
      return 0.0;
    case CB_VISIT_LINK:
    default:
      return 1.0;
    }
}

static double
log_add (double a,
         double b)
{
  double hi = MAX (a, b), lo = MIN (a, b);

  if (lo <= NO_VISITS)
    return hi;
  return hi + log1p (exp (lo - hi));
}

static double
frecency_add (double      rank,
              gint64      time_us,
              CbVisitType type)
{
  double weight = visit_weight (type);
  double t = ((double) time_us / G_USEC_PER_SEC - EPOCH_S) / HALF_LIFE_S * G_LN2;

  if (weight <= 0)
    return rank;
  return log_add (rank, log (weight) + t);
}

/* --- the match index (worker thread only) --- */

typedef struct {
  gint64 id;
  double frecency;
  guint32 offset;   /* into Worker.text */
  guint32 length;
  gboolean alive;   /* FALSE: replaced or deleted; its text stays until a rebuild */
} IndexEntry;

typedef struct _Worker {
  gboolean loaded;
  guint generation;
  GArray *entries;     /* IndexEntry, by ascending offset */
  GString *text;       /* "text\0text\0…" */
  GHashTable *by_id;   /* id -> position of its live entry + 1 */
  gsize dead_bytes;
} Worker;

static void
worker_clear (gpointer data)
{
  Worker *worker = data;

  g_clear_pointer (&worker->entries, g_array_unref);
  if (worker->text != NULL)
    g_string_free (worker->text, TRUE);
  worker->text = NULL;
  g_clear_pointer (&worker->by_id, g_hash_table_unref);
  worker->loaded = FALSE;
  worker->dead_bytes = 0;
}

static void
worker_unref (gpointer worker)
{
  g_atomic_rc_box_release_full (worker, worker_clear);
}

/* "https://www.Example.org/A" -> "example.org/a" */
static void
append_url_key (GString    *out,
                const char *url)
{
  const char *rest = strstr (url, "://");
  g_autofree char *lower = NULL;

  rest = rest ? rest + 3 : url;
  if (g_ascii_strncasecmp (rest, "www.", 4) == 0)
    rest += 4;
  lower = g_utf8_strdown (rest, -1);
  g_string_append (out, lower);
}

static void
append_title_key (GString    *out,
                  const char *title)
{
  g_autofree char *lower = NULL;
  gsize start = out->len;

  if (title == NULL || !g_utf8_validate (title, -1, NULL))
    return;
  lower = g_utf8_strdown (title, -1);
  g_string_append (out, lower);
  for (gsize i = start; i < out->len; i++)
    if ((guchar) out->str[i] < 0x20)
      out->str[i] = ' ';
}

#define ID_KEY(id) GSIZE_TO_POINTER ((gsize) (id))

static void
index_set (Worker     *worker,
           gint64      id,
           double      frecency,
           const char *url,
           const char *title)
{
  gpointer slot = g_hash_table_lookup (worker->by_id, ID_KEY (id));
  IndexEntry entry = { .id = id, .frecency = frecency, .alive = TRUE };

  if (slot != NULL)
    {
      IndexEntry *old = &g_array_index (worker->entries, IndexEntry, GPOINTER_TO_UINT (slot) - 1);
      worker->dead_bytes += old->length + 1;
      old->alive = FALSE;
    }
  entry.offset = (guint32) worker->text->len;
  append_url_key (worker->text, url);
  g_string_append_c (worker->text, ' ');
  append_title_key (worker->text, title);
  entry.length = (guint32) (worker->text->len - entry.offset);
  g_string_append_c (worker->text, '\0');
  g_array_append_val (worker->entries, entry);
  g_hash_table_replace (worker->by_id, ID_KEY (id), GUINT_TO_POINTER (worker->entries->len));
}

static void
index_remove (Worker *worker,
              gint64  id)
{
  gpointer slot = g_hash_table_lookup (worker->by_id, ID_KEY (id));
  IndexEntry *entry;

  if (slot == NULL)
    return;
  entry = &g_array_index (worker->entries, IndexEntry, GPOINTER_TO_UINT (slot) - 1);
  worker->dead_bytes += entry->length + 1;
  entry->alive = FALSE;
  g_hash_table_remove (worker->by_id, ID_KEY (id));
}

static void
index_reset (Worker *worker)
{
  worker_clear (worker);
}

static gboolean
index_load (Worker   *worker,
            sqlite3  *db,
            GError  **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (worker->loaded && worker->generation == cb_profile_db_worker_generation () &&
      worker->dead_bytes < worker->text->len / 2)
    return TRUE;
  worker_clear (worker);
  worker->entries = g_array_new (FALSE, FALSE, sizeof (IndexEntry));
  worker->text = g_string_sized_new (4096);
  /* Row ids as keys: sqlite hands them out from 1 upwards. */
  worker->by_id = g_hash_table_new (g_direct_hash, g_direct_equal);
  if (sqlite3_prepare_v2 (db, "SELECT id, frecency, url, title FROM urls", -1, &stmt, NULL)
      != SQLITE_OK)
    {
      cb_profile_db_set_error (error, db, "cannot read the history");
      return FALSE;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    index_set (worker, sqlite3_column_int64 (stmt, 0), sqlite3_column_double (stmt, 1),
               (const char *) sqlite3_column_text (stmt, 2),
               (const char *) sqlite3_column_text (stmt, 3));
  if (rc != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, "cannot read the history");
      sqlite3_finalize (stmt);
      worker_clear (worker);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  worker->loaded = TRUE;
  worker->generation = cb_profile_db_worker_generation ();
  return TRUE;
}

/* Write jobs keep a loaded index in step; an index built from another
 * connection (before a reset) is simply dropped. */
static gboolean
index_usable (Worker *worker)
{
  if (!worker->loaded)
    return FALSE;
  if (worker->generation != cb_profile_db_worker_generation ())
    {
      index_reset (worker);
      return FALSE;
    }
  return TRUE;
}

/* --- job helpers --- */

/* For SQL built at run time; literals go through the statement cache.
 * Cached statements are reset (not finalized) after use, so no read
 * transaction stays open between jobs. */
static sqlite3_stmt *
prepare_once (sqlite3     *db,
              const char  *sql,
              GError     **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      cb_profile_db_set_error (error, db, "cannot prepare a history query");
      sqlite3_reset (stmt);
      return NULL;
    }
  return stmt;
}

#define prepare cb_profile_db_prepare_cached

static gboolean
step_done (sqlite3      *db,
           sqlite3_stmt *stmt,
           const char   *what,
           GError      **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, what);
      return FALSE;
    }
  return TRUE;
}

static CbHistoryEntry *
entry_from_row (sqlite3_stmt *stmt,
                int           first)
{
  CbHistoryEntry *entry = g_new0 (CbHistoryEntry, 1);

  entry->url = g_strdup ((const char *) sqlite3_column_text (stmt, first));
  entry->title = g_strdup ((const char *) sqlite3_column_text (stmt, first + 1));
  entry->visit_count = (guint) sqlite3_column_int (stmt, first + 2);
  entry->typed_count = (guint) sqlite3_column_int (stmt, first + 3);
  entry->last_visit = sqlite3_column_int64 (stmt, first + 4);
  entry->frecency = sqlite3_column_double (stmt, first + 5);
  return entry;
}

#define ENTRY_COLUMNS "url, title, visit_count, typed_count, last_visit, frecency"

typedef struct {
  Worker *worker;
  char *url;
  char *title;
  char *text;
  char **urls;
  CbVisitType type;
  gint64 time_us;
  gint64 since_us;
  guint limit;
  guint offset;
} JobData;

static void
job_data_free (gpointer data)
{
  JobData *job = data;

  g_clear_pointer (&job->worker, worker_unref);
  g_free (job->url);
  g_free (job->title);
  g_free (job->text);
  g_strfreev (job->urls);
  g_free (job);
}

static JobData *
job_data_new (CbHistory *self)
{
  JobData *job = g_new0 (JobData, 1);

  job->worker = g_atomic_rc_box_acquire (self->worker);
  return job;
}

static gpointer
done_result (void)
{
  return GINT_TO_POINTER (1);
}

/* --- jobs --- */

static gpointer
add_visit_job (sqlite3  *db,
               gpointer  data,
               GError  **error)
{
  JobData *job = data;
  sqlite3_stmt *stmt;
  gint64 id = 0, last_visit = 0;
  guint visits = 0, typed = 0;
  double frecency = NO_VISITS;
  g_autofree char *title = NULL;
  gboolean known = FALSE;
  CbVisitType type = job->type;

  if (!(stmt = prepare (db, "SELECT id, visit_count, typed_count, last_visit, frecency, title "
                            "FROM urls WHERE url = ?", error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, job->url, -1, SQLITE_STATIC);
  switch (sqlite3_step (stmt))
    {
    case SQLITE_ROW:
      known = TRUE;
      id = sqlite3_column_int64 (stmt, 0);
      visits = (guint) sqlite3_column_int (stmt, 1);
      typed = (guint) sqlite3_column_int (stmt, 2);
      last_visit = sqlite3_column_int64 (stmt, 3);
      frecency = sqlite3_column_double (stmt, 4);
      title = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      break;
    case SQLITE_DONE:
      break;
    default:
      cb_profile_db_set_error (error, db, "cannot read the history");
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);

  /* A reload of a page the history no longer has is a visit like any. */
  if (type == CB_VISIT_RELOAD && !known)
    type = CB_VISIT_LINK;
  if (job->title != NULL && *job->title != '\0')
    {
      g_free (title);
      title = g_strdup (job->title);
    }
  if (title == NULL)
    title = g_strdup ("");

  if (!known)
    {
      if (!(stmt = prepare (db, "INSERT INTO urls (url, title) VALUES (?, ?)", error)))
        return NULL;
      sqlite3_bind_text (stmt, 1, job->url, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, title, -1, SQLITE_STATIC);
      if (!step_done (db, stmt, "cannot record a visit", error))
        {
          sqlite3_reset (stmt);
          return NULL;
        }
      sqlite3_reset (stmt);
      id = sqlite3_last_insert_rowid (db);
    }

  if (type != CB_VISIT_RELOAD)
    {
      if (!(stmt = prepare (db, "INSERT INTO visits (url_id, time, type) VALUES (?, ?, ?)", error)))
        return NULL;
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_int64 (stmt, 2, job->time_us);
      sqlite3_bind_int (stmt, 3, type);
      if (!step_done (db, stmt, "cannot record a visit", error))
        {
          sqlite3_reset (stmt);
          return NULL;
        }
      sqlite3_reset (stmt);
      visits++;
      if (type == CB_VISIT_TYPED)
        typed++;
      frecency = frecency_add (frecency, job->time_us, type);
    }
  last_visit = MAX (last_visit, job->time_us);

  if (!(stmt = prepare (db, "UPDATE urls SET title = ?, visit_count = ?, typed_count = ?, "
                            "last_visit = ?, frecency = ? WHERE id = ?", error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, title, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, (int) visits);
  sqlite3_bind_int (stmt, 3, (int) typed);
  sqlite3_bind_int64 (stmt, 4, last_visit);
  sqlite3_bind_double (stmt, 5, frecency);
  sqlite3_bind_int64 (stmt, 6, id);
  if (!step_done (db, stmt, "cannot record a visit", error))
    {
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);

  if (index_usable (job->worker))
    index_set (job->worker, id, frecency, job->url, title);
  return done_result ();
}

static gpointer
set_title_job (sqlite3  *db,
               gpointer  data,
               GError  **error)
{
  JobData *job = data;
  sqlite3_stmt *stmt;

  if (!(stmt = prepare (db, "UPDATE urls SET title = ? WHERE url = ? RETURNING id, frecency",
                        error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, job->title ? job->title : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, job->url, -1, SQLITE_STATIC);
  switch (sqlite3_step (stmt))
    {
    case SQLITE_ROW:
      if (index_usable (job->worker))
        index_set (job->worker, sqlite3_column_int64 (stmt, 0), sqlite3_column_double (stmt, 1),
                   job->url, job->title);
      /* RETURNING: step to the end so the update is complete. */
      while (sqlite3_step (stmt) == SQLITE_ROW)
        ;
      break;
    case SQLITE_DONE:
      break;
    default:
      cb_profile_db_set_error (error, db, "cannot change a page title");
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);
  return done_result ();
}

static void
free_entries (gpointer array)
{
  g_ptr_array_unref (array);
}

static GPtrArray *
new_entries (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) cb_history_entry_free);
}

typedef struct {
  gint64 id;
  double score;
} Candidate;

static GStrv
split_words (const char *text)
{
  g_autofree char *lower = g_utf8_strdown (text, -1);
  g_auto(GStrv) parts = g_strsplit_set (g_strstrip (lower), " \t\n\r", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  guint n = 0;

  for (guint i = 0; parts[i] != NULL && n < MAX_WORDS; i++)
    if (*parts[i] != '\0')
      {
        g_strv_builder_add (builder, parts[i]);
        n++;
      }
  return g_strv_builder_end (builder);
}

static gboolean
at_boundary (const char *text,
             const char *hit)
{
  return hit == text || !g_ascii_isalnum (hit[-1]);
}

static gpointer
complete_job (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  JobData *job = data;
  Worker *worker = job->worker;
  g_auto(GStrv) words = split_words (job->text);
  g_autoptr(GPtrArray) result = new_entries ();
  g_autofree Candidate *best = NULL;
  guint n_best = 0, anchor = 0, worst = 0, n_words;
  double max_bonus;
  gsize anchor_len, pos = 0, text_len;
  guint cursor = 0;
  sqlite3_stmt *stmt;

  if (words[0] == NULL || job->limit == 0)
    return g_steal_pointer (&result);
  if (!index_load (worker, db, error))
    return NULL;
  best = g_new0 (Candidate, job->limit);

  /* Search for the longest word: it has the fewest hits. */
  for (guint i = 1; words[i] != NULL; i++)
    if (strlen (words[i]) > strlen (words[anchor]))
      anchor = i;
  anchor_len = strlen (words[anchor]);
  /* The most the bonuses below add to a page's frecency. */
  n_words = g_strv_length (words);
  max_bonus = (n_words + 4) * G_LN2;
  text_len = worker->text->len;

  while (pos < text_len)
    {
      const char *hit = cb_find_substring (worker->text->str + pos, text_len - pos, words[anchor],
                                           anchor_len);
      IndexEntry *entry;
      const char *start, *end;
      gboolean all = TRUE;
      double score;
      gsize hit_offset;

      if (hit == NULL)
        break;
      hit_offset = (gsize) (hit - worker->text->str);
      while (cursor + 1 < worker->entries->len &&
             g_array_index (worker->entries, IndexEntry, cursor + 1).offset <= hit_offset)
        cursor++;
      entry = &g_array_index (worker->entries, IndexEntry, cursor);
      start = worker->text->str + entry->offset;
      end = start + entry->length;
      pos = entry->offset + entry->length + 1;
      if (!entry->alive)
        continue;
      /* Short words hit nearly every page: once ten are kept, skip those
       * that could not beat the weakest even with every bonus (a margin
       * for rounding: the bonuses are added one by one below). */
      if (n_best == job->limit && entry->frecency + max_bonus < best[worst].score - 1e-9)
        continue;

      score = entry->frecency;
      for (guint i = 0; words[i] != NULL && all; i++)
        {
          const char *found = i == anchor ? hit : memmem (start, (gsize) (end - start),
                                                         words[i], strlen (words[i]));
          if (found == NULL)
            all = FALSE;
          else if (at_boundary (start, found))
            score += G_LN2;
        }
      if (!all)
        continue;
      /* What is typed is the start of the address: the site itself. */
      if (strncmp (start, words[0], strlen (words[0])) == 0)
        score += 4 * G_LN2;

      if (n_best < job->limit)
        best[n_best++] = (Candidate) { entry->id, score };
      else if (score > best[worst].score)
        best[worst] = (Candidate) { entry->id, score };
      else
        continue;
      if (n_best == job->limit)
        {
          worst = 0;
          for (guint i = 1; i < n_best; i++)
            if (best[i].score < best[worst].score)
              worst = i;
        }
    }

  /* Best first; few enough for insertion sort. */
  for (guint i = 1; i < n_best; i++)
    for (guint j = i; j > 0 && best[j].score > best[j - 1].score; j--)
      {
        Candidate swap = best[j];
        best[j] = best[j - 1];
        best[j - 1] = swap;
      }

  if (!(stmt = prepare (db, "SELECT " ENTRY_COLUMNS " FROM urls WHERE id = ?", error)))
    return NULL;
  for (guint i = 0; i < n_best; i++)
    {
      sqlite3_bind_int64 (stmt, 1, best[i].id);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        g_ptr_array_add (result, entry_from_row (stmt, 0));
      sqlite3_reset (stmt);
    }
  sqlite3_reset (stmt);
  return g_steal_pointer (&result);
}

static char *
like_pattern (const char *word)
{
  g_autoptr(GString) out = g_string_new ("%");

  for (const char *p = word; *p; p++)
    {
      if (*p == '%' || *p == '_' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '%');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gpointer
query_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  JobData *job = data;
  g_auto(GStrv) words = split_words (job->text ? job->text : "");
  g_autoptr(GString) sql = g_string_new ("SELECT " ENTRY_COLUMNS " FROM urls WHERE last_visit >= ?");
  g_autoptr(GPtrArray) result = new_entries ();
  sqlite3_stmt *stmt;
  int param = 2, rc;

  for (guint i = 0; words[i] != NULL; i++)
    g_string_append (sql, " AND (url LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\')");
  g_string_append (sql, " ORDER BY last_visit DESC LIMIT ? OFFSET ?");
  if (!(stmt = prepare_once (db, sql->str, error)))
    return NULL;
  sqlite3_bind_int64 (stmt, 1, job->since_us);
  for (guint i = 0; words[i] != NULL; i++)
    {
      char *pattern = like_pattern (words[i]);
      sqlite3_bind_text (stmt, param++, pattern, -1, g_free);
      sqlite3_bind_text (stmt, param++, g_strdup (pattern), -1, g_free);
    }
  sqlite3_bind_int (stmt, param++, job->limit ? (int) job->limit : -1);
  sqlite3_bind_int (stmt, param, (int) job->offset);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (result, entry_from_row (stmt, 0));
  if (rc != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, "cannot read the history");
      sqlite3_finalize (stmt);
      return NULL;
    }
  sqlite3_finalize (stmt);
  return g_steal_pointer (&result);
}

static gpointer
lookup_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  JobData *job = data;
  sqlite3_stmt *stmt;
  CbHistoryEntry *entry = NULL;

  if (!(stmt = prepare (db, "SELECT " ENTRY_COLUMNS " FROM urls WHERE url = ?", error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, job->url, -1, SQLITE_STATIC);
  switch (sqlite3_step (stmt))
    {
    case SQLITE_ROW:
      entry = entry_from_row (stmt, 0);
      break;
    case SQLITE_DONE:
      g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_NOT_FOUND,
                   "%s is not in the history", job->url);
      break;
    default:
      cb_profile_db_set_error (error, db, "cannot read the history");
    }
  sqlite3_reset (stmt);
  return entry;
}

static gpointer
delete_urls_job (sqlite3  *db,
                 gpointer  data,
                 GError  **error)
{
  JobData *job = data;
  sqlite3_stmt *stmt;

  if (!(stmt = prepare (db, "DELETE FROM urls WHERE url = ? RETURNING id", error)))
    return NULL;
  for (guint i = 0; job->urls[i] != NULL; i++)
    {
      int rc;

      sqlite3_bind_text (stmt, 1, job->urls[i], -1, SQLITE_STATIC);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        if (index_usable (job->worker))
          index_remove (job->worker, sqlite3_column_int64 (stmt, 0));
      if (rc != SQLITE_DONE)
        {
          cb_profile_db_set_error (error, db, "cannot delete from the history");
          sqlite3_reset (stmt);
          return NULL;
        }
      sqlite3_reset (stmt);
    }
  sqlite3_reset (stmt);
  return done_result ();
}

/* Recomputes a page's counts and rank from the visits it has left;
 * deletes it when none are left. */
static gboolean
rerank_url (sqlite3  *db,
            Worker   *worker,
            gint64    id,
            GError  **error)
{
  sqlite3_stmt *stmt;
  guint visits = 0, typed = 0;
  gint64 last = 0;
  double frecency = NO_VISITS;
  int rc;

  if (!(stmt = prepare (db, "SELECT time, type FROM visits WHERE url_id = ?", error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 time_us = sqlite3_column_int64 (stmt, 0);
      CbVisitType type = sqlite3_column_int (stmt, 1);

      visits++;
      typed += type == CB_VISIT_TYPED;
      last = MAX (last, time_us);
      frecency = frecency_add (frecency, time_us, type);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, "cannot read the history");
      return FALSE;
    }

  if (visits == 0)
    {
      if (!(stmt = prepare (db, "DELETE FROM urls WHERE id = ?", error)))
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, id);
      if (index_usable (worker))
        index_remove (worker, id);
    }
  else
    {
      if (!(stmt = prepare (db, "UPDATE urls SET visit_count = ?, typed_count = ?, "
                                "last_visit = ?, frecency = ? WHERE id = ? "
                                "RETURNING url, title", error)))
        return FALSE;
      sqlite3_bind_int (stmt, 1, (int) visits);
      sqlite3_bind_int (stmt, 2, (int) typed);
      sqlite3_bind_int64 (stmt, 3, last);
      sqlite3_bind_double (stmt, 4, frecency);
      sqlite3_bind_int64 (stmt, 5, id);
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    if (index_usable (worker))
      index_set (worker, id, frecency, (const char *) sqlite3_column_text (stmt, 0),
                 (const char *) sqlite3_column_text (stmt, 1));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, "cannot update the history");
      return FALSE;
    }
  return TRUE;
}

static gpointer
clear_job (sqlite3  *db,
           gpointer  data,
           GError  **error)
{
  JobData *job = data;
  g_autoptr(GArray) affected = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt;
  int rc;

  if (job->since_us <= 0)
    {
      if (!cb_profile_db_exec (db, "DELETE FROM visits; DELETE FROM urls", error))
        return NULL;
      index_reset (job->worker);
      return done_result ();
    }

  if (!(stmt = prepare (db, "SELECT DISTINCT url_id FROM visits WHERE time >= ?", error)))
    return NULL;
  sqlite3_bind_int64 (stmt, 1, job->since_us);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (affected, id);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, "cannot read the history");
      return NULL;
    }

  if (!(stmt = prepare (db, "DELETE FROM visits WHERE time >= ?", error)))
    return NULL;
  sqlite3_bind_int64 (stmt, 1, job->since_us);
  if (!step_done (db, stmt, "cannot clear the history", error))
    {
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);

  for (guint i = 0; i < affected->len; i++)
    if (!rerank_url (db, job->worker, g_array_index (affected, gint64, i), error))
      return NULL;
  /* Reloads only touch last_visit: pages last seen in the range without a
   * visit there (rare) keep their rank but show the time of their last
   * remaining visit. */
  return done_result ();
}

static gpointer
checkpoint_job (sqlite3  *db,
                gpointer  data,
                GError  **error)
{
  /* Also moves what secure_delete zeroed into the main file now. */
  sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  return done_result ();
}

/* --- async plumbing --- */

static gboolean
emit_changed (gpointer data)
{
  g_signal_emit (data, signals[SIGNAL_CHANGED], 0);
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

static void
notify_changed (CbHistory *self)
{
  g_main_context_invoke_full (self->owner_context, G_PRIORITY_DEFAULT, emit_changed,
                              g_object_ref (self), NULL);
}

static void
boolean_job_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  cb_profile_db_run_finish (CB_PROFILE_DB (source), result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  notify_changed (g_task_get_source_object (task));
  g_task_return_boolean (task, TRUE);
}

static void
pointer_job_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  gpointer value = cb_profile_db_run_finish (CB_PROFILE_DB (source), result, &error);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, value, g_task_get_task_data (task));
}

static void
run (CbHistory           *self,
     gboolean             write,
     CbProfileDbJob       func,
     JobData             *data,
     GDestroyNotify       result_free,
     gpointer             source_tag,
     GCancellable        *cancellable,
     GAsyncReadyCallback  callback,
     gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  /* The task data only remembers how to free a pointer result. */
  g_task_set_task_data (task, result_free, NULL);
  cb_profile_db_run_async (self->db, write, func, data, job_data_free, result_free, cancellable,
                           write ? boolean_job_done : pointer_job_done, task);
}

gboolean
cb_history_is_recordable (const char *uri)
{
  const char *scheme = uri ? g_uri_peek_scheme (uri) : NULL;

  return scheme != NULL &&
         (g_str_equal (scheme, "http") || g_str_equal (scheme, "https") ||
          g_str_equal (scheme, "file"));
}

void
cb_history_add_visit_async (CbHistory           *self,
                            const char          *url,
                            const char          *title,
                            CbVisitType          type,
                            gint64               time_us,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  JobData *job;

  g_return_if_fail (CB_IS_HISTORY (self));
  g_return_if_fail (url != NULL);
  job = job_data_new (self);
  job->url = g_strdup (url);
  job->title = g_strdup (title);
  job->type = type;
  job->time_us = time_us > 0 ? time_us : g_get_real_time ();
  run (self, TRUE, add_visit_job, job, NULL, cb_history_add_visit_async, cancellable, callback,
       user_data);
}

gboolean
cb_history_add_visit_finish (CbHistory     *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
cb_history_set_title_async (CbHistory           *self,
                            const char          *url,
                            const char          *title,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  JobData *job;

  g_return_if_fail (CB_IS_HISTORY (self));
  job = job_data_new (self);
  job->url = g_strdup (url);
  job->title = g_strdup (title);
  run (self, TRUE, set_title_job, job, NULL, cb_history_set_title_async, cancellable, callback,
       user_data);
}

gboolean
cb_history_set_title_finish (CbHistory     *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
cb_history_complete_async (CbHistory           *self,
                           const char          *text,
                           guint                limit,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  JobData *job;

  g_return_if_fail (CB_IS_HISTORY (self));
  job = job_data_new (self);
  job->text = g_strdup (text ? text : "");
  job->limit = MIN (limit, 100);
  run (self, FALSE, complete_job, job, free_entries, cb_history_complete_async, cancellable,
       callback, user_data);
}

GPtrArray *
cb_history_complete_finish (CbHistory     *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
cb_history_query_async (CbHistory           *self,
                        const char          *text,
                        gint64               since_us,
                        guint                limit,
                        guint                offset,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  JobData *job;

  g_return_if_fail (CB_IS_HISTORY (self));
  job = job_data_new (self);
  job->text = g_strdup (text ? text : "");
  job->since_us = since_us;
  job->limit = limit;
  job->offset = offset;
  run (self, FALSE, query_job, job, free_entries, cb_history_query_async, cancellable,
       callback, user_data);
}

GPtrArray *
cb_history_query_finish (CbHistory     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
cb_history_lookup_async (CbHistory           *self,
                         const char          *url,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  JobData *job;

  g_return_if_fail (CB_IS_HISTORY (self));
  job = job_data_new (self);
  job->url = g_strdup (url);
  run (self, FALSE, lookup_job, job, (GDestroyNotify) cb_history_entry_free,
       cb_history_lookup_async, cancellable, callback, user_data);
}

CbHistoryEntry *
cb_history_lookup_finish (CbHistory     *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
cb_history_delete_urls_async (CbHistory           *self,
                              const char * const  *urls,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  JobData *job;

  g_return_if_fail (CB_IS_HISTORY (self));
  job = job_data_new (self);
  job->urls = g_strdupv ((char **) urls);
  run (self, TRUE, delete_urls_job, job, NULL, cb_history_delete_urls_async, cancellable,
       callback, user_data);
}

gboolean
cb_history_delete_urls_finish (CbHistory     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
clear_checkpointed (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  cb_profile_db_run_finish (CB_PROFILE_DB (source), result, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
clear_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  CbHistory *self = g_task_get_source_object (task);
  GError *error = NULL;

  cb_profile_db_run_finish (CB_PROFILE_DB (source), result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  notify_changed (self);
  cb_profile_db_run_async (self->db, FALSE, checkpoint_job, NULL, NULL, NULL, NULL,
                           clear_checkpointed, task);
}

void
cb_history_clear_async (CbHistory           *self,
                        gint64               since_us,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task;
  JobData *job;

  g_return_if_fail (CB_IS_HISTORY (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, cb_history_clear_async);
  job = job_data_new (self);
  job->since_us = since_us;
  cb_profile_db_run_async (self->db, TRUE, clear_job, job, job_data_free, NULL, cancellable,
                           clear_done, task);
}

gboolean
cb_history_clear_finish (CbHistory     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- object --- */

static void
cb_history_dispose (GObject *object)
{
  CbHistory *self = CB_HISTORY (object);

  g_clear_object (&self->db);
  G_OBJECT_CLASS (cb_history_parent_class)->dispose (object);
}

static void
cb_history_finalize (GObject *object)
{
  CbHistory *self = CB_HISTORY (object);

  g_clear_pointer (&self->worker, worker_unref);
  g_main_context_unref (self->owner_context);
  G_OBJECT_CLASS (cb_history_parent_class)->finalize (object);
}

static void
cb_history_class_init (CbHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_history_dispose;
  object_class->finalize = cb_history_finalize;

  /* Pages were added, renamed or removed. */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cb_history_init (CbHistory *self)
{
  self->worker = g_atomic_rc_box_new0 (Worker);
  self->owner_context = g_main_context_ref_thread_default ();
}

CbHistory *
cb_history_new (const char *path)
{
  CbHistory *self = g_object_new (CB_TYPE_HISTORY, NULL);

  self->db = cb_profile_db_new (path, &history_schema);
  return self;
}

CbProfileDb *
cb_history_get_db (CbHistory *self)
{
  g_return_val_if_fail (CB_IS_HISTORY (self), NULL);
  return self->db;
}
