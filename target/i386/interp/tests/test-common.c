/*
 * Test harness of the interpreter unit tests (see test-common.h): RAM and
 * port stubs for memory.h, stubs for the glue hooks, mode setup helpers.
 * Spec: Intel SDM vol. 3 (descriptor and page-table formats).
 * Locking: single-threaded tests.
 */
#include <stdlib.h>
#include <string.h>
#include "test-common.h"
#include "system/memory.h"

uint8_t *tram;
GString *port_log;
uint32_t test_port_in_value = 0xffffffff;
int test_pending_vector = -1;

static FlatView test_fv = { .gen = 1 };
AddressSpace as_memory = { .name = "memory", .view = &test_fv };
AddressSpace as_io = { .name = "io" };

void *as_map(AddressSpace *as, uint64_t addr, uint64_t *len, bool is_write)
{
    (void)is_write;
    if (as != &as_memory || addr >= TRAM_SIZE) {
        return NULL;
    }
    if (*len > TRAM_SIZE - addr) {
        *len = TRAM_SIZE - addr;
    }
    /* 0xf0000-0xfffff plays ROM: not writable through as_map */
    if (is_write && addr >= 0xf0000 && addr < 0x100000) {
        return NULL;
    }
    return tram + addr;
}

int as_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len, bool is_write)
{
    if (as == &as_io) {
        if (is_write) {
            if (addr == 0xe9) {
                g_string_append_c(port_log, *(uint8_t *)buf);
            }
        } else {
            memcpy(buf, &test_port_in_value, len > 4 ? 4 : len);
        }
        return 0;
    }
    for (uint64_t k = 0; k < len; k++) {
        uint64_t a = addr + k;
        if (a < TRAM_SIZE) {
            if (is_write) {
                if (!(a >= 0xf0000 && a < 0x100000)) {
                    tram[a] = ((uint8_t *)buf)[k];
                }
            } else {
                ((uint8_t *)buf)[k] = tram[a];
            }
        } else if (!is_write) {
            ((uint8_t *)buf)[k] = 0xff;
        }
    }
    return 0;
}

/* ---- hook stubs ---- */
void ihook_cpuid(CPUX86State *env, uint32_t leaf, uint32_t sub,
                 uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    (void)env;
    (void)sub;
    *a = *b = *c = *d = 0;
    if (leaf == 0) {
        *a = 0xd;
        *b = 0x756e6547;
        *d = 0x49656e69;
        *c = 0x6c65746e;
    } else if (leaf == 1) {
        *a = 0x663;
        *d = 0x078bfbff;
        *c = 0x80a02201 | (1u << 23);
    }
}

bool ihook_has_feature(CPUX86State *env, FeatureWord w, uint32_t bit)
{
    (void)env;
    switch (w) {
    case FEAT_1_ECX: return bit & ((1u << 23) | (1u << 0) | (1u << 9));
    case FEAT_8000_0001_ECX: return bit & ((1u << 0) | (1u << 5));
    case FEAT_7_0_EBX: return bit & (1u << 3);
    case FEAT_8000_0001_EDX: return bit & (1u << 27);
    default: return false;
    }
}

int ihook_get_interrupt(CPUState *cpu)
{
    (void)cpu;
    int v = test_pending_vector;
    test_pending_vector = -1;
    return v;
}

bool ihook_has_interrupt(CPUState *cpu)
{
    (void)cpu;
    return test_pending_vector >= 0;
}

static uint8_t test_tpr;
uint8_t ihook_get_tpr(CPUState *cpu) { (void)cpu; return test_tpr; }
void ihook_set_tpr(CPUState *cpu, uint8_t v) { (void)cpu; test_tpr = v; }
void ihook_set_apic_base(CPUState *cpu, uint64_t v) { (void)cpu; (void)v; }
uint64_t ihook_get_tsc_deadline(CPUState *cpu) { (void)cpu; return 0; }
void ihook_set_tsc_deadline(CPUState *cpu, uint64_t v) { (void)cpu; (void)v; }
uint64_t ihook_clock_ns(void)
{
    return (uint64_t)g_get_monotonic_time() * 1000;
}

void ihook_init_reset(CPUState *cpu)
{
    ihook_cpu_reset(&cpu->env);
    cpu->halted = cpu->env.halted = true;
}

