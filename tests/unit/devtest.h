/*
 * Device test harness: fakes for the lead-owned core (memory dispatch,
 * timers on a test-controlled virtual clock, ISA IRQs, chardevs, a small
 * qdev with property parsing, run-state requests and vCPU interrupt bits)
 * so device unit tests drive MemoryRegionOps directly without a CPU.
 * Locking: single-threaded tests; the "BQL" is implicit.
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

/* Virtual clock control: set/advance, firing due timers in order. */
void devtest_clock_set(int64_t ns);
void devtest_clock_step(int64_t ns);
int64_t devtest_clock_now(void);

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

/* Fake chardev: output accumulates in out; 'space' limits accepted bytes
 * (-1 = unlimited) to test backpressure. */
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

/* Reset every registry except the class list (call at test start). */
void devtest_reset(void);

#endif
