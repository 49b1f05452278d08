/* test-apps.c: repositories and installs, against a local HTTPS server
 *
 * Real repositories (made with the publisher's code), a real libsoup
 * server on 127.0.0.1 (also standing in for GitHub Pages), real plugins
 * loaded into this process.  Every attack must fail closed: a clear error,
 * and the installed state (what `apps list` shows, the files on disk)
 * exactly as before. */
#include "cb-apps.h"

#include <glib/gstdio.h>
#include <sodium.h>

#include "cb-hex.h"
#include "cb-identity.h"
#include "cb-json-check.h"
#include "cb-repo-publish.h"
#include "cb-repo-server.h"
#include "cb-repo-url.h"

#define DAY (24 * 60 * 60)
#define NOTES "test.cloudbevy.org/notes"

typedef struct {
  char          *root;      /* temp dir */
  char          *data_dir;
  CbRepoServer  *server;
  CbApps        *apps;
  char          *repo_dir;
  char          *key;       /* the repository's first key */
  char          *url;       /* its https:// address */
} Fixture;

static char *
plugin_file (const char *name)
{
  return g_build_filename (g_getenv ("CB_TEST_PLUGINS"), name, NULL);
}

static gint64
now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static char *
key_path (Fixture *f, const char *name)
{
  return g_build_filename (f->root, name, NULL);
}

static void
publish (const char *dir, const char *key, const char *manifest)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = plugin_file (manifest);
  const char *keys[] = { key, NULL };

  g_assert_true (cb_repo_publish_add (dir, path, CB_HOST_ARCH, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (cb_repo_publish_sign (dir, keys, 0, now (), 30 * DAY, NULL, &error));
  g_assert_no_error (error);
}

static CbApps *
new_apps (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsDatabase) database = cb_repo_server_tls_database (&error);
  g_autofree char *connect_to = cb_repo_server_connect_to (f->server);
  guint8 id[32];
  char hex[65];
  CbApps *apps;

  randombytes_buf (id, sizeof id);
  cb_hex_encode_into (id, 32, hex);
  g_assert_no_error (error);
  apps = cb_apps_new (f->data_dir, hex, &error);
  g_assert_no_error (error);
  cb_repo_fetcher_set_tls_database (cb_apps_get_fetcher (apps), database);
  /* Every name (127.0.0.1, ORG.github.io) reaches the local server. */
  cb_repo_fetcher_set_connect_to (cb_apps_get_fetcher (apps), connect_to);
  return apps;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *keys[2] = { NULL, NULL };

  f->root = g_dir_make_tmp ("cb-test-apps-XXXXXX", &error);
  g_assert_no_error (error);
  f->data_dir = g_build_filename (f->root, "node", NULL);
  f->server = cb_repo_server_new (&error);
  g_assert_no_error (error);
  f->apps = new_apps (f);
  f->repo_dir = g_build_filename (f->root, "repo", NULL);
  f->key = key_path (f, "a.key");
  keys[0] = f->key;
  g_assert_true (cb_repo_publish_init (f->repo_dir, "Test Apps", keys, 1, now (), 365 * DAY,
                                       30 * DAY, &error));
  g_assert_no_error (error);
  publish (f->repo_dir, f->key, "notes.cbplugin");
  f->url = cb_repo_server_add_dir (f->server, "r", f->repo_dir);
}

static gboolean
remove_all (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_all (child);
      else
        g_unlink (child);
    }
  return g_rmdir (path) == 0;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->apps);
  /* The client's connections close from the main loop; the server's
   * close would wait on them. */
  cb_repo_server_stop_streams (f->server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  cb_repo_server_free (f->server);
  remove_all (f->root);
  g_free (f->root);
  g_free (f->data_dir);
  g_free (f->repo_dir);
  g_free (f->key);
  g_free (f->url);
}

/* ---- running async operations to the end ---- */

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

static GAsyncResult *
wait_for (Wait *wait)
{
  while (!wait->done)
    g_main_context_iteration (NULL, TRUE);
  return wait->result;
}

static JsonNode *
add_repo (CbApps *apps, const char *address, GError **error)
{
  Wait wait = { 0 };
  g_autoptr(GAsyncResult) result = NULL;

  cb_apps_add_repository_async (apps, address, NULL, on_done, &wait);
  result = wait_for (&wait);
  return cb_apps_add_repository_finish (apps, result, error);
}

static JsonNode *
install (CbApps *apps, const char *name, gboolean update, GError **error)
{
  Wait wait = { 0 };
  g_autoptr(GAsyncResult) result = NULL;

  if (update)
    cb_apps_update_async (apps, name, NULL, on_done, &wait);
  else
    cb_apps_install_async (apps, name, NULL, on_done, &wait);
  result = wait_for (&wait);
  return cb_apps_install_finish (apps, result, error);
}

