/*
 * Display and input commands: screendump (QMP/HMP, PPM or PNG), send-key
 * and HMP sendkey (QEMU qcode names or key numbers, released after
 * hold-time ms), input-send-event (key, btn, rel), query-vnc / info vnc
 * and change-vnc-password (refused: no password support), with QEMU
 * 7.2's messages.
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "hw/qdev.h"
#include "monitor/monitor.h"
#include "system/timer.h"
#include "ui/console.h"
#include "ui/display.h"
#include "util/module.h"

/* ------------------------------------------------------------ screendump */

static JsonValue *qmp_screendump(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *file = json_object_get_str(args, "filename");
    const char *format = json_object_get_str(args, "format");
    const char *device = json_object_get_str(args, "device");
    if (format && strcmp(format, "ppm") && strcmp(format, "png")) {
        error_setg(errp, "Parameter 'format' does not accept value '%s'", format);
        return NULL;
    }
    if (json_object_has(args, "head") && !device) {
        error_setg(errp, "'head' must be specified together with 'device'");
        return NULL;
    }
    if (device) {
        DeviceState *dev = dev_find_by_id(device);
        if (!dev) {
            error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", device);
            return NULL;
        }
        int64_t head = json_object_get_int(args, "head", 0);
        if (strcmp(dev->cls->name, "VGA") || head != 0) {
            error_setg(errp, "Device '%s' (head %" PRId64 ") is not a graphic console", device, head);
            return NULL;
        }
    }
    if (!screendump_write(file, format ? format : "ppm", errp)) {
        return NULL;
    }
    return json_object_new();
}

/* HMP: screendump filename [-f format] [device [head]] */
static void hmp_screendump(Monitor *mon, JsonObject *args)
{
    const char *line = json_object_get_str(args, "args");
    g_auto(GStrv) w = g_strsplit_set(line ? line : "", " \t", -1);
    GPtrArray *words = g_ptr_array_new();
    for (int i = 0; w[i]; i++) {
        if (*w[i]) {
            g_ptr_array_add(words, w[i]);
        }
    }
    if (!words->len) {
        monitor_printf(mon, "screendump: filename expected\n");
        monitor_printf(mon, "Try \"help screendump\" for more information\n");
        g_ptr_array_free(words, TRUE);
        return;
    }
    JsonObject *q = json_object_new();
    json_object_set_str(q, "filename", words->pdata[0]);
    unsigned i = 1;
    if (i < words->len && !strcmp(words->pdata[i], "-f")) {
        if (i + 1 >= words->len) {
            monitor_printf(mon, "screendump: parameter -f expects a value\n");
            goto out;
        }
        const char *fmt = words->pdata[i + 1];
        if (strcmp(fmt, "ppm") && strcmp(fmt, "png")) {
            monitor_printf(mon, "Error: invalid parameter value: %s\n", fmt);
            goto out;
        }
        json_object_set_str(q, "format", fmt);
        i += 2;
    }
    if (i < words->len) {
        json_object_set_str(q, "device", words->pdata[i++]);
    }
    if (i < words->len) {
        json_object_set_int(q, "head", strtol(words->pdata[i++], NULL, 0));
    }
    Error *err = NULL;
    JsonValue *r = qmp_screendump(mon, q, &err);
    if (err) {
        monitor_printf(mon, "Error: %s\n", error_get_pretty(err));
        error_free(err);
    }
    json_free(r);
out:
    json_free(q);
    g_ptr_array_free(words, TRUE);
}

/* ------------------------------------------------------------ send-key */

typedef struct KeyRelease {
    Timer *timer;
    int n;
    int codes[];
} KeyRelease;

static void key_release_fire(void *opaque)
{
    KeyRelease *kr = opaque;
    for (int i = kr->n - 1; i >= 0; i--) {
        console_put_keycode(kr->codes[i], false);
    }
    timer_free(kr->timer);
    g_free(kr);
}

/* A KeyValue {"type": "qcode"|"number", "data": ...}: the keycode
 * (0 = nothing to send), or -1 with errp set. */
