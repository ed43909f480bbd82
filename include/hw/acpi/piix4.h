/*
 * PIIX4 power-management function (-device name "PIIX4_PM", 8086:7113,
 * at 00:01.3 on the pc machine): ACPI PM1 event/control registers, the
 * 24-bit PM timer, GPE0 at 0xafe0, the APM control port 0xb2/0xb3, the
 * SCI and a guest-safe SMBus host stub (SMBBA, 0xb100 at power-on;
 * SeaBIOS moves it to 0x700) (Intel PIIX4 datasheet
 * §3.3 and §7; ACPI 6.4 §4.8).
 * Locking: BQL.
 */
#ifndef HW_ACPI_PIIX4_H
#define HW_ACPI_PIIX4_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/irq.h"
#include "hw/pci.h"
#include "system/memory.h"
#include "system/runstate.h"
#include "system/timer.h"

#define TYPE_PIIX4_PM "PIIX4_PM"

typedef struct PIIX4PMState {
    PCIDevice pci;

    /* Properties (QEMU names). */
    uint32_t smb_io_base;       /* "smb_io_base", kemu default 0xb100 */
    uint8_t s4_val;             /* "s4_val": SLP_TYP meaning S4, default 2 */

    /* SCI output: the machine connects it to GSI 9 (level, active high). */
    IrqLine sci;

    /* ACPI registers. */
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint64_t tmr_overflow;      /* PM timer tick when TMR_STS next sets */
    Timer *tmr_timer;
    uint8_t gpe_sts[2], gpe_en[2];
    uint8_t apm_cnt, apm_sts;
    uint8_t smb[16];            /* SMBus host registers (stub) */

    MemoryRegion io_pm, io_gpe, io_apm, io_smb;
    bool pm_added, smb_added;
    Notifier powerdown;
} PIIX4PMState;

static inline PIIX4PMState *PIIX4_PM(DeviceState *dev)
{
    return (PIIX4PMState *)dev;
}

/* Program PMBA (config 0x40) and enable PM I/O (config 0x80 bit 0), as
 * SeaBIOS does; for direct boot. base: ACPI_PM_BASE (0x600). */
void piix4_pm_set_base(DeviceState *pm, uint16_t base);
/* Connect the SCI output (e.g. gsi_set_irq, machine, 9). */
void piix4_pm_connect_sci(DeviceState *pm, IrqHandler *fn, void *opaque, int n);
/* Set GPE0_STS bits (low byte) and update the SCI (e.g. PCI hotplug). */
void piix4_pm_raise_gpe(void *pm, uint8_t bits);
/* Current PM timer value (24 bits), for tests. */
uint32_t piix4_pm_timer_value(PIIX4PMState *s);

#endif
