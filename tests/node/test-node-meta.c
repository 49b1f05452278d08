/* test-node-meta.c: the node metadata codec, byte for byte, and every way
 * its decoder refuses input. */
#include <string.h>

#include "cb-node-meta.h"

/* An inline byte array and its length, for the tables below. */
#define B(...) (const guint8[]) { __VA_ARGS__ }, sizeof ((const guint8[]) { __VA_ARGS__ })

/* version 1, no flags, cpu 1, mem 1, since 0 */
#define MINIMAL_HEAD 0x01, 0x00, 0x01, 0x01, 0x00

static CbNodeMeta *
sample_meta (void)
{
  CbNodeMeta *meta = cb_node_meta_new ();
  const char *roles[] = { "publisher", NULL };
  const char *systems[] = { "github.com/event-games", NULL };

  meta->cpu = 8;
  meta->mem_mb = 16384;
  meta->since = 1700000000;
  meta->publisher_eligible = TRUE;
  g_strfreev (meta->roles);
  meta->roles = g_strdupv ((GStrv) roles);
  g_strfreev (meta->systems);
  meta->systems = g_strdupv ((GStrv) systems);
  return meta;
}

static void
assert_bytes (GBytes *bytes, const guint8 *expected, gsize len)
{
  gsize got_len;
  const guint8 *got = g_bytes_get_data (bytes, &got_len);

  g_assert_cmpmem (got, got_len, expected, len);
}

static void
assert_reencodes (const guint8 *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbNodeMeta) meta = cb_node_meta_decode (data, len, &error);
  g_autoptr(GBytes) again = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (meta);
  again = cb_node_meta_encode (meta, &error);
  g_assert_no_error (error);
  assert_bytes (again, data, len);
}

static void
expect_decode_error (const guint8 *data, gsize len, gint code, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbNodeMeta) meta = cb_node_meta_decode (data, len, &error);

  g_assert_null (meta);
  g_assert_error (error, CB_NODE_META_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
}

