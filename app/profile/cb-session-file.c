/* cb-session-file.c: encoding, decoding and the file of the session */
#define G_LOG_DOMAIN "cb-session"

#include "cb-session-file.h"
#include "cb-aside-path.h"
#include "cb-profile-db.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define FORMAT_VERSION 1

static void
tab_free (gpointer data)
{
  CbSessionTab *tab = data;

  g_free (tab->uri);
  g_free (tab->title);
  g_clear_pointer (&tab->state, g_bytes_unref);
  g_free (tab);
}

static void
window_free (gpointer data)
{
  CbSessionWindow *window = data;

  g_ptr_array_unref (window->tabs);
  g_free (window);
}

CbSession *
cb_session_new (void)
{
  CbSession *session = g_new0 (CbSession, 1);

  session->windows = g_ptr_array_new_with_free_func (window_free);
  return session;
}

void
cb_session_free (CbSession *session)
{
  if (session == NULL)
    return;
  g_ptr_array_unref (session->windows);
  g_free (session);
}

CbSessionWindow *
cb_session_add_window (CbSession *session)
{
  CbSessionWindow *window = g_new0 (CbSessionWindow, 1);

  window->tabs = g_ptr_array_new_with_free_func (tab_free);
  g_ptr_array_add (session->windows, window);
  return window;
}

CbSessionTab *
cb_session_window_add_tab (CbSessionWindow *window,
                           const char      *uri,
                           const char      *title,
                           GBytes          *state)
{
  CbSessionTab *tab = g_new0 (CbSessionTab, 1);

  tab->uri = g_strdup (uri ? uri : "");
  tab->title = g_strdup (title ? title : "");
  tab->state = state ? g_bytes_ref (state) : NULL;
  g_ptr_array_add (window->tabs, tab);
  return tab;
}

/* --- encoding --- */

char *
cb_session_encode (const CbSession *session,
                   gsize           *len)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, FORMAT_VERSION);
  json_builder_set_member_name (builder, "windows");
  json_builder_begin_array (builder);
  for (guint w = 0; w < session->windows->len; w++)
    {
      CbSessionWindow *window = session->windows->pdata[w];

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "selected");
      json_builder_add_int_value (builder, window->selected);
      json_builder_set_member_name (builder, "tabs");
      json_builder_begin_array (builder);
      for (guint t = 0; t < window->tabs->len; t++)
        {
          CbSessionTab *tab = window->tabs->pdata[t];

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "uri");
          json_builder_add_string_value (builder, tab->uri);
          json_builder_set_member_name (builder, "title");
          json_builder_add_string_value (builder, tab->title);
          if (tab->state != NULL)
            {
              gsize size;
              const guchar *bytes = g_bytes_get_data (tab->state, &size);
              g_autofree char *encoded = g_base64_encode (bytes, size);

              json_builder_set_member_name (builder, "state");
              json_builder_add_string_value (builder, encoded);
            }
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, len);
}

/* --- decoding --- */

static gboolean
invalid (GError     **error,
         const char  *format,
         ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError     **error,
         const char  *format,
         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID, "The saved session is damaged: %s",
               message);
  return FALSE;
}

/* g_base64_decode accepts anything; this accepts only base64. */
static GBytes *
decode_base64 (const char  *text,
               GError     **error)
{
  gsize len = strlen (text), out_len = 0;
  guchar *out;

  if (len % 4 != 0)
    {
      invalid (error, "a tab's history is not base64 (length %" G_GSIZE_FORMAT ")", len);
      return NULL;
    }
  if (len / 4 * 3 > CB_SESSION_MAX_STATE)
    {
      invalid (error, "a tab's history is larger than %u bytes", CB_SESSION_MAX_STATE);
      return NULL;
    }
  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];
      gboolean padding = c == '=' && i >= len - 2 && (i == len - 1 || text[len - 1] == '=');

      if (!g_ascii_isalnum (c) && c != '+' && c != '/' && !padding)
        {
          invalid (error, "a tab's history is not base64 (character %" G_GSIZE_FORMAT ")", i);
          return NULL;
        }
    }
  out = g_base64_decode (text, &out_len);
  return g_bytes_new_take (out, out_len);
}

static const char *
string_member (JsonObject  *object,
               const char  *name,
               const char  *what,
               GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      invalid (error, "%s has no \"%s\" text", what, name);
      return NULL;
    }
  return json_node_get_string (node);
}

static JsonArray *
array_member (JsonObject  *object,
              const char  *name,
              GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      invalid (error, "\"%s\" is not a list", name);
      return NULL;
    }
  return json_node_get_array (node);
}

static gboolean
int_member (JsonObject  *object,
            const char  *name,
            gint64      *out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return invalid (error, "\"%s\" is not a whole number", name);
  *out = json_node_get_int (node);
  return TRUE;
}

