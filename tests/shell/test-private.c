/* test-private.c: private windows write nothing to disk, keep nothing
 * after they close, and look private */
#include "cb-config.h"
#include "cb-test-app.h"

#include <glib/gstdio.h>
#include <string.h>

/* path -> "size mtime" of every file under @root. */
static void
snapshot_dir (const char *root,
              const char *path,
              GHashTable *into)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      GStatBuf st;

      if (g_lstat (child, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode))
        snapshot_dir (root, child, into);
      else
        g_hash_table_insert (into, g_strdup (child + strlen (root)),
                             g_strdup_printf ("%lld %lld.%09ld", (long long) st.st_size,
                                              (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec));
    }
}

/* The profile as it is on disk.  The cloud node's own directory is left
 * out: the node runs whatever windows are open, and keeps its membership
 * there. */
static GHashTable *
snapshot_profile (void)
{
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *roots[] = { g_get_user_data_dir (), g_get_user_cache_dir (), g_get_user_config_dir () };
  g_autofree char *node = g_build_filename (g_get_user_data_dir (), "cloud-bevy", "node", NULL);
  GHashTableIter iter;
  gpointer key;

  for (gsize i = 0; i < G_N_ELEMENTS (roots); i++)
    snapshot_dir ("", roots[i], files);
  g_hash_table_iter_init (&iter, files);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    /* sqlite's -shm files are a memory-mapped index of the WAL, touched by
     * any reader; they hold no data.  Mesa's shader cache is the graphics
     * driver's, for every program drawing with OpenGL, not the browser's
     * to control. */
    if (g_str_has_prefix (key, node) || g_str_has_suffix (key, "-shm") ||
        strstr (key, "/mesa_shader_cache/") != NULL)
      g_hash_table_iter_remove (&iter);
  return files;
}

static gboolean
same (GHashTable *a,
      GHashTable *b)
{
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_strcmp0 (g_hash_table_lookup (b, key), value) != 0)
      return FALSE;
  return TRUE;
}

/* WebKit writes some cache records a while after a page loaded (the
 * list of a page's subresources, for speculative loading, seconds after
 * the last one): wait until the profile has been still for eight seconds. */
static GHashTable *
settled_profile (void)
{
  GHashTable *now = snapshot_profile ();

  for (int tries = 0; tries < 8; tries++)
    {
      GHashTable *later;

      cb_test_iterate (8000);
      later = snapshot_profile ();
      if (same (now, later))
        {
          g_hash_table_unref (later);
          return now;
        }
      g_hash_table_unref (now);
      now = later;
    }
  g_error ("the profile never stopped changing");
}

static void
assert_same (GHashTable *before,
             GHashTable *after)
{
  GHashTableIter iter;
  gpointer key, value;
  guint differences = 0;

  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *was = g_hash_table_lookup (before, key);
      if (g_strcmp0 (was, value) != 0)
        {
          g_test_message ("%s %s: %s -> %s", was ? "changed" : "created", (char *) key,
                          was ? was : "-", (char *) value);
          differences++;
        }
    }
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (after, key))
      {
        g_test_message ("removed %s", (char *) key);
        differences++;
      }
  g_assert_cmpuint (differences, ==, 0);
}

static gboolean
has_private_window (gpointer data)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (cb_test_app)); l; l = l->next)
    if (CB_IS_WINDOW (l->data) && cb_web_context_is_private (cb_window_get_context (l->data)))
      {
        *(CbWindow **) data = l->data;
        return TRUE;
      }
  return FALSE;
}

static gboolean
tab_has_icon (gpointer data)
{
  AdwTabView *tabs = cb_window_get_tab_view (data);

  return adw_tab_page_get_icon (adw_tab_view_get_selected_page (tabs)) != NULL;
}

