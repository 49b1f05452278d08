/* main.c: cloud-bevy-node, the headless node and its admin commands */
#define G_LOG_DOMAIN "cb-daemon"

#include "cb-config.h"
#include "cb-cloud-init.h"

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
  /* Quiet by default: warnings and errors only; -v adds info and debug. */
  if (!verbose && (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_MESSAGE)))
    return G_LOG_WRITER_HANDLED;
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

static const Command commands[] = {
  { "init-cloud", "Create a new cloud: keys, cloud.json and a first list", cmd_init_cloud },
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
