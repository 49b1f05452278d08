/* test-replication-codec.c: the replication wire messages byte for byte,
 * their bounds, and every way the decoder refuses input. */
#include <sodium.h>
#include <string.h>

#include "cb-hlc.h"
#include "cb-log-entry.h"
#include "cb-replication-codec.h"

static void
assert_bytes (GBytes *bytes, const guint8 *expected, gsize len)
{
  gsize got_len;
  const guint8 *got = g_bytes_get_data (bytes, &got_len);

  g_assert_cmpmem (got, got_len, expected, len);
}

static void
append_u64 (GByteArray *a, guint64 v)
{
  v = GUINT64_TO_LE (v);
  g_byte_array_append (a, (const guint8 *) &v, 8);
}

static void
append_u32 (GByteArray *a, guint32 v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (a, (const guint8 *) &v, 4);
}

static void
append_fill (GByteArray *a, guint8 byte, gsize n)
{
  gsize at = a->len;

  g_byte_array_set_size (a, a->len + n);
  memset (a->data + at, byte, n);
}

/* Decoding must fail with code (and message, if given) from both decoders,
 * leaving out cleared. */
static void
expect_decode_error (const guint8 *data, gsize len, gint code, const char *message)
{
  g_autofree guint8 *copy = g_memdup2 (data, len);  /* exact size for ASan */
  g_autoptr(GBytes) bytes = g_bytes_new (data, len);
  CbReplicationMessage m;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) error2 = NULL;

  memset (&m, 0x55, sizeof m);
  g_assert_false (cb_replication_decode (copy, len, &m, &error));
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, code);
  if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
  g_assert_null (m.system);
  g_assert_cmpint (m.type, ==, 0);

  g_assert_false (cb_replication_decode_bytes (bytes, &m, &error2));
  g_assert_error (error2, CB_REPLICATION_CODEC_ERROR, code);
  g_assert_cmpstr (error2->message, ==, error->message);
  g_assert_null (m.system);
}

/* Decodes data, checks it re-encodes to itself, returns the message. */
static void
decode_ok (GBytes *bytes, CbReplicationMessage *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) again = NULL;
  g_auto(CbReplicationMessage) copied = { 0 };
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_assert_true (cb_replication_decode (data, len, &copied, &error));
  g_assert_no_error (error);
  g_assert_true (cb_replication_decode_bytes (bytes, out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out->type, ==, copied.type);
  g_assert_cmpstr (out->system, ==, copied.system);
  again = cb_replication_encode (out, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (again, bytes));
  g_clear_pointer (&again, g_bytes_unref);
  again = cb_replication_encode (&copied, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (again, bytes));
}

static void
expect_prefixes_refused (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  for (gsize n = 0; n < len; n++)
    expect_decode_error (data, n, CB_REPLICATION_CODEC_ERROR_MALFORMED, NULL);
}

/* ---- HAVE ---- */

static void
test_have_golden (void)
{
  CbReplicationVectorItem items[2];
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CbReplicationMessage) m = { 0 };

  /* Given out of order: the encoder sorts by writer. */
  memset (items[0].writer, 0xbb, 32);
  items[0].seq = 7;
  memset (items[1].writer, 0xaa, 32);
  items[1].seq = 0x0102030405060708;
  bytes = cb_replication_encode_have ("sys", CB_REPLICATION_HAVE_REPLY, items, 2, &error);
  g_assert_no_error (error);

  g_byte_array_append (expected, (const guint8 *) "\x01\x01\x03sys\x01\x02\x00", 9);
  append_fill (expected, 0xaa, 32);
  append_u64 (expected, 0x0102030405060708);
  append_fill (expected, 0xbb, 32);
  append_u64 (expected, 7);
  assert_bytes (bytes, expected->data, expected->len);
  /* The caller's array is left as it was. */
  g_assert_cmpuint (items[0].writer[0], ==, 0xbb);

  decode_ok (bytes, &m);
  g_assert_cmpint (m.type, ==, CB_REPLICATION_MSG_HAVE);
  g_assert_cmpstr (m.system, ==, "sys");
  g_assert_cmpuint (m.have.flags, ==, CB_REPLICATION_HAVE_REPLY);
  g_assert_cmpuint (m.have.n_items, ==, 2);
  g_assert_cmpuint (m.have.items[0].writer[0], ==, 0xaa);
  g_assert_cmpuint (m.have.items[0].seq, ==, 0x0102030405060708);
  g_assert_cmpuint (m.have.items[1].writer[31], ==, 0xbb);
  g_assert_cmpuint (m.have.items[1].seq, ==, 7);
  expect_prefixes_refused (bytes);
}

