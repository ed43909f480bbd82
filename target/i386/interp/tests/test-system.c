/*
 * System-level unit tests of the software CPU: page walks (4-level, PAE,
 * 32-bit/PSE) with A/D bits and #PF error codes/CR2, exception delivery in
 * real/protected/long mode, IRET to user mode, #DF and triple fault,
 * external interrupts and the STI shadow, a real->protected->long mode
 * switch, SYSCALL/SYSRET, and REP string instructions.
 * Guest code is assembled by the host assembler from the snippets below.
 * Spec: Intel SDM vol. 3 chapters 4-6, vol. 2 (string instructions).
 * Locking: single-threaded test.
 */
#include "test-common.h"

#define GUEST(name, mode, body)                                             \
    __asm__(".pushsection .rodata\n"                                        \
            ".globl " #name "\n" #name ":\n" mode "\n" body "\n"            \
            ".code64\n.globl " #name "_end\n" #name "_end:\n.popsection\n"); \
    extern const uint8_t name[], name##_end[];

#define LOAD(t, addr, name) tcpu_load_code(t, addr, name, name##_end - name)

static void put64(uint64_t a, uint64_t v) { memcpy(tram + a, &v, 8); }
static uint64_t get64(uint64_t a) { uint64_t v; memcpy(&v, tram + a, 8); return v; }
static void put32(uint64_t a, uint32_t v) { memcpy(tram + a, &v, 4); }
static uint32_t get32(uint64_t a) { uint32_t v; memcpy(&v, tram + a, 4); return v; }

/* ---------------- paging (long mode) ---------------- */
/* A private 4K-page mapping for 0x40000000.. built on the identity map:
 * PDPT entry 1 -> our PD -> our PT. */
#define PT_PD   0x60000
#define PT_PT   0x61000
#define VBASE   0x40000000ull

static void map4k(int idx, uint64_t pa, uint64_t flags)
{
    put64(PT_PT + 8 * idx, pa | flags);
}

static void setup_4k(void)
{
    put64(T_PML4 + 0x1000 + 8 * 1, PT_PD | 7);
    memset(tram + PT_PD, 0, 4096);
    memset(tram + PT_PT, 0, 4096);
    put64(PT_PD, PT_PT | 7);
}

GUEST(g_read_rbx, ".code64", "mov (%rbx), %rax\n hlt")
GUEST(g_write_rbx, ".code64", "movl $0x1234, (%rbx)\n hlt")
GUEST(g_jmp_rbx, ".code64", "jmp *%rbx")

static void reset_lm(TestCPU *t)
{
    tcpu_long_mode(t);
    setup_4k();
    map4k(0, 0x300000, 0x3);          /* present, RW, supervisor */
    map4k(1, 0x301000, 0x1);          /* read-only */
    map4k(2, 0, 0);                   /* not present */
    map4k(3, 0x303000, 0x3 | (1ull << 63));   /* NX */
}

static void test_paging_long(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    reset_lm(t);
    put64(0x300000, 0x1122334455667788ull);

    /* read: translation + A bit, no D */
    LOAD(t, T_CODE, g_read_rbx);
    t->env->regs[R_EBX] = VBASE;
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmphex(t->env->regs[R_EAX], ==, 0x1122334455667788ull);
    g_assert_true(get64(PT_PT) & 0x20);
    g_assert_false(get64(PT_PT) & 0x40);
    g_assert_true(get64(PT_PD) & 0x20);

    /* write: D bit set */
    LOAD(t, T_CODE, g_write_rbx);
    t->env->regs[R_EBX] = VBASE + 8;
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_true(get64(PT_PT) & 0x40);
    g_assert_cmphex(get32(0x300008), ==, 0x1234);

    /* write to read-only with CR0.WP: #PF err P|W, CR2 */
    LOAD(t, T_CODE, g_write_rbx);
    t->env->regs[R_EBX] = VBASE + 0x1010;
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0E_PAGE);
    g_assert_cmphex(tcpu_pop64(t, 0), ==, 3);
    g_assert_cmphex(tcpu_pop64(t, 1), ==, T_CODE);   /* faulting RIP */
    g_assert_cmphex(t->env->cr[2], ==, VBASE + 0x1010);
    g_assert_cmphex(get32(0x301010), ==, 0);

    /* WP=0: supervisor write to read-only succeeds */
    reset_lm(t);
    t->env->cr[0] &= ~(uint64_t)CR0_WP;
    interp_flush(t->it);
    LOAD(t, T_CODE, g_write_rbx);
    t->env->regs[R_EBX] = VBASE + 0x1010;
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, -1);
    g_assert_cmphex(get32(0x301010), ==, 0x1234);

    /* not present read: err 0 */
    reset_lm(t);
    LOAD(t, T_CODE, g_read_rbx);
    t->env->regs[R_EBX] = VBASE + 0x2000;
    tcpu_run(t, 100);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0E_PAGE);
    g_assert_cmphex(tcpu_pop64(t, 0), ==, 0);
    g_assert_cmphex(t->env->cr[2], ==, VBASE + 0x2000);

    /* fetch from NX page: err I|P */
    reset_lm(t);
    LOAD(t, T_CODE, g_jmp_rbx);
    t->env->regs[R_EBX] = VBASE + 0x3000;
    tcpu_run(t, 100);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0E_PAGE);
    g_assert_cmphex(tcpu_pop64(t, 0), ==, 0x11);
    g_assert_cmphex(tcpu_pop64(t, 1), ==, VBASE + 0x3000);

    /* reserved bit: NX set while EFER.NXE=0 */
    reset_lm(t);
    t->env->efer &= ~(uint64_t)EFER_NXE;
    interp_flush(t->it);
    LOAD(t, T_CODE, g_read_rbx);
    t->env->regs[R_EBX] = VBASE + 0x3000;
    tcpu_run(t, 100);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0E_PAGE);
    g_assert_cmphex(tcpu_pop64(t, 0), ==, 0x9);

    /* TLB: change the PTE without INVLPG -> stale; after INVLPG -> new.
     * (page 4: its TLB slot does not collide with the code page) */
    reset_lm(t);
    map4k(4, 0x300000, 0x3);
    LOAD(t, T_CODE, g_read_rbx);
    t->env->regs[R_EBX] = VBASE + 0x4000;
    tcpu_run(t, 100);
    g_assert_cmphex(t->env->regs[R_EAX], ==, 0x1122334455667788ull);
    map4k(4, 0x301000, 0x3);
    put64(0x301000, 0xaaaa);
    LOAD(t, T_CODE, g_read_rbx);
    tcpu_run(t, 100);
    g_assert_cmphex(t->env->regs[R_EAX], ==, 0x1122334455667788ull);
    tlb_flush_page(t->it, VBASE + 0x4000);
    LOAD(t, T_CODE, g_read_rbx);
    tcpu_run(t, 100);
    g_assert_cmphex(t->env->regs[R_EAX], ==, 0xaaaa);
    tcpu_free(t);
}

