/*
 * qcow2 consistency check and repair, with qemu-img check's messages:
 * recount every reference (header, L1/L2 of the active state and of every
 * snapshot, snapshot table, refcount structures), compare with the stored
 * refcounts, check COPIED flags, fix leaks in place and rebuild the whole
 * refcount structure at the end of the image when refcounts are too low.
 * Also used on open to repair images whose dirty bit is set.
 * Locking: single-threaded callers (tools, open).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "qcow2.h"
#include "util/cutils.h"

typedef struct RefCounts {
    uint64_t n;             /* clusters covered by the array */
    uint32_t *ref;
    GHashTable *far;        /* references far beyond the end of the file */
    uint64_t highest;       /* highest referenced cluster + 1 */
} RefCounts;

typedef struct CheckCtx {
    BlockDriverState *bs;
    Qcow2CheckResult *res;
    RefCounts rc;
    bool quiet;
    bool rebuild;
    bool count_alloc;       /* fragmentation statistics for the active L1 */
    uint64_t file_len;
    uint64_t next_contiguous;
} CheckCtx;

#define CPRINT(ctx, ...) do { if (!(ctx)->quiet) { fprintf(stderr, __VA_ARGS__); } } while (0)

static void inc_refs(CheckCtx *ctx, uint64_t off, uint64_t len)
{
    BDRVQcow2State *s = ctx->bs->opaque;
    if (len == 0) {
        return;
    }
    if (off + len > ctx->file_len && off + len - ctx->file_len >= s->cluster_size) {
        CPRINT(ctx, "ERROR: counting reference for region exceeding the end of the file by "
               "one cluster or more: offset 0x%" PRIx64 " size 0x%" PRIx64 "\n", off, len);
        ctx->res->corruptions++;
        return;
    }
    uint64_t first = off >> s->cluster_bits;
    uint64_t last = (off + len - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last; c++) {
        if (c < ctx->rc.n) {
            ctx->rc.ref[c]++;
        } else {
            gpointer key = GSIZE_TO_POINTER(c + 1);
            guint v = GPOINTER_TO_UINT(g_hash_table_lookup(ctx->rc.far, key));
            g_hash_table_insert(ctx->rc.far, key, GUINT_TO_POINTER(v + 1));
        }
        ctx->rc.highest = MAX(ctx->rc.highest, c + 1);
    }
}

static uint64_t get_ref(RefCounts *rc, uint64_t c)
{
    if (c < rc->n) {
        return rc->ref[c];
    }
    return GPOINTER_TO_UINT(g_hash_table_lookup(rc->far, GSIZE_TO_POINTER(c + 1)));
}

static void check_l2(CheckCtx *ctx, uint64_t l2_off, bool active)
{
    BlockDriverState *bs = ctx->bs;
    BDRVQcow2State *s = bs->opaque;
    uint64_t *l2 = g_malloc(s->cluster_size);
    if (bdrv_pread(bs->file, l2_off, l2, s->cluster_size) < 0) {
        CPRINT(ctx, "ERROR: I/O error in check_refcounts_l2\n");
        ctx->res->check_errors++;
        g_free(l2);
        return;
    }
    for (int j = 0; j < s->l2_size; j++) {
        uint64_t e = l2_entry_get(s, l2, j);
        uint64_t bm = l2_bitmap_get(s, l2, j);
        switch (qcow2_get_cluster_type(s, e)) {
        case QCOW2_CLUSTER_COMPRESSED: {
            if (s->extended_l2 && bm) {
                CPRINT(ctx, "ERROR compressed cluster %d with non-zero subcluster "
                       "allocation bitmap, entry=0x%" PRIx64 "\n", j, e);
                ctx->res->corruptions++;
            }
            uint64_t coff = e & s->cluster_offset_mask;
            uint64_t nb = ((e >> s->csize_shift) & s->csize_mask) + 1;
            if (coff > L2E_OFFSET_MASK) {
                CPRINT(ctx, "ERROR compressed cluster %d offset beyond image: "
                       "entry=0x%" PRIx64 "\n", j, e);
                ctx->res->corruptions++;
                break;
            }
            if (active) {
                /* compressed clusters count as fragmented, like QEMU */
                ctx->res->allocated_clusters++;
                ctx->res->compressed_clusters++;
                ctx->res->fragmented_clusters++;
            }
            inc_refs(ctx, coff & ~511ull, nb * 512);
            break;
        }
        case QCOW2_CLUSTER_NORMAL:
        case QCOW2_CLUSTER_ZERO_ALLOC: {
            uint64_t off = e & L2E_OFFSET_MASK;
            if (offset_into_cluster(s, off)) {
                CPRINT(ctx, "ERROR offset=%" PRIx64 ": Cluster is not properly aligned; "
                       "L2 entry corrupted.\n", off);
                ctx->res->corruptions++;
                break;
            }
            if (active) {
                ctx->res->allocated_clusters++;
                if (ctx->next_contiguous && off != ctx->next_contiguous) {
                    ctx->res->fragmented_clusters++;
                }
                ctx->next_contiguous = off + s->cluster_size;
            }
            inc_refs(ctx, off, s->cluster_size);
            break;
        }
        default:
            break;
        }
    }
    g_free(l2);
}

