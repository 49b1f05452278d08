/* cb-web-context.c: the WebKit state a profile's web views share
 *
 * Data (cookies, local storage, favicons) lives under the profile's data
 * dir, the HTTP cache under its cache dir; both follow XDG so Flatpak and
 * tests can relocate them with the usual variables.  A private context
 * keeps even its compiled content filter in the runtime directory (memory
 * on a desktop) and removes it when it goes. */
#define G_LOG_DOMAIN "cb-web-context"

#include "cb-config.h"
#include "cb-web-context.h"
#include "cb-embed-resources.h"
#include "cb-reader.h"
#include "cb-view-source.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

struct _CbWebContext {
  GObject parent_instance;
  gboolean is_private;
  char *filter_dir;          /* private contexts: removed on dispose */
  WebKitWebContext *web_context;
  WebKitNetworkSession *network_session;
  WebKitSettings *web_settings;
  WebKitUserContentManager *user_content;
  CbCloudScheme *cloud_scheme;
  CbCloudappScheme *cloudapp_scheme;
  CbUserProfile *profile;
  CbContentBlocker *blocker;
  CbDownloadManager *downloads;
  CbReader *reader;
  CbViewSource *view_source;
  GSettings *settings;
  GHashTable *http_allowed;  /* host set */
};

G_DEFINE_FINAL_TYPE (CbWebContext, cb_web_context, G_TYPE_OBJECT)

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
cb_web_context_dispose (GObject *object)
{
  CbWebContext *self = CB_WEB_CONTEXT (object);

  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  if (self->profile != NULL)
    g_signal_handlers_disconnect_by_data (cb_user_profile_get_site_settings (self->profile), self);
  g_clear_object (&self->downloads);
  g_clear_object (&self->blocker);
  g_clear_object (&self->reader);
  g_clear_object (&self->view_source);
  g_clear_object (&self->network_session);
  g_clear_object (&self->web_context);
  g_clear_object (&self->web_settings);
  g_clear_object (&self->user_content);
  g_clear_object (&self->cloud_scheme);
  g_clear_object (&self->cloudapp_scheme);
  g_clear_object (&self->profile);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->http_allowed, g_hash_table_unref);
  if (self->filter_dir != NULL)
    remove_tree (self->filter_dir);
  g_clear_pointer (&self->filter_dir, g_free);
  G_OBJECT_CLASS (cb_web_context_parent_class)->dispose (object);
}

static void
cb_web_context_class_init (CbWebContextClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_web_context_dispose;
}

