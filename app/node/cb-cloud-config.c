/* cb-cloud-config.c: parse and check cloud.json
 *
 * cloud.json travels with releases and lives in public repositories, so it
 * is read like any untrusted document: every field is checked and a
 * mistake is reported with the field's name. */
#define G_LOG_DOMAIN "cb-cloud-config"

#include "cb-cloud-config.h"
#include "cb-hex.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define MAX_CONFIG_BYTES (256 * 1024)

G_DEFINE_QUARK (cb-cloud-config-error-quark, cb_cloud_config_error)

void
cb_cloud_config_free (CbCloudConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->name);
  g_free (config->publisher_keys);
  g_strfreev (config->lists);
  g_clear_pointer (&config->system_min_hosts, g_hash_table_unref);
  g_free (config);
}

static gboolean
invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError     **error,
         const char  *format,
         ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CB_CLOUD_CONFIG_ERROR, CB_CLOUD_CONFIG_ERROR_INVALID,
               "cloud.json: %s", message);
  return FALSE;
}

/* Reads an optional unsigned integer member within [min, max]. */
static gboolean
get_uint (JsonObject *object,
          const char *member,
          guint       fallback,
          guint       min,
          guint       max,
          guint      *out,
          GError    **error)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 value;

  if (node == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return invalid (error, "\"%s\" must be a whole number", member);
  value = json_node_get_int (node);
  if (value < min || value > max)
    return invalid (error, "\"%s\" is %" G_GINT64_FORMAT ", it must be between %u and %u",
                    member, value, min, max);
  *out = (guint) value;
  return TRUE;
}

static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
is_list_url (const char *url)
{
  static const char * const prefixes[] = {
    "file://", "https://", "http://", "git+file://", "git+https://", "github://", NULL,
  };

  for (guint i = 0; prefixes[i]; i++)
    if (g_str_has_prefix (url, prefixes[i]) && strlen (url) > strlen (prefixes[i]))
      return TRUE;
  return FALSE;
}

static gboolean
parse_publishers (JsonObject     *root,
                  CbCloudConfig  *config,
                  GError        **error)
{
  JsonNode *node = json_object_get_member (root, "publishers");
  JsonObject *publishers;
  JsonArray *keys;
  JsonNode *fraction;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "\"publishers\" must be an object with the publishers' \"keys\"");
  publishers = json_node_get_object (node);
  node = json_object_get_member (publishers, "keys");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, "\"publishers.keys\" must be a list of ed25519 public keys in hex");
  keys = json_node_get_array (node);
  if (json_array_get_length (keys) == 0 || json_array_get_length (keys) > CB_CLOUD_MAX_PUBLISHER_KEYS)
    return invalid (error, "\"publishers.keys\" must hold between 1 and %d keys",
                    CB_CLOUD_MAX_PUBLISHER_KEYS);
  config->n_publisher_keys = json_array_get_length (keys);
  config->publisher_keys = g_malloc0_n (config->n_publisher_keys, 32);
  for (guint i = 0; i < config->n_publisher_keys; i++)
    {
      JsonNode *key = json_array_get_element (keys, i);
      const char *hex = (JSON_NODE_HOLDS_VALUE (key) &&
                         json_node_get_value_type (key) == G_TYPE_STRING)
                        ? json_node_get_string (key) : NULL;

      if (!cb_hex_decode (hex, config->publisher_keys[i], 32))
        return invalid (error, "publisher key %u is not 64 hex digits", i + 1);
    }

  if (!get_uint (publishers, "min", 1, 1, 1000, &config->publishers_min, error) ||
      !get_uint (publishers, "max", 7, 1, 1000, &config->publishers_max, error))
    return FALSE;
  if (config->publishers_min > config->publishers_max)
    return invalid (error, "\"publishers.min\" (%u) is larger than \"publishers.max\" (%u)",
                    config->publishers_min, config->publishers_max);
  config->publishers_max_fraction = 0.10;
  fraction = json_object_get_member (publishers, "max_fraction");
  if (fraction != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (fraction) ||
          (json_node_get_value_type (fraction) != G_TYPE_DOUBLE &&
           json_node_get_value_type (fraction) != G_TYPE_INT64))
        return invalid (error, "\"publishers.max_fraction\" must be a number");
      config->publishers_max_fraction = json_node_get_double (fraction);
      if (!(config->publishers_max_fraction > 0.0 && config->publishers_max_fraction <= 1.0))
        return invalid (error, "\"publishers.max_fraction\" must be above 0 and at most 1");
    }
  return TRUE;
}

