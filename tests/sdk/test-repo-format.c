/* test-repo-format.c: the metadata decoders, signatures and names
 *
 * Every malformed document is refused with a message that says what is
 * wrong; signatures count once per key; versions and system names follow
 * their rules. */
#include "cb-plugin-manifest.h"
#include "cb-repo-format.h"
#include "cb-sdk-host.h"
#include "cb-version.h"

#include <sodium.h>
#include <string.h>

#define NOW G_GINT64_CONSTANT (1780272000)

static guint8 sk[3][64];
static guint8 pk[3][32];

static void
make_keys (void)
{
  for (guint i = 0; i < 3; i++)
    {
      guint8 seed[32];

      memset (seed, 0x10 + (int) i, sizeof seed);
      crypto_sign_seed_keypair (pk[i], sk[i], seed);
    }
}

static CbRepoRoot *
root_of (guint n_keys, guint threshold)
{
  CbRepoRoot *root = cb_repo_root_new ("Test");

  root->expires = NOW + 100;
  root->threshold = threshold;
  for (guint i = 0; i < n_keys; i++)
    g_array_append_vals (root->keys, pk[i], 1);
  return root;
}

static void
expect_root_error (const char *text, int code, const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbRepoRoot) root = cb_repo_root_parse (text, &error);

  g_assert_null (root);
  g_assert_error (error, CB_REPO_ERROR, code);
  if (strstr (error->message, needle) == NULL)
    g_error ("\"%s\" does not say \"%s\"", error->message, needle);
}

static void
test_root_documents (void)
{
  g_autoptr(CbRepoRoot) root = root_of (2, 2);
  g_autofree char *text = cb_repo_root_to_json (root);
  g_autoptr(CbRepoRoot) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fp1 = NULL, *fp2 = NULL;

  back = cb_repo_root_parse (text, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->threshold, ==, 2);
  g_assert_cmpuint (back->keys->len, ==, 2);
  g_assert_cmpint (back->expires, ==, NOW + 100);
  /* The fingerprint does not depend on the order of the keys. */
  fp1 = cb_repo_root_fingerprint (root);
  g_array_remove_index (back->keys, 0);
  g_array_append_vals (back->keys, pk[0], 1);
  fp2 = cb_repo_root_fingerprint (back);
  g_assert_cmpstr (fp1, ==, fp2);
  g_assert_cmpuint (strlen (fp1), ==, 39);

  expect_root_error ("{\"type\":\"index\"}", CB_REPO_ERROR_MIX_AND_MATCH, "not a root");
  expect_root_error ("{\"type\":\"root\",\"name\":\"x\",\"version\":0,\"expires\":\"2026-01-01T00:00:00Z\","
                     "\"threshold\":1,\"keys\":[]}", CB_REPO_ERROR_MALFORMED, "\"version\" 0");
  expect_root_error ("{\"type\":\"root\",\"name\":\"x\",\"version\":1,\"expires\":\"tomorrow\","
                     "\"threshold\":1,\"keys\":[]}", CB_REPO_ERROR_MALFORMED, "UTC time");
  expect_root_error ("{\"type\":\"root\",\"name\":\"x\",\"version\":1,\"expires\":\"2026-01-01T00:00:00Z\","
                     "\"threshold\":2,\"keys\":[]}", CB_REPO_ERROR_MALFORMED, "lists only 0 keys");
  expect_root_error ("{\"type\":\"root\",\"type\":\"root\"}", CB_REPO_ERROR_MALFORMED,
                     "more than once");
  expect_root_error ("not json", CB_REPO_ERROR_MALFORMED, "not valid JSON");
}

static GBytes *
sign (const char *type, const char *text, const guint *which, guint n)
{
  guint8 secrets[4][64];

  for (guint i = 0; i < n; i++)
    memcpy (secrets[i], sk[which[i]], 64);
  return cb_repo_envelope_sign (type, text, (const guint8 (*)[64]) secrets, n);
}

