/* cb-apps-repos.c: repositories: add (trust on first use), remove, refresh
 * (the TUF-lite client: root chain, index, rollback and key checks) */
#define G_LOG_DOMAIN "cb-apps"

#include "cb-apps-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cb-json-check.h"
#include "cb-repo-url.h"
#include "cb-version.h"

#ifndef CB_HOST_ARCH
#error "CB_HOST_ARCH must name the architecture plugins are built for"
#endif

/* Root versions one refresh follows; more is a repository gone wrong. */
#define MAX_ROTATIONS 64

/* ---- refreshing one repository ---- */

typedef struct {
  CbApps      *self;
  CbAppRepo   *repo;
  GPtrArray   *pinned;        /* CbRepoRoot*, oldest first; the last is trusted */
  CbRepoRoot  *trusted;       /* owned here */
  CbRepoRoot  *latest;        /* what root.json says */
  GBytes      *latest_bytes;
  GPtrArray   *new_roots;     /* CbRepoRoot* */
  GPtrArray   *new_envelopes; /* GBytes* */
  gboolean     repinned;
} Refresh;

static void
refresh_free (Refresh *r)
{
  cb_app_repo_free (r->repo);
  g_clear_pointer (&r->pinned, g_ptr_array_unref);
  cb_repo_root_free (r->trusted);
  cb_repo_root_free (r->latest);
  g_clear_pointer (&r->latest_bytes, g_bytes_unref);
  g_ptr_array_unref (r->new_roots);
  g_ptr_array_unref (r->new_envelopes);
  g_object_unref (r->self);
  g_free (r);
}

static void refresh_begin (GTask *task);

/* The builtin repository follows the files installed with the app: a new
 * build brings new keys and versions, which are trusted as the binary is. */
static gboolean
maybe_repin_builtin (GTask *task, const GError *error)
{
  Refresh *r = g_task_get_task_data (task);
  g_autoptr(GError) local_error = NULL;

  if (!r->repo->builtin || r->repinned || r->latest == NULL
      || error->domain != CB_REPO_ERROR
      || (error->code != CB_REPO_ERROR_KEY_CHANGED && error->code != CB_REPO_ERROR_ROLLBACK
          && error->code != CB_REPO_ERROR_MIX_AND_MATCH))
    return FALSE;
  g_info ("the app's own repository changed with the installed files (%s); trusting them",
          error->message);
  if (!cb_app_state_repin_repo (r->self->state, r->repo->id, r->latest_bytes, r->latest,
                                &local_error))
    return FALSE;
  r->repinned = TRUE;
  refresh_begin (task);
  return TRUE;
}

