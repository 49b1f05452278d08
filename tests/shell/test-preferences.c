/* test-preferences.c: the preferences window: home page, search engines
 * (presets and a checked custom address), light/dark/system style, the
 * download folder, the default-browser row, the site permissions list */
#include "cb-config.h"
#include "cb-preferences-window.h"
#include "cb-test-app.h"

#include <string.h>

static CbPreferencesWindow *
open_preferences (CbWindow *window)
{
  cb_test_keys (GTK_WINDOW (window), "ctrl+comma", NULL);
  cb_test_wait_window (CB_TYPE_PREFERENCES_WINDOW);
  return CB_PREFERENCES_WINDOW (cb_test_find_window (CB_TYPE_PREFERENCES_WINDOW));
}

static gboolean
window_titled (gpointer data)
{
  CbWindow *window = data;
  CbWebView *view = cb_window_get_active_view (window);
  const char *want = g_object_get_data (G_OBJECT (window), "want");

  return view && g_strcmp0 (webkit_web_view_get_title (WEBKIT_WEB_VIEW (view)), want) == 0;
}

static void
test_search_and_home (void)
{
  g_autoptr(GSettings) settings = g_settings_new (CB_SCHEMA_ID);
  g_autofree char *before = g_settings_get_string (settings, "search-url");
  CbWindow *window = cb_test_new_window ();
  CbPreferencesWindow *prefs;
  g_autofree char *custom = cb_test_server_uri (cb_test_http, "/search?engine=custom&q=%s");
  g_autofree char *home = cb_test_server_uri (cb_test_http, "/title/Home%20Sweet%20Home");
  g_autofree char *url = NULL;
  CbWindow *fresh;
  guint n;
  const CbSearchEngine *engines = cb_search_engines (&n);

  cb_window_open_tab (window, NULL, TRUE);
  prefs = open_preferences (window);
  g_free (cb_test_screenshot (GTK_WIDGET (prefs), "preferences-general"));

  /* A preset. */
  cb_preferences_window_choose_engine (prefs, "Startpage");
  url = g_settings_get_string (settings, "search-url");
  g_assert_cmpstr (url, ==, "https://www.startpage.com/do/search?query=%s");
  for (guint i = 0; i + 1 < n; i++)
    g_assert_true (cb_search_url_is_valid (engines[i].url));

  /* A custom one: refused until it is an address with %s in it. */
  cb_preferences_window_choose_engine (prefs, "Custom");
  cb_preferences_window_set_custom_search (prefs, "not an address");
  g_assert_false (cb_preferences_window_custom_search_ok (prefs));
  cb_preferences_window_set_custom_search (prefs, "https://example.org/no-placeholder");
  g_assert_false (cb_preferences_window_custom_search_ok (prefs));
  g_clear_pointer (&url, g_free);
  url = g_settings_get_string (settings, "search-url");
  g_assert_cmpstr (url, ==, "https://www.startpage.com/do/search?query=%s");
  cb_preferences_window_set_custom_search (prefs, custom);
  g_assert_true (cb_preferences_window_custom_search_ok (prefs));
  g_clear_pointer (&url, g_free);
  url = g_settings_get_string (settings, "search-url");
  g_assert_cmpstr (url, ==, custom);
  g_free (cb_test_screenshot (GTK_WIDGET (prefs), "preferences-custom-search"));

  /* Searching from the address bar uses it. */
  cb_window_submit_address (window, "platypus facts");
  g_object_set_data (G_OBJECT (window), "want", (gpointer) "Search: platypus facts");
  cb_test_wait_until (window_titled, window, "the search results");
  g_assert_cmpstr (cb_test_server_last_query (cb_test_http, "/search"), ==,
                   "engine=custom&q=platypus%20facts");

  /* The home page opens in new windows. */
  g_settings_set_string (settings, "homepage", home);
  g_action_group_activate_action (G_ACTION_GROUP (cb_test_app), "new-window", NULL);
  fresh = CB_WINDOW (gtk_application_get_windows (GTK_APPLICATION (cb_test_app))->data);
  g_object_set_data (G_OBJECT (fresh), "want", (gpointer) "Home Sweet Home");
  cb_test_wait_until (window_titled, fresh, "the home page");
  g_settings_set_string (settings, "homepage", "");
  g_settings_set_string (settings, "search-url", before);
  gtk_window_destroy (GTK_WINDOW (prefs));
  cb_test_close_window (fresh);
  cb_test_close_window (window);
}

static void
test_style (void)
{
  g_autoptr(GSettings) settings = g_settings_new (CB_SCHEMA_ID);
  AdwStyleManager *style = adw_style_manager_get_default ();
  CbWindow *window = cb_test_new_window ();
  CbPreferencesWindow *prefs;

  cb_test_open (window, "/title/Styled");
  prefs = open_preferences (window);
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_DEFAULT);
  cb_preferences_window_choose_style (prefs, "dark");
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_FORCE_DARK);
  g_assert_true (adw_style_manager_get_dark (style));
  g_free (cb_test_screenshot (GTK_WIDGET (prefs), "preferences-dark"));
  g_free (cb_test_screenshot (GTK_WIDGET (window), "window-dark"));
  cb_preferences_window_choose_style (prefs, "light");
  g_assert_false (adw_style_manager_get_dark (style));
  /* Following the system again: the desktop's choice (light here, no
   * settings portal on the test bus). */
  cb_preferences_window_choose_style (prefs, "default");
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_DEFAULT);
  g_assert_false (adw_style_manager_get_dark (style));
  {
    g_autofree char *saved = g_settings_get_string (settings, "style");
    g_assert_cmpstr (saved, ==, "default");
  }
  gtk_window_destroy (GTK_WINDOW (prefs));
  cb_test_close_window (window);
}

