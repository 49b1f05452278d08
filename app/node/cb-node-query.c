/* cb-node-query.c: cloud-wide queries, and answering other nodes' pulls
 *
 * A query with scope "cloud" asks a contact in each of several db-sets
 * (our own first) for the entries we lack: a PULL (a HAVE with the pull
 * flag and our vector).  The contact answers with those runs as ordinary
 * BATCHes, which are verified and stored like any replicated entries, and
 * then a PULLED with its own counts.  Materialisation merges them by key
 * and HLC (last writer wins), so once every set has answered (or the
 * deadline passed) the SELECT runs on the merged copy, and the answer says
 * which sets answered, how fast, and how fresh each one's copy was.
 *
 * Entries on one link arrive in order, so when a PULLED arrives every
 * BATCH of that pull has been handed to the store; a store sync (barrier)
 * then waits until they are stored. */
#define G_LOG_DOMAIN "cb-node"

#include "cb-node-private.h"

#include "cb-dbset.h"
#include "cb-hex.h"
#include "cb-hlc.h"
#include "cb-replication-codec.h"

/* How long a cloud query waits for the sets it asked, and for one contact
 * before it asks another of the same set (up to ATTEMPTS of them). */
#define QUERY_DEADLINE_MS 3000
#define ATTEMPT_MS 1000
#define ATTEMPTS 3
/* Sets asked when the caller does not say, and at most. */
#define DEFAULT_SETS 3
#define MAX_SETS 100
/* What one pull may send back; the rest comes by replication. */
#define PULL_MAX_BYTES (32 * 1024 * 1024)
#define RUN_BYTES (256 * 1024)
#define QUERY_MAX_ROWS 100000

typedef struct _CloudQuery CloudQuery;

/* Refcounted (g_rc_box): the query holds one, and so does every pull it
 * waits on, which may answer after the query has given up on it. */
typedef struct {
  CloudQuery *query;         /* NULL once the query is over */
  CbDbSetId   set;
  GPtrArray  *candidates;    /* CbDbSetTarget*: contacts to try, in order */
  guint       attempt;       /* index of the one asked now */
  guint8      contact[32];
  gint64      sent_ms;       /* when the query started */
  gint64      attempt_ms;
  gint64      answered_ms;   /* 0 until answered */
  guint8      flags;
  guint32     received;
  guint64     entries;
  guint64     newest_hlc;
} Slot;

struct _CloudQuery {
  CbNode         *self;
  CbControlReply *reply;
  char           *system;
  char           *sql;
  guint64         as_of;
  GPtrArray      *slots;        /* Slot* */
  guint           open;
  guint           timeout_source;
  guint64         entries_before;
  gint64          started_ms;
  GBytes         *pull;
};

static char *
pull_key (const guint8 peer[32], const char *system)
{
  char hex[65];

  cb_hex_encode_into (peer, 32, hex);
  return g_strdup_printf ("%s/%s", hex, system);
}

/* ---- answering a pull ---- */

void
_cb_node_query_answer_pull (CbNode                     *self,
                            const guint8                peer[32],
                            const CbReplicationMessage *have)
{
  GHashTable *vector = cb_store_get_vector (self->store, have->system);
  g_autoptr(GHashTable) theirs = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                        (GDestroyNotify) g_bytes_unref, NULL);
  g_autoptr(GBytes) done = NULL;
  g_auto(CbMember) member = { 0 };
  const char *addr = _cb_node_peer_addr (self, peer, &member);
  GHashTableIter iter;
  gpointer key, value;
  gsize budget = PULL_MAX_BYTES;
  guint32 sent = 0;
  guint8 flags = 0;
  CbStoreStats stats;

  for (guint i = 0; i < have->have.n_items; i++)
    g_hash_table_insert (theirs, g_bytes_new (have->have.items[i].writer, 32),
                         &have->have.items[i]);
  g_hash_table_iter_init (&iter, vector);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const CbReplicationVectorItem *item = g_hash_table_lookup (theirs, key);
      guint64 from = (item != NULL ? item->seq : 0) + 1;
      guint64 ours = *(guint64 *) value;

      while (from <= ours)
        {
          g_autoptr(GPtrArray) entries = NULL;
          g_autoptr(GBytes) message = NULL;
          g_autoptr(GError) error = NULL;
          guint8 sig[64];

          if (budget < RUN_BYTES)
            {
              flags |= CB_REPLICATION_PULLED_INCOMPLETE;
              break;
            }
          if (!cb_store_read_run (self->store, have->system, g_bytes_get_data (key, NULL), from,
                                  RUN_BYTES, &entries, sig, &error))
            {
              if (error != NULL)
                g_warning ("cannot answer a pull of %s: %s", have->system, error->message);
              break;
            }
          message = cb_replication_encode_batch (have->system, g_bytes_get_data (key, NULL), from,
                                                 sig, (GBytes * const *) entries->pdata,
                                                 entries->len, &error);
          if (message == NULL)
            {
              g_warning ("cannot answer a pull of %s: %s", have->system, error->message);
              break;
            }
          budget -= MIN (budget, g_bytes_get_size (message));
          cb_transport_send (self->transport, peer, addr, CB_PROTO_REPLICATION, message);
          sent += entries->len;
          from += entries->len;
        }
    }
  cb_store_get_stats (self->store, have->system, &stats);
  done = cb_replication_encode_pulled (have->system, flags, sent, stats.entries,
                                       stats.newest_hlc, NULL);
  if (done != NULL)
    cb_transport_send (self->transport, peer, addr, CB_PROTO_REPLICATION, done);
}

