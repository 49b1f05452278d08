/* test-downloads.c: downloads in real windows against the local server:
 * saved to the XDG download folder under safe, unique names, shown with
 * progress in the downloads popover, cancelled and retried, opened with
 * the default application and shown in the file manager (a stand-in
 * org.freedesktop.FileManager1 on the test's own bus). */
#include "cb-config.h"
#include "cb-downloads-popover.h"
#include "cb-test-app.h"

#include <glib/gstdio.h>
#include <string.h>

static CbDownloadManager *
downloads_of (CbWindow *window)
{
  return cb_web_context_get_downloads (cb_window_get_context (window));
}

static char *
download_dir (void)
{
  /* No user-dirs.dirs in the test's home: GLib answers $HOME, and the
   * browser falls back to ~/Downloads as a person would expect. */
  return g_build_filename (g_get_home_dir (), "Downloads", NULL);
}

static gboolean
has_downloads (gpointer data)
{
  CbWindow *window = data;
  guint want = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (window), "want-downloads"));

  return g_list_model_get_n_items (cb_download_manager_get_model (downloads_of (window))) >= want;
}

static CbDownload *
wait_download (CbWindow *window,
               guint     n)
{
  g_object_set_data (G_OBJECT (window), "want-downloads", GUINT_TO_POINTER (n));
  cb_test_wait_until (has_downloads, window, "a download to start");
  /* Newest first. */
  return g_list_model_get_item (cb_download_manager_get_model (downloads_of (window)), 0);
}

typedef struct {
  CbDownload *download;
  CbDownloadState state;
} StateWait;

static gboolean
in_state (gpointer data)
{
  StateWait *wait = data;

  return cb_download_get_state (wait->download) == wait->state;
}

static void
wait_state (CbDownload      *download,
            CbDownloadState  state)
{
  StateWait wait = { download, state };
  g_autofree char *what = g_strdup_printf ("%s to reach state %d", cb_download_get_filename (download),
                                           state);

  cb_test_wait_until (in_state, &wait, what);
}

static void
assert_file (const char *path,
             gsize       size)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, ==, size);
  for (gsize i = 0; i < len; i++)
    if (contents[i] != (char) ('a' + i % 26))
      g_error ("%s differs at byte %" G_GSIZE_FORMAT, path, i);
}

static gboolean
popover_visible (gpointer data)
{
  return gtk_widget_get_visible (cb_window_get_downloads_popover (data));
}

static void
test_attachment (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/");
  g_autofree char *uri = cb_test_server_uri (cb_test_http, "/download/report.txt?size=5000");
  g_autofree char *dir = download_dir ();
  g_autofree char *first = g_build_filename (dir, "report.txt", NULL);
  g_autofree char *second = g_build_filename (dir, "report (2).txt", NULL);
  g_autoptr(CbDownload) a = NULL, b = NULL;

  cb_test_wait_for_title (view, "Index");
  /* A link to an attachment: the page stays, the file downloads. */
  {
    g_autofree char *script = g_strdup_printf ("location.href = '%s'; 'ok'", uri);
    g_free (cb_test_run_js (view, script));
  }
  a = wait_download (window, 1);
  wait_state (a, CB_DOWNLOAD_FINISHED);
  g_assert_cmpstr (cb_download_get_destination (a), ==, first);
  assert_file (first, 5000);
  g_assert_cmpstr (webkit_web_view_get_title (view), ==, "Index");
  /* The header bar shows the downloads button and opens its list. */
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (cb_window_get_downloads_button (window))));
  cb_test_wait_until (popover_visible, window, "the downloads list to open");

  /* The same name again: a second file beside the first. */
  webkit_web_view_load_uri (view, uri);
  b = wait_download (window, 2);
  wait_state (b, CB_DOWNLOAD_FINISHED);
  g_assert_cmpstr (cb_download_get_destination (b), ==, second);
  assert_file (second, 5000);
  {
    g_autofree char *described = cb_download_describe (b);
    g_assert_cmpstr (described, ==, "Finished — 5.0\xc2\xa0kB");
  }
  g_free (cb_test_screenshot_screen ("downloads-finished"));
  cb_test_close_window (window);
}

