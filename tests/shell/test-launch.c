/* test-launch.c: the cloud-bevy binary as a person starts it
 *
 * Runs the real executable ($CB_BROWSER) as separate processes on a private
 * session bus and display: the first launch opens its page, a second launch
 * hands its address to the running instance over D-Bus and exits. */
#include "cb-config.h"
#include "cb-test-server.h"
#include "cb-test-ui.h"

#include <json-glib/json-glib.h>
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

/* Each test starts from a profile of its own (the browser remembers its
 * tabs, so one test's windows would otherwise reopen in the next). */
static char *profile_root;
static gboolean keyfile_settings;

static void
fresh_profile (void)
{
  g_autoptr(GError) error = NULL;

  g_free (profile_root);
  profile_root = g_dir_make_tmp ("cb-launch-profile-XXXXXX", &error);
  g_assert_no_error (error);
  keyfile_settings = FALSE;
}

static char *
profile_path (const char *first,
              ...)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();
  va_list args;

  g_ptr_array_add (parts, profile_root);
  va_start (args, first);
  for (const char *part = first; part != NULL; part = va_arg (args, const char *))
    g_ptr_array_add (parts, (char *) part);
  va_end (args);
  g_ptr_array_add (parts, NULL);
  return g_build_filenamev ((char **) parts->pdata);
}

static GSubprocess *
spawn (GSubprocessFlags flags,
       const char      *first_arg,
       ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL, *config = NULL, *cache = NULL;
  GSubprocess *process;
  va_list args;

  if (profile_root == NULL)
    fresh_profile ();
  data = profile_path ("data", NULL);
  config = profile_path ("config", NULL);
  cache = profile_path ("cache", NULL);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  /* Settings that outlive a process, where a test needs them to. */
  if (keyfile_settings)
    g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "keyfile", TRUE);
  g_ptr_array_add (argv, (char *) browser_path ());
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
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

/* --- session restore --- */

static char *
session_file (void)
{
  return profile_path ("data", "cloud-bevy", "profile", "session.json", NULL);
}

/* "title title …" of the tabs in the saved session, window by window,
 * each tab marked "+" when its history was saved too. */
