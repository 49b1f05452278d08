/* test-node.c: CbNode in-process on 127.0.0.1, plus the daemon's CLI
 *
 * Real nodes, real sockets, real list files and a real libsoup server as
 * a public domain; only time is waited for. */
#define G_LOG_DOMAIN "cb-test-node"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <sodium.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>

#include "cb-cloud-init.h"
#include "cb-control.h"
#include "cb-identity.h"
#include "cb-node-list.h"
#include "cb-node.h"

typedef struct {
  char          *dir;
  char          *cloud_dir;
  char          *cloud_json;
  char          *publisher_key;
  CbCloudConfig *cloud;
} Fixture;

/* A new cloud in a temp dir whose list is @list_url (NULL: a file:// list
 * beside cloud.json). */
static void
fixture_init (Fixture *f, const char *list_url)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file_list = NULL;
  const char *lists[2] = { NULL, NULL };

  f->dir = g_dir_make_tmp ("cb-test-node-XXXXXX", &error);
  g_assert_no_error (error);
  f->cloud_dir = g_build_filename (f->dir, "cloud", NULL);
  file_list = g_strdup_printf ("file://%s/nodes.json", f->cloud_dir);
  lists[0] = list_url != NULL ? list_url : file_list;
  /* init-cloud writes the first list; an http:// one cannot be written. */
  if (list_url != NULL)
    {
      const char *file_lists[2] = { file_list, NULL };
      g_assert_true (cb_cloud_init (f->cloud_dir, "test", file_lists, NULL, &error));
    }
  else
    g_assert_true (cb_cloud_init (f->cloud_dir, "test", lists, NULL, &error));
  g_assert_no_error (error);
  f->cloud_json = g_build_filename (f->cloud_dir, "cloud.json", NULL);
  f->publisher_key = g_build_filename (f->cloud_dir, "publisher.key", NULL);
  f->cloud = cb_cloud_config_load (f->cloud_json, &error);
  g_assert_no_error (error);
  if (list_url != NULL)
    {
      g_strfreev (f->cloud->lists);
      f->cloud->lists = g_strdupv ((char **) lists);
    }
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_clear (Fixture *f)
{
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->cloud_dir);
  g_free (f->cloud_json);
  g_free (f->publisher_key);
  cb_cloud_config_free (f->cloud);
}

static CbNode *
start_node (Fixture *f, const char *name, gboolean publisher)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = g_build_filename (f->dir, name, NULL);
  CbNode *node = cb_node_new (data_dir, f->cloud, &error);

  g_assert_no_error (error);
  cb_node_set_listen (node, "127.0.0.1:0");
  if (publisher)
    g_assert_true (cb_node_set_publisher_key (node, f->publisher_key, &error));
  g_assert_true (cb_node_start (node, &error));
  g_assert_no_error (error);
  return node;
}

static void
on_stopped (GObject *source, GAsyncResult *result, gpointer data)
{
  g_assert_true (cb_node_stop_finish (CB_NODE (source), result, NULL));
  *(gboolean *) data = TRUE;
}

