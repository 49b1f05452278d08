/* cloud-bevy-repo: build and sign a Cloud Bevy app repository
 *
 *   cloud-bevy-repo keygen --key FILE
 *   cloud-bevy-repo init   --repo DIR --name NAME --key FILE [--key FILE…] [--threshold N]
 *   cloud-bevy-repo add    --repo DIR PLUGIN.cbplugin [--arch ARCH] [--no-load]
 *   cloud-bevy-repo sign   --repo DIR --key FILE… [--expires-days N] [--version N]
 *   cloud-bevy-repo rotate --repo DIR --key OLD… --new-key NEW… [--threshold N]
 *   cloud-bevy-repo verify --repo DIR
 *
 * The repository is a directory to publish as it is (a web server, GitHub
 * Pages, a file:// path); see sdk/README.md. */
#define G_LOG_DOMAIN "cb-repo-tool"

#include "cb-config.h"

#include <stdio.h>
#include <string.h>

#include "cb-identity.h"
#include "cb-json-check.h"
#include "cb-repo-format.h"
#include "cb-repo-publish.h"
#include "cb-sdk-host.h"

#ifndef CB_SDK_ARCH
#error "CB_SDK_ARCH must name the build's architecture"
#endif

#define DAY (24 * 60 * 60)

typedef struct {
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);
} Command;

static gint64
now (void)
{
  /* For reproducible repositories and for tests: a fixed "now". */
  const char *fixed = g_getenv ("SOURCE_DATE_EPOCH");

  if (fixed != NULL && *fixed != '\0')
    return g_ascii_strtoll (fixed, NULL, 10);
  return g_get_real_time () / G_USEC_PER_SEC;
}

static gboolean
parse (GOptionContext *context, const char *command, int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;

  if (g_option_context_parse (context, argc, argv, &error))
    return TRUE;
  g_printerr ("cloud-bevy-repo %s: %s\n", command, error->message);
  return FALSE;
}

static int
fail (const char *command, const GError *error)
{
  g_printerr ("cloud-bevy-repo %s: %s\n", command, error->message);
  return 1;
}

static int
usage_error (const char *command, const char *message)
{
  g_printerr ("cloud-bevy-repo %s: %s (see --help)\n", command, message);
  return 2;
}

static int
cmd_keygen (int argc, char **argv)
{
  g_autofree char *key = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CbIdentity) identity = NULL;
  const GOptionEntry entries[] = {
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &key, "Where to write the new secret key (0600)", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- make a publisher key");

  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse (context, "keygen", &argc, &argv))
    return 2;
  if (key == NULL)
    return usage_error ("keygen", "--key is required");
  if (!cb_identity_write_new (key, &identity, &error))
    return fail ("keygen", error);
  g_print ("%s\n", identity->id_hex);
  return 0;
}

static int
cmd_init (int argc, char **argv)
{
  g_autofree char *repo = NULL;
  g_autofree char *name = NULL;
  g_auto(GStrv) keys = NULL;
  int threshold = 1, root_days = CB_REPO_DEFAULT_ROOT_DAYS, index_days = CB_REPO_DEFAULT_INDEX_DAYS;
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "repo", 0, 0, G_OPTION_ARG_FILENAME, &repo, "The repository's directory (created)", "DIR" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The repository's name, for people", "NAME" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &keys,
      "A publisher key (repeatable; created when missing)", "FILE" },
    { "threshold", 0, 0, G_OPTION_ARG_INT, &threshold,
      "How many of the keys must sign (default 1)", "N" },
    { "root-expires-days", 0, 0, G_OPTION_ARG_INT, &root_days, "Root lifetime (default 365)", "N" },
    { "expires-days", 0, 0, G_OPTION_ARG_INT, &index_days, "Index lifetime (default 30)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- create a repository");

  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse (context, "init", &argc, &argv))
    return 2;
  if (repo == NULL || name == NULL || keys == NULL)
    return usage_error ("init", "--repo, --name and --key are required");
  if (threshold < 1 || root_days < 1 || index_days < 1)
    return usage_error ("init", "--threshold and the lifetimes must be at least 1");
  if (!cb_repo_publish_init (repo, name, (const char * const *) keys, (guint) threshold, now (),
                             (gint64) root_days * DAY, (gint64) index_days * DAY, &error))
    return fail ("init", error);
  g_print ("created the repository \"%s\" in %s\n", name, repo);
  return 0;
}

