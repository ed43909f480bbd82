/*
 * Monitor core: -mon/-qmp/-monitor creation, the command registry shared
 * by QMP and HMP, output helpers ("\n" sent as "\r\n" as QEMU's
 * monitor_puts does), QMP events with timestamps broadcast to every
 * negotiated QMP monitor (the runstate events come through
 * runstate_event_hook), and the exit-time flush.
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <stdarg.h>
#include <string.h>
#include "chardev/char.h"
#include "monitor/monitor-internal.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "util/module.h"

GPtrArray *mon_list;
static GPtrArray *cmd_tables;      /* const MonCmd * (table starts) */

void (*hmp_info_registers_hook)(GString *out, int cpu_index);
void (*hmp_info_mem_hook)(GString *out, int cpu_index);
void (*hmp_info_tlb_hook)(GString *out, int cpu_index);
bool (*monitor_virt_to_phys)(CPUState *cpu, uint64_t va, uint64_t *pa);
bool (*monitor_get_register_hook)(CPUState *cpu, const char *name, int64_t *val);

/* ------------------------------------------------------------ registry */

void mon_cmds_register(const MonCmd *table)
{
    if (!cmd_tables) {
        cmd_tables = g_ptr_array_new();
    }
    g_ptr_array_add(cmd_tables, (gpointer)table);
}

void mon_cmds_foreach(void (*fn)(const MonCmd *cmd, void *opaque), void *opaque)
{
    for (unsigned t = 0; cmd_tables && t < cmd_tables->len; t++) {
        for (const MonCmd *c = cmd_tables->pdata[t]; c->name || c->hmp; c++) {
            fn(c, opaque);
        }
    }
}

const MonCmd *mon_cmd_find_qmp(const char *name)
{
    for (unsigned t = 0; cmd_tables && t < cmd_tables->len; t++) {
        for (const MonCmd *c = cmd_tables->pdata[t]; c->name || c->hmp; c++) {
            if (c->name && c->qmp && !strcmp(c->name, name)) {
                return c;
            }
        }
    }
    return NULL;
}

/* -------------------------------------------------------------- output */

void mon_write_raw(Monitor *mon, const char *s, size_t len)
{
    if (mon->capture) {
        g_string_append_len(mon->capture, s, len);
        return;
    }
    if (!mon->qmp && mon->mux_out) {
        if (mon->mux_held->len < (1u << 20)) {
            g_string_append_len(mon->mux_held, s, len);
        }
        return;
    }
    chr_fe_write_all(&mon->fe, (const uint8_t *)s, (int)len);
}

void mon_flush(Monitor *mon)
{
    if (!mon->qmp && !mon->mux_out && mon->mux_held->len) {
        chr_fe_write_all(&mon->fe, (const uint8_t *)mon->mux_held->str, (int)mon->mux_held->len);
        g_string_truncate(mon->mux_held, 0);
    }
}

void monitor_puts(Monitor *mon, const char *s)
{
    GString *o = g_string_sized_new(strlen(s) + 16);
    for (const char *p = s; *p; p++) {
        if (*p == '\n') {
            g_string_append_c(o, '\r');
        }
        g_string_append_c(o, *p);
    }
    mon_write_raw(mon, o->str, o->len);
    g_string_free(o, TRUE);
}

void monitor_printf(Monitor *mon, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    monitor_puts(mon, s);
}

bool monitor_is_qmp(const Monitor *mon)
{
    return mon->qmp;
}

CPUState *monitor_cur_cpu(Monitor *mon)
{
    if (!n_cpus) {
        return NULL;
    }
    int i = mon && mon->cpu_index >= 0 && mon->cpu_index < n_cpus ? mon->cpu_index : 0;
    return cpus[i];
}

/* -------------------------------------------------------------- events */

