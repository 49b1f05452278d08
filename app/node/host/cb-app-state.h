/* cb-app-state.h: what this node trusts and has installed, in sqlite
 *
 * DATA/apps/apps.db keeps, per repository, every root pinned so far (the
 * first one trusted on first use, the later ones reached by signed
 * rotations), the last verified index and the highest version seen of
 * each package; and the installed apps with the hashes their files were
 * verified against, and the previous version kept for a rollback.
 *
 * A database that does not open or fails its integrity check is moved
 * aside (apps.db.corrupt-TIME, with a warning naming it) and a fresh one
 * started: installed code is then re-added from the repositories. */
#pragma once

#include <gio/gio.h>

#include "cb-repo-format.h"

G_BEGIN_DECLS

#define CB_APP_STATE_ERROR (cb_app_state_error_quark ())
GQuark cb_app_state_error_quark (void);

typedef enum {
  CB_APP_STATE_ERROR_DATABASE,
  CB_APP_STATE_ERROR_NOT_FOUND,
  CB_APP_STATE_ERROR_EXISTS,
} CbAppStateError;

typedef struct {
  gint64   id;
  char    *url;             /* as shown (normalised) */
  char    *base;            /* where its files are, ending in '/' */
  gboolean builtin;         /* the offline default shipped with the app */
  char    *name;
  char    *fingerprint;     /* of the pinned (latest) root */
  guint64  root_version;
  gint64   added;
  guint64  index_version;   /* 0: none verified yet */
  GBytes  *index;           /* the verified index envelope, or NULL */
  gint64   refreshed;
  char    *error;           /* the last refresh's failure, or NULL */
} CbAppRepo;

typedef struct {
  char       *version;
  char       *dir;          /* relative to DATA/apps/code */
  CbRepoFile  core;         /* url: the file name in dir */
  gboolean    has_ui;
  CbRepoFile  ui;
} CbAppFiles;

typedef struct {
  char       *system;
  gint64      repo;         /* 0 when its repository was removed */
  char       *title;
  char       *description;
  gboolean    enabled;
  gint64      installed;
  CbAppFiles  current;
  gboolean    has_previous;
  CbAppFiles  previous;
} CbAppRecord;

typedef struct _CbAppState CbAppState;

CbAppState  *cb_app_state_open            (const char         *path,
                                           GError            **error);
void         cb_app_state_close           (CbAppState         *state);

GPtrArray   *cb_app_state_list_repos      (CbAppState         *state);   /* CbAppRepo* */
CbAppRepo   *cb_app_state_get_repo        (CbAppState         *state,
                                           const char         *url);
CbAppRepo   *cb_app_state_get_repo_by_id  (CbAppState         *state,
                                           gint64              id);
gboolean     cb_app_state_add_repo        (CbAppState         *state,
                                           const char         *url,
                                           const char         *base,
                                           gboolean            builtin,
                                           GBytes             *root_envelope,
                                           const CbRepoRoot   *root,
                                           gint64              now,
                                           gint64             *id,
                                           GError            **error);
gboolean     cb_app_state_remove_repo     (CbAppState         *state,
                                           gint64              id,
                                           GError            **error);
/* Forgets what a repository's pins and seen versions were and pins root
 * afresh (the builtin repository follows the files installed with the app). */
gboolean     cb_app_state_repin_repo      (CbAppState         *state,
                                           gint64              id,
                                           GBytes             *root_envelope,
                                           const CbRepoRoot   *root,
                                           GError            **error);
/* Pinned roots, oldest first (CbRepoRoot*). */
GPtrArray   *cb_app_state_get_roots       (CbAppState         *state,
                                           gint64              id,
                                           GError            **error);
/* One transaction: the new roots (CbRepoRoot*, with their envelopes in
 * root_envelopes, in order), the index and the versions it lists. */
gboolean     cb_app_state_commit_refresh  (CbAppState         *state,
                                           gint64              id,
                                           GPtrArray          *new_roots,
                                           GPtrArray          *root_envelopes,
                                           GBytes             *index_envelope,
                                           const CbRepoIndex  *index,
                                           gint64              now,
                                           GError            **error);
gboolean     cb_app_state_set_repo_error  (CbAppState         *state,
                                           gint64              id,
                                           const char         *message);
/* The highest version of system for arch seen from the repository, or NULL. */
char        *cb_app_state_get_seen        (CbAppState         *state,
                                           gint64              id,
                                           const char         *system,
                                           const char         *arch);

GPtrArray   *cb_app_state_list_apps       (CbAppState         *state);   /* CbAppRecord* */
CbAppRecord *cb_app_state_get_app         (CbAppState         *state,
                                           const char         *system);
gboolean     cb_app_state_put_app         (CbAppState         *state,
                                           const CbAppRecord  *app,
                                           GError            **error);
gboolean     cb_app_state_delete_app      (CbAppState         *state,
                                           const char         *system,
                                           GError            **error);

/* Small settings ("builtin-added"). */
char        *cb_app_state_get_meta        (CbAppState         *state,
                                           const char         *key);
gboolean     cb_app_state_set_meta        (CbAppState         *state,
                                           const char         *key,
                                           const char         *value,
                                           GError            **error);

void         cb_app_repo_free             (CbAppRepo          *repo);
void         cb_app_record_free           (CbAppRecord        *app);
void         cb_app_files_clear           (CbAppFiles         *files);
void         cb_app_files_copy            (CbAppFiles         *to,
                                           const CbAppFiles   *from);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbAppRepo, cb_app_repo_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbAppRecord, cb_app_record_free)

G_END_DECLS
