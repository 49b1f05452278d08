/* cb-address.h: turn what a person typed into the address entry into a URI */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  CB_ADDRESS_EMPTY,   /* nothing but blanks */
  CB_ADDRESS_URI,     /* a full URI with a scheme we open */
  CB_ADDRESS_HOST,    /* a bare host, host:port or host/path */
  CB_ADDRESS_SEARCH,  /* search terms */
} CbAddressKind;

CbAddressKind cb_address_classify (const char *text);

char *cb_address_to_uri (const char *text,
                         const char *search_template);

char *cb_address_search_uri (const char *terms,
                             const char *search_template);

G_END_DECLS
