/*
 * Local APIC (xAPIC mode) for the software CPU: one per vCPU, registers at
 * 0xfee00000 resolved through the thread-local current_cpu. ID/version
 * (0x14, 6 LVTs, as QEMU), TPR/PPR, EOI with the IOAPIC broadcast,
 * LDR/DFR, SVR, ISR/TMR/IRR, ICR (fixed, lowest priority, SMI, NMI, INIT,
 * SIPI; physical/logical destinations; shorthands), LVT timer (one-shot,
 * periodic, TSC-deadline) counting at 1 GHz / divisor, LINT0 ExtINT from
 * the PIC, LINT1, error, and MSI writes into the same 1 MiB window.
 * Spec: Intel SDM vol. 3A ch. 10 (APIC). Locking: BQL.
 */
#include <string.h>
#include "hw/intc.h"
#include "intc-internal.h"
#include "system/cpus.h"
#include "system/main-loop.h"
#include "system/memory.h"
#include "system/timer.h"

#define APIC_VERSION     0x14
#define APIC_LVT_NB      6
#define LVT_TIMER        0
#define LVT_THERMAL      1
#define LVT_PERF         2
#define LVT_LINT0        3
#define LVT_LINT1        4
#define LVT_ERROR        5

#define LVT_MASKED       (1u << 16)
#define LVT_LEVEL_TRIG   (1u << 15)
#define LVT_REMOTE_IRR   (1u << 14)
#define LVT_POLARITY     (1u << 13)
#define LVT_DELIV_STS    (1u << 12)
#define LVT_TIMER_SHIFT  17
#define LVT_TIMER_MASK   (3u << LVT_TIMER_SHIFT)
#define TIMER_ONESHOT    0
#define TIMER_PERIODIC   1
#define TIMER_TSCDEADLINE 2

#define SV_ENABLE        (1u << 8)
#define SV_DIRECTED_EOI  (1u << 12)

#define DM_FIXED   0
#define DM_LOWPRI  1
#define DM_SMI     2
#define DM_NMI     4
#define DM_INIT    5
#define DM_SIPI    6
#define DM_EXTINT  7

#define ESR_ILLEGAL_VECTOR (1u << 6)

#define MAX_APICS 255

typedef struct APICState {
    CPUState *cpu;
    uint64_t apicbase;
    uint8_t id;
    uint8_t arb_id;
    uint8_t tpr;
    uint32_t spurious_vec;
    uint8_t log_dest;
    uint8_t dest_mode;          /* DFR model: 0xf flat, 0x0 cluster */
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t lvt[APIC_LVT_NB];
    uint32_t esr;
    uint32_t icr[2];
    uint32_t divide_conf;
    int count_shift;
    uint32_t initial_count;
    int64_t initial_count_load_time;
    uint64_t tsc_deadline;
    bool wait_for_sipi;
    bool lint0_level;           /* PIC INTR as seen on LINT0 */
    int64_t next_time;          /* when the armed timer fires */
    Timer *timer;
} APICState;

static APICState *local_apics[MAX_APICS + 1];
static MemoryRegion apic_io;
static bool apic_io_mapped;

static int64_t default_tsc_to_ns(CPUState *cpu, uint64_t tsc)
{
    (void)cpu;
    return (int64_t)tsc;
}

int64_t (*apic_tsc_to_ns)(CPUState *cpu, uint64_t tsc) = default_tsc_to_ns;

/* ---------------- bitmaps ---------------- */

static void set_bit256(uint32_t *tab, int idx)
{
    tab[idx >> 5] |= 1u << (idx & 31);
}

static void clear_bit256(uint32_t *tab, int idx)
{
    tab[idx >> 5] &= ~(1u << (idx & 31));
}

static bool test_bit256(const uint32_t *tab, int idx)
{
    return tab[idx >> 5] & (1u << (idx & 31));
}

/* Highest set bit, or -1. */
static int fls_bit256(const uint32_t *tab)
{
    for (int i = 7; i >= 0; i--) {
        if (tab[i]) {
            return i * 32 + 31 - __builtin_clz(tab[i]);
        }
    }
    return -1;
}

/* ---------------- priorities and the INTR line ---------------- */

static bool apic_hw_enabled(APICState *s)
{
    return s->apicbase & MSR_IA32_APICBASE_ENABLE;
}

