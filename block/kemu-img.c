/*
 * kemu-img: qemu-img 7.2's command line and output for create, info, check,
 * resize and snapshot (convert, compare and map are in img-convert.c).
 * Messages and exit codes follow qemu-img; the program name prefix is the
 * basename of argv[0].
 * Locking: single-threaded tool; block calls are made directly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "block/block.h"
#include "img-common.h"
#include "img-json.h"
#include "qcow2.h"
#include "util/cutils.h"

/* ---- create ---- */

static void print_formatting(const char *filename, const char *fmt, KVDict *o)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "Formatting '%s', fmt=%s", filename, fmt);
    if (!strcmp(fmt, "qcow2")) {
        const char *cs = kv_peek(o, "cluster_size");
        uint64_t csv = 65536;
        if (cs) {
            qemu_strtosz(cs, &csv);
        }
        g_string_append_printf(s, " cluster_size=%" PRIu64, csv);
        const char *el2 = kv_peek(o, "extended_l2");
        bool b = false;
        if (el2) {
            parse_bool(el2, &b);
        }
        g_string_append_printf(s, " extended_l2=%s", b ? "on" : "off");
        if (kv_peek(o, "preallocation")) {
            g_string_append_printf(s, " preallocation=%s", kv_peek(o, "preallocation"));
        }
        const char *ct = kv_peek(o, "compression_type");
        g_string_append_printf(s, " compression_type=%s", ct ? ct : "zlib");
        g_string_append_printf(s, " size=%s", kv_peek(o, "size"));
        if (kv_peek(o, "backing_file")) {
            g_string_append_printf(s, " backing_file=%s", kv_peek(o, "backing_file"));
        }
        if (kv_peek(o, "backing_fmt")) {
            g_string_append_printf(s, " backing_fmt=%s", kv_peek(o, "backing_fmt"));
        }
        if (kv_peek(o, "compat")) {
            g_string_append_printf(s, " compat=%s", kv_peek(o, "compat"));
        }
        const char *lr = kv_peek(o, "lazy_refcounts");
        b = false;
        if (lr) {
            parse_bool(lr, &b);
        }
        g_string_append_printf(s, " lazy_refcounts=%s", b ? "on" : "off");
        const char *rb = kv_peek(o, "refcount_bits");
        g_string_append_printf(s, " refcount_bits=%s", rb ? rb : "16");
    } else {
        g_string_append_printf(s, " size=%s", kv_peek(o, "size"));
        if (kv_peek(o, "preallocation")) {
            g_string_append_printf(s, " preallocation=%s", kv_peek(o, "preallocation"));
        }
    }
    img_printf("%s\n", s->str);
    g_string_free(s, TRUE);
}

int img_create_image(const char *filename, const char *fmt, KVDict *o, bool unsafe,
                     bool print)
{
    const char *backing = kv_peek(o, "backing_file");
    const char *bfmt = kv_peek(o, "backing_fmt");
    if (!bdrv_find_format(fmt) || !bdrv_find_format(fmt)->is_format) {
        error_report("Unknown file format '%s'", fmt);
        return 1;
    }
    if (backing && strcmp(fmt, "qcow2")) {
        error_report("%s: Backing file not supported for file format '%s'", filename, fmt);
        return 1;
    }
    if (backing && !bfmt) {
        g_autofree char *path = bdrv_resolve_backing_name(filename, backing);
        Error *e = NULL;
        const char *probed = bdrv_probe_format(path, &e);
        error_report("%s: Backing file specified without backing format", filename);
        if (probed) {
            fprintf(stderr, "Detected format of %s.\n", probed);
        }
        error_free(e);
        return 1;
    }
    if (backing && !unsafe) {
        g_autofree char *path = bdrv_resolve_backing_name(filename, backing);
        Error *e = NULL;
        BlockDriverState *b = bdrv_open(path, bfmt, NULL, BDRV_O_NO_BACKING, &e);
        if (!b) {
            error_report("%s: %s", filename, error_get_pretty(e));
            error_printf_hint("Could not open backing image.");
            error_free(e);
            return 1;
        }
        if (!kv_peek(o, "size")) {
            kv_set(o, "size", g_strdup_printf("%" PRId64, bdrv_getlength(b)));
        }
        bdrv_unref(b);
    }
    if (!kv_peek(o, "size")) {
        error_report("%s: Image creation needs a size parameter", filename);
        return 1;
    }
    uint64_t sz;
    if (qemu_strtosz(kv_peek(o, "size"), &sz) == 0) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRIu64, sz);
        kv_set(o, "size", buf);
    }
    if (print) {
        print_formatting(filename, fmt, o);
    }
    Error *err = NULL;
    if (bdrv_create(fmt, filename, o, &err) < 0) {
        error_prepend(&err, "%s: ", filename);
        error_report_err(err);
        return 1;
    }
    return 0;
}

