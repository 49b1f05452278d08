/* test-hlc.c: the hybrid logical clock, driven by explicit wall times. */
#include <string.h>

#include "cb-hlc.h"

/* 2026-11-22T10:00:00.000Z */
#define T0 G_GINT64_CONSTANT (1795341600000)

static guint64
stamp (guint64 physical_ms, guint logical)
{
  return (physical_ms << 16) | logical;
}

static void
test_now_monotonic (void)
{
  CbHlc clock = { 0 };
  guint64 a, b, c, d;

  a = cb_hlc_now (&clock, T0);
  g_assert_cmpuint (a, ==, stamp (T0, 0));
  g_assert_cmpuint (cb_hlc_physical_ms (a), ==, T0);
  g_assert_cmpuint (cb_hlc_logical (a), ==, 0);

  /* Same millisecond: the counter orders events. */
  b = cb_hlc_now (&clock, T0);
  g_assert_cmpuint (b, ==, stamp (T0, 1));

  /* The wall clock stepping back never makes stamps go back. */
  c = cb_hlc_now (&clock, T0 - 5000);
  g_assert_cmpuint (c, ==, stamp (T0, 2));

  /* A wall clock ahead resets the counter. */
  d = cb_hlc_now (&clock, T0 + 1);
  g_assert_cmpuint (d, ==, stamp (T0 + 1, 0));
  g_assert_cmpuint (clock.last, ==, d);
}

static void
test_logical_overflow (void)
{
  CbHlc clock = { stamp (T0, 0xfffe) };

  g_assert_cmpuint (cb_hlc_now (&clock, T0), ==, stamp (T0, 0xffff));
  /* A full counter carries into the physical part, still above last. */
  g_assert_cmpuint (cb_hlc_now (&clock, T0), ==, stamp (T0 + 1, 0));
  g_assert_cmpuint (cb_hlc_now (&clock, T0), ==, stamp (T0 + 1, 1));
  /* Once the wall clock passes it, wall time again. */
  g_assert_cmpuint (cb_hlc_now (&clock, T0 + 2), ==, stamp (T0 + 2, 0));
}

static void
test_many_in_one_ms (void)
{
  CbHlc clock = { 0 };
  guint64 prev = 0;

  /* 200,000 events inside one millisecond stay strictly increasing. */
  for (guint i = 0; i < 200000; i++)
    {
      guint64 s = cb_hlc_now (&clock, T0);

      g_assert_cmpuint (s, >, prev);
      prev = s;
    }
  g_assert_cmpuint (cb_hlc_physical_ms (prev), ==, T0 + 200000 / 65536);
}

static void
test_edges (void)
{
  CbHlc clock = { 0 };

  /* Before 1970 counts as 1970. */
  g_assert_cmpuint (cb_hlc_now (&clock, -5), ==, stamp (0, 0) + 1);
  g_assert_cmpuint (cb_hlc_from_unix_ms (-1), ==, 0);
  g_assert_cmpuint (cb_hlc_from_unix_ms (T0), ==, stamp (T0, 0));
  g_assert_cmpuint (cb_hlc_from_unix_ms (G_MAXINT64), ==, stamp (CB_HLC_MAX_PHYSICAL_MS, 0));

  /* Saturation at the largest stamp: no wrap to zero. */
  clock.last = CB_HLC_MAX - 1;
  g_assert_cmpuint (cb_hlc_now (&clock, T0), ==, CB_HLC_MAX);
  g_assert_cmpuint (cb_hlc_now (&clock, T0), ==, CB_HLC_MAX);
  g_assert_cmpuint (cb_hlc_now (&clock, G_MAXINT64), ==, CB_HLC_MAX);
  g_assert_cmpuint (CB_HLC_MAX, <=, (guint64) G_MAXINT64);
}

static void
test_observe (void)
{
  CbHlc clock = { 0 };
  g_autoptr(GError) error = NULL;
  guint64 remote = stamp (T0 + 30000, 7);
  guint64 s;

  cb_hlc_now (&clock, T0);
  /* 30 s ahead with 60 s allowed: taken, and our next stamp orders after. */
  g_assert_true (cb_hlc_observe (&clock, remote, T0, 60000, &error));
  g_assert_no_error (error);
  s = cb_hlc_now (&clock, T0 + 1);
  g_assert_cmpuint (s, ==, remote + 1);

  /* An older stamp changes nothing. */
  g_assert_true (cb_hlc_observe (&clock, stamp (T0 - 100000, 0), T0, 60000, &error));
  g_assert_cmpuint (clock.last, ==, s);

  /* Exactly at the limit is fine, one ms past it is not. */
  g_assert_true (cb_hlc_observe (&clock, stamp (T0 + 60000, 0xffff), T0, 60000, &error));
  g_assert_no_error (error);
  s = clock.last;
  g_assert_false (cb_hlc_observe (&clock, stamp (T0 + 60001, 0), T0, 60000, &error));
  g_assert_error (error, CB_HLC_ERROR, CB_HLC_ERROR_DRIFT);
  g_assert_cmpstr (error->message, ==,
                   "clock stamp 2026-11-22T10:01:00.001Z is 60001 ms ahead of this machine's "
                   "clock (at most 60000 ms allowed); the sender's clock or ours is wrong");
  g_assert_cmpuint (clock.last, ==, s);
  g_clear_error (&error);

  g_assert_false (cb_hlc_observe (&clock, G_MAXUINT64, T0, G_MAXUINT, &error));
  g_assert_error (error, CB_HLC_ERROR, CB_HLC_ERROR_DRIFT);
  g_assert_cmpuint (clock.last, ==, s);
}

