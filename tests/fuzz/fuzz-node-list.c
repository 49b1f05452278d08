/* fuzz-node-list.c: the list envelope and document decoders
 *
 * The first byte picks what the rest is:
 *   even: an envelope, checked against a fixed trusted key;
 *   odd:  a list document, which the harness signs with that key first, so
 *         the document parser is reached without forging signatures.
 * Whatever verifies must survive sign -> verify unchanged, and merge. */
#include "cb-node-list.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint8 public_key[32];
static guint8 secret_key[64];

static void
ensure_keys (void)
{
  static gboolean ready = FALSE;
  guint8 seed[32];

  if (ready)
    return;
  if (sodium_init () < 0)
    __builtin_trap ();
  /* The corpus is signed with this key: seed = 32 bytes of 0x5a. */
  memset (seed, 0x5a, sizeof seed);
  crypto_sign_seed_keypair (public_key, secret_key, seed);
  ready = TRUE;
}

static void
check_roundtrip (CbNodeList *list)
{
  g_autoptr(CbNodeList) copy = cb_node_list_copy (list);
  g_autoptr(CbNodeList) back = NULL;
  g_autoptr(CbNodeList) merged = NULL;
  g_autoptr(GBytes) envelope = NULL;
  g_autoptr(GError) error = NULL;

  envelope = cb_node_list_sign (copy, secret_key, list->issued, list->expires - list->issued,
                                &error);
  /* Too many bytes after re-escaping is the only acceptable refusal. */
  if (envelope == NULL)
    {
      if (!g_error_matches (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE))
        __builtin_trap ();
      return;
    }
  back = cb_node_list_verify_and_parse (g_bytes_get_data (envelope, NULL),
                                        g_bytes_get_size (envelope), list->cloud,
                                        (const guint8 (*)[32]) public_key, 1, list->version,
                                        list->issued, NULL);
  if (back == NULL || !cb_node_list_equal (back, list))
    __builtin_trap ();

  merged = cb_node_list_merge (list, back, G_MININT64);
  if (merged->nodes->len != list->nodes->len || merged->version != list->version + 1)
    __builtin_trap ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(CbNodeList) list = NULL;
  g_autoptr(GBytes) envelope = NULL;

  ensure_keys ();
  if (size == 0)
    return 0;

  if ((data[0] & 1) == 0)
    list = cb_node_list_verify_and_parse_full (data + 1, size - 1, "demo",
                                               (const guint8 (*)[32]) public_key, 1, 0, 0,
                                               CB_NODE_LIST_VERIFY_ALLOW_EXPIRED, NULL);
  else
    {
      g_autofree char *raw = g_strndup ((const char *) data + 1, size - 1);
      g_autofree char *text = g_utf8_make_valid (raw, -1);

      envelope = cb_node_list_envelope_sign_text (text, secret_key);
      list = cb_node_list_verify_and_parse_full (g_bytes_get_data (envelope, NULL),
                                                 g_bytes_get_size (envelope), "demo",
                                                 (const guint8 (*)[32]) public_key, 1, 0, 0,
                                                 CB_NODE_LIST_VERIFY_ALLOW_EXPIRED, NULL);
    }
  if (list != NULL)
    check_roundtrip (list);
  return 0;
}
