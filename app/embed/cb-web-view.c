/* cb-web-view.c: WebKitWebView plus the error pages GNOME Web users expect */
#define G_LOG_DOMAIN "cb-web-view"

#include "cb-web-view.h"
#include "cb-address.h"
#include "cb-error-page.h"

struct _CbWebView {
  WebKitWebView parent_instance;
  gboolean showing_error;
  gboolean loading_error_page; /* the next load start is our own error page */
};

G_DEFINE_FINAL_TYPE (CbWebView, cb_web_view, WEBKIT_TYPE_WEB_VIEW)

enum {
  PROP_0,
  PROP_SHOWING_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_showing_error (CbWebView *self,
                   gboolean   showing_error)
{
  if (self->showing_error == showing_error)
    return;
  self->showing_error = showing_error;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOWING_ERROR]);
}

static void
show_error_page (CbWebView       *self,
                 CbErrorPageKind  kind,
                 const char      *failing_uri,
                 const char      *detail)
{
  g_autofree char *html = cb_error_page_build (kind, failing_uri, detail);

  g_info ("showing error page for %s: %s", failing_uri, detail);
  set_showing_error (self, TRUE);
  self->loading_error_page = TRUE;
  /* Content URI = the failing URI: the address entry keeps it, back/forward
   * treat it as that page, and Try Again reloads the real site. */
  webkit_web_view_load_alternate_html (WEBKIT_WEB_VIEW (self), html, failing_uri, NULL);
}

static gboolean
cb_web_view_load_failed (WebKitWebView   *web_view,
                         WebKitLoadEvent  load_event,
                         const char      *failing_uri,
                         GError          *error)
{
  CbWebView *self = CB_WEB_VIEW (web_view);

  /* Not failures from the user's point of view: Stop was pressed, a
   * download took over the load, or the media player will handle it. */
  if (g_error_matches (error, WEBKIT_NETWORK_ERROR, WEBKIT_NETWORK_ERROR_CANCELLED) ||
      g_error_matches (error, WEBKIT_POLICY_ERROR, WEBKIT_POLICY_ERROR_FRAME_LOAD_INTERRUPTED_BY_POLICY_CHANGE) ||
      g_error_matches (error, WEBKIT_MEDIA_ERROR, WEBKIT_MEDIA_ERROR_WILL_HANDLE_LOAD))
    return FALSE;

  show_error_page (self, CB_ERROR_PAGE_NETWORK, failing_uri, error->message);
  return TRUE;
}

static gboolean
cb_web_view_load_failed_with_tls_errors (WebKitWebView        *web_view,
                                         const char           *failing_uri,
                                         GTlsCertificate      *certificate,
                                         GTlsCertificateFlags  errors)
{
  g_autofree char *detail = cb_error_page_describe_tls (errors);

  show_error_page (CB_WEB_VIEW (web_view), CB_ERROR_PAGE_TLS, failing_uri, detail);
  return TRUE;
}

static void
on_load_changed (WebKitWebView   *web_view,
                 WebKitLoadEvent  load_event,
                 gpointer         user_data)
{
  CbWebView *self = CB_WEB_VIEW (web_view);

  if (load_event != WEBKIT_LOAD_STARTED)
    return;
  /* Loading the error page starts a load of its own; any other start
   * means the error page is going away. */
  if (self->loading_error_page)
    self->loading_error_page = FALSE;
  else
    set_showing_error (self, FALSE);
}

static void
cb_web_view_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  CbWebView *self = CB_WEB_VIEW (object);

  switch (prop_id)
    {
    case PROP_SHOWING_ERROR:
      g_value_set_boolean (value, self->showing_error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cb_web_view_class_init (CbWebViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  WebKitWebViewClass *web_view_class = WEBKIT_WEB_VIEW_CLASS (klass);

  object_class->get_property = cb_web_view_get_property;
  web_view_class->load_failed = cb_web_view_load_failed;
  web_view_class->load_failed_with_tls_errors = cb_web_view_load_failed_with_tls_errors;

  properties[PROP_SHOWING_ERROR] =
    g_param_spec_boolean ("showing-error", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cb_web_view_init (CbWebView *self)
{
  g_signal_connect (self, "load-changed", G_CALLBACK (on_load_changed), NULL);
}

GtkWidget *
cb_web_view_new (CbWebContext *context)
{
  return g_object_new (CB_TYPE_WEB_VIEW,
                       "web-context", cb_web_context_get_web_context (context),
                       "network-session", cb_web_context_get_network_session (context),
                       "user-content-manager", cb_web_context_get_user_content_manager (context),
                       NULL);
}

/* For window.open() and target=_blank: the new view shares the opener's
 * web process (when the page allows it) and its network session. */
GtkWidget *
cb_web_view_new_related (CbWebView *opener)
{
  WebKitWebView *web_view = WEBKIT_WEB_VIEW (opener);

  return g_object_new (CB_TYPE_WEB_VIEW,
                       "related-view", opener,
                       "settings", webkit_web_view_get_settings (web_view),
                       "user-content-manager", webkit_web_view_get_user_content_manager (web_view),
                       NULL);
}

void
cb_web_view_load_address (CbWebView  *self,
                          const char *text,
                          const char *search_template)
{
  g_autofree char *uri = cb_address_to_uri (text, search_template);

  if (uri != NULL)
    webkit_web_view_load_uri (WEBKIT_WEB_VIEW (self), uri);
}

gboolean
cb_web_view_is_showing_error (CbWebView *self)
{
  g_return_val_if_fail (CB_IS_WEB_VIEW (self), FALSE);
  return self->showing_error;
}

/* What a tab and the window call this page: its title, else its address. */
const char *
cb_web_view_get_display_title (CbWebView *self)
{
  WebKitWebView *web_view = WEBKIT_WEB_VIEW (self);
  const char *title = webkit_web_view_get_title (web_view);
  const char *uri = webkit_web_view_get_uri (web_view);

  if (title != NULL && *title != '\0')
    return title;
  if (uri != NULL && *uri != '\0' && g_strcmp0 (uri, "about:blank") != 0)
    return uri;
  return "New Tab";
}
