/* cb-view-source.c: fetch a page off screen and show its source */
#define G_LOG_DOMAIN "cb-view-source"

#include "cb-view-source.h"
#include "cb-error-page.h"

#include <string.h>

struct _CbViewSource {
  GObject parent_instance;
  WebKitWebContext *context;       /* not owned: it owns the scheme handler */
  WebKitNetworkSession *session;   /* not owned */
};

G_DEFINE_FINAL_TYPE (CbViewSource, cb_view_source, G_TYPE_OBJECT)

char *
cb_view_source_render (const char *uri,
                       const char *source,
                       gsize       len)
{
  g_autofree char *valid = g_utf8_make_valid (source, (gssize) len);
  g_autofree char *title = cb_html_escape (uri);
  g_autoptr(GString) out = g_string_new (NULL);
  const char *line = valid;

  g_string_append_printf (out,
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    "<meta name=\"color-scheme\" content=\"light dark\">"
    "<title>Source of %s</title><style>"
    "body{margin:0;font:13px/1.45 monospace}"
    "ol{margin:0;padding:.5em 0 .5em 5em}"
    "li{white-space:pre-wrap;overflow-wrap:anywhere;padding-left:1em}"
    "li::marker{color:#888}"
    "</style></head><body><ol id=\"source\">", title);
  while (line != NULL && *line != '\0')
    {
      const char *end = strchr (line, '\n');
      gsize n = end ? (gsize) (end - line) : strlen (line);
      g_autofree char *escaped = g_markup_escape_text (line, (gssize) n);

      g_string_append_printf (out, "<li>%s</li>\n", escaped);
      line = end ? end + 1 : NULL;
    }
  g_string_append (out, "</ol></body></html>\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct {
  WebKitURISchemeRequest *request;
  WebKitWebView *view;
  char *uri;
  gboolean failed;
} Fetch;

static void
fetch_free (Fetch *fetch)
{
  if (fetch->view != NULL)
    g_signal_handlers_disconnect_by_data (fetch->view, fetch);
  g_clear_object (&fetch->view);
  g_clear_object (&fetch->request);
  g_free (fetch->uri);
  g_free (fetch);
}

static void
got_data (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Fetch *fetch = user_data;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  g_autofree guchar *data = webkit_web_resource_get_data_finish (WEBKIT_WEB_RESOURCE (source),
                                                                 result, &len, &error);

  if (data == NULL)
    webkit_uri_scheme_request_finish_error (fetch->request, error);
  else
    {
      g_autofree char *html = cb_view_source_render (fetch->uri, (const char *) data, len);
      gsize html_len = strlen (html);
      g_autoptr(GInputStream) stream =
        g_memory_input_stream_new_from_data (g_steal_pointer (&html), (gssize) html_len, g_free);

      webkit_uri_scheme_request_finish (fetch->request, stream, (gint64) html_len, "text/html");
    }
  fetch_free (fetch);
}

static gboolean
on_load_failed (WebKitWebView   *view,
                WebKitLoadEvent  event,
                const char      *failing_uri,
                GError          *error,
                Fetch           *fetch)
{
  fetch->failed = TRUE;
  webkit_uri_scheme_request_finish_error (fetch->request, error);
  return TRUE;
}

static void
on_load_changed (WebKitWebView   *view,
                 WebKitLoadEvent  event,
                 Fetch           *fetch)
{
  WebKitWebResource *resource;

  if (event != WEBKIT_LOAD_FINISHED)
    return;
  if (fetch->failed)
    {
      fetch_free (fetch);
      return;
    }
  resource = webkit_web_view_get_main_resource (view);
  if (resource == NULL)
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                             "%s has no source to show", fetch->uri);
      webkit_uri_scheme_request_finish_error (fetch->request, error);
      fetch_free (fetch);
      return;
    }
  g_signal_handlers_disconnect_by_data (view, fetch);
  webkit_web_resource_get_data (resource, NULL, got_data, fetch);
}

static void
handle_request (WebKitURISchemeRequest *request,
                gpointer                user_data)
{
  CbViewSource *self = user_data;
  const char *uri = webkit_uri_scheme_request_get_uri (request) + strlen ("view-source:");
  const char *scheme = g_uri_peek_scheme (uri);
  Fetch *fetch;

  /* Only web pages and files: not view-source:view-source:…, not
   * internal pages. */
  if (scheme == NULL || !(g_str_equal (scheme, "http") || g_str_equal (scheme, "https") ||
                          g_str_equal (scheme, "file")))
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                             "There is no source to show for %s", uri);
      webkit_uri_scheme_request_finish_error (request, error);
      return;
    }
  fetch = g_new0 (Fetch, 1);
  fetch->request = g_object_ref (request);
  fetch->uri = g_strdup (uri);
  fetch->view = g_object_ref_sink (g_object_new (WEBKIT_TYPE_WEB_VIEW,
                                                 "web-context", self->context,
                                                 "network-session", self->session,
                                                 NULL));
  g_signal_connect (fetch->view, "load-changed", G_CALLBACK (on_load_changed), fetch);
  g_signal_connect (fetch->view, "load-failed", G_CALLBACK (on_load_failed), fetch);
  webkit_web_view_load_uri (fetch->view, uri);
}

void
cb_view_source_attach (CbViewSource         *self,
                       WebKitWebContext     *context,
                       WebKitNetworkSession *session)
{
  WebKitSecurityManager *security = webkit_web_context_get_security_manager (context);

  self->context = context;
  self->session = session;
  webkit_web_context_register_uri_scheme (context, "view-source", handle_request,
                                          g_object_ref (self), g_object_unref);
  /* Pages cannot link to view-source: (it would fetch with their cookies). */
  webkit_security_manager_register_uri_scheme_as_local (security, "view-source");
  webkit_security_manager_register_uri_scheme_as_display_isolated (security, "view-source");
}

static void
cb_view_source_class_init (CbViewSourceClass *klass)
{
}

static void
cb_view_source_init (CbViewSource *self)
{
}

CbViewSource *
cb_view_source_new (void)
{
  return g_object_new (CB_TYPE_VIEW_SOURCE, NULL);
}
