/* cb-membership.c: SWIM/Lifeguard failure detection and gossip over
 * HyParView-like partial views.  See cb-membership.h for the protocol and
 * cb-membership-codec.h for the wire format. */
#define G_LOG_DOMAIN "cb-membership"

#include "cb-membership.h"

#include <math.h>
#include <string.h>

#define ID_LEN CB_MEMBERSHIP_ID_BYTES
#define MAX_PROBES 4        /* the round's probe plus urgent ones (unreachable peers) */
#define MAX_RELAYS 16       /* indirect probes we run for others at once */
#define MAX_SEEDS 32
#define MAX_NREQS 4         /* outstanding NEIGHBOR requests */
#define MAX_CONFIRM 8       /* distinct suspecting nodes remembered per suspicion */
#define LHM_MAX 8           /* local health score cap: timeouts stretch up to 9x */
#define MAX_LIMIT 63        /* highest retransmit limit */
#define MAX_BUCKETS 128     /* gossip priority = hops + transmits, capped */
#define SEEN_BITS 16384     /* per generation of the seen-update filter (2 KiB) */
#define SEEN_GEN 512        /* updates per generation: < 0.1% false positives */
#define SEED_TRIES 3
#define SAMPLE_JOIN 64      /* records in a join reply, packed to fit */
#define MIN_UPDATE_BYTES 35 /* smallest encoded update (LEFT) */

enum { VIEW_NONE, VIEW_ACTIVE, VIEW_PASSIVE, VIEW_TOMB };

enum {
  MF_META_KNOWN = 1 << 0,  /* blob holds the member's current metadata */
  MF_STALE = 1 << 1,       /* a neighbour request to it went unanswered once */
  MF_PROBE_SOON = 1 << 2,  /* probe it next round (the transport lost it) */
};

typedef struct {
  gint64  start;
  guint8  n_from;
  guint64 from[MAX_CONFIRM];  /* first 8 bytes of each suspecting id */
} Suspicion;

typedef struct {
  guint8     id[ID_LEN];
  guint64    inc;
  gint64     state_since;
  char      *blob;       /* address, NUL, metadata */
  Suspicion *susp;
  guint32    index;      /* position in its view array */
  guint16    addr_len;
  guint16    meta_len;
  guint8     state;
  guint8     view;
  guint8     flags;
} Member;

/* One queued update, already encoded; kept in a list per priority (hops
 * plus transmits) so fresh news goes before the tail of old epidemics. */
typedef struct Bcast Bcast;
struct Bcast {
  Bcast  *prev, *next;
  guint8  id[ID_LEN];
  guint64 inc;
  guint16 transmits;
  guint16 len;
  guint8  kind;
  guint8  hops;
  guint8  data[];
};

typedef struct {
  gboolean used;
  gboolean regular;      /* the round's probe, as opposed to an urgent one */
  gboolean indirect_sent;
  guint8   target[ID_LEN];
  guint64  seq;
  gint64   ack_deadline;
  gint64   end;
  guint    n_req;
  guint    n_nack;
} Probe;

typedef struct {
  guint8   requester[ID_LEN];
  char    *requester_addr;
  guint8   target[ID_LEN];
  guint64  req_seq;
  guint64  our_seq;
  gint64   nack_at;
  gint64   expire;
  gboolean nacked;
} Relay;

typedef struct {
  guint8  id[ID_LEN];
  char   *addr;
  gint64  next_try;
  guint   tries;
} Seed;

typedef struct {
  gboolean used;
  guint8   id[ID_LEN];
  gint64   deadline;
} NReq;

struct _CbMembership {
  CbMembershipConfig cfg;
  guint8      self_id[ID_LEN];
  char       *self_addr;
  GBytes     *self_meta;
  guint64     inc;
  gboolean    left;
  guint64     rng;
  guint64     next_seq;

  GHashTable *members;      /* id -> Member*, owned */
  GPtrArray  *active;
  GPtrArray  *passive;
  GPtrArray  *tombs;
  GPtrArray  *suspects;
  guint       probe_idx;

  GHashTable *bcasts;       /* id -> Bcast* (freed through the buckets) */
  Bcast      *buckets[MAX_BUCKETS];
  guint       n_bcasts;
  guint       last_limit;

  /* Updates already taken as news, so that a member forgotten by the
   * bounded views cannot make its old update news again (which would keep
   * old epidemics alive).  Two Bloom generations, the older one cleared
   * when the newer one fills. */
  guint8     *seen[2];
  guint       seen_count;

  Probe       probes[MAX_PROBES];
  GPtrArray  *relays;
  GPtrArray  *seeds;
  gint64      seed_next;     /* earliest next_try among the seeds */
  NReq        nreqs[MAX_NREQS];

  GQueue      sends;
  GQueue      events;
  gboolean    warned_events;

  guint       lhm;
  gboolean    started;
  gint64      last_now;
  gint64      next_round;
  gint64      next_gossip;
  gint64      next_shuffle;
  gint64      next_tomb_check;
  gint64      next_rejoin;

  CbMembershipMessage *msg;  /* decode scratch */
  guint8     *wbuf;          /* encode scratch, max_message_bytes */
};

/* ---- small helpers ---- */

static guint64
rng_next (CbMembership *m)
{
  /* splitmix64: tiny, fast and good enough for peer selection. */
  guint64 z = (m->rng += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static guint
rng_below (CbMembership *m, guint n)
{
  return n == 0 ? 0 : (guint) (((rng_next (m) >> 32) * (guint64) n) >> 32);
}

static guint
id_hash (gconstpointer key)
{
  guint h;

  memcpy (&h, key, sizeof h);
  return h;
}

static gboolean
id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, ID_LEN) == 0;
}

static guint64
id_tag (const guint8 *id)
{
  guint64 t;

  memcpy (&t, id, sizeof t);
  return t;
}

static gboolean
is_self (CbMembership *m, const guint8 *id)
{
  return memcmp (id, m->self_id, ID_LEN) == 0;
}

static Member *
lookup (CbMembership *m, const guint8 *id)
{
  return g_hash_table_lookup (m->members, id);
}

static const char *
member_addr (const Member *mem)
{
  return mem->blob;
}

static guint
round_ms (CbMembership *m)
{
  return m->cfg.probe_interval_ms;
}

/* ---- public plain-data helpers ---- */

void
cb_member_clear (CbMember *member)
{
  g_clear_pointer (&member->addr, g_free);
  g_clear_pointer (&member->meta, g_bytes_unref);
}

void
cb_member_free (CbMember *member)
{
  if (member == NULL)
    return;
  cb_member_clear (member);
  g_free (member);
}

void
cb_membership_send_clear (CbMembershipSend *send)
{
  g_clear_pointer (&send->to_addr, g_free);
  g_clear_pointer (&send->data, g_bytes_unref);
}

void
cb_membership_event_clear (CbMembershipEvent *event)
{
  cb_member_clear (&event->member);
}

void
cb_membership_config_init (CbMembershipConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->probe_interval_ms = 300;
  cfg->ack_timeout_ms = 150;
  cfg->indirect_probes = 3;
  /* 3 s: a node stalled for 3 s is first suspected >= 0.28 s into the
   * stall, so its refutation (sent to every neighbour as it wakes) arrives
   * before the earliest timer expires. */
  cfg->suspicion_min_ms = 3000;
  cfg->suspicion_max_ms = 9000;
  cfg->suspicion_growth_ms = 250;
  cfg->suspicion_confirmations = 3;
  cfg->fanout = 3;
  cfg->gossip_interval_ms = 0;
  cfg->retransmit_mult = 4;
  cfg->max_hops = 32;
  cfg->join_hops = 2;
  /* 32 neighbours keep the active-view graph connected with overwhelming
   * probability up to 10^8 nodes; probe load does not depend on it. */
  cfg->active_view = 32;
  cfg->active_view_min = 0;
  cfg->passive_view = 256;
  cfg->shuffle_interval_ms = 1000;
  cfg->shuffle_records = 16;
  cfg->max_tombstones = 256;
  cfg->tombstone_ms = 300000;
  cfg->max_broadcasts = 256;
  cfg->max_events = 4096;
  cfg->max_message_bytes = 1400;
  cfg->join_retry_ms = 2000;
  cfg->pause_threshold_ms = 1200;
  cfg->initial_incarnation = 0;
}

static void
config_sanitize (CbMembershipConfig *c)
{
  c->probe_interval_ms = MAX (c->probe_interval_ms, 10);
  c->ack_timeout_ms = CLAMP (c->ack_timeout_ms, 1, c->probe_interval_ms - 1);
  c->indirect_probes = MIN (c->indirect_probes, 8);
  c->suspicion_min_ms = MAX (c->suspicion_min_ms, c->probe_interval_ms);
  c->suspicion_max_ms = MAX (c->suspicion_max_ms, c->suspicion_min_ms);
  c->suspicion_confirmations = MIN (c->suspicion_confirmations, MAX_CONFIRM - 1);
  c->fanout = MIN (c->fanout, 16);
  if (c->gossip_interval_ms == 0)
    c->gossip_interval_ms = c->probe_interval_ms;
  c->retransmit_mult = CLAMP (c->retransmit_mult, 1, 10);
  c->max_hops = CLAMP (c->max_hops, 1, 255);
  c->join_hops = CLAMP (c->join_hops, 1, c->max_hops);
  c->active_view = CLAMP (c->active_view, 1, 1024);
  if (c->active_view_min == 0 || c->active_view_min > c->active_view)
    c->active_view_min = MAX (1, c->active_view * 3 / 4);
  /* At least one slot each, so a member being moved is never the one
   * evicted to make room. */
  c->passive_view = CLAMP (c->passive_view, 1, 1 << 16);
  c->shuffle_interval_ms = MAX (c->shuffle_interval_ms, c->probe_interval_ms);
  c->shuffle_records = CLAMP (c->shuffle_records, 1, CB_MEMBERSHIP_MAX_ITEMS);
  c->max_tombstones = CLAMP (c->max_tombstones, 1, 1 << 16);
  c->max_broadcasts = CLAMP (c->max_broadcasts, 16, 1 << 16);
  c->max_events = MIN (c->max_events, 1 << 20);
  c->max_message_bytes = CLAMP (c->max_message_bytes, CB_MEMBERSHIP_MIN_MESSAGE_BYTES,
                                CB_MEMBERSHIP_MAX_MESSAGE_BYTES);
  c->join_retry_ms = MAX (c->join_retry_ms, c->probe_interval_ms);
  c->pause_threshold_ms = MAX (c->pause_threshold_ms, 2 * c->probe_interval_ms);
}

