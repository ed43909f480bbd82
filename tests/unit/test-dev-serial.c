/*
 * Unit tests for the 16550A (hw/char/serial.c via isa-serial) and the
 * debug ports (isa-debugcon, isa-debug-exit), driven through their port
 * handlers with the devtest harness.
 * Locking: single-threaded test.
 */
#include <glib.h>
#include "tests/unit/devtest.h"

#define COM1 0x3f8
#define RBR (COM1 + 0)
#define IER (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)

static DevtestChr *setup_com1(void)
{
    devtest_reset();
    DevtestChr *c = devtest_chr_new("s0");
    devtest_create("isa-serial,index=0,chardev=s0");
    return c;
}

static void test_reset_values(void)
{
    setup_com1();
    g_assert_cmphex(devtest_inb(IIR), ==, 0x01);
    g_assert_cmphex(devtest_inb(LSR), ==, 0x60);
    g_assert_cmphex(devtest_inb(MSR), ==, 0xb0);
    g_assert_cmphex(devtest_inb(MCR), ==, 0x08);
    g_assert_cmphex(devtest_inb(IER), ==, 0x00);
    devtest_outb(SCR, 0x5a);
    g_assert_cmphex(devtest_inb(SCR), ==, 0x5a);
}

static void test_dlab(void)
{
    setup_com1();
    devtest_outb(LCR, 0x83);
    devtest_outb(COM1, 0x01);
    devtest_outb(COM1 + 1, 0x02);
    g_assert_cmphex(devtest_inb(COM1), ==, 0x01);
    g_assert_cmphex(devtest_inb(COM1 + 1), ==, 0x02);
    devtest_outb(LCR, 0x03);
    g_assert_cmphex(devtest_inb(IER), ==, 0x00);
    g_assert_cmphex(devtest_inb(LCR), ==, 0x03);
}

static void test_tx_thre_irq(void)
{
    DevtestChr *c = setup_com1();
    devtest_outb(IER, 0x02);               /* THRI with empty THR: fires */
    g_assert_cmpint(devtest_irq_level[4], ==, 1);
    g_assert_cmphex(devtest_inb(IIR), ==, 0x02);
    g_assert_cmpint(devtest_irq_level[4], ==, 0);  /* IIR read clears THRE */
    devtest_outb(COM1, 'A');
    devtest_outb(COM1, 'B');
    g_assert_cmpstr(c->out->str, ==, "AB");
    g_assert_cmpint(devtest_irq_level[4], ==, 1);
    g_assert_cmphex(devtest_inb(LSR) & 0x60, ==, 0x60);
}

static void test_tx_backpressure(void)
{
    DevtestChr *c = setup_com1();
    devtest_outb(FCR, 0x01);
    c->space = 1;
    devtest_outb(COM1, 'x');
    devtest_outb(COM1, 'y');
    devtest_outb(COM1, 'z');
    g_assert_cmpstr(c->out->str, ==, "x");
    g_assert_cmphex(devtest_inb(LSR) & 0x60, ==, 0);
    c->space = -1;
    devtest_clock_step(2000000);           /* retry timer (1 ms) */
    g_assert_cmpstr(c->out->str, ==, "xyz");
    g_assert_cmphex(devtest_inb(LSR) & 0x60, ==, 0x60);
}

static void test_rx_nofifo(void)
{
    DevtestChr *c = setup_com1();
    devtest_outb(IER, 0x01);
    g_assert_cmpint(devtest_chr_input(c, (const uint8_t *)"hi", 2), ==, 1);
    g_assert_cmpint(devtest_irq_level[4], ==, 1);
    g_assert_cmphex(devtest_inb(IIR), ==, 0x04);
    g_assert_cmphex(devtest_inb(LSR) & 1, ==, 1);
    g_assert_cmphex(devtest_inb(RBR), ==, 'h');
    g_assert_cmpint(devtest_irq_level[4], ==, 0);
    g_assert_cmphex(devtest_inb(IIR), ==, 0x01);
}

