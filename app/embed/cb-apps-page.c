/* cb-apps-page.c: cloud:apps rendered from CbApps, driven from the page */
#define G_LOG_DOMAIN "cb-apps-page"

#include "cb-apps-page.h"

#include <sodium.h>
#include <string.h>

#include "cb-embed-resources.h"

#include "cb-app-window.h"
#include "cb-cloudapp-scheme.h"
#include "cb-node-apps.h"

#define RESOURCES "/io/github/cloudbevy/CloudBevy/embed/"

struct _CbAppsPage
{
  GObject        parent_instance;

  CbNode        *node;
  CbApps        *apps;
  char          *start_error;
  char          *last_token;   /* of the page just rendered, until it is served */
  GHashTable    *views;        /* token -> WebKitWebView* (weak) */
};

G_DEFINE_FINAL_TYPE (CbAppsPage, cb_apps_page, G_TYPE_OBJECT)

static GBytes *
resource (const char *name)
{
  g_autofree char *path = g_strconcat (RESOURCES, name, NULL);
  GBytes *bytes = g_resource_lookup_data (cb_embed_get_resource (), path,
                                          G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  g_assert (bytes != NULL);  /* compiled in */
  return bytes;
}

/* JSON safe inside <script> and inside a JS expression. */
static char *
safe_json (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);
  GString *safe = g_string_sized_new (strlen (text) + 16);

  for (const char *p = text; *p; p++)
    {
      if (*p == '<')
        g_string_append (safe, "\\u003c");
      else if (*p == '>')
        g_string_append (safe, "\\u003e");
      else if (*p == '&')
        g_string_append (safe, "\\u0026");
      else
        g_string_append_c (safe, *p);
    }
  return g_string_free (safe, FALSE);
}

static JsonNode *
catalog (CbAppsPage *self)
{
  g_autoptr(JsonBuilder) builder = NULL;

  if (self->apps != NULL)
    return cb_apps_list (self->apps);
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, self->start_error != NULL
                                          ? self->start_error : "the cloud node is not running");
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static char *
render_page (const char *page,
             gpointer    user_data,
             GError    **error)
{
  CbAppsPage *self = user_data;
  g_autoptr(JsonNode) list = catalog (self);
  g_autofree char *json = safe_json (list);
  g_autoptr(GBytes) style = resource ("apps-page.css");
  guint8 raw[16];
  char token[33];

  randombytes_buf (raw, sizeof raw);
  for (guint i = 0; i < sizeof raw; i++)
    g_snprintf (token + 2 * i, 3, "%02x", raw[i]);
  g_free (self->last_token);
  self->last_token = g_strdup (token);
  return g_strdup_printf (
    "<!DOCTYPE html>\n<html data-token=\"%s\"><head><meta charset=\"utf-8\">"
    "<meta name=\"color-scheme\" content=\"light dark\">"
    "<title>Cloud Apps</title><style>%.*s</style></head>"
    "<body><main id=\"catalog\"><h1>Cloud Apps</h1><p class=\"dim\">Loading…</p></main>"
    "<script type=\"application/json\" id=\"catalog-data\">%s</script></body></html>\n",
    token, (int) g_bytes_get_size (style), (const char *) g_bytes_get_data (style, NULL), json);
}

/* ---- views showing the page ---- */

static void
forget_view (gpointer data, GObject *where_the_object_was)
{
  CbAppsPage *self = data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->views);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == where_the_object_was)
      g_hash_table_iter_remove (&iter);
}

static gboolean
view_has (CbAppsPage *self, WebKitWebView *view)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->views);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == view)
      return TRUE;
  return FALSE;
}

static void
on_page_served (CbCloudScheme *scheme,
                const char    *page,
                WebKitWebView *view,
                gpointer       user_data)
{
  CbAppsPage *self = user_data;

  if (g_strcmp0 (page, "apps") != 0 || view == NULL || self->last_token == NULL)
    return;
  if (!view_has (self, view))
    g_object_weak_ref (G_OBJECT (view), forget_view, self);
  g_hash_table_replace (self->views, g_steal_pointer (&self->last_token), view);
}

static gboolean
shows_catalog (WebKitWebView *view)
{
  g_autofree char *page = webkit_web_view_get_uri (view) != NULL
                          ? cb_cloud_scheme_page_of (webkit_web_view_get_uri (view)) : NULL;

  return g_strcmp0 (page, "apps") == 0;
}

static void
push (CbAppsPage *self, const char *script)
{
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GPtrArray) seen = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, self->views);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      WebKitWebView *view = value;

      /* Only to the catalog itself: a view that went elsewhere shows any
       * site now. */
      if (g_ptr_array_find (seen, view, NULL) || !shows_catalog (view)
          || webkit_web_view_is_loading (view))
        continue;
      g_ptr_array_add (seen, view);
      webkit_web_view_evaluate_javascript (view, script, -1, CB_APPS_PAGE_WORLD, NULL, NULL,
                                           NULL, NULL);
    }
}

