/*
 * The PC board (i440FX/PIIX3): RAM split around the PCI hole, the BIOS
 * ROM and its 0xe0000 window, CPUs, the chipset, interrupt controllers,
 * the on-board ISA devices, CMOS contents, the e820 map, fw_cfg, and
 * either SeaBIOS or kemu's own direct kernel boot.
 * Spec: QEMU 7.2 hw/i386/pc.c and pc_piix.c guest-visible layout.
 * Locking: BQL (machine init and reset).
 */
#include <string.h>
#include "chardev/char.h"
#include "hw/acpi/acpi.h"
#include "hw/acpi/pcihp.h"
#include "hw/acpi/piix4.h"
#include "hw/fw_cfg.h"
#include "hw/i386/pc.h"
#include "hw/intc.h"
#include "hw/isa.h"
#include "hw/machine.h"
#include "hw/pci.h"
#include "hw/pci/i440fx.h"
#include "system/cpus.h"
#include "system/objects.h"
#include "system/kvm.h"
#include "system/vl.h"
#include "util/cutils.h"

/* Provided by the device files (hw/char, hw/timer, hw/intc). */
void serial_hds_isa_init(Chardev **hds, int n);
void rtc_set_memory(DeviceState *rtc, int addr, uint8_t val);
bool userspace_irqchip_init(Error **errp);
bool apic_cpu_init(CPUState *cpu, Error **errp);
void i8042_set_a20_line(DeviceState *dev, IrqLine a20);

#define BIOS_SEARCH_DIRS "/usr/share/seabios", "/usr/share/qemu", "/usr/lib/ipxe/qemu"
#define HT_HOLE_START 0xfd00000000ull    /* AMD HyperTransport range below 1 TiB */
#define HT_HOLE_SIZE  0x0300000000ull

typedef struct PCState {
    MemoryRegion ram, ram_below, ram_above;
    MemoryRegion pci_space;          /* PCI memory space (BARs, BIOS window) */
    MemoryRegion bios, isa_bios;
    DeviceState *rtc;
    DeviceState *pm;
    PCIDevice *piix3;
    AcpiPciHpState pcihp;
    Notifier pcihp_reset;
    uint64_t acpi_direct_gpa;        /* direct boot: where the ACPI tables go */
} PCState;

static PCState pc;

static bool cpu_vendor_is_amd(Machine *m)
{
    /* under KVM the guest sees the host's vendor (QEMU's rule for built-in models) */
    if (current_accel && !strcmp(current_accel->name, "kvm")) {
        return false;
    }
    return !strcmp(m->cpu.m.vendor, "AuthenticAMD");
}

static void e820_add(GArray *t, uint64_t addr, uint64_t len, uint32_t type)
{
    E820Entry e = { addr, len, type };
    g_array_append_val(t, e);
}

/* The map QEMU puts in fw_cfg "etc/e820" (what SeaBIOS starts from). */
static GArray *pc_e820_fw_cfg(Machine *m)
{
    GArray *t = g_array_new(FALSE, FALSE, sizeof(E820Entry));
    if (current_accel && !strcmp(current_accel->name, "kvm")) {
        e820_add(t, KVM_IDENTITY_BASE, KVM_RESERVED_SIZE, E820_RESERVED);
    }
    if (cpu_vendor_is_amd(m)) {
        e820_add(t, HT_HOLE_START, HT_HOLE_SIZE, E820_RESERVED);
    }
    e820_add(t, 0, m->below_4g_mem_size, E820_RAM);
    if (m->above_4g_mem_size) {
        e820_add(t, 4 * GiB, m->above_4g_mem_size, E820_RAM);
    }
    return t;
}

GArray *pc_e820_table(Machine *m)
{
    static GArray *t;
    if (t) {
        return t;
    }
    t = g_array_new(FALSE, FALSE, sizeof(E820Entry));
    uint64_t ram_top = pc.acpi_direct_gpa ? pc.acpi_direct_gpa : m->below_4g_mem_size;
    e820_add(t, 0, 0x9fc00, E820_RAM);
    e820_add(t, 0x9fc00, 0x400, E820_RESERVED);
    e820_add(t, 0xf0000, 0x10000, E820_RESERVED);
    e820_add(t, 1 * MiB, ram_top - 1 * MiB, E820_RAM);
    if (pc.acpi_direct_gpa) {
        e820_add(t, pc.acpi_direct_gpa, m->below_4g_mem_size - pc.acpi_direct_gpa, E820_ACPI);
    }
    if (current_accel && !strcmp(current_accel->name, "kvm")) {
        e820_add(t, KVM_IDENTITY_BASE, KVM_RESERVED_SIZE, E820_RESERVED);
    }
    if (m->above_4g_mem_size) {
        e820_add(t, 4 * GiB, m->above_4g_mem_size, E820_RAM);
    }
    if (cpu_vendor_is_amd(m) && m->above_4g_mem_size + 4 * GiB > HT_HOLE_START) {
        e820_add(t, HT_HOLE_START, HT_HOLE_SIZE, E820_RESERVED);
    }
    return t;
}

