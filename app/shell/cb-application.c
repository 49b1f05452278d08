/* cb-application.c: one process per profile; later launches forward their
 * addresses to it over D-Bus (GApplication's command-line forwarding). */
#define G_LOG_DOMAIN "cb-application"

#include "cb-config.h"

#include <errno.h>

#include "cb-application.h"
#include "cb-address.h"
#include "cb-node.h"
#include "cb-node-page.h"
#include "cb-apps-page.h"
#include "cb-node-apps.h"
#include "cb-preferences-window.h"
#include "cb-session-manager.h"

struct _CbApplication {
  AdwApplication parent_instance;
  CbWebContext *web_context;
  CbWebContext *private_context;   /* while a private window is open */
  guint private_windows;
  CbSessionManager *session;       /* NULL without a profile on disk */
  gboolean session_checked;        /* the saved session was offered at start */
  GSettings *settings;
  CbNode *node;
  CbNodePage *node_page;
  CbAppsPage *apps_page;
  guint node_start_source;
};

G_DEFINE_FINAL_TYPE (CbApplication, cb_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "new-window", 'w', 0, G_OPTION_ARG_NONE, NULL, "Open the addresses in a new window", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, "Print the version and exit", NULL },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, NULL, "[ADDRESS…]" },
  { NULL }
};

static void
on_store_reset (CbProfileDb   *db,
                const char    *message,
                CbApplication *self)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *dialog = adw_message_dialog_new (parent, "Saved Data Was Damaged", message);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "_Close");
  gtk_window_present (GTK_WINDOW (dialog));
}

CbWebContext *
cb_application_get_web_context (CbApplication *self)
{
  /* Created on first use so that `--version` and forwarding launches
   * never start WebKit. */
  if (self->web_context == NULL)
    {
      CbUserProfile *profile;

      self->web_context = cb_web_context_new_for_profile ();
      profile = cb_web_context_get_profile (self->web_context);
      /* A damaged database was set aside and replaced: say so, once, in
       * words a person can act on. */
      g_signal_connect_object (cb_history_get_db (cb_user_profile_get_history (profile)), "reset",
                               G_CALLBACK (on_store_reset), self, 0);
      g_signal_connect_object (cb_bookmarks_get_db (cb_user_profile_get_bookmarks (profile)),
                               "reset", G_CALLBACK (on_store_reset), self, 0);
      g_signal_connect_object (cb_site_settings_get_db (cb_user_profile_get_site_settings (profile)),
                               "reset", G_CALLBACK (on_store_reset), self, 0);
      if (cb_user_profile_get_dir (profile) != NULL)
        self->session = cb_session_manager_new (cb_user_profile_get_dir (profile));
    }
  return self->web_context;
}

CbSessionManager *
cb_application_get_session (CbApplication *self)
{
  cb_application_get_web_context (self);
  return self->session;
}

/* Every normal window is part of the session, however it was opened. */
static void
cb_application_window_added (GtkApplication *application,
                             GtkWindow      *window)
{
  CbApplication *self = CB_APPLICATION (application);

  GTK_APPLICATION_CLASS (cb_application_parent_class)->window_added (application, window);
  if (CB_IS_WINDOW (window) && self->session != NULL)
    cb_session_manager_track (self->session, CB_WINDOW (window));
}

static void
on_private_window_destroyed (GtkWidget     *window,
                             CbApplication *self)
{
  /* The last private window takes its cookies and history with it. */
  if (--self->private_windows == 0)
    g_clear_object (&self->private_context);
}

CbWindow *
cb_application_new_private_window (CbApplication *self)
{
  CbWindow *window;

  if (self->private_context == NULL)
    self->private_context = cb_web_context_new_private (cb_application_get_web_context (self));
  window = cb_window_new (GTK_APPLICATION (self), self->private_context);
  self->private_windows++;
  g_signal_connect_object (window, "destroy", G_CALLBACK (on_private_window_destroyed), self, 0);
  return window;
}

static CbWindow *
active_cb_window (CbApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  return CB_IS_WINDOW (window) ? CB_WINDOW (window) : NULL;
}

CbWindow *
cb_application_new_window (CbApplication *self)
{
  return cb_window_new (GTK_APPLICATION (self), cb_application_get_web_context (self));
}

static void
open_home (CbWindow  *window,
           GSettings *settings)
{
  g_autofree char *homepage = g_settings_get_string (settings, "homepage");

  cb_window_open_tab (window, homepage, TRUE);
}

/* A command-line argument is a file when it names one that exists
 * (relative to where the command ran); otherwise it is an address. */
