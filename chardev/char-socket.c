/*
 * The "socket" chardev: unix (path=) or tcp (host=,port=) client or
 * server (server=on, wait=on|off), or an inherited listening socket
 * (fd=N, as libvirt passes it). A server serves one client at a time;
 * later clients wait in the listen backlog. Output is buffered and
 * flushed from the main loop so a slow reader never blocks the VM.
 * Follows QEMU 7.2 chardev/char-socket.c semantics and messages.
 * Locking: BQL.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "chardev/char-internal.h"
#include "system/main-loop.h"
#include "util/cutils.h"
#include "util/module.h"

#define SOCKET_OUT_HIGH_WATER (1u << 20)   /* stop reading input above this */
#define SOCKET_OUT_MAX (64u << 20)         /* a client this far behind is dropped */

typedef struct SocketChardev {
    Chardev parent;
    bool is_unix, server, nodelay;
    char *path, *host, *port;
    int listen_fd, fd;
    guint listen_watch, in_watch, out_watch;
    GByteArray *outbuf;
} SocketChardev;

static void sock_update_filename(SocketChardev *s)
{
    Chardev *chr = &s->parent;
    const char *disc = s->server && s->fd < 0 ? "disconnected:" : "";
    const char *srv = s->server ? ",server=on" : "";
    if (s->is_unix) {
        chr_set_filename(chr, "%sunix:%s%s", disc, s->path, srv);
    } else {
        chr_set_filename(chr, "%stcp:%s:%s%s", disc, s->host, s->port, srv);
    }
}

static void sock_set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static gboolean sock_accept_cb(int fd, GIOCondition cond, void *opaque);
static gboolean sock_read_cb(int fd, GIOCondition cond, void *opaque);

static void sock_watch_listener(SocketChardev *s)
{
    if (s->listen_fd >= 0 && !s->listen_watch) {
        s->listen_watch = fd_watch_add(s->listen_fd, G_IO_IN, sock_accept_cb, s);
    }
}

static void sock_watch_input(SocketChardev *s)
{
    Chardev *chr = &s->parent;
    if (s->fd >= 0 && !s->in_watch && chr->fe && chr->fe->read &&
        s->outbuf->len < SOCKET_OUT_HIGH_WATER) {
        s->in_watch = fd_watch_add(s->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, sock_read_cb, s);
    }
}

static void sock_disconnect(SocketChardev *s)
{
    if (s->fd < 0) {
        return;
    }
    fd_watch_remove(s->in_watch);
    fd_watch_remove(s->out_watch);
    s->in_watch = s->out_watch = 0;
    close(s->fd);
    s->fd = -1;
    g_byte_array_set_size(s->outbuf, 0);
    sock_update_filename(s);
    chr_be_event(&s->parent, CHR_EVENT_CLOSED);
    sock_watch_listener(s);        /* the next queued client may come in */
}

static void sock_connected(SocketChardev *s, int fd)
{
    sock_set_nonblock(fd);
    if (!s->is_unix && s->nodelay) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    s->fd = fd;
    fd_watch_remove(s->listen_watch);   /* one client at a time */
    s->listen_watch = 0;
    sock_update_filename(s);
    chr_be_event(&s->parent, CHR_EVENT_OPENED);
    sock_watch_input(s);
}

static gboolean sock_accept_cb(int fd, GIOCondition cond, void *opaque)
{
    SocketChardev *s = opaque;
    (void)cond;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
        return G_SOURCE_CONTINUE;
    }
    s->listen_watch = 0;
    sock_connected(s, c);
    return G_SOURCE_REMOVE;
}

static gboolean sock_read_cb(int fd, GIOCondition cond, void *opaque)
{
    SocketChardev *s = opaque;
    Chardev *chr = &s->parent;
    uint8_t buf[16384];
    (void)cond;

    int room = chr_be_can_write(chr);
    if (room <= 0 || s->outbuf->len >= SOCKET_OUT_HIGH_WATER) {
        s->in_watch = 0;           /* resumed by accept_input / output drain */
        return G_SOURCE_REMOVE;
    }
    ssize_t n = recv(fd, buf, MIN((size_t)room, sizeof(buf)), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        s->in_watch = 0;
        sock_disconnect(s);
        return G_SOURCE_REMOVE;
    }
    chr_be_write(chr, buf, (int)n);
    return G_SOURCE_CONTINUE;
}

