/* cb-replication-codec.h: wire messages of log replication
 *
 * One message is the payload of one channel frame after the transport's
 * protocol byte.  Integers are little-endian and fixed-width; "system" is
 * a length byte and 1..255 printable ASCII bytes without spaces:
 *
 *   message := version:u8 (=1) | type:u8 | system_len:u8 | system | body
 *
 *   HAVE   body = flags:u8 | n:u16 (0..4096) | (writer:32 | seq:u64)*n
 *          writers strictly ascending (bytewise), so no writer repeats;
 *          flags bit 0 = a reply: do not answer it with HAVE;
 *          bit 1 = a PULL, a one-shot request outside any session: send
 *          the runs I lack (as BATCHes), then PULLED (not both bits)
 *   BATCH  body = writer:32 | first_seq:u64 | sig:64 | n:u32 (1..)
 *                 | (len:u32 | entry)*n
 *          each entry one encoded log entry (cb-log-entry.h) of
 *          CB_LOG_ENTRY_MIN_BYTES..CB_LOG_ENTRY_MAX_BYTES bytes, which this
 *          codec does not open: cb_log_verify_batch() does
 *   NACK   body = writer:32 | seq:u64 | reason:u8 | text_len:u8 (0..200)
 *                 | text (UTF-8, no control characters)
 *   PULLED body = flags:u8 (bit 0: more was missing than was sent)
 *                 | sent:u32 (entries sent for the PULL) | entries:u64
 *                 | newest_hlc:u64 (the sender's copy: how much, how fresh)
 *
 * Seqs are at most 2^63-1.  A message is at most CB_CHANNEL_MAX_FRAME
 * bytes.  The encoding is canonical: the decoder accepts exactly what the
 * encoders write, so encode (decode (x)) == x; unknown versions, types and
 * flag bits, counts past the end, unsorted vectors and trailing bytes are
 * refused.  A later release that needs more bumps the version byte. */
#pragma once

#include <glib.h>

#include "cb-channel.h"
#include "cb-log-entry.h"

G_BEGIN_DECLS

#define CB_REPLICATION_WIRE_VERSION 1
#define CB_REPLICATION_MAX_MESSAGE CB_CHANNEL_MAX_FRAME
#define CB_REPLICATION_MAX_VECTOR 4096
#define CB_REPLICATION_MAX_NACK_TEXT 200

#define CB_REPLICATION_CODEC_ERROR (cb_replication_codec_error_quark ())
GQuark cb_replication_codec_error_quark (void);

typedef enum {
  CB_REPLICATION_CODEC_ERROR_MALFORMED,  /* truncated, trailing bytes, bad field */
  CB_REPLICATION_CODEC_ERROR_VERSION,    /* a wire version this build does not speak */
  CB_REPLICATION_CODEC_ERROR_TOO_LARGE,  /* over CB_REPLICATION_MAX_MESSAGE or a count cap */
  CB_REPLICATION_CODEC_ERROR_INVALID,    /* encode: an argument cannot be represented */
} CbReplicationCodecError;

typedef enum {
  CB_REPLICATION_MSG_HAVE = 1,
  CB_REPLICATION_MSG_BATCH = 2,
  CB_REPLICATION_MSG_NACK = 3,
  CB_REPLICATION_MSG_PULLED = 4,
} CbReplicationMsgType;

typedef enum {
  CB_REPLICATION_HAVE_REPLY = 1 << 0,
  CB_REPLICATION_HAVE_PULL = 1 << 1,
} CbReplicationHaveFlags;

typedef enum {
  CB_REPLICATION_PULLED_INCOMPLETE = 1 << 0,
} CbReplicationPulledFlags;

/* Why a batch was refused.  Decoders keep any value so a newer peer can
 * send reasons this build does not know; show those as "other". */