static gboolean
parse_lists (JsonObject     *root,
             CbCloudConfig  *config,
             GError        **error)
{
  JsonNode *node = json_object_get_member (root, "lists");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *lists;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, "\"lists\" must be a list of URLs where the cloud's node lists live");
  lists = json_node_get_array (node);
  if (json_array_get_length (lists) > CB_CLOUD_MAX_LISTS)
    return invalid (error, "\"lists\" holds more than %d URLs", CB_CLOUD_MAX_LISTS);
  for (guint i = 0; i < json_array_get_length (lists); i++)
    {
      JsonNode *url = json_array_get_element (lists, i);
      const char *text = (JSON_NODE_HOLDS_VALUE (url) &&
                          json_node_get_value_type (url) == G_TYPE_STRING)
                         ? json_node_get_string (url) : NULL;

      if (text == NULL || strlen (text) > 2048 || !is_list_url (text))
        return invalid (error, "list %u is not a file://, https://, git+file://, git+https:// "
                        "or github:// URL", i + 1);
      g_strv_builder_add (builder, text);
    }
  config->lists = g_strv_builder_end (builder);
  return TRUE;
}

static gboolean
parse_systems (JsonObject     *root,
               CbCloudConfig  *config,
               GError        **error)
{
  JsonNode *node = json_object_get_member (root, "systems");
  JsonObject *systems;
  g_autoptr(GList) names = NULL;

  config->system_min_hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "\"systems\" must be an object of per-system policies");
  systems = json_node_get_object (node);
  names = json_object_get_members (systems);
  for (GList *l = names; l; l = l->next)
    {
      JsonNode *policy = json_object_get_member (systems, l->data);
      guint min_hosts;

      if (strlen (l->data) == 0 || strlen (l->data) > 255)
        return invalid (error, "a system name in \"systems\" is empty or too long");
      if (!JSON_NODE_HOLDS_OBJECT (policy))
        return invalid (error, "the policy of system \"%s\" must be an object", (char *) l->data);
      if (!get_uint (json_node_get_object (policy), "min_hosts", 1, 0, 1000000, &min_hosts, error))
        return FALSE;
      g_hash_table_insert (config->system_min_hosts, g_strdup (l->data), GUINT_TO_POINTER (min_hosts));
    }
  return TRUE;
}

static gboolean
parse_membership (JsonObject     *root,
                  CbCloudConfig  *config,
                  GError        **error)
{
  JsonNode *node = json_object_get_member (root, "membership");
  JsonObject *object;

  if (node == NULL)
    {
      config->probe_interval_ms = 300;
      config->suspicion_min_ms = 3000;
      config->suspicion_max_ms = 9000;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "\"membership\" must be an object");
  object = json_node_get_object (node);
  if (!get_uint (object, "probe_interval_ms", 300, 50, 60000, &config->probe_interval_ms, error) ||
      !get_uint (object, "suspicion_min_ms", 3000, 100, 600000, &config->suspicion_min_ms, error) ||
      !get_uint (object, "suspicion_max_ms", 9000, 100, 3600000, &config->suspicion_max_ms, error))
    return FALSE;
  if (config->suspicion_max_ms < config->suspicion_min_ms)
    return invalid (error, "\"membership\": suspicion_max_ms (%u) is below suspicion_min_ms (%u)",
                    config->suspicion_max_ms, config->suspicion_min_ms);
  return TRUE;
}

