/* broken.c: plugins the host must refuse, one per BROKEN_* define
 *
 *   BROKEN_NOT_PLUGIN   exports nothing of ours
 *   BROKEN_ABI          claims plugin ABI 999 (no check_init, so the host's own check sees it)
 *   BROKEN_CHECK_INIT   claims ABI 999 through CB_PLUGIN_DEFINE's g_module_check_init
 *   BROKEN_NO_ENTRY     exports the ABI but no entry point
 *   BROKEN_INIT_FAILS   its entry point returns an error
 *   BROKEN_NO_SYSTEM    registers tables but no system
 *   BROKEN_BAD_TABLE    an AUTOINCREMENT table
 *   BROKEN_WRITE_QUERY  a "query" that deletes rows
 *   BROKEN_NOSY_QUERY   a query over another system's table (test/kv's kv)
 *   BROKEN_ATTACH_QUERY a query that attaches another database
 */
#include <cloud-bevy/cloud-bevy.h>

#if defined (BROKEN_NOT_PLUGIN)

G_MODULE_EXPORT int broken_nothing_here (void);
G_MODULE_EXPORT int
broken_nothing_here (void)
{
  return 42;
}

#elif defined (BROKEN_ABI)

G_MODULE_EXPORT const guint32 cloud_bevy_plugin_abi = 999;
G_MODULE_EXPORT gboolean cloud_bevy_plugin_register (CbPlugin *plugin, GError **error);
G_MODULE_EXPORT gboolean
cloud_bevy_plugin_register (CbPlugin *plugin, GError **error)
{
  g_error ("a plugin of another ABI must never be called");
  return FALSE;
}

#elif defined (BROKEN_CHECK_INIT)

#undef CB_PLUGIN_ABI_VERSION
#define CB_PLUGIN_ABI_VERSION 999
static gboolean
never (CbPlugin *plugin, GError **error)
{
  g_error ("a plugin that failed g_module_check_init must never be called");
  return FALSE;
}
CB_PLUGIN_DEFINE (never)

#elif defined (BROKEN_NO_ENTRY)

G_MODULE_EXPORT const guint32 cloud_bevy_plugin_abi = CB_PLUGIN_ABI_VERSION;

#else

static gboolean
broken_register (CbPlugin *plugin, GError **error)
{
#if defined (BROKEN_INIT_FAILS)
  g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_FAILED, "the frobnicator is missing");
  return FALSE;
#else
# if !defined (BROKEN_NO_SYSTEM)
  cb_plugin_set_system (plugin, "test.cloudbevy.org/broken", "1.0.0");
# endif
# if defined (BROKEN_BAD_TABLE)
  cb_plugin_add_table (plugin, "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)");
# else
  cb_plugin_add_table (plugin, "CREATE TABLE t (id TEXT NOT NULL PRIMARY KEY, v TEXT)");
# endif
# if defined (BROKEN_WRITE_QUERY)
  cb_plugin_add_query (plugin, "wipe", "DELETE FROM t");
# elif defined (BROKEN_NOSY_QUERY)
  cb_plugin_add_query (plugin, "peek", "SELECT key, value FROM kv");
# elif defined (BROKEN_ATTACH_QUERY)
  cb_plugin_add_query (plugin, "attach", "ATTACH DATABASE '/tmp/x.db' AS x");
# endif
  return TRUE;
#endif
}

CB_PLUGIN_DEFINE (broken_register)

#endif
