/* cb-backup.c: the backup file format (cb-backup.h) */
#define G_LOG_DOMAIN "cb-backup"

#include "cb-backup.h"

#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "cb-hex.h"

G_DEFINE_QUARK (cb-backup-error-quark, cb_backup_error)

#define MAGIC "CBBACKUP"
#define MAGIC_LEN 8
#define KDF_ALG "argon2id13"
#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define STREAM_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES

G_STATIC_ASSERT (sizeof (((CbBackupInfo *) 0)->salt) == crypto_pwhash_SALTBYTES);

void
cb_backup_info_clear (CbBackupInfo *info)
{
  g_free (info->system);
  g_free (info->writer);
  memset (info, 0, sizeof *info);
}

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (out, b, 4);
}

static guint32
get_u32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

/* ---- header ---- */

static char *
header_json (const CbBackupInfo *info)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  char salt[33];

  cb_hex_encode_into (info->salt, sizeof info->salt, salt);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, info->system);
  json_builder_set_member_name (b, "writer");
  json_builder_add_string_value (b, info->writer);
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, info->created);
  json_builder_set_member_name (b, "entries");
  json_builder_add_int_value (b, (gint64) info->entries);
  json_builder_set_member_name (b, "runs");
  json_builder_add_int_value (b, info->runs);
  json_builder_set_member_name (b, "kdf");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "alg");
  json_builder_add_string_value (b, KDF_ALG);
  json_builder_set_member_name (b, "ops");
  json_builder_add_int_value (b, (gint64) info->ops);
  json_builder_set_member_name (b, "mem");
  json_builder_add_int_value (b, (gint64) info->mem);
  json_builder_set_member_name (b, "salt");
  json_builder_add_string_value (b, salt);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static gboolean fail (GError **error, gint code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, gint code, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, CB_BACKUP_ERROR, code, msg);
  return FALSE;
}

/* A non-negative integer member within max. */
static gboolean
get_uint (JsonObject *o, const char *name, guint64 max, guint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (o, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) < 0
      || (guint64) json_node_get_int (node) > max)
    return fail (error, CB_BACKUP_ERROR_MALFORMED,
                 "the backup's header has no valid \"%s\" (an integer up to %" G_GUINT64_FORMAT ")",
                 name, max);
  *out = (guint64) json_node_get_int (node);
  return TRUE;
}

