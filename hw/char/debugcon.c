/*
 * isa-debugcon: Bochs/QEMU debug console port (0xe9 by default; SeaBIOS
 * uses 0x402). Each byte written goes to the chardev; a read returns the
 * "readback" value so guests can detect the port.
 * Spec: Bochs port 0xe9 hack, as QEMU's isa-debugcon behaves.
 * Locking: BQL.
 */
#include "chardev/char.h"
#include "hw/isa.h"
#include "util/module.h"

typedef struct DebugconState {
    IsaDevice parent;
    uint32_t iobase;
    uint32_t readback;
    Chardev *chr;
    CharFrontend fe;
    MemoryRegion io;
} DebugconState;

static void debugcon_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    DebugconState *s = opaque;
    uint8_t ch = val;
    (void)addr;
    (void)size;
    if (s->chr) {
        /* Like QEMU: blocking write so no debug output is lost. */
        chr_fe_write_all(&s->fe, &ch, 1);
    }
}

static uint64_t debugcon_read(void *opaque, uint64_t addr, unsigned size)
{
    DebugconState *s = opaque;
    (void)addr;
    (void)size;
    return s->readback;
}

static const MemoryRegionOps debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
    .min_access = 1,
    .max_access = 1,
};

static bool debugcon_realize(DeviceState *dev, Error **errp)
{
    DebugconState *s = (DebugconState *)dev;
    if (s->chr && !chr_fe_init(&s->fe, s->chr, errp)) {
        return false;
    }
    if (s->chr) {
        chr_fe_set_handlers(&s->fe, NULL, NULL, NULL, s);
    }
    mr_init_io(&s->io, "isa-debugcon", &debugcon_ops, s, 1);
    isa_register_ioport(&s->parent, &s->io, s->iobase);
    return true;
}

static const Property debugcon_props[] = {
    DEFINE_PROP("chardev", DebugconState, chr, chr, NULL),
    DEFINE_PROP("iobase", DebugconState, iobase, uint32, "233"),
    DEFINE_PROP("readback", DebugconState, readback, uint32, "233"),
    DEFINE_PROP_END,
};

static const DeviceClass debugcon_class = {
    .name = "isa-debugcon",
    .bus_type = "ISA",
    .category = "Misc devices",
    .parent = &isa_device_class,
    .instance_size = sizeof(DebugconState),
    .props = debugcon_props,
    .user_creatable = true,
    .realize = debugcon_realize,
};

MODULE_INIT(debugcon_register)
{
    device_class_register(&debugcon_class);
}
