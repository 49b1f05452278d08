/* test-node-apps.c: a running CbNode hosting apps its CbApps installs
 *
 * A real node on 127.0.0.1, real store files, two real plugins (notes and
 * the guestbook) from a file:// repository.  What a plugin can reach is
 * its own system only; installing, disabling and removing while the node
 * runs change what it hosts at once. */
#include <glib/gstdio.h>
#include <sodium.h>

#include "cb-cloud-init.h"
#include "cb-node-apps.h"
#include "cb-repo-publish.h"
#include "cb-store.h"

#define DAY (24 * 60 * 60)
#define NOTES "test.cloudbevy.org/notes"
#define GUESTBOOK "github.com/cloudbevy/guestbook"

typedef struct {
  char          *dir;
  char          *data_dir;
  char          *repo;
  CbCloudConfig *cloud;
  CbNode        *node;
  CbApps        *apps;
} Fixture;

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

static void
wait_flag (gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

static void
on_stopped (GObject *source, GAsyncResult *result, gpointer data)
{
  g_assert_true (cb_node_stop_finish (CB_NODE (source), result, NULL));
  *(gboolean *) data = TRUE;
}

static void
start_node (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->node = cb_node_new (f->data_dir, f->cloud, &error);
  g_assert_no_error (error);
  cb_node_set_listen (f->node, "127.0.0.1:0");
  f->apps = cb_node_get_apps (f->node);
  g_assert_nonnull (f->apps);
  g_assert_true (cb_node_start (f->node, &error));
  g_assert_no_error (error);
}

static void
stop_node (Fixture *f)
{
  gboolean done = FALSE;

  cb_node_stop_async (f->node, NULL, on_stopped, &done);
  wait_flag (&done);
  g_clear_object (&f->node);
  f->apps = NULL;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cloud_dir = NULL;
  g_autofree char *list = NULL;
  g_autofree char *cloud_json = NULL;
  g_autofree char *key = NULL;
  g_autofree char *notes = g_build_filename (g_getenv ("CB_TEST_PLUGINS"), "notes.cbplugin", NULL);
  const char *lists[2] = { NULL, NULL };
  const char *keys[2] = { NULL, NULL };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  f->dir = g_dir_make_tmp ("cb-test-node-apps-XXXXXX", &error);
  cloud_dir = g_build_filename (f->dir, "cloud", NULL);
  list = g_strdup_printf ("file://%s/nodes.json", cloud_dir);
  lists[0] = list;
  g_assert_true (cb_cloud_init (cloud_dir, "apps", lists, NULL, &error));
  cloud_json = g_build_filename (cloud_dir, "cloud.json", NULL);
  f->cloud = cb_cloud_config_load (cloud_json, &error);
  g_assert_no_error (error);
  f->data_dir = g_build_filename (f->dir, "node", NULL);
  f->repo = g_build_filename (f->dir, "repo", NULL);
  key = g_build_filename (f->dir, "repo.key", NULL);
  keys[0] = key;
  g_assert_true (cb_repo_publish_init (f->repo, "Test", keys, 1, now, 365 * DAY, 30 * DAY, &error));
  g_assert_true (cb_repo_publish_add (f->repo, notes, CB_HOST_ARCH, TRUE, NULL, &error));
  g_assert_true (cb_repo_publish_add (f->repo, g_getenv ("CB_GUESTBOOK"), CB_HOST_ARCH, TRUE, NULL,
                                      &error));
  g_assert_true (cb_repo_publish_sign (f->repo, keys, 0, now, 30 * DAY, NULL, &error));
  g_assert_no_error (error);
  start_node (f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->node != NULL)
    stop_node (f);
  remove_tree (f->dir);
  cb_cloud_config_free (f->cloud);
  g_free (f->dir);
  g_free (f->data_dir);
  g_free (f->repo);
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
add_and_install (Fixture *f, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) done = NULL;
  Wait wait = { 0 };

  g_autoptr(JsonNode) list = cb_apps_list (f->apps);
  JsonArray *repos = json_object_get_array_member (json_node_get_object (list), "repositories");

  if (json_array_get_length (repos) == 0)
    {
      g_autoptr(JsonNode) added = NULL;

      cb_apps_add_repository_async (f->apps, f->repo, NULL, on_done, &wait);
      wait_flag (&wait.done);
      added = cb_apps_add_repository_finish (f->apps, wait.result, &error);
      g_assert_no_error (error);
      g_clear_object (&wait.result);
      wait.done = FALSE;
    }
  cb_apps_install_async (f->apps, name, NULL, on_done, &wait);
  wait_flag (&wait.done);
  done = cb_apps_install_finish (f->apps, wait.result, &error);
  g_clear_object (&wait.result);
  g_assert_no_error (error);
}

static gboolean
node_hosts (Fixture *f, const char *system)
{
  g_autoptr(JsonNode) status = cb_node_get_status (f->node);
  JsonArray *systems = json_object_get_array_member (json_node_get_object (status), "systems");

  for (guint i = 0; i < json_array_get_length (systems); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (systems, i),
                                                  "system"), system) == 0)
      return TRUE;
  return FALSE;
}

