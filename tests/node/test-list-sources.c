/* test-list-sources.c: list sources (file, http, git, GitHub) and publishing
 *
 * Real files in temp dirs, real bare git repositories, local libsoup
 * servers on 127.0.0.1 (a plain file server, a server that never stops
 * sending, a listener that never answers, and the GitHub API stand-in). */
#include "cb-github-api-server.h"
#include "cb-list-publish.h"
#include "cb-list-source.h"
#include "cb-node-list.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#define NOW G_GINT64_CONSTANT (1795341600) /* 2026-11-22T10:00:00Z */
#define DAY (24 * 60 * 60)
#define TOKEN "ghp_test_token_0123456789"

typedef struct {
  guint8 pk[32];
  guint8 sk[64];
} Key;

static Key pub1, pub2, pub3;
static guint8 trusted[3][32];

/* ---- helpers ----------------------------------------------------------- */

static gboolean
on_watchdog (gpointer user_data)
{
  g_error ("timed out waiting for %s", (const char *) user_data);
  return G_SOURCE_REMOVE;
}

/* Runs the main context until *@slot is set. */
static void
wait_for (gpointer   *slot,
          const char *what)
{
  GSource *watchdog = g_timeout_source_new_seconds (90);

  g_source_set_callback (watchdog, on_watchdog, (gpointer) what, NULL);
  g_source_attach (watchdog, NULL);
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (watchdog);
  g_source_unref (watchdog);
}

static void
on_result (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GBytes *
read_sync (CbListSource  *source,
           char         **revision,
           GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  cb_list_source_read_async (source, NULL, on_result, &result);
  wait_for ((gpointer *) &result, "a read");
  return cb_list_source_read_finish (source, result, revision, error);
}

static gboolean
write_sync (CbListSource  *source,
            GBytes        *contents,
            const char    *expected,
            GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  cb_list_source_write_async (source, contents, expected, "test write", NULL, on_result,
                              &result);
  wait_for ((gpointer *) &result, "a write");
  return cb_list_source_write_finish (source, result, error);
}

static void
make_key (Key   *key,
          guint8 seed_byte)
{
  guint8 seed[32];

  memset (seed, seed_byte, sizeof seed);
  crypto_sign_seed_keypair (key->pk, key->sk, seed);
}

static CbListNode *
make_node (guint  n,
           gint64 last_seen)
{
  guint8 id[32];
  char hex[65];
  g_autofree char *addr = g_strdup_printf ("ws://127.0.0.1:%u", 7700 + n);
  const char *addrs[] = { addr, NULL };
  const char *roles[] = { "publisher", NULL };

  memset (id, (int) n, sizeof id);
  sodium_bin2hex (hex, sizeof hex, id, sizeof id);
  return cb_list_node_new (hex, addrs, roles, 4, 8192, last_seen - 3600, last_seen);
}

static CbNodeList *
list_with_node (guint  n,
                gint64 last_seen)
{
  CbNodeList *list = cb_node_list_new ("demo");
  g_autoptr(CbListNode) node = make_node (n, last_seen);

  cb_node_list_upsert (list, node);
  return list;
}

static GBytes *
sample_envelope (guint n)
{
  g_autoptr(CbNodeList) list = list_with_node (n, NOW - 10);

  list->version = n;
  return cb_node_list_sign (list, pub1.sk, NOW, DAY, NULL);
}

static CbNodeList *
verify (GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  CbNodeList *list = cb_node_list_verify_and_parse (g_bytes_get_data (bytes, NULL),
                                                    g_bytes_get_size (bytes), "demo",
                                                    (const guint8 (*)[32]) trusted, 3, 0,
                                                    NOW + 60, &error);
  g_assert_no_error (error);
  return list;
}

static gboolean
has_node (const CbNodeList *list,
          guint             n)
{
  g_autoptr(CbListNode) probe = make_node (n, 0);

  return cb_node_list_lookup (list, probe->id_hex) != NULL;
}

/* Runs a command, wants exit 0, returns stdout. */
static char *
run (const char *first,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) first);
  va_start (ap, first);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", first, err);
  return out;
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

typedef struct {
  char *dir;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("cb-lists-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  remove_tree (f->dir);
  g_free (f->dir);
}

static char *
bare_repo (Fixture    *f,
           const char *name)
{
  char *path = g_build_filename (f->dir, name, NULL);

  g_free (run ("git", "init", "--quiet", "--bare", "--initial-branch=main", path, NULL));
  return path;
}

/* ---- URLs -------------------------------------------------------------- */

static void
test_urls (void)
{
  static const char *bad[] = {
    "nodes.json", "ftp://example.org/nodes.json", "file://otherhost/srv/nodes.json",
    "file:///srv/lists/", "git+file:///srv/cloud.git", "git+file:///srv/cloud.git#../x",
    "git+file:///srv/cloud.git#/abs.json", "git+file:///srv/cloud.git#a//b.json",
    "git+ftp://example.org/cloud.git#nodes.json", "git+https:///cloud.git#nodes.json",
    "git+https://example.org/cloud.git?ref=-x#nodes.json",
    "git+https://example.org/cloud.git?depth=1#nodes.json",
    "github://owner", "github://owner/repo", "github://owner/repo/",
    "github://owner/re%20po/nodes.json", "github://owner/repo/nodes.json?branch=main",
    "github://owner/repo/nodes.json?ref=a..b", "github://owner/repo/nodes.json#x",
    "github://owner:8080/repo/nodes.json", "http://example.org/nodes.json",
    "https:///nodes.json",
  };
  struct { const char *url; gboolean writable; } good[] = {
    { "file:///srv/lists/nodes.json", TRUE },
    { "https://example.org/demo-cloud/nodes.json", FALSE },
    { "http://127.0.0.1:8080/nodes.json", FALSE },
    { "http://localhost/nodes.json", FALSE },
    { "git+https://example.org/cloudbevy/demo-cloud.git#nodes.json", TRUE },
    { "git+file:///srv/cloud.git?ref=lists#dir/nodes.json", TRUE },
    { "git+ssh://git@example.org/cloud.git#nodes.json", TRUE },
    { "github://cloudbevy/demo-cloud/nodes.json", FALSE },
    { "github://cloudbevy/demo-cloud/lists/nodes.json?ref=main", FALSE },
  };
  g_autoptr(GError) error = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(CbListSource) source = cb_list_source_new (bad[i], NULL, &error);

      if (source != NULL)
        g_error ("\"%s\" was accepted", bad[i]);
      g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL);
      g_assert_nonnull (strstr (error->message, "\""));
      g_clear_error (&error);
    }
  for (i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(CbListSource) source = cb_list_source_new (good[i].url, NULL, &error);

      if (source == NULL)
        g_error ("\"%s\" was refused: %s", good[i].url, error->message);
      g_assert_cmpstr (cb_list_source_get_url (source), ==, good[i].url);
      g_assert_cmpint (cb_list_source_is_writable (source), ==, good[i].writable);
    }
  {
    CbListSourceOptions options = { .github_token = TOKEN };
    g_autoptr(CbListSource) source = cb_list_source_new ("github://o/r/nodes.json", &options,
                                                         &error);
    g_assert_no_error (error);
    g_assert_true (cb_list_source_is_writable (source));
  }
}

