/* test-substring.c: cb_find_substring() finds what memmem() finds */
#define _GNU_SOURCE  /* memmem */
#include "cb-config.h"
#include "cb-substring.h"

#include <string.h>

static void
check (const char *haystack,
       gsize       haystack_len,
       const char *needle,
       gsize       needle_len)
{
  const char *want = memmem (haystack, haystack_len, needle, needle_len);
  const char *got = cb_find_substring (haystack, haystack_len, needle, needle_len);

  if (want != got)
    g_error ("needle of %" G_GSIZE_FORMAT " bytes in %" G_GSIZE_FORMAT ": memmem at %td, "
             "cb_find_substring at %td", needle_len, haystack_len,
             want ? want - haystack : (ptrdiff_t) -1, got ? got - haystack : (ptrdiff_t) -1);
}

/* Every needle taken from a random haystack over a small alphabet (so
 * that first and last bytes agree often without a match), and mutated
 * copies that are not there; bytes above 0x7f included. */
static void
test_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (4242);
  const char alphabet[] = "abc\xc3\xa9\x80\xff";

  for (guint round = 0; round < 400; round++)
    {
      gsize len = (gsize) g_rand_int_range (rand, 0, 300);
      g_autofree char *haystack = g_malloc (len + 1);
      guint letters = (guint) g_rand_int_range (rand, 2, (gint32) sizeof alphabet);

      for (gsize i = 0; i < len; i++)
        haystack[i] = alphabet[g_rand_int_range (rand, 0, (gint32) letters - 1)];
      for (gsize n = 0; n <= MIN (len, 40); n++)
        {
          gsize at = len > n ? (gsize) g_rand_int_range (rand, 0, (gint32) (len - n + 1)) : 0;
          g_autofree char *needle = g_memdup2 (haystack + at, n ? n : 1);

          check (haystack, len, needle, n);
          if (n > 0)
            {
              needle[g_rand_int_range (rand, 0, (gint32) n)] = 'z';
              check (haystack, len, needle, n);
            }
        }
    }
}

/* At the very start, the very end, straddling the 16-byte blocks, longer
 * than the haystack, and only the first and last bytes agreeing. */
static void
test_edges (void)
{
  char haystack[100];

  memset (haystack, 'x', sizeof haystack);
  memcpy (haystack + 97, "end", 3);
  memcpy (haystack, "start", 5);
  memcpy (haystack + 14, "block", 5);
  memcpy (haystack + 40, "a-----b", 7);
  check (haystack, sizeof haystack, "start", 5);
  check (haystack, sizeof haystack, "end", 3);
  check (haystack, sizeof haystack, "block", 5);
  check (haystack, sizeof haystack, "a-----c", 7);
  check (haystack, sizeof haystack, "a-----b", 7);
  check (haystack, sizeof haystack, "xe", 2);
  check (haystack, 3, "start", 5);
  check (haystack, sizeof haystack, "", 0);
  check (haystack, sizeof haystack, "q", 1);
  g_assert_true (cb_find_substring (haystack, sizeof haystack, "end", 3) == haystack + 97);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/profile/substring/random", test_random);
  g_test_add_func ("/profile/substring/edges", test_edges);
  return g_test_run ();
}
