/*
 * QEMU's firmware configuration device: selector at 0x510 (16-bit),
 * data at 0x511 (byte stream), DMA at 0x514 (big-endian descriptor
 * address). Items by key, named files in a sorted directory (key 0x19).
 * Spec: QEMU docs/specs/fw_cfg.rst.
 * Locking: BQL.
 */
#include <string.h>
#include <glib.h>
#include "hw/fw_cfg.h"
#include "system/memory.h"
#include "util/cutils.h"

#define FW_CFG_MAX_FILE_NAME 56
#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ull   /* "QEMU CFG" */

enum { DMA_ERROR = 1, DMA_READ = 2, DMA_SKIP = 4, DMA_SELECT = 8, DMA_WRITE = 0x10 };

typedef struct FWCfgEntry {
    uint8_t *data;
    uint32_t len;
} FWCfgEntry;

typedef struct FWCfgFile {
    char name[FW_CFG_MAX_FILE_NAME];
    FWCfgEntry e;
} FWCfgFile;

struct FWCfgState {
    FWCfgEntry keys[0x20];           /* FW_CFG_SIGNATURE .. FW_CFG_FILE_DIR */
    FWCfgEntry arch[0x10];           /* FW_CFG_ARCH_LOCAL + n */
    GArray *files;                   /* FWCfgFile, sorted by name */
    uint8_t *dir;                    /* rebuilt when files change */
    uint16_t cur_key;
    uint32_t cur_off;
    uint64_t dma_addr;
    MemoryRegion io, dma_io;
};

static FWCfgEntry *entry_for_key(FWCfgState *s, uint16_t key)
{
    if (key < 0x20) {
        return key == FW_CFG_FILE_DIR ? NULL : &s->keys[key];
    }
    if (key >= FW_CFG_ARCH_LOCAL && key < FW_CFG_ARCH_LOCAL + 0x10) {
        return &s->arch[key - FW_CFG_ARCH_LOCAL];
    }
    if (key >= FW_CFG_FILE_FIRST && key < FW_CFG_FILE_FIRST + s->files->len) {
        return &g_array_index(s->files, FWCfgFile, key - FW_CFG_FILE_FIRST).e;
    }
    return NULL;
}

static void rebuild_dir(FWCfgState *s)
{
    uint32_t n = s->files->len;
    uint32_t len = 4 + n * 64;
    g_free(s->dir);
    s->dir = g_malloc0(len);
    stl_be_p(s->dir, n);
    for (uint32_t i = 0; i < n; i++) {
        FWCfgFile *f = &g_array_index(s->files, FWCfgFile, i);
        uint8_t *e = s->dir + 4 + i * 64;
        stl_be_p(e, f->e.len);
        stw_be_p(e + 4, FW_CFG_FILE_FIRST + i);
        memcpy(e + 8, f->name, FW_CFG_MAX_FILE_NAME);
    }
    s->keys[FW_CFG_FILE_DIR].data = s->dir;
    s->keys[FW_CFG_FILE_DIR].len = len;
}

static FWCfgEntry *current_entry(FWCfgState *s)
{
    if (s->cur_key == FW_CFG_FILE_DIR) {
        return &s->keys[FW_CFG_FILE_DIR];
    }
    return entry_for_key(s, s->cur_key & ~0x4000);   /* bit 14: write flag, ignored */
}

static void select_key(FWCfgState *s, uint16_t key)
{
    s->cur_key = key;
    s->cur_off = 0;
}

static uint8_t read_byte(FWCfgState *s)
{
    FWCfgEntry *e = current_entry(s);
    if (!e || !e->data || s->cur_off >= e->len) {
        return 0;
    }
    return e->data[s->cur_off++];
}

static uint64_t fw_cfg_io_read(void *opaque, uint64_t off, unsigned size)
{
    FWCfgState *s = opaque;
    if (off == 1) {
        /* data port: bytes of the selected item, in order */
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            v = (v << 8) | read_byte(s);
        }
        return v;
    }
    return 0;
}

static void fw_cfg_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;
    if (off == 0 && size == 2) {
        select_key(s, (uint16_t)val);
    } else if (off == 0 && size == 1) {
        select_key(s, (uint16_t)val);
    }
    /* data writes are ignored (QEMU >= 2.4: read-only items) */
}

static const MemoryRegionOps fw_cfg_io_ops = {
    .read = fw_cfg_io_read, .write = fw_cfg_io_write,
    .min_access = 1, .max_access = 2, .unaligned = true,
};

/* Run one DMA descriptor at s->dma_addr. */
static void dma_transfer(FWCfgState *s)
{
    uint8_t desc[16];
    as_rw(&as_memory, s->dma_addr, desc, sizeof(desc), false);
    uint32_t control = ldl_be_p(desc);
    uint32_t length = ldl_be_p(desc + 4);
    uint64_t addr = ldq_be_p(desc + 8);
    if (control & DMA_SELECT) {
        select_key(s, control >> 16);
    }
    FWCfgEntry *e = current_entry(s);
    bool error = false;
    if (control & (DMA_READ | DMA_SKIP)) {
        while (length) {
            uint8_t buf[4096];
            uint32_t chunk = MIN(length, (uint32_t)sizeof(buf));
            uint32_t avail = (e && e->data && s->cur_off < e->len) ? e->len - s->cur_off : 0;
            uint32_t n = MIN(chunk, avail);
            if (n) {
                memcpy(buf, e->data + s->cur_off, n);
            }
            memset(buf + n, 0, chunk - n);     /* past the end reads as zero */
            if (control & DMA_READ) {
                if (as_rw(&as_memory, addr, buf, chunk, true) < 0) {
                    error = true;
                    break;
                }
            }
            s->cur_off += n;
            addr += chunk;
            length -= chunk;
        }
    } else if (control & DMA_WRITE) {
        error = true;                            /* no writable items */
    }
    uint8_t done[4];
    stl_be_p(done, error ? DMA_ERROR : 0);
    as_rw(&as_memory, s->dma_addr, done, 4, true);
}