static int img_create(int argc, char **argv)
{
    const char *fmt = "raw", *backing = NULL, *bfmt = NULL;
    bool unsafe = false;
    KVDict *o = kv_new();
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, 'O' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":F:b:f:ho:qu", longopts, NULL)) != -1) {
        switch (c) {
        case 'F': bfmt = optarg; break;
        case 'b': backing = optarg; break;
        case 'f': fmt = optarg; break;
        case 'o':
            if (img_add_opts(o, optarg) < 0) {
                kv_free(o);
                return 1;
            }
            break;
        case 'q': img_quiet = true; break;
        case 'u': unsafe = true; break;
        case 'O': break;
        default:
            error_report("Invalid option or missing argument");
            return 1;
        }
    }
    if (optind >= argc) {
        error_report("Expecting image file name");
        return 1;
    }
    const char *filename = argv[optind++];
    if (backing) {
        kv_set(o, "backing_file", backing);
    }
    if (bfmt) {
        kv_set(o, "backing_fmt", bfmt);
    }
    if (optind < argc) {
        int64_t sz;
        if (img_parse_size(argv[optind++], &sz) < 0) {
            return 1;
        }
        img_set_size(o, sz);
    }
    if (optind != argc) {
        error_report("Unexpected argument: %s", argv[optind]);
        return 1;
    }
    int ret = img_create_image(filename, fmt, o, unsafe, true);
    kv_free(o);
    return ret;
}

/* ---- info ---- */

static IJson *snapshot_json(QCowSnapshot *sn)
{
    IJson *o = ij_object();
    ij_add_str(o, "id", sn->id_str);
    ij_add_str(o, "name", sn->name);
    ij_add_int(o, "vm-state-size", sn->vm_state_size);
    ij_add_int(o, "date-sec", sn->date_sec);
    ij_add_int(o, "date-nsec", sn->date_nsec);
    ij_add_int(o, "vm-clock-sec", sn->vm_clock_nsec / 1000000000ull);
    ij_add_int(o, "vm-clock-nsec", sn->vm_clock_nsec % 1000000000ull);
    if (sn->icount != UINT64_MAX) {
        ij_add_int(o, "icount", sn->icount);
    }
    return o;
}

void img_print_snapshot_table(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    printf("%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
           "ICOUNT");
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        QCowSnapshot *sn = &s->snapshots[i];
        char date[32], clock[64], icount[32] = "";
        time_t t = sn->date_sec;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        uint64_t secs = sn->vm_clock_nsec / 1000000000ull;
        snprintf(clock, sizeof(clock), "%02d:%02d:%02d.%03d", (int)(secs / 3600),
                 (int)((secs / 60) % 60), (int)(secs % 60),
                 (int)((sn->vm_clock_nsec / 1000000) % 1000));
        if (sn->icount != UINT64_MAX) {
            snprintf(icount, sizeof(icount), "%" PRIu64, sn->icount);
        }
        g_autofree char *vmsize = size_to_str(sn->vm_state_size);
        printf("%-9s %-16s %8s%20s%13s%11s\n", sn->id_str, sn->name, vmsize, date, clock,
               icount);
    }
}

