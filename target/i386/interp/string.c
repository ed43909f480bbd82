/*
 * String instructions MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS with REP/REPE/
 * REPNE, and XLAT. Long REP runs are split: after a batch of iterations the
 * instruction restarts itself so interrupts are taken between batches.
 * Forward MOVS/STOS over RAM copy whole page chunks with memmove/memset.
 * Spec: Intel SDM vol. 2 (MOVS, REP prefix), vol. 1 §7.3.9.
 * Locking: vCPU thread only; INS/OUTS go through as_rw (BQL inside).
 */
#include "interp.h"
#include "flags.h"

#define REP_BATCH 65536

static inline uint64_t areg(Interp *s, const Insn *i, int r)
{
    return s->env->regs[r] & addr_mask(i->addrsize);
}

static inline void aset(Interp *s, const Insn *i, int r, uint64_t v)
{
    uint64_t m = addr_mask(i->addrsize);
    if (i->addrsize == 4) {
        s->env->regs[r] = (uint32_t)v;
    } else {
        s->env->regs[r] = (s->env->regs[r] & ~m) | (v & m);
    }
}

static inline int64_t step(Interp *s, int sz)
{
    return (s->env->eflags & DF_MASK) ? -sz : sz;
}

/* Try to do up to n forward elements of MOVS/STOS in one go over RAM.
 * Returns the number of elements done (0: take the slow path). */
static uint64_t fast_chunk(Interp *s, const Insn *i, bool movs, uint64_t n)
{
    int sz = i->opsize;
    uint64_t m = addr_mask(i->addrsize);
    uint64_t di = areg(s, i, R_EDI), si = areg(s, i, R_ESI);
    uint64_t dla0 = s->env->segs[R_ES].base;
    uint64_t k = n;
    /* stay within the current destination (and source) page and do not wrap */
    uint64_t dl = (s->code64 ? di : dla0 + di) & s->la_mask;
    uint64_t room = (4096 - (dl & 0xfff)) / sz;
    if (room < k) {
        k = room;
    }
    if ((m - di) / sz + 1 < k) {
        k = (m - di) / sz + 1;
    }
    uint64_t sl = 0;
    if (movs) {
        uint64_t sbase = s->code64 ? (i->seg >= R_FS ? s->env->segs[i->seg].base : 0)
                                   : s->env->segs[i->seg].base;
        sl = (sbase + si) & s->la_mask;
        room = (4096 - (sl & 0xfff)) / sz;
        if (room < k) {
            k = room;
        }
        if ((m - si) / sz + 1 < k) {
            k = (m - si) / sz + 1;
        }
    }
    if (k < 2) {
        return 0;
    }
    uint64_t bytes = k * sz;
    /* segment checks for the whole range (faults here are precise enough:
     * nothing has been written yet) */
    uint64_t dla = seg_linear(s, R_ES, di, bytes, ACC_W);
    uint64_t pa;
    uint8_t *dp = mmu_translate(s, dla, ACC_W, s->cpl == 3, &pa);
    if (!dp) {
        return 0;
    }
    if (movs) {
        uint64_t sla = seg_linear(s, i->seg, si, bytes, ACC_R);
        uint8_t *sp = mmu_translate(s, sla, ACC_R, s->cpl == 3, &pa);
        if (!sp) {
            return 0;
        }
        if (dp > sp && dp < sp + bytes) {
            for (uint64_t b = 0; b < bytes; b++) {
                dp[b] = sp[b];
            }
        } else {
            memmove(dp, sp, bytes);
        }
        aset(s, i, R_ESI, si + bytes);
    } else {
        uint64_t v = s->env->regs[R_EAX];
        if (sz == 1) {
            memset(dp, (uint8_t)v, bytes);
        } else {
            for (uint64_t e = 0; e < k; e++) {
                store_host(dp + e * sz, v, sz);
            }
        }
    }
    aset(s, i, R_EDI, di + bytes);
    return k;
}

