/*
 * Chardev monitor commands: chardev-add (QAPI ChardevBackend objects
 * translated to -chardev options), chardev-remove, ringbuf-write and
 * ringbuf-read, and their HMP forms, with QEMU 7.2's replies and errors.
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <string.h>
#include "chardev/char.h"
#include "monitor/monitor-internal.h"
#include "util/module.h"

/* Copy data.<key> (QAPI) to opts <name>, as text. */
static void opt_from(KVDict *d, JsonValue *data, const char *key, const char *name)
{
    JsonValue *v = data ? json_object_get(data, key) : NULL;
    if (!v) {
        return;
    }
    if (v->type == JSON_STRING) {
        kv_set(d, name, v->s);
    } else if (v->type == JSON_BOOL) {
        kv_set(d, name, v->b ? "on" : "off");
    } else if (v->type == JSON_INT) {
        g_autofree char *n = g_strdup_printf("%" G_GINT64_FORMAT, v->i);
        kv_set(d, name, n);
    }
}

static bool socket_addr(KVDict *d, JsonValue *data, Error **errp)
{
    JsonValue *addr = json_object_get(data, "addr");
    if (!addr || addr->type != JSON_OBJECT) {
        error_setg(errp, "Parameter 'backend.data.addr' is missing");
        return false;
    }
    const char *type = json_object_get_str(addr, "type");
    JsonValue *ad = json_object_get(addr, "data");
    if (!type) {
        error_setg(errp, "Parameter 'backend.data.addr.type' is missing");
        return false;
    }
    if (!strcmp(type, "unix")) {
        opt_from(d, ad, "path", "path");
    } else if (!strcmp(type, "inet")) {
        opt_from(d, ad, "host", "host");
        opt_from(d, ad, "port", "port");
    } else if (!strcmp(type, "fd")) {
        opt_from(d, ad, "str", "fd");
    } else {
        error_setg(errp, "Parameter 'type' does not accept value '%s'", type);
        return false;
    }
    static const char *const flags[] = { "server", "wait", "nodelay", "telnet", "tn3270",
                                         "websocket", "reconnect" };
    for (unsigned i = 0; i < G_N_ELEMENTS(flags); i++) {
        opt_from(d, data, flags[i], flags[i]);
    }
    return true;
}

/* QAPI ChardevBackend -> -chardev options. */
static KVDict *backend_to_opts(const char *id, JsonValue *backend, Error **errp)
{
    static const char *const types[] = {
        "file", "serial", "parallel", "pipe", "socket", "udp", "pty", "null", "mux",
        "msmouse", "wctablet", "braille", "testdev", "stdio", "console", "spicevmc",
        "spiceport", "qemu-vdagent", "dbus", "vc", "ringbuf", "memory",
    };
    const char *type = json_object_get_str(backend, "type");
    JsonValue *data = json_object_get(backend, "data");
    bool known = false;

    if (!type) {
        error_setg(errp, "Parameter 'backend.type' is missing");
        return NULL;
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(types); i++) {
        known |= !strcmp(types[i], type);
    }
    if (!known) {
        error_setg(errp, "Parameter 'type' does not accept value '%s'", type);
        return NULL;
    }
    KVDict *d = kv_new();
    kv_set(d, "id", id);
    kv_set(d, "backend", type);
    if (!strcmp(type, "file")) {
        if (!data || !json_object_get(data, "out")) {
            error_setg(errp, "Parameter 'backend.data.out' is missing");
            goto fail;
        }
        opt_from(d, data, "out", "path");
        opt_from(d, data, "in", "input-path");
        opt_from(d, data, "append", "append");
    } else if (!strcmp(type, "pipe") || !strcmp(type, "serial") || !strcmp(type, "parallel")) {
        if (!data || !json_object_get(data, "device")) {
            error_setg(errp, "Parameter 'backend.data.device' is missing");
            goto fail;
        }
        opt_from(d, data, "device", "path");
    } else if (!strcmp(type, "socket")) {
        if (!socket_addr(d, data, errp)) {
            goto fail;
        }
    } else if (!strcmp(type, "ringbuf") || !strcmp(type, "memory")) {
        opt_from(d, data, "size", "size");
    } else if (!strcmp(type, "stdio")) {
        opt_from(d, data, "signal", "signal");
    }
    return d;
fail:
    kv_free(d);
    return NULL;
}

