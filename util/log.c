/*
 * -d / -D logging with QEMU's item names. Items that only mean something
 * to a JIT (out_asm, op, ...) are accepted and log nothing.
 * Locking: stdio's own locking.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "util/error.h"
#include "util/log.h"

unsigned qemu_loglevel;
static const char *log_path;
static FILE *log_file;

typedef struct LogItem {
    const char *name;
    unsigned mask;
    const char *help;
} LogItem;

static const LogItem log_items[] = {
    { "out_asm", 0, "show generated host assembly code for each compiled TB" },
    { "in_asm", LOG_IN_ASM, "show target assembly code for each compiled TB" },
    { "op", 0, "show micro ops for each compiled TB" },
    { "op_opt", 0, "show micro ops after optimization" },
    { "op_ind", 0, "show micro ops before indirect lowering" },
    { "int", LOG_INT, "show interrupts/exceptions in short format" },
    { "exec", LOG_EXEC, "show trace before each executed TB (lots of logs)" },
    { "cpu", LOG_CPU, "show CPU registers before entering a TB (lots of logs)" },
    { "fpu", 0, "include FPU registers in the 'cpu' logging" },
    { "mmu", LOG_MMU, "log MMU-related activities" },
    { "pcall", LOG_PCALL, "x86 only: show protected mode far calls/returns/exceptions" },
    { "cpu_reset", LOG_CPU_RESET, "show CPU state before CPU resets" },
    { "unimp", LOG_UNIMP, "log unimplemented functionality" },
    { "guest_errors", LOG_GUEST_ERROR, "log when the guest OS does something invalid (eg accessing a\nnon-existent register)" },
    { "page", 0, "dump pages at beginning of user mode emulation" },
    { "nochain", 0, "do not chain compiled TBs so that \"exec\" and \"cpu\" show\ncomplete traces" },
    { "plugin", 0, "output from TCG plugins" },
};

static void print_items(void)
{
    printf("Log items (comma separated):\n");
    for (size_t i = 0; i < G_N_ELEMENTS(log_items); i++) {
        printf("%-15s %s\n", log_items[i].name, log_items[i].help);
    }
    printf("\nstrace          log every user-mode syscall, its input, and its result\n"
           "tid             open a separate log file per thread; filename must contain '%%d'\n"
           "trace:PATTERN   enable trace events\n\n"
           "Use \"-d trace:help\" to get a list of trace events.\n\n");
}

bool log_set_mask(const char *items)
{
    if (!strcmp(items, "help") || !strcmp(items, "?")) {
        print_items();
        exit(0);
    }
    g_auto(GStrv) parts = g_strsplit(items, ",", -1);
    unsigned mask = 0;
    for (int i = 0; parts[i]; i++) {
        if (!strcmp(parts[i], "all")) {
            mask = ~0u;
            continue;
        }
        if (g_str_has_prefix(parts[i], "trace:") || !strcmp(parts[i], "tid") || !strcmp(parts[i], "strace")) {
            continue;
        }
        size_t k;
        for (k = 0; k < G_N_ELEMENTS(log_items); k++) {
            if (!strcmp(parts[i], log_items[k].name)) {
                mask |= log_items[k].mask;
                break;
            }
        }
        if (k == G_N_ELEMENTS(log_items)) {
            print_items();
            return false;
        }
    }
    qemu_loglevel = mask;
    return true;
}

void log_set_file(const char *path)
{
    log_path = path;
}

void log_init(void)
{
    if (log_path) {
        log_file = fopen(log_path, "a");
        if (!log_file) {
            error_report("Can't open logfile '%s': %s", log_path, g_strerror(errno));
            exit(1);
        }
        setvbuf(log_file, NULL, _IOLBF, 0);
    }
}

void qemu_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log_file ? log_file : stderr, fmt, ap);
    va_end(ap);
}
