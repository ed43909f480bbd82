/*
 * Internal header of the software x86-64 CPU: the per-vCPU interpreter
 * state (Interp), the decoded instruction (Insn) and basic block (Block),
 * threaded dispatch (dispatch_next, the FAM* handler-table macros), memory
 * access helpers built on the software TLB, and the prototypes shared by
 * the interp files.
 * Spec: Intel SDM vol. 2 (instruction formats), vol. 3 (system state).
 * Locking: everything here runs on the vCPU thread without the BQL; only
 * as_rw() on MMIO/PIO takes the BQL (inside memory.c).
 */
#ifndef INTERP_INTERP_H
#define INTERP_INTERP_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>
#include "util/error.h"
#include "target/i386/cpu.h"
#include "system/cpus.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define unlikely(x) __builtin_expect(!!(x), 0)

typedef struct Interp Interp;
typedef struct Insn Insn;
typedef void (*InsnHandler)(Interp *s, const Insn *i);

/* Insn.flags */
#define IF_REX      0x01   /* a REX prefix was present (byte regs SPL..DIL) */
#define IF_MEM      0x02   /* ModRM names memory */
#define IF_RIPREL   0x04   /* RIP-relative address */
#define IF_LOCK     0x08
#define IF_REXW     0x10
#define IF_SEGOVR   0x20   /* explicit segment override */
#define IF_ENDBLK   0x40   /* ends a basic block (branch, HLT, #UD...) */

/* Insn.eaf: 64-bit address size, not RIP-relative, with a base register,
 * no FS/GS override (insn_ea's and ld_ea's fast path) */
#define EAF_B64   1        /* base + disp */
#define EAF_BIS64 2        /* base + index * scale + disp */

struct Insn {
    InsnHandler h;
    uint8_t len;
    uint8_t opsize;        /* 1, 2, 4, 8 bytes */
    uint8_t addrsize;      /* 2, 4, 8 */
    uint8_t seg;           /* effective segment for the memory operand */
    uint8_t rep;           /* 0, 0xf3, 0xf2 */
    uint8_t flags;
    uint8_t op;            /* last opcode byte */
    uint8_t reg;           /* ModRM.reg (+REX.R) */
    uint8_t rm;            /* ModRM.rm (+REX.B): register form */
    uint8_t base;          /* 0xff: none */
    uint8_t index;         /* 0xff: none */
    uint8_t scale;         /* shift count 0..3 */
    uint8_t mod;
    uint8_t pfx;           /* mandatory-prefix class: 0 none, 1 66, 2 f3, 3 f2 */
    uint8_t dc_mode;       /* decode cache key: code size */
    uint8_t eaf;           /* EAF_*: a common 64-bit address form, or 0 */
    int32_t disp;
    uint16_t imm2;         /* ENTER level, far pointer selector */
    uint16_t dc_next;      /* decode cache slot of the fall-through insn */
    uint64_t imm;
};

/* Software TLB (direct-mapped). perm bits: access type + 3 * user. */
#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
#define PERM_R  1u
#define PERM_W  2u
#define PERM_X  4u
#define PERM_UR 8u
#define PERM_UW 16u
#define PERM_UX 32u
#define PERM_GLOBAL 64u
#define PERM_LARGE  0x80u
/* slow_perm only: the fast write bits were withheld because the page holds
 * watched code; the withheld bits are kept at PERM_WP_SHIFT */
#define PERM_CODEWP 0x100u
#define PERM_WP_SHIFT 9
#define WP_BITS 12
#define WP_SIZE (1u << WP_BITS)

typedef struct TLBEntry {
    uint64_t vpn;          /* linear page number; ~0 = invalid */
    uint8_t *host;         /* host address of the page (RAM only) */
    uint32_t perm;         /* fast path: accesses served from host */
    uint32_t slow_perm;    /* accesses allowed at all (MMIO, ROM writes) */
    uint64_t ppage;        /* physical page address */
} TLBEntry;

/* Decode cache (direct-mapped by linear RIP, validated by raw bytes). */
#define DC_BITS 15
#define DC_SIZE (1u << DC_BITS)
#define DC_SLOT(lip) (((lip) ^ ((lip) >> DC_BITS)) & (DC_SIZE - 1))
typedef struct DCEntry {
    uint64_t lip;          /* linear address of the instruction */
    uint64_t raw[2];       /* instruction bytes, zero padded to 16 */
    Insn insn;             /* insn.dc_mode: code size it was decoded for */
} __attribute__((aligned(64))) DCEntry;

