/*
 * hpet: High Precision Event Timer block at 0xfed00000 with a 64-bit main
 * counter at 100 MHz (period 10 ns, as QEMU), 3 comparators by default,
 * one-shot and periodic modes, 32-bit mode, edge/level interrupts routed
 * to GSIs (INT_ROUTE_CAP from hpet-intcap, IRQ2 on pc), FSB (MSI)
 * delivery when msi=on, and LegacyReplacementRoute: timer 0 on IRQ0
 * (IOAPIC pin 2), timer 1 on IRQ8, with the PIT and RTC silenced.
 * Spec: IA-PC HPET specification 1.0a. Locking: BQL.
 */
#include <string.h>
#include "hw/intc.h"
#include "hw/isa.h"
#include "hw/machine.h"
#include "system/timer.h"
#include "timer-internal.h"
#include "util/module.h"

#define HPET_BASE        0xfed00000ull
#define HPET_LEN         0x400
#define HPET_CLK_PERIOD  10000000ull        /* femtoseconds = 10 ns */
#define HPET_MAX_TIMERS  32

#define HPET_ID          0x000
#define HPET_PERIOD      0x004
#define HPET_CFG         0x010
#define HPET_STATUS      0x020
#define HPET_COUNTER     0x0f0

#define CFG_ENABLE       0x001
#define CFG_LEGACY       0x002

#define TN_LEVEL         (1ull << 1)
#define TN_ENABLE        (1ull << 2)
#define TN_PERIODIC      (1ull << 3)
#define TN_PERIODIC_CAP  (1ull << 4)
#define TN_SIZE_CAP      (1ull << 5)
#define TN_SETVAL        (1ull << 6)
#define TN_32BIT         (1ull << 8)
#define TN_INT_ROUTE_SHIFT 9
#define TN_INT_ROUTE_MASK  (0x1full << TN_INT_ROUTE_SHIFT)
#define TN_FSB_ENABLE    (1ull << 14)
#define TN_FSB_CAP       (1ull << 15)
#define TN_CFG_WRITE_MASK 0x7f4eull

struct HPETState;

typedef struct HPETTimer {
    struct HPETState *s;
    int tn;
    uint64_t config;
    uint64_t cmp;
    uint64_t fsb;            /* FSB route: data (low), address (high) */
    uint64_t period;
    Timer *timer;
} HPETTimer;

typedef struct HPETState {
    DeviceState qdev;
    uint8_t num_timers;
    bool msi;
    uint32_t intcap;
    bool offset_saved;

    uint64_t capability;
    uint64_t config;
    uint64_t isr;
    uint64_t counter;        /* main counter while halted */
    int64_t offset_ns;       /* counter ticks = (now + offset) / 10 while enabled */
    HPETTimer timers[HPET_MAX_TIMERS];
    MemoryRegion io;
} HPETState;

static HPETState *the_hpet;

static uint64_t ticks_to_ns(uint64_t t)
{
    return t * (HPET_CLK_PERIOD / 1000000);
}

static uint64_t ns_to_ticks(uint64_t ns)
{
    return ns / (HPET_CLK_PERIOD / 1000000);
}

static bool hpet_enabled(HPETState *s)
{
    return s->config & CFG_ENABLE;
}

static bool hpet_legacy(HPETState *s)
{
    return s->config & CFG_LEGACY;
}

static uint64_t hpet_get_ticks(HPETState *s)
{
    if (!hpet_enabled(s)) {
        return s->counter;
    }
    return ns_to_ticks(clock_get_ns(CLOCK_VIRTUAL_NS) + s->offset_ns);
}

static IrqLine hpet_gsi(int n)
{
    if (current_machine && current_machine->gsi[n].fn) {
        return current_machine->gsi[n];
    }
    return isa_get_irq(n);
}

static int timer_route(HPETTimer *t)
{
    if (hpet_legacy(t->s) && t->tn <= 1) {
        return t->tn == 0 ? 0 : 8;
    }
    return (t->config & TN_INT_ROUTE_MASK) >> TN_INT_ROUTE_SHIFT;
}

static void hpet_update_irq(HPETTimer *t, bool set)
{
    HPETState *s = t->s;
    uint64_t mask = 1ull << t->tn;
    int route = timer_route(t);
    IrqLine line = route < 24 ? hpet_gsi(route) : (IrqLine){ NULL, NULL, 0 };
    bool fsb = (t->config & TN_FSB_ENABLE) && !(hpet_legacy(s) && t->tn <= 1);

    if (!set || !(t->config & TN_ENABLE) || !hpet_enabled(s)) {
        s->isr &= ~mask;
        if (!fsb) {
            irq_lower(&line);
        }
        return;
    }
    if (fsb) {
        apic_deliver_msi(t->fsb >> 32, (uint32_t)t->fsb);
    } else if (t->config & TN_LEVEL) {
        s->isr |= mask;
        irq_raise(&line);
    } else {
        s->isr &= ~mask;
        irq_pulse(&line);
    }
}

