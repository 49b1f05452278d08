/* test-log-entry.c: the log entry codec byte for byte, every way its
 * decoder refuses input, hashes, batch signatures and batch verification. */
#include <sodium.h>
#include <string.h>

#include "cb-log-entry.h"

#define SYSTEM "github.com/event-games"
/* cb_log_entry_hash() of the entry in test_golden(). */
#define GOLDEN_HASH "bb80b16a4d76e4c6483f63243c041de6004511c7176bf6f641d113d5781dba5e"

typedef struct {
  guint8 pk[32];
  guint8 sk[64];
  char   hex[17];  /* as the messages print it */
} Key;

static void
key_init (Key *key, guint8 seed_byte)
{
  guint8 seed[32];

  memset (seed, seed_byte, sizeof seed);
  crypto_sign_seed_keypair (key->pk, key->sk, seed);
  sodium_bin2hex (key->hex, sizeof key->hex, key->pk, 8);
}

static GBytes *
payload_of (guint64 seq)
{
  return g_bytes_new_take (g_strdup_printf ("changeset %" G_GUINT64_FORMAT, seq),
                           strlen ("changeset ") + (seq < 10 ? 1 : 2));
}

static GBytes *
make_entry (const char *system, const guint8 writer[32], guint64 seq,
            const guint8 prev[32], guint64 hlc, GBytes *payload)
{
  CbLogEntry entry = { 0 };

  entry.system = (char *) system;
  memcpy (entry.writer, writer, 32);
  entry.seq = seq;
  memcpy (entry.prev, prev, 32);
  entry.hlc = hlc;
  entry.payload = payload;
  return cb_log_entry_encode (&entry);
}

/* A writer's log of n entries; hashes[i] is the hash of entries[i]
 * (entry i + 1), hashes[-1] is zeros. */
typedef struct {
  Key      key;
  guint    n;
  GBytes  *entries[16];
  guint8   hash_storage[17][32];
  guint8 (*hashes)[32];
} Chain;

static void
chain_init (Chain *chain, guint8 seed, guint n)
{
  g_assert_cmpuint (n, <=, 16);
  memset (chain, 0, sizeof *chain);
  key_init (&chain->key, seed);
  chain->n = n;
  chain->hashes = chain->hash_storage + 1;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GBytes) payload = payload_of (i + 1);

      chain->entries[i] = make_entry (SYSTEM, chain->key.pk, i + 1, chain->hashes[(int) i - 1],
                                      (G_GUINT64_CONSTANT (1795341600000) + i) << 16, payload);
      g_assert_nonnull (chain->entries[i]);
      cb_log_entry_hash (g_bytes_get_data (chain->entries[i], NULL),
                         g_bytes_get_size (chain->entries[i]), chain->hashes[i]);
    }
}

static void
chain_clear (Chain *chain)
{
  for (guint i = 0; i < chain->n; i++)
    g_bytes_unref (chain->entries[i]);
}

/* Signature over entries first..last (1-based) of chain. */
static void
chain_sign (Chain *chain, guint last, guint8 sig[64])
{
  cb_log_batch_sign (SYSTEM, chain->key.sk, last, chain->hashes[last - 1], sig);
}

/* ---- codec ---- */

