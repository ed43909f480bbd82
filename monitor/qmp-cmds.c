/*
 * QMP commands of the monitor itself and of subsystems that don't own
 * their commands yet: capabilities, version, run state control, queries
 * of machines/CPUs/chardevs/PCI, migration capability stubs, and the HMP
 * printers of the commands HMP shares (info status, info kvm, ...).
 * Replies follow the QEMU 7.2 QAPI schema (member order as QAPI adds
 * them, so QDict ordering reproduces QEMU's output).
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "chardev/char.h"
#include "hw/machine.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "monitor/monitor-internal.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "util/module.h"
#if __has_include("kemu-config.h")
#include "kemu-config.h"
#endif
#ifndef KEMU_PKG_VERSION
#define KEMU_PKG_VERSION "kemu"
#endif

/* ------------------------------------------------------------ protocol */

static JsonValue *qmp_capabilities(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *en = json_object_get(args, "enable");
    for (unsigned i = 0; en && i < json_array_len(en); i++) {
        JsonValue *c = json_array_get(en, i);
        if (c->type != JSON_STRING || strcmp(c->s, "oob")) {
            error_setg(errp, "Parameter 'null' does not accept value '%s'",
                       c->type == JSON_STRING ? c->s : "");
            return NULL;
        }
    }
    if (mon->negotiated) {
        error_set(errp, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Capabilities negotiation is already complete, command ignored");
        return NULL;
    }
    mon->negotiated = true;
    mon->oob = en && json_array_len(en) > 0;
    return NULL;
}

static JsonValue *qmp_query_version(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *r = json_object_new(), *q = json_object_new();
    json_object_set_int(q, "major", 7);
    json_object_set_int(q, "minor", 2);
    json_object_set_int(q, "micro", 0);
    json_object_set(r, "qemu", q);
    json_object_set_str(r, "package", KEMU_PKG_VERSION);
    return r;
}

static void hmp_info_version(Monitor *mon, const JsonValue *r)
{
    JsonValue *q = json_object_get(r, "qemu");
    monitor_printf(mon, "%" PRId64 ".%" PRId64 ".%" PRId64 "%s\n",
                   json_object_get_int(q, "major", 0), json_object_get_int(q, "minor", 0),
                   json_object_get_int(q, "micro", 0), json_object_get_str(r, "package"));
}

static JsonValue *qmp_query_commands(Monitor *mon, JsonObject *args, Error **errp);
static JsonValue *qmp_query_qmp_schema(Monitor *mon, JsonObject *args, Error **errp);

/* ------------------------------------------------------------ runstate */

static JsonValue *qmp_query_status(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *r = json_object_new();
    json_object_set_bool(r, "running", runstate_is_running());
    json_object_set_bool(r, "singlestep", false);
    json_object_set_str(r, "status", runstate_name(runstate_get()));
    return r;
}

static void hmp_info_status(Monitor *mon, const JsonValue *r)
{
    bool running = json_object_get_bool(r, "running", false);
    const char *st = json_object_get_str(r, "status");
    monitor_printf(mon, "VM status: %s", running ? "running" : "paused");
    if (!running && strcmp(st, "paused")) {
        monitor_printf(mon, " (%s)", st);
    }
    monitor_printf(mon, "\n");
}

static JsonValue *qmp_stop(Monitor *mon, JsonObject *args, Error **errp)
{
    vm_stop(RUN_STATE_PAUSED);
    return NULL;
}

static JsonValue *qmp_cont(Monitor *mon, JsonObject *args, Error **errp)
{
    RunState s = runstate_get();
    if (s == RUN_STATE_SHUTDOWN || s == RUN_STATE_INTERNAL_ERROR) {
        error_setg(errp, "Resetting the Virtual Machine is required");
        return NULL;
    }
    vm_start();
    return NULL;
}

static JsonValue *qmp_system_reset(Monitor *mon, JsonObject *args, Error **errp)
{
    qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    return NULL;
}

static JsonValue *qmp_system_powerdown(Monitor *mon, JsonObject *args, Error **errp)
{
    qemu_system_powerdown_request();
    return NULL;
}

static JsonValue *qmp_quit(Monitor *mon, JsonObject *args, Error **errp)
{
    if (!mon->qmp && !mon->capture) {
        mon->waiting = true;       /* HMP: no prompt, no more input */
    }
    qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    return NULL;
}

/* ------------------------------------------------------------- queries */

static JsonValue *qmp_query_kvm(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *r = json_object_new();
    json_object_set_bool(r, "enabled", current_accel && !strcmp(current_accel->name, "kvm"));
    json_object_set_bool(r, "present", accel_find("kvm") != NULL);
    return r;
}

static void hmp_info_kvm(Monitor *mon, const JsonValue *r)
{
    if (json_object_get_bool(r, "present", false)) {
        monitor_printf(mon, "kvm support: %s\n",
                       json_object_get_bool(r, "enabled", false) ? "enabled" : "disabled");
    } else {
        monitor_printf(mon, "kvm support: not compiled\n");
    }
}

static JsonValue *qmp_query_name(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *r = json_object_new();
    if (current_machine && current_machine->name) {
        json_object_set_str(r, "name", current_machine->name);
    }
    return r;
}

static void hmp_info_name(Monitor *mon, const JsonValue *r)
{
    const char *n = json_object_get_str(r, "name");
    if (n) {
        monitor_printf(mon, "%s\n", n);
    }
}

static JsonValue *qmp_query_uuid(Monitor *mon, JsonObject *args, Error **errp)
{
    uint8_t z[16] = { 0 };
    const uint8_t *u = current_machine && current_machine->has_uuid ? current_machine->uuid : z;
    JsonObject *r = json_object_new();
    g_autofree char *s = g_strdup_printf(
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
        u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
        u[13], u[14], u[15]);
    json_object_set_str(r, "UUID", s);
    return r;
}

static void hmp_info_uuid(Monitor *mon, const JsonValue *r)
{
    monitor_printf(mon, "%s\n", json_object_get_str(r, "UUID"));
}

static JsonValue *qmp_query_target(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *r = json_object_new();
    json_object_set_str(r, "arch", "x86_64");
    return r;
}

static JsonValue *qmp_query_current_machine(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonObject *r = json_object_new();
    json_object_set_bool(r, "wakeup-suspend-support", false);
    return r;
}

static bool machine_old_numa(const char *name)
{
    int maj, min;
    if (sscanf(name, "pc-i440fx-%d.%d", &maj, &min) != 2 &&
        sscanf(name, "pc-q35-%d.%d", &maj, &min) != 2) {
        return false;
    }
    return maj < 5 || (maj == 5 && min < 2);
}

static void machine_one(const MachineClass *mc, void *opaque)
{
    JsonObject *m = json_object_new();
    bool pc = g_str_has_prefix(mc->name, "pc-");

    json_object_set_str(m, "name", mc->name);
    if (mc->alias) {
        json_object_set_str(m, "alias", mc->alias);
    }
    if (mc->is_default) {
        json_object_set_bool(m, "is-default", true);
    }
    json_object_set_int(m, "cpu-max", mc->max_cpus > 0 ? mc->max_cpus : 1);
    json_object_set_bool(m, "hotpluggable-cpus", pc);
    json_object_set_bool(m, "numa-mem-supported", machine_old_numa(mc->name));
    json_object_set_bool(m, "deprecated", mc->deprecated);
    if (pc) {
        g_autofree char *t = g_strdup_printf("%s-x86_64-cpu", mc->default_cpu ? mc->default_cpu : "qemu64");
        json_object_set_str(m, "default-cpu-type", t);
    }
    json_object_set_str(m, "default-ram-id", pc ? "pc.ram" : "ram");
    json_array_append(opaque, m);
}

static JsonValue *qmp_query_machines(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    machine_class_foreach(machine_one, a);
    return a;
}

static void chardev_one(Chardev *chr, void *opaque)
{
    JsonObject *c = json_object_new();
    json_object_set_str(c, "label", chr->id);
    json_object_set_str(c, "filename", chr->filename);
    json_object_set_bool(c, "frontend-open", chr->frontend_open);
    json_array_append(opaque, c);
}

static JsonValue *qmp_query_chardev(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    chr_foreach(chardev_one, a);
    return a;
}

static void hmp_info_chardev(Monitor *mon, const JsonValue *r)
{
    for (unsigned i = 0; i < json_array_len(r); i++) {
        JsonValue *c = json_array_get(r, i);
        monitor_printf(mon, "%s: filename=%s\n", json_object_get_str(c, "label"),
                       json_object_get_str(c, "filename"));
    }
}

static JsonValue *qmp_query_chardev_backends(Monitor *mon, JsonObject *args, Error **errp)
{
    static const char *const names[] = {
        "pty", "serial", "file", "memory", "vc", "socket", "null", "pipe", "mux",
        "ringbuf", "stdio",
    };
    JsonValue *a = json_array_new();
    for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
        JsonObject *o = json_object_new();
        json_object_set_str(o, "name", names[i]);
        json_array_append(a, o);
    }
    return a;
}

