/* test-membership.c: the membership codec and the sans-IO membership core,
 * driven by a tiny in-test network with explicit time. */
#include <string.h>

#include "cb-membership.h"
#include "cb-membership-codec.h"

/* ---- codec ---- */

static void
fill_id (guint8 id[32], guint8 v)
{
  for (guint i = 0; i < 32; i++)
    id[i] = (guint8) (v * 7 + i);
}

/* A message using every field: PING_REQ with sender metadata, two
 * records and one update of each kind. */
static GBytes *
build_full_message (gsize cap)
{
  guint8 *buf = g_malloc (cap);
  CbMembershipHeader h = { 0 };
  CbMembershipWriter w;
  CbMembershipItem it = { 0 };
  static const guint8 meta[] = { 1, 2, 3, 4, 5 };
  GBytes *out;

  h.type = CB_MEMBERSHIP_MSG_PING_REQ;
  h.flags = CB_MEMBERSHIP_FLAG_WANT_RECORD;
  h.incarnation = 300;
  h.addr = "wss://10.0.0.1:7000";
  h.addr_len = (guint8) strlen (h.addr);
  h.meta = meta;
  h.meta_len = sizeof meta;
  h.seq = 123456789;
  fill_id (h.target_id, 9);
  h.target_addr = "wss://host:1";
  h.target_addr_len = (guint8) strlen (h.target_addr);
  g_assert_true (cb_membership_writer_init (&w, buf, cap, &h));

  fill_id (it.id, 1);
  it.incarnation = 0;
  it.addr = "a:1";
  it.addr_len = 3;
  it.meta = meta;
  it.meta_len = 0;
  g_assert_true (cb_membership_writer_add_record (&w, &it));
  fill_id (it.id, 2);
  it.incarnation = G_MAXUINT64;
  it.meta_len = sizeof meta;
  g_assert_true (cb_membership_writer_add_record (&w, &it));

  for (guint8 kind = CB_MEMBERSHIP_UPDATE_ALIVE; kind <= CB_MEMBERSHIP_UPDATE_LEFT; kind++)
    {
      CbMembershipItem u = { 0 };

      u.kind = kind;
      u.hops = kind;
      fill_id (u.id, 10 + kind);
      fill_id (u.from, 20 + kind);
      u.incarnation = 1000u * kind;
      u.addr = "b:2";
      u.addr_len = 3;
      u.meta = meta;
      u.meta_len = 2;
      g_assert_true (cb_membership_writer_add_update (&w, &u));
    }
  /* Records must come before updates. */
  g_assert_false (cb_membership_writer_add_record (&w, &it));
  out = cb_membership_writer_finish (&w);
  g_free (buf);
  return out;
}