/* Ticks from 'cur' until the comparator matches; 0 if already passed. */
static uint64_t hpet_diff(HPETTimer *t, uint64_t cur)
{
    if (t->config & TN_32BIT) {
        uint32_t d = (uint32_t)t->cmp - (uint32_t)cur;
        return (int32_t)d > 0 ? d : 0;
    }
    uint64_t d = t->cmp - cur;
    return (int64_t)d > 0 ? d : 0;
}

static void hpet_arm(HPETTimer *t)
{
    uint64_t cur = hpet_get_ticks(t->s);
    uint64_t diff = hpet_diff(t, cur);
    timer_mod(t->timer, clock_get_ns(CLOCK_VIRTUAL_NS) + ticks_to_ns(diff));
}

static void hpet_timer_cb(void *opaque)
{
    HPETTimer *t = opaque;
    HPETState *s = t->s;
    if (!hpet_enabled(s)) {
        return;
    }
    uint64_t cur = hpet_get_ticks(s);
    if ((t->config & TN_PERIODIC) && t->period) {
        /* Advance the comparator past now, then wait for the next match. */
        if (t->config & TN_32BIT) {
            while ((int32_t)((uint32_t)cur - (uint32_t)t->cmp) >= 0) {
                t->cmp = (uint32_t)(t->cmp + t->period);
            }
        } else {
            while ((int64_t)(cur - t->cmp) >= 0) {
                t->cmp += t->period;
            }
        }
        hpet_arm(t);
    }
    hpet_update_irq(t, true);
}

static void hpet_disarm(HPETTimer *t)
{
    timer_del(t->timer);
}

static uint64_t hpet_read64(HPETState *s, uint64_t addr)
{
    if (addr >= 0x100 && addr < 0x100 + 0x20ull * s->num_timers) {
        HPETTimer *t = &s->timers[(addr - 0x100) / 0x20];
        switch (addr & 0x18) {
        case 0x00:
            return t->config;
        case 0x08:
            return t->cmp;
        case 0x10:
            return t->fsb;
        default:
            return 0;
        }
    }
    switch (addr & ~7ull) {
    case HPET_ID:
        return s->capability;
    case HPET_CFG:
        return s->config;
    case HPET_STATUS:
        return s->isr;
    case HPET_COUNTER:
        return hpet_get_ticks(s);
    default:
        return 0;
    }
}

static uint64_t hpet_mem_read(void *opaque, uint64_t addr, unsigned size)
{
    HPETState *s = opaque;
    uint64_t v = hpet_read64(s, addr & ~7ull);
    unsigned shift = (addr & 4) * 8;
    v >>= shift;
    return size >= 8 ? v : v & ((1ull << (size * 8)) - 1);
}

static void hpet_write_cfg(HPETState *s, uint64_t val)
{
    uint64_t old = s->config;
    s->config = (old & ~3ull) | (val & 3);
    if (!(old & CFG_ENABLE) && (val & CFG_ENABLE)) {
        s->offset_ns = ticks_to_ns(s->counter) - clock_get_ns(CLOCK_VIRTUAL_NS);
        for (int i = 0; i < s->num_timers; i++) {
            if (s->timers[i].cmp != ~0ull) {
                hpet_arm(&s->timers[i]);
            }
        }
    } else if ((old & CFG_ENABLE) && !(val & CFG_ENABLE)) {
        s->counter = ns_to_ticks(clock_get_ns(CLOCK_VIRTUAL_NS) + s->offset_ns);
        for (int i = 0; i < s->num_timers; i++) {
            hpet_disarm(&s->timers[i]);
        }
    }
    if (!(old & CFG_LEGACY) && (val & CFG_LEGACY)) {
        pit_set_irq_disabled(true);
        rtc_set_irq_disabled(true);
        IrqLine l0 = hpet_gsi(0), l8 = hpet_gsi(8);
        irq_lower(&l0);
        irq_lower(&l8);
    } else if ((old & CFG_LEGACY) && !(val & CFG_LEGACY)) {
        IrqLine l0 = hpet_gsi(0), l8 = hpet_gsi(8);
        irq_lower(&l0);
        irq_lower(&l8);
        pit_set_irq_disabled(false);
        rtc_set_irq_disabled(false);
    }
}

static void hpet_write_timer(HPETState *s, HPETTimer *t, unsigned reg,
                             uint64_t val, uint64_t mask)
{
    switch (reg) {
    case 0x00: {                              /* configuration */
        /* Like QEMU, routes outside INT_ROUTE_CAP are stored as written
         * (guests consult the capability); they just raise nothing. */
        uint64_t wmask = TN_CFG_WRITE_MASK & mask;
        uint64_t nc = (t->config & ~wmask) | (val & wmask);
        bool was_level = t->config & TN_LEVEL;
        bool was_enabled = t->config & TN_ENABLE;
        t->config = nc;
        if (t->config & TN_32BIT) {
            t->cmp = (uint32_t)t->cmp;
            t->period = (uint32_t)t->period;
        }
        if (was_level && !(t->config & TN_LEVEL)) {
            /* Leaving level mode drops a pending level interrupt. */
            hpet_update_irq(t, false);
        } else if (!(t->config & TN_ENABLE)) {
            hpet_update_irq(t, false);
        }
        if (!was_enabled && (t->config & TN_ENABLE) && hpet_enabled(s)) {
            hpet_arm(t);
        } else if (was_enabled && !(t->config & TN_ENABLE)) {
            hpet_disarm(t);
        }
        break;
    }
    case 0x08: {                              /* comparator */
        if (t->config & TN_32BIT) {
            val = (uint32_t)val;
            mask &= 0xffffffffull;
        }
        if (!(t->config & TN_PERIODIC) || (t->config & TN_SETVAL)) {
            t->cmp = (t->cmp & ~mask) | (val & mask);
        }
        if (t->config & TN_PERIODIC) {
            t->period = (t->period & ~mask) | (val & mask);
        }
        t->config &= ~TN_SETVAL;
        if (hpet_enabled(s)) {
            hpet_arm(t);
        }
        break;
    }
    case 0x10:                                /* FSB route */
        t->fsb = (t->fsb & ~mask) | (val & mask);
        break;
    }
}

