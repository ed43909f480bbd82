/*
 * Character devices: backends (stdio, file, pipe, socket, pty, null,
 * ringbuf, mux) and the frontend API shared by serial ports, monitors and
 * debugcon. Follows QEMU's -chardev option grammar and behaviour.
 * Locking: BQL for everything; backends read in main-loop fd handlers.
 */
#ifndef CHARDEV_CHAR_H
#define CHARDEV_CHAR_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "util/error.h"
#include "util/kvopts.h"

enum { CHR_EVENT_OPENED, CHR_EVENT_CLOSED, CHR_EVENT_BREAK, CHR_EVENT_MUX_IN, CHR_EVENT_MUX_OUT };

typedef struct Chardev Chardev;
typedef struct CharFrontend CharFrontend;

typedef struct ChardevOps {
    const char *name;                                   /* -chardev backend name */
    size_t instance_size;                               /* >= sizeof(Chardev) */
    bool (*open)(Chardev *chr, KVDict *opts, Error **errp);
    int  (*write)(Chardev *chr, const uint8_t *buf, int len);   /* bytes accepted */
    void (*accept_input)(Chardev *chr);                 /* frontend has room again */
    void (*close)(Chardev *chr);
    void (*fe_attached)(Chardev *chr);                  /* a frontend was attached */
} ChardevOps;

struct Chardev {
    const ChardevOps *ops;
    char *id;
    char *filename;            /* query-chardev "filename": "pty:/dev/pts/3", "unix:/p,server=on" */
    CharFrontend *fe;          /* NULL until a frontend attaches (mux: the mux's own) */
    bool opened;               /* connected (socket) / open */
    bool frontend_open;        /* query-chardev "frontend-open" */
};

struct CharFrontend {
    Chardev *chr;
    int  (*can_read)(void *opaque);
    void (*read)(void *opaque, const uint8_t *buf, int len);
    void (*event)(void *opaque, int event);
    void *opaque;
    bool passive;              /* mux: don't take the input focus on attach (monitors) */
};

void chardev_register(const ChardevOps *ops);
/* -chardev backend,id=...,... */
Chardev *chr_new_from_opts(KVDict *opts, Error **errp);
/* Legacy spec as -serial/-monitor/-qmp take it: "stdio", "mon:stdio",
 * "tcp::4444,server=on,wait=off", "unix:path", "file:x", "pty", "null",
 * "none" (returns NULL, no error), "vc" (treated as null without a UI). */
Chardev *chr_new_from_legacy(const char *label, const char *spec, Error **errp);
Chardev *chr_find(const char *id);
void chr_foreach(void (*fn)(Chardev *chr, void *opaque), void *opaque);
void chr_close_all(void);
/* Push out buffered output of every chardev (blocking); call before exit. */
void chr_flush_all(void);
/* chardev-remove: false + "Chardev 'x' not found" / "... is busy". */
bool chr_remove(const char *id, Error **errp);
/* ringbuf backend: drain up to len bytes (caller frees; *out_len set). */
bool chr_is_ringbuf(const Chardev *chr);
char *chr_ringbuf_read(Chardev *chr, size_t len, size_t *out_len);

/* Frontend side. A chardev takes one frontend (a mux takes several). */
bool chr_fe_init(CharFrontend *fe, Chardev *chr, Error **errp);
void chr_fe_set_handlers(CharFrontend *fe, int (*can_read)(void *), void (*read)(void *, const uint8_t *, int),
                         void (*event)(void *, int), void *opaque);
void chr_fe_deinit(CharFrontend *fe);
int  chr_fe_write(CharFrontend *fe, const uint8_t *buf, int len);
int  chr_fe_write_all(CharFrontend *fe, const uint8_t *buf, int len);
void chr_fe_accept_input(CharFrontend *fe);
bool chr_fe_backend_connected(CharFrontend *fe);
/* Mux: give this frontend the keyboard focus (QEMU's qemu_chr_fe_take_focus). */
void chr_fe_take_focus(CharFrontend *fe);

/* Backend side: deliver input to the frontend (honours can_read). */
int  chr_be_can_write(Chardev *chr);
void chr_be_write(Chardev *chr, const uint8_t *buf, int len);
void chr_be_event(Chardev *chr, int event);

#endif
