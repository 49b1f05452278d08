/* cb-repo-fetch.c: size-capped, deadline-bound reads and verified
 * downloads */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-repo-fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <unistd.h>

#include "cb-config.h"

#define CHUNK (64 * 1024)

struct _CbRepoFetcher
{
  GObject       parent_instance;

  GTlsDatabase *tls_database;
  char         *connect_to;
  guint         metadata_ms;
  guint         package_base_ms;
  guint         min_rate;
};

G_DEFINE_FINAL_TYPE (CbRepoFetcher, cb_repo_fetcher, G_TYPE_OBJECT)

static void
cb_repo_fetcher_dispose (GObject *object)
{
  CbRepoFetcher *self = CB_REPO_FETCHER (object);

  g_clear_object (&self->tls_database);
  G_OBJECT_CLASS (cb_repo_fetcher_parent_class)->dispose (object);
}

static void
cb_repo_fetcher_finalize (GObject *object)
{
  CbRepoFetcher *self = CB_REPO_FETCHER (object);

  g_free (self->connect_to);
  G_OBJECT_CLASS (cb_repo_fetcher_parent_class)->finalize (object);
}

static void
cb_repo_fetcher_class_init (CbRepoFetcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_repo_fetcher_dispose;
  object_class->finalize = cb_repo_fetcher_finalize;
}

static void
cb_repo_fetcher_init (CbRepoFetcher *self)
{
  self->metadata_ms = CB_REPO_FETCH_METADATA_MS;
  self->package_base_ms = CB_REPO_FETCH_PACKAGE_BASE_MS;
  self->min_rate = CB_REPO_FETCH_MIN_RATE;
}

CbRepoFetcher *
cb_repo_fetcher_new (void)
{
  return g_object_new (CB_TYPE_REPO_FETCHER, NULL);
}

void
cb_repo_fetcher_set_tls_database (CbRepoFetcher *self,
                                  GTlsDatabase  *database)
{
  g_set_object (&self->tls_database, database);
}

void
cb_repo_fetcher_set_connect_to (CbRepoFetcher *self,
                                const char    *host_port)
{
  g_free (self->connect_to);
  self->connect_to = g_strdup (host_port);
}

void
cb_repo_fetcher_set_deadlines (CbRepoFetcher *self,
                               guint          metadata_ms,
                               guint          package_base_ms,
                               guint          min_bytes_per_second)
{
  self->metadata_ms = metadata_ms;
  self->package_base_ms = package_base_ms;
  self->min_rate = MAX (min_bytes_per_second, 1);
}

/* One session per transfer: dropping it is what closes the connection of
 * a transfer stopped half way (a server that never stops sending would
 * otherwise keep a connection libsoup hopes to reuse). */
static SoupSession *
new_session (CbRepoFetcher *self)
{
  g_autoptr(GSocketConnectable) connectable = NULL;
  SoupSession *session;

  if (self->connect_to != NULL)
    connectable = g_network_address_parse (self->connect_to, 443, NULL);
  session = g_object_new (SOUP_TYPE_SESSION,
                          "user-agent", "CloudBevy/" CB_VERSION,
                          "remote-connectable", connectable,
                          NULL);
  if (self->tls_database != NULL)
    soup_session_set_tls_database (session, self->tls_database);
  return session;
}

/* ---- one transfer ---- */

typedef struct {
  CbRepoFetcher      *self;
  char               *url;
  guint64             max_bytes;
  gboolean            to_file;
  /* memory */
  GByteArray         *body;
  /* file */
  CbRepoFile          expect;
  char               *dest_path;
  char               *tmp_path;
  int                 fd;
  GChecksum          *sum;
  CbRepoProgressFunc  progress;
  gpointer            progress_data;
  /* both */
  guint64             received;
  guint64             total;           /* promised, for progress */
  SoupSession        *session;
  SoupMessage        *msg;
  GInputStream       *stream;
  GCancellable       *cancellable;     /* ours: the deadline and the caller cancel it */
  GCancellable       *caller;
  gulong              caller_handler;
  GSource            *deadline;
  guint               deadline_ms;
  gboolean            timed_out;
  gboolean            complete;        /* read to the end */
} Transfer;