/* ---- file:// ----------------------------------------------------------- */

static void
test_file (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "nodes.json", NULL);
  g_autofree char *url = g_filename_to_uri (path, NULL, NULL);
  g_autoptr(CbListSource) source = cb_list_source_new (url, NULL, NULL);
  g_autoptr(GBytes) one = sample_envelope (1);
  g_autoptr(GBytes) two = sample_envelope (2);
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *rev = NULL;
  g_autofree char *rev2 = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *big = NULL;
  GDir *dir;
  const char *name;
  guint n_files = 0;

  g_assert_nonnull (source);
  got = read_sync (source, &rev, &error);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_null (got);
  g_assert_null (rev);
  g_clear_error (&error);

  g_assert_true (write_sync (source, one, NULL, &error));
  g_assert_no_error (error);
  got = read_sync (source, &rev, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, one));
  sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, one);
  g_assert_cmpstr (rev, ==, sha);

  /* Create-only when it exists; a stale revision. */
  g_assert_false (write_sync (source, two, NULL, &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "created by someone else"));
  g_clear_error (&error);
  g_assert_false (write_sync (source, two, "0123456789abcdef0123456789abcdef", &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "changed since it was read"));
  g_clear_error (&error);

  g_assert_true (write_sync (source, two, rev, &error));
  g_assert_no_error (error);
  g_clear_pointer (&got, g_bytes_unref);
  got = read_sync (source, &rev2, &error);
  g_assert_true (g_bytes_equal (got, two));
  g_assert_cmpstr (rev2, !=, rev);
  /* The first revision is stale now. */
  g_assert_false (write_sync (source, one, rev, &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT);
  g_clear_error (&error);

  /* Nothing left behind but the list and its lock file. */
  dir = g_dir_open (f->dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_assert_true (strcmp (name, "nodes.json") == 0 || strcmp (name, "nodes.json.lock") == 0);
      n_files++;
    }
  g_dir_close (dir);
  g_assert_cmpuint (n_files, ==, 2);

  /* Oversized file. */
  big = g_strnfill (CB_NODE_LIST_MAX_ENVELOPE + 1, ' ');
  g_assert_true (g_file_set_contents (path, big, -1, NULL));
  g_clear_pointer (&got, g_bytes_unref);
  got = read_sync (source, NULL, &error);
  g_assert_null (got);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE);
  g_clear_error (&error);
  {
    g_autoptr(GBytes) huge = g_bytes_new_static (big, strlen (big));

    g_assert_false (write_sync (source, huge, NULL, &error));
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE);
  }
}

/* ---- http(s):// -------------------------------------------------------- */

typedef struct {
  SoupServer *server;
  GBytes     *list;
  guint       endless_chunks;
} HttpServer;

static const char filler[65536] = { 'x' };

static void
endless_wrote_chunk (SoupServerMessage *msg,
                     gpointer           user_data)
{
  HttpServer *hs = user_data;

  hs->endless_chunks++;
  soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_STATIC,
                            filler, sizeof filler);
}

