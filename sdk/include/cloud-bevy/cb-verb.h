/* cb-verb.h: verbs, the actions a system offers
 *
 * A verb is a named action with JSON parameters.  The same verb is what
 * `cloud-bevy-node apps run SYSTEM VERB NAME=VALUE...` runs on a headless
 * node and what the system's web UI calls through its bridge
 * (cloudbevy.call()), so everything a user can do can be scripted. */
#pragma once

#if !defined (CLOUD_BEVY_INSIDE) && !defined (CB_SDK_COMPILATION)
# error "Only <cloud-bevy/cloud-bevy.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "cb-context.h"
#include "cb-sdk-version.h"

G_BEGIN_DECLS

typedef struct _CbVerbCall CbVerbCall;

/* Answer exactly once, now or later (after an async write, say), with
 * cb_verb_call_return() or cb_verb_call_return_error().  params is owned
 * by the call; from the CLI every value is a string. */
typedef void (*CbVerbFunc) (CbContext  *context,
                            JsonObject *params,
                            CbVerbCall *call,
                            gpointer    user_data);

/* result: transfer full; NULL answers null. */
CB_SDK_AVAILABLE_IN_1_0
void cb_verb_call_return       (CbVerbCall *call,
                                JsonNode   *result);
/* error: transfer full. */
CB_SDK_AVAILABLE_IN_1_0
void cb_verb_call_return_error (CbVerbCall *call,
                                GError     *error);

G_END_DECLS