void ihook_cpu_reset(CPUX86State *env)
{
    memset(env, 0, offsetof(CPUX86State, apic_id));
    env->cr[0] = CR0_ET | CR0_CD | CR0_NW;
    env->eflags = 2;
    env->rip = 0xfff0;
    for (int k = 0; k < 6; k++) {
        env->segs[k].limit = 0xffff;
        env->segs[k].flags = DESC_P_MASK | DESC_S_MASK | (2u << 8) | DESC_A_MASK;
    }
    env->segs[R_CS].selector = 0xf000;
    env->segs[R_CS].base = 0xffff0000;
    env->segs[R_CS].flags |= DESC_CS_MASK;
    env->gdt.limit = env->idt.limit = 0xffff;
    env->ldt.limit = env->tr.limit = 0xffff;
    env->ldt.flags = DESC_P_MASK | (2u << 8);
    env->tr.flags = DESC_P_MASK | (11u << 8);
    env->a20_mask = ~0ull;
    env->fpuc = 0x37f;
    env->mxcsr = 0x1f80;
    env->regs[R_EDX] = 0x663;
}

/* ---- machine ---- */
void test_machine_init(void)
{
    if (!tram) {
        tram = aligned_alloc(4096, TRAM_SIZE);
        port_log = g_string_new("");
    }
    memset(tram, 0, TRAM_SIZE);
    g_string_truncate(port_log, 0);
}

static void put64(uint64_t a, uint64_t v)
{
    memcpy(tram + a, &v, 8);
}

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint32_t flags)
{
    uint64_t d = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16);
    d |= (uint64_t)((limit >> 16) & 0xf) << 48;
    d |= (uint64_t)(base >> 24) << 56;
    d |= (uint64_t)(flags & 0x00f0ff00) << 32;
    return d;
}

static void build_tables(bool long_idt)
{
    /* GDT */
    put64(T_GDT + 0x00, 0);
    put64(T_GDT + 0x08, seg_desc(0, 0xfffff, 0x00a09b00));   /* code64 */
    put64(T_GDT + 0x10, seg_desc(0, 0xfffff, 0x00c09300));   /* data */
    put64(T_GDT + 0x18, seg_desc(0, 0xfffff, 0x00c09b00));   /* code32 */
    put64(T_GDT + 0x20, seg_desc(0, 0xfffff, 0x00c0fb00));   /* user code32 */
    put64(T_GDT + 0x28, seg_desc(0, 0xfffff, 0x00c0f300));   /* user data */
    put64(T_GDT + 0x30, seg_desc(0, 0xfffff, 0x00a0fb00));   /* user code64 */
    put64(T_GDT + 0x40, seg_desc(T_TSS, 0x67 + 8192 + 1, 0x00008900)); /* TSS */
    put64(T_GDT + 0x48, 0);
    put64(T_GDT + 0x50, seg_desc(0, 0xffff, 0x00009b00));    /* code16 */
    /* interrupt handlers: HLT each */
    for (int v = 0; v < 256; v++) {
        tram[T_HANDLERS + 16 * v] = 0xf4;
        uint64_t h = T_HANDLERS + 16 * v;
        if (long_idt) {
            uint64_t lo = (h & 0xffff) | ((uint64_t)SEL_CODE64 << 16) |
                          ((uint64_t)0x8e00 << 32) | ((uint64_t)(h >> 16) << 48);
            put64(T_IDT + 16 * v, lo | (3ull << 45));   /* DPL3 so INT n works */
            put64(T_IDT + 16 * v + 8, h >> 32);
        } else {
            uint64_t lo = (h & 0xffff) | ((uint64_t)SEL_CODE32 << 16) |
                          ((uint64_t)0xee00 << 32) | ((uint64_t)(h >> 16) << 48);
            put64(T_IDT + 8 * v, lo);
        }
    }
    /* TSS: rsp0 / esp0 */
    put64(T_TSS + 4, T_STACK);
    if (!long_idt) {
        put64(T_TSS + 8, SEL_DATA);     /* 32-bit TSS: SS0 */
    }
    memcpy(tram + T_TSS + 0x66, &(uint16_t){ 0x68 }, 2);
    memset(tram + T_TSS + 0x68, 0xff, 8192 + 1);
}

TestCPU *tcpu_new(void)
{
    TestCPU *t = g_new0(TestCPU, 1);
    t->cpu = g_new0(CPUState, 1);
    t->env = &t->cpu->env;
    ihook_cpu_reset(t->env);
    t->it = interp_new(t->cpu);
    return t;
}

void tcpu_free(TestCPU *t)
{
    interp_free(t->it);
    g_free(t->cpu);
    g_free(t);
}

static void set_seg(CPUX86State *env, int seg, uint16_t sel, uint32_t flags)
{
    env->segs[seg].selector = sel;
    env->segs[seg].base = 0;
    env->segs[seg].limit = 0xffffffff;
    env->segs[seg].flags = flags | DESC_A_MASK;
}

void tcpu_real_mode(TestCPU *t)
{
    ihook_cpu_reset(t->env);
    t->env->segs[R_CS].selector = 0;
    t->env->segs[R_CS].base = 0;
    t->env->idt.base = 0;
    t->env->idt.limit = 0x3ff;
    t->env->regs[R_ESP] = 0x7000;
    interp_flush(t->it);
}

