/* cb-bookmarks-dialog.c: the bookmarks page
 *
 * Browses one folder at a time (folders first), or, while searching or
 * filtering by tag, every matching bookmark.  Activating a folder enters
 * it, a bookmark opens in a new tab.  Import and export read and write the
 * HTML bookmarks file every browser understands. */
#define G_LOG_DOMAIN "cb-bookmarks"

#include "cb-config.h"
#include "cb-bookmarks-dialog.h"
#include "cb-bookmark-popover.h"
#include "cb-window-private.h"

struct _CbBookmarksDialog {
  AdwWindow parent_instance;
  CbWindow *window;         /* weak */
  CbBookmarks *bookmarks;
  char *folder;             /* guid of the folder shown, NULL for the top */
  GStrv tags;               /* in the tag dropdown after "All tags" */
  gboolean read_only;

  AdwWindowTitle *window_title;
  GtkSearchEntry *search_entry;
  GtkDropDown *tag_dropdown;
  GtkListBox *list;
  GtkStack *stack;
  AdwStatusPage *empty_page;
};

G_DEFINE_FINAL_TYPE (CbBookmarksDialog, cb_bookmarks_dialog, ADW_TYPE_WINDOW)

static void refresh (CbBookmarksDialog *self);

static const char *
selected_tag (CbBookmarksDialog *self)
{
  guint selected = gtk_drop_down_get_selected (self->tag_dropdown);

  if (selected == GTK_INVALID_LIST_POSITION || selected == 0 || self->tags == NULL ||
      selected > g_strv_length (self->tags))
    return NULL;
  return self->tags[selected - 1];
}

static void
on_edit_clicked (GtkButton         *button,
                 CbBookmarksDialog *self)
{
  CbBookmark *bookmark = g_object_get_data (G_OBJECT (button), "cb-bookmark");
  GtkWidget *popover = cb_bookmark_popover_new (self->bookmarks, bookmark, FALSE);

  gtk_widget_set_parent (popover, GTK_WIDGET (button));
  g_signal_connect (popover, "closed", G_CALLBACK (gtk_widget_unparent), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
}

static void
on_remove_clicked (GtkButton         *button,
                   CbBookmarksDialog *self)
{
  CbBookmark *bookmark = g_object_get_data (G_OBJECT (button), "cb-bookmark");

  cb_bookmarks_remove (self->bookmarks, bookmark);
}

static GtkWidget *
row_button (CbBookmarksDialog *self,
            CbBookmark        *bookmark,
            const char        *icon,
            const char        *what,
            GCallback          callback)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);
  g_autofree char *label = g_strdup_printf ("%s “%s”", what, cb_bookmark_get_title (bookmark));

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_widget_set_sensitive (button, !self->read_only);
  g_object_set_data_full (G_OBJECT (button), "cb-bookmark", g_object_ref (bookmark), g_object_unref);
  g_signal_connect (button, "clicked", callback, self);
  return button;
}

static GtkWidget *
make_row (CbBookmarksDialog *self,
          CbBookmark        *bookmark)
{
  GtkWidget *row = adw_action_row_new ();
  gboolean folder = cb_bookmark_is_folder (bookmark);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), cb_bookmark_get_title (bookmark));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name (folder ? "folder-symbolic"
                                                                  : "starred-symbolic"));
  if (!folder)
    {
      const char * const *tags = cb_bookmark_get_tags (bookmark);
      g_autofree char *joined = g_strjoinv (", ", (char **) tags);
      g_autofree char *subtitle = *tags ? g_strdup_printf ("%s — %s", cb_bookmark_get_url (bookmark),
                                                           joined)
                                        : g_strdup (cb_bookmark_get_url (bookmark));

      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 row_button (self, bookmark, "document-edit-symbolic", "Edit",
                                             G_CALLBACK (on_edit_clicked)));
    }
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             row_button (self, bookmark, "user-trash-symbolic", "Remove",
                                         G_CALLBACK (on_remove_clicked)));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "cb-bookmark", g_object_ref (bookmark), g_object_unref);
  return row;
}

