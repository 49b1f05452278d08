/* cb-repo-publish.c: init, add, sign, rotate and verify a repository */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-repo-publish.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "cb-hex.h"
#include "cb-identity.h"
#include "cb-json-check.h"
#include "cb-plugin-manifest.h"
#include "cb-plugin-module.h"
#include "cb-sdk-host.h"
#include "cb-version.h"

#define MAX_ROTATIONS 1000

static GBytes *
read_file (const char *dir, const char *name, gsize max, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) local_error = NULL;

  if (!g_file_get_contents (path, &contents, &len, &local_error))
    {
      g_set_error (error, CB_REPO_ERROR,
                   g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                   ? CB_REPO_ERROR_NOT_FOUND : CB_REPO_ERROR_FAILED, "%s", local_error->message);
      return NULL;
    }
  if (len > max)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_TOO_LARGE, "%s is larger than %zu bytes",
                   path, max);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static gboolean
write_file (const char *dir, const char *name, GBytes *bytes, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_set_contents_full (path, g_bytes_get_data (bytes, NULL),
                                   (gssize) g_bytes_get_size (bytes),
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

/* Loads (or, when create, makes) each key; secrets: n * 64 bytes. */
static GArray *
load_keys (const char * const *paths, gboolean create, GError **error)
{
  g_autoptr(GArray) secrets = g_array_new (FALSE, TRUE, 64);

  if (paths == NULL || paths[0] == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "no signing key given (--key FILE)");
      return NULL;
    }
  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr(CbIdentity) key = NULL;

      if (create && !g_file_test (paths[i], G_FILE_TEST_EXISTS))
        {
          if (!cb_identity_write_new (paths[i], &key, error))
            return NULL;
        }
      else if ((key = cb_identity_load (paths[i], error)) == NULL)
        return NULL;
      g_array_append_vals (secrets, key->secret_key, 1);
    }
  return g_steal_pointer (&secrets);
}

static CbRepoRoot *
current_root (const char *dir, GError **error)
{
  g_autoptr(GBytes) bytes = read_file (dir, "root.json", CB_REPO_MAX_ROOT, error);
  g_autoptr(CbRepoEnvelope) envelope = NULL;

  if (bytes == NULL)
    return NULL;
  envelope = cb_repo_envelope_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                     CB_REPO_MAX_ROOT, error);
  return envelope != NULL ? cb_repo_root_parse (envelope->signed_text, error) : NULL;
}

static CbRepoIndex *
current_index (const char *dir, GError **error)
{
  g_autoptr(GBytes) draft = read_file (dir, CB_REPO_DRAFT_FILE, CB_REPO_MAX_INDEX, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(CbRepoEnvelope) envelope = NULL;

  if (draft != NULL)
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (draft, NULL), g_bytes_get_size (draft));
      return cb_repo_index_parse (text, error);
    }
  bytes = read_file (dir, "index.json", CB_REPO_MAX_INDEX, error);
  if (bytes == NULL)
    return NULL;
  envelope = cb_repo_envelope_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                     CB_REPO_MAX_INDEX, error);
  return envelope != NULL ? cb_repo_index_parse (envelope->signed_text, error) : NULL;
}

static gboolean
write_root (const char *dir, CbRepoRoot *root, GArray *secrets, GError **error)
{
  g_autofree char *text = cb_repo_root_to_json (root);
  g_autoptr(GBytes) envelope = cb_repo_envelope_sign ("root", text,
                                                      (const guint8 (*)[64]) secrets->data,
                                                      secrets->len);
  g_autofree char *versioned = g_strdup_printf ("%" G_GUINT64_FORMAT ".root.json", root->version);

  return write_file (dir, versioned, envelope, error) && write_file (dir, "root.json", envelope, error);
}

static gboolean
write_index (const char *dir, CbRepoIndex *index, GArray *secrets, GError **error)
{
  g_autofree char *text = cb_repo_index_to_json (index);
  g_autoptr(GBytes) envelope = cb_repo_envelope_sign ("index", text,
                                                      (const guint8 (*)[64]) secrets->data,
                                                      secrets->len);

  return write_file (dir, "index.json", envelope, error);
}