static void
test_have_empty_and_full (void)
{
  g_autofree CbReplicationVectorItem *items = g_new0 (CbReplicationVectorItem,
                                                      CB_REPLICATION_MAX_VECTOR + 1);
  g_autoptr(GBytes) empty = NULL;
  g_autoptr(GBytes) full = NULL;
  g_autoptr(GBytes) over = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CbReplicationMessage) m = { 0 };
  g_auto(CbReplicationMessage) m2 = { 0 };

  empty = cb_replication_encode_have ("s", 0, NULL, 0, &error);
  g_assert_no_error (error);
  assert_bytes (empty, (const guint8 *) "\x01\x01\x01s\x00\x00\x00", 7);
  decode_ok (empty, &m);
  g_assert_cmpuint (m.have.n_items, ==, 0);

  for (guint i = 0; i <= CB_REPLICATION_MAX_VECTOR; i++)
    {
      /* Descending, so the encoder has to sort them. */
      guint v = CB_REPLICATION_MAX_VECTOR - i;

      items[i].writer[0] = (guint8) (v >> 8);
      items[i].writer[1] = (guint8) v;
      items[i].seq = v;
    }
  full = cb_replication_encode_have ("s", 0, items + 1, CB_REPLICATION_MAX_VECTOR, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (full), ==, 7 + 40 * CB_REPLICATION_MAX_VECTOR);
  decode_ok (full, &m2);
  g_assert_cmpuint (m2.have.n_items, ==, CB_REPLICATION_MAX_VECTOR);
  g_assert_cmpuint (m2.have.items[0].seq, ==, 0);
  g_assert_cmpuint (m2.have.items[4095].seq, ==, 4095);

  over = cb_replication_encode_have ("s", 0, items, CB_REPLICATION_MAX_VECTOR + 1, &error);
  g_assert_null (over);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_TOO_LARGE);
  g_assert_cmpstr (error->message, ==, "a HAVE for s cannot list 4097 writers; at most 4096 fit "
                   "one message");
}

static GByteArray *
have_bytes (guint8 flags, guint16 n)
{
  GByteArray *a = g_byte_array_new ();

  g_byte_array_append (a, (const guint8 *) "\x01\x01\x01s", 4);
  g_byte_array_append (a, &flags, 1);
  g_byte_array_append (a, (const guint8 *) &(guint16) { GUINT16_TO_LE (n) }, 2);
  return a;
}

static void
test_have_malformed (void)
{
  g_autoptr(GByteArray) a = NULL;

  a = have_bytes (0x04, 0);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (HAVE for s) has unknown flag bits 0x04");
  g_clear_pointer (&a, g_byte_array_unref);

  a = have_bytes (0, 4097);
  append_fill (a, 1, 4097 * 40);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_TOO_LARGE,
                       "replication message (HAVE for s) lists 4097 writers; at most 4096 are "
                       "allowed");
  g_clear_pointer (&a, g_byte_array_unref);

  /* A count the bytes do not match, both ways. */
  a = have_bytes (0, 2);
  append_fill (a, 1, 40);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (HAVE for s) lists 2 writers in 40 bytes; 80 were "
                       "expected");
  append_fill (a, 2, 41);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED, NULL);
  g_clear_pointer (&a, g_byte_array_unref);

  /* Repeated and unsorted writers. */
  a = have_bytes (0, 2);
  append_fill (a, 0xaa, 32);
  append_u64 (a, 1);
  append_fill (a, 0xaa, 32);
  append_u64 (a, 2);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (HAVE for s) repeats writer aaaaaaaaaaaaaaaa at "
                       "position 2; writers must be listed once each in ascending order");
  a->data[7 + 40] = 0x99;
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (HAVE for s) lists out of order writer "
                       "99aaaaaaaaaaaaaa at position 2; writers must be listed once each in "
                       "ascending order");
  g_clear_pointer (&a, g_byte_array_unref);

  a = have_bytes (0, 1);
  append_fill (a, 0xaa, 32);
  append_u64 (a, (guint64) G_MAXINT64 + 1);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (HAVE) has a writer's seq 9223372036854775808, past "
                       "the largest (2^63-1)");
}

