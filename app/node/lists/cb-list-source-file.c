/* cb-list-source-file.c: a list file on a local or mounted file system
 *
 * Writes go to a temporary file in the same directory, are fsync'd and
 * renamed over the list, so a reader sees the old or the new file, never
 * half of one.  Writers take an flock on "<file>.lock" and compare the
 * current content's SHA-256 with the revision they read: that makes the
 * write a compare-and-swap between processes on one machine (and on file
 * systems that honour flock). */
#define G_LOG_DOMAIN "cb-lists"

#include "cb-list-source-private.h"
#include "cb-node-list.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CB_TYPE_LIST_SOURCE_FILE (cb_list_source_file_get_type ())
G_DECLARE_FINAL_TYPE (CbListSourceFile, cb_list_source_file, CB, LIST_SOURCE_FILE, CbListSource)

struct _CbListSourceFile {
  CbListSource parent_instance;
  char *path;
  char *lock_path;
};

G_DEFINE_FINAL_TYPE (CbListSourceFile, cb_list_source_file, CB_TYPE_LIST_SOURCE)

static void
set_io_error (GError     **error,
              int          errsv,
              const char  *action,
              const char  *path)
{
  g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
               "cannot %s %s: %s", action, path, g_strerror (errsv));
}

/* The whole file, at most max bytes; NOT_FOUND when it does not exist. */
static GBytes *
read_capped (const char  *path,
             gsize        max,
             GError     **error)
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    {
      int errsv = errno;

      if (errsv == ENOENT)
        g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_NOT_FOUND,
                     "there is no list file at %s", path);
      else
        set_io_error (error, errsv, "open", path);
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_FAILED,
                   "%s is not a regular file", path);
      close (fd);
      return NULL;
    }
  for (;;)
    {
      guint8 chunk[16384];
      ssize_t n = read (fd, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;

          close (fd);
          set_io_error (error, errsv, "read", path);
          return NULL;
        }
      if (n == 0)
        break;
      /* Count what is read, not st_size: the file can grow meanwhile. */
      if (buf->len + (gsize) n > max)
        {
          close (fd);
          g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE,
                       "%s is larger than %" G_GSIZE_FORMAT " bytes, the most this file may be",
                       path, max);
          return NULL;
        }
      g_byte_array_append (buf, chunk, (guint) n);
    }
  close (fd);
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Temp file + fsync + rename + fsync of the directory. */
static gboolean
replace_file (const char  *path,
              GBytes      *contents,
              GError     **error)
{
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (contents, &len);
  int fd, dir_fd, errsv;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      set_io_error (error, errno, "create a temporary file beside", path);
      return FALSE;
    }
  if (!write_all (fd, data, len) || fchmod (fd, 0644) != 0 || fsync (fd) != 0)
    {
      errsv = errno;
      close (fd);
      g_unlink (tmp);
      set_io_error (error, errsv, "write", tmp);
      return FALSE;
    }
  if (close (fd) != 0 || g_rename (tmp, path) != 0)
    {
      errsv = errno;
      g_unlink (tmp);
      set_io_error (error, errsv, "replace", path);
      return FALSE;
    }
  /* Make the rename itself durable. */
  dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0)
    {
      fsync (dir_fd);
      close (dir_fd);
    }
  return TRUE;
}

static void
read_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  CbListSourceFile *self = source_object;
  GError *error = NULL;
  GBytes *bytes;

  if (g_task_return_error_if_cancelled (task))
    return;
  bytes = read_capped (self->path, cb_list_source_get_max_bytes (CB_LIST_SOURCE (self)), &error);
  if (bytes == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
}

static void
cb_list_source_file_read_async (CbListSource        *source,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (source, cancellable, callback, user_data);

  g_task_set_source_tag (task, cb_list_source_file_read_async);
  g_task_run_in_thread (task, read_thread);
}

