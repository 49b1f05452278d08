/* fuzz-plugin-manifest.c: manifests come from other people's builds */
#include "cb-plugin-manifest.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbPluginManifest) manifest = cb_plugin_manifest_parse (data, size, &error);

  /* Exactly one of a manifest or an error, always. */
  if ((manifest == NULL) == (error == NULL))
    __builtin_trap ();
  if (manifest != NULL && (manifest->system == NULL || manifest->core == NULL))
    __builtin_trap ();
  return 0;
}
