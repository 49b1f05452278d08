/* test-sim.c: the membership protocol in a simulated cloud of 1,000 nodes
 * (convergence, dissemination, failure detection, no false deaths under a
 * stall or loss), 32 nodes (full membership) and a healed partition. */
#include <string.h>

#include "cb-sim.h"

#define N_CLOUD 1000

typedef struct {
  guint    watch;        /* node whose update we follow */
  guint64  watch_inc;
  guint8  *informed;
  guint    n_informed;
  guint    dead_node;
  guint8  *dead_told;    /* per node: DEAD (1) or FORGET (2) event about dead_node */
  guint    false_deaths;
} Watch;

static Watch watch;

static void
on_event (CbSim *sim, guint node, const CbMembershipEvent *ev, gpointer user_data)
{
  guint about = cb_sim_node_index (sim, ev->member.id);

  g_assert_cmpuint (about, !=, G_MAXUINT);
  g_assert_cmpuint (about, !=, node);
  if (ev->type == CB_MEMBERSHIP_EVENT_DEAD && about != watch.dead_node && cb_sim_is_up (sim, about))
    {
      g_test_message ("node %u declared %u dead at %" G_GINT64_FORMAT " ms", node, about,
                      cb_sim_now (sim));
      watch.false_deaths++;
    }
  if (watch.dead_told != NULL && about == watch.dead_node && !watch.dead_told[node])
    {
      if (ev->type == CB_MEMBERSHIP_EVENT_DEAD)
        watch.dead_told[node] = 1;
      else if (ev->type == CB_MEMBERSHIP_EVENT_FORGET)
        watch.dead_told[node] = 2;
    }
  if (watch.informed != NULL && about == watch.watch && !watch.informed[node]
      && ev->member.incarnation >= watch.watch_inc && ev->member.state == CB_MEMBER_ALIVE)
    {
      watch.informed[node] = 1;
      watch.n_informed++;
    }
}

static void
watch_reset (void)
{
  g_clear_pointer (&watch.informed, g_free);
  g_clear_pointer (&watch.dead_told, g_free);
  memset (&watch, 0, sizeof watch);
  watch.watch = G_MAXUINT;
  watch.dead_node = G_MAXUINT;
}

/* One converged 1,000-node cloud shared by the tests that follow. */
static CbSim *cloud;

static CbSim *
get_cloud (void)
{
  CbSimConfig cfg;

  if (cloud != NULL)
    return cloud;
  watch_reset ();
  cb_sim_config_init (&cfg, N_CLOUD);
  cfg.seed = 2024;
  cloud = cb_sim_new (&cfg);
  cb_sim_set_event_func (cloud, on_event, NULL);
  /* Everyone joins through the same 3 seeds within 5 s. */
  cb_sim_bootstrap (cloud, 3, 3, 5000);
  cb_sim_run_for (cloud, 40000);
  return cloud;
}

static guint
holders (CbSim *sim, guint about, CbMemberState state, guint *in_active)
{
  guint n = 0;

  if (in_active)
    *in_active = 0;
  for (guint i = 0; i < cb_sim_n_nodes (sim); i++)
    {
      g_auto(CbMember) mem = { 0 };

      if (i == about || !cb_sim_is_up (sim, i))
        continue;
      if (cb_membership_lookup (cb_sim_membership (sim, i), cb_sim_node_id (sim, about), &mem)
          && mem.state == state)
        n++;
      if (in_active && cb_membership_is_active (cb_sim_membership (sim, i), cb_sim_node_id (sim, about)))
        (*in_active)++;
    }
  return n;
}

static void
test_converge (void)
{
  CbSim *sim = get_cloud ();
  CbMembershipConfig def;
  guint min_active = G_MAXUINT;

  cb_membership_config_init (&def);
  for (guint i = 0; i < N_CLOUD; i++)
    {
      CbMembership *m = cb_sim_membership (sim, i);
      guint alive = cb_membership_count_alive (m), active = cb_membership_active_count (m), in_active;

      g_assert_true (cb_sim_is_up (sim, i));
      /* Bounded views, full enough to repair from. */
      g_assert_cmpuint (alive, <=, def.active_view + def.passive_view);
      g_assert_cmpuint (alive, >=, def.passive_view);
      g_assert_cmpuint (active, <=, def.active_view);
      min_active = MIN (min_active, active);
      /* Known alive by others and probed by its neighbours. */
      g_assert_cmpuint (holders (sim, i, CB_MEMBER_ALIVE, &in_active), >=, def.active_view_min);
      g_assert_cmpuint (in_active, >=, 1);
      g_assert_cmpuint (in_active, ==, active);  /* views are symmetric */
    }
  g_assert_cmpuint (min_active, >=, def.active_view * 3 / 4);
  g_assert_cmpuint (cb_sim_receive_errors (sim), ==, 0);
  g_assert_cmpuint (watch.false_deaths, ==, 0);
}

