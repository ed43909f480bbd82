/*
 * Userspace irqchip assembly for the software CPU (and KVM with
 * kernel-irqchip=off): creates the cascaded isa-i8259 pair, the ioapic and
 * one LAPIC per vCPU, and fans GSIs out to them: ISA IRQs 0-15 go to both
 * the PIC and the IOAPIC (IRQ0 to IOAPIC pin 2, the MADT override as in
 * QEMU), GSIs 16-23 to the IOAPIC only.
 * Spec: ACPI MADT interrupt source override; PC/AT interrupt wiring.
 * Locking: BQL.
 */
#include "hw/intc.h"
#include "intc-internal.h"
#include "hw/machine.h"
#include "hw/qdev.h"
#include "system/cpus.h"

void userspace_irqchip_set_gsi(int gsi, int level)
{
    if (gsi < 0 || gsi >= IOAPIC_NUM_PINS) {
        return;
    }
    if (gsi < 16) {
        pic_set_irq(gsi, level);
    }
    ioapic_set_irq(gsi == 0 ? 2 : gsi, level);
}

static DeviceState *create(const char *driver, const char *const *props, Error **errp)
{
    DeviceState *dev = dev_new(driver, errp);
    if (!dev) {
        return NULL;
    }
    for (int i = 0; props && props[i]; i += 2) {
        if (!dev_set_prop(dev, props[i], props[i + 1], errp)) {
            return NULL;
        }
    }
    if (!dev_realize(dev, NULL, errp)) {
        return NULL;
    }
    return dev;
}

static void apics_reset(void *opaque)
{
    (void)opaque;
    for (int i = 0; i < n_cpus; i++) {
        apic_reset(cpus[i]);
    }
}

bool userspace_irqchip_init(Error **errp)
{
    static const char *const master[] = {
        "master", "on", "iobase", "0x20", "elcr_addr", "0x4d0", "elcr_mask", "0xf8", NULL
    };
    static const char *const slave[] = {
        "master", "off", "iobase", "0xa0", "elcr_addr", "0x4d1", "elcr_mask", "0xde", NULL
    };
    if (!create("isa-i8259", master, errp) || !create("isa-i8259", slave, errp) ||
        !create("ioapic", NULL, errp)) {
        return false;
    }
    for (int i = 0; i < n_cpus; i++) {
        if (!cpus[i]->apic && !apic_cpu_init(cpus[i], errp)) {
            return false;
        }
    }
    machine_register_reset(apics_reset, NULL);
    return true;
}
