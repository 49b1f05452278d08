/* cb-plugin-module.c: loading a plugin, checking its registration, and
 * the bridge from the store and the UI to what it registered */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-plugin-module.h"

#include <gmodule.h>
#include <sqlite3.h>
#include <string.h>

#include "cb-changeset-private.h"
#include "cb-hex.h"
#include "cb-query.h"
#include "cb-version.h"

#define ABI_SYMBOL "cloud_bevy_plugin_abi"
#define ENTRY_SYMBOL "cloud_bevy_plugin_register"
#define MAX_QUERY_NAME 64

G_DEFINE_QUARK (cb-plugin-module-error-quark, cb_plugin_module_error)

typedef struct {
  char         *name;
  sqlite3_stmt *stmt;    /* prepared on self->query_db */
} Query;

struct _CbPluginModule
{
  GObject      parent_instance;

  char        *path;
  GModule     *module;
  CbPlugin    *plugin;
  CbSchema    *schema;
  sqlite3     *query_db;  /* the tables, empty: where named queries are bound */
  GPtrArray   *queries;   /* Query* */
  /* Readers: validators on the store's thread; writer: unload. */
  GRWLock      lock;
  gboolean     loaded;
};

G_DEFINE_FINAL_TYPE (CbPluginModule, cb_plugin_module, G_TYPE_OBJECT)

static void
query_free (gpointer data)
{
  Query *query = data;

  sqlite3_finalize (query->stmt);
  g_free (query->name);
  g_free (query);
}

static void
release_plugin (CbPluginModule *self)
{
  g_clear_pointer (&self->queries, g_ptr_array_unref);
  if (self->query_db != NULL)
    {
      sqlite3_close (self->query_db);
      self->query_db = NULL;
    }
  if (self->plugin != NULL)
    {
      _cb_plugin_release (self->plugin);
      g_clear_object (&self->plugin);
    }
  if (self->module != NULL)
    {
      g_module_close (self->module);
      self->module = NULL;
    }
}

void
cb_plugin_module_unload (CbPluginModule *self)
{
  g_return_if_fail (CB_IS_PLUGIN_MODULE (self));
  g_rw_lock_writer_lock (&self->lock);
  self->loaded = FALSE;
  g_rw_lock_writer_unlock (&self->lock);
  release_plugin (self);
}

gboolean
cb_plugin_module_is_loaded (CbPluginModule *self)
{
  return self->loaded;
}

static void
cb_plugin_module_finalize (GObject *object)
{
  CbPluginModule *self = CB_PLUGIN_MODULE (object);

  release_plugin (self);
  g_clear_pointer (&self->schema, cb_schema_unref);
  g_rw_lock_clear (&self->lock);
  g_free (self->path);
  G_OBJECT_CLASS (cb_plugin_module_parent_class)->finalize (object);
}

static void
cb_plugin_module_class_init (CbPluginModuleClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cb_plugin_module_finalize;
}

static void
cb_plugin_module_init (CbPluginModule *self)
{
  g_rw_lock_init (&self->lock);
}

/* ---- checking the registration ---- */

static gboolean
invalid (GError **error, const char *path, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError **error, const char *path, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_INVALID,
               "the plugin %s registered %s", path, message);
  return FALSE;
}

static gboolean
name_ok (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_QUERY_NAME || !g_ascii_islower (name[0]))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]) && name[i] != '_'
        && name[i] != '-')
      return FALSE;
  return TRUE;
}

