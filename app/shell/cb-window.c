/* cb-window.c: tabs of CbWebViews under one header bar
 *
 * The header bar always reflects the selected tab: its address, its load
 * progress, whether it can go back or forward, and whether the reload
 * button should stop instead.  Each tab's page keeps its own title,
 * favicon and loading state. */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-window-private.h"
#include "cb-resources.h"



G_DEFINE_FINAL_TYPE (CbWindow, cb_window, ADW_TYPE_APPLICATION_WINDOW)

enum { SIGNAL_STATE_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum {
  PROP_0,
  PROP_CONTEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Something the session keeps changed: tabs, their order, the selected
 * one, a tab's page or title. */
static void
emit_state_changed (CbWindow *self)
{
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
}

static AdwTabPage *
page_of_view (CbWindow  *self,
              CbWebView *view)
{
  /* A view not (or no longer) in a tab has no parent; asking the tab view
   * about it would be a programming error. */
  if (gtk_widget_get_parent (GTK_WIDGET (view)) == NULL)
    return NULL;
  return adw_tab_view_get_page (self->tab_view, GTK_WIDGET (view));
}

static gboolean
is_active_view (CbWindow  *self,
                CbWebView *view)
{
  return cb_window_get_active_view (self) == view;
}

CbWebView *
cb_window_get_active_view (CbWindow *self)
{
  AdwTabPage *page = adw_tab_view_get_selected_page (self->tab_view);

  return page ? CB_WEB_VIEW (adw_tab_page_get_child (page)) : NULL;
}

/* GtkEntry keeps focus on an inner GtkText, never on itself. */
static gboolean
address_entry_has_focus (CbWindow *self)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  return focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (self->address_entry));
}

/* --- header bar state, always for the selected tab --- */

static void
update_window_title (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);
  const char *title = view ? cb_web_view_get_display_title (view) : "Cloud Bevy";

  if (cb_web_context_is_private (self->context))
    {
      g_autofree char *marked = g_strdup_printf ("%s — Private", title);
      gtk_window_set_title (GTK_WINDOW (self), marked);
      return;
    }
  gtk_window_set_title (GTK_WINDOW (self), title);
}

/* The lock (or not) before the address: what kind of connection the page
 * came over. */
static void
update_security (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);
  const char *uri = view ? cb_web_view_get_display_uri (view) : NULL;
  const char *icon = "system-search-symbolic";
  const char *tooltip = "Search or enter address";
  GTlsCertificate *certificate = NULL;
  GTlsCertificateFlags errors = 0;

  if (uri != NULL && g_str_has_prefix (uri, "https://") &&
      webkit_web_view_get_tls_info (WEBKIT_WEB_VIEW (view), &certificate, &errors) && errors == 0)
    {
      icon = "channel-secure-symbolic";
      tooltip = "Secure connection: site information";
    }
  else if (uri != NULL && (g_str_has_prefix (uri, "http://") || g_str_has_prefix (uri, "https://")))
    {
      icon = "channel-insecure-symbolic";
      tooltip = "Connection not secure: site information";
    }
  else if (uri != NULL && *uri != '\0' && g_strcmp0 (uri, "about:blank") != 0)
    {
      icon = "dialog-information-symbolic";
      tooltip = "Site information";
    }
  gtk_entry_set_icon_from_icon_name (self->address_entry, GTK_ENTRY_ICON_PRIMARY, icon);
  gtk_entry_set_icon_tooltip_text (self->address_entry, GTK_ENTRY_ICON_PRIMARY, tooltip);
}

static void
update_address (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);
  const char *uri = view ? cb_web_view_get_display_uri (view) : NULL;

  update_security (self);
  _cb_window_bookmarks_update (self);
  /* Do not overwrite what the person is typing. */
  if (address_entry_has_focus (self) &&
      gtk_entry_buffer_get_length (gtk_entry_get_buffer (self->address_entry)) > 0 &&
      (self->completion == NULL || cb_address_completion_is_edited (self->completion)))
    return;
  if (uri == NULL || g_strcmp0 (uri, "about:blank") == 0)
    uri = "";
  if (self->completion != NULL)
    cb_address_completion_set_text (self->completion, uri);
  else
    gtk_editable_set_text (GTK_EDITABLE (self->address_entry), uri);
}