static void
http_handle (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  HttpServer *hs = user_data;

  if (strcmp (path, "/nodes.json") == 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (hs->list, NULL),
                                        g_bytes_get_size (hs->list));
    }
  else if (strcmp (path, "/endless") == 0)
    {
      /* Chunked, and every written chunk queues another. */
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                         SOUP_ENCODING_CHUNKED);
      g_signal_connect (msg, "wrote-chunk", G_CALLBACK (endless_wrote_chunk), hs);
      soup_message_body_append (soup_server_message_get_response_body (msg),
                                SOUP_MEMORY_STATIC, filler, sizeof filler);
    }
  else if (strcmp (path, "/big") == 0)
    {
      gsize len = 2 * CB_NODE_LIST_MAX_ENVELOPE;

      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                        g_malloc0 (len), len);
    }
  else if (strcmp (path, "/broken") == 0)
    soup_server_message_set_status (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
  else
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static char *
http_url (SoupServer *server,
          const char *path)
{
  GSList *uris = soup_server_get_uris (server);
  char *url = g_strdup_printf ("http://127.0.0.1:%d%s", g_uri_get_port (uris->data), path);

  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return url;
}

static CbListSource *
http_source (const char *url,
             guint       timeout)
{
  CbListSourceOptions options = { .timeout_seconds = timeout };
  g_autoptr(GError) error = NULL;
  CbListSource *source = cb_list_source_new (url, &options, &error);

  g_assert_no_error (error);
  return source;
}

static void
test_http (void)
{
  HttpServer hs = { NULL, NULL, 0 };
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) mute_addr = NULL;
  g_autoptr(GSocketListener) mute = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *rev = NULL;
  g_autofree char *mute_url = NULL;
  g_autoptr(GBytes) got = NULL;
  gint64 started;

  hs.list = sample_envelope (1);
  hs.server = soup_server_new (NULL, NULL);
  soup_server_add_handler (hs.server, NULL, http_handle, &hs, NULL);
  g_assert_true (soup_server_listen (hs.server, any, 0, &error));
  g_assert_no_error (error);

  /* A listener that never accepts: the kernel completes the handshake,
   * nobody ever answers. */
  g_assert_true (g_socket_listener_add_address (mute, any, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &mute_addr, &error));
  mute_url = g_strdup_printf ("http://127.0.0.1:%u/nodes.json",
                              g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (mute_addr)));

  {
    g_autoptr(CbListSource) source = NULL;

    url = http_url (hs.server, "/nodes.json");
    source = http_source (url, 10);
    got = read_sync (source, &rev, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (got, hs.list));
    g_assert_nonnull (rev);
    {
      g_autoptr(CbNodeList) list = verify (got);
      g_assert_true (has_node (list, 1));
    }

    g_assert_false (cb_list_source_is_writable (source));
    g_assert_false (write_sync (source, hs.list, rev, &error));
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_WRITABLE);
    g_assert_nonnull (strstr (error->message, "github://"));
    g_assert_nonnull (strstr (error->message, "git+https://"));
    g_clear_error (&error);
  }
  {
    g_autofree char *u = http_url (hs.server, "/missing.json");
    g_autoptr(CbListSource) source = http_source (u, 10);
    g_autoptr(GBytes) none = read_sync (source, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND);
    g_assert_nonnull (strstr (error->message, "HTTP 404"));
    g_clear_error (&error);
  }
  {
    g_autofree char *u = http_url (hs.server, "/broken");
    g_autoptr(CbListSource) source = http_source (u, 10);
    g_autoptr(GBytes) none = read_sync (source, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "answered HTTP 500 Internal Server Error"));
    g_clear_error (&error);
  }
  {
    /* Announced as too large: refused before reading the body. */
    g_autofree char *u = http_url (hs.server, "/big");
    g_autoptr(CbListSource) source = http_source (u, 10);
    g_autoptr(GBytes) none = read_sync (source, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE);
    g_clear_error (&error);
  }
  {
    /* Never stops sending: cut off at the cap. */
    g_autofree char *u = http_url (hs.server, "/endless");
    g_autoptr(CbListSource) source = http_source (u, 30);
    g_autoptr(GBytes) none = read_sync (source, NULL, &error);
    g_autofree char *expected = g_strdup_printf ("%s sent more than 1048576 bytes; stopped reading",
                                                 u);

    g_assert_null (none);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE);
    g_assert_cmpstr (error->message, ==, expected);
    g_assert_cmpuint (hs.endless_chunks, >=, CB_NODE_LIST_MAX_ENVELOPE / sizeof filler - 2);
    g_clear_error (&error);
  }
  {
    /* Never answers: the deadline. */
    g_autoptr(CbListSource) source = http_source (mute_url, 1);
    g_autoptr(GBytes) none = NULL;
    g_autofree char *expected = g_strdup_printf ("%s did not answer completely within 1 s",
                                                 mute_url);

    started = g_get_monotonic_time ();
    none = read_sync (source, NULL, &error);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TIMED_OUT);
    g_assert_cmpstr (error->message, ==, expected);
    g_assert_cmpint (g_get_monotonic_time () - started, <, 20 * G_USEC_PER_SEC);
    g_clear_error (&error);
  }
  {
    /* The caller's cancellable still wins. */
    g_autoptr(CbListSource) source = http_source (mute_url, 30);
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GBytes) none = NULL;

    cb_list_source_read_async (source, cancellable, on_result, &result);
    g_cancellable_cancel (cancellable);
    wait_for ((gpointer *) &result, "a cancelled read");
    none = cb_list_source_read_finish (source, result, NULL, &error);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }

  g_socket_listener_close (mute);
  soup_server_disconnect (hs.server);
  g_object_unref (hs.server);
  g_bytes_unref (hs.list);
}

/* ---- git+ -------------------------------------------------------------- */

static CbListSource *
git_source (Fixture    *f,
            const char *repo,
            const char *suffix,
            const char *cache)
{
  g_autofree char *cache_dir = g_build_filename (f->dir, cache, NULL);
  g_autofree char *url = g_strdup_printf ("git+file://%s%s", repo, suffix);
  CbListSourceOptions options = { .cache_dir = cache_dir };
  g_autoptr(GError) error = NULL;
  CbListSource *source = cb_list_source_new (url, &options, &error);

  g_assert_no_error (error);
  return source;
}

static void
test_git (Fixture       *f,
          gconstpointer  data)
{
  g_autofree char *repo = bare_repo (f, "cloud.git");
  g_autoptr(CbListSource) source = git_source (f, repo, "#lists/nodes.json", "cache1");
  g_autoptr(CbListSource) other = git_source (f, repo, "#lists/nodes.json", "cache2");
  g_autoptr(GBytes) one = sample_envelope (1);
  g_autoptr(GBytes) two = sample_envelope (2);
  g_autoptr(GBytes) three = sample_envelope (3);
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *rev = NULL;
  g_autofree char *rev_other = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *log = NULL;
  g_autofree char *git_dir = g_strconcat ("--git-dir=", repo, NULL);

  /* An empty repository: nothing to read, nothing to build on. */
  got = read_sync (source, &rev, &error);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND);
  g_assert_null (rev);
  g_clear_error (&error);

  g_assert_true (write_sync (source, one, NULL, &error));
  g_assert_no_error (error);
  shown = run ("git", git_dir, "show", "main:lists/nodes.json", NULL);
  g_assert_cmpmem (shown, strlen (shown), g_bytes_get_data (one, NULL), g_bytes_get_size (one));

  got = read_sync (source, &rev, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, one));
  g_assert_cmpuint (strlen (rev), ==, 40);
  {
    g_autofree char *head = run ("git", git_dir, "rev-parse", "main", NULL);
    g_assert_cmpstr (g_strstrip (head), ==, rev);
  }

  /* Create-only against an existing branch. */
  g_assert_false (write_sync (source, two, NULL, &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT);
  g_clear_error (&error);

  /* Another reader with its own cache sees the same revision; once the
   * first writes, the second's revision is stale. */
  g_clear_pointer (&got, g_bytes_unref);
  got = read_sync (other, &rev_other, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rev_other, ==, rev);
  g_assert_true (write_sync (source, two, rev, &error));
  g_assert_no_error (error);
  g_assert_false (write_sync (other, three, rev_other, &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "moved on"));
  g_clear_error (&error);

  /* Re-read, then it goes through; history has all three commits. */
  g_clear_pointer (&got, g_bytes_unref);
  g_clear_pointer (&rev_other, g_free);
  got = read_sync (other, &rev_other, &error);
  g_assert_true (g_bytes_equal (got, two));
  g_assert_true (write_sync (other, three, rev_other, &error));
  g_assert_no_error (error);
  log = run ("git", git_dir, "log", "--format=%s|%an", "main", NULL);
  g_assert_cmpstr (log, ==, "test write|Cloud Bevy publisher\n"
                            "test write|Cloud Bevy publisher\n"
                            "test write|Cloud Bevy publisher\n");
}

