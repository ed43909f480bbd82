/*
 * Monitor internals shared by monitor.c (core, output, events), qmp.c,
 * hmp.c and the command files. Not for use outside monitor/.
 * Locking: BQL.
 */
#ifndef MONITOR_INTERNAL_H
#define MONITOR_INTERNAL_H

#include "chardev/char.h"
#include "monitor/monitor.h"

#define HMP_LINE_MAX 4096
#define HMP_HISTORY_MAX 64

typedef struct ReadLine {
    char buf[HMP_LINE_MAX];
    int len, pos;              /* cmd_buf_size, cmd_buf_index */
    int last_len, last_pos;    /* what the terminal shows */
    char last[HMP_LINE_MAX];
    int esc_state, esc_param;
    char *history[HMP_HISTORY_MAX];
    int hist_n, hist_entry;
} ReadLine;

struct Monitor {
    bool qmp, pretty;
    CharFrontend fe;
    Chardev *chr;
    GString *capture;          /* non-NULL: human-monitor-command capture */
    /* QMP */
    bool negotiated;
    bool oob;                  /* "oob" capability enabled by qmp_capabilities */
    JsonStreamer *js;
    GQueue reqs;               /* QmpReq * parsed while a reply is deferred */
    bool waiting;              /* a reply is held until the main loop ran */
    GString *held_reply;
    /* HMP */
    ReadLine rl;
    bool reset_seen, mux_out;
    GString *mux_held;         /* output while another mux frontend has focus */
    int cpu_index;
};

/* monitor.c */
void mon_write_raw(Monitor *mon, const char *s, size_t len);
void mon_flush(Monitor *mon);
extern GPtrArray *mon_list;

/* qmp.c */
void qmp_mon_init(Monitor *mon);
/* Validate args against a spec (QEMU's messages); false + errp on error. */
bool qmp_check_args(const char *spec, JsonObject *args, Error **errp);

/* hmp.c */
void hmp_mon_init(Monitor *mon);
void hmp_handle_line(Monitor *mon, const char *line);
void hmp_print_help(Monitor *mon, const char *name);
const MonCmd *hmp_find(const char *name, bool info);
/* Parse an HMP expression ("0x100+4", "$pc"); false after printing an error. */
bool hmp_parse_expr(Monitor *mon, const char **p, int64_t *out);

/* QOM path index of vCPU i: QEMU's pc puts another object at device[1]. */
static inline int mon_cpu_qom_index(int i)
{
    return i == 0 ? 0 : i + 1;
}
/* vCPU for a /machine/unattached/device[N] index, or -1. */
int mon_cpu_from_qom_index(int n);

/* hmp-cmds.c */
void hmp_info_cpus(Monitor *mon, JsonObject *args);
void hmp_memory_dump(Monitor *mon, JsonObject *args, bool physical);
/* qom-list /objects: user objects and the implicit RAM backend (cmds-object.c). */
void qom_list_objects(JsonValue *list);
/* QEMU creates /objects with the first object (pc.ram on a PC). */
bool qom_objects_exist(void);

#endif
