/*
 * Block layer core: driver registry, format probing (QEMU's raw-probing
 * warning), node open/close with protocol child and backing chain, and the
 * blocking bdrv_* wrappers that bounds-check requests before the driver.
 * Locking: open/close under the BQL (or single-threaded tools); bdrv_* I/O
 * from any thread, drivers serialize their own metadata.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "block/block.h"
#include "util/cutils.h"

#define MAX_DRIVERS 16
static const BlockDriver *drivers[MAX_DRIVERS];
static int nb_drivers;

void bdrv_register(const BlockDriver *drv)
{
    if (nb_drivers < MAX_DRIVERS) {
        drivers[nb_drivers++] = drv;
    }
}

const BlockDriver *bdrv_find_format(const char *name)
{
    for (int i = 0; i < nb_drivers; i++) {
        if (!strcmp(drivers[i]->format_name, name)) {
            return drivers[i];
        }
    }
    return NULL;
}

/* ---- iovec helpers ---- */

void qemu_iovec_init(QEMUIOVector *qiov, int alloc_hint)
{
    qiov->nalloc = alloc_hint > 0 ? alloc_hint : 1;
    qiov->iov = g_new0(struct iovec, qiov->nalloc);
    qiov->niov = 0;
    qiov->size = 0;
}

void qemu_iovec_add(QEMUIOVector *qiov, void *base, size_t len)
{
    if (qiov->niov == qiov->nalloc) {
        qiov->nalloc = qiov->nalloc * 2 + 1;
        qiov->iov = g_renew(struct iovec, qiov->iov, qiov->nalloc);
    }
    qiov->iov[qiov->niov].iov_base = base;
    qiov->iov[qiov->niov].iov_len = len;
    qiov->niov++;
    qiov->size += len;
}

void qemu_iovec_destroy(QEMUIOVector *qiov)
{
    g_free(qiov->iov);
    memset(qiov, 0, sizeof(*qiov));
}

void qemu_iovec_reset(QEMUIOVector *qiov)
{
    qiov->niov = 0;
    qiov->size = 0;
}

static size_t iov_copy(const QEMUIOVector *qiov, size_t offset, void *buf,
                       size_t bytes, bool to_buf)
{
    size_t done = 0;
    for (int i = 0; i < qiov->niov && done < bytes; i++) {
        size_t len = qiov->iov[i].iov_len;
        if (offset >= len) {
            offset -= len;
            continue;
        }
        size_t n = MIN(len - offset, bytes - done);
        uint8_t *p = (uint8_t *)qiov->iov[i].iov_base + offset;
        if (to_buf) {
            memcpy((uint8_t *)buf + done, p, n);
        } else {
            memcpy(p, (uint8_t *)buf + done, n);
        }
        done += n;
        offset = 0;
    }
    return done;
}

size_t qemu_iovec_to_buf(const QEMUIOVector *qiov, size_t offset, void *buf, size_t bytes)
{
    return iov_copy(qiov, offset, buf, bytes, true);
}

size_t qemu_iovec_from_buf(QEMUIOVector *qiov, size_t offset, const void *buf, size_t bytes)
{
    return iov_copy(qiov, offset, (void *)buf, bytes, false);
}

/* ---- probing ---- */

static const BlockDriver *probe_drv(const uint8_t *buf, int len, const char *filename)
{
    const BlockDriver *best = NULL;
    int score = 0;
    for (int i = 0; i < nb_drivers; i++) {
        if (drivers[i]->probe) {
            int s = drivers[i]->probe(buf, len, filename);
            if (s > score) {
                score = s;
                best = drivers[i];
            }
        }
    }
    return best;
}

static bool is_host_device(const char *filename)
{
    struct stat st;
    return stat(filename, &st) == 0 && S_ISBLK(st.st_mode);
}

static const char *protocol_for(const char *filename)
{
    return is_host_device(filename) ? "host_device" : "file";
}

const char *bdrv_probe_format(const char *filename, Error **errp)
{
    BlockDriverState *file = bdrv_open_protocol(filename, NULL, NULL,
                                                BDRV_O_FORCE_SHARE, errp);
    if (!file) {
        return NULL;
    }
    uint8_t buf[2048] = { 0 };
    int64_t len = bdrv_getlength(file);
    int n = len < 0 ? 0 : (int)MIN(len, (int64_t)sizeof(buf));
    const char *name = "raw";
    if (n > 0 && bdrv_pread(file, 0, buf, n) == 0) {
        const BlockDriver *drv = probe_drv(buf, n, filename);
        if (drv) {
            name = drv->format_name;
        }
    }
    bdrv_unref(file);
    return name;
}

/* ---- open / close ---- */

static BlockDriverState *bdrv_new(const BlockDriver *drv, const char *filename)
{
    BlockDriverState *bs = g_new0(BlockDriverState, 1);
    bs->drv = drv;
    bs->filename = g_strdup(filename);
    bs->refcnt = 1;
    g_mutex_init(&bs->lock);
    if (drv->instance_size) {
        bs->opaque = g_malloc0(drv->instance_size);
    }
    return bs;
}

