/*
 * qcow2 driver internals: on-disk constants (docs/interop/qcow2.txt of QEMU),
 * driver state and the functions shared by qcow2*.c.
 * Locking: s->rw is taken shared by reads and exclusive by anything that
 * changes metadata (writes, discard, flush, snapshots, resize); s->meta
 * protects the metadata caches when several readers run at once.
 * Metadata is written through in crash-safe order: data, then refcounts,
 * then L2 entries, then L1 entries; old clusters are freed last.
 */
#ifndef BLOCK_QCOW2_H
#define BLOCK_QCOW2_H

#include <stdbool.h>
#include <stdint.h>
#include "block/block.h"

#define QCOW_MAGIC 0x514649fbu          /* "QFI\xfb" */
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_DEFAULT_CLUSTER_BITS 16
#define QCOW2_MAX_L1_SIZE (32 * 1024 * 1024)          /* bytes, QEMU's limit */
#define QCOW2_MAX_REFTABLE_SIZE (8 * 1024 * 1024)     /* bytes */
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_HEADER_LEN_WRITTEN 112
/* Hostile-image guard: no metadata or data write this far past the file end. */
#define QCOW2_MAX_BEYOND_EOF (64ull * 1024 * 1024)

#define QCOW2_INCOMPAT_DIRTY       (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT     (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2       (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | \
                              QCOW2_INCOMPAT_COMPRESSION | QCOW2_INCOMPAT_EXTL2)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)
#define QCOW2_AUTOCLEAR_BITMAPS     (1ull << 0)

#define QCOW2_EXT_END          0x00000000u
#define QCOW2_EXT_BACKING_FMT  0xe2792acau
#define QCOW2_EXT_FEATURE_TBL  0x6803f857u
#define QCOW2_EXT_BITMAPS      0x23852875u
#define QCOW2_EXT_CRYPTO       0x0537be77u
#define QCOW2_EXT_DATA_FILE    0x44415441u

#define QCOW_OFLAG_COPIED     (1ull << 63)
#define QCOW_OFLAG_COMPRESSED (1ull << 62)
#define QCOW_OFLAG_ZERO       (1ull << 0)
#define L1E_OFFSET_MASK       0x00fffffffffffe00ull
#define L2E_OFFSET_MASK       0x00fffffffffffe00ull
#define REFT_OFFSET_MASK      0xfffffffffffffe00ull
#define L1E_RESERVED_MASK     0x7f000000000001ffull
#define L2E_STD_RESERVED_MASK 0x3f000000000001feull

#define QCOW2_COMPRESSION_ZLIB 0
#define QCOW2_COMPRESSION_ZSTD 1

typedef enum Qcow2ClusterType {
    QCOW2_CLUSTER_UNALLOCATED,
    QCOW2_CLUSTER_ZERO_PLAIN,
    QCOW2_CLUSTER_ZERO_ALLOC,
    QCOW2_CLUSTER_NORMAL,
    QCOW2_CLUSTER_COMPRESSED,
} Qcow2ClusterType;

/* Per-subcluster state with extended L2 (or the whole cluster without). */
typedef enum Qcow2SubclusterType {
    QCOW2_SC_UNALLOCATED,     /* backing file or zeros */
    QCOW2_SC_ZERO,            /* reads zeros */
    QCOW2_SC_NORMAL,          /* data at host offset */
    QCOW2_SC_COMPRESSED,
    QCOW2_SC_INVALID,
} Qcow2SubclusterType;

typedef struct QCowSnapshot {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    char *id_str;
    char *name;
    uint64_t disk_size;
    uint64_t vm_state_size;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t icount;            /* -1 when not stored */
    uint32_t extra_data_size;
    uint8_t *unknown_extra;     /* extra data beyond the 24 bytes we know */
} QCowSnapshot;

typedef struct Qcow2UnknownExt {
    uint32_t type;
    uint32_t len;
    uint8_t *data;
} Qcow2UnknownExt;

typedef struct Qcow2Cache Qcow2Cache;