static void
test_git_existing_repo (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *repo = bare_repo (f, "cloud.git");
  g_autofree char *work = g_build_filename (f->dir, "work", NULL);
  g_autofree char *readme = g_build_filename (work, "README.md", NULL);
  g_autoptr(CbListSource) source = git_source (f, repo, "#nodes.json", "cache");
  g_autoptr(CbListSource) lists_branch = git_source (f, repo, "?ref=lists#nodes.json", "cache");
  g_autoptr(GBytes) one = sample_envelope (1);
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *rev = NULL;
  g_autofree char *out = NULL;
  g_autofree char *git_dir = g_strconcat ("--git-dir=", repo, NULL);

  /* Someone made the repository with a README first. */
  g_free (run ("git", "clone", "--quiet", repo, work, NULL));
  g_assert_true (g_file_set_contents (readme, "# demo cloud\n", -1, NULL));
  {
    g_autofree char *big = g_strnfill (CB_NODE_LIST_MAX_ENVELOPE + 1, ' ');
    g_autofree char *big_path = g_build_filename (work, "big.json", NULL);

    g_autofree char *docs = g_build_filename (work, "docs", NULL);
    g_autofree char *doc = g_build_filename (docs, "index.md", NULL);

    g_assert_true (g_file_set_contents (big_path, big, -1, NULL));
    g_assert_cmpint (g_mkdir (docs, 0700), ==, 0);
    g_assert_true (g_file_set_contents (doc, "docs\n", -1, NULL));
  }
  g_free (run ("git", "-C", work, "add", "README.md", "big.json", "docs", NULL));
  g_free (run ("git", "-C", work, "-c", "user.name=Someone", "-c", "user.email=s@example.org",
               "commit", "--quiet", "-m", "Start the cloud", NULL));
  g_free (run ("git", "-C", work, "push", "--quiet", "origin", "main", NULL));

  /* No list yet, but a commit to build on. */
  got = read_sync (source, &rev, &error);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "there is no nodes.json"));
  g_assert_nonnull (rev);
  g_clear_error (&error);
  g_assert_true (write_sync (source, one, rev, &error));
  g_assert_no_error (error);
  out = run ("git", git_dir, "show", "main:README.md", NULL);
  g_assert_cmpstr (out, ==, "# demo cloud\n");
  g_free (out);
  out = run ("git", git_dir, "log", "--format=%s", "main", NULL);
  g_assert_cmpstr (out, ==, "test write\nStart the cloud\n");

  /* An oversized file and a directory are not lists. */
  {
    g_autoptr(CbListSource) big = git_source (f, repo, "#big.json", "cache");
    g_autoptr(CbListSource) dir = git_source (f, repo, "#docs", "cache");
    g_autoptr(GBytes) none = read_sync (big, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE);
    g_assert_nonnull (strstr (error->message, "1048577 bytes"));
    g_clear_error (&error);
    none = read_sync (dir, NULL, &error);
    g_assert_null (none);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "docs in file://"));
    g_assert_nonnull (strstr (error->message, "is not a file"));
    g_clear_error (&error);
  }

  /* ?ref= writes to its own branch. */
  g_clear_pointer (&rev, g_free);
  got = read_sync (lists_branch, &rev, &error);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND);
  g_assert_null (rev);
  g_clear_error (&error);
  g_assert_true (write_sync (lists_branch, one, NULL, &error));
  g_assert_no_error (error);
  g_free (out);
  out = run ("git", git_dir, "log", "--format=%s", "lists", NULL);
  g_assert_cmpstr (out, ==, "test write\n");
}

static void
test_git_missing_repo (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *repo = g_build_filename (f->dir, "nope.git", NULL);
  g_autoptr(CbListSource) source = git_source (f, repo, "#nodes.json", "cache");
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strdup_printf ("read the git repository file://%s", repo);

  got = read_sync (source, NULL, &error);
  g_assert_null (got);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, url));
  g_assert_nonnull (strstr (error->message, "does not appear to be a git repository"));
  g_clear_error (&error);

  {
    g_autoptr(GBytes) one = sample_envelope (1);

    g_assert_false (write_sync (source, one, NULL, &error));
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "does not appear to be a git repository"));
  }
}

/* ---- github:// --------------------------------------------------------- */

static CbListSource *
github_source (CbGithubApiServer *server,
               const char        *url,
               const char        *token)
{
  g_autofree char *base = cb_github_api_server_base_url (server);
  CbListSourceOptions options = { .github_api_base = base, .github_token = token,
                                  .timeout_seconds = 20 };
  g_autoptr(GError) error = NULL;
  CbListSource *source = cb_list_source_new (url, &options, &error);

  g_assert_no_error (error);
  return source;
}

