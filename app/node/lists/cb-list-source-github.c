/* cb-list-source-github.c: a list file in a GitHub repository, through the
 * REST "repository contents" API
 *
 *   GET /repos/{owner}/{repo}/contents/{path}?ref=   -> {"content": base64, "sha": ...}
 *   PUT /repos/{owner}/{repo}/contents/{path}        {"message", "content", "sha", "branch"}
 *
 * The revision is the file's blob sha; GitHub refuses a PUT whose sha is not
 * the current one (409) or that omits it for an existing file (422), which
 * is the compare-and-swap publishers need. */
#define G_LOG_DOMAIN "cb-lists"

#include "cb-list-source-private.h"
#include "cb-node-list.h"

#include <string.h>

#define API_VERSION "2022-11-28"
/* Base64 of the largest list plus GitHub's line breaks and metadata. */
#define MAX_RESPONSE (2 * CB_NODE_LIST_MAX_ENVELOPE + 65536)
#define MAX_ERROR_RESPONSE 65536

#define CB_TYPE_LIST_SOURCE_GITHUB (cb_list_source_github_get_type ())
G_DECLARE_FINAL_TYPE (CbListSourceGithub, cb_list_source_github, CB, LIST_SOURCE_GITHUB,
                      CbListSource)

struct _CbListSourceGithub {
  CbListSource parent_instance;
  char  *owner;
  char  *repo;
  char  *path;
  char  *ref;           /* NULL: the repository's default branch */
  char  *token;
  char  *contents_url;  /* API URL of the file, without ?ref */
  guint  timeout_seconds;
};

G_DEFINE_FINAL_TYPE (CbListSourceGithub, cb_list_source_github, CB_TYPE_LIST_SOURCE)

static SoupMessage *
new_request (CbListSourceGithub *self,
             const char         *method,
             gboolean            with_ref)
{
  g_autofree char *url = NULL;
  g_autofree char *ref = NULL;
  SoupMessage *msg;
  SoupMessageHeaders *headers;

  if (with_ref && self->ref != NULL)
    {
      ref = g_uri_escape_string (self->ref, NULL, FALSE);
      url = g_strconcat (self->contents_url, "?ref=", ref, NULL);
    }
  else
    url = g_strdup (self->contents_url);
  msg = soup_message_new (method, url);
  g_assert (msg != NULL); /* the URL was checked when the source was made */
  headers = soup_message_get_request_headers (msg);
  soup_message_headers_replace (headers, "Accept", "application/vnd.github+json");
  soup_message_headers_replace (headers, "X-GitHub-Api-Version", API_VERSION);
  if (self->token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", self->token, NULL);
      soup_message_headers_replace (headers, "Authorization", auth);
    }
  return msg;
}

/* GitHub's own words from an error body, for our messages. */
static char *
github_message (GBytes *body)
{
  g_autoptr(JsonObject) obj = body ? _cb_list_source_parse_json_object (body) : NULL;
  const char *message;
  char *out;
  char *p;

  if (obj == NULL)
    return g_strdup ("no explanation");
  message = _cb_list_source_json_string (obj, "message");
  if (message == NULL || *message == '\0')
    return g_strdup ("no explanation");
  out = g_utf8_substring (message, 0, MIN (g_utf8_strlen (message, -1), 200));
  for (p = out; *p != '\0'; p++)
    if ((guchar) *p < 0x20)
      *p = ' ';
  return out;
}

static char *
describe (CbListSourceGithub *self)
{
  return g_strdup_printf ("%s in github.com/%s/%s%s%s", self->path, self->owner, self->repo,
                          self->ref ? " on branch " : "", self->ref ? self->ref : "");
}

static void
return_http_error (GTask              *task,
                   CbListSourceGithub *self,
                   guint               status,
                   GBytes             *body)
{
  g_autofree char *said = github_message (body);
  g_autofree char *what = describe (self);

  if (status == SOUP_STATUS_UNAUTHORIZED)
    g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_AUTH,
                             "GitHub refused the token for %s (HTTP 401: %s); check the "
                             "GitHub token in the cloud settings", what, said);
  else
    g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                             "GitHub answered HTTP %u for %s: %s", status, what, said);
}

/* ---- read -------------------------------------------------------------- */

