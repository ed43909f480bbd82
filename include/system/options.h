/*
 * The command-line option table (QEMU's names, single or double dash) and
 * the parsed configuration vl.c builds the machine from.
 * Locking: none (startup only).
 */
#ifndef SYSTEM_OPTIONS_H
#define SYSTEM_OPTIONS_H

#include <stdbool.h>
#include <glib.h>

typedef enum {
#define OPT(name, enumname, has_arg, help) OPT_##enumname,
#include "system/options.def"
#undef OPT
    OPT__COUNT
} OptIndex;

typedef struct OptDesc {
    const char *name;
    OptIndex index;
    bool has_arg;
    const char *help;
} OptDesc;

/* Look up "-name" / "--name" (the leading dashes already stripped). */
const OptDesc *options_find(const char *name);
void options_print_help(void);

#endif