int mon_cpu_from_qom_index(int n)
{
    for (int i = 0; i < n_cpus; i++) {
        if (mon_cpu_qom_index(i) == n) {
            return i;
        }
    }
    return -1;
}

static JsonObject *cpu_props(int i)
{
    JsonObject *p = json_object_new();
    int threads = current_machine && current_machine->smp_threads > 0
                  ? current_machine->smp_threads : 1;
    int cores = current_machine && current_machine->smp_cores > 0
                ? current_machine->smp_cores : 1;
    json_object_set_int(p, "socket-id", i / (cores * threads));
    json_object_set_int(p, "core-id", (i / threads) % cores);
    json_object_set_int(p, "thread-id", i % threads);
    return p;
}

static JsonValue *qmp_query_hotpluggable_cpus(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    int max = current_machine && current_machine->smp_max_cpus > n_cpus
              ? current_machine->smp_max_cpus : n_cpus;
    if (!current_machine || !g_str_has_prefix(current_machine->cls->name, "pc-")) {
        error_setg(errp, "machine does not support hot-plugging CPUs");
        json_free(a);
        return NULL;
    }
    for (int i = max - 1; i >= 0; i--) {
        JsonObject *c = json_object_new();
        json_object_set_str(c, "type", "qemu64-x86_64-cpu");
        json_object_set_int(c, "vcpus-count", 1);
        json_object_set(c, "props", cpu_props(i));
        if (i < n_cpus) {
            g_autofree char *path = g_strdup_printf("/machine/unattached/device[%d]",
                                                    mon_cpu_qom_index(i));
            json_object_set_str(c, "qom-path", path);
        }
        json_array_append(a, c);
    }
    return a;
}

