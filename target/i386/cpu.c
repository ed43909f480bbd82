/*
 * -cpu models (qemu64, max, host) with +feature/-feature edits, the CPUID
 * values a model presents, and the architectural power-on/INIT state.
 * Spec: Intel SDM vol. 2A (CPUID), vol. 3A §9.1 (reset state); AMD APM
 * vol. 3 (extended leaves). Values follow QEMU 7.2's qemu64 where guests
 * can see them.
 * Locking: none (pure functions over a CPUX86State the caller owns).
 */
#include <string.h>
#include <glib.h>
#include "target/i386/cpu.h"

#include "util/cutils.h"
#include "util/error.h"

/* Feature bit names as -cpu accepts them ("sse2", "lm", ...). */
typedef struct FeatureName {
    const char *name;
    FeatureWord w;
    int bit;
} FeatureName;

static const FeatureName feature_names[] = {
    { "fpu", FEAT_1_EDX, 0 }, { "vme", FEAT_1_EDX, 1 }, { "de", FEAT_1_EDX, 2 },
    { "pse", FEAT_1_EDX, 3 }, { "tsc", FEAT_1_EDX, 4 }, { "msr", FEAT_1_EDX, 5 },
    { "pae", FEAT_1_EDX, 6 }, { "mce", FEAT_1_EDX, 7 }, { "cx8", FEAT_1_EDX, 8 },
    { "apic", FEAT_1_EDX, 9 }, { "sep", FEAT_1_EDX, 11 }, { "mtrr", FEAT_1_EDX, 12 },
    { "pge", FEAT_1_EDX, 13 }, { "mca", FEAT_1_EDX, 14 }, { "cmov", FEAT_1_EDX, 15 },
    { "pat", FEAT_1_EDX, 16 }, { "pse36", FEAT_1_EDX, 17 }, { "clflush", FEAT_1_EDX, 19 },
    { "mmx", FEAT_1_EDX, 23 }, { "fxsr", FEAT_1_EDX, 24 }, { "sse", FEAT_1_EDX, 25 },
    { "sse2", FEAT_1_EDX, 26 }, { "ss", FEAT_1_EDX, 27 }, { "ht", FEAT_1_EDX, 28 },
    { "pni", FEAT_1_ECX, 0 }, { "sse3", FEAT_1_ECX, 0 }, { "pclmulqdq", FEAT_1_ECX, 1 },
    { "monitor", FEAT_1_ECX, 3 }, { "vmx", FEAT_1_ECX, 5 }, { "ssse3", FEAT_1_ECX, 9 },
    { "fma", FEAT_1_ECX, 12 }, { "cx16", FEAT_1_ECX, 13 }, { "pdcm", FEAT_1_ECX, 15 },
    { "pcid", FEAT_1_ECX, 17 }, { "sse4.1", FEAT_1_ECX, 19 }, { "sse4_1", FEAT_1_ECX, 19 },
    { "sse4.2", FEAT_1_ECX, 20 }, { "sse4_2", FEAT_1_ECX, 20 }, { "x2apic", FEAT_1_ECX, 21 },
    { "movbe", FEAT_1_ECX, 22 }, { "popcnt", FEAT_1_ECX, 23 },
    { "tsc-deadline", FEAT_1_ECX, 24 }, { "aes", FEAT_1_ECX, 25 }, { "xsave", FEAT_1_ECX, 26 },
    { "avx", FEAT_1_ECX, 28 }, { "f16c", FEAT_1_ECX, 29 }, { "rdrand", FEAT_1_ECX, 30 },
    { "hypervisor", FEAT_1_ECX, 31 },
    { "fsgsbase", FEAT_7_0_EBX, 0 }, { "bmi1", FEAT_7_0_EBX, 3 }, { "avx2", FEAT_7_0_EBX, 5 },
    { "smep", FEAT_7_0_EBX, 7 }, { "bmi2", FEAT_7_0_EBX, 8 }, { "erms", FEAT_7_0_EBX, 9 },
    { "invpcid", FEAT_7_0_EBX, 10 }, { "smap", FEAT_7_0_EBX, 20 }, { "clflushopt", FEAT_7_0_EBX, 23 },
    { "umip", FEAT_7_0_ECX, 2 }, { "pku", FEAT_7_0_ECX, 3 },
    { "spec-ctrl", FEAT_7_0_EDX, 26 }, { "arch-capabilities", FEAT_7_0_EDX, 29 },
    { "ssbd", FEAT_7_0_EDX, 31 },
    { "syscall", FEAT_8000_0001_EDX, 11 }, { "nx", FEAT_8000_0001_EDX, 20 },
    { "xd", FEAT_8000_0001_EDX, 20 }, { "mmxext", FEAT_8000_0001_EDX, 22 },
    { "pdpe1gb", FEAT_8000_0001_EDX, 26 }, { "rdtscp", FEAT_8000_0001_EDX, 27 },
    { "lm", FEAT_8000_0001_EDX, 29 }, { "i64", FEAT_8000_0001_EDX, 29 },
    { "3dnowext", FEAT_8000_0001_EDX, 30 }, { "3dnow", FEAT_8000_0001_EDX, 31 },
    { "lahf-lm", FEAT_8000_0001_ECX, 0 }, { "lahf_lm", FEAT_8000_0001_ECX, 0 },
    { "svm", FEAT_8000_0001_ECX, 2 }, { "abm", FEAT_8000_0001_ECX, 5 },
    { "sse4a", FEAT_8000_0001_ECX, 6 }, { "misalignsse", FEAT_8000_0001_ECX, 7 },
    { "3dnowprefetch", FEAT_8000_0001_ECX, 8 },
};

