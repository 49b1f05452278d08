/* test-roles.c: the publisher election gives the documented number of
 * seats, ranks by uptime then resources then id, and agrees across nodes
 * whatever order they list the candidates in. */
#include <math.h>
#include <string.h>

#include "cb-roles.h"

/* The cloud.json defaults (cb-cloud-config.c). */
#define DEF_MIN 1
#define DEF_MAX 7
#define DEF_FRACTION 0.10

/* A start time on a minute boundary, so tests can move within a minute. */
#define T0 G_GINT64_CONSTANT (1700000040)

static void
set_id (CbRoleCandidate *c, guint v)
{
  memset (c->id, 0, sizeof c->id);
  c->id[0] = (guint8) (v >> 8);
  c->id[1] = (guint8) v;
  c->id[31] = 0x5a;
}

static guint
id_num (const guint8 id[CB_ROLES_ID_BYTES])
{
  return ((guint) id[0] << 8) | id[1];
}

static CbRoleCandidate
candidate (guint v, gboolean eligible, guint cpu, guint mem_mb, gint64 since)
{
  CbRoleCandidate c = { 0 };

  set_id (&c, v);
  c.eligible = eligible;
  c.cpu = cpu;
  c.mem_mb = mem_mb;
  c.since = since;
  return c;
}

/* Elects and returns the winners' numbers, best first. */
static GArray *
elect (const CbRoleCandidate *c, gsize n, guint min, guint max, double fraction)
{
  g_autofree guint8 (*ids)[CB_ROLES_ID_BYTES] = g_malloc_n (MAX (n, 1), CB_ROLES_ID_BYTES);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint));
  guint k = cb_roles_elect_publishers (c, n, min, max, fraction, ids);

  g_assert_cmpuint (k, <=, n);
  for (guint i = 0; i < k; i++)
    {
      guint v = id_num (ids[i]);

      g_array_append_val (out, v);
    }
  return out;
}

static void
assert_elected (GArray *got, const guint *expected, guint n)
{
  g_assert_cmpmem (got->data, got->len * sizeof (guint), expected, n * sizeof (guint));
}

/* ---- seat count ---- */

