/* test-dbset.c: the db-set directory codec and the CbDbSets core */
#include <sodium.h>
#include <string.h>

#include "cb-dbset.h"

#define SYSTEM "test/kv"

static void
random_id (guint8 id[32])
{
  randombytes_buf (id, 32);
}

static CbDbSetsConfig
config (guint set_size)
{
  CbDbSetsConfig cfg;

  cb_dbsets_config_init (&cfg);
  cfg.set_size = set_size;
  return cfg;
}

/* ---- codec ---- */

static GBytes *
encode_answer (guint n)
{
  g_autofree CbDbSetHost *hosts = g_new0 (CbDbSetHost, n);
  g_autoptr(GError) error = NULL;
  CbDbSetMessage m = { 0 };
  GBytes *bytes;

  for (guint i = 0; i < n; i++)
    {
      random_id (hosts[i].id);
      hosts[i].addr = (char *) "ws://10.0.0.1:7788";
    }
  m.type = CB_DBSET_MSG_ANSWER;
  m.system = (char *) SYSTEM;
  m.level = 3;
  m.addr = (char *) "ws://127.0.0.1:7788";
  m.target.level = 3;
  m.target.prefix = 5;
  m.hosts = hosts;
  m.n_hosts = n;
  bytes = cb_dbset_encode (&m, &error);
  g_assert_no_error (error);
  return bytes;
}

static void
test_codec_roundtrip (void)
{
  g_autoptr(GBytes) bytes = encode_answer (5);
  g_auto(CbDbSetMessage) m = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) again = NULL;

  g_assert_true (cb_dbset_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &m,
                                  &error));
  g_assert_no_error (error);
  g_assert_cmpint (m.type, ==, CB_DBSET_MSG_ANSWER);
  g_assert_cmpstr (m.system, ==, SYSTEM);
  g_assert_cmpuint (m.level, ==, 3);
  g_assert_cmpstr (m.addr, ==, "ws://127.0.0.1:7788");
  g_assert_cmpuint (m.target.level, ==, 3);
  g_assert_cmpuint (m.target.prefix, ==, 5);
  g_assert_cmpuint (m.n_hosts, ==, 5);
  for (guint i = 1; i < m.n_hosts; i++)
    g_assert_cmpint (memcmp (m.hosts[i - 1].id, m.hosts[i].id, 32), <, 0);
  /* Canonical: the decoded message encodes to the same bytes. */
  again = cb_dbset_encode (&m, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (again, bytes));
}

