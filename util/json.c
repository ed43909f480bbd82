/*
 * JSON for QMP and the JSON option forms: DOM, a lexer/streamer/parser
 * that accepts and rejects exactly what QEMU 7.2's qobject/json-*.c does
 * (same error texts, same recovery after garbage, same limits), and an
 * emitter with QEMU's compact/pretty layouts and ASCII escaping.
 * Spec: RFC 8259 plus QEMU's extensions (single quotes, "\'").
 * Locking: none; every object is owned by one caller at a time.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/json.h"

/* ------------------------------------------------------------------ DOM */

static JsonValue *jv_new(JsonType t)
{
    JsonValue *v = g_new0(JsonValue, 1);
    v->type = t;
    return v;
}

JsonValue *json_null(void) { return jv_new(JSON_NULL); }

JsonValue *json_bool(bool b)
{
    JsonValue *v = jv_new(JSON_BOOL);
    v->b = b;
    return v;
}

JsonValue *json_int(int64_t i)
{
    JsonValue *v = jv_new(JSON_INT);
    v->i = i;
    return v;
}

JsonValue *json_uint(uint64_t u)
{
    if (u <= INT64_MAX) {
        return json_int((int64_t)u);
    }
    JsonValue *v = jv_new(JSON_UINT);
    v->u = u;
    return v;
}

JsonValue *json_double(double d)
{
    JsonValue *v = jv_new(JSON_DOUBLE);
    v->d = d;
    return v;
}

JsonValue *json_string(const char *s)
{
    return json_string_take(g_strdup(s ? s : ""));
}

JsonValue *json_string_take(char *s)
{
    JsonValue *v = jv_new(JSON_STRING);
    v->s = s;
    return v;
}

JsonValue *json_array_new(void)
{
    JsonValue *v = jv_new(JSON_ARRAY);
    v->arr = g_ptr_array_new_with_free_func((GDestroyNotify)json_free);
    return v;
}

JsonObject *json_object_new(void)
{
    return jv_new(JSON_OBJECT);
}

void json_free(JsonValue *v)
{
    if (!v) {
        return;
    }
    switch (v->type) {
    case JSON_STRING:
        g_free(v->s);
        break;
    case JSON_ARRAY:
        g_ptr_array_free(v->arr, TRUE);
        break;
    case JSON_OBJECT:
        for (unsigned i = 0; i < v->obj.n; i++) {
            g_free(v->obj.m[i].key);
            json_free(v->obj.m[i].val);
        }
        g_free(v->obj.m);
        if (v->obj.idx) {
            g_hash_table_destroy(v->obj.idx);
        }
        break;
    default:
        break;
    }
    g_free(v);
}

JsonValue *json_copy(const JsonValue *v)
{
    JsonValue *c;

    switch (v->type) {
    case JSON_STRING:
        return json_string(v->s);
    case JSON_ARRAY:
        c = json_array_new();
        for (unsigned i = 0; i < v->arr->len; i++) {
            json_array_append(c, json_copy(g_ptr_array_index(v->arr, i)));
        }
        return c;
    case JSON_OBJECT:
        c = json_object_new();
        for (unsigned i = 0; i < v->obj.n; i++) {
            json_object_set(c, v->obj.m[i].key, json_copy(v->obj.m[i].val));
        }
        return c;
    default:
        c = jv_new(v->type);
        *c = *v;
        return c;
    }
}

bool json_equal(const JsonValue *a, const JsonValue *b)
{
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case JSON_NULL: return true;
    case JSON_BOOL: return a->b == b->b;
    case JSON_INT: return a->i == b->i;
    case JSON_UINT: return a->u == b->u;
    case JSON_DOUBLE: return a->d == b->d;
    case JSON_STRING: return !strcmp(a->s, b->s);
    case JSON_ARRAY:
        if (a->arr->len != b->arr->len) {
            return false;
        }
        for (unsigned i = 0; i < a->arr->len; i++) {
            if (!json_equal(a->arr->pdata[i], b->arr->pdata[i])) {
                return false;
            }
        }
        return true;
    case JSON_OBJECT:
        if (a->obj.n != b->obj.n) {
            return false;
        }
        for (unsigned i = 0; i < a->obj.n; i++) {
            JsonValue *o = json_object_get(b, a->obj.m[i].key);
            if (!o || !json_equal(a->obj.m[i].val, o)) {
                return false;
            }
        }
        return true;
    }
    return false;
}

