/*
 * PIIX3 IDE controller "piix3-ide" (PCI 8086:7010, class 0101, prog-if
 * 0x80: legacy-mode channels with bus mastering), function 00:01.1 of the
 * pc machine. Primary channel at 0x1f0-0x1f7 / 0x3f6 on ISA IRQ 14,
 * secondary at 0x170-0x177 / 0x376 on IRQ 15; the bus-master registers of
 * both channels are BAR4 (16 bytes of I/O). Each channel is an "IDE" qdev
 * bus (ide.0, ide.1) with two units. Also the machine hook that creates
 * the controller and the devices of -drive if=ide.
 * Spec: Intel 82371SB (PIIX3) datasheet §2.6 (IDE config space), §5.6
 * (bus master IDE registers); SFF-8038i.
 * Locking: BQL.
 */
#include <stdio.h>
#include <string.h>
#include "hw/ide.h"
#include "hw/ide/ide-internal.h"
#include "hw/machine.h"
#include "system/blockdev.h"
#include "system/runstate.h"
#include "util/module.h"

typedef struct PIIXIDEState {
    PCIDevice pci;
    IDEBus bus[2];
    MemoryRegion bmdma_io;
} PIIXIDEState;

static GHashTable *ide_buses;            /* Bus * -> IDEBus * */
static int ide_bus_count;                /* names ide.N, serials QM0000N */

IDEBus *ide_bus_of(Bus *b)
{
    return b && ide_buses ? g_hash_table_lookup(ide_buses, b) : NULL;
}

/* ---- bus-master registers (BAR4) ---- */

static uint8_t bmdma_readb(PIIXIDEState *d, unsigned off)
{
    BMDMAState *bm = &d->bus[(off >> 3) & 1].bm;
    switch (off & 7) {
    case 0: return bm->cmd;
    case 2: return bm->status;
    case 4: case 5: case 6: case 7:
        return bm->prd_table >> (8 * ((off & 7) - 4));
    }
    return 0;
}

static void bmdma_writeb(PIIXIDEState *d, unsigned off, uint8_t val)
{
    IDEBus *bus = &d->bus[(off >> 3) & 1];
    BMDMAState *bm = &bus->bm;
    unsigned shift;
    switch (off & 7) {
    case 0:
        bmdma_cmd_write(bus, val);
        break;
    case 2:                              /* bits 5-6 read/write, 1-2 write 1 to clear */
        bm->status = (val & (BM_ST_DMA0_CAP | BM_ST_DMA1_CAP)) | (bm->status & BM_ST_ACTIVE) |
                     (bm->status & ~val & (BM_ST_ERROR | BM_ST_INT));
        break;
    case 4: case 5: case 6: case 7:
        shift = 8 * ((off & 7) - 4);
        bm->prd_table = ((bm->prd_table & ~(0xffu << shift)) | ((uint32_t)val << shift)) & ~3u;
        break;
    }
}

static uint64_t bmdma_read(void *opaque, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 16; i++) {
        v |= (uint64_t)bmdma_readb(opaque, off + i) << (8 * i);
    }
    return v;
}

static void bmdma_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    for (unsigned i = 0; i < size && off + i < 16; i++) {
        bmdma_writeb(opaque, off + i, val >> (8 * i));
    }
}

static const MemoryRegionOps bmdma_ops = {
    .read = bmdma_read, .write = bmdma_write, .min_access = 1, .max_access = 4,
};

static const MemoryRegionOps ide_cmd_ops = {
    .read = ide_cmd_read, .write = ide_cmd_write, .min_access = 1, .max_access = 4,
};

static const MemoryRegionOps ide_ctl_ops = {
    .read = ide_ctl_read, .write = ide_ctl_write, .min_access = 1, .max_access = 1,
};

/* ---- the PCI function ---- */

static void piix_ide_reset(DeviceState *dev)
{
    PIIXIDEState *d = (PIIXIDEState *)dev;
    /* System reset runs in the main loop: let DMA still in flight land
     * before the guest's memory is handed to the firmware again (QEMU
     * drains every block device on reset, too). */
    blk_drain_all();
    for (int i = 0; i < 2; i++) {
        ide_bus_reset(&d->bus[i]);
    }
    pci_default_write_config(&d->pci, PCI_COMMAND, 0, 2);
    pci_set_word(d->pci.config + PCI_STATUS, 0x0280);   /* fast back-to-back, DEVSEL medium */
    memset(d->pci.config + 0x40, 0, 8);                 /* IDETIM, SIDETIM: decode off */
    if (current_machine && current_machine->direct_boot) {
        /* -kernel runs no firmware: enable both channels' decode as
         * SeaBIOS does (ata_piix refuses a port whose IDETIM bit 15 is 0) */
        d->pci.config[0x41] = 0x80;
        d->pci.config[0x43] = 0x80;
    }
}

