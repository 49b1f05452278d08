/* cb-web-view.c: WebKitWebView plus what GNOME Web users expect of a tab */
#define G_LOG_DOMAIN "cb-web-view"

#include "cb-config.h"
#include "cb-web-view.h"
#include "cb-address.h"
#include "cb-error-page.h"
#include "cb-https-first.h"
#include "cb-reader.h"

#include <libsoup/soup.h>
#include <string.h>

/* Firefox's and GNOME Web's zoom steps. */
static const double zoom_levels[] = {
  0.3, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.2, 1.33, 1.5, 1.7, 2.0, 2.4, 3.0,
};

struct _CbWebView {
  WebKitWebView parent_instance;
  CbWebContext *context;
  GSettings *settings;
  gboolean showing_error;
  gboolean loading_error_page; /* the next load start is our own error page */
  /* History: how the next committed page was reached. */
  CbVisitType next_visit_type;
  gboolean next_is_typed;
  char *recorded_uri;          /* the page whose visit was recorded last */
  /* HTTPS-first: an upgraded load in progress, and the http address it
   * stands for; the host whose warning page is showing. */
  char *upgrading_from;
  char *warning_host;
  char *site;                  /* of the committed page, for zoom */
};

G_DEFINE_FINAL_TYPE (CbWebView, cb_web_view, WEBKIT_TYPE_WEB_VIEW)

enum {
  PROP_0,
  PROP_SHOWING_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum { SIGNAL_PERMISSION_REQUESTED, SIGNAL_POPUP_BLOCKED, N_SIGNALS };
static guint signals[N_SIGNALS];

static CbUserProfile *
profile_of (CbWebView *self)
{
  return cb_web_context_get_profile (self->context);
}

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

static char *
host_of (const char *uri)
{
  g_autoptr(GUri) parsed = uri ? g_uri_parse (uri, G_URI_FLAGS_NONE, NULL) : NULL;

  return parsed && g_uri_get_host (parsed) ? g_ascii_strdown (g_uri_get_host (parsed), -1) : NULL;
}

/* An upgraded load failed: the site has no working https. */
static gboolean
show_https_warning (CbWebView  *self,
                    const char *detail)
{
  g_autofree char *http_uri = g_steal_pointer (&self->upgrading_from);
  g_autofree char *https_uri = NULL;
  g_autofree char *said = NULL;

  if (http_uri == NULL)
    return FALSE;
  g_free (self->warning_host);
  self->warning_host = host_of (http_uri);
  /* Say what was tried: the raw error alone ("Operation was cancelled")
   * means little. */
  https_uri = cb_https_first_upgrade (http_uri, TRUE);
  said = g_strdup_printf ("Trying %s failed: %s", https_uri ? https_uri : http_uri, detail);
  show_error_page (self, CB_ERROR_PAGE_HTTPS_ONLY, http_uri, said);
  return TRUE;
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
    {
      g_clear_pointer (&self->upgrading_from, g_free);
      return FALSE;
    }
  if (show_https_warning (self, error->message))
    return TRUE;
  show_error_page (self, CB_ERROR_PAGE_NETWORK, failing_uri, error->message);
  return TRUE;
}

static gboolean
cb_web_view_load_failed_with_tls_errors (WebKitWebView        *web_view,
                                         const char           *failing_uri,
                                         GTlsCertificate      *certificate,
                                         GTlsCertificateFlags  errors)
{
  CbWebView *self = CB_WEB_VIEW (web_view);
  g_autofree char *detail = cb_error_page_describe_tls (errors);

  /* Asked for http: a bad certificate on the upgrade means "no https",
   * not an attack on a site the person expected to be secure. */
  if (show_https_warning (self, detail))
    return TRUE;
  show_error_page (self, CB_ERROR_PAGE_TLS, failing_uri, detail);
  return TRUE;
}

/* --- history --- */

static void
visit_recorded (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!cb_history_add_visit_finish (CB_HISTORY (source), result, &error))
    g_warning ("a visit could not be recorded: %s", error->message);
}

static void
title_recorded (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!cb_history_set_title_finish (CB_HISTORY (source), result, &error))
    g_warning ("a page title could not be recorded: %s", error->message);
}

static gboolean
records_history (CbWebView *self)
{
  return g_settings_get_boolean (self->settings, "remember-history");
}