static gboolean
refresh (CbApps *apps, const char *address, GError **error)
{
  Wait wait = { 0 };
  g_autoptr(GAsyncResult) result = NULL;

  cb_apps_refresh_async (apps, address, NULL, on_done, &wait);
  result = wait_for (&wait);
  return cb_apps_refresh_finish (apps, result, error);
}

/* The app's entry in `apps list`. */
static JsonObject *
find_app (JsonNode *list, const char *system)
{
  JsonArray *apps = json_object_get_array_member (json_node_get_object (list), "apps");

  for (guint i = 0; i < json_array_get_length (apps); i++)
    {
      JsonObject *app = json_array_get_object_element (apps, i);
      if (g_strcmp0 (json_object_get_string_member (app, "system"), system) == 0)
        return app;
    }
  return NULL;
}

static char *
installed_version (CbApps *apps, const char *system)
{
  g_autoptr(JsonNode) list = cb_apps_list (apps);
  JsonObject *app = find_app (list, system);
  JsonNode *installed = app != NULL ? json_object_get_member (app, "installed") : NULL;

  if (installed == NULL || JSON_NODE_HOLDS_NULL (installed))
    return NULL;
  return g_strdup (json_object_get_string_member (json_node_get_object (installed), "version"));
}

static void
add_and_install (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) added = add_repo (f->apps, f->url, &error);
  g_autoptr(JsonNode) done = NULL;

  g_assert_no_error (error);
  done = install (f->apps, "notes", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (done), "version"), ==,
                   "1.0.0");
}

/* Everything that describes the installed state, minus the repositories'
 * last error and refresh time (which a failed refresh does record). */
static void
list_files (GString *out, const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child = g_build_filename (path, names->pdata[i], NULL);
      GStatBuf st;

      g_stat (child, &st);
      g_string_append_printf (out, "%s %ld\n", child, S_ISDIR (st.st_mode) ? 0L : (long) st.st_size);
      if (S_ISDIR (st.st_mode))
        list_files (out, child);
    }
}

static char *
snapshot (Fixture *f)
{
  g_autoptr(JsonNode) list = cb_apps_list (f->apps);
  JsonArray *repos = json_object_get_array_member (json_node_get_object (list), "repositories");
  g_autofree char *code = g_build_filename (f->data_dir, "apps", "code", NULL);
  GString *out = g_string_new (NULL);
  g_autofree char *text = NULL;

  for (guint i = 0; i < json_array_get_length (repos); i++)
    {
      JsonObject *repo = json_array_get_object_element (repos, i);
      json_object_remove_member (repo, "error");
      json_object_remove_member (repo, "refreshed");
    }
  text = cb_json_to_text (list);
  g_string_append (out, text);
  g_string_append_c (out, '\n');
  list_files (out, code);
  return g_string_free (out, FALSE);
}

static void
assert_unchanged (Fixture *f, const char *before)
{
  g_autofree char *after = snapshot (f);

  g_assert_cmpstr (after, ==, before);
}

static const char *
repo_error (CbApps *apps, guint i)
{
  static char *kept;
  g_autoptr(JsonNode) list = cb_apps_list (apps);
  JsonArray *repos = json_object_get_array_member (json_node_get_object (list), "repositories");
  JsonObject *repo = json_array_get_object_element (repos, i);

  g_free (kept);
  kept = g_strdup (json_object_get_string_member_with_default (repo, "error", NULL));
  return kept;
}

static GBytes *
read_bytes (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static void
write_bytes (const char *dir, const char *name, GBytes *bytes)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      (gssize) g_bytes_get_size (bytes), NULL));
}

/* The repository's current index document, to craft variants of. */
static CbRepoIndex *
current_index (Fixture *f)
{
  g_autoptr(GBytes) bytes = read_bytes (f->repo_dir, "index.json");
  g_autoptr(CbRepoEnvelope) env = cb_repo_envelope_parse (g_bytes_get_data (bytes, NULL),
                                                          g_bytes_get_size (bytes),
                                                          CB_REPO_MAX_INDEX, NULL);
  return cb_repo_index_parse (env->signed_text, NULL);
}

static void
sign_index_with (Fixture *f, CbRepoIndex *index, const char * const *keys)
{
  g_autofree char *text = cb_repo_index_to_json (index);
  g_autoptr(GArray) secrets = g_array_new (FALSE, FALSE, 64);
  g_autoptr(GBytes) env = NULL;

  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(CbIdentity) id = cb_identity_load (keys[i], NULL);
      g_assert_nonnull (id);
      g_array_append_vals (secrets, id->secret_key, 1);
    }
  env = cb_repo_envelope_sign ("index", text, (const guint8 (*)[64]) secrets->data, secrets->len);
  write_bytes (f->repo_dir, "index.json", env);
}

/* ---- the happy paths ---- */

