/* cb-github-api-server.c: the GitHub contents API stand-in (see the header) */
#include "cb-github-api-server.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define DOCS_GET "https://docs.github.com/rest/repos/contents#get-repository-content"
#define DOCS_PUT "https://docs.github.com/rest/repos/contents#create-or-update-file-contents"

typedef struct {
  char       *sha;
  char       *message;
  char       *parent;  /* NULL for a root commit */
  char       *tree_sha;
  GHashTable *files;   /* path -> GBytes, the whole tree */
} Commit;

typedef struct {
  char       *owner;
  char       *name;
  char       *default_branch;
  GHashTable *branches; /* name -> GPtrArray of Commit*, oldest first */
} Repo;

struct _CbGithubApiServer {
  SoupServer *server;
  char       *token;
  char       *base_url;
  GHashTable *repos;    /* "owner/name" -> Repo* */
  GHashTable *counts;   /* "METHOD STATUS" -> count */
  guint       serial;
  CbGithubApiServerHook put_hook;
  gpointer    put_hook_data;
};

char *
cb_github_blob_sha (GBytes *contents)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA1);
  g_autofree char *header = g_strdup_printf ("blob %" G_GSIZE_FORMAT, g_bytes_get_size (contents));

  g_checksum_update (sum, (const guchar *) header, (gssize) strlen (header) + 1);
  g_checksum_update (sum, g_bytes_get_data (contents, NULL), (gssize) g_bytes_get_size (contents));
  return g_strdup (g_checksum_get_string (sum));
}

static void
commit_free (Commit *c)
{
  g_free (c->sha);
  g_free (c->message);
  g_free (c->parent);
  g_free (c->tree_sha);
  g_hash_table_unref (c->files);
  g_free (c);
}

static void
repo_free (Repo *r)
{
  g_free (r->owner);
  g_free (r->name);
  g_free (r->default_branch);
  g_hash_table_unref (r->branches);
  g_free (r);
}

static Repo *
find_repo (CbGithubApiServer *self,
           const char        *owner,
           const char        *name)
{
  g_autofree char *key = g_strdup_printf ("%s/%s", owner, name);
  g_autofree char *folded = g_ascii_strdown (key, -1);

  return g_hash_table_lookup (self->repos, folded);
}

static Commit *
branch_tip (Repo       *repo,
            const char *branch)
{
  GPtrArray *history = g_hash_table_lookup (repo->branches,
                                            branch ? branch : repo->default_branch);

  return history && history->len ? g_ptr_array_index (history, history->len - 1) : NULL;
}

static Commit *
add_commit (CbGithubApiServer *self,
            Repo              *repo,
            const char        *branch,
            const char        *path,
            GBytes            *contents,
            const char        *message)
{
  GPtrArray *history = g_hash_table_lookup (repo->branches, branch);
  Commit *parent = history && history->len ? g_ptr_array_index (history, history->len - 1) : NULL;
  Commit *c = g_new0 (Commit, 1);
  g_autofree char *seed = NULL;
  GHashTableIter iter;
  gpointer k, v;

  c->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) g_bytes_unref);
  if (parent != NULL)
    {
      g_hash_table_iter_init (&iter, parent->files);
      while (g_hash_table_iter_next (&iter, &k, &v))
        g_hash_table_insert (c->files, g_strdup (k), g_bytes_ref (v));
    }
  g_hash_table_replace (c->files, g_strdup (path), g_bytes_ref (contents));
  c->message = g_strdup (message);
  c->parent = parent ? g_strdup (parent->sha) : NULL;
  seed = g_strdup_printf ("commit %u %s %s", ++self->serial, c->parent ? c->parent : "", message);
  c->sha = g_compute_checksum_for_string (G_CHECKSUM_SHA1, seed, -1);
  seed[0] = 'T';
  c->tree_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA1, seed, -1);
  if (history == NULL)
    {
      history = g_ptr_array_new_with_free_func ((GDestroyNotify) commit_free);
      g_hash_table_insert (repo->branches, g_strdup (branch), history);
    }
  g_ptr_array_add (history, c);
  return c;
}

/* ---- JSON answers ------------------------------------------------------ */

