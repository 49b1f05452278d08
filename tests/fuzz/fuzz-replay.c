/* fuzz-replay.c: runs a libFuzzer harness over its saved corpus
 *
 * Under `meson test` every harness is linked with this driver instead of
 * libFuzzer, so each input found while fuzzing stays a regression test for
 * gcc and sanitizer builds alike.  Usage: fuzz-NAME DIR|FILE… */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint
replay_path (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;
  g_autoptr(GError) error = NULL;
  guint count = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      const char *name;

      if (dir == NULL)
        g_error ("%s", error->message);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          count += replay_path (child);
        }
      return count;
    }
  if (!g_file_get_contents (path, &contents, &len, &error))
    g_error ("%s", error->message);
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
  return 1;
}

int
main (int   argc,
      char *argv[])
{
  guint count = 0;

  for (int i = 1; i < argc; i++)
    count += replay_path (argv[i]);
  if (count == 0)
    {
      fprintf (stderr, "no corpus inputs found\n");
      return 1;
    }
  printf ("replayed %u inputs\n", count);
  return 0;
}
