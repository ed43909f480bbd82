/*
 * ACPI PCI hotplug for the PIIX4 PM function, QEMU's interface on -machine
 * pc: an I/O block at 0xae00 (PCI_UP 0x00, PCI_DOWN 0x04, PCI_EJ/B0EJ
 * 0x08, PCI_RMV 0x0c, PCI_SEL 0x10, AIDX 0x14, all 32-bit) plus GPE0 bit 1,
 * driven by the DSDT methods PCNT/DVNT/_EJ0 and \_GPE._E01 (acpi-dsdt.c).
 * device_add on pci.0 sets the slot's "up" bit and raises the GPE; the
 * guest rescans the slot. device_del sets "down" and raises the GPE; the
 * guest releases the device and writes the slot bit to B0EJ, which
 * unplugs it (DEVICE_DELETED). Reading PCI_UP clears it (QEMU's behaviour
 * since 2.x, non-legacy mode).
 * Locking: BQL (I/O callbacks, monitor commands).
 */
#include <string.h>
#include "hw/acpi/acpi.h"
#include "hw/acpi/pcihp.h"

#define PCIHP_UP     0x00
#define PCIHP_DOWN   0x04
#define PCIHP_EJ     0x08
#define PCIHP_RMV    0x0c
#define PCIHP_SEL    0x10
#define PCIHP_AIDX   0x14

/* Devices the board created (the chipset, 00:01.x) cannot be unplugged. */
static bool slot_is_board(AcpiPciHpState *s, int slot)
{
    for (int fn = 0; fn < 8; fn++) {
        PCIDevice *d = pci_find_device(s->bus, PCI_DEVFN(slot, fn));
        if (d && d->qdev.canonical_path &&
            g_str_has_prefix(d->qdev.canonical_path, "/machine/unattached/")) {
            return true;
        }
    }
    return slot == 0;
}

static uint32_t removable_slots(AcpiPciHpState *s)
{
    uint32_t mask = 0;
    for (int slot = 0; slot < 32; slot++) {
        if (!slot_is_board(s, slot)) {
            mask |= 1u << slot;
        }
    }
    return mask;
}

/* The guest ejected the slots in 'mask': every function there goes. */
static void eject_slots(AcpiPciHpState *s, uint32_t mask)
{
    for (int slot = 0; slot < 32; slot++) {
        if (!(mask & (1u << slot)) || slot_is_board(s, slot)) {
            continue;
        }
        s->down &= ~(1u << slot);
        for (int fn = 7; fn >= 0; fn--) {
            PCIDevice *d = pci_find_device(s->bus, PCI_DEVFN(slot, fn));
            if (d) {
                qdev_unplug_complete(&d->qdev);
            }
        }
    }
}

static uint64_t pcihp_read(void *opaque, uint64_t addr, unsigned size)
{
    AcpiPciHpState *s = opaque;
    uint32_t val = 0;
    if (s->sel != 0) {
        return 0;                        /* only bus 0 (no bridges in kemu) */
    }
    switch (addr) {
    case PCIHP_UP:
        val = s->up;
        s->up = 0;
        break;
    case PCIHP_DOWN:
        val = s->down;
        break;
    case PCIHP_RMV:
        val = removable_slots(s);
        break;
    case PCIHP_SEL:
        val = s->sel;
        break;
    default:                             /* PCI_EJ reads 0, AIDX: no acpi-index */
        break;
    }
    return val;
}

static void pcihp_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    AcpiPciHpState *s = opaque;
    switch (addr) {
    case PCIHP_EJ:
        if (s->sel == 0) {
            eject_slots(s, (uint32_t)val);
        }
        break;
    case PCIHP_SEL:
        s->sel = (uint32_t)val;
        break;
    default:
        break;
    }
}

static const MemoryRegionOps pcihp_ops = {
    .read = pcihp_read, .write = pcihp_write, .min_access = 4, .max_access = 4,
};

static void pcihp_plugged(Bus *bus, DeviceState *dev)
{
    AcpiPciHpState *s = bus->hotplug_opaque;
    PCIDevice *d = (PCIDevice *)dev;
    s->up |= 1u << PCI_SLOT(d->devfn);
    s->raise_gpe(s->gpe_opaque);
}

static bool pcihp_unplug_request(Bus *bus, DeviceState *dev, Error **errp)
{
    AcpiPciHpState *s = bus->hotplug_opaque;
    PCIDevice *d = (PCIDevice *)dev;
    int slot = PCI_SLOT(d->devfn);
    if (slot_is_board(s, slot)) {
        error_setg(errp, "Unsupported bus. Bus doesn't have property 'acpi-pcihp-bsel' set");
        return false;
    }
    s->down |= 1u << slot;
    s->raise_gpe(s->gpe_opaque);
    return true;
}

void acpi_pcihp_init(AcpiPciHpState *s, Bus *bus, void (*raise_gpe)(void *), void *opaque)
{
    s->bus = bus;
    s->raise_gpe = raise_gpe;
    s->gpe_opaque = opaque;
    mr_init_io(&s->io, "acpi-pci-hotplug", &pcihp_ops, s, ACPI_PCIHP_SIZE);
    mr_add_subregion(system_io, ACPI_PCIHP_BASE, &s->io, 0);
    bus->hotpluggable = true;
    bus->hotplug = pcihp_plugged;
    bus->unplug_request = pcihp_unplug_request;
    bus->hotplug_opaque = s;
}

void acpi_pcihp_reset(AcpiPciHpState *s)
{
    s->up = s->down = s->sel = 0;
}
