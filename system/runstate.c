/*
 * Run states, shutdown/reset/power-down requests, the exit status, and the
 * host signals that end the process ("terminating on signal N"), with the
 * QMP events QEMU emits for each (SHUTDOWN, RESET, POWERDOWN, STOP, RESUME).
 * Locking: requests are atomics set from any thread (or a signal handler)
 * and handled by the main loop with the BQL held.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "hw/machine.h"
#include "hw/qdev.h"
#include "system/cpus.h"
#include "system/main-loop.h"
#include "system/runstate.h"
#include "system/timer.h"

bool no_shutdown, no_reboot;
void (*runstate_event_hook)(const char *name, const char *data_json);

static RunState current_state = RUN_STATE_PRELAUNCH;
static volatile int shutdown_req;        /* ShutdownCause */
static volatile int reset_req;           /* ShutdownCause */
static volatile int powerdown_req;
static volatile sig_atomic_t signal_num;
static volatile pid_t signal_pid;
static int signal_pipe[2] = { -1, -1 };

static Notifier *powerdown_notifiers, *reset_notifiers, *exit_notifiers;

typedef struct VMStateHandler {
    void (*fn)(void *opaque, bool running);
    void *opaque;
} VMStateHandler;
static GArray *vm_state_handlers;       /* VMStateHandler, in registration order */

void vm_state_handler_add(void (*fn)(void *opaque, bool running), void *opaque)
{
    if (!vm_state_handlers) {
        vm_state_handlers = g_array_new(FALSE, FALSE, sizeof(VMStateHandler));
    }
    VMStateHandler h = { fn, opaque };
    g_array_append_val(vm_state_handlers, h);
}

void vm_state_handler_del(void (*fn)(void *opaque, bool running), void *opaque)
{
    for (guint i = 0; vm_state_handlers && i < vm_state_handlers->len; i++) {
        VMStateHandler *h = &g_array_index(vm_state_handlers, VMStateHandler, i);
        if (h->fn == fn && h->opaque == opaque) {
            g_array_remove_index(vm_state_handlers, i);
            return;
        }
    }
}

static void vm_state_notify(bool running)
{
    for (guint i = 0; vm_state_handlers && i < vm_state_handlers->len; i++) {
        VMStateHandler h = g_array_index(vm_state_handlers, VMStateHandler, i);
        h.fn(h.opaque, running);
    }
}

static const char *const state_names[] = {
    [RUN_STATE_PRELAUNCH] = "prelaunch", [RUN_STATE_RUNNING] = "running",
    [RUN_STATE_PAUSED] = "paused", [RUN_STATE_SHUTDOWN] = "shutdown",
    [RUN_STATE_INTERNAL_ERROR] = "internal-error", [RUN_STATE_GUEST_PANICKED] = "guest-panicked",
    [RUN_STATE_DEBUG] = "debug", [RUN_STATE_IO_ERROR] = "io-error",
};

static const char *const cause_names[] = {
    [SHUTDOWN_CAUSE_NONE] = "none", [SHUTDOWN_CAUSE_HOST_ERROR] = "host-error",
    [SHUTDOWN_CAUSE_HOST_QMP_QUIT] = "host-qmp-quit",
    [SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET] = "host-qmp-system-reset",
    [SHUTDOWN_CAUSE_HOST_SIGNAL] = "host-signal", [SHUTDOWN_CAUSE_HOST_UI] = "host-ui",
    [SHUTDOWN_CAUSE_GUEST_SHUTDOWN] = "guest-shutdown", [SHUTDOWN_CAUSE_GUEST_RESET] = "guest-reset",
    [SHUTDOWN_CAUSE_GUEST_PANIC] = "guest-panic", [SHUTDOWN_CAUSE_SUBSYSTEM_RESET] = "subsystem-reset",
};

static bool cause_is_guest(ShutdownCause c)
{
    return c > SHUTDOWN_CAUSE_HOST_UI;
}

static void emit(const char *name, const char *data)
{
    if (runstate_event_hook) {
        runstate_event_hook(name, data);
    }
}

static void emit_cause(const char *name, ShutdownCause c)
{
    g_autofree char *d = g_strdup_printf("{\"guest\": %s, \"reason\": \"%s\"}",
                                         cause_is_guest(c) ? "true" : "false", cause_names[c]);
    emit(name, d);
}

RunState runstate_get(void)
{
    return current_state;
}

const char *runstate_name(RunState s)
{
    return state_names[s];
}

bool runstate_is_running(void)
{
    return current_state == RUN_STATE_RUNNING;
}

void runstate_set(RunState s)
{
    current_state = s;
}

void vm_stop(RunState reason)
{
    if (current_state != RUN_STATE_RUNNING) {
        if (reason != RUN_STATE_PAUSED || current_state == RUN_STATE_PRELAUNCH) {
            current_state = reason == RUN_STATE_PAUSED && current_state == RUN_STATE_PRELAUNCH
                            ? RUN_STATE_PRELAUNCH : reason;
        }
        return;
    }
    pause_all_vcpus();
    clock_virtual_enable(false);
    current_state = reason;
    vm_state_notify(false);
    emit("STOP", NULL);
}

int vm_start(void)
{
    if (current_state == RUN_STATE_RUNNING) {
        return 0;
    }
    current_state = RUN_STATE_RUNNING;
    clock_virtual_enable(true);
    vm_state_notify(true);
    emit("RESUME", NULL);
    resume_all_vcpus();
    return 0;
}

void qemu_system_shutdown_request(ShutdownCause cause)
{
    __atomic_store_n(&shutdown_req, cause, __ATOMIC_SEQ_CST);
    main_loop_wakeup();
}

