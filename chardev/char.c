/*
 * Chardev core: backend registry, -chardev option handling (mux=on,
 * QEMU's error texts), the legacy specs of -serial/-monitor/-qmp
 * ("stdio", "mon:stdio", "tcp:h:p,server=on", "unix:p", "file:p", ...),
 * and the frontend API used by serial ports, monitors and debugcon.
 * Follows QEMU 7.2's chardev/char.c and char-fe.c behaviour.
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "chardev/char-internal.h"
#include "monitor/monitor.h"
#include "system/main-loop.h"
#include "util/cutils.h"

static GPtrArray *backends;    /* const ChardevOps * */
static GPtrArray *chardevs;    /* Chardev *, creation order */

void chardev_register(const ChardevOps *ops)
{
    if (!backends) {
        backends = g_ptr_array_new();
    }
    g_ptr_array_add(backends, (gpointer)ops);
}

static const ChardevOps *backend_find(const char *name)
{
    for (unsigned i = 0; backends && i < backends->len; i++) {
        const ChardevOps *ops = backends->pdata[i];
        if (!strcmp(ops->name, name)) {
            return ops;
        }
    }
    return NULL;
}

Chardev *chr_alloc(const ChardevOps *ops, const char *id)
{
    size_t sz = ops->instance_size > sizeof(Chardev) ? ops->instance_size : sizeof(Chardev);
    Chardev *chr = g_malloc0(sz);
    chr->ops = ops;
    chr->id = g_strdup(id);
    chr->filename = g_strdup(ops->name);
    return chr;
}

void chr_set_filename(Chardev *chr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_free(chr->filename);
    chr->filename = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

void chr_add(Chardev *chr)
{
    if (!chardevs) {
        chardevs = g_ptr_array_new();
    }
    g_ptr_array_add(chardevs, chr);
}

Chardev *chr_find(const char *id)
{
    for (unsigned i = 0; chardevs && i < chardevs->len; i++) {
        Chardev *chr = chardevs->pdata[i];
        if (!strcmp(chr->id, id)) {
            return chr;
        }
    }
    return NULL;
}

void chr_foreach(void (*fn)(Chardev *chr, void *opaque), void *opaque)
{
    for (unsigned i = 0; chardevs && i < chardevs->len; i++) {
        fn(chardevs->pdata[i], opaque);
    }
}

static void chr_free(Chardev *chr)
{
    if (chr->ops->close) {
        chr->ops->close(chr);
    }
    g_free(chr->id);
    g_free(chr->filename);
    g_free(chr);
}

void chr_flush_all(void)
{
    for (unsigned i = 0; chardevs && i < chardevs->len; i++) {
        chr_socket_flush(chardevs->pdata[i]);
    }
}

bool chr_remove(const char *id, Error **errp)
{
    Chardev *chr = chr_find(id);
    if (!chr) {
        error_setg(errp, "Chardev '%s' not found", id);
        return false;
    }
    if (chr->fe || chr_is_mux(chr)) {
        error_setg(errp, "Chardev '%s' is busy", id);
        return false;
    }
    g_ptr_array_remove(chardevs, chr);
    chr_free(chr);
    return true;
}

void chr_close_all(void)
{
    while (chardevs && chardevs->len) {
        Chardev *chr = g_ptr_array_steal_index(chardevs, chardevs->len - 1);
        chr_free(chr);
    }
}

/* Open one backend (no mux). Unknown keys are refused after open. */
static Chardev *chr_open_backend(const ChardevOps *ops, const char *id, KVDict *opts,
                                 Error **errp)
{
    Chardev *chr = chr_alloc(ops, id);
    if (!ops->open(chr, opts, errp)) {
        g_free(chr->id);
        g_free(chr->filename);
        g_free(chr);
        return NULL;
    }
    if (!kv_check_all_used(opts, errp)) {
        chr_free(chr);
        return NULL;
    }
    chr_add(chr);
    return chr;
}

Chardev *chr_new_from_opts(KVDict *opts, Error **errp)
{
    const char *name = kv_get(opts, "backend");
    const char *id;
    const ChardevOps *ops;
    bool mux = false;

    if (!name) {
        error_setg(errp, "chardev: \"%s\" missing backend", kv_peek(opts, "id") ?: "");
        return NULL;
    }
    if (kv_has(opts, "help") || !strcmp(name, "help")) {
        GString *s = g_string_new("Available chardev backend types: \n");
        for (unsigned i = 0; backends && i < backends->len; i++) {
            g_string_append_printf(s, "  %s\n", ((const ChardevOps *)backends->pdata[i])->name);
        }
        fputs(s->str, stdout);
        g_string_free(s, TRUE);
        exit(0);
    }
    ops = backend_find(name);
    if (!ops || !strcmp(name, "mux")) {
        error_setg(errp, "'%s' is not a valid char driver name", name);
        return NULL;
    }
    id = kv_get(opts, "id");
    if (!id) {
        error_setg(errp, "chardev: no id specified");
        return NULL;
    }
    if (chr_find(id)) {
        error_setg(errp, "Duplicate ID '%s' for chardev", id);
        return NULL;
    }
    if (!kv_get_bool(opts, "mux", false, &mux, errp)) {
        return NULL;
    }
    kv_get(opts, "logfile");       /* accepted, not implemented */
    kv_get(opts, "logappend");
    if (!mux) {
        return chr_open_backend(ops, id, opts, errp);
    }
    g_autofree char *base_id = g_strdup_printf("%s-base", id);
    Chardev *base = chr_open_backend(ops, base_id, opts, errp);
    if (!base) {
        return NULL;
    }
    return chr_mux_new(id, base, errp);
}

/* ---------------------------------------------------------- legacy specs */

static bool legacy_host_port(KVDict *d, const char *hp, const char **rest)
{
    /* "HOST:PORT[,opts]"; HOST may be empty or [v6] */
    const char *colon;
    g_autofree char *host = NULL;

    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (!close || close[1] != ':') {
            return false;
        }
        host = g_strndup(hp + 1, close - hp - 1);
        colon = close + 1;
    } else {
        colon = strchr(hp, ':');
        if (!colon) {
            return false;
        }
        host = g_strndup(hp, colon - hp);
    }
    const char *pend = colon + 1 + strcspn(colon + 1, ",");
    g_autofree char *port = g_strndup(colon + 1, pend - colon - 1);
    kv_set(d, "host", host);
    kv_set(d, "port", port);
    *rest = *pend == ',' ? pend + 1 : pend;
    return true;
}

