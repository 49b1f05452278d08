/* cb-node-list.c: model, checked decoder, signer and merge of node lists */
#define G_LOG_DOMAIN "cb-lists"

#include "cb-node-list.h"
#include "cb-json-check.h"

#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#define TIME_TEXT_LEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */

G_DEFINE_QUARK (cb-node-list-error-quark, cb_node_list_error)

static void
ensure_sodium (void)
{
  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");
}

/* ---- small helpers ----------------------------------------------------- */

static gboolean
is_lower_hex (const char *s,
              gsize       n)
{
  gsize i;

  if (strlen (s) != n)
    return FALSE;
  for (i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  return TRUE;
}

static void
hex_decode (const char *hex,
            guint8     *out,
            gsize       n_bytes)
{
  gsize i;

  for (i = 0; i < n_bytes; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
}

static char *
hex_encode (const guint8 *bytes,
            gsize         n_bytes)
{
  char *out = g_malloc (2 * n_bytes + 1);

  sodium_bin2hex (out, 2 * n_bytes + 1, bytes, n_bytes);
  return out;
}

char *
cb_node_list_format_time (gint64 unix_seconds)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (unix_seconds);

  int y, mo, d;

  if (dt == NULL)
    return NULL;
  g_date_time_get_ymd (dt, &y, &mo, &d);
  if (y < 1 || y > 9999)
    return NULL;
  /* Not g_date_time_format(): its %Y does not pad years before 1000. */
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d,
                          g_date_time_get_hour (dt), g_date_time_get_minute (dt),
                          g_date_time_get_second (dt));
}

static gboolean
parse_digits (const char *s,
              guint       n,
              int        *out)
{
  int v = 0;
  guint i;

  for (i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      v = v * 10 + (s[i] - '0');
    }
  *out = v;
  return TRUE;
}

/* Only the canonical UTC form: no offsets, no fractions, so one instant
 * has one spelling in a signed document. */
gboolean
cb_node_list_parse_time (const char *text,
                         gint64     *unix_seconds)
{
  g_autoptr(GDateTime) dt = NULL;
  int y, mo, d, h, mi, s;

  if (text == NULL || strlen (text) != TIME_TEXT_LEN)
    return FALSE;
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z')
    return FALSE;
  if (!parse_digits (text, 4, &y) || !parse_digits (text + 5, 2, &mo) ||
      !parse_digits (text + 8, 2, &d) || !parse_digits (text + 11, 2, &h) ||
      !parse_digits (text + 14, 2, &mi) || !parse_digits (text + 17, 2, &s))
    return FALSE;
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
    return FALSE;
  if (!g_date_valid_dmy ((GDateDay) d, (GDateMonth) mo, (GDateYear) y))
    return FALSE;
  dt = g_date_time_new_utc (y, mo, d, h, mi, s);
  if (dt == NULL)
    return FALSE;
  *unix_seconds = g_date_time_to_unix (dt);
  return TRUE;
}

/* Display form for messages; never NULL. */
static char *
time_or_number (gint64 t)
{
  char *s = cb_node_list_format_time (t);

  return s ? s : g_strdup_printf ("%" G_GINT64_FORMAT, t);
}

/* ---- nodes ------------------------------------------------------------- */

static GStrv
strv_copy_or_empty (const char * const *v)
{
  if (v == NULL)
    return g_new0 (char *, 1);
  return g_strdupv ((char **) v);
}

CbListNode *
cb_list_node_new (const char         *id_hex,
                  const char * const *addrs,
                  const char * const *roles,
                  guint               cpu,
                  guint               mem_mb,
                  gint64              since,
                  gint64              last_seen)
{
  CbListNode *node = g_new0 (CbListNode, 1);

  g_return_val_if_fail (id_hex != NULL, NULL);

  node->id_hex = g_strdup (id_hex);
  node->addrs = strv_copy_or_empty (addrs);
  node->roles = strv_copy_or_empty (roles);
  node->cpu = cpu;
  node->mem_mb = mem_mb;
  node->since = since;
  node->last_seen = last_seen;
  return node;
}

