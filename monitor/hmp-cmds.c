/*
 * HMP-only commands (help, info listing, info cpus/registers/mtree/qtree/
 * mem/tlb/history, x/xp memory dumps with QEMU's format letters, print,
 * cpu) and the QOM-style introspection QMP commands scripts and libvirt
 * use (qom-list, qom-get, qom-list-types, device-list-properties,
 * query-command-line-options), over kemu's static device/machine tables.
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "hw/machine.h"
#include "hw/qdev.h"
#include "monitor/monitor-internal.h"
#include "system/cpus.h"
#include "system/memory.h"
#include "util/cutils.h"
#include "util/module.h"

/* ------------------------------------------------------------- help */

static void hmp_help(Monitor *mon, JsonObject *args)
{
    hmp_print_help(mon, json_object_get_str(args, "name"));
}

static void hmp_info(Monitor *mon, JsonObject *args)
{
    hmp_print_help(mon, "info");     /* reached only through "help"; kept for the table */
}

/* ------------------------------------------------------------ CPUs */

void hmp_info_cpus(Monitor *mon, JsonObject *args)
{
    CPUState *cur = monitor_cur_cpu(mon);
    for (int i = 0; i < n_cpus; i++) {
        monitor_printf(mon, "%c CPU #%d: thread_id=%d\n", cpus[i] == cur ? '*' : ' ',
                       cpus[i]->index, cpus[i]->thread_id);
    }
}

static void hmp_info_registers(Monitor *mon, JsonObject *args)
{
    bool all = json_object_get_bool(args, "cpustate_all", false);
    JsonValue *vcpu = json_object_get(args, "vcpu");
    CPUState *cur = monitor_cur_cpu(mon);

    if (!cur) {
        monitor_printf(mon, "No CPU available\n");
        return;
    }
    for (int i = 0; i < n_cpus; i++) {
        CPUState *cpu = cpus[i];
        if (vcpu ? cpu->index != vcpu->i : (!all && cpu != cur)) {
            continue;
        }
        monitor_printf(mon, "\nCPU#%d\n", cpu->index);
        if (hmp_info_registers_hook) {
            GString *s = g_string_new(NULL);
            hmp_info_registers_hook(s, cpu->index);
            monitor_puts(mon, s->str);
            g_string_free(s, TRUE);
        }
    }
    if (vcpu && (vcpu->i < 0 || vcpu->i >= n_cpus)) {
        monitor_printf(mon, "CPU#%" PRId64 " not available\n", vcpu->i);
    }
}

static void info_paging(Monitor *mon, void (*hook)(GString *, int))
{
    CPUState *cpu = monitor_cur_cpu(mon);
    if (!cpu) {
        monitor_printf(mon, "No CPU available\n");
        return;
    }
    cpu_synchronize_state(cpu);
    if (!(cpu->env.cr[0] & (1u << 31))) {
        monitor_printf(mon, "PG disabled\n");
        return;
    }
    if (hook) {
        GString *s = g_string_new(NULL);
        hook(s, cpu->index);
        monitor_puts(mon, s->str);
        g_string_free(s, TRUE);
    }
}

static void hmp_info_mem(Monitor *mon, JsonObject *args)
{
    info_paging(mon, hmp_info_mem_hook);
}

static void hmp_info_tlb(Monitor *mon, JsonObject *args)
{
    info_paging(mon, hmp_info_tlb_hook);
}

static void hmp_cpu(Monitor *mon, JsonObject *args)
{
    int64_t idx = json_object_get_int(args, "index", -1);
    if (idx < 0 || idx >= n_cpus) {
        monitor_printf(mon, "invalid CPU index\n");
        return;
    }
    mon->cpu_index = (int)idx;
}

/* ---------------------------------------------------- memory trees */

static void hmp_info_mtree(Monitor *mon, JsonObject *args)
{
    GString *s = g_string_new(NULL);
    memory_print_mtree(s);
    monitor_puts(mon, s->str);
    g_string_free(s, TRUE);
}

static void qtree_dev(Monitor *mon, DeviceState *dev, int indent);