static void
expect_encode_error (const CbNodeMeta *meta, gint code, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = cb_node_meta_encode (meta, &error);

  g_assert_null (bytes);
  g_assert_error (error, CB_NODE_META_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
}

/* ---- round trips ---- */

static void
test_golden (void)
{
  static const guint8 golden[] = {
    0x01, 0x01,                          /* version 1, publisher eligible */
    0x08,                                /* cpu 8 */
    0x80, 0x80, 0x01,                    /* mem_mb 16384 */
    0x80, 0xe2, 0xcf, 0xaa, 0x06,        /* since 1700000000 */
    0x01, 0x09, 'p', 'u', 'b', 'l', 'i', 's', 'h', 'e', 'r',
    0x01, 0x16, 'g', 'i', 't', 'h', 'u', 'b', '.', 'c', 'o', 'm', '/',
    'e', 'v', 'e', 'n', 't', '-', 'g', 'a', 'm', 'e', 's',
  };
  g_autoptr(CbNodeMeta) meta = sample_meta ();
  g_autoptr(CbNodeMeta) decoded = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = cb_node_meta_encode (meta, &error);

  g_assert_no_error (error);
  assert_bytes (bytes, golden, sizeof golden);

  decoded = cb_node_meta_decode (golden, sizeof golden, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (decoded->cpu, ==, 8);
  g_assert_cmpuint (decoded->mem_mb, ==, 16384);
  g_assert_cmpint (decoded->since, ==, 1700000000);
  g_assert_true (decoded->publisher_eligible);
  g_assert_cmpstrv (decoded->roles, ((const char *[]) { "publisher", NULL }));
  g_assert_cmpstrv (decoded->systems, ((const char *[]) { "github.com/event-games", NULL }));
  g_assert_true (cb_node_meta_equal (meta, decoded));
}

static void
test_empty_lists (void)
{
  static const guint8 expected[] = { 0x01, 0x00, 0x02, 0x80, 0x08, 0x00, 0x00, 0x00 };
  g_autoptr(CbNodeMeta) meta = cb_node_meta_new ();
  g_autoptr(CbNodeMeta) decoded = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  meta->cpu = 2;
  meta->mem_mb = 1024;
  /* NULL lists encode as empty ones and decode as empty, never NULL. */
  g_clear_pointer (&meta->roles, g_strfreev);
  g_clear_pointer (&meta->systems, g_strfreev);
  bytes = cb_node_meta_encode (meta, &error);
  g_assert_no_error (error);
  assert_bytes (bytes, expected, sizeof expected);
  decoded = cb_node_meta_decode (expected, sizeof expected, &error);
  g_assert_no_error (error);
  g_assert_nonnull (decoded->roles);
  g_assert_nonnull (decoded->systems);
  g_assert_cmpuint (g_strv_length (decoded->roles), ==, 0);
  g_assert_false (decoded->publisher_eligible);
  g_assert_true (cb_node_meta_equal (meta, decoded));
}

static void
test_copy_equal (void)
{
  g_autoptr(CbNodeMeta) meta = sample_meta ();
  g_autoptr(CbNodeMeta) copy = cb_node_meta_copy (meta);

  g_assert_true (cb_node_meta_equal (meta, copy));
  g_assert_true (copy->roles != meta->roles);
  g_assert_true (copy->roles[0] != meta->roles[0]);

  copy->roles[0][0] = 'P';
  g_assert_false (cb_node_meta_equal (meta, copy));
  copy->roles[0][0] = 'p';
  copy->publisher_eligible = FALSE;
  g_assert_false (cb_node_meta_equal (meta, copy));
  copy->publisher_eligible = TRUE;
  copy->since++;
  g_assert_false (cb_node_meta_equal (meta, copy));
  copy->since--;
  copy->mem_mb++;
  g_assert_false (cb_node_meta_equal (meta, copy));
  copy->mem_mb--;
  g_assert_true (cb_node_meta_equal (meta, copy));
}

/* ---- bounds ---- */

static void
test_number_bounds (void)
{
  g_autoptr(CbNodeMeta) meta = cb_node_meta_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  /* The extremes that are allowed round-trip. */
  meta->cpu = CB_NODE_META_MAX_CPU;
  meta->mem_mb = CB_NODE_META_MAX_MEM_MB;
  meta->since = CB_NODE_META_MAX_SINCE;
  bytes = cb_node_meta_encode (meta, &error);
  g_assert_no_error (error);
  assert_reencodes (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_clear_pointer (&bytes, g_bytes_unref);

  meta->cpu = 1;
  meta->mem_mb = 1;
  meta->since = 0;
  bytes = cb_node_meta_encode (meta, &error);
  g_assert_no_error (error);
  assert_bytes (bytes, (const guint8[]) { MINIMAL_HEAD, 0, 0 }, 7);

  meta->cpu = 0;
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: a CPU count of 0 is outside 1..4096");
  meta->cpu = CB_NODE_META_MAX_CPU + 1;
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: a CPU count of 4097 is outside 1..4096");
  meta->cpu = 4;
  meta->mem_mb = 0;
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: a memory size of 0 MB is outside "
                       "1..67108864 MB");
  meta->mem_mb = CB_NODE_META_MAX_MEM_MB + 1;
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: a memory size of 67108865 MB is outside "
                       "1..67108864 MB");
  meta->mem_mb = 512;
  meta->since = -1;
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: a start time of -1 is before 1970");
  meta->since = CB_NODE_META_MAX_SINCE + 1;
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: a start time of 253402300800 is after "
                       "253402300799 (year 9999 in unix seconds)");
}

static GStrv
make_strings (guint n, gsize len, char first)
{
  GStrv strv = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    {
      strv[i] = g_malloc (len + 1);
      memset (strv[i], 'x', len);
      /* Distinct strings: vary the first two characters. */
      strv[i][0] = first;
      if (len > 1)
        strv[i][1] = (char) ('A' + i);
      strv[i][len] = '\0';
    }
  return strv;
}

