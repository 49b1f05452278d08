/* test-backup.c: the encrypted backup format refuses every alteration */
#include <sodium.h>
#include <string.h>

#include "cb-backup.h"

static GPtrArray *
make_runs (guint n, gsize each)
{
  GPtrArray *runs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  for (guint i = 0; i < n; i++)
    {
      guint8 *data = g_malloc (each);

      randombytes_buf (data, each);
      g_ptr_array_add (runs, g_bytes_new_take (data, each));
    }
  return runs;
}

static void
fast_info (CbBackupInfo *info, guint runs)
{
  memset (info, 0, sizeof *info);
  info->system = g_strdup ("test/kv");
  info->writer = g_strdup ("ab12");
  info->created = 1764547200;
  info->entries = 7;
  info->runs = runs;
  info->ops = crypto_pwhash_OPSLIMIT_MIN;
  info->mem = crypto_pwhash_MEMLIMIT_MIN;
  randombytes_buf (info->salt, sizeof info->salt);
}

static void
assert_same_runs (GPtrArray *a, GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_true (g_bytes_equal (a->pdata[i], b->pdata[i]));
}

/* A passphrase seals and opens; another one does not. */
static void
test_roundtrip (void)
{
  g_autoptr(GPtrArray) runs = make_runs (3, 500);
  g_autoptr(GPtrArray) opened = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CbBackupInfo) in = { 0 };
  g_auto(CbBackupInfo) out = { 0 };
  g_auto(CbBackupInfo) header = { 0 };
  g_autoptr(GBytes) sealed = NULL;

  in.system = g_strdup ("test/kv");
  in.writer = g_strdup ("ab12");
  in.created = 1764547200;
  in.entries = 9;
  sealed = cb_backup_seal (&in, runs, "correct horse", &error);
  g_assert_no_error (error);
  g_assert_true (cb_backup_read_header (sealed, &header, &error));
  g_assert_cmpstr (header.system, ==, "test/kv");
  g_assert_cmpuint (header.entries, ==, 9);
  g_assert_cmpuint (header.runs, ==, 3);
  g_assert_cmpuint (header.ops, >=, crypto_pwhash_OPSLIMIT_INTERACTIVE);

  opened = cb_backup_open (sealed, "correct horse", &out, &error);
  g_assert_no_error (error);
  assert_same_runs (opened, runs);
  g_assert_cmpstr (out.writer, ==, "ab12");
  g_assert_cmpint (out.created, ==, 1764547200);
  cb_backup_info_clear (&out);

  g_clear_pointer (&opened, g_ptr_array_unref);
  opened = cb_backup_open (sealed, "wrong horse", &out, &error);
  g_assert_null (opened);
  g_assert_error (error, CB_BACKUP_ERROR, CB_BACKUP_ERROR_TAMPERED);
  g_assert_nonnull (strstr (error->message, "passphrase"));
  g_assert_null (out.system);
}

/* Flipping any single byte (every position of a small backup), cutting it
 * anywhere, adding a byte: never opens, and says why. */
static void
test_every_alteration (void)
{
  g_autoptr(GPtrArray) runs = make_runs (2, 40);
  g_auto(CbBackupInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) sealed = NULL;
  guint8 key[32];
  gsize len;
  const guint8 *good;
  g_autofree guint8 *bad = NULL;

  fast_info (&info, 2);
  randombytes_buf (key, sizeof key);
  sealed = cb_backup_seal_with_key (&info, runs, key, &error);
  g_assert_no_error (error);
  good = g_bytes_get_data (sealed, &len);
  bad = g_malloc (len + 1);
  for (gsize i = 0; i < len; i++)
    for (guint bit = 0; bit < 8; bit += 3)
      {
        g_autoptr(GBytes) altered = NULL;
        g_autoptr(GPtrArray) opened = NULL;
        g_auto(CbBackupInfo) out = { 0 };

        memcpy (bad, good, len);
        bad[i] ^= 1u << bit;
        altered = g_bytes_new (bad, len);
        opened = cb_backup_open_with_key (altered, key, &out, &error);
        if (opened != NULL)
          g_error ("a backup with byte %" G_GSIZE_FORMAT " bit %u flipped opened", i, bit);
        g_assert_nonnull (error);
        g_assert_cmpuint (strlen (error->message), >, 20);
        g_assert_null (out.system);
        g_clear_error (&error);
      }
  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr(GBytes) shorter = g_bytes_new (good, cut);
      g_autoptr(GPtrArray) opened = NULL;
      g_auto(CbBackupInfo) out = { 0 };

      opened = cb_backup_open_with_key (shorter, key, &out, &error);
      g_assert_null (opened);
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
  {
    g_autoptr(GBytes) longer = NULL;
    g_autoptr(GPtrArray) opened = NULL;
    g_auto(CbBackupInfo) out = { 0 };

    memcpy (bad, good, len);
    bad[len] = 0;
    longer = g_bytes_new (bad, len + 1);
    opened = cb_backup_open_with_key (longer, key, &out, &error);
    g_assert_null (opened);
    g_assert_error (error, CB_BACKUP_ERROR, CB_BACKUP_ERROR_TAMPERED);
  }
}