static JsonNode *
run_verb (Fixture *f, const char *system, const char *verb, JsonObject *params, GError **error)
{
  Wait wait = { 0 };
  JsonNode *result;

  cb_apps_run_verb_async (f->apps, system, verb, params, NULL, on_done, &wait);
  wait_flag (&wait.done);
  result = cb_apps_run_verb_finish (f->apps, wait.result, error);
  g_object_unref (wait.result);
  return result;
}

static gboolean
write_rows (CbContext *context, const char *table, JsonObject *row, GError **error)
{
  g_autoptr(JsonArray) rows = json_array_new ();
  Wait wait = { 0 };
  gboolean ok;

  json_array_add_object_element (rows, json_object_ref (row));
  cb_context_upsert_async (context, table, rows, NULL, on_done, &wait);
  wait_flag (&wait.done);
  ok = cb_context_write_finish (context, wait.result, error);
  g_object_unref (wait.result);
  return ok;
}

static guint
n_rows (JsonNode *result)
{
  return json_array_get_length (json_object_get_array_member (json_node_get_object (result), "rows"));
}

static void
on_changed (CbContext *context, gpointer data)
{
  (*(guint *) data)++;
}

static void
test_hosting_and_isolation (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonObject) row = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  CbContext *notes, *guestbook;
  guint changed = 0;

  g_assert_false (node_hosts (f, NOTES));
  add_and_install (f, "notes");
  add_and_install (f, "guestbook");
  /* Installed while running: hosted at once. */
  g_assert_true (node_hosts (f, NOTES));
  g_assert_true (node_hosts (f, GUESTBOOK));
  notes = cb_apps_get_context (f->apps, NOTES);
  guestbook = cb_apps_get_context (f->apps, GUESTBOOK);
  g_assert_cmpstr (cb_context_get_node_id (notes), ==, cb_node_get_id (f->node));
  g_signal_connect (notes, "changed", G_CALLBACK (on_changed), &changed);

  /* A verb writes through the node's store; the named query reads it. */
  json_object_set_string_member (params, "text", "first note");
  json_object_set_string_member (params, "id", "n1");
  result = run_verb (f, NOTES, "add", params, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  result = cb_apps_query (f->apps, NOTES, "all", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_rows (result), ==, 1);
  g_clear_pointer (&result, json_node_unref);
  while (changed == 0)
    g_main_context_iteration (NULL, TRUE);

  /* The system's rules apply to its own local writes too. */
  json_object_set_string_member (params, "text", "this is forbidden");
  json_object_set_string_member (params, "id", "n2");
  result = run_verb (f, NOTES, "add", params, &error);
  g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED);
  g_clear_error (&error);

  /* Its own tables only: the guestbook's table does not exist for notes. */
  json_object_set_string_member (row, "id", "x");
  json_object_set_string_member (row, "author", "a");
  json_object_set_string_member (row, "message", "m");
  json_object_set_int_member (row, "signed_at", 1);
  json_object_set_string_member (row, "node", cb_node_get_id (f->node));
  g_assert_false (write_rows (notes, "entries", row, &error));
  g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "entries"));
  g_clear_error (&error);
  /* Its own named queries only. */
  result = cb_context_query (notes, "entries", NULL, &error);
  g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* The guestbook sees none of notes' rows, and refuses a forged entry. */
  result = cb_context_query (guestbook, "count", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_array_get_int_element (json_array_get_array_element (
                     json_object_get_array_member (json_node_get_object (result), "rows"), 0), 0),
                   ==, 0);
  g_clear_pointer (&result, json_node_unref);
  json_object_set_string_member (row, "node", "someone-else");
  g_assert_false (write_rows (guestbook, "entries", row, &error));
  g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED);
  g_clear_error (&error);

  /* Disabled: not hosted, its old context refuses, its data stays. */
  g_object_ref (notes);
  g_assert_true (cb_apps_set_enabled (f->apps, "notes", FALSE, &error));
  g_assert_false (node_hosts (f, NOTES));
  result = cb_context_query (notes, "all", NULL, &error);
  g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  g_object_unref (notes);
  g_assert_true (cb_apps_set_enabled (f->apps, "notes", TRUE, &error));
  g_assert_true (node_hosts (f, NOTES));
  result = cb_apps_query (f->apps, NOTES, "all", NULL, &error);
  g_assert_cmpuint (n_rows (result), ==, 1);
  g_clear_pointer (&result, json_node_unref);

  /* A restart hosts the installed apps again. */
  stop_node (f);
  start_node (f);
  g_assert_true (node_hosts (f, NOTES));
  g_assert_true (node_hosts (f, GUESTBOOK));
  result = cb_apps_query (f->apps, NOTES, "all", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_rows (result), ==, 1);
}

