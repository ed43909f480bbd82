/*
 * qcow2 guest I/O (qcow2.txt "Cluster mapping"): L1/L2 lookup, standard and
 * extended (subcluster) L2 entries, zero clusters, backing-file fallthrough
 * (zeros past the end of a shorter backing file), zlib/zstd compressed
 * clusters, and allocating writes with copy-on-write of shared (snapshot),
 * compressed, zero and backing-file clusters.
 * Locking: reads hold s->rw shared and take s->meta around cache lookups;
 * writes/discards hold s->rw exclusively. Write order: data, refcount
 * (done by allocation), L2 entry, L1 entry; old clusters are freed last.
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>
#include "qcow2.h"
#include "util/cutils.h"

Qcow2ClusterType qcow2_get_cluster_type(BDRVQcow2State *s, uint64_t e)
{
    if (e & QCOW_OFLAG_COMPRESSED) {
        return QCOW2_CLUSTER_COMPRESSED;
    }
    if ((e & QCOW_OFLAG_ZERO) && !s->extended_l2) {
        return (e & L2E_OFFSET_MASK) ? QCOW2_CLUSTER_ZERO_ALLOC : QCOW2_CLUSTER_ZERO_PLAIN;
    }
    if (!(e & L2E_OFFSET_MASK)) {
        return QCOW2_CLUSTER_UNALLOCATED;
    }
    return QCOW2_CLUSTER_NORMAL;
}

Qcow2SubclusterType qcow2_subcluster_type(BDRVQcow2State *s, uint64_t e,
                                          uint64_t bm, int sc)
{
    Qcow2ClusterType t = qcow2_get_cluster_type(s, e);
    if (!s->extended_l2) {
        switch (t) {
        case QCOW2_CLUSTER_COMPRESSED:
            return QCOW2_SC_COMPRESSED;
        case QCOW2_CLUSTER_ZERO_PLAIN:
        case QCOW2_CLUSTER_ZERO_ALLOC:
            return QCOW2_SC_ZERO;
        case QCOW2_CLUSTER_NORMAL:
            return QCOW2_SC_NORMAL;
        default:
            return QCOW2_SC_UNALLOCATED;
        }
    }
    bool alloc = (bm >> sc) & 1;
    bool zero = (bm >> (32 + sc)) & 1;
    if (t == QCOW2_CLUSTER_COMPRESSED) {
        return bm ? QCOW2_SC_INVALID : QCOW2_SC_COMPRESSED;
    }
    if (alloc && zero) {
        return QCOW2_SC_INVALID;
    }
    if (t == QCOW2_CLUSTER_NORMAL) {
        return alloc ? QCOW2_SC_NORMAL : zero ? QCOW2_SC_ZERO : QCOW2_SC_UNALLOCATED;
    }
    if (alloc) {
        return QCOW2_SC_INVALID;
    }
    return zero ? QCOW2_SC_ZERO : QCOW2_SC_UNALLOCATED;
}

/* Caller holds s->meta or s->rw exclusively. */
static int get_l2_entry_locked(BlockDriverState *bs, uint64_t off, uint64_t *e, uint64_t *bm)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t l1_index = off >> (s->l2_bits + s->cluster_bits);
    *e = 0;
    *bm = 0;
    if (l1_index >= s->l1_size) {
        return 0;
    }
    uint64_t l2_off = s->l1_table[l1_index] & L1E_OFFSET_MASK;
    if (!l2_off) {
        return 0;
    }
    if (offset_into_cluster(s, l2_off)) {
        qcow2_signal_corruption(bs, "L2 table offset %#" PRIx64 " unaligned (L1 index: %#"
                                PRIx64 ")", l2_off, l1_index);
        return -EIO;
    }
    uint64_t *l2;
    int ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2);
    if (ret < 0) {
        return ret;
    }
    int i = offset_to_l2_index(s, off);
    *e = l2_entry_get(s, l2, i);
    *bm = l2_bitmap_get(s, l2, i);
    return 0;
}

int qcow2_get_l2_entry(BlockDriverState *bs, uint64_t off, uint64_t *e, uint64_t *bm)
{
    BDRVQcow2State *s = bs->opaque;
    g_mutex_lock(&s->meta);
    int ret = get_l2_entry_locked(bs, off, e, bm);
    g_mutex_unlock(&s->meta);
    return ret;
}

