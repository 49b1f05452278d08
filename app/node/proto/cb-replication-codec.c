/* cb-replication-codec.c: checked decoder and encoders for the replication
 * messages described in cb-replication-codec.h.
 *
 * Encoders run the same field checks as the decoder, so whatever one
 * writes the other reads, and whatever the decoder accepts re-encodes
 * byte for byte. */
#define G_LOG_DOMAIN "cb-replication-codec"

#include "cb-replication-codec.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cb-hlc.h"

G_DEFINE_QUARK (cb-replication-codec-error-quark, cb_replication_codec_error)

#define KNOWN_HAVE_FLAGS (CB_REPLICATION_HAVE_REPLY | CB_REPLICATION_HAVE_PULL)
#define KNOWN_PULLED_FLAGS CB_REPLICATION_PULLED_INCOMPLETE
#define PULLED_BYTES (1 + 4 + 8 + 8)
#define VECTOR_ITEM_BYTES (32 + 8)
/* version, type, system length */
#define HEAD_BYTES 3
#define BATCH_FIXED_BYTES (32 + 8 + CB_LOG_SIG_BYTES + 4)
#define NACK_FIXED_BYTES (32 + 8 + 1 + 1)

G_STATIC_ASSERT (CB_LOG_ENTRY_MAX_BYTES + 4 + HEAD_BYTES + CB_LOG_MAX_SYSTEM + BATCH_FIXED_BYTES
                 <= CB_REPLICATION_MAX_MESSAGE);

static const char *
type_name (guint8 type)
{
  switch (type)
    {
    case CB_REPLICATION_MSG_HAVE: return "HAVE";
    case CB_REPLICATION_MSG_BATCH: return "BATCH";
    case CB_REPLICATION_MSG_NACK: return "NACK";
    case CB_REPLICATION_MSG_PULLED: return "PULLED";
    default: return "unknown";
    }
}

static void
writer_hex (const guint8 writer[32], char out[17])
{
  sodium_bin2hex (out, 17, writer, 8);
}

/* ---- text rules shared by encoder and decoder ---- */

static gboolean
is_control (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* ---- decoder ---- */

typedef struct {
  const guint8 *p;
  gsize         left;
  const char   *type;  /* for messages */
} Reader;

static gboolean fail (GError **error, gint code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, gint code, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  if (error == NULL)
    return FALSE;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, CB_REPLICATION_CODEC_ERROR, code, "replication message %s", msg);
  return FALSE;
}

static gboolean
take (Reader *r, gsize n, const guint8 **out, const char *what, GError **error)
{
  if (r->left < n)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED, "(%s) ends inside %s",
                 r->type, what);
  *out = r->p;
  r->p += n;
  r->left -= n;
  return TRUE;
}

static inline guint64
get_u64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

static inline guint32
get_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static gboolean
take_seq (Reader *r, guint64 *out, const char *what, GError **error)
{
  const guint8 *b = NULL;

  if (!take (r, 8, &b, what, error))
    return FALSE;
  *out = get_u64 (b);
  if (*out > CB_LOG_MAX_SEQ)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(%s) has %s %" G_GUINT64_FORMAT ", past the largest (2^63-1)",
                 r->type, what, *out);
  return TRUE;
}

