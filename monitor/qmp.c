/*
 * QMP protocol (QEMU docs/interop/qmp-spec): greeting on connect,
 * capability negotiation, request checks and dispatch with QEMU 7.2's
 * error classes and texts, "id" echo, one reply per request in order,
 * compact or pretty JSON ending in CRLF. Commands that post a request to
 * the main loop (system_reset, system_powerdown, quit) have their reply
 * held until the main loop has handled it, so the events they cause go
 * out first, as QEMU's do.
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <string.h>
#include "monitor/monitor-internal.h"
#include "system/main-loop.h"
#if __has_include("kemu-config.h")
#include "kemu-config.h"
#endif
#ifndef KEMU_PKG_VERSION
#define KEMU_PKG_VERSION "kemu"
#endif

#define QMP_QUEUE_MAX 256

typedef struct QmpReq {
    JsonValue *v;
    Error *err;
} QmpReq;

static void qmp_send(Monitor *mon, JsonValue *rsp, bool hold)
{
    g_autofree char *s = json_to_string(rsp, JSON_EMIT_QDICT_ORDER |
                                        (mon->pretty ? JSON_EMIT_PRETTY : 0));
    if (hold) {
        GString *o = g_string_new(NULL);
        for (const char *p = s; *p; p++) {
            if (*p == '\n') {
                g_string_append_c(o, '\r');
            }
            g_string_append_c(o, *p);
        }
        g_string_append(o, "\r\n");
        mon->held_reply = o;
        return;
    }
    monitor_puts(mon, s);
    monitor_puts(mon, "\n");
}

static JsonValue *error_response(Error *err, JsonValue *id)
{
    JsonObject *rsp = json_object_new();
    JsonObject *e = json_object_new();
    json_object_set_str(e, "class", error_class_name(err->cls));
    json_object_set_str(e, "desc", error_get_pretty(err));
    json_object_set(rsp, "error", e);
    if (id) {
        json_object_set(rsp, "id", id);
    }
    error_free(err);
    return rsp;
}

static bool spec_next(const char **sp, char *name, size_t nlen, char *type, bool *opt)
{
    const char *s = *sp;
    if (!s || !*s) {
        return false;
    }
    const char *colon = strchr(s, ':');
    size_t n = MIN((size_t)(colon - s), nlen - 1);
    memcpy(name, s, n);
    name[n] = 0;
    *type = colon[1];
    *opt = colon[2] == '?';
    const char *comma = strchr(colon, ',');
    *sp = comma ? comma + 1 : colon + strlen(colon);
    return true;
}

bool qmp_check_args(const char *spec, JsonObject *args, Error **errp)
{
    const char *sp = spec;
    char name[64], type;
    bool opt;

    while (spec_next(&sp, name, sizeof(name), &type, &opt)) {
        JsonValue *v = json_object_get(args, name);
        const char *want = NULL;
        if (!v) {
            if (!opt) {
                error_setg(errp, "Parameter '%s' is missing", name);
                return false;
            }
            continue;
        }
        switch (type) {
        case 's': want = v->type == JSON_STRING ? NULL : "string"; break;
        case 'i': want = v->type == JSON_INT || v->type == JSON_UINT ? NULL : "integer"; break;
        case 'b': want = v->type == JSON_BOOL ? NULL : "boolean"; break;
        case 'n':
            want = v->type == JSON_INT || v->type == JSON_UINT || v->type == JSON_DOUBLE
                   ? NULL : "number";
            break;
        case 'o': want = v->type == JSON_OBJECT ? NULL : "object"; break;
        case 'a': want = v->type == JSON_ARRAY ? NULL : "array"; break;
        default: break;
        }
        if (want) {
            error_setg(errp, "Invalid parameter type for '%s', expected: %s", name, want);
            return false;
        }
    }
    /* QEMU reports the first key left in a GHashTable of unvisited
     * members (filled in QDict order): use the same glib table so the
     * choice among several unexpected keys is the same. */
    g_autofree unsigned *ord = json_object_qdict_order(args);
    GHashTable *h = g_hash_table_new(g_str_hash, g_str_equal);
    for (unsigned i = 0; i < json_object_size(args); i++) {
        g_hash_table_insert(h, (gpointer)json_object_key(args, ord[i]), NULL);
    }
    sp = spec;
    while (spec_next(&sp, name, sizeof(name), &type, &opt)) {
        g_hash_table_remove(h, name);
    }
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, h);
    if (g_hash_table_iter_next(&it, &key, NULL)) {
        error_setg(errp, "Parameter '%s' is unexpected", (const char *)key);
        g_hash_table_destroy(h);
        return false;
    }
    g_hash_table_destroy(h);
    return true;
}

