/*
 * qcow2 format driver (QEMU docs/interop/qcow2.txt, versions 2 and 3):
 * probing, header and extension parsing with QEMU's validation messages,
 * open (dirty-image repair, autoclear bits, corrupt bit), create with
 * QEMU 7.2's layout, resize, flush, and the BlockDriver glue.
 * Locking: see qcow2.h; open/create/close are single-threaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "qcow2.h"
#include "util/cutils.h"
#include "util/module.h"

static const struct {
    uint8_t type, bit;
    const char *name;
} feature_names[] = {
    { 0, 0, "dirty bit" },
    { 0, 1, "corrupt bit" },
    { 0, 2, "external data file" },
    { 0, 3, "compression type" },
    { 0, 4, "extended L2 entries" },
    { 1, 0, "lazy refcounts" },
    { 2, 0, "bitmaps" },
    { 2, 1, "raw external data" },
};

static int qcow2_probe(const uint8_t *buf, int len, const char *filename)
{
    (void)filename;
    if (len >= 8 && ldl_be_p(buf) == QCOW_MAGIC && ldl_be_p(buf + 4) >= 2) {
        return 100;
    }
    return 0;
}

static bool valid_table(BDRVQcow2State *s, uint64_t off, uint64_t entries, uint64_t esize)
{
    if (entries > INT64_MAX / esize) {
        return false;
    }
    uint64_t bytes = entries * esize;
    if (offset_into_cluster(s, off)) {
        return false;
    }
    if (off > INT64_MAX - bytes || off + bytes > L2E_OFFSET_MASK + 1) {
        return false;
    }
    return true;
}

int qcow2_parse_header(BDRVQcow2State *s, const uint8_t *buf, size_t len,
                       int64_t file_size, Error **errp)
{
    (void)file_size;
    if (len < QCOW2_V2_HEADER_LEN || ldl_be_p(buf) != QCOW_MAGIC) {
        error_setg(errp, "Image is not in qcow2 format");
        return -EINVAL;
    }
    s->qcow_version = ldl_be_p(buf + 4);
    if (s->qcow_version < 2 || s->qcow_version > 3) {
        error_setg(errp, "Unsupported qcow2 version %d", s->qcow_version);
        return -ENOTSUP;
    }
    s->cluster_bits = ldl_be_p(buf + 20);
    if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS || s->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        error_setg(errp, "Unsupported cluster size: 2^%" PRIu32, (uint32_t)s->cluster_bits);
        return -EINVAL;
    }
    s->cluster_size = 1ull << s->cluster_bits;
    if (s->qcow_version == 2) {
        s->header_length = QCOW2_V2_HEADER_LEN;
        s->refcount_order = 4;
    } else {
        if (len < QCOW2_V3_HEADER_LEN) {
            error_setg(errp, "qcow2 header too short");
            return -EINVAL;
        }
        s->incompatible_features = ldq_be_p(buf + 72);
        s->compatible_features = ldq_be_p(buf + 80);
        s->autoclear_features = ldq_be_p(buf + 88);
        uint32_t order = ldl_be_p(buf + 96);
        s->refcount_order = order > 6 ? 7 : (int)order;
        s->header_length = ldl_be_p(buf + 100);
        if (s->header_length < QCOW2_V3_HEADER_LEN) {
            error_setg(errp, "qcow2 header too short");
            return -EINVAL;
        }
        if (s->header_length > s->cluster_size) {
            error_setg(errp, "qcow2 header exceeds cluster size");
            return -EINVAL;
        }
    }
    uint64_t backing_off = ldq_be_p(buf + 8);
    if (backing_off > s->cluster_size) {
        error_setg(errp, "Invalid backing file offset");
        return -EINVAL;
    }
    if (s->incompatible_features & ~QCOW2_INCOMPAT_KNOWN & ~QCOW2_INCOMPAT_DATA_FILE) {
        uint64_t unk = s->incompatible_features & ~QCOW2_INCOMPAT_KNOWN & ~QCOW2_INCOMPAT_DATA_FILE;
        error_setg(errp, "Unsupported qcow2 feature(s): Unknown incompatible feature: %" PRIx64,
                   unk);
        return -ENOTSUP;
    }
    if (s->refcount_order > 6) {
        error_setg(errp, "Reference count entry width too large; may not exceed 64 bits");
        return -EINVAL;
    }
    s->compression_type = QCOW2_COMPRESSION_ZLIB;
    if (s->header_length > 104 && len > 104) {
        s->compression_type = buf[104];
    }
    if (s->compression_type > QCOW2_COMPRESSION_ZSTD) {
        error_setg(errp, "qcow2: unknown compression type: %u", s->compression_type);
        return -ENOTSUP;
    }
    if (s->compression_type == QCOW2_COMPRESSION_ZLIB &&
        (s->incompatible_features & QCOW2_INCOMPAT_COMPRESSION)) {
        error_setg(errp, "qcow2: Compression type incompatible feature bit must not be set");
        return -EINVAL;
    }
    if (s->compression_type != QCOW2_COMPRESSION_ZLIB &&
        !(s->incompatible_features & QCOW2_INCOMPAT_COMPRESSION)) {
        error_setg(errp, "qcow2: Compression type incompatible feature bit must be set");
        return -EINVAL;
    }
    s->crypt_method = ldl_be_p(buf + 32);
    if (s->crypt_method > 2) {
        error_setg(errp, "Unsupported encryption method %" PRIu32, s->crypt_method);
        return -EINVAL;
    }
    s->extended_l2 = !!(s->incompatible_features & QCOW2_INCOMPAT_EXTL2);
    if (s->extended_l2 && s->cluster_bits < 14) {
        error_setg(errp, "Extended L2 entries are only supported with cluster sizes of "
                   "at least 16384 bytes");
        return -EINVAL;
    }
    s->l2_entry_size = s->extended_l2 ? 16 : 8;
    s->subclusters = s->extended_l2 ? 32 : 1;
    s->subcluster_bits = s->cluster_bits - (s->extended_l2 ? 5 : 0);
    s->subcluster_size = 1ull << s->subcluster_bits;
    s->l2_bits = s->cluster_bits - (s->extended_l2 ? 4 : 3);
    s->l2_size = 1 << s->l2_bits;
    s->csize_shift = 62 - (s->cluster_bits - 8);
    s->csize_mask = (1ull << (s->cluster_bits - 8)) - 1;
    s->cluster_offset_mask = (1ull << s->csize_shift) - 1;

    s->size = ldq_be_p(buf + 24);
    uint64_t l1_vm_state_index = l1_min_size(s, s->size);
    if (s->size > INT64_MAX || l1_vm_state_index > INT32_MAX) {
        error_setg(errp, "Image is too big");
        return -EFBIG;
    }
    s->l1_size = ldl_be_p(buf + 36);
    s->l1_table_offset = ldq_be_p(buf + 40);
    s->refcount_table_offset = ldq_be_p(buf + 48);
    uint32_t rt_clusters = ldl_be_p(buf + 56);
    s->nb_snapshots = ldl_be_p(buf + 60);
    s->snapshots_offset = ldq_be_p(buf + 64);

    if (rt_clusters == 0) {
        error_setg(errp, "Image does not contain a reference count table");
        return -EINVAL;
    }
    if ((uint64_t)rt_clusters << s->cluster_bits > QCOW2_MAX_REFTABLE_SIZE) {
        error_setg(errp, "Reference count table too large");
        return -EINVAL;
    }
    s->refcount_table_size = (uint32_t)(((uint64_t)rt_clusters << s->cluster_bits) / 8);
    if (!valid_table(s, s->refcount_table_offset, s->refcount_table_size, 8)) {
        error_setg(errp, "Reference count table offset invalid");
        return -EINVAL;
    }
    if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        error_setg(errp, "Snapshot table too large");
        return -EINVAL;
    }
    if (!valid_table(s, s->snapshots_offset, s->nb_snapshots, 40)) {
        error_setg(errp, "Snapshot table offset invalid");
        return -EINVAL;
    }
    if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_SIZE) {
        error_setg(errp, "Active L1 table too large");
        return -EFBIG;
    }
    if (s->l1_size < l1_vm_state_index) {
        error_setg(errp, "L1 table is too small");
        return -EINVAL;
    }
    if (s->l1_size && !valid_table(s, s->l1_table_offset, s->l1_size, 8)) {
        error_setg(errp, "Active L1 table offset invalid");
        return -EINVAL;
    }
    return 0;
}

/* Header extensions between header_length and the backing name / cluster end. */
static int read_extensions(BlockDriverState *bs, const uint8_t *c0, uint64_t end,
                           Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off = s->header_length;
    while (off < end) {
        if (end - off < 8) {
            error_setg(errp, "Header extension too large");
            return -EINVAL;
        }
        uint32_t type = ldl_be_p(c0 + off);
        uint32_t len = ldl_be_p(c0 + off + 4);
        off += 8;
        if (len > end - off) {
            error_setg(errp, "Header extension too large");
            return -EINVAL;
        }
        const uint8_t *data = c0 + off;
        switch (type) {
        case QCOW2_EXT_END:
            return 0;
        case QCOW2_EXT_BACKING_FMT:
            if (len >= sizeof(bs->backing_format)) {
                error_setg(errp, "ERROR: ext_backing_format: len=%" PRIu32 " too large (>=%zu)",
                           len, sizeof(bs->backing_format));
                return -EINVAL;
            }
            memcpy(bs->backing_format, data, len);
            bs->backing_format[len] = 0;
            s->has_backing_fmt_ext = true;
            break;
        case QCOW2_EXT_FEATURE_TBL:
            s->has_feature_table = true;
            break;
        case QCOW2_EXT_CRYPTO:
        case QCOW2_EXT_DATA_FILE:
        case QCOW2_EXT_BITMAPS:
        default:
            if (s->nb_unknown_exts < 64) {
                s->unknown_exts = g_renew(Qcow2UnknownExt, s->unknown_exts,
                                          s->nb_unknown_exts + 1);
                Qcow2UnknownExt *e = &s->unknown_exts[s->nb_unknown_exts++];
                e->type = type;
                e->len = len;
                e->data = g_memdup2(data, len);
            }
            break;
        }
        off += ROUND_UP((uint64_t)len, 8);
    }
    return 0;
}