/* ---- compression ---- */

int qcow2_decompress(BDRVQcow2State *s, void *dst, size_t dst_len,
                     const void *src, size_t src_len)
{
    if (s->compression_type == QCOW2_COMPRESSION_ZLIB) {
        z_stream z = { 0 };
        if (inflateInit2(&z, -12) != Z_OK) {
            return -EIO;
        }
        z.next_in = (Bytef *)src;
        z.avail_in = src_len;
        z.next_out = dst;
        z.avail_out = dst_len;
        int ret = inflate(&z, Z_FINISH);
        bool ok = (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && z.avail_out == 0;
        inflateEnd(&z);
        return ok ? 0 : -EIO;
    }
    return qcow2_zstd_decompress(dst, dst_len, src, src_len);
}

/* Compress src (one cluster); returns compressed size, or 0 if it does not shrink. */
static size_t compress_cluster(BDRVQcow2State *s, void *dst, size_t dst_len,
                               const void *src, size_t src_len)
{
    if (s->compression_type == QCOW2_COMPRESSION_ZLIB) {
        z_stream z = { 0 };
        if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            return 0;
        }
        z.next_in = (Bytef *)src;
        z.avail_in = src_len;
        z.next_out = dst;
        z.avail_out = dst_len;
        int ret = deflate(&z, Z_FINISH);
        size_t out = dst_len - z.avail_out;
        deflateEnd(&z);
        return ret == Z_STREAM_END ? out : 0;
    }
    return qcow2_zstd_compress(dst, dst_len, src, src_len);
}

static int read_compressed(BlockDriverState *bs, uint64_t e, uint8_t *cbuf)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t coff = e & s->cluster_offset_mask;
    uint64_t nb = ((e >> s->csize_shift) & s->csize_mask) + 1;
    uint64_t csize = nb * 512 - (coff & 511);
    if (coff > L2E_OFFSET_MASK) {
        return -EIO;
    }
    uint8_t *in = g_malloc(csize);
    int ret = bdrv_pread(bs->file, coff, in, csize);
    if (ret == 0) {
        ret = qcow2_decompress(s, cbuf, s->cluster_size, in, csize);
    }
    g_free(in);
    return ret;
}

/* ---- reads ---- */

static int read_backing(BlockDriverState *bs, int64_t off, uint8_t *buf, int64_t n)
{
    if (!bs->backing) {
        memset(buf, 0, n);
        return 0;
    }
    int64_t blen = bdrv_getlength(bs->backing);
    if (blen < 0) {
        return (int)blen;
    }
    int64_t avail = off >= blen ? 0 : MIN(n, blen - off);
    if (avail < n) {
        memset(buf + avail, 0, n - avail);
    }
    return avail ? bdrv_pread(bs->backing, off, buf, avail) : 0;
}

static bool host_offset_ok(BlockDriverState *bs, uint64_t host, uint64_t e)
{
    (void)e;
    BDRVQcow2State *s = bs->opaque;
    if (offset_into_cluster(s, host)) {
        qcow2_signal_corruption(bs, "Cluster allocation offset %#" PRIx64 " unaligned "
                                "(L2 entry: %#" PRIx64 ")", host, e);
        return false;
    }
    return true;
}

/* Read [off, off+n) lying inside one cluster. */
static int read_in_cluster(BlockDriverState *bs, uint64_t off, uint8_t *buf, uint64_t n)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t e, bm;
    int ret = qcow2_get_l2_entry(bs, off, &e, &bm);
    if (ret < 0) {
        return ret;
    }
    uint64_t in = offset_into_cluster(s, off);
    if (qcow2_get_cluster_type(s, e) == QCOW2_CLUSTER_COMPRESSED) {
        if (s->extended_l2 && bm) {
            return -EIO;
        }
        uint8_t *cbuf = g_malloc(s->cluster_size);
        ret = read_compressed(bs, e, cbuf);
        if (ret == 0) {
            memcpy(buf, cbuf + in, n);
        }
        g_free(cbuf);
        return ret;
    }
    uint64_t host = e & L2E_OFFSET_MASK;
    while (n > 0) {
        int sc = (int)(in >> s->subcluster_bits);
        uint64_t len = MIN(n, ((uint64_t)(sc + 1) << s->subcluster_bits) - in);
        Qcow2SubclusterType t = qcow2_subcluster_type(s, e, bm, sc);
        /* merge following subclusters of the same kind */
        while (len < n && qcow2_subcluster_type(s, e, bm, sc + 1) == t) {
            sc++;
            len = MIN(n, ((uint64_t)(sc + 1) << s->subcluster_bits) - in);
        }
        switch (t) {
        case QCOW2_SC_NORMAL:
            if (!host_offset_ok(bs, host, e)) {
                return -EIO;
            }
            ret = bdrv_pread(bs->file, host + in, buf, len);
            break;
        case QCOW2_SC_ZERO:
            memset(buf, 0, len);
            break;
        case QCOW2_SC_UNALLOCATED:
            ret = read_backing(bs, off, buf, len);
            break;
        default:
            qcow2_signal_corruption(bs, "Invalid L2 entry %#" PRIx64 " bitmap %#" PRIx64,
                                    e, bm);
            return -EIO;
        }
        if (ret < 0) {
            return ret;
        }
        buf += len;
        off += len;
        in += len;
        n -= len;
    }
    return 0;
}

