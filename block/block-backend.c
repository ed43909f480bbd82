/*
 * Device-facing BlockBackend: -drive/-blockdev block options (format,
 * cache modes, aio=threads|native with QEMU's checks, read-only,
 * snapshot=on temporary qcow2 overlay) and the asynchronous request API.
 * Requests run on the worker pool (blocking driver calls) or, for raw over
 * file with aio=native and O_DIRECT, through libaio; completions run in the
 * main loop. Locking: every blk_* function needs the BQL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "block-int.h"
#include "file-posix.h"
#include "system/main-loop.h"
#include "util/cutils.h"

struct BlockBackend {
    char *name;
    BlockDriverState *bs;
    bool writethrough;          /* flush after every write (cache.writeback=off) */
    bool native_aio;            /* raw over file, aio=native, O_DIRECT */
    int in_flight;
    bool anonymous;             /* created for a device on a -blockdev node */
    bool root_read_only;        /* read-only state a new medium inherits ("retain") */
    DeviceState *dev;           /* attached device, NULL = none */
    const BlockDevOps *dev_ops;
    void *dev_opaque;
    BlockdevOnError on_read_error, on_write_error;
    BlockAcctStats stats;
    BlockBackend *next;
};

void (*blk_error_hook)(BlockBackend *blk, BlockErrorAction action, bool is_read, int error);

static BlockBackend *backends;

static bool parse_cache(const char *mode, int *flags, bool *writethrough)
{
    if (!strcmp(mode, "writeback")) {
        *writethrough = false;
    } else if (!strcmp(mode, "none") || !strcmp(mode, "off")) {
        *flags |= BDRV_O_NOCACHE;
        *writethrough = false;
    } else if (!strcmp(mode, "writethrough")) {
        *writethrough = true;
    } else if (!strcmp(mode, "directsync")) {
        *flags |= BDRV_O_NOCACHE;
        *writethrough = true;
    } else if (!strcmp(mode, "unsafe")) {
        *flags |= BDRV_O_NO_FLUSH;
        *writethrough = false;
    } else {
        return false;
    }
    return true;
}

/* -snapshot: a temporary qcow2 overlay on top of 'bs_file'. */
static BlockDriverState *open_snapshot_overlay(const char *filename, const char *fmt,
                                               int flags, Error **errp)
{
    BlockDriverState *base = bdrv_open(filename, fmt, NULL, flags & ~BDRV_O_RDWR, errp);
    if (!base) {
        return NULL;
    }
    int64_t size = bdrv_getlength(base);
    g_autofree char *base_fmt = g_strdup(base->drv->format_name);
    bdrv_unref(base);
    const char *tmpdir = g_getenv("TMPDIR");
    g_autofree char *tmpl = g_build_filename(tmpdir ? tmpdir : "/var/tmp", "vl.XXXXXX", NULL);
    int fd = g_mkstemp(tmpl);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not get temporary filename");
        return NULL;
    }
    close(fd);
    g_autofree char *abs = g_canonicalize_filename(filename, NULL);
    KVDict *o = kv_new();
    char sz[32];
    snprintf(sz, sizeof(sz), "%" PRId64, size);
    kv_set(o, "size", sz);
    kv_set(o, "backing_file", abs);
    kv_set(o, "backing_fmt", base_fmt);
    int ret = bdrv_create("qcow2", tmpl, o, errp);
    kv_free(o);
    if (ret < 0) {
        unlink(tmpl);
        return NULL;
    }
    BlockDriverState *bs = bdrv_open(tmpl, "qcow2", NULL,
                                     (flags | BDRV_O_RDWR) & ~BDRV_O_NOCACHE, errp);
    unlink(tmpl);
    return bs;
}

