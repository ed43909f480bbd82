/*
 * Device test harness. The device models run on kemu's real core: Error
 * (util/error.c), timers (system/timer.c, CLOCK_VIRTUAL in manual mode),
 * memory regions and dispatch (system/memory.c, system/dispatch.c), qdev
 * and properties (hw/core/qdev.c, props.c, isa.c), the BQL
 * (system/main-loop.c) and the chardev frontend API (chardev/).
 * What stays here is what a test must control or observe: ISA IRQ line
 * recorders, a capturing chardev backend with settable backpressure,
 * run-state request recorders (the real ones exit the process or need the
 * main loop), and bare vCPU objects (system/cpus.c needs an accelerator).
 * Linked only into the test-dev-* programs, never into kemu itself.
 * Locking: single-threaded; dispatch takes the real BQL around callbacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/devtest.h"
#include "chardev/char-internal.h"
#include "monitor/monitor.h"
#include "hw/isa.h"
#include "hw/machine.h"
#include "system/runstate.h"

static Bus *isa_bus;

static void devtest_init(void)
{
    if (isa_bus) {
        return;
    }
    memory_init();
    clock_virtual_set_manual(0, true);
    isa_bus = bus_new("ISA", "isa.0", NULL);
}

/* ---------------- port and MMIO dispatch ---------------- */

uint64_t devtest_io_read(uint16_t port, unsigned size)
{
    return as_ld(&as_io, port, size);
}

void devtest_io_write(uint16_t port, uint64_t val, unsigned size)
{
    as_st(&as_io, port, val, size);
}

uint64_t devtest_inb(uint16_t port)
{
    return devtest_io_read(port, 1);
}

void devtest_outb(uint16_t port, uint8_t val)
{
    devtest_io_write(port, val, 1);
}

uint64_t devtest_mmio_read(uint64_t addr, unsigned size)
{
    return as_ld(&as_memory, addr, size);
}

void devtest_mmio_write(uint64_t addr, uint64_t val, unsigned size)
{
    as_st(&as_memory, addr, val, size);
}

/* ---------------- ISA IRQ recorders (the board's GSI fan-out is not linked) */

int devtest_irq_level[24];
int devtest_irq_raised[24];

static void devtest_irq_handler(void *opaque, int n, int level)
{
    (void)opaque;
    if (getenv("DEVTEST_IRQ_TRACE")) {
        fprintf(stderr, "irq %d <- %d at %lld\n", n, level,
                (long long)clock_get_ns(CLOCK_VIRTUAL_NS));
    }
    if (level && !devtest_irq_level[n]) {
        devtest_irq_raised[n]++;
    }
    devtest_irq_level[n] = level;
}

IrqLine isa_get_irq(int n)
{
    IrqLine l;
    irq_connect(&l, devtest_irq_handler, NULL, n);
    return l;
}

void devtest_irq_clear_counts(void)
{
    memset(devtest_irq_raised, 0, sizeof(devtest_irq_raised));
}

/* hw/core/machine.c is not linked (isa_get_irq above replaces its fan-out). */
void machine_register_reset(void (*fn)(void *opaque), void *opaque)
{
    (void)fn;
    (void)opaque;
}

/* ---------------- capturing chardev backend ---------------- */

static int devtest_chr_write(Chardev *chr, const uint8_t *buf, int len)
{
    DevtestChr *c = (DevtestChr *)chr;
    int n = len;
    if (c->space >= 0 && n > c->space) {
        n = c->space;
    }
    if (c->space >= 0) {
        c->space -= n;
    }
    g_string_append_len(c->out, (const char *)buf, n);
    return n;
}

static void devtest_chr_close(Chardev *chr)
{
    g_string_free(((DevtestChr *)chr)->out, TRUE);
}

static const ChardevOps devtest_chr_ops = {
    .name = "devtest",
    .instance_size = sizeof(DevtestChr),
    .write = devtest_chr_write,
    .close = devtest_chr_close,
};

/* chardev/char.c's "mon:" legacy specs start a monitor; the monitor (QMP,
 * every command) is far outside the devices under test: never reached. */
Monitor *monitor_new(Chardev *chr, bool qmp, bool pretty, Error **errp)
{
    (void)chr;
    (void)qmp;
    (void)pretty;
    error_setg(errp, "no monitor in device tests");
    return NULL;
}

DevtestChr *devtest_chr_new(const char *id)
{
    DevtestChr *c = (DevtestChr *)chr_alloc(&devtest_chr_ops, id);
    c->chr.opened = true;
    c->out = g_string_new(NULL);
    c->space = -1;
    chr_add(&c->chr);
    return c;
}