static gboolean
decode_have (Reader *r, CbReplicationMessage *out, GError **error)
{
  const guint8 *b = NULL;
  guint n;

  if (!take (r, 1, &b, "the flags", error))
    return FALSE;
  out->have.flags = b[0];
  if (out->have.flags & ~KNOWN_HAVE_FLAGS)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(HAVE for %s) has unknown flag bits 0x%02x", out->system,
                 out->have.flags & ~KNOWN_HAVE_FLAGS);
  if ((out->have.flags & KNOWN_HAVE_FLAGS) == KNOWN_HAVE_FLAGS)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(HAVE for %s) is both a reply and a PULL", out->system);
  if (!take (r, 2, &b, "the vector length", error))
    return FALSE;
  n = (guint) b[0] | ((guint) b[1] << 8);
  if (n > CB_REPLICATION_MAX_VECTOR)
    return fail (error, CB_REPLICATION_CODEC_ERROR_TOO_LARGE,
                 "(HAVE for %s) lists %u writers; at most %u are allowed", out->system, n,
                 CB_REPLICATION_MAX_VECTOR);
  /* Check the length before allocating for the count. */
  if (r->left != (gsize) n * VECTOR_ITEM_BYTES)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(HAVE for %s) lists %u writers in %" G_GSIZE_FORMAT " bytes; %"
                 G_GSIZE_FORMAT " were expected", out->system, n, r->left,
                 (gsize) n * VECTOR_ITEM_BYTES);
  out->have.items = g_new (CbReplicationVectorItem, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      CbReplicationVectorItem *item = &out->have.items[i];

      take (r, 32, &b, "a writer", NULL);
      memcpy (item->writer, b, 32);
      out->have.n_items = i + 1;
      if (!take_seq (r, &item->seq, "a writer's seq", error))
        return FALSE;
      if (i > 0 && memcmp (out->have.items[i - 1].writer, item->writer, 32) >= 0)
        {
          char who[17];

          writer_hex (item->writer, who);
          return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                       "(HAVE for %s) %s writer %s at position %u; writers must be listed "
                       "once each in ascending order", out->system,
                       memcmp (out->have.items[i - 1].writer, item->writer, 32) == 0
                       ? "repeats" : "lists out of order", who, i + 1);
        }
    }
  return TRUE;
}

static gboolean
decode_pulled (Reader *r, CbReplicationMessage *out, GError **error)
{
  const guint8 *b = NULL;

  if (!take (r, PULLED_BYTES, &b, "the PULLED counts", error))
    return FALSE;
  out->pulled.flags = b[0];
  if (out->pulled.flags & ~KNOWN_PULLED_FLAGS)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(PULLED for %s) has unknown flag bits 0x%02x", out->system,
                 out->pulled.flags & ~KNOWN_PULLED_FLAGS);
  out->pulled.sent = get_u32 (b + 1);
  out->pulled.entries = get_u64 (b + 5);
  out->pulled.newest_hlc = get_u64 (b + 13);
  if (out->pulled.entries > CB_LOG_MAX_SEQ || out->pulled.newest_hlc > (guint64) G_MAXINT64)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(PULLED for %s) has a count or clock past 2^63-1", out->system);
  return TRUE;
}

static gboolean
decode_batch (Reader *r, const guint8 *start, GBytes *source, CbReplicationMessage *out,
              GError **error)
{
  const guint8 *b = NULL;
  guint32 n;

  if (!take (r, 32, &b, "the writer", error))
    return FALSE;
  memcpy (out->batch.writer, b, 32);
  if (!take_seq (r, &out->batch.first_seq, "first seq", error))
    return FALSE;
  if (out->batch.first_seq == 0)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(BATCH for %s) starts at seq 0; logs start at 1", out->system);
  if (!take (r, CB_LOG_SIG_BYTES, &b, "the signature", error))
    return FALSE;
  memcpy (out->batch.sig, b, CB_LOG_SIG_BYTES);
  if (!take (r, 4, &b, "the entry count", error))
    return FALSE;
  n = get_u32 (b);
  if (n == 0)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(BATCH for %s) has no entries", out->system);
  /* Before allocating: every entry takes at least its length and the
   * smallest entry. */
  if (n > r->left / (4 + CB_LOG_ENTRY_MIN_BYTES))
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(BATCH for %s) claims %u entries but %" G_GSIZE_FORMAT " bytes cannot hold "
                 "that many", out->system, n, r->left);
  if (out->batch.first_seq - 1 + n > CB_LOG_MAX_SEQ)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(BATCH for %s) runs past seq 2^63-1", out->system);
  out->batch.entries = g_ptr_array_new_full (n, (GDestroyNotify) g_bytes_unref);
  for (guint32 i = 0; i < n; i++)
    {
      guint32 len;

      if (!take (r, 4, &b, "an entry length", error))
        return FALSE;
      len = get_u32 (b);
      if (len < CB_LOG_ENTRY_MIN_BYTES || len > CB_LOG_ENTRY_MAX_BYTES)
        return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                     "(BATCH for %s) has entry %u of %u bytes; entries take %u..%u bytes",
                     out->system, i + 1, len, (guint) CB_LOG_ENTRY_MIN_BYTES,
                     (guint) CB_LOG_ENTRY_MAX_BYTES);
      if (!take (r, len, &b, "an entry", error))
        return FALSE;
      g_ptr_array_add (out->batch.entries,
                       source != NULL ? g_bytes_new_from_bytes (source, (gsize) (b - start), len)
                                      : g_bytes_new (b, len));
    }
  return TRUE;
}