static bool sock_flush(SocketChardev *s)
{
    while (s->fd >= 0 && s->outbuf->len) {
        ssize_t n = send(s->fd, s->outbuf->data, s->outbuf->len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return false;
        }
        if (n <= 0) {
            g_byte_array_set_size(s->outbuf, 0);   /* peer gone; reader will see EOF */
            return true;
        }
        g_byte_array_remove_range(s->outbuf, 0, n);
    }
    return true;
}

static gboolean sock_writable_cb(int fd, GIOCondition cond, void *opaque)
{
    SocketChardev *s = opaque;
    (void)fd;
    (void)cond;
    if (!sock_flush(s)) {
        return G_SOURCE_CONTINUE;
    }
    s->out_watch = 0;
    sock_watch_input(s);
    return G_SOURCE_REMOVE;
}

static int sock_write(Chardev *chr, const uint8_t *buf, int len)
{
    SocketChardev *s = (SocketChardev *)chr;
    if (s->fd < 0) {
        return len;                /* no client: output is dropped */
    }
    if (s->outbuf->len + (size_t)len > SOCKET_OUT_MAX) {
        /* the client stopped reading (events keep coming): disconnect it
         * rather than grow without bound */
        sock_disconnect(s);
        return len;
    }
    g_byte_array_append(s->outbuf, buf, len);
    if (!s->out_watch && !sock_flush(s)) {
        s->out_watch = fd_watch_add(s->fd, G_IO_OUT, sock_writable_cb, s);
    }
    return len;
}

static void sock_accept_input(Chardev *chr)
{
    sock_watch_input((SocketChardev *)chr);
}

static int sock_listen_unix(SocketChardev *s, Error **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(s->path) >= sizeof(sa.sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long", s->path);
        return -1;
    }
    strcpy(sa.sun_path, s->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(s->path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
        error_setg_errno(errp, errno, "Failed to bind socket to %s", s->path);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

static struct addrinfo *sock_resolve(SocketChardev *s, bool passive, Error **errp)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = passive ? AI_PASSIVE : 0 };
    struct addrinfo *res = NULL;
    const char *host = s->host[0] ? s->host : (passive ? NULL : "localhost");
    int r = getaddrinfo(host, s->port, &hints, &res);
    if (r) {
        error_setg(errp, "address resolution failed for %s:%s: %s", s->host, s->port,
                   gai_strerror(r));
        return NULL;
    }
    return res;
}

static int sock_listen_tcp(SocketChardev *s, Error **errp)
{
    struct addrinfo *res = sock_resolve(s, true, errp);
    int err = EADDRNOTAVAIL;
    if (!res) {
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        int one = 1;
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            char port[NI_MAXSERV];
            /* port=0: report the port the kernel chose, as QEMU does */
            if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
                getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, port, sizeof(port),
                            NI_NUMERICSERV) == 0) {
                g_free(s->port);
                s->port = g_strdup(port);
            }
            freeaddrinfo(res);
            return fd;
        }
        err = errno;
        close(fd);
    }
    freeaddrinfo(res);
    error_setg_errno(errp, err, "Failed to find an available port");
    return -1;
}

static int sock_connect(SocketChardev *s, Error **errp)
{
    int err = ECONNREFUSED;
    if (s->is_unix) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        g_strlcpy(sa.sun_path, s->path, sizeof(sa.sun_path));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            return fd;
        }
        error_setg_errno(errp, errno, "Failed to connect to '%s'", s->path);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    struct addrinfo *res = sock_resolve(s, false, errp);
    if (!res) {
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            freeaddrinfo(res);
            return fd;
        }
        err = errno;
        if (fd >= 0) {
            close(fd);
        }
    }
    freeaddrinfo(res);
    error_setg_errno(errp, err, "Failed to connect to '%s:%s'", s->host, s->port);
    return -1;
}

/* fd=N from a management tool: must be a listening (or connected) socket. */
static bool sock_adopt_fd(SocketChardev *s, const char *fdstr, Error **errp)
{
    uint64_t n;
    struct stat st;
    if (!fdstr || qemu_strtou64(fdstr, 10, &n) < 0 || n > INT32_MAX) {
        error_setg(errp, "Unable to parse FD number %s", fdstr ? fdstr : "");
        return false;
    }
    int fd = (int)n;
    if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        error_setg(errp, "File descriptor '%d' is not a socket", fd);
        return false;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_UNIX) {
        s->is_unix = true;
        s->path = g_strdup(((struct sockaddr_un *)&ss)->sun_path);
    } else {
        char h[NI_MAXHOST] = "", p[NI_MAXSERV] = "";
        getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        s->host = g_strdup(h);
        s->port = g_strdup(p);
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (s->server) {
        s->listen_fd = fd;
        listen(fd, 1);            /* harmless when it already listens */
    } else {
        s->fd = fd;
    }
    return true;
}