/* ---- events and sends ---- */

static void
member_export (const Member *mem, CbMember *out)
{
  memcpy (out->id, mem->id, ID_LEN);
  out->addr = g_strndup (mem->blob, mem->addr_len);
  out->incarnation = mem->inc;
  out->state = mem->state;
  out->meta = (mem->flags & MF_META_KNOWN)
                ? g_bytes_new (mem->blob + mem->addr_len + 1, mem->meta_len)
                : NULL;
  out->state_since_ms = mem->state_since;
}

static void
emit (CbMembership *m, CbMembershipEventType type, const Member *mem)
{
  CbMembershipEvent *ev;

  if (m->cfg.max_events == 0)
    return;
  if (m->events.length >= m->cfg.max_events)
    {
      CbMembershipEvent *old = g_queue_pop_head (&m->events);

      cb_membership_event_clear (old);
      g_free (old);
      if (!m->warned_events)
        g_warning ("membership events are not being collected; dropping the oldest "
                   "beyond %u", m->cfg.max_events);
      m->warned_events = TRUE;
    }
  ev = g_new0 (CbMembershipEvent, 1);
  ev->type = type;
  member_export (mem, &ev->member);
  g_queue_push_tail (&m->events, ev);
}

/* ---- members and views ---- */

static void
member_set_blob (Member *mem, const char *addr, gsize addr_len,
                 const guint8 *meta, gsize meta_len)
{
  char *blob = g_malloc (addr_len + 1 + meta_len);

  memcpy (blob, addr, addr_len);
  blob[addr_len] = '\0';
  if (meta_len > 0)
    memcpy (blob + addr_len + 1, meta, meta_len);
  g_free (mem->blob);
  mem->blob = blob;
  mem->addr_len = (guint16) addr_len;
  mem->meta_len = (guint16) meta_len;
}

static gboolean
member_blob_equal (const Member *mem, const char *addr, gsize addr_len,
                   const guint8 *meta, gsize meta_len)
{
  return mem->addr_len == addr_len && mem->meta_len == meta_len
         && memcmp (mem->blob, addr, addr_len) == 0
         && (meta_len == 0 || memcmp (mem->blob + addr_len + 1, meta, meta_len) == 0);
}

static GPtrArray *
view_array (CbMembership *m, guint view)
{
  switch (view)
    {
    case VIEW_ACTIVE:
      return m->active;
    case VIEW_PASSIVE:
      return m->passive;
    case VIEW_TOMB:
      return m->tombs;
    default:
      return NULL;
    }
}

static void
view_remove (CbMembership *m, Member *mem)
{
  GPtrArray *arr = view_array (m, mem->view);
  Member *last;

  if (arr == NULL)
    return;
  g_assert (mem->index < arr->len && arr->pdata[mem->index] == mem);
  last = arr->pdata[arr->len - 1];
  arr->pdata[mem->index] = last;
  last->index = mem->index;
  g_ptr_array_set_size (arr, arr->len - 1);
  mem->view = VIEW_NONE;
}

static void
view_append (CbMembership *m, Member *mem, guint view)
{
  GPtrArray *arr = view_array (m, view);

  mem->view = view;
  mem->index = arr->len;
  g_ptr_array_add (arr, mem);
}

static void
suspicion_clear (CbMembership *m, Member *mem)
{
  if (mem->susp == NULL)
    return;
  g_ptr_array_remove_fast (m->suspects, mem);
  g_clear_pointer (&mem->susp, g_free);
}

static void
nreq_clear_for (CbMembership *m, const guint8 *id)
{
  for (guint i = 0; i < MAX_NREQS; i++)
    if (m->nreqs[i].used && id_equal (m->nreqs[i].id, id))
      m->nreqs[i].used = FALSE;
}

/* Drops a member from our bounded state entirely. */
static void
forget (CbMembership *m, Member *mem)
{
  emit (m, CB_MEMBERSHIP_EVENT_FORGET, mem);
  view_remove (m, mem);
  suspicion_clear (m, mem);
  nreq_clear_for (m, mem->id);
  g_hash_table_remove (m->members, mem->id);  /* frees mem */
}

static void
member_free (gpointer p)
{
  Member *mem = p;

  g_free (mem->blob);
  g_free (mem->susp);
  g_free (mem);
}

static void send_simple (CbMembership *m, const Member *to, guint8 type, guint8 flags,
                         gboolean with_meta);

static void
to_passive (CbMembership *m, Member *mem)
{
  if (mem->view == VIEW_PASSIVE)
    return;
  view_remove (m, mem);
  /* Full: a random old entry makes room, which keeps the view a moving
   * random sample as shuffles and gossip bring new names. */
  if (m->passive->len >= m->cfg.passive_view)
    forget (m, m->passive->pdata[rng_below (m, m->passive->len)]);
  view_append (m, mem, VIEW_PASSIVE);
}

/* Moves mem into the active view; a full view first demotes a random
 * neighbour, who is told so it drops us too (views stay symmetric). */
static void
to_active (CbMembership *m, Member *mem)
{
  if (mem->view == VIEW_ACTIVE)
    return;
  /* Out of the passive view first, so making room there cannot evict it. */
  view_remove (m, mem);
  if (m->active->len >= m->cfg.active_view && m->active->len > 0)
    {
      Member *out = m->active->pdata[rng_below (m, m->active->len)];

      send_simple (m, out, CB_MEMBERSHIP_MSG_DISCONNECT, 0, FALSE);
      to_passive (m, out);
    }
  mem->flags &= ~MF_STALE;
  view_append (m, mem, VIEW_ACTIVE);
}

static void
to_tomb (CbMembership *m, Member *mem)
{
  if (mem->view == VIEW_TOMB)
    return;
  view_remove (m, mem);
  suspicion_clear (m, mem);
  nreq_clear_for (m, mem->id);
  if (m->tombs->len >= m->cfg.max_tombstones)
    {
      Member *oldest = m->tombs->pdata[0];

      for (guint i = 1; i < m->tombs->len; i++)
        {
          Member *t = m->tombs->pdata[i];
          if (t->state_since < oldest->state_since)
            oldest = t;
        }
      forget (m, oldest);
    }
  view_append (m, mem, VIEW_TOMB);
  m->next_tomb_check = MIN (m->next_tomb_check, mem->state_since + (gint64) m->cfg.tombstone_ms);
}

static Member *
member_new (CbMembership *m, const guint8 *id, guint64 inc, const char *addr,
            gsize addr_len, const guint8 *meta, gsize meta_len, gboolean meta_known,
            gint64 now)
{
  Member *mem = g_new0 (Member, 1);

  memcpy (mem->id, id, ID_LEN);
  mem->inc = inc;
  mem->state = CB_MEMBER_ALIVE;
  mem->state_since = now;
  member_set_blob (mem, addr, addr_len, meta, meta_known ? meta_len : 0);
  if (meta_known)
    mem->flags |= MF_META_KNOWN;
  g_hash_table_insert (m->members, mem->id, mem);
  return mem;
}

static guint
known_count (CbMembership *m)
{
  return m->active->len + m->passive->len + 1;
}

/* ---- broadcast queue ---- */

static guint
retransmit_limit (CbMembership *m)
{
  guint n = known_count (m) + 1, digits = 0;
  guint64 v = 1;

  while (v < n)
    {
      v *= 10;
      digits++;
    }
  return CLAMP (m->cfg.retransmit_mult * MAX (digits, 1), 1, MAX_LIMIT);
}

static guint
bucket_of (const Bcast *b)
{
  return MIN ((guint) b->hops + b->transmits, MAX_BUCKETS - 1);
}

static void
bucket_unlink (CbMembership *m, Bcast *b)
{
  if (b->prev)
    b->prev->next = b->next;
  else
    m->buckets[bucket_of (b)] = b->next;
  if (b->next)
    b->next->prev = b->prev;
  b->prev = b->next = NULL;
}

static void
bucket_push (CbMembership *m, Bcast *b)
{
  guint k = bucket_of (b);

  b->prev = NULL;
  b->next = m->buckets[k];
  if (b->next)
    b->next->prev = b;
  m->buckets[k] = b;
}

static void
bcast_free (CbMembership *m, Bcast *b)
{
  bucket_unlink (m, b);
  g_hash_table_remove (m->bcasts, b->id);
  m->n_bcasts--;
  g_free (b);
}

/* Precedence of the state an update announces: a higher incarnation wins;
 * at one incarnation suspect beats alive, dead beats suspect, left beats
 * dead. */
static guint
kind_rank (guint8 kind)
{
  return kind;  /* ALIVE 1 < SUSPECT 2 < DEAD 3 < LEFT 4 */
}

static gboolean
bcast_is_newer (const Bcast *b, guint8 kind, guint64 inc)
{
  return b == NULL || inc > b->inc || (inc == b->inc && kind_rank (kind) > kind_rank (b->kind));
}