static void
test_meta_disseminates (void)
{
  CbSim *sim = get_cloud ();
  g_autoptr(GBytes) meta = g_bytes_new_static ("roles=publisher;cpu=8", 21);
  CbMembership *m;
  gint64 t0;

  watch.watch = 417;
  m = cb_sim_membership (sim, watch.watch);
  watch.watch_inc = cb_membership_get_incarnation (m) + 1;
  watch.informed = g_malloc0 (N_CLOUD);
  watch.informed[watch.watch] = 1;
  watch.n_informed = 1;
  t0 = cb_sim_now (sim);
  cb_membership_set_meta (m, meta, t0);
  cb_membership_tick (m, t0);
  cb_sim_run_for (sim, 10000);
  g_test_message ("%u of %u nodes have the update", watch.n_informed, N_CLOUD);
  g_assert_cmpuint (watch.n_informed, ==, N_CLOUD);
  /* And the ones that keep it have the new metadata. */
  for (guint i = 0; i < N_CLOUD; i++)
    {
      g_auto(CbMember) mem = { 0 };

      if (i != watch.watch
          && cb_membership_lookup (cb_sim_membership (sim, i), cb_sim_node_id (sim, watch.watch), &mem))
        {
          g_assert_cmpuint (mem.incarnation, >=, watch.watch_inc);
          if (mem.meta != NULL)
            g_assert_true (g_bytes_equal (mem.meta, meta));
        }
    }
  g_clear_pointer (&watch.informed, g_free);
  g_assert_cmpuint (watch.false_deaths, ==, 0);
}

static void
test_kill_detected (void)
{
  CbSim *sim = get_cloud ();
  guint victim = 123, knew = 0, declared = 0, forgot = 0, still;
  g_autofree guint8 *knew_it = g_malloc0 (N_CLOUD);

  for (guint i = 0; i < N_CLOUD; i++)
    {
      g_auto(CbMember) mem = { 0 };

      if (i != victim
          && cb_membership_lookup (cb_sim_membership (sim, i), cb_sim_node_id (sim, victim), &mem))
        {
          g_assert_cmpint (mem.state, ==, CB_MEMBER_ALIVE);
          knew_it[i] = 1;
          knew++;
        }
    }
  g_assert_cmpuint (knew, >, 0);
  watch.dead_node = victim;
  watch.dead_told = g_malloc0 (N_CLOUD);
  cb_sim_kill (sim, victim);
  cb_sim_run_for (sim, 15000);
  /* Everyone who knew it declared it dead, unless its bounded view had
   * already dropped it (a FORGET event) before the news came. */
  for (guint i = 0; i < N_CLOUD; i++)
    if (knew_it[i])
      {
        g_assert_cmpuint (watch.dead_told[i], !=, 0);
        declared += watch.dead_told[i] == 1;
        forgot += watch.dead_told[i] == 2;
      }
  still = holders (sim, victim, CB_MEMBER_ALIVE, NULL) + holders (sim, victim, CB_MEMBER_SUSPECT, NULL);
  g_test_message ("%u knew it: %u declared it dead, %u had forgotten it; %u still list it alive",
                  knew, declared, forgot, still);
  g_assert_cmpuint (still, ==, 0);
  g_assert_cmpuint (declared, >=, knew * 9 / 10);
  g_assert_cmpuint (holders (sim, victim, CB_MEMBER_DEAD, NULL), >=, declared * 9 / 10);
  g_assert_cmpuint (watch.false_deaths, ==, 0);
  g_clear_pointer (&watch.dead_told, g_free);
}

static void
test_stall_no_false_death (void)
{
  CbSim *sim = get_cloud ();

  /* Several nodes, one after the other, stopped for 3 s like SIGSTOP. */
  for (guint k = 0; k < 5; k++)
    {
      guint node = 200 + 97 * k;
      guint64 inc = cb_membership_get_incarnation (cb_sim_membership (sim, node));

      cb_sim_run_for (sim, 137 * k);
      cb_sim_stall (sim, node, 3000);
      cb_sim_run_for (sim, 12000);
      /* It noticed and refuted. */
      g_assert_cmpuint (cb_membership_get_incarnation (cb_sim_membership (sim, node)), >, inc);
      g_assert_cmpuint (holders (sim, node, CB_MEMBER_DEAD, NULL), ==, 0);
    }
  g_assert_cmpuint (watch.false_deaths, ==, 0);
}

