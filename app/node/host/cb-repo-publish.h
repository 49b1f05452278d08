/* cb-repo-publish.h: the publisher's side of a repository
 *
 * What `cloud-bevy-repo` does, as functions tests can call too: create a
 * repository with its keys, add built plugins to its draft index, sign the
 * index, rotate the root's keys, and verify everything a client would.
 * Keys are files in the node identity format (64-byte ed25519 secret,
 * mode 0600). */
#pragma once

#include <gio/gio.h>

#include "cb-repo-format.h"

G_BEGIN_DECLS

#define CB_REPO_DRAFT_FILE "index.draft.json"
#define CB_REPO_DEFAULT_ROOT_DAYS 365
#define CB_REPO_DEFAULT_INDEX_DAYS 30

/* Creates dir with 1.root.json, root.json and an empty signed index.
 * Missing key files are created (0600). */
gboolean cb_repo_publish_init   (const char          *dir,
                                 const char          *name,
                                 const char * const  *key_paths,
                                 guint                threshold,
                                 gint64               now,
                                 gint64               root_ttl_seconds,
                                 gint64               index_ttl_seconds,
                                 GError             **error);
/* Copies the manifest's modules into dir and lists them in the draft
 * index.  With load_check, loads the core module first to check it is
 * the system and version its manifest says.  Refuses a version not above
 * the one already listed for the system and arch. */
gboolean cb_repo_publish_add    (const char          *dir,
                                 const char          *manifest_path,
                                 const char          *arch,
                                 gboolean             load_check,
                                 CbRepoPackage      **added,
                                 GError             **error);
/* Signs the draft (or the current index) as version (0: the next one)
 * under the current root. */
gboolean cb_repo_publish_sign   (const char          *dir,
                                 const char * const  *key_paths,
                                 guint64              version,
                                 gint64               now,
                                 gint64               ttl_seconds,
                                 guint64             *version_out,
                                 GError             **error);
/* Writes root version N+1 with the keys of new_key_paths, signed with
 * old_key_paths (which must reach the current threshold) and the new
 * keys; refuses to write a rotation clients would refuse. */
gboolean cb_repo_publish_rotate (const char          *dir,
                                 const char * const  *old_key_paths,
                                 const char * const  *new_key_paths,
                                 guint                threshold,
                                 gint64               now,
                                 gint64               ttl_seconds,
                                 GError             **error);
/* What a client checks, on a directory: the root chain from version 1,
 * the index, every package file.  report gets one line per check. */
gboolean cb_repo_publish_verify (const char          *dir,
                                 gint64               now,
                                 GString             *report,
                                 GError             **error);

/* The file name a package's module gets in the repository. */
char    *cb_repo_package_file_name (const char       *system,
                                    const char       *version,
                                    const char       *arch,
                                    gboolean          ui);

G_END_DECLS