char *
cb_application_resolve_argument (CbApplication *self,
                                 GFile         *cwd,
                                 const char    *arg)
{
  g_autofree char *search_url = g_settings_get_string (self->settings, "search-url");

  if (cb_address_classify (arg) != CB_ADDRESS_URI && cwd != NULL)
    {
      g_autoptr(GFile) file = g_file_resolve_relative_path (cwd, arg);

      if (g_file_query_exists (file, NULL))
        return g_file_get_uri (file);
    }
  return cb_address_to_uri (arg, search_url);
}

/* Tabs opened together in the background (several addresses on the
 * command line) start loading once the tab in front has loaded, or after
 * BACKGROUND_DELAY_MS if it takes longer: started all at once, their web
 * processes compete with the one page the person is looking at, which
 * then shows seconds later (tests/bench/startup, tabs part). */
#define BACKGROUND_DELAY_MS 1500

typedef struct {
  GPtrArray *views;   /* CbWebView, weak pointers; [0] the tab in front */
  GStrv uris;
  guint timeout_id;
} BackgroundLoads;

static void
background_loads_run (BackgroundLoads *loads)
{
  if (loads->views->pdata[0] != NULL)
    g_signal_handlers_disconnect_by_data (loads->views->pdata[0], loads);
  g_clear_handle_id (&loads->timeout_id, g_source_remove);
  for (guint i = 1; i < loads->views->len; i++)
    if (loads->views->pdata[i] != NULL &&
        webkit_web_view_get_uri (loads->views->pdata[i]) == NULL)
      webkit_web_view_load_uri (loads->views->pdata[i], loads->uris[i]);
  for (guint i = 0; i < loads->views->len; i++)
    if (loads->views->pdata[i] != NULL)
      g_object_remove_weak_pointer (loads->views->pdata[i], &loads->views->pdata[i]);
  g_ptr_array_unref (loads->views);
  g_strfreev (loads->uris);
  g_free (loads);
}

static gboolean
background_loads_timeout (gpointer data)
{
  BackgroundLoads *loads = data;

  loads->timeout_id = 0;
  background_loads_run (loads);
  return G_SOURCE_REMOVE;
}

static void
background_loads_front_changed (WebKitWebView   *view,
                                WebKitLoadEvent  event,
                                BackgroundLoads *loads)
{
  if (event == WEBKIT_LOAD_FINISHED)
    background_loads_run (loads);
}

static void
background_loads_start (GPtrArray *views,
                        GStrv      uris)
{
  BackgroundLoads *loads = g_new0 (BackgroundLoads, 1);

  /* Sized once: the weak pointers point into its storage. */
  loads->views = g_ptr_array_sized_new (views->len);
  loads->uris = g_strdupv (uris);
  for (guint i = 0; i < views->len; i++)
    g_ptr_array_add (loads->views, views->pdata[i]);
  for (guint i = 0; i < views->len; i++)
    g_object_add_weak_pointer (views->pdata[i], &loads->views->pdata[i]);
  /* load-changed comes with FINISHED after a failure too. */
  g_signal_connect (views->pdata[0], "load-changed", G_CALLBACK (background_loads_front_changed),
                    loads);
  loads->timeout_id = g_timeout_add (BACKGROUND_DELAY_MS, background_loads_timeout, loads);
}

static void
open_uris (CbApplication *self,
           GStrv          uris,
           gboolean       new_window)
{
  CbWindow *window = new_window ? NULL : active_cb_window (self);
  g_autoptr(GPtrArray) views = NULL;

  if (window != NULL)
    {
      for (guint i = 0; uris[i] != NULL; i++)
        cb_window_open_tab (window, uris[i], i == 0);
      gtk_window_present (GTK_WINDOW (window));
      return;
    }

  /* Start the first load before building the window: WebKit launches its
   * web and network processes while GTK builds the widgets, which shortens
   * the time to the first page by the time the window takes to build.  The
   * other tabs wait for that page (see BackgroundLoads). */
  views = g_ptr_array_new ();
  for (guint i = 0; uris[i] != NULL; i++)
    {
      GtkWidget *view = cb_web_view_new (cb_application_get_web_context (self));

      if (i == 0)
        webkit_web_view_load_uri (WEBKIT_WEB_VIEW (view), uris[i]);
      g_ptr_array_add (views, view);
    }
  window = cb_application_new_window (self);
  for (guint i = 0; i < views->len; i++)
    cb_window_add_view (window, views->pdata[i], i == 0);
  if (views->len > 1)
    background_loads_start (views, uris);
  gtk_window_present (GTK_WINDOW (window));
}

/* After the saved session (if any) is open: the addresses asked for, in
 * the window they belong in, or the home page if nothing else opened. */
