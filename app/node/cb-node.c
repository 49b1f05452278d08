/* cb-node.c: lifecycle, the membership driver and role election */
#define G_LOG_DOMAIN "cb-node"

#include "cb-node-private.h"

#include <sodium.h>
#include <unistd.h>

#include "cb-hex.h"
#include "cb-node-meta.h"
#include "cb-roles.h"

/* How often the node looks after its lists and re-runs the election even
 * when nothing happened (a member's uptime crossing a bucket, say). */
#define MAINTENANCE_INTERVAL_MS 1000
/* Time given to our LEFT announcement before links are closed. */
#define LEAVE_GRACE_MS 500

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CbNode, cb_node, G_TYPE_OBJECT)

gint64
_cb_node_now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static gboolean
emit_changed_idle (gpointer user_data)
{
  CbNode *self = user_data;

  self->changed_idle = 0;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

/* Coalesced: a burst of membership events is one "changed". */
void
_cb_node_emit_changed (CbNode *self)
{
  if (self->changed_idle == 0)
    self->changed_idle = g_timeout_add (100, emit_changed_idle, self);
}

GBytes *
_cb_node_encode_meta (CbNode *self)
{
  const char *publisher_roles[] = { "publisher", NULL };
  const char *no_roles[] = { NULL };
  const char *no_systems[] = { NULL };
  g_autoptr(GPtrArray) systems = g_ptr_array_new ();
  CbNodeMeta meta = {
    .cpu = self->cpu,
    .mem_mb = self->mem_mb,
    .since = self->started_unix,
    .publisher_eligible = self->publisher_eligible,
    .roles = (GStrv) (self->publisher ? publisher_roles : no_roles),
    .systems = (GStrv) no_systems,
  };
  g_autoptr(GError) error = NULL;
  GBytes *bytes;

  for (guint i = 0; self->hosted != NULL && i < self->hosted->len; i++)
    g_ptr_array_add (systems, self->hosted->pdata[i]);
  g_ptr_array_add (systems, NULL);
  meta.systems = (GStrv) systems->pdata;
  bytes = cb_node_meta_encode (&meta, &error);

  if (bytes == NULL)
    g_error ("our own metadata does not encode: %s", error->message);
  return bytes;
}

/* ---- election ---- */

static void
run_election (CbNode *self)
{
  g_autoptr(GPtrArray) members = cb_membership_get_members (self->membership);
  g_autoptr(GArray) candidates = g_array_new (FALSE, TRUE, sizeof (CbRoleCandidate));
  g_autofree guint8 (*elected)[32] = NULL;
  CbRoleCandidate me = { 0 };
  gboolean was_publisher = self->publisher;
  guint n_elected;

  memcpy (me.id, self->identity->public_key, 32);
  me.eligible = self->publisher_eligible;
  me.cpu = self->cpu;
  me.mem_mb = self->mem_mb;
  me.since = self->started_unix;
  g_array_append_val (candidates, me);

  for (guint i = 0; i < members->len; i++)
    {
      CbMember *member = g_ptr_array_index (members, i);
      g_autoptr(CbNodeMeta) meta = NULL;
      CbRoleCandidate c = { 0 };

      if (member->state != CB_MEMBER_ALIVE && member->state != CB_MEMBER_SUSPECT)
        continue;
      if (member->meta != NULL)
        meta = cb_node_meta_decode (g_bytes_get_data (member->meta, NULL),
                                    g_bytes_get_size (member->meta), NULL);
      memcpy (c.id, member->id, 32);
      if (meta != NULL)
        {
          c.eligible = meta->publisher_eligible;
          c.cpu = meta->cpu;
          c.mem_mb = meta->mem_mb;
          c.since = meta->since;
        }
      g_array_append_val (candidates, c);
    }

  elected = g_malloc_n (candidates->len, 32);
  n_elected = cb_roles_elect_publishers ((const CbRoleCandidate *) candidates->data,
                                         candidates->len, self->cloud->publishers_min,
                                         self->cloud->publishers_max,
                                         self->cloud->publishers_max_fraction, elected);
  self->publisher = FALSE;
  for (guint i = 0; i < n_elected; i++)
    if (memcmp (elected[i], self->identity->public_key, 32) == 0)
      self->publisher = TRUE;

  if (self->publisher != was_publisher)
    {
      g_autoptr(GBytes) meta = _cb_node_encode_meta (self);

      g_info ("%s the publisher role (%u of %u alive nodes are publishers)",
              self->publisher ? "taking" : "leaving", n_elected, candidates->len);
      cb_membership_set_meta (self->membership, meta, _cb_node_now_ms ());
      _cb_node_drain (self);
      if (self->publisher)
        _cb_node_lists_publish_soon (self);
      _cb_node_emit_changed (self);
    }
}

static gboolean
election_idle (gpointer user_data)
{
  CbNode *self = user_data;

  self->election_source = 0;
  if (self->running && !self->stopping)
    run_election (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_election (CbNode *self)
{
  if (self->election_source == 0)
    self->election_source = g_idle_add (election_idle, self);
}

/* ---- membership driver ---- */

static void on_tick (gpointer user_data);

static gboolean
tick_timeout (gpointer user_data)
{
  CbNode *self = user_data;

  self->tick_source = 0;
  on_tick (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_tick (CbNode *self)
{
  gint64 deadline = cb_membership_next_deadline (self->membership);
  gint64 delay = MAX (0, deadline - _cb_node_now_ms ());

  if (self->tick_source != 0 && self->tick_at_ms <= deadline)
    return;
  g_clear_handle_id (&self->tick_source, g_source_remove);
  self->tick_at_ms = deadline;
  self->tick_source = g_timeout_add ((guint) MIN (delay, 60000), tick_timeout, self);
}

static void
handle_event (CbNode            *self,
              CbMembershipEvent *event)
{
  char id[17];
  static const char * const names[] = {
    "joined", "updated", "is suspected", "is alive", "is dead", "left", "forgotten",
  };

  cb_hex_encode_into (event->member.id, 8, id);
  if (event->type == CB_MEMBERSHIP_EVENT_UPDATE || event->type == CB_MEMBERSHIP_EVENT_FORGET)
    g_debug ("member %s %s (%s)", id, names[event->type], event->member.addr);
  else
    g_info ("member %s %s (%s)", id, names[event->type], event->member.addr);

  schedule_election (self);
  _cb_node_data_member_event (self, event);
  if (event->type != CB_MEMBERSHIP_EVENT_SUSPECT && event->type != CB_MEMBERSHIP_EVENT_FORGET)
    _cb_node_lists_publish_soon (self);
  _cb_node_emit_changed (self);
}

void
_cb_node_drain (CbNode *self)
{
  CbMembershipSend send;
  CbMembershipEvent event;

  while (cb_membership_pop_send (self->membership, &send))
    {
      cb_transport_send (self->transport, send.to_id, send.to_addr, CB_PROTO_MEMBERSHIP, send.data);
      cb_membership_send_clear (&send);
    }
  while (cb_membership_pop_event (self->membership, &event))
    {
      handle_event (self, &event);
      cb_membership_event_clear (&event);
    }
  if (self->running)
    schedule_tick (self);
}

static void
on_tick (gpointer user_data)
{
  CbNode *self = user_data;

  cb_membership_tick (self->membership, _cb_node_now_ms ());
  _cb_node_drain (self);
}

static void
on_transport_message (CbTransport *transport,
                      guint        protocol,
                      gpointer     peer_id,
                      GBytes      *payload,
                      gpointer     user_data)
{
  CbNode *self = user_data;
  g_autoptr(GError) error = NULL;

  if (protocol == CB_PROTO_REPLICATION)
    {
      _cb_node_data_message (self, peer_id, payload);
      return;
    }
  if (protocol == CB_PROTO_DBSET)
    {
      _cb_node_sets_message (self, peer_id, payload);
      return;
    }
  if (protocol != CB_PROTO_MEMBERSHIP)
    {
      g_debug ("ignoring a message for protocol %u", protocol);
      return;
    }
  if (!cb_membership_receive (self->membership, _cb_node_now_ms (), peer_id,
                              g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                              &error))
    {
      char id[17];
      cb_hex_encode_into (peer_id, 8, id);
      g_warning ("dropping a membership message from %s: %s", id, error->message);
    }
  _cb_node_drain (self);
}

static void
on_transport_unreachable (CbTransport *transport,
                          gpointer     peer_id,
                          const char  *reason,
                          gpointer     user_data)
{
  CbNode *self = user_data;

  if (!self->running)
    return;
  cb_membership_peer_unreachable (self->membership, peer_id, _cb_node_now_ms ());
  _cb_node_drain (self);
}

static void
on_transport_peer_closed (CbTransport *transport,
                          gpointer     peer_id,
                          gboolean     clean,
                          const char  *reason,
                          gpointer     user_data)
{
  CbNode *self = user_data;

  /* A link cut short (a crash, a reset) is a failed probe: check the
   * member through others now instead of waiting for its next turn. */
  if (!clean && self->running && !self->stopping
      && cb_membership_is_active (self->membership, peer_id))
    {
      cb_membership_peer_unreachable (self->membership, peer_id, _cb_node_now_ms ());
      _cb_node_drain (self);
    }
}

static gboolean
maintenance_timeout (gpointer user_data)
{
  CbNode *self = user_data;

  _cb_node_lists_maintain (self);
  schedule_election (self);
  return G_SOURCE_CONTINUE;
}

/* ---- control ---- */

static void
handle_control (JsonObject     *request,
                CbControlReply *reply,
                gpointer        user_data)
{
  CbNode *self = user_data;
  const char *command = json_object_get_string_member_with_default (request, "command", "");
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (command, "status") == 0)
    cb_control_reply_return (reply, cb_node_get_status (self));
  else if (!_cb_node_data_control (self, command, request, reply)
           && !_cb_node_apps_control (self, command, request, reply))
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "unknown control command \"%s\"", command);
      cb_control_reply_error (reply, error);
    }
}

/* ---- addresses ---- */

static char *
format_ws (GInetAddress *inet,
           guint         port)
{
  g_autofree char *host = g_inet_address_to_string (inet);

  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("ws://[%s]:%u", host, port);
  return g_strdup_printf ("ws://%s:%u", host, port);
}

/* The address others reach us at when we listen on every interface: the
 * one the kernel would use for an outside destination (no packet is sent),
 * or loopback on a machine without a route. */
static GInetAddress *
guess_primary_address (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GInetAddress) outside = g_inet_address_new_from_string ("192.0.2.1");
  g_autoptr(GSocketAddress) target = g_inet_socket_address_new (outside, 9);
  g_autoptr(GSocketAddress) local = NULL;

  if (socket != NULL && g_socket_connect (socket, target, NULL, NULL))
    local = g_socket_get_local_address (socket, NULL);
  if (local != NULL)
    return g_object_ref (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));
  return g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
}

