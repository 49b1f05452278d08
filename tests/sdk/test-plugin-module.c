/* test-plugin-module.c: loading plugins, refusing broken ones, and what a
 * loaded plugin's registration does for the host */
#include "cb-plugin-module.h"

#include <gmodule.h>
#include <sodium.h>

#include "cb-changeset.h"
#include "cb-hex.h"

static char *
plugin_path (const char *name)
{
  return g_build_filename (g_getenv ("CB_TEST_PLUGINS"), name, NULL);
}

static CbPluginModule *
load_notes (void)
{
  g_autofree char *path = plugin_path ("notes.so");
  g_autoptr(GError) error = NULL;
  CbPluginModule *module = cb_plugin_module_load (path, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (module);
  return module;
}

static void
test_load (void)
{
  g_autoptr(CbPluginModule) module = load_notes ();
  g_auto(GStrv) queries = cb_plugin_module_list_queries (module);
  CbSchema *schema = cb_plugin_module_get_schema (module);

  g_assert_true (cb_plugin_module_is_loaded (module));
  g_assert_cmpstr (cb_plugin_module_get_system (module), ==, "test.cloudbevy.org/notes");
  g_assert_cmpstr (cb_plugin_module_get_version (module), ==, "1.0.0");
  g_assert_cmpuint (cb_schema_get_n_tables (schema), ==, 1);
  g_assert_cmpstr (cb_schema_get_table (schema, 0)->name, ==, "notes");
  g_assert_cmpuint (g_strv_length (queries), ==, 3);
  g_assert_cmpstr (queries[0], ==, "all");
  g_assert_nonnull (cb_plugin_module_lookup_verb (module, "add"));
  g_assert_null (cb_plugin_module_lookup_verb (module, "nope"));
  g_assert_true (cb_plugin_module_has_web_ui (module));

  cb_plugin_module_unload (module);
  g_assert_false (cb_plugin_module_is_loaded (module));
  g_assert_null (cb_plugin_module_lookup_verb (module, "add"));
}

static void
check_refused (const char *file,
               GQuark      domain,
               int         code,
               const char *needle)
{
  g_autofree char *path = plugin_path (file);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbPluginModule) module = cb_plugin_module_load (path, NULL, NULL, &error);

  g_assert_null (module);
  g_assert_error (error, domain, code);
  g_test_message ("%s: %s", file, error->message);
  if (strstr (error->message, needle) == NULL)
    g_error ("\"%s\" does not say \"%s\"", error->message, needle);
}

static void
test_refused (void)
{
  check_refused ("does-not-exist.so", CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_LOAD,
                 "cannot load the plugin");
  check_refused ("broken-not-plugin.so", CB_PLUGIN_MODULE_ERROR,
                 CB_PLUGIN_MODULE_ERROR_NOT_PLUGIN, "is not a Cloud Bevy plugin");
  check_refused ("broken-abi.so", CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_ABI,
                 "built for plugin ABI 999");
  check_refused ("broken-check-init.so", CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_LOAD,
                 "another plugin ABI");
  check_refused ("broken-no-entry.so", CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_NO_ENTRY,
                 "has no entry point");
  check_refused ("broken-init-fails.so", CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_INIT,
                 "the frobnicator is missing");
  check_refused ("broken-no-system.so", CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_INVALID,
                 "cb_plugin_set_system");
  check_refused ("broken-bad-table.so", CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_INVALID,
                 "AUTOINCREMENT");
  check_refused ("broken-write-query.so", CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_INVALID,
                 "\"wipe\"");
  /* Its own tables only: another system's table does not exist for it. */
  check_refused ("broken-nosy-query.so", CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_INVALID,
                 "kv");
  check_refused ("broken-attach-query.so", CB_PLUGIN_MODULE_ERROR,
                 CB_PLUGIN_MODULE_ERROR_INVALID, "\"attach\"");
}

static void
test_mismatch (void)
{
  g_autofree char *path = plugin_path ("notes.so");
  g_autoptr(GError) error = NULL;
  g_autoptr(CbPluginModule) other = cb_plugin_module_load (path, "test.cloudbevy.org/other",
                                                           NULL, &error);

  g_assert_null (other);
  g_assert_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_MISMATCH);
  g_clear_error (&error);
  other = cb_plugin_module_load (path, "test.cloudbevy.org/notes", "1.1.0", &error);
  g_assert_null (other);
  g_assert_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "version 1.1.0"));
}

static GBytes *
note_changeset (CbSchema *schema, const char *id, const char *author, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbChangesetBuilder) builder = cb_changeset_builder_new (schema, &error);
  g_autoptr(JsonObject) row = json_object_new ();
  GBytes *changeset;

  json_object_set_string_member (row, "id", id);
  json_object_set_string_member (row, "author", author);
  json_object_set_string_member (row, "text", text);
  g_assert_true (cb_changeset_builder_upsert (builder, "notes", row, &error));
  g_assert_no_error (error);
  changeset = cb_changeset_builder_finish (builder, &error);
  g_assert_no_error (error);
  return changeset;
}

