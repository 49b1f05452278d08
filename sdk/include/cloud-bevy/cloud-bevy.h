/* cloud-bevy.h: the Cloud Bevy SDK, for plugins (include only this)
 *
 * A plugin's core module includes this header and links
 * libcloud-bevy-sdk-1 only (pkg-config cloud-bevy-sdk-1): no GTK, so a
 * headless node can host its system.  A native UI lives in a separate UI
 * module that includes <cloud-bevy/cloud-bevy-ui.h> instead. */
#pragma once

#define CLOUD_BEVY_INSIDE
# include "cb-sdk-version.h"
# include "cb-sdk-error.h"
# include "cb-system-name.h"
# include "cb-entry.h"
# include "cb-context.h"
# include "cb-verb.h"
# include "cb-plugin.h"
#undef CLOUD_BEVY_INSIDE