static void
test_list_bounds (void)
{
  g_autoptr(CbNodeMeta) meta = cb_node_meta_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  meta->cpu = 1;
  meta->mem_mb = 1;

  /* 16 roles and 16 systems of 10 bytes: 7 + 32 * 11 = 359 bytes. */
  g_strfreev (meta->roles);
  meta->roles = make_strings (16, 10, 'r');
  g_strfreev (meta->systems);
  meta->systems = make_strings (16, 10, 's');
  bytes = cb_node_meta_encode (meta, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 359);
  assert_reencodes (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_clear_pointer (&bytes, g_bytes_unref);

  g_strfreev (meta->roles);
  meta->roles = make_strings (17, 2, 'r');
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: 17 roles given; at most 16 are allowed");
  g_strfreev (meta->roles);
  meta->roles = g_new0 (char *, 1);
  g_strfreev (meta->systems);
  meta->systems = make_strings (17, 2, 's');
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: 17 systems given; at most 16 are allowed");

  /* Exactly 512 bytes: 7 + 3 * 129 + 118; one more byte is too many. */
  g_strfreev (meta->systems);
  meta->systems = make_strings (4, CB_NODE_META_MAX_STRING, 's');
  meta->systems[3][117] = '\0';
  bytes = cb_node_meta_encode (meta, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, CB_NODE_META_MAX_BYTES);
  assert_reencodes (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_clear_pointer (&bytes, g_bytes_unref);
  meta->systems[3][117] = 'x';
  meta->systems[3][118] = '\0';
  expect_encode_error (meta, CB_NODE_META_ERROR_TOO_LARGE,
                       "node metadata would take 513 bytes, over the 512 that membership "
                       "records carry; list fewer or shorter roles or systems");
}

static void
test_string_bounds (void)
{
  g_autoptr(CbNodeMeta) meta = cb_node_meta_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  meta->cpu = 1;
  meta->mem_mb = 1;
  g_strfreev (meta->roles);

  meta->roles = make_strings (1, CB_NODE_META_MAX_STRING, 'r');
  bytes = cb_node_meta_encode (meta, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 7 + 1 + CB_NODE_META_MAX_STRING);
  g_strfreev (meta->roles);

  meta->roles = make_strings (1, CB_NODE_META_MAX_STRING + 1, 'r');
  {
    g_autofree char *expected = g_strdup_printf ("cannot encode node metadata: role 0 is 129 "
                                                 "bytes long; at most 128 are allowed (\"%s\")",
                                                 meta->roles[0]);
    expect_encode_error (meta, CB_NODE_META_ERROR_INVALID, expected);
  }
  g_strfreev (meta->roles);

  meta->roles = g_strdupv ((GStrv) (const char *[]) { "publisher", "", NULL });
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: role 1 is empty (\"\")");
  g_strfreev (meta->roles);

  meta->roles = g_strdupv ((GStrv) (const char *[]) { "pub lisher", NULL });
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: role 0 has byte 0x20 at offset 3; only "
                       "printable ASCII without spaces is allowed (\"pub lisher\")");
  g_strfreev (meta->roles);

  meta->roles = g_new0 (char *, 1);
  g_strfreev (meta->systems);
  meta->systems = g_strdupv ((GStrv) (const char *[]) { "caf\xc3\xa9", NULL });
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: system 0 has byte 0xc3 at offset 3; only "
                       "printable ASCII without spaces is allowed (\"caf\\303\\251\")");
  g_strfreev (meta->systems);

  meta->systems = g_strdupv ((GStrv) (const char *[]) { "a", "b", "a", NULL });
  expect_encode_error (meta, CB_NODE_META_ERROR_INVALID,
                       "cannot encode node metadata: system 2 repeats system 0 (\"a\")");
}

/* ---- malformed input ---- */

typedef struct {
  const guint8 *data;
  gsize         len;
  gint          code;
  const char   *message;
} BadCase;

