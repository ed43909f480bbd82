/*
 * PCI core: the PCI device parent class (addr, multifunction, romfile),
 * config space with write masks, BAR sizing and mapping on COMMAND/BAR
 * writes, INTx through the bus's IRQ router, MSI, bus-master DMA.
 * Spec: PCI Local Bus 3.0 §6 (configuration space), §6.8 (MSI).
 * Locking: BQL.
 */
#include <string.h>
#include "hw/intc.h"
#include "hw/machine.h"
#include "hw/pci.h"
#include "system/cpus.h"
#include "util/cutils.h"

/* Bus-level hooks the host bridge installs (one PCI bus on the PC). */
static void (*pci_route_irq)(PCIDevice *d, int pin, int level);

void pci_bus_set_irq_router(void (*fn)(PCIDevice *d, int pin, int level))
{
    pci_route_irq = fn;
}

static bool pci_bus_plug(Bus *bus, DeviceState *dev, Error **errp)
{
    PCIDevice *d = (PCIDevice *)dev;
    if (d->devfn < 0) {
        for (int slot = 0; slot < 32; slot++) {
            if (!pci_find_device(bus, PCI_DEVFN(slot, 0))) {
                d->devfn = PCI_DEVFN(slot, 0);
                return true;
            }
        }
        error_setg(errp, "PCI: no slot/function available for %s, all in use or reserved",
                   dev->cls->name);
        return false;
    }
    PCIDevice *o = pci_find_device(bus, d->devfn);
    if (o) {
        error_setg(errp, "PCI: slot %d function %d not available for %s, in use by %s,id=%s",
                   PCI_SLOT(d->devfn), PCI_FUNC(d->devfn), dev->cls->name, o->qdev.cls->name,
                   o->qdev.id ? o->qdev.id : "");
        return false;
    }
    return true;
}

Bus *pci_bus_new(DeviceState *host, const char *name)
{
    Bus *b = bus_new("PCI", name, host);
    b->plug = pci_bus_plug;
    return b;
}

PCIDevice *pci_find_device(Bus *bus, int devfn)
{
    for (guint i = 0; bus && i < bus->children->len; i++) {
        PCIDevice *d = g_ptr_array_index(bus->children, i);
        if (d->devfn == devfn) {
            return d;
        }
    }
    return NULL;
}

static const Property pci_props[] = {
    DEFINE_PROP("addr", PCIDevice, devfn, pci_devfn, "-1"),
    DEFINE_PROP("multifunction", PCIDevice, multifunction, bool, "false"),
    DEFINE_PROP("romfile", PCIDevice, romfile, str, NULL),
    DEFINE_PROP_END,
};

const DeviceClass pci_device_class = {
    .name = "pci-device", .bus_type = "PCI", .instance_size = sizeof(PCIDevice), .props = pci_props,
};

void pci_config_set_ids(PCIDevice *d, uint16_t vendor, uint16_t device, uint16_t class_code,
                        uint8_t revision, uint8_t prog_if)
{
    pci_set_word(d->config + PCI_VENDOR_ID, vendor);
    pci_set_word(d->config + PCI_DEVICE_ID, device);
    pci_set_word(d->config + PCI_CLASS_DEVICE, class_code);
    d->config[PCI_REVISION_ID] = revision;
    d->config[PCI_CLASS_PROG] = prog_if;
    /* QEMU's default subsystem IDs (Red Hat, QEMU); SeaBIOS detects
     * QEMU by them on the host bridge */
    pci_set_word(d->config + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    pci_set_word(d->config + PCI_SUBSYSTEM_ID, 0x1100);
    /* COMMAND: IO, MEM, MASTER, SERR, INTX_DISABLE writable */
    pci_set_word(d->wmask + PCI_COMMAND, 0x0547);
    d->w1cmask[PCI_STATUS + 1] = 0xf9;          /* error bits are write-1-to-clear */
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    d->wmask[0x0c] = 0xff;                       /* cache line size */
    if (d->multifunction) {
        d->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI_FUNCTION;
    }
}

void pci_register_bar(PCIDevice *d, int bar, uint8_t type, MemoryRegion *mr)
{
    g_assert(bar < PCI_NUM_BARS && mr->size && !(mr->size & (mr->size - 1)));
    PCIBar *b = &d->bars[bar];
    b->mr = mr;
    b->size = mr->size;
    b->type = type;
    b->addr = PCI_BAR_UNMAPPED;
    uint32_t off = PCI_BASE_ADDRESS_0 + bar * 4;
    uint64_t wmask = ~(b->size - 1);
    if (type & PCI_BASE_ADDRESS_SPACE_IO) {
        wmask &= 0xfffffffcu;
    } else {
        wmask &= ~0xfull;
    }
    pci_set_long(d->config + off, type);
    pci_set_long(d->wmask + off, (uint32_t)wmask);
    if (type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        pci_set_long(d->wmask + off + 4, (uint32_t)(wmask >> 32));
    }
}

/* Capabilities are laid out from 0x40 up, each in a 16-byte slot. */
uint8_t pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t size)
{
    uint8_t *link = &d->config[PCI_CAPABILITY_LIST];
    uint8_t off = 0x40;
    while (*link) {
        off = MAX(off, (uint8_t)(*link + ROUND_UP(MAX(size, 16), 4)));
        link = &d->config[*link + 1];
    }
    d->config[off] = cap_id;
    d->config[off + 1] = 0;
    *link = off;
    d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    return off;
}

