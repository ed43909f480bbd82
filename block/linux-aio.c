/*
 * aio=native: libaio submission for the "file" protocol opened with
 * O_DIRECT. Requests whose buffers or offsets are not aligned fall back to
 * the worker pool. Completions arrive on an eventfd that the main loop
 * watches; the handler reaps events and completes the requests there.
 * Locking: BQL for submission and completion (main thread only).
 */
#include <errno.h>
#include <libaio.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "block-int.h"
#include "file-posix.h"
#include "system/main-loop.h"

#define LAIO_DEPTH 256

static io_context_t laio_ctx;
static int laio_efd = -1;
static bool laio_failed;
static int laio_in_flight;

typedef struct LaioReq {
    struct iocb iocb;
    BlockReq *req;
} LaioReq;

static void laio_reap(void)
{
    struct io_event events[64];
    for (;;) {
        struct timespec ts = { 0, 0 };
        int n = io_getevents(laio_ctx, 0, 64, events, &ts);
        if (n <= 0) {
            break;
        }
        for (int i = 0; i < n; i++) {
            LaioReq *lr = events[i].data;
            BlockReq *req = lr->req;
            long res = (long)events[i].res;
            int ret = 0;
            if (res < 0) {
                ret = (int)res;
            } else if (res != req->bytes) {
                if (req->type == BLK_REQ_READ) {
                    /* short read at EOF: the rest reads as zeros */
                    size_t done = res;
                    size_t left = req->bytes - done;
                    void *z = g_malloc0(left);
                    qemu_iovec_from_buf(req->qiov, done, z, left);
                    g_free(z);
                } else {
                    ret = -ENOSPC;
                }
            }
            laio_in_flight--;
            g_free(lr);
            blk_req_complete(req, ret);
        }
    }
}

static gboolean laio_event(int fd, GIOCondition cond, void *opaque)
{
    uint64_t v;
    (void)cond;
    (void)opaque;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
        return TRUE;
    }
    laio_reap();
    return TRUE;
}

static bool laio_init(void)
{
    if (laio_efd >= 0) {
        return true;
    }
    if (laio_failed) {
        return false;
    }
    if (io_setup(LAIO_DEPTH, &laio_ctx) < 0) {
        laio_failed = true;
        return false;
    }
    laio_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (laio_efd < 0) {
        io_destroy(laio_ctx);
        laio_failed = true;
        return false;
    }
    fd_watch_add(laio_efd, G_IO_IN, laio_event, NULL);
    return true;
}

bool file_aio_submit(BlockDriverState *bs, BlockReq *req)
{
    FilePosixState *s = bs->opaque;
    QEMUIOVector *q = req->qiov;
    if (!s->direct || !q || laio_in_flight >= LAIO_DEPTH || !laio_init()) {
        return false;
    }
    uintptr_t mask = s->align - 1;
    if ((uint64_t)req->offset & mask) {
        return false;
    }
    for (int i = 0; i < q->niov; i++) {
        if (((uintptr_t)q->iov[i].iov_base | q->iov[i].iov_len) & mask) {
            return false;
        }
    }
    LaioReq *lr = g_new0(LaioReq, 1);
    lr->req = req;
    if (req->type == BLK_REQ_READ) {
        io_prep_preadv(&lr->iocb, s->fd, q->iov, q->niov, req->offset);
    } else {
        io_prep_pwritev(&lr->iocb, s->fd, q->iov, q->niov, req->offset);
    }
    io_set_eventfd(&lr->iocb, laio_efd);
    lr->iocb.data = lr;
    struct iocb *iocbs[1] = { &lr->iocb };
    if (io_submit(laio_ctx, 1, iocbs) != 1) {
        g_free(lr);
        return false;
    }
    laio_in_flight++;
    return true;
}
