/*
 * Address-space accesses: RAM by memcpy, ROM read-only, device regions
 * through their MemoryRegionOps with accesses split or widened to what
 * the device implements (little-endian), unassigned space reading ~0.
 * Locking: takes the BQL around device callbacks when the caller doesn't
 * hold it; RAM accesses need no lock.
 */
#include <string.h>
#include "system/main-loop.h"
#include "system/memory.h"
#include "util/cutils.h"

static uint64_t io_read_sized(MemoryRegion *mr, uint64_t off, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned min = ops->min_access ? ops->min_access : 1;
    unsigned max = ops->max_access ? ops->max_access : 4;
    if (!ops->read) {
        return ~0ull >> (64 - size * 8);
    }
    if (size >= min && size <= max && (ops->unaligned || !(off & (size - 1)))) {
        return ops->read(mr->opaque, off, size);
    }
    if (size < min) {
        uint64_t aoff = off & ~(uint64_t)(min - 1);
        uint64_t v = ops->read(mr->opaque, aoff, min);
        return (v >> ((off - aoff) * 8)) & (~0ull >> (64 - size * 8));
    }
    /* larger than the device takes: pieces of 'max' (misaligned: 'min') */
    unsigned piece = (off & (max - 1)) && !ops->unaligned ? min : max;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i += piece) {
        v |= ops->read(mr->opaque, off + i, piece) << (i * 8);
    }
    return v;
}

static void io_write_sized(MemoryRegion *mr, uint64_t off, uint64_t val, unsigned size)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned min = ops->min_access ? ops->min_access : 1;
    unsigned max = ops->max_access ? ops->max_access : 4;
    if (!ops->write) {
        return;
    }
    if (size >= min && size <= max && (ops->unaligned || !(off & (size - 1)))) {
        ops->write(mr->opaque, off, val, size);
        return;
    }
    if (size < min) {
        /* widen: QEMU writes the value zero-extended at the same offset */
        uint64_t aoff = off & ~(uint64_t)(min - 1);
        ops->write(mr->opaque, aoff, val << ((off - aoff) * 8), min);
        return;
    }
    unsigned piece = (off & (max - 1)) && !ops->unaligned ? min : max;
    for (unsigned i = 0; i < size; i += piece) {
        ops->write(mr->opaque, off + i, (val >> (i * 8)) & (~0ull >> (64 - piece * 8)), piece);
    }
}

/* One access of 1, 2, 4 or 8 bytes to a device region. */
static void io_access(MemoryRegion *mr, uint64_t off, uint8_t *buf, unsigned size, bool is_write)
{
    bool locked = bql_locked();
    if (!locked) {
        bql_lock();
    }
    if (is_write) {
        uint64_t v = 0;
        memcpy(&v, buf, size);
        io_write_sized(mr, off, v, size);
    } else {
        uint64_t v = io_read_sized(mr, off, size);
        memcpy(buf, &v, size);
    }
    if (!locked) {
        bql_unlock();
    }
}

int as_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len, bool is_write)
{
    uint8_t *p = buf;
    int ret = 0;
    while (len) {
        const FlatRange *fr = as->view ? flatview_lookup(as->view, addr) : NULL;
        if (!fr) {
            if (!is_write) {
                *p = 0xff;
            }
            ret = -1;
            p++;
            addr++;
            len--;
            continue;
        }
        uint64_t chunk = MIN(len, fr->end - addr);
        uint64_t off = fr->mr_off + (addr - fr->start);
        MemoryRegion *mr = fr->mr;
        if (mr->kind == MR_RAM || mr->kind == MR_ROM) {
            if (!is_write) {
                memcpy(p, mr->host + off, chunk);
            } else if (!fr->readonly) {
                memcpy(mr->host + off, p, chunk);
                mr_set_dirty(mr, off, chunk);
            }
        } else {
            /* device: natural power-of-two pieces up to 8 bytes */
            uint64_t done = 0;
            while (done < chunk) {
                unsigned sz = 8;
                while (sz > chunk - done || ((off + done) & (sz - 1) && sz > 1)) {
                    sz >>= 1;
                }
                io_access(mr, off + done, p + done, sz, is_write);
                done += sz;
            }
        }
        p += chunk;
        addr += chunk;
        len -= chunk;
    }
    return ret;
}

uint64_t as_ld(AddressSpace *as, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    as_rw(as, addr, &v, size, false);
    return v;
}

void as_st(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size)
{
    as_rw(as, addr, &val, size, true);
}

void *as_map(AddressSpace *as, uint64_t addr, uint64_t *len, bool is_write)
{
    const FlatRange *fr = as->view ? flatview_lookup(as->view, addr) : NULL;
    if (!fr || (fr->mr->kind != MR_RAM && fr->mr->kind != MR_ROM) || (is_write && fr->readonly)) {
        return NULL;
    }
    uint64_t avail = fr->end - addr;
    if (*len > avail) {
        *len = avail;
    }
    uint64_t off = fr->mr_off + (addr - fr->start);
    if (is_write) {
        mr_set_dirty(fr->mr, off, *len);
    }
    return fr->mr->host + off;
}
