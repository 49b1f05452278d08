/* cb-list-publish.c: read-merge-sign-write with compare-and-swap retries */
#define G_LOG_DOMAIN "cb-lists"

#include "cb-list-publish.h"

#include <sodium.h>
#include <string.h>

/* Pause before retry n is n * (20..99) ms: long enough for the other
 * writer to finish, short enough not to matter to a person. */
#define BACKOFF_STEP_MIN_MS 20
#define BACKOFF_STEP_SPAN_MS 80

typedef struct {
  CbNodeList *mine;
  guint8    (*trusted)[32];
  gsize       n_trusted;
  guint8      secret[64];
  guint8      public_key[32];
  char       *node_id;      /* the publishing node, for the commit message; may be NULL */
  gint64      now;
  gint64      ttl;
  gint64      drop_before;
  guint       attempts;
  guint64     version;
  GSource    *backoff;
} PublishData;

static void
publish_data_free (PublishData *data)
{
  cb_node_list_free (data->mine);
  g_free (data->trusted);
  g_free (data->node_id);
  sodium_memzero (data->secret, sizeof data->secret);
  if (data->backoff != NULL)
    {
      g_source_destroy (data->backoff);
      g_source_unref (data->backoff);
    }
  g_free (data);
}

static void start_attempt (GTask *task);

/* Differs between publishers (their keys or node ids differ), so two that
 * collided do not retry in lockstep; no global random state needed. */
static guint
backoff_ms (const PublishData *data)
{
  guint8 input[36];
  guint8 hash[4];

  memcpy (input, data->public_key, 32);
  memcpy (input + 32, &data->attempts, 4);
  crypto_generichash (hash, sizeof hash, input, sizeof input,
                      (const guint8 *) data->node_id, data->node_id ? strlen (data->node_id) : 0);
  return data->attempts * (BACKOFF_STEP_MIN_MS +
                           (guint) (hash[0] | hash[1] << 8) % BACKOFF_STEP_SPAN_MS);
}

static gboolean
on_backoff_done (gpointer user_data)
{
  GTask *task = user_data;
  PublishData *data = g_task_get_task_data (task);

  g_clear_pointer (&data->backoff, g_source_unref);
  start_attempt (task);
  return G_SOURCE_REMOVE;
}