typedef struct BDRVQcow2State {
    int qcow_version;
    int cluster_bits;
    uint64_t cluster_size;
    int l2_bits;                /* log2(entries per L2 table) */
    int l2_size;                /* entries per L2 table */
    int l2_entry_size;          /* 8, or 16 with extended L2 */
    bool extended_l2;
    int subcluster_bits;
    uint64_t subcluster_size;
    int subclusters;            /* per cluster: 1 or 32 */
    int csize_shift;
    uint64_t csize_mask;
    uint64_t cluster_offset_mask;

    uint64_t size;              /* virtual disk size */
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t *l1_table;         /* host order */
    uint32_t l1_alloc;          /* entries allocated in memory (>= l1_size) */

    uint64_t refcount_table_offset;
    uint32_t refcount_table_size;   /* entries */
    uint64_t *refcount_table;       /* host order */
    int refcount_order;
    int refcount_bits;
    uint64_t refcount_max;
    int refcount_block_bits;    /* log2(entries per refcount block) */
    uint64_t free_cluster_index;

    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t snapshots_size;
    QCowSnapshot *snapshots;

    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t header_length;
    uint8_t compression_type;
    uint8_t *extra_header;      /* header bytes 104.. header_length (preserved) */
    uint32_t crypt_method;

    Qcow2UnknownExt *unknown_exts;
    int nb_unknown_exts;
    bool has_feature_table;
    bool has_backing_fmt_ext;

    Qcow2Cache *l2_cache;
    Qcow2Cache *refblock_cache;
    GRWLock rw;
    GMutex meta;
    uint64_t free_byte_offset;  /* compressed-data byte allocator */
    uint64_t known_file_len;    /* largest file length seen (guards, no fstat) */
    bool dirty_set;             /* we set the dirty bit; cleared by the next flush */
    int snapshot_errors;        /* incomplete snapshot entries dropped (check) */
    bool corrupt;               /* runtime: metadata found broken, stop writing */
} BDRVQcow2State;

/* ---- qcow2.c ---- */
int qcow2_update_header(BlockDriverState *bs);
/* Before the first refcount change after a flush: set the dirty bit durably. */
int qcow2_mark_dirty(BlockDriverState *bs);
/* Hostile-image guard for metadata writes: false (and corrupt) if too far. */
bool qcow2_write_offset_ok(BlockDriverState *bs, uint64_t off, const char *what);
/* True if off is not far beyond the end of the image file (cheap). */
bool qcow2_offset_near_file(BlockDriverState *bs, uint64_t off);
int qcow2_write_l1_entries(BlockDriverState *bs, int first, int count);
/* Mark the image corrupt (runtime metadata error) and stop writes. */
void qcow2_signal_corruption(BlockDriverState *bs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int qcow2_grow_l1_table(BlockDriverState *bs, uint64_t min_size);
/* Parse a qcow2 header buffer into s (used by open and the unit tests). */
int qcow2_parse_header(BDRVQcow2State *s, const uint8_t *buf, size_t len,
                       int64_t file_size, Error **errp);

/* ---- qcow2-cache.c ---- */
Qcow2Cache *qcow2_cache_new(int nslots, size_t table_size);
void qcow2_cache_free(Qcow2Cache *c);
/* Table at host offset; loaded from bs->file if needed. Valid until next call. */
int qcow2_cache_get(BlockDriverState *bs, Qcow2Cache *c, uint64_t off, void **table);
/* A fresh zeroed table for a newly allocated cluster (not read). */
void *qcow2_cache_get_empty(Qcow2Cache *c, uint64_t off);
void qcow2_cache_discard(Qcow2Cache *c, uint64_t off);
void qcow2_cache_clear(Qcow2Cache *c);

/* ---- qcow2-refcount.c ---- */
/* Pack/unpack one refcount of 2^order bits at index i in a block. */
uint64_t qcow2_refcount_get(const void *block, uint64_t i, int order);
void qcow2_refcount_set(void *block, uint64_t i, uint64_t v, int order);
int qcow2_refcount_init(BlockDriverState *bs);
int qcow2_get_refcount(BlockDriverState *bs, uint64_t cluster_index, uint64_t *refcount);
/* Add 'addend' to the refcounts of the clusters covering [off, off+len). */
int qcow2_update_refcount(BlockDriverState *bs, uint64_t off, uint64_t len, int64_t addend);
/* Allocate n contiguous clusters (refcount 1); returns host offset or -errno. */
int64_t qcow2_alloc_clusters(BlockDriverState *bs, uint64_t n);
/* Allocate 'bytes' for compressed data, possibly sharing a cluster tail. */
int64_t qcow2_alloc_bytes(BlockDriverState *bs, int bytes);
void qcow2_free_clusters(BlockDriverState *bs, uint64_t off, uint64_t len);
/* Drop the references held by one L2 entry (data or compressed). */
void qcow2_free_l2_entry(BlockDriverState *bs, uint64_t l2_entry);
/* Refcount changes of a whole L1 tree (snapshots). */
int qcow2_update_l1_tree_refcounts(BlockDriverState *bs, uint64_t l1_offset,
                                   uint32_t l1_size, int addend);
/* Recompute COPIED flags of the active L1/L2 tables. */
int qcow2_fix_copied_flags(BlockDriverState *bs);

typedef struct Qcow2CheckResult {
    int corruptions;
    int leaks;
    int check_errors;
    int corruptions_fixed;
    int leaks_fixed;
    int64_t image_end_offset;
    int64_t allocated_clusters;
    int64_t total_clusters;
    int64_t fragmented_clusters;
    int64_t compressed_clusters;
} Qcow2CheckResult;

#define QCOW2_FIX_LEAKS  1
#define QCOW2_FIX_ERRORS 2
/* qemu-img check; messages go to stderr ('quiet' suppresses). */
int qcow2_check(BlockDriverState *bs, Qcow2CheckResult *res, int fix, bool quiet);

/* ---- qcow2-cluster.c ---- */
Qcow2ClusterType qcow2_get_cluster_type(BDRVQcow2State *s, uint64_t l2_entry);
/* Look up the L2 entry (and bitmap) of a guest offset; 0 if no L2 table. */
int qcow2_get_l2_entry(BlockDriverState *bs, uint64_t guest_off,
                       uint64_t *l2_entry, uint64_t *l2_bitmap);
Qcow2SubclusterType qcow2_subcluster_type(BDRVQcow2State *s, uint64_t l2_entry,
                                          uint64_t l2_bitmap, int sc);
int qcow2_co_pread(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes);
int qcow2_co_pwrite(BlockDriverState *bs, int64_t off, const void *buf, int64_t bytes);
int qcow2_co_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes);
int qcow2_co_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes);
/* Write one whole cluster compressed (convert -c); falls back to normal. */
int qcow2_write_compressed(BlockDriverState *bs, int64_t off, const void *buf);
int qcow2_decompress(BDRVQcow2State *s, void *dst, size_t dst_len,
                     const void *src, size_t src_len);
