/* cb-clear-data-dialog.c: what to forget, and since when */
#define G_LOG_DOMAIN "cb-clear-data"

#include "cb-config.h"
#include "cb-clear-data-dialog.h"
#include "cb-window-private.h"

struct _CbClearDataDialog {
  AdwWindow parent_instance;
  CbWindow *window;   /* weak */
  guint pending;
  GError *error;

  AdwComboRow *range_row;
  GtkCheckButton *history_check;
  GtkCheckButton *cookies_check;
  GtkCheckButton *cache_check;
};

G_DEFINE_FINAL_TYPE (CbClearDataDialog, cb_clear_data_dialog, ADW_TYPE_WINDOW)

gint64
cb_clear_range_start (CbClearRange range,
                      gint64       now_us)
{
  const gint64 hour = G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC;

  switch (range)
    {
    case CB_CLEAR_LAST_HOUR:
      return now_us - hour;
    case CB_CLEAR_LAST_DAY:
      return now_us - 24 * hour;
    case CB_CLEAR_LAST_WEEK:
      return now_us - 7 * 24 * hour;
    case CB_CLEAR_LAST_4_WEEKS:
      return now_us - 28 * 24 * hour;
    case CB_CLEAR_EVERYTHING:
    default:
      return 0;
    }
}

static void
one_done (CbClearDataDialog *self)
{
  CbWindow *window = self->window;

  if (--self->pending > 0)
    return;
  if (window != NULL)
    {
      if (self->error != NULL)
        {
          g_autofree char *message = g_strdup_printf ("Not everything could be cleared: %s",
                                                      self->error->message);
          _cb_window_toast (window, message);
        }
      else
        _cb_window_toast (window, "Browsing data cleared");
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
history_cleared (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(CbClearDataDialog) self = user_data;

  if (!cb_history_clear_finish (CB_HISTORY (source), result, self->error ? NULL : &self->error))
    g_warning ("the history could not be cleared");
  one_done (self);
}

static void
data_cleared (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(CbClearDataDialog) self = user_data;

  if (!cb_web_context_clear_data_finish (CB_WEB_CONTEXT (source), result,
                                         self->error ? NULL : &self->error))
    g_warning ("site data could not be cleared");
  one_done (self);
}

typedef struct {
  CbClearDataDialog *self;
  WebKitWebsiteDataTypes types;
  gint64 since;
  gboolean history;
} ClearPlan;

/* Once the sites visited in the range are known (cookies need them),
 * everything is cleared at once. */
static void
clear_now (ClearPlan           *plan,
           const char * const  *hosts)
{
  CbClearDataDialog *self = plan->self;
  CbWebContext *context = self->window ? cb_window_get_context (self->window) : NULL;

  if (context == NULL)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  self->pending = 1;   /* released below, so nothing finishes early */
  if (plan->history)
    {
      self->pending++;
      cb_history_clear_async (cb_user_profile_get_history (cb_web_context_get_profile (context)),
                              plan->since, NULL, history_cleared, g_object_ref (self));
    }
  if (plan->types != 0)
    {
      self->pending++;
      cb_web_context_clear_data_async (context, plan->types, plan->since, hosts, NULL, data_cleared,
                                       g_object_ref (self));
    }
  one_done (self);
}

static void
visited_hosts_read (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  ClearPlan *plan = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = cb_history_query_finish (CB_HISTORY (source), result, &error);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) hosts = NULL;

  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      CbHistoryEntry *entry = entries->pdata[i];
      g_autoptr(GUri) uri = g_uri_parse (entry->url, G_URI_FLAGS_NONE, NULL);
      const char *host = uri ? g_uri_get_host (uri) : NULL;

      if (host != NULL && g_hash_table_add (seen, g_ascii_strdown (host, -1)))
        g_strv_builder_add (builder, host);
    }
  hosts = g_strv_builder_end (builder);
  clear_now (plan, (const char * const *) hosts);
  g_object_unref (plan->self);
  g_free (plan);
}