/* user mode: IRETQ to CPL3, then touch a supervisor page */
GUEST(g_to_user, ".code64",
      "pushq $0x2b\n pushq $0x70000\n pushq $0x202\n pushq $0x33\n"
      "lea 1f(%rip), %rax\n push %rax\n iretq\n"
      "1: mov (%rbx), %rax\n hlt")

static void test_user_pf(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    setup_4k();
    map4k(0, 0x300000, 0x3);          /* supervisor only */
    put64(T_PML4 + 0x2000, 0x87);     /* first 2M: user ok (identity) */
    LOAD(t, T_CODE, g_to_user);
    t->env->regs[R_EBX] = VBASE;
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0E_PAGE);
    g_assert_cmphex(tcpu_pop64(t, 0), ==, 5);           /* U|P */
    g_assert_cmphex(tcpu_pop64(t, 2), ==, 0x33);        /* CS */
    g_assert_cmphex(tcpu_pop64(t, 4), ==, 0x70000);     /* RSP */
    g_assert_cmphex(tcpu_pop64(t, 5), ==, 0x2b);        /* SS */
    /* delivered on the TSS RSP0 stack */
    g_assert_cmphex(t->env->regs[R_ESP], ==, T_STACK - 48);
    g_assert_cmpint(t->env->segs[R_CS].selector, ==, SEL_CODE64);
    tcpu_free(t);
}

/* ---------------- 32-bit and PAE paging ---------------- */
GUEST(g_read32, ".code32", "mov (%ebx), %eax\n hlt")