static gboolean
check_identity (CbPluginModule  *self,
                const char      *expect_system,
                const char      *expect_version,
                GError         **error)
{
  const char *system = _cb_plugin_get_system (self->plugin);
  const char *version = _cb_plugin_get_version (self->plugin);
  g_autoptr(GError) local_error = NULL;

  if (_cb_plugin_get_n_system_calls (self->plugin) == 0)
    return invalid (error, self->path, "no system: its entry point must call "
                    "cb_plugin_set_system()");
  if (_cb_plugin_get_n_system_calls (self->plugin) > 1)
    return invalid (error, self->path, "its system %u times; call cb_plugin_set_system() once",
                    _cb_plugin_get_n_system_calls (self->plugin));
  if (!cb_system_name_validate (system, &local_error))
    return invalid (error, self->path, "a bad system name: %s", local_error->message);
  if (!cb_version_validate (version, &local_error))
    return invalid (error, self->path, "a bad version for %s: %s", system, local_error->message);
  if (expect_system != NULL && strcmp (system, expect_system) != 0)
    {
      g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_MISMATCH,
                   "the plugin %s is the system %s, but it was installed as %s; refusing it "
                   "(a package of one system served for another)", self->path, system,
                   expect_system);
      return FALSE;
    }
  if (expect_version != NULL && cb_version_compare (version, expect_version) != 0)
    {
      g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_MISMATCH,
                   "the plugin %s is %s version %s, but it was installed as version %s; "
                   "refusing it", self->path, system, version, expect_version);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_tables (CbPluginModule *self,
              GError        **error)
{
  GPtrArray *tables = _cb_plugin_get_tables (self->plugin);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) sql = g_ptr_array_new ();

  if (tables->len == 0)
    return invalid (error, self->path, "no tables: a system declares at least one with "
                    "cb_plugin_add_table()");
  for (guint i = 0; i < tables->len; i++)
    g_ptr_array_add (sql, tables->pdata[i]);
  g_ptr_array_add (sql, NULL);
  self->schema = cb_schema_new (_cb_plugin_get_system (self->plugin),
                                (const char * const *) sql->pdata, &local_error);
  if (self->schema == NULL)
    return invalid (error, self->path, "tables that cannot replicate: %s", local_error->message);
  return TRUE;
}

