/* cb-list-source-git.c: a list file in a git repository, through the git CLI
 *
 *   git+https://host/org/repo.git#nodes.json    (also git+file, git+http, git+ssh;
 *   git+file:///srv/cloud.git?ref=lists#nodes.json     ?ref= picks the branch)
 *
 * Reads fetch the branch (depth 1) into a private bare repository under the
 * cache dir and take the file from its tip; the revision is the tip commit.
 * Writes commit the new file on top of that commit with plumbing commands
 * (no work tree, a throw-away index) and push it: git refuses a push that
 * is not a fast-forward, which makes the push a compare-and-swap.
 *
 * Everything runs in a GTask thread under an flock on the cache repository,
 * so sources sharing a cache dir (or processes sharing it) take turns. */
#define G_LOG_DOMAIN "cb-lists"

#include "cb-list-source-private.h"
#include "cb-node-list.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define GIT_AUTHOR_NAME  "Cloud Bevy publisher"
#define GIT_AUTHOR_EMAIL "publisher@cloud-bevy.invalid"
#define TIP_REF          "refs/cb/tip"

#define CB_TYPE_LIST_SOURCE_GIT (cb_list_source_git_get_type ())
G_DECLARE_FINAL_TYPE (CbListSourceGit, cb_list_source_git, CB, LIST_SOURCE_GIT, CbListSource)

struct _CbListSourceGit {
  CbListSource parent_instance;
  char   *remote;     /* what git fetches from and pushes to */
  char   *shown;      /* the remote for messages, without a password */
  char   *path;       /* the file inside the repository */
  char   *ref;        /* the branch the URL names, or NULL */
  char   *cache_git;  /* our bare repository */
  char   *cache_lock;
  GMutex  mutex;
  char   *default_branch; /* learnt from the remote's HEAD; under mutex */
};

G_DEFINE_FINAL_TYPE (CbListSourceGit, cb_list_source_git, CB_TYPE_LIST_SOURCE)

/* ---- running git ------------------------------------------------------- */

typedef struct {
  int     status;  /* exit status, -1 if killed */
  GBytes *out;
  char   *err;
} GitRun;

/* Never NULL, even for empty output. */
static char *
bytes_to_string (GBytes *bytes)
{
  gsize len = 0;
  const char *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;

  return data ? g_strndup (data, len) : g_strdup ("");
}

static void
git_run_clear (GitRun *run)
{
  g_clear_pointer (&run->out, g_bytes_unref);
  g_clear_pointer (&run->err, g_free);
}

/* The line of git's stderr that says what went wrong. */
static char *
git_complaint (const char *err)
{
  g_auto(GStrv) lines = g_strsplit (err ? err : "", "\n", -1);
  const char *last = NULL;
  guint i;

  for (i = 0; lines[i] != NULL; i++)
    {
      g_strstrip (lines[i]);
      if (g_str_has_prefix (lines[i], "fatal:") || g_str_has_prefix (lines[i], "error:"))
        return g_strdup (lines[i]);
      if (*lines[i] != '\0')
        last = lines[i];
    }
  return g_strdup (last ? last : "git failed without saying why");
}