static void
test_install_flow (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) added = add_repo (f->apps, f->url, &error);
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonNode) done = NULL;
  g_autofree char *v = NULL;
  g_autofree char *fingerprint = NULL;
  JsonObject *app;
  CbPluginModule *module;

  g_assert_no_error (error);
  /* The publisher's fingerprint, pinned on first add, shown to people. */
  {
    g_autoptr(GBytes) root = read_bytes (f->repo_dir, "root.json");
    g_autoptr(CbRepoRoot) parsed = cb_repo_verify_root (g_bytes_get_data (root, NULL),
                                                        g_bytes_get_size (root), NULL, now (),
                                                        TRUE, &error);
    fingerprint = cb_repo_root_fingerprint (parsed);
  }
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (added), "fingerprint"), ==,
                   fingerprint);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (added), "packages"), ==, 1);
  g_clear_pointer (&added, json_node_unref);
  added = add_repo (f->apps, f->url, &error);
  g_assert_error (error, CB_APPS_ERROR, CB_APPS_ERROR_EXISTS);
  g_clear_error (&error);

  list = cb_apps_list (f->apps);
  app = find_app (list, NOTES);
  g_assert_nonnull (app);
  g_assert_cmpstr (json_object_get_string_member (app, "state"), ==, "available");
  g_assert_cmpstr (json_object_get_string_member (app, "fingerprint"), ==, fingerprint);
  g_assert_cmpstr (json_object_get_string_member (app, "publisher"), ==, "Test Apps");
  g_assert_cmpstr (json_object_get_string_member (app, "title"), ==, "Notes");
  g_clear_pointer (&list, json_node_unref);

  /* Install by short name: downloaded, verified, loaded. */
  done = install (f->apps, "notes", FALSE, &error);
  g_assert_no_error (error);
  g_clear_pointer (&done, json_node_unref);
  module = cb_apps_lookup_module (f->apps, NOTES);
  g_assert_nonnull (module);
  g_assert_cmpstr (cb_plugin_module_get_version (module), ==, "1.0.0");
  g_assert_nonnull (cb_apps_get_context (f->apps, NOTES));
  list = cb_apps_list (f->apps);
  app = find_app (list, NOTES);
  g_assert_cmpstr (json_object_get_string_member (app, "state"), ==, "installed");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (app, "verbs")), ==, 2);
  g_clear_pointer (&list, json_node_unref);
  done = install (f->apps, NOTES, FALSE, &error);
  g_assert_error (error, CB_APPS_ERROR, CB_APPS_ERROR_EXISTS);
  g_clear_error (&error);
  done = install (f->apps, NOTES, TRUE, &error);
  g_assert_error (error, CB_APPS_ERROR, CB_APPS_ERROR_UP_TO_DATE);
  g_clear_error (&error);

  /* A new release: the catalog offers the update, update installs it. */
  publish (f->repo_dir, f->key, "notes-1.1.0.cbplugin");
  g_assert_true (refresh (f->apps, NULL, &error));
  list = cb_apps_list (f->apps);
  g_assert_cmpstr (json_object_get_string_member (find_app (list, NOTES), "state"), ==, "update");
  g_clear_pointer (&list, json_node_unref);
  done = install (f->apps, NULL, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_node_get_object (done), "updated")), ==, 1);
  g_clear_pointer (&done, json_node_unref);
  v = installed_version (f->apps, NOTES);
  g_assert_cmpstr (v, ==, "1.1.0");
  g_clear_pointer (&v, g_free);
  g_assert_cmpstr (cb_plugin_module_get_version (cb_apps_lookup_module (f->apps, NOTES)), ==,
                   "1.1.0");

  /* Roll back to the previous version, kept on disk. */
  done = cb_apps_rollback (f->apps, "notes", &error);
  g_assert_no_error (error);
  g_clear_pointer (&done, json_node_unref);
  g_assert_cmpstr (cb_plugin_module_get_version (cb_apps_lookup_module (f->apps, NOTES)), ==,
                   "1.0.0");
  list = cb_apps_list (f->apps);
  app = find_app (list, NOTES);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (app, "installed"),
                                                  "previous"), ==, "1.1.0");
  g_clear_pointer (&list, json_node_unref);

  /* Disable and enable: unloaded and loaded, files kept. */
  g_assert_true (cb_apps_set_enabled (f->apps, "notes", FALSE, &error));
  g_assert_null (cb_apps_lookup_module (f->apps, NOTES));
  list = cb_apps_list (f->apps);
  g_assert_cmpstr (json_object_get_string_member (find_app (list, NOTES), "state"), ==, "disabled");
  g_clear_pointer (&list, json_node_unref);
  g_assert_true (cb_apps_set_enabled (f->apps, "notes", TRUE, &error));
  g_assert_nonnull (cb_apps_lookup_module (f->apps, NOTES));

  /* A restart loads what is installed. */
  g_clear_object (&f->apps);
  f->apps = new_apps (f);
  g_assert_null (cb_apps_lookup_module (f->apps, NOTES));
  cb_apps_start (f->apps);
  g_assert_cmpstr (cb_plugin_module_get_version (cb_apps_lookup_module (f->apps, NOTES)), ==,
                   "1.0.0");

  /* Remove: unloaded, code deleted; the app is offered again. */
  g_assert_true (cb_apps_remove (f->apps, "notes", FALSE, &error));
  g_assert_no_error (error);
  g_assert_null (cb_apps_lookup_module (f->apps, NOTES));
  {
    g_autofree char *code = g_build_filename (f->data_dir, "apps", "code",
                                              "test.cloudbevy.org+notes", NULL);
    g_assert_false (g_file_test (code, G_FILE_TEST_EXISTS));
  }
  list = cb_apps_list (f->apps);
  g_assert_cmpstr (json_object_get_string_member (find_app (list, NOTES), "state"), ==, "available");
  g_assert_false (cb_apps_remove (f->apps, "notes", FALSE, &error));
  g_assert_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND);
}

