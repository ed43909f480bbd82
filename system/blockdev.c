/*
 * Drives: -drive (and -hda..-hdd, -cdrom, -snapshot) definitions with
 * QEMU 7.2's defaults, ids ("ide0-hd0", "virtio0"), bus/unit/index rules
 * and error texts (blockdev.c); the "drive" device property (a -drive id or
 * a -blockdev node-name, attached to one device); the guest I/O error
 * policy: BLOCK_IO_ERROR events and werror/rerror=stop pausing the VM.
 * Locking: BQL (everything runs in the main loop or at start-up).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "monitor/monitor.h"
#include "system/blockdev.h"
#include "system/runstate.h"
#include "util/cutils.h"

bool drive_snapshot_all;

static GPtrArray *drives;               /* DriveInfo *, in creation order */

static const char *const if_names[IF__MAX] = {
    [IF_NONE] = "none", [IF_IDE] = "ide", [IF_SCSI] = "scsi", [IF_FLOPPY] = "floppy",
    [IF_PFLASH] = "pflash", [IF_MTD] = "mtd", [IF_SD] = "sd", [IF_VIRTIO] = "virtio",
    [IF_XEN] = "xen",
};

/* Units per bus (QEMU's if_max_devs for the PC). */
static int if_max_devs(BlockInterfaceType type)
{
    return type == IF_IDE ? 2 : type == IF_SCSI ? 7 : 0;
}

DriveInfo *drive_get(BlockInterfaceType type, int bus, int unit)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->type == type && d->bus == bus && d->unit == unit) {
            return d;
        }
    }
    return NULL;
}

DriveInfo *drive_by_blk(BlockBackend *blk)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->blk == blk) {
            return d;
        }
    }
    return NULL;
}

bool blockdev_parse_on_error(const char *s, bool is_read, BlockdevOnError *out)
{
    static const char *const names[] = {
        [BLOCKDEV_ON_ERROR_REPORT] = "report", [BLOCKDEV_ON_ERROR_IGNORE] = "ignore",
        [BLOCKDEV_ON_ERROR_ENOSPC] = "enospc", [BLOCKDEV_ON_ERROR_STOP] = "stop",
        [BLOCKDEV_ON_ERROR_AUTO] = "auto",
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
        if (!strcmp(s, names[i])) {
            if (is_read && i == BLOCKDEV_ON_ERROR_ENOSPC) {
                return false;       /* rerror=enospc makes no sense: refused */
            }
            *out = i;
            return true;
        }
    }
    return false;
}

static bool parse_int_opt(KVDict *o, const char *key, int *out, Error **errp)
{
    const char *v = kv_get(o, key);
    if (!v) {
        return true;
    }
    uint64_t n;
    if (qemu_strtou64(v, 10, &n) < 0 || n > INT32_MAX) {
        error_setg(errp, "Parameter '%s' expects a number", key);
        return false;
    }
    *out = (int)n;
    return true;
}

