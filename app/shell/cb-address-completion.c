/* cb-address-completion.c: the suggestions popover of the address entry */
#define G_LOG_DOMAIN "cb-completion"

#include "cb-address-completion.h"

#include <string.h>

#define MAX_ROWS 8
#define MAX_BOOKMARK_ROWS 3

struct _CbAddressCompletion {
  GObject parent_instance;
  GtkEntry *entry;           /* not owned: the entry owns us (object data) */
  CbUserProfile *profile;
  GtkWidget *popover;
  GtkListBox *list;
  GtkEventController *keys;
  GtkEventController *focus;
  GCancellable *cancellable;
  guint quiet;               /* > 0 while the program sets the text */
  gboolean edited;           /* the person changed the text since the program set it */
  char *query;
};

G_DEFINE_FINAL_TYPE (CbAddressCompletion, cb_address_completion, G_TYPE_OBJECT)

enum { SIGNAL_ACTIVATE, N_SIGNALS };
static guint signals[N_SIGNALS];

static GtkWidget *
make_row (const char *url,
          const char *title,
          gboolean    bookmark)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *icon = gtk_image_new_from_icon_name (bookmark ? "starred-symbolic"
                                                           : "document-open-recent-symbolic");
  GtkWidget *title_label = gtk_label_new (title && *title ? title : url);
  GtkWidget *url_label = gtk_label_new (url);
  g_autofree char *accessible = g_strdup_printf ("%s%s, %s", bookmark ? "Bookmark: " : "",
                                                 title && *title ? title : url, url);

  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);
  gtk_label_set_xalign (GTK_LABEL (title_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title_label), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (url_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (url_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (url_label, "dim-label");
  gtk_widget_add_css_class (url_label, "caption");
  gtk_box_append (GTK_BOX (texts), title_label);
  gtk_box_append (GTK_BOX (texts), url_label);
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), texts);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_tooltip_text (row, url);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
  g_object_set_data_full (G_OBJECT (row), "cb-url", g_strdup (url), g_free);
  g_object_set_data_full (G_OBJECT (row), "cb-title", g_strdup (title ? title : ""), g_free);
  return row;
}

static void
clear_rows (CbAddressCompletion *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
}

void
cb_address_completion_hide (CbAddressCompletion *self)
{
  g_return_if_fail (CB_IS_ADDRESS_COMPLETION (self));
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_popover_popdown (GTK_POPOVER (self->popover));
}

gboolean
cb_address_completion_is_shown (CbAddressCompletion *self)
{
  return gtk_widget_get_visible (self->popover);
}

static void
show_results (CbAddressCompletion *self,
              GPtrArray           *history)
{
  CbBookmarks *bookmarks = cb_user_profile_get_bookmarks (self->profile);
  g_autoptr(GPtrArray) marked = cb_bookmarks_search (bookmarks, self->query, NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint rows = 0;

  clear_rows (self);
  for (guint i = 0; i < marked->len && rows < MAX_BOOKMARK_ROWS; i++)
    {
      CbBookmark *bookmark = marked->pdata[i];

      if (!g_hash_table_add (seen, (gpointer) cb_bookmark_get_url (bookmark)))
        continue;
      gtk_list_box_append (self->list, make_row (cb_bookmark_get_url (bookmark),
                                                 cb_bookmark_get_title (bookmark), TRUE));
      rows++;
    }
  for (guint i = 0; history != NULL && i < history->len && rows < MAX_ROWS; i++)
    {
      CbHistoryEntry *entry = history->pdata[i];

      if (!g_hash_table_add (seen, entry->url))
        continue;
      gtk_list_box_append (self->list,
                           make_row (entry->url, entry->title,
                                     cb_bookmarks_lookup_url (bookmarks, entry->url) != NULL));
      rows++;
    }
  if (rows == 0)
    {
      gtk_popover_popdown (GTK_POPOVER (self->popover));
      return;
    }
  gtk_widget_set_size_request (GTK_WIDGET (self->list),
                               MAX (gtk_widget_get_width (GTK_WIDGET (self->entry)), 320), -1);
  gtk_popover_popup (GTK_POPOVER (self->popover));
}

static void
completed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(CbAddressCompletion) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = cb_history_complete_finish (CB_HISTORY (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    g_warning ("address completion failed: %s", error->message);
  show_results (self, entries);
}

static void
on_changed (GtkEditable         *editable,
            CbAddressCompletion *self)
{
  const char *text = gtk_editable_get_text (editable);
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  GtkWidget *focus = gtk_root_get_focus (gtk_widget_get_root (GTK_WIDGET (self->entry)));

  if (self->quiet > 0)
    return;
  self->edited = TRUE;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  /* Only what the person types: not while the entry is unfocused. */
  if (*stripped == '\0' || focus == NULL || !gtk_widget_is_ancestor (focus, GTK_WIDGET (self->entry)))
    {
      gtk_popover_popdown (GTK_POPOVER (self->popover));
      return;
    }
  g_free (self->query);
  self->query = g_steal_pointer (&stripped);
  self->cancellable = g_cancellable_new ();
  cb_history_complete_async (cb_user_profile_get_history (self->profile), self->query, MAX_ROWS,
                             self->cancellable, completed, g_object_ref (self));
}

void
cb_address_completion_set_text (CbAddressCompletion *self,
                                const char          *text)
{
  g_return_if_fail (CB_IS_ADDRESS_COMPLETION (self));
  self->quiet++;
  gtk_editable_set_text (GTK_EDITABLE (self->entry), text);
  self->quiet--;
  self->edited = FALSE;
  cb_address_completion_hide (self);
}

static void
select_step (CbAddressCompletion *self,
             int                  step)
{
  GtkListBoxRow *selected = gtk_list_box_get_selected_row (self->list);
  int index = selected ? gtk_list_box_row_get_index (selected) + step : (step > 0 ? 0 : -1);
  GtkListBoxRow *row;
  int n = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->list)); c; c = gtk_widget_get_next_sibling (c))
    n++;
  if (index < -1)
    index = n - 1;
  if (index >= n)
    index = -1;
  row = index >= 0 ? gtk_list_box_get_row_at_index (self->list, index) : NULL;
  gtk_list_box_select_row (self->list, row);
}