static void
test_validator (void)
{
  g_autoptr(CbPluginModule) module = load_notes ();
  CbSchema *schema = cb_plugin_module_get_schema (module);
  guint8 writer[32];
  char writer_hex[65];
  g_autoptr(GBytes) good = NULL;
  g_autoptr(GBytes) forbidden = NULL;
  g_autoptr(GBytes) impostor = NULL;
  g_autoptr(GBytes) long_text = NULL;
  g_autofree char *hundred_and_one = g_strnfill (101, 'x');
  g_autoptr(GError) error = NULL;

  randombytes_buf (writer, sizeof writer);
  cb_hex_encode_into (writer, 32, writer_hex);
  good = note_changeset (schema, "a", writer_hex, "hello");
  forbidden = note_changeset (schema, "b", writer_hex, "this is forbidden");
  impostor = note_changeset (schema, "c", "00ff", "hello");
  long_text = note_changeset (schema, "d", writer_hex, hundred_and_one);

  g_assert_true (cb_plugin_module_validate_entry ("test.cloudbevy.org/notes", writer, good,
                                                  module, &error));
  g_assert_no_error (error);
  g_assert_true (cb_plugin_module_check_local (module, writer, good, &error));
  g_assert_false (cb_plugin_module_validate_entry ("test.cloudbevy.org/notes", writer,
                                                   forbidden, module, &error));
  g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "forbidden"));
  g_clear_error (&error);
  g_assert_false (cb_plugin_module_check_local (module, writer, impostor, &error));
  g_assert_nonnull (strstr (error->message, "author"));
  g_clear_error (&error);
  g_assert_false (cb_plugin_module_check_local (module, writer, long_text, &error));
  g_assert_nonnull (strstr (error->message, "101 characters"));
  g_clear_error (&error);

  /* Once unloaded, nothing of the plugin runs: every entry is refused. */
  cb_plugin_module_unload (module);
  g_assert_false (cb_plugin_module_validate_entry ("test.cloudbevy.org/notes", writer, good,
                                                   module, &error));
  g_assert_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_UNLOADED);
}

static void
test_queries (void)
{
  g_autoptr(CbPluginModule) module = load_notes ();
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;

  sql = cb_plugin_module_bind_query (module, "all", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sql, ==, "SELECT id, author, text FROM notes ORDER BY id");
  g_clear_pointer (&sql, g_free);

  /* Values become literals by SQLite's own quoting: no injection. */
  json_object_set_string_member (params, "pattern", "it's %'; DROP TABLE notes; --");
  json_object_set_int_member (params, "limit", 5);
  sql = cb_plugin_module_bind_query (module, "search", params, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sql, ==, "SELECT id, text FROM notes WHERE text LIKE "
                   "'it''s %''; DROP TABLE notes; --' ORDER BY id LIMIT 5");
  g_clear_pointer (&sql, g_free);

  /* Parameters not given are NULL, even after an earlier call gave them. */
  sql = cb_plugin_module_bind_query (module, "by-id", NULL, &error);
  g_assert_cmpstr (sql, ==, "SELECT text FROM notes WHERE id = NULL");
  g_clear_pointer (&sql, g_free);

  json_object_set_string_member (params, "nope", "x");
  g_assert_null (cb_plugin_module_bind_query (module, "search", params, &error));
  g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (cb_plugin_module_bind_query (module, "missing", NULL, &error));
  g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "all, by-id, search"));
}

static void
test_web_files (void)
{
  g_autoptr(CbPluginModule) module = load_notes ();
  g_autoptr(GError) error = NULL;
  g_autofree char *type = NULL;
  g_autoptr(GBytes) index = cb_plugin_module_read_web_file (module, "/", &type, &error);
  g_autoptr(GBytes) js = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (type, ==, "text/html");
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (index, NULL), g_bytes_get_size (index),
                                  "<h1>Notes</h1>"));
  g_clear_pointer (&type, g_free);
  js = cb_plugin_module_read_web_file (module, "/notes.js", &type, &error);
  g_assert_cmpstr (type, ==, "text/javascript");
  for (guint i = 0; i < 4; i++)
    {
      const char *bad[] = { "/../web/index.html", "/missing.html", "//index.html", "index.html" };
      g_autoptr(GBytes) none = cb_plugin_module_read_web_file (module, bad[i], NULL, &error);

      g_assert_null (none);
      g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_NOT_FOUND);
      g_clear_error (&error);
    }
}

static void
test_sessions (void)
{
  g_autoptr(CbPluginModule) module = load_notes ();
  GModule *self = NULL;
  guint (*received) (void) = NULL;
  g_autoptr(GBytes) move = g_bytes_new_static ("e2e4", 4);
  g_autoptr(GBytes) too_long = g_bytes_new_static ("a move much too long", 20);
  g_autoptr(GError) error = NULL;

  self = g_module_open (cb_plugin_module_get_path (module), G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  g_assert_true (g_module_symbol (self, "notes_sessions_received", (gpointer *) &received));
  g_assert_cmpuint (received (), ==, 0);
  g_assert_true (cb_plugin_module_session_message (module, NULL, "game-1", "abcd", move, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (received (), ==, 1);
  g_assert_false (cb_plugin_module_session_message (module, NULL, "game-1", "abcd", too_long,
                                                    &error));
  g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED);
  g_assert_cmpuint (received (), ==, 1);
  g_module_close (self);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/sdk/plugin-module/load", test_load);
  g_test_add_func ("/sdk/plugin-module/refused", test_refused);
  g_test_add_func ("/sdk/plugin-module/mismatch", test_mismatch);
  g_test_add_func ("/sdk/plugin-module/validator", test_validator);
  g_test_add_func ("/sdk/plugin-module/queries", test_queries);
  g_test_add_func ("/sdk/plugin-module/web-files", test_web_files);
  g_test_add_func ("/sdk/plugin-module/sessions", test_sessions);
  return g_test_run ();
}
