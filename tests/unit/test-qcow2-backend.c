/*
 * Unit tests (glib gtest) for the asynchronous BlockBackend API over qcow2
 * and raw: many concurrent writes/reads on the worker pool, scatter/gather
 * vectors, flush, aio=native (libaio + O_DIRECT) and its option check,
 * cache modes, and snapshot=on overlays leaving the image untouched.
 * Locking: the test thread is the main thread and holds the BQL; the
 * completions run from main_loop_wait().
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "block/block.h"
#include "system/main-loop.h"
#include "util/cutils.h"

static char *tmpdir;

typedef struct Counter {
    int done;
    int errors;
} Counter;

static void count_cb(void *opaque, int ret)
{
    Counter *c = opaque;
    g_assert(bql_locked());
    c->done++;
    if (ret < 0) {
        c->errors++;
    }
}

static void wait_for(Counter *c, int n)
{
    while (c->done < n) {
        main_loop_wait(true);
    }
}

static char *make_image(const char *name, const char *fmt, const char *size)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    KVDict *o = kv_new();
    kv_set(o, "size", size);
    Error *err = NULL;
    g_assert_cmpint(bdrv_create(fmt, path, o, &err), ==, 0);
    kv_free(o);
    return path;
}

static BlockBackend *open_blk(const char *path, const char *opts)
{
    Error *err = NULL;
    KVDict *d = kv_parse(opts, NULL, &err);
    g_assert_nonnull(d);
    BlockBackend *blk = blk_new_open("test", path, d, 0, &err);
    if (!blk) {
        g_printerr("%s\n", error_get_pretty(err));
    }
    g_assert_nonnull(blk);
    kv_free(d);
    return blk;
}

/* 64 concurrent 64 KiB writes then vectored reads, verified. */
static void rw_pattern(BlockBackend *blk, size_t align)
{
    enum { N = 64, LEN = 65536 };
    uint8_t *bufs[N];
    QEMUIOVector q[N];
    Counter c = { 0 };
    for (int i = 0; i < N; i++) {
        g_assert_cmpint(posix_memalign((void **)&bufs[i], align, LEN), ==, 0);
        memset(bufs[i], i + 1, LEN);
        qemu_iovec_init(&q[i], 1);
        qemu_iovec_add(&q[i], bufs[i], LEN);
        blk_aio_pwritev(blk, (int64_t)((i * 37) % N) * LEN * 2, &q[i], count_cb, &c);
    }
    wait_for(&c, N);
    g_assert_cmpint(c.errors, ==, 0);
    Counter f = { 0 };
    blk_aio_flush(blk, count_cb, &f);
    wait_for(&f, 1);
    g_assert_cmpint(f.errors, ==, 0);
    Counter r = { 0 };
    for (int i = 0; i < N; i++) {
        memset(bufs[i], 0, LEN);
        qemu_iovec_reset(&q[i]);
        qemu_iovec_add(&q[i], bufs[i], LEN / 2);
        qemu_iovec_add(&q[i], bufs[i] + LEN / 2, LEN / 2);
        blk_aio_preadv(blk, (int64_t)((i * 37) % N) * LEN * 2, &q[i], count_cb, &r);
    }
    wait_for(&r, N);
    g_assert_cmpint(r.errors, ==, 0);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < LEN; k += 4093) {
            g_assert_cmpint(bufs[i][k], ==, i + 1);
        }
        qemu_iovec_destroy(&q[i]);
        free(bufs[i]);
    }
}

static void test_qcow2_threads(void)
{
    g_autofree char *path = make_image("a.qcow2", "qcow2", "64M");
    BlockBackend *blk = open_blk(path, "format=qcow2");
    rw_pattern(blk, 8);
    /* out of range requests fail with -EIO through the callback */
    uint8_t b[512];
    QEMUIOVector q;
    Counter c = { 0 };
    qemu_iovec_init(&q, 1);
    qemu_iovec_add(&q, b, sizeof(b));
    blk_aio_preadv(blk, 64 * MiB, &q, count_cb, &c);
    wait_for(&c, 1);
    g_assert_cmpint(c.errors, ==, 1);
    qemu_iovec_destroy(&q);
    blk_unref(blk);
}

