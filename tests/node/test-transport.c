/* test-transport.c: peer links over real WebSockets on 127.0.0.1
 *
 * Two CbTransports (or one and a hand-driven raw client that runs the
 * handshake itself, so it can replay, reorder, flip and cut frames) talk
 * through libsoup on loopback.  Every refusal must close the connection and
 * log why. */
#define G_LOG_DOMAIN "cb-test-transport"

#include <libsoup/soup.h>
#include <sodium.h>
#include <string.h>

#include "cb-channel.h"
#include "cb-handshake.h"
#include "cb-peer-link.h"
#include "cb-transport.h"

typedef struct {
  guint8 pk[32];
  guint8 sk[64];
} Key;

static guint8 network_key[32];
static guint8 other_network_key[32];

static void
key_new (Key *key)
{
  crypto_sign_keypair (key->pk, key->sk);
}

static void
run_until (gboolean *flag)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!*flag)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
run_for (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
}

static char *
listen_any (CbTransport *t)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (cb_transport_listen (t, "127.0.0.1:0", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cb_transport_get_port (t), >, 0);
  return g_strdup_printf ("ws://127.0.0.1:%u", cb_transport_get_port (t));
}

/* What a transport reported. */
typedef struct {
  gboolean got_message;
  guint    protocol;
  guint8   from[32];
  char    *payload;
  gboolean unreachable;
  char    *unreachable_reason;
  gboolean peer_closed;
  gboolean peer_closed_clean;
  char    *peer_closed_reason;
} Seen;

static void
seen_clear (Seen *seen)
{
  g_free (seen->payload);
  g_free (seen->unreachable_reason);
  g_free (seen->peer_closed_reason);
  memset (seen, 0, sizeof *seen);
}

static void
on_message (CbTransport *t, guint protocol, gpointer peer_id, GBytes *payload, gpointer data)
{
  Seen *seen = data;

  seen->got_message = TRUE;
  seen->protocol = protocol;
  memcpy (seen->from, peer_id, 32);
  g_free (seen->payload);
  seen->payload = g_strndup (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
}

static void
on_unreachable (CbTransport *t, gpointer peer_id, const char *reason, gpointer data)
{
  Seen *seen = data;

  seen->unreachable = TRUE;
  g_free (seen->unreachable_reason);
  seen->unreachable_reason = g_strdup (reason);
}

static void
on_peer_closed (CbTransport *t, gpointer peer_id, gboolean clean, const char *reason,
                gpointer data)
{
  Seen *seen = data;

  seen->peer_closed = TRUE;
  seen->peer_closed_clean = clean;
  g_free (seen->peer_closed_reason);
  seen->peer_closed_reason = g_strdup (reason);
}

static CbTransport *
transport_new (const guint8 net[32], const Key *key, Seen *seen)
{
  CbTransport *t = cb_transport_new (net, key->sk);

  g_signal_connect (t, "message", G_CALLBACK (on_message), seen);
  g_signal_connect (t, "unreachable", G_CALLBACK (on_unreachable), seen);
  g_signal_connect (t, "peer-closed", G_CALLBACK (on_peer_closed), seen);
  return t;
}

static void
send_text (CbTransport *t, const Key *to, const char *addr, const char *text)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));

  cb_transport_send (t, to->pk, addr, CB_PROTO_MEMBERSHIP, bytes);
}

static void
test_exchange (void)
{
  Key ka, kb;
  Seen sa = { 0 }, sb = { 0 };
  g_autoptr(CbTransport) a = NULL;
  g_autoptr(CbTransport) b = NULL;
  g_autofree char *addr_a = NULL;
  g_autofree char *addr_b = NULL;

  key_new (&ka);
  key_new (&kb);
  a = transport_new (network_key, &ka, &sa);
  b = transport_new (network_key, &kb, &sb);
  addr_a = listen_any (a);
  addr_b = listen_any (b);

  /* Queued while dialling, delivered once the handshake is done. */
  send_text (b, &ka, addr_a, "first");
  send_text (b, &ka, addr_a, "second");
  run_until (&sa.got_message);
  g_assert_cmpuint (sa.protocol, ==, CB_PROTO_MEMBERSHIP);
  g_assert_cmpmem (sa.from, 32, kb.pk, 32);
  g_assert_true (cb_transport_is_connected (b, ka.pk));
  g_assert_true (cb_transport_is_connected (a, kb.pk));
  while (g_strcmp0 (sa.payload, "second") != 0)
    g_main_context_iteration (NULL, TRUE);

  /* The reply reuses the link A accepted: no second connection. */
  send_text (a, &kb, addr_b, "reply");
  run_until (&sb.got_message);
  g_assert_cmpstr (sb.payload, ==, "reply");
  g_assert_cmpmem (sb.from, 32, ka.pk, 32);
  g_assert_cmpuint (cb_transport_count_links (a), ==, 1);

  /* A clean shutdown is seen as clean (final frame) by the other side. */
  cb_transport_shutdown (b);
  run_until (&sa.peer_closed);
  g_assert_true (sa.peer_closed_clean);
  seen_clear (&sa);
  seen_clear (&sb);
}

