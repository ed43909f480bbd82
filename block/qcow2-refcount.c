/*
 * qcow2 refcounts (qcow2.txt "Host cluster management"): refcount widths of
 * 1..64 bits (sub-byte entries packed LSB first, wider ones big-endian),
 * cluster allocation with on-demand refcount blocks (self-describing when
 * they cover themselves) and refcount table growth into a fresh area at the
 * end of the image, snapshot tree refcount updates and COPIED flag repair.
 * Locking: all entry points need s->rw held exclusively (or a
 * single-threaded caller); refcounts are written through before the L2/L1
 * entries that depend on them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "qcow2.h"
#include "util/cutils.h"

uint64_t qcow2_refcount_get(const void *block, uint64_t i, int order)
{
    const uint8_t *p = block;
    switch (order) {
    case 0: case 1: case 2: {
        int bits = 1 << order;
        int per_byte = 8 >> order;
        return (p[i / per_byte] >> ((i % per_byte) * bits)) & ((1u << bits) - 1);
    }
    case 3:
        return p[i];
    case 4:
        return lduw_be_p(p + i * 2);
    case 5:
        return ldl_be_p(p + i * 4);
    default:
        return ldq_be_p(p + i * 8);
    }
}

void qcow2_refcount_set(void *block, uint64_t i, uint64_t v, int order)
{
    uint8_t *p = block;
    switch (order) {
    case 0: case 1: case 2: {
        int bits = 1 << order;
        int per_byte = 8 >> order;
        int shift = (i % per_byte) * bits;
        uint8_t mask = ((1u << bits) - 1) << shift;
        p[i / per_byte] = (p[i / per_byte] & ~mask) | ((v << shift) & mask);
        break;
    }
    case 3:
        p[i] = v;
        break;
    case 4:
        stw_be_p(p + i * 2, v);
        break;
    case 5:
        stl_be_p(p + i * 4, v);
        break;
    default:
        stq_be_p(p + i * 8, v);
        break;
    }
}

/* Byte range in a refcount block covering entries [first, last]. */
static void refcount_byte_range(int order, uint64_t first, uint64_t last,
                                uint64_t *start, uint64_t *len)
{
    *start = (first << order) / 8;
    uint64_t end = ((last + 1) << order) / 8;
    if (((last + 1) << order) % 8) {
        end++;
    }
    *len = end - *start;
}

int qcow2_refcount_init(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    s->refcount_bits = 1 << s->refcount_order;
    s->refcount_max = s->refcount_bits == 64 ? UINT64_MAX : (1ull << s->refcount_bits) - 1;
    s->refcount_block_bits = s->cluster_bits - (s->refcount_order - 3);
    uint64_t bytes = (uint64_t)s->refcount_table_size * 8;
    s->refcount_table = g_try_malloc0(bytes ? bytes : 8);
    if (!s->refcount_table) {
        return -ENOMEM;
    }
    if (bytes) {
        int ret = bdrv_pread(bs->file, s->refcount_table_offset, s->refcount_table, bytes);
        if (ret < 0) {
            return ret;
        }
    }
    for (uint32_t i = 0; i < s->refcount_table_size; i++) {
        s->refcount_table[i] = __builtin_bswap64(s->refcount_table[i]);
    }
    return 0;
}

static int load_refblock(BlockDriverState *bs, uint64_t rt_index, void **block)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off = s->refcount_table[rt_index] & REFT_OFFSET_MASK;
    if (offset_into_cluster(s, off)) {
        qcow2_signal_corruption(bs, "Refblock offset %#" PRIx64 " unaligned "
                                "(reftable index: %#" PRIx64 ")", off, rt_index);
        return -EIO;
    }
    if (!qcow2_offset_near_file(bs, off)) {
        qcow2_signal_corruption(bs, "Refblock at %#" PRIx64 " is outside the image "
                                "(reftable index: %#" PRIx64 ")", off, rt_index);
        return -EIO;
    }
    return qcow2_cache_get(bs, s->refblock_cache, off, block);
}

