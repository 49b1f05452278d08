/* cb-list-source.c: list source URLs and the operations every backend has */
#define G_LOG_DOMAIN "cb-lists"

#include "cb-list-source-private.h"
#include "cb-node-list.h"

#include <string.h>

#define MAX_RESPONSE_DEPTH 32

typedef struct {
  char *url;
  gsize  max_bytes;
} CbListSourcePrivate;

G_DEFINE_QUARK (cb-list-source-error-quark, cb_list_source_error)
G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (CbListSource, cb_list_source, G_TYPE_OBJECT)

static void
cb_list_source_finalize (GObject *object)
{
  CbListSourcePrivate *priv = cb_list_source_get_instance_private (CB_LIST_SOURCE (object));

  g_free (priv->url);
  G_OBJECT_CLASS (cb_list_source_parent_class)->finalize (object);
}

static gboolean
cb_list_source_real_is_writable (CbListSource *self)
{
  return FALSE;
}

static void
cb_list_source_class_init (CbListSourceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cb_list_source_finalize;
  klass->is_writable = cb_list_source_real_is_writable;
}

static void
cb_list_source_init (CbListSource *self)
{
}

void
_cb_list_source_set_url (CbListSource *self,
                         const char   *url)
{
  CbListSourcePrivate *priv = cb_list_source_get_instance_private (self);

  g_free (priv->url);
  priv->url = g_strdup (url);
}

const char *
cb_list_source_get_url (CbListSource *self)
{
  CbListSourcePrivate *priv = cb_list_source_get_instance_private (self);

  g_return_val_if_fail (CB_IS_LIST_SOURCE (self), NULL);
  return priv->url;
}

static CbListSource *
set_max_bytes (CbListSource *source, const CbListSourceOptions *options)
{
  if (source != NULL)
    {
      CbListSourcePrivate *priv = cb_list_source_get_instance_private (source);

      priv->max_bytes = options->max_bytes > 0 ? options->max_bytes : CB_NODE_LIST_MAX_ENVELOPE;
    }
  return source;
}

gsize
cb_list_source_get_max_bytes (CbListSource *self)
{
  CbListSourcePrivate *priv = cb_list_source_get_instance_private (self);

  g_return_val_if_fail (CB_IS_LIST_SOURCE (self), 0);
  return priv->max_bytes > 0 ? priv->max_bytes : CB_NODE_LIST_MAX_ENVELOPE;
}

CbListSource *
cb_list_source_new (const char                 *url,
                    const CbListSourceOptions  *options,
                    GError                    **error)
{
  static const CbListSourceOptions no_options = { NULL, NULL, NULL, 0, 0 };
  CbListSource *source = NULL;
  g_autofree char *scheme = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (url != NULL, NULL);

  if (options == NULL)
    options = &no_options;
  scheme = g_uri_parse_scheme (url);
  if (scheme == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "\"%s\" is not a URL; a list source looks like https://example.org/nodes.json, "
                   "git+https://example.org/cloud.git#nodes.json or github://OWNER/REPO/nodes.json",
                   url);
      return NULL;
    }
  if (strcmp (scheme, "file") == 0)
    source = _cb_list_source_file_new (url, error);
  else if (g_str_has_prefix (scheme, "git+"))
    source = _cb_list_source_git_new (url, options, error);
  if (source != NULL || strcmp (scheme, "file") == 0 || g_str_has_prefix (scheme, "git+"))
    return set_max_bytes (source, options);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "cannot parse list URL \"%s\": %s", url, local_error->message);
      return NULL;
    }
  if (strcmp (scheme, "https") == 0 || strcmp (scheme, "http") == 0)
    return set_max_bytes (_cb_list_source_http_new (uri, url, options, error), options);
  if (strcmp (scheme, "github") == 0)
    {
      /* The contents API answers with base64 only for files up to 1 MB
       * (larger ones need another media type): lists, not backups. */
      CbListSourceOptions capped = *options;

      capped.max_bytes = MIN (capped.max_bytes > 0 ? capped.max_bytes : G_MAXSIZE,
                              CB_NODE_LIST_MAX_ENVELOPE);
      return set_max_bytes (_cb_list_source_github_new (uri, url, options, error), &capped);
    }

  g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
               "list URL \"%s\" has the unsupported scheme \"%s\"; use file://, https://, "
               "git+https://…#path, git+file://…#path or github://OWNER/REPO/PATH",
               url, scheme);
  return NULL;
}

gboolean
cb_list_source_is_writable (CbListSource *self)
{
  g_return_val_if_fail (CB_IS_LIST_SOURCE (self), FALSE);
  return CB_LIST_SOURCE_GET_CLASS (self)->is_writable (self);
}

void
cb_list_source_read_async (CbListSource        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (CB_IS_LIST_SOURCE (self));
  CB_LIST_SOURCE_GET_CLASS (self)->read_async (self, cancellable, callback, user_data);
}

GBytes *
cb_list_source_read_finish (CbListSource  *self,
                            GAsyncResult  *result,
                            char         **revision,
                            GError       **error)
{
  g_autofree char *rev = NULL;
  GBytes *bytes;

  g_return_val_if_fail (CB_IS_LIST_SOURCE (self), NULL);
  bytes = CB_LIST_SOURCE_GET_CLASS (self)->read_finish (self, result, &rev, error);
  if (revision != NULL)
    *revision = g_steal_pointer (&rev);
  return bytes;
}