/* ---- asking ---- */

static void
slot_json (JsonBuilder *b, const Slot *slot)
{
  g_autofree char *set = cb_dbset_id_to_string (slot->set);
  char id[65];

  cb_hex_encode_into (slot->contact, 32, id);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "set");
  json_builder_add_string_value (b, set);
  json_builder_set_member_name (b, "contact");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "answered");
  json_builder_add_boolean_value (b, slot->answered_ms != 0);
  json_builder_set_member_name (b, "contacts_tried");
  json_builder_add_int_value (b, slot->attempt + 1);
  if (slot->answered_ms != 0)
    {
      g_autofree char *newest = slot->newest_hlc > 0 ? cb_hlc_format (slot->newest_hlc) : NULL;

      json_builder_set_member_name (b, "ms");
      json_builder_add_int_value (b, slot->answered_ms - slot->sent_ms);
      json_builder_set_member_name (b, "entries");
      json_builder_add_int_value (b, (gint64) slot->entries);
      json_builder_set_member_name (b, "newest");
      if (newest != NULL)
        json_builder_add_string_value (b, newest);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "sent_us");
      json_builder_add_int_value (b, slot->received);
      json_builder_set_member_name (b, "complete");
      json_builder_add_boolean_value (b, !(slot->flags & CB_REPLICATION_PULLED_INCOMPLETE));
    }
  json_builder_end_object (b);
}

static void
slot_clear (Slot *slot)
{
  g_clear_pointer (&slot->candidates, g_ptr_array_unref);
}

static void
slot_release (Slot *slot)
{
  g_rc_box_release_full (slot, (GDestroyNotify) slot_clear);
}

static void
cloud_query_free (CloudQuery *q)
{
  g_clear_handle_id (&q->timeout_source, g_source_remove);
  for (guint i = 0; i < q->slots->len; i++)
    ((Slot *) q->slots->pdata[i])->query = NULL;
  g_ptr_array_unref (q->slots);
  g_clear_pointer (&q->pull, g_bytes_unref);
  g_free (q->system);
  g_free (q->sql);
  g_free (q);
}

/* Stops waiting for the slot's current contact. */
static void
unwait (CloudQuery *q, Slot *slot)
{
  g_autofree char *key = pull_key (slot->contact, q->system);
  GPtrArray *waiters = g_hash_table_lookup (q->self->pulls, key);

  if (waiters != NULL)
    {
      g_ptr_array_remove (waiters, slot);
      if (waiters->len == 0)
        g_hash_table_remove (q->self->pulls, key);
    }
}

/* Asks the slot's current contact: one pull per contact and system at a
 * time, which a second query joins. */
static void
ask (CloudQuery *q, Slot *slot, gint64 now)
{
  CbDbSetTarget *t = slot->candidates->pdata[slot->attempt];
  g_autofree char *key = pull_key (t->id, q->system);
  GPtrArray *waiters = g_hash_table_lookup (q->self->pulls, key);

  memcpy (slot->contact, t->id, 32);
  slot->attempt_ms = now;
  if (waiters == NULL)
    {
      waiters = g_ptr_array_new_with_free_func ((GDestroyNotify) slot_release);
      g_hash_table_insert (q->self->pulls, g_steal_pointer (&key), waiters);
      cb_transport_send (q->self->transport, t->id, t->addr, CB_PROTO_REPLICATION, q->pull);
    }
  g_ptr_array_add (waiters, g_rc_box_acquire (slot));
}

