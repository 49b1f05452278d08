/* test-a11y.c: every control can be reached with the keyboard, and every
 * one a screen reader lands on has a name
 *
 * Runs with GTK_A11Y=test, GTK's accessibility backend for tests, which
 * keeps the accessible properties and relations widgets set. */
#include "cb-config.h"
#include "cb-bookmark-popover.h"
#include "cb-bookmarks-dialog.h"
#include "cb-clear-data-dialog.h"
#include "cb-history-dialog.h"
#include "cb-preferences-window.h"
#include "cb-test-app.h"

#include <string.h>

static gboolean
has_text_label (GtkWidget *widget)
{
  const char *label = NULL;

  if (GTK_IS_BUTTON (widget))
    label = gtk_button_get_label (GTK_BUTTON (widget));
  else if (GTK_IS_MENU_BUTTON (widget))
    label = gtk_menu_button_get_label (GTK_MENU_BUTTON (widget));
  else if (GTK_IS_CHECK_BUTTON (widget))
    label = gtk_check_button_get_label (GTK_CHECK_BUTTON (widget));
  return label != NULL && *label != '\0';
}

/* The row or control carries its name: its own label property, a
 * labelled-by relation, or visible text (a labelled button). */
static gboolean
is_named (GtkWidget *widget)
{
  GtkAccessible *accessible = GTK_ACCESSIBLE (widget);

  if (gtk_test_accessible_has_property (accessible, GTK_ACCESSIBLE_PROPERTY_LABEL) ||
      gtk_test_accessible_has_relation (accessible, GTK_ACCESSIBLE_RELATION_LABELLED_BY) ||
      has_text_label (widget))
    return TRUE;
  /* Libadwaita's rows and GTK's own composite widgets name themselves
   * from their title or text: accept a title when there is one. */
  if (ADW_IS_PREFERENCES_ROW (widget) &&
      *adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)) != '\0')
    return TRUE;
  /* The text inside an entry (GtkEntry, GtkSearchEntry, AdwEntryRow…)
   * is named by the entry; a GtkMenuButton's or GtkDropDown's inner
   * toggle button counts as named when the menu button or drop-down is:
   * that is where GTK's API lets us set the name. */
  if (GTK_IS_TEXT (widget))
    {
      for (GtkWidget *up = gtk_widget_get_parent (widget); up; up = gtk_widget_get_parent (up))
        if (GTK_IS_EDITABLE (up) || ADW_IS_ENTRY_ROW (up))
          return is_named (up);
      return FALSE;
    }
  if (GTK_IS_TOGGLE_BUTTON (widget) &&
      (GTK_IS_MENU_BUTTON (gtk_widget_get_parent (widget)) ||
       GTK_IS_DROP_DOWN (gtk_widget_get_parent (widget))))
    return is_named (gtk_widget_get_parent (widget));
  return FALSE;
}

static gboolean
reachable_type (GtkWidget *widget)
{
  /* What Tab stops at and a person acts on. */
  return GTK_IS_BUTTON (widget) || GTK_IS_MENU_BUTTON (widget) || GTK_IS_CHECK_BUTTON (widget) ||
         GTK_IS_SWITCH (widget) || GTK_IS_DROP_DOWN (widget) || GTK_IS_ENTRY (widget) ||
         GTK_IS_TEXT (widget) || GTK_IS_SEARCH_ENTRY (widget) || ADW_IS_PREFERENCES_ROW (widget) ||
         GTK_IS_LIST_BOX_ROW (widget) || WEBKIT_IS_WEB_VIEW (widget);
}

static void
collect_unnamed (GtkWidget *widget,
                 GString   *out)
{
  /* What is on screen: not the pages of a stack nobody shows yet, nor
   * popovers that are closed. */
  if (!gtk_widget_get_mapped (widget))
    return;
  if (gtk_widget_get_focusable (widget) && gtk_widget_get_sensitive (widget) &&
      reachable_type (widget) && !WEBKIT_IS_WEB_VIEW (widget) && !is_named (widget))
    {
      const char *tooltip = gtk_widget_get_tooltip_text (widget);
      g_string_append_printf (out, "\n  %s%s%s in", G_OBJECT_TYPE_NAME (widget),
                              tooltip ? " tooltip=" : "", tooltip ? tooltip : "");
      for (GtkWidget *up = gtk_widget_get_parent (widget); up; up = gtk_widget_get_parent (up))
        g_string_append_printf (out, " %s", G_OBJECT_TYPE_NAME (up));
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    collect_unnamed (child, out);
}

static void
assert_all_named (GtkWidget  *root,
                  const char *what)
{
  g_autoptr(GString) unnamed = g_string_new (NULL);

  collect_unnamed (root, unnamed);
  if (unnamed->len > 0)
    g_error ("%s: controls without an accessible name:%s", what, unnamed->str);
}

/* Tab, as GTK moves focus with it, from the start to the end of @root:
 * the widgets it stops at. */
static GPtrArray *
tab_order (GtkWidget *root)
{
  GPtrArray *stops = g_ptr_array_new ();

  gtk_root_set_focus (GTK_ROOT (root), NULL);
  for (guint i = 0; i < 200 && gtk_widget_child_focus (root, GTK_DIR_TAB_FORWARD); i++)
    {
      GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (root));

      if (focus == NULL || g_ptr_array_find (stops, focus, NULL))
        break;
      g_ptr_array_add (stops, focus);
    }
  return stops;
}