/* qemu64 as QEMU 7.2 defines it (AMD vendor, family 15 model 107). */
#define QEMU64_1_EDX 0x078bfbfdu     /* fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 */
#define QEMU64_1_ECX 0x80002001u     /* sse3 cx16 hypervisor */
#define QEMU64_EXT_EDX ((1u << 11) | (1u << 20) | (1u << 29))   /* syscall nx lm */
#define QEMU64_EXT_ECX (1u << 0)    /* lahf_lm */

static const X86CPUModel models[] = {
    {
        .name = "qemu64", .desc = "QEMU Virtual CPU version 2.5+",
        .level = 0xd, .xlevel = 0x8000000a, .family = 15, .model = 107, .stepping = 1,
        .vendor = "AuthenticAMD", .model_id = "QEMU Virtual CPU version 2.5+",
        .features = { [FEAT_1_EDX] = QEMU64_1_EDX, [FEAT_1_ECX] = QEMU64_1_ECX,
                      [FEAT_8000_0001_EDX] = QEMU64_EXT_EDX, [FEAT_8000_0001_ECX] = QEMU64_EXT_ECX },
    },
    {
        /* what the software CPU implements; with KVM, "max" means "host" */
        .name = "max", .desc = "Enables all features supported by the accelerator in the current host",
        .level = 0xd, .xlevel = 0x80000008, .family = 6, .model = 6, .stepping = 3,
        .vendor = "AuthenticAMD", .model_id = "QEMU TCG CPU version 7.2.0",
        .features = { [FEAT_1_EDX] = QEMU64_1_EDX, [FEAT_1_ECX] = QEMU64_1_ECX | (1u << 9),
                      [FEAT_8000_0001_EDX] = QEMU64_EXT_EDX | (1u << 27),
                      [FEAT_8000_0001_ECX] = QEMU64_EXT_ECX },
    },
    {
        .name = "host", .desc = "processor with all supported host features",
        .level = 0xd, .xlevel = 0x80000008, .family = 15, .model = 107, .stepping = 1,
        .vendor = "AuthenticAMD", .model_id = "QEMU Virtual CPU version 2.5+",
        .features = { [FEAT_1_EDX] = QEMU64_1_EDX, [FEAT_1_ECX] = QEMU64_1_ECX,
                      [FEAT_8000_0001_EDX] = QEMU64_EXT_EDX, [FEAT_8000_0001_ECX] = QEMU64_EXT_ECX },
    },
};

