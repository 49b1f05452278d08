/* cb-repo-format.c: envelopes, roots and indexes: checked decoders,
 * signing and verification */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-repo-format.h"

#include <sodium.h>
#include <string.h>

#include "cb-hex.h"
#include "cb-json-check.h"
#include "cb-sdk-host.h"
#include "cb-version.h"

G_DEFINE_QUARK (cb-repo-error-quark, cb_repo_error)

#define CHECK(what_) { CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED, (what_) }

char *
cb_repo_key_id (const guint8 key[32])
{
  return cb_hex_encode (key, 8);
}

/* ---- envelopes ---- */

void
cb_repo_envelope_free (CbRepoEnvelope *envelope)
{
  if (envelope == NULL)
    return;
  g_free (envelope->type);
  g_free (envelope->signed_text);
  g_array_unref (envelope->signatures);
  g_free (envelope);
}

CbRepoEnvelope *
cb_repo_envelope_parse (const guint8  *data,
                        gsize          len,
                        gsize          max_len,
                        GError       **error)
{
  const CbJsonCheck check = CHECK ("the metadata file");
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(CbRepoEnvelope) envelope = NULL;
  JsonObject *obj;
  const char *format, *type, *text;
  JsonArray *sigs;

  if (len > max_len)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_TOO_LARGE,
                   "the metadata file is %zu bytes; at most %zu are accepted", len, max_len);
      return NULL;
    }
  root = cb_json_check_parse_object (&check, (const char *) data, len, error);
  if (root == NULL)
    return NULL;
  obj = json_node_get_object (root);
  if ((format = cb_json_check_string (&check, obj, "format", FALSE, 64, TRUE, error)) == NULL)
    return NULL;
  if (strcmp (format, CB_REPO_FORMAT) != 0)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_UNSUPPORTED,
                   "the metadata file is in the format \"%s\"; this Cloud Bevy reads \"%s\"",
                   format, CB_REPO_FORMAT);
      return NULL;
    }
  if ((type = cb_json_check_string (&check, obj, "type", FALSE, 16, TRUE, error)) == NULL
      || (text = cb_json_check_string (&check, obj, "signed", FALSE, 0, FALSE, error)) == NULL
      || (sigs = cb_json_check_array (&check, obj, "signatures", CB_REPO_MAX_SIGNATURES,
                                      error)) == NULL)
    return NULL;
  if (strcmp (type, "root") != 0 && strcmp (type, "index") != 0)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED,
                   "the metadata file has the type \"%s\"; expected root or index", type);
      return NULL;
    }
  envelope = g_new0 (CbRepoEnvelope, 1);
  envelope->type = g_strdup (type);
  envelope->signed_text = g_strdup (text);
  envelope->signatures = g_array_new (FALSE, TRUE, sizeof (CbRepoSignature));
  for (guint i = 0; i < json_array_get_length (sigs); i++)
    {
      JsonNode *item = json_array_get_element (sigs, i);
      g_autofree char *what = g_strdup_printf ("signature %u of the metadata file", i + 1);
      const CbJsonCheck sig_check = CHECK (what);
      CbRepoSignature sig;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        {
          g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED, "%s is not an object",
                       what);
          return NULL;
        }
      if (!cb_json_check_hex (&sig_check, json_node_get_object (item), "key", sig.key, 32, error)
          || !cb_json_check_hex (&sig_check, json_node_get_object (item), "sig", sig.sig, 64,
                                 error))
        return NULL;
      g_array_append_val (envelope->signatures, sig);
    }
  return g_steal_pointer (&envelope);
}

static GBytes *
signed_message (const char *type, const char *text)
{
  g_autofree char *message = g_strconcat (CB_REPO_FORMAT "/", type, "\n", text, NULL);
  gsize len = strlen (message);

  return g_bytes_new_take (g_steal_pointer (&message), len);
}

