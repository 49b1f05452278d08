/* cb-list-source.h: a place on a public domain that holds one list file
 *
 * URL forms:
 *   file:///path/nodes.json                     read + write (atomic rename under a lock)
 *   https://host/path/nodes.json                read only (http:// only for loopback hosts)
 *   git+https://host/org/repo.git#path/nodes.json  read by fetch, write by commit + push
 *   git+file:///srv/repo.git#nodes.json         (also git+http://, git+ssh://;
 *                                                "?ref=BRANCH" picks a branch)
 *   github://OWNER/REPO/path/nodes.json[?ref=BRANCH]  GitHub REST contents API
 *
 * Every write is a compare-and-swap: it names the revision it read (from
 * cb_list_source_read_finish()) and fails with CB_LIST_SOURCE_ERROR_CONFLICT
 * when someone else wrote first; the caller re-reads, merges and retries
 * (cb_list_publish_async() does all of that). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CB_LIST_SOURCE_ERROR (cb_list_source_error_quark ())

typedef enum {
  CB_LIST_SOURCE_ERROR_INVALID_URL,
  CB_LIST_SOURCE_ERROR_NOT_FOUND,     /* the source has no list file (yet) */
  CB_LIST_SOURCE_ERROR_NOT_WRITABLE,
  CB_LIST_SOURCE_ERROR_CONFLICT,      /* the file changed since it was read */
  CB_LIST_SOURCE_ERROR_TOO_LARGE,
  CB_LIST_SOURCE_ERROR_TIMED_OUT,
  CB_LIST_SOURCE_ERROR_AUTH,          /* the server refused our credentials */
  CB_LIST_SOURCE_ERROR_FAILED,
} CbListSourceError;

typedef struct {
  /* Where git sources keep their fetched copies; NULL: the user cache dir. */
  const char *cache_dir;
  /* Needed to write github:// sources; sent on reads too when set. */
  const char *github_token;
  /* NULL: https://api.github.com (tests point it at a local stand-in). */
  const char *github_api_base;
  /* Whole-request deadline for http(s) and GitHub requests; 0: 30 s. */
  guint       timeout_seconds;
  /* Largest file read or written; 0: CB_NODE_LIST_MAX_ENVELOPE (lists).
   * Backups set more. */
  gsize       max_bytes;
} CbListSourceOptions;

#define CB_TYPE_LIST_SOURCE (cb_list_source_get_type ())
G_DECLARE_DERIVABLE_TYPE (CbListSource, cb_list_source, CB, LIST_SOURCE, GObject)

struct _CbListSourceClass {
  GObjectClass parent_class;

  gboolean (*is_writable) (CbListSource        *self);
  void     (*read_async)  (CbListSource        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data);
  GBytes  *(*read_finish) (CbListSource        *self,
                           GAsyncResult        *result,
                           char               **revision,
                           GError             **error);
  void     (*write_async) (CbListSource        *self,
                           GBytes              *contents,
                           const char          *expected_revision,
                           const char          *message,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data);
  /* Every backend completes writes through a GTask returning a boolean,
   * so write_finish is the base class's own. */
};

GQuark        cb_list_source_error_quark (void);

/* Parses @url and picks the backend; @options may be NULL. */
CbListSource *cb_list_source_new         (const char                 *url,
                                          const CbListSourceOptions  *options,
                                          GError                    **error);
const char   *cb_list_source_get_url     (CbListSource               *self);
gboolean      cb_list_source_is_writable (CbListSource               *self);

/* The largest file this source reads or writes. */
gsize         cb_list_source_get_max_bytes (CbListSource             *self);

/* Reads the list file (at most the source's max_bytes).  A missing
 * file is CB_LIST_SOURCE_ERROR_NOT_FOUND; in that case too @revision is set
 * to what a write that creates the file must name (NULL for most backends,
 * the branch's commit for a git repository without the file). */
void          cb_list_source_read_async  (CbListSource               *self,
                                          GCancellable               *cancellable,
                                          GAsyncReadyCallback         callback,
                                          gpointer                    user_data);
GBytes       *cb_list_source_read_finish (CbListSource               *self,
                                          GAsyncResult               *result,
                                          char                      **revision,
                                          GError                    **error);

/* Replaces the file if it is still at @expected_revision (NULL: only if
 * there is none).  @message is the commit message where there is one. */
void          cb_list_source_write_async (CbListSource               *self,
                                          GBytes                     *contents,
                                          const char                 *expected_revision,
                                          const char                 *message,
                                          GCancellable               *cancellable,
                                          GAsyncReadyCallback         callback,
                                          gpointer                    user_data);
gboolean      cb_list_source_write_finish (CbListSource              *self,
                                           GAsyncResult              *result,
                                           GError                   **error);

G_END_DECLS