DriveInfo *drive_new(const char *optstr, BlockInterfaceType type, Error **errp)
{
    KVDict *o = kv_parse(optstr, "file", errp);
    if (!o) {
        return NULL;
    }
    DriveInfo *dinfo = NULL;
    char *id = NULL, *serial = NULL;
    KVDict *devopts = NULL;
    BlockdevOnError rerror = BLOCKDEV_ON_ERROR_REPORT, werror = BLOCKDEV_ON_ERROR_ENOSPC;
    bool is_cdrom = false;
    int bus = -1, unit = -1, index = -1;
    const char *s;

    if ((s = kv_get(o, "if"))) {
        int t;
        for (t = 0; t < IF__MAX; t++) {
            if (!strcmp(s, if_names[t])) {
                break;
            }
        }
        if (t == IF__MAX) {
            error_setg(errp, "unsupported bus type '%s'", s);
            goto out;
        }
        type = t;
    }
    if ((s = kv_get(o, "media"))) {
        if (!strcmp(s, "cdrom")) {
            is_cdrom = true;
        } else if (strcmp(s, "disk")) {
            error_setg(errp, "'%s' invalid media", s);
            goto out;
        }
    }
    if (!parse_int_opt(o, "bus", &bus, errp) || !parse_int_opt(o, "unit", &unit, errp) ||
        !parse_int_opt(o, "index", &index, errp)) {
        goto out;
    }
    if ((s = kv_get(o, "werror")) && !blockdev_parse_on_error(s, false, &werror)) {
        error_setg(errp, "'%s' invalid write error action", s);
        goto out;
    }
    if ((s = kv_get(o, "rerror")) && !blockdev_parse_on_error(s, true, &rerror)) {
        error_setg(errp, "'%s' invalid read error action", s);
        goto out;
    }

    int max_devs = if_max_devs(type);
    if (index != -1) {
        if (bus != -1 || unit != -1) {
            error_setg(errp, "index cannot be used with bus and unit");
            goto out;
        }
        bus = max_devs ? index / max_devs : 0;
        unit = max_devs ? index % max_devs : index;
    }
    if (bus == -1) {
        bus = 0;
    }
    if (unit == -1) {
        unit = 0;
        while (drive_get(type, bus, unit)) {
            unit++;
            if (max_devs && unit >= max_devs) {
                unit -= max_devs;
                bus++;
            }
        }
    }
    if (max_devs && unit >= max_devs) {
        error_setg(errp, "unit %d too big (max is %d)", unit, max_devs - 1);
        goto out;
    }
    if (drive_get(type, bus, unit)) {
        error_setg(errp, "drive with bus=%d, unit=%d (index=%d) exists", bus, unit,
                   max_devs ? bus * max_devs + unit : unit);
        goto out;
    }

    id = g_strdup(kv_get(o, "id"));
    if (!id) {
        const char *media = (type == IF_IDE || type == IF_SCSI) ? (is_cdrom ? "-cd" : "-hd") : "";
        id = max_devs ? g_strdup_printf("%s%d%s%d", if_names[type], bus, media, unit)
                      : g_strdup_printf("%s%s%d", if_names[type], media, unit);
    } else if (!id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        error_append_hint(errp, "Identifiers consist of letters, digits, '-', '.', '_', "
                          "starting with a letter.\n");
        goto out;
    }
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (!strcmp(d->id, id)) {
            error_setg(errp, "Duplicate ID '%s' for drive", id);
            goto out;
        }
    }
    if (blk_by_name(id)) {
        error_setg(errp, "Device with id '%s' already exists", id);
        goto out;
    }

    serial = g_strdup(kv_get(o, "serial"));
    devopts = kv_new();
    if ((s = kv_get(o, "addr"))) {
        if (type != IF_VIRTIO) {
            error_setg(errp, "addr is not supported by this bus type");
            goto out;
        }
        kv_set(devopts, "addr", s);
    }
    if (is_cdrom) {
        kv_set(o, "read-only", "on");
    }
    if (drive_snapshot_all && !kv_has(o, "snapshot")) {
        kv_set(o, "snapshot", "on");
    }

    BlockBackend *blk;
    const char *file = kv_peek(o, "file");
    if (!file || !file[0]) {
        kv_get(o, "file");
        /* an empty drive: only options that describe the drive itself */
        kv_get(o, "format");
        kv_get(o, "read-only");
        kv_get(o, "readonly");
        kv_get(o, "snapshot");
        kv_get(o, "cache");
        kv_get(o, "aio");
        bool ro = false;
        if (!kv_check_all_used(o, errp) || !kv_get_bool(o, "read-only", false, &ro, errp) ||
            !kv_get_bool(o, "readonly", ro, &ro, errp)) {
            goto out;
        }
        blk = blk_new_empty(id);
        blk_set_root_read_only(blk, ro);
    } else {
        blk = blk_new_open(id, NULL, o, 0, errp);
        if (!blk) {
            goto out;
        }
        for (int i = 0; i < o->n; i++) {
            if (!o->p[i].used) {
                BlockDriverState *bs = blk_bs(blk);
                error_setg(errp, "Block format '%s' does not support the option '%s'",
                           bs->drv->format_name, o->p[i].key);
                blk_unref(blk);
                goto out;
            }
        }
        blockdev_register_chain(blk_bs(blk));
    }
    blk_set_on_error(blk, rerror, werror);

    dinfo = g_new0(DriveInfo, 1);
    dinfo->type = type;
    dinfo->bus = bus;
    dinfo->unit = unit;
    dinfo->is_cdrom = is_cdrom;
    dinfo->auto_connected = type != IF_NONE;
    dinfo->id = g_steal_pointer(&id);
    dinfo->serial = g_steal_pointer(&serial);
    dinfo->devopts = g_steal_pointer(&devopts);
    dinfo->blk = blk;
    if (!drives) {
        drives = g_ptr_array_new();
    }
    g_ptr_array_add(drives, dinfo);
