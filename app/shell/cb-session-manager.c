/* cb-session-manager.c: the session file follows the windows */
#define G_LOG_DOMAIN "cb-session"

#include "cb-config.h"
#include "cb-session-manager.h"

/* Long enough to fold a burst of changes (a page loading, its title, its
 * favicon) into one write, short enough that a crash loses little. */
#define SAVE_DELAY_MS 700

struct _CbSessionManager {
  GObject parent_instance;
  char *path;
  GPtrArray *windows;     /* CbWindow*, weak, in the order they were tracked */
  guint save_source;
  gboolean keep_windows;
  gboolean frozen;        /* the final state is written: windows are going */
  gboolean saving;
  gboolean save_again;
};

G_DEFINE_FINAL_TYPE (CbSessionManager, cb_session_manager, G_TYPE_OBJECT)

/* The bytes a restored tab came with, until it has loaded its own. */
#define RESTORE_STATE "cb-restore-state"

static CbSession *
snapshot (CbSessionManager *self)
{
  CbSession *session = cb_session_new ();

  for (guint i = 0; i < self->windows->len; i++)
    {
      CbWindow *window = self->windows->pdata[i];
      AdwTabView *tabs = cb_window_get_tab_view (window);
      CbSessionWindow *saved;
      int n = adw_tab_view_get_n_pages (tabs);
      AdwTabPage *selected = adw_tab_view_get_selected_page (tabs);

      if (n == 0)
        continue;
      saved = cb_session_add_window (session);
      for (int t = 0; t < n; t++)
        {
          AdwTabPage *page = adw_tab_view_get_nth_page (tabs, t);
          CbWebView *view = CB_WEB_VIEW (adw_tab_page_get_child (page));
          GBytes *pending = g_object_get_data (G_OBJECT (view), RESTORE_STATE);
          g_autoptr(GBytes) state = NULL;
          const char *uri = g_object_get_data (G_OBJECT (view), "cb-restore-uri");

          if (pending != NULL)
            state = g_bytes_ref (pending);
          else
            {
              g_autoptr(WebKitWebViewSessionState) current =
                webkit_web_view_get_session_state (WEBKIT_WEB_VIEW (view));

              state = current ? webkit_web_view_session_state_serialize (current) : NULL;
              uri = cb_web_view_get_display_uri (view);
            }
          cb_session_window_add_tab (saved, uri, adw_tab_page_get_title (page), state);
          if (page == selected)
            saved->selected = (guint) t;
        }
    }
  return session;
}

static void
saved (GObject      *source,
       GAsyncResult *result,
       gpointer      user_data)
{
  g_autoptr(CbSessionManager) self = user_data;
  g_autoptr(GError) error = NULL;

  self->saving = FALSE;
  if (!cb_session_save_finish (result, &error))
    g_warning ("the open tabs could not be saved: %s", error->message);
  if (self->save_again)
    {
      self->save_again = FALSE;
      cb_session_manager_save_now (self);
    }
}