static gboolean
reaches (GPtrArray *stops,
         GtkWidget *target)
{
  for (guint i = 0; i < stops->len; i++)
    if (stops->pdata[i] == target || gtk_widget_is_ancestor (stops->pdata[i], target))
      return TRUE;
  return FALSE;
}

static GtkWidget *
find_by_tooltip (GtkWidget  *widget,
                 const char *tooltip)
{
  if (g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_by_tooltip (child, tooltip);
      if (found)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_by_type (GtkWidget *widget,
              GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) && gtk_widget_get_mapped (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_by_type (child, type);
      if (found)
        return found;
    }
  return NULL;
}

static void
test_window (void)
{
  CbWindow *window = cb_test_new_window ();
  WebKitWebView *first = cb_test_open (window, "/");
  WebKitWebView *second;
  g_autoptr(GPtrArray) stops = NULL;
  const char *tooltips[] = { "Reload", "Main Menu", "New Tab", NULL };

  cb_test_wait_for_title (first, "Index");
  g_free (cb_test_run_js (first, "document.getElementById('next').click(); 'ok'"));
  cb_test_wait_for_title (first, "Page Two");
  second = cb_test_open (window, "/title/Second");
  cb_test_wait_for_title (second, "Second");
  cb_test_activate (window, "win.zoom-in");         /* shows the zoom button */
  cb_test_activate (window, "win.find");            /* shows the find bar */
  cb_test_iterate (600);                            /* …once it has slid in */

  assert_all_named (GTK_WIDGET (window), "the browser window");
  stops = tab_order (GTK_WIDGET (window));
  for (guint i = 0; i < stops->len; i++)
    g_test_message ("tab stop %u: %s %s", i, G_OBJECT_TYPE_NAME (stops->pdata[i]),
                    gtk_widget_get_tooltip_text (stops->pdata[i]) ? gtk_widget_get_tooltip_text (stops->pdata[i]) : "");
  for (guint i = 0; tooltips[i] != NULL; i++)
    if (!reaches (stops, find_by_tooltip (GTK_WIDGET (window), tooltips[i])))
      g_error ("Tab never reaches \"%s\"", tooltips[i]);
  g_assert_true (reaches (stops, GTK_WIDGET (cb_window_get_address_entry (window))));
  g_assert_true (reaches (stops, GTK_WIDGET (cb_window_get_zoom_button (window))));
  g_assert_true (reaches (stops, GTK_WIDGET (cb_window_get_find_entry (window))));
  g_assert_true (reaches (stops, GTK_WIDGET (cb_window_get_active_view (window))));

  /* Where the focus is shows, as it does after a Tab. */
  gtk_widget_grab_focus (find_by_tooltip (GTK_WIDGET (window), "New Tab"));
  gtk_window_set_focus_visible (GTK_WINDOW (window), TRUE);
  cb_test_iterate (200);
  g_free (cb_test_screenshot (GTK_WIDGET (window), "a11y-keyboard-focus"));
  cb_test_activate (window, "win.zoom-reset");
  cb_test_close_window (window);
}

static void
check_dialog (GtkWindow  *dialog,
              const char *what)
{
  g_autoptr(GPtrArray) stops = NULL;

  assert_all_named (GTK_WIDGET (dialog), what);
  stops = tab_order (GTK_WIDGET (dialog));
  g_test_message ("%s: %u tab stops", what, stops->len);
  g_assert_cmpuint (stops->len, >, 1);
}

static void
test_dialogs (void)
{
  CbWindow *window = cb_test_new_window ();
  CbBookmarks *bookmarks = cb_user_profile_get_bookmarks (cb_web_context_get_profile (
    cb_window_get_context (window)));
  CbSiteSettings *sites = cb_user_profile_get_site_settings (cb_web_context_get_profile (
    cb_window_get_context (window)));
  GtkWindow *dialog;

  cb_test_wait_for_title (cb_test_open (window, "/title/Dialogs"), "Dialogs");
  cb_bookmarks_add (bookmarks, "https://a.example/", "A bookmark", NULL, NULL);
  cb_bookmarks_add_folder (bookmarks, "A folder", NULL);
  cb_site_settings_set_permission (sites, "https://a.example", CB_PERMISSION_CAMERA,
                                   CB_PERMISSION_ALLOW);

  cb_test_activate (window, "win.history");
  cb_test_wait_window (CB_TYPE_HISTORY_DIALOG);
  dialog = cb_test_find_window (CB_TYPE_HISTORY_DIALOG);
  cb_test_iterate (300);
  check_dialog (dialog, "the history page");
  gtk_window_destroy (dialog);

  cb_test_activate (window, "win.bookmarks");
  cb_test_wait_window (CB_TYPE_BOOKMARKS_DIALOG);
  dialog = cb_test_find_window (CB_TYPE_BOOKMARKS_DIALOG);
  check_dialog (dialog, "the bookmarks page");
  gtk_window_destroy (dialog);

  cb_test_activate (window, "win.clear-data");
  cb_test_wait_window (CB_TYPE_CLEAR_DATA_DIALOG);
  dialog = cb_test_find_window (CB_TYPE_CLEAR_DATA_DIALOG);
  check_dialog (dialog, "clear browsing data");
  gtk_window_destroy (dialog);

  g_action_group_activate_action (G_ACTION_GROUP (cb_test_app), "preferences", NULL);
  cb_test_wait_window (CB_TYPE_PREFERENCES_WINDOW);
  dialog = cb_test_find_window (CB_TYPE_PREFERENCES_WINDOW);
  check_dialog (dialog, "the preferences");
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (dialog), "privacy");
  check_dialog (dialog, "the privacy preferences");
  gtk_window_destroy (dialog);

  /* The popovers: the bookmark's, the site's. */
  cb_test_activate (window, "win.bookmark-page");
  cb_test_iterate (300);
  g_assert_nonnull (find_by_type (GTK_WIDGET (window), CB_TYPE_BOOKMARK_POPOVER));
  assert_all_named (GTK_WIDGET (window), "the bookmark popover");
  cb_test_activate (window, "win.site-info");
  cb_test_iterate (300);
  g_assert_true (gtk_widget_get_mapped (cb_window_get_site_popover (window)));
  assert_all_named (GTK_WIDGET (window), "the site popover");
  cb_test_close_window (window);
}