/* Runs git with @args (NULL-terminated) on our cache repository. */
static gboolean
run_git (CbListSourceGit     *self,
         const char * const  *args,
         GBytes              *input,
         const char          *index_file,
         GitRun              *run,
         GCancellable        *cancellable,
         GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GBytes) err_bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE;
  guint i;

  memset (run, 0, sizeof *run);
  g_ptr_array_add (argv, g_strdup ("git"));
  g_ptr_array_add (argv, g_strconcat ("--git-dir=", self->cache_git, NULL));
  /* Identity for commits on machines without git config; no background
   * gc outliving us. */
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup ("user.name=" GIT_AUTHOR_NAME));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup ("user.email=" GIT_AUTHOR_EMAIL));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup ("gc.auto=0"));
  for (i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  if (input != NULL)
    flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
  launcher = g_subprocess_launcher_new (flags);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  g_subprocess_launcher_setenv (launcher, "GIT_TERMINAL_PROMPT", "0", TRUE);
  /* The list's path is a file name, never a pattern. */
  g_subprocess_launcher_setenv (launcher, "GIT_LITERAL_PATHSPECS", "1", TRUE);
  if (g_getenv ("GIT_SSH_COMMAND") == NULL)
    g_subprocess_launcher_setenv (launcher, "GIT_SSH_COMMAND", "ssh -o BatchMode=yes", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "GIT_DIR");
  g_subprocess_launcher_unsetenv (launcher, "GIT_WORK_TREE");
  if (index_file != NULL)
    g_subprocess_launcher_setenv (launcher, "GIT_INDEX_FILE", index_file, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "GIT_INDEX_FILE");

  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                       &local_error);
  if (proc == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "cannot run git (is it installed?): %s", local_error->message);
      return FALSE;
    }
  if (!g_subprocess_communicate (proc, input, cancellable, &run->out, &err_bytes,
                                 &local_error))
    {
      /* SIGTERM, not SIGKILL: a terminated git removes its lock files
       * (shallow.lock, index.lock); a killed one leaves them, and every
       * later fetch into this clone fails until someone deletes them. */
      g_subprocess_send_signal (proc, SIGTERM);
      g_propagate_error (error, g_steal_pointer (&local_error));
      git_run_clear (run);
      return FALSE;
    }
  run->err = bytes_to_string (err_bytes);
  run->status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  return TRUE;
}

/* Runs git and wants success; returns its stdout as trimmed text. */
static char *
git_text (CbListSourceGit     *self,
          const char * const  *args,
          GBytes              *input,
          const char          *index_file,
          const char          *doing,
          GCancellable        *cancellable,
          GError             **error)
{
  GitRun run;
  char *text;

  if (!run_git (self, args, input, index_file, &run, cancellable, error))
    return NULL;
  if (run.status != 0)
    {
      g_autofree char *why = git_complaint (run.err);

      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "cannot %s: %s", doing, why);
      git_run_clear (&run);
      return NULL;
    }
  text = bytes_to_string (run.out);
  git_run_clear (&run);
  return g_strstrip (text);
}

static gboolean
is_object_id (const char *s)
{
  gsize i, len = s ? strlen (s) : 0;

  if (len != 40 && len != 64)
    return FALSE;
  for (i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  return TRUE;
}

/* ---- the cache repository ---------------------------------------------- */

/* Creates the cache repository if needed and locks it; returns the lock
 * fd (close it to unlock) or -1. */
static int
lock_cache (CbListSourceGit  *self,
            GCancellable     *cancellable,
            GError          **error)
{
  g_autofree char *dir = g_path_get_dirname (self->cache_git);
  g_autofree char *head = g_build_filename (self->cache_git, "HEAD", NULL);
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "cannot create the cache directory %s: %s", dir, g_strerror (errno));
      return -1;
    }
  fd = open (self->cache_lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "cannot create %s: %s", self->cache_lock, g_strerror (errno));
      return -1;
    }
  while (flock (fd, LOCK_EX) != 0)
    if (errno != EINTR)
      {
        g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                     "cannot lock %s: %s", self->cache_lock, g_strerror (errno));
        close (fd);
        return -1;
      }
  if (!g_file_test (head, G_FILE_TEST_EXISTS))
    {
      const char *args[] = { "init", "--quiet", "--bare", self->cache_git, NULL };
      g_autofree char *out = git_text (self, args, NULL, NULL,
                                       "create the git cache repository", cancellable, error);
      if (out == NULL)
        {
          close (fd);
          return -1;
        }
    }
  return fd;
}

