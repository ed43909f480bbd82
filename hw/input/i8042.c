/*
 * i8042: the PC keyboard controller at 0x60 (data) / 0x64 (status and
 * command) with a PS/2 keyboard (IRQ 1) and mouse (IRQ 12) behind it
 * (ps2.c). Controller commands: command byte read/write (0x20/0x60),
 * self-test 0xAA -> 0x55, interface tests, port enable/disable, output port
 * read/write (0xD0/0xD1: bit 0 reset, bit 1 A20), 0xD2/0xD3 loopback,
 * 0xD4 to the mouse, 0xDD/0xDF A20, 0xF0-0xFF pulse (0xFE = reset).
 * Spec: Intel 8042 / IBM PC/AT keyboard controller (as QEMU's i8042).
 * Locking: BQL.
 */
#include <string.h>
#include "hw/isa.h"
#include "hw/machine.h"
#include "ps2.h"
#include "system/runstate.h"
#include "util/module.h"

#define STAT_OBF       0x01
#define STAT_IBF       0x02
#define STAT_SELFTEST  0x04
#define STAT_CMD       0x08
#define STAT_UNLOCKED  0x10
#define STAT_MOUSE_OBF 0x20

#define MODE_KBD_INT       0x01
#define MODE_MOUSE_INT     0x02
#define MODE_SYS           0x04
#define MODE_DISABLE_KBD   0x10
#define MODE_DISABLE_MOUSE 0x20
#define MODE_KCC           0x40

#define OUT_RESET      0x01
#define OUT_A20        0x02
#define OUT_OBF        0x10
#define OUT_MOUSE_OBF  0x20
#define OUT_ONES       0xcc

#define CTRLQ_LEN 8

typedef struct I8042State {
    IsaDevice parent;
    uint8_t kbd_irq_num, mouse_irq_num;
    bool extended_state;
    bool kbd_throttle;

    uint8_t status;
    uint8_t mode;            /* the command byte */
    uint8_t outport;
    uint8_t write_cmd;       /* controller command waiting for a data byte */
    uint8_t obuf;            /* output buffer contents */
    bool obuf_full;
    bool obuf_aux;           /* it came from (or is addressed as) the mouse */
    int obuf_src;            /* 0 controller, 1 keyboard, 2 mouse */
    struct {
        uint8_t v;
        bool aux;
    } ctrlq[CTRLQ_LEN];      /* controller replies, ahead of device data */
    int ctrlq_n;

    PS2Kbd kbd;
    PS2Mouse mouse;
    IrqLine irq_kbd, irq_mouse, a20;
    MemoryRegion io_data, io_cmd;
} I8042State;

static I8042State *the_i8042;

static void i8042_update_irq(I8042State *s)
{
    int kbd = 0, mouse = 0;
    s->status &= ~(STAT_OBF | STAT_MOUSE_OBF);
    s->outport &= ~(OUT_OBF | OUT_MOUSE_OBF);
    if (s->obuf_full) {
        s->status |= STAT_OBF;
        s->outport |= OUT_OBF;
        if (s->obuf_aux) {
            s->status |= STAT_MOUSE_OBF;
            s->outport |= OUT_MOUSE_OBF;
            mouse = (s->mode & MODE_MOUSE_INT) != 0;
        } else {
            kbd = (s->mode & MODE_KBD_INT) != 0;
        }
    }
    irq_set(&s->irq_kbd, kbd);
    irq_set(&s->irq_mouse, mouse);
}

/* Load the output buffer from the next source, if it is empty. */
static void i8042_refill(I8042State *s)
{
    if (!s->obuf_full) {
        if (s->ctrlq_n) {
            s->obuf = s->ctrlq[0].v;
            s->obuf_aux = s->ctrlq[0].aux;
            s->obuf_src = 0;
            memmove(&s->ctrlq[0], &s->ctrlq[1], sizeof(s->ctrlq[0]) * --s->ctrlq_n);
            s->obuf_full = true;
        } else if (!(s->mode & MODE_DISABLE_KBD) && ps2_has_data(&s->kbd.d)) {
            s->obuf = ps2_read(&s->kbd.d);
            s->obuf_aux = false;
            s->obuf_src = 1;
            s->obuf_full = true;
        } else if (!(s->mode & MODE_DISABLE_MOUSE) && ps2_has_data(&s->mouse.d)) {
            s->obuf = ps2_read(&s->mouse.d);
            s->obuf_aux = true;
            s->obuf_src = 2;
            s->obuf_full = true;
        }
    }
    i8042_update_irq(s);
}

