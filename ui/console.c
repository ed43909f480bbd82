/*
 * The graphic console (include/ui/console.h): the surface the display
 * device renders into, the listener list and the refresh timer that runs
 * only while at least one listener exists.
 * Locking: BQL.
 */
#include <string.h>
#include <glib.h>
#include "ui/console.h"
#include "hw/isa.h"
#include "system/timer.h"

#define REFRESH_INTERVAL_NS (NANOSECONDS_PER_SECOND / 30)

static const GraphicHwOps *hw_ops;
static void *hw_opaque;
static DisplaySurface *surface;
static DisplayListener *listeners;
static Timer *refresh_timer;

void graphic_console_init(const GraphicHwOps *ops, void *opaque)
{
    hw_ops = ops;
    hw_opaque = opaque;
}

bool graphic_console_present(void)
{
    return hw_ops != NULL;
}

DisplaySurface *console_surface(void)
{
    return surface;
}

DisplaySurface *dpy_gfx_resize(int w, int h)
{
    if (surface && surface->width == w && surface->height == h) {
        memset(surface->data, 0, (size_t)surface->stride * h);
    } else {
        if (surface) {
            pixman_image_unref(surface->image);
            g_free(surface->data);
        } else {
            surface = g_new0(DisplaySurface, 1);
        }
        surface->width = w;
        surface->height = h;
        surface->stride = w * 4;
        surface->data = g_malloc0((size_t)surface->stride * h + 4);
        surface->image = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h, surface->data, surface->stride);
    }
    for (DisplayListener *dl = listeners; dl; dl = dl->next) {
        if (dl->gfx_switch) {
            dl->gfx_switch(dl, surface);
        }
    }
    return surface;
}

void dpy_gfx_update(int x, int y, int w, int h)
{
    if (!surface || w <= 0 || h <= 0) {
        return;
    }
    for (DisplayListener *dl = listeners; dl; dl = dl->next) {
        if (dl->gfx_update) {
            dl->gfx_update(dl, x, y, w, h);
        }
    }
}

void graphic_hw_update(void)
{
    if (hw_ops && hw_ops->gfx_update) {
        hw_ops->gfx_update(hw_opaque);
    }
}

void graphic_hw_invalidate(void)
{
    if (hw_ops && hw_ops->invalidate) {
        hw_ops->invalidate(hw_opaque);
    }
}

static void refresh_tick(void *opaque)
{
    (void)opaque;
    graphic_hw_update();
    for (DisplayListener *dl = listeners, *next; dl; dl = next) {
        next = dl->next;                 /* a listener may unregister itself */
        if (dl->refresh) {
            dl->refresh(dl);
        }
    }
    if (listeners) {
        timer_mod(refresh_timer, clock_get_ns(CLOCK_REALTIME_NS) + REFRESH_INTERVAL_NS);
    }
}

void display_listener_register(DisplayListener *dl)
{
    dl->next = listeners;
    listeners = dl;
    if (!refresh_timer) {
        refresh_timer = timer_new(CLOCK_REALTIME_NS, refresh_tick, NULL);
    }
    graphic_hw_invalidate();
    graphic_hw_update();
    if (surface && dl->gfx_switch) {
        dl->gfx_switch(dl, surface);
    }
    if (!timer_pending(refresh_timer)) {
        timer_mod(refresh_timer, clock_get_ns(CLOCK_REALTIME_NS) + REFRESH_INTERVAL_NS);
    }
}

void display_listener_unregister(DisplayListener *dl)
{
    for (DisplayListener **p = &listeners; *p; p = &(*p)->next) {
        if (*p == dl) {
            *p = dl->next;
            break;
        }
    }
    if (!listeners && refresh_timer) {
        timer_del(refresh_timer);
    }
}

void console_put_keycode(int keycode, bool down)
{
    i8042_put_keycode(keycode, down);
}

void console_put_mouse(int dx, int dy, int dz, int buttons)
{
    i8042_put_mouse_event(dx, dy, dz, buttons);
}
