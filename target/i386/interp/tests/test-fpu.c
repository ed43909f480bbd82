/*
 * x87 / MMX / SSE oracle: each instruction runs natively on the host and in
 * the interpreter from the same FXSAVE image (random x87 stack, XMM/MMX
 * registers and memory operand) and the same GPRs; afterwards the FXSAVE
 * images (FCW, FSW, tags, ST0-7, MXCSR, XMM0-15), the GPRs, EFLAGS and the
 * memory operand must match exactly.
 * Spec: Intel SDM vol. 1 chapters 8-11, vol. 2 (FXSAVE layout).
 * Locking: single-threaded test.
 */
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include "test-common.h"

typedef struct FState {
    uint64_t r[16];
    uint64_t flags;
} FState;

FState *fstate_ptr;
void *fcode_ptr;
uint64_t ftmp_rdi;
uint8_t fx_in[512] __attribute__((aligned(16)));
uint8_t fx_out[512] __attribute__((aligned(16)));
uint8_t fx_host_saved[512] __attribute__((aligned(16)));
void fnative_exec(FState *st);
void fnative_ret(void);

__asm__(
    ".text\n"
    ".globl fnative_exec\n"
    "fnative_exec:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  fxsave64 fx_host_saved(%rip)\n"
    "  mov %rdi, fstate_ptr(%rip)\n"
    "  fxrstor64 fx_in(%rip)\n"
    "  pushq 128(%rdi)\n popfq\n"
    "  mov 0(%rdi), %rax\n mov 8(%rdi), %rcx\n mov 16(%rdi), %rdx\n"
    "  mov 24(%rdi), %rbx\n mov 40(%rdi), %rbp\n mov 48(%rdi), %rsi\n"
    "  mov 64(%rdi), %r8\n mov 72(%rdi), %r9\n mov 80(%rdi), %r10\n"
    "  mov 88(%rdi), %r11\n mov 96(%rdi), %r12\n mov 104(%rdi), %r13\n"
    "  mov 112(%rdi), %r14\n mov 120(%rdi), %r15\n mov 56(%rdi), %rdi\n"
    "  jmp *fcode_ptr(%rip)\n"
    ".globl fnative_ret\n"
    "fnative_ret:\n"
    "  fxsave64 fx_out(%rip)\n"
    "  mov %rdi, ftmp_rdi(%rip)\n"
    "  mov fstate_ptr(%rip), %rdi\n"
    "  mov %rax, 0(%rdi)\n mov %rcx, 8(%rdi)\n mov %rdx, 16(%rdi)\n"
    "  mov %rbx, 24(%rdi)\n mov %rbp, 40(%rdi)\n mov %rsi, 48(%rdi)\n"
    "  mov %r8, 64(%rdi)\n mov %r9, 72(%rdi)\n mov %r10, 80(%rdi)\n"
    "  mov %r11, 88(%rdi)\n mov %r12, 96(%rdi)\n mov %r13, 104(%rdi)\n"
    "  mov %r14, 112(%rdi)\n mov %r15, 120(%rdi)\n"
    "  pushfq\n popq 128(%rdi)\n"
    "  mov ftmp_rdi(%rip), %rax\n mov %rax, 56(%rdi)\n"
    "  fxrstor64 fx_host_saved(%rip)\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n");

static uint8_t *codebuf;
static uint8_t hostmem[64] __attribute__((aligned(16)));

typedef struct FCase {
    const char *hex;       /* instruction bytes; memory operand is [rsi] */
    bool mmx;              /* MMX state expected (tags become full) */
} FCase;

