/*
 * Unit tests for the userspace interrupt controllers: 8259A pair
 * (priority, EOI, cascade, ELCR level, auto-EOI, spurious), IOAPIC
 * redirection with remote IRR, LAPIC priority/ICR/INIT-SIPI/timer, driven
 * through port and MMIO handlers with the devtest harness.
 * Locking: single-threaded test.
 */
#include <glib.h>
#include "tests/unit/devtest.h"
#include "hw/intc.h"

#define APIC 0xfee00000ull
#define IOAPIC 0xfec00000ull

static void reset_all(void)
{
    devtest_clock_set(0);
    qdev_reset_all();
    for (int i = 0; i < n_cpus; i++) {
        apic_reset(cpus[i]);
        atomic_store(&cpus[i]->interrupt_request, 0);
    }
    current_cpu = cpus[0];
    for (int i = 0; i < 24; i++) {
        userspace_irqchip_set_gsi(i, 0);
    }
}

static void pic_init_pc(void)
{
    devtest_outb(0x20, 0x11);
    devtest_outb(0x21, 0x08);
    devtest_outb(0x21, 0x04);
    devtest_outb(0x21, 0x01);
    devtest_outb(0xa0, 0x11);
    devtest_outb(0xa1, 0x70);
    devtest_outb(0xa1, 0x02);
    devtest_outb(0xa1, 0x01);
    devtest_outb(0x21, 0x00);
    devtest_outb(0xa1, 0x00);
}

static bool hard(int cpu)
{
    return atomic_load(&cpus[cpu]->interrupt_request) & CPU_INTERRUPT_HARD;
}

static void test_pic_priority_eoi(void)
{
    reset_all();
    pic_init_pc();
    userspace_irqchip_set_gsi(3, 1);
    userspace_irqchip_set_gsi(1, 1);
    g_assert_true(hard(0));
    g_assert_cmphex(devtest_inb(0x20), ==, 0x0a);   /* IRR */
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x09);
    /* IRQ3 is lower priority than the in-service IRQ1 */
    g_assert_false(hard(0));
    devtest_outb(0x20, 0x0b);                        /* OCW3: read ISR */
    g_assert_cmphex(devtest_inb(0x20), ==, 0x02);
    devtest_outb(0x20, 0x20);                        /* non-specific EOI */
    g_assert_true(hard(0));
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x0b);
    devtest_outb(0x20, 0x63);                        /* specific EOI IRQ3 */
    g_assert_cmphex(devtest_inb(0x20), ==, 0x00);
    g_assert_false(hard(0));
    /* edge: no new request until the line goes low and high again */
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, -1);
    userspace_irqchip_set_gsi(1, 0);
    userspace_irqchip_set_gsi(1, 1);
    g_assert_true(hard(0));
}

static void test_pic_mask_spurious(void)
{
    reset_all();
    pic_init_pc();
    devtest_outb(0x21, 0xff);
    g_assert_cmphex(devtest_inb(0x21), ==, 0xff);
    userspace_irqchip_set_gsi(4, 1);
    g_assert_false(hard(0));
    g_assert_cmpint(pic_get_interrupt(), ==, 0x0f);  /* spurious IRQ7 */
    devtest_outb(0x21, 0xef);
    g_assert_true(hard(0));
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x0c);
}

static void test_pic_cascade_level(void)
{
    reset_all();
    pic_init_pc();
    devtest_outb(0x4d1, 0xff);
    g_assert_cmphex(devtest_inb(0x4d1), ==, 0xde);   /* ELCR mask */
    userspace_irqchip_set_gsi(10, 1);                /* level */
    g_assert_true(hard(0));
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x72);
    devtest_outb(0xa0, 0x0b);
    g_assert_cmphex(devtest_inb(0xa0), ==, 0x04);
    devtest_outb(0x20, 0x0b);
    g_assert_cmphex(devtest_inb(0x20), ==, 0x04);
    devtest_outb(0xa0, 0x20);
    devtest_outb(0x20, 0x20);
    /* still asserted: requested again */
    g_assert_true(hard(0));
    /* The request vanishes before INTA: the master latched the cascade
     * edge, the slave has nothing, so the CPU reads spurious IRQ 15. */
    userspace_irqchip_set_gsi(10, 0);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x77);
    devtest_outb(0x20, 0x20);
    g_assert_false(hard(0));
    userspace_irqchip_set_gsi(12, 1);
    g_assert_true(hard(0));
    devtest_outb(0xa1, 0x10);                        /* mask IRQ12 */
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x77);
    devtest_outb(0x20, 0x20);
    g_assert_false(hard(0));
}

