/*
 * KVM accelerator internals shared by accel/kvm/kvm-all.c (generic VM,
 * memslots, vCPU run loop) and target/i386/kvm.c (x86 state, CPUID,
 * irqchip). Spec: Linux Documentation/virt/kvm/api.rst.
 * Locking: KVMState is set up once in init (BQL held) and read-only
 * afterwards except the slot table (BQL). KVMVcpu belongs to its vCPU thread.
 */
#ifndef ACCEL_KVM_INTERNAL_H
#define ACCEL_KVM_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "util/error.h"          /* before cpu.h, which uses struct Error */
#include "system/cpus.h"
#include "system/memory.h"
#include "system/runstate.h"

#define SIG_IPI SIGUSR1

typedef struct KVMSlot {
    bool used;
    uint64_t gpa, size;
    uint8_t *host;
    uint32_t flags;               /* KVM_MEM_READONLY, KVM_MEM_LOG_DIRTY_PAGES */
    MemoryRegion *mr;
    uint64_t mr_off;              /* offset of gpa inside mr */
} KVMSlot;

typedef struct KVMState {
    int fd;                       /* /dev/kvm */
    int vmfd;
    int run_size;                 /* KVM_GET_VCPU_MMAP_SIZE */
    int nr_vcpus, max_vcpus;
    bool immediate_exit;          /* KVM_CAP_IMMEDIATE_EXIT */
    bool readonly_mem;            /* KVM_CAP_READONLY_MEM */
    bool irqchip;                 /* in-kernel PIC/IOAPIC/LAPIC */
    bool pit;                     /* in-kernel PIT */
    bool signal_msi;
    bool irq_routing;
    bool xsave, xcrs, vcpu_events, debugregs, mp_state;
    int xsave_size;               /* bytes for KVM_GET_XSAVE(2)/KVM_SET_XSAVE */
    bool xsave2;
    int coalesced_mmio;           /* page offset in kvm_run, or 0 */
    KVMSlot *slots;
    int n_slots;
    int max_slots;
    MemoryListener listener;
    Notifier reset_notifier;      /* in-kernel irqchip/PIT reset */
    struct kvm_cpuid2 *supported_cpuid;
    uint32_t *msrs;               /* KVM_GET_MSR_INDEX_LIST */
    int n_msrs;
    Machine *machine;
} KVMState;

extern KVMState *kvm_state;

typedef struct KVMVcpu {
    int fd;
    struct kvm_run *run;
    CPUState *cpu;
    atomic_bool reset_pending;    /* next put is a full reset (LAPIC, MP state...) */
    /* x86 */
    uint8_t *xsave;               /* last KVM_GET_XSAVE image (keeps AVX state) */
    struct kvm_vcpu_events events;
    bool events_valid;
    uint32_t pv_features;         /* guest CPUID 0x40000001 EAX (PV MSRs to reset) */
} KVMVcpu;

static inline KVMVcpu *kvm_vcpu(CPUState *cpu)
{
    return cpu->accel;
}

int kvm_ioctl(KVMState *s, unsigned long req, void *arg);
int kvm_vm_ioctl(KVMState *s, unsigned long req, void *arg);
int kvm_vcpu_ioctl(CPUState *cpu, unsigned long req, void *arg);
/* KVM_CHECK_EXTENSION on the VM fd (falls back to /dev/kvm); 0 when absent. */
int kvm_check_extension(KVMState *s, int cap);
bool kvm_has_msr(KVMState *s, uint32_t index);

#endif
