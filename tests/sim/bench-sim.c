/* bench-sim.c: membership at scale in the simulator, against its goals and
 * against a naive full-membership push gossip measured in the same run.
 *
 *   bench-sim [--max-n N] [--trials T] [--seed S]
 *
 * Prints, for N = 1,000 / 10,000 / 100,000 (up to --max-n): rounds and
 * virtual seconds until 99.99% of the nodes have one metadata update, the
 * same for the naive baseline and the ratio; view health; bytes per node
 * per second.  For N = 100: median and p90 dead-node detection over
 * --trials kills, false deaths with a 3 s stall and with 5% loss.  Each
 * goal is printed with "met" or "NOT MET". */
#define G_LOG_DOMAIN "cb-sim"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb-sim.h"

/* Bytes a message costs on the wire beyond its payload: IPv4 + TCP
 * headers (40), WebSocket frame header (4..8) and the secretstream tag
 * (17), rounded up. */
#define WIRE_OVERHEAD 64

typedef struct {
  guint    watch;          /* node whose record we follow */
  guint64  watch_inc;      /* incarnation that counts as informed */
  gint64  *informed_at;    /* per node, -1 until informed */
  guint    n_informed;
  guint    dead_node;      /* killed node, G_MAXUINT if none */
  gint64   first_dead_at;
  guint    n_dead_seen;
  guint    false_deaths;   /* DEAD events about nodes that are up */
  GArray  *false_pairs;
} Watch;

static void
on_event (CbSim *sim, guint node, const CbMembershipEvent *ev, gpointer user_data)
{
  Watch *w = user_data;
  guint about = cb_sim_node_index (sim, ev->member.id);

  if (about == G_MAXUINT)
    return;
  if (ev->type == CB_MEMBERSHIP_EVENT_DEAD)
    {
      if (about == w->dead_node)
        {
          if (w->first_dead_at < 0)
            w->first_dead_at = cb_sim_now (sim);
          w->n_dead_seen++;
        }
      else if (cb_sim_is_up (sim, about))
        w->false_deaths++;
    }
  if (w->informed_at != NULL && about == w->watch && w->informed_at[node] < 0
      && ev->member.incarnation >= w->watch_inc
      && (ev->type == CB_MEMBERSHIP_EVENT_JOIN || ev->type == CB_MEMBERSHIP_EVENT_UPDATE
          || ev->type == CB_MEMBERSHIP_EVENT_ALIVE))
    {
      w->informed_at[node] = cb_sim_now (sim);
      w->n_informed++;
    }
}

static void
watch_init (Watch *w)
{
  memset (w, 0, sizeof *w);
  w->dead_node = G_MAXUINT;
  w->first_dead_at = -1;
  w->watch = G_MAXUINT;
}

static double
percentile (GArray *v, double p)
{
  double *d = (double *) v->data;
  gsize i;

  if (v->len == 0)
    return NAN;
  for (gsize a = 1; a < v->len; a++)
    for (gsize b = a; b > 0 && d[b - 1] > d[b]; b--)
      {
        double t = d[b];
        d[b] = d[b - 1];
        d[b - 1] = t;
      }
  i = (gsize) ceil (p * v->len) - 1;
  return d[MIN (i, v->len - 1)];
}

static const char *
met (gboolean ok)
{
  return ok ? "met" : "NOT MET";
}

/* ---- naive baseline ---- */

