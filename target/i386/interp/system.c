/*
 * System instructions: MOV CRn/DRn, CLTS, LMSW/SMSW, LGDT/LIDT/SGDT/SIDT,
 * SLDT/STR/LLDT/LTR, VERR/VERW/LAR/LSL, INVLPG, RDMSR/WRMSR, RDTSC(P),
 * RDPMC, CPUID, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, XGETBV/XSETBV,
 * MONITOR/MWAIT, RDRAND, IN/OUT with the TSS I/O permission bitmap.
 * Spec: Intel SDM vol. 2 (per instruction), vol. 3 §2.5 (control
 * registers), §16.5 (I/O permission bitmap), vol. 4 (MSRs).
 * Locking: vCPU thread only; port I/O goes through as_rw (BQL inside);
 * APIC accesses go through the glue hooks (the APIC locks itself).
 */
#include <sys/random.h>
#include "interp.h"
#include "flags.h"
#include "system/memory.h"

#define REX (i->flags & IF_REX)

static void need_cpl0(Interp *s)
{
    if (s->cpl != 0) {
        RAISE_GP(s, 0);
    }
}

/* ---- control registers ---- */
void set_cr0(Interp *s, uint64_t v)
{
    CPUX86State *env = s->env;
    uint64_t old = env->cr[0];
    if (v >> 32) {
        RAISE_GP(s, 0);
    }
    if ((v & CR0_PG) && !(v & CR0_PE)) {
        RAISE_GP(s, 0);
    }
    if ((v & CR0_NW) && !(v & CR0_CD)) {
        RAISE_GP(s, 0);
    }
    if ((v & CR0_PG) && !(old & CR0_PG) && (env->efer & EFER_LME)) {
        if (!(env->cr[4] & CR4_PAE) || (env->segs[R_CS].flags & DESC_L_MASK)) {
            RAISE_GP(s, 0);
        }
        env->efer |= EFER_LMA;
    }
    if (!(v & CR0_PG) && (old & CR0_PG) && (env->efer & EFER_LMA)) {
        if (s->code64) {
            RAISE_GP(s, 0);
        }
        env->efer &= ~(uint64_t)EFER_LMA;
    }
    env->cr[0] = v | CR0_ET;
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) {
        tlb_flush(s, true);
    }
    interp_update_mode(s);
}

void set_cr3(Interp *s, uint64_t v)
{
    CPUX86State *env = s->env;
    if (env->cr[4] & CR4_PCIDE) {
        v &= ~(1ull << 63);
    }
    env->cr[3] = v;
    tlb_flush(s, false);
}

void set_cr4(Interp *s, uint64_t v)
{
    CPUX86State *env = s->env;
    uint64_t old = env->cr[4];
    uint64_t valid = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE |
                     CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP |
                     CR4_FSGSBASE | CR4_PCIDE | CR4_OSXSAVE | CR4_SMEP | CR4_SMAP;
    if (v & ~valid) {
        RAISE_GP(s, 0);
    }
    if ((env->efer & EFER_LMA) && !(v & CR4_PAE)) {
        RAISE_GP(s, 0);
    }
    env->cr[4] = v;
    if ((old ^ v) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PCIDE)) {
        tlb_flush(s, true);
    }
    interp_update_mode(s);
}

void set_efer(Interp *s, uint64_t v)
{
    CPUX86State *env = s->env;
    uint64_t valid = EFER_SCE | EFER_LME | EFER_NXE | (1u << 14) /* FFXSR */;
    if (v & ~(valid | EFER_LMA)) {
        RAISE_GP(s, 0);
    }
    if ((env->cr[0] & CR0_PG) && ((v ^ env->efer) & EFER_LME)) {
        RAISE_GP(s, 0);
    }
    uint64_t old = env->efer;
    env->efer = (v & valid) | (old & EFER_LMA);
    if ((old ^ env->efer) & EFER_NXE) {
        tlb_flush(s, true);
    }
    interp_update_mode(s);
}

static HANDLER(h_mov_rc)
{
    CPUX86State *env = s->env;
    need_cpl0(s);
    uint64_t v;
    switch (i->reg) {
    case 0: v = env->cr[0]; break;
    case 2: v = env->cr[2]; break;
    case 3: v = env->cr[3]; break;
    case 4: v = env->cr[4]; break;
    case 8:
        if (!s->code64) {
            RAISE_UD(s);
        }
        v = ihook_get_tpr(s->cpu);
        break;
    default:
        RAISE_UD(s);
    }
    set_reg(s, i->rm, v, i->opsize, REX);
}
FAM1(MOV_RC, h_mov_rc);