static void
test_golden (void)
{
  static const guint8 payload_bytes[] = { 0xde, 0xad, 0xbe, 0xef };
  guint8 writer[32], prev[32];
  g_autoptr(GBytes) payload = g_bytes_new_static (payload_bytes, sizeof payload_bytes);
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(CbLogEntry) decoded = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  guint8 hash[32];
  char hash_hex[65];

  for (guint i = 0; i < 32; i++)
    {
      writer[i] = (guint8) i;
      prev[i] = (guint8) (0xa0 + i);
    }
  encoded = make_entry ("sys", writer, 0x0102030405060708, prev, 0x1112131415161718, payload);

  g_byte_array_append (expected, (const guint8 *) "\x01\x03sys", 5);
  g_byte_array_append (expected, writer, 32);
  g_byte_array_append (expected, (const guint8 *) "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
  g_byte_array_append (expected, prev, 32);
  g_byte_array_append (expected, (const guint8 *) "\x18\x17\x16\x15\x14\x13\x12\x11", 8);
  g_byte_array_append (expected, (const guint8 *) "\x04\x00\x00\x00", 4);
  g_byte_array_append (expected, payload_bytes, 4);
  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                   expected->data, expected->len);
  g_assert_cmpuint (g_bytes_get_size (encoded), ==, CB_LOG_ENTRY_FIXED_BYTES + 3 + 4);

  decoded = cb_log_entry_decode (expected->data, expected->len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (decoded->system, ==, "sys");
  g_assert_cmpmem (decoded->writer, 32, writer, 32);
  g_assert_cmpuint (decoded->seq, ==, 0x0102030405060708);
  g_assert_cmpmem (decoded->prev, 32, prev, 32);
  g_assert_cmpuint (decoded->hlc, ==, 0x1112131415161718);
  g_assert_true (g_bytes_equal (decoded->payload, payload));
  g_assert_cmpuint (cb_log_entry_encoded_size (decoded), ==, expected->len);

  /* The hash is pinned: changing the format or the hash key breaks every
   * stored log, so it must show up here first. */
  cb_log_entry_hash (expected->data, expected->len, hash);
  sodium_bin2hex (hash_hex, sizeof hash_hex, hash, 32);
  g_assert_cmpstr (hash_hex, ==, GOLDEN_HASH);
}

static void
assert_round_trip (const char *system, guint64 seq, guint64 hlc, gsize payload_len)
{
  g_autofree guint8 *payload_data = g_malloc (MAX (payload_len, 1));
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(CbLogEntry) copied = NULL;
  g_autoptr(CbLogEntry) sliced = NULL;
  g_autoptr(GError) error = NULL;
  guint8 writer[32], prev[32] = { 0 };
  const guint8 *data;
  gsize len;

  for (gsize i = 0; i < payload_len; i++)
    payload_data[i] = (guint8) (i * 7);
  payload = g_bytes_new (payload_data, payload_len);
  memset (writer, 0x5a, 32);
  if (seq > 1)
    memset (prev, 0x33, 32);
  encoded = make_entry (system, writer, seq, prev, hlc, payload);
  g_assert_nonnull (encoded);
  data = g_bytes_get_data (encoded, &len);

  copied = cb_log_entry_decode (data, len, &error);
  g_assert_no_error (error);
  sliced = cb_log_entry_decode_bytes (encoded, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (copied->system, ==, system);
  g_assert_cmpuint (copied->seq, ==, seq);
  g_assert_cmpuint (copied->hlc, ==, hlc);
  g_assert_true (g_bytes_equal (copied->payload, payload));
  g_assert_true (g_bytes_equal (sliced->payload, payload));
  /* decode_bytes() does not copy the payload: it points into encoded. */
  if (payload_len > 0)
    g_assert_true ((const guint8 *) g_bytes_get_data (sliced->payload, NULL) ==
                   data + len - payload_len);

  again = cb_log_entry_encode (sliced);
  g_assert_true (g_bytes_equal (again, encoded));
}

static void
test_round_trips (void)
{
  char long_system[CB_LOG_MAX_SYSTEM + 1];

  memset (long_system, 'x', CB_LOG_MAX_SYSTEM);
  long_system[CB_LOG_MAX_SYSTEM] = '\0';
  assert_round_trip ("a", 1, 0, 0);
  assert_round_trip (SYSTEM, 2, 1, 1);
  assert_round_trip ("!~", CB_LOG_MAX_SEQ, (guint64) G_MAXINT64, 100);
  assert_round_trip (long_system, 99, 12345, CB_LOG_MAX_PAYLOAD);
}

/* A valid entry to mutate: system "sys", seq 2, payload "abc". */
static GByteArray *
base_entry (void)
{
  guint8 writer[32], prev[32];
  g_autoptr(GBytes) payload = g_bytes_new_static ("abc", 3);
  g_autoptr(GBytes) encoded = NULL;
  GByteArray *out = g_byte_array_new ();

  memset (writer, 1, 32);
  memset (prev, 2, 32);
  encoded = make_entry ("sys", writer, 2, prev, 5, payload);
  g_byte_array_append (out, g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded));
  return out;
}

/* Offsets in base_entry(). */
#define OFF_SYSLEN 1
#define OFF_SYSTEM 2
#define OFF_WRITER 5
#define OFF_SEQ 37
#define OFF_PREV 45
#define OFF_HLC 77
#define OFF_PLEN 85
#define OFF_PAYLOAD 89

static void
put_u64 (GByteArray *a, guint off, guint64 v)
{
  v = GUINT64_TO_LE (v);
  memcpy (a->data + off, &v, 8);
}

static void
put_u32 (GByteArray *a, guint off, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (a->data + off, &v, 4);
}

static void
expect_decode_error (const guint8 *data, gsize len, gint code, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbLogEntry) entry = cb_log_entry_decode (data, len, &error);
  g_autoptr(GBytes) bytes = g_bytes_new (data, len);
  g_autoptr(GError) error2 = NULL;
  g_autoptr(CbLogEntry) entry2 = cb_log_entry_decode_bytes (bytes, &error2);

  g_assert_null (entry);
  g_assert_error (error, CB_LOG_ERROR, code);
  if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
  g_assert_null (entry2);
  g_assert_error (error2, CB_LOG_ERROR, code);
  g_assert_cmpstr (error2->message, ==, error->message);
}