static void
test_codec_roundtrip (void)
{
  g_autoptr(GBytes) msg = build_full_message (1400);
  g_autofree CbMembershipMessage *d = g_new0 (CbMembershipMessage, 1);
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (msg, &len);
  guint8 id[32];

  g_assert_true (cb_membership_message_decode (data, len, 1400, d, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (d->h.type, ==, CB_MEMBERSHIP_MSG_PING_REQ);
  g_assert_cmpuint (d->h.flags & CB_MEMBERSHIP_FLAG_WANT_RECORD, !=, 0);
  g_assert_cmpuint (d->h.flags & CB_MEMBERSHIP_FLAG_HAS_META, !=, 0);
  g_assert_cmpuint (d->h.incarnation, ==, 300);
  g_assert_cmpmem (d->h.addr, d->h.addr_len, "wss://10.0.0.1:7000", 19);
  g_assert_cmpuint (d->h.meta_len, ==, 5);
  g_assert_cmpuint (d->h.seq, ==, 123456789);
  fill_id (id, 9);
  g_assert_cmpmem (d->h.target_id, 32, id, 32);
  g_assert_cmpmem (d->h.target_addr, d->h.target_addr_len, "wss://host:1", 12);
  g_assert_cmpuint (d->n_records, ==, 2);
  g_assert_cmpuint (d->records[0].meta_len, ==, 0);
  g_assert_cmpuint (d->records[1].incarnation, ==, G_MAXUINT64);
  g_assert_cmpuint (d->records[1].meta_len, ==, 5);
  g_assert_cmpuint (d->n_updates, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      const CbMembershipItem *u = &d->updates[i];

      g_assert_cmpuint (u->kind, ==, i + 1);
      g_assert_cmpuint (u->hops, ==, i + 1);
      g_assert_cmpuint (u->incarnation, ==, 1000u * (i + 1));
      fill_id (id, 10 + i + 1);
      g_assert_cmpmem (u->id, 32, id, 32);
      if (u->kind == CB_MEMBERSHIP_UPDATE_ALIVE)
        {
          g_assert_cmpmem (u->addr, u->addr_len, "b:2", 3);
          g_assert_cmpuint (u->meta_len, ==, 2);
        }
      if (u->kind == CB_MEMBERSHIP_UPDATE_SUSPECT || u->kind == CB_MEMBERSHIP_UPDATE_DEAD)
        {
          fill_id (id, 20 + i + 1);
          g_assert_cmpmem (u->from, 32, id, 32);
        }
    }
}

static void
expect_decode_error (const guint8 *data, gsize len, gsize max, gint code, const char *what)
{
  g_autofree CbMembershipMessage *d = g_new0 (CbMembershipMessage, 1);
  g_autoptr(GError) error = NULL;

  if (cb_membership_message_decode (data, len, max, d, &error))
    g_error ("decoding %s unexpectedly succeeded", what);
  g_assert_error (error, CB_MEMBERSHIP_ERROR, code);
  g_assert_nonnull (strstr (error->message, "membership message"));
}

static void
test_codec_truncated (void)
{
  g_autoptr(GBytes) msg = build_full_message (1400);
  gsize len;
  const guint8 *data = g_bytes_get_data (msg, &len);

  /* Every proper prefix is refused, as is one extra byte. */
  for (gsize i = 0; i < len; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, i);

      expect_decode_error (copy, i, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "a prefix");
    }
  {
    g_autofree guint8 *longer = g_malloc (len + 1);

    memcpy (longer, data, len);
    longer[len] = 0;
    expect_decode_error (longer, len + 1, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "trailing byte");
  }
  expect_decode_error (data, len, len - 1, CB_MEMBERSHIP_ERROR_TOO_LARGE, "oversized");
}

static void
test_codec_malformed (void)
{
  /* v1, PING, no flags, inc 0, addr "x", seq 1, no records, no updates */
  const guint8 good[] = { 1, 1, 0, 0, 1, 'x', 1, 0, 0 };
  g_autofree CbMembershipMessage *d = g_new0 (CbMembershipMessage, 1);
  g_autoptr(GError) error = NULL;
  guint8 b[64];

  g_assert_true (cb_membership_message_decode (good, sizeof good, 1400, d, &error));
  g_assert_no_error (error);

  expect_decode_error (NULL, 0, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "empty");
  memcpy (b, good, sizeof good);
  b[0] = 2;
  expect_decode_error (b, sizeof good, 1400, CB_MEMBERSHIP_ERROR_VERSION, "version 2");
  memcpy (b, good, sizeof good);
  b[1] = 0;
  expect_decode_error (b, sizeof good, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "type 0");
  b[1] = CB_MEMBERSHIP_MSG_LAST + 1;
  expect_decode_error (b, sizeof good, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "type 13");
  memcpy (b, good, sizeof good);
  b[4] = 0;  /* empty address */
  expect_decode_error (b, sizeof good, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "empty address");
  memcpy (b, good, sizeof good);
  b[5] = ' ';  /* unprintable address */
  expect_decode_error (b, sizeof good, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "space in address");
  b[5] = 0x7f;
  expect_decode_error (b, sizeof good, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "DEL in address");

  {
    /* Non-minimal varint for the incarnation: 0x80 0x00. */
    const guint8 m[] = { 1, 1, 0, 0x80, 0x00, 1, 'x', 1, 0, 0 };
    expect_decode_error (m, sizeof m, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "non-minimal varint");
  }
  {
    /* Eleven continuation bytes. */
    const guint8 m[] = { 1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                         1, 'x', 1, 0, 0 };
    expect_decode_error (m, sizeof m, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "overlong varint");
  }
  {
    /* Tenth byte carrying more than bit 63. */
    const guint8 m[] = { 1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                         1, 'x', 1, 0, 0 };
    expect_decode_error (m, sizeof m, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "varint over 64 bits");
  }
  {
    /* Sender metadata claiming 513 bytes. */
    guint8 m[600] = { 1, 5, CB_MEMBERSHIP_FLAG_HAS_META, 0, 1, 'x', 0x01, 0x02 };
    expect_decode_error (m, sizeof m, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "513-byte metadata");
  }
  {
    /* 65 records claimed. */
    const guint8 m[] = { 1, 5, 0, 0, 1, 'x', 65, 0 };
    expect_decode_error (m, sizeof m, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "65 records");
  }
  {
    /* GOSSIP with one update of kind 9. */
    guint8 m[64] = { 1, 5, 0, 0, 1, 'x', 0, 1, 9, 0 };
    expect_decode_error (m, 10 + 32 + 1, 1400, CB_MEMBERSHIP_ERROR_MALFORMED, "update kind 9");
  }
  {
    /* GOSSIP with a SUSPECT update cut before its suspecting id. */
    guint8 m[64] = { 1, 5, 0, 0, 1, 'x', 0, 1, CB_MEMBERSHIP_UPDATE_SUSPECT, 0 };
    expect_decode_error (m, 10 + 32 + 1 + 10, 1400, CB_MEMBERSHIP_ERROR_MALFORMED,
                         "suspect without from");
  }
}

static void
test_codec_writer_bounds (void)
{
  guint8 buf[CB_MEMBERSHIP_MIN_MESSAGE_BYTES];
  guint8 meta[CB_MEMBERSHIP_MAX_META];
  char addr[CB_MEMBERSHIP_MAX_ADDR + 1];
  CbMembershipHeader h = { 0 };
  CbMembershipWriter w;
  CbMembershipItem it = { 0 };
  g_autoptr(GBytes) out = NULL;
  g_autofree CbMembershipMessage *d = g_new0 (CbMembershipMessage, 1);
  g_autoptr(GError) error = NULL;
  guint added = 0;

  memset (meta, 0x55, sizeof meta);
  memset (addr, 'a', sizeof addr - 1);
  addr[sizeof addr - 1] = '\0';
  h.type = CB_MEMBERSHIP_MSG_SHUFFLE;
  h.addr = addr;
  h.addr_len = CB_MEMBERSHIP_MAX_ADDR;
  h.meta = meta;
  h.meta_len = CB_MEMBERSHIP_MAX_META;
  g_assert_true (cb_membership_writer_init (&w, buf, sizeof buf, &h));
  it.addr = addr;
  it.addr_len = CB_MEMBERSHIP_MAX_ADDR;
  it.meta = meta;
  it.meta_len = CB_MEMBERSHIP_MAX_META;
  for (guint i = 0; i < 10; i++)
    {
      fill_id (it.id, (guint8) i);
      added += cb_membership_writer_add_record (&w, &it);
    }
  /* A largest header and a largest record do not both fit in the minimum
   * size; a smallest header leaves room for one. */
  g_assert_cmpuint (added, ==, 0);
  h.addr_len = 1;
  h.meta = NULL;
  h.meta_len = 0;
  g_assert_true (cb_membership_writer_init (&w, buf, sizeof buf, &h));
  for (guint i = 0; i < 10; i++)
    {
      fill_id (it.id, (guint8) i);
      added += cb_membership_writer_add_record (&w, &it);
    }
  g_assert_cmpuint (added, ==, 1);
  out = cb_membership_writer_finish (&w);
  g_assert_cmpuint (g_bytes_get_size (out), <=, sizeof buf);
  g_assert_true (cb_membership_message_decode (g_bytes_get_data (out, NULL), g_bytes_get_size (out),
                                               sizeof buf, d, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (d->n_records, ==, 1);
  g_assert_cmpuint (d->records[0].meta_len, ==, CB_MEMBERSHIP_MAX_META);

  g_assert_true (cb_membership_addr_valid ("wss://[::1]:443/x"));
  g_assert_false (cb_membership_addr_valid (""));
  g_assert_false (cb_membership_addr_valid ("a b"));
  g_assert_false (cb_membership_addr_valid (NULL));
}

/* ---- a tiny network with explicit time ---- */

#define MAXN 16
#define LATENCY 5

typedef struct {
  CbMembershipEventType type;
  guint                 about;
  guint64               inc;
  CbMemberState         state;
  gint64                at;
} Ev;

typedef struct {
  gint64  at;
  guint   from, to;
  GBytes *data;
} Msg;

typedef struct {
  CbMembershipConfig cfg;
  CbMembership *m[MAXN];
  guint8        id[MAXN][32];
  char          addr[MAXN][16];
  gboolean      down[MAXN];     /* dropped: nothing in or out, no ticks */
  gboolean      frozen[MAXN];   /* not ticked, nothing delivered (kept for later) */
  gboolean      cut[MAXN][MAXN];
  GArray       *events[MAXN];
  guint         sent_types[MAXN][16];
  GQueue        inflight;
  guint         n;
  gint64        now;
} Net;

static guint
net_index (Net *net, const guint8 *id)
{
  for (guint i = 0; i < net->n; i++)
    if (memcmp (net->id[i], id, 32) == 0)
      return i;
  return G_MAXUINT;
}

static void
net_flush (Net *net, guint i)
{
  CbMembershipSend s;
  CbMembershipEvent e;

  while (cb_membership_pop_send (net->m[i], &s))
    {
      guint to = net_index (net, s.to_id);
      const guint8 *p = g_bytes_get_data (s.data, NULL);

      g_assert_cmpuint (to, !=, G_MAXUINT);
      /* The announced address (a moved node is still reached at its old
       * one until others learn the new one). */
      g_assert_true (cb_membership_addr_valid (s.to_addr));
      g_assert_true (g_str_equal (s.to_addr, net->addr[to]) || g_str_has_suffix (s.to_addr, ":moved"));
      g_assert_cmpuint (g_bytes_get_size (s.data), <=, net->cfg.max_message_bytes);
      net->sent_types[i][p[1] & 15]++;
      if (!net->down[i] && !net->down[to] && !net->cut[i][to])
        {
          Msg *msg = g_new0 (Msg, 1);

          msg->at = net->now + LATENCY;
          msg->from = i;
          msg->to = to;
          msg->data = g_steal_pointer (&s.data);
          g_queue_push_tail (&net->inflight, msg);
        }
      cb_membership_send_clear (&s);
    }
  while (cb_membership_pop_event (net->m[i], &e))
    {
      Ev ev = { e.type, net_index (net, e.member.id), e.member.incarnation, e.member.state, net->now };

      g_assert_cmpuint (ev.about, !=, G_MAXUINT);
      g_array_append_val (net->events[i], ev);
      cb_membership_event_clear (&e);
    }
}

static void
net_add (Net *net, guint i)
{
  g_autoptr(GBytes) meta = g_bytes_new (net->addr[i], 4);

  net->m[i] = cb_membership_new (&net->cfg, net->id[i], net->addr[i], meta, 1000 + i);
  g_assert_nonnull (net->m[i]);
  cb_membership_tick (net->m[i], net->now);
  net_flush (net, i);
}

static Net *
net_new (guint n, const CbMembershipConfig *cfg)
{
  Net *net = g_new0 (Net, 1);

  if (cfg)
    net->cfg = *cfg;
  else
    cb_membership_config_init (&net->cfg);
  net->n = n;
  net->now = 1000;
  g_queue_init (&net->inflight);
  for (guint i = 0; i < n; i++)
    {
      fill_id (net->id[i], (guint8) (100 + i));
      g_snprintf (net->addr[i], sizeof net->addr[i], "n%u:1", i);
      net->events[i] = g_array_new (FALSE, FALSE, sizeof (Ev));
    }
  return net;
}

static void
net_free (Net *net)
{
  Msg *msg;

  while ((msg = g_queue_pop_head (&net->inflight)) != NULL)
    {
      g_bytes_unref (msg->data);
      g_free (msg);
    }
  for (guint i = 0; i < net->n; i++)
    {
      g_clear_pointer (&net->m[i], cb_membership_free);
      g_array_unref (net->events[i]);
    }
  g_free (net);
}

/* All start at once; every node but 0 joins through node 0. */
static Net *
net_cluster (guint n, const CbMembershipConfig *cfg)
{
  Net *net = net_new (n, cfg);

  for (guint i = 0; i < n; i++)
    net_add (net, i);
  for (guint i = 1; i < n; i++)
    {
      cb_membership_add_seed (net->m[i], net->id[0], net->addr[0], net->now);
      net_flush (net, i);
    }
  return net;
}

static void
net_run_until (Net *net, gint64 until)
{
  for (;;)
    {
      gint64 next = G_MAXINT64;
      Msg *head = NULL;

      for (GList *l = net->inflight.head; l != NULL; l = l->next)
        {
          Msg *msg = l->data;
          if (!net->frozen[msg->to] && msg->at < next)
            {
              next = msg->at;
              head = msg;
            }
        }
      for (guint i = 0; i < net->n; i++)
        if (net->m[i] && !net->down[i] && !net->frozen[i])
          {
            gint64 d = cb_membership_next_deadline (net->m[i]);

            g_assert_cmpint (d, >=, 0);
            if (d < next)
              {
                next = d;
                head = NULL;
              }
          }
      if (next > until)
        break;
      net->now = MAX (net->now, next);
      if (head != NULL)
        {
          g_autoptr(GError) error = NULL;
          gsize len;
          const guint8 *p = g_bytes_get_data (head->data, &len);

          g_queue_remove (&net->inflight, head);
          if (!net->down[head->to] && !net->down[head->from] && net->m[head->to])
            {
              g_assert_true (cb_membership_receive (net->m[head->to], net->now, net->id[head->from],
                                                    p, len, &error));
              g_assert_no_error (error);
              net_flush (net, head->to);
            }
          g_bytes_unref (head->data);
          g_free (head);
        }
      else
        for (guint i = 0; i < net->n; i++)
          if (net->m[i] && !net->down[i] && !net->frozen[i]
              && cb_membership_next_deadline (net->m[i]) <= net->now)
            {
              cb_membership_tick (net->m[i], net->now);
              net_flush (net, i);
            }
    }
  net->now = MAX (net->now, until);
}

static const Ev *
find_event (Net *net, guint at_node, CbMembershipEventType type, guint about)
{
  for (guint k = 0; k < net->events[at_node]->len; k++)
    {
      const Ev *ev = &g_array_index (net->events[at_node], Ev, k);
      if (ev->type == type && ev->about == about)
        return ev;
    }
  return NULL;
}

static CbMemberState
state_of (Net *net, guint at_node, guint about)
{
  g_auto(CbMember) mem = { 0 };

  if (!cb_membership_lookup (net->m[at_node], net->id[about], &mem))
    return (CbMemberState) -1;
  return mem.state;
}

/* ---- core tests ---- */

static void
test_join (void)
{
  Net *net = net_cluster (5, NULL);

  net_run_until (net, net->now + 5000);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GPtrArray) members = cb_membership_get_members (net->m[i]);

      g_assert_cmpuint (members->len, ==, 4);
      g_assert_cmpuint (cb_membership_count_alive (net->m[i]), ==, 4);
      g_assert_cmpuint (cb_membership_active_count (net->m[i]), ==, 4);
      for (guint k = 0; k < members->len; k++)
        {
          CbMember *mem = members->pdata[k];
          guint j = net_index (net, mem->id);

          g_assert_cmpuint (j, !=, G_MAXUINT);
          g_assert_cmpuint (j, !=, i);
          g_assert_cmpint (mem->state, ==, CB_MEMBER_ALIVE);
          g_assert_cmpstr (mem->addr, ==, net->addr[j]);
          /* Metadata travels with the record: the first 4 bytes of the address. */
          g_assert_nonnull (mem->meta);
          g_assert_cmpmem (g_bytes_get_data (mem->meta, NULL), g_bytes_get_size (mem->meta),
                           net->addr[j], 4);
          g_assert_nonnull (find_event (net, i, CB_MEMBERSHIP_EVENT_JOIN, j));
          /* Views are symmetric. */
          g_assert_true (cb_membership_is_active (net->m[j], net->id[i]));
        }
    }
  /* Nobody was ever suspected in a healthy cloud. */
  for (guint i = 0; i < 5; i++)
    for (guint k = 0; k < net->events[i]->len; k++)
      g_assert_cmpint (g_array_index (net->events[i], Ev, k).type, !=, CB_MEMBERSHIP_EVENT_SUSPECT);
  net_free (net);
}

static void
test_meta_update (void)
{
  Net *net = net_cluster (4, NULL);
  g_autoptr(GBytes) meta = g_bytes_new_static ("new-meta", 8);
  guint64 inc;

  net_run_until (net, net->now + 3000);
  inc = cb_membership_get_incarnation (net->m[2]);
  cb_membership_set_meta (net->m[2], meta, net->now);
  g_assert_cmpuint (cb_membership_get_incarnation (net->m[2]), ==, inc + 1);
  net_flush (net, 2);
  net_run_until (net, net->now + 1000);
  for (guint i = 0; i < 4; i++)
    {
      g_auto(CbMember) mem = { 0 };

      if (i == 2)
        continue;
      g_assert_nonnull (find_event (net, i, CB_MEMBERSHIP_EVENT_UPDATE, 2));
      g_assert_true (cb_membership_lookup (net->m[i], net->id[2], &mem));
      g_assert_cmpuint (mem.incarnation, ==, inc + 1);
      g_assert_true (g_bytes_equal (mem.meta, meta));
    }

  cb_membership_set_addr (net->m[2], "n2:moved", net->now);
  net_flush (net, 2);
  net_run_until (net, net->now + 1000);
  for (guint i = 0; i < 4; i++)
    if (i != 2)
      {
        g_auto(CbMember) mem = { 0 };

        g_assert_true (cb_membership_lookup (net->m[i], net->id[2], &mem));
        g_assert_cmpstr (mem.addr, ==, "n2:moved");
        g_assert_cmpuint (mem.incarnation, ==, inc + 2);
      }
  net_free (net);
}

static void
test_failure_detection (void)
{
  Net *net = net_cluster (6, NULL);
  gint64 killed;

  net_run_until (net, net->now + 4000);
  killed = net->now;
  net->down[5] = TRUE;
  net_run_until (net, killed + 2500);
  /* Suspected quickly, not yet dead. */
  for (guint i = 0; i < 5; i++)
    {
      g_assert_nonnull (find_event (net, i, CB_MEMBERSHIP_EVENT_SUSPECT, 5));
      g_assert_cmpint (state_of (net, i, 5), ==, CB_MEMBER_SUSPECT);
      g_assert_cmpuint (cb_membership_count_alive (net->m[i]), ==, 5);
    }
  net_run_until (net, killed + 6000);
  for (guint i = 0; i < 5; i++)
    {
      const Ev *dead = find_event (net, i, CB_MEMBERSHIP_EVENT_DEAD, 5);

      g_assert_nonnull (dead);
      /* Not before the minimum suspicion timeout. */
      g_assert_cmpint (dead->at - killed, >=, net->cfg.suspicion_min_ms);
      g_assert_cmpint (state_of (net, i, 5), ==, CB_MEMBER_DEAD);
      g_assert_cmpuint (cb_membership_count_alive (net->m[i]), ==, 4);
      g_assert_false (cb_membership_is_active (net->m[i], net->id[5]));
      /* Tombstones are still listed. */
      {
        g_autoptr(GPtrArray) members = cb_membership_get_members (net->m[i]);
        g_assert_cmpuint (members->len, ==, 5);
      }
    }

  /* It comes back (same process, it never knew): told it is dead, it
   * refutes with a higher incarnation and is alive again everywhere. */
  net->down[5] = FALSE;
  net_run_until (net, net->now + 3000);
  g_assert_cmpuint (cb_membership_get_incarnation (net->m[5]), >, 0);
  for (guint i = 0; i < 5; i++)
    {
      g_assert_cmpint (state_of (net, i, 5), ==, CB_MEMBER_ALIVE);
      g_assert_nonnull (find_event (net, i, CB_MEMBERSHIP_EVENT_ALIVE, 5));
    }
  net_free (net);
}

static void
test_island_rejoins (void)
{
  Net *net = net_new (4, NULL);

  for (guint i = 0; i < 4; i++)
    net_add (net, i);
  cb_membership_add_seed (net->m[1], net->id[0], net->addr[0], net->now);
  net_flush (net, 1);
  net_run_until (net, net->now + 2000);
  /* 2 and 3 cannot reach their seed 0 at first and only find each other. */
  net->cut[0][2] = net->cut[2][0] = net->cut[0][3] = net->cut[3][0] = TRUE;
  cb_membership_add_seed (net->m[2], net->id[0], net->addr[0], net->now);
  cb_membership_add_seed (net->m[3], net->id[0], net->addr[0], net->now);
  cb_membership_add_seed (net->m[3], net->id[2], net->addr[2], net->now);
  net_flush (net, 2);
  net_flush (net, 3);
  net_run_until (net, net->now + 10000);
  g_assert_cmpuint (cb_membership_count_alive (net->m[2]), ==, 1);
  g_assert_cmpuint (cb_membership_count_alive (net->m[3]), ==, 1);
  /* Once the seed is reachable the island joins the rest on its own. */
  net->cut[0][2] = net->cut[2][0] = net->cut[0][3] = net->cut[3][0] = FALSE;
  net_run_until (net, net->now + 15000);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (cb_membership_count_alive (net->m[i]), ==, 3);
  net_free (net);
}

static void
test_tombstone_expiry (void)
{
  CbMembershipConfig cfg;
  Net *net;

  cb_membership_config_init (&cfg);
  cfg.tombstone_ms = 20000;
  net = net_cluster (4, &cfg);
  net_run_until (net, net->now + 3000);
  net->down[3] = TRUE;
  net_run_until (net, net->now + 10000);
  g_assert_cmpint (state_of (net, 0, 3), ==, CB_MEMBER_DEAD);
  net_run_until (net, net->now + 25000);
  g_assert_cmpint ((gint) state_of (net, 0, 3), ==, -1);
  g_assert_nonnull (find_event (net, 0, CB_MEMBERSHIP_EVENT_FORGET, 3));
  net_free (net);
}

static void
test_indirect_probe (void)
{
  Net *net = net_cluster (5, NULL);

  net_run_until (net, net->now + 3000);
  /* 0 and 1 cannot talk directly, but the others relay the probes. */
  net->cut[0][1] = net->cut[1][0] = TRUE;
  net_run_until (net, net->now + 20000);
  for (guint i = 0; i < 5; i++)
    for (guint j = 0; j < 5; j++)
      if (i != j)
        g_assert_cmpint (state_of (net, i, j), ==, CB_MEMBER_ALIVE);
  g_assert_cmpuint (net->sent_types[0][CB_MEMBERSHIP_MSG_PING_REQ], >, 0);
  g_assert_cmpuint (net->sent_types[2][CB_MEMBERSHIP_MSG_ACK] + net->sent_types[3][CB_MEMBERSHIP_MSG_ACK]
                    + net->sent_types[4][CB_MEMBERSHIP_MSG_ACK], >, 0);
  net_free (net);
}

static void
test_pause_refutes (void)
{
  Net *net = net_cluster (5, NULL);
  guint64 inc;

  net_run_until (net, net->now + 3000);
  inc = cb_membership_get_incarnation (net->m[4]);
  /* Stopped for 3 s: nothing ticks or arrives; then everything queued
   * arrives late, as after SIGCONT. */
  net->frozen[4] = TRUE;
  net_run_until (net, net->now + 3000);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (state_of (net, i, 4), ==, CB_MEMBER_SUSPECT);
  net->frozen[4] = FALSE;
  for (GList *l = net->inflight.head; l != NULL; l = l->next)
    ((Msg *) l->data)->at = MAX (((Msg *) l->data)->at, net->now);
  net_run_until (net, net->now + 10000);
  g_assert_cmpuint (cb_membership_get_incarnation (net->m[4]), >, inc);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_null (find_event (net, i, CB_MEMBERSHIP_EVENT_DEAD, 4));
      g_assert_cmpint (state_of (net, i, 4), ==, CB_MEMBER_ALIVE);
    }
  /* Its own view did not declare anyone dead for the missed acks. */
  for (guint k = 0; k < net->events[4]->len; k++)
    g_assert_cmpint (g_array_index (net->events[4], Ev, k).type, !=, CB_MEMBERSHIP_EVENT_DEAD);
  net_free (net);
}