static void
test_loss_no_false_death (void)
{
  CbSim *sim = get_cloud ();

  cb_sim_set_loss (sim, 0.05);
  cb_sim_run_for (sim, 30000);
  cb_sim_set_loss (sim, 0.0);
  cb_sim_run_for (sim, 5000);
  g_assert_cmpuint (watch.false_deaths, ==, 0);
  g_assert_cmpuint (cb_sim_receive_errors (sim), ==, 0);
  g_clear_pointer (&cloud, cb_sim_free);
}

static void
test_full_membership_32 (void)
{
  CbSimConfig cfg;
  g_autoptr(CbSim) sim = NULL;

  watch_reset ();
  cb_sim_config_init (&cfg, 32);
  cfg.seed = 7;
  sim = cb_sim_new (&cfg);
  cb_sim_set_event_func (sim, on_event, NULL);
  cb_sim_bootstrap (sim, 1, 1, 2000);
  cb_sim_run_for (sim, 15000);
  for (guint i = 0; i < 32; i++)
    {
      g_autoptr(GPtrArray) members = cb_membership_get_members (cb_sim_membership (sim, i));
      guint8 seen[32] = { 0 };

      g_assert_cmpuint (members->len, ==, 31);
      for (guint k = 0; k < members->len; k++)
        {
          CbMember *mem = members->pdata[k];
          guint j = cb_sim_node_index (sim, mem->id);

          g_assert_cmpuint (j, <, 32);
          g_assert_cmpuint (j, !=, i);
          g_assert_false (seen[j]);
          seen[j] = 1;
          g_assert_cmpint (mem->state, ==, CB_MEMBER_ALIVE);
          g_assert_nonnull (mem->meta);
          g_assert_cmpuint (g_bytes_get_size (mem->meta), ==, cfg.meta_bytes);
        }
      g_assert_cmpuint (cb_membership_count_alive (cb_sim_membership (sim, i)), ==, 31);
    }
  g_assert_cmpuint (watch.false_deaths, ==, 0);
}

static void
test_partition_heals (void)
{
  CbSimConfig cfg;
  g_autoptr(CbSim) sim = NULL;
  const guint n = 40;

  watch_reset ();
  cb_sim_config_init (&cfg, n);
  cfg.seed = 11;
  sim = cb_sim_new (&cfg);
  cb_sim_bootstrap (sim, 1, 1, 1000);
  cb_sim_run_for (sim, 10000);
  for (guint i = n / 2; i < n; i++)
    cb_sim_set_group (sim, i, 1);
  cb_sim_run_for (sim, 20000);
  /* Each side has declared the other dead. */
  g_assert_cmpuint (cb_membership_count_alive (cb_sim_membership (sim, 0)), ==, n / 2 - 1);
  g_assert_cmpuint (cb_membership_count_alive (cb_sim_membership (sim, n - 1)), ==, n / 2 - 1);
  for (guint i = n / 2; i < n; i++)
    cb_sim_set_group (sim, i, 0);
  /* As when the bootstrap lists are read again: a seed from the other side. */
  for (guint i = 0; i < n; i++)
    {
      guint seed = i < n / 2 ? n - 1 : 0;
      g_autofree char *addr = g_strdup_printf ("sim:%u", seed);

      cb_membership_add_seed (cb_sim_membership (sim, i), cb_sim_node_id (sim, seed), addr,
                              cb_sim_now (sim));
    }
  cb_sim_run_for (sim, 20000);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (cb_membership_count_alive (cb_sim_membership (sim, i)), ==, n - 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  watch_reset ();
  g_test_add_func ("/sim/membership/converge", test_converge);
  g_test_add_func ("/sim/membership/meta-disseminates", test_meta_disseminates);
  g_test_add_func ("/sim/membership/kill-detected", test_kill_detected);
  g_test_add_func ("/sim/membership/stall-no-false-death", test_stall_no_false_death);
  g_test_add_func ("/sim/membership/loss-no-false-death", test_loss_no_false_death);
  g_test_add_func ("/sim/membership/full-membership-32", test_full_membership_32);
  g_test_add_func ("/sim/membership/partition-heals", test_partition_heals);
  return g_test_run ();
}
