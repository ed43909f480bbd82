/*
 * SSE/SSE2/SSE3/SSSE3 and MMX instructions (rows in insn-sse.def): moves,
 * integer SIMD on MMX (no prefix) and XMM (66) registers, scalar/packed
 * single and double arithmetic, compares, conversions, shuffles.
 * Float operations run on the host's SSE unit with the guest MXCSR loaded
 * (exceptions masked), so rounding, DAZ/FTZ and NaN rules are the
 * hardware's; the raised flags are merged back into the guest MXCSR.
 * Spec: Intel SDM vol. 2 (per instruction), vol. 1 chapters 9-12.
 * Locking: vCPU thread only.
 */
#include <math.h>
#include <x86intrin.h>
#include "interp.h"
#include "flags.h"

typedef union V {
    uint8_t b[16];
    int8_t sb[16];
    uint16_t w[8];
    int16_t sw[8];
    uint32_t l[4];
    int32_t sl[4];
    uint64_t q[2];
    int64_t sq[2];
    float f[4];
    double d[2];
} V;

#define REX (i->flags & IF_REX)

/* ---- register access ---- */
static inline bool is_xmm(const Insn *i)
{
    return i->pfx == 1;          /* 66: XMM form of an MMX-capable op */
}

static void mmx_enter(Interp *s)
{
    CPUX86State *env = s->env;
    fpu_check(s);
    env->fpstt = 0;
    env->fptag_abridged = 0xff;
}

static void vreg_get(Interp *s, int r, bool xmm, V *v)
{
    if (xmm) {
        memcpy(v, &s->env->xmm[r], 16);
    } else {
        v->q[0] = s->env->fpregs[r & 7].mant;
        v->q[1] = 0;
    }
}

static void vreg_put(Interp *s, int r, bool xmm, const V *v)
{
    if (xmm) {
        memcpy(&s->env->xmm[r], v, 16);
    } else {
        s->env->fpregs[r & 7].mant = v->q[0];
        s->env->fpregs[r & 7].exp = 0xffff;
    }
}

/* Source operand: register or memory of n bytes; align16: #GP if not. */
static void src_get(Interp *s, const Insn *i, bool xmm, V *v, int n, bool align16)
{
    if (i->flags & IF_MEM) {
        uint64_t ea = insn_ea(s, i);
        if (align16 && (ea & 15)) {
            RAISE_GP(s, 0);
        }
        memset(v, 0, sizeof(*v));
        uint64_t la = seg_linear(s, i->seg, ea, n, ACC_R);
        if (n == 16) {
            v->q[0] = lin_ld(s, la, 8);
            v->q[1] = lin_ld(s, (la + 8) & s->la_mask, 8);
        } else {
            v->q[0] = lin_ld(s, la, n);
        }
    } else {
        vreg_get(s, i->rm, xmm, v);
    }
}

static void mem_put(Interp *s, const Insn *i, const V *v, int n, bool align16)
{
    uint64_t ea = insn_ea(s, i);
    if (align16 && (ea & 15)) {
        RAISE_GP(s, 0);
    }
    uint64_t la = seg_linear(s, i->seg, ea, n, ACC_W);
    if (n == 16) {
        mem_write_bytes(s, la, v, 16, s->cpl == 3);
    } else {
        lin_st(s, la, v->q[0] & size_mask(n), n);
    }
}

static void enter(Interp *s, const Insn *i, bool xmm)
{
    (void)i;
    if (xmm) {
        sse_check(s);
    } else {
        mmx_enter(s);
    }
}

/* ---- host MXCSR around float ops ----
 * The op runs under the guest's rounding/FTZ/DAZ with every exception
 * masked; the flags it raises are ORed into the guest's. LDMXCSR is slow,
 * so the host MXCSR is only switched when its control bits differ from
 * that (and put back afterwards), or when it holds flags the guest does not
 * have (then they are cleared and the guest's control stays loaded, which
 * is the host's own when they matched). Flags are sticky, so once the
 * host's flags are a subset of the guest's, they can simply stay. */
static __thread uint32_t fp_restore;   /* host MXCSR to put back, 0: none */

static inline void fp_begin(Interp *s)
{
    uint32_t want = (s->env->mxcsr & ~0x3fu) | 0x1f80;
    uint32_t h = _mm_getcsr();
    fp_restore = 0;
    if ((h & ~0x3fu) != want) {
        fp_restore = h;
        _mm_setcsr(want);
    } else if (h & 0x3f & ~s->env->mxcsr) {
        _mm_setcsr(want);
    }
}

static inline void fp_end(Interp *s)
{
    uint32_t m = _mm_getcsr();
    s->env->mxcsr |= m & 0x3f;
    if (fp_restore) {
        _mm_setcsr(fp_restore);
    }
}

/* ================= integer SIMD ================= */
typedef void VecOp(V *d, const V *a, int n);

static void ssse3_check(Interp *s)
{
    if (!ihook_has_feature(s->env, FEAT_1_ECX, 1u << 9)) {
        RAISE_UD(s);
    }
}

static void vec_binop(Interp *s, const Insn *i, VecOp *op)
{
    bool xmm = is_xmm(i);
    if (i->op < 0x20 && i->op != 0x14 && i->op != 0x15) {
        /* 0F 38 map (PSHUFB, PABSx) */
        ssse3_check(s);
    }
    if (i->pfx >= 2) {
        RAISE_UD(s);
    }
    enter(s, i, xmm);
    int n = xmm ? 16 : 8;
    V d, a;
    src_get(s, i, xmm, &a, n, xmm);
    vreg_get(s, i->reg, xmm, &d);
    op(&d, &a, n);
    vreg_put(s, i->reg, xmm, &d);
}