static void
bcast_queue (CbMembership *m, const CbMembershipItem *it, guint hops)
{
  Bcast *b = g_hash_table_lookup (m->bcasts, it->id);
  gsize size;

  if (hops > m->cfg.max_hops)
    return;
  if (b != NULL)
    bcast_free (m, b);
  if (m->n_bcasts >= m->cfg.max_broadcasts)
    {
      /* Drop the update that has been sent the most. */
      for (gint t = MAX_BUCKETS - 1; t >= 0; t--)
        if (m->buckets[t] != NULL)
          {
            bcast_free (m, m->buckets[t]);
            break;
          }
    }
  size = cb_membership_update_size (it);
  b = g_malloc (sizeof (Bcast) + size);
  memcpy (b->id, it->id, ID_LEN);
  b->inc = it->incarnation;
  b->kind = it->kind;
  b->hops = (guint8) hops;
  b->transmits = 0;
  b->len = (guint16) cb_membership_update_encode (it, b->data, size);
  g_assert (b->len == size);
  g_hash_table_insert (m->bcasts, b->id, b);
  m->n_bcasts++;
  bucket_push (m, b);
}

static void
bcast_sent (CbMembership *m, Bcast *b, guint limit)
{
  bucket_unlink (m, b);
  b->transmits++;
  if (b->transmits >= limit)
    {
      g_hash_table_remove (m->bcasts, b->id);
      m->n_bcasts--;
      g_free (b);
      return;
    }
  bucket_push (m, b);
}

/* Drops updates already sent more than a lower limit allows after the
 * membership shrank. */
static void
bcast_trim (CbMembership *m)
{
  guint limit = retransmit_limit (m);

  if (limit < m->last_limit)
    for (guint t = 0; t < MAX_BUCKETS; t++)
      for (Bcast *b = m->buckets[t], *next; b != NULL; b = next)
        {
          next = b->next;
          if (b->transmits >= limit)
            bcast_free (m, b);
        }
  m->last_limit = limit;
}

static gboolean
bcast_pending (CbMembership *m)
{
  return m->n_bcasts > 0;
}

static guint64
seen_key (const guint8 *id, guint8 kind, guint64 inc)
{
  guint64 h = id_tag (id) ^ (inc * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15)) ^ ((guint64) kind << 56);

  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  h ^= h >> 33;
  return h;
}

static gboolean
seen_test_gen (const guint8 *bits, guint64 h)
{
  for (guint k = 0; k < 3; k++)
    {
      guint bit = (guint) ((h >> (k * 21)) % SEEN_BITS);
      if (!(bits[bit / 8] & (1u << (bit % 8))))
        return FALSE;
    }
  return TRUE;
}

/* Marks an update seen; returns TRUE if it (probably) was already. */
static gboolean
seen_check_add (CbMembership *m, const guint8 *id, guint8 kind, guint64 inc)
{
  guint64 h = seen_key (id, kind, inc);

  if (seen_test_gen (m->seen[0], h) || seen_test_gen (m->seen[1], h))
    return TRUE;
  if (++m->seen_count > SEEN_GEN)
    {
      guint8 *old = m->seen[1];

      memset (old, 0, SEEN_BITS / 8);
      m->seen[1] = m->seen[0];
      m->seen[0] = old;
      m->seen_count = 1;
    }
  for (guint k = 0; k < 3; k++)
    {
      guint bit = (guint) ((h >> (k * 21)) % SEEN_BITS);
      m->seen[0][bit / 8] |= (guint8) (1u << (bit % 8));
    }
  return FALSE;
}

static void
item_from_member (const Member *mem, guint8 kind, CbMembershipItem *it)
{
  memset (it, 0, sizeof *it);
  it->kind = kind;
  memcpy (it->id, mem->id, ID_LEN);
  it->incarnation = mem->inc;
  it->addr = mem->blob;
  it->addr_len = (guint8) mem->addr_len;
  it->meta = (const guint8 *) mem->blob + mem->addr_len + 1;
  it->meta_len = mem->meta_len;
}

static void
item_self (CbMembership *m, guint8 kind, CbMembershipItem *it)
{
  gsize meta_len = 0;

  memset (it, 0, sizeof *it);
  it->kind = kind;
  memcpy (it->id, m->self_id, ID_LEN);
  it->incarnation = m->inc;
  it->addr = m->self_addr;
  it->addr_len = (guint8) strlen (m->self_addr);
  it->meta = m->self_meta ? g_bytes_get_data (m->self_meta, &meta_len) : NULL;
  it->meta_len = (guint16) meta_len;
}

/* ---- message building ---- */

typedef struct {
  guint8                  type;
  guint8                  flags;
  guint64                 seq;
  const guint8           *target_id;      /* PING_REQ */
  const char             *target_addr;
  gboolean                with_meta;
  guint                   n_records;      /* view sample to include */
  const guint8           *exclude;        /* no record about this id */
  const CbMembershipItem *notice;         /* an update the receiver must see */
  gboolean                no_gossip;
} Out;

static void
add_sample (CbMembership *m, CbMembershipWriter *w, guint count,
            const guint8 *to_id, const guint8 *exclude)
{
  guint total = m->active->len + m->passive->len, picked = 0, attempts = 0;
  Member *chosen[CB_MEMBERSHIP_MAX_ITEMS];
  gboolean all = total <= count;

  count = MIN (count, CB_MEMBERSHIP_MAX_ITEMS);
  for (guint i = 0; picked < count && (all ? i < total : attempts < 3 * count); i++)
    {
      Member *mem;
      guint idx = all ? i : rng_below (m, total);
      CbMembershipItem it;
      gboolean dup = FALSE;

      attempts++;
      mem = idx < m->active->len ? m->active->pdata[idx] : m->passive->pdata[idx - m->active->len];
      if (mem->state != CB_MEMBER_ALIVE || !(mem->flags & MF_META_KNOWN))
        continue;
      if (id_equal (mem->id, to_id) || (exclude && id_equal (mem->id, exclude)))
        continue;
      for (guint j = 0; j < picked && !dup; j++)
        dup = chosen[j] == mem;
      if (dup)
        continue;
      item_from_member (mem, CB_MEMBERSHIP_UPDATE_ALIVE, &it);
      if (!cb_membership_writer_add_record (w, &it))
        break;
      chosen[picked++] = mem;
    }
}

static void
add_gossip (CbMembership *m, CbMembershipWriter *w, const guint8 *to_id)
{
  Bcast *chosen[CB_MEMBERSHIP_MAX_ITEMS];
  guint n = 0, misses = 0, limit = retransmit_limit (m);
  Bcast *b;

  /* An accusation about the receiver goes first, so it can refute. */
  b = g_hash_table_lookup (m->bcasts, to_id);
  if (b != NULL && b->kind != CB_MEMBERSHIP_UPDATE_ALIVE && b->transmits < limit
      && cb_membership_writer_add_encoded (w, b->data, b->len, b->hops))
    chosen[n++] = b;

  for (guint t = 0; t < MAX_BUCKETS; t++)
    for (b = m->buckets[t]; b != NULL; b = b->next)
      {
        gboolean dup = FALSE;

        if (n >= CB_MEMBERSHIP_MAX_ITEMS || cb_membership_writer_room (w) < MIN_UPDATE_BYTES)
          goto done;
        for (guint j = 0; j < n && !dup; j++)
          dup = chosen[j] == b;
        if (dup || b->transmits >= limit
            || (b->kind == CB_MEMBERSHIP_UPDATE_ALIVE && id_equal (b->id, to_id)))
          continue;
        if (!cb_membership_writer_add_encoded (w, b->data, b->len, b->hops))
          {
            if (++misses > 8)
              goto done;
            continue;
          }
        chosen[n++] = b;
      }
done:
  for (guint j = 0; j < n; j++)
    bcast_sent (m, chosen[j], limit);
}

static void
send_out (CbMembership *m, const guint8 *to_id, const char *to_addr, const Out *o)
{
  CbMembershipHeader h = { 0 };
  CbMembershipWriter w;
  CbMembershipSend *s;
  const Member *dest = lookup (m, to_id);
  gsize meta_len = 0;
  gboolean ok;

  h.type = o->type;
  h.flags = o->flags;
  if (dest != NULL && !(dest->flags & MF_META_KNOWN) && dest->state <= CB_MEMBER_SUSPECT)
    h.flags |= CB_MEMBERSHIP_FLAG_WANT_RECORD;
  h.incarnation = m->inc;
  h.addr = m->self_addr;
  h.addr_len = (guint8) strlen (m->self_addr);
  if (o->with_meta)
    {
      /* Even empty metadata is sent, so the receiver stops asking. */
      h.meta = m->self_meta ? g_bytes_get_data (m->self_meta, &meta_len) : NULL;
      h.meta_len = (guint16) meta_len;
      if (h.meta == NULL)
        h.meta = (const guint8 *) "";
    }
  h.seq = o->seq;
  if (o->target_id != NULL)
    {
      memcpy (h.target_id, o->target_id, ID_LEN);
      h.target_addr = o->target_addr;
      h.target_addr_len = (guint8) strlen (o->target_addr);
    }
  ok = cb_membership_writer_init (&w, m->wbuf, m->cfg.max_message_bytes, &h);
  g_assert (ok);  /* the minimum message size holds any header */
  if (o->n_records > 0)
    add_sample (m, &w, o->n_records, to_id, o->exclude);
  if (o->notice != NULL)
    cb_membership_writer_add_update (&w, o->notice);
  if (!o->no_gossip)
    add_gossip (m, &w, to_id);

  s = g_new0 (CbMembershipSend, 1);
  memcpy (s->to_id, to_id, ID_LEN);
  s->to_addr = g_strdup (to_addr);
  s->data = cb_membership_writer_finish (&w);
  g_queue_push_tail (&m->sends, s);
}

static void
send_simple (CbMembership *m, const Member *to, guint8 type, guint8 flags, gboolean with_meta)
{
  Out o = { 0 };

  o.type = type;
  o.flags = flags;
  o.with_meta = with_meta;
  send_out (m, to->id, member_addr (to), &o);
}

static void
send_ping (CbMembership *m, const guint8 *to_id, const char *to_addr, guint64 seq, guint8 flags)
{
  Out o = { 0 };

  o.type = CB_MEMBERSHIP_MSG_PING;
  o.flags = flags;
  o.seq = seq;
  send_out (m, to_id, to_addr, &o);
}

