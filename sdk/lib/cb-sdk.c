/* cb-sdk.c: the SDK's version, ABI check and error domain */
#define G_LOG_DOMAIN "cb-sdk"

#include "cb-sdk-host.h"

G_DEFINE_QUARK (cb-sdk-error-quark, cb_sdk_error)

const char *
cb_sdk_get_version (void)
{
  return CB_SDK_VERSION_S;
}

guint
cb_sdk_get_abi_version (void)
{
  return CB_PLUGIN_ABI_VERSION;
}

const char *
cb_sdk_check_abi (guint plugin_abi)
{
  if (plugin_abi == CB_PLUGIN_ABI_VERSION)
    return NULL;
  /* Static text: g_module_check_init() returns it as the load error. */
  return "the plugin was built for another plugin ABI than this " CB_SDK_ABI_NAME
         " library; rebuild it against " CB_SDK_ABI_NAME;
}