static gboolean
is_null (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static gboolean
result_set (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static gboolean
in_history (CbWindow   *window,
            const char *url)
{
  CbHistory *history = cb_user_profile_get_history (cb_web_context_get_profile (cb_window_get_context (window)));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(CbHistoryEntry) entry = NULL;

  cb_profile_db_sync (cb_history_get_db (history));
  cb_history_lookup_async (history, url, NULL, store_result, &result);
  cb_test_wait_until (result_set, &result, "a history lookup");
  entry = cb_history_lookup_finish (history, result, NULL);
  return entry != NULL;
}

static void
test_private_window (void)
{
  CbWindow *normal = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (normal, "/title/Normal%20Page");
  CbWindow *private = NULL;
  WebKitWebView *secret;
  g_autoptr(GHashTable) before = NULL, after = NULL;
  g_autofree char *secret_uri = cb_test_server_uri (cb_test_http, "/title/Secret%20Page");
  g_autofree char *cookie_set = cb_test_server_uri (cb_test_http, "/cookie/set");
  g_autofree char *cookie_show = cb_test_server_uri (cb_test_http, "/cookie/show");
  g_autofree char *runtime_listing = NULL;
  CbUserProfile *private_profile;
  CbWebContext *private_context;
  GtkEntry *entry;

  cb_test_wait_for_title (view, "Normal Page");
  /* Everything the normal page does, done: its favicon is in the cache. */
  cb_test_wait_until (tab_has_icon, normal, "the normal page's favicon");
  cb_test_flush_profile (normal);
  before = settled_profile ();
  g_test_message ("%u files in the profile before", g_hash_table_size (before));

  /* Shift+Ctrl+N opens a private window. */
  gtk_widget_grab_focus (GTK_WIDGET (view));
  cb_test_keys (GTK_WINDOW (normal), "ctrl+shift+n", NULL);
  cb_test_wait_until (has_private_window, &private, "a private window");
  private_context = cb_window_get_context (private);
  private_profile = cb_web_context_get_profile (private_context);
  g_assert_true (cb_user_profile_is_private (private_profile));
  /* It looks private. */
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (private), "cb-private"));

  /* Browse: visits, a cookie, a zoom, a remembered permission. */
  secret = WEBKIT_WEB_VIEW (cb_window_get_active_view (private));
  webkit_web_view_load_uri (secret, secret_uri);
  cb_test_wait_for_title (secret, "Secret Page");
  g_assert_true (g_str_has_suffix (gtk_window_get_title (GTK_WINDOW (private)), "— Private"));
  webkit_web_view_load_uri (secret, cookie_set);
  cb_test_wait_for_title (secret, "Cookie Set");
  webkit_web_view_load_uri (secret, cookie_show);
  cb_test_wait_for_title (secret, "Cookie: cbtest=remembered");
  cb_web_view_set_site_zoom (CB_WEB_VIEW (secret), 1.5);
  cb_site_settings_set_permission (cb_user_profile_get_site_settings (private_profile),
                                   "http://private.example", CB_PERMISSION_CAMERA, CB_PERMISSION_ALLOW);
  g_assert_true (in_history (private, secret_uri));
  /* Bookmarks are read, not written. */
  entry = cb_window_get_address_entry (private);
  g_assert_false (gtk_entry_get_icon_activatable (entry, GTK_ENTRY_ICON_SECONDARY));
  g_free (cb_test_screenshot (GTK_WIDGET (private), "private-window"));
  g_object_add_weak_pointer (G_OBJECT (private_context), (gpointer *) &private_context);

  /* Closing the last private window ends the private session. */
  cb_test_close_window (private);
  cb_test_wait_until (is_null, &private_context, "the private session to end");
  cb_test_iterate (1000);
  after = snapshot_profile ();
  assert_same (before, after);

  /* The normal window knows nothing of it (checked after the comparison:
   * these use the normal profile). */
  g_assert_false (in_history (normal, secret_uri));
  webkit_web_view_load_uri (view, cookie_show);
  cb_test_wait_for_title (view, "Cookie: none");
  /* And nothing is left in the runtime directory either. */
  {
    g_autoptr(GDir) dir = g_dir_open (g_get_user_runtime_dir (), 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      g_assert_false (g_str_has_prefix (name, "cloud-bevy-private-"));
  }
  cb_test_close_window (normal);
}

/* Each private session starts empty. */
static void
test_new_private_session (void)
{
  CbWindow *private = cb_application_new_private_window (cb_test_app);
  WebKitWebView *view;

  gtk_window_present (GTK_WINDOW (private));
  view = cb_test_open (private, "/cookie/show");
  /* A fresh private session: the earlier private cookie is gone. */
  cb_test_wait_for_title (view, "Cookie: none");
  cb_test_close_window (private);
}

int
main (int   argc,
      char *argv[])
{
  cb_test_app_init (&argc, &argv, "Private");
  g_test_add_func ("/shell/private/nothing-on-disk", test_private_window);
  g_test_add_func ("/shell/private/new-session", test_new_private_session);
  return cb_test_app_run ();
}