static void
open_requested (CbApplication *self,
                GStrv          uris,
                gboolean       new_window)
{
  if (uris != NULL && uris[0] != NULL)
    open_uris (self, uris, new_window);
  else if (new_window || active_cb_window (self) == NULL)
    {
      CbWindow *window = cb_application_new_window (self);

      open_home (window, self->settings);
      gtk_window_present (GTK_WINDOW (window));
    }
  else
    gtk_window_present (GTK_WINDOW (active_cb_window (self)));
}

typedef struct {
  CbApplication *self;
  GStrv uris;
  gboolean new_window;
} Launch;

static void
session_restored (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Launch *launch = user_data;
  CbApplication *self = launch->self;
  g_autoptr(GError) error = NULL;
  int opened = cb_session_manager_restore_finish (CB_SESSION_MANAGER (source), result, &error);

  /* Addresses given on the command line open beside the restored tabs. */
  open_requested (self, launch->uris, launch->new_window && opened > 0);
  if (error != NULL)
    {
      GtkWidget *dialog = adw_message_dialog_new (gtk_application_get_active_window (GTK_APPLICATION (self)),
                                                  "The Tabs Could Not Be Restored", error->message);

      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "_Close");
      gtk_window_present (GTK_WINDOW (dialog));
    }
  g_application_release (G_APPLICATION (self));
  g_strfreev (launch->uris);
  g_object_unref (self);
  g_free (launch);
}

static void
launch (CbApplication *self,
        GStrv          uris,
        gboolean       new_window)
{
  Launch *pending;

  /* Once per process, before the first window: the tabs of last time. */
  if (self->session_checked || active_cb_window (self) != NULL ||
      !g_settings_get_boolean (self->settings, "restore-session") ||
      cb_application_get_session (self) == NULL)
    {
      self->session_checked = TRUE;
      open_requested (self, uris, new_window);
      return;
    }
  self->session_checked = TRUE;
  pending = g_new0 (Launch, 1);
  pending->self = g_object_ref (self);
  pending->uris = g_strdupv (uris);
  pending->new_window = new_window;
  g_application_hold (G_APPLICATION (self));
  cb_session_manager_restore_async (self->session, GTK_APPLICATION (self),
                                    cb_application_get_web_context (self), NULL, session_restored,
                                    pending);
}

static int
cb_application_command_line (GApplication            *application,
                             GApplicationCommandLine *command_line)
{
  CbApplication *self = CB_APPLICATION (application);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  g_autofree const char **args = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) uris = NULL;
  g_autoptr(GFile) cwd = NULL;
  gboolean new_window = g_variant_dict_contains (options, "new-window");

  if (g_application_command_line_get_cwd (command_line))
    cwd = g_file_new_for_path (g_application_command_line_get_cwd (command_line));

  g_variant_dict_lookup (options, G_OPTION_REMAINING, "^a&s", &args);
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    {
      g_autofree char *uri = cb_application_resolve_argument (self, cwd, args[i]);

      if (uri != NULL)
        g_strv_builder_add (builder, uri);
    }
  uris = g_strv_builder_end (builder);
  launch (self, uris, new_window);
  return 0;
}

static int
cb_application_handle_local_options (GApplication *application,
                                     GVariantDict *options)
{
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("cloud-bevy %s\n", CB_VERSION);
      return 0;
    }
  return -1;
}

static void
cb_application_activate (GApplication *application)
{
  launch (CB_APPLICATION (application), NULL, FALSE);
}

static void
cb_application_open (GApplication  *application,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) uris = NULL;

  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);
      g_strv_builder_add (builder, uri);
    }
  uris = g_strv_builder_end (builder);
  open_uris (CB_APPLICATION (application), uris, FALSE);
}

static void
action_new_window (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbApplication *self = user_data;
  CbWindow *window = cb_application_new_window (self);

  open_home (window, self->settings);
  gtk_window_present (GTK_WINDOW (window));
}

static void
action_new_private_window (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbApplication *self = user_data;
  CbWindow *window = cb_application_new_private_window (self);

  cb_window_open_tab (window, NULL, TRUE);
  gtk_window_present (GTK_WINDOW (window));
}

static void
action_quit (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbApplication *self = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (user_data));

  /* Quitting keeps every window for next time. */
  if (self->session != NULL)
    cb_session_manager_keep_windows (self->session);

  /* close() rather than destroy() so each window saves its state. */
  for (GList *l = g_list_copy (windows), *it = l; it; it = it->next)
    {
      gtk_window_close (it->data);
      if (it->next == NULL)
        g_list_free (l);
    }
}

