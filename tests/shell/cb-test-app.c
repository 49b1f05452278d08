/* cb-test-app.c: the application, server and helpers GUI tests share */
#include "cb-config.h"
#include "cb-test-app.h"
#include "cb-cloud-init.h"

#include <string.h>

CbApplication *cb_test_app;
CbTestServer *cb_test_http;
static char *cloud_dir;

void
cb_test_app_init (int         *argc,
                  char      ***argv,
                  const char  *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *search = NULL;
  g_autofree char *app_id = g_strdup_printf ("io.github.cloudbevy.CloudBevy.Test%s", name);
  g_autofree char *dir = NULL, *list = NULL, *json = NULL;
  const char *lists[2] = { NULL, NULL };

  gtk_test_init (argc, argv, NULL);
  adw_init ();

  /* The profile's node joins a cloud made for this run, on loopback. */
  cloud_dir = g_dir_make_tmp ("cb-test-app-XXXXXX", &error);
  g_assert_no_error (error);
  dir = g_build_filename (cloud_dir, "cloud", NULL);
  list = g_strdup_printf ("file://%s/nodes.json", dir);
  lists[0] = list;
  g_assert_true (cb_cloud_init (dir, name, lists, NULL, &error));
  g_assert_no_error (error);
  json = g_build_filename (dir, "cloud.json", NULL);
  g_setenv ("CB_CLOUD_CONFIG", json, TRUE);
  g_setenv ("CB_NODE_LISTEN", "127.0.0.1:0", TRUE);

  cb_test_http = cb_test_server_new (0, &error);
  g_assert_no_error (error);
  search = cb_test_server_uri (cb_test_http, "/search?q=%s");
  settings = g_settings_new (CB_SCHEMA_ID);
  g_settings_set_string (settings, "search-url", search);

  cb_test_app = cb_application_new (app_id);
  g_application_register (G_APPLICATION (cb_test_app), NULL, &error);
  g_assert_no_error (error);
}

int
cb_test_app_run (void)
{
  int status = g_test_run ();

  g_clear_object (&cb_test_app);
  g_clear_pointer (&cb_test_http, cb_test_server_free);
  return status;
}

CbWindow *
cb_test_new_window (void)
{
  CbWindow *window = cb_application_new_window (cb_test_app);

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

void
cb_test_close_window (CbWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  cb_test_iterate (50);
}

WebKitWebView *
cb_test_open (CbWindow   *window,
              const char *path)
{
  g_autofree char *uri = cb_test_server_uri (cb_test_http, path);

  return WEBKIT_WEB_VIEW (cb_window_open_tab (window, uri, TRUE));
}

void
cb_test_activate (CbWindow   *window,
                  const char *action)
{
  if (!gtk_widget_activate_action (GTK_WIDGET (window), action, NULL))
    g_error ("no action %s", action);
}

const char *
cb_test_entry_text (CbWindow *window)
{
  return gtk_editable_get_text (GTK_EDITABLE (cb_window_get_address_entry (window)));
}

typedef struct {
  WebKitWebView *view;
  const char *script;
  const char *expect;
} JsWait;

static gboolean
js_has (gpointer data)
{
  JsWait *wait = data;
  g_autofree char *result = cb_test_run_js (wait->view, wait->script);

  if (result != NULL && strstr (result, wait->expect) != NULL)
    return TRUE;
  cb_test_iterate (50);
  return FALSE;
}

void
cb_test_wait_js (WebKitWebView *view,
                 const char    *script,
                 const char    *expect)
{
  JsWait wait = { view, script, expect };
  g_autofree char *what = g_strdup_printf ("\"%s\" to give \"%s\"", script, expect);

  cb_test_wait_until (js_has, &wait, what);
}

typedef struct {
  CbWindow *window;
  int n;
} TabWait;

static gboolean
has_tabs (gpointer data)
{
  TabWait *wait = data;

  return adw_tab_view_get_n_pages (cb_window_get_tab_view (wait->window)) == wait->n;
}

void
cb_test_wait_tabs (CbWindow *window,
                   int       n)
{
  TabWait wait = { window, n };
  g_autofree char *what = g_strdup_printf ("%d tabs", n);

  cb_test_wait_until (has_tabs, &wait, what);
}

void
cb_test_type_address (CbWindow   *window,
                      const char *text)
{
  GtkEntry *entry = cb_window_get_address_entry (window);

  gtk_widget_grab_focus (GTK_WIDGET (entry));
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  gtk_editable_set_position (GTK_EDITABLE (entry), -1);
}

GtkWindow *
cb_test_find_window (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();   /* owned by GTK */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return window;
    }
  return NULL;
}