static void info_one(BlockDriverState *bs, const char *filename, bool json, GString *out,
                     IJson *arr)
{
    int64_t vsize = bdrv_getlength(bs);
    int64_t actual = bdrv_get_allocated_file_size(bs);
    BDRVQcow2State *s = img_is_qcow2(bs) ? bs->opaque : NULL;
    g_autofree char *full_backing = bs->backing_file[0]
        ? bdrv_resolve_backing_name(filename, bs->backing_file) : NULL;
    if (json) {
        IJson *o = ij_object();
        ij_add_int(o, "virtual-size", vsize);
        ij_add_str(o, "filename", filename);
        if (s) {
            ij_add_int(o, "cluster-size", s->cluster_size);
        }
        ij_add_str(o, "format", bs->drv->format_name);
        if (actual >= 0) {
            ij_add_int(o, "actual-size", actual);
        }
        if (s && s->incompatible_features & QCOW2_INCOMPAT_DIRTY) {
            /* reported below as dirty-flag */
        }
        if (bs->backing_file[0]) {
            ij_add_str(o, "backing-filename", bs->backing_file);
            ij_add_str(o, "full-backing-filename", full_backing);
            if (bs->backing_format[0]) {
                ij_add_str(o, "backing-filename-format", bs->backing_format);
            }
        }
        if (s && s->nb_snapshots) {
            IJson *sa = ij_add(o, "snapshots", ij_array());
            for (uint32_t i = 0; i < s->nb_snapshots; i++) {
                ij_add(sa, NULL, snapshot_json(&s->snapshots[i]));
            }
        }
        if (s) {
            IJson *fs = ij_add(o, "format-specific", ij_object());
            ij_add_str(fs, "type", "qcow2");
            IJson *d = ij_add(fs, "data", ij_object());
            ij_add_str(d, "compat", s->qcow_version >= 3 ? "1.1" : "0.10");
            ij_add_str(d, "compression-type",
                       s->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib");
            if (s->qcow_version >= 3) {
                ij_add_bool(d, "lazy-refcounts",
                            !!(s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS));
            }
            ij_add_int(d, "refcount-bits", s->refcount_bits);
            if (s->qcow_version >= 3) {
                ij_add_bool(d, "corrupt",
                            !!(s->incompatible_features & QCOW2_INCOMPAT_CORRUPT));
                ij_add_bool(d, "extended-l2", s->extended_l2);
            }
        }
        ij_add_bool(o, "dirty-flag", s && (s->incompatible_features & QCOW2_INCOMPAT_DIRTY));
        if (arr) {
            ij_add(arr, NULL, o);
        } else {
            ij_print(o, out);
            g_string_append_c(out, '\n');
            ij_free(o);
        }
        return;
    }
    g_autofree char *vs = size_to_str(vsize);
    g_string_append_printf(out, "image: %s\nfile format: %s\n", filename, bs->drv->format_name);
    g_string_append_printf(out, "virtual size: %s (%" PRId64 " bytes)\n", vs, vsize);
    if (actual >= 0) {
        g_autofree char *as = size_to_str(actual);
        g_string_append_printf(out, "disk size: %s\n", as);
    } else {
        g_string_append(out, "disk size: unavailable\n");
    }
    if (s) {
        g_string_append_printf(out, "cluster_size: %" PRIu64 "\n", s->cluster_size);
        if (s->incompatible_features & QCOW2_INCOMPAT_DIRTY) {
            g_string_append(out, "cleanly shut down: no\n");
        }
    }
    if (bs->backing_file[0]) {
        g_string_append_printf(out, "backing file: %s", bs->backing_file);
        if (strcmp(full_backing, bs->backing_file)) {
            g_string_append_printf(out, " (actual path: %s)", full_backing);
        }
        g_string_append_c(out, '\n');
        if (bs->backing_format[0]) {
            g_string_append_printf(out, "backing file format: %s\n", bs->backing_format);
        }
    }
    if (s && s->nb_snapshots) {
        g_string_append(out, "Snapshot list:\n");
        fputs(out->str, stdout);
        g_string_truncate(out, 0);
        fflush(stdout);
        img_print_snapshot_table(bs);
        fflush(stdout);
    }
    if (s) {
        g_string_append(out, "Format specific information:\n");
        g_string_append_printf(out, "    compat: %s\n", s->qcow_version >= 3 ? "1.1" : "0.10");
        g_string_append_printf(out, "    compression type: %s\n",
                               s->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib");
        if (s->qcow_version >= 3) {
            g_string_append_printf(out, "    lazy refcounts: %s\n",
                                   (s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS)
                                   ? "true" : "false");
        }
        g_string_append_printf(out, "    refcount bits: %d\n", s->refcount_bits);
        if (s->qcow_version >= 3) {
            g_string_append_printf(out, "    corrupt: %s\n",
                                   (s->incompatible_features & QCOW2_INCOMPAT_CORRUPT)
                                   ? "true" : "false");
            g_string_append_printf(out, "    extended l2: %s\n",
                                   s->extended_l2 ? "true" : "false");
        }
    }
}

static int img_info(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human";
    bool chain = false, force_share = false;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "backing-chain", no_argument, NULL, 'c' },
        { "force-share", no_argument, NULL, 'U' },
        { "object", required_argument, NULL, 'O' },
        { "image-opts", no_argument, NULL, 'I' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:hU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'o': output = optarg; break;
        case 'c': chain = true; break;
        case 'U': force_share = true; break;
        case 'O': case 'I': break;
        default:
            error_report("Invalid option or missing argument");
            return 1;
        }
    }
    if (!img_one_filename(argc)) {
        return 1;
    }
    bool json;
    if (img_parse_output(output, &json) < 0) {
        return 1;
    }
    const char *filename = argv[optind];
    int flags = BDRV_O_NO_IO | BDRV_O_NO_BACKING | (force_share ? BDRV_O_FORCE_SHARE : 0);
    GString *out = g_string_new(NULL);
    IJson *arr = chain && json ? ij_array() : NULL;
    g_autofree char *cur = g_strdup(filename);
    g_autofree char *curfmt = fmt ? g_strdup(fmt) : NULL;
    int ret = 0;
    for (int depth = 0; cur && depth < 64; depth++) {
        BlockDriverState *bs = img_open(cur, curfmt, flags, true);
        if (!bs) {
            ret = 1;
            break;
        }
        if (chain && !json && depth) {
            g_string_append_c(out, '\n');
        }
        info_one(bs, cur, json, out, arr);
        char *next = NULL, *nextfmt = NULL;
        if (chain && bs->backing_file[0]) {
            next = bdrv_resolve_backing_name(cur, bs->backing_file);
            nextfmt = bs->backing_format[0] ? g_strdup(bs->backing_format) : NULL;
        }
        bdrv_unref(bs);
        g_free(cur);
        g_free(curfmt);
        cur = next;
        curfmt = nextfmt;
    }
    if (arr) {
        ij_print(arr, out);
        g_string_append_c(out, '\n');
        ij_free(arr);
    }
    fputs(out->str, stdout);
    g_string_free(out, TRUE);
    return ret;
}

