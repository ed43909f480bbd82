/*
 * QEMU firmware configuration device (fw_cfg) at I/O 0x510/0x511, DMA at
 * 0x514; follows QEMU docs/specs/fw_cfg.rst.
 * Locking: BQL.
 */
#ifndef HW_FW_CFG_H
#define HW_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef struct FWCfgState FWCfgState;

enum {
    FW_CFG_SIGNATURE = 0x00, FW_CFG_ID = 0x01, FW_CFG_UUID = 0x02,
    FW_CFG_RAM_SIZE = 0x03, FW_CFG_NOGRAPHIC = 0x04, FW_CFG_NB_CPUS = 0x05,
    FW_CFG_MACHINE_ID = 0x06, FW_CFG_KERNEL_ADDR = 0x07, FW_CFG_KERNEL_SIZE = 0x08,
    FW_CFG_KERNEL_CMDLINE = 0x09, FW_CFG_INITRD_ADDR = 0x0a, FW_CFG_INITRD_SIZE = 0x0b,
    FW_CFG_BOOT_DEVICE = 0x0c, FW_CFG_NUMA = 0x0d, FW_CFG_BOOT_MENU = 0x0e,
    FW_CFG_MAX_CPUS = 0x0f, FW_CFG_KERNEL_ENTRY = 0x10, FW_CFG_KERNEL_DATA = 0x11,
    FW_CFG_INITRD_DATA = 0x12, FW_CFG_CMDLINE_ADDR = 0x13, FW_CFG_CMDLINE_SIZE = 0x14,
    FW_CFG_CMDLINE_DATA = 0x15, FW_CFG_SETUP_ADDR = 0x16, FW_CFG_SETUP_SIZE = 0x17,
    FW_CFG_SETUP_DATA = 0x18, FW_CFG_FILE_DIR = 0x19,
    FW_CFG_FILE_FIRST = 0x20,
    FW_CFG_ARCH_LOCAL = 0x8000,
    FW_CFG_ACPI_TABLES = 0x8000, FW_CFG_SMBIOS_ENTRIES = 0x8001, FW_CFG_IRQ0_OVERRIDE = 0x8002,
    FW_CFG_E820_TABLE = 0x8003, FW_CFG_HPET = 0x8004,
};

FWCfgState *fw_cfg_init_io(uint16_t iobase, uint16_t dma_iobase);
/* data is owned by fw_cfg afterwards (g_free'd) */
void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, void *data, size_t len);
void fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *str);
void fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t v);
void fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t v);
void fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t v);
void fw_cfg_add_file(FWCfgState *s, const char *name, void *data, size_t len);
void fw_cfg_modify_file(FWCfgState *s, const char *name, void *data, size_t len);
/* Look up an item (tests, ACPI linker). */
const void *fw_cfg_find_file(FWCfgState *s, const char *name, size_t *len);

#endif
