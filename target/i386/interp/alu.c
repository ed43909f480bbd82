/*
 * Integer arithmetic and logic: ADD..CMP, TEST, INC/DEC, NOT/NEG,
 * MUL/IMUL/DIV/IDIV, shifts and rotates (incl. RCL/RCR, SHLD/SHRD),
 * BT*, BSF/BSR/TZCNT/LZCNT/POPCNT, BSWAP, XCHG/XADD/CMPXCHG(8B/16B),
 * MOV/MOVZX/MOVSX/MOVSXD/LEA, CMOVcc/SETcc, CBW/CWD, BCD, flag ops.
 * Spec: Intel SDM vol. 2 (per-instruction pages, "Flags Affected").
 * Locking: vCPU thread only, no BQL.
 */
#include "interp.h"
#include "flags.h"

bool cond_true(Interp *s, int cc)
{
    return cc_test(s, cc);
}

/* ---- the eight classic ALU operations ---- */
static inline uint64_t op_ADD(Interp *s, uint64_t a, uint64_t b, int sz)
{
    uint64_t r = (a + b) & size_mask(sz);
    lf_arith(s, r, cv_add(a, b, r), sz);
    return r;
}
static inline uint64_t op_ADC(Interp *s, uint64_t a, uint64_t b, int sz)
{
    uint64_t r = (a + b + lf_cf(s)) & size_mask(sz);
    lf_arith(s, r, cv_add(a, b, r), sz);
    return r;
}
static inline uint64_t op_SUB(Interp *s, uint64_t a, uint64_t b, int sz)
{
    uint64_t r = (a - b) & size_mask(sz);
    lf_arith(s, r, cv_sub(a, b, r), sz);
    return r;
}
static inline uint64_t op_SBB(Interp *s, uint64_t a, uint64_t b, int sz)
{
    uint64_t r = (a - b - lf_cf(s)) & size_mask(sz);
    lf_arith(s, r, cv_sub(a, b, r), sz);
    return r;
}
static inline uint64_t op_CMP(Interp *s, uint64_t a, uint64_t b, int sz)
{
    return op_SUB(s, a, b, sz);
}
static inline uint64_t op_AND(Interp *s, uint64_t a, uint64_t b, int sz)
{
    uint64_t r = a & b;
    lf_logic(s, r, sz);
    return r;
}
static inline uint64_t op_TEST(Interp *s, uint64_t a, uint64_t b, int sz)
{
    return op_AND(s, a, b, sz);
}
static inline uint64_t op_OR(Interp *s, uint64_t a, uint64_t b, int sz)
{
    uint64_t r = a | b;
    lf_logic(s, r, sz);
    return r;
}
static inline uint64_t op_XOR(Interp *s, uint64_t a, uint64_t b, int sz)
{
    uint64_t r = a ^ b;
    lf_logic(s, r, sz);
    return r;
}

#define REX (i->flags & IF_REX)

