/* cb-control.h: the node's local control socket
 *
 * A Unix socket in the data dir (mode 0600, so only the node's user can
 * drive it).  One request per connection: the client writes a JSON object
 * and a newline, the server answers with one JSON line,
 *   {"ok": true, "result": …}  or  {"ok": false, "error": "…"}.
 * The socket doubles as the data dir's lock: a second node on the same
 * data dir finds it answering and refuses to start. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define CB_CONTROL_SOCKET_NAME "control.sock"
/* Local and 0600; big enough for a bulk put of many rows. */
#define CB_CONTROL_MAX_REQUEST (64 * 1024 * 1024)

/* One request waiting for its answer; answered exactly once, possibly
 * later (commands that write wait for the store). */
typedef struct _CbControlReply CbControlReply;

void cb_control_reply_return (CbControlReply *reply,
                              JsonNode       *result);  /* transfer full */
void cb_control_reply_error  (CbControlReply *reply,
                              const GError   *error);

typedef void (*CbControlHandler) (JsonObject     *request,
                                  CbControlReply *reply,
                                  gpointer        user_data);

typedef struct _CbControlServer CbControlServer;

CbControlServer *cb_control_server_new  (const char        *data_dir,
                                         CbControlHandler   handler,
                                         gpointer           user_data,
                                         GError           **error);
/* Stops listening and removes the socket file. */
void             cb_control_server_free (CbControlServer   *server);

/* Client side, synchronous: sends request and returns the "result" member,
 * or NULL with the server's error or a connection error that says whether
 * the node is running. */
JsonNode        *cb_control_call        (const char        *data_dir,
                                         JsonObject        *request,
                                         GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbControlServer, cb_control_server_free)

G_END_DECLS