static void
action_preferences (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  CbPreferencesWindow *window = cb_preferences_window_new (parent,
                                                           cb_application_get_web_context (self));

  gtk_window_present (GTK_WINDOW (window));
}

/* Light, dark, or whatever the system says (the default). */
static void
apply_style (CbApplication *self)
{
  g_autofree char *style = g_settings_get_string (self->settings, "style");
  AdwColorScheme scheme = ADW_COLOR_SCHEME_DEFAULT;

  if (g_str_equal (style, "light"))
    scheme = ADW_COLOR_SCHEME_FORCE_LIGHT;
  else if (g_str_equal (style, "dark"))
    scheme = ADW_COLOR_SCHEME_FORCE_DARK;
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), scheme);
}

static void
action_about (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbApplication *self = user_data;
  GtkWidget *about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                                   "application-name", "Cloud Bevy",
                                   "application-icon", CB_APP_ID,
                                   "version", CB_VERSION,
                                   "developer-name", "The Cloud Bevy developers",
                                   "license-type", GTK_LICENSE_GPL_3_0,
                                   "comments", "A web browser that is also a node of a decentralised cloud",
                                   "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                                   "modal", TRUE,
                                   NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_actions[] = {
  { .name = "new-window", .activate = action_new_window },
  { .name = "new-private-window", .activate = action_new_private_window },
  { .name = "quit", .activate = action_quit },
  { .name = "about", .activate = action_about },
  { .name = "preferences", .activate = action_preferences },
};

static const struct {
  const char *action;
  const char *accels[4];
} shortcuts[] = {
  { "app.new-window", { "<Control>n", NULL } },
  { "app.new-private-window", { "<Control><Shift>n", NULL } },
  { "win.history", { "<Control>h", NULL } },
  { "win.bookmark-page", { "<Control>d", NULL } },
  { "win.bookmarks", { "<Control><Shift>o", NULL } },
  { "win.clear-data", { "<Control><Shift>Delete", NULL } },
  { "win.downloads", { "<Control><Shift>y", NULL } },
  { "win.find", { "<Control>f", NULL } },
  { "win.find-next", { "<Control>g", NULL } },
  { "win.find-previous", { "<Control><Shift>g", NULL } },
  { "win.zoom-in", { "<Control>plus", "<Control>equal", "<Control>KP_Add" } },
  { "win.zoom-out", { "<Control>minus", "<Control>KP_Subtract", NULL } },
  { "win.zoom-reset", { "<Control>0", "<Control>KP_0", NULL } },
  { "win.print", { "<Control>p", NULL } },
  { "win.view-source", { "<Control>u", NULL } },
  { "win.fullscreen", { "F11", NULL } },
  { "win.reader-mode", { "<Control><Alt>r", NULL } },
  { "app.quit", { "<Control>q", NULL } },
  { "app.preferences", { "<Control>comma", NULL } },
  { "win.new-tab", { "<Control>t", NULL } },
  { "win.close-tab", { "<Control>w", NULL } },
  { "win.reload", { "<Control>r", "F5", NULL } },
  { "win.back", { "<Alt>Left", NULL } },
  { "win.forward", { "<Alt>Right", NULL } },
  { "win.focus-location", { "<Control>l", "F6", NULL } },
  { "win.next-tab", { "<Control>Tab", "<Control>Page_Down", NULL } },
  { "win.previous-tab", { "<Control><Shift>Tab", "<Control>Page_Up", NULL } },
};

/* The profile's node: its data dir beside the browser's, the cloud built in
 * (or $CB_CLOUD_CONFIG), listening on $CB_NODE_LISTEN or 0.0.0.0:7788 and,
 * when that port is taken (another profile, a headless node), on any port. */
static CbNode *
start_profile_node (GError **error)
{
  g_autofree char *data_dir = g_build_filename (g_get_user_data_dir (), "cloud-bevy", "node", NULL);
  const char *cloud_path = g_getenv ("CB_CLOUD_CONFIG");
  const char *listen = g_getenv ("CB_NODE_LISTEN");
  g_autoptr(CbCloudConfig) cloud = NULL;
  g_autoptr(CbNode) node = NULL;
  g_autoptr(GError) local_error = NULL;

  if (cloud_path != NULL && *cloud_path != '\0')
    cloud = cb_cloud_config_load (cloud_path, error);
  else
    {
      const char *json = cb_cloud_config_default_json ();
      cloud = cb_cloud_config_parse (json, strlen (json), error);
    }
  if (cloud == NULL)
    return NULL;
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s",
                   data_dir, g_strerror (errno));
      return NULL;
    }
  node = cb_node_new (data_dir, cloud, error);
  if (node == NULL)
    return NULL;
  if (listen != NULL && *listen != '\0')
    cb_node_set_listen (node, listen);
  /* The browser shows apps' native UIs: it fetches their UI modules. */
  if (cb_node_get_apps (node) != NULL)
    cb_apps_set_with_ui (cb_node_get_apps (node), TRUE);
  if (cb_node_start (node, &local_error))
    return g_steal_pointer (&node);
  if (listen != NULL || !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_info ("port %d is taken; the node listens on another one", CB_NODE_DEFAULT_PORT);
  g_clear_error (&local_error);
  cb_node_set_listen (node, "0.0.0.0:0");
  if (!cb_node_start (node, error))
    return NULL;
  return g_steal_pointer (&node);
}

