/* cb-node-lists.c: reading the cloud's lists, and writing them as publisher
 *
 * Reading: every list URL at start; again with backoff (2 s doubling to
 * 60 s) after a failure, every REREAD_ALONE_S while the node knows no live
 * member, and every REREAD_S otherwise.  The newest list seen is cached
 * in the data dir, so a node whose public domains are unreachable starts
 * from what it had and never accepts an older list than it has seen.
 *
 * Writing: an elected publisher writes the live membership to every
 * writable list, PUBLISH_DEBOUNCE_MS after a membership change and again
 * when half the list's lifetime has passed. */
#define G_LOG_DOMAIN "cb-node"

#include "cb-node-private.h"

#include <glib/gstdio.h>

#include "cb-hex.h"
#include "cb-list-publish.h"
#include "cb-node-list.h"
#include "cb-node-meta.h"

#define BACKOFF_MIN_S 2
#define BACKOFF_MAX_S 60
#define REREAD_S 300
#define REREAD_ALONE_S 5
#define PUBLISH_DEBOUNCE_MS 1000
/* Seeds taken from one list: enough to find the cloud, few enough that a
 * list of thousands does not make us dial them all. */
#define MAX_SEEDS_PER_LIST 16
#define LIST_CACHE_NAME "list-cache.json"

static void
site_free (gpointer data)
{
  CbNodeListSite *site = data;

  g_clear_object (&site->source);
  g_free (site->error);
  g_free (site->publish_error);
  g_free (site);
}

static void
add_seeds (CbNode           *self,
           const CbNodeList *list)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  gint64 now = _cb_node_now_ms ();

  for (guint i = 0; i < list->nodes->len; i++)
    {
      CbListNode *node = g_ptr_array_index (list->nodes, i);

      if (strcmp (node->id_hex, self->id_hex) != 0 && node->addrs[0] != NULL
          && cb_membership_addr_valid (node->addrs[0]))
        g_ptr_array_add (candidates, node);
    }
  /* A random subset, so that nodes of a big cloud spread their joins. */
  for (guint i = 0; i < candidates->len && i < MAX_SEEDS_PER_LIST; i++)
    {
      guint j = i + g_random_int_range (0, (gint32) (candidates->len - i));
      CbListNode *node = g_ptr_array_index (candidates, j);
      guint8 id[32];
      CbMemberState state;
      guint64 incarnation;

      candidates->pdata[j] = candidates->pdata[i];
      candidates->pdata[i] = node;
      if (!cb_hex_decode (node->id_hex, id, 32))
        continue;
      if (cb_membership_member_state (self->membership, id, &state, &incarnation)
          && state == CB_MEMBER_ALIVE)
        continue;
      cb_membership_add_seed (self->membership, id, node->addrs[0], now);
    }
  _cb_node_drain (self);
}

static CbNodeList *
verify (CbNode       *self,
        GBytes       *bytes,
        guint64       min_version,
        guint         flags,
        GError      **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return cb_node_list_verify_and_parse_full (data, len, self->cloud->name,
                                             (const guint8 (*)[32]) self->cloud->publisher_keys,
                                             self->cloud->n_publisher_keys, min_version,
                                             g_get_real_time () / G_USEC_PER_SEC, flags, error);
}

