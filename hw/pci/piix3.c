/*
 * PIIX3 PCI-to-ISA bridge (8086:7000) at 00:01.0: PIRQ A-D routing to ISA
 * IRQs (config 0x60-0x63), the fast A20/reset port 0x92, and the reset
 * control register at 0xcf9.
 * Spec: Intel 82371SB (PIIX3) datasheet §2.2 (PIRQRC), §4.1.1 (RC 0xcf9).
 * Locking: BQL.
 */
#include "hw/machine.h"
#include "hw/pci.h"
#include "hw/pci/i440fx.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "util/module.h"

#define PIIX_PIRQRC 0x60

typedef struct PIIX3State {
    PCIDevice pci;
    int pirq_count[4];           /* asserted INTx sources per PIRQ line */
    int isa_level[16];           /* what we drive on each ISA IRQ */
    uint8_t port92;
    uint8_t rcr;
    MemoryRegion port92_io;
} PIIX3State;

static PIIX3State *piix3;

void x86_set_a20(bool enabled)
{
    for (int i = 0; i < n_cpus; i++) {
        cpus[i]->env.a20_mask = enabled ? ~0ull : ~(1ull << 20);
        cpu_interrupt(cpus[i], 0);      /* kick: the software CPU re-reads the mask */
    }
}

/* Recompute every ISA IRQ PCI drives, from the PIRQ routing and counts. */
static void piix3_update_irqs(PIIX3State *s)
{
    int want[16] = { 0 };
    for (int p = 0; p < 4; p++) {
        uint8_t r = s->pci.config[PIIX_PIRQRC + p];
        if (!(r & 0x80) && (r & 0x0f) < 16 && s->pirq_count[p]) {
            want[r & 0x0f] = 1;
        }
    }
    for (int irq = 0; irq < 16; irq++) {
        if (want[irq] != s->isa_level[irq]) {
            s->isa_level[irq] = want[irq];
            gsi_set_irq(current_machine, irq, want[irq]);
        }
    }
}

/* Swizzle: device in slot S asserting pin P (0 = INTA) drives PIRQ (S+P)&3. */
static void piix3_route_irq(PCIDevice *d, int pin, int level)
{
    PIIX3State *s = piix3;
    int pirq = (PCI_SLOT(d->devfn) + pin) & 3;
    s->pirq_count[pirq] += level ? 1 : -1;
    if (s->pirq_count[pirq] < 0) {
        s->pirq_count[pirq] = 0;
    }
    piix3_update_irqs(s);
}

static void piix3_config_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(d, addr, val, len);
    if (addr < PIIX_PIRQRC + 4 && addr + len > PIIX_PIRQRC) {
        piix3_update_irqs((PIIX3State *)d);
    }
}

void piix3_set_default_pirqs(PCIDevice *d)
{
    static const uint8_t irqs[4] = { 10, 10, 11, 11 };
    for (int i = 0; i < 4; i++) {
        d->config[PIIX_PIRQRC + i] = irqs[i];
    }
    piix3_update_irqs((PIIX3State *)d);
}

static uint64_t port92_read(void *opaque, uint64_t off, unsigned size)
{
    PIIX3State *s = opaque;
    return s->port92;
}

static void port92_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PIIX3State *s = opaque;
    uint8_t old = s->port92;
    s->port92 = val & ~1;
    if ((old ^ val) & 2) {
        x86_set_a20(val & 2);
    }
    if (val & 1) {
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

static const MemoryRegionOps port92_ops = {
    .read = port92_read, .write = port92_write, .min_access = 1, .max_access = 1,
};

static uint64_t rcr_read(void *opaque, uint64_t off, unsigned size)
{
    PIIX3State *s = opaque;
    return s->rcr;
}

static void rcr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PIIX3State *s = opaque;
    if (val & 4) {
        /* RST_CPU with SRST (bit 1) is a hard reset; both reset the machine */
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        return;
    }
    s->rcr = val & 2;
}

static const MemoryRegionOps rcr_ops = {
    .read = rcr_read, .write = rcr_write, .min_access = 1, .max_access = 1,
};

static void piix3_reset(DeviceState *dev)
{
    PIIX3State *s = (PIIX3State *)dev;
    for (int i = 0; i < 4; i++) {
        s->pci.config[PIIX_PIRQRC + i] = 0x80;
        s->pirq_count[i] = 0;
    }
    for (int i = 0; i < 16; i++) {
        if (s->isa_level[i]) {
            s->isa_level[i] = 0;
            gsi_set_irq(current_machine, i, 0);
        }
    }
    s->port92 = 0;
    s->rcr = 0;
    x86_set_a20(true);
}

static bool piix3_realize(DeviceState *dev, Error **errp)
{
    PIIX3State *s = (PIIX3State *)dev;
    PCIDevice *d = &s->pci;
    d->multifunction = true;
    pci_config_set_ids(d, 0x8086, 0x7000, 0x0601, 0x00, 0x00);
    pci_set_word(d->config + PCI_COMMAND, 0x0007);
    pci_set_word(d->config + PCI_STATUS, 0x0200);
    d->config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI_FUNCTION;
    for (int i = 0; i < 4; i++) {
        d->wmask[PIIX_PIRQRC + i] = 0x8f;
    }
    d->config_write = piix3_config_write;
    mr_init_io(&s->port92_io, "port92", &port92_ops, s, 1);
    mr_add_subregion(system_io, 0x92, &s->port92_io, 0);
    i440fx_set_rcr_handler(&rcr_ops, s);     /* 0xcf9 is decoded by the host bridge */
    piix3 = s;
    pci_bus_set_irq_router(piix3_route_irq);
    piix3_reset(dev);
    return true;
}

static const DeviceClass piix3_class = {
    .name = "PIIX3", .bus_type = "PCI", .desc = "ISA bridge", .parent = &pci_device_class,
    .instance_size = sizeof(PIIX3State), .realize = piix3_realize, .reset = piix3_reset,
};

MODULE_INIT(piix3_register)
{
    device_class_register(&piix3_class);
}

PCIDevice *piix3_create(Bus *bus, Error **errp)
{
    DeviceState *dev = dev_new("PIIX3", errp);
    if (!dev) {
        return NULL;
    }
    ((PCIDevice *)dev)->devfn = PCI_DEVFN(1, 0);
    ((PCIDevice *)dev)->multifunction = true;
    if (!dev_realize(dev, bus, errp)) {
        return NULL;
    }
    return (PCIDevice *)dev;
}