/* Basic block (block.c): n decoded instructions and a sentinel whose
 * handler ends the threaded chain (see dispatch_next), then the code bytes it
 * was decoded from as nw 64-bit words: words 0..nw-2 at offsets 0, 8, ...,
 * the last one at last_off (moved back so it never reads past the page)
 * under last_mask. */
typedef struct Block {
    uint64_t lip;          /* linear address of the first instruction */
    uint64_t last_mask;
    uint64_t epoch;        /* s->code_epoch when last validated */
    /* successors seen last (fall-through, other): lookup hints, validated
     * like any block; the arena reset drops them with the blocks */
    struct Block *succ[2];
    struct Block *hnext;   /* hash chain */
    uint8_t mode;          /* code size it was decoded for */
    uint8_t n;             /* instructions */
    uint8_t nw;            /* words of code to compare */
    uint8_t pad;
    int16_t last_off;
    uint16_t nbytes;       /* code bytes (the block stays within a page) */
    Insn insn[];
} Block;

static inline uint64_t *block_words(const Block *b)
{
    return (uint64_t *)&b->insn[b->n + 1];
}

enum { ACC_R = 0, ACC_W = 1, ACC_X = 2 };

struct Interp {
    CPUX86State *env;
    CPUState *cpu;

    /* lazy arithmetic flags: see flags.h */
    uint64_t lf_res;
    uint32_t lf_aux;

    /* per-instruction */
    uint64_t start_rip, start_rsp;
    uint64_t next_rip;
    const Insn *last_insn;       /* where the threaded chain stopped */
    uint64_t blk_end;            /* RIP after the running block */
    sigjmp_buf jb;
    int exc_vec;                 /* pending exception, -1 none */
    uint32_t exc_err;
    bool exc_has_err;
    int delivering;              /* vector being delivered, -1 none */
    bool triple_fault;
    bool inhibit_irq;            /* shadow set by this instruction */
    bool brk;                    /* leave the current block after this insn */
    bool noblock;                /* KEMU_INTERP_BLOCKS=0: one insn at a time */
    int exit_code;               /* nonzero: leave the slice with this */

    /* mode cache (interp_update_mode) */
    int cpl;
    bool pe, lma, code64, vm86;
    uint8_t code_size;           /* 2, 4, 8 */
    uint8_t stack_size;          /* 2, 4, 8 */
    uint32_t perm_need[3];       /* TLB perm bit for R/W/X at this CPL */
    uint64_t la_mask;            /* 32-bit truncation outside long mode */

    TLBEntry tlb[TLB_SIZE];      /* data accesses */
    TLBEntry itlb[TLB_SIZE];     /* instruction fetch */
    /* the code page decode_fetch used last: its page number and host
     * address, valid while the ITLB entry and the CPL it was checked for
     * are unchanged (tlb_flush*, tlb_fill and interp_update_mode reset
     * fvpn to ~0) */
    uint64_t fvpn;
    uint8_t *fhost;
    /* Code epoch: a block validated in the current epoch is still valid
     * (block.c). Bumped whenever code bytes may have changed behind the
     * blocks' back: a store into a watched page, a page leaving the
     * watched set, TLB flushes, mode changes, slice start, interrupts,
     * exceptions, MMIO/PIO. A block is validated only while its page is
     * "watched" (the set wp, direct-mapped by host page): the data TLB
     * entries of watched pages lack the fast write bits (PERM_CODEWP), so a
     * store to them takes the slow path, which bumps the epoch and drops
     * the page from the set (mmu.c). */
    uint64_t code_epoch;
    uint8_t *wp[WP_SIZE];        /* watched code pages (host addresses) */
    unsigned fv_gen;             /* FlatView generation the TLB is valid for */
    uint64_t a20_cached;         /* env->a20_mask the TLB is valid for */
    DCEntry *dc;
    Block **bh;                  /* block hash (block.c) */
    uint8_t *arena;              /* block storage, reset when full */
    size_t arena_used;
    Block *prev_blk;             /* the block run last (chaining hint) */

