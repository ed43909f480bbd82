/*
 * PIIX4 power management function 8086:7113 rev 3 at 00:01.3 (Intel 82371AB
 * datasheet §3.3 config space, §7 PM/SMBus registers; ACPI 6.4 §4.8.3):
 * PM1a event/control and the 24-bit 3.579545 MHz PM timer at PMBA (config
 * 0x40, on when 0x80 bit 0), GPE0 at 0xafe0, APM 0xb2/0xb3 (0xf1/0xf0 =
 * ACPI enable/disable), the SCI as a level IrqLine, an SMBus host with no
 * devices (at SMBBA, 0xb100 until firmware moves it) and the power button.
 * Locking: BQL held for every callback.
 */
#include <stddef.h>
#include <string.h>
#include "hw/acpi/acpi.h"
#include "hw/acpi/piix4.h"
#include "util/module.h"

#define PM_TMR_EN        (1u << 0)
#define PM_GBL_EN        (1u << 5)
#define PM_PWRBTN_EN     (1u << 8)
#define PM_RTC_EN        (1u << 10)
#define PM1_SCI_SOURCES  (PM_TMR_EN | PM_GBL_EN | PM_PWRBTN_EN | PM_RTC_EN)

#define PMBA_CFG         0x40
#define PMREGMISC_CFG    0x80    /* bit 0: PM I/O space enable */
#define SMBBA_CFG        0x90
#define SMBHSTCFG_CFG    0xd2

/* SMBus host registers (PIIX4 datasheet §7.3). */
#define SMB_HST_STS      0x00
#define SMB_SLV_STS      0x01
#define SMB_HST_CNT      0x02
#define SMB_STS_DEV_ERR  0x04
#define SMB_STS_FAILED   0x10
#define SMB_CNT_KILL     0x02
#define SMB_CNT_START    0x40

/* ---- PM timer ---- */

static uint64_t pm_ticks(void)
{
    uint64_t ns = (uint64_t)clock_get_ns(CLOCK_VIRTUAL_NS);
    return (uint64_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / NANOSECONDS_PER_SECOND);
}

static int64_t ticks_to_ns(uint64_t ticks)
{
    /* Round up so the timer fires at or after the tick. */
    return (int64_t)(((unsigned __int128)ticks * NANOSECONDS_PER_SECOND +
                      ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
}

uint32_t piix4_pm_timer_value(PIIX4PMState *s)
{
    (void)s;
    return (uint32_t)(pm_ticks() & 0xffffff);
}

/* TMR_STS sets each time bit 23 of the counter toggles. */
static void tmr_calc_overflow(PIIX4PMState *s)
{
    s->tmr_overflow = (pm_ticks() + 0x800000) & ~0x7fffffull;
}

static uint16_t pm1_sts_get(PIIX4PMState *s)
{
    if (pm_ticks() >= s->tmr_overflow) {
        s->pm1_sts |= ACPI_PM1_TMR_STS;
    }
    return s->pm1_sts;
}

static void update_sci(PIIX4PMState *s)
{
    uint16_t sts = pm1_sts_get(s);
    bool level = (sts & s->pm1_en & PM1_SCI_SOURCES) ||
                 (s->gpe_sts[0] & s->gpe_en[0]) || (s->gpe_sts[1] & s->gpe_en[1]);
    irq_set(&s->sci, level);

    /* Wake up at the next overflow only when it would raise the SCI. */
    if ((s->pm1_en & PM_TMR_EN) && !(sts & ACPI_PM1_TMR_STS)) {
        timer_mod(s->tmr_timer, ticks_to_ns(s->tmr_overflow));
    } else {
        timer_del(s->tmr_timer);
    }
}

static void tmr_cb(void *opaque)
{
    update_sci(opaque);
}

/* ---- PM1 control: SCI_EN and sleep requests ---- */

static void pm1_cnt_write(PIIX4PMState *s, uint16_t val)
{
    s->pm1_cnt = val & ~ACPI_PM1_CNT_SLP_EN;    /* SLP_EN reads as 0 */
    if (val & ACPI_PM1_CNT_SLP_EN) {
        unsigned typ = (val >> ACPI_PM1_CNT_SLP_TYP_SHIFT) & 7;
        /* SLP_TYP 0 is S5 (soft off) and s4_val is S4: both power the
         * machine off, as QEMU does. S3 is not offered in the DSDT. */
        if (typ == 0 || typ == s->s4_val) {
            qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
        }
    }
}

/* Bytes of an access [off, off+size) that fall in register [reg, reg+w):
 * returns the register-relative mask and shifted value. */
static bool reg_hit(uint64_t off, unsigned size, uint64_t val, unsigned reg,
                    unsigned w, uint32_t *mask, uint32_t *v)
{
    *mask = 0;
    *v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t b = off + i;
        if (b >= reg && b < reg + w) {
            *mask |= 0xffu << (8 * (b - reg));
            *v |= (uint32_t)((val >> (8 * i)) & 0xff) << (8 * (b - reg));
        }
    }
    return *mask != 0;
}

static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    PIIX4PMState *s = opaque;
    uint8_t regs[ACPI_PM_IO_SIZE] = { 0 };
    uint16_t sts = pm1_sts_get(s);
    uint32_t tmr = piix4_pm_timer_value(s);

    regs[0] = (uint8_t)sts;
    regs[1] = (uint8_t)(sts >> 8);
    regs[2] = (uint8_t)s->pm1_en;
    regs[3] = (uint8_t)(s->pm1_en >> 8);
    regs[4] = (uint8_t)s->pm1_cnt;
    regs[5] = (uint8_t)(s->pm1_cnt >> 8);
    for (int i = 0; i < 4; i++) {
        regs[ACPI_PM_TMR_OFS + i] = (uint8_t)(tmr >> (8 * i));
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < ACPI_PM_IO_SIZE; i++) {
        v |= (uint64_t)regs[off + i] << (8 * i);
    }
    return v;
}

