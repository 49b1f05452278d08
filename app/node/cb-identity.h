/* cb-identity.h: this machine's ed25519 identity in the data dir */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_NODE_ID_BYTES 32
#define CB_IDENTITY_SECRET_BYTES 64
#define CB_IDENTITY_FILE "identity.key"

#define CB_IDENTITY_ERROR (cb_identity_error_quark ())
GQuark cb_identity_error_quark (void);

typedef enum {
  CB_IDENTITY_ERROR_UNREADABLE,
  CB_IDENTITY_ERROR_INSECURE,
  CB_IDENTITY_ERROR_CORRUPT,
  CB_IDENTITY_ERROR_WRITE,
} CbIdentityError;

typedef struct {
  guint8 public_key[CB_NODE_ID_BYTES];
  guint8 secret_key[CB_IDENTITY_SECRET_BYTES];
  char id_hex[CB_NODE_ID_BYTES * 2 + 1];
} CbIdentity;

CbIdentity *cb_identity_load_or_create (const char  *data_dir,
                                        GError     **error);
CbIdentity *cb_identity_load           (const char  *path,
                                        GError     **error);
gboolean    cb_identity_write_new      (const char  *path,
                                        CbIdentity **out,
                                        GError     **error);
void        cb_identity_free           (CbIdentity  *identity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbIdentity, cb_identity_free)

G_END_DECLS
