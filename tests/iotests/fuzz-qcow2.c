/*
 * In-process qcow2 fuzzer: builds seed images with the block layer itself
 * (data, zero and compressed clusters, snapshots, small clusters, 1-bit
 * refcounts, extended L2, v2, zstd, a backing file), mutates header fields,
 * extensions, L1/L2 tables, refcount structures and the snapshot table, and
 * opens every mutant in a forked child (read-only: read, map, check; every
 * 4th also read-write on a copy: writes, discard, repair). The parent
 * requires: no crash (signal), no hang (alarm), read-only files unchanged,
 * read-write copies not grown past a sane bound.
 * Usage: fuzz-qcow2 [-n count] [-s seed] [-d dir] [-j jobs] [-t secs]
 *        fuzz-qcow2 -x FILE:INDEX   (replay one kept case in-process)
 * Locking: single-threaded children; the parent only forks and waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "block/block.h"
#include "qcow2.h"
#include "util/cutils.h"

#define MAX_READ ((int64_t)(8 * MiB))
#define ONE_MIB ((int64_t)MiB)

typedef struct Seed {
    char *path;
    uint8_t *data;
    size_t len;
    /* interesting regions (offset, length) found by parsing the header */
    uint64_t reg_off[8];
    uint64_t reg_len[8];
    int nreg;
} Seed;

static const char *workdir;

static void die(const char *what, Error *err)
{
    fprintf(stderr, "fuzz-qcow2: %s: %s\n", what, err ? error_get_pretty(err) : "");
    exit(2);
}

static void fill(uint8_t *b, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = v + (uint8_t)(i * 7);
    }
}

/* Create one seed image: opts "k=v,...", then write some data. */
static char *make_seed(const char *name, const char *opts, bool compress, bool snapshot,
                       const char *backing)
{
    char *path = g_build_filename(workdir, name, NULL);
    Error *err = NULL;
    KVDict *o = kv_parse(opts, NULL, &err);
    if (!o) {
        die("opts", err);
    }
    if (backing) {
        kv_set(o, "backing_file", backing);
        kv_set(o, "backing_fmt", "raw");
    }
    if (bdrv_create("qcow2", path, o, &err) < 0) {
        die("create", err);
    }
    kv_free(o);
    BlockDriverState *bs = bdrv_open(path, "qcow2", NULL, BDRV_O_RDWR, &err);
    if (!bs) {
        die("open seed", err);
    }
    BDRVQcow2State *s = bs->opaque;
    uint8_t *buf = g_malloc(256 * KiB);
    fill(buf, 256 * KiB, 0x5a);
    bdrv_pwrite(bs, 0, buf, 4096);
    bdrv_pwrite(bs, 100000, buf, 70000);
    bdrv_pwrite_zeroes(bs, 512 * KiB, 128 * KiB);
    bdrv_pwrite(bs, 2 * MiB + 512, buf, 3000);
    if (compress) {
        for (uint64_t off = 3 * MiB; off < 3 * MiB + 4 * s->cluster_size; off += s->cluster_size) {
            memset(buf, (int)(off >> 16), s->cluster_size);
            qcow2_write_compressed(bs, off, buf);
        }
    }
    if (snapshot) {
        if (qcow2_snapshot_create(bs, "snap1", &err) < 0) {
            die("snapshot", err);
        }
        fill(buf, 8192, 0x33);
        bdrv_pwrite(bs, 4096, buf, 8192);
        bdrv_pwrite(bs, 3 * MiB + 10, buf, 100);
    }
    bdrv_flush(bs);
    bdrv_unref(bs);
    g_free(buf);
    return path;
}

static void load_seed(Seed *sd, char *path)
{
    gchar *data;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, NULL)) {
        fprintf(stderr, "fuzz-qcow2: cannot read %s\n", path);
        exit(2);
    }
    sd->path = path;
    sd->data = (uint8_t *)data;
    sd->len = len;
    uint32_t cb = ldl_be_p(sd->data + 20);
    uint64_t cs = 1ull << cb;
    sd->nreg = 0;