static void qtree_bus(Monitor *mon, Bus *bus, int indent)
{
    monitor_printf(mon, "%*sbus: %s\n", indent, "", bus->name);
    monitor_printf(mon, "%*stype %s\n", indent + 2, "", bus->type);
    for (unsigned i = 0; bus->children && i < bus->children->len; i++) {
        qtree_dev(mon, bus->children->pdata[i], indent + 2);
    }
}

static void qtree_props(Monitor *mon, DeviceState *dev, const DeviceClass *cls, int indent)
{
    if (cls->parent) {
        qtree_props(mon, dev, cls->parent, indent);
    }
    for (const Property *p = cls->props; p && p->name; p++) {
        g_autofree char *v = dev_get_prop_string(dev, p->name);
        uint64_t n;
        const char *t = p->type->name;
        if (v && (g_str_has_prefix(t, "uint") || g_str_has_prefix(t, "int")) &&
            qemu_strtou64(v, 0, &n) == 0) {
            /* QEMU prints integers as "N (0xN)" */
            monitor_printf(mon, "%*s%s = %s (0x%" PRIx64 ")\n", indent, "", p->name, v, n);
            continue;
        }
        monitor_printf(mon, "%*s%s = %s\n", indent, "", p->name, v ? v : "");
    }
}

static void qtree_dev(Monitor *mon, DeviceState *dev, int indent)
{
    monitor_printf(mon, "%*sdev: %s, id \"%s\"\n", indent, "", dev->cls->name, dev->id ? dev->id : "");
    qtree_props(mon, dev, dev->cls, indent + 2);
    for (unsigned i = 0; dev->child_buses && i < dev->child_buses->len; i++) {
        qtree_bus(mon, dev->child_buses->pdata[i], indent + 2);
    }
}

static void qtree_sysbus_dev(DeviceState *dev, void *opaque)
{
    if (!dev->parent_bus) {
        qtree_dev(opaque, dev, 2);
    }
}

static void hmp_info_qtree(Monitor *mon, JsonObject *args)
{
    monitor_printf(mon, "bus: main-system-bus\n");
    monitor_printf(mon, "  type System\n");
    dev_foreach(qtree_sysbus_dev, mon);
}

static void hmp_info_history(Monitor *mon, JsonObject *args)
{
    for (int i = 0; i < mon->rl.hist_n; i++) {
        monitor_printf(mon, "%d: '%s'\n", i, mon->rl.history[i]);
    }
}

/* ---------------------------------------------------------- x / xp */

static void print_char(GString *o, uint64_t v)
{
    int c = (int)v;                /* QEMU's monitor_printc takes an int */
    g_string_append_c(o, '\'');
    switch (c) {
    case '\'': g_string_append(o, "\\'"); break;
    case '\\': g_string_append(o, "\\\\"); break;
    case '\n': g_string_append(o, "\\n"); break;
    case '\r': g_string_append(o, "\\r"); break;
    default:
        if (c >= 32 && c <= 126) {
            g_string_append_c(o, (char)c);
        } else {
            g_string_append_printf(o, "\\x%02x", (unsigned)c);
        }
    }
    g_string_append_c(o, '\'');
}

/* Read guest memory: physical, or virtual through monitor_virt_to_phys. */
static bool read_guest(CPUState *cpu, uint64_t addr, uint8_t *buf, int len, bool physical)
{
    if (physical) {
        return as_rw(&as_memory, addr, buf, len, false) == 0;
    }
    while (len > 0) {
        uint64_t pa = addr;
        int chunk = (int)MIN((uint64_t)len, 4096 - (addr & 4095));
        if (monitor_virt_to_phys && !monitor_virt_to_phys(cpu, addr, &pa)) {
            return false;
        }
        if (as_rw(&as_memory, pa, buf, chunk, false) != 0) {
            return false;
        }
        addr += chunk;
        buf += chunk;
        len -= chunk;
    }
    return true;
}

