/* cb-permission-prompt.h: a site asks for a permission; someone answers
 *
 * CbWebView answers from the site settings when the answer is
 * remembered, and otherwise emits "permission-requested" with one of
 * these for the window to show.  Unanswered prompts deny when they go. */
#pragma once

#include <webkit/webkit.h>

#include "cb-site-settings.h"

G_BEGIN_DECLS

#define CB_TYPE_PERMISSION_PROMPT (cb_permission_prompt_get_type ())
G_DECLARE_FINAL_TYPE (CbPermissionPrompt, cb_permission_prompt, CB, PERMISSION_PROMPT, GObject)

CbPermissionPrompt *cb_permission_prompt_new             (WebKitPermissionRequest *request,
                                                          CbSiteSettings          *sites,
                                                          const char              *site,
                                                          const CbPermission      *permissions,
                                                          guint                    n_permissions);
const char         *cb_permission_prompt_get_site        (CbPermissionPrompt      *self);
/* "127.0.0.1:8080 wants to use your camera and microphone." */
char               *cb_permission_prompt_describe        (CbPermissionPrompt      *self);
gboolean            cb_permission_prompt_has             (CbPermissionPrompt      *self,
                                                          CbPermission             permission);
gboolean            cb_permission_prompt_is_answered     (CbPermissionPrompt      *self);
/* @remember stores the answer for the site. */
void                cb_permission_prompt_answer          (CbPermissionPrompt      *self,
                                                          gboolean                 allow,
                                                          gboolean                 remember);

G_END_DECLS
