/* cb-site-settings.h: what the profile remembers per site
 *
 * A site is an origin ("https://example.org", "http://127.0.0.1:8080"):
 * zoom level, answers to permission prompts, pop-ups allowed, the content
 * blocker turned off.  Kept in memory for instant answers while pages
 * load, saved in order through the database's worker thread. */
#pragma once

#include <gio/gio.h>

#include "cb-profile-db.h"

G_BEGIN_DECLS

typedef enum {
  CB_PERMISSION_GEOLOCATION,
  CB_PERMISSION_NOTIFICATIONS,
  CB_PERMISSION_CAMERA,
  CB_PERMISSION_MICROPHONE,
  CB_N_PERMISSIONS
} CbPermission;

typedef enum {
  CB_PERMISSION_ASK,    /* nothing remembered */
  CB_PERMISSION_ALLOW,
  CB_PERMISSION_DENY,
} CbPermissionState;

#define CB_TYPE_SITE_SETTINGS (cb_site_settings_get_type ())
G_DECLARE_FINAL_TYPE (CbSiteSettings, cb_site_settings, CB, SITE_SETTINGS, GObject)

/* @path NULL: kept in memory only. */
CbSiteSettings   *cb_site_settings_new             (const char      *path);
CbProfileDb      *cb_site_settings_get_db          (CbSiteSettings  *self);
gboolean          cb_site_settings_is_loaded       (CbSiteSettings  *self);

/* "https://Example.org:443/a?b" -> "https://example.org"; NULL for
 * addresses without a host (about:, data:, cloud:). */
char             *cb_site_for_uri                  (const char      *uri);
/* The host part of a site, for display and content-blocker rules. */
char             *cb_site_get_host                 (const char      *site);

/* Generic access; NULL @value forgets the key. */
const char       *cb_site_settings_get             (CbSiteSettings  *self,
                                                    const char      *site,
                                                    const char      *key);
void              cb_site_settings_set             (CbSiteSettings  *self,
                                                    const char      *site,
                                                    const char      *key,
                                                    const char      *value);
/* Sites with anything remembered, sorted. */
GStrv             cb_site_settings_list_sites      (CbSiteSettings  *self);
void              cb_site_settings_forget_site     (CbSiteSettings  *self,
                                                    const char      *site);

/* 0 when the site has no zoom of its own. */
double            cb_site_settings_get_zoom        (CbSiteSettings  *self,
                                                    const char      *site);
void              cb_site_settings_set_zoom        (CbSiteSettings  *self,
                                                    const char      *site,
                                                    double           zoom);
CbPermissionState cb_site_settings_get_permission  (CbSiteSettings  *self,
                                                    const char      *site,
                                                    CbPermission     permission);
void              cb_site_settings_set_permission  (CbSiteSettings  *self,
                                                    const char      *site,
                                                    CbPermission     permission,
                                                    CbPermissionState state);
/* Sites with @permission remembered as @state. */
GStrv             cb_site_settings_list_with       (CbSiteSettings  *self,
                                                    CbPermission     permission,
                                                    CbPermissionState state);
gboolean          cb_site_settings_get_popups_allowed    (CbSiteSettings *self,
                                                          const char     *site);
void              cb_site_settings_set_popups_allowed    (CbSiteSettings *self,
                                                          const char     *site,
                                                          gboolean        allowed);
gboolean          cb_site_settings_get_blocker_disabled  (CbSiteSettings *self,
                                                          const char     *site);
void              cb_site_settings_set_blocker_disabled  (CbSiteSettings *self,
                                                          const char     *site,
                                                          gboolean        disabled);

const char       *cb_permission_get_key            (CbPermission     permission);
/* "Location", "Notifications", "Camera", "Microphone" */
const char       *cb_permission_get_label          (CbPermission     permission);

void              cb_site_settings_flush_async     (CbSiteSettings      *self,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean          cb_site_settings_flush_finish    (CbSiteSettings      *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

G_END_DECLS
