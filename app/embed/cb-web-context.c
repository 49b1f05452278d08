/* cb-web-context.c: the WebKit state a profile's web views share
 *
 * Data (cookies, local storage, favicons) lives under the profile's data
 * dir, the HTTP cache under its cache dir; both follow XDG so Flatpak and
 * tests can relocate them with the usual variables. */
#define G_LOG_DOMAIN "cb-web-context"

#include "cb-web-context.h"

struct _CbWebContext {
  GObject parent_instance;
  char *data_dir;
  char *cache_dir;
  WebKitWebContext *web_context;
  WebKitNetworkSession *network_session;
  CbCloudScheme *cloud_scheme;
  CbCloudappScheme *cloudapp_scheme;
  WebKitUserContentManager *user_content_manager;
};

G_DEFINE_FINAL_TYPE (CbWebContext, cb_web_context, G_TYPE_OBJECT)

static void
cb_web_context_dispose (GObject *object)
{
  CbWebContext *self = CB_WEB_CONTEXT (object);

  g_clear_object (&self->network_session);
  g_clear_object (&self->web_context);
  g_clear_object (&self->cloud_scheme);
  g_clear_object (&self->cloudapp_scheme);
  g_clear_object (&self->user_content_manager);
  G_OBJECT_CLASS (cb_web_context_parent_class)->dispose (object);
}

static void
cb_web_context_finalize (GObject *object)
{
  CbWebContext *self = CB_WEB_CONTEXT (object);

  g_free (self->data_dir);
  g_free (self->cache_dir);
  G_OBJECT_CLASS (cb_web_context_parent_class)->finalize (object);
}

static void
cb_web_context_class_init (CbWebContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_web_context_dispose;
  object_class->finalize = cb_web_context_finalize;
}

static void
cb_web_context_init (CbWebContext *self)
{
}

CbWebContext *
cb_web_context_new (const char *data_dir,
                    const char *cache_dir)
{
  CbWebContext *self = g_object_new (CB_TYPE_WEB_CONTEXT, NULL);
  WebKitWebsiteDataManager *data_manager;

  self->data_dir = g_strdup (data_dir);
  self->cache_dir = g_strdup (cache_dir);

  self->web_context = webkit_web_context_new ();
  self->network_session = webkit_network_session_new (data_dir, cache_dir);
  data_manager = webkit_network_session_get_website_data_manager (self->network_session);
  webkit_website_data_manager_set_favicons_enabled (data_manager, TRUE);

  self->cloud_scheme = cb_cloud_scheme_new ();
  cb_cloud_scheme_attach (self->cloud_scheme, self->web_context);
  self->user_content_manager = webkit_user_content_manager_new ();
  self->cloudapp_scheme = cb_cloudapp_scheme_new ();
  cb_cloudapp_scheme_attach (self->cloudapp_scheme, self->web_context, self->user_content_manager);

  return self;
}

CbWebContext *
cb_web_context_new_for_profile (void)
{
  g_autofree char *data_dir = g_build_filename (g_get_user_data_dir (), "cloud-bevy", "web", NULL);
  g_autofree char *cache_dir = g_build_filename (g_get_user_cache_dir (), "cloud-bevy", "web", NULL);

  return cb_web_context_new (data_dir, cache_dir);
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

WebKitUserContentManager *
cb_web_context_get_user_content_manager (CbWebContext *self)
{
  g_return_val_if_fail (CB_IS_WEB_CONTEXT (self), NULL);
  return self->user_content_manager;
}
