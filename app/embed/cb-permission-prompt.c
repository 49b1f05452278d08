/* cb-permission-prompt.c: one pending permission request */
#define G_LOG_DOMAIN "cb-permissions"

#include "cb-permission-prompt.h"

struct _CbPermissionPrompt {
  GObject parent_instance;
  WebKitPermissionRequest *request;
  CbSiteSettings *sites;
  char *site;
  GArray *permissions;   /* CbPermission */
  gboolean answered;
};

G_DEFINE_FINAL_TYPE (CbPermissionPrompt, cb_permission_prompt, G_TYPE_OBJECT)

enum { SIGNAL_ANSWERED, N_SIGNALS };
static guint signals[N_SIGNALS];

void
cb_permission_prompt_answer (CbPermissionPrompt *self,
                             gboolean            allow,
                             gboolean            remember)
{
  g_return_if_fail (CB_IS_PERMISSION_PROMPT (self));
  if (self->answered)
    return;
  self->answered = TRUE;
  if (remember)
    for (guint i = 0; i < self->permissions->len; i++)
      cb_site_settings_set_permission (self->sites, self->site,
                                       g_array_index (self->permissions, CbPermission, i),
                                       allow ? CB_PERMISSION_ALLOW : CB_PERMISSION_DENY);
  if (allow)
    webkit_permission_request_allow (self->request);
  else
    webkit_permission_request_deny (self->request);
  g_info ("%s %s", self->site, allow ? "allowed" : "denied");
  g_signal_emit (self, signals[SIGNAL_ANSWERED], 0, allow);
}

static void
cb_permission_prompt_dispose (GObject *object)
{
  CbPermissionPrompt *self = CB_PERMISSION_PROMPT (object);

  /* Nobody answered: the site does not get it. */
  if (!self->answered && self->request != NULL)
    {
      self->answered = TRUE;
      webkit_permission_request_deny (self->request);
    }
  g_clear_object (&self->request);
  g_clear_object (&self->sites);
  G_OBJECT_CLASS (cb_permission_prompt_parent_class)->dispose (object);
}

static void
cb_permission_prompt_finalize (GObject *object)
{
  CbPermissionPrompt *self = CB_PERMISSION_PROMPT (object);

  g_free (self->site);
  g_array_unref (self->permissions);
  G_OBJECT_CLASS (cb_permission_prompt_parent_class)->finalize (object);
}

static void
cb_permission_prompt_class_init (CbPermissionPromptClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_permission_prompt_dispose;
  G_OBJECT_CLASS (klass)->finalize = cb_permission_prompt_finalize;

  signals[SIGNAL_ANSWERED] = g_signal_new ("answered", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                           G_TYPE_BOOLEAN);
}

static void
cb_permission_prompt_init (CbPermissionPrompt *self)
{
  self->permissions = g_array_new (FALSE, FALSE, sizeof (CbPermission));
}

CbPermissionPrompt *
cb_permission_prompt_new (WebKitPermissionRequest *request,
                          CbSiteSettings          *sites,
                          const char              *site,
                          const CbPermission      *permissions,
                          guint                    n_permissions)
{
  CbPermissionPrompt *self = g_object_new (CB_TYPE_PERMISSION_PROMPT, NULL);

  self->request = g_object_ref (request);
  self->sites = g_object_ref (sites);
  self->site = g_strdup (site);
  g_array_append_vals (self->permissions, permissions, n_permissions);
  return self;
}

const char *
cb_permission_prompt_get_site (CbPermissionPrompt *self)
{
  return self->site;
}

gboolean
cb_permission_prompt_has (CbPermissionPrompt *self,
                          CbPermission        permission)
{
  for (guint i = 0; i < self->permissions->len; i++)
    if (g_array_index (self->permissions, CbPermission, i) == permission)
      return TRUE;
  return FALSE;
}

gboolean
cb_permission_prompt_is_answered (CbPermissionPrompt *self)
{
  return self->answered;
}

char *
cb_permission_prompt_describe (CbPermissionPrompt *self)
{
  g_autofree char *host = cb_site_get_host (self->site);
  g_autoptr(GUri) uri = g_uri_parse (self->site, G_URI_FLAGS_NONE, NULL);
  g_autofree char *who = uri && g_uri_get_port (uri) > 0
                           ? g_strdup_printf ("%s:%d", host, g_uri_get_port (uri))
                           : g_strdup (host ? host : self->site);
  gboolean camera = cb_permission_prompt_has (self, CB_PERMISSION_CAMERA);
  gboolean microphone = cb_permission_prompt_has (self, CB_PERMISSION_MICROPHONE);

  if (camera && microphone)
    return g_strdup_printf ("%s wants to use your camera and microphone.", who);
  if (camera)
    return g_strdup_printf ("%s wants to use your camera.", who);
  if (microphone)
    return g_strdup_printf ("%s wants to use your microphone.", who);
  if (cb_permission_prompt_has (self, CB_PERMISSION_GEOLOCATION))
    return g_strdup_printf ("%s wants to know your location.", who);
  return g_strdup_printf ("%s wants to show notifications.", who);
}
