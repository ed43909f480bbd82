/*
 * x86 half of the KVM accelerator: VM setup (TSS and identity-map pages,
 * in-kernel PIC/IOAPIC/LAPIC, PIT, GSI routing), CPUID filtering against
 * KVM_GET_SUPPORTED_CPUID, and CPUX86State <-> KVM register conversion.
 * Spec: Linux Documentation/virt/kvm/api.rst; Intel SDM vol. 2A (CPUID),
 * vol. 3A ch. 10 (local APIC reset state).
 * Locking: VM setup with the BQL; vCPU functions on the vCPU's own thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <cpuid.h>
#include <glib.h>
#include "target/i386/kvm_i386.h"
#include "hw/intc.h"
#include "hw/machine.h"
#include "system/kvm.h"
#include "system/memory.h"
#include "util/error.h"

/* --- segments --- */

void kvm_seg_to_cache(SegmentCache *sc, const struct kvm_segment *ks)
{
    sc->selector = ks->selector;
    sc->base = ks->base;
    sc->limit = ks->limit;
    if (ks->unusable) {
        sc->flags = 0;
        return;
    }
    sc->flags = ((uint32_t)ks->type << DESC_TYPE_SHIFT) |
                (ks->s ? DESC_S_MASK : 0) |
                ((uint32_t)ks->dpl << DESC_DPL_SHIFT) |
                (ks->present ? DESC_P_MASK : 0) |
                (ks->avl ? DESC_AVL_MASK : 0) |
                (ks->l ? DESC_L_MASK : 0) |
                (ks->db ? DESC_B_MASK : 0) |
                (ks->g ? DESC_G_MASK : 0);
}

void kvm_cache_to_seg(struct kvm_segment *ks, const SegmentCache *sc, bool vm86)
{
    uint32_t f = sc->flags;

    memset(ks, 0, sizeof(*ks));
    ks->selector = sc->selector;
    ks->base = sc->base;
    ks->limit = sc->limit;
    if (vm86) {
        /* Virtual-8086 segments: 16-bit read/write data, DPL 3 (SDM 20.2). */
        ks->type = 3;
        ks->present = 1;
        ks->dpl = 3;
        ks->s = 1;
        return;
    }
    ks->type = (f & DESC_TYPE_MASK) >> DESC_TYPE_SHIFT;
    ks->present = !!(f & DESC_P_MASK);
    ks->dpl = (f & DESC_DPL_MASK) >> DESC_DPL_SHIFT;
    ks->db = !!(f & DESC_B_MASK);
    ks->s = !!(f & DESC_S_MASK);
    ks->l = !!(f & DESC_L_MASK);
    ks->g = !!(f & DESC_G_MASK);
    ks->avl = !!(f & DESC_AVL_MASK);
    ks->unusable = !ks->present;
}

/* --- CPUID --- */

/* CPUID bits kvm.c needs by name. */
#define F1_ECX_MONITOR    (1u << 3)
#define F1_ECX_X2APIC     (1u << 21)
#define F1_ECX_XSAVE      (1u << 26)
#define F1_ECX_OSXSAVE    (1u << 27)
#define F1_ECX_AVX        (1u << 28)
#define F1_ECX_HYPERVISOR (1u << 31)
#define F1_EDX_ACPI       (1u << 22)
#define F7_EBX_AVX512F    (1u << 16)
#define F7_ECX_PKU        (1u << 3)
#define F7_ECX_OSPKE      (1u << 4)
#define F81_ECX_SVM       (1u << 2)

/* KVM paravirtual features QEMU enables by default (kvm_default_props):
 * kvmclock (+clocksource2), nopiodelay, asyncpf, steal-time, pv-eoi,
 * kvmclock-stable-bit. */
#define KVM_PV_DEFAULT    0x0100007bu
/* PV features QEMU 7.2 knows (what -cpu host passes): bits 0-9, 11-14, 24. */
#define KVM_PV_KNOWN      0x01007bffu

#define CPUID_KVM_SIGNATURE 0x40000000u
#define CPUID_KVM_FEATURES  0x40000001u

typedef struct FeatureWordInfo {
    uint32_t leaf, sub;
    int reg;                      /* 0 eax, 1 ebx, 2 ecx, 3 edx */
    const char *names[32];
} FeatureWordInfo;

/* QEMU's flag names (the ones -cpu +flag accepts and warnings print). */
static const FeatureWordInfo feature_words[FEAT_WORDS] = {
    [FEAT_1_EDX] = { 1, 0, 3, {
        "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce",
        "cx8", "apic", NULL, "sep", "mtrr", "pge", "mca", "cmov",
        "pat", "pse36", "pn", "clflush", NULL, "ds", "acpi", "mmx",
        "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe" } },
    [FEAT_1_ECX] = { 1, 0, 2, {
        "pni", "pclmulqdq", "dtes64", "monitor", "ds-cpl", "vmx", "smx", "est",
        "tm2", "ssse3", "cid", NULL, "fma", "cx16", "xtpr", "pdcm",
        NULL, "pcid", "dca", "sse4.1", "sse4.2", "x2apic", "movbe", "popcnt",
        "tsc-deadline", "aes", "xsave", NULL, "avx", "f16c", "rdrand", "hypervisor" } },
    [FEAT_7_0_EBX] = { 7, 0, 1, {
        "fsgsbase", "tsc-adjust", "sgx", "bmi1", "hle", "avx2", NULL, "smep",
        "bmi2", "erms", "invpcid", "rtm", NULL, NULL, "mpx", NULL,
        "avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma", "pcommit", "clflushopt",
        "clwb", "intel-pt", "avx512pf", "avx512er", "avx512cd", "sha-ni", "avx512bw", "avx512vl" } },
    [FEAT_7_0_ECX] = { 7, 0, 2, {
        NULL, "avx512vbmi", "umip", "pku", NULL, "waitpkg", "avx512vbmi2", NULL,
        "gfni", "vaes", "vpclmulqdq", "avx512vnni", "avx512bitalg", NULL, "avx512-vpopcntdq", NULL,
        "la57", NULL, NULL, NULL, NULL, NULL, "rdpid", NULL,
        "bus-lock-detect", "cldemote", NULL, "movdiri", "movdir64b", NULL, "sgxlc", "pks" } },
    [FEAT_7_0_EDX] = { 7, 0, 3, {
        NULL, NULL, "avx512-4vnniw", "avx512-4fmaps", "fsrm", NULL, NULL, NULL,
        "avx512-vp2intersect", NULL, "md-clear", NULL, NULL, NULL, "serialize", NULL,
        "tsx-ldtrk", NULL, "pconfig", "arch-lbr", NULL, NULL, "amx-bf16", "avx512-fp16",
        "amx-tile", "amx-int8", "spec-ctrl", "stibp", NULL, "arch-capabilities",
        "core-capability", "ssbd" } },
    [FEAT_8000_0001_EDX] = { 0x80000001, 0, 3, {
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, "syscall", NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, "nx", NULL, "mmxext", NULL,
        NULL, "fxsr-opt", "pdpe1gb", "rdtscp", NULL, "lm", "3dnowext", "3dnow" } },
    [FEAT_8000_0001_ECX] = { 0x80000001, 0, 2, {
        "lahf-lm", "cmp-legacy", "svm", "extapic", "cr8legacy", "abm", "sse4a", "misalignsse",
        "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", NULL, "lwp",
        "fma4", "tce", NULL, "nodeid-msr", NULL, "tbm", "topoext", "perfctr-core",
        "perfctr-nb", NULL, NULL, NULL, NULL, NULL, NULL, NULL } },
};

