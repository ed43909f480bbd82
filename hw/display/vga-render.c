/*
 * VGA renderer: draws the current mode into the console surface (32 bpp):
 * text mode (8/9-dot characters from the font in plane 2, attributes,
 * blink and cursor), 16-colour planar and 256-colour VGA graphics, and
 * Bochs VBE 8/15/16/24/32 bpp linear modes. Only what changed is drawn
 * and reported: text cells are compared with the last frame's cells, and
 * graphics lines are skipped when their VRAM pages are clean (KVM dirty
 * log) or equal to what the surface already shows.
 * Locking: BQL.
 */
#include <string.h>
#include "vga-internal.h"
#include "system/kvm.h"
#include "system/timer.h"
#include "ui/console.h"

#define CURSOR_HALF_PERIOD_NS (1000000000LL * 16 / 60)   /* QEMU's 533 ms period */

enum { MODE_NONE, MODE_TEXT, MODE_GFX };
enum { DRAW_LINE4, DRAW_LINE8_VGA, DRAW_VBE8, DRAW_VBE15, DRAW_VBE16, DRAW_VBE24, DRAW_VBE32, DRAW_LINE2 };

static uint8_t c6_to_8(uint8_t v)
{
    v &= 0x3f;
    uint8_t b = v & 1;
    return (uint8_t)((v << 2) | (b << 1) | b);
}

static uint32_t rgb(uint8_t r, uint8_t g, uint8_t b)
{
    return ((uint32_t)r << 16) | ((uint32_t)g << 8) | b;
}

static void palette16(VGACommonState *s, uint32_t *pal)
{
    for (int i = 0; i < 16; i++) {
        unsigned v = s->ar[i];
        if (s->ar[0x10] & 0x80) {
            v = ((s->ar[0x14] & 0xf) << 4) | (v & 0xf);
        } else {
            v = ((s->ar[0x14] & 0xc) << 4) | (v & 0x3f);
        }
        pal[i] = rgb(c6_to_8(s->palette[v * 3]), c6_to_8(s->palette[v * 3 + 1]),
                     c6_to_8(s->palette[v * 3 + 2]));
    }
}

static void palette256(VGACommonState *s, uint32_t *pal)
{
    bool dac8 = (s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC) != 0;
    for (int i = 0; i < 256; i++) {
        const uint8_t *p = &s->palette[i * 3];
        pal[i] = dac8 ? rgb(p[0], p[1], p[2]) : rgb(c6_to_8(p[0]), c6_to_8(p[1]), c6_to_8(p[2]));
    }
}

static uint8_t vram_byte(VGACommonState *s, uint64_t off)
{
    return off < s->vram_size ? s->vram_ptr[off] : 0;
}

static DisplaySurface *ensure_surface(VGACommonState *s, int mode, int w, int h)
{
    DisplaySurface *surf = console_surface();
    if (!surf || s->last_mode != mode || surf->width != w || surf->height != h) {
        surf = dpy_gfx_resize(w, h);
        s->last_mode = mode;
        s->full_update = true;
    }
    return surf;
}

/* ---------------------------------------------------------------- text */

