/*
 * Device hotplug commands (QMP/HMP device_add, device_del) and the CPU
 * model query (query-cpu-definitions), with QEMU 7.2's checks in QEMU's
 * order (softmmu/qdev-monitor.c: qemu_opts_from_qdict, then
 * qdev_device_add_from_qdict; find_device_state + qdev_unplug).
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "hw/machine.h"
#include "hw/qdev.h"
#include "util/cutils.h"
#include "monitor/monitor-internal.h"
#include "system/cpus.h"
#include "target/i386/cpu.h"
#include "util/module.h"

/* ---------------------------------------------------------- device_add */


typedef struct AbstractCtx {
    const DeviceClass *cls;
    bool is_parent;
} AbstractCtx;

static void abstract_one(const DeviceClass *c, void *opaque)
{
    AbstractCtx *a = opaque;
    if (c != a->cls && device_class_is_a(c, a->cls)) {
        a->is_parent = true;
    }
}

/* kemu has no abstract flag: a base class ("isa-device", "pci-device") is
 * one other classes derive from and that cannot be created itself. */
static bool class_is_abstract(const DeviceClass *cls)
{
    AbstractCtx a = { cls, false };
    if (cls->user_creatable) {
        return false;
    }
    device_class_foreach(abstract_one, &a);
    return a.is_parent;
}

/* qemu_opts_from_qdict: strings, numbers and booleans become option
 * values; null, objects and arrays are dropped; a non-string "id" means
 * no id. */
static char *opt_value(const JsonValue *v)
{
    switch (v->type) {
    case JSON_STRING: return g_strdup(v->s);
    case JSON_INT: return g_strdup_printf("%" PRId64, v->i);
    case JSON_UINT: return g_strdup_printf("%" PRIu64, v->u);
    case JSON_DOUBLE: return g_strdup_printf("%.17g", v->d);
    case JSON_BOOL: return g_strdup(v->b ? "on" : "off");
    default: return NULL;
    }
}

static KVDict *device_opts(JsonObject *args)
{
    KVDict *d = kv_new();
    for (unsigned i = 0; i < json_object_size(args); i++) {
        const char *key = json_object_key(args, i);
        JsonValue *v = json_object_get(args, key);
        if (!strcmp(key, "id") && v->type != JSON_STRING) {
            continue;
        }
        g_autofree char *s = opt_value(v);
        if (s) {
            kv_set(d, key, s);
        }
    }
    return d;
}

/* The checks of QEMU's qdev_device_add_from_qdict() after the machine is
 * ready (so also under -S), then dev_create_from_opts(). */
static bool device_add_opts(KVDict *opts, Error **errp)
{
    const char *id = kv_peek(opts, "id");
    const char *driver = kv_peek(opts, "driver");

    if (id && !id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return false;
    }
    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        return false;
    }
    const DeviceClass *cls = device_class_find(driver);
    if (!cls) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return false;
    }
    if (class_is_abstract(cls)) {
        error_setg(errp, "Parameter 'driver' expects a non-abstract device type");
        return false;
    }
    if (!cls->user_creatable || cls->no_hotplug) {
        error_setg(errp, "Parameter 'driver' expects a pluggable device type");
        return false;
    }
    Bus *bus = NULL;
    const char *busname = kv_peek(opts, "bus");
    if (busname) {
        bus = bus_find(busname);
        if (!bus) {
            error_setg(errp, "Bus '%s' not found", busname);
            return false;
        }
        if (!cls->bus_type || strcmp(bus->type, cls->bus_type)) {
            error_setg(errp, "Device '%s' can't go on %s bus", driver, bus->type);
            return false;
        }
    } else if (cls->bus_type) {
        bus = bus_find_default(cls->bus_type);
        if (!bus) {
            error_setg(errp, "No '%s' bus found for device '%s'", cls->bus_type, driver);
            return false;
        }
    }
    if (!bus) {
        /* kemu's bus-less devices are QEMU sysbus devices */
        error_setg(errp, "Bus 'main-system-bus' does not support hotplugging");
        return false;
    }
    if (!bus->hotpluggable) {
        error_setg(errp, "Bus '%s' does not support hotplugging", bus->name);
        return false;
    }
    if (id && dev_find_by_id(id)) {
        error_setg(errp, "Duplicate device ID '%s'", id);
        return false;
    }
    DeviceState *dev = dev_create_from_opts(opts, errp);
    if (dev && bus->hotplug) {
        bus->hotplug(bus, dev);          /* tell the guest (ACPI PCI hotplug) */
    }
    return dev != NULL;
}

