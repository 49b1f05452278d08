/* cb-plugin.c: the registration a plugin makes in its entry point
 *
 * Only records.  The host reads it back through cb-sdk-host.h and checks
 * it; nothing here can fail, so a plugin's entry point stays a list of
 * declarations. */
#define G_LOG_DOMAIN "cb-sdk"

#include "cb-sdk-host.h"

typedef struct {
  gpointer       user_data;
  GDestroyNotify destroy;
} Closure;

struct _CbPlugin
{
  GObject             parent_instance;

  char               *system;
  char               *version;
  guint               n_system_calls;
  GPtrArray          *tables;     /* char* */
  GPtrArray          *queries;    /* CbPluginQuery* */
  GPtrArray          *verbs;      /* CbPluginVerb* */

  CbEntryValidator    validator;
  Closure             validator_data;

  CbSessionValidator  session_validator;
  CbSessionReceiver   session_receiver;
  Closure             session_data;

  CbContextFunc       started;
  CbContextFunc       stopping;
  Closure             lifecycle_data;

  GResource          *web_resource;
  char               *web_root;
};

G_DEFINE_FINAL_TYPE (CbPlugin, cb_plugin, G_TYPE_OBJECT)

static void
closure_release (Closure *closure)
{
  GDestroyNotify destroy = closure->destroy;
  gpointer data = closure->user_data;

  closure->destroy = NULL;
  closure->user_data = NULL;
  if (destroy != NULL)
    destroy (data);
}

static void
query_free (gpointer data)
{
  CbPluginQuery *query = data;

  g_free (query->name);
  g_free (query->sql);
  g_free (query);
}

static void
verb_free (gpointer data)
{
  CbPluginVerb *verb = data;

  if (verb->destroy != NULL)
    verb->destroy (verb->user_data);
  g_free (verb->name);
  g_free (verb->summary);
  g_free (verb->params_help);
  g_free (verb);
}

void
_cb_plugin_release (CbPlugin *self)
{
  g_return_if_fail (CB_IS_PLUGIN (self));
  /* Verbs carry their own destroy notifies. */
  g_ptr_array_set_size (self->verbs, 0);
  closure_release (&self->validator_data);
  closure_release (&self->session_data);
  closure_release (&self->lifecycle_data);
  self->validator = NULL;
  self->session_validator = NULL;
  self->session_receiver = NULL;
  self->started = NULL;
  self->stopping = NULL;
  /* A resource compiled into the module points into its data. */
  g_clear_pointer (&self->web_resource, g_resource_unref);
}

static void
cb_plugin_finalize (GObject *object)
{
  CbPlugin *self = CB_PLUGIN (object);

  _cb_plugin_release (self);
  g_ptr_array_unref (self->tables);
  g_ptr_array_unref (self->queries);
  g_ptr_array_unref (self->verbs);
  g_free (self->system);
  g_free (self->version);
  g_free (self->web_root);
  G_OBJECT_CLASS (cb_plugin_parent_class)->finalize (object);
}

static void
cb_plugin_class_init (CbPluginClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cb_plugin_finalize;
}

static void
cb_plugin_init (CbPlugin *self)
{
  self->tables = g_ptr_array_new_with_free_func (g_free);
  self->queries = g_ptr_array_new_with_free_func (query_free);
  self->verbs = g_ptr_array_new_with_free_func (verb_free);
}

CbPlugin *
_cb_plugin_new (void)
{
  return g_object_new (CB_TYPE_PLUGIN, NULL);
}

/* ---- what plugins call ---- */

void
cb_plugin_set_system (CbPlugin   *self,
                      const char *system,
                      const char *version)
{
  g_return_if_fail (CB_IS_PLUGIN (self));
  self->n_system_calls++;
  g_free (self->system);
  g_free (self->version);
  self->system = g_strdup (system);
  self->version = g_strdup (version);
}

void
cb_plugin_add_table (CbPlugin   *self,
                     const char *create_table_sql)
{
  g_return_if_fail (CB_IS_PLUGIN (self));
  /* NULL stays in the list so the host can name the call. */
  g_ptr_array_add (self->tables, g_strdup (create_table_sql != NULL ? create_table_sql : ""));
}

void
cb_plugin_add_query (CbPlugin   *self,
                     const char *name,
                     const char *select_sql)
{
  CbPluginQuery *query;

  g_return_if_fail (CB_IS_PLUGIN (self));
  query = g_new0 (CbPluginQuery, 1);
  query->name = g_strdup (name != NULL ? name : "");
  query->sql = g_strdup (select_sql != NULL ? select_sql : "");
  g_ptr_array_add (self->queries, query);
}

