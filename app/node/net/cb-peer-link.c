/* cb-peer-link.c: handshake and channel driven over one WebSocket */
#define G_LOG_DOMAIN "cb-net"

#include "cb-peer-link.h"

#include <sodium.h>

#include "cb-channel.h"
#include "cb-handshake.h"
#include "cb-hex.h"

struct _CbPeerLink
{
  GObject                  parent_instance;

  SoupWebsocketConnection *ws;
  char                    *remote;
  gboolean                 initiator;
  CbHandshake             *handshake;
  CbChannel               *channel;
  guint8                   peer_id[32];
  gboolean                 established;
  gboolean                 closed;
  char                    *close_reason;
  guint                    handshake_timeout_ms;
  guint                    timeout_source;
  gint64                   last_activity;
  GByteArray              *plain;
};

enum { SIGNAL_ESTABLISHED, SIGNAL_MESSAGE, SIGNAL_CLOSED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CbPeerLink, cb_peer_link, G_TYPE_OBJECT)

static const char *
peer_label (CbPeerLink *self, char buf[17])
{
  if (!self->established)
    return self->remote;
  cb_hex_encode_into (self->peer_id, 8, buf);
  return buf;
}

/* Closes for good.  violation: the peer broke the protocol (logged as a
 * warning); otherwise the end of a connection is routine (debug). */
static void
finish (CbPeerLink *self,
        gboolean    violation,
        const char *reason)
{
  char label[17];

  if (self->closed)
    return;
  /* Handlers of "closed" may drop the last other reference. */
  g_object_ref (self);
  self->closed = TRUE;
  self->close_reason = g_strdup (reason);
  g_clear_handle_id (&self->timeout_source, g_source_remove);
  if (violation)
    g_warning ("closing connection with %s: %s", peer_label (self, label), reason);
  else
    g_debug ("connection with %s closed: %s", peer_label (self, label), reason);
  if (soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->ws,
                                     violation ? SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION
                                               : SOUP_WEBSOCKET_CLOSE_NORMAL,
                                     NULL);
  g_clear_pointer (&self->handshake, cb_handshake_free);
  g_clear_pointer (&self->channel, cb_channel_free);
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, reason);
  g_object_unref (self);
}

static gboolean
send_raw (CbPeerLink  *self,
          GBytes      *bytes,
          GError     **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  /* The socket can close (the peer reset it) before libsoup tells us. */
  if (soup_websocket_connection_get_state (self->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the WebSocket is closing");
      return FALSE;
    }
  soup_websocket_connection_send_binary (self->ws, data, len);
  self->last_activity = g_get_monotonic_time ();
  return TRUE;
}

static gboolean
on_handshake_timeout (gpointer user_data)
{
  CbPeerLink *self = user_data;
  g_autofree char *reason = NULL;

  self->timeout_source = 0;
  reason = g_strdup_printf ("handshake did not complete within %u ms",
                            self->handshake_timeout_ms);
  finish (self, TRUE, reason);
  return G_SOURCE_REMOVE;
}

static void
receive_handshake (CbPeerLink   *self,
                   const guint8 *data,
                   gsize         len)
{
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(GError) error = NULL;

  if (len > CB_HANDSHAKE_MAX_MESSAGE_BYTES)
    {
      finish (self, TRUE, "handshake message longer than any the protocol has");
      return;
    }
  if (!cb_handshake_receive (self->handshake, data, len, &reply, &error))
    {
      g_autofree char *reason = g_strdup_printf ("handshake refused: %s", error->message);
      finish (self, TRUE, reason);
      return;
    }
  if (reply != NULL)
    send_raw (self, reply, NULL);
  if (!cb_handshake_is_done (self->handshake))
    return;

  memcpy (self->peer_id, cb_handshake_get_peer_id (self->handshake), 32);
  self->channel = cb_handshake_into_channel (self->handshake);
  g_clear_pointer (&self->handshake, cb_handshake_free);
  g_clear_handle_id (&self->timeout_source, g_source_remove);
  self->established = TRUE;
  g_signal_emit (self, signals[SIGNAL_ESTABLISHED], 0);
}

static void
receive_frame (CbPeerLink   *self,
               const guint8 *data,
               gsize         len)
{
  g_autoptr(GError) error = NULL;
  gboolean final = FALSE;

  g_byte_array_set_size (self->plain, 0);
  if (!cb_channel_open (self->channel, data, len, self->plain, &final, &error))
    {
      g_autofree char *reason = g_strdup_printf ("frame refused: %s", error->message);
      finish (self, TRUE, reason);
      return;
    }
  if (final)
    {
      finish (self, FALSE, "the peer closed the connection");
      return;
    }
  if (self->plain->len > 0)
    {
      g_autoptr(GBytes) message = g_bytes_new (self->plain->data, self->plain->len);
      g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, message);
    }
}

static void
on_ws_message (SoupWebsocketConnection *ws,
               gint                     type,
               GBytes                  *message,
               gpointer                 user_data)
{
  g_autoptr(CbPeerLink) self = g_object_ref (CB_PEER_LINK (user_data));
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);

  if (self->closed)
    return;
  self->last_activity = g_get_monotonic_time ();
  if (type != SOUP_WEBSOCKET_DATA_BINARY)
    finish (self, TRUE, "text message where only binary frames are allowed");
  else if (!self->established)
    receive_handshake (self, data, len);
  else
    receive_frame (self, data, len);
}