GBytes *
cb_repo_envelope_sign (const char    *type,
                       const char    *signed_text,
                       const guint8 (*secrets)[64],
                       guint          n_secrets)
{
  g_autoptr(GBytes) message = signed_message (type, signed_text);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  char *text;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, CB_REPO_FORMAT);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "signed");
  json_builder_add_string_value (builder, signed_text);
  json_builder_set_member_name (builder, "signatures");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n_secrets; i++)
    {
      guint8 sig[64];
      char key_hex[65], sig_hex[129];

      crypto_sign_detached (sig, NULL, g_bytes_get_data (message, NULL),
                            g_bytes_get_size (message), secrets[i]);
      cb_hex_encode_into (secrets[i] + 32, 32, key_hex);
      cb_hex_encode_into (sig, 64, sig_hex);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "key");
      json_builder_add_string_value (builder, key_hex);
      json_builder_set_member_name (builder, "sig");
      json_builder_add_string_value (builder, sig_hex);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  return g_bytes_new_take (text, strlen (text));
}

/* ---- roots ---- */

CbRepoRoot *
cb_repo_root_new (const char *name)
{
  CbRepoRoot *root = g_new0 (CbRepoRoot, 1);

  root->name = g_strdup (name);
  root->version = 1;
  root->threshold = 1;
  root->keys = g_array_new (FALSE, TRUE, 32);
  return root;
}

void
cb_repo_root_free (CbRepoRoot *root)
{
  if (root == NULL)
    return;
  g_free (root->name);
  g_array_unref (root->keys);
  g_free (root);
}

CbRepoRoot *
cb_repo_root_copy (const CbRepoRoot *root)
{
  CbRepoRoot *copy = cb_repo_root_new (root->name);

  copy->version = root->version;
  copy->expires = root->expires;
  copy->threshold = root->threshold;
  g_array_append_vals (copy->keys, root->keys->data, root->keys->len);
  return copy;
}

gboolean
cb_repo_root_has_key (const CbRepoRoot *root,
                      const guint8      key[32])
{
  for (guint i = 0; i < root->keys->len; i++)
    if (memcmp (root->keys->data + 32 * i, key, 32) == 0)
      return TRUE;
  return FALSE;
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, 32);
}

char *
cb_repo_root_fingerprint (const CbRepoRoot *root)
{
  g_autoptr(GArray) keys = g_array_copy (root->keys);
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *threshold = g_strdup_printf ("%u\n", root->threshold);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  GString *out = g_string_new (NULL);

  g_array_sort (keys, compare_keys);
  g_checksum_update (sum, (const guchar *) "cloud-bevy-repo-keys\n", -1);
  g_checksum_update (sum, (const guchar *) threshold, -1);
  g_checksum_update (sum, (const guchar *) keys->data, keys->len * 32);
  g_checksum_get_digest (sum, digest, &digest_len);
  for (guint i = 0; i < 16; i++)
    {
      if (i > 0 && i % 2 == 0)
        g_string_append_c (out, ' ');
      g_string_append_printf (out, "%02X", digest[i]);
    }
  return g_string_free (out, FALSE);
}

static gboolean
check_type (const CbJsonCheck *check, JsonObject *obj, const char *expected, GError **error)
{
  const char *type = cb_json_check_string (check, obj, "type", FALSE, 16, TRUE, error);

  if (type == NULL)
    return FALSE;
  if (strcmp (type, expected) != 0)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                   "%s says it is a %s document, not a %s", check->what, type, expected);
      return FALSE;
    }
  return TRUE;
}

