/*
 * qcow2 internal snapshots (qcow2.txt "Snapshots"): parse the snapshot table
 * (variable-size entries, extra data kept), and create/delete/apply disk
 * snapshots the way qemu-img does. A new table is written to new clusters
 * and switched in with one header write; refcount changes of the L1 trees
 * are ordered so a crash leaks clusters at worst.
 * Locking: callers are single-threaded tools or hold s->rw exclusively.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include "qcow2.h"
#include "util/cutils.h"

#define MAX_SNAPSHOT_TABLE_BYTES (64 * MiB)

void qcow2_free_snapshots(BDRVQcow2State *s)
{
    for (uint32_t i = 0; s->snapshots && i < s->nb_snapshots; i++) {
        g_free(s->snapshots[i].id_str);
        g_free(s->snapshots[i].name);
        g_free(s->snapshots[i].unknown_extra);
    }
    g_free(s->snapshots);
    s->snapshots = NULL;
}

int qcow2_read_snapshots(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t off = s->snapshots_offset;
    int64_t file_len = bdrv_getlength(bs->file);
    s->snapshots = g_new0(QCowSnapshot, MAX(s->nb_snapshots, 1));
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        uint8_t h[40];
        QCowSnapshot *sn = &s->snapshots[i];
        uint64_t entry_start = off;
        if (off - s->snapshots_offset > MAX_SNAPSHOT_TABLE_BYTES) {
            error_setg(errp, "Snapshot table too large");
            goto fail;
        }
        int ret = bdrv_pread(bs->file, off, h, sizeof(h));
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Failed to read snapshot table");
            goto fail;
        }
        off += sizeof(h);
        sn->l1_table_offset = ldq_be_p(h);
        sn->l1_size = ldl_be_p(h + 8);
        uint16_t id_len = lduw_be_p(h + 12);
        uint16_t name_len = lduw_be_p(h + 14);
        sn->date_sec = ldl_be_p(h + 16);
        sn->date_nsec = ldl_be_p(h + 20);
        sn->vm_clock_nsec = ldq_be_p(h + 24);
        sn->vm_state_size = ldl_be_p(h + 32);
        sn->extra_data_size = ldl_be_p(h + 36);
        sn->icount = UINT64_MAX;
        sn->disk_size = s->size;
        if (sn->extra_data_size > QCOW2_MAX_SNAPSHOT_EXTRA) {
            error_setg(errp, "Too much extra metadata in snapshot table entry %u", i);
            error_append_hint(errp, "You can force-remove this extra metadata with "
                              "qemu-img check -r all\n");
            goto fail;
        }
        uint8_t extra[QCOW2_MAX_SNAPSHOT_EXTRA];
        if (sn->extra_data_size) {
            ret = bdrv_pread(bs->file, off, extra, sn->extra_data_size);
            if (ret < 0) {
                error_setg_errno(errp, -ret, "Failed to read snapshot table");
                goto fail;
            }
            off += sn->extra_data_size;
            if (sn->extra_data_size >= 8) {
                sn->vm_state_size = ldq_be_p(extra);
            }
            if (sn->extra_data_size >= 16) {
                sn->disk_size = ldq_be_p(extra + 8);
            }
            if (sn->extra_data_size >= 24) {
                sn->icount = ldq_be_p(extra + 16);
            }
            if (sn->extra_data_size > 24) {
                sn->unknown_extra = g_memdup2(extra + 24, sn->extra_data_size - 24);
            }
        }
        sn->id_str = g_malloc0(id_len + 1);
        sn->name = g_malloc0(name_len + 1);
        if (bdrv_pread(bs->file, off, sn->id_str, id_len) < 0 ||
            bdrv_pread(bs->file, off + id_len, sn->name, name_len) < 0) {
            error_setg(errp, "Failed to read snapshot table");
            goto fail;
        }
        off += id_len + name_len;
        if ((bs->open_flags & BDRV_O_CHECK) && file_len >= 0 &&
            entry_start + sizeof(h) > (uint64_t)file_len) {
            /* like QEMU's check: keep this entry, drop the rest, count an error */
            fprintf(stderr, "ERROR snapshot table entry %u is incomplete\n", i);
            s->snapshot_errors++;
            s->nb_snapshots = i + 1;
            s->snapshots_size = entry_start + sizeof(h) - s->snapshots_offset;
            return 0;
        }
        off = ROUND_UP(off, 8);
    }
    s->snapshots_size = off - s->snapshots_offset;
    return 0;
