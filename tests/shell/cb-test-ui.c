/* cb-test-ui.c: waiting on conditions and taking screenshots */
#include "cb-test-ui.h"

#include <gdk/x11/gdkx.h>
#include <string.h>

static double
timeout_seconds (void)
{
  const char *env = g_getenv ("CB_TEST_TIMEOUT");

  return env ? g_ascii_strtod (env, NULL) : 30.0;
}

void
cb_test_wait_until (CbTestCondition condition,
                    gpointer        data,
                    const char     *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_seconds () * G_USEC_PER_SEC);

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
timer_done (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

void
cb_test_iterate (guint milliseconds)
{
  gboolean done = FALSE;

  g_timeout_add (milliseconds, timer_done, &done);
  cb_test_wait_until (flag_set, &done, "a timer");
}

typedef struct {
  WebKitWebView *view;
  const char *title;
} TitleWait;

static gboolean
has_title (gpointer data)
{
  TitleWait *wait = data;

  return g_strcmp0 (webkit_web_view_get_title (wait->view), wait->title) == 0 &&
         !webkit_web_view_is_loading (wait->view);
}

void
cb_test_wait_for_title (WebKitWebView *view,
                        const char    *title)
{
  TitleWait wait = { view, title };
  g_autofree char *what = g_strdup_printf ("a page titled \"%s\"", title);

  cb_test_wait_until (has_title, &wait, what);
}

static gboolean
not_loading (gpointer data)
{
  return !webkit_web_view_is_loading (data);
}

void
cb_test_wait_loaded (WebKitWebView *view)
{
  cb_test_wait_until (not_loading, view, "the load to finish");
}

typedef struct {
  gboolean done;
  char *result;
  GError *error;
} JsResult;

static void
js_done (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  JsResult *js = data;
  g_autoptr(JSCValue) value = webkit_web_view_evaluate_javascript_finish (WEBKIT_WEB_VIEW (source),
                                                                          result, &js->error);

  if (value)
    js->result = jsc_value_to_string (value);
  js->done = TRUE;
}

static gboolean
js_finished (gpointer data)
{
  return ((JsResult *) data)->done;
}

char *
cb_test_try_js (WebKitWebView  *view,
                const char     *script,
                GError        **error)
{
  JsResult js = { 0 };

  webkit_web_view_evaluate_javascript (view, script, -1, NULL, NULL, NULL, js_done, &js);
  cb_test_wait_until (js_finished, &js, "a script to run");
  if (js.error != NULL)
    g_propagate_error (error, js.error);
  return js.result;
}

char *
cb_test_run_js (WebKitWebView *view,
                const char    *script)
{
  g_autoptr(GError) error = NULL;
  char *result = cb_test_try_js (view, script, &error);

  g_assert_no_error (error);
  return result;
}

static gboolean
is_drawn (gpointer data)
{
  GtkWidget *window = data;

  return gtk_widget_get_mapped (window) && gtk_widget_get_width (window) > 0;
}

char *
cb_test_screenshot (GtkWidget  *window,
                    const char *name)
{
  const char *dir = g_getenv ("CB_TEST_ARTIFACTS");
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  char *path;
  int width, height;

  cb_test_wait_until (is_drawn, window, "the window to be shown");
  /* What the X server shows, web content included (a widget snapshot of
   * a web view can lag behind what is on screen). */
  if (GDK_IS_X11_SURFACE (gtk_native_get_surface (GTK_NATIVE (window))))
    {
      g_autofree char *xid = g_strdup_printf ("%lu", (unsigned long) gdk_x11_surface_get_xid (
        gtk_native_get_surface (GTK_NATIVE (window))));
      const char *argv[] = { "import", "-window", xid, NULL, NULL };
      g_autoptr(GError) error = NULL;
      int status = 0;

      /* Web content draws a moment after it is ready. */
      cb_test_iterate (800);
      if (dir)
        g_mkdir_with_parents (dir, 0755);
      path = g_build_filename (dir ? dir : ".", file, NULL);
      argv[3] = path;
      if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                         &status, &error) ||
          !g_spawn_check_wait_status (status, &error))
        g_error ("cannot take a screenshot with ImageMagick's import: %s", error->message);
      g_test_message ("screenshot: %s", path);
      return path;
    }
  /* Let pending frames (web content, tab animations) reach the widgets;
   * a window that has not drawn yet has nothing to snapshot. */
  for (guint tries = 0; node == NULL && tries < 50; tries++)
    {
      g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();

      cb_test_iterate (tries == 0 ? 300 : 100);
      width = gtk_widget_get_width (window);
      height = gtk_widget_get_height (window);
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_to_node (snapshot);
    }
  g_assert_nonnull (node);

  if (dir)
    g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir ? dir : ".", file, NULL);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
  return path;
}

char *
cb_test_screenshot_screen (const char *name)
{
  const char *dir = g_getenv ("CB_TEST_ARTIFACTS");
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  char *path;
  g_autoptr(GError) error = NULL;
  int status = 0;

  /* Let the last frames reach the X server first. */
  cb_test_iterate (300);
  if (dir)
    g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir ? dir : ".", file, NULL);
  {
    const char *argv[] = { "import", "-window", "root", path, NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                       &status, &error) ||
        !g_spawn_check_wait_status (status, &error))
      g_error ("cannot take a screenshot with ImageMagick's import: %s", error->message);
  }
  g_test_message ("screenshot: %s", path);
  return path;
}
