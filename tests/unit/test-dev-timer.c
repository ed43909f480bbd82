/*
 * Unit tests for the timers: 8254 PIT (modes, latch, read-back, BCD,
 * IRQ0 edges on a fake virtual clock, channel 2 through port 0x61) and
 * the MC146818 RTC (BCD/binary, 12/24h, SET, update-ended, periodic and
 * alarm interrupts, CMOS access), with the devtest harness.
 * Locking: single-threaded test.
 */
#include <glib.h>
#include "tests/unit/devtest.h"
#include "hw/isa.h"

#define PIT_TICK_NS(n) ((int64_t)(n) * 1000000000LL / 1193182)

static uint16_t pit_latch(int ch)
{
    devtest_outb(0x43, ch << 6);
    uint16_t lo = devtest_inb(0x40 + ch);
    return lo | (devtest_inb(0x40 + ch) << 8);
}

static void test_pit_mode2_irq(void)
{
    devtest_irq_clear_counts();
    devtest_outb(0x43, 0x34);                 /* ch0, word, mode 2 */
    devtest_outb(0x40, 1193 & 0xff);
    devtest_outb(0x40, 1193 >> 8);
    int base = devtest_irq_raised[0];
    devtest_clock_step(PIT_TICK_NS(1193 * 10) + 1000);
    g_assert_cmpint(devtest_irq_raised[0] - base, ==, 10);
    /* read-back status of ch0: OUT, word access, mode 2, binary */
    devtest_outb(0x43, 0xe2);
    g_assert_cmphex(devtest_inb(0x40) & 0x7f, ==, 0x34);
    uint16_t c = pit_latch(0);
    g_assert_cmpuint(c, >, 0);
    g_assert_cmpuint(c, <=, 1193);
}

static void test_pit_mode0_latch(void)
{
    devtest_outb(0x43, 0x30);                 /* ch0, word, mode 0 */
    devtest_outb(0x40, 0x10);
    devtest_outb(0x40, 0x27);                 /* 10000 */
    g_assert_cmpint(devtest_irq_level[0], ==, 0);
    devtest_clock_step(PIT_TICK_NS(2500));
    uint16_t c = pit_latch(0);
    g_assert_cmpint(c, >=, 7499);
    g_assert_cmpint(c, <=, 7501);
    /* a latched value stays until read, even as time passes */
    devtest_outb(0x43, 0x00);
    devtest_clock_step(PIT_TICK_NS(1000));
    uint16_t l = devtest_inb(0x40) | (devtest_inb(0x40) << 8);
    g_assert_cmpint(l, >=, 7499);
    g_assert_cmpint(l, <=, 7501);
    devtest_clock_step(PIT_TICK_NS(6600));
    g_assert_cmpint(devtest_irq_level[0], ==, 1);
    devtest_clock_step(PIT_TICK_NS(100000));
    g_assert_cmpint(devtest_irq_level[0], ==, 1);   /* stays high */
}

static void test_pit_bcd_lsb(void)
{
    devtest_outb(0x43, 0x91);                 /* ch2, LSB only, mode 0, BCD */
    devtest_outb(0x42, 0x99);                 /* 99 decimal */
    devtest_clock_step(PIT_TICK_NS(49) + 10);
    devtest_outb(0x43, 0x80);
    g_assert_cmphex(devtest_inb(0x42), ==, 0x50);
}

