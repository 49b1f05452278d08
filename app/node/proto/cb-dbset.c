/* cb-dbset.c: who is in our db-set, which other sets we know, whom we
 * replicate with (the design is in cb-dbset.h) */
#define G_LOG_DOMAIN "cb-dbset"

#include "cb-dbset.h"

#include <sodium.h>
#include <string.h>

/* Own-set members kept, as a multiple of set_size (sets reach about 2.5x
 * set_size before they split), and at least OWN_CAP_MIN so a small cloud
 * with small sets keeps every host while its level climbs. */
#define OWN_CAP_FACTOR 4
#define OWN_CAP_MIN 256
/* Levels heard from others, for the one a newcomer adopts. */
#define RECENT_LEVELS 7
#define MIN_LEVELS_AGREEING 3
/* Move a level only this far past a boundary (hysteresis). */
#define LEVEL_UP_MARGIN 1.25
#define LEVEL_DOWN_MARGIN 0.8
/* Answers about a set we have no member of: the closest contacts. */
#define CLOSEST_IN_ANSWER 16
/* Contacts of other sets added to an answer, so routing tables fill by
 * gossip as well as by lookups. */
#define OTHERS_IN_ANSWER 16
/* An answer that taught us this many hosts is followed by another request
 * at once: a newcomer pulls until it has nothing more to learn. */
#define NEWS_TO_ASK_AGAIN 4
/* Gossip inside the set backs off while it teaches nothing, doubling the
 * interval up to 2^MAX_GOSSIP_BACKOFF times (Trickle, RFC 6206): a settled
 * set costs an eighth.  News still spreads at once: a settled host that
 * learns a few new members of its set pushes them to PUSH_FANOUT random
 * members, who do the same (each host forwards a newcomer once; fan-out 4
 * reaches 98% of a set by push alone), at most once per gossip interval,
 * so a forming cloud full of news is not flooded; a host that learns many
 * at once, or moves level, is behind and gossips at the base interval
 * again. */
#define MAX_GOSSIP_BACKOFF 3
#define PUSH_FANOUT 4
/* Thin sets topped up per refresh. */
#define THIN_TOP_UPS 4
/* Requests one lookup may take: more than the trie is deep is a loop. */
#define MAX_LOOKUP_HOPS 12

static const char HASH_KEY[] = "cloud-bevy-dbset-1";

void
cb_dbsets_config_init (CbDbSetsConfig *config)
{
  config->set_size = 100;
  config->sets_tracked = 100;
  config->contacts_per_set = 3;
  config->set_peers = 8;
  config->bridges = 2;
  config->gossip_interval_ms = 1000;
  config->refresh_interval_ms = 5000;
  config->max_answer = 128;
}

typedef struct {
  guint8   id[32];
  char    *addr;
  guint64  hash;
  guint64  weight;       /* pair weight with us: lower replicates first */
  guint64  bridge_rank;
  gint64   seen_ms;
} Host;

typedef struct {
  guint64    prefix;
  guint      row;        /* leading bits shared with our set */
  GPtrArray *contacts;   /* Host*, not owned (hosts owns them) */
} TrackedSet;

struct _CbDbSets {
  char           *system;
  CbDbSetsConfig  config;
  guint8          self_id[32];
  char           *self_addr;
  guint64         self_hash;
  guint64         self_bridge_rank;
  guint8          set_key[crypto_shorthash_KEYBYTES];
  guint8          pair_key[crypto_shorthash_KEYBYTES];
  guint8          bridge_key[crypto_shorthash_KEYBYTES];
  GRand          *rand;

  guint           level;
  guint           own_estimate_level;   /* what we advertise */
  guint           recent_levels[RECENT_LEVELS];
  guint           n_recent;
  guint           recent_next;
  guint64         generation;

  GHashTable     *hosts;      /* id (32 bytes, in Host) -> Host*: every host we keep */
  GPtrArray      *own;        /* Host* in our set (not us) */
  GHashTable     *sets;       /* guint64 prefix (in TrackedSet) -> TrackedSet* */
  guint           row_counts[CB_DBSET_MAX_LEVEL];
  gboolean        truncated;  /* a host was left out since the last relevel */

  gint64          next_gossip_ms;
  guint           gossip_backoff;   /* the interval is gossip_interval << this */
  GArray         *news;             /* guint8[32]: own-set hosts to push */
  gint64          next_push_ms;
  gint64          next_refresh_ms;
  /* The lookup in progress (refresh): each answer without a member of the
   * target is followed by a request to the closest host it taught us. */
  CbDbSetId       lookup_target;
  guint           lookup_best;      /* bits matched by the last host asked */
  guint           lookup_hops;      /* 0: none in progress */
  gboolean        started;
  GQueue          sends;      /* CbDbSetSend* */
};

/* ---- hashing ---- */

/* SipHash-2-4 (crypto_shorthash) keyed per label and system: placement is
 * not a secret (anyone can grind ids), it only has to be uniform and the
 * same everywhere, and the simulator hashes millions of hosts. */
static void
derive_key (const char *label, const char *system, guint8 key[crypto_shorthash_KEYBYTES])
{
  crypto_generichash_state st;

  crypto_generichash_init (&st, (const guint8 *) HASH_KEY, sizeof HASH_KEY - 1,
                           crypto_shorthash_KEYBYTES);
  crypto_generichash_update (&st, (const guint8 *) label, strlen (label) + 1);
  crypto_generichash_update (&st, (const guint8 *) system, strlen (system) + 1);
  crypto_generichash_final (&st, key, crypto_shorthash_KEYBYTES);
}

