/* cb-node-data.c: the node's systems: store, replication, put/query/digest
 *
 * Replication partners for a system are the live members that announce
 * hosting it (gossiped metadata).  Messages on CB_PROTO_REPLICATION go to
 * the sans-IO session core (cb-replication) and the store; what the core
 * asks to send is read from the store and encoded here. */
#define G_LOG_DOMAIN "cb-node"

#include "cb-node-private.h"

#include "cb-changeset.h"
#include "cb-hex.h"
#include "cb-hlc.h"
#include "cb-node-meta.h"
#include "cb-replication-codec.h"

G_STATIC_ASSERT (sizeof (CbVectorItem) == sizeof (CbReplicationVectorItem));

/* Anti-entropy: every session re-exchanges vectors this often. */
#define ANTI_ENTROPY_MS 3000
/* A run of entries per message, below the channel's frame cap. */
#define RUN_BYTES (256 * 1024)
/* A peer whose runs we refuse this often within the window is cut off. */
#define MAX_REJECTS 5
#define REJECT_WINDOW_MS 60000
#define BAN_MS 60000
#define QUERY_MAX_ROWS 100000

gboolean
cb_node_host_system (CbNode      *self,
                     const char  *system,
                     GError     **error)
{
  g_return_val_if_fail (!self->running, FALSE);
  /* Built in, or an installed app (cb-node-apps.c). */
  if (!_cb_node_apps_check_system (self, system, error))
    return FALSE;
  if (self->hosted == NULL)
    self->hosted = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < self->hosted->len; i++)
    if (g_strcmp0 (self->hosted->pdata[i], system) == 0)
      return TRUE;
  g_ptr_array_add (self->hosted, g_strdup (system));
  return TRUE;
}

gboolean
_cb_node_data_start (CbNode  *self,
                     GError **error)
{
  self->banned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->replication = cb_replication_new (ANTI_ENTROPY_MS);
  /* Installed apps load now and join the hosted systems. */
  _cb_node_apps_start (self);
  if (self->hosted == NULL || self->hosted->len == 0)
    return TRUE;
  self->store = cb_store_new (self->data_dir, self->identity->secret_key, error);
  if (self->store == NULL)
    return FALSE;
  for (guint i = 0; i < self->hosted->len; i++)
    {
      const char *system = self->hosted->pdata[i];
      CbStoreValidator validator = NULL;
      gpointer validator_data = NULL;
      g_autoptr(GError) local_error = NULL;
      g_autoptr(CbSchema) schema = _cb_node_apps_resolve (self, system, &validator,
                                                          &validator_data, &local_error);
      GHashTableIter iter;
      gpointer key, value;

      if (schema == NULL && _cb_node_apps_is_app (self, system))
        {
          /* An app that did not load is reported; the node runs on. */
          g_warning ("not hosting %s: %s", system, local_error->message);
          g_ptr_array_remove_index (self->hosted, i--);
          continue;
        }
      if (schema == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (!cb_store_host (self->store, schema, validator, validator_data, error))
        return FALSE;
      g_hash_table_iter_init (&iter, cb_store_get_vector (self->store, system));
      while (g_hash_table_iter_next (&iter, &key, &value))
        cb_replication_local_advanced (self->replication, system, g_bytes_get_data (key, NULL),
                                       *(guint64 *) value);
    }
  return TRUE;
}

void
_cb_node_data_stop (CbNode *self)
{
  g_clear_handle_id (&self->replication_source, g_source_remove);
  if (self->store != NULL)
    cb_store_close (self->store);
}

void
_cb_node_data_free (CbNode *self)
{
  g_clear_handle_id (&self->replication_source, g_source_remove);
  g_clear_object (&self->store);
  g_clear_pointer (&self->replication, cb_replication_free);
  g_clear_pointer (&self->hosted, g_ptr_array_unref);
  g_clear_pointer (&self->banned, g_hash_table_unref);
}

static gboolean
hosts (CbNode *self, const char *system)
{
  return self->store != NULL && cb_store_hosts (self->store, system);
}

/* ---- sending what the core asks for ---- */

#define pump _cb_node_data_pump

static gboolean
replication_timeout (gpointer user_data)
{
  CbNode *self = user_data;

  self->replication_source = 0;
  cb_replication_tick (self->replication, _cb_node_now_ms ());
  pump (self);
  return G_SOURCE_REMOVE;
}

static const char *
member_addr (CbNode *self, const guint8 peer[32], CbMember *scratch)
{
  return _cb_node_peer_addr (self, peer, scratch);
}

static void
send_have (CbNode *self, const CbReplicationAction *action)
{
  GHashTable *vector = cb_store_get_vector (self->store, action->system);
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (CbVectorItem));
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CbMember) member = { 0 };
  GHashTableIter iter;
  gpointer key, value;

  if (vector == NULL)
    return;
  g_hash_table_iter_init (&iter, vector);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      CbVectorItem item;
      memcpy (item.writer, g_bytes_get_data (key, NULL), 32);
      item.seq = *(guint64 *) value;
      g_array_append_val (items, item);
    }
  message = cb_replication_encode_have (action->system,
                                        action->reply ? CB_REPLICATION_HAVE_REPLY : 0,
                                        (const CbReplicationVectorItem *) items->data,
                                        items->len, &error);
  if (message == NULL)
    {
      g_warning ("cannot send our vector for %s: %s", action->system, error->message);
      return;
    }
  cb_transport_send (self->transport, action->peer, member_addr (self, action->peer, &member),
                     CB_PROTO_REPLICATION, message);
}