/* Which branch to use and its tip on the remote (NULL: no such branch). */
static gboolean
resolve_remote (CbListSourceGit  *self,
                char            **branch_out,
                char            **tip_out,
                GCancellable     *cancellable,
                GError          **error)
{
  const char *args[] = { "ls-remote", "--symref", "--", self->remote, NULL };
  g_autofree char *text = NULL;
  g_autofree char *head_target = NULL;
  g_autoptr(GHashTable) heads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *doing = g_strdup_printf ("read the git repository %s", self->shown);
  g_auto(GStrv) lines = NULL;
  const char *branch;
  guint i;

  text = git_text (self, args, NULL, NULL, doing, cancellable, error);
  if (text == NULL)
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i] != NULL; i++)
    {
      char *tab = strchr (lines[i], '\t');

      if (tab == NULL)
        continue;
      *tab = '\0';
      if (g_str_has_prefix (lines[i], "ref: refs/heads/") && strcmp (tab + 1, "HEAD") == 0)
        {
          g_free (head_target);
          head_target = g_strdup (lines[i] + strlen ("ref: refs/heads/"));
        }
      else if (g_str_has_prefix (tab + 1, "refs/heads/") && is_object_id (lines[i]))
        g_hash_table_replace (heads, g_strdup (tab + 1 + strlen ("refs/heads/")),
                              g_strdup (lines[i]));
    }

  g_mutex_lock (&self->mutex);
  if (head_target != NULL && self->ref == NULL)
    {
      g_free (self->default_branch);
      self->default_branch = g_strdup (head_target);
    }
  if (self->ref != NULL)
    branch = self->ref;
  else if (self->default_branch != NULL)
    branch = self->default_branch;
  /* An empty repository does not say where HEAD points. */
  else if (g_hash_table_contains (heads, "main") || !g_hash_table_contains (heads, "master"))
    branch = "main";
  else
    branch = "master";
  *branch_out = g_strdup (branch);
  g_mutex_unlock (&self->mutex);

  *tip_out = g_strdup (g_hash_table_lookup (heads, *branch_out));
  return TRUE;
}

/* Fetches @branch into TIP_REF; returns the commit id. */
static char *
fetch_branch (CbListSourceGit  *self,
              const char       *branch,
              GCancellable     *cancellable,
              GError          **error)
{
  g_autofree char *refspec = g_strdup_printf ("+refs/heads/%s:" TIP_REF, branch);
  const char *fetch_args[] = { "fetch", "--quiet", "--no-tags", "--depth=1", "--",
                               self->remote, refspec, NULL };
  const char *parse_args[] = { "rev-parse", "--verify", "--quiet", TIP_REF "^{commit}", NULL };
  GitRun run;

  if (!run_git (self, fetch_args, NULL, NULL, &run, cancellable, error))
    return NULL;
  if (run.status != 0)
    {
      g_autofree char *why = git_complaint (run.err);

      if (strstr (run.err, "couldn't find remote ref") != NULL)
        g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND,
                     "the git repository %s has no branch \"%s\"", self->shown, branch);
      else
        g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                     "cannot fetch branch \"%s\" of %s: %s", branch, self->shown, why);
      git_run_clear (&run);
      return NULL;
    }
  git_run_clear (&run);
  return git_text (self, parse_args, NULL, NULL, "find the fetched commit", cancellable, error);
}

/* ---- read -------------------------------------------------------------- */

typedef struct {
  GBytes *contents;  /* NULL: no file at that commit */
  char   *revision;  /* the branch tip, or NULL when there is no branch */
  GError *missing;   /* why contents is NULL */
} ReadResult;

static void
read_result_free (ReadResult *r)
{
  g_clear_pointer (&r->contents, g_bytes_unref);
  g_free (r->revision);
  g_clear_error (&r->missing);
  g_free (r);
}

