/*
 * Paging and the software TLB: 32-bit (with PSE 4M pages), PAE and 4-level
 * walks with NX, global pages, accessed/dirty bits, CR0.WP and U/S checks;
 * a direct-mapped TLB holding host pointers; the watched code pages whose
 * stores end the code epoch (see Interp.code_epoch); slow-path accesses
 * (page crossings, MMIO through as_rw) and physical accesses for table
 * walks.
 * Spec: Intel SDM vol. 3 chapter 4 (paging), §4.7 (page-fault error code).
 * Locking: vCPU thread only; RAM is accessed directly, MMIO via as_rw()
 * which takes the BQL itself.
 */
#include "interp.h"
#include "system/memory.h"

#define PG_P    (1ull << 0)
#define PG_RW   (1ull << 1)
#define PG_US   (1ull << 2)
#define PG_A    (1ull << 5)
#define PG_D    (1ull << 6)
#define PG_PS   (1ull << 7)
#define PG_G    (1ull << 8)
#define PG_NX   (1ull << 63)
#define PG_ADDR 0x000ffffffffff000ull

#define PFE_P    1u
#define PFE_W    2u
#define PFE_U    4u
#define PFE_RSVD 8u
#define PFE_I    16u

/* ---- code page watch (see Interp.code_epoch) ---- */
static inline unsigned wp_slot(const uint8_t *page)
{
    uintptr_t pn = (uintptr_t)page >> 12;
    return (pn ^ (pn >> WP_BITS)) & (WP_SIZE - 1);
}

static inline bool code_watched(Interp *s, const uint8_t *page)
{
    return s->wp[wp_slot(page)] == page;
}

static void wp_protect(TLBEntry *e)
{
    uint32_t w = e->perm & (PERM_W | PERM_UW);
    if (w) {
        e->slow_perm |= PERM_CODEWP | (w << PERM_WP_SHIFT);
        e->perm &= ~w;
    }
}

void code_watch(Interp *s, uint8_t *page)
{
    unsigned k = wp_slot(page);
    if (s->wp[k] == page) {
        return;
    }
    if (s->wp[k]) {
        s->code_epoch++;   /* the page it evicts is no longer watched */
    }
    s->wp[k] = page;
    for (unsigned j = 0; j < TLB_SIZE; j++) {
        if (s->tlb[j].host == page && s->tlb[j].vpn != ~0ull) {
            wp_protect(&s->tlb[j]);
        }
    }
}

void tlb_flush(Interp *s, bool include_global)
{
    if (include_global) {
        memset(s->wp, 0, sizeof(s->wp));   /* (RAM may have been remapped) */
    }
    s->fvpn = ~0ull;
    s->brk = true;     /* the rest of the block was fetched under the old map */
    s->code_epoch++;
    for (unsigned k = 0; k < 2 * TLB_SIZE; k++) {
        TLBEntry *e = k < TLB_SIZE ? &s->tlb[k] : &s->itlb[k - TLB_SIZE];
        if (include_global || !(e->slow_perm & PERM_GLOBAL)) {
            e->vpn = ~0ull;
            e->perm = 0;
            e->slow_perm = 0;
        }
    }
}

void tlb_flush_page(Interp *s, uint64_t la)
{
    uint64_t vpn = la >> 12;
    s->fvpn = ~0ull;
    s->brk = true;
    s->code_epoch++;
    for (int t = 0; t < 2; t++) {
        TLBEntry *tlb = t ? s->itlb : s->tlb;
        TLBEntry *e = &tlb[vpn & (TLB_SIZE - 1)];
        /* large pages may be cached as several 4K entries: drop those too */
        for (unsigned k = 0; k < TLB_SIZE; k++) {
            TLBEntry *x = &tlb[k];
            if (x->vpn != ~0ull && (x->slow_perm & PERM_LARGE) &&
                (x->vpn >> 9) == (vpn >> 9)) {
                x->vpn = ~0ull;
                x->perm = x->slow_perm = 0;
            }
        }
        if (e->vpn == vpn) {
            e->vpn = ~0ull;
            e->perm = e->slow_perm = 0;
        }
    }
}

uint64_t phys_ld(Interp *s, uint64_t pa, int size)
{
    uint64_t len = size;
    pa &= s->env->a20_mask;
    uint8_t *p = as_map(&as_memory, pa, &len, false);
    if (p && len >= (uint64_t)size) {
        return load_host(p, size);
    }
    uint64_t v = 0;
    as_rw(&as_memory, pa, &v, size, false);
    return v;
}

