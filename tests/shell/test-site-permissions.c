/* test-site-permissions.c: location, notification and camera/microphone
 * prompts with remembered answers, the site popover to review and change
 * them, pop-up blocking, and the content blocker per site */
#include "cb-config.h"
#include "cb-site-popover.h"
#include "cb-test-app.h"

#include <string.h>

static CbSiteSettings *
sites_of (CbWindow *window)
{
  return cb_user_profile_get_site_settings (cb_web_context_get_profile (cb_window_get_context (window)));
}

static char *
site_of_server (void)
{
  g_autofree char *uri = cb_test_server_uri (cb_test_http, "/");

  return cb_site_for_uri (uri);
}

static gboolean
banner_shown (gpointer data)
{
  return cb_window_get_banner_text (data) != NULL &&
         gtk_widget_get_mapped (GTK_WIDGET (cb_window_get_banner (data)));
}

static gboolean
banner_gone (gpointer data)
{
  return cb_window_get_banner_text (data) == NULL;
}

static void
click_ask (WebKitWebView *view)
{
  g_free (cb_test_run_js (view, "document.getElementById('ask').click(); 'ok'"));
}

static void
test_geolocation (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/geolocation");
  g_autofree char *site = site_of_server ();
  g_autofree char *host = g_strdup_printf ("127.0.0.1:%u", cb_test_server_port (cb_test_http));

  cb_test_wait_for_title (view, "Geolocation");
  click_ask (view);
  cb_test_wait_until (banner_shown, window, "the location prompt");
  g_test_message ("banner: %s", cb_window_get_banner_text (window));
  g_assert_nonnull (strstr (cb_window_get_banner_text (window), host));
  g_assert_nonnull (strstr (cb_window_get_banner_text (window), "location"));
  g_free (cb_test_screenshot (GTK_WIDGET (window), "site-location-prompt"));

  /* Deny and remember. */
  cb_window_set_banner_remember (window, TRUE);
  cb_test_activate (window, "win.banner-deny");
  cb_test_wait_for_title (view, "geolocation error 1");     /* PERMISSION_DENIED */
  g_assert_true (banner_gone (window));
  g_assert_cmpint (cb_site_settings_get_permission (sites_of (window), site, CB_PERMISSION_GEOLOCATION),
                   ==, CB_PERMISSION_DENY);

  /* Asked again: answered from memory, no prompt. */
  webkit_web_view_reload (view);
  cb_test_wait_for_title (view, "Geolocation");
  click_ask (view);
  cb_test_wait_for_title (view, "geolocation error 1");
  g_assert_true (banner_gone (window));
  cb_test_close_window (window);
}

static void
test_notifications (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/notifications");
  g_autofree char *site = site_of_server ();

  cb_test_wait_for_title (view, "Notifications");
  click_ask (view);
  cb_test_wait_until (banner_shown, window, "the notifications prompt");
  g_assert_nonnull (strstr (cb_window_get_banner_text (window), "notifications"));
  cb_window_set_banner_remember (window, TRUE);
  cb_test_activate (window, "win.banner-allow");
  cb_test_wait_for_title (view, "notifications granted");
  g_assert_cmpint (cb_site_settings_get_permission (sites_of (window), site,
                                                    CB_PERMISSION_NOTIFICATIONS),
                   ==, CB_PERMISSION_ALLOW);
  /* The page knows without asking. */
  webkit_web_view_reload (view);
  cb_test_wait_for_title (view, "Notifications");
  cb_test_wait_js (view, "document.getElementById('state').textContent", "granted");
  cb_test_close_window (window);
}

static void
test_camera (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view;
  g_autofree char *site = site_of_server ();
  WebKitSettings *settings = cb_web_context_get_settings (cb_window_get_context (window));

  /* The test machine has no camera: WebKit's stand-in devices. */
  g_object_set (settings, "enable-mock-capture-devices", TRUE, NULL);
  view = cb_test_open (window, "/camera");
  cb_test_wait_for_title (view, "Camera");
  click_ask (view);
  cb_test_wait_until (banner_shown, window, "the camera prompt");
  g_assert_nonnull (strstr (cb_window_get_banner_text (window), "camera and microphone"));
  g_free (cb_test_screenshot (GTK_WIDGET (window), "site-camera-prompt"));

  /* Allowed once, not remembered: the next time asks again. */
  cb_window_set_banner_remember (window, FALSE);
  cb_test_activate (window, "win.banner-allow");
  cb_test_wait_for_title (view, "camera granted");
  g_assert_cmpint (cb_site_settings_get_permission (sites_of (window), site, CB_PERMISSION_CAMERA),
                   ==, CB_PERMISSION_ASK);
  webkit_web_view_reload (view);
  cb_test_wait_for_title (view, "Camera");
  click_ask (view);
  cb_test_wait_until (banner_shown, window, "the camera prompt again");
  cb_test_activate (window, "win.banner-deny");
  cb_test_wait_for_title (view, "camera NotAllowedError");

  /* A question the page never hears back about is denied when it leaves. */
  click_ask (view);
  cb_test_wait_until (banner_shown, window, "the camera prompt a third time");
  {
    g_autofree char *page2 = cb_test_server_uri (cb_test_http, "/page2");
    webkit_web_view_load_uri (view, page2);
  }
  cb_test_wait_for_title (view, "Page Two");
  g_assert_true (banner_gone (window));
  g_object_set (settings, "enable-mock-capture-devices", FALSE, NULL);
  cb_test_close_window (window);
}