static void
test_have_encode_invalid (void)
{
  CbReplicationVectorItem items[3] = { 0 };
  g_autoptr(GError) error = NULL;
  GBytes *bytes;

  items[0].writer[0] = 2;
  items[1].writer[0] = 1;
  items[2].writer[0] = 2;
  bytes = cb_replication_encode_have ("s", 0, items, 3, &error);
  g_assert_null (bytes);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "cannot encode a replication message: writer "
                   "0200000000000000 is listed twice in the HAVE for s");
  g_clear_error (&error);

  bytes = cb_replication_encode_have ("s", 0x80, items, 1, &error);
  g_assert_null (bytes);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID);
  g_clear_error (&error);

  bytes = cb_replication_encode_have ("has space", 0, items, 1, &error);
  g_assert_null (bytes);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "cannot encode a replication message: system name "
                   "\"has space\" is not 1..255 printable ASCII bytes without spaces");
  g_clear_error (&error);

  items[0].seq = (guint64) G_MAXINT64 + 1;
  bytes = cb_replication_encode_have ("s", 0, items, 1, &error);
  g_assert_null (bytes);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID);
}

/* ---- BATCH ---- */

/* Fake entries of the right sizes: the codec does not open them. */
static GBytes *
fake_entry (gsize len, guint8 fill)
{
  guint8 *data = g_malloc (len);

  memset (data, fill, len);
  return g_bytes_new_take (data, len);
}

static void
test_batch_golden (void)
{
  guint8 writer[32], sig[64];
  GBytes *entries[2];
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CbReplicationMessage) m = { 0 };
  const guint8 *base;

  memset (writer, 0x11, 32);
  memset (sig, 0x22, 64);
  entries[0] = fake_entry (CB_LOG_ENTRY_MIN_BYTES, 0x33);
  entries[1] = fake_entry (CB_LOG_ENTRY_MIN_BYTES + 1, 0x44);
  bytes = cb_replication_encode_batch ("sys", writer, 5, sig, entries, 2, &error);
  g_assert_no_error (error);

  g_byte_array_append (expected, (const guint8 *) "\x01\x02\x03sys", 6);
  append_fill (expected, 0x11, 32);
  append_u64 (expected, 5);
  append_fill (expected, 0x22, 64);
  append_u32 (expected, 2);
  append_u32 (expected, CB_LOG_ENTRY_MIN_BYTES);
  append_fill (expected, 0x33, CB_LOG_ENTRY_MIN_BYTES);
  append_u32 (expected, CB_LOG_ENTRY_MIN_BYTES + 1);
  append_fill (expected, 0x44, CB_LOG_ENTRY_MIN_BYTES + 1);
  assert_bytes (bytes, expected->data, expected->len);
  g_assert_cmpuint (cb_replication_batch_size ("sys", 2, 2 * CB_LOG_ENTRY_MIN_BYTES + 1), ==,
                    expected->len);

  decode_ok (bytes, &m);
  g_assert_cmpint (m.type, ==, CB_REPLICATION_MSG_BATCH);
  g_assert_cmpmem (m.batch.writer, 32, writer, 32);
  g_assert_cmpuint (m.batch.first_seq, ==, 5);
  g_assert_cmpmem (m.batch.sig, 64, sig, 64);
  g_assert_cmpuint (m.batch.entries->len, ==, 2);
  g_assert_true (g_bytes_equal (m.batch.entries->pdata[0], entries[0]));
  g_assert_true (g_bytes_equal (m.batch.entries->pdata[1], entries[1]));
  /* decode_bytes() slices the message instead of copying entries. */
  base = g_bytes_get_data (bytes, NULL);
  g_assert_true (g_bytes_get_data (m.batch.entries->pdata[0], NULL) ==
                 base + 6 + 32 + 8 + 64 + 4 + 4);
  expect_prefixes_refused (bytes);
  g_bytes_unref (entries[0]);
  g_bytes_unref (entries[1]);
}

