/*
 * Unit tests for the pure parts of the KVM accelerator and the x86
 * register dump: kvm_segment <-> SegmentCache conversion, CPUID filtering
 * against a synthetic KVM_GET_SUPPORTED_CPUID table, and the exact
 * `info registers` text of the power-on state (captured from QEMU 7.2).
 * Links target/i386/kvm.c, target/i386/monitor.c and util/error.c; the
 * functions they call outside those files are stubbed below.
 */
#include <string.h>
#include <glib.h>
#include "target/i386/kvm_i386.h"
#include "hw/intc.h"
#include "system/memory.h"

/* ---- stubs (never reached by these tests) ---- */
CPUState **cpus;
int n_cpus;
bool kvm_enabled(void) { return false; }
void cpu_synchronize_state(CPUState *c) { (void)c; }
void (*hmp_info_registers_hook)(GString *out, int cpu_index);
void (*hmp_info_mem_hook)(GString *out, int cpu_index);
void (*hmp_info_tlb_hook)(GString *out, int cpu_index);
bool (*monitor_virt_to_phys)(CPUState *cpu, uint64_t va, uint64_t *pa);
/* Guest RAM for the page-walk tests: 64 KiB at physical 0. */
static uint8_t fake_ram[0x10000];
int as_rw(AddressSpace *as, uint64_t a, void *b, uint64_t l, bool w)
{
    (void)as;
    if (a + l > sizeof(fake_ram)) {
        memset(b, 0xff, l);
        return -1;
    }
    if (w) {
        memcpy(fake_ram + a, b, l);
    } else {
        memcpy(b, fake_ram + a, l);
    }
    return 0;
}
KVMState *kvm_state;
AddressSpace as_memory;
int kvm_vm_ioctl(KVMState *s, unsigned long req, void *arg) { (void)s; (void)req; (void)arg; return -1; }
int kvm_vcpu_ioctl(CPUState *c, unsigned long req, void *arg) { (void)c; (void)req; (void)arg; return -1; }
int kvm_check_extension(KVMState *s, int cap) { (void)s; (void)cap; return 0; }
bool kvm_has_msr(KVMState *s, uint32_t i) { (void)s; (void)i; return false; }
void cpu_reset_interrupt(CPUState *c, unsigned m) { (void)c; (void)m; }
int apic_get_interrupt(CPUState *c) { (void)c; return -1; }
bool apic_has_interrupt(CPUState *c) { (void)c; return false; }
uint8_t apic_get_tpr(CPUState *c) { (void)c; return 0; }
void apic_set_tpr(CPUState *c, uint8_t v) { (void)c; (void)v; }
void apic_set_base(CPUState *c, uint64_t v) { (void)c; (void)v; }
void *as_map(AddressSpace *as, uint64_t a, uint64_t *l, bool w) { (void)as; (void)a; (void)l; (void)w; return NULL; }
void cpu_x86_cpuid(CPUX86State *env, uint32_t leaf, uint32_t sub,
                   uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
    (void)env; (void)leaf; (void)sub;
    *eax = *ebx = *ecx = *edx = 0;
}

/* ---- segments ---- */

static void test_seg_roundtrip(void)
{
    static const uint32_t flags[] = {
        0x00009300, 0x00009b00, 0x00cf9b00, 0x00cf9300, 0x00af9b00,   /* real, flat 32, 64-bit */
        0x00008b00, 0x00008200, 0x0040f300, 0x0020fb00, 0x00109700,   /* TSS, LDT, DPL3, AVL */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(flags); i++) {
        SegmentCache a = { .selector = 0x1234, .base = 0xffff0000ull + i,
                           .limit = 0xfffff, .flags = flags[i] }, b;
        struct kvm_segment ks;
        kvm_cache_to_seg(&ks, &a, false);
        g_assert_cmpuint(ks.unusable, ==, 0);
        g_assert_cmpuint(ks.present, ==, 1);
        kvm_seg_to_cache(&b, &ks);
        g_assert_cmpuint(b.selector, ==, a.selector);
        g_assert_cmpuint(b.base, ==, a.base);
        g_assert_cmpuint(b.limit, ==, a.limit);
        /* descriptor limit bits 19:16 have no kvm_segment field */
        g_assert_cmphex(b.flags, ==, a.flags & 0x00f0ff00);
    }
}

