/* cb-cloud-init.h: create a new cloud (init-cloud) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_CLOUD_FILE "cloud.json"
#define CB_PUBLISHER_KEY_FILE "publisher.key"

/* Creates in @dir: a random network key, a publisher key pair (the secret
 * in publisher.key, 0600), cloud.json naming @lists (file://DIR/nodes.json
 * when @lists is empty) and a first signed, empty list at each of them.
 * Refuses to touch a directory that already holds a cloud. */
gboolean cb_cloud_init (const char         *dir,
                        const char         *name,
                        const char * const *lists,
                        const char         *github_token,
                        GError            **error);

G_END_DECLS