static guint64
hash64 (const guint8 key[crypto_shorthash_KEYBYTES], const guint8 *a, const guint8 *b)
{
  guint8 in[64], out[crypto_shorthash_BYTES];
  guint64 v = 0;

  memcpy (in, a, 32);
  if (b != NULL)
    memcpy (in + 32, b, 32);
  crypto_shorthash (out, in, b != NULL ? 64 : 32, key);
  for (guint i = 0; i < 8; i++)
    v = (v << 8) | out[i];
  return v;
}

guint64
cb_dbset_host_hash (const char   *system,
                    const guint8  id[32])
{
  guint8 key[crypto_shorthash_KEYBYTES];

  derive_key ("set", system, key);
  return hash64 (key, id, NULL);
}

static guint64
prefix_of (guint64 hash, guint level)
{
  return level == 0 ? 0 : hash >> (64 - level);
}

CbDbSetId
cb_dbset_id_of (guint64 hash,
                guint   level)
{
  CbDbSetId id = { level, prefix_of (hash, level) };
  return id;
}

char *
cb_dbset_id_to_string (CbDbSetId set)
{
  GString *s;

  if (set.level == 0)
    return g_strdup ("*");
  s = g_string_sized_new (set.level);
  for (guint i = set.level; i > 0; i--)
    g_string_append_c (s, (set.prefix >> (i - 1)) & 1 ? '1' : '0');
  return g_string_free (s, FALSE);
}

static guint
leading_bits_shared (guint64 a, guint64 b, guint bits)
{
  guint64 x = a ^ b;

  if (x == 0)
    return bits;
  return bits - 1 - (guint) (63 - __builtin_clzll (x));
}

/* How many leading bits of host hash h match the target set. */
static guint
closeness (guint64 h, CbDbSetId target)
{
  return leading_bits_shared (prefix_of (h, target.level), target.prefix, target.level);
}

/* ---- tables ---- */

static guint
id_hash (gconstpointer key)
{
  guint v;

  memcpy (&v, key, sizeof v);
  return v;
}

static gboolean
id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, 32) == 0;
}

static void
host_free (Host *host)
{
  g_free (host->addr);
  g_free (host);
}

static void
tracked_free (TrackedSet *set)
{
  g_ptr_array_unref (set->contacts);
  g_free (set);
}

static guint64
own_prefix (CbDbSets *s)
{
  return prefix_of (s->self_hash, s->level);
}

static gboolean
is_neighbour (CbDbSets *s, guint64 prefix)
{
  guint64 x = prefix ^ own_prefix (s);

  return x != 0 && (x & (x - 1)) == 0;
}

static void
bump (CbDbSets *s)
{
  s->generation++;
}

/* Removes host from the set tables (not from hosts). */
static void
unlink_host (CbDbSets *s, Host *host)
{
  guint64 prefix = prefix_of (host->hash, s->level);
  TrackedSet *set;

  if (prefix == own_prefix (s))
    {
      if (g_ptr_array_remove (s->own, host))
        bump (s);
      return;
    }
  set = g_hash_table_lookup (s->sets, &prefix);
  if (set == NULL || !g_ptr_array_remove (set->contacts, host))
    return;
  if (set->contacts->len == 0)
    {
      s->row_counts[set->row]--;
      g_hash_table_remove (s->sets, &prefix);
    }
  bump (s);
}

static void
drop_host (CbDbSets *s, Host *host)
{
  unlink_host (s, host);
  g_hash_table_remove (s->hosts, host->id);
}

/* A tracked set to give up for one in row `row`: a random one from the
 * fullest row, if that row is fuller than `row`; never a hypercube
 * neighbour (bridges need them). */
/* A tracked set to give up for one in row `row`: a random one from the
 * fullest row, when that row has at least two more sets than `row` (so the
 * rows even out, like water filling: near rows, which have few sets at
 * all, stay complete); never a hypercube neighbour (bridges need them). */
static TrackedSet *
pick_eviction (CbDbSets *s, guint row)
{
  GHashTableIter iter;
  gpointer value;
  TrackedSet *pick = NULL;
  guint fullest = 0, seen = 0;

  for (guint r = 1; r < s->level; r++)
    if (s->row_counts[r] > s->row_counts[fullest])
      fullest = r;
  if (s->row_counts[fullest] < s->row_counts[row] + 2)
    return NULL;
  g_hash_table_iter_init (&iter, s->sets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      TrackedSet *set = value;

      if (set->row != fullest || is_neighbour (s, set->prefix))
        continue;
      if (g_rand_int_range (s->rand, 0, (gint32) ++seen) == 0)
        pick = set;
    }
  return pick;
}

static void
evict_set (CbDbSets *s, TrackedSet *set)
{
  guint64 prefix = set->prefix;
  g_autoptr(GPtrArray) gone = g_ptr_array_copy (set->contacts, NULL, NULL);

  s->row_counts[set->row]--;
  g_hash_table_remove (s->sets, &prefix);
  for (guint i = 0; i < gone->len; i++)
    g_hash_table_remove (s->hosts, ((Host *) gone->pdata[i])->id);
  bump (s);
}

/* Contacts kept in other sets: contacts_per_set each, or more while the
 * total stays within this. */
static guint
contacts_budget (CbDbSets *s)
{
  return s->config.sets_tracked * s->config.contacts_per_set;
}

/* Places a host in the tables at the current level; FALSE (nothing
 * changed) when there is no room for it. */
