/*
 * x86-64 architectural CPU state shared by both accelerators (KVM and the
 * software CPU "tcg"), the -cpu model table and CPUID generation.
 * Spec: Intel SDM vol. 3 (register layout), AMD APM vol. 2 (EFER, SYSCALL MSRs).
 * Locking: a CPUX86State is owned by its vCPU thread while the vCPU runs;
 * other threads touch it only through run_on_cpu() or with the vCPU stopped.
 */
#ifndef TARGET_I386_CPU_H
#define TARGET_I386_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* General purpose register indices (encoding order). */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };

/* Segment register indices (encoding order). */
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS };

/*
 * Segment descriptor cache. 'flags' holds the descriptor's high-dword
 * attribute bits in place (the layout QEMU uses and `info registers` prints):
 * type bits 8-11, S bit 12, DPL bits 13-14, P bit 15, AVL 20, L 21, D/B 22, G 23.
 */
typedef struct SegmentCache {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;          /* byte granular, already expanded by G */
    uint32_t flags;
} SegmentCache;

#define DESC_TYPE_SHIFT 8
#define DESC_TYPE_MASK  (15u << DESC_TYPE_SHIFT)
#define DESC_A_MASK     (1u << 8)
#define DESC_CS_MASK    (1u << 11)   /* code segment (when S=1) */
#define DESC_S_MASK     (1u << 12)
#define DESC_DPL_SHIFT  13
#define DESC_DPL_MASK   (3u << DESC_DPL_SHIFT)
#define DESC_P_MASK     (1u << 15)
#define DESC_AVL_MASK   (1u << 20)
#define DESC_L_MASK     (1u << 21)
#define DESC_B_MASK     (1u << 22)
#define DESC_G_MASK     (1u << 23)

typedef struct DescTable {
    uint64_t base;
    uint32_t limit;
} DescTable;

/* EFLAGS bits */
#define CC_C   0x0001u
#define CC_P   0x0004u
#define CC_A   0x0010u
#define CC_Z   0x0040u
#define CC_S   0x0080u
#define TF_MASK   0x00000100u
#define IF_MASK   0x00000200u
#define DF_MASK   0x00000400u
#define CC_O   0x0800u
#define IOPL_MASK 0x00003000u
#define NT_MASK   0x00004000u
#define RF_MASK   0x00010000u
#define VM_MASK   0x00020000u
#define AC_MASK   0x00040000u
#define VIF_MASK  0x00080000u
#define VIP_MASK  0x00100000u
#define ID_MASK   0x00200000u

/* CR0 / CR4 / EFER bits */
#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)

#define CR4_VME        (1u << 0)
#define CR4_PVI        (1u << 1)
#define CR4_TSD        (1u << 2)
#define CR4_DE         (1u << 3)
#define CR4_PSE        (1u << 4)
#define CR4_PAE        (1u << 5)
#define CR4_MCE        (1u << 6)
#define CR4_PGE        (1u << 7)
#define CR4_PCE        (1u << 8)
#define CR4_OSFXSR     (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_UMIP       (1u << 11)
#define CR4_FSGSBASE   (1u << 16)
#define CR4_PCIDE      (1u << 17)
#define CR4_OSXSAVE    (1u << 18)
#define CR4_SMEP       (1u << 20)
#define CR4_SMAP       (1u << 21)

#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

/* MSR numbers used by both accelerators */
#define MSR_IA32_TSC            0x10
#define MSR_IA32_APICBASE       0x1b
#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_TSC_ADJUST     0x3b
#define MSR_IA32_SPEC_CTRL      0x48
#define MSR_IA32_UCODE_REV      0x8b
#define MSR_MTRRcap             0xfe
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_MCG_CAP             0x179
#define MSR_MCG_STATUS          0x17a
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRRdefType         0x2ff
#define MSR_IA32_PAT            0x277
#define MSR_IA32_TSC_DEADLINE   0x6e0
#define MSR_EFER                0xc0000080
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_FMASK               0xc0000084
#define MSR_FSBASE              0xc0000100
#define MSR_GSBASE              0xc0000101
#define MSR_KERNELGSBASE        0xc0000102
#define MSR_TSC_AUX             0xc0000103

#define MSR_IA32_APICBASE_BSP    (1ull << 8)
#define MSR_IA32_APICBASE_ENABLE (1ull << 11)
#define APIC_DEFAULT_ADDRESS     0xfee00000ull

/* Exception vectors */
enum { EXCP00_DIVZ, EXCP01_DB, EXCP02_NMI, EXCP03_INT3, EXCP04_INTO,
       EXCP05_BOUND, EXCP06_ILLOP, EXCP07_PREX, EXCP08_DBLE, EXCP09_XERR,
       EXCP0A_TSS, EXCP0B_NOSEG, EXCP0C_STACK, EXCP0D_GPF, EXCP0E_PAGE,
       EXCP10_COPR = 16, EXCP11_ALGN, EXCP12_MCHK, EXCP13_XMM };

typedef union XMMReg {
    uint8_t  b[16];
    uint16_t w[8];
    uint32_t l[4];
    uint64_t q[2];
    float    f[4];
    double   d[2];
} XMMReg;

/* One x87 register in the 80-bit extended format (FXSAVE layout). */
typedef struct FPReg {
    uint64_t mant;
    uint16_t exp;            /* sign in bit 15 */
} FPReg;