static void
update_progress (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);
  WebKitWebView *web_view = WEBKIT_WEB_VIEW (view);
  double progress = 0.0;

  if (view && webkit_web_view_is_loading (web_view))
    progress = webkit_web_view_get_estimated_load_progress (web_view);
  /* A full bar right after a load finished looks stuck; clear it. */
  gtk_entry_set_progress_fraction (self->address_entry, progress < 1.0 ? progress : 0.0);
}

static void
update_navigation (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);
  WebKitWebView *web_view = WEBKIT_WEB_VIEW (view);
  gboolean loading = view && webkit_web_view_is_loading (web_view);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.back",
                                 view && webkit_web_view_can_go_back (web_view));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.forward",
                                 view && webkit_web_view_can_go_forward (web_view));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop", loading);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->reload_button),
                                  loading ? "win.stop" : "win.reload");
  gtk_button_set_icon_name (self->reload_button,
                            loading ? "process-stop-symbolic" : "view-refresh-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->reload_button), loading ? "Stop" : "Reload");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->reload_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, loading ? "Stop" : "Reload",
                                  -1);
}

static void
update_all (CbWindow *self)
{
  update_window_title (self);
  update_address (self);
  update_progress (self);
  update_navigation (self);
  _cb_window_zoom_update (self);
  _cb_window_page_update (self);
  _cb_window_site_update (self);
}

/* --- per-view signals --- */

static void
on_view_title (CbWebView  *view,
               GParamSpec *pspec,
               CbWindow   *self)
{
  AdwTabPage *page = page_of_view (self, view);

  if (page)
    adw_tab_page_set_title (page, cb_web_view_get_display_title (view));
  if (is_active_view (self, view))
    update_window_title (self);
  emit_state_changed (self);
}

static void
on_view_uri (CbWebView  *view,
             GParamSpec *pspec,
             CbWindow   *self)
{
  on_view_title (view, NULL, self);
  if (is_active_view (self, view))
    {
      update_address (self);
      update_navigation (self);
    }
}

static void
on_view_favicon (CbWebView  *view,
                 GParamSpec *pspec,
                 CbWindow   *self)
{
  AdwTabPage *page = page_of_view (self, view);
  GdkTexture *favicon = webkit_web_view_get_favicon (WEBKIT_WEB_VIEW (view));

  if (page)
    adw_tab_page_set_icon (page, favicon ? G_ICON (favicon) : NULL);
}

static void
on_view_loading (CbWebView  *view,
                 GParamSpec *pspec,
                 CbWindow   *self)
{
  AdwTabPage *page = page_of_view (self, view);

  if (page)
    adw_tab_page_set_loading (page, webkit_web_view_is_loading (WEBKIT_WEB_VIEW (view)));
  if (is_active_view (self, view))
    {
      update_progress (self);
      update_navigation (self);
    }
}

static void
on_view_progress (CbWebView  *view,
                  GParamSpec *pspec,
                  CbWindow   *self)
{
  if (is_active_view (self, view))
    update_progress (self);
}

static void
on_back_forward_changed (WebKitBackForwardList     *list,
                         WebKitBackForwardListItem *added,
                         gpointer                   removed,
                         CbWindow                  *self)
{
  update_navigation (self);
}

static void
on_view_close (CbWebView *view,
               CbWindow  *self)
{
  AdwTabPage *page = page_of_view (self, view);

  if (page)
    adw_tab_view_close_page (self->tab_view, page);
}

static GtkWidget *on_view_create (CbWebView              *view,
                                  WebKitNavigationAction *action,
                                  CbWindow               *self);