gboolean
cb_repo_publish_init (const char          *dir,
                      const char          *name,
                      const char * const  *key_paths,
                      guint                threshold,
                      gint64               now,
                      gint64               root_ttl,
                      gint64               index_ttl,
                      GError             **error)
{
  g_autoptr(GArray) secrets = NULL;
  g_autoptr(CbRepoRoot) root = NULL;
  g_autoptr(CbRepoIndex) index = NULL;
  g_autofree char *root_path = g_build_filename (dir, "root.json", NULL);

  if (g_file_test (root_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s already holds a repository (root.json); use add and sign", dir);
      return FALSE;
    }
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  if ((secrets = load_keys (key_paths, TRUE, error)) == NULL)
    return FALSE;
  if (threshold < 1 || threshold > secrets->len || secrets->len > CB_REPO_MAX_KEYS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "a threshold of %u with %u keys: it must be 1..%u (and at most %d keys)",
                   threshold, secrets->len, secrets->len, CB_REPO_MAX_KEYS);
      return FALSE;
    }
  root = cb_repo_root_new (name);
  root->threshold = threshold;
  root->expires = now + root_ttl;
  for (guint i = 0; i < secrets->len; i++)
    {
      const guint8 *public_key = (const guint8 *) secrets->data + 64 * i + 32;

      if (cb_repo_root_has_key (root, public_key))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "the same key given twice");
          return FALSE;
        }
      g_array_append_vals (root->keys, public_key, 1);
    }
  index = cb_repo_index_new ();
  index->expires = now + index_ttl;
  return write_root (dir, root, secrets, error) && write_index (dir, index, secrets, error);
}

char *
cb_repo_package_file_name (const char *system,
                           const char *version,
                           const char *arch,
                           gboolean    ui)
{
  g_autofree char *origin = cb_system_name_to_origin_host (system);

  return g_strdup_printf ("%s%s-%s-%s.so", origin, ui ? "-ui" : "", version, arch);
}

static gboolean
copy_module (const char  *from_dir,
             const char  *file,
             const char  *dir,
             const char  *target_name,
             CbRepoFile  *out,
             GError     **error)
{
  g_autofree char *from = g_build_filename (from_dir, file, NULL);
  g_autoptr(GBytes) bytes = read_file (from_dir, file, CB_REPO_MAX_PACKAGE_SIZE, error);
  gsize digest_len = 32;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  if (bytes == NULL)
    {
      g_prefix_error (error, "the manifest's module %s: ", from);
      return FALSE;
    }
  g_checksum_update (sum, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_checksum_get_digest (sum, out->sha256, &digest_len);
  out->size = g_bytes_get_size (bytes);
  out->url = g_strdup (target_name);
  return write_file (dir, target_name, bytes, error);
}

gboolean
cb_repo_publish_add (const char      *dir,
                     const char      *manifest_path,
                     const char      *arch,
                     gboolean         load_check,
                     CbRepoPackage  **added,
                     GError         **error)
{
  g_autoptr(CbPluginManifest) manifest = cb_plugin_manifest_load (manifest_path, error);
  g_autoptr(CbRepoIndex) index = NULL;
  g_autoptr(CbRepoPackage) package = NULL;
  g_autofree char *from_dir = g_path_get_dirname (manifest_path);
  g_autofree char *core_name = NULL;
  g_autofree char *draft = NULL;
  g_autoptr(GBytes) draft_bytes = NULL;
  const CbRepoPackage *existing;

  if (manifest == NULL || (index = current_index (dir, error)) == NULL)
    return FALSE;
  if (load_check)
    {
      g_autofree char *core = g_build_filename (from_dir, manifest->core, NULL);
      g_autoptr(CbPluginModule) module = cb_plugin_module_load (core, manifest->system,
                                                                manifest->version, error);
      if (module == NULL)
        return FALSE;
      cb_plugin_module_unload (module);
    }
  existing = cb_repo_index_lookup (index, manifest->system, arch);
  if (existing != NULL && cb_version_compare (existing->version, manifest->version) >= 0)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK,
                   "the index already lists %s %s for %s; a new release needs a higher version "
                   "than that (clients refuse to go back)", manifest->system, existing->version,
                   arch);
      return FALSE;
    }
  package = g_new0 (CbRepoPackage, 1);
  package->system = g_strdup (manifest->system);
  package->version = g_strdup (manifest->version);
  package->arch = g_strdup (arch);
  package->abi = g_strdup (manifest->abi);
  package->title = g_strdup (manifest->title);
  package->description = g_strdup (manifest->description);
  core_name = cb_repo_package_file_name (manifest->system, manifest->version, arch, FALSE);
  if (!copy_module (from_dir, manifest->core, dir, core_name, &package->core, error))
    return FALSE;
  if (manifest->ui != NULL)
    {
      g_autofree char *ui_name = cb_repo_package_file_name (manifest->system, manifest->version,
                                                            arch, TRUE);
      if (!copy_module (from_dir, manifest->ui, dir, ui_name, &package->ui, error))
        return FALSE;
      package->has_ui = TRUE;
    }
  for (guint i = 0; i < index->packages->len; i++)
    if (index->packages->pdata[i] == existing)
      g_ptr_array_remove_index (index->packages, i);
  g_ptr_array_add (index->packages, cb_repo_package_copy (package));
  draft = cb_repo_index_to_json (index);
  draft_bytes = g_bytes_new (draft, strlen (draft));
  if (!write_file (dir, CB_REPO_DRAFT_FILE, draft_bytes, error))
    return FALSE;
  if (added != NULL)
    *added = g_steal_pointer (&package);
  return TRUE;
}