fail:
    qcow2_free_snapshots(s);
    s->nb_snapshots = 0;
    return -EINVAL;
}

/* Write the whole table to new clusters, switch the header, free the old one. */
static int write_snapshots(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    GByteArray *t = g_byte_array_new();
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        QCowSnapshot *sn = &s->snapshots[i];
        uint8_t h[40 + 24];
        uint32_t extra = 24 + (sn->extra_data_size > 24 ? sn->extra_data_size - 24 : 0);
        size_t id_len = strlen(sn->id_str), name_len = strlen(sn->name);
        stq_be_p(h, sn->l1_table_offset);
        stl_be_p(h + 8, sn->l1_size);
        stw_be_p(h + 12, id_len);
        stw_be_p(h + 14, name_len);
        stl_be_p(h + 16, sn->date_sec);
        stl_be_p(h + 20, sn->date_nsec);
        stq_be_p(h + 24, sn->vm_clock_nsec);
        stl_be_p(h + 32, sn->vm_state_size > UINT32_MAX ? 0 : (uint32_t)sn->vm_state_size);
        stl_be_p(h + 36, extra);
        stq_be_p(h + 40, sn->vm_state_size);
        stq_be_p(h + 48, sn->disk_size);
        stq_be_p(h + 56, sn->icount);
        g_byte_array_append(t, h, sizeof(h));
        if (sn->unknown_extra) {
            g_byte_array_append(t, sn->unknown_extra, sn->extra_data_size - 24);
        }
        g_byte_array_append(t, (uint8_t *)sn->id_str, id_len);
        g_byte_array_append(t, (uint8_t *)sn->name, name_len);
        static const uint8_t pad[8];
        g_byte_array_append(t, pad, ROUND_UP(t->len, 8) - t->len);
    }
    int64_t new_off = 0;
    int ret = 0;
    if (t->len) {
        new_off = qcow2_alloc_clusters(bs, size_to_clusters(s, t->len));
        if (new_off < 0) {
            ret = (int)new_off;
            goto out;
        }
        ret = bdrv_pwrite(bs->file, new_off, t->data, t->len);
        if (ret == 0) {
            ret = bdrv_flush(bs->file);
        }
        if (ret < 0) {
            qcow2_free_clusters(bs, new_off, t->len);
            goto out;
        }
    }
    uint8_t hdr[12];
    stl_be_p(hdr, s->nb_snapshots);
    stq_be_p(hdr + 4, new_off);
    ret = bdrv_pwrite(bs->file, 60, hdr, sizeof(hdr));
    if (ret < 0) {
        goto out;
    }
    uint64_t old_off = s->snapshots_offset, old_size = s->snapshots_size;
    s->snapshots_offset = new_off;
    s->snapshots_size = t->len;
    if (old_size && old_off) {
        qcow2_free_clusters(bs, old_off, old_size);
    }
out:
    g_byte_array_free(t, TRUE);
    return ret;
}

int qcow2_snapshot_find(BDRVQcow2State *s, const char *id_or_name)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snapshots[i].id_str, id_or_name)) {
            return i;
        }
    }
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snapshots[i].name, id_or_name)) {
            return i;
        }
    }
    return -1;
}

