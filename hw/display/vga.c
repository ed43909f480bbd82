/*
 * VGA core: the sequencer, graphics controller, attribute controller,
 * CRTC and DAC registers (ports 0x3b0-0x3df), the legacy memory window
 * 0xa0000-0xbffff with planar, odd/even and chain-4 access and the four
 * write modes, and the Bochs VBE "dispi" registers (ports 0x1ce/0x1cf)
 * with a banked window and linear framebuffer.
 * Spec: IBM VGA Technical Reference; Bochs VBE (vbe_display_api.txt), as
 * QEMU's std VGA implements them.
 * Locking: BQL (every register and memory callback).
 */
#include <string.h>
#include "vga-internal.h"

static const uint8_t sr_mask[8] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0xff };
static const uint8_t gr_mask[16] = { 0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff };

#define ST01_V_RETRACE   0x08
#define ST01_DISP_ENABLE 0x01

/* mask16[i]: byte p of the word is 0xff when bit p of i is set */
static uint32_t mask16(unsigned i)
{
    return ((i & 1) ? 0x000000ffu : 0) | ((i & 2) ? 0x0000ff00u : 0) |
           ((i & 4) ? 0x00ff0000u : 0) | ((i & 8) ? 0xff000000u : 0);
}

/* With VBE enabled the window is always chain-4, all planes, 64 KiB at
 * 0xa0000 whatever SR2/SR4/GR6 hold (QEMU's VBE view of the registers). */
