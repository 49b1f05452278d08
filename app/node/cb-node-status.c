/* cb-node-status.c: what `status --json` and cloud:node show */
#define G_LOG_DOMAIN "cb-node"

#include "cb-node-private.h"

#include "cb-hex.h"
#include "cb-node-list.h"
#include "cb-node-meta.h"

const char *
_cb_member_state_name (CbMemberState state)
{
  switch (state)
    {
    case CB_MEMBER_ALIVE:   return "alive";
    case CB_MEMBER_SUSPECT: return "suspect";
    case CB_MEMBER_DEAD:    return "dead";
    case CB_MEMBER_LEFT:    return "left";
    default:                return "unknown";
    }
}

static void
add_strv (JsonBuilder        *builder,
          const char         *name,
          const char * const *values)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

static void
add_time (JsonBuilder *builder,
          const char  *name,
          gint64       unix_seconds)
{
  g_autofree char *text = unix_seconds > 0 ? cb_node_list_format_time (unix_seconds) : NULL;

  json_builder_set_member_name (builder, name);
  if (text != NULL)
    json_builder_add_string_value (builder, text);
  else
    json_builder_add_null_value (builder);
}

static int
compare_members (gconstpointer a,
                 gconstpointer b)
{
  const CbMember *ma = *(const CbMember * const *) a;
  const CbMember *mb = *(const CbMember * const *) b;

  return memcmp (ma->id, mb->id, 32);
}

static void
add_peers (CbNode      *self,
           JsonBuilder *builder)
{
  g_autoptr(GPtrArray) members = cb_membership_get_members (self->membership);
  gint64 now = _cb_node_now_ms ();
  gint64 now_unix = g_get_real_time () / G_USEC_PER_SEC;

  g_ptr_array_sort (members, compare_members);
  json_builder_set_member_name (builder, "peers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < members->len; i++)
    {
      CbMember *member = g_ptr_array_index (members, i);
      g_autoptr(CbNodeMeta) meta = NULL;
      char id[65];

      if (member->meta != NULL)
        meta = cb_node_meta_decode (g_bytes_get_data (member->meta, NULL),
                                    g_bytes_get_size (member->meta), NULL);
      cb_hex_encode_into (member->id, 32, id);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, id);
      json_builder_set_member_name (builder, "addr");
      json_builder_add_string_value (builder, member->addr);
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, _cb_member_state_name (member->state));
      json_builder_set_member_name (builder, "state_seconds");
      json_builder_add_int_value (builder, MAX (0, now - member->state_since_ms) / 1000);
      json_builder_set_member_name (builder, "incarnation");
      json_builder_add_int_value (builder, (gint64) member->incarnation);
      json_builder_set_member_name (builder, "connected");
      json_builder_add_boolean_value (builder, cb_transport_is_connected (self->transport,
                                                                          member->id));
      if (meta != NULL)
        {
          add_strv (builder, "roles", (const char * const *) meta->roles);
          add_strv (builder, "systems", (const char * const *) meta->systems);
          json_builder_set_member_name (builder, "cpu");
          json_builder_add_int_value (builder, meta->cpu);
          json_builder_set_member_name (builder, "mem_mb");
          json_builder_add_int_value (builder, meta->mem_mb);
          json_builder_set_member_name (builder, "uptime_seconds");
          json_builder_add_int_value (builder, MAX (0, now_unix - meta->since));
        }
      else
        add_strv (builder, "roles", NULL);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
add_lists (CbNode      *self,
           JsonBuilder *builder)
{
  static const char * const states[] = { "pending", "ok", "error" };
  gint64 now = _cb_node_now_ms ();

  json_builder_set_member_name (builder, "lists");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->sites->len; i++)
    {
      CbNodeListSite *site = g_ptr_array_index (self->sites, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, _cb_node_list_site_url (self, i));
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, states[site->state]);
      json_builder_set_member_name (builder, "writable");
      json_builder_add_boolean_value (builder, site->source != NULL
                                               && cb_list_source_is_writable (site->source));
      if (site->error != NULL)
        {
          json_builder_set_member_name (builder, "error");
          json_builder_add_string_value (builder, site->error);
          json_builder_set_member_name (builder, "retry_in_seconds");
          json_builder_add_int_value (builder, site->reading ? 0
                                      : MAX (0, site->next_read_ms - now) / 1000);
        }
      if (site->publish_error != NULL)
        {
          json_builder_set_member_name (builder, "publish_error");
          json_builder_add_string_value (builder, site->publish_error);
        }
      json_builder_set_member_name (builder, "version");
      json_builder_add_int_value (builder, (gint64) site->version);
      add_time (builder, "last_read", site->last_read);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

JsonNode *
cb_node_get_status (CbNode *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *publisher_roles[] = { "publisher", NULL };

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, self->id_hex);
  json_builder_set_member_name (builder, "cloud");
  json_builder_add_string_value (builder, self->cloud->name);
  json_builder_set_member_name (builder, "listen");
  json_builder_add_string_value (builder, self->listen);
  json_builder_set_member_name (builder, "advertise");
  json_builder_add_string_value (builder, self->advertise);
  add_strv (builder, "roles", self->publisher ? publisher_roles : NULL);
  json_builder_set_member_name (builder, "publisher_eligible");
  json_builder_add_boolean_value (builder, self->publisher_eligible);
  add_time (builder, "since", self->started_unix);
  json_builder_set_member_name (builder, "running");
  json_builder_add_boolean_value (builder, self->running && !self->stopping);
  if (self->membership != NULL)
    {
      json_builder_set_member_name (builder, "incarnation");
      json_builder_add_int_value (builder,
                                  (gint64) cb_membership_get_incarnation (self->membership));
      json_builder_set_member_name (builder, "alive");
      json_builder_add_int_value (builder, cb_membership_count_alive (self->membership));
      add_peers (self, builder);
    }
  add_lists (self, builder);
  if (self->membership != NULL)
    _cb_node_data_status (self, builder);
  json_builder_set_member_name (builder, "published_version");
  json_builder_add_int_value (builder, (gint64) self->published_version);
  add_time (builder, "last_published", self->last_publish);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}