static void
stop_node (CbNode *node)
{
  gboolean done = FALSE;

  cb_node_stop_async (node, NULL, on_stopped, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

typedef gboolean (*Check) (gpointer data);

static void
wait_for (Check check, gpointer data, guint seconds, const char *what)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!check (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out after %u s waiting for %s", seconds, what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

static JsonObject *
status_of (CbNode *node)
{
  JsonNode *status = cb_node_get_status (node);
  JsonObject *object = json_object_ref (json_node_get_object (status));

  json_node_unref (status);
  return object;
}

/* The state node shows for peer, or NULL. */
static char *
peer_state (CbNode *node, CbNode *peer)
{
  g_autoptr(JsonObject) status = status_of (node);
  JsonArray *peers = json_object_get_array_member (status, "peers");

  for (guint i = 0; i < json_array_get_length (peers); i++)
    {
      JsonObject *p = json_array_get_object_element (peers, i);
      if (g_strcmp0 (json_object_get_string_member (p, "id"), cb_node_get_id (peer)) == 0)
        return g_strdup (json_object_get_string_member (p, "state"));
    }
  return NULL;
}

typedef struct { CbNode *a, *b; const char *state; } PairState;

/* cb_control_call() blocks; the node answers from this thread's loop. */
typedef struct {
  const char *data_dir;
  JsonNode   *result;
  GError     *error;
  gboolean    done;
} ControlCall;

static gpointer
control_thread (gpointer data)
{
  ControlCall *call = data;
  g_autoptr(JsonObject) request = json_object_new ();

  json_object_set_string_member (request, "command", "status");
  call->result = cb_control_call (call->data_dir, request, &call->error);
  g_atomic_int_set (&call->done, TRUE);
  return NULL;
}

static gboolean
control_done (gpointer data)
{
  return g_atomic_int_get (&((ControlCall *) data)->done);
}

static gboolean
sees (gpointer data)
{
  PairState *ps = data;
  g_autofree char *a_sees_b = peer_state (ps->a, ps->b);

  return g_strcmp0 (a_sees_b, ps->state) == 0;
}

static void
test_two_nodes_join (void)
{
  Fixture f;
  g_autoptr(CbNode) first = NULL;
  g_autoptr(CbNode) second = NULL;
  g_autoptr(JsonObject) status = NULL;
  ControlCall call = { 0 };
  g_autofree char *data_dir = NULL;
  g_autofree char *sock = NULL;
  PairState ps;
  struct stat st;

  fixture_init (&f, NULL);
  /* The first node publishes itself; the second finds it in the list. */
  first = start_node (&f, "first", TRUE);
  status = status_of (first);
  g_assert_cmpstr (json_object_get_string_member (status, "cloud"), ==, "test");
  g_assert_true (json_object_get_boolean_member (status, "publisher_eligible"));
  ps = (PairState) { first, first, NULL };
  wait_for ((Check) cb_node_is_publisher, first, 10, "the only eligible node to publish");

  second = start_node (&f, "second", FALSE);
  ps = (PairState) { second, first, "alive" };
  wait_for (sees, &ps, 30, "the second node to see the first alive");
  ps = (PairState) { first, second, "alive" };
  wait_for (sees, &ps, 30, "the first node to see the second alive");
  g_assert_false (cb_node_is_publisher (second));

  /* The control socket: 0600, answers status with the same id. */
  data_dir = g_build_filename (f.dir, "second", NULL);
  sock = g_build_filename (data_dir, CB_CONTROL_SOCKET_NAME, NULL);
  g_assert_cmpint (g_stat (sock, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  call.data_dir = data_dir;
  g_thread_unref (g_thread_new ("control", control_thread, &call));
  wait_for (control_done, &call, 20, "the control socket to answer");
  g_assert_no_error (call.error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (call.result), "id"), ==,
                   cb_node_get_id (second));
  json_node_unref (call.result);

  /* Stopping says goodbye: the other side sees "left", not a failure. */
  stop_node (second);
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));
  ps = (PairState) { first, second, "left" };
  wait_for (sees, &ps, 10, "the first node to see the second leave");
  stop_node (first);
  fixture_clear (&f);
}

static void
test_data_dir_lock (void)
{
  Fixture f;
  g_autoptr(CbNode) first = NULL;
  g_autoptr(CbNode) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = NULL;

  fixture_init (&f, NULL);
  first = start_node (&f, "node", FALSE);
  data_dir = g_build_filename (f.dir, "node", NULL);
  again = cb_node_new (data_dir, f.cloud, &error);
  g_assert_no_error (error);
  cb_node_set_listen (again, "127.0.0.1:0");
  g_assert_false (cb_node_start (again, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "another node is already running"));
  stop_node (first);
  fixture_clear (&f);
}

static void
test_corrupt_identity (void)
{
  Fixture f;
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *key = NULL;
  g_autofree char *after = NULL;
  g_autoptr(CbNode) node = NULL;

  fixture_init (&f, NULL);
  data_dir = g_build_filename (f.dir, "node", NULL);
  g_assert_cmpint (g_mkdir (data_dir, 0700), ==, 0);
  key = g_build_filename (data_dir, "identity.key", NULL);
  g_assert_true (g_file_set_contents_full (key, "not a key\n", -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));
  node = cb_node_new (data_dir, f.cloud, &error);
  g_assert_null (node);
  g_assert_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_CORRUPT);
  g_assert_true (g_file_get_contents (key, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, "not a key\n");
  fixture_clear (&f);
}

/* ---- a public domain that is down, then up ---- */

/* The node's warnings about its lists are expected here: record them
 * instead of aborting, and check them. */
static GPtrArray *list_warnings;

static void
record_list_warning (const char *log_domain, GLogLevelFlags level, const char *message,
                     gpointer data)
{
  if (!g_str_has_prefix (message, "list "))
    g_error ("unexpected warning: %s", message);
  g_ptr_array_add (list_warnings, g_strdup (message));
}

static void
assert_warned (const char *pattern)
{
  for (guint i = 0; i < list_warnings->len; i++)
    if (g_pattern_match_simple (pattern, g_ptr_array_index (list_warnings, i)))
      return;
  g_error ("no warning like \"%s\" was logged", pattern);
}

typedef struct {
  SoupServer *server;
  GBytes     *body;  /* NULL: 503 */
} Domain;

static void
serve_list (SoupServer *server, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer data)
{
  Domain *domain = data;

  if (domain->body == NULL)
    {
      soup_server_message_set_status (msg, 503, NULL);
      return;
    }
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (domain->body, NULL),
                                    g_bytes_get_size (domain->body));
}

static JsonObject *
first_list (CbNode *node)
{
  g_autoptr(JsonObject) status = status_of (node);
  JsonArray *lists = json_object_get_array_member (status, "lists");

  return json_object_ref (json_array_get_object_element (lists, 0));
}

static gboolean
list_in_state (gpointer data)
{
  void **args = data;
  g_autoptr(JsonObject) list = first_list (args[0]);

  return g_strcmp0 (json_object_get_string_member (list, "state"), args[1]) == 0;
}

static GBytes *
signed_list (Fixture *f, guint64 version, const char *id_hex, const char *addr)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbIdentity) publisher = cb_identity_load (f->publisher_key, &error);
  g_autoptr(CbNodeList) list = cb_node_list_new ("test");
  const char *addrs[] = { addr, NULL };
  const char *roles[] = { NULL };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  GBytes *envelope;

  g_assert_no_error (error);
  list->version = version;
  if (id_hex != NULL)
    {
      g_autoptr(CbListNode) node = cb_list_node_new (id_hex, addrs, roles, 1, 1, now, now);
      cb_node_list_upsert (list, node);
    }
  envelope = cb_node_list_sign (list, publisher->secret_key, now, 3600, &error);
  g_assert_no_error (error);
  return envelope;
}