static void test_pic_auto_eoi_poll(void)
{
    reset_all();
    devtest_outb(0x20, 0x11);
    devtest_outb(0x21, 0x20);
    devtest_outb(0x21, 0x04);
    devtest_outb(0x21, 0x03);                        /* AEOI */
    devtest_outb(0x21, 0x00);
    userspace_irqchip_set_gsi(5, 1);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x25);
    devtest_outb(0x20, 0x0b);
    g_assert_cmphex(devtest_inb(0x20), ==, 0x00);    /* nothing in service */
    userspace_irqchip_set_gsi(5, 0);
    userspace_irqchip_set_gsi(6, 1);
    devtest_outb(0x20, 0x0c);                        /* poll */
    g_assert_cmphex(devtest_inb(0x20), ==, 0x86);
}

static void ioapic_write(int reg, uint32_t val)
{
    devtest_mmio_write(IOAPIC, reg, 4);
    devtest_mmio_write(IOAPIC + 0x10, val, 4);
}

static uint32_t ioapic_read(int reg)
{
    devtest_mmio_write(IOAPIC, reg, 4);
    return devtest_mmio_read(IOAPIC + 0x10, 4);
}

static void apic_w(int cpu, int reg, uint32_t val)
{
    current_cpu = cpus[cpu];
    devtest_mmio_write(APIC + reg, val, 4);
    current_cpu = cpus[0];
}

static uint32_t apic_r(int cpu, int reg)
{
    current_cpu = cpus[cpu];
    uint32_t v = devtest_mmio_read(APIC + reg, 4);
    current_cpu = cpus[0];
    return v;
}

static void test_ioapic_regs(void)
{
    reset_all();
    g_assert_cmphex(ioapic_read(1), ==, 0x00170020);
    g_assert_cmphex(ioapic_read(0x10), ==, 0x00010000);
    ioapic_write(0, 0x02000000);
    g_assert_cmphex(ioapic_read(0), ==, 0x02000000);
    ioapic_write(0x11, 0xff000000);
    ioapic_write(0x10, 0x0001c030);
    g_assert_cmphex(ioapic_read(0x10), ==, 0x00018030);  /* remote IRR is RO */
    g_assert_cmphex(ioapic_read(0x11), ==, 0xff000000);
}

static void test_ioapic_edge_level(void)
{
    reset_all();
    pic_init_pc();
    devtest_outb(0x21, 0xff);                         /* PIC masked */
    devtest_outb(0xa1, 0xff);
    apic_w(0, 0xf0, 0x1ff);                           /* SVR enable */
    /* IRQ0 (PIT) lands on pin 2 */
    ioapic_write(0x10 + 2 * 2, 0x30);
    userspace_irqchip_set_gsi(0, 1);
    g_assert_true(hard(0));
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x30);
    g_assert_false(hard(0));
    userspace_irqchip_set_gsi(0, 1);                  /* no edge */
    g_assert_false(hard(0));
    apic_w(0, 0xb0, 0);                               /* EOI */
    userspace_irqchip_set_gsi(0, 0);
    userspace_irqchip_set_gsi(0, 1);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x30);
    apic_w(0, 0xb0, 0);

    /* level pin 10, vector 0x41 */
    ioapic_write(0x10 + 2 * 10, 0x8041);
    userspace_irqchip_set_gsi(10, 1);
    g_assert_cmphex(ioapic_read(0x10 + 2 * 10) & 0x4000, ==, 0x4000);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x41);
    g_assert_cmphex(apic_r(0, 0x180 + 0x20), ==, 0x2); /* TMR bit 0x41 */
    apic_w(0, 0xb0, 0);                               /* EOI: still high */
    g_assert_cmphex(ioapic_read(0x10 + 2 * 10) & 0x4000, ==, 0x4000);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x41);
    userspace_irqchip_set_gsi(10, 0);
    apic_w(0, 0xb0, 0);
    g_assert_cmphex(ioapic_read(0x10 + 2 * 10) & 0x4000, ==, 0);
    g_assert_false(hard(0));

    /* GSI 17 to CPU 1 by physical destination */
    ioapic_write(0x10 + 2 * 17 + 1, 0x01000000);
    ioapic_write(0x10 + 2 * 17, 0x55);
    apic_w(1, 0xf0, 0x1ff);
    userspace_irqchip_set_gsi(17, 1);
    g_assert_false(hard(0));
    g_assert_true(hard(1));
    g_assert_cmpint(apic_get_interrupt(cpus[1]), ==, 0x55);
}

