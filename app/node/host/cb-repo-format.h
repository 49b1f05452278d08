/* cb-repo-format.h: a repository's signed metadata (TUF-lite)
 *
 * A repository is a directory (on a web server or on disk) of:
 *
 *   root.json         the current root: the publisher's keys and how many
 *                     of them must sign (the threshold)
 *   N.root.json       every root version; version N+1 is signed by a
 *                     threshold of version N's keys and of its own
 *   index.json        the signed index: a monotonic version, an expiry, the
 *                     root version it was made under, and per package its
 *                     system, version, arch, ABI, size, SHA-256 and file
 *   *.so              the packages' files
 *
 * Each metadata file is an envelope holding the signed document as text,
 * so signatures are over exact bytes:
 *
 *   {"format": "cloud-bevy-repo-1", "type": "root" | "index",
 *    "signed": "<the document, a JSON text>",
 *    "signatures": [{"key": "<64 hex>", "sig": "<128 hex>"}, ...]}
 *
 * A signature is ed25519 over "cloud-bevy-repo-1/TYPE\n" followed by the
 * signed text, so a root signature never passes for an index's.  Readers
 * check the envelope, then the signatures, and only then parse the
 * document.  Nothing here reads a clock: "now" comes in (unix seconds). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CB_REPO_FORMAT "cloud-bevy-repo-1"
#define CB_REPO_MAX_ROOT (64 * 1024)
#define CB_REPO_MAX_INDEX (8 * 1024 * 1024)
#define CB_REPO_MAX_KEYS 16
#define CB_REPO_MAX_SIGNATURES 32
#define CB_REPO_MAX_PACKAGES 10000
/* The largest package file an index may list. */
#define CB_REPO_MAX_PACKAGE_SIZE (G_GUINT64_CONSTANT (512) * 1024 * 1024)
#define CB_REPO_MAX_VERSION G_GINT64_CONSTANT (999999999999999999)
#define CB_REPO_MAX_TITLE 80
#define CB_REPO_MAX_DESCRIPTION 1000
#define CB_REPO_MAX_URL 1024

#define CB_REPO_ERROR (cb_repo_error_quark ())
GQuark cb_repo_error_quark (void);

typedef enum {
  CB_REPO_ERROR_MALFORMED,      /* not a well-formed envelope or document */
  CB_REPO_ERROR_TOO_LARGE,      /* over a bound, or a server that sends more than promised */
  CB_REPO_ERROR_UNKNOWN_KEY,    /* signed by keys the root does not list */
  CB_REPO_ERROR_REVOKED_KEY,    /* signed by keys an earlier root listed and this one dropped */
  CB_REPO_ERROR_BAD_SIGNATURE,  /* a listed key, a signature that does not verify */
  CB_REPO_ERROR_THRESHOLD,      /* fewer valid signatures than the root requires */
  CB_REPO_ERROR_EXPIRED,        /* the root or index is past its expiry (a freeze) */
  CB_REPO_ERROR_ROLLBACK,       /* older than what was seen before */
  CB_REPO_ERROR_MIX_AND_MATCH,  /* metadata that never existed together */
  CB_REPO_ERROR_KEY_CHANGED,    /* the publisher's keys changed without a signed rotation */
  CB_REPO_ERROR_HASH_MISMATCH,  /* a file that is not the one the index lists */
  CB_REPO_ERROR_NOT_FOUND,      /* no such file, package or repository */
  CB_REPO_ERROR_TIMED_OUT,      /* a download that took longer than its deadline */
  CB_REPO_ERROR_UNSUPPORTED,    /* another architecture or ABI, an unusable URL */
  CB_REPO_ERROR_FAILED,         /* a network or disk failure */
} CbRepoError;

typedef struct {
  guint8 key[32];
  guint8 sig[64];
} CbRepoSignature;

typedef struct {
  char   *type;         /* "root" or "index" */
  char   *signed_text;
  GArray *signatures;   /* CbRepoSignature */
} CbRepoEnvelope;

