/*
 * Device test harness: device models on the real core (memory dispatch,
 * timers, qdev, chardev frontends, BQL) with a test-controlled virtual
 * clock, recorded ISA IRQs, a capturing chardev backend, recorded run-state
 * requests and bare vCPU objects, so device unit tests drive port/MMIO
 * accesses without a CPU or main loop.
 * Locking: single-threaded tests; dispatch takes the real BQL.
 */
#ifndef TESTS_UNIT_DEVTEST_H
#define TESTS_UNIT_DEVTEST_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "chardev/char.h"
#include "hw/qdev.h"
#include "system/cpus.h"
#include "system/memory.h"
#include "system/timer.h"

/* Virtual clock control (system/timer.c manual mode): set/advance, firing
 * due timers in deadline order. */
static inline void devtest_clock_set(int64_t ns) { clock_virtual_set(ns); }
static inline void devtest_clock_step(int64_t ns) { clock_virtual_step(ns); }
static inline int64_t devtest_clock_now(void) { return clock_get_ns(CLOCK_VIRTUAL_NS); }

/* ISA IRQ lines handed out by isa_get_irq(): current level and rising edges. */
extern int devtest_irq_level[24];
extern int devtest_irq_raised[24];
void devtest_irq_clear_counts(void);

/* Port and MMIO dispatch through regions registered by devices. */
uint64_t devtest_inb(uint16_t port);
void devtest_outb(uint16_t port, uint8_t val);
uint64_t devtest_io_read(uint16_t port, unsigned size);
void devtest_io_write(uint16_t port, uint64_t val, unsigned size);
uint64_t devtest_mmio_read(uint64_t addr, unsigned size);
void devtest_mmio_write(uint64_t addr, uint64_t val, unsigned size);

/* Capturing chardev backend ("devtest"): output accumulates in out; 'space'
 * limits accepted bytes (-1 = unlimited) to test backpressure. */
typedef struct DevtestChr {
    Chardev chr;
    GString *out;
    int space;
} DevtestChr;
DevtestChr *devtest_chr_new(const char *id);
/* Feed input to the frontend, honouring can_read; returns bytes taken. */
int devtest_chr_input(DevtestChr *c, const uint8_t *buf, int len);

/* Create and realize a device from "driver,k=v,..." (asserts on error). */
DeviceState *devtest_create(const char *spec);

/* Run-state requests made by devices. */
extern int devtest_exit_status;       /* -1 until qemu_system_exit_request */
extern int devtest_reset_requests;
extern int devtest_shutdown_requests;

/* Last MSI seen when apic.c is not linked. */
extern uint64_t devtest_msi_addr;
extern uint32_t devtest_msi_data;
extern int devtest_msi_count;

/* vCPUs: n fake CPUState objects, cpus[]/n_cpus/current_cpu set up. */
void devtest_make_cpus(int n);

/* Unrealize every device, unmap all regions, cancel timers, close chardevs,
 * restart CLOCK_VIRTUAL at 0 and clear the recorders (call at test start). */
void devtest_reset(void);

#endif
