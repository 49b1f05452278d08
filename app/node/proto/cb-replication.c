/* cb-replication.c: who has what, and what to send next */
#define G_LOG_DOMAIN "cb-replication"

#include "cb-replication.h"

#include <string.h>

typedef struct {
  guint8      peer[32];
  char       *system;
  GHashTable *known;        /* writer (GBytes) -> guint64*: what the peer has, as far as we know */
  GHashTable *pending;      /* writers (GBytes) with a run queued or being sent */
  gboolean    synced;       /* its vector arrived: streaming may start */
  gint64      next_have_ms;
} Session;

typedef struct {
  guint8  peer[32];
  GQueue  rejects;          /* gint64 times */
} PeerRejects;

struct _CbReplication {
  guint       anti_entropy_ms;
  GHashTable *local;        /* system -> (writer GBytes -> guint64*) */
  GHashTable *sessions;     /* "peerhex/system" -> Session* */
  GHashTable *rejects;      /* peer (GBytes) -> PeerRejects* */
  GQueue      actions;      /* CbReplicationAction* */
};

static GBytes *
id (const guint8 bytes[32])
{
  return g_bytes_new (bytes, 32);
}

static char *
session_key (const guint8 peer[32], const char *system)
{
  static const char digits[] = "0123456789abcdef";
  GString *key = g_string_sized_new (66 + strlen (system));

  for (guint i = 0; i < 32; i++)
    {
      g_string_append_c (key, digits[peer[i] >> 4]);
      g_string_append_c (key, digits[peer[i] & 15]);
    }
  g_string_append_c (key, '/');
  g_string_append (key, system);
  return g_string_free (key, FALSE);
}

static GHashTable *
new_vector (void)
{
  return g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, g_free);
}

static guint64
vector_get (GHashTable *vector, const guint8 writer[32])
{
  g_autoptr(GBytes) key = id (writer);
  guint64 *seq = vector != NULL ? g_hash_table_lookup (vector, key) : NULL;

  return seq != NULL ? *seq : 0;
}

static void
vector_set (GHashTable *vector, const guint8 writer[32], guint64 seq)
{
  guint64 *value = g_new (guint64, 1);

  *value = seq;
  g_hash_table_replace (vector, id (writer), value);
}

static void
session_free (Session *s)
{
  g_hash_table_unref (s->known);
  g_hash_table_unref (s->pending);
  g_free (s->system);
  g_free (s);
}

static void
peer_rejects_free (PeerRejects *p)
{
  g_queue_clear_full (&p->rejects, g_free);
  g_free (p);
}

void
cb_replication_action_clear (CbReplicationAction *action)
{
  g_clear_pointer (&action->system, g_free);
}

static void
push_have (CbReplication *r, Session *s, gboolean reply)
{
  CbReplicationAction *a = g_new0 (CbReplicationAction, 1);

  a->type = CB_REPLICATION_SEND_HAVE;
  memcpy (a->peer, s->peer, 32);
  a->system = g_strdup (s->system);
  a->reply = reply;
  g_queue_push_tail (&r->actions, a);
}

static void
push_run (CbReplication *r, Session *s, const guint8 writer[32], guint64 from_seq)
{
  CbReplicationAction *a;

  /* One run per writer at a time; sent() continues from where it ended. */
  if (!g_hash_table_add (s->pending, id (writer)))
    return;
  a = g_new0 (CbReplicationAction, 1);

  a->type = CB_REPLICATION_SEND_RUN;
  memcpy (a->peer, s->peer, 32);
  a->system = g_strdup (s->system);
  memcpy (a->writer, writer, 32);
  a->from_seq = from_seq;
  g_queue_push_tail (&r->actions, a);
}

static Session *
lookup (CbReplication *r, const guint8 peer[32], const char *system)
{
  g_autofree char *key = session_key (peer, system);

  return g_hash_table_lookup (r->sessions, key);
}

/* Queues a run for every writer the peer is behind on, unless one is
 * already on its way (the caller reports it with sent()). */
static void
push_missing (CbReplication *r, Session *s)
{
  GHashTable *local = g_hash_table_lookup (r->local, s->system);
  GHashTableIter iter;
  gpointer key, value;

  if (local == NULL || !s->synced)
    return;
  g_hash_table_iter_init (&iter, local);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const guint8 *writer = g_bytes_get_data (key, NULL);
      guint64 theirs = vector_get (s->known, writer);

      if (*(guint64 *) value > theirs)
        push_run (r, s, writer, theirs + 1);
    }
}