static void
test_malformed (void)
{
  g_autoptr(GByteArray) e = NULL;

  expect_decode_error (NULL, 0, CB_LOG_ERROR_MALFORMED, "log entry is empty");

  e = base_entry ();
  g_assert_cmpuint (e->len, ==, OFF_PAYLOAD + 3);
  e->data[0] = 2;
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_VERSION,
                       "log entry is in format version 2 but this build reads only version 1; "
                       "the writer may run a newer release");
  g_clear_pointer (&e, g_byte_array_unref);

  e = base_entry ();
  g_byte_array_append (e, (const guint8 *) "z", 1);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED,
                       "log entry 2 has 1 trailing byte(s) after its payload");
  g_clear_pointer (&e, g_byte_array_unref);

  e = base_entry ();
  e->data[OFF_SYSLEN] = 0;
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED,
                       "log entry has an invalid system name: it must be 1..255 printable "
                       "ASCII bytes without spaces");
  e->data[OFF_SYSLEN] = 3;
  e->data[OFF_SYSTEM + 1] = ' ';
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED, NULL);
  e->data[OFF_SYSTEM + 1] = 0x7f;
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED, NULL);
  e->data[OFF_SYSTEM + 1] = 0x00;
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED, NULL);
  g_clear_pointer (&e, g_byte_array_unref);

  e = base_entry ();
  put_u64 (e, OFF_SEQ, 0);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED,
                       "log entry has seq 0; logs start at 1");
  put_u64 (e, OFF_SEQ, CB_LOG_MAX_SEQ + 1);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED,
                       "log entry has seq 9223372036854775808, past the largest (2^63-1)");
  put_u64 (e, OFF_SEQ, 1);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED,
                       "log entry 1 names a previous entry; the first entry's prev must be "
                       "zeros");
  put_u64 (e, OFF_SEQ, 2);
  memset (e->data + OFF_PREV, 0, 32);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED,
                       "log entry 2 has an all-zero prev hash; only entry 1 has no previous "
                       "entry");
  g_clear_pointer (&e, g_byte_array_unref);

  e = base_entry ();
  put_u64 (e, OFF_HLC, (guint64) G_MAXINT64 + 1);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED,
                       "log entry 2 has clock stamp 9223372036854775808, past the largest "
                       "(2^63-1)");
  g_clear_pointer (&e, g_byte_array_unref);

  e = base_entry ();
  put_u32 (e, OFF_PLEN, CB_LOG_MAX_PAYLOAD + 1);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_TOO_LARGE,
                       "log entry 2 has a 1044481-byte payload; at most 1044480 are allowed");
  put_u32 (e, OFF_PLEN, G_MAXUINT32);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_TOO_LARGE, NULL);
  put_u32 (e, OFF_PLEN, 4);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED,
                       "log entry 2 ends inside its payload (3 of 4 bytes present)");
  put_u32 (e, OFF_PLEN, 2);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_MALFORMED,
                       "log entry 2 has 1 trailing byte(s) after its payload");
  g_clear_pointer (&e, g_byte_array_unref);

  /* Past the largest possible entry, whatever it holds. */
  e = g_byte_array_sized_new (CB_LOG_ENTRY_MAX_BYTES + 1);
  g_byte_array_set_size (e, CB_LOG_ENTRY_MAX_BYTES + 1);
  memset (e->data, 1, e->len);
  expect_decode_error (e->data, e->len, CB_LOG_ERROR_TOO_LARGE,
                       "log entry is 1044822 bytes; at most 1044821 are allowed");
  g_clear_pointer (&e, g_byte_array_unref);
}