void qcow2_signal_corruption(BlockDriverState *bs, const char *fmt, ...)
{
    BDRVQcow2State *s = bs->opaque;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (s->corrupt) {
        return;
    }
    s->corrupt = true;
    if (bs->read_only || s->qcow_version < 3) {
        fprintf(stderr, "%s: qcow2: Image is corrupt: %s; further non-fatal corruption "
                "events will be suppressed\n", error_get_progname(), msg);
        return;
    }
    fprintf(stderr, "%s: qcow2: Marking image as corrupt: %s; further corruption events "
            "will be suppressed\n", error_get_progname(), msg);
    uint8_t be[8];
    s->incompatible_features |= QCOW2_INCOMPAT_CORRUPT;
    stq_be_p(be, s->incompatible_features);
    bdrv_pwrite(bs->file, 72, be, 8);
    bdrv_flush(bs->file);
    bs->read_only = true;
}

bool qcow2_offset_near_file(BlockDriverState *bs, uint64_t off)
{
    BDRVQcow2State *s = bs->opaque;
    if (off <= s->known_file_len + QCOW2_MAX_BEYOND_EOF) {
        return true;
    }
    int64_t flen = bdrv_getlength(bs->file);
    if (flen > 0 && (uint64_t)flen > s->known_file_len) {
        s->known_file_len = flen;
    }
    return off <= s->known_file_len + QCOW2_MAX_BEYOND_EOF;
}

