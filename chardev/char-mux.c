/*
 * The mux chardev behind mon:stdio and -nographic: up to four frontends
 * (serial, monitor, ...) share one backend; output from all of them is
 * passed through, input goes to the focused one. Ctrl-A escapes as in
 * QEMU 7.2 chardev/char-mux.c: h help, x exit ("QEMU: Terminated"),
 * c switch focus, s sync, b break, t timestamps, C-a C-a a literal C-a.
 * Locking: BQL.
 */
#include <stdio.h>
#include <string.h>
#include "chardev/char-internal.h"
#include "system/main-loop.h"
#include "system/runstate.h"
#include "system/timer.h"
#include "util/cutils.h"
#include "util/module.h"

#define MUX_MAX 4
#define TERM_ESCAPE 0x01          /* Ctrl-A */

typedef struct MuxChardev {
    Chardev parent;
    Chardev *base;
    CharFrontend be_fe;            /* our frontend on the base chardev */
    CharFrontend *fes[MUX_MAX];
    int count, focus;
    bool got_escape, timestamps, linestart, opened_sent, open_bh;
    int64_t ts_start;
} MuxChardev;

static const ChardevOps mux_ops;

bool chr_is_mux(const Chardev *chr)
{
    return chr->ops == &mux_ops;
}

static void mux_send_event(MuxChardev *d, int idx, int event)
{
    CharFrontend *fe = idx >= 0 && idx < d->count ? d->fes[idx] : NULL;
    if (fe && fe->event) {
        fe->event(fe->opaque, event);
    }
}

static int mux_write(Chardev *chr, const uint8_t *buf, int len);

/* Give the input focus to frontend 'focus' (MUX_OUT/MUX_IN events). */
static void mux_switch_focus(MuxChardev *d, int focus)
{
    if (d->focus >= 0) {
        mux_send_event(d, d->focus, CHR_EVENT_MUX_OUT);
    }
    d->focus = focus;
    d->parent.fe = d->fes[focus];
    mux_send_event(d, focus, CHR_EVENT_MUX_IN);
    chr_fe_accept_input(&d->be_fe);
}

/* Focus a frontend unless it already has the focus. */
static void mux_set_focus(MuxChardev *d, int focus)
{
    if (focus != d->focus || !d->parent.fe) {
        mux_switch_focus(d, focus);
    }
}

/* The mux's own messages pass the timestamp filter too, as in QEMU. */
static void mux_write_raw(MuxChardev *d, const char *s)
{
    mux_write(&d->parent, (const uint8_t *)s, (int)strlen(s));
}

static int mux_write(Chardev *chr, const uint8_t *buf, int len)
{
    MuxChardev *d = (MuxChardev *)chr;
    if (!d->timestamps) {
        return chr_fe_write(&d->be_fe, buf, len);
    }
    for (int i = 0; i < len; i++) {
        if (d->linestart) {
            int64_t now = clock_get_ns(CLOCK_REALTIME_NS) / 1000000;
            if (d->ts_start < 0) {
                d->ts_start = now;
            }
            int64_t ms = now - d->ts_start, secs = ms / 1000;
            char hdr[64];
            snprintf(hdr, sizeof(hdr), "[%02d:%02d:%02d.%03d] ", (int)(secs / 3600),
                     (int)(secs / 60 % 60), (int)(secs % 60), (int)(ms % 1000));
            chr_fe_write_all(&d->be_fe, (const uint8_t *)hdr, (int)strlen(hdr));
            d->linestart = false;
        }
        chr_fe_write_all(&d->be_fe, buf + i, 1);
        if (buf[i] == '\n') {
            d->linestart = true;
        }
    }
    return len;
}

static void mux_print_help(MuxChardev *d)
{
    mux_write_raw(d, "\n\r"
                  "C-a h    print this help\n\r"
                  "C-a x    exit emulator\n\r"
                  "C-a s    save disk data back to file (if -snapshot)\n\r"
                  "C-a t    toggle console timestamps\n\r"
                  "C-a b    send break (magic sysrq)\n\r"
                  "C-a c    switch between console and monitor\n\r"
                  "C-a C-a  sends C-a\n\r");
}

/* Returns true when ch must be passed to the focused frontend. */
static bool mux_proc_byte(MuxChardev *d, uint8_t ch)
{
    if (!d->got_escape) {
        if (ch == TERM_ESCAPE) {
            d->got_escape = true;
            return false;
        }
        return true;
    }
    d->got_escape = false;
    switch (ch) {
    case '?':
    case 'h':
        mux_print_help(d);
        break;
    case 'x':
        mux_write_raw(d, "QEMU: Terminated\n\r");
        chr_flush_all();
        qemu_system_exit_request(0);
        break;
    case 's':
        break;                     /* no -snapshot disks to commit here */
    case 'b':
        mux_send_event(d, d->focus, CHR_EVENT_BREAK);
        break;
    case 'c':
        if (d->count > 0) {
            /* with one frontend this re-focuses it (MUX_OUT + MUX_IN) */
            mux_switch_focus(d, (d->focus + 1) % d->count);
        }
        break;
    case 't':
        d->timestamps = !d->timestamps;
        d->ts_start = -1;
        d->linestart = false;
        break;
    case TERM_ESCAPE:
        return true;
    default:
        break;
    }
    return false;
}