void tcpu_long_mode(TestCPU *t)
{
    CPUX86State *env = t->env;
    ihook_cpu_reset(env);
    build_tables(true);
    /* identity map the first 4 GB with 2M pages, user-accessible */
    put64(T_PML4, (T_PML4 + 0x1000) | 7);
    for (int g = 0; g < 4; g++) {
        put64(T_PML4 + 0x1000 + 8 * g, (T_PML4 + 0x2000 + 0x1000 * g) | 7);
        for (int k = 0; k < 512; k++) {
            put64(T_PML4 + 0x2000 + 0x1000 * g + 8 * k,
                  (((uint64_t)g << 30) + ((uint64_t)k << 21)) | 0x87);
        }
    }
    env->cr[0] = CR0_PE | CR0_PG | CR0_ET | CR0_NE | CR0_WP | CR0_MP;
    env->cr[3] = T_PML4;
    env->cr[4] = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_PSE;
    env->efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
    env->gdt.base = T_GDT;
    env->gdt.limit = 0x57;
    env->idt.base = T_IDT;
    env->idt.limit = 0xfff;
    set_seg(env, R_CS, SEL_CODE64, 0x00a09b00);
    set_seg(env, R_SS, SEL_DATA, 0x00c09300);
    set_seg(env, R_DS, SEL_DATA, 0x00c09300);
    set_seg(env, R_ES, SEL_DATA, 0x00c09300);
    set_seg(env, R_FS, SEL_DATA, 0x00c09300);
    set_seg(env, R_GS, SEL_DATA, 0x00c09300);
    env->tr.selector = SEL_TSS;
    env->tr.base = T_TSS;
    env->tr.limit = 0x67 + 8192 + 1;
    env->tr.flags = DESC_P_MASK | (11u << 8);
    env->regs[R_ESP] = T_STACK;
    env->eflags = 2;
    interp_flush(t->it);
}

void tcpu_prot_mode(TestCPU *t, bool paging)
{
    CPUX86State *env = t->env;
    ihook_cpu_reset(env);
    build_tables(false);
    env->cr[0] = CR0_PE | CR0_ET | CR0_NE | CR0_MP;
    env->cr[4] = CR4_OSFXSR;
    if (paging) {
        /* 32-bit paging, 4M pages identity for the first 64 MB */
        for (int k = 0; k < 16; k++) {
            uint32_t pde = ((uint32_t)k << 22) | 0x87;
            memcpy(tram + T_PML4 + 4 * k, &pde, 4);
        }
        env->cr[3] = T_PML4;
        env->cr[4] |= CR4_PSE;
        env->cr[0] |= CR0_PG | CR0_WP;
    }
    env->gdt.base = T_GDT;
    env->gdt.limit = 0x57;
    env->idt.base = T_IDT;
    env->idt.limit = 0x7ff;
    set_seg(env, R_CS, SEL_CODE32, 0x00c09b00);
    set_seg(env, R_SS, SEL_DATA, 0x00c09300);
    set_seg(env, R_DS, SEL_DATA, 0x00c09300);
    set_seg(env, R_ES, SEL_DATA, 0x00c09300);
    set_seg(env, R_FS, SEL_DATA, 0x00c09300);
    set_seg(env, R_GS, SEL_DATA, 0x00c09300);
    env->tr.selector = SEL_TSS;
    env->tr.base = T_TSS;
    env->tr.limit = 0x67 + 8192 + 1;
    env->tr.flags = DESC_P_MASK | (11u << 8);
    env->regs[R_ESP] = T_STACK;
    env->eflags = 2;
    interp_flush(t->it);
}

void tcpu_load_code(TestCPU *t, uint64_t addr, const void *code, size_t len)
{
    memcpy(tram + addr, code, len);
    t->env->rip = addr - t->env->segs[R_CS].base;
}

int tcpu_run(TestCPU *t, uint64_t budget)
{
    t->env->halted = false;
    t->cpu->halted = false;
    return interp_exec(t->it, budget);
}

int tcpu_halted_vector(TestCPU *t)
{
    uint64_t lip = t->env->segs[R_CS].base + t->env->rip - 1;
    if (lip >= T_HANDLERS && lip < T_HANDLERS + 16 * 256 && (lip & 15) == 0) {
        return (lip - T_HANDLERS) / 16;
    }
    return -1;
}

uint64_t tcpu_pop64(TestCPU *t, int idx)
{
    uint64_t v;
    memcpy(&v, tram + t->env->segs[R_SS].base + t->env->regs[R_ESP] + 8 * idx, 8);
    return v;
}

int test_parse_hex(const char *hex, uint8_t *out)
{
    int n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        out[n++] = (uint8_t)strtoul((char[]){ hex[0], hex[1], 0 }, NULL, 16);
        hex += 2;
    }
    return n;
}