static ReadResult *
read_locked (CbListSourceGit  *self,
             GCancellable     *cancellable,
             GError          **error)
{
  g_autofree char *branch = NULL;
  g_autofree char *tip = NULL;
  g_autofree char *commit = NULL;
  g_autofree char *tree_line = NULL;
  g_autofree char *size_text = NULL;
  g_autoptr(GError) local_error = NULL;
  ReadResult *r = g_new0 (ReadResult, 1);
  GitRun run;
  g_auto(GStrv) fields = NULL;
  const char *blob;
  guint64 size;

  if (!resolve_remote (self, &branch, &tip, cancellable, error))
    goto fail;
  if (tip == NULL)
    {
      g_set_error (&r->missing, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND,
                   "the git repository %s has no branch \"%s\" yet", self->shown, branch);
      return r;
    }
  commit = fetch_branch (self, branch, cancellable, &local_error);
  if (commit == NULL)
    {
      /* The branch went away between ls-remote and fetch. */
      if (g_error_matches (local_error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND))
        {
          r->missing = g_steal_pointer (&local_error);
          return r;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      goto fail;
    }
  r->revision = g_strdup (commit);

  {
    const char *args[] = { "ls-tree", "--full-tree", commit, "--", self->path, NULL };
    tree_line = git_text (self, args, NULL, NULL, "list the fetched commit", cancellable, error);
    if (tree_line == NULL)
      goto fail;
  }
  if (*tree_line == '\0')
    {
      g_set_error (&r->missing, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND,
                   "there is no %s on branch \"%s\" of %s", self->path, branch, self->shown);
      return r;
    }
  /* "<mode> <type> <object>\t<path>" */
  fields = g_strsplit_set (tree_line, " \t", 4);
  if (g_strv_length (fields) < 3 || strcmp (fields[1], "blob") != 0 || !is_object_id (fields[2]))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "%s in %s is not a file", self->path, self->shown);
      goto fail;
    }
  blob = fields[2];
  {
    const char *args[] = { "cat-file", "-s", blob, NULL };
    size_text = git_text (self, args, NULL, NULL, "read the list's size", cancellable, error);
  }
  if (size_text == NULL || !g_ascii_string_to_unsigned (size_text, 10, 0, G_MAXUINT64,
                                                        &size, NULL))
    {
      if (size_text != NULL)
        g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                     "git gave an unreadable size for %s", self->path);
      goto fail;
    }
  if (size > cb_list_source_get_max_bytes (CB_LIST_SOURCE (self)))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE,
                   "%s in %s is %" G_GUINT64_FORMAT " bytes; this file is at most %"
                   G_GSIZE_FORMAT, self->path, self->shown, size,
                   cb_list_source_get_max_bytes (CB_LIST_SOURCE (self)));
      goto fail;
    }
  {
    const char *args[] = { "cat-file", "blob", blob, NULL };
    if (!run_git (self, args, NULL, NULL, &run, cancellable, error))
      goto fail;
    if (run.status != 0 || g_bytes_get_size (run.out) != size)
      {
        g_autofree char *why = git_complaint (run.err);

        g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                     "cannot read %s from %s: %s", self->path, self->shown, why);
        git_run_clear (&run);
        goto fail;
      }
    r->contents = g_steal_pointer (&run.out);
    git_run_clear (&run);
  }
  return r;

fail:
  read_result_free (r);
  return NULL;
}

static void
read_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  CbListSourceGit *self = source_object;
  GError *error = NULL;
  ReadResult *r;
  int lock_fd;

  if (g_task_return_error_if_cancelled (task))
    return;
  lock_fd = lock_cache (self, cancellable, &error);
  if (lock_fd < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  r = read_locked (self, cancellable, &error);
  close (lock_fd);
  if (r == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, r, (GDestroyNotify) read_result_free);
}

static void
cb_list_source_git_read_async (CbListSource        *source,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (source, cancellable, callback, user_data);

  g_task_set_source_tag (task, cb_list_source_git_read_async);
  g_task_run_in_thread (task, read_thread);
}

