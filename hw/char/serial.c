/*
 * 16550A UART core: RBR/THR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR and the
 * divisor latch, 16-byte receive/transmit FIFOs with trigger levels, the
 * four interrupt sources with the datasheet's priorities, character timeout,
 * loopback, break, and transmit backpressure from the chardev.
 * Spec: National Semiconductor PC16550D datasheet.
 * Locking: BQL held for every entry point (guest I/O, chardev callbacks, timers).
 */
#include <string.h>
#include "serial.h"

/* IER */
#define IER_RDI   0x01
#define IER_THRI  0x02
#define IER_RLSI  0x04
#define IER_MSI   0x08
/* IIR */
#define IIR_NO_INT 0x01
#define IIR_MSI    0x00
#define IIR_THRI   0x02
#define IIR_RDI    0x04
#define IIR_RLSI   0x06
#define IIR_CTI    0x0c
#define IIR_FE     0xc0
/* FCR */
#define FCR_FE     0x01
#define FCR_RFR    0x02
#define FCR_XFR    0x04
/* LCR */
#define LCR_DLAB   0x80
#define LCR_SBC    0x40
#define LCR_PEN    0x08
#define LCR_STB    0x04
/* MCR */
#define MCR_DTR    0x01
#define MCR_RTS    0x02
#define MCR_OUT1   0x04
#define MCR_OUT2   0x08
#define MCR_LOOP   0x10
/* LSR */
#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_PE     0x04
#define LSR_FE     0x08
#define LSR_BI     0x10
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define LSR_ERR    0x80
#define LSR_INT_ANY (LSR_OE | LSR_PE | LSR_FE | LSR_BI)
/* MSR */
#define MSR_DCTS   0x01
#define MSR_DDSR   0x02
#define MSR_TERI   0x04
#define MSR_DDCD   0x08
#define MSR_ANY_DELTA 0x0f
#define MSR_CTS    0x10
#define MSR_DSR    0x20
#define MSR_RI     0x40
#define MSR_DCD    0x80

static void fifo_reset(SerialFifo *f)
{
    f->head = 0;
    f->count = 0;
}

static bool fifo_push(SerialFifo *f, uint8_t v)
{
    if (f->count == UART_FIFO_LEN) {
        return false;
    }
    f->data[(f->head + f->count) % UART_FIFO_LEN] = v;
    f->count++;
    return true;
}

static uint8_t fifo_pop(SerialFifo *f)
{
    if (!f->count) {
        return 0;
    }
    uint8_t v = f->data[f->head];
    f->head = (f->head + 1) % UART_FIFO_LEN;
    f->count--;
    return v;
}

static bool fifo_enabled(SerialState *s)
{
    return s->fcr & FCR_FE;
}

/* Recompute IIR from the pending sources, highest priority first, and
 * drive the interrupt line. */
static void serial_update_irq(SerialState *s)
{
    uint8_t id = IIR_NO_INT;

    if ((s->ier & IER_RLSI) && (s->lsr & LSR_INT_ANY)) {
        id = IIR_RLSI;
    } else if ((s->ier & IER_RDI) && s->timeout_ipending) {
        id = IIR_CTI;
    } else if ((s->ier & IER_RDI) && (s->lsr & LSR_DR) &&
               (!fifo_enabled(s) || s->rx.count >= s->trigger)) {
        id = IIR_RDI;
    } else if ((s->ier & IER_THRI) && s->thr_ipending) {
        id = IIR_THRI;
    } else if ((s->ier & IER_MSI) && !(s->mcr & MCR_LOOP) && (s->msr & MSR_ANY_DELTA)) {
        id = IIR_MSI;
    }
    s->iir = id | (s->iir & ~0x0f);
    irq_set(&s->irq, id != IIR_NO_INT);
}

static void serial_update_params(SerialState *s)
{
    int frame = 1 + 5 + (s->lcr & 3);          /* start + data bits */
    if (s->lcr & LCR_PEN) {
        frame++;
    }
    frame += (s->lcr & LCR_STB) ? 2 : 1;
    uint32_t div = s->divider ? s->divider : 1;
    uint64_t speed = s->baudbase / div;
    if (!speed) {
        speed = 1;
    }
    s->char_time_ns = (NANOSECONDS_PER_SECOND / speed) * frame;
}

static void serial_arm_timeout(SerialState *s)
{
    if (s->timeout_timer) {
        timer_mod(s->timeout_timer,
                  clock_get_ns(CLOCK_VIRTUAL_NS) + 4 * s->char_time_ns);
    }
}

static void serial_timeout_cb(void *opaque)
{
    SerialState *s = opaque;
    if (fifo_enabled(s) && s->rx.count) {
        s->timeout_ipending = true;
        serial_update_irq(s);
    }
}

/* One received character (from the backend or from loopback). */
static void serial_receive_byte(SerialState *s, uint8_t ch)
{
    if (fifo_enabled(s)) {
        if (!fifo_push(&s->rx, ch)) {
            s->lsr |= LSR_OE;
        }
        s->lsr |= LSR_DR;
        serial_arm_timeout(s);
    } else {
        if (s->lsr & LSR_DR) {
            s->lsr |= LSR_OE;
        }
        s->rbr = ch;
        s->lsr |= LSR_DR;
    }
}