static void
send_json (CbGithubApiServer *self,
           SoupServerMessage *msg,
           guint              status,
           JsonBuilder       *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *key = g_strdup_printf ("%s %u", soup_server_message_get_method (msg), status);
  gsize len = 0;
  char *text;

  g_hash_table_replace (self->counts, g_steal_pointer (&key),
                        GUINT_TO_POINTER (cb_github_api_server_count (
                          self, soup_server_message_get_method (msg), status) + 1));
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "X-GitHub-Media-Type", "github.v3; format=json");
  soup_server_message_set_response (msg, "application/json; charset=utf-8",
                                    SOUP_MEMORY_TAKE, text, len);
}

static void
send_error (CbGithubApiServer *self,
            SoupServerMessage *msg,
            guint              status,
            const char        *message,
            const char        *docs)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *status_text = g_strdup_printf ("%u", status);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "documentation_url");
  json_builder_add_string_value (b, docs);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, status_text);
  json_builder_end_object (b);
  send_json (self, msg, status, b);
}

static void
add_string (JsonBuilder *b,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

/* GitHub's content object; @with_content adds encoding and content. */
static void
add_file_object (CbGithubApiServer *self,
                 JsonBuilder       *b,
                 Repo              *repo,
                 const char        *branch,
                 const char        *path,
                 GBytes            *contents,
                 gboolean           with_content)
{
  g_autofree char *sha = cb_github_blob_sha (contents);
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *self_url = g_strdup_printf ("%s/repos/%s/%s/contents/%s?ref=%s",
                                               self->base_url, repo->owner, repo->name, path,
                                               branch);
  g_autofree char *git_url = g_strdup_printf ("%s/repos/%s/%s/git/blobs/%s", self->base_url,
                                              repo->owner, repo->name, sha);
  g_autofree char *html_url = g_strdup_printf ("https://github.com/%s/%s/blob/%s/%s",
                                               repo->owner, repo->name, branch, path);
  g_autofree char *download_url = g_strdup_printf (
    "https://raw.githubusercontent.com/%s/%s/%s/%s", repo->owner, repo->name, branch, path);

  json_builder_begin_object (b);
  add_string (b, "type", "file");
  if (with_content)
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (contents, &len);
      g_autofree char *b64 = g_base64_encode (data, len);
      g_autoptr(GString) wrapped = g_string_new (NULL);
      gsize i, n = strlen (b64);

      /* GitHub wraps base64 at 60 columns, each line ending in "\n". */
      for (i = 0; i < n; i += 60)
        {
          g_string_append_len (wrapped, b64 + i, (gssize) MIN (60, n - i));
          g_string_append_c (wrapped, '\n');
        }
      add_string (b, "encoding", "base64");
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) len);
      add_string (b, "name", name);
      add_string (b, "path", path);
      add_string (b, "content", wrapped->str);
    }
  else
    {
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) g_bytes_get_size (contents));
      add_string (b, "name", name);
      add_string (b, "path", path);
    }
  add_string (b, "sha", sha);
  add_string (b, "url", self_url);
  add_string (b, "git_url", git_url);
  add_string (b, "html_url", html_url);
  add_string (b, "download_url", download_url);
  json_builder_set_member_name (b, "_links");
  json_builder_begin_object (b);
  add_string (b, "self", self_url);
  add_string (b, "git", git_url);
  add_string (b, "html", html_url);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

/* ---- requests ---------------------------------------------------------- */

/* NULL: no credentials; "" : wrong ones; else the token. */
static const char *
check_auth (CbGithubApiServer *self,
            SoupServerMessage *msg,
            gboolean          *present)
{
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  const char *given = NULL;

  *present = auth != NULL;
  if (auth == NULL)
    return NULL;
  if (g_str_has_prefix (auth, "Bearer "))
    given = auth + strlen ("Bearer ");
  else if (g_str_has_prefix (auth, "token "))
    given = auth + strlen ("token ");
  return (given != NULL && strcmp (given, self->token) == 0) ? given : "";
}

