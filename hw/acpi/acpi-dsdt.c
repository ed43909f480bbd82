/*
 * The PC's DSDT body: \_SB.PCI0 (PCI host bridge, _CRS windows, _PRT),
 * PCI interrupt links, the ISA devices behind 00:01.0, fw_cfg, HPET,
 * processors and the \_S4/\_S5 sleep packages. Names and resources follow
 * what QEMU 7.2 shows the guest on -machine pc (ACPI 6.4 §6.1-§6.2, §6.4,
 * §7.4.2; PCI Firmware spec 3.2 §4.5 for _CRS/_PRT).
 * Locking: none (pure; called during machine init with the BQL held).
 */
#include <stdio.h>
#include "hw/acpi/acpi.h"
#include "hw/acpi/aml.h"

#define PCI_HOLE_END        0xfec00000ull   /* IOAPIC: end of the 32-bit hole */
#define PCI_HOLE64_SIZE     (2ull << 30)    /* QEMU i440fx pci-hole64-size */

/* GSI behind PIRQA..D: the PIIX3 PIRQ route registers 0x60..0x63 hold
 * these after SeaBIOS (and kemu's direct boot) program them. */
static const uint32_t pirq_gsi[4] = { 10, 10, 11, 11 };

static Aml *dev_hid_crs(const char *name, const char *eisaid, Aml *crs)
{
    Aml *dev = aml_device(name);
    aml_append(dev, aml_name_decl("_HID", aml_eisaid(eisaid)));
    aml_append(dev, aml_name_decl("_STA", aml_int(0x0f)));
    aml_append(dev, aml_name_decl("_CRS", crs));
    return dev;
}

static Aml *build_pci0_crs(const AcpiConfig *cfg)
{
    Aml *crs = aml_resource_template();
    aml_append(crs, aml_word_bus_number(0x00, 0xff));
    aml_append(crs, aml_io(0x0cf8, 0x0cf8, 0x01, 0x08));
    aml_append(crs, aml_word_io(0x0000, 0x0cf7));
    aml_append(crs, aml_word_io(0x0d00, 0xffff));
    aml_append(crs, aml_dword_memory(AML_CACHEABLE, 0x000a0000, 0x000bffff));
    aml_append(crs, aml_dword_memory(AML_NON_CACHEABLE,
                                     (uint32_t)cfg->below_4g_mem_size,
                                     (uint32_t)(PCI_HOLE_END - 1)));
    /* 64-bit window: after high RAM, 1 GiB aligned, 2 GiB long (QEMU's
     * pci-hole64 when firmware assigned no 64-bit BARs). */
    uint64_t start = (4ull << 30) + cfg->above_4g_mem_size;
    start = (start + (1ull << 30) - 1) & ~((1ull << 30) - 1);
    aml_append(crs, aml_qword_memory(AML_CACHEABLE, start,
                                     start + PCI_HOLE64_SIZE - 1));
    return crs;
}

/*
 * _PRT: slot 0..31, pin INTA..INTD (0..3) -> PIRQ (slot + pin - 1) & 3 ->
 * LNKA..LNKD. That is the i440FX board wiring QEMU's PIIX model uses
 * (slot 1 INTA = PIRQA, slot 3 INTA = PIRQC); the PIIX3 PIRQ router must
 * use the same formula. Slot 1 INTA goes to LNKS (the SCI, GSI 9) as in
 * QEMU: the PM function at 00:01.3 reports pin A and its interrupt is the
 * SCI.
 */
static Aml *build_prt(void)
{
    static const char *const links[4] = { "LNKA", "LNKB", "LNKC", "LNKD" };
    Aml *prt = aml_package();
    for (int slot = 0; slot < 32; slot++) {
        for (int pin = 0; pin < 4; pin++) {
            Aml *e = aml_package();
            aml_append(e, aml_int(((uint32_t)slot << 16) | 0xffff));
            aml_append(e, aml_int(pin));
            if (slot == 1 && pin == 0) {
                aml_append(e, aml_name("LNKS"));
            } else {
                aml_append(e, aml_name(links[(slot + pin + 3) & 3]));
            }
            aml_append(e, aml_int(0));
            aml_append(prt, e);
        }
    }
    return prt;
}

/*
 * A PCI interrupt link with one fixed IRQ (ACPI 6.4 §6.2.13): _PRS and
 * _CRS give the same level/active-high/shared interrupt, _SRS accepts it
 * without reprogramming the router, _DIS is a no-op.
 */
