/*
 * Error objects and QEMU-style error reporting ("prog: location: message").
 * Locking: none; the location and sink are per thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "util/error.h"

Error *error_fatal;
Error *error_abort;

static char *progname;
static __thread char *loc_text;
static __thread ErrorSink *sink_fn;
static __thread void *sink_opaque;

void error_set_progname(const char *argv0)
{
    g_free(progname);
    progname = g_path_get_basename(argv0);
}

const char *error_get_progname(void)
{
    return progname ? progname : "kemu-system-x86_64";
}

void loc_set_option(const char *opt, const char *arg)
{
    g_free(loc_text);
    loc_text = arg ? g_strdup_printf("%s %s", opt, arg) : g_strdup(opt);
}

void loc_clear(void)
{
    g_free(loc_text);
    loc_text = NULL;
}

void error_set_sink(ErrorSink *sink, void *opaque)
{
    sink_fn = sink;
    sink_opaque = opaque;
}

static void report(const char *kind, const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    if (sink_fn) {
        g_autofree char *line = g_strdup_printf("%s%s\n", kind, msg);
        sink_fn(sink_opaque, line);
        return;
    }
    if (loc_text) {
        fprintf(stderr, "%s: %s: %s%s\n", error_get_progname(), loc_text, kind, msg);
    } else {
        fprintf(stderr, "%s: %s%s\n", error_get_progname(), kind, msg);
    }
}

void error_vreport(const char *fmt, va_list ap)
{
    report("", fmt, ap);
}

void error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("", fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("warning: ", fmt, ap);
    va_end(ap);
}

void info_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("info: ", fmt, ap);
    va_end(ap);
}

static void error_deliver(Error **errp, Error *err)
{
    if (errp == &error_fatal) {
        error_report_err(err);
        exit(1);
    }
    if (errp == &error_abort) {
        error_report_err(err);
        abort();
    }
    if (!errp || *errp) {       /* ignored, or first error wins */
        error_free(err);
        return;
    }
    *errp = err;
}

static void error_setv(Error **errp, ErrorClass cls, const char *fmt, va_list ap, const char *suffix)
{
    Error *err = g_new0(Error, 1);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    err->cls = cls;
    err->msg = suffix ? g_strdup_printf("%s: %s", msg, suffix) : g_steal_pointer(&msg);
    error_deliver(errp, err);
}

void error_setg(Error **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(errp, ERROR_CLASS_GENERIC_ERROR, fmt, ap, NULL);
    va_end(ap);
}

void error_set(Error **errp, ErrorClass cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(errp, cls, fmt, ap, NULL);
    va_end(ap);
}

void error_setg_errno(Error **errp, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(errp, ERROR_CLASS_GENERIC_ERROR, fmt, ap, strerror(err));
    va_end(ap);
}

void error_append_hint(Error **errp, const char *fmt, ...)
{
    if (!errp || errp == &error_fatal || errp == &error_abort || !*errp) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *h = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *old = (*errp)->hint;
    (*errp)->hint = g_strconcat(old ? old : "", h, NULL);
    g_free(old);
}

void error_prepend(Error **errp, const char *fmt, ...)
{
    if (!errp || errp == &error_fatal || errp == &error_abort || !*errp) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *p = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *old = (*errp)->msg;
    (*errp)->msg = g_strconcat(p, old, NULL);
    g_free(old);
}

void error_propagate(Error **dst, Error *local)
{
    if (local) {
        error_deliver(dst, local);
    }
}

void error_free(Error *err)
{
    if (err) {
        g_free(err->msg);
        g_free(err->hint);
        g_free(err);
    }
}

const char *error_get_pretty(const Error *err)
{
    return err->msg;
}

const char *error_class_name(ErrorClass cls)
{
    static const char *const names[] = {
        [ERROR_CLASS_GENERIC_ERROR] = "GenericError",
        [ERROR_CLASS_COMMAND_NOT_FOUND] = "CommandNotFound",
        [ERROR_CLASS_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
        [ERROR_CLASS_DEVICE_NOT_FOUND] = "DeviceNotFound",
        [ERROR_CLASS_KVM_MISSING_CAP] = "KVMMissingCap",
    };
    return names[cls];
}

void error_report_err(Error *err)
{
    /* QEMU's loaders print "qemu: ..." with no program/location prefix */
    if (!sink_fn && g_str_has_prefix(err->msg, "qemu: ")) {
        fprintf(stderr, "%s\n", err->msg);
    } else {
        error_report("%s", err->msg);
    }
    if (err->hint) {
        if (sink_fn) {
            sink_fn(sink_opaque, err->hint);
        } else {
            fputs(err->hint, stderr);
        }
    }
    error_free(err);
}

void warn_report_err(Error *err)
{
    warn_report("%s", err->msg);
    error_free(err);
}