/* Sends what is queued to `count` distinct random neighbours (all of them
 * if there are no more), while anything is left to send. */
static void
push_gossip (CbMembership *m, guint count)
{
  guint n = m->active->len;
  Member *picked[16];
  guint k = 0;

  count = MIN (MIN (count, n), G_N_ELEMENTS (picked));
  /* count is tiny, so rejection sampling beats shuffling a copy. */
  for (guint tries = 0; k < count && tries < 4 * count + 8 && bcast_pending (m); tries++)
    {
      Member *mem = m->active->pdata[count == n ? k : rng_below (m, n)];
      gboolean dup = FALSE;

      for (guint j = 0; j < k && !dup; j++)
        dup = picked[j] == mem;
      if (dup)
        continue;
      picked[k++] = mem;
      send_simple (m, mem, CB_MEMBERSHIP_MSG_GOSSIP, 0, FALSE);
    }
}

/* ---- state changes ---- */

static void
queue_self (CbMembership *m, guint8 kind)
{
  CbMembershipItem it;

  item_self (m, kind, &it);
  bcast_queue (m, &it, 0);
}

/* Our arrival only matters to nodes that can hold us in their views, so the
 * announcement starts old: it dies after join_hops relays (everyone in a
 * small cloud, a neighbourhood in a big one) and yields to fresher news. */
static void
queue_join (CbMembership *m)
{
  CbMembershipItem it;

  item_self (m, CB_MEMBERSHIP_UPDATE_ALIVE, &it);
  bcast_queue (m, &it, m->cfg.max_hops - m->cfg.join_hops);
}

/* Sends our current record (or LEFT) to every neighbour as a notice, not
 * through the queue, whose transmit limit is smaller than the view.  The
 * neighbours are the nodes that probe us, i.e. the ones whose suspicion
 * timers can declare us dead. */
static void
push_self_all (CbMembership *m, guint8 kind)
{
  CbMembershipItem it;

  item_self (m, kind, &it);
  for (guint i = 0; i < m->active->len; i++)
    {
      const Member *to = m->active->pdata[i];
      Out o = { 0 };

      o.type = CB_MEMBERSHIP_MSG_GOSSIP;
      o.notice = &it;
      send_out (m, to->id, member_addr (to), &o);
    }
}

/* Someone holds an older or accusing record of us: outrank it, tell the
 * neighbours at once, and let gossip tell everyone else. */
static void
refute (CbMembership *m, guint64 seen_inc, gboolean accused)
{
  if (m->left)
    return;
  m->inc = MAX (m->inc, seen_inc) + 1;
  if (accused && m->lhm < LHM_MAX)
    m->lhm++;
  queue_self (m, CB_MEMBERSHIP_UPDATE_ALIVE);
  push_self_all (m, CB_MEMBERSHIP_UPDATE_ALIVE);
  g_debug ("refuting with incarnation %" G_GUINT64_FORMAT, m->inc);
}

static gint64
suspicion_deadline (CbMembership *m, const Member *mem)
{
  guint n = known_count (m);
  double min = m->cfg.suspicion_min_ms, max = m->cfg.suspicion_max_ms, timeout;
  guint k = m->cfg.suspicion_confirmations;
  guint c = mem->susp->n_from > 0 ? mem->susp->n_from - 1 : 0;

  /* Only the member's neighbours probe it, and its refutation reaches them
   * directly; the rest of the cloud hears both the suspicion and the
   * refutation second-hand, so it waits the longest timeout (by then the
   * neighbours have usually announced the death). */
  if (mem->view != VIEW_ACTIVE)
    return mem->susp->start + (gint64) m->cfg.suspicion_max_ms;
  if (n > 32)
    min += m->cfg.suspicion_growth_ms * log2 (n / 32.0);
  min = MIN (min, max);
  if (n < k + 2)
    k = n > 2 ? n - 2 : 0;
  if (k == 0)
    timeout = min;
  else
    {
      timeout = max - (max - min) * log (MIN (c, k) + 1.0) / log (k + 1.0);
      timeout = MAX (timeout, min);
    }
  return mem->susp->start + (gint64) timeout;
}

static gboolean
suspicion_confirm (Member *mem, const guint8 *from)
{
  guint64 tag = id_tag (from);

  for (guint i = 0; i < mem->susp->n_from; i++)
    if (mem->susp->from[i] == tag)
      return FALSE;
  if (mem->susp->n_from >= MAX_CONFIRM)
    return FALSE;
  mem->susp->from[mem->susp->n_from++] = tag;
  return TRUE;
}

static void
suspicion_start (CbMembership *m, Member *mem, const guint8 *from, gint64 now)
{
  if (mem->susp == NULL)
    {
      mem->susp = g_new0 (Suspicion, 1);
      g_ptr_array_add (m->suspects, mem);
    }
  mem->susp->start = now;
  mem->susp->n_from = 0;
  suspicion_confirm (mem, from);
}

/* ALIVE at `inc` from gossip, a record or the member itself.  Returns TRUE
 * when it is news worth relaying. */
static gboolean
apply_alive (CbMembership *m, const guint8 *id, guint64 inc, const char *addr, gsize addr_len,
             const guint8 *meta, gsize meta_len, gboolean has_meta, gint64 now, Member **out)
{
  Member *mem;

  if (out)
    *out = NULL;
  if (is_self (m, id))
    {
      if (inc > m->inc)
        refute (m, inc, FALSE);
      return FALSE;
    }
  mem = lookup (m, id);
  if (mem == NULL)
    {
      mem = member_new (m, id, inc, addr, addr_len, meta, meta_len, has_meta, now);
      to_passive (m, mem);
      emit (m, CB_MEMBERSHIP_EVENT_JOIN, mem);
      if (out)
        *out = mem;
      return TRUE;
    }
  if (out)
    *out = mem;
  if (inc > mem->inc)
    {
      gboolean was_down = mem->state != CB_MEMBER_ALIVE;
      gboolean changed;

      if (has_meta)
        changed = !member_blob_equal (mem, addr, addr_len, meta, meta_len);
      else
        changed = mem->addr_len != addr_len || memcmp (mem->blob, addr, addr_len) != 0;
      if (has_meta)
        {
          if (changed)
            member_set_blob (mem, addr, addr_len, meta, meta_len);
          mem->flags |= MF_META_KNOWN;
        }
      else
        {
          /* The member itself told us its new incarnation; its metadata may
           * have changed with it, so it is asked for again. */
          if (changed)
            member_set_blob (mem, addr, addr_len, NULL, 0);
          mem->flags &= ~MF_META_KNOWN;
        }
      mem->inc = inc;
      if (was_down)
        {
          gboolean was_tomb = mem->view == VIEW_TOMB;

          mem->state = CB_MEMBER_ALIVE;
          mem->state_since = now;
          suspicion_clear (m, mem);
          if (was_tomb)
            to_passive (m, mem);
          emit (m, CB_MEMBERSHIP_EVENT_ALIVE, mem);
        }
      else if (changed && has_meta)
        emit (m, CB_MEMBERSHIP_EVENT_UPDATE, mem);
      return TRUE;
    }
  if (inc == mem->inc && has_meta && mem->state <= CB_MEMBER_SUSPECT
      && !(mem->flags & MF_META_KNOWN))
    {
      gboolean changed = !member_blob_equal (mem, addr, addr_len, meta, meta_len);

      if (changed)
        member_set_blob (mem, addr, addr_len, meta, meta_len);
      mem->flags |= MF_META_KNOWN;
      if (changed)
        emit (m, CB_MEMBERSHIP_EVENT_UPDATE, mem);
    }
  return FALSE;
}

static gboolean
apply_suspect (CbMembership *m, const guint8 *id, guint64 inc, const guint8 *from, gint64 now)
{
  Member *mem;

  if (is_self (m, id))
    {
      if (inc >= m->inc)
        refute (m, inc, TRUE);
      return FALSE;
    }
  mem = lookup (m, id);
  if (mem == NULL)
    return bcast_is_newer (g_hash_table_lookup (m->bcasts, id), CB_MEMBERSHIP_UPDATE_SUSPECT, inc);
  switch (mem->state)
    {
    case CB_MEMBER_ALIVE:
      if (inc < mem->inc)
        return FALSE;
      mem->inc = inc;
      mem->state = CB_MEMBER_SUSPECT;
      mem->state_since = now;
      suspicion_start (m, mem, from, now);
      emit (m, CB_MEMBERSHIP_EVENT_SUSPECT, mem);
      return TRUE;
    case CB_MEMBER_SUSPECT:
      if (inc > mem->inc)
        {
          mem->inc = inc;
          suspicion_start (m, mem, from, now);
          return TRUE;
        }
      /* Another node suspects it too: an independent confirmation. */
      return inc == mem->inc && suspicion_confirm (mem, from);
    default:
      return FALSE;
    }
}

static gboolean
apply_dead (CbMembership *m, const guint8 *id, guint64 inc, gboolean left, gint64 now)
{
  Member *mem;
  guint8 kind = left ? CB_MEMBERSHIP_UPDATE_LEFT : CB_MEMBERSHIP_UPDATE_DEAD;

  if (is_self (m, id))
    {
      if (inc >= m->inc)
        refute (m, inc, !left);
      return FALSE;
    }
  mem = lookup (m, id);
  if (mem == NULL)
    return bcast_is_newer (g_hash_table_lookup (m->bcasts, id), kind, inc);
  if (inc < mem->inc)
    return FALSE;
  if (mem->state == CB_MEMBER_LEFT)
    return FALSE;
  if (mem->state == CB_MEMBER_DEAD && !left)
    {
      mem->inc = inc;
      return FALSE;
    }
  mem->inc = inc;
  mem->state = left ? CB_MEMBER_LEFT : CB_MEMBER_DEAD;
  mem->state_since = now;
  emit (m, left ? CB_MEMBERSHIP_EVENT_LEFT : CB_MEMBERSHIP_EVENT_DEAD, mem);
  to_tomb (m, mem);
  return TRUE;
}