static gboolean
check_queries (CbPluginModule *self,
               GError        **error)
{
  GPtrArray *queries = _cb_plugin_get_queries (self->plugin);
  g_autoptr(GError) local_error = NULL;

  self->queries = g_ptr_array_new_with_free_func (query_free);
  if (sqlite3_open_v2 (":memory:", &self->query_db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    return invalid (error, self->path, "nothing: an in-memory database cannot be opened");
  if (!cb_schema_install (self->schema, self->query_db, &local_error))
    return invalid (error, self->path, "tables that do not install: %s", local_error->message);
  for (guint i = 0; i < queries->len; i++)
    {
      CbPluginQuery *spec = queries->pdata[i];
      Query *query;
      sqlite3_stmt *stmt;
      int n;

      if (!name_ok (spec->name))
        return invalid (error, self->path, "a query named \"%s\": names are lowercase letters, "
                        "digits, '-' and '_', starting with a letter, at most %d long",
                        spec->name, MAX_QUERY_NAME);
      for (guint j = 0; j < self->queries->len; j++)
        if (strcmp (((Query *) self->queries->pdata[j])->name, spec->name) == 0)
          return invalid (error, self->path, "the query \"%s\" twice", spec->name);
      stmt = cb_query_prepare_select (self->query_db, spec->sql, &local_error);
      if (stmt == NULL)
        return invalid (error, self->path, "the query \"%s\", which is not a read-only SELECT "
                        "over its own tables: %s", spec->name, local_error->message);
      query = g_new0 (Query, 1);
      query->name = g_strdup (spec->name);
      query->stmt = stmt;
      g_ptr_array_add (self->queries, query);
      n = sqlite3_bind_parameter_count (stmt);
      for (int p = 1; p <= n; p++)
        {
          const char *param = sqlite3_bind_parameter_name (stmt, p);

          if (param == NULL || param[0] != ':')
            return invalid (error, self->path, "the query \"%s\" with a parameter written %s; "
                            "name every parameter, like :limit", spec->name,
                            param != NULL ? param : "?");
        }
    }
  return TRUE;
}

static gboolean
check_verbs (CbPluginModule *self,
             GError        **error)
{
  GPtrArray *verbs = _cb_plugin_get_verbs (self->plugin);

  for (guint i = 0; i < verbs->len; i++)
    {
      CbPluginVerb *verb = verbs->pdata[i];

      if (!name_ok (verb->name))
        return invalid (error, self->path, "a verb named \"%s\": names are lowercase letters, "
                        "digits, '-' and '_', starting with a letter", verb->name);
      if (verb->func == NULL)
        return invalid (error, self->path, "the verb \"%s\" without a function", verb->name);
      for (guint j = 0; j < i; j++)
        if (strcmp (((CbPluginVerb *) verbs->pdata[j])->name, verb->name) == 0)
          return invalid (error, self->path, "the verb \"%s\" twice", verb->name);
    }
  return TRUE;
}

static gboolean
check_web_ui (CbPluginModule *self,
              GError        **error)
{
  const char *root = NULL;
  GResource *resource = _cb_plugin_get_web_ui (self->plugin, &root);
  g_autofree char *index = NULL;

  if (resource == NULL)
    return TRUE;
  if (root[0] != '/')
    return invalid (error, self->path, "a web UI root \"%s\"; it must be a resource path "
                    "starting with /", root);
  index = g_build_path ("/", root, "index.html", NULL);
  if (!g_resource_get_info (resource, index, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL, NULL, NULL))
    return invalid (error, self->path, "a web UI without %s in its resource", index);
  return TRUE;
}

CbPluginModule *
cb_plugin_module_load (const char  *path,
                       const char  *expect_system,
                       const char  *expect_version,
                       GError     **error)
{
  g_autoptr(CbPluginModule) self = NULL;
  g_autoptr(GError) local_error = NULL;
  gpointer abi_symbol = NULL, entry_symbol = NULL;
  guint32 abi;
  gboolean ok;

  g_return_val_if_fail (path != NULL, NULL);
  self = g_object_new (CB_TYPE_PLUGIN_MODULE, NULL);
  self->path = g_strdup (path);

  /* Lazy: symbols the plugin never calls need not resolve; local: its
   * symbols stay out of the global namespace other modules link against. */
  self->module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (self->module == NULL)
    {
      g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_LOAD,
                   "cannot load the plugin %s: %s", path, g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (self->module, ABI_SYMBOL, &abi_symbol) || abi_symbol == NULL)
    {
      g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_NOT_PLUGIN,
                   "%s is not a Cloud Bevy plugin: it does not export %s (build it with "
                   "CB_PLUGIN_DEFINE from <cloud-bevy/cloud-bevy.h>)", path, ABI_SYMBOL);
      return NULL;
    }
  abi = *(const guint32 *) abi_symbol;
  if (abi != CB_PLUGIN_ABI_VERSION)
    {
      g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_ABI,
                   "the plugin %s was built for plugin ABI %u; this Cloud Bevy runs ABI %d "
                   "(%s): it needs a build of the plugin for this SDK", path, abi,
                   CB_PLUGIN_ABI_VERSION, CB_SDK_ABI_NAME);
      return NULL;
    }
  if (!g_module_symbol (self->module, ENTRY_SYMBOL, &entry_symbol) || entry_symbol == NULL)
    {
      g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_NO_ENTRY,
                   "the plugin %s has no entry point: it does not export %s()", path,
                   ENTRY_SYMBOL);
      return NULL;
    }

  self->plugin = _cb_plugin_new ();
  ok = ((CbPluginRegisterFunc) entry_symbol) (self->plugin, &local_error);
  if (!ok || local_error != NULL)
    {
      g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_INIT,
                   "the plugin %s failed to initialise: %s", path,
                   local_error != NULL ? local_error->message
                                       : "its entry point returned FALSE without saying why");
      return NULL;
    }
  if (!check_identity (self, expect_system, expect_version, error)
      || !check_tables (self, error)
      || !check_queries (self, error)
      || !check_verbs (self, error)
      || !check_web_ui (self, error))
    return NULL;
  self->loaded = TRUE;
  g_debug ("loaded %s %s from %s", _cb_plugin_get_system (self->plugin),
           _cb_plugin_get_version (self->plugin), path);
  return g_steal_pointer (&self);
}

const char *
cb_plugin_module_get_path (CbPluginModule *self)
{
  return self->path;
}

const char *
cb_plugin_module_get_system (CbPluginModule *self)
{
  return cb_schema_get_system (self->schema);
}

const char *
cb_plugin_module_get_version (CbPluginModule *self)
{
  return self->plugin != NULL ? _cb_plugin_get_version (self->plugin) : NULL;
}

CbSchema *
cb_plugin_module_get_schema (CbPluginModule *self)
{
  return self->schema;
}

CbPlugin *
cb_plugin_module_get_plugin (CbPluginModule *self)
{
  return self->plugin;
}

/* ---- entries for the validator ---- */

