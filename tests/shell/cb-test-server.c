/* cb-test-server.c: a libsoup server with the pages the UI tests need
 *
 *   /                 "Index", a link to /page2 and a target=_blank link
 *   /page2            "Page Two"
 *   /title/NAME       a page titled NAME
 *   /search?q=TERMS   "Search: TERMS" (the tests' search engine)
 *   /favicon.png      a 16x16 PNG, linked from every page
 *   /slow             accepts the request and never answers
 *   /links            links of every kind, an image (context menus)
 *   /form             a form that searches (GET) and one that posts to /posted
 *   /posted           "Posted: NOTE", the note field of the POSTed form
 *   /download/NAME?size=N   N bytes (default 4096) sent as an attachment NAME
 *   /download-stall/NAME    the first request sends half and stalls; later
 *                     ones send all 200,000 bytes (cancel and retry)
 *   /geolocation, /notifications, /camera   ask for a permission on a click;
 *                     the answer goes into the title
 *   /popup            opens a window on load (no click) and on a click
 *   /article          a long article among navigation, for reader mode
 *   /ads-page         loads /ads/banner.js from another site (localhost:port)
 *                     and first-party, and has a .ad-banner box
 *   /ads/NAME.js      scripts that say they ran (window.adsLoaded)
 *   /cookie/set, /cookie/show   sets a cookie; shows the Cookie header
 *   /find             a page with repeated words
 *   /redirect?to=URL  302 to URL */
#include "cb-test-server.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>
#include <string.h>

struct _CbTestServer {
  SoupServer *server;
  GUri *base;
  GHashTable *hits;     /* path -> count */
  GHashTable *queries;  /* path -> last query */
  GPtrArray *paused;    /* /slow messages kept open */
  GBytes *favicon;
  GPtrArray *stalled;   /* /download-stall messages kept open */
};

static GBytes *
make_favicon (void)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, 16, 16);
  char *buffer = NULL;
  gsize size = 0;

  gdk_pixbuf_fill (pixbuf, 0x3584e4ff);
  if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "png", NULL, NULL))
    g_error ("cannot encode the test favicon");
  return g_bytes_new_take (buffer, size);
}

static void
send_html (SoupServerMessage *msg,
           const char        *title,
           const char        *body)
{
  g_autofree char *title_html = g_markup_escape_text (title, -1);
  g_autofree char *html = g_strdup_printf (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title>"
    "<link rel=\"icon\" type=\"image/png\" href=\"/favicon.png\"></head>"
    "<body style=\"font-family:sans-serif\"><h1>%s</h1>%s</body></html>",
    title_html, title_html, body);
  gsize len = strlen (html);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&html), len);
}

static void
send_body (SoupServerMessage *msg,
           const char        *type,
           const char        *body)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, body, strlen (body));
}

/* Deterministic bytes, so a test can check a downloaded file. */
static char *
download_bytes (gsize size)
{
  char *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (char) ('a' + i % 26);
  return data;
}

static const char article_paragraph[] =
  "<p>Cloud Bevy reads articles the way people like to read them: the text, its headings "
  "and pictures, in a calm column, without the menus, the share buttons and the "
  "advertising around it. This paragraph is long enough, with its commas, clauses and "
  "sentences, to count as real prose for the article finder.</p>";