static void
test_github (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbGithubApiServer) server = cb_github_api_server_new (TOKEN, &error);
  const char *url = "github://cloudbevy/demo-cloud/lists/nodes.json";
  g_autoptr(CbListSource) reader = NULL;
  g_autoptr(CbListSource) writer = NULL;
  g_autoptr(CbListSource) intruder = NULL;
  g_autoptr(GBytes) one = sample_envelope (1);
  g_autoptr(GBytes) two = sample_envelope (2);
  g_autoptr(GBytes) got = NULL;
  g_autofree char *rev = NULL;
  g_autofree char *rev2 = NULL;
  g_autofree char *git_sha = NULL;
  g_auto(GStrv) log = NULL;
  g_autofree char *tmp = NULL;
  int fd;

  g_assert_no_error (error);
  cb_github_api_server_add_repo (server, "cloudbevy", "demo-cloud", "main");
  reader = github_source (server, url, NULL);
  writer = github_source (server, url, TOKEN);
  intruder = github_source (server, url, "ghp_wrong");

  got = read_sync (reader, &rev, &error);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "lists/nodes.json in github.com/cloudbevy/demo-cloud"));
  g_clear_error (&error);

  /* Without a token: read-only. */
  g_assert_false (cb_list_source_is_writable (reader));
  g_assert_false (write_sync (reader, one, NULL, &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_WRITABLE);
  g_assert_nonnull (strstr (error->message, "needs a GitHub token"));
  g_clear_error (&error);

  /* A wrong token: 401, on reads and writes. */
  g_assert_false (write_sync (intruder, one, NULL, &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, "Bad credentials"));
  g_clear_error (&error);
  got = read_sync (intruder, NULL, &error);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_AUTH);
  g_clear_error (&error);
  g_assert_cmpuint (cb_github_api_server_count (server, "PUT", 401), ==, 1);

  /* Create (201), read back: sha is git's blob id of the content. */
  g_assert_true (write_sync (writer, one, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cb_github_api_server_count (server, "PUT", 201), ==, 1);
  got = read_sync (reader, &rev, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, one));
  fd = g_file_open_tmp ("cb-blob-XXXXXX", &tmp, NULL);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_true (g_file_set_contents (tmp, g_bytes_get_data (one, NULL),
                                      (gssize) g_bytes_get_size (one), NULL));
  git_sha = run ("git", "hash-object", tmp, NULL);
  g_unlink (tmp);
  g_assert_cmpstr (g_strstrip (git_sha), ==, rev);

  /* Missing sha for an existing file: 422; wrong sha: 409. */
  g_assert_false (write_sync (writer, two, NULL, &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "wasn't supplied"));
  g_clear_error (&error);
  g_assert_cmpuint (cb_github_api_server_count (server, "PUT", 422), ==, 1);
  g_assert_false (write_sync (writer, two, "3d21ec53a331a6f037a91c368710b99387d012c1", &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "does not match"));
  g_clear_error (&error);
  g_assert_cmpuint (cb_github_api_server_count (server, "PUT", 409), ==, 1);

  /* The right sha: 200. */
  g_assert_true (write_sync (writer, two, rev, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cb_github_api_server_count (server, "PUT", 200), ==, 1);
  g_clear_pointer (&got, g_bytes_unref);
  got = read_sync (writer, &rev2, &error);
  g_assert_true (g_bytes_equal (got, two));
  g_assert_cmpstr (rev2, !=, rev);
  log = cb_github_api_server_get_log (server, "cloudbevy", "demo-cloud", NULL);
  g_assert_cmpuint (g_strv_length (log), ==, 2);

  /* Someone commits on GitHub directly: our revision is stale. */
  cb_github_api_server_commit (server, "cloudbevy", "demo-cloud", NULL, "lists/nodes.json", one,
                               "Edited on github.com");
  g_assert_false (write_sync (writer, two, rev2, &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT);
  g_clear_error (&error);

  /* A directory is not a list. */
  {
    g_autoptr(CbListSource) dir = github_source (server, "github://cloudbevy/demo-cloud/lists",
                                                 NULL);
    g_autoptr(GBytes) none = read_sync (dir, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "not a file object"));
    g_clear_error (&error);
  }
  /* A branch that does not exist. */
  {
    g_autoptr(CbListSource) branch = github_source (
      server, "github://cloudbevy/demo-cloud/lists/nodes.json?ref=nope", TOKEN);
    g_autoptr(GBytes) none = read_sync (branch, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_assert_false (write_sync (branch, one, NULL, &error));
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_WRITABLE);
    g_assert_nonnull (strstr (error->message, "Branch nope not found"));
    g_clear_error (&error);
  }
  /* A repository that does not exist (or that the token cannot see). */
  {
    g_autoptr(CbListSource) missing = github_source (server, "github://cloudbevy/nope/nodes.json",
                                                     TOKEN);
    g_autoptr(GBytes) none = read_sync (missing, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
}

/* What a broken or hostile "GitHub" might answer. */
static void
bad_github_handle (SoupServer        *server,
                   SoupServerMessage *msg,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  const char *name = strrchr (path, '/') + 1;
  const char *sha = "3d21ec53a331a6f037a91c368710b99387d012c1";
  g_autofree char *body = NULL;

  if (strcmp (name, "garbage") == 0)
    body = g_strdup ("<html>rate limited</html>");
  else if (strcmp (name, "deep") == 0)
    body = g_strnfill (100000, '[');
  else if (strcmp (name, "bad-base64") == 0)
    body = g_strdup_printf ("{\"type\":\"file\",\"encoding\":\"base64\",\"content\":\"e30@\","
                            "\"sha\":\"%s\"}", sha);
  else if (strcmp (name, "cut-base64") == 0)
    body = g_strdup_printf ("{\"type\":\"file\",\"encoding\":\"base64\",\"content\":\"e30\","
                            "\"sha\":\"%s\"}", sha);
  else if (strcmp (name, "no-sha") == 0)
    body = g_strdup ("{\"type\":\"file\",\"encoding\":\"base64\",\"content\":\"e30=\"}");
  else if (strcmp (name, "odd-types") == 0)
    body = g_strdup ("{\"type\":{\"x\":1},\"encoding\":[],\"content\":7,\"sha\":null}");
  else if (strcmp (name, "over-1mb") == 0)
    body = g_strdup_printf ("{\"type\":\"file\",\"encoding\":\"none\",\"content\":\"\","
                            "\"size\":5000000,\"sha\":\"%s\"}", sha);
  else if (strcmp (name, "huge") == 0)
    {
      gsize len = 8 * CB_NODE_LIST_MAX_ENVELOPE;
      char *data = g_malloc (len);

      memset (data, ' ', len);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, data, len);
      return;
    }
  else if (strcmp (name, "wrapped") == 0)
    body = g_strdup_printf ("{\"type\":\"file\",\"encoding\":\"base64\",\"content\":"
                            "\"e30=\\n\",\"sha\":\"%s\"}", sha);
  else if (strcmp (name, "forbidden") == 0)
    {
      const char *text = "{\"message\":\"API rate limit exceeded\\nfor 127.0.0.1\"}";

      soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, text,
                                        strlen (text));
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body,
                                    strlen (body));
}