static void hmp_info_hotpluggable_cpus(Monitor *mon, const JsonValue *r)
{
    monitor_printf(mon, "Hotpluggable CPUs:\n");
    for (unsigned i = 0; i < json_array_len(r); i++) {
        JsonValue *c = json_array_get(r, i);
        JsonValue *p = json_object_get(c, "props");
        monitor_printf(mon, "  type: \"%s\"\n", json_object_get_str(c, "type"));
        monitor_printf(mon, "  vcpus_count: \"%" PRId64 "\"\n", json_object_get_int(c, "vcpus-count", 1));
        if (json_object_get_str(c, "qom-path")) {
            monitor_printf(mon, "  qom_path: \"%s\"\n", json_object_get_str(c, "qom-path"));
        }
        monitor_printf(mon, "  CPUInstance Properties:\n");
        monitor_printf(mon, "    socket-id: \"%" PRId64 "\"\n", json_object_get_int(p, "socket-id", 0));
        monitor_printf(mon, "    core-id: \"%" PRId64 "\"\n", json_object_get_int(p, "core-id", 0));
        monitor_printf(mon, "    thread-id: \"%" PRId64 "\"\n", json_object_get_int(p, "thread-id", 0));
    }
}

static JsonValue *qmp_query_cpus_fast(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    int threads = current_machine && current_machine->smp_threads > 0
                  ? current_machine->smp_threads : 1;
    int cores = current_machine && current_machine->smp_cores > 0
                ? current_machine->smp_cores : 1;
    (void)threads;
    (void)cores;
    for (int i = 0; i < n_cpus; i++) {
        JsonObject *c = json_object_new();
        g_autofree char *path = g_strdup_printf("/machine/unattached/device[%d]",
                                                mon_cpu_qom_index(i));
        json_object_set_int(c, "cpu-index", cpus[i]->index);
        json_object_set_str(c, "qom-path", path);
        json_object_set_int(c, "thread-id", cpus[i]->thread_id);
        json_object_set(c, "props", cpu_props(i));
        json_object_set_str(c, "target", "x86_64");
        json_array_append(a, c);
    }
    return a;
}

