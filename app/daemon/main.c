/* main.c: cloud-bevy-node, the headless node and its admin commands */
#define G_LOG_DOMAIN "cb-daemon"

#include "cb-config.h"
#include "cb-cloud-init.h"
#include "cb-control.h"
#include "cb-node.h"
#include "cmd-apps.h"

#include <errno.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);
} Command;

static gboolean verbose;

static GLogWriterOutput
write_log (GLogLevelFlags   level,
           const GLogField *fields,
           gsize            n_fields,
           gpointer         user_data)
{
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;

  /* Quiet by default: warnings and errors only.  -v adds our info and
   * debug messages; the libraries' own debug chatter stays out. */
  if (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_MESSAGE))
    {
      if (!verbose)
        return G_LOG_WRITER_HANDLED;
      if ((level & G_LOG_LEVEL_DEBUG) && (domain == NULL || !g_str_has_prefix (domain, "cb-")))
        return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_standard_streams (level, fields, n_fields, user_data);
}

static int
cmd_init_cloud (int    argc,
                char **argv)
{
  g_autofree char *dir = NULL;
  g_autofree char *name = NULL;
  g_auto(GStrv) lists = NULL;
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Directory for the new cloud's files", "DIR" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The cloud's name", "NAME" },
    { "list", 0, 0, G_OPTION_ARG_STRING_ARRAY, &lists,
      "Where the node list lives (repeatable): file://, git+file://, git+https://, github://; "
      "default file://DIR/nodes.json", "URL" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- create a new cloud");

  g_option_context_set_description (context,
    "Creates a network key, a publisher key pair (the secret stays in DIR/publisher.key,\n"
    "mode 0600), DIR/cloud.json and a first signed list at every --list URL.\n"
    "A github:// list is written with the token in $CB_GITHUB_TOKEN.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("cloud-bevy-node init-cloud: %s\n", error->message);
      return 2;
    }
  if (dir == NULL || name == NULL)
    {
      g_printerr ("cloud-bevy-node init-cloud: --dir and --name are required (see --help)\n");
      return 2;
    }
  if (!cb_cloud_init (dir, name, (const char * const *) lists, g_getenv ("CB_GITHUB_TOKEN"),
                      &error))
    {
      g_printerr ("cloud-bevy-node init-cloud: %s\n", error->message);
      return 1;
    }
  g_print ("created cloud \"%s\" in %s\n", name, dir);
  return 0;
}

typedef struct {
  GMainLoop *loop;
  CbNode    *node;
  gboolean   stopping;
} RunState;

static void
on_stopped (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  RunState *state = user_data;

  cb_node_stop_finish (CB_NODE (source), result, NULL);
  g_main_loop_quit (state->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  RunState *state = user_data;

  if (state->stopping)
    return G_SOURCE_CONTINUE;
  state->stopping = TRUE;
  g_info ("stopping: telling the cloud we leave");
  cb_node_stop_async (state->node, NULL, on_stopped, state);
  return G_SOURCE_CONTINUE;
}

static void
print_status (JsonObject *status)
{
  JsonArray *roles = json_object_get_array_member (status, "roles");
  JsonArray *peers = json_object_has_member (status, "peers")
    ? json_object_get_array_member (status, "peers") : NULL;
  JsonArray *lists = json_object_get_array_member (status, "lists");

  g_print ("node     %s\n", json_object_get_string_member (status, "id"));
  g_print ("cloud    %s\n", json_object_get_string_member (status, "cloud"));
  g_print ("listen   %s (reachable at %s)\n", json_object_get_string_member (status, "listen"),
           json_object_get_string_member (status, "advertise"));
  g_print ("roles   ");
  for (guint i = 0; i < json_array_get_length (roles); i++)
    g_print (" %s", json_array_get_string_element (roles, i));
  g_print ("%s\n", json_array_get_length (roles) == 0 ? " none" : "");
  g_print ("peers    %u\n", peers ? json_array_get_length (peers) : 0);
  for (guint i = 0; peers != NULL && i < json_array_get_length (peers); i++)
    {
      JsonObject *peer = json_array_get_object_element (peers, i);
      g_print ("  %.16s  %-8s %s\n", json_object_get_string_member (peer, "id"),
               json_object_get_string_member (peer, "state"),
               json_object_get_string_member (peer, "addr"));
    }
  g_print ("lists\n");
  for (guint i = 0; i < json_array_get_length (lists); i++)
    {
      JsonObject *list = json_array_get_object_element (lists, i);
      g_print ("  %-7s %s%s%s\n", json_object_get_string_member (list, "state"),
               json_object_get_string_member (list, "url"),
               json_object_has_member (list, "error") ? ": " : "",
               json_object_get_string_member_with_default (list, "error", ""));
    }
}

static int
cmd_run (int    argc,
         char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *cloud_path = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *advertise = NULL;
  g_autofree char *publisher_key = NULL;
  g_auto(GStrv) hosts = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CbCloudConfig) cloud = NULL;
  g_autoptr(CbNode) node = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  RunState state = { 0 };
  guint sigint, sigterm;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      "The node's directory: identity, caches, control socket", "DIR" },
    { "cloud", 0, 0, G_OPTION_ARG_FILENAME, &cloud_path,
      "The cloud's definition (cloud.json); default: the one built in", "FILE" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      "Address to accept peers on (default 0.0.0.0:7788)", "IP:PORT" },
    { "advertise", 0, 0, G_OPTION_ARG_STRING, &advertise,
      "Address others should dial (default: derived from --listen)", "ws://HOST:PORT" },
    { "publisher-key", 0, 0, G_OPTION_ARG_FILENAME, &publisher_key,
      "A publisher key the cloud trusts: makes this node eligible to write the lists", "FILE" },
    { "host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &hosts,
      "Store and replicate this system's data here (repeatable; built in: test/kv)", "SYSTEM" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log info and debug messages", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- run a cloud node until stopped");

  g_option_context_set_description (context,
    "Joins the cloud from its lists and stays until SIGINT or SIGTERM, then tells the\n"
    "cloud it leaves and exits 0.  `cloud-bevy-node status --data-dir DIR` asks it how it is.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("cloud-bevy-node run: %s\n", error->message);
      return 2;
    }
  if (data_dir == NULL)
    {
      g_printerr ("cloud-bevy-node run: --data-dir is required (see --help)\n");
      return 2;
    }
  if (cloud_path != NULL)
    cloud = cb_cloud_config_load (cloud_path, &error);
  else
    {
      const char *json = cb_cloud_config_default_json ();
      cloud = cb_cloud_config_parse (json, strlen (json), &error);
    }
  if (cloud == NULL)
    {
      g_printerr ("cloud-bevy-node run: %s\n", error->message);
      return 1;
    }
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      g_printerr ("cloud-bevy-node run: cannot create %s: %s\n", data_dir, g_strerror (errno));
      return 1;
    }

  node = cb_node_new (data_dir, cloud, &error);
  if (node != NULL && listen != NULL)
    cb_node_set_listen (node, listen);
  for (guint i = 0; node != NULL && hosts != NULL && hosts[i] != NULL && error == NULL; i++)
    cb_node_host_system (node, hosts[i], &error);
  if (error != NULL)
    {
      g_printerr ("cloud-bevy-node run: %s\n", error->message);
      return 1;
    }
  if (node == NULL
      || (advertise != NULL && !cb_node_set_advertise (node, advertise, &error))
      || (publisher_key != NULL && !cb_node_set_publisher_key (node, publisher_key, &error))
      || !cb_node_start (node, &error))
    {
      g_printerr ("cloud-bevy-node run: %s\n", error->message);
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  state.loop = loop;
  state.node = node;
  sigint = g_unix_signal_add (SIGINT, on_signal, &state);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &state);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  return 0;
}