CbSession *
cb_session_decode (const char  *data,
                   gsize        len,
                   GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CbSession) session = cb_session_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  JsonObject *object;
  JsonArray *windows;
  gint64 version;

  if (len > CB_SESSION_MAX_BYTES)
    {
      invalid (error, "it is larger than %u MiB", CB_SESSION_MAX_BYTES / (1024 * 1024));
      return NULL;
    }
  if (!g_utf8_validate_len (data, len, NULL))
    {
      invalid (error, "it is not UTF-8 text");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      invalid (error, "%s", local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (error, "it is not a JSON object");
      return NULL;
    }
  object = json_node_get_object (root);
  if (!int_member (object, "version", &version, error))
    return NULL;
  if (version != FORMAT_VERSION)
    {
      invalid (error, "it is in format %" G_GINT64_FORMAT ", this version reads format %d",
               version, FORMAT_VERSION);
      return NULL;
    }
  if ((windows = array_member (object, "windows", error)) == NULL)
    return NULL;
  if (json_array_get_length (windows) > CB_SESSION_MAX_WINDOWS)
    {
      invalid (error, "it has more than %u windows", CB_SESSION_MAX_WINDOWS);
      return NULL;
    }
  for (guint w = 0; w < json_array_get_length (windows); w++)
    {
      JsonNode *node = json_array_get_element (windows, w);
      CbSessionWindow *window;
      JsonObject *window_object;
      JsonArray *tabs;
      gint64 selected;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          invalid (error, "window %u is not an object", w + 1);
          return NULL;
        }
      window_object = json_node_get_object (node);
      if ((tabs = array_member (window_object, "tabs", error)) == NULL ||
          !int_member (window_object, "selected", &selected, error))
        return NULL;
      if (json_array_get_length (tabs) > CB_SESSION_MAX_TABS)
        {
          invalid (error, "window %u has more than %u tabs", w + 1, CB_SESSION_MAX_TABS);
          return NULL;
        }
      window = cb_session_add_window (session);
      for (guint t = 0; t < json_array_get_length (tabs); t++)
        {
          JsonNode *tab_node = json_array_get_element (tabs, t);
          JsonObject *tab;
          const char *uri, *title;
          g_autoptr(GBytes) state = NULL;

          if (!JSON_NODE_HOLDS_OBJECT (tab_node))
            {
              invalid (error, "tab %u of window %u is not an object", t + 1, w + 1);
              return NULL;
            }
          tab = json_node_get_object (tab_node);
          if ((uri = string_member (tab, "uri", "a tab", error)) == NULL ||
              (title = string_member (tab, "title", "a tab", error)) == NULL)
            return NULL;
          if (json_object_has_member (tab, "state"))
            {
              const char *encoded = string_member (tab, "state", "a tab", error);

              if (encoded == NULL || (state = decode_base64 (encoded, error)) == NULL)
                return NULL;
            }
          cb_session_window_add_tab (window, uri, title, state);
        }
      /* Out of range is not worth refusing the file over. */
      window->selected = selected >= 0 && selected < (gint64) window->tabs->len ? (guint) selected : 0;
    }
  return g_steal_pointer (&session);
}

/* --- the file --- */

static void
saved (GObject      *source,
       GAsyncResult *result,
       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
cb_session_save_async (const char          *path,
                       const CbSession     *session,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  gsize len = 0;
  char *data = cb_session_encode (session, &len);
  g_autoptr(GBytes) bytes = g_bytes_new_take (data, len);

  g_task_set_source_tag (task, cb_session_save_async);
  /* Written beside and renamed over: a crash mid-write keeps the old one. */
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_PRIVATE,
                                       cancellable, saved, task);
}

gboolean
cb_session_save_finish (GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
cb_session_save (const char       *path,
                 const CbSession  *session,
                 GError          **error)
{
  gsize len = 0;
  g_autofree char *data = cb_session_encode (session, &len);

  return g_file_set_contents_full (path, data, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT,
                                   0600, error);
}

static void
loaded (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *path = g_file_get_path (G_FILE (source));
  g_autofree char *aside = NULL;
  CbSession *session;
  gsize len = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &len, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_task_return_pointer (task, cb_session_new (), (GDestroyNotify) cb_session_free);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  session = cb_session_decode (contents, len, &error);
  if (session != NULL)
    {
      g_task_return_pointer (task, session, (GDestroyNotify) cb_session_free);
      return;
    }
  /* Keep the damaged file for whoever wants to look, out of the way. */
  aside = cb_aside_path (path);
  if (g_rename (path, aside) != 0)
    g_task_return_new_error (task, CB_PROFILE_ERROR, CB_PROFILE_ERROR_CORRUPT,
                             "%s; it could not be moved aside: %s", error->message,
                             g_strerror (errno));
  else
    g_task_return_new_error (task, CB_PROFILE_ERROR, CB_PROFILE_ERROR_CORRUPT,
                             "%s. It was kept as %s, and the tabs open last time could not be "
                             "opened again.", error->message, aside);
}

void
cb_session_load_async (const char          *path,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  g_task_set_source_tag (task, cb_session_load_async);
  g_file_load_contents_async (file, cancellable, loaded, task);
}

CbSession *
cb_session_load_finish (GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
