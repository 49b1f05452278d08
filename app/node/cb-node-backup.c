/* cb-node-backup.c: backup to and restore from a public domain
 *
 * "backup" reads every signed run of a system's logs, seals them
 * (cb-backup.h) and writes the file to a list source URL (file://,
 * git+…#path, github:// — the same public domains lists live on) with a
 * compare-and-swap over whatever backup was there.  "restore" reads such a
 * file, opens it whole (nothing is applied from a file that does not
 * decrypt), and hands each run to the store, which verifies it like a
 * replicated one; what it restores then replicates to the other hosts.
 * Key derivation and encryption run on a worker thread. */
#define G_LOG_DOMAIN "cb-node"

#include "cb-node-private.h"

#include <sodium.h>
#include <string.h>

#include "cb-backup.h"
#include "cb-hex.h"

#define RUN_BYTES (512 * 1024)

typedef struct {
  CbNode         *self;
  CbControlReply *reply;
  char           *system;
  char           *url;
  char           *passphrase;
  CbListSource   *source;
  GBytes         *sealed;
  CbBackupInfo    info;
  GPtrArray      *runs;       /* GBytes BATCH messages */
  guint           next_run;
  guint64         new_entries;
} BackupOp;

static void
backup_op_free (BackupOp *op)
{
  if (op->passphrase != NULL)
    {
      sodium_memzero (op->passphrase, strlen (op->passphrase));
      g_free (op->passphrase);
    }
  g_clear_object (&op->source);
  g_clear_pointer (&op->sealed, g_bytes_unref);
  g_clear_pointer (&op->runs, g_ptr_array_unref);
  cb_backup_info_clear (&op->info);
  g_free (op->system);
  g_free (op->url);
  g_object_unref (op->self);
  g_free (op);
}

static void
fail (BackupOp *op, const GError *error, const char *what)
{
  g_autoptr(GError) copy = g_error_copy (error);

  g_prefix_error (&copy, "%s %s: ", what, op->url);
  cb_control_reply_error (op->reply, copy);
  backup_op_free (op);
}

static CbListSource *
open_source (CbNode *self, const char *url, GError **error)
{
  g_autofree char *cache_dir = g_build_filename (self->data_dir, "backup-sources", NULL);
  CbListSourceOptions options = {
    .cache_dir = cache_dir,
    .github_token = g_getenv ("CB_GITHUB_TOKEN"),
    .github_api_base = g_getenv ("CB_GITHUB_API_BASE"),
    .max_bytes = CB_BACKUP_MAX_BYTES + 64 * 1024,
  };

  return cb_list_source_new (url, &options, error);
}

/* ---- backup ---- */

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BackupOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (!cb_list_source_write_finish (CB_LIST_SOURCE (source), result, &error))
    {
      fail (op, error, "cannot write the backup to");
      return;
    }
  g_info ("backed up %s (%" G_GUINT64_FORMAT " entries, %" G_GSIZE_FORMAT " bytes) to %s",
          op->system, op->info.entries, g_bytes_get_size (op->sealed), op->url);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, op->system);
  json_builder_set_member_name (b, "to");
  json_builder_add_string_value (b, op->url);
  json_builder_set_member_name (b, "entries");
  json_builder_add_int_value (b, (gint64) op->info.entries);
  json_builder_set_member_name (b, "runs");
  json_builder_add_int_value (b, op->runs->len);
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, (gint64) g_bytes_get_size (op->sealed));
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, op->info.created);
  json_builder_end_object (b);
  cb_control_reply_return (op->reply, json_builder_get_root (b));
  backup_op_free (op);
}

static void
on_read_current (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BackupOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) current = NULL;
  g_autofree char *revision = NULL;
  g_autofree char *message = NULL;

  /* Only the revision matters: the write replaces what is there. */
  current = cb_list_source_read_finish (CB_LIST_SOURCE (source), result, &revision, &error);
  if (current == NULL && !g_error_matches (error, CB_LIST_SOURCE_ERROR,
                                           CB_LIST_SOURCE_ERROR_NOT_FOUND)
      && !g_error_matches (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE))
    {
      fail (op, error, "cannot reach");
      return;
    }
  message = g_strdup_printf ("Backup of %s by node %s: %" G_GUINT64_FORMAT " entries",
                             op->system, op->self->id_hex, op->info.entries);
  cb_list_source_write_async (op->source, op->sealed, revision, message, NULL, on_written, op);
}