/* A controller reply: it goes out before any device byte not yet read. */
static void i8042_queue_ctrl(I8042State *s, uint8_t v, bool aux)
{
    if (s->obuf_full && s->obuf_src != 0) {
        ps2_unread(s->obuf_src == 1 ? &s->kbd.d : &s->mouse.d, s->obuf);
        s->obuf_full = false;
    }
    if (s->ctrlq_n < CTRLQ_LEN) {
        s->ctrlq[s->ctrlq_n].v = v;
        s->ctrlq[s->ctrlq_n].aux = aux;
        s->ctrlq_n++;
    }
    i8042_refill(s);
}

static void i8042_ps2_notify(void *opaque)
{
    i8042_refill(opaque);
}

static void i8042_set_outport(I8042State *s, uint8_t val)
{
    s->outport = val;
    irq_set(&s->a20, (val >> 1) & 1);
    if (!(val & OUT_RESET)) {
        qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
    }
}

static void i8042_set_mode(I8042State *s, uint8_t val)
{
    s->mode = val;
    s->kbd.translate = (val & MODE_KCC) != 0;
    i8042_refill(s);
}

static void i8042_write_command(I8042State *s, uint8_t val)
{
    if (val >= 0xf0) {
        /* Pulse output port bits 0-3 low; bit 0 is the CPU reset line. */
        if (!(val & 1)) {
            qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET);
        }
        return;
    }
    switch (val) {
    case 0x20:                              /* read command byte */
        i8042_queue_ctrl(s, s->mode, false);
        break;
    case 0x60:                              /* write command byte */
    case 0xd1:                              /* write output port */
    case 0xd2:                              /* write keyboard output buffer */
    case 0xd3:                              /* write mouse output buffer */
    case 0xd4:                              /* write to mouse */
        s->write_cmd = val;
        break;
    case 0xa7:
        s->mode |= MODE_DISABLE_MOUSE;
        i8042_refill(s);
        break;
    case 0xa8:
        s->mode &= ~MODE_DISABLE_MOUSE;
        i8042_refill(s);
        break;
    case 0xa9:                              /* test mouse port: OK */
    case 0xab:                              /* test keyboard port: OK */
        i8042_queue_ctrl(s, 0x00, false);
        break;
    case 0xaa:                              /* controller self-test */
        s->status |= STAT_SELFTEST;
        i8042_queue_ctrl(s, 0x55, false);
        break;
    case 0xad:
        s->mode |= MODE_DISABLE_KBD;
        i8042_refill(s);
        break;
    case 0xae:
        s->mode &= ~MODE_DISABLE_KBD;
        i8042_refill(s);
        break;
    case 0xc0:                              /* read input port */
        i8042_queue_ctrl(s, 0x80, false);
        break;
    case 0xd0:                              /* read output port */
        i8042_queue_ctrl(s, s->outport, false);
        break;
    case 0xdd:
        i8042_set_outport(s, s->outport & ~OUT_A20);
        break;
    case 0xdf:
        i8042_set_outport(s, s->outport | OUT_A20);
        break;
    default:
        break;                              /* unsupported: ignored */
    }
}

static void i8042_write_data(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->write_cmd;
    s->write_cmd = 0;
    switch (cmd) {
    case 0x60:
        i8042_set_mode(s, val);
        break;
    case 0xd1:
        i8042_set_outport(s, val);
        break;
    case 0xd2:
        i8042_queue_ctrl(s, val, false);
        break;
    case 0xd3:
        i8042_queue_ctrl(s, val, true);
        break;
    case 0xd4:
        ps2_mouse_write(&s->mouse, val);
        break;
    default:
        /* Sending to the keyboard re-enables its interface. */
        s->mode &= ~MODE_DISABLE_KBD;
        ps2_kbd_write(&s->kbd, val);
        i8042_refill(s);
        break;
    }
}

static uint64_t i8042_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042State *s = opaque;
    (void)size;
    if (addr == 4) {
        return s->status;
    }
    uint8_t v = s->obuf;                     /* empty: the last byte again */
    if (s->obuf_full) {
        s->obuf_full = false;
        i8042_update_irq(s);                 /* a falling edge between bytes */
        i8042_refill(s);
    }
    return v;
}

