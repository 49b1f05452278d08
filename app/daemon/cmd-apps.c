/* cmd-apps.c: `cloud-bevy-node apps …`
 *
 * Every command goes to the node running on the data dir (through its
 * control socket), so installs take effect at once.  When no node runs,
 * the repository and install commands work on the data dir directly (the
 * node loads the apps when it starts); `run` and `query` need a node. */
#define G_LOG_DOMAIN "cb-daemon"

#include "cb-config.h"
#include "cmd-apps.h"

#include <stdio.h>
#include <string.h>

#include "cb-apps.h"
#include "cb-control.h"
#include "cb-identity.h"
#include "cb-json-check.h"

typedef struct {
  const char *name;
  const char *args;
  const char *summary;
  const char *command;     /* the control command */
  guint       min_args;
  guint       max_args;
} AppsCommand;

static const AppsCommand apps_commands[] = {
  { "list",        "",                       "What the repositories offer and what is installed",
    "apps-list", 0, 0 },
  { "repo-add",    "URL",                    "Add a repository; its publisher key is pinned",
    "apps-repo-add", 1, 1 },
  { "repo-remove", "URL",                    "Remove a repository (installed apps stay)",
    "apps-repo-remove", 1, 1 },
  { "refresh",     "[URL]",                  "Fetch and verify the repositories' indexes",
    "apps-refresh", 0, 1 },
  { "install",     "NAME",                   "Download, verify, load and host an app",
    "apps-install", 1, 1 },
  { "update",      "[NAME]",                 "Update an app (or all) to the newest version",
    "apps-update", 0, 1 },
  { "rollback",    "NAME",                   "Go back to the version installed before",
    "apps-rollback", 1, 1 },
  { "disable",     "NAME",                   "Stop running and hosting an app (files kept)",
    "apps-disable", 1, 1 },
  { "enable",      "NAME",                   "Run and host a disabled app again",
    "apps-enable", 1, 1 },
  { "remove",      "NAME [--delete-data]",   "Unload and delete an app; its data stays unless asked",
    "apps-remove", 1, 1 },
  { "run",         "NAME VERB [KEY=VALUE…]", "Run one of an app's verbs on the running node",
    "apps-run", 2, G_MAXUINT },
  { "query",       "NAME QUERY [KEY=VALUE…]", "Run one of an app's named queries on the running node",
    "apps-query", 2, G_MAXUINT },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: cloud-bevy-node apps COMMAND --data-dir DIR [ARGS…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (apps_commands); i++)
    fprintf (out, "  %-12s %-24s %s\n", apps_commands[i].name, apps_commands[i].args,
             apps_commands[i].summary);
  fprintf (out,
           "\nNAME is an app's system name (github.com/cloudbevy/guestbook) or a name only one\n"
           "app answers to (guestbook).  URL is https://HOST/PATH/, file:///PATH (or /PATH), or\n"
           "github.com/ORG[/REPO] for GitHub Pages (https://ORG.github.io/REPO/).\n"
           "Options: --data-dir DIR (required), --json (print JSON), --delete-data (remove).\n");
}

/* ---- printing ---- */

static const char *
str (JsonObject *obj, const char *member)
{
  JsonNode *node = json_object_get_member (obj, member);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
         ? json_node_get_string (node) : NULL;
}

