/*
 * JSON tree printer for kemu-img --output=json: QEMU 7.2 QDict key order
 * and qobject_to_json_pretty layout (4-space indent, "key": value).
 * Locking: none.
 */
#include <string.h>
#include "img-json.h"

typedef enum { IJ_OBJ, IJ_ARR, IJ_INT, IJ_STR, IJ_BOOL } IJType;

struct IJson {
    IJType type;
    char *key;
    int64_t i;
    char *s;
    bool b;
    GPtrArray *kids;
    unsigned seq;
};

static IJson *ij_new(IJType t)
{
    IJson *v = g_new0(IJson, 1);
    v->type = t;
    if (t == IJ_OBJ || t == IJ_ARR) {
        v->kids = g_ptr_array_new();
    }
    return v;
}

IJson *ij_object(void)
{
    return ij_new(IJ_OBJ);
}

IJson *ij_array(void)
{
    return ij_new(IJ_ARR);
}

IJson *ij_add(IJson *parent, const char *key, IJson *val)
{
    if (key) {
        val->key = g_strdup(key);
    }
    val->seq = parent->kids->len;
    g_ptr_array_add(parent->kids, val);
    return val;
}

void ij_add_int(IJson *o, const char *key, int64_t v)
{
    IJson *n = ij_new(IJ_INT);
    n->i = v;
    ij_add(o, key, n);
}

void ij_add_str(IJson *o, const char *key, const char *v)
{
    IJson *n = ij_new(IJ_STR);
    n->s = g_strdup(v);
    ij_add(o, key, n);
}

void ij_add_bool(IJson *o, const char *key, bool v)
{
    IJson *n = ij_new(IJ_BOOL);
    n->b = v;
    ij_add(o, key, n);
}

unsigned ij_qdict_bucket(const char *key)
{
    uint32_t v = 0x238F13AFu * (uint32_t)strlen(key);
    for (unsigned i = 0; key[i]; i++) {
        v = v + ((uint32_t)(unsigned char)key[i] << (i * 5 % 24));
    }
    return (1103515243u * v + 12345u) % 512;
}

static gint qdict_order(gconstpointer a, gconstpointer b)
{
    const IJson *x = *(IJson * const *)a, *y = *(IJson * const *)b;
    unsigned bx = ij_qdict_bucket(x->key), by = ij_qdict_bucket(y->key);
    if (bx != by) {
        return bx < by ? -1 : 1;
    }
    return x->seq > y->seq ? -1 : 1;     /* newest first within a bucket */
}

static void print_str(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        case '\b': g_string_append(out, "\\b"); break;
        case '\f': g_string_append(out, "\\f"); break;
        default:
            if (*p < 0x20 || *p >= 0x7f) {
                g_string_append_printf(out, "\\u%04x", *p);
            } else {
                g_string_append_c(out, *p);
            }
        }
    }
    g_string_append_c(out, '"');
}

static void indent(GString *out, int level)
{
    for (int i = 0; i < level; i++) {
        g_string_append(out, "    ");
    }
}

static void print_val(IJson *v, GString *out, int level)
{
    switch (v->type) {
    case IJ_INT:
        g_string_append_printf(out, "%" G_GINT64_FORMAT, v->i);
        break;
    case IJ_STR:
        print_str(out, v->s);
        break;
    case IJ_BOOL:
        g_string_append(out, v->b ? "true" : "false");
        break;
    case IJ_OBJ:
    case IJ_ARR: {
        bool obj = v->type == IJ_OBJ;
        GPtrArray *kids = g_ptr_array_copy(v->kids, NULL, NULL);
        if (obj) {
            g_ptr_array_sort(kids, qdict_order);
        }
        g_string_append_c(out, obj ? '{' : '[');
        for (guint i = 0; i < kids->len; i++) {
            IJson *k = g_ptr_array_index(kids, i);
            g_string_append(out, i ? ",\n" : "\n");
            indent(out, level + 1);
            if (obj) {
                print_str(out, k->key);
                g_string_append(out, ": ");
            }
            print_val(k, out, level + 1);
        }
        if (kids->len) {
            g_string_append_c(out, '\n');
            indent(out, level);
        }
        g_string_append_c(out, obj ? '}' : ']');
        g_ptr_array_free(kids, TRUE);
        break;
    }
    }
}

void ij_print(IJson *v, GString *out)
{
    print_val(v, out, 0);
}

void ij_free(IJson *v)
{
    if (!v) {
        return;
    }
    if (v->kids) {
        for (guint i = 0; i < v->kids->len; i++) {
            ij_free(g_ptr_array_index(v->kids, i));
        }
        g_ptr_array_free(v->kids, TRUE);
    }
    g_free(v->key);
    g_free(v->s);
    g_free(v);
}
