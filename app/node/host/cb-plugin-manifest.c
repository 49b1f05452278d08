/* cb-plugin-manifest.c: the checked decoder of NAME.cbplugin */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-plugin-manifest.h"

#include <string.h>

#include "cb-json-check.h"
#include "cb-repo-format.h"
#include "cb-sdk-host.h"
#include "cb-version.h"

G_DEFINE_QUARK (cb-plugin-manifest-error-quark, cb_plugin_manifest_error)

void
cb_plugin_manifest_free (CbPluginManifest *manifest)
{
  if (manifest == NULL)
    return;
  g_free (manifest->system);
  g_free (manifest->version);
  g_free (manifest->title);
  g_free (manifest->description);
  g_free (manifest->abi);
  g_free (manifest->core);
  g_free (manifest->ui);
  g_free (manifest);
}

/* A file beside the manifest: no directories, no hidden files. */
static gboolean
file_name_ok (const char *name)
{
  if (name[0] == '\0' || name[0] == '.' || strlen (name) > 255)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_' && *p != '+')
      return FALSE;
  return TRUE;
}

CbPluginManifest *
cb_plugin_manifest_parse (const guint8  *data,
                          gsize          len,
                          GError       **error)
{
  const CbJsonCheck check = { CB_PLUGIN_MANIFEST_ERROR, CB_PLUGIN_MANIFEST_ERROR_MALFORMED,
                              "the plugin manifest" };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(CbPluginManifest) manifest = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *obj;
  const char *format, *system, *version, *title, *description, *abi, *core, *ui;

  if (len > CB_PLUGIN_MANIFEST_MAX)
    {
      g_set_error (error, CB_PLUGIN_MANIFEST_ERROR, CB_PLUGIN_MANIFEST_ERROR_MALFORMED,
                   "the plugin manifest is %zu bytes; at most %d are accepted", len,
                   CB_PLUGIN_MANIFEST_MAX);
      return NULL;
    }
  root = cb_json_check_parse_object (&check, (const char *) data, len, error);
  if (root == NULL)
    return NULL;
  obj = json_node_get_object (root);
  if ((format = cb_json_check_string (&check, obj, "format", FALSE, 64, TRUE, error)) == NULL)
    return NULL;
  if (strcmp (format, CB_PLUGIN_MANIFEST_FORMAT) != 0)
    {
      g_set_error (error, CB_PLUGIN_MANIFEST_ERROR, CB_PLUGIN_MANIFEST_ERROR_UNSUPPORTED,
                   "the plugin manifest is in the format \"%s\"; this tool reads \"%s\"", format,
                   CB_PLUGIN_MANIFEST_FORMAT);
      return NULL;
    }
  if ((system = cb_json_check_string (&check, obj, "system", FALSE, 0, TRUE, error)) == NULL
      || (version = cb_json_check_string (&check, obj, "version", FALSE, 0, TRUE, error)) == NULL
      || (title = cb_json_check_string (&check, obj, "title", FALSE, CB_REPO_MAX_TITLE, TRUE,
                                        error)) == NULL
      || (description = cb_json_check_string (&check, obj, "description", FALSE,
                                              CB_REPO_MAX_DESCRIPTION, TRUE, error)) == NULL
      || (abi = cb_json_check_string (&check, obj, "abi", FALSE, 64, TRUE, error)) == NULL
      || (core = cb_json_check_string (&check, obj, "core", FALSE, 0, TRUE, error)) == NULL)
    return NULL;
  ui = cb_json_check_string (&check, obj, "ui", TRUE, 0, TRUE, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!cb_system_name_validate (system, &local_error)
      || !cb_version_validate (version, &local_error))
    {
      g_set_error (error, CB_PLUGIN_MANIFEST_ERROR, CB_PLUGIN_MANIFEST_ERROR_MALFORMED,
                   "the plugin manifest: %s", local_error->message);
      return NULL;
    }
  if (strcmp (abi, CB_SDK_ABI_NAME) != 0)
    {
      g_set_error (error, CB_PLUGIN_MANIFEST_ERROR, CB_PLUGIN_MANIFEST_ERROR_UNSUPPORTED,
                   "the plugin %s was built for %s; this SDK is %s", system, abi,
                   CB_SDK_ABI_NAME);
      return NULL;
    }
  if (!file_name_ok (core) || (ui != NULL && !file_name_ok (ui)))
    {
      g_set_error (error, CB_PLUGIN_MANIFEST_ERROR, CB_PLUGIN_MANIFEST_ERROR_MALFORMED,
                   "the plugin manifest names its modules \"%s\"%s%s; they must be file names "
                   "beside it (letters, digits, . - _ +)", core, ui ? " and " : "", ui ? ui : "");
      return NULL;
    }
  if (*title == '\0')
    {
      g_set_error (error, CB_PLUGIN_MANIFEST_ERROR, CB_PLUGIN_MANIFEST_ERROR_MALFORMED,
                   "the plugin manifest has an empty \"title\"");
      return NULL;
    }
  manifest = g_new0 (CbPluginManifest, 1);
  manifest->system = g_strdup (system);
  manifest->version = g_strdup (version);
  manifest->title = g_strdup (title);
  manifest->description = g_strdup (description);
  manifest->abi = g_strdup (abi);
  manifest->core = g_strdup (core);
  manifest->ui = g_strdup (ui);
  return g_steal_pointer (&manifest);
}

CbPluginManifest *
cb_plugin_manifest_load (const char  *path,
                         GError     **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  CbPluginManifest *manifest;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  manifest = cb_plugin_manifest_parse ((const guint8 *) contents, len, error);
  if (manifest == NULL)
    g_prefix_error (error, "%s: ", path);
  return manifest;
}
