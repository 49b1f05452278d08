/* cb-github-api-server.h: a local stand-in for GitHub's REST "repository
 * contents" API, for tests
 *
 *   GET /repos/{owner}/{repo}/contents/{path}[?ref=BRANCH]
 *   PUT /repos/{owner}/{repo}/contents/{path}  {"message","content","sha","branch"}
 *
 * as GitHub documents them: base64 content wrapped at 60 columns, sha =
 * the git blob SHA-1 of the content, 401 for a wrong token (and for a PUT
 * without one), 404 for what does not exist, 409 when "sha" is not the
 * file's current sha, 422 when "sha" is missing for an existing file.
 * Plain HTTP on 127.0.0.1, served by the thread-default main context. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _CbGithubApiServer CbGithubApiServer;

CbGithubApiServer *cb_github_api_server_new        (const char        *token,
                                                    GError           **error);
void               cb_github_api_server_free       (CbGithubApiServer *server);
/* "http://127.0.0.1:PORT": pass as the API base. */
char              *cb_github_api_server_base_url   (CbGithubApiServer *server);

/* An empty repository (no branches yet) whose default branch will be
 * @default_branch. */
void               cb_github_api_server_add_repo   (CbGithubApiServer *server,
                                                    const char        *owner,
                                                    const char        *repo,
                                                    const char        *default_branch);
/* Commits @contents at @path on @branch (NULL: the default), as a person
 * pushing would; the branch is created when missing. */
void               cb_github_api_server_commit     (CbGithubApiServer *server,
                                                    const char        *owner,
                                                    const char        *repo,
                                                    const char        *branch,
                                                    const char        *path,
                                                    GBytes            *contents,
                                                    const char        *message);
/* The file at the tip of @branch (NULL: default), or NULL. */
GBytes            *cb_github_api_server_get_file   (CbGithubApiServer *server,
                                                    const char        *owner,
                                                    const char        *repo,
                                                    const char        *branch,
                                                    const char        *path);
/* Commit messages on @branch (NULL: default), newest first. */
GStrv              cb_github_api_server_get_log    (CbGithubApiServer *server,
                                                    const char        *owner,
                                                    const char        *repo,
                                                    const char        *branch);
/* How many @method requests were answered with @status. */
guint              cb_github_api_server_count      (CbGithubApiServer *server,
                                                    const char        *method,
                                                    guint              status);

/* Called before each PUT is handled, e.g. to let "someone else" commit
 * first. */
typedef void (*CbGithubApiServerHook) (CbGithubApiServer *server,
                                       gpointer           user_data);
void               cb_github_api_server_set_put_hook (CbGithubApiServer    *server,
                                                      CbGithubApiServerHook hook,
                                                      gpointer              user_data);

/* Git's blob id: SHA-1 of "blob <size>\0" + content. */
char              *cb_github_blob_sha              (GBytes            *contents);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbGithubApiServer, cb_github_api_server_free)

G_END_DECLS