static gboolean
half_way (gpointer data)
{
  CbDownload *download = data;

  return cb_download_get_received (download) >= 100000 && cb_download_get_total (download) == 200000;
}

static void
test_cancel_and_retry (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/title/Downloads");
  CbDownloadsPopover *popover = CB_DOWNLOADS_POPOVER (cb_window_get_downloads_popover (window));
  g_autofree char *uri = cb_test_server_uri (cb_test_http, "/download-stall/big.bin");
  g_autoptr(CbDownload) download = NULL;
  GtkWidget *button;
  guint before = g_list_model_get_n_items (cb_download_manager_get_model (downloads_of (window)));

  cb_test_wait_for_title (view, "Downloads");
  webkit_web_view_load_uri (view, uri);
  download = wait_download (window, before + 1);
  cb_test_wait_until (half_way, download, "the download to stall half way");
  g_assert_cmpint (cb_download_get_state (download), ==, CB_DOWNLOAD_RUNNING);
  g_assert_cmpfloat (cb_download_get_progress (download), >, 0.4);
  gtk_menu_button_popup (cb_window_get_downloads_button (window));
  cb_test_wait_until (popover_visible, window, "the downloads list");
  g_free (cb_test_screenshot_screen ("downloads-running"));

  /* Cancel, from its row. */
  button = cb_downloads_popover_get_button (popover, 0, "cancel");
  g_assert_nonnull (button);
  g_assert_null (cb_downloads_popover_get_button (popover, 0, "retry"));
  gtk_widget_activate (button);
  wait_state (download, CB_DOWNLOAD_CANCELLED);
  g_free (cb_test_screenshot_screen ("downloads-cancelled"));

  /* Retry: the same row, the whole file this time. */
  button = cb_downloads_popover_get_button (popover, 0, "retry");
  g_assert_nonnull (button);
  gtk_widget_activate (button);
  wait_state (download, CB_DOWNLOAD_FINISHED);
  g_assert_cmpuint (cb_test_server_hits (cb_test_http, "/download-stall/big.bin"), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (cb_download_manager_get_model (downloads_of (window))),
                    ==, before + 1);
  assert_file (cb_download_get_destination (download), 200000);
  g_assert_nonnull (cb_downloads_popover_get_button (popover, 0, "open"));
  g_assert_nonnull (cb_downloads_popover_get_button (popover, 0, "folder"));
  cb_test_close_window (window);
}

/* --- opening --- */

static char *shown_uris;

static void
file_manager_call (GDBusConnection       *connection,
                   const char            *sender,
                   const char            *path,
                   const char            *interface,
                   const char            *method,
                   GVariant              *parameters,
                   GDBusMethodInvocation *invocation,
                   gpointer               user_data)
{
  g_autofree const char **uris = NULL;
  const char *startup_id;

  if (g_strcmp0 (method, "ShowItems") != 0)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                             "only ShowItems here");
      return;
    }
  g_variant_get (parameters, "(^a&s&s)", &uris, &startup_id);
  g_free (shown_uris);
  shown_uris = g_strjoinv (" ", (char **) uris);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

/* The part of org.freedesktop.FileManager1 the browser uses, as Nautilus
 * implements it. */
static const char file_manager_xml[] =
  "<node><interface name='org.freedesktop.FileManager1'>"
  "<method name='ShowItems'><arg type='as' name='URIs' direction='in'/>"
  "<arg type='s' name='StartupId' direction='in'/></method>"
  "</interface></node>";

static const GDBusInterfaceVTable file_manager_vtable = { file_manager_call, NULL, NULL };

