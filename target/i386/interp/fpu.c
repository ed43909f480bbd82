/*
 * x87 floating point on the host's 80-bit long double: loads/stores of all
 * formats, arithmetic, compares (FCOM/FUCOM/FCOMI), transcendental ops,
 * control/status/environment (FLDCW, FNSTSW, FNSTENV/FLDENV, FNSAVE/FRSTOR),
 * FXSAVE/FXRSTOR and the #NM/#MF checks. Guest rounding and precision
 * control are applied by loading them into the host FPU around each op.
 * Spec: Intel SDM vol. 1 chapter 8, vol. 2 (F* instructions, FXSAVE).
 * Locking: vCPU thread only.
 */
#include <math.h>
#include "interp.h"
#include "flags.h"

#define FPUS_IE 0x0001
#define FPUS_ZE 0x0004
#define FPUS_SF 0x0040
#define FPUS_ES 0x0080
#define FPUS_C0 0x0100
#define FPUS_C1 0x0200
#define FPUS_C2 0x0400
#define FPUS_C3 0x4000
#define FPUS_B  0x8000

typedef long double f80;

static inline f80 reg_get(const FPReg *r)
{
    f80 v = 0;
    memcpy(&v, &r->mant, 8);
    memcpy((char *)&v + 8, &r->exp, 2);
    return v;
}

static inline void reg_set(FPReg *r, f80 v)
{
    memcpy(&r->mant, &v, 8);
    memcpy(&r->exp, (char *)&v + 8, 2);
}

static inline int phys(Interp *s, int i)
{
    return (s->env->fpstt + i) & 7;
}

static inline f80 ST(Interp *s, int i)
{
    return reg_get(&s->env->fpregs[phys(s, i)]);
}

static inline void set_ST(Interp *s, int i, f80 v)
{
    reg_set(&s->env->fpregs[phys(s, i)], v);
}

static inline bool st_valid(Interp *s, int i)
{
    return (s->env->fptag_abridged >> phys(s, i)) & 1;
}

/* ---- host FPU control around operations ---- */
static uint16_t host_cw_saved;

static inline void fpu_begin(Interp *s)
{
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(host_cw_saved));
    cw = (s->env->fpuc & 0x0f00) | 0x3f;
    __asm__ volatile("fnclex\n\tfldcw %0" : : "m"(cw) : "memory");
}

static inline void fpu_end(Interp *s)
{
    uint16_t sw;
    __asm__ volatile("fnstsw %0" : "=m"(sw) : : "memory");
    __asm__ volatile("fnclex\n\tfldcw %0" : : "m"(host_cw_saved) : "memory");
    s->env->fpus |= sw & 0x3f;
    if (s->env->fpus & ~s->env->fpuc & 0x3f) {
        s->env->fpus |= FPUS_ES | FPUS_B;
    }
}

static void stack_fault(Interp *s, bool overflow)
{
    CPUX86State *env = s->env;
    env->fpus |= FPUS_IE | FPUS_SF;
    env->fpus = overflow ? env->fpus | FPUS_C1 : env->fpus & ~FPUS_C1;
    if (!(env->fpuc & FPUS_IE)) {
        env->fpus |= FPUS_ES | FPUS_B;
    }
}

static void fpush(Interp *s, f80 v)
{
    CPUX86State *env = s->env;
    unsigned t = (env->fpstt - 1) & 7;
    if ((env->fptag_abridged >> t) & 1) {
        stack_fault(s, true);
        v = __builtin_nanl("");
        v = -v;
    }
    env->fpstt = t;
    env->fptag_abridged |= 1u << t;
    reg_set(&env->fpregs[t], v);
}

static void fpop(Interp *s)
{
    CPUX86State *env = s->env;
    env->fptag_abridged &= ~(1u << env->fpstt);
    env->fpstt = (env->fpstt + 1) & 7;
}

/* read ST(i), flagging stack underflow */
static f80 rd(Interp *s, int i)
{
    if (!st_valid(s, i)) {
        stack_fault(s, false);
        return -__builtin_nanl("");
    }
    return ST(s, i);
}

void fpu_check(Interp *s)
{
    CPUX86State *env = s->env;
    if (env->cr[0] & (CR0_EM | CR0_TS)) {
        raise_exception_noerr(s, EXCP07_PREX);
    }
}