static void test_paging_32(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_prot_mode(t, true);
    /* 4K page table for 0x40000000: PDE 256 */
    uint32_t pde = 0x70000 | 3;
    put32(T_PML4 + 4 * 256, pde);
    put32(0x70000 + 4 * 5, 0x345000 | 3);
    put32(0x345000 + 0x10, 0xcafe);
    LOAD(t, T_CODE, g_read32);
    t->env->regs[R_EBX] = 0x40005010;
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmphex(t->env->regs[R_EAX], ==, 0xcafe);
    g_assert_true(get32(0x70000 + 4 * 5) & 0x20);
    /* not present -> #PF, 32-bit frame */
    LOAD(t, T_CODE, g_read32);
    t->env->regs[R_EBX] = 0x40006000;
    tcpu_run(t, 100);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0E_PAGE);
    g_assert_cmphex(get32(t->env->regs[R_ESP]), ==, 0);
    g_assert_cmphex(get32(t->env->regs[R_ESP] + 4), ==, T_CODE);
    g_assert_cmphex(get32(t->env->regs[R_ESP] + 8), ==, SEL_CODE32);

    /* PAE: PDPT at 0x71000 */
    tcpu_prot_mode(t, false);
    put64(0x71000 + 8, 0x72000 | 1);          /* 1-2 GB */
    put64(0x71000, 0x74000 | 1);              /* 0-1 GB */
    put64(0x74000, 0x83);                      /* 2M identity */
    put64(0x72000, 0x73000 | 3);
    put64(0x73000 + 8 * 5, 0x346000 | 3);
    put32(0x346010, 0xbeef);
    t->env->cr[3] = 0x71000;
    t->env->cr[4] |= CR4_PAE;
    t->env->cr[0] |= CR0_PG;
    interp_flush(t->it);
    LOAD(t, T_CODE, g_read32);
    t->env->regs[R_EBX] = 0x40005010;
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, -1);
    g_assert_cmphex(t->env->regs[R_EAX], ==, 0xbeef);
    tcpu_free(t);
}

/* ---------------- exceptions ---------------- */
GUEST(g_real_int, ".code16",
      "mov $0x1234, %ax\n int $0x21\n mov $0x77, %bx\n"
      "xor %dx, %dx\n div %dx\n hlt\n"
      ".globl g_real_h21\ng_real_h21: mov $0x55, %cx\n iret\n"
      ".globl g_real_h0\ng_real_h0: mov $0x99, %si\n hlt\n")
extern const uint8_t g_real_h21[], g_real_h0[];

static void test_real_mode_int(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_real_mode(t);
    LOAD(t, 0x7c00, g_real_int);
    uint16_t h21 = 0x7c00 + (g_real_h21 - g_real_int);
    uint16_t h0 = 0x7c00 + (g_real_h0 - g_real_int);
    put32(0x21 * 4, h21);                     /* 0000:h21 */
    put32(0, h0);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmphex(t->env->regs[R_ECX] & 0xffff, ==, 0x55);
    g_assert_cmphex(t->env->regs[R_EBX] & 0xffff, ==, 0x77);
    g_assert_cmphex(t->env->regs[R_ESI] & 0xffff, ==, 0x99);
    /* #DE frame: IP of the div, CS 0 */
    uint16_t ip;
    memcpy(&ip, tram + (t->env->regs[R_ESP] & 0xffff), 2);
    g_assert_cmphex(ip, ==, 0x7c00 + 10);
    tcpu_free(t);
}

GUEST(g_prot_gp, ".code32", "mov $0x38, %ax\n mov %ax, %ds\n hlt")
GUEST(g_prot_ud, ".code32", "ud2\n")
GUEST(g_prot_int3, ".code32", "nop\n int3\n hlt")

static void test_prot_mode_excp(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_prot_mode(t, false);
    /* selector 0x38 is past... make the GDT limit exclude it */
    t->env->gdt.limit = 0x37;
    LOAD(t, T_CODE, g_prot_gp);
    tcpu_run(t, 100);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0D_GPF);
    g_assert_cmphex(get32(t->env->regs[R_ESP]), ==, 0x38);
    g_assert_cmphex(get32(t->env->regs[R_ESP] + 4), ==, T_CODE + 4);

    tcpu_prot_mode(t, false);
    LOAD(t, T_CODE, g_prot_ud);
    tcpu_run(t, 100);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP06_ILLOP);
    g_assert_cmphex(get32(t->env->regs[R_ESP]), ==, T_CODE);

    tcpu_prot_mode(t, false);
    LOAD(t, T_CODE, g_prot_int3);
    tcpu_run(t, 100);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP03_INT3);
    g_assert_cmphex(get32(t->env->regs[R_ESP]), ==, T_CODE + 2);   /* after int3 */

    /* triple fault: no IDT */
    tcpu_prot_mode(t, false);
    t->env->idt.limit = 0;
    LOAD(t, T_CODE, g_prot_ud);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_RESET);
    tcpu_free(t);
}

/* #PF while pushing the #PF frame -> #DF on an IST stack */
GUEST(g_bad_stack, ".code64", "mov $0x40002000, %rsp\n mov (%rsp), %rax\n hlt")

