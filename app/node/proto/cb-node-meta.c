/* cb-node-meta.c: checked decoder and encoder for the node metadata
 * format described in cb-node-meta.h.
 *
 * Encoder and decoder run the same field checks, so anything the encoder
 * writes decodes and anything the decoder accepts re-encodes byte for byte. */
#define G_LOG_DOMAIN "cb-node-meta"

#include "cb-node-meta.h"

#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (cb-node-meta-error-quark, cb_node_meta_error)

#define FLAG_PUBLISHER_ELIGIBLE 0x01
#define KNOWN_FLAGS FLAG_PUBLISHER_ELIGIBLE

/* ---- lifetime ---- */

CbNodeMeta *
cb_node_meta_new (void)
{
  CbNodeMeta *meta = g_new0 (CbNodeMeta, 1);

  meta->roles = g_new0 (char *, 1);
  meta->systems = g_new0 (char *, 1);
  return meta;
}

static GStrv
strv_copy_or_empty (GStrv strv)
{
  return strv != NULL ? g_strdupv (strv) : g_new0 (char *, 1);
}

CbNodeMeta *
cb_node_meta_copy (const CbNodeMeta *meta)
{
  CbNodeMeta *copy;

  g_return_val_if_fail (meta != NULL, NULL);
  copy = g_new0 (CbNodeMeta, 1);
  copy->cpu = meta->cpu;
  copy->mem_mb = meta->mem_mb;
  copy->since = meta->since;
  copy->publisher_eligible = meta->publisher_eligible;
  copy->roles = strv_copy_or_empty (meta->roles);
  copy->systems = strv_copy_or_empty (meta->systems);
  return copy;
}

static gboolean
strv_equal0 (GStrv a, GStrv b)
{
  static const char *const empty[] = { NULL };

  return g_strv_equal (a != NULL ? (const char *const *) a : empty,
                       b != NULL ? (const char *const *) b : empty);
}

gboolean
cb_node_meta_equal (const CbNodeMeta *a,
                    const CbNodeMeta *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  return a->cpu == b->cpu && a->mem_mb == b->mem_mb && a->since == b->since &&
         !a->publisher_eligible == !b->publisher_eligible &&
         strv_equal0 (a->roles, b->roles) && strv_equal0 (a->systems, b->systems);
}

void
cb_node_meta_free (CbNodeMeta *meta)
{
  if (meta == NULL)
    return;
  g_strfreev (meta->roles);
  g_strfreev (meta->systems);
  g_free (meta);
}

/* ---- field checks shared by encoder and decoder ----
 *
 * Each returns NULL if the field is fine, else what is wrong with it; the
 * caller says whether it was decoding or encoding. */

static char *
numbers_problem (guint64 cpu, guint64 mem_mb, guint64 since)
{
  if (cpu < 1 || cpu > CB_NODE_META_MAX_CPU)
    return g_strdup_printf ("a CPU count of %" G_GUINT64_FORMAT " is outside 1..%u",
                            cpu, CB_NODE_META_MAX_CPU);
  if (mem_mb < 1 || mem_mb > CB_NODE_META_MAX_MEM_MB)
    return g_strdup_printf ("a memory size of %" G_GUINT64_FORMAT " MB is outside 1..%"
                            G_GUINT64_FORMAT " MB", mem_mb, CB_NODE_META_MAX_MEM_MB);
  if (since > (guint64) CB_NODE_META_MAX_SINCE)
    return g_strdup_printf ("a start time of %" G_GUINT64_FORMAT " is after %" G_GINT64_FORMAT
                            " (year 9999 in unix seconds)", since, CB_NODE_META_MAX_SINCE);
  return NULL;
}

static char *
string_problem (const char *what, guint index, const guint8 *p, gsize n)
{
  if (n == 0)
    return g_strdup_printf ("%s %u is empty", what, index);
  if (n > CB_NODE_META_MAX_STRING)
    return g_strdup_printf ("%s %u is %" G_GSIZE_FORMAT " bytes long; at most %u are allowed",
                            what, index, n, CB_NODE_META_MAX_STRING);
  for (gsize i = 0; i < n; i++)
    if (p[i] < 0x21 || p[i] > 0x7e)
      return g_strdup_printf ("%s %u has byte 0x%02x at offset %" G_GSIZE_FORMAT
                              "; only printable ASCII without spaces is allowed",
                              what, index, p[i], i);
  return NULL;
}

