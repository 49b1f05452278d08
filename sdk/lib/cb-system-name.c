/* cb-system-name.c: system names and their cloudapp:// origins */
#define G_LOG_DOMAIN "cb-sdk"

#include "cb-sdk-host.h"

#include <string.h>

#define MAX_LABEL 63

static gboolean
label_ok (const char *s, gsize len)
{
  if (len == 0 || len > MAX_LABEL)
    return FALSE;
  if (!g_ascii_islower (s[0]) && !g_ascii_isdigit (s[0]))
    return FALSE;
  if (!g_ascii_islower (s[len - 1]) && !g_ascii_isdigit (s[len - 1]))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_islower (s[i]) && !g_ascii_isdigit (s[i]) && s[i] != '-')
      return FALSE;
  return TRUE;
}

gboolean
cb_system_name_validate (const char  *system,
                         GError     **error)
{
  const char *slash, *p;
  gsize len;

  if (system == NULL || *system == '\0')
    {
      g_set_error_literal (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID, "the system name is empty");
      return FALSE;
    }
  len = strlen (system);
  if (len > CB_SYSTEM_NAME_MAX)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
                   "the system name is %zu bytes long; at most %d are allowed", len,
                   CB_SYSTEM_NAME_MAX);
      return FALSE;
    }
  if (!g_utf8_validate (system, -1, NULL))
    {
      g_set_error_literal (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
                           "the system name is not valid UTF-8");
      return FALSE;
    }
  slash = strchr (system, '/');
  if (slash == NULL)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
                   "\"%s\" is not a system name: it needs a domain and a name, like "
                   "example.org/%s", system, system);
      return FALSE;
    }
  /* The domain: dot-separated labels. */
  for (p = system; p < slash;)
    {
      const char *dot = memchr (p, '.', (gsize) (slash - p));
      const char *end = dot != NULL ? dot : slash;

      if (!label_ok (p, (gsize) (end - p)))
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
                       "\"%s\" is not a system name: its domain \"%.*s\" must be lowercase "
                       "letters, digits and inner hyphens, in dot-separated labels of at most "
                       "%d characters", system, (int) (slash - system), system, MAX_LABEL);
          return FALSE;
        }
      p = end + 1;
    }
  /* The names: slash-separated labels. */
  for (p = slash + 1;;)
    {
      const char *next = strchr (p, '/');
      const char *end = next != NULL ? next : p + strlen (p);

      if (!label_ok (p, (gsize) (end - p)))
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
                       "\"%s\" is not a system name: \"%.*s\" after the domain must be lowercase "
                       "letters, digits and inner hyphens, at most %d characters", system,
                       (int) (end - p), p, MAX_LABEL);
          return FALSE;
        }
      if (next == NULL)
        break;
      p = next + 1;
    }
  return TRUE;
}

char *
cb_system_name_to_origin_host (const char *system)
{
  char *host;

  if (!cb_system_name_validate (system, NULL))
    return NULL;
  host = g_strdup (system);
  for (char *p = host; *p != '\0'; p++)
    if (*p == '/')
      *p = '+';
  return host;
}

char *
cb_system_name_from_origin_host (const char *host)
{
  g_autofree char *system = NULL;

  if (host == NULL || strchr (host, '/') != NULL)
    return NULL;
  system = g_ascii_strdown (host, -1);
  for (char *p = system; *p != '\0'; p++)
    if (*p == '+')
      *p = '/';
  if (!cb_system_name_validate (system, NULL))
    return NULL;
  return g_steal_pointer (&system);
}
