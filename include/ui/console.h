/*
 * The graphic console: one display surface (32 bpp x8r8g8b8 pixman image)
 * that a display device (hw/display/vga.c) renders into, and the display
 * listeners (VNC clients) that are told which rectangles changed and when
 * the surface is replaced. Keyboard and mouse input from the listeners goes
 * to the PS/2 devices through console_put_keycode / console_put_mouse.
 * Rendering is pull-based: the device only draws when a listener's refresh
 * timer (about 30 Hz, running only while a listener exists) or a screendump
 * asks it to, so a guest without a display client costs nothing.
 * Locking: BQL for everything.
 */
#ifndef UI_CONSOLE_H
#define UI_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <pixman.h>

typedef struct DisplaySurface {
    pixman_image_t *image;
    int width, height;
    uint32_t *data;            /* x8r8g8b8, host-endian words */
    int stride;                /* bytes per line */
} DisplaySurface;

typedef struct GraphicHwOps {
    /* Render what changed since the last call; report it with dpy_gfx_update. */
    void (*gfx_update)(void *opaque);
    /* Forget the cached state: the next update redraws the whole screen. */
    void (*invalidate)(void *opaque);
} GraphicHwOps;

typedef struct DisplayListener DisplayListener;
struct DisplayListener {
    void (*gfx_update)(DisplayListener *dl, int x, int y, int w, int h);
    void (*gfx_switch)(DisplayListener *dl, DisplaySurface *s);
    /* After each refresh tick (the device has rendered). */
    void (*refresh)(DisplayListener *dl);
    DisplayListener *next;
};

/* Device side. */
void graphic_console_init(const GraphicHwOps *ops, void *opaque);
bool graphic_console_present(void);
/* A new surface of w x h (contents black); listeners see gfx_switch. */
DisplaySurface *dpy_gfx_resize(int w, int h);
void dpy_gfx_update(int x, int y, int w, int h);

/* Consumer side. */
DisplaySurface *console_surface(void);      /* NULL until the device drew once */
void graphic_hw_update(void);               /* make the device render now */
void graphic_hw_invalidate(void);
void display_listener_register(DisplayListener *dl);
void display_listener_unregister(DisplayListener *dl);

/* Input. keycode: PC scancode set 1, extended keys 0xe0xx. */
void console_put_keycode(int keycode, bool down);
/* Relative motion; buttons bit 0 left, 1 right, 2 middle; dz wheel. */
void console_put_mouse(int dx, int dy, int dz, int buttons);

/* Keymaps (ui/keymap.c). */
int keysym_to_keycode(uint32_t keysym);     /* 0: unknown */
int qcode_to_keycode(const char *qcode);    /* -1: unknown name */
/* QEMU's keycode numbers for "number" keys (QKeyCode via qnum): set-1 code. */
int qnum_to_keycode(int qnum);

/* Screendump (ui/screendump.c). */
#include "util/error.h"
bool screendump_write(const char *filename, const char *format, Error **errp);

#endif
