/* cb-session-manager.h: keeps the session file in step with the windows
 *
 * Every change to the normal (not private) windows' tabs — opened,
 * closed, moved, selected, navigated — saves the session a moment later,
 * so a crash loses at most that moment.  Closing one window of several
 * forgets it; quitting, or closing the last window, keeps them all for
 * next time.  On start the windows are opened again with their tabs and
 * each tab's back/forward history; tabs load when first selected. */
#pragma once

#include <adwaita.h>

#include "cb-session-file.h"
#include "cb-window.h"

G_BEGIN_DECLS

#define CB_TYPE_SESSION_MANAGER (cb_session_manager_get_type ())
G_DECLARE_FINAL_TYPE (CbSessionManager, cb_session_manager, CB, SESSION_MANAGER, GObject)

/* The session file of the profile at @profile_dir. */
CbSessionManager *cb_session_manager_new          (const char        *profile_dir);
const char       *cb_session_manager_get_path     (CbSessionManager  *self);
void              cb_session_manager_track        (CbSessionManager  *self,
                                                   CbWindow          *window);
/* Windows closing from now on stay in the session (the application is
 * quitting). */
void              cb_session_manager_keep_windows (CbSessionManager  *self);
/* The last, synchronous save while the application shuts down. */
void              cb_session_manager_save_now     (CbSessionManager  *self);
/* Whether a save is waiting to happen (for tests). */
gboolean          cb_session_manager_is_dirty     (CbSessionManager  *self);

/* Opens the saved windows in @application (they are tracked).  Result:
 * how many windows were opened. */
void              cb_session_manager_restore_async  (CbSessionManager    *self,
                                                     GtkApplication      *application,
                                                     CbWebContext        *context,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
int               cb_session_manager_restore_finish (CbSessionManager    *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

G_END_DECLS