static HANDLER(h_mov_cr)
{
    need_cpl0(s);
    uint64_t v = get_reg(s, i->rm, i->opsize, REX);
    switch (i->reg) {
    case 0: set_cr0(s, v); break;
    case 2: s->env->cr[2] = v; break;
    case 3: set_cr3(s, v); break;
    case 4: set_cr4(s, v); break;
    case 8:
        if (!s->code64) {
            RAISE_UD(s);
        }
        if (v > 15) {
            RAISE_GP(s, 0);
        }
        ihook_set_tpr(s->cpu, v);
        s->env->cr8 = v;
        break;
    default:
        RAISE_UD(s);
    }
}
FAM1(MOV_CR, h_mov_cr);

static int dr_index(Interp *s, int r)
{
    if (r > 7) {
        RAISE_UD(s);
    }
    if (r == 4 || r == 5) {
        if (s->env->cr[4] & CR4_DE) {
            RAISE_UD(s);
        }
        r += 2;
    }
    return r;
}

static HANDLER(h_mov_rd)
{
    need_cpl0(s);
    int r = dr_index(s, i->reg);
    uint64_t v = s->env->dr[r];
    if (r == 6) {
        v |= 0xffff0ff0ull;
    } else if (r == 7) {
        v |= 0x400;
    }
    set_reg(s, i->rm, v, i->opsize, REX);
}
FAM1(MOV_RD, h_mov_rd);

static HANDLER(h_mov_dr)
{
    need_cpl0(s);
    int r = dr_index(s, i->reg);
    uint64_t v = get_reg(s, i->rm, i->opsize, REX);
    if ((r == 6 || r == 7) && (v >> 32)) {
        RAISE_GP(s, 0);
    }
    s->env->dr[r] = v;
}
FAM1(MOV_DR, h_mov_dr);

static HANDLER(h_clts)
{
    (void)i;
    need_cpl0(s);
    s->env->cr[0] &= ~(uint64_t)CR0_TS;
}
FAM1(CLTS, h_clts);

static HANDLER(h_lmsw)
{
    need_cpl0(s);
    uint64_t v = e_ld(s, i, 2);
    uint64_t cr0 = s->env->cr[0];
    /* PE can be set but not cleared; MP, EM, TS copied */
    uint64_t n = (cr0 & ~0xeull) | (v & 0xe) | (cr0 & 1) | (v & 1);
    set_cr0(s, n);
}
FAM1(LMSW, h_lmsw);

static void umip_check(Interp *s)
{
    if ((s->env->cr[4] & CR4_UMIP) && s->cpl > 0) {
        RAISE_GP(s, 0);
    }
}

static HANDLER(h_smsw)
{
    umip_check(s);
    uint64_t v = s->env->cr[0];
    if (i->flags & IF_MEM) {
        st_ea(s, i, v & 0xffff, 2);
    } else {
        set_reg(s, i->rm, v, i->opsize, REX);
    }
}
FAM1(SMSW, h_smsw);

static void load_dt(Interp *s, const Insn *i, DescTable *dt)
{
    need_cpl0(s);
    uint64_t ea = insn_ea(s, i);
    uint16_t limit = ld(s, i->seg, ea, 2);
    uint64_t base;
    if (s->code64) {
        base = ld(s, i->seg, ea + 2, 8);
    } else {
        base = ld(s, i->seg, (ea + 2) & addr_mask(i->addrsize), 4);
        if (i->opsize == 2) {
            base &= 0xffffff;
        }
    }
    dt->limit = limit;
    dt->base = base;
}

static void store_dt(Interp *s, const Insn *i, DescTable *dt)
{
    umip_check(s);
    uint64_t ea = insn_ea(s, i);
    uint64_t a2 = (ea + 2) & addr_mask(i->addrsize);
    if (s->code64) {
        seg_linear(s, i->seg, a2, 8, ACC_W);
        st(s, i->seg, ea, dt->limit, 2);
        st(s, i->seg, a2, dt->base, 8);
    } else {
        seg_linear(s, i->seg, a2, 4, ACC_W);
        st(s, i->seg, ea, dt->limit, 2);
        st(s, i->seg, a2, dt->base & 0xffffffffull, 4);
    }
}

