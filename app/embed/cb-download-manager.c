/* cb-download-manager.c: where downloads go, and the list of them */
#define G_LOG_DOMAIN "cb-downloads"

#include "cb-config.h"
#include "cb-download-manager.h"
#include "cb-download-private.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

struct _CbDownloadManager {
  GObject parent_instance;
  WebKitNetworkSession *session;
  GSettings *settings;
  GListStore *downloads;
  GQueue retrying;        /* CbDownload* waiting for their new WebKitDownload */
  GHashTable *reserved;   /* destinations of running downloads */
};

G_DEFINE_FINAL_TYPE (CbDownloadManager, cb_download_manager, G_TYPE_OBJECT)

enum { SIGNAL_ADDED, N_SIGNALS };
static guint signals[N_SIGNALS];

char *
cb_download_safe_filename (const char *suggested)
{
  g_autofree char *name = NULL;
  const char *slash;
  GString *out;

  if (suggested == NULL)
    return g_strdup ("download");
  /* Only the last part of any path, with either separator. */
  slash = strrchr (suggested, '/');
  name = g_strdup (slash ? slash + 1 : suggested);
  slash = strrchr (name, '\\');
  if (slash != NULL)
    memmove (name, slash + 1, strlen (slash + 1) + 1);
  out = g_string_new (NULL);
  for (const char *p = name; *p; p++)
    g_string_append_c (out, (guchar) *p < 0x20 || *p == 0x7f ? '_' : *p);
  g_strstrip (out->str);
  out->len = strlen (out->str);
  /* No hidden files, no "." or "..", nothing empty. */
  while (out->len > 0 && out->str[0] == '.')
    g_string_erase (out, 0, 1);
  if (out->len == 0 || !g_utf8_validate (out->str, -1, NULL))
    {
      g_string_free (out, TRUE);
      return g_strdup ("download");
    }
  return g_string_free (out, FALSE);
}

char *
cb_download_unique_path (const char *dir,
                         const char *name,
                         GHashTable *reserved)
{
  const char *dot = strrchr (name, '.');
  g_autofree char *stem = NULL;
  const char *ext;
  char *path = g_build_filename (dir, name, NULL);

  /* "archive.tar.gz" keeps ".tar.gz" together. */
  if (dot != NULL && dot > name)
    {
      const char *tar = g_strrstr_len (name, dot - name, ".tar");
      if (tar != NULL && tar > name && tar + 4 == dot)
        dot = tar;
      stem = g_strndup (name, (gsize) (dot - name));
      ext = dot;
    }
  else
    {
      stem = g_strdup (name);
      ext = "";
    }
  for (guint n = 2; g_file_test (path, G_FILE_TEST_EXISTS) ||
                    (reserved != NULL && g_hash_table_contains (reserved, path)); n++)
    {
      g_autofree char *candidate = g_strdup_printf ("%s (%u)%s", stem, n, ext);
      g_free (path);
      path = g_build_filename (dir, candidate, NULL);
    }
  return path;
}

char *
cb_download_manager_get_folder (CbDownloadManager *self)
{
  g_autofree char *chosen = g_settings_get_string (self->settings, "download-dir");
  const char *xdg;

  if (chosen != NULL && *chosen != '\0')
    return g_steal_pointer (&chosen);
  xdg = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  /* Without a configured one, GLib answers $HOME, where files get lost. */
  if (xdg != NULL && g_strcmp0 (xdg, g_get_home_dir ()) != 0)
    return g_strdup (xdg);
  return g_build_filename (g_get_home_dir (), "Downloads", NULL);
}

static CbDownload *
find (CbDownloadManager *self,
      WebKitDownload    *download)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->downloads));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(CbDownload) item = g_list_model_get_item (G_LIST_MODEL (self->downloads), i);
      if (_cb_download_get_webkit (item) == download)
        return item;
    }
  return NULL;
}

static gboolean
on_decide_destination (WebKitDownload    *download,
                       const char        *suggested,
                       CbDownloadManager *self)
{
  CbDownload *item = find (self, download);
  g_autofree char *folder = cb_download_manager_get_folder (self);
  g_autofree char *name = cb_download_safe_filename (suggested);
  g_autofree char *path = NULL;

  if (item != NULL && cb_download_get_destination (item) != NULL &&
      g_object_get_data (G_OBJECT (download), "cb-retry") != NULL)
    {
      /* A retry writes over its own incomplete file. */
      path = g_strdup (cb_download_get_destination (item));
      webkit_download_set_allow_overwrite (download, TRUE);
    }
  else
    {
      if (g_mkdir_with_parents (folder, 0755) != 0)
        g_warning ("cannot create the download folder %s: %s", folder, g_strerror (errno));
      path = cb_download_unique_path (folder, name, self->reserved);
      webkit_download_set_allow_overwrite (download, FALSE);
    }
  g_hash_table_add (self->reserved, g_strdup (path));
  webkit_download_set_destination (download, path);
  if (item != NULL)
    _cb_download_set_destination (item, path);
  g_info ("downloading %s to %s", webkit_uri_request_get_uri (webkit_download_get_request (download)),
          path);
  return TRUE;
}