#define REG(o, l) do { if ((o) < len) { sd->reg_off[sd->nreg] = (o); \
        sd->reg_len[sd->nreg] = MIN((uint64_t)(l), len - (o)); sd->nreg++; } } while (0)
    REG(0, 112);                                    /* header */
    REG(112, 1024);                                 /* extensions, backing name */
    uint64_t l1 = ldq_be_p(sd->data + 40);
    REG(l1, (uint64_t)ldl_be_p(sd->data + 36) * 8);
    uint64_t rt = ldq_be_p(sd->data + 48);
    REG(rt, 64);
    if (rt + 8 <= len) {
        uint64_t rb = ldq_be_p(sd->data + rt);
        REG(rb, MIN(cs, 1024));
    }
    if (l1 + 8 <= len) {
        uint64_t l2 = ldq_be_p(sd->data + l1) & L1E_OFFSET_MASK;
        REG(l2, MIN(cs, 2048));
    }
    REG(ldq_be_p(sd->data + 64), 256);              /* snapshot table */
#undef REG
}

static const uint64_t interesting[] = {
    0, 1, 2, 7, 8, 0x1ff, 0x200, 0x7fff, 0x8000, 0xffff, 0x10000, 0x10001, 0x7fffffff,
    0x80000000ull, 0xffffffffull, 0x100000000ull, 1ull << 40, 1ull << 55, (1ull << 56) - 512,
    1ull << 62, 1ull << 63, UINT64_MAX, 0x8000000000000000ull | 0x10000,
    0x4000000000000000ull | 0x20000,
};

static void mutate(const Seed *sd, uint8_t *b, size_t len, GRand *r)
{
    int n = g_rand_int_range(r, 1, 6);
    for (int k = 0; k < n; k++) {
        int ri = g_rand_int_range(r, 0, sd->nreg);
        uint64_t base = sd->reg_off[ri], rl = sd->reg_len[ri];
        if (rl == 0) {
            continue;
        }
        uint64_t pos = base + g_rand_int_range(r, 0, (gint32)rl);
        switch (g_rand_int_range(r, 0, 6)) {
        case 0:
            b[pos] = g_rand_int(r);
            break;
        case 1:
            b[pos] ^= 1u << g_rand_int_range(r, 0, 8);
            break;
        case 2:
            pos &= ~3ull;
            if (pos + 4 <= len) {
                stl_be_p(b + pos, (uint32_t)interesting[g_rand_int_range(r, 0,
                                   G_N_ELEMENTS(interesting))]);
            }
            break;
        case 3:
            pos &= ~7ull;
            if (pos + 8 <= len) {
                stq_be_p(b + pos, interesting[g_rand_int_range(r, 0, G_N_ELEMENTS(interesting))]);
            }
            break;
        case 4:
            pos &= ~7ull;
            if (pos + 8 <= len) {
                uint64_t v = ldq_be_p(b + pos);
                stq_be_p(b + pos, v + (uint64_t)((int64_t)g_rand_int_range(r, -4, 5) * 512));
            }
            break;
        default: {
            /* well-known header fields */
            static const int fields[] = { 4, 20, 24, 32, 36, 40, 48, 56, 60, 64, 72, 80, 88,
                                          96, 100 };
            int f = fields[g_rand_int_range(r, 0, G_N_ELEMENTS(fields))];
            uint64_t v = interesting[g_rand_int_range(r, 0, G_N_ELEMENTS(interesting))];
            if (f >= 72 && f < 96 && (f % 8) == 0) {
                stq_be_p(b + f, v);
            } else if (f == 24 || f == 40 || f == 48 || f == 64 || f == 8) {
                stq_be_p(b + f, v);
            } else {
                stl_be_p(b + f, (uint32_t)v);
            }
            break;
        }
        }
    }
}