CbRepoRoot *
cb_repo_root_parse (const char  *text,
                    GError     **error)
{
  const CbJsonCheck check = CHECK ("the repository's root");
  g_autoptr(JsonNode) node = cb_json_check_parse_object (&check, text, strlen (text), error);
  g_autoptr(CbRepoRoot) root = NULL;
  JsonObject *obj;
  const char *name;
  JsonArray *keys;
  gint64 version, threshold;

  if (node == NULL)
    return NULL;
  obj = json_node_get_object (node);
  if (!check_type (&check, obj, "root", error)
      || (name = cb_json_check_string (&check, obj, "name", FALSE, CB_REPO_MAX_TITLE, TRUE,
                                       error)) == NULL)
    return NULL;
  root = cb_repo_root_new (name);
  if (!cb_json_check_int (&check, obj, "version", 1, CB_REPO_MAX_VERSION, &version, error)
      || !cb_json_check_time (&check, obj, "expires", &root->expires, error)
      || !cb_json_check_int (&check, obj, "threshold", 1, CB_REPO_MAX_KEYS, &threshold, error)
      || (keys = cb_json_check_array (&check, obj, "keys", CB_REPO_MAX_KEYS, error)) == NULL)
    return NULL;
  root->version = (guint64) version;
  root->threshold = (guint) threshold;
  for (guint i = 0; i < json_array_get_length (keys); i++)
    {
      JsonNode *item = json_array_get_element (keys, i);
      const char *hex = JSON_NODE_HOLDS_VALUE (item) && json_node_get_value_type (item) == G_TYPE_STRING
                        ? json_node_get_string (item) : NULL;
      guint8 key[32];

      if (hex == NULL || strlen (hex) != 64 || !cb_hex_decode (hex, key, 32)
          || strspn (hex, "0123456789abcdef") != 64)
        {
          g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED,
                       "key %u of the repository's root is not 64 lowercase hex digits", i + 1);
          return NULL;
        }
      if (cb_repo_root_has_key (root, key))
        {
          g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED,
                       "the repository's root lists key %u twice", i + 1);
          return NULL;
        }
      g_array_append_vals (root->keys, key, 1);
    }
  if (root->keys->len < root->threshold)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED,
                   "the repository's root needs %u signatures but lists only %u keys",
                   root->threshold, root->keys->len);
      return NULL;
    }
  return g_steal_pointer (&root);
}

char *
cb_repo_root_to_json (const CbRepoRoot *root)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *expires = cb_json_format_time (root->expires);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "root");
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, root->name);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, (gint64) root->version);
  json_builder_set_member_name (builder, "expires");
  json_builder_add_string_value (builder, expires);
  json_builder_set_member_name (builder, "threshold");
  json_builder_add_int_value (builder, root->threshold);
  json_builder_set_member_name (builder, "keys");
  json_builder_begin_array (builder);
  for (guint i = 0; i < root->keys->len; i++)
    {
      char hex[65];

      cb_hex_encode_into ((const guint8 *) root->keys->data + 32 * i, 32, hex);
      json_builder_add_string_value (builder, hex);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  return cb_json_to_text (node);
}

/* ---- indexes ---- */

CbRepoIndex *
cb_repo_index_new (void)
{
  CbRepoIndex *index = g_new0 (CbRepoIndex, 1);

  index->version = 1;
  index->root_version = 1;
  index->packages = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_repo_package_free);
  return index;
}

void
cb_repo_index_free (CbRepoIndex *index)
{
  if (index == NULL)
    return;
  g_ptr_array_unref (index->packages);
  g_free (index);
}

void
cb_repo_package_free (CbRepoPackage *package)
{
  if (package == NULL)
    return;
  g_free (package->system);
  g_free (package->version);
  g_free (package->arch);
  g_free (package->abi);
  g_free (package->title);
  g_free (package->description);
  g_free (package->core.url);
  g_free (package->ui.url);
  g_free (package);
}

CbRepoPackage *
cb_repo_package_copy (const CbRepoPackage *package)
{
  CbRepoPackage *copy = g_memdup2 (package, sizeof *package);

  copy->system = g_strdup (package->system);
  copy->version = g_strdup (package->version);
  copy->arch = g_strdup (package->arch);
  copy->abi = g_strdup (package->abi);
  copy->title = g_strdup (package->title);
  copy->description = g_strdup (package->description);
  copy->core.url = g_strdup (package->core.url);
  copy->ui.url = g_strdup (package->ui.url);
  return copy;
}

