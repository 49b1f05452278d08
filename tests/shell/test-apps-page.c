/* test-apps-page.c: cloud:apps, cloudapp:// and their bridges, in a real
 * browser window under Xvfb
 *
 * The profile's node lists the build's offline default repository on
 * first start; a second repository is served over HTTPS by a local
 * libsoup server.  The catalog installs (with progress), opens, updates,
 * rolls back and removes apps; the guestbook's web UI signs its guestbook
 * through the bridge; the notes app opens its native UI.  Web pages over
 * http and https see none of it.  Screenshots land in test-artifacts. */
#include "cb-config.h"
#include "cb-application.h"
#include "cb-cloud-init.h"
#include "cb-cloudapp-scheme.h"
#include "cb-node-apps.h"
#include "cb-repo-publish.h"
#include "cb-repo-server.h"
#include "cb-test-server.h"
#include "cb-test-ui.h"

#define DAY (24 * 60 * 60)
#define GUESTBOOK "github.com/cloudbevy/guestbook"
#define NOTES "test.cloudbevy.org/notes"

static CbApplication *app;
static CbTestServer *web;          /* plain http pages */
static CbTestServer *web_tls;      /* https pages */
static CbRepoServer *repos;        /* the second repository */
static char *work_dir;
static char *repo_dir;
static char *repo_key;
static char *repo_url;
static char *repo_fingerprint;

/* ---- helpers ---- */

static gboolean
node_started (gpointer data)
{
  return cb_application_get_node (app) != NULL;
}

static CbApps *
apps (void)
{
  cb_test_wait_until (node_started, NULL, "the profile's node to start");
  return cb_node_get_apps (cb_application_get_node (app));
}

typedef struct {
  gboolean done;
  char    *result;
  GError  *error;
} Js;

static void
js_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Js *js = data;
  g_autoptr(JSCValue) value = webkit_web_view_evaluate_javascript_finish (WEBKIT_WEB_VIEW (source),
                                                                          result, &js->error);

  if (value != NULL)
    js->result = jsc_value_to_string (value);
  js->done = TRUE;
}

static gboolean
js_finished (gpointer data)
{
  return ((Js *) data)->done;
}

/* In a script world (NULL: the page's own). */
static char *
run_in (WebKitWebView *view, const char *world, const char *script)
{
  Js js = { 0 };

  webkit_web_view_evaluate_javascript (view, script, -1, world, NULL, NULL, js_done, &js);
  cb_test_wait_until (js_finished, &js, "a script to run");
  g_assert_no_error (js.error);
  return js.result;
}

typedef struct {
  WebKitWebView *view;
  const char    *script;
  const char    *expect;
} JsWait;

static gboolean
js_says (gpointer data)
{
  JsWait *wait = data;
  g_autofree char *got = NULL;

  if (webkit_web_view_is_loading (wait->view))
    return FALSE;
  got = cb_test_run_js (wait->view, wait->script);
  return g_strcmp0 (got, wait->expect) == 0;
}

static void
wait_js (WebKitWebView *view, const char *script, const char *expect, const char *what)
{
  JsWait wait = { view, script, expect };

  cb_test_wait_until (js_says, &wait, what);
}

static void
wait_card (WebKitWebView *view, const char *system, const char *state)
{
  g_autofree char *script = g_strdup_printf (
    "(() => { const c = document.querySelector('[data-system=\"%s\"]'); "
    "return c ? c.dataset.state : 'none'; })()", system);
  g_autofree char *what = g_strdup_printf ("%s to show as %s", system, state);

  wait_js (view, script, state, what);
}

/* Clicks the card's button whose label starts with label. */
static void
click_card (WebKitWebView *view, const char *system, const char *label)
{
  g_autofree char *script = g_strdup_printf (
    "(() => { const c = document.querySelector('[data-system=\"%s\"]'); if (!c) return 'no card';"
    " const b = [...c.querySelectorAll('button')].find(x => x.textContent.startsWith('%s'));"
    " if (!b) return 'no button'; b.click(); return 'clicked'; })()", system, label);
  g_autofree char *result = cb_test_run_js (view, script);

  g_assert_cmpstr (result, ==, "clicked");
}