    uint64_t icount, icount_start;
    bool yield_on_pause;         /* SMP: PAUSE ends the slice (spin loops) */
    uint64_t tsc_offset;
    uint64_t tsc_synced;         /* env->tsc value we last wrote */         /* guest tsc = host ns-based clock + offset */
};

/* ---- exec.c ---- */
void __attribute__((noreturn)) raise_exception(Interp *s, int vec, uint32_t err);
void __attribute__((noreturn)) raise_exception_noerr(Interp *s, int vec);
void interp_update_mode(Interp *s);
uint64_t interp_get_eflags(Interp *s);
void interp_set_eflags(Interp *s, uint64_t val, uint64_t mask);
void interp_exit_slice(Interp *s, int code);
#define RAISE_UD(s) raise_exception_noerr(s, EXCP06_ILLOP)
#define RAISE_GP(s, e) raise_exception(s, EXCP0D_GPF, (e))

/* ---- decode.c ---- */
void decode_init(void);
/* Decode at s->env->rip (cache miss or unusual case); faults are raised. */
const Insn *decode_fetch_slow(Interp *s, DCEntry *e, uint64_t lip);
/* Decode a byte buffer (tests): returns length, or -1 on #UD. */
int decode_buffer(const uint8_t *buf, int avail, int code_size, Insn *out);

/* ---- block.c ---- */
void block_init(Interp *s);
void block_free(Interp *s);
void block_flush(Interp *s);
static inline void code_set_page(Interp *s, uint8_t *page);
/* The valid block at lip (building it if needed), or NULL: use the
 * per-instruction path. May raise #PF for the fetch. */
Block *block_miss(Interp *s, uint64_t lip);
bool block_valid(Interp *s, Block *b, uint64_t lip);
#define BH_BITS 16
#define BH_SIZE (1u << BH_BITS)
#define BH_SLOT(lip) (((lip) ^ ((lip) >> BH_BITS) ^ ((lip) >> (2 * BH_BITS))) & (BH_SIZE - 1))
static inline Block *block_lookup(Interp *s, uint64_t lip)
{
    Block *p = s->prev_blk, *b;
    if (p) {
        b = p->succ[0];
        if (b && b->lip == lip && b->mode == s->code_size) {
            goto found;
        }
        b = p->succ[1];
        if (b && b->lip == lip && b->mode == s->code_size) {
            goto found;
        }
    }
    b = s->bh[BH_SLOT(lip)];   /* the head of the hash chain */
    if (likely(b && b->lip == lip && b->mode == s->code_size)) {
        if (p) {
            p->succ[lip == p->lip + p->nbytes ? 0 : 1] = b;
        }
found:
        if (likely(b->epoch == s->code_epoch) || block_valid(s, b, lip)) {
            return b;
        }
    }
    return block_miss(s, lip);
}

/* Decode one instruction from buf (avail bytes): length, 0 if it needs more
 * bytes, -1 if longer than 15. Invalid encodings get the #UD handler. */
int decode_insn(const uint8_t *buf, int avail, int code_size, Insn *in);

/* ---- mmu.c ---- */
void tlb_flush(Interp *s, bool include_global);
void tlb_flush_page(Interp *s, uint64_t la);
/* Watch the code page (host address) for stores in this epoch. */
void code_watch(Interp *s, uint8_t *page);
/* Translate for an access; fills/uses the TLB; returns host ptr or NULL
 * (MMIO), *pa receives the physical address. user: access is a CPL3 one. */
uint8_t *mmu_translate(Interp *s, uint64_t la, int acc, bool user, uint64_t *pa);
__attribute__((cold)) uint64_t mem_read_slow(Interp *s, uint64_t la, int size, int acc, bool user);
__attribute__((cold)) void mem_write_slow(Interp *s, uint64_t la, uint64_t val, int size, bool user);
void mem_probe_write(Interp *s, uint64_t la, int size, bool user);
void mem_read_bytes(Interp *s, uint64_t la, void *buf, int n, bool user);
void mem_read_bytes_acc(Interp *s, uint64_t la, void *buf, int n, int acc, bool user);
void mem_write_bytes(Interp *s, uint64_t la, const void *buf, int n, bool user);
uint64_t phys_ld(Interp *s, uint64_t pa, int size);
void phys_st(Interp *s, uint64_t pa, uint64_t val, int size);
/* Non-faulting translation for debuggers/tests: -1 when unmapped. */
int64_t mmu_debug_translate(Interp *s, uint64_t la);