static void
test_leave (void)
{
  Net *net = net_cluster (4, NULL);

  net_run_until (net, net->now + 3000);
  cb_membership_leave (net->m[1], net->now);
  net_flush (net, 1);
  net_run_until (net, net->now + 500);
  net->down[1] = TRUE;
  net_run_until (net, net->now + 15000);
  for (guint i = 0; i < 4; i++)
    if (i != 1)
      {
        g_assert_nonnull (find_event (net, i, CB_MEMBERSHIP_EVENT_LEFT, 1));
        g_assert_null (find_event (net, i, CB_MEMBERSHIP_EVENT_DEAD, 1));
        g_assert_cmpint (state_of (net, i, 1), ==, CB_MEMBER_LEFT);
        g_assert_cmpuint (cb_membership_count_alive (net->m[i]), ==, 2);
      }
  net_free (net);
}

static void
test_unreachable (void)
{
  Net *net = net_cluster (5, NULL);
  guint before;

  net_run_until (net, net->now + 3000);
  before = net->sent_types[0][CB_MEMBERSHIP_MSG_PING_REQ];
  net->down[4] = TRUE;
  cb_membership_peer_unreachable (net->m[0], net->id[4], net->now);
  net_flush (net, 0);
  /* Probed through others at once, without waiting for its turn. */
  g_assert_cmpuint (net->sent_types[0][CB_MEMBERSHIP_MSG_PING_REQ], >, before);
  net_run_until (net, net->now + 400);
  g_assert_cmpint (state_of (net, 0, 4), ==, CB_MEMBER_SUSPECT);
  net_free (net);
}

