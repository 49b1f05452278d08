/* cb-membership-codec.h: wire format of the gossip membership messages
 *
 * One message is one transport message (a WebSocket binary frame inside the
 * encrypted channel).  All integers are little-endian; "varint" is unsigned
 * LEB128 in its shortest form (at most 10 bytes); "str8" is a length byte
 * (1..255) followed by that many printable ASCII bytes; "blob16" is a
 * 16-bit length (0..512) followed by the bytes.
 *
 *   message  := version:u8 (=1) | type:u8 | flags:u8
 *               | sender_incarnation:varint | sender_addr:str8
 *               | [sender_meta:blob16]              if flags & HAS_META
 *               | [seq:varint]                      PING, ACK, NACK, PING_REQ
 *               | [target_id:32 | target_addr:str8] PING_REQ
 *               | n_records:u8 | record*
 *               | n_updates:u8 | update*
 *   record   := id:32 | incarnation:varint | addr:str8 | meta:blob16
 *   update   := kind:u8 | hops:u8 | id:32 | incarnation:varint | body
 *     ALIVE    body = addr:str8 | meta:blob16
 *     SUSPECT  body = from_id:32   (the node that suspects; counts as one
 *     DEAD     body = from_id:32    confirmation, not as authentication)
 *     LEFT     body = (nothing)
 *
 * The sender's id is never in the message: it is the id the transport
 * authenticated.  Records are view samples (join replies, shuffles); updates
 * are gossip to relay.  A message must be consumed exactly: trailing bytes,
 * unknown types or kinds, overlong varints, empty or unprintable addresses,
 * oversized metadata and messages over the configured size are errors. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_MEMBERSHIP_WIRE_VERSION 1
#define CB_MEMBERSHIP_ID_BYTES 32
#define CB_MEMBERSHIP_MAX_ADDR 255
#define CB_MEMBERSHIP_MAX_META 512
/* Hard cap on records or updates per message (the count is one byte, and
 * 1400 bytes hold at most 33 of the smallest update anyway). */
#define CB_MEMBERSHIP_MAX_ITEMS 64
/* A configured message size must hold a header plus one largest record, so
 * any member's metadata can always travel. */
#define CB_MEMBERSHIP_MIN_MESSAGE_BYTES 1200
#define CB_MEMBERSHIP_MAX_MESSAGE_BYTES 65535

#define CB_MEMBERSHIP_ERROR (cb_membership_error_quark ())
GQuark cb_membership_error_quark (void);

typedef enum {
  CB_MEMBERSHIP_ERROR_MALFORMED,  /* truncated, trailing bytes, bad field */
  CB_MEMBERSHIP_ERROR_VERSION,    /* a wire version this build does not speak */
  CB_MEMBERSHIP_ERROR_TOO_LARGE,  /* over the configured message size */
  CB_MEMBERSHIP_ERROR_SENDER,     /* message claims to be from ourselves */
  CB_MEMBERSHIP_ERROR_INVALID,    /* a caller passed an unusable argument */
} CbMembershipError;

typedef enum {
  CB_MEMBERSHIP_MSG_PING = 1,
  CB_MEMBERSHIP_MSG_ACK,
  CB_MEMBERSHIP_MSG_PING_REQ,
  CB_MEMBERSHIP_MSG_NACK,
  CB_MEMBERSHIP_MSG_GOSSIP,
  CB_MEMBERSHIP_MSG_JOIN,
  CB_MEMBERSHIP_MSG_JOIN_REPLY,
  CB_MEMBERSHIP_MSG_NEIGHBOR,
  CB_MEMBERSHIP_MSG_NEIGHBOR_REPLY,
  CB_MEMBERSHIP_MSG_DISCONNECT,
  CB_MEMBERSHIP_MSG_SHUFFLE,
  CB_MEMBERSHIP_MSG_SHUFFLE_REPLY,
  CB_MEMBERSHIP_MSG_LAST = CB_MEMBERSHIP_MSG_SHUFFLE_REPLY,
} CbMembershipMsgType;

typedef enum {
  CB_MEMBERSHIP_FLAG_HAS_META = 1 << 0,     /* sender_meta present */
  CB_MEMBERSHIP_FLAG_WANT_RECORD = 1 << 1,  /* please send me your meta */
  CB_MEMBERSHIP_FLAG_PRIORITY = 1 << 2,     /* NEIGHBOR: I have no neighbour; *_REPLY: accepted */
  CB_MEMBERSHIP_FLAG_INDIRECT = 1 << 3,     /* PING on behalf of another node: not a view link */
} CbMembershipMsgFlags;
/* Unknown flag bits are ignored so a later version can add hints. */