static CbSitePopover *
open_site_popover (CbWindow *window)
{
  GtkEntry *entry = cb_window_get_address_entry (window);
  GdkRectangle area;

  gtk_entry_get_icon_area (entry, GTK_ENTRY_ICON_PRIMARY, &area);
  cb_test_click (GTK_WIDGET (entry), area.x + area.width / 2.0, area.y + area.height / 2.0, 1);
  g_assert_nonnull (cb_window_get_site_popover (window));
  return CB_SITE_POPOVER (cb_window_get_site_popover (window));
}

/* The site popover shows what is remembered and changes it. */
static void
test_review (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/geolocation");
  g_autofree char *site = site_of_server ();
  CbSitePopover *popover;

  cb_test_wait_for_title (view, "Geolocation");
  cb_site_settings_set_permission (sites_of (window), site, CB_PERMISSION_GEOLOCATION,
                                   CB_PERMISSION_DENY);
  popover = open_site_popover (window);
  g_assert_cmpstr (cb_site_popover_get_site (popover), ==, site);
  g_free (cb_test_screenshot_screen ("site-popover"));

  /* Back to "Ask": the page's next request prompts. */
  cb_site_popover_set_permission (popover, CB_PERMISSION_GEOLOCATION, CB_PERMISSION_ASK);
  g_assert_cmpint (cb_site_settings_get_permission (sites_of (window), site, CB_PERMISSION_GEOLOCATION),
                   ==, CB_PERMISSION_ASK);
  gtk_popover_popdown (GTK_POPOVER (popover));
  click_ask (view);
  cb_test_wait_until (banner_shown, window, "the location prompt");
  cb_window_set_banner_remember (window, TRUE);
  cb_test_activate (window, "win.banner-allow");
  cb_test_wait_js (view, "document.title", "geolocation");    /* allowed: no device here */
  g_assert_cmpint (cb_site_settings_get_permission (sites_of (window), site, CB_PERMISSION_GEOLOCATION),
                   ==, CB_PERMISSION_ALLOW);
  cb_test_close_window (window);
}