static void draw_text(VGACommonState *s)
{
    int cw = (s->sr[1] & 1) ? 8 : 9;
    int cheight = (s->cr[9] & 0x1f) + 1;
    int cols = s->cr[1] + 1;
    int vde = s->cr[0x12] | ((s->cr[7] & 2) << 7) | ((s->cr[7] & 0x40) << 3);
    int rows = (vde + 1) / cheight;
    bool dbl = (s->sr[1] & 0x08) != 0;                 /* 40-column dot clock / 2 */
    int pw = dbl ? cw * 2 : cw;
    if (rows <= 0 || cols <= 0 || (rows * cols) <= 1 || rows > 150 || cols > 200) {
        return;
    }
    DisplaySurface *surf = ensure_surface(s, MODE_TEXT, cols * pw, rows * cheight);

    uint32_t pal[16];
    palette16(s, pal);
    uint32_t params[8] = { (uint32_t)cw, (uint32_t)cheight, s->sr[3], s->ar[0x10], dbl };
    if (memcmp(pal, s->last_palette, sizeof(pal)) || memcmp(params, s->last_params, sizeof(params))) {
        memcpy(s->last_palette, pal, sizeof(pal));
        memcpy(s->last_params, params, sizeof(params));
        s->full_update = true;
    }
    /* fonts: char map A (attribute bit 3 set) and B, 8 KiB steps of plane 2 */
    unsigned v = s->sr[3];
    uint64_t font_base[2] = {
        ((((v >> 5) & 1) | ((v >> 1) & 6)) * 8192u) * 4 + 2,
        ((((v >> 4) & 1) | ((v << 1) & 6)) * 8192u) * 4 + 2,
    };
    size_t cells = (size_t)rows * cols;
    size_t font_bytes = 2 * 256 * 32;
    size_t need = cells * 2 + font_bytes;
    if (s->text_cache_size != need) {
        g_free(s->text_cache);
        s->text_cache = g_malloc0(need);
        s->text_cache_size = need;
        s->full_update = true;
    }
    /* a font change redraws everything */
    uint8_t *font_cache = s->text_cache + cells * 2;
    for (int f = 0; f < 2; f++) {
        for (int i = 0; i < 256 * 32; i++) {
            uint8_t b = vram_byte(s, font_base[f] + (uint64_t)i * 4);
            if (font_cache[f * 8192 + i] != b) {
                font_cache[f * 8192 + i] = b;
                s->full_update = true;
            }
        }
    }

    int64_t now = clock_get_ns(CLOCK_REALTIME_NS);
    if (now >= s->cursor_toggle_ns) {
        s->cursor_toggle_ns = now + CURSOR_HALF_PERIOD_NS;
        s->cursor_phase = !s->cursor_phase;
    }
    uint32_t start = (s->cr[0x0c] << 8) | s->cr[0x0d];
    uint32_t line_offset = s->cr[0x13] << 3;
    int cursor_cell = (int)(((s->cr[0x0e] << 8) | s->cr[0x0f]) - start);
    bool cursor_on = !(s->cr[0x0a] & 0x20) && s->cursor_phase;
    int new_cursor = cursor_on ? cursor_cell : -1;
    bool blink = (s->ar[0x10] & 0x08) != 0;

    for (int r = 0; r < rows; r++) {
        int x0 = -1, x1 = -1;
        uint64_t src = (uint64_t)start * 4 + (uint64_t)r * line_offset;
        for (int c = 0; c < cols; c++, src += 4) {
            int cell = r * cols + c;
            uint8_t ch = vram_byte(s, src), attr = vram_byte(s, src + 1);
            uint8_t *cache = &s->text_cache[cell * 2];
            bool is_cursor = cell == new_cursor, was_cursor = cell == s->cursor_shown_at;
            bool blinking = blink && (attr & 0x80);
            if (!s->full_update && cache[0] == ch && cache[1] == attr && is_cursor == was_cursor &&
                !blinking) {
                continue;
            }
            cache[0] = ch;
            cache[1] = attr;
            uint32_t fg = pal[attr & 0x0f];
            uint32_t bg = pal[blink ? (attr >> 4) & 7 : attr >> 4];
            if (blinking && !s->cursor_phase) {
                fg = bg;
            }
            const uint8_t *glyph = &font_cache[((attr >> 3) & 1) * 8192 + ch * 32];
            bool dup9 = cw == 9 && ch >= 0xb0 && ch <= 0xdf && (s->ar[0x10] & 0x04);
            int cs = s->cr[0x0a] & 0x1f, ce = MIN(s->cr[0x0b] & 0x1f, cheight - 1);
            for (int y = 0; y < cheight; y++) {
                uint8_t bits = y < 32 ? glyph[y] : 0;
                bool cur_line = is_cursor && y >= cs && y <= ce;
                if (cur_line) {
                    bits = 0xff;
                }
                uint32_t *d = (uint32_t *)((uint8_t *)surf->data + (size_t)(r * cheight + y) * surf->stride) +
                              c * pw;
                for (int x = 0; x < cw; x++) {
                    bool on;
                    if (x < 8) {
                        on = (bits >> (7 - x)) & 1;
                    } else {
                        on = dup9 && !cur_line ? (bits & 1) : false;
                    }
                    uint32_t px = on ? fg : bg;
                    if (dbl) {
                        d[2 * x] = d[2 * x + 1] = px;
                    } else {
                        d[x] = px;
                    }
                }
            }
            if (x0 < 0) {
                x0 = c;
            }
            x1 = c;
        }
        if (x0 >= 0) {
            dpy_gfx_update(x0 * pw, r * cheight, (x1 - x0 + 1) * pw, cheight);
        }
    }
    s->cursor_shown_at = new_cursor;
    s->full_update = false;
}

/* ------------------------------------------------------------ graphics */