static bool vbe_on(VGACommonState *s)
{
    return s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

static uint8_t eff_sr2(VGACommonState *s)
{
    return vbe_on(s) ? 0x0f : s->sr[2];
}

static uint8_t eff_sr4(VGACommonState *s)
{
    return vbe_on(s) ? s->sr[4] | 0x08 : s->sr[4];
}

static uint8_t eff_gr6(VGACommonState *s)
{
    return vbe_on(s) ? (s->gr[6] & ~0x0c) | 0x05 : s->gr[6];
}

static void vga_mark_dirty(VGACommonState *s, uint32_t off, uint32_t len)
{
    mr_set_dirty(&s->vram, off, len);
}

/* ------------------------------------------------------------ ioports */

static bool crtc_port_ignored(VGACommonState *s, uint32_t port)
{
    /* 0x3bx is the CRTC in mono mode only, 0x3dx in colour mode only */
    return ((port & 0xfff0) == 0x3b0 && (s->msr & 1)) ||
           ((port & 0xfff0) == 0x3d0 && !(s->msr & 1));
}

uint32_t vga_ioport_read(VGACommonState *s, uint32_t port)
{
    uint32_t val = 0xff;
    if (crtc_port_ignored(s, port)) {
        return 0xff;
    }
    switch (port) {
    case 0x3c0:
        val = s->ar_flip_flop ? 0 : s->ar_index;
        break;
    case 0x3c1:
        val = (s->ar_index & 0x1f) < 21 ? s->ar[s->ar_index & 0x1f] : 0;
        break;
    case 0x3c2: val = s->st00; break;
    case 0x3c4: val = s->sr_index; break;
    case 0x3c5: val = s->sr[s->sr_index & 7]; break;
    case 0x3c7: val = s->dac_state; break;
    case 0x3c8: val = s->dac_write_index; break;
    case 0x3c9:
        val = s->palette[s->dac_read_index * 3 + s->dac_sub_index];
        if (++s->dac_sub_index == 3) {
            s->dac_sub_index = 0;
            s->dac_read_index++;
        }
        break;
    case 0x3ca: val = s->fcr; break;
    case 0x3cc: val = s->msr; break;
    case 0x3ce: val = s->gr_index; break;
    case 0x3cf: val = s->gr[s->gr_index & 0x0f]; break;
    case 0x3b4: case 0x3d4: val = s->cr_index; break;
    case 0x3b5: case 0x3d5: val = s->cr[s->cr_index]; break;
    case 0x3ba: case 0x3da:
        /* no real retrace timing: toggle so polling loops finish */
        s->st01 ^= ST01_V_RETRACE | ST01_DISP_ENABLE;
        val = s->st01;
        s->ar_flip_flop = false;
        break;
    default:
        break;
    }
    return val;
}

void vga_ioport_write(VGACommonState *s, uint32_t port, uint32_t val)
{
    val &= 0xff;
    if (crtc_port_ignored(s, port)) {
        return;
    }
    switch (port) {
    case 0x3c0:
        if (!s->ar_flip_flop) {
            s->ar_index = val & 0x3f;
        } else {
            unsigned i = s->ar_index & 0x1f;
            switch (i) {
            case 0x00 ... 0x0f: s->ar[i] = val & 0x3f; break;
            case 0x10: s->ar[i] = val & ~0x10; break;
            case 0x11: s->ar[i] = val; break;
            case 0x12: s->ar[i] = val & 0x3f; break;
            case 0x13: s->ar[i] = val & ~0xf0; break;
            case 0x14: s->ar[i] = val & ~0xf0; break;
            default: break;
            }
        }
        s->ar_flip_flop = !s->ar_flip_flop;
        break;
    case 0x3c2: s->msr = val & ~0x10; break;
    case 0x3c4: s->sr_index = val & 7; break;
    case 0x3c5:
        s->sr[s->sr_index] = val & sr_mask[s->sr_index];
        vga_update_memory_access(s);
        break;
    case 0x3c7:
        s->dac_read_index = val;
        s->dac_sub_index = 0;
        s->dac_state = 3;
        break;
    case 0x3c8:
        s->dac_write_index = val;
        s->dac_sub_index = 0;
        s->dac_state = 0;
        break;
    case 0x3c9:
        s->dac_cache[s->dac_sub_index] = val;
        if (++s->dac_sub_index == 3) {
            memcpy(&s->palette[s->dac_write_index * 3], s->dac_cache, 3);
            s->dac_sub_index = 0;
            s->dac_write_index++;
        }
        break;
    case 0x3ce: s->gr_index = val & 0x0f; break;
    case 0x3cf:
        s->gr[s->gr_index] = val & gr_mask[s->gr_index];
        vga_update_memory_access(s);
        break;
    case 0x3b4: case 0x3d4: s->cr_index = val; break;
    case 0x3b5: case 0x3d5:
        /* CR11 bit 7 write-protects CR0-CR7 (except CR7 bit 4) */
        if (s->cr_index <= 7 && (s->cr[0x11] & 0x80)) {
            if (s->cr_index == 7) {
                s->cr[7] = (s->cr[7] & ~0x10) | (val & 0x10);
            }
            return;
        }
        s->cr[s->cr_index] = val;
        break;
    case 0x3ba: case 0x3da: s->fcr = val & 0x10; break;
    default:
        break;
    }
}

/* ------------------------------------------------------ memory window */

/*
 * Chain-4 with all planes writable addresses VRAM linearly: map the window
 * straight onto VRAM (an alias above the MMIO window) so the guest's pixel
 * writes don't exit, as QEMU does. Called whenever SR2/SR4/GR6 or the VBE
 * bank change.
 */
void vga_update_memory_access(VGACommonState *s)
{
    if (!s->lowmem_parent) {
        return;                        /* a second VGA: no legacy window */
    }
    unsigned map = (eff_gr6(s) >> 2) & 3;
    bool direct = (eff_sr4(s) & 0x08) && (eff_sr2(s) & 0x0f) == 0x0f && map <= 1;
    uint64_t size = map == 0 ? 0x20000 : 0x10000;
    uint64_t off = map == 1 ? s->bank_offset : 0;
    if (direct && off + size > s->vram_size) {
        direct = false;
    }
    if (direct == s->chain4_mapped && (!direct || (off == s->chain4_off && size == s->chain4_size))) {
        return;
    }
    memory_begin();
    if (s->chain4_mapped) {
        mr_del_subregion(s->lowmem_parent, &s->chain4);
    }
    s->chain4_mapped = direct;
    if (direct) {
        mr_init_alias(&s->chain4, "vga.chain4", &s->vram, off, size);
        mr_add_subregion(s->lowmem_parent, 0xa0000, &s->chain4, 3);
        s->chain4_off = off;
        s->chain4_size = size;
    }
    memory_commit();
}

/* Window offset -> offset inside the selected map, or -1 when outside. */
static int64_t vga_window_offset(VGACommonState *s, uint64_t addr)
{
    addr &= 0x1ffff;
    switch ((eff_gr6(s) >> 2) & 3) {
    case 0:
        return addr;
    case 1:
        return addr < 0x10000 ? (int64_t)(addr + s->bank_offset) : -1;
    case 2:
        return addr >= 0x10000 && addr < 0x18000 ? (int64_t)(addr - 0x10000) : -1;
    default:
        return addr >= 0x18000 ? (int64_t)(addr - 0x18000) : -1;
    }
}

static uint32_t vram_get32(VGACommonState *s, uint64_t word)
{
    uint32_t v;
    memcpy(&v, s->vram_ptr + word * 4, 4);
    return v;
}

static void vram_set32(VGACommonState *s, uint64_t word, uint32_t v)
{
    memcpy(s->vram_ptr + word * 4, &v, 4);
}

static uint8_t vga_mem_readb(VGACommonState *s, uint64_t addr)
{
    int64_t off = vga_window_offset(s, addr);
    if (off < 0) {
        return 0xff;
    }
    if (eff_sr4(s) & 0x08) {                             /* chain 4 */
        return (uint64_t)off < s->vram_size ? s->vram_ptr[off] : 0xff;
    }
    if (s->gr[5] & 0x10) {                               /* odd/even */
        uint64_t a = (((uint64_t)off & ~1ull) << 1) | ((s->gr[4] & 2) | (off & 1));
        return a < s->vram_size ? s->vram_ptr[a] : 0xff;
    }
    if ((uint64_t)off * 4 + 4 > s->vram_size) {
        return 0xff;
    }
    s->latch = vram_get32(s, off);
    if (!(s->gr[5] & 0x08)) {                            /* read mode 0 */
        return (s->latch >> ((s->gr[4] & 3) * 8)) & 0xff;
    }
    /* read mode 1: colour compare */
    uint32_t r = (s->latch ^ mask16(s->gr[2])) & mask16(s->gr[7]);
    r |= r >> 16;
    r |= r >> 8;
    return ~r & 0xff;
}

static void vga_mem_writeb(VGACommonState *s, uint64_t addr, uint32_t val)
{
    int64_t off = vga_window_offset(s, addr);
    val &= 0xff;
    if (off < 0) {
        return;
    }
    if (eff_sr4(s) & 0x08) {                             /* chain 4 */
        if ((eff_sr2(s) & (1 << (off & 3))) && (uint64_t)off < s->vram_size) {
            s->vram_ptr[off] = val;
            vga_mark_dirty(s, off, 1);
        }
        return;
    }
    if (!(s->sr[4] & 0x04)) {                            /* odd/even */
        unsigned plane = (s->gr[4] & 2) | (off & 1);
        uint64_t a = (((uint64_t)off & ~1ull) << 1) | plane;
        if ((s->sr[2] & (1 << plane)) && a < s->vram_size) {
            s->vram_ptr[a] = val;
            vga_mark_dirty(s, a, 1);
        }
        return;
    }
    if ((uint64_t)off * 4 + 4 > s->vram_size) {
        return;
    }
    uint32_t v = val, bit_mask = 0;
    unsigned rot = s->gr[3] & 7;
    switch (s->gr[5] & 3) {
    case 0: {
        v = ((v >> rot) | (v << (8 - rot))) & 0xff;
        v |= v << 8;
        v |= v << 16;
        uint32_t set_mask = mask16(s->gr[1]);
        v = (v & ~set_mask) | (mask16(s->gr[0]) & set_mask);
        bit_mask = s->gr[8];
        break;
    }
    case 1:
        v = s->latch;
        goto do_write;
    case 2:
        v = mask16(v & 0x0f);
        bit_mask = s->gr[8];
        break;
    default:
        v = ((v >> rot) | (v << (8 - rot))) & 0xff;
        bit_mask = s->gr[8] & v;
        v = mask16(s->gr[0]);
        break;
    }
    switch (s->gr[3] >> 3) {
    case 1: v &= s->latch; break;
    case 2: v |= s->latch; break;
    case 3: v ^= s->latch; break;
    default: break;
    }
    bit_mask |= bit_mask << 8;
    bit_mask |= bit_mask << 16;
    v = (v & bit_mask) | (s->latch & ~bit_mask);
do_write: {
        uint32_t wm = mask16(s->sr[2]);
        vram_set32(s, off, (vram_get32(s, off) & ~wm) | (v & wm));
        vga_mark_dirty(s, off * 4, 4);
    }
}

static uint64_t vga_lowmem_read(void *opaque, uint64_t addr, unsigned size)
{
    return vga_mem_readb(opaque, addr);
}

static void vga_lowmem_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    vga_mem_writeb(opaque, addr, (uint32_t)val);
}