BlockBackend *blk_new_open(const char *id, const char *filename, KVDict *opts,
                           int flags, Error **errp)
{
    KVDict *o = opts ? kv_copy(opts) : kv_new();
    bool writethrough = false, b;
    BlockBackend *blk = NULL;
    const char *fmt = kv_get(o, "format");
    if (!fmt) {
        fmt = kv_get(o, "driver");
    }
    if (!filename) {
        filename = kv_get(o, "file");
    }
    if (!filename) {
        /* -blockdev driver=qcow2,file.driver=file,file.filename=x */
        filename = kv_peek(o, "file.filename");
    }
    const char *cache = kv_get(o, "cache");
    if (cache && !parse_cache(cache, &flags, &writethrough)) {
        error_setg(errp, "invalid cache option");
        goto out;
    }
    if (kv_has(o, "cache.direct")) {
        if (!kv_get_bool(o, "cache.direct", false, &b, errp)) {
            goto out;
        }
        flags = b ? flags | BDRV_O_NOCACHE : flags & ~BDRV_O_NOCACHE;
    }
    if (kv_has(o, "cache.no-flush")) {
        if (!kv_get_bool(o, "cache.no-flush", false, &b, errp)) {
            goto out;
        }
        flags = b ? flags | BDRV_O_NO_FLUSH : flags & ~BDRV_O_NO_FLUSH;
    }
    if (kv_has(o, "cache.writeback")) {
        if (!kv_get_bool(o, "cache.writeback", true, &b, errp)) {
            goto out;
        }
        writethrough = !b;
    }
    const char *aio = kv_get(o, "aio");
    if (aio) {
        if (!strcmp(aio, "native")) {
            flags |= BDRV_O_NATIVE_AIO;
        } else if (strcmp(aio, "threads") && strcmp(aio, "io_uring")) {
            error_setg(errp, "invalid aio option");
            goto out;
        }
    }
    if ((flags & BDRV_O_NATIVE_AIO) && !(flags & BDRV_O_NOCACHE)) {
        error_setg(errp, "aio=native was specified, but it requires cache.direct=on, "
                   "which was not specified.");
        goto out;
    }
    bool ro = false, snapshot = false;
    if (!kv_get_bool(o, "read-only", false, &ro, errp) ||
        !kv_get_bool(o, "readonly", ro, &ro, errp) ||
        !kv_get_bool(o, "snapshot", false, &snapshot, errp)) {
        goto out;
    }
    flags = ro ? flags & ~BDRV_O_RDWR : flags | BDRV_O_RDWR;
    kv_get(o, "discard");
    kv_get(o, "detect-zeroes");
    const char *locking = kv_get(o, "locking");
    if (locking && !strcmp(locking, "off")) {
        flags |= BDRV_O_NO_LOCK;
    }
    const char *node_name = kv_get(o, "node-name");
    const char *backing = kv_get(o, "backing");
    if (backing && (!strcmp(backing, "null") || !backing[0])) {
        flags |= BDRV_O_NO_BACKING;     /* -blockdev ...,backing=null */
    }
    if (!filename) {
        error_setg(errp, "A block device must be specified for \"file\"");
        goto out;
    }
    BlockDriverState *bs;
    if (snapshot && !ro) {
        bs = open_snapshot_overlay(filename, fmt, flags, errp);
    } else {
        /* remaining keys are driver options (e.g. raw offset/size, file.*) */
        KVDict *drv_opts = kv_new();
        for (int i = 0; i < o->n; i++) {
            if (!o->p[i].used) {
                kv_set(drv_opts, o->p[i].key, o->p[i].value);
            }
        }
        bs = bdrv_open(filename, fmt, drv_opts->n ? drv_opts : NULL, flags, errp);
        if (bs) {
            /* unused driver keys are the caller's business */
            for (int i = 0; i < drv_opts->n; i++) {
                if (drv_opts->p[i].used) {
                    kv_get(opts, drv_opts->p[i].key);
                }
            }
        }
        kv_free(drv_opts);
    }
    if (!bs) {
        goto out;
    }
    if (node_name) {
        g_free(bs->node_name);
        bs->node_name = g_strdup(node_name);
    }
    blk = blk_new_with_bs(id, bs, writethrough);
    BlockDriverState *proto = bdrv_protocol_node(bs);
    blk->native_aio = (flags & BDRV_O_NATIVE_AIO) && (flags & BDRV_O_NOCACHE) &&
                      !strcmp(bs->drv->format_name, "raw") && bs->file == proto &&
                      proto->drv->aio_submit;
    /* mark the block keys as consumed in the caller's dict */
    if (opts) {
        for (int i = 0; i < o->n; i++) {
            if (o->p[i].used) {
                kv_get(opts, o->p[i].key);
            }
        }
    }
out:
    kv_free(o);
    return blk;
}

BlockBackend *blk_new_with_bs(const char *id, BlockDriverState *bs, bool writethrough)
{
    BlockBackend *blk = g_new0(BlockBackend, 1);
    blk->name = g_strdup(id ? id : "");
    blk->bs = bs;
    blk->writethrough = writethrough;
    blk->anonymous = !id;
    blk->root_read_only = bs && bs->read_only;
    blk->on_read_error = BLOCKDEV_ON_ERROR_REPORT;
    blk->on_write_error = BLOCKDEV_ON_ERROR_ENOSPC;
    BlockBackend **p = &backends;
    while (*p) {
        p = &(*p)->next;
    }
    *p = blk;
    return blk;
}