static void
test_truncations (void)
{
  g_autoptr(GByteArray) e = base_entry ();

  /* Every proper prefix is refused as malformed, never read past. */
  for (guint len = 1; len < e->len; len++)
    {
      g_autofree guint8 *copy = g_memdup2 (e->data, len);  /* exact size for ASan */
      g_autoptr(GError) error = NULL;
      g_autoptr(CbLogEntry) entry = cb_log_entry_decode (copy, len, &error);

      g_assert_null (entry);
      g_assert_error (error, CB_LOG_ERROR, CB_LOG_ERROR_MALFORMED);
    }
}

static void
test_encode_invalid (void)
{
  guint8 writer[32] = { 0 }, prev[32] = { 0 }, nonzero[32];
  g_autoptr(GBytes) big = g_bytes_new_take (g_malloc0 (CB_LOG_MAX_PAYLOAD + 1),
                                            CB_LOG_MAX_PAYLOAD + 1);
  GBytes *encoded;

  memset (nonzero, 9, 32);
  /* The caller builds entries from its own log: a bad one is a bug. */
  g_test_expect_message ("cb-log-entry", G_LOG_LEVEL_CRITICAL, "*cb_log_system_name_valid*");
  encoded = make_entry ("two words", writer, 1, prev, 0, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (encoded);

  g_test_expect_message ("cb-log-entry", G_LOG_LEVEL_CRITICAL, "*seq*");
  encoded = make_entry ("s", writer, 0, prev, 0, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (encoded);

  g_test_expect_message ("cb-log-entry", G_LOG_LEVEL_CRITICAL, "*seq == 1*");
  encoded = make_entry ("s", writer, 1, nonzero, 0, NULL);
  g_test_assert_expected_messages ();
  g_assert_null (encoded);

  g_test_expect_message ("cb-log-entry", G_LOG_LEVEL_CRITICAL, "*payload_len*");
  encoded = make_entry ("s", writer, 1, prev, 0, big);
  g_test_assert_expected_messages ();
  g_assert_null (encoded);

  g_assert_true (cb_log_system_name_valid ("a/b.c-d_e"));
  g_assert_false (cb_log_system_name_valid (""));
  g_assert_false (cb_log_system_name_valid (NULL));
  g_assert_false (cb_log_system_name_valid ("caf\xc3\xa9"));
}

/* ---- hashes and signatures ---- */

static void
test_hash (void)
{
  g_autoptr(GByteArray) e = base_entry ();
  guint8 a[32], b[32], plain[32];

  cb_log_entry_hash (e->data, e->len, a);
  cb_log_entry_hash (e->data, e->len, b);
  g_assert_cmpmem (a, 32, b, 32);
  /* Domain-separated: not the plain BLAKE2b of the bytes. */
  crypto_generichash (plain, 32, e->data, e->len, NULL, 0);
  g_assert_true (memcmp (a, plain, 32) != 0);
  /* Any changed byte changes the hash. */
  for (guint i = 0; i < e->len; i++)
    {
      e->data[i] ^= 0x01;
      cb_log_entry_hash (e->data, e->len, b);
      g_assert_true (memcmp (a, b, 32) != 0);
      e->data[i] ^= 0x01;
    }
}

static void
test_sign_verify (void)
{
  Key k, other;
  guint8 hash[32], sig[64];

  key_init (&k, 1);
  key_init (&other, 2);
  memset (hash, 0x42, 32);
  cb_log_batch_sign (SYSTEM, k.sk, 7, hash, sig);
  g_assert_true (cb_log_batch_verify (SYSTEM, k.pk, 7, hash, sig));

  g_assert_false (cb_log_batch_verify ("github.com/other", k.pk, 7, hash, sig));
  g_assert_false (cb_log_batch_verify (SYSTEM, other.pk, 7, hash, sig));
  g_assert_false (cb_log_batch_verify (SYSTEM, k.pk, 8, hash, sig));
  g_assert_false (cb_log_batch_verify ("not valid", k.pk, 7, hash, sig));
  hash[31] ^= 1;
  g_assert_false (cb_log_batch_verify (SYSTEM, k.pk, 7, hash, sig));
  hash[31] ^= 1;
  sig[0] ^= 1;
  g_assert_false (cb_log_batch_verify (SYSTEM, k.pk, 7, hash, sig));
  sig[0] ^= 1;

  /* The signature is over the domain-separated message, so a plain
   * signature of the hash by the same key does not pass. */
  crypto_sign_detached (sig, NULL, hash, 32, k.sk);
  g_assert_false (cb_log_batch_verify (SYSTEM, k.pk, 7, hash, sig));
}

/* ---- batches ---- */

static gboolean
verify (Chain *chain, guint first, guint last, const guint8 sig[64], CbLogEntry ***out,
        guint8 last_hash[32], GError **error)
{
  return cb_log_verify_batch (SYSTEM, chain->key.pk, first, chain->hashes[(int) first - 2],
                              chain->entries + first - 1, last - first + 1, sig, out,
                              last_hash, error);
}

static void
test_chain_in_two_batches (void)
{
  Chain c;
  guint8 sig1[64], sig2[64], last_hash[32];
  CbLogEntry **entries = NULL;
  g_autoptr(GError) error = NULL;

  chain_init (&c, 1, 5);
  chain_sign (&c, 3, sig1);
  chain_sign (&c, 5, sig2);

  g_assert_true (cb_log_verify_batch (SYSTEM, c.key.pk, 1, NULL, c.entries, 3, sig1, &entries,
                                      last_hash, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (last_hash, 32, c.hashes[2], 32);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_nonnull (entries[i]);
      g_assert_cmpuint (entries[i]->seq, ==, i + 1);
      g_assert_cmpstr (entries[i]->system, ==, SYSTEM);
      g_assert_cmpmem (entries[i]->writer, 32, c.key.pk, 32);
      g_assert_cmpmem (entries[i]->prev, 32, c.hashes[(int) i - 1], 32);
      g_assert_cmpuint (entries[i]->hlc, ==, (G_GUINT64_CONSTANT (1795341600000) + i) << 16);
      /* Payloads are slices of the encoded entries, not copies. */
      g_assert_true ((const guint8 *) g_bytes_get_data (entries[i]->payload, NULL) >=
                     (const guint8 *) g_bytes_get_data (c.entries[i], NULL));
      g_assert_true ((const guint8 *) g_bytes_get_data (entries[i]->payload, NULL) <
                     (const guint8 *) g_bytes_get_data (c.entries[i], NULL) +
                     g_bytes_get_size (c.entries[i]));
    }
  g_assert_null (entries[3]);
  g_clear_pointer (&entries, cb_log_entry_array_free);

  /* The second batch names the first's last hash as its predecessor. */
  g_assert_true (cb_log_verify_batch (SYSTEM, c.key.pk, 4, last_hash, c.entries + 3, 2, sig2,
                                      NULL, last_hash, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (last_hash, 32, c.hashes[4], 32);

  /* And the whole log as one batch under the later signature. */
  g_assert_true (verify (&c, 1, 5, sig2, NULL, NULL, &error));
  g_assert_no_error (error);
  chain_clear (&c);
}

/* Runs a verification expected to fail and checks outputs stay untouched. */
static void
expect_batch_error (const char *system, const Key *key, guint64 first_seq,
                    const guint8 prev[32], GBytes **entries, guint n, const guint8 sig[64],
                    gint code, const char *message)
{
  g_autoptr(GError) error = NULL;
  CbLogEntry **out = (CbLogEntry **) GINT_TO_POINTER (1);
  guint8 last_hash[32];

  memset (last_hash, 0xee, 32);
  g_assert_false (cb_log_verify_batch (system, key->pk, first_seq, prev, entries, n, sig, &out,
                                       last_hash, &error));
  g_assert_error (error, CB_LOG_ERROR, code);
  if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
  g_assert_true (out == (CbLogEntry **) GINT_TO_POINTER (1));
  for (guint i = 0; i < 32; i++)
    g_assert_cmpuint (last_hash[i], ==, 0xee);
}

static void
test_forged_signature (void)
{
  Chain c;
  Key mallory;
  guint8 sig[64];
  g_autofree char *msg = NULL;

  chain_init (&c, 1, 5);
  key_init (&mallory, 9);

  /* Signed by someone else. */
  cb_log_batch_sign (SYSTEM, mallory.sk, 5, c.hashes[4], sig);
  msg = g_strdup_printf ("the signature over entries 1..5 of writer %s in " SYSTEM " does not "
                         "verify: the entries were altered or not signed by this writer",
                         c.key.hex);
  expect_batch_error (SYSTEM, &c.key, 1, NULL, c.entries, 5, sig,
                      CB_LOG_ERROR_BAD_SIGNATURE, msg);

  /* A genuine signature over a shorter run does not cover a longer one. */
  chain_sign (&c, 3, sig);
  expect_batch_error (SYSTEM, &c.key, 1, NULL, c.entries, 5, sig,
                      CB_LOG_ERROR_BAD_SIGNATURE, NULL);
  /* Nor one over another system's log with the same hashes. */
  cb_log_batch_sign ("github.com/other", c.key.sk, 5, c.hashes[4], sig);
  expect_batch_error (SYSTEM, &c.key, 1, NULL, c.entries, 5, sig,
                      CB_LOG_ERROR_BAD_SIGNATURE, NULL);
  /* All zeros. */
  memset (sig, 0, 64);
  expect_batch_error (SYSTEM, &c.key, 1, NULL, c.entries, 5, sig,
                      CB_LOG_ERROR_BAD_SIGNATURE, NULL);
  chain_clear (&c);
}

static void
test_broken_chain (void)
{
  Chain c;
  guint8 sig[64], bad_prev[32], hash[32];
  g_autoptr(GBytes) forged = NULL;
  g_autoptr(GBytes) payload = g_bytes_new_static ("other", 5);
  GBytes *run[2];
  g_autofree char *msg = NULL;

  chain_init (&c, 1, 5);

  /* Entry 4 names a different predecessor; the writer even signs it, so
   * only the chain check can catch the fork. */
  memset (bad_prev, 0x77, 32);
  forged = make_entry (SYSTEM, c.key.pk, 4, bad_prev, 1, payload);
  cb_log_entry_hash (g_bytes_get_data (forged, NULL), g_bytes_get_size (forged), hash);
  cb_log_batch_sign (SYSTEM, c.key.sk, 4, hash, sig);
  run[0] = forged;
  msg = g_strdup_printf ("entry 4 of writer %s does not follow entry 3 in " SYSTEM ": its prev "
                         "hash differs (a forked or altered log)", c.key.hex);
  expect_batch_error (SYSTEM, &c.key, 4, c.hashes[2], run, 1, sig,
                      CB_LOG_ERROR_BROKEN_CHAIN, msg);

  /* A genuine run checked against a predecessor hash the caller holds
   * that differs (our copy of the log forked from theirs). */
  chain_sign (&c, 5, sig);
  expect_batch_error (SYSTEM, &c.key, 4, bad_prev, c.entries + 3, 2, sig,
                      CB_LOG_ERROR_BROKEN_CHAIN, NULL);

  /* Inside a run: entry 5 after a substituted entry 4. */
  run[0] = forged;
  run[1] = c.entries[4];
  g_clear_pointer (&msg, g_free);
  msg = g_strdup_printf ("entry 5 of writer %s does not follow entry 4 in " SYSTEM ": its prev "
                         "hash differs (a forked or altered log)", c.key.hex);
  expect_batch_error (SYSTEM, &c.key, 4, bad_prev, run, 2, sig,
                      CB_LOG_ERROR_BROKEN_CHAIN, msg);
  chain_clear (&c);
}

static void
test_gap (void)
{
  Chain c;
  guint8 sig[64];
  GBytes *run[2];
  g_autofree char *msg = NULL;

  chain_init (&c, 1, 6);
  chain_sign (&c, 6, sig);

  run[0] = c.entries[3];  /* entry 4 */
  run[1] = c.entries[5];  /* entry 6 */
  msg = g_strdup_printf ("entry 6 of writer %s follows entry 4 in a batch for " SYSTEM "; "
                         "entries are missing or out of order", c.key.hex);
  expect_batch_error (SYSTEM, &c.key, 4, c.hashes[2], run, 2, sig, CB_LOG_ERROR_GAP, msg);

  /* The batch says it starts at 4 but holds 5 first. */
  g_clear_pointer (&msg, g_free);
  msg = g_strdup_printf ("a batch from writer %s for " SYSTEM " says it starts at entry 4 but "
                         "its first entry is entry 5", c.key.hex);
  expect_batch_error (SYSTEM, &c.key, 4, c.hashes[2], c.entries + 4, 2, sig, CB_LOG_ERROR_GAP,
                      msg);

  /* Reordered. */
  run[0] = c.entries[4];
  run[1] = c.entries[3];
  expect_batch_error (SYSTEM, &c.key, 5, c.hashes[3], run, 2, sig, CB_LOG_ERROR_GAP, NULL);

  /* Repeated. */
  run[0] = c.entries[3];
  run[1] = c.entries[3];
  expect_batch_error (SYSTEM, &c.key, 4, c.hashes[2], run, 2, sig, CB_LOG_ERROR_GAP, NULL);
  chain_clear (&c);
}

static void
test_wrong_writer_and_system (void)
{
  Chain a, b;
  guint8 sig[64], prev[32], hash[32];
  g_autoptr(GBytes) foreign = NULL;
  g_autoptr(GBytes) payload = g_bytes_new_static ("x", 1);
  GBytes *run[3];
  g_autofree char *msg = NULL;

  chain_init (&a, 1, 3);
  chain_init (&b, 2, 3);

  /* A's batch with B's entry 3 in it, signed by A. */
  run[0] = a.entries[0];
  run[1] = a.entries[1];
  run[2] = b.entries[2];
  cb_log_entry_hash (g_bytes_get_data (b.entries[2], NULL), g_bytes_get_size (b.entries[2]), hash);
  cb_log_batch_sign (SYSTEM, a.key.sk, 3, hash, sig);
  msg = g_strdup_printf ("entry 3 in a batch from writer %s was written by writer %s; a batch "
                         "holds one writer's entries", a.key.hex, b.key.hex);
  expect_batch_error (SYSTEM, &a.key, 1, NULL, run, 3, sig, CB_LOG_ERROR_WRONG_WRITER, msg);

  /* A's entry of another system. */
  memcpy (prev, a.hashes[1], 32);
  foreign = make_entry ("github.com/other", a.key.pk, 3, prev, 1, payload);
  run[2] = foreign;
  chain_sign (&a, 3, sig);
  g_clear_pointer (&msg, g_free);
  msg = g_strdup_printf ("entry 3 of writer %s belongs to system \"github.com/other\", not to "
                         SYSTEM " which the batch is for", a.key.hex);
  expect_batch_error (SYSTEM, &a.key, 1, NULL, run, 3, sig, CB_LOG_ERROR_WRONG_SYSTEM, msg);

  /* The whole genuine batch presented as another system's. */
  expect_batch_error ("github.com/other", &a.key, 1, NULL, a.entries, 3, sig,
                      CB_LOG_ERROR_WRONG_SYSTEM, NULL);
  chain_clear (&a);
  chain_clear (&b);
}

static void
test_replay_is_pure (void)
{
  Chain c;
  guint8 sig3[64], sig5[64], h1[32], h2[32];
  g_autoptr(GError) error = NULL;
  GBytes *before[5];

  chain_init (&c, 1, 5);
  chain_sign (&c, 3, sig3);
  chain_sign (&c, 5, sig5);
  memcpy (before, c.entries, sizeof before);

  g_assert_true (verify (&c, 1, 5, sig5, NULL, h1, &error));
  g_assert_no_error (error);
  /* The older, shorter batch sent again still verifies on its own: the
   * function remembers nothing; deduplication by seq is the caller's. */
  g_assert_true (verify (&c, 1, 3, sig3, NULL, h2, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (h2, 32, c.hashes[2], 32);
  /* Same inputs, same answer, inputs untouched. */
  g_assert_true (verify (&c, 1, 5, sig5, NULL, h2, &error));
  g_assert_cmpmem (h1, 32, h2, 32);
  for (guint i = 0; i < 5; i++)
    {
      guint8 hash[32];

      g_assert_true (c.entries[i] == before[i]);
      cb_log_entry_hash (g_bytes_get_data (c.entries[i], NULL),
                         g_bytes_get_size (c.entries[i]), hash);
      g_assert_cmpmem (hash, 32, c.hashes[i], 32);
    }
  chain_clear (&c);
}

/* A copy of encoded with byte at offset from the end flipped. */
static GBytes *
flip_from_end (GBytes *encoded, gsize from_end)
{
  gsize len;
  guint8 *copy = g_memdup2 (g_bytes_get_data (encoded, &len), g_bytes_get_size (encoded));

  copy[len - from_end] ^= 0x20;
  return g_bytes_new_take (copy, len);
}

static void
test_altered_payload (void)
{
  Chain c;
  guint8 sig[64];
  g_autoptr(GBytes) altered2 = NULL;
  g_autoptr(GBytes) altered3 = NULL;
  GBytes *run[3];
  g_autofree char *msg = NULL;

  chain_init (&c, 1, 3);
  chain_sign (&c, 3, sig);

  /* A changed payload in the middle: the next entry's prev no longer
   * matches. */
  altered2 = flip_from_end (c.entries[1], 1);
  run[0] = c.entries[0];
  run[1] = altered2;
  run[2] = c.entries[2];
  msg = g_strdup_printf ("entry 3 of writer %s does not follow entry 2 in " SYSTEM ": its prev "
                         "hash differs (a forked or altered log)", c.key.hex);
  expect_batch_error (SYSTEM, &c.key, 1, NULL, run, 3, sig, CB_LOG_ERROR_BROKEN_CHAIN, msg);

  /* In the last entry: only the signature covers it. */
  altered3 = flip_from_end (c.entries[2], 1);
  run[1] = c.entries[1];
  run[2] = altered3;
  expect_batch_error (SYSTEM, &c.key, 1, NULL, run, 3, sig, CB_LOG_ERROR_BAD_SIGNATURE, NULL);
  chain_clear (&c);
}

static void
test_batch_malformed (void)
{
  Chain c;
  guint8 sig[64];
  g_autoptr(GBytes) truncated = NULL;
  g_autoptr(GBytes) huge = NULL;
  GBytes *run[2];
  g_autofree char *msg = NULL;
  guint8 *big;

  chain_init (&c, 1, 2);
  chain_sign (&c, 2, sig);

  msg = g_strdup_printf ("a batch from writer %s for " SYSTEM " has no entries", c.key.hex);
  expect_batch_error (SYSTEM, &c.key, 1, NULL, c.entries, 0, sig, CB_LOG_ERROR_MALFORMED, msg);
  expect_batch_error (SYSTEM, &c.key, 0, NULL, c.entries, 2, sig, CB_LOG_ERROR_MALFORMED, NULL);

  truncated = g_bytes_new_from_bytes (c.entries[1], 0, g_bytes_get_size (c.entries[1]) - 1);
  run[0] = c.entries[0];
  run[1] = truncated;
  g_clear_pointer (&msg, g_free);
  msg = g_strdup_printf ("entry 2 of a batch from writer %s for " SYSTEM " (seq 2 expected) "
                         "cannot be read: log entry 2 ends inside its payload (10 of 11 bytes "
                         "present)", c.key.hex);
  expect_batch_error (SYSTEM, &c.key, 1, NULL, run, 2, sig, CB_LOG_ERROR_MALFORMED, msg);

  big = g_malloc0 (CB_LOG_ENTRY_MAX_BYTES + 1);
  big[0] = 1;
  huge = g_bytes_new_take (big, CB_LOG_ENTRY_MAX_BYTES + 1);
  run[1] = huge;
  expect_batch_error (SYSTEM, &c.key, 1, NULL, run, 2, sig, CB_LOG_ERROR_TOO_LARGE, NULL);
  chain_clear (&c);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/node/log-entry/golden", test_golden);
  g_test_add_func ("/node/log-entry/round-trips", test_round_trips);
  g_test_add_func ("/node/log-entry/malformed", test_malformed);
  g_test_add_func ("/node/log-entry/truncations", test_truncations);
  g_test_add_func ("/node/log-entry/encode-invalid", test_encode_invalid);
  g_test_add_func ("/node/log-entry/hash", test_hash);
  g_test_add_func ("/node/log-entry/sign-verify", test_sign_verify);
  g_test_add_func ("/node/log-entry/batch/chain-in-two-batches", test_chain_in_two_batches);
  g_test_add_func ("/node/log-entry/batch/forged-signature", test_forged_signature);
  g_test_add_func ("/node/log-entry/batch/broken-chain", test_broken_chain);
  g_test_add_func ("/node/log-entry/batch/gap", test_gap);
  g_test_add_func ("/node/log-entry/batch/wrong-writer-and-system", test_wrong_writer_and_system);
  g_test_add_func ("/node/log-entry/batch/replay-is-pure", test_replay_is_pure);
  g_test_add_func ("/node/log-entry/batch/altered-payload", test_altered_payload);
  g_test_add_func ("/node/log-entry/batch/malformed", test_batch_malformed);
  return g_test_run ();
}
