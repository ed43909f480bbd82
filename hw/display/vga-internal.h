/*
 * Shared state of the VGA core (vga.c: registers, legacy memory window,
 * Bochs VBE), its renderer (vga-render.c) and the PCI "VGA" device
 * (vga-pci.c). VRAM keeps the four planes interleaved: byte 4*o + p is
 * offset o of plane p, so chain-4 and the VBE linear framebuffer address
 * VRAM directly.
 * Locking: BQL.
 */
#ifndef HW_DISPLAY_VGA_INTERNAL_H
#define HW_DISPLAY_VGA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "system/memory.h"

/* Bochs VBE "dispi" interface (ports 0x1ce/0x1cf, MMIO BAR2 + 0x500). */
#define VBE_DISPI_INDEX_ID          0x0
#define VBE_DISPI_INDEX_XRES        0x1
#define VBE_DISPI_INDEX_YRES        0x2
#define VBE_DISPI_INDEX_BPP         0x3
#define VBE_DISPI_INDEX_ENABLE      0x4
#define VBE_DISPI_INDEX_BANK        0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH  0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET    0x8
#define VBE_DISPI_INDEX_Y_OFFSET    0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_INDEX_NB          0xb

#define VBE_DISPI_ID0               0xb0c0
#define VBE_DISPI_ID5               0xb0c5
#define VBE_DISPI_MAX_XRES          16000
#define VBE_DISPI_MAX_YRES          12000
#define VBE_DISPI_MAX_BPP           32

#define VBE_DISPI_ENABLED           0x01
#define VBE_DISPI_GETCAPS           0x02
#define VBE_DISPI_8BIT_DAC          0x20
#define VBE_DISPI_LFB_ENABLED       0x40
#define VBE_DISPI_NOCLEARMEM        0x80

typedef struct VGACommonState {
    MemoryRegion vram;                 /* RAM, dirty-logged */
    uint8_t *vram_ptr;
    uint32_t vram_size;
    MemoryRegion lowmem;               /* 0xa0000-0xbffff window (MMIO) */
    MemoryRegion *lowmem_parent;
    MemoryRegion chain4;               /* VRAM alias over the window in chain-4 mode */
    bool chain4_mapped;
    uint64_t chain4_off, chain4_size;

    /* registers */
    uint8_t sr_index, sr[8];
    uint8_t gr_index, gr[16];
    uint8_t ar_index, ar[21];
    bool ar_flip_flop;
    uint8_t cr_index, cr[256];
    uint8_t msr, fcr, st00, st01;
    uint8_t dac_state, dac_sub_index, dac_read_index, dac_write_index;
    uint8_t dac_cache[3];
    uint8_t palette[768];
    uint32_t latch;
    uint32_t bank_offset;

    uint16_t vbe_index;
    uint8_t vbe_data_low;              /* low byte of a split 0x1cf access */
    uint16_t vbe_regs[VBE_DISPI_INDEX_NB];
    uint32_t vbe_start_addr, vbe_line_offset;

    /* renderer cache (vga-render.c) */
    bool full_update;
    int last_mode;                     /* 0 none, 1 text, 2 graphics */
    int last_width, last_height;
    uint32_t last_palette[256];
    uint32_t last_params[8];
    uint8_t *text_cache;               /* char/attr per cell from the last draw */
    size_t text_cache_size;
    int cursor_shown_at;               /* cell offset of the drawn cursor, -1 none */
    int64_t cursor_toggle_ns;
    bool cursor_phase;
} VGACommonState;

void vga_common_init(VGACommonState *s, uint32_t vram_size, Error **errp);
void vga_common_reset(VGACommonState *s);
uint32_t vga_ioport_read(VGACommonState *s, uint32_t port);
void vga_ioport_write(VGACommonState *s, uint32_t port, uint32_t val);
uint32_t vbe_ioport_read_data(VGACommonState *s);
void vbe_ioport_write_data(VGACommonState *s, uint32_t val);
uint32_t vbe_read_reg(VGACommonState *s, unsigned index);
void vbe_write_reg(VGACommonState *s, unsigned index, uint32_t val);
/* Register the legacy ports (0x3b0-0x3df, 0x1ce-0x1cf) and memory window. */
void vga_init_legacy(VGACommonState *s, MemoryRegion *io_space, MemoryRegion *mem_space);

void vga_update_memory_access(VGACommonState *s);

/* vga-render.c */
void vga_render_update(VGACommonState *s);
void vga_render_invalidate(VGACommonState *s);

#endif