static void
seal_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  BackupOp *op = data;
  GError *error = NULL;
  GBytes *sealed = cb_backup_seal (&op->info, op->runs, op->passphrase, &error);

  if (sealed == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, sealed, (GDestroyNotify) g_bytes_unref);
}

static void
on_sealed (GObject *object, GAsyncResult *result, gpointer user_data)
{
  BackupOp *op = user_data;
  g_autoptr(GError) error = NULL;

  op->sealed = g_task_propagate_pointer (G_TASK (result), &error);
  if (op->sealed == NULL)
    {
      fail (op, error, "cannot seal the backup for");
      return;
    }
  cb_list_source_read_async (op->source, NULL, on_read_current, op);
}

/* Every signed run of every writer's log, in log order. */
static GPtrArray *
all_runs (CbNode *self, const char *system, GError **error)
{
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GHashTable *vector = cb_store_get_vector (self->store, system);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, vector);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const guint8 *writer = g_bytes_get_data (key, NULL);
      guint64 last = *(guint64 *) value;

      for (guint64 from = 1; from <= last;)
        {
          g_autoptr(GPtrArray) entries = NULL;
          guint8 sig[64];
          GBytes *message;

          if (!cb_store_read_run (self->store, system, writer, from, RUN_BYTES, &entries, sig,
                                  error))
            {
              if (error != NULL && *error == NULL)
                g_set_error (error, CB_STORE_ERROR, CB_STORE_ERROR_DATABASE,
                             "the log of a writer ends before entry %" G_GUINT64_FORMAT, from);
              return NULL;
            }
          message = cb_replication_encode_batch (system, writer, from, sig,
                                                 (GBytes * const *) entries->pdata, entries->len,
                                                 error);
          if (message == NULL)
            return NULL;
          g_ptr_array_add (runs, message);
          from += entries->len;
        }
    }
  return g_steal_pointer (&runs);
}

void
_cb_node_backup (CbNode         *self,
                 const char     *system,
                 const char     *url,
                 const char     *passphrase,
                 CbControlReply *reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  BackupOp *op;
  CbStoreStats stats;

  op = g_new0 (BackupOp, 1);
  op->self = g_object_ref (self);
  op->reply = reply;
  op->system = g_strdup (system);
  op->url = g_strdup (url);
  op->passphrase = g_strdup (passphrase);
  op->source = open_source (self, url, &error);
  if (op->source == NULL || !cb_list_source_is_writable (op->source))
    {
      if (error == NULL)
        g_set_error (&error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_WRITABLE,
                     "it can only be read; back up to file://, git+…#path or github://");
      fail (op, error, "cannot back up to");
      return;
    }
  op->runs = all_runs (self, system, &error);
  if (op->runs == NULL)
    {
      fail (op, error, "cannot read the logs to back up to");
      return;
    }
  cb_store_get_stats (self->store, system, &stats);
  op->info.system = g_strdup (system);
  op->info.writer = g_strdup (self->id_hex);
  op->info.created = g_get_real_time () / G_USEC_PER_SEC;
  op->info.entries = stats.entries;
  task = g_task_new (NULL, NULL, on_sealed, op);
  g_task_set_task_data (task, op, NULL);
  g_task_run_in_thread (task, seal_in_thread);
}

/* ---- restore ---- */

static void restore_next (BackupOp *op);

static void
on_run_stored (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BackupOp *op = user_data;
  g_autoptr(GError) error = NULL;
  guint n_new = 0;

  if (!cb_store_receive_finish (CB_STORE (source), result, &n_new, &error))
    {
      g_autoptr(GError) why = g_error_new (error->domain, error->code,
                                           "run %u of %u was refused after %" G_GUINT64_FORMAT
                                           " new entries: %s", op->next_run, op->runs->len,
                                           op->new_entries, error->message);
      fail (op, why, "cannot restore from");
      return;
    }
  op->new_entries += n_new;
  restore_next (op);
}

