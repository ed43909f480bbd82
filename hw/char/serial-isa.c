/*
 * isa-serial: a 16550A (serial.c) at a COM port address. Without
 * properties the Nth instance becomes COMN+1: 0x3f8/IRQ4, 0x2f8/IRQ3,
 * 0x3e8/IRQ4, 0x2e8/IRQ3, as on the PC and in QEMU.
 * Spec: PC/AT COM port conventions; PC16550D datasheet for the UART.
 * Locking: BQL.
 */
#include "serial.h"
#include "hw/isa.h"
#include "hw/machine.h"
#include "util/module.h"

#define MAX_ISA_SERIAL_PORTS 4

typedef struct ISASerial {
    IsaDevice parent;
    uint32_t index, iobase, irq;
    uint32_t baudbase;
    bool wakeup;
    Chardev *chr;
    SerialState state;
} ISASerial;

static const uint16_t isa_serial_io[MAX_ISA_SERIAL_PORTS] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const uint8_t isa_serial_irq[MAX_ISA_SERIAL_PORTS] = { 4, 3, 4, 3 };
static uint32_t next_index;

static bool isa_serial_realize(DeviceState *dev, Error **errp)
{
    ISASerial *d = (ISASerial *)dev;

    if (d->index == UINT32_MAX) {
        d->index = next_index;
    }
    if (d->index >= MAX_ISA_SERIAL_PORTS) {
        error_setg(errp, "Max. supported number of ISA serial ports is %d.",
                   MAX_ISA_SERIAL_PORTS);
        return false;
    }
    if (d->iobase == UINT32_MAX) {
        d->iobase = isa_serial_io[d->index];
    }
    if (d->irq == UINT32_MAX) {
        d->irq = isa_serial_irq[d->index];
    }
    if (d->irq >= 16) {
        error_setg(errp, "Maximum value for \"irq\" is: 15");
        return false;
    }
    next_index = d->index + 1 > next_index ? d->index + 1 : next_index;

    SerialState *s = &d->state;
    s->baudbase = d->baudbase;
    s->irq = isa_get_irq(d->irq);
    if (!serial_realize_core(s, d->chr, errp)) {
        return false;
    }
    mr_init_io(&s->io, "serial", &serial_io_ops, s, 8);
    isa_register_ioport(&d->parent, &s->io, d->iobase);
    return true;
}

static void isa_serial_reset(DeviceState *dev)
{
    serial_reset(&((ISASerial *)dev)->state);
}

static const Property isa_serial_props[] = {
    DEFINE_PROP("index", ISASerial, index, uint32, "4294967295"),
    DEFINE_PROP("iobase", ISASerial, iobase, uint32, "4294967295"),
    DEFINE_PROP("irq", ISASerial, irq, uint32, "4294967295"),
    DEFINE_PROP("baudbase", ISASerial, baudbase, uint32, "115200"),
    /* QEMU prints no "on/off" for this bool */
    { .name = "wakeup", .type = &prop_bool, .offset = offsetof(ISASerial, wakeup),
      .defval = "false", .desc = "" },
    DEFINE_PROP("chardev", ISASerial, chr, chr, NULL),
    DEFINE_PROP_END,
};

static const DeviceClass isa_serial_class = {
    .name = "isa-serial",
    .bus_type = "ISA",
    .desc = NULL,
    .category = "Input devices",
    .parent = &isa_device_class,
    .instance_size = sizeof(ISASerial),
    .props = isa_serial_props,
    .user_creatable = true,
    .realize = isa_serial_realize,
    .reset = isa_serial_reset,
};

DeviceState *isa_serial_create(int index, Chardev *chr, Error **errp)
{
    DeviceState *dev = dev_new("isa-serial", errp);
    if (!dev) {
        return NULL;
    }
    ISASerial *d = (ISASerial *)dev;
    d->index = index;
    d->chr = chr;
    if (!dev_realize(dev, NULL, errp)) {
        return NULL;
    }
    return dev;
}

void serial_hds_isa_init(Chardev **hds, int n)
{
    for (int i = 0; i < n && i < MAX_ISA_SERIAL_PORTS; i++) {
        if (hds[i]) {
            isa_serial_create(i, hds[i], &error_fatal);
        }
    }
}

MODULE_INIT(isa_serial_register)
{
    device_class_register(&isa_serial_class);
}