typedef struct {
  GBytes *contents;
  char   *sha;
} ReadResult;

static void
read_result_free (ReadResult *r)
{
  g_bytes_unref (r->contents);
  g_free (r->sha);
  g_free (r);
}

static gboolean
is_hex (const char *s,
        gsize       n)
{
  gsize i;

  if (strlen (s) != n)
    return FALSE;
  for (i = 0; i < n; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* The checked reading of GitHub's file object. */
static ReadResult *
parse_file_object (CbListSourceGithub  *self,
                   GBytes              *body,
                   GError             **error)
{
  g_autoptr(JsonObject) obj = _cb_list_source_parse_json_object (body);
  g_autofree char *what = describe (self);
  g_autoptr(GString) b64 = NULL;
  const char *type, *encoding, *content, *sha, *p;
  g_autofree guchar *decoded = NULL;
  gsize decoded_len = 0;
  ReadResult *r;

  if (obj == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "GitHub's answer for %s is not a file object (is the path a directory?)",
                   what);
      return NULL;
    }
  type = _cb_list_source_json_string (obj, "type");
  encoding = _cb_list_source_json_string (obj, "encoding");
  content = _cb_list_source_json_string (obj, "content");
  sha = _cb_list_source_json_string (obj, "sha");
  if (type == NULL)
    type = "";
  if (encoding == NULL)
    encoding = "";
  if (sha == NULL)
    sha = "";
  if (strcmp (type, "file") != 0)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "%s is a %s on GitHub, not a file", what, *type ? type : "thing");
      return NULL;
    }
  if (strcmp (encoding, "none") == 0)
    {
      /* GitHub leaves content out for files over 1 MB. */
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE,
                   "%s is too large for a list file", what);
      return NULL;
    }
  if (strcmp (encoding, "base64") != 0 || content == NULL || !is_hex (sha, 40))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "GitHub's answer for %s lacks base64 content or a sha", what);
      return NULL;
    }

  /* g_base64_decode() skips stray characters; check them ourselves. */
  b64 = g_string_sized_new (strlen (content));
  for (p = content; *p != '\0'; p++)
    {
      if (*p == '\n' || *p == '\r')
        continue;
      if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
        {
          g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                       "GitHub's answer for %s has content that is not base64", what);
          return NULL;
        }
      g_string_append_c (b64, *p);
    }
  if (b64->len % 4 != 0)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "GitHub's answer for %s has truncated base64 content", what);
      return NULL;
    }
  if (b64->len / 4 * 3 > CB_NODE_LIST_MAX_ENVELOPE + 2)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE,
                   "%s is larger than %d bytes, the most a list file may be",
                   what, CB_NODE_LIST_MAX_ENVELOPE);
      return NULL;
    }
  decoded = b64->len > 0 ? g_base64_decode (b64->str, &decoded_len) : NULL;
  if (decoded_len > CB_NODE_LIST_MAX_ENVELOPE)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE,
                   "%s is larger than %d bytes, the most a list file may be",
                   what, CB_NODE_LIST_MAX_ENVELOPE);
      return NULL;
    }

  r = g_new0 (ReadResult, 1);
  r->contents = g_bytes_new_take (g_steal_pointer (&decoded), decoded_len);
  r->sha = g_ascii_strdown (sha, -1);
  return r;
}

static void
on_get_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CbListSourceGithub *self = g_task_get_source_object (task);
  GError *error = NULL;
  guint status = 0;
  g_autoptr(GBytes) body = _cb_list_source_http_send_finish (result, &status, &error);
  ReadResult *r;

  if (body == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (status == SOUP_STATUS_NOT_FOUND)
    {
      g_autofree char *what = describe (self);

      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND,
                               "GitHub has no %s (or the repository is private and the "
                               "token cannot read it)", what);
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      return_http_error (task, self, status, body);
      return;
    }
  r = parse_file_object (self, body, &error);
  if (r == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, r, (GDestroyNotify) read_result_free);
}