static void
test_github_malformed (void)
{
  struct { const char *name; int code; const char *says; } cases[] = {
    { "garbage", CB_LIST_SOURCE_ERROR_FAILED, "not a file object" },
    { "deep", CB_LIST_SOURCE_ERROR_FAILED, "not a file object" },
    { "bad-base64", CB_LIST_SOURCE_ERROR_FAILED, "not base64" },
    { "cut-base64", CB_LIST_SOURCE_ERROR_FAILED, "truncated base64" },
    { "no-sha", CB_LIST_SOURCE_ERROR_FAILED, "lacks base64 content or a sha" },
    { "odd-types", CB_LIST_SOURCE_ERROR_FAILED, "is a thing on GitHub, not a file" },
    { "over-1mb", CB_LIST_SOURCE_ERROR_TOO_LARGE, "too large for a list file" },
    { "huge", CB_LIST_SOURCE_ERROR_TOO_LARGE, "stopped reading" },
    { "forbidden", CB_LIST_SOURCE_ERROR_FAILED, "HTTP 403 for forbidden in github.com/o/r: "
                                               "API rate limit exceeded for 127.0.0.1" },
  };
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  guint i;

  soup_server_add_handler (server, NULL, bad_github_handle, NULL, NULL);
  g_assert_true (soup_server_listen (server, any, 0, &error));
  base = http_url (server, "");

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *url = g_strdup_printf ("github://o/r/%s", cases[i].name);
      CbListSourceOptions options = { .github_api_base = base, .timeout_seconds = 20 };
      g_autoptr(CbListSource) source = cb_list_source_new (url, &options, &error);
      g_autoptr(GBytes) got = NULL;

      g_assert_no_error (error);
      got = read_sync (source, NULL, &error);
      g_assert_null (got);
      if (error == NULL || error->domain != CB_LIST_SOURCE_ERROR ||
          error->code != cases[i].code || strstr (error->message, cases[i].says) == NULL)
        g_error ("%s: got \"%s\", wanted code %d saying \"%s\"", cases[i].name,
                 error ? error->message : "no error", cases[i].code, cases[i].says);
      g_clear_error (&error);
    }

  /* Wrapped base64 is what GitHub sends. */
  {
    CbListSourceOptions options = { .github_api_base = base };
    g_autoptr(CbListSource) source = cb_list_source_new ("github://o/r/wrapped", &options, NULL);
    g_autofree char *rev = NULL;
    g_autoptr(GBytes) got = read_sync (source, &rev, &error);

    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "{}", 2);
    g_assert_cmpstr (rev, ==, "3d21ec53a331a6f037a91c368710b99387d012c1");
  }
  soup_server_disconnect (server);
}

/* ---- publishing -------------------------------------------------------- */

static void
publish_start (CbListSource     *source,
               const CbNodeList *mine,
               const Key        *key,
               gint64            now,
               GAsyncResult    **result)
{
  cb_list_publish_async (source, mine, (const guint8 (*)[32]) trusted, 2, key->sk, now, DAY,
                         now - 7 * DAY, NULL, NULL, on_result, result);
}

static guint64
publish_end (CbListSource  *source,
             GAsyncResult **result,
             guint         *attempts,
             GError       **error)
{
  guint64 version = 0;

  wait_for ((gpointer *) result, "a publish");
  if (!cb_list_publish_finish (source, *result, &version, attempts, error))
    version = 0;
  g_clear_object (result);
  return version;
}

/* Two publishers, each with its own source object (as two machines
 * would have), publish different nodes at the same time. */
static void
publish_both (CbListSource *source1,
              CbListSource *source2)
{
  g_autoptr(CbNodeList) mine1 = list_with_node (1, NOW - 30);
  g_autoptr(CbNodeList) mine2 = list_with_node (2, NOW - 40);
  g_autoptr(GAsyncResult) r1 = NULL;
  g_autoptr(GAsyncResult) r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) final = NULL;
  guint64 v1, v2;
  guint a1 = 0, a2 = 0;
  g_autoptr(CbNodeList) list = NULL;

  publish_start (source1, mine1, &pub1, NOW, &r1);
  publish_start (source2, mine2, &pub2, NOW, &r2);
  v1 = publish_end (source1, &r1, &a1, &error);
  g_assert_no_error (error);
  v2 = publish_end (source2, &r2, &a2, &error);
  g_assert_no_error (error);
  g_test_message ("publisher 1: version %" G_GUINT64_FORMAT " after %u attempts; "
                  "publisher 2: version %" G_GUINT64_FORMAT " after %u attempts", v1, a1, v2, a2);
  /* One built on the other. */
  g_assert_cmpuint (MIN (v1, v2), ==, 1);
  g_assert_cmpuint (MAX (v1, v2), ==, 2);

  final = read_sync (source1, NULL, &error);
  g_assert_no_error (error);
  list = verify (final);
  g_assert_cmpuint (list->version, ==, 2);
  g_assert_cmpuint (list->nodes->len, ==, 2);
  g_assert_true (has_node (list, 1));
  g_assert_true (has_node (list, 2));
  g_assert_cmpint (list->issued, ==, NOW);
  g_assert_cmpint (list->expires, ==, NOW + DAY);
}

static void
test_publish_file (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "nodes.json", NULL);
  g_autofree char *url = g_filename_to_uri (path, NULL, NULL);
  g_autoptr(CbListSource) s1 = cb_list_source_new (url, NULL, NULL);
  g_autoptr(CbListSource) s2 = cb_list_source_new (url, NULL, NULL);
  g_autoptr(CbNodeList) mine3 = list_with_node (3, NOW + 100);
  g_autoptr(GAsyncResult) r = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(CbNodeList) after = NULL;

  publish_both (s1, s2);

  /* A later publish builds on it and drops nodes past the horizon. */
  cb_list_publish_async (s1, mine3, (const guint8 (*)[32]) trusted, 2, pub1.sk, NOW + 200, DAY,
                         NOW - 35, NULL, NULL, on_result, &r);
  g_assert_cmpuint (publish_end (s1, &r, NULL, &error), ==, 3);
  g_assert_no_error (error);
  bytes = read_sync (s2, NULL, &error);
  after = verify (bytes);
  g_assert_true (has_node (after, 1));
  g_assert_false (has_node (after, 2)); /* last seen NOW - 40 */
  g_assert_true (has_node (after, 3));
}