static void
expect_refused (const guint8 *data, gsize len, const char *needle)
{
  g_auto(CbDbSetMessage) m = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_false (cb_dbset_decode (data, len, &m, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL)
    g_error ("expected \"%s\" in \"%s\"", needle, error->message);
  g_assert_null (m.system);
}

static void
test_codec_rejects (void)
{
  g_autoptr(GBytes) bytes = encode_answer (2);
  gsize len;
  const guint8 *good = g_bytes_get_data (bytes, &len);
  g_autofree guint8 *b = g_memdup2 (good, len + 1);
  /* Offsets: version 0, type 1, system 2.., level, addr, target level, prefix. */
  gsize sys_len = good[2], level_at = 3 + sys_len, addr_at = level_at + 1;
  gsize tlevel_at = addr_at + 1 + good[addr_at], count_at = tlevel_at + 1 + 8;
  gsize first_id = count_at + 2;

  expect_refused (good, 0, "ends inside the header");
  for (gsize cut = 1; cut < len; cut++)
    expect_refused (good, cut, "ends inside");

  memcpy (b, good, len);
  b[0] = 2;
  expect_refused (b, len, "wire version 2");

  memcpy (b, good, len);
  b[1] = 9;
  expect_refused (b, len, "unknown type 9");

  memcpy (b, good, len);
  b[level_at] = 41;
  expect_refused (b, len, "the sender's level 41");

  memcpy (b, good, len);
  b[tlevel_at] = 2;            /* prefix 5 needs 3 bits */
  expect_refused (b, len, "wider than its level 2");

  memcpy (b, good, len);
  b[addr_at + 3] = ' ';
  expect_refused (b, len, "not printable ASCII without spaces");

  memcpy (b, good, len);
  b[count_at] = 0x01, b[count_at + 1] = 0x01;   /* 257 */
  expect_refused (b, len, "lists 257 hosts");

  memcpy (b, good, len);
  b[count_at] = 200, b[count_at + 1] = 0;
  expect_refused (b, len, "ends inside its 200 hosts");

  /* The second id equal to the first: out of order or repeated. */
  memcpy (b, good, len);
  {
    gsize second_id = first_id + 32 + 1 + good[first_id + 32];
    memcpy (b + second_id, b + first_id, 32);
    expect_refused (b, len, "out of order or twice");
  }

  memcpy (b, good, len);
  b[len] = 0;
  expect_refused (b, len + 1, "1 bytes after its end");
}

static void
test_codec_encode_refuses (void)
{
  CbDbSetMessage m = { 0 };
  CbDbSetHost hosts[2] = { { { 0 }, (char *) "a" }, { { 0 }, (char *) "b" } };
  g_autoptr(GError) error = NULL;

  m.type = CB_DBSET_MSG_ANSWER;
  m.system = (char *) SYSTEM;
  m.addr = (char *) "x";
  m.hosts = hosts;
  m.n_hosts = 2;
  g_assert_null (cb_dbset_encode (&m, &error));
  g_assert_error (error, CB_DBSET_CODEC_ERROR, CB_DBSET_CODEC_ERROR_INVALID);
  g_clear_error (&error);
  m.n_hosts = 0;
  m.target.level = 1;
  m.target.prefix = 2;
  g_assert_null (cb_dbset_encode (&m, &error));
  g_assert_error (error, CB_DBSET_CODEC_ERROR, CB_DBSET_CODEC_ERROR_INVALID);
}

/* ---- the core ---- */

typedef struct {
  guint8    id[32];
  char      addr[32];
  CbDbSets *sets;
} Peer;

static Peer *
peers_new (guint n, guint set_size)
{
  Peer *p = g_new0 (Peer, n);
  CbDbSetsConfig cfg = config (set_size);

  for (guint i = 0; i < n; i++)
    {
      random_id (p[i].id);
      g_snprintf (p[i].addr, sizeof p[i].addr, "ws://127.0.0.1:%u", 7000 + i);
      p[i].sets = cb_dbsets_new (SYSTEM, p[i].id, p[i].addr, &cfg, i + 1);
    }
  /* Small cloud: membership tells everyone about everyone. */
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      if (i != j)
        cb_dbsets_host_seen (p[i].sets, p[j].id, p[j].addr, 0);
  return p;
}

static void
peers_free (Peer *p, guint n)
{
  for (guint i = 0; i < n; i++)
    cb_dbsets_free (p[i].sets);
  g_free (p);
}

static gboolean
lists (GPtrArray *partners, const guint8 id[32])
{
  for (guint i = 0; i < partners->len; i++)
    if (memcmp (((CbDbSetHost *) partners->pdata[i])->id, id, 32) == 0)
      return TRUE;
  return FALSE;
}

/* Below twice the set size everyone is in one set and replicates with
 * everyone (up to set_peers). */
static void
test_one_set (void)
{
  Peer *p = peers_new (5, 100);

  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GPtrArray) partners = cb_dbsets_get_partners (p[i].sets);
      g_autofree char *name = cb_dbset_id_to_string (cb_dbsets_get_own_set (p[i].sets));

      g_assert_cmpuint (cb_dbsets_get_level (p[i].sets), ==, 0);
      g_assert_cmpstr (name, ==, "*");
      g_assert_cmpuint (cb_dbsets_count_own (p[i].sets), ==, 5);
      g_assert_cmpuint (partners->len, ==, 4);
    }
  peers_free (p, 5);
}

/* Twelve hosts with sets of two: everyone with the same knowledge picks
 * the same level; sets partition the hosts by their hash; set peers are
 * mutual; every set has a bridge, and bridges link to every neighbouring
 * set that has a member. */
