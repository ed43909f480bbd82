/*
 * kemu-img convert, compare and map with qemu-img 7.2's options, output
 * formats and exit codes. convert skips zero areas (sparse output, -S),
 * writes compressed clusters with -c and shows qemu-img's progress line.
 * Locking: single-threaded tool.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "block/block.h"
#include "img-common.h"
#include "qcow2.h"
#include "util/cutils.h"

#define CONVERT_CHUNK ((int64_t)(2 * MiB))

/* Status through the backing chain: flags, *depth, *pnum, *map, *layer. */
static int chain_status(BlockDriverState *bs, int64_t off, int64_t bytes, int64_t *pnum,
                        int64_t *map, int *depth, BlockDriverState **layer)
{
    *depth = 0;
    for (;;) {
        int64_t len = bdrv_getlength(bs);
        if (off >= len) {
            *pnum = bytes;
            *layer = bs;
            return BDRV_BLOCK_ZERO;
        }
        bytes = MIN(bytes, len - off);
        int ret = bdrv_block_status(bs, off, bytes, pnum, map);
        if (ret < 0) {
            return ret;
        }
        *layer = bs;
        if ((ret & BDRV_BLOCK_ALLOCATED) || !bs->backing) {
            if (!(ret & BDRV_BLOCK_ALLOCATED)) {
                ret |= BDRV_BLOCK_ZERO;
            }
            /* raw layers report the file's view (holes read as zeros) */
            return ret;
        }
        bytes = *pnum;
        bs = bs->backing;
        (*depth)++;
    }
}

static bool buffer_is_zero(const uint8_t *p, size_t len)
{
    size_t head = MIN(len, (size_t)16);
    for (size_t i = 0; i < head; i++) {
        if (p[i]) {
            return false;
        }
    }
    return len <= 16 || memcmp(p, p + 16, len - 16) == 0;
}

typedef struct Progress {
    bool on;
    double last;
} Progress;

static void progress_print(Progress *p, double v, bool force)
{
    if (!p->on) {
        return;
    }
    if (force || v - p->last >= 1.0 || v >= 100.0) {
        printf("    (%3.2f/100%%)\r", v);
        fflush(stdout);
        p->last = v;
    }
}

