/* cb-node-sets.c: the node's db-sets, one CbDbSets per hosted system
 *
 * Membership reports which members host a system (gossiped metadata); the
 * db-set core places them in sets and says whom to replicate with (set
 * peers, and bridge links to neighbouring sets).  This file feeds it those
 * hosts and its directory messages (CB_PROTO_DBSET), sends what it asks,
 * ticks it, and opens or closes replication sessions when its choice of
 * partners changes. */
#define G_LOG_DOMAIN "cb-node"

#include "cb-node-private.h"

#include <sodium.h>

#include "cb-dbset.h"
#include "cb-hex.h"
#include "cb-node-meta.h"

typedef struct {
  CbDbSets *sets;
  guint64   generation;   /* of the partners last applied */
} NodeSets;

static void
node_sets_free (NodeSets *ns)
{
  cb_dbsets_free (ns->sets);
  g_free (ns);
}

/* One CbDbSets per system the store hosts, whenever it started hosting it
 * (at start, or an app installed while the node runs). */
static void
sync_systems (CbNode *self)
{
  g_auto(GStrv) systems = NULL;
  GHashTableIter iter;
  gpointer key;
  CbDbSetsConfig config;

  if (self->store == NULL || !self->running)
    return;
  if (self->dbsets == NULL)
    self->dbsets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) node_sets_free);
  g_hash_table_iter_init (&iter, self->dbsets);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!cb_store_hosts (self->store, key))
      g_hash_table_iter_remove (&iter);
  cb_dbsets_config_init (&config);
  config.set_size = self->cloud->db_set_size;
  config.sets_tracked = self->cloud->db_sets_tracked;
  systems = cb_store_list_systems (self->store);
  for (guint i = 0; systems[i] != NULL; i++)
    {
      NodeSets *ns;
      guint64 seed;

      if (g_hash_table_contains (self->dbsets, systems[i]))
        continue;
      ns = g_new0 (NodeSets, 1);
      randombytes_buf (&seed, sizeof seed);
      ns->sets = cb_dbsets_new (systems[i], self->identity->public_key, self->advertise,
                                &config, seed);
      g_hash_table_insert (self->dbsets, g_strdup (systems[i]), ns);
    }
}

static NodeSets *
lookup (CbNode *self, const char *system)
{
  sync_systems (self);
  return self->dbsets != NULL ? g_hash_table_lookup (self->dbsets, system) : NULL;
}

CbDbSets *
_cb_node_sets_get (CbNode     *self,
                   const char *system)
{
  NodeSets *ns = lookup (self, system);

  return ns != NULL ? ns->sets : NULL;
}

const char *
_cb_node_peer_addr (CbNode       *self,
                    const guint8  peer[32],
                    CbMember     *scratch)
{
  GHashTableIter iter;
  gpointer value;

  if (cb_membership_lookup (self->membership, peer, scratch) && scratch->addr != NULL)
    return scratch->addr;
  if (self->dbsets == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, self->dbsets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const char *addr = cb_dbsets_lookup_addr (((NodeSets *) value)->sets, peer);
      if (addr != NULL)
        return addr;
    }
  return NULL;
}

/* ---- driving the cores ---- */

static void schedule (CbNode *self);

static void
apply_partners (CbNode *self, const char *system, NodeSets *ns)
{
  g_autoptr(GPtrArray) partners = NULL;
  g_autoptr(GPtrArray) sessions = NULL;
  g_autoptr(GHashTable) wanted = NULL;

  if (cb_dbsets_get_generation (ns->sets) == ns->generation || self->replication == NULL)
    return;
  ns->generation = cb_dbsets_get_generation (ns->sets);
  partners = cb_dbsets_get_partners (ns->sets);
  wanted = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                  NULL);
  for (guint i = 0; i < partners->len; i++)
    {
      CbDbSetHost *p = partners->pdata[i];

      g_hash_table_add (wanted, g_bytes_new (p->id, 32));
      cb_replication_peer_up (self->replication, p->id, system, _cb_node_now_ms ());
    }
  /* Sessions with hosts that are no longer partners end; if a host still
   * counts us among its partners it opens ours again. */
  sessions = cb_replication_get_peers (self->replication, system);
  for (guint i = 0; i < sessions->len; i++)
    if (!g_hash_table_contains (wanted, sessions->pdata[i]))
      cb_replication_session_close (self->replication,
                                    g_bytes_get_data (sessions->pdata[i], NULL), system);
  _cb_node_data_pump (self);
  _cb_node_emit_changed (self);
}

static void
flush (CbNode *self, NodeSets *ns, const char *system)
{
  CbDbSetSend send;

  while (cb_dbsets_pop_send (ns->sets, &send))
    {
      cb_transport_send (self->transport, send.to_id, send.to_addr, CB_PROTO_DBSET, send.data);
      cb_dbset_send_clear (&send);
    }
  apply_partners (self, system, ns);
}

static gboolean
sets_timeout (gpointer user_data)
{
  CbNode *self = user_data;
  GHashTableIter iter;
  gpointer key, value;
  gint64 now = _cb_node_now_ms ();

  self->sets_source = 0;
  sync_systems (self);
  if (self->dbsets == NULL)
    return G_SOURCE_REMOVE;
  g_hash_table_iter_init (&iter, self->dbsets);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      NodeSets *ns = value;

      if (cb_dbsets_next_deadline (ns->sets) <= now)
        cb_dbsets_tick (ns->sets, now);
      flush (self, ns, key);
    }
  schedule (self);
  return G_SOURCE_REMOVE;
}

