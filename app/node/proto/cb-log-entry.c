/* cb-log-entry.c: log entry codec, hashes and batch signatures (see
 * cb-log-entry.h for the formats).
 *
 * Decoding first parses into a view that points into the input, so batch
 * verification checks a run of entries without allocating anything unless
 * the caller wants the decoded entries. */
#define G_LOG_DOMAIN "cb-log-entry"

#include "cb-log-entry.h"

#include <sodium.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (cb-log-error-quark, cb_log_error)

/* Domain separation: an entry hash or batch signature can never be taken
 * for any other hash or signature the node makes. */
static const char HASH_KEY[] = "cloud-bevy-log-entry-1";
static const char BATCH_TAG[] = "cloud-bevy-log-batch-1";
#define HASH_KEY_LEN (sizeof HASH_KEY - 1)
#define BATCH_TAG_LEN (sizeof BATCH_TAG - 1)
#define BATCH_MSG_MAX (BATCH_TAG_LEN + 1 + CB_LOG_MAX_SYSTEM + 32 + 8 + CB_LOG_HASH_BYTES)

G_STATIC_ASSERT (HASH_KEY_LEN >= crypto_generichash_KEYBYTES_MIN);
G_STATIC_ASSERT (CB_LOG_HASH_BYTES == crypto_generichash_BYTES);
G_STATIC_ASSERT (CB_LOG_SIG_BYTES == crypto_sign_BYTES);

static const guint8 zero_hash[CB_LOG_HASH_BYTES];

/* sodium_init() picks the fast BLAKE2b and ed25519 code; without it the
 * reference versions run.  Once per process, then an atomic read. */
static void
ensure_sodium (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      if (sodium_init () < 0)
        g_error ("libsodium cannot initialise");
      g_once_init_leave (&done, 1);
    }
}

static inline guint64
get_u64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

static inline guint32
get_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static inline guint8 *
put_u64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, 8);
  return p + 8;
}

static inline guint8 *
put_u32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
  return p + 4;
}

static gboolean
system_bytes_valid (const guint8 *p, gsize n)
{
  if (n == 0 || n > CB_LOG_MAX_SYSTEM)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (p[i] < 0x21 || p[i] > 0x7e)
      return FALSE;
  return TRUE;
}

gboolean
cb_log_system_name_valid (const char *system)
{
  return system != NULL && system_bytes_valid ((const guint8 *) system, strlen (system));
}

/* Short writer id for messages, as the store prints it. */
static void
writer_hex (const guint8 writer[32], char out[17])
{
  sodium_bin2hex (out, 17, writer, 8);
}

/* ---- decoding ---- */

typedef struct {
  const guint8 *system;
  guint8        system_len;
  const guint8 *writer;
  guint64       seq;
  const guint8 *prev;
  guint64       hlc;
  gsize         payload_offset;
  guint32       payload_len;
} EntryView;

static gboolean fail (GError **error, gint code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, gint code, const char *fmt, ...)
{
  va_list ap;

  if (error == NULL)
    return FALSE;
  va_start (ap, fmt);
  *error = g_error_new_valist (CB_LOG_ERROR, code, fmt, ap);
  va_end (ap);
  return FALSE;
}

