/*
 * User-creatable objects (-object, object-add): memory backends the
 * machine can use as RAM (-machine memory-backend=ID), and the object
 * types kemu accepts without a consumer (iothread, secret, rng-*).
 * Locking: BQL.
 */
#ifndef SYSTEM_OBJECTS_H
#define SYSTEM_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>
#include "util/error.h"
#include "util/kvopts.h"

typedef struct UserObject {
    const char *type;          /* QOM type name, "memory-backend-ram" */
    char *id;
    bool memory_backend;
    uint64_t size;             /* memory backends */
    bool share, prealloc, merge, dump, reserve;
    char *policy;              /* "default", "bind", ... */
    char *mem_path;            /* memory-backend-file */
    void *host;                /* mapped RAM once the machine uses it */
    bool used;                 /* the machine's RAM (object-del refuses) */
    uint64_t poll_max_ns;      /* iothread */
    int thread_id;             /* iothread: host TID of its (idle) thread */
    void *thread, *iothread_loop;
} UserObject;

/* -object TYPE,id=ID,... or JSON; object-add arguments as a dict. */
bool object_add_str(const char *str, Error **errp);
bool object_add_opts(KVDict *opts, Error **errp);
bool object_del(const char *id, Error **errp);
UserObject *object_find(const char *id);
void object_foreach(void (*fn)(UserObject *obj, void *opaque), void *opaque);
/* "bool", "size", "uint", "str" for a known property of a type, else NULL. */
const char *object_prop_kind(const char *type, const char *prop);
bool object_type_exists(const char *type);
/* Map a memory backend's RAM (once); marks it used. */
void *memdev_map(UserObject *obj, Error **errp);

#endif
