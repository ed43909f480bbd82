/*
 * Worker pool for blocking block-driver calls (architecture §3.5/§4):
 * thread_pool_submit() runs fn(arg) on one of up to 64 glib pool threads
 * and posts cb(opaque, ret) to the main loop with main_loop_schedule().
 * Locking: submit from any thread (normally the main thread with the BQL);
 * workers never take the BQL; callbacks run in the main loop with the BQL.
 */
#include <glib.h>
#include "block/block.h"
#include "system/main-loop.h"

#define THREAD_POOL_MAX 64

typedef struct PoolReq {
    ThreadPoolFunc *fn;
    void *arg;
    BlockCompletionFunc *cb;
    void *opaque;
    int ret;
} PoolReq;

static GThreadPool *pool;
static GOnce pool_once = G_ONCE_INIT;
static gint in_flight;

static void pool_complete(void *opaque)
{
    PoolReq *req = opaque;
    if (req->cb) {
        req->cb(req->opaque, req->ret);
    }
    g_atomic_int_dec_and_test(&in_flight);
    g_free(req);
}

static void pool_worker(gpointer data, gpointer user_data)
{
    PoolReq *req = data;
    (void)user_data;
    req->ret = req->fn(req->arg);
    main_loop_schedule(pool_complete, req);
    main_loop_wakeup();
}

static gpointer pool_create(gpointer unused)
{
    (void)unused;
    return g_thread_pool_new(pool_worker, NULL, THREAD_POOL_MAX, FALSE, NULL);
}

void thread_pool_submit(ThreadPoolFunc *fn, void *arg, BlockCompletionFunc *cb, void *opaque)
{
    pool = g_once(&pool_once, pool_create, NULL);
    PoolReq *req = g_new0(PoolReq, 1);
    req->fn = fn;
    req->arg = arg;
    req->cb = cb;
    req->opaque = opaque;
    g_atomic_int_inc(&in_flight);
    g_thread_pool_push(pool, req, NULL);
}

int thread_pool_in_flight(void)
{
    return g_atomic_int_get(&in_flight);
}