static gboolean
parse_view (const guint8 *data,
            gsize         len,
            EntryView    *v,
            GError      **error)
{
  const guint8 *p = data;
  gsize left = len;
  gsize n;

  if (len == 0)
    return fail (error, CB_LOG_ERROR_MALFORMED, "log entry is empty");
  if (len > CB_LOG_ENTRY_MAX_BYTES)
    return fail (error, CB_LOG_ERROR_TOO_LARGE,
                 "log entry is %" G_GSIZE_FORMAT " bytes; at most %u are allowed",
                 len, (guint) CB_LOG_ENTRY_MAX_BYTES);
  if (data[0] != CB_LOG_ENTRY_VERSION)
    return fail (error, CB_LOG_ERROR_VERSION,
                 "log entry is in format version %u but this build reads only version %u; "
                 "the writer may run a newer release", data[0], CB_LOG_ENTRY_VERSION);
  if (len < 2)
    return fail (error, CB_LOG_ERROR_MALFORMED, "log entry ends inside the system name length");
  n = data[1];
  p += 2;
  left -= 2;
  if (left < n)
    return fail (error, CB_LOG_ERROR_MALFORMED, "log entry ends inside the system name");
  if (!system_bytes_valid (p, n))
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "log entry has an invalid system name: it must be 1..%u printable ASCII "
                 "bytes without spaces", CB_LOG_MAX_SYSTEM);
  v->system = p;
  v->system_len = (guint8) n;
  p += n;
  left -= n;
  /* writer, seq, prev, hlc, payload_len */
  if (left < 32 + 8 + 32 + 8 + 4)
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "log entry ends inside its header (%" G_GSIZE_FORMAT " bytes after the "
                 "system name, at least 84 needed)", left);
  v->writer = p;
  v->seq = get_u64 (p + 32);
  v->prev = p + 40;
  v->hlc = get_u64 (p + 72);
  v->payload_len = get_u32 (p + 80);
  p += 84;
  left -= 84;
  if (v->seq == 0)
    return fail (error, CB_LOG_ERROR_MALFORMED, "log entry has seq 0; logs start at 1");
  if (v->seq > CB_LOG_MAX_SEQ)
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "log entry has seq %" G_GUINT64_FORMAT ", past the largest (2^63-1)", v->seq);
  if (v->seq == 1 && memcmp (v->prev, zero_hash, CB_LOG_HASH_BYTES) != 0)
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "log entry 1 names a previous entry; the first entry's prev must be zeros");
  if (v->seq > 1 && memcmp (v->prev, zero_hash, CB_LOG_HASH_BYTES) == 0)
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "log entry %" G_GUINT64_FORMAT " has an all-zero prev hash; only entry 1 "
                 "has no previous entry", v->seq);
  if (v->hlc > (guint64) G_MAXINT64)
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "log entry %" G_GUINT64_FORMAT " has clock stamp %" G_GUINT64_FORMAT
                 ", past the largest (2^63-1)", v->seq, v->hlc);
  if (v->payload_len > CB_LOG_MAX_PAYLOAD)
    return fail (error, CB_LOG_ERROR_TOO_LARGE,
                 "log entry %" G_GUINT64_FORMAT " has a %u-byte payload; at most %u are allowed",
                 v->seq, v->payload_len, (guint) CB_LOG_MAX_PAYLOAD);
  if (left < v->payload_len)
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "log entry %" G_GUINT64_FORMAT " ends inside its payload (%" G_GSIZE_FORMAT
                 " of %u bytes present)", v->seq, left, v->payload_len);
  if (left > v->payload_len)
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "log entry %" G_GUINT64_FORMAT " has %" G_GSIZE_FORMAT " trailing byte(s) "
                 "after its payload", v->seq, left - v->payload_len);
  v->payload_offset = (gsize) (p - data);
  return TRUE;
}

/* payload_source: the GBytes data came from, to slice; NULL to copy. */
static CbLogEntry *
entry_from_view (const EntryView *v,
                 const guint8    *data,
                 GBytes          *payload_source)
{
  CbLogEntry *entry = g_new (CbLogEntry, 1);

  entry->system = g_strndup ((const char *) v->system, v->system_len);
  memcpy (entry->writer, v->writer, 32);
  entry->seq = v->seq;
  memcpy (entry->prev, v->prev, CB_LOG_HASH_BYTES);
  entry->hlc = v->hlc;
  if (payload_source != NULL)
    entry->payload = g_bytes_new_from_bytes (payload_source, v->payload_offset, v->payload_len);
  else
    entry->payload = g_bytes_new (data + v->payload_offset, v->payload_len);
  return entry;
}

CbLogEntry *
cb_log_entry_decode (const guint8  *data,
                     gsize          len,
                     GError       **error)
{
  EntryView v;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  if (!parse_view (data, len, &v, error))
    return NULL;
  return entry_from_view (&v, data, NULL);
}

CbLogEntry *
cb_log_entry_decode_bytes (GBytes  *encoded,
                           GError **error)
{
  EntryView v;
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (encoded != NULL, NULL);
  data = g_bytes_get_data (encoded, &len);
  if (!parse_view (data, len, &v, error))
    return NULL;
  return entry_from_view (&v, data, encoded);
}

void
cb_log_entry_free (CbLogEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->system);
  g_clear_pointer (&entry->payload, g_bytes_unref);
  g_free (entry);
}

void
cb_log_entry_array_free (CbLogEntry **entries)
{
  if (entries == NULL)
    return;
  for (guint i = 0; entries[i] != NULL; i++)
    cb_log_entry_free (entries[i]);
  g_free (entries);
}

/* ---- encoding ---- */

gsize
cb_log_entry_encoded_size (const CbLogEntry *entry)
{
  g_return_val_if_fail (entry != NULL && entry->system != NULL, 0);
  return CB_LOG_ENTRY_FIXED_BYTES + strlen (entry->system) +
         (entry->payload != NULL ? g_bytes_get_size (entry->payload) : 0);
}

