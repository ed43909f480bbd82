/*
 * "VGA": QEMU's standard VGA on PCI (1234:1111, class 0300). BAR0 is the
 * prefetchable VRAM (vgamem_mb, default 16 MiB; the Bochs VBE linear
 * framebuffer), BAR2 4 KiB of MMIO: 0x000 EDID block (zeros), 0x400 the
 * VGA ports 0x3c0-0x3df, 0x500 the VBE dispi registers (16 bit each),
 * 0x600 QEMU's extended registers (size, framebuffer endianness). The
 * VGA BIOS (romfile, default SeaBIOS's vgabios-stdvga.bin) sits behind
 * the expansion ROM BAR, where SeaBIOS finds and runs it. The device also
 * claims the legacy ports and the 0xa0000 window (vga.c) and is the
 * graphic console's source (ui/console.c).
 * Locking: BQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hw/pci.h"
#include "hw/display.h"
#include "ui/console.h"
#include "util/module.h"
#include "vga-internal.h"

#define PCI_ROM_ADDRESS_ENABLE 0x01

char *firmware_find(const char *name);

const char *vga_interface_type;      /* -vga: NULL = default (std) */

typedef struct PCIVGAState {
    PCIDevice parent;
    uint32_t vgamem_mb;
    bool mmio_enabled, qext, edid;
    uint32_t xres, yres, xmax, ymax, refresh_rate;
    bool global_vmstate;
    VGACommonState vga;
    MemoryRegion mmio, rom;
    uint64_t rom_addr;                 /* mapped ROM BAR address or PCI_BAR_UNMAPPED */
    uint32_t rom_size;
} PCIVGAState;

static bool vga_exists;

/* ---------------------------------------------------------------- MMIO */

static uint64_t vga_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    PCIVGAState *d = opaque;
    VGACommonState *s = &d->vga;
    if (addr >= 0x400 && addr < 0x420) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size && addr + i < 0x420; i++) {
            v |= (uint64_t)vga_ioport_read(s, 0x3c0 + (uint32_t)(addr - 0x400 + i)) << (8 * i);
        }
        return v;
    }
    if (addr >= 0x500 && addr < 0x500 + 2 * VBE_DISPI_INDEX_NB) {
        unsigned reg = (unsigned)(addr - 0x500) / 2;
        uint32_t v = vbe_read_reg(s, reg);
        return (addr & 1) ? v >> 8 : (size == 1 ? v & 0xff : v);
    }
    if (d->qext && addr >= 0x600 && addr < 0x608) {
        uint32_t v = addr < 0x604 ? 8 : 0xbebebebe;   /* size; little endian */
        return (v >> (8 * (addr & 3))) & (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
    }
    return 0;
}

static void vga_mmio_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PCIVGAState *d = opaque;
    VGACommonState *s = &d->vga;
    if (addr >= 0x400 && addr < 0x420) {
        for (unsigned i = 0; i < size && addr + i < 0x420; i++) {
            vga_ioport_write(s, 0x3c0 + (uint32_t)(addr - 0x400 + i), (uint32_t)(val >> (8 * i)) & 0xff);
        }
        return;
    }
    if (addr >= 0x500 && addr < 0x500 + 2 * VBE_DISPI_INDEX_NB && !(addr & 1) && size >= 2) {
        vbe_write_reg(s, (unsigned)(addr - 0x500) / 2, (uint32_t)val & 0xffff);
    }
    /* 0x604 endianness: only little endian is supported; writes ignored */
}

static const MemoryRegionOps vga_mmio_ops = {
    .read = vga_mmio_read,
    .write = vga_mmio_write,
    .min_access = 1,
    .max_access = 4,
};

/* ------------------------------------------------------------- ROM BAR */

static void vga_update_rom(PCIVGAState *d)
{
    PCIDevice *p = &d->parent;
    if (!d->rom_size) {
        return;
    }
    uint32_t bar = pci_get_long(p->config + PCI_ROM_ADDRESS);
    uint64_t addr = bar & ~(uint64_t)(d->rom_size - 1) & 0xfffff800u;
    bool on = (pci_get_word(p->config + PCI_COMMAND) & PCI_COMMAND_MEMORY) &&
              (bar & PCI_ROM_ADDRESS_ENABLE) && addr;
    uint64_t want = on ? addr : PCI_BAR_UNMAPPED;
    if (want == d->rom_addr) {
        return;
    }
    memory_begin();
    if (d->rom_addr != PCI_BAR_UNMAPPED) {
        mr_del_subregion(system_memory, &d->rom);
    }
    d->rom_addr = want;
    if (want != PCI_BAR_UNMAPPED) {
        mr_add_subregion(system_memory, want, &d->rom, 1);
    }
    memory_commit();
}

static void vga_config_write(PCIDevice *p, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(p, addr, val, len);
    if (addr < PCI_ROM_ADDRESS + 4 && addr + len > PCI_COMMAND) {
        vga_update_rom((PCIVGAState *)p);
    }
}

static bool vga_load_rom(PCIVGAState *d, Error **errp)
{
    PCIDevice *p = &d->parent;
    const char *name = p->romfile ? p->romfile : "vgabios-stdvga.bin";
    if (!*name) {
        return true;                       /* romfile="": no option ROM */
    }
    g_autofree char *path = firmware_find(name);
    gchar *data = NULL;
    gsize size = 0;
    if (!path || !g_file_get_contents(path, &data, &size, NULL)) {
        /* QEMU: "failed to find romfile" is only a warning for the default */
        g_free(data);
        if (p->romfile) {
            error_setg(errp, "failed to find romfile \"%s\"", name);
            return false;
        }
        return true;
    }
    uint32_t rom_size = 2048;
    while (rom_size < size) {
        rom_size <<= 1;
    }
    mr_init_rom(&d->rom, "vga.rom", rom_size, errp);
    memset(d->rom.host, 0xff, rom_size);
    memcpy(d->rom.host, data, size);
    g_free(data);
    d->rom_size = rom_size;
    pci_set_long(p->wmask + PCI_ROM_ADDRESS, ~(rom_size - 1) | PCI_ROM_ADDRESS_ENABLE);
    return true;
}