CbListNode *
cb_list_node_copy (const CbListNode *node)
{
  return cb_list_node_new (node->id_hex, (const char * const *) node->addrs,
                           (const char * const *) node->roles, node->cpu, node->mem_mb,
                           node->since, node->last_seen);
}

gboolean
cb_list_node_equal (const CbListNode *a,
                    const CbListNode *b)
{
  return g_strcmp0 (a->id_hex, b->id_hex) == 0 &&
         g_strv_equal ((const char * const *) a->addrs, (const char * const *) b->addrs) &&
         g_strv_equal ((const char * const *) a->roles, (const char * const *) b->roles) &&
         a->cpu == b->cpu && a->mem_mb == b->mem_mb &&
         a->since == b->since && a->last_seen == b->last_seen;
}

void
cb_list_node_free (CbListNode *node)
{
  if (node == NULL)
    return;
  g_free (node->id_hex);
  g_strfreev (node->addrs);
  g_strfreev (node->roles);
  g_free (node);
}

static int
compare_node_ids (gconstpointer a,
                  gconstpointer b)
{
  const CbListNode *na = *(const CbListNode * const *) a;
  const CbListNode *nb = *(const CbListNode * const *) b;

  return strcmp (na->id_hex, nb->id_hex);
}

/* ---- lists ------------------------------------------------------------- */

CbNodeList *
cb_node_list_new (const char *cloud)
{
  CbNodeList *list = g_new0 (CbNodeList, 1);

  g_return_val_if_fail (cloud != NULL, NULL);

  list->cloud = g_strdup (cloud);
  list->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_list_node_free);
  return list;
}

CbNodeList *
cb_node_list_copy (const CbNodeList *list)
{
  CbNodeList *copy = cb_node_list_new (list->cloud);
  guint i;

  copy->version = list->version;
  copy->issued = list->issued;
  copy->expires = list->expires;
  memcpy (copy->publisher, list->publisher, sizeof copy->publisher);
  for (i = 0; i < list->nodes->len; i++)
    g_ptr_array_add (copy->nodes, cb_list_node_copy (g_ptr_array_index (list->nodes, i)));
  return copy;
}

void
cb_node_list_free (CbNodeList *list)
{
  if (list == NULL)
    return;
  g_free (list->cloud);
  g_ptr_array_unref (list->nodes);
  g_free (list);
}

gboolean
cb_node_list_equal (const CbNodeList *a,
                    const CbNodeList *b)
{
  guint i;

  if (g_strcmp0 (a->cloud, b->cloud) != 0 || a->version != b->version ||
      a->issued != b->issued || a->expires != b->expires ||
      memcmp (a->publisher, b->publisher, sizeof a->publisher) != 0 ||
      a->nodes->len != b->nodes->len)
    return FALSE;
  for (i = 0; i < a->nodes->len; i++)
    if (!cb_list_node_equal (g_ptr_array_index (a->nodes, i), g_ptr_array_index (b->nodes, i)))
      return FALSE;
  return TRUE;
}

