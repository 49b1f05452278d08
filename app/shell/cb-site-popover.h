/* cb-site-popover.h: a site's connection and remembered settings */
#pragma once

#include <gtk/gtk.h>

#include "cb-content-blocker.h"
#include "cb-site-settings.h"

G_BEGIN_DECLS

#define CB_TYPE_SITE_POPOVER (cb_site_popover_get_type ())
G_DECLARE_FINAL_TYPE (CbSitePopover, cb_site_popover, CB, SITE_POPOVER, GtkPopover)

GtkWidget  *cb_site_popover_new            (CbSiteSettings    *sites,
                                            CbContentBlocker  *blocker,
                                            const char        *site,
                                            const char        *security);
const char *cb_site_popover_get_site       (CbSitePopover     *self);
/* As if chosen in the popover (for tests). */
void        cb_site_popover_set_permission (CbSitePopover     *self,
                                            CbPermission       permission,
                                            CbPermissionState  state);
void        cb_site_popover_set_blocker    (CbSitePopover     *self,
                                            gboolean           blocking);
void        cb_site_popover_set_popups     (CbSitePopover     *self,
                                            gboolean           allowed);

G_END_DECLS