/* Strings before index are already checked and NUL-terminated. */
static char *
duplicate_problem (const char *what, GStrv strv, guint index, const guint8 *p, gsize n)
{
  for (guint j = 0; j < index; j++)
    if (strlen (strv[j]) == n && memcmp (strv[j], p, n) == 0)
      return g_strdup_printf ("%s %u repeats %s %u (\"%s\")", what, index, what, j, strv[j]);
  return NULL;
}

/* ---- decoder ---- */

typedef struct {
  const guint8 *p;
  gsize         left;
} Reader;

static gboolean malformed (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
malformed (GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, CB_NODE_META_ERROR, CB_NODE_META_ERROR_MALFORMED, "node metadata %s", msg);
  return FALSE;
}

static gboolean
read_bytes (Reader *r, gsize n, const guint8 **out, const char *what, GError **error)
{
  if (r->left < n)
    return malformed (error, "ends inside %s", what);
  *out = r->p;
  r->p += n;
  r->left -= n;
  return TRUE;
}

static gboolean
read_u8 (Reader *r, guint8 *out, const char *what, GError **error)
{
  const guint8 *b = NULL;

  if (!read_bytes (r, 1, &b, what, error))
    return FALSE;
  *out = b[0];
  return TRUE;
}

static gboolean
read_varint (Reader *r, guint64 *out, const char *what, GError **error)
{
  guint64 v = 0;

  for (guint i = 0; i < 10; i++)
    {
      guint8 b;

      if (!read_u8 (r, &b, what, error))
        return FALSE;
      /* The tenth byte may only carry the top bit of a 64-bit value. */
      if (i == 9 && b > 1)
        return malformed (error, "has a %s over 64 bits", what);
      v |= (guint64) (b & 0x7f) << (7 * i);
      if (!(b & 0x80))
        {
          /* A zero last byte means a shorter encoding existed. */
          if (b == 0 && i > 0)
            return malformed (error, "has a %s in a non-minimal encoding", what);
          *out = v;
          return TRUE;
        }
    }
  return malformed (error, "has a %s longer than 10 bytes", what);
}

static GStrv
read_strings (Reader     *r,
              const char *what,    /* "role" */
              const char *plural,  /* "roles" */
              guint       max,
              GError    **error)
{
  g_auto(GStrv) strv = NULL;
  g_autofree char *count_what = g_strdup_printf ("the number of %s", plural);
  guint8 n;

  if (!read_u8 (r, &n, count_what, error))
    return NULL;
  if (n > max)
    {
      malformed (error, "lists %u %s; at most %u are allowed", n, plural, max);
      return NULL;
    }
  strv = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *field = g_strdup_printf ("%s %u", what, i);
      g_autofree char *problem = NULL;
      const guint8 *b = NULL;
      guint8 len;

      if (!read_u8 (r, &len, field, error) || !read_bytes (r, len, &b, field, error))
        return NULL;
      problem = string_problem (what, i, b, len);
      if (problem == NULL)
        problem = duplicate_problem (what, strv, i, b, len);
      if (problem != NULL)
        {
          malformed (error, "is invalid: %s", problem);
          return NULL;
        }
      strv[i] = g_strndup ((const char *) b, len);
    }
  return g_steal_pointer (&strv);
}

CbNodeMeta *
cb_node_meta_decode (const guint8 *data,
                     gsize         len,
                     GError      **error)
{
  Reader r = { data, len };
  g_autoptr(CbNodeMeta) meta = g_new0 (CbNodeMeta, 1);
  g_autofree char *problem = NULL;
  guint64 cpu, mem_mb, since;
  guint8 version, flags;

  if (len == 0)
    {
      malformed (error, "is empty");
      return NULL;
    }
  if (len > CB_NODE_META_MAX_BYTES)
    {
      g_set_error (error, CB_NODE_META_ERROR, CB_NODE_META_ERROR_TOO_LARGE,
                   "node metadata is %" G_GSIZE_FORMAT " bytes; at most %u are allowed",
                   len, CB_NODE_META_MAX_BYTES);
      return NULL;
    }
  if (!read_u8 (&r, &version, "the version", error))
    return NULL;
  if (version != CB_NODE_META_VERSION)
    {
      g_set_error (error, CB_NODE_META_ERROR, CB_NODE_META_ERROR_VERSION,
                   "node metadata is in format version %u but this build reads only "
                   "version %u; the node may run a different release", version,
                   CB_NODE_META_VERSION);
      return NULL;
    }
  if (!read_u8 (&r, &flags, "the flags", error))
    return NULL;
  if (flags & ~KNOWN_FLAGS)
    {
      /* New flags come with a new version, so unknown bits mean corruption,
       * and keeping them would break canonical re-encoding. */
      malformed (error, "has unknown flag bits 0x%02x", flags & ~KNOWN_FLAGS);
      return NULL;
    }
  if (!read_varint (&r, &cpu, "CPU count", error) ||
      !read_varint (&r, &mem_mb, "memory size", error) ||
      !read_varint (&r, &since, "start time", error))
    return NULL;
  problem = numbers_problem (cpu, mem_mb, since);
  if (problem != NULL)
    {
      malformed (error, "is invalid: %s", problem);
      return NULL;
    }
  meta->cpu = (guint) cpu;
  meta->mem_mb = (guint) mem_mb;
  meta->since = (gint64) since;
  meta->publisher_eligible = (flags & FLAG_PUBLISHER_ELIGIBLE) != 0;
  meta->roles = read_strings (&r, "role", "roles", CB_NODE_META_MAX_ROLES, error);
  if (meta->roles == NULL)
    return NULL;
  meta->systems = read_strings (&r, "system", "systems", CB_NODE_META_MAX_SYSTEMS, error);
  if (meta->systems == NULL)
    return NULL;
  if (r.left != 0)
    {
      malformed (error, "has %" G_GSIZE_FORMAT " trailing byte(s) after the systems list",
                 r.left);
      return NULL;
    }
  return g_steal_pointer (&meta);
}