const char *json_type_name(JsonType t)
{
    static const char *const names[] = {
        [JSON_NULL] = "null", [JSON_BOOL] = "boolean", [JSON_INT] = "integer",
        [JSON_UINT] = "integer", [JSON_DOUBLE] = "number", [JSON_STRING] = "string",
        [JSON_ARRAY] = "array", [JSON_OBJECT] = "object",
    };
    return names[t];
}

void json_array_append(JsonValue *arr, JsonValue *v)
{
    g_ptr_array_add(arr->arr, v);
}

unsigned json_array_len(const JsonValue *arr)
{
    return arr->arr->len;
}

JsonValue *json_array_get(const JsonValue *arr, unsigned i)
{
    return i < arr->arr->len ? g_ptr_array_index(arr->arr, i) : NULL;
}

#define OBJ_INDEX_THRESHOLD 16

static int obj_find(const JsonObject *o, const char *key)
{
    if (o->obj.idx) {
        gpointer p = g_hash_table_lookup(o->obj.idx, key);
        return p ? GPOINTER_TO_INT(p) - 1 : -1;
    }
    for (unsigned i = 0; i < o->obj.n; i++) {
        if (!strcmp(o->obj.m[i].key, key)) {
            return (int)i;
        }
    }
    return -1;
}

static void obj_reindex(JsonObject *o)
{
    if (o->obj.n < OBJ_INDEX_THRESHOLD) {
        if (o->obj.idx) {
            g_hash_table_destroy(o->obj.idx);
            o->obj.idx = NULL;
        }
        return;
    }
    if (!o->obj.idx) {
        o->obj.idx = g_hash_table_new(g_str_hash, g_str_equal);
    }
    g_hash_table_remove_all(o->obj.idx);
    for (unsigned i = 0; i < o->obj.n; i++) {
        g_hash_table_insert(o->obj.idx, o->obj.m[i].key, GINT_TO_POINTER(i + 1));
    }
}

void json_object_set(JsonObject *o, const char *key, JsonValue *v)
{
    int i = obj_find(o, key);
    if (i >= 0) {
        json_free(o->obj.m[i].val);
        o->obj.m[i].val = v;
        return;
    }
    if (o->obj.n == o->obj.cap) {
        o->obj.cap = o->obj.cap ? o->obj.cap * 2 : 4;
        o->obj.m = g_renew(JsonMember, o->obj.m, o->obj.cap);
    }
    o->obj.m[o->obj.n].key = g_strdup(key);
    o->obj.m[o->obj.n].val = v;
    o->obj.n++;
    if (o->obj.idx) {
        g_hash_table_insert(o->obj.idx, o->obj.m[o->obj.n - 1].key, GINT_TO_POINTER(o->obj.n));
    } else if (o->obj.n >= OBJ_INDEX_THRESHOLD) {
        obj_reindex(o);
    }
}

void json_object_set_str(JsonObject *o, const char *key, const char *s)
{
    json_object_set(o, key, json_string(s));
}

void json_object_set_int(JsonObject *o, const char *key, int64_t i)
{
    json_object_set(o, key, json_int(i));
}

void json_object_set_bool(JsonObject *o, const char *key, bool b)
{
    json_object_set(o, key, json_bool(b));
}

JsonValue *json_object_get(const JsonObject *o, const char *key)
{
    int i = obj_find(o, key);
    return i >= 0 ? o->obj.m[i].val : NULL;
}

bool json_object_has(const JsonObject *o, const char *key)
{
    return obj_find(o, key) >= 0;
}

JsonValue *json_object_steal(JsonObject *o, const char *key)
{
    int i = obj_find(o, key);
    if (i < 0) {
        return NULL;
    }
    JsonValue *v = o->obj.m[i].val;
    g_free(o->obj.m[i].key);
    memmove(&o->obj.m[i], &o->obj.m[i + 1], (o->obj.n - i - 1) * sizeof(JsonMember));
    o->obj.n--;
    if (o->obj.idx) {
        obj_reindex(o);
    }
    return v;
}

unsigned json_object_size(const JsonObject *o) { return o->obj.n; }
const char *json_object_key(const JsonObject *o, unsigned i) { return o->obj.m[i].key; }
JsonValue *json_object_val(const JsonObject *o, unsigned i) { return o->obj.m[i].val; }

const char *json_object_get_str(const JsonObject *o, const char *key)
{
    JsonValue *v = json_object_get(o, key);
    return v && v->type == JSON_STRING ? v->s : NULL;
}

