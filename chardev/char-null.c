/*
 * The "null" chardev (discards output, never produces input) and "vc",
 * which without a graphical console behaves the same way but reports
 * "vc" as its filename, as QEMU does in query-chardev.
 * Locking: BQL.
 */
#include "chardev/char-internal.h"
#include "util/module.h"

static bool null_open(Chardev *chr, KVDict *opts, Error **errp)
{
    (void)errp;
    /* vc geometry options are accepted and ignored */
    kv_get(opts, "width");
    kv_get(opts, "height");
    kv_get(opts, "cols");
    kv_get(opts, "rows");
    chr->opened = true;
    return true;
}

static int null_write(Chardev *chr, const uint8_t *buf, int len)
{
    (void)chr;
    (void)buf;
    return len;
}

static const ChardevOps null_ops = {
    .name = "null",
    .open = null_open,
    .write = null_write,
};

static const ChardevOps vc_ops = {
    .name = "vc",
    .open = null_open,
    .write = null_write,
};

MODULE_INIT(char_null_register)
{
    chardev_register(&null_ops);
    chardev_register(&vc_ops);
}