void phys_st(Interp *s, uint64_t pa, uint64_t val, int size)
{
    uint64_t len = size;
    pa &= s->env->a20_mask;
    uint8_t *p = as_map(&as_memory, pa, &len, true);
    if (p && len >= (uint64_t)size) {
        store_host(p, val, size);
        if (code_watched(s, (uint8_t *)((uintptr_t)p & ~(uintptr_t)0xfff))) {
            s->code_epoch++;
            s->brk = true;
        }
        return;
    }
    as_rw(&as_memory, pa, &val, size, true);
}

static void __attribute__((noreturn))
page_fault(Interp *s, uint64_t la, uint32_t err)
{
    s->env->cr[2] = la;
    raise_exception(s, EXCP0E_PAGE, err);
}

typedef struct Walk {
    uint64_t pa;           /* physical address of the 4K page */
    bool uok, wok, nx, global, large, dirty;
} Walk;

/*
 * Walk the page tables for la. On success fills w and sets A (and D for
 * writes); on failure returns the page-fault error code (nonzero) when
 * 'fault' is false, else raises #PF.
 */
static uint32_t walk(Interp *s, uint64_t la, int acc, bool user, Walk *w, bool fault)
{
    CPUX86State *env = s->env;
    uint64_t cr4 = env->cr[4];
    bool nxe = env->efer & EFER_NXE;
    uint32_t err = (acc == ACC_W ? PFE_W : 0) | (user ? PFE_U : 0);
    uint64_t ent[5];
    uint64_t ent_addr[5];
    int nlev = 0;
    uint64_t pa;
    int pshift = 12;

    w->uok = w->wok = true;
    w->nx = false;
    w->large = false;

    if (acc == ACC_X && nxe && (cr4 & CR4_PAE)) {
        err |= PFE_I;
    }

    if (!(cr4 & CR4_PAE)) {
        uint64_t pde_a = (env->cr[3] & 0xfffff000ull) + ((la >> 22) & 0x3ff) * 4;
        uint64_t pde = phys_ld(s, pde_a, 4);
        if (!(pde & PG_P)) {
            goto notpresent;
        }
        ent[nlev] = pde;
        ent_addr[nlev++] = pde_a;
        if ((pde & PG_PS) && (cr4 & CR4_PSE)) {
            pa = (pde & 0xffc00000ull) | (((pde >> 13) & 0xff) << 32);
            pa |= la & 0x3ff000;
            pshift = 22;
        } else {
            uint64_t pte_a = (pde & 0xfffff000ull) + ((la >> 12) & 0x3ff) * 4;
            uint64_t pte = phys_ld(s, pte_a, 4);
            if (!(pte & PG_P)) {
                goto notpresent_acc;
            }
            ent[nlev] = pte;
            ent_addr[nlev++] = pte_a;
            pa = pte & 0xfffff000ull;
        }
    } else {
        uint64_t table;
        int level;
        if (env->efer & EFER_LMA) {
            table = env->cr[3] & PG_ADDR;
            level = 4;
        } else {
            uint64_t pdpte_a = (env->cr[3] & 0xffffffe0ull) + ((la >> 30) & 3) * 8;
            uint64_t pdpte = phys_ld(s, pdpte_a, 8);
            if (!(pdpte & PG_P)) {
                goto notpresent;
            }
            if (pdpte & 0x1e6ull) {
                err |= PFE_RSVD | PFE_P;
                goto fail;
            }
            table = pdpte & PG_ADDR;
            level = 2;
        }
        for (;;) {
            int shift = 12 + 9 * (level - 1);
            uint64_t ea = table + ((la >> shift) & 511) * 8;
            uint64_t e = phys_ld(s, ea, 8);
            if (!(e & PG_P)) {
                goto notpresent_acc;
            }
            if ((e & PG_NX) && !nxe) {
                err |= PFE_RSVD | PFE_P;
                goto fail;
            }
            if (level == 4 && (e & PG_PS)) {
                err |= PFE_RSVD | PFE_P;
                goto fail;
            }
            ent[nlev] = e;
            ent_addr[nlev++] = ea;
            if (level == 1) {
                pa = e & PG_ADDR;
                break;
            }
            if ((e & PG_PS) && (level == 2 || level == 3)) {
                uint64_t psize = 1ull << shift;
                pa = (e & PG_ADDR & ~(psize - 1)) | (la & (psize - 1) & ~0xfffull);
                pshift = shift;
                break;
            }
            table = e & PG_ADDR;
            level--;
        }
    }

    for (int k = 0; k < nlev; k++) {
        w->uok &= (ent[k] & PG_US) != 0;
        w->wok &= (ent[k] & PG_RW) != 0;
        if (nxe && (ent[k] & PG_NX)) {
            w->nx = true;
        }
    }
    uint64_t leaf = ent[nlev - 1];
    w->global = (leaf & PG_G) && (cr4 & CR4_PGE);
    w->large = pshift > 12;

    /* permission checks */
    err |= PFE_P;
    if (user && !w->uok) {
        goto fail;
    }
    if (acc == ACC_W && !w->wok && (user || (env->cr[0] & CR0_WP))) {
        goto fail;
    }
    if (acc == ACC_X && w->nx) {
        goto fail;
    }
    if (acc == ACC_X && !user && w->uok && (cr4 & CR4_SMEP)) {
        goto fail;
    }
    if (acc != ACC_X && !user && w->uok && (cr4 & CR4_SMAP) &&
        !(env->eflags & AC_MASK)) {
        goto fail;
    }

    /* accessed / dirty (not for debugger lookups) */
    for (int k = 0; k < nlev && fault; k++) {
        uint64_t nv = ent[k] | PG_A;
        if (k == nlev - 1 && acc == ACC_W) {
            nv |= PG_D;
        }
        if (nv != ent[k]) {
            phys_st(s, ent_addr[k], nv, (cr4 & CR4_PAE) ? 8 : 4);
            ent[k] = nv;
        }
    }
    w->dirty = (ent[nlev - 1] & PG_D) != 0;
    w->pa = pa & env->a20_mask;
    return 0;

notpresent_acc:
notpresent:
fail:
    if (fault) {
        page_fault(s, la, err);
    }
    return err ? err : PFE_P;
}

