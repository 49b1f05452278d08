/* cb-transport.c: WebSocket server, dialer and the table of peer links */
#define G_LOG_DOMAIN "cb-net"

#include "cb-transport.h"

#include <libsoup/soup.h>
#include <sodium.h>

#include "cb-hex.h"
#include "cb-peer-link.h"

/* Messages held for a peer while we dial it; older ones are dropped first
 * (membership retransmits what matters). */
#define MAX_QUEUED_PER_DIAL 128
/* A bound on connections, so a flood of dials cannot exhaust descriptors. */
#define MAX_LINKS 1024
#define IDLE_CHECK_INTERVAL_S 5

typedef struct {
  guint8        peer_id[32];
  char         *addr;
  GQueue        queue;      /* GBytes*, already tagged */
  GCancellable *cancellable;
  CbPeerLink   *link;       /* while handshaking; not owned */
} Dial;

struct _CbTransport
{
  GObject      parent_instance;

  guint8       network_key[32];
  guint8       identity_secret[64];
  SoupServer  *server;
  SoupSession *session;
  GPtrArray   *links;       /* CbPeerLink*, owned: every link, handshaking or established */
  GHashTable  *dials;       /* peer id hex -> Dial* */
  guint        handshake_timeout_ms;
  guint        idle_timeout_ms;
  guint        idle_source;
  guint        port;
  gboolean     shut_down;
};

enum { SIGNAL_MESSAGE, SIGNAL_UNREACHABLE, SIGNAL_PEER_CLOSED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CbTransport, cb_transport, G_TYPE_OBJECT)

static void
dial_free (gpointer data)
{
  Dial *dial = data;

  g_cancellable_cancel (dial->cancellable);
  g_object_unref (dial->cancellable);
  g_queue_clear_full (&dial->queue, (GDestroyNotify) g_bytes_unref);
  g_free (dial->addr);
  g_free (dial);
}

static char *
id_key (const guint8 id[32])
{
  return cb_hex_encode (id, 32);
}

static CbPeerLink *
find_established (CbTransport  *self,
                  const guint8  peer_id[32])
{
  /* Newest first: after a reconnect the old link may still be closing. */
  for (guint i = self->links->len; i > 0; i--)
    {
      CbPeerLink *link = g_ptr_array_index (self->links, i - 1);
      const guint8 *id = cb_peer_link_get_peer_id (link);

      if (cb_peer_link_is_established (link) && id != NULL && memcmp (id, peer_id, 32) == 0)
        return link;
    }
  return NULL;
}

static void
fail_dial (CbTransport  *self,
           const guint8  peer_id[32],
           const char   *reason)
{
  g_autofree char *key = id_key (peer_id);
  guint8 id[32];

  if (!g_hash_table_contains (self->dials, key))
    return;
  memcpy (id, peer_id, 32);
  g_hash_table_remove (self->dials, key);
  g_debug ("peer %.16s unreachable: %s", key, reason);
  g_signal_emit (self, signals[SIGNAL_UNREACHABLE], 0, id, reason);
}

static void
flush_dial (CbTransport *self,
            CbPeerLink  *link)
{
  g_autofree char *key = id_key (cb_peer_link_get_peer_id (link));
  Dial *dial = g_hash_table_lookup (self->dials, key);
  GBytes *bytes;

  if (dial == NULL)
    return;
  while ((bytes = g_queue_pop_head (&dial->queue)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      g_autoptr(GError) error = NULL;

      if (!cb_peer_link_send (link, data, len, &error))
        g_debug ("dropping a queued message: %s", error->message);
      g_bytes_unref (bytes);
    }
  g_hash_table_remove (self->dials, key);
}

static void
on_link_established (CbPeerLink *link,
                     gpointer    user_data)
{
  CbTransport *self = user_data;
  g_autofree char *key = id_key (cb_peer_link_get_peer_id (link));

  g_debug ("connection with %.16s (%s) established", key, cb_peer_link_get_remote (link));
  flush_dial (self, link);
}

static void
on_link_message (CbPeerLink *link,
                 GBytes     *message,
                 gpointer    user_data)
{
  CbTransport *self = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  g_autoptr(GBytes) payload = NULL;

  if (len < 1)
    return;
  payload = g_bytes_new_from_bytes (message, 1, len - 1);
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, (guint) data[0],
                 (gpointer) cb_peer_link_get_peer_id (link), payload);
}

