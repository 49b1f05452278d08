/* cb-handshake.c: the node-to-node handshake (SIGMA-I shape, network key
 * as a pre-shared key, as in Secure Scuttlebutt's secret handshake)
 *
 * Notation: H(x) = BLAKE2b-256(x); MAC_k(x) = keyed BLAKE2b; KDF(k, i) =
 * crypto_kdf_derive_from_key; AEAD = ChaCha20-Poly1305-IETF with a zero
 * nonce (every AEAD key below encrypts exactly one message); N = network
 * key; "|" = concatenation.
 *
 *   h0  = H("cloud-bevy handshake v1")
 *   M1  = 0x11 | e_i | MAC_N("cb-hs1 m1" | 0x11 | e_i)[16]
 *   h1  = H(h0 | M1)
 *   h2  = H(h1 | 0x12 | e_r)
 *   ck  = MAC_N("cb-hs1 ck" | X25519(e, e_peer) | h2)[32]
 *   k2, k3 = KDF(ck, 1 / 2, "cbhs1key")
 *   M2  = 0x12 | e_r | AEAD(k2, ad = h2, id_r | Sign_r("cloud-bevy hs1 responder" | h2))
 *   h3  = H(h2 | id_r | sig_r)
 *   M3  = 0x13 | AEAD(k3, ad = h3, id_i | Sign_i("cloud-bevy hs1 initiator" | h3))
 *   h4  = H(h3 | id_i | sig_i)
 *   master = MAC_ck("cb-hs1 session" | h4)
 *   key I->R, key R->I = KDF(master, 1 / 2, "cbchanl1")
 *
 * Why each piece is there:
 * - M1's MAC lets a responder refuse a stranger before the DH and the
 *   signature, and before revealing anything.  A replayed M1 passes the MAC, but the
 *   replayer lacks e_i's secret, so it can read nothing and cannot make M3.
 * - M2 needs no separate MAC: its AEAD key is derived from N and the DH,
 *   and e_r is in the associated data, so the initiator's failure to open
 *   it is the "other cloud" signal (it costs one DH instead of a hash, and
 *   saves 16 bytes to keep the three messages under 320 bytes).
 * - Each side signs the transcript hash, which covers both ephemeral keys
 *   (and, for the initiator, the responder's identity), so a signature
 *   cannot be moved to another session.  The labels differ per role, so a
 *   responder's signature can never serve as an initiator's.
 * - Identities travel inside AEAD under DH-derived keys: a passive observer
 *   never learns who talks to whom, and the AEAD binds each identity to the
 *   ephemeral keys (the MAC step of SIGMA).
 * - A peer presenting our own identity is refused: that is a reflected or
 *   looped connection.
 * - Session keys mix the DH, N and the whole transcript, one per direction. */
#define G_LOG_DOMAIN "cb-handshake"

#include "cb-handshake.h"

#include <sodium.h>
#include <string.h>

G_STATIC_ASSERT (CB_NODE_ID_BYTES == crypto_sign_PUBLICKEYBYTES);
G_STATIC_ASSERT (CB_IDENTITY_SECRET_BYTES == crypto_sign_SECRETKEYBYTES);
G_STATIC_ASSERT (CB_HANDSHAKE_SEED_BYTES == crypto_kx_SEEDBYTES);

#define KEY_BYTES 32
#define HASH_BYTES 32
#define MAC_BYTES 16
#define SIG_BYTES crypto_sign_BYTES
#define AEAD_TAG_BYTES crypto_aead_chacha20poly1305_ietf_ABYTES
#define IDENTITY_PAYLOAD_BYTES (CB_NODE_ID_BYTES + SIG_BYTES)

G_STATIC_ASSERT (CB_HANDSHAKE_M1_BYTES == 1 + KEY_BYTES + MAC_BYTES);
G_STATIC_ASSERT (CB_HANDSHAKE_M2_BYTES == 1 + KEY_BYTES + IDENTITY_PAYLOAD_BYTES + AEAD_TAG_BYTES);
G_STATIC_ASSERT (CB_HANDSHAKE_M3_BYTES == 1 + IDENTITY_PAYLOAD_BYTES + AEAD_TAG_BYTES);
G_STATIC_ASSERT (CB_HANDSHAKE_M1_BYTES + CB_HANDSHAKE_M2_BYTES + CB_HANDSHAKE_M3_BYTES <= 320);
G_STATIC_ASSERT (CB_CHANNEL_KEY_BYTES == KEY_BYTES);

