/*
 * Machine classes (-machine names, aliases, the default), the GSI and ISA
 * interrupt fan-out every device line ends in, board reset hooks, and the
 * serial backends main() hands the board.
 * Locking: BQL.
 */
#include <string.h>
#include "chardev/char.h"
#include "hw/intc.h"
#include "hw/machine.h"
#include "system/cpus.h"
#include "system/vl.h"
#include "util/module.h"

static GPtrArray *machine_classes;

typedef struct ResetHook {
    void (*fn)(void *);
    void *opaque;
} ResetHook;
static GArray *reset_hooks;
static Chardev *serial_hds[4];

void machine_class_register(const MachineClass *mc)
{
    if (!machine_classes) {
        machine_classes = g_ptr_array_new();
    }
    g_ptr_array_add(machine_classes, (gpointer)mc);
}

const MachineClass *machine_class_find(const char *name)
{
    for (guint i = 0; machine_classes && i < machine_classes->len; i++) {
        const MachineClass *mc = g_ptr_array_index(machine_classes, i);
        if (!strcmp(mc->name, name) || (mc->alias && !strcmp(mc->alias, name))) {
            return mc;
        }
    }
    return NULL;
}

const MachineClass *machine_class_default(void)
{
    for (guint i = 0; machine_classes && i < machine_classes->len; i++) {
        const MachineClass *mc = g_ptr_array_index(machine_classes, i);
        if (mc->is_default) {
            return mc;
        }
    }
    return NULL;
}

static gint cmp_machine(gconstpointer a, gconstpointer b)
{
    const MachineClass *x = *(const MachineClass *const *)a, *y = *(const MachineClass *const *)b;
    /* QEMU lists newest versions first within a family, families by name */
    return -strcmp(x->name, y->name);
}

void machine_class_foreach(void (*fn)(const MachineClass *mc, void *opaque), void *opaque)
{
    if (!machine_classes) {
        return;
    }
    g_autoptr(GPtrArray) sorted = g_ptr_array_copy(machine_classes, NULL, NULL);
    g_ptr_array_sort(sorted, cmp_machine);
    for (guint i = 0; i < sorted->len; i++) {
        fn(g_ptr_array_index(sorted, i), opaque);
    }
}

/* Implemented by the userspace irqchip (hw/intc); weak so a build
 * without it still links (KVM with in-kernel irqchip needs none). */
__attribute__((weak)) void userspace_irqchip_set_gsi(int gsi, int level)
{
    (void)gsi;
    (void)level;
}

void gsi_set_irq(void *opaque, int gsi, int level)
{
    Machine *m = opaque;
    if (current_accel && current_accel->gsi_set && current_accel->irqchip_in_kernel &&
        !m->kernel_irqchip_off) {
        current_accel->gsi_set(m, gsi, level);
    } else {
        userspace_irqchip_set_gsi(gsi, level);
    }
}

static void isa_irq_handler(void *opaque, int n, int level)
{
    gsi_set_irq(opaque, n, level);
}

IrqLine isa_get_irq(int n)
{
    IrqLine l;
    irq_connect(&l, isa_irq_handler, current_machine, n);
    return l;
}

void machine_register_reset(void (*fn)(void *opaque), void *opaque)
{
    if (!reset_hooks) {
        reset_hooks = g_array_new(FALSE, FALSE, sizeof(ResetHook));
    }
    ResetHook h = { fn, opaque };
    g_array_append_val(reset_hooks, h);
}

void machine_run_resets(void)
{
    for (guint i = 0; reset_hooks && i < reset_hooks->len; i++) {
        ResetHook *h = &g_array_index(reset_hooks, ResetHook, i);
        h->fn(h->opaque);
    }
}

void machine_set_serial_hds(Machine *m, Chardev *hds[4])
{
    (void)m;
    memcpy(serial_hds, hds, sizeof(serial_hds));
}

Chardev *serial_hd(int i)
{
    return i >= 0 && i < 4 ? serial_hds[i] : NULL;
}

/* -machine none: no RAM unless -m, no CPUs, nothing else (QEMU's "none"). */
static bool machine_none_init(Machine *m, Error **errp)
{
    (void)m;
    (void)errp;
    return true;
}

static const MachineClass machine_none = {
    .name = "none", .desc = "empty machine", .max_cpus = 1, .default_cpu = "qemu64",
    .init = machine_none_init,
};

MODULE_INIT(machine_none_register)
{
    machine_class_register(&machine_none);
}

/* ---- bootindex registry (fw_cfg "bootorder") ---- */

typedef struct BootEntry {
    int32_t bootindex;
    char *fw_path;
} BootEntry;

static GList *boot_entries;            /* BootEntry *, sorted by bootindex */

static gint boot_entry_cmp(gconstpointer a, gconstpointer b)
{
    const BootEntry *x = a, *y = b;
    return x->bootindex < y->bootindex ? -1 : x->bootindex > y->bootindex;
}

bool boot_device_add(int32_t bootindex, const char *fw_path, Error **errp)
{
    if (bootindex < 0) {
        return true;                    /* -1: not a boot device */
    }
    for (GList *l = boot_entries; l; l = l->next) {
        if (((BootEntry *)l->data)->bootindex == bootindex) {
            error_setg(errp, "The bootindex %d has already been used", bootindex);
            return false;
        }
    }
    BootEntry *e = g_new0(BootEntry, 1);
    e->bootindex = bootindex;
    e->fw_path = g_strdup(fw_path);
    boot_entries = g_list_insert_sorted(boot_entries, e, boot_entry_cmp);
    return true;
}

void boot_device_del(const char *fw_path)
{
    for (GList *l = boot_entries; l; l = l->next) {
        BootEntry *e = l->data;
        if (!strcmp(e->fw_path, fw_path)) {
            boot_entries = g_list_delete_link(boot_entries, l);
            g_free(e->fw_path);
            g_free(e);
            return;
        }
    }
}

char *boot_device_list(bool strict, size_t *len)
{
    GString *s = g_string_new(NULL);
    for (GList *l = boot_entries; l; l = l->next) {
        if (s->len) {
            g_string_append_c(s, '\n');
        }
        g_string_append(s, ((BootEntry *)l->data)->fw_path);
    }
    if (strict && s->len) {
        g_string_append(s, "\nHALT");
    }
    if (!s->len) {
        *len = 0;
        g_string_free(s, TRUE);
        return NULL;
    }
    *len = s->len + 1;                  /* the NUL is part of the file */
    return g_string_free(s, FALSE);
}
