/*
 * Monitor commands for the drives of devices: query-block / info block,
 * query-blockstats / info blockstats, eject, blockdev-change-medium and
 * HMP change, blockdev-open-tray / -close-tray / -remove-medium /
 * -insert-medium, block_resize. Replies, events and error texts follow
 * QEMU 7.2 (block/qapi.c, blockdev.c, block/block-backend.c): a backend
 * without a device counts as removable with a closed tray; devices with a
 * tray (ide-cd) move it through their BlockDevOps and emit
 * DEVICE_TRAY_MOVED themselves.
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "block/block.h"
#include "monitor/monitor-internal.h"
#include "system/blockdev.h"
#include "system/runstate.h"
#include "util/module.h"

/* ---------------------------------------------------------- helpers */

/* What QEMU reports as "qdev" (blk_get_attached_dev_id): the device id, or
 * its QOM path; a virtio proxy attaches its id-less "virtio-backend" child. */
static char *blk_qdev_path(BlockBackend *blk)
{
    DeviceState *dev = blk_get_attached_dev(blk);
    if (!dev || !dev->canonical_path) {
        return NULL;
    }
    if (g_str_has_prefix(dev->cls->name, "virtio-")) {
        return g_strdup_printf("%s/virtio-backend", dev->canonical_path);
    }
    return g_strdup(dev->id ? dev->id : dev->canonical_path);
}

static bool blk_listed(BlockBackend *blk)
{
    return blk_name(blk)[0] || blk_get_attached_dev(blk);
}

static bool dev_has_removable_media(BlockBackend *blk)
{
    const BlockDevOps *ops = blk_get_dev_ops(blk, NULL);
    return !blk_get_attached_dev(blk) || (ops && ops->change_media_cb);
}

static bool dev_has_tray(BlockBackend *blk)
{
    const BlockDevOps *ops = blk_get_dev_ops(blk, NULL);
    return ops && ops->is_tray_open;
}

static bool dev_is_tray_open(BlockBackend *blk)
{
    void *opaque;
    const BlockDevOps *ops = blk_get_dev_ops(blk, &opaque);
    return ops && ops->is_tray_open && ops->is_tray_open(opaque);
}

static bool dev_is_medium_locked(BlockBackend *blk)
{
    void *opaque;
    const BlockDevOps *ops = blk_get_dev_ops(blk, &opaque);
    return ops && ops->is_medium_locked && ops->is_medium_locked(opaque);
}

static void dev_change_media(BlockBackend *blk, bool load)
{
    void *opaque;
    const BlockDevOps *ops = blk_get_dev_ops(blk, &opaque);
    if (ops && ops->change_media_cb) {
        ops->change_media_cb(opaque, load);
    }
}

/* The backend named by "device" (a -drive id) or "id" (a qdev id). */
static BlockBackend *get_blk(JsonObject *args, Error **errp)
{
    const char *device = json_object_get_str(args, "device");
    const char *id = json_object_get_str(args, "id");
    if (!device == !id) {
        error_setg(errp, "Need exactly one of 'device' and 'id'");
        return NULL;
    }
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        DeviceState *dev = blk_get_attached_dev(blk);
        if (device ? !blk_is_anonymous(blk) && !strcmp(blk_name(blk), device)
                   : dev && dev->id && !strcmp(dev->id, id)) {
            return blk;
        }
    }
    error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", device ? device : id);
    return NULL;
}

static const char *blk_label(JsonObject *args)
{
    const char *device = json_object_get_str(args, "device");
    return device ? device : json_object_get_str(args, "id");
}

/* ---------------------------------------------------------- queries */

static JsonObject *block_info(BlockBackend *blk)
{
    JsonObject *o = json_object_new();
    DeviceState *dev = blk_get_attached_dev(blk);
    if (dev) {
        json_object_set_str(o, "io-status", blockdev_io_status(blk));
    }
    json_object_set_str(o, "device", blk_name(blk));
    json_object_set_bool(o, "locked", dev_is_medium_locked(blk));
    json_object_set_bool(o, "removable", dev_has_removable_media(blk));
    BlockDriverState *bs = blk_bs(blk);
    if (bs) {
        JsonObject *ins = blockdev_inserted_info(bs);
        JsonValue *cache = json_object_get(ins, "cache");
        if (cache) {
            json_object_set_bool((JsonObject *)cache, "writeback", blk_enable_write_cache(blk));
        }
        json_object_set(o, "inserted", (JsonValue *)ins);
    }
    g_autofree char *qdev = blk_qdev_path(blk);
    if (qdev) {
        json_object_set_str(o, "qdev", qdev);
    }
    if (dev_has_tray(blk)) {
        json_object_set_bool(o, "tray_open", dev_is_tray_open(blk));
    }
    json_object_set_str(o, "type", "unknown");
    return o;
}