#define PROTOCOL_LABEL "cloud-bevy handshake v1"
#define M1_MAC_LABEL "cb-hs1 m1"
#define CK_LABEL "cb-hs1 ck"
#define SESSION_LABEL "cb-hs1 session"
#define SIG_LABEL_RESPONDER "cloud-bevy hs1 responder"
#define SIG_LABEL_INITIATOR "cloud-bevy hs1 initiator"
#define KDF_HANDSHAKE "cbhs1key"
#define KDF_CHANNEL "cbchanl1"

#define TYPE_BYTE(n) ((guint8) ((CB_HANDSHAKE_VERSION << 4) | (n)))

typedef enum {
  STATE_INITIATOR_NEW,
  STATE_INITIATOR_SENT_M1,
  STATE_RESPONDER_NEW,
  STATE_RESPONDER_SENT_M2,
  STATE_DONE,
  STATE_SPENT,
  STATE_FAILED,
} State;

struct _CbHandshake
{
  State state;
  gboolean initiator;
  gboolean has_expected_peer;
  guint8 network_key[CB_NETWORK_KEY_BYTES];
  guint8 identity_secret[CB_IDENTITY_SECRET_BYTES];
  guint8 expected_peer[CB_NODE_ID_BYTES];
  guint8 e_pk[KEY_BYTES];
  guint8 e_sk[KEY_BYTES];
  guint8 transcript[HASH_BYTES];  /* h1, h3 or h4 depending on the step */
  guint8 ck[KEY_BYTES];           /* chaining key; the session master once done */
  guint8 peer_id[CB_NODE_ID_BYTES];
};

G_DEFINE_QUARK (cb-handshake-error-quark, cb_handshake_error)

static const guint8 zero_nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

static const guint8 *
own_id (CbHandshake *hs)
{
  return hs->identity_secret + (CB_IDENTITY_SECRET_BYTES - CB_NODE_ID_BYTES);
}

static void
wipe_secrets (CbHandshake *hs)
{
  sodium_memzero (hs->network_key, sizeof hs->network_key);
  sodium_memzero (hs->identity_secret, sizeof hs->identity_secret);
  sodium_memzero (hs->e_sk, sizeof hs->e_sk);
  sodium_memzero (hs->ck, sizeof hs->ck);
}