static GBytes *
cb_list_source_git_read_finish (CbListSource  *source,
                                GAsyncResult  *result,
                                char         **revision,
                                GError       **error)
{
  ReadResult *r;
  GBytes *bytes;

  g_return_val_if_fail (g_task_is_valid (result, source), NULL);
  r = g_task_propagate_pointer (G_TASK (result), error);
  if (r == NULL)
    return NULL;
  /* Also on NOT_FOUND: a write that creates the file builds on this. */
  *revision = g_steal_pointer (&r->revision);
  bytes = g_steal_pointer (&r->contents);
  if (bytes == NULL)
    g_propagate_error (error, g_steal_pointer (&r->missing));
  read_result_free (r);
  return bytes;
}

/* ---- write ------------------------------------------------------------- */

static gboolean
have_commit (CbListSourceGit *self,
             const char      *commit,
             GCancellable    *cancellable)
{
  g_autofree char *spec = g_strconcat (commit, "^{commit}", NULL);
  const char *args[] = { "cat-file", "-e", spec, NULL };
  GitRun run;
  gboolean ok;

  if (!run_git (self, args, NULL, NULL, &run, cancellable, NULL))
    return FALSE;
  ok = run.status == 0;
  git_run_clear (&run);
  return ok;
}

/* Builds the commit that puts @contents at our path on top of @parent
 * (NULL: a first commit). */
static char *
make_commit (CbListSourceGit  *self,
             const char       *parent,
             GBytes           *contents,
             const char       *message,
             GCancellable     *cancellable,
             GError          **error)
{
  g_autofree char *index_file = NULL;
  g_autofree char *blob = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *cacheinfo = NULL;
  g_autofree char *ignored = NULL;
  char *commit = NULL;
  int fd;

  {
    const char *args[] = { "hash-object", "-w", "--stdin", NULL };
    blob = git_text (self, args, contents, NULL, "store the list in git", cancellable, error);
    if (blob == NULL)
      return NULL;
  }

  index_file = g_build_filename (self->cache_git, "cb-index-XXXXXX", NULL);
  fd = g_mkstemp (index_file);
  if (fd < 0)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "cannot create a temporary index in %s: %s", self->cache_git,
                   g_strerror (errno));
      return NULL;
    }
  close (fd);
  g_unlink (index_file); /* git wants to create it itself */

  {
    const char *from_parent[] = { "read-tree", parent, NULL };
    const char *empty[] = { "read-tree", "--empty", NULL };
    ignored = git_text (self, parent ? from_parent : empty, NULL, index_file,
                        "read the parent commit's tree", cancellable, error);
    if (ignored == NULL)
      goto out;
  }
  cacheinfo = g_strdup_printf ("100644,%s,%s", blob, self->path);
  {
    const char *args[] = { "update-index", "--add", "--cacheinfo", cacheinfo, NULL };
    g_free (ignored);
    ignored = git_text (self, args, NULL, index_file, "stage the list", cancellable, error);
    if (ignored == NULL)
      goto out;
  }
  {
    const char *args[] = { "write-tree", NULL };
    tree = git_text (self, args, NULL, index_file, "write the tree", cancellable, error);
    if (tree == NULL)
      goto out;
  }
  {
    const char *with_parent[] = { "commit-tree", tree, "-p", parent, "-m", message, NULL };
    const char *root[] = { "commit-tree", tree, "-m", message, NULL };
    commit = git_text (self, parent ? with_parent : root, NULL, NULL, "commit the list",
                       cancellable, error);
  }

out:
  g_unlink (index_file);
  return commit;
}