void
cb_window_add_view (CbWindow  *self,
                    CbWebView *view,
                    gboolean   select)
{
  AdwTabPage *selected = adw_tab_view_get_selected_page (self->tab_view);
  AdwTabPage *page;

  g_signal_connect_object (view, "notify::title", G_CALLBACK (on_view_title), self, 0);
  g_signal_connect_object (view, "notify::uri", G_CALLBACK (on_view_uri), self, 0);
  g_signal_connect_object (view, "notify::favicon", G_CALLBACK (on_view_favicon), self, 0);
  g_signal_connect_object (view, "notify::is-loading", G_CALLBACK (on_view_loading), self, 0);
  g_signal_connect_object (view, "notify::estimated-load-progress",
                           G_CALLBACK (on_view_progress), self, 0);
  g_signal_connect_object (view, "close", G_CALLBACK (on_view_close), self, 0);
  g_signal_connect_object (view, "create", G_CALLBACK (on_view_create), self, 0);
  g_signal_connect_object (webkit_web_view_get_back_forward_list (WEBKIT_WEB_VIEW (view)),
                           "changed", G_CALLBACK (on_back_forward_changed), self, 0);
  _cb_window_find_add_view (self, view);
  _cb_window_zoom_add_view (self, view);
  _cb_window_page_add_view (self, view);
  _cb_window_context_menu_add_view (self, view);
  _cb_window_site_add_view (self, view);

  /* Tabs opened from a page go right after it, as in GNOME Web. */
  if (selected)
    page = adw_tab_view_add_page (self->tab_view, GTK_WIDGET (view), selected);
  else
    page = adw_tab_view_append (self->tab_view, GTK_WIDGET (view));
  adw_tab_page_set_title (page, cb_web_view_get_display_title (view));
  if (select)
    adw_tab_view_set_selected_page (self->tab_view, page);
  emit_state_changed (self);
}

static void
on_related_ready_to_show (CbWebView *view,
                          CbWindow  *self)
{
  /* WebKit can emit ready-to-show more than once for a view. */
  if (page_of_view (self, view) == NULL)
    cb_window_add_view (self, view, TRUE);
}

/* target=_blank links and window.open(): a new tab beside the opener,
 * related to it so that window.opener works where the page asked for it. */
static GtkWidget *
on_view_create (CbWebView              *view,
                WebKitNavigationAction *action,
                CbWindow               *self)
{
  GtkWidget *related;

  /* Not clicked, and the site may not open windows: blocked (the view
   * tells the window, which says so). */
  if (!cb_web_view_allows_popup (view, action))
    return NULL;
  related = cb_web_view_new_related (view);

  g_signal_connect_object (related, "ready-to-show",
                           G_CALLBACK (on_related_ready_to_show), self, 0);
  return related;
}

CbWebView *
cb_window_open_tab (CbWindow   *self,
                    const char *uri,
                    gboolean    select)
{
  return cb_window_open_tab_as (self, uri, CB_VISIT_LINK, select);
}

CbWebView *
cb_window_open_tab_as (CbWindow    *self,
                       const char  *uri,
                       CbVisitType  type,
                       gboolean     select)
{
  CbWebView *view = CB_WEB_VIEW (cb_web_view_new (self->context));

  cb_window_add_view (self, view, select);
  if (uri != NULL && *uri != '\0')
    cb_web_view_load_uri_as (view, uri, type);
  else if (select)
    gtk_widget_grab_focus (GTK_WIDGET (self->address_entry));
  return view;
}

void
cb_window_submit_address (CbWindow   *self,
                          const char *text)
{
  CbWebView *view = cb_window_get_active_view (self);
  g_autofree char *search_url = g_settings_get_string (self->settings, "search-url");

  if (view == NULL)
    view = cb_window_open_tab (self, NULL, TRUE);
  /* Focus first: the address entry only shows the new URI once the person
   * is no longer typing in it. */
  gtk_widget_grab_focus (GTK_WIDGET (view));
  cb_web_view_load_address (view, text, search_url);
  update_address (self);
}

static void
on_address_activate (GtkEntry *entry,
                     CbWindow *self)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry)));

  if (self->completion != NULL)
    cb_address_completion_hide (self->completion);
  cb_window_submit_address (self, text);
}

void
cb_window_open_suggestion (CbWindow   *self,
                           const char *uri)
{
  CbWebView *view = cb_window_get_active_view (self);

  if (view == NULL)
    view = cb_window_open_tab (self, NULL, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (view));
  cb_web_view_load_uri_as (view, uri, CB_VISIT_TYPED);
  update_address (self);
}

