/* test-dbset-sim.c: db-sets form, stay bounded and answer cloud-wide
 * queries, with the real core over a simulated network */
#include "cb-dbset-sim.h"

#include <math.h>

static CbDbSetSim *
formed_sim (guint n, guint set_size, guint64 seed, gint64 run_ms)
{
  CbDbSetSimConfig cfg;
  CbDbSetSim *sim;

  cb_dbset_sim_config_init (&cfg, n);
  cfg.seed = seed;
  cfg.dbsets.set_size = set_size;
  sim = cb_dbset_sim_new (&cfg);
  cb_dbset_sim_start_all (sim, 2000);
  cb_dbset_sim_run_until (sim, run_ms);
  return sim;
}

static void
print_stats (const char *what, const CbDbSetSimStats *st)
{
  g_test_message ("%s: levels %u..%u, %u sets of %u..%u, formed %.1f%%, own known %.1f%%, "
                  "tracked >= %u (mean %u), state <= %zu bytes", what, st->level_min,
                  st->level_max, st->sets, st->smallest_set, st->largest_set, 100 * st->formed,
                  100 * st->mean_own_known, st->min_tracked, st->mean_tracked,
                  st->max_state_bytes);
}

/* 1,000 hosts, sets of about 100: every host settles on one level, learns
 * its whole set and tracks every other set (there are only 8). */
static void
test_formation (void)
{
  g_autoptr(CbDbSetSim) sim = formed_sim (1000, 100, 1, 40000);
  CbDbSetSimStats st;
  guint expect = (guint) floor (log2 (1000.0 / 100));

  cb_dbset_sim_stats (sim, &st);
  print_stats ("N=1000 after 40 s", &st);
  g_assert_cmpuint (cb_dbset_sim_decode_errors (sim), ==, 0);
  g_assert_cmpuint (st.level_min, ==, st.level_max);
  g_assert_cmpuint (st.level_min, >=, expect - 1);
  g_assert_cmpuint (st.level_min, <=, expect);
  g_assert_cmpuint (st.sets, ==, 1u << st.level_min);
  g_assert_cmpfloat (st.formed, >=, 0.99);
  g_assert_cmpuint (st.min_tracked, ==, st.sets - 1);
  g_assert_cmpuint (st.smallest_set, >=, 50);
  g_assert_cmpuint (st.max_state_bytes, <, 256 * 1024);
}

/* A small cloud (12 hosts, sets of 2) splits into several sets too, and
 * every host bridges or has a peer inside its set. */
static void
test_small_cloud (void)
{
  g_autoptr(CbDbSetSim) sim = formed_sim (12, 2, 2, 20000);
  CbDbSetSimStats st;

  cb_dbset_sim_stats (sim, &st);
  print_stats ("N=12, sets of 2", &st);
  g_assert_cmpuint (st.level_min, ==, st.level_max);
  g_assert_cmpuint (st.level_min, >=, 1);
  g_assert_cmpfloat (st.formed, ==, 1.0);
  for (guint i = 0; i < 12; i++)
    {
      CbDbSets *d = cb_dbset_sim_node (sim, i);
      g_autoptr(GPtrArray) partners = cb_dbsets_get_partners (d);

      g_assert_cmpuint (partners->len, >, 0);
      if (cb_dbsets_is_bridge (d))
        g_assert_cmpuint (partners->len, >=, cb_dbsets_count_own (d) - 1);
    }
}

/* A query across every set from a few hosts: each set answers, in one
 * round trip, two messages a set; dead contacts cost a timeout and a
 * retry but the set still answers. */
static void
test_query (void)
{
  g_autoptr(CbDbSetSim) sim = formed_sim (2000, 100, 3, 40000);
  CbDbSetSimQuery q;
  CbDbSetSimStats st;

  cb_dbset_sim_stats (sim, &st);
  cb_dbset_sim_query (sim, 17, 100, &q);
  g_assert_cmpuint (q.sets_asked, ==, st.sets);
  g_assert_cmpuint (q.sets_answered, ==, q.sets_asked);
  g_assert_cmpuint (q.messages, ==, 2 * q.sets_asked);
  g_assert_cmpint (q.took_ms, <=, 2 * 55);

  /* Kill a tenth of the hosts, silently. */
  for (guint i = 0; i < 2000; i += 10)
    if (i != 17)
      cb_dbset_sim_kill (sim, i);
  for (guint r = 0; r < 5; r++)
    {
      cb_dbset_sim_query (sim, 17 + r, 100, &q);
      g_assert_cmpuint (q.sets_answered, ==, q.sets_asked);
      g_assert_cmpint (q.took_ms, <=, 4 * 300 + 2 * 55);
    }
}

/* A settled cloud gossips little, and still takes a newcomer in at once:
 * 999 hosts settle; their directory traffic is then below the 2 messages
 * per host per second that gossip at the base interval costs; a 1,000th
 * host starts, learns its set and is known by it within 3 s. */
static void
test_settled_and_newcomer (void)
{
  CbDbSetSimConfig cfg;
  g_autoptr(CbDbSetSim) sim = NULL;
  CbDbSetSimStats st;
  double per_host_s, known_by = 0;
  const guint newcomer = 999;
  gint64 start;

  cb_dbset_sim_config_init (&cfg, 1000);
  cfg.seed = 4;
  sim = cb_dbset_sim_new (&cfg);
  cb_dbset_sim_start_first (sim, newcomer, 2000);
  cb_dbset_sim_run_until (sim, 40000);
  cb_dbset_sim_reset_counters (sim);
  cb_dbset_sim_run_until (sim, 60000);
  per_host_s = cb_dbset_sim_messages (sim) / 20.0 / newcomer;
  g_test_message ("settled: %.2f directory messages per host per second", per_host_s);
  g_assert_cmpfloat (per_host_s, <, 1.0);

  start = cb_dbset_sim_now (sim);
  cb_dbset_sim_start_node (sim, newcomer);
  while (cb_dbset_sim_now (sim) < start + 3000)
    {
      cb_dbset_sim_run_until (sim, cb_dbset_sim_now (sim) + 100);
      known_by = cb_dbset_sim_known_by_set (sim, newcomer);
      if (known_by >= 0.95)
        break;
    }
  g_test_message ("the newcomer is known by %.0f%% of its set after %" G_GINT64_FORMAT " ms",
                  100 * known_by, cb_dbset_sim_now (sim) - start);
  g_assert_cmpfloat (known_by, >=, 0.95);
  cb_dbset_sim_run_until (sim, start + 3000);
  cb_dbset_sim_stats (sim, &st);
  print_stats ("N=1000 with the newcomer", &st);
  g_assert_cmpfloat (st.formed, >=, 0.99);
  g_assert_cmpuint (st.level_min, ==, st.level_max);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/dbset/formation", test_formation);
  g_test_add_func ("/sim/dbset/small-cloud", test_small_cloud);
  g_test_add_func ("/sim/dbset/query", test_query);
  g_test_add_func ("/sim/dbset/settled-and-newcomer", test_settled_and_newcomer);
  return g_test_run ();
}
