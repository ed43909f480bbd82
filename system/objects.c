/*
 * User-creatable objects (-object, QMP object-add/object-del) as QEMU 7.2
 * has them under /objects: memory backends (memory-backend-ram, -memfd,
 * -file) that the machine can use as its RAM (-machine memory-backend=ID,
 * as libvirt passes it), and objects kemu accepts with their properties
 * checked but that have no consumer here (iothread, secret, rng-random,
 * rng-builtin). Property names, defaults and error texts follow QEMU's
 * qom/object_interfaces.c and backends/hostmem*.c.
 * Locking: BQL (start-up and the monitor).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <glib.h>
#include "system/objects.h"
#include "util/cutils.h"

typedef enum { P_BOOL, P_SIZE, P_UINT, P_STR } PropKind;

typedef struct ObjProp {
    const char *name;
    PropKind kind;
    bool required;
} ObjProp;

typedef struct ObjType {
    const char *name;
    bool memory_backend;
    const ObjProp *props;
} ObjType;

#define HOSTMEM_PROPS                                                                       \
    { "size", P_SIZE, true }, { "share", P_BOOL, false }, { "prealloc", P_BOOL, false },   \
    { "merge", P_BOOL, false }, { "dump", P_BOOL, false }, { "reserve", P_BOOL, false },   \
    { "policy", P_STR, false }, { "host-nodes", P_STR, false },                            \
    { "prealloc-threads", P_UINT, false }, { "x-use-canonical-path-for-ramblock-id", P_BOOL, false }

static const ObjProp ram_props[] = { HOSTMEM_PROPS, { NULL } };
static const ObjProp memfd_props[] = {
    HOSTMEM_PROPS, { "hugetlb", P_BOOL, false }, { "hugetlbsize", P_SIZE, false },
    { "seal", P_BOOL, false }, { NULL } };
static const ObjProp file_props[] = {
    HOSTMEM_PROPS, { "mem-path", P_STR, true }, { "align", P_SIZE, false },
    { "discard-data", P_BOOL, false }, { "pmem", P_BOOL, false }, { "readonly", P_BOOL, false },
    { NULL } };
static const ObjProp iothread_props[] = {
    { "poll-max-ns", P_UINT, false }, { "poll-grow", P_UINT, false },
    { "poll-shrink", P_UINT, false }, { "aio-max-batch", P_UINT, false }, { NULL } };
static const ObjProp secret_props[] = {
    { "data", P_STR, false }, { "file", P_STR, false }, { "format", P_STR, false },
    { "keyid", P_STR, false }, { "iv", P_STR, false }, { "loaded", P_BOOL, false }, { NULL } };
static const ObjProp rng_random_props[] = { { "filename", P_STR, false }, { NULL } };
static const ObjProp no_props[] = { { NULL } };

static const ObjType obj_types[] = {
    { "memory-backend-ram", true, ram_props },
    { "memory-backend-memfd", true, memfd_props },
    { "memory-backend-file", true, file_props },
    { "iothread", false, iothread_props },
    { "secret", false, secret_props },
    { "rng-random", false, rng_random_props },
    { "rng-builtin", false, no_props },
};

static GPtrArray *objects;              /* UserObject *, in creation order */

const char *object_prop_kind(const char *type, const char *prop)
{
    static const char *const kinds[] = { [P_BOOL] = "bool", [P_SIZE] = "size",
                                         [P_UINT] = "uint", [P_STR] = "str" };
    for (unsigned i = 0; i < G_N_ELEMENTS(obj_types); i++) {
        if (strcmp(obj_types[i].name, type)) {
            continue;
        }
        for (const ObjProp *p = obj_types[i].props; p->name; p++) {
            if (!strcmp(p->name, prop)) {
                return kinds[p->kind];
            }
        }
    }
    return NULL;
}

bool object_type_exists(const char *type)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(obj_types); i++) {
        if (!strcmp(obj_types[i].name, type)) {
            return true;
        }
    }
    return false;
}

/* An iothread object owns a real (idle) host thread, so query-iothreads
 * reports a thread id as QEMU does; kemu runs no device in it. */
