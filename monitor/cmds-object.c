/*
 * Monitor commands for user-creatable objects: object-add / object_add,
 * object-del / object_del, query-memdev / info memdev, query-iothreads /
 * info iothreads, and the /objects container for qom-list. Replies and
 * error texts follow QEMU 7.2 (qom/qom-qmp-cmds.c, hw/core/machine-qmp-cmds.c,
 * iothread.c). The machine's RAM is listed as the backend "pc.ram" when
 * no -machine memory-backend names another, as in QEMU.
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <inttypes.h>
#include <string.h>
#include "hw/machine.h"
#include "monitor/monitor-internal.h"
#include "system/objects.h"
#include "util/module.h"

/* QMP members must have the JSON type of the property they set. */
static bool check_member_types(const char *type, JsonObject *args, Error **errp)
{
    for (unsigned i = 0; i < json_object_size(args); i++) {
        const char *key = json_object_key(args, i);
        if (!strcmp(key, "qom-type") || !strcmp(key, "id")) {
            continue;
        }
        const char *kind = object_prop_kind(type, key);
        if (!kind) {
            error_setg(errp, "Parameter '%s' is unexpected", key);
            return false;
        }
        JsonType jt = json_object_val(args, i)->type;
        bool ok = !strcmp(kind, "bool") ? jt == JSON_BOOL
                : !strcmp(kind, "str") ? jt == JSON_STRING : (jt == JSON_INT || jt == JSON_UINT);
        if (!ok) {
            if (!strcmp(kind, "size") || !strcmp(kind, "uint")) {
                error_setg(errp, "Parameter '%s' expects uint64", key);
            } else {
                error_setg(errp, "Invalid parameter type for '%s', expected: %s", key,
                           !strcmp(kind, "bool") ? "boolean" : "string");
            }
            return false;
        }
    }
    return true;
}

static JsonValue *qmp_object_add(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *type = json_object_get_str(args, "qom-type");
    const char *id = json_object_get_str(args, "id");
    if (!type) {
        error_setg(errp, "Parameter 'qom-type' is missing");
        return NULL;
    }
    if (!object_type_exists(type)) {
        error_setg(errp, "Parameter 'qom-type' does not accept value '%s'", type);
        return NULL;
    }
    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return NULL;
    }
    if (object_find(id) || (!strcmp(id, "pc.ram") && current_machine && !current_machine->memdev)) {
        error_setg(errp, "attempt to add duplicate property '%s' to object (type 'container')", id);
        return NULL;
    }
    if (!check_member_types(type, args, errp)) {
        return NULL;
    }
    KVDict *o = kv_from_json_object((JsonValue *)args, errp);
    if (o) {
        object_add_opts(o, errp);
        kv_free(o);
    }
    return NULL;
}

/* HMP: object_add TYPE,id=ID,... */
static void hmp_object_add(Monitor *mon, JsonObject *args)
{
    Error *err = NULL;
    KVDict *o = kv_parse(json_object_get_str(args, "object"), "qom-type", &err);
    const char *id = o ? kv_peek(o, "id") : NULL;
    if (id && object_find(id)) {
        /* the monitor adds through the QOM tree, like object-add */
        error_setg(&err, "attempt to add duplicate property '%s' to object (type 'container')", id);
    } else if (o) {
        object_add_opts(o, &err);
    }
    if (err) {
        monitor_printf(mon, "Error: %s\n", error_get_pretty(err));
        error_free(err);
    }
    if (o) {
        kv_free(o);
    }
}

static JsonValue *qmp_object_del(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *id = json_object_get_str(args, "id");
    if (!strcmp(id, "pc.ram") && current_machine && !current_machine->memdev) {
        error_setg(errp, "object 'pc.ram' is in use, can not be deleted");
        return NULL;
    }
    object_del(id, errp);
    return NULL;
}

static JsonObject *memdev_info(const char *id, const UserObject *o, uint64_t size)
{
    JsonObject *m = json_object_new();
    json_object_set_str(m, "id", id);
    json_object_set_int(m, "size", (int64_t)size);
    json_object_set_bool(m, "merge", o ? o->merge : true);
    json_object_set_bool(m, "dump", o ? o->dump : true);
    json_object_set_bool(m, "prealloc", o ? o->prealloc : false);
    json_object_set_bool(m, "share", o ? o->share : false);
    json_object_set_bool(m, "reserve", o ? o->reserve : true);
    json_object_set(m, "host-nodes", json_array_new());
    json_object_set_str(m, "policy", o ? o->policy : "default");
    return m;
}

static void memdev_one(UserObject *o, void *opaque)
{
    if (o->memory_backend) {
        json_array_append(opaque, (JsonValue *)memdev_info(o->id, o, o->size));
    }
}

static JsonValue *qmp_query_memdev(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    object_foreach(memdev_one, a);
    if (current_machine && current_machine->ram && !current_machine->memdev) {
        json_array_append(a, (JsonValue *)memdev_info("pc.ram", NULL, current_machine->ram_size));
    }
    return a;
}