/* Index of @id_hex in the sorted array, or where it would go. */
static guint
find_slot (const CbNodeList *list,
           const char       *id_hex,
           gboolean         *found)
{
  guint lo = 0, hi = list->nodes->len;

  *found = FALSE;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const CbListNode *n = g_ptr_array_index (list->nodes, mid);
      int c = strcmp (n->id_hex, id_hex);

      if (c == 0)
        {
          *found = TRUE;
          return mid;
        }
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

const CbListNode *
cb_node_list_lookup (const CbNodeList *list,
                     const char       *id_hex)
{
  gboolean found;
  guint i = find_slot (list, id_hex, &found);

  return found ? g_ptr_array_index (list->nodes, i) : NULL;
}

void
cb_node_list_upsert (CbNodeList       *list,
                     const CbListNode *node)
{
  gboolean found;
  guint i;

  g_return_if_fail (list != NULL && node != NULL && node->id_hex != NULL);

  i = find_slot (list, node->id_hex, &found);
  if (found)
    {
      cb_list_node_free (g_ptr_array_index (list->nodes, i));
      g_ptr_array_index (list->nodes, i) = cb_list_node_copy (node);
    }
  else
    g_ptr_array_insert (list->nodes, (int) i, cb_list_node_copy (node));
}

gboolean
cb_node_list_remove (CbNodeList *list,
                     const char *id_hex)
{
  gboolean found;
  guint i = find_slot (list, id_hex, &found);

  if (found)
    g_ptr_array_remove_index (list->nodes, i);
  return found;
}

/* ---- checked JSON reading ---------------------------------------------- */

/* Parses @text (@len bytes) into a root object node: strictly, with the
 * project's checks for untrusted JSON (cb-json-check.h). */
static JsonNode *
parse_json_object (const char *text,
                   gsize       len,
                   const char *what,
                   GError    **error)
{
  CbJsonCheck check = { CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED, what };

  return cb_json_check_parse_object (&check, text, len, error);
}

static const char *
get_string (JsonObject  *obj,
            const char  *name,
            const char  *what,
            GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s has no \"%s\"", what, name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s: \"%s\" must be a string", what, name);
      return NULL;
    }
  return json_node_get_string (node);
}

static gboolean
get_int (JsonObject  *obj,
         const char  *name,
         gint64       min,
         gint64       max,
         gint64      *out,
         const char  *what,
         GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  gint64 v;

  if (node == NULL)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s has no \"%s\"", what, name);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s: \"%s\" must be an integer", what, name);
      return FALSE;
    }
  v = json_node_get_int (node);
  if (v < min || v > max)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s: \"%s\" is %" G_GINT64_FORMAT ", outside %" G_GINT64_FORMAT
                   "..%" G_GINT64_FORMAT, what, name, v, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
get_time (JsonObject  *obj,
          const char  *name,
          gint64      *out,
          const char  *what,
          GError     **error)
{
  const char *s = get_string (obj, name, what, error);

  if (s == NULL)
    return FALSE;
  if (!cb_node_list_parse_time (s, out))
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s: \"%s\" must be a UTC time like 2026-11-22T10:00:00Z",
                   what, name);
      return FALSE;
    }
  return TRUE;
}

/* Non-empty, at most CB_NODE_LIST_MAX_STRING bytes, no control characters. */
static gboolean
check_text (const char  *s,
            const char  *what,
            GError     **error)
{
  gsize len = strlen (s), i;

  if (len > CB_NODE_LIST_MAX_STRING)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE,
                   "%s is %" G_GSIZE_FORMAT " bytes long; at most %d are allowed",
                   what, len, CB_NODE_LIST_MAX_STRING);
      return FALSE;
    }
  if (len == 0)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s is empty", what);
      return FALSE;
    }
  for (i = 0; i < len; i++)
    if ((guchar) s[i] < 0x20 || s[i] == 0x7f)
      {
        g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                     "%s contains a control character", what);
        return FALSE;
      }
  return TRUE;
}

static gboolean
check_addr (const char  *addr,
            const char  *what,
            GError     **error)
{
  g_autoptr(GUri) uri = NULL;

  if (!check_text (addr, what, error))
    return FALSE;
  if (!g_str_has_prefix (addr, "ws://") && !g_str_has_prefix (addr, "wss://"))
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s \"%s\" is not a ws:// or wss:// URL", what, addr);
      return FALSE;
    }
  uri = g_uri_parse (addr, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      g_uri_get_port (uri) <= 0 || g_uri_get_userinfo (uri) != NULL ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s \"%s\" must be a URL with a host and a port, like ws://192.0.2.7:7788",
                   what, addr);
      return FALSE;
    }
  return TRUE;
}

