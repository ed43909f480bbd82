/*
 * x86 register dump in QEMU's exact `info registers` layout (and the
 * "Code=" variant QEMU prints on KVM internal errors). Used by both
 * accelerators; the caller syncs env from the accelerator first.
 * Spec: QEMU 7.2 `info registers` output; Intel SDM vol. 3A 3.4.5 (descriptor types).
 * Locking: none (formats a CPUX86State the caller owns).
 */
#include <inttypes.h>
#include <stdint.h>
#include <glib.h>
#include "util/error.h"          /* before cpu.h, which uses struct Error */
#include "target/i386/cpu.h"

#define DESC_W_MASK (1u << 9)    /* data: writable;  code: readable (R) */
#define DESC_E_MASK (1u << 10)   /* data: expand-down; code: conforming (C) */

#define CODE_BYTES_TOTAL    50
#define CODE_BYTES_BACKWARD 20

static const char *const sys_type_name[2][16] = {
    {   /* legacy / compatibility */
        "Reserved", "TSS16-avl", "LDT", "TSS16-busy",
        "CallGate16", "TaskGate", "IntGate16", "TrapGate16",
        "Reserved", "TSS32-avl", "Reserved", "TSS32-busy",
        "CallGate32", "Reserved", "IntGate32", "TrapGate32",
    },
    {   /* IA-32e */
        "<hiword>", "Reserved", "LDT", "Reserved", "Reserved",
        "Reserved", "Reserved", "Reserved", "Reserved",
        "TSS64-avl", "Reserved", "TSS64-busy", "CallGate64",
        "Reserved", "IntGate64", "TrapGate64",
    },
};

static bool env_lma(const CPUX86State *env)
{
    return env->efer & EFER_LMA;
}

static bool env_cs64(const CPUX86State *env)
{
    return env_lma(env) && (env->segs[R_CS].flags & DESC_L_MASK);
}

static void dump_seg(const CPUX86State *env, GString *out, const char *name,
                     const SegmentCache *sc)
{
    uint32_t f = sc->flags;

    if (env_cs64(env)) {
        g_string_append_printf(out, "%-3s=%04x %016" PRIx64 " %08x %08x", name,
                               sc->selector, sc->base, sc->limit, f & 0x00ffff00);
    } else {
        g_string_append_printf(out, "%-3s=%04x %08x %08x %08x", name, sc->selector,
                               (uint32_t)sc->base, sc->limit, f & 0x00ffff00);
    }
    if ((env->cr[0] & CR0_PE) && (f & DESC_P_MASK)) {
        g_string_append_printf(out, " DPL=%u ", (f & DESC_DPL_MASK) >> DESC_DPL_SHIFT);
        if (f & DESC_S_MASK) {
            if (f & DESC_CS_MASK) {
                g_string_append(out, (f & DESC_L_MASK) ? "CS64" :
                                     (f & DESC_B_MASK) ? "CS32" : "CS16");
                g_string_append_printf(out, " [%c%c", (f & DESC_E_MASK) ? 'C' : '-',
                                       (f & DESC_W_MASK) ? 'R' : '-');
            } else {
                g_string_append(out, ((f & DESC_B_MASK) || env_lma(env)) ? "DS  " : "DS16");
                g_string_append_printf(out, " [%c%c", (f & DESC_E_MASK) ? 'E' : '-',
                                       (f & DESC_W_MASK) ? 'W' : '-');
            }
            g_string_append_printf(out, "%c]", (f & DESC_A_MASK) ? 'A' : '-');
        } else {
            g_string_append(out, sys_type_name[env_lma(env) ? 1 : 0]
                                              [(f & DESC_TYPE_MASK) >> DESC_TYPE_SHIFT]);
        }
    }
    g_string_append_c(out, '\n');
}

