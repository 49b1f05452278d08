/* cb-user-profile.c: a profile's stores */
#define G_LOG_DOMAIN "cb-profile"

#include "cb-user-profile.h"

#include <errno.h>
#include <glib/gstdio.h>

struct _CbUserProfile {
  GObject parent_instance;
  char *dir;
  CbHistory *history;
  CbBookmarks *bookmarks;
  CbSiteSettings *site_settings;
};

G_DEFINE_FINAL_TYPE (CbUserProfile, cb_user_profile, G_TYPE_OBJECT)

static void
cb_user_profile_dispose (GObject *object)
{
  CbUserProfile *self = CB_USER_PROFILE (object);

  g_clear_object (&self->history);
  g_clear_object (&self->bookmarks);
  g_clear_object (&self->site_settings);
  G_OBJECT_CLASS (cb_user_profile_parent_class)->dispose (object);
}

static void
cb_user_profile_finalize (GObject *object)
{
  g_free (CB_USER_PROFILE (object)->dir);
  G_OBJECT_CLASS (cb_user_profile_parent_class)->finalize (object);
}

static void
cb_user_profile_class_init (CbUserProfileClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_user_profile_dispose;
  G_OBJECT_CLASS (klass)->finalize = cb_user_profile_finalize;
}

static void
cb_user_profile_init (CbUserProfile *self)
{
}

CbUserProfile *
cb_user_profile_new (const char  *dir,
                GError     **error)
{
  g_autoptr(CbUserProfile) self = NULL;
  g_autofree char *history = NULL, *bookmarks = NULL, *sites = NULL;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot create the profile folder %s: %s", dir, g_strerror (saved));
      return NULL;
    }
  history = g_build_filename (dir, "history.db", NULL);
  bookmarks = g_build_filename (dir, "bookmarks.db", NULL);
  sites = g_build_filename (dir, "sites.db", NULL);
  self = g_object_new (CB_TYPE_USER_PROFILE, NULL);
  self->dir = g_strdup (dir);
  self->history = cb_history_new (history);
  self->bookmarks = cb_bookmarks_new (bookmarks);
  self->site_settings = cb_site_settings_new (sites);
  return g_steal_pointer (&self);
}

CbUserProfile *
cb_user_profile_new_private (CbUserProfile *parent)
{
  CbUserProfile *self = g_object_new (CB_TYPE_USER_PROFILE, NULL);

  self->history = cb_history_new (NULL);
  /* Without a parent (no writable profile): bookmarks in memory too. */
  self->bookmarks = parent ? g_object_ref (parent->bookmarks) : cb_bookmarks_new (NULL);
  self->site_settings = cb_site_settings_new (NULL);
  return self;
}

gboolean
cb_user_profile_is_private (CbUserProfile *self)
{
  g_return_val_if_fail (CB_IS_USER_PROFILE (self), FALSE);
  return self->dir == NULL;
}

const char *
cb_user_profile_get_dir (CbUserProfile *self)
{
  g_return_val_if_fail (CB_IS_USER_PROFILE (self), NULL);
  return self->dir;
}

CbHistory *
cb_user_profile_get_history (CbUserProfile *self)
{
  g_return_val_if_fail (CB_IS_USER_PROFILE (self), NULL);
  return self->history;
}

CbBookmarks *
cb_user_profile_get_bookmarks (CbUserProfile *self)
{
  g_return_val_if_fail (CB_IS_USER_PROFILE (self), NULL);
  return self->bookmarks;
}

CbSiteSettings *
cb_user_profile_get_site_settings (CbUserProfile *self)
{
  g_return_val_if_fail (CB_IS_USER_PROFILE (self), NULL);
  return self->site_settings;
}