static bool apic_sw_enabled(APICState *s)
{
    return apic_hw_enabled(s) && (s->spurious_vec & SV_ENABLE);
}

static int apic_get_ppr(APICState *s)
{
    int isrv = fls_bit256(s->isr);
    int isr_class = isrv < 0 ? 0 : isrv >> 4;
    int tpr_class = s->tpr >> 4;
    return tpr_class >= isr_class ? s->tpr : isr_class << 4;
}

/* Highest IRR vector deliverable above the PPR, or -1. */
static int apic_irq_pending(APICState *s)
{
    int irrv = fls_bit256(s->irr);
    if (irrv < 0) {
        return -1;
    }
    int ppr = apic_get_ppr(s);
    if (ppr && (irrv & 0xf0) <= (ppr & 0xf0)) {
        return -1;
    }
    return irrv;
}

/* The PIC's INTR reaches this CPU as an interrupt request (ExtINT). */
static bool apic_extint_pending(APICState *s)
{
    if (!s->lint0_level) {
        return false;
    }
    if (!apic_hw_enabled(s)) {
        return s->cpu->index == 0;     /* APIC off: INTR straight to the BSP */
    }
    uint32_t lvt = s->lvt[LVT_LINT0];
    return !(lvt & LVT_MASKED) && ((lvt >> 8) & 7) == DM_EXTINT;
}

/* Recompute CPU_INTERRUPT_HARD for this CPU. */
static bool apic_update_irq(APICState *s)
{
    bool hard = (apic_sw_enabled(s) && apic_irq_pending(s) >= 0) || apic_extint_pending(s);
    bool was = atomic_load(&s->cpu->interrupt_request) & CPU_INTERRUPT_HARD;
    if (hard && !was) {
        cpu_interrupt(s->cpu, CPU_INTERRUPT_HARD);
    } else if (!hard && was) {
        cpu_reset_interrupt(s->cpu, CPU_INTERRUPT_HARD);
    }
    return hard;
}

static void apic_set_irq(APICState *s, int vector, int trigger_mode)
{
    if (vector < 16) {
        s->esr |= ESR_ILLEGAL_VECTOR;
        return;
    }
    set_bit256(s->irr, vector);
    if (trigger_mode) {
        set_bit256(s->tmr, vector);
    } else {
        clear_bit256(s->tmr, vector);
    }
    apic_update_irq(s);
}

/* Deliver one local vector table entry (timer, LINT0/1, error...). */
static void apic_local_deliver(APICState *s, int n)
{
    uint32_t lvt = s->lvt[n];
    if (lvt & LVT_MASKED) {
        return;
    }
    switch ((lvt >> 8) & 7) {
    case DM_SMI:
        cpu_interrupt(s->cpu, CPU_INTERRUPT_SMI);
        break;
    case DM_NMI:
        cpu_interrupt(s->cpu, CPU_INTERRUPT_NMI);
        break;
    case DM_EXTINT:
        apic_update_irq(s);
        break;
    case DM_FIXED: {
        int trig = 0;
        /* Only LINT0/LINT1 may be level-triggered. */
        if ((n == LVT_LINT0 || n == LVT_LINT1) && (lvt & LVT_LEVEL_TRIG)) {
            trig = 1;
        }
        apic_set_irq(s, lvt & 0xff, trig);
        break;
    }
    default:
        break;
    }
}

void apic_pic_intr_changed(int level)
{
    for (int i = 0; i < n_cpus; i++) {
        APICState *s = cpus[i]->apic;
        if (!s) {
            if (i == 0) {
                if (level) {
                    cpu_interrupt(cpus[0], CPU_INTERRUPT_HARD);
                } else {
                    cpu_reset_interrupt(cpus[0], CPU_INTERRUPT_HARD);
                }
            }
            continue;
        }
        bool rising = level && !s->lint0_level;
        s->lint0_level = level;
        uint32_t lvt = s->lvt[LVT_LINT0];
        if (rising && apic_hw_enabled(s) && ((lvt >> 8) & 7) != DM_EXTINT) {
            apic_local_deliver(s, LVT_LINT0);
        } else if (!level && ((lvt >> 8) & 7) == DM_FIXED && (lvt & LVT_LEVEL_TRIG)) {
            clear_bit256(s->irr, lvt & 0xff);
        }
        apic_update_irq(s);
    }
}