static gboolean
decode_nack (Reader *r, CbReplicationMessage *out, GError **error)
{
  const guint8 *b = NULL;
  const char *text, *end;
  guint8 len;

  if (!take (r, 32, &b, "the writer", error))
    return FALSE;
  memcpy (out->nack.writer, b, 32);
  if (!take_seq (r, &out->nack.seq, "the seq", error))
    return FALSE;
  if (!take (r, 2, &b, "the reason", error))
    return FALSE;
  out->nack.reason = b[0];
  len = b[1];
  if (len > CB_REPLICATION_MAX_NACK_TEXT)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(NACK for %s) has a %u-byte text; at most %u are allowed", out->system,
                 len, CB_REPLICATION_MAX_NACK_TEXT);
  if (!take (r, len, &b, "the text", error))
    return FALSE;
  text = (const char *) b;
  if (!g_utf8_validate_len (text, len, &end))
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                 "(NACK for %s) text is not UTF-8 at byte %" G_GSIZE_FORMAT, out->system,
                 (gsize) (end - text));
  for (const char *p = text; p < text + len; p = g_utf8_next_char (p))
    if (is_control (g_utf8_get_char (p)))
      return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                   "(NACK for %s) text has a control character at byte %" G_GSIZE_FORMAT,
                   out->system, (gsize) (p - text));
  out->nack.text = g_strndup (text, len);
  return TRUE;
}

static gboolean
decode (const guint8 *data, gsize len, GBytes *source, CbReplicationMessage *out,
        GError **error)
{
  Reader r = { data, len, "" };
  const guint8 *b = NULL;
  guint8 type, n;
  gboolean ok;

  memset (out, 0, sizeof *out);
  if (len == 0)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED, "is empty");
  if (len > CB_REPLICATION_MAX_MESSAGE)
    return fail (error, CB_REPLICATION_CODEC_ERROR_TOO_LARGE,
                 "is %" G_GSIZE_FORMAT " bytes; at most %u are allowed", len,
                 (guint) CB_REPLICATION_MAX_MESSAGE);
  if (data[0] != CB_REPLICATION_WIRE_VERSION)
    return fail (error, CB_REPLICATION_CODEC_ERROR_VERSION,
                 "is in wire version %u but this build speaks only version %u; the peer may "
                 "run a different release", data[0], CB_REPLICATION_WIRE_VERSION);
  if (len < HEAD_BYTES)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED, "ends inside its header");
  type = data[1];
  if (type < CB_REPLICATION_MSG_HAVE || type > CB_REPLICATION_MSG_PULLED)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED, "has unknown type %u", type);
  r.type = type_name (type);
  n = data[2];
  r.p += HEAD_BYTES;
  r.left -= HEAD_BYTES;
  if (!take (&r, n, &b, "the system name", error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (b[i] < 0x21 || b[i] > 0x7e)
      return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
                   "(%s) has byte 0x%02x in its system name; only printable ASCII without "
                   "spaces is allowed", r.type, b[i]);
  if (n == 0)
    return fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED, "(%s) has an empty system name",
                 r.type);
  out->type = type;
  out->system = g_strndup ((const char *) b, n);

  switch (type)
    {
    case CB_REPLICATION_MSG_HAVE:
      ok = decode_have (&r, out, error);
      break;
    case CB_REPLICATION_MSG_BATCH:
      ok = decode_batch (&r, data, source, out, error);
      break;
    case CB_REPLICATION_MSG_PULLED:
      ok = decode_pulled (&r, out, error);
      break;
    default:
      ok = decode_nack (&r, out, error);
      break;
    }
  if (ok && r.left != 0)
    ok = fail (error, CB_REPLICATION_CODEC_ERROR_MALFORMED,
               "(%s for %s) has %" G_GSIZE_FORMAT " trailing byte(s)", r.type, out->system,
               r.left);
  if (!ok)
    cb_replication_message_clear (out);
  return ok;
}