static void check_l1(CheckCtx *ctx, const uint64_t *l1, uint32_t n, bool active)
{
    BDRVQcow2State *s = ctx->bs->opaque;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t l2_off = l1[i] & L1E_OFFSET_MASK;
        if (!l2_off) {
            continue;
        }
        inc_refs(ctx, l2_off, s->cluster_size);
        if (offset_into_cluster(s, l2_off)) {
            CPRINT(ctx, "ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; "
                   "L1 entry corrupted\n", l2_off);
            ctx->res->corruptions++;
            continue;
        }
        check_l2(ctx, l2_off, active);
    }
}

/* Count every reference; refcount structures only if with_refcount_structs. */
static int calculate_refcounts(CheckCtx *ctx, bool with_refcount_structs)
{
    BlockDriverState *bs = ctx->bs;
    BDRVQcow2State *s = bs->opaque;
    inc_refs(ctx, 0, s->cluster_size);
    inc_refs(ctx, s->l1_table_offset, (uint64_t)s->l1_size * 8);
    ctx->count_alloc = true;
    ctx->next_contiguous = 0;
    check_l1(ctx, s->l1_table, s->l1_size, true);
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        QCowSnapshot *sn = &s->snapshots[i];
        if (offset_into_cluster(s, sn->l1_table_offset)) {
            CPRINT(ctx, "ERROR snapshot %s (%s) l1_offset=%#" PRIx64 ": L1 table is not "
                   "cluster aligned; snapshot table entry corrupted\n",
                   sn->id_str, sn->name, sn->l1_table_offset);
            ctx->res->corruptions++;
            continue;
        }
        if ((uint64_t)sn->l1_size * 8 > QCOW2_MAX_L1_SIZE) {
            CPRINT(ctx, "ERROR snapshot %s (%s) l1_size=%#" PRIx32 ": L1 table is too "
                   "large; snapshot table entry corrupted\n", sn->id_str, sn->name,
                   sn->l1_size);
            ctx->res->corruptions++;
            continue;
        }
        uint64_t *l1 = g_new0(uint64_t, MAX(sn->l1_size, 1));
        if (bdrv_pread(bs->file, sn->l1_table_offset, l1, (uint64_t)sn->l1_size * 8) < 0) {
            ctx->res->check_errors++;
            g_free(l1);
            continue;
        }
        for (uint32_t j = 0; j < sn->l1_size; j++) {
            l1[j] = __builtin_bswap64(l1[j]);
        }
        inc_refs(ctx, sn->l1_table_offset, (uint64_t)sn->l1_size * 8);
        check_l1(ctx, l1, sn->l1_size, false);
        g_free(l1);
    }
    inc_refs(ctx, s->snapshots_offset, s->snapshots_size);
    if (!with_refcount_structs) {
        return 0;
    }
    inc_refs(ctx, s->refcount_table_offset, (uint64_t)s->refcount_table_size * 8);
    int64_t file_len = bdrv_getlength(bs->file);
    for (uint64_t i = 0; i < s->refcount_table_size; i++) {
        uint64_t off = s->refcount_table[i] & REFT_OFFSET_MASK;
        if (!off) {
            continue;
        }
        if (offset_into_cluster(s, off)) {
            CPRINT(ctx, "ERROR refcount block %" PRId64 " is not cluster aligned; "
                   "refcount table entry corrupted\n", i);
            ctx->res->corruptions++;
            ctx->rebuild = true;
            continue;
        }
        if ((int64_t)off >= file_len) {
            CPRINT(ctx, "ERROR refcount block %" PRId64 " is outside image\n", i);
            ctx->res->corruptions++;
            ctx->rebuild = true;
            continue;
        }
        inc_refs(ctx, off, s->cluster_size);
    }
    return 0;
}

