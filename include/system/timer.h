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

#endif