/* QEMU's qmp_dispatch_check_obj, in QDict order. */
static bool check_request(JsonObject *req, bool oob, Error **errp)
{
    g_autofree unsigned *ord = json_object_qdict_order(req);
    for (unsigned i = 0; i < json_object_size(req); i++) {
        const char *key = json_object_key(req, ord[i]);
        JsonValue *v = json_object_val(req, ord[i]);
        if (!strcmp(key, "execute") || (oob && !strcmp(key, "exec-oob"))) {
            if (v->type != JSON_STRING) {
                error_setg(errp, "QMP input member '%s' must be a string", key);
                return false;
            }
        } else if (!strcmp(key, "arguments")) {
            if (v->type != JSON_OBJECT) {
                error_setg(errp, "QMP input member 'arguments' must be an object");
                return false;
            }
        } else {
            error_setg(errp, "QMP input member '%s' is unexpected", key);
            return false;
        }
    }
    if (json_object_get(req, "execute") && json_object_get(req, "exec-oob")) {
        error_setg(errp, "QMP input member 'execute' clashes with 'exec-oob'");
        return false;
    }
    if (!json_object_get(req, "execute") && !json_object_get(req, "exec-oob")) {
        error_setg(errp, "QMP input lacks member 'execute'");
        return false;
    }
    return true;
}

static void qmp_handle(Monitor *mon, JsonValue *req, Error *perr)
{
    JsonValue *id = NULL, *ret = NULL;
    Error *err = perr;
    const MonCmd *cmd = NULL;
    const char *name;

    if (err) {
        goto reply;
    }
    if (req->type != JSON_OBJECT) {
        error_setg(&err, "QMP input must be a JSON object");
        goto reply;
    }
    id = json_object_steal(req, "id");
    if (!check_request(req, mon->oob, &err)) {
        goto reply;
    }
    name = json_object_get_str(req, "execute");
    if (!name) {
        /* no command of ours may run out of band */
        name = json_object_get_str(req, "exec-oob");
        if (mon_cmd_find_qmp(name)) {
            error_setg(&err, "The command %s does not support OOB", name);
        } else {
            error_set(&err, ERROR_CLASS_COMMAND_NOT_FOUND, "The command %s has not been found", name);
        }
        goto reply;
    }
    if (!mon->negotiated && strcmp(name, "qmp_capabilities")) {
        error_set(&err, ERROR_CLASS_COMMAND_NOT_FOUND,
                  "Expecting capabilities negotiation with 'qmp_capabilities'");
        goto reply;
    }
    cmd = mon_cmd_find_qmp(name);
    if (!cmd) {
        error_set(&err, ERROR_CLASS_COMMAND_NOT_FOUND, "The command %s has not been found", name);
        goto reply;
    }
    JsonValue *args = json_object_get(req, "arguments");
    JsonObject *empty = NULL;
    if (!args) {
        args = empty = json_object_new();
    }
    if ((cmd->flags & MON_CMD_ANY_ARGS) ||
        qmp_check_args(cmd->args ? cmd->args : "", args, &err)) {
        ret = cmd->qmp(mon, args, &err);
        if (!ret && !err) {
            ret = json_object_new();
        }
    }
    json_free(empty);

reply:;
    JsonValue *rsp;
    if (err) {
        rsp = error_response(err, id);
        json_free(ret);
    } else {
        rsp = json_object_new();
        json_object_set(rsp, "return", ret);
        if (id) {
            json_object_set(rsp, "id", id);
        }
    }
    bool hold = !err && cmd && (cmd->flags & MON_CMD_DEFER_REPLY);
    qmp_send(mon, rsp, hold);
    json_free(rsp);
    json_free(req);
    if (hold) {
        mon->waiting = true;
    }
}