static gboolean
tab_titled (gpointer data)
{
  CbWindow *window = data;
  const char *want = g_object_get_data (G_OBJECT (window), "want-title");
  AdwTabView *tabs = cb_window_get_tab_view (window);

  for (int i = 0; i < adw_tab_view_get_n_pages (tabs); i++)
    {
      WebKitWebView *view = WEBKIT_WEB_VIEW (adw_tab_page_get_child (adw_tab_view_get_nth_page (tabs, i)));
      if (g_strcmp0 (webkit_web_view_get_title (view), want) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
wait_tab_titled (CbWindow   *window,
                 const char *title)
{
  g_autofree char *what = g_strdup_printf ("a tab titled %s", title);

  g_object_set_data_full (G_OBJECT (window), "want-title", g_strdup (title), g_free);
  cb_test_wait_until (tab_titled, window, what);
}

static void
test_popups (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/popup");
  g_autofree char *site = site_of_server ();
  double x, y;

  cb_test_wait_for_title (view, "Popup");
  /* The window the page opened by itself is blocked, and said so. */
  cb_test_wait_js (view, "String(window.popupResult)", "blocked");
  cb_test_wait_until (banner_shown, window, "the pop-up notice");
  g_assert_nonnull (strstr (cb_window_get_banner_text (window), "pop-up"));
  g_assert_cmpint (adw_tab_view_get_n_pages (cb_window_get_tab_view (window)), ==, 1);
  g_free (cb_test_screenshot (GTK_WIDGET (window), "site-popup-blocked"));

  /* A click opens one: that is the person asking.  (After the banner's
   * slide-down, so the button stays where it is.) */
  cb_test_iterate (600);
  {
    g_autofree char *rect = cb_test_run_js (view, "(function(){const r=document.getElementById('open')"
                                                  ".getBoundingClientRect();return (r.left+r.width/2)+','"
                                                  "+(r.top+r.height/2)})()");
    g_auto(GStrv) xy = g_strsplit (rect, ",", 2);
    x = g_ascii_strtod (xy[0], NULL);
    y = g_ascii_strtod (xy[1], NULL);
  }
  cb_test_click (GTK_WIDGET (view), x, y, 1);
  wait_tab_titled (window, "Clicked Popup");

  /* "Allow pop-ups for this site" opens the blocked one and remembers. */
  adw_tab_view_set_selected_page (cb_window_get_tab_view (window),
                                  adw_tab_view_get_page (cb_window_get_tab_view (window),
                                                         GTK_WIDGET (view)));
  cb_test_wait_until (banner_shown, window, "the pop-up notice again");
  cb_test_activate (window, "win.banner-allow");
  wait_tab_titled (window, "Unasked Popup");
  g_assert_true (cb_site_settings_get_popups_allowed (sites_of (window), site));
  adw_tab_view_set_selected_page (cb_window_get_tab_view (window),
                                  adw_tab_view_get_page (cb_window_get_tab_view (window),
                                                         GTK_WIDGET (view)));
  webkit_web_view_reload (view);
  cb_test_wait_js (view, "String(window.popupResult)", "opened");
  cb_site_settings_set_popups_allowed (sites_of (window), site, FALSE);
  cb_test_close_window (window);
}

static gboolean
blocker_ready (gpointer data)
{
  return cb_content_blocker_is_ready (data);
}

static void
test_content_blocker (void)
{
  CbWindow *window = cb_test_new_window ();
  CbContentBlocker *blocker = cb_web_context_get_content_blocker (cb_window_get_context (window));
  g_autofree char *site = site_of_server ();
  WebKitWebView *view;
  g_autofree char *loaded = NULL, *display = NULL;
  CbSitePopover *popover;

  cb_test_wait_until (blocker_ready, blocker, "the content filter to compile");
  view = cb_test_open (window, "/ads-page");
  cb_test_wait_for_title (view, "Ads");
  loaded = cb_test_run_js (view, "window.adsLoaded.join(' ')");
  g_test_message ("loaded: %s", loaded);
  /* Another site's /ads/ script is blocked; the page's own and another
   * site's ordinary script are not. */
  g_assert_null (strstr (loaded, "/ads/banner.js"));
  g_assert_nonnull (strstr (loaded, "/ads/own.js"));
  g_assert_nonnull (strstr (loaded, "/scripts/widget.js"));
  g_assert_cmpuint (cb_test_server_hits (cb_test_http, "/ads/banner.js"), ==, 0);
  display = cb_test_run_js (view, "getComputedStyle(document.getElementById('banner')).display");
  g_assert_cmpstr (display, ==, "none");
  g_free (cb_test_screenshot (GTK_WIDGET (window), "site-blocker-on"));

  /* Off for this site, from its popover: the page reloads with everything. */
  popover = open_site_popover (window);
  cb_site_popover_set_blocker (popover, FALSE);
  gtk_popover_popdown (GTK_POPOVER (popover));
  g_assert_true (cb_site_settings_get_blocker_disabled (sites_of (window), site));
  cb_test_wait_js (view, "String(window.adsLoaded && window.adsLoaded.join(' '))", "/ads/banner.js");
  g_free (display);
  display = cb_test_run_js (view, "getComputedStyle(document.getElementById('banner')).display");
  g_assert_cmpstr (display, ==, "block");
  g_free (cb_test_screenshot (GTK_WIDGET (window), "site-blocker-off"));

  /* And on again. */
  popover = open_site_popover (window);
  cb_site_popover_set_blocker (popover, TRUE);
  gtk_popover_popdown (GTK_POPOVER (popover));
  cb_test_wait_until (blocker_ready, blocker, "the filter again");
  webkit_web_view_reload (view);
  cb_test_wait_for_title (view, "Ads");
  g_free (loaded);
  loaded = cb_test_run_js (view, "window.adsLoaded.join(' ')");
  g_assert_null (strstr (loaded, "/ads/banner.js"));
  cb_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  cb_test_app_init (&argc, &argv, "Sites");
  g_test_add_func ("/shell/sites/geolocation", test_geolocation);
  g_test_add_func ("/shell/sites/notifications", test_notifications);
  g_test_add_func ("/shell/sites/camera", test_camera);
  g_test_add_func ("/shell/sites/review", test_review);
  g_test_add_func ("/shell/sites/popups", test_popups);
  g_test_add_func ("/shell/sites/content-blocker", test_content_blocker);
  return cb_test_app_run ();
}