static void
test_malformed (void)
{
  const BadCase cases[] = {
    { B (0x02, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_VERSION,
      "node metadata is in format version 2 but this build reads only version 1; "
      "the node may run a different release" },
    { B (0x00), CB_NODE_META_ERROR_VERSION,
      "node metadata is in format version 0 but this build reads only version 1; "
      "the node may run a different release" },
    { B (0x01), CB_NODE_META_ERROR_MALFORMED, "node metadata ends inside the flags" },
    { B (0x01, 0x00), CB_NODE_META_ERROR_MALFORMED, "node metadata ends inside CPU count" },
    { B (0x01, 0x00, 0x81), CB_NODE_META_ERROR_MALFORMED, "node metadata ends inside CPU count" },
    { B (0x01, 0x00, 0x01), CB_NODE_META_ERROR_MALFORMED, "node metadata ends inside memory size" },
    { B (0x01, 0x00, 0x01, 0x01), CB_NODE_META_ERROR_MALFORMED,
      "node metadata ends inside start time" },
    { B (MINIMAL_HEAD), CB_NODE_META_ERROR_MALFORMED,
      "node metadata ends inside the number of roles" },
    { B (MINIMAL_HEAD, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata ends inside the number of systems" },
    { B (0x01, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata has unknown flag bits 0x02" },
    { B (0x01, 0x81, 0x01, 0x01, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata has unknown flag bits 0x80" },
    /* Varints: non-minimal, and past 64 bits. */
    { B (0x01, 0x00, 0x81, 0x00, 0x01, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata has a CPU count in a non-minimal encoding" },
    { B (0x01, 0x00, 0x01, 0x80, 0x80, 0x00, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata has a memory size in a non-minimal encoding" },
    { B (0x01, 0x00, 0x01, 0x01, 0x80, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata has a start time in a non-minimal encoding" },
    { B (0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02),
      CB_NODE_META_ERROR_MALFORMED, "node metadata has a CPU count over 64 bits" },
    /* Numbers out of range. */
    { B (0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: a CPU count of 0 is outside 1..4096" },
    { B (0x01, 0x00, 0x81, 0x20, 0x01, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: a CPU count of 4097 is outside 1..4096" },
    { B (0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
         0x01, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: a CPU count of 18446744073709551615 is outside 1..4096" },
    { B (0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: a memory size of 0 MB is outside 1..67108864 MB" },
    { B (0x01, 0x00, 0x01, 0x81, 0x80, 0x80, 0x20, 0x00, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: a memory size of 67108865 MB is outside 1..67108864 MB" },
    { B (0x01, 0x00, 0x01, 0x01, 0x80, 0x83, 0xd1, 0xff, 0xaf, 0x07, 0x00, 0x00),
      CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: a start time of 253402300800 is after 253402300799 "
      "(year 9999 in unix seconds)" },
    /* Lists and strings. */
    { B (MINIMAL_HEAD, 0x11), CB_NODE_META_ERROR_MALFORMED,
      "node metadata lists 17 roles; at most 16 are allowed" },
    { B (MINIMAL_HEAD, 0xff), CB_NODE_META_ERROR_MALFORMED,
      "node metadata lists 255 roles; at most 16 are allowed" },
    { B (MINIMAL_HEAD, 0x02, 0x01, 'a'), CB_NODE_META_ERROR_MALFORMED,
      "node metadata ends inside role 1" },
    { B (MINIMAL_HEAD, 0x01, 0x05, 'a', 'b'), CB_NODE_META_ERROR_MALFORMED,
      "node metadata ends inside role 0" },
    { B (MINIMAL_HEAD, 0x01, 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: role 0 is empty" },
    { B (MINIMAL_HEAD, 0x01, 0x03, 'a', '\n', 'b', 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: role 0 has byte 0x0a at offset 1; only printable ASCII "
      "without spaces is allowed" },
    { B (MINIMAL_HEAD, 0x01, 0x02, 'a', 0x00, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: role 0 has byte 0x00 at offset 1; only printable ASCII "
      "without spaces is allowed" },
    { B (MINIMAL_HEAD, 0x01, 0x02, ' ', 'a', 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: role 0 has byte 0x20 at offset 0; only printable ASCII "
      "without spaces is allowed" },
    { B (MINIMAL_HEAD, 0x01, 0x01, 0x7f, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: role 0 has byte 0x7f at offset 0; only printable ASCII "
      "without spaces is allowed" },
    { B (MINIMAL_HEAD, 0x02, 0x01, 'a', 0x02, 'b', 0xff, 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: role 1 has byte 0xff at offset 1; only printable ASCII "
      "without spaces is allowed" },
    { B (MINIMAL_HEAD, 0x03, 0x01, 'a', 0x02, 'a', 'b', 0x01, 'a', 0x00),
      CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: role 2 repeats role 0 (\"a\")" },
    { B (MINIMAL_HEAD, 0x00, 0x11), CB_NODE_META_ERROR_MALFORMED,
      "node metadata lists 17 systems; at most 16 are allowed" },
    { B (MINIMAL_HEAD, 0x00, 0x01, 0x02, 'x'), CB_NODE_META_ERROR_MALFORMED,
      "node metadata ends inside system 0" },
    { B (MINIMAL_HEAD, 0x00, 0x01, 0x01, '\t'), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: system 0 has byte 0x09 at offset 0; only printable ASCII "
      "without spaces is allowed" },
    { B (MINIMAL_HEAD, 0x00, 0x02, 0x01, 'x', 0x01, 'x'), CB_NODE_META_ERROR_MALFORMED,
      "node metadata is invalid: system 1 repeats system 0 (\"x\")" },
    /* The same string as a role and as a system is fine; trailing bytes are not. */
    { B (MINIMAL_HEAD, 0x01, 0x01, 'x', 0x01, 0x01, 'x', 0x00), CB_NODE_META_ERROR_MALFORMED,
      "node metadata has 1 trailing byte(s) after the systems list" },
    { B (MINIMAL_HEAD, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00),
      CB_NODE_META_ERROR_MALFORMED,
      "node metadata has 7 trailing byte(s) after the systems list" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].message);
      expect_decode_error (cases[i].data, cases[i].len, cases[i].code, cases[i].message);
    }

  expect_decode_error (NULL, 0, CB_NODE_META_ERROR_MALFORMED, "node metadata is empty");
}

static void
test_malformed_string_length (void)
{
  /* A 129-byte role in an input that is otherwise fine and under 512. */
  guint8 buf[7 + 1 + 129];
  guint8 over[CB_NODE_META_MAX_BYTES + 1];

  memcpy (buf, (const guint8[]) { MINIMAL_HEAD, 0x01, 129 }, 7);
  memset (buf + 7, 'r', 129);
  buf[sizeof buf - 1] = 0x00;
  expect_decode_error (buf, sizeof buf, CB_NODE_META_ERROR_MALFORMED,
                       "node metadata is invalid: role 0 is 129 bytes long; "
                       "at most 128 are allowed");

  /* Size is checked before anything else. */
  memset (over, 0, sizeof over);
  over[0] = CB_NODE_META_VERSION;
  expect_decode_error (over, sizeof over, CB_NODE_META_ERROR_TOO_LARGE,
                       "node metadata is 513 bytes; at most 512 are allowed");
}

/* Every prefix of a valid encoding is refused, and every single-byte
 * change is either refused or re-encodes to exactly the changed bytes. */
static void
test_truncations_and_mutations (void)
{
  g_autoptr(CbNodeMeta) meta = sample_meta ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = cb_node_meta_encode (meta, &error);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autofree guint8 *copy = g_memdup2 (data, len);
  guint accepted = 0;

  g_assert_no_error (error);
  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr(CbNodeMeta) got = cb_node_meta_decode (data, cut, &error);

      g_assert_null (got);
      g_assert_error (error, CB_NODE_META_ERROR, CB_NODE_META_ERROR_MALFORMED);
      g_assert_true (cut == 0 ? g_str_equal (error->message, "node metadata is empty")
                              : g_str_has_prefix (error->message, "node metadata ends inside "));
      g_clear_error (&error);
    }

  for (gsize pos = 0; pos < len; pos++)
    for (guint v = 0; v < 256; v++)
      {
        g_autoptr(CbNodeMeta) got = NULL;

        if (v == data[pos])
          continue;
        copy[pos] = (guint8) v;
        got = cb_node_meta_decode (copy, len, &error);
        if (got != NULL)
          {
            g_autoptr(GBytes) again = cb_node_meta_encode (got, &error);

            g_assert_no_error (error);
            assert_bytes (again, copy, len);
            accepted++;
          }
        else
          {
            g_assert_nonnull (error);
            g_clear_error (&error);
          }
        copy[pos] = data[pos];
      }
  /* Changing letters of the strings keeps the input valid. */
  g_assert_cmpuint (accepted, >, 1000);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/node-meta/golden", test_golden);
  g_test_add_func ("/node/node-meta/empty-lists", test_empty_lists);
  g_test_add_func ("/node/node-meta/copy-equal", test_copy_equal);
  g_test_add_func ("/node/node-meta/number-bounds", test_number_bounds);
  g_test_add_func ("/node/node-meta/list-bounds", test_list_bounds);
  g_test_add_func ("/node/node-meta/string-bounds", test_string_bounds);
  g_test_add_func ("/node/node-meta/malformed", test_malformed);
  g_test_add_func ("/node/node-meta/malformed-string-length", test_malformed_string_length);
  g_test_add_func ("/node/node-meta/truncations-and-mutations", test_truncations_and_mutations);
  return g_test_run ();
}
