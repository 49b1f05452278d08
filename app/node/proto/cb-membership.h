/* cb-membership.h: sans-IO gossip membership (SWIM + Lifeguard + partial views)
 *
 * Failure detection is SWIM: every probe interval a node pings one member of
 * its active view (round-robin over a shuffled order); without an ack within
 * the ack timeout it asks `indirect_probes` other members to ping the target
 * for it (PING_REQ); without any ack by the end of the probe period the
 * target becomes SUSPECT.  Following Lifeguard, the suspicion timeout starts
 * at suspicion_max_ms and shrinks towards the minimum as independent
 * suspicions (confirmations) arrive; the minimum grows with log2 of the known
 * membership.  Only a member's neighbours (the nodes that probe it, and that
 * its refutation reaches first-hand) use the shrinking timeout; the rest of
 * the cloud waits suspicion_max_ms, by which time the neighbours have
 * normally announced the death.  A suspected node refutes by raising its
 * incarnation; when the timeout expires the member is DEAD.  Dead and left members stay as
 * tombstones for tombstone_ms and can come back with a higher incarnation.
 * Probe timeouts stretch with a local health score (missing nacks, being
 * suspected), and a node that notices it was paused (a tick or receive far
 * past its deadline) refutes at once to every neighbour instead of trusting
 * its stale timers.
 *
 * Updates (alive with metadata, suspect, dead, left) ride on every message
 * and on a gossip push to `fanout` active members each gossip interval; each
 * is sent retransmit_mult * ceil(log10(n + 1)) times by every node that
 * learns it (n = known members), fewest hops and sends first.  A hop count
 * and a small filter of relayed updates stop old epidemics at nodes whose
 * bounded views forgot the member; a join announcement travels only
 * join_hops relays (join replies and shuffles spread the rest).
 *
 * Views are HyParView-like and symmetric: an active view (at most
 * active_view, refilled when below active_view_min) that is probed and
 * gossiped to, a passive view (at most passive_view) for repair, refreshed
 * by periodic shuffles with a random neighbour.  Total state per node is
 * bounded whatever the cloud size:
 *   members  <= active_view + passive_view + max_tombstones
 *               (each ~120 bytes + address <= 255 + metadata <= 512)
 *   gossip   <= max_broadcasts encoded updates (each <= ~850 bytes)
 *   seen     4 KiB filter of updates already relayed
 *   plus fixed-size tables (probes, relays, seeds, neighbour requests) and
 *   at most max_events events the caller has not popped yet.
 * With the defaults that is under 1 MiB in the worst case (largest
 * addresses and metadata everywhere, events drained) and about 64 KiB with
 * 48-byte metadata.  In a cloud no larger than the views, every node knows
 * every other one.
 *
 * Sans-IO: time (milliseconds, any monotonic origin) and randomness (a seed)
 * come in; messages and events come out through pop_send/pop_event.  The
 * caller must call cb_membership_tick() no later than
 * cb_membership_next_deadline(), pass every received message to
 * cb_membership_receive() with the sender id its transport authenticated,
 * and drain sends and events after each call. */
#pragma once

#include <glib.h>

#include "cb-membership-codec.h"

G_BEGIN_DECLS

typedef enum {
  CB_MEMBER_ALIVE,
  CB_MEMBER_SUSPECT,
  CB_MEMBER_DEAD,
  CB_MEMBER_LEFT,
} CbMemberState;

typedef struct {
  guint probe_interval_ms;       /* one protocol round: 300 */
  guint ack_timeout_ms;          /* direct ack wait before indirect probes: 150 */
  guint indirect_probes;         /* PING_REQs after a missed ack: 3 */
  guint suspicion_min_ms;        /* suspicion timeout with enough confirmations, n <= 32: 3000 */
  guint suspicion_max_ms;        /* suspicion timeout without confirmations: 9000 */
  guint suspicion_growth_ms;     /* added to the minimum per doubling of n above 32: 250 */
  guint suspicion_confirmations; /* confirmations that bring the timeout to the minimum: 3 */
  guint fanout;                  /* gossip push targets per gossip interval: 3 */
  guint gossip_interval_ms;      /* 0 = probe_interval_ms */
  guint retransmit_mult;         /* sends per update = mult * ceil(log10(n + 1)): 4 */
  guint max_hops;                /* relays after which an update is no longer relayed: 32 */
  guint join_hops;               /* relays of a join announcement: 2 */
  guint active_view;             /* most neighbours: 32 */
  guint active_view_min;         /* seek neighbours below this; 0 = 3/4 of active_view */
  guint passive_view;            /* known members kept for repair: 256 */
  guint shuffle_interval_ms;     /* view exchange with one neighbour: 1000 (5x once passive is full) */
  guint shuffle_records;         /* records offered per shuffle (packed to fit): 16 */
  guint max_tombstones;          /* dead/left members remembered: 256 */
  guint tombstone_ms;            /* how long they are remembered: 300000 */
  guint max_broadcasts;          /* queued updates: 256 */
  guint max_events;              /* undelivered events kept: 4096 */
  guint max_message_bytes;       /* 1400 (>= CB_MEMBERSHIP_MIN_MESSAGE_BYTES) */
  guint join_retry_ms;           /* retry an unanswered seed, or re-join when isolated: 2000 */
  guint pause_threshold_ms;      /* a gap this long between calls means we were paused: 1200 */
  guint64 initial_incarnation;   /* e.g. a wall-clock time so a restart outranks its old self: 0 */
} CbMembershipConfig;

