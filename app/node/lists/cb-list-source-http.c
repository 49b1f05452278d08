/* cb-list-source-http.c: a list file served over https (read only)
 *
 * Also home of the bounded HTTP exchange the GitHub backend uses: every
 * request has a body cap and a deadline for the whole exchange, so a
 * server that trickles or never stops sending cannot hold a node. */
#define G_LOG_DOMAIN "cb-lists"

#include "cb-list-source-private.h"
#include "cb-node-list.h"

#include <string.h>

#define READ_CHUNK 65536

/* ---- one bounded exchange ---------------------------------------------- */

typedef struct {
  SoupSession  *session;
  SoupMessage  *msg;
  GInputStream *stream;
  GByteArray   *body;
  gsize         max_body;
  guint         timeout_seconds;
  guint         status;
  GCancellable *op_cancellable;     /* cancelled by the deadline or the caller */
  GCancellable *caller_cancellable;
  gulong        caller_handler;
  GSource      *deadline;
  gboolean      timed_out;
  char         *what;               /* the URL, for messages */
} Exchange;

static void
exchange_free (Exchange *ex)
{
  if (ex->caller_cancellable != NULL)
    g_cancellable_disconnect (ex->caller_cancellable, ex->caller_handler);
  g_clear_object (&ex->caller_cancellable);
  if (ex->deadline != NULL)
    {
      g_source_destroy (ex->deadline);
      g_source_unref (ex->deadline);
    }
  /* Dropping an unfinished body stream closes the connection. */
  g_clear_object (&ex->stream);
  if (ex->session != NULL)
    soup_session_abort (ex->session);
  g_clear_object (&ex->msg);
  g_clear_object (&ex->session);
  g_clear_object (&ex->op_cancellable);
  if (ex->body != NULL)
    g_byte_array_unref (ex->body);
  g_free (ex->what);
  g_free (ex);
}

static gboolean
on_deadline (gpointer user_data)
{
  Exchange *ex = user_data;

  ex->timed_out = TRUE;
  g_cancellable_cancel (ex->op_cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* Turns a failure of ours into the error the caller should see. */
static void
return_io_error (GTask  *task,
                 GError *error)
{
  Exchange *ex = g_task_get_task_data (task);

  if (ex->timed_out)
    {
      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TIMED_OUT,
                               "%s did not answer completely within %u s",
                               ex->what, ex->timeout_seconds);
      g_error_free (error);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_error (task, error);
  else
    {
      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                               "cannot read %s: %s", ex->what, error->message);
      g_error_free (error);
    }
}

static void
return_too_large (GTask *task)
{
  Exchange *ex = g_task_get_task_data (task);

  g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE,
                           "%s sent more than %" G_GSIZE_FORMAT " bytes; stopped reading",
                           ex->what, ex->max_body);
}

static void read_more (GTask *task);

static void
on_read (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Exchange *ex = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object),
                                                              result, &error);
  gsize len;

  if (chunk == NULL)
    {
      return_io_error (task, error);
      return;
    }
  len = g_bytes_get_size (chunk);
  if (len == 0)
    {
      GByteArray *body = g_steal_pointer (&ex->body);

      g_task_return_pointer (task, g_byte_array_free_to_bytes (body),
                             (GDestroyNotify) g_bytes_unref);
      return;
    }
  if (ex->body->len + len > ex->max_body)
    {
      return_too_large (task);
      return;
    }
  g_byte_array_append (ex->body, g_bytes_get_data (chunk, NULL), (guint) len);
  read_more (g_steal_pointer (&task));
}

static void
read_more (GTask *task)
{
  Exchange *ex = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (ex->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   ex->op_cancellable, on_read, task);
}

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Exchange *ex = g_task_get_task_data (task);
  GError *error = NULL;
  goffset length;

  ex->stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (ex->stream == NULL)
    {
      return_io_error (task, error);
      return;
    }
  ex->status = soup_message_get_status (ex->msg);
  length = soup_message_headers_get_content_length (soup_message_get_response_headers (ex->msg));
  if (length > 0 && (guint64) length > ex->max_body)
    {
      return_too_large (task);
      return;
    }
  read_more (g_steal_pointer (&task));
}

void
_cb_list_source_http_send_async (SoupMessage         *msg,
                                 gsize                max_body,
                                 guint                timeout_seconds,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  Exchange *ex = g_new0 (Exchange, 1);

  g_task_set_source_tag (task, _cb_list_source_http_send_async);
  g_task_set_task_data (task, ex, (GDestroyNotify) exchange_free);

  ex->msg = g_object_ref (msg);
  ex->what = g_uri_to_string_partial (soup_message_get_uri (msg), G_URI_HIDE_PASSWORD);
  ex->max_body = max_body;
  ex->timeout_seconds = timeout_seconds;
  ex->body = g_byte_array_new ();
  ex->op_cancellable = g_cancellable_new ();
  /* One session per exchange: nothing is shared between threads or kept
   * alive between reads. */
  ex->session = soup_session_new_with_options ("user-agent", "cloud-bevy-lists/1",
                                               "timeout", timeout_seconds,
                                               "max-conns-per-host", 1,
                                               NULL);
  ex->deadline = g_timeout_source_new (timeout_seconds * 1000);
  g_source_set_callback (ex->deadline, on_deadline, ex, NULL);
  g_source_attach (ex->deadline, context);
  if (cancellable != NULL)
    {
      ex->caller_cancellable = g_object_ref (cancellable);
      ex->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                  g_object_ref (ex->op_cancellable),
                                                  g_object_unref);
    }

  soup_session_send_async (ex->session, msg, G_PRIORITY_DEFAULT, ex->op_cancellable,
                           on_sent, g_steal_pointer (&task));
}