static void
test_file_repo (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (f->repo_dir);
  g_autofree char *uri = g_file_get_uri (file);
  g_autoptr(JsonNode) added = add_repo (f->apps, f->repo_dir, &error);
  g_autoptr(JsonNode) done = NULL;
  g_autoptr(JsonNode) list = NULL;
  JsonArray *repos;

  g_assert_no_error (error);
  list = cb_apps_list (f->apps);
  repos = json_object_get_array_member (json_node_get_object (list), "repositories");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (repos, 0), "url"),
                   ==, json_object_get_string_member (json_node_get_object (added), "url"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (json_node_get_object (added), "url"),
                                   uri));
  done = install (f->apps, NOTES, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cb_apps_lookup_module (f->apps, NOTES));
  /* The same directory as file:// is the same repository. */
  g_clear_pointer (&added, json_node_unref);
  added = add_repo (f->apps, uri, &error);
  g_assert_error (error, CB_APPS_ERROR, CB_APPS_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_true (cb_apps_remove_repository (f->apps, uri, &error));
  /* Installed apps stay after their repository goes; they get no updates. */
  g_assert_nonnull (cb_apps_lookup_module (f->apps, NOTES));
  g_clear_pointer (&done, json_node_unref);
  done = install (f->apps, NOTES, TRUE, &error);
  g_assert_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND);
}

static void
test_github_shorthand (Fixture *f, gconstpointer data)
{
  const struct { const char *in, *base; } good[] = {
    { "github.com/CloudBevy/apps", "https://cloudbevy.github.io/apps/" },
    { "github.com/cloudbevy/apps/", "https://cloudbevy.github.io/apps/" },
    { "github.com/cloudbevy", "https://cloudbevy.github.io/" },
    { "github.com/event-games/repo.v2", "https://event-games.github.io/repo.v2/" },
    { "https://example.org/apps", "https://example.org/apps/" },
    { "http://127.0.0.1:8080/x/", "http://127.0.0.1:8080/x/" },
    { "file:///srv/apps", "file:///srv/apps/" },
    { "/srv/apps", "file:///srv/apps/" },
  };
  const char *bad[] = { "github.com/", "github.com/a/b/c", "github.com/-x", "ftp://x/y",
                        "http://example.org/apps", "https://user@example.org/", "apps", "" };
  g_autoptr(GError) error = NULL;
  g_autofree char *user_dir = g_build_filename (f->root, "user-site", NULL);
  g_autoptr(JsonNode) added = NULL;
  g_autoptr(JsonNode) done = NULL;
  const char *keys[] = { f->key, NULL };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *base = cb_repo_url_resolve (good[i].in, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (base, ==, good[i].base);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *base = cb_repo_url_resolve (bad[i], &error);
      g_assert_null (base);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }

  /* A project site: github.com/ORG/REPO is https://ORG.github.io/REPO/. */
  cb_repo_server_add_pages (f->server, "CloudBevy", "apps", f->repo_dir);
  added = add_repo (f->apps, "github.com/CloudBevy/apps", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (added), "url"), ==,
                   "github.com/cloudbevy/apps");
  g_assert_cmpuint (cb_repo_server_hits (f->server, "/apps/root.json"), ==, 2);
  done = install (f->apps, NOTES, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cb_apps_lookup_module (f->apps, NOTES));

  /* A user site: github.com/ORG is https://ORG.github.io/. */
  g_assert_true (cb_repo_publish_init (user_dir, "User Site", keys, 1, now (), 365 * DAY, 30 * DAY,
                                       &error));
  cb_repo_server_add_pages (f->server, "someone", NULL, user_dir);
  g_clear_pointer (&added, json_node_unref);
  added = add_repo (f->apps, "github.com/someone", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (added), "name"), ==,
                   "User Site");
  /* An organisation without a Pages site: GitHub's 404. */
  g_clear_pointer (&added, json_node_unref);
  added = add_repo (f->apps, "github.com/nobody/apps", &error);
  g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "not a Cloud Bevy repository"));
}