int64_t json_object_get_int(const JsonObject *o, const char *key, int64_t def)
{
    JsonValue *v = json_object_get(o, key);
    return v && v->type == JSON_INT ? v->i : def;
}

bool json_object_get_bool(const JsonObject *o, const char *key, bool def)
{
    JsonValue *v = json_object_get(o, key);
    return v && v->type == JSON_BOOL ? v->b : def;
}

/* ---------------------------------------------------------------- lexer */

typedef enum {
    TOK_LCURLY, TOK_RCURLY, TOK_LSQUARE, TOK_RSQUARE, TOK_COLON, TOK_COMMA,
    TOK_STRING, TOK_INTEGER, TOK_FLOAT, TOK_KEYWORD,
} TokType;

typedef struct Token {
    TokType type;
    size_t len;
    char str[];
} Token;

typedef enum {
    LX_START, LX_RECOVERY, LX_DQ, LX_DQ_ESC, LX_SQ, LX_SQ_ESC, LX_NEG, LX_ZERO,
    LX_INT, LX_FRAC0, LX_FRAC, LX_EXP0, LX_EXPSIGN, LX_EXP, LX_KEYWORD,
} LexState;

struct JsonStreamer {
    JsonEmitFn *emit;
    void *opaque;
    LexState state;
    GString *tok;
    GPtrArray *tokens;         /* Token * */
    int brace, bracket;
    size_t token_size;
};

static void streamer_clear(JsonStreamer *s)
{
    g_ptr_array_set_size(s->tokens, 0);
    s->brace = s->bracket = 0;
    s->token_size = 0;
}

static JsonValue *parse_tokens(GPtrArray *tokens, Error **errp);

static void streamer_emit_error(JsonStreamer *s, Error *err)
{
    streamer_clear(s);
    s->emit(s->opaque, NULL, err);
}

static void streamer_token(JsonStreamer *s, TokType type, const char *text, size_t len)
{
    Error *err = NULL;

    switch (type) {
    case TOK_LCURLY: s->brace++; break;
    case TOK_RCURLY: s->brace--; break;
    case TOK_LSQUARE: s->bracket++; break;
    case TOK_RSQUARE: s->bracket--; break;
    default: break;
    }
    if (s->token_size + len + 1 > JSON_MAX_TOKEN_SIZE) {
        error_setg(&err, "JSON token size limit exceeded");
    } else if (s->tokens->len + 1 > JSON_MAX_TOKEN_COUNT) {
        error_setg(&err, "JSON token count limit exceeded");
    } else if (s->brace + s->bracket > JSON_MAX_NESTING) {
        error_setg(&err, "JSON nesting depth limit exceeded");
    }
    if (err) {
        streamer_emit_error(s, err);
        return;
    }
    Token *t = g_malloc(sizeof(Token) + len + 1);
    t->type = type;
    t->len = len;
    memcpy(t->str, text, len);
    t->str[len] = 0;
    g_ptr_array_add(s->tokens, t);
    s->token_size += len;
    if ((s->brace > 0 || s->bracket > 0) && s->brace >= 0 && s->bracket >= 0) {
        return;
    }
    JsonValue *v = parse_tokens(s->tokens, &err);
    streamer_clear(s);
    s->emit(s->opaque, v, err);
}

static void lex_error(JsonStreamer *s)
{
    Error *err = NULL;
    /* the token is printed as a C string: an embedded NUL ends it */
    error_setg(&err, "JSON parse error, stray '%s'", s->tok->str);
    g_string_truncate(s->tok, 0);
    s->state = LX_RECOVERY;
    streamer_emit_error(s, err);
}

