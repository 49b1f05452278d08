/* cb-reader.c: extracting, rendering and serving reader pages */
#define G_LOG_DOMAIN "cb-reader"

#include "cb-reader.h"
#include "cb-error-page.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define SCRIPT_RESOURCE "/io/github/cloudbevy/CloudBevy/embed/reader.js"
#define STYLE_RESOURCE "/io/github/cloudbevy/CloudBevy/embed/reader.css"
#define WORLD "cb-reader"
/* Articles kept for cb-reader: pages (back, forward, reload). */
#define CACHE_SIZE 16
/* Larger than any article; a page handing more is refused. */
#define MAX_ARTICLE_BYTES (8 * 1024 * 1024)

struct _CbReader {
  GObject parent_instance;
  char *script;
  char *style;
  GQueue cache;   /* CachedPage*, most recent first */
};

typedef struct {
  char *uri;
  char *html;
} CachedPage;

G_DEFINE_FINAL_TYPE (CbReader, cb_reader, G_TYPE_OBJECT)

void
cb_reader_article_free (CbReaderArticle *article)
{
  if (article == NULL)
    return;
  g_free (article->title);
  g_free (article->byline);
  g_free (article->site);
  g_free (article->html);
  g_free (article);
}

static gboolean
read_string (JsonObject  *object,
             const char  *name,
             gboolean     required,
             char       **out,
             GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "The article has no \"%s\"", name);
          return FALSE;
        }
      *out = g_strdup ("");
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The article's \"%s\" is not a string", name);
      return FALSE;
    }
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

CbReaderArticle *
cb_reader_article_parse (const char  *json,
                         gsize        len,
                         GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CbReaderArticle) article = g_new0 (CbReaderArticle, 1);
  JsonNode *root;
  JsonObject *object;
  JsonNode *length;

  if (len > MAX_ARTICLE_BYTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "The article is larger than %u MiB", MAX_ARTICLE_BYTES / (1024 * 1024));
      return NULL;
    }
  if (!g_utf8_validate_len (json, len, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The article is not UTF-8 text");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, json, (gssize) len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The article is not a JSON object");
      return NULL;
    }
  object = json_node_get_object (root);
  if (!read_string (object, "title", FALSE, &article->title, error) ||
      !read_string (object, "byline", FALSE, &article->byline, error) ||
      !read_string (object, "site", FALSE, &article->site, error) ||
      !read_string (object, "html", TRUE, &article->html, error))
    return NULL;
  length = json_object_get_member (object, "length");
  if (length != NULL && JSON_NODE_HOLDS_VALUE (length) &&
      json_node_get_value_type (length) == G_TYPE_INT64)
    article->length = MAX (json_node_get_int (length), 0);
  return g_steal_pointer (&article);
}

char *
cb_reader_uri_for (const char *uri)
{
  return g_strconcat (CB_READER_SCHEME ":", uri, NULL);
}

const char *
cb_reader_original_uri (const char *reader_uri)
{
  if (reader_uri == NULL || !g_str_has_prefix (reader_uri, CB_READER_SCHEME ":"))
    return NULL;
  return reader_uri + strlen (CB_READER_SCHEME ":");
}

static char *
render_with_style (const CbReaderArticle *article,
                   const char            *uri,
                   const char            *style)
{
  g_autofree char *title = cb_html_escape (*article->title ? article->title : uri);
  g_autofree char *byline = cb_html_escape (article->byline);
  g_autofree char *site = cb_html_escape (article->site);
  g_autofree char *link = cb_html_escape (uri);
  guint minutes = (guint) MAX (1, article->length / 1200);  /* ~200 words a minute */

  return g_strdup_printf (
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
    /* No scripts at all; images and media from the web only. */
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "img-src http: https: data:; media-src http: https:; style-src 'unsafe-inline'\">"
    "<meta name=\"color-scheme\" content=\"light dark\">"
    "<title>%s</title><style>%s</style></head>\n<body>"
    "<header><h1 class=\"cb-reader-title\">%s</h1>"
    "<p class=\"cb-reader-meta\">%s%s%s%s · %u min read · "
    "<a id=\"cb-reader-original\" href=\"%s\">Original page</a></p></header>\n"
    "<article id=\"cb-reader-content\">%s</article></body></html>\n",
    title, style ? style : "", title, site, *byline ? " · " : "", byline, "", minutes, link,
    article->html);
}

char *
cb_reader_render (const CbReaderArticle *article,
                  const char            *uri)
{
  g_autoptr(GBytes) style = g_resources_lookup_data (STYLE_RESOURCE, 0, NULL);

  return render_with_style (article, uri, style ? g_bytes_get_data (style, NULL) : NULL);
}

/* --- the scheme --- */

static void
cached_page_free (gpointer data)
{
  CachedPage *page = data;

  g_free (page->uri);
  g_free (page->html);
  g_free (page);
}

static void
cache_put (CbReader   *self,
           const char *uri,
           char       *html)
{
  CachedPage *page = g_new0 (CachedPage, 1);

  for (GList *l = self->cache.head; l != NULL; l = l->next)
    if (g_str_equal (((CachedPage *) l->data)->uri, uri))
      {
        cached_page_free (l->data);
        g_queue_delete_link (&self->cache, l);
        break;
      }
  page->uri = g_strdup (uri);
  page->html = html;
  g_queue_push_head (&self->cache, page);
  while (self->cache.length > CACHE_SIZE)
    cached_page_free (g_queue_pop_tail (&self->cache));
}

static const char *
cache_get (CbReader   *self,
           const char *uri)
{
  for (GList *l = self->cache.head; l != NULL; l = l->next)
    if (g_str_equal (((CachedPage *) l->data)->uri, uri))
      return ((CachedPage *) l->data)->html;
  return NULL;
}

