/*
 * QemuOpts-compatible "key=value,key2=value2" parser shared by the command
 * line, -device/-netdev/-chardev/-drive/-blockdev and QMP device_add:
 * implied first key, ",," as an escaped comma, bare flags ("server" means
 * server=on, "noserver" server=off), dotted keys ("file.filename") and the
 * JSON "{...}" form.  Keys are kept in insertion order; a repeated key keeps
 * the last value (QEMU's rule).
 * Locking: none.
 */
#ifndef UTIL_KVOPTS_H
#define UTIL_KVOPTS_H

#include <stdbool.h>
#include <stdint.h>
#include "util/error.h"

typedef struct KVPair {
    char *key;
    char *value;
    bool used;
} KVPair;

typedef struct KVDict {
    KVPair *p;
    int n, cap;
} KVDict;

KVDict *kv_new(void);
void kv_free(KVDict *d);
/* Parse str; when implied_key is set the first bare element is its value. */
KVDict *kv_parse(const char *str, const char *implied_key, Error **errp);
/* Like kv_parse but also accept the JSON object form (with a '{' first). */
KVDict *kv_parse_or_json(const char *str, const char *implied_key, Error **errp);
/* JSON object text → flattened dict (dotted keys). Implemented by
 * util/json.c; a weak fallback in kvopts.c refuses. */
KVDict *kv_parse_json_object_string(const char *str, Error **errp);
void kv_set(KVDict *d, const char *key, const char *value);
void kv_del(KVDict *d, const char *key);
const char *kv_peek(const KVDict *d, const char *key);   /* does not mark used */
const char *kv_get(KVDict *d, const char *key);          /* marks key used */
bool kv_has(const KVDict *d, const char *key);
bool kv_get_bool(KVDict *d, const char *key, bool def, bool *out, Error **errp);
bool kv_get_size(KVDict *d, const char *key, uint64_t def, uint64_t *out, Error **errp);
bool kv_get_uint(KVDict *d, const char *key, uint64_t def, uint64_t *out, Error **errp);
/* New dict with the keys under "prefix." (prefix stripped); marks them used. */
KVDict *kv_sub(KVDict *d, const char *prefix);
/* QEMU: "Invalid parameter 'x'" for the first key nobody read. */
bool kv_check_all_used(KVDict *d, Error **errp);
KVDict *kv_copy(const KVDict *d);
/* Back to "k=v,k2=v2" (commas escaped). Caller frees. */
char *kv_to_string(const KVDict *d);

#endif
