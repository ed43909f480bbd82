/*
 * isa-pit: the Intel 8254 programmable interval timer at 0x40-0x43 in
 * userspace (the software CPU's PIT; KVM uses its in-kernel one). Three
 * 16-bit channels clocked at 1.193182 MHz from CLOCK_VIRTUAL, modes 0-5,
 * LSB/MSB/word access, counter latch and read-back, BCD counting; channel
 * 0 drives ISA IRQ 0, channel 2's gate and OUT are wired to port 0x61.
 * Spec: Intel 8254 datasheet. Locking: BQL.
 */
#include "hw/isa.h"
#include "hw/machine.h"
#include "timer-internal.h"
#include "system/timer.h"
#include "util/module.h"

enum { RW_LSB = 1, RW_MSB = 2, RW_WORD0 = 3, RW_WORD1 = 4 };

typedef struct PITChannel {
    uint32_t count;          /* 1..0x10000 */
    uint16_t latched_count;
    uint8_t count_latched;   /* RW_* of the pending latched read, 0 if none */
    bool status_latched;
    uint8_t status;
    uint8_t read_state, write_state;
    uint8_t write_latch;
    uint8_t rw_mode;
    uint8_t mode;
    bool bcd;
    int gate;
    int64_t count_load_time;
    int64_t next_transition_time;
    Timer *irq_timer;        /* channel 0 only */
} PITChannel;

typedef struct PITState {
    IsaDevice parent;
    uint32_t iobase;
    bool irq_disabled;
    PITChannel ch[3];
    IrqLine irq;
    MemoryRegion io;
} PITState;

static PITState *the_pit;

static uint64_t muldiv64(uint64_t a, uint32_t b, uint32_t c)
{
    return (uint64_t)(((unsigned __int128)a * b) / c);
}

static uint32_t ticks_since_load(PITChannel *c, int64_t now)
{
    if (now < c->count_load_time) {
        return 0;
    }
    return (uint32_t)muldiv64(now - c->count_load_time, PIT_FREQ, NANOSECONDS_PER_SECOND);
}

static uint16_t to_bcd(uint32_t v)
{
    v %= 10000;
    return (v / 1000) << 12 | ((v / 100) % 10) << 8 | ((v / 10) % 10) << 4 | (v % 10);
}

static uint32_t from_bcd(uint32_t v)
{
    return ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
}

/* Current counting element value. */
static uint32_t pit_get_count(PITChannel *c)
{
    uint64_t d = ticks_since_load(c, clock_get_ns(CLOCK_VIRTUAL_NS));
    uint32_t v;
    switch (c->mode) {
    case 2:
        v = c->count - (d % c->count);
        break;
    case 3:
        v = c->count - ((2 * d) % c->count);
        break;
    default:                 /* 0, 1, 4, 5: count down and wrap */
        v = (c->count - d) & 0xffff;
        break;
    }
    if (c->bcd) {
        v = to_bcd(v == 0x10000 ? 0 : v);
    }
    return v & 0xffff;
}

static int channel_out(PITChannel *c, int64_t now)
{
    uint64_t d = ticks_since_load(c, now);
    switch (c->mode) {
    case 1:
        return d < c->count;
    case 2:
        return (d % c->count) == 0 && d != 0;
    case 3:
        return (d % c->count) < ((c->count + 1) >> 1);
    case 4:
    case 5:
        return d == c->count;
    default:                 /* mode 0 */
        return d >= c->count;
    }
}

/* Time of OUT's next change after 'now', or -1. */
static int64_t next_transition(PITChannel *c, int64_t now)
{
    uint64_t d = ticks_since_load(c, now), next, base;
    switch (c->mode) {
    case 1:
    case 0:
        if (d >= c->count) {
            return -1;
        }
        next = c->count;
        break;
    case 2:
        base = (d / c->count) * c->count;
        if (d - base == 0 && d != 0) {
            next = base + 1;     /* the one-tick pulse ends */
        } else {
            next = base + c->count;
        }
        break;
    case 3:
        base = (d / c->count) * c->count;
        if (d - base < ((c->count + 1) >> 1)) {
            next = base + ((c->count + 1) >> 1);
        } else {
            next = base + c->count;
        }
        break;
    default:                 /* 4, 5 */
        if (d < c->count) {
            next = c->count;
        } else if (d == c->count) {
            next = c->count + 1;
        } else {
            return -1;
        }
        break;
    }
    /* Round up so that the tick count at 't' really is 'next'. */
    int64_t t = c->count_load_time +
                (int64_t)muldiv64(next * NANOSECONDS_PER_SECOND + PIT_FREQ - 1, 1, PIT_FREQ);
    /* Rounding can land at or before now: keep time moving. */
    if (t <= now) {
        t = now + 1;
    }
    return t;
}