int qcow2_get_refcount(BlockDriverState *bs, uint64_t cluster_index, uint64_t *refcount)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t rt_index = cluster_index >> s->refcount_block_bits;
    *refcount = 0;
    if (rt_index >= s->refcount_table_size ||
        !(s->refcount_table[rt_index] & REFT_OFFSET_MASK)) {
        return 0;
    }
    void *block;
    int ret = load_refblock(bs, rt_index, &block);
    if (ret < 0) {
        return ret;
    }
    uint64_t mask = ((uint64_t)1 << s->refcount_block_bits) - 1;
    *refcount = qcow2_refcount_get(block, cluster_index & mask, s->refcount_order);
    return 0;
}

static int write_reftable_entry(BlockDriverState *bs, uint64_t rt_index)
{
    BDRVQcow2State *s = bs->opaque;
    if (!qcow2_write_offset_ok(bs, s->refcount_table_offset, "Refcount table")) {
        return -EIO;
    }
    uint64_t be = __builtin_bswap64(s->refcount_table[rt_index]);
    return bdrv_pwrite(bs->file, s->refcount_table_offset + rt_index * 8, &be, 8);
}

/* First cluster index from which everything is free (and past the file). */
static int64_t find_end_of_used(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t file_len = bdrv_getlength(bs->file);
    if (file_len < 0) {
        return file_len;
    }
    uint64_t end = size_to_clusters(s, file_len);
    uint64_t per_block = (uint64_t)1 << s->refcount_block_bits;
    for (uint64_t i = 0; i < s->refcount_table_size; i++) {
        if (!(s->refcount_table[i] & REFT_OFFSET_MASK)) {
            continue;
        }
        void *block;
        int ret = load_refblock(bs, i, &block);
        if (ret < 0) {
            return ret;
        }
        for (uint64_t j = per_block; j > 0; j--) {
            if (qcow2_refcount_get(block, j - 1, s->refcount_order)) {
                end = MAX(end, i * per_block + j);
                break;
            }
        }
    }
    if (end > size_to_clusters(s, file_len + QCOW2_MAX_BEYOND_EOF)) {
        qcow2_signal_corruption(bs, "Refcounts of clusters far beyond the end of the image");
        return -EIO;
    }
    return end;
}

/*
 * Grow the refcount table to at least min_entries: new refcount blocks and
 * the new table go to a fresh area at the end, describing themselves; the
 * header is switched with one write, and the old table freed afterwards.
 */