/* A backup over one chunk: chunks swapped or one dropped do not open. */
static void
test_chunks (void)
{
  g_autoptr(GPtrArray) runs = make_runs (3, 700 * 1024);
  g_auto(CbBackupInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GPtrArray) opened = NULL;
  g_auto(CbBackupInfo) out = { 0 };
  guint8 key[32];
  gsize len, first, second, third;
  const guint8 *p;
  guint32 n1, n2;
  g_autoptr(GByteArray) swapped = g_byte_array_new ();
  g_autoptr(GBytes) swapped_bytes = NULL;
  g_autoptr(GBytes) dropped = NULL;

  fast_info (&info, 3);
  randombytes_buf (key, sizeof key);
  sealed = cb_backup_seal_with_key (&info, runs, key, &error);
  g_assert_no_error (error);
  opened = cb_backup_open_with_key (sealed, key, &out, &error);
  g_assert_no_error (error);
  assert_same_runs (opened, runs);
  cb_backup_info_clear (&out);
  g_clear_pointer (&opened, g_ptr_array_unref);

  /* Find the chunks: after magic, version, header length, header, stream header. */
  p = g_bytes_get_data (sealed, &len);
  first = 8 + 1 + 4 + (p[9] | p[10] << 8 | p[11] << 16 | (gsize) p[12] << 24)
          + crypto_secretstream_xchacha20poly1305_HEADERBYTES;
  memcpy (&n1, p + first, 4);
  n1 = GUINT32_FROM_LE (n1);
  second = first + 4 + n1;
  memcpy (&n2, p + second, 4);
  n2 = GUINT32_FROM_LE (n2);
  third = second + 4 + n2;
  g_assert_cmpuint (third, <, len);   /* three chunks: 2.1 MB in 1 MiB chunks */

  g_byte_array_append (swapped, p, first);
  g_byte_array_append (swapped, p + second, third - second);
  g_byte_array_append (swapped, p + first, second - first);
  g_byte_array_append (swapped, p + third, len - third);
  swapped_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&swapped));
  opened = cb_backup_open_with_key (swapped_bytes, key, &out, &error);
  g_assert_null (opened);
  g_assert_error (error, CB_BACKUP_ERROR, CB_BACKUP_ERROR_TAMPERED);
  g_clear_error (&error);

  /* The last chunk dropped: no FINAL tag. */
  dropped = g_bytes_new (p, third);
  opened = cb_backup_open_with_key (dropped, key, &out, &error);
  g_assert_null (opened);
  g_assert_error (error, CB_BACKUP_ERROR, CB_BACKUP_ERROR_TAMPERED);
  g_assert_nonnull (strstr (error->message, "cut short"));
}

static GBytes *
with_header (const char *json)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  guint32 n = GUINT32_TO_LE ((guint32) strlen (json));
  guint8 zeros[64] = { 0 };

  g_byte_array_append (b, (const guint8 *) "CBBACKUP\x01", 9);
  g_byte_array_append (b, (const guint8 *) &n, 4);
  g_byte_array_append (b, (const guint8 *) json, (guint) strlen (json));
  g_byte_array_append (b, zeros, sizeof zeros);
  return g_byte_array_free_to_bytes (g_steal_pointer (&b));
}