static int
cmd_status (int    argc,
            char **argv)
{
  g_autofree char *data_dir = NULL;
  gboolean json = FALSE;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "The running node's directory", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the status as one JSON object", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- show a running node's state");

  g_option_context_set_description (context,
    "Asks the node through DIR/control.sock: its id, cloud, addresses, roles, its peers\n"
    "with their state (alive, suspect, dead, left) and how its lists are doing.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("cloud-bevy-node status: %s\n", error->message);
      return 2;
    }
  if (data_dir == NULL)
    {
      g_printerr ("cloud-bevy-node status: --data-dir is required (see --help)\n");
      return 2;
    }
  json_object_set_string_member (request, "command", "status");
  result = cb_control_call (data_dir, request, &error);
  if (result == NULL)
    {
      g_printerr ("cloud-bevy-node status: %s\n", error->message);
      return 1;
    }
  if (json)
    {
      g_autofree char *text = json_to_string (result, TRUE);
      g_print ("%s\n", text);
    }
  else
    print_status (json_node_get_object (result));
  return 0;
}

/* Sends one control request and prints the result as JSON. */
static int
call_and_print (const char *command_name,
                const char *data_dir,
                JsonObject *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) result = cb_control_call (data_dir, request, &error);
  g_autofree char *text = NULL;

  if (result == NULL)
    {
      g_printerr ("cloud-bevy-node %s: %s\n", command_name, error->message);
      return 1;
    }
  text = json_to_string (result, TRUE);
  g_print ("%s\n", text);
  return 0;
}

