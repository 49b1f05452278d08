/* cb-test-profile.h: run an _async call to completion in a unit test */
#pragma once

#include <gio/gio.h>
#include <glib/gstdio.h>

G_BEGIN_DECLS

/* Iterates the thread-default main context until *@result is set. */
static inline void
cb_test_await (GAsyncResult **result)
{
  GMainContext *context = g_main_context_ref_thread_default ();

  while (*result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_unref (context);
}

static inline void
cb_test_store_result (GObject      *source,
                      GAsyncResult *result,
                      gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

/* A temp dir for one test; removed (with its files) by cb_test_rmdir. */
static inline char *
cb_test_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("cb-test-profile-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static inline void
cb_test_rmdir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        cb_test_rmdir (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static inline int
cb_test_compare_names (gconstpointer a,
                       gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Names in @path, sorted, joined by spaces. */
static inline char *
cb_test_list_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cb_test_compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

G_END_DECLS
