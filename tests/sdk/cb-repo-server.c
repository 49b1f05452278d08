/* cb-repo-server.c: static repositories, a GitHub Pages stand-in and two
 * hostile behaviours on one libsoup server */
#include "cb-repo-server.h"

#include <string.h>

struct _CbRepoServer {
  SoupServer *soup;
  guint16     port;
  GHashTable *dirs;      /* "NAME" -> dir */
  GHashTable *pages;     /* "org" or "org/repo" -> dir */
  GHashTable *endless;   /* path set */
  GHashTable *drip;      /* path -> interval ms */
  GHashTable *throttle;  /* path -> guint[2]: bytes per tick, interval ms */
  GHashTable *hits;      /* path -> count */
  GPtrArray  *streams;   /* Stream* still going */
};

typedef struct {
  CbRepoServer      *server;
  SoupServerMessage *msg;
  guint              source;
  gboolean           done;
  GBytes            *data;     /* throttled: the file, sent chunk by chunk */
  gsize              offset;
  guint              chunk;
} Stream;

static char *
test_file (const char *name)
{
  const char *data = g_getenv ("CB_TEST_SDK_DATA");
  g_autofree char *path = data != NULL ? g_build_filename (data, name, NULL)
                                       : g_build_filename (g_getenv ("G_TEST_SRCDIR"), "sdk",
                                                           "data", name, NULL);

  /* GTlsFileDatabase takes absolute paths only. */
  return g_canonicalize_filename (path, NULL);
}

GTlsDatabase *
cb_repo_server_tls_database (GError **error)
{
  g_autofree char *cert = test_file ("repo-cert.pem");

  return g_tls_file_database_new (cert, error);
}

static void
serve_file (SoupServerMessage *msg, const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *index = g_build_filename (path, "index.html", NULL);
      serve_file (msg, index);
      return;
    }
  if (!g_file_get_contents (path, &contents, &len, NULL))
    {
      /* What GitHub Pages answers for a missing file. */
      static const char page[] = "<!DOCTYPE html><title>Page not found · GitHub Pages</title>"
                                 "<h1>404</h1><p>File not found</p>";
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, page, strlen (page));
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&contents), len);
}

static gboolean
path_safe (const char *path)
{
  return strstr (path, "..") == NULL && strstr (path, "//") == NULL;
}

static void
stream_stop (Stream *stream)
{
  stream->done = TRUE;
  g_clear_handle_id (&stream->source, g_source_remove);
}

static void
on_stream_finished (SoupServerMessage *msg, gpointer user_data)
{
  stream_stop (user_data);
}

/* Endless: another 64 KiB whenever the last chunk went out. */
static void
on_wrote_chunk (SoupServerMessage *msg, gpointer user_data)
{
  Stream *stream = user_data;
  static guint8 block[65536];

  if (stream->done)
    return;
  soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_STATIC,
                            block, sizeof block);
  soup_server_message_unpause (msg);
}

static gboolean
drip_one (gpointer user_data)
{
  Stream *stream = user_data;

  if (stream->done)
    {
      stream->source = 0;
      return G_SOURCE_REMOVE;
    }
  if (stream->data != NULL)
    {
      gsize left = g_bytes_get_size (stream->data) - stream->offset;
      gsize n = MIN (left, stream->chunk);
      SoupMessageBody *body = soup_server_message_get_response_body (stream->msg);

      soup_message_body_append (body, SOUP_MEMORY_COPY,
                                (const guint8 *) g_bytes_get_data (stream->data, NULL) + stream->offset, n);
      stream->offset += n;
      if (stream->offset == g_bytes_get_size (stream->data))
        {
          soup_message_body_complete (body);
          stream->done = TRUE;
          stream->source = 0;
          soup_server_message_unpause (stream->msg);
          return G_SOURCE_REMOVE;
        }
      soup_server_message_unpause (stream->msg);
      return G_SOURCE_CONTINUE;
    }
  soup_message_body_append (soup_server_message_get_response_body (stream->msg),
                            SOUP_MEMORY_STATIC, "x", 1);
  soup_server_message_unpause (stream->msg);
  return G_SOURCE_CONTINUE;
}

static void
stream_free (gpointer data)
{
  Stream *stream = data;

  g_clear_pointer (&stream->data, g_bytes_unref);
  g_free (stream);
}

static Stream *
start_stream (CbRepoServer *self, SoupServerMessage *msg, guint drip_ms)
{
  Stream *stream = g_new0 (Stream, 1);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  stream->server = self;
  stream->msg = msg;
  g_ptr_array_add (self->streams, stream);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (headers, "application/octet-stream", NULL);
  g_signal_connect (msg, "finished", G_CALLBACK (on_stream_finished), stream);
  if (drip_ms == 0)
    {
      g_signal_connect (msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), stream);
      on_wrote_chunk (msg, stream);
    }
  else
    stream->source = g_timeout_add (drip_ms, drip_one, stream);
  return stream;
}

