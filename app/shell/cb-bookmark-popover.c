/* cb-bookmark-popover.c: the star's popover */
#define G_LOG_DOMAIN "cb-bookmarks"

#include "cb-config.h"
#include "cb-bookmark-popover.h"

struct _CbBookmarkPopover {
  GtkPopover parent_instance;
  CbBookmarks *bookmarks;
  CbBookmark *bookmark;
  GPtrArray *folders;     /* CbBookmark*, index + 1 in the dropdown */
  gboolean removed;

  GtkLabel *heading;
  GtkEntry *title_entry;
  GtkDropDown *folder_dropdown;
  GtkEntry *tags_entry;
  GtkButton *remove_button;
  GtkButton *done_button;
};

G_DEFINE_FINAL_TYPE (CbBookmarkPopover, cb_bookmark_popover, GTK_TYPE_POPOVER)

static guint
depth_of (CbBookmarks *bookmarks,
          CbBookmark  *folder)
{
  guint depth = 0;

  for (const char *parent = cb_bookmark_get_parent (folder); parent != NULL && depth < 32; depth++)
    {
      CbBookmark *up = cb_bookmarks_get (bookmarks, parent);
      parent = up ? cb_bookmark_get_parent (up) : NULL;
    }
  return depth;
}

static void
fill_folders (CbBookmarkPopover *self)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  const char *current = cb_bookmark_get_parent (self->bookmark);
  guint selected = 0;

  g_clear_pointer (&self->folders, g_ptr_array_unref);
  self->folders = cb_bookmarks_list_folders (self->bookmarks);
  gtk_string_list_append (names, "Bookmarks (top level)");
  for (guint i = 0; i < self->folders->len; i++)
    {
      CbBookmark *folder = self->folders->pdata[i];
      g_autofree char *indent = g_strnfill (depth_of (self->bookmarks, folder) * 3 + 3, ' ');
      g_autofree char *name = g_strconcat (indent, cb_bookmark_get_title (folder), NULL);

      gtk_string_list_append (names, name);
      if (g_strcmp0 (current, cb_bookmark_get_guid (folder)) == 0)
        selected = i + 1;
    }
  gtk_drop_down_set_model (self->folder_dropdown, G_LIST_MODEL (names));
  gtk_drop_down_set_selected (self->folder_dropdown, selected);
}

static void
apply (CbBookmarkPopover *self)
{
  const char *title = gtk_editable_get_text (GTK_EDITABLE (self->title_entry));
  g_auto(GStrv) tags = g_strsplit (gtk_editable_get_text (GTK_EDITABLE (self->tags_entry)), ",", -1);
  guint selected = gtk_drop_down_get_selected (self->folder_dropdown);
  const char *folder = NULL;
  g_autoptr(GError) error = NULL;

  if (self->removed || cb_bookmarks_get (self->bookmarks, cb_bookmark_get_guid (self->bookmark)) == NULL)
    return;
  if (selected != GTK_INVALID_LIST_POSITION && selected > 0 && selected <= self->folders->len)
    folder = cb_bookmark_get_guid (self->folders->pdata[selected - 1]);
  for (guint i = 0; tags[i] != NULL; i++)
    g_strstrip (tags[i]);
  cb_bookmarks_update (self->bookmarks, self->bookmark, NULL, *title ? title : NULL,
                       (const char * const *) tags);
  if (!cb_bookmarks_move (self->bookmarks, self->bookmark, folder, &error))
    g_warning ("%s", error->message);
}

static void
on_closed (CbBookmarkPopover *self)
{
  apply (self);
}

static void
on_done (CbBookmarkPopover *self)
{
  gtk_popover_popdown (GTK_POPOVER (self));
}

void
cb_bookmark_popover_remove (CbBookmarkPopover *self)
{
  self->removed = TRUE;
  cb_bookmarks_remove (self->bookmarks, self->bookmark);
  gtk_popover_popdown (GTK_POPOVER (self));
}

static void
cb_bookmark_popover_dispose (GObject *object)
{
  CbBookmarkPopover *self = CB_BOOKMARK_POPOVER (object);

  g_clear_object (&self->bookmarks);
  g_clear_object (&self->bookmark);
  g_clear_pointer (&self->folders, g_ptr_array_unref);
  G_OBJECT_CLASS (cb_bookmark_popover_parent_class)->dispose (object);
}

static void
cb_bookmark_popover_class_init (CbBookmarkPopoverClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = cb_bookmark_popover_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               CB_RESOURCE_PREFIX "/cb-bookmark-popover.ui");
  gtk_widget_class_bind_template_child (widget_class, CbBookmarkPopover, heading);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarkPopover, title_entry);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarkPopover, folder_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarkPopover, tags_entry);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarkPopover, remove_button);
  gtk_widget_class_bind_template_child (widget_class, CbBookmarkPopover, done_button);
}

static void
cb_bookmark_popover_init (CbBookmarkPopover *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_popover_set_default_widget (GTK_POPOVER (self), GTK_WIDGET (self->done_button));
  g_signal_connect (self, "closed", G_CALLBACK (on_closed), NULL);
  g_signal_connect_swapped (self->done_button, "clicked", G_CALLBACK (on_done), self);
  g_signal_connect_swapped (self->remove_button, "clicked", G_CALLBACK (cb_bookmark_popover_remove),
                            self);
}

GtkWidget *
cb_bookmark_popover_new (CbBookmarks *bookmarks,
                         CbBookmark  *bookmark,
                         gboolean     added)
{
  CbBookmarkPopover *self = g_object_new (CB_TYPE_BOOKMARK_POPOVER, NULL);
  g_autofree char *tags = g_strjoinv (", ", (char **) cb_bookmark_get_tags (bookmark));

  self->bookmarks = g_object_ref (bookmarks);
  self->bookmark = g_object_ref (bookmark);
  gtk_label_set_text (self->heading, added ? "Bookmark Added" : "Edit Bookmark");
  gtk_editable_set_text (GTK_EDITABLE (self->title_entry), cb_bookmark_get_title (bookmark));
  gtk_editable_set_text (GTK_EDITABLE (self->tags_entry), tags);
  fill_folders (self);
  return GTK_WIDGET (self);
}

void
cb_bookmark_popover_set_title (CbBookmarkPopover *self,
                               const char        *title)
{
  gtk_editable_set_text (GTK_EDITABLE (self->title_entry), title);
}

void
cb_bookmark_popover_set_tags (CbBookmarkPopover *self,
                              const char        *tags)
{
  gtk_editable_set_text (GTK_EDITABLE (self->tags_entry), tags);
}

gboolean
cb_bookmark_popover_set_folder (CbBookmarkPopover *self,
                                const char        *folder_title)
{
  for (guint i = 0; i < self->folders->len; i++)
    if (g_strcmp0 (cb_bookmark_get_title (self->folders->pdata[i]), folder_title) == 0)
      {
        gtk_drop_down_set_selected (self->folder_dropdown, i + 1);
        return TRUE;
      }
  return FALSE;
}