static const FCase fcases[] = {
    /* x87 register forms */
    { "d8 c1" }, { "d8 c9" }, { "d8 e1" }, { "d8 e9" }, { "d8 f1" }, { "d8 f9" },
    { "dc c2" }, { "dc e9" }, { "dc f9" }, { "de c1" }, { "de e9" }, { "de f9" },
    { "de c9" }, { "de e1" }, { "de f1" },
    { "d9 c9" }, { "d9 e0" }, { "d9 e1" }, { "d9 fa" }, { "d9 fc" }, { "d9 e5" },
    { "d9 e8" }, { "d9 ee" }, { "d9 eb" }, { "d9 ea" }, { "d9 ec" }, { "d9 ed" },
    { "db f1" }, { "db e9" }, { "df e9" }, { "df f1" }, { "d8 d1" }, { "d8 d9" },
    { "de d9" }, { "da e9" }, { "dd e1" }, { "dd e9" }, { "d9 e4" },
    { "d9 c1" }, { "dd d9" }, { "dd d1" }, { "d9 fd" }, { "d9 f8" }, { "d9 f5" },
    { "d9 f4" }, { "db c1" }, { "da c1" }, { "da c9" }, { "db d1" }, { "da d9" },
    { "d9 f7" }, { "d9 f6" }, { "dd c2" }, { "df e0" }, { "db e2" },
    /* x87 memory forms */
    { "dd 06" }, { "d9 06" }, { "db 2e" }, { "dd 1e" }, { "d9 1e" }, { "db 3e" },
    { "dd 16" }, { "d9 16" },
    { "df 2e" }, { "db 06" }, { "df 06" }, { "df 3e" }, { "db 1e" }, { "db 16" },
    { "df 1e" }, { "dd 0e" }, { "db 0e" }, { "dc 06" }, { "d8 0e" }, { "da 06" },
    { "dc 36" }, { "dc 3e" }, { "d8 16" }, { "dc 1e" }, { "de 06" }, { "da 36" },
    { "d9 3e" }, { "dd 3e" }, { "d9 2e" },
    /* SSE float */
    { "f2 0f 58 c1" }, { "f2 0f 59 c1" }, { "f2 0f 5c c1" }, { "f2 0f 5e c1" },
    { "f2 0f 51 c1" }, { "f2 0f 5d c1" }, { "f2 0f 5f c1" }, { "f3 0f 58 c1" },
    { "f3 0f 59 c2" }, { "f3 0f 5e c1" }, { "f3 0f 51 c1" }, { "f3 0f 5d c1" },
    { "0f 58 c1" }, { "0f 59 c1" }, { "0f 5c c1" }, { "0f 5e c1" }, { "0f 51 c1" },
    { "66 0f 58 c1" }, { "66 0f 59 c1" }, { "66 0f 5e c1" }, { "66 0f 5f c1" },
    { "f2 0f 58 06" }, { "66 0f 59 06" }, { "f3 0f 5c 06" },
    { "66 0f 2e c1" }, { "66 0f 2f c1" }, { "0f 2e c1" }, { "0f 2f c1" },
    { "f2 0f 2c c1" }, { "f2 0f 2d c1" }, { "f2 48 0f 2c c1" }, { "f2 48 0f 2d c1" },
    { "f3 0f 2c c1" }, { "f3 48 0f 2d c1" }, { "f2 0f 2a c1" }, { "f2 48 0f 2a c1" },
    { "f3 0f 2a c1" }, { "f3 48 0f 2a c1" }, { "f2 0f 2a 06" },
    { "f3 0f 5a c1" }, { "f2 0f 5a c1" }, { "0f 5a c1" }, { "66 0f 5a c1" },
    { "0f 5b c1" }, { "66 0f 5b c1" }, { "f3 0f 5b c1" }, { "f3 0f e6 c1" },
    { "66 0f e6 c1" }, { "f2 0f e6 c1" },
    { "66 0f c2 c1 00" }, { "66 0f c2 c1 01" }, { "0f c2 c1 02" }, { "f2 0f c2 c1 03" },
    { "f3 0f c2 c1 04" }, { "0f c2 c1 05" }, { "66 0f c2 c1 06" }, { "0f c2 c1 07" },
    { "0f 54 c1" }, { "0f 55 c1" }, { "0f 56 c1" }, { "0f 57 c1" }, { "66 0f 57 c1" },
    { "0f 14 c1" }, { "0f 15 c1" }, { "66 0f 14 c1" }, { "66 0f 15 c1" },
    { "0f c6 c1 1b" }, { "66 0f c6 c1 02" }, { "0f 50 c1" }, { "66 0f 50 c1" },
    { "0f 52 c1" }, { "0f 53 c1" },
    /* SSE moves */
    { "0f 10 c1" }, { "f3 0f 10 c1" }, { "f2 0f 10 c1" }, { "f3 0f 10 06" },
    { "f2 0f 10 06" }, { "f2 0f 11 06" }, { "0f 28 c1" }, { "66 0f 29 06" },
    { "66 0f 6f 06" }, { "f3 0f 6f 06" }, { "66 0f 7f 06" }, { "f3 0f 7f c1" },
    { "66 0f 6e c1" }, { "66 48 0f 6e c1" }, { "66 0f 7e c1" }, { "66 48 0f 7e c1" },
    { "f3 0f 7e c1" }, { "f3 0f 7e 06" }, { "66 0f d6 c1" }, { "66 0f d6 06" },
    { "0f 12 c1" }, { "0f 16 c1" }, { "66 0f 16 06" }, { "0f 13 06" }, { "0f 17 06" },
    { "66 0f 12 06" }, { "f2 0f 12 c1" }, { "f3 0f 12 c1" }, { "f3 0f 16 c1" },
    /* SSE2 integer */
    { "66 0f 60 c1" }, { "66 0f 61 c1" }, { "66 0f 62 c1" }, { "66 0f 63 c1" },
    { "66 0f 64 c1" }, { "66 0f 65 c1" }, { "66 0f 66 c1" }, { "66 0f 67 c1" },
    { "66 0f 68 c1" }, { "66 0f 69 c1" }, { "66 0f 6a c1" }, { "66 0f 6b c1" },
    { "66 0f 6c c1" }, { "66 0f 6d c1" }, { "66 0f 70 c1 1b" }, { "f3 0f 70 c1 e4" },
    { "f2 0f 70 c1 4e" }, { "66 0f 71 d0 03" }, { "66 0f 71 e0 05" }, { "66 0f 71 f0 11" },
    { "66 0f 72 d0 07" }, { "66 0f 72 e0 1f" }, { "66 0f 72 f0 01" }, { "66 0f 73 d0 21" },
    { "66 0f 73 f0 3f" }, { "66 0f 73 d8 05" }, { "66 0f 73 f8 0b" }, { "66 0f 73 d8 13" },
    { "66 0f 74 c1" }, { "66 0f 75 c1" }, { "66 0f 76 c1" }, { "66 0f d7 c1" },
    { "66 0f c4 c1 03" }, { "66 0f c5 c1 06" },
    { "66 0f d1 c1" }, { "66 0f d2 c1" }, { "66 0f d3 c1" }, { "66 0f d4 c1" },
    { "66 0f d5 c1" }, { "66 0f d8 c1" }, { "66 0f d9 c1" }, { "66 0f da c1" },
    { "66 0f db c1" }, { "66 0f dc c1" }, { "66 0f dd c1" }, { "66 0f de c1" },
    { "66 0f df c1" }, { "66 0f e0 c1" }, { "66 0f e1 c1" }, { "66 0f e2 c1" },
    { "66 0f e3 c1" }, { "66 0f e4 c1" }, { "66 0f e5 c1" }, { "66 0f e8 c1" },
    { "66 0f e9 c1" }, { "66 0f ea c1" }, { "66 0f eb c1" }, { "66 0f ec c1" },
    { "66 0f ed c1" }, { "66 0f ee c1" }, { "66 0f ef c1" }, { "66 0f f1 c1" },
    { "66 0f f2 c1" }, { "66 0f f3 c1" }, { "66 0f f4 c1" }, { "66 0f f5 c1" },
    { "66 0f f6 c1" }, { "66 0f f8 c1" }, { "66 0f f9 c1" }, { "66 0f fa c1" },
    { "66 0f fb c1" }, { "66 0f fc c1" }, { "66 0f fd c1" }, { "66 0f fe c1" },
    { "66 0f ef 06" }, { "66 0f 74 06" },
    /* SSE3 / SSSE3 */
    { "66 0f d0 c1" }, { "f2 0f d0 c1" }, { "66 0f 7c c1" }, { "f2 0f 7c c1" },
    { "66 0f 7d c1" }, { "f2 0f 7d c1" }, { "f2 0f f0 06" },
    { "66 0f 38 00 c1" }, { "66 0f 3a 0f c1 05" }, { "66 0f 3a 0f c1 13" },
    { "66 0f 38 1c c1" }, { "66 0f 38 1d c1" }, { "66 0f 38 1e c1" },
    { "0f 38 00 c1", true }, { "0f 3a 0f c1 03", true },
    /* MMX */
    { "0f fc c1", true }, { "0f ef c1", true }, { "0f 6f c1", true }, { "0f 7e c1", true },
    { "0f 6e c1", true }, { "0f 62 c1", true }, { "0f 71 d0 03", true },
    { "0f 74 c1", true }, { "0f d7 c1", true }, { "0f 70 c1 1b", true },
    { "0f 7f 06", true }, { "0f 6f 06", true }, { "0f 77", false },
    { "0f 2d c1", true }, { "0f 2c c1", true }, { "66 0f 2d c1", true }, { "66 0f 2c c1", true },
    { "0f 2a c1", true }, { "66 0f 2a c1", true },
};