gboolean
cb_replication_decode (const guint8          *data,
                       gsize                  len,
                       CbReplicationMessage  *out,
                       GError               **error)
{
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  return decode (data, len, NULL, out, error);
}

gboolean
cb_replication_decode_bytes (GBytes                *message,
                             CbReplicationMessage  *out,
                             GError               **error)
{
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (message != NULL && out != NULL, FALSE);
  data = g_bytes_get_data (message, &len);
  return decode (data, len, message, out, error);
}

void
cb_replication_message_clear (CbReplicationMessage *message)
{
  if (message == NULL)
    return;
  switch (message->type)
    {
    case CB_REPLICATION_MSG_HAVE:
      g_free (message->have.items);
      break;
    case CB_REPLICATION_MSG_BATCH:
      if (message->batch.entries != NULL)
        g_ptr_array_unref (message->batch.entries);
      break;
    case CB_REPLICATION_MSG_NACK:
      g_free (message->nack.text);
      break;
    default:
      break;
    }
  g_free (message->system);
  memset (message, 0, sizeof *message);
}

/* ---- encoders ---- */

static gboolean invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_INVALID,
               "cannot encode a replication message: %s", msg);
  return FALSE;
}

static gboolean
check_system (const char *system, GError **error)
{
  if (!cb_log_system_name_valid (system))
    {
      g_autofree char *shown = system != NULL ? g_strescape (system, NULL) : g_strdup ("(null)");

      return invalid (error, "system name \"%s\" is not 1..%u printable ASCII bytes without "
                      "spaces", shown, CB_LOG_MAX_SYSTEM);
    }
  return TRUE;
}

static guint8 *
put_head (guint8 *p, guint8 type, const char *system, gsize system_len)
{
  *p++ = CB_REPLICATION_WIRE_VERSION;
  *p++ = type;
  *p++ = (guint8) system_len;
  memcpy (p, system, system_len);
  return p + system_len;
}

static inline guint8 *
put_u64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, 8);
  return p + 8;
}

static inline guint8 *
put_u32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
  return p + 4;
}

static int
compare_items (const void *a, const void *b)
{
  return memcmp (((const CbReplicationVectorItem *) a)->writer,
                 ((const CbReplicationVectorItem *) b)->writer, 32);
}

GBytes *
cb_replication_encode_have (const char                     *system,
                            guint8                          flags,
                            const CbReplicationVectorItem  *items,
                            gsize                           n_items,
                            GError                        **error)
{
  g_autofree CbReplicationVectorItem *sorted = NULL;
  gsize system_len, total;
  guint8 *buf, *p;

  g_return_val_if_fail (items != NULL || n_items == 0, NULL);
  if (!check_system (system, error))
    return NULL;
  if (flags & ~KNOWN_HAVE_FLAGS)
    {
      invalid (error, "unknown HAVE flag bits 0x%02x", flags & ~KNOWN_HAVE_FLAGS);
      return NULL;
    }
  if ((flags & KNOWN_HAVE_FLAGS) == KNOWN_HAVE_FLAGS)
    {
      invalid (error, "a HAVE cannot be both a reply and a PULL");
      return NULL;
    }
  if (n_items > CB_REPLICATION_MAX_VECTOR)
    {
      g_set_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_TOO_LARGE,
                   "a HAVE for %s cannot list %" G_GSIZE_FORMAT " writers; at most %u fit "
                   "one message", system, n_items, CB_REPLICATION_MAX_VECTOR);
      return NULL;
    }
  for (gsize i = 1; i < n_items; i++)
    if (compare_items (&items[i - 1], &items[i]) >= 0)
      {
        sorted = g_memdup2 (items, n_items * sizeof *items);
        qsort (sorted, n_items, sizeof *sorted, compare_items);
        items = sorted;
        break;
      }
  for (gsize i = 0; i < n_items; i++)
    {
      char who[17];

      if (i > 0 && compare_items (&items[i - 1], &items[i]) == 0)
        {
          writer_hex (items[i].writer, who);
          invalid (error, "writer %s is listed twice in the HAVE for %s", who, system);
          return NULL;
        }
      if (items[i].seq > CB_LOG_MAX_SEQ)
        {
          writer_hex (items[i].writer, who);
          invalid (error, "writer %s has seq %" G_GUINT64_FORMAT ", past the largest (2^63-1)",
                   who, items[i].seq);
          return NULL;
        }
    }

  system_len = strlen (system);
  total = HEAD_BYTES + system_len + 1 + 2 + n_items * VECTOR_ITEM_BYTES;
  p = buf = g_malloc (total);
  p = put_head (p, CB_REPLICATION_MSG_HAVE, system, system_len);
  *p++ = flags;
  *p++ = (guint8) (n_items & 0xff);
  *p++ = (guint8) (n_items >> 8);
  for (gsize i = 0; i < n_items; i++)
    {
      memcpy (p, items[i].writer, 32);
      p = put_u64 (p + 32, items[i].seq);
    }
  g_assert ((gsize) (p - buf) == total);
  return g_bytes_new_take (buf, total);
}

