/* cb-transport.h: the node's WebSocket endpoint and its connections to peers
 *
 * Listens on one address (path CB_TRANSPORT_PATH), dials peers on demand
 * and keeps one authenticated link per peer (CbPeerLink).  Messages are
 * tagged with a protocol byte so membership, replication and sessions can
 * share a link; the transport itself knows nothing about them.
 *
 * Signals:
 *   "message"     (guint protocol, gpointer peer_id[32], GBytes *payload)
 *   "unreachable" (gpointer peer_id[32], string reason): a dial failed,
 *                 the handshake failed, or the link broke with messages
 *                 still queued for it.
 *   "peer-closed" (gpointer peer_id[32], string reason): an established
 *                 link ended (another one to the same peer may remain). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CB_TRANSPORT_PATH "/cloud-bevy/1"

/* Protocol tags: the first byte of every message on a link. */
enum {
  CB_PROTO_MEMBERSHIP  = 1,
  CB_PROTO_REPLICATION = 2,
  CB_PROTO_SESSION     = 3,
  CB_PROTO_DBSET       = 4,
};

#define CB_TYPE_TRANSPORT (cb_transport_get_type ())
G_DECLARE_FINAL_TYPE (CbTransport, cb_transport, CB, TRANSPORT, GObject)

CbTransport *cb_transport_new           (const guint8  network_key[32],
                                         const guint8  identity_secret[64]);
/* host_port: "IP:PORT" or "[IPv6]:PORT"; port 0 picks a free one. */
gboolean     cb_transport_listen        (CbTransport  *self,
                                         const char   *host_port,
                                         GError      **error);
guint        cb_transport_get_port      (CbTransport  *self);
void         cb_transport_set_handshake_timeout (CbTransport *self,
                                                 guint        timeout_ms);
/* Links with no traffic for this long are closed (0 = never); default 60 s. */
void         cb_transport_set_idle_timeout      (CbTransport *self,
                                                 guint        timeout_ms);

/* Queues payload for peer_id and dials addr ("ws://HOST:PORT[/path]") if
 * there is no link yet.  Never blocks; failures come back as
 * "unreachable". */
void         cb_transport_send          (CbTransport  *self,
                                         const guint8  peer_id[32],
                                         const char   *addr,
                                         guint8        protocol,
                                         GBytes       *payload);
gboolean     cb_transport_is_connected  (CbTransport  *self,
                                         const guint8  peer_id[32]);
guint        cb_transport_count_links   (CbTransport  *self);
/* Closes every link to peer_id (final frames) and forgets queued messages. */
void         cb_transport_disconnect    (CbTransport  *self,
                                         const guint8  peer_id[32],
                                         const char   *reason);
/* Closes every link cleanly (final frames) and stops listening. */
void         cb_transport_shutdown      (CbTransport  *self);

/* ws://HOST:PORT with the transport path appended when addr has none. */
char        *cb_transport_addr_to_uri   (const char   *addr);
/* Splits "IP:PORT" / "[IPv6]:PORT" into an address; NULL + error otherwise. */
GSocketAddress *cb_transport_parse_host_port (const char *host_port,
                                              GError    **error);

G_END_DECLS
