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
    s->env->fptag_abridged |= 1u << phys(s, i);
}

static inline bool st_valid(Interp *s, int i)
{
    return (s->env->fptag_abridged >> phys(s, i)) & 1;
}

/* ---- host x87 execution ----
 * Every arithmetic step runs as one host x87 instruction inside a single
 * asm statement that also loads the guest's rounding/precision control
 * (exceptions masked) and reads back the status word, so results, flags
 * and condition codes are exactly the hardware's. */
typedef struct HostFpu {
    uint16_t cw;       /* guest RC/PC, all exceptions masked */
    uint16_t hcw;      /* host control word to restore */
    uint16_t sw;       /* host status after the operation */
} HostFpu;

#define XPRE  "fnstcw %[hcw]\n\tfldcw %[cw]\n\tfnclex\n\t"
#define XPOST "\n\tfnstsw %[sw]\n\tfldcw %[hcw]"
#define XOUT  [sw] "=m"(h.sw), [hcw] "=m"(h.hcw)
#define XIN   [cw] "m"(h.cw)

static inline HostFpu hf_init(Interp *s)
{
    HostFpu h;
    h.cw = (s->env->fpuc & 0x0f00) | 0x3f;
    h.hcw = 0x37f;
    h.sw = 0;
    return h;
}

/* Merge the exception flags (and C1 "rounded up") of a host op. */
static void hf_done(Interp *s, const HostFpu *h, uint16_t cmask)
{
    CPUX86State *env = s->env;
    env->fpus |= h->sw & 0x3f;
    env->fpus = (env->fpus & ~cmask) | (h->sw & cmask);
    if (env->fpus & ~env->fpuc & 0x3f) {
        env->fpus |= FPUS_ES | FPUS_B;
    }
}

#define CC_ALL (FPUS_C0 | FPUS_C1 | FPUS_C2 | FPUS_C3)

/* binary: op(st0=a, st1=b) -> new st0 */
enum { XB_ADD, XB_MUL, XB_SUB, XB_SUBR, XB_DIV, XB_DIVR, XB_SCALE, XB_PREM, XB_PREM1 };

static f80 host_bin(Interp *s, int op, f80 a, f80 b)
{
    HostFpu h = hf_init(s);
    f80 r;
    switch (op) {
    case XB_ADD:
        __asm__ volatile(XPRE "fadd %%st(1), %%st" XPOST : "=t"(r), XOUT : "0"(a), "u"(b), XIN);
        break;
    case XB_MUL:
        __asm__ volatile(XPRE "fmul %%st(1), %%st" XPOST : "=t"(r), XOUT : "0"(a), "u"(b), XIN);
        break;
    case XB_SUB:
        __asm__ volatile(XPRE "fsub %%st(1), %%st" XPOST : "=t"(r), XOUT : "0"(a), "u"(b), XIN);
        break;
    case XB_SUBR:
        __asm__ volatile(XPRE "fsubr %%st(1), %%st" XPOST : "=t"(r), XOUT : "0"(a), "u"(b), XIN);
        break;
    case XB_DIV:
        __asm__ volatile(XPRE "fdiv %%st(1), %%st" XPOST : "=t"(r), XOUT : "0"(a), "u"(b), XIN);
        break;
    case XB_DIVR:
        __asm__ volatile(XPRE "fdivr %%st(1), %%st" XPOST : "=t"(r), XOUT : "0"(a), "u"(b), XIN);
        break;
    case XB_SCALE:
        __asm__ volatile(XPRE "fscale" XPOST : "=t"(r), XOUT : "0"(a), "u"(b), XIN);
        break;
    case XB_PREM:
        __asm__ volatile(XPRE "fprem" XPOST : "=t"(r), XOUT : "0"(a), "u"(b), XIN);
        /* invalid operands leave the condition codes alone */
        hf_done(s, &h, ((h.sw & FPUS_IE) || isnan(a) || isnan(b)) ? 0 : CC_ALL);
        return r;
    default:
        __asm__ volatile(XPRE "fprem1" XPOST : "=t"(r), XOUT : "0"(a), "u"(b), XIN);
        /* invalid operands leave the condition codes alone */
        hf_done(s, &h, ((h.sw & FPUS_IE) || isnan(a) || isnan(b)) ? 0 : CC_ALL);
        return r;
    }
    hf_done(s, &h, FPUS_C1);
    return r;
}

