/* cb-hlc.h: hybrid logical clock stamps for log entries
 *
 * A stamp is one 64-bit number: (physical_ms << 16) | logical, where
 * physical_ms is unix milliseconds and logical a 16-bit counter that orders
 * events within the same millisecond.  Comparing stamps as integers orders
 * them; the last-writer-wins rule breaks ties by writer id.
 *
 * Stamps never exceed CB_HLC_MAX (the largest signed 64-bit value), so they
 * fit sqlite INTEGER columns unchanged; that caps physical time at 2^47 ms,
 * the year 6429.
 *
 * Sans-IO: the caller passes the wall clock in and locks a shared CbHlc. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CB_HLC_LOGICAL_BITS 16
#define CB_HLC_MAX ((guint64) G_MAXINT64)
#define CB_HLC_MAX_PHYSICAL_MS (CB_HLC_MAX >> CB_HLC_LOGICAL_BITS)

#define CB_HLC_ERROR (cb_hlc_error_quark ())
GQuark cb_hlc_error_quark (void);

typedef enum {
  CB_HLC_ERROR_DRIFT,  /* a received stamp is too far ahead of our wall clock */
  CB_HLC_ERROR_PARSE,  /* text that is not a stamp */
} CbHlcError;

/* Zero-initialise; `last` is the largest stamp issued or observed. */
typedef struct {
  guint64 last;
} CbHlc;

/* A new stamp, greater than every stamp issued or observed so far:
 * (wall_ms, 0) when the wall clock is ahead of the last stamp, otherwise
 * the last stamp plus one (a full logical counter carries into the
 * physical part).  A wall clock before 1970 counts as 1970. */
guint64  cb_hlc_now      (CbHlc   *clock,
                          gint64   wall_ms);
/* Merges a stamp received from another writer so our next stamp orders
 * after it.  Refuses (CB_HLC_ERROR_DRIFT, clock unchanged) a stamp whose
 * physical time is more than max_drift_ms ahead of wall_ms: accepting it
 * would drag every later local stamp into the future. */
gboolean cb_hlc_observe  (CbHlc   *clock,
                          guint64  remote,
                          gint64   wall_ms,
                          guint    max_drift_ms,
                          GError **error);

static inline guint64
cb_hlc_physical_ms (guint64 hlc)
{
  return hlc >> CB_HLC_LOGICAL_BITS;
}

static inline guint
cb_hlc_logical (guint64 hlc)
{
  return (guint) (hlc & 0xffff);
}

/* The first stamp of unix millisecond unix_ms (logical 0); clamped to
 * 0..CB_HLC_MAX_PHYSICAL_MS.  For "as of" queries by wall time. */
guint64  cb_hlc_from_unix_ms (gint64 unix_ms);

/* "2026-11-22T10:00:00.123Z", with "+N" appended when the logical
 * counter N is not zero: "2026-11-22T10:00:00.123Z+4". */
char    *cb_hlc_format   (guint64  hlc);
/* Reads what cb_hlc_format() writes (the milliseconds and "+N" may be
 * left out; "+0" is accepted), or a plain decimal stamp. */
gboolean cb_hlc_parse    (const char *text,
                          guint64    *out,
                          GError    **error);

G_END_DECLS