typedef enum {
  CB_MEMBERSHIP_UPDATE_ALIVE = 1,
  CB_MEMBERSHIP_UPDATE_SUSPECT,
  CB_MEMBERSHIP_UPDATE_DEAD,
  CB_MEMBERSHIP_UPDATE_LEFT,
} CbMembershipUpdateKind;

/* A decoded record or update.  addr and meta point into the decoded
 * buffer (addr is not NUL-terminated). */
typedef struct {
  guint8        kind;  /* CbMembershipUpdateKind; ALIVE for records */
  guint8        hops;  /* how many relays it went through (0 for records) */
  guint8        id[CB_MEMBERSHIP_ID_BYTES];
  guint64       incarnation;
  guint8        from[CB_MEMBERSHIP_ID_BYTES];  /* SUSPECT, DEAD */
  const char   *addr;
  guint8        addr_len;
  const guint8 *meta;
  guint16       meta_len;
} CbMembershipItem;

/* The fixed part of a message: who sends it (beyond the authenticated id)
 * and the type-specific fields. */
typedef struct {
  guint8        type;
  guint8        flags;
  guint64       incarnation;
  const char   *addr;
  guint8        addr_len;
  const guint8 *meta;      /* only with CB_MEMBERSHIP_FLAG_HAS_META */
  guint16       meta_len;
  guint64       seq;       /* PING, ACK, NACK, PING_REQ */
  guint8        target_id[CB_MEMBERSHIP_ID_BYTES];  /* PING_REQ */
  const char   *target_addr;
  guint8        target_addr_len;
} CbMembershipHeader;

typedef struct {
  CbMembershipHeader h;
  guint              n_records;
  CbMembershipItem   records[CB_MEMBERSHIP_MAX_ITEMS];
  guint              n_updates;
  CbMembershipItem   updates[CB_MEMBERSHIP_MAX_ITEMS];
} CbMembershipMessage;

/* Decodes and validates one message of at most max_len bytes.  The
 * pointers in out stay valid as long as data. */
gboolean cb_membership_message_decode (const guint8        *data,
                                       gsize                len,
                                       gsize                max_len,
                                       CbMembershipMessage *out,
                                       GError             **error);

/* TRUE if addr (NUL-terminated) is usable on the wire: 1..255 printable
 * ASCII bytes without spaces. */
gboolean cb_membership_addr_valid (const char *addr);

/* Encodes one update (kind, hops, id, incarnation, from/addr/meta) into
 * buf; returns its length, or 0 if it does not fit in cap. */
gsize cb_membership_update_encode (const CbMembershipItem *item,
                                   guint8                 *buf,
                                   gsize                   cap);
/* The encoded size of an update or record. */
gsize cb_membership_update_size (const CbMembershipItem *item);
gsize cb_membership_record_size (const CbMembershipItem *item);

/* Builds one message in a caller-provided buffer: the header first, then
 * records, then updates (a record added after an update is refused). */
typedef struct {
  guint8 *buf;
  gsize   len;
  gsize   cap;
  gsize   n_records_pos;
  gsize   n_updates_pos;  /* 0 until the first update */
  guint   n_records;
  guint   n_updates;
} CbMembershipWriter;

/* FALSE if the header alone does not fit (cap too small). */
gboolean cb_membership_writer_init (CbMembershipWriter *w,
                                    guint8             *buf,
                                    gsize               cap,
                                    const CbMembershipHeader *header);
gboolean cb_membership_writer_add_record (CbMembershipWriter     *w,
                                          const CbMembershipItem *record);
/* Adds an update that is already encoded (by cb_membership_update_encode),
 * writing hops over the stored hop count. */
gboolean cb_membership_writer_add_encoded (CbMembershipWriter *w,
                                           const guint8       *update,
                                           gsize               len,
                                           guint8              hops);
gboolean cb_membership_writer_add_update (CbMembershipWriter     *w,
                                          const CbMembershipItem *update);
gsize    cb_membership_writer_room (const CbMembershipWriter *w);
/* Returns the finished message. */
GBytes  *cb_membership_writer_finish (CbMembershipWriter *w);

G_END_DECLS