#define GEN_ALU_SZ(OP, WB, SZ)                                                 \
    static void OP##_EG_r##SZ(Interp *s, const Insn *i)                        \
    {                                                                          \
        uint64_t r = op_##OP(s, get_reg(s, i->rm, SZ, REX),                    \
                             get_reg(s, i->reg, SZ, REX), SZ);                 \
        if (WB) {                                                              \
            set_reg(s, i->rm, r, SZ, REX);                                     \
        }                                                                      \
    }                                                                          \
    static void OP##_EG_m##SZ(Interp *s, const Insn *i)                        \
    {                                                                          \
        if (WB) {                                                              \
            MemRef m = { 0 };                                                          \
            uint64_t a = rmw_ld(s, i, &m, SZ);                                 \
            rmw_st(s, &m, op_##OP(s, a, get_reg(s, i->reg, SZ, REX), SZ));     \
        } else {                                                               \
            uint64_t a = ld_ea(s, i, SZ);                     \
            op_##OP(s, a, get_reg(s, i->reg, SZ, REX), SZ);                    \
        }                                                                      \
    }                                                                          \
    static void OP##_GE_r##SZ(Interp *s, const Insn *i)                        \
    {                                                                          \
        uint64_t r = op_##OP(s, get_reg(s, i->reg, SZ, REX),                   \
                             get_reg(s, i->rm, SZ, REX), SZ);                  \
        if (WB) {                                                              \
            set_reg(s, i->reg, r, SZ, REX);                                    \
        }                                                                      \
    }                                                                          \
    static void OP##_GE_m##SZ(Interp *s, const Insn *i)                        \
    {                                                                          \
        uint64_t b = ld_ea(s, i, SZ);                         \
        uint64_t r = op_##OP(s, get_reg(s, i->reg, SZ, REX), b, SZ);           \
        if (WB) {                                                              \
            set_reg(s, i->reg, r, SZ, REX);                                    \
        }                                                                      \
    }                                                                          \
    static void OP##_EI_r##SZ(Interp *s, const Insn *i)                        \
    {                                                                          \
        uint64_t r = op_##OP(s, get_reg(s, i->rm, SZ, REX),                    \
                             i->imm & size_mask(SZ), SZ);                      \
        if (WB) {                                                              \
            set_reg(s, i->rm, r, SZ, REX);                                     \
        }                                                                      \
    }                                                                          \
    static void OP##_EI_m##SZ(Interp *s, const Insn *i)                        \
    {                                                                          \
        if (WB) {                                                              \
            MemRef m = { 0 };                                                          \
            uint64_t a = rmw_ld(s, i, &m, SZ);                                 \
            rmw_st(s, &m, op_##OP(s, a, i->imm & size_mask(SZ), SZ));          \
        } else {                                                               \
            uint64_t a = ld_ea(s, i, SZ);                     \
            op_##OP(s, a, i->imm & size_mask(SZ), SZ);                         \
        }                                                                      \
    }

#define GEN_ALU(OP, WB)                                                        \
    GEN_ALU_SZ(OP, WB, 1) GEN_ALU_SZ(OP, WB, 2)                                \
    GEN_ALU_SZ(OP, WB, 4) GEN_ALU_SZ(OP, WB, 8)                                \
    FAMRM(OP##_EG, OP##_EG);                                                   \
    FAMRM(OP##_GE, OP##_GE);                                                   \
    FAMRM(OP##_EI, OP##_EI);

GEN_ALU(ADD, 1)
GEN_ALU(OR, 1)
GEN_ALU(ADC, 1)
GEN_ALU(SBB, 1)
GEN_ALU(AND, 1)
GEN_ALU(SUB, 1)
GEN_ALU(XOR, 1)
GEN_ALU(CMP, 0)
GEN_ALU(TEST, 0)

/* ---- INC/DEC/NOT/NEG ---- */
/* INC/DEC keep CF: the carry vector gives OF/AF, then CF is forced back. */
#define GEN_INCDEC_SZ(NAME, SZ, DELTA, CV)                                     \
    static void NAME##_r##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        uint64_t a = get_reg(s, i->rm, SZ, REX);                               \
        bool cf = lf_cf(s);                                                    \
        uint64_t r = (a DELTA 1) & size_mask(SZ);                              \
        lf_arith(s, r, CV(a, 1, r), SZ);                                       \
        lf_force_cf(s, cf);                                                    \
        set_reg(s, i->rm, r, SZ, REX);                                         \
    }                                                                          \
    static void NAME##_m##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        MemRef m = { 0 };                                                      \
        uint64_t a = rmw_ld(s, i, &m, SZ);                                     \
        bool cf = lf_cf(s);                                                    \
        uint64_t r = (a DELTA 1) & size_mask(SZ);                              \
        rmw_st(s, &m, r);                                                      \
        lf_arith(s, r, CV(a, 1, r), SZ);                                       \
        lf_force_cf(s, cf);                                                    \
    }
#define GEN_INCDEC(NAME, DELTA, CV)                                            \
    GEN_INCDEC_SZ(NAME, 1, DELTA, CV) GEN_INCDEC_SZ(NAME, 2, DELTA, CV)        \
    GEN_INCDEC_SZ(NAME, 4, DELTA, CV) GEN_INCDEC_SZ(NAME, 8, DELTA, CV)        \
    FAMRM(NAME, NAME);
GEN_INCDEC(INC_E, +, cv_add)
GEN_INCDEC(DEC_E, -, cv_sub)

static HANDLER(h_not)
{
    int sz = i->opsize;
    MemRef m = { 0 };
    if (i->flags & IF_MEM) {
        uint64_t a = rmw_ld(s, i, &m, sz);
        rmw_st(s, &m, ~a & size_mask(sz));
    } else {
        set_reg(s, i->rm, ~get_reg(s, i->rm, sz, REX), sz, REX);
    }
}
FAM1(NOT_E, h_not);

static HANDLER(h_neg)
{
    int sz = i->opsize;
    MemRef m = { 0 };
    uint64_t a = (i->flags & IF_MEM) ? rmw_ld(s, i, &m, sz) : get_reg(s, i->rm, sz, REX);
    uint64_t r = op_SUB(s, 0, a, sz);
    if (i->flags & IF_MEM) {
        rmw_st(s, &m, r);
    } else {
        set_reg(s, i->rm, r, sz, REX);
    }
}
FAM1(NEG_E, h_neg);

/* ---- multiply / divide ---- */
static HANDLER(h_mul)
{
    int sz = i->opsize;
    CPUX86State *env = s->env;
    uint64_t b = e_ld(s, i, sz);
    uint64_t lo, hi;
    if (sz == 1) {
        unsigned r = (env->regs[R_EAX] & 0xff) * (unsigned)b;
        set_reg(s, R_EAX, r, 2, false);
        lo = r & 0xff;
        hi = r >> 8;
    } else if (sz == 8) {
        unsigned __int128 r = (unsigned __int128)env->regs[R_EAX] * b;
        lo = (uint64_t)r;
        hi = (uint64_t)(r >> 64);
        env->regs[R_EAX] = lo;
        env->regs[R_EDX] = hi;
    } else {
        uint64_t r = (env->regs[R_EAX] & size_mask(sz)) * b;
        lo = r & size_mask(sz);
        hi = (r >> (sz * 8)) & size_mask(sz);
        set_reg(s, R_EAX, lo, sz, false);
        set_reg(s, R_EDX, hi, sz, false);
    }
    lf_res_cf_of(s, lo, sz, hi != 0, hi != 0, false);
}
FAM1(MUL_E, h_mul);

static HANDLER(h_imul1)
{
    int sz = i->opsize;
    CPUX86State *env = s->env;
    int64_t b = (int64_t)sext(e_ld(s, i, sz), sz);
    int64_t a = (int64_t)sext(env->regs[R_EAX], sz);
    bool ovf;
    uint64_t lo;
    if (sz == 8) {
        __int128 r = (__int128)a * b;
        lo = (uint64_t)r;
        env->regs[R_EAX] = lo;
        env->regs[R_EDX] = (uint64_t)(r >> 64);
        ovf = r != (__int128)(int64_t)lo;
    } else {
        int64_t r = a * b;
        lo = (uint64_t)r & size_mask(sz);
        ovf = r != (int64_t)sext(lo, sz);
        if (sz == 1) {
            set_reg(s, R_EAX, (uint64_t)r, 2, false);
        } else {
            set_reg(s, R_EAX, lo, sz, false);
            set_reg(s, R_EDX, (uint64_t)r >> (sz * 8), sz, false);
        }
    }
    lf_res_cf_of(s, lo, sz, ovf, ovf, false);
}
FAM1(IMUL_E, h_imul1);

static void imul_common(Interp *s, const Insn *i, int64_t a, int64_t b)
{
    int sz = i->opsize;
    uint64_t lo;
    bool ovf;
    if (sz == 8) {
        __int128 r = (__int128)a * b;
        lo = (uint64_t)r;
        ovf = r != (__int128)(int64_t)lo;
    } else {
        int64_t r = a * b;
        lo = (uint64_t)r & size_mask(sz);
        ovf = r != (int64_t)sext(lo, sz);
    }
    set_reg(s, i->reg, lo, sz, REX);
    lf_res_cf_of(s, lo, sz, ovf, ovf, false);
}

static HANDLER(h_imul_ge)
{
    int sz = i->opsize;
    int64_t b = (int64_t)sext(e_ld(s, i, sz), sz);
    imul_common(s, i, (int64_t)sext(get_reg(s, i->reg, sz, REX), sz), b);
}
FAM1(IMUL_GE, h_imul_ge);

static HANDLER(h_imul_gei)
{
    int sz = i->opsize;
    int64_t a = (int64_t)sext(e_ld(s, i, sz), sz);
    imul_common(s, i, a, (int64_t)sext(i->imm, sz));
}
FAM1(IMUL_GEI, h_imul_gei);

static HANDLER(h_div)
{
    int sz = i->opsize;
    CPUX86State *env = s->env;
    uint64_t b = e_ld(s, i, sz);
    if (b == 0) {
        raise_exception_noerr(s, EXCP00_DIVZ);
    }
    if (sz == 1) {
        unsigned a = env->regs[R_EAX] & 0xffff;
        unsigned q = a / b, r = a % b;
        if (q > 0xff) {
            raise_exception_noerr(s, EXCP00_DIVZ);
        }
        set_reg(s, R_EAX, (r << 8) | q, 2, false);
    } else if (sz == 8) {
        unsigned __int128 a = ((unsigned __int128)env->regs[R_EDX] << 64) | env->regs[R_EAX];
        unsigned __int128 q = a / b;
        if (q >> 64) {
            raise_exception_noerr(s, EXCP00_DIVZ);
        }
        env->regs[R_EAX] = (uint64_t)q;
        env->regs[R_EDX] = (uint64_t)(a % b);
    } else {
        uint64_t a = ((env->regs[R_EDX] & size_mask(sz)) << (sz * 8)) |
                     (env->regs[R_EAX] & size_mask(sz));
        uint64_t q = a / b;
        if (q > size_mask(sz)) {
            raise_exception_noerr(s, EXCP00_DIVZ);
        }
        set_reg(s, R_EAX, q, sz, false);
        set_reg(s, R_EDX, a % b, sz, false);
    }
}
FAM1(DIV_E, h_div);

static HANDLER(h_idiv)
{
    int sz = i->opsize;
    CPUX86State *env = s->env;
    int64_t b = (int64_t)sext(e_ld(s, i, sz), sz);
    if (b == 0) {
        raise_exception_noerr(s, EXCP00_DIVZ);
    }
    if (sz == 8) {
        __int128 a = (__int128)(((unsigned __int128)env->regs[R_EDX] << 64) | env->regs[R_EAX]);
        if (b == -1 && a == (__int128)((unsigned __int128)1 << 127)) {
            raise_exception_noerr(s, EXCP00_DIVZ);
        }
        __int128 q = a / b;
        if (q != (__int128)(int64_t)q) {
            raise_exception_noerr(s, EXCP00_DIVZ);
        }
        env->regs[R_EAX] = (uint64_t)q;
        env->regs[R_EDX] = (uint64_t)(a % b);
        return;
    }
    int64_t a;
    if (sz == 1) {
        a = (int16_t)env->regs[R_EAX];
    } else {
        a = (int64_t)sext(((env->regs[R_EDX] & size_mask(sz)) << (sz * 8)) |
                          (env->regs[R_EAX] & size_mask(sz)), sz * 2);
    }
    if (b == -1 && a == INT64_MIN) {
        raise_exception_noerr(s, EXCP00_DIVZ);
    }
    int64_t q = a / b, r = a % b;
    if (q != (int64_t)sext((uint64_t)q, sz)) {
        raise_exception_noerr(s, EXCP00_DIVZ);
    }
    if (sz == 1) {
        set_reg(s, R_EAX, (((uint64_t)r & 0xff) << 8) | ((uint64_t)q & 0xff), 2, false);
    } else {
        set_reg(s, R_EAX, (uint64_t)q, sz, false);
        set_reg(s, R_EDX, (uint64_t)r, sz, false);
    }
}
FAM1(IDIV_E, h_idiv);

/* ---- shifts and rotates ---- */
enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAR };

/* SHL/SHR/SAR: inlined, so each handler specialises by op and size */
ALWAYS_INLINE uint64_t shift_arith(Interp *s, int op, uint64_t a, unsigned cnt, int sz)
{
    int n = sz * 8;
    uint64_t m = size_mask(sz);
    uint64_t r;
    bool cf, of;
    cnt &= (sz == 8) ? 63 : 31;
    if (cnt == 0) {
        return a;
    }
    switch (op) {
    case SH_SHL:
        r = cnt >= 64 ? 0 : (a << cnt) & m;
        cf = cnt <= (unsigned)n ? (a >> (n - cnt)) & 1 : 0;
        of = ((r >> (n - 1)) & 1) ^ cf;
        lf_res_cf_of(s, r, sz, cf, of, false);
        return r;
    case SH_SHR:
        r = cnt >= 64 ? 0 : a >> cnt;
        cf = cnt <= (unsigned)n ? (a >> (cnt - 1)) & 1 : 0;
        of = (cnt == 1) ? (a >> (n - 1)) & 1 : ((r >> (n - 1)) & 1) ^ ((r >> (n - 2)) & 1);
        lf_res_cf_of(s, r, sz, cf, of, false);
        return r;
    case SH_SAR: {
        int64_t sa = (int64_t)sext(a, sz);
        unsigned c = cnt > 63 ? 63 : cnt;
        r = (uint64_t)(sa >> c) & m;
        cf = (cnt - 1) < 63 ? (sa >> (cnt - 1)) & 1 : (sa < 0);
        lf_res_cf_of(s, r, sz, cf, false, false);
        return r;
    }
    }
    return a;
}

static uint64_t do_shift(Interp *s, int op, uint64_t a, unsigned cnt, int sz)
{
    int n = sz * 8;
    uint64_t m = size_mask(sz);
    uint64_t r;
    bool cf, of;
    if (op == SH_SHL || op == SH_SHR || op == SH_SAR) {
        return shift_arith(s, op, a, cnt, sz);
    }
    cnt &= (sz == 8) ? 63 : 31;
    if (cnt == 0) {
        return a;
    }
    /* rotates only touch CF and OF */
    uint32_t fl = lf_get(s);
    bool oldcf = fl & CC_C;
    switch (op) {
    case SH_ROL: {
        unsigned c = cnt & (n - 1);
        r = c ? ((a << c) | (a >> (n - c))) & m : a;
        cf = r & 1;
        of = ((r >> (n - 1)) & 1) ^ cf;
        break;
    }
    case SH_ROR: {
        unsigned c = cnt & (n - 1);
        r = c ? ((a >> c) | (a << (n - c))) & m : a;
        cf = (r >> (n - 1)) & 1;
        of = cf ^ ((r >> (n - 2)) & 1);
        break;
    }
    case SH_RCL: {
        unsigned c = cnt % (n + 1);
        if (c == 0) {
            r = a;
            cf = oldcf;
        } else {
            unsigned __int128 w = ((unsigned __int128)oldcf << n) | a;
            w = (w << c) | (w >> (n + 1 - c));
            r = (uint64_t)w & m;
            cf = (w >> n) & 1;
        }
        of = ((r >> (n - 1)) & 1) ^ cf;
        break;
    }
    default: { /* RCR */
        unsigned c = cnt % (n + 1);
        if (c == 0) {
            r = a;
            cf = oldcf;
        } else {
            unsigned __int128 w = ((unsigned __int128)oldcf << n) | a;
            w = (w >> c) | (w << (n + 1 - c));
            r = (uint64_t)w & m;
            cf = (w >> n) & 1;
        }
        of = ((r >> (n - 1)) & 1) ^ ((r >> (n - 2)) & 1);
        break;
    }
    }
    fl = (fl & ~(CC_C | CC_O)) | (cf ? CC_C : 0) | (of ? CC_O : 0);
    lf_set(s, fl);
    return r;
}

#define GEN_SHIFT(NAME, OP)                                                    \
    static void h_##NAME##_go(Interp *s, const Insn *i, unsigned cnt)          \
    {                                                                          \
        int sz = i->opsize;                                                    \
        if (i->flags & IF_MEM) {                                               \
            MemRef m = { 0 };                                                          \
            uint64_t a = rmw_ld(s, i, &m, sz);                                 \
            rmw_st(s, &m, do_shift(s, OP, a, cnt, sz));                        \
        } else {                                                               \
            uint64_t a = get_reg(s, i->rm, sz, REX);                           \
            uint64_t r = do_shift(s, OP, a, cnt, sz);                          \
            set_reg(s, i->rm, r, sz, REX); /* count 0 still zero-extends */ \
        }                                                                      \
    }                                                                          \
    static HANDLER(h_##NAME##_1) { h_##NAME##_go(s, i, 1); }                   \
    static HANDLER(h_##NAME##_cl) { h_##NAME##_go(s, i, s->env->regs[R_ECX] & 0xff); } \
    static HANDLER(h_##NAME##_i) { h_##NAME##_go(s, i, i->imm & 0xff); }       \
    FAM1(NAME##_1, h_##NAME##_1);                                              \
    FAM1(NAME##_CL, h_##NAME##_cl);                                            \
    FAM1(NAME##_I, h_##NAME##_i);

GEN_SHIFT(ROL, SH_ROL)
GEN_SHIFT(ROR, SH_ROR)
GEN_SHIFT(RCL, SH_RCL)
GEN_SHIFT(RCR, SH_RCR)

/* SHL/SHR/SAR (hot in compiled code): one handler per count source and
 * operand size, the shift inlined. */
ALWAYS_INLINE void shift_go(Interp *s, const Insn *i, int op, unsigned cnt, int sz)
{
    if (i->flags & IF_MEM) {
        MemRef m = { 0 };
        uint64_t a = rmw_ld(s, i, &m, sz);
        rmw_st(s, &m, shift_arith(s, op, a, cnt, sz));
    } else {
        uint64_t a = get_reg(s, i->rm, sz, REX);
        set_reg(s, i->rm, shift_arith(s, op, a, cnt, sz), sz, REX); /* count 0 still zero-extends */
    }
}
#define GEN_SHIFT_SZ(NAME, OP, SZ)                                             \
    static HANDLER(h_##NAME##_1_##SZ) { shift_go(s, i, OP, 1, SZ); }           \
    static HANDLER(h_##NAME##_cl_##SZ) { shift_go(s, i, OP, s->env->regs[R_ECX] & 0xff, SZ); } \
    static HANDLER(h_##NAME##_i_##SZ) { shift_go(s, i, OP, i->imm & 0xff, SZ); }
#define GEN_SHIFT_ARITH(NAME, OP)                                              \
    GEN_SHIFT_SZ(NAME, OP, 1) GEN_SHIFT_SZ(NAME, OP, 2)                        \
    GEN_SHIFT_SZ(NAME, OP, 4) GEN_SHIFT_SZ(NAME, OP, 8)                        \
    FAMSZ(NAME##_1, h_##NAME##_1);                                             \
    FAMSZ(NAME##_CL, h_##NAME##_cl);                                           \
    FAMSZ(NAME##_I, h_##NAME##_i);
GEN_SHIFT_ARITH(SHL, SH_SHL)
GEN_SHIFT_ARITH(SHR, SH_SHR)
GEN_SHIFT_ARITH(SAR, SH_SAR)

static void shld_go(Interp *s, const Insn *i, unsigned cnt, bool right)
{
    int sz = i->opsize, n = sz * 8;
    uint64_t m = size_mask(sz);
    MemRef mr = { 0 };
    cnt &= (sz == 8) ? 63 : 31;
    uint64_t a = (i->flags & IF_MEM) ? rmw_ld(s, i, &mr, sz) : get_reg(s, i->rm, sz, REX);
    uint64_t b = get_reg(s, i->reg, sz, REX);
    uint64_t r = a;
    if (cnt) {
        bool cf, of;
        if (!right) {
            /* dest:src shifted left; 16-bit counts > 16 use src:dest:src */
            unsigned __int128 w;
            if (sz == 2) {
                uint64_t x = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
                uint64_t y = x << cnt;
                r = (y >> 32) & 0xffff;
                cf = (x >> (48 - cnt)) & 1;
            } else {
                w = ((unsigned __int128)a << n) | b;
                w <<= cnt;
                r = (uint64_t)(w >> n) & m;
                cf = (a >> (n - cnt)) & 1;
            }
            of = ((r ^ a) >> (n - 1)) & 1;
        } else {
            if (sz == 2) {
                /* layout for right shift: dest:src:dest with dest low */
                uint64_t x = ((uint64_t)a) | ((uint64_t)b << 16) | ((uint64_t)a << 32);
                r = (x >> cnt) & 0xffff;
                cf = (x >> (cnt - 1)) & 1;
            } else {
                unsigned __int128 w = ((unsigned __int128)b << n) | a;
                r = (uint64_t)(w >> cnt) & m;
                cf = (a >> (cnt - 1)) & 1;
            }
            of = ((r ^ a) >> (n - 1)) & 1;
        }
        lf_res_cf_of(s, r, sz, cf, of, false);
    }
    if (i->flags & IF_MEM) {
        rmw_st(s, &mr, r);
    } else {
        set_reg(s, i->rm, r, sz, REX);   /* even count 0 zero-extends */
    }
}
static HANDLER(h_shld_i) { shld_go(s, i, i->imm & 0xff, false); }
static HANDLER(h_shld_cl) { shld_go(s, i, s->env->regs[R_ECX] & 0xff, false); }
static HANDLER(h_shrd_i) { shld_go(s, i, i->imm & 0xff, true); }
static HANDLER(h_shrd_cl) { shld_go(s, i, s->env->regs[R_ECX] & 0xff, true); }
FAM1(SHLD_I, h_shld_i);
FAM1(SHLD_CL, h_shld_cl);
FAM1(SHRD_I, h_shrd_i);
FAM1(SHRD_CL, h_shrd_cl);

/* ---- bit operations ---- */
static void set_cf_only(Interp *s, bool cf)
{
    uint32_t fl = lf_get(s);
    lf_set(s, (fl & ~CC_C) | (cf ? CC_C : 0));
}

/* op: 0 BT, 1 BTS, 2 BTR, 3 BTC */
static void bt_go(Interp *s, const Insn *i, int op, uint64_t off, bool reg_off)
{
    int sz = i->opsize, n = sz * 8;
    if (!(i->flags & IF_MEM)) {
        uint64_t a = get_reg(s, i->rm, sz, REX);
        unsigned bit = off & (n - 1);
        bool cf = (a >> bit) & 1;
        uint64_t r = op == 1 ? a | (1ull << bit) : op == 2 ? a & ~(1ull << bit)
                   : op == 3 ? a ^ (1ull << bit) : a;
        if (op) {
            set_reg(s, i->rm, r, sz, REX);
        }
        set_cf_only(s, cf);
        return;
    }
    uint64_t ea = insn_ea(s, i);
    unsigned bit;
    if (reg_off) {
        int64_t so = (int64_t)sext(off, sz);
        int64_t byteoff = (so >> (sz == 8 ? 6 : sz == 4 ? 5 : 4)) * sz;
        ea = (ea + byteoff) & addr_mask(i->addrsize);
        bit = (uint64_t)so & (n - 1);
    } else {
        bit = off & (n - 1);
    }
    uint64_t la = seg_linear(s, i->seg, ea, sz, op ? ACC_W : ACC_R);
    if (op == 0) {
        set_cf_only(s, (lin_ld(s, la, sz) >> bit) & 1);
        return;
    }
    mem_probe_write(s, la, sz, s->cpl == 3);
    uint64_t a = lin_ld(s, la, sz);
    uint64_t r = op == 1 ? a | (1ull << bit) : op == 2 ? a & ~(1ull << bit) : a ^ (1ull << bit);
    lin_st(s, la, r, sz);
    set_cf_only(s, (a >> bit) & 1);
}
static HANDLER(h_bt_g) { bt_go(s, i, 0, get_reg(s, i->reg, i->opsize, REX), true); }
static HANDLER(h_bts_g) { bt_go(s, i, 1, get_reg(s, i->reg, i->opsize, REX), true); }
static HANDLER(h_btr_g) { bt_go(s, i, 2, get_reg(s, i->reg, i->opsize, REX), true); }
static HANDLER(h_btc_g) { bt_go(s, i, 3, get_reg(s, i->reg, i->opsize, REX), true); }
static HANDLER(h_bt_i) { bt_go(s, i, 0, i->imm & 0xff, false); }
static HANDLER(h_bts_i) { bt_go(s, i, 1, i->imm & 0xff, false); }
static HANDLER(h_btr_i) { bt_go(s, i, 2, i->imm & 0xff, false); }
static HANDLER(h_btc_i) { bt_go(s, i, 3, i->imm & 0xff, false); }
FAM1(BT_G, h_bt_g);
FAM1(BTS_G, h_bts_g);
FAM1(BTR_G, h_btr_g);
FAM1(BTC_G, h_btc_g);
FAM1(BT_I, h_bt_i);
FAM1(BTS_I, h_bts_i);
FAM1(BTR_I, h_btr_i);
FAM1(BTC_I, h_btc_i);

static HANDLER(h_bsf)
{
    int sz = i->opsize;
    uint64_t a = e_ld(s, i, sz);
    uint32_t fl = lf_get(s) & ~CC_Z;
    if (a == 0) {
        lf_set(s, fl | CC_Z);
        return;
    }
    set_reg(s, i->reg, __builtin_ctzll(a), sz, REX);
    lf_set(s, fl);
}
FAM1(BSF, h_bsf);

static HANDLER(h_bsr)
{
    int sz = i->opsize;
    uint64_t a = e_ld(s, i, sz);
    uint32_t fl = lf_get(s) & ~CC_Z;
    if (a == 0) {
        lf_set(s, fl | CC_Z);
        return;
    }
    set_reg(s, i->reg, 63 - __builtin_clzll(a), sz, REX);
    lf_set(s, fl);
}
FAM1(BSR, h_bsr);

static HANDLER(h_tzcnt)
{
    if (!ihook_has_feature(s->env, FEAT_7_0_EBX, 1u << 3)) {
        h_bsf(s, i);
        return;
    }
    int sz = i->opsize;
    uint64_t a = e_ld(s, i, sz);
    uint64_t r = a ? (uint64_t)__builtin_ctzll(a) : (uint64_t)sz * 8;
    set_reg(s, i->reg, r, sz, REX);
    uint32_t fl = lf_get(s) & ~(CC_C | CC_Z);
    lf_set(s, fl | (a == 0 ? CC_C : 0) | (r == 0 ? CC_Z : 0));
}
FAM1(TZCNT, h_tzcnt);

static HANDLER(h_lzcnt)
{
    if (!ihook_has_feature(s->env, FEAT_8000_0001_ECX, 1u << 5)) {
        h_bsr(s, i);
        return;
    }
    int sz = i->opsize;
    uint64_t a = e_ld(s, i, sz);
    uint64_t r = a ? (uint64_t)(__builtin_clzll(a) - (64 - sz * 8)) : (uint64_t)sz * 8;
    set_reg(s, i->reg, r, sz, REX);
    uint32_t fl = lf_get(s) & ~(CC_C | CC_Z);
    lf_set(s, fl | (a == 0 ? CC_C : 0) | (r == 0 ? CC_Z : 0));
}
FAM1(LZCNT, h_lzcnt);

static HANDLER(h_popcnt)
{
    if (!ihook_has_feature(s->env, FEAT_1_ECX, 1u << 23)) {
        RAISE_UD(s);
    }
    int sz = i->opsize;
    uint64_t a = e_ld(s, i, sz);
    set_reg(s, i->reg, __builtin_popcountll(a), sz, REX);
    lf_set(s, a == 0 ? CC_Z : 0);
}
FAM1(POPCNT, h_popcnt);

static HANDLER(h_bswap)
{
    CPUX86State *env = s->env;
    if (i->opsize == 8) {
        env->regs[i->rm] = __builtin_bswap64(env->regs[i->rm]);
    } else if (i->opsize == 4) {
        env->regs[i->rm] = __builtin_bswap32((uint32_t)env->regs[i->rm]);
    } else {
        /* undefined; hardware zeroes the low word */
        set_reg(s, i->rm, 0, 2, false);
    }
}
FAM1(BSWAP, h_bswap);

/* ---- exchange family ---- */
static HANDLER(h_xchg_eg)
{
    int sz = i->opsize;
    uint64_t b = get_reg(s, i->reg, sz, REX);
    if (i->flags & IF_MEM) {
        MemRef m = { 0 };
        uint64_t a = rmw_ld(s, i, &m, sz);
        rmw_st(s, &m, b);
        set_reg(s, i->reg, a, sz, REX);
    } else {
        uint64_t a = get_reg(s, i->rm, sz, REX);
        set_reg(s, i->rm, b, sz, REX);
        set_reg(s, i->reg, a, sz, REX);
    }
}
FAM1(XCHG_EG, h_xchg_eg);

static HANDLER(h_xchg_a)
{
    int sz = i->opsize;
    if (i->rm == 0) {
        return;     /* 90 is NOP, even with a 32-bit operand in 64-bit mode */
    }
    uint64_t a = get_reg(s, R_EAX, sz, false);
    set_reg(s, R_EAX, get_reg(s, i->rm, sz, false), sz, false);
    set_reg(s, i->rm, a, sz, false);
}
FAM1(XCHG_A, h_xchg_a);

static HANDLER(h_xadd)
{
    int sz = i->opsize;
    uint64_t b = get_reg(s, i->reg, sz, REX);
    if (i->flags & IF_MEM) {
        MemRef m = { 0 };
        uint64_t a = rmw_ld(s, i, &m, sz);
        uint64_t r = op_ADD(s, a, b, sz);
        rmw_st(s, &m, r);
        set_reg(s, i->reg, a, sz, REX);
    } else {
        uint64_t a = get_reg(s, i->rm, sz, REX);
        uint64_t r = op_ADD(s, a, b, sz);
        set_reg(s, i->reg, a, sz, REX);
        set_reg(s, i->rm, r, sz, REX);
    }
}
FAM1(XADD, h_xadd);

static HANDLER(h_cmpxchg)
{
    int sz = i->opsize;
    uint64_t acc = get_reg(s, R_EAX, sz, false);
    uint64_t src = get_reg(s, i->reg, sz, REX);
    if (i->flags & IF_MEM) {
        MemRef m = { 0 };
        uint64_t a = rmw_ld(s, i, &m, sz);
        op_SUB(s, acc, a, sz);
        if (acc == a) {
            rmw_st(s, &m, src);
        } else {
            rmw_st(s, &m, a);
            set_reg(s, R_EAX, a, sz, false);
        }
    } else {
        uint64_t a = get_reg(s, i->rm, sz, REX);
        op_SUB(s, acc, a, sz);
        if (acc == a) {
            set_reg(s, i->rm, src, sz, REX);
        } else {
            set_reg(s, R_EAX, a, sz, false);
        }
    }
}
FAM1(CMPXCHG, h_cmpxchg);

static HANDLER(h_cmpxchg8b)
{
    CPUX86State *env = s->env;
    uint64_t ea = insn_ea(s, i);
    uint32_t fl = lf_get(s) & ~CC_Z;
    if (i->opsize == 8) {
        if (ea & 15) {
            RAISE_GP(s, 0);
        }
        uint64_t la = seg_linear(s, i->seg, ea, 16, ACC_W);
        mem_probe_write(s, la, 16, s->cpl == 3);
        uint64_t lo = lin_ld(s, la, 8), hi = lin_ld(s, la + 8, 8);
        if (lo == env->regs[R_EAX] && hi == env->regs[R_EDX]) {
            lin_st(s, la, env->regs[R_EBX], 8);
            lin_st(s, la + 8, env->regs[R_ECX], 8);
            fl |= CC_Z;
        } else {
            lin_st(s, la, lo, 8);
            lin_st(s, la + 8, hi, 8);
            env->regs[R_EAX] = lo;
            env->regs[R_EDX] = hi;
        }
    } else {
        uint64_t la = seg_linear(s, i->seg, ea, 8, ACC_W);
        mem_probe_write(s, la, 8, s->cpl == 3);
        uint64_t v = lin_ld(s, la, 8);
        uint64_t cmp = ((env->regs[R_EDX] & 0xffffffffull) << 32) | (uint32_t)env->regs[R_EAX];
        if (v == cmp) {
            lin_st(s, la, ((env->regs[R_ECX] & 0xffffffffull) << 32) |
                   (uint32_t)env->regs[R_EBX], 8);
            fl |= CC_Z;
        } else {
            lin_st(s, la, v, 8);
            env->regs[R_EAX] = (uint32_t)v;
            env->regs[R_EDX] = v >> 32;
        }
    }
    lf_set(s, fl);
}
FAM1(CMPXCHG8B, h_cmpxchg8b);

/* ---- moves ---- */
#define GEN_MOV_SZ(SZ)                                                         \
    static void MOV_EG_r##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        set_reg(s, i->rm, get_reg(s, i->reg, SZ, REX), SZ, REX);               \
    }                                                                          \
    static void MOV_EG_m##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        st_ea(s, i, get_reg(s, i->reg, SZ, REX), SZ);         \
    }                                                                          \
    static void MOV_GE_r##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        set_reg(s, i->reg, get_reg(s, i->rm, SZ, REX), SZ, REX);               \
    }                                                                          \
    static void MOV_GE_m##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        set_reg(s, i->reg, ld_ea(s, i, SZ), SZ, REX);         \
    }                                                                          \
    static void MOV_EI_r##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        set_reg(s, i->rm, i->imm, SZ, REX);                                    \
    }                                                                          \
    static void MOV_EI_m##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        st_ea(s, i, i->imm & size_mask(SZ), SZ);              \
    }
GEN_MOV_SZ(1)
GEN_MOV_SZ(2)
GEN_MOV_SZ(4)
GEN_MOV_SZ(8)
FAMRM(MOV_EG, MOV_EG);
FAMRM(MOV_GE, MOV_GE);
FAMRM(MOV_EI, MOV_EI);

static HANDLER(h_mov_ao)
{
    set_reg(s, R_EAX, ld(s, i->seg, i->imm & addr_mask(i->addrsize), i->opsize),
            i->opsize, false);
}
FAM1(MOV_AO, h_mov_ao);

static HANDLER(h_mov_oa)
{
    st(s, i->seg, i->imm & addr_mask(i->addrsize), get_reg(s, R_EAX, i->opsize, false),
       i->opsize);
}
FAM1(MOV_OA, h_mov_oa);

static HANDLER(h_lea)
{
    set_reg(s, i->reg, insn_ea(s, i), i->opsize, REX);
}
#define GEN_LEA(SZ) \
    static void h_lea_##SZ(Interp *s, const Insn *i) { set_reg(s, i->reg, insn_ea(s, i), SZ, REX); }
GEN_LEA(2)
GEN_LEA(4)
GEN_LEA(8)
THREADED(T_lea, h_lea)
THREADED(T_lea_2, h_lea_2)
THREADED(T_lea_4, h_lea_4)
THREADED(T_lea_8, h_lea_8)
const InsnHandler F_LEA[8] = { T_lea, T_lea_2, T_lea_4, T_lea_8, T_lea, T_lea_2, T_lea_4, T_lea_8 };

static HANDLER(h_movzx_b) { set_reg(s, i->reg, e_ld(s, i, 1), i->opsize, REX); }
static HANDLER(h_movzx_w) { set_reg(s, i->reg, e_ld(s, i, 2), i->opsize, REX); }
static HANDLER(h_movsx_b) { set_reg(s, i->reg, sext(e_ld(s, i, 1), 1), i->opsize, REX); }
static HANDLER(h_movsx_w) { set_reg(s, i->reg, sext(e_ld(s, i, 2), 2), i->opsize, REX); }
static HANDLER(h_movsxd)
{
    uint64_t v = e_ld(s, i, 4);
    set_reg(s, i->reg, i->opsize == 8 ? sext(v, 4) : v, i->opsize, REX);
}
/* MOVZX/MOVSX specialised by form and destination size (hot in compiled
 * code); the 8-bit slots cannot be decoded and keep the generic handler. */
#define MOVX_ZX(v, n) (v)
#define MOVX_SX(v, n) sext(v, n)
#define GEN_MOVX(NAME, SRC, EXT, SZ)                                           \
    static void NAME##_r##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        set_reg(s, i->reg, EXT(get_reg(s, i->rm, SRC, REX), SRC), SZ, REX);    \
    }                                                                          \
    static void NAME##_m##SZ(Interp *s, const Insn *i)                         \
    {                                                                          \
        set_reg(s, i->reg, EXT(ld_ea(s, i, SRC), SRC), SZ, REX); \
    }
#define GEN_MOVX_ALL(NAME, SRC, EXT, GENERIC)                                  \
    GEN_MOVX(NAME, SRC, EXT, 2)                                                \
    GEN_MOVX(NAME, SRC, EXT, 4)                                                \
    GEN_MOVX(NAME, SRC, EXT, 8)                                                \
    THREADED(T_##NAME, GENERIC)                                                \
    THREADED(T_##NAME##_r2, NAME##_r2) THREADED(T_##NAME##_m2, NAME##_m2)      \
    THREADED(T_##NAME##_r4, NAME##_r4) THREADED(T_##NAME##_m4, NAME##_m4)      \
    THREADED(T_##NAME##_r8, NAME##_r8) THREADED(T_##NAME##_m8, NAME##_m8)      \
    const InsnHandler F_##NAME[8] = { T_##NAME, T_##NAME##_r2, T_##NAME##_r4, T_##NAME##_r8, \
                                      T_##NAME, T_##NAME##_m2, T_##NAME##_m4, T_##NAME##_m8 };
GEN_MOVX_ALL(MOVZX_B, 1, MOVX_ZX, h_movzx_b)
GEN_MOVX_ALL(MOVZX_W, 2, MOVX_ZX, h_movzx_w)
GEN_MOVX_ALL(MOVSX_B, 1, MOVX_SX, h_movsx_b)
GEN_MOVX_ALL(MOVSX_W, 2, MOVX_SX, h_movsx_w)
FAM1(MOVSXD, h_movsxd);

static HANDLER(h_cmov)
{
    int sz = i->opsize;
    uint64_t v = e_ld(s, i, sz);
    if (cond_true(s, i->op & 15)) {
        set_reg(s, i->reg, v, sz, REX);
    } else if (sz == 4) {
        set_reg(s, i->reg, get_reg(s, i->reg, 4, REX), 4, REX);
    }
}
FAM1(CMOV, h_cmov);

static HANDLER(h_setcc)
{
    e_st(s, i, cond_true(s, i->op & 15), 1);
}
FAM1(SETCC, h_setcc);

static HANDLER(h_cbw)
{
    int sz = i->opsize;
    uint64_t a = get_reg(s, R_EAX, sz / 2, false);
    set_reg(s, R_EAX, sext(a, sz / 2), sz, false);
}
FAM1(CBW, h_cbw);

static HANDLER(h_cwd)
{
    int sz = i->opsize;
    uint64_t a = get_reg(s, R_EAX, sz, false);
    set_reg(s, R_EDX, (a >> (sz * 8 - 1)) & 1 ? ~0ull : 0, sz, false);
}
FAM1(CWD, h_cwd);

/* ---- flag instructions ---- */
static HANDLER(h_cmc) { (void)i; set_cf_only(s, !lf_cf(s)); }
static HANDLER(h_clc) { (void)i; set_cf_only(s, false); }
static HANDLER(h_stc) { (void)i; set_cf_only(s, true); }
FAM1(CMC, h_cmc);
FAM1(CLC, h_clc);
FAM1(STC, h_stc);

static HANDLER(h_lahf)
{
    (void)i;
    if (s->code64 && !ihook_has_feature(s->env, FEAT_8000_0001_ECX, 1u << 0)) {
        RAISE_UD(s);
    }
    set_reg(s, 4, lf_get(s) | 2, 1, false);
}
FAM1(LAHF, h_lahf);

static HANDLER(h_sahf)
{
    (void)i;
    if (s->code64 && !ihook_has_feature(s->env, FEAT_8000_0001_ECX, 1u << 0)) {
        RAISE_UD(s);
    }
    uint32_t ah = (s->env->regs[R_EAX] >> 8) & 0xff;
    uint32_t fl = lf_get(s) & CC_O;
    lf_set(s, fl | (ah & (CC_S | CC_Z | CC_A | CC_P | CC_C)));
}
FAM1(SAHF, h_sahf);

static HANDLER(h_salc)
{
    (void)i;
    set_reg(s, R_EAX, lf_cf(s) ? 0xff : 0, 1, false);
}
FAM1(SALC, h_salc);

/* ---- BCD ---- */
static HANDLER(h_daa)
{
    (void)i;
    uint32_t fl = lf_get(s);
    unsigned al = s->env->regs[R_EAX] & 0xff, old = al;
    bool cf = fl & CC_C, af = false;
    if ((al & 15) > 9 || (fl & CC_A)) {
        al = (al + 6) & 0xff;
        af = true;
    }
    if (old > 0x99 || cf) {
        al = (al + 0x60) & 0xff;
        cf = true;
    } else {
        cf = false;
    }
    set_reg(s, R_EAX, al, 1, false);
    lf_res_cf_of(s, al, 1, cf, false, af);
}
FAM1(DAA, h_daa);

static HANDLER(h_das)
{
    (void)i;
    uint32_t fl = lf_get(s);
    unsigned al = s->env->regs[R_EAX] & 0xff, old = al;
    bool cf = fl & CC_C, af = false, ncf = false;
    if ((al & 15) > 9 || (fl & CC_A)) {
        ncf = cf || al < 6;
        al = (al - 6) & 0xff;
        af = true;
    }
    if (old > 0x99 || cf) {
        al = (al - 0x60) & 0xff;
        ncf = true;
    }
    set_reg(s, R_EAX, al, 1, false);
    lf_res_cf_of(s, al, 1, ncf, false, af);
}
FAM1(DAS, h_das);

static void aaa_aas(Interp *s, bool sub)
{
    CPUX86State *env = s->env;
    uint32_t fl = lf_get(s);
    unsigned ax = env->regs[R_EAX] & 0xffff;
    bool adj = (ax & 15) > 9 || (fl & CC_A);
    if (adj) {
        if (sub) {
            ax = ((ax - 6) & 0xff) | ((((ax >> 8) - 1) & 0xff) << 8);
        } else {
            ax = ((ax + 6) & 0xff) | ((((ax >> 8) + 1) & 0xff) << 8);
        }
    }
    ax &= 0xff0f;
    set_reg(s, R_EAX, ax, 2, false);
    fl &= ~(CC_A | CC_C);
    lf_set(s, fl | (adj ? CC_A | CC_C : 0));
}
static HANDLER(h_aaa) { (void)i; aaa_aas(s, false); }
static HANDLER(h_aas) { (void)i; aaa_aas(s, true); }
FAM1(AAA, h_aaa);
FAM1(AAS, h_aas);

static HANDLER(h_aam)
{
    unsigned base = i->imm & 0xff;
    if (base == 0) {
        raise_exception_noerr(s, EXCP00_DIVZ);
    }
    unsigned al = s->env->regs[R_EAX] & 0xff;
    unsigned r = ((al / base) << 8) | (al % base);
    set_reg(s, R_EAX, r, 2, false);
    lf_logic(s, r & 0xff, 1);
}
FAM1(AAM, h_aam);

static HANDLER(h_aad)
{
    unsigned base = i->imm & 0xff;
    unsigned ax = s->env->regs[R_EAX] & 0xffff;
    unsigned al = ((ax & 0xff) + (ax >> 8) * base) & 0xff;
    set_reg(s, R_EAX, al, 2, false);
    lf_logic(s, al, 1);
}
FAM1(AAD, h_aad);
