/* cb-plugin-manifest.h: what a built plugin says about itself
 *
 * A plugin's build writes NAME.cbplugin beside its modules; the publisher
 * gives it to `cloud-bevy-repo add`:
 *
 *   {"format": "cloud-bevy-plugin-1",
 *    "system": "github.com/cloudbevy/guestbook", "version": "1.0.0",
 *    "title": "Guestbook", "description": "Sign a guestbook every host shares",
 *    "abi": "cloud-bevy-sdk-1",
 *    "core": "guestbook.so",           the core module (no GTK), beside the manifest
 *    "ui": "guestbook-ui.so"}          optional: the native UI module
 *
 * Manifests come from other people's builds: the decoder is a checked one
 * (fuzzed), and the repository tool then loads the core module to check
 * that it really is that system and version. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CB_PLUGIN_MANIFEST_FORMAT "cloud-bevy-plugin-1"
#define CB_PLUGIN_MANIFEST_MAX (64 * 1024)

#define CB_PLUGIN_MANIFEST_ERROR (cb_plugin_manifest_error_quark ())
GQuark cb_plugin_manifest_error_quark (void);

typedef enum {
  CB_PLUGIN_MANIFEST_ERROR_MALFORMED,
  CB_PLUGIN_MANIFEST_ERROR_UNSUPPORTED,  /* another format or ABI */
} CbPluginManifestError;

typedef struct {
  char *system;
  char *version;
  char *title;
  char *description;
  char *abi;
  char *core;   /* file names, relative to the manifest's directory */
  char *ui;     /* NULL when there is no UI module */
} CbPluginManifest;

CbPluginManifest *cb_plugin_manifest_parse (const guint8  *data,
                                            gsize          len,
                                            GError       **error);
CbPluginManifest *cb_plugin_manifest_load  (const char    *path,
                                            GError       **error);
void              cb_plugin_manifest_free  (CbPluginManifest *manifest);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CbPluginManifest, cb_plugin_manifest_free)

G_END_DECLS