static JsonObject *
obj_member (JsonObject *obj, const char *member)
{
  JsonNode *node = json_object_get_member (obj, member);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static void
print_list (JsonObject *list)
{
  JsonArray *repos = json_object_get_array_member (list, "repositories");
  JsonArray *apps = json_object_get_array_member (list, "apps");

  g_print ("repositories\n");
  if (json_array_get_length (repos) == 0)
    g_print ("  none (add one with `apps repo-add URL`)\n");
  for (guint i = 0; i < json_array_get_length (repos); i++)
    {
      JsonObject *repo = json_array_get_object_element (repos, i);

      g_print ("  %s%s\n    %s, publisher key %s, index version %" G_GINT64_FORMAT ", %"
               G_GINT64_FORMAT " package(s)\n", str (repo, "url"),
               json_object_get_boolean_member (repo, "builtin") ? " (installed with the app)" : "",
               str (repo, "name"), str (repo, "fingerprint"),
               json_object_get_int_member (repo, "index_version"),
               json_object_get_int_member (repo, "packages"));
      if (str (repo, "error") != NULL)
        g_print ("    error: %s\n", str (repo, "error"));
    }
  g_print ("apps (%s)\n", str (list, "arch"));
  if (json_array_get_length (apps) == 0)
    g_print ("  none offered\n");
  for (guint i = 0; i < json_array_get_length (apps); i++)
    {
      JsonObject *app = json_array_get_object_element (apps, i);
      JsonObject *installed = obj_member (app, "installed");
      JsonObject *available = obj_member (app, "available");
      g_autofree char *versions = NULL;

      if (installed != NULL && available != NULL
          && g_strcmp0 (str (installed, "version"), str (available, "version")) != 0)
        versions = g_strdup_printf ("%s (%s available)", str (installed, "version"),
                                    str (available, "version"));
      else
        versions = g_strdup (installed != NULL ? str (installed, "version")
                                               : str (available, "version"));
      g_print ("  %-10s %-24s %s - %s\n", str (app, "state"), versions, str (app, "system"),
               str (app, "title"));
      if (str (app, "error") != NULL)
        g_print ("             error: %s\n", str (app, "error"));
    }
}

static void
print_json (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, TRUE);

  g_print ("%s\n", text);
}

static void
print_result (const AppsCommand *command, JsonNode *result, gboolean json)
{
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT (result) ? json_node_get_object (result) : NULL;

  if (json || obj == NULL || g_strcmp0 (command->name, "run") == 0
      || g_strcmp0 (command->name, "query") == 0)
    print_json (result);
  else if (g_strcmp0 (command->name, "list") == 0 || g_strcmp0 (command->name, "refresh") == 0)
    print_list (obj);
  else if (g_strcmp0 (command->name, "repo-add") == 0)
    g_print ("added %s (%s): %" G_GINT64_FORMAT " package(s)\npublisher key fingerprint: %s\n"
             "It is pinned now: a later key change without a rotation signed by this key blocks "
             "updates.\n", str (obj, "url"), str (obj, "name"), json_object_get_int_member (obj, "packages"),
             str (obj, "fingerprint"));
  else if (json_object_has_member (obj, "updated"))
    {
      JsonArray *updated = json_object_get_array_member (obj, "updated");

      if (json_array_get_length (updated) == 0)
        g_print ("everything is up to date\n");
      for (guint i = 0; i < json_array_get_length (updated); i++)
        {
          JsonObject *one = json_array_get_object_element (updated, i);
          g_print ("updated %s to %s\n", str (one, "system"), str (one, "version"));
        }
      if (str (obj, "error") != NULL)
        g_print ("not everything updated: %s\n", str (obj, "error"));
    }
  else if (str (obj, "system") != NULL)
    g_print ("%s %s%s%s\n", str (obj, "system"), str (obj, "version"),
             str (obj, "previous") ? ", previously " : "", str (obj, "previous") ?: "");
  else
    g_print ("done\n");
}

/* ---- offline: no node runs on the data dir ---- */

typedef struct {
  GMainLoop *loop;
  JsonNode  *result;
  GError    *error;
} Offline;

static void
offline_busy (JsonObject     *request,
              CbControlReply *reply,
              gpointer        user_data)
{
  g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_BUSY,
                                         "a `cloud-bevy-node apps` command is using this data dir");

  cb_control_reply_error (reply, error);
}