static void
on_download_done (WebKitDownload    *download,
                  CbDownloadManager *self)
{
  CbDownload *item = find (self, download);

  if (item != NULL && cb_download_get_destination (item) != NULL)
    g_hash_table_remove (self->reserved, cb_download_get_destination (item));
}

static void
on_download_started (WebKitNetworkSession *session,
                     WebKitDownload       *download,
                     CbDownloadManager    *self)
{
  const char *uri = webkit_uri_request_get_uri (webkit_download_get_request (download));
  CbDownload *item = NULL;

  for (GList *l = self->retrying.head; l != NULL; l = l->next)
    if (g_strcmp0 (cb_download_get_uri (l->data), uri) == 0)
      {
        item = l->data;
        g_queue_delete_link (&self->retrying, l);
        break;
      }

  g_signal_connect_object (download, "decide-destination", G_CALLBACK (on_decide_destination),
                           self, 0);
  g_signal_connect_object (download, "finished", G_CALLBACK (on_download_done), self,
                           G_CONNECT_AFTER);
  if (item != NULL)
    {
      g_object_set_data (G_OBJECT (download), "cb-retry", GINT_TO_POINTER (TRUE));
      _cb_download_attach (item, download);
      g_object_unref (item);
      return;
    }
  item = _cb_download_new (download);
  g_list_store_insert (self->downloads, 0, item);
  g_signal_emit (self, signals[SIGNAL_ADDED], 0, item);
  g_object_unref (item);
}

void
cb_download_manager_retry (CbDownloadManager *self,
                           CbDownload        *download)
{
  g_autoptr(WebKitDownload) started = NULL;
  CbDownloadState state = cb_download_get_state (download);

  g_return_if_fail (CB_IS_DOWNLOAD_MANAGER (self));
  if (state != CB_DOWNLOAD_FAILED && state != CB_DOWNLOAD_CANCELLED)
    return;
  g_queue_push_tail (&self->retrying, g_object_ref (download));
  started = webkit_network_session_download_uri (self->session, cb_download_get_uri (download));
}

void
cb_download_manager_clear (CbDownloadManager *self)
{
  for (guint i = g_list_model_get_n_items (G_LIST_MODEL (self->downloads)); i > 0; i--)
    {
      g_autoptr(CbDownload) item = g_list_model_get_item (G_LIST_MODEL (self->downloads), i - 1);
      if (cb_download_get_state (item) != CB_DOWNLOAD_RUNNING)
        g_list_store_remove (self->downloads, i - 1);
    }
}

guint
cb_download_manager_count_running (CbDownloadManager *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->downloads)), running = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(CbDownload) item = g_list_model_get_item (G_LIST_MODEL (self->downloads), i);
      running += cb_download_get_state (item) == CB_DOWNLOAD_RUNNING;
    }
  return running;
}

GListModel *
cb_download_manager_get_model (CbDownloadManager *self)
{
  return G_LIST_MODEL (self->downloads);
}

static void
cb_download_manager_dispose (GObject *object)
{
  CbDownloadManager *self = CB_DOWNLOAD_MANAGER (object);

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  g_clear_object (&self->settings);
  g_clear_object (&self->downloads);
  g_queue_clear_full (&self->retrying, g_object_unref);
  g_clear_pointer (&self->reserved, g_hash_table_unref);
  G_OBJECT_CLASS (cb_download_manager_parent_class)->dispose (object);
}

static void
cb_download_manager_class_init (CbDownloadManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_download_manager_dispose;

  signals[SIGNAL_ADDED] = g_signal_new ("download-added", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                        CB_TYPE_DOWNLOAD);
}

static void
cb_download_manager_init (CbDownloadManager *self)
{
  self->downloads = g_list_store_new (CB_TYPE_DOWNLOAD);
  self->reserved = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->settings = g_settings_new (CB_SCHEMA_ID);
}

CbDownloadManager *
cb_download_manager_new (WebKitNetworkSession *session)
{
  CbDownloadManager *self = g_object_new (CB_TYPE_DOWNLOAD_MANAGER, NULL);

  self->session = g_object_ref (session);
  g_signal_connect (session, "download-started", G_CALLBACK (on_download_started), self);
  return self;
}
