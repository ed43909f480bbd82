/*
 * ioapic: the I/O APIC at 0xfec00000 with 24 redirection entries,
 * IOREGSEL/IOWIN plus the version-0x20 EOI register, edge and level
 * triggering with remote IRR cleared by the LAPICs' EOI broadcast, and
 * ExtINT entries that fetch the vector from the PIC.
 * Spec: Intel 82093AA I/O APIC datasheet; version 0x20 as QEMU reports.
 * Locking: BQL.
 */
#include <string.h>
#include "hw/intc.h"
#include "intc-internal.h"
#include "hw/qdev.h"
#include "system/memory.h"
#include "util/module.h"

#define IOAPIC_REG_ID    0x00
#define IOAPIC_REG_VER   0x01
#define IOAPIC_REG_ARB   0x02
#define IOAPIC_REG_REDTBL 0x10

#define RTE_VECTOR_MASK  0xffull
#define RTE_DM_SHIFT     8
#define RTE_DESTMODE     (1ull << 11)
#define RTE_DELIVS       (1ull << 12)
#define RTE_POLARITY     (1ull << 13)
#define RTE_REMOTE_IRR   (1ull << 14)
#define RTE_TRIGGER      (1ull << 15)
#define RTE_MASKED       (1ull << 16)
#define RTE_RO_BITS      (RTE_DELIVS | RTE_REMOTE_IRR)
#define RTE_DEST_SHIFT   56

#define DM_EXTINT 7

typedef struct IOAPICState {
    DeviceState qdev;
    uint8_t version;
    uint8_t id;
    uint8_t ioregsel;
    uint32_t irr;            /* pending requests */
    uint32_t level;          /* input pin levels (edge detection) */
    uint64_t ioredtbl[IOAPIC_NUM_PINS];
    MemoryRegion io;
} IOAPICState;

static IOAPICState *the_ioapic;

/* Send every pending, unmasked, not-in-service request to the LAPICs. */
static void ioapic_service(IOAPICState *s)
{
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        uint32_t mask = 1u << i;
        if (!(s->irr & mask)) {
            continue;
        }
        uint64_t e = s->ioredtbl[i];
        if (e & RTE_MASKED) {
            continue;
        }
        bool level = e & RTE_TRIGGER;
        if (level) {
            if (e & RTE_REMOTE_IRR) {
                continue;
            }
            s->ioredtbl[i] |= RTE_REMOTE_IRR;
        } else {
            s->irr &= ~mask;
        }
        uint8_t dm = (e >> RTE_DM_SHIFT) & 7;
        uint8_t vector = e & RTE_VECTOR_MASK;
        if (dm == DM_EXTINT) {
            vector = pic_read_irq();
        }
        apic_deliver_irq(e >> RTE_DEST_SHIFT, (e & RTE_DESTMODE) ? 1 : 0, dm,
                         vector, level);
    }
}

void ioapic_set_irq(int pin, int level)
{
    IOAPICState *s = the_ioapic;
    if (!s || pin < 0 || pin >= IOAPIC_NUM_PINS) {
        return;
    }
    uint32_t mask = 1u << pin;
    uint64_t e = s->ioredtbl[pin];
    bool was = s->level & mask;
    if (level) {
        s->level |= mask;
    } else {
        s->level &= ~mask;
    }
    if (e & RTE_TRIGGER) {
        if (level) {
            s->irr |= mask;
            if (!(e & RTE_REMOTE_IRR)) {
                ioapic_service(s);
            }
        } else {
            s->irr &= ~mask;
        }
    } else if (level && !was && !(e & RTE_MASKED)) {
        /* Edge: only rising edges count; masked pins ignore them (82093AA). */
        s->irr |= mask;
        ioapic_service(s);
    }
}

void ioapic_eoi_broadcast(int vector)
{
    IOAPICState *s = the_ioapic;
    if (!s) {
        return;
    }
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        uint64_t e = s->ioredtbl[i];
        if ((e & RTE_VECTOR_MASK) != (uint64_t)vector || !(e & RTE_REMOTE_IRR)) {
            continue;
        }
        s->ioredtbl[i] &= ~RTE_REMOTE_IRR;
        /* Level still asserted: deliver again. */
        if ((e & RTE_TRIGGER) && (s->level & (1u << i))) {
            s->irr |= 1u << i;
        }
    }
    ioapic_service(s);
}

