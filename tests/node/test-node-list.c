/* test-node-list.c: the signed list document: model, decoder, signer, merge */
#include "cb-node-list.h"

#include <sodium.h>
#include <string.h>

/* 2026-11-22T10:00:00Z */
#define NOW G_GINT64_CONSTANT (1795341600)
#define DAY (24 * 60 * 60)

typedef struct {
  guint8 pk[32];
  guint8 sk[64];
  char   hex[65];
} Key;

static Key key_a, key_b, key_c;
static guint8 trusted[2][32]; /* a and c */

static void
make_key (Key   *key,
          guint8 seed_byte)
{
  guint8 seed[32];

  memset (seed, seed_byte, sizeof seed);
  crypto_sign_seed_keypair (key->pk, key->sk, seed);
  sodium_bin2hex (key->hex, sizeof key->hex, key->pk, 32);
}

static char *
node_id (guint n)
{
  guint8 bytes[32] = { 0 };
  char *hex = g_malloc (65);

  bytes[0] = (guint8) (n >> 8);
  bytes[1] = (guint8) n;
  bytes[31] = 0xab;
  sodium_bin2hex (hex, 65, bytes, 32);
  return hex;
}

static CbListNode *
sample_node (guint  n,
             gint64 last_seen)
{
  g_autofree char *id = node_id (n);
  g_autofree char *addr = g_strdup_printf ("ws://127.0.0.1:%u", 7000 + n);
  const char *addrs[] = { addr, "wss://node.example.org:443/cloud", NULL };
  const char *roles[] = { "publisher", "host:github.com/event-games", NULL };

  return cb_list_node_new (id, addrs, roles, 8, 16384, last_seen - DAY, last_seen);
}

static CbNodeList *
sample_list (const char *cloud,
             guint64     version)
{
  CbNodeList *list = cb_node_list_new (cloud);
  g_autoptr(CbListNode) n1 = sample_node (1, NOW - 60);
  g_autoptr(CbListNode) n2 = sample_node (2, NOW - 120);

  list->version = version;
  cb_node_list_upsert (list, n2);
  cb_node_list_upsert (list, n1);
  return list;
}

static CbNodeList *
verify (GBytes  *envelope,
        guint64  min_version,
        gint64   now,
        GError **error)
{
  return cb_node_list_verify_and_parse (g_bytes_get_data (envelope, NULL),
                                        g_bytes_get_size (envelope), "demo",
                                        (const guint8 (*)[32]) trusted, G_N_ELEMENTS (trusted),
                                        min_version, now, error);
}

static CbNodeList *
verify_text (const char *text,
             GError    **error)
{
  return cb_node_list_verify_and_parse ((const guint8 *) text, strlen (text), "demo",
                                        (const guint8 (*)[32]) trusted, G_N_ELEMENTS (trusted),
                                        0, NOW, error);
}

/* A list document with the given pieces, signed by key a. */
static GBytes *
signed_doc (const char *cloud_json,
            const char *version_json,
            const char *nodes_json)
{
  g_autofree char *text = g_strdup_printf (
    "{\"cloud\":%s,\"version\":%s,\"issued\":\"2026-11-22T09:00:00Z\","
    "\"expires\":\"2026-11-23T09:00:00Z\",\"publisher\":\"%s\",\"nodes\":%s}",
    cloud_json, version_json, key_a.hex, nodes_json);

  return cb_node_list_envelope_sign_text (text, key_a.sk);
}