/* ---------------- the APIC bus ---------------- */

typedef struct DestMask {
    uint32_t w[(MAX_APICS + 32) / 32];
} DestMask;

static void dest_mask_for(DestMask *m, uint8_t dest, uint8_t dest_mode)
{
    memset(m, 0, sizeof(*m));
    for (int i = 0; i <= MAX_APICS; i++) {
        APICState *s = local_apics[i];
        if (!s) {
            continue;
        }
        bool hit;
        if (dest_mode == 0) {
            hit = dest == 0xff || s->id == dest;
        } else if (s->dest_mode == 0xf) {
            hit = dest & s->log_dest;
        } else {
            hit = (dest & 0xf0) == (s->log_dest & 0xf0) && (dest & s->log_dest & 0x0f);
        }
        if (hit) {
            m->w[i >> 5] |= 1u << (i & 31);
        }
    }
}

static bool dest_mask_test(const DestMask *m, int i)
{
    return m->w[i >> 5] & (1u << (i & 31));
}

static void apic_init_reset_locked(CPUState *cpu);

static void apic_startup(APICState *s, int vector)
{
    if (!s->wait_for_sipi) {
        return;
    }
    /*
     * Stay receptive until the CPU shows it runs (it touches its LAPIC):
     * the CPU side only takes a SIPI while halted in wait-for-SIPI, and a
     * request raced by its INIT processing would otherwise be lost with
     * the second SIPI of INIT-SIPI-SIPI ignored.
     */
    s->cpu->env.sipi_vector = vector;
    cpu_interrupt(s->cpu, CPU_INTERRUPT_SIPI);
}

static void apic_bus_deliver(const DestMask *m, uint8_t delivery_mode,
                             uint8_t vector, uint8_t trigger_mode)
{
    if (delivery_mode == DM_LOWPRI) {
        /* Like QEMU: no arbitration, the first APIC in the set. */
        for (int i = 0; i <= MAX_APICS; i++) {
            if (dest_mask_test(m, i) && local_apics[i]) {
                apic_set_irq(local_apics[i], vector, trigger_mode);
                return;
            }
        }
        return;
    }
    for (int i = 0; i <= MAX_APICS; i++) {
        APICState *s = local_apics[i];
        if (!s || !dest_mask_test(m, i)) {
            continue;
        }
        switch (delivery_mode) {
        case DM_FIXED:
        case DM_EXTINT:          /* from an IOAPIC ExtINT entry: the PIC's vector */
            apic_set_irq(s, vector, trigger_mode);
            break;
        case DM_SMI:
            cpu_interrupt(s->cpu, CPU_INTERRUPT_SMI);
            break;
        case DM_NMI:
            cpu_interrupt(s->cpu, CPU_INTERRUPT_NMI);
            break;
        case DM_INIT:
            /* The LAPIC takes its INIT state at once (it then waits for
             * SIPI if it is an AP); the CPU resets itself on the request. */
            apic_init_reset_locked(s->cpu);
            cpu_interrupt(s->cpu, CPU_INTERRUPT_INIT);
            break;
        case DM_SIPI:
            apic_startup(s, vector);
            break;
        default:
            break;
        }
    }
}

void apic_deliver_irq(uint8_t dest, uint8_t dest_mode, uint8_t delivery_mode,
                      uint8_t vector, uint8_t trigger_mode)
{
    DestMask m;
    dest_mask_for(&m, dest, dest_mode);
    apic_bus_deliver(&m, delivery_mode, vector, trigger_mode);
}

void apic_deliver_msi(uint64_t addr, uint32_t data)
{
    uint8_t dest = (addr >> 12) & 0xff;
    uint8_t dest_mode = (addr >> 2) & 1;
    uint8_t vector = data & 0xff;
    uint8_t delivery = (data >> 8) & 7;
    uint8_t trigger = (data >> 15) & 1;
    apic_deliver_irq(dest, dest_mode, delivery, vector, trigger);
}

