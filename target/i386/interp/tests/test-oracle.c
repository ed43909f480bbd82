/*
 * Host oracle: every integer ALU/shift/rotate/mul/div/bit instruction form
 * is run natively on the host (trampoline into an mmap'd buffer) and in the
 * interpreter with the same random registers and input flags; all
 * registers and the flags the SDM defines for that instruction must match.
 * Register forms and memory forms (RBX points at a buffer) are covered.
 * Spec: Intel SDM vol. 2 ("Flags Affected" of each instruction).
 * Locking: single-threaded test.
 */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include "test-common.h"

typedef struct NState {
    uint64_t r[16];
    uint64_t flags;
} NState;

NState *nstate_ptr;
void *ncode_ptr;
uint64_t ntmp_rdi;
void native_exec(NState *st);
void native_ret(void);

__asm__(
    ".text\n"
    ".globl native_exec\n"
    "native_exec:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  mov %rdi, nstate_ptr(%rip)\n"
    "  pushq 128(%rdi)\n popfq\n"
    "  mov 0(%rdi), %rax\n mov 8(%rdi), %rcx\n mov 16(%rdi), %rdx\n"
    "  mov 24(%rdi), %rbx\n mov 40(%rdi), %rbp\n mov 48(%rdi), %rsi\n"
    "  mov 64(%rdi), %r8\n mov 72(%rdi), %r9\n mov 80(%rdi), %r10\n"
    "  mov 88(%rdi), %r11\n mov 96(%rdi), %r12\n mov 104(%rdi), %r13\n"
    "  mov 112(%rdi), %r14\n mov 120(%rdi), %r15\n mov 56(%rdi), %rdi\n"
    "  jmp *ncode_ptr(%rip)\n"
    ".globl native_ret\n"
    "native_ret:\n"
    "  mov %rdi, ntmp_rdi(%rip)\n"
    "  mov nstate_ptr(%rip), %rdi\n"
    "  mov %rax, 0(%rdi)\n mov %rcx, 8(%rdi)\n mov %rdx, 16(%rdi)\n"
    "  mov %rbx, 24(%rdi)\n mov %rbp, 40(%rdi)\n mov %rsi, 48(%rdi)\n"
    "  mov %r8, 64(%rdi)\n mov %r9, 72(%rdi)\n mov %r10, 80(%rdi)\n"
    "  mov %r11, 88(%rdi)\n mov %r12, 96(%rdi)\n mov %r13, 104(%rdi)\n"
    "  mov %r14, 112(%rdi)\n mov %r15, 120(%rdi)\n"
    "  pushfq\n popq 128(%rdi)\n"
    "  mov ntmp_rdi(%rip), %rax\n mov %rax, 56(%rdi)\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n");

static uint8_t *codebuf;
static sigjmp_buf fpe_jb;
static volatile int in_native;

static void on_sigfpe(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    if (in_native) {
        in_native = 0;
        siglongjmp(fpe_jb, 1);
    }
    abort();
}

/* run bytes natively; returns false if it raised #DE (SIGFPE) */
static bool run_native(const uint8_t *insn, int len, NState *st)
{
    memcpy(codebuf, insn, len);
    /* jmp *0(%rip) ; .quad native_ret */
    codebuf[len] = 0xff;
    codebuf[len + 1] = 0x25;
    memset(codebuf + len + 2, 0, 4);
    uint64_t ret = (uint64_t)(uintptr_t)native_ret;
    memcpy(codebuf + len + 6, &ret, 8);
    ncode_ptr = codebuf;
    if (sigsetjmp(fpe_jb, 1)) {
        return false;
    }
    in_native = 1;
    native_exec(st);
    in_native = 0;
    return true;
}

/* ---- test cases ---- */
#define FL_ALL (CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O)
#define FL_SZP (CC_S | CC_Z | CC_P)

enum { K_PLAIN, K_SHIFT, K_SHIFT1, K_ROT, K_DIV, K_BTMEM, K_SHXD };

typedef struct Case {
    const char *name;
    uint8_t op[4];
    int oplen;
    int modrm_reg;       /* -1: reg operand is a register (rcx) else /digit */
    int imm;             /* immediate bytes: 0, 1, or -1 = by size (2/4) */
    bool byte;           /* byte form (no size variants) */
    uint32_t defined;    /* defined flags */
    int kind;
    bool no_mem;         /* register form only */
} Case;