const CbRepoPackage *
cb_repo_index_lookup (const CbRepoIndex *index,
                      const char        *system,
                      const char        *arch)
{
  for (guint i = 0; i < index->packages->len; i++)
    {
      const CbRepoPackage *package = index->packages->pdata[i];

      if (strcmp (package->system, system) == 0 && (arch == NULL || strcmp (package->arch, arch) == 0))
        return package;
    }
  return NULL;
}

/* A file name inside the repository, or an absolute https:// URL. */
static gboolean
url_ok (const char *url)
{
  if (g_str_has_prefix (url, "https://"))
    {
      g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

      return uri != NULL && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0'
             && g_uri_get_userinfo (uri) == NULL;
    }
  if (url[0] == '\0' || url[0] == '.')
    return FALSE;
  for (const char *p = url; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_' && *p != '+')
      return FALSE;
  return TRUE;
}

static gboolean
parse_file (const CbJsonCheck *check, JsonObject *obj, CbRepoFile *file, GError **error)
{
  const char *url;
  gint64 size;

  if ((url = cb_json_check_string (check, obj, "url", FALSE, CB_REPO_MAX_URL, TRUE, error)) == NULL
      || !cb_json_check_hex (check, obj, "sha256", file->sha256, 32, error)
      || !cb_json_check_int (check, obj, "size", 1, (gint64) CB_REPO_MAX_PACKAGE_SIZE, &size,
                             error))
    return FALSE;
  if (!url_ok (url))
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED,
                   "%s has the url \"%s\"; it must be a file name in the repository (letters, "
                   "digits, . - _ +) or an https:// URL", check->what, url);
      return FALSE;
    }
  file->url = g_strdup (url);
  file->size = (guint64) size;
  return TRUE;
}

static gboolean
arch_ok (const char *arch)
{
  if (*arch == '\0')
    return FALSE;
  for (const char *p = arch; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

static CbRepoPackage *
parse_package (JsonNode *node, guint i, GError **error)
{
  g_autofree char *what = g_strdup_printf ("package %u of the index", i + 1);
  const CbJsonCheck check = CHECK (what);
  g_autoptr(CbRepoPackage) package = g_new0 (CbRepoPackage, 1);
  g_autoptr(GError) local_error = NULL;
  JsonObject *obj;
  const char *system, *version, *arch, *abi, *title, *description;
  JsonNode *ui;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED, "%s is not an object", what);
      return NULL;
    }
  obj = json_node_get_object (node);
  if ((system = cb_json_check_string (&check, obj, "system", FALSE, 0, TRUE, error)) == NULL
      || (version = cb_json_check_string (&check, obj, "version", FALSE, 0, TRUE, error)) == NULL
      || (arch = cb_json_check_string (&check, obj, "arch", FALSE, 32, TRUE, error)) == NULL
      || (abi = cb_json_check_string (&check, obj, "abi", FALSE, 64, TRUE, error)) == NULL)
    return NULL;
  title = cb_json_check_string (&check, obj, "title", TRUE, CB_REPO_MAX_TITLE, TRUE, &local_error);
  if (local_error == NULL)
    description = cb_json_check_string (&check, obj, "description", TRUE,
                                        CB_REPO_MAX_DESCRIPTION, TRUE, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (!cb_system_name_validate (system, &local_error))
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED, "%s: %s", what,
                   local_error->message);
      return NULL;
    }
  if (!cb_version_validate (version, &local_error))
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED, "%s (%s): %s", what, system,
                   local_error->message);
      return NULL;
    }
  if (!arch_ok (arch) || !g_str_has_prefix (abi, "cloud-bevy-sdk-"))
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED,
                   "%s (%s) has the arch \"%s\" and the abi \"%s\"; expected an architecture "
                   "like x86_64 and an ABI like %s", what, system, arch, abi, CB_SDK_ABI_NAME);
      return NULL;
    }
  package->system = g_strdup (system);
  package->version = g_strdup (version);
  package->arch = g_strdup (arch);
  package->abi = g_strdup (abi);
  package->title = g_strdup (title != NULL ? title : system);
  package->description = g_strdup (description != NULL ? description : "");
  if (!parse_file (&check, obj, &package->core, error))
    return NULL;
  ui = json_object_get_member (obj, "ui");
  if (ui != NULL)
    {
      g_autofree char *ui_what = g_strdup_printf ("the UI module of package %u of the index", i + 1);
      const CbJsonCheck ui_check = CHECK (ui_what);

      if (!JSON_NODE_HOLDS_OBJECT (ui))
        {
          g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED, "%s is not an object",
                       ui_what);
          return NULL;
        }
      if (!parse_file (&ui_check, json_node_get_object (ui), &package->ui, error))
        return NULL;
      package->has_ui = TRUE;
    }
  return g_steal_pointer (&package);
}