gboolean
cb_repo_publish_sign (const char          *dir,
                      const char * const  *key_paths,
                      guint64              version,
                      gint64               now,
                      gint64               ttl,
                      guint64             *version_out,
                      GError             **error)
{
  g_autoptr(GArray) secrets = load_keys (key_paths, FALSE, error);
  g_autoptr(CbRepoRoot) root = NULL;
  g_autoptr(CbRepoIndex) index = NULL;
  g_autoptr(GBytes) old = NULL;
  g_autoptr(CbRepoEnvelope) old_envelope = NULL;
  g_autoptr(CbRepoIndex) old_index = NULL;
  g_autofree char *draft = g_build_filename (dir, CB_REPO_DRAFT_FILE, NULL);
  guint n_root_keys = 0;

  if (secrets == NULL || (root = current_root (dir, error)) == NULL
      || (index = current_index (dir, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < secrets->len; i++)
    if (cb_repo_root_has_key (root, (const guint8 *) secrets->data + 64 * i + 32))
      n_root_keys++;
  if (n_root_keys < root->threshold)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_THRESHOLD,
                   "%u of the given keys are in root version %" G_GUINT64_FORMAT ", which needs "
                   "%u signatures: clients would refuse the index", n_root_keys, root->version,
                   root->threshold);
      return FALSE;
    }
  /* Monotonic: above the version already published. */
  old = read_file (dir, "index.json", CB_REPO_MAX_INDEX, NULL);
  if (old != NULL)
    old_envelope = cb_repo_envelope_parse (g_bytes_get_data (old, NULL), g_bytes_get_size (old),
                                           CB_REPO_MAX_INDEX, NULL);
  if (old_envelope != NULL)
    old_index = cb_repo_index_parse (old_envelope->signed_text, NULL);
  if (version == 0)
    version = old_index != NULL ? old_index->version + 1 : 1;
  else if (old_index != NULL && version <= old_index->version)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK,
                   "index version %" G_GUINT64_FORMAT " is published already; the next one must "
                   "be above it", old_index->version);
      return FALSE;
    }
  index->version = version;
  index->expires = now + ttl;
  index->root_version = root->version;
  if (!write_index (dir, index, secrets, error))
    return FALSE;
  g_unlink (draft);
  if (version_out != NULL)
    *version_out = version;
  return TRUE;
}