static uint64_t bar_addr_from_config(PCIDevice *d, int bar)
{
    PCIBar *b = &d->bars[bar];
    uint32_t off = PCI_BASE_ADDRESS_0 + bar * 4;
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    uint64_t addr;
    if (b->type & PCI_BASE_ADDRESS_SPACE_IO) {
        if (!(cmd & PCI_COMMAND_IO)) {
            return PCI_BAR_UNMAPPED;
        }
        addr = pci_get_long(d->config + off) & ~3u & ~(b->size - 1);
        if (!addr || addr + b->size > 0x10000) {
            return PCI_BAR_UNMAPPED;
        }
        return addr;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) {
        return PCI_BAR_UNMAPPED;
    }
    addr = pci_get_long(d->config + off) & ~0xfu;
    if (b->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        addr |= (uint64_t)pci_get_long(d->config + off + 4) << 32;
    }
    addr &= ~(b->size - 1);
    if (!addr || addr == ~(b->size - 1)) {
        return PCI_BAR_UNMAPPED;             /* 0 or the all-ones sizing value */
    }
    return addr;
}

/* Re-map BARs after a COMMAND or BAR write. */
static void pci_update_mappings(PCIDevice *d)
{
    memory_begin();
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        PCIBar *b = &d->bars[i];
        if (!b->mr) {
            continue;
        }
        uint64_t addr = bar_addr_from_config(d, i);
        if (addr == b->addr) {
            continue;
        }
        MemoryRegion *space = (b->type & PCI_BASE_ADDRESS_SPACE_IO) ? system_io : system_memory;
        if (b->addr != PCI_BAR_UNMAPPED) {
            mr_del_subregion(space, b->mr);
        }
        b->addr = addr;
        if (addr != PCI_BAR_UNMAPPED) {
            /* BARs sit above RAM (priority 1) in the PCI hole */
            mr_add_subregion(space, addr, b->mr, 1);
        }
    }
    memory_commit();
}

static void pci_update_irq_disabled(PCIDevice *d)
{
    int pin = d->config[PCI_INTERRUPT_PIN];
    if (!pin || !pci_route_irq || !d->irq_level) {
        return;
    }
    bool disabled = pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
    pci_route_irq(d, pin - 1, disabled ? 0 : 1);
}

uint32_t pci_default_read_config(PCIDevice *d, uint32_t addr, int len)
{
    uint32_t v = 0;
    memcpy(&v, d->config + addr, len);
    return v;
}

void pci_default_write_config(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    bool bars_touched = false, cmd_touched = false;
    for (int i = 0; i < len; i++) {
        uint32_t a = addr + i;
        uint8_t b = val >> (i * 8);
        uint8_t wm = d->wmask[a], w1c = d->w1cmask[a];
        d->config[a] = (d->config[a] & ~wm) | (b & wm);
        d->config[a] &= ~(b & w1c);
        if (a >= PCI_BASE_ADDRESS_0 && a < PCI_BASE_ADDRESS_0 + 24) {
            bars_touched = true;
        }
        if (a == PCI_COMMAND || a == PCI_COMMAND + 1) {
            cmd_touched = true;
        }
    }
    if (bars_touched || cmd_touched) {
        pci_update_mappings(d);
    }
    if (cmd_touched) {
        pci_update_irq_disabled(d);
    }
}

