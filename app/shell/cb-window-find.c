/* cb-window-find.c: find in page
 *
 * Ctrl+F opens the find bar over the selected tab; typing searches as you
 * type (case-insensitive, wrapping), Enter or Ctrl+G goes to the next
 * match, Shift+Enter or Shift+Ctrl+G to the previous one, and the bar says
 * which match of how many is highlighted.  Escape closes it. */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-window-private.h"

#define MAX_MATCHES 1000
#define FIND_OPTIONS (WEBKIT_FIND_OPTIONS_CASE_INSENSITIVE | WEBKIT_FIND_OPTIONS_WRAP_AROUND)

static WebKitFindController *
controller (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);

  return view ? webkit_web_view_get_find_controller (WEBKIT_WEB_VIEW (view)) : NULL;
}

static void
update_status (CbWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->find_entry));
  g_autofree char *status = NULL;

  if (*text == '\0')
    status = g_strdup ("");
  else if (self->find_matches == 0)
    status = g_strdup ("No matches");
  else if (self->find_matches >= MAX_MATCHES)
    status = g_strdup_printf ("%u of %u+", self->find_current, MAX_MATCHES);
  else
    status = g_strdup_printf ("%u of %u", self->find_current, self->find_matches);
  gtk_label_set_text (self->find_status, status);
  if (*text != '\0' && self->find_matches == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self->find_entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->find_entry), "error");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.find-next", self->find_matches > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.find-previous", self->find_matches > 0);
}

static void
on_counted (WebKitFindController *find,
            guint                 count,
            CbWindow             *self)
{
  if (find != controller (self))
    return;
  self->find_matches = count;
  if (self->find_current == 0 && count > 0)
    self->find_current = 1;
  self->find_current = MIN (self->find_current, count);
  update_status (self);
}

static void
on_failed (WebKitFindController *find,
           CbWindow             *self)
{
  if (find != controller (self))
    return;
  self->find_matches = 0;
  self->find_current = 0;
  update_status (self);
}

static void
search (CbWindow *self)
{
  WebKitFindController *find = controller (self);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->find_entry));

  self->find_matches = 0;
  self->find_current = 0;
  if (find == NULL)
    return;
  if (*text == '\0')
    {
      webkit_find_controller_search_finish (find);
      update_status (self);
      return;
    }
  self->find_current = 1;
  webkit_find_controller_count_matches (find, text, FIND_OPTIONS, MAX_MATCHES);
  webkit_find_controller_search (find, text, FIND_OPTIONS, MAX_MATCHES);
}

static void
on_search_changed (GtkSearchEntry *entry,
                   CbWindow       *self)
{
  search (self);
}

static void
step (CbWindow *self,
      int       direction)
{
  WebKitFindController *find = controller (self);

  if (find == NULL || self->find_matches == 0)
    return;
  if (direction > 0)
    {
      webkit_find_controller_search_next (find);
      self->find_current = self->find_current % MIN (self->find_matches, MAX_MATCHES) + 1;
    }
  else
    {
      webkit_find_controller_search_previous (find);
      self->find_current = self->find_current > 1 ? self->find_current - 1
                                                  : MIN (self->find_matches, MAX_MATCHES);
    }
  update_status (self);
}

static void
on_next_match (GtkSearchEntry *entry,
               CbWindow       *self)
{
  step (self, 1);
}

static void
on_previous_match (GtkSearchEntry *entry,
                   CbWindow       *self)
{
  step (self, -1);
}

static void
on_activate (GtkSearchEntry *entry,
             CbWindow       *self)
{
  step (self, 1);
}

/* Shift+Enter: the previous match, as in other browsers. */
static gboolean
on_entry_key (GtkEventControllerKey *controller,
              guint                  keyval,
              guint                  keycode,
              GdkModifierType        state,
              CbWindow              *self)
{
  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_ISO_Enter) &&
      (state & GDK_SHIFT_MASK) != 0)
    {
      step (self, -1);
      return TRUE;
    }
  return FALSE;
}

static void
action_find (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  CbWindow *self = CB_WINDOW (widget);

  gtk_search_bar_set_search_mode (self->find_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->find_entry));
  gtk_editable_select_region (GTK_EDITABLE (self->find_entry), 0, -1);
  if (*gtk_editable_get_text (GTK_EDITABLE (self->find_entry)) != '\0')
    search (self);
}

static void
action_find_next (GtkWidget *widget, const char *name, GVariant *param)
{
  step (CB_WINDOW (widget), 1);
}

static void
action_find_previous (GtkWidget *widget, const char *name, GVariant *param)
{
  step (CB_WINDOW (widget), -1);
}

static void
on_search_mode (GtkSearchBar *bar,
                GParamSpec   *pspec,
                CbWindow     *self)
{
  WebKitFindController *find = controller (self);

  if (gtk_search_bar_get_search_mode (bar))
    return;
  /* Closed: clear the highlights and give the page its focus back. */
  if (find != NULL)
    webkit_find_controller_search_finish (find);
  if (cb_window_get_active_view (self) != NULL)
    gtk_widget_grab_focus (GTK_WIDGET (cb_window_get_active_view (self)));
}

void
_cb_window_find_tab_changed (CbWindow  *self,
                             CbWebView *previous)
{
  if (previous != NULL)
    webkit_find_controller_search_finish (webkit_web_view_get_find_controller (WEBKIT_WEB_VIEW (previous)));
  if (gtk_search_bar_get_search_mode (self->find_bar))
    search (self);
}

void
_cb_window_find_add_view (CbWindow  *self,
                          CbWebView *view)
{
  WebKitFindController *find = webkit_web_view_get_find_controller (WEBKIT_WEB_VIEW (view));

  g_signal_connect_object (find, "counted-matches", G_CALLBACK (on_counted), self, 0);
  g_signal_connect_object (find, "failed-to-find-text", G_CALLBACK (on_failed), self, 0);
}

void
_cb_window_find_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.find", NULL, action_find);
  gtk_widget_class_install_action (widget_class, "win.find-next", NULL, action_find_next);
  gtk_widget_class_install_action (widget_class, "win.find-previous", NULL, action_find_previous);
}

void
_cb_window_find_init (CbWindow *self)
{
  GtkEventController *keys = gtk_event_controller_key_new ();

  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_entry_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self->find_entry), keys);
  gtk_search_bar_connect_entry (self->find_bar, GTK_EDITABLE (self->find_entry));
  g_signal_connect (self->find_entry, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect (self->find_entry, "activate", G_CALLBACK (on_activate), self);
  g_signal_connect (self->find_entry, "next-match", G_CALLBACK (on_next_match), self);
  g_signal_connect (self->find_entry, "previous-match", G_CALLBACK (on_previous_match), self);
  g_signal_connect (self->find_bar, "notify::search-mode-enabled", G_CALLBACK (on_search_mode), self);
  update_status (self);
}

GtkSearchEntry *
cb_window_get_find_entry (CbWindow *self)
{
  return self->find_entry;
}

const char *
cb_window_get_find_status (CbWindow *self)
{
  return gtk_label_get_text (self->find_status);
}