static JsonValue *qmp_query_block(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        if (blk_listed(blk)) {
            json_array_append(a, (JsonValue *)block_info(blk));
        }
    }
    return a;
}

static void print_inserted(Monitor *mon, const char *label, JsonObject *ins)
{
    const char *node = json_object_get_str(ins, "node-name");
    monitor_printf(mon, "%s", label[0] ? label : node);
    if (label[0] && node) {
        monitor_printf(mon, " (%s)", node);
    }
    monitor_printf(mon, ": %s (%s%s%s)\n", json_object_get_str(ins, "file"),
                   json_object_get_str(ins, "drv"),
                   json_object_get_bool(ins, "ro", false) ? ", read-only" : "",
                   json_object_get_bool(ins, "encrypted", false) ? ", encrypted" : "");
}

static void print_cache_and_backing(Monitor *mon, JsonObject *ins)
{
    JsonObject *c = (JsonObject *)json_object_get(ins, "cache");
    monitor_printf(mon, "    Cache mode:       %s%s%s\n",
                   json_object_get_bool(c, "writeback", true) ? "writeback" : "writethrough",
                   json_object_get_bool(c, "direct", false) ? ", direct" : "",
                   json_object_get_bool(c, "no-flush", false) ? ", ignore flushes" : "");
    const char *backing = json_object_get_str(ins, "backing_file");
    if (backing) {
        monitor_printf(mon, "    Backing file:     %s (chain depth: %" PRId64 ")\n", backing,
                       json_object_get_int(ins, "backing_file_depth", 0));
    }
    const char *dz = json_object_get_str(ins, "detect_zeroes");
    if (dz && strcmp(dz, "off")) {
        monitor_printf(mon, "    Detect zeroes:    %s\n", dz);
    }
}

static void print_node_cb(BlockDriverState *bs, void *opaque)
{
    Monitor *mon = opaque;
    JsonObject *ins = blockdev_inserted_info(bs);
    print_inserted(mon, "", ins);
    print_cache_and_backing(mon, ins);
    json_free((JsonValue *)ins);
}

static void hmp_info_block(Monitor *mon, JsonObject *args)
{
    const char *want = json_object_get_str(args, "device");
    bool nodes = json_object_get_bool(args, "nodes", false);
    bool first = true;
    if (nodes) {
        if (want) {
            monitor_printf(mon, "-n cannot be used with a device name\n");  /* not in QEMU; keep simple */
            return;
        }
        blockdev_foreach_node(print_node_cb, mon);
        return;
    }
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        if (!blk_listed(blk) || (want && strcmp(want, blk_name(blk)))) {
            continue;
        }
        if (!first) {
            monitor_printf(mon, "\n");
        }
        first = false;
        JsonObject *info = block_info(blk);
        JsonObject *ins = (JsonObject *)json_object_get(info, "inserted");
        if (ins) {
            print_inserted(mon, blk_name(blk), ins);
        } else {
            monitor_printf(mon, "%s: [not inserted]\n", blk_name(blk));
        }
        const char *qdev = json_object_get_str(info, "qdev");
        if (qdev) {
            monitor_printf(mon, "    Attached to:      %s\n", qdev);
        }
        const char *ios = json_object_get_str(info, "io-status");
        if (ios && strcmp(ios, "ok")) {
            monitor_printf(mon, "    I/O status:       %s\n", ios);
        }
        if (json_object_get_bool(info, "removable", false)) {
            monitor_printf(mon, "    Removable device: %slocked, tray %s\n",
                           json_object_get_bool(info, "locked", false) ? "" : "not ",
                           json_object_get_bool(info, "tray_open", false) ? "open" : "closed");
        }
        if (ins) {
            print_cache_and_backing(mon, ins);
        }
        json_free((JsonValue *)info);
    }
}

static void append_node_stats(BlockDriverState *bs, void *opaque)
{
    json_array_append(opaque, (JsonValue *)blockdev_node_stats(bs));
}