static JsonNode *
value_to_json (const CbValue *value)
{
  JsonNode *node = json_node_alloc ();

  switch (value->type)
    {
    case SQLITE_INTEGER:
      json_node_init_int (node, value->v.i);
      break;
    case SQLITE_FLOAT:
      json_node_init_double (node, value->v.d);
      break;
    case SQLITE_TEXT:
      {
        g_autofree char *text = g_utf8_make_valid ((const char *) value->v.bytes, value->len);
        json_node_init_string (node, text);
      }
      break;
    case SQLITE_BLOB:
      {
        g_autoptr(JsonObject) blob = json_object_new ();
        g_autofree char *b64 = g_base64_encode (value->v.bytes, value->len);

        json_object_set_string_member (blob, "$base64", b64);
        json_node_init_object (node, blob);
      }
      break;
    default:
      json_node_init_null (node);
      break;
    }
  return node;
}

static CbEntry *
decode_entry (CbPluginModule  *self,
              const guint8     writer[32],
              gboolean         local,
              GBytes          *changeset,
              GError         **error)
{
  g_autoptr(CbEntry) entry = NULL;
  CbChangesetReader reader;
  char writer_hex[65];
  gboolean has_op = TRUE, ok = TRUE;

  cb_hex_encode_into (writer, 32, writer_hex);
  entry = _cb_entry_new (cb_schema_get_system (self->schema), writer_hex, local);
  _cb_changeset_reader_init (&reader);
  _cb_changeset_reader_reset (&reader, g_bytes_get_data (changeset, NULL),
                              g_bytes_get_size (changeset));
  while (ok && (ok = _cb_changeset_reader_next (&reader, &has_op, error)) && has_op)
    {
      const CbSchemaTable *table = cb_schema_lookup_table (self->schema, reader.table);
      JsonObject *row;

      if (table == NULL || reader.n_columns != table->n_columns
          || (reader.op != SQLITE_INSERT && reader.op != SQLITE_DELETE))
        {
          /* The store validated the changeset against the schema first. */
          g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_INVALID,
                       "an entry that does not match %s's tables",
                       cb_schema_get_system (self->schema));
          ok = FALSE;
          break;
        }
      row = json_object_new ();
      for (guint c = 0; c < table->n_columns; c++)
        {
          if (reader.op == SQLITE_INSERT)
            json_object_set_member (row, table->columns[c].name,
                                    value_to_json (&reader.new_values[c]));
          else if (table->columns[c].pk_index > 0)
            json_object_set_member (row, table->columns[c].name,
                                    value_to_json (&reader.old_values[c]));
        }
      _cb_entry_add_change (entry, reader.op == SQLITE_INSERT ? CB_CHANGE_UPSERT
                                                               : CB_CHANGE_DELETE,
                            table->name, row);
    }
  _cb_changeset_reader_clear (&reader);
  return ok ? g_steal_pointer (&entry) : NULL;
}

static gboolean
run_validator (CbPluginModule  *self,
               const guint8     writer[32],
               gboolean         local,
               GBytes          *changeset,
               GError         **error)
{
  CbEntryValidator validator;
  gpointer user_data;
  g_autoptr(CbEntry) entry = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  g_rw_lock_reader_lock (&self->lock);
  if (!self->loaded)
    {
      g_rw_lock_reader_unlock (&self->lock);
      g_set_error (error, CB_PLUGIN_MODULE_ERROR, CB_PLUGIN_MODULE_ERROR_UNLOADED,
                   "%s is not loaded here any more", cb_schema_get_system (self->schema));
      return FALSE;
    }
  validator = _cb_plugin_get_validator (self->plugin, &user_data);
  if (validator == NULL)
    {
      g_rw_lock_reader_unlock (&self->lock);
      return TRUE;
    }
  entry = decode_entry (self, writer, local, changeset, error);
  if (entry == NULL)
    {
      g_rw_lock_reader_unlock (&self->lock);
      return FALSE;
    }
  ok = validator (entry, user_data, &local_error);
  g_rw_lock_reader_unlock (&self->lock);
  if (!ok)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED, "%s",
                   local_error != NULL ? local_error->message
                                       : "the system's rules refuse it (no reason given)");
      return FALSE;
    }
  return TRUE;
}

gboolean
cb_plugin_module_validate_entry (const char    *system,
                                 const guint8   writer[32],
                                 GBytes        *changeset,
                                 gpointer       module,
                                 GError       **error)
{
  return run_validator (CB_PLUGIN_MODULE (module), writer, FALSE, changeset, error);
}

gboolean
cb_plugin_module_check_local (CbPluginModule  *self,
                              const guint8     writer[32],
                              GBytes          *changeset,
                              GError         **error)
{
  return run_validator (self, writer, TRUE, changeset, error);
}