uint64_t pc_initrd_limit(Machine *m)
{
    return pc.acpi_direct_gpa ? pc.acpi_direct_gpa : m->below_4g_mem_size;
}

/* RAM, the PCI memory space and the BIOS window. QEMU splits RAM at
 * 3.5 GiB, or at 3 GiB once RAM reaches 3.5 GiB, so that 32-bit PCI BARs
 * keep a gigabyte-aligned hole below 4 GiB. */
static bool pc_memory_init(Machine *m, Error **errp)
{
    uint64_t lowmem = m->ram_size >= 0xe0000000ull ? 0xc0000000ull : 0xe0000000ull;
    m->below_4g_mem_size = MIN(m->ram_size, lowmem);
    m->above_4g_mem_size = m->ram_size - m->below_4g_mem_size;
    Error *err = NULL;
    if (m->memdev) {
        void *host = memdev_map(m->memdev, errp);
        if (!host) {
            return false;
        }
        mr_init_ram_ptr(&pc.ram, "pc.ram", m->ram_size, host);
    } else {
        mr_init_ram(&pc.ram, "pc.ram", m->ram_size, &err);
    }
    if (err) {
        error_propagate(errp, err);
        return false;
    }
    m->ram = &pc.ram;
    memory_begin();
    mr_init_alias(&pc.ram_below, "ram-below-4g", &pc.ram, 0, m->below_4g_mem_size);
    mr_add_subregion(system_memory, 0, &pc.ram_below, 0);
    if (m->above_4g_mem_size) {
        mr_init_alias(&pc.ram_above, "ram-above-4g", &pc.ram, m->below_4g_mem_size, m->above_4g_mem_size);
        mr_add_subregion(system_memory, 4 * GiB, &pc.ram_above, 0);
    }
    mr_init_container(&pc.pci_space, "pci", UINT64_MAX);
    mr_add_subregion(system_memory, 0, &pc.pci_space, -1);
    memory_commit();
    return true;
}

char *firmware_find(const char *name)
{
    if (strchr(name, '/')) {
        return g_file_test(name, G_FILE_TEST_IS_REGULAR) ? g_strdup(name) : NULL;
    }
    for (guint i = 0; firmware_dirs && i < firmware_dirs->len; i++) {
        char *p = g_build_filename(g_ptr_array_index(firmware_dirs, i), name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
            return p;
        }
        g_free(p);
    }
    static const char *const dirs[] = { BIOS_SEARCH_DIRS };
    for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
        char *p = g_build_filename(dirs[i], name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
            return p;
        }
        g_free(p);
    }
    return NULL;
}

/* The BIOS image at the top of the 4 GiB space, its last 128 KiB also at
 * 0xe0000 (through the PAM windows into the PCI space). */
static bool pc_bios_init(Machine *m, Error **errp)
{
    g_autofree char *path = firmware_find(m->firmware);
    gchar *data = NULL;
    gsize size = 0;
    if (!path || !g_file_get_contents(path, &data, &size, NULL) || size == 0 ||
        size % 65536 || size > 16 * MiB) {
        g_free(data);
        error_setg(errp, "qemu: could not load PC BIOS '%s'", m->firmware);
        return false;
    }
    mr_init_rom(&pc.bios, "pc.bios", size, errp);
    memcpy(pc.bios.host, data, size);
    g_free(data);
    uint64_t isa_size = MIN((uint64_t)size, 128 * KiB);
    mr_init_alias(&pc.isa_bios, "isa-bios", &pc.bios, size - isa_size, isa_size);
    mr_set_readonly(&pc.isa_bios, true);
    memory_begin();
    mr_add_subregion(&pc.pci_space, 1 * MiB - isa_size, &pc.isa_bios, 1);
    mr_add_subregion(system_memory, 4 * GiB - size, &pc.bios, 0);
    memory_commit();
    return true;
}

/* The keyboard controller's output port drives the A20 gate. */
static void pc_a20_changed(void *opaque, int n, int level)
{
    x86_set_a20(level);
}

static DeviceState *create_onboard(const char *driver, Error **errp)
{
    DeviceState *dev = dev_new(driver, errp);
    if (!dev || !dev_realize(dev, NULL, errp)) {
        return NULL;
    }
    return dev;
}

static int boot_device_code(char c)
{
    switch (c) {
    case 'a': case 'b': return 1;
    case 'c': return 2;
    case 'd': return 3;
    case 'n': return 4;
    default: return 0;
    }
}

