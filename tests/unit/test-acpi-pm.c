/*
 * Unit tests for the PIIX4 PM function (hw/acpi/piix4-pm.c) against small
 * fakes of the memory, timer, PCI, qdev and runstate APIs defined below:
 * config space and PMBA mapping, PM timer rate and wrap, TMR_STS + SCI,
 * S5/S4 sleep requests, ACPI enable through 0xb2, the power button, GPE0
 * and the SMBus stub (PIIX4 datasheet §7; ACPI 6.4 §4.8).
 * Locking: single-threaded test; the fakes stand in for the BQL world.
 */
#include <string.h>
#include <glib.h>
#include "hw/acpi/acpi.h"
#include "hw/acpi/piix4.h"

/* ---- fakes ---- */

static int64_t fake_ns;
static MemoryRegion fake_io_root;
MemoryRegion *system_io = &fake_io_root;
static MemoryRegion *regions[16];
static int n_regions;

void mr_init_io(MemoryRegion *mr, const char *name, const MemoryRegionOps *ops,
                void *opaque, uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->kind = MR_IO;
    mr->name = g_strdup(name);
    mr->ops = ops;
    mr->opaque = opaque;
    mr->size = size;
    mr->enabled = true;
}

void mr_add_subregion(MemoryRegion *parent, uint64_t addr, MemoryRegion *sub, int prio)
{
    g_assert(parent == system_io);
    g_assert_cmpint(n_regions, <, 16);
    sub->parent = parent;
    sub->addr = addr;
    sub->prio = prio;
    regions[n_regions++] = sub;
}

void mr_set_enabled(MemoryRegion *mr, bool on) { mr->enabled = on; }
void mr_set_address(MemoryRegion *mr, uint64_t addr) { mr->addr = addr; }
void memory_begin(void) { }
void memory_commit(void) { }

static MemoryRegion *io_find(uint16_t port)
{
    for (int i = 0; i < n_regions; i++) {
        MemoryRegion *mr = regions[i];
        if (mr->enabled && port >= mr->addr && port < mr->addr + mr->size) {
            return mr;
        }
    }
    return NULL;
}

static uint32_t io_in(uint16_t port, unsigned size)
{
    MemoryRegion *mr = io_find(port);
    return mr ? (uint32_t)mr->ops->read(mr->opaque, port - mr->addr, size)
              : (uint32_t)((1ull << (8 * size)) - 1);
}

static void io_out(uint16_t port, uint32_t val, unsigned size)
{
    MemoryRegion *mr = io_find(port);
    if (mr) {
        mr->ops->write(mr->opaque, port - mr->addr, val, size);
    }
}

struct Timer {
    TimerCb *cb;
    void *opaque;
    int64_t expire;     /* -1: not pending */
};

int64_t clock_get_ns(ClockType c)
{
    g_assert(c == CLOCK_VIRTUAL_NS);
    return fake_ns;
}

Timer *timer_new(ClockType c, TimerCb *cb, void *opaque)
{
    g_assert(c == CLOCK_VIRTUAL_NS);
    Timer *t = g_new0(Timer, 1);
    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
    return t;
}

void timer_mod(Timer *t, int64_t expire_ns) { t->expire = expire_ns; }
void timer_del(Timer *t) { t->expire = -1; }

static Timer *pm_timer(PIIX4PMState *s) { return s->tmr_timer; }

/* Advance virtual time, firing the PM timer when it is due. */
static void clock_step_to(PIIX4PMState *s, int64_t ns)
{
    fake_ns = ns;
    Timer *t = pm_timer(s);
    if (t->expire >= 0 && t->expire <= ns) {
        t->expire = -1;
        t->cb(t->opaque);
    }
}

static int shutdown_requests;
static ShutdownCause last_cause;
void qemu_system_shutdown_request(ShutdownCause cause)
{
    shutdown_requests++;
    last_cause = cause;
}

static Notifier *powerdown_notifier;
void qemu_register_powerdown_notifier(Notifier *n) { powerdown_notifier = n; }

const DeviceClass pci_device_class = { .name = "pci-device" };
const PropType prop_uint8 = { .name = "uint8" }, prop_uint32 = { .name = "uint32" };
static const DeviceClass *registered;
void device_class_register(const DeviceClass *cls)
{
    if (strcmp(cls->name, TYPE_PIIX4_PM) == 0) {
        registered = cls;
    }
}

void pci_config_set_ids(PCIDevice *d, uint16_t vendor, uint16_t device, uint16_t class_code,
                        uint8_t revision, uint8_t prog_if)
{
    pci_set_word(d->config + PCI_VENDOR_ID, vendor);
    pci_set_word(d->config + PCI_DEVICE_ID, device);
    pci_set_word(d->config + PCI_CLASS_DEVICE, class_code);
    d->config[PCI_REVISION_ID] = revision;
    d->config[PCI_CLASS_PROG] = prog_if;
}