CbReplication *
cb_replication_new (guint anti_entropy_ms)
{
  CbReplication *r = g_new0 (CbReplication, 1);

  r->anti_entropy_ms = anti_entropy_ms > 0 ? anti_entropy_ms : 5000;
  r->local = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) g_hash_table_unref);
  r->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) session_free);
  r->rejects = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                      (GDestroyNotify) peer_rejects_free);
  g_queue_init (&r->actions);
  return r;
}

void
cb_replication_free (CbReplication *r)
{
  CbReplicationAction *a;

  if (r == NULL)
    return;
  while ((a = g_queue_pop_head (&r->actions)) != NULL)
    {
      cb_replication_action_clear (a);
      g_free (a);
    }
  g_hash_table_unref (r->local);
  g_hash_table_unref (r->sessions);
  g_hash_table_unref (r->rejects);
  g_free (r);
}

void
cb_replication_local_advanced (CbReplication *r,
                               const char    *system,
                               const guint8   writer[32],
                               guint64        seq)
{
  GHashTable *local = g_hash_table_lookup (r->local, system);
  GHashTableIter iter;
  Session *s;

  if (local == NULL)
    {
      local = new_vector ();
      g_hash_table_insert (r->local, g_strdup (system), local);
    }
  if (seq <= vector_get (local, writer))
    return;
  vector_set (local, writer, seq);

  /* Stream it to every synced peer that is behind and not already being
   * sent this writer's entries (sent() continues from there). */
  g_hash_table_iter_init (&iter, r->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    {
      guint64 theirs;

      if (!s->synced || strcmp (s->system, system) != 0)
        continue;
      theirs = vector_get (s->known, writer);
      if (theirs < seq)
        push_run (r, s, writer, theirs + 1);
    }
}

guint64
cb_replication_local_seq (CbReplication *r,
                          const char    *system,
                          const guint8   writer[32])
{
  return vector_get (g_hash_table_lookup (r->local, system), writer);
}

void
cb_replication_peer_up (CbReplication *r,
                        const guint8   peer[32],
                        const char    *system,
                        gint64         now_ms)
{
  Session *s;

  if (lookup (r, peer, system) != NULL)
    return;
  s = g_new0 (Session, 1);
  memcpy (s->peer, peer, 32);
  s->system = g_strdup (system);
  s->known = new_vector ();
  s->pending = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                      NULL);
  s->next_have_ms = now_ms + r->anti_entropy_ms;
  g_hash_table_insert (r->sessions, session_key (peer, system), s);
  push_have (r, s, FALSE);
}