gboolean
cb_repo_publish_rotate (const char          *dir,
                        const char * const  *old_key_paths,
                        const char * const  *new_key_paths,
                        guint                threshold,
                        gint64               now,
                        gint64               ttl,
                        GError             **error)
{
  g_autoptr(GArray) old_secrets = load_keys (old_key_paths, FALSE, error);
  g_autoptr(GArray) new_secrets = NULL;
  g_autoptr(GArray) all = NULL;
  g_autoptr(CbRepoRoot) root = NULL;
  g_autoptr(CbRepoRoot) next = NULL;
  g_autoptr(CbRepoRoot) checked = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) envelope = NULL;
  g_autofree char *versioned = NULL;

  if (old_secrets == NULL || (new_secrets = load_keys (new_key_paths, TRUE, error)) == NULL
      || (root = current_root (dir, error)) == NULL)
    return FALSE;
  if (threshold < 1 || threshold > new_secrets->len)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "a threshold of %u with %u new keys", threshold, new_secrets->len);
      return FALSE;
    }
  next = cb_repo_root_new (root->name);
  next->version = root->version + 1;
  next->threshold = threshold;
  next->expires = now + ttl;
  all = g_array_new (FALSE, TRUE, 64);
  for (guint i = 0; i < new_secrets->len; i++)
    {
      const guint8 *secret = (const guint8 *) new_secrets->data + 64 * i;

      if (!cb_repo_root_has_key (next, secret + 32))
        g_array_append_vals (next->keys, secret + 32, 1);
      g_array_append_vals (all, secret, 1);
    }
  for (guint i = 0; i < old_secrets->len; i++)
    {
      const guint8 *secret = (const guint8 *) old_secrets->data + 64 * i;
      gboolean dup = FALSE;

      for (guint j = 0; j < all->len; j++)
        if (memcmp ((const guint8 *) all->data + 64 * j, secret, 64) == 0)
          dup = TRUE;
      if (!dup)
        g_array_append_vals (all, secret, 1);
    }
  text = cb_repo_root_to_json (next);
  envelope = cb_repo_envelope_sign ("root", text, (const guint8 (*)[64]) all->data, all->len);
  /* Refuse what clients would refuse: a rotation below the threshold. */
  checked = cb_repo_verify_root (g_bytes_get_data (envelope, NULL), g_bytes_get_size (envelope),
                                 root, now, TRUE, error);
  if (checked == NULL)
    return FALSE;
  versioned = g_strdup_printf ("%" G_GUINT64_FORMAT ".root.json", next->version);
  return write_file (dir, versioned, envelope, error) && write_file (dir, "root.json", envelope, error);
}

static gboolean
verify_file (const char *dir, const CbRepoFile *file, const char *what, GString *report,
             GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize digest_len = 32;

  if (g_str_has_prefix (file->url, "https://"))
    {
      g_string_append_printf (report, "%s: %s (remote, not checked here)\n", what, file->url);
      return TRUE;
    }
  bytes = read_file (dir, file->url, CB_REPO_MAX_PACKAGE_SIZE, error);
  if (bytes == NULL)
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  if (g_bytes_get_size (bytes) != file->size)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_HASH_MISMATCH,
                   "%s: %s is %zu bytes, the index says %" G_GUINT64_FORMAT, what, file->url,
                   g_bytes_get_size (bytes), file->size);
      return FALSE;
    }
  g_checksum_update (sum, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_checksum_get_digest (sum, digest, &digest_len);
  if (memcmp (digest, file->sha256, 32) != 0)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_HASH_MISMATCH,
                   "%s: the SHA-256 of %s is not the one the index lists", what, file->url);
      return FALSE;
    }
  g_string_append_printf (report, "%s: %s, %" G_GUINT64_FORMAT " bytes, SHA-256 matches\n", what,
                          file->url, file->size);
  return TRUE;
}

