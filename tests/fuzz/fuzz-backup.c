/* fuzz-backup.c: libFuzzer harness for the backup format.
 *
 * The header parser and the decryption run on every input with a fixed
 * key (all zeros: the saved corpus holds backups sealed with it), so the
 * fuzzer reaches the record framing inside; the key derivation is skipped
 * to keep runs fast.  Whatever is refused must say why. */
#include <string.h>

#include "cb-backup.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const guint8 key[32] = { 0 };
  GBytes *bytes = g_bytes_new (data, size);
  CbBackupInfo info;
  GError *error = NULL;
  GPtrArray *runs;

  if (cb_backup_read_header (bytes, &info, &error))
    cb_backup_info_clear (&info);
  else
    {
      if (error == NULL || error->message[0] == '\0')
        g_error ("a refused header without a message");
      g_clear_error (&error);
    }
  runs = cb_backup_open_with_key (bytes, key, &info, &error);
  if (runs != NULL)
    {
      if (runs->len != info.runs)
        g_error ("opened a backup whose run count differs from its header");
      g_ptr_array_unref (runs);
      cb_backup_info_clear (&info);
    }
  else
    {
      if (error == NULL || error->message[0] == '\0')
        g_error ("a refused backup without a message");
      if (info.system != NULL)
        g_error ("a refused backup left its header filled in");
      g_clear_error (&error);
    }
  g_bytes_unref (bytes);
  return 0;
}