static void test_double_fault(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    setup_4k();                                  /* 0x40000000.. not present */
    /* gate 8 uses IST1 */
    tram[T_IDT + 16 * 8 + 4] = 1;
    put64(T_TSS + 0x24, 0x88000);
    /* gate 14 uses the current stack (same CPL) -> faults again */
    LOAD(t, T_CODE, g_bad_stack);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP08_DBLE);
    g_assert_cmphex(tcpu_pop64(t, 0), ==, 0);
    g_assert_cmphex(t->env->regs[R_ESP], ==, 0x88000 - 48);
    /* without IST: triple fault */
    tcpu_long_mode(t);
    setup_4k();
    LOAD(t, T_CODE, g_bad_stack);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_RESET);
    tcpu_free(t);
}

/* external interrupt after the STI shadow */
GUEST(g_sti, ".code64", "sti\n mov $1, %eax\n mov $2, %ebx\n hlt")

static void test_interrupts(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    LOAD(t, T_CODE, g_sti);
    test_pending_vector = 0x30;
    atomic_store(&t->cpu->interrupt_request, CPU_INTERRUPT_HARD);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, 0x30);
    /* the instruction after STI ran, the next one did not */
    g_assert_cmphex(t->env->regs[R_EAX], ==, 1);
    g_assert_cmphex(t->env->regs[R_EBX], ==, 0);
    g_assert_cmphex(tcpu_pop64(t, 0), ==, T_CODE + 6);
    g_assert_false(t->env->eflags & IF_MASK);
    g_assert_true(tcpu_pop64(t, 2) & IF_MASK);

    /* HLT with IF=1 and an interrupt arriving wakes the CPU */
    tcpu_long_mode(t);
    LOAD(t, T_CODE, g_sti);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_true(t->cpu->halted);
    test_pending_vector = 0x31;
    atomic_store(&t->cpu->interrupt_request, CPU_INTERRUPT_HARD);
    t->cpu->halted = t->env->halted = true;
    g_assert_cmpint(interp_exec(t->it, 100), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, 0x31);
    tcpu_free(t);
}

/* ---------------- mode switch ---------------- */
GUEST(g_boot, ".code16",
      "cli\n"
      "lgdtl (gdtr - g_boot + 0x7c00)\n"
      "mov %cr0, %eax\n or $1, %eax\n mov %eax, %cr0\n"
      "ljmpl $0x18, $(pm - g_boot + 0x7c00)\n"
      "gdtr: .word 0x57\n .long 0x500\n"
      ".code32\n"
      "pm: mov $0x10, %ax\n mov %ax, %ds\n mov %ax, %ss\n mov %ax, %es\n"
      "mov $0x90000, %esp\n"
      "mov $0x50, %al\n out %al, $0xe9\n"
      "mov %cr4, %eax\n or $0x20, %eax\n mov %eax, %cr4\n"
      "mov $0x10000, %eax\n mov %eax, %cr3\n"
      "mov $0xc0000080, %ecx\n rdmsr\n or $0x100, %eax\n wrmsr\n"
      "mov %cr0, %eax\n or $0x80000000, %eax\n mov %eax, %cr0\n"
      "ljmpl $0x08, $(lm - g_boot + 0x7c00)\n"
      ".code64\n"
      "lm: mov $0x4c, %al\n out %al, $0xe9\n"
      "movabs $0x123456789a, %rax\n push %rax\n pop %rbx\n"
      "mov $0xc0000080, %ecx\n rdmsr\n mov %eax, %esi\n"
      "hlt\n")

static void test_mode_switch(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);          /* only to build GDT + page tables in RAM */
    tcpu_real_mode(t);
    LOAD(t, 0x7c00, g_boot);
    t->env->regs[R_ESP] = 0x7000;
    g_assert_cmpint(tcpu_run(t, 1000), ==, EXCP_HLT);
    g_assert_cmpstr(port_log->str, ==, "PL");
    g_assert_cmphex(t->env->regs[R_EBX], ==, 0x123456789aull);
    g_assert_true(t->env->efer & EFER_LMA);
    g_assert_cmphex(t->env->regs[R_ESI] & 0x500, ==, 0x500);
    g_assert_true(t->env->segs[R_CS].flags & DESC_L_MASK);
    tcpu_free(t);
}

/* ---------------- SYSCALL / SYSRET ---------------- */
GUEST(g_syscall, ".code64",
      "syscall\n"
      "mov $7, %edx\n hlt\n"
      ".globl g_sys_entry\ng_sys_entry: mov $5, %edi\n sysretq\n")
extern const uint8_t g_sys_entry[];