static void string_op(Interp *s, const Insn *i, int kind)
{
    /* kind: 0 MOVS, 1 STOS, 2 LODS, 3 CMPS, 4 SCAS, 5 INS, 6 OUTS */
    CPUX86State *env = s->env;
    int sz = i->opsize;
    bool rep = i->rep != 0;
    uint64_t cm = addr_mask(i->addrsize);
    uint64_t done = 0;

    if (kind >= 5 && !io_allowed(s, env->regs[R_EDX] & 0xffff, sz)) {
        RAISE_GP(s, 0);
    }
    for (;;) {
        if (rep) {
            uint64_t cx = env->regs[R_ECX] & cm;
            if (cx == 0) {
                break;
            }
            if (done >= REP_BATCH) {
                env->rip = s->start_rip;   /* continue after pending events */
                s->brk = true;
                return;
            }
            if ((kind == 0 || kind == 1) && !(env->eflags & DF_MASK) && cx > 1) {
                uint64_t k = fast_chunk(s, i, kind == 0, cx);
                if (k) {
                    aset(s, i, R_ECX, cx - k);
                    done += k;
                    continue;
                }
            }
        }
        int64_t d = step(s, sz);
        uint64_t si = areg(s, i, R_ESI), di = areg(s, i, R_EDI);
        switch (kind) {
        case 0: {
            uint64_t v = ld(s, i->seg, si, sz);
            st(s, R_ES, di, v, sz);
            aset(s, i, R_ESI, si + d);
            aset(s, i, R_EDI, di + d);
            break;
        }
        case 1:
            st(s, R_ES, di, env->regs[R_EAX] & size_mask(sz), sz);
            aset(s, i, R_EDI, di + d);
            break;
        case 2:
            set_reg(s, R_EAX, ld(s, i->seg, si, sz), sz, false);
            aset(s, i, R_ESI, si + d);
            break;
        case 3: {
            uint64_t a = ld(s, i->seg, si, sz);
            uint64_t b = ld(s, R_ES, di, sz);
            uint64_t r = (a - b) & size_mask(sz);
            lf_arith(s, r, cv_sub(a, b, r), sz);
            aset(s, i, R_ESI, si + d);
            aset(s, i, R_EDI, di + d);
            break;
        }
        case 4: {
            uint64_t a = env->regs[R_EAX] & size_mask(sz);
            uint64_t b = ld(s, R_ES, di, sz);
            uint64_t r = (a - b) & size_mask(sz);
            lf_arith(s, r, cv_sub(a, b, r), sz);
            aset(s, i, R_EDI, di + d);
            break;
        }
        case 5: {
            /* probe the destination before the port read has side effects */
            uint64_t la = seg_linear(s, R_ES, di, sz, ACC_W);
            mem_probe_write(s, la, sz, s->cpl == 3);
            uint64_t v = io_in(s, env->regs[R_EDX] & 0xffff, sz);
            lin_st(s, la, v, sz);
            aset(s, i, R_EDI, di + d);
            break;
        }
        default: {
            uint64_t v = ld(s, i->seg, si, sz);
            io_out(s, env->regs[R_EDX] & 0xffff, v, sz);
            aset(s, i, R_ESI, si + d);
            break;
        }
        }
        done++;
        if (!rep) {
            break;
        }
        aset(s, i, R_ECX, (env->regs[R_ECX] & cm) - 1);
        if (kind == 3 || kind == 4) {
            bool zf = lf_zf(s);
            if ((i->rep == 0xf3 && !zf) || (i->rep == 0xf2 && zf)) {
                break;
            }
        }
    }
}

static HANDLER(h_movs) { string_op(s, i, 0); }
static HANDLER(h_stos) { string_op(s, i, 1); }
static HANDLER(h_lods) { string_op(s, i, 2); }
static HANDLER(h_cmps) { string_op(s, i, 3); }
static HANDLER(h_scas) { string_op(s, i, 4); }
static HANDLER(h_ins) { string_op(s, i, 5); }
static HANDLER(h_outs) { string_op(s, i, 6); }
FAM1(MOVS, h_movs);
FAM1(STOS, h_stos);
FAM1(LODS, h_lods);
FAM1(CMPS, h_cmps);
FAM1(SCAS, h_scas);
FAM1(INS, h_ins);
FAM1(OUTS, h_outs);

static HANDLER(h_xlat)
{
    CPUX86State *env = s->env;
    uint64_t a = (env->regs[R_EBX] + (env->regs[R_EAX] & 0xff)) & addr_mask(i->addrsize);
    set_reg(s, R_EAX, ld(s, i->seg, a, 1), 1, false);
}
FAM1(XLAT, h_xlat);