static TLBEntry *tlb_fill(Interp *s, uint64_t la, int acc, bool user)
{
    CPUX86State *env = s->env;
    Walk w;
    uint64_t vpn = la >> 12;
    TLBEntry *e = &(acc == ACC_X ? s->itlb : s->tlb)[vpn & (TLB_SIZE - 1)];
    uint32_t perm;

    s->fvpn = ~0ull;

    if (!(env->cr[0] & CR0_PG)) {
        w.pa = (la & ~0xfffull) & env->a20_mask;
        w.dirty = true;
        w.global = false;
        w.large = false;
        perm = PERM_R | PERM_W | PERM_X | PERM_UR | PERM_UW | PERM_UX;
    } else {
        walk(s, la, acc, user, &w, true);
        perm = PERM_R;
        if (w.wok || !(env->cr[0] & CR0_WP)) {
            perm |= PERM_W;
        }
        if (!w.nx && !(w.uok && (env->cr[4] & CR4_SMEP))) {
            perm |= PERM_X;
        }
        if (w.uok) {
            perm |= PERM_UR;
            if (w.wok) {
                perm |= PERM_UW;
            }
            if (!w.nx) {
                perm |= PERM_UX;
            }
        }
        if (!w.dirty) {
            perm &= ~(PERM_W | PERM_UW);
        }
        if (w.uok && (env->cr[4] & CR4_SMAP) && !(env->eflags & AC_MASK)) {
            perm &= ~(PERM_R | PERM_W);
        }
    }
    uint64_t len = 4096;
    uint8_t *host = as_map(&as_memory, w.pa, &len, false);
    if (host && len < 4096) {
        host = NULL;
    }
    uint64_t wlen = 4096;
    uint8_t *whost = host ? as_map(&as_memory, w.pa, &wlen, true) : NULL;
    e->vpn = vpn;
    e->ppage = w.pa;
    e->host = host;
    e->slow_perm = perm | (w.global ? PERM_GLOBAL : 0) | (w.large ? PERM_LARGE : 0);
    if (!host) {
        e->perm = 0;
    } else if (!whost || wlen < 4096) {
        e->perm = perm & ~(PERM_W | PERM_UW);
    } else {
        e->perm = perm;
    }
    if (acc != ACC_X && host && code_watched(s, host)) {
        wp_protect(e);
    }
    return e;
}

uint8_t *mmu_translate(Interp *s, uint64_t la, int acc, bool user, uint64_t *pa)
{
    uint32_t need = 1u << (acc + (user ? 3 : 0));
    uint64_t vpn = la >> 12;
    TLBEntry *e = &(acc == ACC_X ? s->itlb : s->tlb)[vpn & (TLB_SIZE - 1)];
    if (e->vpn != vpn || !(e->slow_perm & need)) {
        e = tlb_fill(s, la, acc, user);
        if (!(e->slow_perm & need)) {
            /* the walk succeeded, so only D-bit tracking can deny this */
            e->slow_perm |= need;
        }
    }
    if (acc == ACC_W && (e->slow_perm & PERM_CODEWP)) {
        if (code_watched(s, e->host)) {
            /* a store into watched code: end the epoch (blocks revalidate,
             * which watches the page again) and the running block */
            s->code_epoch++;
            s->brk = true;
            s->wp[wp_slot(e->host)] = NULL;
        }
        e->perm |= (e->slow_perm >> PERM_WP_SHIFT) & (PERM_W | PERM_UW);
        e->slow_perm &= ~(PERM_CODEWP | ((PERM_W | PERM_UW) << PERM_WP_SHIFT));
    }
    *pa = e->ppage | (la & 0xfff);
    if (e->perm & need) {
        return e->host + (la & 0xfff);
    }
    return NULL;
}

