/* cb-list-source-private.h: what the list source backends share */
#pragma once

#include "cb-list-source.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define CB_LIST_SOURCE_DEFAULT_TIMEOUT 30
#define CB_LIST_SOURCE_GITHUB_API "https://api.github.com"

/* Backends: each takes the parsed URL; @url is the text the user gave. */
CbListSource *_cb_list_source_file_new   (const char                 *url,
                                          GError                    **error);
CbListSource *_cb_list_source_http_new   (GUri                       *uri,
                                          const char                 *url,
                                          const CbListSourceOptions  *options,
                                          GError                    **error);
CbListSource *_cb_list_source_git_new    (const char                 *url,
                                          const CbListSourceOptions  *options,
                                          GError                    **error);
CbListSource *_cb_list_source_github_new (GUri                       *uri,
                                          const char                 *url,
                                          const CbListSourceOptions  *options,
                                          GError                    **error);

void          _cb_list_source_set_url    (CbListSource               *self,
                                          const char                 *url);

/* What a backend's write thread needs: the task data of every write. */
typedef struct {
  GBytes *contents;
  char   *expected;   /* expected revision, NULL: must not exist yet */
  char   *message;    /* commit message, for backends that keep history */
} CbListWriteRequest;

CbListWriteRequest *_cb_list_write_request_new  (GBytes             *contents,
                                                 const char         *expected,
                                                 const char         *message);
void                _cb_list_write_request_free (CbListWriteRequest *request);

/* read_finish of backends whose revision is the content's SHA-256. */
GBytes       *_cb_list_source_finish_read_sha256 (CbListSource      *self,
                                                  GAsyncResult      *result,
                                                  char             **revision,
                                                  GError           **error);

/* Lowercase hex SHA-256 of @bytes: the revision of plain files. */
char         *_cb_list_source_sha256_hex (GBytes                     *bytes);
/* A path inside a repository: relative, no empty, "." or ".." segments. */
gboolean      _cb_list_source_check_repo_path (const char            *path,
                                               const char            *url,
                                               GError               **error);
gboolean      _cb_list_source_check_ref  (const char                 *ref,
                                          const char                 *url,
                                          GError                    **error);
/* "?ref=BRANCH" or no query at all; *ref is NULL when absent. */
gboolean      _cb_list_source_parse_ref_query (GUri                  *uri,
                                               const char            *url,
                                               char                 **ref,
                                               GError               **error);
/* A JSON object from an untrusted server, nesting and size checked;
 * NULL (without error) when @bytes is not one. */
JsonObject   *_cb_list_source_parse_json_object (GBytes              *bytes);
/* The member's string, or NULL when it is absent or not a string (no
 * warnings: the object came from the network). */
const char   *_cb_list_source_json_string (JsonObject                *obj,
                                           const char                *name);

/* One HTTP exchange on a fresh session: at most @max_body bytes of body,
 * the whole exchange within @timeout_seconds.  Returns the body of any
 * status (the caller interprets it) with the status in *status. */
void          _cb_list_source_http_send_async  (SoupMessage          *msg,
                                                gsize                 max_body,
                                                guint                 timeout_seconds,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
GBytes       *_cb_list_source_http_send_finish (GAsyncResult         *result,
                                                guint                *status,
                                                GError              **error);

G_END_DECLS