static void
action_clear (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  CbClearDataDialog *self = CB_CLEAR_DATA_DIALOG (widget);
  CbClearRange range = adw_combo_row_get_selected (self->range_row);
  ClearPlan *plan;
  CbWebContext *context;

  if (self->window == NULL || self->pending > 0)
    return;
  context = cb_window_get_context (self->window);
  plan = g_new0 (ClearPlan, 1);
  plan->self = g_object_ref (self);
  plan->since = cb_clear_range_start (range, g_get_real_time ());
  plan->history = gtk_check_button_get_active (self->history_check);
  if (gtk_check_button_get_active (self->cookies_check))
    plan->types |= WEBKIT_WEBSITE_DATA_COOKIES | WEBKIT_WEBSITE_DATA_LOCAL_STORAGE |
                   WEBKIT_WEBSITE_DATA_SESSION_STORAGE | WEBKIT_WEBSITE_DATA_INDEXEDDB_DATABASES |
                   WEBKIT_WEBSITE_DATA_OFFLINE_APPLICATION_CACHE | WEBKIT_WEBSITE_DATA_HSTS_CACHE |
                   WEBKIT_WEBSITE_DATA_SERVICE_WORKER_REGISTRATIONS | WEBKIT_WEBSITE_DATA_DOM_CACHE;
  if (gtk_check_button_get_active (self->cache_check))
    plan->types |= WEBKIT_WEBSITE_DATA_DISK_CACHE | WEBKIT_WEBSITE_DATA_MEMORY_CACHE;

  gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
  self->pending = 1;
  /* Cookies of a time range: those of the sites visited in it, read from
   * the history before it is cleared. */
  if (plan->since > 0 && (plan->types & WEBKIT_WEBSITE_DATA_COOKIES))
    {
      cb_history_query_async (cb_user_profile_get_history (cb_web_context_get_profile (context)),
                              NULL, plan->since, 0, 0, NULL, visited_hosts_read, plan);
      return;
    }
  clear_now (plan, NULL);
  g_object_unref (plan->self);
  g_free (plan);
}

static void
update_clear (CbClearDataDialog *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "clear-data.clear",
                                 gtk_check_button_get_active (self->history_check) ||
                                 gtk_check_button_get_active (self->cookies_check) ||
                                 gtk_check_button_get_active (self->cache_check));
}

static void
cb_clear_data_dialog_dispose (GObject *object)
{
  CbClearDataDialog *self = CB_CLEAR_DATA_DIALOG (object);

  g_clear_weak_pointer (&self->window);
  g_clear_error (&self->error);
  G_OBJECT_CLASS (cb_clear_data_dialog_parent_class)->dispose (object);
}

static void
cb_clear_data_dialog_class_init (CbClearDataDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = cb_clear_data_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               CB_RESOURCE_PREFIX "/cb-clear-data-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CbClearDataDialog, range_row);
  gtk_widget_class_bind_template_child (widget_class, CbClearDataDialog, history_check);
  gtk_widget_class_bind_template_child (widget_class, CbClearDataDialog, cookies_check);
  gtk_widget_class_bind_template_child (widget_class, CbClearDataDialog, cache_check);
  gtk_widget_class_install_action (widget_class, "clear-data.clear", NULL, action_clear);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
cb_clear_data_dialog_init (CbClearDataDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->history_check, "toggled", G_CALLBACK (update_clear), self);
  g_signal_connect_swapped (self->cookies_check, "toggled", G_CALLBACK (update_clear), self);
  g_signal_connect_swapped (self->cache_check, "toggled", G_CALLBACK (update_clear), self);
  /* A safe default: the last hour. */
  adw_combo_row_set_selected (self->range_row, CB_CLEAR_LAST_HOUR);
}

CbClearDataDialog *
cb_clear_data_dialog_new (CbWindow  *window,
                          GtkWindow *parent)
{
  CbClearDataDialog *self = g_object_new (CB_TYPE_CLEAR_DATA_DIALOG,
                                          "transient-for", parent ? parent : GTK_WINDOW (window),
                                          NULL);

  g_set_weak_pointer (&self->window, window);
  return self;
}

void
cb_clear_data_dialog_set_range (CbClearDataDialog *self,
                                CbClearRange       range)
{
  adw_combo_row_set_selected (self->range_row, range);
}

void
cb_clear_data_dialog_set_kinds (CbClearDataDialog *self,
                                gboolean           history,
                                gboolean           cookies,
                                gboolean           cache)
{
  gtk_check_button_set_active (self->history_check, history);
  gtk_check_button_set_active (self->cookies_check, cookies);
  gtk_check_button_set_active (self->cache_check, cache);
}
