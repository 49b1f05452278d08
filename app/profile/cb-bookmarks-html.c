/* cb-bookmarks-html.c: reading and writing the HTML bookmarks file */
#define G_LOG_DOMAIN "cb-bookmarks"

#include "cb-bookmarks-html.h"
#include "cb-profile-db.h"

#include <string.h>

CbBookmarksHtmlItem *
cb_bookmarks_html_item_new_folder (const char *title)
{
  CbBookmarksHtmlItem *item = g_new0 (CbBookmarksHtmlItem, 1);

  item->is_folder = TRUE;
  item->title = g_strdup (title ? title : "");
  item->children = g_ptr_array_new_with_free_func ((GDestroyNotify) cb_bookmarks_html_item_free);
  return item;
}

CbBookmarksHtmlItem *
cb_bookmarks_html_item_new (const char *title,
                            const char *url,
                            const char *tags,
                            gint64      added)
{
  CbBookmarksHtmlItem *item = g_new0 (CbBookmarksHtmlItem, 1);

  item->title = g_strdup (title ? title : "");
  item->url = g_strdup (url);
  item->tags = g_strdup (tags);
  item->added = added;
  return item;
}

void
cb_bookmarks_html_item_free (CbBookmarksHtmlItem *item)
{
  if (item == NULL)
    return;
  g_free (item->title);
  g_free (item->url);
  g_free (item->tags);
  g_clear_pointer (&item->children, g_ptr_array_unref);
  g_free (item);
}

guint
cb_bookmarks_html_count (const CbBookmarksHtmlItem *root)
{
  guint n = 0;

  if (!root->is_folder)
    return 1;
  for (guint i = 0; i < root->children->len; i++)
    n += cb_bookmarks_html_count (root->children->pdata[i]);
  return n;
}

/* --- parsing --- */

typedef struct {
  const char *p, *end;
  guint line;
  gboolean netscape_doctype;
  gboolean saw_list;
  GPtrArray *stack;              /* CbBookmarksHtmlItem* (borrowed), innermost last */
  CbBookmarksHtmlItem *root;
  CbBookmarksHtmlItem *pending;  /* a folder whose <DL> should come next */
  /* The item whose text is being read (<A> or <H3>), if any. */
  CbBookmarksHtmlItem *capture;
  GString *text;
  guint items;
  guint *skipped;
} Parser;

static gboolean
fail (Parser      *parser,
      GError     **error,
      const char  *format,
      ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (Parser      *parser,
      GError     **error,
      const char  *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID,
               "Not a usable bookmarks file: %s (line %u)", message, parser->line);
  return FALSE;
}

static void
advance (Parser *parser,
         gsize   n)
{
  for (gsize i = 0; i < n && parser->p < parser->end; i++, parser->p++)
    if (*parser->p == '\n')
      parser->line++;
}

static void
append_codepoint (GString  *out,
                  gunichar  c)
{
  if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    c = 0xFFFD;
  g_string_append_unichar (out, c);
}