static gboolean
parse_common (GOptionContext  *context,
              const char      *command_name,
              int             *argc,
              char          ***argv,
              char           **data_dir,
              char           **system)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("cloud-bevy-node %s: %s\n", command_name, error->message);
      return FALSE;
    }
  if (*data_dir == NULL || *system == NULL)
    {
      g_printerr ("cloud-bevy-node %s: --data-dir and --system are required (see --help)\n",
                  command_name);
      return FALSE;
    }
  return TRUE;
}

static int
cmd_put (int    argc,
         char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *system = NULL;
  g_autofree char *table = NULL;
  g_autofree char *json = NULL;
  gboolean delete = FALSE;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonObject) request = json_object_new ();
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "The running node's directory", "DIR" },
    { "system", 0, 0, G_OPTION_ARG_STRING, &system, "The system to write to", "SYSTEM" },
    { "table", 0, 0, G_OPTION_ARG_STRING, &table, "One of the system's tables", "TABLE" },
    { "json", 0, 0, G_OPTION_ARG_STRING, &json,
      "The row as a JSON object (every column), or an array of rows; - reads it from "
      "standard input", "JSON" },
    { "delete", 0, 0, G_OPTION_ARG_NONE, &delete,
      "Delete the rows whose keys --json gives instead", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- write rows to a system");

  g_option_context_set_description (context,
    "Appends one entry to this node's log for SYSTEM and prints its position\n"
    "(writer, seq, hlc) once it is stored; replication takes it to the other hosts.\n"
    "Example: put --data-dir D --system test/kv --table kv --json '{\"key\":\"a\",\"value\":\"b\"}'");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse_common (context, "put", &argc, &argv, &data_dir, &system))
    return 2;
  if (table == NULL || json == NULL)
    {
      g_printerr ("cloud-bevy-node put: --table and --json are required (see --help)\n");
      return 2;
    }
  if (g_strcmp0 (json, "-") == 0)
    {
      /* Large batches do not fit an argument (128 KiB on Linux). */
      g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
      g_autoptr(GOutputStream) buffer = g_memory_output_stream_new_resizable ();

      if (g_output_stream_splice (buffer, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL,
                                  &error) < 0)
        {
          g_printerr ("cloud-bevy-node put: cannot read standard input: %s\n", error->message);
          return 2;
        }
      g_free (json);
      json = g_strndup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (buffer)),
                        g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (buffer)));
    }
  if (!json_parser_load_from_data (parser, json, -1, &error))
    {
      g_printerr ("cloud-bevy-node put: --json is not JSON: %s\n", error->message);
      return 2;
    }
  json_object_set_string_member (request, "command", "put");
  json_object_set_string_member (request, "system", system);
  json_object_set_string_member (request, "table", table);
  json_object_set_boolean_member (request, "delete", delete);
  json_object_set_member (request, "rows", json_node_copy (json_parser_get_root (parser)));
  return call_and_print ("put", data_dir, request);
}