static gboolean
link_host (CbDbSets *s, Host *host)
{
  guint64 prefix = prefix_of (host->hash, s->level);
  TrackedSet *set;

  if (prefix == own_prefix (s))
    {
      if (s->own->len >= MAX (OWN_CAP_FACTOR * s->config.set_size, OWN_CAP_MIN))
        {
          s->truncated = TRUE;
          return FALSE;
        }
      g_ptr_array_add (s->own, host);
      bump (s);
      return TRUE;
    }
  set = g_hash_table_lookup (s->sets, &prefix);
  if (set != NULL)
    {
      Host *oldest = NULL;

      /* While the whole table is small, keep every host: then what we
       * know is the whole cloud, and the count is exact. */
      if (set->contacts->len < s->config.contacts_per_set
          || g_hash_table_size (s->hosts) - s->own->len <= contacts_budget (s))
        {
          g_ptr_array_add (set->contacts, host);
          bump (s);
          return TRUE;
        }
      /* Keep the most recently seen contacts. */
      s->truncated = TRUE;
      for (guint i = 0; i < set->contacts->len; i++)
        {
          Host *c = set->contacts->pdata[i];
          if (oldest == NULL || c->seen_ms < oldest->seen_ms)
            oldest = c;
        }
      if (oldest->seen_ms >= host->seen_ms)
        return FALSE;
      g_ptr_array_remove (set->contacts, oldest);
      g_hash_table_remove (s->hosts, oldest->id);
      g_ptr_array_add (set->contacts, host);
      bump (s);
      return TRUE;
    }
  set = g_new0 (TrackedSet, 1);
  set->prefix = prefix;
  set->row = leading_bits_shared (prefix, own_prefix (s), s->level);
  if (g_hash_table_size (s->sets) >= s->config.sets_tracked)
    {
      TrackedSet *victim = pick_eviction (s, set->row);

      s->truncated = TRUE;
      if (victim == NULL && !is_neighbour (s, prefix))
        {
          g_free (set);
          return FALSE;
        }
      if (victim != NULL)
        evict_set (s, victim);
    }
  set->contacts = g_ptr_array_new ();
  g_ptr_array_add (set->contacts, host);
  g_hash_table_insert (s->sets, &set->prefix, set);
  s->row_counts[set->row]++;
  bump (s);
  return TRUE;
}

static gint
by_recent (gconstpointer a, gconstpointer b)
{
  const Host *x = *(Host * const *) a, *y = *(Host * const *) b;

  return x->seen_ms > y->seen_ms ? -1 : x->seen_ms < y->seen_ms;
}

/* Re-sorts every host into the tables of a new level, most recent first. */
static void
relevel (CbDbSets *s, guint level)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->hosts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (all, value);
  g_ptr_array_sort (all, by_recent);
  g_hash_table_steal_all (s->hosts);
  g_ptr_array_set_size (s->own, 0);
  g_hash_table_remove_all (s->sets);
  memset (s->row_counts, 0, sizeof s->row_counts);
  s->level = level;
  s->truncated = FALSE;
  for (guint i = 0; i < all->len; i++)
    {
      Host *host = all->pdata[i];

      g_hash_table_insert (s->hosts, host->id, host);
      if (!link_host (s, host))
        g_hash_table_remove (s->hosts, host->id);
    }
  bump (s);
}

/* ---- level ---- */

/* Hosts in the cloud: exactly those we know while we have had room for
 * all of them; once we had to leave some out, our set's size times the
 * number of sets. */
static guint64
estimate (CbDbSets *s)
{
  guint64 by_set = (guint64) (1 + s->own->len) << s->level;
  guint64 known = 1 + g_hash_table_size (s->hosts);

  return s->truncated ? MAX (by_set, known) : known;
}

/* The level our own knowledge supports, moving from `from` with hysteresis. */
static guint
estimate_level (CbDbSets *s, guint from)
{
  double ratio = (double) estimate (s) / s->config.set_size;
  guint level = from;

  while (level < CB_DBSET_MAX_LEVEL && ratio >= LEVEL_UP_MARGIN * (double) (2ULL << level))
    level++;
  while (level > 0 && ratio < LEVEL_DOWN_MARGIN * (double) (1ULL << level))
    level--;
  return level;
}

/* The deepest level that at least MIN_LEVELS_AGREEING of the recent
 * messages report: a newcomer adopts the cloud's level at once, and near a
 * boundary the hosts that already moved up pull the rest after them, so
 * the cloud settles on one level (moving down needs our own count to say
 * so, and everyone's says it alike). */
static guint
adopted_level (CbDbSets *s)
{
  guint sorted[RECENT_LEVELS];

  if (s->n_recent < MIN_LEVELS_AGREEING)
    return 0;
  memcpy (sorted, s->recent_levels, s->n_recent * sizeof (guint));
  for (guint i = 1; i < s->n_recent; i++)
    for (guint j = i; j > 0 && sorted[j - 1] < sorted[j]; j--)
      {
        guint t = sorted[j];
        sorted[j] = sorted[j - 1];
        sorted[j - 1] = t;
      }
  return sorted[MIN_LEVELS_AGREEING - 1];
}

static void
update_level (CbDbSets *s)
{
  guint level;

  /* From the level in use, so a level adopted from others is kept while
   * our own count does not clearly contradict it (hysteresis). */
  s->own_estimate_level = estimate_level (s, s->level);
  level = MAX (s->own_estimate_level, adopted_level (s));
  if (level != s->level)
    {
      g_debug ("%s: level %u -> %u (about %" G_GUINT64_FORMAT " hosts)", s->system, s->level,
               level, estimate (s));
      relevel (s, level);
    }
}

static void
heard_level (CbDbSets *s, guint level)
{
  s->recent_levels[s->recent_next] = level;
  s->recent_next = (s->recent_next + 1) % RECENT_LEVELS;
  s->n_recent = MIN (s->n_recent + 1, RECENT_LEVELS);
}

