/*
 * VNC framebuffer encodings: pixel conversion to the client's format
 * (true colour, 8/16/32 bpp, either byte order) and the Raw and Hextile
 * rectangle encodings (Hextile with solid tiles as a background colour
 * only, other tiles raw).
 * Spec: RFC 6143 sections 7.4 (PIXEL_FORMAT), 7.7.1 (Raw), 7.7.4 (Hextile).
 * Locking: BQL.
 */
#include <string.h>
#include "vnc.h"

/* QEMU's conversion: the top bits of each 8-bit channel */
static uint32_t scale(uint32_t c8, uint16_t max)
{
    return (c8 * ((uint32_t)max + 1)) >> 8;
}

void vnc_convert_pixel(const VncPixelFormat *pf, uint32_t v, uint8_t *out)
{
    uint32_t p = (scale((v >> 16) & 0xff, pf->rmax) << pf->rshift) |
                 (scale((v >> 8) & 0xff, pf->gmax) << pf->gshift) |
                 (scale(v & 0xff, pf->bmax) << pf->bshift);
    switch (pf->bpp) {
    case 8:
        out[0] = (uint8_t)p;
        break;
    case 16:
        if (pf->big_endian) {
            out[0] = p >> 8;
            out[1] = p;
        } else {
            out[0] = p;
            out[1] = p >> 8;
        }
        break;
    default:
        if (pf->big_endian) {
            out[0] = p >> 24;
            out[1] = p >> 16;
            out[2] = p >> 8;
            out[3] = p;
        } else {
            out[0] = p;
            out[1] = p >> 8;
            out[2] = p >> 16;
            out[3] = p >> 24;
        }
        break;
    }
}

static void put16(GByteArray *o, unsigned v)
{
    uint8_t b[2] = { v >> 8, v };
    g_byte_array_append(o, b, 2);
}

static void put32(GByteArray *o, uint32_t v)
{
    uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };
    g_byte_array_append(o, b, 4);
}

static const uint32_t *row(DisplaySurface *s, int y)
{
    return (const uint32_t *)((const uint8_t *)s->data + (size_t)y * s->stride);
}

static void append_pixels(GByteArray *out, const VncPixelFormat *pf, DisplaySurface *s,
                          int x, int y, int w, int h)
{
    unsigned bpp = pf->bpp / 8;
    guint at = out->len;
    g_byte_array_set_size(out, at + (guint)(w * h * bpp));
    uint8_t *d = out->data + at;
    for (int j = 0; j < h; j++) {
        const uint32_t *r = row(s, y + j) + x;
        for (int i = 0; i < w; i++, d += bpp) {
            vnc_convert_pixel(pf, r[i], d);
        }
    }
}

void vnc_encode_rect(GByteArray *out, const VncPixelFormat *pf, DisplaySurface *s,
                     int x, int y, int w, int h, bool hextile)
{
    put16(out, x);
    put16(out, y);
    put16(out, w);
    put16(out, h);
    put32(out, hextile ? VNC_ENC_HEXTILE : VNC_ENC_RAW);
    if (!hextile) {
        append_pixels(out, pf, s, x, y, w, h);
        return;
    }
    for (int ty = y; ty < y + h; ty += VNC_TILE) {
        int th = MIN(VNC_TILE, y + h - ty);
        for (int tx = x; tx < x + w; tx += VNC_TILE) {
            int tw = MIN(VNC_TILE, x + w - tx);
            uint32_t first = row(s, ty)[tx];
            bool solid = true;
            for (int j = 0; j < th && solid; j++) {
                const uint32_t *r = row(s, ty + j) + tx;
                for (int i = 0; i < tw; i++) {
                    if (r[i] != first) {
                        solid = false;
                        break;
                    }
                }
            }
            if (solid) {
                uint8_t px[4];
                uint8_t sub = 0x02;                  /* BackgroundSpecified */
                g_byte_array_append(out, &sub, 1);
                vnc_convert_pixel(pf, first, px);
                g_byte_array_append(out, px, pf->bpp / 8);
            } else {
                uint8_t sub = 0x01;                  /* Raw */
                g_byte_array_append(out, &sub, 1);
                append_pixels(out, pf, s, tx, ty, tw, th);
            }
        }
    }
}
