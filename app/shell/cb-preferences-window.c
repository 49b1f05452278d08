/* cb-preferences-window.c: the preferences, all bound to GSettings */
#define G_LOG_DOMAIN "cb-preferences"

#include "cb-config.h"
#include "cb-preferences-window.h"

#include <gio/gdesktopappinfo.h>
#include <math.h>
#include <string.h>

static const CbSearchEngine engines[] = {
  { "DuckDuckGo", "https://duckduckgo.com/?q=%s" },
  { "Google", "https://www.google.com/search?q=%s" },
  { "Bing", "https://www.bing.com/search?q=%s" },
  { "Startpage", "https://www.startpage.com/do/search?query=%s" },
  { "Ecosia", "https://www.ecosia.org/search?q=%s" },
  { "Wikipedia", "https://en.wikipedia.org/w/index.php?search=%s" },
  { "Custom", NULL },
};

/* The types a default browser opens, as the desktop file declares. */
static const char * const browser_types[] = {
  "x-scheme-handler/http", "x-scheme-handler/https", "text/html", NULL,
};

static const char * const styles[] = { "default", "light", "dark", NULL };
static const double zooms[] = { 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.2, 1.33, 1.5, 1.7, 2.0 };

struct _CbPreferencesWindow {
  AdwPreferencesWindow parent_instance;
  GSettings *settings;
  CbWebContext *context;
  CbSiteSettings *sites;
  gboolean updating;

  AdwComboRow *engine_row;
  AdwEntryRow *custom_row;
  AdwActionRow *default_row;
  GtkWidget *default_button;
  AdwActionRow *folder_row;
  AdwComboRow *style_row;
  AdwComboRow *zoom_row;
  AdwPreferencesGroup *sites_group;
  GPtrArray *site_rows;      /* the rows in sites_group */
};

G_DEFINE_FINAL_TYPE (CbPreferencesWindow, cb_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

const CbSearchEngine *
cb_search_engines (guint *n)
{
  *n = G_N_ELEMENTS (engines);
  return engines;
}

gboolean
cb_search_url_is_valid (const char *url)
{
  g_autoptr(GUri) parsed = NULL;
  g_autofree char *probe = NULL;
  const char *mark;

  if (url == NULL || (mark = strstr (url, "%s")) == NULL || strstr (mark + 2, "%s") != NULL)
    return FALSE;
  probe = g_strdup_printf ("%.*sterms%s", (int) (mark - url), url, mark + 2);
  parsed = g_uri_parse (probe, G_URI_FLAGS_NONE, NULL);
  return parsed != NULL && g_uri_get_host (parsed) != NULL && *g_uri_get_host (parsed) != '\0' &&
         (g_str_equal (g_uri_get_scheme (parsed), "https") ||
          g_str_equal (g_uri_get_scheme (parsed), "http"));
}

/* --- general --- */

static guint
engine_of (const char *url)
{
  for (guint i = 0; i + 1 < G_N_ELEMENTS (engines); i++)
    if (g_str_equal (engines[i].url, url))
      return i;
  return G_N_ELEMENTS (engines) - 1;
}

static void
sync_engine (CbPreferencesWindow *self)
{
  g_autofree char *url = g_settings_get_string (self->settings, "search-url");
  guint engine = engine_of (url);

  self->updating = TRUE;
  adw_combo_row_set_selected (self->engine_row, engine);
  gtk_widget_set_visible (GTK_WIDGET (self->custom_row), engine == G_N_ELEMENTS (engines) - 1);
  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->custom_row)), url) != 0 &&
      engine == G_N_ELEMENTS (engines) - 1)
    gtk_editable_set_text (GTK_EDITABLE (self->custom_row), url);
  self->updating = FALSE;
}

