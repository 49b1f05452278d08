/* cb-node-private.h: CbNode's state, shared by cb-node*.c only */
#pragma once

#include "cb-control.h"
#include "cb-identity.h"
#include "cb-list-source.h"
#include "cb-membership.h"
#include "cb-node.h"
#include "cb-replication.h"
#include "cb-replication-codec.h"
#include "cb-store.h"
#include "cb-transport.h"

G_BEGIN_DECLS

typedef enum {
  CB_LIST_STATE_PENDING,  /* not read yet */
  CB_LIST_STATE_OK,
  CB_LIST_STATE_ERROR,
} CbListState;

/* One public domain the node reads (and maybe writes) its lists at. */
typedef struct {
  CbListSource *source;
  CbListState   state;
  char         *error;          /* last read failure, for status */
  guint64       version;        /* of the last list read there */
  gint64        last_read;      /* unix s of the last successful read */
  guint         backoff_s;      /* current retry delay after failures */
  gint64        next_read_ms;   /* monotonic ms */
  gint64        last_attempt_ms;
  gboolean      reading;
  char         *publish_error;  /* last write failure there, for status */
} CbNodeListSite;

struct _CbNode
{
  GObject          parent_instance;

  char            *data_dir;
  CbCloudConfig   *cloud;
  CbIdentity      *identity;
  char            *id_hex;
  guint8           publisher_secret[64];
  gboolean         publisher_eligible;
  char            *listen;
  char            *advertise;
  gint64           started_unix;
  guint            cpu;
  guint            mem_mb;

  CbTransport     *transport;
  CbMembership    *membership;
  CbControlServer *control;
  GCancellable    *cancellable;
  gboolean         running;
  gboolean         stopping;
  guint            tick_source;
  gint64           tick_at_ms;
  guint            maintenance_source;
  guint            changed_idle;

  /* Roles. */
  gboolean         publisher;
  guint            election_source;

  /* Lists. */
  GPtrArray       *sites;         /* CbNodeListSite* */
  guint64          max_list_version;
  guint            publish_source;
  guint            publishing;    /* writes in flight */
  gboolean         publish_again;
  gint64           last_publish;  /* unix s */
  guint64          published_version;

  /* Data (cb-node-data.c). */
  CbStore         *store;
  CbReplication   *replication;
  GPtrArray       *hosted;        /* system names, as requested before start */
  guint            replication_source;
  GHashTable      *banned;        /* peer id hex -> gint64* monotonic ms until */

  /* db-sets (cb-node-sets.c). */
  GHashTable      *dbsets;        /* system -> NodeSets* */
  /* Cloud queries (cb-node-query.c). */
  GHashTable      *pulls;         /* "peerhex/system" -> GPtrArray of waiting slots */
  GPtrArray       *cloud_queries;
  guint            sets_source;
  gint64           sets_at_ms;

  /* Cloud apps (cb-node-apps.c). */
  struct _CbApps  *apps;
  GPtrArray       *app_modules;   /* CbPluginModule* the store has held: kept until it closes */
  GHashTable      *app_seqs;      /* system -> guint64*: sum of its vector when last told */
};

gint64  _cb_node_now_ms         (void);
void    _cb_node_drain          (CbNode *self);
void    _cb_node_emit_changed   (CbNode *self);
GBytes *_cb_node_encode_meta    (CbNode *self);

/* cb-node-lists.c */
void    _cb_node_lists_init     (CbNode *self);
void    _cb_node_lists_start    (CbNode *self);
void    _cb_node_lists_maintain (CbNode *self);
void    _cb_node_lists_publish_soon (CbNode *self);
void    _cb_node_lists_clear    (CbNode *self);
const char *_cb_node_list_site_url (CbNode *self, guint index);

/* cb-node-data.c */
gboolean _cb_node_data_start        (CbNode *self, GError **error);
void     _cb_node_data_stop         (CbNode *self);
void     _cb_node_data_free         (CbNode *self);
void     _cb_node_data_message      (CbNode *self, const guint8 peer[32], GBytes *payload);
void     _cb_node_data_member_event (CbNode *self, const CbMembershipEvent *event);
gboolean _cb_node_data_control      (CbNode *self, const char *command, JsonObject *request,
                                     CbControlReply *reply);
void     _cb_node_data_status       (CbNode *self, JsonBuilder *builder);
void     _cb_node_data_pump         (CbNode *self);

/* cb-node-sets.c */
void     _cb_node_sets_start        (CbNode *self);
void     _cb_node_sets_stop         (CbNode *self);
void     _cb_node_sets_free         (CbNode *self);
void     _cb_node_sets_member_event (CbNode *self, const CbMembershipEvent *event);
void     _cb_node_sets_message      (CbNode *self, const guint8 peer[32], GBytes *payload);
void     _cb_node_sets_status       (CbNode *self, const char *system, JsonBuilder *builder);
struct _CbDbSets *_cb_node_sets_get (CbNode *self, const char *system);
/* cb-node-query.c */
void     _cb_node_query_init        (CbNode *self);
void     _cb_node_query_stop        (CbNode *self);
void     _cb_node_query_free        (CbNode *self);
void     _cb_node_query_answer_pull (CbNode *self, const guint8 peer[32],
                                     const CbReplicationMessage *have);
void     _cb_node_query_pulled      (CbNode *self, const guint8 peer[32],
                                     const CbReplicationMessage *pulled);
void     _cb_node_query_cloud       (CbNode *self, const char *system, const char *sql,
                                     guint64 as_of, guint n_sets, CbControlReply *reply);

/* cb-node-backup.c */
void     _cb_node_backup            (CbNode *self, const char *system, const char *url,
                                     const char *passphrase, CbControlReply *reply);
void     _cb_node_restore           (CbNode *self, const char *system, const char *url,
                                     const char *passphrase, CbControlReply *reply);

/* Where to dial a peer: its membership address, else what a db-set knows. */
const char *_cb_node_peer_addr      (CbNode *self, const guint8 peer[32], CbMember *scratch);

/* Local writes of apps: dormancy is checked, the write streams to peers. */
void     _cb_node_data_write_async  (CbNode *self, const char *system, GBytes *changeset,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data);
gboolean _cb_node_data_write_finish (CbNode *self, GAsyncResult *result, GError **error);

/* cb-node-apps.c */
gboolean  _cb_node_apps_check_system (CbNode *self, const char *system, GError **error);
gboolean  _cb_node_apps_is_app       (CbNode *self, const char *system);
CbSchema *_cb_node_apps_resolve      (CbNode *self, const char *system, CbStoreValidator *validator,
                                      gpointer *validator_data, GError **error);
void      _cb_node_apps_start        (CbNode *self);
gboolean  _cb_node_apps_control      (CbNode *self, const char *command, JsonObject *request,
                                      CbControlReply *reply);
void      _cb_node_apps_free         (CbNode *self);

/* cb-node-status.c */
const char *_cb_member_state_name (CbMemberState state);

G_END_DECLS