/*
 * Other words that are plain feature bits: model value AND KVM's, no
 * warning. For host/max, KVM's value limited to the bits QEMU 7.2 knows
 * and passes by default (invtsc is unmigratable, intel-pt off).
 */
static const struct { uint32_t leaf, sub; int reg; uint32_t host_mask; } quiet_words[] = {
    { 6, 0, 0, 0x00000004 },                      /* arat */
    { 7, 1, 0, 0x00000030 },                      /* avx-vnni, avx512-bf16 */
    { 7, 1, 3, 0 },
    { 0xd, 1, 0, 0x0000000f },                    /* xsaveopt, xsavec, xgetbv1, xsaves */
    { 0x14, 0, 1, 0 },
    { 0x80000007, 0, 3, 0 },
    { 0x80000008, 0, 1, 0x0700d205 },             /* clzero, xsaveerptr, wbnoinvd, ibpb... */
};

static const char *const reg_names[4] = { "EAX", "EBX", "ECX", "EDX" };

const struct kvm_cpuid_entry2 *kvm_cpuid_find(const struct kvm_cpuid2 *c, uint32_t leaf,
                                              uint32_t sub)
{
    for (uint32_t i = 0; c && i < c->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == leaf &&
            (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == sub)) {
            return e;
        }
    }
    return NULL;
}

static uint32_t *entry_reg(struct kvm_cpuid_entry2 *e, int reg)
{
    switch (reg) {
    case 0: return &e->eax;
    case 1: return &e->ebx;
    case 2: return &e->ecx;
    default: return &e->edx;
    }
}

static uint32_t sup_reg(const struct kvm_cpuid2 *sup, uint32_t leaf, uint32_t sub, int reg)
{
    const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(sup, leaf, sub);
    return e ? *entry_reg((struct kvm_cpuid_entry2 *)e, reg) : 0;
}

static bool leaf_is_indexed(uint32_t leaf)
{
    switch (leaf) {
    case 4: case 7: case 0xb: case 0xd: case 0xf: case 0x10: case 0x12: case 0x14:
    case 0x17: case 0x18: case 0x1d: case 0x1e: case 0x1f: case 0x24: case 0x8000001d:
        return true;
    default:
        return false;
    }
}

typedef struct CPUIDBuild {
    const struct kvm_cpuid2 *sup;
    const X86KVMCPUIDParams *p;
    struct kvm_cpuid_entry2 *out;
    int n, max;
    uint32_t feat[FEAT_WORDS];
} CPUIDBuild;

static struct kvm_cpuid_entry2 *add_entry(CPUIDBuild *b, uint32_t leaf, uint32_t sub,
                                          const uint32_t r[4])
{
    if (b->n >= b->max) {
        return NULL;
    }
    struct kvm_cpuid_entry2 *e = &b->out[b->n++];
    memset(e, 0, sizeof(*e));
    e->function = leaf;
    e->index = sub;
    e->flags = leaf_is_indexed(leaf) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
    e->eax = r[0];
    e->ebx = r[1];
    e->ecx = r[2];
    e->edx = r[3];
    return e;
}