out:
    g_free(id);
    g_free(serial);
    if (devopts) {
        kv_free(devopts);
    }
    kv_free(o);
    return dinfo;
}

bool drive_add_defaults(bool cdrom, Error **errp)
{
    static const struct {
        BlockInterfaceType type;
        int bus, unit;
        const char *opts;
    } defaults[] = {
        { IF_IDE, 1, 0, "index=2,media=cdrom" },
        { IF_FLOPPY, 0, 0, "if=floppy,index=0" },
        { IF_SD, 0, 0, "if=sd,index=0" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(defaults); i++) {
        if ((i == 0 && !cdrom) || drive_get(defaults[i].type, defaults[i].bus, defaults[i].unit)) {
            continue;
        }
        DriveInfo *d = drive_new(defaults[i].opts, defaults[i].type, errp);
        if (!d) {
            return false;
        }
        d->is_default = true;
    }
    return true;
}

bool drive_create_virtio_devices(Error **errp)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->type != IF_VIRTIO) {
            continue;
        }
        KVDict *o = kv_copy(d->devopts);
        kv_set(o, "driver", "virtio-blk-pci");
        kv_set(o, "drive", d->id);
        if (d->serial) {
            kv_set(o, "serial", d->serial);
        }
        d->auto_connected = false;      /* attaching it below is legitimate */
        DeviceState *dev = dev_create_from_opts(o, errp);
        d->auto_connected = true;
        kv_free(o);
        if (!dev) {
            return false;
        }
    }
    return true;
}

bool drive_check_orphans(Error **errp)
{
    for (guint i = 0; drives && i < drives->len; i++) {
        DriveInfo *d = g_ptr_array_index(drives, i);
        if (d->type != IF_NONE && !d->is_default && !blk_get_attached_dev(d->blk)) {
            if (d->loc_opt) {
                loc_set_option(d->loc_opt, d->loc_arg);
            }
            error_setg(errp, "machine type does not support if=%s,bus=%d,unit=%d",
                       if_names[d->type], d->bus, d->unit);
            return false;
        }
    }
    return true;
}

/* ---- the drive property ---- */

bool drive_prop_attach(DeviceState *dev, const char *prop, const char *name,
                       BlockBackend **out, Error **errp)
{
    BlockBackend *blk = blk_by_name(name);
    if (blk) {
        DriveInfo *d = drive_by_blk(blk);
        if (d && d->auto_connected && d->type != IF_NONE) {
            error_setg(errp, "Drive '%s' is already in use because it has been automatically "
                       "connected to another device (did you need 'if=none' in the drive "
                       "options?)", name);
            return false;
        }
        if (blk_get_attached_dev(blk)) {
            error_setg(errp, "Drive '%s' is already in use by another device", name);
            return false;
        }
        blk_attach_dev(blk, dev);
        *out = blk;
        return true;
    }
    BlockDriverState *bs = blockdev_find_node(name);
    if (!bs) {
        error_setg(errp, "Property '%s.%s' can't find value '%s'", dev->cls->name, prop, name);
        return false;
    }
    for (BlockBackend *b = blk_next(NULL); b; b = blk_next(b)) {
        if (blk_bs(b) == bs && !bs->read_only) {
            error_setg(errp, "Permission conflict on node '%s': permissions 'write' are both "
                       "required by another block device and unshared by this one", name);
            return false;
        }
    }
    bdrv_ref(bs);
    blk = blk_new_with_bs(NULL, bs, false);
    blk_attach_dev(blk, dev);
    *out = blk;
    return true;
}