/* Reads a string array member into a NULL-terminated vector. */
static GStrv
get_string_array (JsonObject  *obj,
                  const char  *name,
                  guint        max,
                  gboolean     is_addr,
                  const char  *what,
                  GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);
  g_autoptr(GStrvBuilder) builder = NULL;
  JsonArray *array;
  guint i, n;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s: \"%s\" must be an array of strings", what, name);
      return NULL;
    }
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n > max)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE,
                   "%s has %u %s; at most %u are allowed", what, n, name, max);
      return NULL;
    }
  builder = g_strv_builder_new ();
  for (i = 0; i < n; i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      g_autofree char *item_what = g_strdup_printf ("%s: %s[%u]", what, name, i);
      const char *s;

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING)
        {
          g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                       "%s must be a string", item_what);
          return NULL;
        }
      s = json_node_get_string (item);
      if (is_addr ? !check_addr (s, item_what, error) : !check_text (s, item_what, error))
        return NULL;
      g_strv_builder_add (builder, s);
    }
  return g_strv_builder_end (builder);
}

static CbListNode *
parse_node (JsonNode    *json,
            guint        index,
            GError     **error)
{
  g_autoptr(CbListNode) node = g_new0 (CbListNode, 1);
  g_autofree char *what = g_strdup_printf ("node %u", index);
  JsonObject *obj;
  const char *id;
  gint64 cpu, mem_mb;

  if (!JSON_NODE_HOLDS_OBJECT (json))
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s is not an object", what);
      return NULL;
    }
  obj = json_node_get_object (json);
  id = get_string (obj, "id", what, error);
  if (id == NULL)
    return NULL;
  if (!is_lower_hex (id, 64))
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s: \"id\" must be 64 lowercase hex characters (an ed25519 public key)",
                   what);
      return NULL;
    }
  node->id_hex = g_strdup (id);
  /* Name the node by its id from here on: that is what a person can find. */
  g_free (what);
  what = g_strdup_printf ("node %.16s…", id);

  node->addrs = get_string_array (obj, "addrs", CB_NODE_LIST_MAX_ADDRS, TRUE, what, error);
  if (node->addrs == NULL)
    return NULL;
  node->roles = get_string_array (obj, "roles", CB_NODE_LIST_MAX_ROLES, FALSE, what, error);
  if (node->roles == NULL)
    return NULL;
  if (!get_int (obj, "cpu", 0, G_MAXUINT32, &cpu, what, error) ||
      !get_int (obj, "mem_mb", 0, G_MAXUINT32, &mem_mb, what, error) ||
      !get_time (obj, "since", &node->since, what, error) ||
      !get_time (obj, "last_seen", &node->last_seen, what, error))
    return NULL;
  node->cpu = (guint) cpu;
  node->mem_mb = (guint) mem_mb;
  if (node->since > node->last_seen)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "%s was last seen before it joined (\"since\" is after \"last_seen\")",
                   what);
      return NULL;
    }
  return g_steal_pointer (&node);
}

/* The inner document; the signature has been checked by the caller (or it
 * is our own serialisation being validated before signing). */