static void
test_signatures (void)
{
  g_autoptr(CbRepoRoot) root = root_of (3, 2);
  g_autofree char *text = cb_repo_root_to_json (root);
  g_autoptr(GError) error = NULL;
  const guint one[] = { 0 }, twice[] = { 0, 0 }, two[] = { 0, 2 };
  g_autoptr(GBytes) e1 = sign ("root", text, one, 1);
  g_autoptr(GBytes) e2 = sign ("root", text, twice, 2);
  g_autoptr(GBytes) e3 = sign ("root", text, two, 2);
  g_autoptr(CbRepoRoot) ok = NULL;
  g_autoptr(CbRepoRoot) bad = NULL;

  bad = cb_repo_verify_root (g_bytes_get_data (e1, NULL), g_bytes_get_size (e1), NULL, NOW, TRUE,
                             &error);
  g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_THRESHOLD);
  g_assert_nonnull (strstr (error->message, "signed by 1 of the 2 keys"));
  g_clear_error (&error);
  /* One key signing twice is still one key. */
  bad = cb_repo_verify_root (g_bytes_get_data (e2, NULL), g_bytes_get_size (e2), NULL, NOW, TRUE,
                             &error);
  g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_THRESHOLD);
  g_clear_error (&error);
  ok = cb_repo_verify_root (g_bytes_get_data (e3, NULL), g_bytes_get_size (e3), NULL, NOW, TRUE,
                            &error);
  g_assert_no_error (error);
  /* Expired now, fine for an old link of a chain. */
  bad = cb_repo_verify_root (g_bytes_get_data (e3, NULL), g_bytes_get_size (e3), NULL, NOW + 200,
                             TRUE, &error);
  g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_EXPIRED);
  g_clear_error (&error);
  g_clear_pointer (&ok, cb_repo_root_free);
  ok = cb_repo_verify_root (g_bytes_get_data (e3, NULL), g_bytes_get_size (e3), NULL, NOW + 200,
                            FALSE, &error);
  g_assert_no_error (error);

}

static void
test_index_documents (void)
{
  g_autoptr(CbRepoRoot) root = root_of (1, 1);
  g_autoptr(CbRepoIndex) index = cb_repo_index_new ();
  CbRepoPackage *package = g_new0 (CbRepoPackage, 1);
  g_autofree char *text = NULL;
  g_autoptr(GBytes) env = NULL;
  g_autoptr(CbRepoIndex) back = NULL;
  g_autoptr(GError) error = NULL;
  const guint first[] = { 0 };

  index->version = 5;
  index->expires = NOW + 10;
  package->system = g_strdup ("example.org/chess");
  package->version = g_strdup ("2.0.1");
  package->arch = g_strdup ("aarch64");
  package->abi = g_strdup (CB_SDK_ABI_NAME);
  package->title = g_strdup ("Chess");
  package->description = g_strdup ("Play");
  package->core.url = g_strdup ("chess.so");
  package->core.size = 10;
  g_ptr_array_add (index->packages, package);
  text = cb_repo_index_to_json (index);
  env = sign ("index", text, first, 1);
  back = cb_repo_verify_index (g_bytes_get_data (env, NULL), g_bytes_get_size (env), root, NULL, 5,
                               NOW, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cb_repo_index_lookup (back, "example.org/chess", "aarch64"));
  g_assert_null (cb_repo_index_lookup (back, "example.org/chess", "x86_64"));
  g_clear_pointer (&back, cb_repo_index_free);
  back = cb_repo_verify_index (g_bytes_get_data (env, NULL), g_bytes_get_size (env), root, NULL, 6,
                               NOW, &error);
  g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK);
  g_clear_error (&error);
  /* A root served as the index. */
  {
    g_autofree char *rt = cb_repo_root_to_json (root);
    g_autoptr(GBytes) renv = sign ("root", rt, first, 1);

    back = cb_repo_verify_index (g_bytes_get_data (renv, NULL), g_bytes_get_size (renv), root,
                                 NULL, 0, NOW, &error);
    g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH);
    g_clear_error (&error);
    /* A document whose type says index, signed as a root. */
    g_autoptr(GBytes) confused = sign ("root", text, first, 1);
    back = cb_repo_verify_index (g_bytes_get_data (confused, NULL), g_bytes_get_size (confused),
                                 root, NULL, 0, NOW, &error);
    g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH);
    g_clear_error (&error);
  }
  /* Too big to even read. */
  {
    g_autofree char *big = g_strnfill (CB_REPO_MAX_INDEX + 1, ' ');
    back = cb_repo_verify_index ((const guint8 *) big, strlen (big), root, NULL, 0, NOW, &error);
    g_assert_error (error, CB_REPO_ERROR, CB_REPO_ERROR_TOO_LARGE);
    g_clear_error (&error);
  }
}

