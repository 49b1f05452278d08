/* notes-ui.c: the notes plugin's native UI module (GTK 4)
 *
 * Lists the notes through the system's named query, and adds one with a
 * write through the context: what a real app's native UI does. */
#include <cloud-bevy/cloud-bevy-ui.h>

typedef struct {
  CbContext *context;
  GtkWidget *list;
  GtkWidget *entry;
  GtkWidget *status;
} NotesUi;

static void
notes_ui_free (gpointer data)
{
  NotesUi *ui = data;

  g_signal_handlers_disconnect_by_data (ui->context, ui);
  g_object_unref (ui->context);
  g_free (ui);
}

static void
refresh (NotesUi *ui)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) result = cb_context_query (ui->context, "all", NULL, &error);
  GtkWidget *child;
  JsonArray *rows;

  while ((child = gtk_widget_get_first_child (ui->list)) != NULL)
    gtk_box_remove (GTK_BOX (ui->list), child);
  if (result == NULL)
    {
      gtk_label_set_text (GTK_LABEL (ui->status), error->message);
      return;
    }
  rows = json_object_get_array_member (json_node_get_object (result), "rows");
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonArray *row = json_array_get_array_element (rows, i);
      GtkWidget *label = gtk_label_new (json_array_get_string_element (row, 2));

      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_box_append (GTK_BOX (ui->list), label);
    }
  {
    g_autofree char *text = g_strdup_printf ("%u note%s", json_array_get_length (rows),
                                             json_array_get_length (rows) == 1 ? "" : "s");
    gtk_label_set_text (GTK_LABEL (ui->status), text);
  }
}

static void
on_changed (CbContext *context, gpointer user_data)
{
  refresh (user_data);
}

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  NotesUi *ui = user_data;
  g_autoptr(GError) error = NULL;

  if (!cb_context_write_finish (CB_CONTEXT (source), result, &error))
    gtk_label_set_text (GTK_LABEL (ui->status), error->message);
  else
    refresh (ui);
}

static void
on_add (GtkButton *button, gpointer user_data)
{
  NotesUi *ui = user_data;
  g_autoptr(JsonArray) rows = json_array_new ();
  JsonObject *row = json_object_new ();
  g_autofree char *id = g_uuid_string_random ();

  json_object_set_string_member (row, "id", id);
  json_object_set_string_member (row, "author", cb_context_get_node_id (ui->context));
  json_object_set_string_member (row, "text", gtk_editable_get_text (GTK_EDITABLE (ui->entry)));
  json_array_add_object_element (rows, row);
  cb_context_upsert_async (ui->context, "notes", rows, NULL, on_written, ui);
}

static GtkWidget *
notes_ui_create (CbContext  *context,
                 GError    **error)
{
  NotesUi *ui = g_new0 (NotesUi, 1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *title = gtk_label_new ("Notes (native UI)");
  GtkWidget *add = gtk_button_new_with_label ("Add note");

  ui->context = g_object_ref (context);
  ui->list = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  ui->entry = gtk_entry_new ();
  ui->status = gtk_label_new ("");
  gtk_widget_set_name (ui->entry, "notes-entry");
  gtk_widget_set_name (add, "notes-add");
  gtk_widget_set_name (ui->status, "notes-status");
  gtk_widget_set_margin_start (box, 24);
  gtk_widget_set_margin_end (box, 24);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_add_css_class (title, "title-1");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (ui->status), 0);
  gtk_widget_set_hexpand (ui->entry, TRUE);
  gtk_box_append (GTK_BOX (row), ui->entry);
  gtk_box_append (GTK_BOX (row), add);
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), row);
  gtk_box_append (GTK_BOX (box), ui->status);
  gtk_box_append (GTK_BOX (box), ui->list);
  g_signal_connect (add, "clicked", G_CALLBACK (on_add), ui);
  g_signal_connect (context, "changed", G_CALLBACK (on_changed), ui);
  g_object_set_data_full (G_OBJECT (box), "notes-ui", ui, notes_ui_free);
  refresh (ui);
  return box;
}

CB_PLUGIN_UI_DEFINE (notes_ui_create)
