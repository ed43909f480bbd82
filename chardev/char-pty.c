/*
 * The "pty" chardev: a host pseudo-terminal whose slave path is printed
 * as "char device redirected to /dev/pts/N (label X)" (stdout, like QEMU) and shown
 * as "pty:/dev/pts/N" in query-chardev. We keep a slave fd open so the
 * master never reports hang-up; output is dropped when the pty is full.
 * Locking: BQL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>
#include "chardev/char-internal.h"
#include "util/module.h"

typedef struct PtyChardev {
    FdChardev fd;
    int slave;
} PtyChardev;

static bool pty_open(Chardev *chr, KVDict *opts, Error **errp)
{
    PtyChardev *s = (PtyChardev *)chr;
    kv_get(opts, "path");          /* QEMU 7.2 ignores it as well */

    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
        error_setg_errno(errp, errno, "Failed to create PTY");
        if (master >= 0) {
            close(master);
        }
        return false;
    }
    const char *name = ptsname(master);
    s->slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    if (s->slave >= 0) {
        struct termios tty;
        if (tcgetattr(s->slave, &tty) == 0) {
            cfmakeraw(&tty);
            tcsetattr(s->slave, TCSAFLUSH, &tty);
        }
    }
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    chr_set_filename(chr, "pty:%s", name ? name : "");
    /* QEMU 7.2 prints this with qemu_printf(): stdout without a monitor */
    printf("char device redirected to %s (label %s)\n", name ? name : "", chr->id);
    fflush(stdout);
    s->fd.own_fds = true;
    s->fd.nonblock_out = true;
    chr_fd_start(&s->fd, master, master);
    return true;
}

static void pty_close(Chardev *chr)
{
    PtyChardev *s = (PtyChardev *)chr;
    chr_fd_close(chr);
    if (s->slave >= 0) {
        close(s->slave);
        s->slave = -1;
    }
}

static const ChardevOps pty_ops = {
    .name = "pty", .instance_size = sizeof(PtyChardev),
    .open = pty_open, .write = chr_fd_write,
    .accept_input = chr_fd_accept_input, .close = pty_close,
};

MODULE_INIT(char_pty_register)
{
    chardev_register(&pty_ops);
}
