/* cb-substring.c: fast substring search for the history's match index
 *
 * Address-bar completion searches a few megabytes of lower-cased
 * addresses and titles for what is typed, once per key press.  glibc's
 * memmem() looks at about a byte per step there; this looks at sixteen
 * positions at a time: it compares the needle's first byte with 16 bytes
 * of the haystack and its last byte with the 16 bytes len-1 further on
 * (W. Muła's "generic SIMD" substring search), and only where both agree
 * compares the rest.  GCC and Clang vector extensions, so it builds for
 * every architecture (SSE2, NEON, or plain integers where there is none). */
#define _GNU_SOURCE  /* memmem */

#include "cb-substring.h"

#include <string.h>

typedef unsigned char CbBytes16 __attribute__ ((vector_size (16)));
typedef signed char CbMask16 __attribute__ ((vector_size (16)));

const char *
cb_find_substring (const char *haystack,
                   gsize       haystack_len,
                   const char *needle,
                   gsize       needle_len)
{
  CbBytes16 first, last;
  gsize i = 0;

  if (needle_len == 0)
    return haystack;
  if (needle_len > haystack_len)
    return NULL;
  if (needle_len == 1)
    return memchr (haystack, needle[0], haystack_len);

  for (int lane = 0; lane < 16; lane++)
    {
      first[lane] = (unsigned char) needle[0];
      last[lane] = (unsigned char) needle[needle_len - 1];
    }
  /* Blocks whose 16 candidate starts all have the whole needle inside. */
  for (; i + needle_len - 1 + 16 <= haystack_len; i += 16)
    {
      CbBytes16 head, tail;
      CbMask16 hits;
      guint64 half[2];

      memcpy (&head, haystack + i, 16);
      memcpy (&tail, haystack + i + needle_len - 1, 16);
      hits = (CbMask16) ((head == first) & (tail == last));
      memcpy (half, &hits, 16);
      if ((half[0] | half[1]) == 0)
        continue;
      for (int lane = 0; lane < 16; lane++)
        if (hits[lane] != 0 &&
            memcmp (haystack + i + lane + 1, needle + 1, needle_len - 2) == 0)
          return haystack + i + lane;
    }
  /* The last few starts. */
  return memmem (haystack + i, haystack_len - i, needle, needle_len);
}