/* Older model names tools pass: accepted as aliases of qemu64's feature set
 * would be wrong; only names we can honour are listed. */

static const X86CPUModel *model_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
        if (!strcmp(models[i].name, name)) {
            return &models[i];
        }
    }
    return NULL;
}

void x86_cpu_list(GString *out)
{
    g_string_append(out, "Available CPUs:\n");
    for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
        g_string_append_printf(out, "x86 %-20s  %s\n", models[i].name, models[i].desc);
    }
    g_string_append(out, "\nRecognized CPUID flags:\n ");
    for (size_t i = 0; i < ARRAY_SIZE(feature_names); i++) {
        g_string_append_printf(out, " %s", feature_names[i].name);
    }
    g_string_append(out, "\n");
}

void x86_cpu_foreach_model(void (*fn)(const X86CPUModel *m, void *opaque), void *opaque)
{
    for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
        fn(&models[i], opaque);
    }
}

static const FeatureName *feature_find(const char *name)
{
    g_autofree char *n = g_strdelimit(g_strdup(name), "_", '-');
    for (size_t i = 0; i < ARRAY_SIZE(feature_names); i++) {
        g_autofree char *f = g_strdelimit(g_strdup(feature_names[i].name), "_", '-');
        if (!strcmp(f, n)) {
            return &feature_names[i];
        }
    }
    return NULL;
}

