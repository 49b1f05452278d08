/* cb-builtin-systems.h: systems every node can host without a plugin
 *
 * `test/kv` is a small key-value system that goes through exactly the path
 * plugins will use (declared tables, a validator for incoming entries), so
 * the store and replication can be tested before any plugin exists. */
#pragma once

#include "cb-schema.h"
#include "cb-store.h"

G_BEGIN_DECLS

#define CB_TEST_KV_SYSTEM "test/kv"
/* test/kv's own rule: values of at most this many bytes. */
#define CB_TEST_KV_MAX_VALUE 4096

/* NULL (and an error listing what there is) for an unknown name. */
CbSchema          *cb_builtin_system_schema    (const char  *name,
                                                GError     **error);
CbStoreValidator   cb_builtin_system_validator (const char  *name);

G_END_DECLS