static void
on_ws_error (SoupWebsocketConnection *ws,
             GError                  *error,
             gpointer                 user_data)
{
  CbPeerLink *self = user_data;
  g_autofree char *reason = NULL;

  /* libsoup reports oversized and malformed WebSocket messages here (a
   * peer breaking the protocol), and also plain I/O failures such as a
   * reset connection (routine when a peer dies). */
  reason = g_strdup_printf ("WebSocket error: %s", error->message);
  g_object_ref (self);
  finish (self, error->domain != G_IO_ERROR, reason);
  g_object_unref (self);
}

static void
on_ws_closed (SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  CbPeerLink *self = user_data;

  g_object_ref (self);
  if (!self->established)
    finish (self, FALSE, "connection ended during the handshake");
  else
    /* Routine when a peer crashes or the network drops; a truncation
     * attack looks the same and is treated the same: nothing after the
     * last authenticated frame is trusted. */
    finish (self, FALSE, "connection ended without the peer's final frame "
                         "(cut short or the peer stopped)");
  g_object_unref (self);
}

void
cb_peer_link_start (CbPeerLink *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (CB_IS_PEER_LINK (self));

  self->timeout_source = g_timeout_add (self->handshake_timeout_ms, on_handshake_timeout, self);
  if (self->initiator)
    {
      g_autoptr(GBytes) m1 = cb_handshake_start (self->handshake, &error);
      if (m1 == NULL)
        {
          finish (self, TRUE, error->message);
          return;
        }
      send_raw (self, m1, NULL);
    }
}

gboolean
cb_peer_link_send (CbPeerLink   *self,
                   const guint8 *data,
                   gsize         len,
                   GError      **error)
{
  g_autoptr(GBytes) frame = NULL;

  g_return_val_if_fail (CB_IS_PEER_LINK (self), FALSE);

  if (self->closed || !self->established)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   "the connection is %s", self->closed ? "closed" : "not established yet");
      return FALSE;
    }
  frame = cb_channel_seal (self->channel, data, len, FALSE, error);
  if (frame == NULL)
    return FALSE;
  return send_raw (self, frame, error);
}

void
cb_peer_link_close (CbPeerLink *self,
                    const char *reason)
{
  g_return_if_fail (CB_IS_PEER_LINK (self));

  if (self->closed)
    return;
  if (self->established)
    {
      g_autoptr(GBytes) final = cb_channel_seal (self->channel, NULL, 0, TRUE, NULL);
      if (final != NULL)
        send_raw (self, final, NULL);
    }
  g_object_ref (self);
  finish (self, FALSE, reason);
  g_object_unref (self);
}

gboolean
cb_peer_link_is_established (CbPeerLink *self)
{
  return self->established && !self->closed;
}

gboolean
cb_peer_link_is_closed (CbPeerLink *self)
{
  return self->closed;
}

const guint8 *
cb_peer_link_get_peer_id (CbPeerLink *self)
{
  return self->established ? self->peer_id : NULL;
}

const char *
cb_peer_link_get_remote (CbPeerLink *self)
{
  return self->remote;
}

const char *
cb_peer_link_get_close_reason (CbPeerLink *self)
{
  return self->close_reason;
}

gint64
cb_peer_link_get_last_activity (CbPeerLink *self)
{
  return self->last_activity;
}

static void
cb_peer_link_dispose (GObject *object)
{
  CbPeerLink *self = CB_PEER_LINK (object);

  g_clear_handle_id (&self->timeout_source, g_source_remove);
  if (self->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->ws, self);
      if (soup_websocket_connection_get_state (self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      g_clear_object (&self->ws);
    }
  G_OBJECT_CLASS (cb_peer_link_parent_class)->dispose (object);
}

static void
cb_peer_link_finalize (GObject *object)
{
  CbPeerLink *self = CB_PEER_LINK (object);

  g_clear_pointer (&self->handshake, cb_handshake_free);
  g_clear_pointer (&self->channel, cb_channel_free);
  g_byte_array_unref (self->plain);
  g_free (self->remote);
  g_free (self->close_reason);
  G_OBJECT_CLASS (cb_peer_link_parent_class)->finalize (object);
}

static void
cb_peer_link_class_init (CbPeerLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_peer_link_dispose;
  object_class->finalize = cb_peer_link_finalize;

  signals[SIGNAL_ESTABLISHED] = g_signal_new ("established", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 0);
  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_BYTES);
  signals[SIGNAL_CLOSED] = g_signal_new ("closed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
cb_peer_link_init (CbPeerLink *self)
{
  self->plain = g_byte_array_new ();
  self->last_activity = g_get_monotonic_time ();
}

CbPeerLink *
cb_peer_link_new (SoupWebsocketConnection *ws,
                  const char              *remote,
                  gboolean                 initiator,
                  const guint8             network_key[32],
                  const guint8             identity_secret[64],
                  const guint8            *expected_peer,
                  guint                    handshake_timeout_ms)
{
  CbPeerLink *self = g_object_new (CB_TYPE_PEER_LINK, NULL);
  guint8 seed[CB_HANDSHAKE_SEED_BYTES];

  randombytes_buf (seed, sizeof seed);
  self->ws = g_object_ref (ws);
  self->remote = g_strdup (remote != NULL ? remote : "an unknown address");
  self->initiator = initiator;
  self->handshake = cb_handshake_new (initiator, network_key, identity_secret,
                                      expected_peer, seed);
  sodium_memzero (seed, sizeof seed);
  self->handshake_timeout_ms = handshake_timeout_ms > 0 ? handshake_timeout_ms
                                                        : CB_PEER_LINK_HANDSHAKE_TIMEOUT_MS;
  /* The largest thing a peer may send is one sealed frame. */
  soup_websocket_connection_set_max_incoming_payload_size (ws, CB_CHANNEL_MAX_SEALED);
  g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), self);
  g_signal_connect (ws, "error", G_CALLBACK (on_ws_error), self);
  g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), self);
  return self;
}
