/*
 * "file" and "host_device" protocols: pread/pwrite on a POSIX fd, O_DIRECT
 * for cache.direct=on (unaligned requests bounce through an aligned buffer),
 * fdatasync for flush, and QEMU-compatible image locking: OFD read locks on
 * byte 100+bit for each permission held and 200+bit for each permission not
 * shared (bits: 0 consistent read, 1 write, 2 write unchanged, 3 resize).
 * Locking: I/O from any thread; the bounce path holds bs->lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "block/block.h"
#include "file-posix.h"
#include "util/cutils.h"
#include "util/module.h"

#define LOCK_PERM_BASE   100
#define LOCK_SHARED_BASE 200
#define PERM_CONSISTENT_READ 0x01
#define PERM_WRITE           0x02
#define PERM_WRITE_UNCHANGED 0x04
#define PERM_RESIZE          0x08
#define PERM_NBITS 4

static const char *perm_names[PERM_NBITS] = {
    "consistent read", "write", "write unchanged", "resize",
};

static int lock_byte(int fd, int64_t byte, short type, bool test, bool *conflict)
{
    struct flock fl = {
        .l_whence = SEEK_SET,
        .l_start = byte,
        .l_len = 1,
        .l_type = type,
    };
    if (fcntl(fd, test ? F_OFD_GETLK : F_OFD_SETLK, &fl) < 0) {
        return -errno;
    }
    if (test) {
        *conflict = fl.l_type != F_UNLCK;
    }
    return 0;
}

/* Take locks for 'perm' and for the permissions not in 'shared'. */
static int apply_locks(FilePosixState *s, unsigned perm, unsigned shared,
                       const char *filename, Error **errp)
{
    unsigned unshared = ~shared & ((1u << PERM_NBITS) - 1);
    for (int i = 0; i < PERM_NBITS; i++) {
        if (perm & (1u << i)) {
            lock_byte(s->fd, LOCK_PERM_BASE + i, F_RDLCK, false, NULL);
        }
        if (unshared & (1u << i)) {
            lock_byte(s->fd, LOCK_SHARED_BASE + i, F_RDLCK, false, NULL);
        }
    }
    for (int i = 0; i < PERM_NBITS; i++) {
        bool conflict = false;
        if ((perm & (1u << i)) &&
            lock_byte(s->fd, LOCK_SHARED_BASE + i, F_WRLCK, true, &conflict) == 0 &&
            conflict) {
            error_setg(errp, "Failed to get \"%s\" lock", perm_names[i]);
            error_append_hint(errp, "Is another process using the image [%s]?\n", filename);
            return -EAGAIN;
        }
        if ((unshared & (1u << i)) &&
            lock_byte(s->fd, LOCK_PERM_BASE + i, F_WRLCK, true, &conflict) == 0 &&
            conflict) {
            error_setg(errp, "Failed to get shared \"%s\" lock", perm_names[i]);
            error_append_hint(errp, "Is another process using the image [%s]?\n", filename);
            return -EAGAIN;
        }
    }
    return 0;
}

/* Find the O_DIRECT alignment by trying reads of growing size. */
static void probe_alignment(FilePosixState *s)
{
    void *buf = NULL;
    s->align = 4096;
    if (posix_memalign(&buf, 4096, 4096) != 0) {
        return;
    }
    for (size_t a = 512; a <= 4096; a *= 2) {
        if (pread(s->fd, buf, a, 0) >= 0) {
            s->align = a;
            break;
        }
    }
    free(buf);
}