static void
on_suggestion (CbAddressCompletion *completion,
               const char          *uri,
               CbWindow            *self)
{
  cb_window_open_suggestion (self, uri);
}

/* --- tab view --- */

static void
on_selected_page (AdwTabView *tab_view,
                  GParamSpec *pspec,
                  CbWindow   *self)
{
  /* Switching tabs shows the new tab's address even if the entry had
   * focus: what was typed belonged to the other tab. */
  if (self->completion != NULL)
    cb_address_completion_set_text (self->completion, "");
  _cb_window_find_tab_changed (self, self->previous_view);
  g_set_weak_pointer (&self->previous_view, cb_window_get_active_view (self));
  update_all (self);
  emit_state_changed (self);
}

static void
on_n_pages (AdwTabView *tab_view,
            GParamSpec *pspec,
            CbWindow   *self)
{
  /* Closing the last tab closes the window, as in GNOME Web. */
  if (adw_tab_view_get_n_pages (tab_view) == 0)
    {
      gtk_window_close (GTK_WINDOW (self));
      return;
    }
  emit_state_changed (self);
}

/* --- actions --- */

static void
action_back (GtkWidget *widget, const char *name, GVariant *param)
{
  CbWebView *view = cb_window_get_active_view (CB_WINDOW (widget));

  if (view)
    webkit_web_view_go_back (WEBKIT_WEB_VIEW (view));
}

static void
action_forward (GtkWidget *widget, const char *name, GVariant *param)
{
  CbWebView *view = cb_window_get_active_view (CB_WINDOW (widget));

  if (view)
    webkit_web_view_go_forward (WEBKIT_WEB_VIEW (view));
}

static void
action_reload (GtkWidget *widget, const char *name, GVariant *param)
{
  CbWebView *view = cb_window_get_active_view (CB_WINDOW (widget));

  if (view)
    webkit_web_view_reload (WEBKIT_WEB_VIEW (view));
}

static void
action_stop (GtkWidget *widget, const char *name, GVariant *param)
{
  CbWebView *view = cb_window_get_active_view (CB_WINDOW (widget));

  if (view)
    webkit_web_view_stop_loading (WEBKIT_WEB_VIEW (view));
}

static void
action_new_tab (GtkWidget *widget, const char *name, GVariant *param)
{
  cb_window_open_tab (CB_WINDOW (widget), NULL, TRUE);
}

static void
action_close_tab (GtkWidget *widget, const char *name, GVariant *param)
{
  CbWindow *self = CB_WINDOW (widget);
  AdwTabPage *page = adw_tab_view_get_selected_page (self->tab_view);

  if (page)
    adw_tab_view_close_page (self->tab_view, page);
}

static void
action_focus_location (GtkWidget *widget, const char *name, GVariant *param)
{
  CbWindow *self = CB_WINDOW (widget);

  gtk_widget_grab_focus (GTK_WIDGET (self->address_entry));
  gtk_editable_select_region (GTK_EDITABLE (self->address_entry), 0, -1);
}

static void
action_next_tab (GtkWidget *widget, const char *name, GVariant *param)
{
  CbWindow *self = CB_WINDOW (widget);

  /* Wrap around at the end, like Ctrl+Tab in every browser. */
  if (!adw_tab_view_select_next_page (self->tab_view) &&
      adw_tab_view_get_n_pages (self->tab_view) > 1)
    adw_tab_view_set_selected_page (self->tab_view, adw_tab_view_get_nth_page (self->tab_view, 0));
}

static void
action_previous_tab (GtkWidget *widget, const char *name, GVariant *param)
{
  CbWindow *self = CB_WINDOW (widget);
  int n = adw_tab_view_get_n_pages (self->tab_view);

  if (!adw_tab_view_select_previous_page (self->tab_view) && n > 1)
    adw_tab_view_set_selected_page (self->tab_view, adw_tab_view_get_nth_page (self->tab_view, n - 1));
}

