/*
 * Interpreter main loop: basic blocks (block.c) run by threaded dispatch,
 * one instruction at a time through the decode cache where blocks cannot
 * be used, instruction budget and exit requests, the interrupt window (IF, STI/MOV SS shadow,
 * NMI, INIT/SIPI), HLT, single-step traps, and the longjmp landing pad
 * that delivers exceptions, escalating to #DF and triple fault.
 * Spec: Intel SDM vol. 3 §6.15 (double fault), §6.8 (interrupt shadow).
 * Locking: runs on the vCPU thread without the BQL; reads exit_request and
 * interrupt_request atomically.
 */
#include <stdio.h>
#include <stdlib.h>
#include <glib.h>
#include "interp.h"
#include "interp-api.h"
#include "flags.h"
#include "system/memory.h"

#define ARITH_MASK (CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O)

uint64_t interp_get_eflags(Interp *s)
{
    return (s->env->eflags & ~(uint64_t)ARITH_MASK) | lf_get(s) | 2;
}

void interp_set_eflags(Interp *s, uint64_t val, uint64_t mask)
{
    CPUX86State *env = s->env;
    uint64_t old = env->eflags;
    env->eflags = ((old & ~mask) | (val & mask)) | 2;
    if ((old ^ env->eflags) & ~(uint64_t)ARITH_MASK) {
        s->brk = true;     /* IF, TF, VM, AC...: re-check at a block boundary */
    }
    if (mask & ARITH_MASK) {
        uint32_t fl = (lf_get(s) & ~(uint32_t)mask) | ((uint32_t)val & (uint32_t)mask);
        lf_set(s, fl & ARITH_MASK);
    }
    if ((old ^ env->eflags) & VM_MASK) {
        interp_update_mode(s);
    }
    if (((old ^ env->eflags) & AC_MASK) && (env->cr[4] & CR4_SMAP)) {
        tlb_flush(s, true);    /* SMAP permissions depend on AC */
    }
}

void interp_exit_slice(Interp *s, int code)
{
    s->exit_code = code;
    s->brk = true;
}

void raise_exception(Interp *s, int vec, uint32_t err)
{
    s->exc_vec = vec;
    s->exc_err = err;
    s->exc_has_err = excp_has_error_code(vec);
    s->env->rip = s->start_rip;
    s->env->regs[R_ESP] = s->start_rsp;
    siglongjmp(s->jb, 1);
}

void raise_exception_noerr(Interp *s, int vec)
{
    raise_exception(s, vec, 0);
}

void jump_to(Interp *s, uint64_t ip, int opsize)
{
    CPUX86State *env = s->env;
    if (s->code64 && opsize == 8) {
        if ((uint64_t)((int64_t)(ip << 16) >> 16) != ip) {
            RAISE_GP(s, 0);
        }
    } else {
        ip &= opsize == 2 ? 0xffff : 0xffffffffull;
        if (!s->code64 && ip > env->segs[R_CS].limit) {
            RAISE_GP(s, 0);
        }
    }
    env->rip = ip;
}

static uint64_t host_ns(void)
{
    return ihook_clock_ns();
}

int64_t interp_tsc_to_ns(Interp *s, uint64_t tsc)
{
    return (int64_t)(tsc - s->tsc_offset);
}

uint64_t guest_tsc(Interp *s)
{
    return host_ns() + s->tsc_offset;
}

/* Load the TSC with val (power-on/reset state, or a write to env->tsc from
 * outside). vCPUs that are loaded with the same value within a second of
 * each other (a machine reset: each vCPU's first slice starts at a different
 * moment) share one base, so their TSCs agree exactly, as on hardware where
 * RESET clears every TSC at once; Linux measures the warp between CPUs and
 * drops the TSC clocksource if they differ. Only the vCPU thread(s) get
 * here; the lock keeps the pair consistent if there are several. */
static void tsc_load(Interp *s, uint64_t val)
{
    static GMutex lock;
    static uint64_t last_val = ~0ull;
    static uint64_t last_ns;
    uint64_t now = host_ns();
    g_mutex_lock(&lock);
    if (val != last_val || now - last_ns > 1000000000ull) {
        last_val = val;
        last_ns = now;
    }
    s->tsc_offset = val - last_ns;
    g_mutex_unlock(&lock);
}