static void
transfer_free (Transfer *t)
{
  /* Stopped early (too much, too slow, refused): cancelling makes libsoup
   * drop the connection instead of reading the rest to reuse it. */
  if (t->cancellable != NULL && t->msg != NULL && !t->complete)
    g_cancellable_cancel (t->cancellable);
  if (t->caller != NULL)
    g_cancellable_disconnect (t->caller, t->caller_handler);
  g_clear_object (&t->caller);
  if (t->deadline != NULL)
    {
      g_source_destroy (t->deadline);
      g_source_unref (t->deadline);
    }
  g_clear_object (&t->stream);
  if (t->session != NULL)
    soup_session_abort (t->session);
  g_clear_object (&t->session);
  g_clear_object (&t->msg);
  g_clear_object (&t->cancellable);
  if (t->fd >= 0)
    close (t->fd);
  if (t->tmp_path != NULL)
    g_unlink (t->tmp_path);
  g_free (t->tmp_path);
  g_free (t->dest_path);
  g_free (t->expect.url);
  if (t->sum != NULL)
    g_checksum_free (t->sum);
  if (t->body != NULL)
    g_byte_array_unref (t->body);
  g_free (t->url);
  g_object_unref (t->self);
  g_free (t);
}

static gboolean
on_deadline (gpointer user_data)
{
  Transfer *t = user_data;

  t->timed_out = TRUE;
  g_cancellable_cancel (t->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
return_failure (GTask *task, GError *error)
{
  Transfer *t = g_task_get_task_data (task);

  if (t->timed_out)
    {
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_TIMED_OUT,
                               "%s did not arrive within %u s (%" G_GUINT64_FORMAT " of %"
                               G_GUINT64_FORMAT " bytes came); the server is too slow or "
                               "stalling it", t->url, (t->deadline_ms + 999) / 1000, t->received,
                               t->total);
      g_error_free (error);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
           || error->domain == CB_REPO_ERROR)
    g_task_return_error (task, error);
  else
    {
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_FAILED, "cannot read %s: %s",
                               t->url, error->message);
      g_error_free (error);
    }
}

static void
finish_transfer (GTask *task)
{
  Transfer *t = g_task_get_task_data (task);
  guint8 digest[32];
  gsize digest_len = sizeof digest;

  if (!t->to_file)
    {
      g_task_return_pointer (task, g_byte_array_free_to_bytes (g_steal_pointer (&t->body)),
                             (GDestroyNotify) g_bytes_unref);
      return;
    }
  if (t->received != t->expect.size)
    {
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_HASH_MISMATCH,
                               "%s ended after %" G_GUINT64_FORMAT " bytes; the index lists %"
                               G_GUINT64_FORMAT " (not the file the repository signed)", t->url,
                               t->received, t->expect.size);
      return;
    }
  g_checksum_get_digest (t->sum, digest, &digest_len);
  if (memcmp (digest, t->expect.sha256, 32) != 0)
    {
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_HASH_MISMATCH,
                               "the SHA-256 of %s is not the one the repository's signed index "
                               "lists: refusing the file (altered or substituted)", t->url);
      return;
    }
  if (fsync (t->fd) != 0 || close (t->fd) != 0)
    {
      t->fd = -1;
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_FAILED, "cannot write %s: %s",
                               t->tmp_path, g_strerror (errno));
      return;
    }
  t->fd = -1;
  if (g_rename (t->tmp_path, t->dest_path) != 0)
    {
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_FAILED, "cannot move %s to %s: %s",
                               t->tmp_path, t->dest_path, g_strerror (errno));
      return;
    }
  g_clear_pointer (&t->tmp_path, g_free);
  g_task_return_boolean (task, TRUE);
}

