/* test-https-first.c: HTTPS-first, the rules and in real windows against
 * the local HTTP and HTTPS servers */
#include "cb-config.h"
#include "cb-error-page.h"
#include "cb-https-first.h"
#include "cb-test-app.h"

#include <string.h>

static void
test_rules (void)
{
  static const struct { const char *uri; gboolean local; const char *upgraded; } cases[] = {
    { "http://example.org/a?b#c", FALSE, "https://example.org/a?b#c" },
    { "http://example.org:80/", FALSE, "https://example.org/" },
    { "http://example.org:8080/x", FALSE, "https://example.org:8080/x" },
    { "http://user@example.org/", FALSE, "https://user@example.org/" },
    { "https://example.org/", FALSE, NULL },
    { "ftp://example.org/", FALSE, NULL },
    { "cloud:node", FALSE, NULL },
    /* Local addresses stay on http… */
    { "http://localhost:8080/", FALSE, NULL },
    { "http://127.0.0.1/", FALSE, NULL },
    { "http://192.168.1.1/", FALSE, NULL },
    { "http://10.0.0.2/", FALSE, NULL },
    { "http://[::1]:8000/", FALSE, NULL },
    { "http://[fd00::2]/", FALSE, NULL },
    { "http://printer/", FALSE, NULL },
    { "http://nas.local/", FALSE, NULL },
    { "http://app.localhost/", FALSE, NULL },
    /* …unless asked. */
    { "http://127.0.0.1:5000/p", TRUE, "https://127.0.0.1:5000/p" },
    { "http://[::1]:8000/", TRUE, "https://[::1]:8000/" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *upgraded = cb_https_first_upgrade (cases[i].uri, cases[i].local);
      g_assert_cmpstr (upgraded, ==, cases[i].upgraded);
    }
  {
    g_autofree char *down = cb_https_first_downgrade ("https://example.org:443/a");
    g_assert_cmpstr (down, ==, "http://example.org/a");
  }
}

static CbTestServer *tls;

static void
allow_test_certificate (CbWindow *window)
{
  g_autofree char *cert = g_test_build_filename (G_TEST_DIST, "data", "test-cert.pem", NULL);
  g_autofree char *key = g_test_build_filename (G_TEST_DIST, "data", "test-key.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = g_tls_certificate_new_from_files (cert, key, &error);

  g_assert_no_error (error);
  /* The test server's certificate is self-signed: accepted for it, as a
   * person would accept it once. */
  webkit_network_session_allow_tls_certificate_for_host (
    cb_web_context_get_network_session (cb_window_get_context (window)), certificate, "127.0.0.1");
}

/* The site has https too: the http address is never asked for. */
static void
test_upgrade (void)
{
  CbWindow *window = cb_test_new_window ();
  g_autofree char *https = cb_test_server_uri (tls, "/title/Secure%20Page");
  g_autofree char *http = g_strdup_printf ("http://127.0.0.1:%u/title/Secure%%20Page",
                                           cb_test_server_port (tls));
  CbWebView *view;

  allow_test_certificate (window);
  view = cb_window_open_tab (window, NULL, TRUE);
  cb_window_submit_address (window, http);
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Secure Page");
  g_assert_cmpstr (webkit_web_view_get_uri (WEBKIT_WEB_VIEW (view)), ==, https);
  g_assert_cmpstr (cb_test_entry_text (window), ==, https);
  g_assert_cmpuint (cb_test_server_hits (tls, "/title/Secure Page"), ==, 1);
  g_free (cb_test_screenshot (GTK_WIDGET (window), "https-first-upgraded"));

  /* A link to the http address, clicked: upgraded too. */
  {
    g_autofree char *script = g_strdup_printf ("var a = document.createElement('a'); a.id = 'l';"
                                               "a.href = 'http://127.0.0.1:%u/title/Linked%%20Secure';"
                                               "a.textContent = 'an http link'; a.style.fontSize = '40px';"
                                               "document.body.appendChild(a); 'ok'",
                                               cb_test_server_port (tls));
    g_autofree char *rect = NULL;
    g_auto(GStrv) xy = NULL;

    g_free (cb_test_run_js (WEBKIT_WEB_VIEW (view), script));
    rect = cb_test_run_js (WEBKIT_WEB_VIEW (view), "(function(){const r=document.getElementById('l')"
                                                   ".getBoundingClientRect();return (r.left+r.width/2)"
                                                   "+','+(r.top+r.height/2)})()");
    xy = g_strsplit (rect, ",", 2);
    cb_test_click (GTK_WIDGET (view), g_ascii_strtod (xy[0], NULL), g_ascii_strtod (xy[1], NULL), 1);
  }
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Linked Secure");
  g_assert_true (g_str_has_prefix (webkit_web_view_get_uri (WEBKIT_WEB_VIEW (view)), "https://"));
  cb_test_close_window (window);
}

/* The site has no https: a clear warning, and the person may go on. */
static void
test_warning_and_continue (void)
{
  CbWindow *window = cb_test_new_window ();
  g_autofree char *http = g_strdup_printf ("http://127.0.0.1:%u/title/Plain%%20Only",
                                           cb_test_server_port (cb_test_http));
  CbWebView *view = cb_window_open_tab (window, NULL, TRUE);
  g_autofree char *text = NULL;
  g_autofree char *other = NULL;

  cb_window_submit_address (window, http);
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), CB_ERROR_PAGE_TITLE_HTTPS_ONLY);
  g_assert_true (cb_web_view_is_showing_error (view));
  /* The address shown is the one asked for; nothing went out over http. */
  g_assert_cmpstr (cb_test_entry_text (window), ==, http);
  g_assert_cmpuint (cb_test_server_hits (cb_test_http, "/title/Plain Only"), ==, 0);
  text = cb_test_run_js (WEBKIT_WEB_VIEW (view), "document.body.innerText");
  g_test_message ("warning page: %s", text);
  g_assert_nonnull (strstr (text, "does not offer a secure (HTTPS) connection"));
  g_assert_nonnull (strstr (text, "Continue to HTTP Site"));
  g_assert_nonnull (strstr (text, "Go Back"));
  g_free (cb_test_screenshot (GTK_WIDGET (window), "https-first-warning"));

  /* "Continue to HTTP Site", clicked: the page over http, for this session. */
  {
    g_autofree char *rect = cb_test_run_js (WEBKIT_WEB_VIEW (view),
                                            "(function(){const r=document.getElementById('continue')"
                                            ".getBoundingClientRect();return (r.left+r.width/2)+','"
                                            "+(r.top+r.height/2)})()");
    g_auto(GStrv) xy = g_strsplit (rect, ",", 2);
    cb_test_click (GTK_WIDGET (view), g_ascii_strtod (xy[0], NULL), g_ascii_strtod (xy[1], NULL), 1);
  }
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Plain Only");
  g_assert_cmpstr (webkit_web_view_get_uri (WEBKIT_WEB_VIEW (view)), ==, http);
  g_assert_cmpuint (cb_test_server_hits (cb_test_http, "/title/Plain Only"), ==, 1);
  /* The same site again: no second warning. */
  other = g_strdup_printf ("http://127.0.0.1:%u/page2", cb_test_server_port (cb_test_http));
  cb_window_submit_address (window, other);
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Page Two");
  cb_test_close_window (window);
}

