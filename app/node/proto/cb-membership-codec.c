/* cb-membership-codec.c: checked decoder and bounded encoder for the
 * membership wire format described in cb-membership-codec.h. */
#define G_LOG_DOMAIN "cb-membership"

#include "cb-membership-codec.h"

#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (cb-membership-error-quark, cb_membership_error)

typedef struct {
  const guint8 *p;
  gsize         left;
  const char   *what;  /* the field being read, for error messages */
} Reader;

static gboolean fail (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_MALFORMED, msg);
  return FALSE;
}

static gboolean
read_bytes (Reader *r, gsize n, const guint8 **out, GError **error)
{
  if (r->left < n)
    return fail (error, "membership message ends inside %s", r->what);
  *out = r->p;
  r->p += n;
  r->left -= n;
  return TRUE;
}

static gboolean
read_u8 (Reader *r, guint8 *out, GError **error)
{
  const guint8 *b = NULL;

  if (!read_bytes (r, 1, &b, error))
    return FALSE;
  *out = b[0];
  return TRUE;
}

static gboolean
read_varint (Reader *r, guint64 *out, GError **error)
{
  guint64 v = 0;

  for (guint i = 0; i < 10; i++)
    {
      guint8 b;

      if (!read_u8 (r, &b, error))
        return FALSE;
      /* The tenth byte may only carry the top bit of a 64-bit value. */
      if (i == 9 && b > 1)
        return fail (error, "membership message has a %s over 64 bits", r->what);
      v |= (guint64) (b & 0x7f) << (7 * i);
      if (!(b & 0x80))
        {
          if (b == 0 && i > 0)
            return fail (error, "membership message has a %s in a non-minimal encoding", r->what);
          *out = v;
          return TRUE;
        }
    }
  return fail (error, "membership message has a %s longer than 10 bytes", r->what);
}

static gboolean
addr_bytes_valid (const guint8 *p, gsize n)
{
  if (n == 0 || n > CB_MEMBERSHIP_MAX_ADDR)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (p[i] < 0x21 || p[i] > 0x7e)
      return FALSE;
  return TRUE;
}

gboolean
cb_membership_addr_valid (const char *addr)
{
  return addr != NULL && addr_bytes_valid ((const guint8 *) addr, strlen (addr));
}

static gboolean
read_str8 (Reader *r, const char **out, guint8 *out_len, GError **error)
{
  guint8 n;
  const guint8 *b = NULL;

  if (!read_u8 (r, &n, error) || !read_bytes (r, n, &b, error))
    return FALSE;
  if (!addr_bytes_valid (b, n))
    return fail (error, "membership message has an empty or unprintable %s", r->what);
  *out = (const char *) b;
  *out_len = n;
  return TRUE;
}

static gboolean
read_blob16 (Reader *r, const guint8 **out, guint16 *out_len, GError **error)
{
  const guint8 *b = NULL;
  guint16 n;

  if (!read_bytes (r, 2, &b, error))
    return FALSE;
  n = (guint16) (b[0] | (b[1] << 8));
  if (n > CB_MEMBERSHIP_MAX_META)
    {
      g_set_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_MALFORMED,
                   "membership message has %u bytes of %s; at most %u are allowed",
                   n, r->what, CB_MEMBERSHIP_MAX_META);
      return FALSE;
    }
  if (!read_bytes (r, n, out, error))
    return FALSE;
  *out_len = n;
  return TRUE;
}

static gboolean
read_id (Reader *r, guint8 out[CB_MEMBERSHIP_ID_BYTES], GError **error)
{
  const guint8 *b = NULL;

  if (!read_bytes (r, CB_MEMBERSHIP_ID_BYTES, &b, error))
    return FALSE;
  memcpy (out, b, CB_MEMBERSHIP_ID_BYTES);
  return TRUE;
}

static gboolean
read_record (Reader *r, CbMembershipItem *it, GError **error)
{
  it->kind = CB_MEMBERSHIP_UPDATE_ALIVE;
  it->hops = 0;
  r->what = "record id";
  if (!read_id (r, it->id, error))
    return FALSE;
  r->what = "record incarnation";
  if (!read_varint (r, &it->incarnation, error))
    return FALSE;
  r->what = "record address";
  if (!read_str8 (r, &it->addr, &it->addr_len, error))
    return FALSE;
  r->what = "record metadata";
  return read_blob16 (r, &it->meta, &it->meta_len, error);
}

