/* cb-channel.c: secretstream framing for an established session
 *
 * secretstream's per-message counter is what rejects replayed, reordered
 * and dropped frames; its FINAL tag is what tells a clean close from a
 * truncated stream.  This file adds the size cap, the header on the first
 * frame, and the rule that a channel which saw one bad frame is dead: after
 * a failure the two streams are out of step and nothing later can be
 * trusted. */
#define G_LOG_DOMAIN "cb-channel"

#include "cb-channel.h"

#include <sodium.h>
#include <string.h>

G_STATIC_ASSERT (CB_CHANNEL_HEADER_BYTES == crypto_secretstream_xchacha20poly1305_HEADERBYTES);
G_STATIC_ASSERT (CB_CHANNEL_TAG_BYTES == crypto_secretstream_xchacha20poly1305_ABYTES);
G_STATIC_ASSERT (CB_CHANNEL_KEY_BYTES == crypto_secretstream_xchacha20poly1305_KEYBYTES);

#define HEADER_LABEL "cloud-bevy channel header v1"

struct _CbChannel
{
  crypto_secretstream_xchacha20poly1305_state tx;
  crypto_secretstream_xchacha20poly1305_state rx;
  guint8 tx_header[CB_CHANNEL_HEADER_BYTES];
  guint8 rx_key[CB_CHANNEL_KEY_BYTES];  /* wiped once the peer's header arrived */
  guint64 tx_frames;
  guint64 rx_frames;
  gboolean tx_final;
  gboolean rx_final;
  gboolean poisoned;
};

G_DEFINE_QUARK (cb-channel-error-quark, cb_channel_error)

CbChannel *
cb_channel_new (const guint8 tx_key[CB_CHANNEL_KEY_BYTES],
                const guint8 rx_key[CB_CHANNEL_KEY_BYTES])
{
  CbChannel *ch;

  g_return_val_if_fail (tx_key != NULL, NULL);
  g_return_val_if_fail (rx_key != NULL, NULL);

  if (sodium_init () < 0)
    g_error ("libsodium cannot initialise");

  ch = g_new0 (CbChannel, 1);
  /* init_push would take the header from libsodium's global RNG; deriving
   * it from the (single-use) key keeps the channel deterministic for tests
   * and the simulator.  init_pull builds exactly the state init_push would
   * for the same header, and push works on it. */
  crypto_generichash (ch->tx_header, sizeof ch->tx_header,
                      (const guint8 *) HEADER_LABEL, strlen (HEADER_LABEL),
                      tx_key, CB_CHANNEL_KEY_BYTES);
  if (crypto_secretstream_xchacha20poly1305_init_pull (&ch->tx, ch->tx_header, tx_key) != 0)
    g_error ("secretstream refused a derived header");
  memcpy (ch->rx_key, rx_key, CB_CHANNEL_KEY_BYTES);
  return ch;
}

void
cb_channel_free (CbChannel *ch)
{
  if (ch == NULL)
    return;
  sodium_memzero (ch, sizeof *ch);
  g_free (ch);
}

gboolean
cb_channel_peer_closed_cleanly (CbChannel *ch)
{
  g_return_val_if_fail (ch != NULL, FALSE);
  return ch->rx_final && !ch->poisoned;
}

