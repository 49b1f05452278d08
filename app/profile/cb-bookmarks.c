/* cb-bookmarks.c: bookmarks in memory, saved through a worker thread */
#define G_LOG_DOMAIN "cb-bookmarks"

#include "cb-bookmarks.h"
#include "cb-bookmark-private.h"
#include "cb-bookmarks-html.h"

#include <string.h>

struct _CbBookmarks {
  GObject parent_instance;
  CbProfileDb *db;
  GHashTable *items;      /* guid -> CbBookmark */
  gboolean loaded;
  /* Until the saved items are in: what this session changed already wins
   * over what the file says. */
  GHashTable *removed_before_load;  /* guid set */
};

G_DEFINE_FINAL_TYPE (CbBookmarks, cb_bookmarks, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_SAVE_FAILED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char * const migrations[] = {
  /* 1 */
  "CREATE TABLE items ("
  "  guid TEXT PRIMARY KEY,"
  "  parent TEXT,"
  "  kind INTEGER NOT NULL,"          /* 0 bookmark, 1 folder */
  "  url TEXT,"
  "  title TEXT NOT NULL DEFAULT '',"
  "  tags TEXT NOT NULL DEFAULT '',"  /* comma-separated */
  "  position INTEGER NOT NULL DEFAULT 0,"
  "  added INTEGER NOT NULL,"
  "  modified INTEGER NOT NULL);"
  "CREATE INDEX items_parent ON items (parent, position)",
};

static const char * const salvage_tables[] = { "items", NULL };

static const CbProfileDbSchema bookmarks_schema = {
  .name = "bookmarks",
  .migrations = migrations,
  .n_migrations = G_N_ELEMENTS (migrations),
  .salvage_tables = salvage_tables,
};

/* --- jobs --- */

typedef struct {
  char *guid;
  gboolean is_folder;
  char *url;
  char *title;
  char *parent;
  char *tags;
  gint64 added;
  gint64 modified;
  int position;
} SaveJob;

static void
save_job_free (gpointer data)
{
  SaveJob *job = data;

  g_free (job->guid);
  g_free (job->url);
  g_free (job->title);
  g_free (job->parent);
  g_free (job->tags);
  g_free (job);
}

static gpointer
save_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  SaveJob *job = data;
  sqlite3_stmt *stmt = cb_profile_db_prepare_cached (db,
    "INSERT OR REPLACE INTO items (guid, parent, kind, url, title, tags, position, added, "
    "modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, job->guid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, job->parent, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, job->is_folder ? 1 : 0);
  sqlite3_bind_text (stmt, 4, job->url, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, job->title, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, job->tags, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 7, job->position);
  sqlite3_bind_int64 (stmt, 8, job->added);
  sqlite3_bind_int64 (stmt, 9, job->modified);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, "cannot save a bookmark");
      sqlite3_reset (stmt);
      return NULL;
    }
  sqlite3_reset (stmt);
  return GINT_TO_POINTER (1);
}

static gpointer
delete_job (sqlite3  *db,
            gpointer  data,
            GError  **error)
{
  char **guids = data;
  sqlite3_stmt *stmt = cb_profile_db_prepare_cached (db, "DELETE FROM items WHERE guid = ?",
                                                     error);

  if (stmt == NULL)
    return NULL;
  for (guint i = 0; guids[i] != NULL; i++)
    {
      sqlite3_bind_text (stmt, 1, guids[i], -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          cb_profile_db_set_error (error, db, "cannot delete a bookmark");
          sqlite3_reset (stmt);
          return NULL;
        }
      sqlite3_reset (stmt);
    }
  return GINT_TO_POINTER (1);
}

static gpointer
noop_job (sqlite3 *db, gpointer data, GError **error)
{
  return GINT_TO_POINTER (1);
}

static void
free_items (gpointer data)
{
  g_ptr_array_unref (data);
}

static gpointer
load_job (sqlite3  *db,
          gpointer  data,
          GError  **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  sqlite3_stmt *stmt = cb_profile_db_prepare_cached (db,
    "SELECT guid, kind, url, title, parent, tags, added, modified, position FROM items", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_auto(GStrv) tags = _cb_bookmark_split_tags ((const char *) sqlite3_column_text (stmt, 5));

      g_ptr_array_add (items, _cb_bookmark_new ((const char *) sqlite3_column_text (stmt, 0),
                                                sqlite3_column_int (stmt, 1) == 1,
                                                (const char *) sqlite3_column_text (stmt, 2),
                                                (const char *) sqlite3_column_text (stmt, 3),
                                                (const char *) sqlite3_column_text (stmt, 4),
                                                (const char * const *) tags,
                                                sqlite3_column_int64 (stmt, 6),
                                                sqlite3_column_int64 (stmt, 7),
                                                sqlite3_column_int (stmt, 8)));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      cb_profile_db_set_error (error, db, "cannot read the bookmarks");
      return NULL;
    }
  return g_steal_pointer (&items);
}