static void
on_link_closed (CbPeerLink *link,
                const char *reason,
                gpointer    user_data)
{
  CbTransport *self = user_data;
  const guint8 *peer_id = cb_peer_link_get_peer_id (link);
  GHashTableIter iter;
  Dial *dial;

  g_signal_handlers_disconnect_by_data (link, self);

  /* A dialled link that never got established fails its dial. */
  g_hash_table_iter_init (&iter, self->dials);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &dial))
    if (dial->link == link)
      {
        guint8 id[32];
        memcpy (id, dial->peer_id, 32);
        fail_dial (self, id, reason);
        break;
      }

  if (peer_id != NULL)
    {
      guint8 id[32];
      memcpy (id, peer_id, 32);
      g_signal_emit (self, signals[SIGNAL_PEER_CLOSED], 0, id,
                     g_strcmp0 (reason, "the peer closed the connection") == 0, reason);
    }
  g_ptr_array_remove_fast (self->links, link);
}

static CbPeerLink *
add_link (CbTransport             *self,
          SoupWebsocketConnection *ws,
          const char              *remote,
          gboolean                 initiator,
          const guint8            *expected_peer)
{
  CbPeerLink *link = cb_peer_link_new (ws, remote, initiator, self->network_key,
                                       self->identity_secret, expected_peer,
                                       self->handshake_timeout_ms);

  g_signal_connect (link, "established", G_CALLBACK (on_link_established), self);
  g_signal_connect (link, "message", G_CALLBACK (on_link_message), self);
  g_signal_connect (link, "closed", G_CALLBACK (on_link_closed), self);
  g_ptr_array_add (self->links, link);
  cb_peer_link_start (link);
  return link;
}

typedef struct {
  CbTransport *self;
  guint8       peer_id[32];
  Dial        *dial;  /* identity check only: may be freed, never dereferenced unchecked */
} DialContext;

static void
on_dialled (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  DialContext *ctx = user_data;
  g_autoptr(CbTransport) self = ctx->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupWebsocketConnection) ws = NULL;
  g_autofree char *key = id_key (ctx->peer_id);
  Dial *dial;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  dial = g_hash_table_lookup (self->dials, key);
  if (dial == NULL || dial != ctx->dial || self->shut_down)
    {
      /* Superseded by an inbound link, or shutting down. */
      if (ws != NULL)
        soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      g_free (ctx);
      return;
    }
  if (ws == NULL)
    {
      g_autofree char *reason = g_strdup_printf ("cannot connect to %s: %s", dial->addr,
                                                 error->message);
      fail_dial (self, ctx->peer_id, reason);
      g_free (ctx);
      return;
    }
  dial->link = add_link (self, ws, dial->addr, TRUE, ctx->peer_id);
  g_free (ctx);
}

typedef struct {
  CbTransport *self;
  guint8       peer_id[32];
  char        *reason;
} LaterFailure;

static gboolean
fail_dial_later (gpointer user_data)
{
  LaterFailure *later = user_data;

  fail_dial (later->self, later->peer_id, later->reason);
  g_object_unref (later->self);
  g_free (later->reason);
  g_free (later);
  return G_SOURCE_REMOVE;
}

static void
start_dial (CbTransport  *self,
            Dial         *dial)
{
  g_autofree char *uri = cb_transport_addr_to_uri (dial->addr);
  g_autoptr(SoupMessage) msg = uri != NULL ? soup_message_new ("GET", uri) : NULL;
  DialContext *ctx;

  if (msg == NULL)
    {
      /* Reported from the main loop: callers may be in the middle of
       * draining their own queues. */
      LaterFailure *later = g_new0 (LaterFailure, 1);
      later->self = g_object_ref (self);
      memcpy (later->peer_id, dial->peer_id, 32);
      later->reason = g_strdup_printf ("\"%s\" is not a ws:// address", dial->addr);
      g_idle_add (fail_dial_later, later);
      return;
    }
  ctx = g_new0 (DialContext, 1);
  ctx->self = g_object_ref (self);
  ctx->dial = dial;
  memcpy (ctx->peer_id, dial->peer_id, 32);
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        dial->cancellable, on_dialled, ctx);
}