static JsonValue *qmp_empty_list(Monitor *mon, JsonObject *args, Error **errp)
{
    return json_array_new();
}

static JsonValue *qmp_query_balloon(Monitor *mon, JsonObject *args, Error **errp)
{
    error_set(errp, ERROR_CLASS_DEVICE_NOT_ACTIVE, "No balloon device has been activated");
    return NULL;
}

/* ---------------------------------------------------------------- PCI */

static const char *pci_class_desc(unsigned cls)
{
    static const struct { unsigned cls; const char *desc; } tab[] = {
        { 0x0001, "VGA controller" }, { 0x0100, "SCSI controller" },
        { 0x0101, "IDE controller" }, { 0x0102, "Floppy controller" },
        { 0x0103, "IPI controller" }, { 0x0104, "RAID controller" },
        { 0x0106, "SATA controller" }, { 0x0107, "SAS controller" },
        { 0x0180, "Storage controller" }, { 0x0200, "Ethernet controller" },
        { 0x0280, "Network controller" }, { 0x0300, "VGA controller" },
        { 0x0301, "XGA controller" }, { 0x0302, "3D controller" },
        { 0x0380, "Display controller" }, { 0x0400, "Video controller" },
        { 0x0401, "Audio controller" }, { 0x0403, "Audio controller" },
        { 0x0480, "Multimedia controller" }, { 0x0500, "RAM controller" },
        { 0x0580, "Memory controller" }, { 0x0600, "Host bridge" },
        { 0x0601, "ISA bridge" }, { 0x0602, "EISA bridge" },
        { 0x0603, "MC bridge" }, { 0x0604, "PCI bridge" },
        { 0x0680, "Bridge" }, { 0x0700, "Serial port" },
        { 0x0780, "Communication controller" }, { 0x0800, "PIC" },
        { 0x0801, "DMA controller" }, { 0x0802, "Timer" },
        { 0x0803, "RTC" }, { 0x0880, "System peripheral" },
        { 0x0c03, "USB controller" }, { 0x0c05, "SMBus" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(tab); i++) {
        if (tab[i].cls == cls) {
            return tab[i].desc;
        }
    }
    return NULL;
}

static JsonObject *pci_dev_info(PCIDevice *d)
{
    JsonObject *o = json_object_new(), *ci = json_object_new(), *id = json_object_new();
    JsonValue *regions = json_array_new();
    unsigned cls = pci_get_word(d->config + PCI_CLASS_DEVICE);
    const char *desc = pci_class_desc(cls);
    int pin = d->config[PCI_INTERRUPT_PIN];

    json_object_set_int(o, "bus", 0);
    json_object_set_int(o, "slot", PCI_SLOT(d->devfn));
    json_object_set_int(o, "function", PCI_FUNC(d->devfn));
    if (desc) {
        json_object_set_str(ci, "desc", desc);
    }
    json_object_set_int(ci, "class", cls);
    json_object_set(o, "class_info", ci);
    json_object_set_int(id, "device", pci_get_word(d->config + PCI_DEVICE_ID));
    json_object_set_int(id, "vendor", pci_get_word(d->config + PCI_VENDOR_ID));
    json_object_set_int(id, "subsystem", pci_get_word(d->config + PCI_SUBSYSTEM_ID));
    json_object_set_int(id, "subsystem-vendor", pci_get_word(d->config + PCI_SUBSYSTEM_VENDOR_ID));
    json_object_set(o, "id", id);
    if (pin) {
        json_object_set_int(o, "irq", d->config[PCI_INTERRUPT_LINE]);
    }
    json_object_set_int(o, "irq_pin", pin);
    json_object_set_str(o, "qdev_id", d->qdev.id ? d->qdev.id : "");
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        PCIBar *b = &d->bars[i];
        if (!b->size) {
            continue;
        }
        JsonObject *r = json_object_new();
        bool io = b->type & PCI_BASE_ADDRESS_SPACE_IO;
        json_object_set_int(r, "bar", i);
        json_object_set_str(r, "type", io ? "io" : "memory");
        json_object_set_int(r, "address", b->addr == PCI_BAR_UNMAPPED ? -1 : (int64_t)b->addr);
        json_object_set_int(r, "size", (int64_t)b->size);
        if (!io) {
            json_object_set_bool(r, "prefetch", b->type & PCI_BASE_ADDRESS_MEM_PREFETCH);
            json_object_set_bool(r, "mem_type_64", b->type & PCI_BASE_ADDRESS_MEM_TYPE_64);
        }
        json_array_append(regions, r);
    }
    json_object_set(o, "regions", regions);
    return o;
}

