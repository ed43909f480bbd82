/*
 * The main loop: glib's default context iterated by the main thread, which
 * holds the BQL except while it polls (QEMU's os_host_main_loop_wait), so
 * every fd handler, timer and bottom half runs with the BQL held.
 * Locking: the BQL itself lives here.
 */
#include <pthread.h>
#include "system/main-loop.h"
#include "system/runstate.h"
#include "system/timer.h"

static pthread_mutex_t bql = PTHREAD_MUTEX_INITIALIZER;
static __thread bool bql_held;

void bql_lock(void)
{
    g_assert(!bql_held);
    pthread_mutex_lock(&bql);
    bql_held = true;
}

void bql_unlock(void)
{
    g_assert(bql_held);
    bql_held = false;
    pthread_mutex_unlock(&bql);
}

bool bql_locked(void)
{
    return bql_held;
}

static gint poll_without_bql(GPollFD *fds, guint nfds, gint timeout)
{
    bool held = bql_held;
    if (held) {
        bql_unlock();
    }
    gint r = g_poll(fds, nfds, timeout);
    if (held) {
        bql_lock();
    }
    return r;
}

/* Timers as a GSource: prepare reports the next deadline. */
static gboolean timer_source_prepare(GSource *s, gint *timeout)
{
    (void)s;
    int64_t ns = timers_deadline_ns();
    if (ns < 0) {
        *timeout = -1;
        return FALSE;
    }
    if (ns == 0) {
        *timeout = 0;
        return TRUE;
    }
    *timeout = (gint)MIN((ns + 999999) / 1000000, G_MAXINT);
    return FALSE;
}

static gboolean timer_source_check(GSource *s)
{
    (void)s;
    return timers_deadline_ns() == 0;
}

static gboolean timer_source_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    (void)s; (void)cb; (void)data;
    timers_run_expired();
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
    .prepare = timer_source_prepare,
    .check = timer_source_check,
    .dispatch = timer_source_dispatch,
};

void main_loop_init(void)
{
    GMainContext *ctx = g_main_context_default();
    g_main_context_set_poll_func(ctx, poll_without_bql);
    GSource *ts = g_source_new(&timer_source_funcs, sizeof(GSource));
    g_source_attach(ts, ctx);
    g_source_unref(ts);
}

typedef struct BH {
    void (*fn)(void *);
    void *opaque;
} BH;

static gboolean bh_dispatch(gpointer data)
{
    BH *bh = data;
    bh->fn(bh->opaque);
    g_free(bh);
    return G_SOURCE_REMOVE;
}

void main_loop_schedule(void (*fn)(void *), void *opaque)
{
    BH *bh = g_new(BH, 1);
    bh->fn = fn;
    bh->opaque = opaque;
    g_idle_add_full(G_PRIORITY_HIGH, bh_dispatch, bh, NULL);
}

void main_loop_wakeup(void)
{
    g_main_context_wakeup(g_main_context_default());
}

void main_loop_wait(bool blocking)
{
    g_main_context_iteration(g_main_context_default(), blocking);
}

typedef struct FdWatch {
    FdHandler *fn;
    void *opaque;
    int fd;
} FdWatch;

static gboolean fd_watch_cb(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    (void)ch;
    FdWatch *w = data;
    return w->fn(w->fd, cond, w->opaque);
}

guint fd_watch_add(int fd, GIOCondition cond, FdHandler *fn, void *opaque)
{
    GIOChannel *ch = g_io_channel_unix_new(fd);
    FdWatch *w = g_new(FdWatch, 1);
    w->fn = fn;
    w->opaque = opaque;
    w->fd = fd;
    guint id = g_io_add_watch_full(ch, G_PRIORITY_DEFAULT, cond, fd_watch_cb, w, g_free);
    g_io_channel_unref(ch);
    return id;
}

void fd_watch_remove(guint id)
{
    if (id) {
        g_source_remove(id);
    }
}

/* Wait on a condition variable with the BQL (for system/cpus.c). */
void bql_cond_wait(pthread_cond_t *cond)
{
    g_assert(bql_held);
    bql_held = false;
    pthread_cond_wait(cond, &bql);
    bql_held = true;
}
