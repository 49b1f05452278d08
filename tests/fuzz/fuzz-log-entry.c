/* fuzz-log-entry.c: libFuzzer harness for the log entry codec.
 *
 * Every input is decoded both ways (copying and slicing).  The format is
 * canonical, so an accepted input must re-encode to exactly its own bytes;
 * as a batch of one it must pass every chain check and then fail only on
 * its (missing) signature.  A refused input must say why. */
#include <string.h>

#include "cb-log-entry.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  GError *error = NULL;
  GError *error2 = NULL;
  GBytes *input = g_bytes_new (data, size);
  CbLogEntry *entry = cb_log_entry_decode (data, size, &error);
  CbLogEntry *sliced = cb_log_entry_decode_bytes (input, &error2);
  CbLogEntry **out = NULL;
  guint8 hash[32], again_hash[32], zero_sig[64] = { 0 };
  GBytes *again;

  if (entry == NULL)
    {
      if (error == NULL || error->domain != CB_LOG_ERROR || error->message[0] == '\0')
        g_error ("the decoder refused an input without a log error");
      if (sliced != NULL || error2 == NULL || error2->code != error->code ||
          strcmp (error2->message, error->message) != 0)
        g_error ("decode and decode_bytes disagree on a refused input");
      g_error_free (error);
      g_error_free (error2);
      g_bytes_unref (input);
      return 0;
    }
  if (sliced == NULL)
    g_error ("decode_bytes refused what decode accepted: %s", error2->message);
  if (!g_bytes_equal (entry->payload, sliced->payload) || entry->seq != sliced->seq ||
      entry->hlc != sliced->hlc || strcmp (entry->system, sliced->system) != 0)
    g_error ("decode and decode_bytes disagree");

  again = cb_log_entry_encode (sliced);
  if (again == NULL)
    g_error ("a decoded entry does not re-encode");
  if (g_bytes_get_size (again) != size ||
      memcmp (g_bytes_get_data (again, NULL), data, size) != 0)
    g_error ("re-encoding a decoded entry changed its bytes");
  if (cb_log_entry_encoded_size (entry) != size)
    g_error ("encoded_size disagrees with the encoding");
  cb_log_entry_hash (data, size, hash);
  cb_log_entry_hash (g_bytes_get_data (again, NULL), size, again_hash);
  if (memcmp (hash, again_hash, 32) != 0)
    g_error ("the hash is not deterministic");

  if (cb_log_verify_batch (entry->system, entry->writer, entry->seq, entry->prev, &input, 1,
                           zero_sig, &out, NULL, &error))
    g_error ("an all-zero signature verified");
  if (error->domain != CB_LOG_ERROR || error->code != CB_LOG_ERROR_BAD_SIGNATURE || out != NULL)
    g_error ("a batch of one decodable entry failed before its signature: %s", error->message);

  g_clear_error (&error);
  g_bytes_unref (again);
  cb_log_entry_free (sliced);
  cb_log_entry_free (entry);
  g_bytes_unref (input);
  return 0;
}
