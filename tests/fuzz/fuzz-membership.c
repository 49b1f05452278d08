/* fuzz-membership.c: libFuzzer harness for the membership codec and core.
 *
 * An input starting with the wire version byte (1) is one message: it is
 * decoded, re-encoded (the format is canonical, so the bytes must match),
 * and received by a fresh node.  An input starting with 0xff is a session:
 * chunks of [sender:u8][len:u16 le][message] received in turn by one node
 * from three peers, with ticks in between.  Whatever the node sends must
 * decode and stay within the configured size. */
#include <string.h>

#include "cb-membership.h"
#include "cb-membership-codec.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_roundtrip (const guint8 *data, size_t size, const CbMembershipMessage *d)
{
  guint8 *buf = g_malloc (CB_MEMBERSHIP_MAX_MESSAGE_BYTES);
  CbMembershipWriter w;
  GBytes *out;

  if (!cb_membership_writer_init (&w, buf, CB_MEMBERSHIP_MAX_MESSAGE_BYTES, &d->h))
    g_error ("a decoded header does not re-encode");
  for (guint i = 0; i < d->n_records; i++)
    if (!cb_membership_writer_add_record (&w, &d->records[i]))
      g_error ("a decoded record does not re-encode");
  for (guint i = 0; i < d->n_updates; i++)
    if (!cb_membership_writer_add_update (&w, &d->updates[i]))
      g_error ("a decoded update does not re-encode");
  out = cb_membership_writer_finish (&w);
  if (g_bytes_get_size (out) != size || memcmp (g_bytes_get_data (out, NULL), data, size) != 0)
    g_error ("re-encoding a decoded message changed its bytes");
  g_bytes_unref (out);
  g_free (buf);
}

static void
drain (CbMembership *m, const CbMembershipConfig *cfg, CbMembershipMessage *scratch)
{
  CbMembershipSend s;
  CbMembershipEvent e;

  while (cb_membership_pop_send (m, &s))
    {
      gsize len;
      const guint8 *p = g_bytes_get_data (s.data, &len);

      if (!cb_membership_message_decode (p, len, cfg->max_message_bytes, scratch, NULL))
        g_error ("the node sent a message it cannot decode");
      if (!cb_membership_addr_valid (s.to_addr))
        g_error ("the node sent to an invalid address");
      cb_membership_send_clear (&s);
    }
  while (cb_membership_pop_event (m, &e))
    cb_membership_event_clear (&e);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const guint8 meta[] = { 'f', 'u', 'z', 'z' };
  CbMembershipConfig cfg;
  CbMembershipMessage *d = g_new (CbMembershipMessage, 1);
  guint8 self[32], peers[3][32];
  CbMembership *m;
  GBytes *self_meta;
  gint64 now = 1000;

  if (size > CB_MEMBERSHIP_MAX_MESSAGE_BYTES * 4)
    {
      g_free (d);
      return 0;
    }
  memset (self, 0x11, sizeof self);
  for (guint i = 0; i < 3; i++)
    memset (peers[i], 0x20 + i, sizeof peers[i]);
  cb_membership_config_init (&cfg);
  cfg.active_view = 4;
  cfg.passive_view = 8;
  cfg.max_tombstones = 4;
  self_meta = g_bytes_new_static (meta, sizeof meta);
  m = cb_membership_new (&cfg, self, "self:1", self_meta, 99);
  g_bytes_unref (self_meta);
  cb_membership_tick (m, now);
  cb_membership_add_seed (m, peers[0], "peer0:1", now);
  drain (m, &cfg, d);

  if (size > 0 && data[0] == CB_MEMBERSHIP_WIRE_VERSION)
    {
      if (cb_membership_message_decode (data, size, CB_MEMBERSHIP_MAX_MESSAGE_BYTES, d, NULL))
        check_roundtrip (data, size, d);
      cb_membership_receive (m, now + 10, peers[1], data, size, NULL);
      drain (m, &cfg, d);
      for (gint64 t = now; t < now + 20000; t = MAX (t + 1, cb_membership_next_deadline (m)))
        {
          cb_membership_tick (m, t);
          drain (m, &cfg, d);
        }
    }
  else if (size > 0 && data[0] == 0xff)
    {
      size_t off = 1;

      while (off + 3 <= size)
        {
          guint sender = data[off] % 3;
          size_t len = data[off + 1] | ((size_t) data[off + 2] << 8);

          off += 3;
          len = MIN (len, size - off);
          /* The sender byte's high bits move time on, up to ~4 s. */
          now += 1 + (data[off - 3] >> 2) * 64;
          cb_membership_tick (m, now);
          drain (m, &cfg, d);
          cb_membership_receive (m, now, peers[sender], data + off, len, NULL);
          drain (m, &cfg, d);
          if ((data[off - 3] & 0xfc) == 0xfc)
            cb_membership_peer_unreachable (m, peers[sender], now);
          off += len;
        }
      {
        GPtrArray *members = cb_membership_get_members (m);

        if (members->len > cfg.active_view + cfg.passive_view + cfg.max_tombstones)
          g_error ("membership state exceeded its bound");
        g_ptr_array_unref (members);
      }
      cb_membership_leave (m, now + 1);
      drain (m, &cfg, d);
    }
  cb_membership_free (m);
  g_free (d);
  return 0;
}