static bool legacy_merge(KVDict *d, const char *rest, Error **errp)
{
    if (!*rest) {
        return true;
    }
    KVDict *extra = kv_parse(rest, NULL, errp);
    if (!extra) {
        return false;
    }
    for (int i = 0; i < extra->n; i++) {
        kv_set(d, extra->p[i].key, extra->p[i].value);
    }
    kv_free(extra);
    return true;
}

/* Translate a legacy spec into -chardev options; NULL + error when invalid. */
static KVDict *legacy_to_opts(const char *label, const char *spec, Error **errp)
{
    KVDict *d = kv_new();
    const char *p;
    bool ok = true;

    kv_set(d, "id", label);
    if (strstart(spec, "mon:", &p)) {
        kv_set(d, "mux", "on");
        if (!strcmp(p, "stdio")) {
            /* Ctrl-C goes to the guest; the mux escape ends QEMU */
            kv_set(d, "signal", "off");
        }
        spec = p;
    }
    if (!strcmp(spec, "null") || !strcmp(spec, "stdio") || !strcmp(spec, "pty") ||
        !strcmp(spec, "msmouse") || !strcmp(spec, "braille")) {
        kv_set(d, "backend", spec);
    } else if (!strcmp(spec, "vc") || strstart(spec, "vc:", &p)) {
        kv_set(d, "backend", "vc");
    } else if (strstart(spec, "file:", &p)) {
        kv_set(d, "backend", "file");
        kv_set(d, "path", p);
    } else if (strstart(spec, "pipe:", &p)) {
        kv_set(d, "backend", "pipe");
        kv_set(d, "path", p);
    } else if (strstart(spec, "unix:", &p)) {
        const char *comma = strchr(p, ',');
        g_autofree char *path = comma ? g_strndup(p, comma - p) : g_strdup(p);
        kv_set(d, "backend", "socket");
        kv_set(d, "path", path);
        ok = legacy_merge(d, comma ? comma + 1 : "", errp);
    } else if (strstart(spec, "tcp:", &p) || strstart(spec, "telnet:", &p) ||
               strstart(spec, "websocket:", &p)) {
        const char *rest;
        kv_set(d, "backend", "socket");
        if (g_str_has_prefix(spec, "telnet:")) {
            kv_set(d, "telnet", "on");
        } else if (g_str_has_prefix(spec, "websocket:")) {
            kv_set(d, "websocket", "on");
        }
        if (!legacy_host_port(d, p, &rest)) {
            ok = false;
            error_setg(errp, "'%s' is not a valid char driver", spec);
        } else {
            ok = legacy_merge(d, rest, errp);
        }
    } else if (g_str_has_prefix(spec, "/dev/")) {
        kv_set(d, "backend", "serial");
        kv_set(d, "path", spec);
    } else {
        error_setg(errp, "'%s' is not a valid char driver", spec);
        ok = false;
    }
    if (!ok) {
        kv_free(d);
        return NULL;
    }
    return d;
}