GBytes *
_cb_list_source_http_send_finish (GAsyncResult  *result,
                                  guint         *status,
                                  GError       **error)
{
  Exchange *ex;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  ex = g_task_get_task_data (G_TASK (result));
  if (status != NULL)
    *status = ex->status;
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- the https:// source ----------------------------------------------- */

#define CB_TYPE_LIST_SOURCE_HTTP (cb_list_source_http_get_type ())
G_DECLARE_FINAL_TYPE (CbListSourceHttp, cb_list_source_http, CB, LIST_SOURCE_HTTP, CbListSource)

struct _CbListSourceHttp {
  CbListSource parent_instance;
  GUri *uri;
  guint timeout_seconds;
};

G_DEFINE_FINAL_TYPE (CbListSourceHttp, cb_list_source_http, CB_TYPE_LIST_SOURCE)

static void
on_get_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CbListSource *self = g_task_get_source_object (task);
  GError *error = NULL;
  guint status = 0;
  g_autoptr(GBytes) body = _cb_list_source_http_send_finish (result, &status, &error);

  if (body == NULL)
    g_task_return_error (task, error);
  else if (status == SOUP_STATUS_NOT_FOUND || status == SOUP_STATUS_GONE)
    g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND,
                             "there is no list at %s (HTTP %u)",
                             cb_list_source_get_url (self), status);
  else if (status != SOUP_STATUS_OK)
    g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                             "%s answered HTTP %u %s", cb_list_source_get_url (self),
                             status, soup_status_get_phrase (status));
  else
    g_task_return_pointer (task, g_steal_pointer (&body), (GDestroyNotify) g_bytes_unref);
}

static void
cb_list_source_http_read_async (CbListSource        *source,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  CbListSourceHttp *self = CB_LIST_SOURCE_HTTP (source);
  g_autoptr(GTask) task = g_task_new (source, cancellable, callback, user_data);
  g_autoptr(SoupMessage) msg = soup_message_new_from_uri (SOUP_METHOD_GET, self->uri);

  g_task_set_source_tag (task, cb_list_source_http_read_async);
  _cb_list_source_http_send_async (msg, cb_list_source_get_max_bytes (source),
                                   self->timeout_seconds,
                                   cancellable, on_get_done, g_steal_pointer (&task));
}

static void
cb_list_source_http_write_async (CbListSource        *source,
                                 GBytes              *contents,
                                 const char          *expected_revision,
                                 const char          *message,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (source, cancellable, callback, user_data);

  g_task_set_source_tag (task, cb_list_source_http_write_async);
  g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_WRITABLE,
                           "%s is read-only over HTTP; to publish, use a github://OWNER/REPO/PATH "
                           "source with a token or a git+https://…#PATH repository",
                           cb_list_source_get_url (source));
}

static void
cb_list_source_http_finalize (GObject *object)
{
  CbListSourceHttp *self = CB_LIST_SOURCE_HTTP (object);

  g_uri_unref (self->uri);
  G_OBJECT_CLASS (cb_list_source_http_parent_class)->finalize (object);
}

static void
cb_list_source_http_class_init (CbListSourceHttpClass *klass)
{
  CbListSourceClass *source_class = CB_LIST_SOURCE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = cb_list_source_http_finalize;
  source_class->read_async = cb_list_source_http_read_async;
  source_class->read_finish = _cb_list_source_finish_read_sha256;
  source_class->write_async = cb_list_source_http_write_async;
}

static void
cb_list_source_http_init (CbListSourceHttp *self)
{
}

static gboolean
is_loopback_host (const char *host)
{
  g_autoptr(GInetAddress) addr = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

CbListSource *
_cb_list_source_http_new (GUri                       *uri,
                          const char                 *url,
                          const CbListSourceOptions  *options,
                          GError                    **error)
{
  const char *host = g_uri_get_host (uri);
  g_autoptr(GUri) http_uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  CbListSourceHttp *self;

  if (host == NULL || *host == '\0' || http_uri == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" has no host", url);
      return NULL;
    }
  /* Lists are signed, but plain http lets anyone on the path hold back
   * updates unnoticed; keep it for local servers and tests. */
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") == 0 && !is_loopback_host (host))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" uses plain http:// to another machine; use https://", url);
      return NULL;
    }

  self = g_object_new (CB_TYPE_LIST_SOURCE_HTTP, NULL);
  _cb_list_source_set_url (CB_LIST_SOURCE (self), url);
  self->uri = g_steal_pointer (&http_uri);
  self->timeout_seconds = options->timeout_seconds ? options->timeout_seconds
                                                   : CB_LIST_SOURCE_DEFAULT_TIMEOUT;
  return CB_LIST_SOURCE (self);
}
