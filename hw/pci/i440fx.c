/*
 * Intel 440FX PCI host bridge (8086:1237) at 00:00.0: the type-1 config
 * mechanism at 0xcf8/0xcfc and PAM shadow-RAM control of 0xc0000-0xfffff.
 * Spec: Intel 82441FX PMC datasheet §3.2 (PAM0-6 at 0x59-0x5f).
 * Locking: BQL.
 */
#include <string.h>
#include "hw/pci.h"
#include "hw/pci/i440fx.h"
#include "util/module.h"

#define I440FX_PAM 0x59
#define PAM_SEGMENTS 13       /* 0xf0000 (64 KiB) + 12 x 16 KiB from 0xc0000 */

typedef struct I440FXState {
    PCIDevice pci;
    uint32_t config_addr;          /* last value written to 0xcf8 */
    MemoryRegion cf8_io, cfc_io;
    MemoryRegion pam_ram[PAM_SEGMENTS], pam_pci[PAM_SEGMENTS];
    MemoryRegion smram;            /* 0xa0000-0xbffff: the PCI (VGA) window over RAM */
    MemoryRegion *ram, *pci_space;
} I440FXState;

static void pam_segment(int i, uint64_t *start, uint64_t *size)
{
    if (i == 0) {
        *start = 0xf0000;
        *size = 0x10000;
    } else {
        *start = 0xc0000 + (i - 1) * 0x4000;
        *size = 0x4000;
    }
}

/* Mode 0: PCI (ROM); 1: read RAM, writes to PCI (dropped); 2: write RAM,
 * read PCI (approximated as PCI); 3: RAM read/write. */
static void pam_update(I440FXState *s)
{
    memory_begin();
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        uint8_t reg = s->pci.config[I440FX_PAM + (i + 1) / 2];
        /* odd segments use the low nibble of their PAM register */
        unsigned mode = (i & 1) ? reg & 3 : (reg >> 4) & 3;
        if (i == 0) {
            mode = (s->pci.config[I440FX_PAM] >> 4) & 3;
        }
        bool ram = mode == 1 || mode == 3;
        mr_set_enabled(&s->pam_ram[i], ram);
        mr_set_readonly(&s->pam_ram[i], mode == 1);
        mr_set_enabled(&s->pam_pci[i], !ram);
    }
    memory_commit();
}

static void i440fx_config_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(d, addr, val, len);
    if (addr < I440FX_PAM + 7 && addr + len > I440FX_PAM) {
        pam_update((I440FXState *)d);
    }
}

/* 0xcf8-0xcfb: a dword access is CONFIG_ADDRESS; a byte access at 0xcf9
 * is the PIIX3 reset control register (the chipset decodes it that way). */
static const MemoryRegionOps *rcr_ops;
static void *rcr_opaque;

void i440fx_set_rcr_handler(const MemoryRegionOps *ops, void *opaque)
{
    rcr_ops = ops;
    rcr_opaque = opaque;
}

static uint64_t cf8_read(void *opaque, uint64_t off, unsigned size)
{
    I440FXState *s = opaque;
    if (size == 4) {
        return s->config_addr;
    }
    if (off == 1 && size == 1 && rcr_ops) {
        return rcr_ops->read(rcr_opaque, 0, 1);
    }
    return ~0ull >> (64 - size * 8);
}

static void cf8_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I440FXState *s = opaque;
    if (size == 4) {
        s->config_addr = val;
    } else if (off == 1 && size == 1 && rcr_ops) {
        rcr_ops->write(rcr_opaque, 0, val, 1);
    }
}

static const MemoryRegionOps cf8_ops = {
    .read = cf8_read, .write = cf8_write, .min_access = 1, .max_access = 4,
};

static uint64_t cfc_read(void *opaque, uint64_t off, unsigned size)
{
    I440FXState *s = opaque;
    if (!(s->config_addr & 0x80000000u)) {
        return ~0ull >> (64 - size * 8);
    }
    return pci_host_config_read(s->pci.qdev.parent_bus, (s->config_addr & 0x00fffffcu) | off, size);
}

static void cfc_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I440FXState *s = opaque;
    if (s->config_addr & 0x80000000u) {
        pci_host_config_write(s->pci.qdev.parent_bus, (s->config_addr & 0x00fffffcu) | off, val, size);
    }
}

static const MemoryRegionOps cfc_ops = {
    .read = cfc_read, .write = cfc_write, .min_access = 1, .max_access = 4,
};

static void i440fx_reset(DeviceState *dev)
{
    I440FXState *s = (I440FXState *)dev;
    memset(s->pci.config + I440FX_PAM, 0, 7);
    s->pci.config[0x72] = 0x02;        /* SMRAM: closed, C_BASE_SEG = A */
    s->config_addr = 0;
    pam_update(s);
}

static bool i440fx_realize(DeviceState *dev, Error **errp)
{
    I440FXState *s = (I440FXState *)dev;
    PCIDevice *d = &s->pci;
    pci_config_set_ids(d, 0x8086, 0x1237, 0x0600, 0x02, 0x00);
    memset(d->wmask + I440FX_PAM, 0x33, 7);
    d->wmask[I440FX_PAM] = 0x30;
    d->wmask[0x72] = 0x78;
    d->config_write = i440fx_config_write;
    mr_init_io(&s->cf8_io, "pci-conf-idx", &cf8_ops, s, 4);
    mr_init_io(&s->cfc_io, "pci-conf-data", &cfc_ops, s, 4);
    mr_add_subregion(system_io, 0xcf8, &s->cf8_io, 0);
    mr_add_subregion(system_io, 0xcfc, &s->cfc_io, 0);
    memory_begin();
    for (int i = 0; i < PAM_SEGMENTS; i++) {
        uint64_t start, size;
        pam_segment(i, &start, &size);
        g_autofree char *rn = g_strdup_printf("pam-ram-%d", i);
        g_autofree char *pn = g_strdup_printf("pam-pci-%d", i);
        mr_init_alias(&s->pam_ram[i], rn, s->ram, start, size);
        mr_init_alias(&s->pam_pci[i], pn, s->pci_space, start, size);
        mr_add_subregion(system_memory, start, &s->pam_ram[i], 1);
        mr_add_subregion(system_memory, start, &s->pam_pci[i], 1);
    }
    mr_init_alias(&s->smram, "smram-region", s->pci_space, 0xa0000, 0x20000);
    mr_add_subregion(system_memory, 0xa0000, &s->smram, 1);
    memory_commit();
    i440fx_reset(dev);
    return true;
}

static const DeviceClass i440fx_class = {
    .name = "i440FX", .bus_type = "PCI", .desc = "Host bridge", .parent = &pci_device_class,
    .instance_size = sizeof(I440FXState), .realize = i440fx_realize, .reset = i440fx_reset,
};

MODULE_INIT(i440fx_register)
{
    device_class_register(&i440fx_class);
}

PCIDevice *i440fx_create(Bus *bus, MemoryRegion *ram, MemoryRegion *pci_space, Error **errp)
{
    DeviceState *dev = dev_new("i440FX", errp);
    if (!dev) {
        return NULL;
    }
    I440FXState *s = (I440FXState *)dev;
    s->ram = ram;
    s->pci_space = pci_space;
    s->pci.devfn = PCI_DEVFN(0, 0);
    if (!dev_realize(dev, bus, errp)) {
        return NULL;
    }
    return &s->pci;
}
