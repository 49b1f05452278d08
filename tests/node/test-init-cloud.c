/* test-init-cloud.c: a new cloud is a directory and a first signed list */
#include "cb-cloud-config.h"
#include "cb-cloud-init.h"
#include "cb-identity.h"
#include "cb-list-source.h"
#include "cb-node-list.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

static char *tmp;

typedef struct {
  GBytes *bytes;
  GError *error;
  gboolean done;
} ReadWait;

static void
on_read (GObject *source, GAsyncResult *result, gpointer data)
{
  ReadWait *wait = data;

  wait->bytes = cb_list_source_read_finish (CB_LIST_SOURCE (source), result, NULL, &wait->error);
  wait->done = TRUE;
}

static GBytes *
read_list (const char *url)
{
  CbListSourceOptions options = { 0 };
  g_autofree char *cache = g_build_filename (tmp, "cache", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbListSource) source = NULL;
  ReadWait wait = { 0 };

  options.cache_dir = cache;
  source = cb_list_source_new (url, &options, &error);
  g_assert_no_error (error);
  cb_list_source_read_async (source, NULL, on_read, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (wait.error);
  return wait.bytes;
}

static void
check_cloud (const char *dir,
             const char *name)
{
  g_autofree char *config_path = g_build_filename (dir, CB_CLOUD_FILE, NULL);
  g_autofree char *key_path = g_build_filename (dir, CB_PUBLISHER_KEY_FILE, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbCloudConfig) config = cb_cloud_config_load (config_path, &error);
  g_autoptr(CbIdentity) publisher = NULL;
  GStatBuf st;

  g_assert_no_error (error);
  g_assert_cmpstr (config->name, ==, name);
  g_assert_cmpint (g_stat (key_path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (config_path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);

  /* The publisher key in the directory is the one cloud.json trusts. */
  publisher = cb_identity_load (key_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->n_publisher_keys, ==, 1);
  g_assert_cmpmem (config->publisher_keys[0], 32, publisher->public_key, 32);

  /* Every list URL holds a first list that verifies against cloud.json. */
  g_assert_cmpuint (g_strv_length (config->lists), >=, 1);
  for (guint i = 0; config->lists[i]; i++)
    {
      g_autoptr(GBytes) envelope = read_list (config->lists[i]);
      g_autoptr(CbNodeList) list = NULL;

      list = cb_node_list_verify_and_parse (g_bytes_get_data (envelope, NULL),
                                            g_bytes_get_size (envelope), config->name,
                                            (const guint8 (*)[32]) config->publisher_keys,
                                            config->n_publisher_keys, 1,
                                            g_get_real_time () / G_USEC_PER_SEC, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (list->version, ==, 1);
      g_assert_cmpuint (list->nodes->len, ==, 0);
    }
}

static void
test_default_file_list (void)
{
  g_autofree char *dir = g_build_filename (tmp, "plain", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (cb_cloud_init (dir, "plain", NULL, NULL, &error));
  g_assert_no_error (error);
  check_cloud (dir, "plain");
}

static void
test_git_list (void)
{
  g_autofree char *dir = g_build_filename (tmp, "gitcloud", NULL);
  g_autofree char *repo = g_build_filename (tmp, "lists.git", NULL);
  g_autofree char *url = g_strdup_printf ("git+file://%s#nodes.json", repo);
  const char *init[] = { "git", "init", "-q", "--bare", repo, NULL };
  const char *lists[] = { url, NULL };
  g_autoptr(GError) error = NULL;
  int status;

  g_assert_true (g_spawn_sync (NULL, (char **) init, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               NULL, NULL, &status, &error));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (cb_cloud_init (dir, "gitcloud", lists, NULL, &error));
  g_assert_no_error (error);
  check_cloud (dir, "gitcloud");
}

static void
test_existing_cloud_untouched (void)
{
  g_autofree char *dir = g_build_filename (tmp, "twice", NULL);
  g_autofree char *config_path = g_build_filename (dir, CB_CLOUD_FILE, NULL);
  g_autofree char *key_path = g_build_filename (dir, CB_PUBLISHER_KEY_FILE, NULL);
  g_autofree char *config_before = NULL, *config_after = NULL;
  g_autofree char *key_before = NULL, *key_after = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (cb_cloud_init (dir, "twice", NULL, NULL, &error));
  g_assert_true (g_file_get_contents (config_path, &config_before, NULL, NULL));
  g_assert_true (g_file_get_contents (key_path, &key_before, NULL, NULL));

  g_assert_false (cb_cloud_init (dir, "twice", NULL, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
  g_assert_nonnull (strstr (error->message, "already defines a cloud"));
  g_assert_true (g_file_get_contents (config_path, &config_after, NULL, NULL));
  g_assert_true (g_file_get_contents (key_path, &key_after, NULL, NULL));
  g_assert_cmpstr (config_before, ==, config_after);
  g_assert_cmpstr (key_before, ==, key_after);

  /* A stray publisher key alone also stops it: keys are never replaced. */
  g_unlink (config_path);
  g_clear_error (&error);
  g_assert_false (cb_cloud_init (dir, "twice", NULL, NULL, &error));
  g_assert_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_WRITE);
  g_clear_pointer (&key_after, g_free);
  g_assert_true (g_file_get_contents (key_path, &key_after, NULL, NULL));
  g_assert_cmpstr (key_before, ==, key_after);
}

static void
test_invalid_name_refused (void)
{
  g_autofree char *dir = g_build_filename (tmp, "badname", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (cb_cloud_init (dir, "no spaces allowed", NULL, NULL, &error));
  g_assert_error (error, CB_CLOUD_CONFIG_ERROR, CB_CLOUD_CONFIG_ERROR_INVALID);
}

static void
test_cli (void)
{
  const char *node = g_getenv ("CB_NODE");
  g_autofree char *dir = g_build_filename (tmp, "cli", NULL);
  g_autofree char *out = NULL, *err = NULL;
  int status;

  g_assert_nonnull (node);
  {
    const char *argv[] = { node, "init-cloud", "--help", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "--list"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { node, "init-cloud", "--dir", dir, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "--name"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { node, "init-cloud", "--dir", dir, "--name", "cli", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    check_cloud (dir, "cli");
  }
}

int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  const char *rm[] = { "rm", "-rf", NULL, NULL };
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp = g_dir_make_tmp ("cb-init-cloud-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/node/init-cloud/default-file-list", test_default_file_list);
  g_test_add_func ("/node/init-cloud/git-list", test_git_list);
  g_test_add_func ("/node/init-cloud/existing-cloud-untouched", test_existing_cloud_untouched);
  g_test_add_func ("/node/init-cloud/invalid-name-refused", test_invalid_name_refused);
  g_test_add_func ("/node/init-cloud/cli", test_cli);
  status = g_test_run ();
  rm[2] = tmp;
  g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  g_free (tmp);
  return status;
}
