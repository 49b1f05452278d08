/* cb-system-name.h: what a system may be called, and its web origin
 *
 * A system is named like a repository path: a domain its publisher
 * controls, then one or more names, all lowercase:
 *
 *   github.com/event-games      test/kv      example.org/games/chess
 *
 * domain := label ('.' label)*      name := label
 * label  := [a-z0-9] ([a-z0-9-]* [a-z0-9])?   (at most 63 characters)
 *
 * At most CB_SYSTEM_NAME_MAX bytes.  A system's web UI is served at
 * cloudapp://ORIGIN/ where ORIGIN is the name with every '/' written as
 * '+' (github.com+event-games): '+' is in no name, so each system has an
 * origin of its own and the name can be read back from it. */
#pragma once

#if !defined (CLOUD_BEVY_INSIDE) && !defined (CB_SDK_COMPILATION)
# error "Only <cloud-bevy/cloud-bevy.h> can be included directly."
#endif

#include <glib.h>

#include "cb-sdk-version.h"

G_BEGIN_DECLS

#define CB_SYSTEM_NAME_MAX 255
#define CB_CLOUDAPP_URI_SCHEME "cloudapp"

/* FALSE with a CB_SDK_ERROR_INVALID error saying what is wrong. */
CB_SDK_AVAILABLE_IN_1_0
gboolean  cb_system_name_validate       (const char  *system,
                                         GError     **error);
/* "github.com+event-games"; NULL for an invalid name. */
CB_SDK_AVAILABLE_IN_1_0
char     *cb_system_name_to_origin_host (const char  *system);
/* The reverse; NULL when host is no system's origin. */
CB_SDK_AVAILABLE_IN_1_0
char     *cb_system_name_from_origin_host (const char *host);

G_END_DECLS