int img_convert(int argc, char **argv)
{
    const char *fmt = NULL, *out_fmt = "raw", *backing = NULL, *bfmt = NULL;
    bool compress = false, skip_create = false;
    int64_t sparse = 4096;
    Progress prog = { 0 };
    KVDict *o = kv_new();
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, 'X' },
        { "image-opts", no_argument, NULL, 'I' },
        { "force-share", no_argument, NULL, 'U' },
        { "target-image-opts", no_argument, NULL, 'J' },
        { "salvage", no_argument, NULL, 'Z' },
        { "target-is-zero", no_argument, NULL, 'z' },
        { "bitmaps", no_argument, NULL, 'b' },
        { "skip-broken-bitmaps", no_argument, NULL, 'k' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hf:O:B:CcF:o:l:S:pt:T:qnm:WrU", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': out_fmt = optarg; break;
        case 'B': backing = optarg; break;
        case 'F': bfmt = optarg; break;
        case 'c': compress = true; break;
        case 'o':
            if (img_add_opts(o, optarg) < 0) {
                kv_free(o);
                return 1;
            }
            break;
        case 'S': {
            uint64_t v;
            if (qemu_strtosz(optarg, &v) < 0) {
                error_report("Invalid buffer size for sparse output specified. Valid sizes "
                             "are multiples of 512 up to 2147483136 bytes");
                return 1;
            }
            sparse = v;
            break;
        }
        case 'p': prog.on = true; break;
        case 'q': img_quiet = true; break;
        case 'n': skip_create = true; break;
        case 'l': case 't': case 'T': case 'm': case 'W': case 'r': case 'U': case 'C':
        case 'X': case 'I': case 'J': case 'Z': case 'z': case 'b': case 'k':
            break;
        default:
            error_report("Invalid option or missing argument");
            return 1;
        }
    }
    if (img_quiet) {
        prog.on = false;
    }
    int nsrc = argc - optind - 1;
    if (nsrc < 1) {
        error_report("Must specify image file name");
        return 1;
    }
    const char *out_name = argv[argc - 1];
    if (compress && strcmp(out_fmt, "qcow2")) {
        error_report("Compression not supported for this file format");
        return 1;
    }
    BlockDriverState **src = g_new0(BlockDriverState *, nsrc);
    int64_t total = 0;
    int ret = 1;
    for (int i = 0; i < nsrc; i++) {
        src[i] = img_open(argv[optind + i], fmt, 0, true);
        if (!src[i]) {
            goto out;
        }
        total += bdrv_getlength(src[i]);
    }
    if (!skip_create) {
        img_set_size(o, total);
        if (backing) {
            kv_set(o, "backing_file", backing);
            if (bfmt) {
                kv_set(o, "backing_fmt", bfmt);
            }
        }
        if (img_create_image(out_name, out_fmt, o, false, false)) {
            goto out;
        }
    }
    BlockDriverState *dst = img_open(out_name, out_fmt, BDRV_O_RDWR, true);
    if (!dst) {
        goto out;
    }
    if (skip_create && bdrv_getlength(dst) < total) {
        error_report("Output image is too small");
        bdrv_unref(dst);
        goto out;
    }
    bool dst_qcow2 = img_is_qcow2(dst);
    int64_t gran = 4096;
    if (dst_qcow2) {
        gran = ((BDRVQcow2State *)dst->opaque)->cluster_size;
    } else if (sparse > 0) {
        gran = sparse;
    }
    bool must_write_zeros = skip_create || dst->backing || backing;
    uint8_t *buf = g_malloc(MAX(CONVERT_CHUNK, gran));
    int64_t dpos = 0;
    ret = 0;
    progress_print(&prog, 0.0, true);
    for (int i = 0; i < nsrc && ret == 0; i++) {
        int64_t len = bdrv_getlength(src[i]);
        for (int64_t pos = 0; pos < len && ret == 0;) {
            int64_t n = MIN(MAX(CONVERT_CHUNK, gran), len - pos);
            int64_t pnum, map;
            int depth;
            BlockDriverState *layer;
            int st = chain_status(src[i], pos, n, &pnum, &map, &depth, &layer);
            if (st < 0) {
                ret = st;
                break;
            }
            /* keep extents aligned to the target granularity */
            if (pnum < n && (pos + pnum) % gran && pnum > gran) {
                pnum -= (pos + pnum) % gran;
            }
            if ((st & BDRV_BLOCK_ZERO) && !(st & BDRV_BLOCK_DATA) &&
                ((dpos + pos) % gran == 0) && (pnum >= gran || pos + pnum == len)) {
                int64_t z = pos + pnum == len ? pnum : pnum - pnum % gran;
                if (must_write_zeros) {
                    ret = bdrv_pwrite_zeroes(dst, dpos + pos, z);
                }
                pos += z;
                progress_print(&prog, (dpos + pos) * 100.0 / MAX(total, 1), false);
                continue;
            }
            n = MIN(n, MAX(pnum, gran));
            n = MIN(n, len - pos);
            ret = bdrv_pread(src[i], pos, buf, n);
            if (ret < 0) {
                error_report("error while reading at byte %" PRId64 ": %s", pos,
                             g_strerror(-ret));
                break;
            }
            for (int64_t k = 0; k < n && ret == 0;) {
                int64_t m = MIN(gran, n - k);
                int64_t doff = dpos + pos + k;
                if (sparse && buffer_is_zero(buf + k, m)) {
                    if (must_write_zeros) {
                        ret = bdrv_pwrite_zeroes(dst, doff, m);
                    }
                    k += m;
                    continue;
                }
                if (compress && dst_qcow2 && (doff % gran) == 0) {
                    ret = qcow2_write_compressed(dst, doff, buf + k);
                } else {
                    /* merge the following non-zero granules into one write */
                    while (k + m < n && !(sparse && buffer_is_zero(buf + k + m,
                                                                   MIN(gran, n - k - m)))) {
                        m += MIN(gran, n - k - m);
                    }
                    ret = bdrv_pwrite(dst, doff, buf + k, m);
                }
                if (ret < 0) {
                    error_report("error while writing at byte %" PRId64 ": %s", doff,
                                 g_strerror(-ret));
                }
                k += m;
            }
            pos += n;
            progress_print(&prog, (dpos + pos) * 100.0 / MAX(total, 1), false);
        }
        dpos += len;
    }
    g_free(buf);
    if (ret == 0) {
        ret = bdrv_flush(dst);
    }
    if (ret == 0) {
        progress_print(&prog, 100.0, true);
        if (prog.on) {
            printf("\n");
        }
    }
    bdrv_unref(dst);
    ret = ret < 0 ? 1 : 0;