static int mux_can_read(void *opaque)
{
    MuxChardev *d = opaque;
    CharFrontend *fe = d->focus >= 0 ? d->fes[d->focus] : NULL;
    if (!fe || !fe->read) {
        return 1;                  /* keep consuming escapes */
    }
    return fe->can_read ? fe->can_read(fe->opaque) : 4096;
}

static void mux_read(void *opaque, const uint8_t *buf, int len)
{
    MuxChardev *d = opaque;
    for (int i = 0; i < len; i++) {
        if (mux_proc_byte(d, buf[i])) {
            CharFrontend *fe = d->focus >= 0 ? d->fes[d->focus] : NULL;
            if (fe && fe->read && (!fe->can_read || fe->can_read(fe->opaque) > 0)) {
                fe->read(fe->opaque, &buf[i], 1);
            }
        }
    }
}

static void mux_event(void *opaque, int event)
{
    MuxChardev *d = opaque;
    if (event == CHR_EVENT_OPENED && !d->opened_sent) {
        return;                    /* delivered once every frontend is attached */
    }
    for (int i = 0; i < d->count; i++) {
        mux_send_event(d, i, event);
    }
}

/* Deferred like QEMU's muxes_opened: after machine init, every frontend
 * gets OPENED at once (the monitor's banner waits for its focus). */
static void mux_open_bh(void *opaque)
{
    MuxChardev *d = opaque;
    d->open_bh = false;
    d->opened_sent = true;
    d->parent.opened = true;
    for (int i = 0; i < d->count; i++) {
        mux_send_event(d, i, CHR_EVENT_OPENED);
    }
}

Chardev *chr_mux_new(const char *id, Chardev *base, Error **errp)
{
    MuxChardev *d = (MuxChardev *)chr_alloc(&mux_ops, id);
    d->base = base;
    d->focus = -1;
    d->ts_start = -1;
    if (!chr_fe_init(&d->be_fe, base, errp)) {
        g_free(d->parent.id);
        g_free(d->parent.filename);
        g_free(d);
        return NULL;
    }
    chr_fe_set_handlers(&d->be_fe, mux_can_read, mux_read, mux_event, d);
    chr_add(&d->parent);
    return &d->parent;
}

bool chr_mux_attach(Chardev *mux, CharFrontend *fe, Error **errp)
{
    MuxChardev *d = (MuxChardev *)mux;
    if (d->count >= MUX_MAX) {
        error_setg(errp, "Too many uses of multiplexed chardev '%s' (maximum is %d)",
                   mux->id, MUX_MAX);
        return false;
    }
    d->fes[d->count++] = fe;
    return true;
}

void chr_mux_detach(Chardev *mux, CharFrontend *fe)
{
    MuxChardev *d = (MuxChardev *)mux;
    for (int i = 0; i < d->count; i++) {
        if (d->fes[i] == fe) {
            memmove(&d->fes[i], &d->fes[i + 1], (d->count - i - 1) * sizeof(fe));
            d->count--;
            if (d->focus >= d->count) {
                d->focus = d->count - 1;
            }
            mux->fe = d->focus >= 0 ? d->fes[d->focus] : NULL;
            return;
        }
    }
}

void chr_mux_handlers_set(Chardev *mux, CharFrontend *fe)
{
    MuxChardev *d = (MuxChardev *)mux;
    int idx = -1;
    for (int i = 0; i < d->count; i++) {
        if (d->fes[i] == fe) {
            idx = i;
        }
    }
    if (idx < 0) {
        return;
    }
    /* QEMU: a frontend takes the focus when it attaches; monitors are
     * passive here so the guest console keeps it whatever the order. */
    if (d->focus < 0 || !fe->passive) {
        mux_set_focus(d, idx);
    }
    if (d->opened_sent) {
        if (fe->event) {
            fe->event(fe->opaque, CHR_EVENT_OPENED);
        }
    } else if (!d->open_bh) {
        d->open_bh = true;
        main_loop_schedule(mux_open_bh, d);
    }
    chr_fe_accept_input(&d->be_fe);
}

void chr_mux_take_focus(Chardev *mux, CharFrontend *fe)
{
    MuxChardev *d = (MuxChardev *)mux;
    for (int i = 0; i < d->count; i++) {
        if (d->fes[i] == fe) {
            mux_set_focus(d, i);
        }
    }
}

static void mux_accept_input(Chardev *chr)
{
    chr_fe_accept_input(&((MuxChardev *)chr)->be_fe);
}

static bool mux_open(Chardev *chr, KVDict *opts, Error **errp)
{
    (void)chr;
    (void)opts;
    error_setg(errp, "'mux' is not a valid char driver name");
    return false;
}

static const ChardevOps mux_ops = {
    .name = "mux", .instance_size = sizeof(MuxChardev),
    .open = mux_open, .write = mux_write, .accept_input = mux_accept_input,
};

MODULE_INIT(char_mux_register)
{
    chardev_register(&mux_ops);
}
