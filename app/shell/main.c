/* main.c: cloud-bevy, the browser */
#include "cb-config.h"
#include "cb-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(CbApplication) app = NULL;

  g_set_application_name ("Cloud Bevy");
  app = cb_application_new (CB_APP_ID);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