static gboolean
push_commit (CbListSourceGit  *self,
             const char       *commit,
             const char       *branch,
             GCancellable     *cancellable,
             GError          **error)
{
  g_autofree char *refspec = g_strdup_printf ("%s:refs/heads/%s", commit, branch);
  const char *args[] = { "push", "--porcelain", "--", self->remote, refspec, NULL };
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  GitRun run;
  guint i;

  if (!run_git (self, args, NULL, NULL, &run, cancellable, error))
    return FALSE;
  if (run.status == 0)
    {
      git_run_clear (&run);
      return TRUE;
    }

  /* --porcelain: "!\t<from>:<to>\t[rejected] (fetch first)" and the like. */
  out = bytes_to_string (run.out);
  lines = g_strsplit (out, "\n", -1);
  for (i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] != '!')
        continue;
      /* A plain rejection is a non-fast-forward; the remote failing to
       * move or lock the ref means another push got there in between. */
      if (strstr (lines[i], "[remote rejected]") != NULL &&
          strstr (lines[i], "failed to update ref") == NULL &&
          strstr (lines[i], "failed to lock") == NULL &&
          strstr (lines[i], "cannot lock ref") == NULL)
        g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                     "%s refused the push to branch \"%s\": %s", self->shown, branch,
                     g_strstrip (lines[i] + 1));
      else
        g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT,
                     "branch \"%s\" of %s moved on since the list was read", branch,
                     self->shown);
      git_run_clear (&run);
      return FALSE;
    }
  {
    g_autofree char *why = git_complaint (run.err);

    g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                 "cannot push to %s: %s", self->shown, why);
  }
  git_run_clear (&run);
  return FALSE;
}

static gboolean
write_locked (CbListSourceGit  *self,
              CbListWriteRequest        *data,
              GCancellable     *cancellable,
              GError          **error)
{
  g_autofree char *branch = NULL;
  g_autofree char *tip = NULL;
  g_autofree char *commit = NULL;

  if (data->expected != NULL && !is_object_id (data->expected))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "\"%s\" is not a git commit id", data->expected);
      return FALSE;
    }
  if (!resolve_remote (self, &branch, &tip, cancellable, error))
    return FALSE;
  /* Cheap early answers; the push below is what decides. */
  if (g_strcmp0 (tip, data->expected) != 0)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT,
                   "branch \"%s\" of %s moved on since the list was read", branch,
                   self->shown);
      return FALSE;
    }
  if (data->expected != NULL && !have_commit (self, data->expected, cancellable))
    {
      g_autofree char *fetched = fetch_branch (self, branch, cancellable, error);

      if (fetched == NULL)
        return FALSE;
      if (!have_commit (self, data->expected, cancellable))
        {
          g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT,
                       "branch \"%s\" of %s moved on since the list was read", branch,
                       self->shown);
          return FALSE;
        }
    }
  commit = make_commit (self, data->expected, data->contents, data->message, cancellable,
                        error);
  if (commit == NULL)
    return FALSE;
  return push_commit (self, commit, branch, cancellable, error);
}