/* ---- attacks: each fails closed, state unchanged ---- */

static void
expect_update_fails (Fixture *f, const char *before, GQuark domain, int code, const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) done = install (f->apps, NOTES, TRUE, &error);

  g_assert_null (done);
  g_assert_error (error, domain, code);
  g_test_message ("refused: %s", error->message);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("\"%s\" does not say \"%s\"", error->message, needle);
  assert_unchanged (f, before);
  g_assert_cmpstr (cb_plugin_module_get_version (cb_apps_lookup_module (f->apps, NOTES)), ==,
                   "1.0.0");
}

static void
test_attack_hash_mismatch (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *name = cb_repo_package_file_name (NOTES, "1.1.0", CB_HOST_ARCH, FALSE);
  g_autoptr(GBytes) good = NULL;
  g_autoptr(GByteArray) evil = NULL;

  add_and_install (f);
  publish (f->repo_dir, f->key, "notes-1.1.0.cbplugin");
  before = snapshot (f);
  /* Same size, one byte different: an arbitrary package. */
  good = read_bytes (f->repo_dir, name);
  evil = g_byte_array_sized_new (g_bytes_get_size (good));
  g_byte_array_append (evil, g_bytes_get_data (good, NULL), g_bytes_get_size (good));
  evil->data[evil->len / 2] ^= 0x5a;
  {
    g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes (g_steal_pointer (&evil));
    write_bytes (f->repo_dir, name, bytes);
  }
  /* The refresh before the update sees version 1.1.0: that much changes. */
  g_assert_true (refresh (f->apps, NULL, NULL));
  g_free (before);
  before = snapshot (f);
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_HASH_MISMATCH, "SHA-256");
  /* Shorter than promised. */
  {
    g_autoptr(GBytes) half = g_bytes_new_from_bytes (good, 0, g_bytes_get_size (good) / 2);
    write_bytes (f->repo_dir, name, half);
  }
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_HASH_MISMATCH, "ended after");
}

static void
test_attack_rollback_index (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autoptr(GBytes) old_index = NULL;
  g_autoptr(GError) error = NULL;

  add_and_install (f);
  old_index = read_bytes (f->repo_dir, "index.json");
  publish (f->repo_dir, f->key, "notes-1.1.0.cbplugin");
  g_assert_true (refresh (f->apps, NULL, &error));
  before = snapshot (f);
  /* A mirror serves the older, validly signed index again. */
  write_bytes (f->repo_dir, "index.json", old_index);
  g_assert_false (refresh (f->apps, f->url, &error));
  g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK);
  g_assert_nonnull (strstr (repo_error (f->apps, 0), "rollback"));
  g_clear_error (&error);
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK, "older than version");
}

static void
test_attack_rollback_package (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autoptr(CbRepoIndex) index = NULL;
  g_autoptr(GError) error = NULL;
  const char *keys[] = { f->key, NULL };
  CbRepoPackage *package;

  add_and_install (f);
  publish (f->repo_dir, f->key, "notes-1.1.0.cbplugin");
  g_assert_true (refresh (f->apps, NULL, &error));
  before = snapshot (f);
  /* A newer index (signed) that lists the older 1.0.0 again. */
  index = current_index (f);
  index->version++;
  package = index->packages->pdata[0];
  g_free (package->version);
  package->version = g_strdup ("1.0.0");
  sign_index_with (f, index, keys);
  g_assert_false (refresh (f->apps, f->url, &error));
  g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK);
  g_assert_nonnull (strstr (error->message, "older than version 1.1.0 seen before"));
  g_clear_error (&error);
  assert_unchanged (f, before);
}

static void
test_attack_freeze (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autoptr(GError) error = NULL;
  const char *keys[] = { f->key, NULL };
  g_autofree char *manifest = plugin_file ("notes-1.1.0.cbplugin");

  add_and_install (f);
  before = snapshot (f);
  /* An index signed long ago, expired yesterday: a frozen mirror. */
  g_assert_true (cb_repo_publish_add (f->repo_dir, manifest, CB_HOST_ARCH, TRUE, NULL, &error));
  g_assert_true (cb_repo_publish_sign (f->repo_dir, keys, 0, now () - 3 * DAY, 2 * DAY, NULL,
                                       &error));
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_EXPIRED, "expired on");
  g_assert_nonnull (strstr (repo_error (f->apps, 0), "has not been re-signed"));
}