static void test_syscall(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    LOAD(t, T_CODE, g_syscall);
    t->env->lstar = T_CODE + (g_sys_entry - g_syscall);
    /* kernel CS 0x08 / SS 0x10; user base 0x20: SS 0x2b, CS 0x33 */
    t->env->star = (0x20ull << 48) | (0x08ull << 32);
    t->env->fmask = IF_MASK;
    t->env->eflags = 0x202;
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    /* we are back at CPL3 after sysret: hlt there raises #GP */
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0D_GPF);
    g_assert_cmphex(t->env->regs[R_EDI], ==, 5);
    g_assert_cmphex(t->env->regs[R_EDX], ==, 7);
    g_assert_cmphex(tcpu_pop64(t, 2), ==, 0x33);
    g_assert_true(tcpu_pop64(t, 3) & IF_MASK);
    tcpu_free(t);
}

/* ---------------- string instructions ---------------- */
GUEST(g_strings, ".code64",
      "cld\n"
      /* rep movsb, 10000 bytes from 0x300000 to 0x310003 */
      "mov $0x300000, %esi\n mov $0x310003, %edi\n mov $10000, %ecx\n rep movsb\n"
      /* rep stosl 1000 dwords at 0x320000 */
      "mov $0xdeadbeef, %eax\n mov $0x320000, %edi\n mov $1000, %ecx\n rep stosl\n"
      /* overlapping forward movsb: pattern fill */
      "movb $0xab, 0x330000\n mov $0x330000, %esi\n mov $0x330001, %edi\n"
      "mov $100, %ecx\n rep movsb\n"
      /* repe cmpsb: buffers differ at index 57 */
      "mov $0x340000, %esi\n mov $0x350000, %edi\n mov $100, %ecx\n repe cmpsb\n"
      "mov %ecx, %r8d\n"
      /* repne scasb: find 0x42 */
      "mov $0x42, %al\n mov $0x360000, %edi\n mov $500, %ecx\n repne scasb\n"
      "mov %rdi, %r9\n"
      /* backwards movsw */
      "std\n mov $0x300010, %esi\n mov $0x370010, %edi\n mov $5, %ecx\n rep movsw\n cld\n"
      "mov %rsi, %r10\n"
      /* lodsq */
      "mov $0x300000, %esi\n lodsq\n mov %rax, %r11\n"
      /* rep with rcx=0 does nothing */
      "xor %ecx, %ecx\n mov $0x380000, %edi\n rep stosb\n"
      "hlt\n")

static void test_strings(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    for (int k = 0; k < 10000; k++) {
        tram[0x300000 + k] = (uint8_t)(k * 7 + 3);
    }
    for (int k = 0; k < 100; k++) {
        tram[0x340000 + k] = tram[0x350000 + k] = (uint8_t)k;
    }
    tram[0x350000 + 57] = 0xff;
    tram[0x360000 + 321] = 0x42;
    tram[0x380000] = 0x11;
    LOAD(t, T_CODE, g_strings);
    g_assert_cmpint(tcpu_run(t, 1000), ==, EXCP_HLT);
    g_assert_cmpint(memcmp(tram + 0x300000, tram + 0x310003, 10000), ==, 0);
    for (int k = 0; k < 1000; k++) {
        g_assert_cmphex(get32(0x320000 + 4 * k), ==, 0xdeadbeef);
    }
    g_assert_cmphex(get32(0x320000 + 4000), ==, 0);
    for (int k = 0; k <= 100; k++) {
        g_assert_cmphex(tram[0x330000 + k], ==, 0xab);
    }
    g_assert_cmphex(t->env->regs[8], ==, 100 - 58);
    g_assert_cmphex(t->env->regs[9], ==, 0x360000 + 322);
    g_assert_cmphex(t->env->regs[10], ==, 0x300010 - 10);
    for (int k = 0; k < 5; k++) {
        g_assert_cmphex(tram[0x370010 - 2 * k], ==, tram[0x300010 - 2 * k]);
    }
    g_assert_cmphex(t->env->regs[11], ==, get64(0x300000));
    g_assert_cmphex(tram[0x380000], ==, 0x11);
    g_assert_false(t->env->eflags & DF_MASK);
    tcpu_free(t);
}

/* rep movs into a page that faults part-way: restartable */
GUEST(g_rep_fault, ".code64",
      "mov $0x300000, %esi\n mov $0x40000ff0, %edi\n mov $0x40, %ecx\n rep movsb\n hlt\n")

static void test_string_fault(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    setup_4k();
    map4k(0, 0x390000, 3);               /* page 1 not present */
    for (int k = 0; k < 0x40; k++) {
        tram[0x300000 + k] = k + 1;
    }
    LOAD(t, T_CODE, g_rep_fault);
    tcpu_run(t, 100);
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0E_PAGE);
    g_assert_cmphex(t->env->cr[2], ==, 0x40001000);
    /* 16 bytes copied, RCX/RSI/RDI reflect progress, RIP at the rep */
    g_assert_cmphex(t->env->regs[R_ECX], ==, 0x30);
    g_assert_cmphex(t->env->regs[R_EDI], ==, 0x40001000);
    g_assert_cmphex(tram[0x390ff0], ==, 1);
    g_assert_cmphex(tram[0x390fff], ==, 16);
    g_assert_cmphex(tcpu_pop64(t, 1), ==, T_CODE + 15);
    tcpu_free(t);
}