/* ---- named queries ---- */

GStrv
cb_plugin_module_list_queries (CbPluginModule *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; self->queries != NULL && i < self->queries->len; i++)
    g_strv_builder_add (builder, ((Query *) self->queries->pdata[i])->name);
  return g_strv_builder_end (builder);
}

static gboolean
bind_value (sqlite3_stmt *stmt, int index, JsonNode *node, const char *name, GError **error)
{
  int rc = SQLITE_OK;

  if (JSON_NODE_HOLDS_NULL (node))
    rc = sqlite3_bind_null (stmt, index);
  else if (JSON_NODE_HOLDS_VALUE (node))
    {
      GType type = json_node_get_value_type (node);

      if (type == G_TYPE_STRING)
        rc = sqlite3_bind_text (stmt, index, json_node_get_string (node), -1, SQLITE_TRANSIENT);
      else if (type == G_TYPE_INT64)
        rc = sqlite3_bind_int64 (stmt, index, json_node_get_int (node));
      else if (type == G_TYPE_DOUBLE)
        rc = sqlite3_bind_double (stmt, index, json_node_get_double (node));
      else if (type == G_TYPE_BOOLEAN)
        rc = sqlite3_bind_int (stmt, index, json_node_get_boolean (node) ? 1 : 0);
      else
        rc = SQLITE_MISMATCH;
    }
  else
    rc = SQLITE_MISMATCH;
  if (rc == SQLITE_OK)
    return TRUE;
  g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
               "the parameter :%s must be a string, a number, a boolean or null", name);
  return FALSE;
}

char *
cb_plugin_module_bind_query (CbPluginModule  *self,
                             const char      *name,
                             JsonObject      *params,
                             GError         **error)
{
  Query *query = NULL;
  g_autoptr(GList) members = NULL;
  char *expanded, *sql;

  if (!self->loaded)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_UNAVAILABLE, "%s is not loaded",
                   cb_schema_get_system (self->schema));
      return NULL;
    }
  for (guint i = 0; i < self->queries->len && query == NULL; i++)
    if (strcmp (((Query *) self->queries->pdata[i])->name, name) == 0)
      query = self->queries->pdata[i];
  if (query == NULL)
    {
      g_auto(GStrv) names = cb_plugin_module_list_queries (self);
      g_autofree char *list = g_strjoinv (", ", names);

      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_NOT_FOUND,
                   "%s has no query \"%s\" (its queries: %s)",
                   cb_schema_get_system (self->schema), name, *list ? list : "none");
      return NULL;
    }
  sqlite3_reset (query->stmt);
  sqlite3_clear_bindings (query->stmt);
  if (params != NULL)
    members = json_object_get_members (params);
  for (GList *l = members; l != NULL; l = l->next)
    {
      g_autofree char *param = g_strconcat (":", (const char *) l->data, NULL);
      int index = sqlite3_bind_parameter_index (query->stmt, param);

      if (index == 0)
        {
          g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
                       "the query \"%s\" of %s has no parameter :%s", name,
                       cb_schema_get_system (self->schema), (const char *) l->data);
          return NULL;
        }
      if (!bind_value (query->stmt, index, json_object_get_member (params, l->data), l->data,
                       error))
        return NULL;
    }
  /* SQLite writes the bound values as literals itself, quoting included. */
  expanded = sqlite3_expanded_sql (query->stmt);
  sqlite3_clear_bindings (query->stmt);
  if (expanded == NULL)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_INVALID,
                   "the parameters of the query \"%s\" are too large", name);
      return NULL;
    }
  sql = g_strdup (expanded);
  sqlite3_free (expanded);
  return sql;
}

/* ---- verbs ---- */

GPtrArray *
cb_plugin_module_get_verbs (CbPluginModule *self)
{
  return self->plugin != NULL ? _cb_plugin_get_verbs (self->plugin) : NULL;
}

const CbPluginVerb *
cb_plugin_module_lookup_verb (CbPluginModule *self,
                              const char     *name)
{
  GPtrArray *verbs = cb_plugin_module_get_verbs (self);

  for (guint i = 0; verbs != NULL && i < verbs->len; i++)
    if (strcmp (((CbPluginVerb *) verbs->pdata[i])->name, name) == 0)
      return verbs->pdata[i];
  return NULL;
}

/* ---- web UI ---- */

