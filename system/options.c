/*
 * The option table: QEMU's option names (from options.def) and -h output.
 * Locking: none.
 */
#include <stdio.h>
#include <string.h>
#include "system/options.h"

static const OptDesc opt_table[] = {
#define OPT(name, enumname, has_arg, help) { name, OPT_##enumname, has_arg, help },
#include "system/options.def"
#undef OPT
};

const OptDesc *options_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(opt_table); i++) {
        if (!strcmp(opt_table[i].name, name)) {
            return &opt_table[i];
        }
    }
    return NULL;
}

void options_print_help(void)
{
    printf("usage: %s [options] [disk_image]\n\n"
           "'disk_image' is a raw hard disk image for IDE hard disk 0\n\n"
           "Standard options:\n", g_get_prgname());
    for (size_t i = 0; i < G_N_ELEMENTS(opt_table); i++) {
        if (opt_table[i].help) {
            printf("%s\n", opt_table[i].help);
        }
    }
    printf("\nDuring emulation, the following keys are useful:\n"
           "ctrl-alt-f      toggle full screen\n"
           "ctrl-alt-n      switch to virtual console 'n'\n"
           "ctrl-alt        toggle mouse and keyboard grab\n\n"
           "When using -nographic, press 'ctrl-a h' to get some help.\n\n"
           "See <https://qemu.org/contribute/report-a-bug> for how to report bugs.\n"
           "More information on the QEMU project at <https://qemu.org>.\n");
}
