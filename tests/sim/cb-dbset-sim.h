/* cb-dbset-sim.h: discrete-event simulator of db-set formation and
 * cloud-wide queries, driving the real CbDbSets core
 *
 * Virtual time only (a binary heap of timed events), deterministic for a
 * seed.  Every node is a CbDbSets fed exactly as the node runtime feeds it:
 * a few bootstrap hosts at start (as read from a list), every directory
 * message encoded and decoded by the real codec, ticks at the core's
 * deadlines.  Links have a uniform random one-way latency.  Nodes can be
 * killed without telling anyone (their entries stay in others' tables until
 * a query to them times out).
 *
 * A query is what a cloud-scope query costs on the wire: the querier picks
 * up to n sets (cb_dbsets_pick_query_targets), sends one request to a
 * contact in each, and is done when every set has answered; a contact that
 * does not answer within the timeout is dropped (host_gone) and another
 * contact of that set is asked. */
#pragma once

#include "cb-dbset.h"

G_BEGIN_DECLS

typedef struct {
  guint          n_nodes;
  guint64        seed;
  guint          latency_min_ms;     /* 45 */
  guint          latency_max_ms;     /* 55 */
  guint          bootstrap_hosts;    /* known at start: 3 */
  guint          query_timeout_ms;   /* 300 */
  CbDbSetsConfig dbsets;
} CbDbSetSimConfig;

void cb_dbset_sim_config_init (CbDbSetSimConfig *cfg, guint n_nodes);

typedef struct _CbDbSetSim CbDbSetSim;

CbDbSetSim *cb_dbset_sim_new       (const CbDbSetSimConfig *cfg);
void        cb_dbset_sim_free      (CbDbSetSim *sim);
/* Starts every node over [now, now + spread_ms], each knowing a few random
 * earlier nodes. */
void        cb_dbset_sim_start_all (CbDbSetSim *sim, guint spread_ms);
/* The same for the first count nodes only; the others wait for
 * cb_dbset_sim_start_node (now, knowing a few random earlier nodes). */
void        cb_dbset_sim_start_first (CbDbSetSim *sim, guint count, guint spread_ms);
void        cb_dbset_sim_start_node  (CbDbSetSim *sim, guint node);
/* The share of the live members of node's set (as node places itself)
 * that keep node in their tables. */
double      cb_dbset_sim_known_by_set (CbDbSetSim *sim, guint node);
void        cb_dbset_sim_run_until (CbDbSetSim *sim, gint64 t_ms);
gint64      cb_dbset_sim_now       (CbDbSetSim *sim);
CbDbSets   *cb_dbset_sim_node      (CbDbSetSim *sim, guint node);
void        cb_dbset_sim_kill      (CbDbSetSim *sim, guint node);
gboolean    cb_dbset_sim_is_up     (CbDbSetSim *sim, guint node);

typedef struct {
  guint  level_min, level_max;    /* over live nodes */
  double formed;                  /* live nodes that know >= 95% of their real set */
  double mean_own_known;          /* fraction of its real set a node knows, mean */
  guint  min_tracked, mean_tracked;
  gsize  max_state_bytes, mean_state_bytes;
  guint  sets;                    /* distinct own sets of live nodes */
  guint  smallest_set, largest_set;
} CbDbSetSimStats;

/* Compares every live node's view with the truth (all live nodes). */
void        cb_dbset_sim_stats     (CbDbSetSim *sim, CbDbSetSimStats *stats);

typedef struct {
  guint   sets_asked;
  guint   sets_answered;
  guint   messages;      /* requests and answers, retries included */
  gint64  took_ms;       /* until the last set answered (or gave up) */
} CbDbSetSimQuery;

/* Runs one query from node across up to n_sets sets to its end. */
void        cb_dbset_sim_query     (CbDbSetSim      *sim,
                                    guint            node,
                                    guint            n_sets,
                                    CbDbSetSimQuery *out);

/* Directory messages and bytes sent since the last reset (all nodes). */
guint64     cb_dbset_sim_messages  (CbDbSetSim *sim);
guint64     cb_dbset_sim_bytes     (CbDbSetSim *sim);
void        cb_dbset_sim_reset_counters (CbDbSetSim *sim);
guint64     cb_dbset_sim_decode_errors (CbDbSetSim *sim);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbDbSetSim, cb_dbset_sim_free)

G_END_DECLS
