/* big.c: the benchmark's plugin, about 1 MB with its web assets
 *
 * A real plugin (a table, a query, a verb, a web UI) whose UI carries a
 * megabyte of incompressible data, so installing it moves a megabyte. */
#include <cloud-bevy/cloud-bevy.h>

#include "big-resources.h"

static void
touch_verb (CbContext *context, JsonObject *params, CbVerbCall *call, gpointer user_data)
{
  cb_verb_call_return (call, NULL);
}

static gboolean
big_register (CbPlugin *plugin, GError **error)
{
  cb_plugin_set_system (plugin, "test.cloudbevy.org/big", "1.0.0");
  cb_plugin_add_table (plugin, "CREATE TABLE items (id TEXT NOT NULL PRIMARY KEY, v BLOB)");
  cb_plugin_add_query (plugin, "items", "SELECT id FROM items ORDER BY id");
  cb_plugin_add_verb (plugin, "touch", "Nothing", "", touch_verb, NULL, NULL);
  cb_plugin_set_web_ui (plugin, big_get_resource (), "/org/cloudbevy/big/web");
  return TRUE;
}

CB_PLUGIN_DEFINE (big_register)
