/*
 * x86 half of the KVM accelerator (target/i386/kvm.c): VM setup (TSS,
 * identity map, in-kernel irqchip, PIT, GSI routing), CPUID filtering,
 * and CPUX86State <-> kvm_regs/kvm_sregs/xsave/MSRs conversion.
 * Spec: Linux Documentation/virt/kvm/api.rst; Intel SDM vol. 2A (CPUID).
 * Locking: VM setup with the BQL; vCPU functions on the vCPU's thread.
 */
#ifndef TARGET_I386_KVM_I386_H
#define TARGET_I386_KVM_I386_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <linux/kvm.h>
#include "accel/kvm/kvm-internal.h"
#include "target/i386/cpu.h"

/* VM-wide setup after KVM_CREATE_VM. */
bool kvm_arch_init_vm(KVMState *s, Machine *m, Error **errp);
/* In-kernel PIC/IOAPIC/PIT to their reset state (init and system reset). */
void kvm_arch_reset_vm(KVMState *s);
/* Before CPUs exist: the model shows the host's vendor, as QEMU does with KVM
 * (KVM does not emulate SYSENTER/SYSCALL across vendors). */
void kvm_arch_adjust_cpu_model(KVMState *s, X86CPUConfig *cfg);
/* vCPU setup after KVM_CREATE_VCPU: CPUID, xsave buffer. */
bool kvm_arch_init_vcpu(KVMState *s, CPUState *cpu, Error **errp);
/* env -> KVM. reset: also LAPIC, MP state, events, TSC, PV MSRs. */
int kvm_arch_put_registers(CPUState *cpu, bool reset);
/* KVM -> env. */
int kvm_arch_get_registers(CPUState *cpu);
/* Exit reasons kvm-all.c doesn't know (FAIL_ENTRY...): EXCP_* or -1. */
int kvm_arch_handle_exit(CPUState *cpu, struct kvm_run *run);
/* After an emulation failure: stop the VM (true) or let the guest see it. */
bool kvm_arch_stop_on_emulation_error(CPUState *cpu);
/* Userspace irqchip: interrupt injection before KVM_RUN / after exit. */
void kvm_arch_pre_run(CPUState *cpu, struct kvm_run *run);
void kvm_arch_post_run(CPUState *cpu, struct kvm_run *run);
/* QEMU's register dump with the Code= line, on stderr (internal errors). */
void kvm_arch_dump_state(CPUState *cpu);

/* --- pure helpers (unit tested) --- */

/* kvm_segment <-> SegmentCache.flags (QEMU's descriptor layout). */
void kvm_seg_to_cache(SegmentCache *sc, const struct kvm_segment *ks);
void kvm_cache_to_seg(struct kvm_segment *ks, const SegmentCache *sc, bool vm86);

/* Model CPUID source: fills r[0..3] = eax, ebx, ecx, edx. */
typedef void X86CPUIDSource(void *opaque, uint32_t leaf, uint32_t sub, uint32_t r[4]);

typedef struct X86KVMCPUIDParams {
    const X86CPUModel *model;       /* feature words come from here */
    bool host;                      /* -cpu host / max: KVM's full set */
    bool irqchip_in_kernel;         /* x2apic allowed */
    uint32_t apic_id;
    X86CPUIDSource *source;         /* the model's cpu_x86_cpuid() */
    void *opaque;
} X86KVMCPUIDParams;

/*
 * Build the guest CPUID table: the model's leaves with each feature word
 * ANDed with what KVM supports (sup), KVM PV leaves 0x40000000/1 as QEMU
 * sets them by default, APIC IDs patched in. Writes up to max entries to
 * out and returns the count. For every model feature KVM lacks, appends
 * QEMU's warning text ("host doesn't support requested feature: ...")
 * as one line to warnings (if non-NULL).
 */
int kvm_x86_build_cpuid(const struct kvm_cpuid2 *sup, const X86KVMCPUIDParams *p,
                        struct kvm_cpuid_entry2 *out, int max, GString *warnings);
/* Entry for (leaf, sub) in a KVM CPUID table, honouring the SIGNIFCANT_INDEX flag. */
const struct kvm_cpuid_entry2 *kvm_cpuid_find(const struct kvm_cpuid2 *c, uint32_t leaf,
                                              uint32_t sub);

#endif