static void
test_format (void)
{
  g_autofree char *a = cb_hlc_format (stamp (T0 + 123, 4));
  g_autofree char *b = cb_hlc_format (stamp (T0 + 5, 0));
  g_autofree char *c = cb_hlc_format (0);
  g_autofree char *d = cb_hlc_format (CB_HLC_MAX);
  g_autofree char *e = cb_hlc_format (G_MAXUINT64);

  g_assert_cmpstr (a, ==, "2026-11-22T10:00:00.123Z+4");
  g_assert_cmpstr (b, ==, "2026-11-22T10:00:00.005Z");
  g_assert_cmpstr (c, ==, "1970-01-01T00:00:00.000Z");
  g_assert_cmpstr (d, ==, "6429-10-17T02:45:55.327Z+65535");
  g_assert_cmpstr (e, ==, "18446744073709551615");
}

static void
test_parse (void)
{
  static const struct { const char *text; guint64 expected; } good[] = {
    { "2026-11-22T10:00:00.123Z+4", (((guint64) T0 + 123) << 16) | 4 },
    { "2026-11-22T10:00:00.123Z", ((guint64) T0 + 123) << 16 },
    { "2026-11-22T10:00:00Z", (guint64) T0 << 16 },
    { "2026-11-22T10:00:00.000Z+0", (guint64) T0 << 16 },
    { "2026-11-22T10:00:00.000Z+65535", ((guint64) T0 << 16) | 0xffff },
    { "2024-02-29T00:00:00Z", G_GUINT64_CONSTANT (1709164800000) << 16 },
    { "1970-01-01T00:00:00.000Z", 0 },
    { "6429-10-17T02:45:55.327Z+65535", CB_HLC_MAX },
    { "12345", 12345 },
    { "9223372036854775807", CB_HLC_MAX },
  };
  static const char *const bad[] = {
    "", "now", "2026-11-22", "2026-11-22T10:00:00", "2026-11-22T10:00:00.12Z",
    "2026-11-22T10:00:00.1234Z", "2026-11-22T10:00:00.123Z+", "2026-11-22T10:00:00.123Z+65536",
    "2026-11-22T10:00:00.123Z+-1", "2026-11-22T10:00:00.123Z+1x", "2026-11-22T10:00:00.123Z ",
    "2026-11-22 10:00:00Z", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
    "2026-11-22T24:00:00Z", "2026-11-22T10:60:00Z", "2026-11-22T10:00:60Z",
    "1969-12-31T23:59:59Z", "6429-10-17T02:45:55.328Z", "9999-12-31T23:59:59Z",
    "+5", "-5", "9223372036854775808", "2026-11-22T10:00:00.123+04:00",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 v = 1;

      g_test_message ("parsing %s", good[i].text);
      g_assert_true (cb_hlc_parse (good[i].text, &v, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (v, ==, good[i].expected);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 v = 1;

      g_test_message ("refusing %s", bad[i]);
      g_assert_false (cb_hlc_parse (bad[i], &v, &error));
      g_assert_error (error, CB_HLC_ERROR, CB_HLC_ERROR_PARSE);
      g_assert_nonnull (strstr (error->message, "clock stamp"));
      g_assert_cmpuint (v, ==, 1);
    }
}

static void
test_format_parse_round_trip (void)
{
  GRand *rand = g_rand_new_with_seed (42);

  for (guint i = 0; i < 2000; i++)
    {
      guint64 hlc = ((guint64) g_rand_int (rand) << 32 | g_rand_int (rand)) & CB_HLC_MAX;
      g_autofree char *text = NULL;
      g_autoptr(GError) error = NULL;
      guint64 back = 0;

      if (i % 3 == 0)
        hlc &= ~G_GUINT64_CONSTANT (0xffff);  /* also the form without "+N" */
      text = cb_hlc_format (hlc);
      g_assert_true (cb_hlc_parse (text, &back, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (back, ==, hlc);
    }
  g_rand_free (rand);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/hlc/now-monotonic", test_now_monotonic);
  g_test_add_func ("/node/hlc/logical-overflow", test_logical_overflow);
  g_test_add_func ("/node/hlc/many-in-one-ms", test_many_in_one_ms);
  g_test_add_func ("/node/hlc/edges", test_edges);
  g_test_add_func ("/node/hlc/observe", test_observe);
  g_test_add_func ("/node/hlc/format", test_format);
  g_test_add_func ("/node/hlc/parse", test_parse);
  g_test_add_func ("/node/hlc/format-parse-round-trip", test_format_parse_round_trip);
  return g_test_run ();
}