void
cb_list_source_write_async (CbListSource        *self,
                            GBytes              *contents,
                            const char          *expected_revision,
                            const char          *message,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (CB_IS_LIST_SOURCE (self));
  g_return_if_fail (contents != NULL);
  CB_LIST_SOURCE_GET_CLASS (self)->write_async (self, contents, expected_revision,
                                                message ? message : "Update the node list",
                                                cancellable, callback, user_data);
}

gboolean
cb_list_source_write_finish (CbListSource  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (CB_IS_LIST_SOURCE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- helpers for the backends ------------------------------------------ */

char *
_cb_list_source_sha256_hex (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

gboolean
_cb_list_source_check_repo_path (const char  *path,
                                 const char  *url,
                                 GError     **error)
{
  g_auto(GStrv) parts = NULL;
  guint i;

  if (path == NULL || *path == '\0' || *path == '/' || strlen (path) > 1024 ||
      strchr (path, '\\') != NULL)
    goto bad;
  parts = g_strsplit (path, "/", -1);
  for (i = 0; parts[i] != NULL; i++)
    if (*parts[i] == '\0' || strcmp (parts[i], ".") == 0 || strcmp (parts[i], "..") == 0)
      goto bad;
  for (i = 0; path[i] != '\0'; i++)
    if ((guchar) path[i] < 0x20 || path[i] == 0x7f)
      goto bad;
  return TRUE;

bad:
  g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
               "list URL \"%s\" needs the file's path inside the repository, like "
               "\"nodes.json\" or \"lists/nodes.json\" (relative, no \"..\")", url);
  return FALSE;
}

gboolean
_cb_list_source_check_ref (const char  *ref,
                           const char  *url,
                           GError     **error)
{
  gsize i, len = strlen (ref);

  /* A conservative subset of git's ref name rules, so a branch can never
   * be read as an option or a revision expression. */
  if (len == 0 || len > 200 || ref[0] == '-' || ref[0] == '/' || ref[len - 1] == '/' ||
      ref[len - 1] == '.' || strstr (ref, "..") != NULL || strstr (ref, "//") != NULL ||
      g_str_has_suffix (ref, ".lock"))
    goto bad;
  for (i = 0; i < len; i++)
    if (!g_ascii_isalnum (ref[i]) && strchr ("._-/", ref[i]) == NULL)
      goto bad;
  return TRUE;

bad:
  g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
               "list URL \"%s\" names the branch \"%s\", which is not a valid branch name",
               url, ref);
  return FALSE;
}

gboolean
_cb_list_source_parse_ref_query (GUri        *uri,
                                 const char  *url,
                                 char       **ref,
                                 GError     **error)
{
  g_autoptr(GHashTable) params = NULL;
  const char *query = g_uri_get_query (uri);
  const char *value;

  *ref = NULL;
  if (query == NULL)
    return TRUE;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  value = params ? g_hash_table_lookup (params, "ref") : NULL;
  if (value == NULL || g_hash_table_size (params) != 1)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" has the query \"%s\"; only \"?ref=BRANCH\" is understood",
                   url, query);
      return FALSE;
    }
  if (!_cb_list_source_check_ref (value, url, error))
    return FALSE;
  *ref = g_strdup (value);
  return TRUE;
}

/* Bounds nesting before json-glib (which recurses) sees the bytes. */
static gboolean
json_depth_ok (const char *text,
               gsize       len)
{
  gboolean in_string = FALSE;
  guint depth = 0;
  gsize i;

  for (i = 0; i < len; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > MAX_RESPONSE_DEPTH)
            return FALSE;
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

JsonObject *
_cb_list_source_parse_json_object (GBytes *bytes)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *text = g_bytes_get_data (bytes, &len);
  JsonNode *root;

  if (text == NULL || len == 0 || !g_utf8_validate (text, (gssize) len, NULL) ||
      !json_depth_ok (text, len) ||
      !json_parser_load_from_data (parser, text, (gssize) len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

const char *
_cb_list_source_json_string (JsonObject *obj,
                             const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

CbListWriteRequest *
_cb_list_write_request_new (GBytes     *contents,
                            const char *expected,
                            const char *message)
{
  CbListWriteRequest *request = g_new0 (CbListWriteRequest, 1);

  request->contents = g_bytes_ref (contents);
  request->expected = g_strdup (expected);
  request->message = g_strdup (message);
  return request;
}

void
_cb_list_write_request_free (CbListWriteRequest *request)
{
  g_bytes_unref (request->contents);
  g_free (request->expected);
  g_free (request->message);
  g_free (request);
}

GBytes *
_cb_list_source_finish_read_sha256 (CbListSource  *self,
                                    GAsyncResult  *result,
                                    char         **revision,
                                    GError       **error)
{
  GBytes *bytes;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  bytes = g_task_propagate_pointer (G_TASK (result), error);
  if (bytes != NULL)
    *revision = _cb_list_source_sha256_hex (bytes);
  return bytes;
}