static bool piix_ide_realize(DeviceState *dev, Error **errp)
{
    static const uint16_t cmd_base[2] = { 0x1f0, 0x170 }, ctl_base[2] = { 0x3f6, 0x376 };
    static const int irqs[2] = { 14, 15 };
    PIIXIDEState *d = (PIIXIDEState *)dev;
    PCIDevice *pci = &d->pci;
    pci_config_set_ids(pci, 0x8086, 0x7010, 0x0101, 0x00, 0x80);
    pci_set_word(pci->config + PCI_STATUS, 0x0280);
    memset(pci->wmask + 0x40, 0xff, 8);                 /* IDE timing registers */
    mr_init_io(&d->bmdma_io, "piix-bmdma-container", &bmdma_ops, d, 16);
    pci_register_bar(pci, 4, PCI_BASE_ADDRESS_SPACE_IO, &d->bmdma_io);

    if (!ide_buses) {
        ide_buses = g_hash_table_new(NULL, NULL);
    }
    int first = ide_bus_count;
    ide_bus_count += 2;
    /* QEMU lists a controller's buses newest first, so a device without
     * bus= lands on the second channel: create ide.1 before ide.0. */
    for (int i = 1; i >= 0; i--) {
        IDEBus *bus = &d->bus[i];
        char *name = dev->id ? g_strdup_printf("%s.%d", dev->id, i)
                             : g_strdup_printf("ide.%d", first + i);
        bus->qbus = bus_new("IDE", name, dev);
        g_free(name);
        g_hash_table_insert(ide_buses, bus->qbus, bus);
        ide_bus_init(bus, pci, first + i);
        bus->index = i;
        bus->irq = isa_get_irq(irqs[i]);
        mr_init_io(&bus->cmd_io, "ide", &ide_cmd_ops, bus, 8);
        mr_init_io(&bus->ctl_io, "ide", &ide_ctl_ops, bus, 1);
        memory_begin();
        mr_add_subregion(system_io, cmd_base[i], &bus->cmd_io, 0);
        mr_add_subregion(system_io, ctl_base[i], &bus->ctl_io, 0);
        memory_commit();
    }
    vm_state_handler_add(ide_vm_state_change, d->bus);
    piix_ide_reset(dev);
    return true;
}

static const DeviceClass piix3_ide_class = {
    .name = "piix3-ide",
    .bus_type = "PCI",
    .category = "Storage devices",
    .parent = &pci_device_class,
    .instance_size = sizeof(PIIXIDEState),
    .user_creatable = true,
    .no_hotplug = true,
    .realize = piix_ide_realize,
    .reset = piix_ide_reset,
};

MODULE_INIT(piix_ide_register)
{
    device_class_register(&piix3_ide_class);
}

/* ---- machine hook ---- */

bool pc_ide_init(Bus *pci_bus, Error **errp)
{
    DeviceState *dev = dev_new("piix3-ide", errp);
    if (!dev) {
        return false;
    }
    ((PCIDevice *)dev)->devfn = PCI_DEVFN(1, 1);
    if (!dev_realize(dev, pci_bus, errp)) {
        return false;
    }
    PIIXIDEState *d = (PIIXIDEState *)dev;
    for (int b = 0; b < 2; b++) {
        for (int u = 0; u < 2; u++) {
            DriveInfo *di = drive_get(IF_IDE, b, u);
            if (!di) {
                continue;
            }
            DeviceState *disk = dev_new(di->is_cdrom ? "ide-cd" : "ide-hd", errp);
            if (!disk) {
                return false;
            }
            char unit[4];
            snprintf(unit, sizeof(unit), "%d", u);
            di->auto_connected = false;  /* this is the device it connects to */
            bool ok = dev_set_prop(disk, "drive", di->id, errp) &&
                      dev_set_prop(disk, "unit", unit, errp) &&
                      (!di->serial || dev_set_prop(disk, "serial", di->serial, errp));
            di->auto_connected = true;
            if (!ok || !dev_realize(disk, d->bus[b].qbus, errp)) {
                dev_free(disk);
                return false;
            }
        }
    }
    return true;
}