static void fpu_pending(Interp *s)
{
    CPUX86State *env = s->env;
    if (env->fpus & FPUS_ES) {
        if (env->cr[0] & CR0_NE) {
            raise_exception_noerr(s, EXCP10_COPR);
        }
        /* legacy FERR#: ignored (no IRQ13 wiring) */
    }
}

static HANDLER(h_fwait)
{
    (void)i;
    CPUX86State *env = s->env;
    if ((env->cr[0] & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) {
        raise_exception_noerr(s, EXCP07_PREX);
    }
    fpu_pending(s);
}
FAM1(FWAIT, h_fwait);

static uint16_t get_fsw(Interp *s)
{
    return (s->env->fpus & ~0x3800) | ((s->env->fpstt & 7) << 11);
}

static uint16_t full_tag(Interp *s)
{
    CPUX86State *env = s->env;
    uint16_t tag = 0;
    for (int r = 0; r < 8; r++) {
        unsigned t;
        if (!((env->fptag_abridged >> r) & 1)) {
            t = 3;
        } else {
            FPReg *f = &env->fpregs[r];
            unsigned e = f->exp & 0x7fff;
            if (e == 0x7fff) {
                t = 2;
            } else if (e == 0 && f->mant == 0) {
                t = 1;
            } else if (e == 0 || !(f->mant >> 63)) {
                t = 2;
            } else {
                t = 0;
            }
        }
        tag |= t << (2 * r);
    }
    return tag;
}

static void fninit(Interp *s)
{
    CPUX86State *env = s->env;
    env->fpuc = 0x37f;
    env->fpus = 0;
    env->fpstt = 0;
    env->fptag_abridged = 0;
    env->fpop = 0;
    env->fpip = env->fpdp = 0;
}

/* ---- memory formats ---- */
static f80 ld_m32(Interp *s, const Insn *i)
{
    uint32_t v = ld(s, i->seg, insn_ea(s, i), 4);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static f80 ld_m64(Interp *s, const Insn *i)
{
    uint64_t v = ld(s, i->seg, insn_ea(s, i), 8);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static f80 ld_m80(Interp *s, uint64_t ea, int seg)
{
    FPReg r;
    r.mant = ld(s, seg, ea, 8);
    r.exp = ld(s, seg, ea + 8, 2);
    return reg_get(&r);
}

static void st_m80(Interp *s, uint64_t ea, int seg, f80 v)
{
    FPReg r;
    reg_set(&r, v);
    seg_linear(s, seg, ea, 10, ACC_W);
    st(s, seg, ea, r.mant, 8);
    st(s, seg, ea + 8, r.exp, 2);
}

static int64_t to_int(Interp *s, f80 v, int bits, bool trunc)
{
    CPUX86State *env = s->env;
    f80 r;
    if (trunc) {
        r = truncl(v);
    } else {
        fpu_begin(s);
        r = rintl(v);
        fpu_end(s);
    }
    f80 lim = ldexpl(1.0L, bits - 1);
    if (!(r >= -lim && r < lim)) {
        env->fpus |= FPUS_IE;
        if (!(env->fpuc & FPUS_IE)) {
            env->fpus |= FPUS_ES | FPUS_B;
        }
        return (int64_t)(1ull << (bits - 1));   /* integer indefinite */
    }
    if (r != v) {
        env->fpus |= 0x20;   /* precision */
    }
    return (int64_t)r;
}

static f80 arith(Interp *s, int op, f80 a, f80 b)
{
    f80 r;
    fpu_begin(s);
    switch (op) {
    case 0: r = a + b; break;
    case 1: r = a * b; break;
    case 4: r = a - b; break;
    case 5: r = b - a; break;
    case 6: r = a / b; break;
    default: r = b / a; break;
    }
    fpu_end(s);
    return r;
}

/* compare: sets C0/C2/C3 (or EFLAGS for FCOMI) */
static void fcom(Interp *s, f80 a, f80 b, bool unordered_ok, bool eflags)
{
    CPUX86State *env = s->env;
    unsigned c;
    if (isnan(a) || isnan(b)) {
        c = 7;
        if (!unordered_ok || issignaling(a) || issignaling(b)) {
            env->fpus |= FPUS_IE;
            if (!(env->fpuc & FPUS_IE)) {
                env->fpus |= FPUS_ES | FPUS_B;
            }
        }
    } else if (a > b) {
        c = 0;
    } else if (a < b) {
        c = 1;
    } else {
        c = 4;
    }
    if (eflags) {
        uint32_t fl = lf_get(s) & ~(CC_Z | CC_P | CC_C | CC_O | CC_S | CC_A);
        fl |= (c & 1 ? CC_C : 0) | (c & 2 ? CC_P : 0) | (c & 4 ? CC_Z : 0);
        lf_set(s, fl);
    } else {
        env->fpus &= ~(FPUS_C0 | FPUS_C1 | FPUS_C2 | FPUS_C3);
        env->fpus |= (c & 1 ? FPUS_C0 : 0) | (c & 2 ? FPUS_C2 : 0) | (c & 4 ? FPUS_C3 : 0);
    }
}

static void fxam(Interp *s)
{
    CPUX86State *env = s->env;
    FPReg *r = &env->fpregs[phys(s, 0)];
    unsigned c;
    if (!st_valid(s, 0)) {
        c = FPUS_C3 | FPUS_C0;
    } else {
        unsigned e = r->exp & 0x7fff;
        if (e == 0x7fff) {
            c = (r->mant << 1) ? FPUS_C0 : (FPUS_C2 | FPUS_C0);
        } else if (e == 0) {
            c = r->mant ? (FPUS_C3 | FPUS_C2) : FPUS_C3;
        } else {
            c = (r->mant >> 63) ? FPUS_C2 : 0;
        }
    }
    env->fpus &= ~(FPUS_C0 | FPUS_C1 | FPUS_C2 | FPUS_C3);
    env->fpus |= c | ((r->exp & 0x8000) ? FPUS_C1 : 0);
}

/* FNSTENV / FLDENV (protected-mode 32-bit layout or 16-bit layout) */
static void store_env(Interp *s, const Insn *i, uint64_t ea)
{
    CPUX86State *env = s->env;
    if (i->opsize == 2) {
        st(s, i->seg, ea, env->fpuc, 2);
        st(s, i->seg, ea + 2, get_fsw(s), 2);
        st(s, i->seg, ea + 4, full_tag(s), 2);
        st(s, i->seg, ea + 6, env->fpip, 2);
        st(s, i->seg, ea + 8, 0, 2);
        st(s, i->seg, ea + 10, env->fpdp, 2);
        st(s, i->seg, ea + 12, 0, 2);
    } else {
        st(s, i->seg, ea, 0xffff0000u | env->fpuc, 4);
        st(s, i->seg, ea + 4, 0xffff0000u | get_fsw(s), 4);
        st(s, i->seg, ea + 8, 0xffff0000u | full_tag(s), 4);
        st(s, i->seg, ea + 12, (uint32_t)env->fpip, 4);
        st(s, i->seg, ea + 16, env->fpop & 0x7ff, 4);
        st(s, i->seg, ea + 20, (uint32_t)env->fpdp, 4);
        st(s, i->seg, ea + 24, 0xffff0000u, 4);
    }
}

static void load_env(Interp *s, const Insn *i, uint64_t ea)
{
    CPUX86State *env = s->env;
    int w = i->opsize == 2 ? 2 : 4;
    uint16_t cw = ld(s, i->seg, ea, 2);
    uint16_t sw = ld(s, i->seg, ea + w, 2);
    uint16_t tag = ld(s, i->seg, ea + 2 * w, 2);
    env->fpuc = cw;
    env->fpstt = (sw >> 11) & 7;
    env->fpus = sw & ~0x3800;
    env->fptag_abridged = 0;
    for (int r = 0; r < 8; r++) {
        if (((tag >> (2 * r)) & 3) != 3) {
            env->fptag_abridged |= 1u << r;
        }
    }
    if (env->fpus & ~env->fpuc & 0x3f) {
        env->fpus |= FPUS_ES | FPUS_B;
    } else {
        env->fpus &= ~(FPUS_ES | FPUS_B);
    }
}

static const f80 fconst[7] = {
    1.0L,
    3.32192809488736234787031942948939018L,   /* log2(10) */
    1.44269504088896340735992468100189214L,   /* log2(e) */
    3.14159265358979323846264338327950288L,   /* pi */
    0.301029995663981195213738894724493027L,  /* log10(2) */
    0.693147180559945309417232121458176568L,  /* ln(2) */
    0.0L,
};

static void fcmov(Interp *s, int op, int sub, int rm)
{
    bool c;
    switch (sub & 3) {
    case 0: c = lf_cf(s); break;
    case 1: c = lf_zf(s); break;
    case 2: c = lf_cf(s) || lf_zf(s); break;
    default: c = lf_pf(s); break;
    }
    if (op == 0xdb) {
        c = !c;
    }
    if (c) {
        set_ST(s, 0, rd(s, rm));
    }
}

/* D8..DF register forms */
static void fpu_reg(Interp *s, int op, int sub, int rm)
{
    CPUX86State *env = s->env;
    switch (op) {
    case 0xd8:
        if (sub == 2 || sub == 3) {
            fcom(s, rd(s, 0), rd(s, rm), false, false);
            if (sub == 3) {
                fpop(s);
            }
        } else {
            set_ST(s, 0, arith(s, sub, rd(s, 0), rd(s, rm)));
        }
        return;
    case 0xd9:
        switch (sub) {
        case 0: fpush(s, rd(s, rm)); return;
        case 1: {
            f80 a = rd(s, 0), b = rd(s, rm);
            set_ST(s, 0, b);
            set_ST(s, rm, a);
            env->fptag_abridged |= (1u << phys(s, 0)) | (1u << phys(s, rm));
            return;
        }
        case 2: return;   /* FNOP */
        case 3: set_ST(s, rm, rd(s, 0)); fpop(s); return;  /* FSTP1 alias */
        case 4:
            switch (rm) {
            case 0: set_ST(s, 0, -rd(s, 0)); return;
            case 1: set_ST(s, 0, fabsl(rd(s, 0))); return;
            case 4: fcom(s, rd(s, 0), 0.0L, false, false); return;
            case 5: fxam(s); return;
            }
            break;
        case 5:
            if (rm < 7) {
                fpush(s, fconst[rm]);
                return;
            }
            break;
        case 6: {
            f80 a = rd(s, 0), r;
            switch (rm) {
            case 0: fpu_begin(s); r = exp2l(a) - 1.0L; fpu_end(s); set_ST(s, 0, r); return;
            case 1: {  /* FYL2X */
                f80 b = rd(s, 1);
                fpu_begin(s); r = b * log2l(a); fpu_end(s);
                set_ST(s, 1, r); fpop(s); return;
            }
            case 2:    /* FPTAN */
                fpu_begin(s); r = tanl(a); fpu_end(s);
                set_ST(s, 0, r); fpush(s, 1.0L); env->fpus &= ~FPUS_C2; return;
            case 3: {  /* FPATAN */
                f80 b = rd(s, 1);
                fpu_begin(s); r = atan2l(b, a); fpu_end(s);
                set_ST(s, 1, r); fpop(s); return;
            }
            case 4: {  /* FXTRACT */
                int e;
                if (a == 0) {
                    set_ST(s, 0, -INFINITY);
                    fpush(s, a);
                    env->fpus |= FPUS_ZE;
                    return;
                }
                f80 m = frexpl(a, &e);
                set_ST(s, 0, (f80)(e - 1));
                fpush(s, m * 2);
                return;
            }
            case 5: {  /* FPREM1 */
                f80 b = rd(s, 1);
                int q;
                r = remquol(a, b, &q);
                set_ST(s, 0, r);
                env->fpus &= ~(FPUS_C0 | FPUS_C1 | FPUS_C2 | FPUS_C3);
                q = q < 0 ? -q : q;
                env->fpus |= ((q & 4) ? FPUS_C0 : 0) | ((q & 2) ? FPUS_C3 : 0) |
                             ((q & 1) ? FPUS_C1 : 0);
                return;
            }
            case 6: env->fpstt = (env->fpstt - 1) & 7; return;  /* FDECSTP */
            case 7: env->fpstt = (env->fpstt + 1) & 7; return;  /* FINCSTP */
            }
            break;
        }
        case 7: {
            f80 a = rd(s, 0), r;
            switch (rm) {
            case 0: {  /* FPREM */
                f80 b = rd(s, 1);
                f80 q = truncl(a / b);
                r = fmodl(a, b);
                set_ST(s, 0, r);
                long long qi = (long long)fabsl(q);
                env->fpus &= ~(FPUS_C0 | FPUS_C1 | FPUS_C2 | FPUS_C3);
                env->fpus |= ((qi & 4) ? FPUS_C0 : 0) | ((qi & 2) ? FPUS_C3 : 0) |
                             ((qi & 1) ? FPUS_C1 : 0);
                return;
            }
            case 1: {  /* FYL2XP1 */
                f80 b = rd(s, 1);
                fpu_begin(s); r = b * log1pl(a) / 0.693147180559945309417232121458176568L; fpu_end(s);
                set_ST(s, 1, r); fpop(s); return;
            }
            case 2: fpu_begin(s); r = sqrtl(a); fpu_end(s); set_ST(s, 0, r); return;
            case 3: {  /* FSINCOS */
                f80 sn, cs;
                fpu_begin(s); sn = sinl(a); cs = cosl(a); fpu_end(s);
                set_ST(s, 0, sn); fpush(s, cs); env->fpus &= ~FPUS_C2; return;
            }
            case 4: fpu_begin(s); r = rintl(a); fpu_end(s); set_ST(s, 0, r); return;
            case 5: {  /* FSCALE */
                f80 b = rd(s, 1);
                fpu_begin(s); r = scalbnl(a, (int)truncl(b < -65536 ? -65536 : b > 65536 ? 65536 : b)); fpu_end(s);
                set_ST(s, 0, r); return;
            }
            case 6: fpu_begin(s); r = sinl(a); fpu_end(s); set_ST(s, 0, r); env->fpus &= ~FPUS_C2; return;
            case 7: fpu_begin(s); r = cosl(a); fpu_end(s); set_ST(s, 0, r); env->fpus &= ~FPUS_C2; return;
            }
            break;
        }
        }
        break;
    case 0xda:
        if (sub < 4) {
            fcmov(s, op, sub, rm);
            return;
        }
        if (sub == 5 && rm == 1) {   /* FUCOMPP */
            fcom(s, rd(s, 0), rd(s, 1), true, false);
            fpop(s);
            fpop(s);
            return;
        }
        break;
    case 0xdb:
        if (sub < 4) {
            fcmov(s, op, sub, rm);
            return;
        }
        if (sub == 4) {
            switch (rm) {
            case 2: env->fpus &= ~(0x3f | FPUS_ES | FPUS_B | FPUS_SF); return; /* FNCLEX */
            case 3: fninit(s); return;
            case 0: case 1: case 4: return;  /* FENI/FDISI/FSETPM */
            }
            break;
        }
        if (sub == 5 || sub == 6) {  /* FUCOMI / FCOMI */
            fcom(s, rd(s, 0), rd(s, rm), sub == 5, true);
            return;
        }
        break;
    case 0xdc:
        if (sub == 2 || sub == 3) {
            fcom(s, rd(s, 0), rd(s, rm), false, false);
            if (sub == 3) {
                fpop(s);
            }
            return;
        }
        /* reversed destination: ST(i) = ST(i) op ST(0) */
        {
            static const int map[8] = { 0, 1, 0, 0, 5, 4, 7, 6 };
            /* operands are (ST(i), ST(0)): map[] swaps sub/subr, div/divr */
            set_ST(s, rm, arith(s, map[sub], rd(s, rm), rd(s, 0)));
        }
        return;
    case 0xdd:
        switch (sub) {
        case 0: env->fptag_abridged &= ~(1u << phys(s, rm)); return;  /* FFREE */
        case 1: {
            f80 a = rd(s, 0), b = rd(s, rm);
            set_ST(s, 0, b);
            set_ST(s, rm, a);
            return;
        }
        case 2: set_ST(s, rm, rd(s, 0)); env->fptag_abridged |= 1u << phys(s, rm); return;
        case 3: set_ST(s, rm, rd(s, 0)); env->fptag_abridged |= 1u << phys(s, rm); fpop(s); return;
        case 4: fcom(s, rd(s, 0), rd(s, rm), true, false); return;
        case 5: fcom(s, rd(s, 0), rd(s, rm), true, false); fpop(s); return;
        }
        break;
    case 0xde:
        if (sub == 3) {
            if (rm == 1) {
                fcom(s, rd(s, 0), rd(s, 1), false, false);
                fpop(s);
                fpop(s);
                return;
            }
            break;
        }
        if (sub == 2) {
            fcom(s, rd(s, 0), rd(s, rm), false, false);
            fpop(s);
            return;
        }
        {
            static const int map[8] = { 0, 1, 0, 0, 5, 4, 7, 6 };
            set_ST(s, rm, arith(s, map[sub], rd(s, rm), rd(s, 0)));
            fpop(s);
        }
        return;
    case 0xdf:
        if (sub == 4 && rm == 0) {   /* FNSTSW AX */
            set_reg(s, R_EAX, get_fsw(s), 2, false);
            return;
        }
        if (sub == 5 || sub == 6) {  /* FUCOMIP / FCOMIP */
            fcom(s, rd(s, 0), rd(s, rm), sub == 5, true);
            fpop(s);
            return;
        }
        if (sub == 0) {              /* FFREEP */
            env->fptag_abridged &= ~(1u << phys(s, rm));
            fpop(s);
            return;
        }
        break;
    }
    RAISE_UD(s);
}

static void fpu_mem(Interp *s, const Insn *i, int op, int sub)
{
    CPUX86State *env = s->env;
    uint64_t ea = insn_ea(s, i);
    switch (op) {
    case 0xd8: case 0xdc: {
        f80 m = op == 0xd8 ? ld_m32(s, i) : ld_m64(s, i);
        if (sub == 2 || sub == 3) {
            fcom(s, rd(s, 0), m, false, false);
            if (sub == 3) {
                fpop(s);
            }
        } else {
            set_ST(s, 0, arith(s, sub, rd(s, 0), m));
        }
        return;
    }
    case 0xda: case 0xde: {
        int64_t v = op == 0xda ? (int32_t)ld(s, i->seg, ea, 4) : (int16_t)ld(s, i->seg, ea, 2);
        f80 m = (f80)v;
        if (sub == 2 || sub == 3) {
            fcom(s, rd(s, 0), m, false, false);
            if (sub == 3) {
                fpop(s);
            }
        } else {
            set_ST(s, 0, arith(s, sub, rd(s, 0), m));
        }
        return;
    }
    case 0xd9:
        switch (sub) {
        case 0: fpush(s, ld_m32(s, i)); return;
        case 2: case 3: {
            f80 v = rd(s, 0);
            fpu_begin(s);
            volatile float f = (float)v;
            fpu_end(s);
            float ff = f;
            uint32_t u;
            memcpy(&u, &ff, 4);
            st(s, i->seg, ea, u, 4);
            if (sub == 3) {
                fpop(s);
            }
            return;
        }
        case 4: load_env(s, i, ea); return;
        case 5: env->fpuc = ld(s, i->seg, ea, 2) | 0x40; return;
        case 6: store_env(s, i, ea); env->fpuc |= 0x3f; return;
        case 7: st(s, i->seg, ea, env->fpuc, 2); return;
        }
        break;
    case 0xdb:
        switch (sub) {
        case 0: fpush(s, (f80)(int32_t)ld(s, i->seg, ea, 4)); return;
        case 1: st(s, i->seg, ea, (uint32_t)to_int(s, rd(s, 0), 32, true), 4); fpop(s); return;
        case 2: st(s, i->seg, ea, (uint32_t)to_int(s, rd(s, 0), 32, false), 4); return;
        case 3: st(s, i->seg, ea, (uint32_t)to_int(s, rd(s, 0), 32, false), 4); fpop(s); return;
        case 5: fpush(s, ld_m80(s, ea, i->seg)); return;
        case 7: st_m80(s, ea, i->seg, rd(s, 0)); fpop(s); return;
        }
        break;
    case 0xdd:
        switch (sub) {
        case 0: fpush(s, ld_m64(s, i)); return;
        case 1: st(s, i->seg, ea, (uint64_t)to_int(s, rd(s, 0), 64, true), 8); fpop(s); return;
        case 2: case 3: {
            f80 v = rd(s, 0);
            fpu_begin(s);
            volatile double d = (double)v;
            fpu_end(s);
            double dd = d;
            uint64_t u;
            memcpy(&u, &dd, 8);
            st(s, i->seg, ea, u, 8);
            if (sub == 3) {
                fpop(s);
            }
            return;
        }
        case 4: {  /* FRSTOR */
            int envsz = i->opsize == 2 ? 14 : 28;
            FPReg regs[8];
            for (int k = 0; k < 8; k++) {
                regs[k].mant = ld(s, i->seg, ea + envsz + k * 10, 8);
                regs[k].exp = ld(s, i->seg, ea + envsz + k * 10 + 8, 2);
            }
            load_env(s, i, ea);
            for (int k = 0; k < 8; k++) {
                env->fpregs[(env->fpstt + k) & 7] = regs[k];
            }
            return;
        }
        case 6: {  /* FNSAVE */
            int envsz = i->opsize == 2 ? 14 : 28;
            seg_linear(s, i->seg, ea, envsz + 80, ACC_W);
            store_env(s, i, ea);
            for (int k = 0; k < 8; k++) {
                FPReg *r = &env->fpregs[(env->fpstt + k) & 7];
                st(s, i->seg, ea + envsz + k * 10, r->mant, 8);
                st(s, i->seg, ea + envsz + k * 10 + 8, r->exp, 2);
            }
            fninit(s);
            return;
        }
        case 7: st(s, i->seg, ea, get_fsw(s), 2); return;
        }
        break;
    case 0xdf:
        switch (sub) {
        case 0: fpush(s, (f80)(int16_t)ld(s, i->seg, ea, 2)); return;
        case 1: st(s, i->seg, ea, (uint16_t)to_int(s, rd(s, 0), 16, true), 2); fpop(s); return;
        case 2: st(s, i->seg, ea, (uint16_t)to_int(s, rd(s, 0), 16, false), 2); return;
        case 3: st(s, i->seg, ea, (uint16_t)to_int(s, rd(s, 0), 16, false), 2); fpop(s); return;
        case 5: fpush(s, (f80)(int64_t)ld(s, i->seg, ea, 8)); return;
        case 7: st(s, i->seg, ea, (uint64_t)to_int(s, rd(s, 0), 64, false), 8); fpop(s); return;
        case 4: case 6: {  /* FBLD / FBSTP: packed BCD */
            if (sub == 4) {
                uint64_t lo = ld(s, i->seg, ea, 8);
                uint16_t hi = ld(s, i->seg, ea + 8, 2);
                f80 v = 0;
                for (int d = 17; d >= 0; d--) {
                    int byte = d / 2;
                    unsigned b = byte < 8 ? (lo >> (8 * byte)) & 0xff : hi & 0xff;
                    v = v * 10 + ((d & 1) ? b >> 4 : b & 15);
                }
                fpush(s, (hi & 0x8000) ? -v : v);
            } else {
                f80 v = rd(s, 0);
                bool neg = signbit(v);
                uint64_t n = (uint64_t)fabsl(rintl(v));
                uint64_t lo = 0;
                uint16_t hi = neg ? 0x8000 : 0;
                for (int d = 0; d < 18; d++) {
                    unsigned dig = n % 10;
                    n /= 10;
                    if (d < 16) {
                        lo |= (uint64_t)dig << (4 * d);
                    } else {
                        hi |= dig << (4 * (d - 16));
                    }
                }
                seg_linear(s, i->seg, ea, 10, ACC_W);
                st(s, i->seg, ea, lo, 8);
                st(s, i->seg, ea + 8, hi, 2);
                fpop(s);
            }
            return;
        }
        }
        break;
    }
    RAISE_UD(s);
}

static HANDLER(h_fpu)
{
    CPUX86State *env = s->env;
    int op = i->op;
    int sub = i->reg & 7;
    fpu_check(s);
    /* control instructions that do not check pending exceptions */
    bool nowait = (op == 0xdb && i->mod == 3 && sub == 4 && (i->rm & 7) <= 4) ||
                  (op == 0xd9 && i->mod != 3 && (sub == 6 || sub == 7 || sub == 4 || sub == 5)) ||
                  (op == 0xdd && i->mod != 3 && (sub == 6 || sub == 7 || sub == 4)) ||
                  (op == 0xdf && i->mod == 3 && sub == 4);
    if (!nowait) {
        fpu_pending(s);
    }
    if (i->mod == 3) {
        fpu_reg(s, op, sub, i->rm & 7);
    } else {
        fpu_mem(s, i, op, sub);
        env->fpdp = insn_ea(s, i);
    }
    if (!(op == 0xd9 && i->mod != 3 && sub >= 4) && !(op == 0xdd && i->mod != 3 && sub >= 4)) {
        env->fpip = s->start_rip;
        env->fpop = ((op & 7) << 8) | (i->mod << 6) | ((i->reg & 7) << 3) | (i->rm & 7);
    }
}
FAM1(FPU, h_fpu);

/* ---- FXSAVE / FXRSTOR / MXCSR ---- */
void sse_check(Interp *s)
{
    CPUX86State *env = s->env;
    if ((env->cr[0] & CR0_EM) || !(env->cr[4] & CR4_OSFXSR)) {
        RAISE_UD(s);
    }
    if (env->cr[0] & CR0_TS) {
        raise_exception_noerr(s, EXCP07_PREX);
    }
}

static HANDLER(h_fxsave)
{
    CPUX86State *env = s->env;
    if (env->cr[0] & (CR0_TS | CR0_EM)) {
        raise_exception_noerr(s, (env->cr[0] & CR0_EM) ? EXCP06_ILLOP : EXCP07_PREX);
    }
    uint64_t ea = insn_ea(s, i);
    if (ea & 15) {
        RAISE_GP(s, 0);
    }
    uint8_t buf[512];
    memset(buf, 0, sizeof(buf));
    uint16_t fsw = get_fsw(s);
    uint16_t fop = env->fpop;
    memcpy(buf + 0, &env->fpuc, 2);
    memcpy(buf + 2, &fsw, 2);
    buf[4] = env->fptag_abridged;
    memcpy(buf + 6, &fop, 2);
    if (i->flags & IF_REXW) {
        memcpy(buf + 8, &env->fpip, 8);
        memcpy(buf + 16, &env->fpdp, 8);
    } else {
        uint32_t ip = env->fpip, dp = env->fpdp;
        memcpy(buf + 8, &ip, 4);
        memcpy(buf + 16, &dp, 4);
    }
    memcpy(buf + 24, &env->mxcsr, 4);
    uint32_t mask = 0xffff;
    memcpy(buf + 28, &mask, 4);
    for (int k = 0; k < 8; k++) {
        FPReg *r = &env->fpregs[(env->fpstt + k) & 7];
        memcpy(buf + 32 + 16 * k, &r->mant, 8);
        memcpy(buf + 40 + 16 * k, &r->exp, 2);
    }
    int nx = s->code64 ? 16 : 8;
    if (env->cr[4] & CR4_OSFXSR) {
        memcpy(buf + 160, env->xmm, 16 * nx);
    }
    uint64_t la = seg_linear(s, i->seg, ea, 512, ACC_W);
    mem_write_bytes(s, la, buf, 512, s->cpl == 3);
}
FAM1(FXSAVE, h_fxsave);

static HANDLER(h_fxrstor)
{
    CPUX86State *env = s->env;
    if (env->cr[0] & (CR0_TS | CR0_EM)) {
        raise_exception_noerr(s, (env->cr[0] & CR0_EM) ? EXCP06_ILLOP : EXCP07_PREX);
    }
    uint64_t ea = insn_ea(s, i);
    if (ea & 15) {
        RAISE_GP(s, 0);
    }
    uint8_t buf[512];
    uint64_t la = seg_linear(s, i->seg, ea, 512, ACC_R);
    mem_read_bytes(s, la, buf, 512, s->cpl == 3);
    uint32_t mx;
    memcpy(&mx, buf + 24, 4);
    if (mx & ~0xffffu) {
        RAISE_GP(s, 0);
    }
    uint16_t fsw;
    memcpy(&env->fpuc, buf, 2);
    memcpy(&fsw, buf + 2, 2);
    env->fpstt = (fsw >> 11) & 7;
    env->fpus = fsw & ~0x3800;
    env->fptag_abridged = buf[4];
    memcpy(&env->fpop, buf + 6, 2);
    if (i->flags & IF_REXW) {
        memcpy(&env->fpip, buf + 8, 8);
        memcpy(&env->fpdp, buf + 16, 8);
    } else {
        uint32_t ip, dp;
        memcpy(&ip, buf + 8, 4);
        memcpy(&dp, buf + 16, 4);
        env->fpip = ip;
        env->fpdp = dp;
    }
    for (int k = 0; k < 8; k++) {
        FPReg *r = &env->fpregs[(env->fpstt + k) & 7];
        memcpy(&r->mant, buf + 32 + 16 * k, 8);
        memcpy(&r->exp, buf + 40 + 16 * k, 2);
    }
    if (env->cr[4] & CR4_OSFXSR) {
        env->mxcsr = mx;
        memcpy(env->xmm, buf + 160, 16 * (s->code64 ? 16 : 8));
    }
}
FAM1(FXRSTOR, h_fxrstor);

static HANDLER(h_ldmxcsr)
{
    sse_check(s);
    uint32_t v = ld(s, i->seg, insn_ea(s, i), 4);
    if (v & ~0xffffu) {
        RAISE_GP(s, 0);
    }
    s->env->mxcsr = v;
}
FAM1(LDMXCSR, h_ldmxcsr);

static HANDLER(h_stmxcsr)
{
    sse_check(s);
    st(s, i->seg, insn_ea(s, i), s->env->mxcsr, 4);
}
FAM1(STMXCSR, h_stmxcsr);