static CbNodeList *
parse_list_document (const char  *text,
                     gsize        len,
                     GError     **error)
{
  g_autoptr(JsonNode) root = parse_json_object (text, len, "list", error);
  g_autoptr(CbNodeList) list = NULL;
  JsonObject *obj;
  JsonNode *nodes_node;
  JsonArray *nodes;
  const char *cloud, *publisher;
  gint64 version;
  guint i, n;

  if (root == NULL)
    return NULL;
  obj = json_node_get_object (root);

  cloud = get_string (obj, "cloud", "list", error);
  if (cloud == NULL || !check_text (cloud, "list: \"cloud\"", error))
    return NULL;
  list = cb_node_list_new (cloud);

  if (!get_int (obj, "version", 1, (gint64) CB_NODE_LIST_MAX_VERSION, &version, "list", error) ||
      !get_time (obj, "issued", &list->issued, "list", error) ||
      !get_time (obj, "expires", &list->expires, "list", error))
    return NULL;
  list->version = (guint64) version;
  if (list->issued >= list->expires)
    {
      g_autofree char *issued = time_or_number (list->issued);
      g_autofree char *expires = time_or_number (list->expires);

      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "list is issued at %s, which is not before it expires at %s",
                   issued, expires);
      return NULL;
    }

  publisher = get_string (obj, "publisher", "list", error);
  if (publisher == NULL)
    return NULL;
  if (!is_lower_hex (publisher, 64))
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "list: \"publisher\" must be 64 lowercase hex characters");
      return NULL;
    }
  hex_decode (publisher, list->publisher, 32);

  nodes_node = json_object_get_member (obj, "nodes");
  if (nodes_node == NULL || !JSON_NODE_HOLDS_ARRAY (nodes_node))
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "list: \"nodes\" must be an array");
      return NULL;
    }
  nodes = json_node_get_array (nodes_node);
  n = json_array_get_length (nodes);
  if (n > CB_NODE_LIST_MAX_NODES)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE,
                   "list has %u nodes; at most %d are allowed", n, CB_NODE_LIST_MAX_NODES);
      return NULL;
    }
  for (i = 0; i < n; i++)
    {
      CbListNode *node = parse_node (json_array_get_element (nodes, i), i, error);

      if (node == NULL)
        return NULL;
      g_ptr_array_add (list->nodes, node);
    }
  g_ptr_array_sort (list->nodes, compare_node_ids);
  for (i = 1; i < list->nodes->len; i++)
    {
      const CbListNode *prev = g_ptr_array_index (list->nodes, i - 1);
      const CbListNode *cur = g_ptr_array_index (list->nodes, i);

      if (strcmp (prev->id_hex, cur->id_hex) == 0)
        {
          g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                       "list names node %s more than once", cur->id_hex);
          return NULL;
        }
    }
  return g_steal_pointer (&list);
}

/* ---- envelope ---------------------------------------------------------- */

typedef struct {
  JsonNode   *root;      /* keeps the strings below alive */
  const char *list;      /* unescaped list text */
  guint8      signature[64];
} Envelope;

static gboolean
parse_envelope (const guint8  *data,
                gsize          len,
                Envelope      *env,
                GError       **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *obj;
  const char *format, *signature;

  if (len > CB_NODE_LIST_MAX_ENVELOPE)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE,
                   "list file is %" G_GSIZE_FORMAT " bytes; at most %d are allowed",
                   len, CB_NODE_LIST_MAX_ENVELOPE);
      return FALSE;
    }
  if (len == 0 || !g_utf8_validate ((const char *) data, (gssize) len, NULL))
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   len == 0 ? "list file is empty" : "list file is not UTF-8 text");
      return FALSE;
    }
  root = parse_json_object ((const char *) data, len, "list file", error);
  if (root == NULL)
    return FALSE;
  obj = json_node_get_object (root);

  format = get_string (obj, "format", "list file", error);
  if (format == NULL)
    return FALSE;
  if (strcmp (format, CB_NODE_LIST_FORMAT) != 0)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "list file has format \"%.64s\"; this program reads \"%s\"",
                   format, CB_NODE_LIST_FORMAT);
      return FALSE;
    }
  env->list = get_string (obj, "list", "list file", error);
  if (env->list == NULL)
    return FALSE;
  signature = get_string (obj, "signature", "list file", error);
  if (signature == NULL)
    return FALSE;
  if (!is_lower_hex (signature, 128))
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "list file: \"signature\" must be 128 lowercase hex characters");
      return FALSE;
    }
  hex_decode (signature, env->signature, 64);
  env->root = g_steal_pointer (&root);
  return TRUE;
}

/* Says why no trusted key verified: the key the list claims is unknown, or
 * it is trusted and the bytes were altered. */