static gboolean
read_update (Reader *r, CbMembershipItem *it, GError **error)
{
  r->what = "update kind";
  if (!read_u8 (r, &it->kind, error))
    return FALSE;
  if (it->kind < CB_MEMBERSHIP_UPDATE_ALIVE || it->kind > CB_MEMBERSHIP_UPDATE_LEFT)
    {
      g_set_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_MALFORMED,
                   "membership message has an update of unknown kind %u", it->kind);
      return FALSE;
    }
  r->what = "update hop count";
  if (!read_u8 (r, &it->hops, error))
    return FALSE;
  r->what = "update id";
  if (!read_id (r, it->id, error))
    return FALSE;
  r->what = "update incarnation";
  if (!read_varint (r, &it->incarnation, error))
    return FALSE;
  it->addr = NULL;
  it->addr_len = 0;
  it->meta = NULL;
  it->meta_len = 0;
  switch (it->kind)
    {
    case CB_MEMBERSHIP_UPDATE_ALIVE:
      r->what = "update address";
      if (!read_str8 (r, &it->addr, &it->addr_len, error))
        return FALSE;
      r->what = "update metadata";
      return read_blob16 (r, &it->meta, &it->meta_len, error);
    case CB_MEMBERSHIP_UPDATE_SUSPECT:
    case CB_MEMBERSHIP_UPDATE_DEAD:
      r->what = "update suspecting id";
      return read_id (r, it->from, error);
    default:
      return TRUE;
    }
}

gboolean
cb_membership_message_decode (const guint8        *data,
                              gsize                len,
                              gsize                max_len,
                              CbMembershipMessage *out,
                              GError             **error)
{
  Reader r = { data, len, "version" };
  CbMembershipHeader *h = &out->h;
  guint8 version, n;

  out->n_records = 0;
  out->n_updates = 0;
  if (len > max_len)
    {
      g_set_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_TOO_LARGE,
                   "membership message of %" G_GSIZE_FORMAT " bytes exceeds the %"
                   G_GSIZE_FORMAT "-byte limit", len, max_len);
      return FALSE;
    }
  if (data == NULL && len > 0)
    return fail (error, "membership message has no %s", "data");
  if (!read_u8 (&r, &version, error))
    return FALSE;
  if (version != CB_MEMBERSHIP_WIRE_VERSION)
    {
      g_set_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_VERSION,
                   "membership message has wire version %u; this node speaks version %u",
                   version, CB_MEMBERSHIP_WIRE_VERSION);
      return FALSE;
    }
  r.what = "type";
  if (!read_u8 (&r, &h->type, error))
    return FALSE;
  if (h->type < CB_MEMBERSHIP_MSG_PING || h->type > CB_MEMBERSHIP_MSG_LAST)
    {
      g_set_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_MALFORMED,
                   "membership message has unknown type %u", h->type);
      return FALSE;
    }
  r.what = "flags";
  if (!read_u8 (&r, &h->flags, error))
    return FALSE;
  r.what = "sender incarnation";
  if (!read_varint (&r, &h->incarnation, error))
    return FALSE;
  r.what = "sender address";
  if (!read_str8 (&r, &h->addr, &h->addr_len, error))
    return FALSE;
  h->meta = NULL;
  h->meta_len = 0;
  if (h->flags & CB_MEMBERSHIP_FLAG_HAS_META)
    {
      r.what = "sender metadata";
      if (!read_blob16 (&r, &h->meta, &h->meta_len, error))
        return FALSE;
    }
  h->seq = 0;
  h->target_addr = NULL;
  h->target_addr_len = 0;
  memset (h->target_id, 0, sizeof h->target_id);
  switch (h->type)
    {
    case CB_MEMBERSHIP_MSG_PING_REQ:
      r.what = "sequence number";
      if (!read_varint (&r, &h->seq, error))
        return FALSE;
      r.what = "probe target id";
      if (!read_id (&r, h->target_id, error))
        return FALSE;
      r.what = "probe target address";
      if (!read_str8 (&r, &h->target_addr, &h->target_addr_len, error))
        return FALSE;
      break;
    case CB_MEMBERSHIP_MSG_PING:
    case CB_MEMBERSHIP_MSG_ACK:
    case CB_MEMBERSHIP_MSG_NACK:
      r.what = "sequence number";
      if (!read_varint (&r, &h->seq, error))
        return FALSE;
      break;
    default:
      break;
    }

  r.what = "record count";
  if (!read_u8 (&r, &n, error))
    return FALSE;
  if (n > CB_MEMBERSHIP_MAX_ITEMS)
    {
      g_set_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_MALFORMED,
                   "membership message claims %u records; at most %u are allowed",
                   n, CB_MEMBERSHIP_MAX_ITEMS);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (!read_record (&r, &out->records[i], error))
      return FALSE;
  out->n_records = n;

  r.what = "update count";
  if (!read_u8 (&r, &n, error))
    return FALSE;
  if (n > CB_MEMBERSHIP_MAX_ITEMS)
    {
      g_set_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_MALFORMED,
                   "membership message claims %u updates; at most %u are allowed",
                   n, CB_MEMBERSHIP_MAX_ITEMS);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (!read_update (&r, &out->updates[i], error))
      return FALSE;
  out->n_updates = n;

  if (r.left != 0)
    {
      g_set_error (error, CB_MEMBERSHIP_ERROR, CB_MEMBERSHIP_ERROR_MALFORMED,
                   "membership message has %" G_GSIZE_FORMAT " unexpected trailing bytes",
                   r.left);
      return FALSE;
    }
  return TRUE;
}

