/* cb-history-dialog.c: the history page
 *
 * The newest pages first (up to a few hundred; searching narrows it), one
 * row per page with when it was last visited.  Activating a row opens the
 * page in a new tab of the window; Delete (or the bin) forgets the
 * selected pages. */
#define G_LOG_DOMAIN "cb-history"

#include "cb-config.h"
#include "cb-history-dialog.h"
#include "cb-clear-data-dialog.h"
#include "cb-window-private.h"

#define SHOWN_PAGES 500

struct _CbHistoryDialog {
  AdwWindow parent_instance;
  CbWindow *window;           /* weak */
  CbHistory *history;
  GCancellable *cancellable;
  gboolean loading;

  GtkSearchEntry *search_entry;
  GtkListBox *list;
  GtkStack *stack;
  AdwStatusPage *empty_page;
  GtkButton *delete_button;
};

G_DEFINE_FINAL_TYPE (CbHistoryDialog, cb_history_dialog, ADW_TYPE_WINDOW)

static char *
describe_time (gint64 time_us)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  int days;

  if (when == NULL)
    return g_strdup ("");
  days = g_date_time_get_day_of_year (now) - g_date_time_get_day_of_year (when) +
         365 * (g_date_time_get_year (now) - g_date_time_get_year (when));
  if (days == 0)
    return g_date_time_format (when, "Today %H:%M");
  if (days == 1)
    return g_date_time_format (when, "Yesterday %H:%M");
  if (days < 7)
    return g_date_time_format (when, "%A %H:%M");
  return g_date_time_format (when, "%x");
}

static GtkWidget *
make_row (CbHistoryEntry *entry)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *when = describe_time (entry->last_visit);
  g_autofree char *subtitle = g_strdup_printf ("%s — %s", entry->url, when);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 entry->title && *entry->title ? entry->title : entry->url);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 1);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 1);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "cb-url", g_strdup (entry->url), g_free);
  return row;
}

static void
update_delete (CbHistoryDialog *self)
{
  g_autoptr(GList) selected = gtk_list_box_get_selected_rows (self->list);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "history.delete", selected != NULL);
}

static void
loaded (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(CbHistoryDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = cb_history_query_finish (CB_HISTORY (source), result, &error);
  GtkWidget *child;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->loading = FALSE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  if (entries == NULL)
    {
      adw_status_page_set_title (self->empty_page, "The History Could Not Be Read");
      adw_status_page_set_description (self->empty_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  for (guint i = 0; i < entries->len; i++)
    gtk_list_box_append (self->list, make_row (entries->pdata[i]));
  if (entries->len == 0)
    {
      const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

      adw_status_page_set_title (self->empty_page, *text ? "No Results" : "No History");
      adw_status_page_set_description (self->empty_page, *text
                                       ? "No visited page matches the search."
                                       : "Pages you visit are listed here.");
    }
  gtk_stack_set_visible_child_name (self->stack, entries->len ? "list" : "empty");
  update_delete (self);
}

static void
reload (CbHistoryDialog *self)
{
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->loading = TRUE;
  cb_history_query_async (self->history, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)),
                          0, SHOWN_PAGES, 0, self->cancellable, loaded, g_object_ref (self));
}

static void
on_search_changed (GtkSearchEntry  *entry,
                   CbHistoryDialog *self)
{
  reload (self);
}

static void
on_row_activated (GtkListBox      *list,
                  GtkListBoxRow   *row,
                  CbHistoryDialog *self)
{
  const char *url = g_object_get_data (G_OBJECT (row), "cb-url");

  if (self->window != NULL)
    {
      cb_window_open_tab_as (self->window, url, CB_VISIT_TYPED, TRUE);
      gtk_window_present (GTK_WINDOW (self->window));
    }
}

static void
deleted (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(CbHistoryDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!cb_history_delete_urls_finish (CB_HISTORY (source), result, &error))
    g_warning ("pages could not be removed from the history: %s", error->message);
}

static void
action_delete (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  CbHistoryDialog *self = CB_HISTORY_DIALOG (widget);
  g_autoptr(GList) selected = gtk_list_box_get_selected_rows (self->list);
  g_autoptr(GPtrArray) urls = g_ptr_array_new_with_free_func (g_free);

  for (GList *l = selected; l != NULL; l = l->next)
    {
      g_ptr_array_add (urls, g_strdup (g_object_get_data (l->data, "cb-url")));
      gtk_list_box_remove (self->list, l->data);
    }
  if (urls->len == 0)
    return;
  g_ptr_array_add (urls, NULL);
  cb_history_delete_urls_async (self->history, (const char * const *) urls->pdata, NULL, deleted,
                                g_object_ref (self));
  update_delete (self);
}

static void
action_clear_data (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  CbHistoryDialog *self = CB_HISTORY_DIALOG (widget);

  if (self->window != NULL)
    gtk_window_present (GTK_WINDOW (cb_clear_data_dialog_new (self->window, GTK_WINDOW (self))));
}

static void
on_history_changed (CbHistory       *history,
                    CbHistoryDialog *self)
{
  reload (self);
}

static void
cb_history_dialog_dispose (GObject *object)
{
  CbHistoryDialog *self = CB_HISTORY_DIALOG (object);

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->history)
    g_signal_handlers_disconnect_by_data (self->history, self);
  g_clear_object (&self->history);
  g_clear_weak_pointer (&self->window);
  G_OBJECT_CLASS (cb_history_dialog_parent_class)->dispose (object);
}