bool x86_cpu_parse(const char *str, X86CPUConfig *out, Error **errp)
{
    g_auto(GStrv) parts = g_strsplit(str, ",", -1);
    const X86CPUModel *m = model_find(parts[0]);
    if (!m) {
        error_setg(errp, "unable to find CPU model '%s'", parts[0]);
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->m = *m;
    out->host = !strcmp(m->name, "host");
    out->is_max = !strcmp(m->name, "max");
    for (int i = 1; parts[i]; i++) {
        const char *p = parts[i];
        bool on;
        g_autofree char *name = NULL;
        if (p[0] == '+' || p[0] == '-') {
            on = p[0] == '+';
            name = g_strdup(p + 1);
        } else if (strchr(p, '=')) {
            const char *eq = strchr(p, '=');
            name = g_strndup(p, eq - p);
            const char *val = eq + 1;
            if (!strcmp(name, "model-id")) {
                g_strlcpy(out->m.model_id, val, sizeof(out->m.model_id));
                continue;
            }
            if (!strcmp(name, "vendor")) {
                if (strlen(val) != 12) {
                    error_setg(errp, "Property '.vendor' doesn't take value '%s'", val);
                    return false;
                }
                g_strlcpy(out->m.vendor, val, sizeof(out->m.vendor));
                continue;
            }
            if (!strcmp(name, "family") || !strcmp(name, "model") || !strcmp(name, "stepping") ||
                !strcmp(name, "level") || !strcmp(name, "xlevel")) {
                uint64_t v;
                if (qemu_strtou64(val, 0, &v) < 0) {
                    error_setg(errp, "Property '%s.%s' doesn't take value '%s'", m->name, name, val);
                    return false;
                }
                if (!strcmp(name, "family")) { out->m.family = v; }
                else if (!strcmp(name, "model")) { out->m.model = v; }
                else if (!strcmp(name, "stepping")) { out->m.stepping = v; }
                else if (!strcmp(name, "level")) { out->m.level = v; }
                else { out->m.xlevel = v; }
                continue;
            }
            if (!strcmp(name, "enforce") || !strcmp(name, "check") || !strcmp(name, "migratable") ||
                !strcmp(name, "kvm") || !strcmp(name, "pmu") || !strcmp(name, "l3-cache") ||
                !strcmp(name, "host-phys-bits") || !strcmp(name, "phys-bits")) {
                continue;       /* accepted as QEMU does; no guest-visible effect here */
            }
            if (!parse_bool(val, &on)) {
                error_setg(errp, "Property '%s-x86_64-cpu.%s' doesn't take value '%s'", m->name, name, val);
                return false;
            }
        } else {
            name = g_strdup(p);
            on = true;
        }
        const FeatureName *f = feature_find(name);
        if (!f) {
            error_setg(errp, "Property '%s-x86_64-cpu.%s' not found", m->name, name);
            return false;
        }
        if (on) {
            out->m.features[f->w] |= 1u << f->bit;
        } else {
            out->m.features[f->w] &= ~(1u << f->bit);
        }
    }
    return true;
}

bool cpu_x86_has_feature(CPUX86State *env, FeatureWord w, uint32_t bit)
{
    return env->model && (env->model->features[w] & bit);
}

static uint32_t signature(const X86CPUModel *m)
{
    uint32_t fam = m->family, mod = m->model;
    uint32_t eax = m->stepping & 0xf;
    eax |= (mod & 0xf) << 4 | ((mod >> 4) & 0xf) << 16;
    if (fam > 0xf) {
        eax |= 0xf << 8 | ((fam - 0xf) & 0xff) << 20;
    } else {
        eax |= fam << 8;
    }
    return eax;
}

static void vendor_regs(const X86CPUModel *m, uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
    *ebx = ldl_le_p(m->vendor);
    *edx = ldl_le_p(m->vendor + 4);
    *ecx = ldl_le_p(m->vendor + 8);
}

void cpu_x86_cpuid(CPUX86State *env, uint32_t leaf, uint32_t sub,
                   uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
    const X86CPUModel *m = env->model;
    static const X86CPUModel fallback_model_storage;
    if (!m) {
        m = &models[0];
    }
    (void)fallback_model_storage;
    uint32_t ncpus = env->nr_threads_per_pkg ? env->nr_threads_per_pkg : 1;
    /* out-of-range leaves read as the highest basic leaf (Intel rule, as QEMU) */
    if (leaf >= 0x80000000 && leaf < 0xc0000000) {
        if (leaf > m->xlevel) {
            leaf = m->level;
        }
    } else if (leaf < 0x80000000 && leaf > m->level) {
        leaf = m->level;
    }
    *eax = *ebx = *ecx = *edx = 0;
    switch (leaf) {
    case 0:
        *eax = m->level;
        vendor_regs(m, ebx, ecx, edx);
        break;
    case 1:
        *eax = signature(m);
        *ebx = (8 << 8) | (env->apic_id << 24);
        *ecx = m->features[FEAT_1_ECX];
        *edx = m->features[FEAT_1_EDX];
        if (ncpus > 1) {
            *ebx |= ncpus << 16;
            *edx |= 1u << 28;       /* HTT */
        }
        if ((env->cr[4] & CR4_OSXSAVE) && (*ecx & (1u << 26))) {
            *ecx |= 1u << 27;       /* OSXSAVE */
        }
        break;
    case 2:
        *eax = 0x00000001;
        *ecx = 0x0000004d;
        *edx = 0x002c307d;
        break;
    case 4: {
        /* deterministic cache parameters: L1d, L1i, L2, L3 like QEMU's legacy cache info */
        static const uint32_t c[4][4] = {
            { 0x00000121, 0x01c0003f, 0x0000003f, 0x00000001 },
            { 0x00000122, 0x01c0003f, 0x0000003f, 0x00000001 },
            { 0x00000143, 0x03c0003f, 0x00000fff, 0x00000001 },
            { 0x00000163, 0x03c0003f, 0x00003fff, 0x00000006 },
        };
        if (sub < 4) {
            *eax = c[sub][0] | ((ncpus - 1) << 26);
            if (sub == 3) {
                *eax |= (ncpus - 1) << 14;      /* L3 is shared by the whole package */
            }
            *ebx = c[sub][1];
            *ecx = c[sub][2];
            *edx = c[sub][3];
        }
        break;
    }
    case 7:
        if (sub == 0) {
            *ebx = m->features[FEAT_7_0_EBX];
            *ecx = m->features[FEAT_7_0_ECX];
            *edx = m->features[FEAT_7_0_EDX];
        }
        break;
    case 0xb:
        /* x2APIC topology: one SMT level, one core level */
        *edx = env->apic_id;
        *ecx = sub & 0xff;
        if (sub == 0) {
            *eax = 0;
            *ebx = 1;
            *ecx |= 1 << 8;
        } else if (sub == 1) {
            uint32_t shift = 0;
            while ((1u << shift) < ncpus) {
                shift++;
            }
            *eax = shift;
            *ebx = ncpus;
            *ecx |= 2 << 8;
        }
        break;
    case 0x80000000:
        *eax = m->xlevel;
        vendor_regs(m, ebx, ecx, edx);
        break;
    case 0x80000001:
        *eax = signature(m);
        *ecx = m->features[FEAT_8000_0001_ECX];
        *edx = m->features[FEAT_8000_0001_EDX];
        /* AMD mirrors these leaf-1 bits in the extended leaf */
        if (!strcmp(m->vendor, "AuthenticAMD")) {
            *edx |= m->features[FEAT_1_EDX] & 0x0183f3ffu;
        }
        break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
        char id[48] = { 0 };
        memcpy(id, m->model_id, strnlen(m->model_id, 48));
        const char *p = id + (leaf - 0x80000002) * 16;
        *eax = ldl_le_p(p);
        *ebx = ldl_le_p(p + 4);
        *ecx = ldl_le_p(p + 8);
        *edx = ldl_le_p(p + 12);
        break;
    }
    case 0x80000005:
        *eax = 0x01ff01ff;
        *ebx = 0x01ff01ff;
        *ecx = 0x40020140;
        *edx = 0x40020140;
        break;
    case 5:
        *ecx = 3;
        break;
    case 0x80000006:
        *ebx = 0x42004200;
        *ecx = 0x02008140;
        *edx = 0x00808140;
        break;
    case 0x80000008:
        *eax = 0x00003028;      /* 40 physical, 48 virtual address bits */
        if (ncpus > 1) {
            uint32_t bits = 0;
            while ((1u << bits) < ncpus) {
                bits++;
            }
            *ecx = (bits << 12) | (ncpus - 1);      /* ApicIdCoreIdSize, NC */
        }
        break;
    default:
        break;
    }
}