static const MemoryRegionOps vga_lowmem_ops = {
    .read = vga_lowmem_read,
    .write = vga_lowmem_write,
    .min_access = 1,
    .max_access = 1,
};

/* ----------------------------------------------------------------- VBE */

static unsigned vbe_bytes_pp(unsigned bpp)
{
    return bpp == 15 ? 2 : (bpp + 7) / 8;
}

/* Keep the mode inside VRAM (QEMU's vbe_fixup_regs rules). */
static void vbe_fixup(VGACommonState *s)
{
    uint16_t *r = s->vbe_regs;
    if (!(r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED)) {
        return;
    }
    switch (r[VBE_DISPI_INDEX_BPP]) {
    case 4: case 8: case 15: case 16: case 24: case 32: break;
    default: r[VBE_DISPI_INDEX_BPP] = 8; break;
    }
    unsigned bpp = r[VBE_DISPI_INDEX_BPP];
    unsigned xres = MIN(r[VBE_DISPI_INDEX_XRES], VBE_DISPI_MAX_XRES) & ~7u;
    if (!xres) {
        xres = 8;
    }
    unsigned vw = MAX(r[VBE_DISPI_INDEX_VIRT_WIDTH], xres);
    vw = MIN(vw, VBE_DISPI_MAX_XRES) & ~7u;
    unsigned linelen = bpp == 4 ? vw / 2 : vw * vbe_bytes_pp(bpp);
    unsigned maxy = s->vram_size / linelen;
    unsigned yres = r[VBE_DISPI_INDEX_YRES];
    yres = MAX(1u, MIN(yres, MIN(maxy, (unsigned)VBE_DISPI_MAX_YRES)));
    unsigned vh = MIN(maxy, 65535u);
    unsigned xoff = MIN(r[VBE_DISPI_INDEX_X_OFFSET], vw - xres);
    unsigned yoff = MIN(r[VBE_DISPI_INDEX_Y_OFFSET], vh - yres);
    r[VBE_DISPI_INDEX_XRES] = xres;
    r[VBE_DISPI_INDEX_YRES] = yres;
    r[VBE_DISPI_INDEX_VIRT_WIDTH] = vw;
    r[VBE_DISPI_INDEX_VIRT_HEIGHT] = vh;
    r[VBE_DISPI_INDEX_X_OFFSET] = xoff;
    r[VBE_DISPI_INDEX_Y_OFFSET] = yoff;
    s->vbe_line_offset = linelen;
    uint64_t start = (uint64_t)yoff * linelen + (bpp == 4 ? xoff / 2 : xoff * vbe_bytes_pp(bpp));
    if (start + (uint64_t)linelen * yres > s->vram_size) {
        start = 0;
    }
    s->vbe_start_addr = (uint32_t)start;
}

