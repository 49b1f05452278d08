/* cb-context.c: a plugin's handle on its running system
 *
 * The work is the host's (CbContextHostFuncs); this keeps the handle
 * valid after the system stops, so a plugin holding a reference gets an
 * UNAVAILABLE error instead of reaching a host that is gone. */
#define G_LOG_DOMAIN "cb-sdk"

#include "cb-sdk-host.h"

struct _CbContext
{
  GObject                   parent_instance;

  char                     *system;
  char                     *node_id;
  const CbContextHostFuncs *funcs;   /* NULL once detached */
  gpointer                  host;
};

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CbContext, cb_context, G_TYPE_OBJECT)

static void
cb_context_finalize (GObject *object)
{
  CbContext *self = CB_CONTEXT (object);

  g_free (self->system);
  g_free (self->node_id);
  G_OBJECT_CLASS (cb_context_parent_class)->finalize (object);
}

static void
cb_context_class_init (CbContextClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cb_context_finalize;

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
}

static void
cb_context_init (CbContext *self)
{
}

CbContext *
_cb_context_new (const char               *system,
                 const char               *node_id,
                 const CbContextHostFuncs *funcs,
                 gpointer                  host)
{
  CbContext *self = g_object_new (CB_TYPE_CONTEXT, NULL);

  self->system = g_strdup (system);
  self->node_id = g_strdup (node_id);
  self->funcs = funcs;
  self->host = host;
  return self;
}

void
_cb_context_detach (CbContext *self)
{
  g_return_if_fail (CB_IS_CONTEXT (self));
  self->funcs = NULL;
  self->host = NULL;
}

void
_cb_context_emit_changed (CbContext *self)
{
  g_return_if_fail (CB_IS_CONTEXT (self));
  if (self->funcs != NULL)
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

const char *
cb_context_get_system (CbContext *self)
{
  g_return_val_if_fail (CB_IS_CONTEXT (self), NULL);
  return self->system;
}

const char *
cb_context_get_node_id (CbContext *self)
{
  g_return_val_if_fail (CB_IS_CONTEXT (self), NULL);
  return self->node_id;
}

static gboolean
check_attached (CbContext *self, GError **error)
{
  if (self->funcs != NULL)
    return TRUE;
  g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_UNAVAILABLE,
               "%s is not running on this node any more (it was stopped, disabled or removed)",
               self->system);
  return FALSE;
}

static void
write_async (CbContext           *self,
             CbContextWriteKind   kind,
             const char          *table,
             JsonArray           *rows,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data,
             gpointer             source_tag)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, source_tag);
  if (!check_attached (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (table == NULL || rows == NULL)
    {
      g_task_return_new_error (task, CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
                               "a write needs a table and an array of rows");
      return;
    }
  self->funcs->write (self->host, kind, table, rows, g_steal_pointer (&task));
}

void
cb_context_upsert_async (CbContext           *self,
                         const char          *table,
                         JsonArray           *rows,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (CB_IS_CONTEXT (self));
  write_async (self, CB_CONTEXT_WRITE_UPSERT, table, rows, cancellable, callback, user_data,
               cb_context_upsert_async);
}

void
cb_context_delete_async (CbContext           *self,
                         const char          *table,
                         JsonArray           *keys,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (CB_IS_CONTEXT (self));
  write_async (self, CB_CONTEXT_WRITE_DELETE, table, keys, cancellable, callback, user_data,
               cb_context_delete_async);
}

gboolean
cb_context_write_finish (CbContext     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

JsonNode *
cb_context_query (CbContext   *self,
                  const char  *query,
                  JsonObject  *params,
                  GError     **error)
{
  g_return_val_if_fail (CB_IS_CONTEXT (self), NULL);
  if (!check_attached (self, error))
    return NULL;
  if (query == NULL)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID, "no query name given");
      return NULL;
    }
  return self->funcs->query (self->host, query, params, error);
}