/* --- saving --- */

static void
emit_changed (CbBookmarks *self)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
saved (GObject      *source,
       GAsyncResult *result,
       gpointer      user_data)
{
  g_autoptr(CbBookmarks) self = user_data;
  g_autoptr(GError) error = NULL;

  if (cb_profile_db_run_finish (CB_PROFILE_DB (source), result, &error) == NULL)
    {
      g_autofree char *message = g_strdup_printf ("Bookmarks could not be saved: %s",
                                                  error->message);
      g_warning ("%s", message);
      g_signal_emit (self, signals[SIGNAL_SAVE_FAILED], 0, message);
    }
}

static void
save (CbBookmarks *self,
      CbBookmark  *item)
{
  SaveJob *job = g_new0 (SaveJob, 1);

  job->guid = g_strdup (item->guid);
  job->is_folder = item->is_folder;
  job->url = g_strdup (item->url);
  job->title = g_strdup (item->title);
  job->parent = g_strdup (item->parent);
  job->tags = _cb_bookmark_join_tags ((const char * const *) item->tags);
  job->added = item->added;
  job->modified = item->modified;
  job->position = item->position;
  cb_profile_db_run_async (self->db, TRUE, save_job, job, save_job_free, NULL, NULL, saved,
                           g_object_ref (self));
}

/* --- tree helpers --- */

static gboolean
parent_exists (CbBookmarks *self,
               CbBookmark  *item)
{
  CbBookmark *parent;

  if (item->parent == NULL)
    return FALSE;
  parent = g_hash_table_lookup (self->items, item->parent);
  return parent != NULL && parent->is_folder;
}

/* Items whose folder is gone show at the top level. */
static gboolean
in_folder (CbBookmarks *self,
           CbBookmark  *item,
           const char  *parent)
{
  if (parent == NULL)
    return item->parent == NULL || !parent_exists (self, item);
  return g_strcmp0 (item->parent, parent) == 0;
}

static int
next_position (CbBookmarks *self,
               const char  *parent)
{
  GHashTableIter iter;
  gpointer value;
  int max = -1;

  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (in_folder (self, value, parent))
      max = MAX (max, CB_BOOKMARK (value)->position);
  return max + 1;
}

static const char *
valid_parent (CbBookmarks *self,
              const char  *parent)
{
  CbBookmark *folder = parent ? g_hash_table_lookup (self->items, parent) : NULL;

  return folder != NULL && folder->is_folder ? parent : NULL;
}

static CbBookmark *
add_item (CbBookmarks        *self,
          gboolean            is_folder,
          const char         *url,
          const char         *title,
          const char         *parent,
          const char * const *tags,
          gint64              added)
{
  g_autofree char *guid = g_uuid_string_random ();
  gint64 now = g_get_real_time ();
  CbBookmark *item;

  parent = valid_parent (self, parent);
  item = _cb_bookmark_new (guid, is_folder, url, title, parent, tags, added > 0 ? added : now,
                           now, next_position (self, parent));
  g_hash_table_insert (self->items, g_strdup (guid), item);
  save (self, item);
  return item;
}

/* --- public --- */

CbBookmark *
cb_bookmarks_add (CbBookmarks        *self,
                  const char         *url,
                  const char         *title,
                  const char         *parent,
                  const char * const *tags)
{
  CbBookmark *item;

  g_return_val_if_fail (CB_IS_BOOKMARKS (self), NULL);
  g_return_val_if_fail (url != NULL, NULL);
  item = add_item (self, FALSE, url, title && *title ? title : url, parent, tags, 0);
  emit_changed (self);
  return item;
}

CbBookmark *
cb_bookmarks_add_folder (CbBookmarks *self,
                         const char  *title,
                         const char  *parent)
{
  CbBookmark *item;

  g_return_val_if_fail (CB_IS_BOOKMARKS (self), NULL);
  item = add_item (self, TRUE, NULL, title, parent, NULL, 0);
  emit_changed (self);
  return item;
}