bool qcow2_write_offset_ok(BlockDriverState *bs, uint64_t off, const char *what)
{
    if (!qcow2_offset_near_file(bs, off)) {
        qcow2_signal_corruption(bs, "%s at %#" PRIx64 " beyond the end of the image",
                                what, off);
        return false;
    }
    return true;
}

int qcow2_write_l1_entries(BlockDriverState *bs, int first, int count)
{
    BDRVQcow2State *s = bs->opaque;
    if (!qcow2_write_offset_ok(bs, s->l1_table_offset, "L1 table")) {
        return -EIO;
    }
    uint64_t *buf = g_new(uint64_t, count);
    for (int i = 0; i < count; i++) {
        buf[i] = __builtin_bswap64(s->l1_table[first + i]);
    }
    int ret = bdrv_pwrite(bs->file, s->l1_table_offset + (uint64_t)first * 8, buf,
                          (int64_t)count * 8);
    g_free(buf);
    return ret;
}

int qcow2_grow_l1_table(BlockDriverState *bs, uint64_t min_size)
{
    BDRVQcow2State *s = bs->opaque;
    if (min_size <= s->l1_size) {
        return 0;
    }
    if (min_size * 8 > QCOW2_MAX_L1_SIZE) {
        return -EFBIG;
    }
    uint64_t bytes = min_size * 8;
    int64_t new_off = qcow2_alloc_clusters(bs, size_to_clusters(s, bytes));
    if (new_off < 0) {
        return new_off;
    }
    uint64_t *nt = g_new0(uint64_t, min_size);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        nt[i] = __builtin_bswap64(s->l1_table[i]);
    }
    int ret = bdrv_pwrite(bs->file, new_off, nt, bytes);
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    if (ret < 0) {
        g_free(nt);
        qcow2_free_clusters(bs, new_off, bytes);
        return ret;
    }
    uint8_t hdr[12];
    stl_be_p(hdr, (uint32_t)min_size);
    stq_be_p(hdr + 4, new_off);
    ret = bdrv_pwrite(bs->file, 36, hdr, sizeof(hdr));
    if (ret < 0) {
        g_free(nt);
        qcow2_free_clusters(bs, new_off, bytes);
        return ret;
    }
    for (uint64_t i = 0; i < min_size; i++) {
        nt[i] = __builtin_bswap64(nt[i]);
    }
    uint64_t old_off = s->l1_table_offset, old_bytes = (uint64_t)s->l1_size * 8;
    g_free(s->l1_table);
    s->l1_table = nt;
    s->l1_size = min_size;
    s->l1_table_offset = new_off;
    if (old_bytes) {
        qcow2_free_clusters(bs, old_off, old_bytes);
    }
    return 0;
}