void
cb_transport_send (CbTransport  *self,
                   const guint8  peer_id[32],
                   const char   *addr,
                   guint8        protocol,
                   GBytes       *payload)
{
  g_autofree char *key = NULL;
  CbPeerLink *link;
  GByteArray *tagged;
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  Dial *dial;

  g_return_if_fail (CB_IS_TRANSPORT (self));
  if (self->shut_down)
    return;

  tagged = g_byte_array_sized_new (len + 1);
  g_byte_array_append (tagged, &protocol, 1);
  g_byte_array_append (tagged, data, len);

  link = find_established (self, peer_id);
  if (link != NULL)
    {
      g_autoptr(GError) error = NULL;
      if (!cb_peer_link_send (link, tagged->data, tagged->len, &error))
        g_debug ("send failed: %s", error->message);
      g_byte_array_unref (tagged);
      return;
    }

  key = id_key (peer_id);
  dial = g_hash_table_lookup (self->dials, key);
  if (dial == NULL)
    {
      if (addr == NULL || self->links->len >= MAX_LINKS)
        {
          g_byte_array_unref (tagged);
          return;
        }
      dial = g_new0 (Dial, 1);
      memcpy (dial->peer_id, peer_id, 32);
      dial->addr = g_strdup (addr);
      dial->cancellable = g_cancellable_new ();
      g_queue_init (&dial->queue);
      g_hash_table_insert (self->dials, g_steal_pointer (&key), dial);
      start_dial (self, dial);
    }
  if (g_queue_get_length (&dial->queue) >= MAX_QUEUED_PER_DIAL)
    g_bytes_unref (g_queue_pop_head (&dial->queue));
  g_queue_push_tail (&dial->queue, g_byte_array_free_to_bytes (tagged));
}

gboolean
cb_transport_is_connected (CbTransport  *self,
                           const guint8  peer_id[32])
{
  return find_established (self, peer_id) != NULL;
}

guint
cb_transport_count_links (CbTransport *self)
{
  return self->links->len;
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  CbTransport *self = user_data;
  GSocketAddress *remote_addr = soup_server_message_get_remote_address (msg);
  g_autofree char *remote = remote_addr != NULL
    ? g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (remote_addr))
    : NULL;

  if (self->shut_down || self->links->len >= MAX_LINKS)
    {
      g_info ("refusing a connection from %s: %s", remote,
              self->shut_down ? "shutting down" : "too many connections");
      soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      return;
    }
  add_link (self, ws, remote, FALSE, NULL);
}

static gboolean
close_idle_links (gpointer user_data)
{
  CbTransport *self = user_data;
  gint64 cutoff = g_get_monotonic_time () - (gint64) self->idle_timeout_ms * 1000;
  g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < self->links->len; i++)
    {
      CbPeerLink *link = g_ptr_array_index (self->links, i);
      if (cb_peer_link_is_established (link) && cb_peer_link_get_last_activity (link) < cutoff)
        g_ptr_array_add (idle, g_object_ref (link));
    }
  for (guint i = 0; i < idle->len; i++)
    cb_peer_link_close (g_ptr_array_index (idle, i), "idle");
  return G_SOURCE_CONTINUE;
}

GSocketAddress *
cb_transport_parse_host_port (const char  *host_port,
                              GError     **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  const char *colon;
  guint64 port;
  char *end = NULL;

  colon = host_port != NULL ? strrchr (host_port, ':') : NULL;
  if (colon == NULL || colon == host_port)
    goto bad;
  if (host_port[0] == '[')
    {
      if (colon[-1] != ']')
        goto bad;
      host = g_strndup (host_port + 1, colon - host_port - 2);
    }
  else
    host = g_strndup (host_port, colon - host_port);
  port = g_ascii_strtoull (colon + 1, &end, 10);
  if (colon[1] == '\0' || *end != '\0' || port > 65535)
    goto bad;
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    goto bad;
  return g_inet_socket_address_new (inet, (guint16) port);

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "\"%s\" is not an address to listen on: use IP:PORT, e.g. 0.0.0.0:7788 "
               "or [::]:7788", host_port != NULL ? host_port : "");
  return NULL;
}

char *
cb_transport_addr_to_uri (const char *addr)
{
  g_autoptr(GUri) uri = NULL;

  if (addr == NULL)
    return NULL;
  uri = g_uri_parse (addr, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_port (uri) <= 0
      || (g_strcmp0 (g_uri_get_scheme (uri), "ws") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "wss") != 0))
    return NULL;
  if (g_uri_get_path (uri)[0] == '\0' || strcmp (g_uri_get_path (uri), "/") == 0)
    return g_strconcat (addr, g_str_has_suffix (addr, "/") ? CB_TRANSPORT_PATH + 1
                                                         : CB_TRANSPORT_PATH, NULL);
  return g_strdup (addr);
}

gboolean
cb_transport_listen (CbTransport  *self,
                     const char   *host_port,
                     GError      **error)
{
  g_autoptr(GSocketAddress) address = cb_transport_parse_host_port (host_port, error);
  GSList *listeners;

  if (address == NULL)
    return FALSE;
  if (!soup_server_listen (self->server, address, 0, error))
    return FALSE;
  listeners = soup_server_get_listeners (self->server);
  if (listeners != NULL)
    {
      g_autoptr(GSocketAddress) local = g_socket_get_local_address (listeners->data, NULL);
      if (local != NULL)
        self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    }
  g_slist_free (listeners);
  return TRUE;
}

