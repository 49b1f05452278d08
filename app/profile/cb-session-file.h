/* cb-session-file.h: the windows and tabs to open again
 *
 * A small JSON file, rewritten (atomically) whenever the open tabs change,
 * so that after a crash the last state is at most a moment old.  Each tab
 * keeps its back/forward history as WebKit's own serialized session state
 * (opaque bytes, base64 in the file).  Reading it is a checked decoder: a
 * damaged file is refused with a message and set aside, never half used. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CB_SESSION_MAX_WINDOWS 64
#define CB_SESSION_MAX_TABS 1000          /* per window */
#define CB_SESSION_MAX_STATE (1024 * 1024) /* bytes of one tab's history */
#define CB_SESSION_MAX_BYTES (64 * 1024 * 1024)

typedef struct {
  char   *uri;
  char   *title;
  GBytes *state;       /* WebKit's session state; may be NULL */
} CbSessionTab;

typedef struct {
  GPtrArray *tabs;     /* CbSessionTab* */
  guint      selected;
} CbSessionWindow;

typedef struct {
  GPtrArray *windows;  /* CbSessionWindow* */
} CbSession;

CbSession       *cb_session_new          (void);
CbSessionWindow *cb_session_add_window   (CbSession       *session);
CbSessionTab    *cb_session_window_add_tab (CbSessionWindow *window,
                                            const char      *uri,
                                            const char      *title,
                                            GBytes          *state);
void             cb_session_free         (CbSession       *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbSession, cb_session_free)

char            *cb_session_encode       (const CbSession *session,
                                          gsize           *len);
CbSession       *cb_session_decode       (const char      *data,
                                          gsize            len,
                                          GError         **error);

/* Writes @session to @path atomically. */
void             cb_session_save_async   (const char          *path,
                                          const CbSession     *session,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean         cb_session_save_finish  (GAsyncResult        *result,
                                          GError             **error);
/* Synchronous, for the last save while the application shuts down. */
gboolean         cb_session_save         (const char          *path,
                                          const CbSession     *session,
                                          GError             **error);

/* No file: an empty session.  A damaged one is moved aside (renamed with
 * a timestamp) and reported with CB_PROFILE_ERROR_CORRUPT, naming where
 * it went. */
void             cb_session_load_async   (const char          *path,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
CbSession       *cb_session_load_finish  (GAsyncResult        *result,
                                          GError             **error);

G_END_DECLS