static void qmp_resume_bh(void *opaque)
{
    Monitor *mon = opaque;
    if (mon->held_reply) {
        GString *r = mon->held_reply;
        mon->held_reply = NULL;
        mon_write_raw(mon, r->str, r->len);
        g_string_free(r, TRUE);
    }
    mon->waiting = false;
    while (!mon->waiting && !g_queue_is_empty(&mon->reqs)) {
        QmpReq *q = g_queue_pop_head(&mon->reqs);
        qmp_handle(mon, q->v, q->err);
        g_free(q);
    }
    if (mon->waiting) {
        main_loop_schedule(qmp_resume_bh, mon);
    }
    chr_fe_accept_input(&mon->fe);
}

static void qmp_emit(void *opaque, JsonValue *v, Error *err)
{
    Monitor *mon = opaque;
    if (mon->waiting) {
        QmpReq *q = g_new(QmpReq, 1);
        q->v = v;
        q->err = err;
        g_queue_push_tail(&mon->reqs, q);
        return;
    }
    qmp_handle(mon, v, err);
    if (mon->waiting) {
        main_loop_schedule(qmp_resume_bh, mon);
    }
}

static int qmp_can_read(void *opaque)
{
    Monitor *mon = opaque;
    return g_queue_get_length(&mon->reqs) < QMP_QUEUE_MAX ? 4096 : 0;
}

static void qmp_read(void *opaque, const uint8_t *buf, int len)
{
    Monitor *mon = opaque;
    json_streamer_feed(mon->js, (const char *)buf, len);
}

static void qmp_drop_queue(Monitor *mon)
{
    QmpReq *q;
    while ((q = g_queue_pop_head(&mon->reqs))) {
        json_free(q->v);
        error_free(q->err);
        g_free(q);
    }
}

static void qmp_greeting(Monitor *mon)
{
    JsonObject *ver = json_object_new(), *qemu = json_object_new();
    JsonObject *qmp = json_object_new(), *g = json_object_new();
    JsonValue *caps = json_array_new();

    json_object_set_int(qemu, "major", 7);
    json_object_set_int(qemu, "minor", 2);
    json_object_set_int(qemu, "micro", 0);
    json_object_set(ver, "qemu", qemu);
    json_object_set_str(ver, "package", KEMU_PKG_VERSION);
    json_array_append(caps, json_string("oob"));
    json_object_set(qmp, "version", ver);
    json_object_set(qmp, "capabilities", caps);
    json_object_set(g, "QMP", qmp);
    qmp_send(mon, g, false);
    json_free(g);
}

static void qmp_event(void *opaque, int event)
{
    Monitor *mon = opaque;
    switch (event) {
    case CHR_EVENT_OPENED:
        mon->negotiated = false;
        mon->oob = false;
        json_streamer_reset(mon->js);
        qmp_greeting(mon);
        break;
    case CHR_EVENT_CLOSED:
        /* like QEMU: negotiation is reset on the next OPENED only, so a
         * stdio monitor whose stdin closed still gets events on stdout */
        json_streamer_reset(mon->js);
        qmp_drop_queue(mon);
        break;
    default:
        break;
    }
}

static void qmp_setup_handlers_bh(void *opaque)
{
    Monitor *mon = opaque;
    chr_fe_set_handlers(&mon->fe, qmp_can_read, qmp_read, qmp_event, mon);
}

void qmp_mon_init(Monitor *mon)
{
    mon->js = json_streamer_new(qmp_emit, mon);
    /* Like QEMU (whose QMP monitors attach from the monitor I/O thread), the
     * greeting goes out once the main loop runs: a start-up error that
     * follows the monitor's creation (a -device or -drive that fails) ends
     * the process before any QMP output. */
    main_loop_schedule(qmp_setup_handlers_bh, mon);
}