/* self-modifying code: the decode cache must notice */
GUEST(g_smc, ".code64",
      "movb $0x41, 1f+1(%rip)\n"
      "1: mov $0x00, %al\n"
      "dec %ecx\n jnz 0f\n hlt\n"
      "0: jmp 1b\n")

static void test_smc(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    LOAD(t, T_CODE, g_smc);
    t->env->regs[R_ECX] = 3;
    g_assert_cmpint(tcpu_run(t, 1000), ==, EXCP_HLT);
    g_assert_cmphex(t->env->regs[R_EAX] & 0xff, ==, 0x41);
    /* the store patches the very next instruction of the same block: it
     * must run patched the first time already */
    LOAD(t, T_CODE, g_smc);
    t->env->regs[R_ECX] = 1;
    t->env->regs[R_EAX] = 0;
    g_assert_cmpint(tcpu_run(t, 1000), ==, EXCP_HLT);
    g_assert_cmphex(t->env->regs[R_EAX] & 0xff, ==, 0x41);
    tcpu_free(t);
}

/* ring 3 -> call gate -> ring 0 -> lret to ring 3 (32-bit protected mode) */
GUEST(g_gate, ".code32",
      "pushl $0x2b\n pushl $0x80000\n pushl $0x2\n pushl $0x23\n"
      "pushl $(user - g_gate + 0x100000)\n iretl\n"
      "user: mov $0x2b, %ax\n mov %ax, %ds\n"
      "lcall $0x5b, $0\n"
      "mov %eax, %esi\n hlt\n"
      ".globl g_gate_target\ng_gate_target:\n"
      "mov %cs, %eax\n mov %esp, %edi\n lret\n")
extern const uint8_t g_gate_target[];

static void test_call_gate(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_prot_mode(t, false);
    uint32_t off = T_CODE + (g_gate_target - g_gate);
    uint64_t gate = (off & 0xffff) | ((uint64_t)SEL_CODE32 << 16) |
                    ((uint64_t)(0xec00) << 32) | ((uint64_t)(off >> 16) << 48);
    put64(T_GDT + 0x58, gate);
    t->env->gdt.limit = 0x5f;
    LOAD(t, T_CODE, g_gate);
    g_assert_cmpint(tcpu_run(t, 1000), ==, EXCP_HLT);
    /* back in ring 3: hlt faulted with #GP */
    g_assert_cmpint(tcpu_halted_vector(t), ==, EXCP0D_GPF);
    g_assert_cmphex(t->env->regs[R_ESI] & 0xffff, ==, SEL_CODE32);     /* CS in the gate target */
    g_assert_cmphex(t->env->regs[R_EDI], ==, T_STACK - 16);          /* on the TSS stack */
    g_assert_cmphex(get32(T_STACK - 8), ==, 0x80000);                /* old ESP */
    g_assert_cmphex(get32(T_STACK - 4), ==, SEL_UDATA);             /* old SS */
    g_assert_cmphex(get32(t->env->regs[R_ESP] + 8), ==, SEL_UCODE32); /* #GP frame CS */
    tcpu_free(t);
}

/* virtual-8086 mode: enter with IRETD, INT n goes to the protected-mode
 * handler with the vm86 segment registers pushed */
GUEST(g_vm86_enter, ".code32",
      "pushl $0x11\n pushl $0x22\n pushl $0x33\n pushl $0x44\n"   /* gs fs ds es */
      "pushl $0x0\n pushl $0x7000\n pushl $0x23002\n"               /* ss esp eflags */
      "pushl $0x1000\n pushl $0x0\n iretl\n")
GUEST(g_vm86_code, ".code16", "mov $0x1234, %ax\n mov %ds, %bx\n int $0x10\n")