/* Child: exercise the image; exit code is informational only. */
static int child_run(const char *path, bool rdwr, uint32_t seed)
{
    Error *err = NULL;
    int flags = rdwr ? BDRV_O_RDWR : 0;
    BlockDriverState *bs = bdrv_open(path, NULL, NULL, flags, &err);
    if (!bs) {
        error_free(err);
        return 10;
    }
    int64_t len = bdrv_getlength(bs);
    uint8_t *buf = g_malloc(MiB);
    int64_t end = MIN(len, MAX_READ);
    for (int64_t off = 0; off < end; off += ONE_MIB) {
        bdrv_pread(bs, off, buf, MIN(ONE_MIB, end - off));
    }
    if (len > MAX_READ) {
        bdrv_pread(bs, len - MIN(len, ONE_MIB), buf, MIN(len, ONE_MIB));
    }
    int64_t pos = 0;
    for (int i = 0; i < 4096 && pos < len; i++) {
        int64_t pnum = 0, map;
        if (bdrv_block_status(bs, pos, len - pos, &pnum, &map) < 0 || pnum <= 0) {
            break;
        }
        pos += pnum;
    }
    if (rdwr && !strcmp(bs->drv->format_name, "qcow2")) {
        GRand *r = g_rand_new_with_seed(seed);
        memset(buf, 0xa5, 65536);
        for (int i = 0; i < 6 && len > 0; i++) {
            int64_t off = g_rand_int_range(r, 0, (gint32)MIN(len, MAX_READ));
            int64_t n = MIN(g_rand_int_range(r, 1, 65536), len - off);
            switch (i % 3) {
            case 0: bdrv_pwrite(bs, off, buf, n); break;
            case 1: bdrv_pwrite_zeroes(bs, off, n); break;
            default: bdrv_pdiscard(bs, off, n); break;
            }
        }
        g_rand_free(r);
        bdrv_flush(bs);
    }
    if (!strcmp(bs->drv->format_name, "qcow2")) {
        Qcow2CheckResult res;
        qcow2_check(bs, &res, rdwr ? QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS : 0, true);
    }
    g_free(buf);
    bdrv_unref(bs);
    return 0;
}

static guint32 file_hash(const char *path, off_t *size)
{
    gchar *data;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, NULL)) {
        *size = -1;
        return 0;
    }
    guint32 h = 2166136261u;
    for (gsize i = 0; i < len; i++) {
        h = (h ^ (uint8_t)data[i]) * 16777619u;
    }
    g_free(data);
    *size = len;
    return h;
}

typedef struct Job {
    pid_t pid;
    int index;
    bool rdwr;
    char *path;
    guint32 hash;
    off_t size;
    uint8_t *orig;      /* the mutant as generated, kept for reproduction */
    gint64 start;
} Job;