static double rnd_double(GRand *r)
{
    switch (g_rand_int_range(r, 0, 12)) {
    case 0: return 0.0;
    case 1: return -0.0;
    case 2: return INFINITY;
    case 3: return -INFINITY;
    case 4: return NAN;
    case 5: return 4.9e-324;
    case 6: return (double)g_rand_int_range(r, -1000, 1000);
    case 7: return g_rand_double_range(r, -1e10, 1e10);
    case 8: return 1e300 * g_rand_double(r);
    case 9: return (double)g_rand_int_range(r, -5, 5) + 0.5;
    default: return g_rand_double_range(r, -100, 100);
    }
}

static uint64_t rnd_bits(GRand *r, bool single)
{
    if (g_rand_int_range(r, 0, 3) == 0) {
        return ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);
    }
    if (single) {
        float a = rnd_double(r), b = rnd_double(r);
        uint32_t x, y;
        memcpy(&x, &a, 4);
        memcpy(&y, &b, 4);
        return ((uint64_t)y << 32) | x;
    }
    double d = rnd_double(r);
    uint64_t v;
    memcpy(&v, &d, 8);
    return v;
}

static void make_fx(GRand *r, bool mmx)
{
    memset(fx_in, 0, 512);
    uint16_t fcw = 0x37f;
    if (g_rand_int_range(r, 0, 4) == 0) {
        fcw |= (uint16_t)g_rand_int_range(r, 0, 4) << 10;   /* rounding */
    }
    memcpy(fx_in, &fcw, 2);
    int depth = g_rand_int_range(r, 2, 6);
    int top = 8 - depth;
    uint16_t fsw = (uint16_t)(top << 11);
    memcpy(fx_in + 2, &fsw, 2);
    uint8_t tag = 0;
    for (int k = 0; k < depth; k++) {
        tag |= 1u << (top + k);
        long double v = rnd_double(r);
        memcpy(fx_in + 32 + 16 * k, &v, 10);
    }
    if (mmx) {
        for (int k = 0; k < 8; k++) {
            uint64_t m = rnd_bits(r, false);
            memcpy(fx_in + 32 + 16 * k, &m, 8);
            fx_in[40 + 16 * k] = 0xff;
            fx_in[41 + 16 * k] = 0xff;
        }
        tag = 0xff;
        memset(fx_in + 2, 0, 2);
    }
    fx_in[4] = tag;
    uint32_t mxcsr = 0x1f80 | ((uint32_t)g_rand_int_range(r, 0, 4) << 13);
    if (g_rand_int_range(r, 0, 2)) {
        mxcsr = 0x1f80;
    }
    memcpy(fx_in + 24, &mxcsr, 4);
    uint32_t mask = 0xffff;
    memcpy(fx_in + 28, &mask, 4);
    for (int k = 0; k < 16; k++) {
        bool single = g_rand_boolean(r);
        uint64_t a = rnd_bits(r, single), b = rnd_bits(r, single);
        memcpy(fx_in + 160 + 16 * k, &a, 8);
        memcpy(fx_in + 168 + 16 * k, &b, 8);
    }
}

