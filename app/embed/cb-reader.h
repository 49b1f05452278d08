/* cb-reader.h: reader mode, an article shown on its own
 *
 * reader.js (ours) finds the article in a loaded page and rebuilds it from
 * harmless elements; the result is shown at cb-reader:<address>, a local,
 * display-isolated scheme whose pages carry a Content-Security-Policy
 * without scripts.  The article's JSON comes from web content, so
 * cb_reader_article_parse is a checked decoder (with a fuzz harness). */
#pragma once

#include <webkit/webkit.h>

G_BEGIN_DECLS

#define CB_READER_SCHEME "cb-reader"

typedef struct {
  char  *title;
  char  *byline;
  char  *site;
  char  *html;     /* the article's content, already rebuilt by reader.js */
  gint64 length;   /* characters of text */
} CbReaderArticle;

void             cb_reader_article_free  (CbReaderArticle *article);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbReaderArticle, cb_reader_article_free)
CbReaderArticle *cb_reader_article_parse (const char      *json,
                                          gsize            len,
                                          GError         **error);
/* The whole reader page for @article, which was read from @uri. */
char            *cb_reader_render        (const CbReaderArticle *article,
                                          const char      *uri);

/* "cb-reader:https://…" <-> "https://…" (NULL when not a reader URI). */
char            *cb_reader_uri_for       (const char      *uri);
const char      *cb_reader_original_uri  (const char      *reader_uri);

#define CB_TYPE_READER (cb_reader_get_type ())
G_DECLARE_FINAL_TYPE (CbReader, cb_reader, CB, READER, GObject)

CbReader *cb_reader_new         (void);
void      cb_reader_attach      (CbReader            *self,
                                 WebKitWebContext    *context);

/* Whether the page in @view looks like an article (result: boolean). */
void      cb_reader_check_async (CbReader            *self,
                                 WebKitWebView       *view,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
gboolean  cb_reader_check_finish (CbReader           *self,
                                  GAsyncResult       *result,
                                  GError            **error);
/* Extracts the article of @view's page and shows it in @view. */
void      cb_reader_open_async  (CbReader            *self,
                                 WebKitWebView       *view,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
gboolean  cb_reader_open_finish (CbReader            *self,
                                 GAsyncResult        *result,
                                 GError             **error);

G_END_DECLS