static void
on_snapshot (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = webkit_web_view_get_snapshot_finish (WEBKIT_WEB_VIEW (source),
                                                                      result, &error);
  const char *path = g_object_get_data (source, "cb-shot-path");

  g_assert_no_error (error);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  *(gboolean *) data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* The window as GTK draws it (NAME.png; GTK's snapshot leaves WebKit's
 * content out) and the page as WebKit renders it (NAME-page.png). */
static void
screenshot (GtkWidget *window, WebKitWebView *view, const char *name)
{
  const char *dir = g_getenv ("CB_TEST_ARTIFACTS");
  g_autofree char *file = g_strconcat (name, "-page.png", NULL);
  g_autofree char *path = g_build_filename (dir != NULL ? dir : ".", file, NULL);
  g_autofree char *shot = cb_test_screenshot (window, name);
  gboolean done = FALSE;

  if (view == NULL)
    return;
  g_object_set_data_full (G_OBJECT (view), "cb-shot-path", g_strdup (path), g_free);
  webkit_web_view_get_snapshot (view, WEBKIT_SNAPSHOT_REGION_VISIBLE, WEBKIT_SNAPSHOT_OPTIONS_NONE,
                                NULL, on_snapshot, &done);
  cb_test_wait_until (flag_set, &done, "the page's snapshot");
  g_test_message ("page snapshot: %s", path);
}

static CbWindow *
new_window (void)
{
  CbWindow *window = cb_application_new_window (app);

  gtk_window_set_default_size (GTK_WINDOW (window), 1180, 860);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static WebKitWebView *
open_catalog (CbWindow *window)
{
  WebKitWebView *view;

  apps ();
  view = WEBKIT_WEB_VIEW (cb_window_open_tab (window, "cloud:apps", TRUE));
  /* Page errors in the test log. */
  webkit_settings_set_enable_write_console_messages_to_stdout (webkit_web_view_get_settings (view),
                                                               TRUE);
  cb_test_wait_for_title (view, "Cloud Apps");
  return view;
}

static void
publish (const char *manifest)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CB_TEST_PLUGINS"), manifest, NULL);
  const char *keys[] = { repo_key, NULL };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_true (cb_repo_publish_add (repo_dir, path, CB_HOST_ARCH, TRUE, NULL, &error));
  g_assert_true (cb_repo_publish_sign (repo_dir, keys, 0, now, 30 * DAY, NULL, &error));
  g_assert_no_error (error);
}

/* ---- the catalog ---- */

static void
test_catalog (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_catalog (window);
  g_autofree char *main_world = NULL;
  g_autofree char *text = NULL;

  /* The build's default repository, listed on first start, offline. */
  wait_card (view, GUESTBOOK, "available");
  text = cb_test_run_js (view, "document.querySelector('[data-system=\"" GUESTBOOK "\"]').innerText");
  g_assert_nonnull (strstr (text, "Guestbook"));
  g_assert_nonnull (strstr (text, "1.0.0"));
  g_assert_nonnull (strstr (text, "Cloud Bevy apps"));
  g_assert_nonnull (strstr (text, "kB"));
  /* The publisher's key fingerprint is on the card. */
  {
    g_autoptr(JsonNode) list = cb_apps_list (apps ());
    JsonArray *repositories = json_object_get_array_member (json_node_get_object (list),
                                                            "repositories");
    const char *fingerprint = json_object_get_string_member (
      json_array_get_object_element (repositories, 0), "fingerprint");

    g_assert_nonnull (strstr (text, fingerprint));
  }
  /* The page's own world has no handle on the catalog. */
  main_world = cb_test_run_js (view, "typeof window.webkit + ' ' + typeof window.cbCatalog");
  g_assert_cmpstr (main_world, ==, "undefined undefined");
  screenshot (GTK_WIDGET (window), view, "apps-catalog");

  /* Install: the card goes busy, then installed with Open. */
  click_card (view, GUESTBOOK, "Install");
  wait_card (view, GUESTBOOK, "installed");
  g_assert_nonnull (cb_apps_lookup_module (apps (), GUESTBOOK));
  gtk_window_destroy (GTK_WINDOW (window));
  cb_test_iterate (50);
}

/* ---- a cloud app's web UI ---- */

static void
test_cloudapp_page (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_catalog (window);
  g_autofree char *uri = cb_cloudapp_uri_for (GUESTBOOK);
  g_autofree char *worlds = NULL;

  wait_card (view, GUESTBOOK, "installed");
  click_card (view, GUESTBOOK, "Open");
  cb_test_wait_for_title (view, "Guestbook");
  g_assert_cmpstr (webkit_web_view_get_uri (view), ==, uri);
  g_assert_cmpstr (uri, ==, "cloudapp://github.com+cloudbevy+guestbook/");

  /* The page has the bridge's API, not the bridge. */
  worlds = cb_test_run_js (view, "typeof window.cloudbevy + ' ' + typeof window.webkit + ' ' + "
                                 "typeof window.cbAppChanged + ' ' + cloudbevy.system");
  g_assert_cmpstr (worlds, ==, "object undefined undefined " GUESTBOOK);
  /* No network from an app page. */
  cb_test_run_js (view, "fetch('http://127.0.0.1:9/').then(() => window.fetched = 'yes',"
                        " () => window.fetched = 'blocked'); 'started'");
  wait_js (view, "String(window.fetched)", "blocked", "a fetch from the app page to be blocked");

  /* Sign the guestbook through its form: the verb, then the query. */
  wait_js (view, "document.getElementById('summary').textContent",
           "0 entries from 0 nodes of the cloud", "the guestbook to read its entries");
  cb_test_run_js (view, "document.getElementById('author').value = 'Ann';"
                        "document.getElementById('message').value = 'Hello from the browser';"
                        "document.getElementById('sign').requestSubmit(); 'ok'");
  wait_js (view, "document.body.dataset.entries", "1", "the entry to appear");
  wait_js (view, "document.querySelector('#entries .who').textContent", "Ann", "Ann's entry");
  /* The rules hold in the UI too: an empty name is refused with a reason. */
  cb_test_run_js (view, "document.getElementById('author').value = '   x\\u0007';"
                        "document.getElementById('message').value = 'bad';"
                        "document.getElementById('sign').requestSubmit(); 'ok'");
  wait_js (view, "document.getElementById('status').className", "error", "the refusal");
  {
    g_autofree char *why = cb_test_run_js (view, "document.getElementById('status').textContent");
    g_assert_nonnull (strstr (why, "control character"));
  }
  cb_test_run_js (view, "document.getElementById('author').value = 'Ann';"
                        "document.getElementById('message').value = '';"
                        "document.getElementById('status').textContent = ''; 'ok'");
  /* Data written elsewhere (the CLI's way, a verb) reaches the open page. */
  {
    g_autoptr(JsonObject) params = json_object_new ();

    json_object_set_string_member (params, "author", "Bo");
    json_object_set_string_member (params, "message", "Signed from outside the page");
    cb_apps_run_verb_async (apps (), GUESTBOOK, "sign", params, NULL, NULL, NULL);
  }
  wait_js (view, "document.body.dataset.entries", "2", "the page to refresh by itself");
  screenshot (GTK_WIDGET (window), view, "cloudapp-guestbook");

  /* Installing the app made the profile's node host its system: cloud:node
   * shows its data, its db-set and that it has no partners yet. */
  {
    WebKitWebView *node = WEBKIT_WEB_VIEW (cb_window_open_tab (window, "cloud:node", TRUE));
    g_autofree char *text = NULL;

    cb_test_wait_for_title (node, "Cloud Node");
    wait_js (node, "(() => { const b = document.querySelector('.system[data-system=\"" GUESTBOOK
                   "\"] dd'); return b ? b.textContent : 'none'; })()",
             "2 from 1 writer", "cloud:node to show the guestbook's entries");
    text = cb_test_run_js (node, "document.querySelector('.system').innerText");
    g_assert_nonnull (strstr (text, GUESTBOOK));
    g_assert_nonnull (strstr (text, "accepted"));
    g_assert_nonnull (strstr (text, "one set holds the whole system (1 member)"));
    g_assert_nonnull (strstr (text, "No replication partners yet."));
    g_assert_null (strstr (text, "hosts no systems"));
    screenshot (GTK_WIDGET (window), node, "cloud-node-hosting");
  }
  gtk_window_destroy (GTK_WINDOW (window));
  cb_test_iterate (50);
}

/* http and https pages see none of the bridges. */
static void
check_web_page_sees_nothing (WebKitWebView *view, const char *uri)
{
  g_autofree char *globals = NULL;
  g_autofree char *world = NULL;
  g_autofree char *catalog_world = NULL;
  g_autofree char *target = cb_cloudapp_uri_for (GUESTBOOK);
  g_autofree char *navigate = g_strdup_printf ("location.href = '%s'; 'ok'", target);

  webkit_web_view_load_uri (view, uri);
  cb_test_wait_for_title (view, "Plain");
  globals = cb_test_run_js (view, "[typeof window.webkit, typeof window.cloudbevy, "
                                  "typeof window.cbCatalog, typeof window.cbAppChanged].join(' ')");
  g_assert_cmpstr (globals, ==, "undefined undefined undefined undefined");
  /* Nor in the private worlds: their scripts are not injected here. */
  world = run_in (view, CB_CLOUDAPP_WORLD, "typeof window.cbAppChanged");
  g_assert_cmpstr (world, ==, "undefined");
  catalog_world = run_in (view, "cloudbevy-catalog", "typeof window.cbCatalog");
  g_assert_cmpstr (catalog_world, ==, "undefined");
  /* The bridge's events go nowhere. */
  cb_test_run_js (view, "window.answers = 0;"
                        "document.addEventListener('cloudbevy:reply', () => window.answers++);"
                        "document.dispatchEvent(new CustomEvent('cloudbevy:request', {detail: "
                        "JSON.stringify({id: 1, op: 'call', name: 'sign', params: {author: 'Eve', "
                        "message: 'from the web'}})})); 'sent'");
  cb_test_iterate (500);
  {
    g_autofree char *answers = cb_test_run_js (view, "String(window.answers)");
    g_assert_cmpstr (answers, ==, "0");
  }
  /* Nor can a web page show an app's page. */
  cb_test_run_js (view, navigate);
  cb_test_iterate (800);
  g_assert_cmpstr (webkit_web_view_get_uri (view), ==, uri);
}

static void
test_web_pages_see_nothing (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = WEBKIT_WEB_VIEW (cb_window_open_tab (window, "about:blank", TRUE));
  g_autofree char *http = cb_test_server_uri (web, "/title/Plain");
  g_autofree char *https = cb_test_server_uri (web_tls, "/title/Plain");
  g_autoptr(JsonNode) rows = NULL;
  g_autoptr(GError) error = NULL;

  apps ();
  check_web_page_sees_nothing (view, http);
  check_web_page_sees_nothing (view, https);
  /* Eve's entry was never made. */
  rows = cb_apps_query (apps (), GUESTBOOK, "entries", NULL, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (json_to_string (rows, FALSE), "Eve"));
  gtk_window_destroy (GTK_WINDOW (window));
  cb_test_iterate (50);
}

/* ---- repositories, progress, native UI, update, roll back, remove ---- */

static void
test_repositories_dialog (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_catalog (window);
  g_autofree char *fill = g_strdup_printf (
    "document.getElementById('repo-address').value = '%s';"
    "document.querySelector('#repos-dialog form').requestSubmit(); 'ok'", repo_url);
  g_autofree char *text = NULL;

  cb_test_run_js (view, "[...document.querySelectorAll('button')].find(b => "
                        "b.textContent.startsWith('Repositories')).click(); 'ok'");
  wait_js (view, "String(document.getElementById('repos-dialog').open)", "true", "the dialog");
  cb_test_run_js (view, fill);
  wait_js (view, "String(document.querySelectorAll('#repos-dialog .repo').length)", "2",
           "the new repository to be listed");
  text = cb_test_run_js (view, "document.getElementById('repos-dialog').innerText");
  g_assert_nonnull (strstr (text, "Test apps"));
  g_assert_nonnull (strstr (text, repo_fingerprint));
  g_assert_nonnull (strstr (text, "is pinned"));
  screenshot (GTK_WIDGET (window), view, "apps-repositories");
  cb_test_run_js (view, "[...document.querySelectorAll('#repos-dialog button')].find(b => "
                        "b.textContent === 'Done').click(); 'ok'");
  wait_card (view, NOTES, "available");
  gtk_window_destroy (GTK_WINDOW (window));
  cb_test_iterate (50);
}

static gboolean
has_progress (gpointer data)
{
  g_autofree char *text = cb_test_run_js (data, "(() => { const p = document.querySelector("
                                                "'[data-system=\"" NOTES "\"] .progress');"
                                                " return p ? p.textContent : ''; })()");
  return g_str_has_prefix (text, "Downloading") && !g_str_has_suffix (text, " 0%");
}

static gboolean
window_of_system (gpointer data)
{
  GList *windows = gtk_window_list_toplevels ();
  gboolean found = FALSE;

  for (GList *l = windows; l != NULL; l = l->next)
    if (g_strcmp0 (gtk_window_get_title (l->data), NOTES) == 0)
      {
        *(GtkWindow **) data = l->data;
        found = TRUE;
      }
  g_list_free (windows);
  return found;
}

static GtkWidget *
find_named (GtkWidget *widget, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
label_is (gpointer data)
{
  return g_strcmp0 (gtk_label_get_text (GTK_LABEL (data)), "1 note") == 0;
}

static void
test_install_progress_native_update (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_catalog (window);
  g_autofree char *core = cb_repo_package_file_name (NOTES, "1.0.0", CB_HOST_ARCH, FALSE);
  g_autofree char *path = g_strconcat ("/r/", core, NULL);
  GtkWindow *native = NULL;
  GtkWidget *entry, *add, *status;

  wait_card (view, NOTES, "available");
  /* A slow server, so the progress bar can be seen moving. */
  cb_repo_server_set_throttle (repos, path, 4096, 40);
  click_card (view, NOTES, "Install");
  cb_test_wait_until (has_progress, view, "the download's progress");
  cb_test_run_js (view, "document.querySelector('[data-system=\"" NOTES "\"]')"
                        ".scrollIntoView({block: 'center'}); 'ok'");
  screenshot (GTK_WIDGET (window), view, "apps-install-progress");
  wait_card (view, NOTES, "installed");

  /* Its native UI opens in a window of its own. */
  click_card (view, NOTES, "Open");
  cb_test_wait_until (window_of_system, &native, "the native UI's window");
  entry = find_named (GTK_WIDGET (native), "notes-entry");
  add = find_named (GTK_WIDGET (native), "notes-add");
  status = find_named (GTK_WIDGET (native), "notes-status");
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), "a note from the native UI");
  g_signal_emit_by_name (add, "clicked");
  cb_test_wait_until (label_is, status, "the note to be listed");
  screenshot (GTK_WIDGET (native), NULL, "apps-native-ui");
  gtk_window_destroy (native);

  /* A new release: Check for Updates offers it, Update installs it. */
  publish ("notes-1.1.0.cbplugin");
  cb_test_run_js (view, "[...document.querySelectorAll('button')].find(b => "
                        "b.textContent === 'Check for Updates').click(); 'ok'");
  wait_card (view, NOTES, "update");
  click_card (view, NOTES, "Update to 1.1.0");
  wait_card (view, NOTES, "installed");
  g_assert_cmpstr (cb_plugin_module_get_version (cb_apps_lookup_module (apps (), NOTES)), ==, "1.1.0");
  screenshot (GTK_WIDGET (window), view, "apps-updated");
  /* Roll back to the version before. */
  click_card (view, NOTES, "Roll back to 1.0.0");
  wait_js (view, "(() => { const c = document.querySelector('[data-system=\"" NOTES "\"]');"
                 " return c && c.innerText.includes('previous 1.1.0') ? 'yes' : 'no'; })()", "yes",
           "the rollback");
  g_assert_cmpstr (cb_plugin_module_get_version (cb_apps_lookup_module (apps (), NOTES)), ==, "1.0.0");
  gtk_window_destroy (GTK_WINDOW (window));
  cb_test_iterate (50);
}

