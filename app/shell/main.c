/* main.c: cloud-bevy, the browser */
#include "cb-config.h"
#include "cb-application.h"

#include <glib/gstdio.h>

/* Without a GPU render node, GTK's GL renderer runs on Mesa's software
 * rasteriser, which starts slower and draws slower than GTK's cairo
 * renderer.  Pick cairo then, unless the person chose a renderer. */
static void
choose_renderer (void)
{
  g_autoptr(GDir) dri = NULL;
  const char *name;

  if (g_getenv ("GSK_RENDERER") != NULL)
    return;
  dri = g_dir_open ("/dev/dri", 0, NULL);
  while (dri != NULL && (name = g_dir_read_name (dri)) != NULL)
    if (g_str_has_prefix (name, "renderD"))
      return;
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(CbApplication) app = NULL;

  choose_renderer ();
  g_set_application_name ("Cloud Bevy");
  app = cb_application_new (CB_APP_ID);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