static void leaf_value(CPUIDBuild *b, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    const X86KVMCPUIDParams *p = b->p;
    uint32_t m[4] = { 0, 0, 0, 0 };

    /* Identity, cache and topology leaves are the model's; for host/max the
     * model already carries the host's vendor/family/brand and KVM's levels
     * (kvm_arch_adjust_cpu_model). */
    if (p->source) {
        p->source(p->opaque, leaf, sub, m);
    }
    memcpy(r, m, sizeof(m));
    /*
     * Feature words: the model's (or KVM's for host), filtered by KVM's.
     * Bits the model's CPUID adds outside its feature set (HTT with SMP,
     * AMD's leaf-1 mirror in 0x80000001) stay as the model computed them.
     */
    for (int w = 0; w < FEAT_WORDS; w++) {
        const FeatureWordInfo *fw = &feature_words[w];
        if (fw->leaf == leaf && fw->sub == sub) {
            uint32_t own = p->model ? p->model->features[w] : 0;
            uint32_t extra = m[fw->reg] & ~own;
            if (w == FEAT_1_ECX) {
                extra &= ~(F1_ECX_OSXSAVE | F1_ECX_X2APIC | F1_ECX_MONITOR);
            } else if (w == FEAT_7_0_ECX) {
                extra &= ~F7_ECX_OSPKE;
            } else if (w == FEAT_8000_0001_ECX) {
                extra &= ~F81_ECX_SVM;
            } else if (w == FEAT_1_EDX) {
                extra &= ~F1_EDX_ACPI;
            }
            r[fw->reg] = b->feat[w] | extra;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(quiet_words); i++) {
        if (quiet_words[i].leaf == leaf && quiet_words[i].sub == sub) {
            uint32_t sup = sup_reg(b->sup, leaf, sub, quiet_words[i].reg);
            r[quiet_words[i].reg] = p->host ? (sup & quiet_words[i].host_mask)
                                            : (r[quiet_words[i].reg] & sup);
        }
    }
    if (p->host && leaf == 0x80000008) {
        r[0] = sup_reg(b->sup, leaf, 0, 0);     /* host-phys-bits, as QEMU's host */
    }
    /* APIC IDs */
    if (leaf == 1) {
        r[1] = (r[1] & 0x00ffffffu) | (p->apic_id << 24);
    } else if (leaf == 0xb || leaf == 0x1f) {
        r[3] = p->apic_id;
    } else if (leaf == 0x8000001e) {
        r[0] = p->apic_id;
    }
}

/* XSAVE state components the guest may enable given its feature words. */
static uint64_t xsave_components(const CPUIDBuild *b)
{
    uint64_t m = 3;                              /* x87, SSE */
    if (b->feat[FEAT_1_ECX] & F1_ECX_AVX) {
        m |= 1u << 2;
    }
    if (b->feat[FEAT_7_0_EBX] & F7_EBX_AVX512F) {
        m |= 7u << 5;                            /* opmask, ZMM_Hi256, Hi16_ZMM */
    }
    if (b->feat[FEAT_7_0_ECX] & F7_ECX_PKU) {
        m |= 1u << 9;
    }
    return m;
}

/* Like QEMU, subleaves of 0xD whose EAX is 0 get no entry at all. */
static void add_leaf_d_entry(CPUIDBuild *b, uint32_t sub, const uint32_t r[4])
{
    if (r[0]) {
        add_entry(b, 0xd, sub, r);
    }
}

static void build_leaf_d(CPUIDBuild *b)
{
    uint32_t r[4] = { 0, 0, 0, 0 };

    if (!(b->feat[FEAT_1_ECX] & F1_ECX_XSAVE)) {
        return;
    }
    uint64_t kvm_comps = (uint64_t)sup_reg(b->sup, 0xd, 0, 3) << 32 | sup_reg(b->sup, 0xd, 0, 0);
    uint64_t comps = (b->p->host ? kvm_comps : xsave_components(b)) & kvm_comps;
    comps |= 3;
    uint32_t max_size = 0x240;                   /* legacy area + XSAVE header */
    for (int i = 2; i < 64; i++) {
        if (comps & (1ull << i)) {
            const struct kvm_cpuid_entry2 *s = kvm_cpuid_find(b->sup, 0xd, i);
            if (s && s->eax) {
                max_size = MAX(max_size, s->eax + s->ebx);
            }
        }
    }
    r[0] = (uint32_t)comps;
    r[1] = 0x240;                                /* size for XCR0 = x87 (KVM updates it) */
    r[2] = max_size;
    r[3] = (uint32_t)(comps >> 32);
    add_leaf_d_entry(b, 0, r);
    leaf_value(b, 0xd, 1, r);
    r[1] = r[2] = r[3] = 0;
    if (b->p->host) {
        r[0] = sup_reg(b->sup, 0xd, 1, 0);
    }
    add_leaf_d_entry(b, 1, r);
    for (int i = 2; i < 64; i++) {
        const struct kvm_cpuid_entry2 *s = kvm_cpuid_find(b->sup, 0xd, i);
        if ((comps & (1ull << i)) && s) {
            uint32_t v[4] = { s->eax, s->ebx, s->ecx, s->edx };
            add_leaf_d_entry(b, i, v);
        }
    }
}

static void build_subleaves(CPUIDBuild *b, uint32_t leaf)
{
    uint32_t r[4];

    switch (leaf) {
    case 4: case 0x8000001d:                      /* until cache type 0 */
        for (uint32_t i = 0; i < 64; i++) {
            leaf_value(b, leaf, i, r);
            add_entry(b, leaf, i, r);
            if (!(r[0] & 0x1f)) {
                break;
            }
        }
        break;
    case 0xb: case 0x1f:                          /* until level type 0 */
        for (uint32_t i = 0; i < 64; i++) {
            leaf_value(b, leaf, i, r);
            add_entry(b, leaf, i, r);
            if (!(r[2] & 0xff00)) {
                break;
            }
        }
        break;
    case 7: {
        leaf_value(b, 7, 0, r);
        uint32_t maxsub = MIN(r[0], sup_reg(b->sup, 7, 0, 0));
        r[0] = maxsub;
        add_entry(b, 7, 0, r);
        for (uint32_t i = 1; i <= maxsub && i < 8; i++) {
            leaf_value(b, 7, i, r);
            add_entry(b, 7, i, r);
        }
        break;
    }
    case 0xd:
        build_leaf_d(b);
        break;
    default:
        leaf_value(b, leaf, 0, r);
        add_entry(b, leaf, 0, r);
        break;
    }
}

static void model_features(CPUIDBuild *b, GString *warnings)
{
    const X86KVMCPUIDParams *p = b->p;

    for (int w = 0; w < FEAT_WORDS; w++) {
        const FeatureWordInfo *fw = &feature_words[w];
        uint32_t sup = sup_reg(b->sup, fw->leaf, fw->sub, fw->reg);
        uint32_t want;

        if (w == FEAT_1_ECX) {
            sup |= F1_ECX_HYPERVISOR;             /* QEMU always offers it */
        }
        if (p->host || !p->model) {
            want = sup;
        } else {
            want = p->model->features[w];
            /* QEMU's kvm_default_props: x2apic on, acpi/monitor/svm off.
             * (The hypervisor bit is in every model, as QEMU puts it.) */
            if (w == FEAT_1_ECX) {
                want = (want | F1_ECX_X2APIC) & ~F1_ECX_MONITOR;
            } else if (w == FEAT_1_EDX) {
                want &= ~F1_EDX_ACPI;
            } else if (w == FEAT_8000_0001_ECX) {
                want &= ~F81_ECX_SVM;
            }
        }
        if (w == FEAT_1_ECX) {
            want &= ~F1_ECX_OSXSAVE;              /* runtime bits, KVM computes them */
            if (!p->irqchip_in_kernel) {
                want &= ~F1_ECX_X2APIC;
            }
        } else if (w == FEAT_7_0_ECX) {
            want &= ~F7_ECX_OSPKE;
        }
        uint32_t missing = want & ~sup;
        for (int bit = 0; warnings && bit < 32; bit++) {
            if (missing & (1u << bit)) {
                const char *name = fw->names[bit];
                g_string_append_printf(warnings,
                    "host doesn't support requested feature: CPUID.%02XH:%s%s%s [bit %d]\n",
                    fw->leaf, reg_names[fw->reg], name ? "." : "", name ? name : "", bit);
            }
        }
        b->feat[w] = want & sup;
    }
}

int kvm_x86_build_cpuid(const struct kvm_cpuid2 *sup, const X86KVMCPUIDParams *p,
                        struct kvm_cpuid_entry2 *out, int max, GString *warnings)
{
    CPUIDBuild b = { .sup = sup, .p = p, .out = out, .max = max };
    uint32_t r[4] = { 0, 0, 0, 0 };
    uint32_t level, xlevel;

    model_features(&b, warnings);
    if (!p->source) {
        level = sup_reg(sup, 0, 0, 0);
        xlevel = sup_reg(sup, 0x80000000, 0, 0);
    } else {
        p->source(p->opaque, 0, 0, r);
        level = r[0];
        p->source(p->opaque, 0x80000000, 0, r);
        xlevel = r[0];
    }
    for (uint32_t leaf = 0; leaf <= level && leaf < 0x100; leaf++) {
        build_subleaves(&b, leaf);
    }
    /* KVM paravirtual leaves, as QEMU sets them with -enable-kvm. */
    uint32_t sig[4] = { CPUID_KVM_FEATURES, 0x4b4d564b, 0x564b4d56, 0x4d };
    add_entry(&b, CPUID_KVM_SIGNATURE, 0, sig);
    uint32_t pv = sup_reg(sup, CPUID_KVM_FEATURES, 0, 0);
    uint32_t feat[4] = { pv & (p->host ? KVM_PV_KNOWN : KVM_PV_DEFAULT), 0, 0, 0 };
    add_entry(&b, CPUID_KVM_FEATURES, 0, feat);
    for (uint32_t leaf = 0x80000000; leaf <= xlevel && leaf < 0x80000100; leaf++) {
        build_subleaves(&b, leaf);
    }
    return b.n;
}

/* --- VM setup --- */

static bool setup_gsi_routing(KVMState *s, Error **errp)
{
    /* QEMU's PC routing: GSI 0-15 to both PICs (except the cascade, 2),
     * GSI 0-23 to the IOAPIC with ISA IRQ0 on pin 2 (the MADT override). */
    size_t n = 0, max = 64;
    struct kvm_irq_routing *rt = g_malloc0(sizeof(*rt) + max * sizeof(rt->entries[0]));

    for (uint32_t gsi = 0; gsi < 16; gsi++) {
        if (gsi == 2) {
            continue;
        }
        struct kvm_irq_routing_entry *e = &rt->entries[n++];
        e->gsi = gsi;
        e->type = KVM_IRQ_ROUTING_IRQCHIP;
        e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
        e->u.irqchip.pin = gsi & 7;
    }
    for (uint32_t gsi = 0; gsi < 24; gsi++) {
        if (gsi == 2) {
            continue;
        }
        struct kvm_irq_routing_entry *e = &rt->entries[n++];
        e->gsi = gsi;
        e->type = KVM_IRQ_ROUTING_IRQCHIP;
        e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
        e->u.irqchip.pin = gsi == 0 ? 2 : gsi;
    }
    rt->nr = n;
    int r = kvm_vm_ioctl(s, KVM_SET_GSI_ROUTING, rt);
    g_free(rt);
    if (r < 0) {
        error_setg_errno(errp, -r, "KVM_SET_GSI_ROUTING failed");
        return false;
    }
    return true;
}

bool kvm_arch_init_vm(KVMState *s, Machine *m, Error **errp)
{
    int r;

    /* Intel (VMX without unrestricted guest) needs the EPT identity map and
     * real-mode TSS pages; both are set before any vCPU exists (api.rst). */
    if (kvm_check_extension(s, KVM_CAP_SET_IDENTITY_MAP_ADDR)) {
        uint64_t base = KVM_IDENTITY_BASE;
        r = kvm_vm_ioctl(s, KVM_SET_IDENTITY_MAP_ADDR, &base);
        if (r < 0) {
            error_setg_errno(errp, -r, "kvm: KVM_SET_IDENTITY_MAP_ADDR failed");
            return false;
        }
    }
    r = ioctl(s->vmfd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_BASE);
    if (r < 0) {
        error_setg_errno(errp, errno, "kvm: KVM_SET_TSS_ADDR failed");
        return false;
    }
    if (m && m->kernel_irqchip_off) {
        return true;
    }
    if (m && m->kernel_irqchip_split) {
        error_setg(errp, "kernel-irqchip=split is not supported by kemu");
        return false;
    }
    r = kvm_vm_ioctl(s, KVM_CREATE_IRQCHIP, NULL);
    if (r < 0) {
        error_setg_errno(errp, -r, "Create kernel irqchip failed");
        return false;
    }
    s->irqchip = true;
    if (s->irq_routing && !setup_gsi_routing(s, errp)) {
        return false;
    }
    if (kvm_check_extension(s, KVM_CAP_PIT2)) {
        /* The kernel also emulates port 0x61 (PIT channel 2 gate/output). */
        struct kvm_pit_config pc = { .flags = KVM_PIT_SPEAKER_DUMMY };
        r = kvm_vm_ioctl(s, KVM_CREATE_PIT2, &pc);
        if (r < 0) {
            error_setg_errno(errp, -r, "Create kernel PIC irqchip failed");
            return false;
        }
        s->pit = true;
    }
    return true;
}

static void host_cpuid(uint32_t leaf, uint32_t r[4])
{
    __cpuid_count(leaf, 0, r[0], r[1], r[2], r[3]);
}

void kvm_arch_adjust_cpu_model(KVMState *s, X86CPUConfig *cfg)
{
    X86CPUModel *m = &cfg->m;
    uint32_t r[4];

    /* Vendor: the host's, for every model (KVM's leaf 0 reports it). */
    const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(s->supported_cpuid, 0, 0);
    if (e) {
        memcpy(m->vendor + 0, &e->ebx, 4);
        memcpy(m->vendor + 4, &e->edx, 4);
        memcpy(m->vendor + 8, &e->ecx, 4);
        m->vendor[12] = 0;
    }
    if (!cfg->host && !cfg->is_max && strcmp(m->name ? m->name : "", "host") &&
        strcmp(m->name ? m->name : "", "max")) {
        return;
    }
    /* host/max: the host's identity and KVM's levels and features, as QEMU. */
    m->level = sup_reg(s->supported_cpuid, 0, 0, 0);
    m->xlevel = sup_reg(s->supported_cpuid, 0x80000000, 0, 0);
    host_cpuid(1, r);
    m->stepping = r[0] & 0xf;
    m->model = ((r[0] >> 4) & 0xf) | (((r[0] >> 16) & 0xf) << 4);
    m->family = ((r[0] >> 8) & 0xf) + (((r[0] >> 8) & 0xf) == 0xf ? ((r[0] >> 20) & 0xff) : 0);
    host_cpuid(0x80000000, r);
    if (r[0] >= 0x80000004) {
        char id[49] = { 0 };
        for (uint32_t i = 0; i < 3; i++) {
            host_cpuid(0x80000002 + i, r);
            memcpy(id + 16 * i, r, 16);
        }
        memcpy(m->model_id, id, sizeof(m->model_id));
        m->model_id[sizeof(m->model_id) - 1] = 0;
    }
    for (int w = 0; w < FEAT_WORDS; w++) {
        const FeatureWordInfo *fw = &feature_words[w];
        m->features[w] = sup_reg(s->supported_cpuid, fw->leaf, fw->sub, fw->reg);
    }
}

/*
 * Power-on/reset state of the in-kernel PIC pair, IOAPIC and PIT, as
 * QEMU's device resets put it: 8259s uninitialised with IMR 0 (ELCR kept),
 * IOAPIC ID 0 with every pin masked, PIT channels unprogrammed as KVM
 * creates them (gates up except channel 2, no IRQ0 until the guest
 * programs channel 0: QEMU 7.2 with KVM does not tick at power-on either).
 */
void kvm_arch_reset_vm(KVMState *s)
{
    if (!s->irqchip) {
        return;
    }
    for (uint32_t chip = KVM_IRQCHIP_PIC_MASTER; chip <= KVM_IRQCHIP_IOAPIC; chip++) {
        struct kvm_irqchip ic = { .chip_id = chip };
        if (kvm_vm_ioctl(s, KVM_GET_IRQCHIP, &ic) < 0) {
            continue;
        }
        if (chip == KVM_IRQCHIP_IOAPIC) {
            struct kvm_ioapic_state *io = &ic.chip.ioapic;
            io->id = 0;
            io->ioregsel = 0;
            io->irr = 0;
            for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
                io->redirtbl[i].bits = 1ull << 16;
            }
        } else {
            struct kvm_pic_state *pic = &ic.chip.pic;
            uint8_t elcr = pic->elcr, elcr_mask = pic->elcr_mask;
            uint8_t irr = pic->irr & elcr;
            memset(pic, 0, sizeof(*pic));
            pic->irr = irr;
            pic->elcr = elcr;
            pic->elcr_mask = elcr_mask;
        }
        int r = kvm_vm_ioctl(s, KVM_SET_IRQCHIP, &ic);
        if (r < 0) {
            error_report("kvm: resetting irqchip %u failed: %s", chip, strerror(-r));
        }
    }
    if (s->pit) {
        struct kvm_pit_state2 ps;
        if (kvm_vm_ioctl(s, KVM_GET_PIT2, &ps) == 0) {
            for (int i = 0; i < 3; i++) {
                struct kvm_pit_channel_state *c = &ps.channels[i];
                c->mode = 0xff;                   /* unprogrammed: no timer */
                c->gate = i != 2;
                c->count = 0;
            }
            int r = kvm_vm_ioctl(s, KVM_SET_PIT2, &ps);
            if (r < 0) {
                error_report("kvm: resetting the PIT failed: %s", strerror(-r));
            }
        }
    }
}

