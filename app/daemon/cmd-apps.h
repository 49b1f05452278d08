/* cmd-apps.h: `cloud-bevy-node apps`, cloud apps from the command line */
#pragma once

int cb_cmd_apps (int argc, char **argv);