static int repair_dirty(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    Qcow2CheckResult res;
    int ret = qcow2_check(bs, &res, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, true);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not repair dirty image");
        return ret;
    }
    s->incompatible_features &= ~QCOW2_INCOMPAT_DIRTY;
    s->dirty_set = false;
    uint8_t be[8];
    stq_be_p(be, s->incompatible_features);
    ret = bdrv_flush(bs->file);
    if (ret == 0) {
        ret = bdrv_pwrite(bs->file, 72, be, 8);
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not update qcow2 header");
    }
    return ret;
}

static void qcow2_free_state(BDRVQcow2State *s)
{
    qcow2_cache_free(s->l2_cache);
    qcow2_cache_free(s->refblock_cache);
    s->l2_cache = s->refblock_cache = NULL;
    g_free(s->l1_table);
    g_free(s->refcount_table);
    g_free(s->extra_header);
    s->l1_table = NULL;
    s->refcount_table = NULL;
    s->extra_header = NULL;
    for (int i = 0; i < s->nb_unknown_exts; i++) {
        g_free(s->unknown_exts[i].data);
    }
    g_free(s->unknown_exts);
    s->unknown_exts = NULL;
    qcow2_free_snapshots(s);
}

static int qcow2_open(BlockDriverState *bs, KVDict *opts, int flags, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;
    (void)opts;
    g_rw_lock_init(&s->rw);
    g_mutex_init(&s->meta);

    uint8_t hdr[QCOW2_V3_HEADER_LEN + 8] = { 0 };
    int64_t file_size = bdrv_getlength(bs->file);
    if (file_size < 0) {
        error_setg_errno(errp, (int)-file_size, "Could not get the image size");
        return (int)file_size;
    }
    ret = bdrv_pread(bs->file, 0, hdr, sizeof(hdr));
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read qcow2 header");
        return ret;
    }
    ret = qcow2_parse_header(s, hdr, sizeof(hdr), file_size, errp);
    if (ret < 0) {
        return ret;
    }
    if (s->crypt_method) {
        error_setg(errp, s->crypt_method == 1
                   ? "Use of AES-CBC encrypted qcow2 images is no longer supported in "
                     "system emulators"
                   : "Parameter 'encrypt.key-secret' is required for cipher");
        return -ENOTSUP;
    }
    if ((s->incompatible_features & QCOW2_INCOMPAT_DATA_FILE) && !(flags & BDRV_O_NO_IO)) {
        error_setg(errp, "'data-file' is required for this image");
        return -ENOTSUP;
    }
    if ((s->incompatible_features & QCOW2_INCOMPAT_CORRUPT) && (flags & BDRV_O_RDWR) &&
        !(flags & BDRV_O_CHECK)) {
        error_setg(errp, "qcow2: Image is corrupt; cannot be opened read/write");
        error_append_hint(errp, "Please repair it with qemu-img check -r all\n");
        return -EACCES;
    }

    /* cluster 0: extensions and backing file name */
    uint8_t *c0 = g_malloc0(s->cluster_size);
    ret = bdrv_pread(bs->file, 0, c0, s->cluster_size);
    if (ret < 0) {
        g_free(c0);
        error_setg_errno(errp, -ret, "Could not read qcow2 header");
        return ret;
    }
    if (s->header_length > QCOW2_V3_HEADER_LEN) {
        s->extra_header = g_memdup2(c0 + QCOW2_V3_HEADER_LEN,
                                    s->header_length - QCOW2_V3_HEADER_LEN);
    }
    uint64_t backing_off = ldq_be_p(c0 + 8);
    uint32_t backing_len = ldl_be_p(c0 + 16);
    uint64_t ext_end = backing_off ? backing_off : s->cluster_size;
    ret = read_extensions(bs, c0, ext_end, errp);
    if (ret == 0 && backing_off) {
        if (backing_len > QCOW2_MAX_BACKING_NAME || backing_len >= sizeof(bs->backing_file)) {
            error_setg(errp, "Backing file name too long");
            ret = -EINVAL;
        } else if (backing_off + backing_len > s->cluster_size) {
            error_setg(errp, "Invalid backing file offset");
            ret = -EINVAL;
        } else {
            memcpy(bs->backing_file, c0 + backing_off, backing_len);
            bs->backing_file[backing_len] = 0;
            if (backing_len && memchr(bs->backing_file, 0, backing_len)) {
                bs->backing_file[0] = 0;
            }
        }
    }
    g_free(c0);
    if (ret < 0) {
        goto fail;
    }

    int slots = MAX(16, (int)(MiB / s->cluster_size));
    s->l2_cache = qcow2_cache_new(MIN(slots, 256), s->cluster_size);
    s->refblock_cache = qcow2_cache_new(MIN(slots, 64), s->cluster_size);
    ret = qcow2_refcount_init(bs);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not initialize refcount handling");
        goto fail;
    }
    s->l1_table = g_try_new0(uint64_t, MAX(s->l1_size, 1));
    if (!s->l1_table) {
        ret = -ENOMEM;
        error_setg(errp, "Could not allocate L1 table");
        goto fail;
    }
    if (s->l1_size) {
        ret = bdrv_pread(bs->file, s->l1_table_offset, s->l1_table, (int64_t)s->l1_size * 8);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not read L1 table");
            goto fail;
        }
        for (uint32_t i = 0; i < s->l1_size; i++) {
            s->l1_table[i] = __builtin_bswap64(s->l1_table[i]);
        }
    }
    ret = qcow2_read_snapshots(bs, errp);
    if (ret < 0) {
        goto fail;
    }
    if (bs->backing_file[0] == 0 && backing_off == 0) {
        bs->backing_format[0] = 0;
    }

    if ((flags & BDRV_O_RDWR) && !(flags & BDRV_O_CHECK)) {
        if (s->incompatible_features & QCOW2_INCOMPAT_DIRTY) {
            ret = repair_dirty(bs, errp);
            if (ret < 0) {
                goto fail;
            }
        }
        if (s->autoclear_features) {
            uint8_t be[8] = { 0 };
            s->autoclear_features = 0;
            ret = bdrv_pwrite(bs->file, 88, be, 8);
            if (ret < 0) {
                error_setg_errno(errp, -ret, "Could not update qcow2 header");
                goto fail;
            }
        }
    }
    return 0;