static int grow_refcount_table(BlockDriverState *bs, uint64_t min_entries)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t area = find_end_of_used(bs);
    if (area < 0) {
        return area;
    }
    uint64_t per_table_cluster = s->cluster_size / 8;
    uint64_t new_size = MAX(min_entries, (uint64_t)s->refcount_table_size * 3 / 2);
    uint64_t tcl, nblocks, rbb = s->refcount_block_bits;
    for (;;) {
        new_size = ROUND_UP(MAX(new_size, 1), per_table_cluster);
        tcl = new_size / per_table_cluster;
        nblocks = 0;
        for (int iter = 0; iter < 64; iter++) {
            uint64_t last = area + nblocks + tcl - 1;
            uint64_t need = 0;
            for (uint64_t j = (uint64_t)area >> rbb; j <= last >> rbb; j++) {
                if (j >= s->refcount_table_size || !s->refcount_table[j]) {
                    need++;
                }
            }
            if (need == nblocks) {
                break;
            }
            nblocks = need;
        }
        uint64_t last = area + nblocks + tcl - 1;
        if ((last >> rbb) < new_size) {
            break;
        }
        new_size = (last >> rbb) + 1;
    }
    if (new_size * 8 > QCOW2_MAX_REFTABLE_SIZE ||
        ((uint64_t)(area + nblocks + tcl) << s->cluster_bits) > L2E_OFFSET_MASK) {
        return -EFBIG;
    }

    uint64_t *new_table = g_try_new0(uint64_t, new_size);
    uint8_t *blocks = g_try_malloc0(MAX(nblocks, 1) << s->cluster_bits);
    if (!new_table || !blocks) {
        g_free(new_table);
        g_free(blocks);
        return -ENOMEM;
    }
    memcpy(new_table, s->refcount_table, (uint64_t)s->refcount_table_size * 8);
    uint64_t k = 0;
    uint64_t last = area + nblocks + tcl - 1;
    for (uint64_t j = (uint64_t)area >> rbb; j <= last >> rbb; j++) {
        if (j >= s->refcount_table_size || !s->refcount_table[j]) {
            new_table[j] = (uint64_t)(area + k) << s->cluster_bits;
            k++;
        }
    }
    int ret = 0;
    uint64_t mask = ((uint64_t)1 << rbb) - 1;
    /* refcounts of the new area: in new blocks, or in existing blocks */
    for (uint64_t c = area; c <= last; c++) {
        uint64_t j = c >> rbb;
        if (j < s->refcount_table_size && s->refcount_table[j]) {
            ret = qcow2_update_refcount(bs, c << s->cluster_bits, 1, 1);
            if (ret < 0) {
                goto out;
            }
        } else {
            uint64_t bi = (new_table[j] >> s->cluster_bits) - area;
            qcow2_refcount_set(blocks + (bi << s->cluster_bits), c & mask, 1,
                               s->refcount_order);
        }
    }
    if (nblocks) {
        ret = bdrv_pwrite(bs->file, (uint64_t)area << s->cluster_bits, blocks,
                          nblocks << s->cluster_bits);
        if (ret < 0) {
            goto out;
        }
    }
    uint64_t table_off = (uint64_t)(area + nblocks) << s->cluster_bits;
    for (uint64_t i = 0; i < new_size; i++) {
        new_table[i] = __builtin_bswap64(new_table[i]);
    }
    ret = bdrv_pwrite(bs->file, table_off, new_table, new_size * 8);
    for (uint64_t i = 0; i < new_size; i++) {
        new_table[i] = __builtin_bswap64(new_table[i]);
    }
    if (ret < 0) {
        goto out;
    }
    uint8_t hdr[12];
    stq_be_p(hdr, table_off);
    stl_be_p(hdr + 8, (uint32_t)tcl);
    ret = bdrv_pwrite(bs->file, 48, hdr, sizeof(hdr));
    if (ret < 0) {
        goto out;
    }
    uint64_t old_off = s->refcount_table_offset;
    uint64_t old_bytes = (uint64_t)s->refcount_table_size * 8;
    g_free(s->refcount_table);
    s->refcount_table = new_table;
    new_table = NULL;
    s->refcount_table_offset = table_off;
    s->refcount_table_size = new_size;
    if (old_bytes) {
        qcow2_free_clusters(bs, old_off, old_bytes);
    }
out:
    g_free(new_table);
    g_free(blocks);
    return ret;
}

static int64_t find_free_run(BlockDriverState *bs, uint64_t n, uint64_t start);