static void
declare_dead (CbMembership *m, Member *mem, gint64 now)
{
  CbMembershipItem it;

  g_debug ("suspicion timed out: member is dead");
  item_from_member (mem, CB_MEMBERSHIP_UPDATE_DEAD, &it);
  memcpy (it.from, m->self_id, ID_LEN);
  apply_dead (m, mem->id, mem->inc, FALSE, now);
  bcast_queue (m, &it, 0);
}

static void
declare_suspect (CbMembership *m, Member *mem, gint64 now)
{
  CbMembershipItem it;

  /* Already suspected by others: our own failed probe is a confirmation,
   * worth spreading only if it is new. */
  if (!apply_suspect (m, mem->id, mem->inc, m->self_id, now))
    return;
  item_from_member (mem, CB_MEMBERSHIP_UPDATE_SUSPECT, &it);
  memcpy (it.from, m->self_id, ID_LEN);
  bcast_queue (m, &it, 0);
  /* Tell the member itself at once so it can refute (the targeted
   * piggyback puts the accusation first). */
  send_simple (m, mem, CB_MEMBERSHIP_MSG_GOSSIP, 0, FALSE);
}

/* ---- probing ---- */

static Probe *
probe_find_seq (CbMembership *m, guint64 seq)
{
  for (guint i = 0; i < MAX_PROBES; i++)
    if (m->probes[i].used && m->probes[i].seq == seq)
      return &m->probes[i];
  return NULL;
}

static Probe *
probe_find_target (CbMembership *m, const guint8 *id)
{
  for (guint i = 0; i < MAX_PROBES; i++)
    if (m->probes[i].used && id_equal (m->probes[i].target, id))
      return &m->probes[i];
  return NULL;
}

static void
send_indirect (CbMembership *m, Probe *p)
{
  const Member *target = lookup (m, p->target);
  guint n = m->active->len, want = m->cfg.indirect_probes;
  Member *picked[8];
  guint k = 0;

  p->indirect_sent = TRUE;
  if (target == NULL || n < 2 || want == 0)
    return;
  for (guint tries = 0; k < want && k < G_N_ELEMENTS (picked) && tries < 4 * want + 4; tries++)
    {
      Member *mem = m->active->pdata[rng_below (m, n)];
      gboolean dup = id_equal (mem->id, p->target) || mem->state != CB_MEMBER_ALIVE;
      Out o = { 0 };

      for (guint j = 0; j < k && !dup; j++)
        dup = picked[j] == mem;
      if (dup)
        continue;
      picked[k++] = mem;
      o.type = CB_MEMBERSHIP_MSG_PING_REQ;
      o.seq = p->seq;
      o.target_id = target->id;
      o.target_addr = member_addr (target);
      send_out (m, mem->id, member_addr (mem), &o);
    }
  p->n_req = k;
}

static guint
lhm_scale (CbMembership *m, guint ms)
{
  return ms * (1 + m->lhm);
}

static void
probe_start (CbMembership *m, Member *target, gboolean regular, gboolean skip_direct, gint64 now)
{
  Probe *p = NULL;

  for (guint i = 0; i < MAX_PROBES && p == NULL; i++)
    if (!m->probes[i].used)
      p = &m->probes[i];
  if (p == NULL)
    return;
  memset (p, 0, sizeof *p);
  p->used = TRUE;
  p->regular = regular;
  memcpy (p->target, target->id, ID_LEN);
  p->seq = m->next_seq++;
  target->flags &= ~MF_PROBE_SOON;
  if (skip_direct)
    {
      p->ack_deadline = now;
      p->end = now + lhm_scale (m, m->cfg.probe_interval_ms - m->cfg.ack_timeout_ms);
      send_indirect (m, p);
    }
  else
    {
      p->ack_deadline = now + lhm_scale (m, m->cfg.ack_timeout_ms);
      p->end = now + lhm_scale (m, m->cfg.probe_interval_ms);
      send_ping (m, target->id, member_addr (target), p->seq, 0);
    }
}

static void
probe_finish (CbMembership *m, Probe *p, gboolean acked, gint64 now)
{
  Member *target = lookup (m, p->target);

  p->used = FALSE;
  if (acked)
    {
      if (m->lhm > 0)
        m->lhm--;
      return;
    }
  /* Lifeguard: intermediaries that did not even nack suggest our own
   * messages are not getting through, so we slow down. */
  if (p->n_nack < p->n_req && m->lhm < LHM_MAX)
    m->lhm++;
  if (target != NULL && target->state <= CB_MEMBER_SUSPECT && target->view == VIEW_ACTIVE)
    declare_suspect (m, target, now);
}

static Member *
next_probe_target (CbMembership *m)
{
  guint n = m->active->len;

  if (n == 0)
    return NULL;
  for (guint i = 0; i < n; i++)
    {
      Member *mem = m->active->pdata[i];
      if (mem->flags & MF_PROBE_SOON)
        return mem;
    }
  if (m->probe_idx >= n)
    {
      /* A new round-robin pass in a fresh random order. */
      for (guint i = n - 1; i > 0; i--)
        {
          guint j = rng_below (m, i + 1);
          Member *a = m->active->pdata[i], *b = m->active->pdata[j];

          m->active->pdata[i] = b;
          b->index = i;
          m->active->pdata[j] = a;
          a->index = j;
        }
      m->probe_idx = 0;
    }
  return m->active->pdata[m->probe_idx++];
}

/* ---- view maintenance ---- */

static guint
nreq_count (CbMembership *m)
{
  guint n = 0;

  for (guint i = 0; i < MAX_NREQS; i++)
    n += m->nreqs[i].used;
  return n;
}

static gboolean
nreq_pending (CbMembership *m, const guint8 *id)
{
  for (guint i = 0; i < MAX_NREQS; i++)
    if (m->nreqs[i].used && id_equal (m->nreqs[i].id, id))
      return TRUE;
  return FALSE;
}

static void
send_join (CbMembership *m, const guint8 *id, const char *addr)
{
  Out o = { 0 };

  o.type = CB_MEMBERSHIP_MSG_JOIN;
  o.with_meta = TRUE;
  send_out (m, id, addr, &o);
}

static void
seek_neighbors (CbMembership *m, gint64 now)
{
  guint want, have = m->active->len;

  if (have >= m->cfg.active_view_min || m->passive->len == 0)
    return;
  want = MIN (m->cfg.active_view_min - have, MAX_NREQS);
  for (guint tries = 0; nreq_count (m) < want && tries < 8; tries++)
    {
      Member *c = m->passive->pdata[rng_below (m, m->passive->len)];
      Out o = { 0 };

      if (c->state != CB_MEMBER_ALIVE || nreq_pending (m, c->id))
        continue;
      for (guint i = 0; i < MAX_NREQS; i++)
        if (!m->nreqs[i].used)
          {
            m->nreqs[i].used = TRUE;
            memcpy (m->nreqs[i].id, c->id, ID_LEN);
            m->nreqs[i].deadline = now + 3 * round_ms (m);
            break;
          }
      o.type = CB_MEMBERSHIP_MSG_NEIGHBOR;
      /* With no neighbour at all we must be taken: HyParView's priority. */
      o.flags = have == 0 ? CB_MEMBERSHIP_FLAG_PRIORITY : 0;
      o.with_meta = TRUE;
      send_out (m, c->id, member_addr (c), &o);
    }
}

static void
seeds_update_next (CbMembership *m)
{
  m->seed_next = G_MAXINT64;
  for (guint i = 0; i < m->seeds->len; i++)
    m->seed_next = MIN (m->seed_next, ((Seed *) m->seeds->pdata[i])->next_try);
}

static void
seeds_tick (CbMembership *m, gint64 now)
{
  for (guint i = 0; i < m->seeds->len; i++)
    {
      Seed *s = m->seeds->pdata[i];

      if (now < s->next_try)
        continue;
      if (s->tries >= SEED_TRIES)
        {
          s->next_try = G_MAXINT64;
          continue;
        }
      s->tries++;
      s->next_try = now + m->cfg.join_retry_ms;
      send_join (m, s->id, s->addr);
    }
  /* Nobody to repair the views from and too few neighbours: maybe a few
   * nodes that only found each other.  Ask the seeds we do not hold as
   * members again (in a cloud smaller than the views that is none). */
  if (m->passive->len == 0 && m->active->len < m->cfg.active_view_min && now >= m->next_rejoin)
    {
      m->next_rejoin = now + 4 * (gint64) m->cfg.join_retry_ms;
      for (guint i = 0; i < m->seeds->len; i++)
        {
          Seed *s = m->seeds->pdata[i];
          Member *mem = lookup (m, s->id);

          if (s->next_try == G_MAXINT64 && (mem == NULL || mem->state >= CB_MEMBER_DEAD))
            {
              s->tries = 0;
              s->next_try = now;
            }
        }
      seeds_update_next (m);
      if (m->seed_next <= now)
        seeds_tick (m, now);
    }
  seeds_update_next (m);
}

static void
seed_done (CbMembership *m, const guint8 *id)
{
  for (guint i = 0; i < m->seeds->len; i++)
    {
      Seed *s = m->seeds->pdata[i];
      if (id_equal (s->id, id))
        {
          s->tries = SEED_TRIES;
          s->next_try = G_MAXINT64;
        }
    }
  seeds_update_next (m);
}

static void
seed_free (gpointer p)
{
  Seed *s = p;

  g_free (s->addr);
  g_free (s);
}

static void
relay_free (gpointer p)
{
  Relay *r = p;

  g_free (r->requester_addr);
  g_free (r);
}

static void
do_shuffle (CbMembership *m)
{
  Member *peer;
  Out o = { 0 };

  if (m->active->len == 0)
    return;
  peer = m->active->pdata[rng_below (m, m->active->len)];
  o.type = CB_MEMBERSHIP_MSG_SHUFFLE;
  o.with_meta = TRUE;
  o.n_records = m->cfg.shuffle_records;
  send_out (m, peer->id, member_addr (peer), &o);
}