/*
 * Fast path: [off, off+bytes) starts in a standard cluster whose data is
 * allocated; extend over following clusters of the same L2 table whose data
 * is contiguous on the host, and read everything with one request.
 * Returns bytes read (> 0), 0 if the fast path does not apply, or -errno.
 */
static int64_t read_contiguous(BlockDriverState *bs, uint64_t off, uint8_t *buf,
                               uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t l1_index = off >> (s->l2_bits + s->cluster_bits);
    if (s->extended_l2 || l1_index >= s->l1_size) {
        return 0;
    }
    uint64_t l2_off = s->l1_table[l1_index] & L1E_OFFSET_MASK;
    if (!l2_off || offset_into_cluster(s, l2_off)) {
        return 0;
    }
    g_mutex_lock(&s->meta);
    uint64_t *l2;
    int ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2);
    if (ret < 0) {
        g_mutex_unlock(&s->meta);
        return ret;
    }
    int i = offset_to_l2_index(s, off);
    uint64_t e = l2_entry_get(s, l2, i);
    uint64_t host = e & L2E_OFFSET_MASK;
    if (qcow2_get_cluster_type(s, e) != QCOW2_CLUSTER_NORMAL || offset_into_cluster(s, host)) {
        g_mutex_unlock(&s->meta);
        return 0;
    }
    uint64_t in = offset_into_cluster(s, off);
    uint64_t len = MIN(bytes, s->cluster_size - in);
    while (len < bytes && ++i < s->l2_size) {
        uint64_t e2 = l2_entry_get(s, l2, i);
        if (qcow2_get_cluster_type(s, e2) != QCOW2_CLUSTER_NORMAL ||
            (e2 & L2E_OFFSET_MASK) != host + in + len) {
            break;
        }
        len = MIN(bytes, len + s->cluster_size);
    }
    g_mutex_unlock(&s->meta);
    ret = bdrv_pread(bs->file, host + in, buf, len);
    return ret < 0 ? ret : (int64_t)len;
}

/* ---- writes (s->rw held exclusively) ---- */

/* L2 table for guest offset 'off', allocated or copied (COW) if needed. */
static int get_l2_for_write(BlockDriverState *bs, uint64_t off, uint64_t *l2_off_out)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t l1_index = off >> (s->l2_bits + s->cluster_bits);
    int ret;
    if (l1_index >= s->l1_size) {
        ret = qcow2_grow_l1_table(bs, l1_index + 1);
        if (ret < 0) {
            return ret;
        }
    }
    uint64_t l1e = s->l1_table[l1_index];
    uint64_t old = l1e & L1E_OFFSET_MASK;
    if (old && offset_into_cluster(s, old)) {
        qcow2_signal_corruption(bs, "L2 table offset %#" PRIx64 " unaligned (L1 index: %#"
                                PRIx64 ")", old, l1_index);
        return -EIO;
    }
    if (old && (l1e & QCOW_OFLAG_COPIED)) {
        if (!qcow2_write_offset_ok(bs, old, "L2 table")) {
            return -EIO;
        }
        *l2_off_out = old;
        return 0;
    }
    uint8_t *copy = g_malloc0(s->cluster_size);
    if (old) {
        void *t;
        ret = qcow2_cache_get(bs, s->l2_cache, old, &t);
        if (ret < 0) {
            g_free(copy);
            return ret;
        }
        memcpy(copy, t, s->cluster_size);
    }
    int64_t new_off = qcow2_alloc_clusters(bs, 1);
    if (new_off < 0) {
        g_free(copy);
        return new_off;
    }
    ret = bdrv_pwrite(bs->file, new_off, copy, s->cluster_size);
    if (ret < 0) {
        g_free(copy);
        return ret;
    }
    void *t = qcow2_cache_get_empty(s->l2_cache, new_off);
    memcpy(t, copy, s->cluster_size);
    g_free(copy);
    s->l1_table[l1_index] = new_off | QCOW_OFLAG_COPIED;
    ret = qcow2_write_l1_entries(bs, l1_index, 1);
    if (ret < 0) {
        return ret;
    }
    if (old) {
        qcow2_free_clusters(bs, old, 1);
    }
    *l2_off_out = new_off;
    return 0;
}