static int keyvalue_code(const JsonValue *kv, Error **errp)
{
    if (!kv || kv->type != JSON_OBJECT) {
        error_setg(errp, "Invalid parameter type for 'keys', expected: object");
        return -1;
    }
    const char *type = json_object_get_str(kv, "type");
    JsonValue *data = json_object_get(kv, "data");
    if (!json_object_has(kv, "type")) {
        error_setg(errp, "Parameter 'type' is missing");
        return -1;
    }
    if (!type) {
        error_setg(errp, "Invalid parameter type for 'type', expected: string");
        return -1;
    }
    bool qcode = !strcmp(type, "qcode");
    if (!qcode && strcmp(type, "number")) {
        error_setg(errp, "Parameter 'type' does not accept value '%s'", type);
        return -1;
    }
    if (!data) {
        error_setg(errp, "Parameter 'data' is missing");
        return -1;
    }
    if (qcode) {
        if (data->type != JSON_STRING) {
            error_setg(errp, "Invalid parameter type for 'data', expected: string");
            return -1;
        }
        int code = qcode_to_keycode(data->s);
        if (code < 0) {
            error_setg(errp, "Parameter 'data' does not accept value '%s'", data->s);
            return -1;
        }
        return code;
    }
    if (data->type != JSON_INT) {
        error_setg(errp, "Invalid parameter type for 'data', expected: integer");
        return -1;
    }
    return data->i > 0 && data->i < 256 ? qnum_to_keycode((int)data->i) : 0;
}

static void send_keys(const int *codes, int n, int64_t hold_ms)
{
    KeyRelease *kr = g_malloc(sizeof(*kr) + sizeof(int) * (size_t)n);
    kr->n = 0;
    for (int i = 0; i < n; i++) {
        if (codes[i]) {
            console_put_keycode(codes[i], true);
            kr->codes[kr->n++] = codes[i];
        }
    }
    kr->timer = timer_new(CLOCK_REALTIME_NS, key_release_fire, kr);
    timer_mod(kr->timer, clock_get_ns(CLOCK_REALTIME_NS) + hold_ms * 1000000);
}

static JsonValue *qmp_send_key(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *keys = json_object_get(args, "keys");
    unsigned n = json_array_len(keys);
    g_autofree int *codes = g_new0(int, n + 1);
    for (unsigned i = 0; i < n; i++) {
        codes[i] = keyvalue_code(json_array_get(keys, i), errp);
        if (codes[i] < 0) {
            return NULL;
        }
    }
    int64_t hold = json_object_get_int(args, "hold-time", 100);
    send_keys(codes, (int)n, hold > 0 ? hold : 0);
    return json_object_new();
}

/* HMP: sendkey ctrl-alt-delete [hold_ms] (names or numbers like 0x1e) */
static void hmp_sendkey(Monitor *mon, JsonObject *args)
{
    const char *spec = json_object_get_str(args, "keys");
    g_auto(GStrv) parts = g_strsplit(spec, "-", -1);
    int n = (int)g_strv_length(parts);
    g_autofree int *codes = g_new0(int, n + 1);
    for (int i = 0; i < n; i++) {
        const char *k = parts[i];
        int code = *k ? qcode_to_keycode(k) : -1;
        if (code < 0 && *k) {
            char *end;
            long v = strtol(k, &end, 0);
            if (!*end && end != k) {
                code = v > 0 && v < 256 ? qnum_to_keycode((int)v) : 0;
            }
        }
        if (code < 0) {
            monitor_printf(mon, "invalid parameter: %s\n", k);
            return;
        }
        codes[i] = code;
    }
    send_keys(codes, n, json_object_get_int(args, "hold-time", 100));
}

/* ------------------------------------------------------ input-send-event */

static int mouse_buttons;