void
cb_bookmarks_update (CbBookmarks        *self,
                     CbBookmark         *bookmark,
                     const char         *url,
                     const char         *title,
                     const char * const *tags)
{
  g_return_if_fail (CB_IS_BOOKMARKS (self));
  g_return_if_fail (g_hash_table_lookup (self->items, bookmark->guid) == bookmark);
  _cb_bookmark_set (bookmark, url ? url : bookmark->url, title ? title : bookmark->title,
                    bookmark->parent,
                    tags ? tags : (const char * const *) bookmark->tags, bookmark->position);
  save (self, bookmark);
  emit_changed (self);
}

static gboolean
is_inside (CbBookmarks *self,
           const char  *guid,
           const char  *ancestor)
{
  /* Depth is bounded by the number of items: a cycle cannot exist. */
  for (guint steps = 0; guid != NULL && steps <= g_hash_table_size (self->items); steps++)
    {
      CbBookmark *item;

      if (g_strcmp0 (guid, ancestor) == 0)
        return TRUE;
      item = g_hash_table_lookup (self->items, guid);
      guid = item ? item->parent : NULL;
    }
  return FALSE;
}

gboolean
cb_bookmarks_move (CbBookmarks  *self,
                   CbBookmark   *bookmark,
                   const char   *parent,
                   GError      **error)
{
  g_return_val_if_fail (CB_IS_BOOKMARKS (self), FALSE);
  parent = valid_parent (self, parent);
  if (parent != NULL && is_inside (self, parent, bookmark->guid))
    {
      g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID,
                   "The folder “%s” cannot be moved into itself", bookmark->title);
      return FALSE;
    }
  if (g_strcmp0 (parent, bookmark->parent) == 0)
    return TRUE;
  _cb_bookmark_set (bookmark, bookmark->url, bookmark->title, parent,
                    (const char * const *) bookmark->tags, next_position (self, parent));
  save (self, bookmark);
  emit_changed (self);
  return TRUE;
}

static void
collect_subtree (CbBookmarks *self,
                 CbBookmark  *root,
                 GPtrArray   *out)
{
  GHashTableIter iter;
  gpointer value;

  g_ptr_array_add (out, g_strdup (root->guid));
  if (!root->is_folder)
    return;
  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_strcmp0 (CB_BOOKMARK (value)->parent, root->guid) == 0)
      collect_subtree (self, value, out);
}

void
cb_bookmarks_remove (CbBookmarks *self,
                     CbBookmark  *bookmark)
{
  g_autoptr(GPtrArray) guids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(CbBookmark) keep = g_object_ref (bookmark);

  g_return_if_fail (CB_IS_BOOKMARKS (self));
  if (g_hash_table_lookup (self->items, bookmark->guid) != bookmark)
    return;
  collect_subtree (self, bookmark, guids);
  for (guint i = 0; i < guids->len; i++)
    {
      if (!self->loaded)
        g_hash_table_add (self->removed_before_load, g_strdup (guids->pdata[i]));
      g_hash_table_remove (self->items, guids->pdata[i]);
    }
  g_ptr_array_add (guids, NULL);
  cb_profile_db_run_async (self->db, TRUE, delete_job, g_ptr_array_steal (guids, NULL),
                           (GDestroyNotify) g_strfreev, NULL, NULL, saved, g_object_ref (self));
  emit_changed (self);
}

CbBookmark *
cb_bookmarks_get (CbBookmarks *self,
                  const char  *guid)
{
  g_return_val_if_fail (CB_IS_BOOKMARKS (self), NULL);
  return guid ? g_hash_table_lookup (self->items, guid) : NULL;
}

CbBookmark *
cb_bookmarks_lookup_url (CbBookmarks *self,
                         const char  *url)
{
  GHashTableIter iter;
  gpointer value;
  CbBookmark *first = NULL;

  g_return_val_if_fail (CB_IS_BOOKMARKS (self), NULL);
  if (url == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      CbBookmark *item = value;

      if (!item->is_folder && g_str_equal (item->url, url) &&
          (first == NULL || item->added < first->added))
        first = item;
    }
  return first;
}

static int
compare_in_folder (gconstpointer a,
                   gconstpointer b)
{
  CbBookmark *x = *(CbBookmark **) a, *y = *(CbBookmark **) b;

  if (x->is_folder != y->is_folder)
    return x->is_folder ? -1 : 1;
  if (x->position != y->position)
    return x->position < y->position ? -1 : 1;
  return g_strcmp0 (x->guid, y->guid);
}

GPtrArray *
cb_bookmarks_list (CbBookmarks *self,
                   const char  *parent)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (CB_IS_BOOKMARKS (self), out);
  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (in_folder (self, value, parent))
      g_ptr_array_add (out, g_object_ref (value));
  g_ptr_array_sort (out, compare_in_folder);
  return out;
}