static void
cb_web_context_init (CbWebContext *self)
{
  self->http_allowed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
on_blocker_setting (GSettings    *settings,
                    const char   *key,
                    CbWebContext *self)
{
  cb_content_blocker_set_enabled (self->blocker, g_settings_get_boolean (settings, key));
}

/* Remembered answers to notification prompts, for web processes that
 * start from now on (pages check Notification.permission up front). */
static void
initialize_notification_permissions (CbWebContext *self)
{
  CbSiteSettings *sites = cb_user_profile_get_site_settings (self->profile);
  g_auto(GStrv) allowed = cb_site_settings_list_with (sites, CB_PERMISSION_NOTIFICATIONS,
                                                      CB_PERMISSION_ALLOW);
  g_auto(GStrv) denied = cb_site_settings_list_with (sites, CB_PERMISSION_NOTIFICATIONS,
                                                     CB_PERMISSION_DENY);
  GList *allow_list = NULL, *deny_list = NULL;

  for (guint i = 0; allowed[i] != NULL; i++)
    allow_list = g_list_prepend (allow_list, webkit_security_origin_new_for_uri (allowed[i]));
  for (guint i = 0; denied[i] != NULL; i++)
    deny_list = g_list_prepend (deny_list, webkit_security_origin_new_for_uri (denied[i]));
  webkit_web_context_initialize_notification_permissions (self->web_context, allow_list, deny_list);
  g_list_free_full (allow_list, (GDestroyNotify) webkit_security_origin_unref);
  g_list_free_full (deny_list, (GDestroyNotify) webkit_security_origin_unref);
}

static void
on_initialize_notification_permissions (WebKitWebContext *context,
                                        CbWebContext     *self)
{
  initialize_notification_permissions (self);
}

static void
setup (CbWebContext *self,
       const char   *filter_dir)
{
  WebKitWebsiteDataManager *data_manager;
  WebKitSecurityManager *security;

  /* The embed layer's resources (filter list, reader style) register
   * themselves from a constructor; referencing them keeps the linker from
   * dropping them out of the static library. */
  (void) cb_embed_get_resource ();

  self->settings = g_settings_new (CB_SCHEMA_ID);
  data_manager = webkit_network_session_get_website_data_manager (self->network_session);
  webkit_website_data_manager_set_favicons_enabled (data_manager, TRUE);

  self->web_settings = webkit_settings_new ();
  /* We block pop-ups ourselves (CbWebView's "create"), per site and with
   * a notice, instead of WebKit's silent refusal. */
  webkit_settings_set_javascript_can_open_windows_automatically (self->web_settings, TRUE);
  webkit_settings_set_enable_media_stream (self->web_settings, TRUE);
  webkit_settings_set_enable_back_forward_navigation_gestures (self->web_settings, TRUE);
  g_settings_bind (self->settings, "enable-developer-tools", self->web_settings,
                   "enable-developer-extras", G_SETTINGS_BIND_GET);

  self->user_content = webkit_user_content_manager_new ();
  self->blocker = cb_content_blocker_new (self->user_content,
                                          cb_user_profile_get_site_settings (self->profile), filter_dir);
  g_signal_connect (self->settings, "changed::content-blocker", G_CALLBACK (on_blocker_setting),
                    self);
  on_blocker_setting (self->settings, "content-blocker", self);

  self->downloads = cb_download_manager_new (self->network_session);

  security = webkit_web_context_get_security_manager (self->web_context);
  self->reader = cb_reader_new ();
  cb_reader_attach (self->reader, self->web_context);
  self->view_source = cb_view_source_new ();
  cb_view_source_attach (self->view_source, self->web_context, self->network_session);
  (void) security;

  g_signal_connect (self->web_context, "initialize-notification-permissions",
                    G_CALLBACK (on_initialize_notification_permissions), self);
}

CbWebContext *
cb_web_context_new (const char *data_dir,
                    const char *cache_dir,
                    CbUserProfile  *profile)
{
  CbWebContext *self = g_object_new (CB_TYPE_WEB_CONTEXT, NULL);
  g_autofree char *filter_dir = g_build_filename (cache_dir, "content-filters", NULL);

  self->profile = g_object_ref (profile);
  self->web_context = webkit_web_context_new ();
  self->network_session = webkit_network_session_new (data_dir, cache_dir);
  self->cloud_scheme = cb_cloud_scheme_new ();
  cb_cloud_scheme_attach (self->cloud_scheme, self->web_context);
  setup (self, filter_dir);
  /* Cloud apps' pages, their bridge in the views' shared content manager. */
  self->cloudapp_scheme = cb_cloudapp_scheme_new ();
  cb_cloudapp_scheme_attach (self->cloudapp_scheme, self->web_context, self->user_content);
  return self;
}

CbWebContext *
cb_web_context_new_for_profile (void)
{
  g_autofree char *data_dir = g_build_filename (g_get_user_data_dir (), "cloud-bevy", "web", NULL);
  g_autofree char *cache_dir = g_build_filename (g_get_user_cache_dir (), "cloud-bevy", "web", NULL);
  g_autofree char *profile_dir = g_build_filename (g_get_user_data_dir (), "cloud-bevy", "profile",
                                                   NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CbUserProfile) profile = cb_user_profile_new (profile_dir, &error);

  /* Without a writable data dir the browser still browses, remembering
   * nothing, rather than refusing to start. */
  if (profile == NULL)
    {
      g_warning ("%s; history and bookmarks are kept in memory only", error->message);
      profile = cb_user_profile_new_private (NULL);
    }
  return cb_web_context_new (data_dir, cache_dir, profile);
}

CbWebContext *
cb_web_context_new_private (CbWebContext *parent)
{
  CbWebContext *self = g_object_new (CB_TYPE_WEB_CONTEXT, NULL);
  g_autofree char *template = g_build_filename (g_get_user_runtime_dir (),
                                                "cloud-bevy-private-XXXXXX", NULL);

  self->is_private = TRUE;
  self->profile = cb_user_profile_new_private (parent->profile);
  self->web_context = webkit_web_context_new ();
  self->network_session = webkit_network_session_new_ephemeral ();
  self->cloud_scheme = g_object_ref (parent->cloud_scheme);
  cb_cloud_scheme_attach (self->cloud_scheme, self->web_context);
  if (g_mkdtemp_full (template, 0700) == NULL)
    g_warning ("cannot create %s: %s", template, g_strerror (errno));
  self->filter_dir = g_steal_pointer (&template);
  setup (self, self->filter_dir);
  /* The same cloud apps as the parent's windows, like the cloud: pages. */
  self->cloudapp_scheme = g_object_ref (parent->cloudapp_scheme);
  cb_cloudapp_scheme_attach (self->cloudapp_scheme, self->web_context, self->user_content);
  return self;
}

gboolean
cb_web_context_is_private (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), FALSE);
  return self->is_private;
}

WebKitWebContext *
cb_web_context_get_web_context (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->web_context;
}

WebKitNetworkSession *
cb_web_context_get_network_session (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->network_session;
}

WebKitSettings *
cb_web_context_get_settings (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->web_settings;
}

WebKitUserContentManager *
cb_web_context_get_user_content_manager (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->user_content;
}

CbCloudScheme *
cb_web_context_get_cloud_scheme (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->cloud_scheme;
}

CbCloudappScheme *
cb_web_context_get_cloudapp_scheme (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->cloudapp_scheme;
}

CbUserProfile *
cb_web_context_get_profile (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->profile;
}

CbContentBlocker *
cb_web_context_get_content_blocker (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->blocker;
}

CbDownloadManager *
cb_web_context_get_downloads (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->downloads;
}

