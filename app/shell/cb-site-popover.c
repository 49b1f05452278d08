/* cb-site-popover.c: the site menu behind the icon before the address
 *
 * What the page's connection is, and everything remembered for its site,
 * there to change: each permission (Ask, Allow, Block), pop-ups, the
 * content blocker, and "Forget This Site". */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-site-popover.h"

struct _CbSitePopover {
  GtkPopover parent_instance;
  CbSiteSettings *sites;
  CbContentBlocker *blocker;
  char *site;
  GtkWidget *permission_rows[CB_N_PERMISSIONS];
  GtkWidget *popups_switch;
  GtkWidget *blocker_switch;
  gboolean updating;
};

G_DEFINE_FINAL_TYPE (CbSitePopover, cb_site_popover, GTK_TYPE_POPOVER)

enum { SIGNAL_BLOCKER_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char * const state_names[] = { "Ask", "Allow", "Block", NULL };

static void
refresh (CbSitePopover *self)
{
  self->updating = TRUE;
  for (CbPermission p = 0; p < CB_N_PERMISSIONS; p++)
    gtk_drop_down_set_selected (GTK_DROP_DOWN (self->permission_rows[p]),
                                cb_site_settings_get_permission (self->sites, self->site, p));
  gtk_switch_set_active (GTK_SWITCH (self->popups_switch),
                         cb_site_settings_get_popups_allowed (self->sites, self->site));
  gtk_switch_set_active (GTK_SWITCH (self->blocker_switch),
                         cb_content_blocker_get_enabled (self->blocker) &&
                         !cb_site_settings_get_blocker_disabled (self->sites, self->site));
  gtk_widget_set_sensitive (self->blocker_switch, cb_content_blocker_get_enabled (self->blocker));
  self->updating = FALSE;
}

static void
on_permission_selected (GtkDropDown   *dropdown,
                        GParamSpec    *pspec,
                        CbSitePopover *self)
{
  CbPermission permission = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dropdown), "cb-permission"));

  if (self->updating)
    return;
  cb_site_settings_set_permission (self->sites, self->site, permission,
                                   gtk_drop_down_get_selected (dropdown));
}

static void
on_popups (GtkSwitch     *toggle,
           GParamSpec    *pspec,
           CbSitePopover *self)
{
  if (!self->updating)
    cb_site_settings_set_popups_allowed (self->sites, self->site, gtk_switch_get_active (toggle));
}

static void
on_blocker (GtkSwitch     *toggle,
            GParamSpec    *pspec,
            CbSitePopover *self)
{
  if (self->updating)
    return;
  cb_site_settings_set_blocker_disabled (self->sites, self->site, !gtk_switch_get_active (toggle));
  g_signal_emit (self, signals[SIGNAL_BLOCKER_CHANGED], 0);
}

static void
on_forget (GtkButton     *button,
           CbSitePopover *self)
{
  gboolean blocker_was_off = cb_site_settings_get_blocker_disabled (self->sites, self->site);

  cb_site_settings_forget_site (self->sites, self->site);
  refresh (self);
  if (blocker_was_off)
    g_signal_emit (self, signals[SIGNAL_BLOCKER_CHANGED], 0);
}

static GtkWidget *
labelled (GtkWidget  *grid,
          int         row,
          const char *text,
          GtkWidget  *control)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), control);
  gtk_widget_set_halign (control, GTK_ALIGN_END);
  gtk_widget_set_valign (control, GTK_ALIGN_CENTER);
  gtk_grid_attach (GTK_GRID (grid), label, 0, row, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), control, 1, row, 1, 1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (control), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  label, NULL, -1);
  return control;
}

static void
on_site_changed (CbSiteSettings *sites,
                 const char     *site,
                 const char     *key,
                 CbSitePopover  *self)
{
  if (g_strcmp0 (site, self->site) == 0)
    refresh (self);
}

