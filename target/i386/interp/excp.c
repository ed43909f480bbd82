/*
 * Exception and interrupt delivery through the IVT (real mode), the
 * protected-mode IDT (interrupt/trap gates, privilege changes via the TSS,
 * virtual-8086 exits) and the long-mode IDT (16-byte gates, IST).
 * Every push happens before any architectural state is committed, so a
 * fault while delivering restarts cleanly (and becomes #DF in exec.c).
 * Spec: Intel SDM vol. 3 chapter 6 (interrupt and exception handling).
 * Locking: vCPU thread only.
 */
#include "interp.h"
#include "flags.h"

bool excp_has_error_code(int vec)
{
    switch (vec) {
    case EXCP08_DBLE: case EXCP0A_TSS: case EXCP0B_NOSEG: case EXCP0C_STACK:
    case EXCP0D_GPF: case EXCP0E_PAGE: case EXCP11_ALGN:
        return true;
    default:
        return false;
    }
}

static void do_interrupt_real(Interp *s, int vec, uint64_t next_rip)
{
    CPUX86State *env = s->env;
    if ((uint32_t)vec * 4 + 3 > env->idt.limit) {
        RAISE_GP(s, vec * 8 + 2);
    }
    uint64_t ent = sys_ld(s, (env->idt.base + vec * 4) & s->la_mask, 4);
    uint64_t fl = interp_get_eflags(s);
    uint64_t sp = env->regs[R_ESP];
    uint64_t m = sp_mask(s);
    uint64_t base = env->segs[R_SS].base;
    sys_st(s, (base + ((sp - 2) & m)) & 0xffffffff, fl & 0xffff, 2);
    sys_st(s, (base + ((sp - 4) & m)) & 0xffffffff, env->segs[R_CS].selector, 2);
    sys_st(s, (base + ((sp - 6) & m)) & 0xffffffff, next_rip & 0xffff, 2);
    env->regs[R_ESP] = (sp & ~m) | ((sp - 6) & m);
    env->eflags &= ~(IF_MASK | TF_MASK | AC_MASK | RF_MASK);
    load_seg_real(s, R_CS, ent >> 16);
    env->rip = ent & 0xffff;
}

/* Fetch the inner stack pointer for privilege level dpl from the TSS. */
static void tss_stack32(Interp *s, int dpl, uint16_t *ss, uint32_t *esp)
{
    CPUX86State *env = s->env;
    int type = (env->tr.flags >> 8) & 7;
    int shift = type >> 3 ? 1 : ((env->tr.flags >> 11) & 1);
    uint32_t off = (dpl * 4 + 2) << shift;
    if (!(env->tr.flags & DESC_P_MASK)) {
        raise_exception(s, EXCP0A_TSS, env->tr.selector & ~3u);
    }
    if (off + (4 << shift) - 1 > env->tr.limit) {
        raise_exception(s, EXCP0A_TSS, env->tr.selector & ~3u);
    }
    if (shift) {
        *esp = sys_ld(s, (env->tr.base + off) & s->la_mask, 4);
        *ss = sys_ld(s, (env->tr.base + off + 4) & s->la_mask, 2);
    } else {
        *esp = sys_ld(s, (env->tr.base + off) & s->la_mask, 2);
        *ss = sys_ld(s, (env->tr.base + off + 2) & s->la_mask, 2);
    }
}