/* Drops the query's unanswered slots from the pulls they wait on. */
static void
forget_pending (CloudQuery *q)
{
  for (guint i = 0; i < q->slots->len; i++)
    if (((Slot *) q->slots->pdata[i])->answered_ms == 0)
      unwait (q, q->slots->pdata[i]);
}

static void
finish (CloudQuery *q)
{
  CbNode *self = q->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) sets = NULL;
  JsonNode *result;
  CbStoreStats stats;
  guint answered = 0;

  forget_pending (q);
  g_ptr_array_remove (self->cloud_queries, q);
  result = cb_store_query (self->store, q->system, q->sql, q->as_of, QUERY_MAX_ROWS, &error);
  if (result == NULL)
    {
      cb_control_reply_error (q->reply, error);
      cloud_query_free (q);
      return;
    }
  json_builder_begin_array (b);
  for (guint i = 0; i < q->slots->len; i++)
    {
      Slot *slot = q->slots->pdata[i];
      slot_json (b, slot);
      answered += slot->answered_ms != 0;
    }
  json_builder_end_array (b);
  sets = json_builder_get_root (b);
  cb_store_get_stats (self->store, q->system, &stats);
  {
    JsonObject *o = json_node_get_object (result);
    g_autofree char *newest = stats.newest_hlc > 0 ? cb_hlc_format (stats.newest_hlc) : NULL;

    json_object_set_string_member (o, "scope", "cloud");
    json_object_set_member (o, "sets", g_steal_pointer (&sets));
    json_object_set_int_member (o, "sets_asked", q->slots->len);
    json_object_set_int_member (o, "sets_answered", answered);
    json_object_set_int_member (o, "entries_received",
                                (gint64) (stats.entries - MIN (stats.entries, q->entries_before)));
    if (newest != NULL)
      json_object_set_string_member (o, "newest", newest);
    else
      json_object_set_null_member (o, "newest");
  }
  cb_control_reply_return (q->reply, result);
  cloud_query_free (q);
}

/* Every ATTEMPT_MS: a set whose contact has not answered is asked through
 * its next contact; at the deadline the query answers with what it has. */
static gboolean
on_timer (gpointer user_data)
{
  CloudQuery *q = user_data;
  gint64 now = _cb_node_now_ms ();

  if (now - q->started_ms >= QUERY_DEADLINE_MS - ATTEMPT_MS / 10)
    {
      q->timeout_source = 0;
      finish (q);
      return G_SOURCE_REMOVE;
    }
  for (guint i = 0; i < q->slots->len; i++)
    {
      Slot *slot = q->slots->pdata[i];

      if (slot->answered_ms != 0 || slot->attempt + 1 >= slot->candidates->len
          || now - slot->attempt_ms < ATTEMPT_MS - ATTEMPT_MS / 10)
        continue;
      unwait (q, slot);
      slot->attempt++;
      ask (q, slot, now);
    }
  return G_SOURCE_CONTINUE;
}

typedef struct {
  CbNode    *self;
  GPtrArray *waiters;   /* Slot*, owned by their queries */
  CbReplicationMessage pulled;
} Arrival;

static void
on_synced (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Arrival *a = user_data;
  gint64 now = _cb_node_now_ms ();
  g_autoptr(GPtrArray) done = g_ptr_array_new ();

  cb_store_sync_finish (CB_STORE (source), result, NULL);
  for (guint i = 0; i < a->waiters->len; i++)
    {
      Slot *slot = a->waiters->pdata[i];

      /* The query may have finished (deadline) meanwhile. */
      if (slot->query == NULL || slot->answered_ms != 0)
        continue;
      slot->answered_ms = MAX (now, slot->sent_ms + 1);
      slot->flags = a->pulled.pulled.flags;
      slot->received = a->pulled.pulled.sent;
      slot->entries = a->pulled.pulled.entries;
      slot->newest_hlc = a->pulled.pulled.newest_hlc;
      if (--slot->query->open == 0)
        g_ptr_array_add (done, slot->query);
    }
  for (guint i = 0; i < done->len; i++)
    finish (done->pdata[i]);
  g_ptr_array_unref (a->waiters);
  cb_replication_message_clear (&a->pulled);
  g_object_unref (a->self);
  g_free (a);
}

