/*
 * Userspace interrupt controllers used by the software CPU (and by KVM with
 * kernel-irqchip=off): the API the CPU side calls.
 * Locking: BQL.
 */
#ifndef HW_INTC_H
#define HW_INTC_H

#include <stdbool.h>
#include <stdint.h>
#include "util/error.h"

typedef struct CPUState CPUState;

/* Highest-priority deliverable vector from the LAPIC (or ExtINT via the
 * PIC); acknowledges it. -1 when nothing is deliverable. */
int apic_get_interrupt(CPUState *cpu);
/* A maskable interrupt is waiting (recomputes CPU_INTERRUPT_HARD). */
bool apic_has_interrupt(CPUState *cpu);
void apic_set_base(CPUState *cpu, uint64_t val);
uint8_t apic_get_tpr(CPUState *cpu);          /* CR8 value (TPR >> 4) */
void apic_set_tpr(CPUState *cpu, uint8_t cr8);
uint64_t apic_get_tsc_deadline(CPUState *cpu);
void apic_set_tsc_deadline(CPUState *cpu, uint64_t tsc);
void apic_init_reset(CPUState *cpu);          /* INIT */
/* Deliver an MSI (address/data as written by a device) to the LAPICs. */
void apic_deliver_msi(uint64_t addr, uint32_t data);

/* Legacy PIC, when the LAPIC's LINT0 is ExtINT. */
int pic_get_interrupt(void);
bool pic_has_interrupt(void);

/* --- Added by the devices engineer (additive) --- */
/* Create the userspace PIC pair (0x20/0xa0, ELCR 0x4d0/0x4d1), the IOAPIC
 * (0xfec00000) and a LAPIC for every CPU in cpus[] (0xfee00000). Call once
 * after the CPUs exist, when the accelerator has no in-kernel irqchip.
 * The PICs and IOAPIC join qdev's reset walk; the LAPICs are reset by a
 * machine_register_reset() hook that calls apic_reset() for each CPU. */
bool userspace_irqchip_init(Error **errp);
/* GSI fan-out for gsi_set_irq(): ISA IRQs 0-15 to PIC and IOAPIC (IRQ0 to
 * IOAPIC pin 2), GSIs 16-23 to the IOAPIC. */
void userspace_irqchip_set_gsi(int gsi, int level);
/* One LAPIC for a CPU (done by userspace_irqchip_init for existing CPUs;
 * a second call for the same CPU does nothing). */
bool apic_cpu_init(CPUState *cpu, Error **errp);
/* Power-on reset: base 0xfee00000|EN(|BSP), ID = env.apic_id, LINT0 ExtINT
 * on the BSP; updates env.apic_base. */
void apic_reset(CPUState *cpu);
/* Guest TSC value to CLOCK_VIRTUAL ns for the TSC-deadline timer. The CPU
 * code sets this; the default treats the TSC as CLOCK_VIRTUAL ns. */
extern int64_t (*apic_tsc_to_ns)(CPUState *cpu, uint64_t tsc);

#endif
