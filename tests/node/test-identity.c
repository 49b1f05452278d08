/* test-identity.c: the identity key is created once, guarded, never replaced */
#include "cb-identity.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
make_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("cb-identity-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autofree char *key = g_build_filename (dir, CB_IDENTITY_FILE, NULL);

  g_unlink (key);
  g_rmdir (dir);
}

static void
test_create_then_load (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *sub = g_build_filename (dir, "profile", NULL);
  g_autofree char *path = g_build_filename (sub, CB_IDENTITY_FILE, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbIdentity) first = cb_identity_load_or_create (sub, &error);
  g_autoptr(CbIdentity) second = NULL;
  GStatBuf st;
  guint8 sig[crypto_sign_BYTES];

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (first->id_hex), ==, 64);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);

  second = cb_identity_load_or_create (sub, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first->id_hex, ==, second->id_hex);
  g_assert_cmpmem (first->secret_key, 64, second->secret_key, 64);

  /* The key actually signs as the node id. */
  crypto_sign_detached (sig, NULL, (const guint8 *) "x", 1, second->secret_key);
  g_assert_cmpint (crypto_sign_verify_detached (sig, (const guint8 *) "x", 1, first->public_key), ==, 0);

  remove_dir (sub);
  g_rmdir (dir);
}

static void
assert_refused (const char *dir, int code, const char *needle)
{
  g_autofree char *path = g_build_filename (dir, CB_IDENTITY_FILE, NULL);
  g_autofree char *before = NULL, *after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CbIdentity) identity = NULL;

  g_file_get_contents (path, &before, NULL, NULL);
  identity = cb_identity_load_or_create (dir, &error);
  g_assert_null (identity);
  g_assert_error (error, CB_IDENTITY_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_nonnull (strstr (error->message, path));
  /* Never silently replaced. */
  g_file_get_contents (path, &after, NULL, NULL);
  g_assert_cmpstr (before, ==, after);
}

static void
test_world_readable_refused (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, CB_IDENTITY_FILE, NULL);
  g_autoptr(CbIdentity) identity = cb_identity_load_or_create (dir, NULL);

  g_assert_nonnull (identity);
  g_chmod (path, 0644);
  assert_refused (dir, CB_IDENTITY_ERROR_INSECURE, "chmod 600");
  g_chmod (path, 0640);
  assert_refused (dir, CB_IDENTITY_ERROR_INSECURE, "mode 0640");
  remove_dir (dir);
}

static void
write_key (const char *dir, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, CB_IDENTITY_FILE, NULL);

  g_unlink (path);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  g_chmod (path, 0600);
}

static void
test_corrupt_refused (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(CbIdentity) identity = cb_identity_load_or_create (dir, NULL);
  g_autofree char *path = g_build_filename (dir, CB_IDENTITY_FILE, NULL);
  g_autofree char *good = NULL;
  g_autofree char *flipped = NULL;

  g_assert_true (g_file_get_contents (path, &good, NULL, NULL));

  write_key (dir, "");
  assert_refused (dir, CB_IDENTITY_ERROR_CORRUPT, "corrupt");
  write_key (dir, "cloud-bevy-identity-1\nzz\n");
  assert_refused (dir, CB_IDENTITY_ERROR_CORRUPT, "new identity");
  write_key (dir, "not a key at all\n");
  assert_refused (dir, CB_IDENTITY_ERROR_CORRUPT, "corrupt");
  /* Valid hex, but the public half no longer matches the seed. */
  flipped = g_strdup (good);
  flipped[strlen (flipped) - 2] = flipped[strlen (flipped) - 2] == '0' ? '1' : '0';
  write_key (dir, flipped);
  assert_refused (dir, CB_IDENTITY_ERROR_CORRUPT, "corrupt");
  /* Truncated. */
  good[strlen (good) - 10] = '\0';
  write_key (dir, good);
  assert_refused (dir, CB_IDENTITY_ERROR_CORRUPT, "corrupt");
  remove_dir (dir);
}

static void
test_unreadable_refused (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, CB_IDENTITY_FILE, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbIdentity) identity = NULL;

  /* A directory where the key should be: exists, cannot be read. */
  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  identity = cb_identity_load_or_create (dir, &error);
  g_assert_null (identity);
  g_assert_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_UNREADABLE);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
  g_rmdir (path);

  /* A dangling symlink is not "missing": no new key is created behind it. */
  g_assert_cmpint (symlink ("/nonexistent/cb-key", path), ==, 0);
  g_clear_error (&error);
  identity = cb_identity_load_or_create (dir, &error);
  g_assert_null (identity);
  g_assert_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_UNREADABLE);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/identity/create-then-load", test_create_then_load);
  g_test_add_func ("/node/identity/world-readable-refused", test_world_readable_refused);
  g_test_add_func ("/node/identity/corrupt-refused", test_corrupt_refused);
  g_test_add_func ("/node/identity/unreadable-refused", test_unreadable_refused);
  return g_test_run ();
}
