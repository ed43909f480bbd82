/*
 * Clocks and timer lists. CLOCK_VIRTUAL is the host monotonic clock minus
 * the time the VM spent stopped; CLOCK_REALTIME_NS is monotonic host time;
 * CLOCK_HOST_NS is wall-clock time. Timers fire in the main loop.
 * Locking: BQL for timer lists; clock reads are lock-free.
 */
#include <time.h>
#include <glib.h>
#include "system/main-loop.h"
#include "system/timer.h"

struct Timer {
    ClockType clock;
    TimerCb *cb;
    void *opaque;
    int64_t expire;
    bool pending;
};

static GPtrArray *active_timers;     /* Timer*, unsorted: lists stay short */
static int64_t virtual_offset;        /* virtual = monotonic - offset */
static int64_t virtual_stopped_at;      /* value while stopped */
static bool virtual_enabled;
static bool virtual_manual;            /* clock_virtual_set_manual() was called */
static bool realtime_manual;           /* ... with realtime_too */
static int64_t virtual_manual_ns;      /* the manual clocks' value */

/* Does c only move by clock_virtual_step()/clock_virtual_set()? */
static bool clock_is_manual(ClockType c)
{
    return (c == CLOCK_VIRTUAL_NS && __atomic_load_n(&virtual_manual, __ATOMIC_ACQUIRE)) ||
           (c == CLOCK_REALTIME_NS && __atomic_load_n(&realtime_manual, __ATOMIC_ACQUIRE));
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
}

int64_t clock_get_ns(ClockType c)
{
    if (clock_is_manual(c)) {
        return __atomic_load_n(&virtual_manual_ns, __ATOMIC_ACQUIRE);
    }
    switch (c) {
    case CLOCK_VIRTUAL_NS: {
        if (!__atomic_load_n(&virtual_enabled, __ATOMIC_ACQUIRE)) {
            return __atomic_load_n(&virtual_stopped_at, __ATOMIC_ACQUIRE);
        }
        return monotonic_ns() - __atomic_load_n(&virtual_offset, __ATOMIC_ACQUIRE);
    }
    case CLOCK_HOST_NS: {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
    }
    default:
        return monotonic_ns();
    }
}

void clock_virtual_enable(bool on)
{
    if (on == virtual_enabled) {
        return;
    }
    if (on) {
        __atomic_store_n(&virtual_offset, monotonic_ns() - virtual_stopped_at, __ATOMIC_RELEASE);
        __atomic_store_n(&virtual_enabled, true, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&virtual_stopped_at, monotonic_ns() - virtual_offset, __ATOMIC_RELEASE);
        __atomic_store_n(&virtual_enabled, false, __ATOMIC_RELEASE);
    }
    main_loop_wakeup();
}

Timer *timer_new(ClockType c, TimerCb *cb, void *opaque)
{
    Timer *t = g_new0(Timer, 1);
    t->clock = c;
    t->cb = cb;
    t->opaque = opaque;
    if (!active_timers) {
        active_timers = g_ptr_array_new();
    }
    return t;
}

void timer_del(Timer *t)
{
    if (t && t->pending) {
        t->pending = false;
        g_ptr_array_remove_fast(active_timers, t);
    }
}

void timer_free(Timer *t)
{
    timer_del(t);
    g_free(t);
}

void timer_mod(Timer *t, int64_t expire_ns)
{
    t->expire = expire_ns;
    if (!t->pending) {
        t->pending = true;
        g_ptr_array_add(active_timers, t);
    }
    main_loop_wakeup();
}

bool timer_pending(Timer *t)
{
    return t->pending;
}

int64_t timer_expire_time(Timer *t)
{
    return t->pending ? t->expire : -1;
}

int64_t timers_deadline_ns(void)
{
    int64_t best = -1;
    if (!active_timers) {
        return -1;
    }
    for (guint i = 0; i < active_timers->len; i++) {
        Timer *t = g_ptr_array_index(active_timers, i);
        if ((t->clock == CLOCK_VIRTUAL_NS && !virtual_enabled) || clock_is_manual(t->clock)) {
            continue;     /* stopped, or only moved by clock_virtual_step() */
        }
        int64_t d = t->expire - clock_get_ns(t->clock);
        if (d < 0) {
            d = 0;
        }
        if (best < 0 || d < best) {
            best = d;
        }
    }
    return best;
}

void timers_run_expired(void)
{
    bool again = true;
    int budget = 1000;   /* a timer re-armed in the past can't starve the loop */
    while (again && active_timers && budget-- > 0) {
        again = false;
        for (guint i = 0; i < active_timers->len; i++) {
            Timer *t = g_ptr_array_index(active_timers, i);
            if (t->clock == CLOCK_VIRTUAL_NS && !virtual_enabled && !clock_is_manual(t->clock)) {
                continue;
            }
            if (t->expire <= clock_get_ns(t->clock)) {
                timer_del(t);
                t->cb(t->opaque);
                again = true;     /* the list changed: rescan */
                break;
            }
        }
    }
}

/* ---- manual CLOCK_VIRTUAL (unit tests, qtest-style accelerators) ---- */

void clock_virtual_set_manual(int64_t start_ns, bool realtime_too)
{
    __atomic_store_n(&virtual_manual_ns, start_ns, __ATOMIC_RELEASE);
    __atomic_store_n(&realtime_manual, realtime_too, __ATOMIC_RELEASE);
    __atomic_store_n(&virtual_manual, true, __ATOMIC_RELEASE);
}

/* Earliest pending manual-clock deadline at or before limit, or false. */
static bool next_virtual_deadline(int64_t limit, int64_t *out)
{
    bool found = false;
    for (guint i = 0; active_timers && i < active_timers->len; i++) {
        Timer *t = g_ptr_array_index(active_timers, i);
        if (clock_is_manual(t->clock) && t->expire <= limit && (!found || t->expire < *out)) {
            *out = t->expire;
            found = true;
        }
    }
    return found;
}

void clock_virtual_set(int64_t ns)
{
    g_assert(virtual_manual);
    int64_t deadline = 0;
    unsigned guard = 0;
    /* visit every deadline on the way so callbacks see their own expiry time */
    while (next_virtual_deadline(ns, &deadline) && guard++ < 10000000) {
        if (deadline > virtual_manual_ns) {
            __atomic_store_n(&virtual_manual_ns, deadline, __ATOMIC_RELEASE);
        }
        timers_run_expired();
    }
    __atomic_store_n(&virtual_manual_ns, ns, __ATOMIC_RELEASE);
    timers_run_expired();
}

void clock_virtual_step(int64_t ns)
{
    g_assert(virtual_manual);
    clock_virtual_set(virtual_manual_ns + ns);
}

void timers_del_all(void)
{
    while (active_timers && active_timers->len) {
        timer_del(g_ptr_array_index(active_timers, active_timers->len - 1));
    }
}