static void
test_small_cloud_split (void)
{
  const guint n = 12;
  Peer *p = peers_new (n, 2);
  guint level = cb_dbsets_get_level (p[0].sets);
  guint total = 0;
  g_autoptr(GHashTable) bridged = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree guint64 *prefixes = g_new0 (guint64, n);

  g_assert_cmpuint (level, >=, 2);
  for (guint i = 0; i < n; i++)
    {
      CbDbSetId own = cb_dbsets_get_own_set (p[i].sets);

      g_assert_cmpuint (cb_dbsets_get_level (p[i].sets), ==, level);
      g_assert_cmpuint (own.prefix, ==,
                        cb_dbset_id_of (cb_dbset_host_hash (SYSTEM, p[i].id), level).prefix);
      prefixes[i] = own.prefix;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GPtrArray) partners = cb_dbsets_get_partners (p[i].sets);
      guint same = 0;

      for (guint j = 0; j < n; j++)
        if (j != i && prefixes[j] == prefixes[i])
          {
            same++;
            /* Set peers, both ways. */
            g_assert_true (lists (partners, p[j].id));
          }
      g_assert_cmpuint (cb_dbsets_count_own (p[i].sets), ==, same + 1);
      total += 1;
      if (cb_dbsets_is_bridge (p[i].sets))
        {
          g_hash_table_add (bridged, &prefixes[i]);
          /* A link to each neighbouring set that has a host. */
          for (guint b = 0; b < level; b++)
            {
              guint64 nb = prefixes[i] ^ (1ULL << b);
              gboolean exists = FALSE, linked = FALSE;

              for (guint j = 0; j < n; j++)
                if (prefixes[j] == nb)
                  {
                    exists = TRUE;
                    linked |= lists (partners, p[j].id);
                  }
              g_assert_true (linked == exists);
            }
        }
    }
  g_assert_cmpuint (total, ==, n);
  /* Every set that has hosts has a bridge. */
  for (guint i = 0; i < n; i++)
    g_assert_true (g_hash_table_contains (bridged, &prefixes[i]));
  peers_free (p, n);
}

static void
test_host_gone (void)
{
  Peer *p = peers_new (4, 100);
  guint64 generation = cb_dbsets_get_generation (p[0].sets);
  g_autoptr(GPtrArray) before = cb_dbsets_get_partners (p[0].sets);
  g_autoptr(GPtrArray) after = NULL;

  g_assert_true (lists (before, p[2].id));
  cb_dbsets_host_gone (p[0].sets, p[2].id);
  g_assert_cmpuint (cb_dbsets_get_generation (p[0].sets), >, generation);
  after = cb_dbsets_get_partners (p[0].sets);
  g_assert_false (lists (after, p[2].id));
  g_assert_cmpuint (after->len, ==, 2);
  /* Seen again, back again. */
  cb_dbsets_host_seen (p[0].sets, p[2].id, p[2].addr, 5);
  g_clear_pointer (&after, g_ptr_array_unref);
  after = cb_dbsets_get_partners (p[0].sets);
  g_assert_true (lists (after, p[2].id));
  peers_free (p, 4);
}

/* However many hosts it hears of, one node keeps a bounded state: at most
 * db_sets_tracked other sets (plus the hypercube neighbours it must keep),
 * at most 4 x set_size + 3 x tracked sets hosts in all, and a contact in
 * every neighbouring set. */
static void
test_bounded (void)
{
  CbDbSetsConfig cfg = config (100);
  guint8 self[32], id[32];
  g_autoptr(CbDbSets) s = NULL;
  guint level;
  CbDbSetId own;

  random_id (self);
  s = cb_dbsets_new (SYSTEM, self, "ws://127.0.0.1:1", &cfg, 9);
  /* Others in a cloud of 100,000 say level 9. */
  for (guint i = 0; i < 100000; i++)
    {
      CbDbSetMessage m = { 0 };

      random_id (id);
      if (i % 1000 == 0)
        {
          m.type = CB_DBSET_MSG_REQUEST;
          m.system = (char *) SYSTEM;
          m.level = 9;
          m.addr = (char *) "ws://10.0.0.2:1";
          cb_dbsets_receive (s, id, &m, i);
          continue;
        }
      cb_dbsets_host_seen (s, id, "ws://10.0.0.3:7788", i);
    }
  level = cb_dbsets_get_level (s);
  own = cb_dbsets_get_own_set (s);
  g_test_message ("level %u, own %u, tracked %u, contacts %u, state %zu bytes", level,
                  cb_dbsets_count_own (s), cb_dbsets_count_tracked (s),
                  cb_dbsets_count_contacts (s), cb_dbsets_state_bytes (s));
  g_assert_cmpuint (level, >=, 9);
  g_assert_cmpuint (cb_dbsets_count_own (s), <=, 4 * 100 + 1);
  g_assert_cmpuint (cb_dbsets_count_tracked (s), <=, 100 + level);
  /* Hosts in all: the own set's cap plus 3 contacts per tracked set. */
  g_assert_cmpuint (cb_dbsets_count_own (s) - 1 + cb_dbsets_count_contacts (s), <=,
                    4 * 100 + 3 * (100 + level) + 1);
  g_assert_cmpuint (cb_dbsets_state_bytes (s), <, 1000000);
  /* Every hypercube neighbour has a contact. */
  for (guint b = 0; b < level; b++)
    {
      CbDbSetId nb = { level, own.prefix ^ (1ULL << b) };
      CbDbSetTarget *t = cb_dbsets_pick_contact (s, nb);

      g_assert_nonnull (t);
      cb_dbset_target_free (t);
    }
}

