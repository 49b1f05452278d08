/* bench-dbset.c: db-sets at 100,000 hosts, by simulation
 *
 *   bench-dbset [N] [--queries Q] [--settle S]
 *
 * N hosts (default 100,000) start within 2 s, each knowing 3 random
 * earlier hosts (as from a list), over links of 45..55 ms one way; the real
 * CbDbSets core forms the sets.  Printed every 5 simulated seconds until
 * formed: the level(s), sets, the share of hosts that know >= 95% of their
 * set, the tracked sets per host, directory traffic.  Then Q queries
 * (default 1,000) from random hosts across 100 sets each, first with every
 * host up, then with 1% of the hosts killed silently (their entries stay
 * in the others' tables until a query times out on them, 300 ms): p50,
 * p99 and max time per query and messages per query.  The baseline, from
 * the same run, is the network's own limit: one round trip (2 x the mean
 * latency, 100 ms), which no query across other hosts can beat.
 *
 * Goals: a host's routing state <= 1 MB; a cloud-wide query across 100 sets
 * answered in p99 <= 2 round trips with every host up. */
#include "cb-dbset-sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
compare_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
run_queries (CbDbSetSim *sim, guint n_nodes, guint n_queries, GRand *rand, const char *label,
             double round_trip_ms)
{
  g_autofree gint64 *times = g_new (gint64, n_queries);
  guint64 messages = 0, asked = 0, answered = 0;
  guint done = 0;

  for (guint q = 0; q < n_queries; q++)
    {
      CbDbSetSimQuery r;
      guint node;

      do
        node = (guint) g_rand_int_range (rand, 0, (gint32) n_nodes);
      while (!cb_dbset_sim_is_up (sim, node));
      cb_dbset_sim_query (sim, node, 100, &r);
      times[done++] = r.took_ms;
      messages += r.messages;
      asked += r.sets_asked;
      answered += r.sets_answered;
    }
  qsort (times, done, sizeof (gint64), compare_i64);
  printf ("%-22s p50 %4" G_GINT64_FORMAT " ms  p99 %4" G_GINT64_FORMAT " ms  max %4"
          G_GINT64_FORMAT " ms  (p99 = %.2f round trips)  %.1f sets asked, %.1f answered, "
          "%.1f messages per query\n", label, times[done / 2], times[done * 99 / 100],
          times[done - 1], times[done * 99 / 100] / round_trip_ms, (double) asked / done,
          (double) answered / done, (double) messages / done);
}

int
main (int argc, char **argv)
{
  guint n = 100000, n_queries = 1000, settle_s = 10;
  CbDbSetSimConfig cfg;
  g_autoptr(CbDbSetSim) sim = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  CbDbSetSimStats st = { 0 };
  gint64 formed_at = -1;
  double round_trip_ms;
  guint64 last_messages = 0, last_bytes = 0;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--queries") == 0 && i + 1 < argc)
        n_queries = (guint) atoi (argv[++i]);
      else if (strcmp (argv[i], "--settle") == 0 && i + 1 < argc)
        settle_s = (guint) atoi (argv[++i]);
      else
        n = (guint) atoi (argv[i]);
    }
  cb_dbset_sim_config_init (&cfg, n);
  round_trip_ms = cfg.latency_min_ms + cfg.latency_max_ms;
  printf ("db-set simulator benchmark: N = %u hosts, set size %u, %u sets tracked, %u contacts "
          "per set, links %u..%u ms\n", n, cfg.dbsets.set_size, cfg.dbsets.sets_tracked,
          cfg.dbsets.contacts_per_set, cfg.latency_min_ms, cfg.latency_max_ms);
  printf ("expected level floor(log2(N / set size)) = %u\n\n",
          (guint) floor (log2 ((double) n / cfg.dbsets.set_size)));
  sim = cb_dbset_sim_new (&cfg);
  cb_dbset_sim_start_all (sim, 2000);
  for (gint64 t = 5000; t <= 120000 + (gint64) settle_s * 1000; t += 5000)
    {
      guint64 m, b;

      cb_dbset_sim_run_until (sim, t);
      cb_dbset_sim_stats (sim, &st);
      m = cb_dbset_sim_messages (sim) - last_messages;
      b = cb_dbset_sim_bytes (sim) - last_bytes;
      last_messages += m;
      last_bytes += b;
      printf ("t=%3" G_GINT64_FORMAT " s  level %u..%u  %5u sets of %u..%u  formed %6.2f%%  "
              "own known %6.2f%%  tracked >= %u (mean %u)  state <= %zu B (mean %zu)  "
              "directory %.2f msg/s, %.0f B/s per host\n", t / 1000, st.level_min, st.level_max,
              st.sets, st.smallest_set, st.largest_set, 100 * st.formed, 100 * st.mean_own_known,
              st.min_tracked, st.mean_tracked, st.max_state_bytes, st.mean_state_bytes,
              m / 5.0 / n, b / 5.0 / n);
      fflush (stdout);
      if (formed_at < 0 && st.level_min == st.level_max && st.formed >= 0.99
          && st.mean_tracked >= MIN (st.sets - 1, cfg.dbsets.sets_tracked) * 0.95)
        formed_at = t;
      if (formed_at >= 0 && t >= formed_at + (gint64) settle_s * 1000)
        break;
    }
  printf ("\nformed (one level, >= 99%% of hosts know >= 95%% of their set, tables >= 95%% "
          "full) by t = %" G_GINT64_FORMAT " s\n", formed_at / 1000);
  printf ("routing state per host: max %zu bytes, mean %zu (goal <= 1 MB: %s)\n",
          st.max_state_bytes, st.mean_state_bytes,
          st.max_state_bytes <= 1000000 ? "met" : "NOT met");
  printf ("directory decode errors: %" G_GUINT64_FORMAT "\n\n", cb_dbset_sim_decode_errors (sim));

  printf ("cloud-wide queries across 100 sets, %u from random hosts; baseline: one round trip "
          "= %.0f ms\n", n_queries, round_trip_ms);
  run_queries (sim, n, n_queries, rand, "all hosts up:", round_trip_ms);
  for (guint i = 0; i < n; i++)
    if (g_rand_int_range (rand, 0, 100) == 0)
      cb_dbset_sim_kill (sim, i);
  run_queries (sim, n, n_queries, rand, "1% of hosts dead:", round_trip_ms);
  run_queries (sim, n, n_queries, rand, "1% dead, again:", round_trip_ms);
  return 0;
}