static JsonValue *qmp_chardev_add(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *id = json_object_get_str(args, "id");
    if (chr_find(id)) {
        error_setg(errp, "Chardev with id '%s' already exists", id);
        return NULL;
    }
    KVDict *d = backend_to_opts(id, json_object_get(args, "backend"), errp);
    if (!d) {
        return NULL;
    }
    Chardev *chr = chr_new_from_opts(d, errp);
    kv_free(d);
    if (!chr) {
        return NULL;
    }
    JsonObject *r = json_object_new();
    if (g_str_has_prefix(chr->filename, "pty:")) {
        json_object_set_str(r, "pty", chr->filename + 4);
    }
    return r;
}

static void hmp_chardev_add(Monitor *mon, JsonObject *args)
{
    Error *err = NULL;
    KVDict *d = kv_parse(json_object_get_str(args, "args"), "backend", &err);
    if (d) {
        chr_new_from_opts(d, &err);
        kv_free(d);
    }
    if (err) {
        monitor_printf(mon, "Error: %s\n", error_get_pretty(err));
        error_free(err);
    }
}

static JsonValue *qmp_chardev_remove(Monitor *mon, JsonObject *args, Error **errp)
{
    chr_remove(json_object_get_str(args, "id"), errp);
    return NULL;
}

static Chardev *find_ringbuf(const char *name, Error **errp)
{
    Chardev *chr = chr_find(name);
    if (!chr) {
        error_setg(errp, "Device '%s' not found", name);
        return NULL;
    }
    if (!chr_is_ringbuf(chr)) {
        error_setg(errp, "%s is not a ringbuf device", name);
        return NULL;
    }
    return chr;
}

static JsonValue *qmp_ringbuf_write(Monitor *mon, JsonObject *args, Error **errp)
{
    Chardev *chr = find_ringbuf(json_object_get_str(args, "device"), errp);
    const char *data = json_object_get_str(args, "data");
    const char *fmt = json_object_get_str(args, "format");
    if (!chr) {
        return NULL;
    }
    if (fmt && !strcmp(fmt, "base64")) {
        gsize n;
        g_autofree guchar *raw = g_base64_decode(data, &n);
        chr->ops->write(chr, raw, (int)n);
    } else {
        chr->ops->write(chr, (const uint8_t *)data, (int)strlen(data));
    }
    return NULL;
}

static JsonValue *qmp_ringbuf_read(Monitor *mon, JsonObject *args, Error **errp)
{
    Chardev *chr = find_ringbuf(json_object_get_str(args, "device"), errp);
    int64_t size = json_object_get_int(args, "size", 0);
    const char *fmt = json_object_get_str(args, "format");
    size_t n;
    if (!chr) {
        return NULL;
    }
    if (size <= 0) {
        error_setg(errp, "size must be greater than zero");
        return NULL;
    }
    char *data = chr_ringbuf_read(chr, (size_t)size, &n);
    if (fmt && !strcmp(fmt, "base64")) {
        char *b = g_base64_encode((const guchar *)data, n);
        g_free(data);
        return json_string_take(b);
    }
    return json_string_take(data);
}

static void hmp_ringbuf_read(Monitor *mon, const JsonValue *r)
{
    GString *o = g_string_new(NULL);
    for (const unsigned char *p = (const unsigned char *)r->s; *p; p++) {
        if (*p == '\\') {
            g_string_append(o, "\\\\");
        } else if (*p < 0x20 && *p != '\n' && *p != '\t') {
            g_string_append_printf(o, "\\u%04X", *p);
        } else {
            g_string_append_c(o, (char)*p);
        }
    }
    g_string_append_c(o, '\n');
    monitor_puts(mon, o->str);
    g_string_free(o, TRUE);
}

static const MonCmd chardev_cmds[] = {
    { .name = "chardev-add", .args = "id:s,backend:o", .qmp = qmp_chardev_add },
    { .hmp = "chardev-add", .hmp_args = "args:s", .params = "args", .help = "add chardev",
      .hmp_only = hmp_chardev_add },
    { .name = "chardev-remove", .args = "id:s", .hmp = "chardev-remove", .hmp_args = "id:s",
      .params = "id", .help = "remove chardev", .qmp = qmp_chardev_remove },
    { .name = "ringbuf-write", .args = "device:s,data:s,format:s?", .hmp = "ringbuf_write",
      .hmp_args = "device:s,data:S", .params = "device data",
      .help = "Write to a ring buffer character device", .qmp = qmp_ringbuf_write },
    { .name = "ringbuf-read", .args = "device:s,size:i,format:s?", .hmp = "ringbuf_read",
      .hmp_args = "device:s,size:i", .params = "device size",
      .help = "Read from a ring buffer character device", .qmp = qmp_ringbuf_read,
      .hmp_print = hmp_ringbuf_read },
    { .name = NULL, .hmp = NULL },
};

MODULE_INIT(chardev_cmds_register)
{
    mon_cmds_register(chardev_cmds);
}