static void lex_emit(JsonStreamer *s, TokType t)
{
    streamer_token(s, t, s->tok->str, s->tok->len);
    g_string_truncate(s->tok, 0);
    s->state = LX_START;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* Feed one byte; returns false when the byte must be fed again (lookahead). */
static bool lex_char(JsonStreamer *s, unsigned char c)
{
    switch (s->state) {
    case LX_RECOVERY:
        if ((c < 0x20 && c != '\t') || c >= 0xFE || c == '[' || c == ']' ||
            c == '{' || c == '}') {
            s->state = LX_START;
            return false;
        }
        return true;
    case LX_START:
        switch (c) {
        case ' ': case '\t': case '\r': case '\n':
            return true;
        case '{': case '}': case '[': case ']': case ':': case ',': {
            static const char sym[] = "{}[]:,";
            g_string_append_c(s->tok, c);
            lex_emit(s, (TokType)(strchr(sym, c) - sym));
            return true;
        }
        case '"': s->state = LX_DQ; break;
        case '\'': s->state = LX_SQ; break;
        case '-': s->state = LX_NEG; break;
        case '0': s->state = LX_ZERO; break;
        default:
            if (c >= '1' && c <= '9') {
                s->state = LX_INT;
            } else if (c >= 'a' && c <= 'z') {
                s->state = LX_KEYWORD;
            } else {
                g_string_append_c(s->tok, c);
                lex_error(s);
                return true;
            }
        }
        g_string_append_c(s->tok, c);
        return true;
    case LX_DQ:
    case LX_SQ: {
        char q = s->state == LX_DQ ? '"' : '\'';
        g_string_append_c(s->tok, c);
        if (c == q) {
            lex_emit(s, TOK_STRING);
        } else if (c == '\\') {
            s->state = s->state == LX_DQ ? LX_DQ_ESC : LX_SQ_ESC;
        } else if (c < 0x20 || c >= 0xFE) {
            lex_error(s);
        }
        return true;
    }
    case LX_DQ_ESC:
    case LX_SQ_ESC:
        g_string_append_c(s->tok, c);
        if (c < 0x20 || c >= 0xFE) {
            lex_error(s);
        } else {
            s->state = s->state == LX_DQ_ESC ? LX_DQ : LX_SQ;
        }
        return true;
    case LX_NEG:
        g_string_append_c(s->tok, c);
        if (c == '0') {
            s->state = LX_ZERO;
        } else if (c >= '1' && c <= '9') {
            s->state = LX_INT;
        } else {
            lex_error(s);
        }
        return true;
    case LX_ZERO:
        if (c == '.') {
            s->state = LX_FRAC0;
        } else if (is_digit(c)) {
            g_string_append_c(s->tok, c);
            lex_error(s);
            return true;
        } else {
            lex_emit(s, TOK_INTEGER);
            return false;
        }
        g_string_append_c(s->tok, c);
        return true;
    case LX_INT:
        if (c == '.') {
            s->state = LX_FRAC0;
        } else if (c == 'e' || c == 'E') {
            s->state = LX_EXP0;
        } else if (!is_digit(c)) {
            lex_emit(s, TOK_INTEGER);
            return false;
        }
        g_string_append_c(s->tok, c);
        return true;
    case LX_FRAC0:
    case LX_EXPSIGN:
        g_string_append_c(s->tok, c);
        if (is_digit(c)) {
            s->state = s->state == LX_FRAC0 ? LX_FRAC : LX_EXP;
        } else {
            lex_error(s);
        }
        return true;
    case LX_FRAC:
        if (c == 'e' || c == 'E') {
            s->state = LX_EXP0;
        } else if (!is_digit(c)) {
            lex_emit(s, TOK_FLOAT);
            return false;
        }
        g_string_append_c(s->tok, c);
        return true;
    case LX_EXP0:
        g_string_append_c(s->tok, c);
        if (c == '+' || c == '-') {
            s->state = LX_EXPSIGN;
        } else if (is_digit(c)) {
            s->state = LX_EXP;
        } else {
            lex_error(s);
        }
        return true;
    case LX_EXP:
        if (!is_digit(c)) {
            lex_emit(s, TOK_FLOAT);
            return false;
        }
        g_string_append_c(s->tok, c);
        return true;
    case LX_KEYWORD:
        if (c < 'a' || c > 'z') {
            lex_emit(s, TOK_KEYWORD);
            return false;
        }
        g_string_append_c(s->tok, c);
        return true;
    }
    return true;
}

JsonStreamer *json_streamer_new(JsonEmitFn *emit, void *opaque)
{
    JsonStreamer *s = g_new0(JsonStreamer, 1);
    s->emit = emit;
    s->opaque = opaque;
    s->state = LX_START;
    s->tok = g_string_new(NULL);
    s->tokens = g_ptr_array_new_with_free_func(g_free);
    return s;
}

void json_streamer_feed(JsonStreamer *s, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (!lex_char(s, (unsigned char)buf[i])) {
            /* lookahead: the byte starts the next token */
        }
        if (s->tok->len > JSON_MAX_TOKEN_SIZE) {
            Error *err = NULL;
            error_setg(&err, "JSON token size limit exceeded");
            g_string_truncate(s->tok, 0);
            s->state = LX_RECOVERY;
            streamer_emit_error(s, err);
        }
    }
}