static void
on_engine_selected (AdwComboRow         *row,
                    GParamSpec          *pspec,
                    CbPreferencesWindow *self)
{
  guint engine = adw_combo_row_get_selected (row);

  if (self->updating || engine == GTK_INVALID_LIST_POSITION)
    return;
  if (engines[engine].url != NULL)
    g_settings_set_string (self->settings, "search-url", engines[engine].url);
  else
    {
      /* Custom: keep what is there until a valid address is typed. */
      gtk_widget_set_visible (GTK_WIDGET (self->custom_row), TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->custom_row));
    }
}

static void
on_custom_changed (GtkEditable         *editable,
                   CbPreferencesWindow *self)
{
  const char *url = gtk_editable_get_text (editable);

  if (self->updating)
    return;
  if (cb_search_url_is_valid (url))
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->custom_row), "error");
      g_settings_set_string (self->settings, "search-url", url);
    }
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->custom_row), "error");
}

static GDesktopAppInfo *
our_app_info (void)
{
  return g_desktop_app_info_new (CB_APP_ID ".desktop");
}

static gboolean
in_flatpak (void)
{
  return g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
}

static void
sync_default (CbPreferencesWindow *self)
{
  g_autoptr(GDesktopAppInfo) ours = our_app_info ();
  g_autoptr(GAppInfo) current = g_app_info_get_default_for_uri_scheme ("https");
  gboolean is_default = ours != NULL && current != NULL &&
                        g_strcmp0 (g_app_info_get_id (current), CB_APP_ID ".desktop") == 0;
  const char *status;

  if (is_default)
    status = "Cloud Bevy opens web links from other applications.";
  else if (ours == NULL)
    status = "Cloud Bevy is not installed for the desktop (no io.github.cloudbevy.CloudBevy.desktop "
             "file), so it cannot be the default browser.";
  else if (in_flatpak ())
    status = "Another browser opens web links. Choose Cloud Bevy as the web browser in "
             "Settings → Apps → Default Apps.";
  else
    status = "Another browser opens web links from other applications.";
  adw_action_row_set_subtitle (self->default_row, status);
  /* A sandboxed application cannot change the desktop's defaults; the
   * desktop's settings can. */
  gtk_widget_set_visible (self->default_button, !is_default && ours != NULL && !in_flatpak ());
}

void
cb_preferences_window_make_default (CbPreferencesWindow *self)
{
  g_autoptr(GDesktopAppInfo) ours = our_app_info ();

  for (guint i = 0; ours != NULL && browser_types[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!g_app_info_set_as_default_for_type (G_APP_INFO (ours), browser_types[i], &error))
        g_warning ("cannot make Cloud Bevy the default for %s: %s", browser_types[i],
                   error->message);
    }
  sync_default (self);
}

static void
on_make_default (GtkButton           *button,
                 CbPreferencesWindow *self)
{
  cb_preferences_window_make_default (self);
}

/* --- downloads --- */

static void
sync_folder (CbPreferencesWindow *self)
{
  g_autofree char *folder = cb_download_manager_get_folder (cb_web_context_get_downloads (self->context));

  adw_action_row_set_subtitle (self->folder_row, folder);
}

void
cb_preferences_window_set_download_folder (CbPreferencesWindow *self,
                                           GFile               *folder)
{
  g_autofree char *path = folder ? g_file_get_path (folder) : NULL;

  g_settings_set_string (self->settings, "download-dir", path ? path : "");
  sync_folder (self);
}

static void
on_folder_response (GtkNativeDialog     *chooser,
                    int                  response,
                    CbPreferencesWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      cb_preferences_window_set_download_folder (self, folder);
    }
  g_object_unref (chooser);
}