void hmp_memory_dump(Monitor *mon, JsonObject *args, bool physical)
{
    int count = (int)json_object_get_int(args, "count", 1);
    int format = (int)json_object_get_int(args, "format", 'x');
    int wsize = (int)json_object_get_int(args, "size", 4);
    uint64_t addr = (uint64_t)json_object_get_int(args, "addr", 0);
    CPUState *cpu = monitor_cur_cpu(mon);
    int max_digits = 0;

    if (!physical && !cpu) {
        monitor_printf(mon, "Can not dump without CPU\n");
        return;
    }
    if (format == 'i') {
        format = 'x';             /* no disassembler: show the bytes */
        wsize = 1;
    }
    if (wsize != 1 && wsize != 2 && wsize != 4 && wsize != 8) {
        wsize = 1;
    }
    switch (format) {
    case 'o': max_digits = (wsize * 8 + 2) / 3; break;
    case 'u':
    case 'd': max_digits = (wsize * 8 * 10 + 32) / 33; break;
    case 'c': wsize = 1; break;
    default: max_digits = wsize * 2; break;
    }
    int64_t len = (int64_t)wsize * count;
    int line_size = wsize == 1 ? 8 : 16;
    if (cpu && !physical) {
        cpu_synchronize_state(cpu);
    }
    while (len > 0) {
        GString *o = g_string_new(NULL);
        uint8_t buf[16];
        int l = (int)MIN(len, (int64_t)line_size);
        g_string_append_printf(o, "%016" PRIx64 ":", addr);
        if (!read_guest(cpu, addr, buf, l, physical)) {
            g_string_append(o, " Cannot access memory\n");
            monitor_puts(mon, o->str);
            g_string_free(o, TRUE);
            break;
        }
        for (int i = 0; i < l; i += wsize) {
            uint64_t v;
            switch (wsize) {
            case 1: v = buf[i]; break;
            case 2: v = lduw_le_p(buf + i); break;
            case 4: v = ldl_le_p(buf + i); break;
            default: v = ldq_le_p(buf + i); break;
            }
            g_string_append_c(o, ' ');
            switch (format) {
            case 'o': g_string_append_printf(o, "%#*" PRIo64, max_digits, v); break;
            case 'u': g_string_append_printf(o, "%*" PRIu64, max_digits, v); break;
            case 'd': {
                int64_t sv = wsize == 1 ? (int8_t)v : wsize == 2 ? (int16_t)v
                             : wsize == 4 ? (int32_t)v : (int64_t)v;
                g_string_append_printf(o, "%*" PRId64, max_digits, sv);
                break;
            }
            case 'c': print_char(o, v); break;
            default: g_string_append_printf(o, "0x%0*" PRIx64, max_digits, v); break;
            }
        }
        g_string_append_c(o, '\n');
        monitor_puts(mon, o->str);
        g_string_free(o, TRUE);
        addr += l;
        len -= l;
    }
}

static void hmp_x(Monitor *mon, JsonObject *args)
{
    hmp_memory_dump(mon, args, false);
}

static void hmp_xp(Monitor *mon, JsonObject *args)
{
    hmp_memory_dump(mon, args, true);
}

static void hmp_print(Monitor *mon, JsonObject *args)
{
    int64_t v = json_object_get_int(args, "val", 0);
    GString *o = g_string_new(NULL);
    switch (json_object_get_int(args, "format", 'x')) {
    case 'o': g_string_append_printf(o, "%#" PRIo64, (uint64_t)v); break;
    case 'u': g_string_append_printf(o, "%" PRIu64, (uint64_t)v); break;
    case 'd': g_string_append_printf(o, "%" PRId64, v); break;
    case 'c': print_char(o, (uint64_t)v); break;
    default: g_string_append_printf(o, "%#" PRIx64, (uint64_t)v); break;
    }
    g_string_append_c(o, '\n');
    monitor_puts(mon, o->str);
    g_string_free(o, TRUE);
}

/* ------------------------------------------------------------- QOM */

static const char *machine_type_name(void)
{
    static char buf[96];
    const char *n = current_machine && current_machine->cls ? current_machine->cls->name : "none";
    g_snprintf(buf, sizeof(buf), "%s-machine", n);
    return buf;
}

static void prop_entry(JsonValue *a, const char *name, const char *type)
{
    JsonObject *o = json_object_new();
    json_object_set_str(o, "name", name);
    json_object_set_str(o, "type", type);
    json_array_append(a, o);
}

static const char *prop_qom_type(const Property *p)
{
    const char *t = p->type->name;
    if (!strcmp(t, "str")) {
        return "string";
    }
    if (!strcmp(t, "chr")) {
        return "str";
    }
    return t;
}

