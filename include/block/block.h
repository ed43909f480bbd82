/*
 * Block layer public API: BlockDriverState graph nodes (format over
 * protocol, plus a backing chain), the driver registry, blocking I/O on a
 * node (bdrv_*) and the asynchronous device-facing BlockBackend (blk_*).
 * Locking: bdrv_* I/O may be called from any thread (drivers serialize
 * their metadata with their own locks); open/close/blk_* need the BQL,
 * and blk_* completion callbacks run in the main loop with the BQL held.
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>
#include "util/error.h"
#include "util/kvopts.h"

#define BDRV_SECTOR_BITS 9
#define BDRV_SECTOR_SIZE (1 << BDRV_SECTOR_BITS)

/* bdrv_open() flags */
#define BDRV_O_RDWR        0x0002   /* open read-write */
#define BDRV_O_NOCACHE     0x0004   /* cache.direct=on: O_DIRECT on the protocol */
#define BDRV_O_NO_FLUSH    0x0008   /* cache.no-flush=on (cache=unsafe) */
#define BDRV_O_NATIVE_AIO  0x0010   /* aio=native (libaio) */
#define BDRV_O_NO_BACKING  0x0020   /* do not open the backing file */
#define BDRV_O_CHECK       0x0040   /* opened by "check": no automatic repair */
#define BDRV_O_FORCE_SHARE 0x0080   /* -U: take no locks, share everything */
#define BDRV_O_NO_LOCK     0x0100   /* locking=off */
#define BDRV_O_PROBED_RAW  0x0200   /* internal: format was probed as raw */
#define BDRV_O_IO_URING    0x0400   /* reserved */
#define BDRV_O_NO_IO       0x0800   /* metadata only (info): skip repair */

typedef struct BlockDriver BlockDriver;
typedef struct BlockDriverState BlockDriverState;
typedef struct BlockBackend BlockBackend;
typedef struct BlockReq BlockReq;

typedef void BlockCompletionFunc(void *opaque, int ret);   /* ret: 0 or -errno */

/* Scatter/gather list for the asynchronous API. */
typedef struct QEMUIOVector {
    struct iovec *iov;
    int niov;
    int nalloc;
    size_t size;
} QEMUIOVector;

void qemu_iovec_init(QEMUIOVector *qiov, int alloc_hint);
void qemu_iovec_add(QEMUIOVector *qiov, void *base, size_t len);
void qemu_iovec_destroy(QEMUIOVector *qiov);
void qemu_iovec_reset(QEMUIOVector *qiov);
/* Copy between a flat buffer and the vector, starting at byte 'offset'. */
size_t qemu_iovec_to_buf(const QEMUIOVector *qiov, size_t offset, void *buf, size_t bytes);
size_t qemu_iovec_from_buf(QEMUIOVector *qiov, size_t offset, const void *buf, size_t bytes);

/* Kind of an extent, as reported by bdrv_block_status (used by map/convert). */
#define BDRV_BLOCK_DATA      0x01   /* reads from this node's storage */
#define BDRV_BLOCK_ZERO      0x02   /* reads as zeros */
#define BDRV_BLOCK_OFFSET_VALID 0x04 /* *map is the host offset in bs->file */
#define BDRV_BLOCK_ALLOCATED 0x10   /* determined by this layer (not backing) */
#define BDRV_BLOCK_COMPRESSED 0x20

struct BlockDriver {
    const char *format_name;        /* "file", "host_device", "raw", "qcow2" */
    size_t instance_size;           /* bs->opaque */
    bool is_format;                 /* stacked on a protocol child bs->file */
    /* Probe score 0..100 for the first bytes of a file (formats only). */
    int (*probe)(const uint8_t *buf, int len, const char *filename);
    /* Open; for formats bs->file is already open. opts: driver options. */
    int (*open)(BlockDriverState *bs, KVDict *opts, int flags, Error **errp);
    void (*close)(BlockDriverState *bs);
    int64_t (*getlength)(BlockDriverState *bs);
    /* Blocking I/O on flat buffers. Runs on any thread. */
    int (*pread)(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes);
    int (*pwrite)(BlockDriverState *bs, int64_t off, const void *buf, int64_t bytes);
    int (*flush)(BlockDriverState *bs);
    int (*pwrite_zeroes)(BlockDriverState *bs, int64_t off, int64_t bytes);   /* optional */
    int (*pdiscard)(BlockDriverState *bs, int64_t off, int64_t bytes);        /* optional */
    int (*truncate)(BlockDriverState *bs, int64_t size, Error **errp);        /* optional */
    /* Optional: status of [off, off+bytes): returns flags, sets *pnum, *map. */
    int (*block_status)(BlockDriverState *bs, int64_t off, int64_t bytes,
                        int64_t *pnum, int64_t *map);
    /* Optional: bytes actually used on the host (st_blocks * 512). */
    int64_t (*allocated_size)(BlockDriverState *bs);
    /* Optional native async submit (file + aio=native + O_DIRECT). */
    bool (*aio_submit)(BlockDriverState *bs, BlockReq *req);
    /* Optional: create an image (kemu-img create, -snapshot overlays). */
    int (*create)(const char *filename, KVDict *opts, Error **errp);
};