static void
record_visit (CbWebView *self)
{
  WebKitWebView *web_view = WEBKIT_WEB_VIEW (self);
  const char *uri = webkit_web_view_get_uri (web_view);
  CbVisitType type = self->next_visit_type;

  self->next_visit_type = CB_VISIT_LINK;
  g_clear_pointer (&self->recorded_uri, g_free);
  if (!cb_history_is_recordable (uri) || !records_history (self))
    return;
  self->recorded_uri = g_strdup (uri);
  cb_history_add_visit_async (cb_user_profile_get_history (profile_of (self)), uri,
                              webkit_web_view_get_title (web_view), type, 0, NULL,
                              visit_recorded, NULL);
}

static void
on_title (CbWebView  *self,
          GParamSpec *pspec,
          gpointer    user_data)
{
  const char *title = webkit_web_view_get_title (WEBKIT_WEB_VIEW (self));
  const char *uri = webkit_web_view_get_uri (WEBKIT_WEB_VIEW (self));

  if (self->showing_error || title == NULL || *title == '\0' ||
      g_strcmp0 (uri, self->recorded_uri) != 0)
    return;
  cb_history_set_title_async (cb_user_profile_get_history (profile_of (self)), uri, title, NULL,
                              title_recorded, NULL);
}

/* --- zoom --- */

static double
default_zoom (CbWebView *self)
{
  return g_settings_get_double (self->settings, "default-zoom");
}

static void
apply_site_zoom (CbWebView *self)
{
  double zoom = self->site ? cb_site_settings_get_zoom (cb_user_profile_get_site_settings (profile_of (self)),
                                                        self->site)
                           : 0.0;

  webkit_web_view_set_zoom_level (WEBKIT_WEB_VIEW (self), zoom > 0 ? zoom : default_zoom (self));
}

static void
on_site_setting (CbSiteSettings *sites,
                 const char     *site,
                 const char     *key,
                 CbWebView      *self)
{
  if (g_strcmp0 (site, self->site) == 0 && (key == NULL || g_str_equal (key, "zoom")))
    apply_site_zoom (self);
}

static void
on_sites_loaded (CbSiteSettings *sites,
                 CbWebView      *self)
{
  apply_site_zoom (self);
}

void
cb_web_view_set_site_zoom (CbWebView *self,
                           double     zoom)
{
  g_return_if_fail (CB_IS_WEB_VIEW (self));
  zoom = CLAMP (zoom, zoom_levels[0], zoom_levels[G_N_ELEMENTS (zoom_levels) - 1]);
  if (self->site == NULL)
    {
      /* No site (a blank or internal page): zoom just this view. */
      webkit_web_view_set_zoom_level (WEBKIT_WEB_VIEW (self), zoom);
      return;
    }
  /* Every tab of the site follows through the settings' "changed". */
  cb_site_settings_set_zoom (cb_user_profile_get_site_settings (profile_of (self)), self->site,
                             G_APPROX_VALUE (zoom, default_zoom (self), 0.001) ? 1.0 : zoom);
  apply_site_zoom (self);
}

void
cb_web_view_zoom_step (CbWebView *self,
                       int        direction)
{
  double current = webkit_web_view_get_zoom_level (WEBKIT_WEB_VIEW (self));
  double target = default_zoom (self);

  if (direction > 0)
    {
      target = zoom_levels[G_N_ELEMENTS (zoom_levels) - 1];
      for (gsize i = 0; i < G_N_ELEMENTS (zoom_levels); i++)
        if (zoom_levels[i] > current + 0.001)
          {
            target = zoom_levels[i];
            break;
          }
    }
  else if (direction < 0)
    {
      target = zoom_levels[0];
      for (gsize i = G_N_ELEMENTS (zoom_levels); i > 0; i--)
        if (zoom_levels[i - 1] < current - 0.001)
          {
            target = zoom_levels[i - 1];
            break;
          }
    }
  cb_web_view_set_site_zoom (self, target);
}

/* --- load events --- */

