/* materialize.c: benchmark of cb_materializer_apply against plain INSERTs
 *
 * 100,000 two-column rows (TEXT key, TEXT value), one transaction, into a
 * file database in WAL mode with synchronous=NORMAL.  The baseline,
 * measured in the same run into a second file, is the fastest way SQLite
 * takes the same rows: one prepared INSERT, bound without copying.  Ours
 * applies them as 100 changesets of 1,000 rows (built beforehand; the
 * builder is not timed) with last-writer-wins: a stamp upsert into
 * _cb_rows per row on top of the row itself.  Also timed: validation
 * (what the store runs before applying), and a second pass with newer
 * stamps over existing rows (replacing them).  Goal: apply >= 0.33x the
 * baseline's rows/s.
 *
 * Two page-cache sizes: SQLite's default (2 MiB), where a 100,000-row
 * transaction spills dirty pages to the WAL and the extra B-tree (_cb_rows)
 * costs I/O as well as CPU, and 32 MiB, where it stays in memory.
 *
 * Runs alternate, so drift hits both alike; the median of each is shown. */
#include "cb-changeset.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ROWS 100000
#define ROWS_PER_CHANGESET 1000
#define RUNS 5

static const char * const tables[] = {
  "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT)",
  NULL,
};

static void
exec_ok (sqlite3 *db, const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static int cache_kib;  /* 0: SQLite's default */

static sqlite3 *
open_fresh (const char *dir, const char *name, CbSchema *schema)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  g_unlink (path);
  g_unlink (wal);
  g_unlink (shm);
  if (sqlite3_open (path, &db) != SQLITE_OK)
    g_error ("cannot open %s", path);
  exec_ok (db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  if (cache_kib > 0)
    {
      g_autofree char *sql = g_strdup_printf ("PRAGMA cache_size = -%d", cache_kib);
      exec_ok (db, sql);
    }
  if (!cb_schema_install (schema, db, &error))
    g_error ("%s", error->message);
  return db;
}

static double
baseline_run (const char *dir, CbSchema *schema, char **keys, char **values)
{
  sqlite3 *db = open_fresh (dir, "baseline.db", schema);
  sqlite3_stmt *stmt = NULL;
  gint64 start;
  double seconds;

  if (sqlite3_prepare_v2 (db, "INSERT INTO kv (key, value) VALUES (?1, ?2)", -1, &stmt, NULL)
      != SQLITE_OK)
    g_error ("%s", sqlite3_errmsg (db));
  start = g_get_monotonic_time ();
  exec_ok (db, "BEGIN");
  for (guint i = 0; i < N_ROWS; i++)
    {
      sqlite3_bind_text (stmt, 1, keys[i], -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, values[i], -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        g_error ("%s", sqlite3_errmsg (db));
      sqlite3_reset (stmt);
    }
  exec_ok (db, "COMMIT");
  seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return N_ROWS / seconds;
}

typedef struct {
  double validate;
  double apply;
  double replace;
} Rates;

static Rates
materialize_run (const char *dir, CbSchema *schema, GPtrArray *changesets)
{
  sqlite3 *db = open_fresh (dir, "materialized.db", schema);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbMaterializer) mat = cb_materializer_new (schema, db, &error);
  CbStamp stamp = { .hlc = 1000 };
  Rates rates;
  guint total = 0;
  gint64 start;

  if (mat == NULL)
    g_error ("%s", error->message);
  memset (stamp.writer, 0x42, sizeof stamp.writer);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < changesets->len; i++)
    {
      GBytes *changeset = g_ptr_array_index (changesets, i);
      guint n_ops = 0;

      if (!cb_changeset_validate (schema, g_bytes_get_data (changeset, NULL),
                                  g_bytes_get_size (changeset), &n_ops, &error))
        g_error ("%s", error->message);
      total += n_ops;
    }
  rates.validate = total / ((double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
  g_assert_cmpuint (total, ==, N_ROWS);

  for (guint pass = 0; pass < 2; pass++)
    {
      guint applied_total = 0;
      double rate;

      stamp.hlc++;
      start = g_get_monotonic_time ();
      exec_ok (db, "BEGIN");
      for (guint i = 0; i < changesets->len; i++)
        {
          GBytes *changeset = g_ptr_array_index (changesets, i);
          guint applied = 0;

          if (!cb_materializer_apply (mat, g_bytes_get_data (changeset, NULL),
                                      g_bytes_get_size (changeset), &stamp, &applied, NULL,
                                      &error))
            g_error ("%s", error->message);
          applied_total += applied;
        }
      exec_ok (db, "COMMIT");
      rate = N_ROWS / ((double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
      g_assert_cmpuint (applied_total, ==, N_ROWS);
      if (pass == 0)
        rates.apply = rate;
      else
        rates.replace = rate;
    }
  g_clear_pointer (&mat, cb_materializer_free);
  sqlite3_close (db);
  return rates;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, guint n)
{
  qsort (v, n, sizeof *v, compare_doubles);
  return v[n / 2];
}

int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbSchema) schema = cb_schema_new ("bench/kv", tables, &error);
  g_autoptr(CbChangesetBuilder) builder = NULL;
  g_autoptr(GPtrArray) changesets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autofree char *dir = g_dir_make_tmp ("cb-bench-materialize-XXXXXX", &error);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  char **keys = g_new0 (char *, N_ROWS + 1);
  char **values = g_new0 (char *, N_ROWS + 1);
  double base[RUNS], apply[RUNS], replace[RUNS], validate[RUNS];

  if (schema == NULL || dir == NULL)
    g_error ("%s", error->message);
  builder = cb_changeset_builder_new (schema, &error);
  if (builder == NULL)
    g_error ("%s", error->message);

  /* Keys in a scattered order, as many writers' rows would arrive. */
  for (guint i = 0; i < N_ROWS; i++)
    {
      guint32 k = (guint32) (((guint64) i * 2654435761u) % 4294967291u);

      keys[i] = g_strdup_printf ("user/%010u", k);
      values[i] = g_strdup_printf ("value %u: %08x", i, g_rand_int (rand));
    }
  for (guint i = 0; i < N_ROWS; i++)
    {
      g_autoptr(JsonObject) row = json_object_new ();

      json_object_set_string_member (row, "key", keys[i]);
      json_object_set_string_member (row, "value", values[i]);
      if (!cb_changeset_builder_upsert (builder, "kv", row, &error))
        g_error ("%s", error->message);
      if ((i + 1) % ROWS_PER_CHANGESET == 0)
        {
          GBytes *changeset = cb_changeset_builder_finish (builder, &error);

          if (changeset == NULL)
            g_error ("%s", error->message);
          g_ptr_array_add (changesets, changeset);
        }
    }

  printf ("rows: %d in %u changesets of %d, one transaction, WAL, synchronous=NORMAL\n",
          N_ROWS, changesets->len, ROWS_PER_CHANGESET);
  for (guint c = 0; c < 2; c++)
    {
      double ratio;

      cache_kib = c == 0 ? 0 : 32768;
      for (guint r = 0; r < RUNS; r++)
        {
          Rates rates;

          base[r] = baseline_run (dir, schema, keys, values);
          rates = materialize_run (dir, schema, changesets);
          apply[r] = rates.apply;
          replace[r] = rates.replace;
          validate[r] = rates.validate;
        }
      ratio = median (apply, RUNS) / median (base, RUNS);
      printf ("\npage cache: %s\n", c == 0 ? "default (2 MiB)" : "32 MiB");
      printf ("baseline INSERT:            %10.0f rows/s\n", median (base, RUNS));
      printf ("cb_materializer_apply:      %10.0f rows/s  (%.2fx baseline; goal >= 0.33x: %s)\n",
              median (apply, RUNS), ratio, ratio >= 0.33 ? "met" : "NOT met");
      printf ("  again, newer stamps:      %10.0f rows/s  (%.2fx; replaces every row)\n",
              median (replace, RUNS), median (replace, RUNS) / median (base, RUNS));
      printf ("cb_changeset_validate:      %10.0f rows/s\n", median (validate, RUNS));
    }

  {
    g_autofree char *a = g_build_filename (dir, "baseline.db", NULL);
    g_autofree char *b = g_build_filename (dir, "materialized.db", NULL);

    g_unlink (a);
    g_unlink (b);
    g_rmdir (dir);
  }
  g_strfreev (keys);
  g_strfreev (values);
  return 0;
}
