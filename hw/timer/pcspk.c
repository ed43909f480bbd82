/*
 * isa-pcspk: port 0x61 (system control port B) as the PC speaker device
 * has it: bit 0 drives PIT channel 2's gate, bit 1 the speaker data
 * enable; reads return those bits, the refresh-clock toggle in bit 4 and
 * channel 2's OUT in bit 5. No audio is produced.
 * Spec: IBM PC/AT technical reference (port 61h); Intel 8254 datasheet.
 * Locking: BQL.
 */
#include "hw/isa.h"
#include "timer-internal.h"
#include "util/module.h"

typedef struct PCSpkState {
    IsaDevice parent;
    uint32_t iobase;
    char *audiodev;
    bool migrate;
    uint8_t data_on;
    uint8_t refresh;
    MemoryRegion io;
} PCSpkState;

static uint64_t pcspk_read(void *opaque, uint64_t addr, unsigned size)
{
    PCSpkState *s = opaque;
    (void)addr;
    (void)size;
    s->refresh ^= 1 << 4;          /* DRAM refresh request toggles */
    return pit_get_gate(2) | (s->data_on << 1) | s->refresh | (pit_get_out(2) << 5);
}

static void pcspk_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PCSpkState *s = opaque;
    (void)addr;
    (void)size;
    s->data_on = (val >> 1) & 1;
    pit_set_gate(2, val & 1);
}

static const MemoryRegionOps pcspk_ops = {
    .read = pcspk_read,
    .write = pcspk_write,
    .min_access = 1,
    .max_access = 1,
};

static bool pcspk_realize(DeviceState *dev, Error **errp)
{
    PCSpkState *s = (PCSpkState *)dev;
    (void)errp;
    mr_init_io(&s->io, "pcspk", &pcspk_ops, s, 1);
    isa_register_ioport(&s->parent, &s->io, s->iobase);
    return true;
}

static void pcspk_reset(DeviceState *dev)
{
    PCSpkState *s = (PCSpkState *)dev;
    s->data_on = 0;
    s->refresh = 0;
}

static const Property pcspk_props[] = {
    DEFINE_PROP("iobase", PCSpkState, iobase, uint32, "97"),
    { .name = "audiodev", .type = &prop_str, .offset = offsetof(PCSpkState, audiodev),
      .desc = "ID of an audiodev to use as a backend" },
    { .name = "migrate", .type = &prop_bool,
      .offset = offsetof(PCSpkState, migrate), .defval = "true", .desc = "" },
    DEFINE_PROP_END,
};

static const DeviceClass pcspk_class = {
    .name = "isa-pcspk",
    .bus_type = "ISA",
    .parent = &isa_device_class,
    .instance_size = sizeof(PCSpkState),
    .props = pcspk_props,
    .user_creatable = false,
    .realize = pcspk_realize,
    .reset = pcspk_reset,
};

MODULE_INIT(pcspk_register)
{
    device_class_register(&pcspk_class);
}