gboolean
cb_plugin_module_has_web_ui (CbPluginModule *self)
{
  return self->plugin != NULL && _cb_plugin_get_web_ui (self->plugin, NULL) != NULL;
}

static const struct {
  const char *suffix;
  const char *type;
} content_types[] = {
  { ".html", "text/html" },
  { ".js", "text/javascript" },
  { ".mjs", "text/javascript" },
  { ".css", "text/css" },
  { ".json", "application/json" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".jpg", "image/jpeg" },
  { ".jpeg", "image/jpeg" },
  { ".webp", "image/webp" },
  { ".ico", "image/x-icon" },
  { ".woff2", "font/woff2" },
  { ".txt", "text/plain" },
};

GBytes *
cb_plugin_module_read_web_file (CbPluginModule  *self,
                                const char      *path,
                                char           **content_type,
                                GError         **error)
{
  const char *root = NULL;
  GResource *resource = self->plugin != NULL ? _cb_plugin_get_web_ui (self->plugin, &root) : NULL;
  g_autofree char *relative = NULL;
  g_autofree char *full = NULL;
  GBytes *bytes;

  if (resource == NULL)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_NOT_FOUND, "%s has no web UI",
                   cb_schema_get_system (self->schema));
      return NULL;
    }
  if (path == NULL || path[0] != '/' || strstr (path, "/..") != NULL || strstr (path, "//") != NULL
      || strchr (path, '\\') != NULL)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_NOT_FOUND, "no file %s in %s's web UI",
                   path ? path : "", cb_schema_get_system (self->schema));
      return NULL;
    }
  relative = g_str_has_suffix (path, "/") ? g_strconcat (path, "index.html", NULL)
                                          : g_strdup (path);
  full = g_strconcat (strcmp (root, "/") == 0 ? "" : root, relative, NULL);
  bytes = g_resource_lookup_data (resource, full, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (bytes == NULL)
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_NOT_FOUND, "no file %s in %s's web UI",
                   relative, cb_schema_get_system (self->schema));
      return NULL;
    }
  if (content_type != NULL)
    {
      *content_type = g_strdup ("application/octet-stream");
      for (gsize i = 0; i < G_N_ELEMENTS (content_types); i++)
        if (g_str_has_suffix (relative, content_types[i].suffix))
          {
            g_free (*content_type);
            *content_type = g_strdup (content_types[i].type);
          }
    }
  return bytes;
}

/* ---- sessions and lifecycle ---- */

gboolean
cb_plugin_module_session_message (CbPluginModule  *self,
                                  CbContext       *context,
                                  const char      *session,
                                  const char      *sender,
                                  GBytes          *message,
                                  GError         **error)
{
  CbSessionValidator validator = NULL;
  CbSessionReceiver receiver = NULL;
  gpointer user_data = NULL;
  g_autoptr(GError) local_error = NULL;

  if (self->plugin == NULL
      || !_cb_plugin_get_session_handlers (self->plugin, &validator, &receiver, &user_data))
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_NOT_FOUND, "%s has no live sessions",
                   cb_schema_get_system (self->schema));
      return FALSE;
    }
  if (validator != NULL
      && !validator (context, session, sender, message, user_data, &local_error))
    {
      g_set_error (error, CB_SDK_ERROR, CB_SDK_ERROR_REFUSED,
                   "%s refused a message of session %s from %.16s: %s",
                   cb_schema_get_system (self->schema), session, sender,
                   local_error != NULL ? local_error->message : "no reason given");
      return FALSE;
    }
  receiver (context, session, sender, message, user_data);
  return TRUE;
}

void
cb_plugin_module_started (CbPluginModule *self,
                          CbContext      *context)
{
  CbContextFunc started = NULL, stopping = NULL;
  gpointer user_data = NULL;

  if (self->plugin == NULL)
    return;
  _cb_plugin_get_lifecycle (self->plugin, &started, &stopping, &user_data);
  if (started != NULL)
    started (context, user_data);
}

void
cb_plugin_module_stopping (CbPluginModule *self,
                           CbContext      *context)
{
  CbContextFunc started = NULL, stopping = NULL;
  gpointer user_data = NULL;

  if (self->plugin == NULL)
    return;
  _cb_plugin_get_lifecycle (self->plugin, &started, &stopping, &user_data);
  if (stopping != NULL)
    stopping (context, user_data);
}