static int devfn_cmp(const void *a, const void *b)
{
    const PCIDevice *x = *(PCIDevice *const *)a, *y = *(PCIDevice *const *)b;
    return x->devfn - y->devfn;
}

static JsonValue *qmp_query_pci(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    Bus *bus = current_machine ? current_machine->pci_bus : NULL;
    if (!bus) {
        return a;
    }
    GPtrArray *devs = g_ptr_array_new();
    for (unsigned i = 0; bus->children && i < bus->children->len; i++) {
        g_ptr_array_add(devs, bus->children->pdata[i]);
    }
    qsort(devs->pdata, devs->len, sizeof(gpointer), devfn_cmp);
    JsonObject *b = json_object_new();
    JsonValue *list = json_array_new();
    json_object_set_int(b, "bus", 0);
    for (unsigned i = 0; i < devs->len; i++) {
        json_array_append(list, pci_dev_info(devs->pdata[i]));
    }
    json_object_set(b, "devices", list);
    json_array_append(a, b);
    g_ptr_array_free(devs, TRUE);
    return a;
}

static void hmp_info_pci(Monitor *mon, const JsonValue *r)
{
    for (unsigned i = 0; i < json_array_len(r); i++) {
        JsonValue *devs = json_object_get(json_array_get(r, i), "devices");
        for (unsigned j = 0; j < json_array_len(devs); j++) {
            JsonValue *d = json_array_get(devs, j);
            JsonValue *ci = json_object_get(d, "class_info");
            JsonValue *id = json_object_get(d, "id");
            JsonValue *regs = json_object_get(d, "regions");
            const char *desc = json_object_get_str(ci, "desc");
            monitor_printf(mon, "  Bus %2" PRId64 ", device %3" PRId64 ", function %" PRId64 ":\n",
                           json_object_get_int(d, "bus", 0), json_object_get_int(d, "slot", 0),
                           json_object_get_int(d, "function", 0));
            if (desc) {
                monitor_printf(mon, "    %s", desc);
            } else {
                monitor_printf(mon, "    Class %04" PRIx64, json_object_get_int(ci, "class", 0));
            }
            monitor_printf(mon, ": PCI device %04" PRIx64 ":%04" PRIx64 "\n",
                           json_object_get_int(id, "vendor", 0), json_object_get_int(id, "device", 0));
            monitor_printf(mon, "      PCI subsystem %04" PRIx64 ":%04" PRIx64 "\n",
                           json_object_get_int(id, "subsystem-vendor", 0),
                           json_object_get_int(id, "subsystem", 0));
            if (json_object_get_int(d, "irq_pin", 0)) {
                monitor_printf(mon, "      IRQ %" PRId64 ", pin %c\n", json_object_get_int(d, "irq", 0),
                               (char)('A' + json_object_get_int(d, "irq_pin", 1) - 1));
            }
            for (unsigned k = 0; k < json_array_len(regs); k++) {
                JsonValue *rg = json_array_get(regs, k);
                uint64_t addr = (uint64_t)json_object_get_int(rg, "address", 0);
                uint64_t size = (uint64_t)json_object_get_int(rg, "size", 0);
                monitor_printf(mon, "      BAR%" PRId64 ": ", json_object_get_int(rg, "bar", 0));
                if (!strcmp(json_object_get_str(rg, "type"), "io")) {
                    monitor_printf(mon, "I/O at 0x%04" PRIx64 " [0x%04" PRIx64 "].\n",
                                   addr, addr + size - 1);
                } else {
                    monitor_printf(mon, "%d bit%s memory at 0x%08" PRIx64 " [0x%08" PRIx64 "].\n",
                                   json_object_get_bool(rg, "mem_type_64", false) ? 64 : 32,
                                   json_object_get_bool(rg, "prefetch", false) ? " prefetchable" : "",
                                   addr, addr + size - 1);
                }
            }
            monitor_printf(mon, "      id \"%s\"\n", json_object_get_str(d, "qdev_id"));
        }
    }
}

/* ---------------------------------------------------------- migration */