static gboolean
get_string (JsonObject *o, const char *name, char **out, GError **error)
{
  JsonNode *node = json_object_get_member (o, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING
      || *json_node_get_string (node) == '\0')
    return fail (error, CB_BACKUP_ERROR_MALFORMED, "the backup's header has no \"%s\"", name);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
parse_header (const char *text, gsize len, CbBackupInfo *info, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *salt = NULL;
  g_autofree char *alg = NULL;
  JsonObject *o, *kdf;
  JsonNode *kdf_node;
  guint64 v;

  if (!g_utf8_validate (text, (gssize) len, NULL)
      || !json_parser_load_from_data (parser, text, (gssize) len, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return fail (error, CB_BACKUP_ERROR_MALFORMED, "the backup's header is not a JSON object");
  o = json_node_get_object (json_parser_get_root (parser));
  if (!get_string (o, "system", &info->system, error)
      || !get_string (o, "writer", &info->writer, error))
    return FALSE;
  if (!get_uint (o, "created", G_MAXINT64, &v, error))
    return FALSE;
  info->created = (gint64) v;
  if (!get_uint (o, "entries", G_MAXINT64, &info->entries, error)
      || !get_uint (o, "runs", G_MAXUINT32, &v, error))
    return FALSE;
  info->runs = (guint) v;
  kdf_node = json_object_get_member (o, "kdf");
  if (kdf_node == NULL || !JSON_NODE_HOLDS_OBJECT (kdf_node))
    return fail (error, CB_BACKUP_ERROR_MALFORMED, "the backup's header has no \"kdf\" object");
  kdf = json_node_get_object (kdf_node);
  if (!get_string (kdf, "alg", &alg, error))
    return FALSE;
  if (strcmp (alg, KDF_ALG) != 0)
    return fail (error, CB_BACKUP_ERROR_VERSION,
                 "the backup's key derivation is \"%s\"; this build knows only " KDF_ALG, alg);
  if (!get_uint (kdf, "ops", CB_BACKUP_MAX_OPS, &info->ops, error)
      || !get_uint (kdf, "mem", CB_BACKUP_MAX_MEM, &v, error)
      || !get_string (kdf, "salt", &salt, error))
    return FALSE;
  info->mem = (gsize) v;
  if (info->ops < crypto_pwhash_OPSLIMIT_MIN || info->mem < crypto_pwhash_MEMLIMIT_MIN)
    return fail (error, CB_BACKUP_ERROR_MALFORMED,
                 "the backup's key derivation parameters are below argon2id's minimum");
  if (!cb_hex_decode (salt, info->salt, sizeof info->salt))
    return fail (error, CB_BACKUP_ERROR_MALFORMED, "the backup's salt is not 32 hex digits");
  return TRUE;
}

/* ---- sealing ---- */

GBytes *
cb_backup_seal_with_key (const CbBackupInfo  *info,
                         GPtrArray           *runs,
                         const guint8         key[32],
                         GError             **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  /* Sized, so its data is never NULL, even for an empty backup. */
  g_autoptr(GByteArray) plain = g_byte_array_sized_new (64);
  g_autofree char *header = NULL;
  crypto_secretstream_xchacha20poly1305_state st;
  guint8 stream_header[STREAM_HEADER];
  gsize off = 0;
  gboolean first = TRUE;
  guint8 version = CB_BACKUP_VERSION;

  if (info->system == NULL || info->writer == NULL || info->runs != runs->len)
    {
      fail (error, CB_BACKUP_ERROR_INVALID, "a backup needs a system, a writer and its runs");
      return NULL;
    }
  for (guint i = 0; i < runs->len; i++)
    {
      GBytes *run = runs->pdata[i];

      put_u32 (plain, (guint32) g_bytes_get_size (run));
      g_byte_array_append (plain, g_bytes_get_data (run, NULL), g_bytes_get_size (run));
      if (plain->len > CB_BACKUP_MAX_BYTES)
        {
          fail (error, CB_BACKUP_ERROR_TOO_LARGE, "the system's logs are larger than %d bytes, "
                "the most one backup holds", CB_BACKUP_MAX_BYTES);
          return NULL;
        }
    }

  header = header_json (info);
  g_byte_array_append (out, (const guint8 *) MAGIC, MAGIC_LEN);
  g_byte_array_append (out, &version, 1);
  put_u32 (out, (guint32) strlen (header));
  g_byte_array_append (out, (const guint8 *) header, (guint) strlen (header));
  crypto_secretstream_xchacha20poly1305_init_push (&st, stream_header, key);
  g_byte_array_append (out, stream_header, sizeof stream_header);
  /* At least one chunk, so even an empty backup ends in a FINAL tag. */
  do
    {
      gsize n = MIN (plain->len - off, CB_BACKUP_CHUNK);
      gboolean last = off + n == plain->len;
      guint len = (guint) n + ABYTES;
      guint at;

      put_u32 (out, len);
      at = out->len;
      g_byte_array_set_size (out, out->len + len);
      crypto_secretstream_xchacha20poly1305_push (
        &st, out->data + at, NULL, plain->data + off, n,
        first ? (const guint8 *) header : NULL, first ? strlen (header) : 0,
        last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
      off += n;
      first = FALSE;
    }
  while (off < plain->len);
  sodium_memzero (plain->data, plain->len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
cb_backup_seal (const CbBackupInfo  *in,
                GPtrArray           *runs,
                const char          *passphrase,
                GError             **error)
{
  g_auto(CbBackupInfo) info = { 0 };
  guint8 key[32];
  GBytes *sealed;

  if (in->system == NULL || in->writer == NULL || passphrase == NULL || *passphrase == '\0')
    {
      fail (error, CB_BACKUP_ERROR_INVALID, "a backup needs a system, a writer and a passphrase");
      return NULL;
    }
  info.system = g_strdup (in->system);
  info.writer = g_strdup (in->writer);
  info.created = in->created;
  info.entries = in->entries;
  info.runs = runs->len;
  info.ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  info.mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  randombytes_buf (info.salt, sizeof info.salt);
  if (!cb_backup_derive_key (&info, passphrase, key, error))
    return NULL;
  sealed = cb_backup_seal_with_key (&info, runs, key, error);
  sodium_memzero (key, sizeof key);
  return sealed;
}

/* ---- opening ---- */

static gboolean
framing (GBytes *backup, gsize *header_len, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (backup, &len);

  if (len > CB_BACKUP_MAX_BYTES + 64 * 1024)
    return fail (error, CB_BACKUP_ERROR_TOO_LARGE, "the file is %" G_GSIZE_FORMAT " bytes, "
                 "more than a backup may be", len);
  if (len < MAGIC_LEN + 5 || memcmp (p, MAGIC, MAGIC_LEN) != 0)
    return fail (error, CB_BACKUP_ERROR_MALFORMED, "this is not a Cloud Bevy backup (it does "
                 "not start with \"" MAGIC "\")");
  if (p[MAGIC_LEN] != CB_BACKUP_VERSION)
    return fail (error, CB_BACKUP_ERROR_VERSION, "the backup is in format %u; this build reads "
                 "format %u", p[MAGIC_LEN], CB_BACKUP_VERSION);
  *header_len = get_u32 (p + MAGIC_LEN + 1);
  if (*header_len == 0 || *header_len > CB_BACKUP_MAX_HEADER
      || len < MAGIC_LEN + 5 + *header_len + STREAM_HEADER)
    return fail (error, CB_BACKUP_ERROR_MALFORMED, "the backup's header length does not fit "
                 "the file");
  return TRUE;
}

gboolean
cb_backup_read_header (GBytes        *backup,
                       CbBackupInfo  *info,
                       GError       **error)
{
  gsize header_len;

  memset (info, 0, sizeof *info);
  if (!framing (backup, &header_len, error))
    return FALSE;
  if (!parse_header ((const char *) g_bytes_get_data (backup, NULL) + MAGIC_LEN + 5, header_len,
                     info, error))
    {
      cb_backup_info_clear (info);
      return FALSE;
    }
  return TRUE;
}

gboolean
cb_backup_derive_key (const CbBackupInfo  *info,
                      const char          *passphrase,
                      guint8               key[32],
                      GError             **error)
{
  if (crypto_pwhash (key, 32, passphrase, strlen (passphrase), info->salt, info->ops, info->mem,
                     crypto_pwhash_ALG_ARGON2ID13) != 0)
    return fail (error, CB_BACKUP_ERROR_INVALID, "cannot derive the backup key (out of memory "
                 "for %" G_GSIZE_FORMAT " bytes?)", info->mem);
  return TRUE;
}

GPtrArray *
cb_backup_open_with_key (GBytes        *backup,
                         const guint8   key[32],
                         CbBackupInfo  *info,
                         GError       **error)
{
  /* Sized, so its data is never NULL, even when a chunk is empty. */
  g_autoptr(GByteArray) plain = g_byte_array_sized_new (64);
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  crypto_secretstream_xchacha20poly1305_state st;
  gsize len, header_len, off;
  const guint8 *p = g_bytes_get_data (backup, &len);
  const guint8 *header;
  gboolean final = FALSE;
  guint chunk = 0;

  if (!cb_backup_read_header (backup, info, error))
    return NULL;
  framing (backup, &header_len, NULL);
  header = p + MAGIC_LEN + 5;
  off = MAGIC_LEN + 5 + header_len;
  if (crypto_secretstream_xchacha20poly1305_init_pull (&st, p + off, key) != 0)
    goto tampered;
  off += STREAM_HEADER;
  while (off < len)
    {
      guint32 n;
      guint at;
      unsigned long long got = 0;
      guint8 tag = 0;

      if (final)
        {
          cb_backup_info_clear (info);
          fail (error, CB_BACKUP_ERROR_TAMPERED, "the backup has data after its end: it was "
                "altered");
          return NULL;
        }
      if (len - off < 4 || (n = get_u32 (p + off)) < ABYTES || n > CB_BACKUP_CHUNK + ABYTES
          || len - off - 4 < n)
        goto tampered;
      off += 4;
      at = plain->len;
      g_byte_array_set_size (plain, plain->len + n - ABYTES);
      if (crypto_secretstream_xchacha20poly1305_pull (&st, plain->data + at, &got, &tag,
                                                      p + off, n,
                                                      chunk == 0 ? header : NULL,
                                                      chunk == 0 ? header_len : 0) != 0)
        goto tampered;
      final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
      off += n;
      chunk++;
    }
  if (!final)
    {
      cb_backup_info_clear (info);
      fail (error, CB_BACKUP_ERROR_TAMPERED, "the backup ends before its last part: it was cut "
            "short (an interrupted upload?) or altered");
      return NULL;
    }
  /* The records inside are ours, authenticated; still read them carefully. */
  for (gsize r = 0; r < plain->len;)
    {
      guint32 n;

      if (plain->len - r < 4 || (n = get_u32 (plain->data + r)) == 0 || plain->len - r - 4 < n)
        {
          cb_backup_info_clear (info);
          fail (error, CB_BACKUP_ERROR_MALFORMED, "the backup's contents are not framed runs "
                "of entries");
          return NULL;
        }
      g_ptr_array_add (runs, g_bytes_new (plain->data + r + 4, n));
      r += 4 + n;
    }
  if (runs->len != info->runs)
    {
      cb_backup_info_clear (info);
      fail (error, CB_BACKUP_ERROR_MALFORMED, "the backup's header says %u runs but it holds %u",
            info->runs, runs->len);
      return NULL;
    }
  sodium_memzero (plain->data, plain->len);
  return g_steal_pointer (&runs);

tampered:
  cb_backup_info_clear (info);
  fail (error, CB_BACKUP_ERROR_TAMPERED, "the backup does not decrypt (part %u): either the "
        "passphrase is not the one it was made with, or the file was altered", chunk + 1);
  return NULL;
}

GPtrArray *
cb_backup_open (GBytes        *backup,
                const char    *passphrase,
                CbBackupInfo  *info,
                GError       **error)
{
  g_auto(CbBackupInfo) header = { 0 };
  guint8 key[32];
  GPtrArray *runs;

  if (!cb_backup_read_header (backup, &header, error)
      || !cb_backup_derive_key (&header, passphrase, key, error))
    return NULL;
  runs = cb_backup_open_with_key (backup, key, info, error);
  sodium_memzero (key, sizeof key);
  return runs;
}