/* Make sure refcount block rt_index exists. */
static int ensure_refblock(BlockDriverState *bs, uint64_t rt_index, int depth)
{
    BDRVQcow2State *s = bs->opaque;
    if (depth > 8) {
        return -EIO;
    }
    for (int tries = 0; tries < 64; tries++) {
        if (rt_index >= s->refcount_table_size) {
            int ret = grow_refcount_table(bs, rt_index + 1);
            if (ret < 0) {
                return ret;
            }
            continue;
        }
        if (s->refcount_table[rt_index] & REFT_OFFSET_MASK) {
            return 0;
        }
        int64_t c = find_free_run(bs, 1, s->free_cluster_index);
        if (c < 0) {
            return c;
        }
        uint64_t tc = (uint64_t)c >> s->refcount_block_bits;
        uint64_t off = (uint64_t)c << s->cluster_bits;
        if (off > L2E_OFFSET_MASK) {
            return -EFBIG;
        }
        if (tc == rt_index) {
            void *block = qcow2_cache_get_empty(s->refblock_cache, off);
            uint64_t mask = ((uint64_t)1 << s->refcount_block_bits) - 1;
            qcow2_refcount_set(block, c & mask, 1, s->refcount_order);
            int ret = bdrv_pwrite(bs->file, off, block, s->cluster_size);
            if (ret < 0) {
                qcow2_cache_discard(s->refblock_cache, off);
                return ret;
            }
        } else if (tc < s->refcount_table_size && s->refcount_table[tc]) {
            int ret = qcow2_update_refcount(bs, off, 1, 1);
            if (ret < 0) {
                return ret;
            }
            void *block = qcow2_cache_get_empty(s->refblock_cache, off);
            ret = bdrv_pwrite(bs->file, off, block, s->cluster_size);
            if (ret < 0) {
                return ret;
            }
        } else {
            int ret = ensure_refblock(bs, tc, depth + 1);
            if (ret < 0) {
                return ret;
            }
            continue;
        }
        s->refcount_table[rt_index] = off;
        return write_reftable_entry(bs, rt_index);
    }
    return -EIO;
}

int qcow2_update_refcount(BlockDriverState *bs, uint64_t off, uint64_t len, int64_t addend)
{
    BDRVQcow2State *s = bs->opaque;
    if (len == 0) {
        return 0;
    }
    int dret = qcow2_mark_dirty(bs);
    if (dret < 0) {
        return dret;
    }
    uint64_t first = off >> s->cluster_bits;
    uint64_t last = (off + len - 1) >> s->cluster_bits;
    uint64_t mask = ((uint64_t)1 << s->refcount_block_bits) - 1;
    uint64_t c = first;
    while (c <= last) {
        uint64_t rt_index = c >> s->refcount_block_bits;
        if (rt_index >= s->refcount_table_size ||
            !(s->refcount_table[rt_index] & REFT_OFFSET_MASK)) {
            if (addend < 0) {
                return -EIO;
            }
            int ret = ensure_refblock(bs, rt_index, 0);
            if (ret < 0) {
                return ret;
            }
        }
        void *block;
        int ret = load_refblock(bs, rt_index, &block);
        if (ret < 0) {
            return ret;
        }
        uint64_t block_last = MIN(last, c | mask);
        for (uint64_t i = c; i <= block_last; i++) {
            uint64_t v = qcow2_refcount_get(block, i & mask, s->refcount_order);
            if ((addend < 0 && v < (uint64_t)-addend) ||
                (addend > 0 && s->refcount_max - v < (uint64_t)addend)) {
                return addend < 0 ? -EINVAL : -ERANGE;
            }
            v += addend;
            qcow2_refcount_set(block, i & mask, v, s->refcount_order);
            if (v == 0) {
                uint64_t coff = i << s->cluster_bits;
                qcow2_cache_discard(s->l2_cache, coff);
                if (i < s->free_cluster_index) {
                    s->free_cluster_index = i;
                }
            }
        }
        uint64_t bstart, blen;
        refcount_byte_range(s->refcount_order, c & mask, block_last & mask, &bstart, &blen);
        ret = bdrv_pwrite(bs->file, (s->refcount_table[rt_index] & REFT_OFFSET_MASK) + bstart,
                          (uint8_t *)block + bstart, blen);
        if (ret < 0) {
            return ret;
        }
        c = block_last + 1;
    }
    return 0;
}

static int64_t find_free_run(BlockDriverState *bs, uint64_t n, uint64_t start)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t run = 0, i = start;
    uint64_t limit = L2E_OFFSET_MASK >> s->cluster_bits;
    while (run < n) {
        if (i > limit) {
            return -EFBIG;
        }
        uint64_t rc;
        int ret = qcow2_get_refcount(bs, i, &rc);
        if (ret < 0) {
            return ret;
        }
        i++;
        run = rc ? 0 : run + 1;
    }
    return i - n;
}

