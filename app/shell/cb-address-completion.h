/* cb-address-completion.h: suggestions under the address entry
 *
 * As the person types, bookmarks and history pages matching every word
 * are listed below the entry, best first (bookmarks, then history by
 * frecency).  Up and Down walk the list, Enter opens the selected one,
 * Escape closes it; focus never leaves the entry. */
#pragma once

#include <gtk/gtk.h>

#include "cb-user-profile.h"

G_BEGIN_DECLS

#define CB_TYPE_ADDRESS_COMPLETION (cb_address_completion_get_type ())
G_DECLARE_FINAL_TYPE (CbAddressCompletion, cb_address_completion, CB, ADDRESS_COMPLETION, GObject)

CbAddressCompletion *cb_address_completion_new          (GtkEntry            *entry,
                                                         CbUserProfile       *profile);
/* Text set by the program (the page's address) is not a query. */
void                 cb_address_completion_set_text     (CbAddressCompletion *self,
                                                         const char          *text);
void                 cb_address_completion_hide         (CbAddressCompletion *self);
/* Whether the person changed the text since the program last set it. */
gboolean             cb_address_completion_is_edited    (CbAddressCompletion *self);
gboolean             cb_address_completion_is_shown     (CbAddressCompletion *self);
/* The suggestions shown, for tests: "url\ttitle" per row. */
GStrv                cb_address_completion_get_rows     (CbAddressCompletion *self);
/* The suggestion Enter would open, or NULL. */
const char          *cb_address_completion_get_selected (CbAddressCompletion *self);

G_END_DECLS
