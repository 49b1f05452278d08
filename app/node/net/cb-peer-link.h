/* cb-peer-link.h: one authenticated, encrypted connection to another node
 *
 * Drives the sans-IO handshake and channel over a libsoup WebSocket: every
 * binary WebSocket message is one handshake message or one sealed channel
 * frame.  The link fails closed: a handshake that does not verify or does
 * not finish within the timeout, a text message, an oversized message, a
 * frame that does not open (altered, replayed, reordered), or the
 * connection ending without the peer's final frame all close it, and the
 * reason is logged and kept (cb_peer_link_get_close_reason()).
 *
 * Signals: "established" once the peer is verified; "message" (GBytes) for
 * each opened frame; "closed" (string reason) exactly once. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define CB_TYPE_PEER_LINK (cb_peer_link_get_type ())
G_DECLARE_FINAL_TYPE (CbPeerLink, cb_peer_link, CB, PEER_LINK, GObject)

/* Default time a handshake may take before the link is closed. */
#define CB_PEER_LINK_HANDSHAKE_TIMEOUT_MS 5000

/* expected_peer (32 bytes) or NULL to accept any member of the cloud.
 * Call cb_peer_link_start() once the signals are connected. */
CbPeerLink   *cb_peer_link_new              (SoupWebsocketConnection *ws,
                                             const char              *remote,
                                             gboolean                 initiator,
                                             const guint8             network_key[32],
                                             const guint8             identity_secret[64],
                                             const guint8            *expected_peer,
                                             guint                    handshake_timeout_ms);
void          cb_peer_link_start            (CbPeerLink   *self);
gboolean      cb_peer_link_is_established   (CbPeerLink   *self);
gboolean      cb_peer_link_is_closed        (CbPeerLink   *self);
/* The verified peer id once established, else NULL. */
const guint8 *cb_peer_link_get_peer_id      (CbPeerLink   *self);
/* Where the connection came from or went to, for logs. */
const char   *cb_peer_link_get_remote       (CbPeerLink   *self);
const char   *cb_peer_link_get_close_reason (CbPeerLink   *self);
/* Monotonic time (µs) of the last frame sent or received. */
gint64        cb_peer_link_get_last_activity (CbPeerLink  *self);
gboolean      cb_peer_link_send             (CbPeerLink   *self,
                                             const guint8 *data,
                                             gsize         len,
                                             GError      **error);
/* Sends the final frame (when established) and closes the connection. */
void          cb_peer_link_close            (CbPeerLink   *self,
                                             const char   *reason);

G_END_DECLS
