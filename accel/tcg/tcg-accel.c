/*
 * The "tcg" accelerator: glue between the common vCPU loop (system/cpus.c)
 * and the software x86-64 CPU in target/i386/interp. One round-robin thread
 * runs every vCPU; each vcpu_exec call runs a slice of up to TCG_SLICE
 * instructions or until exit_request is set.
 * Spec: docs/architecture.md §3.3, docs/interp.md.
 * Locking: vcpu_exec runs without the BQL (MMIO/PIO take it inside as_rw);
 * vcpu_kick may be called from any thread and only sets exit_request.
 */
#include <stdatomic.h>
#include <glib.h>
#include "util/error.h"   /* before cpus.h: cpu.h names struct Error */
#include "system/cpus.h"
#include "util/module.h"
#include "hw/intc.h"
#include "target/i386/interp/interp-api.h"

#define TCG_SLICE 100000

static bool tcg_available(Error **errp)
{
    (void)errp;
    return true;
}

/* TSC-deadline timer: the LAPIC arms CLOCK_VIRTUAL timers in ns. */
static int64_t tcg_tsc_to_ns(CPUState *cpu, uint64_t tsc)
{
    return cpu->accel ? interp_tsc_to_ns(cpu->accel, tsc) : (int64_t)tsc;
}

static bool tcg_init(Machine *m, Error **errp)
{
    (void)m;
    (void)errp;
    apic_tsc_to_ns = tcg_tsc_to_ns;
    return true;
}

static bool tcg_vcpu_init(CPUState *cpu, Error **errp)
{
    (void)errp;
    cpu->accel = interp_new(cpu);
    interp_set_yield_on_pause(cpu->accel, n_cpus > 1);
    return true;
}

static int tcg_vcpu_exec(CPUState *cpu)
{
    current_cpu = cpu;
    return interp_exec(cpu->accel, TCG_SLICE);
}

static void tcg_vcpu_kick(CPUState *cpu)
{
    atomic_store(&cpu->exit_request, 1);
}

/* env is the architectural truth between slices: nothing to pull. */
static void tcg_sync_state(CPUState *cpu)
{
    (void)cpu;
}

/* env was changed from outside (monitor, loader, reset): drop caches. */
static void tcg_put_state(CPUState *cpu)
{
    if (cpu->accel) {
        interp_flush(cpu->accel);
    }
}

static const AccelOps tcg_ops = {
    .name = "tcg",
    .one_thread_per_vcpu = false,
    .available = tcg_available,
    .init = tcg_init,
    .vcpu_init = tcg_vcpu_init,
    .vcpu_exec = tcg_vcpu_exec,
    .vcpu_kick = tcg_vcpu_kick,
    .sync_state = tcg_sync_state,
    .put_state = tcg_put_state,
    .cpu_reset = tcg_put_state,
    .irqchip_in_kernel = false,
};

MODULE_INIT(tcg_register)
{
    accel_register(&tcg_ops);
}
