/* fuzz-node-meta.c: libFuzzer harness for the node metadata codec.
 *
 * Every input is decoded.  The format is canonical, so an accepted input
 * must re-encode to exactly its own bytes and compare equal to a copy of
 * itself; a refused one must say why. */
#include <string.h>

#include "cb-node-meta.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  GError *error = NULL;
  CbNodeMeta *meta = cb_node_meta_decode (data, size, &error);
  CbNodeMeta *copy;
  GBytes *again;

  if (meta == NULL)
    {
      if (error == NULL || error->domain != CB_NODE_META_ERROR || error->message[0] == '\0')
        g_error ("the decoder refused an input without a node metadata error");
      g_error_free (error);
      return 0;
    }
  if (meta->roles == NULL || meta->systems == NULL)
    g_error ("the decoder returned a NULL list");
  copy = cb_node_meta_copy (meta);
  if (!cb_node_meta_equal (meta, copy))
    g_error ("a decoded record differs from its copy");
  again = cb_node_meta_encode (copy, &error);
  if (again == NULL)
    g_error ("a decoded record does not re-encode: %s", error->message);
  if (g_bytes_get_size (again) != size ||
      memcmp (g_bytes_get_data (again, NULL), data, size) != 0)
    g_error ("re-encoding decoded node metadata changed its bytes");
  g_bytes_unref (again);
  cb_node_meta_free (copy);
  cb_node_meta_free (meta);
  return 0;
}