static gboolean
start_node_idle (gpointer user_data)
{
  CbApplication *self = user_data;
  g_autoptr(GError) error = NULL;
  CbWebContext *context = cb_application_get_web_context (self);

  self->node_start_source = 0;
  self->node = start_profile_node (&error);
  if (self->node == NULL)
    g_warning ("the cloud node did not start: %s", error->message);
  else
    g_info ("cloud node %s started", cb_node_get_id (self->node));
  self->node_page = cb_node_page_new (cb_web_context_get_cloud_scheme (context), self->node,
                                      error != NULL ? error->message : NULL);
  self->apps_page = cb_apps_page_new (cb_web_context_get_cloud_scheme (context),
                                      cb_web_context_get_user_content_manager (context), self->node,
                                      error != NULL ? error->message : NULL);
  if (self->node != NULL)
    cb_cloudapp_scheme_set_apps (cb_web_context_get_cloudapp_scheme (context),
                                 cb_node_get_apps (self->node));
  return G_SOURCE_REMOVE;
}

CbNode *
cb_application_get_node (CbApplication *self)
{
  return self->node;
}

static void
on_node_stopped (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  gboolean *done = user_data;

  cb_node_stop_finish (CB_NODE (source), result, NULL);
  *done = TRUE;
}

static void
cb_application_shutdown (GApplication *application)
{
  CbApplication *self = CB_APPLICATION (application);

  g_clear_handle_id (&self->node_start_source, g_source_remove);
  if (self->node != NULL)
    {
      /* Tell the cloud we leave: a moment now saves the others a failure
       * detection later. */
      gboolean done = FALSE;
      gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

      cb_node_stop_async (self->node, NULL, on_node_stopped, &done);
      while (!done && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, TRUE);
    }
  G_APPLICATION_CLASS (cb_application_parent_class)->shutdown (application);
}

static void
cb_application_startup (GApplication *application)
{
  CbApplication *self = CB_APPLICATION (application);

  G_APPLICATION_CLASS (cb_application_parent_class)->startup (application);

  /* Only the primary instance reads settings: `--version` and launches
   * that forward to a running instance need no schema. */
  self->settings = g_settings_new (CB_SCHEMA_ID);
  g_signal_connect_object (self->settings, "changed::style", G_CALLBACK (apply_style), self,
                           G_CONNECT_SWAPPED);
  apply_style (self);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  for (gsize i = 0; i < G_N_ELEMENTS (shortcuts); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), shortcuts[i].action,
                                           shortcuts[i].accels);

  /* After the first window has painted: the node is not on the path to
   * the first page. */
  self->node_start_source = g_idle_add_full (G_PRIORITY_LOW, start_node_idle, self, NULL);
}

static void
cb_application_dispose (GObject *object)
{
  CbApplication *self = CB_APPLICATION (object);

  g_clear_object (&self->node_page);
  g_clear_object (&self->apps_page);
  g_clear_object (&self->node);
  g_clear_object (&self->private_context);
  g_clear_object (&self->session);
  g_clear_object (&self->web_context);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (cb_application_parent_class)->dispose (object);
}

static void
cb_application_class_init (CbApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = cb_application_dispose;
  app_class->startup = cb_application_startup;
  app_class->shutdown = cb_application_shutdown;
  app_class->activate = cb_application_activate;
  app_class->open = cb_application_open;
  app_class->command_line = cb_application_command_line;
  GTK_APPLICATION_CLASS (klass)->window_added = cb_application_window_added;
  app_class->handle_local_options = cb_application_handle_local_options;
}

static void
cb_application_init (CbApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
}

CbApplication *
cb_application_new (const char *application_id)
{
  return g_object_new (CB_TYPE_APPLICATION,
                       "application-id", application_id,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_HANDLES_COMMAND_LINE,
                       "resource-base-path", CB_RESOURCE_PREFIX,
                       NULL);
}