static bool fx_equal(const uint8_t *a, const uint8_t *b, GString *why)
{
    bool ok = true;
    if (memcmp(a, b, 2)) {
        g_string_append_printf(why, " fcw");
        ok = false;
    }
    uint16_t fa, fb;
    memcpy(&fa, a + 2, 2);
    memcpy(&fb, b + 2, 2);
    if (fa != fb) {
        g_string_append_printf(why, " fsw %04x/%04x", fa, fb);
        ok = false;
    }
    if (a[4] != b[4]) {
        g_string_append_printf(why, " ftw %02x/%02x", a[4], b[4]);
        ok = false;
    }
    if (memcmp(a + 24, b + 24, 4)) {
        uint32_t x, y;
        memcpy(&x, a + 24, 4);
        memcpy(&y, b + 24, 4);
        g_string_append_printf(why, " mxcsr %08x/%08x", x, y);
        ok = false;
    }
    for (int k = 0; k < 8; k++) {
        /* only registers that are tagged valid are meaningful */
        if (!((a[4] >> ((k + ((fa >> 11) & 7)) & 7)) & 1)) {
            continue;
        }
        if (memcmp(a + 32 + 16 * k, b + 32 + 16 * k, 10)) {
            g_string_append_printf(why, " st%d", k);
            ok = false;
        }
    }
    for (int k = 0; k < 16; k++) {
        if (memcmp(a + 160 + 16 * k, b + 160 + 16 * k, 16)) {
            g_string_append_printf(why, " xmm%d", k);
            ok = false;
        }
    }
    return ok;
}