typedef struct {
  char    *name;        /* the repository's name, for people */
  guint64  version;
  gint64   expires;
  guint    threshold;
  GArray  *keys;        /* guint8[32] as 32-byte elements, distinct */
} CbRepoRoot;

typedef struct {
  char     *url;        /* a file name in the repository, or an https:// URL */
  guint8    sha256[32];
  guint64   size;
} CbRepoFile;

typedef struct {
  char       *system;
  char       *version;
  char       *arch;
  char       *abi;
  char       *title;
  char       *description;
  CbRepoFile  core;
  gboolean    has_ui;
  CbRepoFile  ui;       /* the optional native UI module */
} CbRepoPackage;

typedef struct {
  guint64    version;
  gint64     expires;
  guint64    root_version;
  GPtrArray *packages;  /* CbRepoPackage*, at most one per system and arch */
} CbRepoIndex;

/* ---- envelopes ---- */

CbRepoEnvelope *cb_repo_envelope_parse  (const guint8      *data,
                                         gsize              len,
                                         gsize              max_len,
                                         GError           **error);
void            cb_repo_envelope_free   (CbRepoEnvelope    *envelope);
/* Signs text as a document of type with each secret (libsodium's 64-byte
 * ed25519 secret keys). */
GBytes         *cb_repo_envelope_sign   (const char        *type,
                                         const char        *signed_text,
                                         const guint8     (*secrets)[64],
                                         guint              n_secrets);

/* ---- documents ---- */

CbRepoRoot     *cb_repo_root_new        (const char        *name);
CbRepoRoot     *cb_repo_root_parse      (const char        *text,
                                         GError           **error);
char           *cb_repo_root_to_json    (const CbRepoRoot  *root);
CbRepoRoot     *cb_repo_root_copy       (const CbRepoRoot  *root);
void            cb_repo_root_free       (CbRepoRoot        *root);
gboolean        cb_repo_root_has_key    (const CbRepoRoot  *root,
                                         const guint8       key[32]);
/* What people compare: 32 hex digits in groups of four, from SHA-256 over
 * the threshold and the sorted keys. */
char           *cb_repo_root_fingerprint (const CbRepoRoot *root);

CbRepoIndex    *cb_repo_index_new       (void);
CbRepoIndex    *cb_repo_index_parse     (const char        *text,
                                         GError           **error);
char           *cb_repo_index_to_json   (const CbRepoIndex *index);
void            cb_repo_index_free      (CbRepoIndex       *index);
const CbRepoPackage *cb_repo_index_lookup (const CbRepoIndex *index,
                                           const char        *system,
                                           const char        *arch);
CbRepoPackage  *cb_repo_package_copy    (const CbRepoPackage *package);
void            cb_repo_package_free    (CbRepoPackage     *package);

/* A key's short id in messages: its first 8 bytes in hex. */
char           *cb_repo_key_id          (const guint8       key[32]);

/* ---- verification ---- */

/* The root in data, signed by a threshold of its own keys and, when
 * trusted is given, also by a threshold of trusted's keys with version
 * trusted->version + 1 (a rotation).  An expired root is refused when
 * check_expiry (the last root of a chain must be current). */
CbRepoRoot     *cb_repo_verify_root     (const guint8      *data,
                                         gsize              len,
                                         const CbRepoRoot  *trusted,
                                         gint64             now,
                                         gboolean           check_expiry,
                                         GError           **error);
/* The index in data, signed by a threshold of root's keys, made under
 * root (root_version), not older than min_version and not expired.
 * earlier_roots (CbRepoRoot*, may be NULL) name keys that were revoked. */
CbRepoIndex    *cb_repo_verify_index    (const guint8      *data,
                                         gsize              len,
                                         const CbRepoRoot  *root,
                                         GPtrArray         *earlier_roots,
                                         guint64            min_version,
                                         gint64             now,
                                         GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbRepoEnvelope, cb_repo_envelope_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbRepoRoot, cb_repo_root_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbRepoIndex, cb_repo_index_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbRepoPackage, cb_repo_package_free)

G_END_DECLS
