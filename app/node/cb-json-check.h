/* cb-json-check.h: reading untrusted JSON documents strictly
 *
 * json-glib recurses per nesting level, keeps the last of duplicate
 * members, wraps oversized integers and cuts strings at \u0000.  These
 * helpers refuse all of that before json-glib sees the bytes, and then read
 * members with their types and bounds checked, every failure a MALFORMED
 * error of the caller's domain that names the document and the member. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Our documents nest four deep at most; the slack is for members a later
 * writer may add, which readers ignore. */
#define CB_JSON_MAX_DEPTH 16
/* 18 digits: what int64 holds without overflow. */
#define CB_JSON_MAX_DIGITS 18

typedef struct {
  GQuark      domain;
  int         code;     /* for every failure */
  const char *what;     /* "the index", "package 3 of the index" */
} CbJsonCheck;

/* UTF-8, no NUL, bounded depth and number length, no duplicate members,
 * an object at the root. */
JsonNode   *cb_json_check_parse_object (const CbJsonCheck  *check,
                                        const char         *text,
                                        gsize               len,
                                        GError            **error);
/* Required unless optional is TRUE (then NULL without an error when the
 * member is missing).  max_chars: 0 for no limit; control characters are
 * refused when no_controls. */
const char *cb_json_check_string       (const CbJsonCheck  *check,
                                        JsonObject         *object,
                                        const char         *member,
                                        gboolean            optional,
                                        guint               max_chars,
                                        gboolean            no_controls,
                                        GError            **error);
gboolean    cb_json_check_int          (const CbJsonCheck  *check,
                                        JsonObject         *object,
                                        const char         *member,
                                        gint64              min,
                                        gint64              max,
                                        gint64             *out,
                                        GError            **error);
/* "2026-11-22T10:00:00Z" (UTC, seconds) to unix seconds. */
gboolean    cb_json_check_time         (const CbJsonCheck  *check,
                                        JsonObject         *object,
                                        const char         *member,
                                        gint64             *out,
                                        GError            **error);
JsonArray  *cb_json_check_array        (const CbJsonCheck  *check,
                                        JsonObject         *object,
                                        const char         *member,
                                        guint               max_length,
                                        GError            **error);
/* Exactly 2*len lowercase hex digits. */
gboolean    cb_json_check_hex          (const CbJsonCheck  *check,
                                        JsonObject         *object,
                                        const char         *member,
                                        guint8             *out,
                                        gsize               len,
                                        GError            **error);

/* The reverse of cb_json_check_time. */
char       *cb_json_format_time        (gint64              unix_seconds);
/* Compact JSON text of node. */
char       *cb_json_to_text            (JsonNode           *node);

G_END_DECLS
