/*
 * Attribute bits of insn.def rows (decode.c only).
 * Spec: Intel SDM vol. 2 appendix A (operand-size and mode notes).
 * Locking: constants.
 */
#ifndef INTERP_DECODE_ATTRS_H
#define INTERP_DECODE_ATTRS_H

#define M     (1u << 0)    /* has ModRM */
#define MO    (1u << 1)    /* memory form only */
#define RO    (1u << 2)    /* register form only */
#define B     (1u << 3)    /* byte operand */
#define IB    (1u << 4)    /* imm8, sign-extended */
#define IW    (1u << 5)    /* imm16 */
#define IZ    (1u << 6)    /* imm16/32 by operand size, sign-extended */
#define IV    (1u << 7)    /* imm16/32/64 by operand size */
#define IA    (1u << 8)    /* moffs: address-size immediate */
#define FP    (1u << 9)    /* far pointer: offset then selector */
#define EN    (1u << 10)   /* ENTER: imm16 + imm8 */
#define D64   (1u << 11)   /* default 64-bit operand in long mode */
#define F64   (1u << 12)   /* forced 64-bit operand in long mode */
#define I64   (1u << 13)   /* invalid in 64-bit mode */
#define O64   (1u << 14)   /* 64-bit mode only */
#define LK    (1u << 15)   /* LOCK allowed (memory form) */
#define OR3   (1u << 16)   /* register in opcode bits 0-2 */
#define AR    (1u << 17)   /* implicit accumulator as the E operand */
#define JR    (1u << 18)   /* relative branch */
#define OP32  (1u << 19)   /* operand size at most 32 bits */
#define MOVCR (1u << 20)   /* MOV CRn/DRn: ModRM.mod ignored */

#define PX (-1)
#define P0 0
#define P66 1
#define PF3 2
#define PF2 3

#endif