/* get_l2_for_write(), then that L2 table from the cache in *l2. */
static int get_l2_table_for_write(BlockDriverState *bs, uint64_t off, uint64_t *l2_off,
                                  uint64_t **l2)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = get_l2_for_write(bs, off, l2_off);
    if (ret < 0) {
        return ret;
    }
    return qcow2_cache_get(bs, s->l2_cache, *l2_off, (void **)l2);
}

static int write_l2_entry(BlockDriverState *bs, uint64_t l2_off, int i, uint64_t e, uint64_t bm)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t *l2;
    int ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2);
    if (ret < 0) {
        return ret;
    }
    l2_entry_set(s, l2, i, e);
    l2_bitmap_set(s, l2, i, bm);
    return bdrv_pwrite(bs->file, l2_off + (uint64_t)i * s->l2_entry_size,
                       &l2[i * (s->l2_entry_size / 8)], s->l2_entry_size);
}

/* Fill cbuf[from, to) (cluster-relative) with the current contents. */
static int fill_old(BlockDriverState *bs, uint64_t cluster_off, uint64_t e, uint64_t bm,
                    uint8_t *cbuf, uint64_t from, uint64_t to)
{
    if (from >= to) {
        return 0;
    }
    int ret = read_in_cluster(bs, cluster_off + from, cbuf + from, to - from);
    (void)e;
    (void)bm;
    return ret;
}

