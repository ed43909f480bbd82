/*
 * The big QEMU lock (BQL), the glib main loop that device code runs in,
 * bottom halves scheduled from any thread, and fd watches.
 * Locking: the main thread holds the BQL except while it polls; every
 * device callback, timer and fd handler runs with the BQL held.
 */
#ifndef SYSTEM_MAIN_LOOP_H
#define SYSTEM_MAIN_LOOP_H

#include <stdbool.h>
#include <glib.h>

void bql_lock(void);
void bql_unlock(void);
bool bql_locked(void);          /* by this thread */

void main_loop_init(void);
/* Run fn(opaque) in the main thread with the BQL held, soon. Any thread. */
void main_loop_schedule(void (*fn)(void *), void *opaque);
/* Make a blocked main loop iteration return (any thread). */
void main_loop_wakeup(void);
/* One iteration: poll (BQL dropped while waiting), dispatch. */
void main_loop_wait(bool blocking);
/* Loop until runstate_should_exit(). */
void main_loop_run(void);

/* Watch an fd from the main loop; returns a glib source id. */
typedef gboolean FdHandler(int fd, GIOCondition cond, void *opaque);
guint fd_watch_add(int fd, GIOCondition cond, FdHandler *fn, void *opaque);
void fd_watch_remove(guint id);

#endif