/* ICR write: interprocessor interrupt with destination shorthand. */
static void apic_send_ipi(APICState *s)
{
    uint32_t lo = s->icr[0];
    uint8_t dest = s->icr[1] >> 24;
    uint8_t dest_mode = (lo >> 11) & 1;
    uint8_t delivery = (lo >> 8) & 7;
    uint8_t vector = lo & 0xff;
    uint8_t trigger = (lo >> 15) & 1;
    int shorthand = (lo >> 18) & 3;
    DestMask m;

    switch (shorthand) {
    case 0:
        dest_mask_for(&m, dest, dest_mode);
        break;
    case 1:
        memset(&m, 0, sizeof(m));
        m.w[s->id >> 5] |= 1u << (s->id & 31);
        break;
    default:
        memset(&m, 0, sizeof(m));
        for (int i = 0; i <= MAX_APICS; i++) {
            if (local_apics[i] && (shorthand == 2 || i != s->id)) {
                m.w[i >> 5] |= 1u << (i & 31);
            }
        }
        break;
    }
    if (delivery == DM_INIT && !(lo & (1u << 14)) && trigger) {
        /* INIT level de-assert: resynchronise arbitration IDs only. */
        for (int i = 0; i <= MAX_APICS; i++) {
            if (local_apics[i] && dest_mask_test(&m, i)) {
                local_apics[i]->arb_id = local_apics[i]->id;
            }
        }
        return;
    }
    apic_bus_deliver(&m, delivery, vector, trigger);
}

static void apic_eoi(APICState *s)
{
    int isrv = fls_bit256(s->isr);
    if (isrv < 0) {
        return;
    }
    clear_bit256(s->isr, isrv);
    if (test_bit256(s->tmr, isrv) && !(s->spurious_vec & SV_DIRECTED_EOI)) {
        ioapic_eoi_broadcast(isrv);
    }
    apic_update_irq(s);
}

/* ---------------- timer ---------------- */

static int apic_timer_mode(APICState *s)
{
    return (s->lvt[LVT_TIMER] & LVT_TIMER_MASK) >> LVT_TIMER_SHIFT;
}

static uint32_t apic_current_count(APICState *s)
{
    if (apic_timer_mode(s) == TIMER_TSCDEADLINE) {
        return 0;
    }
    int64_t now = clock_get_ns(CLOCK_VIRTUAL_NS);
    uint64_t d = (uint64_t)(now - s->initial_count_load_time) >> s->count_shift;
    if (apic_timer_mode(s) == TIMER_PERIODIC) {
        return s->initial_count - (uint32_t)(d % ((uint64_t)s->initial_count + 1));
    }
    return d >= s->initial_count ? 0 : s->initial_count - (uint32_t)d;
}

/* (Re)arm the timer for the next expiry after 'now'. */
static void apic_timer_update(APICState *s, int64_t now)
{
    int mode = apic_timer_mode(s);
    if (mode == TIMER_TSCDEADLINE) {
        if (s->tsc_deadline && !(s->lvt[LVT_TIMER] & LVT_MASKED)) {
            timer_mod(s->timer, apic_tsc_to_ns(s->cpu, s->tsc_deadline));
        } else {
            timer_del(s->timer);
        }
        return;
    }
    uint64_t period = (uint64_t)s->initial_count + 1;
    uint64_t d = (uint64_t)(now - s->initial_count_load_time) >> s->count_shift;
    if (mode == TIMER_PERIODIC) {
        if (!s->initial_count) {
            timer_del(s->timer);
            return;
        }
        d = (d / period + 1) * period;
    } else {
        if (d >= s->initial_count) {
            timer_del(s->timer);
            return;
        }
        d = period;
    }
    s->next_time = s->initial_count_load_time + (int64_t)(d << s->count_shift);
    timer_mod(s->timer, s->next_time);
}

static void apic_timer_cb(void *opaque)
{
    APICState *s = opaque;
    apic_local_deliver(s, LVT_TIMER);
    if (apic_timer_mode(s) == TIMER_TSCDEADLINE) {
        s->tsc_deadline = 0;
        return;
    }
    if (apic_timer_mode(s) == TIMER_PERIODIC) {
        /* From the scheduled time, so late callbacks do not drift. */
        apic_timer_update(s, s->next_time);
    }
}

static uint64_t apic_get_tsc_deadline_locked(CPUState *cpu)
{
    APICState *s = cpu->apic;
    if (!s || apic_timer_mode(s) != TIMER_TSCDEADLINE) {
        return 0;
    }
    return s->tsc_deadline;
}

