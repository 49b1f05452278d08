/* cb-version.h: package versions, MAJOR.MINOR.PATCH
 *
 * Repositories and plugins use plain numeric versions, one to four
 * dot-separated numbers without leading zeros (1.2.0, 2.10, 3); they
 * compare component by component, a missing component counting as 0.
 * There are no pre-release tags: a publisher orders releases by number. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CB_VERSION_MAX_COMPONENTS 4
#define CB_VERSION_MAX_COMPONENT 999999999u
#define CB_VERSION_MAX_LEN 64

/* FALSE with a G_IO_ERROR_INVALID_DATA error naming what is wrong. */
gboolean cb_version_validate (const char  *version,
                              GError     **error);
/* <0, 0, >0; both must be valid. */
int      cb_version_compare  (const char  *a,
                              const char  *b);

G_END_DECLS