/* Write [off, off+n) inside one cluster. */
static int write_in_cluster(BlockDriverState *bs, uint64_t off, const uint8_t *buf, uint64_t n)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t l2_off, *l2;
    int ret = get_l2_table_for_write(bs, off, &l2_off, &l2);
    if (ret < 0) {
        return ret;
    }
    int i = offset_to_l2_index(s, off);
    uint64_t e = l2_entry_get(s, l2, i), bm = l2_bitmap_get(s, l2, i);
    Qcow2ClusterType t = qcow2_get_cluster_type(s, e);
    uint64_t in = offset_into_cluster(s, off);
    uint64_t cluster_off = off - in;
    uint64_t host = e & L2E_OFFSET_MASK;
    int sc_first = (int)(in >> s->subcluster_bits);
    int sc_last = (int)((in + n - 1) >> s->subcluster_bits);
    uint64_t touched = 0;
    for (int sc = sc_first; sc <= sc_last; sc++) {
        touched |= 1ull << sc;
    }
    uint64_t r_start = (uint64_t)sc_first << s->subcluster_bits;
    uint64_t r_end = (uint64_t)(sc_last + 1) << s->subcluster_bits;

    bool in_place = (t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC) &&
                    (e & QCOW_OFLAG_COPIED);
    if (in_place && !host_offset_ok(bs, host, e)) {
        return -EIO;
    }
    if (in_place) {
        /* Allocated clusters lie inside the file (or just past its end). */
        if (!qcow2_offset_near_file(bs, host)) {
            qcow2_signal_corruption(bs, "Data cluster offset %#" PRIx64 " beyond the end of "
                                    "the image (L2 entry: %#" PRIx64 ")", host, e);
            return -EIO;
        }
    }
    if (in_place && t == QCOW2_CLUSTER_NORMAL &&
        (!s->extended_l2 || (bm & touched) == touched)) {
        return bdrv_pwrite(bs->file, host + in, buf, n);
    }

    uint8_t *cbuf = g_malloc(s->cluster_size);
    uint64_t new_e, new_bm = 0, w_start, w_end;
    int64_t new_host;
    if (in_place) {
        /* zero-allocated cluster, or subclusters not yet allocated */
        w_start = s->extended_l2 ? r_start : 0;
        w_end = s->extended_l2 ? r_end : s->cluster_size;
        ret = fill_old(bs, cluster_off, e, bm, cbuf, w_start, in);
        if (ret == 0) {
            ret = fill_old(bs, cluster_off, e, bm, cbuf, in + n, w_end);
        }
        new_host = host;
        new_e = (host | QCOW_OFLAG_COPIED);
        new_bm = (bm | touched) & ~(touched << 32);
    } else {
        bool sub_alloc = s->extended_l2 && t == QCOW2_CLUSTER_UNALLOCATED;
        w_start = sub_alloc ? r_start : 0;
        w_end = sub_alloc ? r_end : s->cluster_size;
        ret = fill_old(bs, cluster_off, e, bm, cbuf, w_start, in);
        if (ret == 0) {
            ret = fill_old(bs, cluster_off, e, bm, cbuf, in + n, w_end);
        }
        new_host = ret < 0 ? ret : qcow2_alloc_clusters(bs, 1);
        if (new_host < 0) {
            ret = (int)new_host;
        }
        new_e = (uint64_t)new_host | QCOW_OFLAG_COPIED;
        if (s->extended_l2) {
            if (sub_alloc) {
                new_bm = (bm | touched) & ~(touched << 32);
            } else if (t == QCOW2_CLUSTER_COMPRESSED) {
                new_bm = 0xffffffffull;
            } else {
                /* shared normal cluster: copy all, keep the subcluster map */
                new_bm = (bm | touched) & ~(touched << 32);
            }
        }
    }
    if (ret < 0) {
        g_free(cbuf);
        return ret;
    }
    memcpy(cbuf + in, buf, n);
    ret = bdrv_pwrite(bs->file, new_host + w_start, cbuf + w_start, w_end - w_start);
    g_free(cbuf);
    if (ret < 0) {
        if (!in_place) {
            qcow2_free_clusters(bs, new_host, 1);
        }
        return ret;
    }
    ret = write_l2_entry(bs, l2_off, i, new_e, new_bm);
    if (ret < 0) {
        return ret;
    }
    if (!in_place && (t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC ||
                      t == QCOW2_CLUSTER_COMPRESSED)) {
        qcow2_free_l2_entry(bs, e);
    }
    return 0;
}

/*
 * Fast path for whole-cluster writes into unallocated or zero clusters of
 * one L2 table (the usual sequential guest write): allocate the run at
 * once, write the data with one request, then the L2 entries with one.
 * Returns bytes written (> 0), 0 if the fast path does not apply, or -errno.
 */
static int64_t write_new_clusters(BlockDriverState *bs, uint64_t off, const uint8_t *buf,
                                  uint64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    if (offset_into_cluster(s, off) || bytes < 2 * s->cluster_size) {
        return 0;
    }
    uint64_t l2_off, *l2;
    int ret = get_l2_table_for_write(bs, off, &l2_off, &l2);
    if (ret < 0) {
        return ret;
    }
    int first = offset_to_l2_index(s, off);
    uint64_t max = MIN(bytes >> s->cluster_bits, (uint64_t)(s->l2_size - first));
    uint64_t n = 0;
    while (n < max) {
        uint64_t e = l2_entry_get(s, l2, first + n);
        Qcow2ClusterType t = qcow2_get_cluster_type(s, e);
        if (t != QCOW2_CLUSTER_UNALLOCATED && t != QCOW2_CLUSTER_ZERO_PLAIN) {
            break;
        }
        n++;
    }
    if (n < 2) {
        return 0;
    }
    int64_t host = qcow2_alloc_clusters(bs, n);
    if (host < 0) {
        return host;
    }
    ret = bdrv_pwrite(bs->file, host, buf, n << s->cluster_bits);
    if (ret < 0) {
        qcow2_free_clusters(bs, host, n << s->cluster_bits);
        return ret;
    }
    ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2);
    if (ret < 0) {
        return ret;
    }
    for (uint64_t k = 0; k < n; k++) {
        l2_entry_set(s, l2, first + k, (host + (k << s->cluster_bits)) | QCOW_OFLAG_COPIED);
        l2_bitmap_set(s, l2, first + k, 0xffffffffull);
    }
    ret = bdrv_pwrite(bs->file, l2_off + (uint64_t)first * s->l2_entry_size,
                      (uint8_t *)l2 + (uint64_t)first * s->l2_entry_size,
                      n * s->l2_entry_size);
    return ret < 0 ? ret : (int64_t)(n << s->cluster_bits);
}

