/* cb-dbset-codec.c: checked decoder and encoder of the db-set directory
 * messages described in cb-dbset-codec.h.
 *
 * The encoder runs the decoder's field checks, so what one writes the
 * other reads, and what the decoder accepts re-encodes byte for byte. */
#define G_LOG_DOMAIN "cb-dbset"

#include "cb-dbset-codec.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (cb-dbset-codec-error-quark, cb_dbset_codec_error)

void
cb_dbset_message_clear (CbDbSetMessage *message)
{
  g_free (message->system);
  g_free (message->addr);
  for (guint i = 0; i < message->n_hosts; i++)
    g_free (message->hosts[i].addr);
  g_free (message->hosts);
  memset (message, 0, sizeof *message);
}

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
  g_set_error (error, CB_DBSET_CODEC_ERROR, code, "db-set message %s", msg);
  return FALSE;
}

static gboolean
valid_string (const char *s, gsize len)
{
  if (len == 0 || len > 255)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) s[i] < 0x21 || (guchar) s[i] > 0x7e)
      return FALSE;
  return TRUE;
}

static gboolean
valid_target (const CbDbSetId *target)
{
  return target->level <= CB_DBSET_MAX_LEVEL && target->prefix >> target->level == 0;
}

/* ---- decoder ---- */

typedef struct {
  const guint8 *p;
  gsize         left;
} Reader;

static gboolean
take (Reader *r, gsize n, const guint8 **out, const char *what, GError **error)
{
  if (r->left < n)
    return fail (error, CB_DBSET_CODEC_ERROR_MALFORMED, "ends inside %s", what);
  *out = r->p;
  r->p += n;
  r->left -= n;
  return TRUE;
}

static gboolean
take_string (Reader *r, char **out, const char *what, GError **error)
{
  const guint8 *b = NULL;
  guint len;

  if (!take (r, 1, &b, what, error))
    return FALSE;
  len = b[0];
  if (!take (r, len, &b, what, error))
    return FALSE;
  if (!valid_string ((const char *) b, len))
    return fail (error, CB_DBSET_CODEC_ERROR_MALFORMED,
                 "has %s that is empty or not printable ASCII without spaces", what);
  *out = g_strndup ((const char *) b, len);
  return TRUE;
}

static gboolean
take_level (Reader *r, guint *out, const char *what, GError **error)
{
  const guint8 *b = NULL;

  if (!take (r, 1, &b, what, error))
    return FALSE;
  if (b[0] > CB_DBSET_MAX_LEVEL)
    return fail (error, CB_DBSET_CODEC_ERROR_MALFORMED, "has %s %u, past the deepest (%u)",
                 what, b[0], CB_DBSET_MAX_LEVEL);
  *out = b[0];
  return TRUE;
}

static gboolean
decode_body (Reader *r, CbDbSetMessage *out, GError **error)
{
  const guint8 *b = NULL;
  guint64 prefix;
  guint n;

  if (!take_string (r, &out->system, "the system name", error)
      || !take_level (r, &out->level, "the sender's level", error)
      || !take_string (r, &out->addr, "the sender's address", error)
      || !take_level (r, &out->target.level, "the target level", error)
      || !take (r, 8, &b, "the target prefix", error))
    return FALSE;
  memcpy (&prefix, b, 8);
  out->target.prefix = GUINT64_FROM_LE (prefix);
  if (!valid_target (&out->target))
    return fail (error, CB_DBSET_CODEC_ERROR_MALFORMED,
                 "names a target prefix wider than its level %u", out->target.level);
  if (out->type == CB_DBSET_MSG_REQUEST)
    return TRUE;

  if (!take (r, 2, &b, "the host count", error))
    return FALSE;
  n = b[0] | (b[1] << 8);
  if (n > CB_DBSET_MAX_ANSWER)
    return fail (error, CB_DBSET_CODEC_ERROR_MALFORMED, "lists %u hosts, more than %u",
                 n, CB_DBSET_MAX_ANSWER);
  /* Each host takes at least 34 bytes: refuse a count the rest cannot hold
   * before allocating for it. */
  if (n > r->left / 34)
    return fail (error, CB_DBSET_CODEC_ERROR_MALFORMED, "ends inside its %u hosts", n);
  out->hosts = g_new0 (CbDbSetHost, n);
  out->n_hosts = n;
  /* On failure the caller clears what was read (unread addresses are NULL). */
  for (guint i = 0; i < n; i++)
    {
      if (!take (r, 32, &b, "a host id", error))
        return FALSE;
      memcpy (out->hosts[i].id, b, 32);
      if (!take_string (r, &out->hosts[i].addr, "a host address", error))
        return FALSE;
      if (i > 0 && memcmp (out->hosts[i - 1].id, out->hosts[i].id, 32) >= 0)
        return fail (error, CB_DBSET_CODEC_ERROR_MALFORMED,
                     "lists host ids out of order or twice (host %u)", i + 1);
    }
  return TRUE;
}

