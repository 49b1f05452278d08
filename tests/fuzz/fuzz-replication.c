/* fuzz-replication.c: libFuzzer harness for the replication message codec.
 *
 * Every input is decoded both ways (copying and slicing).  The format is
 * canonical, so an accepted input must re-encode to exactly its own bytes.
 * A BATCH's entries then go through batch verification, which must refuse
 * them with a log error rather than crash. */
#include <string.h>

#include "cb-replication-codec.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_reencodes (const CbReplicationMessage *m, const guint8 *data, size_t size)
{
  GError *error = NULL;
  GBytes *again = cb_replication_encode (m, &error);

  if (again == NULL)
    g_error ("a decoded message does not re-encode: %s", error->message);
  if (g_bytes_get_size (again) != size ||
      memcmp (g_bytes_get_data (again, NULL), data, size) != 0)
    g_error ("re-encoding a decoded message changed its bytes");
  g_bytes_unref (again);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  GError *error = NULL;
  GError *error2 = NULL;
  GBytes *input = g_bytes_new (data, size);
  CbReplicationMessage m, sliced;
  gboolean ok = cb_replication_decode (data, size, &m, &error);
  gboolean ok2 = cb_replication_decode_bytes (input, &sliced, &error2);

  if (ok != ok2)
    g_error ("decode and decode_bytes disagree");
  if (!ok)
    {
      if (error == NULL || error->domain != CB_REPLICATION_CODEC_ERROR ||
          error->message[0] == '\0')
        g_error ("the decoder refused an input without a replication codec error");
      if (error2->code != error->code || strcmp (error2->message, error->message) != 0)
        g_error ("decode and decode_bytes disagree on why");
      if (m.system != NULL || sliced.system != NULL)
        g_error ("a refused message was not cleared");
      g_error_free (error);
      g_error_free (error2);
      g_bytes_unref (input);
      return 0;
    }
  if (m.type != sliced.type || strcmp (m.system, sliced.system) != 0)
    g_error ("decode and decode_bytes disagree");
  check_reencodes (&m, data, size);
  check_reencodes (&sliced, data, size);

  if (sliced.type == CB_REPLICATION_MSG_BATCH)
    {
      CbLogEntry **entries = NULL;

      if (cb_log_verify_batch (sliced.system, sliced.batch.writer, sliced.batch.first_seq, NULL,
                               (GBytes * const *) sliced.batch.entries->pdata,
                               sliced.batch.entries->len, sliced.batch.sig, &entries, NULL,
                               &error))
        cb_log_entry_array_free (entries);  /* a genuinely signed corpus input */
      else if (error == NULL || error->domain != CB_LOG_ERROR)
        g_error ("batch verification failed without a log error");
      g_clear_error (&error);
    }

  cb_replication_message_clear (&m);
  cb_replication_message_clear (&sliced);
  g_bytes_unref (input);
  return 0;
}