static void
on_written (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PublishData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (cb_list_source_write_finish (CB_LIST_SOURCE (object), result, &error))
    {
      g_debug ("published list version %" G_GUINT64_FORMAT " to %s after %u attempt(s)",
               data->version, cb_list_source_get_url (CB_LIST_SOURCE (object)),
               data->attempts);
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (!g_error_matches (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (data->attempts >= CB_LIST_PUBLISH_MAX_ATTEMPTS)
    {
      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT,
                               "gave up publishing to %s after %u attempts: others kept "
                               "writing first (%s)",
                               cb_list_source_get_url (CB_LIST_SOURCE (object)),
                               data->attempts, error->message);
      return;
    }
  g_debug ("%s; retrying", error->message);
  data->backoff = g_timeout_source_new (backoff_ms (data));
  g_source_set_callback (data->backoff, on_backoff_done, g_object_ref (task), g_object_unref);
  g_source_attach (data->backoff, g_task_get_context (task));
}

/* Signs @merged, dropping the stalest nodes while it is too large. */
static GBytes *
sign_fitting (CbNodeList        *merged,
              const PublishData *data,
              GError           **error)
{
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      GBytes *envelope = cb_node_list_sign (merged, data->secret, data->now, data->ttl,
                                            &local_error);

      if (envelope != NULL)
        return envelope;
      if (!g_error_matches (local_error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE) ||
          merged->nodes->len == 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      cb_node_list_keep_freshest (merged, MIN (merged->nodes->len * 9 / 10,
                                               CB_NODE_LIST_MAX_NODES));
    }
}

static void
on_read (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CbListSource *source = CB_LIST_SOURCE (object);
  PublishData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *revision = NULL;
  g_autoptr(GBytes) bytes = cb_list_source_read_finish (source, result, &revision, &error);
  g_autoptr(CbNodeList) theirs = NULL;
  g_autoptr(CbNodeList) merged = NULL;
  g_autoptr(GBytes) envelope = NULL;
  g_autofree char *message = NULL;
  g_autofree char *publisher_hex = NULL;
  GCancellable *cancellable;

  if (bytes == NULL)
    {
      if (!g_error_matches (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      theirs = cb_node_list_new (data->mine->cloud);
    }
  else
    {
      gsize len = 0;
      const guint8 *raw = g_bytes_get_data (bytes, &len);

      /* An expired list still holds nodes worth keeping. */
      theirs = cb_node_list_verify_and_parse_full (raw, len, data->mine->cloud,
                                                   (const guint8 (*)[32]) data->trusted,
                                                   data->n_trusted, 0, data->now,
                                                   CB_NODE_LIST_VERIFY_ALLOW_EXPIRED, &error);
      if (theirs == NULL)
        {
          g_task_return_new_error (task, error->domain, error->code,
                                   "not overwriting the list at %s: %s",
                                   cb_list_source_get_url (source), error->message);
          return;
        }
    }

  merged = cb_node_list_merge (data->mine, theirs, data->drop_before);
  envelope = sign_fitting (merged, data, &error);
  if (envelope == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  data->version = merged->version;

  publisher_hex = g_malloc (65);
  sodium_bin2hex (publisher_hex, 65, data->public_key, 32);
  message = g_strdup_printf ("Publish list version %" G_GUINT64_FORMAT " of cloud %s\n\n"
                             "%u nodes, signed by publisher %s%s%s.\n",
                             merged->version, merged->cloud, merged->nodes->len, publisher_hex,
                             data->node_id ? " on node " : "",
                             data->node_id ? data->node_id : "");
  cancellable = g_task_get_cancellable (task);
  cb_list_source_write_async (source, envelope, revision, message, cancellable, on_written,
                              g_steal_pointer (&task));
}

static void
start_attempt (GTask *task)
{
  PublishData *data = g_task_get_task_data (task);

  if (g_task_return_error_if_cancelled (task))
    return;
  data->attempts++;
  cb_list_source_read_async (g_task_get_source_object (task), g_task_get_cancellable (task),
                             on_read, g_object_ref (task));
}

void
cb_list_publish_async (CbListSource        *source,
                       const CbNodeList    *mine,
                       const guint8       (*trusted_keys)[32],
                       gsize                n_keys,
                       const guint8         publisher_secret[64],
                       gint64               now,
                       gint64               ttl_seconds,
                       gint64               drop_before,
                       const char          *node_id,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  PublishData *data;

  g_return_if_fail (CB_IS_LIST_SOURCE (source));
  g_return_if_fail (mine != NULL && mine->cloud != NULL);
  g_return_if_fail (trusted_keys != NULL || n_keys == 0);
  g_return_if_fail (publisher_secret != NULL);

  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");

  task = g_task_new (source, cancellable, callback, user_data);
  g_task_set_source_tag (task, cb_list_publish_async);
  data = g_new0 (PublishData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) publish_data_free);

  data->mine = cb_node_list_copy (mine);
  memcpy (data->secret, publisher_secret, sizeof data->secret);
  crypto_sign_ed25519_sk_to_pk (data->public_key, data->secret);
  /* Our own key is trusted too: we must be able to read what we wrote. */
  data->trusted = g_malloc_n (n_keys + 1, 32);
  if (n_keys > 0)
    memcpy (data->trusted, trusted_keys, n_keys * 32);
  memcpy (data->trusted[n_keys], data->public_key, 32);
  data->n_trusted = n_keys + 1;
  data->now = now;
  data->ttl = ttl_seconds;
  data->drop_before = drop_before;
  data->node_id = g_strdup (node_id);

  if (!cb_list_source_is_writable (source))
    {
      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_WRITABLE,
                               "cannot publish to %s: this source is read-only (use a "
                               "github:// source with a token or a git+ repository)",
                               cb_list_source_get_url (source));
      return;
    }
  start_attempt (task);
}

gboolean
cb_list_publish_finish (CbListSource  *source,
                        GAsyncResult  *result,
                        guint64       *published_version,
                        guint         *attempts,
                        GError       **error)
{
  PublishData *data;

  g_return_val_if_fail (g_task_is_valid (result, source), FALSE);
  data = g_task_get_task_data (G_TASK (result));
  if (attempts != NULL)
    *attempts = data->attempts;
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (published_version != NULL)
    *published_version = data->version;
  return TRUE;
}
