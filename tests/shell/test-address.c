/* test-address.c: what the address entry makes of typed text */
#include "cb-address.h"

#define SEARCH "https://search.example/?q=%s&ia=web"

static void
check (const char *typed,
       const char *expected)
{
  g_autofree char *uri = cb_address_to_uri (typed, SEARCH);

  if (g_strcmp0 (uri, expected) != 0)
    g_error ("\"%s\" became \"%s\", expected \"%s\"", typed, uri, expected);
}

static void
test_full_uris (void)
{
  check ("https://example.org/a?b=c#d", "https://example.org/a?b=c#d");
  check ("  http://example.org  ", "http://example.org");
  check ("HTTP://Example.org/", "HTTP://Example.org/");
  check ("file:///etc/hosts", "file:///etc/hosts");
  check ("about:blank", "about:blank");
  check ("cloud:node", "cloud:node");
  check ("cloud:apps", "cloud:apps");
  check ("data:text/html,hi", "data:text/html,hi");
}

static void
test_bare_hosts (void)
{
  check ("example.org", "http://example.org");
  check ("www.gnome.org/about", "http://www.gnome.org/about");
  check ("localhost", "http://localhost");
  check ("localhost:8080", "http://localhost:8080");
  check ("localhost:8080/x?y", "http://localhost:8080/x?y");
  check ("127.0.0.1", "http://127.0.0.1");
  check ("127.0.0.1:7788/status", "http://127.0.0.1:7788/status");
  check ("[::1]:8080/", "http://[::1]:8080/");
  check ("xn--bcher-kva.example", "http://xn--bcher-kva.example");
  check ("sub-domain.example.co.uk#frag", "http://sub-domain.example.co.uk#frag");
}

static void
test_searches (void)
{
  check ("cloud bevy", "https://search.example/?q=cloud%20bevy&ia=web");
  check ("gnome", "https://search.example/?q=gnome&ia=web");
  check ("3.14", "https://search.example/?q=3.14&ia=web");
  check ("what is example.org", "https://search.example/?q=what%20is%20example.org&ia=web");
  check ("foo:bar", "https://search.example/?q=foo%3Abar&ia=web");
  check ("localhost:99999", "https://search.example/?q=localhost%3A99999&ia=web");
  check ("-bad-.example", "https://search.example/?q=-bad-.example&ia=web");
  check ("a&b=c", "https://search.example/?q=a%26b%3Dc&ia=web");
  check ("C++ #include", "https://search.example/?q=C%2B%2B%20%23include&ia=web");
  check ("日本語", "https://search.example/?q=%E6%97%A5%E6%9C%AC%E8%AA%9E&ia=web");
}

static void
test_empty (void)
{
  check ("", NULL);
  check ("   \t", NULL);
  check (NULL, NULL);
  g_assert_cmpint (cb_address_classify ("  "), ==, CB_ADDRESS_EMPTY);
}

static void
test_template_without_placeholder (void)
{
  g_autofree char *uri = cb_address_search_uri ("a b", "https://s.example/?q=");

  g_assert_cmpstr (uri, ==, "https://s.example/?q=a%20b");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shell/address/full-uris", test_full_uris);
  g_test_add_func ("/shell/address/bare-hosts", test_bare_hosts);
  g_test_add_func ("/shell/address/searches", test_searches);
  g_test_add_func ("/shell/address/empty", test_empty);
  g_test_add_func ("/shell/address/template-without-placeholder", test_template_without_placeholder);
  return g_test_run ();
}