static void dev_props(JsonValue *a, const DeviceClass *cls)
{
    if (cls->parent) {
        dev_props(a, cls->parent);
    }
    for (const Property *p = cls->props; p && p->name; p++) {
        prop_entry(a, p->name, prop_qom_type(p));
    }
}

typedef struct PeriphCtx {
    JsonValue *a;
    const char *prefix;
} PeriphCtx;

static void periph_one(DeviceState *dev, void *opaque)
{
    PeriphCtx *c = opaque;
    const char *path = dev->canonical_path;
    if (path && g_str_has_prefix(path, c->prefix) && !strchr(path + strlen(c->prefix), '/')) {
        g_autofree char *t = g_strdup_printf("child<%s>", dev->cls->name);
        prop_entry(c->a, path + strlen(c->prefix), t);
    }
}

static JsonValue *qmp_qom_list(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *path = json_object_get_str(args, "path");
    JsonValue *a = json_array_new();

    prop_entry(a, "type", "string");
    if (!strcmp(path, "/")) {
        g_autofree char *t = g_strdup_printf("child<%s>", machine_type_name());
        prop_entry(a, "machine", t);
        prop_entry(a, "chardevs", "child<container>");
        if (qom_objects_exist()) {
            prop_entry(a, "objects", "child<container>");
        }
        return a;
    }
    if (!strcmp(path, "/objects")) {
        qom_list_objects(a);
        return a;
    }
    if (!strcmp(path, "/machine")) {
        static const char *const str_props[] = { "kernel", "initrd", "append", "firmware", "dumpdtb", "dtb" };
        for (unsigned i = 0; i < G_N_ELEMENTS(str_props); i++) {
            prop_entry(a, str_props[i], "string");
        }
        prop_entry(a, "usb", "bool");
        prop_entry(a, "dump-guest-core", "bool");
        prop_entry(a, "mem-merge", "bool");
        prop_entry(a, "peripheral-anon", "child<container>");
        prop_entry(a, "peripheral", "child<container>");
        prop_entry(a, "unattached", "child<container>");
        return a;
    }
    if (!strcmp(path, "/machine/peripheral") || !strcmp(path, "/machine/peripheral-anon") ||
        !strcmp(path, "/machine/unattached")) {
        g_autofree char *prefix = g_strdup_printf("%s/", path);
        PeriphCtx c = { a, prefix };
        if (!strcmp(path, "/machine/unattached")) {
            for (int i = 0; i < n_cpus; i++) {
                g_autofree char *n = g_strdup_printf("device[%d]", mon_cpu_qom_index(i));
                prop_entry(a, n, "child<qemu64-x86_64-cpu>");
            }
        }
        dev_foreach(periph_one, &c);
        return a;
    }
    int cpu;
    if (sscanf(path, "/machine/unattached/device[%d]", &cpu) == 1 &&
        (cpu = mon_cpu_from_qom_index(cpu)) >= 0) {
        prop_entry(a, "realized", "bool");
        prop_entry(a, "thread-id", "int");
        return a;
    }
    DeviceState *dev = dev_find_by_path(path);
    if (!dev) {
        json_free(a);
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", path);
        return NULL;
    }
    prop_entry(a, "realized", "bool");
    dev_props(a, dev->cls);
    return a;
}

static void hmp_qom_list(Monitor *mon, const JsonValue *r)
{
    for (unsigned i = 0; i < json_array_len(r); i++) {
        JsonValue *p = json_array_get(r, i);
        monitor_printf(mon, "%s (%s)\n", json_object_get_str(p, "name"), json_object_get_str(p, "type"));
    }
}