Chardev *chr_new_from_legacy(const char *label, const char *spec, Error **errp)
{
    const char *p;

    if (!strcmp(spec, "none")) {
        return NULL;
    }
    if (strstart(spec, "chardev:", &p)) {
        Chardev *chr = chr_find(p);
        if (!chr) {
            error_setg(errp, "chardev '%s' not found", p);
        }
        return chr;
    }
    KVDict *opts = legacy_to_opts(label, spec, errp);
    if (!opts) {
        return NULL;
    }
    Chardev *chr = chr_new_from_opts(opts, errp);
    kv_free(opts);
    if (chr && g_str_has_prefix(spec, "mon:")) {
        /* QEMU: "mon:" puts an HMP monitor on the new mux */
        if (!monitor_new(chr, false, false, errp)) {
            return NULL;
        }
    }
    return chr;
}

/* ------------------------------------------------------------ frontends */

bool chr_fe_init(CharFrontend *fe, Chardev *chr, Error **errp)
{
    fe->chr = NULL;
    if (!chr) {
        return true;
    }
    if (chr_is_mux(chr)) {
        if (!chr_mux_attach(chr, fe, errp)) {
            return false;
        }
    } else {
        if (chr->fe) {
            error_setg(errp, "Device '%s' is in use", chr->id);
            return false;
        }
        chr->fe = fe;
    }
    fe->chr = chr;
    if (chr->ops->fe_attached) {
        chr->ops->fe_attached(chr);
    }
    return true;
}

void chr_fe_set_handlers(CharFrontend *fe, int (*can_read)(void *),
                         void (*read)(void *, const uint8_t *, int),
                         void (*event)(void *, int), void *opaque)
{
    Chardev *chr = fe->chr;

    fe->can_read = can_read;
    fe->read = read;
    fe->event = event;
    fe->opaque = opaque;
    if (!chr) {
        return;
    }
    chr->frontend_open = true;
    if (chr_is_mux(chr)) {
        chr_mux_handlers_set(chr, fe);
        return;
    }
    /* connecting to an already open device: tell the frontend */
    if (chr->opened && event) {
        event(opaque, CHR_EVENT_OPENED);
    }
    if (chr->ops->accept_input) {
        chr->ops->accept_input(chr);
    }
}

void chr_fe_deinit(CharFrontend *fe)
{
    Chardev *chr = fe->chr;
    if (!chr) {
        return;
    }
    if (chr_is_mux(chr)) {
        chr_mux_detach(chr, fe);
    } else if (chr->fe == fe) {
        chr->fe = NULL;
        chr->frontend_open = false;
    }
    fe->chr = NULL;
}

int chr_fe_write(CharFrontend *fe, const uint8_t *buf, int len)
{
    Chardev *chr = fe->chr;
    if (!chr || !chr->ops->write) {
        return len;
    }
    return chr->ops->write(chr, buf, len);
}

