/*
 * 16550A UART core shared by the ISA front end (serial-isa.c) and the
 * unit tests: register state, FIFOs and the chardev connection.
 * Spec: National Semiconductor PC16550D datasheet.
 * Locking: BQL.
 */
#ifndef HW_CHAR_SERIAL_H
#define HW_CHAR_SERIAL_H

#include <stdbool.h>
#include <stdint.h>
#include "chardev/char.h"
#include "hw/irq.h"
#include "system/memory.h"
#include "system/timer.h"

#define UART_FIFO_LEN 16

typedef struct SerialFifo {
    uint8_t data[UART_FIFO_LEN];
    unsigned head, count;
} SerialFifo;

typedef struct SerialState {
    uint16_t divider;
    uint8_t ier, iir, lcr, mcr, lsr, msr, scr, fcr;
    uint8_t rbr;                 /* non-FIFO receive holding register */
    uint8_t thr;                 /* non-FIFO transmit holding register */
    bool thr_ipending;           /* THRE interrupt armed (cleared by IIR read) */
    bool timeout_ipending;       /* character timeout indication */
    bool tx_busy;                /* transmit waiting for the backend */
    uint8_t trigger;             /* receive FIFO trigger level */
    SerialFifo rx, tx;
    uint32_t baudbase;
    int64_t char_time_ns;        /* one frame at the current line settings */

    IrqLine irq;
    CharFrontend fe;
    Chardev *chr;
    Timer *timeout_timer;        /* CLOCK_VIRTUAL: receive character timeout */
    Timer *retry_timer;          /* CLOCK_REALTIME: backend was full */
    MemoryRegion io;
} SerialState;

extern const MemoryRegionOps serial_io_ops;

/* Create timers and attach the chardev (chr may be NULL). */
bool serial_realize_core(SerialState *s, Chardev *chr, Error **errp);
void serial_reset(SerialState *s);
/* Direct register access (offset 0..7), as the guest sees it. */
uint64_t serial_ioport_read(void *opaque, uint64_t addr, unsigned size);
void serial_ioport_write(void *opaque, uint64_t addr, uint64_t val, unsigned size);

#endif
