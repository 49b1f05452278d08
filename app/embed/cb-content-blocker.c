/* cb-content-blocker.c: compile, cache and apply the content filter */
#define G_LOG_DOMAIN "cb-content-blocker"

#include "cb-content-blocker.h"

#include <string.h>

#define RULES_RESOURCE "/io/github/cloudbevy/CloudBevy/embed/content-blocker.json"

struct _CbContentBlocker {
  GObject parent_instance;
  WebKitUserContentManager *manager;
  CbSiteSettings *sites;
  WebKitUserContentFilterStore *store;
  GBytes *base_rules;
  gboolean enabled;
  char *applied;          /* identifier in force, NULL when none */
  char *wanted;           /* identifier of the current settings */
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (CbContentBlocker, cb_content_blocker, G_TYPE_OBJECT)

enum { SIGNAL_UPDATED, N_SIGNALS };
static guint signals[N_SIGNALS];

char *
cb_content_blocker_build_rules (CbContentBlocker *self)
{
  gsize len;
  const char *base = g_bytes_get_data (self->base_rules, &len);
  g_auto(GStrv) sites = cb_site_settings_list_sites (self->sites);
  g_autoptr(GString) out = g_string_new_len (base, (gssize) len);
  g_autoptr(GString) domains = g_string_new (NULL);
  gssize close;

  for (guint i = 0; sites[i] != NULL; i++)
    {
      g_autofree char *host = NULL;

      if (!cb_site_settings_get_blocker_disabled (self->sites, sites[i]))
        continue;
      host = cb_site_get_host (sites[i]);
      /* Hosts are plain names or addresses; nothing to escape, but refuse
       * anything that could break out of the JSON string. */
      if (host == NULL || strpbrk (host, "\"\\") != NULL)
        continue;
      g_string_append_printf (domains, "%s\"%s\"", domains->len ? ", " : "", host);
    }
  if (domains->len == 0)
    return g_string_free (g_steal_pointer (&out), FALSE);
  /* Before the closing bracket of the list. */
  for (close = (gssize) out->len - 1; close >= 0 && out->str[close] != ']'; close--)
    ;
  g_return_val_if_fail (close > 0, g_string_free (g_steal_pointer (&out), FALSE));
  g_string_truncate (out, (gsize) close);
  g_string_append_printf (out, ",\n {\"trigger\": {\"url-filter\": \".*\", \"if-domain\": [%s]},"
                               " \"action\": {\"type\": \"ignore-previous-rules\"}}\n]\n",
                          domains->str);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
apply (CbContentBlocker        *self,
       WebKitUserContentFilter *filter,
       const char              *identifier)
{
  webkit_user_content_manager_remove_all_filters (self->manager);
  if (filter != NULL)
    webkit_user_content_manager_add_filter (self->manager, filter);
  g_free (self->applied);
  self->applied = g_strdup (identifier);
  g_debug ("content filter %s in force", identifier ? identifier : "(none)");
  g_signal_emit (self, signals[SIGNAL_UPDATED], 0);
}

typedef struct {
  CbContentBlocker *self;
  char *identifier;
  GBytes *rules;
} Compile;

static void
compile_free (Compile *compile)
{
  g_object_unref (compile->self);
  g_free (compile->identifier);
  g_bytes_unref (compile->rules);
  g_free (compile);
}

static void
saved (GObject      *source,
       GAsyncResult *result,
       gpointer      user_data)
{
  Compile *compile = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(WebKitUserContentFilter) filter =
    webkit_user_content_filter_store_save_finish (WEBKIT_USER_CONTENT_FILTER_STORE (source),
                                                  result, &error);

  if (filter == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("the content blocker's list does not compile: %s", error->message);
    }
  else if (g_strcmp0 (compile->identifier, compile->self->wanted) == 0)
    apply (compile->self, filter, compile->identifier);
  compile_free (compile);
}

static void
loaded (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Compile *compile = user_data;
  g_autoptr(WebKitUserContentFilter) filter =
    webkit_user_content_filter_store_load_finish (WEBKIT_USER_CONTENT_FILTER_STORE (source),
                                                  result, NULL);

  if (filter != NULL)
    {
      if (g_strcmp0 (compile->identifier, compile->self->wanted) == 0)
        apply (compile->self, filter, compile->identifier);
      compile_free (compile);
      return;
    }
  /* Not cached yet: compile it. */
  webkit_user_content_filter_store_save (compile->self->store, compile->identifier,
                                         compile->rules, compile->self->cancellable, saved,
                                         compile);
}

static void
update (CbContentBlocker *self)
{
  g_autofree char *rules = NULL;
  g_autofree char *digest = NULL;
  Compile *compile;
  gsize len;

  if (!self->enabled)
    {
      g_clear_pointer (&self->wanted, g_free);
      if (self->applied != NULL)
        apply (self, NULL, NULL);
      return;
    }
  rules = cb_content_blocker_build_rules (self);
  len = strlen (rules);
  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) rules, len);
  g_free (self->wanted);
  self->wanted = g_strdup_printf ("cb-blocker-%.16s", digest);
  if (g_strcmp0 (self->wanted, self->applied) == 0)
    return;