static gpointer iothread_run(gpointer opaque)
{
    UserObject *obj = opaque;
    GMainLoop *loop = obj->iothread_loop;
    __atomic_store_n(&obj->thread_id, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
    g_main_loop_run(loop);
    return NULL;
}

static void iothread_start(UserObject *obj)
{
    GMainContext *ctx = g_main_context_new();
    obj->iothread_loop = g_main_loop_new(ctx, FALSE);
    g_main_context_unref(ctx);
    obj->thread = g_thread_new(obj->id, iothread_run, obj);
    while (!__atomic_load_n(&obj->thread_id, __ATOMIC_ACQUIRE)) {
        g_usleep(100);
    }
}

static void iothread_stop(UserObject *obj)
{
    g_main_loop_quit(obj->iothread_loop);
    g_main_context_wakeup(g_main_loop_get_context(obj->iothread_loop));
    g_thread_join(obj->thread);
    g_main_loop_unref(obj->iothread_loop);
}

static const ObjType *obj_type_find(const char *name)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(obj_types); i++) {
        if (!strcmp(obj_types[i].name, name)) {
            return &obj_types[i];
        }
    }
    return NULL;
}

UserObject *object_find(const char *id)
{
    for (guint i = 0; objects && i < objects->len; i++) {
        UserObject *o = g_ptr_array_index(objects, i);
        if (!strcmp(o->id, id)) {
            return o;
        }
    }
    return NULL;
}

void object_foreach(void (*fn)(UserObject *obj, void *opaque), void *opaque)
{
    for (guint i = 0; objects && i < objects->len; i++) {
        fn(g_ptr_array_index(objects, i), opaque);
    }
}

static bool parse_props(UserObject *obj, const ObjType *t, KVDict *o, Error **errp)
{
    obj->merge = obj->dump = obj->reserve = true;
    obj->poll_max_ns = 32768;           /* QEMU's IOTHREAD_POLL_MAX_NS_DEFAULT */
    for (const ObjProp *p = t->props; p->name; p++) {
        if (!kv_has(o, p->name)) {
            if (p->required) {
                error_setg(errp, "Parameter '%s' is missing", p->name);
                return false;
            }
            continue;
        }
        bool b;
        uint64_t u;
        switch (p->kind) {
        case P_BOOL:
            if (!kv_get_bool(o, p->name, false, &b, errp)) {
                return false;
            }
            if (!strcmp(p->name, "share")) {
                obj->share = b;
            } else if (!strcmp(p->name, "prealloc")) {
                obj->prealloc = b;
            } else if (!strcmp(p->name, "merge")) {
                obj->merge = b;
            } else if (!strcmp(p->name, "dump")) {
                obj->dump = b;
            } else if (!strcmp(p->name, "reserve")) {
                obj->reserve = b;
            }
            break;
        case P_SIZE:
            if (!kv_get_size(o, p->name, 0, &u, errp)) {
                return false;
            }
            if (!strcmp(p->name, "size")) {
                if (!u) {
                    error_setg(errp, "property 'size' of %s doesn't take value '%" PRIu64 "'",
                               t->name, u);
                    return false;
                }
                obj->size = u;
            }
            break;
        case P_UINT:
            if (!kv_get_uint(o, p->name, 0, &u, errp)) {
                return false;
            }
            if (!strcmp(p->name, "poll-max-ns")) {
                obj->poll_max_ns = u;
            }
            break;
        case P_STR:
            if (!strcmp(p->name, "mem-path")) {
                obj->mem_path = g_strdup(kv_get(o, p->name));
            } else if (!strcmp(p->name, "policy")) {
                const char *v = kv_get(o, p->name);
                if (strcmp(v, "default") && strcmp(v, "preferred") && strcmp(v, "bind") &&
                    strcmp(v, "interleave")) {
                    error_setg(errp, "Parameter 'policy' does not accept value '%s'", v);
                    return false;
                }
                obj->policy = g_strdup(v);
            } else {
                kv_get(o, p->name);
            }
            break;
        }
    }
    return kv_check_all_used(o, errp);
}

