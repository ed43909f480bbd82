/*
 * Segmentation: linear-address formation with limit/type checks, segment
 * register loads in real, virtual-8086, protected and long mode with the
 * descriptor checks, LLDT/LTR and the mode cache (CPL, code/stack size).
 * Spec: Intel SDM vol. 3 chapters 3 and 5 (segment protection), vol. 2
 * (MOV/POP Sreg, LDS/LES/LFS/LGS/LSS, LLDT, LTR).
 * Locking: vCPU thread only.
 */
#include "interp.h"
#include "flags.h"

uint64_t seg_linear_slow(Interp *s, int seg, uint64_t off, int size, int acc)
{
    CPUX86State *env = s->env;
    if (s->code64) {
        uint64_t la = off + (seg >= R_FS ? env->segs[seg].base : 0);
        if (unlikely((uint64_t)((int64_t)(la << 16) >> 16) != la)) {
            raise_exception(s, seg == R_SS ? EXCP0C_STACK : EXCP0D_GPF, 0);
        }
        return la;
    }
    SegmentCache *sc = &env->segs[seg];
    uint32_t fl = sc->flags;
    uint64_t last = off + size - 1;
    if (s->pe && !s->vm86) {
        if (unlikely(!(fl & DESC_P_MASK))) {
            raise_exception(s, seg == R_SS ? EXCP0C_STACK : EXCP0D_GPF, 0);
        }
        if (unlikely(acc == ACC_W && (fl & (DESC_CS_MASK | (2u << 8))) != (2u << 8))) {
            raise_exception(s, seg == R_SS ? EXCP0C_STACK : EXCP0D_GPF, 0);
        }
        if (unlikely(acc == ACC_R && (fl & (DESC_CS_MASK | (2u << 8))) == DESC_CS_MASK)) {
            RAISE_GP(s, 0);
        }
        if (unlikely((fl & (DESC_CS_MASK | (4u << 8))) == (4u << 8))) {
            /* expand-down data */
            uint64_t top = (fl & DESC_B_MASK) ? 0xffffffffull : 0xffff;
            if (off <= sc->limit || last > top) {
                raise_exception(s, seg == R_SS ? EXCP0C_STACK : EXCP0D_GPF, 0);
            }
            return (sc->base + off) & 0xffffffffull;
        }
    }
    if (unlikely(last > sc->limit)) {
        raise_exception(s, seg == R_SS ? EXCP0C_STACK : EXCP0D_GPF, 0);
    }
    return (sc->base + off) & 0xffffffffull;
}

uint64_t desc_base(uint32_t lo, uint32_t hi)
{
    return (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
}

uint32_t desc_limit(uint32_t lo, uint32_t hi)
{
    uint32_t l = (lo & 0xffff) | (hi & 0xf0000);
    if (hi & DESC_G_MASK) {
        l = (l << 12) | 0xfff;
    }
    return l;
}

void set_seg_from_desc(SegmentCache *sc, uint16_t sel, uint32_t lo, uint32_t hi)
{
    sc->selector = sel;
    sc->base = desc_base(lo, hi);
    sc->limit = desc_limit(lo, hi);
    sc->flags = hi & 0x00f0ff00u;
}

/* Read the 8-byte descriptor for sel from the GDT or LDT. */
bool load_desc(Interp *s, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    CPUX86State *env = s->env;
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        base = env->ldt.base;
        limit = env->ldt.limit;
        if (!(env->ldt.flags & DESC_P_MASK) && env->ldt.selector == 0) {
            return false;
        }
    } else {
        base = env->gdt.base;
        limit = env->gdt.limit;
    }
    uint32_t idx = sel & ~7u;
    if (idx + 7 > limit) {
        return false;
    }
    uint64_t d = sys_ld(s, (base + idx) & s->la_mask, 8);
    *lo = (uint32_t)d;
    *hi = (uint32_t)(d >> 32);
    return true;
}

