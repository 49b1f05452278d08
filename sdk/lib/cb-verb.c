/* cb-verb.c: one call of a verb, answered once */
#define G_LOG_DOMAIN "cb-sdk"

#include "cb-sdk-host.h"

struct _CbVerbCall
{
  CbVerbReplyFunc reply;
  gpointer        user_data;
};

CbVerbCall *
_cb_verb_call_new (CbVerbReplyFunc reply,
                   gpointer        user_data)
{
  CbVerbCall *call = g_new0 (CbVerbCall, 1);

  call->reply = reply;
  call->user_data = user_data;
  return call;
}

void
cb_verb_call_return (CbVerbCall *call,
                     JsonNode   *result)
{
  g_return_if_fail (call != NULL);
  call->reply (result != NULL ? result : json_node_new (JSON_NODE_NULL), NULL, call->user_data);
  g_free (call);
}

void
cb_verb_call_return_error (CbVerbCall *call,
                           GError     *error)
{
  g_return_if_fail (call != NULL);
  if (error == NULL)
    error = g_error_new_literal (CB_SDK_ERROR, CB_SDK_ERROR_FAILED,
                                 "the verb failed and gave no reason");
  call->reply (NULL, error, call->user_data);
  g_free (call);
}