static void test_seg_fields(void)
{
    SegmentCache cs = { .flags = 0x00af9b00 };          /* 64-bit code, G, L, P, DPL0 */
    struct kvm_segment ks;
    kvm_cache_to_seg(&ks, &cs, false);
    g_assert_cmpuint(ks.type, ==, 0xb);
    g_assert_cmpuint(ks.s, ==, 1);
    g_assert_cmpuint(ks.l, ==, 1);
    g_assert_cmpuint(ks.db, ==, 0);
    g_assert_cmpuint(ks.g, ==, 1);
    g_assert_cmpuint(ks.dpl, ==, 0);

    SegmentCache np = { .selector = 0, .flags = 0 };    /* null selector: unusable */
    kvm_cache_to_seg(&ks, &np, false);
    g_assert_cmpuint(ks.unusable, ==, 1);
    SegmentCache back;
    kvm_seg_to_cache(&back, &ks);
    g_assert_cmphex(back.flags, ==, 0);

    SegmentCache v86 = { .selector = 0xb800, .base = 0xb8000, .limit = 0xffff, .flags = 0 };
    kvm_cache_to_seg(&ks, &v86, true);
    g_assert_cmpuint(ks.type, ==, 3);
    g_assert_cmpuint(ks.dpl, ==, 3);
    g_assert_cmpuint(ks.present, ==, 1);
    g_assert_cmpuint(ks.s, ==, 1);
    g_assert_cmpuint(ks.base, ==, 0xb8000);
}

/* ---- CPUID ---- */

static struct kvm_cpuid2 *make_supported(void)
{
    static const struct kvm_cpuid_entry2 e[] = {
        { .function = 0, .eax = 0x16, .ebx = 0x756e6547, .ecx = 0x6c65746e, .edx = 0x49656e69 },
        { .function = 1, .eax = 0x000a0671, .ebx = 0x01020800, .ecx = 0x81202000 | (1u << 26),
          .edx = 0x0f8bfbff },
        { .function = 7, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
          .eax = 0, .ebx = 0x00000009, .ecx = 0, .edx = 0 },
        { .function = 0xd, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
          .eax = 0x7, .ebx = 0x240, .ecx = 0x340, .edx = 0 },
        { .function = 0xd, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x1 },
        { .function = 0xd, .index = 2, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
          .eax = 0x100, .ebx = 0x240 },
        { .function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b, .ecx = 0x564b4d56, .edx = 0x4d },
        { .function = 0x40000001, .eax = 0x01007efb },
        { .function = 0x80000000, .eax = 0x80000008 },
        { .function = 0x80000001, .ecx = 0x00000121, .edx = 0x2c100800 },
    };
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + sizeof(e));
    c->nent = G_N_ELEMENTS(e);
    memcpy(c->entries, e, sizeof(e));
    return c;
}

/* A qemu64-like model: level 0xd, xlevel 0x8000000a. */
static void model_source(void *opaque, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    const X86CPUModel *m = opaque;
    memset(r, 0, 4 * sizeof(uint32_t));
    (void)sub;
    switch (leaf) {
    case 0: r[0] = m->level; r[1] = 0x68747541; r[2] = 0x444d4163; r[3] = 0x69746e65; break;
    case 1: r[0] = 0x00060fb1; r[1] = 0x00000800; r[2] = m->features[FEAT_1_ECX];
            r[3] = m->features[FEAT_1_EDX] | (1u << 28) /* HTT from SMP */; break;
    case 4: if (sub < 2) { r[0] = 0x121 + sub; } break;
    case 0xb: r[2] = sub == 0 ? 0x100 : sub; break;
    case 0x80000000: r[0] = m->xlevel; break;
    case 0x80000001: r[2] = m->features[FEAT_8000_0001_ECX]; r[3] = m->features[FEAT_8000_0001_EDX]; break;
    default: break;
    }
}

static const struct kvm_cpuid_entry2 *find(struct kvm_cpuid_entry2 *e, int n, uint32_t leaf,
                                           uint32_t sub)
{
    for (int i = 0; i < n; i++) {
        if (e[i].function == leaf && e[i].index == sub) {
            return &e[i];
        }
    }
    return NULL;
}

static X86CPUModel qemu64 = {
    .name = "qemu64", .level = 0xd, .xlevel = 0x8000000a,
    .features = {
        [FEAT_1_EDX] = 0x078bfbfd, [FEAT_1_ECX] = 0x80002001,
        [FEAT_8000_0001_EDX] = 0x20100800, [FEAT_8000_0001_ECX] = 0x00000005,
    },
};