static gboolean
fail (CbHandshake     *hs,
      GError         **error,
      CbHandshakeError code,
      const char      *format,
      ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (CbHandshake     *hs,
      GError         **error,
      CbHandshakeError code,
      const char      *format,
      ...)
{
  va_list args;

  /* a failed handshake is never used again: its secrets can go now */
  wipe_secrets (hs);
  hs->state = STATE_FAILED;
  if (error == NULL)
    return FALSE;
  va_start (args, format);
  *error = g_error_new_valist (CB_HANDSHAKE_ERROR, code, format, args);
  va_end (args);
  return FALSE;
}

static void
hex_id (const guint8 id[CB_NODE_ID_BYTES],
        char         out[CB_NODE_ID_BYTES * 2 + 1])
{
  sodium_bin2hex (out, CB_NODE_ID_BYTES * 2 + 1, id, CB_NODE_ID_BYTES);
}

/* out = H(prev | a | b); prev NULL means h0 */
static void
transcript_mix (guint8        out[HASH_BYTES],
                const guint8 *prev,
                const guint8 *a,
                gsize         a_len,
                const guint8 *b,
                gsize         b_len)
{
  crypto_generichash_state st;

  crypto_generichash_init (&st, NULL, 0, HASH_BYTES);
  if (prev != NULL)
    {
      crypto_generichash_update (&st, prev, HASH_BYTES);
    }
  else
    {
      guint8 h0[HASH_BYTES];

      crypto_generichash (h0, sizeof h0, (const guint8 *) PROTOCOL_LABEL,
                          strlen (PROTOCOL_LABEL), NULL, 0);
      crypto_generichash_update (&st, h0, sizeof h0);
    }
  crypto_generichash_update (&st, a, a_len);
  if (b != NULL)
    crypto_generichash_update (&st, b, b_len);
  crypto_generichash_final (&st, out, HASH_BYTES);
}

static void
m1_mac (guint8        mac[MAC_BYTES],
        const guint8  network_key[CB_NETWORK_KEY_BYTES],
        const guint8 *type_and_key /* 1 + KEY_BYTES */)
{
  crypto_generichash_state st;

  crypto_generichash_init (&st, network_key, CB_NETWORK_KEY_BYTES, MAC_BYTES);
  crypto_generichash_update (&st, (const guint8 *) M1_MAC_LABEL, strlen (M1_MAC_LABEL));
  crypto_generichash_update (&st, type_and_key, 1 + KEY_BYTES);
  crypto_generichash_final (&st, mac, MAC_BYTES);
}

/* ck from the DH and h2; FALSE if the peer's key is a low-order point */
static gboolean
derive_chaining_key (CbHandshake  *hs,
                     const guint8  peer_e[KEY_BYTES],
                     const guint8  h2[HASH_BYTES])
{
  crypto_generichash_state st;
  guint8 dh[crypto_scalarmult_BYTES];

  if (crypto_scalarmult (dh, hs->e_sk, peer_e) != 0)
    return FALSE;
  sodium_memzero (hs->e_sk, sizeof hs->e_sk);
  crypto_generichash_init (&st, hs->network_key, CB_NETWORK_KEY_BYTES, KEY_BYTES);
  crypto_generichash_update (&st, (const guint8 *) CK_LABEL, strlen (CK_LABEL));
  crypto_generichash_update (&st, dh, sizeof dh);
  crypto_generichash_update (&st, h2, HASH_BYTES);
  crypto_generichash_final (&st, hs->ck, KEY_BYTES);
  sodium_memzero (dh, sizeof dh);
  sodium_memzero (&st, sizeof st);
  return TRUE;
}

static void
message_key (guint8              key[KEY_BYTES],
             const CbHandshake  *hs,
             guint64             which)
{
  crypto_kdf_derive_from_key (key, KEY_BYTES, which, KDF_HANDSHAKE, hs->ck);
}

/* ck becomes the session master: MAC_ck(label | h4) */
static void
derive_master (CbHandshake *hs)
{
  crypto_generichash_state st;
  guint8 master[KEY_BYTES];

  crypto_generichash_init (&st, hs->ck, KEY_BYTES, KEY_BYTES);
  crypto_generichash_update (&st, (const guint8 *) SESSION_LABEL, strlen (SESSION_LABEL));
  crypto_generichash_update (&st, hs->transcript, HASH_BYTES);
  crypto_generichash_final (&st, master, KEY_BYTES);
  memcpy (hs->ck, master, KEY_BYTES);
  sodium_memzero (master, sizeof master);
  sodium_memzero (&st, sizeof st);
}

static void
sign_transcript (guint8         sig[SIG_BYTES],
                 const char    *label,
                 const guint8   h[HASH_BYTES],
                 const guint8  *secret)
{
  guint8 msg[64];
  gsize label_len = strlen (label);

  g_assert (label_len + HASH_BYTES <= sizeof msg);
  memcpy (msg, label, label_len);
  memcpy (msg + label_len, h, HASH_BYTES);
  crypto_sign_detached (sig, NULL, msg, label_len + HASH_BYTES, secret);
}

static gboolean
verify_transcript (const guint8 sig[SIG_BYTES],
                   const char   *label,
                   const guint8  h[HASH_BYTES],
                   const guint8  id[CB_NODE_ID_BYTES])
{
  guint8 msg[64];
  gsize label_len = strlen (label);

  g_assert (label_len + HASH_BYTES <= sizeof msg);
  memcpy (msg, label, label_len);
  memcpy (msg + label_len, h, HASH_BYTES);
  return crypto_sign_verify_detached (sig, msg, label_len + HASH_BYTES, id) == 0;
}

/* id | Sign(label | h), sealed under key with h as associated data */
static void
seal_identity (CbHandshake  *hs,
               guint8       *out /* IDENTITY_PAYLOAD_BYTES + AEAD_TAG_BYTES */,
               const guint8  key[KEY_BYTES],
               const char   *label,
               const guint8  h[HASH_BYTES],
               guint8        payload[IDENTITY_PAYLOAD_BYTES] /* out: the plaintext */)
{
  memcpy (payload, own_id (hs), CB_NODE_ID_BYTES);
  sign_transcript (payload + CB_NODE_ID_BYTES, label, h, hs->identity_secret);
  crypto_aead_chacha20poly1305_ietf_encrypt (out, NULL, payload, IDENTITY_PAYLOAD_BYTES,
                                             h, HASH_BYTES, NULL, zero_nonce, key);
}

/* Checks the peer's verified identity against ourselves and expected_peer. */
static gboolean
check_peer (CbHandshake  *hs,
            const guint8  id[CB_NODE_ID_BYTES],
            const char   *role,
            GError      **error)
{
  char id_hex[CB_NODE_ID_BYTES * 2 + 1];
  char expected_hex[CB_NODE_ID_BYTES * 2 + 1];

  hex_id (id, id_hex);
  if (sodium_memcmp (id, own_id (hs), CB_NODE_ID_BYTES) == 0)
    return fail (hs, error, CB_HANDSHAKE_ERROR_UNEXPECTED_PEER,
                 "the %s is this node itself (%s): the connection looped back to us "
                 "or our own messages were reflected; check the peer address",
                 role, id_hex);
  if (hs->has_expected_peer && sodium_memcmp (id, hs->expected_peer, CB_NODE_ID_BYTES) != 0)
    {
      hex_id (hs->expected_peer, expected_hex);
      return fail (hs, error, CB_HANDSHAKE_ERROR_UNEXPECTED_PEER,
                   "the %s is node %s, but node %s was expected; the address may now "
                   "belong to another node: refresh the node list",
                   role, id_hex, expected_hex);
    }
  return TRUE;
}

/* Version, message number and length; the caller knows which one is due. */
static gboolean
check_framing (CbHandshake  *hs,
               const guint8 *msg,
               gsize         len,
               guint         number,
               gsize         expected_len,
               GError      **error)
{
  guint version, got;
  /* the message we sent last (0: none), the one an attacker would reflect */
  guint ours = number - 1;

  if (len == 0)
    return fail (hs, error, CB_HANDSHAKE_ERROR_MALFORMED,
                 "handshake message %u is empty; the peer closed or is not a Cloud Bevy node",
                 number);
  version = msg[0] >> 4;
  got = msg[0] & 0x0f;
  if (version != CB_HANDSHAKE_VERSION)
    return fail (hs, error, CB_HANDSHAKE_ERROR_MALFORMED,
                 "the peer speaks handshake version %u, this node speaks version %u; "
                 "one of the two runs an incompatible Cloud Bevy release and must be updated",
                 version, (guint) CB_HANDSHAKE_VERSION);
  if (got != number)
    return fail (hs, error, CB_HANDSHAKE_ERROR_MALFORMED,
                 "expected handshake message %u but received message %u%s",
                 number, got,
                 (ours != 0 && got == ours) ? " (our own message reflected back?)"
                                            : "; the peer is out of step with this node");
  if (len != expected_len)
    return fail (hs, error, CB_HANDSHAKE_ERROR_MALFORMED,
                 "handshake message %u is %" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT
                 "; it was truncated or padded in transit",
                 number, len, expected_len);
  return TRUE;
}

CbHandshake *
cb_handshake_new (gboolean      initiator,
                  const guint8  network_key[CB_NETWORK_KEY_BYTES],
                  const guint8  identity_secret[CB_IDENTITY_SECRET_BYTES],
                  const guint8 *expected_peer,
                  const guint8  ephemeral_seed[CB_HANDSHAKE_SEED_BYTES])
{
  CbHandshake *hs;

  g_return_val_if_fail (network_key != NULL, NULL);
  g_return_val_if_fail (identity_secret != NULL, NULL);
  g_return_val_if_fail (ephemeral_seed != NULL, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium cannot initialise");

  hs = g_new0 (CbHandshake, 1);
  hs->initiator = !!initiator;
  hs->state = initiator ? STATE_INITIATOR_NEW : STATE_RESPONDER_NEW;
  memcpy (hs->network_key, network_key, CB_NETWORK_KEY_BYTES);
  memcpy (hs->identity_secret, identity_secret, CB_IDENTITY_SECRET_BYTES);
  if (expected_peer != NULL)
    {
      hs->has_expected_peer = TRUE;
      memcpy (hs->expected_peer, expected_peer, CB_NODE_ID_BYTES);
    }
  crypto_kx_seed_keypair (hs->e_pk, hs->e_sk, ephemeral_seed);
  return hs;
}

void
cb_handshake_free (CbHandshake *hs)
{
  if (hs == NULL)
    return;
  sodium_memzero (hs, sizeof *hs);
  g_free (hs);
}

static gboolean
check_not_finished (CbHandshake *hs,
                    GError     **error)
{
  switch (hs->state)
    {
    case STATE_FAILED:
      /* already failed: report it, nothing left to wipe */
      g_set_error_literal (error, CB_HANDSHAKE_ERROR, CB_HANDSHAKE_ERROR_STATE,
                           "this handshake already failed; start a new one with a fresh "
                           "ephemeral seed");
      return FALSE;
    case STATE_DONE:
      return fail (hs, error, CB_HANDSHAKE_ERROR_STATE,
                   "the handshake is already complete; a further handshake message is a "
                   "protocol violation");
    case STATE_SPENT:
      return fail (hs, error, CB_HANDSHAKE_ERROR_STATE,
                   "the handshake was turned into a channel; use the channel from now on");
    case STATE_INITIATOR_NEW:
    case STATE_INITIATOR_SENT_M1:
    case STATE_RESPONDER_NEW:
    case STATE_RESPONDER_SENT_M2:
    default:
      return TRUE;
    }
}

GBytes *
cb_handshake_start (CbHandshake  *hs,
                    GError      **error)
{
  guint8 *m1;

  g_return_val_if_fail (hs != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_not_finished (hs, error))
    return NULL;
  if (hs->state != STATE_INITIATOR_NEW)
    {
      fail (hs, error, CB_HANDSHAKE_ERROR_STATE,
            hs->initiator ? "the handshake was already started; message 1 is sent once"
                          : "only the initiator starts a handshake; this side is the "
                            "responder and waits for message 1");
      return NULL;
    }

  m1 = g_malloc (CB_HANDSHAKE_M1_BYTES);
  m1[0] = TYPE_BYTE (1);
  memcpy (m1 + 1, hs->e_pk, KEY_BYTES);
  m1_mac (m1 + 1 + KEY_BYTES, hs->network_key, m1);
  transcript_mix (hs->transcript, NULL, m1, CB_HANDSHAKE_M1_BYTES, NULL, 0);
  hs->state = STATE_INITIATOR_SENT_M1;
  return g_bytes_new_take (m1, CB_HANDSHAKE_M1_BYTES);
}

/* Responder: M1 in, M2 out. */
static gboolean
receive_m1 (CbHandshake  *hs,
            const guint8 *msg,
            gsize         len,
            GBytes      **reply,
            GError      **error)
{
  guint8 mac[MAC_BYTES];
  guint8 h2[HASH_BYTES];
  guint8 k2[KEY_BYTES];
  guint8 payload[IDENTITY_PAYLOAD_BYTES];
  const guint8 *e_i;
  guint8 *m2;

  if (!check_framing (hs, msg, len, 1, CB_HANDSHAKE_M1_BYTES, error))
    return FALSE;
  e_i = msg + 1;
  m1_mac (mac, hs->network_key, msg);
  if (crypto_verify_16 (mac, msg + 1 + KEY_BYTES) != 0)
    return fail (hs, error, CB_HANDSHAKE_ERROR_WRONG_NETWORK,
                 "handshake message 1 is not authenticated by this cloud's network key: "
                 "the connecting node belongs to another cloud (compare the network key in "
                 "both nodes' cloud.json) or the message was altered in transit");

  transcript_mix (hs->transcript, NULL, msg, len, NULL, 0);
  m2 = g_malloc (CB_HANDSHAKE_M2_BYTES);
  m2[0] = TYPE_BYTE (2);
  memcpy (m2 + 1, hs->e_pk, KEY_BYTES);
  transcript_mix (h2, hs->transcript, m2, 1 + KEY_BYTES, NULL, 0);
  if (!derive_chaining_key (hs, e_i, h2))
    {
      g_free (m2);
      return fail (hs, error, CB_HANDSHAKE_ERROR_MALFORMED,
                   "the initiator's ephemeral key is a low-order point; the peer is broken "
                   "or hostile");
    }
  message_key (k2, hs, 1);
  seal_identity (hs, m2 + 1 + KEY_BYTES, k2, SIG_LABEL_RESPONDER, h2, payload);
  transcript_mix (hs->transcript, h2, payload, sizeof payload, NULL, 0);  /* h3 */
  sodium_memzero (k2, sizeof k2);

  hs->state = STATE_RESPONDER_SENT_M2;
  *reply = g_bytes_new_take (m2, CB_HANDSHAKE_M2_BYTES);
  return TRUE;
}

/* Initiator: M2 in, M3 out, done. */
static gboolean
receive_m2 (CbHandshake  *hs,
            const guint8 *msg,
            gsize         len,
            GBytes      **reply,
            GError      **error)
{
  guint8 h2[HASH_BYTES];
  guint8 key[KEY_BYTES];
  guint8 payload[IDENTITY_PAYLOAD_BYTES];
  guint8 own_payload[IDENTITY_PAYLOAD_BYTES];
  char id_hex[CB_NODE_ID_BYTES * 2 + 1];
  const guint8 *e_r;
  guint8 *m3;
  int rc;

  if (!check_framing (hs, msg, len, 2, CB_HANDSHAKE_M2_BYTES, error))
    return FALSE;
  e_r = msg + 1;
  if (sodium_memcmp (e_r, hs->e_pk, KEY_BYTES) == 0)
    return fail (hs, error, CB_HANDSHAKE_ERROR_UNEXPECTED_PEER,
                 "the responder's ephemeral key is our own: our message 1 was reflected "
                 "back; check the peer address");

  transcript_mix (h2, hs->transcript, msg, 1 + KEY_BYTES, NULL, 0);
  if (!derive_chaining_key (hs, e_r, h2))
    return fail (hs, error, CB_HANDSHAKE_ERROR_MALFORMED,
                 "the responder's ephemeral key is a low-order point; the peer is broken "
                 "or hostile");
  message_key (key, hs, 1);
  rc = crypto_aead_chacha20poly1305_ietf_decrypt (payload, NULL, NULL,
                                                  msg + 1 + KEY_BYTES, len - 1 - KEY_BYTES,
                                                  h2, HASH_BYTES, zero_nonce, key);
  sodium_memzero (key, sizeof key);
  if (rc != 0)
    return fail (hs, error, CB_HANDSHAKE_ERROR_WRONG_NETWORK,
                 "handshake message 2 is not authenticated by this cloud's network key: "
                 "the responder belongs to another cloud (compare the network key in both "
                 "nodes' cloud.json) or the message was altered in transit");
  if (!verify_transcript (payload + CB_NODE_ID_BYTES, SIG_LABEL_RESPONDER, h2, payload))
    {
      hex_id (payload, id_hex);
      return fail (hs, error, CB_HANDSHAKE_ERROR_BAD_SIGNATURE,
                   "the responder's signature does not verify for node %s: its identity "
                   "key file is inconsistent or corrupt", id_hex);
    }
  if (!check_peer (hs, payload, "responder", error))
    return FALSE;
  memcpy (hs->peer_id, payload, CB_NODE_ID_BYTES);
  transcript_mix (hs->transcript, h2, payload, sizeof payload, NULL, 0);  /* h3 */

  m3 = g_malloc (CB_HANDSHAKE_M3_BYTES);
  m3[0] = TYPE_BYTE (3);
  message_key (key, hs, 2);
  seal_identity (hs, m3 + 1, key, SIG_LABEL_INITIATOR, hs->transcript, own_payload);
  sodium_memzero (key, sizeof key);
  transcript_mix (hs->transcript, hs->transcript, own_payload, sizeof own_payload, NULL, 0);
  derive_master (hs);

  hs->state = STATE_DONE;
  *reply = g_bytes_new_take (m3, CB_HANDSHAKE_M3_BYTES);
  return TRUE;
}

/* Responder: M3 in, done. */
static gboolean
receive_m3 (CbHandshake  *hs,
            const guint8 *msg,
            gsize         len,
            GError      **error)
{
  guint8 key[KEY_BYTES];
  guint8 payload[IDENTITY_PAYLOAD_BYTES];
  char id_hex[CB_NODE_ID_BYTES * 2 + 1];
  int rc;

  if (!check_framing (hs, msg, len, 3, CB_HANDSHAKE_M3_BYTES, error))
    return FALSE;
  message_key (key, hs, 2);
  rc = crypto_aead_chacha20poly1305_ietf_decrypt (payload, NULL, NULL, msg + 1, len - 1,
                                                  hs->transcript, HASH_BYTES, zero_nonce, key);
  sodium_memzero (key, sizeof key);
  /* M1 passed the network MAC, so this is tampering or a replay (a
   * replayed M1 followed by its old M3), not a stranger's key. */
  if (rc != 0)
    return fail (hs, error, CB_HANDSHAKE_ERROR_BAD_SIGNATURE,
                 "handshake message 3 failed authentication: it was altered in transit or "
                 "replayed from another session; the connection should be dropped");
  if (!verify_transcript (payload + CB_NODE_ID_BYTES, SIG_LABEL_INITIATOR, hs->transcript, payload))
    {
      hex_id (payload, id_hex);
      return fail (hs, error, CB_HANDSHAKE_ERROR_BAD_SIGNATURE,
                   "the initiator's signature does not verify for node %s: its identity "
                   "key file is inconsistent or corrupt", id_hex);
    }
  if (!check_peer (hs, payload, "initiator", error))
    return FALSE;
  memcpy (hs->peer_id, payload, CB_NODE_ID_BYTES);
  transcript_mix (hs->transcript, hs->transcript, payload, sizeof payload, NULL, 0);  /* h4 */
  derive_master (hs);
  hs->state = STATE_DONE;
  return TRUE;
}

gboolean
cb_handshake_receive (CbHandshake  *hs,
                      const guint8 *msg,
                      gsize         len,
                      GBytes      **reply,
                      GError      **error)
{
  g_return_val_if_fail (hs != NULL, FALSE);
  g_return_val_if_fail (msg != NULL || len == 0, FALSE);
  g_return_val_if_fail (reply != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *reply = NULL;
  if (!check_not_finished (hs, error))
    return FALSE;
  switch (hs->state)
    {
    case STATE_RESPONDER_NEW:
      return receive_m1 (hs, msg, len, reply, error);
    case STATE_INITIATOR_SENT_M1:
      return receive_m2 (hs, msg, len, reply, error);
    case STATE_RESPONDER_SENT_M2:
      return receive_m3 (hs, msg, len, error);
    case STATE_INITIATOR_NEW:
      return fail (hs, error, CB_HANDSHAKE_ERROR_STATE,
                   "the initiator received a message before sending message 1; call "
                   "cb_handshake_start() first");
    case STATE_DONE:
    case STATE_SPENT:
    case STATE_FAILED:
    default:
      break;
    }
  g_assert_not_reached ();  /* check_not_finished() handled these */
  return FALSE;
}

gboolean
cb_handshake_is_done (CbHandshake *hs)
{
  g_return_val_if_fail (hs != NULL, FALSE);
  return hs->state == STATE_DONE || hs->state == STATE_SPENT;
}

const guint8 *
cb_handshake_get_peer_id (CbHandshake *hs)
{
  g_return_val_if_fail (hs != NULL, NULL);
  if (hs->state != STATE_DONE && hs->state != STATE_SPENT)
    return NULL;
  return hs->peer_id;
}

CbChannel *
cb_handshake_into_channel (CbHandshake *hs)
{
  guint8 i2r[KEY_BYTES];
  guint8 r2i[KEY_BYTES];
  CbChannel *ch;

  g_return_val_if_fail (hs != NULL, NULL);
  g_return_val_if_fail (hs->state == STATE_DONE, NULL);

  crypto_kdf_derive_from_key (i2r, sizeof i2r, 1, KDF_CHANNEL, hs->ck);
  crypto_kdf_derive_from_key (r2i, sizeof r2i, 2, KDF_CHANNEL, hs->ck);
  if (hs->initiator)
    ch = cb_channel_new (i2r, r2i);
  else
    ch = cb_channel_new (r2i, i2r);
  sodium_memzero (i2r, sizeof i2r);
  sodium_memzero (r2i, sizeof r2i);
  wipe_secrets (hs);
  hs->state = STATE_SPENT;
  return ch;
}