static JsonValue *qmp_qom_get(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *path = json_object_get_str(args, "path");
    const char *prop = json_object_get_str(args, "property");
    const char *type = NULL;
    DeviceState *dev = NULL;
    int cpu;

    if (!strcmp(path, "/")) {
        type = "container";
    } else if (!strcmp(path, "/machine")) {
        type = machine_type_name();
    } else if (!strcmp(path, "/machine/peripheral") || !strcmp(path, "/machine/peripheral-anon") ||
               !strcmp(path, "/machine/unattached")) {
        type = "container";
    } else if (sscanf(path, "/machine/unattached/device[%d]", &cpu) == 1 &&
               (cpu = mon_cpu_from_qom_index(cpu)) >= 0) {
        type = "qemu64-x86_64-cpu";
        if (!strcmp(prop, "thread-id")) {
            return json_int(cpus[cpu]->thread_id);
        }
        if (!strcmp(prop, "realized")) {
            return json_bool(true);
        }
    } else if ((dev = dev_find_by_path(path))) {
        type = dev->cls->name;
    } else {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", path);
        return NULL;
    }
    if (!strcmp(prop, "type")) {
        return json_string(type);
    }
    if (dev && !strcmp(prop, "realized")) {
        return json_bool(dev->realized);
    }
    if (dev && dev_find_prop(dev->cls, prop)) {
        g_autofree char *v = dev_get_prop_string(dev, prop);
        const Property *p = dev_find_prop(dev->cls, prop);
        const char *t = p->type->name;
        if (!strcmp(t, "bool")) {
            return json_bool(v && !strcmp(v, "on"));
        }
        if (g_str_has_prefix(t, "uint") || g_str_has_prefix(t, "int") || !strcmp(t, "size")) {
            uint64_t n;
            if (v && qemu_strtou64(v, 0, &n) == 0) {
                return json_uint(n);
            }
        }
        return json_string(v ? v : "");
    }
    error_setg(errp, "Property '%s.%s' not found", type, prop);
    return NULL;
}

static void hmp_qom_get(Monitor *mon, const JsonValue *r)
{
    g_autofree char *s = json_to_string(r, JSON_EMIT_PRETTY);
    monitor_printf(mon, "%s\n", s);
}

typedef struct TypesCtx {
    JsonValue *a;
    const char *impl;
    bool abstract;
} TypesCtx;

static void type_entry(TypesCtx *c, const char *name, const char *parent, const char *family)
{
    if (c->impl && !strcmp(c->impl, name) && !strcmp(c->impl, family) && c->abstract) {
        return;                   /* listed by the abstract base entries */
    }
    if (c->impl && strcmp(c->impl, family) && strcmp(c->impl, name) &&
        !(parent && !strcmp(c->impl, parent))) {
        return;
    }
    JsonObject *o = json_object_new();
    json_object_set_str(o, "name", name);
    if (parent) {
        json_object_set_str(o, "parent", parent);
    }
    json_array_append(c->a, o);
}

static void type_dev(const DeviceClass *cls, void *opaque)
{
    const char *parent = cls->parent ? cls->parent->name
                         : cls->bus_type && !strcmp(cls->bus_type, "PCI") ? "pci-device"
                         : cls->bus_type && !strcmp(cls->bus_type, "ISA") ? "isa-device"
                         : "device";
    type_entry(opaque, cls->name, parent, "device");
}

static void type_machine(const MachineClass *mc, void *opaque)
{
    g_autofree char *n = g_strdup_printf("%s-machine", mc->name);
    type_entry(opaque, n, "machine", "machine");
}

static JsonValue *qmp_qom_list_types(Monitor *mon, JsonObject *args, Error **errp)
{
    TypesCtx c = { json_array_new(), json_object_get_str(args, "implements"),
                   json_object_get_bool(args, "abstract", false) };
    for (int i = 0; accel_nth(i); i++) {
        g_autofree char *n = g_strdup_printf("%s-accel", accel_nth(i)->name);
        type_entry(&c, n, "accel", "accel");
    }
    if (c.impl && !c.abstract) {
        static const char *const bases[] = { "accel", "machine", "device", "x86_64-cpu" };
        for (unsigned i = 0; i < G_N_ELEMENTS(bases); i++) {
            if (!strcmp(c.impl, bases[i])) {
                type_entry(&c, bases[i], !strcmp(bases[i], "x86_64-cpu") ? "device" : "object",
                           bases[i]);
            }
        }
    }
    if (c.abstract) {
        type_entry(&c, "accel", "object", "accel");
        type_entry(&c, "machine", "object", "machine");
        type_entry(&c, "device", "object", "device");
        type_entry(&c, "x86_64-cpu", "device", "x86_64-cpu");
    }
    static const char *const cpus_[] = { "qemu64", "qemu32", "max", "host", "kvm64", "base" };
    for (unsigned i = 0; i < G_N_ELEMENTS(cpus_); i++) {
        g_autofree char *n = g_strdup_printf("%s-x86_64-cpu", cpus_[i]);
        type_entry(&c, n, "x86_64-cpu", "x86_64-cpu");
    }
    machine_class_foreach(type_machine, &c);
    device_class_foreach(type_dev, &c);
    type_entry(&c, "container", "object", "object");
    return c.a;
}

