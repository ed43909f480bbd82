/*
 * The "pc" machine names: pc-i440fx-1.4 ... 7.2, all one model (kemu keeps
 * no per-version compat properties; the guest-visible layout is 7.2's),
 * with "pc" an alias of the newest and the default machine.
 * Locking: startup only.
 */
#include "hw/display.h"
#include "hw/i386/pc.h"
#include "hw/ide.h"
#include "hw/machine.h"
#include "util/module.h"

#define PC_DESC "Standard PC (i440FX + PIIX, 1996)"
#define PC_MAX_CPUS 255

static const char *const pc_versions[] = {
    "7.2", "7.1", "7.0", "6.2", "6.1", "6.0", "5.2", "5.1", "5.0", "4.2", "4.1", "4.0",
    "3.1", "3.0", "2.12", "2.11", "2.10", "2.9", "2.8", "2.7", "2.6", "2.5", "2.4",
    "2.3", "2.2", "2.1", "2.0", "1.7", "1.6", "1.5", "1.4",
};

/* The board, QEMU's default display device (00:02.0 VGA), then the
 * on-board IDE function 00:01.1 (present even with -nodefaults, as in
 * QEMU, created after the VGA as there) and the devices of -drive if=ide. */
static bool pc_piix_init(Machine *m, Error **errp)
{
    return pc_init(m, errp) && pc_vga_init(m->pci_bus, errp) && pc_ide_init(m->pci_bus, errp);
}

MODULE_INIT(pc_machines_register)
{
    for (size_t i = 0; i < G_N_ELEMENTS(pc_versions); i++) {
        MachineClass *mc = g_new0(MachineClass, 1);
        mc->name = g_strdup_printf("pc-i440fx-%s", pc_versions[i]);
        mc->alias = i == 0 ? "pc" : NULL;
        mc->desc = PC_DESC;
        mc->is_default = i == 0;
        mc->deprecated = pc_versions[i][0] == '1';
        mc->max_cpus = PC_MAX_CPUS;
        mc->block_default_ide = true;
        mc->default_cpu = "qemu64";
        mc->init = pc_piix_init;
        machine_class_register(mc);
    }
}
