/*
 * Machine glue for the ACPI tables: describe the running PC (CPUs and
 * their APIC IDs, -no-hpet, RAM split, isa-serial ports) and publish the
 * tables through fw_cfg (QEMU's etc/acpi/tables, etc/acpi/rsdp and
 * etc/table-loader) or write them into RAM for kemu's direct -kernel boot.
 * Locking: BQL held (machine init, after devices are created).
 */
#include <stdlib.h>
#include <string.h>
#include "hw/acpi/acpi.h"
#include "hw/fw_cfg.h"
#include "hw/machine.h"
#include "hw/pci.h"
#include "hw/qdev.h"

static long dev_prop_long(DeviceState *dev, const char *name, long def)
{
    char *s = dev_get_prop_string(dev, name);
    long v = def;
    if (s && *s) {
        char *end;
        long parsed = strtol(s, &end, 0);
        if (*end == '\0') {
            v = parsed;
        }
    }
    g_free(s);
    return v;
}

static void add_serial(DeviceState *dev, void *opaque)
{
    static const uint16_t ports[ACPI_MAX_SERIAL] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
    static const uint8_t irqs[ACPI_MAX_SERIAL] = { 4, 3, 4, 3 };
    AcpiConfig *cfg = opaque;

    if (strcmp(dev->cls->name, "isa-serial") != 0 || cfg->n_serial >= ACPI_MAX_SERIAL) {
        return;
    }
    long index = dev_prop_long(dev, "index", cfg->n_serial);
    if (index < 0 || index >= ACPI_MAX_SERIAL) {
        index = cfg->n_serial;
    }
    long iobase = dev_prop_long(dev, "iobase", ports[index]);
    long irq = dev_prop_long(dev, "irq", irqs[index]);
    int n = cfg->n_serial++;
    cfg->serial[n].index = (int)index;
    /* Out-of-range values mean "unset" (UINT32_MAX before realize). */
    cfg->serial[n].iobase = iobase > 0 && iobase <= 0xfff8 ? (uint16_t)iobase : ports[index];
    cfg->serial[n].irq = irq >= 0 && irq < 16 ? (uint8_t)irq : irqs[index];
}

/* PCI slots holding devices the board created cannot be hot-unplugged. */
static void add_board_slot(DeviceState *dev, void *opaque)
{
    AcpiConfig *cfg = opaque;
    if (dev->parent_bus && !strcmp(dev->parent_bus->type, "PCI") && dev->canonical_path &&
        g_str_has_prefix(dev->canonical_path, "/machine/unattached/")) {
        cfg->board_slots |= 1u << PCI_SLOT(((PCIDevice *)dev)->devfn);
    }
}

void acpi_config_from_machine(Machine *m, AcpiConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->cpus = m->smp_cpus > 0 ? m->smp_cpus : 1;
    cfg->max_cpus = m->smp_max_cpus > cfg->cpus ? m->smp_max_cpus : cfg->cpus;
    if (cfg->max_cpus > 255) {
        cfg->max_cpus = 255;    /* xAPIC MADT entries only */
    }
    if (cfg->cpus > cfg->max_cpus) {
        cfg->cpus = cfg->max_cpus;
    }
    for (int i = 0; i < cfg->max_cpus; i++) {
        cfg->apic_id[i] = acpi_apic_id_for_index(i, m->smp_threads, m->smp_cores,
                                                 m->smp_dies);
    }
    cfg->hpet = m->hpet;
    cfg->below_4g_mem_size = m->below_4g_mem_size;
    cfg->above_4g_mem_size = m->above_4g_mem_size;
    dev_foreach(add_serial, cfg);
    cfg->pci_hotplug = m->pci_bus && m->pci_bus->hotpluggable;
    cfg->board_slots = 1u << 0 | 1u << 1;          /* host bridge, PIIX */
    dev_foreach(add_board_slot, cfg);
}

void acpi_setup_fw_cfg(Machine *m, FWCfgState *fw_cfg)
{
    AcpiConfig *cfg;
    AcpiBuildTables t;

    if (!m->acpi) {
        return;                 /* -machine acpi=off: no tables, like QEMU */
    }
    cfg = g_new(AcpiConfig, 1);
    acpi_config_from_machine(m, cfg);
    acpi_build(cfg, &t);
    /* fw_cfg owns (and g_free's) the data it is given. */
    guint len = t.tables->len;
    fw_cfg_add_file(fw_cfg, ACPI_FILE_TABLES, g_byte_array_free(t.tables, FALSE), len);
    len = t.rsdp->len;
    fw_cfg_add_file(fw_cfg, ACPI_FILE_RSDP, g_byte_array_free(t.rsdp, FALSE), len);
    len = t.loader->len;
    fw_cfg_add_file(fw_cfg, ACPI_FILE_LOADER, g_byte_array_free(t.loader, FALSE), len);
    g_free(cfg);
}

uint64_t acpi_install_direct(Machine *m, void *ram_host, uint64_t tables_gpa)
{
    AcpiConfig *cfg;

    if (!m->acpi) {
        return 0;
    }
    cfg = g_new(AcpiConfig, 1);
    acpi_config_from_machine(m, cfg);
    acpi_build_direct(cfg, (uint8_t *)ram_host + tables_gpa, tables_gpa);
    g_free(cfg);
    return tables_gpa;
}
