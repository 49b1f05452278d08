/* fuzz-repo-metadata.c: repository roots and indexes come from servers
 *
 * The first byte picks what the rest is:
 *   0: a root envelope, trusted on first use (self-signed);
 *   1: an index envelope, checked against the fixed root below;
 *   2: a root document, which the harness signs with the fixed key first;
 *   3: an index document, signed the same way,
 * so the document decoders are reached without forging signatures.
 * Exactly one of a result or an error, always; whatever verifies survives
 * serialise -> parse unchanged. */
#include "cb-repo-format.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The corpus's "now": 2026-06-01T00:00:00Z. */
#define NOW G_GINT64_CONSTANT (1780272000)

static guint8 secret_key[64];
static CbRepoRoot *root;

static void
ensure_keys (void)
{
  guint8 seed[32], public_key[32];

  if (root != NULL)
    return;
  if (sodium_init () < 0)
    __builtin_trap ();
  /* The corpus is signed with this key: seed = 32 bytes of 0x5a. */
  memset (seed, 0x5a, sizeof seed);
  crypto_sign_seed_keypair (public_key, secret_key, seed);
  root = cb_repo_root_new ("fuzz");
  root->expires = NOW + 86400;
  g_array_append_vals (root->keys, public_key, 1);
}

static void
check_root (CbRepoRoot *parsed)
{
  g_autofree char *text = cb_repo_root_to_json (parsed);
  g_autoptr(CbRepoRoot) again = cb_repo_root_parse (text, NULL);
  g_autofree char *text2 = NULL;
  g_autofree char *fingerprint = cb_repo_root_fingerprint (parsed);

  if (again == NULL)
    __builtin_trap ();
  text2 = cb_repo_root_to_json (again);
  if (strcmp (text, text2) != 0 || strlen (fingerprint) != 39)
    __builtin_trap ();
}

static void
check_index (CbRepoIndex *parsed)
{
  g_autofree char *text = cb_repo_index_to_json (parsed);
  g_autoptr(CbRepoIndex) again = cb_repo_index_parse (text, NULL);
  g_autofree char *text2 = NULL;

  if (again == NULL)
    __builtin_trap ();
  text2 = cb_repo_index_to_json (again);
  if (strcmp (text, text2) != 0)
    __builtin_trap ();
  for (guint i = 0; i < parsed->packages->len; i++)
    {
      const CbRepoPackage *package = parsed->packages->pdata[i];

      if (cb_repo_index_lookup (parsed, package->system, package->arch) != package)
        __builtin_trap ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) envelope = NULL;
  g_autofree char *text = NULL;
  const guint8 *rest;
  gsize len;

  if (size < 1)
    return 0;
  ensure_keys ();
  rest = data + 1;
  len = size - 1;
  switch (data[0] % 4)
    {
    case 0:
      {
        g_autoptr(CbRepoRoot) parsed = cb_repo_verify_root (rest, len, NULL, NOW, TRUE, &error);
        if ((parsed == NULL) == (error == NULL))
          __builtin_trap ();
        if (parsed != NULL)
          check_root (parsed);
      }
      break;
    case 1:
      {
        g_autoptr(CbRepoIndex) parsed = cb_repo_verify_index (rest, len, root, NULL, 0, NOW, &error);
        if ((parsed == NULL) == (error == NULL))
          __builtin_trap ();
        if (parsed != NULL)
          check_index (parsed);
      }
      break;
    case 2:
    case 3:
      {
        const char *type = data[0] % 4 == 2 ? "root" : "index";

        /* The signed text is a JSON string: no NUL inside. */
        if (memchr (rest, '\0', len) != NULL)
          return 0;
        text = g_strndup ((const char *) rest, len);
        envelope = cb_repo_envelope_sign (type, text, (const guint8 (*)[64]) secret_key, 1);
        if (data[0] % 4 == 2)
          {
            g_autoptr(CbRepoRoot) parsed = cb_repo_verify_root (g_bytes_get_data (envelope, NULL),
                                                                g_bytes_get_size (envelope), NULL,
                                                                NOW, FALSE, &error);
            if ((parsed == NULL) == (error == NULL))
              __builtin_trap ();
            if (parsed != NULL)
              check_root (parsed);
          }
        else
          {
            g_autoptr(CbRepoIndex) parsed = cb_repo_verify_index (g_bytes_get_data (envelope, NULL),
                                                                  g_bytes_get_size (envelope), root,
                                                                  NULL, 0, NOW, &error);
            if ((parsed == NULL) == (error == NULL))
              __builtin_trap ();
            if (parsed != NULL)
              check_index (parsed);
          }
      }
      break;
    }
  return 0;
}