uint32_t vbe_read_reg(VGACommonState *s, unsigned index)
{
    if (index == VBE_DISPI_INDEX_VIDEO_MEMORY_64K) {
        return s->vram_size >> 16;
    }
    if (index >= VBE_DISPI_INDEX_VIDEO_MEMORY_64K) {
        return 0;
    }
    if (s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) {
        switch (index) {
        case VBE_DISPI_INDEX_XRES: return VBE_DISPI_MAX_XRES;
        case VBE_DISPI_INDEX_YRES: return VBE_DISPI_MAX_YRES;
        case VBE_DISPI_INDEX_BPP: return VBE_DISPI_MAX_BPP;
        default: break;
        }
    }
    return s->vbe_regs[index];
}

void vbe_write_reg(VGACommonState *s, unsigned index, uint32_t val)
{
    uint16_t *r = s->vbe_regs;
    val &= 0xffff;
    switch (index) {
    case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5) {
            r[index] = val;
        }
        break;
    case VBE_DISPI_INDEX_XRES: case VBE_DISPI_INDEX_YRES: case VBE_DISPI_INDEX_BPP:
    case VBE_DISPI_INDEX_VIRT_WIDTH: case VBE_DISPI_INDEX_X_OFFSET: case VBE_DISPI_INDEX_Y_OFFSET:
        r[index] = val;
        vbe_fixup(s);
        break;
    case VBE_DISPI_INDEX_BANK:
        val &= (s->vram_size >> 16) - 1;
        r[index] = val;
        s->bank_offset = val << 16;
        vga_update_memory_access(s);
        break;
    case VBE_DISPI_INDEX_ENABLE:
        if ((val & VBE_DISPI_ENABLED) && !(r[index] & VBE_DISPI_ENABLED)) {
            r[VBE_DISPI_INDEX_VIRT_WIDTH] = 0;
            r[VBE_DISPI_INDEX_X_OFFSET] = 0;
            r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
            r[index] |= VBE_DISPI_ENABLED;
            vbe_fixup(s);
            if (!(val & VBE_DISPI_NOCLEARMEM)) {
                uint64_t len = (uint64_t)r[VBE_DISPI_INDEX_YRES] * s->vbe_line_offset;
                memset(s->vram_ptr, 0, MIN(len, (uint64_t)s->vram_size));
                vga_mark_dirty(s, 0, MIN(len, (uint64_t)s->vram_size));
            }
        } else if (!(val & VBE_DISPI_ENABLED)) {
            s->bank_offset = 0;
        }
        r[index] = (val & ~VBE_DISPI_ENABLED) | (val & VBE_DISPI_ENABLED);
        vbe_fixup(s);
        vga_update_memory_access(s);
        s->full_update = true;
        break;
    default:
        break;
    }
}