bool object_add_opts(KVDict *o, Error **errp)
{
    const char *type = kv_get(o, "qom-type");
    if (!type) {
        error_setg(errp, "Parameter 'qom-type' is missing");
        return false;
    }
    const ObjType *t = obj_type_find(type);
    if (!t) {
        error_setg(errp, "Parameter 'qom-type' does not accept value '%s'", type);
        return false;
    }
    const char *id = kv_get(o, "id");
    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    if (!id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        error_append_hint(errp, "Identifiers consist of letters, digits, '-', '.', '_', "
                          "starting with a letter.\n");
        return false;
    }
    if (object_find(id)) {
        error_setg(errp, "Duplicate ID '%s' for object", id);
        return false;
    }
    UserObject *obj = g_new0(UserObject, 1);
    obj->type = t->name;
    obj->id = g_strdup(id);
    obj->memory_backend = t->memory_backend;
    if (!parse_props(obj, t, o, errp)) {
        g_free(obj->mem_path);
        g_free(obj->policy);
        g_free(obj->id);
        g_free(obj);
        return false;
    }
    if (!obj->policy) {
        obj->policy = g_strdup("default");
    }
    if (!strcmp(obj->type, "iothread")) {
        iothread_start(obj);
    }
    if (!objects) {
        objects = g_ptr_array_new();
    }
    g_ptr_array_add(objects, obj);
    return true;
}

bool object_add_str(const char *str, Error **errp)
{
    KVDict *o = kv_parse_or_json(str, "qom-type", errp);
    if (!o) {
        return false;
    }
    bool ok = object_add_opts(o, errp);
    kv_free(o);
    return ok;
}

bool object_del(const char *id, Error **errp)
{
    UserObject *obj = object_find(id);
    if (!obj) {
        error_setg(errp, "object '%s' not found", id);
        return false;
    }
    if (obj->used) {
        error_setg(errp, "object '%s' is in use, can not be deleted", id);
        return false;
    }
    g_ptr_array_remove(objects, obj);
    if (obj->thread) {
        iothread_stop(obj);
    }
    g_free(obj->mem_path);
    g_free(obj->policy);
    g_free(obj->id);
    g_free(obj);
    return true;
}

void *memdev_map(UserObject *obj, Error **errp)
{
    if (obj->host) {
        return obj->host;
    }
    int fd = -1;
    int flags = obj->share ? MAP_SHARED : MAP_PRIVATE;
    if (!strcmp(obj->type, "memory-backend-memfd")) {
        fd = memfd_create(obj->id, MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, obj->size) < 0) {
            error_setg_errno(errp, errno, "failed to create memfd");
            goto fail;
        }
    } else if (!strcmp(obj->type, "memory-backend-file")) {
        struct stat st;
        if (stat(obj->mem_path, &st) == 0 && S_ISDIR(st.st_mode)) {
            g_autofree char *tmpl = g_build_filename(obj->mem_path, "kemu_back_mem.XXXXXX", NULL);
            fd = g_mkstemp(tmpl);
            if (fd >= 0) {
                unlink(tmpl);
            }
        } else {
            fd = open(obj->mem_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        }
        if (fd < 0) {
            error_setg_errno(errp, errno, "can't open backing store %s for guest RAM",
                             obj->mem_path);
            goto fail;
        }
        if (fstat(fd, &st) == 0 && (uint64_t)st.st_size < obj->size &&
            ftruncate(fd, obj->size) < 0) {
            error_setg_errno(errp, errno, "failed to resize %s", obj->mem_path);
            goto fail;
        }
    } else {
        flags |= MAP_ANONYMOUS;
    }
    if (!obj->reserve) {
        flags |= MAP_NORESERVE;
    }
    void *p = mmap(NULL, obj->size, PROT_READ | PROT_WRITE, flags | (obj->prealloc ? MAP_POPULATE : 0),
                   fd, 0);
    if (fd >= 0) {
        close(fd);
    }
    if (p == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot set up guest memory '%s'", obj->id);
        return NULL;
    }
    if (obj->merge) {
        madvise(p, obj->size, MADV_MERGEABLE);
    }
    if (!obj->dump) {
        madvise(p, obj->size, MADV_DONTDUMP);
    }
    obj->host = p;
    obj->used = true;
    return p;
fail:
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}
