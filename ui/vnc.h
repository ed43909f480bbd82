/*
 * VNC server internals shared by the protocol code (vnc.c) and the
 * framebuffer encoders (vnc-enc.c).
 * Locking: BQL (everything runs in the main loop).
 */
#ifndef UI_VNC_H
#define UI_VNC_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "ui/console.h"

#define VNC_TILE 16

typedef struct VncPixelFormat {
    uint8_t bpp, depth, big_endian, true_colour;
    uint16_t rmax, gmax, bmax;
    uint8_t rshift, gshift, bshift;
} VncPixelFormat;

/* Encoding numbers (RFC 6143 + pseudo-encodings). */
#define VNC_ENC_RAW            0
#define VNC_ENC_COPYRECT       1
#define VNC_ENC_HEXTILE        5
#define VNC_ENC_DESKTOPSIZE    (-223)
#define VNC_ENC_EXT_KEY_EVENT  (-258)

void vnc_convert_pixel(const VncPixelFormat *pf, uint32_t v, uint8_t *out);
/* Append one rectangle (header + data) in the given encoding. */
void vnc_encode_rect(GByteArray *out, const VncPixelFormat *pf, DisplaySurface *s,
                     int x, int y, int w, int h, bool hextile);

#endif
