/* cb-dbset-codec.h: wire messages of the db-set directory
 *
 * Hosts of a system find the members of their own db-set, and contacts in
 * other sets, by asking each other (cb-dbset.h).  One message is the
 * payload of one channel frame after the transport's protocol byte.
 * Integers are little-endian and fixed-width; a "string" is a length byte
 * and 1..255 printable ASCII bytes without spaces (system names and
 * addresses):
 *
 *   message := version:u8 (=1) | type:u8 | system:string
 *              | level:u8 (the sender's, 0..CB_DBSET_MAX_LEVEL)
 *              | addr:string (where the sender can be dialled)
 *              | target_level:u8 (0..CB_DBSET_MAX_LEVEL)
 *              | target_prefix:u64 (< 2^target_level)
 *              | body
 *   REQUEST  body = empty: "who do you know in the target set?"
 *   ANSWER   body = n:u16 (0..CB_DBSET_MAX_ANSWER)
 *                   | (id:32 | addr:string)*n, ids strictly ascending
 *
 * The encoding is canonical: the decoder accepts exactly what the encoder
 * writes; unknown versions and types, prefixes wider than their level,
 * unsorted or repeated ids, counts past the end and trailing bytes are
 * refused.  What an answer claims about other hosts is a hint: the
 * transport verifies each one's identity when it is dialled. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_DBSET_WIRE_VERSION 1
/* Deepest set level: 2^40 sets of 100 hosts is far beyond any cloud. */
#define CB_DBSET_MAX_LEVEL 40
#define CB_DBSET_MAX_ANSWER 256

#define CB_DBSET_CODEC_ERROR (cb_dbset_codec_error_quark ())
GQuark cb_dbset_codec_error_quark (void);

typedef enum {
  CB_DBSET_CODEC_ERROR_MALFORMED,  /* truncated, trailing bytes, bad field */
  CB_DBSET_CODEC_ERROR_VERSION,    /* a wire version this build does not speak */
  CB_DBSET_CODEC_ERROR_INVALID,    /* encode: an argument cannot be represented */
} CbDbSetCodecError;

typedef enum {
  CB_DBSET_MSG_REQUEST = 1,
  CB_DBSET_MSG_ANSWER = 2,
} CbDbSetMsgType;

/* A set: the hosts whose hash starts with the level's top bits, prefix. */
typedef struct {
  guint   level;
  guint64 prefix;
} CbDbSetId;

typedef struct {
  guint8  id[32];
  char   *addr;
} CbDbSetHost;

typedef struct {
  CbDbSetMsgType type;
  char          *system;
  guint          level;
  char          *addr;
  CbDbSetId      target;
  CbDbSetHost   *hosts;     /* ANSWER */
  guint          n_hosts;
} CbDbSetMessage;

void     cb_dbset_message_clear (CbDbSetMessage *message);

/* hosts need not be sorted: the encoder sorts and refuses repeats. */
GBytes  *cb_dbset_encode        (const CbDbSetMessage *message,
                                 GError              **error);
gboolean cb_dbset_decode        (const guint8         *data,
                                 gsize                 len,
                                 CbDbSetMessage       *out,
                                 GError              **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CbDbSetMessage, cb_dbset_message_clear)

G_END_DECLS