static void
handle (SoupServer        *soup,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  CbRepoServer *self = user_data;
  const char *host = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Host");
  g_autofree char *host_name = host != NULL ? g_ascii_strdown (host, strcspn (host, ":")) : g_strdup ("");
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->hits, path));
  gpointer drip;

  g_hash_table_replace (self->hits, g_strdup (path), GUINT_TO_POINTER (count + 1));
  if (!path_safe (path))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
      return;
    }
  if (g_hash_table_contains (self->endless, path))
    {
      start_stream (self, msg, 0);
      return;
    }
  if (g_hash_table_lookup_extended (self->drip, path, NULL, &drip))
    {
      start_stream (self, msg, GPOINTER_TO_UINT (drip));
      return;
    }

  if (g_str_has_suffix (host_name, ".github.io"))
    {
      /* GitHub Pages: ORG.github.io/REPO/... is the REPO project site,
       * anything else the ORG.github.io user site. */
      g_autofree char *org = g_strndup (host_name, strlen (host_name) - strlen (".github.io"));
      const char *rest = path + 1;
      gsize len = strcspn (rest, "/");
      g_autofree char *repo = g_strndup (rest, len);
      g_autofree char *key = g_strdup_printf ("%s/%s", org, repo);
      const char *dir = g_hash_table_lookup (self->pages, key);
      g_autofree char *file = NULL;

      if (dir != NULL)
        {
          if (rest[len] == '\0')
            {
              g_autofree char *location = g_strconcat (path, "/", NULL);
              soup_server_message_set_redirect (msg, SOUP_STATUS_MOVED_PERMANENTLY, location);
              return;
            }
          file = g_build_filename (dir, rest + len, NULL);
        }
      else if ((dir = g_hash_table_lookup (self->pages, org)) != NULL)
        file = g_build_filename (dir, path, NULL);
      else
        file = g_strdup ("/nonexistent");
      serve_file (msg, file);
      return;
    }
  {
    const char *rest = path + 1;
    gsize len = strcspn (rest, "/");
    g_autofree char *name = g_strndup (rest, len);
    const char *dir = g_hash_table_lookup (self->dirs, name);
    g_autofree char *file = dir != NULL ? g_build_filename (dir, rest + len, NULL) : g_strdup ("/nonexistent");
    guint *throttle = g_hash_table_lookup (self->throttle, path);
    g_autofree char *contents = NULL;
    gsize size = 0;

    if (throttle != NULL && g_file_get_contents (file, &contents, &size, NULL))
      {
        /* Sent whole, but slowly: progress can be watched. */
        g_hash_table_insert (self->drip, g_strdup (path), GUINT_TO_POINTER (throttle[1]));
        Stream *stream = start_stream (self, msg, throttle[1]);
        g_hash_table_remove (self->drip, path);
        stream->data = g_bytes_new_take (g_steal_pointer (&contents), size);
        stream->chunk = throttle[0];
        soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg),
                                                 (goffset) size);
        return;
      }
    serve_file (msg, file);
  }
}

CbRepoServer *
cb_repo_server_new (GError **error)
{
  g_autofree char *cert_path = test_file ("repo-cert.pem");
  g_autofree char *key_path = test_file ("repo-key.pem");
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_files (cert_path, key_path, error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = NULL;
  CbRepoServer *self;
  GSList *uris;

  if (cert == NULL)
    return NULL;
  self = g_new0 (CbRepoServer, 1);
  self->soup = soup_server_new ("tls-certificate", cert, NULL);
  self->dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->pages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->endless = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->drip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->hits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->streams = g_ptr_array_new_with_free_func (stream_free);
  self->throttle = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  soup_server_add_handler (self->soup, NULL, handle, self, NULL);
  address = g_inet_socket_address_new (loopback, 0);
  if (!soup_server_listen (self->soup, address, SOUP_SERVER_LISTEN_HTTPS, error))
    {
      cb_repo_server_free (self);
      return NULL;
    }
  uris = soup_server_get_uris (self->soup);
  self->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return self;
}

void
cb_repo_server_stop_streams (CbRepoServer *self)
{
  for (guint i = 0; i < self->streams->len; i++)
    stream_stop (self->streams->pdata[i]);
}

void
cb_repo_server_free (CbRepoServer *self)
{
  if (self == NULL)
    return;
  cb_repo_server_stop_streams (self);
  soup_server_disconnect (self->soup);
  g_object_unref (self->soup);
  g_ptr_array_unref (self->streams);
  g_hash_table_unref (self->dirs);
  g_hash_table_unref (self->pages);
  g_hash_table_unref (self->endless);
  g_hash_table_unref (self->drip);
  g_hash_table_unref (self->throttle);
  g_hash_table_unref (self->hits);
  g_free (self);
}

guint16
cb_repo_server_port (CbRepoServer *self)
{
  return self->port;
}

char *
cb_repo_server_connect_to (CbRepoServer *self)
{
  return g_strdup_printf ("127.0.0.1:%u", self->port);
}

char *
cb_repo_server_add_dir (CbRepoServer *self,
                        const char   *name,
                        const char   *dir)
{
  g_hash_table_replace (self->dirs, g_strdup (name), g_strdup (dir));
  return g_strdup_printf ("https://127.0.0.1:%u/%s/", self->port, name);
}

void
cb_repo_server_add_pages (CbRepoServer *self,
                          const char   *org,
                          const char   *repo,
                          const char   *dir)
{
  g_autofree char *lower = g_ascii_strdown (org, -1);

  g_hash_table_replace (self->pages, repo != NULL ? g_strdup_printf ("%s/%s", lower, repo)
                                                  : g_strdup (lower), g_strdup (dir));
}

void
cb_repo_server_set_endless (CbRepoServer *self,
                            const char   *path)
{
  g_hash_table_add (self->endless, g_strdup (path));
}

void
cb_repo_server_set_drip (CbRepoServer *self,
                         const char   *path,
                         guint         interval_ms)
{
  g_hash_table_replace (self->drip, g_strdup (path), GUINT_TO_POINTER (interval_ms));
}

guint
cb_repo_server_hits (CbRepoServer *self,
                     const char   *path)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->hits, path));
}

void
cb_repo_server_set_throttle (CbRepoServer *self,
                             const char   *path,
                             guint         bytes_per_tick,
                             guint         interval_ms)
{
  guint *throttle = g_new (guint, 2);

  throttle[0] = bytes_per_tick;
  throttle[1] = interval_ms;
  g_hash_table_replace (self->throttle, g_strdup (path), throttle);
}
