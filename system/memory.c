/*
 * Memory region tree and its flattening into FlatViews (QEMU's memory API
 * model, docs/memory.md): containers, RAM, ROM, I/O callbacks and aliases,
 * with priorities; listeners see the ranges that appear and disappear.
 * Locking: BQL for every topology change; FlatViews are replaced, never
 * edited, and a replaced one is retired for 64 generations before it is
 * freed, so lock-free readers (vCPU RAM lookups) never see freed memory.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "system/main-loop.h"
#include "system/memory.h"
#include "util/cutils.h"

AddressSpace as_memory = { .name = "memory" };
AddressSpace as_io = { .name = "I/O" };
MemoryRegion *system_memory, *system_io;

static int commit_depth;
static bool topology_changed;
static unsigned flatview_generation;

#define PAGE_SIZE_4K 4096ull

static void mr_init_common(MemoryRegion *mr, MRKind kind, const char *name, uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->kind = kind;
    mr->name = g_strdup(name);
    mr->size = size;
    mr->enabled = true;
}

void mr_init_container(MemoryRegion *mr, const char *name, uint64_t size)
{
    mr_init_common(mr, MR_CONTAINER, name, size);
    mr->subregions = g_ptr_array_new();
}

void mr_init_ram_ptr(MemoryRegion *mr, const char *name, uint64_t size, void *host)
{
    mr_init_common(mr, MR_RAM, name, size);
    mr->host = host;
}

void mr_init_ram(MemoryRegion *mr, const char *name, uint64_t size, Error **errp)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot set up guest memory '%s'", name);
        mr_init_common(mr, MR_RAM, name, 0);
        return;
    }
    madvise(p, size, MADV_MERGEABLE);
    mr_init_ram_ptr(mr, name, size, p);
}

void mr_init_rom(MemoryRegion *mr, const char *name, uint64_t size, Error **errp)
{
    mr_init_ram(mr, name, size, errp);
    mr->kind = MR_ROM;
    mr->readonly = true;
}

void mr_init_io(MemoryRegion *mr, const char *name, const MemoryRegionOps *ops,
                void *opaque, uint64_t size)
{
    mr_init_common(mr, MR_IO, name, size);
    mr->ops = ops;
    mr->opaque = opaque;
}

void mr_init_alias(MemoryRegion *mr, const char *name, MemoryRegion *target,
                   uint64_t off, uint64_t size)
{
    mr_init_common(mr, MR_ALIAS, name, size);
    mr->alias = target;
    mr->alias_off = off;
}

static void topology_touch(void)
{
    topology_changed = true;
    if (!commit_depth) {
        memory_begin();
        memory_commit();
    }
}

void mr_add_subregion(MemoryRegion *parent, uint64_t addr, MemoryRegion *sub, int prio)
{
    g_assert(parent->kind == MR_CONTAINER && !sub->parent);
    sub->parent = parent;
    sub->addr = addr;
    sub->prio = prio;
    /* highest priority first; a newer region wins among equal priorities */
    guint i;
    for (i = 0; i < parent->subregions->len; i++) {
        MemoryRegion *o = g_ptr_array_index(parent->subregions, i);
        if (o->prio <= prio) {
            break;
        }
    }
    g_ptr_array_insert(parent->subregions, i, sub);
    topology_touch();
}

void mr_del_subregion(MemoryRegion *parent, MemoryRegion *sub)
{
    g_assert(sub->parent == parent);
    g_ptr_array_remove(parent->subregions, sub);
    sub->parent = NULL;
    topology_touch();
}

void mr_set_enabled(MemoryRegion *mr, bool on)
{
    if (mr->enabled != on) {
        mr->enabled = on;
        topology_touch();
    }
}

void mr_set_address(MemoryRegion *mr, uint64_t addr)
{
    if (mr->addr != addr) {
        mr->addr = addr;
        topology_touch();
    }
}

void mr_set_readonly(MemoryRegion *mr, bool ro)
{
    if (mr->readonly != ro) {
        mr->readonly = ro;
        topology_touch();
    }
}

void mr_set_alias_offset(MemoryRegion *mr, uint64_t off)
{
    if (mr->alias_off != off) {
        mr->alias_off = off;
        topology_touch();
    }
}

void mr_set_log_dirty(MemoryRegion *mr, bool on)
{
    if (on && !mr->dirty) {
        mr->dirty = g_malloc0((mr->size / PAGE_SIZE_4K + 8) / 8 + 1);
    }
    mr->log_dirty = on;
}

void mr_set_dirty(MemoryRegion *mr, uint64_t off, uint64_t len)
{
    if (!mr->log_dirty || !len) {
        return;
    }
    for (uint64_t pg = off / PAGE_SIZE_4K; pg <= (off + len - 1) / PAGE_SIZE_4K; pg++) {
        mr->dirty[pg / 8] |= 1 << (pg % 8);
    }
}

