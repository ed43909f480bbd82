/*
 * Drives as the command line and the devices see them: -drive/-hda/-cdrom
 * definitions (DriveInfo), the "drive" device property (a -drive id or a
 * -blockdev node-name), and the guest I/O error policy (BLOCK_IO_ERROR,
 * werror=stop pauses the VM). Follows QEMU 7.2's blockdev.c behaviour.
 * Locking: BQL.
 */
#ifndef SYSTEM_BLOCKDEV_H
#define SYSTEM_BLOCKDEV_H

#include <stdbool.h>
#include "block/block.h"
#include "hw/qdev.h"
#include "util/kvopts.h"

typedef enum {
    IF_NONE, IF_IDE, IF_SCSI, IF_FLOPPY, IF_PFLASH, IF_MTD, IF_SD, IF_VIRTIO, IF_XEN, IF__MAX
} BlockInterfaceType;

typedef struct DriveInfo {
    BlockInterfaceType type;
    int bus, unit;             /* IDE: bus 0..1, unit 0..1 */
    bool is_cdrom;             /* media=cdrom */
    bool auto_connected;       /* if != none: the machine makes its device */
    bool is_default;           /* a default drive (ide1-cd0, floppy0, sd0): never an orphan */
    char *id;                  /* "ide0-hd0", "virtio0", or id= */
    char *serial;
    KVDict *devopts;           /* virtio: extra -device options (addr=) */
    BlockBackend *blk;
    const char *loc_opt, *loc_arg;  /* the command line option, for errors */
} DriveInfo;

/* -drive OPTS (also -hda/-cdrom/... which the caller rewrites as -drive). */
DriveInfo *drive_new(const char *optstr, BlockInterfaceType default_if, Error **errp);
/* The drive of an interface at bus/unit, or NULL. */
DriveInfo *drive_get(BlockInterfaceType type, int bus, int unit);
DriveInfo *drive_by_blk(BlockBackend *blk);
/* QEMU's default drives without -nodefaults: an empty CD-ROM at IDE
 * index 2, floppy0 and sd0, each unless a drive already has that slot. */
bool drive_add_defaults(bool cdrom, Error **errp);
/* Create the devices for if=virtio drives (after the machine exists). */
bool drive_create_virtio_devices(Error **errp);
/* Drives with if=ide left without a device (machines without IDE). */
bool drive_check_orphans(Error **errp);
/* -snapshot on the command line: every -drive gets snapshot=on. */
extern bool drive_snapshot_all;

/* The "drive" property: resolve NAME to a backend and attach 'dev' to it
 * (QEMU's errors for unknown and in-use drives). */
bool drive_prop_attach(DeviceState *dev, const char *prop, const char *name,
                       BlockBackend **out, Error **errp);
/* Undo drive_prop_attach (device gone, or property set twice). */
void drive_prop_detach(BlockBackend *blk);

/* Install the error hook (BLOCK_IO_ERROR event, stop on STOP). */
void blockdev_init(void);
/* io-status for query-block: "ok", "failed", "nospace". */
const char *blockdev_io_status(BlockBackend *blk);
/* cont: clear every io-status (QEMU resets them when the VM resumes). */
void blockdev_reset_io_status(void);
/* werror=/rerror= value from text ("report", "stop", ...); false if bad. */
bool blockdev_parse_on_error(const char *s, bool is_read, BlockdevOnError *out);

#endif