static void
explain_unverified (const Envelope     *env,
                    const char         *cloud,
                    const guint8      (*trusted_keys)[32],
                    gsize               n_keys,
                    GError            **error)
{
  g_autoptr(JsonNode) root = NULL;
  const char *claimed = NULL;
  guint8 key[32];
  gsize i;

  if (n_keys == 0)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_UNKNOWN_KEY,
                   "no trusted publisher keys are configured for cloud \"%s\"; "
                   "cannot accept any list", cloud);
      return;
    }
  root = parse_json_object (env->list, strlen (env->list), "list", NULL);
  if (root != NULL)
    {
      JsonNode *member = json_object_get_member (json_node_get_object (root), "publisher");

      if (member != NULL && JSON_NODE_HOLDS_VALUE (member) &&
          json_node_get_value_type (member) == G_TYPE_STRING &&
          is_lower_hex (json_node_get_string (member), 64))
        claimed = json_node_get_string (member);
    }
  if (claimed == NULL)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_BAD_SIGNATURE,
                   "list signature matches none of the %" G_GSIZE_FORMAT
                   " trusted publisher keys of cloud \"%s\"", n_keys, cloud);
      return;
    }
  hex_decode (claimed, key, 32);
  for (i = 0; i < n_keys; i++)
    if (memcmp (trusted_keys[i], key, 32) == 0)
      {
        g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_BAD_SIGNATURE,
                     "list signature does not verify with publisher key %s; "
                     "the list was altered or corrupted", claimed);
        return;
      }
  g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_UNKNOWN_KEY,
               "list is signed by publisher key %s, which cloud \"%s\" does not trust",
               claimed, cloud);
}

CbNodeList *
cb_node_list_verify_and_parse_full (const guint8          *envelope,
                                    gsize                  len,
                                    const char            *cloud,
                                    const guint8         (*trusted_keys)[32],
                                    gsize                  n_keys,
                                    guint64                min_version,
                                    gint64                 now,
                                    CbNodeListVerifyFlags  flags,
                                    GError               **error)
{
  Envelope env = { NULL, NULL, { 0 } };
  g_autoptr(CbNodeList) list = NULL;
  const guint8 *signer = NULL;
  gsize list_len, i;

  g_return_val_if_fail (envelope != NULL || len == 0, NULL);
  g_return_val_if_fail (cloud != NULL, NULL);
  g_return_val_if_fail (trusted_keys != NULL || n_keys == 0, NULL);

  ensure_sodium ();
  if (!parse_envelope (envelope, len, &env, error))
    return NULL;

  list_len = strlen (env.list);
  for (i = 0; i < n_keys && signer == NULL; i++)
    if (crypto_sign_verify_detached (env.signature, (const guint8 *) env.list, list_len,
                                     trusted_keys[i]) == 0)
      signer = trusted_keys[i];
  if (signer == NULL)
    {
      explain_unverified (&env, cloud, trusted_keys, n_keys, error);
      json_node_unref (env.root);
      return NULL;
    }

  list = parse_list_document (env.list, list_len, error);
  json_node_unref (env.root);
  if (list == NULL)
    return NULL;

  if (memcmp (list->publisher, signer, 32) != 0)
    {
      g_autofree char *named = hex_encode (list->publisher, 32);
      g_autofree char *actual = hex_encode (signer, 32);

      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_BAD_SIGNATURE,
                   "list names publisher %s but is signed by %s", named, actual);
      return NULL;
    }
  if (strcmp (list->cloud, cloud) != 0)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_WRONG_CLOUD,
                   "list is for cloud \"%s\", not \"%s\"", list->cloud, cloud);
      return NULL;
    }
  if (list->version < min_version)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_ROLLBACK,
                   "list version %" G_GUINT64_FORMAT " is older than version %"
                   G_GUINT64_FORMAT " already seen; keeping the newer list",
                   list->version, min_version);
      return NULL;
    }
  if (!(flags & CB_NODE_LIST_VERIFY_ALLOW_EXPIRED) && now >= list->expires)
    {
      g_autofree char *expires = time_or_number (list->expires);

      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_EXPIRED,
                   "list for cloud \"%s\" expired at %s; keeping the list already in use",
                   list->cloud, expires);
      return NULL;
    }
  return g_steal_pointer (&list);
}

