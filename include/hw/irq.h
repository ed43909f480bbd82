/*
 * Interrupt lines held by value: a device owns an IrqLine output and the
 * board connects it to an input handler (PIC/IOAPIC/GSI fan-out).
 * Locking: BQL.
 */
#ifndef HW_IRQ_H
#define HW_IRQ_H

typedef void IrqHandler(void *opaque, int n, int level);

typedef struct IrqLine {
    IrqHandler *fn;
    void *opaque;
    int n;
} IrqLine;

static inline void irq_set(IrqLine *l, int level) { if (l->fn) { l->fn(l->opaque, l->n, level); } }
static inline void irq_raise(IrqLine *l) { irq_set(l, 1); }
static inline void irq_lower(IrqLine *l) { irq_set(l, 0); }
static inline void irq_pulse(IrqLine *l) { irq_set(l, 1); irq_set(l, 0); }
static inline void irq_connect(IrqLine *out, IrqHandler *fn, void *opaque, int n)
{
    out->fn = fn;
    out->opaque = opaque;
    out->n = n;
}

#endif
