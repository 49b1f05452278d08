/* cb-error-page.h: the HTML a tab shows when a page could not be loaded */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  CB_ERROR_PAGE_NETWORK,  /* host unreachable, refused, DNS, reset … */
  CB_ERROR_PAGE_TLS,      /* the certificate or the TLS handshake failed */
  CB_ERROR_PAGE_NOT_FOUND, /* an internal cloud: page that does not exist */
  CB_ERROR_PAGE_HTTPS_ONLY /* HTTPS-first: the site has no secure version; failing_uri is http:// */
} CbErrorPageKind;

#define CB_ERROR_PAGE_TITLE_NETWORK   "Unable to Load Page"
#define CB_ERROR_PAGE_TITLE_TLS       "Security Violation"
#define CB_ERROR_PAGE_TITLE_NOT_FOUND "Page Not Found"
#define CB_ERROR_PAGE_TITLE_HTTPS_ONLY "Secure Connection Unavailable"

char *cb_error_page_describe_tls (GTlsCertificateFlags errors);

char *cb_error_page_build (CbErrorPageKind kind,
                           const char     *failing_uri,
                           const char     *detail);

char *cb_html_escape (const char *text);

G_END_DECLS