/* Appends @len bytes of HTML text to @out with entities decoded. */
static void
append_decoded (GString    *out,
                const char *s,
                gsize       len)
{
  static const struct { const char *name; const char *value; } named[] = {
    { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
    { "nbsp", "\xc2\xa0" },
  };
  const char *end = s + len;

  while (s < end)
    {
      const char *semi;
      gboolean done = FALSE;

      if (*s != '&' || (semi = memchr (s, ';', (gsize) (end - s))) == NULL || semi - s > 12)
        {
          g_string_append_c (out, *s++);
          continue;
        }
      if (s[1] == '#')
        {
          gboolean hex = s[2] == 'x' || s[2] == 'X';
          const char *digits = s + (hex ? 3 : 2);
          guint64 value = 0;
          gboolean ok = digits < semi;

          for (const char *d = digits; d < semi && ok; d++)
            {
              if (hex ? !g_ascii_isxdigit (*d) : !g_ascii_isdigit (*d))
                ok = FALSE;
              else
                value = value * (hex ? 16 : 10) + (guint64) (hex ? g_ascii_xdigit_value (*d)
                                                                 : g_ascii_digit_value (*d));
              if (value > 0x10FFFF)
                value = 0x110000;  /* saturate: stays invalid */
            }
          if (ok)
            {
              append_codepoint (out, (gunichar) value);
              done = TRUE;
            }
        }
      else
        for (gsize i = 0; i < G_N_ELEMENTS (named) && !done; i++)
          if ((gsize) (semi - s - 1) == strlen (named[i].name) &&
              g_ascii_strncasecmp (s + 1, named[i].name, (gsize) (semi - s - 1)) == 0)
            {
              g_string_append (out, named[i].value);
              done = TRUE;
            }
      if (done)
        s = semi + 1;
      else
        g_string_append_c (out, *s++);
    }
}

static char *
collapse_space (const char *text)
{
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean space = FALSE;

  for (const char *p = text; *p; p++)
    {
      if (g_ascii_isspace (*p))
        space = out->len > 0;
      else
        {
          if (space)
            g_string_append_c (out, ' ');
          space = FALSE;
          g_string_append_c (out, *p);
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct {
  char name[16];
  gboolean closing;
  GHashTable *attributes;  /* lower-case name -> decoded value */
} Tag;

static void
tag_clear (Tag *tag)
{
  g_clear_pointer (&tag->attributes, g_hash_table_unref);
}

/* At '<' (not a comment or declaration): reads up to and including '>'. */
static gboolean
read_tag (Parser  *parser,
          Tag     *tag,
          GError **error)
{
  gsize n = 0;

  advance (parser, 1);
  tag->attributes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (parser->p < parser->end && *parser->p == '/')
    {
      tag->closing = TRUE;
      advance (parser, 1);
    }
  while (parser->p < parser->end && g_ascii_isalnum (*parser->p))
    {
      if (n + 1 < sizeof tag->name)
        tag->name[n++] = g_ascii_tolower (*parser->p);
      advance (parser, 1);
    }
  tag->name[n] = '\0';

  for (;;)
    {
      const char *name_start;
      g_autofree char *name = NULL;
      g_autoptr(GString) value = g_string_new (NULL);

      while (parser->p < parser->end && (g_ascii_isspace (*parser->p) || *parser->p == '/'))
        advance (parser, 1);
      if (parser->p >= parser->end)
        return fail (parser, error, "a tag is not closed with '>'");
      if (*parser->p == '>')
        {
          advance (parser, 1);
          return TRUE;
        }
      name_start = parser->p;
      while (parser->p < parser->end && !g_ascii_isspace (*parser->p) && *parser->p != '=' &&
             *parser->p != '>' && *parser->p != '/')
        advance (parser, 1);
      name = g_ascii_strdown (name_start, parser->p - name_start);
      while (parser->p < parser->end && g_ascii_isspace (*parser->p))
        advance (parser, 1);
      if (parser->p < parser->end && *parser->p == '=')
        {
          advance (parser, 1);
          while (parser->p < parser->end && g_ascii_isspace (*parser->p))
            advance (parser, 1);
          if (parser->p < parser->end && (*parser->p == '"' || *parser->p == '\''))
            {
              char quote = *parser->p;
              const char *start, *close;

              advance (parser, 1);
              start = parser->p;
              close = memchr (start, quote, (gsize) (parser->end - start));
              if (close == NULL)
                return fail (parser, error, "an attribute value is not closed with %c", quote);
              append_decoded (value, start, (gsize) (close - start));
              advance (parser, (gsize) (close - start) + 1);
            }
          else
            {
              const char *start = parser->p;
              while (parser->p < parser->end && !g_ascii_isspace (*parser->p) && *parser->p != '>')
                advance (parser, 1);
              append_decoded (value, start, (gsize) (parser->p - start));
            }
        }
      if (*name != '\0')
        g_hash_table_replace (tag->attributes, g_steal_pointer (&name),
                              g_string_free (g_steal_pointer (&value), FALSE));
    }
}

static CbBookmarksHtmlItem *
top (Parser *parser)
{
  return parser->stack->len ? parser->stack->pdata[parser->stack->len - 1] : NULL;
}

static gboolean
allowed_scheme (const char *url)
{
  const char *scheme = g_uri_peek_scheme (url);

  return scheme != NULL &&
         (g_str_equal (scheme, "http") || g_str_equal (scheme, "https") ||
          g_str_equal (scheme, "ftp") || g_str_equal (scheme, "file"));
}

static gboolean
count_item (Parser  *parser,
            GError **error)
{
  if (++parser->items > CB_BOOKMARKS_HTML_MAX_ITEMS)
    return fail (parser, error, "more than %u bookmarks and folders", CB_BOOKMARKS_HTML_MAX_ITEMS);
  return TRUE;
}

/* The text of an <A> or <H3> ends at its end tag or at the next element
 * that cannot be inside it. */
static void
finish_capture (Parser *parser)
{
  CbBookmarksHtmlItem *item = parser->capture;
  g_autofree char *title = NULL;

  if (item == NULL)
    return;
  parser->capture = NULL;
  title = collapse_space (parser->text->str);
  g_string_truncate (parser->text, 0);
  g_free (item->title);
  item->title = g_steal_pointer (&title);
  if (item->is_folder)
    parser->pending = item;
}

static gboolean
handle_tag (Parser  *parser,
            Tag     *tag,
            GError **error)
{
  const char *name = tag->name;

  if (g_str_equal (name, "a") && tag->closing)
    {
      if (parser->capture && !parser->capture->is_folder)
        finish_capture (parser);
      return TRUE;
    }
  if (g_str_equal (name, "h3") && tag->closing)
    {
      if (parser->capture && parser->capture->is_folder)
        finish_capture (parser);
      return TRUE;
    }
  if (g_str_equal (name, "dl") || g_str_equal (name, "dt") || g_str_equal (name, "a") ||
      g_str_equal (name, "h3") || g_str_equal (name, "dd"))
    finish_capture (parser);

  if (g_str_equal (name, "dl"))
    {
      if (tag->closing)
        {
          if (parser->stack->len == 0)
            return fail (parser, error, "a list ends (</DL>) that never began");
          g_ptr_array_set_size (parser->stack, parser->stack->len - 1);
          parser->pending = NULL;
          return TRUE;
        }
      parser->saw_list = TRUE;
      if (parser->stack->len >= CB_BOOKMARKS_HTML_MAX_DEPTH)
        return fail (parser, error, "folders nested more than %u deep",
                     CB_BOOKMARKS_HTML_MAX_DEPTH);
      if (parser->stack->len == 0)
        g_ptr_array_add (parser->stack, parser->root);
      else if (parser->pending != NULL)
        g_ptr_array_add (parser->stack, parser->pending);
      else
        /* A list without a folder heading: its items go to the folder
         * around it. */
        g_ptr_array_add (parser->stack, top (parser));
      parser->pending = NULL;
      return TRUE;
    }

  if (tag->closing)
    return TRUE;

  if (g_str_equal (name, "h3") || g_str_equal (name, "a"))
    {
      CbBookmarksHtmlItem *item;
      const char *added;

      if (top (parser) == NULL)
        return fail (parser, error, "a %s is outside any list (<DL>)",
                     name[0] == 'a' ? "bookmark" : "folder");
      if (!count_item (parser, error))
        return FALSE;
      /* A folder's own list would be one level deeper. */
      if (name[0] == 'h' && parser->stack->len >= CB_BOOKMARKS_HTML_MAX_DEPTH)
        return fail (parser, error, "folders nested more than %u deep",
                     CB_BOOKMARKS_HTML_MAX_DEPTH);
      parser->pending = NULL;
      added = g_hash_table_lookup (tag->attributes, "add_date");
      if (name[0] == 'h')
        item = cb_bookmarks_html_item_new_folder (NULL);
      else
        {
          const char *href = g_hash_table_lookup (tag->attributes, "href");
          g_autofree char *url = href ? g_strstrip (g_strdup (href)) : NULL;

          if (url == NULL || !allowed_scheme (url))
            {
              /* Bookmarklets and the like: not opened from our bookmarks. */
              if (parser->skipped)
                (*parser->skipped)++;
              item = NULL;
            }
          else
            item = cb_bookmarks_html_item_new (NULL, url,
                                               g_hash_table_lookup (tag->attributes, "tags"), 0);
        }
      if (item != NULL)
        {
          if (added != NULL)
            {
              guint64 seconds = g_ascii_strtoull (added, NULL, 10);
              /* Some exports write microseconds; anything past year 9999
               * in seconds must be those. */
              item->added = seconds > G_GUINT64_CONSTANT (253402300799)
                              ? (gint64) MIN (seconds, (guint64) G_MAXINT64)
                              : (gint64) seconds * G_USEC_PER_SEC;
            }
          g_ptr_array_add (top (parser)->children, item);
          parser->capture = item;
          g_string_truncate (parser->text, 0);
        }
    }
  return TRUE;
}

CbBookmarksHtmlItem *
cb_bookmarks_html_parse (const char  *data,
                         gsize        len,
                         guint       *skipped,
                         GError     **error)
{
  g_autoptr(CbBookmarksHtmlItem) root = cb_bookmarks_html_item_new_folder (NULL);
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();
  g_autoptr(GString) text = g_string_new (NULL);
  Parser parser = { 0 };
  const char *bad;

  if (skipped)
    *skipped = 0;
  if (len > CB_BOOKMARKS_HTML_MAX_BYTES)
    {
      g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID,
                   "Not a usable bookmarks file: it is larger than %u MiB",
                   CB_BOOKMARKS_HTML_MAX_BYTES / (1024 * 1024));
      return NULL;
    }
  if (!g_utf8_validate_len (data, len, &bad))
    {
      g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID,
                   "Not a usable bookmarks file: it is not UTF-8 text (byte %" G_GSIZE_FORMAT
                   " is not valid); export it again as UTF-8", (gsize) (bad - data));
      return NULL;
    }
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    {
      data += 3;
      len -= 3;
    }

  parser.p = data;
  parser.end = data + len;
  parser.line = 1;
  parser.stack = stack;
  parser.root = root;
  parser.text = text;
  parser.skipped = skipped;

  while (parser.p < parser.end)
    {
      if (*parser.p != '<')
        {
          const char *next = memchr (parser.p, '<', (gsize) (parser.end - parser.p));
          gsize n = next ? (gsize) (next - parser.p) : (gsize) (parser.end - parser.p);

          if (parser.capture != NULL)
            append_decoded (parser.text, parser.p, n);
          advance (&parser, n);
          continue;
        }
      if (parser.end - parser.p >= 4 && memcmp (parser.p, "<!--", 4) == 0)
        {
          const char *close = g_strstr_len (parser.p + 4, parser.end - parser.p - 4, "-->");
          if (close == NULL)
            {
              fail (&parser, error, "a comment is not closed with -->");
              return NULL;
            }
          advance (&parser, (gsize) (close + 3 - parser.p));
          continue;
        }
      if (parser.end - parser.p >= 2 && (parser.p[1] == '!' || parser.p[1] == '?'))
        {
          const char *close = memchr (parser.p, '>', (gsize) (parser.end - parser.p));
          if (close == NULL)
            {
              fail (&parser, error, "a declaration is not closed with '>'");
              return NULL;
            }
          if (g_strstr_len (parser.p, close - parser.p, "NETSCAPE-Bookmark-file") != NULL)
            parser.netscape_doctype = TRUE;
          advance (&parser, (gsize) (close + 1 - parser.p));
          continue;
        }
      if (parser.end - parser.p < 2 || !(g_ascii_isalpha (parser.p[1]) || parser.p[1] == '/'))
        {
          /* A lone '<' in text. */
          if (parser.capture != NULL)
            g_string_append_c (parser.text, '<');
          advance (&parser, 1);
          continue;
        }
      {
        Tag tag = { 0 };
        gboolean ok = read_tag (&parser, &tag, error) && handle_tag (&parser, &tag, error);

        tag_clear (&tag);
        if (!ok)
          return NULL;
      }
    }
  finish_capture (&parser);

  if (!parser.saw_list)
    {
      g_set_error (error, CB_PROFILE_ERROR, CB_PROFILE_ERROR_INVALID,
                   parser.netscape_doctype
                     ? "Not a usable bookmarks file: it has no list of bookmarks (<DL>)"
                     : "Not a bookmarks file: browsers export bookmarks as an HTML file "
                       "that starts with <!DOCTYPE NETSCAPE-Bookmark-file-1>");
      return NULL;
    }
  return g_steal_pointer (&root);
}

/* --- writing --- */

static void
append_escaped (GString    *out,
                const char *text,
                gboolean    attribute)
{
  for (const char *p = text ? text : ""; *p; p++)
    switch (*p)
      {
      case '&': g_string_append (out, "&amp;"); break;
      case '<': g_string_append (out, "&lt;"); break;
      case '>': g_string_append (out, "&gt;"); break;
      case '"':
        if (attribute)
          g_string_append (out, "&quot;");
        else
          g_string_append_c (out, '"');
        break;
      default:
        g_string_append_c (out, *p);
      }
}

static void
write_items (GString                   *out,
             const CbBookmarksHtmlItem *folder,
             guint                      depth)
{
  g_autofree char *indent = g_strnfill ((depth + 1) * 4, ' ');

  for (guint i = 0; i < folder->children->len; i++)
    {
      const CbBookmarksHtmlItem *item = folder->children->pdata[i];

      g_string_append_printf (out, "%s<DT>", indent);
      if (item->is_folder)
        {
          g_string_append (out, "<H3");
          if (item->added > 0)
            g_string_append_printf (out, " ADD_DATE=\"%" G_GINT64_FORMAT "\"",
                                    item->added / G_USEC_PER_SEC);
          g_string_append_c (out, '>');
          append_escaped (out, item->title, FALSE);
          g_string_append_printf (out, "</H3>\n%s<DL><p>\n", indent);
          write_items (out, item, depth + 1);
          g_string_append_printf (out, "%s</DL><p>\n", indent);
          continue;
        }
      g_string_append (out, "<A HREF=\"");
      append_escaped (out, item->url, TRUE);
      g_string_append_c (out, '"');
      if (item->added > 0)
        g_string_append_printf (out, " ADD_DATE=\"%" G_GINT64_FORMAT "\"",
                                item->added / G_USEC_PER_SEC);
      if (item->tags != NULL && *item->tags != '\0')
        {
          g_string_append (out, " TAGS=\"");
          append_escaped (out, item->tags, TRUE);
          g_string_append_c (out, '"');
        }
      g_string_append_c (out, '>');
      append_escaped (out, item->title, FALSE);
      g_string_append (out, "</A>\n");
    }
}

char *
cb_bookmarks_html_write (const CbBookmarksHtmlItem *root)
{
  GString *out = g_string_new (
    "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n"
    "<!-- This is an automatically generated file.\n"
    "     It will be read and overwritten.\n"
    "     DO NOT EDIT! -->\n"
    "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=UTF-8\">\n"
    "<TITLE>Bookmarks</TITLE>\n"
    "<H1>Bookmarks</H1>\n"
    "<DL><p>\n");

  write_items (out, root, 0);
  g_string_append (out, "</DL><p>\n");
  return g_string_free (out, FALSE);
}