static char *
default_advertise (CbNode *self)
{
  g_autoptr(GSocketAddress) address = cb_transport_parse_host_port (self->listen, NULL);
  GInetAddress *inet = G_INET_SOCKET_ADDRESS (address) ?
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)) : NULL;
  guint port = cb_transport_get_port (self->transport);

  if (inet != NULL && !g_inet_address_get_is_any (inet))
    return format_ws (inet, port);
  {
    g_autoptr(GInetAddress) primary = guess_primary_address ();
    return format_ws (primary, port);
  }
}

gboolean
cb_node_set_advertise (CbNode      *self,
                       const char  *addr,
                       GError     **error)
{
  g_autofree char *ws = NULL;
  g_autofree char *uri = NULL;

  ws = g_str_has_prefix (addr, "ws://") || g_str_has_prefix (addr, "wss://")
       ? g_strdup (addr) : g_strconcat ("ws://", addr, NULL);
  uri = cb_transport_addr_to_uri (ws);
  if (uri == NULL || !cb_membership_addr_valid (ws))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "\"%s\" is not an address others can dial: use HOST:PORT or ws://HOST:PORT",
                   addr);
      return FALSE;
    }
  g_free (self->advertise);
  self->advertise = g_steal_pointer (&ws);
  return TRUE;
}

