/*
 * QemuOpts-compatible "k=v,k2=v2" parsing into an ordered dictionary:
 * implied first key, ",," escapes, short-form booleans ("server" = on,
 * "nowait" = wait off, with QEMU's deprecation warning), help requests.
 * Locking: none.
 */
#include <string.h>
#include <glib.h>
#include "util/cutils.h"
#include "util/kvopts.h"

KVDict *kv_new(void)
{
    return g_new0(KVDict, 1);
}

void kv_free(KVDict *d)
{
    if (!d) {
        return;
    }
    for (int i = 0; i < d->n; i++) {
        g_free(d->p[i].key);
        g_free(d->p[i].value);
    }
    g_free(d->p);
    g_free(d);
}

static int kv_index(const KVDict *d, const char *key)
{
    for (int i = 0; i < d->n; i++) {
        if (!strcmp(d->p[i].key, key)) {
            return i;
        }
    }
    return -1;
}

void kv_set(KVDict *d, const char *key, const char *value)
{
    int i = kv_index(d, key);
    if (i >= 0) {
        g_free(d->p[i].value);
        d->p[i].value = g_strdup(value);
        d->p[i].used = false;
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->p = g_renew(KVPair, d->p, d->cap);
    }
    d->p[d->n++] = (KVPair){ g_strdup(key), g_strdup(value), false };
}

void kv_del(KVDict *d, const char *key)
{
    int i = kv_index(d, key);
    if (i < 0) {
        return;
    }
    g_free(d->p[i].key);
    g_free(d->p[i].value);
    memmove(&d->p[i], &d->p[i + 1], (d->n - i - 1) * sizeof(KVPair));
    d->n--;
}

const char *kv_peek(const KVDict *d, const char *key)
{
    int i = kv_index(d, key);
    return i >= 0 ? d->p[i].value : NULL;
}

const char *kv_get(KVDict *d, const char *key)
{
    int i = kv_index(d, key);
    if (i < 0) {
        return NULL;
    }
    d->p[i].used = true;
    return d->p[i].value;
}

bool kv_has(const KVDict *d, const char *key)
{
    return kv_index(d, key) >= 0;
}

/* Read one element up to an unescaped ',' (or '=' when stop_at_eq). */
static const char *get_elem(const char *p, GString *out, bool stop_at_eq)
{
    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                g_string_append_c(out, ',');
                p += 2;
                continue;
            }
            break;
        }
        if (stop_at_eq && *p == '=') {
            break;
        }
        g_string_append_c(out, *p++);
    }
    return p;
}

KVDict *kv_parse(const char *str, const char *implied_key, Error **errp)
{
    KVDict *d = kv_new();
    const char *p = str;
    bool first = true;
    while (*p) {
        g_autoptr(GString) key = g_string_new(NULL);
        /* the implied key's value may contain '=' only if escaped: QEMU
         * takes the first element as a value when it has no '=' */
        const char *q = get_elem(p, key, true);
        if (*q != '=') {
            if (first && implied_key) {
                kv_set(d, implied_key, key->str);
            } else if (!strcmp(key->str, "help") || !strcmp(key->str, "?")) {
                kv_set(d, "help", "on");
            } else if (key->len == 0) {
                /* empty element (e.g. trailing comma): QEMU ignores */
            } else {
                const char *name = key->str;
                const char *val = "on";
                if (g_str_has_prefix(name, "no") && strcmp(name, "nodelay")) {
                    name += 2;
                    val = "off";
                }
                warn_report("short-form boolean option '%s' deprecated", key->str);
                g_printerr("Please use %s=%s instead\n", name, val);
                kv_set(d, name, val);
            }
            p = q;
        } else {
            g_autoptr(GString) val = g_string_new(NULL);
            q = get_elem(q + 1, val, false);
            if (key->len == 0) {
                error_setg(errp, "Invalid parameter ''");
                kv_free(d);
                return NULL;
            }
            kv_set(d, key->str, val->str);
            p = q;
        }
        first = false;
        if (*p == ',') {
            p++;
        }
    }
    return d;
}

bool kv_get_bool(KVDict *d, const char *key, bool def, bool *out, Error **errp)
{
    const char *v = kv_get(d, key);
    if (!v) {
        *out = def;
        return true;
    }
    if (!parse_bool(v, out)) {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", key);
        return false;
    }
    return true;
}

bool kv_get_size(KVDict *d, const char *key, uint64_t def, uint64_t *out, Error **errp)
{
    const char *v = kv_get(d, key);
    if (!v) {
        *out = def;
        return true;
    }
    if (qemu_strtosz(v, out) < 0) {
        error_setg(errp, "Parameter '%s' expects a non-negative number below 2^64", key);
        error_append_hint(errp, "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                          "and exabytes, respectively.\n");
        return false;
    }
    return true;
}

bool kv_get_uint(KVDict *d, const char *key, uint64_t def, uint64_t *out, Error **errp)
{
    const char *v = kv_get(d, key);
    if (!v) {
        *out = def;
        return true;
    }
    if (qemu_strtou64(v, 0, out) < 0) {
        error_setg(errp, "Parameter '%s' expects a number", key);
        return false;
    }
    return true;
}

KVDict *kv_sub(KVDict *d, const char *prefix)
{
    KVDict *s = kv_new();
    size_t n = strlen(prefix);
    for (int i = 0; i < d->n; i++) {
        if (!strncmp(d->p[i].key, prefix, n) && d->p[i].key[n] == '.') {
            kv_set(s, d->p[i].key + n + 1, d->p[i].value);
            d->p[i].used = true;
        }
    }
    return s;
}

bool kv_check_all_used(KVDict *d, Error **errp)
{
    for (int i = 0; i < d->n; i++) {
        if (!d->p[i].used) {
            error_setg(errp, "Invalid parameter '%s'", d->p[i].key);
            return false;
        }
    }
    return true;
}

KVDict *kv_copy(const KVDict *d)
{
    KVDict *c = kv_new();
    for (int i = 0; i < d->n; i++) {
        kv_set(c, d->p[i].key, d->p[i].value);
    }
    return c;
}

char *kv_to_string(const KVDict *d)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < d->n; i++) {
        if (i) {
            g_string_append_c(s, ',');
        }
        g_string_append(s, d->p[i].key);
        g_string_append_c(s, '=');
        for (const char *c = d->p[i].value; *c; c++) {
            if (*c == ',') {
                g_string_append_c(s, ',');
            }
            g_string_append_c(s, *c);
        }
    }
    return g_string_free(s, FALSE);
}

/* JSON form: provided by util/json.c when linked (weak fallback refuses). */
__attribute__((weak)) KVDict *kv_parse_json_object_string(const char *str, Error **errp)
{
    (void)str;
    error_setg(errp, "JSON option syntax is not supported in this build");
    return NULL;
}

KVDict *kv_parse_or_json(const char *str, const char *implied_key, Error **errp)
{
    if (str[0] == '{') {
        return kv_parse_json_object_string(str, errp);
    }
    return kv_parse(str, implied_key, errp);
}