void kvm_pit_set_hpet_legacy(bool on)
{
    KVMState *s = kvm_state;
    struct kvm_pit_state2 ps;

    if (!s || !s->pit || kvm_vm_ioctl(s, KVM_GET_PIT2, &ps) < 0) {
        return;
    }
    ps.flags = on ? (ps.flags | KVM_PIT_FLAGS_HPET_LEGACY)
                  : (ps.flags & ~KVM_PIT_FLAGS_HPET_LEGACY);
    int r = kvm_vm_ioctl(s, KVM_SET_PIT2, &ps);
    if (r < 0) {
        error_report("kvm: KVM_SET_PIT2 failed: %s", strerror(-r));
    }
}

/* --- vCPU setup --- */

static void cpuid_source(void *opaque, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    cpu_x86_cpuid(opaque, leaf, sub, &r[0], &r[1], &r[2], &r[3]);
}

static bool cpu_is_host_model(CPUState *cpu)
{
    const X86CPUModel *m = cpu->env.model;
    if (cpu->machine && (cpu->machine->cpu.host || cpu->machine->cpu.is_max)) {
        return true;
    }
    return m && (!strcmp(m->name, "host") || !strcmp(m->name, "max"));
}

bool kvm_arch_init_vcpu(KVMState *s, CPUState *cpu, Error **errp)
{
    KVMVcpu *v = kvm_vcpu(cpu);
    int max = 256;
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + max * sizeof(c->entries[0]));
    g_autoptr(GString) warn = g_string_new(NULL);
    X86KVMCPUIDParams p = {
        .model = cpu->env.model,
        .host = cpu_is_host_model(cpu),
        .irqchip_in_kernel = s->irqchip,
        .apic_id = cpu->env.apic_id,
        .source = cpuid_source,
        .opaque = &cpu->env,
    };

    c->nent = kvm_x86_build_cpuid(s->supported_cpuid, &p, c->entries, max, warn);
    const struct kvm_cpuid_entry2 *pv = kvm_cpuid_find(c, CPUID_KVM_FEATURES, 0);
    v->pv_features = pv ? pv->eax : 0;
    if (warn->len) {
        gchar **lines = g_strsplit(warn->str, "\n", -1);
        for (int i = 0; lines[i] && lines[i][0]; i++) {
            warn_report("%s", lines[i]);
        }
        g_strfreev(lines);
    }
    if (!s->irqchip) {
        /* QEMU 7.2 prints these per CPU with kernel-irqchip=off */
        warn_report("Userspace local APIC is deprecated for KVM.");
        warn_report("Do not use kernel-irqchip except for the -M isapc machine type.");
    }
    int r = kvm_vcpu_ioctl(cpu, KVM_SET_CPUID2, c);
    g_free(c);
    if (r < 0) {
        error_setg_errno(errp, -r, "kvm: KVM_SET_CPUID2 failed");
        return false;
    }
    if (s->xsave) {
        v->xsave = g_malloc0(s->xsave_size);
    }
    atomic_store(&v->reset_pending, true);
    return true;
}