/* ---- check ---- */

/* check's JSON leaves out counters that are zero. */
static void add_int_if_set(IJson *o, const char *key, int64_t v)
{
    if (v) {
        ij_add_int(o, key, v);
    }
}

static void check_json(const char *filename, const char *fmt, Qcow2CheckResult *r,
                       int check_errors)
{
    IJson *o = ij_object();
    ij_add_str(o, "filename", filename);
    ij_add_str(o, "format", fmt);
    ij_add_int(o, "check-errors", check_errors);
    add_int_if_set(o, "image-end-offset", r->image_end_offset);
    add_int_if_set(o, "corruptions", r->corruptions);
    add_int_if_set(o, "leaks", r->leaks);
    add_int_if_set(o, "corruptions-fixed", r->corruptions_fixed);
    add_int_if_set(o, "leaks-fixed", r->leaks_fixed);
    add_int_if_set(o, "total-clusters", r->total_clusters);
    add_int_if_set(o, "allocated-clusters", r->allocated_clusters);
    add_int_if_set(o, "fragmented-clusters", r->fragmented_clusters);
    add_int_if_set(o, "compressed-clusters", r->compressed_clusters);
    GString *out = g_string_new(NULL);
    ij_print(o, out);
    printf("%s\n", out->str);
    g_string_free(out, TRUE);
    ij_free(o);
}

