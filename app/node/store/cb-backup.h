/* cb-backup.h: encrypted, tamper-evident snapshots of a system's logs
 *
 * A backup holds every log entry of one system as signed runs, exactly the
 * BATCH messages replication sends, encrypted under a key derived from a
 * passphrase.  Restoring hands the runs to the store, which verifies their
 * signatures, chains and schema like any replicated entry: a restored copy
 * is worth what a replicated one is, whoever kept the file.
 *
 *   file   := "CBBACKUP" | version:u8 (=1) | header_len:u32 (LE, 1..4096)
 *             | header | stream_header:24 | chunk+
 *   chunk  := len:u32 (LE, 17..CB_BACKUP_CHUNK + 17) | ciphertext
 *   header := JSON {"system", "writer" (hex id of the node that made it),
 *             "created" (unix s), "entries", "runs",
 *             "kdf": {"alg": "argon2id13", "ops", "mem", "salt" (hex, 16)}}
 *
 * The ciphertext is crypto_secretstream_xchacha20poly1305 under
 * crypto_pwhash (argon2id) of the passphrase; the header bytes are the
 * additional data of the first chunk and the last chunk carries the FINAL
 * tag, so an altered byte anywhere, a reordered, dropped or added chunk, a
 * cut-off file or a wrong passphrase all fail to open.  The plaintext is
 * records, len:u32 | BATCH message, cut into chunks of CB_BACKUP_CHUNK.
 * Opening checks the whole file before returning anything. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_BACKUP_ERROR (cb_backup_error_quark ())
GQuark cb_backup_error_quark (void);

typedef enum {
  CB_BACKUP_ERROR_MALFORMED,   /* not a backup, or its framing is broken */
  CB_BACKUP_ERROR_VERSION,     /* a backup format this build does not read */
  CB_BACKUP_ERROR_TAMPERED,    /* fails to decrypt: altered, cut, or another passphrase */
  CB_BACKUP_ERROR_TOO_LARGE,
  CB_BACKUP_ERROR_INVALID,     /* seal: bad arguments */
} CbBackupError;

#define CB_BACKUP_VERSION 1
#define CB_BACKUP_MAX_BYTES (256 * 1024 * 1024)
#define CB_BACKUP_CHUNK (1024 * 1024)
#define CB_BACKUP_MAX_HEADER 4096
/* The most a header may ask of the key derivation: a hostile file must
 * not make us spend minutes or gigabytes. */
#define CB_BACKUP_MAX_OPS 8
#define CB_BACKUP_MAX_MEM (256 * 1024 * 1024)

typedef struct {
  char    *system;
  char    *writer;      /* hex id */
  gint64   created;     /* unix s */
  guint64  entries;
  guint    runs;
  guint64  ops;         /* argon2id parameters */
  gsize    mem;
  guint8   salt[16];
} CbBackupInfo;

void       cb_backup_info_clear   (CbBackupInfo       *info);

/* Seals runs (GBytes BATCH messages) with info's system, writer, created
 * and entries; picks a fresh salt and the interactive KDF limits. */
GBytes    *cb_backup_seal         (const CbBackupInfo *info,
                                   GPtrArray          *runs,
                                   const char         *passphrase,
                                   GError            **error);
/* With a key already derived from info's KDF parameters and salt (info's
 * runs must be runs->len). */
GBytes    *cb_backup_seal_with_key (const CbBackupInfo *info,
                                    GPtrArray          *runs,
                                    const guint8        key[32],
                                    GError            **error);
/* The header, read and checked; nothing is decrypted. */
gboolean   cb_backup_read_header  (GBytes             *backup,
                                   CbBackupInfo       *info,
                                   GError            **error);
gboolean   cb_backup_derive_key   (const CbBackupInfo *info,
                                   const char         *passphrase,
                                   guint8              key[32],
                                   GError            **error);
/* Every run (GBytes BATCH messages) once the whole file opened. */
GPtrArray *cb_backup_open_with_key (GBytes            *backup,
                                    const guint8       key[32],
                                    CbBackupInfo      *info,
                                    GError           **error);
GPtrArray *cb_backup_open         (GBytes             *backup,
                                   const char         *passphrase,
                                   CbBackupInfo       *info,
                                   GError            **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CbBackupInfo, cb_backup_info_clear)

G_END_DECLS