void qmp_event_send(const char *name, JsonObject *data)
{
    gint64 now = g_get_real_time();
    JsonObject *ev = json_object_new();
    JsonObject *ts = json_object_new();

    json_object_set_int(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set(ev, "event", json_string(name));
    if (data) {
        json_object_set(ev, "data", data);
    }
    json_object_set(ev, "timestamp", ts);
    for (unsigned i = 0; mon_list && i < mon_list->len; i++) {
        Monitor *mon = mon_list->pdata[i];
        if (!mon->qmp || !mon->negotiated || !chr_fe_backend_connected(&mon->fe)) {
            continue;
        }
        g_autofree char *s = json_to_string(ev, JSON_EMIT_QDICT_ORDER |
                                            (mon->pretty ? JSON_EMIT_PRETTY : 0));
        monitor_puts(mon, s);
        monitor_puts(mon, "\n");
    }
    json_free(ev);
}

static void runstate_event(const char *name, const char *data_json)
{
    JsonValue *data = NULL;
    if (data_json) {
        data = json_parse_str(data_json, NULL);
    }
    qmp_event_send(name, data);
}

/* ------------------------------------------------------------ creation */

static Notifier exit_notifier;
static bool exit_notifier_added;

static void monitor_exit_notify(Notifier *n, void *data)
{
    (void)n;
    (void)data;
    monitor_cleanup();
}

Monitor *monitor_new(Chardev *chr, bool qmp, bool pretty, Error **errp)
{
    Monitor *mon = g_new0(Monitor, 1);

    mon->qmp = qmp;
    mon->pretty = pretty;
    mon->chr = chr;
    mon->mux_held = g_string_new(NULL);
    mon->fe.passive = true;
    g_queue_init(&mon->reqs);
    if (!chr_fe_init(&mon->fe, chr, errp)) {
        g_string_free(mon->mux_held, TRUE);
        g_free(mon);
        return NULL;
    }
    if (!mon_list) {
        mon_list = g_ptr_array_new();
    }
    g_ptr_array_add(mon_list, mon);
    runstate_event_hook = runstate_event;
    if (!exit_notifier_added) {
        exit_notifier_added = true;
        exit_notifier.fn = monitor_exit_notify;
        qemu_register_exit_notifier(&exit_notifier);
    }
    if (qmp) {
        qmp_mon_init(mon);
    } else {
        hmp_mon_init(mon);
    }
    return mon;
}

bool monitor_init_opts(KVDict *opts, Error **errp)
{
    const char *chardev = kv_get(opts, "chardev");
    const char *mode = kv_get(opts, "mode");
    bool pretty = false, qmp = false;

    kv_get(opts, "id");
    if (!kv_get_bool(opts, "pretty", false, &pretty, errp)) {
        return false;
    }
    if (!mode || !strcmp(mode, "readline")) {
        qmp = false;
    } else if (!strcmp(mode, "control")) {
        qmp = true;
    } else {
        error_setg(errp, "Parameter 'mode' does not accept value '%s'", mode);
        return false;
    }
    if (!kv_check_all_used(opts, errp)) {
        return false;
    }
    if (!chardev) {
        error_setg(errp, "Parameter 'chardev' is missing");
        return false;
    }
    Chardev *chr = chr_find(chardev);
    if (!chr) {
        error_setg(errp, "chardev \"%s\" not found", chardev);
        return false;
    }
    if (pretty && !qmp) {
        warn_report("'pretty' is deprecated for HMP monitors, it has no effect and will be removed in future versions");
    }
    return monitor_new(chr, qmp, pretty, errp) != NULL;
}

void monitor_cleanup(void)
{
    for (unsigned i = 0; mon_list && i < mon_list->len; i++) {
        Monitor *mon = mon_list->pdata[i];
        if (mon->held_reply) {
            GString *r = mon->held_reply;
            mon->held_reply = NULL;
            mon_write_raw(mon, r->str, r->len);
            g_string_free(r, TRUE);
        }
    }
    chr_flush_all();
}