static void check_human(Qcow2CheckResult *r)
{
    if (r->corruptions == 0 && r->leaks == 0 && r->check_errors == 0) {
        img_printf("No errors were found on the image.\n");
    } else {
        if (r->corruptions) {
            img_printf("\n%d errors were found on the image.\n"
                       "Data may be corrupted, or further writes to the image may corrupt it.\n",
                       r->corruptions);
        }
        if (r->leaks) {
            img_printf("\n%d leaked clusters were found on the image.\n"
                       "This means waste of disk space, but no harm to data.\n", r->leaks);
        }
        if (r->check_errors) {
            img_printf("\n%d internal errors have occurred during the check.\n",
                       r->check_errors);
        }
    }
    if (r->total_clusters != 0 && r->allocated_clusters != 0) {
        img_printf("%" PRId64 "/%" PRId64 " = %0.2f%% allocated, %0.2f%% fragmented, "
                   "%0.2f%% compressed clusters\n",
                   r->allocated_clusters, r->total_clusters,
                   r->allocated_clusters * 100.0 / r->total_clusters,
                   r->fragmented_clusters * 100.0 / r->allocated_clusters,
                   r->compressed_clusters * 100.0 / r->allocated_clusters);
    }
    if (r->image_end_offset > 0) {
        img_printf("Image end offset: %" PRId64 "\n", r->image_end_offset);
    }
}

static int check_exit_code(Qcow2CheckResult *r)
{
    if (r->check_errors) {
        return 1;
    }
    if (r->corruptions) {
        return 2;
    }
    if (r->leaks) {
        return 3;
    }
    return 0;
}

static int img_check(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human";
    int fix = 0, c;
    bool force_share = false;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "repair", required_argument, NULL, 'r' },
        { "output", required_argument, NULL, 'o' },
        { "force-share", no_argument, NULL, 'U' },
        { "object", required_argument, NULL, 'O' },
        { "image-opts", no_argument, NULL, 'I' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hf:r:T:qU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'r':
            if (!strcmp(optarg, "leaks")) {
                fix = QCOW2_FIX_LEAKS;
            } else if (!strcmp(optarg, "all")) {
                fix = QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS;
            } else {
                error_report("Unknown option value for -r (expecting 'leaks' or 'all'): %s",
                             optarg);
                return 1;
            }
            break;
        case 'o': output = optarg; break;
        case 'q': img_quiet = true; break;
        case 'U': force_share = true; break;
        case 'T': case 'O': case 'I': break;
        default:
            error_report("Invalid option or missing argument");
            return 1;
        }
    }
    if (!img_one_filename(argc)) {
        return 1;
    }
    bool json;
    if (img_parse_output(output, &json) < 0) {
        return 1;
    }
    if (fix && force_share) {
        error_report("--force-share/-U is not allowed when repairing");
        return 1;
    }
    const char *filename = argv[optind];
    int flags = BDRV_O_CHECK | BDRV_O_NO_BACKING | (fix ? BDRV_O_RDWR : 0) |
                (force_share ? BDRV_O_FORCE_SHARE : 0);
    BlockDriverState *bs = img_open(filename, fmt, flags, true);
    if (!bs) {
        return 1;
    }
    if (!img_is_qcow2(bs)) {
        error_report("This image format does not support checks");
        bdrv_unref(bs);
        return 63;
    }
    Qcow2CheckResult r;
    int ret = qcow2_check(bs, &r, fix, img_quiet);
    if (ret < 0) {
        error_report("Check failed: %s", g_strerror(-ret));
        bdrv_unref(bs);
        return 1;
    }
    if (r.corruptions_fixed || r.leaks_fixed) {
        if (!json) {
            img_printf("The following inconsistencies were found and repaired:\n\n"
                       "    %d leaked clusters\n    %d corruptions\n\n"
                       "Double checking the fixed image now...\n",
                       r.leaks_fixed, r.corruptions_fixed);
        }
        int lf = r.leaks_fixed, cf = r.corruptions_fixed;
        /* re-check from the on-disk state */
        bdrv_unref(bs);
        bs = img_open(filename, fmt, BDRV_O_CHECK | BDRV_O_NO_BACKING, true);
        if (!bs) {
            return 1;
        }
        ret = qcow2_check(bs, &r, 0, img_quiet);
        if (ret < 0) {
            error_report("Check failed: %s", g_strerror(-ret));
            bdrv_unref(bs);
            return 1;
        }
        r.leaks_fixed = lf;
        r.corruptions_fixed = cf;
    }
    if (json) {
        check_json(filename, bs->drv->format_name, &r, r.check_errors);
    } else {
        check_human(&r);
    }
    bdrv_unref(bs);
    return check_exit_code(&r);
}

