/*
 * PS/2 keyboard and mouse as seen through the i8042: keyboard commands
 * (reset/BAT, LEDs, echo, ID, scancode set, typematic, enable/disable),
 * key events in scancode set 1 (translated) or set 2, and the mouse
 * (reset, ID with IntelliMouse detection, rate/resolution/scaling, status,
 * stream/remote/wrap modes, 3- and 4-byte movement packets).
 * Spec: IBM PS/2 Hardware Interface Technical Reference (keyboard, mouse).
 * Locking: BQL.
 */
#include <string.h>
#include "ps2.h"

#define ACK     0xfa
#define RESEND  0xfe
#define BAT_OK  0xaa

/* ---------------- queue ---------------- */

static void ps2_queue(PS2Dev *d, uint8_t v)
{
    if (d->q.count >= PS2_QUEUE_SIZE) {
        return;                          /* overrun: drop like real buffers */
    }
    d->q.data[(d->q.rptr + d->q.count) % PS2_QUEUE_SIZE] = v;
    d->q.count++;
}

static void ps2_notify(PS2Dev *d)
{
    if (d->notify) {
        d->notify(d->opaque);
    }
}

static void ps2_reply(PS2Dev *d, const uint8_t *b, int n)
{
    for (int i = 0; i < n; i++) {
        ps2_queue(d, b[i]);
    }
    ps2_notify(d);
}

static void ps2_clear(PS2Dev *d)
{
    d->q.rptr = 0;
    d->q.count = 0;
}

bool ps2_has_data(PS2Dev *d)
{
    return d->q.count > 0;
}

uint8_t ps2_read(PS2Dev *d)
{
    if (!d->q.count) {
        return 0;
    }
    uint8_t v = d->q.data[d->q.rptr];
    d->q.rptr = (d->q.rptr + 1) % PS2_QUEUE_SIZE;
    d->q.count--;
    return v;
}

void ps2_unread(PS2Dev *d, uint8_t v)
{
    if (d->q.count >= PS2_QUEUE_SIZE) {
        return;
    }
    d->q.rptr = (d->q.rptr + PS2_QUEUE_SIZE - 1) % PS2_QUEUE_SIZE;
    d->q.data[d->q.rptr] = v;
    d->q.count++;
}

/* ---------------- keyboard ---------------- */

/* Scancode set 1 make code -> set 2 make code (same index for 0xe0 keys). */
static const uint8_t set1_to_set2[0x60] = {
    [0x01] = 0x76, [0x02] = 0x16, [0x03] = 0x1e, [0x04] = 0x26, [0x05] = 0x25,
    [0x06] = 0x2e, [0x07] = 0x36, [0x08] = 0x3d, [0x09] = 0x3e, [0x0a] = 0x46,
    [0x0b] = 0x45, [0x0c] = 0x4e, [0x0d] = 0x55, [0x0e] = 0x66, [0x0f] = 0x0d,
    [0x10] = 0x15, [0x11] = 0x1d, [0x12] = 0x24, [0x13] = 0x2d, [0x14] = 0x2c,
    [0x15] = 0x35, [0x16] = 0x3c, [0x17] = 0x43, [0x18] = 0x44, [0x19] = 0x4d,
    [0x1a] = 0x54, [0x1b] = 0x5b, [0x1c] = 0x5a, [0x1d] = 0x14, [0x1e] = 0x1c,
    [0x1f] = 0x1b, [0x20] = 0x23, [0x21] = 0x2b, [0x22] = 0x34, [0x23] = 0x33,
    [0x24] = 0x3b, [0x25] = 0x42, [0x26] = 0x4b, [0x27] = 0x4c, [0x28] = 0x52,
    [0x29] = 0x0e, [0x2a] = 0x12, [0x2b] = 0x5d, [0x2c] = 0x1a, [0x2d] = 0x22,
    [0x2e] = 0x21, [0x2f] = 0x2a, [0x30] = 0x32, [0x31] = 0x31, [0x32] = 0x3a,
    [0x33] = 0x41, [0x34] = 0x49, [0x35] = 0x4a, [0x36] = 0x59, [0x37] = 0x7c,
    [0x38] = 0x11, [0x39] = 0x29, [0x3a] = 0x58, [0x3b] = 0x05, [0x3c] = 0x06,
    [0x3d] = 0x04, [0x3e] = 0x0c, [0x3f] = 0x03, [0x40] = 0x0b, [0x41] = 0x83,
    [0x42] = 0x0a, [0x43] = 0x01, [0x44] = 0x09, [0x45] = 0x77, [0x46] = 0x7e,
    [0x47] = 0x6c, [0x48] = 0x75, [0x49] = 0x7d, [0x4a] = 0x7b, [0x4b] = 0x6b,
    [0x4c] = 0x73, [0x4d] = 0x74, [0x4e] = 0x79, [0x4f] = 0x69, [0x50] = 0x72,
    [0x51] = 0x7a, [0x52] = 0x70, [0x53] = 0x71, [0x56] = 0x61, [0x57] = 0x78,
    [0x58] = 0x07, [0x5b] = 0x1f, [0x5c] = 0x27, [0x5d] = 0x2f,
};