static void
handle_request (WebKitURISchemeRequest *request,
                gpointer                user_data)
{
  CbReader *self = user_data;
  const char *original = cb_reader_original_uri (webkit_uri_scheme_request_get_uri (request));
  const char *cached = original ? cache_get (self, original) : NULL;
  g_autofree char *html = NULL;
  g_autoptr(GInputStream) stream = NULL;
  gsize len;

  if (cached != NULL)
    html = g_strdup (cached);
  else
    {
      /* After a restart the article is gone: point back to the page. */
      g_autofree char *link = cb_html_escape (original ? original : "");
      html = g_strdup_printf ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                              "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
                              "<title>Reader View</title></head><body style=\"font-family:sans-serif;"
                              "max-width:36em;margin:12vh auto\"><h1>Reader view is no longer "
                              "available</h1><p>Open <a href=\"%s\">the original page</a> and "
                              "choose Reader View again.</p></body></html>", link);
    }
  len = strlen (html);
  stream = g_memory_input_stream_new_from_data (g_steal_pointer (&html), (gssize) len, g_free);
  webkit_uri_scheme_request_finish (request, stream, (gint64) len, "text/html");
}

void
cb_reader_attach (CbReader         *self,
                  WebKitWebContext *context)
{
  WebKitSecurityManager *security = webkit_web_context_get_security_manager (context);

  webkit_web_context_register_uri_scheme (context, CB_READER_SCHEME, handle_request,
                                          g_object_ref (self), g_object_unref);
  /* Web pages can neither load nor frame reader pages. */
  webkit_security_manager_register_uri_scheme_as_local (security, CB_READER_SCHEME);
  webkit_security_manager_register_uri_scheme_as_display_isolated (security, CB_READER_SCHEME);
  webkit_security_manager_register_uri_scheme_as_secure (security, CB_READER_SCHEME);
}

/* --- running reader.js --- */

typedef struct {
  WebKitWebView *view;
  char *uri;
} RunData;

static void
run_data_free (gpointer data)
{
  RunData *run = data;

  g_clear_object (&run->view);
  g_free (run->uri);
  g_free (run);
}

static void
run_script (CbReader            *self,
            WebKitWebView       *view,
            const char          *mode,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            GTask               *task)
{
  g_autofree char *script = g_strdup_printf ("var CB_READER_MODE = '%s';\n%s", mode, self->script);

  webkit_web_view_evaluate_javascript (view, script, -1, WORLD, NULL, cancellable, callback, task);
}

static char *
script_result (WebKitWebView  *view,
               GAsyncResult   *result,
               GError        **error)
{
  g_autoptr(JSCValue) value = webkit_web_view_evaluate_javascript_finish (view, result, error);

  if (value == NULL)
    return NULL;
  if (!jsc_value_is_string (value))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "This page has no article to show");
      return NULL;
    }
  return jsc_value_to_string (value);
}

static void
checked (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = script_result (WEBKIT_WEB_VIEW (source), result, &error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  root = json_parser_get_root (parser);
  g_task_return_boolean (task, root != NULL && JSON_NODE_HOLDS_OBJECT (root) &&
                               json_object_get_boolean_member_with_default (
                                 json_node_get_object (root), "readerable", FALSE));
}

void
cb_reader_check_async (CbReader            *self,
                       WebKitWebView       *view,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, cb_reader_check_async);
  run_script (self, view, "check", cancellable, checked, task);
}

gboolean
cb_reader_check_finish (CbReader      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
extracted (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CbReader *self = g_task_get_source_object (task);
  RunData *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *json = script_result (WEBKIT_WEB_VIEW (source), result, &error);
  g_autoptr(CbReaderArticle) article = NULL;
  g_autofree char *reader_uri = NULL;

  if (json != NULL)
    article = cb_reader_article_parse (json, strlen (json), &error);
  if (article == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  cache_put (self, run->uri, render_with_style (article, run->uri, self->style));
  reader_uri = cb_reader_uri_for (run->uri);
  webkit_web_view_load_uri (run->view, reader_uri);
  g_task_return_boolean (task, TRUE);
}

void
cb_reader_open_async (CbReader            *self,
                      WebKitWebView       *view,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  RunData *run = g_new0 (RunData, 1);

  g_task_set_source_tag (task, cb_reader_open_async);
  run->view = g_object_ref (view);
  run->uri = g_strdup (webkit_web_view_get_uri (view));
  g_task_set_task_data (task, run, run_data_free);
  run_script (self, view, "extract", cancellable, extracted, task);
}

gboolean
cb_reader_open_finish (CbReader      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- object --- */

static void
cb_reader_finalize (GObject *object)
{
  CbReader *self = CB_READER (object);

  g_queue_clear_full (&self->cache, cached_page_free);
  g_free (self->script);
  g_free (self->style);
  G_OBJECT_CLASS (cb_reader_parent_class)->finalize (object);
}

static void
cb_reader_class_init (CbReaderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cb_reader_finalize;
}

static void
cb_reader_init (CbReader *self)
{
  g_autoptr(GBytes) script = g_resources_lookup_data (SCRIPT_RESOURCE, 0, NULL);
  g_autoptr(GBytes) style = g_resources_lookup_data (STYLE_RESOURCE, 0, NULL);

  if (script == NULL || style == NULL)
    g_error ("reader mode's script or style is missing from the resources");
  self->script = g_strndup (g_bytes_get_data (script, NULL), g_bytes_get_size (script));
  self->style = g_strndup (g_bytes_get_data (style, NULL), g_bytes_get_size (style));
}

CbReader *
cb_reader_new (void)
{
  return g_object_new (CB_TYPE_READER, NULL);
}
