/* cb-profile.h: everything one browser profile remembers, in one place
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

#define CB_TYPE_PROFILE (cb_profile_get_type ())
G_DECLARE_FINAL_TYPE (CbProfile, cb_profile, CB, PROFILE, GObject)

CbProfile      *cb_profile_new                (const char *dir,
                                               GError    **error);
CbProfile      *cb_profile_new_private        (CbProfile  *parent);
gboolean        cb_profile_is_private         (CbProfile  *self);
/* NULL for a private profile. */
const char     *cb_profile_get_dir            (CbProfile  *self);
CbHistory      *cb_profile_get_history        (CbProfile  *self);
CbBookmarks    *cb_profile_get_bookmarks      (CbProfile  *self);
CbSiteSettings *cb_profile_get_site_settings  (CbProfile  *self);

G_END_DECLS