static int file_open(BlockDriverState *bs, KVDict *opts, int flags, Error **errp)
{
    FilePosixState *s = bs->opaque;
    const char *locking = opts ? kv_get(opts, "locking") : NULL;
    const char *aio = opts ? kv_get(opts, "aio") : NULL;
    int oflags = O_CLOEXEC | ((flags & BDRV_O_RDWR) ? O_RDWR : O_RDONLY);

    if (opts) {
        kv_get(opts, "filename");
        kv_get(opts, "driver");
    }
    if (flags & BDRV_O_NOCACHE) {
        oflags |= O_DIRECT;
    }
    s->fd = open(bs->filename, oflags);
    if (s->fd < 0 && errno == EROFS && (flags & BDRV_O_RDWR)) {
        errno = EROFS;
    }
    if (s->fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", bs->filename);
        return -errno;
    }
    struct stat st;
    if (fstat(s->fd, &st) == 0) {
        s->is_blockdev = S_ISBLK(st.st_mode);
        if (S_ISDIR(st.st_mode)) {
            error_setg(errp, "'file' driver requires '%s' to be a regular file", bs->filename);
            close(s->fd);
            return -EISDIR;
        }
    }
    if (!strcmp(bs->drv->format_name, "file") && s->is_blockdev) {
        /* QEMU accepts this with a deprecation warning; we just allow it. */
    }
    s->direct = !!(flags & BDRV_O_NOCACHE);
    s->no_flush = !!(flags & BDRV_O_NO_FLUSH);
    s->use_aio = (flags & BDRV_O_NATIVE_AIO) || (aio && !strcmp(aio, "native"));
    s->align = 1;
    if (s->direct) {
        probe_alignment(s);
    }
    bool do_lock = !(flags & BDRV_O_NO_LOCK) && !(locking && !strcmp(locking, "off"));
    if (do_lock) {
        unsigned perm = PERM_CONSISTENT_READ;
        unsigned shared = (1u << PERM_NBITS) - 1;
        if (flags & BDRV_O_FORCE_SHARE) {
            /* -U: share everything */
        } else if (flags & BDRV_O_RDWR) {
            perm |= PERM_WRITE | PERM_RESIZE;
            shared &= ~(PERM_WRITE | PERM_RESIZE);
        } else {
            shared &= ~PERM_WRITE;
        }
        int ret = apply_locks(s, perm, shared, bs->filename, errp);
        if (ret < 0) {
            close(s->fd);
            return ret;
        }
    }
    return 0;
}

static void file_close(BlockDriverState *bs)
{
    FilePosixState *s = bs->opaque;
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

static int64_t file_getlength(BlockDriverState *bs)
{
    FilePosixState *s = bs->opaque;
    if (s->is_blockdev) {
        uint64_t size;
        if (ioctl(s->fd, BLKGETSIZE64, &size) < 0) {
            return -errno;
        }
        return size;
    }
    struct stat st;
    if (fstat(s->fd, &st) < 0) {
        return -errno;
    }
    return st.st_size;
}

/* Plain I/O loop; reads past EOF return zeros like QEMU. */
static int do_io(FilePosixState *s, int64_t off, void *buf, int64_t bytes, bool write)
{
    uint8_t *p = buf;
    while (bytes > 0) {
        ssize_t n = write ? pwrite(s->fd, p, bytes, off) : pread(s->fd, p, bytes, off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            if (write) {
                return -EIO;
            }
            memset(p, 0, bytes);
            return 0;
        }
        p += n;
        off += n;
        bytes -= n;
    }
    return 0;
}

static bool aligned(FilePosixState *s, int64_t off, const void *buf, int64_t bytes)
{
    return s->align <= 1 ||
           ((off | bytes | (uintptr_t)buf) & (s->align - 1)) == 0;
}

/* O_DIRECT request that is not aligned: read-modify-write through a bounce. */
static int bounce_io(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes, bool write)
{
    FilePosixState *s = bs->opaque;
    int64_t start = QEMU_ALIGN_DOWN(off, (int64_t)s->align);
    int64_t end = ROUND_UP(off + bytes, (int64_t)s->align);
    void *bounce = NULL;
    if (posix_memalign(&bounce, s->align, end - start) != 0) {
        return -ENOMEM;
    }
    g_mutex_lock(&bs->lock);
    int ret = 0;
    if (!write || start != off || end != off + bytes) {
        ret = do_io(s, start, bounce, end - start, false);
    }
    if (ret == 0) {
        if (write) {
            memcpy((uint8_t *)bounce + (off - start), buf, bytes);
            int64_t len = file_getlength(bs);
            int64_t wend = end;
            ret = do_io(s, start, bounce, wend - start, true);
            if (ret == 0 && len >= 0 && len < end && len < off + bytes && !s->is_blockdev) {
                /* keep the file size exact: trim padding beyond the request */
                if (ftruncate(s->fd, off + bytes) < 0) {
                    ret = -errno;
                }
            }
        } else {
            memcpy(buf, (uint8_t *)bounce + (off - start), bytes);
        }
    }
    g_mutex_unlock(&bs->lock);
    free(bounce);
    return ret;
}

static int file_pread(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes)
{
    FilePosixState *s = bs->opaque;
    if (!aligned(s, off, buf, bytes)) {
        return bounce_io(bs, off, buf, bytes, false);
    }
    return do_io(s, off, buf, bytes, false);
}

static int file_pwrite(BlockDriverState *bs, int64_t off, const void *buf, int64_t bytes)
{
    FilePosixState *s = bs->opaque;
    if (!aligned(s, off, buf, bytes)) {
        return bounce_io(bs, off, (void *)buf, bytes, true);
    }
    return do_io(s, off, (void *)buf, bytes, true);
}

static int file_flush(BlockDriverState *bs)
{
    FilePosixState *s = bs->opaque;
    if (s->no_flush) {
        return 0;
    }
    return fdatasync(s->fd) < 0 ? -errno : 0;
}

static int file_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    FilePosixState *s = bs->opaque;
    if (!s->is_blockdev &&
        fallocate(s->fd, FALLOC_FL_ZERO_RANGE, off, bytes) == 0) {
        return 0;
    }
    return -ENOTSUP;
}