static void
test_downloads_and_default (void)
{
  g_autoptr(GSettings) settings = g_settings_new (CB_SCHEMA_ID);
  CbWindow *window = cb_test_new_window ();
  CbPreferencesWindow *prefs;
  g_autofree char *folder_path = g_build_filename (g_get_tmp_dir (), "chosen-downloads", NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (folder_path);
  g_autofree char *dir = NULL;
  g_autofree char *mimeapps = g_build_filename (g_get_user_config_dir (), "mimeapps.list", NULL);
  g_autofree char *listed = NULL;

  cb_window_open_tab (window, NULL, TRUE);
  prefs = open_preferences (window);
  cb_preferences_window_set_download_folder (prefs, folder);
  dir = g_settings_get_string (settings, "download-dir");
  g_assert_cmpstr (dir, ==, folder_path);
  {
    g_autofree char *used = cb_download_manager_get_folder (cb_web_context_get_downloads (
      cb_window_get_context (window)));
    g_assert_cmpstr (used, ==, folder_path);
  }
  cb_preferences_window_set_download_folder (prefs, NULL);
  g_clear_pointer (&dir, g_free);
  dir = g_settings_get_string (settings, "download-dir");
  g_assert_cmpstr (dir, ==, "");

  /* Not the default browser yet; "Make Default" makes it so. */
  g_test_message ("before: %s", cb_preferences_window_get_default_status (prefs));
  g_assert_nonnull (strstr (cb_preferences_window_get_default_status (prefs), "Another browser"));
  cb_preferences_window_make_default (prefs);
  g_test_message ("after: %s", cb_preferences_window_get_default_status (prefs));
  g_assert_nonnull (strstr (cb_preferences_window_get_default_status (prefs),
                            "Cloud Bevy opens web links"));
  g_assert_true (g_file_get_contents (mimeapps, &listed, NULL, NULL));
  g_assert_nonnull (strstr (listed, "x-scheme-handler/https=" CB_APP_ID ".desktop"));
  g_assert_nonnull (strstr (listed, "x-scheme-handler/http=" CB_APP_ID ".desktop"));
  g_free (cb_test_screenshot (GTK_WIDGET (prefs), "preferences-default-browser"));
  gtk_window_destroy (GTK_WINDOW (prefs));
  cb_test_close_window (window);
}

static void
test_site_permissions (void)
{
  CbWindow *window = cb_test_new_window ();
  CbSiteSettings *sites = cb_user_profile_get_site_settings (
    cb_web_context_get_profile (cb_window_get_context (window)));
  CbPreferencesWindow *prefs;
  g_auto(GStrv) listed = NULL, after = NULL;

  cb_window_open_tab (window, NULL, TRUE);
  cb_site_settings_set_permission (sites, "https://maps.example", CB_PERMISSION_GEOLOCATION,
                                   CB_PERMISSION_ALLOW);
  cb_site_settings_set_permission (sites, "https://spam.example", CB_PERMISSION_NOTIFICATIONS,
                                   CB_PERMISSION_DENY);
  cb_site_settings_set_zoom (sites, "https://maps.example", 1.5);
  prefs = open_preferences (window);
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (prefs), "privacy");
  listed = cb_preferences_window_get_listed_sites (prefs);
  g_assert_cmpstrv (listed, ((const char *[]) { "https://maps.example", "https://spam.example", NULL }));
  g_free (cb_test_screenshot (GTK_WIDGET (prefs), "preferences-privacy"));
  cb_preferences_window_forget_site (prefs, "https://spam.example");
  after = cb_preferences_window_get_listed_sites (prefs);
  g_assert_cmpstrv (after, ((const char *[]) { "https://maps.example", NULL }));
  g_assert_cmpint (cb_site_settings_get_permission (sites, "https://spam.example",
                                                    CB_PERMISSION_NOTIFICATIONS), ==,
                   CB_PERMISSION_ASK);
  cb_site_settings_forget_site (sites, "https://maps.example");
  gtk_window_destroy (GTK_WINDOW (prefs));
  cb_test_close_window (window);
}

/* Installed for this user, as `meson install` would, before GIO first
 * looks at the applications. */
static void
install_desktop_file (void)
{
  g_autofree char *apps = g_build_filename (g_get_user_data_dir (), "applications", NULL);
  g_autofree char *desktop = g_build_filename (apps, CB_APP_ID ".desktop", NULL);
  const char *source = g_getenv ("CB_DESKTOP_FILE");
  g_autofree char *contents = NULL;

  g_assert_nonnull (source);
  g_assert_cmpint (g_mkdir_with_parents (apps, 0755), ==, 0);
  g_assert_true (g_file_get_contents (source, &contents, NULL, NULL));
  g_assert_true (g_file_set_contents (desktop, contents, -1, NULL));
}

int
main (int   argc,
      char *argv[])
{
  install_desktop_file ();
  cb_test_app_init (&argc, &argv, "Preferences");
  g_test_add_func ("/shell/preferences/search-and-home", test_search_and_home);
  g_test_add_func ("/shell/preferences/style", test_style);
  g_test_add_func ("/shell/preferences/downloads-and-default", test_downloads_and_default);
  g_test_add_func ("/shell/preferences/site-permissions", test_site_permissions);
  return cb_test_app_run ();
}
