/*
 * PCI devices: 256-byte config space with write masks, BARs mapped into
 * the memory / I/O address spaces on command-register changes, INTx
 * through the PIIX3 PIRQ router, MSI. Follows the PCI Local Bus spec 3.0.
 * Locking: BQL.
 */
#ifndef HW_PCI_H
#define HW_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include "hw/qdev.h"
#include "system/memory.h"

#define PCI_VENDOR_ID          0x00
#define PCI_DEVICE_ID          0x02
#define PCI_COMMAND            0x04
#define  PCI_COMMAND_IO        0x1
#define  PCI_COMMAND_MEMORY    0x2
#define  PCI_COMMAND_MASTER    0x4
#define  PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS             0x06
#define  PCI_STATUS_INTERRUPT  0x08
#define  PCI_STATUS_CAP_LIST   0x10
#define PCI_REVISION_ID        0x08
#define PCI_CLASS_PROG         0x09
#define PCI_CLASS_DEVICE       0x0a
#define PCI_HEADER_TYPE        0x0e
#define  PCI_HEADER_TYPE_MULTI_FUNCTION 0x80
#define PCI_BASE_ADDRESS_0     0x10
#define  PCI_BASE_ADDRESS_SPACE_IO 0x01
#define  PCI_BASE_ADDRESS_MEM_TYPE_64 0x04
#define  PCI_BASE_ADDRESS_MEM_PREFETCH 0x08
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID       0x2e
#define PCI_ROM_ADDRESS        0x30
#define PCI_CAPABILITY_LIST    0x34
#define PCI_INTERRUPT_LINE     0x3c
#define PCI_INTERRUPT_PIN      0x3d
#define PCI_CAP_ID_MSI         0x05
#define PCI_CAP_ID_VNDR        0x09
#define PCI_CAP_ID_MSIX        0x11

#define PCI_NUM_BARS 6
#define PCI_DEVFN(slot, fn) ((((slot) & 0x1f) << 3) | ((fn) & 7))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn) & 7)

typedef struct PCIDevice PCIDevice;

typedef struct PCIBar {
    MemoryRegion *mr;          /* NULL: unused */
    uint64_t size;
    uint8_t type;              /* low bits of the BAR: IO, MEM_TYPE_64, PREFETCH */
    uint64_t addr;             /* mapped address, or PCI_BAR_UNMAPPED */
} PCIBar;
#define PCI_BAR_UNMAPPED (~0ull)

/* Class hooks a PCI device may set in its realize (in PCIDevice). */
struct PCIDevice {
    DeviceState qdev;
    uint8_t config[256];
    uint8_t wmask[256];        /* writable bits */
    uint8_t w1cmask[256];      /* write-1-to-clear bits */
    int32_t devfn;             /* property "addr"; -1 = first free */
    bool multifunction;
    char *romfile;
    PCIBar bars[PCI_NUM_BARS];
    int irq_level;             /* INTx asserted by the device */
    uint32_t (*config_read)(PCIDevice *d, uint32_t addr, int len);   /* NULL: default */
    void (*config_write)(PCIDevice *d, uint32_t addr, uint32_t val, int len);
    uint8_t msi_cap;           /* offset of the MSI capability, 0 = none */
    char *name_for_info;       /* "Host bridge", for info pci */
};

extern const DeviceClass pci_device_class;   /* parent class: props addr, multifunction, romfile */

/* Identity + class (call in realize). */
void pci_config_set_ids(PCIDevice *d, uint16_t vendor, uint16_t device, uint16_t class_code,
                        uint8_t revision, uint8_t prog_if);
void pci_register_bar(PCIDevice *d, int bar, uint8_t type, MemoryRegion *mr);
uint8_t pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t size);
/* Default config-space access (device hooks can call these). */
uint32_t pci_default_read_config(PCIDevice *d, uint32_t addr, int len);
void pci_default_write_config(PCIDevice *d, uint32_t addr, uint32_t val, int len);
/* INTx level (pin from PCI_INTERRUPT_PIN). */
void pci_set_irq(PCIDevice *d, int level);
/* MSI: true when enabled by the guest; msi_notify sends vector. */
bool msi_init(PCIDevice *d, uint8_t offset, unsigned nr_vectors, bool is_64bit);
bool msi_enabled(PCIDevice *d);
void msi_notify(PCIDevice *d, unsigned vector);
/* DMA from a PCI device into guest memory (bus-master enabled check). */
int pci_dma_rw(PCIDevice *d, uint64_t addr, void *buf, uint64_t len, bool is_write);

PCIDevice *pci_find_device(Bus *bus, int devfn);
/* The host bridge creates the bus and routes INTx (pin 0..3 = INTA..D). */
Bus *pci_bus_new(DeviceState *host, const char *name);
void pci_bus_set_irq_router(void (*fn)(PCIDevice *d, int pin, int level));
/* PCI config access by bus/devfn (the host bridge 0xcf8/0xcfc uses these). */
uint32_t pci_host_config_read(Bus *bus, uint32_t addr, int len);
void pci_host_config_write(Bus *bus, uint32_t addr, uint32_t val, int len);

static inline uint16_t pci_get_word(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t pci_get_long(const uint8_t *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24); }
static inline void pci_set_word(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void pci_set_long(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }

#endif