static JsonValue *qmp_device_add(Monitor *mon, JsonObject *args, Error **errp)
{
    KVDict *opts = device_opts(args);
    device_add_opts(opts, errp);
    kv_free(opts);
    return NULL;
}

/* QemuOpts parsing as HMP's "O" argument does it (qemu_opts_parse with
 * "driver" implied): ",," escapes a comma, a bare name is name=on (a bare
 * "id" is ignored), "help" or "?" asks for help. */
static KVDict *hmp_device_opts(const char *str, bool *help)
{
    KVDict *d = kv_new();
    const char *p = str;
    bool first = true;

    *help = false;
    while (*p) {
        GString *key = g_string_new(NULL), *val = g_string_new(NULL);
        bool has_eq = false;
        /* the implied key: the first parameter when no '=' precedes its
         * first ',' (then '=' is part of the value) */
        bool implied = first && p[strcspn(p, "=,")] != '=';
        for (; *p; p++) {
            if (*p == ',') {
                if (p[1] == ',') {
                    g_string_append_c(has_eq ? val : key, ',');
                    p++;
                    continue;
                }
                break;
            }
            if (*p == '=' && !has_eq && !implied) {
                has_eq = true;
                continue;
            }
            g_string_append_c(has_eq ? val : key, *p);
        }
        if (*p == ',') {
            p++;
        }
        if (!has_eq && (!strcmp(key->str, "help") || !strcmp(key->str, "?"))) {
            *help = true;
        } else if (implied) {
            kv_set(d, "driver", key->str);
        } else if (!has_eq) {
            if (strcmp(key->str, "id")) {
                kv_set(d, key->str, "on");
            }
        } else if (!strcmp(key->str, "id") && kv_peek(d, "id")) {
            /* the first id= wins (opts_parse_id) */
        } else {
            kv_set(d, key->str, val->str);
        }
        first = false;
        g_string_free(key, TRUE);
        g_string_free(val, TRUE);
    }
    return d;
}

static void hmp_device_add(Monitor *mon, JsonObject *args)
{
    const char *str = json_object_get_str(args, "device");
    Error *err = NULL;
    bool help;
    KVDict *opts = hmp_device_opts(str ? str : "", &help);
    const char *id = kv_peek(opts, "id");
    const char *driver = kv_peek(opts, "driver");

    if (id && !id_wellformed(id)) {
        /* QEMU reports this while parsing the argument (not through the
         * monitor), then the usual hint */
        monitor_printf(mon, "Try \"help device_add\" for more information\n");
    } else if (help && driver && !device_class_find(driver)) {
        monitor_printf(mon, "Device '%s' not found\n", driver);
    } else if (help) {
        dev_print_help(driver);   /* kemu prints device help on stdout */
    } else if (!device_add_opts(opts, &err)) {
        monitor_printf(mon, "Error: %s\n", error_get_pretty(err));
        error_free(err);
    }
    kv_free(opts);
}

/* ---------------------------------------------------------- device_del */

static bool is_container(const char *path)
{
    static const char *const c[] = {
        "/", "/machine", "/machine/peripheral", "/machine/peripheral-anon",
        "/machine/unattached", "/chardevs",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(c); i++) {
        if (!strcmp(path, c[i])) {
            return true;
        }
    }
    return false;
}