/* binary that pops: result replaces st1 (fyl2x, fyl2xp1, fpatan) */
enum { XP_YL2X, XP_YL2XP1, XP_PATAN };

static f80 host_binpop(Interp *s, int op, f80 x, f80 y)
{
    HostFpu h = hf_init(s);
    f80 r;
    switch (op) {
    case XP_YL2X:
        __asm__ volatile(XPRE "fyl2x" XPOST : "=t"(r), XOUT : "0"(x), "u"(y), XIN : "st(1)");
        break;
    case XP_YL2XP1:
        __asm__ volatile(XPRE "fyl2xp1" XPOST : "=t"(r), XOUT : "0"(x), "u"(y), XIN : "st(1)");
        break;
    default:
        __asm__ volatile(XPRE "fpatan" XPOST : "=t"(r), XOUT : "0"(x), "u"(y), XIN : "st(1)");
        break;
    }
    hf_done(s, &h, FPUS_C1);
    return r;
}

enum { XU_SQRT, XU_RNDINT, XU_F2XM1, XU_SIN, XU_COS };

static f80 host_un(Interp *s, int op, f80 a)
{
    HostFpu h = hf_init(s);
    f80 r;
    switch (op) {
    case XU_SQRT:
        __asm__ volatile(XPRE "fsqrt" XPOST : "=t"(r), XOUT : "0"(a), XIN);
        break;
    case XU_RNDINT:
        __asm__ volatile(XPRE "frndint" XPOST : "=t"(r), XOUT : "0"(a), XIN);
        break;
    case XU_F2XM1:
        __asm__ volatile(XPRE "f2xm1" XPOST : "=t"(r), XOUT : "0"(a), XIN);
        break;
    case XU_SIN:
        __asm__ volatile(XPRE "fsin" XPOST : "=t"(r), XOUT : "0"(a), XIN);
        hf_done(s, &h, FPUS_C1 | FPUS_C2);
        return r;
    default:
        __asm__ volatile(XPRE "fcos" XPOST : "=t"(r), XOUT : "0"(a), XIN);
        hf_done(s, &h, FPUS_C1 | FPUS_C2);
        return r;
    }
    hf_done(s, &h, FPUS_C1);
    return r;
}

/* unary producing two values: *lo = new st1 (replaces a), return = new st0 */
enum { XT_XTRACT, XT_SINCOS, XT_PTAN };

static f80 host_two(Interp *s, int op, f80 a, f80 *lo)
{
    HostFpu h = hf_init(s);
    f80 top, below;
    switch (op) {
    case XT_XTRACT:
        __asm__ volatile(XPRE "fxtract" XPOST : "=t"(top), "=u"(below), XOUT : "0"(a), XIN);
        break;
    case XT_SINCOS:
        __asm__ volatile(XPRE "fsincos" XPOST : "=t"(top), "=u"(below), XOUT : "0"(a), XIN);
        break;
    default:
        __asm__ volatile(XPRE "fptan" XPOST : "=t"(top), "=u"(below), XOUT : "0"(a), XIN);
        break;
    }
    hf_done(s, &h, FPUS_C1 | FPUS_C2);
    *lo = below;
    return top;
}

/* compare a (st0) with b: returns the host status word C0/C2/C3 */
static uint16_t host_cmp(Interp *s, f80 a, f80 b, bool unordered)
{
    HostFpu h = hf_init(s);
    if (unordered) {
        __asm__ volatile(XPRE "fucom %%st(1)" XPOST : XOUT : "t"(a), "u"(b), XIN);
    } else {
        __asm__ volatile(XPRE "fcom %%st(1)" XPOST : XOUT : "t"(a), "u"(b), XIN);
    }
    hf_done(s, &h, 0);
    return h.sw & (FPUS_C0 | FPUS_C2 | FPUS_C3);
}

/* x87 arithmetic/compare with a memory operand, exactly as the hardware
 * does it (kind: 0 m32fp, 1 m64fp, 2 m32int, 3 m16int). For compares the
 * condition codes go to *cc and a is returned unchanged. */