/* A request for a set we have no member of is answered with the hosts
 * closest to it; one for our own set with its members (and us). */
static void
test_answers (void)
{
  const guint n = 40;
  Peer *p = peers_new (n, 4);
  CbDbSets *s = p[0].sets;
  guint level = cb_dbsets_get_level (s);
  CbDbSetId own = cb_dbsets_get_own_set (s);
  CbDbSetMessage req = { 0 };
  CbDbSetSend send;
  g_auto(CbDbSetMessage) answer = { 0 };
  guint8 stranger[32];

  g_assert_cmpuint (level, >=, 2);
  random_id (stranger);
  req.type = CB_DBSET_MSG_REQUEST;
  req.system = (char *) SYSTEM;
  req.level = level;
  req.addr = (char *) "ws://10.1.1.1:1";
  req.target = own;
  while (cb_dbsets_pop_send (s, &send))
    cb_dbset_send_clear (&send);
  cb_dbsets_receive (s, stranger, &req, 100);
  g_assert_true (cb_dbsets_pop_send (s, &send));
  g_assert_cmpmem (send.to_id, 32, stranger, 32);
  g_assert_cmpstr (send.to_addr, ==, "ws://10.1.1.1:1");
  g_assert_true (cb_dbset_decode (g_bytes_get_data (send.data, NULL),
                                  g_bytes_get_size (send.data), &answer, NULL));
  cb_dbset_send_clear (&send);
  g_assert_cmpint (answer.type, ==, CB_DBSET_MSG_ANSWER);
  {
    guint in_set = 0;

    for (guint i = 0; i < answer.n_hosts; i++)
      if (cb_dbset_id_of (cb_dbset_host_hash (SYSTEM, answer.hosts[i].id), level).prefix
          == own.prefix)
        in_set++;
    gboolean stranger_in_set =
      cb_dbset_id_of (cb_dbset_host_hash (SYSTEM, stranger), level).prefix == own.prefix;

    /* Every member of our set, us included, but not the one asking (the
     * request taught us of it). */
    g_assert_cmpuint (in_set, ==, cb_dbsets_count_own (s) - (stranger_in_set ? 1 : 0));
  }
  peers_free (p, n);
}

static void
test_query_targets (void)
{
  const guint n = 40;
  Peer *p = peers_new (n, 4);
  g_autoptr(GPtrArray) targets = cb_dbsets_pick_query_targets (p[0].sets, 100);
  g_autoptr(GHashTable) distinct = g_hash_table_new (g_int64_hash, g_int64_equal);
  CbDbSetId own = cb_dbsets_get_own_set (p[0].sets);

  g_assert_cmpuint (targets->len, ==, cb_dbsets_count_tracked (p[0].sets)
                                      + (cb_dbsets_count_own (p[0].sets) > 1));
  if (cb_dbsets_count_own (p[0].sets) > 1)
    g_assert_cmpuint (((CbDbSetTarget *) targets->pdata[0])->set.prefix, ==, own.prefix);
  for (guint i = 0; i < targets->len; i++)
    {
      CbDbSetTarget *t = targets->pdata[i];

      g_assert_false (g_hash_table_contains (distinct, &t->set.prefix));
      g_hash_table_add (distinct, &t->set.prefix);
      g_assert_cmpuint (cb_dbset_id_of (cb_dbset_host_hash (SYSTEM, t->id), t->set.level).prefix,
                        ==, t->set.prefix);
    }
  g_clear_pointer (&targets, g_ptr_array_unref);
  targets = cb_dbsets_pick_query_targets (p[0].sets, 2);
  g_assert_cmpuint (targets->len, ==, 2);
  peers_free (p, n);
}

int
main (int argc, char **argv)
{
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/dbset/codec-roundtrip", test_codec_roundtrip);
  g_test_add_func ("/node/dbset/codec-rejects", test_codec_rejects);
  g_test_add_func ("/node/dbset/codec-encode-refuses", test_codec_encode_refuses);
  g_test_add_func ("/node/dbset/one-set", test_one_set);
  g_test_add_func ("/node/dbset/small-cloud-split", test_small_cloud_split);
  g_test_add_func ("/node/dbset/host-gone", test_host_gone);
  g_test_add_func ("/node/dbset/bounded", test_bounded);
  g_test_add_func ("/node/dbset/answers", test_answers);
  g_test_add_func ("/node/dbset/query-targets", test_query_targets);
  return g_test_run ();
}