/* A hand-made message from a node that is not in the test network. */
static GBytes *
craft (guint8 type, guint64 inc, const char *addr, const CbMembershipItem *records, guint n_records,
       const CbMembershipItem *updates, guint n_updates)
{
  guint8 buf[1400];
  CbMembershipHeader h = { 0 };
  CbMembershipWriter w;

  h.type = type;
  h.incarnation = inc;
  h.addr = addr;
  h.addr_len = (guint8) strlen (addr);
  h.meta = (const guint8 *) "";
  g_assert_true (cb_membership_writer_init (&w, buf, sizeof buf, &h));
  for (guint i = 0; i < n_records; i++)
    g_assert_true (cb_membership_writer_add_record (&w, &records[i]));
  for (guint i = 0; i < n_updates; i++)
    g_assert_true (cb_membership_writer_add_update (&w, &updates[i]));
  return cb_membership_writer_finish (&w);
}

static void
test_refute_suspicion (void)
{
  guint8 self[32], other[32];
  g_autoptr(CbMembership) m = NULL;
  CbMembershipItem u = { 0 };
  g_autoptr(GBytes) msg = NULL;
  g_autoptr(GError) error = NULL;
  CbMembershipSend s;
  gboolean told_sender = FALSE;
  g_autofree CbMembershipMessage *d = g_new0 (CbMembershipMessage, 1);

  fill_id (self, 1);
  fill_id (other, 2);
  m = cb_membership_new (NULL, self, "me:1", NULL, 7);
  cb_membership_tick (m, 0);
  u.kind = CB_MEMBERSHIP_UPDATE_SUSPECT;
  memcpy (u.id, self, 32);
  u.incarnation = 5;
  memcpy (u.from, other, 32);
  msg = craft (CB_MEMBERSHIP_MSG_GOSSIP, 0, "other:1", NULL, 0, &u, 1);
  g_assert_true (cb_membership_receive (m, 10, other, g_bytes_get_data (msg, NULL),
                                        g_bytes_get_size (msg), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cb_membership_get_incarnation (m), ==, 6);
  /* The sender is now a (passive) member and the refutation reaches it. */
  g_assert_cmpuint (cb_membership_count_alive (m), ==, 1);
  cb_membership_tick (m, 400);
  while (cb_membership_pop_send (m, &s))
    {
      if (memcmp (s.to_id, other, 32) == 0
          && cb_membership_message_decode (g_bytes_get_data (s.data, NULL), g_bytes_get_size (s.data),
                                           1400, d, NULL))
        for (guint i = 0; i < d->n_updates; i++)
          if (d->updates[i].kind == CB_MEMBERSHIP_UPDATE_ALIVE
              && memcmp (d->updates[i].id, self, 32) == 0 && d->updates[i].incarnation == 6)
            told_sender = TRUE;
      cb_membership_send_clear (&s);
    }
  g_assert_true (told_sender);
}

static void
test_bad_input (void)
{
  guint8 self[32], other[32];
  g_autoptr(CbMembership) m = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 junk[] = { 1, 99, 0, 0 };
  g_autoptr(GBytes) msg = NULL;
  CbMembershipSend s;
  CbMembershipEvent e;

  fill_id (self, 1);
  fill_id (other, 2);
  m = cb_membership_new (NULL, self, "me:1", NULL, 7);
  g_assert_false (cb_membership_receive (m, 0, other, junk, sizeof junk, &error));
  g_assert_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (cb_membership_receive (m, 0, other, NULL, 0, &error));
  g_assert_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_MALFORMED);
  g_clear_error (&error);

  /* A message from our own id is refused whatever it says. */
  msg = craft (CB_MEMBERSHIP_MSG_JOIN, 0, "me:1", NULL, 0, NULL, 0);
  g_assert_false (cb_membership_receive (m, 0, self, g_bytes_get_data (msg, NULL),
                                         g_bytes_get_size (msg), &error));
  g_assert_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_SENDER);
  g_clear_error (&error);

  /* Nothing was applied. */
  g_assert_cmpuint (cb_membership_count_alive (m), ==, 0);
  g_assert_false (cb_membership_pop_event (m, &e));
  g_assert_false (cb_membership_pop_send (m, &s));

  /* Over the configured size. */
  {
    g_autofree guint8 *big = g_malloc0 (2000);
    big[0] = 1;
    g_assert_false (cb_membership_receive (m, 0, other, big, 2000, &error));
    g_assert_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_TOO_LARGE);
  }
}

