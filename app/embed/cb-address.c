/* cb-address.c: the address entry's rules, free of any widget
 *
 * "example.org" and "localhost:8080/x" are hosts, "cloud:node" and
 * "https://…" are URIs, anything with a space or without a plausible host
 * is a search.  Bare hosts get http:// as in GNOME Web; upgrading to https
 * is the network layer's job, not the parser's. */
#define G_LOG_DOMAIN "cb-address"

#include "cb-address.h"

#include <string.h>

/* Schemes typed with a colon that we open as they are.  Anything else
 * before a colon ("localhost:8080", "foo:bar") is not a scheme to us. */
static const char * const known_schemes[] = {
  "http", "https", "file", "about", "cloud", "data", "view-source", "blob", NULL,
};

static gboolean
has_known_scheme (const char *text)
{
  const char *scheme = g_uri_peek_scheme (text); /* interned, lower case */

  if (scheme == NULL)
    return FALSE;
  return g_strv_contains (known_schemes, scheme);
}

static gboolean
is_ipv4 (const char *host)
{
  return g_hostname_is_ip_address (host) && strchr (host, ':') == NULL;
}

/* A label of a DNS name: letters, digits, hyphens, not at either end. */
static gboolean
is_dns_label (const char *label)
{
  gsize len = strlen (label);

  if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
    return FALSE;
  for (const char *p = label; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-')
      return FALSE;
  return TRUE;
}

static gboolean
is_dns_name_with_tld (const char *host)
{
  g_auto(GStrv) labels = g_strsplit (host, ".", -1);
  guint n = g_strv_length (labels);
  const char *tld;

  if (n < 2)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!is_dns_label (labels[i]))
      return FALSE;
  /* Top-level domains are alphabetic (or IDN "xn--"), which keeps "3.14"
   * and "v1.2" out of the address bar's idea of a host. */
  tld = labels[n - 1];
  if (g_str_has_prefix (tld, "xn--"))
    return TRUE;
  for (const char *p = tld; *p; p++)
    if (!g_ascii_isalpha (*p))
      return FALSE;
  return strlen (tld) >= 2;
}

static gboolean
is_port (const char *s, gsize len)
{
  guint64 port = 0;

  if (len == 0 || len > 5)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      port = port * 10 + (guint64)(s[i] - '0');
    }
  return port > 0 && port <= 65535;
}

/* Host part of "host[:port][/path…]", or of "[v6][:port]…". */
static gboolean
looks_like_host (const char *text)
{
  gsize host_end = strcspn (text, "/?#");
  g_autofree char *authority = g_strndup (text, host_end);
  g_autofree char *host = NULL;
  const char *colon;

  if (authority[0] == '[')
    {
      const char *close = strchr (authority, ']');
      if (close == NULL)
        return FALSE;
      host = g_strndup (authority + 1, (gsize)(close - authority - 1));
      if (close[1] != '\0' && (close[1] != ':' || !is_port (close + 2, strlen (close + 2))))
        return FALSE;
      return g_hostname_is_ip_address (host);
    }

  colon = strchr (authority, ':');
  if (colon != NULL)
    {
      if (!is_port (colon + 1, strlen (colon + 1)))
        return FALSE;
      host = g_strndup (authority, (gsize)(colon - authority));
    }
  else
    host = g_steal_pointer (&authority);

  return g_ascii_strcasecmp (host, "localhost") == 0 ||
         is_ipv4 (host) ||
         is_dns_name_with_tld (host);
}

CbAddressKind
cb_address_classify (const char *text)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text ? text : ""));

  if (*trimmed == '\0')
    return CB_ADDRESS_EMPTY;
  if (has_known_scheme (trimmed))
    return CB_ADDRESS_URI;
  for (const char *p = trimmed; *p; p++)
    if (g_ascii_isspace (*p))
      return CB_ADDRESS_SEARCH;
  if (looks_like_host (trimmed))
    return CB_ADDRESS_HOST;
  return CB_ADDRESS_SEARCH;
}

char *
cb_address_search_uri (const char *terms,
                       const char *search_template)
{
  g_autofree char *escaped = g_uri_escape_string (terms, NULL, FALSE);
  const char *mark = strstr (search_template, "%s");

  if (mark == NULL)
    return g_strconcat (search_template, escaped, NULL);
  return g_strdup_printf ("%.*s%s%s", (int)(mark - search_template),
                          search_template, escaped, mark + 2);
}

/* Returns a newly allocated URI, or NULL when there is nothing to open. */
char *
cb_address_to_uri (const char *text,
                   const char *search_template)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text ? text : ""));

  switch (cb_address_classify (trimmed))
    {
    case CB_ADDRESS_EMPTY:
      return NULL;
    case CB_ADDRESS_URI:
      return g_steal_pointer (&trimmed);
    case CB_ADDRESS_HOST:
      return g_strconcat ("http://", trimmed, NULL);
    case CB_ADDRESS_SEARCH:
    default:
      return cb_address_search_uri (trimmed, search_template);
    }
}