static void
test_unreachable (void)
{
  Key ka, kb;
  Seen sb = { 0 };
  g_autoptr(CbTransport) b = NULL;
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *addr = NULL;

  key_new (&ka);
  key_new (&kb);
  b = transport_new (network_key, &kb, &sb);
  /* A port that was free a moment ago: connection refused. */
  g_assert_true (g_socket_bind (sock, any, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  addr = g_strdup_printf ("ws://127.0.0.1:%u",
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (sock, NULL);
  send_text (b, &ka, addr, "anyone there?");
  run_until (&sb.unreachable);
  g_assert_nonnull (strstr (sb.unreachable_reason, "cannot connect"));

  /* Not a ws:// address at all. */
  seen_clear (&sb);
  send_text (b, &ka, "http://127.0.0.1:1", "x");
  run_until (&sb.unreachable);
  g_assert_nonnull (strstr (sb.unreachable_reason, "not a ws:// address"));
  seen_clear (&sb);
}

static void
test_wrong_network (void)
{
  Key ka, kb;
  Seen sa = { 0 }, sb = { 0 };
  g_autoptr(CbTransport) a = NULL;
  g_autoptr(CbTransport) b = NULL;
  g_autofree char *addr_a = NULL;

  key_new (&ka);
  key_new (&kb);
  a = transport_new (network_key, &ka, &sa);
  b = transport_new (other_network_key, &kb, &sb);
  addr_a = listen_any (a);

  g_test_expect_message ("cb-net", G_LOG_LEVEL_WARNING,
                         "*handshake refused*not authenticated by this cloud's network key*");
  send_text (b, &ka, addr_a, "let me in");
  run_until (&sb.unreachable);
  g_test_assert_expected_messages ();
  g_assert_false (sa.got_message);
  g_assert_false (cb_transport_is_connected (a, kb.pk));
  seen_clear (&sa);
  seen_clear (&sb);
}

static void
test_unexpected_peer (void)
{
  Key ka, kb, kc;
  Seen sa = { 0 }, sb = { 0 };
  g_autoptr(CbTransport) a = NULL;
  g_autoptr(CbTransport) b = NULL;
  g_autofree char *addr_a = NULL;

  key_new (&ka);
  key_new (&kb);
  key_new (&kc);
  a = transport_new (network_key, &ka, &sa);
  b = transport_new (network_key, &kb, &sb);
  addr_a = listen_any (a);

  /* B believes C lives at A's address (a stale list): it must not talk to A. */
  g_test_expect_message ("cb-net", G_LOG_LEVEL_WARNING, "*but node*was expected*");
  send_text (b, &kc, addr_a, "for C only");
  run_until (&sb.unreachable);
  g_test_assert_expected_messages ();
  g_assert_nonnull (strstr (sb.unreachable_reason, "was expected"));
  run_for (100);
  g_assert_false (sa.got_message);
  seen_clear (&sa);
  seen_clear (&sb);
}

/* ---- a raw client that runs the handshake itself ---- */

typedef struct {
  SoupWebsocketConnection *ws;
  GQueue                   incoming;  /* GBytes* */
  gboolean                 closed;
  CbChannel               *channel;
} Raw;

static void
raw_on_message (SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data)
{
  Raw *raw = data;
  g_queue_push_tail (&raw->incoming, g_bytes_ref (msg));
}

static void
raw_on_closed (SoupWebsocketConnection *ws, gpointer data)
{
  ((Raw *) data)->closed = TRUE;
}

static void
on_raw_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  Raw *raw = data;
  g_autoptr(GError) error = NULL;

  raw->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  g_assert_no_error (error);
  g_signal_connect (raw->ws, "message", G_CALLBACK (raw_on_message), raw);
  g_signal_connect (raw->ws, "closed", G_CALLBACK (raw_on_closed), raw);
}

static GBytes *
raw_next (Raw *raw)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (g_queue_is_empty (&raw->incoming))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  return g_queue_pop_head (&raw->incoming);
}

static void
raw_connect (Raw *raw, SoupSession *session, const char *addr)
{
  g_autofree char *uri = cb_transport_addr_to_uri (addr);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);

  memset (raw, 0, sizeof *raw);
  g_queue_init (&raw->incoming);
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_raw_connected, raw);
  while (raw->ws == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* Runs the initiator's side of the handshake by hand. */
static void
raw_handshake (Raw *raw, const Key *me, const Key *server)
{
  guint8 seed[32];
  g_autoptr(CbHandshake) hs = NULL;
  g_autoptr(GBytes) m1 = NULL;
  g_autoptr(GBytes) m2 = NULL;
  g_autoptr(GBytes) m3 = NULL;
  g_autoptr(GError) error = NULL;

  randombytes_buf (seed, sizeof seed);
  hs = cb_handshake_new (TRUE, network_key, me->sk, server->pk, seed);
  m1 = cb_handshake_start (hs, &error);
  g_assert_no_error (error);
  soup_websocket_connection_send_binary (raw->ws, g_bytes_get_data (m1, NULL),
                                         g_bytes_get_size (m1));
  m2 = raw_next (raw);
  g_assert_true (cb_handshake_receive (hs, g_bytes_get_data (m2, NULL), g_bytes_get_size (m2),
                                       &m3, &error));
  g_assert_no_error (error);
  soup_websocket_connection_send_binary (raw->ws, g_bytes_get_data (m3, NULL),
                                         g_bytes_get_size (m3));
  g_assert_true (cb_handshake_is_done (hs));
  raw->channel = cb_handshake_into_channel (hs);
}

static GBytes *
raw_seal (Raw *raw, const char *text)
{
  g_autoptr(GError) error = NULL;
  guint8 buf[64];
  GBytes *frame;

  buf[0] = CB_PROTO_MEMBERSHIP;
  memcpy (buf + 1, text, strlen (text));
  frame = cb_channel_seal (raw->channel, buf, strlen (text) + 1, FALSE, &error);
  g_assert_no_error (error);
  return frame;
}

static void
raw_send (Raw *raw, GBytes *frame)
{
  soup_websocket_connection_send_binary (raw->ws, g_bytes_get_data (frame, NULL),
                                         g_bytes_get_size (frame));
}

static void
raw_clear (Raw *raw)
{
  g_queue_clear_full (&raw->incoming, (GDestroyNotify) g_bytes_unref);
  g_clear_pointer (&raw->channel, cb_channel_free);
  if (raw->ws != NULL)
    g_signal_handlers_disconnect_by_data (raw->ws, raw);
  g_clear_object (&raw->ws);
}

typedef enum { TAMPER_REPLAY, TAMPER_REORDER, TAMPER_FLIP, TAMPER_TEXT } Tamper;

static void
test_tampered (gconstpointer data)
{
  Tamper tamper = GPOINTER_TO_INT (data);
  Key ka, kb;
  Seen sa = { 0 };
  Raw raw;
  g_autoptr(CbTransport) a = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *addr_a = NULL;
  g_autoptr(GBytes) f1 = NULL;
  g_autoptr(GBytes) f2 = NULL;

  key_new (&ka);
  key_new (&kb);
  a = transport_new (network_key, &ka, &sa);
  addr_a = listen_any (a);
  raw_connect (&raw, session, addr_a);
  raw_handshake (&raw, &kb, &ka);
  f1 = raw_seal (&raw, "one");
  f2 = raw_seal (&raw, "two");

  g_test_expect_message ("cb-net", G_LOG_LEVEL_WARNING,
                         tamper == TAMPER_TEXT ? "*text message*" : "*frame refused*");
  switch (tamper)
    {
    case TAMPER_REPLAY:
      raw_send (&raw, f1);
      run_until (&sa.got_message);
      g_assert_cmpstr (sa.payload, ==, "one");
      raw_send (&raw, f1);
      break;
    case TAMPER_REORDER:
      raw_send (&raw, f1);
      run_until (&sa.got_message);
      {
        g_autoptr(GBytes) f3 = raw_seal (&raw, "three");
        raw_send (&raw, f3);  /* f2 skipped */
      }
      break;
    case TAMPER_FLIP:
      {
        g_autoptr(GByteArray) bad = g_byte_array_new ();
        g_byte_array_append (bad, g_bytes_get_data (f1, NULL), g_bytes_get_size (f1));
        bad->data[bad->len - 3] ^= 0x20;
        soup_websocket_connection_send_binary (raw.ws, bad->data, bad->len);
      }
      break;
    case TAMPER_TEXT:
      soup_websocket_connection_send_text (raw.ws, "hello");
      break;
    }
  run_until (&sa.peer_closed);
  g_test_assert_expected_messages ();
  g_assert_false (sa.peer_closed_clean);
  g_assert_nonnull (strstr (sa.peer_closed_reason,
                            tamper == TAMPER_TEXT ? "text message" : "frame refused"));
  run_until (&raw.closed);
  g_assert_cmpint (soup_websocket_connection_get_close_code (raw.ws), ==,
                   SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  /* Nothing after the refused frame is delivered. */
  if (tamper != TAMPER_REPLAY)
    g_assert_true (tamper == TAMPER_REORDER ? g_strcmp0 (sa.payload, "one") == 0 : !sa.got_message);
  raw_clear (&raw);
  seen_clear (&sa);
}

static void
test_truncated (void)
{
  Key ka, kb;
  Seen sa = { 0 };
  Raw raw;
  g_autoptr(CbTransport) a = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *addr_a = NULL;
  g_autoptr(GBytes) f1 = NULL;

  key_new (&ka);
  key_new (&kb);
  a = transport_new (network_key, &ka, &sa);
  addr_a = listen_any (a);
  raw_connect (&raw, session, addr_a);
  raw_handshake (&raw, &kb, &ka);
  f1 = raw_seal (&raw, "one");
  raw_send (&raw, f1);
  run_until (&sa.got_message);
  /* The connection ends without the final frame. */
  soup_websocket_connection_close (raw.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  run_until (&sa.peer_closed);
  g_assert_false (sa.peer_closed_clean);
  g_assert_nonnull (strstr (sa.peer_closed_reason, "without the peer's final frame"));
  raw_clear (&raw);
  seen_clear (&sa);
}

static void
on_link_established (CbPeerLink *link, gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* The WebSocket starts closing (here: our own close; in the field: the peer
 * reset it) before the link has heard: a send then fails with an error,
 * which callers log, instead of returning FALSE with none. */
static void
test_send_while_closing (void)
{
  Key ka, kb;
  Seen sa = { 0 };
  Raw raw;
  gboolean established = FALSE;
  g_autoptr(CbTransport) a = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(CbPeerLink) link = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *addr_a = NULL;

  key_new (&ka);
  key_new (&kb);
  a = transport_new (network_key, &ka, &sa);
  addr_a = listen_any (a);
  raw_connect (&raw, session, addr_a);
  g_signal_handlers_disconnect_by_data (raw.ws, &raw);
  link = cb_peer_link_new (raw.ws, addr_a, TRUE, network_key, kb.sk, ka.pk,
                           CB_PEER_LINK_HANDSHAKE_TIMEOUT_MS);
  g_signal_connect (link, "established", G_CALLBACK (on_link_established), &established);
  cb_peer_link_start (link);
  run_until (&established);
  g_assert_true (cb_peer_link_send (link, (const guint8 *) "\x01hi", 3, &error));
  g_assert_no_error (error);

  soup_websocket_connection_close (raw.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_assert_false (cb_peer_link_is_closed (link));
  g_assert_false (cb_peer_link_send (link, (const guint8 *) "\x01late", 5, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  run_until (&sa.peer_closed);
  g_signal_handlers_disconnect_by_data (link, &established);
  raw_clear (&raw);
  seen_clear (&sa);
}

static void
test_handshake_timeout (void)
{
  Key ka;
  Seen sa = { 0 };
  Raw raw;
  g_autoptr(CbTransport) a = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *addr_a = NULL;

  key_new (&ka);
  a = transport_new (network_key, &ka, &sa);
  cb_transport_set_handshake_timeout (a, 300);
  addr_a = listen_any (a);
  g_test_expect_message ("cb-net", G_LOG_LEVEL_WARNING,
                         "*handshake did not complete within 300 ms*");
  raw_connect (&raw, session, addr_a);
  /* Say nothing. */
  run_until (&raw.closed);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (cb_transport_count_links (a), ==, 0);
  raw_clear (&raw);
}

static void
test_oversized (void)
{
  Key ka, kb;
  Seen sa = { 0 };
  Raw raw;
  g_autoptr(CbTransport) a = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *addr_a = NULL;
  g_autofree guint8 *big = g_malloc0 (CB_CHANNEL_MAX_SEALED + 1);

  key_new (&ka);
  key_new (&kb);
  a = transport_new (network_key, &ka, &sa);
  addr_a = listen_any (a);
  raw_connect (&raw, session, addr_a);
  raw_handshake (&raw, &kb, &ka);
  g_test_expect_message ("cb-net", G_LOG_LEVEL_WARNING, "*WebSocket error*");
  soup_websocket_connection_send_binary (raw.ws, big, CB_CHANNEL_MAX_SEALED + 1);
  run_until (&sa.peer_closed);
  g_test_assert_expected_messages ();
  g_assert_false (sa.got_message);
  raw_clear (&raw);
  seen_clear (&sa);
}

static void
test_parse_host_port (void)
{
  const char *good[] = { "127.0.0.1:7788", "0.0.0.0:0", "[::1]:80", "[::]:7788", NULL };
  const char *bad[] = { "localhost:80", "127.0.0.1", "127.0.0.1:", ":80", "1.2.3.4:70000",
                        "[::1]80", "::1:80x", "", NULL };
  g_autofree char *uri1 = cb_transport_addr_to_uri ("ws://10.0.0.1:7788");
  g_autofree char *uri2 = cb_transport_addr_to_uri ("ws://10.0.0.1:7788/");
  g_autofree char *uri3 = cb_transport_addr_to_uri ("ws://10.0.0.1:7788/custom");
  g_autofree char *uri4 = cb_transport_addr_to_uri ("http://10.0.0.1:7788");
  g_autofree char *uri5 = cb_transport_addr_to_uri ("ws://10.0.0.1");

  for (guint i = 0; good[i]; i++)
    {
      g_autoptr(GSocketAddress) a = cb_transport_parse_host_port (good[i], NULL);
      g_assert_nonnull (a);
    }
  for (guint i = 0; bad[i]; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocketAddress) a = cb_transport_parse_host_port (bad[i], &error);
      g_assert_null (a);
      g_assert_nonnull (strstr (error->message, "use IP:PORT"));
    }
  g_assert_cmpstr (uri1, ==, "ws://10.0.0.1:7788/cloud-bevy/1");
  g_assert_cmpstr (uri2, ==, "ws://10.0.0.1:7788/cloud-bevy/1");
  g_assert_cmpstr (uri3, ==, "ws://10.0.0.1:7788/custom");
  g_assert_null (uri4);
  g_assert_null (uri5);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  randombytes_buf (network_key, sizeof network_key);
  randombytes_buf (other_network_key, sizeof other_network_key);

  g_test_add_func ("/node/transport/exchange", test_exchange);
  g_test_add_func ("/node/transport/unreachable", test_unreachable);
  g_test_add_func ("/node/transport/wrong-network-key", test_wrong_network);
  g_test_add_func ("/node/transport/unexpected-peer", test_unexpected_peer);
  g_test_add_data_func ("/node/transport/replayed-frame", GINT_TO_POINTER (TAMPER_REPLAY), test_tampered);
  g_test_add_data_func ("/node/transport/reordered-frame", GINT_TO_POINTER (TAMPER_REORDER), test_tampered);
  g_test_add_data_func ("/node/transport/bit-flipped-frame", GINT_TO_POINTER (TAMPER_FLIP), test_tampered);
  g_test_add_data_func ("/node/transport/text-message", GINT_TO_POINTER (TAMPER_TEXT), test_tampered);
  g_test_add_func ("/node/transport/truncated", test_truncated);
  g_test_add_func ("/node/transport/send-while-closing", test_send_while_closing);
  g_test_add_func ("/node/transport/handshake-timeout", test_handshake_timeout);
  g_test_add_func ("/node/transport/oversized-message", test_oversized);
  g_test_add_func ("/node/transport/parse-addresses", test_parse_host_port);
  return g_test_run ();
}