void ps2_kbd_key(PS2Kbd *k, int keycode, bool down)
{
    if (!k->scan_enabled) {
        return;
    }
    bool ext = (keycode >> 8) == 0xe0;
    uint8_t code = keycode & 0x7f;
    uint8_t b[4];
    int n = 0;
    if (k->translate || k->scancode_set == 1) {
        if (ext) {
            b[n++] = 0xe0;
        }
        b[n++] = code | (down ? 0 : 0x80);
    } else {
        uint8_t c2 = code < sizeof(set1_to_set2) ? set1_to_set2[code] : 0;
        if (!c2) {
            return;
        }
        if (ext) {
            b[n++] = 0xe0;
        }
        if (!down) {
            b[n++] = 0xf0;
        }
        b[n++] = c2;
    }
    ps2_reply(&k->d, b, n);
}

void ps2_kbd_reset(PS2Kbd *k)
{
    ps2_clear(&k->d);
    k->d.write_cmd = 0;
    k->scan_enabled = true;
    k->scancode_set = 2;
    k->leds = 0;
}

void ps2_kbd_write(PS2Kbd *k, uint8_t val)
{
    uint8_t ack = ACK;
    switch (k->d.write_cmd) {
    case 0xed:                                   /* LEDs parameter */
        k->leds = val & 7;
        k->d.write_cmd = 0;
        ps2_reply(&k->d, &ack, 1);
        return;
    case 0xf3:                                   /* typematic parameter */
        k->d.write_cmd = 0;
        ps2_reply(&k->d, &ack, 1);
        return;
    case 0xf0: {                                 /* scancode set parameter */
        k->d.write_cmd = 0;
        if (val == 0) {
            /* The set number (no ACK, as QEMU 7.2), as the 8042
             * translation shows it when on. */
            static const uint8_t xlated[4] = { 0, 0x43, 0x41, 0x3f };
            uint8_t r = k->translate ? xlated[k->scancode_set] : (uint8_t)k->scancode_set;
            ps2_reply(&k->d, &r, 1);
        } else {
            if (val >= 1 && val <= 3) {
                k->scancode_set = val;
            }
            ps2_reply(&k->d, &ack, 1);
        }
        return;
    }
    default:
        break;
    }

    switch (val) {
    case 0x00:
        ps2_reply(&k->d, &ack, 1);
        break;
    case 0x05:
        ack = RESEND;
        ps2_reply(&k->d, &ack, 1);
        break;
    case 0xed:
    case 0xf0:
    case 0xf3:
        k->d.write_cmd = val;
        ps2_reply(&k->d, &ack, 1);
        break;
    case 0xee: {
        uint8_t e = 0xee;
        ps2_reply(&k->d, &e, 1);
        break;
    }
    case 0xf2: {
        uint8_t r[3] = { ACK, 0xab, k->translate ? 0x41 : 0x83 };
        ps2_reply(&k->d, r, 3);
        break;
    }
    case 0xf4:
        k->scan_enabled = true;
        ps2_reply(&k->d, &ack, 1);
        break;
    case 0xf5:                                   /* defaults, scanning off */
    case 0xf6:                                   /* defaults, scanning on */
        ps2_kbd_reset(k);
        k->scan_enabled = val == 0xf6;
        ps2_reply(&k->d, &ack, 1);
        break;
    case 0xf7 ... 0xfd:                          /* typematic/make-break modes */
        ps2_reply(&k->d, &ack, 1);
        break;
    case 0xff: {
        ps2_kbd_reset(k);
        uint8_t r[2] = { ACK, BAT_OK };
        ps2_reply(&k->d, r, 2);
        break;
    }
    default:
        ack = RESEND;
        ps2_reply(&k->d, &ack, 1);
        break;
    }
}

/* ---------------- mouse ---------------- */

