/* cb-cloud-scheme.c: serves cloud:<page> from a table of page builders
 *
 * Higher layers (the node dashboard, the app catalog) register the pages
 * they own; this file only routes requests and renders the ones that exist
 * before those layers do. */
#define G_LOG_DOMAIN "cb-cloud-scheme"

#include "cb-cloud-scheme.h"
#include "cb-error-page.h"

#include <string.h>

typedef struct {
  CbCloudPageFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} PageEntry;

struct _CbCloudScheme {
  GObject parent_instance;
  GHashTable *pages; /* page name -> PageEntry */
};

G_DEFINE_FINAL_TYPE (CbCloudScheme, cb_cloud_scheme, G_TYPE_OBJECT)

enum { SIGNAL_PAGE_SERVED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
page_entry_free (gpointer data)
{
  PageEntry *entry = data;

  if (entry->destroy)
    entry->destroy (entry->user_data);
  g_free (entry);
}

static char *
render_simple_page (const char *title,
                    const char *body_html)
{
  return g_strdup_printf (
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
    "<meta name=\"color-scheme\" content=\"light dark\">"
    "<title>%s</title><style>"
    "body{font-family:system-ui,sans-serif;max-width:46em;margin:8vh auto;padding:0 2em;line-height:1.5}"
    "h1{font-size:1.8em}"
    "</style></head><body><h1>%s</h1>%s</body></html>\n",
    title, title, body_html);
}

/* Until the node and the catalog register live pages, these say plainly
 * what this profile has. */
static char *
node_page (const char *page, gpointer user_data, GError **error)
{
  return render_simple_page ("Cloud Node",
    "<p id=\"state\">No cloud node is running in this profile yet.</p>"
    "<p>When it runs, this page shows the node's id, its roles and its peers.</p>");
}

static char *
apps_page (const char *page, gpointer user_data, GError **error)
{
  return render_simple_page ("Cloud Apps",
    "<p id=\"state\">No cloud apps are installed.</p>"
    "<p>Cloud apps are systems installed from signed repositories; "
    "this page is where you browse, install and remove them.</p>");
}

static void
cb_cloud_scheme_finalize (GObject *object)
{
  CbCloudScheme *self = CB_CLOUD_SCHEME (object);

  g_clear_pointer (&self->pages, g_hash_table_unref);
  G_OBJECT_CLASS (cb_cloud_scheme_parent_class)->finalize (object);
}

static void
cb_cloud_scheme_class_init (CbCloudSchemeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cb_cloud_scheme_finalize;

  /* After a registered page was served to a view: live pages use it to
   * know where to push updates. */
  signals[SIGNAL_PAGE_SERVED] = g_signal_new ("page-served", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 2, G_TYPE_STRING,
                                              WEBKIT_TYPE_WEB_VIEW);
}

static void
cb_cloud_scheme_init (CbCloudScheme *self)
{
  self->pages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, page_entry_free);
  cb_cloud_scheme_add_page (self, "node", node_page, NULL, NULL);
  cb_cloud_scheme_add_page (self, "apps", apps_page, NULL, NULL);
}

CbCloudScheme *
cb_cloud_scheme_new (void)
{
  return g_object_new (CB_TYPE_CLOUD_SCHEME, NULL);
}

void
cb_cloud_scheme_add_page (CbCloudScheme  *self,
                          const char     *page,
                          CbCloudPageFunc func,
                          gpointer        user_data,
                          GDestroyNotify  destroy)
{
  PageEntry *entry = g_new0 (PageEntry, 1);

  g_return_if_fail (CB_IS_CLOUD_SCHEME (self));
  entry->func = func;
  entry->user_data = user_data;
  entry->destroy = destroy;
  g_hash_table_replace (self->pages, g_strdup (page), entry);
}

/* "cloud:node", "cloud://node/", "cloud:node?x#y" -> "node" */
char *
cb_cloud_scheme_page_of (const char *uri)
{
  const char *rest;
  gsize len;

  if (uri == NULL || g_ascii_strncasecmp (uri, "cloud:", 6) != 0)
    return NULL;
  rest = uri + 6;
  while (*rest == '/')
    rest++;
  len = strcspn (rest, "/?#");
  return g_ascii_strdown (rest, (gssize)len);
}

static void
handle_request (WebKitURISchemeRequest *request,
                gpointer                user_data)
{
  CbCloudScheme *self = user_data;
  const char *uri = webkit_uri_scheme_request_get_uri (request);
  g_autofree char *page = cb_cloud_scheme_page_of (uri);
  PageEntry *entry = page ? g_hash_table_lookup (self->pages, page) : NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *html = NULL;
  g_autoptr(GInputStream) stream = NULL;
  gsize len;

  if (entry == NULL)
    html = cb_error_page_build (CB_ERROR_PAGE_NOT_FOUND, uri, "");
  else
    html = entry->func (page, entry->user_data, &error);

  if (html == NULL)
    {
      webkit_uri_scheme_request_finish_error (request, error);
      return;
    }

  len = strlen (html);
  stream = g_memory_input_stream_new_from_data (g_steal_pointer (&html), (gssize)len, g_free);
  webkit_uri_scheme_request_finish (request, stream, (gint64)len, "text/html");
  if (entry != NULL)
    g_signal_emit (self, signals[SIGNAL_PAGE_SERVED], 0, page,
                   webkit_uri_scheme_request_get_web_view (request));
}

void
cb_cloud_scheme_attach (CbCloudScheme    *self,
                        WebKitWebContext *context)
{
  WebKitSecurityManager *security = webkit_web_context_get_security_manager (context);

  webkit_web_context_register_uri_scheme (context, "cloud", handle_request,
                                          g_object_ref (self), g_object_unref);
  /* Local: web sites cannot load or link into internal pages.
   * Secure: internal pages count as a secure context. */
  webkit_security_manager_register_uri_scheme_as_local (security, "cloud");
  webkit_security_manager_register_uri_scheme_as_secure (security, "cloud");
}