static void
test_batch_frame_limit (void)
{
  char system[CB_LOG_MAX_SYSTEM + 1];
  guint8 writer[32] = { 0 }, sig[64] = { 0 };
  g_autoptr(GBytes) largest = fake_entry (CB_LOG_ENTRY_MAX_BYTES, 1);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_auto(CbReplicationMessage) m = { 0 };
  gsize room, per;

  memset (system, 'x', CB_LOG_MAX_SYSTEM);
  system[CB_LOG_MAX_SYSTEM] = '\0';
  /* The largest entry with the longest system name fits one frame. */
  bytes = cb_replication_encode_batch (system, writer, 1, sig, &largest, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), <=, CB_CHANNEL_MAX_FRAME);
  decode_ok (bytes, &m);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* Fill a frame exactly with small entries, then one more is too many. */
  per = 4 + 1000;
  room = CB_CHANNEL_MAX_FRAME - cb_replication_batch_size ("s", 0, 0);
  for (gsize i = 0; i < room / per; i++)
    g_ptr_array_add (many, fake_entry (1000, 2));
  g_ptr_array_add (many, fake_entry (room % per - 4, 3));
  bytes = cb_replication_encode_batch ("s", writer, 1, sig, (GBytes **) many->pdata, many->len,
                                       &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, CB_CHANNEL_MAX_FRAME);
  g_clear_pointer (&bytes, g_bytes_unref);
  g_ptr_array_add (many, fake_entry (CB_LOG_ENTRY_MIN_BYTES, 4));
  bytes = cb_replication_encode_batch ("s", writer, 1, sig, (GBytes **) many->pdata, many->len,
                                       &error);
  g_assert_null (bytes);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* Over the frame size on the decoding side. */
  {
    g_autofree guint8 *huge = g_malloc0 (CB_CHANNEL_MAX_FRAME + 1);

    huge[0] = 1;
    expect_decode_error (huge, CB_CHANNEL_MAX_FRAME + 1, CB_REPLICATION_CODEC_ERROR_TOO_LARGE,
                         "replication message is 1048577 bytes; at most 1048576 are allowed");
  }
}

static GByteArray *
batch_bytes (guint64 first_seq, guint32 n)
{
  GByteArray *a = g_byte_array_new ();

  g_byte_array_append (a, (const guint8 *) "\x01\x02\x01s", 4);
  append_fill (a, 0x11, 32);
  append_u64 (a, first_seq);
  append_fill (a, 0x22, 64);
  append_u32 (a, n);
  return a;
}

static void
test_batch_malformed (void)
{
  g_autoptr(GByteArray) a = NULL;

  a = batch_bytes (1, 0);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (BATCH for s) has no entries");
  g_clear_pointer (&a, g_byte_array_unref);

  a = batch_bytes (0, 1);
  append_u32 (a, CB_LOG_ENTRY_MIN_BYTES);
  append_fill (a, 0, CB_LOG_ENTRY_MIN_BYTES);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (BATCH for s) starts at seq 0; logs start at 1");
  g_clear_pointer (&a, g_byte_array_unref);

  a = batch_bytes ((guint64) G_MAXINT64 + 1, 1);
  append_u32 (a, CB_LOG_ENTRY_MIN_BYTES);
  append_fill (a, 0, CB_LOG_ENTRY_MIN_BYTES);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED, NULL);
  g_clear_pointer (&a, g_byte_array_unref);

  /* A run past the largest seq. */
  a = batch_bytes ((guint64) G_MAXINT64, 2);
  for (guint i = 0; i < 2; i++)
    {
      append_u32 (a, CB_LOG_ENTRY_MIN_BYTES);
      append_fill (a, 0, CB_LOG_ENTRY_MIN_BYTES);
    }
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (BATCH for s) runs past seq 2^63-1");
  g_clear_pointer (&a, g_byte_array_unref);

  /* A count the bytes cannot hold is refused before allocating for it. */
  a = batch_bytes (1, G_MAXUINT32);
  append_u32 (a, CB_LOG_ENTRY_MIN_BYTES);
  append_fill (a, 0, CB_LOG_ENTRY_MIN_BYTES);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (BATCH for s) claims 4294967295 entries but 91 bytes "
                       "cannot hold that many");
  g_clear_pointer (&a, g_byte_array_unref);

  a = batch_bytes (1, 1);
  append_u32 (a, CB_LOG_ENTRY_MIN_BYTES - 1);
  append_fill (a, 0, CB_LOG_ENTRY_MIN_BYTES + 10);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (BATCH for s) has entry 1 of 86 bytes; entries take "
                       "87..1044821 bytes");
  g_clear_pointer (&a, g_byte_array_unref);

  a = batch_bytes (1, 1);
  append_u32 (a, CB_LOG_ENTRY_MAX_BYTES + 1);
  append_fill (a, 0, CB_LOG_ENTRY_MIN_BYTES + 10);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED, NULL);
  g_clear_pointer (&a, g_byte_array_unref);

  a = batch_bytes (1, 1);
  append_u32 (a, CB_LOG_ENTRY_MIN_BYTES + 1);
  append_fill (a, 0, CB_LOG_ENTRY_MIN_BYTES);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (BATCH) ends inside an entry");
  append_fill (a, 0, 2);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (BATCH for s) has 1 trailing byte(s)");
}