static gboolean
fail (CbChannel   *ch,
      GError     **error,
      CbChannelError code,
      const char  *format,
      ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (CbChannel   *ch,
      GError     **error,
      CbChannelError code,
      const char  *format,
      ...)
{
  va_list args;

  ch->poisoned = TRUE;
  if (error == NULL)
    return FALSE;
  va_start (args, format);
  *error = g_error_new_valist (CB_CHANNEL_ERROR, code, format, args);
  va_end (args);
  return FALSE;
}

static gboolean
check_poisoned (CbChannel *ch,
                GError   **error)
{
  if (!ch->poisoned)
    return TRUE;
  g_set_error_literal (error, CB_CHANNEL_ERROR, CB_CHANNEL_ERROR_STATE,
                       "the encrypted channel failed earlier and cannot be used; "
                       "close the connection and handshake again");
  return FALSE;
}

GBytes *
cb_channel_seal (CbChannel    *ch,
                 const guint8 *plain,
                 gsize         len,
                 gboolean      final,
                 GError      **error)
{
  gsize header = 0;
  gsize out_len;
  guint8 *out;

  g_return_val_if_fail (ch != NULL, NULL);
  g_return_val_if_fail (plain != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_poisoned (ch, error))
    return NULL;
  if (ch->tx_final)
    {
      fail (ch, error, CB_CHANNEL_ERROR_CLOSED,
            "this side already sent its final frame; open a new connection to send more");
      return NULL;
    }
  if (len > CB_CHANNEL_MAX_FRAME)
    {
      fail (ch, error, CB_CHANNEL_ERROR_TOO_LARGE,
            "frame of %" G_GSIZE_FORMAT " bytes is over the %u-byte limit; "
            "split the data into smaller frames", len, (guint) CB_CHANNEL_MAX_FRAME);
      return NULL;
    }

  if (ch->tx_frames == 0)
    header = CB_CHANNEL_HEADER_BYTES;
  out_len = header + len + CB_CHANNEL_TAG_BYTES;
  out = g_malloc (out_len);
  memcpy (out, ch->tx_header, header);
  if (crypto_secretstream_xchacha20poly1305_push (&ch->tx, out + header, NULL,
                                                  plain, len, NULL, 0,
                                                  final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                                        : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) != 0)
    {
      g_free (out);
      fail (ch, error, CB_CHANNEL_ERROR_TOO_LARGE,
            "the encryption library refused a frame of %" G_GSIZE_FORMAT " bytes", len);
      return NULL;
    }
  ch->tx_frames++;
  ch->tx_final = final;
  return g_bytes_new_take (out, out_len);
}

gboolean
cb_channel_open (CbChannel    *ch,
                 const guint8 *frame,
                 gsize         len,
                 GByteArray   *plain_out,
                 gboolean     *final_out,
                 GError      **error)
{
  gsize header = 0;
  gsize plain_len;
  guint old_len;
  unsigned long long got = 0;
  unsigned char tag = 0;
  const guint8 *cipher;
  guint8 empty = 0;
  guint8 *dest;

  g_return_val_if_fail (ch != NULL, FALSE);
  g_return_val_if_fail (frame != NULL || len == 0, FALSE);
  g_return_val_if_fail (plain_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (final_out != NULL)
    *final_out = FALSE;
  if (!check_poisoned (ch, error))
    return FALSE;
  if (ch->rx_final)
    return fail (ch, error, CB_CHANNEL_ERROR_CLOSED,
                 "the peer sent a %" G_GSIZE_FORMAT "-byte frame after its final frame; "
                 "the peer is misbehaving or the stream was tampered with", len);

  if (ch->rx_frames == 0)
    header = CB_CHANNEL_HEADER_BYTES;
  if (len < header + CB_CHANNEL_TAG_BYTES)
    return fail (ch, error, CB_CHANNEL_ERROR_MALFORMED,
                 "frame %" G_GUINT64_FORMAT " is %" G_GSIZE_FORMAT " bytes, shorter than the "
                 "%" G_GSIZE_FORMAT " bytes of %s; the peer is not speaking this protocol",
                 ch->rx_frames + 1, len, header + CB_CHANNEL_TAG_BYTES,
                 header ? "stream header and tag" : "tag");
  plain_len = len - header - CB_CHANNEL_TAG_BYTES;
  if (plain_len > CB_CHANNEL_MAX_FRAME)
    return fail (ch, error, CB_CHANNEL_ERROR_TOO_LARGE,
                 "frame %" G_GUINT64_FORMAT " carries %" G_GSIZE_FORMAT " bytes, over the "
                 "%u-byte limit; the peer must split its data into smaller frames",
                 ch->rx_frames + 1, plain_len, (guint) CB_CHANNEL_MAX_FRAME);
  /* GByteArray lengths are guint */
  if (plain_len > G_MAXUINT - plain_out->len)
    return fail (ch, error, CB_CHANNEL_ERROR_TOO_LARGE,
                 "the output buffer cannot grow by %" G_GSIZE_FORMAT " bytes", plain_len);

  if (header != 0)
    {
      if (crypto_secretstream_xchacha20poly1305_init_pull (&ch->rx, frame, ch->rx_key) != 0)
        return fail (ch, error, CB_CHANNEL_ERROR_MALFORMED,
                     "the peer's stream header was refused");
      sodium_memzero (ch->rx_key, sizeof ch->rx_key);
    }
  cipher = frame + header;

  old_len = plain_out->len;
  g_byte_array_set_size (plain_out, old_len + (guint) plain_len);
  /* an empty array may have no buffer at all, and NULL + 0 is undefined */
  dest = plain_len > 0 ? plain_out->data + old_len : &empty;
  if (crypto_secretstream_xchacha20poly1305_pull (&ch->rx, dest, &got, &tag,
                                                  cipher, len - header, NULL, 0) != 0)
    {
      g_byte_array_set_size (plain_out, old_len);
      return fail (ch, error, CB_CHANNEL_ERROR_DECRYPT,
                   "frame %" G_GUINT64_FORMAT " (%" G_GSIZE_FORMAT " bytes) failed authentication: "
                   "it was altered, replayed, reordered or belongs to another session; "
                   "drop the connection", ch->rx_frames + 1, len);
    }
  g_assert (got == plain_len);
  if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE &&
      tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL)
    {
      g_byte_array_set_size (plain_out, old_len);
      return fail (ch, error, CB_CHANNEL_ERROR_MALFORMED,
                   "frame %" G_GUINT64_FORMAT " has stream tag 0x%02x, which this protocol "
                   "never sends", ch->rx_frames + 1, tag);
    }

  ch->rx_frames++;
  if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
    {
      ch->rx_final = TRUE;
      if (final_out != NULL)
        *final_out = TRUE;
    }
  return TRUE;
}