static void pm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PIIX4PMState *s = opaque;
    uint32_t mask, v;

    if (reg_hit(off, size, val, ACPI_PM1_EVT_OFS, 2, &mask, &v)) {
        uint16_t sts = pm1_sts_get(s);
        if (sts & v & ACPI_PM1_TMR_STS) {
            tmr_calc_overflow(s);   /* clearing TMR_STS re-arms the overflow */
        }
        s->pm1_sts = sts & ~(uint16_t)v;
    }
    if (reg_hit(off, size, val, ACPI_PM1_EVT_OFS + 2, 2, &mask, &v)) {
        s->pm1_en = (uint16_t)((s->pm1_en & ~mask) | (v & mask));
    }
    if (reg_hit(off, size, val, ACPI_PM1_CNT_OFS, 2, &mask, &v)) {
        pm1_cnt_write(s, (uint16_t)((s->pm1_cnt & ~mask) | (v & mask)));
    }
    update_sci(s);
}

static const MemoryRegionOps pm_ops = {
    .read = pm_read, .write = pm_write, .min_access = 1, .max_access = 4,
};

/* ---- GPE0 block: 2 status bytes (write 1 to clear), 2 enable bytes ---- */

static uint64_t gpe_read(void *opaque, uint64_t off, unsigned size)
{
    PIIX4PMState *s = opaque;
    uint8_t regs[4] = { s->gpe_sts[0], s->gpe_sts[1], s->gpe_en[0], s->gpe_en[1] };
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 4; i++) {
        v |= (uint64_t)regs[off + i] << (8 * i);
    }
    return v;
}

static void gpe_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PIIX4PMState *s = opaque;
    for (unsigned i = 0; i < size && off + i < 4; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint64_t o = off + i;
        if (o < 2) {
            s->gpe_sts[o] &= (uint8_t)~b;
        } else {
            s->gpe_en[o - 2] = b;
        }
    }
    update_sci(s);
}

static const MemoryRegionOps gpe_ops = {
    .read = gpe_read, .write = gpe_write, .min_access = 1, .max_access = 4,
};

/* ---- APM: 0xb2 control (ACPI enable/disable commands), 0xb3 status ---- */

static uint64_t apm_read(void *opaque, uint64_t off, unsigned size)
{
    PIIX4PMState *s = opaque;
    (void)size;
    return off == 0 ? s->apm_cnt : s->apm_sts;
}

static void apm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PIIX4PMState *s = opaque;
    (void)size;
    if (off == 1) {
        s->apm_sts = (uint8_t)val;
        return;
    }
    s->apm_cnt = (uint8_t)val;
    /* No SMM: the "SMI handler" is this switch (ACPI 6.4 §4.8.2.1). */
    if (val == ACPI_ENABLE_CMD) {
        s->pm1_cnt |= ACPI_PM1_CNT_SCI_EN;
    } else if (val == ACPI_DISABLE_CMD) {
        s->pm1_cnt &= ~ACPI_PM1_CNT_SCI_EN;
    }
}