int64_t mmu_debug_translate(Interp *s, uint64_t la)
{
    Walk w;
    if (!(s->env->cr[0] & CR0_PG)) {
        return la & s->env->a20_mask;
    }
    uint32_t err = walk(s, la, ACC_R, false, &w, false);
    return err ? -1 : (int64_t)(w.pa | (la & 0xfff));
}

static void check_fv(Interp *s)
{
    s->code_epoch++;   /* device activity: RAM may have changed (DMA) */
    if (as_memory.view && as_memory.view->gen != s->fv_gen) {
        s->fv_gen = as_memory.view->gen;
        tlb_flush(s, true);
    }
}

uint64_t mem_read_slow(Interp *s, uint64_t la, int size, int acc, bool user)
{
    la &= s->la_mask;
    if (((la & 0xfff) + size) > 4096) {
        uint8_t buf[16];
        mem_read_bytes_acc(s, la, buf, size, acc, user);
        return load_host(buf, size);
    }
    uint64_t pa;
    uint8_t *p = mmu_translate(s, la, acc, user, &pa);
    if (p) {
        return load_host(p, size);
    }
    uint64_t v = 0;
    as_rw(&as_memory, pa, &v, size, false);
    check_fv(s);
    return v;
}

void mem_read_bytes(Interp *s, uint64_t la, void *buf, int n, bool user)
{
    mem_read_bytes_acc(s, la, buf, n, ACC_R, user);
}

void mem_read_bytes_acc(Interp *s, uint64_t la, void *buf, int n, int acc, bool user)
{
    uint8_t *out = buf;
    while (n > 0) {
        la &= s->la_mask;
        int chunk = 4096 - (int)(la & 0xfff);
        if (chunk > n) {
            chunk = n;
        }
        uint64_t pa;
        uint8_t *p = mmu_translate(s, la, acc, user, &pa);
        if (p) {
            memcpy(out, p, chunk);
        } else {
            as_rw(&as_memory, pa, out, chunk, false);
            check_fv(s);
        }
        out += chunk;
        la += chunk;
        n -= chunk;
    }
}

void mem_probe_write(Interp *s, uint64_t la, int size, bool user)
{
    uint64_t pa;
    la &= s->la_mask;
    mmu_translate(s, la, ACC_W, user, &pa);
    if (((la & 0xfff) + size) > 4096) {
        mmu_translate(s, (la + size - 1) & s->la_mask, ACC_W, user, &pa);
    }
}

void mem_write_bytes(Interp *s, uint64_t la, const void *buf, int n, bool user)
{
    const uint8_t *in = buf;
    /* check every page first so nothing is written on a fault */
    uint64_t a = la;
    int left = n;
    while (left > 0) {
        a &= s->la_mask;
        int chunk = 4096 - (int)(a & 0xfff);
        if (chunk > left) {
            chunk = left;
        }
        uint64_t pa;
        mmu_translate(s, a, ACC_W, user, &pa);
        a += chunk;
        left -= chunk;
    }
    while (n > 0) {
        la &= s->la_mask;
        int chunk = 4096 - (int)(la & 0xfff);
        if (chunk > n) {
            chunk = n;
        }
        uint64_t pa;
        uint8_t *p = mmu_translate(s, la, ACC_W, user, &pa);
        if (p) {
            memcpy(p, in, chunk);
        } else {
            as_rw(&as_memory, pa, (void *)in, chunk, true);
            check_fv(s);
        }
        in += chunk;
        la += chunk;
        n -= chunk;
    }
}

void mem_write_slow(Interp *s, uint64_t la, uint64_t val, int size, bool user)
{
    uint8_t buf[8];
    store_host(buf, val, size);
    mem_write_bytes(s, la, buf, size, user);
}

uint64_t ld_seg_slow(Interp *s, int seg, uint64_t off, int size)
{
    return lin_ld(s, seg_linear(s, seg, off, size, ACC_R), size);
}

void st_seg_slow(Interp *s, int seg, uint64_t off, uint64_t v, int size)
{
    lin_st(s, seg_linear(s, seg, off, size, ACC_W), v, size);
}

uint64_t rmw_ld_slow(Interp *s, int seg, uint64_t off, MemRef *r, int size)
{
    uint64_t la = seg_linear(s, seg, off, size, ACC_W);
    r->la = la;
    r->size = size;
    r->host = tlb_hit(s, la, size, ACC_W);
    if (r->host) {
        return load_host(r->host, size);
    }
    mem_probe_write(s, la, size, s->cpl == 3);
    return mem_read_slow(s, la, size, ACC_R, s->cpl == 3);
}