static void
test_unreachable_list_backoff (void)
{
  Fixture f;
  Domain domain = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  g_autofree char *url = NULL;
  g_autoptr(CbNode) node = NULL;
  g_autoptr(CbNode) other = NULL;
  g_autoptr(JsonObject) list = NULL;
  g_autofree char *other_dir = NULL;
  gpointer args[2];
  PairState ps;
  GLogLevelFlags old_fatal;
  guint handler;

  domain.server = soup_server_new (NULL, NULL);
  soup_server_add_handler (domain.server, "/nodes.json", serve_list, &domain, NULL);
  g_assert_true (soup_server_listen_local (domain.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (domain.server);
  url = g_strdup_printf ("http://127.0.0.1:%d/nodes.json", g_uri_get_port (uris->data));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  fixture_init (&f, url);

  /* The domain is down: the node says so and when it will try again. */
  list_warnings = g_ptr_array_new_with_free_func (g_free);
  old_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  handler = g_log_set_handler ("cb-node", G_LOG_LEVEL_WARNING, record_list_warning, NULL);
  node = start_node (&f, "node", FALSE);
  args[0] = node;
  args[1] = (gpointer) "error";
  wait_for (list_in_state, args, 10, "the list to be reported unreachable");
  assert_warned ("list http://127.0.0.1*503*retrying in 2 s");
  list = first_list (node);
  g_assert_nonnull (strstr (json_object_get_string_member (list, "error"), "503"));
  g_assert_true (json_object_has_member (list, "retry_in_seconds"));

  /* Another node is up; the domain comes back with a list naming it. */
  other = start_node (&f, "other", FALSE);
  other_dir = g_build_filename (f.dir, "other", NULL);
  domain.body = signed_list (&f, 7, cb_node_get_id (other), cb_node_get_advertise (other));
  args[1] = (gpointer) "ok";
  wait_for (list_in_state, args, 20, "the node to read the list once the domain is back");
  ps = (PairState) { node, other, "alive" };
  wait_for (sees, &ps, 20, "the node to join the node its list names");

  /* An older list later on is refused; the node keeps what it had. */
  g_bytes_unref (domain.body);
  domain.body = signed_list (&f, 3, NULL, NULL);
  stop_node (node);
  g_clear_object (&node);
  node = start_node (&f, "node", FALSE);
  args[0] = node;
  args[1] = (gpointer) "error";
  wait_for (list_in_state, args, 10, "the older list to be refused");
  assert_warned ("list http://*version 3*older*version 7*");
  /* From its cached list it still finds the other node. */
  ps = (PairState) { node, other, "alive" };
  wait_for (sees, &ps, 20, "the node to rejoin from its cached list");

  stop_node (node);
  stop_node (other);
  g_log_remove_handler ("cb-node", handler);
  g_log_set_always_fatal (old_fatal);
  g_clear_pointer (&list_warnings, g_ptr_array_unref);
  g_bytes_unref (domain.body);
  g_object_unref (domain.server);
  fixture_clear (&f);
}

/* ---- the daemon's command line ---- */

static char *
run_cli (const char * const *args, int *status)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;
  char *both;

  g_ptr_array_add (argv, (gpointer) g_getenv ("CB_NODE"));
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, status, &error));
  g_assert_no_error (error);
  both = g_strconcat (out, err, NULL);
  g_free (out);
  return both;
}