static void
cb_list_source_github_read_async (CbListSource        *source,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  CbListSourceGithub *self = CB_LIST_SOURCE_GITHUB (source);
  g_autoptr(GTask) task = g_task_new (source, cancellable, callback, user_data);
  g_autoptr(SoupMessage) msg = new_request (self, SOUP_METHOD_GET, TRUE);

  g_task_set_source_tag (task, cb_list_source_github_read_async);
  _cb_list_source_http_send_async (msg, MAX_RESPONSE, self->timeout_seconds, cancellable,
                                   on_get_done, g_steal_pointer (&task));
}

static GBytes *
cb_list_source_github_read_finish (CbListSource  *source,
                                   GAsyncResult  *result,
                                   char         **revision,
                                   GError       **error)
{
  ReadResult *r;
  GBytes *bytes;

  g_return_val_if_fail (g_task_is_valid (result, source), NULL);
  r = g_task_propagate_pointer (G_TASK (result), error);
  if (r == NULL)
    return NULL;
  bytes = g_steal_pointer (&r->contents);
  *revision = g_steal_pointer (&r->sha);
  read_result_free (r);
  return bytes;
}

/* ---- write ------------------------------------------------------------- */

static void
on_put_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CbListSourceGithub *self = g_task_get_source_object (task);
  const char *expected = g_task_get_task_data (task);
  GError *error = NULL;
  guint status = 0;
  g_autoptr(GBytes) body = _cb_list_source_http_send_finish (result, &status, &error);
  g_autofree char *what = describe (self);

  if (body == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (status == SOUP_STATUS_OK || status == SOUP_STATUS_CREATED)
    g_task_return_boolean (task, TRUE);
  else if (status == SOUP_STATUS_CONFLICT ||
           (status == SOUP_STATUS_UNPROCESSABLE_ENTITY && expected == NULL))
    {
      /* 409: the sha is not the current one; 422 without a sha: the file
       * appeared since we found none. */
      g_autofree char *said = github_message (body);

      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT,
                               "%s changed since it was read (GitHub: %s)", what, said);
    }
  else if (status == SOUP_STATUS_NOT_FOUND || status == SOUP_STATUS_FORBIDDEN)
    {
      g_autofree char *said = github_message (body);

      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_WRITABLE,
                               "GitHub does not let this token write %s (HTTP %u: %s); the "
                               "token needs contents:write on the repository",
                               what, status, said);
    }
  else
    return_http_error (task, self, status, body);
}

static void
cb_list_source_github_write_async (CbListSource        *source,
                                   GBytes              *contents,
                                   const char          *expected_revision,
                                   const char          *message,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  CbListSourceGithub *self = CB_LIST_SOURCE_GITHUB (source);
  g_autoptr(GTask) task = g_task_new (source, cancellable, callback, user_data);
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonGenerator) gen = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) request = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  const guint8 *data;

  g_task_set_source_tag (task, cb_list_source_github_write_async);
  g_task_set_task_data (task, g_strdup (expected_revision), g_free);
  if (self->token == NULL)
    {
      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_WRITABLE,
                               "writing %s needs a GitHub token with contents:write permission",
                               cb_list_source_get_url (source));
      return;
    }
  if (g_bytes_get_size (contents) > CB_NODE_LIST_MAX_ENVELOPE)
    {
      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE,
                               "refusing to write %" G_GSIZE_FORMAT " bytes to %s; a list "
                               "file is at most %d bytes", g_bytes_get_size (contents),
                               cb_list_source_get_url (source), CB_NODE_LIST_MAX_ENVELOPE);
      return;
    }

  data = g_bytes_get_data (contents, &len);
  b64 = g_base64_encode (data, len);
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, b64);
  if (expected_revision != NULL)
    {
      json_builder_set_member_name (b, "sha");
      json_builder_add_string_value (b, expected_revision);
    }
  if (self->ref != NULL)
    {
      json_builder_set_member_name (b, "branch");
      json_builder_add_string_value (b, self->ref);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  request = g_bytes_new_take (g_steal_pointer (&text), len);

  msg = new_request (self, SOUP_METHOD_PUT, FALSE);
  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  _cb_list_source_http_send_async (msg, MAX_ERROR_RESPONSE, self->timeout_seconds,
                                   cancellable, on_put_done, g_steal_pointer (&task));
}

static gboolean
cb_list_source_github_is_writable (CbListSource *source)
{
  return CB_LIST_SOURCE_GITHUB (source)->token != NULL;
}