static void
action_open_internal (GtkWidget *widget, const char *name, GVariant *param)
{
  cb_window_open_tab (CB_WINDOW (widget), g_variant_get_string (param, NULL), TRUE);
}

/* --- object --- */

static void
save_window_state (CbWindow *self)
{
  gboolean maximized = gtk_window_is_maximized (GTK_WINDOW (self));
  int width, height;

  g_settings_set_boolean (self->settings, "window-maximized", maximized);
  if (maximized)
    return;
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
}

static gboolean
cb_window_close_request (GtkWindow *window)
{
  save_window_state (CB_WINDOW (window));
  return GTK_WINDOW_CLASS (cb_window_parent_class)->close_request (window);
}

static void
cb_window_dispose (GObject *object)
{
  CbWindow *self = CB_WINDOW (object);

  /* Pages are removed while the window is torn down; that must not look
   * like the last tab being closed. */
  if (self->tab_view)
    g_signal_handlers_disconnect_by_data (self->tab_view, self);
  /* Its popover hangs off the address entry, which goes with the
   * template; so do the bookmark's and the site's popovers. */
  g_clear_object (&self->completion);
  g_clear_weak_pointer (&self->previous_view);
  g_clear_pointer (&self->bookmark_popover, gtk_widget_unparent);
  g_clear_pointer (&self->site_popover, gtk_widget_unparent);
  g_clear_object (&self->context_hit);
  g_clear_weak_pointer (&self->context_view);
  g_clear_object (&self->settings);
  g_clear_object (&self->context);
  G_OBJECT_CLASS (cb_window_parent_class)->dispose (object);
}

static void cb_window_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec);
static void cb_window_constructed  (GObject      *object);

static void
cb_window_class_init (CbWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = cb_window_dispose;
  object_class->set_property = cb_window_set_property;
  object_class->constructed = cb_window_constructed;

  properties[PROP_CONTEXT] = g_param_spec_object ("context", NULL, NULL, CB_TYPE_WEB_CONTEXT,
                                                  G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY |
                                                  G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_STATE_CHANGED] = g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                G_TYPE_NONE, 0);
  window_class->close_request = cb_window_close_request;

  /* The resource bundle registers itself from a constructor; referencing
   * it keeps the linker from dropping it out of the static library. */
  (void) cb_get_resource ();

  gtk_widget_class_set_template_from_resource (widget_class, CB_RESOURCE_PREFIX "/cb-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CbWindow, toasts);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, header_revealer);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, forward_button);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, reload_button);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, private_indicator);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, address_entry);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, zoom_button);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, reader_button);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, downloads_button);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, primary_menu);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, find_bar);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, find_entry);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, find_status);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, banner_icon);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, banner_remember);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, banner_allow);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, banner_deny);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, tab_bar);
  gtk_widget_class_bind_template_child (widget_class, CbWindow, tab_view);

  gtk_widget_class_install_action (widget_class, "win.back", NULL, action_back);
  gtk_widget_class_install_action (widget_class, "win.forward", NULL, action_forward);
  gtk_widget_class_install_action (widget_class, "win.reload", NULL, action_reload);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, action_stop);
  gtk_widget_class_install_action (widget_class, "win.new-tab", NULL, action_new_tab);
  gtk_widget_class_install_action (widget_class, "win.close-tab", NULL, action_close_tab);
  gtk_widget_class_install_action (widget_class, "win.focus-location", NULL, action_focus_location);
  gtk_widget_class_install_action (widget_class, "win.next-tab", NULL, action_next_tab);
  gtk_widget_class_install_action (widget_class, "win.previous-tab", NULL, action_previous_tab);
  gtk_widget_class_install_action (widget_class, "win.open-internal", "s", action_open_internal);

  _cb_window_history_class_init (widget_class);
  _cb_window_bookmarks_class_init (widget_class);
  _cb_window_downloads_class_init (widget_class);
  _cb_window_find_class_init (widget_class);
  _cb_window_zoom_class_init (widget_class);
  _cb_window_page_class_init (widget_class);
  _cb_window_site_class_init (widget_class);
}