guint
cb_transport_get_port (CbTransport *self)
{
  return self->port;
}

void
cb_transport_set_handshake_timeout (CbTransport *self,
                                    guint        timeout_ms)
{
  self->handshake_timeout_ms = timeout_ms;
}

void
cb_transport_set_idle_timeout (CbTransport *self,
                               guint        timeout_ms)
{
  self->idle_timeout_ms = timeout_ms;
  g_clear_handle_id (&self->idle_source, g_source_remove);
  if (timeout_ms > 0)
    self->idle_source = g_timeout_add_seconds (IDLE_CHECK_INTERVAL_S, close_idle_links, self);
}

void
cb_transport_disconnect (CbTransport  *self,
                         const guint8  peer_id[32],
                         const char   *reason)
{
  g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *key = id_key (peer_id);

  g_hash_table_remove (self->dials, key);
  for (guint i = 0; i < self->links->len; i++)
    {
      CbPeerLink *link = g_ptr_array_index (self->links, i);
      const guint8 *id = cb_peer_link_get_peer_id (link);

      if (id != NULL && memcmp (id, peer_id, 32) == 0)
        g_ptr_array_add (doomed, g_object_ref (link));
    }
  for (guint i = 0; i < doomed->len; i++)
    cb_peer_link_close (g_ptr_array_index (doomed, i), reason);
}

void
cb_transport_shutdown (CbTransport *self)
{
  g_autoptr(GPtrArray) links = NULL;

  if (self->shut_down)
    return;
  self->shut_down = TRUE;
  g_clear_handle_id (&self->idle_source, g_source_remove);
  soup_server_disconnect (self->server);
  g_hash_table_remove_all (self->dials);
  links = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->links->len; i++)
    g_ptr_array_add (links, g_object_ref (g_ptr_array_index (self->links, i)));
  for (guint i = 0; i < links->len; i++)
    cb_peer_link_close (g_ptr_array_index (links, i), "shutting down");
}

static void
cb_transport_dispose (GObject *object)
{
  CbTransport *self = CB_TRANSPORT (object);

  cb_transport_shutdown (self);
  g_clear_object (&self->server);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (cb_transport_parent_class)->dispose (object);
}

static void
cb_transport_finalize (GObject *object)
{
  CbTransport *self = CB_TRANSPORT (object);

  g_ptr_array_unref (self->links);
  g_hash_table_unref (self->dials);
  sodium_memzero (self->identity_secret, sizeof self->identity_secret);
  sodium_memzero (self->network_key, sizeof self->network_key);
  G_OBJECT_CLASS (cb_transport_parent_class)->finalize (object);
}

static void
cb_transport_class_init (CbTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_transport_dispose;
  object_class->finalize = cb_transport_finalize;

  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_POINTER,
                                          G_TYPE_BYTES);
  signals[SIGNAL_UNREACHABLE] = g_signal_new ("unreachable", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_STRING);
  signals[SIGNAL_PEER_CLOSED] = g_signal_new ("peer-closed", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 3, G_TYPE_POINTER, G_TYPE_BOOLEAN,
                                              G_TYPE_STRING);
}

static void
cb_transport_init (CbTransport *self)
{
  self->links = g_ptr_array_new_with_free_func (g_object_unref);
  self->dials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, dial_free);
  self->handshake_timeout_ms = CB_PEER_LINK_HANDSHAKE_TIMEOUT_MS;
}

CbTransport *
cb_transport_new (const guint8 network_key[32],
                  const guint8 identity_secret[64])
{
  CbTransport *self = g_object_new (CB_TYPE_TRANSPORT, NULL);

  memcpy (self->network_key, network_key, 32);
  memcpy (self->identity_secret, identity_secret, 64);
  self->server = soup_server_new ("server-header", NULL, NULL);
  soup_server_add_websocket_handler (self->server, CB_TRANSPORT_PATH, NULL, NULL,
                                     on_websocket, self, NULL);
  /* Node traffic is between peers: no proxy, short connect timeout. */
  self->session = soup_session_new_with_options ("timeout", 10,
                                                 "max-conns", MAX_LINKS,
                                                 "max-conns-per-host", 16,
                                                 "proxy-resolver", NULL,
                                                 NULL);
  cb_transport_set_idle_timeout (self, 60000);
  return self;
}
