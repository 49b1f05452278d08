/* cb-hlc.c: hybrid logical clock (see cb-hlc.h) */
#define G_LOG_DOMAIN "cb-hlc"

#include "cb-hlc.h"

#include <string.h>

G_DEFINE_QUARK (cb-hlc-error-quark, cb_hlc_error)

guint64
cb_hlc_from_unix_ms (gint64 unix_ms)
{
  if (unix_ms <= 0)
    return 0;
  if ((guint64) unix_ms > CB_HLC_MAX_PHYSICAL_MS)
    return CB_HLC_MAX_PHYSICAL_MS << CB_HLC_LOGICAL_BITS;
  return (guint64) unix_ms << CB_HLC_LOGICAL_BITS;
}

guint64
cb_hlc_now (CbHlc  *clock,
            gint64  wall_ms)
{
  guint64 wall = cb_hlc_from_unix_ms (wall_ms);

  g_return_val_if_fail (clock != NULL, 0);
  /* Both HLC rules in one comparison: the wall stamp (logical 0) wins only
   * when its physical part is ahead, and last + 1 carries a full logical
   * counter into the physical part by itself. */
  if (wall > clock->last)
    clock->last = wall;
  else if (clock->last < CB_HLC_MAX)
    clock->last++;
  /* else: saturated in the year 6429; stamps stop increasing. */
  return clock->last;
}

gboolean
cb_hlc_observe (CbHlc    *clock,
                guint64   remote,
                gint64    wall_ms,
                guint     max_drift_ms,
                GError  **error)
{
  guint64 wall_phys = cb_hlc_physical_ms (cb_hlc_from_unix_ms (wall_ms));
  guint64 remote_phys = cb_hlc_physical_ms (remote);

  g_return_val_if_fail (clock != NULL, FALSE);
  if (remote > CB_HLC_MAX || remote_phys > wall_phys + max_drift_ms)
    {
      g_autofree char *shown = cb_hlc_format (remote);

      if (remote > CB_HLC_MAX)
        g_set_error (error, CB_HLC_ERROR, CB_HLC_ERROR_DRIFT,
                     "clock stamp %" G_GUINT64_FORMAT " is past the largest stamp "
                     "(year 6429); the sender's clock or data is corrupt", remote);
      else
        g_set_error (error, CB_HLC_ERROR, CB_HLC_ERROR_DRIFT,
                     "clock stamp %s is %" G_GUINT64_FORMAT " ms ahead of this machine's "
                     "clock (at most %u ms allowed); the sender's clock or ours is wrong",
                     shown, remote_phys - wall_phys, max_drift_ms);
      return FALSE;
    }
  if (remote > clock->last)
    clock->last = remote;
  return TRUE;
}

char *
cb_hlc_format (guint64 hlc)
{
  guint64 phys;
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *date = NULL;
  guint logical;

  if (hlc > CB_HLC_MAX)
    return g_strdup_printf ("%" G_GUINT64_FORMAT, hlc);
  phys = cb_hlc_physical_ms (hlc);
  logical = cb_hlc_logical (hlc);
  dt = g_date_time_new_from_unix_utc ((gint64) (phys / 1000));
  if (dt == NULL)  /* not reached: 2^47 ms is within GDateTime's range */
    return g_strdup_printf ("%" G_GUINT64_FORMAT, hlc);
  date = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  if (logical != 0)
    return g_strdup_printf ("%s.%03uZ+%u", date, (guint) (phys % 1000), logical);
  return g_strdup_printf ("%s.%03uZ", date, (guint) (phys % 1000));
}

/* Exactly n ASCII digits at *p; advances p. */
static gboolean
take_digits (const char **p, guint n, guint *out)
{
  guint v = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit ((*p)[i]))
        return FALSE;
      v = v * 10 + (guint) ((*p)[i] - '0');
    }
  *p += n;
  *out = v;
  return TRUE;
}

static gboolean
take_char (const char **p, char c)
{
  if (**p != c)
    return FALSE;
  (*p)++;
  return TRUE;
}

static gboolean
parse_failed (const char *text, GError **error)
{
  g_autofree char *shown = g_strescape (text, NULL);

  g_set_error (error, CB_HLC_ERROR, CB_HLC_ERROR_PARSE,
               "\"%s\" is not a clock stamp; write it as 2026-11-22T10:00:00.123Z, "
               "optionally followed by +N for the logical counter, or as a decimal stamp",
               shown);
  return FALSE;
}

gboolean
cb_hlc_parse (const char  *text,
              guint64     *out,
              GError     **error)
{
  const char *p = text;
  guint year, month, day, hour, minute, second, ms = 0, logical = 0;
  g_autoptr(GDateTime) dt = NULL;
  gint64 unix_s;
  guint64 phys;

  g_return_val_if_fail (text != NULL && out != NULL, FALSE);

  if (*text != '\0' && strspn (text, "0123456789") == strlen (text))
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (text, 10, 0, CB_HLC_MAX, &v, NULL))
        return parse_failed (text, error);
      *out = v;
      return TRUE;
    }

  if (!take_digits (&p, 4, &year) || !take_char (&p, '-') ||
      !take_digits (&p, 2, &month) || !take_char (&p, '-') ||
      !take_digits (&p, 2, &day) || !take_char (&p, 'T') ||
      !take_digits (&p, 2, &hour) || !take_char (&p, ':') ||
      !take_digits (&p, 2, &minute) || !take_char (&p, ':') ||
      !take_digits (&p, 2, &second))
    return parse_failed (text, error);
  if (take_char (&p, '.') && !take_digits (&p, 3, &ms))
    return parse_failed (text, error);
  if (!take_char (&p, 'Z'))
    return parse_failed (text, error);
  if (take_char (&p, '+'))
    {
      gsize n = strspn (p, "0123456789");

      if (n == 0 || n > 5 || p[n] != '\0' || !take_digits (&p, (guint) n, &logical) ||
          logical > 0xffff)
        return parse_failed (text, error);
    }
  if (*p != '\0' || year < 1970 || second > 59)
    return parse_failed (text, error);
  dt = g_date_time_new_utc ((gint) year, (gint) month, (gint) day, (gint) hour, (gint) minute,
                            (gdouble) second);
  if (dt == NULL)
    return parse_failed (text, error);
  unix_s = g_date_time_to_unix (dt);
  phys = (guint64) unix_s * 1000 + ms;
  if (phys > CB_HLC_MAX_PHYSICAL_MS)
    {
      g_set_error (error, CB_HLC_ERROR, CB_HLC_ERROR_PARSE,
                   "\"%s\" is past the last clock stamp (year 6429)", text);
      return FALSE;
    }
  *out = (phys << CB_HLC_LOGICAL_BITS) | logical;
  return TRUE;
}
