/*
 * Run states (QEMU's names, as query-status reports them), shutdown, reset
 * and power-down requests from any thread, exit status, and signals.
 * Locking: requests may come from any thread; they are handled in the
 * main loop with the BQL held.
 */
#ifndef SYSTEM_RUNSTATE_H
#define SYSTEM_RUNSTATE_H

#include <stdbool.h>

typedef enum {
    RUN_STATE_PRELAUNCH, RUN_STATE_RUNNING, RUN_STATE_PAUSED,
    RUN_STATE_SHUTDOWN, RUN_STATE_INTERNAL_ERROR, RUN_STATE_GUEST_PANICKED,
    RUN_STATE_DEBUG, RUN_STATE_IO_ERROR, RUN_STATE__MAX
} RunState;

typedef enum {
    SHUTDOWN_CAUSE_NONE,
    SHUTDOWN_CAUSE_HOST_ERROR,
    SHUTDOWN_CAUSE_HOST_QMP_QUIT,
    SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET,
    SHUTDOWN_CAUSE_HOST_SIGNAL,
    SHUTDOWN_CAUSE_HOST_UI,
    SHUTDOWN_CAUSE_GUEST_SHUTDOWN,
    SHUTDOWN_CAUSE_GUEST_RESET,
    SHUTDOWN_CAUSE_GUEST_PANIC,
    SHUTDOWN_CAUSE_SUBSYSTEM_RESET,
} ShutdownCause;

RunState runstate_get(void);
const char *runstate_name(RunState s);
bool runstate_is_running(void);
void runstate_set(RunState s);

/* Stop/continue the VM (QMP stop/cont). vm_start emits RESUME. */
void vm_stop(RunState reason);
int vm_start(void);

/* Called (BQL held) when the VM starts running or stops, before the
 * RESUME/STOP event; devices restart requests they held back on an I/O
 * error (werror=stop) when running becomes true. */
void vm_state_handler_add(void (*fn)(void *opaque, bool running), void *opaque);
void vm_state_handler_del(void (*fn)(void *opaque, bool running), void *opaque);

/* Requests (any thread). */
void qemu_system_shutdown_request(ShutdownCause cause);
void qemu_system_reset_request(ShutdownCause cause);
void qemu_system_powerdown_request(void);
/* isa-debug-exit: exit the process with this status now (any thread). */
void qemu_system_exit_request(int status);
/* Handle pending requests; returns true when the main loop must end. */
bool main_loop_should_exit(int *status);
/* Machine reset: devices, CPUs, then RESET event. */
void qemu_system_reset(ShutdownCause cause);

extern bool no_shutdown, no_reboot;

/* SIGTERM/SIGINT/SIGHUP end the process from the main loop. */
void runstate_init_signals(void);

/* Handlers other subsystems hook: a power-button press for the guest. */
typedef struct Notifier { void (*fn)(struct Notifier *n, void *data); struct Notifier *next; } Notifier;
void qemu_register_powerdown_notifier(Notifier *n);
void qemu_register_reset_notifier(Notifier *n);   /* called on every system reset */
void qemu_register_exit_notifier(Notifier *n);
void qemu_run_exit_notifiers(void);

/* QMP event hook; set by the monitor. NULL until a monitor exists. */
typedef struct JsonValue JsonValue;
extern void (*runstate_event_hook)(const char *name, const char *data_json);

#endif
