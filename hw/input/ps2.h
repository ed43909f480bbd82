/*
 * PS/2 keyboard and mouse behind the i8042 (i8042.c): byte queues towards
 * the controller and the command interpreters of each device.
 * Spec: IBM PS/2 keyboard and mouse technical references.
 * Locking: BQL.
 */
#ifndef HW_INPUT_PS2_H
#define HW_INPUT_PS2_H

#include <stdbool.h>
#include <stdint.h>

#define PS2_QUEUE_SIZE 256

typedef struct PS2Queue {
    uint8_t data[PS2_QUEUE_SIZE];
    unsigned rptr, count;
} PS2Queue;

typedef struct PS2Dev {
    PS2Queue q;
    void (*notify)(void *opaque);      /* new bytes are queued */
    void *opaque;
    uint8_t write_cmd;                  /* command waiting for its parameter */
} PS2Dev;

typedef struct PS2Kbd {
    PS2Dev d;
    bool scan_enabled;
    int scancode_set;                   /* 1, 2 or 3 */
    bool translate;                     /* i8042 translation (command byte bit 6) */
    uint8_t leds;
} PS2Kbd;

typedef struct PS2Mouse {
    PS2Dev d;
    uint8_t status;                     /* bit 6 remote, 5 enabled, 4 scaling 2:1 */
    uint8_t resolution;
    uint8_t sample_rate;
    bool wrap;
    uint8_t type;                       /* 0 standard, 3 IntelliMouse */
    uint8_t detect_state;
    int dx, dy, dz;
    uint8_t buttons;
} PS2Mouse;

bool ps2_has_data(PS2Dev *d);
uint8_t ps2_read(PS2Dev *d);
/* Put a byte back at the head (the controller preempted it). */
void ps2_unread(PS2Dev *d, uint8_t v);

void ps2_kbd_reset(PS2Kbd *k);
void ps2_kbd_write(PS2Kbd *k, uint8_t val);
/* keycode: PC scancode set 1, extended keys as 0xe0xx. */
void ps2_kbd_key(PS2Kbd *k, int keycode, bool down);

void ps2_mouse_reset(PS2Mouse *m);
void ps2_mouse_write(PS2Mouse *m, uint8_t val);
void ps2_mouse_event(PS2Mouse *m, int dx, int dy, int dz, int buttons);

#endif