/* CMOS bytes SeaBIOS and Linux read (QEMU's pc_cmos_init). */
static void pc_cmos_init(Machine *m)
{
    DeviceState *rtc = pc.rtc;
    uint64_t val;
    rtc_set_memory(rtc, 0x15, 640 & 0xff);           /* base memory in KiB */
    rtc_set_memory(rtc, 0x16, 640 >> 8);
    val = m->ram_size / KiB > 1024 ? MIN(m->ram_size / KiB - 1024, 65535) : 0;
    rtc_set_memory(rtc, 0x17, val);                  /* extended memory (KiB above 1 MiB) */
    rtc_set_memory(rtc, 0x18, val >> 8);
    rtc_set_memory(rtc, 0x30, val);
    rtc_set_memory(rtc, 0x31, val >> 8);
    val = m->below_4g_mem_size > 16 * MiB ? MIN((m->below_4g_mem_size - 16 * MiB) / (64 * KiB), 65535) : 0;
    rtc_set_memory(rtc, 0x34, val);                  /* 64 KiB blocks above 16 MiB */
    rtc_set_memory(rtc, 0x35, val >> 8);
    val = m->above_4g_mem_size / (64 * KiB);
    rtc_set_memory(rtc, 0x5b, val);                  /* 64 KiB blocks above 4 GiB */
    rtc_set_memory(rtc, 0x5c, val >> 8);
    rtc_set_memory(rtc, 0x5d, val >> 16);
    rtc_set_memory(rtc, 0x5f, m->smp_cpus - 1);
    rtc_set_memory(rtc, 0x14, 0x02 | 0x04);          /* FPU present, PS/2 mouse */
    const char *order = m->boot_order ? m->boot_order : "cad";
    int bds[3] = { 0 };
    for (int i = 0; i < 3 && order[i]; i++) {
        bds[i] = boot_device_code(order[i]);
    }
    rtc_set_memory(rtc, 0x3d, (bds[1] << 4) | bds[0]);
    rtc_set_memory(rtc, 0x38, (bds[2] << 4) | 0x1);  /* no floppy boot-signature check */
}

static void pc_fw_cfg_init(Machine *m)
{
    FWCfgState *fw = fw_cfg_init_io(0x510, 0x514);
    m->fw_cfg = fw;
    fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, m->smp_cpus);
    fw_cfg_add_i16(fw, FW_CFG_MAX_CPUS, m->smp_max_cpus);
    fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, m->ram_size);
    fw_cfg_add_i16(fw, FW_CFG_NOGRAPHIC, 0);
    fw_cfg_add_i16(fw, FW_CFG_BOOT_MENU, m->boot_menu);
    fw_cfg_add_i32(fw, FW_CFG_IRQ0_OVERRIDE, 1);
    if (m->has_uuid) {
        fw_cfg_add_bytes(fw, FW_CFG_UUID, g_memdup2(m->uuid, 16), 16);
    } else {
        fw_cfg_add_bytes(fw, FW_CFG_UUID, g_malloc0(16), 16);
    }
    uint64_t *fail_wait = g_new(uint64_t, 1);
    *fail_wait = 0xffffffffu;         /* -1: no automatic reboot (QEMU default) */
    fw_cfg_add_file(fw, "etc/boot-fail-wait", fail_wait, 4);
    fw_cfg_add_file(fw, "bootorder", g_strdup(""), 0);
}

static void pc_fw_cfg_finish(Machine *m)
{
    GArray *t = pc_e820_fw_cfg(m);
    uint8_t *buf = g_malloc(t->len * 20);
    for (guint i = 0; i < t->len; i++) {
        E820Entry *e = &g_array_index(t, E820Entry, i);
        stq_le_p(buf + i * 20, e->addr);
        stq_le_p(buf + i * 20 + 8, e->len);
        stl_le_p(buf + i * 20 + 16, e->type);
    }
    fw_cfg_add_file(m->fw_cfg, "etc/e820", buf, t->len * 20);
    g_array_free(t, TRUE);
    size_t len;
    char *order = boot_device_list(m->boot_strict, &len);
    if (order) {
        fw_cfg_modify_file(m->fw_cfg, "bootorder", order, len);
    }
}

static void pc_pcihp_raise_gpe(void *pm)
{
    piix4_pm_raise_gpe(pm, ACPI_PCIHP_GPE_BIT);
}

static void pc_pcihp_reset(Notifier *n, void *data)
{
    acpi_pcihp_reset(&pc.pcihp);
}