static void
expect_header_refused (GBytes *bytes, gint code, const char *needle)
{
  g_auto(CbBackupInfo) info = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_false (cb_backup_read_header (bytes, &info, &error));
  g_assert_error (error, CB_BACKUP_ERROR, code);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected \"%s\" in \"%s\"", needle, error->message);
  g_assert_null (info.system);
}

/* The header is checked before any work, the key derivation's cost above
 * all: a hostile file cannot ask for minutes or gigabytes. */
static void
test_header_rejects (void)
{
  static const char kdf_ok[] = "\"kdf\":{\"alg\":\"argon2id13\",\"ops\":2,\"mem\":67108864,"
                               "\"salt\":\"00112233445566778899aabbccddeeff\"}";
  g_autofree char *good = g_strdup_printf ("{\"system\":\"s\",\"writer\":\"w\",\"created\":1,"
                                           "\"entries\":1,\"runs\":1,%s}", kdf_ok);
  g_autoptr(GBytes) ok = with_header (good);
  g_auto(CbBackupInfo) info = { 0 };
  struct { const char *json; gint code; const char *needle; } cases[] = {
    { "[]", CB_BACKUP_ERROR_MALFORMED, "not a JSON object" },
    { "{\"system\":\"s\"}", CB_BACKUP_ERROR_MALFORMED, "\"writer\"" },
    { "{\"system\":\"s\",\"writer\":\"w\",\"created\":-1,\"entries\":1,\"runs\":1}",
      CB_BACKUP_ERROR_MALFORMED, "\"created\"" },
    { "{\"system\":\"s\",\"writer\":\"w\",\"created\":1,\"entries\":1,\"runs\":1}",
      CB_BACKUP_ERROR_MALFORMED, "\"kdf\"" },
    { "{\"system\":\"s\",\"writer\":\"w\",\"created\":1,\"entries\":1,\"runs\":1,\"kdf\":"
      "{\"alg\":\"scrypt\"}}", CB_BACKUP_ERROR_VERSION, "scrypt" },
    { "{\"system\":\"s\",\"writer\":\"w\",\"created\":1,\"entries\":1,\"runs\":1,\"kdf\":"
      "{\"alg\":\"argon2id13\",\"ops\":1000,\"mem\":8192,\"salt\":\"00\"}}",
      CB_BACKUP_ERROR_MALFORMED, "\"ops\"" },
    { "{\"system\":\"s\",\"writer\":\"w\",\"created\":1,\"entries\":1,\"runs\":1,\"kdf\":"
      "{\"alg\":\"argon2id13\",\"ops\":2,\"mem\":17179869184,\"salt\":\"00\"}}",
      CB_BACKUP_ERROR_MALFORMED, "\"mem\"" },
    { "{\"system\":\"s\",\"writer\":\"w\",\"created\":1,\"entries\":1,\"runs\":1,\"kdf\":"
      "{\"alg\":\"argon2id13\",\"ops\":2,\"mem\":67108864,\"salt\":\"xyz\"}}",
      CB_BACKUP_ERROR_MALFORMED, "salt" },
  };

  g_assert_true (cb_backup_read_header (ok, &info, NULL));
  g_assert_cmpuint (info.ops, ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) b = with_header (cases[i].json);
      expect_header_refused (b, cases[i].code, cases[i].needle);
    }
  {
    g_autoptr(GBytes) b = g_bytes_new ("{\"nodes\": []}", 13);
    expect_header_refused (b, CB_BACKUP_ERROR_MALFORMED, "not a Cloud Bevy backup");
  }
  {
    g_autoptr(GBytes) b = g_bytes_new ("CBBACKUP\x07\x01\x00\x00\x00{}", 15);
    expect_header_refused (b, CB_BACKUP_ERROR_VERSION, "format 7");
  }
  {
    g_autoptr(GBytes) b = g_bytes_new ("CBBACKUP\x01\xff\xff\x00\x00{}", 15);
    expect_header_refused (b, CB_BACKUP_ERROR_MALFORMED, "header length");
  }
}

int
main (int argc, char **argv)
{
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/backup/roundtrip", test_roundtrip);
  g_test_add_func ("/node/backup/every-alteration", test_every_alteration);
  g_test_add_func ("/node/backup/chunks", test_chunks);
  g_test_add_func ("/node/backup/header-rejects", test_header_rejects);
  return g_test_run ();
}
