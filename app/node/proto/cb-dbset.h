/* cb-dbset.h: db-sets, the replication groups of one system's hosts (sans-IO)
 *
 * Every host of a system holds a full copy of the system's data, but it
 * only replicates with a few others, so the work per host stays the same
 * however many hosts there are.  Hosts are grouped into db-sets of about
 * set_size (cloud.json's db_set_size): a host's set is named by the first
 * `level` bits of a hash of (system, host id), so sets are the leaves of a
 * binary trie at one depth and a host's set follows from its id alone.
 *
 *   level   each host estimates the number of hosts H from what it knows
 *           (every host when the cloud is small; its own set's size times
 *           2^level when it is large) and picks level = floor(log2(H /
 *           set_size)), moving only when the estimate is 25% past a
 *           boundary so sets do not flap; it never stays below the median
 *           level other hosts report, so a newcomer adopts the cloud's.
 *   own set the host learns every member of its set by asking them (a
 *           REQUEST for its own set every gossip interval to a random
 *           member answers with members it may lack; the interval doubles
 *           up to 8x while nothing new is heard and is back at once when
 *           something is) and replicates with
 *           set_peers of them: the ones with the lowest pair weight, a hash
 *           of both ids, so the choice is mutual and the set's graph is a
 *           random, connected one.
 *   tracked it keeps contacts (contacts_per_set hosts) in up to
 *   sets    sets_tracked other sets (cloud.json's db_sets_tracked), spread
 *           like a Pastry routing table: row r holds sets that share
 *           exactly r leading bits with its own, and a full table evicts
 *           from its fullest row, so near rows stay complete and any set is
 *           found in O(log) REQUESTs.  A REQUEST for a set it has no
 *           member of is answered with the contacts closest to it.
 *   bridges the `bridges` members of each set with the lowest bridge rank
 *           also replicate with one contact in each set that differs from
 *           theirs in exactly one bit (a hypercube): a write crosses at
 *           most `level` bridge links to reach every set.
 *
 * A cloud-wide query asks a contact in each of several tracked sets
 * (cb_dbsets_pick_query_targets) and merges the answers.
 *
 * State is bounded: at most max(4 * set_size, 256) own-set members and
 * sets_tracked * contacts_per_set contacts in other sets, each under
 * 400 bytes: under 300 KiB with the defaults.  While every host fits, all
 * are kept (a small cloud's hosts all know each other, and count the cloud
 * exactly, so they agree on the level).  The caller feeds in the hosts membership reports
 * (host_seen/host_gone), every directory message (receive), and calls tick
 * no later than next_deadline; it sends what pop_send returns on the
 * transport's CB_PROTO_DBSET and re-reads the partners whenever the
 * generation changes.  Time is milliseconds; randomness comes from the
 * seed. */
#pragma once

#include <glib.h>

#include "cb-dbset-codec.h"

G_BEGIN_DECLS

typedef struct {
  guint set_size;             /* hosts per set: db_set_size, 100 */
  guint sets_tracked;         /* other sets known: db_sets_tracked, 100 */
  guint contacts_per_set;     /* hosts kept per tracked set: 3 */
  guint set_peers;            /* replication partners inside the set: 8 */
  guint bridges;              /* members of each set that link to other sets: 2 */
  guint gossip_interval_ms;   /* ask a member of our set: 1000 */
  guint refresh_interval_ms;  /* look up another set: 5000 */
  guint max_answer;           /* hosts in one answer: 64 */
} CbDbSetsConfig;

void cb_dbsets_config_init (CbDbSetsConfig *config);

typedef struct _CbDbSets CbDbSets;

typedef struct {
  guint8  to_id[32];
  char   *to_addr;
  GBytes *data;
} CbDbSetSend;

void cb_dbset_send_clear (CbDbSetSend *send);

/* A host to ask, in a set. */
typedef struct {
  CbDbSetId set;
  guint8    id[32];
  char     *addr;
} CbDbSetTarget;

void cb_dbset_target_free (CbDbSetTarget *target);

/* Where a host sits in the trie, and a set's name ("*" at level 0, else its
 * bits, e.g. "0110"). */
guint64   cb_dbset_host_hash  (const char   *system,
                               const guint8  id[32]);
CbDbSetId cb_dbset_id_of      (guint64       hash,
                               guint         level);
char     *cb_dbset_id_to_string (CbDbSetId   set);

CbDbSets *cb_dbsets_new       (const char           *system,
                               const guint8          self_id[32],
                               const char           *self_addr,
                               const CbDbSetsConfig *config,
                               guint64               seed);
void      cb_dbsets_free      (CbDbSets     *sets);

/* A host of the system is alive at addr (membership, or a directory
 * message from it). */
void      cb_dbsets_host_seen (CbDbSets     *sets,
                               const guint8  id[32],
                               const char   *addr,
                               gint64        now_ms);
/* It is dead, left, or did not answer. */
void      cb_dbsets_host_gone (CbDbSets     *sets,
                               const guint8  id[32]);
/* A directory message from `from` (the transport authenticated it). */
void      cb_dbsets_receive   (CbDbSets             *sets,
                               const guint8          from[32],
                               const CbDbSetMessage *message,
                               gint64                now_ms);
void      cb_dbsets_tick      (CbDbSets     *sets,
                               gint64        now_ms);
gint64    cb_dbsets_next_deadline (CbDbSets *sets);
gboolean  cb_dbsets_pop_send  (CbDbSets     *sets,
                               CbDbSetSend  *out);

/* Bumped whenever the level, the own set, the bridge role or the partners
 * may have changed. */
guint64   cb_dbsets_get_generation  (CbDbSets *sets);
guint     cb_dbsets_get_level       (CbDbSets *sets);
CbDbSetId cb_dbsets_get_own_set     (CbDbSets *sets);
/* Members of our set we know, ourselves included. */
guint     cb_dbsets_count_own       (CbDbSets *sets);
guint     cb_dbsets_count_tracked   (CbDbSets *sets);
guint     cb_dbsets_count_contacts  (CbDbSets *sets);
guint64   cb_dbsets_estimate_hosts  (CbDbSets *sets);
gboolean  cb_dbsets_is_bridge       (CbDbSets *sets);
/* Whom to replicate with: set peers, and as a bridge one contact per
 * neighbouring set.  CbDbSetHost* (owned by the array). */
GPtrArray *cb_dbsets_get_partners   (CbDbSets *sets);
/* Up to n sets to ask, our own first (if it has another member), each
 * with one contact: CbDbSetTarget* (owned by the array). */
GPtrArray *cb_dbsets_pick_query_targets (CbDbSets *sets,
                                         guint     n);
/* Where a host we keep can be dialled, or NULL. */
const char *cb_dbsets_lookup_addr (CbDbSets     *sets,
                                   const guint8  id[32]);
/* One contact in the set (most recently seen), or NULL when we know none. */
CbDbSetTarget *cb_dbsets_pick_contact (CbDbSets  *sets,
                                       CbDbSetId  set);
/* Up to max contacts in the set, most recently seen first (our own set:
 * in random order): CbDbSetTarget* (owned by the array). */
GPtrArray *cb_dbsets_get_contacts   (CbDbSets  *sets,
                                     CbDbSetId  set,
                                     guint      max);
/* Bytes of memory this state takes (an upper estimate). */
gsize     cb_dbsets_state_bytes     (CbDbSets *sets);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbDbSets, cb_dbsets_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CbDbSetSend, cb_dbset_send_clear)

G_END_DECLS