static void
on_offline_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Offline *off = user_data;
  CbApps *apps = CB_APPS (source);
  gpointer tag = g_task_get_source_tag (G_TASK (result));

  if (tag == cb_apps_add_repository_async)
    off->result = cb_apps_add_repository_finish (apps, result, &off->error);
  else if (tag == cb_apps_refresh_async)
    off->result = cb_apps_refresh_finish (apps, result, &off->error) ? cb_apps_list (apps) : NULL;
  else
    off->result = cb_apps_install_finish (apps, result, &off->error);
  g_main_loop_quit (off->loop);
}

static void
on_offline_started (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  cb_apps_start_finish (CB_APPS (source), result, NULL);
  g_main_loop_quit (user_data);
}

static JsonNode *
run_offline (const char  *data_dir,
             JsonObject  *request,
             GError     **error)
{
  const char *command = json_object_get_string_member (request, "command");
  const char *name = json_object_get_string_member_with_default (request, "name", NULL);
  const char *address = json_object_get_string_member_with_default (request, "address", NULL);
  g_autoptr(CbControlServer) lock = NULL;
  g_autoptr(CbIdentity) identity = NULL;
  g_autoptr(CbApps) apps = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  const char *builtin = g_getenv ("CB_DEFAULT_REPO");
  g_autofree char *installed = g_build_filename (CB_PKGDATADIR, "repo", NULL);
  Offline off = { loop, NULL, NULL };

  if (g_strcmp0 (command, "apps-run") == 0 || g_strcmp0 (command, "apps-query") == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   "no node is running with the data dir %s: start it (`cloud-bevy-node run "
                   "--data-dir %s`) to run an app's verbs and queries", data_dir, data_dir);
      return NULL;
    }
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create %s", data_dir);
      return NULL;
    }
  /* The data dir's lock: a node starting now waits for us to finish. */
  lock = cb_control_server_new (data_dir, offline_busy, NULL, error);
  if (lock == NULL)
    return NULL;
  identity = cb_identity_load_or_create (data_dir, error);
  if (identity == NULL || (apps = cb_apps_new (data_dir, identity->id_hex, error)) == NULL)
    return NULL;
  cb_apps_set_builtin_repository (apps, builtin != NULL ? (*builtin ? builtin : NULL) : installed);
  cb_apps_start_async (apps, NULL, on_offline_started, loop);
  g_main_loop_run (loop);

  if (g_strcmp0 (command, "apps-list") == 0)
    return cb_apps_list (apps);
  if (g_strcmp0 (command, "apps-repo-add") == 0)
    cb_apps_add_repository_async (apps, address, NULL, on_offline_done, &off);
  else if (g_strcmp0 (command, "apps-refresh") == 0)
    cb_apps_refresh_async (apps, address, NULL, on_offline_done, &off);
  else if (g_strcmp0 (command, "apps-install") == 0)
    cb_apps_install_async (apps, name, NULL, on_offline_done, &off);
  else if (g_strcmp0 (command, "apps-update") == 0)
    cb_apps_update_async (apps, name, NULL, on_offline_done, &off);
  else
    {
      gboolean ok = FALSE;
      JsonNode *done = NULL;

      if (g_strcmp0 (command, "apps-repo-remove") == 0)
        ok = cb_apps_remove_repository (apps, address, error);
      else if (g_strcmp0 (command, "apps-rollback") == 0)
        ok = (done = cb_apps_rollback (apps, name, error)) != NULL;
      else if (g_strcmp0 (command, "apps-enable") == 0 || g_strcmp0 (command, "apps-disable") == 0)
        ok = cb_apps_set_enabled (apps, name, g_strcmp0 (command, "apps-enable") == 0, error);
      else if (g_strcmp0 (command, "apps-remove") == 0)
        ok = cb_apps_remove (apps, name, json_object_get_boolean_member_with_default (
                               request, "delete_data", FALSE), error);
      if (!ok)
        return NULL;
      if (done == NULL)
        {
          done = json_node_new (JSON_NODE_OBJECT);
          json_node_take_object (done, json_object_new ());
        }
      return done;
    }
  g_main_loop_run (loop);
  if (off.result == NULL)
    g_propagate_error (error, off.error);
  return off.result;
}

