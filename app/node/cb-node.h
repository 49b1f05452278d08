/* cb-node.h: a running cloud node
 *
 * Ties the parts together: the identity in the data dir, the cloud's
 * definition, the WebSocket transport, the membership core, the lists on
 * public domains (read at start and whenever the node is alone, written
 * while it is an elected publisher) and the control socket.  The headless
 * cloud-bevy-node and the browser run the same object. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "cb-cloud-config.h"

G_BEGIN_DECLS

#define CB_TYPE_NODE (cb_node_get_type ())
G_DECLARE_FINAL_TYPE (CbNode, cb_node, CB, NODE, GObject)

#define CB_NODE_DEFAULT_PORT 7788

/* Loads (or on first use creates) the identity in data_dir; a key file that
 * is unreadable, corrupt or readable by others is an error, never replaced.
 * The node copies what it needs from cloud. */
CbNode     *cb_node_new                 (const char           *data_dir,
                                         const CbCloudConfig  *cloud,
                                         GError              **error);
/* "IP:PORT"; default 0.0.0.0:7788.  Set before cb_node_start(). */
void        cb_node_set_listen          (CbNode      *self,
                                         const char  *host_port);
/* What others should dial: "ws://HOST:PORT" or "HOST:PORT"; default from
 * the listen address. */
gboolean    cb_node_set_advertise       (CbNode      *self,
                                         const char  *addr,
                                         GError     **error);
/* A publisher key file (as written by init-cloud); the cloud must trust its
 * public key.  Makes this node eligible for the publisher role. */
gboolean    cb_node_set_publisher_key   (CbNode      *self,
                                         const char  *path,
                                         GError     **error);
/* Hosts a system (before cb_node_start()): its data is stored and
 * replicated here, and the cloud learns that this node hosts it.  A
 * built-in name (test/kv) needs no plugin. */
gboolean    cb_node_host_system         (CbNode      *self,
                                         const char  *system,
                                         GError     **error);
/* Listens, opens the control socket, reads the lists and joins. */
gboolean    cb_node_start               (CbNode      *self,
                                         GError     **error);
/* Announces that we leave, lets it spread, closes every link cleanly. */
void        cb_node_stop_async          (CbNode              *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gboolean    cb_node_stop_finish         (CbNode              *self,
                                         GAsyncResult        *result,
                                         GError             **error);

const char *cb_node_get_id              (CbNode      *self);
const char *cb_node_get_listen          (CbNode      *self);
const char *cb_node_get_advertise       (CbNode      *self);
gboolean    cb_node_is_publisher        (CbNode      *self);
/* {"id", "cloud", "listen", "advertise", "roles", "peers": [...],
 *  "lists": [...], "publishing": {...}}; "changed" is emitted whenever it
 * would differ. */
JsonNode   *cb_node_get_status          (CbNode      *self);

G_END_DECLS
