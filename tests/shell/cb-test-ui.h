/* cb-test-ui.h: helpers for driving real windows under Xvfb */
#pragma once

#include <gtk/gtk.h>
#include <webkit/webkit.h>

G_BEGIN_DECLS

typedef gboolean (*CbTestCondition) (gpointer data);

/* Iterates the main context until @condition holds; fails the test with
 * @what after the timeout (CB_TEST_TIMEOUT seconds, default 30). */
void   cb_test_wait_until     (CbTestCondition condition,
                               gpointer        data,
                               const char     *what);
void   cb_test_wait_for_title (WebKitWebView  *view,
                               const char     *title);
void   cb_test_wait_loaded    (WebKitWebView  *view);
/* Runs @script in the page and returns the result as a string. */
char  *cb_test_run_js         (WebKitWebView  *view,
                               const char     *script);
/* The same, with a failed script (or a result WebKit could not return,
 * as while the page's content is being replaced) as an error. */
char  *cb_test_try_js         (WebKitWebView  *view,
                               const char     *script,
                               GError        **error);
/* Saves a PNG of @window into $CB_TEST_ARTIFACTS (or the cwd). */
char  *cb_test_screenshot     (GtkWidget      *window,
                               const char     *name);
void   cb_test_iterate        (guint           milliseconds);

G_END_DECLS

G_BEGIN_DECLS
/* The whole X screen, as a person sees it: popovers, menus and dialogs
 * are surfaces of their own, which cb_test_screenshot does not draw. */
char  *cb_test_screenshot_screen (const char *name);
G_END_DECLS