static void test_vm86(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_prot_mode(t, false);
    memcpy(tram + 0x10000, g_vm86_code, g_vm86_code_end - g_vm86_code);
    LOAD(t, T_CODE, g_vm86_enter);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, 0x10);
    g_assert_cmphex(t->env->regs[R_EAX] & 0xffff, ==, 0x1234);
    g_assert_cmphex(t->env->regs[R_EBX] & 0xffff, ==, 0x33);
    uint32_t sp = t->env->regs[R_ESP];
    g_assert_cmphex(get32(sp), ==, 7);                  /* IP after int */
    g_assert_cmphex(get32(sp + 4), ==, 0x1000);         /* CS */
    g_assert_true(get32(sp + 8) & VM_MASK);
    g_assert_cmphex(get32(sp + 12), ==, 0x7000);        /* ESP */
    g_assert_cmphex(get32(sp + 16), ==, 0);             /* SS */
    g_assert_cmphex(get32(sp + 20), ==, 0x44);          /* ES */
    g_assert_cmphex(get32(sp + 24), ==, 0x33);          /* DS */
    g_assert_cmphex(get32(sp + 28), ==, 0x22);          /* FS */
    g_assert_cmphex(get32(sp + 32), ==, 0x11);          /* GS */
    g_assert_cmphex(sp, ==, T_STACK - 36);
    g_assert_false(t->env->eflags & VM_MASK);
    g_assert_cmpint(t->env->segs[R_DS].selector, ==, 0);
    tcpu_free(t);
}

/* SeaBIOS-style transitions: 32-bit flat -> 16-bit protected -> real mode
 * (keeping 4 GB "big real" data limits) -> back to 32-bit */
GUEST(g_pm_rm, ".code32",
      "ljmpl $0x50, $(p16 - g_pm_rm + 0x8000)\n"
      ".code16\n"
      "p16: mov %cr0, %eax\n and $0xfffffffe, %eax\n mov %eax, %cr0\n"
      "ljmpw $0x0, $(rm - g_pm_rm + 0x8000)\n"
      "rm: xor %ax, %ax\n mov %ax, %ss\n mov $0x7000, %sp\n"
      /* big real: DS still has a 4 GB limit from protected mode */
      "movl $0x200000, %esi\n addr32 movl (%esi), %ebx\n"
      "pushw $0x5678\n popw %cx\n"
      "mov %cr0, %eax\n or $1, %eax\n mov %eax, %cr0\n"
      "ljmpl $0x18, $(back - g_pm_rm + 0x8000)\n"
      ".code32\n"
      "back: mov $0x10, %ax\n mov %ax, %ss\n mov $0x90000, %esp\n hlt\n")

static void test_pm_rm(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_prot_mode(t, false);
    put32(0x200000, 0xfeedf00d);
    LOAD(t, 0x8000, g_pm_rm);
    g_assert_cmpint(tcpu_run(t, 1000), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, -1);
    g_assert_cmphex(t->env->regs[R_EBX], ==, 0xfeedf00d);
    g_assert_cmphex(t->env->regs[R_ECX] & 0xffff, ==, 0x5678);
    g_assert_true(t->env->cr[0] & CR0_PE);
    g_assert_cmpint(t->env->segs[R_CS].selector, ==, SEL_CODE32);
    tcpu_free(t);
}

/* hardware task switch: INT n through a task gate, IRET back via NT */
GUEST(g_task_main, ".code32", "mov $0x5555, %eax\n int $0x40\n hlt\n")
GUEST(g_task_handler, ".code32", "mov $0x99, %ebx\n iret\n")

static void test_task_switch(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_prot_mode(t, false);
    /* TSS1 (current) busy; TSS2 at 0x6000, selector 0x38 */
    put64(T_GDT + 0x40, get64(T_GDT + 0x40) | (2ull << 40));
    uint64_t tss2 = (0x67 & 0xffff) | ((uint64_t)0x6000 << 16) | (0x89ull << 40);
    put64(T_GDT + 0x38, tss2);
    memset(tram + 0x6000, 0, 0x68);
    put32(0x6000 + 0x20, 0x7000);            /* EIP */
    put32(0x6000 + 0x24, 0x2);               /* EFLAGS */
    put32(0x6000 + 0x28, 0x1111);            /* EAX */
    put32(0x6000 + 0x38, 0x6800);            /* ESP */
    put32(0x6000 + 0x48, SEL_DATA);          /* ES */
    put32(0x6000 + 0x4c, SEL_CODE32);        /* CS */
    put32(0x6000 + 0x50, SEL_DATA);          /* SS */
    put32(0x6000 + 0x54, SEL_DATA);          /* DS */
    memcpy(tram + 0x7000, g_task_handler, g_task_handler_end - g_task_handler);
    /* IDT 0x40: task gate, DPL 3 */
    put64(T_IDT + 8 * 0x40, ((uint64_t)0x38 << 16) | (0xe500ull << 32));
    LOAD(t, T_CODE, g_task_main);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmpint(tcpu_halted_vector(t), ==, -1);
    g_assert_cmphex(t->env->rip, ==, T_CODE + 8);
    g_assert_cmphex(t->env->regs[R_EAX], ==, 0x5555);
    g_assert_cmphex(get32(0x6000 + 0x34), ==, 0x99);      /* task 2's EBX */
    g_assert_cmphex(get32(0x6000), ==, SEL_TSS);           /* back link */
    g_assert_cmpint(t->env->tr.selector, ==, SEL_TSS);
    g_assert_true(t->env->cr[0] & CR0_TS);
    g_assert_false(t->env->eflags & NT_MASK);
    /* task 2 is available again, task 1 still busy */
    g_assert_cmphex((get64(T_GDT + 0x38) >> 40) & 0xf, ==, 9);
    g_assert_cmphex((get64(T_GDT + 0x40) >> 40) & 0xf, ==, 11);
    tcpu_free(t);
}

