/* cb-dbset-sim.c: the db-set simulator (see cb-dbset-sim.h) */
#define G_LOG_DOMAIN "cb-dbset-sim"

#include "cb-dbset-sim.h"

#include <string.h>

#define SYSTEM "sim/dbset"

typedef enum {
  EV_TICK,
  EV_DELIVER,        /* a directory message */
  EV_QUERY_ARRIVE,   /* a query request reaches a contact */
  EV_QUERY_ANSWER,   /* its answer reaches the querier */
  EV_QUERY_TIMEOUT,
} EventType;

typedef struct {
  gint64    at;
  guint64   seq;
  EventType type;
  guint     node;     /* where it happens */
  guint     from;
  GBytes   *data;
  guint     slot;     /* queries */
  guint     attempt;
} Event;

typedef struct {
  CbDbSets *dbsets;
  guint8    id[32];
  char      addr[16];
  guint64   hash;
  gboolean  started;
  gboolean  dead;
  gint64    tick_at;
} Node;

typedef struct {
  CbDbSetId set;
  guint     contact;
  guint     attempt;
  gboolean  done;
} Slot;

struct _CbDbSetSim {
  CbDbSetSimConfig cfg;
  Node            *nodes;
  GArray          *heap;      /* Event */
  GArray          *qheap;     /* Event: a query's own, so background gossip waits */
  guint64          seq;
  gint64           now;
  GRand           *rand;
  guint64          messages;
  guint64          bytes;
  guint64          decode_errors;
  /* The query in progress. */
  guint            querier;
  GArray          *slots;     /* Slot */
  guint            open_slots;
  guint            query_messages;
  gint64           query_last;
};

void
cb_dbset_sim_config_init (CbDbSetSimConfig *cfg,
                          guint             n_nodes)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->n_nodes = n_nodes;
  cfg->seed = 42;
  cfg->latency_min_ms = 45;
  cfg->latency_max_ms = 55;
  cfg->bootstrap_hosts = 3;
  cfg->query_timeout_ms = 300;
  cb_dbsets_config_init (&cfg->dbsets);
}

/* ---- the heap ---- */

static gboolean
before (const Event *a, const Event *b)
{
  return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
push_to (CbDbSetSim *sim, GArray *heap, Event ev)
{
  Event *h;
  guint i;

  ev.seq = sim->seq++;
  g_array_append_val (heap, ev);
  h = (Event *) heap->data;
  for (i = heap->len - 1; i > 0 && before (&h[i], &h[(i - 1) / 2]); i = (i - 1) / 2)
    {
      Event t = h[i];
      h[i] = h[(i - 1) / 2];
      h[(i - 1) / 2] = t;
    }
}

static void
push (CbDbSetSim *sim, Event ev)
{
  /* Query events go to the query's heap: while a query runs, time moves
   * only for it (the sets are formed; gossip would only cost run time). */
  push_to (sim, ev.type >= EV_QUERY_ARRIVE ? sim->qheap : sim->heap, ev);
}

static gboolean
pop_from (GArray *heap, Event *out)
{
  Event *h = (Event *) heap->data;
  guint n = heap->len, i = 0;

  if (n == 0)
    return FALSE;
  *out = h[0];
  h[0] = h[n - 1];
  g_array_set_size (heap, n - 1);
  n--;
  for (;;)
    {
      guint l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && before (&h[l], &h[m]))
        m = l;
      if (r < n && before (&h[r], &h[m]))
        m = r;
      if (m == i)
        break;
      Event t = h[i];
      h[i] = h[m];
      h[m] = t;
      i = m;
    }
  return TRUE;
}

static gboolean
pop (CbDbSetSim *sim, Event *out)
{
  return pop_from (sim->heap, out);
}

static gint64
latency (CbDbSetSim *sim)
{
  return g_rand_int_range (sim->rand, (gint32) sim->cfg.latency_min_ms,
                           (gint32) sim->cfg.latency_max_ms + 1);
}

static guint
index_of (const guint8 id[32])
{
  guint32 v;

  memcpy (&v, id, 4);
  return GUINT32_FROM_LE (v);
}

/* ---- nodes ---- */

static void
schedule_tick (CbDbSetSim *sim, guint i)
{
  Node *node = &sim->nodes[i];
  gint64 at = MAX (sim->now, cb_dbsets_next_deadline (node->dbsets));

  if (node->dead || (node->tick_at != 0 && node->tick_at <= at))
    return;
  node->tick_at = at;
  push (sim, (Event) { .at = at, .type = EV_TICK, .node = i });
}