/* One node object with @field replaced by @value (or added when absent). */
static char *
node_json (const char *field,
           const char *value)
{
  static const char *names[] = { "id", "addrs", "roles", "cpu", "mem_mb", "since", "last_seen" };
  g_autofree char *id = node_id (7);
  g_autofree char *id_json = g_strdup_printf ("\"%s\"", id);
  const char *values[] = { id_json, "[\"ws://10.0.0.1:7788\"]", "[\"publisher\"]", "4", "2048",
                           "\"2026-11-20T08:12:00Z\"", "\"2026-11-22T09:59:00Z\"" };
  GString *s = g_string_new ("{");
  gboolean replaced = FALSE;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *v = values[i];

      if (field != NULL && strcmp (field, names[i]) == 0)
        {
          replaced = TRUE;
          if (value == NULL)
            continue; /* drop the member */
          v = value;
        }
      g_string_append_printf (s, "%s\"%s\":%s", s->len > 1 ? "," : "", names[i], v);
    }
  if (field != NULL && !replaced)
    g_string_append_printf (s, ",\"%s\":%s", field, value);
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_roundtrip (void)
{
  g_autoptr(CbNodeList) list = sample_list ("demo", 1289);
  g_autoptr(CbNodeList) parsed = NULL;
  g_autoptr(GBytes) envelope = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  const CbListNode *n1;

  envelope = cb_node_list_sign (list, key_c.sk, NOW, DAY, &error);
  g_assert_no_error (error);
  g_assert_cmpint (list->issued, ==, NOW);
  g_assert_cmpint (list->expires, ==, NOW + DAY);
  g_assert_cmpmem (list->publisher, 32, key_c.pk, 32);

  parsed = verify (envelope, 0, NOW, &error);
  g_assert_no_error (error);
  g_assert_nonnull (parsed);
  g_assert_true (cb_node_list_equal (list, parsed));
  g_assert_cmpstr (parsed->cloud, ==, "demo");
  g_assert_cmpuint (parsed->version, ==, 1289);
  g_assert_cmpuint (parsed->nodes->len, ==, 2);
  {
    g_autofree char *id1 = node_id (1);

    n1 = cb_node_list_lookup (parsed, id1);
    g_assert_nonnull (n1);
    g_assert_cmpstr (n1->addrs[0], ==, "ws://127.0.0.1:7001");
    g_assert_cmpstr (n1->roles[1], ==, "host:github.com/event-games");
    g_assert_cmpuint (n1->cpu, ==, 8);
    g_assert_cmpuint (n1->mem_mb, ==, 16384);
    g_assert_cmpint (n1->last_seen, ==, NOW - 60);
  }

  json = cb_node_list_to_json (parsed);
  g_assert_true (g_str_has_prefix (json, "{\"cloud\":\"demo\",\"version\":1289,"
                                         "\"issued\":\"2026-11-22T10:00:00Z\","
                                         "\"expires\":\"2026-11-23T10:00:00Z\""));
  g_assert_true (g_str_has_prefix ((const char *) g_bytes_get_data (envelope, NULL),
                                   "{\"format\":\"cloud-bevy-list-1\",\"list\":\""));
}

static void
test_time (void)
{
  static const char *bad[] = {
    "2026-11-22T10:00:00+00:00", "2026-11-22 10:00:00Z", "2026-02-30T00:00:00Z",
    "2026-11-22T24:00:00Z", "2026-11-22T10:00:00.5Z", "2026-11-22t10:00:00z",
    "2026-11-22T10:00:60Z", "0000-01-01T00:00:00Z", "+026-11-22T10:00:00Z", "", "2026",
  };
  g_autofree char *text = cb_node_list_format_time (NOW);
  gint64 t = 0;
  guint i;

  g_assert_cmpstr (text, ==, "2026-11-22T10:00:00Z");
  g_assert_true (cb_node_list_parse_time ("2026-11-22T10:00:00Z", &t));
  g_assert_cmpint (t, ==, NOW);
  g_assert_true (cb_node_list_parse_time ("2024-02-29T23:59:59Z", &t));
  /* The edges of the form: years are always four digits. */
  g_assert_true (cb_node_list_parse_time ("0001-01-01T00:00:00Z", &t));
  {
    g_autofree char *first = cb_node_list_format_time (t);
    g_autofree char *past_last = NULL;

    g_assert_cmpstr (first, ==, "0001-01-01T00:00:00Z");
    g_assert_true (cb_node_list_parse_time ("9999-12-31T23:59:59Z", &t));
    past_last = cb_node_list_format_time (t + 1);
    g_assert_null (past_last);
  }
  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (cb_node_list_parse_time (bad[i], &t));
}

static void
test_unknown_key (void)
{
  g_autoptr(CbNodeList) list = sample_list ("demo", 3);
  g_autoptr(GBytes) envelope = cb_node_list_sign (list, key_b.sk, NOW, DAY, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbNodeList) parsed = verify (envelope, 0, NOW, &error);
  g_autofree char *expected = g_strdup_printf (
    "list is signed by publisher key %s, which cloud \"demo\" does not trust", key_b.hex);

  g_assert_null (parsed);
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_UNKNOWN_KEY);
  g_assert_cmpstr (error->message, ==, expected);

  /* No trusted keys at all. */
  g_clear_error (&error);
  g_assert_null (cb_node_list_verify_and_parse (g_bytes_get_data (envelope, NULL),
                                                g_bytes_get_size (envelope), "demo",
                                                NULL, 0, 0, NOW, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_UNKNOWN_KEY);
  g_assert_nonnull (strstr (error->message, "no trusted publisher keys"));
}