static char *
saved_tabs (void)
{
  g_autofree char *path = session_file ();
  g_autofree char *contents = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  JsonArray *windows;

  if (!g_file_get_contents (path, &contents, NULL, NULL) ||
      !json_parser_load_from_data (parser, contents, -1, NULL) ||
      json_parser_get_root (parser) == NULL)
    return g_strdup ("");
  windows = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                          "windows");
  for (guint w = 0; w < json_array_get_length (windows); w++)
    {
      JsonArray *tabs = json_object_get_array_member (json_array_get_object_element (windows, w),
                                                      "tabs");
      for (guint t = 0; t < json_array_get_length (tabs); t++)
        {
          JsonObject *tab = json_array_get_object_element (tabs, t);
          g_string_append_printf (out, "%s%s%s", out->len ? " " : "",
                                  json_object_get_string_member (tab, "title"),
                                  json_object_has_member (tab, "state") ? "+" : "");
        }
      g_string_append (out, " |");
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
session_is (gpointer data)
{
  g_autofree char *tabs = saved_tabs ();

  return g_str_equal (tabs, data);
}

static void
wait_for_session (const char *tabs)
{
  g_autofree char *what = g_strdup_printf ("the session file to hold \"%s\"", tabs);

  cb_test_wait_until (session_is, (gpointer) tabs, what);
}

static void
kill_hard (GSubprocess *process)
{
  /* A crash, as far as the browser can tell: no chance to save anything. */
  g_subprocess_force_exit (process);
  g_subprocess_wait (process, NULL, NULL);
}

/* Several addresses at once: a tab each, the first in front.  The others
 * wait for the first page (or a moment, when it is slow, as /slow here,
 * which never answers), so they do not slow it down. */
static void
test_several_addresses (void)
{
  g_autofree char *slow = cb_test_server_uri (server, "/slow");
  g_autofree char *beta = cb_test_server_uri (server, "/title/Beta");
  g_autofree char *gamma = cb_test_server_uri (server, "/title/Gamma");
  g_autofree char *delta = cb_test_server_uri (server, "/title/Delta");
  g_autoptr(GSubprocess) primary = NULL;
  gint64 asked;

  primary = spawn (G_SUBPROCESS_FLAGS_NONE, slow, beta, NULL);
  wait_for_request ("/slow");
  asked = g_get_monotonic_time ();
  g_assert_cmpuint (cb_test_server_hits (server, "/title/Beta"), ==, 0);
  wait_for_request ("/title/Beta");
  g_assert_cmpint (g_get_monotonic_time () - asked, >=, G_USEC_PER_SEC);
  stop (primary);

  /* A page that loads lets the others go as soon as it has (a new
   * profile: no session from the first run to restore). */
  fresh_profile ();
  primary = spawn (G_SUBPROCESS_FLAGS_NONE, gamma, delta, beta, NULL);
  wait_for_window ("Gamma");
  wait_for_request ("/title/Delta");
  wait_for_hits ("/title/Beta", 2);
  wait_for_session ("Gamma+ Delta+ Beta+ |");
  stop (primary);
}

static void
test_session_after_crash (void)
{
  g_autofree char *alpha = cb_test_server_uri (server, "/title/Alpha");
  g_autofree char *beta = cb_test_server_uri (server, "/title/Beta");
  g_autofree char *gamma = cb_test_server_uri (server, "/title/Gamma");
  g_autoptr(GSubprocess) first = NULL, forwarder = NULL, again = NULL;
  guint alpha_hits, beta_hits, gamma_hits;

  first = spawn (G_SUBPROCESS_FLAGS_NONE, alpha, NULL);
  wait_for_window ("Alpha");
  focus_window ("Alpha");
  xdo ("key", "ctrl+l", NULL);
  type_address (beta);                          /* the same tab: Alpha, then Beta */
  wait_for_window ("Beta");
  forwarder = spawn (G_SUBPROCESS_FLAGS_NONE, gamma, NULL);
  wait_for_success (forwarder, "the second launch to hand over");
  wait_for_window ("Gamma");                    /* a second tab, selected */
  wait_for_session ("Beta+ Gamma+ |");
  kill_hard (first);

  alpha_hits = cb_test_server_hits (server, "/title/Alpha");
  beta_hits = cb_test_server_hits (server, "/title/Beta");
  gamma_hits = cb_test_server_hits (server, "/title/Gamma");
  again = spawn (G_SUBPROCESS_FLAGS_NONE, NULL);
  /* The tab that was selected comes back, and loads… */
  wait_for_window ("Gamma");
  wait_for_hits ("/title/Gamma", gamma_hits + 1);
  /* …the other waits until it is looked at… */
  g_assert_cmpuint (cb_test_server_hits (server, "/title/Beta"), ==, beta_hits);
  focus_window ("Gamma");
  xdo ("key", "ctrl+Tab", NULL);
  wait_for_window ("Beta");
  wait_for_hits ("/title/Beta", beta_hits + 1);
  /* …with its history: Back goes to Alpha. */
  xdo ("key", "alt+Left", NULL);
  wait_for_window ("Alpha");
  g_assert_cmpuint (cb_test_server_hits (server, "/title/Alpha"), >=, alpha_hits);
  stop (again);
}

static void
test_session_opt_out (void)
{
  g_autofree char *alpha = cb_test_server_uri (server, "/title/Alpha");
  g_autofree char *keyfile_dir = profile_path ("config", "glib-2.0", "settings", NULL);
  g_autofree char *keyfile = g_build_filename (keyfile_dir, "keyfile", NULL);
  g_autoptr(GSubprocess) first = NULL, again = NULL;
  guint alpha_hits;

  /* Preferences → "Restore tabs on start" off, as a saved setting. */
  keyfile_settings = TRUE;
  g_assert_cmpint (g_mkdir_with_parents (keyfile_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (keyfile, "[io/github/cloudbevy/CloudBevy]\n"
                                               "restore-session=false\n", -1, NULL));
  first = spawn (G_SUBPROCESS_FLAGS_NONE, alpha, NULL);
  wait_for_window ("Alpha");
  wait_for_session ("Alpha+ |");
  kill_hard (first);

  alpha_hits = cb_test_server_hits (server, "/title/Alpha");
  again = spawn (G_SUBPROCESS_FLAGS_NONE, NULL);
  wait_for_window ("New Tab");
  cb_test_iterate (1000);
  g_assert_false (x_window_titled ((gpointer) "Alpha"));
  g_assert_cmpuint (cb_test_server_hits (server, "/title/Alpha"), ==, alpha_hits);
  stop (again);
}

static void
test_session_private_not_saved (void)
{
  g_autofree char *alpha = cb_test_server_uri (server, "/title/Alpha");
  g_autofree char *delta = cb_test_server_uri (server, "/title/Delta");
  g_autoptr(GSubprocess) browser = spawn (G_SUBPROCESS_FLAGS_NONE, alpha, NULL);

  wait_for_window ("Alpha");
  focus_window ("Alpha");
  xdo ("key", "ctrl+shift+n", NULL);
  wait_for_window ("New Tab — Private");
  type_address (delta);
  wait_for_window ("Delta — Private");
  wait_for_session ("Alpha+ |");
  /* Well after a save would have happened: still only the normal window. */
  cb_test_iterate (2000);
  g_assert_true (session_is ((gpointer) "Alpha+ |"));
  stop (browser);
}

static void
test_session_damaged (void)
{
  g_autofree char *dir = profile_path ("data", "cloud-bevy", "profile", NULL);
  g_autofree char *path = session_file ();
  g_autoptr(GSubprocess) browser = NULL;
  g_autoptr(GDir) listing = NULL;
  const char *name;
  gboolean kept = FALSE;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "{\"version\": 1, \"windows\": [{\"tabs\": 7", -1,
                                      NULL));
  browser = spawn (G_SUBPROCESS_FLAGS_NONE, NULL);
  /* A fresh start, the damaged file kept aside. */
  wait_for_window ("New Tab");
  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    kept |= g_str_has_prefix (name, "session.json.corrupt-");
  g_assert_true (kept);
  stop (browser);
}