static void
test_attack_mix_and_match (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CbRepoIndex) index = NULL;
  g_autoptr(GBytes) root = NULL;
  const char *keys[] = { f->key, NULL };

  add_and_install (f);
  /* The publisher rotates (same key, new root version 2); the client
   * follows. */
  g_assert_true (cb_repo_publish_rotate (f->repo_dir, keys, keys, 1, now (), 365 * DAY, &error));
  g_assert_true (cb_repo_publish_sign (f->repo_dir, keys, 0, now (), 30 * DAY, NULL, &error));
  g_assert_true (refresh (f->apps, NULL, &error));
  before = snapshot (f);
  /* An index made under root version 1, newer by number: never existed
   * with root version 2. */
  index = current_index (f);
  index->version += 5;
  index->root_version = 1;
  sign_index_with (f, index, keys);
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                       "made under root version 1");
  /* The root's file served where the index belongs. */
  root = read_bytes (f->repo_dir, "root.json");
  write_bytes (f->repo_dir, "index.json", root);
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                       "where the repository's index belongs");
}

static void
test_attack_endless (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *name = cb_repo_package_file_name (NOTES, "1.1.0", CB_HOST_ARCH, FALSE);
  g_autofree char *path = g_strconcat ("/r/", name, NULL);
  g_autoptr(GError) error = NULL;

  add_and_install (f);
  publish (f->repo_dir, f->key, "notes-1.1.0.cbplugin");
  g_assert_true (refresh (f->apps, NULL, &error));
  before = snapshot (f);
  /* The package never ends: cut off at the size the index lists. */
  cb_repo_server_set_endless (f->server, path);
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_TOO_LARGE,
                       "the signed index lists for it");
  /* Nor does the index: cut off at the metadata cap. */
  cb_repo_server_set_endless (f->server, "/r/index.json");
  g_assert_false (refresh (f->apps, f->url, &error));
  g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_TOO_LARGE);
  g_clear_error (&error);
  assert_unchanged (f, before);
}

static void
test_attack_slow (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *name = cb_repo_package_file_name (NOTES, "1.1.0", CB_HOST_ARCH, FALSE);
  g_autofree char *path = g_strconcat ("/r/", name, NULL);
  g_autoptr(GError) error = NULL;
  gint64 start;

  add_and_install (f);
  publish (f->repo_dir, f->key, "notes-1.1.0.cbplugin");
  g_assert_true (refresh (f->apps, NULL, &error));
  before = snapshot (f);
  /* A byte every 20 ms never fails a per-read timeout; the deadline for
   * the whole file stops it. */
  cb_repo_server_set_drip (f->server, path, 20);
  cb_repo_fetcher_set_deadlines (cb_apps_get_fetcher (f->apps), 2000, 800, 10 * 1024 * 1024);
  start = g_get_monotonic_time ();
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_TIMED_OUT, "did not arrive within");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  cb_repo_server_set_drip (f->server, "/r/root.json", 20);
  g_assert_false (refresh (f->apps, f->url, &error));
  g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_TIMED_OUT);
}

static void
test_attack_unknown_key (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *stranger = key_path (f, "stranger.key");
  g_autoptr(CbIdentity) id = NULL;
  g_autoptr(CbRepoIndex) index = NULL;
  const char *keys[] = { stranger, NULL };

  add_and_install (f);
  before = snapshot (f);
  g_assert_true (cb_identity_write_new (stranger, &id, NULL));
  index = current_index (f);
  index->version++;
  sign_index_with (f, index, keys);
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_UNKNOWN_KEY,
                       "which is not one of the keys of root version 1");
}

static void
test_attack_revoked_key (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *b = key_path (f, "b.key");
  g_autoptr(GError) error = NULL;
  g_autoptr(CbRepoIndex) index = NULL;
  const char *old_keys[] = { f->key, NULL };
  const char *new_keys[] = { b, NULL };

  add_and_install (f);
  /* The publisher replaces key A with key B, properly. */
  g_assert_true (cb_repo_publish_rotate (f->repo_dir, old_keys, new_keys, 1, now (), 365 * DAY,
                                         &error));
  g_assert_no_error (error);
  g_assert_true (cb_repo_publish_sign (f->repo_dir, new_keys, 0, now (), 30 * DAY, NULL, &error));
  g_assert_true (refresh (f->apps, NULL, &error));
  g_assert_no_error (error);
  before = snapshot (f);
  /* Whoever still has A signs a newer index with it alone. */
  index = current_index (f);
  index->version++;
  sign_index_with (f, index, old_keys);
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_REVOKED_KEY, "revoked");
}

