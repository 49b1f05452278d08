/* cb-roles.h: deterministic publisher election
 *
 * Every node runs the same election over the members it currently sees
 * alive (itself included), so nodes that see the same set agree on the
 * publishers without talking about it.  The rule:
 *
 *   N = the number of distinct candidate ids.
 *   k = floor (max_fraction * N), raised to min, lowered to max, at least 1,
 *       and at most the number of eligible candidates (so 0 when none is).
 *       The product is taken with a tiny tolerance (1e-9) so that 0.1 * 70
 *       counts as 7 whatever the rounding of the double.
 *   Only eligible candidates (holding a key the cloud trusts for signing
 *   lists) can be chosen.  They are ranked by:
 *     1. longest uptime: smaller since / 60, rounded down, first.  Starts
 *        in the same minute count as equally old, so skew of a few seconds
 *        between machines' clocks does not reorder nodes;
 *     2. more cpu;
 *     3. more mem_mb;
 *     4. smaller id, compared bytewise (ids are unique, so this is total).
 *   The first k of that ranking are the publishers.
 *
 * Preferring the oldest nodes keeps the publisher set stable while a cloud
 * grows: a node started later than the incumbents never displaces one, it
 * only fills a seat that opens when N crosses a multiple of 1 / max_fraction
 * or an incumbent leaves.  The result depends only
 * on the set of candidates, not on their order.  If an id appears more than
 * once, only its best entry counts (eligible before ineligible, then the
 * ranking above).
 *
 * min, max and max_fraction are the cloud's publishers.min/max/max_fraction
 * (cb-cloud-config.h); pure functions, no clock. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_ROLES_ID_BYTES 32
/* Uptime is compared in whole minutes. */
#define CB_ROLES_SINCE_BUCKET_SECONDS 60

typedef struct {
  guint8   id[CB_ROLES_ID_BYTES];  /* the node's ed25519 public key */
  gboolean eligible;               /* may publish (CbNodeMeta.publisher_eligible) */
  guint    cpu;
  guint    mem_mb;
  gint64   since;                  /* unix seconds the node started */
} CbRoleCandidate;

/* k in the rule above, for n_candidates distinct nodes of which
 * n_eligible may publish. */
guint    cb_roles_publisher_count  (gsize                  n_candidates,
                                    gsize                  n_eligible,
                                    guint                  min,
                                    guint                  max,
                                    double                 max_fraction);

/* Writes the elected ids to out_ids, best ranked first, and returns how
 * many there are.  out_ids needs room for n ids (k never exceeds n). */
guint    cb_roles_elect_publishers (const CbRoleCandidate *candidates,
                                    gsize                  n,
                                    guint                  min,
                                    guint                  max,
                                    double                 max_fraction,
                                    guint8               (*out_ids)[CB_ROLES_ID_BYTES]);

/* TRUE if self_id is among the elected publishers. */
gboolean cb_roles_is_publisher     (const CbRoleCandidate *candidates,
                                    gsize                  n,
                                    guint                  min,
                                    guint                  max,
                                    double                 max_fraction,
                                    const guint8           self_id[CB_ROLES_ID_BYTES]);

G_END_DECLS