static void pit_irq_update(PITState *s, int64_t now)
{
    PITChannel *c = &s->ch[0];
    if (!c->irq_timer) {
        return;
    }
    if (s->irq_disabled) {
        timer_del(c->irq_timer);
        return;
    }
    int64_t expire = next_transition(c, now);
    irq_set(&s->irq, channel_out(c, now));
    c->next_transition_time = expire;
    if (expire >= 0) {
        timer_mod(c->irq_timer, expire);
    } else {
        timer_del(c->irq_timer);
    }
}

static void pit_irq_timer_cb(void *opaque)
{
    PITState *s = opaque;
    pit_irq_update(s, s->ch[0].next_transition_time);
}

static void pit_load_count(PITState *s, int n, uint32_t val)
{
    PITChannel *c = &s->ch[n];
    if (c->bcd) {
        val = from_bcd(val);
    }
    if (val == 0) {
        val = c->bcd ? 10000 : 0x10000;
    }
    c->count_load_time = clock_get_ns(CLOCK_VIRTUAL_NS);
    c->count = val;
    if (n == 0) {
        pit_irq_update(s, c->count_load_time);
    }
}

static void pit_latch_count(PITChannel *c)
{
    if (!c->count_latched) {
        c->latched_count = pit_get_count(c);
        c->count_latched = c->rw_mode;
    }
}

static void pit_write_control(PITState *s, uint8_t val)
{
    int n = val >> 6;
    if (n == 3) {                            /* read-back command */
        for (int i = 0; i < 3; i++) {
            PITChannel *c = &s->ch[i];
            if (!(val & (2 << i))) {
                continue;
            }
            if (!(val & 0x20)) {
                pit_latch_count(c);
            }
            if (!(val & 0x10) && !c->status_latched) {
                c->status = (channel_out(c, clock_get_ns(CLOCK_VIRTUAL_NS)) << 7) |
                            (c->rw_mode << 4) | (c->mode << 1) | c->bcd;
                c->status_latched = true;
            }
        }
        return;
    }
    PITChannel *c = &s->ch[n];
    int access = (val >> 4) & 3;
    if (access == 0) {
        pit_latch_count(c);
        return;
    }
    c->rw_mode = access;
    c->read_state = access;
    c->write_state = access;
    c->mode = (val >> 1) & 7;
    if (c->mode > 5) {
        c->mode -= 4;                        /* 6, 7 alias modes 2, 3 */
    }
    c->bcd = val & 1;
}

static void pit_ioport_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PITState *s = opaque;
    (void)size;
    addr &= 3;
    val &= 0xff;
    if (addr == 3) {
        pit_write_control(s, val);
        return;
    }
    PITChannel *c = &s->ch[addr];
    switch (c->write_state) {
    case RW_LSB:
        pit_load_count(s, addr, val);
        break;
    case RW_MSB:
        pit_load_count(s, addr, val << 8);
        break;
    case RW_WORD0:
        c->write_latch = val;
        c->write_state = RW_WORD1;
        break;
    default:
        pit_load_count(s, addr, c->write_latch | (val << 8));
        c->write_state = RW_WORD0;
        break;
    }
}