gsize
cb_replication_batch_size (const char *system,
                           gsize       n_entries,
                           gsize       entry_bytes)
{
  g_return_val_if_fail (system != NULL, 0);
  return HEAD_BYTES + strlen (system) + BATCH_FIXED_BYTES + 4 * n_entries + entry_bytes;
}

GBytes *
cb_replication_encode_batch (const char     *system,
                             const guint8    writer[32],
                             guint64         first_seq,
                             const guint8    sig[CB_LOG_SIG_BYTES],
                             GBytes * const *entries,
                             guint           n_entries,
                             GError        **error)
{
  gsize system_len, total, entry_bytes = 0;
  guint8 *buf, *p;

  g_return_val_if_fail (writer != NULL && sig != NULL, NULL);
  g_return_val_if_fail (entries != NULL || n_entries == 0, NULL);
  if (!check_system (system, error))
    return NULL;
  if (n_entries == 0)
    {
      invalid (error, "a BATCH for %s needs at least one entry", system);
      return NULL;
    }
  if (first_seq == 0 || first_seq > CB_LOG_MAX_SEQ || n_entries - 1 > CB_LOG_MAX_SEQ - first_seq)
    {
      invalid (error, "a BATCH for %s cannot hold seqs %" G_GUINT64_FORMAT "..+%u; seqs run "
               "1..2^63-1", system, first_seq, n_entries);
      return NULL;
    }
  for (guint i = 0; i < n_entries; i++)
    {
      gsize len = g_bytes_get_size (entries[i]);

      if (len < CB_LOG_ENTRY_MIN_BYTES || len > CB_LOG_ENTRY_MAX_BYTES)
        {
          invalid (error, "entry %u of a BATCH for %s is %" G_GSIZE_FORMAT " bytes; entries "
                   "take %u..%u bytes", i + 1, system, len, (guint) CB_LOG_ENTRY_MIN_BYTES,
                   (guint) CB_LOG_ENTRY_MAX_BYTES);
          return NULL;
        }
      entry_bytes += len;
      if (entry_bytes > CB_REPLICATION_MAX_MESSAGE)
        break;  /* already too large; stop before the sum can overflow */
    }
  total = cb_replication_batch_size (system, n_entries, entry_bytes);
  if (total > CB_REPLICATION_MAX_MESSAGE)
    {
      g_set_error (error, CB_REPLICATION_CODEC_ERROR, CB_REPLICATION_CODEC_ERROR_TOO_LARGE,
                   "a BATCH of %u entries for %s would take over %" G_GSIZE_FORMAT " bytes, "
                   "more than the %u one message carries; send fewer entries per batch",
                   n_entries, system, total, (guint) CB_REPLICATION_MAX_MESSAGE);
      return NULL;
    }

  system_len = strlen (system);
  p = buf = g_malloc (total);
  p = put_head (p, CB_REPLICATION_MSG_BATCH, system, system_len);
  memcpy (p, writer, 32);
  p = put_u64 (p + 32, first_seq);
  memcpy (p, sig, CB_LOG_SIG_BYTES);
  p = put_u32 (p + CB_LOG_SIG_BYTES, n_entries);
  for (guint i = 0; i < n_entries; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (entries[i], &len);

      p = put_u32 (p, (guint32) len);
      memcpy (p, data, len);
      p += len;
    }
  g_assert ((gsize) (p - buf) == total);
  return g_bytes_new_take (buf, total);
}