int main(int argc, char **argv)
{
    int count = 10000, jobs = 2, timeout = 10, c;
    guint32 seed = 1;
    workdir = NULL;
    while ((c = getopt(argc, argv, "n:s:d:j:t:x:")) != -1) {
        switch (c) {
        case 'x': {
            /* replay one case: -x FILE:INDEX (read-write when INDEX % 4 == 3) */
            char *colon = strrchr(optarg, ':');
            int idx = colon ? atoi(colon + 1) : 0;
            if (colon) {
                *colon = 0;
            }
            return child_run(optarg, idx % 4 == 3, idx);
        }
        case 'n': count = atoi(optarg); break;
        case 's': seed = strtoul(optarg, NULL, 0); break;
        case 'd': workdir = optarg; break;
        case 'j': jobs = MAX(1, atoi(optarg)); break;
        case 't': timeout = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: fuzz-qcow2 [-n count] [-s seed] [-d dir] [-j jobs] "
                    "[-t secs]\n");
            return 2;
        }
    }
    g_autofree char *tmpdir = NULL;
    if (!workdir) {
        tmpdir = g_dir_make_tmp("fuzz-qcow2-XXXXXX", NULL);
        workdir = tmpdir;
    }
    error_set_progname("fuzz-qcow2");
    /* backing file for one seed */
    g_autofree char *back = g_build_filename(workdir, "back.raw", NULL);
    {
        uint8_t *b = g_malloc(4 * MiB);
        fill(b, 4 * MiB, 0x11);
        g_file_set_contents(back, (char *)b, 4 * MiB, NULL);
        g_free(b);
    }
    Seed seeds[8];
    int nseeds = 0;
    load_seed(&seeds[nseeds++], make_seed("s-default.qcow2", "size=4M", true, true, NULL));
    load_seed(&seeds[nseeds++], make_seed("s-c512.qcow2", "size=4M,cluster_size=512",
                                          true, true, NULL));
    load_seed(&seeds[nseeds++], make_seed("s-rb1.qcow2", "size=4M,cluster_size=1k,refcount_bits=1",
                                          true, false, NULL));
    load_seed(&seeds[nseeds++], make_seed("s-extl2.qcow2", "size=4M,extended_l2=on,cluster_size=32k",
                                          false, true, "back.raw"));
    load_seed(&seeds[nseeds++], make_seed("s-v2.qcow2", "size=4M,compat=0.10,cluster_size=4k",
                                          true, true, NULL));
    load_seed(&seeds[nseeds++], make_seed("s-zstd.qcow2",
                                          "size=4M,compression_type=zstd,refcount_bits=64",
                                          true, false, NULL));
    load_seed(&seeds[nseeds++], make_seed("s-prealloc.qcow2",
                                          "size=1M,preallocation=metadata,lazy_refcounts=on",
                                          false, false, NULL));

    GRand *r = g_rand_new_with_seed(seed);
    Job *running = g_new0(Job, jobs);
    int nrun = 0, done = 0, opened = 0, crashes = 0, hangs = 0, modified = 0, grown = 0;
    gint64 t0 = g_get_monotonic_time();
    int next = 0;
    gint64 slow_us = 0;
    int slow_idx = -1;
    while (done < count) {
        while (nrun < jobs && next < count) {
            const Seed *sd = &seeds[g_rand_int_range(r, 0, nseeds)];
            uint8_t *b = g_memdup2(sd->data, sd->len);
            mutate(sd, b, sd->len, r);
            Job *j = &running[nrun];
            j->index = next;
            j->rdwr = (next % 4) == 3;
            j->path = g_strdup_printf("%s/case-%d.qcow2", workdir, next);
            g_file_set_contents(j->path, (char *)b, sd->len, NULL);
            j->orig = b;
            j->hash = file_hash(j->path, &j->size);
            uint32_t wseed = (uint32_t)next;
            fflush(NULL);
            pid_t pid = fork();
            if (pid == 0) {
                alarm(timeout);
                int fd = open("/dev/null", O_WRONLY);
                dup2(fd, 2);
                _exit(child_run(j->path, j->rdwr, wseed));
            }
            j->pid = pid;
            j->start = g_get_monotonic_time();
            nrun++;
            next++;
        }
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            break;
        }
        for (int i = 0; i < nrun; i++) {
            Job *j = &running[i];
            if (j->pid != pid) {
                continue;
            }
            bool bad = false;
            gint64 us = g_get_monotonic_time() - j->start;
            if (us > slow_us) {
                slow_us = us;
                slow_idx = j->index;
            }
            if (WIFSIGNALED(status)) {
                if (WTERMSIG(status) == SIGALRM) {
                    hangs++;
                    fprintf(stderr, "HANG: case %d\n", j->index);
                } else {
                    crashes++;
                    fprintf(stderr, "CRASH: case %d signal %d\n", j->index, WTERMSIG(status));
                }
                bad = true;
            } else if (WEXITSTATUS(status) == 0) {
                opened++;
            }
            off_t size;
            guint32 h = file_hash(j->path, &size);
            if (!j->rdwr && (h != j->hash || size != j->size)) {
                modified++;
                bad = true;
                fprintf(stderr, "MODIFIED: case %d (read-only open changed the file)\n",
                        j->index);
            }
            struct stat st;
            if (j->rdwr && stat(j->path, &st) == 0 &&
                st.st_size > j->size + (off_t)(128 * MiB)) {
                grown++;
                bad = true;
                fprintf(stderr, "GROWN: case %d to %lld bytes\n", j->index,
                        (long long)st.st_size);
            }
            if (bad) {
                g_autofree char *keep = g_strdup_printf("%s/fail-%d.qcow2", workdir, j->index);
                g_file_set_contents(keep, (char *)j->orig, j->size, NULL);
                unlink(j->path);
                fprintf(stderr, "  kept as %s\n", keep);
            } else {
                unlink(j->path);
            }
            g_free(j->path);
            g_free(j->orig);
            running[i] = running[--nrun];
            done++;
            break;
        }
    }
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    printf("fuzz-qcow2: %d images, %d opened and exercised, %d rejected, %d crashes, "
           "%d hangs, %d modified, %d grown, %.1f s\n", done, opened, done - opened,
           crashes, hangs, modified, grown, secs);
    printf("fuzz-qcow2: slowest case %d took %.2f s\n", slow_idx, slow_us / 1e6);
    for (int i = 0; i < nseeds; i++) {
        unlink(seeds[i].path);
        g_free(seeds[i].path);
        g_free(seeds[i].data);
    }
    unlink(back);
    if (tmpdir && !crashes && !hangs && !modified && !grown) {
        rmdir(tmpdir);
    }
    g_rand_free(r);
    g_free(running);
    return (crashes || hangs || modified || grown) ? 1 : 0;
}