static JsonValue *qmp_input_send_event(Monitor *mon, JsonObject *args, Error **errp)
{
    JsonValue *events = json_object_get(args, "events");
    unsigned n = json_array_len(events);
    if (json_object_has(args, "device")) {
        const char *device = json_object_get_str(args, "device");
        if (!device || !dev_find_by_id(device)) {
            error_setg(errp, "Device '%s' not found", device ? device : "");
            return NULL;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        JsonValue *ev = json_array_get(events, i);
        const char *type = ev && ev->type == JSON_OBJECT ? json_object_get_str(ev, "type") : NULL;
        JsonValue *data = type ? json_object_get(ev, "data") : NULL;
        if (!type || !data || data->type != JSON_OBJECT) {
            error_setg(errp, "Parameter 'type' is missing");
            return NULL;
        }
        if (!strcmp(type, "key")) {
            int code = keyvalue_code(json_object_get(data, "key"), errp);
            if (code < 0) {
                return NULL;
            }
            if (code) {
                console_put_keycode(code, json_object_get_bool(data, "down", false));
            }
        } else if (!strcmp(type, "btn")) {
            static const char *const names[] = { "left", "right", "middle" };
            const char *b = json_object_get_str(data, "button");
            int bit = -1;
            for (int j = 0; b && j < 3; j++) {
                if (!strcmp(b, names[j])) {
                    bit = j;
                }
            }
            if (bit < 0) {
                continue;          /* wheel and side buttons: not on a PS/2 mouse here */
            }
            if (json_object_get_bool(data, "down", false)) {
                mouse_buttons |= 1 << bit;
            } else {
                mouse_buttons &= ~(1 << bit);
            }
            console_put_mouse(0, 0, 0, mouse_buttons);
        } else if (!strcmp(type, "rel")) {
            const char *axis = json_object_get_str(data, "axis");
            int64_t v = json_object_get_int(data, "value", 0);
            if (axis && !strcmp(axis, "x")) {
                console_put_mouse((int)v, 0, 0, mouse_buttons);
            } else if (axis && !strcmp(axis, "y")) {
                console_put_mouse(0, (int)-v, 0, mouse_buttons);
            }
        } else if (!strcmp(type, "abs")) {
            error_setg(errp, "Input handler not found for event type abs");
            return NULL;
        } else {
            error_setg(errp, "Parameter 'type' does not accept value '%s'", type);
            return NULL;
        }
    }
    return json_object_new();
}

/* ------------------------------------------------------------------ vnc */

static JsonValue *qmp_query_vnc(Monitor *mon, JsonObject *args, Error **errp)
{
    return vnc_query();
}

static void hmp_info_vnc(Monitor *mon, const JsonValue *r)
{
    if (!json_object_get_bool(r, "enabled", false)) {
        monitor_printf(mon, "None\n");
        return;
    }
    monitor_printf(mon, "default:\n");
    monitor_printf(mon, "  Server: %s:%s (%s)\n", json_object_get_str(r, "host"),
                   json_object_get_str(r, "service"), json_object_get_str(r, "family"));
    monitor_printf(mon, "    Auth: none (Sub: none)\n");
    JsonValue *clients = json_object_get(r, "clients");
    for (unsigned i = 0; i < json_array_len(clients); i++) {
        JsonValue *c = json_array_get(clients, i);
        monitor_printf(mon, "  Client: %s:%s (%s)\n", json_object_get_str(c, "host"),
                       json_object_get_str(c, "service"), json_object_get_str(c, "family"));
        monitor_printf(mon, "    x509_dname: none\n");
        monitor_printf(mon, "    sasl_username: none\n");
    }
}

static JsonValue *qmp_change_vnc_password(Monitor *mon, JsonObject *args, Error **errp)
{
    error_setg(errp, "Could not set password");
    return NULL;
}

static const MonCmd ui_cmds[] = {
    { .name = "screendump", .args = "filename:s,device:s?,head:i?,format:s?", .qmp = qmp_screendump },
    { .hmp = "screendump", .hmp_args = "args:S?", .params = "filename [-f format] [device [head]]",
      .help = "save screen from head 'head' of display device 'device'in specified format 'format' "
              "as image 'filename'.Currently only 'png' and 'ppm' formats are supported.",
      .hmp_only = hmp_screendump },
    { .name = "send-key", .args = "keys:a,hold-time:i?", .qmp = qmp_send_key },
    { .hmp = "sendkey", .hmp_args = "keys:s,hold-time:i?", .params = "keys [hold_ms]",
      .help = "send keys to the VM (e.g. 'sendkey ctrl-alt-f1', default hold time=100 ms)",
      .hmp_only = hmp_sendkey },
    { .name = "input-send-event", .args = "events:a,device:s?,head:i?", .qmp = qmp_input_send_event },
    { .name = "query-vnc", .hmp = "info vnc", .params = "", .help = "show the vnc server status",
      .qmp = qmp_query_vnc, .hmp_print = hmp_info_vnc },
    { .name = "change-vnc-password", .args = "password:s", .qmp = qmp_change_vnc_password },
    { .name = NULL, .hmp = NULL },
};

MODULE_INIT(ui_cmds_register)
{
    mon_cmds_register(ui_cmds);
}
