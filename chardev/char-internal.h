/*
 * Helpers shared by the chardev backends (not part of the public API):
 * the fd-based reader used by stdio/file/pipe/pty and the mux hooks.
 * Locking: BQL.
 */
#ifndef CHARDEV_CHAR_INTERNAL_H
#define CHARDEV_CHAR_INTERNAL_H

#include "chardev/char.h"

/* A chardev that reads from in_fd (main-loop watch) and writes to out_fd. */
typedef struct FdChardev {
    Chardev parent;
    int in_fd, out_fd;
    guint in_watch;
    bool nonblock_out;         /* drop output on EAGAIN (pty) */
    bool own_fds;              /* close both at close */
} FdChardev;

void chr_fd_start(FdChardev *s, int in_fd, int out_fd);
int chr_fd_write(Chardev *chr, const uint8_t *buf, int len);
void chr_fd_accept_input(Chardev *chr);
void chr_fd_close(Chardev *chr);

/* The mux backend is created by char.c for mux=on and mon:... specs. */
Chardev *chr_mux_new(const char *id, Chardev *base, Error **errp);
bool chr_is_mux(const Chardev *chr);
bool chr_mux_attach(Chardev *mux, CharFrontend *fe, Error **errp);
void chr_mux_detach(Chardev *mux, CharFrontend *fe);
void chr_mux_handlers_set(Chardev *mux, CharFrontend *fe);
void chr_mux_take_focus(Chardev *mux, CharFrontend *fe);

/* Socket: blocking flush of buffered output (before exit). */
void chr_socket_flush(Chardev *chr);

/* Allocate a chardev of ops->instance_size with id and filename set. */
Chardev *chr_alloc(const ChardevOps *ops, const char *id);
void chr_set_filename(Chardev *chr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add/remove from the registry (query-chardev order). */
void chr_add(Chardev *chr);

#endif