static void
send_run (CbNode *self, const CbReplicationAction *action)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CbMember) member = { 0 };
  guint8 sig[64];
  guint64 last = 0;

  if (cb_store_read_run (self->store, action->system, action->writer, action->from_seq,
                         RUN_BYTES, &entries, sig, &error))
    {
      message = cb_replication_encode_batch (action->system, action->writer, action->from_seq,
                                             sig, (GBytes * const *) entries->pdata, entries->len,
                                             &error);
      if (message != NULL)
        {
          cb_transport_send (self->transport, action->peer,
                             member_addr (self, action->peer, &member), CB_PROTO_REPLICATION,
                             message);
          last = action->from_seq + entries->len - 1;
        }
    }
  if (error != NULL)
    g_warning ("cannot send entries of %s: %s", action->system, error->message);
  cb_replication_sent (self->replication, action->peer, action->system, action->writer, last);
}

void
_cb_node_data_pump (CbNode *self)
{
  CbReplicationAction action;
  gint64 deadline, delay;

  if (self->replication == NULL || !self->running)
    return;
  while (cb_replication_pop_action (self->replication, &action))
    {
      if (hosts (self, action.system))
        {
          if (action.type == CB_REPLICATION_SEND_HAVE)
            send_have (self, &action);
          else
            send_run (self, &action);
        }
      cb_replication_action_clear (&action);
    }
  deadline = cb_replication_next_deadline (self->replication);
  if (deadline == G_MAXINT64)
    return;
  delay = MAX (0, deadline - _cb_node_now_ms ());
  g_clear_handle_id (&self->replication_source, g_source_remove);
  self->replication_source = g_timeout_add ((guint) MIN (delay, 60000), replication_timeout, self);
}

/* ---- membership: who replicates with whom ---- */

void
_cb_node_data_member_event (CbNode                  *self,
                            const CbMembershipEvent *event)
{
  if (self->replication == NULL)
    return;
  if (event->type == CB_MEMBERSHIP_EVENT_DEAD || event->type == CB_MEMBERSHIP_EVENT_LEFT
      || event->type == CB_MEMBERSHIP_EVENT_FORGET)
    cb_replication_peer_down (self->replication, event->member.id);
  /* Whom to replicate with is the db-sets' choice. */
  _cb_node_sets_member_event (self, event);
  pump (self);
}

/* ---- receiving ---- */

typedef struct {
  CbNode  *self;
  guint8   peer[32];
  guint8   writer[32];
  char    *system;
  guint64  last_seq;
} ReceiveOp;