/* ---- hosts in and out ---- */

/* The host, when it is new to us and kept; NULL otherwise. */
static Host *
host_seen (CbDbSets     *s,
           const guint8  id[32],
           const char   *addr,
           gint64        now_ms)
{
  Host *host;

  if (memcmp (id, s->self_id, 32) == 0 || addr == NULL || *addr == '\0')
    return NULL;
  host = g_hash_table_lookup (s->hosts, id);
  if (host != NULL)
    {
      host->seen_ms = MAX (host->seen_ms, now_ms);
      if (g_strcmp0 (host->addr, addr) != 0)
        {
          g_free (host->addr);
          host->addr = g_strdup (addr);
          bump (s);
        }
      return NULL;
    }
  host = g_new0 (Host, 1);
  memcpy (host->id, id, 32);
  host->addr = g_strdup (addr);
  host->hash = hash64 (s->set_key, id, NULL);
  host->weight = memcmp (id, s->self_id, 32) < 0 ? hash64 (s->pair_key, id, s->self_id)
                                                  : hash64 (s->pair_key, s->self_id, id);
  host->bridge_rank = hash64 (s->bridge_key, id, NULL);
  host->seen_ms = now_ms;
  g_hash_table_insert (s->hosts, host->id, host);
  if (!link_host (s, host))
    {
      g_hash_table_remove (s->hosts, host->id);
      return NULL;
    }
  return host;
}

void
cb_dbsets_host_seen (CbDbSets     *s,
                     const guint8  id[32],
                     const char   *addr,
                     gint64        now_ms)
{
  host_seen (s, id, addr, now_ms);
  update_level (s);
}

void
cb_dbsets_host_gone (CbDbSets     *s,
                     const guint8  id[32])
{
  Host *host = g_hash_table_lookup (s->hosts, id);

  if (host == NULL)
    return;
  drop_host (s, host);
  update_level (s);
}

/* ---- messages ---- */

static Host *closest_to (CbDbSets *s, CbDbSetId target);

static void
queue_send (CbDbSets *s, const guint8 to[32], const char *addr, const CbDbSetMessage *message)
{
  g_autoptr(GError) error = NULL;
  GBytes *data = cb_dbset_encode (message, &error);
  CbDbSetSend *send;

  if (data == NULL)
    {
      g_warning ("cannot encode a db-set message: %s", error->message);
      return;
    }
  send = g_new0 (CbDbSetSend, 1);
  memcpy (send->to_id, to, 32);
  send->to_addr = g_strdup (addr);
  send->data = data;
  g_queue_push_tail (&s->sends, send);
}

static void
send_request (CbDbSets *s, const Host *to, CbDbSetId target)
{
  CbDbSetMessage m = { 0 };

  m.type = CB_DBSET_MSG_REQUEST;
  m.system = s->system;
  m.level = s->own_estimate_level;
  m.addr = s->self_addr;
  m.target = target;
  queue_send (s, to->id, to->addr, &m);
}

static gint
by_closeness (gconstpointer a, gconstpointer b, gpointer data)
{
  const CbDbSetId *target = data;
  const Host *x = *(Host * const *) a, *y = *(Host * const *) b;
  guint cx = closeness (x->hash, *target), cy = closeness (y->hash, *target);

  return cx > cy ? -1 : cx < cy;
}

/* Moves a random sample of up to n elements to the front. */
static void
shuffle_prefix (CbDbSets *s, GPtrArray *array, guint n)
{
  for (guint i = 0; i < array->len && i < n; i++)
    {
      guint j = i + (guint) g_rand_int_range (s->rand, 0, (gint32) (array->len - i));
      gpointer t = array->pdata[i];
      array->pdata[i] = array->pdata[j];
      array->pdata[j] = t;
    }
}

static void
answer (CbDbSets *s, const guint8 to[32], const char *to_addr, CbDbSetId target)
{
  g_autoptr(GPtrArray) matching = g_ptr_array_new ();
  g_autofree CbDbSetHost *hosts = NULL;
  CbDbSetMessage m = { 0 };
  GHashTableIter iter;
  gpointer value;
  guint n = 0, max = MIN (s->config.max_answer, CB_DBSET_MAX_ANSWER - 1 - OTHERS_IN_ANSWER);
  gboolean in_target;

  /* At our level the hosts of a set are in one place (our own set, or a
   * tracked set's contacts): no need to look at every host. */
  if (target.level == s->level)
    {
      TrackedSet *set = target.prefix == own_prefix (s)
                        ? NULL : g_hash_table_lookup (s->sets, &target.prefix);
      GPtrArray *in = target.prefix == own_prefix (s) ? s->own
                      : set != NULL ? set->contacts : NULL;

      for (guint i = 0; in != NULL && i < in->len; i++)
        if (memcmp (((Host *) in->pdata[i])->id, to, 32) != 0)
          g_ptr_array_add (matching, in->pdata[i]);
    }
  else
    {
      g_hash_table_iter_init (&iter, s->hosts);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Host *host = value;
          if (memcmp (host->id, to, 32) != 0 && closeness (host->hash, target) == target.level)
            g_ptr_array_add (matching, host);
        }
    }
  in_target = matching->len > 0;
  if (!in_target)
    {
      /* None in the set: the hosts nearest to it, for the next hop. */
      g_hash_table_iter_init (&iter, s->hosts);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (memcmp (((Host *) value)->id, to, 32) != 0)
          g_ptr_array_add (matching, value);
      g_ptr_array_sort_with_data (matching, by_closeness, &target);
      if (matching->len > CLOSEST_IN_ANSWER)
        g_ptr_array_set_size (matching, CLOSEST_IN_ANSWER);
    }
  /* A random sample when there are more than fit: repeated requests then
   * cover the whole set. */
  shuffle_prefix (s, matching, max);
  if (matching->len > max)
    g_ptr_array_set_size (matching, max);
  if (in_target && matching->len + OTHERS_IN_ANSWER <= max)
    {
      /* And a contact in each of a few other sets (none in the target). */
      g_autoptr(GPtrArray) others = g_ptr_array_new ();

      g_hash_table_iter_init (&iter, s->sets);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          TrackedSet *set = value;
          Host *c = set->contacts->pdata[0];

          if (memcmp (c->id, to, 32) != 0 && closeness (c->hash, target) < target.level)
            g_ptr_array_add (others, c);
        }
      shuffle_prefix (s, others, OTHERS_IN_ANSWER);
      for (guint i = 0; i < others->len && i < OTHERS_IN_ANSWER; i++)
        g_ptr_array_add (matching, others->pdata[i]);
    }
  hosts = g_new0 (CbDbSetHost, matching->len + 1);
  for (guint i = 0; i < matching->len; i++)
    {
      Host *host = matching->pdata[i];
      memcpy (hosts[n].id, host->id, 32);
      hosts[n++].addr = host->addr;
    }
  if (closeness (s->self_hash, target) == target.level)
    {
      memcpy (hosts[n].id, s->self_id, 32);
      hosts[n++].addr = s->self_addr;
    }
  m.type = CB_DBSET_MSG_ANSWER;
  m.system = s->system;
  m.level = s->own_estimate_level;
  m.addr = s->self_addr;
  m.target = target;
  m.hosts = hosts;
  m.n_hosts = n;
  queue_send (s, to, to_addr, &m);
}

