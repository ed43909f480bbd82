/*
 * The "ringbuf" (alias "memory") chardev: output goes into a power-of-two
 * ring (size=, default 64 KiB) that ringbuf_read drains; ringbuf_write
 * feeds input to the frontend. Used by tests.
 * Locking: BQL.
 */
#include <string.h>
#include "chardev/char-internal.h"
#include "util/module.h"

typedef struct RingBufChardev {
    Chardev parent;
    size_t size;
    size_t prod, cons;
    uint8_t *cbuf;
} RingBufChardev;

static bool ringbuf_open(Chardev *chr, KVDict *opts, Error **errp)
{
    RingBufChardev *s = (RingBufChardev *)chr;
    uint64_t size;

    if (!kv_get_size(opts, "size", 65536, &size, errp)) {
        return false;
    }
    if (size == 0 || (size & (size - 1)) || size > (1u << 30)) {
        error_setg(errp, "size of ringbuf chardev must be power of two");
        return false;
    }
    s->size = size;
    s->cbuf = g_malloc0(size);
    chr->opened = true;
    return true;
}

static int ringbuf_write(Chardev *chr, const uint8_t *buf, int len)
{
    RingBufChardev *s = (RingBufChardev *)chr;
    for (int i = 0; i < len; i++) {
        s->cbuf[s->prod++ & (s->size - 1)] = buf[i];
        if (s->prod - s->cons > s->size) {
            s->cons = s->prod - s->size;
        }
    }
    return len;
}

static void ringbuf_close(Chardev *chr)
{
    g_free(((RingBufChardev *)chr)->cbuf);
}

/* Drain up to len bytes (QMP ringbuf-read). Caller frees. */
char *chr_ringbuf_read(Chardev *chr, size_t len, size_t *out_len)
{
    RingBufChardev *s = (RingBufChardev *)chr;
    size_t n = MIN(len, s->prod - s->cons);
    char *out = g_malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        out[i] = s->cbuf[s->cons++ & (s->size - 1)];
    }
    out[n] = 0;
    *out_len = n;
    return out;
}

static const ChardevOps ringbuf_ops = {
    .name = "ringbuf", .instance_size = sizeof(RingBufChardev),
    .open = ringbuf_open, .write = ringbuf_write, .close = ringbuf_close,
};

static const ChardevOps memory_ops = {
    .name = "memory", .instance_size = sizeof(RingBufChardev),
    .open = ringbuf_open, .write = ringbuf_write, .close = ringbuf_close,
};

bool chr_is_ringbuf(const Chardev *chr)
{
    return chr->ops == &ringbuf_ops || chr->ops == &memory_ops;
}

MODULE_INIT(char_ringbuf_register)
{
    chardev_register(&ringbuf_ops);
    chardev_register(&memory_ops);
}