/* Pending-event bits in CPUState.interrupt_request (shared by both accels). */
#define CPU_INTERRUPT_HARD  0x0002u   /* PIC/LAPIC has an interrupt for us */
#define CPU_INTERRUPT_NMI   0x0200u
#define CPU_INTERRUPT_INIT  0x0400u
#define CPU_INTERRUPT_SIPI  0x0800u
#define CPU_INTERRUPT_SMI   0x1000u
#define CPU_INTERRUPT_POLL  0x2000u   /* LAPIC wants its state re-evaluated */

typedef struct CPUX86State {
    /* integer state; eflags is complete (arithmetic flags materialised) */
    uint64_t regs[16];
    uint64_t rip;
    uint64_t eflags;

    SegmentCache segs[6];
    SegmentCache ldt;
    SegmentCache tr;
    DescTable gdt;
    DescTable idt;

    uint64_t cr[5];          /* cr0, (cr1 unused), cr2, cr3, cr4 */
    uint64_t efer;
    uint64_t dr[8];
    uint64_t xcr0;

    /* MSRs */
    uint64_t star, lstar, cstar, fmask, kernelgsbase;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    uint64_t apic_base;
    uint64_t tsc;            /* guest TSC at the last sync */
    uint64_t tsc_adjust;
    uint64_t tsc_aux;
    uint64_t tsc_deadline;
    uint64_t misc_enable;
    uint64_t spec_ctrl;
    uint64_t mtrr_deftype;
    uint64_t mtrr_fixed[11];
    struct { uint64_t base, mask; } mtrr_var[8];
    uint64_t mcg_status;

    /* x87 / SSE (FXSAVE layout values) */
    FPReg fpregs[8];         /* physical registers ST(i) = fpregs[(fpstt + i) & 7] */
    unsigned fpstt;          /* top of stack */
    uint16_t fpuc;           /* control word */
    uint16_t fpus;           /* status word without TOP */
    uint8_t  fptag_abridged; /* FXSAVE abridged tag: bit i set = fpregs[i] valid */
    uint16_t fpop;
    uint64_t fpip, fpdp;
    uint32_t mxcsr;
    XMMReg   xmm[16];

    /* event state */
    bool     halted;
    bool     interrupt_shadow;   /* STI / MOV SS shadow active */
    bool     nmi_masked;         /* between NMI delivery and IRET */
    uint8_t  sipi_vector;
    uint64_t a20_mask;           /* ~0 or ~(1 << 20) */
    uint8_t  cr8;                /* TPR as seen through CR8 */

    /* identity */
    uint32_t apic_id;
    uint32_t nr_threads_per_pkg;     /* logical CPUs per package (CPUID) */
    const struct X86CPUModel *model;
} CPUX86State;

/* --- CPU models and CPUID (target/i386/cpu.c) --- */

typedef struct CPUIDEntry {
    uint32_t leaf, subleaf;
    bool     indexed;            /* subleaf is significant */
    uint32_t eax, ebx, ecx, edx;
} CPUIDEntry;

/* Feature words that -cpu +flag/-flag edit. */
typedef enum {
    FEAT_1_EDX, FEAT_1_ECX, FEAT_7_0_EBX, FEAT_7_0_ECX, FEAT_7_0_EDX,
    FEAT_8000_0001_EDX, FEAT_8000_0001_ECX, FEAT_WORDS
} FeatureWord;

typedef struct X86CPUModel {
    const char *name;            /* "qemu64", "max", "host" */
    const char *desc;
    uint32_t level, xlevel;      /* highest basic / extended leaf */
    uint32_t family, model, stepping;
    char vendor[13];
    char model_id[49];
    uint32_t features[FEAT_WORDS];
} X86CPUModel;

/* A parsed -cpu option: base model plus +feat/-feat edits. */
typedef struct X86CPUConfig {
    X86CPUModel m;               /* copy of the base model with edits applied */
    bool host;                   /* "host": pass the accelerator's full set */
    bool is_max;
} X86CPUConfig;

/* Model parsing, CPUID and reset (cpu.c). cpu_x86_has_feature takes a bit
 * MASK within the feature word, e.g. (1u << 9) for SSSE3 in FEAT_1_ECX. */
typedef struct Error Error;
bool x86_cpu_parse(const char *str, X86CPUConfig *out, Error **errp);
void cpu_x86_cpuid(CPUX86State *env, uint32_t leaf, uint32_t sub,
                   uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx);
bool cpu_x86_has_feature(CPUX86State *env, FeatureWord w, uint32_t bit);
void x86_cpu_reset(CPUX86State *env);
void x86_cpu_list(GString *out);
/* Every model -cpu accepts, in table order (query-cpu-definitions). */
void x86_cpu_foreach_model(void (*fn)(const X86CPUModel *m, void *opaque), void *opaque);

/* Register dump in QEMU's `info registers` layout (monitor.c). */
#define X86_DUMP_FPU  1          /* FCW/FPR/XMM lines (info registers) */
#define X86_DUMP_CODE 2          /* Code= line (KVM internal errors) */
typedef bool X86ReadCodeFn(void *opaque, uint64_t linear, uint8_t *byte);
void x86_cpu_dump_state(CPUX86State *env, struct _GString *out);
void x86_cpu_dump_state_flags(CPUX86State *env, struct _GString *out, int flags,
                              X86ReadCodeFn *read_code, void *opaque);

#endif