static bool sock_open(Chardev *chr, KVDict *opts, Error **errp)
{
    SocketChardev *s = (SocketChardev *)chr;
    const char *path = kv_get(opts, "path");
    const char *host = kv_get(opts, "host");
    const char *port = kv_get(opts, "port");
    const char *fdstr = kv_get(opts, "fd");
    bool server = false, wait = true, telnet = false, websock = false, nodelay = false;
    bool delay = true;
    uint64_t reconnect;

    s->listen_fd = s->fd = -1;
    s->outbuf = g_byte_array_new();
    if (!kv_get_bool(opts, "server", false, &server, errp) ||
        !kv_get_bool(opts, "wait", true, &wait, errp) ||
        !kv_get_bool(opts, "telnet", false, &telnet, errp) ||
        !kv_get_bool(opts, "tn3270", false, &telnet, errp) ||
        !kv_get_bool(opts, "websocket", false, &websock, errp) ||
        !kv_get_bool(opts, "nodelay", false, &nodelay, errp) ||
        !kv_get_bool(opts, "delay", true, &delay, errp) ||
        !kv_get_uint(opts, "reconnect", 0, &reconnect, errp)) {
        return false;
    }
    kv_get(opts, "ipv4");
    kv_get(opts, "ipv6");
    kv_get(opts, "to");
    kv_get(opts, "abstract");
    kv_get(opts, "tight");
    if (kv_get(opts, "tls-creds") || kv_get(opts, "tls-authz")) {
        error_setg(errp, "TLS is not supported by this build");
        return false;
    }
    if (telnet || websock) {
        error_setg(errp, "%s chardev sockets are not supported", telnet ? "telnet" : "websocket");
        return false;
    }
    if (!!path + !!host + !!fdstr > 1) {
        error_setg(errp, "None or one of 'path', 'fd' or 'host' option required.");
        return false;
    }
    s->server = server;
    s->nodelay = nodelay || !delay;
    if (path) {
        s->is_unix = true;
        s->path = g_strdup(path);
    } else if (host) {
        if (!port) {
            error_setg(errp, "chardev: socket: no port given");
            return false;
        }
        s->host = g_strdup(host);
        s->port = g_strdup(port);
    } else if (!sock_adopt_fd(s, fdstr, errp)) {
        return false;
    }
    if (fdstr) {
        /* already listening or connected */
    } else if (server) {
        s->listen_fd = s->is_unix ? sock_listen_unix(s, errp) : sock_listen_tcp(s, errp);
        if (s->listen_fd < 0) {
            return false;
        }
    } else {
        int fd = sock_connect(s, errp);
        if (fd < 0) {
            return false;
        }
        s->fd = fd;
    }
    sock_update_filename(s);
    if (server && wait && s->fd < 0) {
        g_autofree char *f = g_strdup(chr->filename);
        info_report("QEMU waiting for connection on: %s", f);
        int c;
        do {
            c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        } while (c < 0 && errno == EINTR);
        if (c >= 0) {
            s->fd = c;
        }
    }
    if (s->fd >= 0) {
        int fd = s->fd;
        s->fd = -1;
        sock_connected(s, fd);
    } else {
        sock_watch_listener(s);
    }
    return true;
}

static bool is_socket(const Chardev *chr);

static void sock_close(Chardev *chr)
{
    SocketChardev *s = (SocketChardev *)chr;
    fd_watch_remove(s->in_watch);
    fd_watch_remove(s->out_watch);
    fd_watch_remove(s->listen_watch);
    if (s->fd >= 0) {
        sock_flush(s);
        close(s->fd);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    g_byte_array_free(s->outbuf, TRUE);
    g_free(s->path);
    g_free(s->host);
    g_free(s->port);
}

/* Flush pending output to the client (monitor cleanup before exit). */
void chr_socket_flush(Chardev *chr)
{
    SocketChardev *s = (SocketChardev *)chr;
    if (!is_socket(chr)) {
        return;
    }
    int fd = s->fd;
    if (fd < 0) {
        return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    sock_flush(s);
    sock_set_nonblock(fd);
}

static const ChardevOps socket_ops = {
    .name = "socket", .instance_size = sizeof(SocketChardev),
    .open = sock_open, .write = sock_write,
    .accept_input = sock_accept_input, .close = sock_close,
};

static bool is_socket(const Chardev *chr)
{
    return chr->ops == &socket_ops;
}

MODULE_INIT(char_socket_register)
{
    chardev_register(&socket_ops);
}