static void draw_line(VGACommonState *s, int kind, uint64_t addr, int width, const uint32_t *pal,
                      uint32_t *d)
{
    switch (kind) {
    case DRAW_LINE4: {
        uint32_t plane_mask = s->ar[0x12] & 0xf;
        for (int x = 0; x < width; x += 8, addr += 4) {
            uint8_t p[4];
            for (int i = 0; i < 4; i++) {
                p[i] = (plane_mask & (1 << i)) ? vram_byte(s, addr + i) : 0;
            }
            for (int k = 0; k < 8 && x + k < width; k++) {
                int bit = 7 - k;
                unsigned c = ((p[0] >> bit) & 1) | (((p[1] >> bit) & 1) << 1) |
                             (((p[2] >> bit) & 1) << 2) | (((p[3] >> bit) & 1) << 3);
                d[x + k] = pal[c];
            }
        }
        break;
    }
    case DRAW_LINE2:
        for (int x = 0; x < width; x += 4) {
            uint64_t a = addr + (uint64_t)(x / 8) * 4;     /* planes 0/1 hold even/odd bytes */
            uint8_t b = vram_byte(s, a + ((x / 4) & 1));
            for (int k = 0; k < 4 && x + k < width; k++) {
                d[x + k] = pal[(b >> (6 - 2 * k)) & 3];
            }
        }
        break;
    case DRAW_LINE8_VGA:
        for (int x = 0; x < width; x += 2) {
            uint32_t c = pal[vram_byte(s, addr + x / 2)];
            d[x] = c;
            if (x + 1 < width) {
                d[x + 1] = c;
            }
        }
        break;
    case DRAW_VBE8:
        for (int x = 0; x < width; x++) {
            d[x] = pal[vram_byte(s, addr + x)];
        }
        break;
    case DRAW_VBE15:
        for (int x = 0; x < width; x++) {
            unsigned v = vram_byte(s, addr + 2 * x) | (vram_byte(s, addr + 2 * x + 1) << 8);
            d[x] = rgb((v >> 7) & 0xf8, (v >> 2) & 0xf8, (v << 3) & 0xf8);
        }
        break;
    case DRAW_VBE16:
        for (int x = 0; x < width; x++) {
            unsigned v = vram_byte(s, addr + 2 * x) | (vram_byte(s, addr + 2 * x + 1) << 8);
            d[x] = rgb((v >> 8) & 0xf8, (v >> 3) & 0xfc, (v << 3) & 0xf8);
        }
        break;
    case DRAW_VBE24:
        for (int x = 0; x < width; x++) {
            uint64_t a = addr + 3 * (uint64_t)x;
            d[x] = rgb(vram_byte(s, a + 2), vram_byte(s, a + 1), vram_byte(s, a));
        }
        break;
    default:
        for (int x = 0; x < width; x++) {
            uint64_t a = addr + 4 * (uint64_t)x;
            d[x] = rgb(vram_byte(s, a + 2), vram_byte(s, a + 1), vram_byte(s, a));
        }
        break;
    }
}