/* --- registers --- */

typedef struct MSRMap {
    uint32_t index;
    size_t off;                   /* offset in CPUX86State */
    bool reset_only;              /* written only on reset (TSC, deadline) */
} MSRMap;

#define ENVOFF(f) offsetof(CPUX86State, f)
static const MSRMap msr_map[] = {
    { MSR_IA32_SYSENTER_CS, ENVOFF(sysenter_cs), false },
    { MSR_IA32_SYSENTER_ESP, ENVOFF(sysenter_esp), false },
    { MSR_IA32_SYSENTER_EIP, ENVOFF(sysenter_eip), false },
    { MSR_IA32_PAT, ENVOFF(pat), false },
    { MSR_STAR, ENVOFF(star), false },
    { MSR_LSTAR, ENVOFF(lstar), false },
    { MSR_CSTAR, ENVOFF(cstar), false },
    { MSR_FMASK, ENVOFF(fmask), false },
    { MSR_KERNELGSBASE, ENVOFF(kernelgsbase), false },
    { MSR_TSC_AUX, ENVOFF(tsc_aux), false },
    { MSR_IA32_MISC_ENABLE, ENVOFF(misc_enable), false },
    { MSR_IA32_SPEC_CTRL, ENVOFF(spec_ctrl), false },
    { MSR_MCG_STATUS, ENVOFF(mcg_status), false },
    { MSR_MTRRdefType, ENVOFF(mtrr_deftype), false },
    { MSR_IA32_TSC, ENVOFF(tsc), true },
    { MSR_IA32_TSC_ADJUST, ENVOFF(tsc_adjust), true },
    { MSR_IA32_TSC_DEADLINE, ENVOFF(tsc_deadline), true },
};

/* KVM paravirtual MSRs: cleared on reset so a rebooted guest's memory is not
 * written by a kvmclock/steal-time area the previous boot registered. Like
 * QEMU, only those whose feature the guest's CPUID 0x40000001 offers. */
static const struct { uint32_t index; int feature_bit; } pv_msrs[] = {
    { 0x11, 0 }, { 0x12, 0 },                     /* KVM_FEATURE_CLOCKSOURCE */
    { 0x4b564d00, 3 }, { 0x4b564d01, 3 },         /* CLOCKSOURCE2 */
    { 0x4b564d02, 4 },                            /* ASYNC_PF */
    { 0x4b564d03, 5 },                            /* STEAL_TIME */
    { 0x4b564d04, 6 },                            /* PV_EOI */
    { 0x4b564d06, 14 }, { 0x4b564d07, 14 },       /* ASYNC_PF_INT */
};

static uint64_t *env_u64(CPUX86State *env, size_t off)
{
    return (uint64_t *)((uint8_t *)env + off);
}

static int put_msrs(CPUState *cpu, bool reset)
{
    KVMState *s = kvm_state;
    CPUX86State *env = &cpu->env;
    g_autofree struct kvm_msrs *buf = g_malloc0(sizeof(*buf) + 64 * sizeof(buf->entries[0]));
    struct kvm_msr_entry *e = buf->entries;
    int n = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(msr_map); i++) {
        if ((msr_map[i].reset_only && !reset) || !kvm_has_msr(s, msr_map[i].index)) {
            continue;
        }
        e[n].index = msr_map[i].index;
        e[n].data = *env_u64(env, msr_map[i].off);
        n++;
    }
    if (reset) {
        for (size_t i = 0; i < G_N_ELEMENTS(pv_msrs); i++) {
            if (kvm_has_msr(s, pv_msrs[i].index) &&
                (kvm_vcpu(cpu)->pv_features & (1u << pv_msrs[i].feature_bit))) {
                e[n].index = pv_msrs[i].index;
                e[n].data = 0;
                n++;
            }
        }
    }
    buf->nmsrs = n;
    int r = kvm_vcpu_ioctl(cpu, KVM_SET_MSRS, buf);
    if (r >= 0 && r < n) {
        error_report("error: failed to set MSR 0x%x to 0x%llx",
                     e[r].index, (unsigned long long)e[r].data);
        return -EINVAL;
    }
    return r < 0 ? r : 0;
}

