/* cb-https-first.c: HTTPS-first address rules */
#define G_LOG_DOMAIN "cb-https-first"

#include "cb-https-first.h"

#include <gio/gio.h>
#include <string.h>

gboolean
cb_https_first_is_local_host (const char *host)
{
  g_autofree char *lower = NULL;
  g_autoptr(GInetAddress) address = NULL;
  gsize len;

  if (host == NULL || *host == '\0')
    return TRUE;
  lower = g_ascii_strdown (host, -1);
  len = strlen (lower);
  if (lower[0] == '[' && lower[len - 1] == ']')
    {
      lower[len - 1] = '\0';
      memmove (lower, lower + 1, len - 1);
    }
  address = g_inet_address_new_from_string (lower);
  if (address != NULL)
    return g_inet_address_get_is_loopback (address) || g_inet_address_get_is_site_local (address) ||
           g_inet_address_get_is_link_local (address) || g_inet_address_get_is_any (address) ||
           /* IPv6 unique local, fc00::/7 */
           (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 &&
            (g_inet_address_to_bytes (address)[0] & 0xfe) == 0xfc);
  return strchr (lower, '.') == NULL || g_str_equal (lower, "localhost") ||
         g_str_has_suffix (lower, ".localhost") || g_str_has_suffix (lower, ".local") ||
         g_str_has_suffix (lower, ".internal") || g_str_has_suffix (lower, ".lan") ||
         g_str_has_suffix (lower, ".home.arpa");
}

char *
cb_https_first_upgrade (const char *uri,
                        gboolean    upgrade_local)
{
  g_autoptr(GUri) parsed = NULL;
  g_autoptr(GUri) upgraded = NULL;
  int port;

  if (uri == NULL || g_ascii_strncasecmp (uri, "http://", 7) != 0)
    return NULL;
  parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL);
  if (parsed == NULL || g_uri_get_host (parsed) == NULL)
    return NULL;
  if (!upgrade_local && cb_https_first_is_local_host (g_uri_get_host (parsed)))
    return NULL;
  port = g_uri_get_port (parsed);
  if (port == 80)
    port = -1;
  upgraded = g_uri_build_with_user (G_URI_FLAGS_ENCODED, "https", g_uri_get_user (parsed),
                                    g_uri_get_password (parsed), g_uri_get_auth_params (parsed),
                                    g_uri_get_host (parsed), port, g_uri_get_path (parsed),
                                    g_uri_get_query (parsed), g_uri_get_fragment (parsed));
  return g_uri_to_string (upgraded);
}

char *
cb_https_first_downgrade (const char *https_uri)
{
  g_autoptr(GUri) parsed = NULL;
  g_autoptr(GUri) plain = NULL;
  int port;

  if (https_uri == NULL || g_ascii_strncasecmp (https_uri, "https://", 8) != 0)
    return NULL;
  parsed = g_uri_parse (https_uri, G_URI_FLAGS_ENCODED, NULL);
  if (parsed == NULL)
    return NULL;
  port = g_uri_get_port (parsed);
  if (port == 443)
    port = -1;
  plain = g_uri_build_with_user (G_URI_FLAGS_ENCODED, "http", g_uri_get_user (parsed),
                                 g_uri_get_password (parsed), g_uri_get_auth_params (parsed),
                                 g_uri_get_host (parsed), port, g_uri_get_path (parsed),
                                 g_uri_get_query (parsed), g_uri_get_fragment (parsed));
  return g_uri_to_string (plain);
}