static void
flush_sends (CbDbSetSim *sim, guint i)
{
  Node *node = &sim->nodes[i];
  CbDbSetSend send;

  while (cb_dbsets_pop_send (node->dbsets, &send))
    {
      guint to = index_of (send.to_id);

      sim->messages++;
      sim->bytes += g_bytes_get_size (send.data);
      if (to < sim->cfg.n_nodes)
        push (sim, (Event) { .at = sim->now + latency (sim), .type = EV_DELIVER, .node = to,
                             .from = i, .data = g_bytes_ref (send.data) });
      cb_dbset_send_clear (&send);
    }
  schedule_tick (sim, i);
}

static void
start_node (CbDbSetSim *sim, guint i)
{
  Node *node = &sim->nodes[i];

  node->started = TRUE;
  /* Bootstrap hosts: random earlier nodes, as read from a published list. */
  for (guint k = 0; k < sim->cfg.bootstrap_hosts && i > 0; k++)
    {
      guint j = (guint) g_rand_int_range (sim->rand, 0, (gint32) i);
      cb_dbsets_host_seen (node->dbsets, sim->nodes[j].id, sim->nodes[j].addr, sim->now);
    }
  cb_dbsets_tick (node->dbsets, sim->now);
  flush_sends (sim, i);
}

/* ---- queries ---- */

static void
ask_slot (CbDbSetSim *sim, guint s)
{
  Slot *slot = &g_array_index (sim->slots, Slot, s);
  guint at = slot->contact;

  sim->query_messages++;
  push (sim, (Event) { .at = sim->now + latency (sim), .type = EV_QUERY_ARRIVE, .node = at,
                       .from = sim->querier, .slot = s, .attempt = slot->attempt });
  push (sim, (Event) { .at = sim->now + sim->cfg.query_timeout_ms, .type = EV_QUERY_TIMEOUT,
                       .node = sim->querier, .slot = s, .attempt = slot->attempt });
}

static void
close_slot (CbDbSetSim *sim, Slot *slot)
{
  slot->done = TRUE;
  sim->open_slots--;
  sim->query_last = sim->now;
}

static void
handle (CbDbSetSim *sim, Event *ev)
{
  Node *node = &sim->nodes[ev->node];

  sim->now = MAX (sim->now, ev->at);
  switch (ev->type)
    {
    case EV_TICK:
      if (node->dead || ev->at != node->tick_at)
        break;
      node->tick_at = 0;
      if (!node->started)
        start_node (sim, ev->node);
      else
        {
          cb_dbsets_tick (node->dbsets, sim->now);
          flush_sends (sim, ev->node);
        }
      break;
    case EV_DELIVER:
      if (!node->dead && node->started)
        {
          g_auto(CbDbSetMessage) message = { 0 };
          gsize len;
          const guint8 *data = g_bytes_get_data (ev->data, &len);

          if (cb_dbset_decode (data, len, &message, NULL))
            cb_dbsets_receive (node->dbsets, sim->nodes[ev->from].id, &message, sim->now);
          else
            sim->decode_errors++;
          flush_sends (sim, ev->node);
        }
      g_bytes_unref (ev->data);
      break;
    case EV_QUERY_ARRIVE:
      if (!node->dead && sim->slots != NULL)
        {
          sim->query_messages++;
          push (sim, (Event) { .at = sim->now + latency (sim), .type = EV_QUERY_ANSWER,
                               .node = ev->from, .slot = ev->slot, .attempt = ev->attempt });
        }
      break;
    case EV_QUERY_ANSWER:
      if (sim->slots != NULL && ev->slot < sim->slots->len)
        {
          Slot *slot = &g_array_index (sim->slots, Slot, ev->slot);
          if (!slot->done && slot->attempt == ev->attempt)
            close_slot (sim, slot);
        }
      break;
    case EV_QUERY_TIMEOUT:
      if (sim->slots != NULL && ev->slot < sim->slots->len)
        {
          Slot *slot = &g_array_index (sim->slots, Slot, ev->slot);
          CbDbSets *q = sim->nodes[sim->querier].dbsets;
          CbDbSetTarget *next;

          if (slot->done || slot->attempt != ev->attempt)
            break;
          cb_dbsets_host_gone (q, sim->nodes[slot->contact].id);
          next = cb_dbsets_pick_contact (q, slot->set);
          if (next == NULL)
            {
              close_slot (sim, slot);
              break;
            }
          slot->contact = index_of (next->id);
          slot->attempt++;
          cb_dbset_target_free (next);
          ask_slot (sim, ev->slot);
        }
      break;
    }
}