/* text made safe for the wire: at most CB_REPLICATION_MAX_NACK_TEXT bytes
 * of UTF-8 without control characters; returns the length in out. */
static gsize
clean_text (const char *text, char out[CB_REPLICATION_MAX_NACK_TEXT])
{
  gsize n = 0, left = text != NULL ? strlen (text) : 0;
  const char *p = text;

  while (left > 0)
    {
      gunichar c = g_utf8_get_char_validated (p, (gssize) left);
      gsize step;

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          if (n + 1 > CB_REPLICATION_MAX_NACK_TEXT)
            break;
          out[n++] = '?';
          p++;
          left--;
          continue;
        }
      step = (gsize) (g_utf8_next_char (p) - p);
      if (is_control (c))
        {
          if (n + 1 > CB_REPLICATION_MAX_NACK_TEXT)
            break;
          out[n++] = '?';
        }
      else
        {
          if (n + step > CB_REPLICATION_MAX_NACK_TEXT)
            break;
          memcpy (out + n, p, step);
          n += step;
        }
      p += step;
      left -= step;
    }
  return n;
}

GBytes *
cb_replication_encode_nack (const char    *system,
                            const guint8   writer[32],
                            guint64        seq,
                            guint8         reason,
                            const char    *text,
                            GError       **error)
{
  char clean[CB_REPLICATION_MAX_NACK_TEXT];
  gsize system_len, text_len, total;
  guint8 *buf, *p;

  g_return_val_if_fail (writer != NULL, NULL);
  if (!check_system (system, error))
    return NULL;
  if (seq > CB_LOG_MAX_SEQ)
    {
      invalid (error, "a NACK cannot name seq %" G_GUINT64_FORMAT ", past the largest (2^63-1)",
               seq);
      return NULL;
    }
  text_len = clean_text (text, clean);
  system_len = strlen (system);
  total = HEAD_BYTES + system_len + NACK_FIXED_BYTES + text_len;
  p = buf = g_malloc (total);
  p = put_head (p, CB_REPLICATION_MSG_NACK, system, system_len);
  memcpy (p, writer, 32);
  p = put_u64 (p + 32, seq);
  *p++ = reason;
  *p++ = (guint8) text_len;
  memcpy (p, clean, text_len);
  p += text_len;
  g_assert ((gsize) (p - buf) == total);
  return g_bytes_new_take (buf, total);
}

GBytes *
cb_replication_encode_pulled (const char  *system,
                              guint8       flags,
                              guint32      sent,
                              guint64      entries,
                              guint64      newest_hlc,
                              GError     **error)
{
  gsize system_len;
  guint8 *buf, *p;

  if (!check_system (system, error))
    return NULL;
  if (flags & ~KNOWN_PULLED_FLAGS)
    {
      invalid (error, "unknown PULLED flag bits 0x%02x", flags & ~KNOWN_PULLED_FLAGS);
      return NULL;
    }
  if (entries > CB_LOG_MAX_SEQ || newest_hlc > (guint64) G_MAXINT64)
    {
      invalid (error, "a PULLED count or clock past 2^63-1");
      return NULL;
    }
  system_len = strlen (system);
  buf = g_malloc (HEAD_BYTES + system_len + PULLED_BYTES);
  p = put_head (buf, CB_REPLICATION_MSG_PULLED, system, system_len);
  *p++ = flags;
  p = put_u32 (p, sent);
  p = put_u64 (p, entries);
  p = put_u64 (p, newest_hlc);
  return g_bytes_new_take (buf, (gsize) (p - buf));
}

