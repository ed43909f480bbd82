/*
 * The qdev devices that sit in an IDE unit: "ide-hd" (ATA disk) and
 * "ide-cd" (ATAPI CD-ROM), with QEMU 7.2's property list and realize
 * errors (unit selection, drive checks, block size and geometry rules),
 * and the BlockDevOps that let the monitor's eject/change move the CD
 * tray and swap media. ("ide-drive" is gone since QEMU 6.0 and refused as
 * an unknown device, as there.)
 * Locking: BQL.
 */
#include <string.h>
#include "hw/ide/ide-internal.h"
#include "hw/machine.h"
#include "util/module.h"

/* ---- property types QEMU has and the generic set lacks ---- */

static const char *const on_error_names[] = {
    [BLOCKDEV_ON_ERROR_REPORT] = "report", [BLOCKDEV_ON_ERROR_IGNORE] = "ignore",
    [BLOCKDEV_ON_ERROR_ENOSPC] = "enospc", [BLOCKDEV_ON_ERROR_STOP] = "stop",
    [BLOCKDEV_ON_ERROR_AUTO] = "auto",
};

static bool parse_enum(const char *const *names, int n, const Property *prop, void *field,
                       const char *str, Error **errp)
{
    for (int i = 0; i < n; i++) {
        if (names[i] && !strcmp(names[i], str)) {
            *(int *)field = i;
            return true;
        }
    }
    error_setg(errp, "Parameter '%s' does not accept value '%s'", prop->name, str);
    return false;
}

static bool parse_on_error(DeviceState *dev, const Property *prop, void *field, const char *str,
                           Error **errp)
{
    return parse_enum(on_error_names, G_N_ELEMENTS(on_error_names), prop, field, str, errp);
}

static void print_on_error(const void *field, GString *out)
{
    g_string_append_printf(out, "\"%s\"", on_error_names[*(const int *)field]);
}

static const PropType prop_blockdev_on_error = {
    "BlockdevOnError", parse_on_error, print_on_error, NULL,
    "Error handling policy, report/ignore/enospc/stop/auto"
};

static const char *const chs_trans_names[] = { "auto", "none", "lba", "large", "rechs" };

static bool parse_chs_trans(DeviceState *dev, const Property *prop, void *field, const char *str,
                            Error **errp)
{
    return parse_enum(chs_trans_names, G_N_ELEMENTS(chs_trans_names), prop, field, str, errp);
}

static void print_chs_trans(const void *field, GString *out)
{
    g_string_append_printf(out, "\"%s\"", chs_trans_names[*(const int *)field]);
}

static const PropType prop_bios_chs_trans = {
    "BiosAtaTranslation", parse_chs_trans, print_chs_trans, NULL,
    "Logical CHS translation algorithm, auto/none/lba/large/rechs"
};

/* logical_block_size / physical_block_size: a power of two, 512 B..2 MiB */
static bool parse_blocksize(DeviceState *dev, const Property *prop, void *field, const char *str,
                            Error **errp)
{
    uint64_t v;
    if (!prop_size.parse(dev, prop, &v, str, errp)) {
        return false;
    }
    if (v && (v < 512 || v > 2 * 1024 * 1024)) {
        error_setg(errp, "Property .%s doesn't take value %" PRIu64 " (minimum: 512, maximum: 2097152)",
                   prop->name, v);
        return false;
    }
    if (v & (v - 1)) {
        error_setg(errp, "Property .%s doesn't take value '%" PRIu64 "', it's not a power of 2",
                   prop->name, v);
        return false;
    }
    *(uint64_t *)field = v;
    return true;
}

static void print_blocksize(const void *field, GString *out)
{
    prop_size.print(field, out);
}

static const PropType prop_blocksize = {
    "size", parse_blocksize, print_blocksize, NULL, "A power of two between 512 B and 2 MiB"
};

/* bootindex: an int32 with no default shown (QEMU's is a QOM property). */
static bool parse_bootindex(DeviceState *dev, const Property *prop, void *field, const char *str,
                            Error **errp)
{
    return prop_int32.parse(dev, prop, field, str, errp);
}

/* ---- realize ---- */

IDEBus *ide_bus_of(Bus *b);