static void
on_apps_changed (CbApps   *apps,
                 gpointer  user_data)
{
  CbAppsPage *self = user_data;
  g_autoptr(JsonNode) list = catalog (self);
  g_autofree char *json = safe_json (list);
  g_autofree char *script = g_strdup_printf ("window.cbCatalog && window.cbCatalog.update(%s)",
                                             json);

  push (self, script);
}

static void
on_progress (CbApps     *apps,
             const char *system,
             const char *stage,
             double      fraction,
             gpointer    user_data)
{
  CbAppsPage *self = user_data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;
  g_autofree char *script = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, system);
  json_builder_set_member_name (builder, "stage");
  json_builder_add_string_value (builder, stage);
  json_builder_set_member_name (builder, "fraction");
  json_builder_add_double_value (builder, fraction);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  json = safe_json (node);
  script = g_strdup_printf ("window.cbCatalog && window.cbCatalog.progress(%s)", json);
  push (self, script);
}

/* ---- requests from the page ---- */

typedef struct {
  WebKitScriptMessageReply *reply;
  JSCContext               *context;
} Pending;

static Pending *
pending_new (WebKitScriptMessageReply *reply, JSCValue *value)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->reply = webkit_script_message_reply_ref (reply);
  pending->context = g_object_ref (jsc_value_get_context (value));
  return pending;
}

static void
pending_answer (Pending *pending, JsonNode *result, const GError *error)
{
  if (result != NULL)
    {
      g_autofree char *text = json_to_string (result, FALSE);
      g_autoptr(JSCValue) value = jsc_value_new_string (pending->context, text);

      webkit_script_message_reply_return_value (pending->reply, value);
    }
  else
    webkit_script_message_reply_return_error_message (pending->reply,
                                                      error != NULL ? error->message : "failed");
  webkit_script_message_reply_unref (pending->reply);
  g_object_unref (pending->context);
  g_free (pending);
}

static JsonNode *
done_node (void)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, json_object_new ());
  return node;
}

static void
on_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) added = cb_apps_add_repository_finish (CB_APPS (source), result, &error);

  pending_answer (user_data, added, error);
}

static void
on_installed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) done = cb_apps_install_finish (CB_APPS (source), result, &error);

  pending_answer (user_data, done, error);
}

static void
on_refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) done = cb_apps_refresh_finish (CB_APPS (source), result, &error)
                             ? done_node () : NULL;

  pending_answer (user_data, done, error);
}

static char *
string_property (JSCValue *value, const char *name)
{
  g_autoptr(JSCValue) member = jsc_value_object_get_property (value, name);

  return jsc_value_is_string (member) ? jsc_value_to_string (member) : NULL;
}

static void
open_app (CbAppsPage     *self,
          WebKitWebView  *view,
          const char     *system,
          GError        **error)
{
  CbPluginModule *module = cb_apps_lookup_module (self->apps, system);
  g_autofree char *ui_module = NULL;

  if (module != NULL && (ui_module = cb_apps_get_ui_module_path (self->apps, system, error)) == NULL
      && error != NULL && *error != NULL)
    return;
  if (module == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s is not running", system);
      return;
    }
  if (ui_module != NULL)
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (view));
      GtkWidget *window = cb_app_window_new (cb_apps_get_context (self->apps, system), ui_module,
                                             GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                             error);

      if (window != NULL)
        gtk_window_present (GTK_WINDOW (window));
      return;
    }
  if (cb_plugin_module_has_web_ui (module))
    {
      g_autofree char *uri = cb_cloudapp_uri_for (system);

      /* From here, not the page: cloud: pages cannot navigate to apps. */
      webkit_web_view_load_uri (view, uri);
      return;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "%s has no user interface; use it from `cloud-bevy-node apps run`", system);
}