void
cb_node_set_listen (CbNode     *self,
                    const char *host_port)
{
  g_free (self->listen);
  self->listen = g_strdup (host_port);
}

gboolean
cb_node_set_publisher_key (CbNode      *self,
                           const char  *path,
                           GError     **error)
{
  g_autoptr(CbIdentity) key = cb_identity_load (path, error);

  if (key == NULL)
    return FALSE;
  for (guint i = 0; i < self->cloud->n_publisher_keys; i++)
    if (memcmp (self->cloud->publisher_keys[i], key->public_key, 32) == 0)
      {
        memcpy (self->publisher_secret, key->secret_key, 64);
        self->publisher_eligible = TRUE;
        return TRUE;
      }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "the publisher key %s is not one the cloud \"%s\" trusts: its cloud.json lists "
               "other publisher keys", path, self->cloud->name);
  return FALSE;
}

gboolean
cb_node_start (CbNode  *self,
               GError **error)
{
  CbMembershipConfig config;
  g_autoptr(GBytes) meta = NULL;
  g_autofree char *listen_actual = NULL;
  guint64 seed;

  g_return_val_if_fail (!self->running, FALSE);

  self->control = cb_control_server_new (self->data_dir, handle_control, self, error);
  if (self->control == NULL)
    return FALSE;
  if (!_cb_node_data_start (self, error))
    {
      g_clear_pointer (&self->control, cb_control_server_free);
      return FALSE;
    }
  if (!cb_transport_listen (self->transport, self->listen, error))
    {
      g_prefix_error (error, "cannot listen on %s: ", self->listen);
      g_clear_pointer (&self->control, cb_control_server_free);
      return FALSE;
    }
  /* Port 0 asked for any port: report the one we got. */
  if (g_str_has_suffix (self->listen, ":0"))
    {
      listen_actual = g_strdup_printf ("%.*s:%u", (int) strlen (self->listen) - 2, self->listen,
                                       cb_transport_get_port (self->transport));
      cb_node_set_listen (self, listen_actual);
    }
  if (self->advertise == NULL)
    self->advertise = default_advertise (self);

  cb_membership_config_init (&config);
  config.probe_interval_ms = self->cloud->probe_interval_ms;
  config.suspicion_min_ms = self->cloud->suspicion_min_ms;
  config.suspicion_max_ms = self->cloud->suspicion_max_ms;
  /* A restarted node must outrank what the cloud remembers of its last run. */
  config.initial_incarnation = (guint64) (g_get_real_time () / 1000);
  randombytes_buf (&seed, sizeof seed);
  meta = _cb_node_encode_meta (self);
  self->membership = cb_membership_new (&config, self->identity->public_key, self->advertise,
                                        meta, seed);
  self->running = TRUE;
  _cb_node_query_init (self);
  _cb_node_sets_start (self);
  g_info ("node %s of cloud \"%s\" listening on %s, reachable at %s%s", self->id_hex,
          self->cloud->name, self->listen, self->advertise,
          self->publisher_eligible ? ", eligible to publish lists" : "");

  self->maintenance_source = g_timeout_add (MAINTENANCE_INTERVAL_MS, maintenance_timeout, self);
  _cb_node_lists_start (self);
  run_election (self);
  _cb_node_drain (self);
  return TRUE;
}