static void
handle_get (CbGithubApiServer *self,
            SoupServerMessage *msg,
            Repo              *repo,
            const char        *path,
            GHashTable        *query)
{
  const char *ref = query ? g_hash_table_lookup (query, "ref") : NULL;
  const char *branch = ref ? ref : repo->default_branch;
  Commit *tip = branch_tip (repo, branch);
  GBytes *contents;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *dir_prefix = g_strconcat (path, "/", NULL);
  g_autoptr(GList) paths = NULL;
  GList *l;
  gboolean is_dir = FALSE;

  if (tip == NULL)
    {
      if (ref != NULL)
        {
          g_autofree char *m = g_strdup_printf ("No commit found for the ref %s", ref);
          send_error (self, msg, SOUP_STATUS_NOT_FOUND, m, DOCS_GET);
        }
      else
        send_error (self, msg, SOUP_STATUS_NOT_FOUND, "This repository is empty.", DOCS_GET);
      return;
    }
  contents = g_hash_table_lookup (tip->files, path);
  if (contents != NULL)
    {
      add_file_object (self, b, repo, branch, path, contents, TRUE);
      send_json (self, msg, SOUP_STATUS_OK, b);
      return;
    }

  /* A directory: an array of its entries. */
  paths = g_hash_table_get_keys (tip->files);
  paths = g_list_sort (paths, (GCompareFunc) strcmp);
  json_builder_begin_array (b);
  for (l = paths; l != NULL; l = l->next)
    {
      const char *p = l->data;

      if (g_str_has_prefix (p, dir_prefix) && strchr (p + strlen (dir_prefix), '/') == NULL)
        {
          add_file_object (self, b, repo, branch, p, g_hash_table_lookup (tip->files, p), FALSE);
          is_dir = TRUE;
        }
    }
  json_builder_end_array (b);
  if (is_dir)
    send_json (self, msg, SOUP_STATUS_OK, b);
  else
    send_error (self, msg, SOUP_STATUS_NOT_FOUND, "Not Found", DOCS_GET);
}

static const char *
member_string (JsonObject *obj,
               const char *name,
               gboolean   *wrong_type)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      *wrong_type = TRUE;
      return NULL;
    }
  return json_node_get_string (node);
}

static gboolean
is_strict_base64 (const char *s)
{
  gsize i, n = strlen (s);

  if (n % 4 != 0)
    return FALSE;
  for (i = 0; i < n; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '+' && s[i] != '/' && !(s[i] == '=' && i >= n - 2))
      return FALSE;
  return TRUE;
}