int devtest_chr_input(DevtestChr *c, const uint8_t *buf, int len)
{
    int done = 0;
    while (done < len) {
        int n = MIN(chr_be_can_write(&c->chr), len - done);
        if (n <= 0) {
            break;
        }
        chr_be_write(&c->chr, buf + done, n);
        done += n;
    }
    return done;
}

/* ---------------- device creation ---------------- */

DeviceState *devtest_create(const char *spec)
{
    devtest_init();
    gchar **parts = g_strsplit(spec, ",", -1);
    Error *err = NULL;
    DeviceState *dev = dev_new(parts[0], &err);
    for (int i = 1; dev && parts[i]; i++) {
        gchar **kv = g_strsplit(parts[i], "=", 2);
        if (!dev_set_prop(dev, kv[0], kv[1] ? kv[1] : "on", &err)) {
            dev = NULL;
        }
        g_strfreev(kv);
    }
    if (dev && !dev_realize(dev, NULL, &err)) {
        dev = NULL;
    }
    if (!dev) {
        fprintf(stderr, "devtest_create(%s): %s\n", spec, err ? error_get_pretty(err) : "?");
        g_assert_not_reached();
    }
    /* the board's system reset would run next */
    for (const DeviceClass *c = dev->cls; c; c = c->parent) {
        if (c->reset) {
            c->reset(dev);
            break;
        }
    }
    g_strfreev(parts);
    return dev;
}

/* ---------------- run-state request recorders ---------------- */

int devtest_exit_status = -1;
int devtest_reset_requests;
int devtest_shutdown_requests;

void qemu_system_exit_request(int status)
{
    devtest_exit_status = status;
}

void qemu_system_reset_request(ShutdownCause cause)
{
    (void)cause;
    devtest_reset_requests++;
}

void qemu_system_shutdown_request(ShutdownCause cause)
{
    (void)cause;
    devtest_shutdown_requests++;
}

/* ---------------- vCPUs (no accelerator, no threads) ---------------- */

CPUState **cpus;
int n_cpus;
__thread CPUState *current_cpu;
const AccelOps *current_accel;
Machine *current_machine;

void devtest_make_cpus(int n)
{
    cpus = g_new0(CPUState *, n);
    for (int i = 0; i < n; i++) {
        cpus[i] = g_new0(CPUState, 1);
        cpus[i]->index = i;
        cpus[i]->env.apic_id = i;
    }
    n_cpus = n;
    current_cpu = cpus[0];
}

void cpu_interrupt(CPUState *cpu, unsigned mask)
{
    atomic_fetch_or(&cpu->interrupt_request, mask);
}

void cpu_reset_interrupt(CPUState *cpu, unsigned mask)
{
    atomic_fetch_and(&cpu->interrupt_request, ~mask);
}

void cpu_kick(CPUState *cpu)
{
    (void)cpu;
}

void qemu_cpu_wake(CPUState *cpu)
{
    cpu->halted = false;
}

/* MSIs from devices when the test links no LAPIC (weak: apic.c wins). */
uint64_t devtest_msi_addr;
uint32_t devtest_msi_data;
int devtest_msi_count;

__attribute__((weak)) void apic_deliver_msi(uint64_t addr, uint32_t data)
{
    devtest_msi_addr = addr;
    devtest_msi_data = data;
    devtest_msi_count++;
}

static void collect_dev(DeviceState *dev, void *opaque)
{
    g_ptr_array_add(opaque, dev);
}

void devtest_reset(void)
{
    devtest_init();
    /* forget the previous case's devices, their regions, timers and chardevs */
    g_autoptr(GPtrArray) devs = g_ptr_array_new();
    dev_foreach(collect_dev, devs);
    for (guint i = 0; i < devs->len; i++) {
        dev_unrealize(g_ptr_array_index(devs, i));
    }
    memory_begin();
    MemoryRegion *roots[] = { system_io, system_memory };
    for (unsigned i = 0; i < G_N_ELEMENTS(roots); i++) {
        while (roots[i]->subregions->len) {
            mr_del_subregion(roots[i], g_ptr_array_index(roots[i]->subregions, 0));
        }
    }
    memory_commit();
    timers_del_all();
    chr_close_all();
    clock_virtual_set_manual(0, true);
    memset(devtest_irq_level, 0, sizeof(devtest_irq_level));
    devtest_irq_clear_counts();
    devtest_exit_status = -1;
    devtest_reset_requests = 0;
    devtest_shutdown_requests = 0;
}