int64_t qcow2_alloc_clusters(BlockDriverState *bs, uint64_t n)
{
    BDRVQcow2State *s = bs->opaque;
    for (int tries = 0; tries < 1000; tries++) {
        int64_t c = find_free_run(bs, n, s->free_cluster_index);
        if (c < 0) {
            return c;
        }
        bool missing = false;
        for (uint64_t t = (uint64_t)c >> s->refcount_block_bits;
             t <= (c + n - 1) >> s->refcount_block_bits; t++) {
            if (t >= s->refcount_table_size || !(s->refcount_table[t] & REFT_OFFSET_MASK)) {
                int ret = ensure_refblock(bs, t, 0);
                if (ret < 0) {
                    return ret;
                }
                missing = true;
                break;
            }
        }
        if (missing) {
            continue;
        }
        uint64_t off = (uint64_t)c << s->cluster_bits;
        if (off + (n << s->cluster_bits) - 1 > L2E_OFFSET_MASK) {
            return -EFBIG;
        }
        if (!qcow2_offset_near_file(bs, off)) {
            qcow2_signal_corruption(bs, "Cluster allocation far beyond the end of the image");
            return -EIO;
        }
        int ret = qcow2_update_refcount(bs, off, n << s->cluster_bits, 1);
        if (ret < 0) {
            return ret;
        }
        if (n == 1 || (uint64_t)c == s->free_cluster_index) {
            s->free_cluster_index = c + n;
        }
        return off;
    }
    return -EIO;
}

/* Byte allocator for compressed clusters: shares the tail of a cluster. */
int64_t qcow2_alloc_bytes(BlockDriverState *bs, int bytes)
{
    BDRVQcow2State *s = bs->opaque;
    if (s->free_byte_offset && offset_into_cluster(s, s->free_byte_offset) &&
        s->cluster_size - offset_into_cluster(s, s->free_byte_offset) >= (uint64_t)bytes) {
        uint64_t rc;
        if (qcow2_get_refcount(bs, s->free_byte_offset >> s->cluster_bits, &rc) == 0 &&
            rc > 0 && rc < s->refcount_max) {
            int64_t off = s->free_byte_offset;
            int ret = qcow2_update_refcount(bs, off, 1, 1);
            if (ret < 0) {
                return ret;
            }
            s->free_byte_offset += bytes;
            if (!offset_into_cluster(s, s->free_byte_offset)) {
                s->free_byte_offset = 0;
            }
            return off;
        }
    }
    uint64_t n = size_to_clusters(s, bytes);
    int64_t off = qcow2_alloc_clusters(bs, n);
    if (off < 0) {
        return off;
    }
    s->free_byte_offset = off + bytes;
    if (!offset_into_cluster(s, s->free_byte_offset)) {
        s->free_byte_offset = 0;
    }
    return off;
}

void qcow2_free_clusters(BlockDriverState *bs, uint64_t off, uint64_t len)
{
    int ret = qcow2_update_refcount(bs, off, len, -1);
    if (ret < 0) {
        /* A leak at worst; check -r leaks repairs it. */
        fprintf(stderr, "qcow2_free_clusters failed: %s\n", g_strerror(-ret));
    }
}

/* Host byte range [*start, *start+*len) referenced by a compressed entry. */
static void compressed_range(BDRVQcow2State *s, uint64_t entry, uint64_t *start, uint64_t *len)
{
    uint64_t coff = entry & s->cluster_offset_mask;
    uint64_t nb = ((entry >> s->csize_shift) & s->csize_mask) + 1;
    *start = coff & ~511ull;
    *len = nb * 512;
}

