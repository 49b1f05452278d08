/* cb-download.c: a download's state, from WebKit's signals */
#define G_LOG_DOMAIN "cb-downloads"

#include "cb-download-private.h"

struct _CbDownload {
  GObject parent_instance;
  WebKitDownload *download;
  char *uri;
  char *filename;
  char *destination;
  CbDownloadState state;
  double progress;
  guint64 received;
  guint64 total;
  char *error;
};

G_DEFINE_FINAL_TYPE (CbDownload, cb_download, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FILENAME,
  PROP_STATE,
  PROP_PROGRESS,
  PROP_DESCRIPTION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
notify_progress (CbDownload *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIPTION]);
}

static void
set_state (CbDownload      *self,
           CbDownloadState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIPTION]);
}

static void
on_progress (WebKitDownload *download,
             GParamSpec     *pspec,
             CbDownload     *self)
{
  WebKitURIResponse *response = webkit_download_get_response (download);

  self->progress = webkit_download_get_estimated_progress (download);
  self->received = webkit_download_get_received_data_length (download);
  self->total = response ? webkit_uri_response_get_content_length (response) : 0;
  notify_progress (self);
}

static void
on_received (WebKitDownload *download,
             guint64         length,
             CbDownload     *self)
{
  on_progress (download, NULL, self);
}

static void
on_finished (WebKitDownload *download,
             CbDownload     *self)
{
  /* "failed" comes first for failures and cancellations. */
  if (self->state != CB_DOWNLOAD_RUNNING)
    return;
  self->progress = 1.0;
  self->received = webkit_download_get_received_data_length (download);
  if (self->total == 0)
    self->total = self->received;
  notify_progress (self);
  set_state (self, CB_DOWNLOAD_FINISHED);
}

static void
on_failed (WebKitDownload *download,
           GError         *error,
           CbDownload     *self)
{
  if (g_error_matches (error, WEBKIT_DOWNLOAD_ERROR, WEBKIT_DOWNLOAD_ERROR_CANCELLED_BY_USER))
    {
      set_state (self, CB_DOWNLOAD_CANCELLED);
      return;
    }
  g_free (self->error);
  self->error = g_strdup (error->message);
  set_state (self, CB_DOWNLOAD_FAILED);
}

void
_cb_download_attach (CbDownload     *self,
                     WebKitDownload *download)
{
  if (self->download != NULL)
    g_signal_handlers_disconnect_by_data (self->download, self);
  g_set_object (&self->download, download);
  g_signal_connect_object (download, "notify::estimated-progress", G_CALLBACK (on_progress),
                           self, 0);
  g_signal_connect_object (download, "received-data", G_CALLBACK (on_received), self,
                           G_CONNECT_AFTER);
  g_signal_connect_object (download, "finished", G_CALLBACK (on_finished), self, 0);
  g_signal_connect_object (download, "failed", G_CALLBACK (on_failed), self, 0);
  g_clear_pointer (&self->error, g_free);
  self->progress = 0;
  self->received = 0;
  set_state (self, CB_DOWNLOAD_RUNNING);
  notify_progress (self);
}

void
_cb_download_set_destination (CbDownload *self,
                              const char *path)
{
  g_free (self->destination);
  self->destination = g_strdup (path);
  g_free (self->filename);
  self->filename = g_path_get_basename (path);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILENAME]);
}

WebKitDownload *
_cb_download_get_webkit (CbDownload *self)
{
  return self->download;
}