static void do_interrupt_prot(Interp *s, int vec, bool is_int, bool has_err,
                              uint32_t err, uint64_t next_rip, bool ext)
{
    CPUX86State *env = s->env;
    uint32_t gerr = vec * 8 + 2 + (ext ? 1 : 0);
    if ((uint32_t)vec * 8 + 7 > env->idt.limit) {
        RAISE_GP(s, gerr);
    }
    uint64_t g = sys_ld(s, (env->idt.base + vec * 8) & s->la_mask, 8);
    uint32_t glo = (uint32_t)g, ghi = (uint32_t)(g >> 32);
    int type = (ghi >> 8) & 0x1f;
    int gdpl = (ghi >> 13) & 3;
    if (type != 5 && type != 6 && type != 7 && type != 14 && type != 15) {
        RAISE_GP(s, gerr);
    }
    if (is_int && gdpl < s->cpl) {
        RAISE_GP(s, gerr);
    }
    if (!(ghi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, gerr);
    }
    if (type == 5) {
        task_switch(s, glo >> 16, TS_INT, has_err, err, next_rip);
        return;
    }
    uint16_t sel = glo >> 16;
    uint32_t off = (glo & 0xffff) | (ghi & 0xffff0000u);
    int shift = type >> 3;     /* 1: 32-bit gate */
    if (!shift) {
        off &= 0xffff;
    }
    if ((sel & ~3u) == 0) {
        RAISE_GP(s, ext ? 1 : 0);
    }
    uint32_t clo, chi;
    if (!load_desc(s, sel, &clo, &chi)) {
        RAISE_GP(s, (sel & ~3u) + (ext ? 1 : 0));
    }
    int dpl = (chi >> DESC_DPL_SHIFT) & 3;
    if (!(chi & DESC_S_MASK) || !(chi & DESC_CS_MASK) || dpl > s->cpl) {
        RAISE_GP(s, (sel & ~3u) + (ext ? 1 : 0));
    }
    if (!(chi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, (sel & ~3u) + (ext ? 1 : 0));
    }
    bool conforming = chi & (4u << 8);
    uint64_t fl = interp_get_eflags(s);
    bool from_vm86 = s->vm86;
    int new_cpl = s->cpl;
    uint16_t new_ss = env->segs[R_SS].selector;
    uint32_t slo = 0, shi = 0;
    uint64_t sp, ssbase;
    uint64_t spm;
    bool inner = !conforming && dpl < s->cpl;

    if (from_vm86 && dpl != 0) {
        RAISE_GP(s, sel & ~3u);
    }
    if (inner) {
        uint32_t esp;
        tss_stack32(s, dpl, &new_ss, &esp);
        if ((new_ss & ~3u) == 0) {
            raise_exception(s, EXCP0A_TSS, ext ? 1 : 0);
        }
        if ((new_ss & 3) != dpl || !load_desc(s, new_ss, &slo, &shi)) {
            raise_exception(s, EXCP0A_TSS, new_ss & ~3u);
        }
        int sdpl = (shi >> DESC_DPL_SHIFT) & 3;
        int stype = (shi >> 8) & 15;
        if (sdpl != dpl || !(shi & DESC_S_MASK) || (stype & 8) || !(stype & 2)) {
            raise_exception(s, EXCP0A_TSS, new_ss & ~3u);
        }
        if (!(shi & DESC_P_MASK)) {
            raise_exception(s, EXCP0C_STACK, new_ss & ~3u);
        }
        new_cpl = dpl;
        sp = esp;
        ssbase = desc_base(slo, shi);
        spm = (shi & DESC_B_MASK) ? 0xffffffffull : 0xffff;
    } else {
        if (from_vm86) {
            RAISE_GP(s, sel & ~3u);
        }
        sp = env->regs[R_ESP];
        ssbase = env->segs[R_SS].base;
        spm = sp_mask(s);
    }

    /* build the frame */
    uint64_t frame[12];
    int n = 0;
    if (inner) {
        if (from_vm86) {
            frame[n++] = env->segs[R_GS].selector;
            frame[n++] = env->segs[R_FS].selector;
            frame[n++] = env->segs[R_DS].selector;
            frame[n++] = env->segs[R_ES].selector;
        }
        frame[n++] = env->segs[R_SS].selector;
        frame[n++] = env->regs[R_ESP];
    }
    frame[n++] = fl;
    frame[n++] = env->segs[R_CS].selector;
    frame[n++] = next_rip;
    if (has_err) {
        frame[n++] = err;
    }
    int w = shift ? 4 : 2;
    for (int k = 0; k < n; k++) {
        sp = (sp - w) & spm;
        sys_st(s, (ssbase + sp) & 0xffffffffull, frame[k] & (shift ? 0xffffffffull : 0xffff), w);
    }

    /* commit */
    if (inner) {
        if (from_vm86) {
            for (int sr = R_ES; sr <= R_GS; sr++) {
                if (sr != R_CS && sr != R_SS) {
                    env->segs[sr].selector = 0;
                    env->segs[sr].base = 0;
                    env->segs[sr].limit = 0;
                    env->segs[sr].flags = 0;
                }
            }
        }
        set_seg_from_desc(&env->segs[R_SS], new_ss, slo, shi | DESC_A_MASK);
    }
    env->regs[R_ESP] = (env->regs[R_ESP] & ~spm) | (sp & spm);
    if (inner && spm == 0xffffffffull) {
        env->regs[R_ESP] = sp & 0xffffffffull;
    }
    set_seg_from_desc(&env->segs[R_CS], (sel & ~3u) | new_cpl, clo, chi | DESC_A_MASK);
    env->eflags &= ~(TF_MASK | NT_MASK | VM_MASK | RF_MASK);
    if (!(type & 1)) {
        env->eflags &= ~IF_MASK;
    }
    env->rip = off;
    interp_update_mode(s);
}