fail:
    qcow2_free_state(s);
    return ret;
}

static int qcow2_flush(BlockDriverState *bs);

static void qcow2_close(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    if (!bs->read_only) {
        qcow2_flush(bs);
        bdrv_flush(bs->file);
    }
    qcow2_free_state(s);
    g_rw_lock_clear(&s->rw);
    g_mutex_clear(&s->meta);
}

static int64_t qcow2_getlength(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    return s->size;
}

/*
 * Power-loss safety (v3): refcount updates are written before the L2/L1
 * entries that depend on them, but without a flush in between. So before
 * the first refcount change after a flush we set the dirty bit and make it
 * durable; a power cut then leaves a dirty image whose refcounts are
 * rebuilt on the next read-write open (by kemu and by QEMU). A flush makes
 * everything durable and clears the bit again (lazily: it is written now
 * and reaches the disk with the next flush).
 */
int qcow2_mark_dirty(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    if (s->dirty_set || s->qcow_version < 3 || bs->read_only ||
        (bs->open_flags & BDRV_O_NO_FLUSH)) {
        return 0;
    }
    uint8_t be[8];
    stq_be_p(be, s->incompatible_features | QCOW2_INCOMPAT_DIRTY);
    int ret = bdrv_pwrite(bs->file, 72, be, 8);
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    if (ret == 0) {
        s->incompatible_features |= QCOW2_INCOMPAT_DIRTY;
        s->dirty_set = true;
    }
    return ret;
}

static int qcow2_flush(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    g_rw_lock_writer_lock(&s->rw);
    int ret = bdrv_flush(bs->file);
    if (ret == 0 && s->dirty_set) {
        uint8_t be[8];
        s->incompatible_features &= ~QCOW2_INCOMPAT_DIRTY;
        s->dirty_set = false;
        stq_be_p(be, s->incompatible_features);
        ret = bdrv_pwrite(bs->file, 72, be, 8);
    }
    g_rw_lock_writer_unlock(&s->rw);
    return ret;
}