void json_streamer_flush(JsonStreamer *s)
{
    switch (s->state) {
    case LX_ZERO: case LX_INT: lex_emit(s, TOK_INTEGER); break;
    case LX_FRAC: case LX_EXP: lex_emit(s, TOK_FLOAT); break;
    case LX_KEYWORD: lex_emit(s, TOK_KEYWORD); break;
    case LX_START: case LX_RECOVERY: break;
    default: lex_error(s); break;
    }
    s->state = LX_START;
    if (s->tokens->len) {
        Error *err = NULL;
        JsonValue *v = parse_tokens(s->tokens, &err);
        streamer_clear(s);
        s->emit(s->opaque, v, err);
    }
}

void json_streamer_reset(JsonStreamer *s)
{
    g_string_truncate(s->tok, 0);
    s->state = LX_START;
    streamer_clear(s);
}

void json_streamer_free(JsonStreamer *s)
{
    if (s) {
        g_string_free(s->tok, TRUE);
        g_ptr_array_free(s->tokens, TRUE);
        g_free(s);
    }
}

size_t json_streamer_pending(const JsonStreamer *s)
{
    return s->token_size + s->tok->len;
}

/* --------------------------------------------------------------- parser */

typedef struct Parser {
    GPtrArray *tokens;
    unsigned pos;
    Error *err;
} Parser;

static void parse_error(Parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void parse_error(Parser *p, const char *fmt, ...)
{
    if (p->err) {
        return;                /* the first error wins, as in QEMU */
    }
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_setg(&p->err, "JSON parse error, %s", msg);
}

static Token *peek(Parser *p)
{
    return p->pos < p->tokens->len ? g_ptr_array_index(p->tokens, p->pos) : NULL;
}

static Token *next(Parser *p)
{
    return p->pos < p->tokens->len ? g_ptr_array_index(p->tokens, p->pos++) : NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_hex4(const char *p, const char *end)
{
    int v = 0;
    if (end - p < 4) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0) {
            return -1;
        }
        v = v << 4 | h;
    }
    return v;
}

static bool codepoint_valid(uint32_t cp)
{
    return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) &&
           (cp & 0xFFFE) != 0xFFFE && !(cp >= 0xFDD0 && cp <= 0xFDEF);
}

static void utf8_put(GString *s, uint32_t cp)
{
    if (cp == 0) {
        g_string_append(s, "\xC0\x80");   /* modified UTF-8 keeps C strings */
    } else {
        g_string_append_unichar(s, cp);
    }
}

/* Decode one UTF-8 sequence at p (modified UTF-8: C0 80 is NUL).
 * Returns the code point and sets *n, or -1 (with *n = 1). */
static int32_t utf8_decode(const unsigned char *p, const unsigned char *end, int *n)
{
    unsigned char c = p[0];
    int len;
    uint32_t cp, min;

    *n = 1;
    if (c < 0x80) {
        return c;
    }
    if (c == 0xC0 && end - p >= 2 && p[1] == 0x80) {
        *n = 2;
        return 0;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (end - p < len) {
        return -1;
    }
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return -1;
        }
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return -1;
    }
    *n = len;
    return (int32_t)cp;
}

static JsonValue *parse_string(Parser *p, Token *t)
{
    const char *s = t->str + 1;
    const char *end = t->str + t->len - 1;    /* the closing quote */
    GString *out = g_string_sized_new(t->len);

    while (s < end) {
        if (*s != '\\') {
            int n;
            if (utf8_decode((const unsigned char *)s, (const unsigned char *)end, &n) < 0) {
                parse_error(p, "invalid UTF-8 sequence in string");
                goto fail;
            }
            g_string_append_len(out, s, n);
            s += n;
            continue;
        }
        const char *esc = s;
        switch (s[1]) {
        case '"': g_string_append_c(out, '"'); break;
        case '\'': g_string_append_c(out, '\''); break;
        case '\\': g_string_append_c(out, '\\'); break;
        case '/': g_string_append_c(out, '/'); break;
        case 'b': g_string_append_c(out, '\b'); break;
        case 'f': g_string_append_c(out, '\f'); break;
        case 'n': g_string_append_c(out, '\n'); break;
        case 'r': g_string_append_c(out, '\r'); break;
        case 't': g_string_append_c(out, '\t'); break;
        case 'u': {
            const char *tend = t->str + t->len;
            int cp = parse_hex4(s + 2, tend);
            s += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && s[0] == '\\' && s[1] == 'u') {
                int lo = parse_hex4(s + 2, tend);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    s += 6;
                }
            }
            if (cp < 0 || !codepoint_valid(cp)) {
                parse_error(p, "%.*s is not a valid Unicode character",
                            (int)MIN(6, tend - esc), esc);
                goto fail;
            }
            utf8_put(out, cp);
            continue;
        }
        default:
            parse_error(p, "invalid escape sequence in string");
            goto fail;
        }
        s += 2;
    }
    return json_string_take(g_string_free(out, FALSE));
