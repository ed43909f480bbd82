/*
 * Clocks and timers. CLOCK_VIRTUAL stops while the VM is stopped;
 * CLOCK_REALTIME and CLOCK_HOST always run. Timers fire in the main loop.
 * Locking: BQL for timer_mod/timer_del/callbacks.
 */
#ifndef SYSTEM_TIMER_H
#define SYSTEM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { CLOCK_REALTIME_NS, CLOCK_VIRTUAL_NS, CLOCK_HOST_NS } ClockType;

#define NANOSECONDS_PER_SECOND 1000000000LL

typedef struct Timer Timer;
typedef void TimerCb(void *opaque);

int64_t clock_get_ns(ClockType c);
Timer *timer_new(ClockType c, TimerCb *cb, void *opaque);
void timer_free(Timer *t);
void timer_mod(Timer *t, int64_t expire_ns);     /* absolute, in the timer's clock */
void timer_del(Timer *t);
bool timer_pending(Timer *t);
int64_t timer_expire_time(Timer *t);
/* Called by runstate when the VM stops / runs: freezes CLOCK_VIRTUAL. */
void clock_virtual_enable(bool on);
/* Deadline in ns until the next timer (-1: none). Used by the main loop. */
int64_t timers_deadline_ns(void);
/* Run expired timers (main loop, BQL held). */
void timers_run_expired(void);

/*
 * Manual CLOCK_VIRTUAL, for unit tests and a qtest-style accelerator.
 * After clock_virtual_set_manual(start_ns, ...), CLOCK_VIRTUAL reads start_ns
 * and only moves by clock_virtual_step(ns) (relative) or clock_virtual_set(ns)
 * (absolute). Moving forward stops at each pending deadline in order,
 * setting the clock to it and running the expired timers, then runs what is
 * due at the final time; clock_virtual_enable() no longer affects it and the
 * main loop no longer waits for its timers. realtime_too makes
 * CLOCK_REALTIME_NS read (and its timers follow) the same manual clock, for
 * unit tests whose devices use host-side retry timers; CLOCK_HOST_NS always
 * stays wall-clock time. Unused, the clocks behave as described above.
 * Callers hold the BQL (or are single-threaded tests).
 */
void clock_virtual_set_manual(int64_t start_ns, bool realtime_too);
void clock_virtual_step(int64_t ns);
void clock_virtual_set(int64_t ns);
/* Cancel every pending timer (test harnesses, between independent cases). */
void timers_del_all(void);

#endif