static uint64_t pit_ioport_read(void *opaque, uint64_t addr, unsigned size)
{
    PITState *s = opaque;
    (void)size;
    addr &= 3;
    if (addr == 3) {
        return 0xff;                         /* control word is write-only */
    }
    PITChannel *c = &s->ch[addr];
    uint32_t v;
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->count_latched) {
        switch (c->count_latched) {
        case RW_LSB:
            c->count_latched = 0;
            return c->latched_count & 0xff;
        case RW_MSB:
            c->count_latched = 0;
            return c->latched_count >> 8;
        default:                             /* word: LSB then MSB */
            c->count_latched = RW_MSB;
            return c->latched_count & 0xff;
        }
    }
    switch (c->read_state) {
    case RW_LSB:
        return pit_get_count(c) & 0xff;
    case RW_MSB:
        return pit_get_count(c) >> 8;
    case RW_WORD0:
        v = pit_get_count(c);
        c->read_state = RW_WORD1;
        return v & 0xff;
    default:
        v = pit_get_count(c);
        c->read_state = RW_WORD0;
        return v >> 8;
    }
}

static const MemoryRegionOps pit_ops = {
    .read = pit_ioport_read,
    .write = pit_ioport_write,
    .min_access = 1,
    .max_access = 1,
};

int pit_get_out(int channel)
{
    if (!the_pit) {
        return 0;
    }
    return channel_out(&the_pit->ch[channel], clock_get_ns(CLOCK_VIRTUAL_NS));
}

int pit_get_gate(int channel)
{
    return the_pit ? the_pit->ch[channel].gate : 0;
}

void pit_set_gate(int channel, int level)
{
    PITState *s = the_pit;
    if (!s) {
        return;
    }
    PITChannel *c = &s->ch[channel];
    switch (c->mode) {
    case 1:
    case 2:
    case 3:
    case 5:
        /* A rising gate (re)starts counting from the initial count. */
        if (c->gate < level) {
            c->count_load_time = clock_get_ns(CLOCK_VIRTUAL_NS);
            if (channel == 0) {
                pit_irq_update(s, c->count_load_time);
            }
        }
        break;
    default:
        /* Modes 0 and 4: gate low pauses counting (not modelled). */
        break;
    }
    c->gate = level;
}

void pit_set_irq_disabled(bool disabled)
{
    PITState *s = the_pit;
    if (!s) {
        return;
    }
    s->irq_disabled = disabled;
    if (disabled) {
        timer_del(s->ch[0].irq_timer);
        irq_lower(&s->irq);
    } else {
        pit_irq_update(s, clock_get_ns(CLOCK_VIRTUAL_NS));
    }
}

static bool pit_realize(DeviceState *dev, Error **errp)
{
    PITState *s = (PITState *)dev;
    if (the_pit) {
        error_setg(errp, "isa-pit: only one PIT is supported");
        return false;
    }
    if (s->iobase == UINT32_MAX) {
        s->iobase = 0x40;
    }
    s->irq = isa_get_irq(0);
    s->ch[0].irq_timer = timer_new(CLOCK_VIRTUAL_NS, pit_irq_timer_cb, s);
    mr_init_io(&s->io, "pit", &pit_ops, s, 4);
    isa_register_ioport(&s->parent, &s->io, s->iobase);
    the_pit = s;
    return true;
}

static void pit_reset(DeviceState *dev)
{
    PITState *s = (PITState *)dev;
    int64_t now = clock_get_ns(CLOCK_VIRTUAL_NS);
    for (int i = 0; i < 3; i++) {
        PITChannel *c = &s->ch[i];
        c->mode = 3;
        c->gate = i != 2;
        c->bcd = false;
        c->rw_mode = c->read_state = c->write_state = 0;
        c->count_latched = 0;
        c->status_latched = false;
        c->count_load_time = now;
        c->count = 0x10000;
    }
    /* As on QEMU, channel 0 free-runs in mode 3 until the guest programs it. */
    pit_irq_update(s, now);
}

static void pit_unrealize(DeviceState *dev)
{
    if (the_pit == (PITState *)dev) {
        timer_del(the_pit->ch[0].irq_timer);
        the_pit = NULL;
    }
}

static const Property pit_props[] = {
    DEFINE_PROP("iobase", PITState, iobase, uint32, "4294967295"),
    DEFINE_PROP_END,
};

static const DeviceClass pit_class = {
    .name = "isa-pit",
    .bus_type = "ISA",
    .parent = &isa_device_class,
    .instance_size = sizeof(PITState),
    .props = pit_props,
    .user_creatable = false,
    .realize = pit_realize,
    .reset = pit_reset,
    .unrealize = pit_unrealize,
};

MODULE_INIT(pit_register)
{
    device_class_register(&pit_class);
}