static void test_apic_regs_priority(void)
{
    reset_all();
    g_assert_cmphex(apic_r(0, 0x30), ==, 0x00050014);
    g_assert_cmphex(apic_r(1, 0x20), ==, 0x01000000);
    g_assert_cmphex(apic_r(0, 0x350), ==, 0x700);     /* BSP LINT0 ExtINT */
    g_assert_cmphex(apic_r(1, 0x350), ==, 0x10000);
    g_assert_cmphex(apic_r(0, 0xe0), ==, 0xffffffff);
    g_assert_cmphex(apic_r(0, 0xf0), ==, 0xff);
    apic_w(0, 0xf0, 0x1ff);
    /* self IPIs: vectors 0x50 and 0x80 */
    apic_w(0, 0x300, 0x40050);
    apic_w(0, 0x300, 0x40080);
    g_assert_true(hard(0));
    apic_set_tpr(cpus[0], 9);
    g_assert_cmphex(apic_r(0, 0x80), ==, 0x90);
    g_assert_false(hard(0));
    apic_set_tpr(cpus[0], 7);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x80);
    g_assert_cmphex(apic_r(0, 0xa0), ==, 0x80);       /* PPR = ISR class */
    g_assert_false(hard(0));                          /* 0x50 below PPR */
    apic_w(0, 0xb0, 0);
    g_assert_cmphex(apic_r(0, 0xa0), ==, 0x70);
    g_assert_false(hard(0));                          /* 0x50 <= TPR 0x70 */
    apic_set_tpr(cpus[0], 0);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x50);
    apic_w(0, 0xb0, 0);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, -1);
    g_assert_cmpint(apic_get_tpr(cpus[0]), ==, 0);
}

static void test_apic_ipi_init_sipi(void)
{
    reset_all();
    apic_w(0, 0xf0, 0x1ff);
    apic_w(1, 0xf0, 0x1ff);
    /* logical flat: CPU1 LDR bit 1 */
    apic_w(1, 0xd0, 0x02000000);
    apic_w(0, 0x310, 0x02000000);
    apic_w(0, 0x300, 0x00000862);                     /* logical, fixed 0x62 */
    g_assert_true(hard(1));
    g_assert_cmpint(apic_get_interrupt(cpus[1]), ==, 0x62);
    /* all-excluding-self NMI */
    apic_w(0, 0x300, 0x000c0400);
    g_assert_true(atomic_load(&cpus[1]->interrupt_request) & CPU_INTERRUPT_NMI);
    g_assert_false(atomic_load(&cpus[0]->interrupt_request) & CPU_INTERRUPT_NMI);
    /* INIT, then SIPI vector 0x9a */
    apic_w(0, 0x310, 0x01000000);
    apic_w(0, 0x300, 0x00004500);
    g_assert_true(atomic_load(&cpus[1]->interrupt_request) & CPU_INTERRUPT_INIT);
    g_assert_cmphex(apic_r(1, 0xf0), ==, 0xff);       /* LAPIC in INIT state */
    apic_init_reset(cpus[1]);                         /* the CPU may do it again */
    apic_w(0, 0x300, 0x0000c500);                     /* INIT de-assert: no effect */
    apic_w(0, 0x300, 0x0000469a);
    g_assert_true(atomic_load(&cpus[1]->interrupt_request) & CPU_INTERRUPT_SIPI);
    g_assert_cmphex(cpus[1]->env.sipi_vector, ==, 0x9a);
    /* the CPU lost the request while handling INIT: the second SIPI of
     * INIT-SIPI-SIPI still gets through until the AP runs */
    atomic_store(&cpus[1]->interrupt_request, 0);
    apic_w(0, 0x300, 0x0000469a);
    g_assert_true(atomic_load(&cpus[1]->interrupt_request) & CPU_INTERRUPT_SIPI);
    atomic_store(&cpus[1]->interrupt_request, 0);
    (void)apic_r(1, 0x20);                            /* the AP runs */
    apic_w(0, 0x300, 0x0000469a);
    g_assert_false(atomic_load(&cpus[1]->interrupt_request) & CPU_INTERRUPT_SIPI);
    /* MSI to APIC 1 */
    apic_deliver_msi(0xfee01000, 0x4077);
    g_assert_cmpint(apic_get_interrupt(cpus[1]), ==, -1);   /* sw disabled by INIT */
    apic_w(1, 0xf0, 0x1ff);
    g_assert_cmpint(apic_get_interrupt(cpus[1]), ==, 0x77);
}