gboolean
cb_dbset_decode (const guint8    *data,
                 gsize            len,
                 CbDbSetMessage  *out,
                 GError         **error)
{
  Reader r = { data, len };
  const guint8 *b = NULL;

  memset (out, 0, sizeof *out);
  if (!take (&r, 2, &b, "the header", error))
    return FALSE;
  if (b[0] != CB_DBSET_WIRE_VERSION)
    return fail (error, CB_DBSET_CODEC_ERROR_VERSION,
                 "is wire version %u; this build speaks %u", b[0], CB_DBSET_WIRE_VERSION);
  if (b[1] != CB_DBSET_MSG_REQUEST && b[1] != CB_DBSET_MSG_ANSWER)
    return fail (error, CB_DBSET_CODEC_ERROR_MALFORMED, "has unknown type %u", b[1]);
  out->type = b[1];
  if (!decode_body (&r, out, error))
    {
      cb_dbset_message_clear (out);
      return FALSE;
    }
  if (r.left != 0)
    {
      cb_dbset_message_clear (out);
      return fail (error, CB_DBSET_CODEC_ERROR_MALFORMED, "has %zu bytes after its end",
                   r.left);
    }
  return TRUE;
}

/* ---- encoder ---- */

static void
put_string (GByteArray *out, const char *s)
{
  guint8 len = (guint8) strlen (s);

  g_byte_array_append (out, &len, 1);
  g_byte_array_append (out, (const guint8 *) s, len);
}

static int
compare_hosts (const void *a, const void *b)
{
  return memcmp (((const CbDbSetHost *) a)->id, ((const CbDbSetHost *) b)->id, 32);
}

GBytes *
cb_dbset_encode (const CbDbSetMessage  *message,
                 GError               **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree CbDbSetHost *sorted = NULL;
  guint8 head[2] = { CB_DBSET_WIRE_VERSION, (guint8) message->type };
  guint8 level;
  guint64 prefix;

  if ((message->type != CB_DBSET_MSG_REQUEST && message->type != CB_DBSET_MSG_ANSWER)
      || message->system == NULL || !valid_string (message->system, strlen (message->system))
      || message->addr == NULL || !valid_string (message->addr, strlen (message->addr))
      || message->level > CB_DBSET_MAX_LEVEL || !valid_target (&message->target)
      || message->n_hosts > CB_DBSET_MAX_ANSWER)
    {
      g_set_error (error, CB_DBSET_CODEC_ERROR, CB_DBSET_CODEC_ERROR_INVALID,
                   "cannot encode a db-set message with a bad type, name, address, level, "
                   "target or more than %u hosts", CB_DBSET_MAX_ANSWER);
      return NULL;
    }
  g_byte_array_append (out, head, 2);
  put_string (out, message->system);
  level = (guint8) message->level;
  g_byte_array_append (out, &level, 1);
  put_string (out, message->addr);
  level = (guint8) message->target.level;
  g_byte_array_append (out, &level, 1);
  prefix = GUINT64_TO_LE (message->target.prefix);
  g_byte_array_append (out, (const guint8 *) &prefix, 8);
  if (message->type == CB_DBSET_MSG_REQUEST)
    return g_byte_array_free_to_bytes (g_steal_pointer (&out));

  sorted = g_memdup2 (message->hosts, sizeof (CbDbSetHost) * message->n_hosts);
  if (message->n_hosts > 0)
    qsort (sorted, message->n_hosts, sizeof (CbDbSetHost), compare_hosts);
  {
    guint8 n[2] = { message->n_hosts & 0xff, message->n_hosts >> 8 };
    g_byte_array_append (out, n, 2);
  }
  for (guint i = 0; i < message->n_hosts; i++)
    {
      if ((i > 0 && memcmp (sorted[i - 1].id, sorted[i].id, 32) == 0)
          || sorted[i].addr == NULL || !valid_string (sorted[i].addr, strlen (sorted[i].addr)))
        {
          g_set_error (error, CB_DBSET_CODEC_ERROR, CB_DBSET_CODEC_ERROR_INVALID,
                       "cannot encode a db-set answer with a repeated host or a bad address");
          return NULL;
        }
      g_byte_array_append (out, sorted[i].id, 32);
      put_string (out, sorted[i].addr);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