int qcow2_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                       int64_t *pnum, int64_t *map);
/* Allocate all clusters up front (preallocation=metadata); returns host end. */
int64_t qcow2_preallocate(BlockDriverState *bs, uint64_t from, uint64_t to, bool zero_flag);

/* ---- qcow2-zstd.c (libzstd loaded at run time) ---- */
int qcow2_zstd_decompress(void *dst, size_t dst_len, const void *src, size_t src_len);
/* Returns the compressed size, 0 if it does not fit or zstd is unavailable. */
size_t qcow2_zstd_compress(void *dst, size_t dst_len, const void *src, size_t src_len);

/* ---- qcow2-snapshot.c ---- */
int qcow2_read_snapshots(BlockDriverState *bs, Error **errp);
void qcow2_free_snapshots(BDRVQcow2State *s);
int qcow2_snapshot_create(BlockDriverState *bs, const char *name, Error **errp);
int qcow2_snapshot_delete(BlockDriverState *bs, const char *name, Error **errp);
int qcow2_snapshot_goto(BlockDriverState *bs, const char *name, Error **errp);
/* Find by id or name (id first), -1 if none. */
int qcow2_snapshot_find(BDRVQcow2State *s, const char *id_or_name);

/* ---- helpers ---- */
static inline uint64_t offset_into_cluster(BDRVQcow2State *s, uint64_t off)
{
    return off & (s->cluster_size - 1);
}

static inline uint64_t size_to_clusters(BDRVQcow2State *s, uint64_t size)
{
    return (size + s->cluster_size - 1) >> s->cluster_bits;
}

static inline int offset_to_l1_index(BDRVQcow2State *s, uint64_t off)
{
    return (int)(off >> (s->l2_bits + s->cluster_bits));
}

static inline int offset_to_l2_index(BDRVQcow2State *s, uint64_t off)
{
    return (int)((off >> s->cluster_bits) & (s->l2_size - 1));
}

static inline uint64_t l2_entry_get(BDRVQcow2State *s, const uint64_t *l2, int i)
{
    return __builtin_bswap64(l2[i * (s->l2_entry_size / 8)]);
}

static inline uint64_t l2_bitmap_get(BDRVQcow2State *s, const uint64_t *l2, int i)
{
    return s->extended_l2 ? __builtin_bswap64(l2[i * 2 + 1]) : 0;
}

static inline void l2_entry_set(BDRVQcow2State *s, uint64_t *l2, int i, uint64_t v)
{
    l2[i * (s->l2_entry_size / 8)] = __builtin_bswap64(v);
}

static inline void l2_bitmap_set(BDRVQcow2State *s, uint64_t *l2, int i, uint64_t v)
{
    if (s->extended_l2) {
        l2[i * 2 + 1] = __builtin_bswap64(v);
    }
}

static inline uint64_t l1_min_size(BDRVQcow2State *s, uint64_t size)
{
    uint64_t per_l1 = (uint64_t)1 << (s->l2_bits + s->cluster_bits);
    return (size + per_l1 - 1) / per_l1;
}

#endif
