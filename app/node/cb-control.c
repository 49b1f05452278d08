/* cb-control.c: JSON-lines requests over a 0600 Unix socket */
#define G_LOG_DOMAIN "cb-control"

#include "cb-control.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/un.h>

struct _CbControlServer {
  GSocketService   *service;
  char             *path;
  CbControlHandler  handler;
  gpointer          user_data;
};

static char *
socket_path (const char  *data_dir,
             GError     **error)
{
  g_autofree char *path = g_build_filename (data_dir, CB_CONTROL_SOCKET_NAME, NULL);
  struct sockaddr_un sun;

  if (strlen (path) >= sizeof sun.sun_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                   "the control socket path %s is longer than the %zu bytes a Unix socket "
                   "allows; use a shorter --data-dir", path, sizeof sun.sun_path - 1);
      return NULL;
    }
  return g_steal_pointer (&path);
}

static char *
reply_line (JsonNode   *result,
            const char *error_message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, error_message == NULL);
  if (error_message != NULL)
    {
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, error_message);
    }
  else
    {
      json_builder_set_member_name (builder, "result");
      json_builder_add_value (builder, json_node_copy (result));
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  return g_strconcat (text, "\n", NULL);
}

struct _CbControlReply {
  GSocketConnection *connection;
};

static void
send_reply (CbControlReply *reply,
            const char     *line)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (reply->connection));

  /* Replies are small (a status is a few KiB per hundred peers); a local
   * client that does not read is its own problem, bounded by the timeout. */
  g_output_stream_write_all (out, line, strlen (line), NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (reply->connection), NULL, NULL);
  g_object_unref (reply->connection);
  g_free (reply);
}

void
cb_control_reply_return (CbControlReply *reply,
                         JsonNode       *result)
{
  g_autofree char *line = reply_line (result, NULL);

  json_node_unref (result);
  send_reply (reply, line);
}

void
cb_control_reply_error (CbControlReply *reply,
                        const GError   *error)
{
  g_autofree char *line = reply_line (NULL, error != NULL ? error->message : "the command failed");

  send_reply (reply, line);
}

static void
handle_line (CbControlServer *self,
             CbControlReply  *reply,
             const char      *line,
             gsize            len)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, line, (gssize) len, &error))
    {
      g_autoptr(GError) bad = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                           "the request is not JSON");
      cb_control_reply_error (reply, bad);
      return;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_autoptr(GError) bad = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                           "the request must be a JSON object with a \"command\"");
      cb_control_reply_error (reply, bad);
      return;
    }
  self->handler (json_node_get_object (root), reply, self->user_data);
}

static void
on_line (GObject      *source,
         GAsyncResult *res,
         gpointer      user_data)
{
  g_autoptr(GSocketConnection) connection = user_data;
  g_autoptr(GError) error = NULL;
  CbControlServer *self = g_object_get_data (G_OBJECT (connection), "cb-control-server");
  gsize len = 0;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                    res, &len, &error);
  CbControlReply *reply;

  if (self == NULL)
    return;
  reply = g_new0 (CbControlReply, 1);
  reply->connection = g_object_ref (connection);
  if (line == NULL || len > CB_CONTROL_MAX_REQUEST)
    {
      g_autoptr(GError) bad = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                                           line == NULL ? (error ? error->message : "empty request")
                                                        : "the request is too long");
      cb_control_reply_error (reply, bad);
      return;
    }
  handle_line (self, reply, line, len);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  CbControlServer *self = user_data;
  g_autoptr(GDataInputStream) in = NULL;

  g_socket_set_timeout (g_socket_connection_get_socket (connection), 10);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
  g_object_set_data (G_OBJECT (connection), "cb-control-server", self);
  g_object_set_data_full (G_OBJECT (connection), "cb-control-in", g_object_ref (in),
                          g_object_unref);
  g_data_input_stream_read_line_async (in, G_PRIORITY_DEFAULT, NULL, on_line,
                                       g_object_ref (connection));
  return TRUE;
}

/* A socket file left by a node that was killed answers nothing: remove it.
 * One that answers belongs to a running node. */
static gboolean
claim_path (const char  *path,
            const char  *data_dir,
            GError     **error)
{
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketConnection) connection = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  client = g_socket_client_new ();
  address = g_unix_socket_address_new (path);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, NULL);
  if (connection != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "another node is already running with the data dir %s "
                   "(its control socket answers); stop it first", data_dir);
      return FALSE;
    }
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot remove the stale control socket %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

CbControlServer *
cb_control_server_new (const char        *data_dir,
                       CbControlHandler   handler,
                       gpointer           user_data,
                       GError           **error)
{
  g_autofree char *path = socket_path (data_dir, error);
  g_autoptr(GSocketAddress) address = NULL;
  CbControlServer *self;
  mode_t old_mask;
  gboolean ok;

  if (path == NULL || !claim_path (path, data_dir, error))
    return NULL;

  self = g_new0 (CbControlServer, 1);
  self->service = g_socket_service_new ();
  self->handler = handler;
  self->user_data = user_data;
  address = g_unix_socket_address_new (path);
  /* Created 0600 from the start: no window where others could connect. */
  old_mask = umask (0177);
  ok = g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                      NULL, NULL, error);
  umask (old_mask);
  if (!ok)
    {
      g_object_unref (self->service);
      g_free (self);
      return NULL;
    }
  self->path = g_steal_pointer (&path);
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming), self);
  g_socket_service_start (self->service);
  return self;
}

void
cb_control_server_free (CbControlServer *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->service, self);
  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  g_object_unref (self->service);
  g_unlink (self->path);
  g_free (self->path);
  g_free (self);
}

JsonNode *
cb_control_call (const char  *data_dir,
                 JsonObject  *request,
                 GError     **error)
{
  g_autofree char *path = socket_path (data_dir, error);
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(JsonNode) request_node = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  JsonObject *reply;
  JsonNode *root;

  if (path == NULL)
    return NULL;
  client = g_socket_client_new ();
  /* Writes wait for the store: allow a large batch. */
  g_socket_client_set_timeout (client, 120);
  address = g_unix_socket_address_new (path);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL,
                                        &local_error);
  if (connection == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   "no node is running with the data dir %s (%s)", data_dir,
                   local_error->message);
      return NULL;
    }

  request_node = json_node_init_object (json_node_alloc (), request);
  text = json_to_string (request_node, FALSE);
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                  text, strlen (text), NULL, NULL, error) ||
      !g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                  "\n", 1, NULL, NULL, error))
    return NULL;

  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &local_error);
  if (line == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the node closed the control connection without answering%s%s",
                   local_error ? ": " : "", local_error ? local_error->message : "");
      return NULL;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, line, -1, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the node's answer is not a JSON object");
      return NULL;
    }
  reply = json_node_get_object (root);
  if (!json_object_get_boolean_member_with_default (reply, "ok", FALSE))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                   json_object_get_string_member_with_default (reply, "error",
                                                               "the node refused the request"));
      return NULL;
    }
  if (!json_object_has_member (reply, "result"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the node's answer has no result");
      return NULL;
    }
  return json_node_copy (json_object_get_member (reply, "result"));
}
