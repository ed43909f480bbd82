/*
 * The PC's chipset pieces: i440FX host bridge and PIIX3 ISA bridge.
 * Locking: BQL.
 */
#ifndef HW_PCI_I440FX_H
#define HW_PCI_I440FX_H

#include "hw/pci.h"

/* Host bridge at 00.0; ram backs the PAM/shadow windows, pci_space is
 * where PCI BARs and the BIOS ROM window live. */
PCIDevice *i440fx_create(Bus *bus, MemoryRegion *ram, MemoryRegion *pci_space, Error **errp);
/* ISA bridge at 01.0 with PIRQ routing, port 0x92 and reset at 0xcf9. */
PCIDevice *piix3_create(Bus *bus, Error **errp);
/* Direct boot: program PIRQA-D the way SeaBIOS does (10, 10, 11, 11). */
void piix3_set_default_pirqs(PCIDevice *piix3);
/* The host bridge decodes byte accesses to 0xcf9 (PIIX3 reset control). */
void i440fx_set_rcr_handler(const MemoryRegionOps *ops, void *opaque);
/* A20 gate changes (port 0x92, i8042) reach the CPUs through here. */
void x86_set_a20(bool enabled);

#endif