static guint64
base_rand (guint64 *s)
{
  guint64 z = (*s += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Every node knows every other; each round every informed node pushes to
 * `fanout` uniformly random others, forever.  Rounds to reach 99.99%. */
static double
naive_rounds (guint n, guint fanout, guint trials, guint64 seed)
{
  guint8 *inf = g_malloc (n);
  guint *list = g_new (guint, n);
  double total = 0;

  for (guint t = 0; t < trials; t++)
    {
      guint count = 1, rounds = 0, target = (guint) ceil (0.9999 * n);

      memset (inf, 0, n);
      inf[0] = 1;
      list[0] = 0;
      while (count < target)
        {
          guint senders = count;

          rounds++;
          for (guint i = 0; i < senders; i++)
            for (guint f = 0; f < fanout; f++)
              {
                guint to = (guint) ((base_rand (&seed) >> 32) * (guint64) (n - 1) >> 32);

                if (to >= list[i])
                  to++;
                if (!inf[to])
                  {
                    inf[to] = 1;
                    list[count++] = to;
                  }
              }
        }
      total += rounds;
    }
  g_free (inf);
  g_free (list);
  return total / trials;
}

/* ---- dissemination at scale ---- */

typedef struct {
  double rounds;
  double seconds;
  double coverage;     /* at the end of the run */
  double kbps;         /* payload kbit/s per node, steady state */
  double kbps_wire;    /* with WIRE_OVERHEAD per message */
  double active_mean;
  guint  active_min;
  guint  isolated;
  double known_mean;
  double wall_s;
  double dissem_kbps_max;  /* busiest node while the update spreads */
} ScaleResult;

static void
view_stats (CbSim *sim, ScaleResult *r)
{
  guint n = cb_sim_n_nodes (sim), up = 0;
  double a = 0, k = 0;

  r->active_min = G_MAXUINT;
  r->isolated = 0;
  for (guint i = 0; i < n; i++)
    {
      CbMembership *m = cb_sim_membership (sim, i);
      guint ac;

      if (!cb_sim_is_up (sim, i))
        continue;
      up++;
      ac = cb_membership_active_count (m);
      a += ac;
      k += cb_membership_count_alive (m);
      r->active_min = MIN (r->active_min, ac);
      r->isolated += ac == 0;
    }
  r->active_mean = a / MAX (up, 1);
  r->known_mean = k / MAX (up, 1);
}

static void
bandwidth (CbSim *sim, double seconds, double *kbps, double *kbps_wire, double *max_kbps)
{
  guint n = cb_sim_n_nodes (sim), up = 0;
  double bytes = 0, msgs = 0, mx = 0;

  for (guint i = 0; i < n; i++)
    if (cb_sim_is_up (sim, i))
      {
        double b = cb_sim_bytes_sent (sim, i);

        up++;
        bytes += b;
        msgs += cb_sim_messages_sent (sim, i);
        mx = MAX (mx, b + WIRE_OVERHEAD * (double) cb_sim_messages_sent (sim, i));
      }
  *kbps = bytes * 8 / 1000.0 / seconds / MAX (up, 1);
  *kbps_wire = (bytes + WIRE_OVERHEAD * msgs) * 8 / 1000.0 / seconds / MAX (up, 1);
  if (max_kbps)
    *max_kbps = mx * 8 / 1000.0 / seconds;
}

static void
poll_informed (CbSim *sim, Watch *w)
{
  const guint8 *id = cb_sim_node_id (sim, w->watch);

  for (guint i = 0; i < cb_sim_n_nodes (sim); i++)
    {
      guint64 inc;
      CbMemberState state;

      if (w->informed_at[i] < 0
          && cb_membership_member_state (cb_sim_membership (sim, i), id, &state, &inc)
          && inc >= w->watch_inc)
        {
          w->informed_at[i] = cb_sim_now (sim);
          w->n_informed++;
        }
    }
}

static ScaleResult
run_scale (guint n, guint64 seed)
{
  CbSimConfig cfg;
  g_autoptr(CbSim) sim = NULL;
  Watch w;
  ScaleResult r = { 0 };
  guint probe_ms, target, up;
  gint64 t0, t_done = -1, settle;
  GTimer *timer = g_timer_new ();
  guint8 meta[48];
  g_autoptr(GBytes) new_meta = NULL;

  cb_sim_config_init (&cfg, n);
  cfg.seed = seed;
  /* No events at this scale: who has the update is polled instead, which
   * is much cheaper than copying every view change out. */
  cfg.membership.max_events = 0;
  probe_ms = cfg.membership.probe_interval_ms;
  sim = cb_sim_new (&cfg);
  watch_init (&w);

  /* Nodes arrive over a few seconds, each joining through three random
   * nodes already up, as if read from a published list. */
  cb_sim_bootstrap (sim, 0, 3, MIN (20000, 2000 + n / 10));
  settle = MIN (20000, 2000 + n / 10) + 25000;
  cb_sim_run_for (sim, settle);

  /* Steady-state bandwidth over 10 s. */
  cb_sim_reset_counters (sim);
  cb_sim_run_for (sim, 10000);
  bandwidth (sim, 10.0, &r.kbps, &r.kbps_wire, NULL);
  view_stats (sim, &r);

  /* One metadata update from a random node. */
  w.watch = (guint) (seed % n);
  w.informed_at = g_new (gint64, n);
  for (guint i = 0; i < n; i++)
    w.informed_at[i] = -1;
  w.informed_at[w.watch] = cb_sim_now (sim);
  w.n_informed = 1;
  w.watch_inc = cb_membership_get_incarnation (cb_sim_membership (sim, w.watch)) + 1;
  memset (meta, 0xab, sizeof meta);
  new_meta = g_bytes_new (meta, sizeof meta);
  up = n;
  target = (guint) ceil (0.9999 * up);
  cb_sim_reset_counters (sim);
  t0 = cb_sim_now (sim);
  cb_membership_set_meta (cb_sim_membership (sim, w.watch), new_meta, t0);
  /* set_meta queued sends outside the simulator's loop: flush them with a
   * zero-length run after a tick at the same instant. */
  cb_membership_tick (cb_sim_membership (sim, w.watch), t0);
  for (gint64 t = t0; t < t0 + 30000 && t_done < 0; t += 50)
    {
      cb_sim_run_until (sim, t);
      poll_informed (sim, &w);
      if (w.n_informed >= target)
        t_done = t;
    }
  {
    double dummy, dummy2;
    double secs = (cb_sim_now (sim) - t0) / 1000.0;
    bandwidth (sim, MAX (secs, 0.01), &dummy, &dummy2, &r.dissem_kbps_max);
  }
  cb_sim_run_until (sim, t0 + 5000);
  poll_informed (sim, &w);
  r.coverage = (double) w.n_informed / up;
  if (t_done >= 0)
    {
      r.seconds = (t_done - t0) / 1000.0;
      r.rounds = ceil ((double) (t_done - t0) / probe_ms);
    }
  else
    r.seconds = r.rounds = INFINITY;
  r.wall_s = g_timer_elapsed (timer, NULL);
  g_timer_destroy (timer);
  g_free (w.informed_at);
  return r;
}

/* ---- detection at N = 100 ---- */

typedef struct {
  GArray *first;      /* seconds from kill to the first DEAD declaration */
  GArray *all;        /* seconds until every node that knew it had it dead */
  guint   false_deaths;
  guint   undetected;
  double  kbps;
  double  kbps_wire;
} DetectResult;

static void
run_detect (guint n, guint trials, guint64 seed, DetectResult *out)
{
  out->first = g_array_new (FALSE, FALSE, sizeof (double));
  out->all = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint t = 0; t < trials; t++)
    {
      CbSimConfig cfg;
      g_autoptr(CbSim) sim = NULL;
      Watch w;
      gint64 tk, t_all = -1;
      guint knew = 0;

      cb_sim_config_init (&cfg, n);
      cfg.seed = seed + t;
      sim = cb_sim_new (&cfg);
      watch_init (&w);
      cb_sim_set_event_func (sim, on_event, &w);
      cb_sim_bootstrap (sim, 3, 3, 2000);
      cb_sim_run_for (sim, 20000);
      if (t == 0)
        {
          cb_sim_reset_counters (sim);
          cb_sim_run_for (sim, 10000);
          bandwidth (sim, 10.0, &out->kbps, &out->kbps_wire, NULL);
        }
      /* A random offset so the kill is not aligned with any schedule. */
      cb_sim_run_for (sim, 1 + (seed + t * 7919) % 997);
      w.dead_node = 3 + (guint) ((seed + t * 104729) % (n - 3));
      for (guint i = 0; i < n; i++)
        {
          g_auto(CbMember) mem = { 0 };

          if (i != w.dead_node
              && cb_membership_lookup (cb_sim_membership (sim, i), cb_sim_node_id (sim, w.dead_node), &mem)
              && mem.state <= CB_MEMBER_SUSPECT)
            knew++;
        }
      tk = cb_sim_now (sim);
      cb_sim_kill (sim, w.dead_node);
      for (gint64 tt = tk; tt < tk + 30000; tt += 10)
        {
          cb_sim_run_until (sim, tt);
          if (w.n_dead_seen >= knew)
            {
              t_all = tt;
              break;
            }
        }
      cb_sim_run_until (sim, tk + 30000);
      if (w.first_dead_at >= 0)
        {
          double v = (w.first_dead_at - tk) / 1000.0;
          g_array_append_val (out->first, v);
        }
      else
        out->undetected++;
      if (t_all >= 0)
        {
          double v = (t_all - tk) / 1000.0;
          g_array_append_val (out->all, v);
        }
      out->false_deaths += w.false_deaths;
    }
}

/* False deaths with one node stalled for stall_ms, trials times, at a loss
 * rate; every trial stalls a different node of one long run. */
static guint
run_stall (guint n, guint trials, guint stall_ms, double loss, guint64 seed)
{
  CbSimConfig cfg;
  g_autoptr(CbSim) sim = NULL;
  Watch w;

  cb_sim_config_init (&cfg, n);
  cfg.seed = seed;
  sim = cb_sim_new (&cfg);
  watch_init (&w);
  cb_sim_set_event_func (sim, on_event, &w);
  cb_sim_bootstrap (sim, 3, 3, 2000);
  cb_sim_run_for (sim, 20000);
  cb_sim_set_loss (sim, loss);
  for (guint t = 0; t < trials; t++)
    {
      cb_sim_run_for (sim, 1 + (seed * 31 + t * 7919) % 997);
      if (stall_ms > 0)
        cb_sim_stall (sim, (guint) ((seed + t * 104729) % n), stall_ms);
      cb_sim_run_for (sim, stall_ms + 12000);
    }
  return w.false_deaths;
}

int
main (int argc, char **argv)
{
  guint max_n = 100000, trials = 20;
  guint64 seed = 42;
  GArray *sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  CbMembershipConfig def;
  gboolean ok12 = FALSE, have100k = FALSE;
  double worst_kbps = 0;
  DetectResult det = { 0 };
  guint stall_false, loss_false, stall_false32;
  double med, p90;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--max-n") && i + 1 < argc)
        max_n = (guint) strtoul (argv[++i], NULL, 10);
      else if (g_str_equal (argv[i], "--trials") && i + 1 < argc)
        trials = (guint) strtoul (argv[++i], NULL, 10);
      else if (g_str_equal (argv[i], "--seed") && i + 1 < argc)
        seed = strtoull (argv[++i], NULL, 10);
      else
        {
          fprintf (stderr, "usage: %s [--max-n N] [--trials T] [--seed S]\n", argv[0]);
          return 2;
        }
    }
  cb_membership_config_init (&def);
  printf ("membership simulator benchmark (seed %" G_GUINT64_FORMAT ")\n", seed);
  printf ("config: probe %u ms, ack timeout %u ms, %u indirect, suspicion %u..%u ms "
          "(+%u ms per doubling above 32), fanout %u, retransmit mult %u, "
          "active view %u, passive view %u, message <= %u bytes\n",
          def.probe_interval_ms, def.ack_timeout_ms, def.indirect_probes,
          def.suspicion_min_ms, def.suspicion_max_ms, def.suspicion_growth_ms, def.fanout,
          def.retransmit_mult, def.active_view, def.passive_view, def.max_message_bytes);
  printf ("network: latency 1..20 ms uniform, metadata 48 bytes per node\n\n");

  for (guint n = 1000; n <= max_n; n *= 10)
    g_array_append_val (sizes, n);

  printf ("== dissemination of one metadata update (one round = one probe interval; "
          "informed = holds the new incarnation, polled every 50 ms) ==\n");
  printf ("%8s %7s %8s %9s %9s %8s %7s %7s %8s %8s %9s %9s %9s %7s\n", "N", "rounds", "seconds",
          "coverage", "naive", "ratio", "active", "min", "known", "B/s", "kbit/s", "wire", "peak", "wall");
  for (guint i = 0; i < sizes->len; i++)
    {
      guint n = g_array_index (sizes, guint, i);
      ScaleResult r = run_scale (n, seed + n);
      double naive = naive_rounds (n, 3, 5, seed + 7 * n);

      printf ("%8u %7.0f %8.2f %8.4f%% %9.2f %8.2f %7.1f %7u %8.1f %8.0f %9.2f %9.2f %9.2f %6.0fs\n",
              n, r.rounds, r.seconds, 100 * r.coverage, naive, r.rounds / naive, r.active_mean,
              r.active_min, r.known_mean, r.kbps * 1000 / 8, r.kbps, r.kbps_wire, r.dissem_kbps_max,
              r.wall_s);
      fflush (stdout);
      worst_kbps = MAX (worst_kbps, MAX (r.kbps_wire, r.dissem_kbps_max));
      if (n == 100000)
        {
          have100k = TRUE;
          ok12 = r.rounds <= 12;
        }
    }
  printf ("(naive = full-membership push gossip, fanout 3, every informed node pushes every "
          "round without limit, mean of 5 runs; ratio = ours / naive; active/min = active view "
          "mean/minimum, known = members held; B/s and kbit/s = payload sent per node in steady "
          "state, wire = kbit/s with %u bytes of headers per message, peak = busiest node's "
          "kbit/s while the update spreads)\n\n", WIRE_OVERHEAD);

  printf ("== dead-node detection at N = 100, %u trials ==\n", trials);
  run_detect (100, trials, seed, &det);
  med = percentile (det.first, 0.5);
  p90 = percentile (det.first, 0.9);
  printf ("first declaration: median %.2f s, p90 %.2f s; undetected %u\n", med, p90, det.undetected);
  printf ("known dead by everyone who knew it: median %.2f s, p90 %.2f s (%u of %u trials)\n",
          percentile (det.all, 0.5), percentile (det.all, 0.9), det.all->len, trials);
  printf ("steady-state bandwidth at N = 100: %.0f bytes/s per node (%.2f kbit/s) payload, "
          "%.0f bytes/s (%.2f kbit/s) with headers\n",
          det.kbps * 1000 / 8, det.kbps, det.kbps_wire * 1000 / 8, det.kbps_wire);
  printf ("false deaths during detection runs: %u\n\n", det.false_deaths);
  worst_kbps = MAX (worst_kbps, det.kbps_wire);

  printf ("== false deaths ==\n");
  stall_false = run_stall (100, trials, 3000, 0.0, seed);
  printf ("N = 100, a node stalled 3 s, %u times: %u false deaths\n", trials, stall_false);
  stall_false32 = run_stall (32, trials, 3000, 0.0, seed + 1);
  printf ("N = 32, a node stalled 3 s, %u times: %u false deaths\n", trials, stall_false32);
  loss_false = run_stall (100, trials, 0, 0.05, seed + 2);
  printf ("N = 100, 5%% loss for %u s: %u false deaths\n\n", trials * 12, loss_false);

  printf ("== goals ==\n");
  if (have100k)
    printf ("<= 12 rounds to 99.99%% at N = 100,000 (fanout 3): %s\n", met (ok12));
  else
    printf ("<= 12 rounds to 99.99%% at N = 100,000 (fanout 3): not run (--max-n)\n");
  printf ("median detection <= 5 s at N = 100: %.2f s: %s\n", med, met (med <= 5.0));
  printf ("<= 328 kbit/s per node: worst %.2f kbit/s: %s\n", worst_kbps, met (worst_kbps <= 328));
  printf ("0 false deaths with a 3 s stall: %u: %s\n", stall_false + stall_false32,
          met (stall_false + stall_false32 == 0));
  printf ("0 false deaths with 5%% loss: %u: %s\n", loss_false, met (loss_false == 0));

  g_array_unref (det.first);
  g_array_unref (det.all);
  g_array_unref (sizes);
  return 0;
}