static void
refresh_fail (GTask *task, GError *error)
{
  Refresh *r = g_task_get_task_data (task);

  if (maybe_repin_builtin (task, error))
    {
      g_error_free (error);
      return;
    }
  g_prefix_error (&error, "%s: ", r->repo->url);
  cb_app_state_set_repo_error (r->self->state, r->repo->id, error->message);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
same_keys (const CbRepoRoot *a, const CbRepoRoot *b)
{
  g_autofree char *fa = cb_repo_root_fingerprint (a);
  g_autofree char *fb = cb_repo_root_fingerprint (b);

  return strcmp (fa, fb) == 0;
}

static void
on_index (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  Refresh *r = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) bytes = cb_repo_fetcher_get_finish (CB_REPO_FETCHER (source), result, &error);
  g_autoptr(GPtrArray) earlier = NULL;
  g_autoptr(CbRepoIndex) index = NULL;

  if (bytes == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  /* Keys any pinned root listed: signatures by them are "revoked". */
  earlier = g_ptr_array_new ();
  for (guint i = 0; i < r->pinned->len; i++)
    g_ptr_array_add (earlier, r->pinned->pdata[i]);
  for (guint i = 0; i + 1 < r->new_roots->len; i++)
    g_ptr_array_add (earlier, r->new_roots->pdata[i]);
  index = cb_repo_verify_index (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                r->trusted, earlier, r->repinned ? 0 : r->repo->index_version,
                                _cb_apps_now_unix (), &error);
  if (index == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  /* The same version must be the same document. */
  if (!r->repinned && index->version == r->repo->index_version && r->repo->index != NULL)
    {
      g_autoptr(CbRepoEnvelope) old = cb_repo_envelope_parse (g_bytes_get_data (r->repo->index, NULL),
                                                              g_bytes_get_size (r->repo->index),
                                                              CB_REPO_MAX_INDEX, NULL);
      g_autoptr(CbRepoEnvelope) now = cb_repo_envelope_parse (g_bytes_get_data (bytes, NULL),
                                                              g_bytes_get_size (bytes),
                                                              CB_REPO_MAX_INDEX, NULL);

      if (old != NULL && now != NULL && strcmp (old->signed_text, now->signed_text) != 0)
        {
          refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                                           "index version %" G_GUINT64_FORMAT " changed without "
                                           "a new version number", index->version));
          return;
        }
    }
  /* No package goes back to a version older than one seen before. */
  for (guint i = 0; !r->repinned && i < index->packages->len; i++)
    {
      const CbRepoPackage *package = index->packages->pdata[i];
      g_autofree char *seen = cb_app_state_get_seen (r->self->state, r->repo->id, package->system,
                                                     package->arch);

      if (seen != NULL && cb_version_compare (package->version, seen) < 0)
        {
          refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK,
                                           "index version %" G_GUINT64_FORMAT " offers %s %s, "
                                           "older than version %s seen before (a rollback)",
                                           index->version, package->system, package->version,
                                           seen));
          return;
        }
    }
  if (!cb_app_state_commit_refresh (r->self->state, r->repo->id, r->new_roots, r->new_envelopes,
                                    bytes, index, _cb_apps_now_unix (), &error))
    {
      refresh_fail (task, error);
      return;
    }
  g_debug ("%s: index version %" G_GUINT64_FORMAT ", %u packages", r->repo->url, index->version,
           index->packages->len);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
fetch_index (GTask *task)
{
  Refresh *r = g_task_get_task_data (task);
  g_autofree char *url = cb_repo_url_file (r->repo->base, "index.json");
  g_autoptr(GError) error = NULL;

  if (r->trusted->expires <= _cb_apps_now_unix ())
    {
      g_autofree char *when = cb_json_format_time (r->trusted->expires);

      refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_EXPIRED,
                                       "root version %" G_GUINT64_FORMAT " expired on %s; the "
                                       "publisher must renew it", r->trusted->version, when));
      return;
    }
  cb_repo_fetcher_get_async (r->self->fetcher, url, CB_REPO_MAX_INDEX,
                             g_task_get_cancellable (task), on_index, task);
}

static void fetch_next_root (GTask *task);

static void
on_next_root (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  Refresh *r = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) bytes = cb_repo_fetcher_get_finish (CB_REPO_FETCHER (source), result, &error);
  CbRepoRoot *next;

  if (bytes == NULL)
    {
      if (g_error_matches (error, CB_REPO_ERROR, CB_REPO_ERROR_NOT_FOUND))
        {
          g_autofree char *was = cb_repo_root_fingerprint (r->trusted);
          g_autofree char *now = cb_repo_root_fingerprint (r->latest);

          g_clear_error (&error);
          error = g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_KEY_CHANGED,
                               "updates are blocked: the publisher's key changed from %s to %s "
                               "without a rotation signed by the old key (root version %"
                               G_GUINT64_FORMAT " is missing). If you trust the new key, remove "
                               "the repository and add it again", was, now,
                               r->trusted->version + 1);
        }
      refresh_fail (task, error);
      return;
    }
  next = cb_repo_verify_root (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), r->trusted,
                              _cb_apps_now_unix (), FALSE, &error);
  if (next == NULL)
    {
      g_prefix_error (&error, "updates are blocked: ");
      refresh_fail (task, error);
      return;
    }
  g_ptr_array_add (r->new_envelopes, g_bytes_ref (bytes));
  g_ptr_array_add (r->new_roots, cb_repo_root_copy (next));
  cb_repo_root_free (r->trusted);
  r->trusted = next;
  fetch_next_root (task);
}