typedef enum {
  CB_REPLICATION_NACK_OTHER = 0,
  CB_REPLICATION_NACK_MALFORMED,      /* an entry or the batch did not decode */
  CB_REPLICATION_NACK_WRONG_SYSTEM,
  CB_REPLICATION_NACK_WRONG_WRITER,
  CB_REPLICATION_NACK_GAP,            /* entries before seq are missing: resend from there */
  CB_REPLICATION_NACK_BROKEN_CHAIN,   /* forked or altered log */
  CB_REPLICATION_NACK_BAD_SIGNATURE,
  CB_REPLICATION_NACK_TOO_LARGE,
  CB_REPLICATION_NACK_REFUSED,        /* the system's validator refused an entry */
  CB_REPLICATION_NACK_CLOCK,          /* a stamp too far ahead of our clock */
  CB_REPLICATION_NACK_NOT_HOSTED,     /* we do not host this system */
  CB_REPLICATION_NACK_BUSY,           /* try again later */
} CbReplicationNackReason;

/* Same layout as a vector item of the replication core. */
typedef struct {
  guint8  writer[32];
  guint64 seq;
} CbReplicationVectorItem;

typedef struct {
  CbReplicationMsgType type;
  char                *system;
  union {
    struct {
      guint8                   flags;  /* CbReplicationHaveFlags */
      guint                    n_items;
      CbReplicationVectorItem *items;  /* sorted by writer */
    } have;
    struct {
      guint8     writer[32];
      guint64    first_seq;
      guint8     sig[CB_LOG_SIG_BYTES];
      GPtrArray *entries;  /* of GBytes, each one encoded entry */
    } batch;
    struct {
      guint8  writer[32];
      guint64 seq;
      guint8  reason;  /* CbReplicationNackReason or a newer one */
      char   *text;    /* never NULL after decoding */
    } nack;
    struct {
      guint8  flags;   /* CbReplicationPulledFlags */
      guint32 sent;
      guint64 entries;
      guint64 newest_hlc;
    } pulled;
  };
} CbReplicationMessage;

/* Encoders.  HAVE sorts a copy of items when they are not sorted and
 * refuses repeated writers; NACK truncates text at a character boundary
 * to CB_REPLICATION_MAX_NACK_TEXT bytes and replaces control characters
 * and invalid UTF-8 with '?', so any GError message can go as is. */
GBytes  *cb_replication_encode_have  (const char                    *system,
                                      guint8                         flags,
                                      const CbReplicationVectorItem *items,
                                      gsize                          n_items,
                                      GError                       **error);
GBytes  *cb_replication_encode_batch (const char    *system,
                                      const guint8   writer[32],
                                      guint64        first_seq,
                                      const guint8   sig[CB_LOG_SIG_BYTES],
                                      GBytes * const *entries,
                                      guint          n_entries,
                                      GError       **error);
GBytes  *cb_replication_encode_nack  (const char    *system,
                                      const guint8   writer[32],
                                      guint64        seq,
                                      guint8         reason,
                                      const char    *text,
                                      GError       **error);
GBytes  *cb_replication_encode_pulled (const char   *system,
                                       guint8        flags,
                                       guint32       sent,
                                       guint64       entries,
                                       guint64       newest_hlc,
                                       GError      **error);
/* Any message, e.g. one decoded earlier. */
GBytes  *cb_replication_encode       (const CbReplicationMessage *message,
                                      GError                    **error);

/* The size of a BATCH message for system holding n_entries entries of
 * entry_bytes encoded bytes in all: lets a sender fill frames exactly. */
gsize    cb_replication_batch_size   (const char *system,
                                      gsize       n_entries,
                                      gsize       entry_bytes);

/* Checked decoders; out is zeroed first and, on failure, left cleared.
 * decode() copies batch entries; decode_bytes() makes them slices of
 * message with no copy. */
gboolean cb_replication_decode       (const guint8         *data,
                                      gsize                 len,
                                      CbReplicationMessage *out,
                                      GError              **error);
gboolean cb_replication_decode_bytes (GBytes               *message,
                                      CbReplicationMessage *out,
                                      GError              **error);
void     cb_replication_message_clear (CbReplicationMessage *message);

/* The reason for a batch refused by cb_log_verify_batch() with error. */
guint8       cb_replication_nack_reason_for_error (const GError *error);
/* A short name for logs ("gap", "bad-signature", "other"). */
const char  *cb_replication_nack_reason_name      (guint8 reason);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CbReplicationMessage, cb_replication_message_clear)

G_END_DECLS