static void
cb_history_dialog_class_init (CbHistoryDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = cb_history_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               CB_RESOURCE_PREFIX "/cb-history-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CbHistoryDialog, search_entry);
  gtk_widget_class_bind_template_child (widget_class, CbHistoryDialog, list);
  gtk_widget_class_bind_template_child (widget_class, CbHistoryDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, CbHistoryDialog, empty_page);
  gtk_widget_class_bind_template_child (widget_class, CbHistoryDialog, delete_button);
  gtk_widget_class_install_action (widget_class, "history.delete", NULL, action_delete);
  gtk_widget_class_install_action (widget_class, "history.clear-data", NULL, action_clear_data);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "history.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK,
                                       "window.toggle-search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
cb_history_dialog_init (CbHistoryDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect (self->list, "row-activated", G_CALLBACK (on_row_activated), self);
  g_signal_connect_swapped (self->list, "selected-rows-changed", G_CALLBACK (update_delete), self);
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));
}

CbHistoryDialog *
cb_history_dialog_new (CbWindow *window)
{
  CbHistoryDialog *self = g_object_new (CB_TYPE_HISTORY_DIALOG,
                                        "transient-for", window,
                                        "application", gtk_window_get_application (GTK_WINDOW (window)),
                                        NULL);

  g_set_weak_pointer (&self->window, window);
  self->history = g_object_ref (cb_user_profile_get_history (_cb_window_get_profile (window)));
  g_signal_connect (self->history, "changed", G_CALLBACK (on_history_changed), self);
  reload (self);
  return self;
}

GStrv
cb_history_dialog_get_shown (CbHistoryDialog *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list)); row;
       row = gtk_widget_get_next_sibling (row))
    g_strv_builder_add (builder, g_object_get_data (G_OBJECT (row), "cb-url"));
  return g_strv_builder_end (builder);
}

gboolean
cb_history_dialog_is_loading (CbHistoryDialog *self)
{
  return self->loading;
}

void
cb_history_dialog_set_search (CbHistoryDialog *self,
                              const char      *text)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text);
  /* search-changed is delayed for typing; a set text is final. */
  reload (self);
}

void
cb_history_dialog_select (CbHistoryDialog *self,
                          const char      *url)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list)); row;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "cb-url"), url) == 0)
      gtk_list_box_select_row (self->list, GTK_LIST_BOX_ROW (row));
}