static void i8042_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    I8042State *s = opaque;
    (void)size;
    if (addr == 4) {
        i8042_write_command(s, val);
    } else {
        i8042_write_data(s, val);
    }
}

static uint64_t i8042_data_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)addr;
    return i8042_read(opaque, 0, size);
}

static void i8042_data_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)addr;
    i8042_write(opaque, 0, val, size);
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)addr;
    return i8042_read(opaque, 4, size);
}

static void i8042_cmd_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    (void)addr;
    i8042_write(opaque, 4, val, size);
}

static const MemoryRegionOps i8042_data_ops = {
    .read = i8042_data_read, .write = i8042_data_write, .min_access = 1, .max_access = 1,
};
static const MemoryRegionOps i8042_cmd_ops = {
    .read = i8042_cmd_read, .write = i8042_cmd_write, .min_access = 1, .max_access = 1,
};

void i8042_set_a20_line(DeviceState *dev, IrqLine a20)
{
    I8042State *s = dev ? (I8042State *)dev : the_i8042;
    if (s) {
        s->a20 = a20;
    }
}

void i8042_put_keycode(int keycode, bool down)
{
    if (the_i8042) {
        ps2_kbd_key(&the_i8042->kbd, keycode, down);
    }
}

void i8042_put_mouse_event(int dx, int dy, int dz, int buttons)
{
    if (the_i8042) {
        ps2_mouse_event(&the_i8042->mouse, dx, dy, dz, buttons);
    }
}

static bool i8042_realize(DeviceState *dev, Error **errp)
{
    I8042State *s = (I8042State *)dev;
    if (s->kbd_irq_num >= 16 || s->mouse_irq_num >= 16) {
        error_setg(errp, "i8042: IRQ numbers must be below 16");
        return false;
    }
    s->irq_kbd = isa_get_irq(s->kbd_irq_num);
    s->irq_mouse = isa_get_irq(s->mouse_irq_num);
    s->kbd.d.notify = i8042_ps2_notify;
    s->kbd.d.opaque = s;
    s->mouse.d.notify = i8042_ps2_notify;
    s->mouse.d.opaque = s;
    mr_init_io(&s->io_data, "i8042-data", &i8042_data_ops, s, 1);
    isa_register_ioport(&s->parent, &s->io_data, 0x60);
    mr_init_io(&s->io_cmd, "i8042-cmd", &i8042_cmd_ops, s, 1);
    isa_register_ioport(&s->parent, &s->io_cmd, 0x64);
    the_i8042 = s;              /* the last one created takes host input */
    return true;
}

static void i8042_reset(DeviceState *dev)
{
    I8042State *s = (I8042State *)dev;
    s->mode = MODE_KBD_INT | MODE_MOUSE_INT;
    s->status = STAT_CMD | STAT_UNLOCKED;
    s->outport = OUT_RESET | OUT_A20 | OUT_ONES;
    s->write_cmd = 0;
    s->obuf = 0;
    s->obuf_full = false;
    s->ctrlq_n = 0;
    ps2_kbd_reset(&s->kbd);
    s->kbd.translate = false;
    ps2_mouse_reset(&s->mouse);
    i8042_update_irq(s);
}

static const Property i8042_props[] = {
    /* QEMU prints no "on/off" for these bools */
    { .name = "extended-state", .type = &prop_bool,
      .offset = offsetof(I8042State, extended_state), .defval = "true", .desc = "" },
    { .name = "kbd-throttle", .type = &prop_bool,
      .offset = offsetof(I8042State, kbd_throttle), .defval = "false", .desc = "" },
    DEFINE_PROP("kbd-irq", I8042State, kbd_irq_num, uint8, "1"),
    DEFINE_PROP("mouse-irq", I8042State, mouse_irq_num, uint8, "12"),
    DEFINE_PROP_END,
};

static const DeviceClass i8042_class = {
    .name = "i8042",
    .bus_type = "ISA",
    .category = "Input devices",
    .parent = &isa_device_class,
    .instance_size = sizeof(I8042State),
    .props = i8042_props,
    .user_creatable = true,
    .realize = i8042_realize,
    .reset = i8042_reset,
};

MODULE_INIT(i8042_register)
{
    device_class_register(&i8042_class);
}