static guint8
nack_reason (const GError *error)
{
  if (error->domain == CB_STORE_ERROR)
    switch (error->code)
      {
      case CB_STORE_ERROR_GAP:            return CB_REPLICATION_NACK_GAP;
      case CB_STORE_ERROR_FORK:           return CB_REPLICATION_NACK_BROKEN_CHAIN;
      case CB_STORE_ERROR_INVALID:        return CB_REPLICATION_NACK_REFUSED;
      case CB_STORE_ERROR_CLOCK:          return CB_REPLICATION_NACK_CLOCK;
      case CB_STORE_ERROR_UNKNOWN_SYSTEM: return CB_REPLICATION_NACK_NOT_HOSTED;
      default:                            return CB_REPLICATION_NACK_OTHER;
      }
  return cb_replication_nack_reason_for_error (error);
}

static void
send_nack (CbNode *self, const ReceiveOp *op, const GError *error)
{
  g_autoptr(GBytes) message = NULL;
  g_auto(CbMember) member = { 0 };

  message = cb_replication_encode_nack (op->system, op->writer, op->last_seq,
                                        nack_reason (error), error->message, NULL);
  if (message != NULL)
    cb_transport_send (self->transport, op->peer, member_addr (self, op->peer, &member),
                       CB_PROTO_REPLICATION, message);
}

static void
on_received (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  ReceiveOp *op = user_data;
  g_autoptr(CbNode) self = op->self;
  g_autoptr(GError) error = NULL;
  guint n_new = 0;
  char peer_hex[17];

  cb_hex_encode_into (op->peer, 8, peer_hex);
  if (!cb_store_receive_finish (CB_STORE (source), result, &n_new, &error))
    {
      if (!self->running)
        ;
      else if (g_error_matches (error, CB_STORE_ERROR, CB_STORE_ERROR_GAP))
        {
          g_debug ("%s from %s: %s; asking again", op->system, peer_hex, error->message);
          cb_replication_resync (self->replication, op->peer, op->system);
        }
      else
        {
          g_warning ("refused entries of %s from %s: %s", op->system, peer_hex, error->message);
          send_nack (self, op, error);
          if (cb_replication_rejected (self->replication, op->peer, _cb_node_now_ms (),
                                       MAX_REJECTS, REJECT_WINDOW_MS))
            {
              gint64 *until = g_new (gint64, 1);
              g_autofree char *reason = g_strdup_printf ("sent more than %d invalid runs of "
                                                         "entries in %d s", MAX_REJECTS,
                                                         REJECT_WINDOW_MS / 1000);

              *until = _cb_node_now_ms () + BAN_MS;
              g_hash_table_replace (self->banned, cb_hex_encode (op->peer, 32), until);
              g_warning ("disconnecting %s: it %s", peer_hex, reason);
              cb_replication_peer_down (self->replication, op->peer);
              cb_transport_disconnect (self->transport, op->peer, reason);
            }
        }
    }
  else if (self->running)
    {
      cb_replication_received (self->replication, op->peer, op->system, op->writer, op->last_seq);
      if (n_new > 0)
        {
          guint64 seq = cb_store_get_seq (self->store, op->system, op->writer);
          char writer_hex[17];

          cb_hex_encode_into (op->writer, 8, writer_hex);
          g_info ("stored %u new entries of %s from %s: writer %s up to seq %" G_GUINT64_FORMAT,
                  n_new, op->system, peer_hex, writer_hex, seq);
          cb_replication_local_advanced (self->replication, op->system, op->writer, seq);
          _cb_node_emit_changed (self);
        }
    }
  pump (self);
  g_free (op->system);
  g_free (op);
}

static gboolean
is_banned (CbNode *self, const guint8 peer[32])
{
  g_autofree char *hex = cb_hex_encode (peer, 32);
  gint64 *until = g_hash_table_lookup (self->banned, hex);

  if (until == NULL)
    return FALSE;
  if (*until > _cb_node_now_ms ())
    return TRUE;
  g_hash_table_remove (self->banned, hex);
  return FALSE;
}