void
cb_dbset_sim_query (CbDbSetSim      *sim,
                    guint            node,
                    guint            n_sets,
                    CbDbSetSimQuery *out)
{
  g_autoptr(GPtrArray) targets = cb_dbsets_pick_query_targets (sim->nodes[node].dbsets, n_sets);
  gint64 start = sim->now;
  guint answered = 0;
  Event ev;

  sim->querier = node;
  sim->slots = g_array_new (FALSE, TRUE, sizeof (Slot));
  sim->query_messages = 0;
  sim->query_last = start;
  for (guint i = 0; i < targets->len; i++)
    {
      CbDbSetTarget *t = targets->pdata[i];
      Slot slot = { t->set, index_of (t->id), 0, FALSE };
      g_array_append_val (sim->slots, slot);
    }
  sim->open_slots = sim->slots->len;
  for (guint i = 0; i < sim->slots->len; i++)
    ask_slot (sim, i);
  while (sim->open_slots > 0 && pop_from (sim->qheap, &ev))
    handle (sim, &ev);
  /* What is left of it (answers after the last slot closed) is dropped. */
  g_array_set_size (sim->qheap, 0);
  for (guint i = 0; i < sim->slots->len; i++)
    {
      Slot *slot = &g_array_index (sim->slots, Slot, i);
      /* A slot closed by giving up ran out of contacts. */
      if (!sim->nodes[slot->contact].dead)
        answered++;
    }
  out->sets_asked = sim->slots->len;
  out->sets_answered = answered;
  out->messages = sim->query_messages;
  out->took_ms = sim->query_last - start;
  g_clear_pointer (&sim->slots, g_array_unref);
}

/* ---- running ---- */

void
cb_dbset_sim_run_until (CbDbSetSim *sim,
                        gint64      t_ms)
{
  Event ev;

  while (sim->heap->len > 0 && g_array_index (sim->heap, Event, 0).at <= t_ms && pop (sim, &ev))
    handle (sim, &ev);
  sim->now = MAX (sim->now, t_ms);
}

void
cb_dbset_sim_start_first (CbDbSetSim *sim,
                          guint       count,
                          guint       spread_ms)
{
  count = MIN (count, sim->cfg.n_nodes);
  for (guint i = 0; i < count; i++)
    {
      gint64 at = sim->now + (gint64) spread_ms * i / MAX (1u, count);

      sim->nodes[i].tick_at = at;
      push (sim, (Event) { .at = at, .type = EV_TICK, .node = i });
    }
}

void
cb_dbset_sim_start_all (CbDbSetSim *sim,
                        guint       spread_ms)
{
  cb_dbset_sim_start_first (sim, sim->cfg.n_nodes, spread_ms);
}

void
cb_dbset_sim_start_node (CbDbSetSim *sim,
                         guint       node)
{
  g_return_if_fail (!sim->nodes[node].started);
  sim->nodes[node].tick_at = sim->now;
  push (sim, (Event) { .at = sim->now, .type = EV_TICK, .node = node });
}

double
cb_dbset_sim_known_by_set (CbDbSetSim *sim,
                           guint       node)
{
  CbDbSetId own = cb_dbsets_get_own_set (sim->nodes[node].dbsets);
  guint members = 0, knowing = 0;

  for (guint j = 0; j < sim->cfg.n_nodes; j++)
    {
      Node *other = &sim->nodes[j];

      if (j == node || !cb_dbset_sim_is_up (sim, j)
          || (own.level > 0 && other->hash >> (64 - own.level) != own.prefix))
        continue;
      members++;
      if (cb_dbsets_lookup_addr (other->dbsets, sim->nodes[node].id) != NULL)
        knowing++;
    }
  return members > 0 ? (double) knowing / members : 0;
}

gint64
cb_dbset_sim_now (CbDbSetSim *sim)
{
  return sim->now;
}

CbDbSets *
cb_dbset_sim_node (CbDbSetSim *sim,
                   guint       node)
{
  return sim->nodes[node].dbsets;
}

void
cb_dbset_sim_kill (CbDbSetSim *sim,
                   guint       node)
{
  sim->nodes[node].dead = TRUE;
}

gboolean
cb_dbset_sim_is_up (CbDbSetSim *sim,
                    guint       node)
{
  return sim->nodes[node].started && !sim->nodes[node].dead;
}

/* ---- truth ---- */

static int
compare_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

/* Live nodes whose hash has the set's prefix: a range of the sorted hashes. */
static guint
real_set_size (const guint64 *sorted, guint n, CbDbSetId set)
{
  guint64 lo, hi;
  guint a = 0, b = n, c;

  if (set.level == 0)
    return n;
  lo = set.prefix << (64 - set.level);
  hi = lo | (G_MAXUINT64 >> set.level);
  while (a < b)
    {
      c = a + (b - a) / 2;
      if (sorted[c] < lo) a = c + 1; else b = c;
    }
  c = a;
  b = n;
  while (a < b)
    {
      guint m = a + (b - a) / 2;
      if (sorted[m] <= hi) a = m + 1; else b = m;
    }
  return a - c;
}

