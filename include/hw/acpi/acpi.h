/*
 * ACPI tables of the i440FX/PIIX PC as QEMU 7.2 presents them (RSDP rev 0,
 * RSDT, FADT rev 1, FACS, DSDT, MADT, HPET, WAET; ACPI 6.4 §5.2), handed to
 * SeaBIOS through fw_cfg with QEMU's BIOS linker/loader commands, or
 * installed straight into guest RAM for kemu's own -kernel boot.
 * Locking: BQL (machine init); the builders are pure.
 */
#ifndef HW_ACPI_ACPI_H
#define HW_ACPI_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

typedef struct Machine Machine;
typedef struct FWCfgState FWCfgState;

/* Fixed PC ACPI hardware addresses (the PIIX4 PM function and QEMU's
 * DSDT use the same ones). */
#define ACPI_PM_BASE          0x600     /* PMBA as SeaBIOS programs it */
#define ACPI_PM1_EVT_OFS      0x00
#define ACPI_PM1_CNT_OFS      0x04
#define ACPI_PM_TMR_OFS       0x08
#define ACPI_PM_IO_SIZE       0x40
#define ACPI_GPE0_BASE        0xafe0
#define ACPI_GPE0_LEN         4
#define ACPI_SMI_CMD_PORT     0xb2
#define ACPI_ENABLE_CMD       0xf1
#define ACPI_DISABLE_CMD      0xf0
#define ACPI_SCI_IRQ          9
#define ACPI_SMBUS_BASE       0xb100
#define ACPI_PM_TIMER_HZ      3579545

/* PM1 status/enable bits (ACPI 6.4 §4.8.3.1) and control bits (§4.8.3.2). */
#define ACPI_PM1_TMR_STS      (1u << 0)
#define ACPI_PM1_GBL_STS      (1u << 5)
#define ACPI_PM1_PWRBTN_STS   (1u << 8)
#define ACPI_PM1_RTC_STS      (1u << 10)
#define ACPI_PM1_WAK_STS      (1u << 15)
#define ACPI_PM1_CNT_SCI_EN   (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_EN   (1u << 13)

#define ACPI_OEM_ID           "BOCHS "
#define ACPI_OEM_TABLE_ID     "BXPC    "

/* BIOS linker/loader (QEMU's etc/table-loader, SeaBIOS romfile_loader). */
#define ACPI_LOADER_ENTRY_SIZE   128
#define ACPI_LOADER_FILESZ       56
#define ACPI_LOADER_ALLOCATE     1
#define ACPI_LOADER_ADD_POINTER  2
#define ACPI_LOADER_ADD_CHECKSUM 3
#define ACPI_LOADER_ZONE_HIGH    1
#define ACPI_LOADER_ZONE_FSEG    2
#define ACPI_FILE_TABLES  "etc/acpi/tables"
#define ACPI_FILE_RSDP    "etc/acpi/rsdp"
#define ACPI_FILE_LOADER  "etc/table-loader"
#define ACPI_TABLES_BLOB_ALIGN  0x20000   /* QEMU pads the blob to 128 KiB */

/* Room acpi_install_direct() may use at tables_gpa (RSDP included). */
#define ACPI_DIRECT_MAX_SIZE  0x10000

#define ACPI_MAX_SERIAL 4

/* What the tables describe; acpi_config_from_machine() fills it. */
typedef struct AcpiConfig {
    int cpus;                       /* present CPUs: ACPI IDs 0..cpus-1 */
    int max_cpus;                   /* MADT lists max_cpus LAPICs */
    uint32_t apic_id[256];          /* by CPU index */
    bool hpet;
    uint64_t below_4g_mem_size;     /* start of the 32-bit PCI hole */
    uint64_t above_4g_mem_size;
    int n_serial;
    struct { int index; uint16_t iobase; uint8_t irq; } serial[ACPI_MAX_SERIAL];
    bool pci_hotplug;               /* PCI0 slots with _EJ0 and the PCNT/_E01 methods */
    uint32_t board_slots;           /* slots the board populated: no hotplug there */
} AcpiConfig;

/* The three fw_cfg files. */
typedef struct AcpiBuildTables {
    GByteArray *tables;             /* etc/acpi/tables */
    GByteArray *rsdp;               /* etc/acpi/rsdp */
    GByteArray *loader;             /* etc/table-loader */
    uint32_t tables_used;           /* bytes of 'tables' before padding */
} AcpiBuildTables;

/* Fill cfg from the machine: CPU topology, -no-hpet, RAM split, and the
 * isa-serial devices that exist (props index/iobase/irq). */
void acpi_config_from_machine(Machine *m, AcpiConfig *cfg);
/* QEMU's APIC ID for CPU index idx under the -smp topology. */
uint32_t acpi_apic_id_for_index(int idx, int threads, int cores, int dies);

/* Build the blobs for fw_cfg (pure). acpi_build_tables_free() frees them. */
void acpi_build(const AcpiConfig *cfg, AcpiBuildTables *t);
void acpi_build_tables_free(AcpiBuildTables *t);
/* The DSDT's AML body alone (no header), for tests. */
GByteArray *acpi_build_dsdt_body(const AcpiConfig *cfg);
/* Direct install (pure): lay RSDP + tables out at gpa in dst (at most
 * ACPI_DIRECT_MAX_SIZE bytes), pointers resolved, checksums set.
 * Returns the bytes used; the RSDP is at gpa. */
size_t acpi_build_direct(const AcpiConfig *cfg, uint8_t *dst, uint64_t gpa);

/* Machine API. Add etc/acpi/tables, etc/acpi/rsdp and etc/table-loader to
 * fw_cfg so SeaBIOS installs the tables. Call after all devices exist.
 * Does nothing when m->acpi is false (-machine acpi=off). */
void acpi_setup_fw_cfg(Machine *m, FWCfgState *fw_cfg);
/* Direct (-kernel) boot: write the tables at tables_gpa (64-byte aligned,
 * below 4 GiB, inside RAM; ram_host maps guest-physical 0) and return the
 * RSDP's guest-physical address (== tables_gpa), or 0 when m->acpi is
 * false. Mark
 * [tables_gpa, tables_gpa + ACPI_DIRECT_MAX_SIZE) as ACPI in the e820 map
 * and put the address in boot_params.acpi_rsdp_addr. */
uint64_t acpi_install_direct(Machine *m, void *ram_host, uint64_t tables_gpa);

/* Sum of bytes (ACPI checksum is valid when this is 0). */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