void pci_default_write_config(PCIDevice *d, uint32_t addr, uint32_t val, int len)
{
    for (int i = 0; i < len; i++) {
        uint8_t m = d->wmask[addr + i];
        d->config[addr + i] = (uint8_t)((d->config[addr + i] & ~m) | ((val >> (8 * i)) & m));
    }
}

static int sci_level = -1, sci_edges;
static void sci_handler(void *opaque, int n, int level)
{
    (void)opaque;
    g_assert_cmpint(n, ==, 9);
    if (level != sci_level) {
        sci_edges++;
    }
    sci_level = level;
}

/* ---- fixture ---- */

static PIIX4PMState *pm_new(void)
{
    g_assert_nonnull(registered);
    n_regions = 0;
    fake_ns = 0;
    shutdown_requests = 0;
    sci_level = -1;
    PIIX4PMState *s = g_malloc0(registered->instance_size);
    s->pci.qdev.cls = registered;
    s->smb_io_base = 0xb100;    /* property defaults, as qdev would set */
    s->s4_val = 2;
    piix4_pm_connect_sci(&s->pci.qdev, sci_handler, NULL, 9);
    g_assert_true(registered->realize(&s->pci.qdev, NULL));
    return s;
}

static void pm_enable_like_seabios(PIIX4PMState *s)
{
    s->pci.config_write(&s->pci, 0x40, ACPI_PM_BASE | 1, 4);
    s->pci.config_write(&s->pci, 0x80, 0x01, 1);
}

/* ---- tests ---- */

static void test_config(void)
{
    PIIX4PMState *s = pm_new();
    uint8_t *c = s->pci.config;
    g_assert_cmpuint(pci_get_word(c + 0), ==, 0x8086);
    g_assert_cmpuint(pci_get_word(c + 2), ==, 0x7113);
    g_assert_cmpuint(c[8], ==, 0x03);
    g_assert_cmpuint(pci_get_word(c + 0x0a), ==, 0x0680);
    g_assert_cmpuint(c[PCI_INTERRUPT_PIN], ==, 1);
    g_assert_cmpuint(pci_get_long(c + 0x90), ==, 0xb101);
    g_assert_cmpuint(registered->user_creatable, ==, false);

    /* PM space is not decoded until PMBA is set and 0x80 bit 0 enabled. */
    g_assert_cmpuint(io_in(ACPI_PM_BASE + ACPI_PM_TMR_OFS, 4), ==, 0xffffffff);
    s->pci.config_write(&s->pci, 0x40, 0xffffffff, 4);
    g_assert_cmpuint(pci_get_long(c + 0x40), ==, 0xffc1);   /* 64-byte, I/O bit */
    s->pci.config_write(&s->pci, 0x40, ACPI_PM_BASE, 4);
    g_assert_cmpuint(io_in(ACPI_PM_BASE + ACPI_PM_TMR_OFS, 4), ==, 0xffffffff);
    s->pci.config_write(&s->pci, 0x80, 0x01, 1);
    fake_ns = 1000000;
    g_assert_cmpuint(io_in(ACPI_PM_BASE + ACPI_PM_TMR_OFS, 4), ==, 3579);
    s->pci.config_write(&s->pci, 0x80, 0x00, 1);
    g_assert_cmpuint(io_in(ACPI_PM_BASE + ACPI_PM_TMR_OFS, 4), ==, 0xffffffff);

    /* Direct boot path. */
    piix4_pm_set_base(&s->pci.qdev, 0x700);
    g_assert_cmpuint(io_in(0x700 + ACPI_PM_TMR_OFS, 4), ==, 3579);
    g_free(s);
}

static void test_pm_timer(void)
{
    PIIX4PMState *s = pm_new();
    pm_enable_like_seabios(s);
    uint16_t tmr = ACPI_PM_BASE + ACPI_PM_TMR_OFS;
    g_assert_cmpuint(io_in(tmr, 4), ==, 0);
    fake_ns = NANOSECONDS_PER_SECOND;
    g_assert_cmpuint(io_in(tmr, 4), ==, ACPI_PM_TIMER_HZ);
    fake_ns = 5 * NANOSECONDS_PER_SECOND;           /* 24-bit wrap */
    g_assert_cmpuint(io_in(tmr, 4), ==, (5ull * ACPI_PM_TIMER_HZ) & 0xffffff);
    fake_ns = 3600 * NANOSECONDS_PER_SECOND + 123456789;
    uint64_t want = (uint64_t)((unsigned __int128)fake_ns * ACPI_PM_TIMER_HZ / 1000000000);
    g_assert_cmpuint(io_in(tmr, 4), ==, want & 0xffffff);
    g_free(s);
}