static const char *const migrate_caps[] = {
    "xbzrle", "rdma-pin-all", "auto-converge", "zero-blocks", "compress", "events",
    "postcopy-ram", "x-colo", "release-ram", "block", "return-path",
    "pause-before-switchover", "multifd", "dirty-bitmaps", "postcopy-blocktime",
    "late-block-activate", "x-ignore-shared", "validate-uuid", "background-snapshot",
    "zero-copy-send", "postcopy-preempt",
};
static bool migrate_state[G_N_ELEMENTS(migrate_caps)];

static JsonValue *qmp_query_migrate_capabilities(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    for (unsigned i = 0; i < G_N_ELEMENTS(migrate_caps); i++) {
        JsonObject *c = json_object_new();
        json_object_set_str(c, "capability", migrate_caps[i]);
        json_object_set_bool(c, "state", migrate_state[i]);
        json_array_append(a, c);
    }
    return a;
}

static void hmp_info_migrate_capabilities(Monitor *mon, const JsonValue *r)
{
    for (unsigned i = 0; i < json_array_len(r); i++) {
        JsonValue *c = json_array_get(r, i);
        monitor_printf(mon, "%s: %s\n", json_object_get_str(c, "capability"),
                       json_object_get_bool(c, "state", false) ? "on" : "off");
    }
}

static int migrate_cap_index(const char *name)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(migrate_caps); i++) {
        if (!strcmp(migrate_caps[i], name)) {
            return (int)i;
        }
    }
    return -1;
}

static JsonValue *qmp_migrate_set_capabilities(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *caps = json_object_get(args, "capabilities");
    bool next[G_N_ELEMENTS(migrate_caps)];

    memcpy(next, migrate_state, sizeof(next));
    for (unsigned i = 0; i < json_array_len(caps); i++) {
        JsonValue *c = json_array_get(caps, i);
        g_autofree char *path = g_strdup_printf("capabilities[%u]", i);
        if (c->type != JSON_OBJECT) {
            error_setg(errp, "Invalid parameter type for '%s', expected: object", path);
            return NULL;
        }
        JsonValue *name = json_object_get(c, "capability");
        JsonValue *state = json_object_get(c, "state");
        if (!name) {
            error_setg(errp, "Parameter '%s.capability' is missing", path);
            return NULL;
        }
        if (name->type != JSON_STRING) {
            error_setg(errp, "Invalid parameter type for '%s.capability', expected: string", path);
            return NULL;
        }
        int idx = migrate_cap_index(name->s);
        if (idx < 0) {
            error_setg(errp, "Parameter 'capability' does not accept value '%s'", name->s);
            return NULL;
        }
        if (!state) {
            error_setg(errp, "Parameter '%s.state' is missing", path);
            return NULL;
        }
        if (state->type != JSON_BOOL) {
            error_setg(errp, "Invalid parameter type for '%s.state', expected: boolean", path);
            return NULL;
        }
        for (unsigned k = 0; k < json_object_size(c); k++) {
            const char *key = json_object_key(c, k);
            if (strcmp(key, "capability") && strcmp(key, "state")) {
                error_setg(errp, "Parameter '%s.%s' is unexpected", path, key);
                return NULL;
            }
        }
        next[idx] = state->b;
    }
    memcpy(migrate_state, next, sizeof(next));
    return NULL;
}

/* ------------------------------------------------------ HMP passthrough */

static JsonValue *qmp_human_monitor_command(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *line = json_object_get_str(args, "command-line");
    JsonValue *idx = json_object_get(args, "cpu-index");
    if (idx && (idx->type != JSON_INT || idx->i < 0 || idx->i >= n_cpus)) {
        error_setg(errp, "Parameter 'cpu-index' expects a CPU number");
        return NULL;
    }
    return json_string_take(hmp_run_capture(line, idx ? (int)idx->i : 0));
}

static JsonValue *qmp_inject_nmi(Monitor *mon, JsonObject *args, Error **errp)
{
    if (!n_cpus) {
        error_setg(errp, "this feature or command is not currently supported");
        return NULL;
    }
    for (int i = 0; i < n_cpus; i++) {
        cpu_interrupt(cpus[i], CPU_INTERRUPT_NMI);
    }
    return NULL;
}

