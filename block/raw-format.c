/*
 * "raw" format: a pass-through to the protocol child with optional
 * offset/size options. When the format was probed (not given), writes to
 * block 0 that would make the image probe as another format are refused,
 * as QEMU does. Locking: stateless after open; I/O from any thread.
 */
#include <errno.h>
#include <string.h>
#include "block/block.h"
#include "util/cutils.h"
#include "util/module.h"

typedef struct RawState {
    uint64_t offset;
    uint64_t size;
    bool has_size;
} RawState;

static int raw_probe(const uint8_t *buf, int len, const char *filename)
{
    (void)buf; (void)len; (void)filename;
    return 1;   /* lowest score: anything else wins */
}

static int raw_open(BlockDriverState *bs, KVDict *opts, int flags, Error **errp)
{
    RawState *s = bs->opaque;
    (void)flags;
    if (opts) {
        if (!kv_get_size(opts, "offset", 0, &s->offset, errp)) {
            return -EINVAL;
        }
        if (kv_has(opts, "size")) {
            if (!kv_get_size(opts, "size", 0, &s->size, errp)) {
                return -EINVAL;
            }
            s->has_size = true;
        }
    }
    int64_t len = bdrv_getlength(bs->file);
    if (len < 0) {
        error_setg_errno(errp, (int)-len, "Could not get the image size");
        return (int)len;
    }
    if (s->offset > (uint64_t)len) {
        error_setg(errp, "The sum of offset (%" PRIu64 ") and size (0) has to be "
                   "smaller or equal to the  actual size of the containing file (%" PRId64 ")",
                   s->offset, len);
        return -EINVAL;
    }
    return 0;
}

static int64_t raw_getlength(BlockDriverState *bs)
{
    RawState *s = bs->opaque;
    if (s->has_size) {
        return s->size;
    }
    int64_t len = bdrv_getlength(bs->file);
    return len < 0 ? len : len - (int64_t)s->offset;
}

static int raw_pread(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes)
{
    RawState *s = bs->opaque;
    return bdrv_pread(bs->file, off + s->offset, buf, bytes);
}

static bool write_would_change_format(BlockDriverState *bs, int64_t off,
                                      const void *buf, int64_t bytes)
{
    if (!bs->probed_raw || off >= 512) {
        return false;
    }
    uint8_t sector[512];
    if (bdrv_pread(bs->file, 0, sector, sizeof(sector)) < 0) {
        return true;
    }
    int64_t n = MIN(bytes, 512 - off);
    memcpy(sector + off, buf, n);
    const char *fmts[] = { "qcow2" };
    for (size_t i = 0; i < ARRAY_SIZE(fmts); i++) {
        const BlockDriver *d = bdrv_find_format(fmts[i]);
        if (d && d->probe && d->probe(sector, sizeof(sector), NULL) > 1) {
            return true;
        }
    }
    return false;
}

static int raw_pwrite(BlockDriverState *bs, int64_t off, const void *buf, int64_t bytes)
{
    RawState *s = bs->opaque;
    if (s->has_size && (uint64_t)(off + bytes) > s->size) {
        return -EIO;
    }
    if (write_would_change_format(bs, off, buf, bytes)) {
        return -EPERM;
    }
    return bdrv_pwrite(bs->file, off + s->offset, buf, bytes);
}

static int raw_flush(BlockDriverState *bs)
{
    return bdrv_flush(bs->file);
}

static int raw_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    RawState *s = bs->opaque;
    if (bs->probed_raw && off < 512) {
        return -ENOTSUP;
    }
    return bdrv_pwrite_zeroes(bs->file, off + s->offset, bytes);
}

static int raw_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    RawState *s = bs->opaque;
    return bdrv_pdiscard(bs->file, off + s->offset, bytes);
}

static int raw_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    RawState *s = bs->opaque;
    if (s->has_size || s->offset) {
        error_setg(errp, "Cannot resize fixed-size raw disks");
        return -ENOTSUP;
    }
    return bdrv_truncate(bs->file, size, errp);
}

static int raw_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                            int64_t *pnum, int64_t *map)
{
    RawState *s = bs->opaque;
    int ret = bdrv_block_status(bs->file, off + s->offset, bytes, pnum, map);
    return ret | BDRV_BLOCK_ALLOCATED;
}

static int raw_create(const char *filename, KVDict *opts, Error **errp)
{
    return bdrv_create("file", filename, opts, errp);
}

static const BlockDriver bdrv_raw = {
    .format_name = "raw",
    .instance_size = sizeof(RawState),
    .is_format = true,
    .probe = raw_probe,
    .open = raw_open,
    .getlength = raw_getlength,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .pwrite_zeroes = raw_pwrite_zeroes,
    .pdiscard = raw_pdiscard,
    .truncate = raw_truncate,
    .block_status = raw_block_status,
    .create = raw_create,
};

MODULE_INIT(raw_register)
{
    bdrv_register(&bdrv_raw);
}