CbCloudConfig *
cb_cloud_config_parse (const char  *json,
                       gsize        len,
                       GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(CbCloudConfig) config = g_new0 (CbCloudConfig, 1);
  g_autoptr(GError) local_error = NULL;
  JsonNode *root_node;
  JsonObject *root;
  const char *name, *key_hex;

  if (len > MAX_CONFIG_BYTES)
    {
      g_set_error (error, CB_CLOUD_CONFIG_ERROR, CB_CLOUD_CONFIG_ERROR_MALFORMED,
                   "cloud.json is %" G_GSIZE_FORMAT " bytes, more than the %d allowed",
                   len, MAX_CONFIG_BYTES);
      return NULL;
    }
  if (!g_utf8_validate (json, (gssize) len, NULL) || memchr (json, '\0', len) != NULL ||
      !json_parser_load_from_data (parser, json, (gssize) len, &local_error))
    {
      g_set_error (error, CB_CLOUD_CONFIG_ERROR, CB_CLOUD_CONFIG_ERROR_MALFORMED,
                   "cloud.json is not valid JSON: %s",
                   local_error ? local_error->message : "not UTF-8 text");
      return NULL;
    }
  root_node = json_parser_get_root (parser);
  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node))
    {
      g_set_error (error, CB_CLOUD_CONFIG_ERROR, CB_CLOUD_CONFIG_ERROR_MALFORMED,
                   "cloud.json must hold a JSON object");
      return NULL;
    }
  root = json_node_get_object (root_node);

  name = get_string (root, "name");
  if (name == NULL || *name == '\0' || strlen (name) > 64)
    {
      invalid (error, "\"name\" must be a non-empty string of at most 64 bytes");
      return NULL;
    }
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      {
        invalid (error, "\"name\" may only hold letters, digits, '-', '_' and '.'");
        return NULL;
      }
  config->name = g_strdup (name);

  key_hex = get_string (root, "network_key");
  if (!cb_hex_decode (key_hex, config->network_key, 32))
    {
      invalid (error, "\"network_key\" must be 64 hex digits (32 random bytes)");
      return NULL;
    }

  if (!get_uint (root, "version", 1, 1, G_MAXUINT32, &config->version, error) ||
      !parse_publishers (root, config, error) ||
      !parse_lists (root, config, error) ||
      !get_uint (root, "db_set_size", 100, 1, 100000, &config->db_set_size, error) ||
      !get_uint (root, "db_sets_tracked", 100, 1, 100000, &config->db_sets_tracked, error) ||
      !get_uint (root, "list_ttl_seconds", 86400, 60, 365 * 86400, &config->list_ttl_seconds, error) ||
      !parse_systems (root, config, error) ||
      !parse_membership (root, config, error))
    return NULL;

  return g_steal_pointer (&config);
}

CbCloudConfig *
cb_cloud_config_load (const char  *path,
                      GError     **error)
{
  g_autofree char *contents = NULL;
  gsize len;
  g_autoptr(GError) local_error = NULL;
  CbCloudConfig *config;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  config = cb_cloud_config_parse (contents, len, &local_error);
  if (config == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code, "%s: %s", path,
                   local_error->message);
      return NULL;
    }
  return config;
}

char *
cb_cloud_config_to_json (const CbCloudConfig *config)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  char hex[65];
  g_autoptr(GList) systems = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, config->name);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, config->version);
  json_builder_set_member_name (builder, "network_key");
  cb_hex_encode_into (config->network_key, 32, hex);
  json_builder_add_string_value (builder, hex);

  json_builder_set_member_name (builder, "publishers");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "keys");
  json_builder_begin_array (builder);
  for (guint i = 0; i < config->n_publisher_keys; i++)
    {
      cb_hex_encode_into (config->publisher_keys[i], 32, hex);
      json_builder_add_string_value (builder, hex);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "min");
  json_builder_add_int_value (builder, config->publishers_min);
  json_builder_set_member_name (builder, "max");
  json_builder_add_int_value (builder, config->publishers_max);
  json_builder_set_member_name (builder, "max_fraction");
  json_builder_add_double_value (builder, config->publishers_max_fraction);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "lists");
  json_builder_begin_array (builder);
  for (guint i = 0; config->lists && config->lists[i]; i++)
    json_builder_add_string_value (builder, config->lists[i]);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "db_set_size");
  json_builder_add_int_value (builder, config->db_set_size);
  json_builder_set_member_name (builder, "db_sets_tracked");
  json_builder_add_int_value (builder, config->db_sets_tracked);
  json_builder_set_member_name (builder, "list_ttl_seconds");
  json_builder_add_int_value (builder, config->list_ttl_seconds);

  json_builder_set_member_name (builder, "systems");
  json_builder_begin_object (builder);
  if (config->system_min_hosts)
    systems = g_hash_table_get_keys (config->system_min_hosts);
  systems = g_list_sort (systems, (GCompareFunc) strcmp);
  for (GList *l = systems; l; l = l->next)
    {
      json_builder_set_member_name (builder, l->data);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "min_hosts");
      json_builder_add_int_value (builder,
                                  GPOINTER_TO_UINT (g_hash_table_lookup (config->system_min_hosts, l->data)));
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "membership");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "probe_interval_ms");
  json_builder_add_int_value (builder, config->probe_interval_ms);
  json_builder_set_member_name (builder, "suspicion_min_ms");
  json_builder_add_int_value (builder, config->suspicion_min_ms);
  json_builder_set_member_name (builder, "suspicion_max_ms");
  json_builder_add_int_value (builder, config->suspicion_max_ms);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}
