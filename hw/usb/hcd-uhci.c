/*
 * piix3-usb-uhci: the PIIX3 USB 1.1 host controller (PCI 8086:7020,
 * function 00:01.2 with -usb / -machine usb=on, or -device as libvirt adds
 * it). Follows the Intel UHCI Design Guide rev 1.1 §2 (I/O registers:
 * USBCMD, USBSTS, USBINTR, FRNUM, FLBASEADD, SOFMOD, PORTSC1/2) and the
 * PIIX3 datasheet (SBRN 0x60, LEGSUP 0xc0).
 * kemu has no USB devices, so both root ports stay empty (CCS = 0) and no
 * transfer can reach a device: the frame counter runs from CLOCK_VIRTUAL
 * (1 ms frames) while Run/Stop is set, without walking the schedule.
 * Locking: BQL (I/O callbacks, reset).
 */
#include <string.h>
#include "hw/pci.h"
#include "system/timer.h"
#include "util/module.h"

#define UHCI_CMD_RS      (1 << 0)   /* run/stop */
#define UHCI_CMD_HCRESET (1 << 1)
#define UHCI_CMD_GRESET  (1 << 2)
#define UHCI_CMD_EGSM    (1 << 3)   /* enter global suspend */
#define UHCI_CMD_FGR     (1 << 4)   /* force global resume */
#define UHCI_STS_HCHALTED (1 << 5)
#define UHCI_STS_W1C     0x1f       /* USBINT, ERR, RD, HSE, HCPE */
#define UHCI_PORT_RSVD1  (1 << 7)   /* reads as 1 */
#define UHCI_PORT_RW     ((1 << 2) | (1 << 6) | (1 << 9) | (1 << 12))  /* PE, RD, PR, SUSP */
#define UHCI_PORT_W1C    ((1 << 1) | (1 << 3))                         /* CSC, PEDC */
#define UHCI_FRAME_NS    1000000    /* 1 ms */
#define UHCI_NUM_PORTS   2

typedef struct UHCIState {
    PCIDevice pci;
    MemoryRegion io;
    uint32_t bandwidth, maxframes;      /* properties (no effect without devices) */
    uint16_t cmd, status, intr;
    uint16_t frnum_base;                /* FRNUM when the count (re)started */
    int64_t frame_start_ns;             /* CLOCK_VIRTUAL at frnum_base; -1 = halted */
    uint32_t fl_base;
    uint8_t sof_timing;
    uint16_t portsc[UHCI_NUM_PORTS];
} UHCIState;

static uint16_t uhci_frnum(UHCIState *s)
{
    if (s->frame_start_ns < 0) {
        return s->frnum_base;
    }
    int64_t frames = (clock_get_ns(CLOCK_VIRTUAL_NS) - s->frame_start_ns) / UHCI_FRAME_NS;
    return (uint16_t)((s->frnum_base + frames) & 0x7ff);
}

static void uhci_set_running(UHCIState *s, bool run)
{
    if (run && s->frame_start_ns < 0) {
        s->frame_start_ns = clock_get_ns(CLOCK_VIRTUAL_NS);
        s->status &= ~UHCI_STS_HCHALTED;
    } else if (!run && s->frame_start_ns >= 0) {
        s->frnum_base = uhci_frnum(s);
        s->frame_start_ns = -1;
        s->status |= UHCI_STS_HCHALTED;
    }
}

static void uhci_hc_reset(UHCIState *s)
{
    s->cmd = 0;
    s->status = UHCI_STS_HCHALTED;
    s->intr = 0;
    s->frnum_base = 0;
    s->frame_start_ns = -1;
    s->fl_base = 0;
    s->sof_timing = 64;
    for (int i = 0; i < UHCI_NUM_PORTS; i++) {
        s->portsc[i] = UHCI_PORT_RSVD1;
    }
}

static uint64_t uhci_io_read(void *opaque, uint64_t addr, unsigned size)
{
    UHCIState *s = opaque;
    uint32_t v;
    switch (addr & ~1ull) {
    case 0x00: v = s->cmd; break;
    case 0x02: v = s->status; break;
    case 0x04: v = s->intr; break;
    case 0x06: v = uhci_frnum(s); break;
    case 0x08: v = s->fl_base & 0xffff; break;
    case 0x0a: v = s->fl_base >> 16; break;
    case 0x0c: v = s->sof_timing; break;
    case 0x10: case 0x12: v = s->portsc[(addr - 0x10) / 2]; break;
    default: v = 0xffff; break;          /* 0x14..0x1f: nothing decodes there */
    }
    if (size == 4 && (addr & ~1ull) == 0x08) {
        return s->fl_base;
    }
    if (addr & 1) {
        v >>= 8;
    }
    return size == 1 ? (v & 0xff) : (v & 0xffff);
}

