/* cb-cloudapp-scheme.c: serving apps' web UIs and their bridge */
#define G_LOG_DOMAIN "cb-cloudapp"

#include "cb-cloudapp-scheme.h"

#include <string.h>

#include "cb-embed-resources.h"

#include "cb-sdk-host.h"

#define BRIDGE_PATH "/.cloudbevy/bridge.js"
#define RESOURCES "/io/github/cloudbevy/CloudBevy/embed/"
/* A request from a page: more than this is not a query or a verb call. */
#define MAX_MESSAGE (1024 * 1024)

struct _CbCloudappScheme
{
  GObject    parent_instance;

  CbApps    *apps;
  GPtrArray *views;     /* WebKitWebView*, weak: views that loaded an app page */
};

G_DEFINE_FINAL_TYPE (CbCloudappScheme, cb_cloudapp_scheme, G_TYPE_OBJECT)

char *
cb_cloudapp_uri_for (const char *system)
{
  g_autofree char *origin = cb_system_name_to_origin_host (system);

  return origin != NULL ? g_strdup_printf (CB_CLOUDAPP_URI_SCHEME "://%s/", origin) : NULL;
}

static GBytes *
resource (const char *name)
{
  g_autofree char *path = g_strconcat (RESOURCES, name, NULL);
  GBytes *bytes = g_resource_lookup_data (cb_embed_get_resource (), path,
                                          G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  g_assert (bytes != NULL);  /* compiled in */
  return bytes;
}

/* ---- serving ---- */

static void
respond (WebKitURISchemeRequest *request,
         GBytes                 *body,
         const char             *content_type,
         guint                   status)
{
  g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (body);
  g_autoptr(WebKitURISchemeResponse) response =
    webkit_uri_scheme_response_new (stream, (gint64) g_bytes_get_size (body));
  SoupMessageHeaders *headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);

  soup_message_headers_append (headers, "Content-Security-Policy", CB_CLOUDAPP_CSP);
  soup_message_headers_append (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_append (headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_append (headers, "Cache-Control", "no-store");
  /* With headers given, WebKit takes the type from them. */
  soup_message_headers_replace (headers, "Content-Type", content_type);
  webkit_uri_scheme_response_set_http_headers (response, headers);
  webkit_uri_scheme_response_set_content_type (response, content_type);
  webkit_uri_scheme_response_set_status (response, status, NULL);
  webkit_uri_scheme_request_finish_with_response (request, response);
}

static void
respond_error (WebKitURISchemeRequest *request,
               guint                   status,
               const char             *title,
               const char             *detail)
{
  g_autofree char *t = g_markup_escape_text (title, -1);
  g_autofree char *d = g_markup_escape_text (detail, -1);
  g_autofree char *html = g_strdup_printf (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title></head>"
    "<body style=\"font-family:system-ui,sans-serif;max-width:40em;margin:10vh auto\">"
    "<h1>%s</h1><p>%s</p><p>The app catalog is at cloud:apps.</p></body></html>", t, t, d);
  gsize len = strlen (html);
  g_autoptr(GBytes) body = g_bytes_new_take (g_steal_pointer (&html), len);

  respond (request, body, "text/html", status);
}

static void
forget_view (gpointer data, GObject *where_the_object_was)
{
  CbCloudappScheme *self = data;

  g_ptr_array_remove (self->views, where_the_object_was);
}

static void
handle_request (WebKitURISchemeRequest *request,
                gpointer                user_data)
{
  CbCloudappScheme *self = user_data;
  const char *uri = webkit_uri_scheme_request_get_uri (request);
  WebKitWebView *view = webkit_uri_scheme_request_get_web_view (request);
  g_autoptr(GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  g_autofree char *system = NULL;
  g_autofree char *content_type = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  CbPluginModule *module;
  const char *path;

  system = parsed != NULL ? cb_system_name_from_origin_host (g_uri_get_host (parsed)) : NULL;
  if (system == NULL)
    {
      respond_error (request, 404, "No such app", "This address names no cloud app.");
      return;
    }
  path = g_uri_get_path (parsed);
  if (path == NULL || *path == '\0')
    path = "/";
  g_debug ("%s: %s", system, path);
  if (strcmp (path, BRIDGE_PATH) == 0)
    {
      g_autoptr(GBytes) bridge = resource ("cloudapp-bridge.js");
      respond (request, bridge, "text/javascript", 200);
      return;
    }
  module = self->apps != NULL ? cb_apps_lookup_module (self->apps, system) : NULL;
  if (module == NULL)
    {
      g_autofree char *detail = g_strdup_printf ("%s is not installed here, or not running.",
                                                 system);
      respond_error (request, 404, "App not running", detail);
      return;
    }
  body = cb_plugin_module_read_web_file (module, path, &content_type, &error);
  if (body == NULL)
    {
      respond_error (request, 404, "Not found", error->message);
      return;
    }
  if (view != NULL && !g_ptr_array_find (self->views, view, NULL))
    {
      g_object_weak_ref (G_OBJECT (view), forget_view, self);
      g_ptr_array_add (self->views, view);
    }
  respond (request, body, content_type, 200);
}

/* ---- the bridge ---- */

typedef struct {
  WebKitScriptMessageReply *reply;
  JSCContext               *context;
} Pending;

static void
reply_json (WebKitScriptMessageReply *reply, JSCContext *context, JsonNode *result)
{
  g_autofree char *text = json_to_string (result, FALSE);
  g_autoptr(JSCValue) value = jsc_value_new_string (context, text);

  /* The world's script parses it: the answer crosses as a string. */
  webkit_script_message_reply_return_value (reply, value);
}

static void
on_verb_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Pending *pending = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) done = cb_apps_run_verb_finish (CB_APPS (source), result, &error);

  if (done != NULL)
    reply_json (pending->reply, pending->context, done);
  else
    webkit_script_message_reply_return_error_message (pending->reply, error->message);
  webkit_script_message_reply_unref (pending->reply);
  g_object_unref (pending->context);
  g_free (pending);
}

static gboolean
on_message (WebKitUserContentManager *manager,
            JSCValue                 *value,
            WebKitScriptMessageReply *reply,
            gpointer                  user_data)
{
  CbCloudappScheme *self = user_data;
  g_autoptr(JSCValue) op_value = jsc_value_object_get_property (value, "op");
  g_autoptr(JSCValue) name_value = jsc_value_object_get_property (value, "name");
  g_autoptr(JSCValue) params_value = jsc_value_object_get_property (value, "params");
  g_autoptr(JSCValue) origin_value = jsc_value_object_get_property (value, "origin");
  g_autofree char *op = jsc_value_is_string (op_value) ? jsc_value_to_string (op_value) : NULL;
  g_autofree char *name = jsc_value_is_string (name_value) ? jsc_value_to_string (name_value) : NULL;
  g_autofree char *params_text = jsc_value_is_string (params_value)
                                 ? jsc_value_to_string (params_value) : NULL;
  g_autofree char *origin = jsc_value_is_string (origin_value)
                            ? jsc_value_to_string (origin_value) : NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *system = NULL;
  JsonNode *params_node;
  JsonObject *params;

  /* The origin comes from the private world's own location: pages cannot
   * set it.  It names the one system this request may reach. */
  if (origin != NULL && g_str_has_prefix (origin, CB_CLOUDAPP_URI_SCHEME "://"))
    system = cb_system_name_from_origin_host (origin + strlen (CB_CLOUDAPP_URI_SCHEME "://"));
  if (system == NULL || op == NULL || name == NULL || params_text == NULL
      || strlen (params_text) > MAX_MESSAGE)
    {
      webkit_script_message_reply_return_error_message (reply, "not a request of a cloud app");
      return TRUE;
    }
  if (self->apps == NULL)
    {
      webkit_script_message_reply_return_error_message (reply, "the cloud node is not running");
      return TRUE;
    }
  if (!json_parser_load_from_data (parser, params_text, -1, &error)
      || (params_node = json_parser_get_root (parser)) == NULL
      || !JSON_NODE_HOLDS_OBJECT (params_node))
    {
      webkit_script_message_reply_return_error_message (reply, "the parameters must be an object");
      return TRUE;
    }
  params = json_node_get_object (params_node);
  if (strcmp (op, "query") == 0)
    {
      g_autoptr(JsonNode) rows = cb_apps_query (self->apps, system, name, params, &error);

      if (rows != NULL)
        reply_json (reply, jsc_value_get_context (value), rows);
      else
        webkit_script_message_reply_return_error_message (reply, error->message);
    }
  else if (strcmp (op, "call") == 0)
    {
      Pending *pending = g_new0 (Pending, 1);

      pending->reply = webkit_script_message_reply_ref (reply);
      pending->context = g_object_ref (jsc_value_get_context (value));
      cb_apps_run_verb_async (self->apps, system, name, params, NULL, on_verb_done, pending);
    }
  else
    webkit_script_message_reply_return_error_message (reply, "unknown request");
  return TRUE;
}

/* Tells the pages of a system that its data changed. */
static void
on_data_changed (CbApps     *apps,
                 const char *system,
                 gpointer    user_data)
{
  CbCloudappScheme *self = user_data;
  g_autofree char *prefix = cb_cloudapp_uri_for (system);

  for (guint i = 0; prefix != NULL && i < self->views->len; i++)
    {
      WebKitWebView *view = g_ptr_array_index (self->views, i);
      const char *uri = webkit_web_view_get_uri (view);

      if (uri == NULL || !g_str_has_prefix (uri, prefix) || webkit_web_view_is_loading (view))
        continue;
      webkit_web_view_evaluate_javascript (view, "window.cbAppChanged && window.cbAppChanged()", -1,
                                           CB_CLOUDAPP_WORLD, NULL, NULL, NULL, NULL);
    }
}

void
cb_cloudapp_scheme_set_apps (CbCloudappScheme *self,
                             CbApps           *apps)
{
  if (self->apps != NULL)
    g_signal_handlers_disconnect_by_data (self->apps, self);
  g_set_object (&self->apps, apps);
  if (apps != NULL)
    g_signal_connect (apps, "data-changed", G_CALLBACK (on_data_changed), self);
}

void
cb_cloudapp_scheme_attach (CbCloudappScheme         *self,
                           WebKitWebContext         *context,
                           WebKitUserContentManager *manager)
{
  WebKitSecurityManager *security = webkit_web_context_get_security_manager (context);
  g_autoptr(GBytes) world = resource ("cloudapp-world.js");
  g_autofree char *source = g_strndup (g_bytes_get_data (world, NULL), g_bytes_get_size (world));
  const char *allow[] = { CB_CLOUDAPP_URI_SCHEME "://*/*", NULL };
  g_autoptr(WebKitUserScript) script = NULL;

  webkit_web_context_register_uri_scheme (context, CB_CLOUDAPP_URI_SCHEME, handle_request,
                                          g_object_ref (self), g_object_unref);
  /* A secure context of its own; no other origin may show it. */
  webkit_security_manager_register_uri_scheme_as_secure (security, CB_CLOUDAPP_URI_SCHEME);
  webkit_security_manager_register_uri_scheme_as_display_isolated (security, CB_CLOUDAPP_URI_SCHEME);

  script = webkit_user_script_new_for_world (source, WEBKIT_USER_CONTENT_INJECT_TOP_FRAME,
                                             WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START,
                                             CB_CLOUDAPP_WORLD, allow, NULL);
  webkit_user_content_manager_add_script (manager, script);
  g_signal_connect_object (manager, "script-message-with-reply-received::cbApp",
                           G_CALLBACK (on_message), self, 0);
  webkit_user_content_manager_register_script_message_handler_with_reply (manager, "cbApp",
                                                                          CB_CLOUDAPP_WORLD);
}

static void
cb_cloudapp_scheme_dispose (GObject *object)
{
  CbCloudappScheme *self = CB_CLOUDAPP_SCHEME (object);

  for (guint i = 0; self->views != NULL && i < self->views->len; i++)
    g_object_weak_unref (g_ptr_array_index (self->views, i), forget_view, self);
  g_clear_pointer (&self->views, g_ptr_array_unref);
  cb_cloudapp_scheme_set_apps (self, NULL);
  G_OBJECT_CLASS (cb_cloudapp_scheme_parent_class)->dispose (object);
}

static void
cb_cloudapp_scheme_class_init (CbCloudappSchemeClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_cloudapp_scheme_dispose;
}

static void
cb_cloudapp_scheme_init (CbCloudappScheme *self)
{
  self->views = g_ptr_array_new ();
}

CbCloudappScheme *
cb_cloudapp_scheme_new (void)
{
  return g_object_new (CB_TYPE_CLOUDAPP_SCHEME, NULL);
}