static void do_interrupt_long(Interp *s, int vec, bool is_int, bool has_err,
                              uint32_t err, uint64_t next_rip, bool ext)
{
    CPUX86State *env = s->env;
    uint32_t gerr = vec * 16 + 2 + (ext ? 1 : 0);
    if ((uint32_t)vec * 16 + 15 > env->idt.limit) {
        RAISE_GP(s, gerr);
    }
    uint64_t ga = env->idt.base + vec * 16;
    uint64_t g = sys_ld(s, ga, 8);
    uint64_t g2 = sys_ld(s, ga + 8, 8);
    uint32_t glo = (uint32_t)g, ghi = (uint32_t)(g >> 32);
    int type = (ghi >> 8) & 0x1f;
    int gdpl = (ghi >> 13) & 3;
    if (type != 14 && type != 15) {
        RAISE_GP(s, gerr);
    }
    if (is_int && gdpl < s->cpl) {
        RAISE_GP(s, gerr);
    }
    if (!(ghi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, gerr);
    }
    uint16_t sel = glo >> 16;
    uint64_t off = (glo & 0xffff) | (ghi & 0xffff0000u) | ((uint64_t)(uint32_t)g2 << 32);
    int ist = ghi & 7;
    if ((sel & ~3u) == 0) {
        RAISE_GP(s, ext ? 1 : 0);
    }
    uint32_t clo, chi;
    if (!load_desc(s, sel, &clo, &chi)) {
        RAISE_GP(s, (sel & ~3u) + (ext ? 1 : 0));
    }
    int dpl = (chi >> DESC_DPL_SHIFT) & 3;
    if (!(chi & DESC_S_MASK) || !(chi & DESC_CS_MASK) || dpl > s->cpl ||
        !(chi & DESC_L_MASK) || (chi & DESC_B_MASK)) {
        RAISE_GP(s, (sel & ~3u) + (ext ? 1 : 0));
    }
    if (!(chi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, (sel & ~3u) + (ext ? 1 : 0));
    }
    bool conforming = chi & (4u << 8);
    bool inner = !conforming && dpl < s->cpl;
    int new_cpl = inner ? dpl : s->cpl;
    uint64_t sp;
    if (inner || ist) {
        uint32_t toff = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * dpl;
        if (toff + 7 > env->tr.limit) {
            raise_exception(s, EXCP0A_TSS, env->tr.selector & ~3u);
        }
        sp = sys_ld(s, env->tr.base + toff, 8);
    } else {
        sp = env->regs[R_ESP];
    }
    sp &= ~15ull;
    uint64_t frame[6];
    int n = 0;
    frame[n++] = env->segs[R_SS].selector;
    frame[n++] = env->regs[R_ESP];
    frame[n++] = interp_get_eflags(s);
    frame[n++] = env->segs[R_CS].selector;
    frame[n++] = next_rip;
    if (has_err) {
        frame[n++] = err;
    }
    for (int k = 0; k < n; k++) {
        sp -= 8;
        if ((uint64_t)((int64_t)(sp << 16) >> 16) != sp) {
            raise_exception(s, EXCP0C_STACK, 0);
        }
        sys_st(s, sp, frame[k], 8);
    }
    /* commit */
    if (inner) {
        SegmentCache *ss = &env->segs[R_SS];
        ss->selector = new_cpl;
        ss->base = 0;
        ss->limit = 0;
        ss->flags = DESC_P_MASK | DESC_S_MASK | (2u << 8) | DESC_B_MASK |
                    ((uint32_t)new_cpl << DESC_DPL_SHIFT);
    }
    env->regs[R_ESP] = sp;
    set_seg_from_desc(&env->segs[R_CS], (sel & ~3u) | new_cpl, clo, chi | DESC_A_MASK);
    env->eflags &= ~(TF_MASK | NT_MASK | VM_MASK | RF_MASK);
    if (!(type & 1)) {
        env->eflags &= ~IF_MASK;
    }
    env->rip = off;
    interp_update_mode(s);
}

void do_interrupt(Interp *s, int vec, bool is_int, bool has_err,
                  uint32_t err, uint64_t next_rip)
{
    bool ext = !is_int;
    if (vec == EXCP03_INT3 || vec == EXCP04_INTO) {
        ext = false;
    }
    if (!s->pe) {
        do_interrupt_real(s, vec, next_rip);
    } else if (s->lma) {
        do_interrupt_long(s, vec, is_int, has_err, err, next_rip, ext);
    } else {
        if (s->vm86 && is_int && ((s->env->eflags >> 12) & 3) != 3) {
            RAISE_GP(s, 0);
        }
        do_interrupt_prot(s, vec, is_int, has_err, err, next_rip, ext);
    }
}
