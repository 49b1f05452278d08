/* cb-user-profile.h: everything one browser profile remembers, in one place
 *
 * A profile is a directory holding history.db, bookmarks.db and
 * sites.db.  A private profile keeps its history and site settings in
 * memory and writes nothing; it reads (but must not change) the bookmarks
 * of the profile it was made from. */
#pragma once

#include "cb-bookmarks.h"
#include "cb-history.h"
#include "cb-site-settings.h"

G_BEGIN_DECLS

#define CB_TYPE_USER_PROFILE (cb_user_profile_get_type ())
G_DECLARE_FINAL_TYPE (CbUserProfile, cb_user_profile, CB, USER_PROFILE, GObject)

CbUserProfile      *cb_user_profile_new                (const char *dir,
                                               GError    **error);
/* @parent NULL: bookmarks in memory too. */
CbUserProfile      *cb_user_profile_new_private        (CbUserProfile  *parent);
gboolean        cb_user_profile_is_private         (CbUserProfile  *self);
/* NULL for a private profile. */
const char     *cb_user_profile_get_dir            (CbUserProfile  *self);
CbHistory      *cb_user_profile_get_history        (CbUserProfile  *self);
CbBookmarks    *cb_user_profile_get_bookmarks      (CbUserProfile  *self);
CbSiteSettings *cb_user_profile_get_site_settings  (CbUserProfile  *self);

G_END_DECLS