/* ---- resize ---- */

static int img_resize(int argc, char **argv)
{
    const char *fmt = NULL;
    bool shrink = false;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "shrink", no_argument, NULL, 'S' },
        { "object", required_argument, NULL, 'O' },
        { "image-opts", no_argument, NULL, 'I' },
        { "preallocation", required_argument, NULL, 'P' },
        { NULL, 0, NULL, 0 },
    };
    /* a size like "-1G" must not be taken as an option */
    if (argc >= 3 && argv[argc - 1][0] == '-') {
        argv[argc - 1][0] = '~';
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:hq", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': img_quiet = true; break;
        case 'S': shrink = true; break;
        case 'O': case 'I': case 'P': break;
        default:
            error_report("Invalid option or missing argument");
            return 1;
        }
    }
    if (optind != argc - 2) {
        error_report("Expecting image file name and size");
        return 1;
    }
    const char *filename = argv[optind];
    char *size_str = argv[optind + 1];
    int rel = 0;
    if (size_str[0] == '+') {
        rel = 1;
        size_str++;
    } else if (size_str[0] == '~') {
        rel = -1;
        size_str++;
    }
    int64_t n;
    if (img_parse_size(size_str, &n) < 0) {
        return 1;
    }
    BlockDriverState *bs = img_open(filename, fmt, BDRV_O_RDWR | BDRV_O_NO_BACKING, false);
    if (!bs) {
        return 1;
    }
    int64_t cur = bdrv_getlength(bs);
    int64_t total = rel > 0 ? cur + n : rel < 0 ? cur - n : n;
    int ret = 0;
    if (total < 0) {
        error_report("New image size must be positive");
        ret = 1;
    } else if (total < cur && !shrink) {
        error_report("Use the --shrink option to perform a shrink operation.");
        warn_report("Shrinking an image will delete all data beyond the shrunken image's "
                    "end. Before performing such an operation, make sure there is no "
                    "important data there.");
        ret = 1;
    } else {
        Error *err = NULL;
        if (img_is_qcow2(bs)) {
            BDRVQcow2State *s = bs->opaque;
            if (total < cur && s->nb_snapshots) {
                error_report("Can't shrink an image which has snapshots");
                bdrv_unref(bs);
                return 1;
            }
        }
        if (bdrv_truncate(bs, total, &err) < 0) {
            error_report_err(err);
            ret = 1;
        } else {
            img_printf("Image resized.\n");
        }
    }
    bdrv_unref(bs);
    return ret;
}

/* ---- snapshot ---- */

/* The verb of a snapshot action (-c, -d, -a) in qemu-img's messages. */
static const char *snapshot_verb(int action)
{
    return action == 'c' ? "create" : action == 'd' ? "delete" : "apply";
}

