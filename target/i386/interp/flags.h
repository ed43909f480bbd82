/*
 * Lazy arithmetic flags: the last result (sign-extended to 64 bits) plus a
 * 32-bit auxiliary vector. Each of CF/OF/AF/ZF/SF/PF comes out with a few
 * bit operations and no switch on the operation (Bochs-style design).
 * Spec: Intel SDM vol. 1 §3.4.3 (status flags).
 * Locking: per-vCPU state, vCPU thread only.
 *
 * lf_aux layout: bit 31 CF, bit 30 CF^OF, bit 3 AF, bit 0 "sign delta"
 * (SF = result sign ^ SD), bits 8-15 "parity delta" (PF = parity of the
 * result's low byte ^ PD).
 */
#ifndef INTERP_FLAGS_H
#define INTERP_FLAGS_H

#include "interp.h"

#define LF_CF 31
#define LF_PO 30
#define LF_AF 3
#define LF_SD 0
#define LF_PD 8

static inline bool lf_cf(Interp *s) { return (s->lf_aux >> LF_CF) & 1; }
static inline bool lf_of(Interp *s)
{
    return ((s->lf_aux >> LF_CF) ^ (s->lf_aux >> LF_PO)) & 1;
}
static inline bool lf_af(Interp *s) { return (s->lf_aux >> LF_AF) & 1; }
static inline bool lf_zf(Interp *s) { return s->lf_res == 0; }
static inline bool lf_sf(Interp *s)
{
    return ((s->lf_res >> 63) ^ (s->lf_aux >> LF_SD)) & 1;
}
static inline bool lf_pf(Interp *s)
{
    return !__builtin_parity((uint8_t)(s->lf_res ^ (s->lf_aux >> LF_PD)));
}

/* Carry vector of an add/sub with operands a, b and result r. */
static inline uint64_t cv_add(uint64_t a, uint64_t b, uint64_t r)
{
    return (a & b) | ((a | b) & ~r);
}

static inline uint64_t cv_sub(uint64_t a, uint64_t b, uint64_t r)
{
    return (~a & b) | ((~a | b) & r);
}

/* Record an add/sub result of 'size' bytes from its carry vector. */
static inline void lf_arith(Interp *s, uint64_t r, uint64_t cv, int size)
{
    int n = size * 8;
    s->lf_res = sext(r, size);
    s->lf_aux = (uint32_t)((cv >> (n - 2)) << LF_PO) | (uint32_t)(cv & 8);
}

/* Logic result: CF=OF=AF=0. */
static inline void lf_logic(Interp *s, uint64_t r, int size)
{
    s->lf_res = sext(r, size);
    s->lf_aux = 0;
}

/* Result plus explicit CF, OF, AF. */
static inline void lf_res_cf_of(Interp *s, uint64_t r, int size, bool cf, bool of, bool af)
{
    s->lf_res = sext(r, size);
    s->lf_aux = ((uint32_t)cf << LF_CF) | ((uint32_t)(cf ^ of) << LF_PO) |
                ((uint32_t)af << LF_AF);
}

/* Replace CF, keeping the OF that the current aux encodes (INC/DEC). */
static inline void lf_force_cf(Interp *s, bool cf)
{
    bool of = lf_of(s);
    s->lf_aux = (s->lf_aux & ~(3u << LF_PO)) | ((uint32_t)cf << LF_CF) |
                ((uint32_t)(cf ^ of) << LF_PO);
}

static inline uint32_t lf_get(Interp *s)
{
    return (lf_cf(s) ? CC_C : 0) | (lf_pf(s) ? CC_P : 0) | (lf_af(s) ? CC_A : 0) |
           (lf_zf(s) ? CC_Z : 0) | (lf_sf(s) ? CC_S : 0) | (lf_of(s) ? CC_O : 0);
}

/* Condition code cc (0..15, the low nibble of Jcc/SETcc/CMOVcc). With a
 * constant cc this folds to a couple of bit operations. */
ALWAYS_INLINE bool cc_test(Interp *s, int cc)
{
    bool r;
    switch (cc >> 1) {
    case 0: r = lf_of(s); break;
    case 1: r = lf_cf(s); break;
    case 2: r = lf_zf(s); break;
    case 3: r = lf_cf(s) || lf_zf(s); break;
    case 4: r = lf_sf(s); break;
    case 5: r = lf_pf(s); break;
    case 6: r = lf_sf(s) != lf_of(s); break;
    default: r = lf_zf(s) || (lf_sf(s) != lf_of(s)); break;
    }
    return r ^ (cc & 1);
}

/* Encode the six status flags of 'fl' into lazy state. */
static inline void lf_set(Interp *s, uint32_t fl)
{
    uint64_t r = (fl & CC_Z) ? 0 : 1;
    bool cf = fl & CC_C, of = fl & CC_O;
    uint32_t pd = (uint32_t)(r & 1) ^ ((fl & CC_P) ? 0 : 1);
    s->lf_res = r;
    s->lf_aux = ((uint32_t)cf << LF_CF) | ((uint32_t)(cf ^ of) << LF_PO) |
                ((fl & CC_A) ? (1u << LF_AF) : 0) |
                ((fl & CC_S) ? (1u << LF_SD) : 0) | (pd << LF_PD);
}

#endif
