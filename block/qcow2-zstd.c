/*
 * zstd compressed clusters (qcow2 compression type 1). libzstd.so.1 is part
 * of every Debian system (dpkg needs it), so it is loaded at run time with
 * dlopen and needs no build dependency; without it, zstd images fail with
 * -ENOTSUP. Uses only zstd's stable API (streaming decompression as QEMU
 * does, since a cluster's compressed data may be followed by padding).
 * Locking: the library handle is resolved once (g_once); calls are reentrant.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <glib.h>
#include "qcow2.h"

typedef struct ZBufIn { const void *src; size_t size; size_t pos; } ZBufIn;
typedef struct ZBufOut { void *dst; size_t size; size_t pos; } ZBufOut;

static struct {
    void *(*create_dctx)(void);
    size_t (*free_dctx)(void *);
    size_t (*decompress_stream)(void *, ZBufOut *, ZBufIn *);
    unsigned (*is_error)(size_t);
    size_t (*compress)(void *, size_t, const void *, size_t, int);
    bool ok;
} zstd;

static gpointer zstd_load(gpointer unused)
{
    (void)unused;
    void *h = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        return NULL;
    }
    zstd.create_dctx = (void *(*)(void))dlsym(h, "ZSTD_createDCtx");
    zstd.free_dctx = (size_t (*)(void *))dlsym(h, "ZSTD_freeDCtx");
    zstd.decompress_stream = (size_t (*)(void *, ZBufOut *, ZBufIn *))
        dlsym(h, "ZSTD_decompressStream");
    zstd.is_error = (unsigned (*)(size_t))dlsym(h, "ZSTD_isError");
    zstd.compress = (size_t (*)(void *, size_t, const void *, size_t, int))
        dlsym(h, "ZSTD_compress");
    zstd.ok = zstd.create_dctx && zstd.free_dctx && zstd.decompress_stream &&
              zstd.is_error && zstd.compress;
    return NULL;
}

static bool zstd_available(void)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, zstd_load, NULL);
    return zstd.ok;
}

int qcow2_zstd_decompress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    if (!zstd_available()) {
        return -ENOTSUP;
    }
    void *dctx = zstd.create_dctx();
    if (!dctx) {
        return -ENOMEM;
    }
    ZBufIn in = { src, src_len, 0 };
    ZBufOut out = { dst, dst_len, 0 };
    int ret = 0;
    while (out.pos < out.size) {
        size_t last_in = in.pos, last_out = out.pos;
        size_t zr = zstd.decompress_stream(dctx, &out, &in);
        if (zstd.is_error(zr)) {
            ret = -EIO;
            break;
        }
        if (in.pos == last_in && out.pos == last_out) {
            ret = -EIO;         /* no progress: truncated or bogus input */
            break;
        }
    }
    zstd.free_dctx(dctx);
    return ret;
}

size_t qcow2_zstd_compress(void *dst, size_t dst_len, const void *src, size_t src_len)
{
    if (!zstd_available()) {
        return 0;
    }
    size_t r = zstd.compress(dst, dst_len, src, src_len, 0);
    return zstd.is_error(r) ? 0 : r;
}
