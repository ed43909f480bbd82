/*
 * The interpreter's only calls into the rest of kemu outside memory
 * dispatch: CPUID and feature bits (target/i386/cpu.c), the local APIC
 * (hw/intc/apic.c) and CPU reset. Unit tests link their own stubs instead
 * of this file.
 * Spec: architecture.md §3.3; include/hw/intc.h.
 * Locking: called on the vCPU thread without the BQL; the APIC functions
 * take the locks they need.
 */
#include "interp.h"
#include "hw/intc.h"
#include "system/main-loop.h"
#include "system/timer.h"


void ihook_cpuid(CPUX86State *env, uint32_t leaf, uint32_t sub,
                 uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    cpu_x86_cpuid(env, leaf, sub, a, b, c, d);
}

bool ihook_has_feature(CPUX86State *env, FeatureWord w, uint32_t bit)
{
    return cpu_x86_has_feature(env, w, bit);
}

int ihook_get_interrupt(CPUState *cpu)
{
    return apic_get_interrupt(cpu);
}

bool ihook_has_interrupt(CPUState *cpu)
{
    return apic_has_interrupt(cpu);
}

uint8_t ihook_get_tpr(CPUState *cpu)
{
    return apic_get_tpr(cpu);
}

void ihook_set_tpr(CPUState *cpu, uint8_t v)
{
    apic_set_tpr(cpu, v);
}

void ihook_set_apic_base(CPUState *cpu, uint64_t v)
{
    apic_set_base(cpu, v);
}

uint64_t ihook_get_tsc_deadline(CPUState *cpu)
{
    return apic_get_tsc_deadline(cpu);
}

void ihook_set_tsc_deadline(CPUState *cpu, uint64_t v)
{
    apic_set_tsc_deadline(cpu, v);
}

uint64_t ihook_clock_ns(void)
{
    return clock_get_ns(CLOCK_VIRTUAL_NS);
}

void ihook_cpu_reset(CPUX86State *env)
{
    x86_cpu_reset(env);
}

void ihook_init_reset(CPUState *cpu)
{
    /* power-on state for INIT; APs come back halted, waiting for SIPI */
    bql_lock();
    x86_cpu_reset_state(cpu);
    bql_unlock();
}