static gboolean
on_message (WebKitUserContentManager *manager,
            JSCValue                 *value,
            WebKitScriptMessageReply *reply,
            gpointer                  user_data)
{
  CbAppsPage *self = user_data;
  g_autofree char *token = string_property (value, "token");
  g_autofree char *op = string_property (value, "op");
  g_autofree char *name = string_property (value, "name");
  g_autofree char *address = string_property (value, "address");
  g_autoptr(JSCValue) delete_value = jsc_value_object_get_property (value, "delete_data");
  gboolean delete_data = jsc_value_is_boolean (delete_value) && jsc_value_to_boolean (delete_value);
  WebKitWebView *view = token != NULL ? g_hash_table_lookup (self->views, token) : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) done = NULL;

  /* Only a catalog this page served, still showing it. */
  if (view == NULL || !shows_catalog (view) || op == NULL)
    {
      webkit_script_message_reply_return_error_message (reply, "not a request of cloud:apps");
      return TRUE;
    }
  if (self->apps == NULL)
    {
      webkit_script_message_reply_return_error_message (reply, "the cloud node is not running");
      return TRUE;
    }
  if (strcmp (op, "install") == 0)
    cb_apps_install_async (self->apps, name, NULL, on_installed, pending_new (reply, value));
  else if (strcmp (op, "update") == 0)
    cb_apps_update_async (self->apps, name, NULL, on_installed, pending_new (reply, value));
  else if (strcmp (op, "repo-add") == 0)
    cb_apps_add_repository_async (self->apps, address, NULL, on_added, pending_new (reply, value));
  else if (strcmp (op, "refresh") == 0)
    cb_apps_refresh_async (self->apps, NULL, NULL, on_refreshed, pending_new (reply, value));
  else
    {
      Pending *pending = pending_new (reply, value);

      if (strcmp (op, "rollback") == 0)
        done = cb_apps_rollback (self->apps, name, &error);
      else if (strcmp (op, "remove") == 0)
        done = cb_apps_remove (self->apps, name, delete_data, &error) ? done_node () : NULL;
      else if (strcmp (op, "enable") == 0 || strcmp (op, "disable") == 0)
        done = cb_apps_set_enabled (self->apps, name, strcmp (op, "enable") == 0, &error)
               ? done_node () : NULL;
      else if (strcmp (op, "repo-remove") == 0)
        done = cb_apps_remove_repository (self->apps, address, &error) ? done_node () : NULL;
      else if (strcmp (op, "open") == 0)
        {
          open_app (self, view, name, &error);
          done = error == NULL ? done_node () : NULL;
        }
      else
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "unknown request \"%s\"", op);
      pending_answer (pending, done, error);
    }
  return TRUE;
}

/* ---- lifecycle ---- */

static void
cb_apps_page_dispose (GObject *object)
{
  CbAppsPage *self = CB_APPS_PAGE (object);

  if (self->views != NULL)
    {
      GHashTableIter iter;
      gpointer value;
      g_autoptr(GPtrArray) unique = g_ptr_array_new ();

      g_hash_table_iter_init (&iter, self->views);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (!g_ptr_array_find (unique, value, NULL))
          g_ptr_array_add (unique, value);
      for (guint i = 0; i < unique->len; i++)
        g_object_weak_unref (unique->pdata[i], forget_view, self);
      g_clear_pointer (&self->views, g_hash_table_unref);
    }
  if (self->apps != NULL)
    g_signal_handlers_disconnect_by_data (self->apps, self);
  g_clear_object (&self->apps);
  g_clear_object (&self->node);
  G_OBJECT_CLASS (cb_apps_page_parent_class)->dispose (object);
}

static void
cb_apps_page_finalize (GObject *object)
{
  CbAppsPage *self = CB_APPS_PAGE (object);

  g_free (self->start_error);
  g_free (self->last_token);
  G_OBJECT_CLASS (cb_apps_page_parent_class)->finalize (object);
}

static void
cb_apps_page_class_init (CbAppsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_apps_page_dispose;
  object_class->finalize = cb_apps_page_finalize;
}

static void
cb_apps_page_init (CbAppsPage *self)
{
  self->views = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

CbAppsPage *
cb_apps_page_new (CbCloudScheme            *scheme,
                  WebKitUserContentManager *manager,
                  CbNode                   *node,
                  const char               *start_error)
{
  CbAppsPage *self = g_object_new (CB_TYPE_APPS_PAGE, NULL);
  g_autoptr(GBytes) source = resource ("apps-page.js");
  g_autofree char *text = g_strndup (g_bytes_get_data (source, NULL), g_bytes_get_size (source));
  g_autoptr(WebKitUserScript) script = NULL;

  self->node = node != NULL ? g_object_ref (node) : NULL;
  self->apps = node != NULL && cb_node_get_apps (node) != NULL
               ? g_object_ref (cb_node_get_apps (node)) : NULL;
  self->start_error = g_strdup (start_error);
  cb_cloud_scheme_add_page (scheme, "apps", render_page, g_object_ref (self), g_object_unref);
  g_signal_connect_object (scheme, "page-served", G_CALLBACK (on_page_served), self, 0);
  if (self->apps != NULL)
    {
      g_signal_connect (self->apps, "changed", G_CALLBACK (on_apps_changed), self);
      g_signal_connect (self->apps, "progress", G_CALLBACK (on_progress), self);
    }
  /* The page's script: in its own world, on every page, doing nothing
   * but on cloud:apps (whose URL no allow-list pattern can match). */
  script = webkit_user_script_new_for_world (text, WEBKIT_USER_CONTENT_INJECT_TOP_FRAME,
                                             WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_END,
                                             CB_APPS_PAGE_WORLD, NULL, NULL);
  webkit_user_content_manager_add_script (manager, script);
  g_signal_connect_object (manager, "script-message-with-reply-received::cbCatalog",
                           G_CALLBACK (on_message), self, 0);
  webkit_user_content_manager_register_script_message_handler_with_reply (manager, "cbCatalog",
                                                                          CB_APPS_PAGE_WORLD);
  return self;
}
