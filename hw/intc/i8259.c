/*
 * isa-i8259: one 8259A programmable interrupt controller. The PC has a
 * master at 0x20 (ELCR 0x4d0) and a slave at 0xa0 (ELCR 0x4d1) cascaded on
 * the master's IR2. ICW1-4, OCW1-3, auto-EOI, rotation, special mask,
 * special fully nested mode, poll, edge/level (ELCR or ICW1.LTIM), spurious
 * IRQ 7/15. Spec: Intel 8259A datasheet; PIIX3 datasheet for the ELCR.
 * Locking: BQL.
 */
#include <string.h>
#include "hw/intc.h"
#include "intc-internal.h"
#include "hw/isa.h"
#include "system/main-loop.h"
#include "util/module.h"

typedef struct PICState {
    IsaDevice parent;
    uint32_t iobase;
    uint32_t elcr_addr;
    uint8_t elcr_mask;
    bool master;

    uint8_t last_irr;        /* input levels, for edge detection */
    uint8_t irr, imr, isr;
    uint8_t priority_add;    /* highest priority IR = priority_add */
    uint8_t irq_base;
    uint8_t read_reg_select; /* 0: IRR, 1: ISR */
    bool poll;
    bool special_mask;
    uint8_t init_state;      /* 0 ready, 1 expect ICW2, 2 ICW3, 3 ICW4 */
    bool auto_eoi;
    bool rotate_on_auto_eoi;
    bool special_fully_nested;
    bool init4;
    bool single_mode;
    bool ltim;
    uint8_t elcr;
    bool out;                /* INT output level */

    MemoryRegion io, elcr_io;
} PICState;

static PICState *pic_master, *pic_slave;

/* Priority (0 = highest) of the highest bit in mask, 8 if none. */
static int get_priority(PICState *s, uint8_t mask)
{
    if (!mask) {
        return 8;
    }
    int p = 0;
    while (!(mask & (1 << ((p + s->priority_add) & 7)))) {
        p++;
    }
    return p;
}

/* The IR line the chip would present now, or -1. */
static int pic_get_irq(PICState *s)
{
    int prio = get_priority(s, s->irr & ~s->imr);
    if (prio == 8) {
        return -1;
    }
    uint8_t mask = s->isr;
    if (s->special_mask) {
        mask &= ~s->imr;
    }
    if (s->special_fully_nested && s->master) {
        mask &= ~(1 << 2);   /* let higher slave requests nest */
    }
    int cur = get_priority(s, mask);
    if (prio < cur) {
        return (prio + s->priority_add) & 7;
    }
    return -1;
}

static void pic_set_input(PICState *s, int irq, int level);

static void pic_update(PICState *s)
{
    bool out = pic_get_irq(s) >= 0;
    if (out == s->out) {
        return;
    }
    s->out = out;
    if (!s->master) {
        if (pic_master) {
            pic_set_input(pic_master, 2, out);
        }
    } else {
        apic_pic_intr_changed(out);
    }
}

static bool is_level(PICState *s, int irq)
{
    return s->ltim || (s->elcr & (1 << irq));
}

static void pic_set_input(PICState *s, int irq, int level)
{
    uint8_t mask = 1 << irq;
    if (is_level(s, irq)) {
        if (level) {
            s->irr |= mask;
            s->last_irr |= mask;
        } else {
            s->irr &= ~mask;
            s->last_irr &= ~mask;
        }
    } else {
        if (level) {
            if (!(s->last_irr & mask)) {
                s->irr |= mask;
            }
            s->last_irr |= mask;
        } else {
            s->last_irr &= ~mask;
        }
    }
    pic_update(s);
}

/* Interrupt acknowledge for IR 'irq' on one chip. */
static void pic_intack(PICState *s, int irq)
{
    if (s->auto_eoi) {
        if (s->rotate_on_auto_eoi) {
            s->priority_add = (irq + 1) & 7;
        }
    } else {
        s->isr |= 1 << irq;
    }
    /* Edge requests are consumed; level requests stay while asserted. */
    if (!is_level(s, irq)) {
        s->irr &= ~(1 << irq);
    }
    pic_update(s);
}