static int
cmd_query (int    argc,
           char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *system = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *scope = NULL;
  g_autofree char *as_of = NULL;
  gboolean json = FALSE;
  int sets = 0;
  g_autoptr(JsonObject) request = json_object_new ();
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "The running node's directory", "DIR" },
    { "system", 0, 0, G_OPTION_ARG_STRING, &system, "The system to read", "SYSTEM" },
    { "sql", 0, 0, G_OPTION_ARG_STRING, &sql, "One SELECT over the system's tables", "SQL" },
    { "scope", 0, 0, G_OPTION_ARG_STRING, &scope,
      "local (this node's copy; the default) or cloud (merge in what several db-sets have)",
      "SCOPE" },
    { "sets", 0, 0, G_OPTION_ARG_INT, &sets, "With --scope cloud: db-sets to ask (default 3, "
      "at most 100)", "N" },
    { "as-of", 0, 0, G_OPTION_ARG_STRING, &as_of,
      "Read the tables as they were at a log position (hlc) or a time (2026-11-22T10:00:00Z)",
      "POS" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the result as JSON (the default)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- read a system's tables");

  g_option_context_set_description (context,
    "Read-only: anything but a single SELECT is refused.  Prints\n"
    "{\"columns\": [...], \"rows\": [[...], ...]}.\n"
    "With --scope cloud the node first asks a host in each of several db-sets (its own\n"
    "first) for the entries it lacks, merges them (last writer wins), then runs the\n"
    "SELECT; \"sets\" then says which sets answered, in how many ms, and how fresh\n"
    "each one's copy was (\"newest\").  It waits at most 3 s for them.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse_common (context, "query", &argc, &argv, &data_dir, &system))
    return 2;
  if (sql == NULL)
    {
      g_printerr ("cloud-bevy-node query: --sql is required (see --help)\n");
      return 2;
    }
  json_object_set_string_member (request, "command", "query");
  json_object_set_string_member (request, "system", system);
  json_object_set_string_member (request, "sql", sql);
  json_object_set_string_member (request, "scope", scope != NULL ? scope : "local");
  if (as_of != NULL)
    json_object_set_string_member (request, "as_of", as_of);
  if (sets < 0 || sets > 100)
    {
      g_printerr ("cloud-bevy-node query: --sets takes 1..100\n");
      return 2;
    }
  if (sets > 0)
    json_object_set_int_member (request, "sets", sets);
  return call_and_print ("query", data_dir, request);
}

static int
cmd_digest (int    argc,
            char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *system = NULL;
  g_autoptr(JsonObject) request = json_object_new ();
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "The running node's directory", "DIR" },
    { "system", 0, 0, G_OPTION_ARG_STRING, &system, "The system", "SYSTEM" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- hash a system's tables");

  g_option_context_set_description (context,
    "Prints a hash of the system's materialised tables: equal on two nodes means\n"
    "they hold the same data (a convergence check).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse_common (context, "digest", &argc, &argv, &data_dir, &system))
    return 2;
  json_object_set_string_member (request, "command", "digest");
  json_object_set_string_member (request, "system", system);
  return call_and_print ("digest", data_dir, request);
}

/* The passphrase from --passphrase-file (its first line) or
 * $CB_BACKUP_PASSPHRASE; NULL with a message otherwise. */
static char *
read_passphrase (const char *command_name,
                 const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  char *newline;

  if (path == NULL)
    {
      const char *env = g_getenv ("CB_BACKUP_PASSPHRASE");

      if (env != NULL && *env != '\0')
        return g_strdup (env);
      g_printerr ("cloud-bevy-node %s: give the backup's passphrase with --passphrase-file FILE "
                  "or $CB_BACKUP_PASSPHRASE\n", command_name);
      return NULL;
    }
  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      g_printerr ("cloud-bevy-node %s: %s\n", command_name, error->message);
      return NULL;
    }
  if ((newline = strchr (text, '\n')) != NULL)
    *newline = '\0';
  if (*text == '\0')
    {
      g_printerr ("cloud-bevy-node %s: %s holds no passphrase\n", command_name, path);
      return NULL;
    }
  return g_steal_pointer (&text);
}

static int
cmd_backup_or_restore (int    argc,
                       char **argv,
                       gboolean backup)
{
  const char *name = backup ? "backup" : "restore";
  g_autofree char *data_dir = NULL;
  g_autofree char *system = NULL;
  g_autofree char *url = NULL;
  g_autofree char *passphrase_file = NULL;
  g_autofree char *passphrase = NULL;
  g_autoptr(JsonObject) request = json_object_new ();
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "The running node's directory", "DIR" },
    { "system", 0, 0, G_OPTION_ARG_STRING, &system, "The system", "SYSTEM" },
    { backup ? "to" : "from", 0, 0, G_OPTION_ARG_STRING, &url,
      "Where the backup lives: file:///path, git+file:///repo.git#path, "
      "git+https://host/repo.git#path or github://OWNER/REPO/path", "URL" },
    { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &passphrase_file,
      "A file whose first line is the passphrase (else $CB_BACKUP_PASSPHRASE)", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (backup ? "- write an encrypted backup of a system to a public domain"
                                 : "- restore a system from an encrypted backup");

  g_option_context_set_description (context, backup
    ? "Seals every signed log entry of SYSTEM with a key derived from the passphrase\n"
      "(argon2id, XChaCha20-Poly1305) and writes it to URL, replacing the backup there.\n"
      "github:// takes backups up to 1 MB (its contents API); use git+https:// for more."
    : "Reads the backup at URL, checks all of it (a wrong passphrase or any altered\n"
      "byte refuses it and changes nothing), then stores its entries like replicated\n"
      "ones (signatures and chains verified); they then replicate to the other hosts.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse_common (context, name, &argc, &argv, &data_dir, &system))
    return 2;
  if (url == NULL)
    {
      g_printerr ("cloud-bevy-node %s: --%s is required (see --help)\n", name,
                  backup ? "to" : "from");
      return 2;
    }
  passphrase = read_passphrase (name, passphrase_file);
  if (passphrase == NULL)
    return 2;
  json_object_set_string_member (request, "command", name);
  json_object_set_string_member (request, "system", system);
  json_object_set_string_member (request, backup ? "to" : "from", url);
  json_object_set_string_member (request, "passphrase", passphrase);
  return call_and_print (name, data_dir, request);
}

static int
cmd_backup (int argc, char **argv)
{
  return cmd_backup_or_restore (argc, argv, TRUE);
}

static int
cmd_restore (int argc, char **argv)
{
  return cmd_backup_or_restore (argc, argv, FALSE);
}

static const Command commands[] = {
  { "init-cloud", "Create a new cloud: keys, cloud.json and a first list", cmd_init_cloud },
  { "run",        "Run a node until SIGINT/SIGTERM", cmd_run },
  { "status",     "Show a running node's id, roles, peers and lists", cmd_status },
  { "put",        "Write rows to a system through a running node", cmd_put },
  { "query",      "Read a system's tables (one SELECT)", cmd_query },
  { "digest",     "Hash a system's tables, to compare replicas", cmd_digest },
  { "backup",     "Write an encrypted backup of a system to a public domain", cmd_backup },
  { "restore",    "Restore a system from an encrypted backup", cmd_restore },
  { "apps",       "Install and manage cloud apps (apps --help)", cb_cmd_apps },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: cloud-bevy-node COMMAND [OPTION…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'cloud-bevy-node COMMAND --help' for a command's options.\n");
}

int
main (int   argc,
      char *argv[])
{
  g_log_set_writer_func (write_log, NULL, NULL);

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("cloud-bevy-node %s\n", CB_VERSION);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        argv[1] = g_strdup_printf ("%s %s", argv[0], commands[i].name);
        return commands[i].run (argc - 1, argv + 1);
      }
  fprintf (stderr, "cloud-bevy-node: unknown command \"%s\"\n\n", argv[1]);
  print_usage (stderr);
  return 2;
}