static int qcow2_truncate(BlockDriverState *bs, int64_t size, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret = 0;
    if (size < 0 || l1_min_size(s, size) > INT32_MAX) {
        error_setg(errp, "Image is too big");
        return -EFBIG;
    }
    g_rw_lock_writer_lock(&s->rw);
    if ((uint64_t)size < s->size) {
        if (s->nb_snapshots) {
            error_setg(errp, "Can't resize an image which has snapshots");
            ret = -ENOTSUP;
            goto out;
        }
        g_rw_lock_writer_unlock(&s->rw);
        ret = qcow2_co_pdiscard(bs, ROUND_UP((uint64_t)size, s->cluster_size),
                                s->size - ROUND_UP((uint64_t)size, s->cluster_size));
        g_rw_lock_writer_lock(&s->rw);
        if (ret < 0 && ret != -ENOTSUP) {
            error_setg_errno(errp, -ret, "Failed to discard cropped clusters");
            goto out;
        }
        ret = 0;
    } else {
        ret = qcow2_grow_l1_table(bs, l1_min_size(s, size));
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Failed to grow the L1 table");
            goto out;
        }
    }
    uint8_t be[8];
    stq_be_p(be, size);
    ret = bdrv_pwrite(bs->file, 24, be, 8);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to update the image size");
        goto out;
    }
    s->size = size;
out:
    g_rw_lock_writer_unlock(&s->rw);
    return ret;
}

static int64_t qcow2_allocated_size(BlockDriverState *bs)
{
    return bdrv_get_allocated_file_size(bs->file);
}

/* ---- create ---- */

static uint8_t *build_header(BDRVQcow2State *s, const char *backing, const char *backing_fmt,
                             size_t *out_len, Error **errp)
{
    uint8_t *c0 = g_malloc0(s->cluster_size);
    stl_be_p(c0, QCOW_MAGIC);
    stl_be_p(c0 + 4, s->qcow_version);
    stl_be_p(c0 + 20, s->cluster_bits);
    stq_be_p(c0 + 24, s->size);
    stl_be_p(c0 + 36, s->l1_size);
    stq_be_p(c0 + 40, s->l1_table_offset);
    stq_be_p(c0 + 48, s->refcount_table_offset);
    stl_be_p(c0 + 56, (uint32_t)(((uint64_t)s->refcount_table_size * 8) >> s->cluster_bits));
    uint64_t off;
    if (s->qcow_version >= 3) {
        stq_be_p(c0 + 72, s->incompatible_features);
        stq_be_p(c0 + 80, s->compatible_features);
        stq_be_p(c0 + 88, s->autoclear_features);
        stl_be_p(c0 + 96, s->refcount_order);
        stl_be_p(c0 + 100, QCOW2_HEADER_LEN_WRITTEN);
        c0[104] = s->compression_type;
        off = QCOW2_HEADER_LEN_WRITTEN;
    } else {
        off = QCOW2_V2_HEADER_LEN;
    }
    size_t name_len = backing ? strlen(backing) : 0;
    size_t fmt_len = backing_fmt ? strlen(backing_fmt) : 0;
    size_t ft_len = ARRAY_SIZE(feature_names) * 48;
    size_t need = off + (fmt_len ? 8 + ROUND_UP(fmt_len, 8) : 0) + 8 + name_len;
    /* like QEMU 7.2: no feature name table with clusters below 8 KiB */
    bool with_ft = s->qcow_version >= 3 && s->cluster_size >= 8192 &&
                   need + 8 + ft_len <= s->cluster_size;
    if (need > s->cluster_size) {
        error_setg(errp, "Header extensions and backing file name do not fit in the "
                   "first cluster");
        g_free(c0);
        return NULL;
    }
    if (fmt_len) {
        stl_be_p(c0 + off, QCOW2_EXT_BACKING_FMT);
        stl_be_p(c0 + off + 4, fmt_len);
        memcpy(c0 + off + 8, backing_fmt, fmt_len);
        off += 8 + ROUND_UP(fmt_len, 8);
    }
    if (with_ft) {
        stl_be_p(c0 + off, QCOW2_EXT_FEATURE_TBL);
        stl_be_p(c0 + off + 4, ft_len);
        for (size_t i = 0; i < ARRAY_SIZE(feature_names); i++) {
            uint8_t *e = c0 + off + 8 + i * 48;
            e[0] = feature_names[i].type;
            e[1] = feature_names[i].bit;
            strncpy((char *)e + 2, feature_names[i].name, 46);
        }
        off += 8 + ft_len;
    }
    off += 8;   /* end-of-extensions marker (zeros) */
    if (name_len) {
        stq_be_p(c0 + 8, off);
        stl_be_p(c0 + 16, name_len);
        memcpy(c0 + off, backing, name_len);
        off += name_len;
    }
    *out_len = off;
    return c0;
}