void
cb_dbset_sim_stats (CbDbSetSim      *sim,
                    CbDbSetSimStats *st)
{
  g_autofree guint64 *sorted = g_new (guint64, sim->cfg.n_nodes);
  g_autoptr(GHashTable) sets = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint live = 0, formed = 0;
  double known = 0;
  guint64 tracked = 0, state = 0;

  memset (st, 0, sizeof *st);
  st->level_min = G_MAXUINT;
  st->min_tracked = G_MAXUINT;
  st->smallest_set = G_MAXUINT;
  for (guint i = 0; i < sim->cfg.n_nodes; i++)
    if (cb_dbset_sim_is_up (sim, i))
      sorted[live++] = sim->nodes[i].hash;
  qsort (sorted, live, sizeof (guint64), compare_u64);
  g_array_set_size (keys, sim->cfg.n_nodes);
  for (guint i = 0; i < sim->cfg.n_nodes; i++)
    {
      CbDbSets *d = sim->nodes[i].dbsets;
      CbDbSetId own;
      guint real, k, t;
      gsize bytes;
      guint64 *key;

      if (!cb_dbset_sim_is_up (sim, i))
        continue;
      own = cb_dbsets_get_own_set (d);
      real = real_set_size (sorted, live, own);
      k = MIN (cb_dbsets_count_own (d), real);
      known += (double) k / real;
      if (k * 100 >= real * 95)
        formed++;
      st->level_min = MIN (st->level_min, own.level);
      st->level_max = MAX (st->level_max, own.level);
      t = cb_dbsets_count_tracked (d);
      st->min_tracked = MIN (st->min_tracked, t);
      tracked += t;
      bytes = cb_dbsets_state_bytes (d);
      st->max_state_bytes = MAX (st->max_state_bytes, bytes);
      state += bytes;
      key = &g_array_index (keys, guint64, i);
      *key = ((guint64) own.level << 56) | own.prefix;
      if (!g_hash_table_contains (sets, key))
        {
          g_hash_table_add (sets, key);
          st->smallest_set = MIN (st->smallest_set, real);
          st->largest_set = MAX (st->largest_set, real);
        }
    }
  if (live == 0)
    return;
  st->formed = (double) formed / live;
  st->mean_own_known = known / live;
  st->mean_tracked = (guint) (tracked / live);
  st->mean_state_bytes = (gsize) (state / live);
  st->sets = g_hash_table_size (sets);
}

guint64
cb_dbset_sim_messages (CbDbSetSim *sim)
{
  return sim->messages;
}

guint64
cb_dbset_sim_bytes (CbDbSetSim *sim)
{
  return sim->bytes;
}

void
cb_dbset_sim_reset_counters (CbDbSetSim *sim)
{
  sim->messages = 0;
  sim->bytes = 0;
}

guint64
cb_dbset_sim_decode_errors (CbDbSetSim *sim)
{
  return sim->decode_errors;
}

/* ---- life ---- */

CbDbSetSim *
cb_dbset_sim_new (const CbDbSetSimConfig *cfg)
{
  CbDbSetSim *sim = g_new0 (CbDbSetSim, 1);

  sim->cfg = *cfg;
  sim->rand = g_rand_new_with_seed_array ((const guint32 *) &cfg->seed, 2);
  sim->heap = g_array_new (FALSE, FALSE, sizeof (Event));
  sim->qheap = g_array_new (FALSE, FALSE, sizeof (Event));
  sim->nodes = g_new0 (Node, cfg->n_nodes);
  for (guint i = 0; i < cfg->n_nodes; i++)
    {
      Node *node = &sim->nodes[i];
      guint32 le = GUINT32_TO_LE (i);

      memcpy (node->id, &le, 4);
      for (guint b = 4; b < 32; b++)
        node->id[b] = (guint8) g_rand_int (sim->rand);
      g_snprintf (node->addr, sizeof node->addr, "sim:%u", i);
      node->hash = cb_dbset_host_hash (SYSTEM, node->id);
      node->dbsets = cb_dbsets_new (SYSTEM, node->id, node->addr, &cfg->dbsets,
                                    cfg->seed * 1000003 + i);
    }
  return sim;
}

void
cb_dbset_sim_free (CbDbSetSim *sim)
{
  Event ev;

  if (sim == NULL)
    return;
  while (pop (sim, &ev))
    if (ev.data != NULL)
      g_bytes_unref (ev.data);
  for (guint i = 0; i < sim->cfg.n_nodes; i++)
    cb_dbsets_free (sim->nodes[i].dbsets);
  g_free (sim->nodes);
  g_array_unref (sim->heap);
  g_array_unref (sim->qheap);
  g_rand_free (sim->rand);
  g_free (sim);
}