static void apic_set_tsc_deadline_locked(CPUState *cpu, uint64_t tsc)
{
    APICState *s = cpu->apic;
    if (!s || apic_timer_mode(s) != TIMER_TSCDEADLINE) {
        return;
    }
    s->tsc_deadline = tsc;
    apic_timer_update(s, clock_get_ns(CLOCK_VIRTUAL_NS));
}

/* ---------------- registers ---------------- */

static APICState *apic_for_access(void)
{
    CPUState *cpu = current_cpu ? current_cpu : (n_cpus ? cpus[0] : NULL);
    return cpu ? cpu->apic : NULL;
}

static uint32_t apic_reg_read(APICState *s, int index)
{
    switch (index) {
    case 0x02:
        return (uint32_t)s->id << 24;
    case 0x03:
        return APIC_VERSION | ((APIC_LVT_NB - 1) << 16);
    case 0x08:
        return s->tpr;
    case 0x09:
        return 0;                    /* arbitration priority */
    case 0x0a:
        return apic_get_ppr(s);
    case 0x0b:
        return 0;
    case 0x0d:
        return (uint32_t)s->log_dest << 24;
    case 0x0e:
        return ((uint32_t)s->dest_mode << 28) | 0x0fffffff;
    case 0x0f:
        return s->spurious_vec;
    case 0x10 ... 0x17:
        return s->isr[index & 7];
    case 0x18 ... 0x1f:
        return s->tmr[index & 7];
    case 0x20 ... 0x27:
        return s->irr[index & 7];
    case 0x28:
        return s->esr;
    case 0x30:
    case 0x31:
        return s->icr[index & 1];
    case 0x32 ... 0x37:
        return s->lvt[index - 0x32];
    case 0x38:
        return s->initial_count;
    case 0x39:
        return apic_current_count(s);
    case 0x3e:
        return s->divide_conf;
    default:
        s->esr |= 1u << 7;           /* illegal register address */
        return 0;
    }
}

static void apic_reg_write(APICState *s, int index, uint32_t val)
{
    int64_t now;
    switch (index) {
    case 0x02:
        if (local_apics[s->id] == s) {
            local_apics[s->id] = NULL;
        }
        s->id = val >> 24;
        local_apics[s->id] = s;
        break;
    case 0x08:
        s->tpr = val & 0xff;
        apic_update_irq(s);
        break;
    case 0x0b:
        apic_eoi(s);
        break;
    case 0x0d:
        s->log_dest = val >> 24;
        break;
    case 0x0e:
        s->dest_mode = val >> 28;
        break;
    case 0x0f:
        s->spurious_vec = val & 0x1ff;
        if (!(val & SV_ENABLE)) {
            for (int i = 0; i < APIC_LVT_NB; i++) {
                s->lvt[i] |= LVT_MASKED;
            }
        }
        apic_update_irq(s);
        break;
    case 0x28:
        s->esr = 0;
        break;
    case 0x30:
        s->icr[0] = val & ~(1u << 12);     /* delivery status reads idle */
        apic_send_ipi(s);
        break;
    case 0x31:
        s->icr[1] = val;                   /* stored whole, as QEMU */
        break;
    case 0x32 ... 0x37: {
        int n = index - 0x32;
        uint32_t old_mode = apic_timer_mode(s);
        s->lvt[n] = val;
        if (!(s->spurious_vec & SV_ENABLE)) {
            s->lvt[n] |= LVT_MASKED;
        }
        if (n == LVT_TIMER) {
            if ((uint32_t)apic_timer_mode(s) != old_mode) {
                s->tsc_deadline = 0;
            }
            apic_timer_update(s, clock_get_ns(CLOCK_VIRTUAL_NS));
        } else if (n == LVT_LINT0) {
            apic_update_irq(s);
        }
        break;
    }
    case 0x38:
        if (apic_timer_mode(s) == TIMER_TSCDEADLINE) {
            break;
        }
        now = clock_get_ns(CLOCK_VIRTUAL_NS);
        s->initial_count = val;
        s->initial_count_load_time = now;
        apic_timer_update(s, now);
        break;
    case 0x3e: {
        s->divide_conf = val & 0xb;
        int v = (s->divide_conf & 3) | ((s->divide_conf >> 1) & 4);
        s->count_shift = (v + 1) & 7;
        break;
    }
    default:
        s->esr |= 1u << 7;
        break;
    }
}