static bool ide_dev_check_conf(IDEDevice *d, bool is_cd, Error **errp)
{
    if (d->discard_granularity == 0xffffffffull) {
        d->discard_granularity = 512;
    } else if (d->discard_granularity && d->discard_granularity != 512) {
        error_setg(errp, "discard_granularity must be 512 for ide");
        return false;
    }
    uint64_t lbs = d->logical_block_size ? d->logical_block_size : 512;
    uint64_t pbs = d->physical_block_size ? d->physical_block_size : 512;
    if (lbs > pbs) {
        error_setg(errp, "logical_block_size > physical_block_size not supported");
        return false;
    }
    if (d->min_io_size % lbs) {
        error_setg(errp, "min_io_size must be a multiple of logical_block_size");
        return false;
    }
    if (d->min_io_size / lbs > 65535) {
        error_setg(errp, "min_io_size must not exceed 65535 logical blocks");
        return false;
    }
    if (d->opt_io_size % lbs) {
        error_setg(errp, "opt_io_size must be a multiple of logical_block_size");
        return false;
    }
    if (d->discard_granularity % lbs) {
        error_setg(errp, "discard_granularity must be a multiple of logical_block_size");
        return false;
    }
    if (lbs != 512) {
        error_setg(errp, "logical_block_size must be 512 for IDE");
        return false;
    }
    if (!is_cd && (d->cyls || d->heads || d->secs)) {
        if (d->cyls < 1 || d->cyls > 65535) {
            error_setg(errp, "cyls must be between 1 and 65535");
            return false;
        }
        if (d->heads < 1 || d->heads > 16) {
            error_setg(errp, "heads must be between 1 and 16");
            return false;
        }
        if (d->secs < 1 || d->secs > 255) {
            error_setg(errp, "secs must be between 1 and 255");
            return false;
        }
    }
    return true;
}

/* ---- CHS geometry, as QEMU guesses it (hw/block/hd-geometry.c) ---- */

enum { CHS_TRANS_AUTO, CHS_TRANS_NONE, CHS_TRANS_LBA, CHS_TRANS_LARGE };

static int chs_auto_trans(uint32_t cyls, uint32_t heads, uint32_t secs)
{
    return cyls <= 1024 && heads <= 16 && secs <= 63 ? CHS_TRANS_NONE : CHS_TRANS_LBA;
}

/* The logical geometry an MBR partition table implies: heads and sectors
 * from the end of the first partition that ends past head 0. */
static bool guess_lchs_from_mbr(BlockBackend *blk, uint64_t nb_sectors,
                                uint32_t *cyls, uint32_t *heads, uint32_t *secs)
{
    uint8_t buf[512];
    /* a direct read on the node: blk_pread would run the main loop (and
     * the monitors) in the middle of realize */
    BlockDriverState *bs = blk_bs(blk);
    if (!bs || bdrv_pread(bs, 0, buf, sizeof(buf)) < 0 || buf[510] != 0x55 || buf[511] != 0xaa) {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = buf + 0x1be + 16 * i;
        uint32_t nr_sects = p[12] | (p[13] << 8) | (p[14] << 16) | ((uint32_t)p[15] << 24);
        if (!nr_sects || !p[5]) {
            continue;
        }
        uint32_t h = p[5] + 1, sec = p[6] & 63;
        if (!sec) {
            continue;
        }
        uint64_t c = nb_sectors / (h * sec);
        if (c < 1 || c > 16383) {
            continue;
        }
        *cyls = c;
        *heads = h;
        *secs = sec;
        return true;
    }
    return false;
}

/* Fill cyls/heads/secs and resolve bios-chs-trans=auto the way QEMU does
 * (info qtree then shows the values in use). */
static void ide_guess_geometry(IDEDevice *d)
{
    if (d->cyls || d->heads || d->secs) {
        if (d->chs_trans == CHS_TRANS_AUTO) {
            d->chs_trans = chs_auto_trans(d->cyls, d->heads, d->secs);
        }
        return;
    }
    int64_t len = blk_getlength(d->blk);
    uint64_t nb = len > 0 ? (uint64_t)len / IDE_SECTOR_SIZE : 0;
    uint32_t c, h, sec;
    int trans;
    bool mbr = guess_lchs_from_mbr(d->blk, nb, &c, &h, &sec);
    if (mbr && h <= 16) {
        trans = CHS_TRANS_NONE;              /* the logical geometry is the physical one */
    } else {
        uint64_t cg = nb / (16 * 63);
        c = cg > 16383 ? 16383 : cg < 2 ? 2 : cg;
        trans = !mbr ? chs_auto_trans(c, 16, 63)
                     : (uint64_t)c * 16 <= 131072 ? CHS_TRANS_LARGE : CHS_TRANS_LBA;
        h = 16;
        sec = 63;
    }
    d->cyls = c;
    d->heads = h;
    d->secs = sec;
    if (d->chs_trans == CHS_TRANS_AUTO) {
        d->chs_trans = trans;
    }
}