/* ---- time ---- */

/* A gap far beyond any deadline means the process was stopped: the timers
 * that ran out meanwhile say nothing about the others, so they restart, and
 * as others may be about to declare us dead we refute right away to every
 * neighbour. */
static void
on_pause (CbMembership *m, gint64 now, gint64 gap)
{
  g_debug ("paused for %" G_GINT64_FORMAT " ms; restarting timers and refuting", gap);
  for (guint i = 0; i < MAX_PROBES; i++)
    m->probes[i].used = FALSE;
  g_ptr_array_set_size (m->relays, 0);
  for (guint i = 0; i < m->suspects->len; i++)
    {
      Member *mem = m->suspects->pdata[i];
      mem->susp->start += gap;
    }
  for (guint i = 0; i < MAX_NREQS; i++)
    if (m->nreqs[i].used)
      m->nreqs[i].deadline = now + 3 * round_ms (m);
  m->next_round = now + round_ms (m);
  m->next_gossip = now + m->cfg.gossip_interval_ms;
  refute (m, m->inc, FALSE);
}

static void
advance (CbMembership *m, gint64 now)
{
  if (!m->started)
    {
      m->started = TRUE;
      m->last_now = now;
      /* Random phases so nodes started together do not probe in lockstep. */
      m->next_round = now + rng_below (m, round_ms (m));
      m->next_gossip = now + rng_below (m, m->cfg.gossip_interval_ms);
      m->next_shuffle = now + round_ms (m) + rng_below (m, m->cfg.shuffle_interval_ms);
      m->next_tomb_check = G_MAXINT64;
      m->next_rejoin = now;
      return;
    }
  if (now - m->last_now > (gint64) m->cfg.pause_threshold_ms)
    on_pause (m, now, now - m->last_now);
  m->last_now = MAX (m->last_now, now);
}

/* ---- receiving ---- */

/* An update about the sender that our reply must carry; it owns copies of
 * the address and metadata because the member may change or be evicted
 * while the rest of the message is applied. */
typedef struct {
  gboolean         set;
  CbMembershipItem it;
  char             addr[CB_MEMBERSHIP_MAX_ADDR + 1];
  guint8           meta[CB_MEMBERSHIP_MAX_META];
} Notice;

static void
notice_set (CbMembership *m, Notice *n, const Member *mem, guint8 kind)
{
  item_from_member (mem, kind, &n->it);
  memcpy (n->addr, mem->blob, mem->addr_len);
  n->it.addr = n->addr;
  n->it.meta_len = (mem->flags & MF_META_KNOWN) ? mem->meta_len : 0;
  if (n->it.meta_len > 0)
    memcpy (n->meta, mem->blob + mem->addr_len + 1, n->it.meta_len);
  n->it.meta = n->meta;
  memcpy (n->it.from, m->self_id, ID_LEN);
  n->set = TRUE;
}

static Member *
handle_sender (CbMembership *m, const guint8 *from, const CbMembershipHeader *h, gint64 now,
               Notice *notice, gboolean *zombie)
{
  Member *mem = lookup (m, from);
  gboolean has_meta = (h->flags & CB_MEMBERSHIP_FLAG_HAS_META) != 0;

  notice->set = FALSE;
  *zombie = FALSE;
  if (m->left)
    return mem;
  if (mem != NULL && mem->state >= CB_MEMBER_DEAD && h->incarnation <= mem->inc)
    {
      /* It does not know it was declared dead: tell it, so it refutes. */
      notice_set (m, notice, mem, mem->state == CB_MEMBER_LEFT ? CB_MEMBERSHIP_UPDATE_LEFT
                                                               : CB_MEMBERSHIP_UPDATE_DEAD);
      *zombie = TRUE;
      return mem;
    }
  apply_alive (m, from, h->incarnation, h->addr, h->addr_len, h->meta, h->meta_len, has_meta,
               now, &mem);
  if (mem == NULL)
    return NULL;
  mem->flags &= ~MF_STALE;
  if (mem->state == CB_MEMBER_SUSPECT && h->incarnation == mem->inc)
    notice_set (m, notice, mem, CB_MEMBERSHIP_UPDATE_SUSPECT);
  else if (h->incarnation < mem->inc)
    /* We know a newer incarnation of it than it does (it restarted). */
    notice_set (m, notice, mem, CB_MEMBERSHIP_UPDATE_ALIVE);
  return mem;
}

static void
apply_updates (CbMembership *m, const CbMembershipMessage *msg, gint64 now)
{
  for (guint i = 0; i < msg->n_records; i++)
    {
      const CbMembershipItem *it = &msg->records[i];

      apply_alive (m, it->id, it->incarnation, it->addr, it->addr_len, it->meta, it->meta_len,
                   TRUE, now, NULL);
    }
  for (guint i = 0; i < msg->n_updates; i++)
    {
      const CbMembershipItem *it = &msg->updates[i];
      gboolean news = FALSE, seen;

      /* About a member we do not hold: only the filter can tell a repeat
       * (we may have held and forgotten it).  A repeat is still applied,
       * just not relayed again; a rare false positive costs one relay. */
      seen = !is_self (m, it->id) && lookup (m, it->id) == NULL
             && seen_check_add (m, it->id, it->kind, it->incarnation);
      switch (it->kind)
        {
        case CB_MEMBERSHIP_UPDATE_ALIVE:
          news = apply_alive (m, it->id, it->incarnation, it->addr, it->addr_len, it->meta,
                              it->meta_len, TRUE, now, NULL);
          break;
        case CB_MEMBERSHIP_UPDATE_SUSPECT:
          news = apply_suspect (m, it->id, it->incarnation, it->from, now);
          break;
        case CB_MEMBERSHIP_UPDATE_DEAD:
          news = apply_dead (m, it->id, it->incarnation, FALSE, now);
          break;
        case CB_MEMBERSHIP_UPDATE_LEFT:
          news = apply_dead (m, it->id, it->incarnation, TRUE, now);
          break;
        default:
          break;
        }
      if (news && !seen)
        {
          seen_check_add (m, it->id, it->kind, it->incarnation);
          bcast_queue (m, it, it->hops + 1u);
        }
    }
}

static void
reply (CbMembership *m, const guint8 *to, const char *to_addr, Out *o, const Notice *notice)
{
  o->notice = notice->set ? &notice->it : NULL;
  send_out (m, to, to_addr, o);
}

static void
handle_neighbor (CbMembership *m, const guint8 *from, Member *sender,
                 const CbMembershipHeader *h, const char *to_addr, const Notice *notice)
{
  gboolean accept = FALSE;
  Out o = { 0 };

  if (sender != NULL && sender->state == CB_MEMBER_ALIVE)
    {
      if (sender->view == VIEW_ACTIVE)
        accept = TRUE;
      else if ((h->flags & CB_MEMBERSHIP_FLAG_PRIORITY) || m->active->len < m->cfg.active_view)
        {
          to_active (m, sender);
          accept = sender->view == VIEW_ACTIVE;
        }
    }
  o.type = CB_MEMBERSHIP_MSG_NEIGHBOR_REPLY;
  o.flags = accept ? CB_MEMBERSHIP_FLAG_PRIORITY : 0;
  o.with_meta = TRUE;
  reply (m, from, to_addr, &o, notice);
}