static int get_msrs(CPUState *cpu)
{
    KVMState *s = kvm_state;
    CPUX86State *env = &cpu->env;
    g_autofree struct kvm_msrs *buf = g_malloc0(sizeof(*buf) + 64 * sizeof(buf->entries[0]));
    struct kvm_msr_entry *e = buf->entries;
    int n = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(msr_map); i++) {
        if (kvm_has_msr(s, msr_map[i].index)) {
            e[n++].index = msr_map[i].index;
        }
    }
    buf->nmsrs = n;
    int r = kvm_vcpu_ioctl(cpu, KVM_GET_MSRS, buf);
    if (r < 0) {
        return r;
    }
    for (int i = 0; i < r; i++) {
        for (size_t j = 0; j < G_N_ELEMENTS(msr_map); j++) {
            if (msr_map[j].index == e[i].index) {
                *env_u64(env, msr_map[j].off) = e[i].data;
            }
        }
    }
    return 0;
}

static void fpu_to_fxsave(const CPUX86State *env, uint8_t *fx)
{
    uint16_t fsw = (env->fpus & ~0x3800) | ((env->fpstt & 7) << 11);

    memcpy(fx + 0, &env->fpuc, 2);
    memcpy(fx + 2, &fsw, 2);
    fx[4] = env->fptag_abridged;
    memcpy(fx + 6, &env->fpop, 2);
    memcpy(fx + 8, &env->fpip, 8);
    memcpy(fx + 16, &env->fpdp, 8);
    memcpy(fx + 24, &env->mxcsr, 4);
    for (int i = 0; i < 8; i++) {                 /* slot i holds ST(i) */
        const FPReg *st = &env->fpregs[(env->fpstt + i) & 7];
        memset(fx + 32 + 16 * i, 0, 16);
        memcpy(fx + 32 + 16 * i, &st->mant, 8);
        memcpy(fx + 40 + 16 * i, &st->exp, 2);
    }
    memcpy(fx + 160, env->xmm, 16 * 16);
}

static void fxsave_to_fpu(CPUX86State *env, const uint8_t *fx)
{
    uint16_t fsw;

    memcpy(&env->fpuc, fx + 0, 2);
    memcpy(&fsw, fx + 2, 2);
    env->fpstt = (fsw >> 11) & 7;
    env->fpus = fsw & ~0x3800;
    env->fptag_abridged = fx[4];
    memcpy(&env->fpop, fx + 6, 2);
    memcpy(&env->fpip, fx + 8, 8);
    memcpy(&env->fpdp, fx + 16, 8);
    memcpy(&env->mxcsr, fx + 24, 4);
    for (int i = 0; i < 8; i++) {
        FPReg *st = &env->fpregs[(env->fpstt + i) & 7];
        memcpy(&st->mant, fx + 32 + 16 * i, 8);
        memcpy(&st->exp, fx + 40 + 16 * i, 2);
    }
    memcpy(env->xmm, fx + 160, 16 * 16);
}

static int put_fpu(CPUState *cpu, bool reset)
{
    KVMState *s = kvm_state;
    KVMVcpu *v = kvm_vcpu(cpu);
    CPUX86State *env = &cpu->env;

    if (s->xsave) {
        if (reset) {
            memset(v->xsave, 0, s->xsave_size);
        }
        fpu_to_fxsave(env, v->xsave);
        uint64_t bv;
        memcpy(&bv, v->xsave + 512, 8);
        bv |= 3;                                  /* x87 and SSE from the legacy area */
        memcpy(v->xsave + 512, &bv, 8);
        return kvm_vcpu_ioctl(cpu, KVM_SET_XSAVE, v->xsave);
    }
    struct kvm_fpu fpu;
    uint8_t fx[512];
    memset(&fpu, 0, sizeof(fpu));
    memset(fx, 0, sizeof(fx));
    fpu_to_fxsave(env, fx);
    memcpy(fpu.fpr, fx + 32, sizeof(fpu.fpr));
    fpu.fcw = env->fpuc;
    fpu.fsw = (env->fpus & ~0x3800) | ((env->fpstt & 7) << 11);
    fpu.ftwx = env->fptag_abridged;
    fpu.last_opcode = env->fpop;
    fpu.last_ip = env->fpip;
    fpu.last_dp = env->fpdp;
    memcpy(fpu.xmm, env->xmm, sizeof(fpu.xmm));
    fpu.mxcsr = env->mxcsr;
    return kvm_vcpu_ioctl(cpu, KVM_SET_FPU, &fpu);
}

static int get_fpu(CPUState *cpu)
{
    KVMState *s = kvm_state;
    KVMVcpu *v = kvm_vcpu(cpu);
    CPUX86State *env = &cpu->env;
    int r;

    if (s->xsave) {
        r = kvm_vcpu_ioctl(cpu, s->xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, v->xsave);
        if (r < 0) {
            return r;
        }
        fxsave_to_fpu(env, v->xsave);
        return 0;
    }
    struct kvm_fpu fpu;
    uint8_t fx[512];
    r = kvm_vcpu_ioctl(cpu, KVM_GET_FPU, &fpu);
    if (r < 0) {
        return r;
    }
    memset(fx, 0, sizeof(fx));
    uint16_t fcw = fpu.fcw, fsw = fpu.fsw, fop = fpu.last_opcode;
    memcpy(fx + 0, &fcw, 2);
    memcpy(fx + 2, &fsw, 2);
    fx[4] = fpu.ftwx;
    memcpy(fx + 6, &fop, 2);
    memcpy(fx + 8, &fpu.last_ip, 8);
    memcpy(fx + 16, &fpu.last_dp, 8);
    memcpy(fx + 24, &fpu.mxcsr, 4);
    memcpy(fx + 32, fpu.fpr, sizeof(fpu.fpr));
    memcpy(fx + 160, fpu.xmm, sizeof(fpu.xmm));
    fxsave_to_fpu(env, fx);
    return 0;
}

static void regs_from_env(struct kvm_regs *r, const CPUX86State *env)
{
    r->rax = env->regs[R_EAX]; r->rbx = env->regs[R_EBX];
    r->rcx = env->regs[R_ECX]; r->rdx = env->regs[R_EDX];
    r->rsi = env->regs[R_ESI]; r->rdi = env->regs[R_EDI];
    r->rsp = env->regs[R_ESP]; r->rbp = env->regs[R_EBP];
    r->r8 = env->regs[8];   r->r9 = env->regs[9];
    r->r10 = env->regs[10]; r->r11 = env->regs[11];
    r->r12 = env->regs[12]; r->r13 = env->regs[13];
    r->r14 = env->regs[14]; r->r15 = env->regs[15];
    r->rip = env->rip;
    r->rflags = env->eflags | 2;
}