/* Through the portal under Flatpak: the sandbox gets that folder only. */
static void
on_choose_folder (GtkButton           *button,
                  CbPreferencesWindow *self)
{
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new ("Download Folder", GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Select", "_Cancel");

  g_signal_connect (chooser, "response", G_CALLBACK (on_folder_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_reset_folder (GtkButton           *button,
                 CbPreferencesWindow *self)
{
  cb_preferences_window_set_download_folder (self, NULL);
}

/* --- appearance --- */

static void
sync_style (CbPreferencesWindow *self)
{
  g_autofree char *style = g_settings_get_string (self->settings, "style");
  double zoom = g_settings_get_double (self->settings, "default-zoom");
  guint closest = 0;

  self->updating = TRUE;
  for (guint i = 0; styles[i] != NULL; i++)
    if (g_str_equal (styles[i], style))
      adw_combo_row_set_selected (self->style_row, i);
  for (guint i = 0; i < G_N_ELEMENTS (zooms); i++)
    if (fabs (zooms[i] - zoom) < fabs (zooms[closest] - zoom))
      closest = i;
  adw_combo_row_set_selected (self->zoom_row, closest);
  self->updating = FALSE;
}

static void
on_style_selected (AdwComboRow         *row,
                   GParamSpec          *pspec,
                   CbPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (row);

  if (!self->updating && i < G_N_ELEMENTS (styles) - 1)
    g_settings_set_string (self->settings, "style", styles[i]);
}

static void
on_zoom_selected (AdwComboRow         *row,
                  GParamSpec          *pspec,
                  CbPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (row);

  if (!self->updating && i < G_N_ELEMENTS (zooms))
    g_settings_set_double (self->settings, "default-zoom", zooms[i]);
}

/* --- site permissions --- */

static void
on_site_permission (GtkDropDown         *dropdown,
                    GParamSpec          *pspec,
                    CbPreferencesWindow *self)
{
  const char *site = g_object_get_data (G_OBJECT (dropdown), "cb-site");
  CbPermission permission = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dropdown), "cb-permission"));

  if (!self->updating)
    cb_site_settings_set_permission (self->sites, site, permission,
                                     gtk_drop_down_get_selected (dropdown));
}

static void
on_forget_clicked (GtkButton           *button,
                   CbPreferencesWindow *self)
{
  cb_preferences_window_forget_site (self, g_object_get_data (G_OBJECT (button), "cb-site"));
}

static void fill_sites (CbPreferencesWindow *self);

void
cb_preferences_window_forget_site (CbPreferencesWindow *self,
                                   const char          *site)
{
  g_autofree char *copy = g_strdup (site);

  cb_site_settings_forget_site (self->sites, copy);
}

static GtkWidget *
site_row (CbPreferencesWindow *self,
          const char          *site)
{
  static const char * const names[] = { "Ask", "Allow", "Block", NULL };
  GtkWidget *row = adw_expander_row_new ();
  g_autoptr(GString) summary = g_string_new (NULL);
  GtkWidget *forget = gtk_button_new_with_mnemonic ("_Forget");
  double zoom = cb_site_settings_get_zoom (self->sites, site);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), site);
  for (CbPermission p = 0; p < CB_N_PERMISSIONS; p++)
    {
      CbPermissionState state = cb_site_settings_get_permission (self->sites, site, p);
      GtkWidget *child = adw_action_row_new ();
      GtkWidget *dropdown = gtk_drop_down_new_from_strings (names);

      if (state != CB_PERMISSION_ASK)
        g_string_append_printf (summary, "%s%s %s", summary->len ? ", " : "",
                                cb_permission_get_label (p),
                                state == CB_PERMISSION_ALLOW ? "allowed" : "blocked");
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (child), cb_permission_get_label (p));
      gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), state);
      gtk_widget_set_valign (dropdown, GTK_ALIGN_CENTER);
      g_object_set_data_full (G_OBJECT (dropdown), "cb-site", g_strdup (site), g_free);
      g_object_set_data (G_OBJECT (dropdown), "cb-permission", GINT_TO_POINTER (p));
      g_signal_connect (dropdown, "notify::selected", G_CALLBACK (on_site_permission), self);
      gtk_accessible_update_relation (GTK_ACCESSIBLE (dropdown), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                      child, NULL, -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (child), dropdown);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), child);
    }
  if (cb_site_settings_get_popups_allowed (self->sites, site))
    g_string_append_printf (summary, "%spop-ups allowed", summary->len ? ", " : "");
  if (cb_site_settings_get_blocker_disabled (self->sites, site))
    g_string_append_printf (summary, "%sads not blocked", summary->len ? ", " : "");
  if (zoom > 0)
    g_string_append_printf (summary, "%szoom %d%%", summary->len ? ", " : "", (int) (zoom * 100 + 0.5));
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), summary->str);
  gtk_widget_set_valign (forget, GTK_ALIGN_CENTER);
  g_object_set_data_full (G_OBJECT (forget), "cb-site", g_strdup (site), g_free);
  g_signal_connect (forget, "clicked", G_CALLBACK (on_forget_clicked), self);
  adw_expander_row_add_action (ADW_EXPANDER_ROW (row), forget);
  g_object_set_data_full (G_OBJECT (row), "cb-site", g_strdup (site), g_free);
  return row;
}

