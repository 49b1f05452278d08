/* fuzz-bookmarks-html.c: bookmarks files come from other browsers and the web */
#include "cb-bookmarks-html.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbBookmarksHtmlItem) root = NULL;
  g_autoptr(CbBookmarksHtmlItem) again = NULL;
  g_autofree char *written = NULL;
  guint skipped = 0;

  root = cb_bookmarks_html_parse ((const char *) data, size, &skipped, &error);
  /* Exactly one of a tree or an error, always. */
  g_assert_true ((root == NULL) != (error == NULL));
  if (root == NULL)
    return 0;
  /* What we write we read back, with the same bookmarks. */
  written = cb_bookmarks_html_write (root);
  again = cb_bookmarks_html_parse (written, strlen (written), &skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (skipped, ==, 0);
  g_assert_cmpuint (cb_bookmarks_html_count (again), ==, cb_bookmarks_html_count (root));
  return 0;
}