static void
fetch_next_root (GTask *task)
{
  Refresh *r = g_task_get_task_data (task);
  g_autofree char *name = NULL;
  g_autofree char *url = NULL;

  if (r->trusted->version >= r->latest->version)
    {
      if (!same_keys (r->trusted, r->latest))
        {
          refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_MIX_AND_MATCH,
                                           "root.json is not the root its rotations lead to"));
          return;
        }
      fetch_index (task);
      return;
    }
  if (r->new_roots->len >= MAX_ROTATIONS)
    {
      refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_TOO_LARGE,
                                       "more than %d root rotations at once", MAX_ROTATIONS));
      return;
    }
  name = g_strdup_printf ("%" G_GUINT64_FORMAT ".root.json", r->trusted->version + 1);
  url = cb_repo_url_file (r->repo->base, name);
  cb_repo_fetcher_get_async (r->self->fetcher, url, CB_REPO_MAX_ROOT,
                             g_task_get_cancellable (task), on_next_root, task);
}

static void
on_latest_root (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  Refresh *r = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) bytes = cb_repo_fetcher_get_finish (CB_REPO_FETCHER (source), result, &error);

  if (bytes == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  g_clear_pointer (&r->latest, cb_repo_root_free);
  r->latest = cb_repo_verify_root (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL,
                                   _cb_apps_now_unix (), FALSE, &error);
  if (r->latest == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  g_clear_pointer (&r->latest_bytes, g_bytes_unref);
  r->latest_bytes = g_bytes_ref (bytes);
  if (r->latest->version < r->trusted->version)
    {
      refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_ROLLBACK,
                                       "the repository serves root version %" G_GUINT64_FORMAT
                                       ", older than version %" G_GUINT64_FORMAT " pinned here",
                                       r->latest->version, r->trusted->version));
      return;
    }
  if (r->latest->version == r->trusted->version && !same_keys (r->latest, r->trusted))
    {
      g_autofree char *was = cb_repo_root_fingerprint (r->trusted);
      g_autofree char *now = cb_repo_root_fingerprint (r->latest);

      refresh_fail (task, g_error_new (CB_REPO_ERROR, CB_REPO_ERROR_KEY_CHANGED,
                                       "updates are blocked: the publisher's key changed from %s "
                                       "to %s without a rotation signed by the old key. If you "
                                       "trust the new key, remove the repository and add it "
                                       "again", was, now));
      return;
    }
  fetch_next_root (task);
}

static void
refresh_begin (GTask *task)
{
  Refresh *r = g_task_get_task_data (task);
  g_autofree char *url = NULL;
  GError *error = NULL;
  CbAppRepo *fresh = cb_app_state_get_repo_by_id (r->self->state, r->repo->id);

  if (fresh == NULL)
    {
      g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
                               "the repository %s was removed", r->repo->url);
      g_object_unref (task);
      return;
    }
  cb_app_repo_free (r->repo);
  r->repo = fresh;
  g_clear_pointer (&r->pinned, g_ptr_array_unref);
  g_clear_pointer (&r->trusted, cb_repo_root_free);
  g_ptr_array_set_size (r->new_roots, 0);
  g_ptr_array_set_size (r->new_envelopes, 0);
  r->pinned = cb_app_state_get_roots (r->self->state, r->repo->id, &error);
  if (r->pinned == NULL)
    {
      refresh_fail (task, error);
      return;
    }
  r->trusted = cb_repo_root_copy (g_ptr_array_index (r->pinned, r->pinned->len - 1));
  g_ptr_array_remove_index (r->pinned, r->pinned->len - 1);
  url = cb_repo_url_file (r->repo->base, "root.json");
  cb_repo_fetcher_get_async (r->self->fetcher, url, CB_REPO_MAX_ROOT,
                             g_task_get_cancellable (task), on_latest_root, task);
}

