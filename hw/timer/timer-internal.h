/*
 * Private links between the timer devices: the 8254 PIT (i8254.c) for the
 * port 0x61 logic (pcspk.c), and the PIT/RTC interrupt outputs that the
 * HPET's LegacyReplacementRoute takes over (hpet.c).
 * Spec: Intel 8254 datasheet; IA-PC HPET 1.0a section 2.3.9. Locking: BQL.
 */
#ifndef HW_TIMER_INTERNAL_H
#define HW_TIMER_INTERNAL_H

#include <stdbool.h>

#define PIT_FREQ 1193182

/* OUT pin and GATE input of a channel (0..2); 0 when there is no PIT. */
int pit_get_out(int channel);
int pit_get_gate(int channel);
void pit_set_gate(int channel, int level);
/* HPET LegacyReplacementRoute: the PIT stops driving IRQ0. */
void pit_set_irq_disabled(bool disabled);
/* HPET LegacyReplacementRoute: the RTC stops driving IRQ8. */
void rtc_set_irq_disabled(bool disabled);

#endif