static void
test_publish_git (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *repo = bare_repo (f, "cloud.git");
  g_autoptr(CbListSource) s1 = git_source (f, repo, "#nodes.json", "cache1");
  g_autoptr(CbListSource) s2 = git_source (f, repo, "#nodes.json", "cache2");
  g_autofree char *git_dir = g_strconcat ("--git-dir=", repo, NULL);
  g_autofree char *log = NULL;

  publish_both (s1, s2);
  log = run ("git", git_dir, "log", "--format=%s", "main", NULL);

  g_assert_cmpstr (log, ==, "Publish list version 2 of cloud demo\n"
                            "Publish list version 1 of cloud demo\n");
}

static void
test_publish_git_shared_cache (Fixture       *f,
                               gconstpointer  data)
{
  /* Two sources on one cache dir take turns on its lock. */
  g_autofree char *repo = bare_repo (f, "cloud.git");
  g_autoptr(CbListSource) s1 = git_source (f, repo, "#nodes.json", "cache");
  g_autoptr(CbListSource) s2 = git_source (f, repo, "#nodes.json", "cache");

  publish_both (s1, s2);
}

static void
test_publish_github (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbGithubApiServer) server = cb_github_api_server_new (TOKEN, &error);
  const char *url = "github://cloudbevy/demo-cloud/nodes.json";
  g_autoptr(CbListSource) s1 = NULL;
  g_autoptr(CbListSource) s2 = NULL;
  g_auto(GStrv) log = NULL;

  g_assert_no_error (error);
  cb_github_api_server_add_repo (server, "cloudbevy", "demo-cloud", "main");
  s1 = github_source (server, url, TOKEN);
  s2 = github_source (server, url, TOKEN);
  publish_both (s1, s2);
  log = cb_github_api_server_get_log (server, "cloudbevy", "demo-cloud", NULL);
  g_assert_cmpuint (g_strv_length (log), ==, 2);
  g_assert_true (g_str_has_prefix (log[0], "Publish list version 2 of cloud demo"));
  g_assert_true (g_str_has_prefix (log[1], "Publish list version 1 of cloud demo"));
}

typedef struct {
  guint   puts;
  guint   interfere_on; /* PUTs (1-based) before which someone else writes */
  guint   interfered;
} Interference;

/* Before the chosen PUTs, a third publisher commits a list of its own. */
static void
interfere (CbGithubApiServer *server,
           gpointer           user_data)
{
  Interference *in = user_data;
  g_autoptr(GBytes) current = NULL;
  g_autoptr(CbNodeList) theirs = NULL;
  g_autoptr(CbNodeList) next = NULL;
  g_autoptr(CbListNode) node = NULL;
  g_autoptr(GBytes) envelope = NULL;

  in->puts++;
  if (in->interfere_on != 0 && in->puts > in->interfere_on)
    return;
  current = cb_github_api_server_get_file (server, "cloudbevy", "demo-cloud", NULL, "nodes.json");
  theirs = current ? verify (current) : cb_node_list_new ("demo");
  node = make_node (10 + in->puts, NOW - 5);
  next = cb_node_list_copy (theirs);
  next->version = theirs->version + 1;
  cb_node_list_upsert (next, node);
  envelope = cb_node_list_sign (next, pub3.sk, NOW, DAY, NULL);
  cb_github_api_server_commit (server, "cloudbevy", "demo-cloud", NULL, "nodes.json", envelope,
                               "Someone else publishes");
  in->interfered++;
}

static void
test_publish_retry (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbGithubApiServer) server = cb_github_api_server_new (TOKEN, &error);
  g_autoptr(CbListSource) source = NULL;
  g_autoptr(CbNodeList) mine = list_with_node (1, NOW - 30);
  g_autoptr(GAsyncResult) r = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(CbNodeList) list = NULL;
  Interference in = { 0, 2, 0 };
  guint attempts = 0;
  guint64 version;

  g_assert_no_error (error);
  cb_github_api_server_add_repo (server, "cloudbevy", "demo-cloud", "main");
  cb_github_api_server_set_put_hook (server, interfere, &in);
  source = github_source (server, "github://cloudbevy/demo-cloud/nodes.json", TOKEN);

  /* Someone else writes just before each of our first two PUTs: the
   * third attempt lands, with their nodes merged in. */
  cb_list_publish_async (source, mine, (const guint8 (*)[32]) trusted, 3, pub1.sk, NOW, DAY,
                         NOW - DAY, NULL, NULL, on_result, &r);
  version = publish_end (source, &r, &attempts, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (attempts, ==, 3);
  g_assert_cmpuint (in.interfered, ==, 2);
  g_assert_cmpuint (cb_github_api_server_count (server, "PUT", 422), ==, 1);
  g_assert_cmpuint (cb_github_api_server_count (server, "PUT", 409), ==, 1);
  g_assert_cmpuint (version, ==, 3);
  bytes = read_sync (source, NULL, &error);
  list = verify (bytes);
  g_assert_cmpuint (list->version, ==, 3);
  g_assert_true (has_node (list, 1));
  g_assert_true (has_node (list, 11));
  g_assert_true (has_node (list, 12));

  /* Someone always writes first: give up after the last attempt. */
  in.interfere_on = 0;
  in.puts = 0;
  cb_list_publish_async (source, mine, (const guint8 (*)[32]) trusted, 3, pub1.sk, NOW, DAY,
                         NOW - DAY, NULL, NULL, on_result, &r);
  g_assert_cmpuint (publish_end (source, &r, &attempts, &error), ==, 0);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "after 8 attempts"));
  g_assert_cmpuint (attempts, ==, CB_LIST_PUBLISH_MAX_ATTEMPTS);
}