bool pc_init(Machine *m, Error **errp)
{
    if (!pc_memory_init(m, errp)) {
        return false;
    }
    m->direct_boot = m->kernel_filename != NULL;
    if (!m->direct_boot && !pc_bios_init(m, errp)) {
        return false;
    }
    for (int i = 0; i < m->smp_cpus; i++) {
        CPUState *cpu = cpu_create(m, i, errp);
        if (!cpu) {
            return false;
        }
        cpu->env.nr_threads_per_pkg = m->smp_cores * m->smp_threads * m->smp_dies;
    }
    /* chipset */
    DeviceState *host = g_new0(DeviceState, 1);
    host->child_buses = g_ptr_array_new();
    m->pci_bus = pci_bus_new(host, "pci.0");
    if (!i440fx_create(m->pci_bus, &pc.ram, &pc.pci_space, errp)) {
        return false;
    }
    pc.piix3 = piix3_create(m->pci_bus, errp);
    if (!pc.piix3) {
        return false;
    }
    m->piix3 = pc.piix3;
    m->isa_bus = bus_new("ISA", "isa.0", &pc.piix3->qdev);

    bool userspace_irqchip = !current_accel || !current_accel->irqchip_in_kernel || m->kernel_irqchip_off;
    if (userspace_irqchip) {
        if (!userspace_irqchip_init(errp)) {
            return false;
        }
        for (int i = 0; i < n_cpus; i++) {
            if (!apic_cpu_init(cpus[i], errp)) {
                return false;
            }
        }
    }
    /* on-board ISA devices, present even with -nodefaults (as in QEMU) */
    pc.rtc = create_onboard("mc146818rtc", errp);
    if (!pc.rtc) {
        return false;
    }
    if (userspace_irqchip && !create_onboard("isa-pit", errp)) {
        return false;
    }
    DeviceState *kbd;
    if (!create_onboard("isa-pcspk", errp) || !(kbd = create_onboard("i8042", errp))) {
        return false;
    }
    IrqLine a20;
    irq_connect(&a20, pc_a20_changed, NULL, 0);
    i8042_set_a20_line(kbd, a20);
    if (m->hpet && !create_onboard("hpet", errp)) {
        return false;
    }
    Chardev *hds[4];
    for (int i = 0; i < 4; i++) {
        hds[i] = serial_hd(i);
    }
    serial_hds_isa_init(hds, 4);
    pc_fw_cfg_init(m);
    if (m->acpi) {
        pc.pm = dev_new("PIIX4_PM", errp);
        if (!pc.pm) {
            return false;
        }
        ((PCIDevice *)pc.pm)->devfn = PCI_DEVFN(1, 3);
        if (!dev_realize(pc.pm, m->pci_bus, errp)) {
            return false;
        }
        piix4_pm_connect_sci(pc.pm, gsi_set_irq, m, 9);
        /* ACPI PCI hotplug on pci.0 (device_add/device_del) */
        acpi_pcihp_init(&pc.pcihp, m->pci_bus, pc_pcihp_raise_gpe, pc.pm);
        pc.pcihp_reset.fn = pc_pcihp_reset;
        qemu_register_reset_notifier(&pc.pcihp_reset);
    }
    if (m->usb) {
        DeviceState *uhci = dev_new("piix3-usb-uhci", errp);
        if (!uhci) {
            return false;
        }
        ((PCIDevice *)uhci)->devfn = PCI_DEVFN(1, 2);
        if (!dev_realize(uhci, m->pci_bus, errp)) {
            return false;
        }
    }
    pc_cmos_init(m);
    return true;
}

/* Direct boot: do what SeaBIOS would have done for the kernel. */
static void pc_direct_boot_reset(void *opaque)
{
    Machine *m = opaque;
    Error *err = NULL;
    piix3_set_default_pirqs(pc.piix3);
    if (pc.pm) {
        piix4_pm_set_base(pc.pm, ACPI_PM_BASE);
    }
    /* PCI interrupts 9, 10 and 11 are level triggered (ELCR) */
    as_st(&as_io, 0x4d0, 0x00, 1);
    as_st(&as_io, 0x4d1, 0x0e, 1);
    uint64_t rsdp = 0;
    if (m->acpi) {
        rsdp = acpi_install_direct(m, m->ram->host, pc.acpi_direct_gpa);
    }
    if (!x86_load_kernel(m, rsdp, &err)) {
        error_report_err(err);
        exit(1);
    }
}

void machine_done(Machine *m)
{
    if (!m->ram) {
        return;                      /* -machine none */
    }
    pc_fw_cfg_finish(m);
    if (m->acpi && !m->direct_boot) {
        acpi_setup_fw_cfg(m, m->fw_cfg);
    }
    if (m->direct_boot) {
        if (m->acpi) {
            pc.acpi_direct_gpa = (m->below_4g_mem_size - ACPI_DIRECT_MAX_SIZE) & ~0xfffull;
        }
        /* loading now reports bad kernels at startup; every reset reloads */
        Error *err = NULL;
        if (!x86_load_kernel(m, 0, &err)) {
            error_report_err(err);
            exit(1);
        }
        machine_register_reset(pc_direct_boot_reset, m);
    }
}