/* One spelling for each accelerator: "<Control><Shift>n" and
 * "<Shift><Control>n" are the same. */
static char *
normalized (const char *accel)
{
  guint key = 0;
  GdkModifierType mods = 0;

  if (!gtk_accelerator_parse (accel, &key, &mods))
    g_error ("cannot parse the accelerator %s", accel);
  return gtk_accelerator_name (key, mods);
}

static void
collect_shortcuts (GtkWidget  *widget,
                   GHashTable *accels)
{
  if (GTK_IS_SHORTCUTS_SHORTCUT (widget))
    {
      g_autofree char *accelerator = NULL;
      g_auto(GStrv) each = NULL;

      g_object_get (widget, "accelerator", &accelerator, NULL);
      each = g_strsplit (accelerator, " ", -1);
      for (guint i = 0; each[i] != NULL; i++)
        g_hash_table_add (accels, normalized (each[i]));
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    collect_shortcuts (child, accels);
}

/* The keyboard shortcuts window lists every action's first shortcut, and
 * every shortcut it lists does something. */
static void
test_shortcuts_documented (void)
{
  CbWindow *window = cb_test_new_window ();
  GtkShortcutsWindow *overlay = gtk_application_window_get_help_overlay (
    GTK_APPLICATION_WINDOW (window));
  g_autoptr(GHashTable) listed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) actions = gtk_application_list_action_descriptions (GTK_APPLICATION (cb_test_app));
  GHashTableIter iter;
  const char *accel;

  g_assert_nonnull (overlay);
  collect_shortcuts (GTK_WIDGET (overlay), listed);
  for (guint i = 0; actions[i] != NULL; i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (cb_test_app),
                                                                    actions[i]);

      g_autofree char *first = accels[0] ? normalized (accels[0]) : NULL;

      if (first != NULL && !g_hash_table_contains (listed, first))
        g_error ("the shortcuts window does not list %s (%s)", accels[0], actions[i]);
    }
  g_hash_table_iter_init (&iter, listed);
  while (g_hash_table_iter_next (&iter, (gpointer *) &accel, NULL))
    {
      g_auto(GStrv) does = gtk_application_get_actions_for_accel (GTK_APPLICATION (cb_test_app),
                                                                  accel);

      if (does[0] == NULL)
        g_error ("the shortcuts window lists %s, which does nothing", accel);
    }
  g_test_message ("%u shortcuts listed, %u actions", g_hash_table_size (listed),
                  g_strv_length (actions));
  cb_test_activate (window, "win.show-help-overlay");
  cb_test_iterate (500);
  g_free (cb_test_screenshot (GTK_WIDGET (overlay), "a11y-shortcuts"));
  gtk_window_close (GTK_WINDOW (overlay));
  cb_test_close_window (window);
}

int
main (int   argc,
      char *argv[])
{
  cb_test_app_init (&argc, &argv, "A11y");
  g_test_add_func ("/shell/a11y/window", test_window);
  g_test_add_func ("/shell/a11y/dialogs", test_dialogs);
  g_test_add_func ("/shell/a11y/shortcuts-documented", test_shortcuts_documented);
  return cb_test_app_run ();
}