static void
test_publish_refuses (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "nodes.json", NULL);
  g_autofree char *url = g_filename_to_uri (path, NULL, NULL);
  g_autoptr(CbListSource) source = cb_list_source_new (url, NULL, NULL);
  g_autoptr(CbNodeList) mine = list_with_node (1, NOW - 30);
  g_autoptr(GAsyncResult) r = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CbNodeList) foreign = list_with_node (5, NOW - 30);
  g_autoptr(GBytes) foreign_env = NULL;
  g_autofree char *content = NULL;

  /* Garbage on the source is not overwritten. */
  g_assert_true (g_file_set_contents (path, "{\"not\": \"a list\"}", -1, NULL));
  publish_start (source, mine, &pub1, NOW, &r);
  g_assert_cmpuint (publish_end (source, &r, NULL, &error), ==, 0);
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "not overwriting the list at"));
  g_clear_error (&error);

  /* Nor is a list by a key the cloud does not trust. */
  foreign->version = 99;
  foreign_env = cb_node_list_sign (foreign, pub3.sk, NOW, DAY, NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (foreign_env, NULL),
                                      (gssize) g_bytes_get_size (foreign_env), NULL));
  publish_start (source, mine, &pub1, NOW, &r);
  g_assert_cmpuint (publish_end (source, &r, NULL, &error), ==, 0);
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_UNKNOWN_KEY);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (path, &content, NULL, NULL));
  g_assert_cmpmem (content, strlen (content), g_bytes_get_data (foreign_env, NULL),
                   g_bytes_get_size (foreign_env));

  /* An expired list by a trusted key is merged, not lost. */
  {
    g_autoptr(CbNodeList) old = list_with_node (6, NOW - 3 * DAY);
    g_autoptr(GBytes) old_env = NULL;
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(CbNodeList) merged = NULL;

    old->version = 40;
    old_env = cb_node_list_sign (old, pub2.sk, NOW - 3 * DAY, DAY, NULL);
    g_assert_true (g_file_set_contents (path, g_bytes_get_data (old_env, NULL),
                                        (gssize) g_bytes_get_size (old_env), NULL));
    publish_start (source, mine, &pub1, NOW, &r);
    g_assert_cmpuint (publish_end (source, &r, NULL, &error), ==, 41);
    g_assert_no_error (error);
    bytes = read_sync (source, NULL, &error);
    merged = verify (bytes);
    g_assert_true (has_node (merged, 1));
    g_assert_true (has_node (merged, 6));
  }

  /* Read-only sources. */
  {
    g_autoptr(CbListSource) https = cb_list_source_new ("https://example.org/nodes.json", NULL,
                                                        NULL);
    publish_start (https, mine, &pub1, NOW, &r);
    g_assert_cmpuint (publish_end (https, &r, NULL, &error), ==, 0);
    g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_WRITABLE);
  }
}

/* Backups go through the same sources with a larger cap; the cap is
 * checked on both reads and writes, and github:// keeps the 1 MiB of its
 * contents API. */
static void
test_max_bytes (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("file://%s/backup.bin", f->dir);
  CbListSourceOptions options = { 0 };
  g_autoptr(CbListSource) small = NULL;
  g_autoptr(CbListSource) big = NULL;
  g_autoptr(CbListSource) github = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) two_mib = g_bytes_new_take (g_malloc0 (2 * 1024 * 1024), 2 * 1024 * 1024);
  g_autoptr(GBytes) read = NULL;

  small = cb_list_source_new (url, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cb_list_source_get_max_bytes (small), ==, 1024 * 1024);
  g_assert_false (write_sync (small, two_mib, NULL, &error));
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  options.max_bytes = 4 * 1024 * 1024;
  big = cb_list_source_new (url, &options, &error);
  g_assert_no_error (error);
  g_assert_true (write_sync (big, two_mib, NULL, &error));
  g_assert_no_error (error);
  read = read_sync (big, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (read, two_mib));
  g_clear_pointer (&read, g_bytes_unref);

  read = read_sync (small, NULL, &error);
  g_assert_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "larger than 1048576 bytes"));
  g_assert_null (read);
  g_clear_error (&error);

  github = cb_list_source_new ("github://o/r/backup.bin", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cb_list_source_get_max_bytes (github), ==, 1024 * 1024);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  make_key (&pub1, 0x11);
  make_key (&pub2, 0x22);
  make_key (&pub3, 0x33);
  memcpy (trusted[0], pub1.pk, 32);
  memcpy (trusted[1], pub2.pk, 32);
  memcpy (trusted[2], pub3.pk, 32);

  g_test_add_func ("/node/list-sources/urls", test_urls);
  g_test_add ("/node/list-sources/file", Fixture, NULL, fixture_setup, test_file,
              fixture_teardown);
  g_test_add_func ("/node/list-sources/http", test_http);
  g_test_add ("/node/list-sources/max-bytes", Fixture, NULL, fixture_setup, test_max_bytes,
              fixture_teardown);
  g_test_add ("/node/list-sources/git", Fixture, NULL, fixture_setup, test_git,
              fixture_teardown);
  g_test_add ("/node/list-sources/git-existing-repo", Fixture, NULL, fixture_setup,
              test_git_existing_repo, fixture_teardown);
  g_test_add ("/node/list-sources/git-missing-repo", Fixture, NULL, fixture_setup,
              test_git_missing_repo, fixture_teardown);
  g_test_add_func ("/node/list-sources/github", test_github);
  g_test_add_func ("/node/list-sources/github-malformed", test_github_malformed);
  g_test_add ("/node/list-publish/file", Fixture, NULL, fixture_setup, test_publish_file,
              fixture_teardown);
  g_test_add ("/node/list-publish/git", Fixture, NULL, fixture_setup, test_publish_git,
              fixture_teardown);
  g_test_add ("/node/list-publish/git-shared-cache", Fixture, NULL, fixture_setup,
              test_publish_git_shared_cache, fixture_teardown);
  g_test_add_func ("/node/list-publish/github", test_publish_github);
  g_test_add_func ("/node/list-publish/retry", test_publish_retry);
  g_test_add ("/node/list-publish/refuses", Fixture, NULL, fixture_setup, test_publish_refuses,
              fixture_teardown);
  return g_test_run ();
}