fail:
    g_string_free(out, TRUE);
    return NULL;
}

static JsonValue *parse_number(Token *t)
{
    if (t->type == TOK_INTEGER) {
        char *e;
        errno = 0;
        long long v = strtoll(t->str, &e, 10);
        if (!errno) {
            return json_int(v);
        }
        if (t->str[0] != '-') {
            errno = 0;
            unsigned long long u = strtoull(t->str, &e, 10);
            if (!errno) {
                return json_uint(u);
            }
        }
    }
    return json_double(strtod(t->str, NULL));
}

static JsonValue *parse_value(Parser *p);

static JsonValue *parse_object(Parser *p)
{
    JsonObject *o = json_object_new();
    Token *t;

    next(p);                                   /* '{' */
    t = peek(p);
    if (!t) {
        parse_error(p, "premature EOI");
        goto fail;
    }
    if (t->type == TOK_RCURLY) {
        next(p);
        return o;
    }
    for (;;) {
        Token *kt = peek(p);
        JsonValue *key = parse_value(p);
        if (!key || key->type != JSON_STRING) {
            (void)kt;
            json_free(key);
            parse_error(p, "key is not a string in object");
            goto fail;
        }
        t = next(p);
        if (!t || t->type != TOK_COLON) {
            json_free(key);
            parse_error(p, t ? "missing : in object pair" : "premature EOI");
            goto fail;
        }
        JsonValue *val = parse_value(p);
        if (!val) {
            json_free(key);
            parse_error(p, "Missing value in dict");
            goto fail;
        }
        if (json_object_has(o, key->s)) {
            json_free(key);
            json_free(val);
            parse_error(p, "duplicate key");
            goto fail;
        }
        json_object_set(o, key->s, val);
        json_free(key);
        t = next(p);
        if (!t) {
            parse_error(p, "premature EOI");
            goto fail;
        }
        if (t->type == TOK_RCURLY) {
            return o;
        }
        if (t->type != TOK_COMMA) {
            parse_error(p, "expected separator in dict");
            goto fail;
        }
    }
fail:
    json_free(o);
    return NULL;
}

static JsonValue *parse_array(Parser *p)
{
    JsonValue *a = json_array_new();
    Token *t;

    next(p);                                   /* '[' */
    t = peek(p);
    if (!t) {
        parse_error(p, "premature EOI");
        goto fail;
    }
    if (t->type == TOK_RSQUARE) {
        next(p);
        return a;
    }
    for (;;) {
        JsonValue *v = parse_value(p);
        if (!v) {
            parse_error(p, "expecting value");
            goto fail;
        }
        json_array_append(a, v);
        t = next(p);
        if (!t) {
            parse_error(p, "premature EOI");
            goto fail;
        }
        if (t->type == TOK_RSQUARE) {
            return a;
        }
        if (t->type != TOK_COMMA) {
            parse_error(p, "expected separator in list");
            goto fail;
        }
    }
fail:
    json_free(a);
    return NULL;
}

static JsonValue *parse_value(Parser *p)
{
    Token *t = peek(p);

    if (!t) {
        parse_error(p, "premature EOI");
        return NULL;
    }
    switch (t->type) {
    case TOK_LCURLY:
        return parse_object(p);
    case TOK_LSQUARE:
        return parse_array(p);
    case TOK_STRING:
        next(p);
        return parse_string(p, t);
    case TOK_INTEGER:
    case TOK_FLOAT:
        next(p);
        return parse_number(t);
    case TOK_KEYWORD:
        next(p);
        if (!strcmp(t->str, "true")) {
            return json_bool(true);
        } else if (!strcmp(t->str, "false")) {
            return json_bool(false);
        } else if (!strcmp(t->str, "null")) {
            return json_null();
        }
        parse_error(p, "invalid keyword '%s'", t->str);
        return NULL;
    default:
        parse_error(p, "expecting value");
        return NULL;
    }
}

static JsonValue *parse_tokens(GPtrArray *tokens, Error **errp)
{
    Parser p = { .tokens = tokens };
    JsonValue *v = parse_value(&p);

    if (v && p.pos < tokens->len && !p.err) {
        parse_error(&p, "expecting value");
    }
    if (p.err) {
        json_free(v);
        error_propagate(errp, p.err);
        return NULL;
    }
    return v;
}