static void test_pit_port61(void)
{
    devtest_outb(0x61, 0x00);
    devtest_outb(0x43, 0xb0);                 /* ch2, word, mode 0 */
    devtest_outb(0x42, 0xe8);
    devtest_outb(0x42, 0x03);                 /* 1000 */
    devtest_outb(0x61, 0x01);                 /* gate on */
    uint8_t v = devtest_inb(0x61);
    g_assert_cmphex(v & 0x21, ==, 0x01);
    g_assert_cmphex((v ^ devtest_inb(0x61)) & 0x10, ==, 0x10);   /* refresh toggles */
    devtest_clock_step(PIT_TICK_NS(1001));
    g_assert_cmphex(devtest_inb(0x61) & 0x20, ==, 0x20);
    /* mode 3 square wave on ch2 */
    devtest_outb(0x43, 0xb6);
    devtest_outb(0x42, 100);
    devtest_outb(0x42, 0);
    g_assert_cmphex(devtest_inb(0x61) & 0x20, ==, 0x20);
    devtest_clock_step(PIT_TICK_NS(60));
    g_assert_cmphex(devtest_inb(0x61) & 0x20, ==, 0x00);
    devtest_clock_step(PIT_TICK_NS(50));
    g_assert_cmphex(devtest_inb(0x61) & 0x20, ==, 0x20);
}

static uint8_t cmos(uint8_t idx)
{
    devtest_outb(0x70, idx);
    return devtest_inb(0x71);
}

static void cmos_w(uint8_t idx, uint8_t v)
{
    devtest_outb(0x70, idx);
    devtest_outb(0x71, v);
}

static void test_rtc_bcd_binary(void)
{
    g_assert_cmphex(cmos(0x0a), ==, 0x26);
    g_assert_cmphex(cmos(0x0b), ==, 0x02);
    g_assert_cmphex(cmos(0x0d), ==, 0x80);
    g_assert_cmphex(cmos(0x00), ==, 0x58);
    g_assert_cmphex(cmos(0x02), ==, 0x59);
    g_assert_cmphex(cmos(0x04), ==, 0x23);
    g_assert_cmphex(cmos(0x07), ==, 0x29);
    g_assert_cmphex(cmos(0x08), ==, 0x02);
    g_assert_cmphex(cmos(0x09), ==, 0x20);
    g_assert_cmphex(cmos(0x32), ==, 0x20);
    g_assert_cmphex(cmos(0x06), ==, 0x07);    /* Saturday */
    devtest_clock_step(2000000000LL);
    g_assert_cmphex(cmos(0x00), ==, 0x00);
    g_assert_cmphex(cmos(0x04), ==, 0x00);
    g_assert_cmphex(cmos(0x07), ==, 0x01);
    g_assert_cmphex(cmos(0x08), ==, 0x03);
    cmos_w(0x0b, 0x06);                       /* binary, 24h */
    devtest_clock_step(15000000000LL);        /* 00:00:15 */
    g_assert_cmphex(cmos(0x00), ==, 15);
    cmos_w(0x0b, 0x04);                       /* binary, 12h: 12 AM */
    g_assert_cmphex(cmos(0x04), ==, 12);
    cmos_w(0x0b, 0x00);                       /* BCD 12h */
    g_assert_cmphex(cmos(0x04), ==, 0x12);
    cmos_w(0x0b, 0x02);
    /* NMI bit in the index is ignored */
    g_assert_cmphex(cmos(0x80 | 0x0d), ==, 0x80);
}

static void test_rtc_set(void)
{
    cmos_w(0x0b, 0x82);                       /* SET */
    cmos_w(0x04, 0x10);
    cmos_w(0x02, 0x30);
    cmos_w(0x00, 0x00);
    devtest_clock_step(5000000000LL);
    g_assert_cmphex(cmos(0x00), ==, 0x00);    /* frozen while SET */
    int64_t t_set = devtest_clock_now();      /* the clock restarts here */
    cmos_w(0x0b, 0x02);
    devtest_clock_step(3000000000LL);
    g_assert_cmphex(cmos(0x04), ==, 0x10);
    g_assert_cmphex(cmos(0x02), ==, 0x30);
    g_assert_cmphex(cmos(0x00), ==, 0x03);
    /* UIP only in the last 244 us before a second boundary */
    devtest_clock_step(t_set + 4000000000LL - 100000 - devtest_clock_now());
    g_assert_cmphex(cmos(0x0a) & 0x80, ==, 0x80);
    devtest_clock_step(200000);
    g_assert_cmphex(cmos(0x0a) & 0x80, ==, 0x00);
}