CbRepoIndex *
cb_repo_index_parse (const char  *text,
                     GError     **error)
{
  const CbJsonCheck check = CHECK ("the index");
  g_autoptr(JsonNode) node = cb_json_check_parse_object (&check, text, strlen (text), error);
  g_autoptr(CbRepoIndex) index = NULL;
  JsonObject *obj;
  JsonArray *packages;
  gint64 version, root_version;

  if (node == NULL)
    return NULL;
  obj = json_node_get_object (node);
  index = cb_repo_index_new ();
  if (!check_type (&check, obj, "index", error)
      || !cb_json_check_int (&check, obj, "version", 1, CB_REPO_MAX_VERSION, &version, error)
      || !cb_json_check_time (&check, obj, "expires", &index->expires, error)
      || !cb_json_check_int (&check, obj, "root_version", 1, CB_REPO_MAX_VERSION, &root_version,
                             error)
      || (packages = cb_json_check_array (&check, obj, "packages", CB_REPO_MAX_PACKAGES,
                                          error)) == NULL)
    return NULL;
  index->version = (guint64) version;
  index->root_version = (guint64) root_version;
  for (guint i = 0; i < json_array_get_length (packages); i++)
    {
      CbRepoPackage *package = parse_package (json_array_get_element (packages, i), i, error);

      if (package == NULL)
        return NULL;
      if (cb_repo_index_lookup (index, package->system, package->arch) != NULL)
        {
          g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MALFORMED,
                       "the index lists %s for %s twice", package->system, package->arch);
          cb_repo_package_free (package);
          return NULL;
        }
      g_ptr_array_add (index->packages, package);
    }
  return g_steal_pointer (&index);
}

static void
add_file (JsonBuilder *builder, const CbRepoFile *file)
{
  char hex[65];

  cb_hex_encode_into (file->sha256, 32, hex);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, file->url);
  json_builder_set_member_name (builder, "sha256");
  json_builder_add_string_value (builder, hex);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, (gint64) file->size);
}

char *
cb_repo_index_to_json (const CbRepoIndex *index)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *expires = cb_json_format_time (index->expires);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "index");
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, (gint64) index->version);
  json_builder_set_member_name (builder, "expires");
  json_builder_add_string_value (builder, expires);
  json_builder_set_member_name (builder, "root_version");
  json_builder_add_int_value (builder, (gint64) index->root_version);
  json_builder_set_member_name (builder, "packages");
  json_builder_begin_array (builder);
  for (guint i = 0; i < index->packages->len; i++)
    {
      const CbRepoPackage *package = index->packages->pdata[i];

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "system");
      json_builder_add_string_value (builder, package->system);
      json_builder_set_member_name (builder, "version");
      json_builder_add_string_value (builder, package->version);
      json_builder_set_member_name (builder, "arch");
      json_builder_add_string_value (builder, package->arch);
      json_builder_set_member_name (builder, "abi");
      json_builder_add_string_value (builder, package->abi);
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, package->title);
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, package->description);
      add_file (builder, &package->core);
      if (package->has_ui)
        {
          json_builder_set_member_name (builder, "ui");
          json_builder_begin_object (builder);
          add_file (builder, &package->ui);
          json_builder_end_object (builder);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  return cb_json_to_text (node);
}

/* ---- verification ---- */

