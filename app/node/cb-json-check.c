/* cb-json-check.c: strict reading of untrusted JSON */
#define G_LOG_DOMAIN "cb-json-check"

#include "cb-json-check.h"

#include <string.h>

#include "cb-hex.h"

static gboolean
fail (const CbJsonCheck *check, GError **error, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (const CbJsonCheck *check, GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, check->domain, check->code, "%s %s", check->what, message);
  return FALSE;
}

static gboolean
prescan (const CbJsonCheck *check, const char *text, gsize len, GError **error)
{
  guint depth = 0, digits = 0;
  gboolean in_string = FALSE;

  if (memchr (text, '\0', len) != NULL)
    return fail (check, error, "contains a NUL byte");
  if (!g_utf8_validate (text, (gssize) len, NULL))
    return fail (check, error, "is not valid UTF-8");
  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            {
              if (i + 5 < len && text[i + 1] == 'u' && memcmp (text + i + 2, "0000", 4) == 0)
                return fail (check, error, "contains a NUL character (\\u0000) in a string");
              i++;
            }
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        {
          in_string = TRUE;
          digits = 0;
        }
      else if (g_ascii_isdigit (c))
        {
          if (++digits > CB_JSON_MAX_DIGITS)
            return fail (check, error, "has a number with more than %d digits",
                         CB_JSON_MAX_DIGITS);
        }
      else
        {
          digits = 0;
          if (c == '[' || c == '{')
            {
              if (++depth > CB_JSON_MAX_DEPTH)
                return fail (check, error, "is nested more than %d levels deep",
                             CB_JSON_MAX_DEPTH);
            }
          else if ((c == ']' || c == '}') && depth > 0)
            depth--;
        }
    }
  return TRUE;
}

typedef struct {
  GHashTable *counts;     /* JsonObject* -> members seen */
  char       *duplicate;
} Duplicates;

static void
on_member (JsonParser *parser,
           JsonObject *object,
           const char *member_name,
           gpointer    user_data)
{
  Duplicates *dups = user_data;
  guint seen = GPOINTER_TO_UINT (g_hash_table_lookup (dups->counts, object)) + 1;

  g_hash_table_insert (dups->counts, object, GUINT_TO_POINTER (seen));
  /* A repeated name replaces the member: the size stops growing. */
  if (json_object_get_size (object) != seen && dups->duplicate == NULL)
    dups->duplicate = g_strdup (member_name);
}

JsonNode *
cb_json_check_parse_object (const CbJsonCheck  *check,
                            const char         *text,
                            gsize               len,
                            GError            **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  Duplicates dups = { NULL, NULL };
  JsonNode *root;
  gboolean ok;

  if (!prescan (check, text, len, error))
    return NULL;
  parser = json_parser_new_immutable ();
  dups.counts = g_hash_table_new (NULL, NULL);
  g_signal_connect (parser, "object-member", G_CALLBACK (on_member), &dups);
  ok = json_parser_load_from_data (parser, text, (gssize) len, &local_error);
  g_signal_handlers_disconnect_by_data (parser, &dups);
  g_hash_table_unref (dups.counts);
  if (!ok)
    {
      g_free (dups.duplicate);
      fail (check, error, "is not valid JSON: %s", local_error->message);
      return NULL;
    }
  if (dups.duplicate != NULL)
    {
      fail (check, error, "has the member \"%s\" more than once", dups.duplicate);
      g_free (dups.duplicate);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (check, error, "is not a JSON object");
      return NULL;
    }
  return json_node_ref (root);
}

const char *
cb_json_check_string (const CbJsonCheck  *check,
                      JsonObject         *object,
                      const char         *member,
                      gboolean            optional,
                      guint               max_chars,
                      gboolean            no_controls,
                      GError            **error)
{
  JsonNode *node = json_object_get_member (object, member);
  const char *value;

  if (node == NULL)
    {
      if (!optional)
        fail (check, error, "has no \"%s\"", member);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      fail (check, error, "has a \"%s\" that is not a string", member);
      return NULL;
    }
  value = json_node_get_string (node);
  if (max_chars > 0 && g_utf8_strlen (value, -1) > max_chars)
    {
      fail (check, error, "has a \"%s\" longer than %u characters", member, max_chars);
      return NULL;
    }
  if (no_controls)
    for (const char *p = value; *p != '\0'; p++)
      if ((guchar) *p < 0x20 || *p == 0x7f)
        {
          fail (check, error, "has a control character in \"%s\"", member);
          return NULL;
        }
  return value;
}

gboolean
cb_json_check_int (const CbJsonCheck  *check,
                   JsonObject         *object,
                   const char         *member,
                   gint64              min,
                   gint64              max,
                   gint64             *out,
                   GError            **error)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 value;

  if (node == NULL)
    return fail (check, error, "has no \"%s\"", member);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return fail (check, error, "has a \"%s\" that is not an integer", member);
  value = json_node_get_int (node);
  if (value < min || value > max)
    return fail (check, error, "has \"%s\" %" G_GINT64_FORMAT ", outside %" G_GINT64_FORMAT
                 "..%" G_GINT64_FORMAT, member, value, min, max);
  *out = value;
  return TRUE;
}

gboolean
cb_json_check_time (const CbJsonCheck  *check,
                    JsonObject         *object,
                    const char         *member,
                    gint64             *out,
                    GError            **error)
{
  const char *text = cb_json_check_string (check, object, member, FALSE, 32, TRUE, error);
  g_autoptr(GDateTime) time = NULL;

  if (text == NULL)
    return FALSE;
  /* One spelling only: YYYY-MM-DDTHH:MM:SSZ. */
  if (strlen (text) != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T'
      || text[13] != ':' || text[16] != ':' || text[19] != 'Z'
      || (time = g_date_time_new_from_iso8601 (text, NULL)) == NULL)
    return fail (check, error, "has a \"%s\" that is not a UTC time like 2026-11-22T10:00:00Z",
                 member);
  *out = g_date_time_to_unix (time);
  return TRUE;
}

JsonArray *
cb_json_check_array (const CbJsonCheck  *check,
                     JsonObject         *object,
                     const char         *member,
                     guint               max_length,
                     GError            **error)
{
  JsonNode *node = json_object_get_member (object, member);
  JsonArray *array;

  if (node == NULL)
    {
      fail (check, error, "has no \"%s\"", member);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      fail (check, error, "has a \"%s\" that is not an array", member);
      return NULL;
    }
  array = json_node_get_array (node);
  if (json_array_get_length (array) > max_length)
    {
      fail (check, error, "has more than %u items in \"%s\"", max_length, member);
      return NULL;
    }
  return array;
}

gboolean
cb_json_check_hex (const CbJsonCheck  *check,
                   JsonObject         *object,
                   const char         *member,
                   guint8             *out,
                   gsize               len,
                   GError            **error)
{
  const char *text = cb_json_check_string (check, object, member, FALSE, 0, FALSE, error);

  if (text == NULL)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_isupper (*p))
      return fail (check, error, "has a \"%s\" in uppercase hex; use lowercase", member);
  if (strlen (text) != 2 * len || !cb_hex_decode (text, out, len))
    return fail (check, error, "has a \"%s\" that is not %zu hex digits", member, 2 * len);
  return TRUE;
}

char *
cb_json_format_time (gint64 unix_seconds)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (unix_seconds);

  return time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("?");
}

char *
cb_json_to_text (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}