static const MemoryRegionOps apm_ops = {
    .read = apm_read, .write = apm_write, .min_access = 1, .max_access = 1,
};

/* ---- SMBus host stub: every transaction ends with "device error" ---- */

static uint64_t smb_read(void *opaque, uint64_t off, unsigned size)
{
    PIIX4PMState *s = opaque;
    (void)size;
    return off < sizeof(s->smb) ? s->smb[off] : 0;
}

static void smb_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PIIX4PMState *s = opaque;
    (void)size;
    if (off >= sizeof(s->smb)) {
        return;
    }
    if (off == SMB_HST_STS || off == SMB_SLV_STS) {
        s->smb[off] &= (uint8_t)~val;
        return;
    }
    if (off == SMB_HST_CNT) {
        s->smb[off] = (uint8_t)val & ~(SMB_CNT_START | SMB_CNT_KILL);
        if (val & SMB_CNT_KILL) {
            s->smb[SMB_HST_STS] |= SMB_STS_FAILED;
        } else if (val & SMB_CNT_START) {
            s->smb[SMB_HST_STS] |= SMB_STS_DEV_ERR;   /* nobody answered */
        }
        return;
    }
    s->smb[off] = (uint8_t)val;
}

static const MemoryRegionOps smb_ops = {
    .read = smb_read, .write = smb_write, .min_access = 1, .max_access = 1,
};

/* ---- PCI config: PMBA / PM I/O enable ---- */

/* Map or move an I/O region per its base/enable config bits. */
static void io_space_update(MemoryRegion *mr, bool *added, uint16_t base, bool on)
{
    memory_begin();
    if (on && !*added) {
        mr_add_subregion(system_io, base, mr, 0);
        *added = true;
    } else if (*added) {
        mr_set_address(mr, base);
    }
    if (*added) {
        mr_set_enabled(mr, on);
    }
    memory_commit();
}

/* PM registers: PMBA (0x40) bits 15:6, enabled by PMREGMISC bit 0. */
static void pm_io_space_update(PIIX4PMState *s)
{
    uint8_t *c = s->pci.config;
    io_space_update(&s->io_pm, &s->pm_added, pci_get_word(c + PMBA_CFG) & 0xffc0,
                    c[PMREGMISC_CFG] & 1);
}

/* SMBus host: SMBBA (0x90) bits 15:4, enabled by SMBHSTCFG bit 0. QEMU
 * starts it at 0xb100; SeaBIOS moves it to 0x700. */
static void smb_io_space_update(PIIX4PMState *s)
{
    uint8_t *c = s->pci.config;
    io_space_update(&s->io_smb, &s->smb_added, pci_get_word(c + SMBBA_CFG) & 0xfff0,
                    c[SMBHSTCFG_CFG] & 1);
}

static bool cfg_hit(uint32_t addr, int len, uint32_t reg, int reg_len)
{
    return addr < reg + reg_len && addr + len > reg;
}

static void piix4_pm_config_write(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    pci_default_write_config(d, addr, val, len);
    if (cfg_hit(addr, len, PMBA_CFG, 4) || cfg_hit(addr, len, PMREGMISC_CFG, 1)) {
        pm_io_space_update((PIIX4PMState *)d);
    }
    if (cfg_hit(addr, len, SMBBA_CFG, 4) || cfg_hit(addr, len, SMBHSTCFG_CFG, 1)) {
        smb_io_space_update((PIIX4PMState *)d);
    }
}

void piix4_pm_set_base(DeviceState *pm, uint16_t base)
{
    PIIX4PMState *s = PIIX4_PM(pm);
    pci_set_long(s->pci.config + PMBA_CFG, (uint32_t)(base & 0xffc0) | 1);
    s->pci.config[PMREGMISC_CFG] |= 1;
    pm_io_space_update(s);
}

void piix4_pm_connect_sci(DeviceState *pm, IrqHandler *fn, void *opaque, int n)
{
    irq_connect(&PIIX4_PM(pm)->sci, fn, opaque, n);
}

void piix4_pm_raise_gpe(void *opaque, uint8_t bits)
{
    PIIX4PMState *s = opaque;
    s->gpe_sts[0] |= bits;
    update_sci(s);
}

/* ---- power button, reset, realize ---- */

static void piix4_pm_powerdown(Notifier *n, void *data)
{
    PIIX4PMState *s = (PIIX4PMState *)((char *)n - offsetof(PIIX4PMState, powerdown));
    (void)data;
    /* Fixed-feature power button (FADT PWR_BUTTON clear): status is
     * latched only while the guest has it enabled, as in QEMU. */
    if (s->pm1_en & PM_PWRBTN_EN) {
        s->pm1_sts |= ACPI_PM1_PWRBTN_STS;
        update_sci(s);
    }
}

