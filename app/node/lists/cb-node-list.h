/* cb-node-list.h: the signed bootstrap list of a cloud's nodes
 *
 * A list lives on a public domain as one file, an envelope:
 *
 *   {"format": "cloud-bevy-list-1",
 *    "list": "<the list document, a JSON text, in a string>",
 *    "signature": "<128 hex: ed25519 detached signature over the UTF-8 bytes of list>"}
 *
 * The list document names the cloud, a monotonic version, when it was
 * issued and when it expires, the publisher's key and the nodes.  Readers
 * check the envelope, then the signature against the cloud's trusted
 * publisher keys, and only then parse the document.
 *
 * Times here are unix seconds (lists are second-granular); the caller
 * passes "now" in, nothing here reads a clock. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_NODE_LIST_FORMAT         "cloud-bevy-list-1"
/* Bounds a reader enforces before and while parsing. */
#define CB_NODE_LIST_MAX_ENVELOPE   (1024 * 1024)
#define CB_NODE_LIST_MAX_NODES      10000
#define CB_NODE_LIST_MAX_ADDRS      8
#define CB_NODE_LIST_MAX_ROLES      32
#define CB_NODE_LIST_MAX_STRING     256
/* 18 digits: what the decoder reads without overflow. */
#define CB_NODE_LIST_MAX_VERSION    G_GUINT64_CONSTANT (999999999999999999)

#define CB_NODE_LIST_ERROR (cb_node_list_error_quark ())

typedef enum {
  CB_NODE_LIST_ERROR_MALFORMED,     /* not a well-formed envelope or list */
  CB_NODE_LIST_ERROR_TOO_LARGE,     /* over one of the bounds above */
  CB_NODE_LIST_ERROR_UNKNOWN_KEY,   /* signed by a key the cloud does not trust */
  CB_NODE_LIST_ERROR_BAD_SIGNATURE, /* a trusted publisher named, signature wrong */
  CB_NODE_LIST_ERROR_WRONG_CLOUD,   /* a valid list, for another cloud */
  CB_NODE_LIST_ERROR_EXPIRED,       /* now >= expires */
  CB_NODE_LIST_ERROR_ROLLBACK,      /* older than a version already seen */
} CbNodeListError;

typedef enum {
  CB_NODE_LIST_VERIFY_NONE          = 0,
  /* Publishers merge an expired list rather than lose its nodes. */
  CB_NODE_LIST_VERIFY_ALLOW_EXPIRED = 1 << 0,
} CbNodeListVerifyFlags;

typedef struct {
  char   *id_hex;     /* 64 lowercase hex: the node's ed25519 public key */
  GStrv   addrs;      /* ws:// or wss:// URLs with host and port, never NULL */
  GStrv   roles;      /* e.g. "publisher", "host:github.com/event-games", never NULL */
  guint   cpu;
  guint   mem_mb;
  gint64  since;      /* unix seconds */
  gint64  last_seen;  /* unix seconds */
} CbListNode;

typedef struct {
  char      *cloud;
  guint64    version;
  gint64     issued;         /* unix seconds; set by cb_node_list_sign() */
  gint64     expires;        /* unix seconds; set by cb_node_list_sign() */
  guint8     publisher[32];  /* set by cb_node_list_sign() */
  GPtrArray *nodes;          /* CbListNode*, kept sorted by id_hex, ids unique */
} CbNodeList;

GQuark       cb_node_list_error_quark      (void);

CbListNode  *cb_list_node_new              (const char         *id_hex,
                                            const char * const *addrs,
                                            const char * const *roles,
                                            guint               cpu,
                                            guint               mem_mb,
                                            gint64              since,
                                            gint64              last_seen);
CbListNode  *cb_list_node_copy             (const CbListNode   *node);
gboolean     cb_list_node_equal            (const CbListNode   *a,
                                            const CbListNode   *b);
void         cb_list_node_free             (CbListNode         *node);

CbNodeList  *cb_node_list_new              (const char         *cloud);
CbNodeList  *cb_node_list_copy             (const CbNodeList   *list);
void         cb_node_list_free             (CbNodeList         *list);
/* Same cloud, version, times, publisher and nodes. */
gboolean     cb_node_list_equal            (const CbNodeList   *a,
                                            const CbNodeList   *b);
const CbListNode *cb_node_list_lookup      (const CbNodeList   *list,
                                            const char         *id_hex);
/* Inserts a copy of @node, replacing the entry with the same id. */
void         cb_node_list_upsert           (CbNodeList         *list,
                                            const CbListNode   *node);
gboolean     cb_node_list_remove           (CbNodeList         *list,
                                            const char         *id_hex);

/* Checks @envelope and returns the list it carries.  The signature must be
 * by one of @trusted_keys; the list must be for @cloud, not older than
 * @min_version (an equal version is accepted: compare with
 * cb_node_list_equal() to tell "no change"), and not expired at @now
 * (unix seconds). */
CbNodeList  *cb_node_list_verify_and_parse (const guint8        *envelope,
                                            gsize                len,
                                            const char          *cloud,
                                            const guint8       (*trusted_keys)[32],
                                            gsize                n_keys,
                                            guint64              min_version,
                                            gint64               now,
                                            GError             **error);
CbNodeList  *cb_node_list_verify_and_parse_full (const guint8   *envelope,
                                            gsize                len,
                                            const char          *cloud,
                                            const guint8       (*trusted_keys)[32],
                                            gsize                n_keys,
                                            guint64              min_version,
                                            gint64               now,
                                            CbNodeListVerifyFlags flags,
                                            GError             **error);

/* Sets issued = @now, expires = @now + @ttl_seconds and the publisher key
 * from @publisher_secret (libsodium's 64-byte ed25519 secret key), then
 * returns the signed envelope.  Fails with TOO_LARGE or MALFORMED when a
 * reader would reject the result. */
GBytes      *cb_node_list_sign             (CbNodeList         *list,
                                            const guint8        publisher_secret[64],
                                            gint64              now,
                                            gint64              ttl_seconds,
                                            GError            **error);
/* The list document as the JSON text that gets signed. */
char        *cb_node_list_to_json          (const CbNodeList   *list);
/* Wraps any text as an envelope signed by @publisher_secret (for tools and
 * tests that need documents cb_node_list_sign() would refuse to make). */
GBytes      *cb_node_list_envelope_sign_text (const char       *list_json,
                                            const guint8        publisher_secret[64]);

/* Union of @a's and @b's nodes by id; where both have a node, the entry
 * with the later last_seen wins (@a's on a tie).  Nodes last seen before
 * @drop_before are left out.  version = max of both + 1; cloud is @a's;
 * issued, expires and publisher are left for cb_node_list_sign(). */
CbNodeList  *cb_node_list_merge            (const CbNodeList   *a,
                                            const CbNodeList   *b,
                                            gint64              drop_before);
/* Keeps the @n_keep nodes seen most recently. */
void         cb_node_list_keep_freshest    (CbNodeList         *list,
                                            guint               n_keep);

/* "2026-11-22T10:00:00Z"; the only time form lists use. */
char        *cb_node_list_format_time      (gint64              unix_seconds);
gboolean     cb_node_list_parse_time       (const char         *text,
                                            gint64             *unix_seconds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbListNode, cb_list_node_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbNodeList, cb_node_list_free)

G_END_DECLS