static void uhci_write_word(UHCIState *s, uint64_t addr, uint16_t val)
{
    switch (addr) {
    case 0x00:
        if (val & (UHCI_CMD_GRESET | UHCI_CMD_HCRESET)) {
            uhci_hc_reset(s);
            return;                        /* both self-clear */
        }
        s->cmd = val & 0xff;
        uhci_set_running(s, (val & UHCI_CMD_RS) && !(val & UHCI_CMD_EGSM));
        break;
    case 0x02:
        s->status &= ~(val & UHCI_STS_W1C);
        break;
    case 0x04:
        s->intr = val & 0xf;
        break;
    case 0x06:
        if (s->frame_start_ns < 0) {       /* only writable while halted */
            s->frnum_base = val & 0x7ff;
        }
        break;
    case 0x08:
        s->fl_base = (s->fl_base & 0xffff0000u) | (val & 0xf000);
        break;
    case 0x0a:
        s->fl_base = (s->fl_base & 0xffff) | ((uint32_t)val << 16);
        break;
    case 0x0c:
        s->sof_timing = val & 0x7f;
        break;
    case 0x10:
    case 0x12: {
        uint16_t *p = &s->portsc[(addr - 0x10) / 2];
        /* an empty port cannot be enabled; reset and suspend bits latch */
        uint16_t rw = val & UHCI_PORT_RW & ~(1 << 2);
        *p = (uint16_t)((*p & ~UHCI_PORT_RW) | rw);
        *p &= ~(val & UHCI_PORT_W1C);
        *p |= UHCI_PORT_RSVD1;
        break;
    }
    default:
        break;
    }
}

static void uhci_io_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    UHCIState *s = opaque;
    if (size == 4 && addr == 0x08) {
        s->fl_base = (uint32_t)val & 0xfffff000u;
        return;
    }
    if (size == 1) {
        /* byte writes: merge into the word (SOFMOD is the byte register) */
        if (addr == 0x0c) {
            s->sof_timing = val & 0x7f;
            return;
        }
        uint16_t cur = (uint16_t)uhci_io_read(s, addr & ~1ull, 2);
        val = (addr & 1) ? (uint16_t)((cur & 0x00ff) | (val << 8)) : (uint16_t)((cur & 0xff00) | val);
        if ((addr & ~1ull) == 0x02) {
            val &= (addr & 1) ? 0xff00 : 0x00ff;   /* W1C: only the byte written clears */
        }
    }
    uhci_write_word(s, addr & ~1ull, (uint16_t)val);
}

static const MemoryRegionOps uhci_io_ops = {
    .read = uhci_io_read, .write = uhci_io_write, .min_access = 1, .max_access = 4,
    .unaligned = true,
};

static void uhci_reset(DeviceState *dev)
{
    UHCIState *s = (UHCIState *)dev;
    if (pci_device_class.reset) {
        pci_device_class.reset(dev);
    }
    uhci_hc_reset(s);
}

static bool uhci_realize(DeviceState *dev, Error **errp)
{
    UHCIState *s = (UHCIState *)dev;
    PCIDevice *d = &s->pci;
    if (pci_device_class.realize && !pci_device_class.realize(dev, errp)) {
        return false;
    }
    pci_config_set_ids(d, 0x8086, 0x7020, 0x0c03, 0x01, 0x00);
    d->config[PCI_INTERRUPT_PIN] = 0x04;        /* INTD */
    d->config[0x60] = 0x10;                      /* SBRN: USB 1.0 */
    pci_set_word(d->config + 0xc0, 0x2000);      /* LEGSUP: PIRQD enabled */
    mr_init_io(&s->io, "uhci", &uhci_io_ops, s, 0x20);
    pci_register_bar(d, 4, PCI_BASE_ADDRESS_SPACE_IO, &s->io);
    uhci_hc_reset(s);
    return true;
}

static const Property uhci_props[] = {
    DEFINE_PROP("bandwidth", UHCIState, bandwidth, uint32, "1280"),
    DEFINE_PROP("maxframes", UHCIState, maxframes, uint32, "128"),
    DEFINE_PROP_END,
};

static const DeviceClass uhci_class = {
    .name = "piix3-usb-uhci",
    .bus_type = "PCI",
    .category = "USB devices",
    .parent = &pci_device_class,
    .instance_size = sizeof(UHCIState),
    .props = uhci_props,
    .user_creatable = true,
    .realize = uhci_realize,
    .reset = uhci_reset,
};

MODULE_INIT(uhci_register)
{
    device_class_register(&uhci_class);
}
