/* test-cloud-config.c: cloud.json is checked field by field */
#include "cb-cloud-config.h"

#include <string.h>

#define KEY_A "aa00000000000000000000000000000000000000000000000000000000000001"
#define KEY_B "bb00000000000000000000000000000000000000000000000000000000000002"

static const char *good =
  "{ \"name\": \"demo\", \"version\": 3,"
  "  \"network_key\": \"" KEY_A "\","
  "  \"publishers\": { \"keys\": [\"" KEY_B "\"], \"min\": 1, \"max\": 7, \"max_fraction\": 0.1 },"
  "  \"lists\": [\"git+file:///srv/demo.git#nodes.json\", \"https://example.org/nodes.json\"],"
  "  \"db_set_size\": 100, \"db_sets_tracked\": 100,"
  "  \"systems\": { \"github.com/event-games\": { \"min_hosts\": 2 } },"
  "  \"membership\": { \"probe_interval_ms\": 200, \"suspicion_min_ms\": 2000 } }";

static void
test_parse_good (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbCloudConfig) config = cb_cloud_config_parse (good, strlen (good), &error);
  g_autoptr(CbCloudConfig) again = NULL;
  g_autofree char *json = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (config->name, ==, "demo");
  g_assert_cmpuint (config->version, ==, 3);
  g_assert_cmpuint (config->network_key[0], ==, 0xaa);
  g_assert_cmpuint (config->n_publisher_keys, ==, 1);
  g_assert_cmpuint (config->publisher_keys[0][0], ==, 0xbb);
  g_assert_cmpuint (g_strv_length (config->lists), ==, 2);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (config->system_min_hosts,
                                                           "github.com/event-games")), ==, 2);
  g_assert_cmpuint (config->list_ttl_seconds, ==, 86400);
  g_assert_cmpuint (config->probe_interval_ms, ==, 200);
  g_assert_cmpuint (config->suspicion_min_ms, ==, 2000);
  g_assert_cmpuint (config->suspicion_max_ms, ==, 9000);  /* the default */

  /* What we write, we read back the same. */
  json = cb_cloud_config_to_json (config);
  again = cb_cloud_config_parse (json, strlen (json), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->name, ==, "demo");
  g_assert_cmpmem (again->network_key, 32, config->network_key, 32);
  g_assert_cmpstrv (again->lists, config->lists);
  g_assert_cmpuint (again->probe_interval_ms, ==, 200);
  g_assert_cmpuint (again->suspicion_min_ms, ==, 2000);
}

static void
assert_rejected (const char *json,
                 const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbCloudConfig) config = cb_cloud_config_parse (json, strlen (json), &error);

  g_assert_null (config);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  if (strstr (error->message, needle) == NULL)
    g_error ("message \"%s\" does not mention \"%s\"", error->message, needle);
}

static char *
with (const char *from, const char *to)
{
  g_autoptr(GString) s = g_string_new (good);

  g_assert_nonnull (strstr (good, from));
  g_string_replace (s, from, to, 1);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
test_rejections (void)
{
  const struct { const char *from, *to, *needle; } cases[] = {
    { "\"demo\"", "\"\"", "\"name\"" },
    { "\"demo\"", "\"de mo\"", "\"name\" may only" },
    { "\"demo\"", "7", "\"name\"" },
    { "\"" KEY_A "\"", "\"abc\"", "\"network_key\"" },
    { "\"" KEY_A "\"", "\"" KEY_A "00\"", "\"network_key\"" },
    { "[\"" KEY_B "\"]", "[]", "\"publishers.keys\"" },
    { "[\"" KEY_B "\"]", "[\"xyz\"]", "publisher key 1" },
    { "[\"" KEY_B "\"]", "[5]", "publisher key 1" },
    { "\"min\": 1", "\"min\": 9", "larger than" },
    { "\"max_fraction\": 0.1", "\"max_fraction\": 2", "max_fraction" },
    { "\"version\": 3", "\"version\": -1", "\"version\"" },
    { "\"version\": 3", "\"version\": \"3\"", "whole number" },
    { "\"https://example.org/nodes.json\"", "\"ftp://x/y\"", "list 2" },
    { "\"db_set_size\": 100", "\"db_set_size\": 0", "\"db_set_size\"" },
    { "{ \"min_hosts\": 2 }", "3", "policy of system" },
    { "{ \"min_hosts\": 2 }", "{ \"min_hosts\": true }", "\"min_hosts\"" },
    { "\"probe_interval_ms\": 200", "\"probe_interval_ms\": 10", "\"probe_interval_ms\"" },
    { "\"suspicion_min_ms\": 2000", "\"suspicion_min_ms\": 20000", "below suspicion_min_ms" },
    { "{ \"probe_interval_ms\": 200, \"suspicion_min_ms\": 2000 }", "[]", "\"membership\" must be" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json = with (cases[i].from, cases[i].to);
      assert_rejected (json, cases[i].needle);
    }
  assert_rejected ("", "JSON object");
  assert_rejected ("[1,2]", "JSON object");
  assert_rejected ("{\"name\": \"x\"", "not valid JSON");
  assert_rejected ("{\"name\": \"\xff\"}", "not valid JSON");
  assert_rejected ("{}", "\"name\"");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/cloud-config/parse-good", test_parse_good);
  g_test_add_func ("/node/cloud-config/rejections", test_rejections);
  return g_test_run ();
}
