/* cb-sim.c: the discrete-event simulator described in cb-sim.h. */
#define G_LOG_DOMAIN "cb-sim"

#include "cb-sim.h"

#include <string.h>

enum { EV_DELIVER, EV_TICK, EV_START };
enum { NODE_IDLE, NODE_UP, NODE_KILLED };

typedef struct {
  gint64  t;
  guint64 seq;     /* FIFO among equal times */
  guint32 node;
  guint32 from;    /* DELIVER: sender; TICK: generation */
  guint8  type;
  gpointer data;   /* DELIVER: GBytes*; START: guint* seeds (first = count) */
} Ev;

typedef struct {
  CbMembership *m;
  gint64        tick_at;      /* pending tick time, G_MAXINT64 if none */
  gint64        stalled_until;
  guint64       bytes_sent;
  guint64       msgs_sent;
  guint32       tick_gen;
  guint16       group;
  guint8        state;
  guint8        id[32];
} Node;

struct _CbSim {
  CbSimConfig    cfg;
  Node          *nodes;
  Ev            *heap;
  gsize          heap_len, heap_cap;
  guint64        seq;
  gint64         now;
  guint64        rng;
  guint64        errors;
  CbSimEventFunc event_func;
  gpointer       event_data;
};

void
cb_sim_config_init (CbSimConfig *cfg, guint n_nodes)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->n_nodes = n_nodes;
  cfg->seed = 1;
  cfg->latency_min_ms = 1;
  cfg->latency_max_ms = 20;
  cfg->loss = 0.0;
  cfg->meta_bytes = 48;
  cb_membership_config_init (&cfg->membership);
}