static void
test_bad_signature (void)
{
  g_autoptr(CbNodeList) list = sample_list ("demo", 3);
  g_autoptr(GBytes) envelope = cb_node_list_sign (list, key_a.sk, NOW, DAY, NULL);
  g_autofree char *text = g_strndup (g_bytes_get_data (envelope, NULL),
                                     g_bytes_get_size (envelope));
  g_autoptr(GError) error = NULL;
  char *p;

  /* Altered content: one more CPU for node 1. */
  p = strstr (text, "\\\"cpu\\\":8");
  g_assert_nonnull (p);
  p[strlen ("\\\"cpu\\\":")] = '9';
  g_assert_null (verify_text (text, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_BAD_SIGNATURE);
  g_assert_nonnull (strstr (error->message, key_a.hex));
  g_assert_nonnull (strstr (error->message, "altered or corrupted"));
  p[strlen ("\\\"cpu\\\":")] = '8';
  g_clear_error (&error);
  {
    g_autoptr(CbNodeList) ok = verify_text (text, &error);
    g_assert_no_error (error);
    g_assert_nonnull (ok);
  }

  /* Tampered signature. */
  p = strstr (text, "\"signature\":\"") + strlen ("\"signature\":\"");
  *p = (*p == '0') ? '1' : '0';
  g_assert_null (verify_text (text, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);

  /* Signed by trusted c but names trusted a as its publisher. */
  {
    g_autofree char *doc = g_strdup_printf (
      "{\"cloud\":\"demo\",\"version\":1,\"issued\":\"2026-11-22T09:00:00Z\","
      "\"expires\":\"2026-11-23T09:00:00Z\",\"publisher\":\"%s\",\"nodes\":[]}", key_a.hex);
    g_autoptr(GBytes) env = cb_node_list_envelope_sign_text (doc, key_c.sk);

    g_assert_null (verify (env, 0, NOW, &error));
    g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_BAD_SIGNATURE);
    g_assert_nonnull (strstr (error->message, "but is signed by"));
    g_clear_error (&error);
  }

  /* Garbage signed by an unknown key that names no publisher. */
  {
    g_autoptr(GBytes) env = cb_node_list_envelope_sign_text ("{\"x\":1}", key_b.sk);

    g_assert_null (verify (env, 0, NOW, &error));
    g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_BAD_SIGNATURE);
    g_assert_nonnull (strstr (error->message, "matches none of the 2 trusted"));
  }
}