static HANDLER(h_lgdt) { load_dt(s, i, &s->env->gdt); }
static HANDLER(h_lidt) { load_dt(s, i, &s->env->idt); }
static HANDLER(h_sgdt) { store_dt(s, i, &s->env->gdt); }
static HANDLER(h_sidt) { store_dt(s, i, &s->env->idt); }
FAM1(LGDT, h_lgdt);
FAM1(LIDT, h_lidt);
FAM1(SGDT, h_sgdt);
FAM1(SIDT, h_sidt);

static void need_prot(Interp *s)
{
    if (!s->pe || s->vm86) {
        RAISE_UD(s);
    }
}

static void store_sel(Interp *s, const Insn *i, uint16_t v)
{
    if (i->flags & IF_MEM) {
        st_ea(s, i, v, 2);
    } else {
        set_reg(s, i->rm, v, i->opsize, REX);
    }
}

static HANDLER(h_sldt)
{
    need_prot(s);
    umip_check(s);
    store_sel(s, i, s->env->ldt.selector);
}
FAM1(SLDT, h_sldt);

static HANDLER(h_str)
{
    need_prot(s);
    umip_check(s);
    store_sel(s, i, s->env->tr.selector);
}
FAM1(STR, h_str);

static HANDLER(h_lldt)
{
    need_prot(s);
    need_cpl0(s);
    do_lldt(s, e_ld(s, i, 2));
}
FAM1(LLDT, h_lldt);

static HANDLER(h_ltr)
{
    need_prot(s);
    need_cpl0(s);
    do_ltr(s, e_ld(s, i, 2));
}
FAM1(LTR, h_ltr);

static void set_zf(Interp *s, bool z)
{
    uint32_t fl = lf_get(s) & ~CC_Z;
    lf_set(s, fl | (z ? CC_Z : 0));
}

/* Descriptor visible for LAR/LSL/VERR/VERW? (privilege + type checks) */
static bool desc_visible(Interp *s, uint16_t sel, uint32_t *lo, uint32_t *hi, int kind)
{
    if ((sel & ~3u) == 0 || !load_desc(s, sel, lo, hi)) {
        return false;
    }
    int dpl = (*hi >> DESC_DPL_SHIFT) & 3;
    int type = (*hi >> 8) & 15;
    bool conf_code = (*hi & DESC_S_MASK) && (type & 12) == 12;
    if (!(*hi & DESC_S_MASK)) {
        /* system: LAR accepts more types than LSL */
        static const bool lar_ok[16] = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0 };
        static const bool lsl_ok[16] = { 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0 };
        static const bool lar64[16] = { 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0 };
        if (kind >= 2) {
            return false;
        }
        if (s->lma ? !(kind == 0 ? lar64[type] : (lar64[type] && type != 12))
                   : !(kind == 0 ? lar_ok[type] : lsl_ok[type])) {
            return false;
        }
    } else if (kind == 2) {  /* VERR */
        if ((type & 10) == 8) {
            return false;
        }
    } else if (kind == 3) {  /* VERW */
        if ((type & 8) || !(type & 2)) {
            return false;
        }
    }
    if (!conf_code && (dpl < s->cpl || dpl < (sel & 3))) {
        return false;
    }
    return true;
}

static HANDLER(h_lar)
{
    need_prot(s);
    uint32_t lo, hi;
    uint16_t sel = e_ld(s, i, 2);
    if (!desc_visible(s, sel, &lo, &hi, 0)) {
        set_zf(s, false);
        return;
    }
    set_reg(s, i->reg, hi & 0x00f0ff00u, i->opsize, REX);
    set_zf(s, true);
}
FAM1(LAR, h_lar);

static HANDLER(h_lsl)
{
    need_prot(s);
    uint32_t lo, hi;
    uint16_t sel = e_ld(s, i, 2);
    if (!desc_visible(s, sel, &lo, &hi, 1)) {
        set_zf(s, false);
        return;
    }
    set_reg(s, i->reg, desc_limit(lo, hi), i->opsize, REX);
    set_zf(s, true);
}
FAM1(LSL, h_lsl);