static void test_rx_fifo_trigger_and_timeout(void)
{
    DevtestChr *c = setup_com1();
    devtest_outb(FCR, 0x87);               /* enable, clear, trigger 8 */
    g_assert_cmphex(devtest_inb(IIR), ==, 0xc1);
    devtest_outb(IER, 0x01);
    /* can_read limits delivery to the trigger level */
    g_assert_cmpint(devtest_chr_input(c, (const uint8_t *)"0123", 4), ==, 4);
    g_assert_cmpint(devtest_irq_level[4], ==, 0);
    /* 4 char times at 9600 8N1 (~4.2 ms): timeout indication */
    devtest_clock_step(5000000);
    g_assert_cmpint(devtest_irq_level[4], ==, 1);
    g_assert_cmphex(devtest_inb(IIR), ==, 0xcc);
    g_assert_cmphex(devtest_inb(RBR), ==, '0');
    g_assert_cmphex(devtest_inb(IIR), ==, 0xc1);
    devtest_chr_input(c, (const uint8_t *)"4567", 4);
    /* 7 bytes < 8 */
    g_assert_cmpint(devtest_irq_level[4], ==, 0);
    devtest_chr_input(c, (const uint8_t *)"8", 1);
    g_assert_cmphex(devtest_inb(IIR), ==, 0xc4);
    for (int i = 1; i <= 8; i++) {
        g_assert_cmphex(devtest_inb(RBR), ==, '0' + i);
    }
    g_assert_cmphex(devtest_inb(LSR) & 1, ==, 0);
    g_assert_cmphex(devtest_inb(IIR), ==, 0xc1);
}

static void test_overrun_lsr_irq(void)
{
    setup_com1();
    devtest_outb(IER, 0x05);
    devtest_outb(MCR, 0x18);               /* loopback */
    devtest_outb(COM1, 1);
    devtest_outb(COM1, 2);                 /* overruns the holding register */
    g_assert_cmphex(devtest_inb(IIR), ==, 0x06);
    g_assert_cmphex(devtest_inb(LSR) & 0x03, ==, 0x03);
    g_assert_cmphex(devtest_inb(LSR) & 0x02, ==, 0);
    g_assert_cmphex(devtest_inb(IIR), ==, 0x04);
    g_assert_cmphex(devtest_inb(RBR), ==, 2);
}

static void test_break(void)
{
    DevtestChr *c = setup_com1();
    devtest_outb(IER, 0x04);                       /* line status interrupts */
    c->chr.fe->event(c->chr.fe->opaque, CHR_EVENT_BREAK);
    g_assert_cmpint(devtest_irq_level[4], ==, 1);
    g_assert_cmphex(devtest_inb(IIR), ==, 0x06);
    g_assert_cmphex(devtest_inb(LSR) & 0x11, ==, 0x11);
    g_assert_cmpint(devtest_irq_level[4], ==, 0);
    g_assert_cmphex(devtest_inb(RBR), ==, 0x00);
}

static void test_loopback_msr(void)
{
    DevtestChr *c = setup_com1();
    devtest_outb(MCR, 0x10);
    g_assert_cmphex(devtest_inb(MSR) & 0xf0, ==, 0x00);
    devtest_outb(MCR, 0x1f);
    g_assert_cmphex(devtest_inb(MSR), ==, 0xf0);  /* as QEMU: no delta bits */
    devtest_outb(MCR, 0x1a);                       /* Linux's autoconfig probe */
    g_assert_cmphex(devtest_inb(MSR) & 0xf0, ==, 0x90);
    devtest_outb(COM1, 0x55);
    g_assert_cmphex(devtest_inb(RBR), ==, 0x55);
    g_assert_cmpuint(c->out->len, ==, 0);
}

static void test_debugcon_exit(void)
{
    devtest_reset();
    DevtestChr *c = devtest_chr_new("dbg");
    devtest_create("isa-debugcon,iobase=0x402,chardev=dbg");
    devtest_create("isa-debug-exit");
    devtest_outb(0x402, 'o');
    devtest_outb(0x402, 'k');
    g_assert_cmpstr(c->out->str, ==, "ok");
    g_assert_cmphex(devtest_inb(0x402), ==, 0xe9);
    devtest_outb(0x501, 0x10);
    g_assert_cmpint(devtest_exit_status, ==, 0x21);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/serial/reset", test_reset_values);
    g_test_add_func("/serial/dlab", test_dlab);
    g_test_add_func("/serial/tx-thre-irq", test_tx_thre_irq);
    g_test_add_func("/serial/tx-backpressure", test_tx_backpressure);
    g_test_add_func("/serial/rx-nofifo", test_rx_nofifo);
    g_test_add_func("/serial/rx-fifo-trigger-timeout", test_rx_fifo_trigger_and_timeout);
    g_test_add_func("/serial/overrun", test_overrun_lsr_irq);
    g_test_add_func("/serial/loopback-msr", test_loopback_msr);
    g_test_add_func("/serial/break", test_break);
    g_test_add_func("/debugcon/exit", test_debugcon_exit);
    return g_test_run();
}
