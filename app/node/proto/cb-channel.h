/* cb-channel.h: the encrypted frame channel that follows a handshake
 *
 * One crypto_secretstream_xchacha20poly1305 stream per direction.  Each
 * sealed frame is one secretstream message; the first frame in each
 * direction carries the 24-byte stream header in front of it.  A frame
 * sealed with final = TRUE ends the stream, so a receiver can tell a clean
 * close from a connection cut short.  Sans-IO: the caller moves the bytes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Largest plaintext one frame may carry; bigger frames are refused on both
 * sides so a peer cannot make us buffer without bound. */
#define CB_CHANNEL_MAX_FRAME (1024 * 1024)
#define CB_CHANNEL_KEY_BYTES 32
#define CB_CHANNEL_HEADER_BYTES 24  /* crypto_secretstream_xchacha20poly1305_HEADERBYTES */
#define CB_CHANNEL_TAG_BYTES 17     /* crypto_secretstream_xchacha20poly1305_ABYTES */
/* Longest sealed frame (the first one, with the header): what a transport
 * should accept as its largest incoming message. */
#define CB_CHANNEL_MAX_SEALED \
  (CB_CHANNEL_MAX_FRAME + CB_CHANNEL_HEADER_BYTES + CB_CHANNEL_TAG_BYTES)

#define CB_CHANNEL_ERROR (cb_channel_error_quark ())
GQuark cb_channel_error_quark (void);

typedef enum {
  CB_CHANNEL_ERROR_MALFORMED,  /* too short to hold a header/tag, or an unknown tag */
  CB_CHANNEL_ERROR_TOO_LARGE,  /* over CB_CHANNEL_MAX_FRAME */
  CB_CHANNEL_ERROR_DECRYPT,    /* altered, replayed, reordered or foreign frame */
  CB_CHANNEL_ERROR_CLOSED,     /* data after a final frame */
  CB_CHANNEL_ERROR_STATE,      /* the channel failed earlier and is poisoned */
} CbChannelError;

typedef struct _CbChannel CbChannel;

/* Normally made by cb_handshake_into_channel().  The keys must never be
 * used for another channel: the stream headers are derived from them. */
CbChannel *cb_channel_new  (const guint8 tx_key[CB_CHANNEL_KEY_BYTES],
                            const guint8 rx_key[CB_CHANNEL_KEY_BYTES]);
void       cb_channel_free (CbChannel *ch);

/* Returns the sealed frame, or NULL with an error (the channel is then
 * poisoned).  After a final frame nothing more can be sealed. */
GBytes    *cb_channel_seal (CbChannel    *ch,
                            const guint8 *plain,
                            gsize         len,
                            gboolean      final,
                            GError      **error);
/* Appends the plaintext of one frame to plain_out.  On error nothing is
 * appended and the channel is poisoned: every later call fails. */
gboolean   cb_channel_open (CbChannel    *ch,
                            const guint8 *frame,
                            gsize         len,
                            GByteArray   *plain_out,
                            gboolean     *final_out,
                            GError      **error);
/* TRUE once the peer's final frame was opened: a transport that sees the
 * connection end while this is FALSE has been cut short. */
gboolean   cb_channel_peer_closed_cleanly (CbChannel *ch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbChannel, cb_channel_free)

G_END_DECLS