static void
on_load_changed (WebKitWebView   *web_view,
                 WebKitLoadEvent  load_event,
                 gpointer         user_data)
{
  CbWebView *self = CB_WEB_VIEW (web_view);

  if (load_event == WEBKIT_LOAD_STARTED)
    {
      /* Loading the error page starts a load of its own; any other start
       * means the error page is going away. */
      if (self->loading_error_page)
        self->loading_error_page = FALSE;
      else
        {
          set_showing_error (self, FALSE);
          g_clear_pointer (&self->warning_host, g_free);
        }
      return;
    }
  if (load_event != WEBKIT_LOAD_COMMITTED)
    return;

  g_clear_pointer (&self->site, g_free);
  self->site = cb_site_for_uri (cb_web_view_get_display_uri (self));
  apply_site_zoom (self);
  if (self->showing_error)
    {
      g_clear_pointer (&self->recorded_uri, g_free);
      return;
    }
  /* The upgraded page answered over https. */
  g_clear_pointer (&self->upgrading_from, g_free);
  record_visit (self);
}

/* --- permissions --- */

static gboolean
answer_from_settings (CbWebView               *self,
                      WebKitPermissionRequest *request,
                      const CbPermission      *permissions,
                      guint                    n)
{
  CbSiteSettings *sites = cb_user_profile_get_site_settings (profile_of (self));
  g_autofree char *site = cb_site_for_uri (webkit_web_view_get_uri (WEBKIT_WEB_VIEW (self)));
  CbPermissionState state = CB_PERMISSION_ASK;
  g_autoptr(CbPermissionPrompt) prompt = NULL;
  gboolean handled = FALSE;

  if (site == NULL)
    {
      webkit_permission_request_deny (request);
      return TRUE;
    }
  for (guint i = 0; i < n; i++)
    {
      CbPermissionState one = cb_site_settings_get_permission (sites, site, permissions[i]);

      if (i == 0)
        state = one;
      else if (one != state)
        state = CB_PERMISSION_ASK;   /* e.g. camera allowed, microphone not asked */
    }
  if (state == CB_PERMISSION_ALLOW)
    {
      webkit_permission_request_allow (request);
      return TRUE;
    }
  if (state == CB_PERMISSION_DENY)
    {
      webkit_permission_request_deny (request);
      return TRUE;
    }
  prompt = cb_permission_prompt_new (request, sites, site, permissions, n);
  g_signal_emit (self, signals[SIGNAL_PERMISSION_REQUESTED], 0, prompt, &handled);
  /* Nobody to ask: the prompt denies when it goes. */
  return TRUE;
}

static gboolean
cb_web_view_permission_request (WebKitWebView           *web_view,
                                WebKitPermissionRequest *request)
{
  CbWebView *self = CB_WEB_VIEW (web_view);
  CbSiteSettings *sites = cb_user_profile_get_site_settings (profile_of (self));
  g_autofree char *site = cb_site_for_uri (webkit_web_view_get_uri (web_view));

  if (WEBKIT_IS_GEOLOCATION_PERMISSION_REQUEST (request))
    return answer_from_settings (self, request, (CbPermission[]) { CB_PERMISSION_GEOLOCATION }, 1);
  if (WEBKIT_IS_NOTIFICATION_PERMISSION_REQUEST (request))
    return answer_from_settings (self, request, (CbPermission[]) { CB_PERMISSION_NOTIFICATIONS }, 1);
  if (WEBKIT_IS_USER_MEDIA_PERMISSION_REQUEST (request))
    {
      WebKitUserMediaPermissionRequest *media = WEBKIT_USER_MEDIA_PERMISSION_REQUEST (request);
      gboolean video = webkit_user_media_permission_is_for_video_device (media);
      gboolean audio = webkit_user_media_permission_is_for_audio_device (media);
      CbPermission both[2];
      guint n = 0;

      if (video)
        both[n++] = CB_PERMISSION_CAMERA;
      if (audio)
        both[n++] = CB_PERMISSION_MICROPHONE;
      if (n == 0)
        {
          /* Screen sharing and the like: not offered. */
          webkit_permission_request_deny (request);
          return TRUE;
        }
      return answer_from_settings (self, request, both, n);
    }
  if (WEBKIT_IS_DEVICE_INFO_PERMISSION_REQUEST (request))
    {
      /* Device names only for sites already allowed a camera or microphone. */
      if (cb_site_settings_get_permission (sites, site, CB_PERMISSION_CAMERA) == CB_PERMISSION_ALLOW ||
          cb_site_settings_get_permission (sites, site, CB_PERMISSION_MICROPHONE) == CB_PERMISSION_ALLOW)
        webkit_permission_request_allow (request);
      else
        webkit_permission_request_deny (request);
      return TRUE;
    }
  if (WEBKIT_IS_POINTER_LOCK_PERMISSION_REQUEST (request))
    {
      /* Games need it, and Escape always gives the pointer back. */
      webkit_permission_request_allow (request);
      return TRUE;
    }
  /* Clipboard reading, storage access, media keys, plug-ins: no. */
  webkit_permission_request_deny (request);
  return TRUE;
}

