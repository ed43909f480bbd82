/*
 * vCPU threads and the one loop every accelerator runs in: KVM gets one
 * thread per vCPU, the software CPU one round-robin thread for all.
 * Also pause/resume (QMP stop/cont, reset), kicks and run_on_cpu.
 * Locking: the loop holds the BQL except inside vcpu_exec; condition
 * variables wait on the BQL mutex.
 */
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "hw/intc.h"
#include "hw/machine.h"
#include "system/cpus.h"
#include "system/main-loop.h"
#include "system/runstate.h"

const AccelOps *current_accel;
CPUState **cpus;
int n_cpus;
__thread CPUState *current_cpu;

static const AccelOps *accels[8];
static int n_accels;

/* All vCPU threads sleep on halt_cond; the main thread on pause_cond. */
static pthread_cond_t halt_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pause_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t created_cond = PTHREAD_COND_INITIALIZER;

/* The BQL mutex is private to main-loop.c; waiting on it goes through here. */
extern void bql_cond_wait(pthread_cond_t *cond);

void accel_register(const AccelOps *ops)
{
    g_assert(n_accels < (int)G_N_ELEMENTS(accels));
    accels[n_accels++] = ops;
}

const AccelOps *accel_find(const char *name)
{
    for (int i = 0; i < n_accels; i++) {
        if (!strcmp(accels[i]->name, name)) {
            return accels[i];
        }
    }
    return NULL;
}

const AccelOps *accel_nth(int i)
{
    return i < n_accels ? accels[i] : NULL;
}

CPUState *cpu_create(Machine *m, int index, Error **errp)
{
    (void)errp;
    CPUState *cpu = g_new0(CPUState, 1);
    cpu->index = index;
    cpu->machine = m;
    cpu->stop = true;             /* until vm_start() */
    g_queue_init(&cpu->work);
    cpu->env.apic_id = index;
    cpu->env.model = &m->cpu.m;
    cpus = g_renew(CPUState *, cpus, n_cpus + 1);
    cpus[n_cpus++] = cpu;
    x86_cpu_reset_state(cpu);
    return cpu;
}

void x86_cpu_reset_state(CPUState *cpu)
{
    x86_cpu_reset(&cpu->env);
    cpu->env.apic_id = cpu->index;
    cpu->env.apic_base = APIC_DEFAULT_ADDRESS | MSR_IA32_APICBASE_ENABLE |
                         (cpu->index == 0 ? MSR_IA32_APICBASE_BSP : 0);
    /* APs wait for INIT/SIPI */
    cpu->halted = cpu->index != 0;
    cpu->env.halted = cpu->halted;
    atomic_store(&cpu->interrupt_request, 0);
    cpu->state_dirty = true;
    if (current_accel && current_accel->cpu_reset && cpu->created) {
        current_accel->cpu_reset(cpu);
    }
}

static bool cpu_has_work(CPUState *cpu)
{
    unsigned req = atomic_load(&cpu->interrupt_request);
    if (current_accel && current_accel->irqchip_in_kernel) {
        return true;                /* the kernel handles HLT */
    }
    if (!cpu->halted) {
        return true;
    }
    if (req & (CPU_INTERRUPT_NMI | CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI | CPU_INTERRUPT_POLL)) {
        return true;
    }
    return (req & CPU_INTERRUPT_HARD) && (cpu->env.eflags & IF_MASK);
}

static bool cpu_can_run(CPUState *cpu)
{
    return !cpu->stop && !cpu->stopped && runstate_is_running() && cpu_has_work(cpu);
}

static void process_work(CPUState *cpu)
{
    CPUWorkItem *wi;
    while ((wi = g_queue_pop_head(&cpu->work))) {
        current_cpu = cpu;
        wi->fn(cpu, wi->data);
        wi->done = true;
        pthread_cond_broadcast(&work_cond);
    }
}

static void handle_stop(CPUState *cpu)
{
    if (cpu->stop && !cpu->stopped) {
        cpu->stopped = true;
        pthread_cond_broadcast(&pause_cond);
    }
}

static void sync_for_exec(CPUState *cpu)
{
    if (cpu->state_dirty && current_accel->put_state) {
        current_accel->put_state(cpu);
    }
    cpu->state_dirty = false;
}

/* Handle what vcpu_exec returned (BQL held). */
static void handle_exit(CPUState *cpu, int r)
{
    switch (r) {
    case EXCP_HLT:
        cpu->halted = true;
        break;
    case EXCP_RESET:
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        break;
    case EXCP_SHUTDOWN:
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
        break;
    default:
        break;
    }
}

typedef struct VcpuThreadArgs {
    CPUState **owned;
    int n;
} VcpuThreadArgs;