static void
test_wrong_cloud (void)
{
  g_autoptr(CbNodeList) list = sample_list ("other", 3);
  g_autoptr(GBytes) envelope = cb_node_list_sign (list, key_a.sk, NOW, DAY, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null (verify (envelope, 0, NOW, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_WRONG_CLOUD);
  g_assert_cmpstr (error->message, ==, "list is for cloud \"other\", not \"demo\"");
}

static void
test_expired (void)
{
  g_autoptr(CbNodeList) list = sample_list ("demo", 3);
  gint64 issued, expires;
  g_autoptr(GBytes) envelope = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CbNodeList) ok = NULL;
  g_autoptr(CbNodeList) kept = NULL;

  g_assert_true (cb_node_list_parse_time ("2026-10-31T00:00:00Z", &issued));
  g_assert_true (cb_node_list_parse_time ("2026-11-01T00:00:00Z", &expires));
  envelope = cb_node_list_sign (list, key_a.sk, issued, expires - issued, &error);
  g_assert_no_error (error);

  ok = verify (envelope, 0, expires - 1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);

  g_assert_null (verify (envelope, 0, expires, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_EXPIRED);
  g_assert_cmpstr (error->message, ==,
                   "list for cloud \"demo\" expired at 2026-11-01T00:00:00Z; "
                   "keeping the list already in use");
  g_clear_error (&error);

  kept = cb_node_list_verify_and_parse_full (g_bytes_get_data (envelope, NULL),
                                             g_bytes_get_size (envelope), "demo",
                                             (const guint8 (*)[32]) trusted, 2, 0, NOW,
                                             CB_NODE_LIST_VERIFY_ALLOW_EXPIRED, &error);
  g_assert_no_error (error);
  g_assert_nonnull (kept);
}

static void
test_rollback (void)
{
  g_autoptr(CbNodeList) list = sample_list ("demo", 12);
  g_autoptr(GBytes) envelope = cb_node_list_sign (list, key_a.sk, NOW, DAY, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbNodeList) same = NULL;
  g_autoptr(CbNodeList) again = NULL;

  g_assert_null (verify (envelope, 15, NOW, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_ROLLBACK);
  g_assert_cmpstr (error->message, ==,
                   "list version 12 is older than version 15 already seen; "
                   "keeping the newer list");
  g_clear_error (&error);

  /* The same version again is no rollback: "no change" when equal. */
  same = verify (envelope, 12, NOW, &error);
  g_assert_no_error (error);
  again = verify (envelope, 12, NOW, &error);
  g_assert_no_error (error);
  g_assert_true (cb_node_list_equal (same, again));
  g_assert_true (cb_node_list_equal (same, list));
}

static void
test_malformed_envelope (void)
{
  g_autoptr(CbNodeList) list = sample_list ("demo", 3);
  g_autoptr(GBytes) good = cb_node_list_sign (list, key_a.sk, NOW, DAY, NULL);
  g_autofree char *good_text = g_strndup (g_bytes_get_data (good, NULL), g_bytes_get_size (good));
  g_autofree char *list_member = NULL;
  g_autofree char *sig = NULL;
  g_autofree char *deep = NULL;
  struct { const char *text; const char *says; } cases[] = {
    { "", "empty" },
    { "null", "not a JSON object" },
    { "[]", "not a JSON object" },
    { "{}", "has no \"format\"" },
    { "{\"format\":\"cloud-bevy-list-2\",\"list\":\"{}\",\"signature\":\"00\"}",
      "format \"cloud-bevy-list-2\"" },
    { "{\"format\":1}", "\"format\" must be a string" },
    { "{\"format\":\"cloud-bevy-list-1\",\"list\":{},\"signature\":\"00\"}",
      "\"list\" must be a string" },
    { "{\"format\":\"cloud-bevy-list-1\",\"list\":\"{}\"}", "has no \"signature\"" },
    { "{\"format\":\"cloud-bevy-list-1\",\"list\":\"{}\",\"signature\":\"abcd\"}",
      "128 lowercase hex" },
    { "{\"format\":\"cloud-bevy-list-1\",\"format\":\"cloud-bevy-list-1\"}", "more than once" },
    { "{\"format\":\"cloud-bevy-list-1\"", "not valid JSON" },
    { "{\"format\":\"cloud-bevy-list-1\"} trailing", "not valid JSON" },
    { "{\"format\":\"cloud\\u0000-bevy\"}", "NUL character" },
    { "{\"n\":12345678901234567890}", "more than 18 digits" },
    { "{\"a\":\"\xff\xfe\"}", "not UTF-8" },
  };
  g_autoptr(GError) error = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_null (verify_text (cases[i].text, &error));
      g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("case %u: \"%s\" does not say \"%s\"", i, error->message, cases[i].says);
      g_clear_error (&error);
    }

  /* Uppercase signature hex is not the canonical form. */
  sig = g_ascii_strup (strstr (good_text, "\"signature\":\""), -1);
  list_member = g_strndup (good_text, (gsize) (strstr (good_text, "\"signature\":\"") - good_text));
  {
    g_autofree char *upper = g_strconcat (list_member, "\"signature\":\"",
                                          sig + strlen ("\"SIGNATURE\":\""), NULL);
    g_assert_null (verify_text (upper, &error));
    g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
    g_clear_error (&error);
  }

  /* Deep nesting stops before the recursive parser sees it. */
  deep = g_strnfill (100000, '[');
  g_assert_null (verify_text (deep, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "nested"));
  g_clear_error (&error);

  /* Embedded NUL byte. */
  g_assert_null (cb_node_list_verify_and_parse ((const guint8 *) "{\"a\":1}\0", 8, "demo",
                                                (const guint8 (*)[32]) trusted, 2, 0, NOW,
                                                &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
}

static void
test_too_large (void)
{
  gsize len = CB_NODE_LIST_MAX_ENVELOPE + 1;
  g_autofree char *big = g_malloc (len);
  g_autoptr(GError) error = NULL;

  memset (big, ' ', len);
  big[0] = '{';
  big[len - 1] = '}';
  g_assert_null (cb_node_list_verify_and_parse ((const guint8 *) big, len, "demo",
                                                (const guint8 (*)[32]) trusted, 2, 0, NOW,
                                                &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE);
  g_assert_cmpstr (error->message, ==,
                   "list file is 1048577 bytes; at most 1048576 are allowed");
}

static void
test_malformed_list (void)
{
  g_autofree char *long_text = g_strnfill (257, 'x');
  g_autofree char *long_json = g_strdup_printf ("\"%s\"", long_text);
  g_autofree char *ok_256 = g_strnfill (256, 'r');
  g_autofree char *ok_256_json = g_strdup_printf ("[\"%s\"]", ok_256);
  g_autofree char *long_role = g_strdup_printf ("[%s]", long_json);
  g_autofree char *id = node_id (7);
  g_autofree char *id_upper = g_ascii_strup (id, -1);
  g_autofree char *id_upper_json = g_strdup_printf ("\"%s\"", id_upper);
  g_autoptr(GString) many_addrs = g_string_new ("[");
  g_autoptr(GString) many_roles = g_string_new ("[");
  guint i;

  for (i = 0; i < 9; i++)
    g_string_append_printf (many_addrs, "%s\"ws://10.0.0.%u:1\"", i ? "," : "", i);
  g_string_append_c (many_addrs, ']');
  for (i = 0; i < 33; i++)
    g_string_append_printf (many_roles, "%s\"r%u\"", i ? "," : "", i);
  g_string_append_c (many_roles, ']');

  struct {
    const char *cloud, *version;
    const char *field, *value;  /* node member to change */
    gboolean    bare;           /* nodes is @value itself */
    int         code;
    const char *says;
  } cases[] = {
    { "\"demo\"", "0", NULL, NULL, FALSE, CB_NODE_LIST_ERROR_MALFORMED, "\"version\" is 0" },
    { "\"demo\"", "\"1\"", NULL, NULL, FALSE, CB_NODE_LIST_ERROR_MALFORMED, "must be an integer" },
    { "\"demo\"", "1.5", NULL, NULL, FALSE, CB_NODE_LIST_ERROR_MALFORMED, "must be an integer" },
    { "\"demo\"", "-4", NULL, NULL, FALSE, CB_NODE_LIST_ERROR_MALFORMED, "outside" },
    { "\"\"", "1", NULL, NULL, FALSE, CB_NODE_LIST_ERROR_MALFORMED, "\"cloud\" is empty" },
    { long_json, "1", NULL, NULL, FALSE, CB_NODE_LIST_ERROR_TOO_LARGE, "257 bytes" },
    { "7", "1", NULL, NULL, FALSE, CB_NODE_LIST_ERROR_MALFORMED, "\"cloud\" must be a string" },
    { "\"demo\"", "1", NULL, "{}", TRUE, CB_NODE_LIST_ERROR_MALFORMED, "\"nodes\" must be an array" },
    { "\"demo\"", "1", NULL, "[3]", TRUE, CB_NODE_LIST_ERROR_MALFORMED, "node 0 is not an object" },
    { "\"demo\"", "1", "id", "\"abc\"", FALSE, CB_NODE_LIST_ERROR_MALFORMED, "64 lowercase hex" },
    { "\"demo\"", "1", "id", id_upper_json, FALSE, CB_NODE_LIST_ERROR_MALFORMED, "64 lowercase hex" },
    { "\"demo\"", "1", "id", NULL, FALSE, CB_NODE_LIST_ERROR_MALFORMED, "has no \"id\"" },
    { "\"demo\"", "1", "addrs", "[\"http://10.0.0.1:80\"]", FALSE,
      CB_NODE_LIST_ERROR_MALFORMED, "not a ws:// or wss:// URL" },
    { "\"demo\"", "1", "addrs", "[\"ws://10.0.0.1\"]", FALSE,
      CB_NODE_LIST_ERROR_MALFORMED, "with a host and a port" },
    { "\"demo\"", "1", "addrs", "[\"ws://:7788\"]", FALSE,
      CB_NODE_LIST_ERROR_MALFORMED, "with a host and a port" },
    { "\"demo\"", "1", "addrs", "[\"ws://user@10.0.0.1:7788\"]", FALSE,
      CB_NODE_LIST_ERROR_MALFORMED, "with a host and a port" },
    { "\"demo\"", "1", "addrs", "[\"ws://10.0.0.1:99999\"]", FALSE,
      CB_NODE_LIST_ERROR_MALFORMED, "with a host and a port" },
    { "\"demo\"", "1", "addrs", "\"ws://10.0.0.1:1\"", FALSE,
      CB_NODE_LIST_ERROR_MALFORMED, "must be an array of strings" },
    { "\"demo\"", "1", "addrs", "[1]", FALSE, CB_NODE_LIST_ERROR_MALFORMED, "must be a string" },
    { "\"demo\"", "1", "addrs", many_addrs->str, FALSE, CB_NODE_LIST_ERROR_TOO_LARGE,
      "has 9 addrs; at most 8" },
    { "\"demo\"", "1", "roles", many_roles->str, FALSE, CB_NODE_LIST_ERROR_TOO_LARGE,
      "has 33 roles; at most 32" },
    { "\"demo\"", "1", "roles", long_role, FALSE, CB_NODE_LIST_ERROR_TOO_LARGE, "257 bytes" },
    { "\"demo\"", "1", "roles", "[\"\"]", FALSE, CB_NODE_LIST_ERROR_MALFORMED, "is empty" },
    { "\"demo\"", "1", "roles", "[\"a\\tb\"]", FALSE, CB_NODE_LIST_ERROR_MALFORMED,
      "control character" },
    { "\"demo\"", "1", "cpu", "-1", FALSE, CB_NODE_LIST_ERROR_MALFORMED, "outside" },
    { "\"demo\"", "1", "mem_mb", "4294967296", FALSE, CB_NODE_LIST_ERROR_MALFORMED, "outside" },
    { "\"demo\"", "1", "cpu", "true", FALSE, CB_NODE_LIST_ERROR_MALFORMED, "must be an integer" },
    { "\"demo\"", "1", "since", "\"2026-11-20T08:12:00+01:00\"", FALSE,
      CB_NODE_LIST_ERROR_MALFORMED, "UTC time" },
    { "\"demo\"", "1", "last_seen", NULL, FALSE, CB_NODE_LIST_ERROR_MALFORMED,
      "has no \"last_seen\"" },
    { "\"demo\"", "1", "since", "\"2026-11-22T10:00:00Z\"", FALSE,
      CB_NODE_LIST_ERROR_MALFORMED, "last seen before it joined" },
  };
  g_autoptr(GError) error = NULL;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *node = NULL;
      g_autofree char *nodes = NULL;
      g_autoptr(GBytes) env = NULL;

      if (cases[i].bare)
        nodes = g_strdup (cases[i].value);
      else
        {
          node = node_json (cases[i].field, cases[i].value);
          nodes = g_strdup_printf ("[%s]", node);
        }
      env = signed_doc (cases[i].cloud, cases[i].version, nodes);
      g_assert_null (verify (env, 0, NOW, &error));
      if (error == NULL || error->domain != CB_NODE_LIST_ERROR ||
          error->code != cases[i].code || strstr (error->message, cases[i].says) == NULL)
        g_error ("case %u: got \"%s\" (code %d), wanted code %d saying \"%s\"", i,
                 error ? error->message : "no error", error ? error->code : -1,
                 cases[i].code, cases[i].says);
      g_clear_error (&error);
    }

  /* Limits themselves are fine: 8 addresses, 256-byte strings. */
  {
    g_autofree char *node = node_json ("roles", ok_256_json);
    g_autofree char *nodes = g_strdup_printf ("[%s]", node);
    g_autoptr(GBytes) env = signed_doc ("\"demo\"", "1", nodes);
    g_autoptr(CbNodeList) ok = verify (env, 0, NOW, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (strlen (((CbListNode *) ok->nodes->pdata[0])->roles[0]), ==, 256);
  }

  /* Duplicate ids. */
  {
    g_autofree char *node = node_json (NULL, NULL);
    g_autofree char *nodes = g_strdup_printf ("[%s,%s]", node, node);
    g_autoptr(GBytes) env = signed_doc ("\"demo\"", "1", nodes);

    g_assert_null (verify (env, 0, NOW, &error));
    g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
    g_assert_nonnull (strstr (error->message, "more than once"));
    g_clear_error (&error);
  }

  /* issued must come before expires. */
  {
    g_autofree char *doc = g_strdup_printf (
      "{\"cloud\":\"demo\",\"version\":1,\"issued\":\"2026-11-23T09:00:00Z\","
      "\"expires\":\"2026-11-23T09:00:00Z\",\"publisher\":\"%s\",\"nodes\":[]}", key_a.hex);
    g_autoptr(GBytes) env = cb_node_list_envelope_sign_text (doc, key_a.sk);

    g_assert_null (verify (env, 0, NOW, &error));
    g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
    g_assert_cmpstr (error->message, ==, "list is issued at 2026-11-23T09:00:00Z, which is "
                                         "not before it expires at 2026-11-23T09:00:00Z");
    g_clear_error (&error);
  }

  /* Members a later writer may add are ignored. */
  {
    g_autofree char *node = node_json ("region", "\"eu\"");
    g_autofree char *nodes = g_strdup_printf ("[%s]", node);
    g_autoptr(GBytes) env = signed_doc ("\"demo\"", "1", nodes);
    g_autoptr(CbNodeList) ok = verify (env, 0, NOW, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ok->nodes->len, ==, 1);
  }
}

static void
test_sign_refuses (void)
{
  g_autoptr(CbNodeList) list = sample_list ("demo", 0);
  g_autoptr(GError) error = NULL;
  guint i;

  g_assert_null (cb_node_list_sign (list, key_a.sk, NOW, DAY, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
  g_clear_error (&error);

  list->version = 1;
  g_assert_null (cb_node_list_sign (list, key_a.sk, NOW, 0, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
  g_clear_error (&error);

  /* A node a reader would reject. */
  {
    const char *addrs[] = { "tcp://10.0.0.1:1", NULL };
    g_autofree char *id = node_id (9);
    g_autoptr(CbListNode) bad = cb_list_node_new (id, addrs, NULL, 1, 1, NOW, NOW);

    cb_node_list_upsert (list, bad);
    g_assert_null (cb_node_list_sign (list, key_a.sk, NOW, DAY, &error));
    g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED);
    g_assert_true (g_str_has_prefix (error->message, "cannot sign the list: "));
    g_clear_error (&error);
    g_assert_true (cb_node_list_remove (list, id));
  }

  /* Over the node count. */
  g_assert_cmpuint (list->nodes->len, ==, 2);
  for (i = 0; i < CB_NODE_LIST_MAX_NODES - 1; i++)
    {
      g_autofree char *id = node_id (i + 100);
      g_autoptr(CbListNode) n = cb_list_node_new (id, NULL, NULL, 1, 1, NOW, NOW);
      g_ptr_array_add (list->nodes, g_steal_pointer (&n));
    }
  g_assert_null (cb_node_list_sign (list, key_a.sk, NOW, DAY, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE);
  g_assert_cmpstr (error->message, ==, "list has 10001 nodes; at most 10000 are allowed");
  g_clear_error (&error);

  /* Under the count but over the byte size. */
  g_ptr_array_set_size (list->nodes, 9000);
  g_assert_null (cb_node_list_sign (list, key_a.sk, NOW, DAY, &error));
  g_assert_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "drop nodes not seen recently"));
  g_clear_error (&error);

  cb_node_list_keep_freshest (list, 3000);
  {
    g_autoptr(GBytes) env = cb_node_list_sign (list, key_a.sk, NOW, DAY, &error);
    g_autoptr(CbNodeList) back = NULL;

    g_assert_no_error (error);
    back = verify (env, 0, NOW, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (back->nodes->len, ==, 3000);
  }
}

static void
test_merge (void)
{
  g_autoptr(CbNodeList) a = cb_node_list_new ("demo");
  g_autoptr(CbNodeList) b = cb_node_list_new ("demo");
  g_autoptr(CbNodeList) m = NULL;
  g_autoptr(CbListNode) x = sample_node (1, NOW - 100);
  g_autoptr(CbListNode) y_old = sample_node (2, NOW - 200);
  g_autoptr(CbListNode) y_new = sample_node (2, NOW - 50);
  g_autoptr(CbListNode) z = sample_node (3, NOW - 5000);
  g_autoptr(CbListNode) w_a = sample_node (4, NOW - 10);
  g_autoptr(CbListNode) w_b = sample_node (4, NOW - 10);

  a->version = 7;
  b->version = 41;
  w_b->cpu = 99;
  y_new->mem_mb = 1;
  cb_node_list_upsert (a, x);
  cb_node_list_upsert (a, y_old);
  cb_node_list_upsert (a, w_a);
  cb_node_list_upsert (b, y_new);
  cb_node_list_upsert (b, z);
  cb_node_list_upsert (b, w_b);

  m = cb_node_list_merge (a, b, NOW - 1000);
  g_assert_cmpuint (m->version, ==, 42);
  g_assert_cmpstr (m->cloud, ==, "demo");
  g_assert_cmpuint (m->nodes->len, ==, 3); /* z is too old */
  g_assert_true (cb_list_node_equal (cb_node_list_lookup (m, x->id_hex), x));
  g_assert_true (cb_list_node_equal (cb_node_list_lookup (m, y_new->id_hex), y_new));
  g_assert_null (cb_node_list_lookup (m, z->id_hex));
  /* A tie keeps a's entry, whichever order. */
  g_assert_cmpuint (cb_node_list_lookup (m, w_a->id_hex)->cpu, ==, 8);
  {
    g_autoptr(CbNodeList) m2 = cb_node_list_merge (b, a, NOW - 1000);
    g_assert_cmpuint (cb_node_list_lookup (m2, w_a->id_hex)->cpu, ==, 99);
    g_assert_true (cb_list_node_equal (cb_node_list_lookup (m2, y_new->id_hex), y_new));
  }

  /* Signing a merge sets issued = now and expires = now + ttl. */
  {
    g_autoptr(GBytes) env = cb_node_list_sign (m, key_a.sk, NOW + 5, 3600, NULL);
    g_autoptr(CbNodeList) back = verify (env, 41, NOW + 6, NULL);

    g_assert_nonnull (back);
    g_assert_cmpint (back->issued, ==, NOW + 5);
    g_assert_cmpint (back->expires, ==, NOW + 5 + 3600);
    g_assert_true (cb_node_list_equal (back, m));
  }
}

static void
test_upsert (void)
{
  g_autoptr(CbNodeList) list = cb_node_list_new ("demo");
  g_autoptr(CbListNode) n3 = sample_node (3, NOW);
  g_autoptr(CbListNode) n1 = sample_node (1, NOW);
  g_autoptr(CbListNode) n2 = sample_node (2, NOW);
  g_autoptr(CbListNode) n2b = sample_node (2, NOW + 1);
  g_autoptr(CbNodeList) copy = NULL;

  cb_node_list_upsert (list, n3);
  cb_node_list_upsert (list, n1);
  cb_node_list_upsert (list, n2);
  cb_node_list_upsert (list, n2b);
  g_assert_cmpuint (list->nodes->len, ==, 3);
  g_assert_cmpstr (((CbListNode *) list->nodes->pdata[0])->id_hex, ==, n1->id_hex);
  g_assert_cmpstr (((CbListNode *) list->nodes->pdata[2])->id_hex, ==, n3->id_hex);
  g_assert_cmpint (cb_node_list_lookup (list, n2->id_hex)->last_seen, ==, NOW + 1);

  copy = cb_node_list_copy (list);
  g_assert_true (cb_node_list_equal (copy, list));
  g_assert_true (cb_node_list_remove (copy, n1->id_hex));
  g_assert_false (cb_node_list_remove (copy, n1->id_hex));
  g_assert_false (cb_node_list_equal (copy, list));

  n1->last_seen = NOW - 10;
  cb_node_list_upsert (list, n1);
  cb_node_list_keep_freshest (list, 2);
  g_assert_null (cb_node_list_lookup (list, n1->id_hex));
  g_assert_nonnull (cb_node_list_lookup (list, n2->id_hex));
  g_assert_nonnull (cb_node_list_lookup (list, n3->id_hex));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  make_key (&key_a, 0xa1);
  make_key (&key_b, 0xb2);
  make_key (&key_c, 0xc3);
  memcpy (trusted[0], key_a.pk, 32);
  memcpy (trusted[1], key_c.pk, 32);

  g_test_add_func ("/node/node-list/roundtrip", test_roundtrip);
  g_test_add_func ("/node/node-list/time", test_time);
  g_test_add_func ("/node/node-list/unknown-key", test_unknown_key);
  g_test_add_func ("/node/node-list/bad-signature", test_bad_signature);
  g_test_add_func ("/node/node-list/wrong-cloud", test_wrong_cloud);
  g_test_add_func ("/node/node-list/expired", test_expired);
  g_test_add_func ("/node/node-list/rollback", test_rollback);
  g_test_add_func ("/node/node-list/malformed-envelope", test_malformed_envelope);
  g_test_add_func ("/node/node-list/too-large", test_too_large);
  g_test_add_func ("/node/node-list/malformed-list", test_malformed_list);
  g_test_add_func ("/node/node-list/sign-refuses", test_sign_refuses);
  g_test_add_func ("/node/node-list/merge", test_merge);
  g_test_add_func ("/node/node-list/upsert", test_upsert);
  return g_test_run ();
}