static void
test_remove_keeps_or_deletes_data (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  g_autofree char *db = cb_store_system_path (f->data_dir, NOTES);

  add_and_install (f, "notes");
  json_object_set_string_member (params, "text", "keep me");
  result = run_verb (f, NOTES, "add", params, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  g_assert_true (g_file_test (db, G_FILE_TEST_EXISTS));

  /* Removed: not hosted, code gone, data kept; reinstalled, it is back. */
  g_assert_true (cb_apps_remove (f->apps, "notes", FALSE, &error));
  g_assert_false (node_hosts (f, NOTES));
  g_assert_true (g_file_test (db, G_FILE_TEST_EXISTS));
  add_and_install (f, "notes");
  result = cb_apps_query (f->apps, NOTES, "all", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_rows (result), ==, 1);
  g_clear_pointer (&result, json_node_unref);

  /* Removed with its data. */
  g_assert_true (cb_apps_remove (f->apps, "notes", TRUE, &error));
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
  add_and_install (f, "notes");
  result = cb_apps_query (f->apps, NOTES, "all", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_rows (result), ==, 0);
}

/* An installed plugin that no longer loads is reported; the node starts
 * and hosts everything else. */
static void
test_broken_app_leaves_node_running (Fixture *f, gconstpointer data)
{
  g_autofree char *core = g_build_filename (f->data_dir, "apps", "code",
                                            "test.cloudbevy.org+notes", "1.0.0", "core.so", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonNode) result = NULL;
  JsonArray *array;
  const char *state = NULL;
  FILE *file;

  add_and_install (f, "notes");
  add_and_install (f, "guestbook");
  stop_node (f);
  file = fopen (core, "r+b");
  g_assert_nonnull (file);
  fseek (file, 64, SEEK_SET);
  fputc ('Z', file);
  fclose (file);
  g_test_expect_message ("cb-apps", G_LOG_LEVEL_WARNING, "*notes does not run*changed on disk*");
  start_node (f);
  g_test_assert_expected_messages ();
  g_assert_false (node_hosts (f, NOTES));
  g_assert_true (node_hosts (f, GUESTBOOK));
  list = cb_apps_list (f->apps);
  array = json_object_get_array_member (json_node_get_object (list), "apps");
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (array, i),
                                                  "system"), NOTES) == 0)
      state = json_object_get_string_member (json_array_get_object_element (array, i), "state");
  g_assert_cmpstr (state, ==, "failed");
  result = cb_apps_query (f->apps, GUESTBOOK, "count", NULL, &error);
  g_assert_no_error (error);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_setenv ("CB_DEFAULT_REPO", "", TRUE);
  g_test_add ("/sdk/node-apps/hosting-and-isolation", Fixture, NULL, fixture_set_up,
              test_hosting_and_isolation, fixture_tear_down);
  g_test_add ("/sdk/node-apps/remove-keeps-or-deletes-data", Fixture, NULL, fixture_set_up,
              test_remove_keeps_or_deletes_data, fixture_tear_down);
  g_test_add ("/sdk/node-apps/broken-app-leaves-node-running", Fixture, NULL, fixture_set_up,
              test_broken_app_leaves_node_running, fixture_tear_down);
  return g_test_run ();
}