void blk_unref(BlockBackend *blk)
{
    if (!blk) {
        return;
    }
    while (blk->in_flight > 0) {
        main_loop_wait(true);
    }
    for (BlockBackend **p = &backends; *p; p = &(*p)->next) {
        if (*p == blk) {
            *p = blk->next;
            break;
        }
    }
    if (blk->bs) {
        bdrv_flush(blk->bs);
        bdrv_unref(blk->bs);
    }
    g_free(blk->name);
    g_free(blk);
}

BlockBackend *blk_by_name(const char *name)
{
    for (BlockBackend *b = backends; b; b = b->next) {
        if (b->anonymous) {
            continue;
        }
        if (!strcmp(b->name, name) || (b->bs && b->bs->node_name &&
                                        !strcmp(b->bs->node_name, name))) {
            return b;
        }
    }
    return NULL;
}

BlockBackend *blk_next(BlockBackend *blk)
{
    return blk ? blk->next : backends;
}

BlockDriverState *blk_bs(BlockBackend *blk)
{
    return blk->bs;
}

const char *blk_name(BlockBackend *blk)
{
    return blk->name;
}

bool blk_is_read_only(BlockBackend *blk)
{
    return !blk->bs || blk->bs->read_only;
}

bool blk_enable_write_cache(BlockBackend *blk)
{
    return !blk->writethrough;
}

int64_t blk_getlength(BlockBackend *blk)
{
    return blk->bs ? bdrv_getlength(blk->bs) : -ENOMEDIUM;
}

/* ---- requests ---- */

static void *bounce_alloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, n ? n : 1) != 0) {
        return NULL;
    }
    return p;
}

/* Worker thread: the blocking driver call. */
static int blk_req_run(void *opaque)
{
    BlockReq *req = opaque;
    BlockDriverState *bs = req->blk->bs;
    int ret = 0;
    switch (req->type) {
    case BLK_REQ_READ:
    case BLK_REQ_WRITE: {
        QEMUIOVector *q = req->qiov;
        bool direct = q->niov == 1;
        void *buf = direct ? q->iov[0].iov_base : bounce_alloc(req->bytes);
        if (!buf) {
            return -ENOMEM;
        }
        if (req->type == BLK_REQ_READ) {
            ret = bdrv_pread(bs, req->offset, buf, req->bytes);
            if (ret == 0 && !direct) {
                qemu_iovec_from_buf(q, 0, buf, req->bytes);
            }
        } else {
            if (!direct) {
                qemu_iovec_to_buf(q, 0, buf, req->bytes);
            }
            ret = bdrv_pwrite(bs, req->offset, buf, req->bytes);
            if (ret == 0 && req->blk->writethrough) {
                ret = bdrv_flush(bs);
            }
        }
        if (!direct) {
            free(buf);
        }
        break;
    }
    case BLK_REQ_FLUSH:
        ret = bdrv_flush(bs);
        break;
    case BLK_REQ_DISCARD:
        ret = bdrv_pdiscard(bs, req->offset, req->bytes);
        break;
    case BLK_REQ_ZEROES:
        ret = bdrv_pwrite_zeroes(bs, req->offset, req->bytes);
        if (ret == 0 && req->blk->writethrough) {
            ret = bdrv_flush(bs);
        }
        break;
    }
    return ret;
}

static void blk_account(BlockBackend *blk, BlockReq *req, int ret)
{
    BlockAcctStats *st = &blk->stats;
    int64_t now = g_get_monotonic_time() * 1000;
    uint64_t ns = now - req->start_ns;
    st->last_access_ns = now;
    switch (req->type) {
    case BLK_REQ_READ:
        if (ret < 0) {
            st->failed_rd_ops++;
        } else {
            st->rd_ops++;
            st->rd_bytes += req->bytes;
            st->rd_total_ns += ns;
        }
        break;
    case BLK_REQ_WRITE:
    case BLK_REQ_ZEROES:
        if (ret < 0) {
            st->failed_wr_ops++;
        } else {
            st->wr_ops++;
            st->wr_bytes += req->bytes;
            st->wr_total_ns += ns;
            st->wr_highest_offset = MAX(st->wr_highest_offset, (uint64_t)(req->offset + req->bytes));
        }
        break;
    case BLK_REQ_FLUSH:
        if (ret < 0) {
            st->failed_flush_ops++;
        } else {
            st->flush_ops++;
            st->flush_total_ns += ns;
        }
        break;
    case BLK_REQ_DISCARD:
        if (ret < 0) {
            st->failed_unmap_ops++;
        } else {
            st->unmap_ops++;
            st->unmap_bytes += req->bytes;
            st->unmap_total_ns += ns;
        }
        break;
    }
}