/* INIT then SIPI starts the CPU in real mode at vector * 4096 */
GUEST(g_sipi, ".code16", "mov $0x41, %al\n out %al, $0xe9\n hlt\n")

static void test_init_sipi(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    LOAD(t, T_CODE, g_sti);
    atomic_store(&t->cpu->interrupt_request, CPU_INTERRUPT_INIT);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_true(t->cpu->halted);
    memcpy(tram + 0x8000, g_sipi, g_sipi_end - g_sipi);
    t->env->sipi_vector = 0x08;
    atomic_store(&t->cpu->interrupt_request, CPU_INTERRUPT_SIPI);
    g_assert_cmpint(interp_exec(t->it, 100), ==, EXCP_HLT);
    g_assert_cmpstr(port_log->str, ==, "A");
    g_assert_cmphex(t->env->segs[R_CS].base, ==, 0x8000);

    /* INIT and SIPI pending together: the vector survives the reset */
    tcpu_long_mode(t);
    LOAD(t, T_CODE, g_sti);
    t->env->sipi_vector = 0x08;
    atomic_store(&t->cpu->interrupt_request, CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI);
    g_assert_cmpint(tcpu_run(t, 100), ==, EXCP_HLT);
    g_assert_cmpstr(port_log->str, ==, "AA");
    tcpu_free(t);
}

/* throughput: a memory + ALU loop; reports MIPS (not asserted) */
GUEST(g_loop, ".code64",
      "mov $2000000, %ecx\n mov $0x300000, %rbx\n xor %eax, %eax\n"
      "1: add (%rbx), %rax\n mov %rax, 8(%rbx)\n inc %rdx\n dec %ecx\n jnz 1b\n hlt\n")

static void test_perf(void)
{
    test_machine_init();
    TestCPU *t = tcpu_new();
    tcpu_long_mode(t);
    LOAD(t, T_CODE, g_loop);
    put64(0x300000, 3);
    gint64 t0 = g_get_monotonic_time();
    int rc;
    uint64_t n0 = interp_icount(t->it);
    while ((rc = tcpu_run(t, 100000)) == EXCP_INTERRUPT) {
    }
    gint64 t1 = g_get_monotonic_time();
    uint64_t n = interp_icount(t->it) - n0;
    g_assert_cmpint(rc, ==, EXCP_HLT);
    g_assert_cmphex(t->env->regs[R_EAX], ==, 6000000);
    g_test_message("perf: %llu instructions in %lld us: %.1f MIPS", (unsigned long long)n,
                   (long long)(t1 - t0), (double)n / (double)(t1 - t0 + 1));
    tcpu_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/interp/paging/long", test_paging_long);
    g_test_add_func("/interp/paging/user", test_user_pf);
    g_test_add_func("/interp/paging/32-pae", test_paging_32);
    g_test_add_func("/interp/excp/real", test_real_mode_int);
    g_test_add_func("/interp/excp/prot", test_prot_mode_excp);
    g_test_add_func("/interp/excp/double-fault", test_double_fault);
    g_test_add_func("/interp/excp/interrupts", test_interrupts);
    g_test_add_func("/interp/mode/switch", test_mode_switch);
    g_test_add_func("/interp/mode/syscall", test_syscall);
    g_test_add_func("/interp/string/rep", test_strings);
    g_test_add_func("/interp/string/fault", test_string_fault);
    g_test_add_func("/interp/decode/smc", test_smc);
    g_test_add_func("/interp/mode/call-gate", test_call_gate);
    g_test_add_func("/interp/excp/init-sipi", test_init_sipi);
    g_test_add_func("/interp/mode/vm86", test_vm86);
    g_test_add_func("/interp/mode/task-switch", test_task_switch);
    g_test_add_func("/interp/mode/prot-real", test_pm_rm);
    g_test_add_func("/interp/perf/loop", test_perf);
    return g_test_run();
}