static void serial_tx_done(SerialState *s)
{
    s->lsr |= LSR_THRE | LSR_TEMT;
    s->thr_ipending = true;
    serial_update_irq(s);
}

/* Push pending transmit bytes to the backend (or back into the receiver in
 * loopback mode). Stops and retries later when the backend is full. */
static void serial_xmit(SerialState *s)
{
    while (true) {
        uint8_t ch;
        if (fifo_enabled(s)) {
            if (!s->tx.count) {
                break;
            }
            ch = s->tx.data[s->tx.head];
        } else {
            if (s->lsr & LSR_THRE) {
                break;
            }
            ch = s->thr;
        }
        if (s->mcr & MCR_LOOP) {
            serial_receive_byte(s, ch);
        } else if (s->chr && chr_fe_backend_connected(&s->fe)) {
            /* 0: the backend is full, retry later; < 0: an error, the byte
             * is lost as on a disconnected line. */
            if (chr_fe_write(&s->fe, &ch, 1) == 0) {
                s->tx_busy = true;
                if (s->retry_timer) {
                    timer_mod(s->retry_timer, clock_get_ns(CLOCK_REALTIME_NS) + 1000000);
                }
                return;
            }
        }
        if (fifo_enabled(s)) {
            fifo_pop(&s->tx);
        } else {
            s->lsr |= LSR_THRE;
        }
    }
    s->tx_busy = false;
    serial_tx_done(s);
}

static void serial_retry_cb(void *opaque)
{
    SerialState *s = opaque;
    if (s->tx_busy) {
        serial_xmit(s);
    }
}

static void serial_write_fcr(SerialState *s, uint8_t val)
{
    if ((val ^ s->fcr) & FCR_FE) {
        /* Changing the FIFO enable clears both FIFOs. */
        val |= FCR_RFR | FCR_XFR;
    }
    if (val & FCR_RFR) {
        fifo_reset(&s->rx);
        s->lsr &= ~(LSR_DR | LSR_ERR);
        s->timeout_ipending = false;
        if (s->timeout_timer) {
            timer_del(s->timeout_timer);
        }
    }
    if (val & FCR_XFR) {
        fifo_reset(&s->tx);
        if (!s->tx_busy) {
            s->lsr |= LSR_THRE | LSR_TEMT;
            s->thr_ipending = true;
        }
    }
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    s->trigger = levels[val >> 6];
    s->fcr = val & 0xc9;
    if (s->fcr & FCR_FE) {
        s->iir |= IIR_FE;
    } else {
        s->iir &= ~IIR_FE;
    }
    serial_update_irq(s);
}

/* In loopback the modem inputs are wired to the modem outputs
 * (RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD); like QEMU, no delta bits. */
static uint8_t serial_loop_msr(SerialState *s)
{
    uint8_t v = 0;
    if (s->mcr & MCR_RTS) {
        v |= MSR_CTS;
    }
    if (s->mcr & MCR_DTR) {
        v |= MSR_DSR;
    }
    if (s->mcr & MCR_OUT1) {
        v |= MSR_RI;
    }
    if (s->mcr & MCR_OUT2) {
        v |= MSR_DCD;
    }
    return v;
}

void serial_ioport_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    SerialState *s = opaque;
    (void)size;
    val &= 0xff;

    switch (addr & 7) {
    case 0:
        if (s->lcr & LCR_DLAB) {
            s->divider = (s->divider & 0xff00) | val;
            serial_update_params(s);
            break;
        }
        if (fifo_enabled(s)) {
            if (!fifo_push(&s->tx, val)) {
                /* Overrun: the oldest byte is lost, as on a full FIFO. */
                fifo_pop(&s->tx);
                fifo_push(&s->tx, val);
            }
        } else {
            s->thr = val;
        }
        s->thr_ipending = false;
        s->lsr &= ~(LSR_THRE | LSR_TEMT);
        serial_update_irq(s);
        if (!s->tx_busy) {
            serial_xmit(s);
        }
        break;
    case 1:
        if (s->lcr & LCR_DLAB) {
            s->divider = (s->divider & 0x00ff) | (val << 8);
            serial_update_params(s);
            break;
        }
        {
            uint8_t changed = (s->ier ^ val) & 0x0f;
            s->ier = val & 0x0f;
            /* Enabling THRI with an empty THR raises THRE at once. */
            if ((changed & IER_THRI) && (s->ier & IER_THRI) && (s->lsr & LSR_THRE)) {
                s->thr_ipending = true;
            }
            serial_update_irq(s);
        }
        break;
    case 2:
        serial_write_fcr(s, val);
        break;
    case 3: {
        uint8_t old = s->lcr;
        s->lcr = val;
        serial_update_params(s);
        if ((old ^ val) & LCR_SBC) {
            /* Break state change: nothing to tell a byte-stream backend. */
        }
        break;
    }
    case 4:
        s->mcr = val & 0x1f;
        serial_update_irq(s);
        break;
    case 5:
        /* LSR is read-only (factory test). */
        break;
    case 6:
        /* MSR: only status bits in loopback; writes are ignored. */
        break;
    case 7:
        s->scr = val;
        break;
    }
}

