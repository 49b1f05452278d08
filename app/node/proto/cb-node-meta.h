/* cb-node-meta.h: what a node says about itself in membership records
 *
 * The membership layer gossips this as an opaque blob of at most
 * CB_MEMBERSHIP_MAX_META bytes; role election and hosting read it.  It
 * comes from other nodes, so it is untrusted: only cb_node_meta_decode()
 * reads it.  Format version 1, integers as unsigned LEB128 varints in their
 * shortest form (at most 10 bytes), "str8" a length byte (1..128) followed by
 * that many printable ASCII bytes without spaces (0x21..0x7e):
 *
 *   meta := version:u8 (=1) | flags:u8
 *           | cpu:varint | mem_mb:varint | since:varint
 *           | n_roles:u8 (0..16)   | role:str8*
 *           | n_systems:u8 (0..16) | system:str8*
 *
 *   flags: bit 0 = publisher eligible; the other bits must be 0
 *
 * The encoding is canonical: a decoder accepts exactly the bytes an encoder
 * produces, so encode (decode (x)) == x for every accepted x.  Unknown
 * versions and flags, trailing bytes, counts or lengths past the end,
 * out-of-range numbers, unprintable or repeated strings are all rejected.
 * A later release that needs more fields bumps the version byte. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_NODE_META_VERSION 1
/* The membership layer's cap (CB_MEMBERSHIP_MAX_META). */
#define CB_NODE_META_MAX_BYTES 512
#define CB_NODE_META_MAX_ROLES 16
#define CB_NODE_META_MAX_SYSTEMS 16
/* Long enough for "github.com/<org>/<repo>"-style system names. */
#define CB_NODE_META_MAX_STRING 128
/* Bounds that no real machine crosses, so a bogus value cannot win an
 * election on resources. */
#define CB_NODE_META_MAX_CPU 4096
#define CB_NODE_META_MAX_MEM_MB (G_GUINT64_CONSTANT (64) * 1024 * 1024)  /* 64 TiB */
/* 9999-12-31T23:59:59Z; since is never before the epoch. */
#define CB_NODE_META_MAX_SINCE G_GINT64_CONSTANT (253402300799)

#define CB_NODE_META_ERROR (cb_node_meta_error_quark ())
GQuark cb_node_meta_error_quark (void);

typedef enum {
  CB_NODE_META_ERROR_MALFORMED,  /* truncated, trailing bytes, bad field */
  CB_NODE_META_ERROR_VERSION,    /* a format version this build does not read */
  CB_NODE_META_ERROR_TOO_LARGE,  /* over CB_NODE_META_MAX_BYTES */
  CB_NODE_META_ERROR_INVALID,    /* encode: a field cannot be represented */
} CbNodeMetaError;

typedef struct {
  guint    cpu;                 /* 1..CB_NODE_META_MAX_CPU logical CPUs */
  guint    mem_mb;              /* 1..CB_NODE_META_MAX_MEM_MB */
  gint64   since;               /* unix seconds the node started */
  gboolean publisher_eligible;  /* holds a key the cloud trusts for signing lists */
  GStrv    roles;               /* e.g. "publisher", never NULL */
  GStrv    systems;             /* hosted systems, e.g. "github.com/event-games", never NULL */
} CbNodeMeta;

/* An empty record (no roles, no systems, zero numbers) to fill in; it
 * does not encode until cpu and mem_mb are set. */
CbNodeMeta *cb_node_meta_new    (void);
CbNodeMeta *cb_node_meta_copy   (const CbNodeMeta *meta);
gboolean    cb_node_meta_equal  (const CbNodeMeta *a,
                                 const CbNodeMeta *b);
void        cb_node_meta_free   (CbNodeMeta       *meta);

/* NULL roles or systems encode as empty lists.  Fails with
 * CB_NODE_META_ERROR_INVALID for a field out of its bounds and
 * CB_NODE_META_ERROR_TOO_LARGE past CB_NODE_META_MAX_BYTES. */
GBytes     *cb_node_meta_encode (const CbNodeMeta *meta,
                                 GError          **error);
CbNodeMeta *cb_node_meta_decode (const guint8     *data,
                                 gsize             len,
                                 GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbNodeMeta, cb_node_meta_free)

G_END_DECLS