/* --- policy: HTTPS-first and downloads --- */

static gboolean
https_first_on (CbWebView *self)
{
  return !self->loading_error_page && g_settings_get_boolean (self->settings, "https-first");
}

/* The https:// address to load instead of @uri, or NULL. */
static char *
https_first_target (CbWebView  *self,
                    const char *uri)
{
  g_autofree char *host = host_of (uri);
  g_autofree char *upgraded = NULL;

  if (!https_first_on (self))
    return NULL;
  upgraded = cb_https_first_upgrade (uri, g_settings_get_boolean (self->settings,
                                                                  "https-first-upgrade-local"));
  if (upgraded == NULL || cb_web_context_is_http_allowed (self->context, host))
    return NULL;
  return g_steal_pointer (&upgraded);
}

static void
load_upgraded (CbWebView  *self,
               const char *http_uri,
               const char *https_uri)
{
  g_info ("HTTPS-first: %s -> %s", http_uri, https_uri);
  g_free (self->upgrading_from);
  self->upgrading_from = g_strdup (http_uri);
  webkit_web_view_load_uri (WEBKIT_WEB_VIEW (self), https_uri);
}

/* WebKit asks about navigations of every frame and does not say which
 * frame, so page-initiated upgrades are limited to what is almost always
 * the top frame: a link the person clicked.  (A click on an http link
 * inside an iframe opens its https version in the tab, not in the frame.)
 * Loads the browser starts itself are upgraded in cb_web_view_load_uri_as. */
static gboolean
decide_navigation (CbWebView                      *self,
                   WebKitNavigationPolicyDecision *decision)
{
  WebKitNavigationAction *action = webkit_navigation_policy_decision_get_navigation_action (decision);
  WebKitNavigationType type = webkit_navigation_action_get_navigation_type (action);
  const char *uri = webkit_uri_request_get_uri (webkit_navigation_action_get_request (action));
  gboolean gesture = webkit_navigation_action_is_user_gesture (action);
  g_autofree char *host = host_of (uri);
  g_autofree char *upgraded = NULL;

  /* How the page about to commit was reached, for the history. */
  if (type == WEBKIT_NAVIGATION_TYPE_RELOAD)
    self->next_visit_type = CB_VISIT_RELOAD;
  else if (self->next_is_typed)
    self->next_is_typed = FALSE;      /* our own load: keeps its type */
  else if (!webkit_navigation_action_is_redirect (action) && gesture)
    self->next_visit_type = CB_VISIT_LINK;

  if (!https_first_on (self))
    return FALSE;

  /* The warning page's "Continue" link: the person's choice, for this
   * session. */
  if (self->warning_host != NULL && g_strcmp0 (host, self->warning_host) == 0 && gesture &&
      g_ascii_strncasecmp (uri, "http://", 7) == 0)
    {
      g_info ("continuing to %s over http at the person's request", host);
      cb_web_context_allow_http (self->context, host);
      return FALSE;
    }

  /* The https version sent us back to http: it does not really work. */
  if (self->upgrading_from != NULL && webkit_navigation_action_is_redirect (action) &&
      g_ascii_strncasecmp (uri, "http://", 7) == 0)
    {
      g_autofree char *from_host = host_of (self->upgrading_from);

      if (g_strcmp0 (from_host, host) == 0)
        {
          webkit_policy_decision_ignore (WEBKIT_POLICY_DECISION (decision));
          show_https_warning (self, "The secure version of the site sends browsers back to the "
                                    "insecure one.");
          return TRUE;
        }
    }

  if (type != WEBKIT_NAVIGATION_TYPE_LINK_CLICKED || !gesture)
    return FALSE;
  upgraded = https_first_target (self, uri);
  if (upgraded == NULL)
    return FALSE;
  webkit_policy_decision_ignore (WEBKIT_POLICY_DECISION (decision));
  self->next_visit_type = CB_VISIT_LINK;
  self->next_is_typed = TRUE;
  load_upgraded (self, uri, upgraded);
  return TRUE;
}