static void set_accessed(Interp *s, uint16_t sel, uint32_t hi)
{
    CPUX86State *env = s->env;
    if (hi & DESC_A_MASK) {
        return;
    }
    uint64_t base = (sel & 4) ? env->ldt.base : env->gdt.base;
    sys_st(s, (base + (sel & ~7u) + 4) & s->la_mask, hi | DESC_A_MASK, 4);
}

void load_seg_real(Interp *s, int seg, uint16_t sel)
{
    SegmentCache *sc = &s->env->segs[seg];
    sc->selector = sel;
    sc->base = (uint64_t)sel << 4;
    if (s->vm86) {
        sc->limit = 0xffff;
        sc->flags = DESC_P_MASK | DESC_S_MASK | (3u << DESC_DPL_SHIFT) |
                    (2u << 8) | DESC_A_MASK | (seg == R_CS ? DESC_CS_MASK : 0);
    } else if (!(sc->flags & DESC_P_MASK)) {
        sc->flags |= DESC_P_MASK | DESC_S_MASK | (2u << 8) | DESC_A_MASK;
    }
    if (seg == R_CS || seg == R_SS) {
        interp_update_mode(s);
    }
}

/* MOV/POP Sreg and LxS for data segments and SS (not CS). */
void load_seg(Interp *s, int seg, uint16_t sel)
{
    CPUX86State *env = s->env;
    if (!s->pe || s->vm86) {
        load_seg_real(s, seg, sel);
        return;
    }
    int rpl = sel & 3, cpl = s->cpl;
    if ((sel & ~3u) == 0) {
        if (seg == R_SS && !(s->code64 && cpl != 3 && rpl == cpl)) {
            RAISE_GP(s, 0);
        }
        SegmentCache *sc = &env->segs[seg];
        sc->selector = sel;
        if (!s->code64) {
            sc->base = 0;
        }
        sc->limit = 0;
        sc->flags = seg == R_SS ? (DESC_S_MASK | (2u << 8) | ((uint32_t)cpl << DESC_DPL_SHIFT) |
                                   DESC_B_MASK) : 0;
        if (seg == R_SS && s->code64) {
            sc->flags |= DESC_P_MASK;
        }
        if (seg == R_SS) {
            interp_update_mode(s);
        }
        return;
    }
    uint32_t lo, hi;
    if (!load_desc(s, sel, &lo, &hi)) {
        RAISE_GP(s, sel & ~3u);
    }
    int dpl = (hi >> DESC_DPL_SHIFT) & 3;
    int type = (hi >> 8) & 15;
    if (!(hi & DESC_S_MASK)) {
        RAISE_GP(s, sel & ~3u);
    }
    if (seg == R_SS) {
        if ((type & 8) || !(type & 2) || rpl != cpl || dpl != cpl) {
            RAISE_GP(s, sel & ~3u);
        }
        if (!(hi & DESC_P_MASK)) {
            raise_exception(s, EXCP0C_STACK, sel & ~3u);
        }
    } else {
        if ((type & 0xa) == 8) {       /* execute-only code */
            RAISE_GP(s, sel & ~3u);
        }
        if (!(type & 8) || !(type & 4)) {  /* data or non-conforming code */
            if (dpl < cpl || dpl < rpl) {
                RAISE_GP(s, sel & ~3u);
            }
        }
        if (!(hi & DESC_P_MASK)) {
            raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
        }
    }
    set_accessed(s, sel, hi);
    set_seg_from_desc(&env->segs[seg], sel, lo, hi | DESC_A_MASK);
    if (seg == R_SS) {
        interp_update_mode(s);
    }
}