static JsonValue *qmp_device_del(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *id = json_object_get_str(args, "id");
    g_autofree char *path = id[0] == '/' ? g_strdup(id) : g_strdup_printf("/machine/peripheral/%s", id);
    size_t n = strlen(path);
    int qom, cpu;
    char tail;

    /* object_resolve_path_at() skips empty components: "x/" is "x" */
    while (n > 1 && path[n - 1] == '/') {
        path[--n] = '\0';
    }
    if (is_container(path)) {
        error_setg(errp, "%s is not a hotpluggable device", id);
        return NULL;
    }
    if (sscanf(path, "/machine/unattached/device[%d%c", &qom, &tail) == 2 && tail == ']' &&
        path[strlen(path) - 1] == ']' && (cpu = mon_cpu_from_qom_index(qom)) >= 0) {
        if (cpu == 0) {
            error_setg(errp, "Boot CPU is unpluggable");
        } else {
            error_setg(errp, "acpi: device unplug request for not supported device type: "
                       "qemu64-x86_64-cpu");
        }
        return NULL;
    }
    DeviceState *dev = dev_find_by_path(path);
    if (!dev) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", id);
        return NULL;
    }
    if (!dev->parent_bus) {
        error_setg(errp, "Bus 'main-system-bus' does not support hotplugging");
        return NULL;
    }
    if (!dev->parent_bus->hotpluggable) {
        error_setg(errp, "Bus '%s' does not support hotplugging", dev->parent_bus->name);
        return NULL;
    }
    if (dev->parent_bus->unplug_request) {
        /* the guest ejects the device; DEVICE_DELETED follows then */
        if (dev->parent_bus->unplug_request(dev->parent_bus, dev, errp)) {
            dev->unplug_pending = true;
        }
        return NULL;
    }
    qdev_unplug_complete(dev);
    return NULL;
}

/* DEVICE_DELETED as QEMU sends it: a virtio proxy's backend child first. */
static void device_deleted(const char *id, const char *path, const char *type)
{
    if (g_str_has_prefix(type, "virtio-")) {
        JsonObject *b = json_object_new();
        json_object_set(b, "path", json_string_take(g_strdup_printf("%s/virtio-backend", path)));
        qmp_event_send("DEVICE_DELETED", b);
    }
    JsonObject *data = json_object_new();
    if (id) {
        json_object_set_str(data, "device", id);
    }
    json_object_set_str(data, "path", path);
    qmp_event_send("DEVICE_DELETED", data);
}

/* ------------------------------------------------ query-cpu-definitions */

static void cpu_def_one(const X86CPUModel *m, void *opaque)
{
    JsonObject *o = json_object_new();
    JsonValue *unavail = json_array_new();
    bool kvm = current_accel && !strcmp(current_accel->name, "kvm");
    bool special = !strcmp(m->name, "max") || !strcmp(m->name, "host");
    g_autofree char *type = g_strdup_printf("%s-x86_64-cpu", m->name);

    if (!strcmp(m->name, "host") && !kvm) {
        json_array_append(unavail, json_string("kvm"));
    }
    /* CpuDefinitionInfo members in QAPI order (QDict order on output) */
    json_object_set_str(o, "name", m->name);
    json_object_set_bool(o, "migration-safe", !special);
    json_object_set_bool(o, "static", false);
    json_object_set(o, "unavailable-features", unavail);
    json_object_set_str(o, "typename", type);
    json_object_set_bool(o, "deprecated", false);
    json_array_append(opaque, o);
}

static int cpu_def_rank(const JsonValue *o)
{
    /* QEMU 7.2's (hash) order for these names: max, host, ..., qemu64 */
    static const char *const order[] = { "max", "host", "qemu64" };
    const char *n = json_object_get_str(o, "name");
    for (unsigned i = 0; i < G_N_ELEMENTS(order); i++) {
        if (!strcmp(n, order[i])) {
            return i;
        }
    }
    return G_N_ELEMENTS(order);
}

static JsonValue *qmp_query_cpu_definitions(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *all = json_array_new(), *a = json_array_new();
    x86_cpu_foreach_model(cpu_def_one, all);
    for (int r = 0; r <= 3; r++) {
        for (unsigned i = 0; i < json_array_len(all); i++) {
            JsonValue *o = json_array_get(all, i);
            if (cpu_def_rank(o) == r) {
                json_array_append(a, json_copy(o));
            }
        }
    }
    json_free(all);
    return a;
}

static const MonCmd device_cmds[] = {
    { .name = "device_add", .hmp = "device_add", .hmp_args = "device:S?",
      .params = "driver[,prop=value][,...]",
      .help = "add device, like -device on the command line",
      .qmp = qmp_device_add, .hmp_only = hmp_device_add, .flags = MON_CMD_ANY_ARGS },
    { .name = "device_del", .args = "id:s", .hmp = "device_del", .hmp_args = "id:s",
      .params = "device", .help = "remove device", .qmp = qmp_device_del },
    { .name = "query-cpu-definitions", .qmp = qmp_query_cpu_definitions },
    { .name = NULL, .hmp = NULL },
};

MODULE_INIT(device_cmds_register)
{
    mon_cmds_register(device_cmds);
    qdev_deleted_hook = device_deleted;
}
