/*
 * kemu-io: a small qemu-io work-alike used by the iotests to drive kemu's
 * block layer directly: write -P/-z, read -P (verify), discard, flush,
 * with qemu-io's "wrote N/N bytes at offset O" lines (without timings).
 * Also: 'sleep MS', 'snapshot NAME' and 'writec -P pat OFF' (one compressed cluster).
 * Usage: kemu-io [-f fmt] [-n] [-r] -c 'cmd' [-c 'cmd' ...] image
 * Locking: single-threaded tool; blocking bdrv_* calls.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "block/block.h"
#include "../../block/qcow2.h"
#include "util/cutils.h"

static int64_t parse_num(const char *s)
{
    uint64_t v;
    if (!s || qemu_strtosz(s, &v) < 0) {
        return -1;
    }
    return (int64_t)v;
}

static int run_cmd(BlockDriverState *bs, const char *line)
{
    gchar **argv = g_strsplit_set(line, " \t", -1);
    int argc = 0;
    gchar *args[16];
    for (int i = 0; argv[i] && argc < 16; i++) {
        if (argv[i][0]) {
            args[argc++] = argv[i];
        }
    }
    int ret = 0;
    int pattern = -1;
    bool zero = false;
    int a = 1;
    if (argc == 0) {
        goto out;
    }
    while (a < argc && args[a][0] == '-') {
        if (!strcmp(args[a], "-P") && a + 1 < argc) {
            pattern = (int)strtol(args[a + 1], NULL, 0) & 0xff;
            a += 2;
        } else if (!strcmp(args[a], "-z")) {
            zero = true;
            a++;
        } else {
            a++;
        }
    }
    const char *cmd = args[0];
    if (!strcmp(cmd, "snapshot") && argc == 2 && !strcmp(bs->drv->format_name, "qcow2")) {
        Error *err = NULL;
        ret = qcow2_snapshot_create(bs, args[1], &err);
        if (ret < 0) {
            error_report_err(err);
        }
        goto out;
    }
    if (!strcmp(cmd, "writec") && a < argc && !strcmp(bs->drv->format_name, "qcow2")) {
        /* one compressed cluster filled with the pattern */
        int64_t o = parse_num(args[a]);
        uint8_t *b = g_malloc(2 * MiB);
        memset(b, pattern < 0 ? 0xcd : pattern, 2 * MiB);
        ret = qcow2_write_compressed(bs, o, b);
        g_free(b);
        goto out;
    }
    if (!strcmp(cmd, "sleep") && a < argc) {
        g_usleep(strtoul(args[a], NULL, 0) * 1000);
        goto out;
    }
    if (!strcmp(cmd, "flush")) {
        ret = bdrv_flush(bs);
        if (ret == 0) {
            printf("flushed\n");
            fflush(stdout);
        }
        goto out;
    }
    int64_t off = parse_num(a < argc ? args[a] : NULL);
    int64_t len = parse_num(a + 1 < argc ? args[a + 1] : NULL);
    if (off < 0 || len < 0) {
        fprintf(stderr, "kemu-io: bad arguments: %s\n", line);
        ret = -EINVAL;
        goto out;
    }
    if (!strcmp(cmd, "write")) {
        if (zero) {
            ret = bdrv_pwrite_zeroes(bs, off, len);
        } else {
            uint8_t *buf = g_malloc(len ? len : 1);
            memset(buf, pattern < 0 ? 0xcd : pattern, len);
            ret = bdrv_pwrite(bs, off, buf, len);
            g_free(buf);
        }
        if (ret == 0) {
            printf("wrote %" PRId64 "/%" PRId64 " bytes at offset %" PRId64 "\n", len, len, off);
        }
    } else if (!strcmp(cmd, "read")) {
        uint8_t *buf = g_malloc(len ? len : 1);
        ret = bdrv_pread(bs, off, buf, len);
        if (ret == 0 && pattern >= 0) {
            for (int64_t i = 0; i < len; i++) {
                if (buf[i] != pattern) {
                    printf("Pattern verification failed at offset %" PRId64 ", %" PRId64
                           " bytes\n", off + i, len - i);
                    break;
                }
            }
        }
        if (ret == 0) {
            printf("read %" PRId64 "/%" PRId64 " bytes at offset %" PRId64 "\n", len, len, off);
        }
        g_free(buf);
    } else if (!strcmp(cmd, "discard")) {
        ret = bdrv_pdiscard(bs, off, len);
        if (ret == 0) {
            printf("discard %" PRId64 "/%" PRId64 " bytes at offset %" PRId64 "\n",
                   len, len, off);
        }
    } else {
        fprintf(stderr, "kemu-io: unknown command: %s\n", cmd);
        ret = -EINVAL;
    }
out:
    if (ret < 0 && ret != -EINVAL) {
        printf("%s failed: %s\n", cmd ? cmd : "?", g_strerror(-ret));
    }
    g_strfreev(argv);
    return ret;
}

int main(int argc, char **argv)
{
    const char *fmt = NULL;
    GPtrArray *cmds = g_ptr_array_new();
    int flags = BDRV_O_RDWR, c;
    error_set_progname("kemu-io");
    while ((c = getopt(argc, argv, "f:c:nrU")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'c': g_ptr_array_add(cmds, optarg); break;
        case 'n': flags |= BDRV_O_NOCACHE; break;
        case 'r': flags &= ~BDRV_O_RDWR; break;
        case 'U': flags |= BDRV_O_FORCE_SHARE; break;
        default:
            return 1;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: kemu-io [-f fmt] [-n] [-r] -c cmd... image\n");
        return 1;
    }
    Error *err = NULL;
    BlockDriverState *bs = bdrv_open(argv[optind], fmt, NULL, flags, &err);
    if (!bs) {
        error_prepend(&err, "can't open device %s: ", argv[optind]);
        error_report_err(err);
        return 1;
    }
    int ret = 0;
    for (guint i = 0; i < cmds->len && ret == 0; i++) {
        ret = run_cmd(bs, g_ptr_array_index(cmds, i));
    }
    bdrv_unref(bs);
    g_ptr_array_free(cmds, TRUE);
    return ret ? 1 : 0;
}
