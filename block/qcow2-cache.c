/*
 * qcow2 metadata cache for L2 tables and refcount blocks: a small LRU of
 * cluster-sized tables. It is write-through: callers modify a table and
 * write the changed bytes to the file themselves, in crash-safe order, so a
 * cached table is never dirty and eviction never writes.
 * Locking: callers hold BDRVQcow2State.meta (or rw exclusively).
 */
#include <errno.h>
#include <string.h>
#include "qcow2.h"

typedef struct CacheSlot {
    uint64_t offset;        /* 0: empty */
    uint64_t lru;
    void *table;
} CacheSlot;

struct Qcow2Cache {
    int nslots;
    size_t table_size;
    uint64_t lru_counter;
    CacheSlot *slots;
};

Qcow2Cache *qcow2_cache_new(int nslots, size_t table_size)
{
    Qcow2Cache *c = g_new0(Qcow2Cache, 1);
    c->nslots = nslots;
    c->table_size = table_size;
    c->slots = g_new0(CacheSlot, nslots);
    for (int i = 0; i < nslots; i++) {
        c->slots[i].table = g_malloc(table_size);
    }
    return c;
}

void qcow2_cache_free(Qcow2Cache *c)
{
    if (!c) {
        return;
    }
    for (int i = 0; i < c->nslots; i++) {
        g_free(c->slots[i].table);
    }
    g_free(c->slots);
    g_free(c);
}

static CacheSlot *cache_lookup(Qcow2Cache *c, uint64_t off)
{
    for (int i = 0; i < c->nslots; i++) {
        if (c->slots[i].offset == off) {
            c->slots[i].lru = ++c->lru_counter;
            return &c->slots[i];
        }
    }
    return NULL;
}

static CacheSlot *cache_victim(Qcow2Cache *c)
{
    CacheSlot *v = &c->slots[0];
    for (int i = 1; i < c->nslots; i++) {
        if (c->slots[i].lru < v->lru) {
            v = &c->slots[i];
        }
    }
    v->lru = ++c->lru_counter;
    return v;
}

int qcow2_cache_get(BlockDriverState *bs, Qcow2Cache *c, uint64_t off, void **table)
{
    if (off == 0) {
        return -EIO;
    }
    CacheSlot *slot = cache_lookup(c, off);
    if (!slot) {
        slot = cache_victim(c);
        slot->offset = 0;
        int ret = bdrv_pread(bs->file, off, slot->table, c->table_size);
        if (ret < 0) {
            return ret;
        }
        slot->offset = off;
    }
    *table = slot->table;
    return 0;
}

void *qcow2_cache_get_empty(Qcow2Cache *c, uint64_t off)
{
    CacheSlot *slot = cache_lookup(c, off);
    if (!slot) {
        slot = cache_victim(c);
        slot->offset = off;
    }
    memset(slot->table, 0, c->table_size);
    return slot->table;
}

void qcow2_cache_discard(Qcow2Cache *c, uint64_t off)
{
    for (int i = 0; i < c->nslots; i++) {
        if (c->slots[i].offset == off) {
            c->slots[i].offset = 0;
            c->slots[i].lru = 0;
        }
    }
}

void qcow2_cache_clear(Qcow2Cache *c)
{
    for (int i = 0; i < c->nslots; i++) {
        c->slots[i].offset = 0;
        c->slots[i].lru = 0;
    }
}