int qcow2_snapshot_create(BlockDriverState *bs, const char *name, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    if (s->nb_snapshots >= QCOW2_MAX_SNAPSHOTS) {
        error_setg(errp, "Too many snapshots");
        return -EFBIG;
    }
    uint64_t max_id = 0;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        uint64_t id = g_ascii_strtoull(s->snapshots[i].id_str, NULL, 10);
        max_id = MAX(max_id, id);
    }
    g_rw_lock_writer_lock(&s->rw);
    uint64_t bytes = (uint64_t)s->l1_size * 8;
    int64_t l1_off = 0;
    int ret = 0;
    if (bytes) {
        l1_off = qcow2_alloc_clusters(bs, size_to_clusters(s, bytes));
        if (l1_off < 0) {
            ret = (int)l1_off;
            goto fail;
        }
        uint64_t *be = g_new(uint64_t, s->l1_size);
        for (uint32_t i = 0; i < s->l1_size; i++) {
            be[i] = __builtin_bswap64(s->l1_table[i]);
        }
        ret = bdrv_pwrite(bs->file, l1_off, be, bytes);
        g_free(be);
        if (ret < 0) {
            goto fail;
        }
        ret = qcow2_update_l1_tree_refcounts(bs, s->l1_table_offset, s->l1_size, 1);
        if (ret < 0) {
            goto fail;
        }
        ret = qcow2_fix_copied_flags(bs);
        if (ret < 0) {
            goto fail;
        }
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    s->snapshots = g_renew(QCowSnapshot, s->snapshots, s->nb_snapshots + 1);
    QCowSnapshot *sn = &s->snapshots[s->nb_snapshots];
    memset(sn, 0, sizeof(*sn));
    sn->l1_table_offset = l1_off;
    sn->l1_size = s->l1_size;
    sn->id_str = g_strdup_printf("%" PRIu64, max_id + 1);
    sn->name = g_strdup(name);
    sn->disk_size = s->size;
    sn->date_sec = tv.tv_sec;
    sn->date_nsec = tv.tv_usec * 1000;
    sn->icount = 0;
    sn->extra_data_size = 24;
    s->nb_snapshots++;
    ret = write_snapshots(bs);
    if (ret < 0) {
        s->nb_snapshots--;
        g_free(sn->id_str);
        g_free(sn->name);
        goto fail;
    }
    ret = bdrv_flush(bs->file);
    g_rw_lock_writer_unlock(&s->rw);
    return ret;
fail:
    g_rw_lock_writer_unlock(&s->rw);
    error_setg_errno(errp, -ret, "Failed to create snapshot");
    return ret;
}

static bool snapshot_l1_valid(BDRVQcow2State *s, QCowSnapshot *sn)
{
    return (uint64_t)sn->l1_size * 8 <= QCOW2_MAX_L1_SIZE &&
           !offset_into_cluster(s, sn->l1_table_offset) &&
           sn->l1_table_offset < L2E_OFFSET_MASK;
}

int qcow2_snapshot_delete(BlockDriverState *bs, const char *name, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int idx = qcow2_snapshot_find(s, name);
    if (idx < 0) {
        error_setg(errp, "snapshot not found");
        return -ENOENT;
    }
    QCowSnapshot sn = s->snapshots[idx];
    if (!snapshot_l1_valid(s, &sn)) {
        error_setg(errp, "Snapshot L1 table offset invalid");
        return -EFBIG;
    }
    g_rw_lock_writer_lock(&s->rw);
    memmove(&s->snapshots[idx], &s->snapshots[idx + 1],
            (s->nb_snapshots - idx - 1) * sizeof(QCowSnapshot));
    s->nb_snapshots--;
    int ret = write_snapshots(bs);
    if (ret < 0) {
        /* put it back in memory; the on-disk table is unchanged */
        memmove(&s->snapshots[idx + 1], &s->snapshots[idx],
                (s->nb_snapshots - idx) * sizeof(QCowSnapshot));
        s->snapshots[idx] = sn;
        s->nb_snapshots++;
        g_rw_lock_writer_unlock(&s->rw);
        error_setg_errno(errp, -ret, "Failed to remove snapshot from snapshot list");
        return ret;
    }
    g_free(sn.id_str);
    g_free(sn.name);
    g_free(sn.unknown_extra);
    ret = qcow2_update_l1_tree_refcounts(bs, sn.l1_table_offset, sn.l1_size, -1);
    if (ret == 0 && sn.l1_size) {
        qcow2_free_clusters(bs, sn.l1_table_offset, (uint64_t)sn.l1_size * 8);
    }
    if (ret == 0) {
        ret = qcow2_fix_copied_flags(bs);
    }
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    g_rw_lock_writer_unlock(&s->rw);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to free the cluster and L1 table");
    }
    return ret;
}