typedef struct OneShot {
    JsonValue *v;
    Error *err;
    int count;
} OneShot;

static void oneshot_emit(void *opaque, JsonValue *v, Error *err)
{
    OneShot *o = opaque;
    o->count++;
    if (o->count > 1 || o->err || o->v) {
        json_free(v);
        if (!o->err) {
            o->err = err;
            if (!err) {
                error_setg(&o->err, "JSON parse error, expecting value");
            }
        } else {
            error_free(err);
        }
        return;
    }
    o->v = v;
    o->err = err;
}

JsonValue *json_parse(const char *text, size_t len, Error **errp)
{
    OneShot o = { 0 };
    JsonStreamer *s = json_streamer_new(oneshot_emit, &o);

    json_streamer_feed(s, text, len);
    json_streamer_flush(s);
    json_streamer_free(s);
    if (!o.err && !o.v) {
        error_setg(&o.err, "Expecting a JSON value");
    }
    if (o.err) {
        json_free(o.v);
        error_propagate(errp, o.err);
        return NULL;
    }
    return o.v;
}

JsonValue *json_parse_str(const char *text, Error **errp)
{
    return json_parse(text, strlen(text), errp);
}

/* -------------------------------------------------------------- emitter */

void json_emit_string(GString *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + strlen(s);

    g_string_append_c(out, '"');
    while (p < end) {
        int n;
        int32_t cp = utf8_decode(p, end, &n);
        p += n;
        switch (cp) {
        case '"': g_string_append(out, "\\\""); continue;
        case '\\': g_string_append(out, "\\\\"); continue;
        case '\b': g_string_append(out, "\\b"); continue;
        case '\f': g_string_append(out, "\\f"); continue;
        case '\n': g_string_append(out, "\\n"); continue;
        case '\r': g_string_append(out, "\\r"); continue;
        case '\t': g_string_append(out, "\\t"); continue;
        default: break;
        }
        if (cp < 0) {
            cp = 0xFFFD;
        }
        if (cp >= 0x20 && cp < 0x7F) {
            g_string_append_c(out, (char)cp);
        } else if (cp > 0xFFFF) {
            cp -= 0x10000;
            g_string_append_printf(out, "\\u%04X\\u%04X", 0xD800 | (cp >> 10), 0xDC00 | (cp & 0x3FF));
        } else {
            g_string_append_printf(out, "\\u%04X", cp);
        }
    }
    g_string_append_c(out, '"');
}

/* QEMU's QDict: 512 hash buckets (tdb hash), newest entry first inside a
 * bucket. Emitting in that order reproduces QEMU's key order. */
static unsigned qdict_bucket(const char *key)
{
    unsigned v = 0x238F13AFu * (unsigned)strlen(key);
    for (unsigned i = 0; key[i]; i++) {
        v += (unsigned)(unsigned char)key[i] << (i * 5 % 24);
    }
    return (1103515243u * v + 12345u) % 512;
}

typedef struct OrderEnt {
    unsigned bucket, idx;
} OrderEnt;

static int order_cmp(const void *a, const void *b)
{
    const OrderEnt *x = a, *y = b;
    if (x->bucket != y->bucket) {
        return x->bucket < y->bucket ? -1 : 1;
    }
    return x->idx > y->idx ? -1 : 1;
}

unsigned *json_object_qdict_order(const JsonObject *o)
{
    unsigned n = o->obj.n;
    OrderEnt *ord = g_new(OrderEnt, n ? n : 1);
    unsigned *idx = g_new(unsigned, n ? n : 1);
    for (unsigned i = 0; i < n; i++) {
        ord[i].idx = i;
        ord[i].bucket = qdict_bucket(o->obj.m[i].key);
    }
    qsort(ord, n, sizeof(*ord), order_cmp);
    for (unsigned i = 0; i < n; i++) {
        idx[i] = ord[i].idx;
    }
    g_free(ord);
    return idx;
}

static void emit_indent(GString *out, unsigned flags, int depth)
{
    if (flags & JSON_EMIT_PRETTY) {
        g_string_append_c(out, '\n');
        for (int i = 0; i < depth; i++) {
            g_string_append(out, "    ");
        }
    }
}