static Aml *build_link(const char *name, int uid, uint32_t gsi)
{
    Aml *dev = aml_device(name);
    aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0C0F")));
    aml_append(dev, aml_name_decl("_UID", aml_int(uid)));
    Aml *prs = aml_resource_template();
    aml_append(prs, aml_interrupt(AML_CONSUMER, AML_LEVEL, AML_ACTIVE_HIGH,
                                  AML_SHARED, &gsi, 1));
    aml_append(dev, aml_name_decl("_PRS", prs));
    Aml *crs = aml_resource_template();
    aml_append(crs, aml_interrupt(AML_CONSUMER, AML_LEVEL, AML_ACTIVE_HIGH,
                                  AML_SHARED, &gsi, 1));
    aml_append(dev, aml_name_decl("_CRS", crs));
    aml_append(dev, aml_name_decl("_STA", aml_int(0x0b)));
    aml_append(dev, aml_method("_DIS", 0, false));
    aml_append(dev, aml_method("_SRS", 1, false));
    return dev;
}

/* Device (S08): the PIIX3 ISA bridge at 00:01.0 and its legacy devices. */
static Aml *build_isa(const AcpiConfig *cfg)
{
    Aml *isa = aml_device("S08");
    aml_append(isa, aml_name_decl("_ADR", aml_int(0x00010000)));

    Aml *crs = aml_resource_template();
    aml_append(crs, aml_io(0x60, 0x60, 0x01, 0x01));
    aml_append(crs, aml_io(0x64, 0x64, 0x01, 0x01));
    aml_append(crs, aml_irq_no_flags(1));
    aml_append(isa, dev_hid_crs("KBD", "PNP0303", crs));

    crs = aml_resource_template();
    aml_append(crs, aml_irq_no_flags(12));
    aml_append(isa, dev_hid_crs("MOU", "PNP0F13", crs));

    for (int i = 0; i < cfg->n_serial; i++) {
        char name[16];
        snprintf(name, sizeof(name), "COM%u", (unsigned)(cfg->serial[i].index & 7) + 1);
        Aml *dev = aml_device(name);
        aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0501")));
        aml_append(dev, aml_name_decl("_UID", aml_int(cfg->serial[i].index + 1)));
        aml_append(dev, aml_name_decl("_STA", aml_int(0x0f)));
        crs = aml_resource_template();
        aml_append(crs, aml_io(cfg->serial[i].iobase, cfg->serial[i].iobase, 0x00, 0x08));
        aml_append(crs, aml_irq_no_flags(cfg->serial[i].irq));
        aml_append(dev, aml_name_decl("_CRS", crs));
        aml_append(isa, dev);
    }

    Aml *rtc = aml_device("RTC");
    aml_append(rtc, aml_name_decl("_HID", aml_eisaid("PNP0B00")));
    crs = aml_resource_template();
    aml_append(crs, aml_io(0x70, 0x70, 0x01, 0x08));
    aml_append(crs, aml_irq_no_flags(8));
    aml_append(rtc, aml_name_decl("_CRS", crs));
    aml_append(isa, rtc);
    return isa;
}

/*
 * ACPI PCI hotplug (QEMU's interface, hw/acpi/pcihp.c): the PCST/SEJ
 * registers, one Device per hotpluggable slot (named S<devfn>, _SUN =
 * slot, _EJ0 writes the slot bit to B0EJ), DVNT notifying each slot whose
 * bit is set in Arg0 with event Arg1, and PCNT (called from \_GPE._E01)
 * sending Device Check (1) for PCIU and Eject Request (3) for PCID.
 */
static void build_pci_hotplug(Aml *pci0, const AcpiConfig *cfg)
{
    aml_append(pci0, aml_operation_region("PCST", AML_SYSTEM_IO, 0xae00, 0x08));
    Aml *f = aml_field("PCST", AML_FIELD_DWORD_ACC | AML_FIELD_WRITE_AS_ZEROS);
    aml_append(f, aml_named_field("PCIU", 32));
    aml_append(f, aml_named_field("PCID", 32));
    aml_append(pci0, f);
    aml_append(pci0, aml_operation_region("SEJ_", AML_SYSTEM_IO, 0xae08, 0x04));
    f = aml_field("SEJ_", AML_FIELD_DWORD_ACC | AML_FIELD_WRITE_AS_ZEROS);
    aml_append(f, aml_named_field("B0EJ", 32));
    aml_append(pci0, f);

    Aml *dvnt = aml_method("DVNT", 2, false);
    for (int slot = 0; slot < 32; slot++) {
        if (cfg->board_slots & (1u << slot)) {
            continue;
        }
        char name[8];
        snprintf(name, sizeof(name), "S%02X", slot << 3);
        Aml *dev = aml_device(name);
        aml_append(dev, aml_name_decl("_ADR", aml_int((uint64_t)slot << 16)));
        aml_append(dev, aml_name_decl("_SUN", aml_int(slot)));
        Aml *ej0 = aml_method("_EJ0", 1, false);
        aml_append(ej0, aml_store(aml_int(1ull << slot), aml_name("B0EJ")));
        aml_append(dev, ej0);
        aml_append(pci0, dev);

        Aml *cond = aml_if(aml_and(aml_arg(0), aml_int(1ull << slot)));
        aml_append(cond, aml_notify(aml_name(name), aml_arg(1)));
        aml_append(dvnt, cond);
    }
    aml_append(pci0, dvnt);

    Aml *pcnt = aml_method("PCNT", 0, false);
    Aml *up[] = { aml_name("PCIU"), aml_int(1) };
    Aml *down[] = { aml_name("PCID"), aml_int(3) };
    aml_append(pcnt, aml_call("DVNT", up, 2));
    aml_append(pcnt, aml_call("DVNT", down, 2));
    aml_append(pci0, pcnt);
}