/* Root v1 with keys A, B, C, threshold 2. */
static void
init_three_key_repo (Fixture *f, char **a, char **b, char **c)
{
  g_autoptr(GError) error = NULL;
  const char *keys[4];

  *a = key_path (f, "3a.key");
  *b = key_path (f, "3b.key");
  *c = key_path (f, "3c.key");
  keys[0] = *a;
  keys[1] = *b;
  keys[2] = *c;
  keys[3] = NULL;
  remove_all (f->repo_dir);
  g_assert_true (cb_repo_publish_init (f->repo_dir, "Three Keys", keys, 2, now (), 365 * DAY,
                                       30 * DAY, &error));
  g_assert_no_error (error);
  {
    g_autofree char *manifest = plugin_file ("notes.cbplugin");
    g_assert_true (cb_repo_publish_add (f->repo_dir, manifest, CB_HOST_ARCH, TRUE, NULL, &error));
    g_assert_true (cb_repo_publish_sign (f->repo_dir, keys, 0, now (), 30 * DAY, NULL, &error));
  }
}

static void
test_attack_rotation_below_threshold (Fixture *f, gconstpointer data)
{
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  g_autofree char *d = NULL;
  g_autofree char *before = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CbRepoRoot) next = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) envelope = NULL;
  guint8 secrets[2][64];

  init_three_key_repo (f, &a, &b, &c);
  add_and_install (f);
  before = snapshot (f);
  d = key_path (f, "3d.key");
  /* The publisher's tool refuses to write it ... */
  {
    const char *one_old[] = { a, NULL };
    const char *new_keys[] = { d, NULL };

    g_assert_false (cb_repo_publish_rotate (f->repo_dir, one_old, new_keys, 1, now (), 365 * DAY,
                                            &error));
    g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_THRESHOLD);
    g_clear_error (&error);
  }
  /* ... so an attacker holding only A writes it by hand. */
  {
    g_autoptr(CbIdentity) ka = cb_identity_load (a, NULL);
    g_autoptr(CbIdentity) kd = cb_identity_load (d, NULL);

    next = cb_repo_root_new ("Three Keys");
    next->version = 2;
    next->expires = now () + 365 * DAY;
    g_array_append_vals (next->keys, kd->public_key, 1);
    memcpy (secrets[0], ka->secret_key, 64);
    memcpy (secrets[1], kd->secret_key, 64);
  }
  text = cb_repo_root_to_json (next);
  envelope = cb_repo_envelope_sign ("root", text, (const guint8 (*)[64]) secrets, 2);
  write_bytes (f->repo_dir, "2.root.json", envelope);
  write_bytes (f->repo_dir, "root.json", envelope);
  {
    const char *keys[] = { d, NULL };
    g_autoptr(CbRepoIndex) index = current_index (f);

    index->version++;
    index->root_version = 2;
    sign_index_with (f, index, keys);
  }
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_THRESHOLD,
                       "signed by 1 of the 2 keys it needs from root version 1");
  sodium_memzero (secrets, sizeof secrets);
}

static void
test_rotation_at_threshold (Fixture *f, gconstpointer data)
{
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  g_autofree char *d = key_path (f, "3d.key");
  g_autofree char *fingerprint_before = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonNode) done = NULL;
  const char *two_old[] = { a, b, NULL };
  const char *new_keys[] = { d, NULL };
  JsonObject *repo;

  init_three_key_repo (f, &a, &b, &c);
  two_old[0] = a;
  two_old[1] = b;
  add_and_install (f);
  list = cb_apps_list (f->apps);
  fingerprint_before = g_strdup (json_object_get_string_member (json_array_get_object_element (
    json_object_get_array_member (json_node_get_object (list), "repositories"), 0), "fingerprint"));
  g_clear_pointer (&list, json_node_unref);
  /* Two of the three old keys: the threshold. */
  g_assert_true (cb_repo_publish_rotate (f->repo_dir, two_old, new_keys, 1, now (), 365 * DAY,
                                         &error));
  g_assert_no_error (error);
  g_assert_true (cb_repo_publish_sign (f->repo_dir, new_keys, 0, now (), 30 * DAY, NULL, &error));
  {
    g_autofree char *manifest = plugin_file ("notes-1.1.0.cbplugin");
    g_assert_true (cb_repo_publish_add (f->repo_dir, manifest, CB_HOST_ARCH, TRUE, NULL, &error));
    g_assert_true (cb_repo_publish_sign (f->repo_dir, new_keys, 0, now (), 30 * DAY, NULL, &error));
  }
  done = install (f->apps, NOTES, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cb_plugin_module_get_version (cb_apps_lookup_module (f->apps, NOTES)), ==,
                   "1.1.0");
  list = cb_apps_list (f->apps);
  repo = json_array_get_object_element (json_object_get_array_member (json_node_get_object (list),
                                                                      "repositories"), 0);
  g_assert_cmpint (json_object_get_int_member (repo, "root_version"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (repo, "fingerprint"), !=, fingerprint_before);
}