typedef struct {
  guint  valid;        /* distinct keys of the set with a good signature */
  guint  bad;          /* keys of the set whose signature does not verify */
  guint8 unknown[32];  /* a key outside the set, for the message */
  gboolean has_unknown;
} SigCount;

static void
count_signatures (const CbRepoEnvelope *envelope,
                  const CbRepoRoot     *keys,
                  SigCount             *count)
{
  g_autoptr(GBytes) message = signed_message (envelope->type, envelope->signed_text);
  g_autoptr(GPtrArray) counted = g_ptr_array_new ();

  memset (count, 0, sizeof *count);
  for (guint i = 0; i < envelope->signatures->len; i++)
    {
      const CbRepoSignature *sig = &g_array_index (envelope->signatures, CbRepoSignature, i);
      gboolean seen = FALSE;

      if (!cb_repo_root_has_key (keys, sig->key))
        {
          if (!count->has_unknown)
            memcpy (count->unknown, sig->key, 32);
          count->has_unknown = TRUE;
          continue;
        }
      for (guint j = 0; j < counted->len; j++)
        if (memcmp (counted->pdata[j], sig->key, 32) == 0)
          seen = TRUE;
      if (seen)
        continue;   /* one key counts once, however often it signs */
      if (crypto_sign_verify_detached (sig->sig, g_bytes_get_data (message, NULL),
                                       g_bytes_get_size (message), sig->key) == 0)
        {
          g_ptr_array_add (counted, (gpointer) sig->key);
          count->valid++;
        }
      else
        count->bad++;
    }
}

/* Why fewer than threshold keys of keys signed: the most telling reason. */
static void
threshold_error (GError              **error,
                 const char           *what,
                 const CbRepoEnvelope *envelope,
                 const CbRepoRoot     *keys,
                 const char           *keys_what,
                 GPtrArray            *earlier_roots,
                 const SigCount       *count)
{
  for (guint i = 0; earlier_roots != NULL && i < envelope->signatures->len; i++)
    {
      const CbRepoSignature *sig = &g_array_index (envelope->signatures, CbRepoSignature, i);

      if (cb_repo_root_has_key (keys, sig->key))
        continue;
      for (guint r = 0; r < earlier_roots->len; r++)
        if (cb_repo_root_has_key (earlier_roots->pdata[r], sig->key))
          {
            g_autofree char *id = cb_repo_key_id (sig->key);

            g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_REVOKED_KEY,
                         "%s is signed by the key %s, which root version %" G_GUINT64_FORMAT
                         " of the repository revoked; %u of %u valid signatures from %s",
                         what, id, keys->version, count->valid, keys->threshold, keys_what);
            return;
          }
    }
  if (count->has_unknown && count->valid == 0 && count->bad == 0)
    {
      g_autofree char *id = cb_repo_key_id (count->unknown);

      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_UNKNOWN_KEY,
                   "%s is signed by the key %s, which is not one of %s", what, id, keys_what);
      return;
    }
  if (count->bad > 0 && count->valid < keys->threshold)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_BAD_SIGNATURE,
                   "%s has %u signature%s that do not verify (altered after signing?); "
                   "%u of the %u needed from %s are valid", what, count->bad,
                   count->bad == 1 ? "" : "s", count->valid, keys->threshold, keys_what);
      return;
    }
  g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_THRESHOLD,
               "%s is signed by %u of the %u keys it needs from %s", what, count->valid,
               keys->threshold, keys_what);
}

static gboolean
check_expiry (const char *what, gint64 expires, gint64 now, GError **error)
{
  g_autofree char *when = NULL;

  if (now < expires)
    return TRUE;
  when = cb_json_format_time (expires);
  g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_EXPIRED,
               "%s expired on %s; the repository has not been re-signed since (a stale or "
               "frozen mirror serves it)", what, when);
  return FALSE;
}

