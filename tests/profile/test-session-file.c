/* test-session-file.c: the session file: round trip, damage, limits */
#include "cb-session-file.h"
#include "cb-profile-db.h"
#include "cb-test-profile.h"

#include <string.h>

static CbSession *
sample (void)
{
  CbSession *session = cb_session_new ();
  CbSessionWindow *a = cb_session_add_window (session);
  CbSessionWindow *b = cb_session_add_window (session);
  g_autoptr(GBytes) state = g_bytes_new ("\x00\x01\x02webkit\xff", 10);

  cb_session_window_add_tab (a, "https://a.example/", "A \"quoted\" title", state);
  cb_session_window_add_tab (a, "https://b.example/ü", "Ünïcode", NULL);
  a->selected = 1;
  cb_session_window_add_tab (b, "cloud:node", "Cloud Node", NULL);
  return session;
}

static void
test_round_trip (void)
{
  g_autoptr(CbSession) session = sample ();
  g_autoptr(CbSession) again = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  g_autofree char *json = cb_session_encode (session, &len);
  CbSessionWindow *a;
  CbSessionTab *tab;

  again = cb_session_decode (json, len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->windows->len, ==, 2);
  a = again->windows->pdata[0];
  g_assert_cmpuint (a->tabs->len, ==, 2);
  g_assert_cmpuint (a->selected, ==, 1);
  tab = a->tabs->pdata[0];
  g_assert_cmpstr (tab->title, ==, "A \"quoted\" title");
  g_assert_nonnull (tab->state);
  g_assert_cmpmem (g_bytes_get_data (tab->state, NULL), g_bytes_get_size (tab->state),
                   "\x00\x01\x02webkit\xff", 10);
  g_assert_null (((CbSessionTab *) a->tabs->pdata[1])->state);
}

static void
test_rejects (void)
{
  static const struct { const char *input; const char *message; } cases[] = {
    { "", "damaged" },
    { "[1, 2]", "not a JSON object" },
    { "{\"windows\": []}", "\"version\"" },
    { "{\"version\": 9, \"windows\": []}", "format 9" },
    { "{\"version\": 1, \"windows\": {}}", "\"windows\" is not a list" },
    { "{\"version\": 1, \"windows\": [3]}", "window 1 is not an object" },
    { "{\"version\": 1, \"windows\": [{\"selected\": 0, \"tabs\": [{\"uri\": 5, \"title\": \"\"}]}]}",
      "\"uri\"" },
    { "{\"version\": 1, \"windows\": [{\"selected\": 0, \"tabs\": [{\"uri\": \"x\", \"title\": \"\", "
      "\"state\": \"@@@@\"}]}]}", "not base64" },
    { "{\"version\": 1, \"windows\": [{\"selected\": 0, \"tabs\": [{\"uri\": \"x\", \"title\": \"\", "
      "\"state\": \"abc\"}]}]}", "not base64" },
    { "{\"version\": 1, \"windows\": [{\"selected\": \"a\", \"tabs\": []}]}", "\"selected\"" },
    { "{\"version\": 1, \"windows\": \xff}", "not UTF-8" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CbSession) session = cb_session_decode (cases[i].input, strlen (cases[i].input),
                                                        &error);
      g_assert_null (session);
      g_assert_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID);
      g_test_message ("%s", error->message);
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": \"%s\" does not say \"%s\"", i, error->message,
                 cases[i].message);
    }
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

static void
test_file (void)
{
  g_autofree char *dir = cb_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "session.json", NULL);
  g_autoptr(CbSession) session = sample ();
  g_autoptr(CbSession) missing = NULL, loaded = NULL, damaged = NULL;
  g_autoptr(GAsyncResult) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *listing = NULL;

  /* No file yet: nothing to restore, no error. */
  cb_session_load_async (path, NULL, store_result, &r1);
  cb_test_await (&r1);
  missing = cb_session_load_finish (r1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (missing->windows->len, ==, 0);

  cb_session_save_async (path, session, NULL, store_result, &r2);
  cb_test_await (&r2);
  g_assert_true (cb_session_save_finish (r2, &error));
  cb_session_load_async (path, NULL, store_result, &r3);
  cb_test_await (&r3);
  loaded = cb_session_load_finish (r3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->windows->len, ==, 2);

  /* Damaged: refused, set aside, said so. */
  g_assert_true (g_file_set_contents (path, "{\"version\": 1, \"windows\": [", -1, NULL));
  cb_session_load_async (path, NULL, store_result, &r4);
  cb_test_await (&r4);
  damaged = cb_session_load_finish (r4, &error);
  g_assert_null (damaged);
  g_assert_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "session.json.corrupt-"));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  listing = cb_test_list_dir (dir);
  g_assert_true (g_str_has_prefix (listing, "session.json.corrupt-"));
  cb_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/profile/session/round-trip", test_round_trip);
  g_test_add_func ("/profile/session/rejects", test_rejects);
  g_test_add_func ("/profile/session/file", test_file);
  return g_test_run ();
}