static void hpet_mem_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    HPETState *s = opaque;
    unsigned shift = (addr & 4) * 8;
    uint64_t mask = (size >= 8 ? ~0ull : ((1ull << (size * 8)) - 1)) << shift;
    val <<= shift;
    addr &= ~7ull;

    if (addr >= 0x100 && addr < 0x100 + 0x20ull * s->num_timers) {
        HPETTimer *t = &s->timers[(addr - 0x100) / 0x20];
        hpet_write_timer(s, t, addr & 0x18, val, mask);
        return;
    }
    switch (addr) {
    case HPET_CFG:
        if (mask & 0xffffffffull) {
            hpet_write_cfg(s, val);
        }
        break;
    case HPET_STATUS:
        /* Write 1 to clear level-triggered status. */
        for (int i = 0; i < s->num_timers; i++) {
            if ((val & mask & s->isr) & (1ull << i)) {
                hpet_update_irq(&s->timers[i], false);
            }
        }
        break;
    case HPET_COUNTER:
        /* Writable only while halted (spec 2.3.7). */
        if (!hpet_enabled(s)) {
            s->counter = (s->counter & ~mask) | (val & mask);
        }
        break;
    default:
        break;
    }
}

static const MemoryRegionOps hpet_ops = {
    .read = hpet_mem_read,
    .write = hpet_mem_write,
    .min_access = 4,
    .max_access = 8,
};

static bool hpet_realize(DeviceState *dev, Error **errp)
{
    HPETState *s = (HPETState *)dev;
    if (the_hpet) {
        error_setg(errp, "hpet: only one HPET is supported");
        return false;
    }
    if (s->num_timers < 3) {
        s->num_timers = 3;
    } else if (s->num_timers > HPET_MAX_TIMERS) {
        s->num_timers = HPET_MAX_TIMERS;
    }
    if (!s->intcap) {
        s->intcap = 0x4;          /* pc (i440FX): IRQ2 only, as QEMU sets it */
    }
    for (int i = 0; i < s->num_timers; i++) {
        HPETTimer *t = &s->timers[i];
        t->s = s;
        t->tn = i;
        t->timer = timer_new(CLOCK_VIRTUAL_NS, hpet_timer_cb, t);
    }
    s->capability = 0x8086a001ull | ((uint64_t)(s->num_timers - 1) << 8) |
                    (HPET_CLK_PERIOD << 32);
    mr_init_io(&s->io, "hpet", &hpet_ops, s, HPET_LEN);
    mr_add_subregion(system_memory, HPET_BASE, &s->io, 0);
    the_hpet = s;
    return true;
}

static void hpet_reset(DeviceState *dev)
{
    HPETState *s = (HPETState *)dev;
    for (int i = 0; i < s->num_timers; i++) {
        HPETTimer *t = &s->timers[i];
        hpet_disarm(t);
        t->cmp = ~0ull;
        t->config = TN_PERIODIC_CAP | TN_SIZE_CAP | ((uint64_t)s->intcap << 32);
        if (s->msi) {
            t->config |= TN_FSB_CAP;
        }
        t->period = 0;
        t->fsb = 0;
    }
    if (s->config & CFG_LEGACY) {
        pit_set_irq_disabled(false);
        rtc_set_irq_disabled(false);
    }
    s->counter = 0;
    s->offset_ns = 0;
    s->config = 0;
    s->isr = 0;
}

static const Property hpet_props[] = {
    DEFINE_PROP("timers", HPETState, num_timers, uint8, "3"),
    DEFINE_PROP("msi", HPETState, msi, bool, "false"),
    DEFINE_PROP("hpet-intcap", HPETState, intcap, uint32, "0"),
    { .name = "hpet-offset-saved", .type = &prop_bool,
      .offset = offsetof(HPETState, offset_saved), .defval = "true", .desc = "" },
    DEFINE_PROP_END,
};

static const DeviceClass hpet_class = {
    .name = "hpet",
    .bus_type = NULL,
    .instance_size = sizeof(HPETState),
    .props = hpet_props,
    .user_creatable = false,
    .realize = hpet_realize,
    .reset = hpet_reset,
};

MODULE_INIT(hpet_register)
{
    device_class_register(&hpet_class);
}