static void test_timer_sci(void)
{
    PIIX4PMState *s = pm_new();
    pm_enable_like_seabios(s);
    g_assert_cmpint(sci_level, ==, 0);
    io_out(ACPI_PM_BASE + 2, 0x0001, 2);            /* TMR_EN */
    g_assert_cmpint(pm_timer(s)->expire, >, 0);
    /* Bit 23 toggles after 2^23 ticks, about 2.34 s. */
    int64_t due = (int64_t)((0x800000ull * NANOSECONDS_PER_SECOND + ACPI_PM_TIMER_HZ - 1) /
                            ACPI_PM_TIMER_HZ);
    g_assert_cmpint(pm_timer(s)->expire, ==, due);
    clock_step_to(s, due - 1);
    g_assert_cmpint(sci_level, ==, 0);
    clock_step_to(s, due);
    g_assert_cmpint(sci_level, ==, 1);
    g_assert_cmpuint(io_in(ACPI_PM_BASE, 2) & ACPI_PM1_TMR_STS, !=, 0);
    io_out(ACPI_PM_BASE, ACPI_PM1_TMR_STS, 2);      /* write 1 to clear */
    g_assert_cmpint(sci_level, ==, 0);
    g_assert_cmpuint(io_in(ACPI_PM_BASE, 2) & ACPI_PM1_TMR_STS, ==, 0);
    g_assert_cmpint(pm_timer(s)->expire, >, due);
    /* Disabled: TMR_STS still latches but no SCI. */
    io_out(ACPI_PM_BASE + 2, 0, 2);
    g_assert_cmpint(pm_timer(s)->expire, ==, -1);
    fake_ns = 10 * NANOSECONDS_PER_SECOND;
    g_assert_cmpuint(io_in(ACPI_PM_BASE, 2) & ACPI_PM1_TMR_STS, !=, 0);
    g_assert_cmpint(sci_level, ==, 0);
    g_free(s);
}