static int refcounts_init(CheckCtx *ctx)
{
    BDRVQcow2State *s = ctx->bs->opaque;
    int64_t len = bdrv_getlength(ctx->bs->file);
    if (len < 0) {
        return (int)len;
    }
    ctx->file_len = len;
    ctx->rc.n = size_to_clusters(s, len);
    ctx->rc.ref = g_try_new0(uint32_t, MAX(ctx->rc.n, 1));
    if (!ctx->rc.ref) {
        return -ENOMEM;
    }
    ctx->rc.far = g_hash_table_new(g_direct_hash, g_direct_equal);
    ctx->rc.highest = 0;
    return 0;
}

static void refcounts_free(CheckCtx *ctx)
{
    g_free(ctx->rc.ref);
    if (ctx->rc.far) {
        g_hash_table_destroy(ctx->rc.far);
    }
    memset(&ctx->rc, 0, sizeof(ctx->rc));
}

static gint cmp_keys(gconstpointer a, gconstpointer b)
{
    uintptr_t x = GPOINTER_TO_SIZE(a), y = GPOINTER_TO_SIZE(b);
    return x < y ? -1 : x > y;
}

/* Compare stored and computed refcounts; fix leaks if asked. */
static void compare_refcounts(CheckCtx *ctx, int fix, int *leaks_fixed)
{
    BlockDriverState *bs = ctx->bs;
    BDRVQcow2State *s = bs->opaque;
    /* clusters inside the file, then far references (sorted) */
    GList *far = g_list_sort(g_hash_table_get_keys(ctx->rc.far), cmp_keys);
    GList *fl = far;
    uint64_t n = ctx->rc.n + g_hash_table_size(ctx->rc.far);
    uint64_t highest = 0;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = k;
        if (k >= ctx->rc.n) {
            i = GPOINTER_TO_SIZE(fl->data) - 1;
            fl = fl->next;
        }
        uint64_t ref = get_ref(&ctx->rc, i);
        uint64_t rc;
        int ret = qcow2_get_refcount(bs, i, &rc);
        if (ret < 0) {
            CPRINT(ctx, "Can't get refcount for cluster %" PRId64 ": %s\n", i,
                   g_strerror(-ret));
            ctx->res->check_errors++;
            continue;
        }
        if (rc == ref) {
            if (rc) {
                highest = i + 1;
            }
            continue;
        }
        if (rc > ref && (fix & QCOW2_FIX_LEAKS)) {
            CPRINT(ctx, "Repairing cluster %" PRId64 " refcount=%" PRIu64 " reference=%"
                   PRIu64 "\n", i, rc, ref);
            ret = qcow2_update_refcount(bs, i << s->cluster_bits, 1, -(int64_t)(rc - ref));
            if (ret == 0) {
                (*leaks_fixed)++;
                if (ref) {
                    highest = i + 1;
                }
            } else {
                ctx->res->check_errors++;
                highest = i + 1;
            }
            continue;
        }
        highest = i + 1;
        CPRINT(ctx, "%s cluster %" PRId64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
               rc < ref ? "ERROR" : "Leaked", i, rc, ref);
        if (rc < ref) {
            ctx->res->corruptions++;
            ctx->rebuild = true;
        } else {
            ctx->res->leaks++;
        }
    }
    g_list_free(far);
    ctx->res->image_end_offset = (int64_t)(highest << s->cluster_bits);
}

