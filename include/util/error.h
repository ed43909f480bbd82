/*
 * Error reporting: Error objects carried through 'Error **errp' (their text
 * becomes a QMP "desc" or a command-line message) and the error_report()
 * family that prints "<prog>: [<location>: ]message" like QEMU.
 * Locking: none; error_report() may be called from any thread.
 */
#ifndef UTIL_ERROR_H
#define UTIL_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

typedef enum {
    ERROR_CLASS_GENERIC_ERROR,
    ERROR_CLASS_COMMAND_NOT_FOUND,
    ERROR_CLASS_DEVICE_NOT_ACTIVE,
    ERROR_CLASS_DEVICE_NOT_FOUND,
    ERROR_CLASS_KVM_MISSING_CAP,
} ErrorClass;

typedef struct Error {
    char *msg;
    char *hint;
    ErrorClass cls;
} Error;

/* &error_fatal as errp: report and exit(1). &error_abort: report and abort(). */
extern Error *error_fatal;
extern Error *error_abort;

void error_setg(Error **errp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void error_setg_errno(Error **errp, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void error_set(Error **errp, ErrorClass cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void error_append_hint(Error **errp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void error_prepend(Error **errp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void error_propagate(Error **dst, Error *local);
void error_free(Error *err);
const char *error_get_pretty(const Error *err);
const char *error_class_name(ErrorClass cls);

/* Program name used as the message prefix (basename of argv[0]). */
void error_set_progname(const char *argv0);
const char *error_get_progname(void);

/* Location prefix for command-line errors: "-device foo: ". NULL clears. */
void loc_set_option(const char *opt, const char *arg);
void loc_clear(void);

void error_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void error_vreport(const char *fmt, va_list ap);
void error_report_err(Error *err);       /* prints and frees */
void warn_report_err(Error *err);
/* Redirect error_report output (the monitor does this while running a command). */
typedef void ErrorSink(void *opaque, const char *text);
void error_set_sink(ErrorSink *sink, void *opaque);

#endif
