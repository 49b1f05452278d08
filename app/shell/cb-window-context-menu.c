/* cb-window-context-menu.c: what right-clicking a page offers
 *
 * On a link: open it in a new tab or window, copy its address.  On an
 * image: open it, save it (to the download folder, through the downloads
 * list), copy its address.  WebKit's own items stay for text, editing,
 * media and navigation; "Inspect Element" only appears with the developer
 * tools enabled in the preferences.  The menu's items are the window's
 * "ctx." actions, acting on what was under the pointer. */
#define G_LOG_DOMAIN "cb-window"

#include "cb-config.h"
#include "cb-window-private.h"

static const char *
link_uri (CbWindow *self)
{
  return self->context_hit && webkit_hit_test_result_context_is_link (self->context_hit)
           ? webkit_hit_test_result_get_link_uri (self->context_hit) : NULL;
}

static const char *
image_uri (CbWindow *self)
{
  return self->context_hit && webkit_hit_test_result_context_is_image (self->context_hit)
           ? webkit_hit_test_result_get_image_uri (self->context_hit) : NULL;
}

static void
copy_text (CbWindow   *self,
           const char *text)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
}

static void
open_link_tab (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbWindow *self = user_data;
  const char *uri = link_uri (self);

  /* In the background, beside its page, as in GNOME Web. */
  if (uri != NULL)
    cb_window_open_tab (self, uri, FALSE);
}

static void
open_link_window (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbWindow *self = user_data;
  const char *uri = link_uri (self);
  CbWindow *window;

  if (uri == NULL)
    return;
  window = cb_window_new (gtk_window_get_application (GTK_WINDOW (self)), self->context);
  cb_window_open_tab (window, uri, TRUE);
  gtk_window_present (GTK_WINDOW (window));
}

static void
copy_link (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbWindow *self = user_data;

  if (link_uri (self) != NULL)
    copy_text (self, link_uri (self));
}

static void
open_image_tab (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbWindow *self = user_data;

  if (image_uri (self) != NULL)
    cb_window_open_tab (self, image_uri (self), TRUE);
}

static void
save_image (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbWindow *self = user_data;
  g_autoptr(WebKitDownload) download = NULL;

  /* Through the network session: it lands in the downloads list and the
   * download folder like any download, with the page's cookies. */
  if (image_uri (self) != NULL && self->context_view != NULL)
    download = webkit_web_view_download_uri (WEBKIT_WEB_VIEW (self->context_view), image_uri (self));
}

static void
copy_image_address (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  CbWindow *self = user_data;

  if (image_uri (self) != NULL)
    copy_text (self, image_uri (self));
}

static const GActionEntry context_actions[] = {
  { .name = "open-link-tab", .activate = open_link_tab },
  { .name = "open-link-window", .activate = open_link_window },
  { .name = "copy-link", .activate = copy_link },
  { .name = "open-image-tab", .activate = open_image_tab },
  { .name = "save-image", .activate = save_image },
  { .name = "copy-image-address", .activate = copy_image_address },
};

/* WebKit's items that ours replace, or that make no sense here. */
static gboolean
replaced (WebKitContextMenuAction action)
{
  switch (action)
    {
    case WEBKIT_CONTEXT_MENU_ACTION_OPEN_LINK:
    case WEBKIT_CONTEXT_MENU_ACTION_OPEN_LINK_IN_NEW_WINDOW:
    case WEBKIT_CONTEXT_MENU_ACTION_DOWNLOAD_LINK_TO_DISK:
    case WEBKIT_CONTEXT_MENU_ACTION_COPY_LINK_TO_CLIPBOARD:
    case WEBKIT_CONTEXT_MENU_ACTION_OPEN_IMAGE_IN_NEW_WINDOW:
    case WEBKIT_CONTEXT_MENU_ACTION_DOWNLOAD_IMAGE_TO_DISK:
    case WEBKIT_CONTEXT_MENU_ACTION_COPY_IMAGE_URL_TO_CLIPBOARD:
    case WEBKIT_CONTEXT_MENU_ACTION_OPEN_FRAME_IN_NEW_WINDOW:
    case WEBKIT_CONTEXT_MENU_ACTION_OPEN_VIDEO_IN_NEW_WINDOW:
    case WEBKIT_CONTEXT_MENU_ACTION_OPEN_AUDIO_IN_NEW_WINDOW:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
add_item (WebKitContextMenu *menu,
          guint             *position,
          CbWindow          *self,
          const char        *name,
          const char        *label)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (g_object_get_data (G_OBJECT (self),
                                                                                "cb-context-actions")),
                                                name);

  webkit_context_menu_insert (menu, webkit_context_menu_item_new_from_gaction (action, label, NULL),
                              (int) (*position)++);
}

static gboolean
on_context_menu (CbWebView           *view,
                 WebKitContextMenu   *menu,
                 WebKitHitTestResult *hit,
                 CbWindow            *self)
{
  GList *items = g_list_copy (webkit_context_menu_get_items (menu));
  guint position = 0;

  g_set_object (&self->context_hit, hit);
  g_set_weak_pointer (&self->context_view, view);
  for (GList *l = items; l != NULL; l = l->next)
    if (replaced (webkit_context_menu_item_get_stock_action (l->data)))
      webkit_context_menu_remove (menu, l->data);
  g_list_free (items);

  if (link_uri (self) != NULL)
    {
      add_item (menu, &position, self, "open-link-tab", "Open Link in New _Tab");
      add_item (menu, &position, self, "open-link-window", "Open Link in New _Window");
      add_item (menu, &position, self, "copy-link", "_Copy Link Address");
    }
  if (image_uri (self) != NULL)
    {
      if (position > 0)
        webkit_context_menu_insert (menu, webkit_context_menu_item_new_separator (), (int) position++);
      add_item (menu, &position, self, "open-image-tab", "Open _Image in New Tab");
      add_item (menu, &position, self, "save-image", "_Save Image");
      add_item (menu, &position, self, "copy-image-address", "Copy Image _Address");
    }
  if (position > 0 && webkit_context_menu_get_n_items (menu) > position)
    webkit_context_menu_insert (menu, webkit_context_menu_item_new_separator (), (int) position);
  return FALSE;   /* show it */
}

void
_cb_window_context_menu_add_view (CbWindow  *self,
                                  CbWebView *view)
{
  g_signal_connect_object (view, "context-menu", G_CALLBACK (on_context_menu), self, 0);
}

void
_cb_window_context_menu_init (CbWindow *self)
{
  GSimpleActionGroup *group = g_simple_action_group_new ();

  g_action_map_add_action_entries (G_ACTION_MAP (group), context_actions,
                                   G_N_ELEMENTS (context_actions), self);
  g_object_set_data_full (G_OBJECT (self), "cb-context-actions", group, g_object_unref);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "ctx", G_ACTION_GROUP (group));
}