void drive_prop_detach(BlockBackend *blk)
{
    blk_detach_dev(blk, blk_get_attached_dev(blk));
    if (blk_is_anonymous(blk)) {
        blk_unref(blk);
    }
}

/* drive=ID: a -drive id or a -blockdev node-name, attached at parse time
 * like QEMU's drive property (system/blockdev.c does the lookup). */
static bool parse_drive(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp)
{
    if (!dev) {
        return true;               /* help output: no default to show */
    }
    return drive_prop_attach(dev, prop->name, str, (BlockBackend **)field, errp);
}

static void print_drive(const void *field, GString *out)
{
    BlockBackend *blk = *(BlockBackend *const *)field;
    const char *name = "";
    if (blk) {
        name = blk_name(blk);
        if (!name[0] && blk_bs(blk) && blk_bs(blk)->node_name) {
            name = blk_bs(blk)->node_name;
        }
    }
    g_string_append_printf(out, "\"%s\"", name);
}

static void release_drive(void *field)
{
    BlockBackend **blk = field;
    if (*blk) {
        drive_prop_detach(*blk);
        *blk = NULL;
    }
}

const PropType prop_drive = { "str", parse_drive, print_drive, release_drive,
                              "Node name or ID of a block device to use as a backend" };


/* ---- guest I/O errors ---- */

typedef enum { IO_STATUS_OK, IO_STATUS_FAILED, IO_STATUS_NOSPACE } IOStatus;
static GHashTable *io_status;            /* BlockBackend * -> IOStatus */

const char *blockdev_io_status(BlockBackend *blk)
{
    IOStatus st = io_status ? GPOINTER_TO_INT(g_hash_table_lookup(io_status, blk)) : 0;
    return st == IO_STATUS_NOSPACE ? "nospace" : st == IO_STATUS_FAILED ? "failed" : "ok";
}

void blockdev_reset_io_status(void)
{
    if (io_status) {
        g_hash_table_remove_all(io_status);
    }
}

static void on_guest_io_error(BlockBackend *blk, BlockErrorAction action, bool is_read, int error)
{
    static const char *const action_names[] = {
        [BLOCK_ERROR_ACTION_IGNORE] = "ignore", [BLOCK_ERROR_ACTION_REPORT] = "report",
        [BLOCK_ERROR_ACTION_STOP] = "stop",
    };
    JsonObject *data = json_object_new();
    json_object_set_str(data, "device", blk_name(blk));
    BlockDriverState *bs = blk_bs(blk);
    if (bs && bs->node_name) {
        json_object_set_str(data, "node-name", bs->node_name);
    }
    json_object_set_str(data, "operation", is_read ? "read" : "write");
    json_object_set_str(data, "action", action_names[action]);
    json_object_set_bool(data, "nospace", error == ENOSPC);
    json_object_set_str(data, "reason", strerror(error));
    if (action == BLOCK_ERROR_ACTION_STOP) {
        if (!io_status) {
            io_status = g_hash_table_new(NULL, NULL);
        }
        g_hash_table_insert(io_status, blk,
                            GINT_TO_POINTER(error == ENOSPC ? IO_STATUS_NOSPACE : IO_STATUS_FAILED));
        qmp_event_send("BLOCK_IO_ERROR", data);
        vm_stop(RUN_STATE_IO_ERROR);
    } else {
        qmp_event_send("BLOCK_IO_ERROR", data);
    }
}

void blockdev_init(void)
{
    blk_error_hook = on_guest_io_error;
}
