/*
 * The PC machine (i440FX + PIIX3): memory map, e820, CMOS contents,
 * on-board devices, and the kernel loaders it uses for direct boot.
 * Locking: BQL.
 */
#ifndef HW_I386_PC_H
#define HW_I386_PC_H

#include <glib.h>
#include "hw/machine.h"

enum { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3 };

typedef struct E820Entry {
    uint64_t addr, len;
    uint32_t type;
} E820Entry;

/* The e820 map the guest sees (fw_cfg etc/e820, boot_params, multiboot). */
GArray *pc_e820_table(Machine *m);
/* Highest address (exclusive) usable for an initrd in direct boot. */
uint64_t pc_initrd_limit(Machine *m);
bool pc_init(Machine *m, Error **errp);

bool x86_load_kernel(Machine *m, uint64_t acpi_rsdp, Error **errp);

#endif