static int file_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    FilePosixState *s = bs->opaque;
    if (s->is_blockdev) {
        uint64_t range[2] = { off, bytes };
        return ioctl(s->fd, BLKDISCARD, range) < 0 ? 0 : 0;
    }
    fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, bytes);
    return 0;
}

static int file_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    FilePosixState *s = bs->opaque;
    if (s->is_blockdev) {
        if (size > file_getlength(bs)) {
            error_setg(errp, "Cannot grow device files");
            return -EINVAL;
        }
        return 0;
    }
    if (ftruncate(s->fd, size) < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Failed to resize file");
        return -err;
    }
    return 0;
}

static int64_t file_allocated_size(BlockDriverState *bs)
{
    FilePosixState *s = bs->opaque;
    struct stat st;
    if (fstat(s->fd, &st) < 0) {
        return -errno;
    }
    return (int64_t)st.st_blocks * 512;
}

static int file_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                             int64_t *pnum, int64_t *map)
{
    FilePosixState *s = bs->opaque;
    *map = off;
    *pnum = bytes;
    if (s->is_blockdev) {
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;
    }
    off_t data = lseek(s->fd, off, SEEK_DATA);
    if (data < 0 || data > off) {
        /* hole until 'data' (or EOF) */
        if (data > off) {
            *pnum = MIN(bytes, data - off);
        }
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;
    }
    off_t hole = lseek(s->fd, off, SEEK_HOLE);
    if (hole > off) {
        *pnum = MIN(bytes, hole - off);
    }
    return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;
}

static int file_create(const char *filename, KVDict *opts, Error **errp)
{
    uint64_t size = 0;
    const char *prealloc = kv_get(opts, "preallocation");
    if (!kv_get_size(opts, "size", 0, &size, errp)) {
        return -EINVAL;
    }
    if (prealloc && strcmp(prealloc, "off") && strcmp(prealloc, "falloc") &&
        strcmp(prealloc, "full")) {
        error_setg(errp, "Parameter 'preallocation' does not accept value '%s'", prealloc);
        return -EINVAL;
    }
    if (!kv_check_all_used(opts, errp)) {
        return -EINVAL;
    }
    int fd = open(filename, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Could not create '%s'", filename);
        return -err;
    }
    int ret = 0;
    if (ftruncate(fd, size) < 0) {
        ret = -errno;
        error_setg_errno(errp, -ret, "Could not resize file");
    } else if (prealloc && !strcmp(prealloc, "falloc") && size) {
        if (posix_fallocate(fd, 0, size) != 0) {
            ret = -ENOSPC;
            error_setg(errp, "Could not preallocate data for the new file");
        }
    } else if (prealloc && !strcmp(prealloc, "full") && size) {
        size_t chunk = 1 << 20;
        void *zero = g_malloc0(chunk);
        for (uint64_t o = 0; o < size && ret == 0; o += chunk) {
            size_t n = MIN(chunk, size - o);
            if (pwrite(fd, zero, n, o) != (ssize_t)n) {
                ret = -EIO;
                error_setg(errp, "Could not preallocate data for the new file");
            }
        }
        g_free(zero);
    }
    close(fd);
    return ret;
}

int file_posix_fd(BlockDriverState *bs)
{
    FilePosixState *s = bs->opaque;
    return s->fd;
}

/* Callbacks shared by regular files and host devices. */
#define FILE_POSIX_COMMON_OPS                       \
    .instance_size = sizeof(FilePosixState),        \
    .open = file_open,                              \
    .close = file_close,                            \
    .getlength = file_getlength,                    \
    .pread = file_pread,                            \
    .pwrite = file_pwrite,                          \
    .flush = file_flush,                            \
    .pdiscard = file_pdiscard,                      \
    .truncate = file_truncate,                      \
    .allocated_size = file_allocated_size,          \
    .block_status = file_block_status,              \
    .aio_submit = file_aio_submit

static const BlockDriver bdrv_file = {
    .format_name = "file",
    FILE_POSIX_COMMON_OPS,
    .pwrite_zeroes = file_pwrite_zeroes,
    .create = file_create,
};

static const BlockDriver bdrv_host_device = {
    .format_name = "host_device",
    FILE_POSIX_COMMON_OPS,
};

MODULE_INIT(file_posix_register)
{
    bdrv_register(&bdrv_file);
    bdrv_register(&bdrv_host_device);
}