static JsonValue *qmp_query_blockstats(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *a = json_array_new();
    if (json_object_get_bool(args, "query-nodes", false)) {
        blockdev_foreach_node(append_node_stats, a);
        return a;
    }
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        if (!blk_listed(blk)) {
            continue;
        }
        JsonObject *o = json_object_new();
        json_object_set_str(o, "device", blk_name(blk));
        BlockDriverState *bs = blk_bs(blk);
        if (bs && bs->file) {
            json_object_set(o, "parent", (JsonValue *)blockdev_node_stats(bs->file));
        }
        json_object_set(o, "stats", (JsonValue *)blockdev_stats_json(blk_get_stats(blk), true));
        if (bs && bs->node_name) {
            json_object_set_str(o, "node-name", bs->node_name);
        }
        g_autofree char *qdev = blk_qdev_path(blk);
        if (qdev) {
            json_object_set_str(o, "qdev", qdev);
        }
        json_array_append(a, (JsonValue *)o);
    }
    return a;
}

static void hmp_info_blockstats(Monitor *mon, const JsonValue *ret)
{
    for (unsigned i = 0; i < json_array_len(ret); i++) {
        JsonObject *e = (JsonObject *)json_array_get(ret, i);
        JsonObject *s = (JsonObject *)json_object_get(e, "stats");
        const char *name = json_object_get_str(e, "device");
        if (!name || !name[0]) {
            name = json_object_get_str(e, "node-name");
        }
        monitor_printf(mon, "%s:", name ? name : "");
        static const char *const keys[] = {
            "rd_bytes", "wr_bytes", "rd_operations", "wr_operations", "flush_operations",
            "wr_total_time_ns", "rd_total_time_ns", "flush_total_time_ns", "rd_merged",
            "wr_merged", "idle_time_ns",
        };
        for (unsigned k = 0; k < G_N_ELEMENTS(keys); k++) {
            monitor_printf(mon, " %s=%" PRId64, keys[k], json_object_get_int(s, keys[k], 0));
        }
        monitor_printf(mon, "\n");
    }
}

/* ---------------------------------------------------------- media */

/* 0, or -ENOSYS for a device without a tray (not an error for eject). */
static int do_open_tray(BlockBackend *blk, const char *label, bool force, Error **errp)
{
    if (!dev_has_removable_media(blk)) {
        error_setg(errp, "Device '%s' is not removable", label);
        return -ENOTSUP;
    }
    if (!dev_has_tray(blk)) {
        error_setg(errp, "Device '%s' does not have a tray", label);
        return -ENOSYS;
    }
    if (dev_is_tray_open(blk)) {
        return 0;
    }
    bool locked = dev_is_medium_locked(blk);
    if (locked) {
        void *opaque;
        const BlockDevOps *ops = blk_get_dev_ops(blk, &opaque);
        if (ops->eject_request_cb) {
            ops->eject_request_cb(opaque, force);
        }
    }
    if (!locked || force) {
        dev_change_media(blk, false);
    }
    if (locked && !force) {
        error_setg(errp, "Device '%s' is locked and force was not specified, "
                   "wait for tray to open and try again", label);
        return -EINPROGRESS;
    }
    return 0;
}

/* Media can only be swapped on a removable device whose tray is open. */
static bool medium_accessible(BlockBackend *blk, const char *label, Error **errp)
{
    if (!dev_has_removable_media(blk)) {
        error_setg(errp, "Device '%s' is not removable", label);
        return false;
    }
    if (dev_has_tray(blk) && !dev_is_tray_open(blk)) {
        error_setg(errp, "Tray of device '%s' is not open", label);
        return false;
    }
    return true;
}

static bool do_remove_medium(BlockBackend *blk, const char *label, Error **errp)
{
    if (!medium_accessible(blk, label, errp)) {
        return false;
    }
    BlockDriverState *bs = blk_bs(blk);
    if (!bs) {
        return true;
    }
    blockdev_unregister_chain(bs);
    blk_remove_bs(blk);
    if (!dev_has_tray(blk)) {
        dev_change_media(blk, false);
    }
    return true;
}

static bool do_insert_medium(BlockBackend *blk, const char *label, BlockDriverState *bs,
                             Error **errp)
{
    if (!medium_accessible(blk, label, errp)) {
        return false;
    }
    if (blk_bs(blk)) {
        error_setg(errp, "There already is a medium in device '%s'", label);
        return false;
    }
    blk_insert_bs(blk, bs);
    blockdev_register_chain(bs);
    if (!dev_has_tray(blk)) {
        dev_change_media(blk, true);
    }
    return true;
}