static void
test_batch_encode_invalid (void)
{
  guint8 writer[32] = { 0 }, sig[64] = { 0 };
  g_autoptr(GBytes) small = fake_entry (CB_LOG_ENTRY_MIN_BYTES - 1, 1);
  g_autoptr(GBytes) ok = fake_entry (CB_LOG_ENTRY_MIN_BYTES, 1);
  g_autoptr(GError) error = NULL;
  GBytes *bytes;
  GBytes *two[2] = { ok, ok };

  bytes = cb_replication_encode_batch ("s", writer, 1, sig, &small, 1, &error);
  g_assert_null (bytes);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID);
  g_clear_error (&error);

  bytes = cb_replication_encode_batch ("s", writer, 1, sig, &ok, 0, &error);
  g_assert_null (bytes);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID);
  g_clear_error (&error);

  bytes = cb_replication_encode_batch ("s", writer, 0, sig, &ok, 1, &error);
  g_assert_null (bytes);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID);
  g_clear_error (&error);

  bytes = cb_replication_encode_batch ("s", writer, CB_LOG_MAX_SEQ, sig, two, 2, &error);
  g_assert_null (bytes);
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID);
  g_clear_error (&error);

  bytes = cb_replication_encode_batch ("s", writer, CB_LOG_MAX_SEQ, sig, two, 1, &error);
  g_assert_no_error (error);
  g_bytes_unref (bytes);
}

