/* cb-sdk-error.h: the one error domain plugins see */
#pragma once

#if !defined (CLOUD_BEVY_INSIDE) && !defined (CB_SDK_COMPILATION)
# error "Only <cloud-bevy/cloud-bevy.h> can be included directly."
#endif

#include <glib.h>

#include "cb-sdk-version.h"

G_BEGIN_DECLS

#define CB_SDK_ERROR (cb_sdk_error_quark ())

typedef enum {
  CB_SDK_ERROR_FAILED,       /* anything else; the message says what */
  CB_SDK_ERROR_INVALID,      /* bad rows, parameters or registrations */
  CB_SDK_ERROR_NOT_FOUND,    /* no such table, query, verb or file */
  CB_SDK_ERROR_REFUSED,      /* the system's own rules or its hosting policy refuse it */
  CB_SDK_ERROR_UNAVAILABLE,  /* the system is not running here (disabled, removed, stopping) */
} CbSdkError;

CB_SDK_AVAILABLE_IN_1_0
GQuark cb_sdk_error_quark (void);

G_END_DECLS
