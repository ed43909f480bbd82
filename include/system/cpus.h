/*
 * vCPUs and accelerators: the CPUState every accelerator drives, the
 * AccelOps interface ("kvm", "tcg" = the software CPU, "qtest"), the
 * common vCPU thread loop, pause/resume and run_on_cpu.
 * Locking: vcpu_exec runs without the BQL; everything else here with it.
 */
#ifndef SYSTEM_CPUS_H
#define SYSTEM_CPUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "target/i386/cpu.h"
#include "util/error.h"

typedef struct Machine Machine;
typedef struct CPUState CPUState;
typedef struct MemoryRegion MemoryRegion;

/* vcpu_exec results */
enum {
    EXCP_INTERRUPT = 0x10000,   /* kicked / exit_request: re-check state */
    EXCP_HLT,                   /* CPU halted, wait for an interrupt */
    EXCP_DEBUG,
    EXCP_RESET,                 /* triple fault or guest reset request */
    EXCP_SHUTDOWN,
};

typedef struct AccelOps {
    const char *name;                       /* "kvm", "tcg", "qtest" */
    bool one_thread_per_vcpu;
    bool (*available)(Error **errp);        /* why not, in errp */
    bool (*init)(Machine *m, Error **errp);
    bool (*vcpu_init)(CPUState *cpu, Error **errp);     /* on the vCPU thread */
    int  (*vcpu_exec)(CPUState *cpu);                   /* without the BQL */
    void (*vcpu_kick)(CPUState *cpu);                   /* any thread */
    void (*sync_state)(CPUState *cpu);                  /* accel → env (on vCPU thread) */
    void (*put_state)(CPUState *cpu);                   /* env → accel (on vCPU thread) */
    void (*gsi_set)(Machine *m, int gsi, int level);    /* NULL: userspace irqchip */
    void (*send_msi)(Machine *m, uint64_t addr, uint32_t data);
    void (*cpu_reset)(CPUState *cpu);                   /* optional: after env reset (vCPU thread) */
    bool irqchip_in_kernel;
} AccelOps;

typedef struct CPUWorkItem {
    void (*fn)(CPUState *cpu, void *data);
    void *data;
    bool done;
} CPUWorkItem;

struct CPUState {
    int index;
    Machine *machine;
    pthread_t thread;
    int thread_id;                 /* host TID for query-cpus-fast */
    bool created;
    bool stop, stopped;
    bool halted;
    bool state_dirty;              /* env is newer than the accelerator's copy */
    atomic_int exit_request;
    atomic_uint interrupt_request;
    GQueue work;                   /* CPUWorkItem*, under the BQL */
    void *accel;                   /* accelerator private state */
    void *apic;                    /* userspace LAPIC (tcg) */
    CPUX86State env;
};

extern const AccelOps *current_accel;
extern CPUState **cpus;
extern int n_cpus;
extern __thread CPUState *current_cpu;

void accel_register(const AccelOps *ops);
const AccelOps *accel_find(const char *name);
/* Iterate registered accelerators (for -accel help). */
const AccelOps *accel_nth(int i);

CPUState *cpu_create(Machine *m, int index, Error **errp);
void cpus_start(Machine *m);                 /* create vCPU threads */
void cpu_interrupt(CPUState *cpu, unsigned mask);
void cpu_reset_interrupt(CPUState *cpu, unsigned mask);
void cpu_kick(CPUState *cpu);
void cpu_exit_request(CPUState *cpu);
/* Run fn on the vCPU's thread and wait (drops the BQL while waiting). */
void run_on_cpu(CPUState *cpu, void (*fn)(CPUState *, void *), void *data);
/* Make sure cpu->env is current (sync from the accelerator). BQL held. */
void cpu_synchronize_state(CPUState *cpu);
/* After changing env with the BQL: push to the accelerator before it runs. */
void cpu_mark_state_dirty(CPUState *cpu);
void pause_all_vcpus(void);
void resume_all_vcpus(void);
bool all_vcpus_paused(void);
/* Power-on/INIT state for this CPU (x86_cpu_reset + BSP/APIC-ID), then
 * tell the accelerator (AccelOps.cpu_reset). On the vCPU thread or with
 * the CPU not yet running. */
void x86_cpu_reset_state(CPUState *cpu);
/* Wake a halted CPU's thread (interrupt arrived). */
void qemu_cpu_wake(CPUState *cpu);

#endif