void blk_req_complete(BlockReq *req, int ret)
{
    req->blk->in_flight--;
    blk_account(req->blk, req, ret);
    if (req->cb) {
        req->cb(req->opaque, ret);
    }
    g_free(req);
}

static void pool_done(void *opaque, int ret)
{
    blk_req_complete(opaque, ret);
}

static void blk_fail_bh(void *opaque)
{
    BlockReq *req = opaque;
    blk_req_complete(req, req->ret);
}

static void blk_submit(BlockBackend *blk, BlockReqType type, int64_t off, int64_t bytes,
                       QEMUIOVector *qiov, BlockCompletionFunc *cb, void *opaque)
{
    BlockReq *req = g_new0(BlockReq, 1);
    req->blk = blk;
    req->type = type;
    req->offset = off;
    req->bytes = bytes;
    req->qiov = qiov;
    req->cb = cb;
    req->opaque = opaque;
    req->start_ns = g_get_monotonic_time() * 1000;
    blk->in_flight++;
    int err = 0;
    if (!blk->bs) {
        err = -ENOMEDIUM;
    } else if (type != BLK_REQ_FLUSH) {
        int64_t len = bdrv_getlength(blk->bs);
        if (off < 0 || bytes < 0 || len < 0 || off > len || bytes > len - off) {
            err = -EIO;
        } else if (type != BLK_REQ_READ && blk->bs->read_only) {
            err = -EACCES;
        }
    }
    if (err) {
        req->ret = err;
        main_loop_schedule(blk_fail_bh, req);
        return;
    }
    if (blk->native_aio && (type == BLK_REQ_READ || type == BLK_REQ_WRITE) &&
        !blk->writethrough) {
        BlockDriverState *proto = bdrv_protocol_node(blk->bs);
        if (proto->drv->aio_submit(proto, req)) {
            return;
        }
    }
    thread_pool_submit(blk_req_run, req, pool_done, req);
}

void blk_aio_preadv(BlockBackend *blk, int64_t off, QEMUIOVector *qiov,
                    BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_READ, off, qiov->size, qiov, cb, opaque);
}

void blk_aio_pwritev(BlockBackend *blk, int64_t off, QEMUIOVector *qiov,
                     BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_WRITE, off, qiov->size, qiov, cb, opaque);
}

void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_FLUSH, 0, 0, NULL, cb, opaque);
}

void blk_aio_pdiscard(BlockBackend *blk, int64_t off, int64_t bytes,
                      BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_DISCARD, off, bytes, NULL, cb, opaque);
}

void blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t off, int64_t bytes,
                           BlockCompletionFunc *cb, void *opaque)
{
    blk_submit(blk, BLK_REQ_ZEROES, off, bytes, NULL, cb, opaque);
}

void blk_drain_all(void)
{
    for (;;) {
        bool busy = false;
        for (BlockBackend *b = backends; b; b = b->next) {
            busy |= b->in_flight > 0;
        }
        if (!busy) {
            return;
        }
        main_loop_wait(true);
    }
}

/* Synchronous helpers: run the request and wait in the main loop. */
typedef struct SyncWait {
    bool done;
    int ret;
} SyncWait;

static void sync_cb(void *opaque, int ret)
{
    SyncWait *w = opaque;
    w->ret = ret;
    w->done = true;
}

static int sync_rw(BlockBackend *blk, BlockReqType type, int64_t off, void *buf, int64_t bytes)
{
    QEMUIOVector q;
    SyncWait w = { 0 };
    qemu_iovec_init(&q, 1);
    if (buf) {
        qemu_iovec_add(&q, buf, bytes);
    }
    blk_submit(blk, type, off, bytes, buf ? &q : NULL, sync_cb, &w);
    while (!w.done) {
        main_loop_wait(true);
    }
    qemu_iovec_destroy(&q);
    return w.ret;
}

int blk_pread(BlockBackend *blk, int64_t off, void *buf, int64_t bytes)
{
    return sync_rw(blk, BLK_REQ_READ, off, buf, bytes);
}

int blk_pwrite(BlockBackend *blk, int64_t off, const void *buf, int64_t bytes)
{
    return sync_rw(blk, BLK_REQ_WRITE, off, (void *)buf, bytes);
}

int blk_flush(BlockBackend *blk)
{
    return sync_rw(blk, BLK_REQ_FLUSH, 0, NULL, 0);
}

/* Open a format driver on top of an already open node (blockdev-add with
 * "file": "<node-name>"). Takes a reference to 'file'. The backing chain
 * is not opened (the caller links bs->backing itself). */