#define VOP(name, body)                                                       \
    static void vop_##name(V *d, const V *a, int n)                           \
    {                                                                         \
        (void)n;                                                              \
        V r = *d;                                                             \
        body;                                                                 \
        *d = r;                                                               \
    }                                                                         \
    static HANDLER(h_##name) { vec_binop(s, i, vop_##name); }                 \
    FAM1(name, h_##name);

static inline int16_t sat16(int v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }
static inline int8_t sat8(int v) { return v > 127 ? 127 : v < -128 ? -128 : v; }
static inline uint8_t usat8(int v) { return v > 255 ? 255 : v < 0 ? 0 : v; }
static inline uint16_t usat16(int v) { return v > 65535 ? 65535 : v < 0 ? 0 : v; }

VOP(PADDB, for (int k = 0; k < n; k++) r.b[k] = d->b[k] + a->b[k])
VOP(PADDW, for (int k = 0; k < n / 2; k++) r.w[k] = d->w[k] + a->w[k])
VOP(PADDD, for (int k = 0; k < n / 4; k++) r.l[k] = d->l[k] + a->l[k])
VOP(PADDQ, for (int k = 0; k < n / 8; k++) r.q[k] = d->q[k] + a->q[k])
VOP(PSUBB, for (int k = 0; k < n; k++) r.b[k] = d->b[k] - a->b[k])
VOP(PSUBW, for (int k = 0; k < n / 2; k++) r.w[k] = d->w[k] - a->w[k])
VOP(PSUBD, for (int k = 0; k < n / 4; k++) r.l[k] = d->l[k] - a->l[k])
VOP(PSUBQ, for (int k = 0; k < n / 8; k++) r.q[k] = d->q[k] - a->q[k])
VOP(PADDSB, for (int k = 0; k < n; k++) r.sb[k] = sat8(d->sb[k] + a->sb[k]))
VOP(PADDSW, for (int k = 0; k < n / 2; k++) r.sw[k] = sat16(d->sw[k] + a->sw[k]))
VOP(PADDUSB, for (int k = 0; k < n; k++) r.b[k] = usat8(d->b[k] + a->b[k]))
VOP(PADDUSW, for (int k = 0; k < n / 2; k++) r.w[k] = usat16(d->w[k] + a->w[k]))
VOP(PSUBSB, for (int k = 0; k < n; k++) r.sb[k] = sat8(d->sb[k] - a->sb[k]))
VOP(PSUBSW, for (int k = 0; k < n / 2; k++) r.sw[k] = sat16(d->sw[k] - a->sw[k]))
VOP(PSUBUSB, for (int k = 0; k < n; k++) r.b[k] = usat8(d->b[k] - a->b[k]))
VOP(PSUBUSW, for (int k = 0; k < n / 2; k++) r.w[k] = usat16(d->w[k] - a->w[k]))
VOP(PAND, for (int k = 0; k < n / 8; k++) r.q[k] = d->q[k] & a->q[k])
VOP(PANDN, for (int k = 0; k < n / 8; k++) r.q[k] = ~d->q[k] & a->q[k])
VOP(POR, for (int k = 0; k < n / 8; k++) r.q[k] = d->q[k] | a->q[k])
VOP(PXOR, for (int k = 0; k < n / 8; k++) r.q[k] = d->q[k] ^ a->q[k])
VOP(PCMPEQB, for (int k = 0; k < n; k++) r.b[k] = d->b[k] == a->b[k] ? 0xff : 0)
VOP(PCMPEQW, for (int k = 0; k < n / 2; k++) r.w[k] = d->w[k] == a->w[k] ? 0xffff : 0)
VOP(PCMPEQD, for (int k = 0; k < n / 4; k++) r.l[k] = d->l[k] == a->l[k] ? ~0u : 0)
VOP(PCMPGTB, for (int k = 0; k < n; k++) r.b[k] = d->sb[k] > a->sb[k] ? 0xff : 0)
VOP(PCMPGTW, for (int k = 0; k < n / 2; k++) r.w[k] = d->sw[k] > a->sw[k] ? 0xffff : 0)
VOP(PCMPGTD, for (int k = 0; k < n / 4; k++) r.l[k] = d->sl[k] > a->sl[k] ? ~0u : 0)
VOP(PMINUB, for (int k = 0; k < n; k++) r.b[k] = d->b[k] < a->b[k] ? d->b[k] : a->b[k])
VOP(PMAXUB, for (int k = 0; k < n; k++) r.b[k] = d->b[k] > a->b[k] ? d->b[k] : a->b[k])
VOP(PMINSW, for (int k = 0; k < n / 2; k++) r.sw[k] = d->sw[k] < a->sw[k] ? d->sw[k] : a->sw[k])
VOP(PMAXSW, for (int k = 0; k < n / 2; k++) r.sw[k] = d->sw[k] > a->sw[k] ? d->sw[k] : a->sw[k])
VOP(PAVGB, for (int k = 0; k < n; k++) r.b[k] = (d->b[k] + a->b[k] + 1) >> 1)
VOP(PAVGW, for (int k = 0; k < n / 2; k++) r.w[k] = (d->w[k] + a->w[k] + 1) >> 1)
VOP(PMULLW, for (int k = 0; k < n / 2; k++) r.w[k] = (uint16_t)(d->sw[k] * a->sw[k]))
VOP(PMULHW, for (int k = 0; k < n / 2; k++) r.w[k] = (uint16_t)((d->sw[k] * a->sw[k]) >> 16))
VOP(PMULHUW, for (int k = 0; k < n / 2; k++) r.w[k] = (uint16_t)(((uint32_t)d->w[k] * a->w[k]) >> 16))
VOP(PMULUDQ, for (int k = 0; k < n / 8; k++) r.q[k] = (uint64_t)d->l[2 * k] * a->l[2 * k])
VOP(PMADDWD, for (int k = 0; k < n / 4; k++)
        r.l[k] = (uint32_t)(d->sw[2 * k] * a->sw[2 * k] + d->sw[2 * k + 1] * a->sw[2 * k + 1]))
VOP(PSADBW, {
    for (int h = 0; h < n / 8; h++) {
        unsigned sum = 0;
        for (int k = 0; k < 8; k++) {
            sum += abs(d->b[8 * h + k] - a->b[8 * h + k]);
        }
        r.q[h] = sum;
    }
})
VOP(PUNPCKLBW, for (int k = 0; k < n / 2; k++) { r.b[2 * k] = d->b[k]; r.b[2 * k + 1] = a->b[k]; })
VOP(PUNPCKLWD, for (int k = 0; k < n / 4; k++) { r.w[2 * k] = d->w[k]; r.w[2 * k + 1] = a->w[k]; })
VOP(PUNPCKLDQ, for (int k = 0; k < n / 8; k++) { r.l[2 * k] = d->l[k]; r.l[2 * k + 1] = a->l[k]; })
VOP(PUNPCKLQDQ, { r.q[0] = d->q[0]; r.q[1] = a->q[0]; })
VOP(PUNPCKHBW, for (int k = 0; k < n / 2; k++) { r.b[2 * k] = d->b[n / 2 + k]; r.b[2 * k + 1] = a->b[n / 2 + k]; })
VOP(PUNPCKHWD, for (int k = 0; k < n / 4; k++) { r.w[2 * k] = d->w[n / 4 + k]; r.w[2 * k + 1] = a->w[n / 4 + k]; })
VOP(PUNPCKHDQ, for (int k = 0; k < n / 8; k++) { r.l[2 * k] = d->l[n / 8 + k]; r.l[2 * k + 1] = a->l[n / 8 + k]; })
VOP(PUNPCKHQDQ, { r.q[0] = d->q[1]; r.q[1] = a->q[1]; })
VOP(PACKSSWB, {
    for (int k = 0; k < n / 2; k++) {
        r.sb[k] = sat8(d->sw[k]);
        r.sb[n / 2 + k] = sat8(a->sw[k]);
    }
})
VOP(PACKUSWB, {
    for (int k = 0; k < n / 2; k++) {
        r.b[k] = usat8(d->sw[k]);
        r.b[n / 2 + k] = usat8(a->sw[k]);
    }
})
VOP(PACKSSDW, {
    for (int k = 0; k < n / 4; k++) {
        r.sw[k] = sat16(d->sl[k]);
        r.sw[n / 4 + k] = sat16(a->sl[k]);
    }
})
VOP(PSHUFB, {
    for (int k = 0; k < n; k++) {
        r.b[k] = (a->b[k] & 0x80) ? 0 : d->b[a->b[k] & (n - 1)];
    }
})
VOP(PABSB, for (int k = 0; k < n; k++) r.b[k] = abs(a->sb[k]))
VOP(PABSW, for (int k = 0; k < n / 2; k++) r.w[k] = abs(a->sw[k]))
VOP(PABSD, for (int k = 0; k < n / 4; k++) r.l[k] = a->sl[k] < 0 ? -(uint32_t)a->sl[k] : (uint32_t)a->sl[k])

/* shifts by register/memory count */
static uint64_t shift_count(const V *a)
{
    return a->q[0];
}
VOP(PSRLW, { uint64_t c = shift_count(a); for (int k = 0; k < n / 2; k++) r.w[k] = c > 15 ? 0 : d->w[k] >> c; })
VOP(PSRLD, { uint64_t c = shift_count(a); for (int k = 0; k < n / 4; k++) r.l[k] = c > 31 ? 0 : d->l[k] >> c; })
VOP(PSRLQ, { uint64_t c = shift_count(a); for (int k = 0; k < n / 8; k++) r.q[k] = c > 63 ? 0 : d->q[k] >> c; })
VOP(PSLLW, { uint64_t c = shift_count(a); for (int k = 0; k < n / 2; k++) r.w[k] = c > 15 ? 0 : d->w[k] << c; })
VOP(PSLLD, { uint64_t c = shift_count(a); for (int k = 0; k < n / 4; k++) r.l[k] = c > 31 ? 0 : d->l[k] << c; })
VOP(PSLLQ, { uint64_t c = shift_count(a); for (int k = 0; k < n / 8; k++) r.q[k] = c > 63 ? 0 : d->q[k] << c; })
VOP(PSRAW, { uint64_t c = shift_count(a); c = c > 15 ? 15 : c; for (int k = 0; k < n / 2; k++) r.sw[k] = d->sw[k] >> c; })
VOP(PSRAD, { uint64_t c = shift_count(a); c = c > 31 ? 31 : c; for (int k = 0; k < n / 4; k++) r.sl[k] = d->sl[k] >> c; })

/* shifts by immediate: groups 71/72/73, the E operand is the register */
static HANDLER(h_pshift_imm)
{
    bool xmm = is_xmm(i);
    if (i->pfx >= 2) {
        RAISE_UD(s);
    }
    enter(s, i, xmm);
    int n = xmm ? 16 : 8;
    V d, c;
    memset(&c, 0, sizeof(c));
    c.q[0] = i->imm & 0xff;
    vreg_get(s, i->rm, xmm, &d);
    int grp = i->op, sub = i->reg & 7;
    static VecOp *const ops[3][8] = {
        { NULL, NULL, vop_PSRLW, NULL, vop_PSRAW, NULL, vop_PSLLW, NULL },
        { NULL, NULL, vop_PSRLD, NULL, vop_PSRAD, NULL, vop_PSLLD, NULL },
        { NULL, NULL, vop_PSRLQ, NULL, NULL, NULL, vop_PSLLQ, NULL },
    };
    if (grp == 0x73 && (sub == 3 || sub == 7)) {
        if (!xmm) {
            RAISE_UD(s);
        }
        unsigned cnt = c.q[0] > 16 ? 16 : c.q[0];
        V r;
        memset(&r, 0, sizeof(r));
        for (int k = 0; k < 16; k++) {
            int from = sub == 3 ? k + (int)cnt : k - (int)cnt;
            if (from >= 0 && from < 16) {
                r.b[k] = d.b[from];
            }
        }
        vreg_put(s, i->rm, xmm, &r);
        return;
    }
    VecOp *op = ops[grp - 0x71][sub];
    if (!op) {
        RAISE_UD(s);
    }
    op(&d, &c, n);
    vreg_put(s, i->rm, xmm, &d);
}
FAM1(PSHIFT_IMM, h_pshift_imm);

static HANDLER(h_palignr)
{
    bool xmm = is_xmm(i);
    ssse3_check(s);
    enter(s, i, xmm);
    int n = xmm ? 16 : 8;
    V d, a, r;
    src_get(s, i, xmm, &a, n, xmm);
    vreg_get(s, i->reg, xmm, &d);
    uint8_t cat[32];
    memcpy(cat, a.b, n);
    memcpy(cat + n, d.b, n);
    unsigned sh = i->imm & 0xff;
    memset(&r, 0, sizeof(r));
    for (int k = 0; k < n; k++) {
        r.b[k] = sh + k < (unsigned)(2 * n) ? cat[sh + k] : 0;
    }
    vreg_put(s, i->reg, xmm, &r);
}
FAM1(PALIGNR, h_palignr);

static HANDLER(h_pmovmskb)
{
    bool xmm = is_xmm(i);
    enter(s, i, xmm);
    V a;
    vreg_get(s, i->rm, xmm, &a);
    uint32_t m = 0;
    for (int k = 0; k < (xmm ? 16 : 8); k++) {
        m |= (uint32_t)(a.b[k] >> 7) << k;
    }
    set_reg(s, i->reg, m, 4, REX);
    if (i->opsize == 8) {
        s->env->regs[i->reg] = m;
    }
}
FAM1(PMOVMSKB, h_pmovmskb);

static HANDLER(h_pshuf)
{
    /* 70: pshufw (mmx), pshufd (66), pshufhw (f3), pshuflw (f2) */
    bool xmm = i->pfx != 0;
    enter(s, i, xmm);
    V a, r;
    src_get(s, i, xmm, &a, xmm ? 16 : 8, xmm);
    unsigned im = i->imm & 0xff;
    r = a;
    switch (i->pfx) {
    case 0:
        for (int k = 0; k < 4; k++) {
            r.w[k] = a.w[(im >> (2 * k)) & 3];
        }
        break;
    case 1:
        for (int k = 0; k < 4; k++) {
            r.l[k] = a.l[(im >> (2 * k)) & 3];
        }
        break;
    case 2:
        for (int k = 0; k < 4; k++) {
            r.w[4 + k] = a.w[4 + ((im >> (2 * k)) & 3)];
        }
        break;
    default:
        for (int k = 0; k < 4; k++) {
            r.w[k] = a.w[(im >> (2 * k)) & 3];
        }
        break;
    }
    vreg_put(s, i->reg, xmm, &r);
}
FAM1(PSHUF, h_pshuf);

static HANDLER(h_pinsrw)
{
    bool xmm = is_xmm(i);
    enter(s, i, xmm);
    uint16_t v = (i->flags & IF_MEM) ? ld_ea(s, i, 2)
                                    : get_reg(s, i->rm, 2, REX);
    V d;
    vreg_get(s, i->reg, xmm, &d);
    d.w[i->imm & (xmm ? 7 : 3)] = v;
    vreg_put(s, i->reg, xmm, &d);
}
FAM1(PINSRW, h_pinsrw);

static HANDLER(h_pextrw)
{
    bool xmm = is_xmm(i);
    enter(s, i, xmm);
    V a;
    vreg_get(s, i->rm, xmm, &a);
    set_reg(s, i->reg, a.w[i->imm & (xmm ? 7 : 3)], 4, REX);
    if (i->opsize == 8) {
        s->env->regs[i->reg] &= 0xffff;
    }
}
FAM1(PEXTRW, h_pextrw);

static HANDLER(h_emms)
{
    (void)i;
    fpu_check(s);
    s->env->fptag_abridged = 0;
    s->env->fpstt = 0;
}
FAM1(EMMS, h_emms);

/* ================= moves ================= */
/* 10/11 and 28/29: movups/movupd/movss/movsd, movaps/movapd */
static void mov_common(Interp *s, const Insn *i, bool store, bool aligned)
{
    sse_check(s);
    V v;
    int n = i->pfx == 2 ? 4 : i->pfx == 3 ? 8 : 16;
    if (aligned && i->pfx >= 2) {
        RAISE_UD(s);
    }
    if (!store) {
        if (i->flags & IF_MEM) {
            src_get(s, i, true, &v, n, aligned);
            if (n < 16) {
                /* scalar load from memory zeroes the rest */
                vreg_put(s, i->reg, true, &v);
                return;
            }
            vreg_put(s, i->reg, true, &v);
        } else {
            V d;
            vreg_get(s, i->rm, true, &v);
            vreg_get(s, i->reg, true, &d);
            memcpy(&d, &v, n);
            vreg_put(s, i->reg, true, &d);
        }
    } else {
        vreg_get(s, i->reg, true, &v);
        if (i->flags & IF_MEM) {
            mem_put(s, i, &v, n, aligned);
        } else {
            V d;
            vreg_get(s, i->rm, true, &d);
            memcpy(&d, &v, n);
            vreg_put(s, i->rm, true, &d);
        }
    }
}
static HANDLER(h_movu_ld) { mov_common(s, i, false, false); }
static HANDLER(h_movu_st) { mov_common(s, i, true, false); }
static HANDLER(h_mova_ld) { mov_common(s, i, false, true); }
static HANDLER(h_mova_st) { mov_common(s, i, true, true); }
FAM1(MOVU_LD, h_movu_ld);
FAM1(MOVU_ST, h_movu_st);
FAM1(MOVA_LD, h_mova_ld);
FAM1(MOVA_ST, h_mova_st);

/* 6F/7F: movq mm / movdqa (66) / movdqu (f3) */
static HANDLER(h_movdq_ld)
{
    if (i->pfx == 3) {
        RAISE_UD(s);
    }
    bool xmm = i->pfx != 0;
    enter(s, i, xmm);
    V v;
    src_get(s, i, xmm, &v, xmm ? 16 : 8, i->pfx == 1);
    vreg_put(s, i->reg, xmm, &v);
}
static HANDLER(h_movdq_st)
{
    if (i->pfx == 3) {
        RAISE_UD(s);
    }
    bool xmm = i->pfx != 0;
    enter(s, i, xmm);
    V v;
    vreg_get(s, i->reg, xmm, &v);
    if (i->flags & IF_MEM) {
        mem_put(s, i, &v, xmm ? 16 : 8, i->pfx == 1);
    } else {
        vreg_put(s, i->rm, xmm, &v);
    }
}
FAM1(MOVDQ_LD, h_movdq_ld);
FAM1(MOVDQ_ST, h_movdq_st);

/* 6E: movd/movq r/m -> mm/xmm */
static HANDLER(h_movd_to)
{
    bool xmm = is_xmm(i);
    if (i->pfx >= 2) {
        RAISE_UD(s);
    }
    enter(s, i, xmm);
    int n = (i->flags & IF_REXW) ? 8 : 4;
    V v;
    memset(&v, 0, sizeof(v));
    v.q[0] = e_ld(s, i, n);
    vreg_put(s, i->reg, xmm, &v);
}
FAM1(MOVD_TO, h_movd_to);

/* 7E: movd/movq mm/xmm -> r/m; F3 7E: movq xmm, xmm/m64 */
static HANDLER(h_movd_from)
{
    if (i->pfx == 2) {
        sse_check(s);
        V v;
        src_get(s, i, true, &v, 8, false);
        v.q[1] = 0;
        vreg_put(s, i->reg, true, &v);
        return;
    }
    bool xmm = is_xmm(i);
    if (i->pfx == 3) {
        RAISE_UD(s);
    }
    enter(s, i, xmm);
    int n = (i->flags & IF_REXW) ? 8 : 4;
    V v;
    vreg_get(s, i->reg, xmm, &v);
    if (i->flags & IF_MEM) {
        st_ea(s, i, v.q[0] & size_mask(n), n);
    } else {
        set_reg(s, i->rm, v.q[0], n, REX);
    }
}
FAM1(MOVD_FROM, h_movd_from);

/* 66 D6: movq xmm/m64 <- xmm (zero upper on register dest) */
static HANDLER(h_movq_st)
{
    if (i->pfx != 1) {
        RAISE_UD(s);
    }
    sse_check(s);
    V v;
    vreg_get(s, i->reg, true, &v);
    if (i->flags & IF_MEM) {
        mem_put(s, i, &v, 8, false);
    } else {
        v.q[1] = 0;
        vreg_put(s, i->rm, true, &v);
    }
}
FAM1(MOVQ_ST, h_movq_st);

/* 12/13/16/17: movlps/movlpd/movhps/movhpd, movhlps/movlhps, sse3 dups */
static HANDLER(h_movlh)
{
    sse_check(s);
    bool high = (i->op & ~1) == 0x16;
    bool store = i->op & 1;
    V d, a;
    if (store) {
        if (!(i->flags & IF_MEM) || i->pfx >= 2) {
            RAISE_UD(s);
        }
        vreg_get(s, i->reg, true, &d);
        uint64_t v = high ? d.q[1] : d.q[0];
        st_ea(s, i, v, 8);
        return;
    }
    vreg_get(s, i->reg, true, &d);
    if (i->pfx == 2) {         /* movsldup / movshdup */
        src_get(s, i, true, &a, 16, true);
        int o = high ? 1 : 0;
        d.l[0] = d.l[1] = a.l[o];
        d.l[2] = d.l[3] = a.l[2 + o];
    } else if (i->pfx == 3) {  /* movddup */
        if (high) {
            RAISE_UD(s);
        }
        src_get(s, i, true, &a, 8, false);
        d.q[0] = d.q[1] = a.q[0];
    } else if (!(i->flags & IF_MEM)) {
        if (i->pfx == 1) {
            RAISE_UD(s);
        }
        vreg_get(s, i->rm, true, &a);
        if (high) {
            d.q[1] = a.q[0];   /* movlhps */
        } else {
            d.q[0] = a.q[1];   /* movhlps */
        }
    } else {
        src_get(s, i, true, &a, 8, false);
        if (high) {
            d.q[1] = a.q[0];
        } else {
            d.q[0] = a.q[0];
        }
    }
    vreg_put(s, i->reg, true, &d);
}
FAM1(MOVLH, h_movlh);

/* 2B / E7 / C3: non-temporal stores */
static HANDLER(h_movnt)
{
    if (i->op == 0xc3) {
        st_ea(s, i, get_reg(s, i->reg, i->opsize, REX), i->opsize);
        return;
    }
    bool xmm = i->op == 0x2b || i->pfx == 1;
    enter(s, i, xmm);
    V v;
    vreg_get(s, i->reg, xmm, &v);
    mem_put(s, i, &v, xmm ? 16 : 8, xmm);
}
FAM1(MOVNT, h_movnt);

/* ================= floating point ================= */
static HANDLER(h_fparith)
{
    /* 51 sqrt, 58 add, 59 mul, 5c sub, 5d min, 5e div, 5f max */
    sse_check(s);
    bool dbl = i->pfx == 1 || i->pfx == 3;
    bool scalar = i->pfx >= 2;
    int n = scalar ? (dbl ? 8 : 4) : 16;
    V d, a;
    src_get(s, i, true, &a, n, !scalar);
    vreg_get(s, i->reg, true, &d);
    int cnt = scalar ? 1 : (dbl ? 2 : 4);
    int op = i->op;
    fp_begin(s);
    for (int k = 0; k < cnt; k++) {
        if (dbl) {
            __m128d x = _mm_set_sd(d.d[k]), y = _mm_set_sd(a.d[k]), r;
            switch (op) {
            case 0x51: r = _mm_sqrt_sd(x, y); break;
            case 0x58: r = _mm_add_sd(x, y); break;
            case 0x59: r = _mm_mul_sd(x, y); break;
            case 0x5c: r = _mm_sub_sd(x, y); break;
            case 0x5d: r = _mm_min_sd(x, y); break;
            case 0x5e: r = _mm_div_sd(x, y); break;
            default: r = _mm_max_sd(x, y); break;
            }
            d.d[k] = _mm_cvtsd_f64(r);
        } else {
            __m128 x = _mm_set_ss(d.f[k]), y = _mm_set_ss(a.f[k]), r;
            switch (op) {
            case 0x51: r = _mm_sqrt_ss(y); break;
            case 0x58: r = _mm_add_ss(x, y); break;
            case 0x59: r = _mm_mul_ss(x, y); break;
            case 0x5c: r = _mm_sub_ss(x, y); break;
            case 0x5d: r = _mm_min_ss(x, y); break;
            case 0x5e: r = _mm_div_ss(x, y); break;
            default: r = _mm_max_ss(x, y); break;
            }
            d.f[k] = _mm_cvtss_f32(r);
        }
    }
    fp_end(s);
    vreg_put(s, i->reg, true, &d);
}
FAM1(FPARITH, h_fparith);

static HANDLER(h_rcp)
{
    /* 52 rsqrt, 53 rcp (ps / ss) */
    sse_check(s);
    if (i->pfx == 1 || i->pfx == 3) {
        RAISE_UD(s);
    }
    bool scalar = i->pfx == 2;
    V d, a;
    src_get(s, i, true, &a, scalar ? 4 : 16, !scalar);
    vreg_get(s, i->reg, true, &d);
    for (int k = 0; k < (scalar ? 1 : 4); k++) {
        __m128 y = _mm_set_ss(a.f[k]);
        d.f[k] = _mm_cvtss_f32(i->op == 0x52 ? _mm_rsqrt_ss(y) : _mm_rcp_ss(y));
    }
    vreg_put(s, i->reg, true, &d);
}
FAM1(RCP, h_rcp);

/* 54-57 and/andn/or/xor ps/pd; 14/15 unpck; c6 shufps/pd */
static HANDLER(h_fplogic)
{
    sse_check(s);
    if (i->pfx >= 2) {
        RAISE_UD(s);
    }
    V d, a, r;
    src_get(s, i, true, &a, 16, true);
    vreg_get(s, i->reg, true, &d);
    r = d;
    switch (i->op) {
    case 0x54: r.q[0] = d.q[0] & a.q[0]; r.q[1] = d.q[1] & a.q[1]; break;
    case 0x55: r.q[0] = ~d.q[0] & a.q[0]; r.q[1] = ~d.q[1] & a.q[1]; break;
    case 0x56: r.q[0] = d.q[0] | a.q[0]; r.q[1] = d.q[1] | a.q[1]; break;
    case 0x57: r.q[0] = d.q[0] ^ a.q[0]; r.q[1] = d.q[1] ^ a.q[1]; break;
    case 0x14:
        if (i->pfx) {
            r.q[1] = a.q[0];
        } else {
            r.l[0] = d.l[0]; r.l[1] = a.l[0]; r.l[2] = d.l[1]; r.l[3] = a.l[1];
        }
        break;
    case 0x15:
        if (i->pfx) {
            r.q[0] = d.q[1]; r.q[1] = a.q[1];
        } else {
            r.l[0] = d.l[2]; r.l[1] = a.l[2]; r.l[2] = d.l[3]; r.l[3] = a.l[3];
        }
        break;
    default: { /* c6 */
        unsigned im = i->imm & 0xff;
        if (i->pfx) {
            r.q[0] = d.q[im & 1];
            r.q[1] = a.q[(im >> 1) & 1];
        } else {
            r.l[0] = d.l[im & 3];
            r.l[1] = d.l[(im >> 2) & 3];
            r.l[2] = a.l[(im >> 4) & 3];
            r.l[3] = a.l[(im >> 6) & 3];
        }
        break;
    }
    }
    vreg_put(s, i->reg, true, &r);
}
FAM1(FPLOGIC, h_fplogic);

/* 2E/2F: ucomiss/ucomisd/comiss/comisd */
static HANDLER(h_comis)
{
    sse_check(s);
    if (i->pfx >= 2) {
        RAISE_UD(s);
    }
    bool dbl = i->pfx == 1;
    V d, a;
    src_get(s, i, true, &a, dbl ? 8 : 4, false);
    vreg_get(s, i->reg, true, &d);
    uint64_t fl;
    __m128d x, y;
    memcpy(&x, &d, 16);
    memcpy(&y, &a, 16);
    fp_begin(s);
    if (dbl && i->op == 0x2e) {
        __asm__ volatile("ucomisd %[b], %[a]\n\tpushfq\n\tpopq %[f]" : [f] "=r"(fl) : [a] "x"(x), [b] "x"(y) : "cc", "memory");
    } else if (dbl) {
        __asm__ volatile("comisd %[b], %[a]\n\tpushfq\n\tpopq %[f]" : [f] "=r"(fl) : [a] "x"(x), [b] "x"(y) : "cc", "memory");
    } else if (i->op == 0x2e) {
        __asm__ volatile("ucomiss %[b], %[a]\n\tpushfq\n\tpopq %[f]" : [f] "=r"(fl) : [a] "x"(x), [b] "x"(y) : "cc", "memory");
    } else {
        __asm__ volatile("comiss %[b], %[a]\n\tpushfq\n\tpopq %[f]" : [f] "=r"(fl) : [a] "x"(x), [b] "x"(y) : "cc", "memory");
    }
    fp_end(s);
    lf_set(s, fl & (CC_Z | CC_P | CC_C));
}
FAM1(COMIS, h_comis);

/* C2: cmpps/cmppd/cmpss/cmpsd imm (host SSE, for exact MXCSR flags) */
#define CMP8(T, SFX, X, Y, R)                                                 \
    switch (pred) {                                                           \
    case 0: R = _mm_cmpeq_##SFX(X, Y); break;                                 \
    case 1: R = _mm_cmplt_##SFX(X, Y); break;                                 \
    case 2: R = _mm_cmple_##SFX(X, Y); break;                                 \
    case 3: R = _mm_cmpunord_##SFX(X, Y); break;                              \
    case 4: R = _mm_cmpneq_##SFX(X, Y); break;                                \
    case 5: R = _mm_cmpnlt_##SFX(X, Y); break;                                \
    case 6: R = _mm_cmpnle_##SFX(X, Y); break;                                \
    default: R = _mm_cmpord_##SFX(X, Y); break;                               \
    }

static HANDLER(h_fpcmp)
{
    sse_check(s);
    bool dbl = i->pfx == 1 || i->pfx == 3;
    bool scalar = i->pfx >= 2;
    V d, a;
    src_get(s, i, true, &a, scalar ? (dbl ? 8 : 4) : 16, !scalar);
    vreg_get(s, i->reg, true, &d);
    int pred = i->imm & 7;
    fp_begin(s);
    if (dbl) {
        __m128d x, y, r;
        memcpy(&x, &d, 16);
        memcpy(&y, &a, 16);
        if (scalar) {
            CMP8(__m128d, sd, x, y, r)
        } else {
            CMP8(__m128d, pd, x, y, r)
        }
        memcpy(&d, &r, 16);
    } else {
        __m128 x, y, r;
        memcpy(&x, &d, 16);
        memcpy(&y, &a, 16);
        if (scalar) {
            CMP8(__m128, ss, x, y, r)
        } else {
            CMP8(__m128, ps, x, y, r)
        }
        memcpy(&d, &r, 16);
    }
    fp_end(s);
    vreg_put(s, i->reg, true, &d);
}
FAM1(FPCMP, h_fpcmp);

static HANDLER(h_movmskp)
{
    sse_check(s);
    if (i->pfx >= 2) {
        RAISE_UD(s);
    }
    V a;
    vreg_get(s, i->rm, true, &a);
    uint32_t m = i->pfx ? (uint32_t)((a.q[0] >> 63) | ((a.q[1] >> 63) << 1))
                        : (a.l[0] >> 31) | ((a.l[1] >> 31) << 1) | ((a.l[2] >> 31) << 2) |
                          ((a.l[3] >> 31) << 3);
    set_reg(s, i->reg, m, 4, REX);
    if (i->opsize == 8) {
        s->env->regs[i->reg] = m;
    }
}
FAM1(MOVMSKP, h_movmskp);

/* 2A: cvtsi2ss/sd (F3/F2); cvtpi2ps/pd (mmx source) */
static HANDLER(h_cvtsi2f)
{
    sse_check(s);
    V d;
    vreg_get(s, i->reg, true, &d);
    if (i->pfx >= 2) {
        int n = (i->flags & IF_REXW) ? 8 : 4;
        int64_t v = (int64_t)sext(e_ld(s, i, n), n);
        fp_begin(s);
        if (i->pfx == 3) {
            d.d[0] = _mm_cvtsd_f64(n == 8 ? _mm_cvtsi64_sd(_mm_setzero_pd(), v)
                                          : _mm_cvtsi32_sd(_mm_setzero_pd(), (int)v));
        } else {
            d.f[0] = _mm_cvtss_f32(n == 8 ? _mm_cvtsi64_ss(_mm_setzero_ps(), v)
                                          : _mm_cvtsi32_ss(_mm_setzero_ps(), (int)v));
        }
        fp_end(s);
    } else {
        V a;
        fpu_check(s);
        src_get(s, i, false, &a, 8, false);
        if (i->pfx == 1) {
            d.d[0] = a.sl[0];
            d.d[1] = a.sl[1];
        } else {
            fp_begin(s);
            d.f[0] = (float)a.sl[0];
            d.f[1] = (float)a.sl[1];
            fp_end(s);
        }
    }
    vreg_put(s, i->reg, true, &d);
}
FAM1(CVTSI2F, h_cvtsi2f);

/* 2C/2D: cvtt/cvt ss/sd -> si (F3/F2) */
static HANDLER(h_cvtf2si)
{
    bool trunc = i->op == 0x2c;
    if (i->pfx < 2) {
        /* cvt(t)ps2pi / cvt(t)pd2pi: two values into an MMX register */
        sse_check(s);
        mmx_enter(s);
        V a, r;
        src_get(s, i, true, &a, i->pfx ? 16 : 8, i->pfx == 1);
        if (!i->pfx) {
            a.q[1] = 0;     /* only the low two singles are converted */
        }
        fp_begin(s);
        __m128i v;
        if (i->pfx) {
            __m128d x;
            memcpy(&x, &a, 16);
            v = trunc ? _mm_cvttpd_epi32(x) : _mm_cvtpd_epi32(x);
        } else {
            __m128 x;
            memcpy(&x, &a, 16);
            v = trunc ? _mm_cvttps_epi32(x) : _mm_cvtps_epi32(x);
        }
        fp_end(s);
        memcpy(&r, &v, 16);
        vreg_put(s, i->reg & 7, false, &r);
        return;
    }
    sse_check(s);
    bool dbl = i->pfx == 3;
    V a;
    src_get(s, i, true, &a, dbl ? 8 : 4, false);
    int64_t r;
    bool q = i->flags & IF_REXW;
    fp_begin(s);
    if (dbl) {
        __m128d x = _mm_set_sd(a.d[0]);
        r = q ? (trunc ? _mm_cvttsd_si64(x) : _mm_cvtsd_si64(x))
              : (trunc ? _mm_cvttsd_si32(x) : _mm_cvtsd_si32(x));
    } else {
        __m128 x = _mm_set_ss(a.f[0]);
        r = q ? (trunc ? _mm_cvttss_si64(x) : _mm_cvtss_si64(x))
              : (trunc ? _mm_cvttss_si32(x) : _mm_cvtss_si32(x));
    }
    fp_end(s);
    set_reg(s, i->reg, (uint64_t)r, q ? 8 : 4, REX);
}
FAM1(CVTF2SI, h_cvtf2si);

/* 5A: cvtps2pd / cvtpd2ps / cvtss2sd / cvtsd2ss */
static HANDLER(h_cvtfp)
{
    sse_check(s);
    V d, a;
    int n = i->pfx == 0 ? 8 : i->pfx == 1 ? 16 : i->pfx == 2 ? 4 : 8;
    src_get(s, i, true, &a, n, i->pfx == 1);
    vreg_get(s, i->reg, true, &d);
    fp_begin(s);
    switch (i->pfx) {
    case 0: d.d[0] = a.f[0]; d.d[1] = a.f[1]; break;
    case 1: d.f[0] = (float)a.d[0]; d.f[1] = (float)a.d[1]; d.q[1] = 0; break;
    case 2: d.d[0] = a.f[0]; break;
    default: d.f[0] = (float)a.d[0]; break;
    }
    fp_end(s);
    vreg_put(s, i->reg, true, &d);
}
FAM1(CVTFP, h_cvtfp);

/* 5B: cvtdq2ps (none) / cvtps2dq (66) / cvttps2dq (f3) */
static HANDLER(h_cvtdq)
{
    sse_check(s);
    if (i->pfx == 3) {
        RAISE_UD(s);
    }
    V a, d;
    src_get(s, i, true, &a, 16, true);
    fp_begin(s);
    __m128 x;
    memcpy(&x, &a, 16);
    if (i->pfx == 0) {
        __m128 r = _mm_cvtepi32_ps(_mm_castps_si128(x));
        memcpy(&d, &r, 16);
    } else {
        __m128i r = i->pfx == 1 ? _mm_cvtps_epi32(x) : _mm_cvttps_epi32(x);
        memcpy(&d, &r, 16);
    }
    fp_end(s);
    vreg_put(s, i->reg, true, &d);
}
FAM1(CVTDQ, h_cvtdq);

/* E6: cvttpd2dq (66) / cvtdq2pd (f3) / cvtpd2dq (f2) */
static HANDLER(h_cvtpd)
{
    sse_check(s);
    if (i->pfx == 0) {
        RAISE_UD(s);
    }
    V a, d;
    src_get(s, i, true, &a, i->pfx == 2 ? 8 : 16, i->pfx != 2);
    fp_begin(s);
    if (i->pfx == 2) {
        d.d[0] = a.sl[0];
        d.d[1] = a.sl[1];
    } else {
        __m128d x;
        memcpy(&x, &a, 16);
        __m128i r = i->pfx == 1 ? _mm_cvttpd_epi32(x) : _mm_cvtpd_epi32(x);
        memcpy(&d, &r, 16);
    }
    fp_end(s);
    vreg_put(s, i->reg, true, &d);
}
FAM1(CVTPD, h_cvtpd);

/* ---- SSE3: horizontal and alternating ops, LDDQU ---- */
static HANDLER(h_sse3)
{
    /* 66 0F D0 addsubpd, F2 0F D0 addsubps, 66/F2 0F 7C haddpd/haddps,
     * 66/F2 0F 7D hsubpd/hsubps */
    sse_check(s);
    if (i->pfx != 1 && i->pfx != 3) {
        RAISE_UD(s);
    }
    V d, a;
    src_get(s, i, true, &a, 16, true);
    vreg_get(s, i->reg, true, &d);
    __m128d x, y;
    memcpy(&x, &d, 16);
    memcpy(&y, &a, 16);
    fp_begin(s);
    int k = (i->op == 0xd0 ? 0 : i->op == 0x7c ? 1 : 2) + (i->pfx == 3 ? 3 : 0);
    switch (k) {
    case 0: __asm__ volatile("addsubpd %1, %0" : "+x"(x) : "x"(y) : "memory"); break;
    case 1: __asm__ volatile("haddpd %1, %0" : "+x"(x) : "x"(y) : "memory"); break;
    case 2: __asm__ volatile("hsubpd %1, %0" : "+x"(x) : "x"(y) : "memory"); break;
    case 3: __asm__ volatile("addsubps %1, %0" : "+x"(x) : "x"(y) : "memory"); break;
    case 4: __asm__ volatile("haddps %1, %0" : "+x"(x) : "x"(y) : "memory"); break;
    default: __asm__ volatile("hsubps %1, %0" : "+x"(x) : "x"(y) : "memory"); break;
    }
    fp_end(s);
    memcpy(&d, &x, 16);
    vreg_put(s, i->reg, true, &d);
}
FAM1(SSE3, h_sse3);

static HANDLER(h_lddqu)
{
    sse_check(s);
    V v;
    src_get(s, i, true, &v, 16, false);
    vreg_put(s, i->reg, true, &v);
}
FAM1(LDDQU, h_lddqu);

/* 66 0F F7: maskmovdqu xmm, xmm (store selected bytes to DS:rDI) */
static HANDLER(h_maskmov)
{
    bool xmm = is_xmm(i);
    enter(s, i, xmm);
    V d, m;
    vreg_get(s, i->reg, xmm, &d);
    vreg_get(s, i->rm, xmm, &m);
    uint64_t di = s->env->regs[R_EDI] & addr_mask(i->addrsize);
    int seg = (i->flags & IF_SEGOVR) ? i->seg : R_DS;
    for (int k = 0; k < (xmm ? 16 : 8); k++) {
        if (m.b[k] & 0x80) {
            st(s, seg, (di + k) & addr_mask(i->addrsize), d.b[k], 1);
        }
    }
}
FAM1(MASKMOV, h_maskmov);