static uint64_t apic_mem_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)opaque;
    APICState *s = apic_for_access();
    if (!s || addr >= 0x1000 || !apic_hw_enabled(s)) {
        return 0;
    }
    if (current_cpu) {
        s->wait_for_sipi = false;    /* this CPU is running */
    }
    uint32_t v = apic_reg_read(s, (addr >> 4) & 0xff);
    v >>= (addr & 3) * 8;
    return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

static void apic_mem_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)opaque;
    (void)size;
    APICState *s = apic_for_access();
    if (!s || addr >= 0x1000 || !current_cpu) {
        /* Device (DMA) write into the APIC window: an MSI. */
        apic_deliver_msi(APIC_DEFAULT_ADDRESS + addr, val);
        return;
    }
    if (!apic_hw_enabled(s)) {
        return;
    }
    s->wait_for_sipi = false;        /* this CPU is running */
    apic_reg_write(s, (addr >> 4) & 0xff, val);
}

static const MemoryRegionOps apic_ops = {
    .read = apic_mem_read,
    .write = apic_mem_write,
    .min_access = 1,
    .max_access = 4,
};

/* ---------------- the hw/intc.h API ---------------- */

static int apic_get_interrupt_locked(CPUState *cpu)
{
    APICState *s = cpu->apic;
    if (!s) {
        if (cpu->index == 0 && pic_intr_level()) {
            int v = pic_read_irq();
            if (!pic_intr_level()) {
                cpu_reset_interrupt(cpu, CPU_INTERRUPT_HARD);
            }
            return v;
        }
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_HARD);
        return -1;
    }
    s->wait_for_sipi = false;        /* taking interrupts: running */
    if (apic_sw_enabled(s)) {
        int intno = apic_irq_pending(s);
        if (intno >= 0) {
            clear_bit256(s->irr, intno);
            set_bit256(s->isr, intno);
            apic_update_irq(s);
            return intno;
        }
    }
    if (apic_extint_pending(s)) {
        int v = pic_read_irq();       /* updates LINT0 via the PIC output */
        apic_update_irq(s);
        return v;
    }
    apic_update_irq(s);
    return -1;
}

static bool apic_has_interrupt_locked(CPUState *cpu)
{
    APICState *s = cpu->apic;
    if (!s) {
        bool hard = cpu->index == 0 && pic_intr_level();
        if (hard) {
            cpu_interrupt(cpu, CPU_INTERRUPT_HARD);
        } else {
            cpu_reset_interrupt(cpu, CPU_INTERRUPT_HARD);
        }
        return hard;
    }
    return apic_update_irq(s);
}

static void apic_set_base_locked(CPUState *cpu, uint64_t val)
{
    APICState *s = cpu->apic;
    if (!s) {
        return;
    }
    s->apicbase = (val & 0xfffff000ull) |
                  (s->apicbase & MSR_IA32_APICBASE_BSP) |
                  (val & MSR_IA32_APICBASE_ENABLE);
    if (!(val & MSR_IA32_APICBASE_ENABLE)) {
        /* Hardware disable: like a software disable with LVTs masked. */
        s->spurious_vec &= ~SV_ENABLE;
        for (int i = 0; i < APIC_LVT_NB; i++) {
            s->lvt[i] |= LVT_MASKED;
        }
    }
    cpu->env.apic_base = s->apicbase;
    apic_update_irq(s);
}

static uint8_t apic_get_tpr_locked(CPUState *cpu)
{
    APICState *s = cpu->apic;
    return s ? s->tpr >> 4 : cpu->env.cr8;
}

static void apic_set_tpr_locked(CPUState *cpu, uint8_t cr8)
{
    APICState *s = cpu->apic;
    cpu->env.cr8 = cr8 & 0xf;
    if (s) {
        s->tpr = (cr8 & 0xf) << 4;
        apic_update_irq(s);
    }
}

static void apic_init_reset_locked(CPUState *cpu)
{
    APICState *s = cpu->apic;
    if (!s) {
        return;
    }
    s->tpr = 0;
    s->spurious_vec = 0xff;
    s->log_dest = 0;
    s->dest_mode = 0xf;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    for (int i = 0; i < APIC_LVT_NB; i++) {
        s->lvt[i] = LVT_MASKED;
    }
    s->esr = 0;
    s->icr[0] = s->icr[1] = 0;
    s->divide_conf = 0;
    s->count_shift = 1;
    s->initial_count = 0;
    s->initial_count_load_time = 0;
    s->tsc_deadline = 0;
    s->arb_id = s->id;
    s->wait_for_sipi = !(s->apicbase & MSR_IA32_APICBASE_BSP);
    if (s->timer) {
        timer_del(s->timer);
    }
    cpu_reset_interrupt(cpu, CPU_INTERRUPT_HARD);
}