static void *vcpu_thread_fn(void *arg)
{
    VcpuThreadArgs *a = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    bql_lock();
    for (int i = 0; i < a->n; i++) {
        CPUState *cpu = a->owned[i];
        Error *err = NULL;
        cpu->thread_id = (int)syscall(SYS_gettid);
        current_cpu = cpu;
        if (current_accel->vcpu_init && !current_accel->vcpu_init(cpu, &err)) {
            error_report_err(err);
            exit(1);
        }
        cpu->created = true;
    }
    pthread_cond_broadcast(&created_cond);

    for (;;) {
        bool ran = false;
        for (int i = 0; i < a->n; i++) {
            CPUState *cpu = a->owned[i];
            process_work(cpu);
            handle_stop(cpu);
            if (!cpu_can_run(cpu)) {
                continue;
            }
            current_cpu = cpu;
            sync_for_exec(cpu);
            atomic_store(&cpu->exit_request, 0);
            bql_unlock();
            int r = current_accel->vcpu_exec(cpu);
            bql_lock();
            handle_exit(cpu, r);
            ran = true;
        }
        if (!ran) {
            bool work = false;
            for (int i = 0; i < a->n; i++) {
                work |= !g_queue_is_empty(&a->owned[i]->work) || (a->owned[i]->stop && !a->owned[i]->stopped);
            }
            if (!work) {
                bql_cond_wait(&halt_cond);
            }
        }
    }
    return NULL;
}

void cpus_start(Machine *m)
{
    (void)m;
    int nthreads = current_accel->one_thread_per_vcpu ? n_cpus : 1;
    for (int t = 0; t < nthreads; t++) {
        VcpuThreadArgs *a = g_new0(VcpuThreadArgs, 1);
        if (current_accel->one_thread_per_vcpu) {
            a->owned = &cpus[t];
            a->n = 1;
        } else {
            a->owned = cpus;
            a->n = n_cpus;
        }
        pthread_t th;
        pthread_create(&th, NULL, vcpu_thread_fn, a);
        for (int i = 0; i < a->n; i++) {
            a->owned[i]->thread = th;
        }
        g_autofree char *name = current_accel->one_thread_per_vcpu
            ? g_strdup_printf("CPU %d/KVM", t) : g_strdup("CPU 0/TCG");
        pthread_setname_np(th, name);
    }
    for (int i = 0; i < n_cpus; i++) {
        while (!cpus[i]->created) {
            bql_cond_wait(&created_cond);
        }
    }
}

void cpu_kick(CPUState *cpu)
{
    atomic_store(&cpu->exit_request, 1);
    if (current_accel && current_accel->vcpu_kick && cpu->created) {
        current_accel->vcpu_kick(cpu);
    }
    pthread_cond_broadcast(&halt_cond);
}

void cpu_exit_request(CPUState *cpu)
{
    cpu_kick(cpu);
}

void qemu_cpu_wake(CPUState *cpu)
{
    (void)cpu;
    pthread_cond_broadcast(&halt_cond);
}

void cpu_interrupt(CPUState *cpu, unsigned mask)
{
    atomic_fetch_or(&cpu->interrupt_request, mask);
    cpu_kick(cpu);
}

void cpu_reset_interrupt(CPUState *cpu, unsigned mask)
{
    atomic_fetch_and(&cpu->interrupt_request, ~mask);
}

void run_on_cpu(CPUState *cpu, void (*fn)(CPUState *, void *), void *data)
{
    if (!cpu->created || pthread_equal(pthread_self(), cpu->thread)) {
        CPUState *saved = current_cpu;
        current_cpu = cpu;
        fn(cpu, data);
        current_cpu = saved;
        return;
    }
    CPUWorkItem wi = { fn, data, false };
    g_queue_push_tail(&cpu->work, &wi);
    cpu_kick(cpu);
    while (!wi.done) {
        bql_cond_wait(&work_cond);
    }
}

static void sync_fn(CPUState *cpu, void *data)
{
    (void)data;
    if (current_accel->sync_state) {
        current_accel->sync_state(cpu);
    }
}

void cpu_synchronize_state(CPUState *cpu)
{
    if (cpu->created && !cpu->state_dirty) {
        run_on_cpu(cpu, sync_fn, NULL);
        cpu->state_dirty = true;    /* the caller may change env; push it back */
    }
}

void cpu_mark_state_dirty(CPUState *cpu)
{
    cpu->state_dirty = true;
}

bool all_vcpus_paused(void)
{
    for (int i = 0; i < n_cpus; i++) {
        if (cpus[i]->created && !cpus[i]->stopped) {
            return false;
        }
    }
    return true;
}

void pause_all_vcpus(void)
{
    for (int i = 0; i < n_cpus; i++) {
        cpus[i]->stop = true;
        cpu_kick(cpus[i]);
    }
    if (current_cpu && pthread_equal(pthread_self(), current_cpu->thread)) {
        return;                     /* called from a vCPU: can't wait on ourselves */
    }
    while (!all_vcpus_paused()) {
        for (int i = 0; i < n_cpus; i++) {
            cpu_kick(cpus[i]);
        }
        bql_cond_wait(&pause_cond);
    }
}

void resume_all_vcpus(void)
{
    for (int i = 0; i < n_cpus; i++) {
        cpus[i]->stop = false;
        cpus[i]->stopped = false;
    }
    pthread_cond_broadcast(&halt_cond);
}