/* One hop of a lookup: ask the known host closest to the target, if it is
 * closer than the last one asked and we know no member yet. */
static void
continue_lookup (CbDbSets *s)
{
  Host *to;
  guint c;

  if (s->lookup_target.level != s->level || s->lookup_hops >= MAX_LOOKUP_HOPS)
    {
      s->lookup_hops = 0;
      return;
    }
  to = closest_to (s, s->lookup_target);
  c = to != NULL ? closeness (to->hash, s->lookup_target) : 0;
  if (to == NULL || (s->lookup_hops > 0 && c <= s->lookup_best)
      || (s->lookup_hops > 0 && c == s->level))
    {
      s->lookup_hops = 0;
      return;
    }
  s->lookup_best = c;
  s->lookup_hops++;
  send_request (s, to, s->lookup_target);
}

static gint64 jitter (CbDbSets *s, guint interval_ms);

/* We are behind: gossip at the base interval again. */
static void
gossip_again (CbDbSets *s,
              gint64    now_ms)
{
  if (s->gossip_backoff == 0 || !s->started)
    return;
  s->gossip_backoff = 0;
  s->next_gossip_ms = MIN (s->next_gossip_ms, now_ms + jitter (s, s->config.gossip_interval_ms));
}

/* The news, as an unasked ANSWER for our set, to a few random members
 * other than the new ones; hosts gone since are left out. */
static void
push_news (CbDbSets *s,
           gint64    now_ms)
{
  g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  g_autofree CbDbSetHost *hosts = NULL;
  CbDbSetMessage m = { 0 };

  for (guint i = 0; i < s->news->len && fresh->len < s->config.max_answer; i++)
    {
      Host *h = g_hash_table_lookup (s->hosts, &g_array_index (s->news, guint8, 32 * i));

      if (h != NULL && g_ptr_array_find (s->own, h, NULL) && !g_ptr_array_find (fresh, h, NULL))
        g_ptr_array_add (fresh, h);
    }
  g_array_set_size (s->news, 0);
  s->next_push_ms = now_ms + s->config.gossip_interval_ms;
  if (fresh->len == 0)
    return;
  for (guint i = 0; i < s->own->len; i++)
    if (!g_ptr_array_find (fresh, s->own->pdata[i], NULL))
      g_ptr_array_add (candidates, s->own->pdata[i]);
  shuffle_prefix (s, candidates, PUSH_FANOUT);
  hosts = g_new0 (CbDbSetHost, fresh->len);
  for (guint i = 0; i < fresh->len; i++)
    {
      memcpy (hosts[i].id, ((Host *) fresh->pdata[i])->id, 32);
      hosts[i].addr = ((Host *) fresh->pdata[i])->addr;
    }
  m.type = CB_DBSET_MSG_ANSWER;
  m.system = s->system;
  m.level = s->own_estimate_level;
  m.addr = s->self_addr;
  m.target = cb_dbsets_get_own_set (s);
  m.hosts = hosts;
  m.n_hosts = fresh->len;
  for (guint i = 0; i < candidates->len && i < PUSH_FANOUT; i++)
    {
      Host *to = candidates->pdata[i];

      queue_send (s, to->id, to->addr, &m);
    }
}

