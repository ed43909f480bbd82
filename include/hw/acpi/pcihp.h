/*
 * ACPI PCI hotplug registers (QEMU's 0xae00 interface on the PIIX4 PM
 * function) and the pci.0 hotplug hooks; see hw/acpi/pcihp.c.
 * Locking: BQL.
 */
#ifndef HW_ACPI_PCIHP_H
#define HW_ACPI_PCIHP_H

#include <stdint.h>
#include "hw/pci.h"
#include "system/memory.h"

#define ACPI_PCIHP_BASE 0xae00
#define ACPI_PCIHP_SIZE 0x18
#define ACPI_PCIHP_GPE_BIT 0x02        /* GPE0_STS bit 1 */

typedef struct AcpiPciHpState {
    Bus *bus;
    uint32_t up, down;                 /* slot bitmaps pending for the guest */
    uint32_t sel;                      /* PCI_SEL: bus number (only 0) */
    MemoryRegion io;
    void (*raise_gpe)(void *opaque);
    void *gpe_opaque;
} AcpiPciHpState;

/* Make 'bus' hotpluggable through this controller. */
void acpi_pcihp_init(AcpiPciHpState *s, Bus *bus, void (*raise_gpe)(void *), void *opaque);
void acpi_pcihp_reset(AcpiPciHpState *s);

#endif