/* ---- encoding ---- */

static gsize
varint_size (guint64 v)
{
  gsize n = 1;

  while (v >= 0x80)
    {
      v >>= 7;
      n++;
    }
  return n;
}

static guint8 *
put_varint (guint8 *p, guint64 v)
{
  while (v >= 0x80)
    {
      *p++ = (guint8) (v | 0x80);
      v >>= 7;
    }
  *p++ = (guint8) v;
  return p;
}

static guint8 *
put_str8 (guint8 *p, const char *s, gsize n)
{
  *p++ = (guint8) n;
  memcpy (p, s, n);
  return p + n;
}

static guint8 *
put_blob16 (guint8 *p, const guint8 *b, gsize n)
{
  *p++ = (guint8) (n & 0xff);
  *p++ = (guint8) (n >> 8);
  if (n > 0)
    memcpy (p, b, n);
  return p + n;
}

gsize
cb_membership_record_size (const CbMembershipItem *it)
{
  return CB_MEMBERSHIP_ID_BYTES + varint_size (it->incarnation) + 1 + it->addr_len
         + 2 + it->meta_len;
}

gsize
cb_membership_update_size (const CbMembershipItem *it)
{
  gsize n = 2 + CB_MEMBERSHIP_ID_BYTES + varint_size (it->incarnation);

  switch (it->kind)
    {
    case CB_MEMBERSHIP_UPDATE_ALIVE:
      return n + 1 + it->addr_len + 2 + it->meta_len;
    case CB_MEMBERSHIP_UPDATE_SUSPECT:
    case CB_MEMBERSHIP_UPDATE_DEAD:
      return n + CB_MEMBERSHIP_ID_BYTES;
    default:
      return n;
    }
}

gsize
cb_membership_update_encode (const CbMembershipItem *it, guint8 *buf, gsize cap)
{
  gsize n = cb_membership_update_size (it);
  guint8 *p = buf;

  g_return_val_if_fail (it->kind >= CB_MEMBERSHIP_UPDATE_ALIVE
                        && it->kind <= CB_MEMBERSHIP_UPDATE_LEFT, 0);
  g_return_val_if_fail (it->meta_len <= CB_MEMBERSHIP_MAX_META, 0);
  if (n > cap)
    return 0;
  *p++ = it->kind;
  *p++ = it->hops;
  memcpy (p, it->id, CB_MEMBERSHIP_ID_BYTES);
  p += CB_MEMBERSHIP_ID_BYTES;
  p = put_varint (p, it->incarnation);
  switch (it->kind)
    {
    case CB_MEMBERSHIP_UPDATE_ALIVE:
      p = put_str8 (p, it->addr, it->addr_len);
      p = put_blob16 (p, it->meta, it->meta_len);
      break;
    case CB_MEMBERSHIP_UPDATE_SUSPECT:
    case CB_MEMBERSHIP_UPDATE_DEAD:
      memcpy (p, it->from, CB_MEMBERSHIP_ID_BYTES);
      p += CB_MEMBERSHIP_ID_BYTES;
      break;
    default:
      break;
    }
  g_assert ((gsize) (p - buf) == n);
  return n;
}