void
cb_dbsets_receive (CbDbSets             *s,
                   const guint8          from[32],
                   const CbDbSetMessage *message,
                   gint64                now_ms)
{
  if (g_strcmp0 (message->system, s->system) != 0 || memcmp (from, s->self_id, 32) == 0)
    return;
  {
    guint before = g_hash_table_size (s->hosts);
    guint level = s->level;
    g_autoptr(GPtrArray) news = g_ptr_array_new ();
    Host *host;

    heard_level (s, message->level);
    if ((host = host_seen (s, from, message->addr, now_ms)) != NULL)
      g_ptr_array_add (news, host);
    if (message->type == CB_DBSET_MSG_ANSWER)
      for (guint i = 0; i < message->n_hosts; i++)
        if ((host = host_seen (s, message->hosts[i].id, message->hosts[i].addr, now_ms)) != NULL)
          g_ptr_array_add (news, host);
    update_level (s);
    /* Of what is new, what joined our set (relevel may have moved it). */
    for (guint i = news->len; i > 0; i--)
      if (s->level != level || !g_ptr_array_find (s->own, news->pdata[i - 1], NULL))
        g_ptr_array_remove_index_fast (news, i - 1);
    if (s->level != level || news->len >= NEWS_TO_ASK_AGAIN)
      gossip_again (s, now_ms);
    else if (news->len > 0 && s->gossip_backoff > 0)
      {
        for (guint i = 0; i < news->len; i++)
          g_array_append_vals (s->news, ((Host *) news->pdata[i])->id, 1);
        if (now_ms >= s->next_push_ms)
          push_news (s, now_ms);
      }
    if (message->type == CB_DBSET_MSG_REQUEST)
      {
        answer (s, from, message->addr, message->target);
        return;
      }
    if (g_hash_table_size (s->hosts) >= before + NEWS_TO_ASK_AGAIN)
      s->next_gossip_ms = MIN (s->next_gossip_ms, now_ms);
  }
  if (s->lookup_hops > 0 && message->target.level == s->lookup_target.level
      && message->target.prefix == s->lookup_target.prefix)
    continue_lookup (s);
}

/* ---- time ---- */

static Host *
random_own (CbDbSets *s)
{
  if (s->own->len == 0)
    return NULL;
  return s->own->pdata[g_rand_int_range (s->rand, 0, (gint32) s->own->len)];
}

static Host *
closest_to (CbDbSets *s, CbDbSetId target)
{
  GHashTableIter iter;
  gpointer value;
  Host *best = NULL;
  guint best_c = 0, ties = 0;

  g_hash_table_iter_init (&iter, s->hosts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Host *host = value;
      guint c = closeness (host->hash, target);

      if (best == NULL || c > best_c)
        best = host, best_c = c, ties = 1;
      else if (c == best_c && g_rand_int_range (s->rand, 0, (gint32) ++ties) == 0)
        best = host;
    }
  return best;
}

static gint64
jitter (CbDbSets *s, guint interval_ms)
{
  return interval_ms / 2 + g_rand_int_range (s->rand, 0, (gint32) MAX (1u, interval_ms));
}

/* Sets in row r: those that share exactly r leading bits with ours. */
static guint64
row_capacity (CbDbSets *s, guint row)
{
  guint free_bits = s->level - row - 1;

  return free_bits >= 40 ? G_MAXUINT64 : 1ULL << free_bits;
}

/* A tracked set with fewer contacts than we keep: one dead contact away
 * from unreachable. */
static gboolean
has_thin_set (CbDbSets *s)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->sets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((TrackedSet *) value)->contacts->len < s->config.contacts_per_set)
      return TRUE;
  return FALSE;
}

/* Asks the contact of a few sets we know too few hosts in for more of
 * them (the answer lists the set's members): a set must not hang on one
 * contact that may die. */
static void
top_up_thin_sets (CbDbSets *s)
{
  GHashTableIter iter;
  gpointer value;
  guint asked = 0;

  g_hash_table_iter_init (&iter, s->sets);
  while (asked < THIN_TOP_UPS && g_hash_table_iter_next (&iter, NULL, &value))
    {
      TrackedSet *set = value;

      if (set->contacts->len < s->config.contacts_per_set && set->contacts->len > 0)
        {
          CbDbSetId target = { s->level, set->prefix };
          Host *c = set->contacts->pdata[g_rand_int_range (s->rand, 0,
                                                           (gint32) set->contacts->len)];

          send_request (s, c, target);
          asked++;
        }
    }
}

/* A set to look up: preferably one we do not track yet, in a row that is
 * not complete, so tables fill quickly; otherwise any (refreshing). */
static CbDbSetId
pick_refresh_target (CbDbSets *s)
{
  guint rows[CB_DBSET_MAX_LEVEL];
  guint n_rows = 0, row;
  CbDbSetId target = { s->level, 0 };

  for (guint r = 0; r < s->level; r++)
    if (s->row_counts[r] < row_capacity (s, r))
      rows[n_rows++] = r;
  if (n_rows == 0 || g_hash_table_size (s->sets) >= s->config.sets_tracked)
    {
      /* Every set we can track is tracked: top up one with too few
       * contacts, so a dead contact is not the only way in. */
      GHashTableIter iter;
      gpointer value;
      TrackedSet *thin = NULL;
      guint seen = 0;

      g_hash_table_iter_init (&iter, s->sets);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (((TrackedSet *) value)->contacts->len < s->config.contacts_per_set
            && g_rand_int_range (s->rand, 0, (gint32) ++seen) == 0)
          thin = value;
      if (thin != NULL)
        {
          target.prefix = thin->prefix;
          return target;
        }
    }
  row = n_rows > 0 ? rows[g_rand_int_range (s->rand, 0, (gint32) n_rows)]
                   : (guint) g_rand_int_range (s->rand, 0, (gint32) s->level);
  for (guint attempt = 0; attempt < 8; attempt++)
    {
      guint64 below = row_capacity (s, row) - 1;
      guint64 random = (guint64) g_rand_int (s->rand) << 32 | g_rand_int (s->rand);

      target.prefix = ((own_prefix (s) ^ (1ULL << (s->level - row - 1))) & ~below)
                      | (random & below);
      if (n_rows == 0 || !g_hash_table_contains (s->sets, &target.prefix))
        break;
    }
  return target;
}