static void
list_folders_under (CbBookmarks *self,
                    const char  *parent,
                    GPtrArray   *out)
{
  g_autoptr(GPtrArray) children = cb_bookmarks_list (self, parent);

  for (guint i = 0; i < children->len; i++)
    {
      CbBookmark *item = children->pdata[i];

      if (!item->is_folder)
        continue;
      g_ptr_array_add (out, g_object_ref (item));
      list_folders_under (self, item->guid, out);
    }
}

GPtrArray *
cb_bookmarks_list_folders (CbBookmarks *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);

  list_folders_under (self, NULL, out);
  return out;
}

static int
compare_by_title (gconstpointer a,
                  gconstpointer b)
{
  CbBookmark *x = *(CbBookmark **) a, *y = *(CbBookmark **) b;
  int order = g_utf8_collate (x->title, y->title);

  return order != 0 ? order : g_strcmp0 (x->url, y->url);
}

GPtrArray *
cb_bookmarks_search (CbBookmarks *self,
                     const char  *text,
                     const char  *tag)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *lower = g_utf8_strdown (text ? text : "", -1);
  g_auto(GStrv) words = g_strsplit_set (g_strstrip (lower), " \t", -1);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (CB_IS_BOOKMARKS (self), out);
  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      CbBookmark *item = value;
      CbBookmark *folder;
      g_autofree char *tags = NULL;
      g_autofree char *haystack = NULL;
      gboolean all = TRUE;

      if (item->is_folder || (tag != NULL && !cb_bookmark_has_tag (item, tag)))
        continue;
      folder = item->parent ? g_hash_table_lookup (self->items, item->parent) : NULL;
      tags = g_strjoinv (" ", item->tags);
      {
        g_autofree char *joined = g_strjoin (" ", item->title, item->url, tags,
                                             folder ? folder->title : "", NULL);
        haystack = g_utf8_strdown (joined, -1);
      }
      for (guint i = 0; words[i] != NULL && all; i++)
        if (*words[i] != '\0' && strstr (haystack, words[i]) == NULL)
          all = FALSE;
      if (all)
        g_ptr_array_add (out, g_object_ref (item));
    }
  g_ptr_array_sort (out, compare_by_title);
  return out;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_utf8_collate (*(const char **) a, *(const char **) b);
}

GStrv
cb_bookmarks_list_tags (CbBookmarks *self)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) tags = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    for (char **t = CB_BOOKMARK (value)->tags; *t != NULL; t++)
      if (g_hash_table_add (seen, *t))
        g_ptr_array_add (tags, *t);
  g_ptr_array_sort (tags, compare_strings);
  g_ptr_array_add (tags, NULL);
  return g_strdupv ((char **) tags->pdata);
}

guint
cb_bookmarks_count (CbBookmarks *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += !CB_BOOKMARK (value)->is_folder;
  return n;
}

/* --- import and export --- */

static CbBookmark *
find_child_folder (CbBookmarks *self,
                   const char  *parent,
                   const char  *title)
{
  g_autoptr(GPtrArray) children = cb_bookmarks_list (self, parent);

  for (guint i = 0; i < children->len; i++)
    {
      CbBookmark *item = children->pdata[i];
      if (item->is_folder && g_strcmp0 (item->title, title) == 0)
        return item;
    }
  return NULL;
}

static gboolean
has_url_in (CbBookmarks *self,
            const char  *parent,
            const char  *url)
{
  g_autoptr(GPtrArray) children = cb_bookmarks_list (self, parent);

  for (guint i = 0; i < children->len; i++)
    {
      CbBookmark *item = children->pdata[i];
      if (!item->is_folder && g_strcmp0 (item->url, url) == 0)
        return TRUE;
    }
  return FALSE;
}

static guint
import_items (CbBookmarks               *self,
              const CbBookmarksHtmlItem *folder,
              const char                *parent)
{
  guint added = 0;

  for (guint i = 0; i < folder->children->len; i++)
    {
      const CbBookmarksHtmlItem *item = folder->children->pdata[i];

      if (item->is_folder)
        {
          CbBookmark *target = find_child_folder (self, parent, item->title);

          if (target == NULL)
            target = add_item (self, TRUE, NULL, item->title, parent, NULL, item->added);
          added += import_items (self, item, target->guid);
        }
      else if (!has_url_in (self, parent, item->url))
        {
          g_auto(GStrv) tags = _cb_bookmark_split_tags (item->tags);

          add_item (self, FALSE, item->url, *item->title ? item->title : item->url, parent,
                    (const char * const *) tags, item->added);
          added++;
        }
    }
  return added;
}

