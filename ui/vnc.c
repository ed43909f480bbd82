/*
 * VNC server: RFB 3.3/3.7/3.8 with security type None, SetPixelFormat
 * (true colour 8/16/32 bpp, either byte order), Raw and Hextile updates,
 * the DesktopSize and QEMU ExtendedKeyEvent pseudo-encodings, key events
 * (X keysyms or QEMU key numbers) to the PS/2 keyboard and pointer events
 * as relative PS/2 mouse motion. Each client has a dirty map of 16x16
 * tiles fed by the console; updates go out when the client has asked for
 * one and its output buffer has drained, so a slow client never makes
 * kemu buffer without bound (past VNC_OUT_MAX it is disconnected), and a
 * client sending garbage is disconnected. Listens on TCP (-vnc host:N,
 * to=) or a Unix socket (-vnc unix:PATH); QMP query-vnc and the
 * VNC_CONNECTED / VNC_INITIALIZED / VNC_DISCONNECTED events.
 * Spec: RFC 6143; QEMU's VNC extensions (ExtendedKeyEvent, message 255/0).
 * Locking: BQL (main-loop callbacks only).
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include "monitor/monitor.h"
#include "system/main-loop.h"
#include "ui/display.h"
#include "util/kvopts.h"
#include "vnc.h"

#define VNC_OUT_MAX   (64u << 20)      /* disconnect a client that stopped reading */
#define VNC_OUT_SOFT  (1u << 20)       /* no new update while more is queued */
#define VNC_IN_MAX    (1u << 20)

enum { ST_VERSION, ST_SECURITY, ST_INIT, ST_NORMAL };

typedef struct VncClient VncClient;
struct VncClient {
    DisplayListener dl;                /* first: container_of by cast */
    int fd;
    guint in_watch, out_watch;
    GByteArray *in, *out;
    int state, minor;
    VncPixelFormat pf;
    bool hextile, desktop_size, ext_key;
    bool update_requested, resize_pending;
    int tiles_w, tiles_h;
    uint8_t *dirty;                    /* tiles_w * tiles_h */
    int width, height;                 /* size the client knows */
    int buttons, last_x, last_y;
    bool have_pos;
    char *host, *service;
    const char *family;
    VncClient *next;
};

static struct {
    bool enabled;
    int fd;
    guint watch;
    char *host, *service;              /* as query-vnc shows them */
    const char *family;
    char *unix_path;
    VncClient *clients;
} vnc;

/* ------------------------------------------------------------- options */

/* Parse -vnc (or -display vnc=...) now, listen later in vnc_start. */
static KVDict *vnc_opts;

bool vnc_parse(const char *arg, Error **errp)
{
    KVDict *d = kv_parse(arg, "vnc", errp);
    if (!d) {
        return false;
    }
    const char *addr = kv_get(d, "vnc");
    if (!addr || !strcmp(addr, "none")) {
        kv_free(d);
        return true;                   /* -vnc none: no server */
    }
    static const char *const refused[] = { "websocket", "tls-creds", "tls-authz", "sasl",
                                           "sasl-authz", "reverse", "audiodev", "acl" };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        const char *v = kv_peek(d, refused[i]);
        if (v && strcmp(v, "off")) {
            error_setg(errp, "VNC option '%s' is not supported by kemu", refused[i]);
            kv_free(d);
            return false;
        }
        kv_get(d, refused[i]);
    }
    bool pw = false;
    if (!kv_get_bool(d, "password", false, &pw, errp)) {
        kv_free(d);
        return false;
    }
    if (pw) {
        error_setg(errp, "VNC password authentication is not supported by kemu");
        kv_free(d);
        return false;
    }
    if (!g_str_has_prefix(addr, "unix:") && !strchr(addr, ':')) {
        error_setg(errp, "no vnc port specified");
        kv_free(d);
        return false;
    }
    /* accepted with no effect on what kemu does */
    static const char *const ignored[] = { "share", "lossy", "non-adaptive", "key-delay-ms",
                                           "lock-key-sync", "power-control", "id", "display",
                                           "connections", "to", "ipv4", "ipv6" };
    for (size_t i = 0; i < G_N_ELEMENTS(ignored); i++) {
        (void)kv_peek(d, ignored[i]);
    }
    for (int i = 0; i < d->n; i++) {
        bool known = !strcmp(d->p[i].key, "vnc") || !strcmp(d->p[i].key, "password");
        for (size_t j = 0; j < G_N_ELEMENTS(ignored) && !known; j++) {
            known = !strcmp(d->p[i].key, ignored[j]);
        }
        for (size_t j = 0; j < G_N_ELEMENTS(refused) && !known; j++) {
            known = !strcmp(d->p[i].key, refused[j]);
        }
        if (!known) {
            error_setg(errp, "Invalid parameter '%s'", d->p[i].key);
            kv_free(d);
            return false;
        }
    }
    vnc_opts = d;
    return true;
}