static void hmp_info_memdev(Monitor *mon, const JsonValue *ret)
{
    for (unsigned i = 0; i < json_array_len(ret); i++) {
        JsonObject *m = (JsonObject *)json_array_get(ret, i);
        monitor_printf(mon, "memory backend: %s\n", json_object_get_str(m, "id"));
        monitor_printf(mon, "  size:  %" PRId64 "\n", json_object_get_int(m, "size", 0));
        monitor_printf(mon, "  merge: %s\n", json_object_get_bool(m, "merge", false) ? "true" : "false");
        monitor_printf(mon, "  dump: %s\n", json_object_get_bool(m, "dump", false) ? "true" : "false");
        monitor_printf(mon, "  prealloc: %s\n",
                       json_object_get_bool(m, "prealloc", false) ? "true" : "false");
        monitor_printf(mon, "  share: %s\n", json_object_get_bool(m, "share", false) ? "true" : "false");
        monitor_printf(mon, "  reserve: %s\n",
                       json_object_get_bool(m, "reserve", false) ? "true" : "false");
        monitor_printf(mon, "  policy: %s\n", json_object_get_str(m, "policy"));
        monitor_printf(mon, "  host nodes: \n");
    }
}

static JsonValue *qmp_query_memory_size_summary(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *o = json_object_new();
    json_object_set_int(o, "base-memory", current_machine ? (int64_t)current_machine->ram_size : 0);
    json_object_set_int(o, "plugged-memory", 0);
    return (JsonValue *)o;
}

static void iothread_one(UserObject *o, void *opaque)
{
    if (strcmp(o->type, "iothread")) {
        return;
    }
    JsonObject *t = json_object_new();
    json_object_set_str(t, "id", o->id);
    json_object_set_int(t, "thread-id", o->thread_id);
    json_object_set_int(t, "poll-max-ns", (int64_t)o->poll_max_ns);
    json_object_set_int(t, "poll-grow", 0);
    json_object_set_int(t, "poll-shrink", 0);
    json_object_set_int(t, "aio-max-batch", 0);
    json_array_append(opaque, (JsonValue *)t);
}

static JsonValue *qmp_query_iothreads(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    object_foreach(iothread_one, a);
    return a;
}

static void hmp_info_iothreads(Monitor *mon, const JsonValue *ret)
{
    for (unsigned i = 0; i < json_array_len(ret); i++) {
        JsonObject *t = (JsonObject *)json_array_get(ret, i);
        monitor_printf(mon, "%s:\n", json_object_get_str(t, "id"));
        monitor_printf(mon, "  thread_id=%" PRId64 "\n", json_object_get_int(t, "thread-id", 0));
        monitor_printf(mon, "  poll-max-ns=%" PRId64 "\n", json_object_get_int(t, "poll-max-ns", 0));
        monitor_printf(mon, "  poll-grow=%" PRId64 "\n", json_object_get_int(t, "poll-grow", 0));
        monitor_printf(mon, "  poll-shrink=%" PRId64 "\n", json_object_get_int(t, "poll-shrink", 0));
        monitor_printf(mon, "  aio-max-batch=%" PRId64 "\n",
                       json_object_get_int(t, "aio-max-batch", 0));
    }
}

static void objects_child(UserObject *o, void *opaque)
{
    JsonObject *e = json_object_new();
    json_object_set_str(e, "name", o->id);
    json_object_set(e, "type", json_string_take(g_strdup_printf("child<%s>", o->type)));
    json_array_append(opaque, (JsonValue *)e);
}

static void count_one(UserObject *o, void *opaque)
{
    (*(int *)opaque)++;
}

bool qom_objects_exist(void)
{
    int n = 0;
    object_foreach(count_one, &n);
    return n || (current_machine && current_machine->ram);
}

void qom_list_objects(JsonValue *list)
{
    object_foreach(objects_child, list);
    if (current_machine && current_machine->ram && !current_machine->memdev) {
        JsonObject *e = json_object_new();
        json_object_set_str(e, "name", "pc.ram");
        json_object_set_str(e, "type", "child<memory-backend-ram>");
        json_array_append(list, (JsonValue *)e);
    }
}

static const MonCmd object_cmds[] = {
    { .name = "object-add", .qmp = qmp_object_add, .hmp = "object_add",
      .hmp_args = "object:S", .params = "[qom-type=]type,id=str[,prop=value][,...]",
      .help = "create QOM object", .hmp_only = hmp_object_add, .flags = MON_CMD_ANY_ARGS },
    { .name = "object-del", .args = "id:s", .qmp = qmp_object_del, .hmp = "object_del",
      .hmp_args = "id:s", .params = "id", .help = "destroy QOM object" },
    { .name = "query-memdev", .qmp = qmp_query_memdev, .hmp = "info memdev", .params = "",
      .help = "show memory backends", .hmp_print = hmp_info_memdev },
    { .name = "query-memory-size-summary", .qmp = qmp_query_memory_size_summary },
    { .name = "query-iothreads", .qmp = qmp_query_iothreads, .hmp = "info iothreads",
      .params = "", .help = "show iothreads", .hmp_print = hmp_info_iothreads },
    { .name = NULL, .hmp = NULL },
};

MODULE_INIT(object_cmds_register)
{
    mon_cmds_register(object_cmds);
}
