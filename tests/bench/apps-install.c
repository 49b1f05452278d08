/* apps-install.c: installing a 1 MB plugin from a loopback repository
 *
 * What `apps install` does, timed from the call to the plugin loaded and
 * running: refresh the repository (root.json, index.json, signatures
 * checked), download the 1 MB package over HTTPS to a temporary file with
 * its SHA-256, rename it into place, dlopen it and check its registration.
 * Each run starts from a fresh data dir with the repository added (that is
 * not timed).  The repository is the signed output of the publisher's own
 * code; the HTTPS server runs on 127.0.0.1 in a thread of its own.
 *
 * Baseline, measured in the same run against the same server: a plain
 * libsoup GET of the same package into memory, nothing checked.
 * Goal: median install <= 300 ms. */
#include "cb-apps.h"
#include "cb-repo-publish.h"
#include "cb-repo-server.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#define RUNS 15
#define GOAL_MS 300.0
#define SYSTEM "test.cloudbevy.org/big"

typedef struct {
  GMainContext *context;
  GMainLoop    *loop;
  CbRepoServer *server;
  char         *repo_dir;
  char         *url;
  GMutex        lock;
  GCond         ready;
  gboolean      up;
} ServerThread;

static gpointer
serve (gpointer data)
{
  ServerThread *st = data;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (st->context);
  st->server = cb_repo_server_new (&error);
  if (st->server == NULL)
    g_error ("%s", error->message);
  st->url = cb_repo_server_add_dir (st->server, "r", st->repo_dir);
  g_mutex_lock (&st->lock);
  st->up = TRUE;
  g_cond_signal (&st->ready);
  g_mutex_unlock (&st->lock);
  g_main_loop_run (st->loop);
  cb_repo_server_free (st->server);
  g_main_context_pop_thread_default (st->context);
  return NULL;
}

typedef struct {
  gboolean      done;
  GAsyncResult *result;
} Wait;

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
  wait->done = TRUE;
}