static void devprop_entries(JsonValue *a, const DeviceClass *cls)
{
    if (cls->parent) {
        devprop_entries(a, cls->parent);
    }
    for (const Property *p = cls->props; p && p->name; p++) {
        JsonObject *o = json_object_new();
        json_object_set_str(o, "name", p->name);
        json_object_set_str(o, "type", p->type->name);
        if (p->desc) {
            json_object_set_str(o, "description", p->desc);
        }
        if (p->defval) {
            const char *t = p->type->name;
            uint64_t n;
            bool b;
            if (!strcmp(t, "bool") && parse_bool(p->defval, &b)) {
                json_object_set_bool(o, "default-value", b);
            } else if ((g_str_has_prefix(t, "uint") || g_str_has_prefix(t, "int") ||
                        !strcmp(t, "size")) && qemu_strtou64(p->defval, 0, &n) == 0) {
                json_object_set(o, "default-value", json_uint(n));
            } else {
                json_object_set_str(o, "default-value", p->defval);
            }
        }
        json_array_append(a, o);
    }
}

static JsonValue *qmp_device_list_properties(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *name = json_object_get_str(args, "typename");
    const DeviceClass *cls = device_class_find(name);
    if (!cls) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", name);
        return NULL;
    }
    JsonValue *a = json_array_new();
    devprop_entries(a, cls);
    return a;
}

static JsonValue *qmp_qom_list_properties(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *name = json_object_get_str(args, "typename");
    const DeviceClass *cls = device_class_find(name);
    if (!cls) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Class '%s' not found", name);
        return NULL;
    }
    JsonValue *a = json_array_new();
    devprop_entries(a, cls);
    return a;
}

/* query-command-line-options: the options libvirt probes. */
typedef struct OptParam {
    const char *opt, *name, *type;
} OptParam;

static const OptParam opt_params[] = {
    { "machine", "type", "string" }, { "machine", "accel", "string" },
    { "machine", "kernel-irqchip", "string" }, { "machine", "usb", "boolean" },
    { "machine", "dump-guest-core", "boolean" }, { "machine", "mem-merge", "boolean" },
    { "machine", "memory-backend", "string" }, { "machine", "hpet", "boolean" },
    { "machine", "vmport", "string" }, { "machine", "firmware", "string" },
    { "sandbox", "enable", "boolean" }, { "sandbox", "obsolete", "string" },
    { "sandbox", "elevateprivileges", "string" }, { "sandbox", "spawn", "string" },
    { "sandbox", "resourcecontrol", "string" },
    { "name", "guest", "string" }, { "name", "process", "string" },
    { "name", "debug-threads", "boolean" },
    { "rtc", "base", "string" }, { "rtc", "clock", "string" }, { "rtc", "driftfix", "string" },
    { "msg", "timestamp", "boolean" }, { "msg", "guest-name", "boolean" },
    { "overcommit", "mem-lock", "boolean" }, { "overcommit", "cpu-pm", "boolean" },
    { "boot-opts", "order", "string" }, { "boot-opts", "once", "string" },
    { "boot-opts", "menu", "boolean" }, { "boot-opts", "strict", "boolean" },
    { "smp-opts", "cpus", "number" }, { "smp-opts", "sockets", "number" },
    { "smp-opts", "cores", "number" }, { "smp-opts", "threads", "number" },
    { "smp-opts", "maxcpus", "number" }, { "accel", "accel", "string" },
    { "chardev", NULL, NULL }, { "device", NULL, NULL }, { "netdev", NULL, NULL },
    { "drive", NULL, NULL }, { "object", NULL, NULL }, { "mon", "mode", "string" },
    { "mon", "chardev", "string" }, { "mon", "pretty", "boolean" },
};