static gboolean
save_later (gpointer data)
{
  CbSessionManager *self = data;
  g_autoptr(CbSession) session = NULL;

  self->save_source = 0;
  /* One write at a time: a newer state waits for the one in flight. */
  if (self->saving)
    {
      self->save_again = TRUE;
      return G_SOURCE_REMOVE;
    }
  session = snapshot (self);
  self->saving = TRUE;
  cb_session_save_async (self->path, session, NULL, saved, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

static void
schedule_save (CbSessionManager *self)
{
  if (self->frozen)
    return;
  if (self->save_source == 0)
    self->save_source = g_timeout_add (SAVE_DELAY_MS, save_later, self);
}

void
cb_session_manager_save_now (CbSessionManager *self)
{
  g_autoptr(CbSession) session = NULL;
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&self->save_source, g_source_remove);
  if (self->frozen)
    return;
  session = snapshot (self);
  if (!cb_session_save (self->path, session, &error))
    g_warning ("the open tabs could not be saved: %s", error->message);
}

gboolean
cb_session_manager_is_dirty (CbSessionManager *self)
{
  return self->save_source != 0 || self->saving;
}

static void
on_window_changed (CbWindow         *window,
                   CbSessionManager *self)
{
  schedule_save (self);
}

static gboolean
on_close_request (CbWindow         *window,
                  CbSessionManager *self)
{
  guint others = 0;

  for (guint i = 0; i < self->windows->len; i++)
    others += self->windows->pdata[i] != window;
  /* The last window, or quitting: they all open again next time.  The
   * state is written once, with every window still there, and then kept
   * as the windows go one by one. */
  if (self->keep_windows || others == 0)
    {
      cb_session_manager_save_now (self);
      self->frozen = TRUE;
      return FALSE;
    }
  g_ptr_array_remove (self->windows, window);
  g_signal_handlers_disconnect_by_data (window, self);
  schedule_save (self);
  return FALSE;
}

static void
on_window_destroyed (gpointer  data,
                     GObject  *where)
{
  CbSessionManager *self = data;

  g_ptr_array_remove (self->windows, where);
}

void
cb_session_manager_track (CbSessionManager *self,
                          CbWindow         *window)
{
  g_return_if_fail (CB_IS_SESSION_MANAGER (self));
  if (cb_web_context_is_private (cb_window_get_context (window)))
    return;   /* private windows leave no trace */
  g_ptr_array_add (self->windows, window);
  g_object_weak_ref (G_OBJECT (window), on_window_destroyed, self);
  g_signal_connect (window, "state-changed", G_CALLBACK (on_window_changed), self);
  g_signal_connect (window, "close-request", G_CALLBACK (on_close_request), self);
  schedule_save (self);
}

void
cb_session_manager_keep_windows (CbSessionManager *self)
{
  self->keep_windows = TRUE;
}

/* --- restoring --- */

static void
load_pending (CbWebView *view)
{
  GBytes *state = g_object_get_data (G_OBJECT (view), RESTORE_STATE);
  const char *uri = g_object_get_data (G_OBJECT (view), "cb-restore-uri");
  g_autoptr(WebKitWebViewSessionState) session = state ? webkit_web_view_session_state_new (state)
                                                       : NULL;
  WebKitBackForwardListItem *current = NULL;

  if (session != NULL)
    {
      webkit_web_view_restore_session_state (WEBKIT_WEB_VIEW (view), session);
      current = webkit_back_forward_list_get_current_item (
        webkit_web_view_get_back_forward_list (WEBKIT_WEB_VIEW (view)));
    }
  if (current != NULL)
    webkit_web_view_go_to_back_forward_list_item (WEBKIT_WEB_VIEW (view), current);
  else if (uri != NULL && *uri != '\0')
    cb_web_view_load_uri_as (view, uri, CB_VISIT_LINK);
  g_object_set_data (G_OBJECT (view), RESTORE_STATE, NULL);
  g_object_set_data (G_OBJECT (view), "cb-restore-uri", NULL);
}

static void
on_selected (AdwTabView *tabs,
             GParamSpec *pspec,
             gpointer    user_data)
{
  AdwTabPage *page = adw_tab_view_get_selected_page (tabs);
  CbWebView *view = page ? CB_WEB_VIEW (adw_tab_page_get_child (page)) : NULL;

  if (view != NULL && g_object_get_data (G_OBJECT (view), "cb-restore-uri") != NULL)
    load_pending (view);
}

static CbWindow *
restore_window (CbSessionManager *self,
                GtkApplication   *application,
                CbWebContext     *context,
                CbSessionWindow  *saved)
{
  CbWindow *window = cb_window_new (application, context);
  AdwTabView *tabs = cb_window_get_tab_view (window);

  for (guint t = 0; t < saved->tabs->len; t++)
    {
      CbSessionTab *tab = saved->tabs->pdata[t];
      CbWebView *view = CB_WEB_VIEW (cb_web_view_new (context));
      AdwTabPage *page;

      /* Loads wait until the tab is looked at: a session of fifty tabs
       * should not load fifty pages at start. */
      g_object_set_data_full (G_OBJECT (view), "cb-restore-uri", g_strdup (tab->uri), g_free);
      if (tab->state != NULL)
        g_object_set_data_full (G_OBJECT (view), RESTORE_STATE, g_bytes_ref (tab->state),
                                (GDestroyNotify) g_bytes_unref);
      cb_window_add_view (window, view, FALSE);
      page = adw_tab_view_get_page (tabs, GTK_WIDGET (view));
      adw_tab_page_set_title (page, *tab->title ? tab->title : tab->uri);
    }
  g_signal_connect (tabs, "notify::selected-page", G_CALLBACK (on_selected), NULL);
  if (adw_tab_view_get_n_pages (tabs) > 0)
    {
      AdwTabPage *page = adw_tab_view_get_nth_page (tabs, (int) MIN (saved->selected,
                                                                    (guint) adw_tab_view_get_n_pages (tabs) - 1));
      adw_tab_view_set_selected_page (tabs, page);
      on_selected (tabs, NULL, NULL);
    }
  return window;
}

typedef struct {
  GtkApplication *application;
  CbWebContext *context;
} RestoreData;

static void
restore_data_free (gpointer data)
{
  RestoreData *restore = data;

  g_object_unref (restore->application);
  g_object_unref (restore->context);
  g_free (restore);
}

static void
loaded (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CbSessionManager *self = g_task_get_source_object (task);
  RestoreData *restore = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(CbSession) session = cb_session_load_finish (result, &error);
  int opened = 0;

  if (session == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint w = 0; w < session->windows->len; w++)
    {
      CbSessionWindow *saved_window = session->windows->pdata[w];
      CbWindow *window;

      if (saved_window->tabs->len == 0)
        continue;
      window = restore_window (self, restore->application, restore->context, saved_window);
      cb_session_manager_track (self, window);
      gtk_window_present (GTK_WINDOW (window));
      opened++;
    }
  g_info ("restored %d windows from %s", opened, self->path);
  g_task_return_int (task, opened);
}

void
cb_session_manager_restore_async (CbSessionManager    *self,
                                  GtkApplication      *application,
                                  CbWebContext        *context,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  RestoreData *restore = g_new0 (RestoreData, 1);

  g_task_set_source_tag (task, cb_session_manager_restore_async);
  restore->application = g_object_ref (application);
  restore->context = g_object_ref (context);
  g_task_set_task_data (task, restore, restore_data_free);
  cb_session_load_async (self->path, cancellable, loaded, task);
}

int
cb_session_manager_restore_finish (CbSessionManager  *self,
                                   GAsyncResult      *result,
                                   GError           **error)
{
  return (int) g_task_propagate_int (G_TASK (result), error);
}

/* --- object --- */

static void
cb_session_manager_dispose (GObject *object)
{
  CbSessionManager *self = CB_SESSION_MANAGER (object);

  g_clear_handle_id (&self->save_source, g_source_remove);
  for (guint i = 0; self->windows != NULL && i < self->windows->len; i++)
    {
      g_object_weak_unref (self->windows->pdata[i], on_window_destroyed, self);
      g_signal_handlers_disconnect_by_data (self->windows->pdata[i], self);
    }
  g_clear_pointer (&self->windows, g_ptr_array_unref);
  G_OBJECT_CLASS (cb_session_manager_parent_class)->dispose (object);
}

static void
cb_session_manager_finalize (GObject *object)
{
  g_free (CB_SESSION_MANAGER (object)->path);
  G_OBJECT_CLASS (cb_session_manager_parent_class)->finalize (object);
}

static void
cb_session_manager_class_init (CbSessionManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_session_manager_dispose;
  G_OBJECT_CLASS (klass)->finalize = cb_session_manager_finalize;
}

static void
cb_session_manager_init (CbSessionManager *self)
{
  self->windows = g_ptr_array_new ();
}

CbSessionManager *
cb_session_manager_new (const char *profile_dir)
{
  CbSessionManager *self = g_object_new (CB_TYPE_SESSION_MANAGER, NULL);

  self->path = g_build_filename (profile_dir, "session.json", NULL);
  return self;
}

const char *
cb_session_manager_get_path (CbSessionManager *self)
{
  return self->path;
}
