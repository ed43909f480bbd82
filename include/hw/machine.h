/*
 * Machines: the -machine class registry (pc and its versioned aliases,
 * none) and the Machine instance with the options every part reads.
 * Locking: BQL.
 */
#ifndef HW_MACHINE_H
#define HW_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/irq.h"
#include "system/memory.h"
#include "target/i386/cpu.h"
#include "util/error.h"

typedef struct Machine Machine;
typedef struct FWCfgState FWCfgState;
typedef struct Bus Bus;

typedef struct MachineClass {
    const char *name;          /* "pc-i440fx-7.2" */
    const char *alias;         /* "pc" or NULL */
    const char *desc;
    bool is_default;
    bool deprecated;
    int max_cpus;
    const char *default_cpu;   /* "qemu64" */
    bool block_default_ide;    /* -drive/-hda without if=: IDE (else if=none) */
    bool (*init)(Machine *m, Error **errp);
} MachineClass;

struct Machine {
    const MachineClass *cls;
    uint64_t ram_size;
    int smp_cpus, smp_max_cpus, smp_sockets, smp_dies, smp_cores, smp_threads;
    X86CPUConfig cpu;
    const char *kernel_filename, *initrd_filename, *kernel_cmdline;
    const char *firmware;      /* -bios, default bios-256k.bin */
    const char *boot_order;    /* "cad" etc. */
    bool boot_menu;
    bool boot_strict;          /* -boot strict=on: "HALT" ends the bootorder list */
    bool kernel_irqchip_off;   /* -machine kernel-irqchip=off */
    bool kernel_irqchip_split;
    bool hpet;                 /* default on; -no-hpet */
    bool acpi;                 /* default on */
    bool vmport;
    bool usb;                  /* -usb / -machine usb=on: piix3-usb-uhci at 00:01.2 */
    char *name;                /* -name guest= */
    bool has_uuid;
    uint8_t uuid[16];

    /* built by machine init */
    MemoryRegion *ram;         /* the whole RAM block "pc.ram" */
    struct UserObject *memdev; /* -machine memory-backend=ID (NULL: the implicit pc.ram) */
    uint64_t below_4g_mem_size, above_4g_mem_size;
    FWCfgState *fw_cfg;
    IrqLine gsi[24];           /* GSI inputs: to userspace PIC+IOAPIC or KVM_IRQ_LINE */
    Bus *pci_bus, *isa_bus;
    void *piix3;               /* PIIX3 ISA bridge (for PIRQ routing) */
    bool direct_boot;          /* -kernel loaded by kemu: no firmware runs */
    uint64_t boot_entry;       /* set by the loader for direct boot */
};

extern Machine *current_machine;

void machine_class_register(const MachineClass *mc);
const MachineClass *machine_class_find(const char *name);
const MachineClass *machine_class_default(void);
void machine_class_foreach(void (*fn)(const MachineClass *mc, void *opaque), void *opaque);

/* Set a GSI input (device interrupt lines end here). */
void gsi_set_irq(void *machine, int gsi, int level);
/* ISA IRQ n as an IrqLine output target for ISA devices. */
IrqLine isa_get_irq(int n);

/* Machine registered reset hooks (run on every system reset, in order). */
void machine_register_reset(void (*fn)(void *opaque), void *opaque);
void machine_run_resets(void);

/*
 * Boot devices with a bootindex property: the firmware's "bootorder" file
 * (fw_cfg) lists their OpenFirmware paths sorted by bootindex, e.g.
 * "/pci@i0cf8/ide@1,1/drive@0/disk@0" or "/pci@i0cf8/scsi@4/disk@0,0".
 * boot_device_add fails with QEMU's text when the index is taken.
 */
bool boot_device_add(int32_t bootindex, const char *fw_path, Error **errp);
void boot_device_del(const char *fw_path);
/* The bootorder file: paths joined by '\n' plus a final NUL; NULL if empty. */
char *boot_device_list(bool strict, size_t *len);

#endif
