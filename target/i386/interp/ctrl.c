/*
 * Control transfer and stack instructions: Jcc/JMP/CALL/RET (near and far,
 * with protected-mode checks and call gates), LOOP/JCXZ, INT n/INT3/INTO/
 * INT1, IRET in all modes (to outer privilege, to virtual-8086, long mode),
 * PUSH/POP/PUSHA/POPA/PUSHF/POPF (IOPL and VM rules), ENTER/LEAVE, BOUND,
 * ARPL, CLI/STI (IOPL), CLD/STD, HLT, PAUSE, NOP.
 * Spec: Intel SDM vol. 2 (CALL, JMP, RET, IRET, POPF), vol. 3 §5.8.
 * Locking: vCPU thread only.
 */
#include "interp.h"
#include "flags.h"

#define REX (i->flags & IF_REX)

static uint64_t cx_mask(const Insn *i)
{
    return addr_mask(i->addrsize);
}

/* ---- near branches ---- */
HANDLER(h_jcc)
{
    if (cond_true(s, i->op & 15)) {
        jump_to(s, s->next_rip + i->imm, i->opsize);
    }
}
FAM1(JCC, h_jcc);

/* Jcc specialised by condition (decode_one swaps these in for h_jcc); the
 * 64-bit taken path needs only the canonical check. */
