/* test-launch.c: the cloud-bevy binary as a person starts it
 *
 * Runs the real executable ($CB_BROWSER) as separate processes on a private
 * session bus and display: the first launch opens its page, a second launch
 * hands its address to the running instance over D-Bus and exits. */
#include "cb-config.h"
#include "cb-test-server.h"
#include "cb-test-ui.h"

#include <signal.h>

static CbTestServer *server;

static const char *
browser_path (void)
{
  const char *path = g_getenv ("CB_BROWSER");

  if (path == NULL)
    g_error ("CB_BROWSER must name the cloud-bevy binary under test");
  return path;
}

static GSubprocess *
spawn (GSubprocessFlags flags,
       const char      *first_arg,
       ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *process;
  va_list args;

  g_ptr_array_add (argv, (char *) browser_path ());
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata, flags, &error);
  g_assert_no_error (error);
  return process;
}

typedef struct {
  const char *path;
  guint hits;
} HitWait;

static gboolean
server_hit (gpointer data)
{
  HitWait *wait = data;

  return cb_test_server_hits (server, wait->path) >= wait->hits;
}

static void
wait_for_request (const char *path)
{
  HitWait wait = { path, 1 };
  g_autofree char *what = g_strdup_printf ("the browser to request %s", path);

  cb_test_wait_until (server_hit, &wait, what);
}

/* Asks the X server, like a window manager would, for a top-level window
 * with exactly this title. */
static gboolean
x_window_titled (gpointer data)
{
  g_autofree char *pattern = g_strdup_printf ("^%s$", (const char *) data);
  g_autofree char *out = NULL;
  const char *argv[] = { "xdotool", "search", "--name", pattern, NULL };
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, NULL))
    g_error ("cannot run xdotool");
  return g_spawn_check_wait_status (status, NULL) && out != NULL && *out != '\0';
}

/* Runs xdotool; real key presses go through the X server's XTEST
 * extension, as if typed on a keyboard. */
static void
xdo (const char *first_arg,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, (char *) "xdotool");
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     NULL, NULL, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL))
    g_error ("xdotool %s failed", first_arg);
}

static void
wait_for_window (const char *title)
{
  g_autofree char *what = g_strdup_printf ("a window titled \"%s\"", title);

  cb_test_wait_until (x_window_titled, (gpointer) title, what);
}

typedef struct {
  gboolean done;
  gboolean ok;
  GError *error;
} ExitWait;

static void
on_process_exit (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  ExitWait *wait = data;

  wait->ok = g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, &wait->error);
  wait->done = TRUE;
}

static gboolean
exited (gpointer data)
{
  return ((ExitWait *) data)->done;
}

static void
wait_for_success (GSubprocess *process,
                  const char  *what)
{
  ExitWait wait = { 0 };

  g_subprocess_wait_check_async (process, NULL, on_process_exit, &wait);
  cb_test_wait_until (exited, &wait, what);
  g_assert_no_error (wait.error);
  g_assert_true (wait.ok);
}

static void
stop (GSubprocess *process)
{
  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, NULL);
}

static void
test_single_instance (void)
{
  g_autofree char *first = cb_test_server_uri (server, "/title/First%20Launch");
  g_autofree char *second = cb_test_server_uri (server, "/title/Second%20Launch");
  g_autoptr(GSubprocess) primary = NULL;
  g_autoptr(GSubprocess) forwarder = NULL;

  primary = spawn (G_SUBPROCESS_FLAGS_NONE, first, NULL);
  wait_for_request ("/title/First Launch");
  /* The window title follows the page title. */
  wait_for_window ("First Launch");

  /* A second launch forwards its address and exits successfully… */
  forwarder = spawn (G_SUBPROCESS_FLAGS_NONE, second, NULL);
  wait_for_success (forwarder, "the second launch to hand over and exit");
  /* …and the running instance opens it in a new tab, which it selects. */
  wait_for_request ("/title/Second Launch");
  wait_for_window ("Second Launch");
  g_assert_null (g_subprocess_get_identifier (forwarder));
  g_assert_nonnull (g_subprocess_get_identifier (primary));

  stop (primary);
}