static void
test_count_formula (void)
{
  static const struct { gsize n; guint k; } table[] = {
    { 1, 1 }, { 2, 1 }, { 9, 1 }, { 10, 1 }, { 11, 1 }, { 19, 1 }, { 20, 2 },
    { 69, 6 }, { 70, 7 }, { 71, 7 }, { 100, 7 }, { 100000, 7 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_autofree CbRoleCandidate *c = g_new0 (CbRoleCandidate, table[i].n);
      g_autoptr(GArray) got = NULL;

      g_assert_cmpuint (cb_roles_publisher_count (table[i].n, table[i].n, DEF_MIN, DEF_MAX,
                                                  DEF_FRACTION), ==, table[i].k);
      if (table[i].n > 1000)
        continue;
      for (guint j = 0; j < table[i].n; j++)
        c[j] = candidate (j, TRUE, 2, 2048, T0 + j * 600);
      got = elect (c, table[i].n, DEF_MIN, DEF_MAX, DEF_FRACTION);
      g_assert_cmpuint (got->len, ==, table[i].k);
      /* All in different minutes: the oldest win, oldest first. */
      for (guint j = 0; j < got->len; j++)
        g_assert_cmpuint (g_array_index (got, guint, j), ==, j);
    }
}

static void
test_count_limits (void)
{
  /* Never more than there are eligible nodes, possibly none. */
  g_assert_cmpuint (cb_roles_publisher_count (100, 3, 1, 7, 0.1), ==, 3);
  g_assert_cmpuint (cb_roles_publisher_count (100, 0, 1, 7, 0.1), ==, 0);
  g_assert_cmpuint (cb_roles_publisher_count (0, 0, 1, 7, 0.1), ==, 0);
  /* min raises, max lowers, and at least one even with min 0. */
  g_assert_cmpuint (cb_roles_publisher_count (5, 5, 3, 7, 0.1), ==, 3);
  g_assert_cmpuint (cb_roles_publisher_count (2, 2, 3, 7, 0.1), ==, 2);
  g_assert_cmpuint (cb_roles_publisher_count (1000, 1000, 1, 20, 0.1), ==, 20);
  g_assert_cmpuint (cb_roles_publisher_count (5, 5, 0, 7, 0.1), ==, 1);
  /* A product that lands a hair under an integer in binary still counts. */
  g_assert_cmpuint (cb_roles_publisher_count (100, 100, 1, 1000, 0.29), ==, 29);
  g_assert_cmpuint (cb_roles_publisher_count (10, 10, 1, 1000, 0.7), ==, 7);
  g_assert_cmpuint (cb_roles_publisher_count (30, 30, 1, 1000, 0.1), ==, 3);
  /* Nonsense fractions fall back to min, or to everyone above 1. */
  g_assert_cmpuint (cb_roles_publisher_count (100, 100, 2, 1000, -1.0), ==, 2);
  g_assert_cmpuint (cb_roles_publisher_count (100, 100, 2, 1000, NAN), ==, 2);
  g_assert_cmpuint (cb_roles_publisher_count (100, 100, 1, 1000, 5.0), ==, 100);
  /* min above max: max wins. */
  g_assert_cmpuint (cb_roles_publisher_count (100, 100, 9, 4, 0.1), ==, 4);
}

/* ---- who is chosen ---- */

static void
test_ineligible_never_elected (void)
{
  CbRoleCandidate c[100];
  g_autoptr(GArray) got = NULL;
  g_autofree guint8 (*ids)[CB_ROLES_ID_BYTES] = g_malloc_n (100, CB_ROLES_ID_BYTES);

  /* The oldest, biggest nodes cannot sign; only every tenth node can. */
  for (guint i = 0; i < 100; i++)
    c[i] = candidate (i, i % 10 == 9, i < 50 ? 64 : 2, i < 50 ? 65536 : 1024, T0 + i * 600);
  got = elect (c, 100, DEF_MIN, DEF_MAX, DEF_FRACTION);
  assert_elected (got, (const guint[]) { 9, 19, 29, 39, 49, 59, 69 }, 7);

  /* Three eligible of 100: seven seats, three filled. */
  for (guint i = 0; i < 100; i++)
    c[i].eligible = (i == 3 || i == 50 || i == 99);
  g_clear_pointer (&got, g_array_unref);
  got = elect (c, 100, DEF_MIN, DEF_MAX, DEF_FRACTION);
  assert_elected (got, (const guint[]) { 3, 50, 99 }, 3);

  /* None eligible: nobody publishes. */
  for (guint i = 0; i < 100; i++)
    c[i].eligible = FALSE;
  g_assert_cmpuint (cb_roles_elect_publishers (c, 100, DEF_MIN, DEF_MAX, DEF_FRACTION, ids), ==, 0);
  g_assert_false (cb_roles_is_publisher (c, 100, DEF_MIN, DEF_MAX, DEF_FRACTION, c[0].id));
  g_assert_cmpuint (cb_roles_elect_publishers (NULL, 0, DEF_MIN, DEF_MAX, DEF_FRACTION, NULL), ==, 0);
}

static void
test_ranking (void)
{
  /* Seven seats out of 70; the first 8 candidates compete, the rest are
   * young and small.  Expected order and why: */
  CbRoleCandidate c[70];
  g_autoptr(GArray) got = NULL;

  c[0] = candidate (10, TRUE, 1, 1, T0 - 3600);        /* oldest minute wins outright */
  c[1] = candidate (11, TRUE, 8, 1000, T0);            /* same minute: more cpu ... */
  c[2] = candidate (12, TRUE, 4, 9000, T0 + 59);       /* ... beats more memory */
  c[3] = candidate (13, TRUE, 4, 8000, T0 + 1);        /* same cpu: more memory */
  c[4] = candidate (15, TRUE, 4, 4000, T0 + 30);       /* all equal: smaller id ... */
  c[5] = candidate (14, TRUE, 4, 4000, T0 + 50);       /*  ... even though it started later */
  c[6] = candidate (16, TRUE, 64, 65536, T0 + 60);     /* next minute: behind all of the above */
  c[7] = candidate (17, TRUE, 64, 65536, T0 + 120);    /* one minute later still: eighth, out */
  for (guint i = 8; i < 70; i++)
    c[i] = candidate (100 + i, TRUE, 1, 1, T0 + 86400);
  got = elect (c, 70, DEF_MIN, DEF_MAX, DEF_FRACTION);
  assert_elected (got, (const guint[]) { 10, 11, 12, 13, 14, 15, 16 }, 7);
  g_assert_true (cb_roles_is_publisher (c, 70, DEF_MIN, DEF_MAX, DEF_FRACTION, c[6].id));
  g_assert_false (cb_roles_is_publisher (c, 70, DEF_MIN, DEF_MAX, DEF_FRACTION, c[7].id));
}

static void
test_since_bucketing (void)
{
  CbRoleCandidate c[2];
  g_autoptr(GArray) got = NULL;

  /* a started 50 s before b, but b has more cpu: within one minute, cpu
   * decides, so a few seconds of skew cannot flip the result. */
  c[0] = candidate (1, TRUE, 2, 1024, T0 + 1);
  c[1] = candidate (2, TRUE, 8, 1024, T0 + 51);
  for (gint64 skew_a = 0; skew_a < 9; skew_a += 4)
    for (gint64 skew_b = -8; skew_b < 9; skew_b += 4)
      {
        CbRoleCandidate s[2] = { c[0], c[1] };

        s[0].since += skew_a;
        s[1].since += skew_b;
        got = elect (s, 2, DEF_MIN, DEF_MAX, DEF_FRACTION);
        assert_elected (got, (const guint[]) { 2 }, 1);
        g_clear_pointer (&got, g_array_unref);
      }

  /* In different minutes, the older wins despite less cpu. */
  c[1].since = T0 + 60;
  got = elect (c, 2, DEF_MIN, DEF_MAX, DEF_FRACTION);
  assert_elected (got, (const guint[]) { 1 }, 1);
  g_clear_pointer (&got, g_array_unref);

  /* Buckets round down before the epoch too: -1 and -60 share a minute,
   * -61 is older. */
  c[0].since = -60;
  c[1].since = -1;
  got = elect (c, 2, DEF_MIN, DEF_MAX, DEF_FRACTION);
  assert_elected (got, (const guint[]) { 2 }, 1);
  g_clear_pointer (&got, g_array_unref);
  c[0].since = -61;
  got = elect (c, 2, DEF_MIN, DEF_MAX, DEF_FRACTION);
  assert_elected (got, (const guint[]) { 1 }, 1);
}

static void
shuffle (CbRoleCandidate *c, gsize n, GRand *rand)
{
  for (gsize i = n - 1; i > 0; i--)
    {
      gsize j = (gsize) g_rand_int_range (rand, 0, (gint32) i + 1);
      CbRoleCandidate t = c[i];

      c[i] = c[j];
      c[j] = t;
    }
}

static void
test_order_independent (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  CbRoleCandidate c[100];
  g_autoptr(GArray) first = NULL;

  /* Lots of ties: 3 minutes, 2 cpu sizes, 2 memory sizes, so the id
   * tiebreak decides often. */
  for (guint i = 0; i < 100; i++)
    {
      /* Ids distinct but not in index order. */
      c[i] = candidate (i * 131 % 1000, TRUE, 4, 4096, T0);
      c[i].eligible = g_rand_int_range (rand, 0, 4) != 0;
      c[i].cpu = g_rand_boolean (rand) ? 4 : 8;
      c[i].mem_mb = g_rand_boolean (rand) ? 4096 : 8192;
      c[i].since = T0 + g_rand_int_range (rand, 0, 180);
    }
  first = elect (c, 100, DEF_MIN, DEF_MAX, DEF_FRACTION);
  g_assert_cmpuint (first->len, ==, 7);
  for (guint round = 0; round < 200; round++)
    {
      g_autoptr(GArray) again = NULL;

      shuffle (c, 100, rand);
      again = elect (c, 100, DEF_MIN, DEF_MAX, DEF_FRACTION);
      assert_elected (again, (const guint *) (gpointer) first->data, first->len);
    }
}

static void
test_duplicate_ids (void)
{
  CbRoleCandidate c[11];
  g_autoptr(GArray) got = NULL;

  /* Ten distinct nodes and a stale second entry for node 5 that is not
   * eligible: still N = 10 and node 5 counts with its eligible entry. */
  for (guint i = 0; i < 10; i++)
    c[i] = candidate (i, i == 5, 2, 1024, T0 + i * 600);
  c[10] = candidate (5, FALSE, 64, 65536, T0 - 86400);
  got = elect (c, 11, 1, 7, 0.1);
  assert_elected (got, (const guint[]) { 5 }, 1);
  g_clear_pointer (&got, g_array_unref);

  /* Nine nodes and a second, better entry for node 0: N = 9, so 4 seats
   * at one half, and node 0 takes one of them, not two. */
  for (guint i = 0; i < 9; i++)
    c[i].eligible = TRUE;
  c[9] = candidate (0, TRUE, 64, 65536, T0 - 86400);
  got = elect (c, 10, 1, 7, 0.5);
  assert_elected (got, (const guint[]) { 0, 1, 2, 3 }, 4);
}

/* A cloud starts as one node, grows to 100 with nodes joining a few minutes
 * apart, then loses nodes in random order until one is left.  At every step
 * the seat count follows the formula, an incumbent keeps its seat unless
 * the seat count shrinks or it leaves, and all nodes agree. */
static void
test_grow_and_shrink (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  CbRoleCandidate all[100], alive[100];
  gsize n = 0;
  g_autoptr(GArray) prev = NULL;

  for (guint i = 0; i < 100; i++)
    {
      all[i] = candidate (1000 - i, i % 3 != 2, 2, 1024, T0 + i * 300);
      all[i].cpu += g_rand_int_range (rand, 0, 16);
      all[i].mem_mb *= 1 + g_rand_int_range (rand, 0, 32);
    }

  for (guint i = 0; i < 100; i++)
    {
      g_autoptr(GArray) got = NULL;
      guint eligible = 0;

      alive[n++] = all[i];
      for (gsize j = 0; j < n; j++)
        eligible += alive[j].eligible;
      got = elect (alive, n, DEF_MIN, DEF_MAX, DEF_FRACTION);
      g_assert_cmpuint (got->len, ==, MIN (eligible, CLAMP (n / 10, DEF_MIN, DEF_MAX)));
      /* The first node is the oldest and eligible: it never loses its seat. */
      g_assert_cmpuint (g_array_index (got, guint, 0), ==, 1000);
      if (prev != NULL)
        {
          /* Growing only adds seats, at the end. */
          g_assert_cmpuint (got->len, >=, prev->len);
          g_assert_cmpmem (got->data, prev->len * sizeof (guint),
                           prev->data, prev->len * sizeof (guint));
        }
      g_clear_pointer (&prev, g_array_unref);
      prev = g_steal_pointer (&got);
    }
  g_assert_cmpuint (prev->len, ==, 7);

  while (n > 1)
    {
      g_autoptr(GArray) got = NULL;
      gsize gone = (gsize) g_rand_int_range (rand, 0, (gint32) n);
      guint gone_id = id_num (alive[gone].id);
      guint eligible = 0;
      guint kept = 0;

      alive[gone] = alive[--n];
      for (gsize j = 0; j < n; j++)
        eligible += alive[j].eligible;
      got = elect (alive, n, DEF_MIN, DEF_MAX, DEF_FRACTION);
      g_assert_cmpuint (got->len, ==, MIN (eligible, CLAMP (n / 10, DEF_MIN, DEF_MAX)));
      /* Every publisher that stayed keeps its seat unless seats shrank, in
       * which case the youngest go first. */
      for (guint j = 0; j < prev->len; j++)
        {
          guint p = g_array_index (prev, guint, j);

          if (p == gone_id)
            continue;
          if (kept < got->len)
            g_assert_cmpuint (g_array_index (got, guint, kept), ==, p);
          kept++;
        }
      g_clear_pointer (&prev, g_array_unref);
      prev = g_steal_pointer (&got);
    }
  /* Whatever single node is left publishes, if it can. */
  g_assert_cmpuint (prev->len, ==, alive[0].eligible ? 1 : 0);
  if (alive[0].eligible)
    g_assert_true (cb_roles_is_publisher (alive, 1, DEF_MIN, DEF_MAX, DEF_FRACTION, alive[0].id));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/node/roles/count-formula", test_count_formula);
  g_test_add_func ("/node/roles/count-limits", test_count_limits);
  g_test_add_func ("/node/roles/ineligible-never-elected", test_ineligible_never_elected);
  g_test_add_func ("/node/roles/ranking", test_ranking);
  g_test_add_func ("/node/roles/since-bucketing", test_since_bucketing);
  g_test_add_func ("/node/roles/order-independent", test_order_independent);
  g_test_add_func ("/node/roles/duplicate-ids", test_duplicate_ids);
  g_test_add_func ("/node/roles/grow-and-shrink", test_grow_and_shrink);
  return g_test_run ();
}