out:
    for (int i = 0; i < nsrc; i++) {
        bdrv_unref(src[i]);
    }
    g_free(src);
    kv_free(o);
    return ret;
}

/* ---- compare ---- */

static int64_t first_diff(const uint8_t *a, const uint8_t *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return i;
        }
    }
    return -1;
}

static int64_t first_nonzero(const uint8_t *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (a[i]) {
            return i;
        }
    }
    return -1;
}

/*
 * Compare [start, end) of a with b, or with zeros if b is NULL, in chunks
 * read into ba/bb. 0 if equal, 1 on a mismatch, 2 on a read error (qemu-img's
 * exit codes), each with its message.
 */
static int compare_range(BlockDriverState *a, BlockDriverState *b, int64_t start,
                         int64_t end, uint8_t *ba, uint8_t *bb)
{
    for (int64_t pos = start; pos < end; pos += CONVERT_CHUNK) {
        int64_t n = MIN(CONVERT_CHUNK, end - pos);
        if (bdrv_pread(a, pos, ba, n) < 0 || (b && bdrv_pread(b, pos, bb, n) < 0)) {
            error_report("Error while reading offset %" PRId64 ": Input/output error", pos);
            return 2;
        }
        int64_t d = b ? first_diff(ba, bb, n) : first_nonzero(ba, n);
        if (d >= 0) {
            img_printf("Content mismatch at offset %" PRId64 "!\n",
                       pos + QEMU_ALIGN_DOWN(d, 512));
            return 1;
        }
    }
    return 0;
}

int img_compare(int argc, char **argv)
{
    const char *fmt1 = NULL, *fmt2 = NULL;
    bool strict = false, force_share = false;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, 'X' },
        { "image-opts", no_argument, NULL, 'I' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hf:F:T:pqsU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt1 = optarg; break;
        case 'F': fmt2 = optarg; break;
        case 'q': img_quiet = true; break;
        case 's': strict = true; break;
        case 'U': force_share = true; break;
        case 'T': case 'p': case 'X': case 'I': break;
        default:
            error_report("Invalid option or missing argument");
            return 2;
        }
    }
    if (optind != argc - 2) {
        error_report("Expecting two image file names");
        return 2;
    }
    int flags = force_share ? BDRV_O_FORCE_SHARE : 0;
    BlockDriverState *a = img_open(argv[optind], fmt1, flags, true);
    if (!a) {
        return 2;
    }
    BlockDriverState *b = img_open(argv[optind + 1], fmt2, flags, true);
    if (!b) {
        bdrv_unref(a);
        return 2;
    }
    int64_t la = bdrv_getlength(a), lb = bdrv_getlength(b);
    int ret = 0;
    uint8_t *ba = g_malloc(CONVERT_CHUNK), *bb = g_malloc(CONVERT_CHUNK);
    if (la != lb && strict) {
        img_printf("Strict mode: Image size mismatch!\n");
        ret = 1;
        goto done;
    }
    int64_t common = MIN(la, lb);
    ret = compare_range(a, b, 0, common, ba, bb);
    if (ret) {
        goto done;
    }
    if (la != lb) {
        img_printf("Warning: Image size mismatch!\n");
    }
    ret = compare_range(la > lb ? a : b, NULL, common, MAX(la, lb), ba, bb);
    if (ret) {
        goto done;
    }
    img_printf("Images are identical.\n");
