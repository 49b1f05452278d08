/* cb-list-publish.h: write a publisher's view of the cloud back to a list source
 *
 * read -> verify -> merge with our nodes -> sign -> compare-and-swap write;
 * when someone else wrote in between, read again and retry (a few times,
 * after a short random pause), so concurrent publishers all get their
 * nodes in. */
#pragma once

#include "cb-list-source.h"
#include "cb-node-list.h"

G_BEGIN_DECLS

#define CB_LIST_PUBLISH_MAX_ATTEMPTS 8

/* @mine: the nodes this publisher knows (cloud name and version are taken
 * from it; version may be 0).  @trusted_keys: the cloud's publisher keys;
 * the key of @publisher_secret is trusted in addition.  The published list
 * is valid from @now for @ttl_seconds; nodes last seen before @drop_before
 * are left out.  @node_id (may be NULL) names the publishing node in the
 * commit message, since several nodes may share one publisher key.  A list on the source that does not verify (unknown key,
 * altered, another cloud) is not overwritten: the publish fails. */
void     cb_list_publish_async  (CbListSource        *source,
                                 const CbNodeList    *mine,
                                 const guint8       (*trusted_keys)[32],
                                 gsize                n_keys,
                                 const guint8         publisher_secret[64],
                                 gint64               now,
                                 gint64               ttl_seconds,
                                 gint64               drop_before,
                                 const char          *node_id,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
gboolean cb_list_publish_finish (CbListSource        *source,
                                 GAsyncResult        *result,
                                 guint64             *published_version,
                                 guint               *attempts,
                                 GError             **error);

G_END_DECLS