struct BlockDriverState {
    const BlockDriver *drv;
    void *opaque;
    char *filename;                 /* as given by the user */
    char *node_name;
    BlockDriverState *file;         /* protocol child (formats) */
    BlockDriverState *backing;      /* backing chain (qcow2) */
    char backing_file[1024];        /* backing file name stored in the image */
    char backing_format[32];        /* backing format stored in the image */
    int open_flags;
    bool read_only;
    bool probed_raw;                /* restrict writes to block 0 */
    int refcnt;
    GMutex lock;                    /* free for drivers to use */
};

/* Driver registry (MODULE_INIT constructors call bdrv_register). */
void bdrv_register(const BlockDriver *drv);
const BlockDriver *bdrv_find_format(const char *name);

/*
 * Open 'filename' with format 'fmt' (NULL: probe, warning for raw like
 * QEMU). opts may be NULL; keys: driver-specific, "file.*", "cache.direct",
 * "cache.no-flush", "aio", "locking", "backing" (null string disables).
 */
BlockDriverState *bdrv_open(const char *filename, const char *fmt,
                            KVDict *opts, int flags, Error **errp);
/* Open a protocol node directly ("file"/"host_device"). */
BlockDriverState *bdrv_open_protocol(const char *filename, const char *proto,
                                     KVDict *opts, int flags, Error **errp);
void bdrv_unref(BlockDriverState *bs);
void bdrv_ref(BlockDriverState *bs);
/* Probe a format name for a file; returns "raw" if nothing else matches. */
const char *bdrv_probe_format(const char *filename, Error **errp);

/* Blocking I/O; returns 0 or -errno. */
int bdrv_pread(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes);
int bdrv_pwrite(BlockDriverState *bs, int64_t off, const void *buf, int64_t bytes);
int bdrv_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes);
int bdrv_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes);
int bdrv_flush(BlockDriverState *bs);
int64_t bdrv_getlength(BlockDriverState *bs);
int bdrv_truncate(BlockDriverState *bs, int64_t size, Error **errp);
int64_t bdrv_get_allocated_file_size(BlockDriverState *bs);
/* Block status of this node only (see BDRV_BLOCK_*). */
int bdrv_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                      int64_t *pnum, int64_t *map);
/* Resolve a backing file name relative to the image that names it. */
char *bdrv_resolve_backing_name(const char *image, const char *backing);
/* Create an image with a driver's create(); opts carries "size" etc. */
int bdrv_create(const char *fmt, const char *filename, KVDict *opts, Error **errp);
/* Innermost protocol node (for locks, allocated size). */
BlockDriverState *bdrv_protocol_node(BlockDriverState *bs);
/* Open format 'fmt' over the open node 'file' (takes a reference to it);
 * no backing file is opened. */
BlockDriverState *bdrv_open_format_on(BlockDriverState *file, const char *fmt,
                                      KVDict *opts, int flags, Error **errp);

/* ---- Device-facing asynchronous API (block-backend.c) ---- */

/*
 * Create a backend from -drive/-blockdev style options already split:
 * 'opts' holds driver/format, file, cache.*, aio, read-only, ... .
 * Applies QEMU's option checks (aio=native needs cache.direct=on).
 */
BlockBackend *blk_new_open(const char *id, const char *filename, KVDict *opts,
                           int flags, Error **errp);
/* Wrap an already open node. */
BlockBackend *blk_new_with_bs(const char *id, BlockDriverState *bs, bool writethrough);
void blk_unref(BlockBackend *blk);
BlockBackend *blk_by_name(const char *id_or_node_name);
BlockDriverState *blk_bs(BlockBackend *blk);
const char *blk_name(BlockBackend *blk);
bool blk_is_read_only(BlockBackend *blk);
bool blk_enable_write_cache(BlockBackend *blk);
/* Iterate over all backends (NULL starts). */
BlockBackend *blk_next(BlockBackend *blk);

void blk_aio_preadv(BlockBackend *blk, int64_t off, QEMUIOVector *qiov,
                    BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwritev(BlockBackend *blk, int64_t off, QEMUIOVector *qiov,
                     BlockCompletionFunc *cb, void *opaque);
void blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
void blk_aio_pdiscard(BlockBackend *blk, int64_t off, int64_t bytes,
                      BlockCompletionFunc *cb, void *opaque);
void blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t off, int64_t bytes,
                           BlockCompletionFunc *cb, void *opaque);
int64_t blk_getlength(BlockBackend *blk);
/* Wait for every in-flight request of every backend (BQL held). */
void blk_drain_all(void);
/* Blocking wrappers usable with the BQL held (drain first). */
int blk_pread(BlockBackend *blk, int64_t off, void *buf, int64_t bytes);
int blk_pwrite(BlockBackend *blk, int64_t off, const void *buf, int64_t bytes);
int blk_flush(BlockBackend *blk);