int qcow2_snapshot_goto(BlockDriverState *bs, const char *name, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int idx = qcow2_snapshot_find(s, name);
    if (idx < 0) {
        error_setg(errp, "Failed to load snapshot: No such file or directory");
        return -ENOENT;
    }
    QCowSnapshot *sn = &s->snapshots[idx];
    if (!snapshot_l1_valid(s, sn)) {
        error_setg(errp, "Snapshot L1 table offset invalid");
        return -EFBIG;
    }
    g_rw_lock_writer_lock(&s->rw);
    int ret = 0;
    uint64_t *sn_l1 = g_new0(uint64_t, MAX(sn->l1_size, 1));
    uint64_t old_l1_off = 0;
    uint32_t old_l1_size = s->l1_size;
    if (sn->l1_size) {
        ret = bdrv_pread(bs->file, sn->l1_table_offset, sn_l1, (uint64_t)sn->l1_size * 8);
    }
    if (ret == 0) {
        ret = qcow2_update_l1_tree_refcounts(bs, sn->l1_table_offset, sn->l1_size, 1);
    }
    /* keep a copy of the current active L1 so its tree can be released */
    if (ret == 0 && old_l1_size) {
        int64_t o = qcow2_alloc_clusters(bs, size_to_clusters(s, (uint64_t)old_l1_size * 8));
        if (o < 0) {
            ret = (int)o;
        } else {
            old_l1_off = o;
            uint64_t *be = g_new(uint64_t, old_l1_size);
            for (uint32_t i = 0; i < old_l1_size; i++) {
                be[i] = __builtin_bswap64(s->l1_table[i]);
            }
            ret = bdrv_pwrite(bs->file, o, be, (uint64_t)old_l1_size * 8);
            g_free(be);
        }
    }
    if (ret == 0 && sn->l1_size > s->l1_size) {
        ret = qcow2_grow_l1_table(bs, sn->l1_size);
    }
    if (ret == 0) {
        for (uint32_t i = 0; i < s->l1_size; i++) {
            s->l1_table[i] = i < sn->l1_size ? __builtin_bswap64(sn_l1[i]) : 0;
        }
        ret = bdrv_flush(bs->file);
        if (ret == 0) {
            ret = qcow2_write_l1_entries(bs, 0, s->l1_size);
        }
    }
    if (ret == 0 && old_l1_off) {
        ret = qcow2_update_l1_tree_refcounts(bs, old_l1_off, old_l1_size, -1);
        qcow2_free_clusters(bs, old_l1_off, (uint64_t)old_l1_size * 8);
    }
    if (ret == 0 && sn->disk_size != s->size) {
        uint8_t be[8];
        stq_be_p(be, sn->disk_size);
        ret = bdrv_pwrite(bs->file, 24, be, 8);
        if (ret == 0) {
            s->size = sn->disk_size;
        }
    }
    qcow2_cache_clear(s->l2_cache);
    if (ret == 0) {
        ret = qcow2_fix_copied_flags(bs);
    }
    if (ret == 0) {
        ret = bdrv_flush(bs->file);
    }
    g_free(sn_l1);
    g_rw_lock_writer_unlock(&s->rw);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to load snapshot");
    }
    return ret;
}
