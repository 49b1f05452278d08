/* cb-window-history.c: the window's history actions
 *
 * Ctrl+H opens the history page of this window's profile, Shift+Ctrl+Delete
 * the "clear browsing data" dialog.  (Recording visits is the web view's
 * job; suggestions are CbAddressCompletion's.) */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-window-private.h"
#include "cb-clear-data-dialog.h"
#include "cb-history-dialog.h"

static void
action_history (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  CbWindow *self = CB_WINDOW (widget);

  gtk_window_present (GTK_WINDOW (cb_history_dialog_new (self)));
}

static void
action_clear_data (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  CbWindow *self = CB_WINDOW (widget);

  gtk_window_present (GTK_WINDOW (cb_clear_data_dialog_new (self, NULL)));
}

void
_cb_window_history_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.history", NULL, action_history);
  gtk_widget_class_install_action (widget_class, "win.clear-data", NULL, action_clear_data);
}

void
_cb_window_history_init (CbWindow *self)
{
}