static const Case cases[] = {
    { "add", { 0x01 }, 1, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "add8", { 0x00 }, 1, -1, 0, true, FL_ALL, K_PLAIN, false },
    { "or", { 0x09 }, 1, -1, 0, false, FL_ALL & ~CC_A, K_PLAIN, false },
    { "adc", { 0x11 }, 1, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "adc8", { 0x10 }, 1, -1, 0, true, FL_ALL, K_PLAIN, false },
    { "sbb", { 0x19 }, 1, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "sbb8r", { 0x1a }, 1, -1, 0, true, FL_ALL, K_PLAIN, false },
    { "and", { 0x21 }, 1, -1, 0, false, FL_ALL & ~CC_A, K_PLAIN, false },
    { "sub", { 0x29 }, 1, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "sub8", { 0x28 }, 1, -1, 0, true, FL_ALL, K_PLAIN, false },
    { "xor", { 0x31 }, 1, -1, 0, false, FL_ALL & ~CC_A, K_PLAIN, false },
    { "cmp", { 0x39 }, 1, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "cmpr", { 0x3b }, 1, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "test", { 0x85 }, 1, -1, 0, false, FL_ALL & ~CC_A, K_PLAIN, false },
    { "addi", { 0x81 }, 1, 0, -1, false, FL_ALL, K_PLAIN, false },
    { "adci8", { 0x83 }, 1, 2, 1, false, FL_ALL, K_PLAIN, false },
    { "sbbi8", { 0x83 }, 1, 3, 1, false, FL_ALL, K_PLAIN, false },
    { "subi8b", { 0x80 }, 1, 5, 1, true, FL_ALL, K_PLAIN, false },
    { "cmpi", { 0x81 }, 1, 7, -1, false, FL_ALL, K_PLAIN, false },
    { "andi", { 0x81 }, 1, 4, -1, false, FL_ALL & ~CC_A, K_PLAIN, false },
    { "testi", { 0xf7 }, 1, 0, -1, false, FL_ALL & ~CC_A, K_PLAIN, false },
    { "not", { 0xf7 }, 1, 2, 0, false, FL_ALL, K_PLAIN, false },
    { "neg", { 0xf7 }, 1, 3, 0, false, FL_ALL, K_PLAIN, false },
    { "neg8", { 0xf6 }, 1, 3, 0, true, FL_ALL, K_PLAIN, false },
    { "inc", { 0xff }, 1, 0, 0, false, FL_ALL, K_PLAIN, false },
    { "dec", { 0xff }, 1, 1, 0, false, FL_ALL, K_PLAIN, false },
    { "inc8", { 0xfe }, 1, 0, 0, true, FL_ALL, K_PLAIN, false },
    { "mul", { 0xf7 }, 1, 4, 0, false, CC_C | CC_O, K_PLAIN, false },
    { "mul8", { 0xf6 }, 1, 4, 0, true, CC_C | CC_O, K_PLAIN, false },
    { "imul1", { 0xf7 }, 1, 5, 0, false, CC_C | CC_O, K_PLAIN, false },
    { "imul1b", { 0xf6 }, 1, 5, 0, true, CC_C | CC_O, K_PLAIN, false },
    { "imul2", { 0x0f, 0xaf }, 2, -1, 0, false, CC_C | CC_O, K_PLAIN, false },
    { "imul3", { 0x69 }, 1, -1, -1, false, CC_C | CC_O, K_PLAIN, false },
    { "imul3b", { 0x6b }, 1, -1, 1, false, CC_C | CC_O, K_PLAIN, false },
    { "div", { 0xf7 }, 1, 6, 0, false, 0, K_DIV, false },
    { "div8", { 0xf6 }, 1, 6, 0, true, 0, K_DIV, false },
    { "idiv", { 0xf7 }, 1, 7, 0, false, 0, K_DIV, false },
    { "idiv8", { 0xf6 }, 1, 7, 0, true, 0, K_DIV, false },
    { "rol", { 0xd3 }, 1, 0, 0, false, CC_C | CC_O, K_ROT, false },
    { "ror", { 0xd3 }, 1, 1, 0, false, CC_C | CC_O, K_ROT, false },
    { "rcl", { 0xd3 }, 1, 2, 0, false, CC_C | CC_O, K_ROT, false },
    { "rcr", { 0xd3 }, 1, 3, 0, false, CC_C | CC_O, K_ROT, false },
    { "rol8", { 0xd2 }, 1, 0, 0, true, CC_C | CC_O, K_ROT, false },
    { "rcl8", { 0xd2 }, 1, 2, 0, true, CC_C | CC_O, K_ROT, false },
    { "rcr8", { 0xd2 }, 1, 3, 0, true, CC_C | CC_O, K_ROT, false },
    { "shl", { 0xd3 }, 1, 4, 0, false, FL_SZP | CC_C | CC_O, K_SHIFT, false },
    { "shr", { 0xd3 }, 1, 5, 0, false, FL_SZP | CC_C | CC_O, K_SHIFT, false },
    { "sar", { 0xd3 }, 1, 7, 0, false, FL_SZP | CC_C | CC_O, K_SHIFT, false },
    { "shl8", { 0xd2 }, 1, 4, 0, true, FL_SZP | CC_C | CC_O, K_SHIFT, false },
    { "sar8", { 0xd2 }, 1, 7, 0, true, FL_SZP | CC_C | CC_O, K_SHIFT, false },
    { "shl1", { 0xd1 }, 1, 4, 0, false, FL_SZP | CC_C | CC_O, K_SHIFT1, false },
    { "shr1", { 0xd1 }, 1, 5, 0, false, FL_SZP | CC_C | CC_O, K_SHIFT1, false },
    { "sar1", { 0xd1 }, 1, 7, 0, false, FL_SZP | CC_C | CC_O, K_SHIFT1, false },
    { "rcr1", { 0xd1 }, 1, 3, 0, false, CC_C | CC_O, K_SHIFT1, false },
    { "shli", { 0xc1 }, 1, 4, 1, false, FL_SZP | CC_C | CC_O, K_SHIFT, false },
    { "shld", { 0x0f, 0xa5 }, 2, -1, 0, false, FL_SZP | CC_C | CC_O, K_SHXD, false },
    { "shrd", { 0x0f, 0xad }, 2, -1, 0, false, FL_SZP | CC_C | CC_O, K_SHXD, false },
    { "shldi", { 0x0f, 0xa4 }, 2, -1, 1, false, FL_SZP | CC_C | CC_O, K_SHXD, false },
    { "bt", { 0x0f, 0xa3 }, 2, -1, 0, false, CC_C, K_BTMEM, false },
    { "bts", { 0x0f, 0xab }, 2, -1, 0, false, CC_C, K_BTMEM, false },
    { "btr", { 0x0f, 0xb3 }, 2, -1, 0, false, CC_C, K_BTMEM, false },
    { "btc", { 0x0f, 0xbb }, 2, -1, 0, false, CC_C, K_BTMEM, false },
    { "bti", { 0x0f, 0xba }, 2, 4, 1, false, CC_C, K_PLAIN, false },
    { "btsi", { 0x0f, 0xba }, 2, 5, 1, false, CC_C, K_PLAIN, false },
    { "bsf", { 0x0f, 0xbc }, 2, -1, 0, false, CC_Z, K_PLAIN, false },
    { "bsr", { 0x0f, 0xbd }, 2, -1, 0, false, CC_Z, K_PLAIN, false },
    { "tzcnt", { 0xf3, 0x0f, 0xbc }, 3, -1, 0, false, CC_Z | CC_C, K_PLAIN, false },
    { "lzcnt", { 0xf3, 0x0f, 0xbd }, 3, -1, 0, false, CC_Z | CC_C, K_PLAIN, false },
    { "popcnt", { 0xf3, 0x0f, 0xb8 }, 3, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "xadd", { 0x0f, 0xc1 }, 2, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "cmpxchg", { 0x0f, 0xb1 }, 2, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "cmpxchg8", { 0x0f, 0xb0 }, 2, -1, 0, true, FL_ALL, K_PLAIN, false },
    { "xchg", { 0x87 }, 1, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "movzxb", { 0x0f, 0xb6 }, 2, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "movsxw", { 0x0f, 0xbf }, 2, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "movzxw", { 0x0f, 0xb7 }, 2, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "movsxb", { 0x0f, 0xbe }, 2, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "cmovz", { 0x0f, 0x44 }, 2, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "cmovl", { 0x0f, 0x4c }, 2, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "cmovbe", { 0x0f, 0x46 }, 2, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "setg", { 0x0f, 0x9f }, 2, 0, 0, true, FL_ALL, K_PLAIN, false },
    { "setp", { 0x0f, 0x9a }, 2, 0, 0, true, FL_ALL, K_PLAIN, false },
    { "seto", { 0x0f, 0x90 }, 2, 0, 0, true, FL_ALL, K_PLAIN, false },
    { "bswap", { 0x0f, 0xc9 }, 2, -2, 0, false, FL_ALL, K_PLAIN, true },
    { "cbw", { 0x98 }, 1, -2, 0, false, FL_ALL, K_PLAIN, true },
    { "cwd", { 0x99 }, 1, -2, 0, false, FL_ALL, K_PLAIN, true },
    { "lahf", { 0x9f }, 1, -2, 0, true, FL_ALL, K_PLAIN, true },
    { "sahf", { 0x9e }, 1, -2, 0, true, FL_ALL, K_PLAIN, true },
    { "cmc", { 0xf5 }, 1, -2, 0, true, FL_ALL, K_PLAIN, true },
    { "movsxd", { 0x63 }, 1, -1, 0, false, FL_ALL, K_PLAIN, false },
    { "addal", { 0x04 }, 1, -2, 1, true, FL_ALL, K_PLAIN, true },
    { "sbbeax", { 0x1d }, 1, -2, -1, false, FL_ALL, K_PLAIN, true },
};