/* COPIED flags of the active tables: set iff refcount == 1. */
static void check_oflag_copied(CheckCtx *ctx, bool fix, int *fixed)
{
    BlockDriverState *bs = ctx->bs;
    BDRVQcow2State *s = bs->opaque;
    uint64_t *l2 = g_malloc(s->cluster_size);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l1e = s->l1_table[i];
        uint64_t l2_off = l1e & L1E_OFFSET_MASK;
        if (!l2_off || offset_into_cluster(s, l2_off)) {
            continue;
        }
        uint64_t rc = 0;
        qcow2_get_refcount(bs, l2_off >> s->cluster_bits, &rc);
        if ((rc == 1) != !!(l1e & QCOW_OFLAG_COPIED)) {
            CPRINT(ctx, "%s OFLAG_COPIED L2 cluster: l1_index=%d l1_entry=%" PRIx64
                   " refcount=%" PRIu64 "\n", fix ? "Repairing" : "ERROR", (int)i, l1e, rc);
            if (fix) {
                s->l1_table[i] = l2_off | (rc == 1 ? QCOW_OFLAG_COPIED : 0);
                if (qcow2_write_l1_entries(bs, i, 1) == 0) {
                    (*fixed)++;
                } else {
                    ctx->res->check_errors++;
                }
            } else {
                ctx->res->corruptions++;
            }
        }
        if (bdrv_pread(bs->file, l2_off, l2, s->cluster_size) < 0) {
            ctx->res->check_errors++;
            continue;
        }
        bool dirty = false;
        for (int j = 0; j < s->l2_size; j++) {
            uint64_t e = l2_entry_get(s, l2, j);
            Qcow2ClusterType t = qcow2_get_cluster_type(s, e);
            if (t != QCOW2_CLUSTER_NORMAL && t != QCOW2_CLUSTER_ZERO_ALLOC) {
                continue;
            }
            uint64_t off = e & L2E_OFFSET_MASK;
            if (offset_into_cluster(s, off)) {
                continue;
            }
            uint64_t drc = 0;
            qcow2_get_refcount(bs, off >> s->cluster_bits, &drc);
            if ((drc == 1) != !!(e & QCOW_OFLAG_COPIED)) {
                CPRINT(ctx, "%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%"
                       PRIu64 "\n", fix ? "Repairing" : "ERROR", e, drc);
                if (fix && rc == 1) {
                    l2_entry_set(s, l2, j, drc == 1 ? e | QCOW_OFLAG_COPIED
                                                   : e & ~QCOW_OFLAG_COPIED);
                    dirty = true;
                    (*fixed)++;
                } else {
                    ctx->res->corruptions++;
                }
            }
        }
        if (dirty) {
            qcow2_cache_discard(s->l2_cache, l2_off);
            if (bdrv_pwrite(bs->file, l2_off, l2, s->cluster_size) < 0) {
                ctx->res->check_errors++;
            }
        }
    }
    g_free(l2);
}

/* Write fresh refcount blocks and table for all references, at the end. */
static int rebuild_refcounts(CheckCtx *ctx)
{
    BlockDriverState *bs = ctx->bs;
    BDRVQcow2State *s = bs->opaque;
    CPRINT(ctx, "Rebuilding refcount structure\n");
    if (g_hash_table_size(ctx->rc.far)) {
        return -EFBIG;   /* references far outside the file cannot be described */
    }
    uint64_t area = MAX(ctx->rc.n, ctx->rc.highest);
    uint64_t per_block = (uint64_t)1 << s->refcount_block_bits;
    uint64_t per_tcl = s->cluster_size / 8;
    uint64_t nblocks = 0, tcl = 1;
    for (int iter = 0; iter < 100; iter++) {
        uint64_t end = area + nblocks + tcl;
        uint64_t nb2 = (end + per_block - 1) / per_block;
        uint64_t tcl2 = MAX((nb2 + per_tcl - 1) / per_tcl, 1);
        if (nb2 == nblocks && tcl2 == tcl) {
            break;
        }
        nblocks = nb2;
        tcl = tcl2;
    }
    uint64_t end = area + nblocks + tcl;
    if ((tcl << s->cluster_bits) > QCOW2_MAX_REFTABLE_SIZE) {
        return -EFBIG;
    }
    uint8_t *blocks = g_try_malloc0(nblocks << s->cluster_bits);
    uint64_t *table = g_try_new0(uint64_t, tcl * per_tcl);
    if (!blocks || !table) {
        g_free(blocks);
        g_free(table);
        return -ENOMEM;
    }
    for (uint64_t c = 0; c < end; c++) {
        uint64_t v = c < area ? get_ref(&ctx->rc, c) : 1;
        if (v > s->refcount_max) {
            v = s->refcount_max;
        }
        qcow2_refcount_set(blocks, c, v, s->refcount_order);
    }
    for (uint64_t b = 0; b < nblocks; b++) {
        table[b] = __builtin_bswap64((area + b) << s->cluster_bits);
    }
    int ret = bdrv_pwrite(bs->file, area << s->cluster_bits, blocks,
                          nblocks << s->cluster_bits);
    if (ret == 0) {
        ret = bdrv_pwrite(bs->file, (area + nblocks) << s->cluster_bits, table,
                          tcl << s->cluster_bits);
    }
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    if (ret == 0) {
        uint8_t hdr[12];
        stq_be_p(hdr, (area + nblocks) << s->cluster_bits);
        stl_be_p(hdr + 8, tcl);
        ret = bdrv_pwrite(bs->file, 48, hdr, sizeof(hdr));
    }
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    g_free(blocks);
    if (ret < 0) {
        g_free(table);
        return ret;
    }
    for (uint64_t i = 0; i < tcl * per_tcl; i++) {
        table[i] = __builtin_bswap64(table[i]);
    }
    g_free(s->refcount_table);
    s->refcount_table = table;
    s->refcount_table_offset = (area + nblocks) << s->cluster_bits;
    s->refcount_table_size = tcl * per_tcl;
    s->free_cluster_index = 0;
    qcow2_cache_clear(s->refblock_cache);
    return 0;
}