void
_cb_node_data_message (CbNode       *self,
                       const guint8  peer[32],
                       GBytes       *payload)
{
  g_auto(CbReplicationMessage) message = { 0 };
  g_autoptr(GError) error = NULL;
  char peer_hex[17];

  if (self->replication == NULL || is_banned (self, peer))
    return;
  cb_hex_encode_into (peer, 8, peer_hex);
  if (!cb_replication_decode_bytes (payload, &message, &error))
    {
      g_warning ("dropping a replication message from %s: %s", peer_hex, error->message);
      return;
    }
  if (!hosts (self, message.system))
    {
      g_debug ("%s asked about %s, which we do not host", peer_hex, message.system);
      return;
    }
  switch (message.type)
    {
    case CB_REPLICATION_MSG_HAVE:
      if (message.have.flags & CB_REPLICATION_HAVE_PULL)
        {
          _cb_node_query_answer_pull (self, peer, &message);
          break;
        }
      cb_replication_receive_have (self->replication, peer, message.system,
                                   (const CbVectorItem *) message.have.items, message.have.n_items,
                                   (message.have.flags & CB_REPLICATION_HAVE_REPLY) != 0,
                                   _cb_node_now_ms ());
      break;
    case CB_REPLICATION_MSG_BATCH:
      {
        ReceiveOp *op = g_new0 (ReceiveOp, 1);

        op->self = g_object_ref (self);
        memcpy (op->peer, peer, 32);
        memcpy (op->writer, message.batch.writer, 32);
        op->system = g_strdup (message.system);
        op->last_seq = message.batch.first_seq + message.batch.entries->len - 1;
        cb_store_receive_async (self->store, message.system, message.batch.writer,
                                message.batch.first_seq, message.batch.sig,
                                message.batch.entries, NULL, on_received, op);
      }
      break;
    case CB_REPLICATION_MSG_PULLED:
      _cb_node_query_pulled (self, peer, &message);
      break;
    case CB_REPLICATION_MSG_NACK:
      if (message.nack.reason == CB_REPLICATION_NACK_GAP)
        cb_replication_resync (self->replication, peer, message.system);
      else
        g_warning ("%s refused our entries of %s (%s): %s", peer_hex, message.system,
                   cb_replication_nack_reason_name (message.nack.reason), message.nack.text);
      break;
    default:
      break;
    }
  pump (self);
}

/* ---- hosting policy ---- */

/* Live hosts of system, ourselves included (we host it if we ask). */
static guint
count_hosts (CbNode *self, const char *system)
{
  g_autoptr(GPtrArray) members = cb_membership_get_members (self->membership);
  guint n = hosts (self, system) ? 1 : 0;

  for (guint i = 0; i < members->len; i++)
    {
      CbMember *member = g_ptr_array_index (members, i);
      g_autoptr(CbNodeMeta) meta = NULL;

      if (member->state != CB_MEMBER_ALIVE && member->state != CB_MEMBER_SUSPECT)
        continue;
      if (member->meta != NULL)
        meta = cb_node_meta_decode (g_bytes_get_data (member->meta, NULL),
                                    g_bytes_get_size (member->meta), NULL);
      if (meta != NULL && g_strv_contains ((const char * const *) meta->systems, system))
        n++;
    }
  return n;
}

static guint
min_hosts (CbNode *self, const char *system)
{
  gpointer value;

  if (self->cloud->system_min_hosts != NULL
      && g_hash_table_lookup_extended (self->cloud->system_min_hosts, system, NULL, &value))
    return GPOINTER_TO_UINT (value);
  return 1;
}

/* Below its min_hosts a system is dormant: its data stays and keeps
 * replicating, but new writes are refused (not queued: a write the user
 * believes made would then depend on a future that may not come). */
static gboolean
check_not_dormant (CbNode *self, const char *system, GError **error)
{
  guint need = min_hosts (self, system);
  guint have = count_hosts (self, system);

  if (have >= need)
    return TRUE;
  g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_DORMANT,
               "%s is dormant: its policy in cloud.json needs at least %u live hosts and %u %s "
               "alive; the write was not made (it was not queued either). Writes resume when "
               "enough hosts are back.", system, need, have, have == 1 ? "is" : "are");
  return FALSE;
}

/* ---- control: put, query, digest ---- */

