/*
 * Unit tests for the i8042 keyboard controller and its PS/2 keyboard and
 * mouse: self-test, command byte, keyboard reset/ID, scancode translation,
 * output port (A20, reset), 0xFE pulse reset, mouse packets, AUX loopback
 * and controller-reply priority, via the devtest harness.
 * Locking: single-threaded test.
 */
#include <glib.h>
#include "tests/unit/devtest.h"
#include "hw/isa.h"

static int a20_level = -1;

static void a20_handler(void *opaque, int n, int level)
{
    (void)opaque;
    (void)n;
    a20_level = level;
}

static DeviceState *setup(void)
{
    devtest_reset();
    DeviceState *d = devtest_create("i8042");
    IrqLine l = { a20_handler, NULL, 0 };
    i8042_set_a20_line(d, l);
    return d;
}

static void expect_bytes(const uint8_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        g_assert_cmphex(devtest_inb(0x64) & 1, ==, 1);
        g_assert_cmphex(devtest_inb(0x60), ==, b[i]);
    }
    g_assert_cmphex(devtest_inb(0x64) & 1, ==, 0);
}

static void test_selftest_cmdbyte(void)
{
    setup();
    g_assert_cmphex(devtest_inb(0x64), ==, 0x18);
    devtest_outb(0x64, 0xaa);
    g_assert_cmphex(devtest_inb(0x64), ==, 0x1d);
    g_assert_cmpint(devtest_irq_level[1], ==, 1);
    g_assert_cmphex(devtest_inb(0x60), ==, 0x55);
    g_assert_cmpint(devtest_irq_level[1], ==, 0);
    g_assert_cmphex(devtest_inb(0x64), ==, 0x1c);
    devtest_outb(0x64, 0x20);
    expect_bytes((const uint8_t[]){ 0x03 }, 1);
    devtest_outb(0x64, 0x60);
    devtest_outb(0x60, 0x61);
    devtest_outb(0x64, 0x20);
    expect_bytes((const uint8_t[]){ 0x61 }, 1);
    devtest_outb(0x64, 0xab);
    expect_bytes((const uint8_t[]){ 0x00 }, 1);
}

static void test_kbd_reset_translate(void)
{
    setup();
    devtest_outb(0x60, 0xff);
    expect_bytes((const uint8_t[]){ 0xfa, 0xaa }, 2);
    devtest_outb(0x60, 0xf2);
    expect_bytes((const uint8_t[]){ 0xfa, 0xab, 0x83 }, 3);
    /* untranslated set 2 */
    i8042_put_keycode(0x1e, true);
    i8042_put_keycode(0x1e, false);
    i8042_put_keycode(0xe048, false);
    expect_bytes((const uint8_t[]){ 0x1c, 0xf0, 0x1c, 0xe0, 0xf0, 0x75 }, 6);
    /* translated (command byte bit 6) */
    devtest_outb(0x64, 0x60);
    devtest_outb(0x60, 0x41);
    i8042_put_keycode(0x1e, true);
    i8042_put_keycode(0x1e, false);
    i8042_put_keycode(0xe048, true);
    expect_bytes((const uint8_t[]){ 0x1e, 0x9e, 0xe0, 0x48 }, 4);
    devtest_outb(0x60, 0xf0);
    devtest_outb(0x60, 0x00);
    expect_bytes((const uint8_t[]){ 0xfa, 0x41 }, 2);      /* as QEMU 7.2 */
    /* QEMU 7.2 answers 0x00 with ACK and 0x05/unknown with RESEND */
    devtest_outb(0x60, 0x00);
    devtest_outb(0x60, 0x05);
    devtest_outb(0x60, 0xe0);
    expect_bytes((const uint8_t[]){ 0xfa, 0xfe, 0xfe }, 3);
    /* echo */
    devtest_outb(0x60, 0xee);
    expect_bytes((const uint8_t[]){ 0xee }, 1);
    /* disabled scanning drops keys */
    devtest_outb(0x60, 0xf5);
    expect_bytes((const uint8_t[]){ 0xfa }, 1);
    i8042_put_keycode(0x1e, true);
    g_assert_cmphex(devtest_inb(0x64) & 1, ==, 0);
}