static uint64_t fw_cfg_dma_read(void *opaque, uint64_t off, unsigned size)
{
    /* reading the DMA register returns the "QEMU CFG" signature */
    uint8_t sig[8];
    stq_be_p(sig, FW_CFG_DMA_SIGNATURE);
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++) {
        v = (v << 8) | sig[off + i];
    }
    return v;
}

static void fw_cfg_dma_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;
    /* big-endian 64-bit address; writing the low half starts the transfer */
    if (size == 4 && off == 0) {
        s->dma_addr = ((uint64_t)__builtin_bswap32((uint32_t)val) << 32) | (s->dma_addr & 0xffffffffu);
    } else if (size == 4 && off == 4) {
        s->dma_addr = (s->dma_addr & ~0xffffffffull) | __builtin_bswap32((uint32_t)val);
        dma_transfer(s);
        s->dma_addr = 0;
    } else if (size == 8 && off == 0) {
        s->dma_addr = __builtin_bswap64(val);
        dma_transfer(s);
        s->dma_addr = 0;
    }
}

static const MemoryRegionOps fw_cfg_dma_ops = {
    .read = fw_cfg_dma_read, .write = fw_cfg_dma_write,
    .min_access = 1, .max_access = 8, .unaligned = false,
};

FWCfgState *fw_cfg_init_io(uint16_t iobase, uint16_t dma_iobase)
{
    FWCfgState *s = g_new0(FWCfgState, 1);
    s->files = g_array_new(FALSE, TRUE, sizeof(FWCfgFile));
    mr_init_io(&s->io, "fwcfg", &fw_cfg_io_ops, s, 2);
    mr_add_subregion(system_io, iobase, &s->io, 0);
    if (dma_iobase) {
        mr_init_io(&s->dma_io, "fwcfg.dma", &fw_cfg_dma_ops, s, 8);
        mr_add_subregion(system_io, dma_iobase, &s->dma_io, 0);
    }
    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, g_memdup2("QEMU", 4), 4);
    fw_cfg_add_i32(s, FW_CFG_ID, dma_iobase ? 3 : 1);
    rebuild_dir(s);
    return s;
}

void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, void *data, size_t len)
{
    FWCfgEntry *e = entry_for_key(s, key);
    g_assert(e);
    g_free(e->data);
    e->data = data;
    e->len = len;
}

void fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *str)
{
    fw_cfg_add_bytes(s, key, g_strdup(str), strlen(str) + 1);
}

void fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t v)
{
    uint8_t *p = g_malloc(2);
    stw_le_p(p, v);
    fw_cfg_add_bytes(s, key, p, 2);
}

void fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t v)
{
    uint8_t *p = g_malloc(4);
    stl_le_p(p, v);
    fw_cfg_add_bytes(s, key, p, 4);
}

void fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t v)
{
    uint8_t *p = g_malloc(8);
    stq_le_p(p, v);
    fw_cfg_add_bytes(s, key, p, 8);
}

static int file_index(FWCfgState *s, const char *name)
{
    for (guint i = 0; i < s->files->len; i++) {
        if (!strcmp(g_array_index(s->files, FWCfgFile, i).name, name)) {
            return i;
        }
    }
    return -1;
}

void fw_cfg_add_file(FWCfgState *s, const char *name, void *data, size_t len)
{
    g_assert(strlen(name) < FW_CFG_MAX_FILE_NAME);
    g_assert(file_index(s, name) < 0);
    FWCfgFile f = { 0 };
    g_strlcpy(f.name, name, sizeof(f.name));
    f.e.data = data;
    f.e.len = len;
    guint i = 0;
    while (i < s->files->len && strcmp(g_array_index(s->files, FWCfgFile, i).name, name) < 0) {
        i++;
    }
    g_array_insert_val(s->files, i, f);
    rebuild_dir(s);
}

void fw_cfg_modify_file(FWCfgState *s, const char *name, void *data, size_t len)
{
    int i = file_index(s, name);
    if (i < 0) {
        fw_cfg_add_file(s, name, data, len);
        return;
    }
    FWCfgFile *f = &g_array_index(s->files, FWCfgFile, i);
    g_free(f->e.data);
    f->e.data = data;
    f->e.len = len;
    rebuild_dir(s);
}

const void *fw_cfg_find_file(FWCfgState *s, const char *name, size_t *len)
{
    int i = file_index(s, name);
    if (i < 0) {
        return NULL;
    }
    FWCfgFile *f = &g_array_index(s->files, FWCfgFile, i);
    *len = f->e.len;
    return f->e.data;
}