static gboolean
require_system (CbNode          *self,
                JsonObject      *request,
                CbControlReply  *reply,
                const char     **system)
{
  g_autoptr(GError) error = NULL;

  *system = json_object_get_string_member_with_default (request, "system", NULL);
  if (*system == NULL)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--system is required");
  else if (!hosts (self, *system))
    g_set_error (&error, CB_STORE_ERROR, CB_STORE_ERROR_UNKNOWN_SYSTEM,
                 "this node does not host \"%s\"; run it with --host %s", *system, *system);
  if (error == NULL)
    return TRUE;
  cb_control_reply_error (reply, error);
  return FALSE;
}

typedef struct {
  CbNode         *self;
  CbControlReply *reply;
  char           *system;
  guint           n_rows;
} PutOp;

static void
on_put (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  PutOp *op = user_data;
  g_autoptr(CbNode) self = op->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *hlc_text = NULL;
  guint64 seq = 0, hlc = 0;

  if (!cb_store_write_finish (CB_STORE (source), result, &seq, &hlc, &error))
    cb_control_reply_error (op->reply, error);
  else
    {
      cb_replication_local_advanced (self->replication, op->system, self->identity->public_key,
                                     seq);
      pump (self);
      _cb_node_emit_changed (self);
      hlc_text = cb_hlc_format (hlc);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "system");
      json_builder_add_string_value (builder, op->system);
      json_builder_set_member_name (builder, "writer");
      json_builder_add_string_value (builder, self->id_hex);
      json_builder_set_member_name (builder, "seq");
      json_builder_add_int_value (builder, (gint64) seq);
      json_builder_set_member_name (builder, "hlc");
      json_builder_add_int_value (builder, (gint64) hlc);
      json_builder_set_member_name (builder, "time");
      json_builder_add_string_value (builder, hlc_text);
      json_builder_set_member_name (builder, "rows");
      json_builder_add_int_value (builder, op->n_rows);
      json_builder_end_object (builder);
      cb_control_reply_return (op->reply, json_builder_get_root (builder));
    }
  g_free (op->system);
  g_free (op);
}

/* ---- local writes of apps ---- */

static void
on_app_written (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  CbNode *self = g_task_get_source_object (task);
  const char *system = g_task_get_task_data (task);
  GError *error = NULL;
  guint64 seq = 0;

  if (!cb_store_write_finish (CB_STORE (source), result, &seq, NULL, &error))
    g_task_return_error (task, error);
  else
    {
      if (self->running)
        {
          cb_replication_local_advanced (self->replication, system, self->identity->public_key,
                                         seq);
          pump (self);
          _cb_node_emit_changed (self);
        }
      g_task_return_boolean (task, TRUE);
    }
  g_object_unref (task);
}

void
_cb_node_data_write_async (CbNode              *self,
                           const char          *system,
                           GBytes              *changeset,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, _cb_node_data_write_async);
  g_task_set_task_data (task, g_strdup (system), g_free);
  if (!self->running || !hosts (self, system))
    g_set_error (&error, CB_STORE_ERROR, CB_STORE_ERROR_UNKNOWN_SYSTEM,
                 "this node does not host %s now", system);
  else
    check_not_dormant (self, system, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  cb_store_write_async (self->store, system, changeset, cancellable, on_app_written, task);
}