GBytes *
cb_log_entry_encode (const CbLogEntry *entry)
{
  gsize system_len, payload_len = 0, total;
  const guint8 *payload = NULL;
  guint8 *buf, *p;

  g_return_val_if_fail (entry != NULL, NULL);
  g_return_val_if_fail (cb_log_system_name_valid (entry->system), NULL);
  g_return_val_if_fail (entry->seq >= 1 && entry->seq <= CB_LOG_MAX_SEQ, NULL);
  g_return_val_if_fail ((entry->seq == 1) ==
                        (memcmp (entry->prev, zero_hash, CB_LOG_HASH_BYTES) == 0), NULL);
  g_return_val_if_fail (entry->hlc <= (guint64) G_MAXINT64, NULL);
  if (entry->payload != NULL)
    payload = g_bytes_get_data (entry->payload, &payload_len);
  g_return_val_if_fail (payload_len <= CB_LOG_MAX_PAYLOAD, NULL);

  system_len = strlen (entry->system);
  total = CB_LOG_ENTRY_FIXED_BYTES + system_len + payload_len;
  /* One allocation of the exact size; the payload is copied once. */
  p = buf = g_malloc (total);
  *p++ = CB_LOG_ENTRY_VERSION;
  *p++ = (guint8) system_len;
  memcpy (p, entry->system, system_len);
  p += system_len;
  memcpy (p, entry->writer, 32);
  p = put_u64 (p + 32, entry->seq);
  memcpy (p, entry->prev, CB_LOG_HASH_BYTES);
  p = put_u64 (p + CB_LOG_HASH_BYTES, entry->hlc);
  p = put_u32 (p, (guint32) payload_len);
  if (payload_len > 0)
    memcpy (p, payload, payload_len);
  return g_bytes_new_take (buf, total);
}

/* ---- hashes and signatures ---- */

void
cb_log_entry_hash (const guint8 *encoded,
                   gsize         len,
                   guint8        out[CB_LOG_HASH_BYTES])
{
  ensure_sodium ();
  crypto_generichash (out, CB_LOG_HASH_BYTES, encoded, len,
                      (const guint8 *) HASH_KEY, HASH_KEY_LEN);
}

/* The signed message; returns its length. */
static gsize
batch_message (guint8        out[BATCH_MSG_MAX],
               const char   *system,
               gsize         system_len,
               const guint8  writer[32],
               guint64       last_seq,
               const guint8  last_hash[CB_LOG_HASH_BYTES])
{
  guint8 *p = out;

  memcpy (p, BATCH_TAG, BATCH_TAG_LEN);
  p += BATCH_TAG_LEN;
  *p++ = (guint8) system_len;
  memcpy (p, system, system_len);
  p += system_len;
  memcpy (p, writer, 32);
  p = put_u64 (p + 32, last_seq);
  memcpy (p, last_hash, CB_LOG_HASH_BYTES);
  p += CB_LOG_HASH_BYTES;
  return (gsize) (p - out);
}

void
cb_log_batch_sign (const char   *system,
                   const guint8  writer_secret[64],
                   guint64       last_seq,
                   const guint8  last_hash[CB_LOG_HASH_BYTES],
                   guint8        sig_out[CB_LOG_SIG_BYTES])
{
  guint8 msg[BATCH_MSG_MAX];
  gsize len;

  memset (sig_out, 0, CB_LOG_SIG_BYTES);
  g_return_if_fail (cb_log_system_name_valid (system));
  ensure_sodium ();
  /* An ed25519 secret key holds the public key in its second half. */
  len = batch_message (msg, system, strlen (system), writer_secret + 32, last_seq, last_hash);
  crypto_sign_detached (sig_out, NULL, msg, len, writer_secret);
}

gboolean
cb_log_batch_verify (const char   *system,
                     const guint8  writer[32],
                     guint64       last_seq,
                     const guint8  last_hash[CB_LOG_HASH_BYTES],
                     const guint8  sig[CB_LOG_SIG_BYTES])
{
  guint8 msg[BATCH_MSG_MAX];
  gsize len;

  if (!cb_log_system_name_valid (system))
    return FALSE;
  ensure_sodium ();
  len = batch_message (msg, system, strlen (system), writer, last_seq, last_hash);
  return crypto_sign_verify_detached (sig, msg, len, writer) == 0;
}