#define JCC_CC(cc) \
    static HANDLER(h_jcc_##cc) \
    { \
        if (cc_test(s, cc)) { \
            uint64_t ip = s->next_rip + i->imm; \
            if (likely(s->code64 && i->opsize == 8 && \
                       (uint64_t)((int64_t)(ip << 16) >> 16) == ip)) { \
                s->env->rip = ip; \
            } else { \
                jump_to(s, ip, i->opsize); \
            } \
        } \
    } \
    THREADED_LAST(T_jcc_##cc, h_jcc_##cc)   /* Jcc always ends its block */
JCC_CC(0) JCC_CC(1) JCC_CC(2) JCC_CC(3) JCC_CC(4) JCC_CC(5) JCC_CC(6) JCC_CC(7)
JCC_CC(8) JCC_CC(9) JCC_CC(10) JCC_CC(11) JCC_CC(12) JCC_CC(13) JCC_CC(14) JCC_CC(15)
const InsnHandler jcc_by_cc[16] = {
    T_jcc_0, T_jcc_1, T_jcc_2, T_jcc_3, T_jcc_4, T_jcc_5, T_jcc_6, T_jcc_7,
    T_jcc_8, T_jcc_9, T_jcc_10, T_jcc_11, T_jcc_12, T_jcc_13, T_jcc_14, T_jcc_15,
};

static HANDLER(h_jmp_j)
{
    jump_to(s, s->next_rip + i->imm, i->opsize);
}
FAM1_LAST(JMP_J, h_jmp_j);

static HANDLER(h_call_j)
{
    uint64_t target = s->next_rip + i->imm;
    uint64_t ret = s->next_rip;
    int sz = i->opsize;
    jump_to(s, target, sz);
    push(s, ret, sz);
}
FAM1_LAST(CALL_J, h_call_j);

static HANDLER(h_jmp_e)
{
    jump_to(s, e_ld(s, i, i->opsize), i->opsize);
}
FAM1(JMP_E, h_jmp_e);

static HANDLER(h_call_e)
{
    uint64_t target = e_ld(s, i, i->opsize);
    uint64_t ret = s->next_rip;
    jump_to(s, target, i->opsize);
    push(s, ret, i->opsize);
}
FAM1(CALL_E, h_call_e);

static HANDLER(h_ret)
{
    int sz = i->opsize;
    uint64_t ip = pop_peek(s, sz, 0);
    jump_to(s, ip, sz);
    sp_add(s, sz + (i->imm & 0xffff));
}
FAM1_LAST(RET, h_ret);

static void loop_common(Interp *s, const Insn *i, int kind)
{
    CPUX86State *env = s->env;
    uint64_t m = cx_mask(i);
    uint64_t cx = (env->regs[R_ECX] - 1) & m;
    env->regs[R_ECX] = (env->regs[R_ECX] & ~m) | cx;
    if (i->addrsize == 4) {
        env->regs[R_ECX] = cx;
    }
    bool take = cx != 0;
    if (kind == 1) {
        take = take && lf_zf(s);
    } else if (kind == 2) {
        take = take && !lf_zf(s);
    }
    if (take) {
        jump_to(s, s->next_rip + i->imm, i->opsize);
    }
}
static HANDLER(h_loop) { loop_common(s, i, 0); }
static HANDLER(h_loope) { loop_common(s, i, 1); }
static HANDLER(h_loopne) { loop_common(s, i, 2); }
FAM1(LOOP, h_loop);
FAM1(LOOPE, h_loope);
FAM1(LOOPNE, h_loopne);

static HANDLER(h_jcxz)
{
    if ((s->env->regs[R_ECX] & cx_mask(i)) == 0) {
        jump_to(s, s->next_rip + i->imm, i->opsize);
    }
}
FAM1(JCXZ, h_jcxz);

/* ---- far transfers ---- */
static void fetch_code_desc(Interp *s, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    if ((sel & ~3u) == 0) {
        RAISE_GP(s, 0);
    }
    if (!load_desc(s, sel, lo, hi)) {
        RAISE_GP(s, sel & ~3u);
    }
}

static void commit_cs(Interp *s, uint16_t sel, uint32_t lo, uint32_t hi, int cpl, uint64_t ip)
{
    CPUX86State *env = s->env;
    uint64_t base = env->gdt.base;
    if (sel & 4) {
        base = env->ldt.base;
    }
    if (!(hi & DESC_A_MASK)) {
        sys_st(s, (base + (sel & ~7u) + 4) & s->la_mask, hi | DESC_A_MASK, 4);
    }
    set_seg_from_desc(&env->segs[R_CS], (sel & ~3u) | cpl, lo, hi | DESC_A_MASK);
    env->rip = ip;
    interp_update_mode(s);
}

static bool is_64bit_cs(Interp *s, uint32_t hi)
{
    return s->lma && (hi & DESC_L_MASK);
}

static void check_ip_limit(Interp *s, uint32_t lo, uint32_t hi, uint64_t ip)
{
    if (!is_64bit_cs(s, hi) && ip > desc_limit(lo, hi)) {
        RAISE_GP(s, 0);
    }
}

/* Read a call gate: returns target selector, offset and parameter count. */
static void read_gate(Interp *s, uint16_t gsel, uint32_t lo, uint32_t hi,
                      uint16_t *tsel, uint64_t *toff, int *pcount)
{
    *tsel = lo >> 16;
    *toff = (lo & 0xffff) | (hi & 0xffff0000u);
    *pcount = hi & 0x1f;
    int type = (hi >> 8) & 15;
    if (type == 4) {
        *toff &= 0xffff;
    }
    if (s->lma) {
        CPUX86State *env = s->env;
        uint64_t base = (gsel & 4) ? env->ldt.base : env->gdt.base;
        uint32_t limit = (gsel & 4) ? env->ldt.limit : env->gdt.limit;
        if ((gsel & ~7u) + 15 > limit) {
            RAISE_GP(s, gsel & ~3u);
        }
        uint64_t d2 = sys_ld(s, base + (gsel & ~7u) + 8, 8);
        if ((d2 >> 40) & 0x1f) {
            RAISE_GP(s, gsel & ~3u);
        }
        *toff |= (uint64_t)(uint32_t)d2 << 32;
        *pcount = 0;
    }
}

static bool gate_ok(Interp *s, int type)
{
    return s->lma ? type == 12 : (type == 4 || type == 12);
}

void do_far_jmp(Interp *s, uint16_t sel, uint64_t off)
{
    CPUX86State *env = s->env;
    if (!s->pe || s->vm86) {
        if (off > env->segs[R_CS].limit && !s->vm86) {
            RAISE_GP(s, 0);
        }
        load_seg_real(s, R_CS, sel);
        env->rip = off;
        return;
    }
    uint32_t lo, hi;
    int cpl = s->cpl, rpl = sel & 3;
    fetch_code_desc(s, sel, &lo, &hi);
    int dpl = (hi >> DESC_DPL_SHIFT) & 3;
    if (hi & DESC_S_MASK) {
        if (!(hi & DESC_CS_MASK)) {
            RAISE_GP(s, sel & ~3u);
        }
        if (hi & (4u << 8) ? dpl > cpl : (rpl > cpl || dpl != cpl)) {
            RAISE_GP(s, sel & ~3u);
        }
        if (!(hi & DESC_P_MASK)) {
            raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
        }
        check_ip_limit(s, lo, hi, off);
        commit_cs(s, sel, lo, hi, cpl, off);
        return;
    }
    int type = (hi >> 8) & 15;
    if (!gate_ok(s, type)) {
        if (type == 5 || type == 1 || type == 9) {
            task_switch(s, sel, TS_JMP, false, 0, s->next_rip);
            return;
        }
        RAISE_GP(s, sel & ~3u);
    }
    if (dpl < cpl || dpl < rpl) {
        RAISE_GP(s, sel & ~3u);
    }
    if (!(hi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
    }
    uint16_t tsel;
    uint64_t toff;
    int pc;
    read_gate(s, sel, lo, hi, &tsel, &toff, &pc);
    uint32_t clo, chi;
    fetch_code_desc(s, tsel, &clo, &chi);
    int cdpl = (chi >> DESC_DPL_SHIFT) & 3;
    if (!(chi & DESC_S_MASK) || !(chi & DESC_CS_MASK) ||
        ((chi & (4u << 8)) ? cdpl > cpl : cdpl != cpl)) {
        RAISE_GP(s, tsel & ~3u);
    }
    if (s->lma && (!(chi & DESC_L_MASK) || (chi & DESC_B_MASK))) {
        RAISE_GP(s, tsel & ~3u);
    }
    if (!(chi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, tsel & ~3u);
    }
    check_ip_limit(s, clo, chi, toff);
    commit_cs(s, tsel, clo, chi, cpl, toff);
}

void do_far_call(Interp *s, uint16_t sel, uint64_t off, int sz)
{
    CPUX86State *env = s->env;
    uint16_t old_cs = env->segs[R_CS].selector;
    uint64_t ret = s->next_rip;
    if (!s->pe || s->vm86) {
        push(s, old_cs, sz);
        push(s, ret, sz);
        load_seg_real(s, R_CS, sel);
        env->rip = off & (sz == 2 ? 0xffff : 0xffffffffull);
        return;
    }
    uint32_t lo, hi;
    int cpl = s->cpl, rpl = sel & 3;
    fetch_code_desc(s, sel, &lo, &hi);
    int dpl = (hi >> DESC_DPL_SHIFT) & 3;
    if (hi & DESC_S_MASK) {
        if (!(hi & DESC_CS_MASK)) {
            RAISE_GP(s, sel & ~3u);
        }
        if (hi & (4u << 8) ? dpl > cpl : (rpl > cpl || dpl != cpl)) {
            RAISE_GP(s, sel & ~3u);
        }
        if (!(hi & DESC_P_MASK)) {
            raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
        }
        check_ip_limit(s, lo, hi, off);
        push(s, old_cs, sz);
        push(s, ret, sz);
        commit_cs(s, sel, lo, hi, cpl, off);
        return;
    }
    int type = (hi >> 8) & 15;
    if (!gate_ok(s, type)) {
        if (type == 5 || type == 1 || type == 9) {
            task_switch(s, sel, TS_CALL, false, 0, s->next_rip);
            return;
        }
        RAISE_GP(s, sel & ~3u);
    }
    if (dpl < cpl || dpl < rpl) {
        RAISE_GP(s, sel & ~3u);
    }
    if (!(hi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
    }
    uint16_t tsel;
    uint64_t toff;
    int pc;
    read_gate(s, sel, lo, hi, &tsel, &toff, &pc);
    int gsz = s->lma ? 8 : (type == 12 ? 4 : 2);
    uint32_t clo, chi;
    fetch_code_desc(s, tsel, &clo, &chi);
    int cdpl = (chi >> DESC_DPL_SHIFT) & 3;
    if (!(chi & DESC_S_MASK) || !(chi & DESC_CS_MASK) || cdpl > cpl) {
        RAISE_GP(s, tsel & ~3u);
    }
    if (s->lma && (!(chi & DESC_L_MASK) || (chi & DESC_B_MASK))) {
        RAISE_GP(s, tsel & ~3u);
    }
    if (!(chi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, tsel & ~3u);
    }
    check_ip_limit(s, clo, chi, toff);
    if (!(chi & (4u << 8)) && cdpl < cpl) {
        /* inner privilege: new stack from the TSS */
        uint64_t sp, ssbase = 0, spm;
        uint16_t nss;
        uint32_t slo = 0, shi = 0;
        if (s->lma) {
            sp = sys_ld(s, env->tr.base + 4 + 8 * cdpl, 8);
            nss = cdpl;
            spm = ~0ull;
        } else {
            int t32 = (env->tr.flags >> 11) & 1;
            uint32_t o = (cdpl * 4 + 2) << t32;
            if (t32) {
                sp = sys_ld(s, (env->tr.base + o) & s->la_mask, 4);
                nss = sys_ld(s, (env->tr.base + o + 4) & s->la_mask, 2);
            } else {
                sp = sys_ld(s, (env->tr.base + o) & s->la_mask, 2);
                nss = sys_ld(s, (env->tr.base + o + 2) & s->la_mask, 2);
            }
            if ((nss & 3) != cdpl || !load_desc(s, nss, &slo, &shi) ||
                ((shi >> DESC_DPL_SHIFT) & 3) != (uint32_t)cdpl ||
                (shi & (DESC_CS_MASK | (2u << 8))) != (2u << 8)) {
                raise_exception(s, EXCP0A_TSS, nss & ~3u);
            }
            if (!(shi & DESC_P_MASK)) {
                raise_exception(s, EXCP0C_STACK, nss & ~3u);
            }
            ssbase = desc_base(slo, shi);
            spm = (shi & DESC_B_MASK) ? 0xffffffffull : 0xffff;
        }
        uint64_t frame[40];
        int n = 0;
        frame[n++] = env->segs[R_SS].selector;
        frame[n++] = env->regs[R_ESP];
        for (int k = pc - 1; k >= 0; k--) {
            frame[n++] = pop_peek(s, gsz, k * gsz);
        }
        frame[n++] = old_cs;
        frame[n++] = ret;
        for (int k = 0; k < n; k++) {
            sp = (sp - gsz) & spm;
            sys_st(s, (ssbase + sp) & (s->lma ? ~0ull : 0xffffffffull), frame[k], gsz);
        }
        if (s->lma) {
            SegmentCache *ss = &env->segs[R_SS];
            ss->selector = cdpl;
            ss->base = 0;
            ss->limit = 0;
            ss->flags = DESC_P_MASK | DESC_S_MASK | (2u << 8) | DESC_B_MASK |
                        ((uint32_t)cdpl << DESC_DPL_SHIFT);
            env->regs[R_ESP] = sp;
        } else {
            set_seg_from_desc(&env->segs[R_SS], nss, slo, shi | DESC_A_MASK);
            env->regs[R_ESP] = spm == 0xffff ? (env->regs[R_ESP] & ~0xffffull) | sp : sp;
        }
        commit_cs(s, tsel, clo, chi, cdpl, toff);
        return;
    }
    push(s, old_cs, gsz);
    push(s, ret, gsz);
    commit_cs(s, tsel, clo, chi, cpl, toff);
}

static void null_outer_segs(Interp *s, int cpl)
{
    CPUX86State *env = s->env;
    static const int segs[] = { R_ES, R_DS, R_FS, R_GS };
    for (int k = 0; k < 4; k++) {
        SegmentCache *sc = &env->segs[segs[k]];
        int dpl = (sc->flags >> DESC_DPL_SHIFT) & 3;
        bool conf_code = (sc->flags & DESC_CS_MASK) && (sc->flags & (4u << 8));
        if (!conf_code && dpl < cpl && (sc->selector & ~3u)) {
            sc->selector = 0;
            sc->flags = 0;
            if (!s->lma) {
                sc->base = 0;
            }
            sc->limit = 0;
        } else if (!conf_code && dpl < cpl && !(sc->selector & ~3u)) {
            sc->flags = 0;
        }
    }
}

/* Validate SS for a return to privilege rpl. */
static void check_ret_ss(Interp *s, uint16_t ss, int rpl, bool cs64, uint32_t *lo, uint32_t *hi)
{
    if ((ss & ~3u) == 0) {
        if (s->lma && cs64 && rpl != 3) {
            *lo = 0;
            *hi = 0;
            return;
        }
        RAISE_GP(s, 0);
    }
    if (!load_desc(s, ss, lo, hi)) {
        RAISE_GP(s, ss & ~3u);
    }
    if ((ss & 3) != rpl || ((*hi >> DESC_DPL_SHIFT) & 3) != (uint32_t)rpl ||
        !(*hi & DESC_S_MASK) || (*hi & (DESC_CS_MASK | (2u << 8))) != (2u << 8)) {
        RAISE_GP(s, ss & ~3u);
    }
    if (!(*hi & DESC_P_MASK)) {
        raise_exception(s, EXCP0C_STACK, ss & ~3u);
    }
}

static void commit_ss(Interp *s, uint16_t ss, uint32_t lo, uint32_t hi, int rpl)
{
    SegmentCache *sc = &s->env->segs[R_SS];
    if ((ss & ~3u) == 0) {
        sc->selector = ss;
        sc->base = 0;
        sc->limit = 0;
        sc->flags = DESC_P_MASK | DESC_S_MASK | (2u << 8) | DESC_B_MASK |
                    ((uint32_t)rpl << DESC_DPL_SHIFT);
        return;
    }
    set_seg_from_desc(sc, ss, lo, hi | DESC_A_MASK);
}

void do_far_ret(Interp *s, int sz, uint16_t extra)
{
    CPUX86State *env = s->env;
    uint64_t ip = pop_peek(s, sz, 0);
    uint16_t sel = pop_peek(s, sz, sz);
    if (!s->pe || s->vm86) {
        if (ip > env->segs[R_CS].limit && !s->vm86) {
            RAISE_GP(s, 0);
        }
        load_seg_real(s, R_CS, sel);
        env->rip = ip;
        sp_add(s, 2 * sz + extra);
        return;
    }
    int cpl = s->cpl, rpl = sel & 3;
    uint32_t lo, hi;
    fetch_code_desc(s, sel, &lo, &hi);
    int dpl = (hi >> DESC_DPL_SHIFT) & 3;
    if (rpl < cpl || !(hi & DESC_S_MASK) || !(hi & DESC_CS_MASK) ||
        ((hi & (4u << 8)) ? dpl > rpl : dpl != rpl)) {
        RAISE_GP(s, sel & ~3u);
    }
    if (!(hi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
    }
    if (rpl == cpl) {
        check_ip_limit(s, lo, hi, ip);
        sp_add(s, 2 * sz + extra);
        commit_cs(s, sel, lo, hi, cpl, ip);
        return;
    }
    uint64_t nsp = pop_peek(s, sz, 2 * sz + extra);
    uint16_t nss = pop_peek(s, sz, 3 * sz + extra);
    uint32_t slo, shi;
    check_ret_ss(s, nss, rpl, is_64bit_cs(s, hi), &slo, &shi);
    check_ip_limit(s, lo, hi, ip);
    commit_cs(s, sel, lo, hi, rpl, ip);
    commit_ss(s, nss, slo, shi, rpl);
    if (s->lma && (hi & DESC_L_MASK)) {
        env->regs[R_ESP] = nsp + extra;
    } else if (shi & DESC_B_MASK) {
        env->regs[R_ESP] = (uint32_t)(nsp + extra);
    } else {
        env->regs[R_ESP] = (env->regs[R_ESP] & ~0xffffull) | ((nsp + extra) & 0xffff);
    }
    null_outer_segs(s, rpl);
    interp_update_mode(s);
}

static HANDLER(h_jmpf_a) { do_far_jmp(s, i->imm2, i->imm); }
static HANDLER(h_callf_a) { do_far_call(s, i->imm2, i->imm, i->opsize); }
FAM1(JMPF_A, h_jmpf_a);
FAM1(CALLF_A, h_callf_a);

static void far_ptr(Interp *s, const Insn *i, uint16_t *sel, uint64_t *off)
{
    int sz = i->opsize;
    uint64_t ea = insn_ea(s, i);
    *off = ld(s, i->seg, ea, sz);
    *sel = ld(s, i->seg, (ea + sz) & addr_mask(i->addrsize), 2);
}
static HANDLER(h_jmpf_e)
{
    uint16_t sel;
    uint64_t off;
    far_ptr(s, i, &sel, &off);
    do_far_jmp(s, sel, off);
}
static HANDLER(h_callf_e)
{
    uint16_t sel;
    uint64_t off;
    far_ptr(s, i, &sel, &off);
    do_far_call(s, sel, off, i->opsize);
}
FAM1(JMPF_E, h_jmpf_e);
FAM1(CALLF_E, h_callf_e);

static HANDLER(h_retf)
{
    do_far_ret(s, i->opsize, i->imm & 0xffff);
}
FAM1(RETF, h_retf);

/* ---- IRET ---- */
#define EFL_ALL (CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O | TF_MASK | DF_MASK | \
                 NT_MASK | RF_MASK | AC_MASK | ID_MASK)

void do_iret(Interp *s, int sz)
{
    CPUX86State *env = s->env;
    if (!s->pe) {
        uint64_t ip = pop_peek(s, sz, 0);
        uint16_t sel = pop_peek(s, sz, sz);
        uint64_t fl = pop_peek(s, sz, 2 * sz);
        if (ip > env->segs[R_CS].limit) {
            RAISE_GP(s, 0);
        }
        sp_add(s, 3 * sz);
        load_seg_real(s, R_CS, sel);
        env->rip = ip;
        uint64_t mask = EFL_ALL | IF_MASK | IOPL_MASK | VIF_MASK | VIP_MASK;
        if (sz == 2) {
            mask &= 0xffff;
        }
        interp_set_eflags(s, fl, mask & ~RF_MASK);
        env->nmi_masked = false;
        return;
    }
    if (s->vm86) {
        if (((env->eflags >> 12) & 3) != 3) {
            RAISE_GP(s, 0);
        }
        uint64_t ip = pop_peek(s, sz, 0);
        uint16_t sel = pop_peek(s, sz, sz);
        uint64_t fl = pop_peek(s, sz, 2 * sz);
        sp_add(s, 3 * sz);
        load_seg_real(s, R_CS, sel);
        env->rip = ip & (sz == 2 ? 0xffff : 0xffffffffull);
        uint64_t mask = EFL_ALL | IF_MASK;
        if (sz == 2) {
            mask &= 0xffff;
        }
        interp_set_eflags(s, fl, mask);
        env->nmi_masked = false;
        return;
    }
    if ((env->eflags & NT_MASK) && !s->lma) {
        task_switch(s, sys_ld(s, env->tr.base & s->la_mask, 2), TS_IRET, false, 0, s->next_rip);
        return;
    }
    uint64_t ip = pop_peek(s, sz, 0);
    uint16_t sel = pop_peek(s, sz, sz);
    uint64_t fl = pop_peek(s, sz, 2 * sz);
    int cpl = s->cpl;
    if (sz == 2) {
        fl = (interp_get_eflags(s) & ~0xffffull) | (fl & 0xffff);
    }
    if ((fl & VM_MASK) && cpl == 0 && !s->lma && sz == 4) {
        /* return to virtual-8086 mode */
        uint64_t nsp = pop_peek(s, 4, 12);
        uint16_t sels[5];
        for (int k = 0; k < 5; k++) {
            sels[k] = pop_peek(s, 4, 16 + 4 * k);
        }
        env->eflags = (env->eflags & ~0xffffffffull);
        lf_set(s, fl & (CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O));
        env->eflags = (fl & ~(uint64_t)(CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O)) | 2;
        interp_update_mode(s);
        load_seg_real(s, R_CS, sel);
        env->rip = ip & 0xffff;
        load_seg_real(s, R_SS, sels[0]);
        load_seg_real(s, R_ES, sels[1]);
        load_seg_real(s, R_DS, sels[2]);
        load_seg_real(s, R_FS, sels[3]);
        load_seg_real(s, R_GS, sels[4]);
        env->regs[R_ESP] = (uint32_t)nsp;
        env->nmi_masked = false;
        interp_update_mode(s);
        return;
    }
    int rpl = sel & 3;
    uint32_t lo, hi;
    fetch_code_desc(s, sel, &lo, &hi);
    int dpl = (hi >> DESC_DPL_SHIFT) & 3;
    if (rpl < cpl || !(hi & DESC_S_MASK) || !(hi & DESC_CS_MASK) ||
        ((hi & (4u << 8)) ? dpl > rpl : dpl != rpl)) {
        RAISE_GP(s, sel & ~3u);
    }
    if (!(hi & DESC_P_MASK)) {
        raise_exception(s, EXCP0B_NOSEG, sel & ~3u);
    }
    bool pop_ss = rpl > cpl || s->code64;
    uint64_t nsp = 0;
    uint16_t nss = 0;
    uint32_t slo = 0, shi = 0;
    if (pop_ss) {
        nsp = pop_peek(s, sz, 3 * sz);
        nss = pop_peek(s, sz, 4 * sz);
        if (rpl > cpl || (nss & ~3u)) {
            check_ret_ss(s, nss, rpl, is_64bit_cs(s, hi), &slo, &shi);
        }
    }
    check_ip_limit(s, lo, hi, ip);

    /* commit */
    uint64_t mask = EFL_ALL;
    if (cpl == 0) {
        mask |= IOPL_MASK | VIF_MASK | VIP_MASK | IF_MASK;
    } else if (cpl <= (int)((env->eflags >> 12) & 3)) {
        mask |= IF_MASK;
    }
    if (sz == 2) {
        mask &= 0xffff;
    }
    commit_cs(s, sel, lo, hi, rpl, ip);
    interp_set_eflags(s, fl, mask);
    if (pop_ss) {
        if (rpl > cpl || (nss & ~3u)) {
            commit_ss(s, nss, slo, shi, rpl);
        } else {
            commit_ss(s, nss, 0, 0, rpl);
        }
        if (s->code64 || (s->lma && is_64bit_cs(s, hi))) {
            env->regs[R_ESP] = nsp;
        } else if (env->segs[R_SS].flags & DESC_B_MASK) {
            env->regs[R_ESP] = (uint32_t)nsp;
        } else {
            env->regs[R_ESP] = (env->regs[R_ESP] & ~0xffffull) | (nsp & 0xffff);
        }
        if (rpl > cpl) {
            null_outer_segs(s, rpl);
        }
    } else {
        sp_add(s, 3 * sz);
    }
    env->nmi_masked = false;
    interp_update_mode(s);
}

static HANDLER(h_iret)
{
    do_iret(s, i->opsize);
}
FAM1(IRET, h_iret);

/* ---- software interrupts ---- */
static void soft_int(Interp *s, int vec, bool is_int)
{
    s->delivering = -2;
    do_interrupt(s, vec, is_int, false, 0, s->next_rip);
    s->delivering = -1;
    s->brk = true;
}

static HANDLER(h_int)
{
    soft_int(s, i->imm & 0xff, true);
}
static HANDLER(h_int3)
{
    (void)i;
    soft_int(s, EXCP03_INT3, true);
}
static HANDLER(h_into)
{
    (void)i;
    if (lf_of(s)) {
        soft_int(s, EXCP04_INTO, true);
    }
}
static HANDLER(h_int1)
{
    (void)i;
    soft_int(s, EXCP01_DB, false);
}
FAM1(INT, h_int);
FAM1(INT3, h_int3);
FAM1(INTO, h_into);
FAM1(INT1, h_int1);

/* ---- stack ---- */
static HANDLER(h_push_e)
{
    int sz = i->opsize;
    uint64_t v = (i->flags & IF_MEM) ? ld_ea(s, i, sz)
                                    : get_reg(s, i->rm, sz, false);
    push(s, v, sz);
}
FAM1(PUSH_E, h_push_e);

static HANDLER(h_pop_e)
{
    int sz = i->opsize;
    uint64_t v = pop_peek(s, sz, 0);
    if (i->flags & IF_MEM) {
        /* the address is computed with the incremented stack pointer */
        uint64_t old = s->env->regs[R_ESP];
        sp_add(s, sz);
        uint64_t ea = insn_ea(s, i);
        s->env->regs[R_ESP] = old;
        st(s, i->seg, ea, v, sz);
        sp_add(s, sz);
    } else {
        sp_add(s, sz);
        set_reg(s, i->rm, v, sz, false);
    }
}
FAM1(POP_E, h_pop_e);

static HANDLER(h_push_i)
{
    push(s, i->imm & size_mask(i->opsize), i->opsize);
}
FAM1(PUSH_I, h_push_i);

static HANDLER(h_pusha)
{
    int sz = i->opsize;
    CPUX86State *env = s->env;
    uint64_t sp0 = env->regs[R_ESP];
    uint64_t m = sp_mask(s);
    for (int r = 0; r < 8; r++) {
        uint64_t v = r == R_ESP ? sp0 : env->regs[r];
        st(s, R_SS, (sp0 - (r + 1) * sz) & m, v & size_mask(sz), sz);
    }
    sp_add(s, -8 * sz);
}
FAM1(PUSHA, h_pusha);

static HANDLER(h_popa)
{
    int sz = i->opsize;
    uint64_t v[8];
    for (int r = 0; r < 8; r++) {
        v[r] = pop_peek(s, sz, (7 - r) * sz);
    }
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) {
            set_reg(s, r, v[r], sz, false);
        }
    }
    sp_add(s, 8 * sz);
}
FAM1(POPA, h_popa);

static HANDLER(h_pushf)
{
    CPUX86State *env = s->env;
    if (s->vm86 && ((env->eflags >> 12) & 3) != 3) {
        RAISE_GP(s, 0);
    }
    uint64_t fl = interp_get_eflags(s) & ~(VM_MASK | RF_MASK);
    push(s, fl & size_mask(i->opsize), i->opsize);
}
FAM1(PUSHF, h_pushf);

static HANDLER(h_popf)
{
    CPUX86State *env = s->env;
    int sz = i->opsize;
    int iopl = (env->eflags >> 12) & 3;
    if (s->vm86 && iopl != 3) {
        RAISE_GP(s, 0);
    }
    uint64_t fl = pop_peek(s, sz, 0);
    uint64_t mask = CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O | TF_MASK | DF_MASK |
                    NT_MASK | AC_MASK | ID_MASK;
    if (!s->pe || s->cpl == 0) {
        mask |= IOPL_MASK | IF_MASK;
    } else if (s->cpl <= iopl) {
        mask |= IF_MASK;
    }
    if (s->vm86) {
        mask &= ~IOPL_MASK;
        mask |= IF_MASK;
    }
    if (sz == 2) {
        mask &= 0xffff;
    }
    sp_add(s, sz);
    interp_set_eflags(s, fl, mask);
    env->eflags &= ~RF_MASK;
}
FAM1(POPF, h_popf);

static HANDLER(h_enter)
{
    CPUX86State *env = s->env;
    int sz = i->opsize;
    unsigned size = i->imm & 0xffff;
    unsigned level = i->imm2 & 31;
    uint64_t m = sp_mask(s);
    uint64_t sp = env->regs[R_ESP];
    uint64_t bp = env->regs[R_EBP];
    sp = (sp - sz) & m;
    st(s, R_SS, sp, bp & size_mask(sz), sz);
    uint64_t frame = sp;
    if (level > 0) {
        for (unsigned k = 1; k < level; k++) {
            uint64_t a = (bp - k * sz) & addr_mask(s->stack_size);
            uint64_t v = ld(s, R_SS, a, sz);
            sp = (sp - sz) & m;
            st(s, R_SS, sp, v, sz);
        }
        sp = (sp - sz) & m;
        st(s, R_SS, sp, frame, sz);
    }
    sp = (sp - size) & m;
    /* probe the lowest byte of the new frame */
    seg_linear(s, R_SS, sp, 1, ACC_W);
    set_reg(s, R_EBP, frame, sz, false);
    env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | sp;
}
FAM1(ENTER, h_enter);

static HANDLER(h_leave)
{
    CPUX86State *env = s->env;
    int sz = i->opsize;
    uint64_t m = sp_mask(s);
    uint64_t bp = env->regs[R_EBP] & m;
    uint64_t v = ld(s, R_SS, bp, sz);
    env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | ((bp + sz) & m);
    set_reg(s, R_EBP, v, sz, false);
}
FAM1(LEAVE, h_leave);

static HANDLER(h_bound)
{
    int sz = i->opsize;
    uint64_t ea = insn_ea(s, i);
    int64_t lo = (int64_t)sext(ld(s, i->seg, ea, sz), sz);
    int64_t hi = (int64_t)sext(ld(s, i->seg, (ea + sz) & addr_mask(i->addrsize), sz), sz);
    int64_t v = (int64_t)sext(get_reg(s, i->reg, sz, false), sz);
    if (v < lo || v > hi) {
        raise_exception_noerr(s, EXCP05_BOUND);
    }
}
FAM1(BOUND, h_bound);

static HANDLER(h_arpl)
{
    if (!s->pe || s->vm86) {
        RAISE_UD(s);
    }
    MemRef m = { 0 };
    uint16_t d = (i->flags & IF_MEM) ? rmw_ld(s, i, &m, 2) : get_reg(s, i->rm, 2, false);
    uint16_t src = get_reg(s, i->reg, 2, false);
    uint32_t fl = lf_get(s) & ~CC_Z;
    if ((d & 3) < (src & 3)) {
        d = (d & ~3) | (src & 3);
        fl |= CC_Z;
    }
    if (i->flags & IF_MEM) {
        rmw_st(s, &m, d);
    } else {
        set_reg(s, i->rm, d, 2, false);
    }
    lf_set(s, fl);
}
FAM1(ARPL, h_arpl);

/* ---- flags and misc ---- */
static HANDLER(h_cli)
{
    (void)i;
    CPUX86State *env = s->env;
    int iopl = (env->eflags >> 12) & 3;
    if (s->pe && s->cpl > iopl) {
        if (s->vm86 && (env->cr[4] & CR4_VME)) {
            env->eflags &= ~VIF_MASK;
            return;
        }
        if (!s->vm86 && s->cpl == 3 && (env->cr[4] & CR4_PVI)) {
            env->eflags &= ~VIF_MASK;
            return;
        }
        RAISE_GP(s, 0);
    }
    env->eflags &= ~IF_MASK;
}
FAM1(CLI, h_cli);

static HANDLER(h_sti)
{
    (void)i;
    CPUX86State *env = s->env;
    int iopl = (env->eflags >> 12) & 3;
    if (s->pe && s->cpl > iopl) {
        bool vif_ok = (s->vm86 && (env->cr[4] & CR4_VME)) ||
                      (!s->vm86 && s->cpl == 3 && (env->cr[4] & CR4_PVI));
        if (vif_ok && !(env->eflags & VIP_MASK)) {
            env->eflags |= VIF_MASK;
            return;
        }
        RAISE_GP(s, 0);
    }
    if (!(env->eflags & IF_MASK)) {
        s->inhibit_irq = true;
        s->brk = true;
    }
    env->eflags |= IF_MASK;
}
FAM1(STI, h_sti);

static HANDLER(h_cld) { (void)i; s->env->eflags &= ~DF_MASK; }
static HANDLER(h_std) { (void)i; s->env->eflags |= DF_MASK; }
FAM1(CLD, h_cld);
FAM1(STD, h_std);

static HANDLER(h_hlt)
{
    (void)i;
    if (s->cpl != 0) {
        RAISE_GP(s, 0);
    }
    s->env->halted = true;
    s->cpu->halted = true;
    interp_exit_slice(s, EXCP_HLT);
}
FAM1(HLT, h_hlt);

static HANDLER(h_nop) { (void)s; (void)i; }
FAM1(NOP, h_nop);

/* PAUSE: with several vCPUs on one thread, a spinning CPU gives way so the
 * lock holder can run. */
static HANDLER(h_pause)
{
    (void)i;
    if (s->yield_on_pause) {
        interp_exit_slice(s, EXCP_INTERRUPT);
    }
}
FAM1(PAUSE, h_pause);