static void bdrv_free(BlockDriverState *bs)
{
    g_mutex_clear(&bs->lock);
    g_free(bs->opaque);
    g_free(bs->filename);
    g_free(bs->node_name);
    g_free(bs);
}

BlockDriverState *bdrv_open_protocol(const char *filename, const char *proto,
                                     KVDict *opts, int flags, Error **errp)
{
    const BlockDriver *drv = bdrv_find_format(proto ? proto : protocol_for(filename));
    if (!drv || drv->is_format) {
        error_setg(errp, "Unknown protocol '%s'", proto ? proto : "");
        return NULL;
    }
    BlockDriverState *bs = bdrv_new(drv, filename);
    bs->open_flags = flags;
    bs->read_only = !(flags & BDRV_O_RDWR);
    if (drv->open(bs, opts, flags, errp) < 0) {
        bdrv_free(bs);
        return NULL;
    }
    return bs;
}

char *bdrv_resolve_backing_name(const char *image, const char *backing)
{
    if (backing[0] == '/' || strstr(backing, "://")) {
        return g_strdup(backing);
    }
    const char *slash = strrchr(image, '/');
    if (!slash) {
        return g_strdup(backing);
    }
    return g_strdup_printf("%.*s%s", (int)(slash - image + 1), image, backing);
}

/* Move keys "prefix.x" of src into a new dict (NULL if none). */
static KVDict *opts_sub(KVDict *src, const char *prefix)
{
    if (!src) {
        return NULL;
    }
    KVDict *d = kv_sub(src, prefix);
    if (d && d->n == 0) {
        kv_free(d);
        return NULL;
    }
    return d;
}

static int open_backing(BlockDriverState *bs, int flags, Error **errp)
{
    if (!bs->backing_file[0] || (flags & BDRV_O_NO_BACKING)) {
        return 0;
    }
    g_autofree char *name = bdrv_resolve_backing_name(bs->filename, bs->backing_file);
    const char *fmt = bs->backing_format[0] ? bs->backing_format : NULL;
    Error *local = NULL;
    int bflags = flags & ~(BDRV_O_RDWR | BDRV_O_CHECK);
    bs->backing = bdrv_open(name, fmt, NULL, bflags, &local);
    if (!bs->backing) {
        error_setg(errp, "Could not open backing file: %s", error_get_pretty(local));
        error_free(local);
        return -EINVAL;
    }
    return 0;
}

BlockDriverState *bdrv_open(const char *filename, const char *fmt,
                            KVDict *opts, int flags, Error **errp)
{
    const char *drvname = opts ? kv_get(opts, "driver") : NULL;
    if (drvname) {
        fmt = drvname;
    }
    KVDict *fopts = opts_sub(opts, "file");
    /* a copy: fopts is freed before the name is used for the node */
    g_autofree char *fname_copy = g_strdup(fopts && kv_peek(fopts, "filename")
                                           ? kv_get(fopts, "filename") : filename);
    const char *fname = fname_copy;
    if (!fname) {
        error_setg(errp, "A block device must be specified for \"file\"");
        kv_free(fopts);
        return NULL;
    }
    const char *proto = fopts ? kv_get(fopts, "driver") : NULL;
    const BlockDriver *drv = NULL;
    if (fmt) {
        drv = bdrv_find_format(fmt);
        if (!drv) {
            error_setg(errp, "Unknown driver '%s'", fmt);
            kv_free(fopts);
            return NULL;
        }
        if (!drv->is_format) {
            /* A protocol used directly as the top node. */
            BlockDriverState *bs = bdrv_open_protocol(fname, fmt, opts, flags, errp);
            kv_free(fopts);
            return bs;
        }
    }
    BlockDriverState *file = bdrv_open_protocol(fname, proto, fopts ? fopts : opts,
                                                flags, errp);
    kv_free(fopts);
    if (!file) {
        return NULL;
    }
    bool probed = false;
    if (!drv) {
        uint8_t buf[2048] = { 0 };
        int64_t len = bdrv_getlength(file);
        int n = len < 0 ? 0 : (int)MIN(len, (int64_t)sizeof(buf));
        if (n > 0) {
            int ret = bdrv_pread(file, 0, buf, n);
            if (ret < 0) {
                error_setg_errno(errp, -ret, "Could not read image for determining its format");
                bdrv_unref(file);
                return NULL;
            }
        }
        drv = probe_drv(buf, n, fname);
        if (!drv) {
            drv = bdrv_find_format("raw");
        }
        probed = !strcmp(drv->format_name, "raw");
    }
    BlockDriverState *bs = bdrv_new(drv, fname);
    bs->file = file;
    bs->open_flags = flags;
    bs->read_only = !(flags & BDRV_O_RDWR);
    bs->probed_raw = probed;
    if (probed && (flags & BDRV_O_RDWR)) {
        fprintf(stderr, "WARNING: Image format was not specified for '%s' and probing "
                "guessed raw.\n         Automatically detecting the format is dangerous "
                "for raw images, write operations on block 0 will be restricted.\n"
                "         Specify the 'raw' format explicitly to remove the "
                "restrictions.\n", fname);
    }
    if (drv->open(bs, opts, flags, errp) < 0) {
        bdrv_unref(file);
        bdrv_free(bs);
        return NULL;
    }
    if (open_backing(bs, flags, errp) < 0) {
        bdrv_unref(bs);
        return NULL;
    }
    return bs;
}