void apic_reset(CPUState *cpu)
{
    APICState *s = cpu->apic;
    if (!s) {
        return;
    }
    bool bsp = cpu->index == 0;
    s->apicbase = APIC_DEFAULT_ADDRESS | MSR_IA32_APICBASE_ENABLE |
                  (bsp ? MSR_IA32_APICBASE_BSP : 0);
    if (local_apics[s->id] == s) {
        local_apics[s->id] = NULL;
    }
    s->id = cpu->env.apic_id;
    local_apics[s->id] = s;
    cpu->env.apic_base = s->apicbase;
    apic_init_reset_locked(cpu);
    if (bsp) {
        /* The BIOS normally programs LINT0 as ExtINT on the BSP; start
         * that way so the PIC works with the APIC enabled (as QEMU). */
        s->lvt[LVT_LINT0] = 0x700;
    }
    s->lint0_level = pic_intr_level();
}

bool apic_cpu_init(CPUState *cpu, Error **errp)
{
    if (cpu->apic) {
        return true;                 /* already has one (idempotent) */
    }
    if (cpu->env.apic_id > MAX_APICS - 1) {
        error_setg(errp, "APIC ID %u is not supported", cpu->env.apic_id);
        return false;
    }
    APICState *s = g_new0(APICState, 1);
    s->cpu = cpu;
    s->id = cpu->env.apic_id;
    s->timer = timer_new(CLOCK_VIRTUAL_NS, apic_timer_cb, s);
    cpu->apic = s;
    local_apics[s->id] = s;
    if (!apic_io_mapped) {
        mr_init_io(&apic_io, "apic-msi", &apic_ops, NULL, APIC_SPACE_SIZE);
        mr_add_subregion(system_memory, APIC_DEFAULT_ADDRESS, &apic_io, 0x1000);
        apic_io_mapped = true;
    }
    apic_reset(cpu);
    return true;
}

/* ---------------- entry points for the vCPU side ---------------- */

/*
 * The CPU code may call the hw/intc.h API from a vCPU thread without the
 * BQL (the interpreter does); the state here is BQL-protected, so take it
 * when the caller does not hold it.
 */
static bool intc_lock(void)
{
    if (bql_locked()) {
        return false;
    }
    bql_lock();
    return true;
}

static void intc_unlock(bool taken)
{
    if (taken) {
        bql_unlock();
    }
}

int apic_get_interrupt(CPUState *cpu)
{
    bool taken = intc_lock();
    int r = apic_get_interrupt_locked(cpu);
    intc_unlock(taken);
    return r;
}

bool apic_has_interrupt(CPUState *cpu)
{
    bool taken = intc_lock();
    bool r = apic_has_interrupt_locked(cpu);
    intc_unlock(taken);
    return r;
}

void apic_set_base(CPUState *cpu, uint64_t val)
{
    bool taken = intc_lock();
    apic_set_base_locked(cpu, val);
    intc_unlock(taken);
}

uint8_t apic_get_tpr(CPUState *cpu)
{
    bool taken = intc_lock();
    uint8_t r = apic_get_tpr_locked(cpu);
    intc_unlock(taken);
    return r;
}

void apic_set_tpr(CPUState *cpu, uint8_t cr8)
{
    bool taken = intc_lock();
    apic_set_tpr_locked(cpu, cr8);
    intc_unlock(taken);
}

uint64_t apic_get_tsc_deadline(CPUState *cpu)
{
    bool taken = intc_lock();
    uint64_t r = apic_get_tsc_deadline_locked(cpu);
    intc_unlock(taken);
    return r;
}

void apic_set_tsc_deadline(CPUState *cpu, uint64_t tsc)
{
    bool taken = intc_lock();
    apic_set_tsc_deadline_locked(cpu, tsc);
    intc_unlock(taken);
}

void apic_init_reset(CPUState *cpu)
{
    bool taken = intc_lock();
    apic_init_reset_locked(cpu);
    intc_unlock(taken);
}
