/* test-site-settings.c: per-site zoom, permissions, pop-ups, blocker */
#include "cb-site-settings.h"
#include "cb-test-profile.h"

static CbSiteSettings *
open_store (const char *path)
{
  CbSiteSettings *store = cb_site_settings_new (path);

  while (!cb_site_settings_is_loaded (store))
    g_main_context_iteration (NULL, TRUE);
  return store;
}

static void
flush (CbSiteSettings *store)
{
  g_autoptr(GAsyncResult) result = NULL;

  cb_site_settings_flush_async (store, NULL, cb_test_store_result, &result);
  cb_test_await (&result);
  g_assert_true (cb_site_settings_flush_finish (store, result, NULL));
}

static void
test_site_for_uri (void)
{
  static const char * const cases[][2] = {
    { "https://Example.org/a/b?c#d", "https://example.org" },
    { "https://example.org:443/", "https://example.org" },
    { "http://example.org:80/", "http://example.org" },
    { "http://127.0.0.1:8080/x", "http://127.0.0.1:8080" },
    { "https://[::1]:8443/", "https://[::1]:8443" },
    { "about:blank", NULL },
    { "cloud:node", NULL },
    { "data:text/html,hi", NULL },
    { "not a uri", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *site = cb_site_for_uri (cases[i][0]);
      g_assert_cmpstr (site, ==, cases[i][1]);
    }
}

static void
test_settings_persist (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "sites.db", NULL);
  g_autoptr(CbSiteSettings) store = open_store (path);
  g_autoptr(CbSiteSettings) again = NULL;
  g_auto(GStrv) sites = NULL, allowed = NULL;
  const char *a = "https://a.example", *b = "http://127.0.0.1:8080";

  g_assert_cmpfloat (cb_site_settings_get_zoom (store, a), ==, 0.0);
  cb_site_settings_set_zoom (store, a, 1.25);
  cb_site_settings_set_permission (store, a, CB_PERMISSION_GEOLOCATION, CB_PERMISSION_DENY);
  cb_site_settings_set_permission (store, b, CB_PERMISSION_CAMERA, CB_PERMISSION_ALLOW);
  cb_site_settings_set_popups_allowed (store, b, TRUE);
  cb_site_settings_set_blocker_disabled (store, b, TRUE);
  flush (store);

  again = open_store (path);
  g_assert_cmpfloat (cb_site_settings_get_zoom (again, a), ==, 1.25);
  g_assert_cmpint (cb_site_settings_get_permission (again, a, CB_PERMISSION_GEOLOCATION), ==,
                   CB_PERMISSION_DENY);
  g_assert_cmpint (cb_site_settings_get_permission (again, a, CB_PERMISSION_CAMERA), ==,
                   CB_PERMISSION_ASK);
  g_assert_cmpint (cb_site_settings_get_permission (again, b, CB_PERMISSION_CAMERA), ==,
                   CB_PERMISSION_ALLOW);
  g_assert_true (cb_site_settings_get_popups_allowed (again, b));
  g_assert_false (cb_site_settings_get_popups_allowed (again, a));
  g_assert_true (cb_site_settings_get_blocker_disabled (again, b));
  sites = cb_site_settings_list_sites (again);
  g_assert_cmpuint (g_strv_length (sites), ==, 2);
  allowed = cb_site_settings_list_with (again, CB_PERMISSION_CAMERA, CB_PERMISSION_ALLOW);
  g_assert_cmpstrv (allowed, ((const char *[]) { "http://127.0.0.1:8080", NULL }));

  /* Zoom back to 100 % forgets it; forgetting a site forgets everything. */
  cb_site_settings_set_zoom (again, a, 1.0);
  cb_site_settings_forget_site (again, b);
  flush (again);
  g_clear_object (&store);
  store = open_store (path);
  g_assert_cmpfloat (cb_site_settings_get_zoom (store, a), ==, 0.0);
  g_assert_cmpint (cb_site_settings_get_permission (store, b, CB_PERMISSION_CAMERA), ==,
                   CB_PERMISSION_ASK);
  g_clear_object (&store);
  g_clear_object (&again);
  cb_test_rmdir (dir);
}

static void
on_changed (CbSiteSettings *store, const char *site, const char *key, guint *count)
{
  (*count)++;
}

static void
test_changed_signal (void)
{
  g_autoptr(CbSiteSettings) store = open_store (NULL);
  guint count = 0;

  g_signal_connect (store, "changed", G_CALLBACK (on_changed), &count);
  cb_site_settings_set_zoom (store, "https://x.example", 1.5);
  cb_site_settings_set_zoom (store, "https://x.example", 1.5);   /* no change, no signal */
  g_assert_cmpuint (count, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/profile/site-settings/site-for-uri", test_site_for_uri);
  g_test_add_func ("/profile/site-settings/persist", test_settings_persist);
  g_test_add_func ("/profile/site-settings/changed-signal", test_changed_signal);
  return g_test_run ();
}