CbNodeList *
cb_node_list_verify_and_parse (const guint8   *envelope,
                               gsize           len,
                               const char     *cloud,
                               const guint8  (*trusted_keys)[32],
                               gsize           n_keys,
                               guint64         min_version,
                               gint64          now,
                               GError        **error)
{
  return cb_node_list_verify_and_parse_full (envelope, len, cloud, trusted_keys, n_keys,
                                             min_version, now, CB_NODE_LIST_VERIFY_NONE,
                                             error);
}

/* ---- writing ----------------------------------------------------------- */

static void
add_time_member (JsonBuilder *b,
                 const char  *name,
                 gint64       t)
{
  g_autofree char *s = time_or_number (t);

  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, s);
}

static void
add_strv_member (JsonBuilder *b,
                 const char  *name,
                 GStrv        v)
{
  guint i;

  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (i = 0; v != NULL && v[i] != NULL; i++)
    json_builder_add_string_value (b, v[i]);
  json_builder_end_array (b);
}

static char *
builder_to_string (JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

char *
cb_node_list_to_json (const CbNodeList *list)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *publisher = hex_encode (list->publisher, 32);
  guint i;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cloud");
  json_builder_add_string_value (b, list->cloud);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, (gint64) MIN (list->version, (guint64) G_MAXINT64));
  add_time_member (b, "issued", list->issued);
  add_time_member (b, "expires", list->expires);
  json_builder_set_member_name (b, "publisher");
  json_builder_add_string_value (b, publisher);
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (i = 0; i < list->nodes->len; i++)
    {
      const CbListNode *n = g_ptr_array_index (list->nodes, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, n->id_hex);
      add_strv_member (b, "addrs", n->addrs);
      add_strv_member (b, "roles", n->roles);
      json_builder_set_member_name (b, "cpu");
      json_builder_add_int_value (b, n->cpu);
      json_builder_set_member_name (b, "mem_mb");
      json_builder_add_int_value (b, n->mem_mb);
      add_time_member (b, "since", n->since);
      add_time_member (b, "last_seen", n->last_seen);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return builder_to_string (b);
}

GBytes *
cb_node_list_envelope_sign_text (const char   *list_json,
                                 const guint8  publisher_secret[64])
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *sig_hex = NULL;
  guint8 sig[64];
  char *text;

  g_return_val_if_fail (list_json != NULL && g_utf8_validate (list_json, -1, NULL), NULL);

  ensure_sodium ();
  crypto_sign_detached (sig, NULL, (const guint8 *) list_json, strlen (list_json),
                        publisher_secret);
  sig_hex = hex_encode (sig, sizeof sig);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, CB_NODE_LIST_FORMAT);
  json_builder_set_member_name (b, "list");
  json_builder_add_string_value (b, list_json);
  json_builder_set_member_name (b, "signature");
  json_builder_add_string_value (b, sig_hex);
  json_builder_end_object (b);
  text = builder_to_string (b);
  return g_bytes_new_take (text, strlen (text));
}

