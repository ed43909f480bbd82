/*
 * Basic-block cache: straight-line runs of decoded instructions, keyed by
 * linear address and code size, built on a miss and revalidated against the
 * guest's code bytes whenever the code epoch changed (so self-modifying
 * code, remapped pages and DMA into code pages need no invalidation).
 *
 * A block never crosses a 4 KiB page, so one ITLB lookup (usually skipped:
 * s->fvpn/s->fhost remember the current code page) and one compare of the
 * block's bytes validate it, once per code epoch (see Interp.code_epoch:
 * stores into pages holding validated blocks are caught through the data
 * TLB, end the epoch and the running block, so code that patches its own
 * next instruction is precise too). Blocks live in a per-vCPU arena that is
 * reset when full, found through the previous block's successor hints or a
 * chained hash.
 *
 * Spec: Intel SDM vol. 3 §11.6 (self-modifying code).
 * Locking: vCPU thread only; every structure here is per-Interp.
 */
#include "interp.h"

#define ARENA_SIZE (32u << 20)
#define BLK_MAX_INSNS 32

void block_init(Interp *s)
{
    s->bh = g_new0(Block *, BH_SIZE);
    s->arena = g_malloc(ARENA_SIZE);
    s->arena_used = 0;
}

void block_free(Interp *s)
{
    g_free(s->bh);
    g_free(s->arena);
    s->bh = NULL;
    s->arena = NULL;
}

void block_flush(Interp *s)
{
    memset(s->bh, 0, BH_SIZE * sizeof(Block *));
    s->arena_used = 0;
    s->prev_blk = NULL;
}

/* Host address of the code page holding lip, or NULL if the code is not in
 * RAM (fetches from MMIO go through the per-instruction path). Faults (#PF)
 * are raised with the RIP/RSP saved by the caller. */
static uint8_t *code_page(Interp *s, uint64_t lip)
{
    uint64_t vpn = lip >> 12;
    if (vpn == s->fvpn) {
        return s->fhost;
    }
    uint8_t *p = tlb_hit(s, vpn << 12, 1, ACC_X);
    if (!p) {
        uint64_t pa;
        p = mmu_translate(s, vpn << 12, ACC_X, s->cpl == 3, &pa);
        if (!p) {
            return NULL;
        }
    }
    s->fvpn = vpn;
    code_set_page(s, p);
    return p;
}

/* The sentinel after a block's last instruction: the threaded chain ran
 * off the end of the block. */
static void block_end(Interp *s, const Insn *i)
{
    s->last_insn = i - 1;
}

static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Compare the block's code words with the bytes at lip; on success the
 * block is valid for the rest of the epoch. */
bool block_valid(Interp *s, Block *b, uint64_t lip)
{
    uint8_t *page = code_page(s, lip);
    if (!page) {
        return false;
    }
    code_watch(s, page);
    const uint8_t *p = page + (lip & 0xfff);
    const uint64_t *w = block_words(b);
    unsigned last = b->nw - 1;
    uint64_t diff = (ld64(p + b->last_off) & b->last_mask) ^ w[last];
    for (unsigned k = 0; k < last; k++) {
        diff |= ld64(p + 8 * k) ^ w[k];
    }
    if (diff) {
        return false;
    }
    b->epoch = s->code_epoch;
    return true;
}

static Block *block_build(Interp *s, uint64_t lip)
{
    uint8_t *page = code_page(s, lip);
    if (!page) {
        return NULL;
    }
    code_watch(s, page);
    unsigned off = lip & 0xfff;
    Insn tmp[BLK_MAX_INSNS];
    unsigned n = 0, pos = 0;
    while (n < BLK_MAX_INSNS) {
        unsigned avail = 4096 - off - pos;
        if (avail == 0) {
            break;
        }
        if (avail > 15) {
            avail = 15;
        }
        int len = decode_insn(page + off + pos, avail, s->code_size, &tmp[n]);
        if (len <= 0) {
            break;   /* crosses the page or too long: per-instruction path */
        }
        pos += len;
        n++;
        if (tmp[n - 1].flags & IF_ENDBLK) {
            break;
        }
    }
    if (n == 0) {
        return NULL;
    }
    unsigned nw = (pos + 7) / 8;
    size_t need = sizeof(Block) + (n + 1) * sizeof(Insn) + nw * 8;
    need = (need + 63) & ~(size_t)63;
    if (s->arena_used + need > ARENA_SIZE) {
        block_flush(s);
    }
    Block *b = (Block *)(s->arena + s->arena_used);
    s->arena_used += need;
    b->lip = lip;
    b->succ[0] = b->succ[1] = NULL;
    b->mode = s->code_size;
    b->n = n;
    b->nbytes = pos;
    b->nw = nw;
    memcpy(b->insn, tmp, n * sizeof(Insn));
    memset(&b->insn[n], 0, sizeof(Insn));
    b->insn[n].h = block_end;
    /* the last word: at 8 * (nw - 1), or back so it ends at the page end */
    int last_off = 8 * (nw - 1);
    if (off + last_off + 8 > 4096) {
        last_off = 4096 - (int)off - 8;
    }
    uint64_t mask = 0;
    for (int j = 0; j < 8; j++) {
        if (last_off + j >= 0 && last_off + j < (int)pos) {
            mask |= 0xffull << (8 * j);
        }
    }
    b->last_off = last_off;
    b->last_mask = mask;
    uint64_t *w = block_words(b);
    for (unsigned k = 0; k + 1 < nw; k++) {
        w[k] = ld64(page + off + 8 * k);
    }
    w[nw - 1] = ld64(page + off + last_off) & mask;
    b->epoch = s->code_epoch;
    Block **head = &s->bh[BH_SLOT(lip)];
    b->hnext = *head;
    *head = b;
    return b;
}

/* Not the hint or the head of its hash chain, or invalid: search the chain
 * (a found block moves to the head), rebuild a block whose bytes changed in
 * place of the old one, or build a new one. */
Block *block_miss(Interp *s, uint64_t lip)
{
    Block *p = s->prev_blk;
    Block **link = &s->bh[BH_SLOT(lip)];
    Block *b;
    for (; (b = *link) != NULL; link = &b->hnext) {
        if (b->lip == lip && b->mode == s->code_size) {
            *link = b->hnext;   /* unlink; goes back in at the head */
            break;
        }
    }
    if (b && (b->epoch == s->code_epoch || block_valid(s, b, lip))) {
        Block **head = &s->bh[BH_SLOT(lip)];
        b->hnext = *head;
        *head = b;
    } else {
        b = block_build(s, lip);
        if (!b) {
            return NULL;
        }
    }
    if (p && s->prev_blk == p) {   /* (a build may have reset the arena) */
        p->succ[lip == p->lip + p->nbytes ? 0 : 1] = b;
    }
    return b;
}