static Aml *build_pci0(const AcpiConfig *cfg)
{
    Aml *pci0 = aml_device("PCI0");
    aml_append(pci0, aml_name_decl("_HID", aml_eisaid("PNP0A03")));
    aml_append(pci0, aml_name_decl("_ADR", aml_int(0)));
    aml_append(pci0, aml_name_decl("_UID", aml_int(0)));
    aml_append(pci0, aml_name_decl("_CRS", build_pci0_crs(cfg)));
    aml_append(pci0, aml_name_decl("_PRT", build_prt()));
    aml_append(pci0, build_isa(cfg));

    /* fw_cfg's I/O ports, like QEMU's QEMU0002 device (selector, data,
     * DMA address). */
    Aml *fwcf = aml_device("FWCF");
    aml_append(fwcf, aml_name_decl("_HID", aml_string("QEMU0002")));
    aml_append(fwcf, aml_name_decl("_STA", aml_int(0x0b)));
    Aml *crs = aml_resource_template();
    aml_append(crs, aml_io(0x0510, 0x0510, 0x01, 0x0c));
    aml_append(fwcf, aml_name_decl("_CRS", crs));
    aml_append(pci0, fwcf);
    if (cfg->pci_hotplug) {
        build_pci_hotplug(pci0, cfg);
    }
    return pci0;
}

static Aml *build_cpus(const AcpiConfig *cfg)
{
    Aml *cpus = aml_device("CPUS");
    aml_append(cpus, aml_name_decl("_HID", aml_string("ACPI0010")));
    aml_append(cpus, aml_name_decl("_CID", aml_eisaid("PNP0A05")));
    for (int i = 0; i < cfg->cpus; i++) {
        char name[16];
        snprintf(name, sizeof(name), "C%03X", (unsigned)i & 0xfff);
        Aml *cpu = aml_processor(name, (uint8_t)i, 0, 0);
        aml_append(cpu, aml_name_decl("_STA", aml_int(0x0f)));
        aml_append(cpus, cpu);
    }
    return cpus;
}

static Aml *sleep_pkg(uint8_t typ)
{
    Aml *p = aml_package();
    aml_append(p, aml_int(typ));    /* PM1a SLP_TYP */
    aml_append(p, aml_int(typ));    /* PM1b SLP_TYP */
    aml_append(p, aml_int(0));
    aml_append(p, aml_int(0));
    return p;
}

GByteArray *acpi_build_dsdt_body(const AcpiConfig *cfg)
{
    Aml *dsdt = aml_block();
    Aml *sb = aml_scope("\\_SB");
    aml_append(sb, build_pci0(cfg));
    aml_append(sb, build_link("LNKA", 0, pirq_gsi[0]));
    aml_append(sb, build_link("LNKB", 1, pirq_gsi[1]));
    aml_append(sb, build_link("LNKC", 2, pirq_gsi[2]));
    aml_append(sb, build_link("LNKD", 3, pirq_gsi[3]));
    aml_append(sb, build_link("LNKS", 4, ACPI_SCI_IRQ));
    if (cfg->hpet) {
        Aml *hpet = aml_device("HPET");
        aml_append(hpet, aml_name_decl("_HID", aml_eisaid("PNP0103")));
        aml_append(hpet, aml_name_decl("_UID", aml_int(0)));
        aml_append(hpet, aml_name_decl("_STA", aml_int(0x0f)));
        Aml *crs = aml_resource_template();
        aml_append(crs, aml_memory32_fixed(0xfed00000, 0x400, false));
        aml_append(hpet, aml_name_decl("_CRS", crs));
        aml_append(sb, hpet);
    }
    aml_append(sb, build_cpus(cfg));
    aml_append(dsdt, sb);
    if (cfg->pci_hotplug) {
        /* GPE0 bit 1: the PCI hotplug event */
        Aml *gpe = aml_scope("\\_GPE");
        aml_append(gpe, aml_name_decl("_HID", aml_string("ACPI0006")));
        Aml *e01 = aml_method("_E01", 0, false);
        aml_append(e01, aml_call("\\_SB.PCI0.PCNT", NULL, 0));
        aml_append(gpe, e01);
        aml_append(dsdt, gpe);
    }

    /* Sleep states: S4 (SLP_TYP 2, QEMU's s4_val) and S5 (SLP_TYP 0).
     * No _S3: kemu has no suspend-to-RAM. */
    aml_append(dsdt, aml_name_decl("\\_S4", sleep_pkg(2)));
    aml_append(dsdt, aml_name_decl("\\_S5", sleep_pkg(0)));
    return aml_finish(dsdt);
}