void
_cb_node_query_pulled (CbNode                     *self,
                       const guint8                peer[32],
                       const CbReplicationMessage *pulled)
{
  g_autofree char *key = pull_key (peer, pulled->system);
  g_autofree char *stored_key = NULL;
  GPtrArray *waiters = NULL;
  Arrival *a;

  if (!g_hash_table_steal_extended (self->pulls, key, (gpointer *) &stored_key,
                                    (gpointer *) &waiters))
    return;  /* nobody asked, or the query gave up */
  a = g_new0 (Arrival, 1);
  a->self = g_object_ref (self);
  a->waiters = waiters;
  a->pulled = *pulled;
  a->pulled.system = g_strdup (pulled->system);
  cb_store_sync_async (self->store, NULL, on_synced, a);
}

static GBytes *
encode_pull (CbNode *self, const char *system, GError **error)
{
  GHashTable *vector = cb_store_get_vector (self->store, system);
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (CbReplicationVectorItem));
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, vector);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      CbReplicationVectorItem item;

      memcpy (item.writer, g_bytes_get_data (key, NULL), 32);
      item.seq = *(guint64 *) value;
      g_array_append_val (items, item);
    }
  return cb_replication_encode_have (system, CB_REPLICATION_HAVE_PULL,
                                     (const CbReplicationVectorItem *) items->data, items->len,
                                     error);
}

void
_cb_node_query_cloud (CbNode         *self,
                      const char     *system,
                      const char     *sql,
                      guint64         as_of,
                      guint           n_sets,
                      CbControlReply *reply)
{
  CbDbSets *ds = _cb_node_sets_get (self, system);
  g_autoptr(GPtrArray) targets = NULL;
  g_autoptr(GBytes) pull = NULL;
  g_autoptr(GError) error = NULL;
  CloudQuery *q;
  CbStoreStats stats;
  gint64 now = _cb_node_now_ms ();

  pull = encode_pull (self, system, &error);
  if (pull == NULL || ds == NULL)
    {
      if (error == NULL)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "no db-sets for %s yet", system);
      cb_control_reply_error (reply, error);
      return;
    }
  q = g_new0 (CloudQuery, 1);
  q->self = self;
  q->reply = reply;
  q->system = g_strdup (system);
  q->sql = g_strdup (sql);
  q->as_of = as_of;
  q->slots = g_ptr_array_new_with_free_func ((GDestroyNotify) slot_release);
  cb_store_get_stats (self->store, system, &stats);
  q->entries_before = stats.entries;
  g_ptr_array_add (self->cloud_queries, q);

  q->started_ms = now;
  q->pull = g_steal_pointer (&pull);
  targets = cb_dbsets_pick_query_targets (ds, CLAMP (n_sets == 0 ? DEFAULT_SETS : n_sets, 1,
                                                     MAX_SETS));
  for (guint i = 0; i < targets->len; i++)
    {
      CbDbSetTarget *t = targets->pdata[i];
      Slot *slot = g_rc_box_new0 (Slot);

      slot->query = q;
      slot->set = t->set;
      slot->sent_ms = now;
      slot->candidates = cb_dbsets_get_contacts (ds, t->set, ATTEMPTS);
      if (slot->candidates->len == 0)
        {
          CbDbSetTarget *copy = g_new0 (CbDbSetTarget, 1);

          *copy = *t;
          copy->addr = g_strdup (t->addr);
          g_ptr_array_add (slot->candidates, copy);
        }
      g_ptr_array_add (q->slots, slot);
      q->open++;
      ask (q, slot, now);
    }
  if (q->open == 0)
    {
      /* No other host is known: our own copy is all there is. */
      finish (q);
      return;
    }
  q->timeout_source = g_timeout_add (ATTEMPT_MS, on_timer, q);
}

/* ---- life ---- */

void
_cb_node_query_init (CbNode *self)
{
  self->pulls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_ptr_array_unref);
  self->cloud_queries = g_ptr_array_new ();
}

void
_cb_node_query_stop (CbNode *self)
{
  g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         "the node is stopping");

  while (self->cloud_queries != NULL && self->cloud_queries->len > 0)
    {
      CloudQuery *q = g_ptr_array_steal_index (self->cloud_queries, 0);

      forget_pending (q);
      cb_control_reply_error (q->reply, error);
      cloud_query_free (q);
    }
}

void
_cb_node_query_free (CbNode *self)
{
  _cb_node_query_stop (self);
  g_clear_pointer (&self->pulls, g_hash_table_unref);
  g_clear_pointer (&self->cloud_queries, g_ptr_array_unref);
}