static void
cb_list_source_github_finalize (GObject *object)
{
  CbListSourceGithub *self = CB_LIST_SOURCE_GITHUB (object);

  g_free (self->owner);
  g_free (self->repo);
  g_free (self->path);
  g_free (self->ref);
  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->contents_url);
  G_OBJECT_CLASS (cb_list_source_github_parent_class)->finalize (object);
}

static void
cb_list_source_github_class_init (CbListSourceGithubClass *klass)
{
  CbListSourceClass *source_class = CB_LIST_SOURCE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = cb_list_source_github_finalize;
  source_class->is_writable = cb_list_source_github_is_writable;
  source_class->read_async = cb_list_source_github_read_async;
  source_class->read_finish = cb_list_source_github_read_finish;
  source_class->write_async = cb_list_source_github_write_async;
}

static void
cb_list_source_github_init (CbListSourceGithub *self)
{
}

/* GitHub account and repository names: letters, digits, "-", "_", ".". */
static gboolean
is_github_name (const char *s)
{
  gsize i, len = s ? strlen (s) : 0;

  if (len == 0 || len > 100 || strcmp (s, ".") == 0 || strcmp (s, "..") == 0)
    return FALSE;
  for (i = 0; i < len; i++)
    if (!g_ascii_isalnum (s[i]) && strchr ("-_.", s[i]) == NULL)
      return FALSE;
  return TRUE;
}

CbListSource *
_cb_list_source_github_new (GUri                       *uri,
                            const char                 *url,
                            const CbListSourceOptions  *options,
                            GError                    **error)
{
  g_autoptr(CbListSourceGithub) self = NULL;
  g_autofree char *escaped_path = NULL;
  g_autofree char *ref = NULL;
  g_autofree char *base = NULL;
  g_autoptr(SoupMessage) probe = NULL;
  const char *owner = g_uri_get_host (uri);
  const char *path = g_uri_get_path (uri);
  const char *slash, *api_base;

  slash = (path != NULL && path[0] == '/') ? strchr (path + 1, '/') : NULL;
  if (!is_github_name (owner) || slash == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" should look like github://OWNER/REPO/PATH/nodes.json", url);
      return NULL;
    }
  if (g_uri_get_port (uri) != -1 || g_uri_get_userinfo (uri) != NULL ||
      g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" has parts a github:// URL does not take "
                   "(a port, a user or a #fragment)", url);
      return NULL;
    }
  if (!_cb_list_source_parse_ref_query (uri, url, &ref, error))
    return NULL;

  self = g_object_new (CB_TYPE_LIST_SOURCE_GITHUB, NULL);
  _cb_list_source_set_url (CB_LIST_SOURCE (self), url);
  self->owner = g_strdup (owner);
  self->repo = g_strndup (path + 1, (gsize) (slash - path - 1));
  self->path = g_strdup (slash + 1);
  self->ref = g_steal_pointer (&ref);
  if (!is_github_name (self->repo))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" names the repository \"%s\", which is not a GitHub "
                   "repository name", url, self->repo);
      return NULL;
    }
  if (!_cb_list_source_check_repo_path (self->path, url, error))
    return NULL;

  api_base = options->github_api_base ? options->github_api_base : CB_LIST_SOURCE_GITHUB_API;
  base = g_strdup (api_base);
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  escaped_path = g_uri_escape_string (self->path, "/", FALSE);
  self->contents_url = g_strdup_printf ("%s/repos/%s/%s/contents/%s", base,
                                        self->owner, self->repo, escaped_path);
  probe = soup_message_new (SOUP_METHOD_GET, self->contents_url);
  if (probe == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "the GitHub API address \"%s\" is not an http(s) URL", api_base);
      return NULL;
    }
  if (options->github_token != NULL && *options->github_token != '\0')
    {
      if (strpbrk (options->github_token, "\r\n ") != NULL)
        {
          g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                       "the GitHub token contains spaces or line breaks");
          return NULL;
        }
      self->token = g_strdup (options->github_token);
    }
  self->timeout_seconds = options->timeout_seconds ? options->timeout_seconds
                                                   : CB_LIST_SOURCE_DEFAULT_TIMEOUT;
  return CB_LIST_SOURCE (g_steal_pointer (&self));
}
