/*
 * Monitors: QMP (JSON, QEMU's qmp-spec wire format) and HMP (readline
 * text), both driven by one command table (MonCmd). Other subsystems may
 * add commands with mon_cmds_register() from a MODULE_INIT constructor.
 * Locking: everything runs in the main loop with the BQL held.
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include "util/error.h"
#include "util/json.h"
#include "util/kvopts.h"

typedef struct Monitor Monitor;
typedef struct Chardev Chardev;
typedef struct CPUState CPUState;

enum {
    MON_CMD_DEFER_REPLY = 1,   /* reply after the main loop handled the request it posted */
    MON_CMD_HMP_ONLY_NAME = 2, /* reserved */
    MON_CMD_ANY_ARGS = 4,      /* QMP: no member check ('gen': false, e.g. device_add) */
};

/*
 * One command. The QMP argument spec is "name:T[?],..." with T one of
 * s (string), i (integer), b (boolean), n (number), o (object), a (array),
 * A (any); '?' marks an optional member. The HMP spec uses QEMU's letters:
 * s (word), S (rest of line), l/i (expression), / (format), b (on/off),
 * -x (flag, "force:-f"); a trailing '?' makes it optional.
 */
typedef struct MonCmd {
    const char *name;          /* QMP name; NULL for HMP-only commands */
    const char *args;          /* QMP argument spec */
    const char *hmp;           /* HMP names "stop|s", "info status"; NULL: QMP only */
    const char *hmp_args;      /* HMP argument spec (NULL: no arguments) */
    const char *params, *help; /* `help` text */
    JsonValue *(*qmp)(Monitor *mon, JsonObject *args, Error **errp);
    void (*hmp_print)(Monitor *mon, const JsonValue *ret);   /* NULL: print nothing */
    void (*hmp_only)(Monitor *mon, JsonObject *args);         /* HMP handler (no QMP) */
    unsigned flags;
} MonCmd;

/* Register a table terminated by an entry with name == hmp == NULL. */
void mon_cmds_register(const MonCmd *table);
const MonCmd *mon_cmd_find_qmp(const char *name);
/* Iterate every registered command (query-commands, help). */
void mon_cmds_foreach(void (*fn)(const MonCmd *cmd, void *opaque), void *opaque);

/* -mon chardev=X,mode=readline|control[,pretty=on] (and -qmp/-monitor). */
bool monitor_init_opts(KVDict *opts, Error **errp);
/* -blockdev key=value or JSON: create the named node(s) (cmds-block.c). */
bool blockdev_add_str(const char *arg, Error **errp);
/* The node a -blockdev/blockdev-add created under this node-name, or NULL. */
typedef struct BlockDriverState BlockDriverState;
BlockDriverState *blockdev_find_node(const char *node_name);
/* Nodes of a -drive medium: named "#blockNNN" like QEMU's implicit nodes. */
void blockdev_register_chain(BlockDriverState *bs);
void blockdev_unregister_chain(BlockDriverState *bs);
/* query-block "inserted" / query-blockstats entries for a node. */
JsonObject *blockdev_inserted_info(BlockDriverState *bs);
JsonObject *blockdev_node_stats(BlockDriverState *bs);
typedef struct BlockAcctStats BlockAcctStats;
JsonObject *blockdev_stats_json(const BlockAcctStats *st, bool accounting);
void blockdev_foreach_node(void (*fn)(BlockDriverState *bs, void *opaque), void *opaque);
Monitor *monitor_new(Chardev *chr, bool qmp, bool pretty, Error **errp);
/* Flush held replies and output (exit notifier; safe to call twice). */
void monitor_cleanup(void);

/* Output (HMP text; "\n" becomes "\r\n" on the wire as in QEMU). */
void monitor_printf(Monitor *mon, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void monitor_puts(Monitor *mon, const char *s);
bool monitor_is_qmp(const Monitor *mon);
/* The CPU HMP commands act on ("cpu N"); NULL without CPUs. */
CPUState *monitor_cur_cpu(Monitor *mon);

/* Broadcast an event to every negotiated QMP monitor; takes data (may be NULL). */
void qmp_event_send(const char *name, JsonObject *data);

/* Run an HMP command line and return its output (human-monitor-command). */
char *hmp_run_capture(const char *line, int cpu_index);

/* Hooks the CPU code fills in (NULL: feature absent). */
extern void (*hmp_info_registers_hook)(GString *out, int cpu_index);
extern void (*hmp_info_mem_hook)(GString *out, int cpu_index);
extern void (*hmp_info_tlb_hook)(GString *out, int cpu_index);
/* x: guest virtual -> physical for the CPU; NULL hook = identity. */
extern bool (*monitor_virt_to_phys)(CPUState *cpu, uint64_t va, uint64_t *pa);
/* $reg in HMP expressions; NULL hook = only $pc/$rip/$sp from CPUX86State. */
extern bool (*monitor_get_register_hook)(CPUState *cpu, const char *name, int64_t *val);

#endif