static bool contributory(int v)
{
    return v == EXCP00_DIVZ || (v >= EXCP0A_TSS && v <= EXCP0D_GPF);
}

static int trace_level = -1;

/* KEMU_INTERP_TRACE=1 prints every exception (debug aid). */
static bool tracing(void)
{
    if (trace_level < 0) {
        const char *e = getenv("KEMU_INTERP_TRACE");
        trace_level = e ? atoi(e) : 0;
    }
    return trace_level > 0;
}

/* Landing pad work: deliver s->exc_vec. Returns true on triple fault. */
static bool handle_exception(Interp *s)
{
    int vec = s->exc_vec;
    uint32_t err = s->exc_err;
    bool has_err = s->exc_has_err;
    s->exc_vec = -1;
    s->code_epoch++;
    if (unlikely(tracing())) {
        fprintf(stderr, "interp: exception %d err %#x at %04x:%#llx cpl %d (delivering %d)\n",
                vec, err, s->env->segs[R_CS].selector, (unsigned long long)s->env->rip,
                s->cpl, s->delivering);
    }
    if (s->delivering >= 0) {
        int first = s->delivering;
        if (first == EXCP08_DBLE) {
            return true;
        }
        bool c1 = contributory(first), c2 = contributory(vec);
        if ((c1 && c2) || (first == EXCP0E_PAGE && (c2 || vec == EXCP0E_PAGE))) {
            vec = EXCP08_DBLE;
            err = 0;
            has_err = true;
        }
    }
    if (!s->pe) {
        has_err = false;
    }
    s->delivering = vec;
    do_interrupt(s, vec, false, has_err, err, s->env->rip);
    s->delivering = -1;
    return false;
}

static void deliver_external(Interp *s, int vec)
{
    CPUX86State *env = s->env;
    s->start_rip = env->rip;
    s->start_rsp = env->regs[R_ESP];
    s->delivering = -2;
    s->code_epoch++;
    do_interrupt(s, vec, false, false, 0, env->rip);
    s->delivering = -1;
    env->halted = false;
    s->cpu->halted = false;
}

/* INIT and SIPI (from the userspace LAPIC). INIT resets the CPU (APs come
 * back halted); SIPI starts a halted CPU at vector * 4096, as the KVM path
 * does. Returns true if the CPU is halted afterwards. */
static bool init_sipi(Interp *s, unsigned ir)
{
    CPUState *cpu = s->cpu;
    CPUX86State *env = s->env;
    if (ir & CPU_INTERRUPT_INIT) {
        /* the reset clears env, but a SIPI may already be pending */
        uint8_t vector = env->sipi_vector;
        atomic_fetch_and(&cpu->interrupt_request, ~CPU_INTERRUPT_INIT);
        ihook_init_reset(cpu);
        env->sipi_vector = vector;
        /* INIT (unlike RESET) leaves the TSC running: keep tsc_offset */
        env->tsc = guest_tsc(s);
        s->tsc_synced = env->tsc;
        lf_set(s, env->eflags & ARITH_MASK);
        tlb_flush(s, true);
        interp_update_mode(s);
        env->halted = cpu->halted;
    }
    if (ir & CPU_INTERRUPT_SIPI) {
        atomic_fetch_and(&cpu->interrupt_request, ~CPU_INTERRUPT_SIPI);
        if (cpu->halted || env->halted) {
            env->segs[R_CS].selector = env->sipi_vector << 8;
            env->segs[R_CS].base = (uint64_t)env->sipi_vector << 12;
            env->rip = 0;
            env->halted = false;
            cpu->halted = false;
            interp_update_mode(s);
        }
    }
    return cpu->halted || env->halted;
}

/* Check pending events at an instruction boundary. Returns true if the CPU
 * cannot continue (halted by INIT). */