static int check_pass(BlockDriverState *bs, Qcow2CheckResult *res, int fix, bool quiet,
                      int *leaks_fixed, bool *rebuild)
{
    CheckCtx ctx = { .bs = bs, .res = res, .quiet = quiet };
    int ret = refcounts_init(&ctx);
    if (ret < 0) {
        return ret;
    }
    calculate_refcounts(&ctx, true);
    compare_refcounts(&ctx, fix, leaks_fixed);
    *rebuild = ctx.rebuild;
    refcounts_free(&ctx);
    return 0;
}

/* After a successful repair: clear the dirty bit, and the corrupt bit (-r all). */
static int mark_consistent(BlockDriverState *bs, Qcow2CheckResult *res, int fix)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = bdrv_flush(bs->file);
    if (ret < 0 || res->corruptions || res->check_errors || s->qcow_version < 3) {
        return ret;
    }
    uint64_t bits = QCOW2_INCOMPAT_DIRTY | ((fix & QCOW2_FIX_ERRORS) ? QCOW2_INCOMPAT_CORRUPT : 0);
    if (s->incompatible_features & bits) {
        uint8_t be[8];
        s->incompatible_features &= ~bits;
        s->dirty_set = false;
        stq_be_p(be, s->incompatible_features);
        ret = bdrv_pwrite(bs->file, 72, be, 8);
        if (ret == 0) {
            ret = bdrv_flush(bs->file);
        }
    }
    return ret;
}

int qcow2_check(BlockDriverState *bs, Qcow2CheckResult *res, int fix, bool quiet)
{
    BDRVQcow2State *s = bs->opaque;
    memset(res, 0, sizeof(*res));
    res->total_clusters = size_to_clusters(s, s->size);
    int leaks_fixed = 0, copied_fixed = 0;
    bool rebuild = false;
    int ret = check_pass(bs, res, 0, quiet, &leaks_fixed, &rebuild);
    if (ret < 0) {
        return ret;
    }
    res->corruptions += s->snapshot_errors;
    CheckCtx ctx = { .bs = bs, .res = res, .quiet = quiet };
    if (!fix || (res->corruptions == 0 && res->leaks == 0)) {
        /* nothing else to repair: only the COPIED flags */
        int before = res->corruptions;
        check_oflag_copied(&ctx, fix & QCOW2_FIX_ERRORS, &copied_fixed);
        if (copied_fixed) {
            res->corruptions_fixed = copied_fixed;
            res->corruptions = before;
        }
        return fix ? mark_consistent(bs, res, fix) : 0;
    }
    if (rebuild && !(fix & QCOW2_FIX_ERRORS)) {
        CPRINT(&ctx, "ERROR need to rebuild refcount structures\n");
        return -EIO;
    }
    Qcow2CheckResult r2;
    memset(&r2, 0, sizeof(r2));
    if (rebuild) {
        CheckCtx rctx = { .bs = bs, .res = &r2, .quiet = quiet };
        ret = refcounts_init(&rctx);
        if (ret < 0) {
            return ret;
        }
        calculate_refcounts(&rctx, true);
        ret = rebuild_refcounts(&rctx);
        refcounts_free(&rctx);
        if (ret < 0) {
            CPRINT(&ctx, "ERROR could not rebuild refcount structures: %s\n", g_strerror(-ret));
            return ret;
        }
        res->corruptions_fixed = res->corruptions;
    }
    /* leaks (including the old refcount structures after a rebuild) */
    if (fix & QCOW2_FIX_LEAKS) {
        int lf = 0;
        memset(&r2, 0, sizeof(r2));
        ret = check_pass(bs, &r2, QCOW2_FIX_LEAKS, quiet, &lf, &rebuild);
        if (ret < 0) {
            return ret;
        }
        res->leaks_fixed = res->leaks;
    }
    memset(&r2, 0, sizeof(r2));
    ctx.res = &r2;
    check_oflag_copied(&ctx, fix & QCOW2_FIX_ERRORS, &copied_fixed);
    res->corruptions += r2.corruptions;
    res->corruptions_fixed += copied_fixed;
    res->corruptions -= MIN(res->corruptions, res->corruptions_fixed);
    res->leaks -= res->leaks_fixed;
    return mark_consistent(bs, res, fix);
}
