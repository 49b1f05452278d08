/* cb-error-page.c: error pages that say what failed and offer a retry */
#define G_LOG_DOMAIN "cb-error-page"

#include "cb-error-page.h"

char *
cb_html_escape (const char *text)
{
  return g_markup_escape_text (text ? text : "", -1);
}

static const struct {
  GTlsCertificateFlags flag;
  const char *text;
} tls_reasons[] = {
  { G_TLS_CERTIFICATE_UNKNOWN_CA, "it is not signed by an authority this computer trusts" },
  { G_TLS_CERTIFICATE_BAD_IDENTITY, "it was issued for a different site" },
  { G_TLS_CERTIFICATE_NOT_ACTIVATED, "it is not valid yet" },
  { G_TLS_CERTIFICATE_EXPIRED, "it has expired" },
  { G_TLS_CERTIFICATE_REVOKED, "it has been revoked" },
  { G_TLS_CERTIFICATE_INSECURE, "it uses an insecure algorithm" },
  { G_TLS_CERTIFICATE_GENERIC_ERROR, "it could not be checked" },
};

/* One sentence naming every problem WebKit reported for the certificate. */
char *
cb_error_page_describe_tls (GTlsCertificateFlags errors)
{
  g_autoptr(GString) out = g_string_new ("The site's certificate was refused because ");
  guint found = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (tls_reasons); i++)
    {
      if (!(errors & tls_reasons[i].flag))
        continue;
      if (found > 0)
        g_string_append (out, ", and ");
      g_string_append (out, tls_reasons[i].text);
      found++;
    }
  if (found == 0)
    g_string_append (out, "the secure connection could not be established");
  g_string_append_c (out, '.');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
host_of (const char *uri)
{
  g_autoptr(GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  const char *host = parsed ? g_uri_get_host (parsed) : NULL;

  if (host == NULL || *host == '\0')
    return g_strdup (uri);
  if (g_uri_get_port (parsed) > 0)
    return g_strdup_printf ("%s:%d", host, g_uri_get_port (parsed));
  return g_strdup (host);
}

/* Inline SVG, so the page needs no icon font and no network. */
#define SVG_OPEN "<svg width=\"64\" height=\"64\" viewBox=\"0 0 64 64\" fill=\"none\" " \
                 "stroke=\"currentColor\" stroke-width=\"4\" stroke-linejoin=\"round\">"
#define ICON_WARNING SVG_OPEN "<path d=\"M32 6 60 56H4Z\"/><path d=\"M32 24v16M32 46v4\"/></svg>"
#define ICON_LOCK SVG_OPEN "<rect x=\"10\" y=\"28\" width=\"44\" height=\"30\" rx=\"4\"/>" \
                  "<path d=\"M20 28V18a12 12 0 0 1 24 0v10M32 40v6\"/></svg>"
#define ICON_CLOUD SVG_OPEN "<path d=\"M18 50a12 12 0 0 1-1-24 16 16 0 0 1 30-4 " \
                   "12 12 0 0 1 1 28Z\"/></svg>"

char *
cb_error_page_build (CbErrorPageKind kind,
                     const char     *failing_uri,
                     const char     *detail)
{
  g_autofree char *host = host_of (failing_uri);
  g_autofree char *host_html = cb_html_escape (host);
  g_autofree char *uri_html = cb_html_escape (failing_uri);
  g_autofree char *detail_html = cb_html_escape (detail);
  const char *title, *icon;
  g_autofree char *lead = NULL;
  g_autofree char *buttons = NULL;
  const char *advice;

  switch (kind)
    {
    case CB_ERROR_PAGE_TLS:
      title = CB_ERROR_PAGE_TITLE_TLS;
      icon = ICON_LOCK;
      lead = g_strdup_printf ("Cloud Bevy stopped loading <b>%s</b> because its "
                              "connection is not secure.", host_html);
      advice = "Someone may be impersonating the site. Do not enter passwords or "
               "other private information. If you manage this site, install a "
               "certificate from a trusted authority.";
      break;
    case CB_ERROR_PAGE_HTTPS_ONLY:
      title = CB_ERROR_PAGE_TITLE_HTTPS_ONLY;
      icon = ICON_LOCK;
      lead = g_strdup_printf ("<b>%s</b> does not offer a secure (HTTPS) connection.", host_html);
      advice = "If you continue, what you send and receive on this site can be read and "
               "changed by others on the network. Do not enter passwords or payment details.";
      /* Going back is the safe choice, so it is the default one; going on
       * is a plain link to the insecure address, which the browser takes
       * as the person's consent for this site, for this session. */
      buttons = g_strdup_printf (
        "<p><button id=\"back\" onclick=\"history.length > 1 ? history.back() : window.close()\" "
        "autofocus>Go Back</button> "
        "<a id=\"continue\" class=\"secondary\" href=\"%s\">Continue to HTTP Site</a></p>",
        uri_html);
      break;
    case CB_ERROR_PAGE_NOT_FOUND:
      title = CB_ERROR_PAGE_TITLE_NOT_FOUND;
      icon = ICON_CLOUD;
      lead = g_strdup_printf ("There is no internal page <b>%s</b>.", uri_html);
      advice = "Internal pages include cloud:node and cloud:apps.";
      break;
    case CB_ERROR_PAGE_NETWORK:
    default:
      title = CB_ERROR_PAGE_TITLE_NETWORK;
      icon = ICON_WARNING;
      lead = g_strdup_printf ("Cloud Bevy could not load <b>%s</b>.", host_html);
      advice = "Check the address for typing errors, check that this computer is "
               "connected to the network, or try again in a moment: the site may "
               "be down.";
      break;
    }

  /* A fresh navigation, not location.reload(): reloading would only
   * reload this substitute page. */
  if (buttons == NULL)
    buttons = g_strdup_printf ("<p><button id=\"retry\" data-uri=\"%s\" "
                               "onclick=\"location.href=this.dataset.uri\" "
                               "autofocus>Try Again</button></p>", uri_html);

  return g_strdup_printf (
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\">"
    "<meta name=\"color-scheme\" content=\"light dark\">"
    "<title>%s</title>"
    "<style>"
    "body{font-family:system-ui,sans-serif;max-width:40em;margin:12vh auto;padding:0 2em;line-height:1.5}"
    ".icon{opacity:.55}"
    "h1{font-size:1.6em;margin:.3em 0}"
    ".detail{opacity:.75;font-size:.95em;overflow-wrap:anywhere}"
    "button{font:inherit;padding:.5em 1.4em;border-radius:8px;border:1px solid #0003;"
    "background:#3584e4;color:white;cursor:pointer}"
    ".secondary{margin-left:1em;color:inherit;opacity:.8}"
    "</style></head>\n"
    "<body><div class=\"icon\" aria-hidden=\"true\">%s</div>"
    "<h1>%s</h1>"
    "<p id=\"lead\">%s</p>"
    "<p id=\"detail\" class=\"detail\">%s</p>"
    "<p>%s</p>"
    "%s"
    "</body></html>\n",
    title, icon, title, lead, detail_html, advice, buttons);
}
