/*
 * -d log masks and the -D log file, as QEMU names them. Subsystems test
 * a mask bit with qemu_loglevel_mask() and print with qemu_log().
 * Locking: qemu_log() may be called from any thread (stdio locking).
 */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include <stdbool.h>

#define LOG_INT          (1u << 0)
#define LOG_EXEC         (1u << 1)
#define LOG_CPU          (1u << 2)
#define LOG_MMU          (1u << 3)
#define LOG_PCALL        (1u << 4)
#define LOG_CPU_RESET    (1u << 5)
#define LOG_UNIMP        (1u << 6)
#define LOG_GUEST_ERROR  (1u << 7)
#define LOG_IN_ASM       (1u << 8)

extern unsigned qemu_loglevel;

static inline bool qemu_loglevel_mask(unsigned mask)
{
    return (qemu_loglevel & mask) != 0;
}

void qemu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_set_file(const char *path);
/* "-d a,b": false (after printing the item list) on an unknown item;
 * "help" prints the list and exits 0. */
bool log_set_mask(const char *items);
void log_init(void);

#endif