bool mr_test_and_clear_dirty(MemoryRegion *mr, uint64_t off, uint64_t len)
{
    bool any = false;
    if (!mr->dirty || !len) {
        return false;
    }
    for (uint64_t pg = off / PAGE_SIZE_4K; pg <= (off + len - 1) / PAGE_SIZE_4K; pg++) {
        if (mr->dirty[pg / 8] & (1 << (pg % 8))) {
            any = true;
            mr->dirty[pg / 8] &= ~(1 << (pg % 8));
        }
    }
    return any;
}

/* ---- flattening ---- */

typedef struct FVBuilder {
    GArray *ranges;     /* FlatRange, sorted, non-overlapping */
} FVBuilder;

static void render(FVBuilder *b, MemoryRegion *mr, uint64_t base, uint64_t clip_start,
                   uint64_t clip_end, bool ro)
{
    if (!mr->enabled || !mr->size) {
        return;
    }
    uint64_t end = mr->size == UINT64_MAX || base + mr->size < base ? UINT64_MAX : base + mr->size;
    clip_start = MAX(clip_start, base);
    clip_end = MIN(clip_end, end);
    if (clip_start >= clip_end) {
        return;
    }
    ro = ro || mr->readonly;
    switch (mr->kind) {
    case MR_CONTAINER:
        for (guint i = 0; i < mr->subregions->len; i++) {
            MemoryRegion *s = g_ptr_array_index(mr->subregions, i);
            render(b, s, base + s->addr, clip_start, clip_end, ro);
        }
        break;
    case MR_ALIAS:
        render(b, mr->alias, base - mr->alias_off, clip_start, clip_end, ro);
        break;
    default: {
        /* fill the gaps that higher-priority regions (rendered first)
         * left free; each piece keeps its own offset into mr */
        guint i = 0;
        uint64_t s = clip_start;
        while (s < clip_end) {
            while (i < b->ranges->len && g_array_index(b->ranges, FlatRange, i).end <= s) {
                i++;
            }
            if (i < b->ranges->len && g_array_index(b->ranges, FlatRange, i).start <= s) {
                s = g_array_index(b->ranges, FlatRange, i).end;
                continue;
            }
            uint64_t e = clip_end;
            if (i < b->ranges->len) {
                e = MIN(e, g_array_index(b->ranges, FlatRange, i).start);
            }
            FlatRange fr = { s, e, mr, s - base, ro };
            g_array_insert_val(b->ranges, i, fr);
            i++;
            s = e;
        }
        break;
    }
    }
}

static bool fr_same_target(const FlatRange *a, const FlatRange *b)
{
    return a->mr == b->mr && a->readonly == b->readonly &&
           a->mr_off - a->start == b->mr_off - b->start;
}

FlatView *flatview_build(MemoryRegion *root)
{
    FVBuilder b = { g_array_new(FALSE, FALSE, sizeof(FlatRange)) };
    if (root) {
        render(&b, root, 0, 0, UINT64_MAX, false);
    }
    /* merge adjacent pieces of the same region */
    GArray *out = g_array_new(FALSE, FALSE, sizeof(FlatRange));
    for (guint i = 0; i < b.ranges->len; i++) {
        FlatRange *r = &g_array_index(b.ranges, FlatRange, i);
        if (out->len) {
            FlatRange *last = &g_array_index(out, FlatRange, out->len - 1);
            if (last->end == r->start && fr_same_target(last, r)) {
                last->end = r->end;
                continue;
            }
        }
        g_array_append_val(out, *r);
    }
    g_array_free(b.ranges, TRUE);
    FlatView *fv = g_new0(FlatView, 1);
    fv->n = out->len;
    fv->r = (FlatRange *)g_array_free(out, FALSE);
    fv->gen = ++flatview_generation;
    return fv;
}

void flatview_free(FlatView *fv)
{
    if (fv) {
        g_free(fv->r);
        g_free(fv);
    }
}

const FlatRange *flatview_lookup(const FlatView *fv, uint64_t addr)
{
    int lo = 0, hi = fv->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const FlatRange *r = &fv->r[mid];
        if (addr < r->start) {
            hi = mid - 1;
        } else if (addr >= r->end) {
            lo = mid + 1;
        } else {
            return r;
        }
    }
    return NULL;
}

static bool fr_in_view(const FlatView *fv, const FlatRange *fr)
{
    for (int i = 0; i < fv->n; i++) {
        const FlatRange *o = &fv->r[i];
        if (o->start == fr->start && o->end == fr->end && fr_same_target(o, fr)) {
            return true;
        }
    }
    return false;
}

