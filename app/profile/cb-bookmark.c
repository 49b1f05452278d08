/* cb-bookmark.c: a bookmark or a folder */
#define G_LOG_DOMAIN "cb-bookmarks"

#include "cb-bookmark-private.h"

G_DEFINE_FINAL_TYPE (CbBookmark, cb_bookmark, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TITLE,
  PROP_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
cb_bookmark_finalize (GObject *object)
{
  CbBookmark *self = CB_BOOKMARK (object);

  g_free (self->guid);
  g_free (self->url);
  g_free (self->title);
  g_free (self->parent);
  g_strfreev (self->tags);
  G_OBJECT_CLASS (cb_bookmark_parent_class)->finalize (object);
}

static void
cb_bookmark_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  CbBookmark *self = CB_BOOKMARK (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cb_bookmark_class_init (CbBookmarkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cb_bookmark_finalize;
  object_class->get_property = cb_bookmark_get_property;

  /* Read-only for list widgets to bind to; CbBookmarks changes them. */
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL,
                                                G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                G_PARAM_STATIC_STRINGS);
  properties[PROP_URL] = g_param_spec_string ("url", NULL, NULL, NULL,
                                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                              G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cb_bookmark_init (CbBookmark *self)
{
}

char **
_cb_bookmark_split_tags (const char *text)
{
  g_auto(GStrv) parts = g_strsplit (text ? text : "", ",", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *tag = g_strstrip (parts[i]);
      gboolean dup = FALSE;

      if (*tag == '\0' || !g_utf8_validate (tag, -1, NULL))
        continue;
      for (guint j = 0; j < seen->len && !dup; j++)
        dup = g_utf8_collate (seen->pdata[j], tag) == 0;
      if (dup)
        continue;
      g_ptr_array_add (seen, g_strdup (tag));
      g_strv_builder_add (builder, tag);
    }
  return g_strv_builder_end (builder);
}

char *
_cb_bookmark_join_tags (const char * const *tags)
{
  return g_strjoinv (",", (char **) (tags ? tags : (const char * const[]) { NULL }));
}

static char **
copy_tags (const char * const *tags)
{
  g_autofree char *joined = _cb_bookmark_join_tags (tags);

  /* Normalised the same way as tags read back from the database. */
  return _cb_bookmark_split_tags (joined);
}

CbBookmark *
_cb_bookmark_new (const char         *guid,
                  gboolean            is_folder,
                  const char         *url,
                  const char         *title,
                  const char         *parent,
                  const char * const *tags,
                  gint64              added,
                  gint64              modified,
                  int                 position)
{
  CbBookmark *self = g_object_new (CB_TYPE_BOOKMARK, NULL);

  self->guid = g_strdup (guid);
  self->is_folder = is_folder;
  self->url = is_folder ? NULL : g_strdup (url ? url : "");
  self->title = g_strdup (title ? title : "");
  self->parent = parent && *parent ? g_strdup (parent) : NULL;
  self->tags = copy_tags (tags);
  self->added = added;
  self->modified = modified;
  self->position = position;
  return self;
}

void
_cb_bookmark_set (CbBookmark         *self,
                  const char         *url,
                  const char         *title,
                  const char         *parent,
                  const char * const *tags,
                  int                 position)
{
  gboolean url_changed = !self->is_folder && g_strcmp0 (self->url, url) != 0;
  gboolean title_changed = g_strcmp0 (self->title, title) != 0;

  if (url_changed)
    {
      g_free (self->url);
      self->url = g_strdup (url ? url : "");
    }
  if (title_changed)
    {
      g_free (self->title);
      self->title = g_strdup (title ? title : "");
    }
  if (g_strcmp0 (self->parent, parent) != 0)
    {
      g_free (self->parent);
      self->parent = parent && *parent ? g_strdup (parent) : NULL;
    }
  if ((const char * const *) self->tags != tags)
    {
      char **copy = copy_tags (tags);
      g_strfreev (self->tags);
      self->tags = copy;
    }
  self->position = position;
  self->modified = g_get_real_time ();
  if (url_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
  if (title_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

const char *
cb_bookmark_get_guid (CbBookmark *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), NULL);
  return self->guid;
}

gboolean
cb_bookmark_is_folder (CbBookmark *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), FALSE);
  return self->is_folder;
}

const char *
cb_bookmark_get_url (CbBookmark *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), NULL);
  return self->url;
}

const char *
cb_bookmark_get_title (CbBookmark *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), NULL);
  return self->title;
}

const char *
cb_bookmark_get_parent (CbBookmark *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), NULL);
  return self->parent;
}

const char * const *
cb_bookmark_get_tags (CbBookmark *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), NULL);
  return (const char * const *) self->tags;
}

gint64
cb_bookmark_get_added (CbBookmark *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), 0);
  return self->added;
}

gint64
cb_bookmark_get_modified (CbBookmark *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), 0);
  return self->modified;
}

int
cb_bookmark_get_position (CbBookmark *self)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), 0);
  return self->position;
}

gboolean
cb_bookmark_has_tag (CbBookmark *self,
                     const char *tag)
{
  g_return_val_if_fail (CB_IS_BOOKMARK (self), FALSE);
  for (guint i = 0; self->tags[i] != NULL; i++)
    if (g_utf8_collate (self->tags[i], tag) == 0)
      return TRUE;
  return FALSE;
}