void cb_membership_config_init (CbMembershipConfig *cfg);

typedef struct {
  guint8        id[32];
  char         *addr;
  guint64       incarnation;
  CbMemberState state;
  GBytes       *meta;           /* NULL until the member's metadata is known */
  gint64        state_since_ms;
} CbMember;

void cb_member_clear (CbMember *member);
void cb_member_free  (CbMember *member);

/* One message to deliver.  to_addr is the address the member announced. */
typedef struct {
  guint8  to_id[32];
  char   *to_addr;
  GBytes *data;
} CbMembershipSend;

void cb_membership_send_clear (CbMembershipSend *send);

typedef enum {
  CB_MEMBERSHIP_EVENT_JOIN,    /* a member became known */
  CB_MEMBERSHIP_EVENT_UPDATE,  /* its address or metadata changed */
  CB_MEMBERSHIP_EVENT_SUSPECT,
  CB_MEMBERSHIP_EVENT_ALIVE,   /* suspicion refuted, or back from dead/left */
  CB_MEMBERSHIP_EVENT_DEAD,
  CB_MEMBERSHIP_EVENT_LEFT,
  CB_MEMBERSHIP_EVENT_FORGET,  /* dropped from the bounded state (not a failure) */
} CbMembershipEventType;

typedef struct {
  CbMembershipEventType type;
  CbMember              member;
} CbMembershipEvent;

void cb_membership_event_clear (CbMembershipEvent *event);

typedef struct _CbMembership CbMembership;

/* self_meta may be NULL; it must be at most CB_MEMBERSHIP_MAX_META bytes and
 * self_addr a valid wire address (cb_membership_addr_valid()). */
CbMembership *cb_membership_new  (const CbMembershipConfig *cfg,
                                  const guint8              self_id[32],
                                  const char               *self_addr,
                                  GBytes                   *self_meta,
                                  guint64                   rng_seed);
void          cb_membership_free (CbMembership *m);

/* Both bump our incarnation and disseminate the new record at once. */
void     cb_membership_set_meta (CbMembership *m, GBytes *meta, gint64 now_ms);
void     cb_membership_set_addr (CbMembership *m, const char *addr, gint64 now_ms);

/* A node from a bootstrap list: unless it is already known alive we send
 * it a JOIN now and retry it when isolated. */
void     cb_membership_add_seed (CbMembership *m,
                                 const guint8  id[32],
                                 const char   *addr,
                                 gint64        now_ms);

/* from_id is the id the transport authenticated.  Returns FALSE with a
 * CB_MEMBERSHIP_ERROR for a malformed message (nothing of it is applied). */
gboolean cb_membership_receive (CbMembership *m,
                                gint64        now_ms,
                                const guint8  from_id[32],
                                const guint8 *data,
                                gsize         len,
                                GError      **error);
void     cb_membership_tick          (CbMembership *m, gint64 now_ms);
/* Absolute time (ms) by which tick must run next. */
gint64   cb_membership_next_deadline (CbMembership *m);
gboolean cb_membership_pop_send      (CbMembership *m, CbMembershipSend *out);
gboolean cb_membership_pop_event     (CbMembership *m, CbMembershipEvent *out);

/* The transport could not reach id: counts as a failed direct ping (the
 * member is probed indirectly at once); an unreachable seed or passive
 * member is dropped. */
void     cb_membership_peer_unreachable (CbMembership *m, const guint8 id[32], gint64 now_ms);

/* Announces LEFT to every neighbour and stops probing.  Keep ticking for
 * about one gossip interval so the announcement spreads. */
void     cb_membership_leave (CbMembership *m, gint64 now_ms);

/* Snapshot of every known member but ourselves (active, passive and
 * tombstones); CbMember* elements owned by the array. */
GPtrArray *cb_membership_get_members  (CbMembership *m);
/* Members known and not declared dead or left (ALIVE or SUSPECT). */
guint      cb_membership_count_alive  (CbMembership *m);
/* Our current incarnation, and whether id is in our active view. */
guint64    cb_membership_get_incarnation (CbMembership *m);
guint      cb_membership_active_count    (CbMembership *m);
gboolean   cb_membership_is_active       (CbMembership *m, const guint8 id[32]);
/* A member's state and incarnation without copying its record; FALSE if
 * unknown. */
gboolean   cb_membership_member_state    (CbMembership  *m,
                                          const guint8   id[32],
                                          CbMemberState *state,
                                          guint64       *incarnation);
/* Fills out with the member's current record; FALSE if unknown. */
gboolean   cb_membership_lookup          (CbMembership *m, const guint8 id[32], CbMember *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbMembership, cb_membership_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CbMember, cb_member_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CbMembershipSend, cb_membership_send_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CbMembershipEvent, cb_membership_event_clear)

G_END_DECLS