static void
write_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CbListSourceFile *self = source_object;
  CbListWriteRequest *data = task_data;
  g_autoptr(GBytes) current = NULL;
  g_autofree char *current_rev = NULL;
  GError *error = NULL;
  int lock_fd;

  if (g_task_return_error_if_cancelled (task))
    return;
  if (g_bytes_get_size (data->contents) > cb_list_source_get_max_bytes (CB_LIST_SOURCE (self)))
    {
      g_task_return_new_error (task, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_TOO_LARGE,
                               "refusing to write %" G_GSIZE_FORMAT " bytes to %s; this file "
                               "is at most %" G_GSIZE_FORMAT " bytes",
                               g_bytes_get_size (data->contents), self->path,
                               cb_list_source_get_max_bytes (CB_LIST_SOURCE (self)));
      return;
    }

  lock_fd = open (self->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (lock_fd < 0)
    {
      set_io_error (&error, errno, "create the lock file", self->lock_path);
      g_task_return_error (task, error);
      return;
    }
  while (flock (lock_fd, LOCK_EX) != 0)
    if (errno != EINTR)
      {
        set_io_error (&error, errno, "lock", self->lock_path);
        close (lock_fd);
        g_task_return_error (task, error);
        return;
      }

  current = read_capped (self->path, cb_list_source_get_max_bytes (CB_LIST_SOURCE (self)),
                         &error);
  if (current == NULL && g_error_matches (error, CB_LIST_SOURCE_ERROR,
                                          CB_LIST_SOURCE_ERROR_NOT_FOUND))
    g_clear_error (&error);
  if (error != NULL)
    goto out;
  if (current != NULL)
    current_rev = _cb_list_source_sha256_hex (current);

  if (g_strcmp0 (current_rev, data->expected) != 0)
    {
      if (data->expected == NULL)
        g_set_error (&error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT,
                     "%s was created by someone else since it was read", self->path);
      else if (current_rev == NULL)
        g_set_error (&error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT,
                     "%s was removed since it was read", self->path);
      else
        g_set_error (&error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_CONFLICT,
                     "%s changed since it was read (now at revision %.12s…, not %.12s…)",
                     self->path, current_rev, data->expected);
      goto out;
    }
  replace_file (self->path, data->contents, &error);

out:
  close (lock_fd); /* releases the flock */
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
cb_list_source_file_write_async (CbListSource        *source,
                                 GBytes              *contents,
                                 const char          *expected_revision,
                                 const char          *message,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (source, cancellable, callback, user_data);
  CbListWriteRequest *data = _cb_list_write_request_new (contents, expected_revision, message);

  g_task_set_source_tag (task, cb_list_source_file_write_async);
  g_task_set_task_data (task, data, (GDestroyNotify) _cb_list_write_request_free);
  g_task_run_in_thread (task, write_thread);
}

static gboolean
cb_list_source_file_is_writable (CbListSource *source)
{
  return TRUE;
}

static void
cb_list_source_file_finalize (GObject *object)
{
  CbListSourceFile *self = CB_LIST_SOURCE_FILE (object);

  g_free (self->path);
  g_free (self->lock_path);
  G_OBJECT_CLASS (cb_list_source_file_parent_class)->finalize (object);
}

static void
cb_list_source_file_class_init (CbListSourceFileClass *klass)
{
  CbListSourceClass *source_class = CB_LIST_SOURCE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = cb_list_source_file_finalize;
  source_class->is_writable = cb_list_source_file_is_writable;
  source_class->read_async = cb_list_source_file_read_async;
  source_class->read_finish = _cb_list_source_finish_read_sha256;
  source_class->write_async = cb_list_source_file_write_async;
}

static void
cb_list_source_file_init (CbListSourceFile *self)
{
}

CbListSource *
_cb_list_source_file_new (const char  *url,
                          GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *hostname = NULL;
  g_autofree char *path = g_filename_from_uri (url, &hostname, &local_error);
  CbListSourceFile *self;

  if (path == NULL)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "cannot use \"%s\" as a list file: %s", url, local_error->message);
      return NULL;
    }
  if (hostname != NULL && g_ascii_strcasecmp (hostname, "localhost") != 0)
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" names the host \"%s\"; file:// URLs are for this "
                   "machine (file:///path/nodes.json)", url, hostname);
      return NULL;
    }
  if (g_str_has_suffix (path, "/"))
    {
      g_set_error (error, CB_LIST_SOURCE_ERROR, CB_LIST_SOURCE_ERROR_INVALID_URL,
                   "list URL \"%s\" names a directory; name the list file", url);
      return NULL;
    }

  self = g_object_new (CB_TYPE_LIST_SOURCE_FILE, NULL);
  _cb_list_source_set_url (CB_LIST_SOURCE (self), url);
  self->lock_path = g_strconcat (path, ".lock", NULL);
  self->path = g_steal_pointer (&path);
  return CB_LIST_SOURCE (self);
}
