/* fuzz-session.c: the session file is read back after crashes and disk errors */
#include "cb-session-file.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CbSession) session = cb_session_decode ((const char *) data, size, &error);
  g_autoptr(CbSession) again = NULL;
  g_autofree char *encoded = NULL;
  gsize len = 0;

  g_assert_true ((session == NULL) != (error == NULL));
  if (session == NULL)
    return 0;
  /* What we write we read back, the same windows and tabs. */
  encoded = cb_session_encode (session, &len);
  again = cb_session_decode (encoded, len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->windows->len, ==, session->windows->len);
  for (guint i = 0; i < session->windows->len; i++)
    g_assert_cmpuint (((CbSessionWindow *) again->windows->pdata[i])->tabs->len, ==,
                      ((CbSessionWindow *) session->windows->pdata[i])->tabs->len);
  return 0;
}