void pci_set_irq(PCIDevice *d, int level)
{
    int pin = d->config[PCI_INTERRUPT_PIN];
    level = !!level;
    if (d->irq_level == level) {
        return;
    }
    d->irq_level = level;
    if (level) {
        d->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    } else {
        d->config[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
    }
    if (!pin || !pci_route_irq) {
        return;
    }
    if (pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) {
        return;
    }
    pci_route_irq(d, pin - 1, level);
}

/* MSI capability: control at +2, address at +4 (+8 high), data at +8/+12. */
bool msi_init(PCIDevice *d, uint8_t offset, unsigned nr_vectors, bool is_64bit)
{
    (void)offset;
    uint8_t cap = pci_add_capability(d, PCI_CAP_ID_MSI, is_64bit ? 14 : 10);
    unsigned log2 = 0;
    while ((1u << log2) < nr_vectors) {
        log2++;
    }
    uint16_t ctrl = (log2 << 1) | (is_64bit ? 0x80 : 0);
    pci_set_word(d->config + cap + 2, ctrl);
    pci_set_word(d->wmask + cap + 2, 0x0071);            /* enable + multiple message enable */
    pci_set_long(d->wmask + cap + 4, 0xfffffffc);
    if (is_64bit) {
        pci_set_long(d->wmask + cap + 8, 0xffffffff);
        pci_set_word(d->wmask + cap + 12, 0xffff);
    } else {
        pci_set_word(d->wmask + cap + 8, 0xffff);
    }
    d->msi_cap = cap;
    return true;
}

bool msi_enabled(PCIDevice *d)
{
    return d->msi_cap && (pci_get_word(d->config + d->msi_cap + 2) & 1);
}

void msi_notify(PCIDevice *d, unsigned vector)
{
    uint8_t cap = d->msi_cap;
    uint16_t ctrl = pci_get_word(d->config + cap + 2);
    bool is64 = ctrl & 0x80;
    uint64_t addr = pci_get_long(d->config + cap + 4);
    uint16_t data;
    if (is64) {
        addr |= (uint64_t)pci_get_long(d->config + cap + 8) << 32;
        data = pci_get_word(d->config + cap + 12);
    } else {
        data = pci_get_word(d->config + cap + 8);
    }
    unsigned nvec = 1u << ((ctrl >> 4) & 7);
    data = (data & ~(nvec - 1)) | (vector & (nvec - 1));
    if (current_accel && current_accel->send_msi && current_accel->irqchip_in_kernel) {
        current_accel->send_msi(current_machine, addr, data);
    } else {
        apic_deliver_msi(addr, data);
    }
}

int pci_dma_rw(PCIDevice *d, uint64_t addr, void *buf, uint64_t len, bool is_write)
{
    if (!(pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        if (!is_write) {
            memset(buf, 0xff, len);
        }
        return -1;
    }
    return as_rw(&as_memory, addr, buf, len, is_write);
}

/* Type-1 config address: bus 0 only on the PC. */
static PCIDevice *config_target(Bus *bus, uint32_t addr, uint32_t *reg)
{
    if (((addr >> 16) & 0xff) != 0) {
        return NULL;
    }
    *reg = addr & 0xff;
    return pci_find_device(bus, (addr >> 8) & 0xff);
}

uint32_t pci_host_config_read(Bus *bus, uint32_t addr, int len)
{
    uint32_t reg;
    PCIDevice *d = config_target(bus, addr, &reg);
    if (!d || reg + len > 256) {
        return ~0u >> (32 - len * 8);
    }
    /* functions > 0 are visible only when function 0 says multifunction */
    if (PCI_FUNC(d->devfn)) {
        PCIDevice *f0 = pci_find_device(bus, d->devfn & ~7);
        if (!f0) {
            return ~0u >> (32 - len * 8);
        }
    }
    return d->config_read ? d->config_read(d, reg, len) : pci_default_read_config(d, reg, len);
}

void pci_host_config_write(Bus *bus, uint32_t addr, uint32_t val, int len)
{
    uint32_t reg;
    PCIDevice *d = config_target(bus, addr, &reg);
    if (!d || reg + len > 256) {
        return;
    }
    if (d->config_write) {
        d->config_write(d, reg, val, len);
    } else {
        pci_default_write_config(d, reg, val, len);
    }
}