static void
schedule (CbNode *self)
{
  GHashTableIter iter;
  gpointer value;
  gint64 deadline = G_MAXINT64;

  if (!self->running || self->dbsets == NULL)
    return;
  g_hash_table_iter_init (&iter, self->dbsets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    deadline = MIN (deadline, cb_dbsets_next_deadline (((NodeSets *) value)->sets));
  if (deadline == G_MAXINT64)
    return;
  if (self->sets_source != 0 && self->sets_at_ms <= deadline)
    return;
  g_clear_handle_id (&self->sets_source, g_source_remove);
  self->sets_at_ms = deadline;
  self->sets_source = g_timeout_add ((guint) CLAMP (deadline - _cb_node_now_ms (), 0, 60000),
                                     sets_timeout, self);
}

/* ---- life ---- */

void
_cb_node_sets_start (CbNode *self)
{
  sync_systems (self);
  if (self->dbsets != NULL)
    sets_timeout (self);
}

void
_cb_node_sets_stop (CbNode *self)
{
  g_clear_handle_id (&self->sets_source, g_source_remove);
}

void
_cb_node_sets_free (CbNode *self)
{
  g_clear_handle_id (&self->sets_source, g_source_remove);
  g_clear_pointer (&self->dbsets, g_hash_table_unref);
}

/* ---- inputs ---- */

void
_cb_node_sets_member_event (CbNode                  *self,
                            const CbMembershipEvent *event)
{
  g_autoptr(CbNodeMeta) meta = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gboolean alive = event->member.state == CB_MEMBER_ALIVE;
  gboolean gone = event->type == CB_MEMBERSHIP_EVENT_DEAD || event->type == CB_MEMBERSHIP_EVENT_LEFT
                  || event->type == CB_MEMBERSHIP_EVENT_FORGET;

  sync_systems (self);
  if (self->dbsets == NULL || (!alive && !gone))
    return;
  if (alive && event->member.meta != NULL)
    meta = cb_node_meta_decode (g_bytes_get_data (event->member.meta, NULL),
                                g_bytes_get_size (event->member.meta), NULL);
  g_hash_table_iter_init (&iter, self->dbsets);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      NodeSets *ns = value;
      gboolean hosts = meta != NULL
                       && g_strv_contains ((const char * const *) meta->systems, key);

      if (hosts)
        cb_dbsets_host_seen (ns->sets, event->member.id, event->member.addr, _cb_node_now_ms ());
      else if (gone || (alive && meta != NULL))
        cb_dbsets_host_gone (ns->sets, event->member.id);
      flush (self, ns, key);
    }
  schedule (self);
}

void
_cb_node_sets_message (CbNode       *self,
                       const guint8  peer[32],
                       GBytes       *payload)
{
  g_auto(CbDbSetMessage) message = { 0 };
  g_autoptr(GError) error = NULL;
  NodeSets *ns;
  char peer_hex[17];

  cb_hex_encode_into (peer, 8, peer_hex);
  if (!cb_dbset_decode (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload), &message,
                        &error))
    {
      g_warning ("dropping a db-set message from %s: %s", peer_hex, error->message);
      return;
    }
  ns = lookup (self, message.system);
  if (ns == NULL)
    {
      g_debug ("%s asked about db-sets of %s, which we do not host", peer_hex, message.system);
      return;
    }
  cb_dbsets_receive (ns->sets, peer, &message, _cb_node_now_ms ());
  flush (self, ns, message.system);
  schedule (self);
}

/* ---- status ---- */

void
_cb_node_sets_status (CbNode      *self,
                      const char  *system,
                      JsonBuilder *builder)
{
  NodeSets *ns = lookup (self, system);
  g_autoptr(GPtrArray) partners = NULL;
  g_autofree char *name = NULL;

  if (ns == NULL)
    return;
  name = cb_dbset_id_to_string (cb_dbsets_get_own_set (ns->sets));
  partners = cb_dbsets_get_partners (ns->sets);
  json_builder_set_member_name (builder, "db_set");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "set");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "level");
  json_builder_add_int_value (builder, cb_dbsets_get_level (ns->sets));
  json_builder_set_member_name (builder, "members");
  json_builder_add_int_value (builder, cb_dbsets_count_own (ns->sets));
  json_builder_set_member_name (builder, "tracked_sets");
  json_builder_add_int_value (builder, cb_dbsets_count_tracked (ns->sets));
  json_builder_set_member_name (builder, "estimated_hosts");
  json_builder_add_int_value (builder, (gint64) cb_dbsets_estimate_hosts (ns->sets));
  json_builder_set_member_name (builder, "bridge");
  json_builder_add_boolean_value (builder, cb_dbsets_is_bridge (ns->sets));
  json_builder_set_member_name (builder, "partners");
  json_builder_begin_array (builder);
  for (guint i = 0; i < partners->len; i++)
    {
      char id[65];

      cb_hex_encode_into (((CbDbSetHost *) partners->pdata[i])->id, 32, id);
      json_builder_add_string_value (builder, id);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}