static int img_snapshot(int argc, char **argv)
{
    const char *fmt = NULL, *name = NULL;
    int action = 0, c;
    bool force_share = false;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "force-share", no_argument, NULL, 'U' },
        { "object", required_argument, NULL, 'O' },
        { "image-opts", no_argument, NULL, 'I' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":la:c:d:f:hqU", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': case 'a': case 'c': case 'd':
            if (action) {
                error_report("Cannot mix '-l', '-a', '-c', '-d'");
                return 0;
            }
            action = c;
            name = optarg;
            break;
        case 'f': fmt = optarg; break;
        case 'q': img_quiet = true; break;
        case 'U': force_share = true; break;
        case 'O': case 'I': break;
        default:
            error_report("Invalid option or missing argument");
            return 1;
        }
    }
    if (!img_one_filename(argc)) {
        return 1;
    }
    const char *filename = argv[optind];
    int flags = BDRV_O_NO_BACKING;
    if (action != 'l') {
        flags |= BDRV_O_RDWR;
    } else if (force_share) {
        flags |= BDRV_O_FORCE_SHARE;
    }
    BlockDriverState *bs = img_open(filename, fmt, flags, false);
    if (!bs) {
        return 1;
    }
    int ret = 0;
    Error *err = NULL;
    if (!img_is_qcow2(bs)) {
        if (action == 'l') {
            bdrv_unref(bs);
            return 0;
        }
        error_report("Could not %s snapshot '%s': Operation not supported",
                     snapshot_verb(action), name);
        bdrv_unref(bs);
        return 1;
    }
    BDRVQcow2State *s = bs->opaque;
    switch (action) {
    case 'l':
        if (s->nb_snapshots) {
            printf("Snapshot list:\n");
            img_print_snapshot_table(bs);
        }
        break;
    case 'c':
    case 'd':
    case 'a': {
        int (*op)(BlockDriverState *, const char *, Error **) =
            action == 'c' ? qcow2_snapshot_create :
            action == 'd' ? qcow2_snapshot_delete : qcow2_snapshot_goto;
        if (op(bs, name, &err) < 0) {
            error_prepend(&err, "Could not %s snapshot '%s': ", snapshot_verb(action), name);
            error_report_err(err);
            ret = 1;
        }
        break;
    }
    default:
        break;
    }
    bdrv_unref(bs);
    return ret;
}

/* ---- main ---- */

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    { "create", img_create },
    { "info", img_info },
    { "check", img_check },
    { "convert", img_convert },
    { "resize", img_resize },
    { "snapshot", img_snapshot },
    { "compare", img_compare },
    { "map", img_map },
};

static void help(void)
{
    printf("qemu-img version 7.2.0 (kemu)\n"
           "usage: kemu-img [standard options] command [command options]\n"
           "QEMU disk image utility\n\n"
           "Command syntax:\n"
           "  check [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] [-U] filename\n"
           "  compare [-f fmt] [-F fmt] [-p] [-q] [-s] [-U] filename1 filename2\n"
           "  convert [-c] [-p] [-q] [-n] [-f fmt] [-O output_fmt] [-B backing_file "
           "[-F backing_fmt]] [-o options] [-S sparse_size] filename [filename2 [...]] "
           "output_filename\n"
           "  create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] "
           "filename [size]\n"
           "  info [-f fmt] [--output=ofmt] [--backing-chain] [-U] filename\n"
           "  map [-f fmt] [--output=ofmt] [-U] filename\n"
           "  resize [-f fmt] [--shrink] [-q] filename [+ | -]size\n"
           "  snapshot [-q] [-l | -a snapshot | -c snapshot | -d snapshot] [-U] filename\n");
}

int main(int argc, char **argv)
{
    error_set_progname(argv[0]);
    if (argc < 2) {
        error_report("Not enough arguments");
        error_printf_hint("Try 'qemu-img --help' for more information");
        return 1;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("qemu-img version 7.2.0 (kemu)\n"
               "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n");
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help();
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    error_report("Command not found: %s", argv[1]);
    return 1;
}