static uint32_t ioapic_read_reg(IOAPICState *s)
{
    uint8_t idx = s->ioregsel;
    switch (idx) {
    case IOAPIC_REG_ID:
        return (uint32_t)s->id << 24;
    case IOAPIC_REG_ARB:
        return 0;
    case IOAPIC_REG_VER:
        return s->version | ((IOAPIC_NUM_PINS - 1) << 16);
    default:
        if (idx >= IOAPIC_REG_REDTBL && idx < IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
            int n = (idx - IOAPIC_REG_REDTBL) >> 1;
            return (idx & 1) ? s->ioredtbl[n] >> 32 : (uint32_t)s->ioredtbl[n];
        }
        return 0;
    }
}

static void ioapic_write_reg(IOAPICState *s, uint32_t val)
{
    uint8_t idx = s->ioregsel;
    if (idx == IOAPIC_REG_ID) {
        s->id = (val >> 24) & 0xf;
        return;
    }
    if (idx < IOAPIC_REG_REDTBL || idx >= IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        return;
    }
    int n = (idx - IOAPIC_REG_REDTBL) >> 1;
    uint64_t e = s->ioredtbl[n];
    uint64_t ro = e & RTE_RO_BITS;
    if (idx & 1) {
        e = (e & 0xffffffffull) | ((uint64_t)val << 32);
    } else {
        e = (e & ~0xffffffffull) | val;
    }
    e = (e & ~RTE_RO_BITS) | ro;
    if (!(e & RTE_TRIGGER)) {
        e &= ~RTE_REMOTE_IRR;   /* edge entries have no remote IRR */
    }
    s->ioredtbl[n] = e;
    /* A level pin that is still asserted becomes pending again. */
    if ((e & RTE_TRIGGER) && (s->level & (1u << n))) {
        s->irr |= 1u << n;
    }
    ioapic_service(s);
}

static uint64_t ioapic_mem_read(void *opaque, uint64_t addr, unsigned size)
{
    IOAPICState *s = opaque;
    (void)size;
    switch (addr & 0xff) {
    case 0x00:
        return s->ioregsel;
    case 0x10:
        return ioapic_read_reg(s);
    default:
        return 0;
    }
}

static void ioapic_mem_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    IOAPICState *s = opaque;
    (void)size;
    switch (addr & 0xff) {
    case 0x00:
        s->ioregsel = val;
        break;
    case 0x10:
        ioapic_write_reg(s, val);
        break;
    case 0x40:                  /* EOI register (version 0x20) */
        if (s->version >= 0x20) {
            ioapic_eoi_broadcast(val & 0xff);
        }
        break;
    }
}

static const MemoryRegionOps ioapic_ops = {
    .read = ioapic_mem_read,
    .write = ioapic_mem_write,
    .min_access = 4,
    .max_access = 4,
};

static bool ioapic_realize(DeviceState *dev, Error **errp)
{
    IOAPICState *s = (IOAPICState *)dev;
    if (the_ioapic) {
        error_setg(errp, "Only 1 ioapics allowed");
        return false;
    }
    if (s->version != 0x11 && s->version != 0x20) {
        error_setg(errp, "ioapic only supports version 0x11 or 0x20 (default: 0x20).");
        return false;
    }
    mr_init_io(&s->io, "ioapic", &ioapic_ops, s, 0x1000);
    mr_add_subregion(system_memory, IOAPIC_BASE, &s->io, 0);
    the_ioapic = s;
    return true;
}

static void ioapic_reset(DeviceState *dev)
{
    IOAPICState *s = (IOAPICState *)dev;
    s->id = 0;
    s->ioregsel = 0;
    s->irr = 0;
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        s->ioredtbl[i] = RTE_MASKED;
    }
}

static void ioapic_unrealize(DeviceState *dev)
{
    if (the_ioapic == (IOAPICState *)dev) {
        mr_del_subregion(system_memory, &the_ioapic->io);
        the_ioapic = NULL;
    }
}

static const Property ioapic_props[] = {
    DEFINE_PROP("version", IOAPICState, version, uint8, "32"),
    DEFINE_PROP_END,
};

static const DeviceClass ioapic_class = {
    .name = "ioapic",
    .bus_type = NULL,
    .instance_size = sizeof(IOAPICState),
    .props = ioapic_props,
    .user_creatable = false,
    .realize = ioapic_realize,
    .reset = ioapic_reset,
    .unrealize = ioapic_unrealize,
};

MODULE_INIT(ioapic_register)
{
    device_class_register(&ioapic_class);
}
