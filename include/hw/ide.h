/*
 * IDE for the pc machine: the PIIX3 IDE function (00:01.1) with buses
 * ide.0 and ide.1, and ide-hd / ide-cd devices for -drive if=ide
 * (hw/ide/, docs/ide.md).
 * Locking: startup only (BQL).
 */
#ifndef HW_IDE_H
#define HW_IDE_H

#include <stdbool.h>
#include "hw/qdev.h"
#include "util/error.h"

/* Create piix3-ide at 00:01.1 on pci_bus, then a device for each
 * -drive if=ide (bus 0..1, unit 0..1). */
bool pc_ide_init(Bus *pci_bus, Error **errp);

#endif