void x86_cpu_reset(CPUX86State *env)
{
    const X86CPUModel *model = env->model;
    uint32_t apic_id = env->apic_id;
    uint32_t nthreads = env->nr_threads_per_pkg;
    memset(env, 0, sizeof(*env));
    env->model = model;
    env->apic_id = apic_id;
    env->nr_threads_per_pkg = nthreads;

    env->eflags = 0x2;
    env->rip = 0xfff0;
    env->cr[0] = CR0_ET | CR0_CD | CR0_NW;
    env->a20_mask = ~0ull;
    for (int i = 0; i < 6; i++) {
        env->segs[i].selector = 0;
        env->segs[i].base = 0;
        env->segs[i].limit = 0xffff;
        env->segs[i].flags = DESC_P_MASK | DESC_S_MASK | DESC_A_MASK | (2u << DESC_TYPE_SHIFT);
    }
    env->segs[R_CS].selector = 0xf000;
    env->segs[R_CS].base = 0xffff0000;
    env->segs[R_CS].flags = DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_A_MASK | (2u << DESC_TYPE_SHIFT);
    env->ldt.limit = 0xffff;
    env->ldt.flags = DESC_P_MASK | (2u << DESC_TYPE_SHIFT);
    env->tr.limit = 0xffff;
    env->tr.flags = DESC_P_MASK | (11u << DESC_TYPE_SHIFT);
    env->gdt.limit = 0xffff;
    env->idt.limit = 0xffff;
    uint32_t a, b, c, d;
    cpu_x86_cpuid(env, 1, 0, &a, &b, &c, &d);
    env->regs[R_EDX] = a;
    env->dr[6] = 0xffff0ff0;
    env->dr[7] = 0x400;
    env->xcr0 = 1;
    env->fpuc = 0x37f;
    env->mxcsr = 0x1f80;
    env->pat = 0x0007040600070406ull;
    env->mtrr_deftype = 0;
    env->misc_enable = 1;           /* fast-strings, as QEMU resets it */
}