static JsonValue *qmp_system_wakeup(Monitor *mon, JsonObject *args, Error **errp)
{
    if (current_machine && g_str_has_prefix(current_machine->cls->name, "pc-")) {
        error_setg(errp, "Unable to wake up: guest is not in suspended state");
    } else {
        error_setg(errp, "wake-up from suspend is not supported by this guest");
    }
    return NULL;
}

/* -------------------------------------------------------------- table */

static const MonCmd qmp_cmds[] = {
    { .name = "qmp_capabilities", .args = "enable:a?", .qmp = qmp_capabilities },
    { .name = "query-version", .hmp = "info version", .params = "",
      .help = "show the version of QEMU", .qmp = qmp_query_version,
      .hmp_print = hmp_info_version },
    { .name = "query-commands", .qmp = qmp_query_commands },
    { .name = "query-qmp-schema", .qmp = qmp_query_qmp_schema },
    { .name = "query-status", .hmp = "info status", .params = "",
      .help = "show the current VM status (running|paused)", .qmp = qmp_query_status,
      .hmp_print = hmp_info_status },
    { .name = "stop", .hmp = "stop|s", .params = "", .help = "stop emulation", .qmp = qmp_stop },
    { .name = "cont", .hmp = "cont|c", .params = "", .help = "resume emulation", .qmp = qmp_cont },
    { .name = "system_reset", .hmp = "system_reset", .params = "", .help = "reset the system",
      .qmp = qmp_system_reset, .flags = MON_CMD_DEFER_REPLY },
    { .name = "system_powerdown", .hmp = "system_powerdown", .params = "",
      .help = "send system power down event", .qmp = qmp_system_powerdown,
      .flags = MON_CMD_DEFER_REPLY },
    { .name = "quit", .hmp = "quit|q", .params = "", .help = "quit the emulator",
      .qmp = qmp_quit, .flags = MON_CMD_DEFER_REPLY },
    { .name = "query-kvm", .hmp = "info kvm", .params = "", .help = "show KVM information",
      .qmp = qmp_query_kvm, .hmp_print = hmp_info_kvm },
    { .name = "query-name", .hmp = "info name", .params = "", .help = "show the current VM name",
      .qmp = qmp_query_name, .hmp_print = hmp_info_name },
    { .name = "query-uuid", .hmp = "info uuid", .params = "", .help = "show the current VM UUID",
      .qmp = qmp_query_uuid, .hmp_print = hmp_info_uuid },
    { .name = "query-target", .qmp = qmp_query_target },
    { .name = "query-current-machine", .qmp = qmp_query_current_machine },
    { .name = "query-machines", .qmp = qmp_query_machines },
    { .name = "query-chardev", .hmp = "info chardev", .params = "",
      .help = "show the character devices", .qmp = qmp_query_chardev,
      .hmp_print = hmp_info_chardev },
    { .name = "query-chardev-backends", .qmp = qmp_query_chardev_backends },
    { .name = "query-cpus-fast", .qmp = qmp_query_cpus_fast },
    { .name = "query-pci", .hmp = "info pci", .params = "", .help = "show PCI info",
      .qmp = qmp_query_pci, .hmp_print = hmp_info_pci },
    /* query-block, query-blockstats: cmds-drive.c; query-named-block-nodes: cmds-block.c */
    { .name = "query-block-jobs", .qmp = qmp_empty_list },
    /* query-iothreads, query-memdev: cmds-object.c */
    { .name = "query-hotpluggable-cpus", .hmp = "info hotpluggable-cpus", .params = "",
      .help = "Show information about hotpluggable CPUs", .qmp = qmp_query_hotpluggable_cpus,
      .hmp_print = hmp_info_hotpluggable_cpus },
    { .name = "query-balloon", .hmp = "info balloon", .params = "",
      .help = "show balloon information", .qmp = qmp_query_balloon },
    { .name = "balloon", .args = "value:i", .hmp = "balloon", .hmp_args = "value:M",
      .params = "target", .help = "request VM to change its memory allocation (in MB)",
      .qmp = qmp_query_balloon },
    { .name = "query-migrate-capabilities", .hmp = "info migrate_capabilities", .params = "",
      .help = "show current migration capabilities", .qmp = qmp_query_migrate_capabilities,
      .hmp_print = hmp_info_migrate_capabilities },
    { .name = "migrate-set-capabilities", .args = "capabilities:a",
      .qmp = qmp_migrate_set_capabilities },
    { .name = "human-monitor-command", .args = "command-line:s,cpu-index:i?",
      .qmp = qmp_human_monitor_command },
    { .name = "inject-nmi", .hmp = "nmi", .params = "", .help = "inject an NMI",
      .qmp = qmp_inject_nmi },
    { .name = "system_wakeup", .hmp = "system_wakeup", .params = "",
      .help = "wakeup guest from suspend", .qmp = qmp_system_wakeup },
    { .name = NULL, .hmp = NULL },
};