/* ---- seg.c ---- */
uint64_t seg_linear_slow(Interp *s, int seg, uint64_t off, int size, int acc);
void load_seg(Interp *s, int seg, uint16_t sel);
void load_seg_real(Interp *s, int seg, uint16_t sel);
bool load_desc(Interp *s, uint16_t sel, uint32_t *lo, uint32_t *hi);
void set_seg_from_desc(SegmentCache *sc, uint16_t sel, uint32_t lo, uint32_t hi);
uint64_t desc_base(uint32_t lo, uint32_t hi);
uint32_t desc_limit(uint32_t lo, uint32_t hi);
void do_lldt(Interp *s, uint16_t sel);
void do_ltr(Interp *s, uint16_t sel);
/* Hardware task switch; reason: TS_JMP, TS_CALL, TS_INT, TS_IRET. sel is a
 * TSS or task-gate selector; save_eip is the EIP stored in the old TSS. */
enum { TS_JMP, TS_CALL, TS_INT, TS_IRET };
void task_switch(Interp *s, uint16_t sel, int reason, bool has_err, uint32_t err,
                 uint64_t save_eip);

/* ---- excp.c ---- */
/* Deliver vector through the IDT. is_int: software INT n (privilege check),
 * next_rip: return address pushed for traps/INT. */
void do_interrupt(Interp *s, int vec, bool is_int, bool has_err,
                  uint32_t err, uint64_t next_rip);
bool excp_has_error_code(int vec);

/* ---- ctrl.c ---- */
void do_iret(Interp *s, int opsize);
void do_far_jmp(Interp *s, uint16_t sel, uint64_t off);
void do_far_call(Interp *s, uint16_t sel, uint64_t off, int opsize);
void do_far_ret(Interp *s, int opsize, uint16_t pop_extra);
bool cond_true(Interp *s, int cc);

/* ---- system.c ---- */
void set_cr0(Interp *s, uint64_t v);
void set_cr3(Interp *s, uint64_t v);
void set_cr4(Interp *s, uint64_t v);
void set_efer(Interp *s, uint64_t v);
bool io_allowed(Interp *s, uint16_t port, int size);
uint64_t io_in(Interp *s, uint16_t port, int size);
void io_out(Interp *s, uint16_t port, uint64_t val, int size);
uint64_t guest_tsc(Interp *s);
void fpu_check(Interp *s);
void sse_check(Interp *s);

/* ---- glue.c (tests stub these) ---- */
void ihook_cpuid(CPUX86State *env, uint32_t leaf, uint32_t sub,
                 uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d);
bool ihook_has_feature(CPUX86State *env, FeatureWord w, uint32_t bit);
int ihook_get_interrupt(CPUState *cpu);
bool ihook_has_interrupt(CPUState *cpu);
uint8_t ihook_get_tpr(CPUState *cpu);
void ihook_set_tpr(CPUState *cpu, uint8_t v);
void ihook_set_apic_base(CPUState *cpu, uint64_t v);
uint64_t ihook_get_tsc_deadline(CPUState *cpu);
void ihook_set_tsc_deadline(CPUState *cpu, uint64_t v);
void ihook_cpu_reset(CPUX86State *env);
void ihook_init_reset(CPUState *cpu);
/* The clock the guest TSC follows (CLOCK_VIRTUAL in ns). */
uint64_t ihook_clock_ns(void);