/* A real signed run travels through a BATCH and verifies on arrival. */
static void
test_batch_carries_signed_run (void)
{
  guint8 pk[32], sk[64], seed[32], prev[32] = { 0 }, sig[64], last[32];
  GBytes *entries[3];
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CbReplicationMessage) m = { 0 };
  CbLogEntry **decoded = NULL;
  CbHlc clock = { 0 };

  memset (seed, 7, 32);
  crypto_sign_seed_keypair (pk, sk, seed);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GBytes) payload = g_bytes_new_static ("row", 3);
      CbLogEntry e = { (char *) "sys", { 0 }, i + 1, { 0 },
                       cb_hlc_now (&clock, 1795341600000), payload };

      memcpy (e.writer, pk, 32);
      memcpy (e.prev, prev, 32);
      entries[i] = cb_log_entry_encode (&e);
      cb_log_entry_hash (g_bytes_get_data (entries[i], NULL), g_bytes_get_size (entries[i]),
                         prev);
    }
  cb_log_batch_sign ("sys", sk, 3, prev, sig);
  bytes = cb_replication_encode_batch ("sys", pk, 1, sig, entries, 3, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_bytes_unref (entries[i]);

  g_assert_true (cb_replication_decode_bytes (bytes, &m, &error));
  g_assert_no_error (error);
  g_assert_true (cb_log_verify_batch (m.system, m.batch.writer, m.batch.first_seq, NULL,
                                      (GBytes * const *) m.batch.entries->pdata,
                                      m.batch.entries->len, m.batch.sig, &decoded, last, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (last, 32, prev, 32);
  g_assert_cmpuint (decoded[2]->seq, ==, 3);
  g_assert_cmpuint (decoded[2]->hlc, ==, ((guint64) 1795341600000 << 16) | 2);
  /* The decoded entries outlive the message: their payloads hold it. */
  cb_replication_message_clear (&m);
  g_clear_pointer (&bytes, g_bytes_unref);
  g_assert_cmpmem (g_bytes_get_data (decoded[0]->payload, NULL), 3, "row", 3);
  cb_log_entry_array_free (decoded);
}

/* ---- NACK ---- */

static void
test_nack_golden (void)
{
  guint8 writer[32];
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CbReplicationMessage) m = { 0 };

  memset (writer, 0x3f, 32);
  bytes = cb_replication_encode_nack ("sys", writer, 12, CB_REPLICATION_NACK_GAP,
                                      "entries 10..11 missing", &error);
  g_assert_no_error (error);
  g_byte_array_append (expected, (const guint8 *) "\x01\x03\x03sys", 6);
  append_fill (expected, 0x3f, 32);
  append_u64 (expected, 12);
  g_byte_array_append (expected, (const guint8 *) "\x04\x16" "entries 10..11 missing", 24);
  assert_bytes (bytes, expected->data, expected->len);

  decode_ok (bytes, &m);
  g_assert_cmpint (m.type, ==, CB_REPLICATION_MSG_NACK);
  g_assert_cmpuint (m.nack.seq, ==, 12);
  g_assert_cmpuint (m.nack.reason, ==, CB_REPLICATION_NACK_GAP);
  g_assert_cmpstr (m.nack.text, ==, "entries 10..11 missing");
  expect_prefixes_refused (bytes);

  /* An empty text decodes as "", never NULL; unknown reasons are kept. */
  g_clear_pointer (&bytes, g_bytes_unref);
  cb_replication_message_clear (&m);
  bytes = cb_replication_encode_nack ("sys", writer, 0, 200, NULL, &error);
  g_assert_no_error (error);
  decode_ok (bytes, &m);
  g_assert_cmpstr (m.nack.text, ==, "");
  g_assert_cmpuint (m.nack.reason, ==, 200);
  g_assert_cmpstr (cb_replication_nack_reason_name (m.nack.reason), ==, "other");
}

static void
test_nack_text_cleaned (void)
{
  guint8 writer[32] = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) long_text = g_string_new (NULL);
  static const struct { const char *in; const char *out; } cases[] = {
    { "line one\nline two\t\x7f", "line one?line two??" },
    { "bad \xff\xfe utf8", "bad ?? utf8" },
    { "c1 \xc2\x85 control", "c1 ? control" },
    { "caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = cb_replication_encode_nack ("s", writer, 1, 0, cases[i].in,
                                                            &error);
      g_auto(CbReplicationMessage) m = { 0 };

      g_assert_no_error (error);
      decode_ok (bytes, &m);
      g_assert_cmpstr (m.nack.text, ==, cases[i].out);
    }

  /* 199 ASCII bytes and a 2-byte character: the character does not fit
   * and is dropped whole rather than cut in half. */
  for (guint i = 0; i < 199; i++)
    g_string_append_c (long_text, 'a');
  g_string_append (long_text, "\xc3\xa9 and more");
  {
    g_autoptr(GBytes) bytes = cb_replication_encode_nack ("s", writer, 1, 0, long_text->str,
                                                          &error);
    g_auto(CbReplicationMessage) m = { 0 };

    g_assert_no_error (error);
    decode_ok (bytes, &m);
    g_assert_cmpuint (strlen (m.nack.text), ==, 199);
    g_assert_true (g_str_has_suffix (m.nack.text, "aaa"));
  }
}

static GByteArray *
nack_bytes (const char *text, gsize len)
{
  GByteArray *a = g_byte_array_new ();
  guint8 head[2] = { 1, (guint8) len };

  g_byte_array_append (a, (const guint8 *) "\x01\x03\x01s", 4);
  append_fill (a, 0x3f, 32);
  append_u64 (a, 1);
  g_byte_array_append (a, head, 2);
  g_byte_array_append (a, (const guint8 *) text, (guint) len);
  return a;
}

static void
test_nack_malformed (void)
{
  g_autoptr(GByteArray) a = NULL;
  char long_text[201];

  memset (long_text, 'a', 201);
  a = nack_bytes (long_text, 201);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (NACK for s) has a 201-byte text; at most 200 are "
                       "allowed");
  g_clear_pointer (&a, g_byte_array_unref);

  a = nack_bytes ("ok \xc3", 4);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (NACK for s) text is not UTF-8 at byte 3");
  g_clear_pointer (&a, g_byte_array_unref);

  a = nack_bytes ("nul\0byte", 8);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED, NULL);
  g_clear_pointer (&a, g_byte_array_unref);

  a = nack_bytes ("bell\a", 5);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (NACK for s) text has a control character at "
                       "byte 4");
  g_clear_pointer (&a, g_byte_array_unref);

  a = nack_bytes ("c1 \xc2\x9b", 5);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED, NULL);
  g_clear_pointer (&a, g_byte_array_unref);

  a = nack_bytes ("", 0);
  memset (a->data + 4 + 32, 0xff, 8);
  expect_decode_error (a->data, a->len, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (NACK) has the seq 18446744073709551615, past the "
                       "largest (2^63-1)");
}