static void
test_bounded_state (void)
{
  CbMembershipConfig cfg;
  guint8 self[32], peer[32];
  g_autoptr(CbMembership) m = NULL;
  CbMembershipSend s;
  CbMembershipEvent e;
  guint forgets = 0;

  cb_membership_config_init (&cfg);
  cfg.active_view = 8;
  cfg.passive_view = 20;
  fill_id (self, 1);
  fill_id (peer, 2);
  m = cb_membership_new (&cfg, self, "me:1", NULL, 7);
  cb_membership_tick (m, 0);
  /* 2,000 distinct members offered through shuffles and gossip. */
  for (guint batch = 0; batch < 100; batch++)
    {
      CbMembershipItem recs[10], ups[10];
      g_autoptr(GBytes) msg = NULL;
      g_autoptr(GError) error = NULL;

      for (guint k = 0; k < 10; k++)
        {
          guint v = batch * 20 + k;

          memset (&recs[k], 0, sizeof recs[k]);
          recs[k].kind = CB_MEMBERSHIP_UPDATE_ALIVE;
          memcpy (recs[k].id, &v, sizeof v);
          recs[k].id[31] = 0xee;
          recs[k].addr = "x:1";
          recs[k].addr_len = 3;
          ups[k] = recs[k];
          v += 10;
          memcpy (ups[k].id, &v, sizeof v);
        }
      msg = craft (CB_MEMBERSHIP_MSG_SHUFFLE, 0, "peer:1", recs, 10, ups, 10);
      g_assert_true (cb_membership_receive (m, batch * 10, peer, g_bytes_get_data (msg, NULL),
                                            g_bytes_get_size (msg), &error));
      g_assert_no_error (error);
      cb_membership_tick (m, batch * 10);
      while (cb_membership_pop_send (m, &s))
        cb_membership_send_clear (&s);
      while (cb_membership_pop_event (m, &e))
        {
          forgets += e.type == CB_MEMBERSHIP_EVENT_FORGET;
          cb_membership_event_clear (&e);
        }
      g_assert_cmpuint (cb_membership_count_alive (m), <=, cfg.active_view + cfg.passive_view);
    }
  g_assert_cmpuint (forgets, >=, 2000 - cfg.active_view - cfg.passive_view);
  {
    g_autoptr(GPtrArray) members = cb_membership_get_members (m);
    g_assert_cmpuint (members->len, <=, cfg.active_view + cfg.passive_view);
  }
}