gboolean
_cb_node_data_write_finish (CbNode        *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* {"system", "table", "rows": [{…}, …]} or "row": {…}; "delete": [{key…}] */
static void
control_put (CbNode         *self,
             JsonObject     *request,
             CbControlReply *reply)
{
  const char *system = NULL;
  const char *table = json_object_get_string_member_with_default (request, "table", NULL);
  JsonNode *rows = json_object_get_member (request, "rows");
  gboolean delete = json_object_get_boolean_member_with_default (request, "delete", FALSE);
  g_autoptr(GError) error = NULL;
  CbChangesetBuilder *builder = NULL;
  g_autoptr(GBytes) changeset = NULL;
  PutOp *op;
  guint n = 0;

  if (!require_system (self, request, reply, &system))
    return;
  if (!check_not_dormant (self, system, &error))
    {
      cb_control_reply_error (reply, error);
      return;
    }
  if (table == NULL || rows == NULL)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--table and --json (an object or an array of objects) are required");
      cb_control_reply_error (reply, error);
      return;
    }
  builder = cb_changeset_builder_new (cb_store_get_schema (self->store, system), &error);
  if (builder != NULL)
    {
      if (JSON_NODE_HOLDS_OBJECT (rows))
        {
          JsonObject *row = json_node_get_object (rows);
          if (delete ? cb_changeset_builder_delete (builder, table, row, &error)
                     : cb_changeset_builder_upsert (builder, table, row, &error))
            n = 1;
        }
      else if (JSON_NODE_HOLDS_ARRAY (rows))
        {
          JsonArray *array = json_node_get_array (rows);

          for (guint i = 0; i < json_array_get_length (array) && error == NULL; i++)
            {
              JsonNode *element = json_array_get_element (array, i);

              if (!JSON_NODE_HOLDS_OBJECT (element))
                g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             "row %u is not a JSON object", i + 1);
              else if (delete ? cb_changeset_builder_delete (builder, table,
                                                             json_node_get_object (element), &error)
                              : cb_changeset_builder_upsert (builder, table,
                                                             json_node_get_object (element), &error))
                n++;
            }
        }
      else
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "--json must be an object or an array of objects");
      if (error == NULL)
        changeset = cb_changeset_builder_finish (builder, &error);
      cb_changeset_builder_free (builder);
    }
  if (changeset == NULL)
    {
      cb_control_reply_error (reply, error);
      return;
    }
  op = g_new0 (PutOp, 1);
  op->self = g_object_ref (self);
  op->reply = reply;
  op->system = g_strdup (system);
  op->n_rows = n;
  cb_store_write_async (self->store, system, changeset, NULL, on_put, op);
}

static void
control_query (CbNode         *self,
               JsonObject     *request,
               CbControlReply *reply)
{
  const char *system = NULL;
  const char *sql = json_object_get_string_member_with_default (request, "sql", NULL);
  const char *as_of = json_object_get_string_member_with_default (request, "as_of", NULL);
  const char *scope = json_object_get_string_member_with_default (request, "scope", "local");
  g_autoptr(GError) error = NULL;
  guint64 as_of_hlc = 0;
  JsonNode *result;

  if (!require_system (self, request, reply, &system))
    return;
  if (sql == NULL)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--sql is required");
  else if (g_strcmp0 (scope, "local") != 0 && g_strcmp0 (scope, "cloud") != 0)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "--scope must be local (this node's copy) or cloud (ask several db-sets), "
                 "not \"%s\"", scope);
  else if (as_of != NULL && !cb_hlc_parse (as_of, &as_of_hlc, NULL))
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "--as-of \"%s\" is neither a log position (an hlc number) nor a time "
                 "like 2026-11-22T10:00:00Z", as_of);
  if (error != NULL)
    {
      cb_control_reply_error (reply, error);
      return;
    }
  if (g_strcmp0 (scope, "cloud") == 0)
    {
      /* Refuse a bad SELECT before asking anyone. */
      if (!cb_store_check_query (self->store, system, sql, &error))
        {
          cb_control_reply_error (reply, error);
          return;
        }
      _cb_node_query_cloud (self, system, sql, as_of_hlc,
                            (guint) json_object_get_int_member_with_default (request, "sets", 0),
                            reply);
      return;
    }
  result = cb_store_query (self->store, system, sql, as_of_hlc, QUERY_MAX_ROWS, &error);
  if (result == NULL)
    cb_control_reply_error (reply, error);
  else
    cb_control_reply_return (reply, result);
}

static void
control_digest (CbNode         *self,
                JsonObject     *request,
                CbControlReply *reply)
{
  const char *system = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *digest = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  CbStoreStats stats;

  if (!require_system (self, request, reply, &system))
    return;
  digest = cb_store_digest (self->store, system, &error);
  if (digest == NULL)
    {
      cb_control_reply_error (reply, error);
      return;
    }
  cb_store_get_stats (self->store, system, &stats);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, system);
  json_builder_set_member_name (builder, "digest");
  json_builder_add_string_value (builder, digest);
  json_builder_set_member_name (builder, "entries");
  json_builder_add_int_value (builder, (gint64) stats.entries);
  json_builder_end_object (builder);
  cb_control_reply_return (reply, json_builder_get_root (builder));
}