static void load_sys_desc(Interp *s, uint16_t sel, int want_type, SegmentCache *out, bool busy)
{
    CPUX86State *env = s->env;
    uint32_t lo, hi;
    if (sel & 4) {
        RAISE_GP(s, sel & ~3u);
    }
    uint32_t idx = sel & ~7u;
    uint32_t need = s->lma ? 15 : 7;
    if (idx + need > env->gdt.limit) {
        RAISE_GP(s, sel & ~3u);
    }
    uint64_t d = sys_ld(s, (env->gdt.base + idx) & s->la_mask, 8);
    lo = (uint32_t)d;
    hi = (uint32_t)(d >> 32);
    int type = (hi >> 8) & 15;
    if ((hi & DESC_S_MASK) ||
        (want_type == 2 ? type != 2 : (type != 1 && type != 9)) ||
        (s->lma && want_type != 2 && type != 9)) {
        RAISE_GP(s, sel & ~3u);
    }
    if (!(hi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
    }
    uint64_t base_hi = 0;
    if (s->lma) {
        uint64_t d2 = sys_ld(s, (env->gdt.base + idx + 8) & s->la_mask, 8);
        if ((d2 >> 40) & 0x1f) {
            RAISE_GP(s, sel & ~3u);
        }
        base_hi = (uint32_t)d2;
    }
    if (busy) {
        hi |= 2u << 8;
        sys_st(s, (env->gdt.base + idx + 4) & s->la_mask, hi, 4);
    }
    set_seg_from_desc(out, sel, lo, hi);
    out->base |= base_hi << 32;
}

void do_lldt(Interp *s, uint16_t sel)
{
    CPUX86State *env = s->env;
    if ((sel & ~3u) == 0) {
        env->ldt.selector = sel;
        env->ldt.base = 0;
        env->ldt.limit = 0;
        env->ldt.flags = 0;
        return;
    }
    load_sys_desc(s, sel, 2, &env->ldt, false);
}

void do_ltr(Interp *s, uint16_t sel)
{
    CPUX86State *env = s->env;
    if ((sel & ~3u) == 0) {
        RAISE_GP(s, 0);
    }
    load_sys_desc(s, sel, 9, &env->tr, true);
}

/* Load a segment register during a task switch (no privilege checks beyond
 * presence and type; the new task's CPL is its CS RPL). */
static void ts_load_seg(Interp *s, int seg, uint16_t sel, bool vm)
{
    CPUX86State *env = s->env;
    SegmentCache *sc = &env->segs[seg];
    if (vm) {
        sc->selector = sel;
        sc->base = (uint64_t)sel << 4;
        sc->limit = 0xffff;
        sc->flags = DESC_P_MASK | DESC_S_MASK | (3u << DESC_DPL_SHIFT) | (2u << 8) |
                    DESC_A_MASK | (seg == R_CS ? DESC_CS_MASK : 0);
        return;
    }
    if ((sel & ~3u) == 0) {
        if (seg == R_CS || seg == R_SS) {
            raise_exception(s, EXCP0A_TSS, 0);
        }
        sc->selector = sel;
        sc->base = 0;
        sc->limit = 0;
        sc->flags = 0;
        return;
    }
    uint32_t lo, hi;
    if (!load_desc(s, sel, &lo, &hi) || !(hi & DESC_S_MASK)) {
        raise_exception(s, EXCP0A_TSS, sel & ~3u);
    }
    if (!(hi & DESC_P_MASK)) {
        raise_exception(s, seg == R_SS ? EXCP0C_STACK : EXCP0B_NOSEG, sel & ~3u);
    }
    set_seg_from_desc(sc, sel, lo, hi | DESC_A_MASK);
}

void task_switch(Interp *s, uint16_t sel, int reason, bool has_err, uint32_t err,
                 uint64_t save_eip)
{
    CPUX86State *env = s->env;
    uint32_t lo, hi;

    if (s->lma) {
        RAISE_GP(s, sel & ~3u);   /* no task switches in IA-32e mode */
    }
    if ((sel & 4) || !load_desc(s, sel, &lo, &hi)) {
        RAISE_GP(s, sel & ~3u);
    }
    int type = (hi >> 8) & 15;
    if (!(hi & DESC_S_MASK) && type == 5) {
        /* task gate: privilege check for JMP/CALL, then the TSS it names */
        int gdpl = (hi >> DESC_DPL_SHIFT) & 3;
        if (reason != TS_INT && reason != TS_IRET && (gdpl < s->cpl || gdpl < (sel & 3))) {
            RAISE_GP(s, sel & ~3u);
        }
        if (!(hi & DESC_P_MASK)) {
            raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
        }
        sel = lo >> 16;
        if ((sel & 4) || !load_desc(s, sel, &lo, &hi)) {
            raise_exception(s, EXCP0A_TSS, sel & ~3u);
        }
        type = (hi >> 8) & 15;
    }
    bool busy = type == 3 || type == 11;
    if ((hi & DESC_S_MASK) || (type & 7) != 1 + (busy ? 2 : 0) ||
        (reason == TS_IRET) != busy) {
        RAISE_GP(s, sel & ~3u);
    }
    if (!(hi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
    }
    bool t32 = type & 8;
    uint64_t nbase = desc_base(lo, hi);
    uint32_t nlimit = desc_limit(lo, hi);
    if (nlimit < (t32 ? 0x67u : 0x2bu)) {
        raise_exception(s, EXCP0A_TSS, sel & ~3u);
    }

    /* read the whole new state first (faults leave the old task intact) */
    uint32_t n_eip, n_fl, n_regs[8], n_cr3 = 0;
    uint16_t n_seg[6], n_ldt, n_link = 0;
    (void)n_link;
    if (t32) {
        n_cr3 = sys_ld(s, nbase + 0x1c, 4);
        n_eip = sys_ld(s, nbase + 0x20, 4);
        n_fl = sys_ld(s, nbase + 0x24, 4);
        for (int k = 0; k < 8; k++) {
            n_regs[k] = sys_ld(s, nbase + 0x28 + 4 * k, 4);
        }
        for (int k = 0; k < 6; k++) {
            n_seg[k] = sys_ld(s, nbase + 0x48 + 4 * k, 2);
        }
        n_ldt = sys_ld(s, nbase + 0x60, 2);
    } else {
        n_eip = sys_ld(s, nbase + 0x0e, 2);
        n_fl = sys_ld(s, nbase + 0x10, 2);
        for (int k = 0; k < 8; k++) {
            n_regs[k] = sys_ld(s, nbase + 0x12 + 2 * k, 2);
        }
        for (int k = 0; k < 4; k++) {
            n_seg[k] = sys_ld(s, nbase + 0x22 + 2 * k, 2);
        }
        n_seg[R_FS] = n_seg[R_GS] = 0;
        n_ldt = sys_ld(s, nbase + 0x2a, 2);
    }

    /* save the old task */
    uint64_t obase = env->tr.base;
    bool o32 = ((env->tr.flags >> 8) & 8) != 0;
    uint64_t ofl = interp_get_eflags(s);
    if (reason == TS_JMP || reason == TS_IRET) {
        ofl &= ~(uint64_t)NT_MASK;
    }
    if (o32) {
        sys_st(s, obase + 0x20, (uint32_t)save_eip, 4);
        sys_st(s, obase + 0x24, (uint32_t)ofl, 4);
        for (int k = 0; k < 8; k++) {
            sys_st(s, obase + 0x28 + 4 * k, (uint32_t)env->regs[k], 4);
        }
        for (int k = 0; k < 6; k++) {
            sys_st(s, obase + 0x48 + 4 * k, env->segs[k].selector, 2);
        }
    } else {
        sys_st(s, obase + 0x0e, save_eip & 0xffff, 2);
        sys_st(s, obase + 0x10, ofl & 0xffff, 2);
        for (int k = 0; k < 8; k++) {
            sys_st(s, obase + 0x12 + 2 * k, env->regs[k] & 0xffff, 2);
        }
        for (int k = 0; k < 4; k++) {
            sys_st(s, obase + 0x22 + 2 * k, env->segs[k].selector, 2);
        }
    }
    uint64_t gdt = env->gdt.base;
    if (reason == TS_JMP || reason == TS_IRET) {
        /* old TSS no longer busy */
        uint32_t ohi = sys_ld(s, gdt + (env->tr.selector & ~7u) + 4, 4);
        sys_st(s, gdt + (env->tr.selector & ~7u) + 4, ohi & ~(2u << 8), 4);
    }
    if (reason == TS_CALL || reason == TS_INT) {
        sys_st(s, nbase, env->tr.selector, 2);   /* back link */
        n_fl |= NT_MASK;
    }
    if (reason != TS_IRET) {
        hi |= 2u << 8;
        sys_st(s, gdt + (sel & ~7u) + 4, hi, 4);
    }

    /* switch */
    set_seg_from_desc(&env->tr, sel, lo, hi);
    env->cr[0] |= CR0_TS;
    if (t32 && (env->cr[0] & CR0_PG) && n_cr3 != env->cr[3]) {
        env->cr[3] = n_cr3;
        tlb_flush(s, false);
    }
    for (int k = 0; k < 8; k++) {
        env->regs[k] = t32 ? n_regs[k] : (env->regs[k] & ~0xffffull) | n_regs[k];
    }
    lf_set(s, n_fl & (CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O));
    env->eflags = (t32 ? n_fl : (env->eflags & ~0xffffull) | n_fl) | 2;
    env->rip = n_eip;
    s->brk = true;
    bool vm = t32 && (n_fl & VM_MASK);
    /* LDT first: segment selectors may refer to it */
    if ((n_ldt & ~3u) == 0) {
        env->ldt.selector = n_ldt;
        env->ldt.base = 0;
        env->ldt.limit = 0;
        env->ldt.flags = 0;
    } else {
        uint32_t llo, lhi;
        if ((n_ldt & 4) || !load_desc(s, n_ldt & ~4u, &llo, &lhi) ||
            ((lhi >> 8) & 0x1f) != 2) {
            raise_exception(s, EXCP0A_TSS, n_ldt & ~3u);
        }
        set_seg_from_desc(&env->ldt, n_ldt, llo, lhi);
    }
    /* CS and SS define the new CPL */
    ts_load_seg(s, R_CS, n_seg[R_CS], vm);
    ts_load_seg(s, R_SS, n_seg[R_SS], vm);
    interp_update_mode(s);
    for (int k = 0; k < 6; k++) {
        if (k != R_CS && k != R_SS) {
            ts_load_seg(s, k, n_seg[k], vm);
        }
    }
    interp_update_mode(s);
    if (has_err) {
        if (s->stack_size == 4) {
            push(s, err, t32 ? 4 : 2);
        } else {
            push(s, err & 0xffff, 2);
        }
    }
}

void interp_update_mode(Interp *s)
{
    CPUX86State *env = s->env;
    s->pe = env->cr[0] & CR0_PE;
    s->lma = env->efer & EFER_LMA;
    s->vm86 = s->pe && !s->lma && (env->eflags & VM_MASK);
    s->code64 = s->lma && (env->segs[R_CS].flags & DESC_L_MASK);
    if (!s->pe) {
        s->cpl = 0;
    } else if (s->vm86) {
        s->cpl = 3;
    } else {
        s->cpl = (env->segs[R_SS].flags >> DESC_DPL_SHIFT) & 3;
        if ((env->segs[R_CS].selector & 3) == 3 && s->cpl != 3 &&
            (env->segs[R_CS].flags & DESC_DPL_MASK) == DESC_DPL_MASK) {
            s->cpl = 3;
        }
    }
    if (s->code64) {
        s->code_size = 8;
        s->stack_size = 8;
    } else {
        s->code_size = (env->segs[R_CS].flags & DESC_B_MASK) && !s->vm86 ? 4 : 2;
        s->stack_size = (env->segs[R_SS].flags & DESC_B_MASK) && !s->vm86 ? 4 : 2;
    }
    s->la_mask = s->lma ? ~0ull : 0xffffffffull;
    if (s->code64) {
        s->la_mask = ~0ull;
    }
    bool user = s->cpl == 3;
    s->perm_need[ACC_R] = user ? PERM_UR : PERM_R;
    s->perm_need[ACC_W] = user ? PERM_UW : PERM_W;
    s->perm_need[ACC_X] = user ? PERM_UX : PERM_X;
    s->fvpn = ~0ull;
    s->brk = true;
    s->code_epoch++;
}

/* ---- instructions ---- */
static HANDLER(h_mov_se)
{
    int sreg = i->reg & 7;
    if (sreg == R_CS || sreg > R_GS) {
        RAISE_UD(s);
    }
    uint16_t v = e_ld(s, i, 2);
    load_seg(s, sreg, v);
    if (sreg == R_SS) {
        s->inhibit_irq = true;
        s->brk = true;
    }
}
FAM1(MOV_SE, h_mov_se);

static HANDLER(h_mov_es)
{
    int sreg = i->reg & 7;
    if (sreg > R_GS) {
        RAISE_UD(s);
    }
    uint16_t v = s->env->segs[sreg].selector;
    if (i->flags & IF_MEM) {
        st_ea(s, i, v, 2);
    } else {
        set_reg(s, i->rm, v, i->opsize, i->flags & IF_REX);
    }
}
FAM1(MOV_ES, h_mov_es);

static void lxs(Interp *s, const Insn *i, int sreg)
{
    int sz = i->opsize;
    uint64_t ea = insn_ea(s, i);
    uint64_t off = ld(s, i->seg, ea, sz);
    uint16_t sel = ld(s, i->seg, (ea + sz) & addr_mask(i->addrsize), 2);
    load_seg(s, sreg, sel);
    set_reg(s, i->reg, off, sz, i->flags & IF_REX);
}
static HANDLER(h_les) { lxs(s, i, R_ES); }
static HANDLER(h_lds) { lxs(s, i, R_DS); }
static HANDLER(h_lss) { lxs(s, i, R_SS); }
static HANDLER(h_lfs) { lxs(s, i, R_FS); }
static HANDLER(h_lgs) { lxs(s, i, R_GS); }
FAM1(LES, h_les);
FAM1(LDS, h_lds);
FAM1(LSS, h_lss);
FAM1(LFS, h_lfs);
FAM1(LGS, h_lgs);

static int seg_of_op(const Insn *i)
{
    /* 06/0E/16/1E push, 07/17/1F pop; 0F A0/A8 push, A1/A9 pop */
    if (i->op >= 0xa0) {
        return i->op >= 0xa8 ? R_GS : R_FS;
    }
    return i->op >> 3;
}

static HANDLER(h_push_seg)
{
    int sz = i->opsize;
    uint16_t v = s->env->segs[seg_of_op(i)].selector;
    if (sz == 2) {
        push(s, v, 2);
    } else {
        /* 32/64-bit pushes of a segment register write only 16 bits */
        uint64_t m = sp_mask(s);
        uint64_t sp = (s->env->regs[R_ESP] - sz) & m;
        st(s, R_SS, sp, v, 2);
        s->env->regs[R_ESP] = (s->env->regs[R_ESP] & ~m) | sp;
    }
}
FAM1(PUSH_SEG, h_push_seg);

static HANDLER(h_pop_seg)
{
    int sreg = seg_of_op(i);
    uint16_t v = pop_peek(s, 2, 0);
    load_seg(s, sreg, v);
    sp_add(s, i->opsize);
    if (sreg == R_SS) {
        s->inhibit_irq = true;
        s->brk = true;
    }
}
FAM1(POP_SEG, h_pop_seg);