static gboolean
string_set (gpointer data)
{
  return *(char **) data != NULL;
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static void
test_open (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *view = cb_test_open (window, "/title/Open%20Test");
  CbDownloadsPopover *popover = CB_DOWNLOADS_POPOVER (cb_window_get_downloads_popover (window));
  g_autofree char *uri = cb_test_server_uri (cb_test_http, "/download/notes.txt?size=300");
  g_autofree char *apps = g_build_filename (g_get_user_data_dir (), "applications", NULL);
  g_autofree char *marker = g_build_filename (g_get_tmp_dir (), "cb-opened", NULL);
  g_autofree char *script = g_build_filename (g_get_tmp_dir (), "cb-test-opener.sh", NULL);
  g_autofree char *desktop = g_build_filename (apps, "cb-test-opener.desktop", NULL);
  g_autofree char *mimeapps = g_build_filename (g_get_user_config_dir (), "mimeapps.list", NULL);
  g_autofree char *script_text = g_strdup_printf ("#!/bin/sh\nprintf '%%s' \"$1\" > '%s.part' && "
                                                  "mv '%s.part' '%s'\n", marker, marker, marker);
  g_autofree char *desktop_text = g_strdup_printf ("[Desktop Entry]\nType=Application\n"
                                                   "Name=Test Opener\nExec=%s %%f\n"
                                                   "MimeType=text/plain;\nNoDisplay=true\n", script);
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (file_manager_xml, NULL);
  g_autoptr(CbDownload) download = NULL;
  g_autofree char *opened = NULL;
  g_autofree char *file_uri = NULL;
  guint registration, owner;
  guint before = g_list_model_get_n_items (cb_download_manager_get_model (downloads_of (window)));

  /* The desktop as a person has it: an application for text files, the
   * default one, and a file manager on the session bus. */
  g_assert_cmpint (g_mkdir_with_parents (apps, 0755), ==, 0);
  g_assert_true (g_file_set_contents (script, script_text, -1, NULL));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  g_assert_true (g_file_set_contents (desktop, desktop_text, -1, NULL));
  g_assert_true (g_file_set_contents (mimeapps, "[Default Applications]\n"
                                                "text/plain=cb-test-opener.desktop\n", -1, NULL));
  registration = g_dbus_connection_register_object (bus, "/org/freedesktop/FileManager1",
                                                    info->interfaces[0], &file_manager_vtable,
                                                    NULL, NULL, NULL);
  g_assert_cmpuint (registration, >, 0);
  owner = g_bus_own_name_on_connection (bus, "org.freedesktop.FileManager1",
                                        G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL, NULL, NULL);

  cb_test_wait_for_title (view, "Open Test");
  webkit_web_view_load_uri (view, uri);
  download = wait_download (window, before + 1);
  wait_state (download, CB_DOWNLOAD_FINISHED);

  gtk_widget_activate (cb_downloads_popover_get_button (popover, 0, "open"));
  cb_test_wait_until (file_exists, marker, "the default application to be started");
  g_assert_true (g_file_get_contents (marker, &opened, NULL, NULL));
  g_assert_cmpstr (opened, ==, cb_download_get_destination (download));

  gtk_widget_activate (cb_downloads_popover_get_button (popover, 0, "folder"));
  cb_test_wait_until (string_set, &shown_uris, "the file manager to be asked");
  file_uri = g_filename_to_uri (cb_download_get_destination (download), NULL, NULL);
  g_assert_cmpstr (shown_uris, ==, file_uri);

  g_bus_unown_name (owner);
  g_dbus_connection_unregister_object (bus, registration);
  cb_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  cb_test_app_init (&argc, &argv, "Downloads");
  g_test_add_func ("/shell/downloads/attachment", test_attachment);
  g_test_add_func ("/shell/downloads/cancel-retry", test_cancel_and_retry);
  g_test_add_func ("/shell/downloads/open", test_open);
  return cb_test_app_run ();
}
