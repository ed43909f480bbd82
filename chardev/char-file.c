/*
 * The "file" chardev (path=, append=; output only), "pipe" (path.in and
 * path.out, or one bidirectional path) and "serial"/"tty" (a host tty
 * device opened read-write), with QEMU's "Could not open" messages.
 * Locking: BQL.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "chardev/char-internal.h"
#include "util/module.h"

static int open_errp(const char *path, int flags, Error **errp)
{
    int fd = open(path, flags | O_CLOEXEC, 0666);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
    }
    return fd;
}

static bool file_open(Chardev *chr, KVDict *opts, Error **errp)
{
    FdChardev *s = (FdChardev *)chr;
    const char *path = kv_get(opts, "path");
    const char *in = kv_get(opts, "input-path");
    bool append = false;

    if (!path) {
        error_setg(errp, "chardev: file: no filename given");
        return false;
    }
    if (!kv_get_bool(opts, "append", false, &append, errp)) {
        return false;
    }
    int out = open_errp(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), errp);
    if (out < 0) {
        return false;
    }
    int infd = -1;
    if (in) {
        infd = open_errp(in, O_RDONLY, errp);
        if (infd < 0) {
            close(out);
            return false;
        }
    }
    s->own_fds = true;
    chr_fd_start(s, infd, out);
    return true;
}

static bool pipe_open(Chardev *chr, KVDict *opts, Error **errp)
{
    FdChardev *s = (FdChardev *)chr;
    const char *path = kv_get(opts, "path");

    if (!path) {
        error_setg(errp, "chardev: pipe: no filename given");
        return false;
    }
    g_autofree char *pin = g_strdup_printf("%s.in", path);
    g_autofree char *pout = g_strdup_printf("%s.out", path);
    int in = open(pin, O_RDWR | O_CLOEXEC);
    int out = open(pout, O_RDWR | O_CLOEXEC);
    if (in < 0 || out < 0) {
        if (in >= 0) {
            close(in);
        }
        if (out >= 0) {
            close(out);
        }
        in = out = open_errp(path, O_RDWR, errp);
        if (in < 0) {
            return false;
        }
    }
    s->own_fds = true;
    chr_fd_start(s, in, out);
    return true;
}

static bool serial_open(Chardev *chr, KVDict *opts, Error **errp)
{
    FdChardev *s = (FdChardev *)chr;
    const char *path = kv_get(opts, "path");

    if (!path) {
        error_setg(errp, "chardev: serial/tty: no device path given");
        return false;
    }
    int fd = open_errp(path, O_RDWR | O_NONBLOCK | O_NOCTTY, errp);
    if (fd < 0) {
        return false;
    }
    s->own_fds = true;
    chr_fd_start(s, fd, fd);
    chr_set_filename(chr, "%s", path);
    return true;
}

static const ChardevOps file_ops = {
    .name = "file", .instance_size = sizeof(FdChardev),
    .open = file_open, .write = chr_fd_write,
    .accept_input = chr_fd_accept_input, .close = chr_fd_close,
};

static const ChardevOps pipe_ops = {
    .name = "pipe", .instance_size = sizeof(FdChardev),
    .open = pipe_open, .write = chr_fd_write,
    .accept_input = chr_fd_accept_input, .close = chr_fd_close,
};

static const ChardevOps serial_ops = {
    .name = "serial", .instance_size = sizeof(FdChardev),
    .open = serial_open, .write = chr_fd_write,
    .accept_input = chr_fd_accept_input, .close = chr_fd_close,
};

static const ChardevOps tty_ops = {
    .name = "tty", .instance_size = sizeof(FdChardev),
    .open = serial_open, .write = chr_fd_write,
    .accept_input = chr_fd_accept_input, .close = chr_fd_close,
};

MODULE_INIT(char_file_register)
{
    chardev_register(&file_ops);
    chardev_register(&pipe_ops);
    chardev_register(&serial_ops);
    chardev_register(&tty_ops);
}
