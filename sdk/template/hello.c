/* hello.c: the smallest useful Cloud Bevy plugin
 *
 * A system (example.org/hello) with one table, a rule every node applies
 * to every entry, a named query, a verb and a web UI.  See the SDK's
 * README.md for what each call does. */
#include <cloud-bevy/cloud-bevy.h>

#include "hello-resources.h"

#define MAX_NAME 40

/* Every node runs this on every entry, its own and its peers'. */
static gboolean
check_entry (const CbEntry  *entry,
             gpointer        user_data,
             GError        **error)
{
  for (guint i = 0; i < cb_entry_get_n_changes (entry); i++)
    {
      JsonObject *row = cb_entry_get_change_row (entry, i);
      const char *name;

      if (cb_entry_get_change_kind (entry, i) == CB_CHANGE_DELETE)
        continue;
      name = json_object_get_string_member_with_default (row, "name", "");
      if (*name == '\0' || g_utf8_strlen (name, -1) > MAX_NAME)
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                       "a name must be 1 to %d characters", MAX_NAME);
          return FALSE;
        }
    }
  return TRUE;
}

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  CbVerbCall *call = user_data;
  GError *error = NULL;

  if (cb_context_write_finish (CB_CONTEXT (source), result, &error))
    cb_verb_call_return (call, NULL);
  else
    cb_verb_call_return_error (call, error);
}

/* greet name=NAME: from the CLI, or cloudbevy.call('greet', {name}) in the UI. */
static void
greet (CbContext  *context,
       JsonObject *params,
       CbVerbCall *call,
       gpointer    user_data)
{
  g_autoptr(JsonArray) rows = json_array_new ();
  JsonObject *row = json_object_new ();
  g_autofree char *id = g_uuid_string_random ();

  json_object_set_string_member (row, "id", id);
  json_object_set_string_member (row, "name",
                                 json_object_get_string_member_with_default (params, "name", ""));
  json_object_set_int_member (row, "said_at", g_get_real_time () / G_USEC_PER_SEC);
  json_array_add_object_element (rows, row);
  cb_context_upsert_async (context, "greetings", rows, NULL, on_written, call);
}

static gboolean
hello_register (CbPlugin  *plugin,
                GError   **error)
{
  cb_plugin_set_system (plugin, "example.org/hello", HELLO_VERSION);
  cb_plugin_add_table (plugin,
                       "CREATE TABLE greetings (id TEXT NOT NULL PRIMARY KEY, "
                       "name TEXT NOT NULL, said_at INTEGER NOT NULL)");
  cb_plugin_add_query (plugin, "recent",
                       "SELECT name, said_at FROM greetings ORDER BY said_at DESC "
                       "LIMIT coalesce(:limit, 20)");
  cb_plugin_set_entry_validator (plugin, check_entry, NULL, NULL);
  cb_plugin_add_verb (plugin, "greet", "Say hello", "name=NAME", greet, NULL, NULL);
  cb_plugin_set_web_ui (plugin, hello_get_resource (), "/org/example/hello/web");
  return TRUE;
}

CB_PLUGIN_DEFINE (hello_register)
