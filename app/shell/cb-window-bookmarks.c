/* cb-window-bookmarks.c: the star in the address entry
 *
 * Empty star: the page is not bookmarked; pressing it (or Ctrl+D) adds it
 * and opens the bookmark's popover to name it, file it and tag it.  Full
 * star: it is; pressing it opens the popover to change or remove it.
 * Private windows show the bookmarks but do not change them. */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-window-private.h"
#include "cb-bookmark-popover.h"
#include "cb-bookmarks-dialog.h"

static gboolean
can_bookmark (const char *uri)
{
  const char *scheme = uri ? g_uri_peek_scheme (uri) : NULL;

  return scheme != NULL && (g_str_equal (scheme, "http") || g_str_equal (scheme, "https") ||
                            g_str_equal (scheme, "file") || g_str_equal (scheme, "cloud"));
}

static const char *
current_uri (CbWindow *self)
{
  CbWebView *view = cb_window_get_active_view (self);

  return view ? cb_web_view_get_display_uri (view) : NULL;
}

void
_cb_window_bookmarks_update (CbWindow *self)
{
  CbBookmarks *bookmarks;
  const char *uri;
  gboolean marked, read_only;

  if (self->context == NULL)
    return;
  bookmarks = cb_user_profile_get_bookmarks (_cb_window_get_profile (self));
  uri = current_uri (self);
  read_only = cb_web_context_is_private (self->context);
  if (!can_bookmark (uri))
    {
      gtk_entry_set_icon_from_icon_name (self->address_entry, GTK_ENTRY_ICON_SECONDARY, NULL);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.bookmark-page", FALSE);
      return;
    }
  marked = cb_bookmarks_lookup_url (bookmarks, uri) != NULL;
  gtk_entry_set_icon_from_icon_name (self->address_entry, GTK_ENTRY_ICON_SECONDARY,
                                     marked ? "starred-symbolic" : "non-starred-symbolic");
  gtk_entry_set_icon_tooltip_text (self->address_entry, GTK_ENTRY_ICON_SECONDARY,
                                   read_only ? "Bookmarks cannot be changed in a private window"
                                   : marked ? "Edit this bookmark (Ctrl+D)"
                                   : "Bookmark this page (Ctrl+D)");
  gtk_entry_set_icon_activatable (self->address_entry, GTK_ENTRY_ICON_SECONDARY, !read_only);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.bookmark-page", !read_only);
}

static void
on_popover_closed (GtkPopover *popover,
                   CbWindow   *self)
{
  /* Unparent once it has finished closing and applied its changes. */
  if (self->bookmark_popover == GTK_WIDGET (popover))
    {
      gtk_widget_unparent (self->bookmark_popover);
      self->bookmark_popover = NULL;
    }
}

static void
action_bookmark_page (GtkWidget  *widget,
                      const char *name,
                      GVariant   *param)
{
  CbWindow *self = CB_WINDOW (widget);
  CbWebView *view = cb_window_get_active_view (self);
  CbBookmarks *bookmarks = cb_user_profile_get_bookmarks (_cb_window_get_profile (self));
  const char *uri = current_uri (self);
  CbBookmark *bookmark;
  gboolean added = FALSE;
  GdkRectangle area;

  if (view == NULL || !can_bookmark (uri) || cb_web_context_is_private (self->context))
    return;
  bookmark = cb_bookmarks_lookup_url (bookmarks, uri);
  if (bookmark == NULL)
    {
      bookmark = cb_bookmarks_add (bookmarks, uri, cb_web_view_get_display_title (view), NULL, NULL);
      added = TRUE;
    }
  g_clear_pointer (&self->bookmark_popover, gtk_widget_unparent);
  self->bookmark_popover = cb_bookmark_popover_new (bookmarks, bookmark, added);
  gtk_widget_set_parent (self->bookmark_popover, GTK_WIDGET (self->address_entry));
  gtk_entry_get_icon_area (self->address_entry, GTK_ENTRY_ICON_SECONDARY, &area);
  gtk_popover_set_pointing_to (GTK_POPOVER (self->bookmark_popover), &area);
  g_signal_connect_object (self->bookmark_popover, "closed", G_CALLBACK (on_popover_closed), self,
                           G_CONNECT_AFTER);
  gtk_popover_popup (GTK_POPOVER (self->bookmark_popover));
}

static void
action_bookmarks (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  gtk_window_present (GTK_WINDOW (cb_bookmarks_dialog_new (CB_WINDOW (widget))));
}

static void
on_icon_press (GtkEntry             *entry,
               GtkEntryIconPosition  position,
               CbWindow             *self)
{
  if (position == GTK_ENTRY_ICON_SECONDARY)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.bookmark-page", NULL);
}

static void
on_bookmarks_changed (CbBookmarks *bookmarks,
                      CbWindow    *self)
{
  _cb_window_bookmarks_update (self);
}

void
_cb_window_bookmarks_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.bookmark-page", NULL, action_bookmark_page);
  gtk_widget_class_install_action (widget_class, "win.bookmarks", NULL, action_bookmarks);
}

void
_cb_window_bookmarks_init (CbWindow *self)
{
  g_signal_connect (self->address_entry, "icon-press", G_CALLBACK (on_icon_press), self);
  g_signal_connect_object (cb_user_profile_get_bookmarks (_cb_window_get_profile (self)), "changed",
                           G_CALLBACK (on_bookmarks_changed), self, 0);
}