/* ------------------------------------------------------------- clients */

static void vnc_client_free(VncClient *c);

static JsonObject *vnc_client_info(VncClient *c)
{
    JsonObject *o = json_object_new();
    json_object_set_str(o, "family", c->family);
    json_object_set_str(o, "service", c->service);
    json_object_set_str(o, "host", c->host);
    json_object_set_bool(o, "websocket", false);
    return o;
}

static JsonObject *vnc_server_info(void)
{
    JsonObject *o = json_object_new();
    json_object_set_str(o, "auth", "none");
    json_object_set_str(o, "family", vnc.family);
    json_object_set_str(o, "service", vnc.service);
    json_object_set_str(o, "host", vnc.host);
    json_object_set_bool(o, "websocket", false);
    return o;
}

static void vnc_event(const char *name, VncClient *c)
{
    JsonObject *d = json_object_new();
    json_object_set(d, "server", (JsonValue *)vnc_server_info());
    json_object_set(d, "client", (JsonValue *)vnc_client_info(c));
    qmp_event_send(name, d);
}

static gboolean vnc_client_writable(int fd, GIOCondition cond, void *opaque);

static void vnc_disconnect(VncClient *c)
{
    for (VncClient **p = &vnc.clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    if (c->state == ST_NORMAL) {
        display_listener_unregister(&c->dl);
    }
    vnc_event("VNC_DISCONNECTED", c);
    vnc_client_free(c);
}

static void vnc_client_free(VncClient *c)
{
    if (c->in_watch) {
        fd_watch_remove(c->in_watch);
    }
    if (c->out_watch) {
        fd_watch_remove(c->out_watch);
    }
    close(c->fd);
    g_byte_array_free(c->in, TRUE);
    g_byte_array_free(c->out, TRUE);
    g_free(c->dirty);
    g_free(c->host);
    g_free(c->service);
    g_free(c);
}

/* Write what the socket takes; false when the client is gone. */
static bool vnc_flush(VncClient *c)
{
    while (c->out->len) {
        ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL);
        if (n > 0) {
            g_byte_array_remove_range(c->out, 0, (guint)n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        return false;
    }
    if (c->out->len > VNC_OUT_MAX) {
        return false;
    }
    if (c->out->len && !c->out_watch) {
        c->out_watch = fd_watch_add(c->fd, G_IO_OUT, vnc_client_writable, c);
    }
    return true;
}

static gboolean vnc_client_writable(int fd, GIOCondition cond, void *opaque)
{
    VncClient *c = opaque;
    c->out_watch = 0;
    if (!vnc_flush(c)) {
        vnc_disconnect(c);
    }
    return FALSE;                       /* vnc_flush re-arms when needed */
}

static void put8(VncClient *c, unsigned v)
{
    uint8_t b = v;
    g_byte_array_append(c->out, &b, 1);
}

static void put16(VncClient *c, unsigned v)
{
    uint8_t b[2] = { v >> 8, v };
    g_byte_array_append(c->out, b, 2);
}

static void put32(VncClient *c, uint32_t v)
{
    uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };
    g_byte_array_append(c->out, b, 4);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static void vnc_mark_dirty(VncClient *c, int x, int y, int w, int h)
{
    if (!c->dirty) {
        return;
    }
    int x0 = MAX(x, 0) / VNC_TILE, y0 = MAX(y, 0) / VNC_TILE;
    int x1 = MIN((x + w + VNC_TILE - 1) / VNC_TILE, c->tiles_w);
    int y1 = MIN((y + h + VNC_TILE - 1) / VNC_TILE, c->tiles_h);
    for (int ty = y0; ty < y1; ty++) {
        memset(c->dirty + (size_t)ty * c->tiles_w + x0, 1, x1 > x0 ? (size_t)(x1 - x0) : 0);
    }
}

static void vnc_resize_client(VncClient *c, DisplaySurface *s)
{
    int w = s ? s->width : 640, h = s ? s->height : 480;
    if (w != c->width || h != c->height) {
        c->resize_pending = true;
    }
    c->width = w;
    c->height = h;
    c->tiles_w = (w + VNC_TILE - 1) / VNC_TILE;
    c->tiles_h = (h + VNC_TILE - 1) / VNC_TILE;
    g_free(c->dirty);
    c->dirty = g_malloc((size_t)c->tiles_w * c->tiles_h);
    memset(c->dirty, 1, (size_t)c->tiles_w * c->tiles_h);
}

static void vnc_dl_update(DisplayListener *dl, int x, int y, int w, int h)
{
    vnc_mark_dirty((VncClient *)dl, x, y, w, h);
}

static void vnc_dl_switch(DisplayListener *dl, DisplaySurface *s)
{
    vnc_resize_client((VncClient *)dl, s);
}

/* Send one FramebufferUpdate with every dirty tile row span. */
static void vnc_send_update(VncClient *c)
{
    DisplaySurface *s = console_surface();
    if (!c->update_requested || !s || c->out->len > VNC_OUT_SOFT) {
        return;
    }
    if (s->width != c->width || s->height != c->height) {
        vnc_resize_client(c, s);
    }
    GByteArray *body = g_byte_array_new();
    int nrects = 0;
    if (c->resize_pending && c->desktop_size) {
        uint8_t r[12] = { 0, 0, 0, 0, s->width >> 8, s->width, s->height >> 8, s->height,
                          0xff, 0xff, 0xff, 0x21 };          /* -223 */
        g_byte_array_append(body, r, 12);
        nrects++;
    }
    c->resize_pending = false;
    for (int ty = 0; ty < c->tiles_h; ty++) {
        uint8_t *row = c->dirty + (size_t)ty * c->tiles_w;
        for (int tx = 0; tx < c->tiles_w;) {
            if (!row[tx]) {
                tx++;
                continue;
            }
            int start = tx;
            while (tx < c->tiles_w && row[tx]) {
                row[tx++] = 0;
            }
            int x = start * VNC_TILE, y = ty * VNC_TILE;
            int w = MIN(tx * VNC_TILE, s->width) - x, h = MIN(VNC_TILE, s->height - y);
            vnc_encode_rect(body, &c->pf, s, x, y, w, h, c->hextile);
            nrects++;
        }
    }
    if (nrects) {
        put8(c, 0);
        put8(c, 0);
        put16(c, nrects);
        g_byte_array_append(c->out, body->data, body->len);
        c->update_requested = false;
    }
    g_byte_array_free(body, TRUE);
}

static void vnc_dl_refresh(DisplayListener *dl)
{
    VncClient *c = (VncClient *)dl;
    vnc_send_update(c);
    if (!vnc_flush(c)) {
        vnc_disconnect(c);
    }
}

static void vnc_set_pixel_format(VncClient *c, const uint8_t *p)
{
    VncPixelFormat pf = {
        .bpp = p[0], .depth = p[1], .big_endian = p[2] != 0, .true_colour = p[3] != 0,
        .rmax = get16(p + 4), .gmax = get16(p + 6), .bmax = get16(p + 8),
        .rshift = p[10], .gshift = p[11], .bshift = p[12],
    };
    if ((pf.bpp != 8 && pf.bpp != 16 && pf.bpp != 32) || !pf.true_colour ||
        pf.rshift >= pf.bpp || pf.gshift >= pf.bpp || pf.bshift >= pf.bpp) {
        /* colour maps and odd sizes: fall back to 8 bpp BGR233 */
        pf = (VncPixelFormat){ .bpp = 8, .depth = 8, .true_colour = 1, .rmax = 7, .gmax = 7,
                               .bmax = 3, .rshift = 0, .gshift = 3, .bshift = 6 };
    }
    c->pf = pf;
    vnc_mark_dirty(c, 0, 0, c->width, c->height);
}

static void vnc_pointer(VncClient *c, int mask, int x, int y)
{
    int dz = 0;
    if (mask & 0x08) {
        dz = -1;
    } else if (mask & 0x10) {
        dz = 1;
    }
    /* RFB bits: 0 left, 1 middle, 2 right; PS/2: 0 left, 1 right, 2 middle */
    int buttons = (mask & 1) | ((mask & 4) ? 2 : 0) | ((mask & 2) ? 4 : 0);
    int dx = c->have_pos ? x - c->last_x : 0, dy = c->have_pos ? y - c->last_y : 0;
    c->last_x = x;
    c->last_y = y;
    c->have_pos = true;
    if (dx || dy || dz || buttons != c->buttons) {
        console_put_mouse(dx, -dy, dz, buttons);   /* PS/2 y grows upwards */
    }
    c->buttons = buttons;
}

/* Bytes the message at the head of c->in needs; 0 = unknown (garbage). */
static size_t vnc_msg_len(VncClient *c, bool *need_more)
{
    const uint8_t *p = c->in->data;
    size_t n = c->in->len;
    *need_more = false;
    switch (p[0]) {
    case 0: return 20;
    case 2:
        if (n < 4) {
            *need_more = true;
            return 4;
        }
        return 4 + 4 * (size_t)get16(p + 2);
    case 3: return 10;
    case 4: return 8;
    case 5: return 6;
    case 6:
        if (n < 8) {
            *need_more = true;
            return 8;
        }
        return get32(p + 4) > VNC_IN_MAX ? 0 : 8 + (size_t)get32(p + 4);
    case 255:
        if (n < 2) {
            *need_more = true;
            return 2;
        }
        return p[1] == 0 ? 12 : 0;
    default:
        return 0;
    }
}

static void vnc_send_server_init(VncClient *c)
{
    DisplaySurface *s = console_surface();
    vnc_resize_client(c, s);
    c->resize_pending = false;
    put16(c, c->width);
    put16(c, c->height);
    static const uint8_t pf[16] = { 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0 };
    g_byte_array_append(c->out, pf, 16);
    c->pf = (VncPixelFormat){ .bpp = 32, .depth = 24, .true_colour = 1, .rmax = 255, .gmax = 255,
                              .bmax = 255, .rshift = 16, .gshift = 8, .bshift = 0 };
    const char *name = display_guest_name();
    g_autofree char *title = name ? g_strdup_printf("QEMU (%s)", name) : g_strdup("QEMU");
    put32(c, (uint32_t)strlen(title));
    g_byte_array_append(c->out, (const uint8_t *)title, (guint)strlen(title));
}

/* Consume complete messages; false = protocol error, disconnect. */
static bool vnc_process(VncClient *c)
{
    for (;;) {
        uint8_t *p = c->in->data;
        size_t n = c->in->len, used;
        switch (c->state) {
        case ST_VERSION:
            if (n < 12) {
                return true;
            }
            if (memcmp(p, "RFB 003.", 8) || p[11] != '\n') {
                return false;
            }
            c->minor = (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
            if (c->minor < 3 || c->minor > 999) {
                return false;
            }
            if (c->minor >= 8) {
                c->minor = 8;
            } else if (c->minor != 7) {
                c->minor = 3;                /* 3.3 and the unknown 3.4-3.6 */
            }
            used = 12;
            if (c->minor == 3) {
                put32(c, 1);                 /* security type None, server's choice */
                c->state = ST_INIT;
            } else {
                put8(c, 1);
                put8(c, 1);
                c->state = ST_SECURITY;
            }
            break;
        case ST_SECURITY:
            if (n < 1) {
                return true;
            }
            if (p[0] != 1) {
                if (c->minor == 8) {
                    static const char reason[] = "Authentication failed";
                    put32(c, 1);
                    put32(c, sizeof(reason) - 1);
                    g_byte_array_append(c->out, (const uint8_t *)reason, sizeof(reason) - 1);
                    vnc_flush(c);
                }
                return false;
            }
            if (c->minor == 8) {
                put32(c, 0);                 /* SecurityResult OK */
            }
            used = 1;
            c->state = ST_INIT;
            break;
        case ST_INIT:
            if (n < 1) {
                return true;
            }
            used = 1;
            c->state = ST_NORMAL;
            display_listener_register(&c->dl);      /* renders: the size is current */
            vnc_send_server_init(c);
            vnc_event("VNC_INITIALIZED", c);
            break;
        default: {
            if (n < 1) {
                return true;
            }
            bool more;
            size_t need = vnc_msg_len(c, &more);
            if (!need) {
                return false;
            }
            if (n < need) {
                return true;
            }
            used = need;
            switch (p[0]) {
            case 0:
                vnc_set_pixel_format(c, p + 4);
                break;
            case 2:
                c->hextile = c->desktop_size = c->ext_key = false;
                for (unsigned i = 0; i < get16(p + 2); i++) {
                    int32_t e = (int32_t)get32(p + 4 + 4 * i);
                    if (e == VNC_ENC_HEXTILE) {
                        c->hextile = true;
                    } else if (e == VNC_ENC_DESKTOPSIZE) {
                        c->desktop_size = true;
                    } else if (e == VNC_ENC_EXT_KEY_EVENT) {
                        c->ext_key = true;
                    }
                }
                if (c->ext_key) {
                    /* acknowledge: an empty ExtendedKeyEvent rectangle */
                    put8(c, 0);
                    put8(c, 0);
                    put16(c, 1);
                    uint8_t r[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xfe };
                    g_byte_array_append(c->out, r, 12);
                }
                break;
            case 3: {
                int x = get16(p + 2), y = get16(p + 4), w = get16(p + 6), h = get16(p + 8);
                c->update_requested = true;
                if (!p[1]) {
                    vnc_mark_dirty(c, x, y, w, h);
                }
                break;
            }
            case 4: {
                int kc = keysym_to_keycode(get32(p + 4));
                if (kc) {
                    console_put_keycode(kc, p[1] != 0);
                }
                break;
            }
            case 5:
                vnc_pointer(c, p[1], get16(p + 2), get16(p + 4));
                break;
            case 6:
                break;                       /* clipboard text: ignored */
            case 255: {
                uint32_t keycode = get32(p + 8);
                int kc = keycode ? qnum_to_keycode((int)keycode) : keysym_to_keycode(get32(p + 4));
                if (kc) {
                    console_put_keycode(kc, get16(p + 2) != 0);
                }
                break;
            }
            }
            break;
        }
        }
        g_byte_array_remove_range(c->in, 0, (guint)used);
    }
}

static gboolean vnc_client_readable(int fd, GIOCondition cond, void *opaque)
{
    VncClient *c = opaque;
    uint8_t buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return TRUE;
    }
    if (n <= 0 || c->in->len + (size_t)n > VNC_IN_MAX + 16) {
        c->in_watch = 0;
        vnc_disconnect(c);
        return FALSE;
    }
    g_byte_array_append(c->in, buf, (guint)n);
    if (!vnc_process(c) || !vnc_flush(c)) {
        c->in_watch = 0;
        vnc_disconnect(c);
        return FALSE;
    }
    if (c->state == ST_NORMAL && c->update_requested) {
        graphic_hw_update();
        vnc_send_update(c);
        if (!vnc_flush(c)) {
            c->in_watch = 0;
            vnc_disconnect(c);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean vnc_accept(int fd, GIOCondition cond, void *opaque)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int cfd = accept(fd, (struct sockaddr *)&ss, &len);
    if (cfd < 0) {
        return TRUE;
    }
    fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
    fcntl(cfd, F_SETFD, FD_CLOEXEC);
    VncClient *c = g_new0(VncClient, 1);
    c->fd = cfd;
    c->in = g_byte_array_new();
    c->out = g_byte_array_new();
    c->dl.gfx_update = vnc_dl_update;
    c->dl.gfx_switch = vnc_dl_switch;
    c->dl.refresh = vnc_dl_refresh;
    if (ss.ss_family == AF_UNIX) {
        c->family = "unix";
        c->host = g_strdup("");
        c->service = g_strdup("");
    } else {
        char h[NI_MAXHOST] = "", sv[NI_MAXSERV] = "";
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        getnameinfo((struct sockaddr *)&ss, len, h, sizeof(h), sv, sizeof(sv),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        c->family = ss.ss_family == AF_INET6 ? "ipv6" : "ipv4";
        c->host = g_strdup(h);
        c->service = g_strdup(sv);
    }
    c->next = vnc.clients;
    vnc.clients = c;
    vnc_event("VNC_CONNECTED", c);
    static const char version[] = "RFB 003.008\n";
    g_byte_array_append(c->out, (const uint8_t *)version, 12);
    if (!vnc_flush(c)) {
        vnc_disconnect(c);
        return TRUE;
    }
    c->in_watch = fd_watch_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, vnc_client_readable, c);
    return TRUE;
}

/* ------------------------------------------------------------- server */

static int vnc_listen_tcp(const char *host, int port, int to, Error **errp)
{
    for (int p = port; p <= to; p++) {
        struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM };
        struct addrinfo *res = NULL;
        char sv[16];
        snprintf(sv, sizeof(sv), "%d", p);
        int r = getaddrinfo(*host ? host : NULL, sv, &hints, &res);
        if (r) {
            error_setg(errp, "address resolution failed for %s:%s: %s", host, sv, gai_strerror(r));
            return -1;
        }
        int last_errno = 0;
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            if (!*host && ai->ai_family != AF_INET) {
                continue;                    /* all interfaces: IPv4 like QEMU's 0.0.0.0 */
            }
            int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                continue;
            }
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 8) == 0) {
                char h[NI_MAXHOST];
                getnameinfo(ai->ai_addr, ai->ai_addrlen, h, sizeof(h), NULL, 0, NI_NUMERICHOST);
                vnc.host = g_strdup(h);
                vnc.service = g_strdup(sv);
                vnc.family = ai->ai_family == AF_INET6 ? "ipv6" : "ipv4";
                freeaddrinfo(res);
                return fd;
            }
            last_errno = errno;
            close(fd);
        }
        freeaddrinfo(res);
        if (p == to) {
            error_setg(errp, "Failed to find an available port: %s",
                       strerror(last_errno ? last_errno : EADDRINUSE));
            return -1;
        }
    }
    return -1;
}