static void hd_resize_cb(void *opaque)
{
    IDEState *s = opaque;
    int64_t len = blk_getlength(s->blk);
    s->nb_sectors = len > 0 ? (uint64_t)len / IDE_SECTOR_SIZE : 0;
    uint16_t *p = s->identify;
    uint64_t lba28 = MIN(s->nb_sectors, 0x0fffffffull);
    p[60] = lba28;
    p[61] = lba28 >> 16;
    p[100] = s->nb_sectors;
    p[101] = s->nb_sectors >> 16;
    p[102] = s->nb_sectors >> 32;
    p[103] = s->nb_sectors >> 48;
}

static const BlockDevOps ide_hd_ops = {
    .resize_cb = hd_resize_cb,
};

static void cd_change_media_cb(void *opaque, bool load)
{
    atapi_medium_changed(opaque, load);
}

static bool cd_is_tray_open(void *opaque)
{
    return ((IDEState *)opaque)->tray_open;
}

static bool cd_is_medium_locked(void *opaque)
{
    return ((IDEState *)opaque)->tray_locked;
}

static void cd_eject_request_cb(void *opaque, bool force)
{
    IDEState *s = opaque;
    s->ev_eject_request = true;
    if (force) {
        s->tray_locked = false;
    }
    ide_set_irq(s->bus);
}

static const BlockDevOps ide_cd_ops = {
    .change_media_cb = cd_change_media_cb,
    .is_tray_open = cd_is_tray_open,
    .is_medium_locked = cd_is_medium_locked,
    .eject_request_cb = cd_eject_request_cb,
};

static bool ide_dev_realize(DeviceState *dev, bool is_cd, Error **errp)
{
    IDEDevice *d = (IDEDevice *)dev;
    IDEBus *bus = ide_bus_of(dev->parent_bus);
    if (!bus) {
        error_setg(errp, "No 'IDE' bus found for device '%s'", dev->cls->name);
        return false;
    }
    uint32_t unit = d->unit;
    if (unit == UINT32_MAX) {
        unit = bus->ifs[0].dev ? 1 : 0;
    }
    if (unit >= 2) {
        error_setg(errp, "Can't create IDE unit %u, bus supports only 2 units", unit);
        return false;
    }
    if (bus->ifs[unit].dev) {
        error_setg(errp, "IDE unit %u is in use", unit);
        return false;
    }
    if (!d->blk) {
        if (!is_cd) {
            error_setg(errp, "No drive specified");
            return false;
        }
        d->blk = blk_new_empty(NULL);      /* released with the drive property */
        blk_attach_dev(d->blk, dev);
    }
    if (!ide_dev_check_conf(d, is_cd, errp)) {
        return false;
    }
    if (!is_cd) {
        if (!blk_is_inserted(d->blk)) {
            error_setg(errp, "Device needs media, but drive is empty");
            return false;
        }
        if (blk_is_read_only(d->blk)) {
            error_setg(errp, "Block node is read-only");
            return false;
        }
    }
    if (d->rerror != BLOCKDEV_ON_ERROR_AUTO || d->werror != BLOCKDEV_ON_ERROR_AUTO) {
        BlockdevOnError r = d->rerror != BLOCKDEV_ON_ERROR_AUTO ? (BlockdevOnError)d->rerror : blk_get_on_error(d->blk, true);
        BlockdevOnError w = d->werror != BLOCKDEV_ON_ERROR_AUTO ? (BlockdevOnError)d->werror : blk_get_on_error(d->blk, false);
        blk_set_on_error(d->blk, r, w);
    }
    if (d->write_cache != ON_OFF_AUTO_AUTO) {
        blk_set_enable_write_cache(d->blk, d->write_cache == ON_OFF_AUTO_ON);
    }

    /* the firmware path SeaBIOS matches in fw_cfg "bootorder" */
    int devfn = bus->pci->devfn;
    char *fw_path = PCI_FUNC(devfn)
        ? g_strdup_printf("/pci@i0cf8/ide@%x,%x/drive@%d/disk@%u", PCI_SLOT(devfn), PCI_FUNC(devfn),
                          bus->index, unit)
        : g_strdup_printf("/pci@i0cf8/ide@%x/drive@%d/disk@%u", PCI_SLOT(devfn), bus->index, unit);
    bool ok = boot_device_add(d->bootindex, fw_path, errp);
    g_free(fw_path);
    if (!ok) {
        return false;
    }

    IDEState *s = &bus->ifs[unit];
    if (d->serial) {
        g_strlcpy(s->serial, d->serial, sizeof(s->serial));
    } else {
        d->serial = g_strdup(s->serial);
    }
    g_strlcpy(s->model, d->model ? d->model : is_cd ? "QEMU DVD-ROM" : "QEMU HARDDISK",
              sizeof(s->model));
    if (d->ver) {
        g_strlcpy(s->version, d->ver, sizeof(s->version));
    } else {
        d->ver = g_strdup(s->version);
    }
    s->wwn = d->wwn;
    s->discard = !is_cd && d->discard_granularity != 0;
    d->unit = unit;
    if (!is_cd) {
        ide_guess_geometry(d);
    }
    ide_unit_attach(s, d, is_cd);
    blk_set_dev_ops(d->blk, is_cd ? &ide_cd_ops : &ide_hd_ops, s);
    return true;
}