static void
wait_for (Wait *wait)
{
  while (!wait->done)
    g_main_context_iteration (NULL, TRUE);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static double
install_once (const char *root, guint run, const char *url, GTlsDatabase *database,
              const char *connect_to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = g_strdup_printf ("%s/node-%u", root, run);
  g_autoptr(CbApps) apps = NULL;
  g_autoptr(JsonNode) added = NULL;
  g_autoptr(JsonNode) done = NULL;
  guint8 id[32];
  char hex[65];
  Wait wait = { 0 };
  gint64 start, end;

  randombytes_buf (id, sizeof id);
  for (guint i = 0; i < 32; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", id[i]);
  apps = cb_apps_new (data_dir, hex, &error);
  g_assert_no_error (error);
  cb_repo_fetcher_set_tls_database (cb_apps_get_fetcher (apps), database);
  cb_repo_fetcher_set_connect_to (cb_apps_get_fetcher (apps), connect_to);
  cb_apps_add_repository_async (apps, url, NULL, on_done, &wait);
  wait_for (&wait);
  added = cb_apps_add_repository_finish (apps, wait.result, &error);
  g_assert_no_error (error);
  g_clear_object (&wait.result);
  wait.done = FALSE;

  start = g_get_monotonic_time ();
  cb_apps_install_async (apps, "big", NULL, on_done, &wait);
  wait_for (&wait);
  done = cb_apps_install_finish (apps, wait.result, &error);
  end = g_get_monotonic_time ();
  g_clear_object (&wait.result);
  g_assert_no_error (error);
  g_assert_nonnull (cb_apps_lookup_module (apps, SYSTEM));
  g_clear_object (&apps);
  remove_tree (data_dir);
  return (end - start) / 1000.0;
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
  wait->done = TRUE;
}

/* The same bytes, the same server, plain libsoup: nothing verified. */
static double
download_once (const char *package_url, GTlsDatabase *database, const char *connect_to,
               gsize expect)
{
  g_autoptr(GSocketConnectable) connectable = g_network_address_parse (connect_to, 443, NULL);
  g_autoptr(SoupSession) session = g_object_new (SOUP_TYPE_SESSION, "remote-connectable",
                                                 connectable, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", package_url);
  g_autoptr(GBytes) body = NULL;
  Wait wait = { 0 };
  gint64 start, end;

  soup_session_set_tls_database (session, database);
  start = g_get_monotonic_time ();
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_read, &wait);
  wait_for (&wait);
  body = soup_session_send_and_read_finish (session, wait.result, NULL);
  end = g_get_monotonic_time ();
  g_clear_object (&wait.result);
  g_assert_nonnull (body);
  g_assert_cmpuint (g_bytes_get_size (body), ==, expect);
  return (end - start) / 1000.0;
}

int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("cb-bench-apps-XXXXXX", &error);
  g_autofree char *manifest = NULL;
  g_autofree char *key = g_build_filename (root, "repo.key", NULL);
  g_autofree char *package_name = NULL;
  g_autofree char *package_url = NULL;
  g_autofree char *connect_to = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(CbRepoPackage) package = NULL;
  ServerThread st = { 0 };
  GThread *thread;
  const char *keys[] = { key, NULL };
  const char *plugins = g_getenv ("CB_TEST_PLUGINS");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  double installs[RUNS], downloads[RUNS];

  if (sodium_init () < 0)
    return 1;
  if (plugins == NULL)
    plugins = argc > 1 ? argv[1] : NULL;
  if (plugins == NULL || g_getenv ("G_TEST_SRCDIR") == NULL)
    {
      fprintf (stderr, "usage: G_TEST_SRCDIR=tests bench-apps-install BUILD/tests/plugins\n");
      return 2;
    }
  manifest = g_build_filename (plugins, "big.cbplugin", NULL);
  st.repo_dir = g_build_filename (root, "repo", NULL);
  g_assert_true (cb_repo_publish_init (st.repo_dir, "Bench", keys, 1, now, 86400 * 30, 86400 * 30,
                                       &error));
  g_assert_true (cb_repo_publish_add (st.repo_dir, manifest, CB_HOST_ARCH, TRUE, &package, &error));
  g_assert_true (cb_repo_publish_sign (st.repo_dir, keys, 0, now, 86400 * 30, NULL, &error));
  g_assert_no_error (error);

  st.context = g_main_context_new ();
  st.loop = g_main_loop_new (st.context, FALSE);
  g_mutex_init (&st.lock);
  g_cond_init (&st.ready);
  thread = g_thread_new ("repo-server", serve, &st);
  g_mutex_lock (&st.lock);
  while (!st.up)
    g_cond_wait (&st.ready, &st.lock);
  g_mutex_unlock (&st.lock);
  connect_to = cb_repo_server_connect_to (st.server);
  database = cb_repo_server_tls_database (&error);
  g_assert_no_error (error);
  package_name = g_uri_escape_string (package->core.url, NULL, FALSE);
  package_url = g_strconcat (st.url, package_name, NULL);

  printf ("install of a %.2f MB plugin (%s) from %s, %d runs\n",
          package->core.size / 1e6, SYSTEM, st.url, RUNS);
  /* Warm-up: the first TLS handshake and dlopen of everything. */
  install_once (root, 999, st.url, database, connect_to);
  download_once (package_url, database, connect_to, package->core.size);
  for (guint i = 0; i < RUNS; i++)
    {
      /* Alternate, so drift hits both alike. */
      downloads[i] = download_once (package_url, database, connect_to, package->core.size);
      installs[i] = install_once (root, i, st.url, database, connect_to);
    }
  qsort (installs, RUNS, sizeof (double), compare_doubles);
  qsort (downloads, RUNS, sizeof (double), compare_doubles);
  printf ("  install (refresh, download, verify, load): median %.1f ms  min %.1f  max %.1f\n",
          installs[RUNS / 2], installs[0], installs[RUNS - 1]);
  printf ("  baseline (plain GET of the package):        median %.1f ms  min %.1f  max %.1f\n",
          downloads[RUNS / 2], downloads[0], downloads[RUNS - 1]);
  printf ("  ratio install/baseline: %.2fx\n", installs[RUNS / 2] / downloads[RUNS / 2]);
  printf ("  goal: median install <= %.0f ms: %s\n", GOAL_MS,
          installs[RUNS / 2] <= GOAL_MS ? "met" : "NOT MET");

  g_main_loop_quit (st.loop);
  g_main_context_wakeup (st.context);
  g_thread_join (thread);
  g_main_loop_unref (st.loop);
  g_main_context_unref (st.context);
  remove_tree (root);
  return installs[RUNS / 2] <= GOAL_MS ? 0 : 1;
}