static void
handle_put (CbGithubApiServer *self,
            SoupServerMessage *msg,
            Repo              *repo,
            const char        *path)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) flat = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GBytes) contents = NULL;
  const char *message, *content, *sha, *branch;
  gboolean wrong_type = FALSE, created;
  g_autofree guchar *decoded = NULL;
  gsize decoded_len = 0;
  JsonObject *obj;
  GBytes *current;
  Commit *tip, *c;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (flat, NULL),
                                   (gssize) g_bytes_get_size (flat), NULL) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      send_error (self, msg, SOUP_STATUS_BAD_REQUEST, "Problems parsing JSON", DOCS_PUT);
      return;
    }
  obj = json_node_get_object (json_parser_get_root (parser));
  message = member_string (obj, "message", &wrong_type);
  content = member_string (obj, "content", &wrong_type);
  sha = member_string (obj, "sha", &wrong_type);
  branch = member_string (obj, "branch", &wrong_type);
  if (wrong_type)
    {
      send_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                  "Invalid request.\n\nFor 'properties', a member is not of type string.",
                  DOCS_PUT);
      return;
    }
  if (message == NULL || content == NULL)
    {
      g_autofree char *m = g_strdup_printf ("Invalid request.\n\n\"%s\" wasn't supplied.",
                                            message == NULL ? "message" : "content");
      send_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, m, DOCS_PUT);
      return;
    }
  if (!is_strict_base64 (content))
    {
      send_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "content is not valid Base64",
                  DOCS_PUT);
      return;
    }
  if (*content != '\0')
    decoded = g_base64_decode (content, &decoded_len);
  contents = g_bytes_new (decoded, decoded_len);

  if (branch == NULL)
    branch = repo->default_branch;
  tip = branch_tip (repo, branch);
  if (tip == NULL && g_hash_table_size (repo->branches) > 0)
    {
      g_autofree char *m = g_strdup_printf ("Branch %s not found", branch);
      send_error (self, msg, SOUP_STATUS_NOT_FOUND, m, DOCS_PUT);
      return;
    }

  current = tip ? g_hash_table_lookup (tip->files, path) : NULL;
  if (current != NULL && sha == NULL)
    {
      send_error (self, msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
                  "Invalid request.\n\n\"sha\" wasn't supplied.", DOCS_PUT);
      return;
    }
  if (sha != NULL)
    {
      g_autofree char *current_sha = current ? cb_github_blob_sha (current) : NULL;

      if (g_strcmp0 (current_sha, sha) != 0)
        {
          g_autofree char *m = g_strdup_printf ("%s does not match %s", path, sha);
          send_error (self, msg, SOUP_STATUS_CONFLICT, m, DOCS_PUT);
          return;
        }
    }

  created = current == NULL;
  c = add_commit (self, repo, branch, path, contents, message);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "content");
  add_file_object (self, b, repo, branch, path, contents, FALSE);
  json_builder_set_member_name (b, "commit");
  json_builder_begin_object (b);
  {
    g_autofree char *url = g_strdup_printf ("%s/repos/%s/%s/git/commits/%s", self->base_url,
                                            repo->owner, repo->name, c->sha);
    g_autofree char *html = g_strdup_printf ("https://github.com/%s/%s/commit/%s",
                                             repo->owner, repo->name, c->sha);
    g_autofree char *tree_url = g_strdup_printf ("%s/repos/%s/%s/git/trees/%s", self->base_url,
                                                 repo->owner, repo->name, c->tree_sha);
    g_autofree char *node_id = g_strdup_printf ("C_%.20s", c->sha);
    const char *who[] = { "author", "committer" };
    guint i;

    add_string (b, "sha", c->sha);
    add_string (b, "node_id", node_id);
    add_string (b, "url", url);
    add_string (b, "html_url", html);
    for (i = 0; i < G_N_ELEMENTS (who); i++)
      {
        json_builder_set_member_name (b, who[i]);
        json_builder_begin_object (b);
        add_string (b, "name", "Test Publisher");
        add_string (b, "email", "publisher@example.org");
        add_string (b, "date", "2026-11-22T10:00:00Z");
        json_builder_end_object (b);
      }
    add_string (b, "message", message);
    json_builder_set_member_name (b, "tree");
    json_builder_begin_object (b);
    add_string (b, "url", tree_url);
    add_string (b, "sha", c->tree_sha);
    json_builder_end_object (b);
    json_builder_set_member_name (b, "parents");
    json_builder_begin_array (b);
    if (c->parent != NULL)
      {
        g_autofree char *purl = g_strdup_printf ("%s/repos/%s/%s/git/commits/%s", self->base_url,
                                                 repo->owner, repo->name, c->parent);
        g_autofree char *phtml = g_strdup_printf ("https://github.com/%s/%s/commit/%s",
                                                  repo->owner, repo->name, c->parent);
        json_builder_begin_object (b);
        add_string (b, "url", purl);
        add_string (b, "html_url", phtml);
        add_string (b, "sha", c->parent);
        json_builder_end_object (b);
      }
    json_builder_end_array (b);
    json_builder_set_member_name (b, "verification");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "verified");
    json_builder_add_boolean_value (b, FALSE);
    add_string (b, "reason", "unsigned");
    json_builder_set_member_name (b, "signature");
    json_builder_add_null_value (b);
    json_builder_set_member_name (b, "payload");
    json_builder_add_null_value (b);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
  send_json (self, msg, created ? SOUP_STATUS_CREATED : SOUP_STATUS_OK, b);
}

static void
handle (SoupServer        *server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  CbGithubApiServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *given;
  gboolean has_auth;
  g_auto(GStrv) parts = g_strsplit (path, "/", 6);
  g_autofree char *owner = NULL;
  g_autofree char *name = NULL;
  g_autofree char *file = NULL;
  Repo *repo;

  given = check_auth (self, msg, &has_auth);
  if (has_auth && *given == '\0')
    {
      send_error (self, msg, SOUP_STATUS_UNAUTHORIZED, "Bad credentials",
                  "https://docs.github.com/rest");
      return;
    }
  /* "", "repos", owner, repo, "contents", path */
  if (g_strv_length (parts) != 6 || strcmp (parts[1], "repos") != 0 ||
      strcmp (parts[4], "contents") != 0)
    {
      send_error (self, msg, SOUP_STATUS_NOT_FOUND, "Not Found", "https://docs.github.com/rest");
      return;
    }
  owner = g_uri_unescape_string (parts[2], NULL);
  name = g_uri_unescape_string (parts[3], NULL);
  file = g_uri_unescape_string (parts[5], NULL);
  repo = owner && name ? find_repo (self, owner, name) : NULL;

  if (strcmp (method, SOUP_METHOD_PUT) == 0 && !has_auth)
    {
      send_error (self, msg, SOUP_STATUS_UNAUTHORIZED, "Requires authentication", DOCS_PUT);
      return;
    }
  if (repo == NULL || file == NULL || *file == '\0')
    {
      send_error (self, msg, SOUP_STATUS_NOT_FOUND, "Not Found",
                  strcmp (method, SOUP_METHOD_PUT) == 0 ? DOCS_PUT : DOCS_GET);
      return;
    }
  if (strcmp (method, SOUP_METHOD_PUT) == 0 && self->put_hook != NULL)
    self->put_hook (self, self->put_hook_data);
  if (strcmp (method, SOUP_METHOD_GET) == 0)
    handle_get (self, msg, repo, file, query);
  else if (strcmp (method, SOUP_METHOD_PUT) == 0)
    handle_put (self, msg, repo, file);
  else
    send_error (self, msg, SOUP_STATUS_NOT_FOUND, "Not Found", "https://docs.github.com/rest");
}

