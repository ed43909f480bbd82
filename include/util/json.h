/*
 * JSON DOM, strict parser with QEMU's extensions (single-quoted strings,
 * "\'"), the streaming splitter QMP uses on its byte stream, and an
 * ASCII-only emitter that prints exactly like QEMU 7.2 (RFC 8259 + QEMU's
 * qobject/json-*.c behaviour, including QDict key order on request).
 * Locking: none (pure data structures; callers serialise access).
 */
#ifndef UTIL_JSON_H
#define UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "util/error.h"
#include "util/kvopts.h"

typedef enum {
    JSON_NULL, JSON_BOOL, JSON_INT, JSON_UINT, JSON_DOUBLE,
    JSON_STRING, JSON_ARRAY, JSON_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;
typedef struct JsonValue JsonObject;     /* a JsonValue of type JSON_OBJECT */

typedef struct JsonMember {
    char *key;
    JsonValue *val;
} JsonMember;

struct JsonValue {
    JsonType type;
    union {
        bool b;
        int64_t i;          /* JSON_INT */
        uint64_t u;         /* JSON_UINT: only values above INT64_MAX */
        double d;
        char *s;            /* UTF-8; an embedded NUL is stored as C0 80 */
        GPtrArray *arr;     /* JsonValue * */
        struct {
            JsonMember *m;
            unsigned n, cap;
            GHashTable *idx; /* key -> index + 1, built for big objects */
        } obj;
    };
};

/* Limits (QEMU's json-streamer.c values). */
#define JSON_MAX_TOKEN_SIZE  (64u << 20)
#define JSON_MAX_TOKEN_COUNT (2u << 20)
#define JSON_MAX_NESTING     1024

/* Constructors. Strings are copied. */
JsonValue *json_null(void);
JsonValue *json_bool(bool b);
JsonValue *json_int(int64_t i);
JsonValue *json_uint(uint64_t u);       /* stored as JSON_INT when it fits */
JsonValue *json_double(double d);
JsonValue *json_string(const char *s);
JsonValue *json_string_take(char *s);   /* takes ownership of a g_malloc'd string */
JsonValue *json_array_new(void);
JsonObject *json_object_new(void);
void json_free(JsonValue *v);
JsonValue *json_copy(const JsonValue *v);
bool json_equal(const JsonValue *a, const JsonValue *b);
const char *json_type_name(JsonType t);   /* "null", "boolean", "integer", "number", "string", "array", "object" */

/* Arrays. */
void json_array_append(JsonValue *arr, JsonValue *v);   /* takes v */
unsigned json_array_len(const JsonValue *arr);
JsonValue *json_array_get(const JsonValue *arr, unsigned i);

/* Objects: insertion-ordered; set replaces an existing key in place. */
void json_object_set(JsonObject *o, const char *key, JsonValue *v);   /* takes v */
void json_object_set_str(JsonObject *o, const char *key, const char *s);
void json_object_set_int(JsonObject *o, const char *key, int64_t i);
void json_object_set_bool(JsonObject *o, const char *key, bool b);
JsonValue *json_object_get(const JsonObject *o, const char *key);
bool json_object_has(const JsonObject *o, const char *key);
/* Remove key; returns the value (caller frees) or NULL. */
JsonValue *json_object_steal(JsonObject *o, const char *key);
unsigned json_object_size(const JsonObject *o);
const char *json_object_key(const JsonObject *o, unsigned i);
JsonValue *json_object_val(const JsonObject *o, unsigned i);
/* Member indices in QEMU QDict iteration order (g_free the result). */
unsigned *json_object_qdict_order(const JsonObject *o);
/* Typed lookups: NULL/def when absent or of another type. */
const char *json_object_get_str(const JsonObject *o, const char *key);
int64_t json_object_get_int(const JsonObject *o, const char *key, int64_t def);
bool json_object_get_bool(const JsonObject *o, const char *key, bool def);

/* Whole-text parse: exactly one value plus whitespace. Error texts are
 * QEMU's ("JSON parse error, ..."). */
JsonValue *json_parse(const char *text, size_t len, Error **errp);
JsonValue *json_parse_str(const char *text, Error **errp);

/* Streaming splitter for QMP: feed bytes as they arrive; emit() is called
 * once per complete top-level value, or with err set (value NULL) for each
 * error QEMU would report, recovering the way QEMU's lexer does.
 * emit takes ownership of both value and error. */
typedef void JsonEmitFn(void *opaque, JsonValue *value, Error *err);
typedef struct JsonStreamer JsonStreamer;
JsonStreamer *json_streamer_new(JsonEmitFn *emit, void *opaque);
void json_streamer_feed(JsonStreamer *s, const char *buf, size_t len);
void json_streamer_flush(JsonStreamer *s);      /* end of input */
void json_streamer_reset(JsonStreamer *s);      /* drop partial input */
void json_streamer_free(JsonStreamer *s);
/* Bytes currently buffered for an incomplete message. */
size_t json_streamer_pending(const JsonStreamer *s);

/* Emitter. Output is ASCII: non-ASCII as \uXXXX (surrogate pairs),
 * invalid UTF-8 as \uFFFD; doubles as "%.17g". */
enum {
    JSON_EMIT_PRETTY = 1,       /* QEMU's pretty=on layout (4-space indent) */
    JSON_EMIT_QDICT_ORDER = 2,  /* objects in QEMU QDict iteration order */
};
void json_emit(GString *out, const JsonValue *v, unsigned flags);
char *json_to_string(const JsonValue *v, unsigned flags);   /* caller frees */
/* Append s as a quoted JSON string. */
void json_emit_string(GString *out, const char *s);

/* -device '{...}' / -object '{...}': flatten an object into a KVDict with
 * dotted keys (nested objects) and numeric-index keys (arrays), values as
 * QEMU's keyval would see them (booleans become "on"/"off"). */
KVDict *kv_from_json_object(const JsonValue *v, Error **errp);

#endif