/* {"system", "to"|"from", "passphrase"} */
static void
control_backup (CbNode         *self,
                const char     *command,
                JsonObject     *request,
                CbControlReply *reply)
{
  gboolean backup = g_strcmp0 (command, "backup") == 0;
  const char *system = NULL;
  const char *url = json_object_get_string_member_with_default (request, backup ? "to" : "from",
                                                                 NULL);
  const char *passphrase = json_object_get_string_member_with_default (request, "passphrase",
                                                                        NULL);
  g_autoptr(GError) error = NULL;

  if (!require_system (self, request, reply, &system))
    return;
  if (url == NULL || passphrase == NULL || *passphrase == '\0')
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s and a passphrase are required", backup ? "--to" : "--from");
      cb_control_reply_error (reply, error);
      return;
    }
  if (backup)
    _cb_node_backup (self, system, url, passphrase, reply);
  else
    _cb_node_restore (self, system, url, passphrase, reply);
}

gboolean
_cb_node_data_control (CbNode         *self,
                       const char     *command,
                       JsonObject     *request,
                       CbControlReply *reply)
{
  if (g_strcmp0 (command, "put") == 0)
    control_put (self, request, reply);
  else if (g_strcmp0 (command, "query") == 0)
    control_query (self, request, reply);
  else if (g_strcmp0 (command, "digest") == 0)
    control_digest (self, request, reply);
  else if (g_strcmp0 (command, "backup") == 0 || g_strcmp0 (command, "restore") == 0)
    control_backup (self, command, request, reply);
  else
    return FALSE;
  return TRUE;
}

/* ---- status ---- */

void
_cb_node_data_status (CbNode      *self,
                      JsonBuilder *builder)
{
  g_autoptr(GPtrArray) members = NULL;

  json_builder_set_member_name (builder, "systems");
  json_builder_begin_array (builder);
  if (self->store != NULL)
    {
      g_auto(GStrv) systems = cb_store_list_systems (self->store);

      members = cb_membership_get_members (self->membership);
      for (guint i = 0; systems[i] != NULL; i++)
        {
          CbStoreStats stats;

          cb_store_get_stats (self->store, systems[i], &stats);
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "system");
          json_builder_add_string_value (builder, systems[i]);
          json_builder_set_member_name (builder, "hosted");
          json_builder_add_boolean_value (builder, TRUE);
          json_builder_set_member_name (builder, "hosts_alive");
          json_builder_add_int_value (builder, count_hosts (self, systems[i]));
          json_builder_set_member_name (builder, "min_hosts");
          json_builder_add_int_value (builder, min_hosts (self, systems[i]));
          json_builder_set_member_name (builder, "dormant");
          json_builder_add_boolean_value (builder, count_hosts (self, systems[i])
                                                   < min_hosts (self, systems[i]));
          json_builder_set_member_name (builder, "entries");
          json_builder_add_int_value (builder, (gint64) stats.entries);
          json_builder_set_member_name (builder, "writers");
          json_builder_add_int_value (builder, (gint64) stats.writers);
          json_builder_set_member_name (builder, "rejected");
          json_builder_add_int_value (builder, (gint64) stats.rejected);
          _cb_node_sets_status (self, systems[i], builder);
          json_builder_set_member_name (builder, "peers");
          json_builder_begin_array (builder);
          for (guint j = 0; j < members->len; j++)
            {
              CbMember *member = g_ptr_array_index (members, j);
              gint64 lag = cb_replication_lag (self->replication, member->id, systems[i]);
              char id[65];

              if (lag < 0)
                continue;
              cb_hex_encode_into (member->id, 32, id);
              json_builder_begin_object (builder);
              json_builder_set_member_name (builder, "id");
              json_builder_add_string_value (builder, id);
              json_builder_set_member_name (builder, "lag");
              json_builder_add_int_value (builder, lag);
              json_builder_end_object (builder);
            }
          json_builder_end_array (builder);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);
}