BlockDriverState *bdrv_open_format_on(BlockDriverState *file, const char *fmt,
                                      KVDict *opts, int flags, Error **errp)
{
    const BlockDriver *drv = bdrv_find_format(fmt);
    if (!drv || !drv->is_format) {
        error_setg(errp, "Unknown driver '%s'", fmt);
        return NULL;
    }
    BlockDriverState *bs = g_new0(BlockDriverState, 1);
    bs->drv = drv;
    bs->filename = g_strdup(file->filename);
    bs->refcnt = 1;
    g_mutex_init(&bs->lock);
    if (drv->instance_size) {
        bs->opaque = g_malloc0(drv->instance_size);
    }
    bdrv_ref(file);
    bs->file = file;
    bs->open_flags = flags;
    bs->read_only = !(flags & BDRV_O_RDWR);
    if (drv->open(bs, opts, flags, errp) < 0) {
        bdrv_unref(file);
        g_mutex_clear(&bs->lock);
        g_free(bs->opaque);
        g_free(bs->filename);
        g_free(bs);
        return NULL;
    }
    return bs;
}

/* ---- devices, media, accounting, error policy ---- */

bool blk_attach_dev(BlockBackend *blk, DeviceState *dev)
{
    if (blk->dev) {
        return false;
    }
    blk->dev = dev;
    return true;
}

void blk_detach_dev(BlockBackend *blk, DeviceState *dev)
{
    if (blk->dev == dev) {
        blk->dev = NULL;
        blk->dev_ops = NULL;
        blk->dev_opaque = NULL;
    }
}

DeviceState *blk_get_attached_dev(BlockBackend *blk)
{
    return blk->dev;
}

void blk_set_dev_ops(BlockBackend *blk, const BlockDevOps *ops, void *opaque)
{
    blk->dev_ops = ops;
    blk->dev_opaque = opaque;
}

const BlockDevOps *blk_get_dev_ops(BlockBackend *blk, void **opaque)
{
    if (opaque) {
        *opaque = blk->dev_opaque;
    }
    return blk->dev_ops;
}

BlockBackend *blk_new_empty(const char *id)
{
    return blk_new_with_bs(id, NULL, false);
}

bool blk_is_inserted(BlockBackend *blk)
{
    return blk->bs != NULL;
}

void blk_insert_bs(BlockBackend *blk, BlockDriverState *bs)
{
    blk_remove_bs(blk);
    blk->bs = bs;
    blk->root_read_only = bs->read_only;
}

void blk_set_root_read_only(BlockBackend *blk, bool ro)
{
    blk->root_read_only = ro;
}

bool blk_get_root_read_only(BlockBackend *blk)
{
    return blk->root_read_only;
}

void blk_remove_bs(BlockBackend *blk)
{
    if (!blk->bs) {
        return;
    }
    while (blk->in_flight > 0) {
        main_loop_wait(true);
    }
    bdrv_flush(blk->bs);
    bdrv_unref(blk->bs);
    blk->bs = NULL;
}

bool blk_is_anonymous(BlockBackend *blk)
{
    return blk->anonymous;
}

void blk_set_enable_write_cache(BlockBackend *blk, bool wce)
{
    blk->writethrough = !wce;
}

const BlockAcctStats *blk_get_stats(BlockBackend *blk)
{
    return &blk->stats;
}

void blk_set_on_error(BlockBackend *blk, BlockdevOnError rerror, BlockdevOnError werror)
{
    blk->on_read_error = rerror;
    blk->on_write_error = werror;
}

BlockdevOnError blk_get_on_error(BlockBackend *blk, bool is_read)
{
    return is_read ? blk->on_read_error : blk->on_write_error;
}

BlockErrorAction blk_get_error_action(BlockBackend *blk, bool is_read, int error)
{
    switch (blk_get_on_error(blk, is_read)) {
    case BLOCKDEV_ON_ERROR_ENOSPC:
        return error == ENOSPC ? BLOCK_ERROR_ACTION_STOP : BLOCK_ERROR_ACTION_REPORT;
    case BLOCKDEV_ON_ERROR_STOP:
        return BLOCK_ERROR_ACTION_STOP;
    case BLOCKDEV_ON_ERROR_IGNORE:
        return BLOCK_ERROR_ACTION_IGNORE;
    case BLOCKDEV_ON_ERROR_REPORT:
    case BLOCKDEV_ON_ERROR_AUTO:
    default:
        return BLOCK_ERROR_ACTION_REPORT;
    }
}

void blk_error_action(BlockBackend *blk, BlockErrorAction action, bool is_read, int error)
{
    if (blk_error_hook) {
        blk_error_hook(blk, action, is_read, error);
    }
}
