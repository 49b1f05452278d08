/* cb-repo-url.c: repository addresses */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-repo-url.h"

#include <gio/gio.h>
#include <string.h>

static gboolean
github_name_ok (const char *s, gsize len, gboolean repo)
{
  if (len == 0 || len > 100)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '-' && !(repo && (s[i] == '.' || s[i] == '_')))
      return FALSE;
  return s[0] != '-' && s[0] != '.';
}

static gboolean
bad_address (GError **error, const char *address)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "\"%s\" is not a repository address: use https://HOST/PATH/, file:///PATH (or "
               "/PATH), or github.com/ORG[/REPO] for GitHub Pages", address);
  return FALSE;
}

/* github.com/ORG[/REPO][/]: TRUE and the parts, or FALSE if not that form. */
static gboolean
parse_github (const char *address, char **org, char **repo)
{
  const char *rest, *slash;
  gsize len;

  if (g_ascii_strncasecmp (address, "github.com/", 11) != 0)
    return FALSE;
  rest = address + 11;
  slash = strchr (rest, '/');
  len = slash != NULL ? (gsize) (slash - rest) : strlen (rest);
  if (!github_name_ok (rest, len, FALSE))
    return FALSE;
  *org = g_ascii_strdown (rest, (gssize) len);
  *repo = NULL;
  if (slash != NULL && slash[1] != '\0')
    {
      const char *name = slash + 1;
      gsize name_len = strlen (name);

      if (name[name_len - 1] == '/')
        name_len--;
      if (memchr (name, '/', name_len) != NULL || !github_name_ok (name, name_len, TRUE))
        {
          g_clear_pointer (org, g_free);
          return FALSE;
        }
      *repo = g_strndup (name, name_len);
    }
  return TRUE;
}

char *
cb_repo_url_normalize (const char  *address,
                       GError     **error)
{
  g_autofree char *org = NULL;
  g_autofree char *repo = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (address == NULL || *address == '\0' || strlen (address) > 2048)
    {
      bad_address (error, address ? address : "");
      return NULL;
    }
  if (parse_github (address, &org, &repo))
    return repo != NULL ? g_strdup_printf ("github.com/%s/%s", org, repo)
                        : g_strdup_printf ("github.com/%s", org);
  if (address[0] == '/')
    {
      g_autoptr(GFile) file = g_file_new_for_path (address);
      g_autofree char *file_uri = g_file_get_uri (file);

      return g_str_has_suffix (file_uri, "/") ? g_steal_pointer (&file_uri)
                                              : g_strconcat (file_uri, "/", NULL);
    }
  uri = g_uri_parse (address, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    {
      bad_address (error, address);
      return NULL;
    }
  scheme = g_uri_get_scheme (uri);
  if (g_strcmp0 (scheme, "file") == 0
      || ((g_strcmp0 (scheme, "https") == 0 || g_strcmp0 (scheme, "http") == 0)
          && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0'
          && g_uri_get_userinfo (uri) == NULL && g_uri_get_query (uri) == NULL
          && g_uri_get_fragment (uri) == NULL))
    {
      g_autofree char *text = g_uri_to_string (uri);

      if (g_strcmp0 (scheme, "http") == 0)
        {
          const char *host = g_uri_get_host (uri);

          if (g_strcmp0 (host, "127.0.0.1") != 0 && g_strcmp0 (host, "localhost") != 0
              && g_strcmp0 (host, "::1") != 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "\"%s\": plain http:// is accepted only for this machine; use https://",
                           address);
              return NULL;
            }
        }
      return g_str_has_suffix (text, "/") ? g_steal_pointer (&text) : g_strconcat (text, "/", NULL);
    }
  bad_address (error, address);
  return NULL;
}

char *
cb_repo_url_resolve (const char  *address,
                     GError     **error)
{
  g_autofree char *normal = cb_repo_url_normalize (address, error);
  g_autofree char *org = NULL;
  g_autofree char *repo = NULL;

  if (normal == NULL)
    return NULL;
  if (parse_github (normal, &org, &repo))
    return repo != NULL ? g_strdup_printf ("https://%s.github.io/%s/", org, repo)
                        : g_strdup_printf ("https://%s.github.io/", org);
  return g_steal_pointer (&normal);
}

char *
cb_repo_url_file (const char *base,
                  const char *name)
{
  g_autofree char *escaped = NULL;

  if (g_str_has_prefix (name, "https://"))
    return g_strdup (name);
  /* Names are [A-Za-z0-9._+-]: '+' is the one that needs escaping. */
  escaped = g_uri_escape_string (name, NULL, FALSE);
  return g_strconcat (base, escaped, NULL);
}