/* ---- encoder ---- */

static gboolean invalid (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, CB_NODE_META_ERROR, CB_NODE_META_ERROR_INVALID,
               "cannot encode node metadata: %s", msg);
  return FALSE;
}

static void
write_varint (GByteArray *out, guint64 v)
{
  do
    {
      guint8 b = v & 0x7f;

      v >>= 7;
      if (v != 0)
        b |= 0x80;
      g_byte_array_append (out, &b, 1);
    }
  while (v != 0);
}

static gboolean
write_strings (GByteArray *out,
               GStrv       strv,
               const char *what,
               const char *plural,
               guint       max,
               GError    **error)
{
  guint n = strv != NULL ? g_strv_length (strv) : 0;
  guint8 n8;

  if (n > max)
    return invalid (error, "%u %s given; at most %u are allowed", n, plural, max);
  n8 = (guint8) n;
  g_byte_array_append (out, &n8, 1);
  for (guint i = 0; i < n; i++)
    {
      gsize len = strlen (strv[i]);
      g_autofree char *problem = string_problem (what, i, (const guint8 *) strv[i], len);
      guint8 len8;

      if (problem != NULL)
        {
          g_autofree char *shown = g_strescape (strv[i], NULL);

          return invalid (error, "%s (\"%s\")", problem, shown);
        }
      problem = duplicate_problem (what, strv, i, (const guint8 *) strv[i], len);
      if (problem != NULL)
        return invalid (error, "%s", problem);
      len8 = (guint8) len;
      g_byte_array_append (out, &len8, 1);
      g_byte_array_append (out, (const guint8 *) strv[i], len);
    }
  return TRUE;
}

GBytes *
cb_node_meta_encode (const CbNodeMeta *meta,
                     GError          **error)
{
  g_autoptr(GByteArray) out = NULL;
  g_autofree char *problem = NULL;
  guint8 head[2];

  g_return_val_if_fail (meta != NULL, NULL);
  if (meta->since < 0)
    {
      invalid (error, "a start time of %" G_GINT64_FORMAT " is before 1970", meta->since);
      return NULL;
    }
  problem = numbers_problem (meta->cpu, meta->mem_mb, (guint64) meta->since);
  if (problem != NULL)
    {
      invalid (error, "%s", problem);
      return NULL;
    }
  out = g_byte_array_sized_new (64);
  head[0] = CB_NODE_META_VERSION;
  head[1] = meta->publisher_eligible ? FLAG_PUBLISHER_ELIGIBLE : 0;
  g_byte_array_append (out, head, sizeof head);
  write_varint (out, meta->cpu);
  write_varint (out, meta->mem_mb);
  write_varint (out, (guint64) meta->since);
  if (!write_strings (out, meta->roles, "role", "roles", CB_NODE_META_MAX_ROLES, error) ||
      !write_strings (out, meta->systems, "system", "systems", CB_NODE_META_MAX_SYSTEMS, error))
    return NULL;
  if (out->len > CB_NODE_META_MAX_BYTES)
    {
      g_set_error (error, CB_NODE_META_ERROR, CB_NODE_META_ERROR_TOO_LARGE,
                   "node metadata would take %u bytes, over the %u that membership "
                   "records carry; list fewer or shorter roles or systems",
                   out->len, CB_NODE_META_MAX_BYTES);
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
