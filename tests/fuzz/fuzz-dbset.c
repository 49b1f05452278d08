/* fuzz-dbset.c: libFuzzer harness for the db-set directory codec and core.
 *
 * The format is canonical, so an accepted input must re-encode to exactly
 * its own bytes; it is then fed to a CbDbSets as if a peer had sent it,
 * which must neither crash nor grow past its bounds. */
#include <string.h>

#include "cb-dbset.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const guint8 self[32] = { 1 }, from[32] = { 2 };
  CbDbSetMessage m;
  GError *error = NULL;
  GBytes *again;
  CbDbSetsConfig cfg;
  CbDbSets *sets;
  CbDbSetSend send;

  if (!cb_dbset_decode (data, size, &m, &error))
    {
      if (error == NULL || error->message[0] == '\0')
        g_error ("a refusal without a message");
      g_error_free (error);
      return 0;
    }
  again = cb_dbset_encode (&m, &error);
  if (again == NULL)
    g_error ("a decoded message does not re-encode: %s", error->message);
  if (g_bytes_get_size (again) != size || memcmp (g_bytes_get_data (again, NULL), data, size) != 0)
    g_error ("re-encoding a decoded message changed its bytes");
  g_bytes_unref (again);

  cb_dbsets_config_init (&cfg);
  cfg.set_size = 2;
  sets = cb_dbsets_new (m.system, self, "ws://127.0.0.1:1", &cfg, 1);
  cb_dbsets_tick (sets, 0);
  cb_dbsets_receive (sets, from, &m, 10);
  cb_dbsets_tick (sets, 2000);
  if (cb_dbsets_count_own (sets) + cb_dbsets_count_contacts (sets) > 2 + CB_DBSET_MAX_ANSWER)
    g_error ("one message taught more hosts than it holds");
  while (cb_dbsets_pop_send (sets, &send))
    cb_dbset_send_clear (&send);
  cb_dbsets_free (sets);
  cb_dbset_message_clear (&m);
  return 0;
}