static int nrun, nbad;

static void run_fcase(TestCPU *t, const FCase *c, GRand *r)
{
    uint8_t insn[16];
    int len = test_parse_hex(c->hex, insn);
    make_fx(r, c->mmx);
    FState in;
    for (int k = 0; k < 16; k++) {
        in.r[k] = rnd_bits(r, false);
    }
    in.r[R_ECX] = (uint64_t)(int64_t)g_rand_int_range(r, -100000, 100000);
    in.flags = (g_rand_int(r) & 0x8d5) | 0x202;
    uint8_t meminit[64];
    for (int k = 0; k < 8; k++) {
        uint64_t v = rnd_bits(r, g_rand_boolean(r));
        memcpy(meminit + 8 * k, &v, 8);
    }
    if (g_rand_boolean(r)) {
        long double v = rnd_double(r);
        memcpy(meminit, &v, 10);
    }
    if (g_rand_boolean(r)) {
        int64_t v = g_rand_int_range(r, -100000, 100000);
        memcpy(meminit, &v, 8);
    }

    /* host */
    FState nat = in;
    nat.r[R_ESI] = (uint64_t)(uintptr_t)hostmem;
    memcpy(hostmem, meminit, 64);
    memcpy(codebuf, insn, len);
    codebuf[len] = 0xff;
    codebuf[len + 1] = 0x25;
    memset(codebuf + len + 2, 0, 4);
    uint64_t ret = (uint64_t)(uintptr_t)fnative_ret;
    memcpy(codebuf + len + 6, &ret, 8);
    fcode_ptr = codebuf;
    fnative_exec(&nat);
    uint8_t host_fx[512];
    memcpy(host_fx, fx_out, 512);

    /* interpreter: fxrstor64 [0x280000]; insn; fxsave64 [0x280200]; hlt */
    CPUX86State *env = t->env;
    memcpy(tram + 0x280000, fx_in, 512);
    memcpy(tram + 0x290000, meminit, 64);
    uint8_t prog[64];
    int n = 0;
    static const uint8_t rst[] = { 0x48, 0x0f, 0xae, 0x0c, 0x25, 0x00, 0x00, 0x28, 0x00 };
    static const uint8_t sav[] = { 0x48, 0x0f, 0xae, 0x04, 0x25, 0x00, 0x02, 0x28, 0x00 };
    memcpy(prog + n, rst, sizeof(rst));
    n += sizeof(rst);
    memcpy(prog + n, insn, len);
    n += len;
    memcpy(prog + n, sav, sizeof(sav));
    n += sizeof(sav);
    prog[n++] = 0xf4;
    memcpy(tram + T_CODE, prog, n);
    for (int k = 0; k < 16; k++) {
        env->regs[k] = in.r[k];
    }
    env->regs[R_ESP] = T_STACK;
    env->regs[R_ESI] = 0x290000;
    env->eflags = in.flags;
    env->rip = T_CODE;
    int rc = tcpu_run(t, 100);
    nrun++;

    GString *why = g_string_new("");
    bool bad = rc != EXCP_HLT || tcpu_halted_vector(t) >= 0;
    if (bad) {
        g_string_append_printf(why, " rc=%x vec=%d", rc, tcpu_halted_vector(t));
    } else {
        if (!fx_equal(host_fx, tram + 0x280200, why)) {
            bad = true;
        }
        for (int k = 0; k < 16; k++) {
            if (k != R_ESP && k != R_ESI && env->regs[k] != nat.r[k]) {
                g_string_append_printf(why, " r%d %llx/%llx", k,
                                       (unsigned long long)nat.r[k],
                                       (unsigned long long)env->regs[k]);
                bad = true;
            }
        }
        if ((env->eflags & 0x8d5) != (nat.flags & 0x8d5)) {
            g_string_append_printf(why, " eflags %llx/%llx",
                                   (unsigned long long)(nat.flags & 0x8d5),
                                   (unsigned long long)(env->eflags & 0x8d5));
            bad = true;
        }
        if (memcmp(hostmem, tram + 0x290000, 64)) {
            g_string_append_printf(why, " mem");
            bad = true;
        }
    }
    if (bad) {
        nbad++;
        if (nbad < 4000 && (getenv("FPU_VERBOSE") || nbad < 30)) {
            g_printerr("FPU FAIL [%s]:%s\n", c->hex, why->str);
            if (getenv("FPU_VERBOSE")) {
                uint16_t cw0, cw1, cw2;
                memcpy(&cw0, fx_in, 2);
                memcpy(&cw1, host_fx, 2);
                memcpy(&cw2, tram + 0x280200, 2);
                long double a, b;
                memcpy(&a, fx_in + 32, 10);
                memcpy(&b, fx_in + 48, 10);
                g_printerr("   cw in %04x host %04x interp %04x mem %016llx st0 %Lg st1 %Lg tag %02x\n",
                           cw0, cw1, cw2, *(unsigned long long *)meminit, a, b, fx_in[4]);
            }
        }
    }
    g_string_free(why, true);
}

static void test_fpu_oracle(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    GRand *r = g_rand_new_with_seed(777);
    int iters = g_test_slow() ? 2000 : 200;
    nrun = nbad = 0;
    for (unsigned k = 0; k < G_N_ELEMENTS(fcases); k++) {
        for (int it = 0; it < iters; it++) {
            run_fcase(t, &fcases[k], r);
        }
    }
    g_test_message("fpu oracle: %d cases, %d failures", nrun, nbad);
    g_rand_free(r);
    tcpu_free(t);
    g_assert_cmpint(nbad, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    codebuf = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert(codebuf != MAP_FAILED);
    g_test_add_func("/interp/fpu/oracle", test_fpu_oracle);
    return g_test_run();
}