static uint64_t rnd_val(GRand *r)
{
    switch (g_rand_int_range(r, 0, 8)) {
    case 0: return 0;
    case 1: return ~0ull;
    case 2: return 1ull << g_rand_int_range(r, 0, 64);
    case 3: return (uint64_t)g_rand_int_range(r, 0, 256);
    case 4: return 0x8000000000000000ull >> (8 * g_rand_int_range(r, 0, 8));
    default: return ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);
    }
}

static uint64_t mem_native[4] __attribute__((aligned(16)));

static int ncases, nfail;

/* Encode case c with operand size sz, register or memory form; returns len */
static bool enc_norex;   /* byte forms: no REX, so 4-7 mean AH..BH */

static int encode(const Case *c, int sz, bool mem, int rm_reg, int reg_reg, uint8_t imm[4],
                  uint8_t *out)
{
    int n = 0;
    int p = 0;
    /* leading mandatory prefix (F3) must precede 66/REX */
    if (c->op[0] == 0xf3) {
        out[n++] = 0xf3;
        p = 1;
    }
    if (sz == 2) {
        out[n++] = 0x66;
    }
    uint8_t rex = 0x40;
    if (sz == 8) {
        rex |= 8;
    }
    int reg = c->modrm_reg >= 0 ? c->modrm_reg : reg_reg;
    if (c->modrm_reg == -2) {
        /* no ModRM: opcode (+reg) only */
        if (!strcmp(c->name, "bswap") && rm_reg >= 8) {
            rex |= 1;
        }
        if (rex != 0x40) {
            out[n++] = rex;
        }
        for (int k = p; k < c->oplen; k++) {
            out[n++] = c->op[k];
        }
        if (!strcmp(c->name, "bswap")) {
            out[n - 1] = 0xc8 | (rm_reg & 7);
        }
        goto immediates;
    }
    if (reg >= 8) {
        rex |= 4;
    }
    if (!mem && rm_reg >= 8) {
        rex |= 1;
    }
    /* byte forms use REX to reach SIL/DIL; always emit it for bytes */
    if (rex != 0x40 || (c->byte && !enc_norex)) {
        out[n++] = rex;
    }
    for (int k = p; k < c->oplen; k++) {
        out[n++] = c->op[k];
    }
    if (mem) {
        out[n++] = 0x00 | ((reg & 7) << 3) | 3;    /* [rbx] */
    } else {
        out[n++] = 0xc0 | ((reg & 7) << 3) | (rm_reg & 7);
    }
immediates:;
    int ib = c->imm == -1 ? (sz == 2 ? 2 : (c->byte ? 1 : 4)) : c->imm;
    for (int k = 0; k < ib; k++) {
        out[n++] = imm[k];
    }
    return n;
}