static HANDLER(h_verr)
{
    need_prot(s);
    uint32_t lo, hi;
    set_zf(s, desc_visible(s, e_ld(s, i, 2), &lo, &hi, 2));
}
static HANDLER(h_verw)
{
    need_prot(s);
    uint32_t lo, hi;
    set_zf(s, desc_visible(s, e_ld(s, i, 2), &lo, &hi, 3));
}
FAM1(VERR, h_verr);
FAM1(VERW, h_verw);

static HANDLER(h_invlpg)
{
    need_cpl0(s);
    uint64_t ea = insn_ea(s, i);
    uint64_t la;
    if (s->code64) {
        la = ea + (i->seg >= R_FS ? s->env->segs[i->seg].base : 0);
    } else {
        la = (s->env->segs[i->seg].base + ea) & 0xffffffffull;
    }
    tlb_flush_page(s, la);
}
FAM1(INVLPG, h_invlpg);

static HANDLER(h_wbinvd)
{
    (void)i;
    need_cpl0(s);
}
FAM1(WBINVD, h_wbinvd);

/* ---- MSRs ---- */
static bool msr_read(Interp *s, uint32_t idx, uint64_t *v)
{
    CPUX86State *env = s->env;
    switch (idx) {
    case MSR_IA32_TSC: *v = guest_tsc(s); break;
    case MSR_IA32_APICBASE: *v = env->apic_base; break;
    case MSR_IA32_FEATURE_CONTROL: *v = 1; break;   /* locked, VMX off */
    case MSR_IA32_TSC_ADJUST: *v = env->tsc_adjust; break;
    case MSR_IA32_SPEC_CTRL: *v = env->spec_ctrl; break;
    case MSR_IA32_UCODE_REV: *v = 0x100000000ull; break;
    case 0x17: *v = 0; break;                        /* PLATFORM_ID */
    case MSR_MTRRcap: *v = 0x508; break;
    case MSR_IA32_SYSENTER_CS: *v = env->sysenter_cs; break;
    case MSR_IA32_SYSENTER_ESP: *v = env->sysenter_esp; break;
    case MSR_IA32_SYSENTER_EIP: *v = env->sysenter_eip; break;
    case MSR_MCG_CAP: *v = 0; break;
    case MSR_MCG_STATUS: *v = env->mcg_status; break;
    case MSR_IA32_MISC_ENABLE: *v = env->misc_enable; break;
    case MSR_MTRRdefType: *v = env->mtrr_deftype; break;
    case MSR_IA32_PAT: *v = env->pat; break;
    case MSR_IA32_TSC_DEADLINE: *v = ihook_get_tsc_deadline(s->cpu); break;
    case 0x1d9: *v = 0; break;                       /* DEBUGCTL */
    case MSR_EFER: *v = env->efer; break;
    case MSR_STAR: *v = env->star; break;
    case MSR_LSTAR: *v = env->lstar; break;
    case MSR_CSTAR: *v = env->cstar; break;
    case MSR_FMASK: *v = env->fmask; break;
    case MSR_FSBASE: *v = env->segs[R_FS].base; break;
    case MSR_GSBASE: *v = env->segs[R_GS].base; break;
    case MSR_KERNELGSBASE: *v = env->kernelgsbase; break;
    case MSR_TSC_AUX: *v = env->tsc_aux; break;
    case 0x250: *v = env->mtrr_fixed[0]; break;
    case 0x258: *v = env->mtrr_fixed[1]; break;
    case 0x259: *v = env->mtrr_fixed[2]; break;
    default:
        if (idx >= 0x268 && idx <= 0x26f) {
            *v = env->mtrr_fixed[3 + idx - 0x268];
        } else if (idx >= 0x200 && idx < 0x210) {
            int k = (idx - 0x200) / 2;
            *v = (idx & 1) ? env->mtrr_var[k].mask : env->mtrr_var[k].base;
        } else {
            return false;
        }
    }
    return true;
}

