/*
 * isa-debug-exit: a write of value V to the port ends the process with
 * exit status (V << 1) | 1, so test payloads can report pass/fail.
 * Reads return 0. QEMU's isa-debug-exit.
 * Locking: BQL; the exit itself happens in the main loop.
 */
#include "hw/isa.h"
#include "system/runstate.h"
#include "util/module.h"

typedef struct DebugExitState {
    IsaDevice parent;
    uint32_t iobase;
    uint32_t iosize;
    MemoryRegion io;
} DebugExitState;

static void debug_exit_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)opaque;
    (void)addr;
    (void)size;
    qemu_system_exit_request((int)((val << 1) | 1));
}

static uint64_t debug_exit_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque;
    (void)addr;
    (void)size;
    return 0;
}

static const MemoryRegionOps debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .min_access = 1,
    .max_access = 4,
};

static bool debug_exit_realize(DeviceState *dev, Error **errp)
{
    DebugExitState *s = (DebugExitState *)dev;
    (void)errp;
    mr_init_io(&s->io, "isa-debug-exit", &debug_exit_ops, s, s->iosize);
    isa_register_ioport(&s->parent, &s->io, s->iobase);
    return true;
}

static const Property debug_exit_props[] = {
    DEFINE_PROP("iobase", DebugExitState, iobase, uint32, "1281"),
    DEFINE_PROP("iosize", DebugExitState, iosize, uint32, "2"),
    DEFINE_PROP_END,
};

static const DeviceClass debug_exit_class = {
    .name = "isa-debug-exit",
    .bus_type = "ISA",
    .category = "Misc devices",
    .parent = &isa_device_class,
    .instance_size = sizeof(DebugExitState),
    .props = debug_exit_props,
    .user_creatable = true,
    .realize = debug_exit_realize,
};

MODULE_INIT(debug_exit_register)
{
    device_class_register(&debug_exit_class);
}