static void
fill_tags (CbBookmarksDialog *self)
{
  g_autofree char *keep = g_strdup (selected_tag (self));
  g_autoptr(GtkStringList) names = gtk_string_list_new ((const char *[]) { "All tags", NULL });
  guint selected = 0;

  g_strfreev (self->tags);
  self->tags = cb_bookmarks_list_tags (self->bookmarks);
  for (guint i = 0; self->tags[i] != NULL; i++)
    {
      gtk_string_list_append (names, self->tags[i]);
      if (g_strcmp0 (self->tags[i], keep) == 0)
        selected = i + 1;
    }
  g_signal_handlers_block_by_func (self->tag_dropdown, refresh, self);
  gtk_drop_down_set_model (self->tag_dropdown, G_LIST_MODEL (names));
  gtk_drop_down_set_selected (self->tag_dropdown, selected);
  g_signal_handlers_unblock_by_func (self->tag_dropdown, refresh, self);
}

static void
refresh (CbBookmarksDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  const char *tag = selected_tag (self);
  gboolean searching = *text != '\0' || tag != NULL;
  CbBookmark *folder = cb_bookmarks_get (self->bookmarks, self->folder);
  g_autoptr(GPtrArray) items = NULL;
  GtkWidget *child;

  if (self->folder != NULL && folder == NULL)
    g_clear_pointer (&self->folder, g_free);   /* it was removed */
  items = searching ? cb_bookmarks_search (self->bookmarks, text, tag)
                    : cb_bookmarks_list (self->bookmarks, self->folder);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  for (guint i = 0; i < items->len; i++)
    gtk_list_box_append (self->list, make_row (self, items->pdata[i]));

  adw_window_title_set_subtitle (self->window_title,
                                 searching ? "Search results"
                                 : folder ? cb_bookmark_get_title (folder) : "");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "bookmarks.up", !searching && folder != NULL);
  adw_status_page_set_title (self->empty_page, searching ? "No Results"
                                               : folder ? "Empty Folder" : "No Bookmarks");
  gtk_stack_set_visible_child_name (self->stack, items->len ? "list" : "empty");
}

static void
on_bookmarks_changed (CbBookmarks       *bookmarks,
                      CbBookmarksDialog *self)
{
  fill_tags (self);
  refresh (self);
}

void
cb_bookmarks_dialog_open_folder (CbBookmarksDialog *self,
                                 const char        *guid)
{
  g_free (self->folder);
  self->folder = g_strdup (guid);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  refresh (self);
}

static void
on_row_activated (GtkListBox        *list,
                  GtkListBoxRow     *row,
                  CbBookmarksDialog *self)
{
  CbBookmark *bookmark = g_object_get_data (G_OBJECT (row), "cb-bookmark");

  if (cb_bookmark_is_folder (bookmark))
    {
      cb_bookmarks_dialog_open_folder (self, cb_bookmark_get_guid (bookmark));
      return;
    }
  if (self->window != NULL)
    {
      cb_window_open_tab_as (self->window, cb_bookmark_get_url (bookmark), CB_VISIT_BOOKMARK, TRUE);
      gtk_window_present (GTK_WINDOW (self->window));
    }
}

static void
action_up (GtkWidget  *widget,
           const char *name,
           GVariant   *param)
{
  CbBookmarksDialog *self = CB_BOOKMARKS_DIALOG (widget);
  CbBookmark *folder = cb_bookmarks_get (self->bookmarks, self->folder);

  cb_bookmarks_dialog_open_folder (self, folder ? cb_bookmark_get_parent (folder) : NULL);
}

/* --- new folder --- */

static void
on_new_folder_response (AdwMessageDialog  *dialog,
                        const char        *response,
                        CbBookmarksDialog *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "cb-entry");
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  if (g_str_equal (response, "create") && *name != '\0')
    cb_bookmarks_add_folder (self->bookmarks, name, self->folder);
}

