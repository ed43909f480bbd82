/*
 * screendump: the console surface written as PPM (P6, QEMU's default) or
 * PNG (8-bit RGB, one zlib-compressed IDAT, filter type 0 on every row).
 * Spec: Netpbm PPM; PNG (ISO/IEC 15948) chunks IHDR/IDAT/IEND with CRC-32.
 * Locking: BQL (called from the monitor).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <glib.h>
#include "ui/console.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static bool png_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
    uint8_t hdr[8];
    put_be32(hdr, len);
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32(0, hdr + 4, 4);
    if (len) {
        crc = crc32(crc, data, len);
    }
    uint8_t tail[4];
    put_be32(tail, (uint32_t)crc);
    return fwrite(hdr, 1, 8, f) == 8 && (!len || fwrite(data, 1, len, f) == len) &&
           fwrite(tail, 1, 4, f) == 4;
}

/* Rows of RGB bytes, each led by its PNG filter byte when png. */
static uint8_t *surface_rgb(DisplaySurface *s, bool png, size_t *len)
{
    size_t row = (size_t)s->width * 3 + (png ? 1 : 0);
    uint8_t *buf = g_malloc(row * s->height);
    for (int y = 0; y < s->height; y++) {
        uint8_t *d = buf + row * y;
        const uint32_t *src = (const uint32_t *)((const uint8_t *)s->data + (size_t)y * s->stride);
        if (png) {
            *d++ = 0;
        }
        for (int x = 0; x < s->width; x++) {
            uint32_t v = src[x];
            *d++ = v >> 16;
            *d++ = v >> 8;
            *d++ = v;
        }
    }
    *len = row * s->height;
    return buf;
}

static bool write_png(FILE *f, DisplaySurface *s)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    uint8_t ihdr[13];
    put_be32(ihdr, s->width);
    put_be32(ihdr + 4, s->height);
    ihdr[8] = 8;          /* bit depth */
    ihdr[9] = 2;          /* colour type: RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    size_t raw_len;
    g_autofree uint8_t *raw = surface_rgb(s, true, &raw_len);
    uLongf zlen = compressBound(raw_len);
    g_autofree uint8_t *z = g_malloc(zlen);
    if (compress2(z, &zlen, raw, raw_len, Z_DEFAULT_COMPRESSION) != Z_OK) {
        return false;
    }
    return fwrite(sig, 1, 8, f) == 8 && png_chunk(f, "IHDR", ihdr, 13) &&
           png_chunk(f, "IDAT", z, (uint32_t)zlen) && png_chunk(f, "IEND", NULL, 0);
}

static bool write_ppm(FILE *f, DisplaySurface *s)
{
    size_t len;
    g_autofree uint8_t *raw = surface_rgb(s, false, &len);
    return fprintf(f, "P6\n%d %d\n%d\n", s->width, s->height, 255) > 0 &&
           fwrite(raw, 1, len, f) == len;
}

bool screendump_write(const char *filename, const char *format, Error **errp)
{
    if (!graphic_console_present()) {
        error_setg(errp, "There is no console to take a screendump from");
        return false;
    }
    graphic_hw_update();
    DisplaySurface *s = console_surface();
    if (!s) {
        /* nothing drawn yet: QEMU shows a 640x480 placeholder */
        s = dpy_gfx_resize(640, 480);
    }
    FILE *f = fopen(filename, "wb");
    if (!f) {
        error_setg(errp, "failed to open file '%s': %s", filename, strerror(errno));
        return false;
    }
    bool ok = !strcmp(format, "png") ? write_png(f, s) : write_ppm(f, s);
    if (fclose(f) != 0) {
        ok = false;
    }
    if (!ok) {
        error_setg(errp, "failed to write file '%s': %s", filename, strerror(errno));
        return false;
    }
    return true;
}