static int parse_create_opts(BDRVQcow2State *s, KVDict *opts, Error **errp)
{
    uint64_t v;
    const char *str;
    if (!kv_get_size(opts, "size", 0, &s->size, errp)) {
        return -EINVAL;
    }
    if (!kv_get_size(opts, "cluster_size", 65536, &v, errp)) {
        return -EINVAL;
    }
    if (v < 512 || v > 2 * MiB || (v & (v - 1))) {
        error_setg(errp, "Cluster size must be a power of two between 512 and 2048k");
        return -EINVAL;
    }
    s->cluster_bits = __builtin_ctzll(v);
    s->qcow_version = 3;
    str = kv_get(opts, "compat");
    if (str) {
        if (!strcmp(str, "0.10") || !strcmp(str, "v2")) {
            s->qcow_version = 2;
        } else if (strcmp(str, "1.1") && strcmp(str, "v3")) {
            error_setg(errp, "Parameter 'version' does not accept value '%s'", str);
            return -EINVAL;
        }
    }
    if (!kv_get_uint(opts, "refcount_bits", 16, &v, errp)) {
        return -EINVAL;
    }
    if (v > 64 || v == 0 || (v & (v - 1))) {
        error_setg(errp, "Refcount width must be a power of two and may not exceed 64 bits");
        return -EINVAL;
    }
    if (s->qcow_version < 3 && v != 16) {
        error_setg(errp, "Different refcount widths than 16 bits require compatibility "
                   "level 1.1 or above (use version=v3 or greater)");
        return -EINVAL;
    }
    s->refcount_order = __builtin_ctzll(v);
    bool b;
    if (!kv_get_bool(opts, "lazy_refcounts", false, &b, errp)) {
        return -EINVAL;
    }
    if (b) {
        if (s->qcow_version < 3) {
            error_setg(errp, "Lazy refcounts only supported with compatibility level 1.1 "
                       "and above (use version=v3 or greater)");
            return -EINVAL;
        }
        s->compatible_features |= QCOW2_COMPAT_LAZY_REFCOUNTS;
    }
    if (!kv_get_bool(opts, "extended_l2", false, &b, errp)) {
        return -EINVAL;
    }
    if (b) {
        if (s->qcow_version < 3) {
            error_setg(errp, "Extended L2 entries are only supported with compatibility "
                       "level 1.1 and above (use version=v3 or greater)");
            return -EINVAL;
        }
        if (s->cluster_bits < 14) {
            error_setg(errp, "Extended L2 entries are only supported with cluster sizes "
                       "of at least 16384 bytes");
            return -EINVAL;
        }
        s->incompatible_features |= QCOW2_INCOMPAT_EXTL2;
    }
    str = kv_get(opts, "compression_type");
    if (str && strcmp(str, "zlib")) {
        if (strcmp(str, "zstd")) {
            error_setg(errp, "Parameter 'compression-type' does not accept value '%s'", str);
            return -EINVAL;
        }
        if (s->qcow_version < 3) {
            error_setg(errp, "Non-zlib compression type is only supported with compatibility "
                       "level 1.1 and above (use version=v3 or greater)");
            return -EINVAL;
        }
        s->compression_type = QCOW2_COMPRESSION_ZSTD;
        s->incompatible_features |= QCOW2_INCOMPAT_COMPRESSION;
    }
    if (kv_peek(opts, "encryption") || kv_peek(opts, "encrypt.format")) {
        error_setg(errp, "Encryption is not supported by kemu");
        return -ENOTSUP;
    }
    if (kv_peek(opts, "data_file")) {
        error_setg(errp, "External data files are not supported by kemu");
        return -ENOTSUP;
    }
    kv_get(opts, "backing_file");
    kv_get(opts, "backing_fmt");
    kv_get(opts, "preallocation");
    return kv_check_all_used(opts, errp) ? 0 : -EINVAL;
}