static int vnc_listen_unix(const char *path, Error **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
        error_setg(errp, "Failed to bind socket to %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    vnc.host = g_strdup("");
    vnc.service = g_strdup(path);
    vnc.family = "unix";
    vnc.unix_path = g_strdup(path);
    return fd;
}

bool vnc_start(Error **errp)
{
    if (!vnc_opts) {
        return true;
    }
    KVDict *d = vnc_opts;
    const char *addr = kv_peek(d, "vnc");
    int fd;
    if (g_str_has_prefix(addr, "unix:")) {
        fd = vnc_listen_unix(addr + 5, errp);
    } else {
        const char *colon = strrchr(addr, ':');
        g_autofree char *host = g_strndup(addr, colon - addr);
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            char *h = g_strndup(host + 1, strlen(host) - 2);
            g_free(host);
            host = h;
        }
        char *end;
        long n = strtol(colon + 1, &end, 10);
        if (*end || n < 0 || 5900 + n > 65535) {
            error_setg(errp, "can't convert to a number: %s", colon + 1);
            return false;
        }
        long to = n;
        const char *tos = kv_peek(d, "to");
        if (tos) {
            to = strtol(tos, &end, 10);
            if (*end || to < n || 5900 + to > 65535) {
                error_setg(errp, "can't convert to a number: %s", tos);
                return false;
            }
        }
        fd = vnc_listen_tcp(host, (int)(5900 + n), (int)(5900 + to), errp);
        if (fd >= 0 && tos) {
            /* QEMU tells which port of the range it took (on stderr) */
            fprintf(stderr, "VNC server running on %s:%s\n", vnc.host, vnc.service);
        }
    }
    if (fd < 0) {
        return false;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    vnc.fd = fd;
    vnc.enabled = true;
    vnc.watch = fd_watch_add(fd, G_IO_IN, vnc_accept, NULL);
    return true;
}

void vnc_shutdown(void)
{
    if (vnc.unix_path) {
        unlink(vnc.unix_path);
    }
}

/* ------------------------------------------------------------ query */

JsonValue *vnc_query(void)
{
    JsonObject *o = json_object_new();
    json_object_set_bool(o, "enabled", vnc.enabled);
    if (!vnc.enabled) {
        return (JsonValue *)o;
    }
    json_object_set_str(o, "auth", "none");
    json_object_set_str(o, "family", vnc.family);
    JsonValue *clients = json_array_new();
    for (VncClient *c = vnc.clients; c; c = c->next) {
        json_array_append(clients, (JsonValue *)vnc_client_info(c));
    }
    json_object_set(o, "clients", clients);
    json_object_set_str(o, "service", vnc.service);
    json_object_set_str(o, "host", vnc.host);
    return (JsonValue *)o;
}