static void
restore_done (BackupOp *op)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GHashTable *vector = cb_store_get_vector (op->self->store, op->system);
  GHashTableIter iter;
  gpointer key, value;

  /* What came back goes out to the other hosts like any new entries. */
  g_hash_table_iter_init (&iter, vector);
  while (g_hash_table_iter_next (&iter, &key, &value))
    cb_replication_local_advanced (op->self->replication, op->system,
                                   g_bytes_get_data (key, NULL), *(guint64 *) value);
  _cb_node_data_pump (op->self);
  _cb_node_emit_changed (op->self);
  g_info ("restored %s from %s: %" G_GUINT64_FORMAT " new entries", op->system, op->url,
          op->new_entries);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, op->system);
  json_builder_set_member_name (b, "from");
  json_builder_add_string_value (b, op->url);
  json_builder_set_member_name (b, "runs");
  json_builder_add_int_value (b, op->runs->len);
  json_builder_set_member_name (b, "entries");
  json_builder_add_int_value (b, (gint64) op->info.entries);
  json_builder_set_member_name (b, "new_entries");
  json_builder_add_int_value (b, (gint64) op->new_entries);
  json_builder_set_member_name (b, "made_by");
  json_builder_add_string_value (b, op->info.writer);
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, op->info.created);
  json_builder_end_object (b);
  cb_control_reply_return (op->reply, json_builder_get_root (b));
  backup_op_free (op);
}

static void
restore_next (BackupOp *op)
{
  g_auto(CbReplicationMessage) m = { 0 };
  g_autoptr(GError) error = NULL;

  if (op->next_run == op->runs->len)
    {
      restore_done (op);
      return;
    }
  if (!cb_replication_decode_bytes (op->runs->pdata[op->next_run++], &m, &error)
      || m.type != CB_REPLICATION_MSG_BATCH || g_strcmp0 (m.system, op->system) != 0)
    {
      if (error == NULL)
        g_set_error (&error, CB_BACKUP_ERROR, CB_BACKUP_ERROR_MALFORMED,
                     "run %u is not a run of %s's entries", op->next_run, op->system);
      fail (op, error, "cannot restore from");
      return;
    }
  cb_store_receive_async (op->self->store, op->system, m.batch.writer, m.batch.first_seq,
                          m.batch.sig, m.batch.entries, NULL, on_run_stored, op);
}

static void
open_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  BackupOp *op = data;
  GError *error = NULL;
  GPtrArray *runs = cb_backup_open (op->sealed, op->passphrase, &op->info, &error);

  if (runs == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, runs, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_opened (GObject *object, GAsyncResult *result, gpointer user_data)
{
  BackupOp *op = user_data;
  g_autoptr(GError) error = NULL;

  op->runs = g_task_propagate_pointer (G_TASK (result), &error);
  if (op->runs == NULL)
    {
      fail (op, error, "cannot restore from");
      return;
    }
  if (g_strcmp0 (op->info.system, op->system) != 0)
    {
      g_set_error (&error, CB_BACKUP_ERROR, CB_BACKUP_ERROR_INVALID,
                   "it is a backup of %s, not of %s", op->info.system, op->system);
      fail (op, error, "cannot restore from");
      return;
    }
  restore_next (op);
}

static void
on_read_backup (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BackupOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;

  op->sealed = cb_list_source_read_finish (CB_LIST_SOURCE (source), result, NULL, &error);
  if (op->sealed == NULL)
    {
      fail (op, error, "cannot read the backup at");
      return;
    }
  task = g_task_new (NULL, NULL, on_opened, op);
  g_task_set_task_data (task, op, NULL);
  g_task_run_in_thread (task, open_in_thread);
}

void
_cb_node_restore (CbNode         *self,
                  const char     *system,
                  const char     *url,
                  const char     *passphrase,
                  CbControlReply *reply)
{
  g_autoptr(GError) error = NULL;
  BackupOp *op = g_new0 (BackupOp, 1);

  op->self = g_object_ref (self);
  op->reply = reply;
  op->system = g_strdup (system);
  op->url = g_strdup (url);
  op->passphrase = g_strdup (passphrase);
  op->source = open_source (self, url, &error);
  if (op->source == NULL)
    {
      fail (op, error, "cannot restore from");
      return;
    }
  cb_list_source_read_async (op->source, NULL, on_read_backup, op);
}
