/*
 * Unit tests: memory region flattening (priorities, aliases, containers,
 * enable/disable), listeners, and dispatch splitting (system/memory.c,
 * system/dispatch.c).
 */
#include <string.h>
#include <glib.h>
#include "system/main-loop.h"
#include "system/memory.h"

static uint64_t last_write_val;
static unsigned last_write_size, n_writes;
static uint64_t last_write_off;

static uint64_t io_read(void *opaque, uint64_t off, unsigned size)
{
    return 0x1000 + off * 0x10 + size;
}

static void io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    last_write_off = off;
    last_write_val = val;
    last_write_size = size;
    n_writes++;
}

static const MemoryRegionOps ops_1to4 = { .read = io_read, .write = io_write, .min_access = 1, .max_access = 4 };
static const MemoryRegionOps ops_4only = { .read = io_read, .write = io_write, .min_access = 4, .max_access = 4 };

static void test_priorities_and_alias(void)
{
    MemoryRegion root, ram, dev, alias;
    mr_init_container(&root, "root", UINT64_MAX);
    mr_init_ram(&ram, "ram", 0x100000, NULL);
    mr_init_io(&dev, "dev", &ops_1to4, NULL, 0x1000);
    mr_init_alias(&alias, "alias", &ram, 0x10000, 0x2000);
    mr_add_subregion(&root, 0, &ram, 0);
    mr_add_subregion(&root, 0x8000, &dev, 1);          /* covers part of RAM */
    mr_add_subregion(&root, 0x200000, &alias, 0);
    FlatView *fv = flatview_build(&root);
    /* ram [0,0x8000) dev [0x8000,0x9000) ram [0x9000,0x100000) alias */
    g_assert_cmpint(fv->n, ==, 4);
    const FlatRange *r = flatview_lookup(fv, 0x8800);
    g_assert_true(r->mr == &dev);
    g_assert_cmpuint(r->mr_off, ==, 0);
    r = flatview_lookup(fv, 0x9000);
    g_assert_true(r->mr == &ram);
    g_assert_cmpuint(r->mr_off, ==, 0x9000);
    r = flatview_lookup(fv, 0x201000);
    g_assert_true(r->mr == &ram);
    g_assert_cmpuint(r->start, ==, 0x200000);
    g_assert_cmpuint(r->mr_off + (0x201000 - r->start), ==, 0x11000);
    g_assert_null(flatview_lookup(fv, 0x100000));
    g_assert_null(flatview_lookup(fv, 0x202000));
    flatview_free(fv);

    /* a disabled overlay uncovers what is below; a lower-priority one stays hidden */
    dev.enabled = false;
    fv = flatview_build(&root);
    g_assert_cmpint(fv->n, ==, 2);
    g_assert_true(flatview_lookup(fv, 0x8800)->mr == &ram);
    flatview_free(fv);
}

static void test_nested_clip(void)
{
    MemoryRegion root, sub, ram;
    mr_init_container(&root, "root", UINT64_MAX);
    mr_init_container(&sub, "sub", 0x1000);
    mr_init_ram(&ram, "ram", 0x4000, NULL);          /* larger than its container */
    mr_add_subregion(&sub, 0x800, &ram, 0);
    mr_add_subregion(&root, 0x10000, &sub, 0);
    FlatView *fv = flatview_build(&root);
    g_assert_cmpint(fv->n, ==, 1);
    g_assert_cmpuint(fv->r[0].start, ==, 0x10800);
    g_assert_cmpuint(fv->r[0].end, ==, 0x11000);      /* clipped by the container */
    flatview_free(fv);
}

static int adds, dels;
static void l_add(MemoryListener *l, const FlatRange *fr) { adds++; }
static void l_del(MemoryListener *l, const FlatRange *fr) { dels++; }

static void test_dispatch_and_listener(void)
{
    memory_init();
    bql_lock();
    MemoryListener l = { .region_add = l_add, .region_del = l_del };
    memory_listener_register(&as_memory, &l);
    static MemoryRegion ram, dev, dev4;
    mr_init_ram(&ram, "ram", 0x10000, NULL);
    mr_init_io(&dev, "dev", &ops_1to4, NULL, 0x100);
    mr_init_io(&dev4, "dev4", &ops_4only, NULL, 0x100);
    adds = dels = 0;
    memory_begin();
    mr_add_subregion(system_memory, 0, &ram, 0);
    mr_add_subregion(system_memory, 0x20000, &dev, 0);
    mr_add_subregion(system_memory, 0x30000, &dev4, 0);
    memory_commit();
    g_assert_cmpint(adds, ==, 3);
    uint32_t v = 0x11223344;
    as_rw(&as_memory, 0x100, &v, 4, true);
    g_assert_cmpuint(*(uint32_t *)(ram.host + 0x100), ==, 0x11223344);
    g_assert_cmpuint(as_ld(&as_memory, 0x100, 2), ==, 0x3344);
    /* device reads: one access of the asked size */
    g_assert_cmpuint(as_ld(&as_memory, 0x20010, 2), ==, 0x1000 + 0x100 + 2);
    /* 8-byte read of a 1..4 device: two 4-byte accesses, little endian */
    uint64_t q = as_ld(&as_memory, 0x20000, 8);
    g_assert_cmpuint(q, ==, ((uint64_t)(0x1000 + 0x40 + 4) << 32) | (0x1000 + 4));
    /* 1-byte write to a 4-only device is widened */
    n_writes = 0;
    as_st(&as_memory, 0x30001, 0xab, 1);
    g_assert_cmpuint(n_writes, ==, 1);
    g_assert_cmpuint(last_write_size, ==, 4);
    g_assert_cmpuint(last_write_off, ==, 0);
    g_assert_cmpuint(last_write_val, ==, 0xab00);
    /* unassigned reads as all ones */
    g_assert_cmpuint(as_ld(&as_memory, 0x50000, 4), ==, 0xffffffffu);
    uint64_t len = 0x100000;
    uint8_t *p = as_map(&as_memory, 0x8000, &len, true);
    g_assert_true(p == ram.host + 0x8000);
    g_assert_cmpuint(len, ==, 0x8000);
    len = 4;
    g_assert_null(as_map(&as_memory, 0x20000, &len, false));
    mr_del_subregion(system_memory, &dev);
    g_assert_cmpint(dels, ==, 1);
    bql_unlock();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/priorities-alias", test_priorities_and_alias);
    g_test_add_func("/memory/nested-clip", test_nested_clip);
    g_test_add_func("/memory/dispatch-listener", test_dispatch_and_listener);
    return g_test_run();
}
