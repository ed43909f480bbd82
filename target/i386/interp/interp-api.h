/*
 * Public entry points of the software x86-64 CPU, used by the "tcg"
 * accelerator glue (accel/tcg) and by the unit tests.
 * Spec: architecture.md §3.3.
 * Locking: an Interp belongs to one CPUState; call these on the thread
 * that runs that vCPU, without the BQL.
 */
#ifndef INTERP_API_H
#define INTERP_API_H

#include <stdint.h>
#include "system/cpus.h"

typedef struct Interp Interp;

Interp *interp_new(CPUState *cpu);
void interp_free(Interp *s);
/* Run up to 'budget' instructions; returns EXCP_INTERRUPT, EXCP_HLT,
 * EXCP_RESET (triple fault) or EXCP_DEBUG. env is complete on return. */
int interp_exec(Interp *s, uint64_t budget);
/* With several vCPUs sharing a thread: make PAUSE end the slice. */
void interp_set_yield_on_pause(Interp *s, bool on);
/* env was changed from outside (reset, monitor, loader): drop caches. */
void interp_flush(Interp *s);
/* Linear -> physical for the monitor/debugger (no A/D updates, no
 * faults); -1 when not mapped. */
int64_t interp_translate(Interp *s, uint64_t la);
/* Instructions retired so far. */
uint64_t interp_icount(Interp *s);
/* Guest TSC frequency: the TSC counts CLOCK_VIRTUAL nanoseconds (1 GHz)
 * plus a per-CPU offset; this converts a TSC value back to that clock. */
#define INTERP_TSC_HZ 1000000000ull
int64_t interp_tsc_to_ns(Interp *s, uint64_t tsc);

#endif