uint64_t serial_ioport_read(void *opaque, uint64_t addr, unsigned size)
{
    SerialState *s = opaque;
    uint8_t ret = 0xff;
    (void)size;

    switch (addr & 7) {
    case 0:
        if (s->lcr & LCR_DLAB) {
            return s->divider & 0xff;
        }
        if (fifo_enabled(s)) {
            ret = fifo_pop(&s->rx);
            if (!s->rx.count) {
                s->lsr &= ~(LSR_DR | LSR_BI);
                if (s->timeout_timer) {
                    timer_del(s->timeout_timer);
                }
            } else {
                serial_arm_timeout(s);
            }
            s->timeout_ipending = false;
        } else {
            ret = s->rbr;
            s->lsr &= ~(LSR_DR | LSR_BI);
        }
        serial_update_irq(s);
        if (!(s->mcr & MCR_LOOP) && s->chr) {
            chr_fe_accept_input(&s->fe);
        }
        return ret;
    case 1:
        return (s->lcr & LCR_DLAB) ? (s->divider >> 8) & 0xff : s->ier;
    case 2:
        ret = s->iir;
        if ((ret & 0x0f) == IIR_THRI) {
            s->thr_ipending = false;
            serial_update_irq(s);
        }
        return ret;
    case 3:
        return s->lcr;
    case 4:
        return s->mcr;
    case 5:
        ret = s->lsr;
        if (s->lsr & (LSR_BI | LSR_OE | LSR_PE | LSR_FE)) {
            s->lsr &= ~(LSR_BI | LSR_OE | LSR_PE | LSR_FE | LSR_ERR);
            serial_update_irq(s);
        }
        return ret;
    case 6:
        if (s->mcr & MCR_LOOP) {
            return serial_loop_msr(s);
        }
        ret = s->msr;
        if (s->msr & MSR_ANY_DELTA) {
            s->msr &= 0xf0;
            serial_update_irq(s);
        }
        return ret;
    case 7:
        return s->scr;
    }
    return ret;
}

const MemoryRegionOps serial_io_ops = {
    .read = serial_ioport_read,
    .write = serial_ioport_write,
    .min_access = 1,
    .max_access = 1,
};

/* --- chardev frontend callbacks --- */

static int serial_can_receive(void *opaque)
{
    SerialState *s = opaque;
    if (s->mcr & MCR_LOOP) {
        return 0;
    }
    if (fifo_enabled(s)) {
        if (s->rx.count >= UART_FIFO_LEN) {
            return 0;
        }
        /* Deliver up to the trigger level so that the guest sees RDA
         * interrupts at the programmed points, then one at a time. */
        return s->rx.count < s->trigger ? s->trigger - s->rx.count : 1;
    }
    return !(s->lsr & LSR_DR);
}

static void serial_receive(void *opaque, const uint8_t *buf, int len)
{
    SerialState *s = opaque;
    if (s->mcr & MCR_LOOP) {
        return;
    }
    for (int i = 0; i < len; i++) {
        serial_receive_byte(s, buf[i]);
    }
    serial_update_irq(s);
}

static void serial_event(void *opaque, int event)
{
    SerialState *s = opaque;
    if (event == CHR_EVENT_BREAK) {
        s->rbr = 0;
        if (fifo_enabled(s)) {
            fifo_push(&s->rx, 0);
        }
        s->lsr |= LSR_BI | LSR_DR;
        serial_update_irq(s);
    }
}

bool serial_realize_core(SerialState *s, Chardev *chr, Error **errp)
{
    if (!s->baudbase) {
        s->baudbase = 115200;
    }
    s->timeout_timer = timer_new(CLOCK_VIRTUAL_NS, serial_timeout_cb, s);
    s->retry_timer = timer_new(CLOCK_REALTIME_NS, serial_retry_cb, s);
    s->chr = chr;
    if (chr) {
        if (!chr_fe_init(&s->fe, chr, errp)) {
            return false;
        }
        chr_fe_set_handlers(&s->fe, serial_can_receive, serial_receive, serial_event, s);
    }
    serial_reset(s);
    return true;
}

void serial_reset(SerialState *s)
{
    s->divider = 0x0c;          /* 9600 baud at the default 115200 base */
    s->rbr = 0;
    s->thr = 0;
    s->ier = 0;
    s->iir = IIR_NO_INT;
    s->lcr = 0;
    s->lsr = LSR_TEMT | LSR_THRE;
    s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
    s->mcr = MCR_OUT2;
    s->scr = 0;
    s->fcr = 0;
    s->trigger = 1;
    s->thr_ipending = false;
    s->timeout_ipending = false;
    s->tx_busy = false;
    fifo_reset(&s->rx);
    fifo_reset(&s->tx);
    if (s->timeout_timer) {
        timer_del(s->timeout_timer);
    }
    if (s->retry_timer) {
        timer_del(s->retry_timer);
    }
    serial_update_params(s);
    irq_lower(&s->irq);
}