static void
action_new_folder (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  CbBookmarksDialog *self = CB_BOOKMARKS_DIALOG (widget);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), "New Folder", NULL);
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_editable_set_text (GTK_EDITABLE (entry), "New Folder");
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Folder name", -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", "_Cancel",
                                    "create", "C_reate", NULL);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "create");
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "create",
                                              ADW_RESPONSE_SUGGESTED);
  g_object_set_data (G_OBJECT (dialog), "cb-entry", entry);
  g_signal_connect (dialog, "response", G_CALLBACK (on_new_folder_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- import / export --- */

static void
tell (CbBookmarksDialog *self,
      const char        *heading,
      const char        *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", "_Close");
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
imported (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CbBookmarksDialog *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *name = g_file_get_basename (G_FILE (source));
  gsize len = 0;
  guint added, skipped = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &len, NULL, &error))
    {
      tell (self, "The File Could Not Be Read", error->message);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  added = cb_bookmarks_import_html (self->bookmarks, contents, len, &skipped, &error);
  if (error != NULL)
    {
      g_autofree char *body = g_strdup_printf ("%s: %s. Nothing was imported.", name, error->message);
      tell (self, "The Bookmarks Could Not Be Imported", body);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (self->window != NULL)
    {
      g_autofree char *message =
        skipped ? g_strdup_printf ("Imported %u bookmarks from %s (%u could not be imported: "
                                   "not web addresses)", added, name, skipped)
                : g_strdup_printf ("Imported %u bookmarks from %s", added, name);
      _cb_window_toast (self->window, message);
    }
  g_task_return_int (task, added);
}

void
cb_bookmarks_dialog_import_file_async (CbBookmarksDialog   *self,
                                       GFile               *file,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, cb_bookmarks_dialog_import_file_async);
  g_file_load_contents_async (file, NULL, imported, task);
}

gssize
cb_bookmarks_dialog_import_file_finish (CbBookmarksDialog  *self,
                                        GAsyncResult       *result,
                                        GError            **error)
{
  return g_task_propagate_int (G_TASK (result), error);
}

static void
exported (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CbBookmarksDialog *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      tell (self, "The Bookmarks Could Not Be Exported", error->message);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (self->window != NULL)
    {
      g_autofree char *name = g_file_get_basename (G_FILE (source));
      g_autofree char *message = g_strdup_printf ("Bookmarks exported to %s", name);
      _cb_window_toast (self->window, message);
    }
  g_task_return_boolean (task, TRUE);
}

void
cb_bookmarks_dialog_export_file_async (CbBookmarksDialog   *self,
                                       GFile               *file,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  char *html = cb_bookmarks_export_html (self->bookmarks);
  g_autoptr(GBytes) bytes = g_bytes_new_take (html, strlen (html));

  g_task_set_source_tag (task, cb_bookmarks_dialog_export_file_async);
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                       NULL, exported, task);
}

gboolean
cb_bookmarks_dialog_export_file_finish (CbBookmarksDialog  *self,
                                        GAsyncResult       *result,
                                        GError            **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_import_response (GtkNativeDialog   *chooser,
                    int                response,
                    CbBookmarksDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      cb_bookmarks_dialog_import_file_async (self, file, NULL, NULL);
    }
  g_object_unref (chooser);
}

static GtkFileFilter *
html_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "HTML bookmarks files");
  gtk_file_filter_add_mime_type (filter, "text/html");
  gtk_file_filter_add_pattern (filter, "*.html");
  gtk_file_filter_add_pattern (filter, "*.htm");
  return filter;
}

/* File choosers go through the portal under Flatpak, so the sandbox only
 * ever sees the one file the person picked. */