gboolean
cb_membership_receive (CbMembership *m,
                       gint64        now_ms,
                       const guint8  from_id[32],
                       const guint8 *data,
                       gsize         len,
                       GError      **error)
{
  CbMembershipMessage *msg = m->msg;
  const CbMembershipHeader *h = &msg->h;
  Notice notice;
  gboolean zombie = FALSE, replied = FALSE;
  Member *sender;
  char from_addr[CB_MEMBERSHIP_MAX_ADDR + 1];
  Out o = { 0 };

  g_return_val_if_fail (m != NULL && from_id != NULL, FALSE);
  if (is_self (m, from_id))
    {
      g_set_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_SENDER,
                   "membership message claims to come from this node itself; "
                   "two nodes may share one identity key");
      return FALSE;
    }
  if (!cb_membership_message_decode (data, len, m->cfg.max_message_bytes, msg, error))
    return FALSE;
  advance (m, now_ms);
  memcpy (from_addr, h->addr, h->addr_len);
  from_addr[h->addr_len] = '\0';

  /* Gossip first: a refutation or new metadata of the sender rides in its
   * own message, and must count as news (and be relayed) before the header
   * tells us the same incarnation. */
  if (!m->left)
    apply_updates (m, msg, now_ms);
  sender = handle_sender (m, from_id, h, now_ms, &notice, &zombie);

  switch (h->type)
    {
    case CB_MEMBERSHIP_MSG_PING:
      if (!m->left && !zombie && sender != NULL && !(h->flags & CB_MEMBERSHIP_FLAG_INDIRECT)
          && sender->view != VIEW_ACTIVE)
        {
          /* A direct ping means the sender counts us as a neighbour. */
          if (m->active->len < m->cfg.active_view)
            to_active (m, sender);
          else
            send_simple (m, sender, CB_MEMBERSHIP_MSG_DISCONNECT, 0, FALSE);
        }
      o.type = CB_MEMBERSHIP_MSG_ACK;
      o.seq = h->seq;
      o.with_meta = (h->flags & CB_MEMBERSHIP_FLAG_WANT_RECORD) != 0;
      reply (m, from_id, from_addr, &o, &notice);
      replied = TRUE;
      break;

    case CB_MEMBERSHIP_MSG_ACK:
      {
        Probe *p = probe_find_seq (m, h->seq);

        if (p != NULL)
          probe_finish (m, p, TRUE, now_ms);
        else
          for (guint i = 0; i < m->relays->len; i++)
            {
              Relay *r = m->relays->pdata[i];

              if (r->our_seq == h->seq && id_equal (r->target, from_id))
                {
                  Out fwd = { 0 };

                  fwd.type = CB_MEMBERSHIP_MSG_ACK;
                  fwd.seq = r->req_seq;
                  send_out (m, r->requester, r->requester_addr, &fwd);
                  g_ptr_array_remove_index_fast (m->relays, i);
                  break;
                }
            }
      }
      break;

    case CB_MEMBERSHIP_MSG_NACK:
      {
        Probe *p = probe_find_seq (m, h->seq);

        if (p != NULL)
          p->n_nack++;
      }
      break;

    case CB_MEMBERSHIP_MSG_PING_REQ:
      if (!m->left && !is_self (m, h->target_id) && !id_equal (h->target_id, from_id)
          && m->relays->len < MAX_RELAYS)
        {
          Relay *r = g_new0 (Relay, 1);
          g_autofree char *target_addr = g_strndup (h->target_addr, h->target_addr_len);

          memcpy (r->requester, from_id, ID_LEN);
          r->requester_addr = g_strdup (from_addr);
          memcpy (r->target, h->target_id, ID_LEN);
          r->req_seq = h->seq;
          r->our_seq = m->next_seq++;
          r->nack_at = now_ms + MAX (1, (m->cfg.probe_interval_ms - m->cfg.ack_timeout_ms) * 6 / 10);
          r->expire = r->nack_at + m->cfg.probe_interval_ms;
          g_ptr_array_add (m->relays, r);
          send_ping (m, r->target, target_addr, r->our_seq, CB_MEMBERSHIP_FLAG_INDIRECT);
        }
      break;

    case CB_MEMBERSHIP_MSG_JOIN:
      if (m->left)
        break;
      o.type = CB_MEMBERSHIP_MSG_JOIN_REPLY;
      o.with_meta = TRUE;
      o.n_records = SAMPLE_JOIN;
      if (!zombie && sender != NULL && sender->state == CB_MEMBER_ALIVE)
        {
          if (sender->view != VIEW_ACTIVE && m->active->len < m->cfg.active_view)
            to_active (m, sender);
          if (sender->view == VIEW_ACTIVE)
            o.flags = CB_MEMBERSHIP_FLAG_PRIORITY;
        }
      reply (m, from_id, from_addr, &o, &notice);
      replied = TRUE;
      break;

    case CB_MEMBERSHIP_MSG_JOIN_REPLY:
      seed_done (m, from_id);
      if (!m->left && !zombie && sender != NULL && (h->flags & CB_MEMBERSHIP_FLAG_PRIORITY)
          && sender->state == CB_MEMBER_ALIVE)
        to_active (m, sender);
      break;

    case CB_MEMBERSHIP_MSG_NEIGHBOR:
      if (m->left)
        break;
      handle_neighbor (m, from_id, zombie ? NULL : sender, h, from_addr, &notice);
      replied = TRUE;
      break;

    case CB_MEMBERSHIP_MSG_NEIGHBOR_REPLY:
      nreq_clear_for (m, from_id);
      if (!m->left && !zombie && sender != NULL && sender->state == CB_MEMBER_ALIVE)
        {
          if (h->flags & CB_MEMBERSHIP_FLAG_PRIORITY)
            {
              if (m->active->len < m->cfg.active_view || sender->view == VIEW_ACTIVE)
                to_active (m, sender);
              else
                send_simple (m, sender, CB_MEMBERSHIP_MSG_DISCONNECT, 0, FALSE);
            }
        }
      break;

    case CB_MEMBERSHIP_MSG_DISCONNECT:
      if (sender != NULL && sender->view == VIEW_ACTIVE)
        to_passive (m, sender);
      break;

    case CB_MEMBERSHIP_MSG_SHUFFLE:
      if (m->left)
        break;
      o.type = CB_MEMBERSHIP_MSG_SHUFFLE_REPLY;
      o.with_meta = (h->flags & CB_MEMBERSHIP_FLAG_WANT_RECORD) != 0;
      o.n_records = m->cfg.shuffle_records;
      reply (m, from_id, from_addr, &o, &notice);
      replied = TRUE;
      break;

    default:
      break;
    }

  if (!replied && (notice.set || (h->flags & CB_MEMBERSHIP_FLAG_WANT_RECORD)) && !m->left)
    {
      Out g = { 0 };

      g.type = CB_MEMBERSHIP_MSG_GOSSIP;
      g.with_meta = (h->flags & CB_MEMBERSHIP_FLAG_WANT_RECORD) != 0;
      reply (m, from_id, from_addr, &g, &notice);
    }
  return TRUE;
}

/* ---- tick ---- */

static void
expire_tombs (CbMembership *m, gint64 now)
{
  gint64 next = G_MAXINT64;

  if (now < m->next_tomb_check)
    return;
  for (guint i = 0; i < m->tombs->len;)
    {
      Member *t = m->tombs->pdata[i];
      gint64 exp = t->state_since + (gint64) m->cfg.tombstone_ms;

      if (exp <= now)
        {
          forget (m, t);  /* swaps the last tomb into slot i */
          continue;
        }
      next = MIN (next, exp);
      i++;
    }
  m->next_tomb_check = next;
}

void
cb_membership_tick (CbMembership *m, gint64 now_ms)
{
  gint64 now = now_ms;

  g_return_if_fail (m != NULL);
  advance (m, now);

  /* Probes in flight. */
  for (guint i = 0; i < MAX_PROBES; i++)
    {
      Probe *p = &m->probes[i];

      if (!p->used)
        continue;
      if (lookup (m, p->target) == NULL)
        {
          p->used = FALSE;
          continue;
        }
      if (!p->indirect_sent && now >= p->ack_deadline)
        send_indirect (m, p);
      if (now >= p->end)
        probe_finish (m, p, FALSE, now);
    }

  /* Indirect probes we run for others. */
  for (guint i = 0; i < m->relays->len;)
    {
      Relay *r = m->relays->pdata[i];

      if (!r->nacked && now >= r->nack_at)
        {
          Out o = { 0 };

          o.type = CB_MEMBERSHIP_MSG_NACK;
          o.seq = r->req_seq;
          o.no_gossip = TRUE;
          send_out (m, r->requester, r->requester_addr, &o);
          r->nacked = TRUE;
        }
      if (now >= r->expire)
        {
          g_ptr_array_remove_index_fast (m->relays, i);
          continue;
        }
      i++;
    }

  /* Suspicions that ran out. */
  for (guint i = 0; i < m->suspects->len;)
    {
      Member *mem = m->suspects->pdata[i];

      if (now >= suspicion_deadline (m, mem))
        {
          declare_dead (m, mem, now);  /* removes it from suspects */
          continue;
        }
      i++;
    }

  /* Unanswered neighbour requests: a second silence drops the candidate. */
  for (guint i = 0; i < MAX_NREQS; i++)
    if (m->nreqs[i].used && now >= m->nreqs[i].deadline)
      {
        Member *c = lookup (m, m->nreqs[i].id);

        m->nreqs[i].used = FALSE;
        if (c != NULL && c->view == VIEW_PASSIVE)
          {
            if (c->flags & MF_STALE)
              forget (m, c);
            else
              c->flags |= MF_STALE;
          }
      }

  expire_tombs (m, now);

  if (!m->left && (now >= m->seed_next || m->passive->len == 0))
    seeds_tick (m, now);

  if (now >= m->next_round)
    {
      Probe *regular = NULL;

      for (guint i = 0; i < MAX_PROBES; i++)
        if (m->probes[i].used && m->probes[i].regular)
          regular = &m->probes[i];
      m->next_round += round_ms (m);
      if (m->next_round <= now)
        m->next_round = now + round_ms (m);
      if (!m->left)
        {
          if (regular != NULL)
            m->next_round = MAX (m->next_round, regular->end);
          else
            {
              Member *target = next_probe_target (m);

              if (target != NULL)
                probe_start (m, target, TRUE, FALSE, now);
            }
          seek_neighbors (m, now);
        }
      bcast_trim (m);
    }

  if (now >= m->next_gossip)
    {
      m->next_gossip += m->cfg.gossip_interval_ms;
      if (m->next_gossip <= now)
        m->next_gossip = now + m->cfg.gossip_interval_ms;
      if (bcast_pending (m))
        push_gossip (m, m->cfg.fanout);
    }

  if (now >= m->next_shuffle)
    {
      /* Jittered so shuffles of different nodes spread out; once the
       * passive view is full they only keep it fresh, and each one evicts
       * members (FORGET events), so they slow down. */
      guint interval = m->cfg.shuffle_interval_ms;

      if (m->passive->len >= m->cfg.passive_view)
        interval *= 5;
      m->next_shuffle = now + interval / 2 + rng_below (m, interval);
      if (!m->left)
        do_shuffle (m);
    }
}

gint64
cb_membership_next_deadline (CbMembership *m)
{
  gint64 d;

  g_return_val_if_fail (m != NULL, 0);
  if (!m->started)
    return 0;
  d = MIN (m->next_round, m->next_shuffle);
  if (bcast_pending (m))
    d = MIN (d, m->next_gossip);
  d = MIN (d, m->next_tomb_check);
  for (guint i = 0; i < MAX_PROBES; i++)
    if (m->probes[i].used)
      d = MIN (d, m->probes[i].indirect_sent ? m->probes[i].end : m->probes[i].ack_deadline);
  for (guint i = 0; i < m->relays->len; i++)
    {
      Relay *r = m->relays->pdata[i];
      d = MIN (d, r->nacked ? r->expire : r->nack_at);
    }
  for (guint i = 0; i < m->suspects->len; i++)
    d = MIN (d, suspicion_deadline (m, m->suspects->pdata[i]));
  for (guint i = 0; i < MAX_NREQS; i++)
    if (m->nreqs[i].used)
      d = MIN (d, m->nreqs[i].deadline);
  if (!m->left)
    d = MIN (d, m->seed_next);
  return d;
}

/* ---- public API ---- */

