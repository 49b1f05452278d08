/* cb-handshake.h: sans-IO mutually authenticated handshake between nodes
 *
 * Three messages (1.5 round trips), 307 bytes in all:
 *
 *   M1  I -> R   0x11 | e_i | mac                       49 bytes
 *   M2  R -> I   0x12 | e_r | aead(k2, id_r | sig_r)    145 bytes
 *   M3  I -> R   0x13 | aead(k3, id_i | sig_i)          113 bytes
 *
 * The first byte is the version (high nibble, 1) and the message number
 * (low nibble).  e_* are X25519 ephemeral keys, id_* ed25519 identities
 * (node ids) and sig_* signatures over the transcript.  Only holders of
 * the cloud's network key can make M1's mac or M2's and M3's AEAD keys, so
 * a node of another cloud is refused at the first message and never sees
 * an identity.  The wire format is specified in cb-handshake.c.
 *
 * Flow: the initiator calls cb_handshake_start() and sends M1; the
 * responder passes M1 to cb_handshake_receive() and sends the reply (M2);
 * the initiator receives M2, sends its reply (M3) and is done; the
 * responder receives M3 and is done, with nothing to send.  Any error
 * leaves the handshake failed for good.  Timeouts are the caller's job. */
#pragma once

#include <glib.h>

#include "cb-channel.h"

G_BEGIN_DECLS

/* The same values as in cb-identity.h (an identical redefinition is
 * allowed), so this core does not depend on the identity file code. */
#define CB_NODE_ID_BYTES 32          /* ed25519 public key = node id */
#define CB_NETWORK_KEY_BYTES 32      /* shared secret of one cloud */
#define CB_IDENTITY_SECRET_BYTES 64  /* libsodium ed25519 secret key (seed | public key) */
#define CB_HANDSHAKE_SEED_BYTES 32   /* fresh randomness for one handshake */

#define CB_HANDSHAKE_VERSION 1
#define CB_HANDSHAKE_M1_BYTES 49
#define CB_HANDSHAKE_M2_BYTES 145
#define CB_HANDSHAKE_M3_BYTES 113
/* A transport can drop anything longer before calling receive. */
#define CB_HANDSHAKE_MAX_MESSAGE_BYTES CB_HANDSHAKE_M2_BYTES

#define CB_HANDSHAKE_ERROR (cb_handshake_error_quark ())
GQuark cb_handshake_error_quark (void);

typedef enum {
  CB_HANDSHAKE_ERROR_MALFORMED,        /* wrong length, version or message, bad key */
  CB_HANDSHAKE_ERROR_WRONG_NETWORK,    /* not made with this cloud's network key (M1, M2) */
  CB_HANDSHAKE_ERROR_BAD_SIGNATURE,    /* M3 not from this session, or a signature fails */
  CB_HANDSHAKE_ERROR_UNEXPECTED_PEER,  /* not the expected node, or ourselves */
  CB_HANDSHAKE_ERROR_STATE,            /* wrong call for this side/step, or already failed */
} CbHandshakeError;

typedef struct _CbHandshake CbHandshake;

/* ephemeral_seed must be fresh random bytes for every handshake: the
 * ephemeral key pair is derived from it, so equal seeds give equal bytes.
 * expected_peer (CB_NODE_ID_BYTES) or NULL to accept any member of the
 * cloud.  All buffers are copied. */
CbHandshake  *cb_handshake_new          (gboolean      initiator,
                                         const guint8  network_key[CB_NETWORK_KEY_BYTES],
                                         const guint8  identity_secret[CB_IDENTITY_SECRET_BYTES],
                                         const guint8 *expected_peer,
                                         const guint8  ephemeral_seed[CB_HANDSHAKE_SEED_BYTES]);
void          cb_handshake_free         (CbHandshake  *hs);

/* Initiator only: returns M1. */
GBytes       *cb_handshake_start        (CbHandshake  *hs,
                                         GError      **error);
/* Feeds the peer's next message.  *reply is set to the message to send, or
 * to NULL when there is nothing to send. */
gboolean      cb_handshake_receive      (CbHandshake  *hs,
                                         const guint8 *msg,
                                         gsize         len,
                                         GBytes      **reply,
                                         GError      **error);
/* TRUE once both identities are verified (and after into_channel). */
gboolean      cb_handshake_is_done      (CbHandshake  *hs);
/* The peer's verified node id once done (also after into_channel), else NULL. */
const guint8 *cb_handshake_get_peer_id  (CbHandshake  *hs);
/* Once done: the channel keyed by this session.  The handshake is spent
 * afterwards (its secrets are wiped); it still has to be freed. */
CbChannel    *cb_handshake_into_channel (CbHandshake  *hs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbHandshake, cb_handshake_free)

G_END_DECLS