#define XM(insn, T) \
    __asm__ volatile(XPRE insn " %[m]" XPOST : "=t"(r), XOUT : "0"(a), [m] "m"(*(const T *)mem), XIN)
#define XM_CASES(P, S, T)                                                 \
    switch (op) {                                                         \
    case 0: XM(P "add" S, T); break;                                      \
    case 1: XM(P "mul" S, T); break;                                      \
    case 2: case 3: XM(P "com" S, T); break;                              \
    case 4: XM(P "sub" S, T); break;                                      \
    case 5: XM(P "subr" S, T); break;                                     \
    case 6: XM(P "div" S, T); break;                                      \
    default: XM(P "divr" S, T); break;                                    \
    }

static f80 host_binm(Interp *s, int op, int kind, f80 a, const void *mem, uint16_t *cc)
{
    HostFpu h = hf_init(s);
    f80 r;
    switch (kind) {
    case 0: XM_CASES("f", "s", uint32_t) break;
    case 1: XM_CASES("f", "l", uint64_t) break;
    case 2: XM_CASES("fi", "l", uint32_t) break;
    default: XM_CASES("fi", "s", uint16_t) break;
    }
    if (op == 2 || op == 3) {
        hf_done(s, &h, 0);
        *cc = h.sw & (FPUS_C0 | FPUS_C2 | FPUS_C3);
        return a;
    }
    hf_done(s, &h, FPUS_C1);
    return r;
}

static f80 host_const(Interp *s, int k)
{
    HostFpu h = hf_init(s);
    f80 r;
    switch (k) {
    case 0: __asm__ volatile(XPRE "fld1" XPOST : "=t"(r), XOUT : XIN); break;
    case 1: __asm__ volatile(XPRE "fldl2t" XPOST : "=t"(r), XOUT : XIN); break;
    case 2: __asm__ volatile(XPRE "fldl2e" XPOST : "=t"(r), XOUT : XIN); break;
    case 3: __asm__ volatile(XPRE "fldpi" XPOST : "=t"(r), XOUT : XIN); break;
    case 4: __asm__ volatile(XPRE "fldlg2" XPOST : "=t"(r), XOUT : XIN); break;
    case 5: __asm__ volatile(XPRE "fldln2" XPOST : "=t"(r), XOUT : XIN); break;
    default: __asm__ volatile(XPRE "fldz" XPOST : "=t"(r), XOUT : XIN); break;
    }
    return r;
}

/* memory format conversions */
static f80 host_ld32(Interp *s, uint32_t v)
{
    HostFpu h = hf_init(s);
    f80 r;
    __asm__ volatile(XPRE "flds %[m]" XPOST : "=t"(r), XOUT : [m] "m"(v), XIN);
    hf_done(s, &h, 0);
    return r;
}

static f80 host_ld64(Interp *s, uint64_t v)
{
    HostFpu h = hf_init(s);
    f80 r;
    __asm__ volatile(XPRE "fldl %[m]" XPOST : "=t"(r), XOUT : [m] "m"(v), XIN);
    hf_done(s, &h, 0);
    return r;
}

static uint32_t host_st32(Interp *s, f80 a)
{
    HostFpu h = hf_init(s);
    uint32_t v;
    __asm__ volatile(XPRE "fsts %[m]" XPOST : [m] "=m"(v), XOUT : "t"(a), XIN);
    hf_done(s, &h, FPUS_C1);
    return v;
}

static uint64_t host_st64(Interp *s, f80 a)
{
    HostFpu h = hf_init(s);
    uint64_t v;
    __asm__ volatile(XPRE "fstl %[m]" XPOST : [m] "=m"(v), XOUT : "t"(a), XIN);
    hf_done(s, &h, FPUS_C1);
    return v;
}