/*
 * Read into rbuf or write from wbuf (the other is NULL) [off, off+bytes),
 * taking the multi-cluster fast path where it applies and going cluster by
 * cluster elsewhere. The caller holds s->rw.
 */
static int rw_clusters(BlockDriverState *bs, uint64_t off, uint8_t *rbuf,
                       const uint8_t *wbuf, int64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t pos = 0;
    int ret = 0;
    while (bytes > 0 && ret == 0) {
        uint64_t n = MIN((uint64_t)bytes, s->cluster_size - offset_into_cluster(s, off));
        int64_t done = rbuf ? read_contiguous(bs, off, rbuf + pos, bytes)
                            : write_new_clusters(bs, off, wbuf + pos, bytes);
        if (done < 0) {
            ret = (int)done;
            break;
        }
        if (done > 0) {
            pos += done;
            off += done;
            bytes -= done;
            continue;
        }
        ret = rbuf ? read_in_cluster(bs, off, rbuf + pos, n)
                   : write_in_cluster(bs, off, wbuf + pos, n);
        pos += n;
        off += n;
        bytes -= n;
    }
    return ret;
}

int qcow2_co_pread(BlockDriverState *bs, int64_t off, void *buf, int64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    if ((uint64_t)off >= s->size) {
        memset(buf, 0, bytes);
        return 0;
    }
    if ((uint64_t)(off + bytes) > s->size) {
        int64_t valid = s->size - off;
        memset((uint8_t *)buf + valid, 0, bytes - valid);
        bytes = valid;
    }
    g_rw_lock_reader_lock(&s->rw);
    int ret = rw_clusters(bs, off, buf, NULL, bytes);
    g_rw_lock_reader_unlock(&s->rw);
    return ret;
}

int qcow2_co_pwrite(BlockDriverState *bs, int64_t off, const void *buf, int64_t bytes)
{
    BDRVQcow2State *s = bs->opaque;
    if ((uint64_t)off + bytes > s->size) {
        return -EIO;
    }
    g_rw_lock_writer_lock(&s->rw);
    if (s->corrupt) {
        g_rw_lock_writer_unlock(&s->rw);
        return -EIO;
    }
    int ret = rw_clusters(bs, off, NULL, buf, bytes);
    g_rw_lock_writer_unlock(&s->rw);
    return ret;
}

/*
 * Make whole clusters read as zeros (zero_flag, v3) or unallocated.
 * Allocated clusters we own keep their host cluster as "zero allocated".
 */
static int zero_cluster(BlockDriverState *bs, uint64_t off, bool unmap)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t l1_index = off >> (s->l2_bits + s->cluster_bits);
    if (l1_index >= s->l1_size || !(s->l1_table[l1_index] & L1E_OFFSET_MASK)) {
        if (unmap && (s->qcow_version < 3 || !bs->backing)) {
            return 0;       /* already unallocated, reads zeros */
        }
    }
    uint64_t l2_off, *l2;
    int ret = get_l2_table_for_write(bs, off, &l2_off, &l2);
    if (ret < 0) {
        return ret;
    }
    int i = offset_to_l2_index(s, off);
    uint64_t e = l2_entry_get(s, l2, i), bm = l2_bitmap_get(s, l2, i);
    Qcow2ClusterType t = qcow2_get_cluster_type(s, e);
    uint64_t new_e, new_bm = 0;
    bool free_old = false;
    bool keep = !unmap && (t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC) &&
                (e & QCOW_OFLAG_COPIED);
    if (s->qcow_version < 3) {
        if (bs->backing) {
            return -ENOTSUP;    /* caller writes real zeros */
        }
        new_e = 0;
        free_old = t != QCOW2_CLUSTER_UNALLOCATED;
    } else if (s->extended_l2) {
        new_e = keep ? e : 0;
        new_bm = 0xffffffff00000000ull;
        free_old = !keep && t != QCOW2_CLUSTER_UNALLOCATED;
    } else if (keep) {
        new_e = e | QCOW_OFLAG_ZERO;
    } else {
        new_e = (unmap && !bs->backing) ? 0 : QCOW_OFLAG_ZERO;
        free_old = t != QCOW2_CLUSTER_UNALLOCATED && t != QCOW2_CLUSTER_ZERO_PLAIN;
    }
    if (new_e == e && new_bm == bm) {
        return 0;
    }
    ret = write_l2_entry(bs, l2_off, i, new_e, new_bm);
    if (ret == 0 && free_old) {
        qcow2_free_l2_entry(bs, e);
    }
    return ret;
}

