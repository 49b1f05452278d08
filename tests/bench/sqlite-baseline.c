/* sqlite-baseline.c: this machine's ceiling for the replication benchmark
 *
 *   bench-sqlite-baseline N DIR
 *
 * The same N rows the benchmark replicates (key "k%06d", a 90-byte value)
 * into test/kv's table, in a fresh database file in DIR with the store's
 * settings (WAL, synchronous=FULL), two ways:
 *   insert  one prepared INSERT in one transaction, the fastest way SQLite
 *           takes them;
 *   apply   sqlite3changeset_apply of one changeset holding them (what a
 *           replica does without verification or last-writer-wins).
 * Prints one JSON object: {"rows", "insert_per_s", "apply_per_s"}. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA "CREATE TABLE kv (key TEXT NOT NULL PRIMARY KEY, value TEXT)"

static void
check (int rc, sqlite3 *db, const char *what)
{
  if (rc != SQLITE_OK && rc != SQLITE_DONE)
    {
      fprintf (stderr, "bench-sqlite-baseline: %s: %s\n", what, sqlite3_errmsg (db));
      exit (1);
    }
}

static sqlite3 *
fresh_db (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  sqlite3 *db = NULL;

  g_unlink (path);
  g_unlink (wal);
  check (sqlite3_open (path, &db), db, "open");
  check (sqlite3_exec (db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; " SCHEMA,
                       NULL, NULL, NULL), db, "schema");
  return db;
}

static void
insert_rows (sqlite3 *db, guint n)
{
  sqlite3_stmt *stmt = NULL;
  char key[16], value[91];

  memset (value, 'v', 90);
  value[90] = '\0';
  check (sqlite3_prepare_v2 (db, "INSERT INTO kv VALUES (?, ?)", -1, &stmt, NULL), db, "prepare");
  for (guint i = 0; i < n; i++)
    {
      g_snprintf (key, sizeof key, "k%06u", i);
      sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, value, 90, SQLITE_STATIC);
      check (sqlite3_step (stmt), db, "insert");
      sqlite3_reset (stmt);
    }
  sqlite3_finalize (stmt);
}

static int
on_conflict (void *ctx, int conflict, sqlite3_changeset_iter *iter)
{
  return SQLITE_CHANGESET_ABORT;
}

int
main (int argc, char **argv)
{
  guint n;
  sqlite3 *db, *mem = NULL;
  sqlite3_session *session = NULL;
  void *changeset = NULL;
  int changeset_len = 0;
  gint64 t0, t1;
  double insert_s, apply_s;

  if (argc != 3)
    {
      fprintf (stderr, "usage: bench-sqlite-baseline N DIR\n");
      return 2;
    }
  n = (guint) atoi (argv[1]);

  db = fresh_db (argv[2], "baseline-insert.db");
  t0 = g_get_monotonic_time ();
  check (sqlite3_exec (db, "BEGIN", NULL, NULL, NULL), db, "begin");
  insert_rows (db, n);
  check (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), db, "commit");
  t1 = g_get_monotonic_time ();
  insert_s = (t1 - t0) / 1e6;
  sqlite3_close (db);

  /* The changeset is built untimed, in memory. */
  check (sqlite3_open (":memory:", &mem), mem, "open memory");
  check (sqlite3_exec (mem, SCHEMA, NULL, NULL, NULL), mem, "schema");
  check (sqlite3session_create (mem, "main", &session), mem, "session");
  check (sqlite3session_attach (session, NULL), mem, "attach");
  check (sqlite3_exec (mem, "BEGIN", NULL, NULL, NULL), mem, "begin");
  insert_rows (mem, n);
  check (sqlite3_exec (mem, "COMMIT", NULL, NULL, NULL), mem, "commit");
  check (sqlite3session_changeset (session, &changeset_len, &changeset), mem, "changeset");
  sqlite3session_delete (session);
  sqlite3_close (mem);

  db = fresh_db (argv[2], "baseline-apply.db");
  t0 = g_get_monotonic_time ();
  check (sqlite3changeset_apply (db, changeset_len, changeset, NULL, on_conflict, NULL), db,
         "apply");
  t1 = g_get_monotonic_time ();
  apply_s = (t1 - t0) / 1e6;
  sqlite3_free (changeset);
  sqlite3_close (db);

  printf ("{\"rows\": %u, \"insert_per_s\": %.0f, \"apply_per_s\": %.0f}\n", n, n / insert_s,
          n / apply_s);
  return 0;
}