/* ---- Devices on a backend (IDE, virtio-blk) ---- */

typedef struct DeviceState DeviceState;

/* What a device with removable media tells the block layer (ide-cd). */
typedef struct BlockDevOps {
    /* A medium was inserted (load) or removed (!load) by eject/change. */
    void (*change_media_cb)(void *opaque, bool load);
    /* The tray is open (query-block "tray_open"); NULL: no tray. */
    bool (*is_tray_open)(void *opaque);
    /* The guest locked the medium (PREVENT ALLOW MEDIUM REMOVAL). */
    bool (*is_medium_locked)(void *opaque);
    /* eject on a locked medium asks the guest to open the tray. */
    void (*eject_request_cb)(void *opaque, bool force);
    /* block_resize changed the size. */
    void (*resize_cb)(void *opaque);
} BlockDevOps;

/* Attach a device (one per backend); false when one is attached already. */
bool blk_attach_dev(BlockBackend *blk, DeviceState *dev);
void blk_detach_dev(BlockBackend *blk, DeviceState *dev);
DeviceState *blk_get_attached_dev(BlockBackend *blk);
void blk_set_dev_ops(BlockBackend *blk, const BlockDevOps *ops, void *opaque);
const BlockDevOps *blk_get_dev_ops(BlockBackend *blk, void **opaque);
/* A backend without a medium (empty CD-ROM drive). */
BlockBackend *blk_new_empty(const char *id);
bool blk_is_inserted(BlockBackend *blk);
/* Replace the medium (eject/change); takes the caller's reference to bs. */
void blk_insert_bs(BlockBackend *blk, BlockDriverState *bs);
void blk_remove_bs(BlockBackend *blk);
/* Read-only state a new medium gets with read-only-mode=retain. */
void blk_set_root_read_only(BlockBackend *blk, bool ro);
bool blk_get_root_read_only(BlockBackend *blk);
/* An anonymous backend on a -blockdev node (device drive=<node-name>). */
bool blk_is_anonymous(BlockBackend *blk);
/* Device-chosen write cache (write-cache=on|off, virtio-blk config WCE). */
void blk_set_enable_write_cache(BlockBackend *blk, bool wce);

/* I/O accounting per backend, updated by every blk_aio_* completion
 * (query-blockstats / info blockstats). */
typedef struct BlockAcctStats {
    uint64_t rd_bytes, wr_bytes, rd_ops, wr_ops, flush_ops, unmap_ops, unmap_bytes;
    uint64_t failed_rd_ops, failed_wr_ops, failed_flush_ops, failed_unmap_ops;
    uint64_t rd_total_ns, wr_total_ns, flush_total_ns, unmap_total_ns;
    int64_t last_access_ns;          /* CLOCK_MONOTONIC of the last completion, 0 = none */
    uint64_t wr_highest_offset;
} BlockAcctStats;
const BlockAcctStats *blk_get_stats(BlockBackend *blk);

/* rerror=/werror= (-drive): what a failed guest request does. */
typedef enum {
    BLOCKDEV_ON_ERROR_REPORT, BLOCKDEV_ON_ERROR_IGNORE, BLOCKDEV_ON_ERROR_ENOSPC,
    BLOCKDEV_ON_ERROR_STOP, BLOCKDEV_ON_ERROR_AUTO,
} BlockdevOnError;
typedef enum {
    BLOCK_ERROR_ACTION_IGNORE, BLOCK_ERROR_ACTION_REPORT, BLOCK_ERROR_ACTION_STOP,
} BlockErrorAction;
void blk_set_on_error(BlockBackend *blk, BlockdevOnError rerror, BlockdevOnError werror);
BlockdevOnError blk_get_on_error(BlockBackend *blk, bool is_read);
/* The action for a failed request (error: positive errno). */
BlockErrorAction blk_get_error_action(BlockBackend *blk, bool is_read, int error);
/* Carry the action out: BLOCK_IO_ERROR event, and for STOP the VM stops
 * with RUN_STATE_IO_ERROR (the device retries its failed requests when the
 * VM runs again: vm_state_handler_add() in system/runstate.h). Devices call this from their
 * completion callbacks; with REPORT they then fail the request to the guest,
 * with IGNORE they complete it as successful. */
void blk_error_action(BlockBackend *blk, BlockErrorAction action, bool is_read, int error);
/* Hook the system sets to send events and stop the VM (NULL in kemu-img). */
extern void (*blk_error_hook)(BlockBackend *blk, BlockErrorAction action, bool is_read, int error);

/* ---- Worker pool (thread-pool.c) ---- */

typedef int ThreadPoolFunc(void *arg);
/* Run fn(arg) on a worker; cb(opaque, ret) later in the main loop (BQL). */
void thread_pool_submit(ThreadPoolFunc *fn, void *arg,
                        BlockCompletionFunc *cb, void *opaque);
/* Number of requests submitted whose callback has not run yet. */
int thread_pool_in_flight(void);

#endif
