/*
 * Memory regions, address spaces and dispatch (PIO and MMIO share the API).
 * Model: QEMU's MemoryRegion tree flattened into a sorted FlatView, without
 * RCU or IOMMUs (docs/memory.md).
 * Locking: topology changes and MR_IO callbacks run with the BQL held; RAM
 * host pointers stay valid for the life of the process and may be used
 * without the BQL.
 */
#ifndef SYSTEM_MEMORY_H
#define SYSTEM_MEMORY_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "util/error.h"

typedef struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, uint64_t off, unsigned size);
    void     (*write)(void *opaque, uint64_t off, uint64_t val, unsigned size);
    uint8_t  min_access, max_access;   /* sizes the device implements; 0 = 1..4 */
    bool     unaligned;                /* device accepts unaligned offsets */
} MemoryRegionOps;

typedef enum { MR_CONTAINER, MR_RAM, MR_ROM, MR_IO, MR_ALIAS } MRKind;

typedef struct MemoryRegion MemoryRegion;
struct MemoryRegion {
    MRKind kind;
    char *name;
    uint64_t size;
    const MemoryRegionOps *ops;        /* MR_IO */
    void *opaque;
    uint8_t *host;                     /* MR_RAM / MR_ROM */
    bool readonly;                     /* MR_ROM, or RAM made read-only (PAM) */
    bool log_dirty;
    uint8_t *dirty;                    /* one bit per page when log_dirty */
    MemoryRegion *alias;               /* MR_ALIAS */
    uint64_t alias_off;
    MemoryRegion *parent;
    uint64_t addr;
    int prio;
    bool enabled;
    GPtrArray *subregions;             /* MR_CONTAINER, highest priority first */
};

typedef struct FlatRange {
    uint64_t start, end;               /* [start, end) in the address space */
    MemoryRegion *mr;                  /* terminal region: RAM, ROM or IO */
    uint64_t mr_off;                   /* offset of 'start' inside mr */
    bool readonly;
} FlatRange;

typedef struct FlatView {
    FlatRange *r;
    int n;
    unsigned gen;
} FlatView;

typedef struct MemoryListener MemoryListener;
struct MemoryListener {
    void (*begin)(MemoryListener *l);
    void (*region_add)(MemoryListener *l, const FlatRange *fr);
    void (*region_del)(MemoryListener *l, const FlatRange *fr);
    void (*commit)(MemoryListener *l);
    MemoryListener *next;
};

typedef struct AddressSpace {
    const char *name;
    MemoryRegion *root;
    FlatView *view;
    MemoryListener *listeners;
} AddressSpace;

extern AddressSpace as_memory, as_io;
extern MemoryRegion *system_memory, *system_io;

void memory_init(void);
void mr_init_container(MemoryRegion *mr, const char *name, uint64_t size);
void mr_init_ram(MemoryRegion *mr, const char *name, uint64_t size, Error **errp);
void mr_init_ram_ptr(MemoryRegion *mr, const char *name, uint64_t size, void *host);
void mr_init_rom(MemoryRegion *mr, const char *name, uint64_t size, Error **errp);
void mr_init_io(MemoryRegion *mr, const char *name, const MemoryRegionOps *ops,
                void *opaque, uint64_t size);
void mr_init_alias(MemoryRegion *mr, const char *name, MemoryRegion *target,
                   uint64_t off, uint64_t size);
void mr_add_subregion(MemoryRegion *parent, uint64_t addr, MemoryRegion *sub, int prio);
void mr_del_subregion(MemoryRegion *parent, MemoryRegion *sub);
void mr_set_enabled(MemoryRegion *mr, bool on);
void mr_set_address(MemoryRegion *mr, uint64_t addr);
void mr_set_readonly(MemoryRegion *mr, bool ro);
void mr_set_alias_offset(MemoryRegion *mr, uint64_t off);
void mr_set_log_dirty(MemoryRegion *mr, bool on);
bool mr_test_and_clear_dirty(MemoryRegion *mr, uint64_t off, uint64_t len);
void mr_set_dirty(MemoryRegion *mr, uint64_t off, uint64_t len);

/* Batch topology changes; the outermost commit rebuilds the FlatViews. */
void memory_begin(void);
void memory_commit(void);

void memory_listener_register(AddressSpace *as, MemoryListener *l);
void memory_listener_unregister(AddressSpace *as, MemoryListener *l);

/* Flattening, exposed for unit tests and `info mtree`. */
FlatView *flatview_build(MemoryRegion *root);
void flatview_free(FlatView *fv);
const FlatRange *flatview_lookup(const FlatView *fv, uint64_t addr);

/*
 * Dispatch. Returns 0, or -1 when part of the access hit no region
 * (reads of unassigned space return all ones, writes are dropped).
 * Takes the BQL around MR_IO callbacks when the caller doesn't hold it.
 */
int as_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len, bool is_write);
uint64_t as_ld(AddressSpace *as, uint64_t addr, unsigned size);
void as_st(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size);
/* A host pointer for up to *len bytes of RAM at addr (shortened to what is
 * contiguous), or NULL when addr is not RAM (or is ROM and is_write). */
void *as_map(AddressSpace *as, uint64_t addr, uint64_t *len, bool is_write);

void memory_print_mtree(GString *out);

#endif