void
_cb_apps_refresh_repo_async (CbApps              *self,
                    gint64               repo_id,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Refresh *r = g_new0 (Refresh, 1);

  g_task_set_source_tag (task, _cb_apps_refresh_repo_async);
  r->self = g_object_ref (self);
  r->repo = g_new0 (CbAppRepo, 1);
  r->repo->id = repo_id;
  r->repo->url = g_strdup ("?");
  r->new_roots = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_repo_root_free);
  r->new_envelopes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_task_set_task_data (task, r, (GDestroyNotify) refresh_free);
  refresh_begin (task);
}

gboolean
_cb_apps_refresh_repo_finish (CbApps *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- adding, removing, refreshing repositories ---- */

typedef struct {
  char   *url;
  char   *base;
  gint64  id;
  gboolean builtin;
} AddOp;

static void
add_op_free (AddOp *op)
{
  g_free (op->url);
  g_free (op->base);
  g_free (op);
}

static JsonNode *
describe_repo (CbApps *self, gint64 id)
{
  g_autoptr(CbAppRepo) repo = cb_app_state_get_repo_by_id (self->state, id);
  g_autoptr(CbRepoIndex) index = repo != NULL ? _cb_apps_repo_index (repo) : NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  if (repo != NULL)
    {
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, repo->url);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, repo->name);
      json_builder_set_member_name (builder, "fingerprint");
      json_builder_add_string_value (builder, repo->fingerprint);
      json_builder_set_member_name (builder, "packages");
      json_builder_add_int_value (builder, index != NULL ? index->packages->len : 0);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
on_added_refreshed (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  CbApps *self = g_task_get_source_object (task);
  AddOp *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!_cb_apps_refresh_repo_finish (self, result, &error))
    {
      /* A repository whose index does not verify is not added. */
      cb_app_state_remove_repo (self->state, op->id, NULL);
      g_task_return_error (task, error);
    }
  else
    {
      _cb_apps_emit_changed (self);
      g_task_return_pointer (task, describe_repo (self, op->id), (GDestroyNotify) json_node_unref);
    }
  g_object_unref (task);
}

static void
on_first_root (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  CbApps *self = g_task_get_source_object (task);
  AddOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) bytes = cb_repo_fetcher_get_finish (CB_REPO_FETCHER (source), result, &error);
  g_autoptr(CbRepoRoot) root = NULL;

  if (bytes != NULL)
    root = cb_repo_verify_root (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL,
                                _cb_apps_now_unix (), TRUE, &error);
  /* Trust on first use: this root's keys are pinned from now on. */
  if (root == NULL
      || !cb_app_state_add_repo (self->state, op->url, op->base, op->builtin, bytes, root,
                                 _cb_apps_now_unix (), &op->id, &error))
    {
      if (error->domain == CB_REPO_ERROR && error->code == CB_REPO_ERROR_NOT_FOUND)
        g_prefix_error (&error, "%s is not a Cloud Bevy repository (no root.json): ", op->url);
      else
        g_prefix_error (&error, "%s: ", op->url);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  _cb_apps_refresh_repo_async (self, op->id, g_task_get_cancellable (task), on_added_refreshed, task);
}