static gboolean
is_attachment (WebKitURIResponse *response)
{
  SoupMessageHeaders *headers = webkit_uri_response_get_http_headers (response);
  g_autofree char *disposition = NULL;

  if (headers == NULL)
    return FALSE;
  if (!soup_message_headers_get_content_disposition (headers, &disposition, NULL))
    return FALSE;
  return g_ascii_strcasecmp (disposition, "attachment") == 0;
}

static gboolean
cb_web_view_decide_policy (WebKitWebView            *web_view,
                           WebKitPolicyDecision     *decision,
                           WebKitPolicyDecisionType  type)
{
  CbWebView *self = CB_WEB_VIEW (web_view);

  if (type == WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION)
    return decide_navigation (self, WEBKIT_NAVIGATION_POLICY_DECISION (decision));
  if (type == WEBKIT_POLICY_DECISION_TYPE_RESPONSE)
    {
      WebKitResponsePolicyDecision *response = WEBKIT_RESPONSE_POLICY_DECISION (decision);

      /* What cannot be shown, or is sent to be saved, is downloaded. */
      if (webkit_response_policy_decision_is_main_frame_main_resource (response) &&
          (!webkit_response_policy_decision_is_mime_type_supported (response) ||
           is_attachment (webkit_response_policy_decision_get_response (response))))
        {
          webkit_policy_decision_download (decision);
          return TRUE;
        }
    }
  return FALSE;
}

/* --- pop-ups --- */

gboolean
cb_web_view_allows_popup (CbWebView              *self,
                          WebKitNavigationAction *action)
{
  g_autofree char *site = NULL;

  g_return_val_if_fail (CB_IS_WEB_VIEW (self), FALSE);
  if (webkit_navigation_action_is_user_gesture (action) ||
      !g_settings_get_boolean (self->settings, "block-popups"))
    return TRUE;
  site = cb_site_for_uri (webkit_web_view_get_uri (WEBKIT_WEB_VIEW (self)));
  if (site != NULL && cb_site_settings_get_popups_allowed (cb_user_profile_get_site_settings (profile_of (self)),
                                                           site))
    return TRUE;
  g_info ("blocked a pop-up of %s to %s", site,
          webkit_uri_request_get_uri (webkit_navigation_action_get_request (action)));
  g_signal_emit (self, signals[SIGNAL_POPUP_BLOCKED], 0,
                 webkit_uri_request_get_uri (webkit_navigation_action_get_request (action)));
  return FALSE;
}

/* --- object --- */

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
cb_web_view_dispose (GObject *object)
{
  CbWebView *self = CB_WEB_VIEW (object);

  g_clear_object (&self->context);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (cb_web_view_parent_class)->dispose (object);
}

static void
cb_web_view_finalize (GObject *object)
{
  CbWebView *self = CB_WEB_VIEW (object);

  g_free (self->recorded_uri);
  g_free (self->upgrading_from);
  g_free (self->warning_host);
  g_free (self->site);
  G_OBJECT_CLASS (cb_web_view_parent_class)->finalize (object);
}

