/*
 * The "stdio" chardev: reads fd 0, writes fd 1. On a terminal it switches
 * to raw input (no echo, no line editing; ISIG kept unless signal=off, as
 * QEMU does) and restores the saved termios at exit. Only one stdio
 * chardev may exist ("cannot use stdio by multiple character devices").
 * Locking: BQL; the atexit restore runs at process exit.
 */
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>
#include "chardev/char-internal.h"
#include "util/module.h"

static bool stdio_in_use;
static bool termios_saved;
static struct termios saved_tty;

static void stdio_restore_tty(void)
{
    if (termios_saved) {
        tcsetattr(0, TCSANOW, &saved_tty);
    }
}

static bool stdio_open(Chardev *chr, KVDict *opts, Error **errp)
{
    FdChardev *s = (FdChardev *)chr;
    bool allow_signal = true;

    if (stdio_in_use) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return false;
    }
    if (!kv_get_bool(opts, "signal", true, &allow_signal, errp)) {
        return false;
    }
    stdio_in_use = true;
    if (isatty(0) && tcgetattr(0, &saved_tty) == 0) {
        struct termios tty = saved_tty;
        if (!termios_saved) {
            termios_saved = true;
            atexit(stdio_restore_tty);
        }
        tty.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        tty.c_oflag |= OPOST;
        tty.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
        if (!allow_signal) {
            tty.c_lflag &= ~ISIG;
        }
        tty.c_cflag &= ~(CSIZE | PARENB);
        tty.c_cflag |= CS8;
        tty.c_cc[VMIN] = 1;
        tty.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &tty);
    }
    chr_fd_start(s, 0, 1);
    return true;
}

static void stdio_close(Chardev *chr)
{
    chr_fd_close(chr);
    stdio_restore_tty();
    stdio_in_use = false;
}

static const ChardevOps stdio_ops = {
    .name = "stdio", .instance_size = sizeof(FdChardev),
    .open = stdio_open, .write = chr_fd_write,
    .accept_input = chr_fd_accept_input, .close = stdio_close,
};

MODULE_INIT(char_stdio_register)
{
    chardev_register(&stdio_ops);
}