/* ---- public ------------------------------------------------------------ */

CbGithubApiServer *
cb_github_api_server_new (const char  *token,
                          GError     **error)
{
  g_autoptr(CbGithubApiServer) self = g_new0 (CbGithubApiServer, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (loopback, 0);
  GSList *uris;

  self->token = g_strdup (token);
  self->repos = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) repo_free);
  self->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->server = soup_server_new ("server-header", "GitHub.com", NULL);
  soup_server_add_handler (self->server, "/", handle, self, NULL);
  if (!soup_server_listen (self->server, addr, 0, error))
    return NULL;
  uris = soup_server_get_uris (self->server);
  self->base_url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return g_steal_pointer (&self);
}

void
cb_github_api_server_free (CbGithubApiServer *self)
{
  if (self == NULL)
    return;
  if (self->server != NULL)
    {
      soup_server_disconnect (self->server);
      g_object_unref (self->server);
    }
  g_free (self->token);
  g_free (self->base_url);
  g_hash_table_unref (self->repos);
  g_hash_table_unref (self->counts);
  g_free (self);
}

char *
cb_github_api_server_base_url (CbGithubApiServer *self)
{
  return g_strdup (self->base_url);
}

void
cb_github_api_server_add_repo (CbGithubApiServer *self,
                               const char        *owner,
                               const char        *name,
                               const char        *default_branch)
{
  Repo *repo = g_new0 (Repo, 1);
  g_autofree char *key = g_strdup_printf ("%s/%s", owner, name);

  repo->owner = g_strdup (owner);
  repo->name = g_strdup (name);
  repo->default_branch = g_strdup (default_branch);
  repo->branches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_ptr_array_unref);
  g_hash_table_replace (self->repos, g_ascii_strdown (key, -1), repo);
}

void
cb_github_api_server_commit (CbGithubApiServer *self,
                             const char        *owner,
                             const char        *name,
                             const char        *branch,
                             const char        *path,
                             GBytes            *contents,
                             const char        *message)
{
  Repo *repo = find_repo (self, owner, name);

  g_return_if_fail (repo != NULL);
  add_commit (self, repo, branch ? branch : repo->default_branch, path, contents, message);
}

GBytes *
cb_github_api_server_get_file (CbGithubApiServer *self,
                               const char        *owner,
                               const char        *name,
                               const char        *branch,
                               const char        *path)
{
  Repo *repo = find_repo (self, owner, name);
  Commit *tip = repo ? branch_tip (repo, branch) : NULL;
  GBytes *contents = tip ? g_hash_table_lookup (tip->files, path) : NULL;

  return contents ? g_bytes_ref (contents) : NULL;
}

GStrv
cb_github_api_server_get_log (CbGithubApiServer *self,
                              const char        *owner,
                              const char        *name,
                              const char        *branch)
{
  Repo *repo = find_repo (self, owner, name);
  GPtrArray *history = repo ? g_hash_table_lookup (repo->branches,
                                                   branch ? branch : repo->default_branch)
                            : NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  guint i;

  for (i = history ? history->len : 0; i > 0; i--)
    g_strv_builder_add (builder, ((Commit *) g_ptr_array_index (history, i - 1))->message);
  return g_strv_builder_end (builder);
}

guint
cb_github_api_server_count (CbGithubApiServer *self,
                            const char        *method,
                            guint              status)
{
  g_autofree char *key = g_strdup_printf ("%s %u", method, status);

  return GPOINTER_TO_UINT (g_hash_table_lookup (self->counts, key));
}

void
cb_github_api_server_set_put_hook (CbGithubApiServer     *self,
                                   CbGithubApiServerHook  hook,
                                   gpointer               user_data)
{
  self->put_hook = hook;
  self->put_hook_data = user_data;
}