static void
write_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CbListSourceGit *self = source_object;
  CbListWriteRequest *data = task_data;
  GError *error = NULL;
  gboolean ok;
  int lock_fd;

  if (g_task_return_error_if_cancelled (task))
    return;
  if (g_bytes_get_size (data->contents) > cb_list_source_get_max_bytes (CB_LIST_SOURCE (self)))
    {
      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE,
                               "refusing to write %" G_GSIZE_FORMAT " bytes to %s; this file "
                               "is at most %" G_GSIZE_FORMAT " bytes",
                               g_bytes_get_size (data->contents), self->shown,
                               cb_list_source_get_max_bytes (CB_LIST_SOURCE (self)));
      return;
    }
  lock_fd = lock_cache (self, cancellable, &error);
  if (lock_fd < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  ok = write_locked (self, data, cancellable, &error);
  close (lock_fd);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
cb_list_source_git_write_async (CbListSource        *source,
                                GBytes              *contents,
                                const char          *expected_revision,
                                const char          *message,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (source, cancellable, callback, user_data);
  CbListWriteRequest *data = _cb_list_write_request_new (contents, expected_revision, message);

  g_task_set_source_tag (task, cb_list_source_git_write_async);
  g_task_set_task_data (task, data, (GDestroyNotify) _cb_list_write_request_free);
  g_task_run_in_thread (task, write_thread);
}

static gboolean
cb_list_source_git_is_writable (CbListSource *source)
{
  return TRUE;
}

static void
cb_list_source_git_finalize (GObject *object)
{
  CbListSourceGit *self = CB_LIST_SOURCE_GIT (object);

  g_free (self->remote);
  g_free (self->shown);
  g_free (self->path);
  g_free (self->ref);
  g_free (self->cache_git);
  g_free (self->cache_lock);
  g_free (self->default_branch);
  g_mutex_clear (&self->mutex);
  G_OBJECT_CLASS (cb_list_source_git_parent_class)->finalize (object);
}

static void
cb_list_source_git_class_init (CbListSourceGitClass *klass)
{
  CbListSourceClass *source_class = CB_LIST_SOURCE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = cb_list_source_git_finalize;
  source_class->is_writable = cb_list_source_git_is_writable;
  source_class->read_async = cb_list_source_git_read_async;
  source_class->read_finish = cb_list_source_git_read_finish;
  source_class->write_async = cb_list_source_git_write_async;
}

static void
cb_list_source_git_init (CbListSourceGit *self)
{
  g_mutex_init (&self->mutex);
}

CbListSource *
_cb_list_source_git_new (const char                 *url,
                         const CbListSourceOptions  *options,
                         GError                    **error)
{
  static const char * const transports[] = { "file", "http", "https", "ssh", NULL };
  g_autoptr(CbListSourceGit) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GUri) remote = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *ref = NULL;
  g_autofree char *path = NULL;
  g_autofree char *cache_root = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *name = NULL;
  const char *transport;

  /* Keep the remote's own percent-encoding: it goes to git verbatim. */
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "cannot parse list URL \"%s\": %s", url, local_error->message);
      return NULL;
    }
  transport = g_uri_get_scheme (uri) + strlen ("git+");
  if (!g_strv_contains (transports, transport))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" uses git over \"%s\"; use git+https://, git+ssh:// "
                   "or git+file://", url, transport);
      return NULL;
    }
  if (g_uri_get_fragment (uri) == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" does not say which file in the repository holds the "
                   "list; add it after a \"#\", like %s#nodes.json", url, url);
      return NULL;
    }
  path = g_uri_unescape_string (g_uri_get_fragment (uri), NULL);
  if (!_cb_list_source_check_repo_path (path, url, error))
    return NULL;
  if (strcmp (transport, "file") != 0 &&
      (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" has no host", url);
      return NULL;
    }
  if (*g_uri_get_path (uri) == '\0' || strcmp (g_uri_get_path (uri), "/") == 0)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" does not name a repository", url);
      return NULL;
    }
  if (!_cb_list_source_parse_ref_query (uri, url, &ref, error))
    return NULL;

  remote = g_uri_build_with_user (G_URI_FLAGS_ENCODED, transport,
                                  g_uri_get_user (uri), g_uri_get_password (uri),
                                  g_uri_get_auth_params (uri), g_uri_get_host (uri),
                                  g_uri_get_port (uri), g_uri_get_path (uri), NULL, NULL);

  self = g_object_new (CB_TYPE_LIST_SOURCE_GIT, NULL);
  _cb_list_source_set_url (CB_LIST_SOURCE (self), url);
  self->remote = g_uri_to_string (remote);
  self->shown = g_uri_to_string_partial (remote, G_URI_HIDE_PASSWORD);
  self->path = g_steal_pointer (&path);
  self->ref = g_steal_pointer (&ref);

  cache_root = options->cache_dir
                 ? g_strdup (options->cache_dir)
                 : g_build_filename (g_get_user_cache_dir (), "cloud-bevy", "lists", NULL);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, self->remote, -1);
  name = g_strdup_printf ("git-%.24s.git", digest);
  self->cache_git = g_build_filename (cache_root, name, NULL);
  self->cache_lock = g_strconcat (self->cache_git, ".lock", NULL);
  return CB_LIST_SOURCE (g_steal_pointer (&self));
}