void qemu_system_reset_request(ShutdownCause cause)
{
    if (no_reboot && cause == SHUTDOWN_CAUSE_GUEST_RESET) {
        qemu_system_shutdown_request(cause);
    } else {
        __atomic_store_n(&reset_req, cause, __ATOMIC_SEQ_CST);
    }
    /* Stop the CPUs until the main loop has reset them (QEMU stops the
     * current CPU too): a CPU that ran on could hit the same triple fault
     * again and queue a second, stale reset. */
    for (int i = 0; i < n_cpus; i++) {
        cpus[i]->stop = true;
        cpu_exit_request(cpus[i]);
    }
    main_loop_wakeup();
}

void qemu_system_powerdown_request(void)
{
    __atomic_store_n(&powerdown_req, 1, __ATOMIC_SEQ_CST);
    main_loop_wakeup();
}

/* isa-debug-exit: like QEMU, end the process at once from the caller's
 * thread, so the guest runs no further instruction. */
void qemu_system_exit_request(int status)
{
    qemu_run_exit_notifiers();
    fflush(stdout);
    fflush(stderr);
    exit(status);
}

static void notifier_add(Notifier **list, Notifier *n)
{
    n->next = NULL;
    while (*list) {
        list = &(*list)->next;
    }
    *list = n;
}

static void notifiers_run(Notifier *list, void *data)
{
    for (Notifier *n = list; n; n = n->next) {
        n->fn(n, data);
    }
}

void qemu_register_powerdown_notifier(Notifier *n) { notifier_add(&powerdown_notifiers, n); }
void qemu_register_reset_notifier(Notifier *n) { notifier_add(&reset_notifiers, n); }
void qemu_register_exit_notifier(Notifier *n) { notifier_add(&exit_notifiers, n); }
void qemu_run_exit_notifiers(void) { notifiers_run(exit_notifiers, NULL); }

static void cpu_reset_fn(CPUState *cpu, void *data)
{
    (void)data;
    x86_cpu_reset_state(cpu);
}

void qemu_system_reset(ShutdownCause cause)
{
    /* CPUs first: board reset hooks (direct kernel boot) set CPU state */
    for (int i = 0; i < n_cpus; i++) {
        if (cpus[i]->created) {
            run_on_cpu(cpus[i], cpu_reset_fn, NULL);
        } else {
            x86_cpu_reset_state(cpus[i]);
        }
    }
    qdev_reset_all();
    machine_run_resets();
    notifiers_run(reset_notifiers, NULL);
    if (cause != SHUTDOWN_CAUSE_NONE) {
        emit_cause("RESET", cause);
    }
}

static void print_signal_message(int sig, pid_t pid)
{
    if (pid > 0) {
        g_autofree char *path = g_strdup_printf("/proc/%d/comm", (int)pid);
        g_autofree char *comm = NULL;
        if (g_file_get_contents(path, &comm, NULL, NULL)) {
            g_strchomp(comm);
            fprintf(stderr, "%s: terminating on signal %d from pid %d (%s)\n",
                    error_get_progname(), sig, (int)pid, comm);
            return;
        }
        fprintf(stderr, "%s: terminating on signal %d from pid %d (<unknown process>)\n",
                error_get_progname(), sig, (int)pid);
        return;
    }
    fprintf(stderr, "%s: terminating on signal %d\n", error_get_progname(), sig);
}

bool main_loop_should_exit(int *status)
{
    if (signal_num) {
        print_signal_message(signal_num, signal_pid);
        signal_num = 0;
        emit_cause("SHUTDOWN", SHUTDOWN_CAUSE_HOST_SIGNAL);
        *status = 0;
        return true;
    }
    int sd = __atomic_exchange_n(&shutdown_req, 0, __ATOMIC_SEQ_CST);
    if (sd) {
        emit_cause("SHUTDOWN", sd);
        if (no_shutdown && cause_is_guest(sd)) {
            vm_stop(RUN_STATE_SHUTDOWN);
            return false;
        }
        *status = 0;
        return true;
    }
    int rr = __atomic_exchange_n(&reset_req, 0, __ATOMIC_SEQ_CST);
    if (rr) {
        pause_all_vcpus();
        qemu_system_reset(rr);
        if (current_state == RUN_STATE_RUNNING) {
            resume_all_vcpus();
        } else if (current_state == RUN_STATE_SHUTDOWN || current_state == RUN_STATE_PAUSED) {
            /* QEMU: a reset from shutdown/paused lands in prelaunch */
            current_state = RUN_STATE_PRELAUNCH;
        }
    }
    if (__atomic_exchange_n(&powerdown_req, 0, __ATOMIC_SEQ_CST)) {
        emit("POWERDOWN", NULL);
        notifiers_run(powerdown_notifiers, NULL);
    }
    return false;
}

static void term_handler(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    signal_pid = info ? info->si_pid : 0;
    signal_num = sig;
    if (signal_pipe[1] >= 0) {
        char c = 0;
        ssize_t r = write(signal_pipe[1], &c, 1);
        (void)r;
    }
}

static gboolean signal_pipe_ready(int fd, GIOCondition cond, void *opaque)
{
    (void)cond; (void)opaque;
    char buf[16];
    ssize_t r = read(fd, buf, sizeof(buf));
    (void)r;
    return G_SOURCE_CONTINUE;
}

void runstate_init_signals(void)
{
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        return;
    }
    fd_watch_add(signal_pipe[0], G_IO_IN, signal_pipe_ready, NULL);
    struct sigaction sa = { 0 };
    sa.sa_sigaction = term_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