static int qcow2_create(const char *filename, KVDict *opts, Error **errp)
{
    BDRVQcow2State st = { 0 };
    BDRVQcow2State *s = &st;
    int ret = parse_create_opts(s, opts, errp);
    if (ret < 0) {
        return ret;
    }
    const char *backing = kv_get(opts, "backing_file");
    const char *backing_fmt = kv_get(opts, "backing_fmt");
    const char *prealloc = kv_get(opts, "preallocation");
    if (prealloc && strcmp(prealloc, "off") && strcmp(prealloc, "metadata") &&
        strcmp(prealloc, "falloc") && strcmp(prealloc, "full")) {
        error_setg(errp, "Parameter 'preallocation' does not accept value '%s'", prealloc);
        return -EINVAL;
    }
    if (backing && prealloc && strcmp(prealloc, "off")) {
        error_setg(errp, "Backing file and preallocation can only be used at the same "
                   "time if extended_l2 is on");
        if (!(s->incompatible_features & QCOW2_INCOMPAT_EXTL2)) {
            return -EINVAL;
        }
        error_free(*errp);
        *errp = NULL;
    }
    if (backing_fmt && !backing) {
        error_setg(errp, "Backing format cannot be used without backing file");
        return -EINVAL;
    }
    uint64_t cs = 1ull << s->cluster_bits;
    s->cluster_size = cs;
    s->l1_size = 0;
    s->l1_table_offset = 0;
    s->refcount_table_offset = cs;
    s->refcount_table_size = cs / 8;
    uint64_t user_size = s->size;
    s->size = 0;
    size_t hlen;
    uint8_t *c0 = build_header(s, backing, backing_fmt, &hlen, errp);
    if (!c0) {
        return -EINVAL;
    }
    KVDict *fopts = kv_new();
    kv_set(fopts, "size", "0");
    ret = bdrv_create("file", filename, fopts, errp);
    kv_free(fopts);
    if (ret < 0) {
        g_free(c0);
        return ret;
    }
    Error *local = NULL;
    BlockDriverState *file = bdrv_open_protocol(filename, "file", NULL, BDRV_O_RDWR, &local);
    if (!file) {
        error_propagate(errp, local);
        g_free(c0);
        return -EIO;
    }
    /* cluster 0 header, 1 refcount table, 2 refcount block (refcounts of 0-2) */
    uint8_t *buf = g_malloc0(cs * 2);
    stq_be_p(buf, 2 * cs);
    for (int i = 0; i < 3; i++) {
        qcow2_refcount_set(buf + cs, i, 1, s->refcount_order);
    }
    (void)hlen;
    ret = bdrv_pwrite(file, 0, c0, cs);
    if (ret == 0) {
        ret = bdrv_pwrite(file, cs, buf, 2 * cs);
    }
    g_free(buf);
    g_free(c0);
    bdrv_unref(file);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not write qcow2 header");
        return ret;
    }

    /* Reopen as qcow2 and grow to the requested size. */
    BlockDriverState *bs = bdrv_open(filename, "qcow2", NULL,
                                     BDRV_O_RDWR | BDRV_O_NO_BACKING, &local);
    if (!bs) {
        error_propagate(errp, local);
        return -EIO;
    }
    ret = bdrv_truncate(bs, user_size, &local);
    if (ret < 0) {
        error_propagate(errp, local);
        bdrv_unref(bs);
        return ret;
    }
    if (prealloc && strcmp(prealloc, "off")) {
        int64_t end = qcow2_preallocate(bs, 0, user_size, false);
        ret = end < 0 ? (int)end : 0;
        if (ret == 0 && end > bdrv_getlength(bs->file)) {
            /* like QEMU: the file covers every preallocated cluster */
            int64_t old_len = bdrv_getlength(bs->file);
            ret = bdrv_truncate(bs->file, end, &local);
            if (ret < 0) {
                error_free(local);
                local = NULL;
            } else if (strcmp(prealloc, "metadata")) {
                ret = bdrv_pwrite_zeroes(bs->file, old_len, end - old_len);
            }
        }
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not preallocate metadata");
        }
    }
    if (ret == 0) {
        ret = bdrv_flush(bs);
    }
    bdrv_unref(bs);
    return ret;
}

static int qcow2_block_status_drv(BlockDriverState *bs, int64_t off, int64_t bytes,
                                  int64_t *pnum, int64_t *map)
{
    return qcow2_block_status(bs, off, bytes, pnum, map);
}

static const BlockDriver bdrv_qcow2 = {
    .format_name = "qcow2",
    .instance_size = sizeof(BDRVQcow2State),
    .is_format = true,
    .probe = qcow2_probe,
    .open = qcow2_open,
    .close = qcow2_close,
    .getlength = qcow2_getlength,
    .pread = qcow2_co_pread,
    .pwrite = qcow2_co_pwrite,
    .flush = qcow2_flush,
    .pwrite_zeroes = qcow2_co_pwrite_zeroes,
    .pdiscard = qcow2_co_pdiscard,
    .truncate = qcow2_truncate,
    .block_status = qcow2_block_status_drv,
    .allocated_size = qcow2_allocated_size,
    .create = qcow2_create,
};

MODULE_INIT(qcow2_register)
{
    bdrv_register(&bdrv_qcow2);
}