static void test_sleep(void)
{
    PIIX4PMState *s = pm_new();
    pm_enable_like_seabios(s);
    uint16_t cnt = ACPI_PM_BASE + ACPI_PM1_CNT_OFS;

    /* SLP_TYP without SLP_EN does nothing; SLP_EN reads back as 0. */
    io_out(cnt, ACPI_PM1_CNT_SCI_EN | (0 << 10), 2);
    g_assert_cmpint(shutdown_requests, ==, 0);
    /* S3 (type 1) is not offered: ignored. */
    io_out(cnt, ACPI_PM1_CNT_SCI_EN | (1 << 10) | ACPI_PM1_CNT_SLP_EN, 2);
    g_assert_cmpint(shutdown_requests, ==, 0);
    g_assert_cmpuint(io_in(cnt, 2), ==, ACPI_PM1_CNT_SCI_EN | (1 << 10));
    /* S5: \_S5 is {0, 0, 0, 0}. */
    io_out(cnt, ACPI_PM1_CNT_SCI_EN | (0 << 10) | ACPI_PM1_CNT_SLP_EN, 2);
    g_assert_cmpint(shutdown_requests, ==, 1);
    g_assert_cmpint(last_cause, ==, SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    /* S4 (s4_val 2) also powers off; a byte write of the high half works. */
    io_out(cnt + 1, (2 << 2) | (ACPI_PM1_CNT_SLP_EN >> 8), 1);
    g_assert_cmpint(shutdown_requests, ==, 2);
    g_free(s);
}

static void test_apm_acpi_enable(void)
{
    PIIX4PMState *s = pm_new();
    pm_enable_like_seabios(s);
    uint16_t cnt = ACPI_PM_BASE + ACPI_PM1_CNT_OFS;
    g_assert_cmpuint(io_in(cnt, 2) & ACPI_PM1_CNT_SCI_EN, ==, 0);
    io_out(ACPI_SMI_CMD_PORT, ACPI_ENABLE_CMD, 1);
    g_assert_cmpuint(io_in(cnt, 2) & ACPI_PM1_CNT_SCI_EN, ==, 1);
    g_assert_cmpuint(io_in(ACPI_SMI_CMD_PORT, 1), ==, ACPI_ENABLE_CMD);
    io_out(ACPI_SMI_CMD_PORT + 1, 0x5a, 1);
    g_assert_cmpuint(io_in(ACPI_SMI_CMD_PORT + 1, 1), ==, 0x5a);
    io_out(ACPI_SMI_CMD_PORT, ACPI_DISABLE_CMD, 1);
    g_assert_cmpuint(io_in(cnt, 2) & ACPI_PM1_CNT_SCI_EN, ==, 0);
    g_free(s);
}

static void test_power_button(void)
{
    PIIX4PMState *s = pm_new();
    pm_enable_like_seabios(s);
    g_assert_nonnull(powerdown_notifier);
    /* Not enabled by the guest: nothing latches (as in QEMU). */
    powerdown_notifier->fn(powerdown_notifier, NULL);
    g_assert_cmpuint(io_in(ACPI_PM_BASE, 2) & ACPI_PM1_PWRBTN_STS, ==, 0);
    g_assert_cmpint(sci_level, ==, 0);
    io_out(ACPI_SMI_CMD_PORT, ACPI_ENABLE_CMD, 1);
    io_out(ACPI_PM_BASE + 2, 0x0100, 2);            /* PWRBTN_EN */
    powerdown_notifier->fn(powerdown_notifier, NULL);
    g_assert_cmpuint(io_in(ACPI_PM_BASE, 2) & ACPI_PM1_PWRBTN_STS, !=, 0);
    g_assert_cmpint(sci_level, ==, 1);
    io_out(ACPI_PM_BASE + 1, ACPI_PM1_PWRBTN_STS >> 8, 1);   /* byte w1c */
    g_assert_cmpuint(io_in(ACPI_PM_BASE, 2) & ACPI_PM1_PWRBTN_STS, ==, 0);
    g_assert_cmpint(sci_level, ==, 0);
    /* Reset clears the enables and status. */
    powerdown_notifier->fn(powerdown_notifier, NULL);
    g_assert_cmpint(sci_level, ==, 1);
    registered->reset(&s->pci.qdev);
    g_assert_cmpint(sci_level, ==, 0);
    g_assert_cmpuint(io_in(ACPI_PM_BASE + 2, 2), ==, 0);
    g_free(s);
}

static void test_gpe_smbus(void)
{
    PIIX4PMState *s = pm_new();
    io_out(ACPI_GPE0_BASE + 2, 0xffff, 2);
    g_assert_cmpuint(io_in(ACPI_GPE0_BASE, 4), ==, 0xffff0000);
    io_out(ACPI_GPE0_BASE, 0xffff, 2);
    g_assert_cmpuint(io_in(ACPI_GPE0_BASE, 2), ==, 0);
    g_assert_cmpint(sci_level, ==, 0);

    /* SMBus quick command to address 0x50: no device answers. */
    io_out(ACPI_SMBUS_BASE + 4, 0x50 << 1, 1);
    io_out(ACPI_SMBUS_BASE + 2, 0x40 | 0x08, 1);    /* START, byte data */
    g_assert_cmpuint(io_in(ACPI_SMBUS_BASE, 1) & 0x01, ==, 0);   /* not busy */
    g_assert_cmpuint(io_in(ACPI_SMBUS_BASE, 1) & 0x04, ==, 0x04);
    io_out(ACPI_SMBUS_BASE, 0xff, 1);
    g_assert_cmpuint(io_in(ACPI_SMBUS_BASE, 1), ==, 0);

    /* SeaBIOS moves SMBus to 0x700 through SMBBA and re-enables it. */
    s->pci.config_write(&s->pci, 0x90, 0x701, 4);
    s->pci.config_write(&s->pci, 0xd2, 0x09, 1);
    g_assert_cmpuint(pci_get_long(s->pci.config + 0x90), ==, 0x701);
    g_assert_cmpuint(io_in(ACPI_SMBUS_BASE, 1), ==, 0xff);
    io_out(0x702, 0x40, 1);
    g_assert_cmpuint(io_in(0x700, 1), ==, 0x04);
    s->pci.config_write(&s->pci, 0xd2, 0x08, 1);    /* host disabled */
    g_assert_cmpuint(io_in(0x700, 1), ==, 0xff);
    g_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi/piix4-pm/config", test_config);
    g_test_add_func("/acpi/piix4-pm/pm-timer-rate", test_pm_timer);
    g_test_add_func("/acpi/piix4-pm/timer-sci", test_timer_sci);
    g_test_add_func("/acpi/piix4-pm/sleep-s5-s4", test_sleep);
    g_test_add_func("/acpi/piix4-pm/apm-acpi-enable", test_apm_acpi_enable);
    g_test_add_func("/acpi/piix4-pm/power-button", test_power_button);
    g_test_add_func("/acpi/piix4-pm/gpe-smbus", test_gpe_smbus);
    return g_test_run();
}