static void
test_disable_remove (void)
{
  CbWindow *window = new_window ();
  WebKitWebView *view = open_catalog (window);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) rows = NULL;

  wait_card (view, GUESTBOOK, "installed");
  click_card (view, GUESTBOOK, "Disable");
  wait_card (view, GUESTBOOK, "disabled");
  g_assert_null (cb_apps_lookup_module (apps (), GUESTBOOK));
  click_card (view, GUESTBOOK, "Enable");
  wait_card (view, GUESTBOOK, "installed");
  /* Remove, keeping the data: reinstalled, the entries are back. */
  click_card (view, GUESTBOOK, "Remove");
  wait_js (view, "String(!!document.getElementById('remove-dialog'))", "true", "the confirmation");
  screenshot (GTK_WIDGET (window), view, "apps-remove-dialog");
  cb_test_run_js (view, "[...document.querySelectorAll('#remove-dialog button')].find(b => "
                        "b.textContent === 'Remove').click(); 'ok'");
  wait_card (view, GUESTBOOK, "available");
  click_card (view, GUESTBOOK, "Install");
  wait_card (view, GUESTBOOK, "installed");
  rows = cb_apps_query (apps (), GUESTBOOK, "count", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (json_to_string (rows, FALSE), "[[2,1]]"));
  g_clear_pointer (&rows, json_node_unref);
  /* Remove with its data. */
  click_card (view, GUESTBOOK, "Remove");
  wait_js (view, "String(!!document.getElementById('remove-dialog'))", "true", "the confirmation");
  cb_test_run_js (view, "document.getElementById('delete-data').checked = true;"
                        "[...document.querySelectorAll('#remove-dialog button')].find(b => "
                        "b.textContent === 'Remove').click(); 'ok'");
  wait_card (view, GUESTBOOK, "available");
  click_card (view, GUESTBOOK, "Install");
  wait_card (view, GUESTBOOK, "installed");
  rows = cb_apps_query (apps (), GUESTBOOK, "count", NULL, &error);
  g_assert_nonnull (strstr (json_to_string (rows, FALSE), "[[0,0]]"));
  gtk_window_destroy (GTK_WINDOW (window));
  cb_test_iterate (50);
}