static void emit_value(GString *out, const JsonValue *v, unsigned flags, int depth)
{
    const char *sep = flags & JSON_EMIT_PRETTY ? "," : ", ";

    switch (v->type) {
    case JSON_NULL: g_string_append(out, "null"); break;
    case JSON_BOOL: g_string_append(out, v->b ? "true" : "false"); break;
    case JSON_INT: g_string_append_printf(out, "%" PRId64, v->i); break;
    case JSON_UINT: g_string_append_printf(out, "%" PRIu64, v->u); break;
    case JSON_DOUBLE: g_string_append_printf(out, "%.17g", v->d); break;
    case JSON_STRING: json_emit_string(out, v->s); break;
    case JSON_ARRAY:
        g_string_append_c(out, '[');
        for (unsigned i = 0; i < v->arr->len; i++) {
            if (i) {
                g_string_append(out, sep);
            }
            emit_indent(out, flags, depth + 1);
            emit_value(out, v->arr->pdata[i], flags, depth + 1);
        }
        emit_indent(out, flags, depth);
        g_string_append_c(out, ']');
        break;
    case JSON_OBJECT: {
        unsigned n = v->obj.n;
        OrderEnt *ord = g_new(OrderEnt, n ? n : 1);
        for (unsigned i = 0; i < n; i++) {
            ord[i].idx = i;
            ord[i].bucket = flags & JSON_EMIT_QDICT_ORDER ? qdict_bucket(v->obj.m[i].key) : 0;
        }
        if (flags & JSON_EMIT_QDICT_ORDER) {
            qsort(ord, n, sizeof(*ord), order_cmp);
        }
        g_string_append_c(out, '{');
        for (unsigned i = 0; i < n; i++) {
            const JsonMember *m = &v->obj.m[ord[i].idx];
            if (i) {
                g_string_append(out, sep);
            }
            emit_indent(out, flags, depth + 1);
            json_emit_string(out, m->key);
            g_string_append(out, ": ");
            emit_value(out, m->val, flags, depth + 1);
        }
        g_free(ord);
        emit_indent(out, flags, depth);
        g_string_append_c(out, '}');
        break;
    }
    }
}

void json_emit(GString *out, const JsonValue *v, unsigned flags)
{
    emit_value(out, v, flags, 0);
}

char *json_to_string(const JsonValue *v, unsigned flags)
{
    GString *s = g_string_new(NULL);
    json_emit(s, v, flags);
    return g_string_free(s, FALSE);
}

/* ------------------------------------------------------- keyval bridge */

static bool flatten(KVDict *d, const char *prefix, const JsonValue *v, Error **errp)
{
    g_autofree char *num = NULL;

    switch (v->type) {
    case JSON_OBJECT:
        for (unsigned i = 0; i < v->obj.n; i++) {
            g_autofree char *k = prefix ? g_strdup_printf("%s.%s", prefix, v->obj.m[i].key)
                                        : g_strdup(v->obj.m[i].key);
            if (!flatten(d, k, v->obj.m[i].val, errp)) {
                return false;
            }
        }
        return true;
    case JSON_ARRAY:
        for (unsigned i = 0; i < v->arr->len; i++) {
            g_autofree char *k = g_strdup_printf("%s.%u", prefix, i);
            if (!flatten(d, k, v->arr->pdata[i], errp)) {
                return false;
            }
        }
        return true;
    case JSON_NULL:
        error_setg(errp, "Invalid parameter type for '%s', expected: string", prefix);
        return false;
    case JSON_BOOL: kv_set(d, prefix, v->b ? "on" : "off"); return true;
    case JSON_INT: num = g_strdup_printf("%" PRId64, v->i); break;
    case JSON_UINT: num = g_strdup_printf("%" PRIu64, v->u); break;
    case JSON_DOUBLE: num = g_strdup_printf("%.17g", v->d); break;
    case JSON_STRING: kv_set(d, prefix, v->s); return true;
    }
    kv_set(d, prefix, num);
    return true;
}

KVDict *kv_from_json_object(const JsonValue *v, Error **errp)
{
    if (!v || v->type != JSON_OBJECT) {
        error_setg(errp, "JSON object expected");
        return NULL;
    }
    KVDict *d = kv_new();
    if (!flatten(d, NULL, v, errp)) {
        kv_free(d);
        return NULL;
    }
    return d;
}

/* Strong definition of the hook util/kvopts.c declares weak. */
KVDict *kv_parse_json_object_string(const char *str, Error **errp)
{
    JsonValue *v = json_parse_str(str, errp);
    if (!v) {
        return NULL;
    }
    KVDict *d = kv_from_json_object(v, errp);
    json_free(v);
    return d;
}