gboolean
cb_repo_publish_verify (const char  *dir,
                        gint64       now,
                        GString     *report,
                        GError     **error)
{
  g_autoptr(GBytes) first = read_file (dir, "1.root.json", CB_REPO_MAX_ROOT, error);
  g_autoptr(GBytes) latest = NULL;
  g_autoptr(GBytes) index_bytes = NULL;
  g_autoptr(CbRepoRoot) root = NULL;
  g_autoptr(CbRepoIndex) index = NULL;
  g_autoptr(GPtrArray) earlier = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_repo_root_free);
  g_autofree char *fingerprint = NULL;

  if (first == NULL)
    return FALSE;
  root = cb_repo_verify_root (g_bytes_get_data (first, NULL), g_bytes_get_size (first), NULL, now,
                              FALSE, error);
  if (root == NULL)
    return FALSE;
  if (root->version != 1)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                   "1.root.json holds root version %" G_GUINT64_FORMAT, root->version);
      return FALSE;
    }
  g_string_append_printf (report, "root version 1: %u key(s), threshold %u\n", root->keys->len,
                          root->threshold);
  for (guint i = 0; i < MAX_ROTATIONS; i++)
    {
      g_autofree char *name = g_strdup_printf ("%" G_GUINT64_FORMAT ".root.json", root->version + 1);
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GBytes) bytes = read_file (dir, name, CB_REPO_MAX_ROOT, &local_error);
      CbRepoRoot *next;

      if (bytes == NULL)
        {
          if (g_error_matches (local_error, CB_REPO_ERROR, CB_REPO_ERROR_NOT_FOUND))
            break;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      next = cb_repo_verify_root (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), root,
                                  now, FALSE, error);
      if (next == NULL)
        return FALSE;
      g_string_append_printf (report, "root version %" G_GUINT64_FORMAT ": rotation signed by the "
                              "previous keys; %u key(s), threshold %u\n", next->version,
                              next->keys->len, next->threshold);
      g_ptr_array_add (earlier, g_steal_pointer (&root));
      root = next;
    }
  latest = read_file (dir, "root.json", CB_REPO_MAX_ROOT, error);
  if (latest == NULL)
    return FALSE;
  {
    g_autoptr(CbRepoRoot) current = cb_repo_verify_root (g_bytes_get_data (latest, NULL),
                                                         g_bytes_get_size (latest), NULL, now,
                                                         TRUE, error);
    g_autofree char *a = NULL, *b = NULL;

    if (current == NULL)
      return FALSE;
    a = cb_repo_root_to_json (current);
    b = cb_repo_root_to_json (root);
    if (strcmp (a, b) != 0)
      {
        g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                     "root.json (version %" G_GUINT64_FORMAT ") is not the last root of the "
                     "chain (version %" G_GUINT64_FORMAT ")", current->version, root->version);
        return FALSE;
      }
  }
  fingerprint = cb_repo_root_fingerprint (root);
  g_string_append_printf (report, "publisher fingerprint: %s\n", fingerprint);
  index_bytes = read_file (dir, "index.json", CB_REPO_MAX_INDEX, error);
  if (index_bytes == NULL)
    return FALSE;
  index = cb_repo_verify_index (g_bytes_get_data (index_bytes, NULL),
                                g_bytes_get_size (index_bytes), root, earlier, 0, now, error);
  if (index == NULL)
    return FALSE;
  {
    g_autofree char *expires = cb_json_format_time (index->expires);
    g_string_append_printf (report, "index version %" G_GUINT64_FORMAT ", expires %s, %u "
                            "package(s)\n", index->version, expires, index->packages->len);
  }
  for (guint i = 0; i < index->packages->len; i++)
    {
      const CbRepoPackage *package = index->packages->pdata[i];
      g_autofree char *what = g_strdup_printf ("%s %s (%s)", package->system, package->version,
                                               package->arch);
      g_autofree char *ui_what = g_strconcat (what, " UI module", NULL);

      if (!verify_file (dir, &package->core, what, report, error)
          || (package->has_ui && !verify_file (dir, &package->ui, ui_what, report, error)))
        return FALSE;
    }
  return TRUE;
}
