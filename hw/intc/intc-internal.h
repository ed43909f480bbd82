/*
 * Private glue between the userspace interrupt controllers: the PIC pair
 * (i8259.c), the IOAPIC (ioapic.c), the LAPICs (apic.c) and the GSI
 * fan-out (irqchip.c). Not for use outside hw/intc and its tests.
 * Locking: BQL.
 */
#ifndef HW_INTC_INTERNAL_H
#define HW_INTC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_NUM_PINS 24
#define IOAPIC_BASE     0xfec00000ull
#define APIC_SPACE_SIZE 0x100000ull

/* i8259.c: ISA IRQ 0..15 input, INTA cycle, current INTR output. */
void pic_set_irq(int irq, int level);
int pic_read_irq(void);
bool pic_intr_level(void);

/* apic.c: the PIC's INTR output changed (LINT0 of every LAPIC). */
void apic_pic_intr_changed(int level);
/* apic.c: an interrupt message on the APIC bus (IOAPIC redirection, MSI). */
void apic_deliver_irq(uint8_t dest, uint8_t dest_mode, uint8_t delivery_mode,
                      uint8_t vector, uint8_t trigger_mode);

/* ioapic.c: input pin and the LAPIC's EOI broadcast for level interrupts. */
void ioapic_set_irq(int pin, int level);
void ioapic_eoi_broadcast(int vector);

#endif