static guint64
sim_rand (CbSim *sim)
{
  guint64 z = (sim->rng += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static guint
sim_below (CbSim *sim, guint n)
{
  return n == 0 ? 0 : (guint) (((sim_rand (sim) >> 32) * (guint64) n) >> 32);
}

static double
sim_unit (CbSim *sim)
{
  return (sim_rand (sim) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- heap ---- */

static gboolean
ev_less (const Ev *a, const Ev *b)
{
  return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
heap_push (CbSim *sim, Ev ev)
{
  gsize i;

  if (sim->heap_len == sim->heap_cap)
    {
      sim->heap_cap = MAX (1024, sim->heap_cap * 2);
      sim->heap = g_renew (Ev, sim->heap, sim->heap_cap);
    }
  ev.seq = sim->seq++;
  i = sim->heap_len++;
  while (i > 0)
    {
      gsize parent = (i - 1) / 2;

      if (!ev_less (&ev, &sim->heap[parent]))
        break;
      sim->heap[i] = sim->heap[parent];
      i = parent;
    }
  sim->heap[i] = ev;
}

static Ev
heap_pop (CbSim *sim)
{
  Ev top = sim->heap[0], last = sim->heap[--sim->heap_len];
  gsize i = 0, n = sim->heap_len;

  for (;;)
    {
      gsize l = 2 * i + 1, r = l + 1, best = i;
      const Ev *bestp = &last;

      if (l < n && ev_less (&sim->heap[l], bestp))
        {
          best = l;
          bestp = &sim->heap[l];
        }
      if (r < n && ev_less (&sim->heap[r], bestp))
        best = r;
      if (best == i)
        break;
      sim->heap[i] = sim->heap[best];
      i = best;
    }
  if (n > 0)
    sim->heap[i] = last;
  return top;
}

static void
ev_free_data (Ev *ev)
{
  if (ev->type == EV_DELIVER)
    g_bytes_unref (ev->data);
  else if (ev->type == EV_START)
    g_free (ev->data);
}

/* ---- nodes ---- */

static void
make_id (CbSim *sim, guint i, guint8 id[32])
{
  guint64 x = sim->cfg.seed * G_GUINT64_CONSTANT (0x2545f4914f6cdd1d) + i;

  /* Random-looking bytes (the core hashes the first ones), with the index
   * in the last four so routing needs no table. */
  for (guint k = 0; k < 28; k += 8)
    {
      guint64 z = (x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

      z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
      z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
      z ^= z >> 31;
      memcpy (id + k, &z, MIN (8, 28 - k));
    }
  id[28] = i & 0xff;
  id[29] = (i >> 8) & 0xff;
  id[30] = (i >> 16) & 0xff;
  id[31] = (i >> 24) & 0xff;
}

guint
cb_sim_node_index (CbSim *sim, const guint8 id[32])
{
  guint i = id[28] | (id[29] << 8) | (id[30] << 16) | ((guint) id[31] << 24);

  if (i >= sim->cfg.n_nodes || memcmp (sim->nodes[i].id, id, 32) != 0)
    return G_MAXUINT;
  return i;
}

static char *
node_addr (guint i)
{
  return g_strdup_printf ("sim:%u", i);
}

CbSim *
cb_sim_new (const CbSimConfig *cfg)
{
  CbSim *sim = g_new0 (CbSim, 1);

  sim->cfg = *cfg;
  sim->cfg.latency_max_ms = MAX (sim->cfg.latency_max_ms, sim->cfg.latency_min_ms);
  sim->rng = cfg->seed ^ G_GUINT64_CONSTANT (0x5bd1e995);
  sim->nodes = g_new0 (Node, cfg->n_nodes);
  for (guint i = 0; i < cfg->n_nodes; i++)
    {
      Node *n = &sim->nodes[i];

      make_id (sim, i, n->id);
      n->tick_at = G_MAXINT64;
      n->state = NODE_IDLE;
    }
  return sim;
}

void
cb_sim_free (CbSim *sim)
{
  if (sim == NULL)
    return;
  for (gsize i = 0; i < sim->heap_len; i++)
    ev_free_data (&sim->heap[i]);
  g_free (sim->heap);
  for (guint i = 0; i < sim->cfg.n_nodes; i++)
    g_clear_pointer (&sim->nodes[i].m, cb_membership_free);
  g_free (sim->nodes);
  g_free (sim);
}

void
cb_sim_set_event_func (CbSim *sim, CbSimEventFunc func, gpointer user_data)
{
  sim->event_func = func;
  sim->event_data = user_data;
}

gint64
cb_sim_now (CbSim *sim)
{
  return sim->now;
}

guint
cb_sim_n_nodes (CbSim *sim)
{
  return sim->cfg.n_nodes;
}

CbMembership *
cb_sim_membership (CbSim *sim, guint node)
{
  g_return_val_if_fail (node < sim->cfg.n_nodes, NULL);
  return sim->nodes[node].m;
}

const guint8 *
cb_sim_node_id (CbSim *sim, guint node)
{
  g_return_val_if_fail (node < sim->cfg.n_nodes, NULL);
  return sim->nodes[node].id;
}

gboolean
cb_sim_is_up (CbSim *sim, guint node)
{
  return node < sim->cfg.n_nodes && sim->nodes[node].state == NODE_UP;
}

/* After a node ran: send its messages, report its events, schedule its
 * next tick. */
static void
node_flush (CbSim *sim, guint i)
{
  Node *n = &sim->nodes[i];
  CbMembershipSend s;
  CbMembershipEvent e;
  gint64 d;

  while (cb_membership_pop_send (n->m, &s))
    {
      guint to = cb_sim_node_index (sim, s.to_id);
      gsize size = g_bytes_get_size (s.data);

      n->bytes_sent += size;
      n->msgs_sent++;
      if (to != G_MAXUINT && sim->nodes[to].state != NODE_KILLED
          && sim->nodes[to].group == n->group
          && (sim->cfg.loss <= 0 || sim_unit (sim) >= sim->cfg.loss))
        {
          Ev ev = { 0 };

          ev.t = sim->now + sim->cfg.latency_min_ms
                 + sim_below (sim, sim->cfg.latency_max_ms - sim->cfg.latency_min_ms + 1);
          ev.type = EV_DELIVER;
          ev.node = to;
          ev.from = i;
          ev.data = g_steal_pointer (&s.data);
          heap_push (sim, ev);
        }
      cb_membership_send_clear (&s);
    }
  while (cb_membership_pop_event (n->m, &e))
    {
      if (sim->event_func)
        sim->event_func (sim, i, &e, sim->event_data);
      cb_membership_event_clear (&e);
    }
  d = cb_membership_next_deadline (n->m);
  d = MAX (d, sim->now);
  if (d < n->tick_at)
    {
      Ev ev = { 0 };

      n->tick_at = d;
      ev.t = d;
      ev.type = EV_TICK;
      ev.node = i;
      ev.from = ++n->tick_gen;
      heap_push (sim, ev);
    }
}

static void
node_start (CbSim *sim, guint i, const guint *seeds, guint n_seeds)
{
  Node *n = &sim->nodes[i];
  g_autofree char *addr = node_addr (i);
  g_autoptr(GBytes) meta = NULL;
  guint8 *buf;

  if (n->state != NODE_IDLE)
    return;
  buf = g_malloc (MAX (sim->cfg.meta_bytes, 1));
  for (guint k = 0; k < sim->cfg.meta_bytes; k++)
    buf[k] = (guint8) (i * 31 + k);
  meta = g_bytes_new_take (buf, sim->cfg.meta_bytes);
  n->m = cb_membership_new (&sim->cfg.membership, n->id, addr, meta,
                            sim->cfg.seed * 1000003u + i);
  n->state = NODE_UP;
  cb_membership_tick (n->m, sim->now);
  for (guint k = 0; k < n_seeds; k++)
    if (seeds[k] != i && seeds[k] < sim->cfg.n_nodes)
      {
        g_autofree char *seed_addr = node_addr (seeds[k]);

        cb_membership_add_seed (n->m, sim->nodes[seeds[k]].id, seed_addr, sim->now);
      }
  node_flush (sim, i);
}

void
cb_sim_start_node (CbSim *sim, guint node, gint64 at, const guint *seeds, guint n_seeds)
{
  Ev ev = { 0 };
  guint *copy = g_new (guint, n_seeds + 1);

  g_return_if_fail (node < sim->cfg.n_nodes);
  copy[0] = n_seeds;
  if (n_seeds > 0)
    memcpy (copy + 1, seeds, n_seeds * sizeof (guint));
  ev.t = MAX (at, sim->now);
  ev.type = EV_START;
  ev.node = node;
  ev.data = copy;
  heap_push (sim, ev);
}

void
cb_sim_bootstrap (CbSim *sim, guint fixed_seeds, guint seeds_each, guint spread_ms)
{
  guint n = sim->cfg.n_nodes;
  guint seeds[64];

  seeds_each = MIN (seeds_each, G_N_ELEMENTS (seeds));
  cb_sim_start_node (sim, 0, sim->now, NULL, 0);
  for (guint i = 1; i < n; i++)
    {
      guint k = 0;
      /* In index order, give or take 100 ms, so an earlier node (a seed
       * read from a list) is usually up already. */
      gint64 at = sim->now + 1 + (gint64) spread_ms * i / n + sim_below (sim, 101);

      if (i < fixed_seeds)
        seeds[k++] = 0;
      else if (fixed_seeds > 0)
        for (guint j = 0; j < MIN (seeds_each, fixed_seeds); j++)
          seeds[k++] = j;
      else
        for (guint j = 0; j < seeds_each; j++)
          seeds[k++] = sim_below (sim, i);
      /* Fixed seeds start first so later nodes find them up. */
      if (i < fixed_seeds)
        at = sim->now + i;
      cb_sim_start_node (sim, i, at, seeds, k);
    }
}

/* ---- running ---- */

static void
handle (CbSim *sim, Ev *ev)
{
  Node *n = &sim->nodes[ev->node];

  if (n->state == NODE_KILLED)
    {
      ev_free_data (ev);
      return;
    }
  if (ev->type == EV_START)
    {
      guint *seeds = ev->data;

      node_start (sim, ev->node, seeds + 1, seeds[0]);
      g_free (seeds);
      return;
    }
  if (n->state != NODE_UP)
    {
      ev_free_data (ev);
      return;
    }
  if (ev->t < n->stalled_until)
    {
      /* Stopped: it will see this when it wakes, in the same order. */
      ev->t = n->stalled_until;
      heap_push (sim, *ev);
      return;
    }
  if (ev->type == EV_TICK)
    {
      if (ev->from != n->tick_gen)
        return;  /* superseded by an earlier tick */
      n->tick_at = G_MAXINT64;
      cb_membership_tick (n->m, sim->now);
    }
  else
    {
      g_autoptr(GError) error = NULL;
      GBytes *data = ev->data;
      gsize len;
      const guint8 *p = g_bytes_get_data (data, &len);

      if (sim->nodes[ev->from].group != n->group)
        {
          g_bytes_unref (data);
          return;
        }
      if (!cb_membership_receive (n->m, sim->now, sim->nodes[ev->from].id, p, len, &error))
        {
          sim->errors++;
          g_warning ("node %u refused a message from %u: %s", ev->node, ev->from,
                     error->message);
        }
      g_bytes_unref (data);
    }
  node_flush (sim, ev->node);
}

void
cb_sim_run_until (CbSim *sim, gint64 t_ms)
{
  while (sim->heap_len > 0 && sim->heap[0].t <= t_ms)
    {
      Ev ev = heap_pop (sim);

      sim->now = ev.t;
      handle (sim, &ev);
    }
  sim->now = MAX (sim->now, t_ms);
}

void
cb_sim_run_for (CbSim *sim, gint64 ms)
{
  cb_sim_run_until (sim, sim->now + ms);
}

void
cb_sim_kill (CbSim *sim, guint node)
{
  g_return_if_fail (node < sim->cfg.n_nodes);
  sim->nodes[node].state = NODE_KILLED;
}

void
cb_sim_stall (CbSim *sim, guint node, guint ms)
{
  g_return_if_fail (node < sim->cfg.n_nodes);
  sim->nodes[node].stalled_until = sim->now + ms;
}

void
cb_sim_set_group (CbSim *sim, guint node, guint group)
{
  g_return_if_fail (node < sim->cfg.n_nodes);
  sim->nodes[node].group = (guint16) group;
}

void
cb_sim_set_loss (CbSim *sim, double loss)
{
  sim->cfg.loss = CLAMP (loss, 0.0, 1.0);
}

guint64
cb_sim_bytes_sent (CbSim *sim, guint node)
{
  return sim->nodes[node].bytes_sent;
}

guint64
cb_sim_messages_sent (CbSim *sim, guint node)
{
  return sim->nodes[node].msgs_sent;
}

void
cb_sim_reset_counters (CbSim *sim)
{
  for (guint i = 0; i < sim->cfg.n_nodes; i++)
    {
      sim->nodes[i].bytes_sent = 0;
      sim->nodes[i].msgs_sent = 0;
    }
}

guint64
cb_sim_receive_errors (CbSim *sim)
{
  return sim->errors;
}
