/*
 * Glue between main() and the parts it builds: monitors from -mon/-qmp/
 * -monitor, the serial backends handed to the machine, the firmware
 * search path (-L), and the machine's "done" phase.
 * Locking: startup only, BQL held.
 */
#ifndef SYSTEM_VL_H
#define SYSTEM_VL_H

#include <glib.h>
#include "util/kvopts.h"
#include "util/log.h"

typedef struct Chardev Chardev;
typedef struct Machine Machine;

/* -mon chardev=X,mode=readline|control[,pretty=on] (monitor/). */
bool monitor_init_opts(KVDict *opts, Error **errp);

/* Backends for COM1..COM4 (NULL: no port), taken by the machine's init. */
void machine_set_serial_hds(Machine *m, Chardev *hds[4]);
Chardev *serial_hd(int i);

/* After -device: fw_cfg files, ACPI, boot order, kernel loading. */
void machine_done(Machine *m);

/* -L directories, searched before the built-in firmware paths. */
extern GPtrArray *firmware_dirs;

#endif