static void regs_to_env(CPUX86State *env, const struct kvm_regs *r)
{
    env->regs[R_EAX] = r->rax; env->regs[R_EBX] = r->rbx;
    env->regs[R_ECX] = r->rcx; env->regs[R_EDX] = r->rdx;
    env->regs[R_ESI] = r->rsi; env->regs[R_EDI] = r->rdi;
    env->regs[R_ESP] = r->rsp; env->regs[R_EBP] = r->rbp;
    env->regs[8] = r->r8;   env->regs[9] = r->r9;
    env->regs[10] = r->r10; env->regs[11] = r->r11;
    env->regs[12] = r->r12; env->regs[13] = r->r13;
    env->regs[14] = r->r14; env->regs[15] = r->r15;
    env->rip = r->rip;
    env->eflags = r->rflags;
}

static uint64_t default_apic_base(CPUState *cpu)
{
    return APIC_DEFAULT_ADDRESS | MSR_IA32_APICBASE_ENABLE |
           (cpu->index == 0 ? MSR_IA32_APICBASE_BSP : 0);
}

static int put_sregs(CPUState *cpu)
{
    CPUX86State *env = &cpu->env;
    struct kvm_sregs sr;
    bool vm86 = env->eflags & VM_MASK;

    memset(&sr, 0, sizeof(sr));
    kvm_cache_to_seg(&sr.cs, &env->segs[R_CS], vm86);
    kvm_cache_to_seg(&sr.ds, &env->segs[R_DS], vm86);
    kvm_cache_to_seg(&sr.es, &env->segs[R_ES], vm86);
    kvm_cache_to_seg(&sr.fs, &env->segs[R_FS], vm86);
    kvm_cache_to_seg(&sr.gs, &env->segs[R_GS], vm86);
    kvm_cache_to_seg(&sr.ss, &env->segs[R_SS], vm86);
    kvm_cache_to_seg(&sr.tr, &env->tr, false);
    kvm_cache_to_seg(&sr.ldt, &env->ldt, false);
    sr.gdt.base = env->gdt.base;
    sr.gdt.limit = env->gdt.limit;
    sr.idt.base = env->idt.base;
    sr.idt.limit = env->idt.limit;
    sr.cr0 = env->cr[0];
    sr.cr2 = env->cr[2];
    sr.cr3 = env->cr[3];
    sr.cr4 = env->cr[4];
    sr.cr8 = env->cr8;
    sr.efer = env->efer;
    if (!env->apic_base) {
        env->apic_base = default_apic_base(cpu);
    }
    sr.apic_base = env->apic_base;
    return kvm_vcpu_ioctl(cpu, KVM_SET_SREGS, &sr);
}

static int get_sregs(CPUState *cpu)
{
    CPUX86State *env = &cpu->env;
    struct kvm_sregs sr;
    int r = kvm_vcpu_ioctl(cpu, KVM_GET_SREGS, &sr);

    if (r < 0) {
        return r;
    }
    kvm_seg_to_cache(&env->segs[R_CS], &sr.cs);
    kvm_seg_to_cache(&env->segs[R_DS], &sr.ds);
    kvm_seg_to_cache(&env->segs[R_ES], &sr.es);
    kvm_seg_to_cache(&env->segs[R_FS], &sr.fs);
    kvm_seg_to_cache(&env->segs[R_GS], &sr.gs);
    kvm_seg_to_cache(&env->segs[R_SS], &sr.ss);
    kvm_seg_to_cache(&env->tr, &sr.tr);
    kvm_seg_to_cache(&env->ldt, &sr.ldt);
    env->gdt.base = sr.gdt.base;
    env->gdt.limit = sr.gdt.limit;
    env->idt.base = sr.idt.base;
    env->idt.limit = sr.idt.limit;
    env->cr[0] = sr.cr0;
    env->cr[2] = sr.cr2;
    env->cr[3] = sr.cr3;
    env->cr[4] = sr.cr4;
    env->cr8 = sr.cr8;
    env->efer = sr.efer;
    env->apic_base = sr.apic_base;
    return 0;
}

/* Local APIC power-on/INIT state (SDM vol. 3A 10.4.7.1); like QEMU, the
 * BSP's LINT0 is ExtINT so the PIC reaches it before the guest sets it up. */
static int put_lapic_reset(CPUState *cpu)
{
    struct kvm_lapic_state ls;
    uint32_t *reg = (uint32_t *)ls.regs;

    memset(&ls, 0, sizeof(ls));
    reg[0x20 / 4] = cpu->env.apic_id << 24;
    reg[0xe0 / 4] = 0xffffffff;                   /* DFR: flat model */
    reg[0xf0 / 4] = 0xff;                         /* SVR: APIC software-disabled */
    for (int off = 0x320; off <= 0x370; off += 0x10) {
        reg[off / 4] = 0x10000;                   /* LVTs masked */
    }
    if (cpu->index == 0) {
        reg[0x350 / 4] = 0x700;                   /* LINT0: ExtINT */
    }
    return kvm_vcpu_ioctl(cpu, KVM_SET_LAPIC, &ls);
}

static int put_events(CPUState *cpu, bool reset)
{
    KVMVcpu *v = kvm_vcpu(cpu);
    CPUX86State *env = &cpu->env;
    struct kvm_vcpu_events ev;

    if (reset) {
        memset(&ev, 0, sizeof(ev));
    } else if (v->events_valid) {
        ev = v->events;
    } else {
        return 0;
    }
    ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
               KVM_VCPUEVENT_VALID_SHADOW;
    ev.interrupt.shadow = env->interrupt_shadow ? KVM_X86_SHADOW_INT_STI : 0;
    if (ev.interrupt.shadow && v->events_valid && v->events.interrupt.shadow) {
        ev.interrupt.shadow = v->events.interrupt.shadow;
    }
    ev.nmi.masked = env->nmi_masked;
    ev.sipi_vector = env->sipi_vector;
    return kvm_vcpu_ioctl(cpu, KVM_SET_VCPU_EVENTS, &ev);
}

int kvm_arch_put_registers(CPUState *cpu, bool reset)
{
    KVMState *s = kvm_state;
    CPUX86State *env = &cpu->env;
    struct kvm_regs regs;
    int r;

    regs_from_env(&regs, env);
    if ((r = kvm_vcpu_ioctl(cpu, KVM_SET_REGS, &regs)) < 0) {
        return r;
    }
    if ((r = put_fpu(cpu, reset)) < 0) {
        return r;
    }
    if (s->xcrs) {
        struct kvm_xcrs x = { .nr_xcrs = 1 };
        x.xcrs[0].xcr = 0;
        x.xcrs[0].value = env->xcr0 ? env->xcr0 : 1;
        if ((r = kvm_vcpu_ioctl(cpu, KVM_SET_XCRS, &x)) < 0) {
            return r;
        }
    }
    if (reset) {
        env->apic_base = 0;               /* reset value recomputed below */
    }
    if ((r = put_sregs(cpu)) < 0) {
        return r;
    }
    if ((r = put_msrs(cpu, reset)) < 0) {
        return r;
    }
    if (reset && s->irqchip) {
        if ((r = put_lapic_reset(cpu)) < 0) {
            return r;
        }
        struct kvm_mp_state mp = {
            .mp_state = cpu->index == 0 ? KVM_MP_STATE_RUNNABLE
                                        : KVM_MP_STATE_UNINITIALIZED,
        };
        if ((r = kvm_vcpu_ioctl(cpu, KVM_SET_MP_STATE, &mp)) < 0) {
            return r;
        }
    }
    if (s->vcpu_events && (r = put_events(cpu, reset)) < 0) {
        return r;
    }
    if (s->debugregs) {
        struct kvm_debugregs dr;
        memset(&dr, 0, sizeof(dr));
        for (int i = 0; i < 4; i++) {
            dr.db[i] = env->dr[i];
        }
        dr.dr6 = (env->dr[6] ? env->dr[6] : 0xffff0ff0) & 0xffffffffu;
        dr.dr7 = (env->dr[7] ? env->dr[7] : 0x400) & 0xffffffffu;
        if ((r = kvm_vcpu_ioctl(cpu, KVM_SET_DEBUGREGS, &dr)) < 0) {
            return r;
        }
    }
    return 0;
}

