/* cb-sim.h: discrete-event network simulator driving many CbMembership
 *
 * Virtual time only: a binary heap of timed events (message deliveries,
 * node ticks, node starts) is run in order, so a run is deterministic for
 * a seed and 100,000 nodes fit in a few GiB.  Each node is a real
 * CbMembership fed exactly as the app's transport would feed it.  The
 * network has a uniform random latency per message, a loss rate, and
 * partitions; nodes can be killed (nothing more is delivered to or from
 * them) or stalled like SIGSTOP (no ticks and no deliveries for a while;
 * what arrived meanwhile is delivered, in order, when they wake). */
#pragma once

#include <glib.h>

#include "cb-membership.h"

G_BEGIN_DECLS

typedef struct {
  guint              n_nodes;
  guint64            seed;
  guint              latency_min_ms;  /* 1 */
  guint              latency_max_ms;  /* 20 */
  double             loss;            /* 0.0 .. 1.0 */
  guint              meta_bytes;      /* size of each node's metadata: 48 */
  CbMembershipConfig membership;      /* cb_membership_config_init() defaults */
} CbSimConfig;

void cb_sim_config_init (CbSimConfig *cfg, guint n_nodes);

typedef struct _CbSim CbSim;

/* Called for every membership event of every node, as it happens. */
typedef void (*CbSimEventFunc) (CbSim                   *sim,
                                guint                    node,
                                const CbMembershipEvent *event,
                                gpointer                 user_data);

CbSim        *cb_sim_new  (const CbSimConfig *cfg);
void          cb_sim_free (CbSim *sim);

void          cb_sim_set_event_func (CbSim *sim, CbSimEventFunc func, gpointer user_data);
gint64        cb_sim_now            (CbSim *sim);
guint         cb_sim_n_nodes        (CbSim *sim);
CbMembership *cb_sim_membership     (CbSim *sim, guint node);
const guint8 *cb_sim_node_id        (CbSim *sim, guint node);
/* The node an id belongs to, or G_MAXUINT. */
guint         cb_sim_node_index     (CbSim *sim, const guint8 id[32]);

/* Starts node at time `at` (>= now), joining through the given seeds. */
void          cb_sim_start_node (CbSim *sim, guint node, gint64 at,
                                 const guint *seeds, guint n_seeds);
/* Starts nodes 0..n-1 in order over [now, now + spread_ms] (100 ms jitter): node
 * 0 alone, the first `fixed_seeds` through node 0.., and every later node
 * through `seeds_each` seeds: the fixed seeds if fixed_seeds > 0, else
 * random earlier nodes (like reading a published list). */
void          cb_sim_bootstrap (CbSim *sim, guint fixed_seeds, guint seeds_each,
                                guint spread_ms);

void          cb_sim_run_until (CbSim *sim, gint64 t_ms);
void          cb_sim_run_for   (CbSim *sim, gint64 ms);

void          cb_sim_kill      (CbSim *sim, guint node);
void          cb_sim_stall     (CbSim *sim, guint node, guint ms);
/* Nodes in different groups cannot exchange messages (group 0 initially). */
void          cb_sim_set_group (CbSim *sim, guint node, guint group);
void          cb_sim_set_loss  (CbSim *sim, double loss);
gboolean      cb_sim_is_up     (CbSim *sim, guint node);  /* started and not killed */

/* Payload bytes and messages a node sent since the last reset. */
guint64       cb_sim_bytes_sent    (CbSim *sim, guint node);
guint64       cb_sim_messages_sent (CbSim *sim, guint node);
void          cb_sim_reset_counters (CbSim *sim);
/* Messages the membership core refused (should stay 0). */
guint64       cb_sim_receive_errors (CbSim *sim);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbSim, cb_sim_free)

G_END_DECLS
