/* notes.c: a small plugin the host tests load
 *
 * One table of notes, a validator (text at most 100 characters, never the
 * word "forbidden", no deletes of others' notes), named queries, verbs, a
 * live-session echo and a tiny web UI.  Built against the in-tree SDK like
 * any out-of-tree plugin would be against the installed one. */
#include <cloud-bevy/cloud-bevy.h>

#include <string.h>

#include "notes-resources.h"

#ifndef NOTES_VERSION
#define NOTES_VERSION "1.0.0"
#endif

#define NOTES_SYSTEM "test.cloudbevy.org/notes"
#define MAX_TEXT 100

static gboolean
validate_entry (const CbEntry  *entry,
                gpointer        user_data,
                GError        **error)
{
  for (guint i = 0; i < cb_entry_get_n_changes (entry); i++)
    {
      JsonObject *row = cb_entry_get_change_row (entry, i);
      const char *text;

      if (cb_entry_get_change_kind (entry, i) == CB_CHANGE_DELETE)
        continue;
      text = json_object_get_string_member_with_default (row, "text", "");
      if (g_utf8_strlen (text, -1) > MAX_TEXT)
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                       "a note of %ld characters; notes have at most %d",
                       g_utf8_strlen (text, -1), MAX_TEXT);
          return FALSE;
        }
      if (strstr (text, "forbidden") != NULL)
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED, "notes never say \"forbidden\"");
          return FALSE;
        }
      if (g_strcmp0 (json_object_get_string_member_with_default (row, "author", ""),
                     cb_entry_get_writer (entry)) != 0)
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                       "a note's author must be the node that writes it");
          return FALSE;
        }
    }
  return TRUE;
}

typedef struct {
  CbVerbCall *call;
  char       *id;
} AddOp;

static void
on_added (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  AddOp *op = user_data;
  GError *error = NULL;

  if (!cb_context_write_finish (CB_CONTEXT (source), result, &error))
    cb_verb_call_return_error (op->call, error);
  else
    {
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);
      JsonObject *obj = json_object_new ();

      json_object_set_string_member (obj, "id", op->id);
      json_node_take_object (node, obj);
      cb_verb_call_return (op->call, node);
    }
  g_free (op->id);
  g_free (op);
}

static void
add_verb (CbContext  *context,
          JsonObject *params,
          CbVerbCall *call,
          gpointer    user_data)
{
  const char *text = json_object_get_string_member_with_default (params, "text", NULL);
  g_autoptr(JsonArray) rows = json_array_new ();
  JsonObject *row = json_object_new ();
  AddOp *op;

  if (text == NULL)
    {
      cb_verb_call_return_error (call, g_error_new (CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
                                                    "text=TEXT is required"));
      return;
    }
  op = g_new0 (AddOp, 1);
  op->call = call;
  op->id = g_strdup (json_object_get_string_member_with_default (params, "id", NULL));
  if (op->id == NULL)
    op->id = g_uuid_string_random ();
  json_object_set_string_member (row, "id", op->id);
  json_object_set_string_member (row, "author", cb_context_get_node_id (context));
  json_object_set_string_member (row, "text", text);
  json_array_add_object_element (rows, row);
  cb_context_upsert_async (context, "notes", rows, NULL, on_added, op);
}

/* Answers without touching the store: what a verb's params look like. */
static void
echo_verb (CbContext  *context,
           JsonObject *params,
           CbVerbCall *call,
           gpointer    user_data)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, params);
  cb_verb_call_return (call, node);
}

static guint sessions_received;

static gboolean
validate_message (CbContext   *context,
                  const char  *session,
                  const char  *sender,
                  GBytes      *message,
                  gpointer     user_data,
                  GError     **error)
{
  if (g_bytes_get_size (message) > 16)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED, "moves are at most 16 bytes");
      return FALSE;
    }
  return TRUE;
}

static void
receive_message (CbContext   *context,
                 const char  *session,
                 const char  *sender,
                 GBytes      *message,
                 gpointer     user_data)
{
  sessions_received++;
}

/* Read by the test through the module's symbol table. */
G_MODULE_EXPORT guint notes_sessions_received (void);
G_MODULE_EXPORT guint
notes_sessions_received (void)
{
  return sessions_received;
}

static gboolean
notes_register (CbPlugin  *plugin,
                GError   **error)
{
  cb_plugin_set_system (plugin, NOTES_SYSTEM, NOTES_VERSION);
  cb_plugin_add_table (plugin,
                       "CREATE TABLE notes (id TEXT NOT NULL PRIMARY KEY, author TEXT NOT NULL, "
                       "text TEXT NOT NULL)");
  cb_plugin_add_query (plugin, "all", "SELECT id, author, text FROM notes ORDER BY id");
  cb_plugin_add_query (plugin, "by-id", "SELECT text FROM notes WHERE id = :id");
  cb_plugin_add_query (plugin, "search",
                       "SELECT id, text FROM notes WHERE text LIKE :pattern ORDER BY id LIMIT :limit");
  cb_plugin_set_entry_validator (plugin, validate_entry, NULL, NULL);
  cb_plugin_add_verb (plugin, "add", "Add a note", "text=TEXT [id=ID]", add_verb, NULL, NULL);
  cb_plugin_add_verb (plugin, "echo", "Answer with the parameters", "ANY=VALUE…", echo_verb,
                      NULL, NULL);
  cb_plugin_set_session_handlers (plugin, validate_message, receive_message, NULL, NULL);
  cb_plugin_set_web_ui (plugin, notes_get_resource (), "/notes/web");
  return TRUE;
}

CB_PLUGIN_DEFINE (notes_register)