CbDownload *
_cb_download_new (WebKitDownload *download)
{
  CbDownload *self = g_object_new (CB_TYPE_DOWNLOAD, NULL);
  WebKitURIRequest *request = webkit_download_get_request (download);
  g_autoptr(GUri) uri = NULL;

  self->uri = g_strdup (webkit_uri_request_get_uri (request));
  /* Until WebKit knows the real name: the last part of the address. */
  uri = g_uri_parse (self->uri, G_URI_FLAGS_NONE, NULL);
  if (uri != NULL && g_uri_get_path (uri) != NULL && *g_uri_get_path (uri) != '\0')
    {
      g_autofree char *path = g_uri_unescape_string (g_uri_get_path (uri), NULL);
      self->filename = path ? g_path_get_basename (path) : NULL;
    }
  if (self->filename == NULL || g_str_equal (self->filename, "/"))
    {
      g_free (self->filename);
      self->filename = g_strdup ("download");
    }
  _cb_download_attach (self, download);
  return self;
}

static void
cb_download_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  CbDownload *self = CB_DOWNLOAD (object);

  switch (prop_id)
    {
    case PROP_FILENAME:
      g_value_set_string (value, self->filename);
      break;
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_DESCRIPTION:
      g_value_take_string (value, cb_download_describe (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cb_download_dispose (GObject *object)
{
  CbDownload *self = CB_DOWNLOAD (object);

  if (self->download != NULL)
    g_signal_handlers_disconnect_by_data (self->download, self);
  g_clear_object (&self->download);
  G_OBJECT_CLASS (cb_download_parent_class)->dispose (object);
}

static void
cb_download_finalize (GObject *object)
{
  CbDownload *self = CB_DOWNLOAD (object);

  g_free (self->uri);
  g_free (self->filename);
  g_free (self->destination);
  g_free (self->error);
  G_OBJECT_CLASS (cb_download_parent_class)->finalize (object);
}

static void
cb_download_class_init (CbDownloadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = cb_download_get_property;
  object_class->dispose = cb_download_dispose;
  object_class->finalize = cb_download_finalize;

  properties[PROP_FILENAME] = g_param_spec_string ("filename", NULL, NULL, NULL,
                                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                   G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] = g_param_spec_int ("state", NULL, NULL, 0, CB_DOWNLOAD_CANCELLED, 0,
                                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                             G_PARAM_STATIC_STRINGS);
  properties[PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0, 1, 0,
                                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                   G_PARAM_STATIC_STRINGS);
  properties[PROP_DESCRIPTION] = g_param_spec_string ("description", NULL, NULL, NULL,
                                                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                      G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cb_download_init (CbDownload *self)
{
}

const char *
cb_download_get_uri (CbDownload *self)
{
  return self->uri;
}

const char *
cb_download_get_filename (CbDownload *self)
{
  return self->filename;
}

const char *
cb_download_get_destination (CbDownload *self)
{
  return self->destination;
}

CbDownloadState
cb_download_get_state (CbDownload *self)
{
  return self->state;
}

double
cb_download_get_progress (CbDownload *self)
{
  return self->progress;
}

guint64
cb_download_get_received (CbDownload *self)
{
  return self->received;
}

guint64
cb_download_get_total (CbDownload *self)
{
  return self->total;
}

const char *
cb_download_get_error (CbDownload *self)
{
  return self->error;
}

char *
cb_download_describe (CbDownload *self)
{
  g_autofree char *received = g_format_size (self->received);
  g_autofree char *total = self->total ? g_format_size (self->total) : NULL;

  switch (self->state)
    {
    case CB_DOWNLOAD_FINISHED:
      return g_strdup_printf ("Finished — %s", total ? total : received);
    case CB_DOWNLOAD_FAILED:
      return g_strdup_printf ("Failed: %s", self->error ? self->error : "unknown error");
    case CB_DOWNLOAD_CANCELLED:
      return g_strdup ("Cancelled");
    case CB_DOWNLOAD_RUNNING:
    default:
      return total ? g_strdup_printf ("%s of %s", received, total)
                   : g_strdup_printf ("%s", received);
    }
}

void
cb_download_cancel (CbDownload *self)
{
  g_return_if_fail (CB_IS_DOWNLOAD (self));
  if (self->state == CB_DOWNLOAD_RUNNING && self->download != NULL)
    webkit_download_cancel (self->download);
}