static void
activate_row (CbAddressCompletion *self,
              GtkListBoxRow       *row)
{
  g_autofree char *url = g_strdup (g_object_get_data (G_OBJECT (row), "cb-url"));

  cb_address_completion_hide (self);
  g_signal_emit (self, signals[SIGNAL_ACTIVATE], 0, url);
}

static void
on_row_activated (GtkListBox          *list,
                  GtkListBoxRow       *row,
                  CbAddressCompletion *self)
{
  activate_row (self, row);
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                CbAddressCompletion   *self)
{
  GtkListBoxRow *selected;

  if (!cb_address_completion_is_shown (self))
    return FALSE;
  switch (keyval)
    {
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      select_step (self, 1);
      return TRUE;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      select_step (self, -1);
      return TRUE;
    case GDK_KEY_Escape:
      cb_address_completion_hide (self);
      return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      selected = gtk_list_box_get_selected_row (self->list);
      if (selected == NULL)
        {
          cb_address_completion_hide (self);
          return FALSE;   /* the entry's own activate: go to what was typed */
        }
      activate_row (self, selected);
      return TRUE;
    default:
      return FALSE;
    }
}

static void
on_focus_leave (GtkEventControllerFocus *controller,
                CbAddressCompletion     *self)
{
  cb_address_completion_hide (self);
}

gboolean
cb_address_completion_is_edited (CbAddressCompletion *self)
{
  return self->edited;
}

GStrv
cb_address_completion_get_rows (CbAddressCompletion *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->list)); row;
       row = gtk_widget_get_next_sibling (row))
    {
      g_autofree char *line = g_strdup_printf ("%s\t%s",
                                               (char *) g_object_get_data (G_OBJECT (row), "cb-url"),
                                               (char *) g_object_get_data (G_OBJECT (row), "cb-title"));
      g_strv_builder_add (builder, line);
    }
  return g_strv_builder_end (builder);
}

const char *
cb_address_completion_get_selected (CbAddressCompletion *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->list);

  return row ? g_object_get_data (G_OBJECT (row), "cb-url") : NULL;
}

static void
cb_address_completion_dispose (GObject *object)
{
  CbAddressCompletion *self = CB_ADDRESS_COMPLETION (object);

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->entry != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->entry, self);
      gtk_widget_remove_controller (GTK_WIDGET (self->entry), self->keys);
      gtk_widget_remove_controller (GTK_WIDGET (self->entry), self->focus);
      self->entry = NULL;
    }
  g_clear_pointer (&self->popover, gtk_widget_unparent);
  g_clear_object (&self->profile);
  G_OBJECT_CLASS (cb_address_completion_parent_class)->dispose (object);
}

static void
cb_address_completion_finalize (GObject *object)
{
  g_free (CB_ADDRESS_COMPLETION (object)->query);
  G_OBJECT_CLASS (cb_address_completion_parent_class)->finalize (object);
}

static void
cb_address_completion_class_init (CbAddressCompletionClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_address_completion_dispose;
  G_OBJECT_CLASS (klass)->finalize = cb_address_completion_finalize;

  /* A suggestion was chosen: the address to open. */
  signals[SIGNAL_ACTIVATE] = g_signal_new ("activate-suggestion", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                           G_TYPE_STRING);
}

static void
cb_address_completion_init (CbAddressCompletion *self)
{
}

CbAddressCompletion *
cb_address_completion_new (GtkEntry      *entry,
                           CbUserProfile *profile)
{
  CbAddressCompletion *self = g_object_new (CB_TYPE_ADDRESS_COMPLETION, NULL);
  GtkEventController *keys = gtk_event_controller_key_new ();
  GtkEventController *focus = gtk_event_controller_focus_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  self->keys = keys;
  self->focus = focus;
  self->entry = entry;
  self->profile = g_object_ref (profile);
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_BROWSE);
  gtk_list_box_set_activate_on_single_click (self->list, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "cb-suggestions");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Suggestions", -1);
  gtk_widget_set_can_focus (GTK_WIDGET (self->list), FALSE);
  /* Browse mode selects the first row by itself; nothing is selected
   * until the person presses Down. */
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_SINGLE);
  g_signal_connect (self->list, "row-activated", G_CALLBACK (on_row_activated), self);

  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->list));
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  self->popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (self->popover), scrolled);
  gtk_popover_set_autohide (GTK_POPOVER (self->popover), FALSE);
  gtk_popover_set_has_arrow (GTK_POPOVER (self->popover), FALSE);
  gtk_popover_set_position (GTK_POPOVER (self->popover), GTK_POS_BOTTOM);
  gtk_widget_set_halign (self->popover, GTK_ALIGN_START);
  gtk_widget_set_can_focus (self->popover, FALSE);
  gtk_widget_add_css_class (self->popover, "cb-completion");
  gtk_widget_set_parent (self->popover, GTK_WIDGET (entry));

  g_signal_connect (entry, "changed", G_CALLBACK (on_changed), self);
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (entry), keys);
  g_signal_connect (focus, "leave", G_CALLBACK (on_focus_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (entry), focus);
  return self;
}