uint32_t vbe_ioport_read_data(VGACommonState *s)
{
    return vbe_read_reg(s, s->vbe_index);
}

void vbe_ioport_write_data(VGACommonState *s, uint32_t val)
{
    vbe_write_reg(s, s->vbe_index, val);
}

static uint64_t vga_port_read(void *opaque, uint64_t addr, unsigned size)
{
    return vga_ioport_read(opaque, 0x3b0 + (uint32_t)addr);
}

static void vga_port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VGACommonState *s = opaque;
    uint32_t port = 0x3b0 + (uint32_t)addr;
    vga_ioport_write(s, port, (uint32_t)val);
    if (size == 2) {                     /* outw index+data pairs */
        vga_ioport_write(s, port + 1, (uint32_t)(val >> 8));
    }
}

static const MemoryRegionOps vga_port_ops = {
    .read = vga_port_read,
    .write = vga_port_write,
    .min_access = 1,
    .max_access = 2,
};

static uint64_t vbe_port_read(void *opaque, uint64_t addr, unsigned size)
{
    VGACommonState *s = opaque;
    switch (addr) {
    case 0: return s->vbe_index;
    case 1: return size == 1 ? vbe_ioport_read_data(s) & 0xff : vbe_ioport_read_data(s);
    default: return vbe_ioport_read_data(s) >> 8;     /* high byte of a split access */
    }
}

static void vbe_port_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VGACommonState *s = opaque;
    if (addr == 0) {
        s->vbe_index = (uint16_t)val;
    } else if (addr == 1) {
        /* the dispatcher splits a 16-bit access at the odd port 0x1cf into
         * bytes: the low byte applies at once, the high byte completes it */
        s->vbe_data_low = val & 0xff;
        vbe_ioport_write_data(s, size == 1 ? (uint32_t)val & 0xff : (uint32_t)val);
    } else {
        vbe_ioport_write_data(s, s->vbe_data_low | (((uint32_t)val & 0xff) << 8));
    }
}

static const MemoryRegionOps vbe_port_ops = {
    .read = vbe_port_read,
    .write = vbe_port_write,
    .min_access = 1,
    .max_access = 2,
    .unaligned = true,
};

/* ------------------------------------------------------------- set-up */

void vga_common_init(VGACommonState *s, uint32_t vram_size, Error **errp)
{
    s->vram_size = vram_size;
    mr_init_ram(&s->vram, "vga.vram", vram_size, errp);
    s->vram_ptr = s->vram.host;
    mr_set_log_dirty(&s->vram, true);
    mr_init_io(&s->lowmem, "vga-lowmem", &vga_lowmem_ops, s, 0x20000);
}

void vga_init_legacy(VGACommonState *s, MemoryRegion *io_space, MemoryRegion *mem_space)
{
    static MemoryRegion ports, vbe_ports;
    mr_init_io(&ports, "vga", &vga_port_ops, s, 0x30);
    mr_init_io(&vbe_ports, "vbe", &vbe_port_ops, s, 3);   /* 16-bit data at 0x1cf */
    memory_begin();
    mr_add_subregion(io_space, 0x3b0, &ports, 0);
    mr_add_subregion(io_space, 0x1ce, &vbe_ports, 0);
    /* above the PAM-controlled RAM/ROM of the low megabyte */
    mr_add_subregion(mem_space, 0xa0000, &s->lowmem, 2);
    s->lowmem_parent = mem_space;
    memory_commit();
}

void vga_common_reset(VGACommonState *s)
{
    memset(s->sr, 0, sizeof(s->sr));
    memset(s->gr, 0, sizeof(s->gr));
    memset(s->ar, 0, sizeof(s->ar));
    memset(s->cr, 0, sizeof(s->cr));
    memset(s->palette, 0, sizeof(s->palette));
    s->sr_index = s->gr_index = s->ar_index = s->cr_index = 0;
    s->ar_flip_flop = false;
    s->msr = s->fcr = s->st00 = s->st01 = 0;
    s->dac_state = s->dac_sub_index = s->dac_read_index = s->dac_write_index = 0;
    s->latch = 0;
    s->bank_offset = 0;
    s->vbe_index = 0;
    memset(s->vbe_regs, 0, sizeof(s->vbe_regs));
    s->vbe_regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    s->vbe_start_addr = s->vbe_line_offset = 0;
    s->full_update = true;
    if (s->lowmem_parent) {
        vga_update_memory_access(s);
    }
}