int chr_fe_write_all(CharFrontend *fe, const uint8_t *buf, int len)
{
    int done = 0;
    while (done < len) {
        int r = chr_fe_write(fe, buf + done, len - done);
        if (r < 0) {
            return done ? done : r;
        }
        if (r == 0) {
            g_usleep(1000);     /* a blocking backend made no progress */
            continue;
        }
        done += r;
    }
    return done;
}

void chr_fe_accept_input(CharFrontend *fe)
{
    Chardev *chr = fe->chr;
    if (chr && chr->ops->accept_input) {
        chr->ops->accept_input(chr);
    }
}

bool chr_fe_backend_connected(CharFrontend *fe)
{
    return fe->chr != NULL;
}

void chr_fe_take_focus(CharFrontend *fe)
{
    if (fe->chr && chr_is_mux(fe->chr)) {
        chr_mux_take_focus(fe->chr, fe);
    }
}

/* -------------------------------------------------------- backend side */

int chr_be_can_write(Chardev *chr)
{
    CharFrontend *fe = chr->fe;
    if (!fe || !fe->read) {
        return 0;
    }
    return fe->can_read ? fe->can_read(fe->opaque) : 4096;
}

void chr_be_write(Chardev *chr, const uint8_t *buf, int len)
{
    CharFrontend *fe = chr->fe;
    if (fe && fe->read) {
        fe->read(fe->opaque, buf, len);
    }
}

void chr_be_event(Chardev *chr, int event)
{
    CharFrontend *fe = chr->fe;

    if (event == CHR_EVENT_OPENED) {
        chr->opened = true;
    } else if (event == CHR_EVENT_CLOSED) {
        chr->opened = false;
    }
    if (fe && fe->event) {
        fe->event(fe->opaque, event);
    }
}

/* ------------------------------------------------- fd-based backends */

static gboolean chr_fd_readable(int fd, GIOCondition cond, void *opaque)
{
    FdChardev *s = opaque;
    Chardev *chr = &s->parent;
    uint8_t buf[4096];
    (void)cond;

    int room = chr_be_can_write(chr);
    if (room <= 0) {
        s->in_watch = 0;          /* resumed by accept_input */
        return G_SOURCE_REMOVE;
    }
    ssize_t n = read(fd, buf, MIN((size_t)room, sizeof(buf)));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        s->in_watch = 0;          /* EOF: stop reading, like QEMU */
        chr_be_event(chr, CHR_EVENT_CLOSED);
        s->in_fd = -1;
        return G_SOURCE_REMOVE;
    }
    chr_be_write(chr, buf, (int)n);
    return G_SOURCE_CONTINUE;
}

void chr_fd_start(FdChardev *s, int in_fd, int out_fd)
{
    s->in_fd = in_fd;
    s->out_fd = out_fd;
    s->parent.opened = true;
}

void chr_fd_accept_input(Chardev *chr)
{
    FdChardev *s = (FdChardev *)chr;
    if (s->in_fd >= 0 && !s->in_watch && chr->fe && chr->fe->read) {
        s->in_watch = fd_watch_add(s->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, chr_fd_readable, s);
    }
}

int chr_fd_write(Chardev *chr, const uint8_t *buf, int len)
{
    FdChardev *s = (FdChardev *)chr;
    int done = 0;

    if (s->out_fd < 0) {
        return len;
    }
    while (done < len) {
        ssize_t n = write(s->out_fd, buf + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN && !s->nonblock_out) {
            g_usleep(1000);
            continue;
        }
        if (n <= 0) {
            return len;           /* nobody listening (pty) or error: drop */
        }
        done += n;
    }
    return len;
}

void chr_fd_close(Chardev *chr)
{
    FdChardev *s = (FdChardev *)chr;
    fd_watch_remove(s->in_watch);
    s->in_watch = 0;
    if (s->own_fds) {
        if (s->in_fd >= 0) {
            close(s->in_fd);
        }
        if (s->out_fd >= 0 && s->out_fd != s->in_fd) {
            close(s->out_fd);
        }
    }
    s->in_fd = s->out_fd = -1;
}