static void
handle (SoupServer        *soup_server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  CbTestServer *self = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  guint hits = GPOINTER_TO_UINT (g_hash_table_lookup (self->hits, path));

  g_hash_table_replace (self->hits, g_strdup (path), GUINT_TO_POINTER (hits + 1));
  if (g_uri_get_query (uri))
    g_hash_table_replace (self->queries, g_strdup (path), g_strdup (g_uri_get_query (uri)));

  if (g_str_equal (path, "/"))
    send_html (msg, "Index",
               "<p><a id=\"next\" href=\"/page2\">Go to page two</a></p>"
               "<p><a id=\"blank\" href=\"/title/Opened%20Beside\" target=\"_blank\">"
               "Open in a new tab</a></p>");
  else if (g_str_equal (path, "/page2"))
    send_html (msg, "Page Two", "<p>The second page.</p>");
  else if (g_str_has_prefix (path, "/title/"))
    {
      g_autofree char *name = g_uri_unescape_string (path + 7, NULL);
      send_html (msg, name ? name : "?", "<p>A titled page.</p>");
    }
  else if (g_str_equal (path, "/search"))
    {
      const char *terms = query ? g_hash_table_lookup (query, "q") : NULL;
      g_autofree char *title = g_strdup_printf ("Search: %s", terms ? terms : "");
      send_html (msg, title, "<p>Results would be here.</p>");
    }
  else if (g_str_equal (path, "/favicon.png"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "image/png", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (self->favicon, NULL),
                                        g_bytes_get_size (self->favicon));
    }
  else if (g_str_equal (path, "/slow"))
    {
      /* Hold the connection open without a byte of response. */
      g_ptr_array_add (self->paused, g_object_ref (msg));
      soup_server_message_pause (msg);
    }
  else if (g_str_equal (path, "/links"))
    send_html (msg, "Links",
               "<p><a id=\"plain\" href=\"/title/Linked%20Page\" "
               "style=\"font-size:40px\">A plain link</a></p>"
               "<p><a id=\"other\" href=\"/title/Other%20Page\">Another link</a></p>"
               "<p><img id=\"picture\" src=\"/favicon.png\" width=\"120\" height=\"120\" "
               "alt=\"A blue square\"></p>"
               "<p id=\"text\" style=\"font-size:30px\">Some text to right-click on.</p>");
  else if (g_str_equal (path, "/form"))
    send_html (msg, "Form",
               "<form id=\"search\" action=\"/search\" method=\"get\">"
               "<label>Terms <input id=\"q\" name=\"q\"></label>"
               "<button id=\"go\">Search</button></form>"
               "<form id=\"post\" action=\"/posted\" method=\"post\">"
               "<label>Note <textarea id=\"note\" name=\"note\"></textarea></label>"
               "<button id=\"send\">Send</button></form>");
  else if (g_str_equal (path, "/posted"))
    {
      /* The posted note in the title; anything but a POST is said. */
      SoupMessageBody *request = soup_server_message_get_request_body (msg);
      g_autoptr(GBytes) bytes = soup_message_body_flatten (request);
      g_autofree char *form = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      g_autoptr(GHashTable) fields = soup_form_decode (form);
      const char *note = g_hash_table_lookup (fields, "note");
      g_autofree char *title = g_strdup_printf ("Posted: %s", note ? note : "(nothing)");

      send_html (msg, g_str_equal (soup_server_message_get_method (msg), "POST") ? title
                                                                                 : "Not posted",
                 "<p>The note arrived.</p>");
    }
  else if (g_str_has_prefix (path, "/download/"))
    {
      const char *size_arg = query ? g_hash_table_lookup (query, "size") : NULL;
      gsize size = size_arg ? (gsize) g_ascii_strtoull (size_arg, NULL, 10) : 4096;
      g_autofree char *name = g_uri_unescape_string (path + 10, NULL);
      SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
      g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);

      g_hash_table_insert (params, (char *) "filename", name);
      soup_message_headers_set_content_disposition (headers, "attachment", params);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_TAKE,
                                        download_bytes (size), size);
    }
  else if (g_str_has_prefix (path, "/download-stall/"))
    {
      g_autofree char *name = g_uri_unescape_string (path + 16, NULL);
      SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
      SoupMessageBody *body = soup_server_message_get_response_body (msg);
      g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
      const gsize size = 200000;

      g_hash_table_insert (params, (char *) "filename", name);
      soup_message_headers_set_content_disposition (headers, "attachment", params);
      soup_message_headers_set_content_type (headers, "application/octet-stream", NULL);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      if (hits == 0)
        {
          /* Half now, the rest never: the download sits at 50 %. */
          soup_message_headers_set_encoding (headers, SOUP_ENCODING_CONTENT_LENGTH);
          soup_message_headers_set_content_length (headers, size);
          soup_message_body_append_take (body, (guchar *) download_bytes (size / 2), size / 2);
          g_ptr_array_add (self->stalled, g_object_ref (msg));
        }
      else
        soup_message_body_append_take (body, (guchar *) download_bytes (size), size);
    }
  else if (g_str_equal (path, "/geolocation"))
    send_html (msg, "Geolocation",
               "<button id=\"ask\" onclick=\"navigator.geolocation.getCurrentPosition("
               "p => document.title = 'position', "
               "e => document.title = 'geolocation error ' + e.code)\">Where am I?</button>");
  else if (g_str_equal (path, "/notifications"))
    send_html (msg, "Notifications",
               "<button id=\"ask\" onclick=\"Notification.requestPermission()"
               ".then(r => document.title = 'notifications ' + r)\">Notify me</button>"
               "<p id=\"state\"></p><script>document.getElementById('state').textContent = "
               "Notification.permission;</script>");
  else if (g_str_equal (path, "/camera"))
    send_html (msg, "Camera",
               "<button id=\"ask\" onclick=\"navigator.mediaDevices.getUserMedia("
               "{video: true, audio: true}).then(s => { document.title = 'camera granted'; "
               "s.getTracks().forEach(t => t.stop()); }, "
               "e => document.title = 'camera ' + e.name)\">Video call</button>");
  else if (g_str_equal (path, "/popup"))
    send_html (msg, "Popup",
               "<button id=\"open\" onclick=\"window.open('/title/Clicked%20Popup')\">"
               "Open a window</button>"
               "<script>window.addEventListener('load', () => { "
               "window.popupResult = window.open('/title/Unasked%20Popup') ? 'opened' : 'blocked'; "
               "});</script>");
  else if (g_str_equal (path, "/article"))
    {
      g_autoptr(GString) body = g_string_new (
        "<nav class=\"site-menu\"><a href=\"/\">Home</a> <a href=\"/page2\">News</a> "
        "<a href=\"/page2\">Sport</a> <a href=\"/page2\">Weather</a></nav>"
        "<aside class=\"sidebar\"><p><a href=\"/page2\">Related story one</a></p>"
        "<p><a href=\"/page2\">Related story two</a></p></aside>"
        "<article class=\"post-content\"><h2>Why reading should be calm</h2>");

      for (int i = 0; i < 8; i++)
        g_string_append (body, article_paragraph);
      g_string_append (body, "<p>Last words: <a href=\"/title/Source\">the source</a>.</p>"
                             "<script>document.body.dataset.scripted = 'yes'</script>"
                             "</article><footer class=\"footer\">Copyright nobody</footer>");
      send_html (msg, "A Calm Article", body->str);
    }
  else if (g_str_equal (path, "/ads-page"))
    {
      g_autofree char *body = g_strdup_printf (
        "<div class=\"ad-banner\" id=\"banner\">BUY NOW</div>"
        "<p id=\"content\">The real content.</p>"
        "<script>window.adsLoaded = [];</script>"
        "<script src=\"http://localhost:%d/ads/banner.js\"></script>"
        "<script src=\"/ads/own.js\"></script>"
        "<script src=\"http://localhost:%d/scripts/widget.js\"></script>",
        g_uri_get_port (self->base), g_uri_get_port (self->base));
      send_html (msg, "Ads", body);
    }
  else if (g_str_has_prefix (path, "/ads/") || g_str_has_prefix (path, "/scripts/"))
    {
      g_autofree char *js = g_strdup_printf ("window.adsLoaded.push('%s');", path);
      send_body (msg, "text/javascript", js);
    }
  else if (g_str_equal (path, "/cookie/set"))
    {
      soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
                                   "cbtest=remembered; Path=/; Max-Age=86400");
      send_html (msg, "Cookie Set", "<p>A cookie was set.</p>");
    }
  else if (g_str_equal (path, "/cookie/show"))
    {
      const char *cookie = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                         "Cookie");
      g_autofree char *title = g_strdup_printf ("Cookie: %s", cookie ? cookie : "none");
      send_html (msg, title, "<p>The cookies this request sent.</p>");
    }
  else if (g_str_equal (path, "/find"))
    send_html (msg, "Find",
               "<p>The bevy of quails crossed the road. A bevy is a group.</p>"
               "<p>Another BEVY, and one more bevy at the end.</p>");
  else if (g_str_equal (path, "/redirect"))
    {
      const char *to = query ? g_hash_table_lookup (query, "to") : NULL;
      soup_server_message_set_redirect (msg, SOUP_STATUS_FOUND, to ? to : "/");
    }
  else
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static CbTestServer *
server_new (SoupServer  *soup_server,
            guint16      port,
            gboolean     tls,
            GError     **error)
{
  CbTestServer *self = g_new0 (CbTestServer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  GSList *uris;

  self->server = soup_server;
  self->hits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->queries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->paused = g_ptr_array_new_with_free_func (g_object_unref);
  self->stalled = g_ptr_array_new_with_free_func (g_object_unref);
  self->favicon = make_favicon ();
  soup_server_add_handler (soup_server, NULL, handle, self, NULL);

  if (!soup_server_listen (soup_server, address, tls ? SOUP_SERVER_LISTEN_HTTPS : 0, error))
    {
      cb_test_server_free (self);
      return NULL;
    }
  uris = soup_server_get_uris (soup_server);
  self->base = g_uri_ref (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return self;
}

CbTestServer *
cb_test_server_new (guint16   port,
                    GError  **error)
{
  return server_new (soup_server_new (NULL, NULL), port, FALSE, error);
}

CbTestServer *
cb_test_server_new_tls (const char  *cert_file,
                        const char  *key_file,
                        GError     **error)
{
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_files (cert_file, key_file, error);

  if (cert == NULL)
    return NULL;
  return server_new (soup_server_new ("tls-certificate", cert, NULL), 0, TRUE, error);
}

void
cb_test_server_free (CbTestServer *self)
{
  if (self == NULL)
    return;
  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_clear_pointer (&self->base, g_uri_unref);
  g_clear_pointer (&self->hits, g_hash_table_unref);
  g_clear_pointer (&self->queries, g_hash_table_unref);
  g_clear_pointer (&self->paused, g_ptr_array_unref);
  g_clear_pointer (&self->stalled, g_ptr_array_unref);
  g_clear_pointer (&self->favicon, g_bytes_unref);
  g_free (self);
}

char *
cb_test_server_uri (CbTestServer *self,
                    const char   *path)
{
  return g_strdup_printf ("%s://127.0.0.1:%d%s", g_uri_get_scheme (self->base),
                          g_uri_get_port (self->base), path);
}

guint16
cb_test_server_port (CbTestServer *self)
{
  return (guint16) g_uri_get_port (self->base);
}

guint
cb_test_server_hits (CbTestServer *self,
                     const char   *path)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->hits, path));
}

const char *
cb_test_server_last_query (CbTestServer *self,
                           const char   *path)
{
  return g_hash_table_lookup (self->queries, path);
}

/* A port nothing listens on right now: bind, read the port, close. */
guint16
cb_test_free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_nonnull (socket);
  g_assert_true (g_socket_bind (socket, any, TRUE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}
