/* guestbook.c: a guestbook every host of the system shares
 *
 * The smallest real cloud app: one table of signed entries, rules every
 * node enforces on every entry (its own and its peers'), a named query,
 * a verb for the CLI and the web UI, and the web UI itself.
 *
 *   cloud-bevy-node apps run github.com/cloudbevy/guestbook sign author=Ann message=Hello
 *   cloud-bevy-node apps query github.com/cloudbevy/guestbook entries limit=10
 *
 * It links the SDK only: a headless node hosts it without GTK. */
#include <cloud-bevy/cloud-bevy.h>

#include <string.h>

#include "guestbook-resources.h"

#define GUESTBOOK_SYSTEM "github.com/cloudbevy/guestbook"
#define MAX_AUTHOR 60
#define MAX_MESSAGE 500
#define MAX_ID 128

/* A plain-text field: not empty, not too long, no control characters
 * (a newline in a message is fine). */
static gboolean
check_text (const char  *field,
            const char  *text,
            guint        max_chars,
            gboolean     allow_newlines,
            GError     **error)
{
  if (text == NULL || *text == '\0' || g_utf8_strlen (text, -1) > max_chars)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                   "the %s must be 1 to %u characters", field, max_chars);
      return FALSE;
    }
  for (const char *p = text; *p != '\0'; p++)
    if (((guchar) *p < 0x20 && !(allow_newlines && *p == '\n')) || *p == 0x7f)
      {
        g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                     "the %s contains a control character", field);
        return FALSE;
      }
  return TRUE;
}

/* Runs on every node for every entry.  An entry's id starts with its
 * writer's node id, and its node column is the writer: nobody can sign in
 * another node's name or overwrite another node's entries.  Entries are
 * never deleted. */
static gboolean
validate_entry (const CbEntry  *entry,
                gpointer        user_data,
                GError        **error)
{
  const char *writer = cb_entry_get_writer (entry);

  for (guint i = 0; i < cb_entry_get_n_changes (entry); i++)
    {
      JsonObject *row = cb_entry_get_change_row (entry, i);
      const char *id, *node;

      if (cb_entry_get_change_kind (entry, i) == CB_CHANGE_DELETE)
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                       "guestbook entries are never deleted");
          return FALSE;
        }
      id = json_object_get_string_member_with_default (row, "id", "");
      node = json_object_get_string_member_with_default (row, "node", "");
      if (strcmp (node, writer) != 0)
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                       "an entry signed in the name of node %.16s by node %.16s", node, writer);
          return FALSE;
        }
      if (strlen (id) > MAX_ID || !g_str_has_prefix (id, writer) || id[strlen (writer)] != '/')
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                       "an entry id must be the writer's node id, '/', and a name of its own");
          return FALSE;
        }
      if (!check_text ("author", json_object_get_string_member_with_default (row, "author", NULL),
                       MAX_AUTHOR, FALSE, error)
          || !check_text ("message",
                          json_object_get_string_member_with_default (row, "message", NULL),
                          MAX_MESSAGE, TRUE, error))
        return FALSE;
      if (json_object_get_int_member_with_default (row, "signed_at", 0) <= 0)
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                       "an entry needs the time it was signed");
          return FALSE;
        }
    }
  return TRUE;
}

typedef struct {
  CbVerbCall *call;
  JsonObject *row;
} SignOp;

static void
on_signed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  SignOp *op = user_data;
  GError *error = NULL;

  if (!cb_context_write_finish (CB_CONTEXT (source), result, &error))
    cb_verb_call_return_error (op->call, error);
  else
    {
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (node, op->row);
      cb_verb_call_return (op->call, node);
    }
  json_object_unref (op->row);
  g_free (op);
}

/* sign author=NAME message=TEXT */
static void
sign_verb (CbContext  *context,
           JsonObject *params,
           CbVerbCall *call,
           gpointer    user_data)
{
  const char *author = json_object_get_string_member_with_default (params, "author", NULL);
  const char *message = json_object_get_string_member_with_default (params, "message", NULL);
  g_autoptr(JsonArray) rows = json_array_new ();
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *id = g_strdup_printf ("%s/%s", cb_context_get_node_id (context), uuid);
  GError *error = NULL;
  SignOp *op;

  if (!check_text ("author", author, MAX_AUTHOR, FALSE, &error)
      || !check_text ("message", message, MAX_MESSAGE, TRUE, &error))
    {
      error->code = CB_SDK_ERROR_INVALID;
      cb_verb_call_return_error (call, error);
      return;
    }
  op = g_new0 (SignOp, 1);
  op->call = call;
  op->row = json_object_new ();
  json_object_set_string_member (op->row, "id", id);
  json_object_set_string_member (op->row, "author", author);
  json_object_set_string_member (op->row, "message", message);
  json_object_set_int_member (op->row, "signed_at", g_get_real_time () / G_USEC_PER_SEC);
  json_object_set_string_member (op->row, "node", cb_context_get_node_id (context));
  json_array_add_object_element (rows, json_object_ref (op->row));
  cb_context_upsert_async (context, "entries", rows, NULL, on_signed, op);
}

static gboolean
guestbook_register (CbPlugin  *plugin,
                    GError   **error)
{
  cb_plugin_set_system (plugin, GUESTBOOK_SYSTEM, GUESTBOOK_VERSION);
  cb_plugin_add_table (plugin,
                       "CREATE TABLE entries ("
                       "  id TEXT NOT NULL PRIMARY KEY,"
                       "  author TEXT NOT NULL,"
                       "  message TEXT NOT NULL,"
                       "  signed_at INTEGER NOT NULL,"
                       "  node TEXT NOT NULL) STRICT");
  cb_plugin_add_query (plugin, "entries",
                       "SELECT id, author, message, signed_at, node FROM entries "
                       "ORDER BY signed_at DESC, id LIMIT coalesce(:limit, 100)");
  cb_plugin_add_query (plugin, "count",
                       "SELECT count(*) AS entries, count(DISTINCT node) AS nodes FROM entries");
  cb_plugin_set_entry_validator (plugin, validate_entry, NULL, NULL);
  cb_plugin_add_verb (plugin, "sign", "Sign the guestbook", "author=NAME message=TEXT",
                      sign_verb, NULL, NULL);
  cb_plugin_set_web_ui (plugin, guestbook_get_resource (), "/org/cloudbevy/guestbook/web");
  return TRUE;
}

CB_PLUGIN_DEFINE (guestbook_register)
