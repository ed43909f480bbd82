/*
 * ISA devices on the PIIX3's ISA bus: a DeviceState with port I/O regions
 * in the 64 KiB I/O space and IRQ lines to the GSI fan-out.
 * Locking: BQL.
 */
#ifndef HW_ISA_H
#define HW_ISA_H

#include "hw/irq.h"
#include "hw/qdev.h"
#include "system/memory.h"

typedef struct IsaDevice {
    DeviceState qdev;
} IsaDevice;

extern const DeviceClass isa_device_class;   /* parent class for ISA devices */

/* Map an I/O region at a port in system I/O space. */
void isa_register_ioport(IsaDevice *dev, MemoryRegion *mr, uint16_t port);

/* --- Board API of the ISA devices in hw/char, hw/timer, hw/input
 *     (added by the devices engineer; additive) --- */
typedef struct Chardev Chardev;

/* isa-serial for each non-NULL hds[i], i < n (n <= 4): COM1..COM4 with
 * QEMU's default ports/IRQs. Exits on error (&error_fatal). */
void serial_hds_isa_init(Chardev **hds, int n);
DeviceState *isa_serial_create(int index, Chardev *chr, Error **errp);

/* mc146818rtc at 0x70/IRQ 8 (base_year is accepted for compatibility; the
 * year reads as year % 100 with the century at 0x32, as on QEMU's pc). */
DeviceState *rtc_create(int base_year, Error **errp);
/* CMOS bytes for the board (memory size, boot order, CPUs...). rtc may be
 * NULL for the first RTC. */
void rtc_set_memory(DeviceState *rtc, int addr, uint8_t val);
uint8_t rtc_get_memory(DeviceState *rtc, int addr);
/* -rtc base=utc|localtime|YYYY-MM-DD[THH:MM:SS]; call before the RTC exists. */
bool rtc_set_base(const char *base, Error **errp);

/* i8042: the output port's A20 bit (bit 1) drives this line (level 1 =
 * A20 enabled); dev may be NULL for the machine's i8042. */
void i8042_set_a20_line(DeviceState *dev, IrqLine a20);
/* Keyboard input for sendkey/VNC: QEMU "qcode"-style keycodes are not used;
 * 'keycode' is a PC scancode set 1 code, 0xe0-prefixed codes as 0xe0xx. */
void i8042_put_keycode(int keycode, bool down);
/* Relative mouse motion; buttons bit 0 left, 1 right, 2 middle. */
void i8042_put_mouse_event(int dx, int dy, int dz, int buttons);

#endif