static void
fill_sites (CbPreferencesWindow *self)
{
  g_auto(GStrv) sites = cb_site_settings_list_sites (self->sites);

  self->updating = TRUE;
  for (guint i = 0; i < self->site_rows->len; i++)
    adw_preferences_group_remove (self->sites_group, self->site_rows->pdata[i]);
  g_ptr_array_set_size (self->site_rows, 0);
  for (guint i = 0; sites[i] != NULL; i++)
    {
      GtkWidget *row = site_row (self, sites[i]);

      adw_preferences_group_add (self->sites_group, row);
      g_ptr_array_add (self->site_rows, row);
    }
  if (sites[0] == NULL)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), "No site has remembered permissions");
      gtk_widget_add_css_class (row, "dim-label");
      adw_preferences_group_add (self->sites_group, row);
      g_ptr_array_add (self->site_rows, row);
    }
  self->updating = FALSE;
}

static void
on_sites_changed (CbSiteSettings      *sites,
                  const char          *site,
                  const char          *key,
                  CbPreferencesWindow *self)
{
  if (!self->updating)
    fill_sites (self);
}

GStrv
cb_preferences_window_get_listed_sites (CbPreferencesWindow *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < self->site_rows->len; i++)
    {
      const char *site = g_object_get_data (self->site_rows->pdata[i], "cb-site");
      if (site != NULL)
        g_strv_builder_add (builder, site);
    }
  return g_strv_builder_end (builder);
}

/* --- building --- */

static GtkWidget *
switch_row (GSettings  *settings,
            const char *key,
            const char *title,
            const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *toggle = gtk_switch_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  if (subtitle)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  g_settings_bind (settings, key, toggle, "active", G_SETTINGS_BIND_DEFAULT);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (toggle), GTK_ACCESSIBLE_RELATION_LABELLED_BY, row,
                                  NULL, -1);
  gtk_widget_set_name (toggle, key);
  return row;
}

static GtkWidget *
group (AdwPreferencesPage *page,
       const char         *title,
       const char         *description)
{
  GtkWidget *g = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (g), title);
  if (description)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (g), description);
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (g));
  return g;
}

static AdwPreferencesPage *
page (CbPreferencesWindow *self,
      const char          *title,
      const char          *icon)
{
  GtkWidget *p = adw_preferences_page_new ();
  g_autofree char *name = g_ascii_strdown (title, -1);

  adw_preferences_page_set_name (ADW_PREFERENCES_PAGE (p), name);
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (p), title);
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (p), icon);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), ADW_PREFERENCES_PAGE (p));
  return ADW_PREFERENCES_PAGE (p);
}

static GtkStringList *
engine_names (void)
{
  GtkStringList *names = gtk_string_list_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (engines); i++)
    gtk_string_list_append (names, engines[i].name);
  return names;
}

static void
on_clear_data (GtkButton           *button,
               CbPreferencesWindow *self)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));

  if (parent != NULL)
    gtk_widget_activate_action (GTK_WIDGET (parent), "win.clear-data", NULL);
}