static void
test_cli (void)
{
  const char *commands[] = { "init-cloud", "run", "status", NULL };
  int status;

  for (guint i = 0; commands[i]; i++)
    {
      const char *args[] = { commands[i], "--help", NULL };
      g_autofree char *out = run_cli (args, &status);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_nonnull (strstr (out, "Usage:"));
      g_assert_nonnull (strstr (out, i == 0 ? "--dir" : "--data-dir"));
    }
  {
    const char *args[] = { "status", "--data-dir", "/nonexistent/cb", "--json", NULL };
    g_autofree char *out = run_cli (args, &status);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "no node is running with the data dir /nonexistent/cb"));
  }
  {
    const char *args[] = { "run", "--data-dir", "/tmp", "--cloud", "/nonexistent.json", NULL };
    g_autofree char *out = run_cli (args, &status);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "/nonexistent.json"));
  }
  {
    const char *args[] = { "run", "--data-dir", "/tmp/x", "--listen", "localhost:1", NULL };
    g_autofree char *out = run_cli (args, &status);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
  }
}

/* `run` with no --cloud joins the cloud built in (data/cloud.json or
 * -Dcloud_config), answers status, and exits 0 on SIGTERM after leaving. */
static void
test_cli_run_default_cloud (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cb-test-node-XXXXXX", &error);
  g_autofree char *data_dir = g_build_filename (dir, "node", NULL);
  g_autofree char *sock = g_build_filename (data_dir, CB_CONTROL_SOCKET_NAME, NULL);
  const char *argv[] = { g_getenv ("CB_NODE"), "run", "--data-dir", data_dir,
                         "--listen", "127.0.0.1:0", NULL };
  const char *status_args[] = { "status", "--data-dir", data_dir, "--json", NULL };
  g_autoptr(GSubprocess) node = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CbCloudConfig) builtin = NULL;
  g_autofree char *out = NULL;
  const char *json = cb_cloud_config_default_json ();
  JsonObject *status;
  int exit_status = -1;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  builtin = cb_cloud_config_parse (json, strlen (json), &error);
  g_assert_no_error (error);
  node = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  g_assert_no_error (error);
  do
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50000);
      g_free (out);
      out = g_file_test (sock, G_FILE_TEST_EXISTS) ? run_cli (status_args, &exit_status) : NULL;
    }
  while (out == NULL || !g_spawn_check_wait_status (exit_status, NULL));

  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  status = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (status, "cloud"), ==, builtin->name);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (status, "lists")), ==,
                    g_strv_length (builtin->lists));
  g_assert_cmpuint (strlen (json_object_get_string_member (status, "id")), ==, 64);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (status, "listen"), "127.0.0.1:"));

  g_subprocess_send_signal (node, SIGTERM);
  g_assert_true (g_subprocess_wait (node, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (node));
  g_assert_cmpint (g_subprocess_get_exit_status (node), ==, 0);
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));
  remove_tree (data_dir);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/node/node/two-nodes-join-and-leave", test_two_nodes_join);
  g_test_add_func ("/node/node/data-dir-lock", test_data_dir_lock);
  g_test_add_func ("/node/node/corrupt-identity", test_corrupt_identity);
  g_test_add_func ("/node/node/unreachable-list-backoff", test_unreachable_list_backoff);
  g_test_add_func ("/node/node/cli", test_cli);
  g_test_add_func ("/node/node/cli-run-default-cloud", test_cli_run_default_cloud);
  return g_test_run ();
}