static int zero_range(BlockDriverState *bs, int64_t off, int64_t bytes, bool unmap,
                      bool partial_zeroes)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;
    if ((uint64_t)off + bytes > s->size) {
        return -EIO;
    }
    while (bytes > 0 && ret == 0) {
        uint64_t in = offset_into_cluster(s, off);
        uint64_t n = MIN((uint64_t)bytes, s->cluster_size - in);
        bool full = (in == 0 && n == s->cluster_size) ||
                    (in == 0 && (uint64_t)off + n == s->size);
        if (full) {
            ret = zero_cluster(bs, off, unmap);
        } else {
            ret = -ENOTSUP;
        }
        if (ret == -ENOTSUP) {
            ret = 0;
            if (partial_zeroes) {
                uint8_t *z = g_malloc0(n);
                ret = write_in_cluster(bs, off, z, n);
                g_free(z);
            }
        }
        off += n;
        bytes -= n;
    }
    return ret;
}

/* zero_range() under s->rw; -EIO on a corrupt image. */
static int zero_range_locked(BlockDriverState *bs, int64_t off, int64_t bytes, bool unmap,
                             bool partial_zeroes)
{
    BDRVQcow2State *s = bs->opaque;
    g_rw_lock_writer_lock(&s->rw);
    int ret = s->corrupt ? -EIO : zero_range(bs, off, bytes, unmap, partial_zeroes);
    g_rw_lock_writer_unlock(&s->rw);
    return ret;
}

int qcow2_co_pwrite_zeroes(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    return zero_range_locked(bs, off, bytes, false, true);
}

int qcow2_co_pdiscard(BlockDriverState *bs, int64_t off, int64_t bytes)
{
    return zero_range_locked(bs, off, bytes, true, false);
}

int qcow2_write_compressed(BlockDriverState *bs, int64_t off, const void *buf)
{
    BDRVQcow2State *s = bs->opaque;
    if (offset_into_cluster(s, off) || (uint64_t)off >= s->size) {
        return -EINVAL;
    }
    uint64_t n = MIN(s->cluster_size, s->size - off);
    uint8_t *full = NULL;
    if (n < s->cluster_size) {
        full = g_malloc0(s->cluster_size);
        memcpy(full, buf, n);
        buf = full;
    }
    size_t out_cap = s->cluster_size - 1;
    uint8_t *out = g_malloc(s->cluster_size + 64);
    size_t clen = compress_cluster(s, out, out_cap, buf, s->cluster_size);
    int ret;
    if (clen == 0 || clen >= s->cluster_size ||
        ((clen + 511) / 512) - 1 > s->csize_mask) {
        g_free(out);
        ret = qcow2_co_pwrite(bs, off, buf, n);
        g_free(full);
        return ret;
    }
    g_rw_lock_writer_lock(&s->rw);
    uint64_t l2_off, *l2;
    ret = get_l2_table_for_write(bs, off, &l2_off, &l2);
    if (ret < 0) {
        goto out;
    }
    int i = offset_to_l2_index(s, off);
    uint64_t old = l2_entry_get(s, l2, i);
    int64_t host = qcow2_alloc_bytes(bs, clen);
    if (host < 0) {
        ret = host;
        goto out;
    }
    ret = bdrv_pwrite(bs->file, host, out, clen);
    if (ret < 0) {
        goto out;
    }
    uint64_t nb = ((host + clen - 1) >> 9) - (host >> 9);
    uint64_t e = QCOW_OFLAG_COMPRESSED | (nb << s->csize_shift) | (uint64_t)host;
    ret = write_l2_entry(bs, l2_off, i, e, 0);
    if (ret == 0) {
        qcow2_free_l2_entry(bs, old);
    }
out:
    g_rw_lock_writer_unlock(&s->rw);
    g_free(out);
    g_free(full);
    return ret;
}