#define MOUSE_STATUS_REMOTE  0x40
#define MOUSE_STATUS_ENABLED 0x20
#define MOUSE_STATUS_SCALE21 0x10

static int clamp9(int v)
{
    return v > 255 ? 255 : v < -256 ? -256 : v;
}

/* Queue one movement packet from the accumulated motion. */
static void ps2_mouse_packet(PS2Mouse *m)
{
    int dx = clamp9(m->dx), dy = clamp9(m->dy);
    int dz = m->dz > 7 ? 7 : m->dz < -8 ? -8 : m->dz;
    uint8_t b[4];
    int n = 3;
    b[0] = 0x08 | (m->buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0);
    b[1] = dx & 0xff;
    b[2] = dy & 0xff;
    if (m->type == 3) {
        b[3] = dz & 0x0f;
        n = 4;
    }
    m->dx -= dx;
    m->dy -= dy;
    m->dz -= dz;
    ps2_reply(&m->d, b, n);
}

void ps2_mouse_event(PS2Mouse *m, int dx, int dy, int dz, int buttons)
{
    m->dx += dx;
    m->dy += dy;
    m->dz += dz;
    m->buttons = buttons & 7;
    if ((m->status & MOUSE_STATUS_ENABLED) && !(m->status & MOUSE_STATUS_REMOTE) &&
        m->d.q.count + 4 <= PS2_QUEUE_SIZE) {
        ps2_mouse_packet(m);
    }
}

void ps2_mouse_reset(PS2Mouse *m)
{
    ps2_clear(&m->d);
    m->d.write_cmd = 0;
    m->status = 0;
    m->resolution = 2;
    m->sample_rate = 100;
    m->wrap = false;
    m->type = 0;
    m->detect_state = 0;
    m->dx = m->dy = m->dz = 0;
    m->buttons = 0;
}

void ps2_mouse_write(PS2Mouse *m, uint8_t val)
{
    uint8_t ack = ACK;
    if (m->d.write_cmd) {
        uint8_t cmd = m->d.write_cmd;
        m->d.write_cmd = 0;
        if (cmd == 0xf3) {
            m->sample_rate = val;
            /* IntelliMouse detection: rates 200, 100, 80 in a row. */
            if (m->detect_state == 0 && val == 200) {
                m->detect_state = 1;
            } else if (m->detect_state == 1 && val == 100) {
                m->detect_state = 2;
            } else if (m->detect_state == 2 && val == 80) {
                m->type = 3;
                m->detect_state = 0;
            } else {
                m->detect_state = 0;
            }
        } else if (cmd == 0xe8) {
            m->resolution = val & 3;
        }
        ps2_reply(&m->d, &ack, 1);
        return;
    }
    if (m->wrap && val != 0xec && val != 0xff) {
        ps2_reply(&m->d, &val, 1);               /* wrap mode echoes */
        return;
    }
    switch (val) {
    case 0xe6:
        m->status &= ~MOUSE_STATUS_SCALE21;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xe7:
        m->status |= MOUSE_STATUS_SCALE21;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xe8:
    case 0xf3:
        m->d.write_cmd = val;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xe9: {
        uint8_t r[4] = { ACK, (uint8_t)(m->status | (m->buttons & 7)), m->resolution,
                         m->sample_rate };
        ps2_reply(&m->d, r, 4);
        break;
    }
    case 0xea:
        m->status &= ~MOUSE_STATUS_REMOTE;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xeb:
        ps2_reply(&m->d, &ack, 1);
        ps2_mouse_packet(m);
        break;
    case 0xec:
        m->wrap = false;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xee:
        m->wrap = true;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xf0:
        m->status |= MOUSE_STATUS_REMOTE;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xf2: {
        uint8_t r[2] = { ACK, m->type };
        ps2_reply(&m->d, r, 2);
        break;
    }
    case 0xf4:
        m->status |= MOUSE_STATUS_ENABLED;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xf5:
        m->status &= ~MOUSE_STATUS_ENABLED;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xf6:
        m->status = 0;
        m->resolution = 2;
        m->sample_rate = 100;
        ps2_reply(&m->d, &ack, 1);
        break;
    case 0xff: {
        ps2_mouse_reset(m);
        uint8_t r[3] = { ACK, BAT_OK, 0x00 };
        ps2_reply(&m->d, r, 3);
        break;
    }
    default:
        ack = RESEND;
        ps2_reply(&m->d, &ack, 1);
        break;
    }
}