void
_cb_apps_add_repository (CbApps              *self,
                const char          *address,
                gboolean             builtin,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  AddOp *op = g_new0 (AddOp, 1);
  g_autoptr(CbAppRepo) existing = NULL;
  g_autofree char *root_url = NULL;
  GError *error = NULL;

  g_task_set_source_tag (task, cb_apps_add_repository_async);
  g_task_set_task_data (task, op, (GDestroyNotify) add_op_free);
  op->builtin = builtin;
  op->url = cb_repo_url_normalize (address, &error);
  if (op->url == NULL || (op->base = cb_repo_url_resolve (address, &error)) == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  existing = cb_app_state_get_repo (self->state, op->url);
  if (existing != NULL)
    {
      g_task_return_new_error (task, CB_APPS_ERROR, CB_APPS_ERROR_EXISTS,
                               "the repository %s is added already (publisher %s)", op->url,
                               existing->fingerprint);
      g_object_unref (task);
      return;
    }
  root_url = cb_repo_url_file (op->base, "root.json");
  cb_repo_fetcher_get_async (self->fetcher, root_url, CB_REPO_MAX_ROOT, cancellable,
                             on_first_root, task);
}

void
cb_apps_add_repository_async (CbApps              *self,
                              const char          *address,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  _cb_apps_add_repository (self, address, FALSE, cancellable, callback, user_data);
}

JsonNode *
cb_apps_add_repository_finish (CbApps        *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static CbAppRepo *
find_repo (CbApps *self, const char *address, GError **error)
{
  g_autofree char *url = cb_repo_url_normalize (address, error);
  CbAppRepo *repo;

  if (url == NULL)
    return NULL;
  repo = cb_app_state_get_repo (self->state, url);
  if (repo == NULL)
    g_set_error (error, CB_APPS_ERROR, CB_APPS_ERROR_NOT_FOUND,
                 "no repository %s is added here", url);
  return repo;
}

gboolean
cb_apps_remove_repository (CbApps      *self,
                           const char  *address,
                           GError     **error)
{
  g_autoptr(CbAppRepo) repo = find_repo (self, address, error);

  if (repo == NULL || !cb_app_state_remove_repo (self->state, repo->id, error))
    return FALSE;
  _cb_apps_emit_changed (self);
  return TRUE;
}

typedef struct {
  guint   pending;
  guint   failed;
  guint   total;
  GError *first_error;
} RefreshAll;

static void
refresh_all_free (RefreshAll *all)
{
  g_clear_error (&all->first_error);
  g_free (all);
}

static void
on_one_refreshed (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  CbApps *self = CB_APPS (source);
  RefreshAll *all = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!_cb_apps_refresh_repo_finish (self, result, &error))
    {
      /* Recorded with the repository: the catalog shows it. */
      g_info ("%s", error->message);
      all->failed++;
      if (all->first_error == NULL)
        all->first_error = g_steal_pointer (&error);
    }
  if (--all->pending > 0)
    return;
  _cb_apps_emit_changed (self);
  if (all->failed > 0 && all->failed == all->total)
    g_task_return_error (task, g_steal_pointer (&all->first_error));
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

void
cb_apps_refresh_async (CbApps              *self,
                       const char          *address,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  RefreshAll *all = g_new0 (RefreshAll, 1);
  g_autoptr(GPtrArray) repos = NULL;
  GError *error = NULL;

  g_task_set_source_tag (task, cb_apps_refresh_async);
  g_task_set_task_data (task, all, (GDestroyNotify) refresh_all_free);
  if (address != NULL)
    {
      CbAppRepo *repo = find_repo (self, address, &error);

      if (repo == NULL)
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      repos = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_app_repo_free);
      g_ptr_array_add (repos, repo);
    }
  else
    repos = cb_app_state_list_repos (self->state);
  if (repos->len == 0)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  all->pending = all->total = repos->len;
  for (guint i = 0; i < repos->len; i++)
    _cb_apps_refresh_repo_async (self, ((CbAppRepo *) repos->pdata[i])->id, cancellable, on_one_refreshed,
                        task);
}

gboolean
cb_apps_refresh_finish (CbApps        *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
