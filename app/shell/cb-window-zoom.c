/* cb-window-zoom.c: page zoom, remembered per site
 *
 * Ctrl+plus and Ctrl+minus step through the usual zoom levels, Ctrl+0
 * resets; the level is kept for the site (every tab of it follows, and it
 * is back next time).  A button beside the address shows the level when
 * it is not 100 %; the main menu has − 100 % + too. */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-window-private.h"

#include <math.h>

static void
update_zoom (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);
  double zoom = view ? webkit_web_view_get_zoom_level (WEBKIT_WEB_VIEW (view)) : 1.0;
  g_autofree char *label = g_strdup_printf ("%d%%", (int) round (zoom * 100));

  gtk_button_set_label (self->zoom_button, label);
  gtk_widget_set_visible (GTK_WIDGET (self->zoom_button), fabs (zoom - 1.0) > 0.001);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->zoom_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "Zoom level: reset to 100%", -1);
  if (self->zoom_label != NULL)
    gtk_button_set_label (GTK_BUTTON (self->zoom_label), label);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.zoom-in", view != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.zoom-out", view != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.zoom-reset", view != NULL);
}

static void
on_zoom_level (CbWebView  *view,
               GParamSpec *pspec,
               CbWindow   *self)
{
  if (view == cb_window_get_active_view (self))
    update_zoom (self);
}

static void
zoom_step (CbWindow *self,
           int       direction)
{
  CbWebView *view = cb_window_get_active_view (self);

  if (view != NULL)
    cb_web_view_zoom_step (view, direction);
}

static void
action_zoom_in (GtkWidget *widget, const char *name, GVariant *param)
{
  zoom_step (CB_WINDOW (widget), 1);
}

static void
action_zoom_out (GtkWidget *widget, const char *name, GVariant *param)
{
  zoom_step (CB_WINDOW (widget), -1);
}

static void
action_zoom_reset (GtkWidget *widget, const char *name, GVariant *param)
{
  zoom_step (CB_WINDOW (widget), 0);
}

void
_cb_window_zoom_add_view (CbWindow  *self,
                          CbWebView *view)
{
  g_signal_connect_object (view, "notify::zoom-level", G_CALLBACK (on_zoom_level), self, 0);
}

void
_cb_window_zoom_update (CbWindow *self)
{
  update_zoom (self);
}

static GtkWidget *
menu_button (const char *icon,
             const char *action,
             const char *label)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_widget_add_css_class (button, "flat");
  return button;
}

/* The main menu's "−  100 %  +" row. */
GtkWidget *
_cb_window_zoom_menu_row (CbWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *label = gtk_label_new ("Zoom");

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 6);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  self->zoom_label = gtk_button_new_with_label ("100%");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->zoom_label), "win.zoom-reset");
  gtk_widget_add_css_class (self->zoom_label, "flat");
  gtk_widget_set_tooltip_text (self->zoom_label, "Reset zoom (Ctrl+0)");
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), menu_button ("zoom-out-symbolic", "win.zoom-out", "Zoom out (Ctrl+−)"));
  gtk_box_append (GTK_BOX (box), self->zoom_label);
  gtk_box_append (GTK_BOX (box), menu_button ("zoom-in-symbolic", "win.zoom-in", "Zoom in (Ctrl++)"));
  return box;
}

void
_cb_window_zoom_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, action_zoom_in);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, action_zoom_out);
  gtk_widget_class_install_action (widget_class, "win.zoom-reset", NULL, action_zoom_reset);
}