void
cb_dbsets_tick (CbDbSets *s,
                gint64    now_ms)
{
  if (!s->started)
    {
      s->started = TRUE;
      s->next_gossip_ms = now_ms;
      s->next_refresh_ms = now_ms + jitter (s, s->config.refresh_interval_ms);
    }
  update_level (s);
  if (s->news->len > 0 && now_ms >= s->next_push_ms)
    push_news (s, now_ms);
  if (now_ms >= s->next_gossip_ms)
    {
      CbDbSetId own = cb_dbsets_get_own_set (s);
      Host *to = random_own (s);

      if (to == NULL)
        to = closest_to (s, own);
      if (to != NULL)
        send_request (s, to, own);
      s->next_gossip_ms = now_ms + jitter (s, s->config.gossip_interval_ms << s->gossip_backoff);
      s->gossip_backoff = MIN (s->gossip_backoff + 1, MAX_GOSSIP_BACKOFF);
    }
  if (now_ms >= s->next_refresh_ms)
    {
      guint64 other_sets = s->level >= 32 ? G_MAXUINT32 : (1ULL << s->level) - 1;
      gboolean incomplete = g_hash_table_size (s->sets) < MIN (other_sets,
                                                                (guint64) s->config.sets_tracked)
                            || has_thin_set (s);

      if (s->level > 0)
        {
          s->lookup_target = pick_refresh_target (s);
          s->lookup_hops = 0;
          continue_lookup (s);
        }
      top_up_thin_sets (s);
      s->next_refresh_ms = now_ms + jitter (s, incomplete ? s->config.gossip_interval_ms
                                                          : s->config.refresh_interval_ms);
    }
}

gint64
cb_dbsets_next_deadline (CbDbSets *s)
{
  if (!s->started)
    return 0;
  if (s->news->len > 0)
    return MIN (MIN (s->next_gossip_ms, s->next_refresh_ms), s->next_push_ms);
  return MIN (s->next_gossip_ms, s->next_refresh_ms);
}

gboolean
cb_dbsets_pop_send (CbDbSets    *s,
                    CbDbSetSend *out)
{
  CbDbSetSend *send = g_queue_pop_head (&s->sends);

  if (send == NULL)
    return FALSE;
  *out = *send;
  g_free (send);
  return TRUE;
}

void
cb_dbset_send_clear (CbDbSetSend *send)
{
  g_free (send->to_addr);
  g_clear_pointer (&send->data, g_bytes_unref);
}

void
cb_dbset_target_free (CbDbSetTarget *target)
{
  g_free (target->addr);
  g_free (target);
}

/* ---- views ---- */

guint64
cb_dbsets_get_generation (CbDbSets *s)
{
  return s->generation;
}

guint
cb_dbsets_get_level (CbDbSets *s)
{
  return s->level;
}

CbDbSetId
cb_dbsets_get_own_set (CbDbSets *s)
{
  return cb_dbset_id_of (s->self_hash, s->level);
}

guint
cb_dbsets_count_own (CbDbSets *s)
{
  return 1 + s->own->len;
}

guint
cb_dbsets_count_tracked (CbDbSets *s)
{
  return g_hash_table_size (s->sets);
}

guint
cb_dbsets_count_contacts (CbDbSets *s)
{
  return g_hash_table_size (s->hosts) - s->own->len;
}

guint64
cb_dbsets_estimate_hosts (CbDbSets *s)
{
  return estimate (s);
}

gboolean
cb_dbsets_is_bridge (CbDbSets *s)
{
  guint below = 0;

  /* Only the number of members ranked before us matters. */
  for (guint i = 0; i < s->own->len; i++)
    if (((Host *) s->own->pdata[i])->bridge_rank < s->self_bridge_rank)
      below++;
  return below < s->config.bridges;
}

static gint
by_weight (gconstpointer a, gconstpointer b)
{
  const Host *x = *(Host * const *) a, *y = *(Host * const *) b;

  return x->weight < y->weight ? -1 : x->weight > y->weight;
}

static void
add_partner (GPtrArray *out, const Host *host)
{
  CbDbSetHost *p = g_new0 (CbDbSetHost, 1);

  memcpy (p->id, host->id, 32);
  p->addr = g_strdup (host->addr);
  g_ptr_array_add (out, p);
}

static void
partner_free (CbDbSetHost *p)
{
  g_free (p->addr);
  g_free (p);
}

GPtrArray *
cb_dbsets_get_partners (CbDbSets *s)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) partner_free);
  g_autoptr(GPtrArray) own = g_ptr_array_copy (s->own, NULL, NULL);

  g_ptr_array_sort (own, by_weight);
  for (guint i = 0; i < own->len && i < s->config.set_peers; i++)
    add_partner (out, own->pdata[i]);
  if (!cb_dbsets_is_bridge (s))
    return out;
  for (guint r = 0; r < s->level; r++)
    {
      guint64 prefix = own_prefix (s) ^ (1ULL << (s->level - 1 - r));
      TrackedSet *set = g_hash_table_lookup (s->sets, &prefix);
      const Host *best = NULL;

      for (guint i = 0; set != NULL && i < set->contacts->len; i++)
        {
          const Host *c = set->contacts->pdata[i];
          if (best == NULL || c->weight < best->weight)
            best = c;
        }
      if (best != NULL)
        add_partner (out, best);
    }
  return out;
}

static void
add_target (GPtrArray *out, CbDbSetId set, const Host *host)
{
  CbDbSetTarget *t = g_new0 (CbDbSetTarget, 1);

  t->set = set;
  memcpy (t->id, host->id, 32);
  t->addr = g_strdup (host->addr);
  g_ptr_array_add (out, t);
}