static void
test_versions (void)
{
  const char *good[] = { "1", "1.0", "1.2.3", "10.20.30.40", "0.0.1" };
  const char *bad[] = { "", "01", "1.", ".1", "1..2", "1.2.3.4.5", "1.2-beta", "v1", "1e3",
                        "1000000000" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (cb_version_validate (good[i], NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (cb_version_validate (bad[i], NULL));
  g_assert_cmpint (cb_version_compare ("1.2", "1.2.0"), ==, 0);
  g_assert_cmpint (cb_version_compare ("1.10", "1.9"), >, 0);
  g_assert_cmpint (cb_version_compare ("2", "10"), <, 0);
}

static void
test_system_names (void)
{
  const char *good[] = { "github.com/event-games", "test/kv", "example.org/games/chess", "a1.b2/c3" };
  const char *bad[] = { "", "guestbook", "GitHub.com/x", "github.com/", "github.com//x",
                        "github.com/x/", "-a.org/x", "a.org/-x", "a..org/x", "a.org/x_y",
                        "a.org/x+y", "a.org/x y" };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *origin = cb_system_name_to_origin_host (good[i]);
      g_autofree char *back = cb_system_name_from_origin_host (origin);

      g_assert_true (cb_system_name_validate (good[i], &error));
      g_assert_no_error (error);
      g_assert_null (strchr (origin, '/'));
      g_assert_cmpstr (back, ==, good[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (cb_system_name_validate (bad[i], &error));
      g_assert_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID);
      g_clear_error (&error);
    }
  {
    g_autofree char *many = g_strnfill (300, 'a');
    g_autofree char *long_name = g_strdup_printf ("a.org/%s", many);
    g_autofree char *origin = cb_system_name_to_origin_host ("github.com/event-games");
    g_autofree char *none = cb_system_name_from_origin_host ("example.org");

    g_assert_false (cb_system_name_validate (long_name, NULL));
    g_assert_cmpstr (origin, ==, "github.com+event-games");
    g_assert_null (none);
  }
}

static void
test_manifests (void)
{
  const char *valid = "{\"format\":\"cloud-bevy-plugin-1\",\"system\":\"a.org/x\",\"version\":\"1.0\","
                      "\"title\":\"X\",\"description\":\"\",\"abi\":\"" CB_SDK_ABI_NAME "\","
                      "\"core\":\"x.so\"}";
  const struct { const char *text; const char *needle; } bad[] = {
    { "{\"format\":\"cloud-bevy-plugin-7\"}", "format" },
    { "{\"format\":\"cloud-bevy-plugin-1\",\"system\":\"a.org/x\",\"version\":\"1.0\",\"title\":\"X\","
      "\"description\":\"\",\"abi\":\"cloud-bevy-sdk-9\",\"core\":\"x.so\"}", "cloud-bevy-sdk-9" },
    { "{\"format\":\"cloud-bevy-plugin-1\",\"system\":\"a.org/x\",\"version\":\"1.0\",\"title\":\"X\","
      "\"description\":\"\",\"abi\":\"" CB_SDK_ABI_NAME "\",\"core\":\"../x.so\"}", "file names" },
    { "{\"format\":\"cloud-bevy-plugin-1\",\"system\":\"X\",\"version\":\"1.0\",\"title\":\"X\","
      "\"description\":\"\",\"abi\":\"" CB_SDK_ABI_NAME "\",\"core\":\"x.so\"}", "not a system name" },
    { "[]", "not a JSON object" },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(CbPluginManifest) manifest = cb_plugin_manifest_parse ((const guint8 *) valid,
                                                                   strlen (valid), &error);

  g_assert_no_error (error);
  g_assert_cmpstr (manifest->core, ==, "x.so");
  g_assert_null (manifest->ui);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(CbPluginManifest) none = cb_plugin_manifest_parse ((const guint8 *) bad[i].text,
                                                                   strlen (bad[i].text), &error);
      g_assert_null (none);
      g_assert_nonnull (error);
      if (strstr (error->message, bad[i].needle) == NULL)
        g_error ("\"%s\" does not say \"%s\"", error->message, bad[i].needle);
      g_clear_error (&error);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  make_keys ();
  g_test_add_func ("/sdk/repo-format/root", test_root_documents);
  g_test_add_func ("/sdk/repo-format/signatures", test_signatures);
  g_test_add_func ("/sdk/repo-format/index", test_index_documents);
  g_test_add_func ("/sdk/repo-format/versions", test_versions);
  g_test_add_func ("/sdk/repo-format/system-names", test_system_names);
  g_test_add_func ("/sdk/repo-format/manifests", test_manifests);
  return g_test_run ();
}