static JsonValue *qmp_query_command_line_options(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *want = json_object_get_str(args, "option");
    JsonValue *a = json_array_new();
    JsonObject *cur = NULL;
    const char *cur_name = NULL;

    for (unsigned i = 0; i < G_N_ELEMENTS(opt_params); i++) {
        const OptParam *p = &opt_params[i];
        if (want && strcmp(want, p->opt)) {
            continue;
        }
        if (!cur_name || strcmp(cur_name, p->opt)) {
            cur = json_object_new();
            json_object_set(cur, "parameters", json_array_new());
            json_object_set_str(cur, "option", p->opt);
            json_array_append(a, cur);
            cur_name = p->opt;
        }
        if (p->name) {
            JsonObject *o = json_object_new();
            json_object_set_str(o, "name", p->name);
            json_object_set_str(o, "type", p->type);
            json_array_append(json_object_get(cur, "parameters"), o);
        }
    }
    if (want && !json_array_len(a)) {
        json_free(a);
        error_setg(errp, "invalid option name: %s", want);
        return NULL;
    }
    return a;
}

static const MonCmd hmp_cmds[] = {
    { .hmp = "help|?", .hmp_args = "name:S?", .params = "[cmd]", .help = "show the help",
      .hmp_only = hmp_help },
    { .hmp = "info", .params = "[subcommand]",
      .help = "show various information about the system state", .hmp_only = hmp_info },
    { .hmp = "info cpus", .params = "", .help = "show infos for each CPU", .hmp_only = hmp_info_cpus },
    { .hmp = "info registers", .hmp_args = "cpustate_all:-a,vcpu:i?", .params = "[-a|vcpu]",
      .help = "show the cpu registers (-a: show register info for all cpus; vcpu: specific vCPU "
              "to query; show the current CPU's registers if no argument is specified)",
      .hmp_only = hmp_info_registers },
    { .hmp = "info mem", .params = "", .help = "show the active virtual memory mappings",
      .hmp_only = hmp_info_mem },
    { .hmp = "info tlb", .params = "", .help = "show virtual to physical memory mappings",
      .hmp_only = hmp_info_tlb },
    { .hmp = "info mtree", .hmp_args = "flatview:-f,dispatch_tree:-d,owner:-o,disabled:-D",
      .params = "[-f][-d][-o][-D]",
      .help = "show memory tree (-f: dump flat view for address spaces;-d: dump dispatch tree, "
              "valid with -f only);-o: dump region owners/parents;-D: dump disabled regions",
      .hmp_only = hmp_info_mtree },
    { .hmp = "info qtree", .params = "", .help = "show device tree", .hmp_only = hmp_info_qtree },
    { .hmp = "info history", .params = "", .help = "show the command line history",
      .hmp_only = hmp_info_history },
    { .hmp = "x", .hmp_args = "fmt:/,addr:l", .params = "/fmt addr",
      .help = "virtual memory dump starting at 'addr'", .hmp_only = hmp_x },
    { .hmp = "xp", .hmp_args = "fmt:/,addr:l", .params = "/fmt addr",
      .help = "physical memory dump starting at 'addr'", .hmp_only = hmp_xp },
    { .hmp = "print|p", .hmp_args = "fmt:/,val:l", .params = "/fmt expr",
      .help = "print expression value (use $reg for CPU register access)", .hmp_only = hmp_print },
    { .hmp = "cpu", .hmp_args = "index:i", .params = "index", .help = "set the default CPU",
      .hmp_only = hmp_cpu },
    { .name = "qom-list", .args = "path:s", .hmp = "qom-list", .hmp_args = "path:s",
      .params = "path", .help = "list QOM properties", .qmp = qmp_qom_list,
      .hmp_print = hmp_qom_list },
    { .name = "qom-get", .args = "path:s,property:s", .hmp = "qom-get",
      .hmp_args = "path:s,property:s", .params = "path property", .help = "print QOM property",
      .qmp = qmp_qom_get, .hmp_print = hmp_qom_get },
    { .name = "qom-list-types", .args = "implements:s?,abstract:b?", .qmp = qmp_qom_list_types },
    { .name = "device-list-properties", .args = "typename:s", .qmp = qmp_device_list_properties },
    { .name = "qom-list-properties", .args = "typename:s", .qmp = qmp_qom_list_properties },
    { .name = "query-command-line-options", .args = "option:s?",
      .qmp = qmp_query_command_line_options },
    { .name = NULL, .hmp = NULL },
};

MODULE_INIT(hmp_cmds_register)
{
    mon_cmds_register(hmp_cmds);
}