static void
cb_site_popover_dispose (GObject *object)
{
  CbSitePopover *self = CB_SITE_POPOVER (object);

  if (self->sites)
    g_signal_handlers_disconnect_by_data (self->sites, self);
  g_clear_object (&self->sites);
  g_clear_object (&self->blocker);
  g_clear_pointer (&self->site, g_free);
  G_OBJECT_CLASS (cb_site_popover_parent_class)->dispose (object);
}

static void
cb_site_popover_class_init (CbSitePopoverClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_site_popover_dispose;

  /* The content blocker was turned on or off for the site: the page
   * should be reloaded for it to apply. */
  signals[SIGNAL_BLOCKER_CHANGED] = g_signal_new ("blocker-changed", G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 0);
}

static void
cb_site_popover_init (CbSitePopover *self)
{
}

GtkWidget *
cb_site_popover_new (CbSiteSettings   *sites,
                     CbContentBlocker *blocker,
                     const char       *site,
                     const char       *security)
{
  CbSitePopover *self = g_object_new (CB_TYPE_SITE_POPOVER, NULL);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *heading = gtk_label_new (site);
  GtkWidget *connection = gtk_label_new (security);
  GtkWidget *forget = gtk_button_new_with_mnemonic ("_Forget This Site");
  int row = 0;

  self->sites = g_object_ref (sites);
  self->blocker = g_object_ref (blocker);
  self->site = g_strdup (site);

  gtk_widget_add_css_class (heading, "heading");
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_label_set_xalign (GTK_LABEL (connection), 0);
  gtk_label_set_wrap (GTK_LABEL (connection), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (connection), 40);
  gtk_widget_add_css_class (connection, "dim-label");
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 24);

  for (CbPermission p = 0; p < CB_N_PERMISSIONS; p++)
    {
      g_autofree char *label = g_strdup_printf ("_%s", cb_permission_get_label (p));

      self->permission_rows[p] = gtk_drop_down_new_from_strings (state_names);
      g_object_set_data (G_OBJECT (self->permission_rows[p]), "cb-permission", GINT_TO_POINTER (p));
      labelled (grid, row++, label, self->permission_rows[p]);
      g_signal_connect (self->permission_rows[p], "notify::selected",
                        G_CALLBACK (on_permission_selected), self);
    }
  self->popups_switch = labelled (grid, row++, "Allow _pop-up windows", gtk_switch_new ());
  self->blocker_switch = labelled (grid, row++, "Block _ads and trackers", gtk_switch_new ());
  g_signal_connect (self->popups_switch, "notify::active", G_CALLBACK (on_popups), self);
  g_signal_connect (self->blocker_switch, "notify::active", G_CALLBACK (on_blocker), self);
  g_signal_connect (forget, "clicked", G_CALLBACK (on_forget), self);
  g_signal_connect (sites, "changed", G_CALLBACK (on_site_changed), self);

  gtk_box_append (GTK_BOX (box), heading);
  gtk_box_append (GTK_BOX (box), connection);
  gtk_box_append (GTK_BOX (box), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  gtk_box_append (GTK_BOX (box), grid);
  gtk_box_append (GTK_BOX (box), forget);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_popover_set_child (GTK_POPOVER (self), box);
  refresh (self);
  return GTK_WIDGET (self);
}

const char *
cb_site_popover_get_site (CbSitePopover *self)
{
  return self->site;
}

void
cb_site_popover_set_permission (CbSitePopover     *self,
                                CbPermission       permission,
                                CbPermissionState  state)
{
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->permission_rows[permission]), state);
}

void
cb_site_popover_set_blocker (CbSitePopover *self,
                             gboolean       blocking)
{
  gtk_switch_set_active (GTK_SWITCH (self->blocker_switch), blocking);
}

void
cb_site_popover_set_popups (CbSitePopover *self,
                            gboolean       allowed)
{
  gtk_switch_set_active (GTK_SWITCH (self->popups_switch), allowed);
}
