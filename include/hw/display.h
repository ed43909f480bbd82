/*
 * Display devices seen from the machine and the command line: -vga and
 * the default VGA of the pc machine (hw/display/vga-pci.c).
 * Locking: startup only.
 */
#ifndef HW_DISPLAY_H
#define HW_DISPLAY_H

#include <stdbool.h>
#include "hw/qdev.h"

/* -vga TYPE as given ("std", "none"); NULL: the machine's default. */
extern const char *vga_interface_type;
/* Validate -vga: exits like QEMU for unknown or unavailable types, lists them for "help". */
void vga_interface_check(const char *type);
/* Create the VGA on pci_bus unless vga_interface_type says otherwise
 * (vl.c sets "none" for -vga none and for -nodefaults without -vga). */
bool pc_vga_init(Bus *pci_bus, Error **errp);

#endif
