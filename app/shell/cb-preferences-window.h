/* cb-preferences-window.h: the preferences (AdwPreferencesWindow)
 *
 * General (home page, search engine, restoring tabs, default browser),
 * Privacy (HTTPS-first, the content blocker, pop-ups, history, clearing
 * data, and every site's remembered permissions), Downloads (the folder),
 * Appearance (light, dark or the system's style; default zoom) and the
 * developer tools.  Everything is a GSettings key: the window only shows
 * and changes them. */
#pragma once

#include <adwaita.h>

#include "cb-web-context.h"

G_BEGIN_DECLS

#define CB_TYPE_PREFERENCES_WINDOW (cb_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (CbPreferencesWindow, cb_preferences_window, CB, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* The search engines offered; the last one is "Custom". */
typedef struct {
  const char *name;
  const char *url;    /* %s: the terms */
} CbSearchEngine;

const CbSearchEngine *cb_search_engines (guint *n);
/* Whether @url can be a search address: http(s) with a %s. */
gboolean              cb_search_url_is_valid (const char *url);

CbPreferencesWindow *cb_preferences_window_new (GtkWindow    *parent,
                                                CbWebContext *context);

/* For tests, as a person would choose. */
void        cb_preferences_window_choose_engine      (CbPreferencesWindow *self,
                                                      const char          *name);
void        cb_preferences_window_set_custom_search  (CbPreferencesWindow *self,
                                                      const char          *url);
gboolean    cb_preferences_window_custom_search_ok   (CbPreferencesWindow *self);
void        cb_preferences_window_choose_style       (CbPreferencesWindow *self,
                                                      const char          *style);
/* What the folder chooser does once a folder is chosen. */
void        cb_preferences_window_set_download_folder (CbPreferencesWindow *self,
                                                       GFile               *folder);
void        cb_preferences_window_make_default       (CbPreferencesWindow *self);
const char *cb_preferences_window_get_default_status (CbPreferencesWindow *self);
/* The sites listed under "Site Permissions". */
GStrv       cb_preferences_window_get_listed_sites   (CbPreferencesWindow *self);
void        cb_preferences_window_forget_site        (CbPreferencesWindow *self,
                                                      const char          *site);

G_END_DECLS
