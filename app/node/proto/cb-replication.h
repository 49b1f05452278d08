/* cb-replication.h: sans-IO replication sessions (EBT-like)
 *
 * For every (peer, system) both sides host, the core tracks what the peer
 * has: per writer, the highest seq it acknowledged in a HAVE or that we
 * have sent it since.  A session opens with HAVE (our vector); the answer
 * is the peer's vector (a HAVE reply) and each side pushes the runs the
 * other lacks, then streams live: whenever our store advances, the new
 * entries go to every peer behind.  HAVE is repeated every
 * anti_entropy_ms, which repairs anything lost on the way (the optimistic
 * "sent = has" bookkeeping is corrected by the peer's own vector).
 *
 * The core never touches the store or the network: it says what to send
 * (pop_action) and the caller reads runs from the store, encodes them and
 * reports back what it sent (sent()).  Time comes in as milliseconds. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  CB_REPLICATION_SEND_HAVE,  /* send our vector for system to peer */
  CB_REPLICATION_SEND_RUN,   /* send writer's entries from from_seq to peer */
} CbReplicationActionType;

typedef struct {
  CbReplicationActionType type;
  guint8                  peer[32];
  char                   *system;
  gboolean                reply;     /* HAVE: an answer, must not be answered */
  guint8                  writer[32];
  guint64                 from_seq;
} CbReplicationAction;

void cb_replication_action_clear (CbReplicationAction *action);

typedef struct {
  guint8  writer[32];
  guint64 seq;
} CbVectorItem;

typedef struct _CbReplication CbReplication;

CbReplication *cb_replication_new  (guint anti_entropy_ms);
void           cb_replication_free (CbReplication *r);

/* Our store now has writer's log up to seq (also to seed it at start). */
void     cb_replication_local_advanced (CbReplication *r,
                                        const char    *system,
                                        const guint8   writer[32],
                                        guint64        seq);
guint64  cb_replication_local_seq      (CbReplication *r,
                                        const char    *system,
                                        const guint8   writer[32]);
/* Opens a session (sends HAVE) if there is none. */
void     cb_replication_peer_up        (CbReplication *r,
                                        const guint8   peer[32],
                                        const char    *system,
                                        gint64         now_ms);
/* Drops every session with peer. */
void     cb_replication_peer_down      (CbReplication *r,
                                        const guint8   peer[32]);
/* Ends only the session with peer for system (the peer may open it again
 * with its next HAVE). */
void     cb_replication_session_close  (CbReplication *r,
                                        const guint8   peer[32],
                                        const char    *system);
/* Peers with a session for system: GBytes of 32-byte ids. */
GPtrArray *cb_replication_get_peers    (CbReplication *r,
                                        const char    *system);
gboolean cb_replication_has_session    (CbReplication *r,
                                        const guint8   peer[32],
                                        const char    *system);
/* The peer's HAVE. */
void     cb_replication_receive_have   (CbReplication      *r,
                                        const guint8        peer[32],
                                        const char         *system,
                                        const CbVectorItem *items,
                                        gsize               n_items,
                                        gboolean            is_reply,
                                        gint64              now_ms);
/* Every SEND_RUN is answered with this: the caller sent writer's entries
 * up to last_seq to peer (0, or anything not past what the peer had: none
 * could be sent). */
void     cb_replication_sent           (CbReplication *r,
                                        const guint8   peer[32],
                                        const char    *system,
                                        const guint8   writer[32],
                                        guint64        last_seq);
/* peer sent us writer's entries up to last_seq and our store took them:
 * the peer has them, so they are not sent back. */
void     cb_replication_received       (CbReplication *r,
                                        const guint8   peer[32],
                                        const char    *system,
                                        const guint8   writer[32],
                                        guint64        last_seq);
/* Our store refused a run from peer for missing entries: ask again. */
void     cb_replication_resync         (CbReplication *r,
                                        const guint8   peer[32],
                                        const char    *system);
/* Counts a refused (invalid) run; TRUE when the peer has sent more than
 * max_rejects within window_ms and should be disconnected. */
gboolean cb_replication_rejected       (CbReplication *r,
                                        const guint8   peer[32],
                                        gint64         now_ms,
                                        guint          max_rejects,
                                        guint          window_ms);
void     cb_replication_tick           (CbReplication *r,
                                        gint64         now_ms);
gint64   cb_replication_next_deadline  (CbReplication *r);
gboolean cb_replication_pop_action     (CbReplication       *r,
                                        CbReplicationAction *out);
/* Entries peer lacks, as far as we know (sum over writers), or -1 when
 * there is no session. */
gint64   cb_replication_lag            (CbReplication *r,
                                        const guint8   peer[32],
                                        const char    *system);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CbReplicationAction, cb_replication_action_clear)

G_END_DECLS