  compile = g_new0 (Compile, 1);
  compile->self = g_object_ref (self);
  compile->identifier = g_strdup (self->wanted);
  compile->rules = g_bytes_new_take (g_steal_pointer (&rules), len);
  webkit_user_content_filter_store_load (self->store, compile->identifier, self->cancellable,
                                         loaded, compile);
}

static void
on_site_changed (CbSiteSettings   *sites,
                 const char       *site,
                 const char       *key,
                 CbContentBlocker *self)
{
  if (key == NULL || g_str_equal (key, "content-blocker"))
    update (self);
}

static void
on_sites_loaded (CbSiteSettings   *sites,
                 CbContentBlocker *self)
{
  update (self);
}

void
cb_content_blocker_set_enabled (CbContentBlocker *self,
                                gboolean          enabled)
{
  g_return_if_fail (CB_IS_CONTENT_BLOCKER (self));
  if (self->enabled == !!enabled)
    return;
  self->enabled = !!enabled;
  update (self);
}

gboolean
cb_content_blocker_get_enabled (CbContentBlocker *self)
{
  g_return_val_if_fail (CB_IS_CONTENT_BLOCKER (self), FALSE);
  return self->enabled;
}

gboolean
cb_content_blocker_is_ready (CbContentBlocker *self)
{
  g_return_val_if_fail (CB_IS_CONTENT_BLOCKER (self), FALSE);
  return g_strcmp0 (self->applied, self->wanted) == 0;
}

static void
cb_content_blocker_dispose (GObject *object)
{
  CbContentBlocker *self = CB_CONTENT_BLOCKER (object);

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->sites)
    g_signal_handlers_disconnect_by_data (self->sites, self);
  g_clear_object (&self->sites);
  g_clear_object (&self->manager);
  g_clear_object (&self->store);
  g_clear_pointer (&self->base_rules, g_bytes_unref);
  G_OBJECT_CLASS (cb_content_blocker_parent_class)->dispose (object);
}

static void
cb_content_blocker_finalize (GObject *object)
{
  CbContentBlocker *self = CB_CONTENT_BLOCKER (object);

  g_free (self->applied);
  g_free (self->wanted);
  G_OBJECT_CLASS (cb_content_blocker_parent_class)->finalize (object);
}

static void
cb_content_blocker_class_init (CbContentBlockerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cb_content_blocker_dispose;
  G_OBJECT_CLASS (klass)->finalize = cb_content_blocker_finalize;

  signals[SIGNAL_UPDATED] = g_signal_new ("updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cb_content_blocker_init (CbContentBlocker *self)
{
  self->cancellable = g_cancellable_new ();
}

CbContentBlocker *
cb_content_blocker_new (WebKitUserContentManager *manager,
                        CbSiteSettings           *sites,
                        const char               *store_dir)
{
  CbContentBlocker *self = g_object_new (CB_TYPE_CONTENT_BLOCKER, NULL);
  g_autoptr(GError) error = NULL;

  self->manager = g_object_ref (manager);
  self->sites = g_object_ref (sites);
  self->store = webkit_user_content_filter_store_new (store_dir);
  self->base_rules = g_resources_lookup_data (RULES_RESOURCE, 0, &error);
  /* Built in: a missing list is a packaging bug, not a runtime state. */
  if (self->base_rules == NULL)
    g_error ("the content blocker's list is missing: %s", error->message);
  g_signal_connect (sites, "changed", G_CALLBACK (on_site_changed), self);
  g_signal_connect (sites, "loaded", G_CALLBACK (on_sites_loaded), self);
  return self;
}
