/*
 * Helpers shared by the kemu-img command files (kemu-img.c, img-convert.c):
 * quiet printing, opening images, and the argument checks every command
 * makes with qemu-img's messages.
 * Locking: single-threaded tool.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <getopt.h>
#include "block/block.h"
#include "img-common.h"
#include "util/cutils.h"

bool img_quiet;

void img_printf(const char *fmt, ...)
{
    if (img_quiet) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

BlockDriverState *img_open(const char *filename, const char *fmt, int flags, bool quiet_warn)
{
    Error *err = NULL;
    (void)quiet_warn;
    BlockDriverState *bs = bdrv_open(filename, fmt, NULL, flags, &err);
    if (!bs) {
        error_prepend(&err, "Could not open '%s': ", filename);
        error_report_err(err);
    }
    return bs;
}

/* qemu-img's size argument: number with optional k/M/G/T/P/E suffix. */
int img_parse_size(const char *str, int64_t *out)
{
    uint64_t v;
    if (qemu_strtosz(str, &v) < 0 || v > INT64_MAX) {
        if (qemu_strtosz(str, &v) == 0 || (str[0] == '-')) {
            error_report("Image size must be less than 8 EiB!");
        } else {
            error_report("Invalid image size specified. You may use k, M, G, T, P or E "
                         "suffixes for");
            error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and "
                         "exabytes.");
        }
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

int img_add_opts(KVDict *d, const char *opts)
{
    Error *err = NULL;
    KVDict *o = kv_parse(opts, NULL, &err);
    if (!o) {
        error_report_err(err);
        return -1;
    }
    for (int i = 0; i < o->n; i++) {
        kv_set(d, o->p[i].key, o->p[i].value);
    }
    kv_free(o);
    return 0;
}

void img_set_size(KVDict *o, int64_t size)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, size);
    kv_set(o, "size", buf);
}

int img_parse_output(const char *output, bool *json)
{
    *json = !strcmp(output, "json");
    if (!*json && strcmp(output, "human")) {
        error_report("--output must be used with human or json as argument.");
        return -1;
    }
    return 0;
}

bool img_one_filename(int argc)
{
    if (optind != argc - 1) {
        error_report("Expecting one image file name");
        return false;
    }
    return true;
}

bool img_is_qcow2(BlockDriverState *bs)
{
    return !strcmp(bs->drv->format_name, "qcow2");
}