static void as_update(AddressSpace *as)
{
    FlatView *old = as->view;
    FlatView *nv = flatview_build(as->root);
    MemoryListener *l;
    for (l = as->listeners; l; l = l->next) {
        if (l->begin) {
            l->begin(l);
        }
    }
    if (old) {
        for (int i = 0; i < old->n; i++) {
            if (!fr_in_view(nv, &old->r[i])) {
                for (l = as->listeners; l; l = l->next) {
                    if (l->region_del) {
                        l->region_del(l, &old->r[i]);
                    }
                }
            }
        }
    }
    __atomic_store_n(&as->view, nv, __ATOMIC_RELEASE);
    for (int i = 0; i < nv->n; i++) {
        if (!old || !fr_in_view(old, &nv->r[i])) {
            for (l = as->listeners; l; l = l->next) {
                if (l->region_add) {
                    l->region_add(l, &nv->r[i]);
                }
            }
        }
    }
    for (l = as->listeners; l; l = l->next) {
        if (l->commit) {
            l->commit(l);
        }
    }
    /* vCPU threads look views up without the BQL (RAM fast path), so a
     * replaced view is retired, not freed: it is freed only after 64 more
     * topology changes, long after any lookup that started on it ended. */
    static FlatView *retired[64];
    static unsigned retired_pos;
    flatview_free(retired[retired_pos]);
    retired[retired_pos] = old;
    retired_pos = (retired_pos + 1) % 64;
}

void memory_begin(void)
{
    commit_depth++;
}

void memory_commit(void)
{
    g_assert(commit_depth > 0);
    if (--commit_depth == 0 && topology_changed) {
        topology_changed = false;
        as_update(&as_memory);
        as_update(&as_io);
    }
}

void memory_listener_register(AddressSpace *as, MemoryListener *l)
{
    l->next = as->listeners;
    as->listeners = l;
    if (as->view) {
        if (l->begin) {
            l->begin(l);
        }
        for (int i = 0; i < as->view->n; i++) {
            if (l->region_add) {
                l->region_add(l, &as->view->r[i]);
            }
        }
        if (l->commit) {
            l->commit(l);
        }
    }
}

void memory_listener_unregister(AddressSpace *as, MemoryListener *l)
{
    for (MemoryListener **pp = &as->listeners; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            return;
        }
    }
}

void memory_init(void)
{
    static MemoryRegion sysmem, sysio;
    if (system_memory) {
        return;
    }
    mr_init_container(&sysmem, "system", UINT64_MAX);
    mr_init_container(&sysio, "io", 65536);
    system_memory = &sysmem;
    system_io = &sysio;
    as_memory.root = system_memory;
    as_io.root = system_io;
    memory_begin();
    topology_changed = true;
    memory_commit();
}

/* ---- info mtree ---- */

static void mtree_print_mr(GString *out, MemoryRegion *mr, uint64_t base, int level)
{
    static const char *const kinds[] = { "container", "ram", "rom", "i/o", "alias" };
    uint64_t start = base + (level ? mr->addr : 0);
    uint64_t end = mr->size ? start + mr->size - 1 : start;
    g_string_append_printf(out, "%*s%016" G_GINT64_MODIFIER "x-%016" G_GINT64_MODIFIER "x (prio %d, %s%s): %s",
                           level * 2 + 2, "", start, end, mr->prio,
                           mr->kind == MR_RAM && mr->readonly ? "rom" : kinds[mr->kind],
                           mr->enabled ? "" : ", disabled", mr->name);
    if (mr->kind == MR_ALIAS) {
        g_string_append_printf(out, " @%s %016" G_GINT64_MODIFIER "x-%016" G_GINT64_MODIFIER "x",
                               mr->alias->name, mr->alias_off, mr->alias_off + mr->size - 1);
    }
    g_string_append(out, "\n");
    if (mr->kind == MR_CONTAINER) {
        /* QEMU prints subregions in address order */
        g_autoptr(GPtrArray) sorted = g_ptr_array_copy(mr->subregions, NULL, NULL);
        for (guint i = 1; i < sorted->len; i++) {
            for (guint j = i; j > 0; j--) {
                MemoryRegion *a = g_ptr_array_index(sorted, j - 1), *b = g_ptr_array_index(sorted, j);
                if (a->addr > b->addr || (a->addr == b->addr && a->prio < b->prio)) {
                    sorted->pdata[j - 1] = b;
                    sorted->pdata[j] = a;
                }
            }
        }
        for (guint i = 0; i < sorted->len; i++) {
            mtree_print_mr(out, g_ptr_array_index(sorted, i), start, level + 1);
        }
    }
}

void memory_print_mtree(GString *out)
{
    g_string_append(out, "address-space: memory\n");
    mtree_print_mr(out, system_memory, 0, 0);
    g_string_append(out, "\naddress-space: I/O\n");
    mtree_print_mr(out, system_io, 0, 0);
}
