/* cb-identity.c: load, create and guard the node's identity key
 *
 * The key is the node's name in the cloud: losing or silently replacing it
 * would turn the machine into a stranger.  So a key file that exists but
 * cannot be used stops the node with an error that says what to do, and
 * only a missing file leads to a new identity. */
#define G_LOG_DOMAIN "cb-identity"

#include "cb-identity.h"
#include "cb-hex.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER "cloud-bevy-identity-1\n"

G_DEFINE_QUARK (cb-identity-error-quark, cb_identity_error)

void
cb_identity_free (CbIdentity *identity)
{
  if (identity == NULL)
    return;
  sodium_memzero (identity, sizeof *identity);
  g_free (identity);
}

static CbIdentity *
identity_from_secret (const guint8 secret[CB_IDENTITY_SECRET_BYTES])
{
  CbIdentity *identity = g_new0 (CbIdentity, 1);

  memcpy (identity->secret_key, secret, CB_IDENTITY_SECRET_BYTES);
  crypto_sign_ed25519_sk_to_pk (identity->public_key, identity->secret_key);
  cb_hex_encode_into (identity->public_key, CB_NODE_ID_BYTES, identity->id_hex);
  return identity;
}

CbIdentity *
cb_identity_load (const char  *path,
                  GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 secret[CB_IDENTITY_SECRET_BYTES];
  guint8 seed_pk[CB_NODE_ID_BYTES], seed_sk[CB_IDENTITY_SECRET_BYTES];
  const char *hex;
  gsize len;
  GStatBuf st;
  CbIdentity *identity;

  if (sodium_init () < 0)
    g_error ("libsodium cannot initialise");
  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_UNREADABLE,
                   "cannot read identity key %s: %s", path, g_strerror (errno));
      return NULL;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_set_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_INSECURE,
                   "identity key %s can be read by other users (mode %04o); "
                   "run 'chmod 600 %s' and consider the key exposed",
                   path, (unsigned) (st.st_mode & 07777), path);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &len, &local_error))
    {
      g_set_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_UNREADABLE,
                   "cannot read identity key %s: %s", path, local_error->message);
      return NULL;
    }

  hex = contents + strlen (HEADER);
  if (len != strlen (HEADER) + 2 * CB_IDENTITY_SECRET_BYTES + 1 ||
      strncmp (contents, HEADER, strlen (HEADER)) != 0 ||
      contents[len - 1] != '\n')
    goto corrupt;
  contents[len - 1] = '\0';
  if (!cb_hex_decode (hex, secret, sizeof secret))
    goto corrupt;

  /* The secret key holds the seed and the public key: they must agree. */
  crypto_sign_seed_keypair (seed_pk, seed_sk, secret);
  if (sodium_memcmp (seed_pk, secret + 32, CB_NODE_ID_BYTES) != 0)
    goto corrupt;

  identity = identity_from_secret (secret);
  sodium_memzero (secret, sizeof secret);
  sodium_memzero (seed_sk, sizeof seed_sk);
  sodium_memzero (contents, len);
  return identity;

corrupt:
  sodium_memzero (contents, len);
  g_set_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_CORRUPT,
               "identity key %s is corrupt and was left untouched; restore it from a "
               "backup, or move it away to start this machine with a new identity",
               path);
  return NULL;
}

/* Creates the key file with O_EXCL, so two processes cannot both create
 * (and one of them overwrite) an identity. */
gboolean
cb_identity_write_new (const char  *path,
                       CbIdentity **out,
                       GError     **error)
{
  guint8 pk[CB_NODE_ID_BYTES], sk[CB_IDENTITY_SECRET_BYTES];
  char hex[2 * CB_IDENTITY_SECRET_BYTES + 1];
  g_autofree char *contents = NULL;
  gsize len;
  int fd;

  if (sodium_init () < 0)
    g_error ("libsodium cannot initialise");
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      g_set_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_WRITE,
                   "cannot create identity key %s: %s", path, g_strerror (errno));
      return FALSE;
    }
  crypto_sign_keypair (pk, sk);
  cb_hex_encode_into (sk, sizeof sk, hex);
  contents = g_strconcat (HEADER, hex, "\n", NULL);
  len = strlen (contents);
  sodium_memzero (hex, sizeof hex);

  if (write (fd, contents, len) != (ssize_t) len || fsync (fd) != 0)
    {
      int saved = errno;
      close (fd);
      g_unlink (path);
      sodium_memzero (contents, len);
      g_set_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_WRITE,
                   "cannot write identity key %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  sodium_memzero (contents, len);
  if (out)
    *out = identity_from_secret (sk);
  sodium_memzero (sk, sizeof sk);
  return TRUE;
}

CbIdentity *
cb_identity_load_or_create (const char  *data_dir,
                            GError     **error)
{
  g_autofree char *path = g_build_filename (data_dir, CB_IDENTITY_FILE, NULL);
  CbIdentity *identity = NULL;

  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      g_set_error (error, CB_IDENTITY_ERROR, CB_IDENTITY_ERROR_WRITE,
                   "cannot create data directory %s: %s", data_dir, g_strerror (errno));
      return NULL;
    }
  /* lstat, not access(): a dangling symlink is not "missing". */
  if (g_file_test (path, G_FILE_TEST_EXISTS) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    return cb_identity_load (path, error);
  if (!cb_identity_write_new (path, &identity, error))
    return NULL;
  g_info ("created new identity %s in %s", identity->id_hex, path);
  return identity;
}