int kvm_arch_get_registers(CPUState *cpu)
{
    KVMState *s = kvm_state;
    KVMVcpu *v = kvm_vcpu(cpu);
    CPUX86State *env = &cpu->env;
    struct kvm_regs regs;
    int r;

    if ((r = kvm_vcpu_ioctl(cpu, KVM_GET_REGS, &regs)) < 0) {
        return r;
    }
    regs_to_env(env, &regs);
    if ((r = get_fpu(cpu)) < 0) {
        return r;
    }
    if (s->xcrs) {
        struct kvm_xcrs x;
        memset(&x, 0, sizeof(x));
        if ((r = kvm_vcpu_ioctl(cpu, KVM_GET_XCRS, &x)) < 0) {
            return r;
        }
        for (uint32_t i = 0; i < x.nr_xcrs; i++) {
            if (x.xcrs[i].xcr == 0) {
                env->xcr0 = x.xcrs[i].value;
            }
        }
    }
    if ((r = get_sregs(cpu)) < 0) {
        return r;
    }
    if ((r = get_msrs(cpu)) < 0) {
        return r;
    }
    if (s->irqchip) {
        struct kvm_mp_state mp;
        if ((r = kvm_vcpu_ioctl(cpu, KVM_GET_MP_STATE, &mp)) < 0) {
            return r;
        }
        env->halted = mp.mp_state == KVM_MP_STATE_HALTED;
    }
    if (s->vcpu_events) {
        if ((r = kvm_vcpu_ioctl(cpu, KVM_GET_VCPU_EVENTS, &v->events)) < 0) {
            return r;
        }
        v->events_valid = true;
        env->interrupt_shadow = v->events.interrupt.shadow != 0;
        env->nmi_masked = v->events.nmi.masked;
        env->sipi_vector = v->events.sipi_vector;
    }
    if (s->debugregs) {
        struct kvm_debugregs dr;
        if ((r = kvm_vcpu_ioctl(cpu, KVM_GET_DEBUGREGS, &dr)) < 0) {
            return r;
        }
        for (int i = 0; i < 4; i++) {
            env->dr[i] = dr.db[i];
        }
        env->dr[6] = dr.dr6;
        env->dr[7] = dr.dr7;
    }
    if (!env->a20_mask) {
        env->a20_mask = ~0ull;
    }
    return 0;
}

/* --- exits --- */

int kvm_arch_handle_exit(CPUState *cpu, struct kvm_run *run)
{
    (void)cpu;
    switch (run->exit_reason) {
    case KVM_EXIT_FAIL_ENTRY: {
        uint64_t code = run->fail_entry.hardware_entry_failure_reason;
        fprintf(stderr, "KVM: entry failed, hardware error 0x%" G_GINT64_MODIFIER "x\n",
                (guint64)code);
        if (code == 0x80000021) {            /* VMX: invalid guest state */
            fprintf(stderr,
                    "\nIf you're running a guest on an Intel machine without "
                    "unrestricted mode\nsupport, the failure can be most likely due "
                    "to the guest entering an invalid\nstate for Intel VT. For "
                    "example, the guest maybe running in big real mode\nwhich is "
                    "not supported on less recent Intel processors.\n\n");
        }
        return -1;
    }
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_SET_TPR:
    case KVM_EXIT_TPR_ACCESS:
        return 0;
    default:
        fprintf(stderr, "KVM: unknown exit reason %d\n", run->exit_reason);
        return -1;
    }
}

bool kvm_arch_stop_on_emulation_error(CPUState *cpu)
{
    CPUX86State *env = &cpu->env;
    kvm_arch_get_registers(cpu);
    /* A fault in guest user mode is the guest's problem; anything else stops. */
    return !(env->cr[0] & CR0_PE) || ((env->segs[R_CS].selector & 3) != 3);
}

/*
 * kernel-irqchip=off: the PIC/LAPIC live in userspace (hw/intc.h) and
 * interrupts are injected with KVM_INTERRUPT when the guest can take one.
 */
void kvm_arch_pre_run(CPUState *cpu, struct kvm_run *run)
{
    unsigned ir = atomic_load(&cpu->interrupt_request);

    if (ir & CPU_INTERRUPT_NMI) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_NMI);
        kvm_vcpu_ioctl(cpu, KVM_NMI, NULL);
    }
    if (kvm_state->irqchip) {
        return;
    }
    if ((ir & CPU_INTERRUPT_HARD) && run->ready_for_interrupt_injection && run->if_flag) {
        int vec = apic_get_interrupt(cpu);
        if (vec >= 0) {
            struct kvm_interrupt intr = { .irq = (uint32_t)vec };
            kvm_vcpu_ioctl(cpu, KVM_INTERRUPT, &intr);
        }
        if (!apic_has_interrupt(cpu)) {
            cpu_reset_interrupt(cpu, CPU_INTERRUPT_HARD);
        }
    }
    run->request_interrupt_window =
        (atomic_load(&cpu->interrupt_request) & CPU_INTERRUPT_HARD) ? 1 : 0;
    run->cr8 = apic_get_tpr(cpu);
}

void kvm_arch_post_run(CPUState *cpu, struct kvm_run *run)
{
    if (kvm_state->irqchip) {
        return;
    }
    apic_set_tpr(cpu, run->cr8);
    if (run->apic_base != cpu->env.apic_base) {
        apic_set_base(cpu, run->apic_base);
        cpu->env.apic_base = run->apic_base;
    }
}

/* Read guest code bytes at a linear address for the Code= line (RAM only). */
static bool read_code_byte(void *opaque, uint64_t linear, uint8_t *b)
{
    CPUState *cpu = opaque;
    struct kvm_translation tr = { .linear_address = linear };

    if (kvm_vcpu_ioctl(cpu, KVM_TRANSLATE, &tr) < 0 || !tr.valid) {
        return false;
    }
    uint64_t len = 1;
    uint8_t *p = as_map(&as_memory, tr.physical_address, &len, false);
    if (!p || len < 1) {
        return false;
    }
    *b = *p;
    return true;
}

void kvm_arch_dump_state(CPUState *cpu)
{
    g_autoptr(GString) out = g_string_new(NULL);

    kvm_arch_get_registers(cpu);
    x86_cpu_dump_state_flags(&cpu->env, out, X86_DUMP_CODE, read_code_byte, cpu);
    fputs(out->str, stderr);
}