static void
test_deadline (void)
{
  guint8 self[32];
  g_autoptr(CbMembership) m = NULL;
  CbMembershipConfig cfg;

  cb_membership_config_init (&cfg);
  fill_id (self, 3);
  m = cb_membership_new (&cfg, self, "me:1", NULL, 1);
  /* Before the first call: run now. */
  g_assert_cmpint (cb_membership_next_deadline (m), ==, 0);
  cb_membership_tick (m, 5000);
  g_assert_cmpint (cb_membership_next_deadline (m), >, 5000);
  g_assert_cmpint (cb_membership_next_deadline (m), <=, 5000 + 2 * cfg.shuffle_interval_ms);
  for (gint64 t = 5000; t < 10000; t = cb_membership_next_deadline (m))
    {
      CbMembershipSend s;

      cb_membership_tick (m, t);
      /* Alone: nothing to say to anyone. */
      g_assert_false (cb_membership_pop_send (m, &s));
      g_assert_cmpint (cb_membership_next_deadline (m), >, t);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/membership/codec/roundtrip", test_codec_roundtrip);
  g_test_add_func ("/node/membership/codec/truncated", test_codec_truncated);
  g_test_add_func ("/node/membership/codec/malformed", test_codec_malformed);
  g_test_add_func ("/node/membership/codec/writer-bounds", test_codec_writer_bounds);
  g_test_add_func ("/node/membership/join", test_join);
  g_test_add_func ("/node/membership/meta-update", test_meta_update);
  g_test_add_func ("/node/membership/failure-detection", test_failure_detection);
  g_test_add_func ("/node/membership/island-rejoins", test_island_rejoins);
  g_test_add_func ("/node/membership/tombstone-expiry", test_tombstone_expiry);
  g_test_add_func ("/node/membership/indirect-probe", test_indirect_probe);
  g_test_add_func ("/node/membership/pause-refutes", test_pause_refutes);
  g_test_add_func ("/node/membership/leave", test_leave);
  g_test_add_func ("/node/membership/unreachable", test_unreachable);
  g_test_add_func ("/node/membership/refute-suspicion", test_refute_suspicion);
  g_test_add_func ("/node/membership/bad-input", test_bad_input);
  g_test_add_func ("/node/membership/bounded-state", test_bounded_state);
  g_test_add_func ("/node/membership/deadline", test_deadline);
  return g_test_run ();
}