static int
cmd_add (int argc, char **argv)
{
  g_autofree char *repo = NULL;
  g_autofree char *arch = NULL;
  gboolean no_load = FALSE;
  g_autoptr(GError) error = NULL;
  g_autoptr(CbRepoPackage) added = NULL;
  const GOptionEntry entries[] = {
    { "repo", 0, 0, G_OPTION_ARG_FILENAME, &repo, "The repository's directory", "DIR" },
    { "arch", 0, 0, G_OPTION_ARG_STRING, &arch, "The modules' architecture (default: "
      CB_SDK_ARCH ")", "ARCH" },
    { "no-load", 0, 0, G_OPTION_ARG_NONE, &no_load,
      "Do not load the core module to check it (for another architecture)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("PLUGIN.cbplugin - add a built plugin");

  g_option_context_set_description (context,
    "Copies the plugin's modules into the repository and lists them in its draft\n"
    "index; `sign` publishes the draft.  The core module is loaded first to check\n"
    "that it is the system and version its manifest says.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse (context, "add", &argc, &argv))
    return 2;
  if (repo == NULL || argc != 2)
    return usage_error ("add", "--repo and one PLUGIN.cbplugin are required");
  if (!cb_repo_publish_add (repo, argv[1], arch != NULL ? arch : CB_SDK_ARCH, !no_load, &added,
                            &error))
    return fail ("add", error);
  g_print ("added %s %s (%s, %" G_GUINT64_FORMAT " bytes) to the draft index; sign to publish\n",
           added->system, added->version, added->arch, added->core.size);
  return 0;
}

static int
cmd_sign (int argc, char **argv)
{
  g_autofree char *repo = NULL;
  g_auto(GStrv) keys = NULL;
  int days = CB_REPO_DEFAULT_INDEX_DAYS;
  gint64 version = 0;
  guint64 signed_version = 0;
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "repo", 0, 0, G_OPTION_ARG_FILENAME, &repo, "The repository's directory", "DIR" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &keys, "A key of the current root (repeatable)",
      "FILE" },
    { "expires-days", 0, 0, G_OPTION_ARG_INT, &days, "Index lifetime (default 30)", "N" },
    { "version", 0, 0, G_OPTION_ARG_INT64, &version,
      "The index version (default: one above the published one)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- sign and publish the index");

  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse (context, "sign", &argc, &argv))
    return 2;
  if (repo == NULL || keys == NULL)
    return usage_error ("sign", "--repo and --key are required");
  if (days < 1 || version < 0)
    return usage_error ("sign", "--expires-days must be at least 1 and --version positive");
  if (!cb_repo_publish_sign (repo, (const char * const *) keys, (guint64) version, now (),
                             (gint64) days * DAY, &signed_version, &error))
    return fail ("sign", error);
  g_print ("signed index version %" G_GUINT64_FORMAT "\n", signed_version);
  return 0;
}

static int
cmd_rotate (int argc, char **argv)
{
  g_autofree char *repo = NULL;
  g_auto(GStrv) keys = NULL;
  g_auto(GStrv) new_keys = NULL;
  int threshold = 1, days = CB_REPO_DEFAULT_ROOT_DAYS;
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "repo", 0, 0, G_OPTION_ARG_FILENAME, &repo, "The repository's directory", "DIR" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &keys,
      "A key of the current root (repeatable; a threshold of them is needed)", "FILE" },
    { "new-key", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &new_keys,
      "A key of the new root (repeatable; created when missing)", "FILE" },
    { "threshold", 0, 0, G_OPTION_ARG_INT, &threshold, "The new root's threshold (default 1)", "N" },
    { "expires-days", 0, 0, G_OPTION_ARG_INT, &days, "Root lifetime (default 365)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- rotate the publisher keys");

  g_option_context_set_description (context,
    "Writes the next root version, listing the --new-key keys, signed by the current\n"
    "keys and the new ones.  Clients that trust the current root accept it; sign the\n"
    "index again with the new keys afterwards.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse (context, "rotate", &argc, &argv))
    return 2;
  if (repo == NULL || keys == NULL || new_keys == NULL)
    return usage_error ("rotate", "--repo, --key and --new-key are required");
  if (!cb_repo_publish_rotate (repo, (const char * const *) keys, (const char * const *) new_keys,
                               (guint) MAX (threshold, 0), now (), (gint64) days * DAY, &error))
    return fail ("rotate", error);
  g_print ("wrote the next root version; now sign the index with the new keys\n");
  return 0;
}

static int
cmd_verify (int argc, char **argv)
{
  g_autofree char *repo = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) report = g_string_new (NULL);
  const GOptionEntry entries[] = {
    { "repo", 0, 0, G_OPTION_ARG_FILENAME, &repo, "The repository's directory", "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- check a repository as a client would");

  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse (context, "verify", &argc, &argv))
    return 2;
  if (repo == NULL)
    return usage_error ("verify", "--repo is required");
  if (!cb_repo_publish_verify (repo, now (), report, &error))
    {
      g_printerr ("%s", report->str);
      return fail ("verify", error);
    }
  g_print ("%sOK\n", report->str);
  return 0;
}

static const Command commands[] = {
  { "keygen", "Make a publisher key", cmd_keygen },
  { "init",   "Create a repository: its root and an empty signed index", cmd_init },
  { "add",    "Add a built plugin (its .cbplugin) to the draft index", cmd_add },
  { "sign",   "Sign and publish the index", cmd_sign },
  { "rotate", "Replace the publisher keys with a signed root rotation", cmd_rotate },
  { "verify", "Check the root chain, the index and every package", cmd_verify },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: cloud-bevy-repo COMMAND [OPTION…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'cloud-bevy-repo COMMAND --help' for a command's options.\n");
}

int
main (int argc, char *argv[])
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("cloud-bevy-repo %s (%s)\n", CB_VERSION, CB_SDK_ABI_NAME);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        argv[1] = g_strdup_printf ("%s %s", argv[0], commands[i].name);
        return commands[i].run (argc - 1, argv + 1);
      }
  fprintf (stderr, "cloud-bevy-repo: unknown command \"%s\"\n\n", argv[1]);
  print_usage (stderr);
  return 2;
}