void
cb_web_context_allow_http (CbWebContext *self,
                           const char   *host)
{
  g_return_if_fail (CB_IS_WEB_CONTEXT (self));
  if (host != NULL)
    g_hash_table_add (self->http_allowed, g_ascii_strdown (host, -1));
}

gboolean
cb_web_context_is_http_allowed (CbWebContext *self,
                                const char   *host)
{
  g_autofree char *lower = host ? g_ascii_strdown (host, -1) : NULL;

  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), FALSE);
  return lower != NULL && g_hash_table_contains (self->http_allowed, lower);
}

typedef struct {
  guint pending;
  GError *error;
  char **hosts;
} ClearData;

static void
clear_data_free (gpointer data)
{
  ClearData *clear = data;

  g_clear_error (&clear->error);
  g_strfreev (clear->hosts);
  g_free (clear);
}

static void
clear_step_done (GTask  *task,
                 GError *error)
{
  ClearData *clear = g_task_get_task_data (task);

  if (error != NULL && clear->error == NULL)
    clear->error = error;
  else if (error != NULL)
    g_error_free (error);
  if (--clear->pending > 0)
    {
      g_object_unref (task);
      return;
    }
  if (clear->error != NULL)
    g_task_return_error (task, g_steal_pointer (&clear->error));
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
data_cleared (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GError *error = NULL;

  webkit_website_data_manager_clear_finish (WEBKIT_WEBSITE_DATA_MANAGER (source), result, &error);
  clear_step_done (user_data, error);
}

static void
cookies_removed (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GError *error = NULL;

  webkit_website_data_manager_remove_finish (WEBKIT_WEBSITE_DATA_MANAGER (source), result, &error);
  clear_step_done (user_data, error);
}

/* Website data is per base domain ("example.org"): a visited host
 * matches it and every name below it. */
static gboolean
visited (char       **hosts,
         const char  *domain)
{
  gsize len = strlen (domain);

  for (guint i = 0; hosts != NULL && hosts[i] != NULL; i++)
    {
      gsize host_len = strlen (hosts[i]);

      if (g_ascii_strcasecmp (hosts[i], domain) == 0 ||
          (host_len > len && hosts[i][host_len - len - 1] == '.' &&
           g_ascii_strcasecmp (hosts[i] + host_len - len, domain) == 0))
        return TRUE;
    }
  return FALSE;
}

static void
cookies_fetched (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  ClearData *clear = g_task_get_task_data (task);
  WebKitWebsiteDataManager *manager = WEBKIT_WEBSITE_DATA_MANAGER (source);
  GError *error = NULL;
  GList *all = webkit_website_data_manager_fetch_finish (manager, result, &error);
  GList *chosen = NULL;

  if (error != NULL)
    {
      clear_step_done (task, error);
      return;
    }
  for (GList *l = all; l != NULL; l = l->next)
    if (visited (clear->hosts, webkit_website_data_get_name (l->data)))
      chosen = g_list_prepend (chosen, l->data);
  if (chosen == NULL)
    clear_step_done (task, NULL);
  else
    webkit_website_data_manager_remove (manager, WEBKIT_WEBSITE_DATA_COOKIES, chosen,
                                        g_task_get_cancellable (task), cookies_removed, task);
  g_list_free (chosen);
  g_list_free_full (all, (GDestroyNotify) webkit_website_data_unref);
}

void
cb_web_context_clear_data_async (CbWebContext           *self,
                                 WebKitWebsiteDataTypes  types,
                                 gint64                  since_us,
                                 const char * const     *visited_hosts,
                                 GCancellable           *cancellable,
                                 GAsyncReadyCallback     callback,
                                 gpointer                user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  WebKitWebsiteDataManager *manager =
    webkit_network_session_get_website_data_manager (self->network_session);
  ClearData *clear = g_new0 (ClearData, 1);
  /* WebKit takes "modified in the last N", 0 for everything. */
  GTimeSpan span = since_us > 0 ? MAX (g_get_real_time () - since_us, 1) : 0;
  WebKitWebsiteDataTypes by_time = types;

  g_task_set_source_tag (task, cb_web_context_clear_data_async);
  g_task_set_task_data (task, clear, clear_data_free);
  clear->hosts = g_strdupv ((char **) visited_hosts);
  clear->pending = 1;
  if (span > 0 && (types & WEBKIT_WEBSITE_DATA_COOKIES))
    {
      by_time &= ~WEBKIT_WEBSITE_DATA_COOKIES;
      clear->pending++;
      webkit_website_data_manager_fetch (manager, WEBKIT_WEBSITE_DATA_COOKIES, cancellable,
                                         cookies_fetched, g_object_ref (task));
    }
  if (by_time != 0)
    {
      clear->pending++;
      webkit_website_data_manager_clear (manager, by_time, span, cancellable, data_cleared,
                                         g_object_ref (task));
    }
  clear_step_done (task, NULL);
}

gboolean
cb_web_context_clear_data_finish (CbWebContext  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

CbReader *
cb_web_context_get_reader (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->reader;
}