void
cb_plugin_set_entry_validator (CbPlugin         *self,
                               CbEntryValidator  validator,
                               gpointer          user_data,
                               GDestroyNotify    destroy)
{
  g_return_if_fail (CB_IS_PLUGIN (self));
  closure_release (&self->validator_data);
  self->validator = validator;
  self->validator_data.user_data = user_data;
  self->validator_data.destroy = destroy;
}

void
cb_plugin_add_verb (CbPlugin       *self,
                    const char     *name,
                    const char     *summary,
                    const char     *params_help,
                    CbVerbFunc      func,
                    gpointer        user_data,
                    GDestroyNotify  destroy)
{
  CbPluginVerb *verb;

  g_return_if_fail (CB_IS_PLUGIN (self));
  verb = g_new0 (CbPluginVerb, 1);
  verb->name = g_strdup (name != NULL ? name : "");
  verb->summary = g_strdup (summary != NULL ? summary : "");
  verb->params_help = g_strdup (params_help != NULL ? params_help : "");
  verb->func = func;
  verb->user_data = user_data;
  verb->destroy = destroy;
  g_ptr_array_add (self->verbs, verb);
}

void
cb_plugin_set_session_handlers (CbPlugin           *self,
                                CbSessionValidator  validator,
                                CbSessionReceiver   receiver,
                                gpointer            user_data,
                                GDestroyNotify      destroy)
{
  g_return_if_fail (CB_IS_PLUGIN (self));
  closure_release (&self->session_data);
  self->session_validator = validator;
  self->session_receiver = receiver;
  self->session_data.user_data = user_data;
  self->session_data.destroy = destroy;
}

void
cb_plugin_set_lifecycle (CbPlugin      *self,
                         CbContextFunc  started,
                         CbContextFunc  stopping,
                         gpointer       user_data,
                         GDestroyNotify destroy)
{
  g_return_if_fail (CB_IS_PLUGIN (self));
  closure_release (&self->lifecycle_data);
  self->started = started;
  self->stopping = stopping;
  self->lifecycle_data.user_data = user_data;
  self->lifecycle_data.destroy = destroy;
}

void
cb_plugin_set_web_ui (CbPlugin   *self,
                      GResource  *resource,
                      const char *root)
{
  g_return_if_fail (CB_IS_PLUGIN (self));
  g_clear_pointer (&self->web_resource, g_resource_unref);
  g_free (self->web_root);
  self->web_resource = resource != NULL ? g_resource_ref (resource) : NULL;
  self->web_root = g_strdup (root != NULL ? root : "/");
}

/* ---- what the host reads ---- */

const char *
_cb_plugin_get_system (CbPlugin *self)
{
  return self->system;
}

const char *
_cb_plugin_get_version (CbPlugin *self)
{
  return self->version;
}

guint
_cb_plugin_get_n_system_calls (CbPlugin *self)
{
  return self->n_system_calls;
}

GPtrArray *
_cb_plugin_get_tables (CbPlugin *self)
{
  return self->tables;
}

GPtrArray *
_cb_plugin_get_queries (CbPlugin *self)
{
  return self->queries;
}

GPtrArray *
_cb_plugin_get_verbs (CbPlugin *self)
{
  return self->verbs;
}

CbEntryValidator
_cb_plugin_get_validator (CbPlugin *self,
                          gpointer *user_data)
{
  *user_data = self->validator_data.user_data;
  return self->validator;
}

gboolean
_cb_plugin_get_session_handlers (CbPlugin           *self,
                                 CbSessionValidator *validator,
                                 CbSessionReceiver  *receiver,
                                 gpointer           *user_data)
{
  *validator = self->session_validator;
  *receiver = self->session_receiver;
  *user_data = self->session_data.user_data;
  return self->session_receiver != NULL;
}

void
_cb_plugin_get_lifecycle (CbPlugin      *self,
                          CbContextFunc *started,
                          CbContextFunc *stopping,
                          gpointer      *user_data)
{
  *started = self->started;
  *stopping = self->stopping;
  *user_data = self->lifecycle_data.user_data;
}

GResource *
_cb_plugin_get_web_ui (CbPlugin    *self,
                       const char **root)
{
  if (root != NULL)
    *root = self->web_root;
  return self->web_resource;
}