static void do_close_tray(BlockBackend *blk)
{
    if (dev_has_tray(blk) && dev_is_tray_open(blk)) {
        dev_change_media(blk, true);
    }
}

static JsonValue *qmp_eject(Monitor *mon, JsonObject *args, Error **errp)
{
    BlockBackend *blk = get_blk(args, errp);
    if (!blk) {
        return NULL;
    }
    Error *err = NULL;
    int rc = do_open_tray(blk, blk_label(args), json_object_get_bool(args, "force", false), &err);
    if (rc && rc != -ENOSYS) {
        error_propagate(errp, err);
        return NULL;
    }
    error_free(err);
    do_remove_medium(blk, blk_label(args), errp);
    return NULL;
}

static JsonValue *qmp_blockdev_open_tray(Monitor *mon, JsonObject *args, Error **errp)
{
    BlockBackend *blk = get_blk(args, errp);
    Error *err = NULL;
    if (blk) {
        int rc = do_open_tray(blk, blk_label(args), json_object_get_bool(args, "force", false), &err);
        if (rc && rc != -ENOSYS) {
            error_propagate(errp, err);
        } else {
            error_free(err);
        }
    }
    return NULL;
}

static JsonValue *qmp_blockdev_close_tray(Monitor *mon, JsonObject *args, Error **errp)
{
    BlockBackend *blk = get_blk(args, errp);
    if (blk) {
        do_close_tray(blk);
    }
    return NULL;
}

static JsonValue *qmp_blockdev_remove_medium(Monitor *mon, JsonObject *args, Error **errp)
{
    BlockBackend *blk = get_blk(args, errp);
    if (blk) {
        do_remove_medium(blk, blk_label(args), errp);
    }
    return NULL;
}

static JsonValue *qmp_blockdev_insert_medium(Monitor *mon, JsonObject *args, Error **errp)
{
    BlockBackend *blk = get_blk(args, errp);
    if (!blk) {
        return NULL;
    }
    const char *node = json_object_get_str(args, "node-name");
    BlockDriverState *bs = blockdev_find_node(node);
    if (!bs) {
        error_setg(errp, "Node '%s' not found", node);
        return NULL;
    }
    for (BlockBackend *b = blk_next(NULL); b; b = blk_next(b)) {
        if (blk_bs(b) == bs) {
            error_setg(errp, "Node '%s' is already in use", node);
            return NULL;
        }
    }
    bdrv_ref(bs);
    if (!do_insert_medium(blk, blk_label(args), bs, errp)) {
        bdrv_unref(bs);
    }
    return NULL;
}

static JsonValue *qmp_blockdev_change_medium(Monitor *mon, JsonObject *args, Error **errp)
{
    BlockBackend *blk = get_blk(args, errp);
    if (!blk) {
        return NULL;
    }
    const char *label = blk_label(args);
    const char *mode = json_object_get_str(args, "read-only-mode");
    /* a CD-ROM (a device with a tray) only ever gets read-only media */
    bool ro = blk_get_root_read_only(blk) || dev_has_tray(blk);
    if (mode && !strcmp(mode, "read-only")) {
        ro = true;
    } else if (mode && !strcmp(mode, "read-write")) {
        ro = false;
    } else if (mode && strcmp(mode, "retain")) {
        error_setg(errp, "Parameter 'read-only-mode' does not accept value '%s'", mode);
        return NULL;
    }
    BlockDriverState *bs = bdrv_open(json_object_get_str(args, "filename"),
                                     json_object_get_str(args, "format"), NULL,
                                     ro ? 0 : BDRV_O_RDWR, errp);
    if (!bs) {
        return NULL;
    }
    Error *err = NULL;
    int rc = do_open_tray(blk, label, json_object_get_bool(args, "force", false), &err);
    if (rc && rc != -ENOSYS) {
        error_propagate(errp, err);
        bdrv_unref(bs);
        return NULL;
    }
    error_free(err);
    if (!do_remove_medium(blk, label, errp) || !do_insert_medium(blk, label, bs, errp)) {
        bdrv_unref(bs);
        return NULL;
    }
    do_close_tray(blk);
    return NULL;
}

