/* cb-aside-path.h: where a damaged profile file is kept */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *cb_aside_path (const char *path);

G_END_DECLS