static void dump_gprs(const CPUX86State *env, GString *out)
{
    uint32_t fl = (uint32_t)env->eflags;
    char flags[8] = {
        (fl & DF_MASK) ? 'D' : '-', (fl & CC_O) ? 'O' : '-', (fl & CC_S) ? 'S' : '-',
        (fl & CC_Z) ? 'Z' : '-', (fl & CC_A) ? 'A' : '-', (fl & CC_P) ? 'P' : '-',
        (fl & CC_C) ? 'C' : '-', 0,
    };
    int cpl = (env->segs[R_SS].flags & DESC_DPL_MASK) >> DESC_DPL_SHIFT;
    int a20 = (int)((env->a20_mask >> 20) & 1);
    const uint64_t *r = env->regs;

    if (env_cs64(env)) {
        g_string_append_printf(out,
            "RAX=%016" PRIx64 " RBX=%016" PRIx64 " RCX=%016" PRIx64 " RDX=%016" PRIx64 "\n"
            "RSI=%016" PRIx64 " RDI=%016" PRIx64 " RBP=%016" PRIx64 " RSP=%016" PRIx64 "\n"
            "R8 =%016" PRIx64 " R9 =%016" PRIx64 " R10=%016" PRIx64 " R11=%016" PRIx64 "\n"
            "R12=%016" PRIx64 " R13=%016" PRIx64 " R14=%016" PRIx64 " R15=%016" PRIx64 "\n"
            "RIP=%016" PRIx64 " RFL=%08x [%s] CPL=%d II=%d A20=%d SMM=0 HLT=%d\n",
            r[R_EAX], r[R_EBX], r[R_ECX], r[R_EDX], r[R_ESI], r[R_EDI], r[R_EBP], r[R_ESP],
            r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15],
            env->rip, fl, flags, cpl, env->interrupt_shadow, a20, env->halted);
    } else {
        g_string_append_printf(out,
            "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n"
            "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n"
            "EIP=%08x EFL=%08x [%s] CPL=%d II=%d A20=%d SMM=0 HLT=%d\n",
            (uint32_t)r[R_EAX], (uint32_t)r[R_EBX], (uint32_t)r[R_ECX], (uint32_t)r[R_EDX],
            (uint32_t)r[R_ESI], (uint32_t)r[R_EDI], (uint32_t)r[R_EBP], (uint32_t)r[R_ESP],
            (uint32_t)env->rip, fl, flags, cpl, env->interrupt_shadow, a20, env->halted);
    }
}

static void dump_control(const CPUX86State *env, GString *out)
{
    if (env_lma(env)) {
        g_string_append_printf(out, "GDT=     %016" PRIx64 " %08x\n", env->gdt.base, env->gdt.limit);
        g_string_append_printf(out, "IDT=     %016" PRIx64 " %08x\n", env->idt.base, env->idt.limit);
        g_string_append_printf(out, "CR0=%08x CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08x\n",
                               (uint32_t)env->cr[0], env->cr[2], env->cr[3],
                               (uint32_t)env->cr[4]);
    } else {
        g_string_append_printf(out, "GDT=     %08x %08x\n", (uint32_t)env->gdt.base, env->gdt.limit);
        g_string_append_printf(out, "IDT=     %08x %08x\n", (uint32_t)env->idt.base, env->idt.limit);
        g_string_append_printf(out, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n",
                               (uint32_t)env->cr[0], (uint32_t)env->cr[2],
                               (uint32_t)env->cr[3], (uint32_t)env->cr[4]);
    }
    for (int i = 0; i < 4; i++) {
        g_string_append_printf(out, "DR%d=%016" PRIx64 " ", i, env->dr[i]);
    }
    g_string_append_printf(out, "\nDR6=%016" PRIx64 " DR7=%016" PRIx64 "\n", env->dr[6], env->dr[7]);
    g_string_append_printf(out, "EFER=%016" PRIx64 "\n", env->efer);
}