gboolean
cb_log_verify_batch (const char     *system,
                     const guint8    writer[32],
                     guint64         first_seq,
                     const guint8    prev_hash[CB_LOG_HASH_BYTES],
                     GBytes * const *encoded_entries,
                     guint           n,
                     const guint8    sig[CB_LOG_SIG_BYTES],
                     CbLogEntry   ***entries_out,
                     guint8          last_hash_out[CB_LOG_HASH_BYTES],
                     GError        **error)
{
  g_autofree CbLogEntry **entries = NULL;
  guint8 hash[CB_LOG_HASH_BYTES];
  gsize system_len;
  char who[17];

  g_return_val_if_fail (cb_log_system_name_valid (system), FALSE);
  g_return_val_if_fail (writer != NULL && sig != NULL, FALSE);
  g_return_val_if_fail (n == 0 || encoded_entries != NULL, FALSE);
  for (guint i = 0; i < n; i++)
    g_return_val_if_fail (encoded_entries[i] != NULL, FALSE);

  ensure_sodium ();
  writer_hex (writer, who);
  if (n == 0)
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "a batch from writer %s for %s has no entries", who, system);
  if (first_seq == 0)
    return fail (error, CB_LOG_ERROR_MALFORMED,
                 "a batch from writer %s for %s starts at seq 0; logs start at 1", who, system);

  system_len = strlen (system);
  memcpy (hash, prev_hash != NULL ? prev_hash : zero_hash, CB_LOG_HASH_BYTES);
  if (entries_out != NULL)
    entries = g_new0 (CbLogEntry *, n + 1);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) local_error = NULL;
      guint64 expected = first_seq + i;
      const guint8 *data;
      gsize len;
      EntryView v;

      data = g_bytes_get_data (encoded_entries[i], &len);
      if (!parse_view (data, len, &v, &local_error))
        {
          fail (error, local_error->code,
                "entry %u of a batch from writer %s for %s (seq %" G_GUINT64_FORMAT
                " expected) cannot be read: %s", i + 1, who, system, expected,
                local_error->message);
          goto failed;
        }
      if (v.system_len != system_len || memcmp (v.system, system, system_len) != 0)
        {
          fail (error, CB_LOG_ERROR_WRONG_SYSTEM,
                "entry %" G_GUINT64_FORMAT " of writer %s belongs to system \"%.*s\", not "
                "to %s which the batch is for", v.seq, who, (int) v.system_len,
                (const char *) v.system, system);
          goto failed;
        }
      if (memcmp (v.writer, writer, 32) != 0)
        {
          char other[17];

          writer_hex (v.writer, other);
          fail (error, CB_LOG_ERROR_WRONG_WRITER,
                "entry %" G_GUINT64_FORMAT " in a batch from writer %s was written by writer "
                "%s; a batch holds one writer's entries", v.seq, who, other);
          goto failed;
        }
      if (v.seq != expected)
        {
          if (i == 0)
            fail (error, CB_LOG_ERROR_GAP,
                  "a batch from writer %s for %s says it starts at entry %" G_GUINT64_FORMAT
                  " but its first entry is entry %" G_GUINT64_FORMAT, who, system,
                  first_seq, v.seq);
          else
            fail (error, CB_LOG_ERROR_GAP,
                  "entry %" G_GUINT64_FORMAT " of writer %s follows entry %" G_GUINT64_FORMAT
                  " in a batch for %s; entries are missing or out of order", v.seq, who,
                  expected - 1, system);
          goto failed;
        }
      if (memcmp (v.prev, hash, CB_LOG_HASH_BYTES) != 0)
        {
          fail (error, CB_LOG_ERROR_BROKEN_CHAIN,
                "entry %" G_GUINT64_FORMAT " of writer %s does not follow entry %"
                G_GUINT64_FORMAT " in %s: its prev hash differs (a forked or altered log)",
                v.seq, who, v.seq - 1, system);
          goto failed;
        }
      cb_log_entry_hash (data, len, hash);
      if (entries != NULL)
        entries[i] = entry_from_view (&v, data, encoded_entries[i]);
    }

  if (!cb_log_batch_verify (system, writer, first_seq + n - 1, hash, sig))
    {
      fail (error, CB_LOG_ERROR_BAD_SIGNATURE,
            "the signature over entries %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT
            " of writer %s in %s does not verify: the entries were altered or not signed "
            "by this writer", first_seq, first_seq + n - 1, who, system);
      goto failed;
    }

  if (last_hash_out != NULL)
    memcpy (last_hash_out, hash, CB_LOG_HASH_BYTES);
  if (entries_out != NULL)
    *entries_out = g_steal_pointer (&entries);
  return TRUE;

failed:
  if (entries != NULL)
    for (guint i = 0; i < n; i++)
      cb_log_entry_free (entries[i]);
  return FALSE;
}
