/* fuzz-cloud-config.c: cloud.json comes from public repositories */
#include "cb-cloud-config.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbCloudConfig) config = cb_cloud_config_parse ((const char *) data, size, &error);

  /* Exactly one of a config or an error, always. */
  g_assert_true ((config == NULL) != (error == NULL));
  if (config)
    g_free (cb_cloud_config_to_json (config));
  return 0;
}
