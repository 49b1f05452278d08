/* cb-roles.c: the publisher election rule documented in cb-roles.h */
#define G_LOG_DOMAIN "cb-roles"

#include "cb-roles.h"

#include <stdlib.h>
#include <string.h>

/* Rounded down, also for (bogus) negative times, so every bucket is
 * exactly one minute wide. */
static gint64
since_bucket (gint64 since)
{
  gint64 q = since / CB_ROLES_SINCE_BUCKET_SECONDS;

  if (since % CB_ROLES_SINCE_BUCKET_SECONDS < 0)
    q--;
  return q;
}

/* Best first: oldest minute, then more cpu, more memory, smaller id. */
static int
rank_cmp (const CbRoleCandidate *a,
          const CbRoleCandidate *b)
{
  gint64 ba = since_bucket (a->since), bb = since_bucket (b->since);

  if (ba != bb)
    return ba < bb ? -1 : 1;
  if (a->cpu != b->cpu)
    return a->cpu > b->cpu ? -1 : 1;
  if (a->mem_mb != b->mem_mb)
    return a->mem_mb > b->mem_mb ? -1 : 1;
  return memcmp (a->id, b->id, CB_ROLES_ID_BYTES);
}

static int
rank_ptr_cmp (const void *pa,
              const void *pb)
{
  return rank_cmp (*(const CbRoleCandidate *const *) pa, *(const CbRoleCandidate *const *) pb);
}

/* Groups entries by id with the one that counts first: eligible, then best
 * ranked, then (same minute) the earlier exact start.  Entries equal under
 * this order are equal in every field the election reads. */
static int
dedupe_ptr_cmp (const void *pa,
                const void *pb)
{
  const CbRoleCandidate *a = *(const CbRoleCandidate *const *) pa;
  const CbRoleCandidate *b = *(const CbRoleCandidate *const *) pb;
  int c = memcmp (a->id, b->id, CB_ROLES_ID_BYTES);

  if (c != 0)
    return c;
  if (!a->eligible != !b->eligible)
    return a->eligible ? -1 : 1;
  c = rank_cmp (a, b);
  if (c != 0)
    return c;
  if (a->since != b->since)
    return a->since < b->since ? -1 : 1;
  return 0;
}

guint
cb_roles_publisher_count (gsize  n_candidates,
                          gsize  n_eligible,
                          guint  min,
                          guint  max,
                          double max_fraction)
{
  double fraction = max_fraction;
  double product;
  guint64 k;

  /* A NaN or negative fraction gives no seats beyond min. */
  if (!(fraction > 0.0))
    fraction = 0.0;
  if (fraction > 1.0)
    fraction = 1.0;
  /* Non-negative, so truncation is floor; max bounds it long before the
   * cast could overflow, but keep the cast in range anyway. */
  product = fraction * (double) n_candidates + 1e-9;
  k = product < (double) G_MAXUINT ? (guint64) product : G_MAXUINT;
  if (k < min)
    k = min;
  if (k > max)
    k = max;
  if (k < 1)
    k = 1;
  if (k > n_eligible)
    k = n_eligible;
  return (guint) k;
}

guint
cb_roles_elect_publishers (const CbRoleCandidate *candidates,
                           gsize                  n,
                           guint                  min,
                           guint                  max,
                           double                 max_fraction,
                           guint8               (*out_ids)[CB_ROLES_ID_BYTES])
{
  g_autofree const CbRoleCandidate **all = NULL;
  gsize n_unique = 0, n_eligible = 0;
  guint k;

  g_return_val_if_fail (candidates != NULL || n == 0, 0);
  g_return_val_if_fail (out_ids != NULL || n == 0, 0);
  if (n == 0)
    return 0;

  all = g_new (const CbRoleCandidate *, n);
  for (gsize i = 0; i < n; i++)
    all[i] = &candidates[i];
  qsort (all, n, sizeof *all, dedupe_ptr_cmp);

  /* Keep the first entry per id; move the eligible ones to the front. */
  for (gsize i = 0; i < n; i++)
    {
      if (i > 0 && memcmp (all[i]->id, all[i - 1]->id, CB_ROLES_ID_BYTES) == 0)
        continue;
      n_unique++;
      if (all[i]->eligible)
        all[n_eligible++] = all[i];
    }

  k = cb_roles_publisher_count (n_unique, n_eligible, min, max, max_fraction);
  qsort (all, n_eligible, sizeof *all, rank_ptr_cmp);
  for (guint i = 0; i < k; i++)
    memcpy (out_ids[i], all[i]->id, CB_ROLES_ID_BYTES);
  return k;
}

gboolean
cb_roles_is_publisher (const CbRoleCandidate *candidates,
                       gsize                  n,
                       guint                  min,
                       guint                  max,
                       double                 max_fraction,
                       const guint8           self_id[CB_ROLES_ID_BYTES])
{
  g_autofree guint8 (*ids)[CB_ROLES_ID_BYTES] = NULL;
  guint k;

  g_return_val_if_fail (self_id != NULL, FALSE);
  if (n == 0)
    return FALSE;
  ids = g_malloc_n (n, CB_ROLES_ID_BYTES);
  k = cb_roles_elect_publishers (candidates, n, min, max, max_fraction, ids);
  for (guint i = 0; i < k; i++)
    if (memcmp (ids[i], self_id, CB_ROLES_ID_BYTES) == 0)
      return TRUE;
  return FALSE;
}
