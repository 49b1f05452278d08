/* cb-test-app.h: one real CbApplication per GUI test program
 *
 * Sets up what every shell UI test needs: the local web server (plain
 * HTTP), its /search as the search engine, a cloud of the test's own for
 * the profile's node, and the application registered on the test's bus. */
#pragma once

#include "cb-application.h"
#include "cb-test-server.h"
#include "cb-test-ui.h"

G_BEGIN_DECLS

extern CbApplication *cb_test_app;
extern CbTestServer *cb_test_http;

void           cb_test_app_init       (int         *argc,
                                       char      ***argv,
                                       const char  *name);
int            cb_test_app_run        (void);

CbWindow      *cb_test_new_window     (void);
void           cb_test_close_window   (CbWindow   *window);
WebKitWebView *cb_test_open           (CbWindow   *window,
                                       const char *path);
/* Activates a window (or app.) action and asserts that it was found. */
void           cb_test_activate       (CbWindow   *window,
                                       const char *action);
const char    *cb_test_entry_text     (CbWindow   *window);
/* Waits until @script's result (a string) contains @expect. */
void           cb_test_wait_js        (WebKitWebView *view,
                                       const char    *script,
                                       const char    *expect);
/* Waits until the window's tab count is @n. */
void           cb_test_wait_tabs      (CbWindow   *window,
                                       int         n);
/* Types @text into the address entry as a person would (focus, set, the
 * entry's "changed"), without pressing Enter. */
void           cb_test_type_address   (CbWindow   *window,
                                       const char *text);
/* The first top-level window of @type other than the browser windows. */
GtkWindow     *cb_test_find_window    (GType       type);
void           cb_test_wait_window    (GType       type);
void           cb_test_flush_profile  (CbWindow   *window);

G_END_DECLS

G_BEGIN_DECLS
/* Real key presses (xdotool, through the X server) into @window, which is
 * focused first: "Down", "ctrl+f", "Return" … */
void           cb_test_keys           (GtkWindow  *window,
                                       const char *first_key,
                                       ...) G_GNUC_NULL_TERMINATED;
/* A real click at (@x, @y) in @widget's coordinates; @button 1 or 3. */
void           cb_test_click          (GtkWidget  *widget,
                                       double      x,
                                       double      y,
                                       int         button);
G_END_DECLS