static bool ide_hd_realize(DeviceState *dev, Error **errp)
{
    return ide_dev_realize(dev, false, errp);
}

static bool ide_cd_realize(DeviceState *dev, Error **errp)
{
    return ide_dev_realize(dev, true, errp);
}

#define IDE_COMMON_PROPS                                                                  \
    DEFINE_PROP("drive", IDEDevice, blk, drive, NULL),                                    \
    DEFINE_PROP("unit", IDEDevice, unit, uint32, "4294967295"),                           \
    DEFINE_PROP("serial", IDEDevice, serial, str, NULL),                                  \
    DEFINE_PROP("model", IDEDevice, model, str, NULL),                                    \
    DEFINE_PROP("ver", IDEDevice, ver, str, NULL),                                        \
    DEFINE_PROP("wwn", IDEDevice, wwn, uint64, "0"),                                      \
    { .name = "bootindex", .type = &prop_bootindex_parse, .offset = offsetof(IDEDevice, bootindex), \
      .defval = "-1" },                                                                   \
    { .name = "logical_block_size", .type = &prop_blocksize,                              \
      .offset = offsetof(IDEDevice, logical_block_size), .defval = "0" },                 \
    { .name = "physical_block_size", .type = &prop_blocksize,                             \
      .offset = offsetof(IDEDevice, physical_block_size), .defval = "0" },                \
    DEFINE_PROP("min_io_size", IDEDevice, min_io_size, size, "0"),                        \
    DEFINE_PROP("opt_io_size", IDEDevice, opt_io_size, size, "0"),                        \
    DEFINE_PROP("discard_granularity", IDEDevice, discard_granularity, size, "4294967295"), \
    DEFINE_PROP("write-cache", IDEDevice, write_cache, on_off_auto, "auto"),              \
    DEFINE_PROP("account-invalid", IDEDevice, account_invalid, on_off_auto, "auto"),      \
    DEFINE_PROP("account-failed", IDEDevice, account_failed, on_off_auto, "auto"),        \
    DEFINE_PROP("backend_defaults", IDEDevice, backend_defaults, on_off_auto, "auto"),    \
    DEFINE_PROP("rerror", IDEDevice, rerror, blockdev_on_error, "auto"),                  \
    DEFINE_PROP("werror", IDEDevice, werror, blockdev_on_error, "auto"),                  \
    { .name = "share-rw", .type = &prop_bool, .offset = offsetof(IDEDevice, share_rw),      \
      .defval = "false", .desc = "" }

static const PropType prop_bootindex_parse = { "int32", parse_bootindex, NULL, NULL, NULL };

static const Property ide_hd_props[] = {
    IDE_COMMON_PROPS,
    DEFINE_PROP("cyls", IDEDevice, cyls, uint32, "0"),
    DEFINE_PROP("heads", IDEDevice, heads, uint32, "0"),
    DEFINE_PROP("secs", IDEDevice, secs, uint32, "0"),
    DEFINE_PROP("lcyls", IDEDevice, lcyls, uint32, "0"),
    DEFINE_PROP("lheads", IDEDevice, lheads, uint32, "0"),
    DEFINE_PROP("lsecs", IDEDevice, lsecs, uint32, "0"),
    DEFINE_PROP("bios-chs-trans", IDEDevice, chs_trans, bios_chs_trans, "auto"),
    DEFINE_PROP("rotation_rate", IDEDevice, rotation_rate, uint16, "0"),
    DEFINE_PROP_END,
};

static const Property ide_cd_props[] = {
    IDE_COMMON_PROPS,
    DEFINE_PROP_END,
};

static const DeviceClass ide_hd_class = {
    .name = "ide-hd",
    .bus_type = "IDE",
    .desc = "virtual IDE disk",
    .category = "Storage devices",
    .instance_size = sizeof(IDEDevice),
    .props = ide_hd_props,
    .user_creatable = true,
    .realize = ide_hd_realize,
};

static const DeviceClass ide_cd_class = {
    .name = "ide-cd",
    .bus_type = "IDE",
    .desc = "virtual IDE CD-ROM",
    .category = "Storage devices",
    .instance_size = sizeof(IDEDevice),
    .props = ide_cd_props,
    .user_creatable = true,
    .realize = ide_cd_realize,
};

MODULE_INIT(ide_dev_register)
{
    device_class_register(&ide_hd_class);
    device_class_register(&ide_cd_class);
}
