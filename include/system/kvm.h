/*
 * KVM accelerator: queries the rest of kemu makes about KVM (is it the
 * current accelerator, can this host's KVM run a stock Linux kernel),
 * dirty-log sync for VGA, and the guest-physical range KVM reserves.
 * Locking: all functions may be called with or without the BQL, except
 * kvm_log_sync (BQL held).
 */
#ifndef SYSTEM_KVM_H
#define SYSTEM_KVM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct MemoryRegion MemoryRegion;

/*
 * KVM_SET_IDENTITY_MAP_ADDR page followed by the three KVM_SET_TSS_ADDR
 * pages (QEMU's addresses). The machine must report this range as
 * reserved in the e820 map when KVM is the accelerator, as QEMU does.
 */
#define KVM_IDENTITY_BASE   0xfeffc000ull
#define KVM_TSS_BASE        (KVM_IDENTITY_BASE + 0x1000)
#define KVM_RESERVED_SIZE   0x4000ull

/* KVM is the running accelerator (after accel init succeeded). */
bool kvm_enabled(void);
/* The in-kernel PIC/IOAPIC/LAPIC and PIT are in use. */
bool kvm_irqchip_in_kernel(void);

/*
 * The host CPU shows neither vmx nor svm in /proc/cpuinfo: /dev/kvm is a
 * paravirtual KVM that runs firmware, real-mode code and small payloads
 * but cannot boot a stock Linux kernel.
 */
bool kvm_is_paravirtual(void);
/* Why a stock kernel cannot run under this host's KVM, or NULL if it can. */
const char *kvm_unusable_for_linux_reason(void);

/*
 * HPET legacy-replacement mode on/off: stops (or restarts) the in-kernel
 * PIT's IRQ0, as the HPET then drives IRQ0/IRQ8 (KVM_PIT_FLAGS_HPET_LEGACY).
 * No-op without an in-kernel PIT. BQL held.
 */
void kvm_pit_set_hpet_legacy(bool on);

/*
 * Fetch KVM's dirty log for every slot backed by mr (KVM_GET_DIRTY_LOG)
 * and merge it into mr's dirty bitmap (mr_set_dirty). Call before
 * mr_test_and_clear_dirty() when KVM is enabled. No-op otherwise.
 */
void kvm_log_sync(MemoryRegion *mr);

#endif
