/* cb-history.h: the pages this profile visited, and what to suggest
 *
 * Every query runs on the history database's worker thread (see
 * cb-profile-db.h); the API is _async/_finish only.  Each page has a
 * frecency: how often and how recently it was visited, typed visits
 * counting more, old visits fading with a 30-day half-life.  Address-bar
 * completion ranks matches by it. */
#pragma once

#include <gio/gio.h>

#include "cb-profile-db.h"

G_BEGIN_DECLS

typedef enum {
  CB_VISIT_LINK,      /* followed a link, or a page opened it */
  CB_VISIT_TYPED,     /* typed or picked in the address bar */
  CB_VISIT_BOOKMARK,  /* opened from the bookmarks */
  CB_VISIT_RELOAD,    /* reloaded: updates the last visit, counts nothing */
} CbVisitType;

typedef struct {
  char   *url;
  char   *title;
  guint   visit_count;
  guint   typed_count;
  gint64  last_visit;   /* µs since the epoch */
  double  frecency;     /* comparable between entries; larger is more */
} CbHistoryEntry;

#define CB_TYPE_HISTORY_ENTRY (cb_history_entry_get_type ())
GType           cb_history_entry_get_type (void) G_GNUC_CONST;
CbHistoryEntry *cb_history_entry_copy     (const CbHistoryEntry *entry);
void            cb_history_entry_free     (CbHistoryEntry       *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbHistoryEntry, cb_history_entry_free)

#define CB_TYPE_HISTORY (cb_history_get_type ())
G_DECLARE_FINAL_TYPE (CbHistory, cb_history, CB, HISTORY, GObject)

/* @path NULL: kept in memory only (private windows). */
CbHistory   *cb_history_new              (const char          *path);
CbProfileDb *cb_history_get_db           (CbHistory           *self);

/* Whether a URI is recorded at all: web pages and files, not internal
 * pages, data: or about: URIs. */
gboolean     cb_history_is_recordable    (const char          *uri);

/* @time_us 0: now. */
void         cb_history_add_visit_async  (CbHistory           *self,
                                          const char          *url,
                                          const char          *title,
                                          CbVisitType          type,
                                          gint64               time_us,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean     cb_history_add_visit_finish (CbHistory           *self,
                                          GAsyncResult        *result,
                                          GError             **error);

void         cb_history_set_title_async  (CbHistory           *self,
                                          const char          *url,
                                          const char          *title,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean     cb_history_set_title_finish (CbHistory           *self,
                                          GAsyncResult        *result,
                                          GError             **error);

/* Address-bar suggestions: entries whose address (without the scheme) or
 * title contains every word of @text, case-insensitively, best first.
 * Result: GPtrArray of CbHistoryEntry. */
void         cb_history_complete_async   (CbHistory           *self,
                                          const char          *text,
                                          guint                limit,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
GPtrArray   *cb_history_complete_finish  (CbHistory           *self,
                                          GAsyncResult        *result,
                                          GError             **error);

/* The history page: entries matching @text (NULL or "" for all) last
 * visited at or after @since_us (0: any time), most recent first. */
void         cb_history_query_async      (CbHistory           *self,
                                          const char          *text,
                                          gint64               since_us,
                                          guint                limit,
                                          guint                offset,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
GPtrArray   *cb_history_query_finish     (CbHistory           *self,
                                          GAsyncResult        *result,
                                          GError             **error);

/* One entry, or NULL with CB_PROFILE_ERROR_NOT_FOUND. */
void            cb_history_lookup_async  (CbHistory           *self,
                                          const char          *url,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
CbHistoryEntry *cb_history_lookup_finish (CbHistory           *self,
                                          GAsyncResult        *result,
                                          GError             **error);

/* Forgets the pages and all their visits. */
void         cb_history_delete_urls_async  (CbHistory           *self,
                                            const char * const  *urls,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean     cb_history_delete_urls_finish (CbHistory           *self,
                                            GAsyncResult        *result,
                                            GError             **error);

/* Forgets every visit made at or after @since_us (0: all of them); pages
 * left without visits go too, the others are re-ranked from what is
 * left.  Deleted rows are overwritten on disk (secure_delete). */
void         cb_history_clear_async      (CbHistory           *self,
                                          gint64               since_us,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean     cb_history_clear_finish     (CbHistory           *self,
                                          GAsyncResult        *result,
                                          GError             **error);

G_END_DECLS