static void piix4_pm_reset(DeviceState *dev)
{
    PIIX4PMState *s = PIIX4_PM(dev);
    uint8_t *c = s->pci.config;

    if (pci_device_class.reset) {
        pci_device_class.reset(dev);    /* command register, BARs, INTx */
    }
    c[0x58] = c[0x59] = c[0x5a] = 0;
    c[0x5b] = 0x02;             /* no SMM: mark SMI "already initialised" */
    s->pm1_sts = s->pm1_en = s->pm1_cnt = 0;
    memset(s->gpe_sts, 0, sizeof(s->gpe_sts));
    memset(s->gpe_en, 0, sizeof(s->gpe_en));
    s->apm_cnt = s->apm_sts = 0;
    memset(s->smb, 0, sizeof(s->smb));
    tmr_calc_overflow(s);
    update_sci(s);
    pm_io_space_update(s);
    smb_io_space_update(s);
}

static bool piix4_pm_realize(DeviceState *dev, Error **errp)
{
    PIIX4PMState *s = PIIX4_PM(dev);
    PCIDevice *d = &s->pci;

    /* qdev calls only the leaf's realize; run the generic PCI part first. */
    if (pci_device_class.realize && !pci_device_class.realize(dev, errp)) {
        return false;
    }
    pci_config_set_ids(d, 0x8086, 0x7113, 0x0680, 0x03, 0x00);
    d->config[PCI_INTERRUPT_PIN] = 0x01;
    d->config[PMBA_CFG] = 0x01;                 /* I/O space indicator */
    /* Device-specific registers are writable (QEMU: all of 0x40..0xff);
     * PMBA/SMBBA bit 0 is the read-only I/O indicator, bits 5:1 are 0. */
    memset(d->wmask + 0x40, 0xff, 0xc0);
    d->wmask[PMBA_CFG] = 0xc0;
    d->wmask[PMBA_CFG + 2] = d->wmask[PMBA_CFG + 3] = 0;
    d->wmask[SMBBA_CFG] = 0xf0;
    d->wmask[SMBBA_CFG + 2] = d->wmask[SMBBA_CFG + 3] = 0;
    pci_set_long(d->config + SMBBA_CFG, (s->smb_io_base & 0xfff0) | 1);
    if (s->smb_io_base) {
        d->config[SMBHSTCFG_CFG] = 0x09;        /* SMBus enabled, IRQ 9 */
    }
    d->config_write = piix4_pm_config_write;

    mr_init_io(&s->io_pm, "acpi-pm", &pm_ops, s, ACPI_PM_IO_SIZE);
    mr_init_io(&s->io_gpe, "acpi-gpe0", &gpe_ops, s, ACPI_GPE0_LEN);
    mr_init_io(&s->io_apm, "apm-io", &apm_ops, s, 2);
    mr_add_subregion(system_io, ACPI_GPE0_BASE, &s->io_gpe, 0);
    mr_add_subregion(system_io, ACPI_SMI_CMD_PORT, &s->io_apm, 0);
    mr_init_io(&s->io_smb, "pm-smbus", &smb_ops, s, 64);
    s->tmr_timer = timer_new(CLOCK_VIRTUAL_NS, tmr_cb, s);
    s->powerdown.fn = piix4_pm_powerdown;
    qemu_register_powerdown_notifier(&s->powerdown);
    piix4_pm_reset(dev);
    return true;
}

static const Property piix4_pm_props[] = {
    DEFINE_PROP("smb_io_base", PIIX4PMState, smb_io_base, uint32, "0xb100"),
    DEFINE_PROP("s4_val", PIIX4PMState, s4_val, uint8, "2"),
    DEFINE_PROP_END,
};

static const DeviceClass piix4_pm_class = {
    .name = TYPE_PIIX4_PM,
    .bus_type = "PCI",
    .desc = "PM",
    .category = "Bridge devices",
    .parent = &pci_device_class,
    .instance_size = sizeof(PIIX4PMState),
    .props = piix4_pm_props,
    .user_creatable = false,    /* board-only, as in QEMU */
    .realize = piix4_pm_realize,
    .reset = piix4_pm_reset,
};

MODULE_INIT(piix4_pm_register)
{
    device_class_register(&piix4_pm_class);
}