/* ---- header ---- */

static void
test_header_malformed (void)
{
  expect_decode_error (NULL, 0, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message is empty");
  expect_decode_error ((const guint8 *) "\x02\x01\x01s\x00\x00\x00", 7,
                       CB_REPLICATION_CODEC_ERROR_VERSION,
                       "replication message is in wire version 2 but this build speaks only "
                       "version 1; the peer may run a different release");
  expect_decode_error ((const guint8 *) "\x01\x00\x01s\x00\x00\x00", 7,
                       CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message has unknown type 0");
  expect_decode_error ((const guint8 *) "\x01\x05\x01s\x00\x00\x00", 7,
                       CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message has unknown type 5");
  expect_decode_error ((const guint8 *) "\x01\x01\x00\x00\x00\x00", 6,
                       CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (HAVE) has an empty system name");
  expect_decode_error ((const guint8 *) "\x01\x01\x02s \x00\x00\x00", 8,
                       CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (HAVE) has byte 0x20 in its system name; only "
                       "printable ASCII without spaces is allowed");
  expect_decode_error ((const guint8 *) "\x01\x01\x09sys", 6,
                       CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (HAVE) ends inside the system name");
}

static void
test_clear (void)
{
  CbReplicationMessage m = { 0 };

  /* Clearing a zeroed or already-cleared message is harmless. */
  cb_replication_message_clear (&m);
  cb_replication_message_clear (&m);
  cb_replication_message_clear (NULL);
  g_assert_null (m.system);
}

static void
test_nack_reasons (void)
{
  static const struct { gint code; guint8 reason; const char *name; } cases[] = {
    { CB_LOG_ERROR_GAP, CB_REPLICATION_NACK_GAP, "gap" },
    { CB_LOG_ERROR_BROKEN_CHAIN, CB_REPLICATION_NACK_BROKEN_CHAIN, "broken-chain" },
    { CB_LOG_ERROR_BAD_SIGNATURE, CB_REPLICATION_NACK_BAD_SIGNATURE, "bad-signature" },
    { CB_LOG_ERROR_WRONG_SYSTEM, CB_REPLICATION_NACK_WRONG_SYSTEM, "wrong-system" },
    { CB_LOG_ERROR_WRONG_WRITER, CB_REPLICATION_NACK_WRONG_WRITER, "wrong-writer" },
    { CB_LOG_ERROR_MALFORMED, CB_REPLICATION_NACK_MALFORMED, "malformed" },
    { CB_LOG_ERROR_VERSION, CB_REPLICATION_NACK_MALFORMED, "malformed" },
    { CB_LOG_ERROR_TOO_LARGE, CB_REPLICATION_NACK_TOO_LARGE, "too-large" },
  };
  g_autoptr(GError) drift = g_error_new_literal (CB_HLC_ERROR, CB_HLC_ERROR_DRIFT, "x");
  g_autoptr(GError) other = g_error_new_literal (G_FILE_ERROR, 0, "x");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) e = g_error_new_literal (CB_LOG_ERROR, cases[i].code, "x");
      guint8 reason = cb_replication_nack_reason_for_error (e);

      g_assert_cmpuint (reason, ==, cases[i].reason);
      g_assert_cmpstr (cb_replication_nack_reason_name (reason), ==, cases[i].name);
    }
  g_assert_cmpuint (cb_replication_nack_reason_for_error (drift), ==, CB_REPLICATION_NACK_CLOCK);
  g_assert_cmpuint (cb_replication_nack_reason_for_error (other), ==, CB_REPLICATION_NACK_OTHER);
  g_assert_cmpuint (cb_replication_nack_reason_for_error (NULL), ==, CB_REPLICATION_NACK_OTHER);
  g_assert_cmpstr (cb_replication_nack_reason_name (CB_REPLICATION_NACK_NOT_HOSTED), ==,
                   "not-hosted");
  g_assert_cmpstr (cb_replication_nack_reason_name (255), ==, "other");
}

/* PULL is a HAVE flag; PULLED carries the answering copy's counts. */
static void
test_pull_and_pulled (void)
{
  CbReplicationVectorItem item = { { 7 }, 42 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pull = cb_replication_encode_have ("test/kv", CB_REPLICATION_HAVE_PULL,
                                                       &item, 1, &error);
  g_autoptr(GBytes) pulled = NULL;
  g_auto(CbReplicationMessage) m = { 0 };
  static const guint8 golden[] = {
    0x01, 0x04, 0x07, 't', 'e', 's', 't', '/', 'k', 'v',
    0x01,                                              /* incomplete */
    0x03, 0x00, 0x00, 0x00,                            /* sent */
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,    /* entries */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,    /* newest hlc */
  };
  guint8 bad[sizeof golden + 1];

  g_assert_no_error (error);
  decode_ok (pull, &m);
  g_assert_cmpint (m.have.flags, ==, CB_REPLICATION_HAVE_PULL);
  cb_replication_message_clear (&m);

  pulled = cb_replication_encode_pulled ("test/kv", CB_REPLICATION_PULLED_INCOMPLETE, 3, 16,
                                         256, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (pulled, NULL), g_bytes_get_size (pulled), golden,
                   sizeof golden);
  decode_ok (pulled, &m);
  g_assert_cmpint (m.type, ==, CB_REPLICATION_MSG_PULLED);
  g_assert_cmpuint (m.pulled.flags, ==, CB_REPLICATION_PULLED_INCOMPLETE);
  g_assert_cmpuint (m.pulled.sent, ==, 3);
  g_assert_cmpuint (m.pulled.entries, ==, 16);
  g_assert_cmpuint (m.pulled.newest_hlc, ==, 256);

  expect_decode_error (golden, sizeof golden - 1, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (PULLED) ends inside the PULLED counts");
  memcpy (bad, golden, sizeof golden);
  bad[10] = 0x02;
  expect_decode_error (bad, sizeof golden, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (PULLED for test/kv) has unknown flag bits 0x02");
  memcpy (bad, golden, sizeof golden);
  bad[sizeof golden] = 0;
  expect_decode_error (bad, sizeof golden + 1, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (PULLED for test/kv) has 1 trailing byte(s)");
  memcpy (bad, golden, sizeof golden);
  bad[22] = 0x80;
  expect_decode_error (bad, sizeof golden, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (PULLED for test/kv) has a count or clock past "
                       "2^63-1");
  expect_decode_error ((const guint8 *) "\x01\x01\x01s\x03\x00\x00", 7,
                       CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "replication message (HAVE for s) is both a reply and a PULL");
  g_assert_null (cb_replication_encode_have ("s", 3, NULL, 0, &error));
  g_assert_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/node/replication-codec/have/golden", test_have_golden);
  g_test_add_func ("/node/replication-codec/have/empty-and-full", test_have_empty_and_full);
  g_test_add_func ("/node/replication-codec/have/malformed", test_have_malformed);
  g_test_add_func ("/node/replication-codec/have/encode-invalid", test_have_encode_invalid);
  g_test_add_func ("/node/replication-codec/batch/golden", test_batch_golden);
  g_test_add_func ("/node/replication-codec/batch/frame-limit", test_batch_frame_limit);
  g_test_add_func ("/node/replication-codec/batch/malformed", test_batch_malformed);
  g_test_add_func ("/node/replication-codec/batch/encode-invalid", test_batch_encode_invalid);
  g_test_add_func ("/node/replication-codec/batch/carries-signed-run",
                   test_batch_carries_signed_run);
  g_test_add_func ("/node/replication-codec/nack/golden", test_nack_golden);
  g_test_add_func ("/node/replication-codec/nack/text-cleaned", test_nack_text_cleaned);
  g_test_add_func ("/node/replication-codec/nack/malformed", test_nack_malformed);
  g_test_add_func ("/node/replication-codec/nack/reasons", test_nack_reasons);
  g_test_add_func ("/node/replication-codec/header-malformed", test_header_malformed);
  g_test_add_func ("/node/replication-codec/pull-and-pulled", test_pull_and_pulled);
  g_test_add_func ("/node/replication-codec/clear", test_clear);
  return g_test_run ();
}