/* HMP: change DEVICE FILENAME [FORMAT [READ-ONLY-MODE]] */
static void hmp_change(Monitor *mon, JsonObject *args)
{
    JsonObject *a = json_object_new();
    json_object_set_str(a, "device", json_object_get_str(args, "device"));
    json_object_set_str(a, "filename", json_object_get_str(args, "target"));
    const char *fmt = json_object_get_str(args, "arg");
    if (fmt) {
        json_object_set_str(a, "format", fmt);
    }
    const char *mode = json_object_get_str(args, "read-only-mode");
    if (mode) {
        json_object_set_str(a, "read-only-mode", mode);
    }
    json_object_set_bool(a, "force", json_object_get_bool(args, "force", false));
    Error *err = NULL;
    qmp_blockdev_change_medium(mon, a, &err);
    if (err) {
        monitor_printf(mon, "Error: %s\n", error_get_pretty(err));
        error_free(err);
    }
    json_free((JsonValue *)a);
}

static JsonValue *qmp_block_resize(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *device = json_object_get_str(args, "device");
    const char *node = json_object_get_str(args, "node-name");
    int64_t size = json_object_get_int(args, "size", 0);
    BlockBackend *blk = NULL;
    BlockDriverState *bs = NULL;
    if (device) {
        blk = blk_by_name(device);
        bs = blk ? blk_bs(blk) : NULL;
    } else if (node) {
        bs = blockdev_find_node(node);
        for (BlockBackend *b = blk_next(NULL); bs && b; b = blk_next(b)) {
            if (blk_bs(b) == bs) {
                blk = b;
            }
        }
    }
    if (!bs) {
        error_setg(errp, "Cannot find device='%s' nor node-name='%s'",
                   device ? device : "", node ? node : "");
        return NULL;
    }
    if (size < 0) {
        error_setg(errp, "Parameter 'size' expects a >0 size");
        return NULL;
    }
    if (size % BDRV_SECTOR_SIZE) {
        error_setg(errp, "The new size must be a multiple of %d", BDRV_SECTOR_SIZE);
        return NULL;
    }
    if (bs->read_only) {
        error_setg(errp, "Image is read-only");
        return NULL;
    }
    blk_drain_all();
    if (bdrv_truncate(bs, size, errp) < 0) {
        return NULL;
    }
    if (blk) {
        void *opaque;
        const BlockDevOps *ops = blk_get_dev_ops(blk, &opaque);
        if (ops && ops->resize_cb) {
            ops->resize_cb(opaque);
        }
    }
    return NULL;
}

static const MonCmd drive_cmds[] = {
    { .name = "query-block", .args = "flat:b?", .hmp = "info block",
      .hmp_args = "nodes:-n,verbose:-v,device:s?", .params = "[-n] [-v] [device]",
      .help = "show info of one block device or all block devices (-n: show named nodes; "
              "-v: show details)", .qmp = qmp_query_block, .hmp_only = hmp_info_block },
    { .name = "query-blockstats", .args = "query-nodes:b?", .hmp = "info blockstats",
      .params = "", .help = "show block device statistics", .qmp = qmp_query_blockstats,
      .hmp_print = hmp_info_blockstats },
    { .name = "eject", .args = "device:s?,id:s?,force:b?", .hmp = "eject",
      .hmp_args = "force:-f,device:s", .params = "[-f] device",
      .help = "eject a removable medium (use -f to force it)", .qmp = qmp_eject },
    { .name = "blockdev-open-tray", .args = "device:s?,id:s?,force:b?",
      .qmp = qmp_blockdev_open_tray },
    { .name = "blockdev-close-tray", .args = "device:s?,id:s?", .qmp = qmp_blockdev_close_tray },
    { .name = "blockdev-remove-medium", .args = "id:s", .qmp = qmp_blockdev_remove_medium },
    { .name = "blockdev-insert-medium", .args = "id:s,node-name:s",
      .qmp = qmp_blockdev_insert_medium },
    { .name = "blockdev-change-medium",
      .args = "device:s?,id:s?,filename:s,format:s?,force:b?,read-only-mode:s?",
      .qmp = qmp_blockdev_change_medium },
    { .hmp = "change", .hmp_args = "device:s,force:-f,target:s,arg:s?,read-only-mode:s?",
      .params = "device [-f] filename [format [read-only-mode]]",
      .help = "change a removable medium, optional format, use -f to force the operation",
      .hmp_only = hmp_change },
    { .name = "block_resize", .args = "device:s?,node-name:s?,size:i", .hmp = "block_resize",
      .hmp_args = "device:s,size:o", .params = "device size",
      .help = "resize a block image", .qmp = qmp_block_resize },
    { .name = NULL, .hmp = NULL },
};

MODULE_INIT(drive_cmds_register)
{
    mon_cmds_register(drive_cmds);
}