static void
cb_window_init (CbWindow *self)
{
  g_type_ensure (CB_TYPE_WEB_VIEW);
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (CB_SCHEMA_ID);

  /* Ctrl+Tab and friends are handled by our actions (they wrap around),
   * so the tab view must not consume the same keys first. */
  adw_tab_view_remove_shortcuts (self->tab_view,
                                 ADW_TAB_VIEW_SHORTCUT_CONTROL_TAB |
                                 ADW_TAB_VIEW_SHORTCUT_CONTROL_SHIFT_TAB);

  g_signal_connect (self->address_entry, "activate", G_CALLBACK (on_address_activate), self);
  {
    GtkWidget *menu = gtk_popover_menu_new_from_model (self->primary_menu);

    gtk_popover_menu_add_child (GTK_POPOVER_MENU (menu), _cb_window_zoom_menu_row (self), "zoom");
    gtk_menu_button_set_popover (self->menu_button, menu);
  }
  _cb_window_find_init (self);
  _cb_window_page_init (self);
  _cb_window_context_menu_init (self);
  _cb_window_site_init (self);
  g_signal_connect (self->tab_view, "notify::selected-page", G_CALLBACK (on_selected_page), self);
  g_signal_connect (self->tab_view, "notify::n-pages", G_CALLBACK (on_n_pages), self);
  g_signal_connect_swapped (self->tab_view, "page-reordered", G_CALLBACK (emit_state_changed), self);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  if (g_strcmp0 (CB_PROFILE, "development") == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
}

/* What needs the context: it is set right after construction. */
static void
setup_for_context (CbWindow *self)
{
  self->completion = cb_address_completion_new (self->address_entry, _cb_window_get_profile (self));
  g_signal_connect (self->completion, "activate-suggestion", G_CALLBACK (on_suggestion), self);
  if (cb_web_context_is_private (self->context))
    {
      gtk_widget_add_css_class (GTK_WIDGET (self), "cb-private");
      gtk_widget_set_visible (self->private_indicator, TRUE);
    }
  _cb_window_history_init (self);
  _cb_window_bookmarks_init (self);
  _cb_window_downloads_init (self);
  update_all (self);
}

static void
cb_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  CbWindow *self = CB_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      /* Construct-only, so it is there before the window joins its
       * application (which looks at it). */
      self->context = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cb_window_constructed (GObject *object)
{
  G_OBJECT_CLASS (cb_window_parent_class)->constructed (object);
  setup_for_context (CB_WINDOW (object));
}

CbWindow *
cb_window_new (GtkApplication *application,
               CbWebContext   *context)
{
  return g_object_new (CB_TYPE_WINDOW, "context", context, "application", application, NULL);
}

CbWebContext *
cb_window_get_context (CbWindow *self)
{
  return self->context;
}

CbUserProfile *
_cb_window_get_profile (CbWindow *self)
{
  return cb_web_context_get_profile (self->context);
}

void
_cb_window_toast (CbWindow   *self,
                  const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, 5);
  adw_toast_overlay_add_toast (self->toasts, toast);
}

CbAddressCompletion *
cb_window_get_completion (CbWindow *self)
{
  return self->completion;
}

AdwTabView *
cb_window_get_tab_view (CbWindow *self)
{
  return self->tab_view;
}

GtkEntry *
cb_window_get_address_entry (CbWindow *self)
{
  return self->address_entry;
}

gboolean
cb_window_address_has_focus (CbWindow *self)
{
  return address_entry_has_focus (self);
}

GtkWidget *
cb_window_get_back_button (CbWindow *self)
{
  return GTK_WIDGET (self->back_button);
}

GtkWidget *
cb_window_get_forward_button (CbWindow *self)
{
  return GTK_WIDGET (self->forward_button);
}

GtkButton *
cb_window_get_reload_button (CbWindow *self)
{
  return self->reload_button;
}

GtkButton *
cb_window_get_zoom_button (CbWindow *self)
{
  return self->zoom_button;
}

GtkToggleButton *
cb_window_get_reader_button (CbWindow *self)
{
  return self->reader_button;
}

GtkRevealer *
cb_window_get_header_revealer (CbWindow *self)
{
  return self->header_revealer;
}