/* ---- register helpers ---- */
static inline uint64_t size_mask(int size)
{
    return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t sext(uint64_t v, int size)
{
    switch (size) {
    case 1: return (uint64_t)(int64_t)(int8_t)v;
    case 2: return (uint64_t)(int64_t)(int16_t)v;
    case 4: return (uint64_t)(int64_t)(int32_t)v;
    default: return v;
    }
}

ALWAYS_INLINE uint64_t get_reg(Interp *s, int r, int size, bool rex)
{
    CPUX86State *env = s->env;
    if (size == 1) {
        if (!rex && r >= 4 && r < 8) {
            return (env->regs[r - 4] >> 8) & 0xff;
        }
        return env->regs[r] & 0xff;
    }
    return env->regs[r] & size_mask(size);
}

ALWAYS_INLINE void set_reg(Interp *s, int r, uint64_t v, int size, bool rex)
{
    CPUX86State *env = s->env;
    switch (size) {
    case 1:
        if (!rex && r >= 4 && r < 8) {
            env->regs[r - 4] = (env->regs[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
        } else {
            env->regs[r] = (env->regs[r] & ~0xffull) | (v & 0xff);
        }
        break;
    case 2:
        env->regs[r] = (env->regs[r] & ~0xffffull) | (v & 0xffff);
        break;
    case 4:
        env->regs[r] = (uint32_t)v;
        break;
    default:
        env->regs[r] = v;
        break;
    }
}

/* ---- memory access through segments + TLB ---- */
/* Linear address of seg:off with limit/type checks (64-bit fast path). */
ALWAYS_INLINE uint64_t seg_linear(Interp *s, int seg, uint64_t off, int size, int acc)
{
    if (likely(s->code64)) {
        uint64_t la = off + (seg >= R_FS ? s->env->segs[seg].base : 0);
        if (likely((uint64_t)((int64_t)(la << 16) >> 16) == la)) {
            return la;
        }
    }
    return seg_linear_slow(s, seg, off, size, acc);
}

/* The TLB entry serving this access on the fast path, or NULL. The tag is
 * compared with the page of the access's last byte, so an access that
 * crosses a page misses. The TLB only ever holds canonical pages, so in
 * 64-bit mode a non-canonical address misses too (and faults on the slow
 * path). */
ALWAYS_INLINE TLBEntry *tlb_fast(Interp *s, uint64_t la, int size, int acc)
{
    TLBEntry *e = &(acc == ACC_X ? s->itlb : s->tlb)[(la >> 12) & (TLB_SIZE - 1)];
    if (likely(e->vpn == (la + size - 1) >> 12 && (e->perm & s->perm_need[acc]))) {
        return e;
    }
    return NULL;
}

ALWAYS_INLINE uint8_t *tlb_hit(Interp *s, uint64_t la, int size, int acc)
{
    TLBEntry *e = tlb_fast(s, la, size, acc);
    return e ? e->host + (la & 0xfff) : NULL;
}

ALWAYS_INLINE uint64_t load_host(const uint8_t *p, int size)
{
    switch (size) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

ALWAYS_INLINE void store_host(uint8_t *p, uint64_t v, int size)
{
    switch (size) {
    case 1: *p = v; break;
    case 2: { uint16_t x = v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

ALWAYS_INLINE uint64_t lin_ld(Interp *s, uint64_t la, int size)
{
    TLBEntry *e = tlb_fast(s, la, size, ACC_R);
    if (likely(e)) {
        return load_host(e->host + (la & 0xfff), size);
    }
    return mem_read_slow(s, la, size, ACC_R, s->cpl == 3);
}

ALWAYS_INLINE void lin_st(Interp *s, uint64_t la, uint64_t v, int size)
{
    TLBEntry *e = tlb_fast(s, la, size, ACC_W);
    if (likely(e)) {
        store_host(e->host + (la & 0xfff), v, size);
        return;
    }
    mem_write_slow(s, la, v, size, s->cpl == 3);
}

/* Out of line: segment checks, then the TLB or the slow path (mmu.c). */
__attribute__((cold)) uint64_t ld_seg_slow(Interp *s, int seg, uint64_t off, int size);
__attribute__((cold)) void st_seg_slow(Interp *s, int seg, uint64_t off, uint64_t v, int size);

/* In 64-bit mode the fast path needs no segment check: only FS/GS have a
 * base, and a non-canonical address misses the TLB. */
ALWAYS_INLINE uint64_t ld(Interp *s, int seg, uint64_t off, int size)
{
    if (likely(s->code64)) {
        uint64_t la = off + (seg >= R_FS ? s->env->segs[seg].base : 0);
        TLBEntry *e = tlb_fast(s, la, size, ACC_R);
        if (likely(e)) {
            return load_host(e->host + (la & 0xfff), size);
        }
    }
    return ld_seg_slow(s, seg, off, size);
}

ALWAYS_INLINE void st(Interp *s, int seg, uint64_t off, uint64_t v, int size)
{
    if (likely(s->code64)) {
        uint64_t la = off + (seg >= R_FS ? s->env->segs[seg].base : 0);
        TLBEntry *e = tlb_fast(s, la, size, ACC_W);
        if (likely(e)) {
            store_host(e->host + (la & 0xfff), v, size);
            return;
        }
    }
    st_seg_slow(s, seg, off, v, size);
}

/* Supervisor-implicit accesses (descriptor tables, TSS, IDT). */
static inline uint64_t sys_ld(Interp *s, uint64_t la, int size)
{
    return mem_read_slow(s, la, size, ACC_R, false);
}

static inline void sys_st(Interp *s, uint64_t la, uint64_t v, int size)
{
    mem_write_slow(s, la, v, size, false);
}

/* ---- effective addresses ---- */
static inline uint64_t addr_mask(int asz)
{
    return asz == 8 ? ~0ull : asz == 4 ? 0xffffffffull : 0xffffull;
}

ALWAYS_INLINE uint64_t insn_ea(Interp *s, const Insn *i)
{
    if (likely(i->eaf)) {
        uint64_t a = s->env->regs[i->base] + (uint64_t)(int64_t)i->disp;
        if (i->eaf == EAF_BIS64) {
            a += s->env->regs[i->index] << i->scale;
        }
        return a;
    }
    uint64_t a = (uint64_t)(int64_t)i->disp;
    if (i->flags & IF_RIPREL) {
        a += s->next_rip;
    } else {
        if (i->base != 0xff) {
            a += s->env->regs[i->base];
        }
        if (i->index != 0xff) {
            a += s->env->regs[i->index] << i->scale;
        }
    }
    return a & addr_mask(i->addrsize);
}

/* Read/modify/write reference to a ModRM operand. */
typedef struct MemRef {
    uint8_t *host;
    uint64_t la;
    int size;
} MemRef;

__attribute__((cold)) uint64_t rmw_ld_slow(Interp *s, int seg, uint64_t off, MemRef *r, int size);

ALWAYS_INLINE uint64_t rmw_ld(Interp *s, const Insn *i, MemRef *r, int size)
{
    uint64_t off = insn_ea(s, i);
    r->size = size;
    if (likely(i->eaf)) {
        TLBEntry *e = tlb_fast(s, off, size, ACC_W);
        if (likely(e)) {
            r->host = e->host + (off & 0xfff);
            return load_host(r->host, size);
        }
    } else if (likely(s->code64)) {
        int seg = i->seg;
        uint64_t la = off + (seg >= R_FS ? s->env->segs[seg].base : 0);
        TLBEntry *e = tlb_fast(s, la, size, ACC_W);
        if (likely(e)) {
            r->host = e->host + (la & 0xfff);
            return load_host(r->host, size);
        }
    }
    return rmw_ld_slow(s, i->seg, off, r, size);
}

ALWAYS_INLINE void rmw_st(Interp *s, MemRef *r, uint64_t v)
{
    if (likely(r->host)) {
        store_host(r->host, v, r->size);
    } else {
        mem_write_slow(s, r->la, v, r->size, s->cpl == 3);
    }
}

/* The ModRM memory operand. An EAF_* form implies 64-bit mode (64-bit
 * addressing) and no FS/GS base: the address is the linear address. */
ALWAYS_INLINE uint64_t ld_ea(Interp *s, const Insn *i, int size)
{
    if (likely(i->eaf)) {
        uint64_t la = insn_ea(s, i);
        TLBEntry *e = tlb_fast(s, la, size, ACC_R);
        if (likely(e)) {
            return load_host(e->host + (la & 0xfff), size);
        }
    }
    return ld(s, i->seg, insn_ea(s, i), size);
}

ALWAYS_INLINE void st_ea(Interp *s, const Insn *i, uint64_t v, int size)
{
    if (likely(i->eaf)) {
        uint64_t la = insn_ea(s, i);
        TLBEntry *e = tlb_fast(s, la, size, ACC_W);
        if (likely(e)) {
            store_host(e->host + (la & 0xfff), v, size);
            return;
        }
    }
    st(s, i->seg, insn_ea(s, i), v, size);
}

/* Generic E operand access. */
ALWAYS_INLINE uint64_t e_ld(Interp *s, const Insn *i, int size)
{
    if (i->flags & IF_MEM) {
        return ld_ea(s, i, size);
    }
    return get_reg(s, i->rm, size, i->flags & IF_REX);
}

ALWAYS_INLINE void e_st(Interp *s, const Insn *i, uint64_t v, int size)
{
    if (i->flags & IF_MEM) {
        st_ea(s, i, v, size);
    } else {
        set_reg(s, i->rm, v, size, i->flags & IF_REX);
    }
}

/* ---- stack ---- */
static inline uint64_t sp_mask(Interp *s)
{
    return addr_mask(s->stack_size);
}

static inline void push(Interp *s, uint64_t v, int size)
{
    CPUX86State *env = s->env;
    uint64_t m = sp_mask(s);
    uint64_t sp = (env->regs[R_ESP] - size) & m;
    st(s, R_SS, sp, v, size);
    env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | sp;
}

static inline uint64_t pop_peek(Interp *s, int size, int depth)
{
    uint64_t m = sp_mask(s);
    return ld(s, R_SS, (s->env->regs[R_ESP] + depth) & m, size);
}

static inline void sp_add(Interp *s, int64_t n)
{
    CPUX86State *env = s->env;
    uint64_t m = sp_mask(s);
    env->regs[R_ESP] = (env->regs[R_ESP] & ~m) | ((env->regs[R_ESP] + n) & m);
}

static inline uint64_t pop(Interp *s, int size)
{
    uint64_t v = pop_peek(s, size, 0);
    sp_add(s, size);
    return v;
}

static inline void code_set_page(Interp *s, uint8_t *page)
{
    s->fhost = page;
}

/* Byte masks for the raw-byte compare, indexed by instruction length. */
extern const uint64_t dc_mask_lo[16], dc_mask_hi[16];

/* The cached Insn at RIP. Hit path: one TLB lookup and a masked compare of
 * the code bytes with the bytes the entry was decoded from. *hint is the
 * slot the previous instruction predicted (its fall-through): trying it
 * first takes the hash of RIP off the dependency chain from one
 * instruction to the next; a wrong hint only costs the usual lookup, and
 * every entry is validated the same way. */
static inline const Insn *decode_fetch(Interp *s, DCEntry **hint)
{
    CPUX86State *env = s->env;
    uint64_t rip = env->rip;
    uint64_t lip = s->code64 ? rip : (env->segs[R_CS].base + rip) & s->la_mask;
    DCEntry *e = *hint;
    if (unlikely(e->lip != lip)) {
        e = &s->dc[DC_SLOT(lip)];
    }
    if (likely(e->lip == lip && e->insn.dc_mode == s->code_size)) {
        uint8_t *p;
        if (likely((lip >> 12) == s->fvpn && (lip & 0xfff) <= 4096 - 16)) {
            p = s->fhost + (lip & 0xfff);
        } else {
            p = tlb_hit(s, lip, 16, ACC_X);
            if (p) {
                s->fvpn = lip >> 12;
                code_set_page(s, p - (lip & 0xfff));
            }
        }
        if (likely(p != NULL)) {
            unsigned len = e->insn.len;
            uint64_t a, b;
            memcpy(&a, p, 8);
            memcpy(&b, p + 8, 8);
            if (likely((((a ^ e->raw[0]) & dc_mask_lo[len]) |
                        ((b ^ e->raw[1]) & dc_mask_hi[len])) == 0 &&
                       (s->code64 || rip + len - 1 <= env->segs[R_CS].limit))) {
                *hint = &s->dc[e->insn.dc_next];
                return &e->insn;
            }
        }
    }
    e = &s->dc[DC_SLOT(lip)];
    const Insn *i = decode_fetch_slow(s, e, lip);
    *hint = &s->dc[i->dc_next];
    return i;
}

/* Jump to a new IP, masked by the operand size, with the CS limit check. */
void jump_to(Interp *s, uint64_t ip, int opsize);

/*
 * Threaded dispatch. Insn.h is a "threaded entry": the instruction's
 * handler followed by dispatch_next, which goes straight on to the next
 * instruction of the block with a tail call, so every handler has its own
 * indirect branch (predicted per instruction pair, not from one shared
 * call site). A block ends with a sentinel entry whose handler just
 * returns to run_block (block_end); s->brk stops the chain early (the
 * per-instruction path sets it before running its one instruction). The
 * last instruction run is left in s->last_insn. Without the tail call the
 * chain would just nest, at most a block's length deep.
 *
 * RIP: handlers read s->next_rip, never env->rip, so inside a block env->rip
 * is not kept per instruction: run_block sets it to the block's end
 * (s->blk_end) and only control transfers write it. They end their block
 * (IF_ENDBLK), or set s->brk (a REP restart, INT1, mode changes). If the
 * instruction that stops the chain left env->rip alone, its fall-through is
 * stored here; exceptions restore s->start_rip.
 */
ALWAYS_INLINE void dispatch_next(Interp *s, CPUX86State *env, const Insn *i)
{
    uint64_t nrip = s->next_rip;
    if (unlikely(s->brk)) {
        if (env->rip == s->blk_end) {
            env->rip = nrip;
        }
        s->last_insn = i;
        return;
    }
    const Insn *n = i + 1;
    s->start_rip = nrip;
    s->start_rsp = env->regs[R_ESP];
    s->next_rip = nrip + n->len;
    n->h(s, n);
}

/* env is loaded before the handler runs, so it stays in a register (with
 * -fno-strict-aliasing the handler's stores would force a reload) */
#define THREADED(name, fn) \
    static void name(Interp *s, const Insn *i) \
    { CPUX86State *env_ = s->env; fn(s, i); dispatch_next(s, env_, i); }

/* For instructions that always end their block (IF_ENDBLK): no next
 * instruction to go to, return to run_block straight away. */
#define THREADED_LAST(name, fn) \
    static void name(Interp *s, const Insn *i) { fn(s, i); s->last_insn = i; }

/* Handler table entry points declared by insn.def (threaded entries). */
#define HANDLER(name) void name(Interp *s, const Insn *i)
/* A family with one handler for every form and size. */
#define FAM1(fam, fn) THREADED(T_##fam, fn) \
    const InsnHandler F_##fam[8] = { T_##fam, T_##fam, T_##fam, T_##fam, \
                                     T_##fam, T_##fam, T_##fam, T_##fam }
/* FAM1 for an instruction that always ends its block (IF_ENDBLK). */
#define FAM1_LAST(fam, fn) THREADED_LAST(T_##fam, fn) \
    const InsnHandler F_##fam[8] = { T_##fam, T_##fam, T_##fam, T_##fam, \
                                     T_##fam, T_##fam, T_##fam, T_##fam }
/* A family specialised by size, same handler for register and memory form. */
#define FAMSZ(fam, fn) \
    THREADED(T_##fam##_1, fn##_1) THREADED(T_##fam##_2, fn##_2) \
    THREADED(T_##fam##_4, fn##_4) THREADED(T_##fam##_8, fn##_8) \
    const InsnHandler F_##fam[8] = { T_##fam##_1, T_##fam##_2, T_##fam##_4, T_##fam##_8, \
                                     T_##fam##_1, T_##fam##_2, T_##fam##_4, T_##fam##_8 }
/* A family specialised by form and size. */
#define FAMRM(fam, fn) \
    THREADED(T_##fam##_r1, fn##_r1) THREADED(T_##fam##_r2, fn##_r2) \
    THREADED(T_##fam##_r4, fn##_r4) THREADED(T_##fam##_r8, fn##_r8) \
    THREADED(T_##fam##_m1, fn##_m1) THREADED(T_##fam##_m2, fn##_m2) \
    THREADED(T_##fam##_m4, fn##_m4) THREADED(T_##fam##_m8, fn##_m8) \
    const InsnHandler F_##fam[8] = { T_##fam##_r1, T_##fam##_r2, T_##fam##_r4, T_##fam##_r8, \
                                     T_##fam##_m1, T_##fam##_m2, T_##fam##_m4, T_##fam##_m8 }
HANDLER(h_ud);
HANDLER(h_jcc);
extern const InsnHandler jcc_by_cc[16];

#endif