static void
test_key_change_blocks (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *z = key_path (f, "z.key");
  g_autoptr(GError) error = NULL;
  const char *keys[] = { z, NULL };

  add_and_install (f);
  before = snapshot (f);
  /* The repository is replaced by one with another key, no rotation. */
  remove_all (f->repo_dir);
  g_assert_true (cb_repo_publish_init (f->repo_dir, "Test Apps", keys, 1, now (), 365 * DAY,
                                       30 * DAY, &error));
  publish (f->repo_dir, z, "notes-1.1.0.cbplugin");
  expect_update_fails (f, before, CB_REPO_ERROR, CB_REPO_ERROR_KEY_CHANGED,
                       "remove the repository and add it again");
  g_assert_nonnull (strstr (repo_error (f->apps, 0), "updates are blocked"));
}

static void
test_load_failure (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *manifest = plugin_file ("broken.cbplugin");
  g_autoptr(JsonNode) added = NULL;
  g_autoptr(JsonNode) done = NULL;
  g_autofree char *before = NULL;
  const char *keys[] = { f->key, NULL };

  g_assert_true (cb_repo_publish_add (f->repo_dir, manifest, CB_HOST_ARCH, FALSE, NULL, &error));
  g_assert_true (cb_repo_publish_sign (f->repo_dir, keys, 0, now (), 30 * DAY, NULL, &error));
  added = add_repo (f->apps, f->url, &error);
  g_assert_no_error (error);
  before = snapshot (f);
  done = install (f->apps, "broken", FALSE, &error);
  g_assert_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_INIT);
  g_assert_nonnull (strstr (error->message, "the frobnicator is missing"));
  g_clear_error (&error);
  assert_unchanged (f, before);
  /* The others still install. */
  done = install (f->apps, "notes", FALSE, &error);
  g_assert_no_error (error);
}

static void
test_tampered_on_disk (Fixture *f, gconstpointer data)
{
  g_autofree char *core = g_build_filename (f->data_dir, "apps", "code", "test.cloudbevy.org+notes",
                                            "1.0.0", "core.so", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) list = NULL;
  JsonObject *app;
  FILE *file;

  add_and_install (f);
  g_clear_object (&f->apps);
  /* Someone changes the installed code: it is not loaded again. */
  file = fopen (core, "r+b");
  g_assert_nonnull (file);
  fseek (file, 100, SEEK_SET);
  fputc ('X', file);
  fclose (file);
  f->apps = new_apps (f);
  g_test_expect_message ("cb-apps", G_LOG_LEVEL_WARNING, "*changed on disk*");
  cb_apps_start (f->apps);
  g_test_assert_expected_messages ();
  g_assert_null (cb_apps_lookup_module (f->apps, NOTES));
  list = cb_apps_list (f->apps);
  app = find_app (list, NOTES);
  g_assert_cmpstr (json_object_get_string_member (app, "state"), ==, "failed");
  g_assert_nonnull (strstr (json_object_get_string_member (app, "error"), "changed on disk"));
}

static void
test_corrupt_database (Fixture *f, gconstpointer data)
{
  g_autofree char *db = g_build_filename (f->data_dir, "apps", "apps.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(JsonNode) added = NULL;
  g_autofree char *apps_dir = g_build_filename (f->data_dir, "apps", NULL);
  const char *name;
  gboolean aside = FALSE;

  add_and_install (f);
  g_clear_object (&f->apps);
  g_assert_true (g_file_set_contents (db, "this is not a database, it is a sentence about one",
                                      -1, NULL));
  g_test_expect_message ("cb-apps", G_LOG_LEVEL_WARNING, "*damaged*kept as*");
  f->apps = new_apps (f);
  g_test_assert_expected_messages ();
  dir = g_dir_open (apps_dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "apps.db.corrupt-"))
      aside = TRUE;
  g_assert_true (aside);
  /* A fresh start that works. */
  added = add_repo (f->apps, f->url, &error);
  g_assert_no_error (error);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
#define ADD(path, func) \
  g_test_add ("/sdk/apps/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("install-update-rollback-remove", test_install_flow);
  ADD ("file-repository", test_file_repo);
  ADD ("github-shorthand", test_github_shorthand);
  ADD ("attack/hash-mismatch", test_attack_hash_mismatch);
  ADD ("attack/rollback-index", test_attack_rollback_index);
  ADD ("attack/rollback-package", test_attack_rollback_package);
  ADD ("attack/freeze", test_attack_freeze);
  ADD ("attack/mix-and-match", test_attack_mix_and_match);
  ADD ("attack/endless-data", test_attack_endless);
  ADD ("attack/slow-retrieval", test_attack_slow);
  ADD ("attack/unknown-key", test_attack_unknown_key);
  ADD ("attack/revoked-key", test_attack_revoked_key);
  ADD ("attack/rotation-below-threshold", test_attack_rotation_below_threshold);
  ADD ("rotation-at-threshold", test_rotation_at_threshold);
  ADD ("attack/key-change", test_key_change_blocks);
  ADD ("load-failure", test_load_failure);
  ADD ("tampered-on-disk", test_tampered_on_disk);
  ADD ("corrupt-database", test_corrupt_database);
  return g_test_run ();
}