static void
cb_web_view_class_init (CbWebViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  WebKitWebViewClass *web_view_class = WEBKIT_WEB_VIEW_CLASS (klass);

  object_class->get_property = cb_web_view_get_property;
  object_class->dispose = cb_web_view_dispose;
  object_class->finalize = cb_web_view_finalize;
  web_view_class->load_failed = cb_web_view_load_failed;
  web_view_class->load_failed_with_tls_errors = cb_web_view_load_failed_with_tls_errors;
  web_view_class->permission_request = cb_web_view_permission_request;
  web_view_class->decide_policy = cb_web_view_decide_policy;

  properties[PROP_SHOWING_ERROR] =
    g_param_spec_boolean ("showing-error", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A site asks for a permission nothing is remembered for; the handler
   * shows the prompt and returns TRUE (or it is denied). */
  signals[SIGNAL_PERMISSION_REQUESTED] =
    g_signal_new ("permission-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 1,
                  CB_TYPE_PERMISSION_PROMPT);
  /* A page tried to open a window without being clicked (the address). */
  signals[SIGNAL_POPUP_BLOCKED] =
    g_signal_new ("popup-blocked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
cb_web_view_init (CbWebView *self)
{
  self->settings = g_settings_new (CB_SCHEMA_ID);
  self->next_visit_type = CB_VISIT_LINK;
  g_signal_connect (self, "load-changed", G_CALLBACK (on_load_changed), NULL);
  g_signal_connect (self, "notify::title", G_CALLBACK (on_title), NULL);
}

static void
bind_context (CbWebView    *self,
              CbWebContext *context)
{
  CbSiteSettings *sites = cb_user_profile_get_site_settings (cb_web_context_get_profile (context));

  self->context = g_object_ref (context);
  g_signal_connect_object (sites, "changed", G_CALLBACK (on_site_setting), self, 0);
  g_signal_connect_object (sites, "loaded", G_CALLBACK (on_sites_loaded), self, 0);
  g_signal_connect_object (self->settings, "changed::default-zoom", G_CALLBACK (apply_site_zoom),
                           self, G_CONNECT_SWAPPED);
}

GtkWidget *
cb_web_view_new (CbWebContext *context)
{
  CbWebView *self = g_object_new (CB_TYPE_WEB_VIEW,
                                  "web-context", cb_web_context_get_web_context (context),
                                  "network-session", cb_web_context_get_network_session (context),
                                  "settings", cb_web_context_get_settings (context),
                                  "user-content-manager",
                                  cb_web_context_get_user_content_manager (context),
                                  NULL);

  bind_context (self, context);
  return GTK_WIDGET (self);
}

/* For window.open() and target=_blank: the new view shares the opener's
 * web process (when the page allows it) and its network session. */
GtkWidget *
cb_web_view_new_related (CbWebView *opener)
{
  WebKitWebView *web_view = WEBKIT_WEB_VIEW (opener);
  CbWebView *self = g_object_new (CB_TYPE_WEB_VIEW,
                                  "related-view", opener,
                                  "settings", webkit_web_view_get_settings (web_view),
                                  "user-content-manager",
                                  webkit_web_view_get_user_content_manager (web_view),
                                  NULL);

  bind_context (self, opener->context);
  return GTK_WIDGET (self);
}

CbWebContext *
cb_web_view_get_context (CbWebView *self)
{
  g_return_val_if_fail (CB_IS_WEB_VIEW (self), NULL);
  return self->context;
}

void
cb_web_view_load_uri_as (CbWebView   *self,
                         const char  *uri,
                         CbVisitType  type)
{
  g_autofree char *upgraded = NULL;

  g_return_if_fail (CB_IS_WEB_VIEW (self));
  self->next_visit_type = type;
  self->next_is_typed = TRUE;
  upgraded = https_first_target (self, uri);
  if (upgraded != NULL)
    load_upgraded (self, uri, upgraded);
  else
    webkit_web_view_load_uri (WEBKIT_WEB_VIEW (self), uri);
}

void
cb_web_view_load_address (CbWebView  *self,
                          const char *text,
                          const char *search_template)
{
  g_autofree char *uri = cb_address_to_uri (text, search_template);

  if (uri != NULL)
    cb_web_view_load_uri_as (self, uri, CB_VISIT_TYPED);
}

gboolean
cb_web_view_is_showing_error (CbWebView *self)
{
  g_return_val_if_fail (CB_IS_WEB_VIEW (self), FALSE);
  return self->showing_error;
}

const char *
cb_web_view_get_display_uri (CbWebView *self)
{
  const char *uri = webkit_web_view_get_uri (WEBKIT_WEB_VIEW (self));
  const char *original = cb_reader_original_uri (uri);

  return original ? original : uri;
}

gboolean
cb_web_view_is_reader (CbWebView *self)
{
  return cb_reader_original_uri (webkit_web_view_get_uri (WEBKIT_WEB_VIEW (self))) != NULL;
}

/* What a tab and the window call this page: its title, else its address. */
const char *
cb_web_view_get_display_title (CbWebView *self)
{
  WebKitWebView *web_view = WEBKIT_WEB_VIEW (self);
  const char *title = webkit_web_view_get_title (web_view);
  const char *uri = cb_web_view_get_display_uri (self);

  if (title != NULL && *title != '\0')
    return title;
  if (uri != NULL && *uri != '\0' && g_strcmp0 (uri, "about:blank") != 0)
    return uri;
  return "New Tab";
}