static void test_cpuid_filter(void)
{
    g_autofree struct kvm_cpuid2 *sup = make_supported();
    struct kvm_cpuid_entry2 out[128];
    g_autoptr(GString) warn = g_string_new(NULL);
    X86KVMCPUIDParams p = {
        .model = &qemu64, .irqchip_in_kernel = true, .apic_id = 3,
        .source = model_source, .opaque = &qemu64,
    };
    int n = kvm_x86_build_cpuid(sup, &p, out, 128, warn);

    /* pni is in the model but not in KVM's leaf 1 ECX: QEMU's warning, bit removed */
    g_assert_cmpstr(warn->str, ==,
        "host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]\n");
    const struct kvm_cpuid_entry2 *l1 = find(out, n, 1, 0);
    g_assert_nonnull(l1);
    g_assert_cmphex(l1->ecx & 1, ==, 0);
    g_assert_cmphex(l1->ecx & (1u << 31), !=, 0);        /* hypervisor */
    g_assert_cmphex(l1->ecx & (1u << 21), !=, 0);        /* x2apic with in-kernel irqchip */
    g_assert_cmphex(l1->ecx & (1u << 13), !=, 0);        /* cx16 kept */
    g_assert_cmphex(l1->edx & (1u << 28), !=, 0);        /* HTT from the model's SMP count kept */
    g_assert_cmphex(l1->edx & (1u << 22), ==, 0);        /* acpi off, as QEMU does with KVM */
    g_assert_cmphex(l1->ebx >> 24, ==, 3);               /* APIC ID */
    g_assert_cmphex(l1->eax, ==, 0x00060fb1);            /* model's signature, not the host's */
    /* svm removed from 0x80000001 ECX (kvm_default_props), lahf-lm kept */
    const struct kvm_cpuid_entry2 *x1 = find(out, n, 0x80000001, 0);
    g_assert_nonnull(x1);
    g_assert_cmphex(x1->ecx, ==, 0x00000001);
    g_assert_cmphex(x1->edx, ==, 0x20100800);
    /* no XSAVE in the model: no 0xD entries at all */
    g_assert_null(find(out, n, 0xd, 0));
    /* x2APIC ID in leaf 0xB, both levels present, SIGNIFCANT_INDEX set */
    const struct kvm_cpuid_entry2 *b0 = find(out, n, 0xb, 0), *b1 = find(out, n, 0xb, 1);
    g_assert_nonnull(b0);
    g_assert_nonnull(b1);
    g_assert_cmpuint(b0->edx, ==, 3);
    g_assert_true(b0->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
    /* leaf 4 stops at the null cache type */
    g_assert_nonnull(find(out, n, 4, 2));
    g_assert_null(find(out, n, 4, 3));
    /* KVM leaves: QEMU's default PV set, filtered by what KVM offers */
    const struct kvm_cpuid_entry2 *k0 = find(out, n, 0x40000000, 0), *k1 = find(out, n, 0x40000001, 0);
    g_assert_nonnull(k0);
    g_assert_cmphex(k0->eax, ==, 0x40000001);
    g_assert_cmphex(k0->ebx, ==, 0x4b4d564b);
    g_assert_nonnull(k1);
    g_assert_cmphex(k1->eax, ==, 0x0100007b);
    /* level / xlevel are the model's */
    g_assert_cmphex(find(out, n, 0, 0)->eax, ==, 0xd);
    g_assert_cmphex(find(out, n, 0x80000000, 0)->eax, ==, 0x8000000a);
    g_assert_null(find(out, n, 0xe, 0));
    g_assert_nonnull(find(out, n, 0x8000000a, 0));
}

static void test_cpuid_no_irqchip_and_xsave(void)
{
    g_autofree struct kvm_cpuid2 *sup = make_supported();
    struct kvm_cpuid_entry2 out[128];
    X86CPUModel m = qemu64;
    m.features[FEAT_1_ECX] |= (1u << 26) | (1u << 28);   /* +xsave +avx (KVM lacks avx) */
    X86KVMCPUIDParams p = {
        .model = &m, .irqchip_in_kernel = false, .source = model_source, .opaque = &m,
    };
    g_autoptr(GString) warn = g_string_new(NULL);
    int n = kvm_x86_build_cpuid(sup, &p, out, 128, warn);

    g_assert_nonnull(strstr(warn->str, "CPUID.01H:ECX.avx [bit 28]\n"));
    const struct kvm_cpuid_entry2 *l1 = find(out, n, 1, 0);
    g_assert_cmphex(l1->ecx & (1u << 21), ==, 0);        /* no x2apic without in-kernel LAPIC */
    g_assert_cmphex(l1->ecx & (1u << 26), !=, 0);
    const struct kvm_cpuid_entry2 *d0 = find(out, n, 0xd, 0);
    g_assert_nonnull(d0);
    g_assert_cmphex(d0->eax, ==, 3);                     /* x87|SSE only: AVX filtered out */
    g_assert_cmphex(d0->ecx, ==, 0x240);
    g_assert_null(find(out, n, 0xd, 1));                 /* model has no xsaveopt: EAX 0, no entry */
    g_assert_null(find(out, n, 0xd, 2));
}

static void test_cpuid_host(void)
{
    g_autofree struct kvm_cpuid2 *sup = make_supported();
    struct kvm_cpuid_entry2 out[128];
    X86KVMCPUIDParams p = {
        .model = &qemu64, .host = true, .irqchip_in_kernel = true, .apic_id = 1,
        .source = model_source, .opaque = &qemu64,
    };
    g_autoptr(GString) warn = g_string_new(NULL);
    int n = kvm_x86_build_cpuid(sup, &p, out, 128, warn);

    /* identity comes from the model (kvm_arch_adjust_cpu_model gives it the
     * host's), every feature word is KVM's, nothing to warn about */
    g_assert_cmpstr(warn->str, ==, "");
    const struct kvm_cpuid_entry2 *l1 = find(out, n, 1, 0);
    g_assert_cmphex(l1->eax, ==, 0x00060fb1);
    g_assert_cmphex(l1->ecx, ==, (0x81202000 | (1u << 26)));
    g_assert_cmphex(l1->edx, ==, 0x0f8bfbff | (1u << 28));
    g_assert_cmphex(l1->ebx >> 24, ==, 1);
    g_assert_cmphex(find(out, n, 7, 0)->ebx, ==, 9);
    /* PV features QEMU 7.2 knows: bit 10 (asyncpf-vmexit) is not passed */
    g_assert_cmphex(find(out, n, 0x40000001, 0)->eax, ==, 0x01007afb);
    g_assert_cmphex(find(out, n, 0xd, 0)->eax, ==, 7);
    g_assert_nonnull(find(out, n, 0xd, 2));
}

/* ---- info registers ---- */

/* QEMU 7.2 `info registers` at power-on (-enable-kvm -S), CPU#0 body. */
static const char reset_dump[] =
    "EAX=00000000 EBX=00000000 ECX=00000000 EDX=00060fb1\n"
    "ESI=00000000 EDI=00000000 EBP=00000000 ESP=00000000\n"
    "EIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
    "ES =0000 00000000 0000ffff 00009300\n"
    "CS =f000 ffff0000 0000ffff 00009b00\n"
    "SS =0000 00000000 0000ffff 00009300\n"
    "DS =0000 00000000 0000ffff 00009300\n"
    "FS =0000 00000000 0000ffff 00009300\n"
    "GS =0000 00000000 0000ffff 00009300\n"
    "LDT=0000 00000000 0000ffff 00008200\n"
    "TR =0000 00000000 0000ffff 00008b00\n"
    "GDT=     00000000 0000ffff\n"
    "IDT=     00000000 0000ffff\n"
    "CR0=60000010 CR2=00000000 CR3=00000000 CR4=00000000\n"
    "DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 DR3=0000000000000000 \n"
    "DR6=00000000ffff0ff0 DR7=0000000000000400\n"
    "EFER=0000000000000000\n"
    "FCW=037f FSW=0000 [ST=0] FTW=00 MXCSR=00001f80\n"
    "FPR0=0000000000000000 0000 FPR1=0000000000000000 0000\n"
    "FPR2=0000000000000000 0000 FPR3=0000000000000000 0000\n"
    "FPR4=0000000000000000 0000 FPR5=0000000000000000 0000\n"
    "FPR6=0000000000000000 0000 FPR7=0000000000000000 0000\n"
    "XMM00=0000000000000000 0000000000000000 XMM01=0000000000000000 0000000000000000\n"
    "XMM02=0000000000000000 0000000000000000 XMM03=0000000000000000 0000000000000000\n"
    "XMM04=0000000000000000 0000000000000000 XMM05=0000000000000000 0000000000000000\n"
    "XMM06=0000000000000000 0000000000000000 XMM07=0000000000000000 0000000000000000\n";

static void reset_env(CPUX86State *env)
{
    memset(env, 0, sizeof(*env));
    env->eflags = 2;
    env->rip = 0xfff0;
    env->regs[R_EDX] = 0x60fb1;
    env->cr[0] = 0x60000010;
    env->a20_mask = ~0ull;
    for (int i = 0; i < 6; i++) {
        env->segs[i].limit = 0xffff;
        env->segs[i].flags = 0x9300;
    }
    env->segs[R_CS].selector = 0xf000;
    env->segs[R_CS].base = 0xffff0000;
    env->segs[R_CS].flags = 0x9b00;
    env->ldt.limit = env->tr.limit = 0xffff;
    env->ldt.flags = 0x8200;
    env->tr.flags = 0x8b00;
    env->gdt.limit = env->idt.limit = 0xffff;
    env->dr[6] = 0xffff0ff0;
    env->dr[7] = 0x400;
    env->fpuc = 0x37f;
    env->mxcsr = 0x1f80;
    env->xcr0 = 1;
}

static void test_dump_reset(void)
{
    CPUX86State env;
    g_autoptr(GString) out = g_string_new(NULL);
    reset_env(&env);
    x86_cpu_dump_state(&env, out);
    g_assert_cmpstr(out->str, ==, reset_dump);
}

static bool fake_code(void *opaque, uint64_t linear, uint8_t *b)
{
    (void)opaque;
    if (linear >= 0x100010) {
        return false;
    }
    *b = (uint8_t)linear;
    return true;
}

static void test_dump_long_mode(void)
{
    CPUX86State env;
    g_autoptr(GString) out = g_string_new(NULL);
    reset_env(&env);
    env.efer = EFER_LMA | EFER_LME;
    env.cr[0] = 0x80000011;
    env.segs[R_CS] = (SegmentCache){ 0x28, 0, 0xffffffff, 0x00a09b00 };
    env.segs[R_SS] = (SegmentCache){ 0x10, 0, 0xffffffff, 0x00c09300 };
    env.tr = (SegmentCache){ 0x30, 0x1000, 0x67, 0x00008b00 };
    env.rip = 0x100008;
    env.regs[R_EAX] = 0x1122334455667788ull;
    env.eflags = 0x246;
    x86_cpu_dump_state_flags(&env, out, X86_DUMP_CODE, fake_code, NULL);
    g_assert_true(g_str_has_prefix(out->str,
        "RAX=1122334455667788 RBX=0000000000000000 RCX=0000000000000000 RDX=0000000000060fb1\n"));
    g_assert_nonnull(strstr(out->str,
        "RIP=0000000000100008 RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"));
    g_assert_nonnull(strstr(out->str,
        "CS =0028 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]\n"));
    g_assert_nonnull(strstr(out->str,
        "SS =0010 0000000000000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"));
    g_assert_nonnull(strstr(out->str,
        "TR =0030 0000000000001000 00000067 00008b00 DPL=0 TSS64-busy\n"));
    g_assert_nonnull(strstr(out->str, "GDT=     0000000000000000 0000ffff\n"));
    g_assert_nonnull(strstr(out->str,
        "CR0=80000011 CR2=0000000000000000 CR3=0000000000000000 CR4=00000000\n"));
    g_assert_null(strstr(out->str, "FCW="));
    /* 20 bytes back, the current one in <>, ?? where memory isn't readable */
    g_assert_nonnull(strstr(out->str,
        "Code=f4 f5 f6 f7 f8 f9 fa fb fc fd fe ff 00 01 02 03 04 05 06 07 <08> 09 0a 0b"
        " 0c 0d 0e 0f ?? ??"));
}

/* ---- info tlb / info mem / virtual addresses (32-bit paging with PSE) ---- */

static void put32(uint64_t a, uint32_t v)
{
    memcpy(fake_ram + a, &v, 4);
}

static CPUState *paging_cpu(void)
{
    static CPUState cpu;
    static CPUState *list[1];
    memset(fake_ram, 0, sizeof(fake_ram));
    put32(0x1000 + 0 * 4, 0x2007);            /* PDE 0 -> page table at 0x2000, user rw */
    put32(0x1000 + 1 * 4, 0x00400083);        /* 4 MiB page at 4 MiB */
    put32(0x1000 + 0x300 * 4, 0x00000087);    /* 0xc0000000 -> 0, user */
    put32(0x2000 + 0 * 4, 0x0003);            /* rw */
    put32(0x2000 + 1 * 4, 0x1005);            /* user, read-only */
    put32(0x2000 + 3 * 4, 0x3067);            /* dirty, accessed, user rw */
    put32(0x2000 + 4 * 4, 0x4083);            /* bit 7 is PAT in a PTE */
    reset_env(&cpu.env);
    cpu.env.cr[0] = CR0_PG | CR0_PE | CR0_ET;
    cpu.env.cr[3] = 0x1000;
    cpu.env.cr[4] = CR4_PSE;
    list[0] = &cpu;
    cpus = list;
    n_cpus = 1;
    return &cpu;
}

static void test_info_tlb_32(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    paging_cpu();
    g_assert_nonnull(hmp_info_tlb_hook);
    hmp_info_tlb_hook(out, 0);
    g_assert_cmpstr(out->str, ==,
        "0000000000000000: 0000000000000000 --------W\n"
        "0000000000001000: 0000000000001000 -------U-\n"
        "0000000000003000: 0000000000003000 ---DA--UW\n"
        "0000000000004000: 0000000000004000 --------W\n"
        "0000000000400000: 0000000000400000 --P-----W\n"
        "00000000c0000000: 0000000000000000 --P----UW\n");
}

static void test_info_mem_32(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    paging_cpu();
    g_assert_nonnull(hmp_info_mem_hook);
    hmp_info_mem_hook(out, 0);
    g_assert_cmpstr(out->str, ==,
        "0000000000000000-0000000000001000 0000000000001000 -rw\n"
        "0000000000001000-0000000000002000 0000000000001000 ur-\n"
        "0000000000003000-0000000000004000 0000000000001000 urw\n"
        "0000000000004000-0000000000005000 0000000000001000 -rw\n"
        "0000000000400000-0000000000800000 0000000000400000 -rw\n"
        "00000000c0000000-00000000c0400000 0000000000400000 urw\n");
}

static void test_virt_to_phys_32(void)
{
    CPUState *cpu = paging_cpu();
    uint64_t pa = 0;
    g_assert_nonnull(monitor_virt_to_phys);
    g_assert_true(monitor_virt_to_phys(cpu, 0xc0001234, &pa));
    g_assert_cmphex(pa, ==, 0x1234);
    g_assert_true(monitor_virt_to_phys(cpu, 0x1234, &pa));
    g_assert_cmphex(pa, ==, 0x1234);
    g_assert_false(monitor_virt_to_phys(cpu, 0x4567abc, &pa)); /* PDE 0x11 not present */
    g_assert_false(monitor_virt_to_phys(cpu, 0x2000, &pa));    /* PTE not present */
    g_assert_true(monitor_virt_to_phys(cpu, 0x5ff123, &pa));
    g_assert_cmphex(pa, ==, 0x5ff123);
    cpu->env.cr[0] &= ~CR0_PG;                                /* paging off: identity */
    g_assert_true(monitor_virt_to_phys(cpu, 0x12345678, &pa));
    g_assert_cmphex(pa, ==, 0x12345678);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm/seg/roundtrip", test_seg_roundtrip);
    g_test_add_func("/kvm/seg/fields", test_seg_fields);
    g_test_add_func("/kvm/cpuid/filter", test_cpuid_filter);
    g_test_add_func("/kvm/cpuid/no-irqchip-xsave", test_cpuid_no_irqchip_and_xsave);
    g_test_add_func("/kvm/cpuid/host", test_cpuid_host);
    g_test_add_func("/x86/dump/reset", test_dump_reset);
    g_test_add_func("/x86/dump/long-mode", test_dump_long_mode);
    g_test_add_func("/x86/paging/info-tlb-32", test_info_tlb_32);
    g_test_add_func("/x86/paging/info-mem-32", test_info_mem_32);
    g_test_add_func("/x86/paging/virt-to-phys-32", test_virt_to_phys_32);
    return g_test_run();
}