static void
test_version (void)
{
  g_autoptr(GSubprocess) process = spawn (G_SUBPROCESS_FLAGS_STDOUT_PIPE, "--version", NULL);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_cmpstr (out, ==, "cloud-bevy " CB_VERSION "\n");
}

static void
test_bare_host_argument (void)
{
  g_autofree char *host = g_strdup_printf ("localhost:%u/title/From%%20Argument",
                                           cb_test_server_port (server));
  g_autoptr(GSubprocess) primary = spawn (G_SUBPROCESS_FLAGS_NONE, host, NULL);

  wait_for_request ("/title/From Argument");
  wait_for_window ("From Argument");
  stop (primary);
}

static void
focus_window (const char *title)
{
  g_autofree char *pattern = g_strdup_printf ("^%s$", title);
  g_autofree char *out = NULL;
  const char *argv[] = { "xdotool", "search", "--name", pattern, NULL };
  g_auto(GStrv) ids = NULL;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, NULL, NULL, NULL));
  ids = g_strsplit (g_strstrip (out), "\n", -1);
  g_assert_nonnull (ids[0]);
  xdo ("windowfocus", "--sync", ids[0], NULL);
}

static void
type_address (const char *uri)
{
  xdo ("type", "--delay", "5", uri, NULL);
  xdo ("key", "Return", NULL);
}

static void
wait_for_hits (const char *path,
               guint       hits)
{
  HitWait wait = { path, hits };
  g_autofree char *what = g_strdup_printf ("%u requests for %s", hits, path);

  cb_test_wait_until (server_hit, &wait, what);
}

/* The shortcuts of the issue, pressed on a (virtual) keyboard. */
static void
test_keyboard_shortcuts (void)
{
  g_autofree char *alpha = cb_test_server_uri (server, "/title/Alpha");
  g_autofree char *beta = cb_test_server_uri (server, "/title/Beta");
  g_autofree char *gamma = cb_test_server_uri (server, "/title/Gamma");
  g_autoptr(GSubprocess) browser = spawn (G_SUBPROCESS_FLAGS_NONE, alpha, NULL);

  wait_for_window ("Alpha");
  focus_window ("Alpha");

  xdo ("key", "ctrl+t", NULL);                 /* new tab, address entry focused */
  wait_for_window ("New Tab");
  type_address (beta);
  wait_for_window ("Beta");

  xdo ("key", "ctrl+Tab", NULL);               /* wraps to the first tab */
  wait_for_window ("Alpha");
  xdo ("key", "ctrl+shift+Tab", NULL);
  wait_for_window ("Beta");

  xdo ("key", "ctrl+l", NULL);                 /* address entry, text selected */
  type_address (gamma);
  wait_for_window ("Gamma");
  xdo ("key", "alt+Left", NULL);
  wait_for_window ("Beta");
  xdo ("key", "alt+Right", NULL);
  wait_for_window ("Gamma");

  xdo ("key", "ctrl+r", NULL);
  wait_for_hits ("/title/Gamma", 2);
  wait_for_window ("Gamma");
  xdo ("key", "F5", NULL);
  wait_for_hits ("/title/Gamma", 3);
  wait_for_window ("Gamma");

  xdo ("key", "ctrl+w", NULL);                 /* closes Beta/Gamma's tab */
  wait_for_window ("Alpha");

  xdo ("key", "ctrl+n", NULL);                 /* a second window, blank */
  wait_for_window ("New Tab");
  wait_for_window ("Alpha");

  xdo ("key", "ctrl+q", NULL);                 /* quits: the process exits */
  wait_for_success (browser, "Ctrl+Q to quit the browser");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  server = cb_test_server_new (0, &error);
  g_assert_no_error (error);

  g_test_add_func ("/shell/launch/version", test_version);
  g_test_add_func ("/shell/launch/single-instance", test_single_instance);
  g_test_add_func ("/shell/launch/bare-host-argument", test_bare_host_argument);
  g_test_add_func ("/shell/launch/keyboard-shortcuts", test_keyboard_shortcuts);

  status = g_test_run ();
  cb_test_server_free (server);
  return status;
}