void pic_set_irq(int irq, int level)
{
    if (irq < 8) {
        if (pic_master) {
            pic_set_input(pic_master, irq, level);
        }
    } else if (irq < 16) {
        if (pic_slave) {
            pic_set_input(pic_slave, irq - 8, level);
        }
    }
}

bool pic_intr_level(void)
{
    return pic_master && pic_master->out;
}

int pic_read_irq(void)
{
    PICState *m = pic_master, *sl = pic_slave;
    if (!m) {
        return -1;
    }
    int irq = pic_get_irq(m);
    int intno;
    if (irq >= 0) {
        if (irq == 2 && sl) {
            int irq2 = pic_get_irq(sl);
            if (irq2 >= 0) {
                pic_intack(sl, irq2);
            } else {
                irq2 = 7;    /* spurious IRQ 15 */
            }
            intno = sl->irq_base + irq2;
        } else {
            intno = m->irq_base + irq;
        }
        pic_intack(m, irq);
    } else {
        intno = m->irq_base + 7;   /* spurious IRQ 7 */
    }
    return intno;
}

/* hw/intc.h entry points; the caller may not hold the BQL. */
int pic_get_interrupt(void)
{
    bool taken = !bql_locked();
    if (taken) {
        bql_lock();
    }
    int v = pic_read_irq();
    if (taken) {
        bql_unlock();
    }
    return v;
}

bool pic_has_interrupt(void)
{
    return pic_intr_level();
}

/* ICW1 (and power-on) state; keeps the ELCR and asserted level inputs. */
static void pic_init_reset(PICState *s)
{
    s->last_irr = 0;
    s->irr &= s->elcr;
    s->imr = 0;
    s->isr = 0;
    s->priority_add = 0;
    s->irq_base = 0;
    s->read_reg_select = 0;
    s->poll = false;
    s->special_mask = false;
    s->init_state = 0;
    s->auto_eoi = false;
    s->rotate_on_auto_eoi = false;
    s->special_fully_nested = false;
    s->init4 = false;
    s->single_mode = false;
    pic_update(s);
}

static void pic_eoi(PICState *s, int irq, bool rotate)
{
    s->isr &= ~(1 << irq);
    if (rotate) {
        s->priority_add = (irq + 1) & 7;
    }
    pic_update(s);
}

static void pic_write_cmd(PICState *s, uint8_t val)
{
    if (val & 0x10) {                       /* ICW1 */
        pic_init_reset(s);
        s->init_state = 1;
        s->init4 = val & 1;
        s->single_mode = val & 2;
        s->ltim = val & 8;
        pic_update(s);
        return;
    }
    if (val & 0x08) {                       /* OCW3 */
        if (val & 0x04) {
            s->poll = true;
        }
        if (val & 0x02) {
            s->read_reg_select = val & 1;
        }
        if (val & 0x40) {
            s->special_mask = (val >> 5) & 1;
        }
        pic_update(s);
        return;
    }
    int cmd = val >> 5;                      /* OCW2 */
    int prio, irq;
    switch (cmd) {
    case 0:
    case 4:
        s->rotate_on_auto_eoi = cmd >> 2;
        break;
    case 1:                                  /* non-specific EOI */
    case 5:                                  /* rotate on non-specific EOI */
        prio = get_priority(s, s->isr);
        if (prio != 8) {
            pic_eoi(s, (prio + s->priority_add) & 7, cmd == 5);
        }
        break;
    case 3:                                  /* specific EOI */
        pic_eoi(s, val & 7, false);
        break;
    case 6:                                  /* set priority */
        s->priority_add = (val + 1) & 7;
        pic_update(s);
        break;
    case 7:                                  /* rotate on specific EOI */
        irq = val & 7;
        pic_eoi(s, irq, true);
        break;
    default:                                 /* 2: no operation */
        break;
    }
}