gboolean
cb_membership_writer_init (CbMembershipWriter       *w,
                           guint8                   *buf,
                           gsize                     cap,
                           const CbMembershipHeader *h)
{
  gsize need = 3 + varint_size (h->incarnation) + 1 + h->addr_len + 1 /* n_records */ + 1 /* n_updates */;
  guint8 *p = buf;
  guint8 flags = h->flags & ~CB_MEMBERSHIP_FLAG_HAS_META;

  g_return_val_if_fail (h->addr_len > 0, FALSE);
  if (h->meta != NULL || h->meta_len > 0)
    {
      g_return_val_if_fail (h->meta_len <= CB_MEMBERSHIP_MAX_META, FALSE);
      flags |= CB_MEMBERSHIP_FLAG_HAS_META;
      need += 2 + h->meta_len;
    }
  if (h->type == CB_MEMBERSHIP_MSG_PING_REQ)
    need += varint_size (h->seq) + CB_MEMBERSHIP_ID_BYTES + 1 + h->target_addr_len;
  else if (h->type == CB_MEMBERSHIP_MSG_PING || h->type == CB_MEMBERSHIP_MSG_ACK
           || h->type == CB_MEMBERSHIP_MSG_NACK)
    need += varint_size (h->seq);
  if (need > cap)
    return FALSE;

  *p++ = CB_MEMBERSHIP_WIRE_VERSION;
  *p++ = h->type;
  *p++ = flags;
  p = put_varint (p, h->incarnation);
  p = put_str8 (p, h->addr, h->addr_len);
  if (flags & CB_MEMBERSHIP_FLAG_HAS_META)
    p = put_blob16 (p, h->meta, h->meta_len);
  if (h->type == CB_MEMBERSHIP_MSG_PING_REQ)
    {
      p = put_varint (p, h->seq);
      memcpy (p, h->target_id, CB_MEMBERSHIP_ID_BYTES);
      p += CB_MEMBERSHIP_ID_BYTES;
      p = put_str8 (p, h->target_addr, h->target_addr_len);
    }
  else if (h->type == CB_MEMBERSHIP_MSG_PING || h->type == CB_MEMBERSHIP_MSG_ACK
           || h->type == CB_MEMBERSHIP_MSG_NACK)
    p = put_varint (p, h->seq);
  w->buf = buf;
  w->cap = cap;
  w->n_records_pos = (gsize) (p - buf);
  *p++ = 0;
  w->len = (gsize) (p - buf);
  w->n_updates_pos = 0;
  w->n_records = 0;
  w->n_updates = 0;
  return TRUE;
}

gsize
cb_membership_writer_room (const CbMembershipWriter *w)
{
  /* Keep one byte for the update count if it is not written yet. */
  gsize used = w->len + (w->n_updates_pos == 0 ? 1 : 0);

  return used >= w->cap ? 0 : w->cap - used;
}

gboolean
cb_membership_writer_add_record (CbMembershipWriter *w, const CbMembershipItem *it)
{
  guint8 *p;

  if (w->n_updates_pos != 0 || w->n_records >= CB_MEMBERSHIP_MAX_ITEMS)
    return FALSE;
  g_return_val_if_fail (it->addr_len > 0 && it->meta_len <= CB_MEMBERSHIP_MAX_META, FALSE);
  if (cb_membership_record_size (it) > cb_membership_writer_room (w))
    return FALSE;
  p = w->buf + w->len;
  memcpy (p, it->id, CB_MEMBERSHIP_ID_BYTES);
  p += CB_MEMBERSHIP_ID_BYTES;
  p = put_varint (p, it->incarnation);
  p = put_str8 (p, it->addr, it->addr_len);
  p = put_blob16 (p, it->meta, it->meta_len);
  w->len = (gsize) (p - w->buf);
  w->buf[w->n_records_pos] = (guint8) ++w->n_records;
  return TRUE;
}

static void
start_updates (CbMembershipWriter *w)
{
  if (w->n_updates_pos == 0)
    {
      w->n_updates_pos = w->len;
      w->buf[w->len++] = 0;
    }
}

gboolean
cb_membership_writer_add_encoded (CbMembershipWriter *w,
                                  const guint8       *update,
                                  gsize               len,
                                  guint8              hops)
{
  if (w->n_updates >= CB_MEMBERSHIP_MAX_ITEMS || len < 2 || len > cb_membership_writer_room (w))
    return FALSE;
  start_updates (w);
  memcpy (w->buf + w->len, update, len);
  w->buf[w->len + 1] = hops;
  w->len += len;
  w->buf[w->n_updates_pos] = (guint8) ++w->n_updates;
  return TRUE;
}

gboolean
cb_membership_writer_add_update (CbMembershipWriter *w, const CbMembershipItem *it)
{
  gsize n;

  if (w->n_updates >= CB_MEMBERSHIP_MAX_ITEMS)
    return FALSE;
  if (cb_membership_update_size (it) > cb_membership_writer_room (w))
    return FALSE;
  start_updates (w);
  n = cb_membership_update_encode (it, w->buf + w->len, w->cap - w->len);
  if (n == 0)
    return FALSE;
  w->len += n;
  w->buf[w->n_updates_pos] = (guint8) ++w->n_updates;
  return TRUE;
}

GBytes *
cb_membership_writer_finish (CbMembershipWriter *w)
{
  start_updates (w);
  return g_bytes_new (w->buf, w->len);
}