int
main (int argc, char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  work_dir = g_dir_make_tmp ("cb-test-apps-page-XXXXXX", &error);
  g_assert_no_error (error);
  {
    g_autofree char *dir = g_build_filename (work_dir, "cloud", NULL);
    g_autofree char *list = g_strdup_printf ("file://%s/nodes.json", dir);
    g_autofree char *json = g_build_filename (dir, "cloud.json", NULL);
    const char *lists[2] = { list, NULL };

    g_assert_true (cb_cloud_init (dir, "test-apps", lists, NULL, &error));
    g_setenv ("CB_CLOUD_CONFIG", json, TRUE);
    g_setenv ("CB_NODE_LISTEN", "127.0.0.1:0", TRUE);
  }
  /* The second repository: notes (with its native UI), over HTTPS. */
  {
    g_autofree char *ca = g_build_filename (g_getenv ("CB_TEST_SDK_DATA"), "repo-cert.pem", NULL);
    const char *keys[2] = { NULL, NULL };
    gint64 now = g_get_real_time () / G_USEC_PER_SEC;
    g_autoptr(GBytes) root = NULL;
    g_autoptr(CbRepoRoot) parsed = NULL;
    g_autofree char *root_path = NULL;
    g_autofree char *contents = NULL;
    gsize len = 0;

    g_setenv ("CB_APPS_CA_FILE", ca, TRUE);
    repo_dir = g_build_filename (work_dir, "repo", NULL);
    repo_key = g_build_filename (work_dir, "repo.key", NULL);
    keys[0] = repo_key;
    g_assert_true (cb_repo_publish_init (repo_dir, "Test apps", keys, 1, now, 365 * DAY, 30 * DAY,
                                         &error));
    publish ("notes.cbplugin");
    root_path = g_build_filename (repo_dir, "root.json", NULL);
    g_assert_true (g_file_get_contents (root_path, &contents, &len, NULL));
    parsed = cb_repo_verify_root ((const guint8 *) contents, len, NULL, now, TRUE, &error);
    g_assert_no_error (error);
    repo_fingerprint = cb_repo_root_fingerprint (parsed);
    repos = cb_repo_server_new (&error);
    g_assert_no_error (error);
    repo_url = cb_repo_server_add_dir (repos, "r", repo_dir);
  }

  web = cb_test_server_new (0, &error);
  g_assert_no_error (error);
  {
    g_autofree char *cert = g_test_build_filename (G_TEST_DIST, "data", "test-cert.pem", NULL);
    g_autofree char *key = g_test_build_filename (G_TEST_DIST, "data", "test-key.pem", NULL);

    web_tls = cb_test_server_new_tls (cert, key, &error);
    g_assert_no_error (error);
  }

  app = cb_application_new ("io.github.cloudbevy.CloudBevy.TestApps");
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  /* The https test site's certificate is trusted for 127.0.0.1 only. */
  {
    g_autofree char *cert_path = g_test_build_filename (G_TEST_DIST, "data", "test-cert.pem", NULL);
    g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_file (cert_path, &error);

    g_assert_no_error (error);
    webkit_network_session_allow_tls_certificate_for_host (
      cb_web_context_get_network_session (cb_application_get_web_context (app)), cert, "127.0.0.1");
  }

  g_test_add_func ("/shell/apps/catalog", test_catalog);
  g_test_add_func ("/shell/apps/cloudapp-page", test_cloudapp_page);
  g_test_add_func ("/shell/apps/web-pages-see-nothing", test_web_pages_see_nothing);
  g_test_add_func ("/shell/apps/repositories-dialog", test_repositories_dialog);
  g_test_add_func ("/shell/apps/install-progress-native-update", test_install_progress_native_update);
  g_test_add_func ("/shell/apps/disable-remove", test_disable_remove);
  status = g_test_run ();
  g_clear_object (&app);
  g_clear_pointer (&web, cb_test_server_free);
  g_clear_pointer (&web_tls, cb_test_server_free);
  g_clear_pointer (&repos, cb_repo_server_free);
  return status;
}