static void
build (CbPreferencesWindow *self)
{
  AdwPreferencesPage *general = page (self, "General", "preferences-system-symbolic");
  AdwPreferencesPage *privacy = page (self, "Privacy", "preferences-system-privacy-symbolic");
  AdwPreferencesPage *appearance = page (self, "Appearance", "preferences-desktop-appearance-symbolic");
  GtkWidget *g, *row, *button, *box;
  g_autoptr(GtkStringList) names = engine_names ();
  g_autoptr(GtkStringList) style_names =
    gtk_string_list_new ((const char *[]) { "Follow System", "Light", "Dark", NULL });
  g_autoptr(GtkStringList) zoom_names = gtk_string_list_new (NULL);

  /* General */
  g = group (general, "Browsing", NULL);
  row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), "_Home page (empty for a blank page)");
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  gtk_widget_set_name (row, "homepage");
  g_settings_bind (self->settings, "homepage", row, "text", G_SETTINGS_BIND_DEFAULT);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g), row);
  self->engine_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->engine_row), "_Search engine");
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (self->engine_row), TRUE);
  adw_combo_row_set_model (self->engine_row, G_LIST_MODEL (names));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g), GTK_WIDGET (self->engine_row));
  self->custom_row = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->custom_row),
                                 "Search address (%s stands for the terms)");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g), GTK_WIDGET (self->custom_row));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g),
                             switch_row (self->settings, "restore-session", "_Restore tabs on start",
                                         "Reopen the windows and tabs of last time, after a "
                                         "restart or a crash"));

  g = group (general, "Default Browser", NULL);
  self->default_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->default_row), "Default browser");
  self->default_button = gtk_button_new_with_mnemonic ("Make _Default");
  gtk_widget_set_valign (self->default_button, GTK_ALIGN_CENTER);
  g_signal_connect (self->default_button, "clicked", G_CALLBACK (on_make_default), self);
  adw_action_row_add_suffix (self->default_row, self->default_button);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g), GTK_WIDGET (self->default_row));

  g = group (general, "Downloads", NULL);
  self->folder_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->folder_row), "Download folder");
  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  button = gtk_button_new_with_mnemonic ("_Choose…");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect (button, "clicked", G_CALLBACK (on_choose_folder), self);
  gtk_box_append (GTK_BOX (box), button);
  button = gtk_button_new_from_icon_name ("edit-undo-symbolic");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, "Back to the usual Downloads folder");
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Use the usual Downloads folder", -1);
  g_signal_connect (button, "clicked", G_CALLBACK (on_reset_folder), self);
  gtk_box_append (GTK_BOX (box), button);
  adw_action_row_add_suffix (self->folder_row, box);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g), GTK_WIDGET (self->folder_row));

  g = group (general, "Developers", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g),
                             switch_row (self->settings, "enable-developer-tools",
                                         "_Web inspector", "Inspect Element in the context menu of pages"));

  /* Privacy */
  g = group (privacy, "Protection", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g),
                             switch_row (self->settings, "https-first", "_Secure connections first",
                                         "Open http:// sites over https:// when they offer it, and "
                                         "warn before going on without"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g),
                             switch_row (self->settings, "content-blocker", "Block _ads and trackers",
                                         "With the built-in list; sites can be let through one by "
                                         "one from the address bar"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g),
                             switch_row (self->settings, "block-popups", "Block _pop-up windows",
                                         "Windows a page opens without a click"));
  g = group (privacy, "History", NULL);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g),
                             switch_row (self->settings, "remember-history",
                                         "Remember browsing _history", NULL));
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), "Clear browsing data");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), "History, cookies, site data and cached files");
  button = gtk_button_new_with_mnemonic ("C_lear…");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect (button, "clicked", G_CALLBACK (on_clear_data), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g), row);
  self->sites_group = ADW_PREFERENCES_GROUP (group (privacy, "Site Permissions",
                                                    "What sites were allowed or refused"));

  /* Appearance */
  g = group (appearance, "Style", NULL);
  self->style_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->style_row), "_Colours");
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (self->style_row), TRUE);
  adw_combo_row_set_model (self->style_row, G_LIST_MODEL (style_names));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g), GTK_WIDGET (self->style_row));
  for (guint i = 0; i < G_N_ELEMENTS (zooms); i++)
    {
      g_autofree char *label = g_strdup_printf ("%d%%", (int) (zooms[i] * 100 + 0.5));
      gtk_string_list_append (zoom_names, label);
    }
  self->zoom_row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->zoom_row), "Default _zoom");
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (self->zoom_row), TRUE);
  adw_combo_row_set_model (self->zoom_row, G_LIST_MODEL (zoom_names));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (g), GTK_WIDGET (self->zoom_row));

  g_signal_connect (self->engine_row, "notify::selected", G_CALLBACK (on_engine_selected), self);
  g_signal_connect (self->custom_row, "changed", G_CALLBACK (on_custom_changed), self);
  g_signal_connect (self->style_row, "notify::selected", G_CALLBACK (on_style_selected), self);
  g_signal_connect (self->zoom_row, "notify::selected", G_CALLBACK (on_zoom_selected), self);
  g_signal_connect_object (self->settings, "changed::search-url", G_CALLBACK (sync_engine), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::style", G_CALLBACK (sync_style), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::download-dir", G_CALLBACK (sync_folder), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->sites, "changed", G_CALLBACK (on_sites_changed), self, 0);
  sync_engine (self);
  sync_default (self);
  sync_folder (self);
  sync_style (self);
  fill_sites (self);
}