static void test_rtc_irqs(void)
{
    cmos(0x0c);
    devtest_irq_clear_counts();
    cmos_w(0x0b, 0x12);                       /* UIE */
    devtest_clock_step(1000000000LL);
    g_assert_cmpint(devtest_irq_level[8], ==, 1);
    g_assert_cmphex(cmos(0x0c), ==, 0x90);
    g_assert_cmpint(devtest_irq_level[8], ==, 0);
    g_assert_cmphex(cmos(0x0c), ==, 0x00);
    cmos_w(0x0b, 0x02);

    /* periodic at 1024 Hz for 10 ms */
    devtest_irq_clear_counts();
    cmos_w(0x0a, 0x26);
    cmos_w(0x0b, 0x42);
    for (int i = 0; i < 100; i++) {
        devtest_clock_step(100000);
        if (devtest_irq_level[8]) {
            g_assert_cmphex(cmos(0x0c) & 0xc0, ==, 0xc0);
        }
    }
    g_assert_cmpint(devtest_irq_raised[8], >=, 10);
    g_assert_cmpint(devtest_irq_raised[8], <=, 11);
    cmos_w(0x0b, 0x02);
    cmos(0x0c);

    /* alarm two seconds ahead, any hour */
    uint8_t sec = cmos(0x00), min = cmos(0x02);
    int s = ((sec >> 4) * 10 + (sec & 15) + 2) % 60;
    int m = (min >> 4) * 10 + (min & 15) + (s < 2 ? 1 : 0);
    cmos_w(0x01, ((s / 10) << 4) | (s % 10));
    cmos_w(0x03, (((m % 60) / 10) << 4) | (m % 10));
    cmos_w(0x05, 0xc0);
    devtest_irq_clear_counts();
    cmos_w(0x0b, 0x22);                       /* AIE */
    devtest_clock_step(1000000000LL);        /* second+1: no match yet */
    g_assert_cmpint(devtest_irq_level[8], ==, 0);
    devtest_clock_step(1000000000LL);
    g_assert_cmpint(devtest_irq_level[8], ==, 1);
    g_assert_cmphex(cmos(0x0c) & 0xa0, ==, 0xa0);
    cmos_w(0x0b, 0x02);
}

static void test_rtc_memory(void)
{
    rtc_set_memory(NULL, 0x34, 0x12);
    rtc_set_memory(NULL, 0x35, 0x34);
    g_assert_cmphex(cmos(0x34), ==, 0x12);
    cmos_w(0x35, 0x56);
    g_assert_cmphex(rtc_get_memory(NULL, 0x35), ==, 0x56);
}

#define HPET 0xfed00000ull

static void test_hpet_regs_counter(void)
{
    g_assert_cmphex(devtest_mmio_read(HPET, 4), ==, 0x8086a201);
    g_assert_cmphex(devtest_mmio_read(HPET + 4, 4), ==, 10000000);
    g_assert_cmphex(devtest_mmio_read(HPET + 0x100, 8), ==, 0x0000000400000030ull);
    g_assert_cmphex(devtest_mmio_read(HPET + 0xf0, 8), ==, 0);
    devtest_mmio_write(HPET + 0xf0, 1000, 4);          /* writable while halted */
    devtest_mmio_write(HPET + 0x10, 1, 4);             /* enable */
    devtest_clock_step(10000);
    g_assert_cmphex(devtest_mmio_read(HPET + 0xf0, 8), ==, 2000);
    devtest_mmio_write(HPET + 0x10, 0, 4);
    devtest_clock_step(10000);
    g_assert_cmphex(devtest_mmio_read(HPET + 0xf0, 4), ==, 2000);
    /* writable configuration bits, as QEMU stores them */
    devtest_mmio_write(HPET + 0x100, 0xffff, 4);
    g_assert_cmphex(devtest_mmio_read(HPET + 0x100, 4), ==, 0x7f7e);
    devtest_mmio_write(HPET + 0x100, 0, 4);
}

