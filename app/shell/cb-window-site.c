/* cb-window-site.c: what sites ask for, and what the window tells
 *
 * A banner under the header bar asks about permission requests nothing is
 * remembered for ("127.0.0.1 wants to know your location") — Deny, Allow,
 * and whether to remember it — and says when a pop-up was blocked, with
 * a way to allow the site's pop-ups.  The banner belongs to a tab: it
 * shows while its tab is selected, and a tab that loads another page
 * drops (and denies) its question.  The icon before the address opens
 * the site's popover. */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-window-private.h"
#include "cb-site-popover.h"

typedef enum {
  BANNER_PERMISSION,
  BANNER_POPUP,
} BannerKind;

/* What a tab has to say; kept on the view as object data. */
typedef struct {
  BannerKind kind;
  CbPermissionPrompt *prompt;   /* BANNER_PERMISSION */
  char *popup_uri;              /* BANNER_POPUP */
  char *site;
} Banner;

static void
banner_free (gpointer data)
{
  Banner *banner = data;

  g_clear_object (&banner->prompt);   /* unanswered: denied */
  g_free (banner->popup_uri);
  g_free (banner->site);
  g_free (banner);
}

static Banner *
banner_of (CbWebView *view)
{
  return view ? g_object_get_data (G_OBJECT (view), "cb-banner") : NULL;
}

static void
set_banner (CbWebView *view,
            Banner    *banner)
{
  g_object_set_data_full (G_OBJECT (view), "cb-banner", banner, banner_free);
}

static void
update_banner (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);
  Banner *banner = banner_of (view);

  if (banner == NULL)
    {
      gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
      return;
    }
  if (banner->kind == BANNER_PERMISSION)
    {
      g_autofree char *text = cb_permission_prompt_describe (banner->prompt);
      const char *icon = "dialog-question-symbolic";

      if (cb_permission_prompt_has (banner->prompt, CB_PERMISSION_GEOLOCATION))
        icon = "find-location-symbolic";
      else if (cb_permission_prompt_has (banner->prompt, CB_PERMISSION_CAMERA))
        icon = "camera-web-symbolic";
      else if (cb_permission_prompt_has (banner->prompt, CB_PERMISSION_MICROPHONE))
        icon = "audio-input-microphone-symbolic";
      else if (cb_permission_prompt_has (banner->prompt, CB_PERMISSION_NOTIFICATIONS))
        icon = "preferences-system-notifications-symbolic";
      gtk_image_set_from_icon_name (self->banner_icon, icon);
      gtk_label_set_text (self->banner_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->banner_remember), TRUE);
      gtk_button_set_label (self->banner_deny, "_Deny");
      gtk_button_set_label (self->banner_allow, "_Allow");
    }
  else
    {
      gtk_image_set_from_icon_name (self->banner_icon, "window-new-symbolic");
      gtk_label_set_text (self->banner_label, "A pop-up window was blocked.");
      gtk_widget_set_visible (GTK_WIDGET (self->banner_remember), FALSE);
      gtk_button_set_label (self->banner_deny, "_Dismiss");
      gtk_button_set_label (self->banner_allow, "_Allow Pop-ups for This Site");
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->banner_revealer),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  gtk_label_get_text (self->banner_label), -1);
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
}

static gboolean
on_permission_requested (CbWebView          *view,
                         CbPermissionPrompt *prompt,
                         CbWindow           *self)
{
  Banner *banner = g_new0 (Banner, 1);

  banner->kind = BANNER_PERMISSION;
  banner->prompt = g_object_ref (prompt);
  banner->site = g_strdup (cb_permission_prompt_get_site (prompt));
  set_banner (view, banner);
  if (view == cb_window_get_active_view (self))
    update_banner (self);
  return TRUE;
}

static void
on_popup_blocked (CbWebView  *view,
                  const char *uri,
                  CbWindow   *self)
{
  Banner *banner = banner_of (view);

  /* A question about a permission is more important than a pop-up. */
  if (banner != NULL && banner->kind == BANNER_PERMISSION)
    return;
  banner = g_new0 (Banner, 1);
  banner->kind = BANNER_POPUP;
  banner->popup_uri = g_strdup (uri);
  banner->site = cb_site_for_uri (webkit_web_view_get_uri (WEBKIT_WEB_VIEW (view)));
  set_banner (view, banner);
  if (view == cb_window_get_active_view (self))
    update_banner (self);
}

static void
on_load_changed (CbWebView       *view,
                 WebKitLoadEvent  event,
                 CbWindow        *self)
{
  Banner *banner = banner_of (view);
  g_autofree char *site = NULL;

  if (event != WEBKIT_LOAD_COMMITTED || banner == NULL)
    return;
  /* Another page: the question was the old page's. */
  site = cb_site_for_uri (webkit_web_view_get_uri (WEBKIT_WEB_VIEW (view)));
  if (banner->kind == BANNER_PERMISSION || g_strcmp0 (site, banner->site) != 0)
    set_banner (view, NULL);
  if (view == cb_window_get_active_view (self))
    update_banner (self);
}

static void
answer (CbWindow *self,
        gboolean  allow)
{
  CbWebView *view = cb_window_get_active_view (self);
  Banner *banner = banner_of (view);
  g_autofree char *popup = NULL;

  if (banner == NULL)
    return;
  if (banner->kind == BANNER_PERMISSION)
    cb_permission_prompt_answer (banner->prompt, allow,
                                 gtk_check_button_get_active (self->banner_remember));
  else if (allow)
    {
      CbSiteSettings *sites = cb_user_profile_get_site_settings (_cb_window_get_profile (self));

      cb_site_settings_set_popups_allowed (sites, banner->site, TRUE);
      popup = g_strdup (banner->popup_uri);
    }
  set_banner (view, NULL);
  update_banner (self);
  if (popup != NULL)
    cb_window_open_tab (self, popup, TRUE);
  else if (view != NULL)
    gtk_widget_grab_focus (GTK_WIDGET (view));
}