static void count_cmd(const MonCmd *c, void *opaque)
{
    if (c->name && c->qmp) {
        JsonObject *o = json_object_new();
        json_object_set_str(o, "name", c->name);
        json_array_append(opaque, o);
    }
}

/* query-qmp-schema: a schema generated from the command table (QEMU masks
 * type names as numbers too): every command with an object arg-type whose
 * members carry builtin types, plus the events kemu emits. */
typedef struct SchemaCtx {
    JsonValue *a;
    int next;
} SchemaCtx;

static const char *schema_builtin(char t)
{
    switch (t) {
    case 's': return "str";
    case 'i': return "int";
    case 'b': return "bool";
    case 'n': return "number";
    default: return "any";
    }
}

static char *schema_object(SchemaCtx *c, const char *spec)
{
    JsonObject *o = json_object_new();
    JsonValue *members = json_array_new();
    char *name = g_strdup_printf("%d", c->next++);

    for (const char *p = spec; p && *p;) {
        const char *colon = strchr(p, ':');
        const char *comma = strchr(p, ',');
        JsonObject *m = json_object_new();
        g_autofree char *mn = g_strndup(p, colon - p);
        json_object_set_str(m, "name", mn);
        json_object_set_str(m, "type", schema_builtin(colon[1]));
        if (colon[2] == '?') {
            json_object_set(m, "default", json_null());
        }
        json_array_append(members, m);
        p = comma ? comma + 1 : colon + strlen(colon);
    }
    json_object_set_str(o, "name", name);
    json_object_set(o, "members", members);
    json_object_set_str(o, "meta-type", "object");
    json_array_append(c->a, o);
    return name;
}

static void schema_cmd(const MonCmd *cmd, void *opaque)
{
    SchemaCtx *c = opaque;
    if (!cmd->name || !cmd->qmp) {
        return;
    }
    g_autofree char *arg = schema_object(c, cmd->args);
    JsonObject *o = json_object_new();
    json_object_set_str(o, "name", cmd->name);
    json_object_set_str(o, "ret-type", "any");
    json_object_set_str(o, "meta-type", "command");
    json_object_set_str(o, "arg-type", arg);
    json_array_append(c->a, o);
}

static JsonValue *qmp_query_qmp_schema(Monitor *mon, JsonObject *args, Error **errp)
{
    static const char *const builtins[][2] = {
        { "str", "string" }, { "int", "int" }, { "bool", "boolean" }, { "number", "number" },
        { "null", "null" }, { "any", "value" },
    };
    static const char *const events[][2] = {
        { "SHUTDOWN", "guest:b,reason:s" }, { "POWERDOWN", "" }, { "RESET", "guest:b,reason:s" },
        { "STOP", "" }, { "RESUME", "" },
    };
    SchemaCtx c = { json_array_new(), 0 };

    mon_cmds_foreach(schema_cmd, &c);
    for (unsigned i = 0; i < G_N_ELEMENTS(events); i++) {
        g_autofree char *arg = schema_object(&c, events[i][1]);
        JsonObject *o = json_object_new();
        json_object_set_str(o, "name", events[i][0]);
        json_object_set_str(o, "meta-type", "event");
        json_object_set_str(o, "arg-type", arg);
        json_array_append(c.a, o);
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(builtins); i++) {
        JsonObject *o = json_object_new();
        json_object_set_str(o, "name", builtins[i][0]);
        json_object_set_str(o, "meta-type", "builtin");
        json_object_set_str(o, "json-type", builtins[i][1]);
        json_array_append(c.a, o);
    }
    return c.a;
}

static JsonValue *qmp_query_commands(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    mon_cmds_foreach(count_cmd, a);
    return a;
}

MODULE_INIT(qmp_cmds_register)
{
    mon_cmds_register(qmp_cmds);
}
