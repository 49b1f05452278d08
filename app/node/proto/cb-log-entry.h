/* cb-log-entry.h: entries of a writer's append-only log, their hashes and
 * the signatures over batches of them
 *
 * Every writer keeps one log per system.  Entry seq (1-based) names the
 * hash of entry seq - 1 as prev (all zeros for entry 1), so the hash of
 * the last entry of a batch covers the whole log up to it, and one ed25519
 * signature over that hash signs the batch.
 *
 * Encoding, format version 1; integers are little-endian and fixed-width
 * so entries encode and hash without parsing varints:
 *
 *   entry := version:u8 (=1) | system_len:u8 (1..255) | system
 *            | writer:32 | seq:u64 (1..2^63-1) | prev:32
 *            | hlc:u64 (0..2^63-1) | payload_len:u32 | payload
 *
 * system is printable ASCII without spaces (0x21..0x7e); prev is all zeros
 * exactly when seq is 1; the payload (a SQLite session changeset, opaque
 * here) is at most CB_LOG_MAX_PAYLOAD bytes.  The encoding is canonical:
 * the decoder accepts exactly what the encoder writes, and refuses trailing
 * bytes.  Entries come from other nodes: only the decoders here read them.
 *
 * hash   = BLAKE2b-256 keyed with "cloud-bevy-log-entry-1" over the entry
 * signed = "cloud-bevy-log-batch-1" | system_len:u8 | system | writer:32
 *          | last_seq:u64 | last_hash:32      (ed25519, detached) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_LOG_ENTRY_VERSION 1
#define CB_LOG_MAX_SYSTEM 255
/* A full batch frame (CB_CHANNEL_MAX_FRAME, 1 MiB) must carry one entry of
 * the largest size with its headers, hence the 4 KiB left over. */
#define CB_LOG_MAX_PAYLOAD (1024 * 1024 - 4 * 1024)
/* Encoded size without system name and payload. */
#define CB_LOG_ENTRY_FIXED_BYTES (1 + 1 + 32 + 8 + 32 + 8 + 4)
#define CB_LOG_ENTRY_MIN_BYTES (CB_LOG_ENTRY_FIXED_BYTES + 1)
#define CB_LOG_ENTRY_MAX_BYTES (CB_LOG_ENTRY_FIXED_BYTES + CB_LOG_MAX_SYSTEM + CB_LOG_MAX_PAYLOAD)
/* Sequence numbers fit sqlite's signed INTEGER. */
#define CB_LOG_MAX_SEQ ((guint64) G_MAXINT64)
#define CB_LOG_HASH_BYTES 32
#define CB_LOG_SIG_BYTES 64

#define CB_LOG_ERROR (cb_log_error_quark ())
GQuark cb_log_error_quark (void);

typedef enum {
  CB_LOG_ERROR_MALFORMED,      /* truncated, trailing bytes, bad field */
  CB_LOG_ERROR_VERSION,        /* an entry format this build does not read */
  CB_LOG_ERROR_TOO_LARGE,      /* payload or entry over its cap */
  CB_LOG_ERROR_WRONG_SYSTEM,   /* entry of another system than the batch's */
  CB_LOG_ERROR_WRONG_WRITER,   /* entry of another writer than the batch's */
  CB_LOG_ERROR_GAP,            /* seqs not contiguous from the batch's first */
  CB_LOG_ERROR_BROKEN_CHAIN,   /* prev is not the hash of the entry before */
  CB_LOG_ERROR_BAD_SIGNATURE,  /* signature over the last hash fails */
} CbLogError;

typedef struct {
  char   *system;
  guint8  writer[32];
  guint64 seq;                      /* 1-based */
  guint8  prev[CB_LOG_HASH_BYTES];  /* hash of entry seq - 1; zeros for seq 1 */
  guint64 hlc;                      /* cb-hlc.h stamp */
  GBytes *payload;
} CbLogEntry;

/* TRUE for 1..255 printable ASCII bytes without spaces. */
gboolean    cb_log_system_name_valid (const char *system);

/* The encoded size of entry (no checks). */
gsize       cb_log_entry_encoded_size (const CbLogEntry *entry);
/* Encodes entry; a NULL payload encodes as an empty one.  The caller
 * builds entries (seq, prev, hlc come from its own log) so an entry that
 * cannot be encoded is a programming error: a critical and NULL. */
GBytes     *cb_log_entry_encode (const CbLogEntry *entry);

/* Checked decoders.  decode() copies the payload; decode_bytes() makes
 * the payload a slice of encoded that keeps it alive, with no copy. */
CbLogEntry *cb_log_entry_decode       (const guint8 *data,
                                       gsize         len,
                                       GError      **error);
CbLogEntry *cb_log_entry_decode_bytes (GBytes       *encoded,
                                       GError      **error);

void        cb_log_entry_free        (CbLogEntry  *entry);
/* Frees a NULL-terminated array of entries and the array. */
void        cb_log_entry_array_free  (CbLogEntry **entries);

/* The hash of an encoded entry (what the next entry's prev names). */
void        cb_log_entry_hash (const guint8 *encoded,
                               gsize         len,
                               guint8        out[CB_LOG_HASH_BYTES]);

void        cb_log_batch_sign   (const char   *system,
                                 const guint8  writer_secret[64],
                                 guint64       last_seq,
                                 const guint8  last_hash[CB_LOG_HASH_BYTES],
                                 guint8        sig_out[CB_LOG_SIG_BYTES]);
gboolean    cb_log_batch_verify (const char   *system,
                                 const guint8  writer[32],
                                 guint64       last_seq,
                                 const guint8  last_hash[CB_LOG_HASH_BYTES],
                                 const guint8  sig[CB_LOG_SIG_BYTES]);

/* Checks a batch of n >= 1 encoded entries of writer's log for system:
 * each decodes, belongs to system and writer, the seqs run on from
 * first_seq without gaps, each prev is the hash of the entry before (the
 * first's is prev_hash: the hash of entry first_seq - 1, zeros or NULL
 * when first_seq is 1), and sig signs the last entry's hash.
 *
 * Pure: it knows nothing of what the caller already stores, so an older
 * batch sent again still verifies; the caller skips seqs it has.
 *
 * On success, entries_out (if not NULL) gets the decoded entries, NULL-
 * terminated (free with cb_log_entry_array_free(); payloads are slices of
 * encoded_entries), and last_hash_out (if not NULL) the last entry's hash.
 * On failure neither is touched. */
gboolean    cb_log_verify_batch (const char    *system,
                                 const guint8   writer[32],
                                 guint64        first_seq,
                                 const guint8   prev_hash[CB_LOG_HASH_BYTES],
                                 GBytes * const *encoded_entries,
                                 guint          n,
                                 const guint8   sig[CB_LOG_SIG_BYTES],
                                 CbLogEntry  ***entries_out,
                                 guint8         last_hash_out[CB_LOG_HASH_BYTES],
                                 GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbLogEntry, cb_log_entry_free)

G_END_DECLS