/* integer stores: bits 16/32/64, trunc = FISTTP */
static int64_t host_ist(Interp *s, f80 a, int bits, bool trunc)
{
    HostFpu h = hf_init(s);
    int64_t v = 0;
    int16_t v16;
    int32_t v32;
    if (bits == 16) {
        if (trunc) {
            __asm__ volatile(XPRE "fld %%st\n\tfisttps %[m]" XPOST : [m] "=m"(v16), XOUT : "t"(a), XIN);
        } else {
            __asm__ volatile(XPRE "fists %[m]" XPOST : [m] "=m"(v16), XOUT : "t"(a), XIN);
        }
        v = v16;
    } else if (bits == 32) {
        if (trunc) {
            __asm__ volatile(XPRE "fld %%st\n\tfisttpl %[m]" XPOST : [m] "=m"(v32), XOUT : "t"(a), XIN);
        } else {
            __asm__ volatile(XPRE "fistl %[m]" XPOST : [m] "=m"(v32), XOUT : "t"(a), XIN);
        }
        v = v32;
    } else {
        if (trunc) {
            __asm__ volatile(XPRE "fld %%st\n\tfisttpll %[m]" XPOST : [m] "=m"(v), XOUT : "t"(a), XIN);
        } else {
            __asm__ volatile(XPRE "fld %%st\n\tfistpll %[m]" XPOST : [m] "=m"(v), XOUT : "t"(a), XIN);
        }
    }
    hf_done(s, &h, FPUS_C1);
    return v;
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

static f80 indefinite(void)
{
    FPReg r = { 0xc000000000000000ull, 0xffff };
    return reg_get(&r);
}

/* Are ST(a) and ST(b) both valid? If not: stack underflow (IE|SF). */
static bool valid2(Interp *s, int a, int b)
{
    if (st_valid(s, a) && st_valid(s, b)) {
        return true;
    }
    stack_fault(s, false);
    return false;
}

static void set_unordered(Interp *s)
{
    s->env->fpus |= FPUS_C0 | FPUS_C2 | FPUS_C3;
    s->env->fpus &= ~FPUS_C1;
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
    return host_ld32(s, ld_ea(s, i, 4));
}

static f80 ld_m64(Interp *s, const Insn *i)
{
    return host_ld64(s, ld_ea(s, i, 8));
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
    return host_ist(s, v, bits, trunc);
}

/* guest arithmetic op (ModRM reg field order) on a (dest) and b (src) */
static f80 arith(Interp *s, int op, f80 a, f80 b)
{
    static const int map[8] = { XB_ADD, XB_MUL, 0, 0, XB_SUB, XB_SUBR, XB_DIV, XB_DIVR };
    return host_bin(s, map[op], a, b);
}

/* compare: sets C0/C2/C3 (or ZF/PF/CF for FCOMI) */
static void fcom(Interp *s, f80 a, f80 b, bool unordered_ok, bool eflags)
{
    CPUX86State *env = s->env;
    uint16_t c = host_cmp(s, a, b, unordered_ok);
    if (eflags) {
        uint32_t fl = lf_get(s) & ~(CC_Z | CC_P | CC_C | CC_O | CC_S | CC_A);
        fl |= (c & FPUS_C0 ? CC_C : 0) | (c & FPUS_C2 ? CC_P : 0) | (c & FPUS_C3 ? CC_Z : 0);
        lf_set(s, fl);
        env->fpus &= ~FPUS_C1;
    } else {
        env->fpus &= ~(FPUS_C0 | FPUS_C1 | FPUS_C2 | FPUS_C3);
        env->fpus |= c;
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
            if (valid2(s, 0, rm)) {
                fcom(s, ST(s, 0), ST(s, rm), false, false);
            } else {
                set_unordered(s);
            }
            if (sub == 3) {
                fpop(s);
            }
        } else {
            set_ST(s, 0, valid2(s, 0, rm) ? arith(s, sub, ST(s, 0), ST(s, rm)) : indefinite());
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
                fpush(s, host_const(s, rm));
                return;
            }
            break;
        case 6: {
            f80 a = rd(s, 0), r, lo;
            switch (rm) {
            case 0: set_ST(s, 0, host_un(s, XU_F2XM1, a)); return;
            case 1: r = host_binpop(s, XP_YL2X, a, rd(s, 1)); fpop(s); set_ST(s, 0, r); return;
            case 2:
                r = host_two(s, XT_PTAN, a, &lo);
                set_ST(s, 0, lo);
                if (!(env->fpus & FPUS_C2)) {
                    fpush(s, r);
                }
                return;
            case 3: r = host_binpop(s, XP_PATAN, a, rd(s, 1)); fpop(s); set_ST(s, 0, r); return;
            case 4: r = host_two(s, XT_XTRACT, a, &lo); set_ST(s, 0, lo); fpush(s, r); return;
            case 5: set_ST(s, 0, host_bin(s, XB_PREM1, a, rd(s, 1))); return;
            case 6: env->fpstt = (env->fpstt - 1) & 7; env->fpus &= ~FPUS_C1; return;
            case 7: env->fpstt = (env->fpstt + 1) & 7; env->fpus &= ~FPUS_C1; return;
            }
            break;
        }
        case 7: {
            f80 a = rd(s, 0), r, lo;
            switch (rm) {
            case 0: set_ST(s, 0, host_bin(s, XB_PREM, a, rd(s, 1))); return;
            case 1: r = host_binpop(s, XP_YL2XP1, a, rd(s, 1)); fpop(s); set_ST(s, 0, r); return;
            case 2: set_ST(s, 0, host_un(s, XU_SQRT, a)); return;
            case 3:
                r = host_two(s, XT_SINCOS, a, &lo);
                set_ST(s, 0, lo);
                if (!(env->fpus & FPUS_C2)) {
                    fpush(s, r);
                }
                return;
            case 4: set_ST(s, 0, host_un(s, XU_RNDINT, a)); return;
            case 5: set_ST(s, 0, host_bin(s, XB_SCALE, a, rd(s, 1))); return;
            case 6: set_ST(s, 0, host_un(s, XU_SIN, a)); return;
            case 7: set_ST(s, 0, host_un(s, XU_COS, a)); return;
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
            set_ST(s, rm, valid2(s, 0, rm) ? arith(s, map[sub], ST(s, rm), ST(s, 0)) : indefinite());
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
            set_ST(s, rm, valid2(s, 0, rm) ? arith(s, map[sub], ST(s, rm), ST(s, 0)) : indefinite());
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
    case 0xd8: case 0xdc: case 0xda: case 0xde: {
        int kind = op == 0xd8 ? 0 : op == 0xdc ? 1 : op == 0xda ? 2 : 3;
        static const int msz[4] = { 4, 8, 4, 2 };
        uint64_t mv = ld(s, i->seg, ea, msz[kind]);
        uint16_t cc = 0;
        if (!st_valid(s, 0)) {
            stack_fault(s, false);
            if (sub == 2 || sub == 3) {
                set_unordered(s);
            } else {
                set_ST(s, 0, indefinite());
            }
        } else if (sub == 2 || sub == 3) {
            host_binm(s, sub, kind, ST(s, 0), &mv, &cc);
            env->fpus = (env->fpus & ~(FPUS_C0 | FPUS_C1 | FPUS_C2 | FPUS_C3)) | cc;
        } else {
            set_ST(s, 0, host_binm(s, sub, kind, ST(s, 0), &mv, &cc));
        }
        if (sub == 3) {
            fpop(s);
        }
        return;
    }
    case 0xd9:
        switch (sub) {
        case 0: fpush(s, ld_m32(s, i)); return;
        case 2: case 3: {
            f80 v = rd(s, 0);
            seg_linear(s, i->seg, ea, 4, ACC_W);
            uint32_t u = host_st32(s, v);
            st(s, i->seg, ea, u, 4);
            if (sub == 3) {
                fpop(s);
            }
            return;
        }
        case 4: load_env(s, i, ea); return;
        case 5: env->fpuc = (ld(s, i->seg, ea, 2) & 0x1f3f) | 0x40; return;
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
            seg_linear(s, i->seg, ea, 8, ACC_W);
            uint64_t u = host_st64(s, v);
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
    uint32_t v = ld_ea(s, i, 4);
    if (v & ~0xffffu) {
        RAISE_GP(s, 0);
    }
    s->env->mxcsr = v;
}
FAM1(LDMXCSR, h_ldmxcsr);

static HANDLER(h_stmxcsr)
{
    sse_check(s);
    st_ea(s, i, s->env->mxcsr, 4);
}
FAM1(STMXCSR, h_stmxcsr);