void bdrv_ref(BlockDriverState *bs)
{
    bs->refcnt++;
}

void bdrv_unref(BlockDriverState *bs)
{
    if (!bs || --bs->refcnt > 0) {
        return;
    }
    if (bs->drv->close) {
        bs->drv->close(bs);
    }
    if (bs->backing) {
        bdrv_unref(bs->backing);
    }
    if (bs->file) {
        bdrv_unref(bs->file);
    }
    bdrv_free(bs);
}

BlockDriverState *bdrv_protocol_node(BlockDriverState *bs)
{
    while (bs->file) {
        bs = bs->file;
    }
    return bs;
}

int bdrv_create(const char *fmt, const char *filename, KVDict *opts, Error **errp)
{
    const BlockDriver *drv = bdrv_find_format(fmt);
    if (!drv) {
        error_setg(errp, "Unknown file format '%s'", fmt);
        return -EINVAL;
    }
    if (!drv->create) {
        error_setg(errp, "Format driver '%s' does not support image creation", fmt);
        return -ENOTSUP;
    }
    return drv->create(filename, opts, errp);
}

/* ---- blocking I/O wrappers ---- */

static int check_request(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    (void)bs;
    if (off < 0 || bytes < 0 || off > INT64_MAX - bytes) {
        return -EIO;
    }
    return 0;
}

int bdrv_pread(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes)
{
    int ret = check_request(bs, off, bytes);
    if (ret < 0) {
        return ret;
    }
    if (bytes == 0) {
        return 0;
    }
    return bs->drv->pread(bs, off, buf, bytes);
}

int bdrv_pwrite(BlockDriverState *bs, int64_t off, const void *buf, int64_t bytes)
{
    int ret = check_request(bs, off, bytes);
    if (ret < 0) {
        return ret;
    }
    if (bs->read_only) {
        return -EPERM;
    }
    if (bytes == 0) {
        return 0;
    }
    return bs->drv->pwrite(bs, off, buf, bytes);
}

int bdrv_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    int ret = check_request(bs, off, bytes);
    if (ret < 0) {
        return ret;
    }
    if (bs->read_only) {
        return -EPERM;
    }
    if (bs->drv->pwrite_zeroes) {
        ret = bs->drv->pwrite_zeroes(bs, off, bytes);
        if (ret != -ENOTSUP) {
            return ret;
        }
    }
    int64_t chunk = MIN(bytes, 1 << 20);
    void *zero = g_malloc0(chunk > 0 ? chunk : 1);
    ret = 0;
    while (bytes > 0 && ret == 0) {
        int64_t n = MIN(bytes, chunk);
        ret = bs->drv->pwrite(bs, off, zero, n);
        off += n;
        bytes -= n;
    }
    g_free(zero);
    return ret;
}

int bdrv_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    if (bs->read_only) {
        return -EPERM;
    }
    if (!bs->drv->pdiscard || check_request(bs, off, bytes) < 0) {
        return 0;
    }
    return bs->drv->pdiscard(bs, off, bytes);
}

int bdrv_flush(BlockDriverState *bs)
{
    if (bs->read_only) {
        return 0;
    }
    return bs->drv->flush ? bs->drv->flush(bs) : 0;
}

int64_t bdrv_getlength(BlockDriverState *bs)
{
    return bs->drv->getlength(bs);
}

int bdrv_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    if (!bs->drv->truncate) {
        error_setg(errp, "Image format driver does not support resize");
        return -ENOTSUP;
    }
    if (bs->read_only) {
        error_setg(errp, "Image is read-only");
        return -EACCES;
    }
    return bs->drv->truncate(bs, size, errp);
}

int64_t bdrv_get_allocated_file_size(BlockDriverState *bs)
{
    if (bs->drv->allocated_size) {
        return bs->drv->allocated_size(bs);
    }
    return bs->file ? bdrv_get_allocated_file_size(bs->file) : -ENOTSUP;
}

int bdrv_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                      int64_t *pnum, int64_t *map)
{
    *map = 0;
    if (bs->drv->block_status) {
        return bs->drv->block_status(bs, off, bytes, pnum, map);
    }
    *pnum = bytes;
    return BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED;
}