CbMembership *
cb_membership_new (const CbMembershipConfig *cfg,
                   const guint8              self_id[32],
                   const char               *self_addr,
                   GBytes                   *self_meta,
                   guint64                   rng_seed)
{
  CbMembership *m;

  g_return_val_if_fail (self_id != NULL, NULL);
  g_return_val_if_fail (cb_membership_addr_valid (self_addr), NULL);
  g_return_val_if_fail (self_meta == NULL || g_bytes_get_size (self_meta) <= CB_MEMBERSHIP_MAX_META,
                        NULL);

  m = g_new0 (CbMembership, 1);
  if (cfg != NULL)
    m->cfg = *cfg;
  else
    cb_membership_config_init (&m->cfg);
  config_sanitize (&m->cfg);
  memcpy (m->self_id, self_id, ID_LEN);
  m->self_addr = g_strdup (self_addr);
  m->self_meta = self_meta ? g_bytes_ref (self_meta) : NULL;
  m->inc = m->cfg.initial_incarnation;
  m->rng = rng_seed ^ id_tag (self_id);
  m->next_seq = 1 + (rng_next (m) & 0xffff);
  m->members = g_hash_table_new_full (id_hash, id_equal, NULL, member_free);
  m->active = g_ptr_array_new ();
  m->passive = g_ptr_array_new ();
  m->tombs = g_ptr_array_new ();
  m->suspects = g_ptr_array_new ();
  m->bcasts = g_hash_table_new (id_hash, id_equal);
  m->relays = g_ptr_array_new_with_free_func (relay_free);
  m->seeds = g_ptr_array_new_with_free_func (seed_free);
  g_queue_init (&m->sends);
  g_queue_init (&m->events);
  m->seen[0] = g_malloc0 (SEEN_BITS / 8);
  m->seen[1] = g_malloc0 (SEEN_BITS / 8);
  m->msg = g_new (CbMembershipMessage, 1);
  m->wbuf = g_malloc (m->cfg.max_message_bytes);
  m->next_tomb_check = G_MAXINT64;
  m->seed_next = G_MAXINT64;
  /* Our own join announcement goes out with the first messages. */
  queue_join (m);
  return m;
}

void
cb_membership_free (CbMembership *m)
{
  gpointer p;

  if (m == NULL)
    return;
  for (guint t = 0; t < MAX_BUCKETS; t++)
    while (m->buckets[t] != NULL)
      bcast_free (m, m->buckets[t]);
  g_hash_table_destroy (m->bcasts);
  g_ptr_array_unref (m->active);
  g_ptr_array_unref (m->passive);
  g_ptr_array_unref (m->tombs);
  g_ptr_array_unref (m->suspects);
  g_hash_table_destroy (m->members);
  g_ptr_array_unref (m->relays);
  g_ptr_array_unref (m->seeds);
  while ((p = g_queue_pop_head (&m->sends)) != NULL)
    {
      cb_membership_send_clear (p);
      g_free (p);
    }
  while ((p = g_queue_pop_head (&m->events)) != NULL)
    {
      cb_membership_event_clear (p);
      g_free (p);
    }
  g_free (m->seen[0]);
  g_free (m->seen[1]);
  g_free (m->msg);
  g_free (m->wbuf);
  g_free (m->self_addr);
  g_clear_pointer (&m->self_meta, g_bytes_unref);
  g_free (m);
}

void
cb_membership_set_meta (CbMembership *m, GBytes *meta, gint64 now_ms)
{
  g_return_if_fail (m != NULL);
  g_return_if_fail (meta == NULL || g_bytes_get_size (meta) <= CB_MEMBERSHIP_MAX_META);
  advance (m, now_ms);
  g_clear_pointer (&m->self_meta, g_bytes_unref);
  m->self_meta = meta ? g_bytes_ref (meta) : NULL;
  if (m->left)
    return;
  m->inc++;
  queue_self (m, CB_MEMBERSHIP_UPDATE_ALIVE);
  push_gossip (m, m->cfg.fanout);
}

void
cb_membership_set_addr (CbMembership *m, const char *addr, gint64 now_ms)
{
  g_return_if_fail (m != NULL);
  g_return_if_fail (cb_membership_addr_valid (addr));
  advance (m, now_ms);
  g_free (m->self_addr);
  m->self_addr = g_strdup (addr);
  if (m->left)
    return;
  m->inc++;
  queue_self (m, CB_MEMBERSHIP_UPDATE_ALIVE);
  push_gossip (m, m->cfg.fanout);
}

void
cb_membership_add_seed (CbMembership *m, const guint8 id[32], const char *addr, gint64 now_ms)
{
  Member *mem;
  Seed *s = NULL;

  g_return_if_fail (m != NULL && id != NULL);
  g_return_if_fail (cb_membership_addr_valid (addr));
  advance (m, now_ms);
  if (is_self (m, id) || m->left)
    return;
  mem = lookup (m, id);
  if (mem != NULL && mem->state <= CB_MEMBER_SUSPECT)
    return;
  for (guint i = 0; i < m->seeds->len && s == NULL; i++)
    if (id_equal (((Seed *) m->seeds->pdata[i])->id, id))
      s = m->seeds->pdata[i];
  if (s == NULL)
    {
      if (m->seeds->len >= MAX_SEEDS)
        g_ptr_array_remove_index (m->seeds, 0);
      s = g_new0 (Seed, 1);
      memcpy (s->id, id, ID_LEN);
      g_ptr_array_add (m->seeds, s);
    }
  g_free (s->addr);
  s->addr = g_strdup (addr);
  s->tries = 1;
  s->next_try = now_ms + m->cfg.join_retry_ms;
  seeds_update_next (m);
  send_join (m, id, addr);
}

void
cb_membership_peer_unreachable (CbMembership *m, const guint8 id[32], gint64 now_ms)
{
  Member *mem;
  Probe *p;

  g_return_if_fail (m != NULL && id != NULL);
  advance (m, now_ms);
  for (guint i = 0; i < m->seeds->len; i++)
    if (id_equal (((Seed *) m->seeds->pdata[i])->id, id))
      {
        Seed *s = m->seeds->pdata[i];
        s->next_try = G_MAXINT64;
        s->tries = SEED_TRIES;
      }
  seeds_update_next (m);
  mem = lookup (m, id);
  if (mem == NULL || m->left)
    return;
  if (nreq_pending (m, id))
    {
      nreq_clear_for (m, id);
      if (mem->view == VIEW_PASSIVE)
        {
          forget (m, mem);
          return;
        }
    }
  if (mem->view == VIEW_PASSIVE && mem->state == CB_MEMBER_ALIVE)
    {
      forget (m, mem);
      return;
    }
  if (mem->view != VIEW_ACTIVE)
    return;
  p = probe_find_target (m, id);
  if (p != NULL)
    {
      if (!p->indirect_sent)
        {
          p->ack_deadline = now_ms;
          p->end = MIN (p->end, now_ms + lhm_scale (m, m->cfg.probe_interval_ms
                                                         - m->cfg.ack_timeout_ms));
          send_indirect (m, p);
        }
      return;
    }
  if (mem->state == CB_MEMBER_ALIVE)
    probe_start (m, mem, FALSE, TRUE, now_ms);
  else
    mem->flags |= MF_PROBE_SOON;
}

void
cb_membership_leave (CbMembership *m, gint64 now_ms)
{
  g_return_if_fail (m != NULL);
  advance (m, now_ms);
  if (m->left)
    return;
  m->inc++;
  queue_self (m, CB_MEMBERSHIP_UPDATE_LEFT);
  push_self_all (m, CB_MEMBERSHIP_UPDATE_LEFT);
  m->left = TRUE;
  for (guint i = 0; i < MAX_PROBES; i++)
    m->probes[i].used = FALSE;
}

gboolean
cb_membership_pop_send (CbMembership *m, CbMembershipSend *out)
{
  CbMembershipSend *s;

  g_return_val_if_fail (m != NULL && out != NULL, FALSE);
  s = g_queue_pop_head (&m->sends);
  if (s == NULL)
    return FALSE;
  *out = *s;
  g_free (s);
  return TRUE;
}

gboolean
cb_membership_pop_event (CbMembership *m, CbMembershipEvent *out)
{
  CbMembershipEvent *ev;

  g_return_val_if_fail (m != NULL && out != NULL, FALSE);
  ev = g_queue_pop_head (&m->events);
  if (ev == NULL)
    return FALSE;
  *out = *ev;
  g_free (ev);
  return TRUE;
}

GPtrArray *
cb_membership_get_members (CbMembership *m)
{
  GPtrArray *arr;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (m != NULL, NULL);
  arr = g_ptr_array_new_full (g_hash_table_size (m->members), (GDestroyNotify) cb_member_free);
  g_hash_table_iter_init (&iter, m->members);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      CbMember *out = g_new0 (CbMember, 1);

      member_export (value, out);
      g_ptr_array_add (arr, out);
    }
  return arr;
}

guint
cb_membership_count_alive (CbMembership *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->active->len + m->passive->len;
}

guint64
cb_membership_get_incarnation (CbMembership *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->inc;
}

guint
cb_membership_active_count (CbMembership *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->active->len;
}

gboolean
cb_membership_is_active (CbMembership *m, const guint8 id[32])
{
  Member *mem;

  g_return_val_if_fail (m != NULL && id != NULL, FALSE);
  mem = lookup (m, id);
  return mem != NULL && mem->view == VIEW_ACTIVE;
}

gboolean
cb_membership_member_state (CbMembership  *m,
                            const guint8   id[32],
                            CbMemberState *state,
                            guint64       *incarnation)
{
  Member *mem;

  g_return_val_if_fail (m != NULL && id != NULL, FALSE);
  mem = lookup (m, id);
  if (mem == NULL)
    return FALSE;
  if (state)
    *state = mem->state;
  if (incarnation)
    *incarnation = mem->inc;
  return TRUE;
}

gboolean
cb_membership_lookup (CbMembership *m, const guint8 id[32], CbMember *out)
{
  Member *mem;

  g_return_val_if_fail (m != NULL && id != NULL && out != NULL, FALSE);
  mem = lookup (m, id);
  if (mem == NULL)
    return FALSE;
  member_export (mem, out);
  return TRUE;
}