guint
cb_bookmarks_import_html (CbBookmarks  *self,
                          const char   *data,
                          gsize         len,
                          guint        *skipped,
                          GError      **error)
{
  g_autoptr(CbBookmarksHtmlItem) root = NULL;
  guint added;

  g_return_val_if_fail (CB_IS_BOOKMARKS (self), 0);
  root = cb_bookmarks_html_parse (data, len, skipped, error);
  if (root == NULL)
    return 0;
  added = import_items (self, root, NULL);
  emit_changed (self);
  return added;
}

static void
export_folder (CbBookmarks         *self,
               const char          *parent,
               CbBookmarksHtmlItem *into)
{
  g_autoptr(GPtrArray) children = cb_bookmarks_list (self, parent);

  for (guint i = 0; i < children->len; i++)
    {
      CbBookmark *item = children->pdata[i];
      CbBookmarksHtmlItem *out;

      if (item->is_folder)
        {
          out = cb_bookmarks_html_item_new_folder (item->title);
          out->added = item->added;
          export_folder (self, item->guid, out);
        }
      else
        {
          g_autofree char *tags = _cb_bookmark_join_tags ((const char * const *) item->tags);
          out = cb_bookmarks_html_item_new (item->title, item->url, tags, item->added);
        }
      g_ptr_array_add (into->children, out);
    }
}

char *
cb_bookmarks_export_html (CbBookmarks *self)
{
  g_autoptr(CbBookmarksHtmlItem) root = cb_bookmarks_html_item_new_folder (NULL);

  g_return_val_if_fail (CB_IS_BOOKMARKS (self), NULL);
  export_folder (self, NULL, root);
  return cb_bookmarks_html_write (root);
}

/* --- loading, flushing --- */

static void
loaded (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(CbBookmarks) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = cb_profile_db_run_finish (CB_PROFILE_DB (source), result, &error);

  if (items == NULL)
    {
      g_autofree char *message = g_strdup_printf ("Saved bookmarks could not be read: %s",
                                                  error->message);
      g_warning ("%s", message);
      g_signal_emit (self, signals[SIGNAL_SAVE_FAILED], 0, message);
    }
  for (guint i = 0; items != NULL && i < items->len; i++)
    {
      CbBookmark *item = items->pdata[i];

      if (g_hash_table_contains (self->items, item->guid) ||
          g_hash_table_contains (self->removed_before_load, item->guid))
        continue;
      g_hash_table_insert (self->items, g_strdup (item->guid), g_object_ref (item));
    }
  self->loaded = TRUE;
  g_hash_table_remove_all (self->removed_before_load);
  emit_changed (self);
}

static void
flushed (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (cb_profile_db_run_finish (CB_PROFILE_DB (source), result, &error) == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
cb_bookmarks_flush_async (CbBookmarks         *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (CB_IS_BOOKMARKS (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, cb_bookmarks_flush_async);
  /* Writes run in order: an empty write completes after all before it. */
  cb_profile_db_run_async (self->db, TRUE, noop_job, NULL, NULL, NULL, NULL, flushed, task);
}

gboolean
cb_bookmarks_flush_finish (CbBookmarks   *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
cb_bookmarks_dispose (GObject *object)
{
  CbBookmarks *self = CB_BOOKMARKS (object);

  g_clear_object (&self->db);
  g_clear_pointer (&self->items, g_hash_table_unref);
  g_clear_pointer (&self->removed_before_load, g_hash_table_unref);
  G_OBJECT_CLASS (cb_bookmarks_parent_class)->dispose (object);
}

static void
cb_bookmarks_class_init (CbBookmarksClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_bookmarks_dispose;

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* A change could not be written; the argument says why, for a person. */
  signals[SIGNAL_SAVE_FAILED] = g_signal_new ("save-failed", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
cb_bookmarks_init (CbBookmarks *self)
{
  self->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->removed_before_load = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

CbBookmarks *
cb_bookmarks_new (const char *path)
{
  CbBookmarks *self = g_object_new (CB_TYPE_BOOKMARKS, NULL);

  self->db = cb_profile_db_new (path, &bookmarks_schema);
  cb_profile_db_run_async (self->db, FALSE, load_job, NULL, NULL, free_items, NULL, loaded,
                           g_object_ref (self));
  return self;
}

CbProfileDb *
cb_bookmarks_get_db (CbBookmarks *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARKS (self), NULL);
  return self->db;
}

gboolean
cb_bookmarks_is_loaded (CbBookmarks *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARKS (self), FALSE);
  return self->loaded;
}