static void
action_import (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  CbBookmarksDialog *self = CB_BOOKMARKS_DIALOG (widget);
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new ("Import Bookmarks", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                 "_Import", "_Cancel");
  g_autoptr(GtkFileFilter) filter = html_filter ();

  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_signal_connect (chooser, "response", G_CALLBACK (on_import_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_export_response (GtkNativeDialog   *chooser,
                    int                response,
                    CbBookmarksDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      cb_bookmarks_dialog_export_file_async (self, file, NULL, NULL);
    }
  g_object_unref (chooser);
}

static void
action_export (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  CbBookmarksDialog *self = CB_BOOKMARKS_DIALOG (widget);
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new ("Export Bookmarks", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                 "_Export", "_Cancel");
  g_autoptr(GtkFileFilter) filter = html_filter ();

  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "bookmarks.html");
  g_signal_connect (chooser, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* --- object --- */

static void
cb_bookmarks_dialog_dispose (GObject *object)
{
  CbBookmarksDialog *self = CB_BOOKMARKS_DIALOG (object);

  if (self->bookmarks)
    g_signal_handlers_disconnect_by_data (self->bookmarks, self);
  g_clear_object (&self->bookmarks);
  g_clear_weak_pointer (&self->window);
  g_clear_pointer (&self->folder, g_free);
  g_clear_pointer (&self->tags, g_strfreev);
  G_OBJECT_CLASS (cb_bookmarks_dialog_parent_class)->dispose (object);
}

static void
cb_bookmarks_dialog_class_init (CbBookmarksDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = cb_bookmarks_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               CB_RESOURCE_PREFIX "/cb-bookmarks-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CbBookmarksDialog, window_title);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarksDialog, search_entry);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarksDialog, tag_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarksDialog, list);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarksDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarksDialog, empty_page);
  gtk_widget_class_install_action (widget_class, "bookmarks.up", NULL, action_up);
  gtk_widget_class_install_action (widget_class, "bookmarks.new-folder", NULL, action_new_folder);
  gtk_widget_class_install_action (widget_class, "bookmarks.import", NULL, action_import);
  gtk_widget_class_install_action (widget_class, "bookmarks.export", NULL, action_export);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, GDK_ALT_MASK, "bookmarks.up", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
cb_bookmarks_dialog_init (CbBookmarksDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (refresh), self);
  g_signal_connect_swapped (self->tag_dropdown, "notify::selected", G_CALLBACK (refresh), self);
  g_signal_connect (self->list, "row-activated", G_CALLBACK (on_row_activated), self);
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));
}

CbBookmarksDialog *
cb_bookmarks_dialog_new (CbWindow *window)
{
  CbBookmarksDialog *self = g_object_new (CB_TYPE_BOOKMARKS_DIALOG,
                                          "transient-for", window,
                                          "application", gtk_window_get_application (GTK_WINDOW (window)),
                                          NULL);
  CbUserProfile *profile = _cb_window_get_profile (window);

  g_set_weak_pointer (&self->window, window);
  self->bookmarks = g_object_ref (cb_user_profile_get_bookmarks (profile));
  /* A private window reads the bookmarks but changes nothing. */
  self->read_only = cb_user_profile_is_private (profile);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "bookmarks.new-folder", !self->read_only);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "bookmarks.import", !self->read_only);
  g_signal_connect (self->bookmarks, "changed", G_CALLBACK (on_bookmarks_changed), self);
  fill_tags (self);
  refresh (self);
  return self;
}

GStrv
cb_bookmarks_dialog_get_shown (CbBookmarksDialog *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list)); row;
       row = gtk_widget_get_next_sibling (row))
    g_strv_builder_add (builder, cb_bookmark_get_title (g_object_get_data (G_OBJECT (row),
                                                                           "cb-bookmark")));
  return g_strv_builder_end (builder);
}

void
cb_bookmarks_dialog_set_search (CbBookmarksDialog *self,
                                const char        *text)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text);
  refresh (self);
}

gboolean
cb_bookmarks_dialog_set_tag (CbBookmarksDialog *self,
                             const char        *tag)
{
  for (guint i = 0; self->tags != NULL && self->tags[i] != NULL; i++)
    if (g_strcmp0 (self->tags[i], tag) == 0)
      {
        gtk_drop_down_set_selected (self->tag_dropdown, i + 1);
        return TRUE;
      }
  gtk_drop_down_set_selected (self->tag_dropdown, 0);
  return tag == NULL;
}

void
cb_bookmarks_dialog_activate (CbBookmarksDialog *self,
                              const char        *title)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list)); row;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (cb_bookmark_get_title (g_object_get_data (G_OBJECT (row), "cb-bookmark")),
                   title) == 0)
      {
        g_signal_emit_by_name (self->list, "row-activated", row);
        return;
      }
  g_error ("no row titled %s", title);
}