static bool check_interrupts(Interp *s)
{
    CPUState *cpu = s->cpu;
    CPUX86State *env = s->env;
    unsigned ir = atomic_load_explicit(&cpu->interrupt_request, memory_order_relaxed);
    if (ir & (CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI)) {
        if (init_sipi(s, ir)) {
            return true;
        }
    }
    if (env->interrupt_shadow) {
        return false;
    }
    if ((ir & CPU_INTERRUPT_NMI) && !env->nmi_masked) {
        atomic_fetch_and(&cpu->interrupt_request, ~CPU_INTERRUPT_NMI);
        env->nmi_masked = true;
        deliver_external(s, EXCP02_NMI);
        return false;
    }
    if ((ir & CPU_INTERRUPT_HARD) && (env->eflags & IF_MASK)) {
        atomic_fetch_and(&cpu->interrupt_request, ~CPU_INTERRUPT_HARD);
        int v = ihook_get_interrupt(cpu);
        if (ihook_has_interrupt(cpu)) {
            atomic_fetch_or(&cpu->interrupt_request, CPU_INTERRUPT_HARD);
        }
        if (v >= 0) {
            deliver_external(s, v);
        }
    }
    return false;
}

/* One instruction through the decode cache (validated per instruction):
 * single-stepping (TF), code that is not in RAM, an instruction that
 * crosses a page or the CS limit. */
static void step_one(Interp *s, DCEntry **hint)
{
    CPUX86State *env = s->env;
    s->start_rip = env->rip;
    s->start_rsp = env->regs[R_ESP];
    const Insn *i = decode_fetch(s, hint);
    uint64_t nrip = env->rip + i->len;
    if (!s->code64) {
        nrip &= 0xffffffffull;
    }
    s->next_rip = nrip;
    s->blk_end = nrip;
    env->rip = nrip;
    s->inhibit_irq = false;
    s->brk = true;   /* just this instruction (see dispatch_next) */
    bool tf = env->eflags & TF_MASK;
    i->h(s, i);
    s->icount++;
    env->interrupt_shadow = s->inhibit_irq;
    if (unlikely(tf)) {
        env->dr[6] |= 1u << 14;
        s->start_rip = env->rip;
        s->start_rsp = env->regs[R_ESP];
        s->delivering = EXCP01_DB;
        do_interrupt(s, EXCP01_DB, false, false, 0, env->rip);
        s->delivering = -1;
    }
}

/* Run the block's instructions until its end, a taken branch or anything
 * that sets s->brk: the first handler's threaded entry runs the rest (see
 * dispatch_next). Each instruction still records its RIP/RSP for precise
 * exceptions and sees env->rip = s->next_rip = its fall-through address. */
static void run_block(Interp *s, const Block *b, uint64_t rip)
{
    CPUX86State *env = s->env;
    const Insn *i = b->insn;
    uint64_t nrip = rip + i->len;
    s->inhibit_irq = false;
    s->brk = false;
    s->start_rip = rip;
    s->start_rsp = env->regs[R_ESP];
    s->next_rip = nrip;
    s->blk_end = rip + b->nbytes;
    env->rip = s->blk_end;
    i->h(s, i);
    s->icount += s->last_insn - b->insn + 1;
    env->interrupt_shadow = s->inhibit_irq;
}

static int run(Interp *s, uint64_t budget)
{
    CPUX86State *env = s->env;
    CPUState *cpu = s->cpu;
    DCEntry *hint = s->dc;
    for (;;) {
        if (unlikely(s->icount >= budget)) {
            return EXCP_INTERRUPT;
        }
        if (unlikely(atomic_load_explicit(&cpu->exit_request, memory_order_relaxed))) {
            return EXCP_INTERRUPT;
        }
        if (unlikely(atomic_load_explicit(&cpu->interrupt_request, memory_order_relaxed))) {
            if (check_interrupts(s)) {
                return EXCP_HLT;
            }
        }
        uint64_t rip = env->rip;
        const Block *b = NULL;
        /* the instruction in an STI/MOV SS shadow runs alone, so a pending
         * interrupt is taken right after it */
        if (likely(!(env->eflags & TF_MASK) && !env->interrupt_shadow && !s->noblock)) {
            uint64_t lip = s->code64 ? rip : (env->segs[R_CS].base + rip) & s->la_mask;
            s->start_rip = rip;
            s->start_rsp = env->regs[R_ESP];
            b = block_lookup(s, lip);
            if (b && !s->code64 && rip + b->nbytes - 1 > env->segs[R_CS].limit) {
                b = NULL;
            }
        }
        s->prev_blk = (Block *)b;
        if (likely(b != NULL)) {
            run_block(s, b, rip);
        } else {
            step_one(s, &hint);
        }
        if (unlikely(s->exit_code)) {
            int c = s->exit_code;
            s->exit_code = 0;
            return c;
        }
    }
}

