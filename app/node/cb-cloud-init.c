/* cb-cloud-init.c: a cloud starts as a directory: its definition, its
 * publisher key, and a first list on its public domains. */
#define G_LOG_DOMAIN "cb-cloud-init"

#include "cb-cloud-init.h"
#include "cb-cloud-config.h"
#include "cb-identity.h"
#include "cb-list-source.h"
#include "cb-node-list.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

typedef struct {
  gboolean done;
  gboolean ok;
  GError *error;
} WriteWait;

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  WriteWait *wait = user_data;

  wait->ok = cb_list_source_write_finish (CB_LIST_SOURCE (source), result, &wait->error);
  wait->done = TRUE;
}

/* init-cloud is a one-shot command: a private main context keeps the
 * source's async write synchronous without touching anyone's main loop. */
static gboolean
write_first_list (const char    *url,
                  GBytes        *envelope,
                  const char    *github_token,
                  GError       **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  CbListSourceOptions options = { .github_token = github_token };
  g_autoptr(CbListSource) source = NULL;
  WriteWait wait = { 0 };

  g_main_context_push_thread_default (context);
  source = cb_list_source_new (url, &options, error);
  if (source != NULL)
    {
      cb_list_source_write_async (source, envelope, NULL, "Create the cloud's node list",
                                  NULL, on_written, &wait);
      while (!wait.done)
        g_main_context_iteration (context, TRUE);
    }
  g_main_context_pop_thread_default (context);
  if (source == NULL)
    return FALSE;
  if (!wait.ok)
    {
      g_propagate_prefixed_error (error, wait.error, "cannot write the first list to %s: ", url);
      return FALSE;
    }
  return TRUE;
}

gboolean
cb_cloud_init (const char         *dir,
               const char         *name,
               const char * const *lists,
               const char         *github_token,
               GError            **error)
{
  g_autofree char *config_path = g_build_filename (dir, CB_CLOUD_FILE, NULL);
  g_autofree char *key_path = g_build_filename (dir, CB_PUBLISHER_KEY_FILE, NULL);
  g_autofree char *default_list = NULL;
  g_autofree char *json = NULL;
  g_autoptr(CbCloudConfig) config = g_new0 (CbCloudConfig, 1);
  g_autoptr(CbCloudConfig) reread = NULL;
  g_autoptr(CbIdentity) publisher = NULL;
  g_autoptr(CbNodeList) list = NULL;
  g_autoptr(GBytes) envelope = NULL;

  if (sodium_init () < 0)
    g_error ("libsodium cannot initialise");
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "cannot create %s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  if (g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                   "%s already defines a cloud; choose an empty directory", config_path);
      return FALSE;
    }
  /* O_EXCL: an existing publisher key is never overwritten. */
  if (!cb_identity_write_new (key_path, &publisher, error))
    return FALSE;

  config->name = g_strdup (name);
  config->version = 1;
  randombytes_buf (config->network_key, sizeof config->network_key);
  config->n_publisher_keys = 1;
  config->publisher_keys = g_malloc0_n (1, 32);
  memcpy (config->publisher_keys[0], publisher->public_key, 32);
  config->publishers_min = 1;
  config->publishers_max = 7;
  config->publishers_max_fraction = 0.10;
  if (lists != NULL && lists[0] != NULL)
    config->lists = g_strdupv ((char **) lists);
  else
    {
      g_autofree char *absolute = g_canonicalize_filename (dir, NULL);
      g_autofree char *path = g_build_filename (absolute, "nodes.json", NULL);

      default_list = g_filename_to_uri (path, NULL, error);
      if (default_list == NULL)
        return FALSE;
      config->lists = g_new0 (char *, 2);
      config->lists[0] = g_strdup (default_list);
    }
  config->db_set_size = 100;
  config->db_sets_tracked = 100;
  config->list_ttl_seconds = 86400;
  config->probe_interval_ms = 300;
  config->suspicion_min_ms = 3000;
  config->suspicion_max_ms = 9000;
  config->system_min_hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* 0600: cloud.json holds the network key; publishing it is the
   * operator's choice, not ours.  Write what a reader accepts: parse our
   * own output before saving it. */
  json = cb_cloud_config_to_json (config);
  reread = cb_cloud_config_parse (json, strlen (json), error);
  if (reread == NULL)
    return FALSE;
  if (!g_file_set_contents_full (config_path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, error))
    return FALSE;

  list = cb_node_list_new (name);
  list->version = 1;
  envelope = cb_node_list_sign (list, publisher->secret_key, g_get_real_time () / G_USEC_PER_SEC,
                                config->list_ttl_seconds, error);
  if (envelope == NULL)
    return FALSE;
  for (guint i = 0; config->lists[i] != NULL; i++)
    if (!write_first_list (config->lists[i], envelope, github_token, error))
      return FALSE;
  return TRUE;
}