int qcow2_block_status(BlockDriverState *bs, int64_t off, int64_t bytes,
                       int64_t *pnum, int64_t *map)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t e, bm;
    *map = 0;
    if ((uint64_t)off >= s->size) {
        *pnum = bytes;
        return BDRV_BLOCK_ZERO;
    }
    bytes = MIN((uint64_t)bytes, s->size - off);
    g_rw_lock_reader_lock(&s->rw);
    int ret = qcow2_get_l2_entry(bs, off, &e, &bm);
    g_rw_lock_reader_unlock(&s->rw);
    if (ret < 0) {
        return ret;
    }
    uint64_t in = offset_into_cluster(s, off);
    int sc = (int)(in >> s->subcluster_bits);
    Qcow2SubclusterType t = qcow2_subcluster_type(s, e, bm, sc);
    uint64_t len = ((uint64_t)(sc + 1) << s->subcluster_bits) - in;
    while (sc + 1 < s->subclusters && qcow2_subcluster_type(s, e, bm, sc + 1) == t) {
        sc++;
        len += s->subcluster_size;
    }
    *pnum = MIN((uint64_t)bytes, len);
    uint64_t host = e & L2E_OFFSET_MASK;
    switch (t) {
    case QCOW2_SC_NORMAL:
        *map = host + in;
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;
    case QCOW2_SC_ZERO:
        if (host) {
            *map = host + in;
            return BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;
        }
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED;
    case QCOW2_SC_COMPRESSED:
        return BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_COMPRESSED;
    case QCOW2_SC_UNALLOCATED:
        if (host && qcow2_get_cluster_type(s, e) == QCOW2_CLUSTER_NORMAL) {
            /* unallocated subcluster of an allocated cluster, like QEMU */
            *map = host + in;
            return BDRV_BLOCK_OFFSET_VALID;
        }
        return 0;
    default:
        return -EIO;
    }
}

int64_t qcow2_preallocate(BlockDriverState *bs, uint64_t from, uint64_t to, bool zero_flag)
{
    BDRVQcow2State *s = bs->opaque;
    int64_t end = 0;
    int ret = 0;
    (void)zero_flag;
    g_rw_lock_writer_lock(&s->rw);
    uint64_t off = from & ~(s->cluster_size - 1);
    while (off < to && ret == 0) {
        uint64_t l2_off;
        ret = get_l2_for_write(bs, off, &l2_off);
        if (ret < 0) {
            break;
        }
        end = MAX(end, (int64_t)(l2_off + s->cluster_size));
        int first = offset_to_l2_index(s, off);
        uint64_t remaining = size_to_clusters(s, to - off);
        int count = (int)MIN((uint64_t)(s->l2_size - first), remaining);
        int64_t host = qcow2_alloc_clusters(bs, count);
        if (host < 0) {
            ret = (int)host;
            break;
        }
        uint64_t *l2;
        ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2);
        if (ret < 0) {
            break;
        }
        for (int i = 0; i < count; i++) {
            uint64_t e = l2_entry_get(s, l2, first + i);
            if (e & L2E_OFFSET_MASK) {
                /* already allocated: give the new cluster back */
                qcow2_free_clusters(bs, host + ((uint64_t)i << s->cluster_bits), 1);
                ret = qcow2_cache_get(bs, s->l2_cache, l2_off, (void **)&l2);
                if (ret < 0) {
                    break;
                }
                continue;
            }
            l2_entry_set(s, l2, first + i,
                         (host + ((uint64_t)i << s->cluster_bits)) | QCOW_OFLAG_COPIED);
            l2_bitmap_set(s, l2, first + i, 0xffffffffull);
        }
        if (ret < 0) {
            break;
        }
        ret = bdrv_pwrite(bs->file, l2_off + (uint64_t)first * s->l2_entry_size,
                          (uint8_t *)l2 + (uint64_t)first * s->l2_entry_size,
                          (uint64_t)count * s->l2_entry_size);
        end = MAX(end, host + ((int64_t)count << s->cluster_bits));
        off += (uint64_t)count << s->cluster_bits;
    }
    g_rw_lock_writer_unlock(&s->rw);
    return ret < 0 ? ret : end;
}
