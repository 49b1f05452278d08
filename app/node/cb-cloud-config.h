/* cb-cloud-config.h: cloud.json, the definition of one cloud */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_CLOUD_CONFIG_ERROR (cb_cloud_config_error_quark ())
GQuark cb_cloud_config_error_quark (void);

typedef enum {
  CB_CLOUD_CONFIG_ERROR_MALFORMED,
  CB_CLOUD_CONFIG_ERROR_INVALID,
} CbCloudConfigError;

#define CB_CLOUD_MAX_PUBLISHER_KEYS 64
#define CB_CLOUD_MAX_LISTS 16

typedef struct {
  char *name;
  guint version;
  guint8 network_key[32];
  guint8 (*publisher_keys)[32];
  guint n_publisher_keys;
  guint publishers_min;
  guint publishers_max;
  double publishers_max_fraction;
  GStrv lists;                 /* list URLs, in order of preference */
  guint db_set_size;
  guint db_sets_tracked;
  guint list_ttl_seconds;      /* how long a published list stays valid */
  GHashTable *system_min_hosts; /* system name -> GUINT_TO_POINTER (min_hosts) */
  /* Failure detection, "membership" in cloud.json: one cloud shares one
   * notion of how fast a silent node is declared dead. */
  guint probe_interval_ms;     /* default 300 */
  guint suspicion_min_ms;      /* default 3000 */
  guint suspicion_max_ms;      /* default 9000 */
} CbCloudConfig;

CbCloudConfig *cb_cloud_config_parse   (const char     *json,
                                        gsize           len,
                                        GError        **error);
CbCloudConfig *cb_cloud_config_load    (const char     *path,
                                        GError        **error);
char          *cb_cloud_config_to_json (const CbCloudConfig *config);
void           cb_cloud_config_free    (CbCloudConfig  *config);
/* The cloud this build joins by default (meson -Dcloud_config=FILE). */
const char    *cb_cloud_config_default_json (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbCloudConfig, cb_cloud_config_free)

G_END_DECLS