/* --- tests' handles --- */

void
cb_preferences_window_choose_engine (CbPreferencesWindow *self,
                                     const char          *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (engines); i++)
    if (g_str_equal (engines[i].name, name))
      adw_combo_row_set_selected (self->engine_row, i);
}

void
cb_preferences_window_set_custom_search (CbPreferencesWindow *self,
                                         const char          *url)
{
  gtk_editable_set_text (GTK_EDITABLE (self->custom_row), url);
}

gboolean
cb_preferences_window_custom_search_ok (CbPreferencesWindow *self)
{
  return !gtk_widget_has_css_class (GTK_WIDGET (self->custom_row), "error");
}

void
cb_preferences_window_choose_style (CbPreferencesWindow *self,
                                    const char          *style)
{
  for (guint i = 0; styles[i] != NULL; i++)
    if (g_str_equal (styles[i], style))
      adw_combo_row_set_selected (self->style_row, i);
}

const char *
cb_preferences_window_get_default_status (CbPreferencesWindow *self)
{
  return adw_action_row_get_subtitle (self->default_row);
}

/* --- object --- */

static void
cb_preferences_window_dispose (GObject *object)
{
  CbPreferencesWindow *self = CB_PREFERENCES_WINDOW (object);

  if (self->sites)
    g_signal_handlers_disconnect_by_data (self->sites, self);
  g_clear_object (&self->settings);
  g_clear_object (&self->context);
  g_clear_object (&self->sites);
  g_clear_pointer (&self->site_rows, g_ptr_array_unref);
  G_OBJECT_CLASS (cb_preferences_window_parent_class)->dispose (object);
}

static void
cb_preferences_window_class_init (CbPreferencesWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = cb_preferences_window_dispose;
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
cb_preferences_window_init (CbPreferencesWindow *self)
{
  self->settings = g_settings_new (CB_SCHEMA_ID);
  self->site_rows = g_ptr_array_new ();
}

CbPreferencesWindow *
cb_preferences_window_new (GtkWindow    *parent,
                           CbWebContext *context)
{
  CbPreferencesWindow *self = g_object_new (CB_TYPE_PREFERENCES_WINDOW,
                                            "transient-for", parent,
                                            "default-width", 640,
                                            "default-height", 640,
                                            "search-enabled", TRUE,
                                            NULL);

  self->context = g_object_ref (context);
  self->sites = g_object_ref (cb_user_profile_get_site_settings (cb_web_context_get_profile (context)));
  build (self);
  return self;
}