static gboolean
window_shown (gpointer data)
{
  return cb_test_find_window ((GType) GPOINTER_TO_SIZE (data)) != NULL;
}

void
cb_test_wait_window (GType type)
{
  g_autofree char *what = g_strdup_printf ("a %s to be shown", g_type_name (type));

  cb_test_wait_until (window_shown, GSIZE_TO_POINTER (type), what);
}

static gboolean
result_set (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* Everything the window's profile was asked to save is saved. */
void
cb_test_flush_profile (CbWindow *window)
{
  CbUserProfile *profile = cb_web_context_get_profile (cb_window_get_context (window));
  g_autoptr(GAsyncResult) a = NULL, b = NULL;

  cb_bookmarks_flush_async (cb_user_profile_get_bookmarks (profile), NULL, store_result, &a);
  cb_site_settings_flush_async (cb_user_profile_get_site_settings (profile), NULL, store_result, &b);
  cb_test_wait_until (result_set, &a, "the bookmarks to be saved");
  cb_test_wait_until (result_set, &b, "the site settings to be saved");
  cb_profile_db_sync (cb_history_get_db (cb_user_profile_get_history (profile)));
}

#include <gdk/x11/gdkx.h>

static void
xdotool (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    g_error ("xdotool %s failed: %s", argv[1], error->message);
}

static char *
xid_of (GtkWindow *window)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));

  g_assert_true (GDK_IS_X11_SURFACE (surface));
  return g_strdup_printf ("%lu", (unsigned long) gdk_x11_surface_get_xid (surface));
}

static void
focus_x_window (GtkWindow *window)
{
  g_autofree char *xid = xid_of (window);
  const char *argv[] = { "xdotool", "windowfocus", "--sync", xid, NULL };

  xdotool (argv);
  /* Let GTK see the focus change before the keys arrive. */
  cb_test_iterate (100);
}

void
cb_test_keys (GtkWindow  *window,
              const char *first_key,
              ...)
{
  va_list args;

  focus_x_window (window);
  va_start (args, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (args, const char *))
    {
      const char *argv[] = { "xdotool", "key", "--clearmodifiers", key, NULL };
      xdotool (argv);
      cb_test_iterate (60);
    }
  va_end (args);
}

void
cb_test_click (GtkWidget *widget,
               double     x,
               double     y,
               int        button)
{
  GtkWindow *window = GTK_WINDOW (gtk_widget_get_root (widget));
  g_autofree char *xid = xid_of (window);
  g_autofree char *sx = NULL, *sy = NULL, *sb = g_strdup_printf ("%d", button);
  double wx = 0, wy = 0;

  double ox = 0, oy = 0;

  g_assert_true (gtk_widget_translate_coordinates (widget, GTK_WIDGET (window), x, y, &wx, &wy));
  /* From the window widget to its X window: client-side decorations. */
  gtk_native_get_surface_transform (GTK_NATIVE (window), &ox, &oy);
  wx += ox;
  wy += oy;
  sx = g_strdup_printf ("%d", (int) wx);
  sy = g_strdup_printf ("%d", (int) wy);
  focus_x_window (window);
  {
    /* Elsewhere first: a pointer already at the spot sends no motion, and
     * pages (and WebKit's hit testing) follow the pointer's motion. */
    const char *away[] = { "xdotool", "mousemove", "--sync", "--window", xid, "1", "1", NULL };
    const char *move[] = { "xdotool", "mousemove", "--sync", "--window", xid, sx, sy, NULL };
    const char *click[] = { "xdotool", "click", sb, NULL };
    xdotool (away);
    cb_test_iterate (50);
    xdotool (move);
    cb_test_iterate (100);
    xdotool (click);
  }
  cb_test_iterate (100);
}
