/* cb-profile.c: a profile's stores */
#define G_LOG_DOMAIN "cb-profile"

#include "cb-profile.h"

#include <errno.h>
#include <glib/gstdio.h>

struct _CbProfile {
  GObject parent_instance;
  char *dir;
  CbHistory *history;
  CbBookmarks *bookmarks;
  CbSiteSettings *site_settings;
};

G_DEFINE_FINAL_TYPE (CbProfile, cb_profile, G_TYPE_OBJECT)

static void
cb_profile_dispose (GObject *object)
{
  CbProfile *self = CB_PROFILE (object);

  g_clear_object (&self->history);
  g_clear_object (&self->bookmarks);
  g_clear_object (&self->site_settings);
  G_OBJECT_CLASS (cb_profile_parent_class)->dispose (object);
}

static void
cb_profile_finalize (GObject *object)
{
  g_free (CB_PROFILE (object)->dir);
  G_OBJECT_CLASS (cb_profile_parent_class)->finalize (object);
}

static void
cb_profile_class_init (CbProfileClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_profile_dispose;
  G_OBJECT_CLASS (klass)->finalize = cb_profile_finalize;
}

static void
cb_profile_init (CbProfile *self)
{
}

CbProfile *
cb_profile_new (const char  *dir,
                GError     **error)
{
  g_autoptr(CbProfile) self = NULL;
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
  self = g_object_new (CB_TYPE_PROFILE, NULL);
  self->dir = g_strdup (dir);
  self->history = cb_history_new (history);
  self->bookmarks = cb_bookmarks_new (bookmarks);
  self->site_settings = cb_site_settings_new (sites);
  return g_steal_pointer (&self);
}

CbProfile *
cb_profile_new_private (CbProfile *parent)
{
  CbProfile *self = g_object_new (CB_TYPE_PROFILE, NULL);

  self->history = cb_history_new (NULL);
  self->bookmarks = g_object_ref (parent->bookmarks);
  self->site_settings = cb_site_settings_new (NULL);
  return self;
}

gboolean
cb_profile_is_private (CbProfile *self)
{
  g_return_val_if_fail (CB_IS_PROFILE (self), FALSE);
  return self->dir == NULL;
}

const char *
cb_profile_get_dir (CbProfile *self)
{
  g_return_val_if_fail (CB_IS_PROFILE (self), NULL);
  return self->dir;
}

CbHistory *
cb_profile_get_history (CbProfile *self)
{
  g_return_val_if_fail (CB_IS_PROFILE (self), NULL);
  return self->history;
}

CbBookmarks *
cb_profile_get_bookmarks (CbProfile *self)
{
  g_return_val_if_fail (CB_IS_PROFILE (self), NULL);
  return self->bookmarks;
}

CbSiteSettings *
cb_profile_get_site_settings (CbProfile *self)
{
  g_return_val_if_fail (CB_IS_PROFILE (self), NULL);
  return self->site_settings;
}
