/*
 * The ISA bus behind the PIIX3: the parent class of ISA devices and
 * I/O port registration in the 64 KiB I/O space.
 * Locking: BQL.
 */
#include "hw/isa.h"

const DeviceClass isa_device_class = {
    .name = "isa-device", .bus_type = "ISA", .instance_size = sizeof(IsaDevice),
};

void isa_register_ioport(IsaDevice *dev, MemoryRegion *mr, uint16_t port)
{
    (void)dev;
    mr_add_subregion(system_io, port, mr, 0);
}
