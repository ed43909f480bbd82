/*
 * x86 monitor support, for both accelerators: the register dump in QEMU's
 * exact `info registers` layout (and the "Code=" variant QEMU prints on
 * KVM internal errors), and the HMP hook that syncs the vCPU and prints it.
 * Spec: QEMU 7.2 HMP output; Intel SDM vol. 3A 3.4.5 (descriptor types).
 * Locking: the dump formats a CPUX86State the caller owns; the HMP hook
 * runs with the BQL held (monitor).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "util/error.h"          /* before cpu.h, which uses struct Error */
#include "target/i386/cpu.h"
#include "monitor/monitor.h"
#include "system/cpus.h"
#include "system/kvm.h"
#include "system/memory.h"
#include "util/cutils.h"
#include "util/module.h"

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
    /* QEMU prints its fpregs[] as stored: physical registers under TCG, but
     * the FXSAVE image (ST(i) order) under KVM. Do the same. */
    bool st_order = kvm_enabled();
    for (int i = 0; i < 8; i++) {
        const FPReg *r = &env->fpregs[st_order ? (env->fpstt + (unsigned)i) & 7 : (unsigned)i];
        g_string_append_printf(out, "FPR%d=%016" PRIx64 " %04x%s", i, r->mant, r->exp,
                               (i & 1) ? "\n" : " ");
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

/* --- page tables: info tlb, info mem, virtual addresses for x/memsave --- */

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x3fffffffff000ull          /* table address bits QEMU's walker uses */
#define PROT_BITS (PTE_US | PTE_RW | PTE_P)

typedef struct PageWalk PageWalk;
struct PageWalk {
    const CPUX86State *env;
    GString *out;
    /* present leaf: print mask as QEMU's `info tlb` applies it */
    void (*leaf)(PageWalk *w, uint64_t va, uint64_t pte, uint64_t print_mask, uint64_t prot);
    void (*hole)(PageWalk *w, uint64_t va);   /* a non-present entry */
    uint64_t start;                          /* info mem: current range */
    uint64_t last_prot;
    bool in_range;
};

/* One paging level: entries, VA bits below it, entry size, large-page rule. */
typedef struct PageLevel {
    int entries;
    int shift;
    int entry_size;
    bool large;                 /* PS makes this entry a leaf */
    bool large_needs_pse;       /* ... only with CR4.PSE (32-bit paging) */
    bool no_prot;               /* PAE PDPTEs carry no U/S or R/W */
    uint64_t print_mask;        /* QEMU's `info tlb` mask for a leaf at this level */
} PageLevel;

static const PageLevel levels_32[] = {
    { 1024, 22, 4, true, true, false, ~((1ull << 21) - 1) },
    { 1024, 12, 4, false, false, false, ~0xfffull },
};
static const PageLevel levels_pae[] = {
    { 4, 30, 8, false, false, true, 0 },
    { 512, 21, 8, true, false, false, ~((1ull << 20) - 1) },
    { 512, 12, 8, false, false, false, ~0xfffull },
};
static const PageLevel levels_la57[] = {
    { 512, 48, 8, false, false, false, 0 },
    { 512, 39, 8, false, false, false, 0 },
    { 512, 30, 8, true, false, false, 0x3ffffc0000000ull },
    { 512, 21, 8, true, false, false, 0x3ffffffe00000ull },
    { 512, 12, 8, false, false, false, 0x3fffffffff000ull },
};

static uint64_t phys_read(uint64_t addr, int size)
{
    uint8_t b[8] = { 0 };
    as_rw(&as_memory, addr, b, size, false);
    return size == 4 ? ldl_le_p(b) : ldq_le_p(b);
}

static bool env_la57(const CPUX86State *env)
{
    return env_lma(env) && (env->cr[4] & (1u << 12));
}

/* Sign-extend a long-mode address the way QEMU prints it. */
static uint64_t canonical(const CPUX86State *env, uint64_t va)
{
    if (!env_lma(env)) {
        return va;
    }
    int top = env_la57(env) ? 56 : 47;
    return (va & (1ull << top)) ? va | ~((1ull << (top + 1)) - 1) : va;
}

static void walk_table(PageWalk *w, const PageLevel *lv, int nlevels, uint64_t table,
                       uint64_t va_base, uint64_t prot_in)
{
    for (int i = 0; i < lv->entries; i++) {
        uint64_t va = va_base + ((uint64_t)i << lv->shift);
        uint64_t e = phys_read(table + (uint64_t)i * lv->entry_size, lv->entry_size);
        if (!(e & PTE_P)) {
            w->hole(w, va);
            continue;
        }
        uint64_t prot = lv->no_prot ? prot_in : (prot_in & e);
        bool large = lv->large && (e & PTE_PS) &&
                     (!lv->large_needs_pse || (w->env->cr[4] & CR4_PSE));
        if (nlevels == 1) {
            w->leaf(w, va, e & ~PTE_PS, lv->print_mask, prot & PROT_BITS);   /* bit 7 is PAT */
        } else if (large) {
            w->leaf(w, va, e, lv->print_mask, prot & PROT_BITS);
        } else {
            walk_table(w, lv + 1, nlevels - 1, e & (lv->entry_size == 8 ? PTE_ADDR : ~0xfffull),
                       va, prot);
        }
    }
}

/* Walk every mapping of the current page tables; returns the VA-space size. */
static uint64_t walk_all(PageWalk *w)
{
    const CPUX86State *env = w->env;

    if (env_lma(env)) {
        bool la57 = env_la57(env);
        walk_table(w, la57 ? levels_la57 : levels_la57 + 1, la57 ? 5 : 4,
                   env->cr[3] & PTE_ADDR, 0, PROT_BITS);
        return 1ull << (la57 ? 57 : 48);
    }
    if (env->cr[4] & CR4_PAE) {
        walk_table(w, levels_pae, 3, env->cr[3] & ~0x1full & 0xffffffffull, 0, PROT_BITS);
    } else {
        walk_table(w, levels_32, 2, env->cr[3] & ~0xfffull & 0xffffffffull, 0, PROT_BITS);
    }
    return 1ull << 32;
}

static void tlb_leaf(PageWalk *w, uint64_t va, uint64_t pte, uint64_t mask, uint64_t prot)
{
    (void)prot;
    g_string_append_printf(w->out, "%016" PRIx64 ": %016" PRIx64 " %c%c%c%c%c%c%c%c%c\n",
                           canonical(w->env, va), pte & mask,
                           (pte & PTE_NX) ? 'X' : '-', (pte & PTE_G) ? 'G' : '-',
                           (pte & PTE_PS) ? 'P' : '-', (pte & PTE_D) ? 'D' : '-',
                           (pte & PTE_A) ? 'A' : '-', (pte & PTE_PCD) ? 'C' : '-',
                           (pte & PTE_PWT) ? 'T' : '-', (pte & PTE_US) ? 'U' : '-',
                           (pte & PTE_RW) ? 'W' : '-');
}

static void no_hole(PageWalk *w, uint64_t va)
{
    (void)w;
    (void)va;
}

/* info mem: a range ends where the protection changes. */
static void mem_boundary(PageWalk *w, uint64_t va, uint64_t prot)
{
    if (prot == w->last_prot) {
        return;
    }
    if (w->in_range) {
        g_string_append_printf(w->out, "%016" PRIx64 "-%016" PRIx64 " %016" PRIx64 " %c%c%c\n",
                               canonical(w->env, w->start), canonical(w->env, va),
                               canonical(w->env, va - w->start),
                               (w->last_prot & PTE_US) ? 'u' : '-', 'r',
                               (w->last_prot & PTE_RW) ? 'w' : '-');
    }
    w->in_range = prot != 0;
    w->start = va;
    w->last_prot = prot;
}

static void mem_leaf(PageWalk *w, uint64_t va, uint64_t pte, uint64_t mask, uint64_t prot)
{
    (void)pte;
    (void)mask;
    mem_boundary(w, va, prot);
}

static void mem_hole(PageWalk *w, uint64_t va)
{
    mem_boundary(w, va, 0);
}

static void hmp_x86_info_tlb(GString *out, int cpu_index)
{
    if (cpu_index < 0 || cpu_index >= n_cpus) {
        return;
    }
    PageWalk w = { .env = &cpus[cpu_index]->env, .out = out, .leaf = tlb_leaf, .hole = no_hole };
    walk_all(&w);
}

static void hmp_x86_info_mem(GString *out, int cpu_index)
{
    if (cpu_index < 0 || cpu_index >= n_cpus) {
        return;
    }
    PageWalk w = { .env = &cpus[cpu_index]->env, .out = out, .leaf = mem_leaf, .hole = mem_hole };
    uint64_t end = walk_all(&w);
    mem_boundary(&w, end, 0);
}

static bool x86_cpu_virt_to_phys(const CPUX86State *env, uint64_t va, uint64_t *pa)
{
    const PageLevel *lv;
    int n;
    uint64_t table;

    if (!(env->cr[0] & CR0_PG)) {
        *pa = va & env->a20_mask;
        return true;
    }
    if (env_lma(env)) {
        bool la57 = env_la57(env);
        lv = la57 ? levels_la57 : levels_la57 + 1;
        n = la57 ? 5 : 4;
        table = env->cr[3] & PTE_ADDR;
    } else if (env->cr[4] & CR4_PAE) {
        lv = levels_pae;
        n = 3;
        table = env->cr[3] & ~0x1full & 0xffffffffull;
        va &= 0xffffffffull;
    } else {
        lv = levels_32;
        n = 2;
        table = env->cr[3] & ~0xfffull & 0xffffffffull;
        va &= 0xffffffffull;
    }
    for (; n > 0; n--, lv++) {
        uint64_t idx = (va >> lv->shift) & (uint64_t)(lv->entries - 1);
        uint64_t e = phys_read(table + idx * lv->entry_size, lv->entry_size);
        if (!(e & PTE_P)) {
            return false;
        }
        uint64_t addr_mask = lv->entry_size == 8 ? 0x000ffffffffff000ull : 0xfffff000ull;
        bool large = lv->large && (e & PTE_PS) &&
                     (!lv->large_needs_pse || (env->cr[4] & CR4_PSE));
        if (large || n == 1) {
            uint64_t page = 1ull << lv->shift;
            uint64_t base = e & addr_mask & ~(page - 1);
            if (large && lv->entry_size == 4) {
                base |= ((e >> 13) & 0xffull) << 32;     /* PSE-36: bits 20:13 */
            }
            *pa = (base | (va & (page - 1))) & env->a20_mask;
            return true;
        }
        table = e & addr_mask;
    }
    return false;
}

static bool monitor_x86_virt_to_phys(CPUState *cpu, uint64_t va, uint64_t *pa)
{
    cpu_synchronize_state(cpu);
    return x86_cpu_virt_to_phys(&cpu->env, va, pa);
}

/* HMP `info registers` body for one CPU (the monitor prints "CPU#n"). */
static void hmp_x86_info_registers(GString *out, int cpu_index)
{
    if (cpu_index < 0 || cpu_index >= n_cpus) {
        return;
    }
    CPUState *cpu = cpus[cpu_index];
    cpu_synchronize_state(cpu);
    x86_cpu_dump_state(&cpu->env, out);
}

MODULE_INIT(x86_monitor_register)
{
    hmp_info_registers_hook = hmp_x86_info_registers;
    hmp_info_tlb_hook = hmp_x86_info_tlb;
    hmp_info_mem_hook = hmp_x86_info_mem;
    monitor_virt_to_phys = monitor_x86_virt_to_phys;
}