static void pic_write_data(PICState *s, uint8_t val)
{
    switch (s->init_state) {
    case 0:                                  /* OCW1 */
        s->imr = val;
        pic_update(s);
        break;
    case 1:                                  /* ICW2 */
        s->irq_base = val & 0xf8;
        s->init_state = s->single_mode ? (s->init4 ? 3 : 0) : 2;
        break;
    case 2:                                  /* ICW3 */
        s->init_state = s->init4 ? 3 : 0;
        break;
    case 3:                                  /* ICW4 */
        s->special_fully_nested = (val >> 4) & 1;
        s->auto_eoi = (val >> 1) & 1;
        s->init_state = 0;
        break;
    }
}

static void pic_ioport_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)size;
    if (addr & 1) {
        pic_write_data(opaque, val);
    } else {
        pic_write_cmd(opaque, val);
    }
}

/* Poll command: acknowledge and return 0x80 | level, or 0. */
static uint8_t pic_poll_read(PICState *s)
{
    int irq = pic_get_irq(s);
    if (irq < 0) {
        return 0;
    }
    pic_intack(s, irq);
    return 0x80 | irq;
}

static uint64_t pic_ioport_read(void *opaque, uint64_t addr, unsigned size)
{
    PICState *s = opaque;
    (void)size;
    if (s->poll) {
        s->poll = false;
        return pic_poll_read(s);
    }
    if (addr & 1) {
        return s->imr;
    }
    return s->read_reg_select ? s->isr : s->irr;
}

static const MemoryRegionOps pic_ops = {
    .read = pic_ioport_read,
    .write = pic_ioport_write,
    .min_access = 1,
    .max_access = 1,
};

static uint64_t elcr_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)addr;
    (void)size;
    return ((PICState *)opaque)->elcr;
}

static void elcr_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PICState *s = opaque;
    (void)addr;
    (void)size;
    s->elcr = val & s->elcr_mask;
}

static const MemoryRegionOps elcr_ops = {
    .read = elcr_read,
    .write = elcr_write,
    .min_access = 1,
    .max_access = 1,
};

static bool pic_realize(DeviceState *dev, Error **errp)
{
    PICState *s = (PICState *)dev;
    if (s->iobase == UINT32_MAX) {
        s->iobase = s->master ? 0x20 : 0xa0;
    }
    if (s->elcr_addr == UINT32_MAX) {
        s->elcr_addr = s->master ? 0x4d0 : 0x4d1;
    }
    if ((s->master && pic_master) || (!s->master && pic_slave)) {
        error_setg(errp, "isa-i8259: %s PIC already exists", s->master ? "master" : "slave");
        return false;
    }
    mr_init_io(&s->io, "pic", &pic_ops, s, 2);
    isa_register_ioport(&s->parent, &s->io, s->iobase);
    mr_init_io(&s->elcr_io, "elcr", &elcr_ops, s, 1);
    isa_register_ioport(&s->parent, &s->elcr_io, s->elcr_addr);
    if (s->master) {
        pic_master = s;
    } else {
        pic_slave = s;
    }
    return true;
}

static void pic_reset(DeviceState *dev)
{
    PICState *s = (PICState *)dev;
    s->elcr = 0;
    s->ltim = false;
    pic_init_reset(s);
}

static void pic_unrealize(DeviceState *dev)
{
    if (pic_master == (PICState *)dev) {
        pic_master = NULL;
    }
    if (pic_slave == (PICState *)dev) {
        pic_slave = NULL;
    }
}

static const Property pic_props[] = {
    DEFINE_PROP("iobase", PICState, iobase, uint32, "4294967295"),
    DEFINE_PROP("elcr_addr", PICState, elcr_addr, uint32, "4294967295"),
    DEFINE_PROP("elcr_mask", PICState, elcr_mask, uint8, "255"),
    DEFINE_PROP("master", PICState, master, bool, "false"),
    DEFINE_PROP_END,
};

static const DeviceClass pic_class = {
    .name = "isa-i8259",
    .bus_type = "ISA",
    .parent = &isa_device_class,
    .instance_size = sizeof(PICState),
    .props = pic_props,
    .user_creatable = false,
    .realize = pic_realize,
    .reset = pic_reset,
    .unrealize = pic_unrealize,
};

MODULE_INIT(pic_register)
{
    device_class_register(&pic_class);
}