static gboolean
finish_stop (gpointer user_data)
{
  GTask *task = user_data;
  CbNode *self = g_task_get_source_object (task);

  _cb_node_drain (self);
  self->running = FALSE;
  g_clear_handle_id (&self->tick_source, g_source_remove);
  cb_transport_shutdown (self->transport);
  _cb_node_query_stop (self);
  _cb_node_sets_stop (self);
  _cb_node_data_stop (self);
  g_clear_pointer (&self->control, cb_control_server_free);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

void
cb_node_stop_async (CbNode              *self,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, cb_node_stop_async);
  if (!self->running || self->stopping)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  self->stopping = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->maintenance_source, g_source_remove);
  g_clear_handle_id (&self->election_source, g_source_remove);
  _cb_node_lists_clear (self);
  cb_membership_leave (self->membership, _cb_node_now_ms ());
  _cb_node_drain (self);
  g_timeout_add (LEAVE_GRACE_MS, finish_stop, task);
}

gboolean
cb_node_stop_finish (CbNode        *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

const char *
cb_node_get_id (CbNode *self)
{
  return self->id_hex;
}

const char *
cb_node_get_listen (CbNode *self)
{
  return self->listen;
}

const char *
cb_node_get_advertise (CbNode *self)
{
  return self->advertise;
}

gboolean
cb_node_is_publisher (CbNode *self)
{
  return self->publisher;
}

static void
cb_node_dispose (GObject *object)
{
  CbNode *self = CB_NODE (object);

  self->running = FALSE;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->tick_source, g_source_remove);
  g_clear_handle_id (&self->maintenance_source, g_source_remove);
  g_clear_handle_id (&self->election_source, g_source_remove);
  g_clear_handle_id (&self->changed_idle, g_source_remove);
  _cb_node_lists_clear (self);
  if (self->transport != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->transport, self);
      cb_transport_shutdown (self->transport);
      g_clear_object (&self->transport);
    }
  g_clear_pointer (&self->control, cb_control_server_free);
  _cb_node_query_free (self);
  _cb_node_sets_free (self);
  _cb_node_data_free (self);
  _cb_node_apps_free (self);
  G_OBJECT_CLASS (cb_node_parent_class)->dispose (object);
}