static bool canonical(uint64_t v)
{
    return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static bool msr_write(Interp *s, uint32_t idx, uint64_t v)
{
    CPUX86State *env = s->env;
    switch (idx) {
    case MSR_IA32_TSC: s->tsc_offset += v - guest_tsc(s); break;
    case MSR_IA32_APICBASE:
        ihook_set_apic_base(s->cpu, v);
        env->apic_base = v;
        break;
    case MSR_IA32_FEATURE_CONTROL: break;
    case MSR_IA32_TSC_ADJUST: env->tsc_adjust = v; break;
    case MSR_IA32_SPEC_CTRL: env->spec_ctrl = v; break;
    case MSR_IA32_UCODE_REV: break;
    case 0x79: break;                                /* BIOS_UPDT_TRIG */
    case MSR_IA32_SYSENTER_CS: env->sysenter_cs = v & 0xffff; break;
    case MSR_IA32_SYSENTER_ESP: env->sysenter_esp = v; break;
    case MSR_IA32_SYSENTER_EIP: env->sysenter_eip = v; break;
    case MSR_MCG_STATUS: env->mcg_status = v; break;
    case MSR_IA32_MISC_ENABLE: env->misc_enable = v; break;
    case MSR_MTRRdefType: env->mtrr_deftype = v; break;
    case MSR_IA32_PAT: env->pat = v; break;
    case MSR_IA32_TSC_DEADLINE: ihook_set_tsc_deadline(s->cpu, v); break;
    case 0x1d9: break;
    case MSR_EFER: set_efer(s, v); break;
    case MSR_STAR: env->star = v; break;
    case MSR_LSTAR: if (!canonical(v)) { return false; } env->lstar = v; break;
    case MSR_CSTAR: if (!canonical(v)) { return false; } env->cstar = v; break;
    case MSR_FMASK: env->fmask = v & 0xffffffffull; break;
    case MSR_FSBASE: if (!canonical(v)) { return false; } env->segs[R_FS].base = v; break;
    case MSR_GSBASE: if (!canonical(v)) { return false; } env->segs[R_GS].base = v; break;
    case MSR_KERNELGSBASE: if (!canonical(v)) { return false; } env->kernelgsbase = v; break;
    case MSR_TSC_AUX: env->tsc_aux = v & 0xffffffffull; break;
    case 0x250: env->mtrr_fixed[0] = v; break;
    case 0x258: env->mtrr_fixed[1] = v; break;
    case 0x259: env->mtrr_fixed[2] = v; break;
    default:
        if (idx >= 0x268 && idx <= 0x26f) {
            env->mtrr_fixed[3 + idx - 0x268] = v;
        } else if (idx >= 0x200 && idx < 0x210) {
            int k = (idx - 0x200) / 2;
            if (idx & 1) {
                env->mtrr_var[k].mask = v;
            } else {
                env->mtrr_var[k].base = v;
            }
        } else if (idx >= 0x400 && idx < 0x480) {
            /* MCi banks: accept writes */
        } else {
            return false;
        }
    }
    return true;
}

static HANDLER(h_rdmsr)
{
    (void)i;
    CPUX86State *env = s->env;
    need_cpl0(s);
    uint64_t v = 0;
    uint32_t idx = env->regs[R_ECX];
    if (!msr_read(s, idx, &v)) {
        /* like QEMU's TCG: unknown MSRs read as 0 (the x2APIC range and
         * non-canonical indices still fault) */
        if ((idx >= 0x800 && idx < 0x900) || (idx >= 0x2000 && idx < 0x40000000) ||
            (idx >= 0x40000000 && idx < 0x40000100)) {
            RAISE_GP(s, 0);
        }
        v = 0;
    }
    env->regs[R_EAX] = (uint32_t)v;
    env->regs[R_EDX] = v >> 32;
}
FAM1(RDMSR, h_rdmsr);

static HANDLER(h_wrmsr)
{
    (void)i;
    CPUX86State *env = s->env;
    need_cpl0(s);
    uint64_t v = ((env->regs[R_EDX] & 0xffffffffull) << 32) | (uint32_t)env->regs[R_EAX];
    uint32_t idx = env->regs[R_ECX];
    if (!msr_write(s, idx, v)) {
        /* unknown MSRs are ignored as QEMU's TCG does; invalid values of
         * known ones (non-canonical bases) fault */
        bool known = idx == MSR_LSTAR || idx == MSR_CSTAR || idx == MSR_FSBASE ||
                     idx == MSR_GSBASE || idx == MSR_KERNELGSBASE;
        if (known || (idx >= 0x800 && idx < 0x900) || (idx >= 0x40000000 && idx < 0x40000100)) {
            RAISE_GP(s, 0);
        }
    }
}
FAM1(WRMSR, h_wrmsr);

static HANDLER(h_rdtsc)
{
    (void)i;
    CPUX86State *env = s->env;
    if ((env->cr[4] & CR4_TSD) && s->cpl != 0) {
        RAISE_GP(s, 0);
    }
    uint64_t t = guest_tsc(s);
    env->regs[R_EAX] = (uint32_t)t;
    env->regs[R_EDX] = t >> 32;
}
FAM1(RDTSC, h_rdtsc);

static HANDLER(h_rdtscp)
{
    if (!ihook_has_feature(s->env, FEAT_8000_0001_EDX, 1u << 27)) {
        RAISE_UD(s);
    }
    h_rdtsc(s, i);
    s->env->regs[R_ECX] = (uint32_t)s->env->tsc_aux;
}
FAM1(RDTSCP, h_rdtscp);

static HANDLER(h_rdpmc)
{
    (void)i;
    CPUX86State *env = s->env;
    if (s->cpl != 0 && !(env->cr[4] & CR4_PCE)) {
        RAISE_GP(s, 0);
    }
    RAISE_GP(s, 0);
}
FAM1(RDPMC, h_rdpmc);

static HANDLER(h_cpuid)
{
    (void)i;
    CPUX86State *env = s->env;
    uint32_t a, b, c, d;
    ihook_cpuid(env, env->regs[R_EAX], env->regs[R_ECX], &a, &b, &c, &d);
    env->regs[R_EAX] = a;
    env->regs[R_EBX] = b;
    env->regs[R_ECX] = c;
    env->regs[R_EDX] = d;
}
FAM1(CPUID, h_cpuid);

/* ---- fast system calls ---- */
static void flat_seg(SegmentCache *sc, uint16_t sel, int dpl, bool code, bool l64)
{
    sc->selector = sel;
    sc->base = 0;
    sc->limit = 0xffffffff;
    sc->flags = DESC_P_MASK | DESC_S_MASK | DESC_G_MASK | DESC_A_MASK |
                ((uint32_t)dpl << DESC_DPL_SHIFT) | (2u << 8);
    if (code) {
        sc->flags |= DESC_CS_MASK | (l64 ? DESC_L_MASK : DESC_B_MASK);
    } else {
        sc->flags |= DESC_B_MASK;
    }
}

static HANDLER(h_syscall)
{
    (void)i;
    CPUX86State *env = s->env;
    if (!(env->efer & EFER_SCE) || !s->pe) {
        RAISE_UD(s);
    }
    uint16_t sel = (env->star >> 32) & 0xfffc;
    if (s->lma) {
        uint64_t fl = interp_get_eflags(s);
        env->regs[R_ECX] = s->next_rip;
        env->regs[11] = fl & ~RF_MASK;
        bool was64 = s->code64;
        flat_seg(&env->segs[R_CS], sel, 0, true, true);
        flat_seg(&env->segs[R_SS], sel + 8, 0, false, false);
        interp_set_eflags(s, fl & ~(env->fmask | RF_MASK), ~0ull);
        env->rip = was64 ? env->lstar : env->cstar;
    } else {
        env->regs[R_ECX] = (uint32_t)s->next_rip;
        flat_seg(&env->segs[R_CS], sel, 0, true, false);
        flat_seg(&env->segs[R_SS], sel + 8, 0, false, false);
        env->eflags &= ~(IF_MASK | VM_MASK | RF_MASK);
        env->rip = (uint32_t)env->star;
    }
    interp_update_mode(s);
}
FAM1(SYSCALL, h_syscall);

static HANDLER(h_sysret)
{
    CPUX86State *env = s->env;
    if (!(env->efer & EFER_SCE) || !s->pe) {
        RAISE_UD(s);
    }
    need_cpl0(s);
    uint16_t sel = (env->star >> 48) & 0xffff;
    if (s->lma) {
        if (i->opsize == 8) {
            if (!canonical(env->regs[R_ECX])) {
                RAISE_GP(s, 0);
            }
            flat_seg(&env->segs[R_CS], (sel + 16) | 3, 3, true, true);
            env->rip = env->regs[R_ECX];
        } else {
            flat_seg(&env->segs[R_CS], sel | 3, 3, true, false);
            env->rip = (uint32_t)env->regs[R_ECX];
        }
        flat_seg(&env->segs[R_SS], (sel + 8) | 3, 3, false, false);
        interp_set_eflags(s, (env->regs[11] & ~(RF_MASK | VM_MASK)) | 2, ~0ull);
    } else {
        flat_seg(&env->segs[R_CS], sel | 3, 3, true, false);
        flat_seg(&env->segs[R_SS], (sel + 8) | 3, 3, false, false);
        env->eflags |= IF_MASK;
        env->rip = (uint32_t)env->regs[R_ECX];
    }
    interp_update_mode(s);
}
FAM1(SYSRET, h_sysret);

static HANDLER(h_sysenter)
{
    (void)i;
    CPUX86State *env = s->env;
    if (!s->pe || (env->sysenter_cs & 0xfffc) == 0) {
        RAISE_GP(s, 0);
    }
    uint16_t sel = env->sysenter_cs & 0xfffc;
    flat_seg(&env->segs[R_CS], sel, 0, true, s->lma);
    flat_seg(&env->segs[R_SS], sel + 8, 0, false, false);
    env->eflags &= ~(IF_MASK | VM_MASK | RF_MASK);
    env->regs[R_ESP] = s->lma ? env->sysenter_esp : (uint32_t)env->sysenter_esp;
    env->rip = s->lma ? env->sysenter_eip : (uint32_t)env->sysenter_eip;
    interp_update_mode(s);
}
FAM1(SYSENTER, h_sysenter);

static HANDLER(h_sysexit)
{
    CPUX86State *env = s->env;
    if (!s->pe || (env->sysenter_cs & 0xfffc) == 0) {
        RAISE_GP(s, 0);
    }
    need_cpl0(s);
    uint16_t sel = env->sysenter_cs & 0xfffc;
    if (i->opsize == 8) {
        flat_seg(&env->segs[R_CS], (sel + 32) | 3, 3, true, true);
        flat_seg(&env->segs[R_SS], (sel + 40) | 3, 3, false, false);
        env->regs[R_ESP] = env->regs[R_ECX];
        env->rip = env->regs[R_EDX];
    } else {
        flat_seg(&env->segs[R_CS], (sel + 16) | 3, 3, true, false);
        flat_seg(&env->segs[R_SS], (sel + 24) | 3, 3, false, false);
        env->regs[R_ESP] = (uint32_t)env->regs[R_ECX];
        env->rip = (uint32_t)env->regs[R_EDX];
    }
    interp_update_mode(s);
}
FAM1(SYSEXIT, h_sysexit);

static HANDLER(h_swapgs)
{
    (void)i;
    CPUX86State *env = s->env;
    need_cpl0(s);
    uint64_t t = env->segs[R_GS].base;
    env->segs[R_GS].base = env->kernelgsbase;
    env->kernelgsbase = t;
}
FAM1(SWAPGS, h_swapgs);

static HANDLER(h_xgetbv)
{
    (void)i;
    CPUX86State *env = s->env;
    if (!(env->cr[4] & CR4_OSXSAVE)) {
        RAISE_UD(s);
    }
    if ((uint32_t)env->regs[R_ECX] != 0) {
        RAISE_GP(s, 0);
    }
    env->regs[R_EAX] = (uint32_t)env->xcr0;
    env->regs[R_EDX] = env->xcr0 >> 32;
}
FAM1(XGETBV, h_xgetbv);

static HANDLER(h_xsetbv)
{
    (void)i;
    CPUX86State *env = s->env;
    if (!(env->cr[4] & CR4_OSXSAVE)) {
        RAISE_UD(s);
    }
    need_cpl0(s);
    uint64_t v = ((env->regs[R_EDX] & 0xffffffffull) << 32) | (uint32_t)env->regs[R_EAX];
    if ((uint32_t)env->regs[R_ECX] != 0 || !(v & 1) || (v & ~3ull)) {
        RAISE_GP(s, 0);
    }
    env->xcr0 = v;
}
FAM1(XSETBV, h_xsetbv);

/* CLAC / STAC (SMAP) */
static void smap_ac(Interp *s, bool set)
{
    if (!ihook_has_feature(s->env, FEAT_7_0_EBX, 1u << 20)) {
        RAISE_UD(s);
    }
    need_cpl0(s);
    interp_set_eflags(s, set ? AC_MASK : 0, AC_MASK);
}
static HANDLER(h_clac) { (void)i; smap_ac(s, false); }
static HANDLER(h_stac) { (void)i; smap_ac(s, true); }
FAM1(CLAC, h_clac);
FAM1(STAC, h_stac);

static HANDLER(h_monitor)
{
    (void)i;
    if (!ihook_has_feature(s->env, FEAT_1_ECX, 1u << 3)) {
        RAISE_UD(s);
    }
    need_cpl0(s);
}
FAM1(MONITOR, h_monitor);
FAM1(MWAIT, h_monitor);

static HANDLER(h_rdrand)
{
    if (!ihook_has_feature(s->env, FEAT_1_ECX, 1u << 30)) {
        RAISE_UD(s);
    }
    uint64_t v = 0;
    if (getrandom(&v, sizeof(v), 0) != sizeof(v)) {
        v = guest_tsc(s) * 0x9e3779b97f4a7c15ull;
    }
    set_reg(s, i->rm, v, i->opsize, REX);
    lf_set(s, CC_C);
}
FAM1(RDRAND, h_rdrand);

/* ---- port I/O ---- */
bool io_allowed(Interp *s, uint16_t port, int size)
{
    CPUX86State *env = s->env;
    if (!s->pe || (!s->vm86 && s->cpl <= (int)((env->eflags >> 12) & 3))) {
        return true;
    }
    /* I/O permission bitmap of a 32/64-bit TSS */
    SegmentCache *tr = &env->tr;
    int type = (tr->flags >> 8) & 15;
    if (!(tr->flags & DESC_P_MASK) || (type != 9 && type != 11) || tr->limit < 0x67) {
        return false;
    }
    uint32_t base = sys_ld(s, (tr->base + 0x66) & s->la_mask, 2);
    uint32_t off = base + port / 8;
    if (off + 1 > tr->limit) {
        return false;
    }
    uint32_t bits = sys_ld(s, (tr->base + off) & s->la_mask, 2);
    uint32_t mask = ((1u << size) - 1) << (port & 7);
    return (bits & mask) == 0;
}

uint64_t io_in(Interp *s, uint16_t port, int size)
{
    uint64_t v = 0;
    as_rw(&as_io, port, &v, size, false);
    s->code_epoch++;   /* device activity: RAM may have changed (DMA) */
    if (as_memory.view && as_memory.view->gen != s->fv_gen) {
        s->fv_gen = as_memory.view->gen;
        tlb_flush(s, true);
    }
    return v;
}

void io_out(Interp *s, uint16_t port, uint64_t val, int size)
{
    as_rw(&as_io, port, &val, size, true);
    s->code_epoch++;
    if ((as_memory.view && as_memory.view->gen != s->fv_gen) ||
        s->env->a20_mask != s->a20_cached) {
        /* a PCI BAR, PAM or A20 change from this port write */
        s->fv_gen = as_memory.view ? as_memory.view->gen : 0;
        s->a20_cached = s->env->a20_mask;
        tlb_flush(s, true);
    }
    if (atomic_load(&s->cpu->exit_request)) {
        /* a device asked us to stop (reset, shutdown, debug exit) */
        interp_exit_slice(s, EXCP_INTERRUPT);
    }
}

static void in_common(Interp *s, const Insn *i, uint16_t port)
{
    int sz = i->opsize;
    if (!io_allowed(s, port, sz)) {
        RAISE_GP(s, 0);
    }
    set_reg(s, R_EAX, io_in(s, port, sz), sz, false);
}

static void out_common(Interp *s, const Insn *i, uint16_t port)
{
    int sz = i->opsize;
    if (!io_allowed(s, port, sz)) {
        RAISE_GP(s, 0);
    }
    io_out(s, port, s->env->regs[R_EAX] & size_mask(sz), sz);
}

static HANDLER(h_in_i) { in_common(s, i, i->imm & 0xff); }
static HANDLER(h_out_i) { out_common(s, i, i->imm & 0xff); }
static HANDLER(h_in_dx) { in_common(s, i, s->env->regs[R_EDX] & 0xffff); }
static HANDLER(h_out_dx) { out_common(s, i, s->env->regs[R_EDX] & 0xffff); }
FAM1(IN_I, h_in_i);
FAM1(OUT_I, h_out_i);
FAM1(IN_DX, h_in_dx);
FAM1(OUT_DX, h_out_dx);