void
cb_replication_peer_down (CbReplication *r,
                          const guint8   peer[32])
{
  GHashTableIter iter;
  Session *s;
  g_autoptr(GBytes) key = id (peer);

  g_hash_table_iter_init (&iter, r->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    if (memcmp (s->peer, peer, 32) == 0)
      g_hash_table_iter_remove (&iter);
  g_hash_table_remove (r->rejects, key);
}

void
cb_replication_session_close (CbReplication *r,
                              const guint8   peer[32],
                              const char    *system)
{
  g_autofree char *key = session_key (peer, system);

  g_hash_table_remove (r->sessions, key);
}

GPtrArray *
cb_replication_get_peers (CbReplication *r,
                          const char    *system)
{
  GPtrArray *peers = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GHashTableIter iter;
  Session *s;

  g_hash_table_iter_init (&iter, r->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    if (g_strcmp0 (s->system, system) == 0)
      g_ptr_array_add (peers, id (s->peer));
  return peers;
}

gboolean
cb_replication_has_session (CbReplication *r,
                            const guint8   peer[32],
                            const char    *system)
{
  return lookup (r, peer, system) != NULL;
}

void
cb_replication_receive_have (CbReplication      *r,
                             const guint8        peer[32],
                             const char         *system,
                             const CbVectorItem *items,
                             gsize               n_items,
                             gboolean            is_reply,
                             gint64              now_ms)
{
  Session *s = lookup (r, peer, system);

  if (s == NULL)
    {
      /* The peer opened the session first. */
      cb_replication_peer_up (r, peer, system, now_ms);
      s = lookup (r, peer, system);
      /* Our HAVE is queued already: it doubles as the reply. */
      is_reply = TRUE;
    }
  /* Its own word replaces our optimistic bookkeeping. */
  g_hash_table_remove_all (s->known);
  for (gsize i = 0; i < n_items; i++)
    vector_set (s->known, items[i].writer, items[i].seq);
  s->synced = TRUE;
  if (!is_reply)
    push_have (r, s, TRUE);
  push_missing (r, s);
}

void
cb_replication_sent (CbReplication *r,
                     const guint8   peer[32],
                     const char    *system,
                     const guint8   writer[32],
                     guint64        last_seq)
{
  Session *s = lookup (r, peer, system);
  g_autoptr(GBytes) key = id (writer);
  guint64 before;

  if (s == NULL)
    return;
  g_hash_table_remove (s->pending, key);
  before = vector_get (s->known, writer);
  if (last_seq <= before)
    return;  /* nothing went out: wait for the next HAVE */
  vector_set (s->known, writer, last_seq);
  /* More arrived meanwhile: keep streaming. */
  if (cb_replication_local_seq (r, system, writer) > last_seq)
    push_run (r, s, writer, last_seq + 1);
}

void
cb_replication_received (CbReplication *r,
                         const guint8   peer[32],
                         const char    *system,
                         const guint8   writer[32],
                         guint64        last_seq)
{
  Session *s = lookup (r, peer, system);

  if (s != NULL && last_seq > vector_get (s->known, writer))
    vector_set (s->known, writer, last_seq);
}

void
cb_replication_resync (CbReplication *r,
                       const guint8   peer[32],
                       const char    *system)
{
  Session *s = lookup (r, peer, system);

  if (s != NULL)
    push_have (r, s, FALSE);
}

gboolean
cb_replication_rejected (CbReplication *r,
                         const guint8   peer[32],
                         gint64         now_ms,
                         guint          max_rejects,
                         guint          window_ms)
{
  g_autoptr(GBytes) key = id (peer);
  PeerRejects *p = g_hash_table_lookup (r->rejects, key);
  gint64 *when;

  if (p == NULL)
    {
      p = g_new0 (PeerRejects, 1);
      memcpy (p->peer, peer, 32);
      g_queue_init (&p->rejects);
      g_hash_table_insert (r->rejects, g_bytes_ref (key), p);
    }
  when = g_new (gint64, 1);
  *when = now_ms;
  g_queue_push_tail (&p->rejects, when);
  while (!g_queue_is_empty (&p->rejects)
         && *(gint64 *) g_queue_peek_head (&p->rejects) < now_ms - (gint64) window_ms)
    g_free (g_queue_pop_head (&p->rejects));
  return g_queue_get_length (&p->rejects) > max_rejects;
}

void
cb_replication_tick (CbReplication *r,
                     gint64         now_ms)
{
  GHashTableIter iter;
  Session *s;

  g_hash_table_iter_init (&iter, r->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    if (now_ms >= s->next_have_ms)
      {
        s->next_have_ms = now_ms + r->anti_entropy_ms;
        push_have (r, s, FALSE);
      }
}

gint64
cb_replication_next_deadline (CbReplication *r)
{
  GHashTableIter iter;
  Session *s;
  gint64 next = G_MAXINT64;

  g_hash_table_iter_init (&iter, r->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    next = MIN (next, s->next_have_ms);
  return next;
}

gboolean
cb_replication_pop_action (CbReplication       *r,
                           CbReplicationAction *out)
{
  CbReplicationAction *a = g_queue_pop_head (&r->actions);

  if (a == NULL)
    return FALSE;
  *out = *a;
  g_free (a);
  return TRUE;
}

gint64
cb_replication_lag (CbReplication *r,
                    const guint8   peer[32],
                    const char    *system)
{
  Session *s = lookup (r, peer, system);
  GHashTable *local = g_hash_table_lookup (r->local, system);
  GHashTableIter iter;
  gpointer key, value;
  gint64 lag = 0;

  if (s == NULL)
    return -1;
  if (local == NULL)
    return 0;
  g_hash_table_iter_init (&iter, local);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint64 theirs = vector_get (s->known, g_bytes_get_data (key, NULL));
      if (*(guint64 *) value > theirs)
        lag += (gint64) (*(guint64 *) value - theirs);
    }
  return lag;
}