/* ------------------------------------------------------------ console */

static void vga_gfx_update(void *opaque)
{
    vga_render_update(&((PCIVGAState *)opaque)->vga);
}

static void vga_gfx_invalidate(void *opaque)
{
    vga_render_invalidate(&((PCIVGAState *)opaque)->vga);
}

static const GraphicHwOps vga_console_ops = {
    .gfx_update = vga_gfx_update,
    .invalidate = vga_gfx_invalidate,
};

/* ------------------------------------------------------------ realize */

static bool vga_pci_realize(DeviceState *dev, Error **errp)
{
    PCIVGAState *d = (PCIVGAState *)dev;
    PCIDevice *p = &d->parent;
    Error *err = NULL;
    uint32_t mb = d->vgamem_mb;
    if (mb < 1) {
        mb = 1;
    }
    if (mb > 512) {
        mb = 512;
    }
    uint32_t size = 1;
    while (size < mb) {
        size <<= 1;
    }
    vga_common_init(&d->vga, size << 20, &err);
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    pci_config_set_ids(p, 0x1234, 0x1111, 0x0300, 2, 0);
    pci_register_bar(p, 0, PCI_BASE_ADDRESS_MEM_PREFETCH, &d->vga.vram);
    if (d->mmio_enabled) {
        mr_init_io(&d->mmio, "vga.mmio", &vga_mmio_ops, d, 4096);
        pci_register_bar(p, 2, 0, &d->mmio);
    }
    d->rom_addr = PCI_BAR_UNMAPPED;
    if (!vga_load_rom(d, errp)) {
        return false;
    }
    p->config_write = vga_config_write;
    p->name_for_info = NULL;
    if (!vga_exists) {
        /* the first VGA owns the legacy ports, the window and the console;
         * more (QEMU allows them) are PCI-only framebuffers here */
        vga_init_legacy(&d->vga, system_io, system_memory);
        graphic_console_init(&vga_console_ops, d);
        vga_exists = true;
    }
    vga_common_reset(&d->vga);
    return true;
}

static void vga_pci_reset(DeviceState *dev)
{
    PCIVGAState *d = (PCIVGAState *)dev;
    vga_common_reset(&d->vga);
    vga_update_rom(d);
}

static const Property vga_pci_props[] = {
    DEFINE_PROP("vgamem_mb", PCIVGAState, vgamem_mb, uint32, "16"),
    DEFINE_PROP("mmio", PCIVGAState, mmio_enabled, bool, "on"),
    DEFINE_PROP("qemu-extended-regs", PCIVGAState, qext, bool, "on"),
    DEFINE_PROP("edid", PCIVGAState, edid, bool, "on"),
    DEFINE_PROP("xres", PCIVGAState, xres, uint32, "0"),
    DEFINE_PROP("yres", PCIVGAState, yres, uint32, "0"),
    DEFINE_PROP("xmax", PCIVGAState, xmax, uint32, "0"),
    DEFINE_PROP("ymax", PCIVGAState, ymax, uint32, "0"),
    DEFINE_PROP("refresh_rate", PCIVGAState, refresh_rate, uint32, "0"),
    DEFINE_PROP("global-vmstate", PCIVGAState, global_vmstate, bool, "false"),
    DEFINE_PROP_END,
};

static const DeviceClass vga_pci_class = {
    .name = "VGA",
    .bus_type = "PCI",
    .category = "Display devices",
    .parent = &pci_device_class,
    .instance_size = sizeof(PCIVGAState),
    .props = vga_pci_props,
    .user_creatable = true,
    .no_hotplug = true,
    .realize = vga_pci_realize,
    .reset = vga_pci_reset,
};

MODULE_INIT(vga_pci_register)
{
    device_class_register(&vga_pci_class);
}

/* The machine's default display device (-vga). */
bool pc_vga_init(Bus *pci_bus, Error **errp)
{
    if (vga_interface_type && strcmp(vga_interface_type, "std")) {
        return true;                       /* -vga none, or -nodefaults without -vga */
    }
    DeviceState *dev = dev_new("VGA", errp);
    return dev && dev_realize(dev, pci_bus, errp);
}

static const struct {
    const char *name, *desc;
    bool available;
} vga_types[] = {
    { "none", "no graphic card", true },
    { "std", "standard VGA", true },
    { "cirrus", "Cirrus VGA", false },
    { "vmware", "VMWare SVGA", false },
    { "qxl", "QXL VGA", false },
    { "virtio", "Virtio VGA", false },
    { "tcx", "TCX framebuffer", false },
    { "cg3", "CG3 framebuffer", false },
    { "xenfb", "Xen paravirtualized framebuffer", false },
};

void vga_interface_check(const char *type)
{
    if (!strcmp(type, "help")) {
        for (size_t i = 0; i < G_N_ELEMENTS(vga_types); i++) {
            if (vga_types[i].available) {
                printf("%-20s %s%s\n", vga_types[i].name, vga_types[i].desc,
                       !strcmp(vga_types[i].name, "std") ? " (default)" : "");
            }
        }
        exit(0);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(vga_types); i++) {
        if (!strcmp(type, vga_types[i].name)) {
            if (!vga_types[i].available) {
                error_report("%s not available", vga_types[i].desc);
                exit(1);
            }
            return;
        }
    }
    error_report("unknown vga type: %s", type);
    exit(1);
}
