/* cb-entry.c: an entry's row changes, for validators */
#define G_LOG_DOMAIN "cb-sdk"

#include "cb-sdk-host.h"

typedef struct {
  CbChangeKind  kind;
  char         *table;
  JsonObject   *row;
} Change;

struct _CbEntry
{
  char     *system;
  char     *writer;
  gboolean  local;
  GArray   *changes;  /* Change */
};

static void
change_clear (gpointer data)
{
  Change *change = data;

  g_free (change->table);
  json_object_unref (change->row);
}

CbEntry *
_cb_entry_new (const char *system,
               const char *writer_hex,
               gboolean    local)
{
  CbEntry *entry = g_new0 (CbEntry, 1);

  entry->system = g_strdup (system);
  entry->writer = g_strdup (writer_hex);
  entry->local = local;
  entry->changes = g_array_new (FALSE, TRUE, sizeof (Change));
  g_array_set_clear_func (entry->changes, change_clear);
  return entry;
}

void
_cb_entry_add_change (CbEntry      *entry,
                      CbChangeKind  kind,
                      const char   *table,
                      JsonObject   *row)
{
  Change change = { kind, g_strdup (table), row };

  g_array_append_val (entry->changes, change);
}

void
_cb_entry_free (CbEntry *entry)
{
  if (entry == NULL)
    return;
  g_array_unref (entry->changes);
  g_free (entry->system);
  g_free (entry->writer);
  g_free (entry);
}

const char *
cb_entry_get_system (const CbEntry *entry)
{
  return entry->system;
}

const char *
cb_entry_get_writer (const CbEntry *entry)
{
  return entry->writer;
}

gboolean
cb_entry_is_local (const CbEntry *entry)
{
  return entry->local;
}

guint
cb_entry_get_n_changes (const CbEntry *entry)
{
  return entry->changes->len;
}

static const Change *
change_at (const CbEntry *entry, guint i)
{
  g_return_val_if_fail (i < entry->changes->len, NULL);
  return &g_array_index (entry->changes, Change, i);
}

CbChangeKind
cb_entry_get_change_kind (const CbEntry *entry,
                          guint          i)
{
  const Change *change = change_at (entry, i);

  return change != NULL ? change->kind : CB_CHANGE_UPSERT;
}

const char *
cb_entry_get_change_table (const CbEntry *entry,
                           guint          i)
{
  const Change *change = change_at (entry, i);

  return change != NULL ? change->table : NULL;
}

JsonObject *
cb_entry_get_change_row (const CbEntry *entry,
                         guint          i)
{
  const Change *change = change_at (entry, i);

  return change != NULL ? change->row : NULL;
}