static void run_case(TestCPU *t, const Case *c, int sz, bool mem, GRand *r)
{
    uint8_t insn[16];
    uint8_t imm[4];
    for (int k = 0; k < 4; k++) {
        imm[k] = g_rand_int(r);
    }
    static const int regs[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    int rm_reg = regs[g_rand_int_range(r, 0, 15)];
    int reg_reg = regs[g_rand_int_range(r, 0, 15)];
    enc_norex = c->byte && g_rand_boolean(r);
    if (enc_norex) {
        rm_reg = g_rand_int_range(r, 0, 8);
        reg_reg = g_rand_int_range(r, 0, 8);
    }
    if (mem) {
        while (reg_reg == R_EBX || (enc_norex && reg_reg == 7)) {
            reg_reg = enc_norex ? g_rand_int_range(r, 0, 8) : regs[g_rand_int_range(r, 0, 15)];
        }
    }
    if (!strcmp(c->name, "lea") && !mem) {
        return;
    }
    int len = encode(c, sz, mem, rm_reg, reg_reg, imm, insn);

    NState in;
    for (int k = 0; k < 16; k++) {
        in.r[k] = rnd_val(r);
    }
    in.r[R_ESP] = 0;
    if (c->kind == K_SHIFT || c->kind == K_ROT || c->kind == K_SHXD) {
        unsigned cnt = g_rand_int_range(r, 0, 70);
        if (c->kind == K_SHXD && sz == 2) {
            cnt = g_rand_int_range(r, 0, 17);
        }
        in.r[R_ECX] = (in.r[R_ECX] & ~0xffull) | cnt;
        if (c->imm == 1) {
            imm[0] = cnt;
            len = encode(c, sz, mem, rm_reg, reg_reg, imm, insn);
        }
    }
    if (c->kind == K_BTMEM && mem) {
        /* keep the bit offset within the 32-byte buffer */
        int64_t off = g_rand_int_range(r, -64, 192);
        if (sz == 2) {
            off = g_rand_int_range(r, -32, 200);
        }
        in.r[reg_reg] = (uint64_t)off;
    }
    uint64_t fl_in = (g_rand_int(r) & FL_ALL) | 0x202;
    in.flags = fl_in;
    uint64_t mem_init[4];
    for (int k = 0; k < 4; k++) {
        mem_init[k] = rnd_val(r);
    }
    bool bt_neg = c->kind == K_BTMEM && mem;

    /* native */
    NState nat = in;
    memcpy(mem_native, mem_init, sizeof(mem_init));
    static uint64_t bigbuf[64];
    uint64_t *nbase = mem_native;
    if (bt_neg) {
        memcpy(bigbuf + 16, mem_init, sizeof(mem_init));
        memset(bigbuf, 0, 16 * 8);
        nbase = bigbuf + 16;
    }
    if (mem) {
        nat.r[R_EBX] = (uint64_t)(uintptr_t)nbase;
    }
    bool nat_ok = run_native(insn, len, &nat);

    /* interpreter */
    CPUX86State *env = t->env;
    uint64_t gbuf = T_DATA + 0x100;
    if (bt_neg) {
        memset(tram + gbuf - 128, 0, 128);
    }
    memcpy(tram + gbuf, mem_init, sizeof(mem_init));
    for (int k = 0; k < 16; k++) {
        env->regs[k] = in.r[k];
    }
    env->regs[R_ESP] = T_STACK;
    if (mem) {
        env->regs[R_EBX] = gbuf;
    }
    env->eflags = fl_in;
    memcpy(tram + T_CODE, insn, len);
    tram[T_CODE + len] = 0xf4;
    env->rip = T_CODE;
    int ret = tcpu_run(t, 1000);
    int vec = tcpu_halted_vector(t);
    ncases++;

    if (!nat_ok) {
        if (vec != EXCP00_DIVZ) {
            nfail++;
            if (nfail < 20) {
                g_printerr("%s sz=%d mem=%d: native #DE, interp vec=%d ret=%x\n",
                           c->name, sz, mem, vec, ret);
            }
        }
        return;
    }
    bool bad = false;
    if (ret != EXCP_HLT || env->rip != (uint64_t)(T_CODE + len + 1)) {
        bad = true;
    }
    for (int k = 0; k < 16 && !bad; k++) {
        if (k == R_ESP || (mem && k == R_EBX)) {
            continue;
        }
        if (env->regs[k] != nat.r[k]) {
            bad = true;
        }
    }
    uint32_t defmask = c->defined;
    if ((c->kind == K_SHIFT || c->kind == K_ROT || c->kind == K_SHXD)) {
        unsigned cnt = c->imm == 1 ? imm[0] : (in.r[R_ECX] & 0xff);
        unsigned m = (sz == 8 && !c->byte) ? (cnt & 63) : (cnt & 31);
        int bits = c->byte ? 8 : sz * 8;
        if (m == 0) {
            defmask = FL_ALL;
        } else {
            if (m != 1) {
                defmask &= ~CC_O;
            }
            if (c->kind == K_SHIFT && (int)m > bits) {
                defmask &= ~CC_C;
            }
            if (c->kind == K_SHXD && (int)m > bits) {
                defmask = 0;
            }
        }
    }
    if (c->kind == K_SHIFT1 && (!strcmp(c->name, "rcr1"))) {
        defmask = CC_C | CC_O;
    }
    uint64_t fi = env->eflags & defmask, fn = nat.flags & defmask;
    if (fi != fn) {
        bad = true;
    }
    if (mem) {
        uint64_t *nb = bt_neg ? bigbuf : mem_native;
        uint8_t *gb = bt_neg ? tram + gbuf - 128 : tram + gbuf;
        if (memcmp(nb, gb, bt_neg ? 160 : 32)) {
            bad = true;
        }
    }
    if (bad) {
        nfail++;
        if (nfail < 20) {
            GString *h = g_string_new("");
            for (int k = 0; k < len; k++) {
                g_string_append_printf(h, "%02x ", insn[k]);
            }
            g_printerr("FAIL %s sz=%d mem=%d [%s] ret=%x rip=%llx\n", c->name, sz, mem, h->str,
                       ret, (unsigned long long)env->rip);
            g_printerr("  flags in %03llx: host %03llx interp %03llx (mask %03x)\n",
                       (unsigned long long)fl_in, (unsigned long long)(nat.flags & 0xfff),
                       (unsigned long long)(env->eflags & 0xfff), defmask);
            for (int k = 0; k < 16; k++) {
                if (env->regs[k] != nat.r[k] && k != R_ESP) {
                    g_printerr("  r%d in %016llx host %016llx interp %016llx\n", k,
                               (unsigned long long)in.r[k], (unsigned long long)nat.r[k],
                               (unsigned long long)env->regs[k]);
                }
            }
            g_string_free(h, true);
        }
    }
}

static void test_oracle(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    GRand *r = g_rand_new_with_seed(12345);
    ncases = nfail = 0;
    int iters = g_test_slow() ? 2000 : 400;
    for (unsigned ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        const Case *c = &cases[ci];
        static const int sizes[] = { 2, 4, 8 };
        int nsz = c->byte ? 1 : 3;
        for (int si = 0; si < nsz; si++) {
            int sz = c->byte ? 1 : sizes[si];
            if (!strcmp(c->name, "bswap") && sz == 2) {
                continue;
            }
            for (int mem = 0; mem < (c->no_mem ? 1 : 2); mem++) {
                for (int k = 0; k < iters; k++) {
                    run_case(t, c, sz, mem, r);
                }
            }
        }
    }
    g_test_message("oracle: %d cases, %d failures", ncases, nfail);
    g_rand_free(r);
    tcpu_free(t);
    g_assert_cmpint(nfail, ==, 0);
    g_assert_cmpint(ncases, >, 20000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    codebuf = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert(codebuf != MAP_FAILED);
    struct sigaction sa = { 0 };
    sa.sa_sigaction = on_sigfpe;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);
    g_test_add_func("/interp/oracle/alu", test_oracle);
    return g_test_run();
}