static void
save_cache (CbNode *self,
            GBytes *envelope)
{
  g_autofree char *path = g_build_filename (self->data_dir, LIST_CACHE_NAME, NULL);
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents_full (path, g_bytes_get_data (envelope, NULL),
                                 (gssize) g_bytes_get_size (envelope),
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_warning ("cannot cache the list: %s", error->message);
}

/* The last list we accepted, even if expired by now: its nodes are the
 * best guess at where the cloud is when no public domain answers. */
static void
load_cache (CbNode *self)
{
  g_autofree char *path = g_build_filename (self->data_dir, LIST_CACHE_NAME, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(CbNodeList) list = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return;
  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  list = verify (self, bytes, 0, CB_NODE_LIST_VERIFY_ALLOW_EXPIRED, &error);
  if (list == NULL)
    {
      g_warning ("ignoring the cached list %s: %s", path, error->message);
      return;
    }
  self->max_list_version = list->version;
  g_debug ("cached list version %" G_GUINT64_FORMAT " with %u nodes", list->version,
           list->nodes->len);
  add_seeds (self, list);
}

typedef struct {
  CbNode         *self;
  CbNodeListSite *site;
} SiteOp;

static void
schedule_retry (CbNodeListSite *site)
{
  site->backoff_s = site->backoff_s == 0 ? BACKOFF_MIN_S : MIN (site->backoff_s * 2, BACKOFF_MAX_S);
  site->next_read_ms = _cb_node_now_ms () + (gint64) site->backoff_s * 1000;
}

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  SiteOp *op = user_data;
  g_autoptr(CbNode) self = op->self;
  CbNodeListSite *site = op->site;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(CbNodeList) list = NULL;

  g_free (op);
  bytes = cb_list_source_read_finish (CB_LIST_SOURCE (source), result, NULL, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->stopping)
    return;
  site->reading = FALSE;
  if (bytes != NULL)
    list = verify (self, bytes, self->max_list_version, CB_NODE_LIST_VERIFY_NONE, &error);
  if (list == NULL)
    {
      site->state = CB_LIST_STATE_ERROR;
      g_free (site->error);
      site->error = g_strdup (error->message);
      schedule_retry (site);
      g_warning ("list %s: %s; retrying in %u s", cb_list_source_get_url (site->source),
                 error->message, site->backoff_s);
      _cb_node_emit_changed (self);
      return;
    }

  site->state = CB_LIST_STATE_OK;
  g_clear_pointer (&site->error, g_free);
  site->version = list->version;
  site->last_read = g_get_real_time () / G_USEC_PER_SEC;
  site->backoff_s = 0;
  site->next_read_ms = _cb_node_now_ms () + REREAD_S * 1000;
  if (list->version > self->max_list_version || self->max_list_version == 0)
    {
      self->max_list_version = list->version;
      save_cache (self, bytes);
    }
  g_debug ("list %s: version %" G_GUINT64_FORMAT ", %u nodes",
           cb_list_source_get_url (site->source), list->version, list->nodes->len);
  add_seeds (self, list);
  _cb_node_emit_changed (self);
}

static void
read_site (CbNode         *self,
           CbNodeListSite *site)
{
  SiteOp *op = g_new0 (SiteOp, 1);

  op->self = g_object_ref (self);
  op->site = site;
  site->reading = TRUE;
  site->last_attempt_ms = _cb_node_now_ms ();
  cb_list_source_read_async (site->source, self->cancellable, on_read, op);
}

void
_cb_node_lists_init (CbNode *self)
{
  g_autofree char *cache_dir = g_build_filename (self->data_dir, "list-sources", NULL);
  CbListSourceOptions options = {
    .cache_dir = cache_dir,
    .github_token = g_getenv ("CB_GITHUB_TOKEN"),
    .github_api_base = g_getenv ("CB_GITHUB_API_BASE"),
    .timeout_seconds = 20,
  };

  self->sites = g_ptr_array_new_with_free_func (site_free);
  for (guint i = 0; self->cloud->lists != NULL && self->cloud->lists[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      CbNodeListSite *site = g_new0 (CbNodeListSite, 1);

      site->source = cb_list_source_new (self->cloud->lists[i], &options, &error);
      if (site->source == NULL)
        {
          /* cloud.json was validated; a backend that cannot start (no git
           * binary, say) still shows up in status. */
          g_warning ("cannot use the list %s: %s", self->cloud->lists[i], error->message);
          site->state = CB_LIST_STATE_ERROR;
          site->error = g_strdup (error->message);
          site->next_read_ms = G_MAXINT64;
        }
      g_ptr_array_add (self->sites, site);
    }
}

const char *
_cb_node_list_site_url (CbNode         *self,
                        guint           index)
{
  CbNodeListSite *site = g_ptr_array_index (self->sites, index);

  return site->source != NULL ? cb_list_source_get_url (site->source) : self->cloud->lists[index];
}

void
_cb_node_lists_start (CbNode *self)
{
  load_cache (self);
  for (guint i = 0; i < self->sites->len; i++)
    {
      CbNodeListSite *site = g_ptr_array_index (self->sites, i);
      if (site->source != NULL)
        read_site (self, site);
    }
}

static gboolean publish_timeout (gpointer user_data);

void
_cb_node_lists_maintain (CbNode *self)
{
  gint64 now = _cb_node_now_ms ();
  gboolean alone = cb_membership_count_alive (self->membership) == 0;

  for (guint i = 0; i < self->sites->len; i++)
    {
      CbNodeListSite *site = g_ptr_array_index (self->sites, i);

      if (site->source == NULL || site->reading)
        continue;
      /* Alone: the cloud may be elsewhere now; look again soon. */
      if (alone && site->state == CB_LIST_STATE_OK)
        site->next_read_ms = MIN (site->next_read_ms,
                                  site->last_attempt_ms + REREAD_ALONE_S * 1000);
      if (now >= site->next_read_ms)
        read_site (self, site);
    }

  if (self->publisher && self->publishing == 0 && self->publish_source == 0
      && g_get_real_time () / G_USEC_PER_SEC - self->last_publish
         >= self->cloud->list_ttl_seconds / 2)
    _cb_node_lists_publish_soon (self);
}

/* ---- publishing ---- */

static CbListNode *
node_from_member (const CbMember *member,
                  gint64          now)
{
  g_autofree char *id_hex = g_malloc (65);
  g_autoptr(CbNodeMeta) meta = NULL;
  const char *addrs[] = { member->addr, NULL };
  const char *no_roles[] = { NULL };

  cb_hex_encode_into (member->id, 32, id_hex);
  if (member->meta != NULL)
    meta = cb_node_meta_decode (g_bytes_get_data (member->meta, NULL),
                                g_bytes_get_size (member->meta), NULL);
  return cb_list_node_new (id_hex, addrs,
                           meta != NULL ? (const char * const *) meta->roles : no_roles,
                           meta != NULL ? meta->cpu : 0, meta != NULL ? meta->mem_mb : 0,
                           meta != NULL ? meta->since : now, now);
}

static CbNodeList *
current_list (CbNode *self)
{
  g_autoptr(GPtrArray) members = cb_membership_get_members (self->membership);
  CbNodeList *list = cb_node_list_new (self->cloud->name);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *addrs[] = { self->advertise, NULL };
  const char *roles[] = { "publisher", NULL };

  g_autoptr(CbListNode) me = cb_list_node_new (self->id_hex, addrs, roles, self->cpu,
                                               self->mem_mb, self->started_unix, now);

  list->version = self->max_list_version;
  cb_node_list_upsert (list, me);
  for (guint i = 0; i < members->len; i++)
    {
      CbMember *member = g_ptr_array_index (members, i);

      /* Suspects stay: most suspicions are refuted. */
      if (member->state == CB_MEMBER_ALIVE || member->state == CB_MEMBER_SUSPECT)
        {
          g_autoptr(CbListNode) node = node_from_member (member, now);
          cb_node_list_upsert (list, node);
        }
    }
  return list;
}

static void
on_published (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  SiteOp *op = user_data;
  g_autoptr(CbNode) self = op->self;
  CbNodeListSite *site = op->site;
  g_autoptr(GError) error = NULL;
  guint64 version = 0;
  guint attempts = 0;

  g_free (op);
  if (!cb_list_publish_finish (CB_LIST_SOURCE (source), result, &version, &attempts, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_free (site->publish_error);
      site->publish_error = g_strdup (error->message);
      g_warning ("cannot publish the list to %s: %s", cb_list_source_get_url (site->source),
                 error->message);
    }
  else
    {
      g_clear_pointer (&site->publish_error, g_free);
      g_info ("published list version %" G_GUINT64_FORMAT " to %s (%u attempt%s)", version,
              cb_list_source_get_url (site->source), attempts, attempts == 1 ? "" : "s");
      self->published_version = MAX (self->published_version, version);
      self->max_list_version = MAX (self->max_list_version, version);
    }

  if (--self->publishing > 0 || self->stopping)
    return;
  _cb_node_emit_changed (self);
  if (self->publish_again)
    {
      self->publish_again = FALSE;
      _cb_node_lists_publish_soon (self);
    }
}

static void
publish_now (CbNode *self)
{
  g_autoptr(CbNodeList) list = current_list (self);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 ttl = self->cloud->list_ttl_seconds;

  self->last_publish = now;
  for (guint i = 0; i < self->sites->len; i++)
    {
      CbNodeListSite *site = g_ptr_array_index (self->sites, i);
      SiteOp *op;

      if (site->source == NULL || !cb_list_source_is_writable (site->source))
        continue;
      op = g_new0 (SiteOp, 1);
      op->self = g_object_ref (self);
      op->site = site;
      self->publishing++;
      /* Nodes nobody has seen for a whole list lifetime are dropped. */
      cb_list_publish_async (site->source, list,
                             (const guint8 (*)[32]) self->cloud->publisher_keys,
                             self->cloud->n_publisher_keys, self->publisher_secret, now, ttl,
                             now - ttl, self->id_hex, self->cancellable, on_published, op);
    }
}

static gboolean
publish_timeout (gpointer user_data)
{
  CbNode *self = user_data;

  self->publish_source = 0;
  if (!self->publisher || self->stopping)
    return G_SOURCE_REMOVE;
  if (self->publishing > 0)
    {
      self->publish_again = TRUE;
      return G_SOURCE_REMOVE;
    }
  publish_now (self);
  return G_SOURCE_REMOVE;
}

/* Debounced: the changes of one join or failure arrive as a burst. */
void
_cb_node_lists_publish_soon (CbNode *self)
{
  if (!self->publisher || self->stopping)
    return;
  if (self->publishing > 0)
    {
      self->publish_again = TRUE;
      return;
    }
  if (self->publish_source == 0)
    self->publish_source = g_timeout_add (PUBLISH_DEBOUNCE_MS, publish_timeout, self);
}

void
_cb_node_lists_clear (CbNode *self)
{
  g_clear_handle_id (&self->publish_source, g_source_remove);
}