static void test_hpet_oneshot_level(void)
{
    devtest_irq_clear_counts();
    devtest_mmio_write(HPET + 0x140, (2 << 9) | 0x6, 4); /* T2: route 2, level, enable */
    uint64_t now = devtest_mmio_read(HPET + 0xf0, 8);
    devtest_mmio_write(HPET + 0x148, now + 500, 4);
    devtest_mmio_write(HPET + 0x14c, 0, 4);
    devtest_mmio_write(HPET + 0x10, 1, 4);
    devtest_clock_step(4990);
    g_assert_cmpint(devtest_irq_level[2], ==, 0);
    devtest_clock_step(20);
    g_assert_cmpint(devtest_irq_level[2], ==, 1);
    g_assert_cmphex(devtest_mmio_read(HPET + 0x20, 4), ==, 0x4);
    devtest_mmio_write(HPET + 0x20, 0x4, 4);
    g_assert_cmpint(devtest_irq_level[2], ==, 0);
    devtest_clock_step(1000000);
    g_assert_cmpint(devtest_irq_raised[2], ==, 1);       /* one-shot */
    devtest_mmio_write(HPET + 0x140, 0, 4);
    devtest_mmio_write(HPET + 0x10, 0, 4);
}

static void test_hpet_legacy_periodic(void)
{
    devtest_irq_clear_counts();
    /* timer 0 periodic every 1000 ticks (10 us), legacy route to IRQ0 */
    devtest_mmio_write(HPET + 0x100, 0x14c, 4);          /* 32-bit, setval, periodic, enable */
    uint64_t now = devtest_mmio_read(HPET + 0xf0, 8);
    devtest_mmio_write(HPET + 0x108, now + 1000, 4);
    devtest_mmio_write(HPET + 0x108, 1000, 4);           /* period */
    devtest_mmio_write(HPET + 0x10, 3, 4);               /* enable + legacy */
    /* the RTC no longer drives IRQ 8 */
    devtest_outb(0x70, 0x0b);
    devtest_outb(0x71, 0x12);
    devtest_clock_step(100000 + 10);
    g_assert_cmpint(devtest_irq_raised[0], ==, 10);
    g_assert_cmpint(devtest_irq_raised[8], ==, 0);
    devtest_mmio_write(HPET + 0x10, 1, 4);               /* legacy off */
    devtest_clock_step(1000000000);
    g_assert_cmpint(devtest_irq_raised[8], >=, 1);
    devtest_outb(0x70, 0x0b);
    devtest_outb(0x71, 0x02);
    devtest_mmio_write(HPET + 0x10, 0, 4);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    devtest_reset();
    devtest_clock_set(0);
    g_assert_true(rtc_set_base("2020-02-29T23:59:58", &error_abort));
    devtest_create("isa-pit");
    devtest_create("isa-pcspk");
    devtest_create("mc146818rtc");            /* default base_year, as the board does */
    devtest_create("hpet");
    g_test_add_func("/pit/mode2-irq", test_pit_mode2_irq);
    g_test_add_func("/pit/mode0-latch", test_pit_mode0_latch);
    g_test_add_func("/pit/bcd-lsb", test_pit_bcd_lsb);
    g_test_add_func("/pit/port61", test_pit_port61);
    g_test_add_func("/rtc/bcd-binary", test_rtc_bcd_binary);
    g_test_add_func("/rtc/set-uip", test_rtc_set);
    g_test_add_func("/rtc/irqs", test_rtc_irqs);
    g_test_add_func("/rtc/memory", test_rtc_memory);
    g_test_add_func("/hpet/regs-counter", test_hpet_regs_counter);
    g_test_add_func("/hpet/oneshot-level", test_hpet_oneshot_level);
    g_test_add_func("/hpet/legacy-periodic", test_hpet_legacy_periodic);
    return g_test_run();
}