static void test_cache_modes(void)
{
    static const char *modes[] = { "writeback", "none", "writethrough", "directsync", "unsafe" };
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_autofree char *name = g_strdup_printf("c%zu.qcow2", i);
        g_autofree char *path = make_image(name, "qcow2", "16M");
        g_autofree char *opts = g_strdup_printf("format=qcow2,cache=%s", modes[i]);
        BlockBackend *blk = open_blk(path, opts);
        g_assert_cmpint(blk_enable_write_cache(blk), ==,
                        strcmp(modes[i], "writethrough") && strcmp(modes[i], "directsync"));
        uint8_t *buf = NULL;
        g_assert_cmpint(posix_memalign((void **)&buf, 4096, 8192), ==, 0);
        memset(buf, 0x5a, 8192);
        g_assert_cmpint(blk_pwrite(blk, 4096, buf, 8192), ==, 0);
        memset(buf, 0, 8192);
        g_assert_cmpint(blk_pread(blk, 4096, buf, 8192), ==, 0);
        g_assert_cmpint(buf[8191], ==, 0x5a);
        free(buf);
        blk_unref(blk);
    }
}

static void test_native_aio(void)
{
    g_autofree char *path = make_image("n.raw", "raw", "16M");
    Error *err = NULL;
    KVDict *d = kv_parse("format=raw,aio=native", NULL, &err);
    g_assert_null(blk_new_open("x", path, d, 0, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "aio=native was specified, but it requires cache.direct=on, which was "
                    "not specified.");
    error_free(err);
    kv_free(d);
    BlockBackend *blk = open_blk(path, "format=raw,aio=native,cache.direct=on");
    rw_pattern(blk, 4096);
    blk_unref(blk);
    blk = open_blk(path, "format=raw,aio=native,cache=none");
    rw_pattern(blk, 512);      /* unaligned to 4k: may fall back to the pool */
    blk_unref(blk);
}

static void test_snapshot_overlay(void)
{
    g_autofree char *path = make_image("s.qcow2", "qcow2", "16M");
    g_autofree char *before = NULL, *after = NULL;
    gsize l1, l2;
    g_assert_true(g_file_get_contents(path, &before, &l1, NULL));
    BlockBackend *blk = open_blk(path, "format=qcow2,snapshot=on");
    rw_pattern(blk, 8);
    blk_unref(blk);
    g_assert_true(g_file_get_contents(path, &after, &l2, NULL));
    g_assert_cmpuint(l1, ==, l2);
    g_assert_true(memcmp(before, after, l1) == 0);
}

static void test_blockdev_style(void)
{
    g_autofree char *path = make_image("bd.qcow2", "qcow2", "16M");
    g_autofree char *opts = g_strdup_printf("driver=qcow2,node-name=disk0,file.driver=file,"
                                            "file.filename=%s", path);
    Error *err = NULL;
    KVDict *d = kv_parse(opts, NULL, &err);
    g_assert_nonnull(d);
    BlockBackend *blk = blk_new_open("", NULL, d, 0, &err);
    g_assert_nonnull(blk);
    g_assert_true(kv_check_all_used(d, NULL));
    g_assert_true(blk_by_name("disk0") == blk);
    g_assert_cmpstr(blk_bs(blk)->drv->format_name, ==, "qcow2");
    g_assert_cmpint(blk_getlength(blk), ==, 16 * MiB);
    rw_pattern(blk, 8);
    blk_unref(blk);
    kv_free(d);
}

static void test_bad_options(void)
{
    g_autofree char *path = make_image("b.raw", "raw", "1M");
    Error *err = NULL;
    KVDict *d = kv_parse("format=raw,cache=bogus", NULL, &err);
    g_assert_null(blk_new_open("x", path, d, 0, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "invalid cache option");
    error_free(err);
    err = NULL;
    kv_free(d);
    d = kv_parse("format=bogus", NULL, &err);
    g_assert_null(blk_new_open("x", path, d, 0, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Unknown driver 'bogus'");
    error_free(err);
    err = NULL;
    kv_free(d);
    g_autofree char *missing = g_build_filename(tmpdir, "nonexist.img", NULL);
    g_assert_null(blk_new_open("x", missing, NULL, 0, &err));
    g_autofree char *want = g_strdup_printf("Could not open '%s': No such file or directory",
                                            missing);
    g_assert_cmpstr(error_get_pretty(err), ==, want);
    error_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("test-qcow2-backend-XXXXXX", NULL);
    main_loop_init();
    bql_lock();
    g_test_add_func("/block/backend/qcow2-threads", test_qcow2_threads);
    g_test_add_func("/block/backend/cache-modes", test_cache_modes);
    g_test_add_func("/block/backend/native-aio", test_native_aio);
    g_test_add_func("/block/backend/snapshot-overlay", test_snapshot_overlay);
    g_test_add_func("/block/backend/blockdev-style", test_blockdev_style);
    g_test_add_func("/block/backend/bad-options", test_bad_options);
    int ret = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        ret = ret ? ret : 1;
    }
    return ret;
}