int interp_exec(Interp *s, uint64_t budget_in)
{
    volatile uint64_t budget = budget_in;
    CPUX86State *env = s->env;
    CPUState *cpu = s->cpu;
    int ret;

    lf_set(s, env->eflags & ARITH_MASK);
    interp_update_mode(s);
    if (env->tsc != s->tsc_synced) {
        tsc_load(s, env->tsc);
    }
    if ((as_memory.view && as_memory.view->gen != s->fv_gen) ||
        env->a20_mask != s->a20_cached) {
        s->fv_gen = as_memory.view ? as_memory.view->gen : 0;
        s->a20_cached = env->a20_mask;
        tlb_flush(s, true);
    }
    s->icount_start = s->icount;
    s->code_epoch++;   /* other vCPUs and devices ran since the last slice */
    s->exc_vec = -1;
    s->delivering = -1;
    s->exit_code = 0;

    unsigned ir = atomic_load(&cpu->interrupt_request);
    if (ir & (CPU_INTERRUPT_INIT | CPU_INTERRUPT_SIPI)) {
        init_sipi(s, ir);
        ir = atomic_load(&cpu->interrupt_request);
    }
    if (env->halted || cpu->halted) {
        bool wake = (ir & CPU_INTERRUPT_NMI) ||
                    ((ir & CPU_INTERRUPT_HARD) && (env->eflags & IF_MASK));
        if (!wake) {
            env->halted = cpu->halted = true;
            ret = EXCP_HLT;
            goto out;
        }
        env->halted = false;
        cpu->halted = false;
    }

    budget = budget_in + s->icount;
    if (sigsetjmp(s->jb, 0) != 0) {
        if (handle_exception(s)) {
            s->triple_fault = true;
            s->delivering = -1;
            ret = EXCP_RESET;
            goto out;
        }
    }
    ret = run(s, budget);
out:
    env->eflags = interp_get_eflags(s);
    env->tsc = guest_tsc(s);
    s->tsc_synced = env->tsc;
    return ret;
}

Interp *interp_new(CPUState *cpu)
{
    Interp *s = g_new0(Interp, 1);
    decode_init();
    s->cpu = cpu;
    s->env = &cpu->env;
    s->dc = g_aligned_alloc0(DC_SIZE, sizeof(DCEntry), 64);
    block_init(s);
    const char *nb = getenv("KEMU_INTERP_BLOCKS");
    s->noblock = nb && atoi(nb) == 0;
    for (unsigned k = 0; k < DC_SIZE; k++) {
        s->dc[k].lip = ~0ull;
    }
    tlb_flush(s, true);
    s->exc_vec = -1;
    s->delivering = -1;
    s->tsc_synced = ~0ull;
    interp_update_mode(s);
    return s;
}

void interp_free(Interp *s)
{
    if (s) {
        g_aligned_free(s->dc);
        block_free(s);
        g_free(s);
    }
}

void interp_flush(Interp *s)
{
    tlb_flush(s, true);
    block_flush(s);
    for (unsigned k = 0; k < DC_SIZE; k++) {
        s->dc[k].lip = ~0ull;
    }
    interp_update_mode(s);
}

void interp_set_yield_on_pause(Interp *s, bool on)
{
    s->yield_on_pause = on;
}

int64_t interp_translate(Interp *s, uint64_t la)
{
    return mmu_debug_translate(s, la);
}

uint64_t interp_icount(Interp *s)
{
    return s->icount;
}
