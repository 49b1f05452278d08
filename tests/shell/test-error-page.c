/* test-error-page.c: error pages name what failed and escape what they show */
#include "cb-error-page.h"
#include "cb-cloud-scheme.h"

static void
test_network_page (void)
{
  g_autofree char *html = cb_error_page_build (CB_ERROR_PAGE_NETWORK,
                                               "http://127.0.0.1:9/x",
                                               "Could not connect: Connection refused");

  g_assert_nonnull (strstr (html, "<title>" CB_ERROR_PAGE_TITLE_NETWORK "</title>"));
  g_assert_nonnull (strstr (html, "<b>127.0.0.1:9</b>"));
  g_assert_nonnull (strstr (html, "Connection refused"));
  g_assert_nonnull (strstr (html, "id=\"retry\""));
}

static void
test_escaping (void)
{
  g_autofree char *html = cb_error_page_build (CB_ERROR_PAGE_NETWORK,
                                               "http://<script>.example/\"",
                                               "<img src=x onerror=alert(1)>");

  g_assert_null (strstr (html, "<script>"));
  g_assert_null (strstr (html, "<img"));
  g_assert_nonnull (strstr (html, "&lt;img src=x onerror=alert(1)&gt;"));
}

static void
test_tls_reasons (void)
{
  g_autofree char *one = cb_error_page_describe_tls (G_TLS_CERTIFICATE_UNKNOWN_CA);
  g_autofree char *two = cb_error_page_describe_tls (G_TLS_CERTIFICATE_EXPIRED |
                                                     G_TLS_CERTIFICATE_BAD_IDENTITY);
  g_autofree char *none = cb_error_page_describe_tls (0);
  g_autofree char *html = cb_error_page_build (CB_ERROR_PAGE_TLS, "https://bank.example/", one);

  g_assert_cmpstr (one, ==, "The site's certificate was refused because it is not signed by "
                            "an authority this computer trusts.");
  g_assert_cmpstr (two, ==, "The site's certificate was refused because it was issued for a "
                            "different site, and it has expired.");
  g_assert_cmpstr (none, ==, "The site's certificate was refused because the secure connection "
                             "could not be established.");
  g_assert_nonnull (strstr (html, "<title>" CB_ERROR_PAGE_TITLE_TLS "</title>"));
  g_assert_nonnull (strstr (html, "<b>bank.example</b>"));
}

static void
test_cloud_page_names (void)
{
  const struct { const char *uri, *page; } cases[] = {
    { "cloud:node", "node" },
    { "cloud:Apps", "apps" },
    { "cloud://node/", "node" },
    { "cloud:app/github.com/event-games", "app" },
    { "cloud:node?x=1#y", "node" },
    { "cloud:", "" },
    { "https://node", NULL },
    { NULL, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *page = cb_cloud_scheme_page_of (cases[i].uri);
      g_assert_cmpstr (page, ==, cases[i].page);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shell/error-page/network", test_network_page);
  g_test_add_func ("/shell/error-page/escaping", test_escaping);
  g_test_add_func ("/shell/error-page/tls-reasons", test_tls_reasons);
  g_test_add_func ("/shell/cloud-scheme/page-names", test_cloud_page_names);
  return g_test_run ();
}