static void
cb_node_finalize (GObject *object)
{
  CbNode *self = CB_NODE (object);

  g_clear_pointer (&self->membership, cb_membership_free);
  g_clear_pointer (&self->sites, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->identity, cb_identity_free);
  g_clear_pointer (&self->cloud, cb_cloud_config_free);
  sodium_memzero (self->publisher_secret, sizeof self->publisher_secret);
  g_free (self->data_dir);
  g_free (self->id_hex);
  g_free (self->listen);
  g_free (self->advertise);
  G_OBJECT_CLASS (cb_node_parent_class)->finalize (object);
}

static void
cb_node_class_init (CbNodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_node_dispose;
  object_class->finalize = cb_node_finalize;

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
}

static void
cb_node_init (CbNode *self)
{
  self->cancellable = g_cancellable_new ();
  self->listen = g_strdup_printf ("0.0.0.0:%d", CB_NODE_DEFAULT_PORT);
}

CbNode *
cb_node_new (const char           *data_dir,
             const CbCloudConfig  *cloud,
             GError              **error)
{
  g_autoptr(CbNode) self = NULL;
  g_autofree char *json = NULL;
  long pages = sysconf (_SC_PHYS_PAGES);
  long page_size = sysconf (_SC_PAGESIZE);

  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");

  self = g_object_new (CB_TYPE_NODE, NULL);
  self->data_dir = g_strdup (data_dir);
  /* A private copy: the caller's config may go away. */
  json = cb_cloud_config_to_json (cloud);
  self->cloud = cb_cloud_config_parse (json, strlen (json), error);
  if (self->cloud == NULL)
    return NULL;
  self->identity = cb_identity_load_or_create (data_dir, error);
  if (self->identity == NULL)
    return NULL;
  self->id_hex = cb_hex_encode (self->identity->public_key, 32);
  self->started_unix = g_get_real_time () / G_USEC_PER_SEC;
  self->cpu = CLAMP (g_get_num_processors (), 1, 4096);
  self->mem_mb = pages > 0 && page_size > 0 ? (guint) MIN ((gint64) pages * page_size / (1024 * 1024),
                                                           G_MAXUINT32) : 1;
  /* Our own identity may be a key the cloud trusts to publish. */
  for (guint i = 0; i < self->cloud->n_publisher_keys; i++)
    if (memcmp (self->cloud->publisher_keys[i], self->identity->public_key, 32) == 0)
      {
        memcpy (self->publisher_secret, self->identity->secret_key, 64);
        self->publisher_eligible = TRUE;
      }

  self->transport = cb_transport_new (self->cloud->network_key, self->identity->secret_key);
  g_signal_connect (self->transport, "message", G_CALLBACK (on_transport_message), self);
  g_signal_connect (self->transport, "unreachable", G_CALLBACK (on_transport_unreachable), self);
  g_signal_connect (self->transport, "peer-closed", G_CALLBACK (on_transport_peer_closed), self);
  _cb_node_lists_init (self);
  return g_steal_pointer (&self);
}
