/* cb-aside-path.c: where a damaged profile file is kept
 *
 * A store that cannot read its file moves it aside and starts afresh, so
 * nothing is silently lost: PATH.corrupt-YYYYmmdd-HHMMSS, with a counter
 * when several are set aside within one second. */
#include "cb-aside-path.h"

char *
cb_aside_path (const char *path)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  char *candidate = g_strdup_printf ("%s.corrupt-%s", path, stamp);

  for (guint n = 2; g_file_test (candidate, G_FILE_TEST_EXISTS); n++)
    {
      g_free (candidate);
      candidate = g_strdup_printf ("%s.corrupt-%s-%u", path, stamp, n);
    }
  return candidate;
}