done:
    g_free(ba);
    g_free(bb);
    bdrv_unref(a);
    bdrv_unref(b);
    return ret;
}

/* ---- map ---- */

typedef struct MapEntry {
    int64_t start, length, offset;
    int depth;
    bool present, zero, data, has_offset;
    const char *filename;
} MapEntry;

static int map_print(MapEntry *e, bool json, bool first)
{
    if (!json && e->data && !e->has_offset) {
        error_report("File contains external, encrypted or compressed clusters.");
        return -1;
    }
    if (json) {
        printf("%s{ \"start\": %" PRId64 ", \"length\": %" PRId64 ", \"depth\": %d, "
               "\"present\": %s, \"zero\": %s, \"data\": %s",
               first ? "" : ",\n", e->start, e->length, e->depth,
               e->present ? "true" : "false", e->zero ? "true" : "false",
               e->data ? "true" : "false");
        if (e->has_offset) {
            printf(", \"offset\": %" PRId64, e->offset);
        }
        printf("}");
    } else if (e->data && e->has_offset) {
        printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n",
               (uint64_t)e->start, (uint64_t)e->length, (uint64_t)e->offset, e->filename);
    }
    return 0;
}

int img_map(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human";
    bool force_share = false;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "object", required_argument, NULL, 'X' },
        { "image-opts", no_argument, NULL, 'I' },
        { "force-share", no_argument, NULL, 'U' },
        { "start-offset", required_argument, NULL, 's' },
        { "max-length", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:hU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'o': output = optarg; break;
        case 'U': force_share = true; break;
        case 'X': case 'I': case 's': case 'l': break;
        default:
            error_report("Invalid option or missing argument");
            return 1;
        }
    }
    bool json;
    if (!img_one_filename(argc) || img_parse_output(output, &json) < 0) {
        return 1;
    }
    BlockDriverState *bs = img_open(argv[optind], fmt,
                                    force_share ? BDRV_O_FORCE_SHARE : 0, true);
    if (!bs) {
        return 1;
    }
    int64_t len = bdrv_getlength(bs);
    MapEntry cur = { 0 };
    bool have = false, first = true;
    int ret = 0;
    if (json) {
        printf("[");
    } else {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    }
    for (int64_t pos = 0; pos < len;) {
        int64_t pnum, map;
        int depth;
        BlockDriverState *layer;
        int st = chain_status(bs, pos, MIN(len - pos, 1ll << 30), &pnum, &map, &depth, &layer);
        if (st < 0) {
            error_report("Could not read file metadata: %s", g_strerror(-st));
            ret = 1;
            break;
        }
        if (pnum <= 0) {
            pnum = MIN(len - pos, 512);
        }
        MapEntry e = {
            .start = pos, .length = pnum, .depth = depth,
            .present = !!(st & BDRV_BLOCK_ALLOCATED),
            .zero = !!(st & BDRV_BLOCK_ZERO),
            .data = !!(st & BDRV_BLOCK_DATA),
            .has_offset = !!(st & BDRV_BLOCK_OFFSET_VALID),
            .offset = map,
            .filename = bdrv_protocol_node(layer)->filename,
        };
        if (have && e.depth == cur.depth && e.present == cur.present && e.zero == cur.zero &&
            e.data == cur.data && e.has_offset == cur.has_offset &&
            (!e.has_offset || cur.offset + cur.length == e.offset) &&
            !strcmp(e.filename, cur.filename)) {
            cur.length += e.length;
        } else {
            if (have) {
                if (map_print(&cur, json, first) < 0) {
                    ret = 1;
                    have = false;
                    break;
                }
                first = false;
            }
            cur = e;
            have = true;
        }
        pos += pnum;
    }
    if (have && map_print(&cur, json, first) < 0) {
        ret = 1;
    }
    if (json) {
        printf("]\n");
    }
    bdrv_unref(bs);
    return ret;
}