GBytes *
cb_node_list_sign (CbNodeList    *list,
                   const guint8   publisher_secret[64],
                   gint64         now,
                   gint64         ttl_seconds,
                   GError       **error)
{
  g_autofree char *text = NULL;
  g_autofree char *expires_text = NULL;
  g_autoptr(CbNodeList) check = NULL;
  g_autoptr(GBytes) envelope = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (list != NULL && list->cloud != NULL, NULL);

  ensure_sodium ();
  if (list->version < 1 || list->version > CB_NODE_LIST_MAX_VERSION)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "cannot sign list version %" G_GUINT64_FORMAT
                   ": versions go from 1 to %" G_GUINT64_FORMAT, list->version,
                   CB_NODE_LIST_MAX_VERSION);
      return NULL;
    }
  if (ttl_seconds <= 0 || now > G_MAXINT64 - ttl_seconds ||
      (expires_text = cb_node_list_format_time (now + ttl_seconds)) == NULL)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_MALFORMED,
                   "cannot sign a list that lives %" G_GINT64_FORMAT
                   " seconds from %" G_GINT64_FORMAT, ttl_seconds, now);
      return NULL;
    }
  if (list->nodes->len > CB_NODE_LIST_MAX_NODES)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE,
                   "list has %u nodes; at most %d are allowed",
                   list->nodes->len, CB_NODE_LIST_MAX_NODES);
      return NULL;
    }

  list->issued = now;
  list->expires = now + ttl_seconds;
  crypto_sign_ed25519_sk_to_pk (list->publisher, publisher_secret);
  g_ptr_array_sort (list->nodes, compare_node_ids);

  /* Sign only what a reader accepts: run our own decoder over it. */
  text = cb_node_list_to_json (list);
  check = parse_list_document (text, strlen (text), &local_error);
  if (check == NULL)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, local_error->code,
                   "cannot sign the list: %s", local_error->message);
      return NULL;
    }

  envelope = cb_node_list_envelope_sign_text (text, publisher_secret);
  if (g_bytes_get_size (envelope) > CB_NODE_LIST_MAX_ENVELOPE)
    {
      g_set_error (error, CB_NODE_LIST_ERROR, CB_NODE_LIST_ERROR_TOO_LARGE,
                   "signed list would be %" G_GSIZE_FORMAT " bytes; at most %d are "
                   "allowed (drop nodes not seen recently)",
                   g_bytes_get_size (envelope), CB_NODE_LIST_MAX_ENVELOPE);
      return NULL;
    }
  return g_steal_pointer (&envelope);
}

/* ---- merging ----------------------------------------------------------- */

typedef struct {
  const CbListNode *node;
  guint             from_b;
} MergeItem;

/* By id, then the later last_seen first, then @a's entry first. */
static int
compare_merge_items (gconstpointer pa,
                     gconstpointer pb)
{
  const MergeItem *a = pa, *b = pb;
  int c = strcmp (a->node->id_hex, b->node->id_hex);

  if (c != 0)
    return c;
  if (a->node->last_seen != b->node->last_seen)
    return a->node->last_seen > b->node->last_seen ? -1 : 1;
  return (int) a->from_b - (int) b->from_b;
}

CbNodeList *
cb_node_list_merge (const CbNodeList *a,
                    const CbNodeList *b,
                    gint64            drop_before)
{
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (MergeItem));
  CbNodeList *out;
  const char *last_id = NULL;
  guint i;

  g_return_val_if_fail (a != NULL && b != NULL, NULL);

  out = cb_node_list_new (a->cloud);
  out->version = MAX (a->version, b->version) + 1;
  for (i = 0; i < a->nodes->len; i++)
    {
      MergeItem item = { g_ptr_array_index (a->nodes, i), 0 };
      g_array_append_val (items, item);
    }
  for (i = 0; i < b->nodes->len; i++)
    {
      MergeItem item = { g_ptr_array_index (b->nodes, i), 1 };
      g_array_append_val (items, item);
    }
  g_array_sort (items, compare_merge_items);
  for (i = 0; i < items->len; i++)
    {
      const MergeItem *item = &g_array_index (items, MergeItem, i);

      if (last_id != NULL && strcmp (last_id, item->node->id_hex) == 0)
        continue;
      last_id = item->node->id_hex;
      if (item->node->last_seen < drop_before)
        continue;
      g_ptr_array_add (out->nodes, cb_list_node_copy (item->node));
    }
  return out;
}

static int
compare_freshness (gconstpointer a,
                   gconstpointer b)
{
  const CbListNode *na = *(const CbListNode * const *) a;
  const CbListNode *nb = *(const CbListNode * const *) b;

  if (na->last_seen != nb->last_seen)
    return na->last_seen > nb->last_seen ? -1 : 1;
  return strcmp (na->id_hex, nb->id_hex);
}

void
cb_node_list_keep_freshest (CbNodeList *list,
                            guint       n_keep)
{
  if (list->nodes->len <= n_keep)
    return;
  g_ptr_array_sort (list->nodes, compare_freshness);
  g_ptr_array_set_size (list->nodes, n_keep);
  g_ptr_array_sort (list->nodes, compare_node_ids);
}