static void
action_banner_allow (GtkWidget *widget, const char *name, GVariant *param)
{
  answer (CB_WINDOW (widget), TRUE);
}

static void
action_banner_deny (GtkWidget *widget, const char *name, GVariant *param)
{
  answer (CB_WINDOW (widget), FALSE);
}

/* --- the site popover --- */

static void
reload_when_filter_ready (CbContentBlocker *blocker,
                          CbWebView        *view)
{
  g_signal_handlers_disconnect_by_func (blocker, reload_when_filter_ready, view);
  webkit_web_view_reload (WEBKIT_WEB_VIEW (view));
}

static void
on_blocker_changed (CbSitePopover *popover,
                    CbWindow      *self)
{
  CbWebView *view = cb_window_get_active_view (self);
  CbContentBlocker *blocker = cb_web_context_get_content_blocker (self->context);

  if (view == NULL)
    return;
  /* The new filter compiles in the background; the page reloads with it. */
  if (cb_content_blocker_is_ready (blocker))
    webkit_web_view_reload (WEBKIT_WEB_VIEW (view));
  else
    g_signal_connect_object (blocker, "updated", G_CALLBACK (reload_when_filter_ready), view, 0);
}

static void
on_site_popover_closed (GtkPopover *popover,
                        CbWindow   *self)
{
  /* Not when it closes because it is being unparented (a new one, the
   * window going). */
  if (self->site_popover == GTK_WIDGET (popover))
    {
      self->site_popover = NULL;
      gtk_widget_unparent (GTK_WIDGET (popover));
    }
}

static void
action_site_info (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  CbWindow *self = CB_WINDOW (widget);
  CbWebView *view = cb_window_get_active_view (self);
  const char *uri = view ? cb_web_view_get_display_uri (view) : NULL;
  g_autofree char *site = cb_site_for_uri (uri);
  const char *security;
  GTlsCertificate *certificate = NULL;
  GTlsCertificateFlags errors = 0;
  GtkWidget *popover;
  GdkRectangle area;

  if (site == NULL)
    return;
  if (g_str_has_prefix (uri, "https:") &&
      webkit_web_view_get_tls_info (WEBKIT_WEB_VIEW (view), &certificate, &errors) && errors == 0)
    security = "The connection to this site is secure.";
  else if (g_str_has_prefix (uri, "https:"))
    security = "The connection to this site is encrypted, but its certificate was not verified.";
  else if (g_str_has_prefix (uri, "http:"))
    security = "The connection to this site is not secure: what you send and receive can be read "
               "by others on the network.";
  else
    security = "";
  g_clear_pointer (&self->site_popover, gtk_widget_unparent);
  popover = cb_site_popover_new (cb_user_profile_get_site_settings (_cb_window_get_profile (self)),
                                 cb_web_context_get_content_blocker (self->context), site, security);
  gtk_widget_set_parent (popover, GTK_WIDGET (self->address_entry));
  gtk_entry_get_icon_area (self->address_entry, GTK_ENTRY_ICON_PRIMARY, &area);
  gtk_popover_set_pointing_to (GTK_POPOVER (popover), &area);
  gtk_popover_set_position (GTK_POPOVER (popover), GTK_POS_BOTTOM);
  g_signal_connect_object (popover, "blocker-changed", G_CALLBACK (on_blocker_changed), self, 0);
  g_signal_connect_object (popover, "closed", G_CALLBACK (on_site_popover_closed), self,
                           G_CONNECT_AFTER);
  self->site_popover = popover;
  gtk_popover_popup (GTK_POPOVER (popover));
}

static void
on_icon_press (GtkEntry             *entry,
               GtkEntryIconPosition  position,
               CbWindow             *self)
{
  if (position == GTK_ENTRY_ICON_PRIMARY)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.site-info", NULL);
}

GtkWidget *
cb_window_get_site_popover (CbWindow *self)
{
  return self->site_popover;
}

/* --- hooks --- */

void
_cb_window_site_add_view (CbWindow  *self,
                          CbWebView *view)
{
  g_signal_connect_object (view, "permission-requested", G_CALLBACK (on_permission_requested),
                           self, 0);
  g_signal_connect_object (view, "popup-blocked", G_CALLBACK (on_popup_blocked), self, 0);
  g_signal_connect_object (view, "load-changed", G_CALLBACK (on_load_changed), self, 0);
}

void
_cb_window_site_update (CbWindow *self)
{
  update_banner (self);
}

void
_cb_window_site_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.banner-allow", NULL, action_banner_allow);
  gtk_widget_class_install_action (widget_class, "win.banner-deny", NULL, action_banner_deny);
  gtk_widget_class_install_action (widget_class, "win.site-info", NULL, action_site_info);
}

void
_cb_window_site_init (CbWindow *self)
{
  g_signal_connect (self->address_entry, "icon-press", G_CALLBACK (on_icon_press), self);
  gtk_entry_set_icon_activatable (self->address_entry, GTK_ENTRY_ICON_PRIMARY, TRUE);
}

GtkRevealer *
cb_window_get_banner (CbWindow *self)
{
  return self->banner_revealer;
}

const char *
cb_window_get_banner_text (CbWindow *self)
{
  return gtk_revealer_get_reveal_child (self->banner_revealer)
           ? gtk_label_get_text (self->banner_label) : NULL;
}

void
cb_window_set_banner_remember (CbWindow *self,
                               gboolean  remember)
{
  gtk_check_button_set_active (self->banner_remember, remember);
}
