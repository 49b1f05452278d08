/* cb-repo-url.h: where a repository address points
 *
 * People add repositories as:
 *
 *   https://example.org/apps/         the directory holding root.json and index.json
 *   file:///srv/apps  or  /srv/apps   a directory on this machine
 *   github.com/ORG/REPO               GitHub Pages of ORG's repository REPO:
 *                                     https://ORG.github.io/REPO/ (ORG in lowercase)
 *   github.com/ORG                    ORG's own Pages site (its ORG.github.io
 *                                     repository): https://ORG.github.io/
 *
 * A repository published with `cloud-bevy-repo` is a static directory, so
 * pushing it to a gh-pages branch (or the ORG.github.io repository) is all
 * GitHub needs.  Plain http:// is accepted for this machine only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The base URL, ending in '/', or NULL with a G_IO_ERROR_INVALID_ARGUMENT
 * error saying which forms are accepted. */
char *cb_repo_url_resolve      (const char  *address,
                                GError     **error);
/* How the address is kept and shown: the shorthand as given (lowercased
 * host), file paths as file:// URLs, URLs with their trailing '/'. */
char *cb_repo_url_normalize    (const char  *address,
                                GError     **error);
/* A file of the repository: name relative to base, or an https:// URL. */
char *cb_repo_url_file         (const char  *base,
                                const char  *name);

G_END_DECLS