GBytes *
cb_replication_encode (const CbReplicationMessage  *message,
                       GError                     **error)
{
  g_return_val_if_fail (message != NULL, NULL);
  switch (message->type)
    {
    case CB_REPLICATION_MSG_HAVE:
      return cb_replication_encode_have (message->system, message->have.flags,
                                         message->have.items, message->have.n_items, error);
    case CB_REPLICATION_MSG_BATCH:
      return cb_replication_encode_batch (message->system, message->batch.writer,
                                          message->batch.first_seq, message->batch.sig,
                                          message->batch.entries != NULL
                                          ? (GBytes * const *) message->batch.entries->pdata
                                          : NULL,
                                          message->batch.entries != NULL
                                          ? message->batch.entries->len : 0, error);
    case CB_REPLICATION_MSG_NACK:
      return cb_replication_encode_nack (message->system, message->nack.writer,
                                         message->nack.seq, message->nack.reason,
                                         message->nack.text, error);
    case CB_REPLICATION_MSG_PULLED:
      return cb_replication_encode_pulled (message->system, message->pulled.flags,
                                           message->pulled.sent, message->pulled.entries,
                                           message->pulled.newest_hlc, error);
    default:
      invalid (error, "unknown message type %d", (int) message->type);
      return NULL;
    }
}

/* ---- NACK reasons ---- */

guint8
cb_replication_nack_reason_for_error (const GError *error)
{
  if (error == NULL)
    return CB_REPLICATION_NACK_OTHER;
  if (error->domain == CB_HLC_ERROR)
    return CB_REPLICATION_NACK_CLOCK;
  if (error->domain == CB_REPLICATION_CODEC_ERROR)
    return error->code == CB_REPLICATION_CODEC_ERROR_TOO_LARGE
           ? CB_REPLICATION_NACK_TOO_LARGE : CB_REPLICATION_NACK_MALFORMED;
  if (error->domain != CB_LOG_ERROR)
    return CB_REPLICATION_NACK_OTHER;
  switch ((CbLogError) error->code)
    {
    case CB_LOG_ERROR_MALFORMED:
    case CB_LOG_ERROR_VERSION:
      return CB_REPLICATION_NACK_MALFORMED;
    case CB_LOG_ERROR_TOO_LARGE:
      return CB_REPLICATION_NACK_TOO_LARGE;
    case CB_LOG_ERROR_WRONG_SYSTEM:
      return CB_REPLICATION_NACK_WRONG_SYSTEM;
    case CB_LOG_ERROR_WRONG_WRITER:
      return CB_REPLICATION_NACK_WRONG_WRITER;
    case CB_LOG_ERROR_GAP:
      return CB_REPLICATION_NACK_GAP;
    case CB_LOG_ERROR_BROKEN_CHAIN:
      return CB_REPLICATION_NACK_BROKEN_CHAIN;
    case CB_LOG_ERROR_BAD_SIGNATURE:
      return CB_REPLICATION_NACK_BAD_SIGNATURE;
    default:
      return CB_REPLICATION_NACK_OTHER;
    }
}

const char *
cb_replication_nack_reason_name (guint8 reason)
{
  static const char *const names[] = {
    [CB_REPLICATION_NACK_OTHER] = "other",
    [CB_REPLICATION_NACK_MALFORMED] = "malformed",
    [CB_REPLICATION_NACK_WRONG_SYSTEM] = "wrong-system",
    [CB_REPLICATION_NACK_WRONG_WRITER] = "wrong-writer",
    [CB_REPLICATION_NACK_GAP] = "gap",
    [CB_REPLICATION_NACK_BROKEN_CHAIN] = "broken-chain",
    [CB_REPLICATION_NACK_BAD_SIGNATURE] = "bad-signature",
    [CB_REPLICATION_NACK_TOO_LARGE] = "too-large",
    [CB_REPLICATION_NACK_REFUSED] = "refused",
    [CB_REPLICATION_NACK_CLOCK] = "clock",
    [CB_REPLICATION_NACK_NOT_HOSTED] = "not-hosted",
    [CB_REPLICATION_NACK_BUSY] = "busy",
  };

  return reason < G_N_ELEMENTS (names) ? names[reason] : "other";
}