void qcow2_free_l2_entry(BlockDriverState *bs, uint64_t entry)
{
    BDRVQcow2State *s = bs->opaque;
    switch (qcow2_get_cluster_type(s, entry)) {
    case QCOW2_CLUSTER_NORMAL:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        qcow2_free_clusters(bs, entry & L2E_OFFSET_MASK, 1);
        break;
    case QCOW2_CLUSTER_COMPRESSED: {
        uint64_t start, len;
        compressed_range(s, entry, &start, &len);
        qcow2_free_clusters(bs, start, len);
        break;
    }
    default:
        break;
    }
}

int qcow2_update_l1_tree_refcounts(BlockDriverState *bs, uint64_t l1_offset,
                                   uint32_t l1_size, int addend)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t *l1 = g_try_new0(uint64_t, MAX(l1_size, 1));
    if (!l1) {
        return -ENOMEM;
    }
    int ret = bdrv_pread(bs->file, l1_offset, l1, (uint64_t)l1_size * 8);
    for (uint32_t i = 0; ret == 0 && i < l1_size; i++) {
        uint64_t l2_off = __builtin_bswap64(l1[i]) & L1E_OFFSET_MASK;
        if (!l2_off) {
            continue;
        }
        if (offset_into_cluster(s, l2_off)) {
            ret = -EIO;
            break;
        }
        uint64_t *l2;
        ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2);
        if (ret < 0) {
            break;
        }
        uint64_t *copy = g_memdup2(l2, s->cluster_size);
        for (int j = 0; j < s->l2_size && ret == 0; j++) {
            uint64_t e = l2_entry_get(s, copy, j);
            switch (qcow2_get_cluster_type(s, e)) {
            case QCOW2_CLUSTER_NORMAL:
            case QCOW2_CLUSTER_ZERO_ALLOC:
                ret = qcow2_update_refcount(bs, e & L2E_OFFSET_MASK, 1, addend);
                break;
            case QCOW2_CLUSTER_COMPRESSED: {
                uint64_t start, len;
                compressed_range(s, e, &start, &len);
                ret = qcow2_update_refcount(bs, start, len, addend);
                break;
            }
            default:
                break;
            }
        }
        g_free(copy);
        if (ret == 0) {
            ret = qcow2_update_refcount(bs, l2_off, 1, addend);
        }
    }
    g_free(l1);
    return ret;
}

int qcow2_fix_copied_flags(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2_off = s->l1_table[i] & L1E_OFFSET_MASK;
        if (!l2_off) {
            continue;
        }
        uint64_t rc;
        int ret = qcow2_get_refcount(bs, l2_off >> s->cluster_bits, &rc);
        if (ret < 0) {
            return ret;
        }
        uint64_t want = l2_off | (rc == 1 ? QCOW_OFLAG_COPIED : 0);
        if (s->l1_table[i] != want) {
            s->l1_table[i] = want;
            ret = qcow2_write_l1_entries(bs, i, 1);
            if (ret < 0) {
                return ret;
            }
        }
        uint64_t *l2;
        ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2);
        if (ret < 0) {
            return ret;
        }
        bool changed = false;
        for (int j = 0; j < s->l2_size; j++) {
            uint64_t e = l2_entry_get(s, l2, j);
            Qcow2ClusterType t = qcow2_get_cluster_type(s, e);
            if (t != QCOW2_CLUSTER_NORMAL && t != QCOW2_CLUSTER_ZERO_ALLOC) {
                continue;
            }
            uint64_t drc;
            ret = qcow2_get_refcount(bs, (e & L2E_OFFSET_MASK) >> s->cluster_bits, &drc);
            if (ret < 0) {
                return ret;
            }
            /* qcow2_get_refcount may have evicted l2: reload */
            ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2);
            if (ret < 0) {
                return ret;
            }
            uint64_t ne = drc == 1 ? (e | QCOW_OFLAG_COPIED) : (e & ~QCOW_OFLAG_COPIED);
            if (ne != e) {
                l2_entry_set(s, l2, j, ne);
                changed = true;
            }
        }
        if (changed) {
            ret = bdrv_pwrite(bs->file, l2_off, l2, s->cluster_size);
            if (ret < 0) {
                return ret;
            }
        }
    }
    return 0;
}