CbRepoRoot *
cb_repo_verify_root (const guint8      *data,
                     gsize              len,
                     const CbRepoRoot  *trusted,
                     gint64             now,
                     gboolean           expiry,
                     GError           **error)
{
  g_autoptr(CbRepoEnvelope) envelope = cb_repo_envelope_parse (data, len, CB_REPO_MAX_ROOT, error);
  g_autoptr(CbRepoRoot) root = NULL;
  g_autoptr(CbRepoRoot) claimed = NULL;
  g_autofree char *what = NULL;
  SigCount count;

  if (envelope == NULL)
    return NULL;
  if (strcmp (envelope->type, "root") != 0)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                   "a %s file was served where the repository's root belongs", envelope->type);
      return NULL;
    }
  /* The keys the document claims, to check its self-signature: parsing
   * before verifying is safe, the decoder is the checked one. */
  claimed = cb_repo_root_parse (envelope->signed_text, error);
  if (claimed == NULL)
    return NULL;
  what = g_strdup_printf ("root version %" G_GUINT64_FORMAT " of the repository",
                          claimed->version);
  if (trusted != NULL)
    {
      g_autofree char *trusted_what = g_strdup_printf ("root version %" G_GUINT64_FORMAT,
                                                       trusted->version);

      if (claimed->version != trusted->version + 1)
        {
          g_set_error (error, CB_REPO_ERROR,
                       claimed->version <= trusted->version ? CB_REPO_ERROR_ROLLBACK
                                                            : CB_REPO_ERROR_MIX_AND_MATCH,
                       "the file for root version %" G_GUINT64_FORMAT " holds %s", trusted->version + 1,
                       what);
          return NULL;
        }
      count_signatures (envelope, trusted, &count);
      if (count.valid < trusted->threshold)
        {
          threshold_error (error, what, envelope, trusted, trusted_what, NULL, &count);
          g_prefix_error (error, "a rotation of the publisher's keys needs the old keys: ");
          return NULL;
        }
    }
  count_signatures (envelope, claimed, &count);
  if (count.valid < claimed->threshold)
    {
      threshold_error (error, what, envelope, claimed, "its own keys", NULL, &count);
      return NULL;
    }
  if (expiry && !check_expiry (what, claimed->expires, now, error))
    return NULL;
  root = g_steal_pointer (&claimed);
  return g_steal_pointer (&root);
}

CbRepoIndex *
cb_repo_verify_index (const guint8      *data,
                      gsize              len,
                      const CbRepoRoot  *root,
                      GPtrArray         *earlier_roots,
                      guint64            min_version,
                      gint64             now,
                      GError           **error)
{
  g_autoptr(CbRepoEnvelope) envelope = cb_repo_envelope_parse (data, len, CB_REPO_MAX_INDEX, error);
  g_autoptr(CbRepoIndex) index = NULL;
  g_autofree char *keys_what = NULL;
  SigCount count;

  if (envelope == NULL)
    return NULL;
  if (strcmp (envelope->type, "index") != 0)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                   "a %s file was served where the repository's index belongs", envelope->type);
      return NULL;
    }
  keys_what = g_strdup_printf ("the keys of root version %" G_GUINT64_FORMAT, root->version);
  count_signatures (envelope, root, &count);
  if (count.valid < root->threshold)
    {
      threshold_error (error, "the index", envelope, root, keys_what, earlier_roots, &count);
      return NULL;
    }
  index = cb_repo_index_parse (envelope->signed_text, error);
  if (index == NULL)
    return NULL;
  if (index->root_version != root->version)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                   "index version %" G_GUINT64_FORMAT " was made under root version %"
                   G_GUINT64_FORMAT ", but the repository's root is version %" G_GUINT64_FORMAT
                   " (metadata from different times)", index->version, index->root_version,
                   root->version);
      return NULL;
    }
  if (index->version < min_version)
    {
      g_set_error (error, CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK,
                   "the repository serves index version %" G_GUINT64_FORMAT ", older than "
                   "version %" G_GUINT64_FORMAT " seen before (a rollback)", index->version,
                   min_version);
      return NULL;
    }
  if (!check_expiry ("the index", index->expires, now, error))
    return NULL;
  return g_steal_pointer (&index);
}