static void test_apic_timer(void)
{
    reset_all();
    apic_w(0, 0xf0, 0x1ff);
    apic_w(0, 0x3e0, 0xb);                            /* divide by 1 */
    apic_w(0, 0x320, 0x60);                           /* one-shot, vector 0x60 */
    apic_w(0, 0x380, 1000);
    devtest_clock_step(500);
    uint32_t cur = apic_r(0, 0x390);
    g_assert_cmpuint(cur, ==, 500);
    devtest_clock_step(499);
    g_assert_false(hard(0));
    devtest_clock_step(2);
    g_assert_true(hard(0));
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x60);
    apic_w(0, 0xb0, 0);
    g_assert_cmpuint(apic_r(0, 0x390), ==, 0);
    devtest_clock_step(100000);
    g_assert_false(hard(0));

    /* periodic, divide by 2: period (100+1)*2 ns */
    apic_w(0, 0x3e0, 0x0);
    apic_w(0, 0x320, 0x20061);
    apic_w(0, 0x380, 100);
    int fired = 0;
    for (int i = 0; i < 10; i++) {
        devtest_clock_step(202);
        if (apic_get_interrupt(cpus[0]) == 0x61) {
            fired++;
            apic_w(0, 0xb0, 0);
        }
    }
    g_assert_cmpint(fired, ==, 10);
    /* masked: no more */
    apic_w(0, 0x320, 0x30061);
    devtest_clock_step(1000);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, -1);

    /* TSC-deadline (default conversion: TSC == virtual ns) */
    apic_w(0, 0x320, 0x40062);
    apic_set_tsc_deadline(cpus[0], devtest_clock_now() + 5000);
    devtest_clock_step(4000);
    g_assert_false(hard(0));
    devtest_clock_step(1001);
    g_assert_cmpint(apic_get_interrupt(cpus[0]), ==, 0x62);
    g_assert_cmpuint(apic_get_tsc_deadline(cpus[0]), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    devtest_reset();
    devtest_make_cpus(2);
    g_assert_true(userspace_irqchip_init(&error_abort));
    g_test_add_func("/pic/priority-eoi", test_pic_priority_eoi);
    g_test_add_func("/pic/mask-spurious", test_pic_mask_spurious);
    g_test_add_func("/pic/cascade-level", test_pic_cascade_level);
    g_test_add_func("/pic/auto-eoi-poll", test_pic_auto_eoi_poll);
    g_test_add_func("/ioapic/regs", test_ioapic_regs);
    g_test_add_func("/ioapic/edge-level", test_ioapic_edge_level);
    g_test_add_func("/apic/regs-priority", test_apic_regs_priority);
    g_test_add_func("/apic/ipi-init-sipi", test_apic_ipi_init_sipi);
    g_test_add_func("/apic/timer", test_apic_timer);
    return g_test_run();
}