/* ---- the command ---- */

static JsonObject *
parse_params (char **args, guint n, GError **error)
{
  g_autoptr(JsonObject) params = json_object_new ();

  for (guint i = 0; i < n; i++)
    {
      const char *eq = strchr (args[i], '=');
      g_autofree char *key = NULL;

      if (eq == NULL || eq == args[i])
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "\"%s\" is not KEY=VALUE", args[i]);
          return NULL;
        }
      key = g_strndup (args[i], (gsize) (eq - args[i]));
      json_object_set_string_member (params, key, eq + 1);
    }
  return g_steal_pointer (&params);
}

int
cb_cmd_apps (int    argc,
             char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *json_params = NULL;
  gboolean json = FALSE, delete_data = FALSE;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  const AppsCommand *command = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "The node's directory", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "params", 0, 0, G_OPTION_ARG_STRING, &json_params,
      "A verb's or query's parameters as one JSON object (with run, query)", "JSON" },
    { "delete-data", 0, 0, G_OPTION_ARG_NONE, &delete_data,
      "Also delete the app's data on this node (with remove)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("COMMAND [ARGS…] - manage cloud apps");
  guint n_args;

  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      print_usage (stdout);
      return 0;
    }
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_help_enabled (context, FALSE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("cloud-bevy-node apps: %s\n", error->message);
      return 2;
    }
  for (gsize i = 0; argc >= 2 && i < G_N_ELEMENTS (apps_commands); i++)
    if (strcmp (argv[1], apps_commands[i].name) == 0)
      command = &apps_commands[i];
  if (command == NULL)
    {
      if (argc >= 2)
        g_printerr ("cloud-bevy-node apps: unknown command \"%s\"\n\n", argv[1]);
      print_usage (stderr);
      return 2;
    }
  n_args = (guint) argc - 2;
  if (data_dir == NULL || n_args < command->min_args || n_args > command->max_args)
    {
      g_printerr ("cloud-bevy-node apps %s: usage: apps %s --data-dir DIR %s\n", command->name,
                  command->name, command->args);
      return 2;
    }

  json_object_set_string_member (request, "command", command->command);
  if (g_str_has_prefix (command->name, "repo-") || g_strcmp0 (command->name, "refresh") == 0)
    {
      if (n_args > 0)
        json_object_set_string_member (request, "address", argv[2]);
    }
  else if (n_args > 0)
    json_object_set_string_member (request, "name", argv[2]);
  if (delete_data)
    json_object_set_boolean_member (request, "delete_data", TRUE);
  if (n_args >= 2)
    {
      JsonObject *params = NULL;

      json_object_set_string_member (request, g_strcmp0 (command->name, "run") == 0 ? "verb" : "query",
                                     argv[3]);
      if (json_params != NULL)
        {
          g_autoptr(JsonParser) parser = json_parser_new ();
          JsonNode *root;

          if (!json_parser_load_from_data (parser, json_params, -1, &error)
              || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
            {
              g_printerr ("cloud-bevy-node apps %s: --params must be a JSON object\n",
                          command->name);
              return 2;
            }
          params = json_object_ref (json_node_get_object (root));
        }
      else if ((params = parse_params (argv + 4, n_args - 2, &error)) == NULL)
        {
          g_printerr ("cloud-bevy-node apps %s: %s\n", command->name, error->message);
          return 2;
        }
      json_object_set_object_member (request, "params", params);
    }

  result = cb_control_call (data_dir, request, &error);
  if (result == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED))
    {
      g_clear_error (&error);
      result = run_offline (data_dir, request, &error);
    }
  if (result == NULL)
    {
      g_printerr ("cloud-bevy-node apps %s: %s\n", command->name, error->message);
      return 1;
    }
  print_result (command, result, json);
  return 0;
}