GPtrArray *
cb_dbsets_pick_query_targets (CbDbSets *s,
                              guint     n)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_dbset_target_free);
  g_autoptr(GPtrArray) sets = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  Host *own = random_own (s);

  if (own != NULL && n > 0)
    add_target (out, cb_dbsets_get_own_set (s), own);
  g_hash_table_iter_init (&iter, s->sets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (sets, value);
  for (guint i = 0; i < sets->len && out->len < n; i++)
    {
      guint j = i + (guint) g_rand_int_range (s->rand, 0, (gint32) (sets->len - i));
      TrackedSet *set = sets->pdata[j];
      const Host *best = NULL;

      sets->pdata[j] = sets->pdata[i];
      sets->pdata[i] = set;
      for (guint k = 0; k < set->contacts->len; k++)
        {
          const Host *c = set->contacts->pdata[k];
          if (best == NULL || c->seen_ms > best->seen_ms)
            best = c;
        }
      add_target (out, (CbDbSetId) { s->level, set->prefix }, best);
    }
  return out;
}

const char *
cb_dbsets_lookup_addr (CbDbSets     *s,
                       const guint8  id[32])
{
  Host *host = g_hash_table_lookup (s->hosts, id);

  return host != NULL ? host->addr : NULL;
}

CbDbSetTarget *
cb_dbsets_pick_contact (CbDbSets  *s,
                        CbDbSetId  set)
{
  g_autoptr(GPtrArray) one = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_dbset_target_free);
  const Host *best = NULL;

  if (set.level != s->level)
    return NULL;
  if (set.prefix == own_prefix (s))
    best = random_own (s);
  else
    {
      TrackedSet *tracked = g_hash_table_lookup (s->sets, &set.prefix);

      for (guint k = 0; tracked != NULL && k < tracked->contacts->len; k++)
        {
          const Host *c = tracked->contacts->pdata[k];
          if (best == NULL || c->seen_ms > best->seen_ms)
            best = c;
        }
    }
  if (best == NULL)
    return NULL;
  add_target (one, set, best);
  return g_ptr_array_steal_index (one, 0);
}

GPtrArray *
cb_dbsets_get_contacts (CbDbSets  *s,
                        CbDbSetId  set,
                        guint      max)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_dbset_target_free);
  g_autoptr(GPtrArray) hosts = NULL;

  if (set.level != s->level)
    return out;
  if (set.prefix == own_prefix (s))
    {
      hosts = g_ptr_array_copy (s->own, NULL, NULL);
      shuffle_prefix (s, hosts, hosts->len);
    }
  else
    {
      TrackedSet *tracked = g_hash_table_lookup (s->sets, &set.prefix);

      if (tracked == NULL)
        return out;
      hosts = g_ptr_array_copy (tracked->contacts, NULL, NULL);
      g_ptr_array_sort (hosts, by_recent);
    }
  for (guint i = 0; i < hosts->len && i < max; i++)
    add_target (out, set, hosts->pdata[i]);
  return out;
}

gsize
cb_dbsets_state_bytes (CbDbSets *s)
{
  /* Per hash table entry GLib keeps a hash, a key and a value pointer in
   * arrays sized to a power of two: count 2x 24 bytes. */
  gsize bytes = sizeof *s + strlen (s->system) + strlen (s->self_addr) + 2;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, s->hosts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    bytes += sizeof (Host) + strlen (((Host *) value)->addr) + 1 + 48;
  bytes += s->own->len * sizeof (gpointer) + sizeof (GPtrArray);
  bytes += g_hash_table_size (s->sets)
           * (sizeof (TrackedSet) + sizeof (GPtrArray) + s->config.contacts_per_set * 8 + 48);
  bytes += g_queue_get_length (&s->sends) * (sizeof (CbDbSetSend) + 512);
  bytes += s->news->len * 32;
  return bytes;
}

/* ---- life ---- */

CbDbSets *
cb_dbsets_new (const char           *system,
               const guint8          self_id[32],
               const char           *self_addr,
               const CbDbSetsConfig *config,
               guint64               seed)
{
  CbDbSets *s = g_new0 (CbDbSets, 1);

  s->system = g_strdup (system);
  s->config = *config;
  s->config.set_size = MAX (1u, s->config.set_size);
  s->config.contacts_per_set = MAX (1u, s->config.contacts_per_set);
  memcpy (s->self_id, self_id, 32);
  s->self_addr = g_strdup (self_addr);
  derive_key ("set", system, s->set_key);
  derive_key ("pair", system, s->pair_key);
  derive_key ("bridge", system, s->bridge_key);
  s->self_hash = hash64 (s->set_key, self_id, NULL);
  s->self_bridge_rank = hash64 (s->bridge_key, self_id, NULL);
  s->rand = g_rand_new_with_seed_array ((const guint32 *) &seed, 2);
  s->hosts = g_hash_table_new_full (id_hash, id_equal, NULL, (GDestroyNotify) host_free);
  s->own = g_ptr_array_new ();
  s->sets = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                   (GDestroyNotify) tracked_free);
  g_queue_init (&s->sends);
  s->news = g_array_new (FALSE, FALSE, 32);
  return s;
}

void
cb_dbsets_free (CbDbSets *s)
{
  CbDbSetSend send;

  if (s == NULL)
    return;
  while (cb_dbsets_pop_send (s, &send))
    cb_dbset_send_clear (&send);
  g_array_unref (s->news);
  g_hash_table_unref (s->sets);
  g_ptr_array_unref (s->own);
  g_hash_table_unref (s->hosts);
  g_rand_free (s->rand);
  g_free (s->system);
  g_free (s->self_addr);
  g_free (s);
}