static void read_more (GTask *task);

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Transfer *t = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result,
                                                              &error);
  gsize len;
  const guint8 *data;

  if (chunk == NULL)
    {
      return_failure (task, error);
      return;
    }
  len = g_bytes_get_size (chunk);
  if (len == 0)
    {
      t->complete = TRUE;
      finish_transfer (task);
      return;
    }
  if (t->received + len > t->max_bytes)
    {
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_TOO_LARGE,
                               "%s sent more than the %" G_GUINT64_FORMAT " bytes %s; stopped "
                               "reading it", t->url, t->max_bytes,
                               t->to_file ? "the signed index lists for it" : "allowed");
      return;
    }
  data = g_bytes_get_data (chunk, NULL);
  t->received += len;
  if (t->to_file)
    {
      gsize done = 0;

      g_checksum_update (t->sum, data, len);
      while (done < len)
        {
          gssize n = write (t->fd, data + done, len - done);

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_FAILED,
                                       "cannot write %s: %s", t->tmp_path, g_strerror (errno));
              return;
            }
          done += (gsize) n;
        }
      if (t->progress != NULL)
        t->progress (t->received, t->total, t->progress_data);
    }
  else
    g_byte_array_append (t->body, data, len);
  read_more (g_steal_pointer (&task));
}

static void
read_more (GTask *task)
{
  Transfer *t = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (t->stream, CHUNK, G_PRIORITY_DEFAULT, t->cancellable, on_read,
                                   task);
}

static void
on_file_opened (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  Transfer *t = g_task_get_task_data (task);
  GError *error = NULL;
  GFileInputStream *stream = g_file_read_finish (G_FILE (source), result, &error);

  if (stream == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_NOT_FOUND,
                                   "%s does not exist", t->url);
          g_error_free (error);
        }
      else
        return_failure (task, error);
      g_object_unref (task);
      return;
    }
  t->stream = G_INPUT_STREAM (stream);
  read_more (task);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  Transfer *t = g_task_get_task_data (task);
  GError *error = NULL;
  GInputStream *stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  guint status;
  goffset length;

  if (stream == NULL)
    {
      return_failure (task, error);
      g_object_unref (task);
      return;
    }
  t->stream = stream;
  status = soup_message_get_status (t->msg);
  if (status == SOUP_STATUS_NOT_FOUND || status == SOUP_STATUS_GONE)
    {
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_NOT_FOUND,
                               "%s does not exist (HTTP %u)", t->url, status);
      g_object_unref (task);
      return;
    }
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_FAILED,
                               "%s answered HTTP %u %s", t->url, status,
                               soup_message_get_reason_phrase (t->msg));
      g_object_unref (task);
      return;
    }
  length = soup_message_headers_get_content_length (soup_message_get_response_headers (t->msg));
  if (length > 0 && (guint64) length > t->max_bytes)
    {
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_TOO_LARGE,
                               "%s is %" G_GINT64_FORMAT " bytes, more than the %" G_GUINT64_FORMAT
                               " %s; not reading it", t->url, (gint64) length, t->max_bytes,
                               t->to_file ? "the signed index lists for it" : "allowed");
      g_object_unref (task);
      return;
    }
  read_more (task);
}

static gboolean
url_allowed (GUri *uri, GError **error, const char *url)
{
  const char *scheme = g_uri_get_scheme (uri);
  const char *host = g_uri_get_host (uri);

  if (g_strcmp0 (scheme, "https") == 0 || g_strcmp0 (scheme, "file") == 0)
    return TRUE;
  if (g_strcmp0 (scheme, "http") == 0
      && (g_strcmp0 (host, "127.0.0.1") == 0 || g_strcmp0 (host, "localhost") == 0
          || g_strcmp0 (host, "::1") == 0))
    return TRUE;
  g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_UNSUPPORTED,
               "%s: repositories are read over https:// or from file:// (plain http only from "
               "this machine)", url);
  return FALSE;
}

static void
start_transfer (CbRepoFetcher *self,
                GTask         *task,
                Transfer      *t,
                GCancellable  *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = g_uri_parse (t->url, G_URI_FLAGS_NONE, &error);

  g_task_set_task_data (task, t, (GDestroyNotify) transfer_free);
  if (uri == NULL || !url_allowed (uri, &error, t->url))
    {
      if (error->domain != CB_REPO_ERROR)
        g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_UNSUPPORTED,
                                 "\"%s\" is not a URL: %s", t->url, error->message);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  t->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      t->caller = g_object_ref (cancellable);
      t->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                 g_object_ref (t->cancellable), g_object_unref);
    }
  t->deadline = g_timeout_source_new (t->deadline_ms);
  g_source_set_callback (t->deadline, on_deadline, t, NULL);
  g_source_attach (t->deadline, g_main_context_get_thread_default ());

  if (g_strcmp0 (g_uri_get_scheme (uri), "file") == 0)
    {
      g_autoptr(GFile) file = g_file_new_for_uri (t->url);
      g_file_read_async (file, G_PRIORITY_DEFAULT, t->cancellable, on_file_opened, task);
      return;
    }
  t->msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  t->session = new_session (self);
  soup_session_send_async (t->session, t->msg, G_PRIORITY_DEFAULT, t->cancellable,
                           on_sent, task);
}