/* Switched off in the preferences: plain http as asked. */
static void
test_switched_off (void)
{
  g_autoptr(GSettings) settings = g_settings_new (CB_SCHEMA_ID);
  CbWindow *window = cb_test_new_window ();
  CbWebView *view = cb_window_open_tab (window, NULL, TRUE);
  g_autofree char *http = g_strdup_printf ("http://127.0.0.1:%u/title/Not%%20Upgraded",
                                           cb_test_server_port (cb_test_http));

  g_settings_set_boolean (settings, "https-first", FALSE);
  cb_window_submit_address (window, http);
  cb_test_wait_for_title (WEBKIT_WEB_VIEW (view), "Not Upgraded");
  g_settings_set_boolean (settings, "https-first", TRUE);
  cb_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cert = NULL, *key = NULL;
  int status;

  cb_test_app_init (&argc, &argv, "HttpsFirst");
  cert = g_test_build_filename (G_TEST_DIST, "data", "test-cert.pem", NULL);
  key = g_test_build_filename (G_TEST_DIST, "data", "test-key.pem", NULL);
  tls = cb_test_server_new_tls (cert, key, &error);
  g_assert_no_error (error);
  /* Both servers are on 127.0.0.1, which HTTPS-first leaves alone unless
   * told to (like Firefox's dom.security.https_only_mode.upgrade_local). */
  settings = g_settings_new (CB_SCHEMA_ID);
  g_settings_set_boolean (settings, "https-first-upgrade-local", TRUE);

  g_test_add_func ("/shell/https-first/rules", test_rules);
  g_test_add_func ("/shell/https-first/upgrade", test_upgrade);
  g_test_add_func ("/shell/https-first/warning-and-continue", test_warning_and_continue);
  g_test_add_func ("/shell/https-first/switched-off", test_switched_off);
  status = cb_test_app_run ();
  cb_test_server_free (tls);
  return status;
}