static void dump_fpu(const CPUX86State *env, GString *out)
{
    const uint64_t avx512 = 0xe7;        /* x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM */
    const uint64_t avx = 0x06;           /* SSE AVX */
    int nregs = env_cs64(env) ? 16 : 8;

    g_string_append_printf(out, "FCW=%04x FSW=%04x [ST=%u] FTW=%02x MXCSR=%08x\n",
                           env->fpuc, (env->fpus & ~0x3800) | ((env->fpstt & 7) << 11),
                           env->fpstt, env->fptag_abridged, env->mxcsr);
    for (int i = 0; i < 8; i++) {
        g_string_append_printf(out, "FPR%d=%016" PRIx64 " %04x%s", i, env->fpregs[i].mant,
                               env->fpregs[i].exp, (i & 1) ? "\n" : " ");
    }
    /* env holds only the low 128 bits; upper halves print as zero. */
    if ((env->xcr0 & avx512) == avx512) {
        for (int i = 0; i < 8; i++) {
            g_string_append_printf(out, "Opmask%02d=%016x%s", i, 0, (i & 3) == 3 ? "\n" : " ");
        }
        for (int i = 0; i < (env_cs64(env) ? 32 : 8); i++) {
            const XMMReg *x = &env->xmm[i < 16 ? i : 0];
            uint64_t lo = i < 16 ? x->q[0] : 0, hi = i < 16 ? x->q[1] : 0;
            g_string_append_printf(out, "ZMM%02d=%016x %016x %016x %016x %016x %016x %016"
                                   PRIx64 " %016" PRIx64 "\n", i, 0, 0, 0, 0, 0, 0, hi, lo);
        }
    } else if ((env->xcr0 & avx) == avx) {
        for (int i = 0; i < nregs; i++) {
            g_string_append_printf(out, "YMM%02d=%016x %016x %016" PRIx64 " %016" PRIx64 "\n",
                                   i, 0, 0, env->xmm[i].q[1], env->xmm[i].q[0]);
        }
    } else {
        for (int i = 0; i < nregs; i++) {
            g_string_append_printf(out, "XMM%02d=%016" PRIx64 " %016" PRIx64 "%s", i,
                                   env->xmm[i].q[1], env->xmm[i].q[0], (i & 1) ? "\n" : " ");
        }
    }
}

static void dump_code(const CPUX86State *env, GString *out, X86ReadCodeFn *read, void *opaque)
{
    uint64_t base = env->segs[R_CS].base + env->rip;
    uint64_t offs = MIN(env->rip, CODE_BYTES_BACKWARD);

    g_string_append(out, "Code=");
    for (int i = 0; i < CODE_BYTES_TOTAL; i++) {
        uint8_t b;
        bool ok = read && read(opaque, base - offs + i, &b);
        g_string_append_printf(out, "%s%s", i > 0 ? " " : "", (uint64_t)i == offs ? "<" : "");
        if (ok) {
            g_string_append_printf(out, "%02x", b);
        } else {
            g_string_append(out, "??");
        }
        if ((uint64_t)i == offs) {
            g_string_append_c(out, '>');
        }
    }
    g_string_append_c(out, '\n');
}

void x86_cpu_dump_state_flags(CPUX86State *env, GString *out, int flags,
                              X86ReadCodeFn *read_code, void *opaque)
{
    static const char *const seg_name[6] = { "ES", "CS", "SS", "DS", "FS", "GS" };

    dump_gprs(env, out);
    for (int i = 0; i < 6; i++) {
        dump_seg(env, out, seg_name[i], &env->segs[i]);
    }
    dump_seg(env, out, "LDT", &env->ldt);
    dump_seg(env, out, "TR", &env->tr);
    dump_control(env, out);
    if (flags & X86_DUMP_FPU) {
        dump_fpu(env, out);
    }
    if (flags & X86_DUMP_CODE) {
        dump_code(env, out, read_code, opaque);
    }
}

void x86_cpu_dump_state(CPUX86State *env, GString *out)
{
    x86_cpu_dump_state_flags(env, out, X86_DUMP_FPU, NULL, NULL);
}