void
cb_repo_fetcher_get_async (CbRepoFetcher       *self,
                           const char          *url,
                           gsize                max_bytes,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Transfer *t = g_new0 (Transfer, 1);

  g_task_set_source_tag (task, cb_repo_fetcher_get_async);
  t->self = g_object_ref (self);
  t->url = g_strdup (url);
  t->max_bytes = max_bytes;
  t->total = max_bytes;
  t->fd = -1;
  t->body = g_byte_array_new ();
  t->deadline_ms = self->metadata_ms;
  start_transfer (self, task, t, cancellable);
}

GBytes *
cb_repo_fetcher_get_finish (CbRepoFetcher  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
cb_repo_fetcher_download_async (CbRepoFetcher       *self,
                                const char          *url,
                                const CbRepoFile    *expect,
                                const char          *dest_path,
                                CbRepoProgressFunc   progress,
                                gpointer             progress_data,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Transfer *t = g_new0 (Transfer, 1);
  g_autofree char *dir = g_path_get_dirname (dest_path);
  g_autofree char *base = g_path_get_basename (dest_path);

  g_task_set_source_tag (task, cb_repo_fetcher_download_async);
  t->self = g_object_ref (self);
  t->url = g_strdup (url);
  t->to_file = TRUE;
  t->expect = *expect;
  t->expect.url = g_strdup (expect->url);
  t->max_bytes = expect->size;
  t->total = expect->size;
  t->dest_path = g_strdup (dest_path);
  t->sum = g_checksum_new (G_CHECKSUM_SHA256);
  t->progress = progress;
  t->progress_data = progress_data;
  t->deadline_ms = (guint) MIN ((guint64) self->package_base_ms
                                + expect->size * 1000 / self->min_rate, G_MAXUINT);
  t->tmp_path = g_build_filename (dir, ".download-XXXXXX", NULL);
  t->fd = g_mkstemp_full (t->tmp_path, O_RDWR | O_CLOEXEC, 0644);
  if (t->fd < 0)
    {
      int saved = errno;

      g_clear_pointer (&t->tmp_path, g_free);
      g_task_set_task_data (task, t, (GDestroyNotify) transfer_free);
      g_task_return_new_error (task, CB_REPO_ERROR, CB_REPO_ERROR_FAILED,
                               "cannot create a file in %s for %s: %s", dir, base,
                               g_strerror (saved));
      g_object_unref (task);
      return;
    }
  start_transfer (self, task, t, cancellable);
}

gboolean
cb_repo_fetcher_download_finish (CbRepoFetcher  *self,
                                 GAsyncResult   *result,
                                 GError        **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
cb_repo_file_check (const char        *path,
                    const CbRepoFile  *expect,
                    GError           **error)
{
  g_autoptr(GMappedFile) mapped = g_mapped_file_new (path, FALSE, error);
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize digest_len = sizeof digest;

  if (mapped == NULL)
    return FALSE;
  if (g_mapped_file_get_length (mapped) != expect->size)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_HASH_MISMATCH,
                   "%s is %zu bytes, not the %" G_GUINT64_FORMAT " that were verified when it was "
                   "installed: it changed on disk", path, g_mapped_file_get_length (mapped),
                   expect->size);
      return FALSE;
    }
  g_checksum_update (sum, (const guchar *) g_mapped_file_get_contents (mapped),
                     (gssize) g_mapped_file_get_length (mapped));
  g_checksum_get_digest (sum, digest, &digest_len);
  if (memcmp (digest, expect->sha256, 32) != 0)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_HASH_MISMATCH,
                   "%s is not the file that was verified when it was installed: it changed on "
                   "disk", path);
      return FALSE;
    }
  return TRUE;
}