static void
run_fresh (gconstpointer data)
{
  void (*test) (void) = (void (*) (void)) data;

  fresh_profile ();
  test ();
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

  g_test_add_data_func ("/shell/launch/version", (gconstpointer) test_version, run_fresh);
  g_test_add_data_func ("/shell/launch/single-instance", (gconstpointer) test_single_instance, run_fresh);
  g_test_add_data_func ("/shell/launch/bare-host-argument", (gconstpointer) test_bare_host_argument, run_fresh);
  g_test_add_data_func ("/shell/launch/several-addresses", (gconstpointer) test_several_addresses, run_fresh);
  g_test_add_data_func ("/shell/launch/keyboard-shortcuts", (gconstpointer) test_keyboard_shortcuts, run_fresh);
  g_test_add_data_func ("/shell/launch/session-after-crash", (gconstpointer) test_session_after_crash,
                        run_fresh);
  g_test_add_data_func ("/shell/launch/session-opt-out", (gconstpointer) test_session_opt_out,
                        run_fresh);
  g_test_add_data_func ("/shell/launch/session-private-not-saved",
                        (gconstpointer) test_session_private_not_saved, run_fresh);
  g_test_add_data_func ("/shell/launch/session-damaged", (gconstpointer) test_session_damaged,
                        run_fresh);

  status = g_test_run ();
  cb_test_server_free (server);
  return status;
}