static void draw_graphics(VGACommonState *s)
{
    int kind, width, height, multi_scan = 0;
    uint64_t start, line_offset;
    uint32_t pal[256];
    bool vbe = s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
    bool cga_compat = false;
    if (vbe) {
        static const int kinds[33] = { [8] = DRAW_VBE8, [15] = DRAW_VBE15, [16] = DRAW_VBE16,
                                       [24] = DRAW_VBE24, [32] = DRAW_VBE32 };
        unsigned bpp = s->vbe_regs[VBE_DISPI_INDEX_BPP];
        if (bpp > 32 || (!kinds[bpp] && bpp != 8)) {
            return;                                    /* 4 bpp VBE: not drawn */
        }
        kind = kinds[bpp];
        width = s->vbe_regs[VBE_DISPI_INDEX_XRES];
        height = s->vbe_regs[VBE_DISPI_INDEX_YRES];
        start = s->vbe_start_addr;
        line_offset = s->vbe_line_offset;
        palette256(s, pal);
    } else {
        int shift = (s->gr[5] >> 5) & 3;
        width = (s->cr[1] + 1) * 8;
        height = (s->cr[0x12] | ((s->cr[7] & 2) << 7) | ((s->cr[7] & 0x40) << 3)) + 1;
        bool double_scan = s->cr[9] >> 7;
        start = (uint64_t)((s->cr[0x0c] << 8) | s->cr[0x0d]) * 4;
        line_offset = (uint64_t)s->cr[0x13] << 3;
        if (shift == 0 || shift == 1) {
            kind = shift == 0 ? DRAW_LINE4 : DRAW_LINE2;
            if (s->sr[1] & 8) {
                width *= 2;      /* drawn at half the dot clock: not widened here */
            }
            palette16(s, pal);
            multi_scan = (((s->cr[9] & 0x1f) + 1) << double_scan) - 1;
            if (shift == 1) {
                multi_scan = double_scan;
            }
        } else {
            kind = DRAW_LINE8_VGA;
            palette256(s, pal);
            multi_scan = (((s->cr[9] & 0x1f) + 1) << double_scan) - 1;
        }
        cga_compat = true;
    }
    if (width <= 0 || height <= 0 || width > VBE_DISPI_MAX_XRES || height > VBE_DISPI_MAX_YRES) {
        return;
    }
    DisplaySurface *surf = ensure_surface(s, MODE_GFX, width, height);
    uint32_t params[8] = { (uint32_t)kind, (uint32_t)start, (uint32_t)line_offset, s->cr[0x17],
                           (uint32_t)multi_scan };
    if (memcmp(pal, s->last_palette, sizeof(pal)) || memcmp(params, s->last_params, sizeof(params))) {
        memcpy(s->last_palette, pal, sizeof(pal));
        memcpy(s->last_params, params, sizeof(params));
        s->full_update = true;
    }
    bool use_dirty = kvm_enabled() && !s->full_update;
    if (kvm_enabled()) {
        kvm_log_sync(&s->vram);
    }
    g_autofree uint32_t *line = g_new(uint32_t, width);
    uint64_t addr1 = start;
    int y1 = 0, multi_run = multi_scan, y_start = -1;
    bool group_dirty = true;
    uint64_t line_bytes = kind == DRAW_VBE8 ? (uint64_t)width :
                          kind == DRAW_VBE15 || kind == DRAW_VBE16 ? 2ull * width :
                          kind == DRAW_VBE24 ? 3ull * width : kind == DRAW_VBE32 ? 4ull * width :
                          kind == DRAW_LINE8_VGA ? (uint64_t)width / 2 : (uint64_t)width / 2;
    for (int y = 0; y < height; y++) {
        uint64_t addr = addr1;
        if (cga_compat) {
            if (!(s->cr[0x17] & 1)) {
                addr = (addr & ~(1ull << 13)) | ((uint64_t)(y1 & 1) << 13);
            }
            if (!(s->cr[0x17] & 2)) {
                addr = (addr & ~0x8000ull) | ((uint64_t)(y1 & 2) << 14);
            }
        }
        bool changed = false;
        uint32_t *d = (uint32_t *)((uint8_t *)surf->data + (size_t)y * surf->stride);
        if (multi_run == multi_scan) {       /* first output line of this source line */
            group_dirty = !use_dirty || (addr < s->vram_size &&
                          mr_test_and_clear_dirty(&s->vram, addr, MIN(line_bytes, s->vram_size - addr)));
        }
        bool candidate = group_dirty;
        if (candidate || s->full_update) {
            draw_line(s, kind, addr, width, pal, line);
            if (s->full_update || memcmp(d, line, (size_t)width * 4)) {
                memcpy(d, line, (size_t)width * 4);
                changed = true;
            }
        }
        if (changed) {
            if (y_start < 0) {
                y_start = y;
            }
        } else if (y_start >= 0) {
            dpy_gfx_update(0, y_start, width, y - y_start);
            y_start = -1;
        }
        if (!multi_run) {
            unsigned mask = (s->cr[0x17] & 3) ^ 3;
            if (!cga_compat || (y1 & mask) == mask) {
                addr1 += line_offset;
            }
            y1++;
            multi_run = multi_scan;
        } else {
            multi_run--;
        }
    }
    if (y_start >= 0) {
        dpy_gfx_update(0, y_start, width, height - y_start);
    }
    s->full_update = false;
}

void vga_render_update(VGACommonState *s)
{
    if (!(s->ar_index & 0x20)) {
        /* palette address source clear: the screen is blanked (also under
         * VBE, as in QEMU 7.2) */
        DisplaySurface *surf = console_surface();
        if (s->last_mode != MODE_NONE || !surf) {
            surf = ensure_surface(s, MODE_NONE, surf ? surf->width : 640, surf ? surf->height : 480);
            memset(surf->data, 0, (size_t)surf->stride * surf->height);
            dpy_gfx_update(0, 0, surf->width, surf->height);
        }
        return;
    }
    if (!(s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) && !(s->gr[6] & 1)) {
        draw_text(s);
    } else {
        draw_graphics(s);
    }
}

void vga_render_invalidate(VGACommonState *s)
{
    s->full_update = true;
    s->last_mode = -1;
}