static void test_outport_reset(void)
{
    setup();
    devtest_outb(0x64, 0xd0);
    expect_bytes((const uint8_t[]){ 0xcf }, 1);
    devtest_outb(0x64, 0xd1);
    devtest_outb(0x60, 0xdd);
    g_assert_cmpint(a20_level, ==, 0);
    devtest_outb(0x64, 0xdf);
    g_assert_cmpint(a20_level, ==, 1);
    g_assert_cmpint(devtest_reset_requests, ==, 0);
    devtest_outb(0x64, 0xff);                     /* pulse nothing */
    g_assert_cmpint(devtest_reset_requests, ==, 0);
    devtest_outb(0x64, 0xfe);
    g_assert_cmpint(devtest_reset_requests, ==, 1);
    devtest_outb(0x64, 0xd1);
    devtest_outb(0x60, 0x02);                     /* reset bit low */
    g_assert_cmpint(devtest_reset_requests, ==, 2);
}

static void test_mouse(void)
{
    setup();
    devtest_outb(0x64, 0xa8);
    devtest_outb(0x64, 0xd4);
    devtest_outb(0x60, 0xf2);
    g_assert_cmphex(devtest_inb(0x64) & 0x21, ==, 0x21);
    g_assert_cmpint(devtest_irq_level[12], ==, 1);
    expect_bytes((const uint8_t[]){ 0xfa, 0x00 }, 2);
    g_assert_cmpint(devtest_irq_level[12], ==, 0);
    devtest_outb(0x64, 0xd4);
    devtest_outb(0x60, 0xf4);
    expect_bytes((const uint8_t[]){ 0xfa }, 1);
    i8042_put_mouse_event(5, -3, 0, 1);
    expect_bytes((const uint8_t[]){ 0x29, 0x05, 0xfd }, 3);
    /* IntelliMouse: 200, 100, 80 then ID 3 and 4-byte packets */
    const uint8_t rates[3] = { 200, 100, 80 };
    for (int i = 0; i < 3; i++) {
        devtest_outb(0x64, 0xd4);
        devtest_outb(0x60, 0xf3);
        devtest_outb(0x64, 0xd4);
        devtest_outb(0x60, rates[i]);
        expect_bytes((const uint8_t[]){ 0xfa, 0xfa }, 2);
    }
    devtest_outb(0x64, 0xd4);
    devtest_outb(0x60, 0xf2);
    expect_bytes((const uint8_t[]){ 0xfa, 0x03 }, 2);
    i8042_put_mouse_event(0, 0, -1, 0);
    expect_bytes((const uint8_t[]){ 0x08, 0x00, 0x00, 0x0f }, 4);
    /* AUX loopback as Linux probes it */
    devtest_outb(0x64, 0xd3);
    devtest_outb(0x60, 0x5a);
    g_assert_cmphex(devtest_inb(0x64) & 0x21, ==, 0x21);
    g_assert_cmpint(devtest_irq_level[12], ==, 1);
    g_assert_cmphex(devtest_inb(0x60), ==, 0x5a);
}

static void test_ctrl_priority(void)
{
    setup();
    devtest_outb(0x64, 0x60);
    devtest_outb(0x60, 0x41);
    i8042_put_keycode(0x10, true);                /* Q pending in the buffer */
    devtest_outb(0x64, 0x20);
    expect_bytes((const uint8_t[]){ 0x41, 0x10 }, 2);
    /* keyboard interface disabled: bytes wait */
    devtest_outb(0x64, 0xad);
    i8042_put_keycode(0x11, true);
    g_assert_cmphex(devtest_inb(0x64) & 1, ==, 0);
    devtest_outb(0x64, 0xae);
    expect_bytes((const uint8_t[]){ 0x11 }, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/i8042/selftest-cmdbyte", test_selftest_cmdbyte);
    g_test_add_func("/i8042/kbd-reset-translate", test_kbd_reset_translate);
    g_test_add_func("/i8042/outport-reset", test_outport_reset);
    g_test_add_func("/i8042/mouse", test_mouse);
    g_test_add_func("/i8042/ctrl-priority", test_ctrl_priority);
    return g_test_run();
}
