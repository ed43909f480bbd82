/*
 * main(): parse QEMU's command line, build the machine in QEMU's phase
 * order (architecture §3.2), start the vCPUs and run the main loop.
 * Error texts follow QEMU 7.2 with this program's name as the prefix.
 * Locking: main() holds the BQL from machine creation to exit, except
 * while the main loop polls.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include "chardev/char.h"
#include "hw/display.h"
#include "hw/machine.h"
#include "hw/qdev.h"
#include "kemu-config.h"
#include "monitor/monitor.h"
#include "system/blockdev.h"
#include "system/cpus.h"
#include "system/objects.h"
#include "system/kvm.h"
#include "system/main-loop.h"
#include "system/options.h"
#include "system/runstate.h"
#include "system/vl.h"
#include "ui/display.h"
#include "util/cutils.h"
#include "util/kvopts.h"

/* One option occurrence, kept with its text for error locations. */
typedef struct OptArg {
    const char *opt;     /* "-device" */
    const char *arg;
} OptArg;

typedef struct Config {
    KVDict *machine_opts;
    GPtrArray *accels;              /* char* accelerator names, in order */
    KVDict *accel_opts;
    const char *cpu;
    const char *smp;
    const char *mem;
    const char *kernel, *initrd, *append, *bios;
    const char *name_opt, *uuid;
    const char *boot;
    const char *pidfile;
    const char *display;
    const char *vga;
    const char *vnc;
    const char *rtc;
    bool nographic, daemonize, freeze, nodefaults, no_hpet, no_acpi, snapshot, usb;
    GArray *serials;                /* OptArg */
    GArray *chardevs, *devices, *globals, *mons, *monitors, *qmps, *drives, *objects;
    GArray *unsupported;            /* OptArg: refused after parsing */
} Config;

Machine *current_machine;
GPtrArray *firmware_dirs;           /* -L */

/* -audiodev: kemu has no sound devices, so only the "none" backend (what
 * libvirt passes for a guest without sound) is accepted. */
static void check_audiodev(const char *arg)
{
    Error *err = NULL;
    loc_set_option("-audiodev", arg);
    KVDict *d = kv_parse_or_json(arg, "driver", &err);
    const char *drv = d ? kv_get(d, "driver") : NULL;
    if (!d) {
        error_report_err(err);
        exit(1);
    }
    if (!drv) {
        error_report("Parameter 'driver' is missing");
        exit(1);
    }
    if (strcmp(drv, "none")) {
        error_report("Parameter 'driver' does not accept value '%s'", drv);
        exit(1);
    }
    if (!kv_get(d, "id")) {
        error_report("Parameter 'id' is missing");
        exit(1);
    }
    kv_free(d);
    loc_clear();
}

static void opt_push(GArray *a, const char *opt, const char *arg)
{
    OptArg o = { opt, arg };
    g_array_append_val(a, o);
}

static void print_version(void)
{
    printf("QEMU emulator version " QEMU_VERSION " (" KEMU_PKG_VERSION ")\n"
           "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n");
}

static void machine_list_one(const MachineClass *mc, void *opaque)
{
    GString *out = opaque;
    if (mc->alias) {
        g_string_append_printf(out, "%-20s %s (alias of %s)\n", mc->alias, mc->desc, mc->name);
    }
    g_string_append_printf(out, "%-20s %s%s%s\n", mc->name, mc->desc,
                           mc->is_default ? " (default)" : "", mc->deprecated ? " (deprecated)" : "");
}

static void print_machine_help(void)
{
    g_autoptr(GString) out = g_string_new("Supported machines are:\n");
    machine_class_foreach(machine_list_one, out);
    fputs(out->str, stdout);
}

/* -m [size=]megs: a bare number means MiB; QEMU rounds up to 8 KiB. */
static bool parse_mem(const char *str, uint64_t *out, Error **errp)
{
    g_autoptr(GError) gerr = NULL;
    KVDict *d = kv_parse(str, "size", errp);
    if (!d) {
        return false;
    }
    const char *size = kv_get(d, "size");
    kv_get(d, "slots");
    kv_get(d, "maxmem");
    bool ok = true;
    if (size) {
        uint64_t v;
        /* plain numbers are MiB; suffixed ones are what they say */
        bool has_suffix = g_ascii_isalpha(size[strlen(size) - 1]);
        if (parse_size_suffix(size, has_suffix ? 1 : MiB, &v) < 0) {
            error_setg(errp, "Parameter 'size' expects a non-negative number below 2^64");
            error_append_hint(errp, "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                              "and exabytes, respectively.\n");
            ok = false;
        } else if (v == 0) {
            error_setg(errp, "ram size can't be 0");   /* QEMU falls back to default with -m 0 */
            ok = false;
        } else {
            *out = ROUND_UP(v, 8192);
        }
    }
    if (ok && !kv_check_all_used(d, errp)) {
        ok = false;
    }
    kv_free(d);
    return ok;
}

static bool parse_smp(Machine *m, const char *str, Error **errp)
{
    KVDict *d = kv_parse(str, "cpus", errp);
    if (!d) {
        return false;
    }
    uint64_t cpus = 0, sockets = 0, dies = 0, cores = 0, threads = 0, maxcpus = 0;
    bool ok = kv_get_uint(d, "cpus", 0, &cpus, errp) && kv_get_uint(d, "sockets", 0, &sockets, errp) &&
              kv_get_uint(d, "dies", 0, &dies, errp) && kv_get_uint(d, "cores", 0, &cores, errp) &&
              kv_get_uint(d, "threads", 0, &threads, errp) && kv_get_uint(d, "maxcpus", 0, &maxcpus, errp) &&
              kv_check_all_used(d, errp);
    kv_free(d);
    if (!ok) {
        return false;
    }
    if (dies == 0) {
        dies = 1;
    }
    /* QEMU's rules: compute what's missing, preferring sockets, then cores */
    if (cpus == 0 && maxcpus == 0 && sockets == 0 && cores == 0 && threads == 0) {
        cpus = 1;
    }
    if (threads == 0) {
        threads = 1;
    }
    if (maxcpus == 0 && cpus) {
        maxcpus = cpus;
    }
    /* QEMU 6.2+ machines prefer cores over sockets */
    if (sockets == 0 && cores == 0) {
        sockets = 1;
        cores = maxcpus ? maxcpus / (sockets * dies * threads) : 1;
    } else if (sockets == 0) {
        sockets = maxcpus ? maxcpus / (dies * cores * threads) : 1;
    } else if (cores == 0) {
        cores = maxcpus ? maxcpus / (sockets * dies * threads) : 1;
    }
    uint64_t topo = sockets * dies * cores * threads;
    if (maxcpus == 0) {
        maxcpus = topo;
    }
    if (cpus == 0) {
        cpus = maxcpus;
    }
    if (topo != maxcpus) {
        error_setg(errp, "Invalid CPU topology: product of the hierarchy must match maxcpus: "
                   "sockets (%" G_GUINT64_FORMAT ") * cores (%" G_GUINT64_FORMAT
                   ") * threads (%" G_GUINT64_FORMAT ") != maxcpus (%" G_GUINT64_FORMAT ")",
                   sockets, cores, threads, maxcpus);
        return false;
    }
    if (maxcpus < cpus) {
        error_setg(errp, "Invalid CPU topology: maxcpus must be equal to or greater than smp: "
                   "sockets (%" G_GUINT64_FORMAT ") * cores (%" G_GUINT64_FORMAT
                   ") * threads (%" G_GUINT64_FORMAT ") == maxcpus (%" G_GUINT64_FORMAT ") < smp_cpus (%"
                   G_GUINT64_FORMAT ")", sockets, cores, threads, maxcpus, cpus);
        return false;
    }
    if ((int)cpus > m->cls->max_cpus || (int)maxcpus > m->cls->max_cpus) {
        error_setg(errp, "Invalid SMP CPUs %" G_GUINT64_FORMAT ". The max CPUs supported by machine '%s' is %d",
                   MAX(cpus, maxcpus), m->cls->name, m->cls->max_cpus);
        return false;
    }
    m->smp_cpus = cpus;
    m->smp_max_cpus = maxcpus;
    m->smp_sockets = sockets;
    m->smp_dies = dies;
    m->smp_cores = cores;
    m->smp_threads = threads;
    return true;
}

static bool parse_uuid(const char *str, uint8_t out[16])
{
    unsigned v[16];
    if (strlen(str) != 36 ||
        sscanf(str, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x",
               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
               &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]) != 16) {
        return false;
    }
    for (int i = 0; i < 16; i++) {
        out[i] = v[i];
    }
    return true;
}

/* Pick the accelerator: -accel list, -machine accel=a:b, or tcg. */
static void choose_accel(Config *c, Machine *m)
{
    const char *maccel = kv_get(c->machine_opts, "accel");
    g_auto(GStrv) names = NULL;
    if (c->accels->len) {
        g_ptr_array_add(c->accels, NULL);
        names = g_strdupv((char **)c->accels->pdata);
    } else {
        names = g_strsplit(maccel ? maccel : "tcg", ":", -1);
    }
    for (int i = 0; names[i]; i++) {
        const char *next = names[i + 1];
        const AccelOps *ops = accel_find(names[i]);
        Error *err = NULL;
        if (!ops) {
            error_report("invalid accelerator %s", names[i]);
        } else if (next && !strcmp(ops->name, "kvm") && ops->available(NULL) && kvm_is_paravirtual()) {
            /* a paravirtual KVM runs firmware and payloads but no stock
             * kernel: with a fallback named, prefer the fallback */
            error_report("kvm is unusable (%s): falling back to %s", kvm_unusable_for_linux_reason(), next);
            continue;
        } else {
            current_accel = ops;
            if (ops->init(m, &err)) {
                return;
            }
            /* QEMU: "failed to initialize kvm: <strerror>", then kemu's hint */
            current_accel = NULL;
            error_prepend(&err, "failed to initialize %s: ", ops->name);
            error_report_err(err);
        }
        if (next) {
            error_report("falling back to %s", next);
        }
    }
    exit(1);
}

static void write_pidfile(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        error_report("cannot create PID file: %s", fd < 0 ? g_strerror(errno) : "Cannot lock pid file");
        exit(1);
    }
    g_autofree char *s = g_strdup_printf("%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || !write_full(fd, s, strlen(s))) {
        error_report("cannot create PID file: %s", g_strerror(errno));
        exit(1);
    }
    /* fd stays open: the lock lives as long as we do */
}

static int daemon_pipe = -1;

/* -daemonize: the parent waits until the child says setup is done. */
static void daemonize_start(void)
{
    int fds[2];
    if (pipe(fds) < 0) {
        error_report("pipe: %s", g_strerror(errno));
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        error_report("fork: %s", g_strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        close(fds[1]);
        char status = 1;
        ssize_t r;
        do {
            r = read(fds[0], &status, 1);
        } while (r < 0 && errno == EINTR);
        _exit(r == 1 && status == 0 ? 0 : 1);
    }
    close(fds[0]);
    daemon_pipe = fds[1];
    setsid();
}

static void daemonize_finish(void)
{
    if (daemon_pipe < 0) {
        return;
    }
    int null = open("/dev/null", O_RDWR);
    if (chdir("/") < 0) {
        /* not fatal */
    }
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    close(null);
    char ok = 0;
    if (write(daemon_pipe, &ok, 1) < 0) {
        /* parent gone: nothing to tell */
    }
    close(daemon_pipe);
    daemon_pipe = -1;
}

static void parse_args(int argc, char **argv, Config *c)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            /* positional disk image: -hda */
            opt_push(c->drives, "-hda", a);
            continue;
        }
        const char *name = a + 1;
        if (name[0] == '-') {
            name++;
        }
        const OptDesc *o = options_find(name);
        if (!o) {
            loc_set_option(a, NULL);
            error_report("invalid option");
            exit(1);
        }
        const char *arg = NULL;
        if (o->has_arg) {
            if (i + 1 >= argc) {
                loc_set_option(a, NULL);
                error_report("requires an argument");
                exit(1);
            }
            arg = argv[++i];
        }
        loc_set_option(a, arg);
        Error *err = NULL;
        switch (o->index) {
        case OPT_HELP: case OPT_HELP2:
            options_print_help();
            exit(0);
        case OPT_VERSION:
            print_version();
            exit(0);
        case OPT_MACHINE: case OPT_M: {
            KVDict *d = kv_parse(arg, "type", &err);
            if (!d) {
                error_report_err(err);
                exit(1);
            }
            for (int k = 0; k < d->n; k++) {
                kv_set(c->machine_opts, d->p[k].key, d->p[k].value);
            }
            kv_free(d);
            break;
        }
        case OPT_ACCEL: {
            KVDict *d = kv_parse(arg, "accel", &err);
            if (!d) {
                error_report_err(err);
                exit(1);
            }
            const char *acc = kv_get(d, "accel");
            if (!acc) {
                error_report("Parameter 'accel' is missing");
                exit(1);
            }
            if (!strcmp(acc, "help") || !strcmp(acc, "?")) {
                printf("Accelerators supported in QEMU binary:\n");
                for (int k = 0; accel_nth(k); k++) {
                    printf("%s\n", accel_nth(k)->name);
                }
                exit(0);
            }
            if (!accel_find(acc)) {
                error_report("invalid accelerator %s", acc);
                exit(1);
            }
            g_ptr_array_add(c->accels, g_strdup(acc));
            for (int k = 0; k < d->n; k++) {
                if (strcmp(d->p[k].key, "accel")) {
                    kv_set(c->accel_opts, d->p[k].key, d->p[k].value);
                }
            }
            kv_free(d);
            break;
        }
        case OPT_ENABLE_KVM:
            g_ptr_array_add(c->accels, g_strdup("kvm"));
            break;
        case OPT_CPU: c->cpu = arg; break;
        case OPT_SMP: c->smp = arg; break;
        case OPT_MEM: c->mem = arg; break;
        case OPT_NAME: c->name_opt = arg; break;
        case OPT_UUID: c->uuid = arg; break;
        case OPT_KERNEL: c->kernel = arg; break;
        case OPT_APPEND: c->append = arg; break;
        case OPT_INITRD: c->initrd = arg; break;
        case OPT_BIOS: c->bios = arg; break;
        case OPT_DATADIR: g_ptr_array_add(firmware_dirs, g_strdup(arg)); break;
        case OPT_BOOT: c->boot = arg; break;
        case OPT_NOGRAPHIC: c->nographic = true; break;
        case OPT_DISPLAY: c->display = arg; break;
        case OPT_VGA: c->vga = arg; break;
        case OPT_VNC: c->vnc = arg; break;
        case OPT_SERIAL: opt_push(c->serials, a, arg); break;
        case OPT_CHARDEV: opt_push(c->chardevs, a, arg); break;
        case OPT_MON: opt_push(c->mons, a, arg); break;
        case OPT_MONITOR: opt_push(c->monitors, a, arg); break;
        case OPT_QMP: opt_push(c->qmps, a, arg); break;
        case OPT_QMP_PRETTY: opt_push(c->qmps, a, arg); break;
        case OPT_DEVICE: opt_push(c->devices, a, arg); break;
        case OPT_GLOBAL: opt_push(c->globals, a, arg); break;
        case OPT_PIDFILE: c->pidfile = arg; break;
        case OPT_DAEMONIZE: c->daemonize = true; break;
        case OPT_FREEZE: c->freeze = true; break;
        case OPT_NO_REBOOT: no_reboot = true; break;
        case OPT_NO_SHUTDOWN: no_shutdown = true; break;
        case OPT_NODEFAULTS: c->nodefaults = true; break;
        case OPT_SNAPSHOT: c->snapshot = true; break;
        case OPT_OBJECT: opt_push(c->objects, a, arg); break;
        case OPT_NO_USER_CONFIG: break;
        case OPT_NO_HPET: c->no_hpet = true; break;
        case OPT_NO_ACPI: c->no_acpi = true; break;
        case OPT_LOGFILE: log_set_file(arg); break;
        case OPT_LOGMASK:
            if (!log_set_mask(arg)) {
                exit(1);
            }
            break;
        case OPT_RTC: c->rtc = arg; break;
        case OPT_DRIVE: case OPT_HDA: case OPT_HDB: case OPT_HDC: case OPT_HDD:
        case OPT_CDROM: case OPT_FDA: case OPT_BLOCKDEV:
            opt_push(c->drives, a, arg);
            break;
        /* accepted as QEMU treats them, with no effect here */
        case OPT_SANDBOX: case OPT_MSG: case OPT_TRACE: case OPT_OVERCOMMIT:
        case OPT_NO_FD_BOOTCHK: case OPT_KEYBOARD:
            break;
        case OPT_AUDIO:
            if (strcmp(arg, "none") && !g_str_has_prefix(arg, "none,") && !g_str_has_prefix(arg, "driver=none")) {
                opt_push(c->unsupported, a, arg);
            }
            break;
        case OPT_AUDIODEV:
            check_audiodev(arg);
            break;
        case OPT_USB: c->usb = true; break;
        default:
            opt_push(c->unsupported, a, arg);
            break;
        }
    }
    loc_clear();
}

/* Options kemu parses but whose subsystem doesn't exist yet: refuse them
 * the way QEMU refuses what it lacks, with the option as the location. */
static void refuse_unsupported(Config *c)
{
    for (guint i = 0; i < c->unsupported->len; i++) {
        OptArg *o = &g_array_index(c->unsupported, OptArg, i);
        loc_set_option(o->opt, o->arg);
        error_report("this option is not supported by kemu yet");
        exit(1);
    }
}

static void create_chardevs(Config *c)
{
    for (guint i = 0; i < c->chardevs->len; i++) {
        OptArg *o = &g_array_index(c->chardevs, OptArg, i);
        Error *err = NULL;
        loc_set_option(o->opt, o->arg);
        KVDict *d = kv_parse(o->arg, "backend", &err);
        if (!d || !chr_new_from_opts(d, &err)) {
            error_report_err(err);
            exit(1);
        }
        kv_free(d);
    }
    loc_clear();
}

/* -serial/-monitor/-qmp/-mon and the -nographic defaults. */
static void create_serials_and_monitors(Config *c, const MachineClass *mc, Chardev *serial_hds[4])
{
    /* the "none" machine has no serial port to default to */
    bool default_serial = !c->nodefaults && c->serials->len == 0 && strcmp(mc->name, "none");
    bool default_monitor = !c->nodefaults && c->monitors->len == 0 && c->mons->len == 0 &&
                           c->qmps->len == 0;
    /* QEMU: -nographic puts serial0 and the monitor on one mux on stdio */
    if (c->nographic) {
        if (default_serial && default_monitor) {
            opt_push(c->serials, "-serial", "mon:stdio");
            default_monitor = false;
        } else if (default_serial) {
            opt_push(c->serials, "-serial", "stdio");
        } else if (default_monitor) {
            opt_push(c->monitors, "-monitor", "stdio");
        }
    } else {
        /* without a graphical console QEMU's defaults are "vc": nothing to see */
        if (default_serial) {
            opt_push(c->serials, "-serial", "vc");
        }
        if (default_monitor) {
            opt_push(c->monitors, "-monitor", "vc");
        }
    }
    int n = 0;
    for (guint i = 0; i < c->serials->len; i++) {
        OptArg *o = &g_array_index(c->serials, OptArg, i);
        Error *err = NULL;
        loc_set_option(o->opt, o->arg);
        if (n >= 4) {
            error_report("too many serial ports");
            exit(1);
        }
        g_autofree char *label = g_strdup_printf("serial%d", n);
        Chardev *chr = chr_new_from_legacy(label, o->arg, &err);
        if (err) {
            error_report_err(err);
            exit(1);
        }
        if (!strcmp(o->arg, "none")) {
            continue;
        }
        serial_hds[n++] = chr;
    }
    int mon_count = 0;
    for (guint i = 0; i < c->monitors->len + c->qmps->len; i++) {
        bool is_qmp = i >= c->monitors->len;
        OptArg *o = is_qmp ? &g_array_index(c->qmps, OptArg, i - c->monitors->len)
                           : &g_array_index(c->monitors, OptArg, i);
        Error *err = NULL;
        loc_set_option(o->opt, o->arg);
        if (!strcmp(o->arg, "none")) {
            continue;
        }
        g_autofree char *label = g_strdup_printf("compat_monitor%d", mon_count++);
        Chardev *chr = chr_new_from_legacy(label, o->arg, &err);
        if (!chr) {
            if (err) {
                error_report_err(err);
                exit(1);
            }
            continue;
        }
        KVDict *d = kv_new();
        kv_set(d, "chardev", chr->id);
        kv_set(d, "mode", is_qmp ? "control" : "readline");
        if (!strcmp(o->opt, "-qmp-pretty") || !strcmp(o->opt, "--qmp-pretty")) {
            kv_set(d, "pretty", "on");
        }
        if (!monitor_init_opts(d, &err)) {
            error_report_err(err);
            exit(1);
        }
        kv_free(d);
    }
    for (guint i = 0; i < c->mons->len; i++) {
        OptArg *o = &g_array_index(c->mons, OptArg, i);
        Error *err = NULL;
        loc_set_option(o->opt, o->arg);
        KVDict *d = kv_parse(o->arg, "chardev", &err);
        if (!d || !monitor_init_opts(d, &err)) {
            error_report_err(err);
            exit(1);
        }
        kv_free(d);
    }
    loc_clear();
}

static void create_devices(Config *c)
{
    for (guint i = 0; i < c->devices->len; i++) {
        OptArg *o = &g_array_index(c->devices, OptArg, i);
        Error *err = NULL;
        loc_set_option(o->opt, o->arg);
        KVDict *d = kv_parse_or_json(o->arg, "driver", &err);
        if (!d) {
            error_report_err(err);
            exit(1);
        }
        const char *drv = kv_peek(d, "driver");
        if (drv && (!strcmp(drv, "help") || !strcmp(drv, "?"))) {
            dev_print_help(NULL);
            exit(0);
        }
        if (kv_has(d, "help")) {
            dev_print_help(drv);
            exit(0);
        }
        kv_del(d, "help");
        if (!dev_create_from_opts(d, &err)) {
            error_report_err(err);
            exit(1);
        }
        kv_free(d);
    }
    loc_clear();
}

/* -hda FILE and friends as the -drive option string QEMU builds for them. */
static char *legacy_drive_optstr(const char *opt, const char *file)
{
    GString *o = g_string_new("file=");
    for (const char *p = file; *p; p++) {
        g_string_append_c(o, *p);
        if (*p == ',') {
            g_string_append_c(o, ',');       /* QemuOpts escapes a comma by doubling it */
        }
    }
    if (!strcmp(opt, "cdrom")) {
        g_string_append(o, ",index=2,media=cdrom");
    } else if (!strcmp(opt, "fda") || !strcmp(opt, "fdb")) {
        g_string_append_printf(o, ",if=floppy,index=%d", opt[2] - 'a');
    } else {
        g_string_append_printf(o, ",index=%d,media=disk", opt[2] - 'a');
    }
    return g_string_free(o, FALSE);
}

/* -blockdev, -drive, -hda..-hdd, -cdrom, -fda in command line order. */
static void open_drives(Config *c, const MachineClass *mc)
{
    BlockInterfaceType default_if = mc->block_default_ide ? IF_IDE : IF_NONE;
    drive_snapshot_all = c->snapshot;
    blockdev_init();
    for (guint i = 0; i < c->drives->len; i++) {
        OptArg *o = &g_array_index(c->drives, OptArg, i);
        const char *name = o->opt + strspn(o->opt, "-");
        Error *err = NULL;
        bool ok;
        loc_set_option(o->opt, o->arg);
        if (!strcmp(name, "blockdev")) {
            ok = blockdev_add_str(o->arg, &err);
        } else {
            g_autofree char *optstr = strcmp(name, "drive") ? legacy_drive_optstr(name, o->arg)
                                                             : NULL;
            DriveInfo *d = drive_new(optstr ? optstr : o->arg, default_if, &err);
            if (d) {
                d->loc_opt = o->opt;
                d->loc_arg = o->arg;
            }
            ok = d != NULL;
        }
        if (!ok) {
            error_report_err(err);
            exit(1);
        }
    }
    loc_clear();
    Error *err = NULL;
    /* the PC's default drives; machine "none" has none (no_cdrom etc.) */
    if (!c->nodefaults && mc->block_default_ide && !drive_add_defaults(true, &err)) {
        error_report_err(err);
        exit(1);
    }
}

/* Handle "help" arguments that print and exit before anything is built. */
static void handle_help_requests(Config *c)
{
    const char *type = kv_peek(c->machine_opts, "type");
    if (type && (!strcmp(type, "help") || !strcmp(type, "?"))) {
        print_machine_help();
        exit(0);
    }
    if (c->cpu && (!strcmp(c->cpu, "help") || !strcmp(c->cpu, "?"))) {
        g_autoptr(GString) out = g_string_new(NULL);
        x86_cpu_list(out);
        fputs(out->str, stdout);
        exit(0);
    }
    for (guint i = 0; i < c->devices->len; i++) {
        OptArg *o = &g_array_index(c->devices, OptArg, i);
        if (!strcmp(o->arg, "help") || !strcmp(o->arg, "?")) {
            dev_print_help(NULL);
            exit(0);
        }
        if (g_str_has_suffix(o->arg, ",help") || g_str_has_suffix(o->arg, ",?")) {
            g_autofree char *drv = g_strndup(o->arg, strcspn(o->arg, ","));
            loc_set_option(o->opt, o->arg);
            if (!device_class_find(drv)) {
                error_report("'%s' is not a valid device model name", drv);
                exit(1);
            }
            dev_print_help(drv);
            exit(0);
        }
    }
}

static void create_objects(Config *c)
{
    for (guint i = 0; i < c->objects->len; i++) {
        OptArg *o = &g_array_index(c->objects, OptArg, i);
        Error *err = NULL;
        loc_set_option(o->opt, o->arg);
        if (!object_add_str(o->arg, &err)) {
            error_report_err(err);
            exit(1);
        }
    }
    loc_clear();
}

/* -machine memory-backend=ID: the object's memory is the machine's RAM
 * (its size when -m is absent). QEMU reserves the id "pc.ram" for the
 * implicit backend otherwise. */
static void configure_memdev(Config *c, Machine *m)
{
    const char *id = kv_get(c->machine_opts, "memory-backend");
    if (!id) {
        UserObject *o = object_find("pc.ram");
        if (o && o->memory_backend) {
            error_report("object name 'pc.ram' is reserved for the default RAM backend, it "
                         "can't be used for any other purposes. Change the object's 'id' to "
                         "something else");
            exit(1);
        }
        return;
    }
    UserObject *o = object_find(id);
    if (!o || !o->memory_backend) {
        error_report("Memory backend '%s' not found", id);
        exit(1);
    }
    if (!c->mem) {
        m->ram_size = o->size;
    } else if (m->ram_size != o->size) {
        error_report("Machine memory size does not match the size of the memory backend");
        exit(1);
    }
    m->memdev = o;
}

static void configure_machine(Config *c, Machine *m)
{
    Error *err = NULL;
    m->ram_size = 128 * MiB;
    if (c->mem) {
        loc_set_option("-m", c->mem);
        if (!parse_mem(c->mem, &m->ram_size, &err)) {
            error_report_err(err);
            exit(1);
        }
    }
    loc_clear();
    configure_memdev(c, m);
    m->smp_cpus = m->smp_max_cpus = m->smp_sockets = m->smp_cores = m->smp_threads = m->smp_dies = 1;
    loc_clear();
    if (c->smp) {
        /* QEMU reports -smp errors without the option as location */
        if (!parse_smp(m, c->smp, &err)) {
            error_report_err(err);
            exit(1);
        }
    }
    loc_clear();
    const char *cpu = c->cpu ? c->cpu : m->cls->default_cpu;
    if (cpu && !x86_cpu_parse(cpu, &m->cpu, &err)) {
        error_report_err(err);
        exit(1);
    }
    m->kernel_filename = c->kernel;
    m->initrd_filename = c->initrd;
    m->kernel_cmdline = c->append ? c->append : "";
    if (!c->kernel && (c->initrd || c->append)) {
        error_report(c->initrd ? "-initrd only allowed with -kernel option"
                               : "-append only allowed with -kernel option");
        exit(1);
    }
    m->firmware = c->bios ? c->bios : "bios-256k.bin";
    m->boot_order = "cad";
    m->hpet = !c->no_hpet;
    m->acpi = !c->no_acpi;
    if (c->boot) {
        KVDict *d = kv_parse(c->boot, "order", &err);
        if (!d) {
            error_report_err(err);
            exit(1);
        }
        const char *order = kv_get(d, "order");
        if (order) {
            m->boot_order = g_strdup(order);
        }
        const char *once = kv_get(d, "once");
        if (once) {
            m->boot_order = g_strdup(once);
        }
        bool menu = false;
        kv_get_bool(d, "menu", false, &menu, &err);
        m->boot_menu = menu;
        bool strict = false;
        kv_get_bool(d, "strict", false, &strict, &err);
        m->boot_strict = strict;
        kv_get(d, "splash");
        kv_get(d, "splash-time");
        kv_get(d, "reboot-timeout");
        kv_free(d);
    }
    if (c->name_opt) {
        KVDict *d = kv_parse(c->name_opt, "guest", &err);
        if (!d) {
            error_report_err(err);
            exit(1);
        }
        m->name = g_strdup(kv_get(d, "guest"));
        const char *proc = kv_get(d, "process");
        if (proc) {
            g_set_prgname(proc);
        }
        kv_get(d, "debug-threads");
        loc_set_option("-name", c->name_opt);
        if (!kv_check_all_used(d, &err)) {
            error_report_err(err);
            exit(1);
        }
        loc_clear();
        kv_free(d);
    }
    if (c->uuid) {
        if (!parse_uuid(c->uuid, m->uuid)) {
            loc_set_option("-uuid", c->uuid);
            error_report("failed to parse UUID string: wrong format");
            exit(1);
        }
        m->has_uuid = true;
    }
    /* machine properties kemu knows; the rest is refused like QEMU does */
    const char *irqchip = kv_get(c->machine_opts, "kernel-irqchip");
    if (!irqchip) {
        irqchip = kv_get(c->accel_opts, "kernel-irqchip");
    }
    if (irqchip) {
        bool on;
        if (!strcmp(irqchip, "split")) {
            m->kernel_irqchip_split = true;
        } else if (parse_bool(irqchip, &on)) {
            m->kernel_irqchip_off = !on;
        } else {
            error_report("Parameter 'kernel-irqchip' does not accept value '%s'", irqchip);
            exit(1);
        }
    }
    static const char *const ignored_machine_props[] = {
        "accel",             /* read by choose_accel() */
        "dump-guest-core", "mem-merge", "vmport", "graphics",
        "suppress-vmdesc", "smm", "sata", "pit", "pic",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ignored_machine_props); i++) {
        kv_get(c->machine_opts, ignored_machine_props[i]);
    }
    const char *usb = kv_get(c->machine_opts, "usb");
    if (usb && !parse_bool(usb, &m->usb)) {
        error_report("Parameter 'usb' expects 'on' or 'off'");
        exit(1);
    }
    m->usb |= c->usb;
    const char *hpet = kv_get(c->machine_opts, "hpet");
    if (hpet) {
        bool on;
        if (!parse_bool(hpet, &on)) {
            error_report("Parameter 'hpet' expects 'on' or 'off'");
            exit(1);
        }
        m->hpet = on;
    }
    const char *acpi = kv_get(c->machine_opts, "acpi");
    if (acpi && !strcmp(acpi, "off")) {
        m->acpi = false;
    }
    for (int k = 0; k < c->machine_opts->n; k++) {
        if (!c->machine_opts->p[k].used) {
            error_report("Property '%s-machine.%s' not found", m->cls->name, c->machine_opts->p[k].key);
            exit(1);
        }
    }
    for (guint i = 0; i < c->globals->len; i++) {
        OptArg *o = &g_array_index(c->globals, OptArg, i);
        loc_set_option(o->opt, o->arg);
        if (!qdev_global_add(o->arg, &err)) {
            error_report_err(err);
            exit(1);
        }
    }
    loc_clear();
}

int main(int argc, char **argv)
{
    error_set_progname(argv[0]);
    g_set_prgname(error_get_progname());
    firmware_dirs = g_ptr_array_new();

    Config c = { 0 };
    c.machine_opts = kv_new();
    c.accel_opts = kv_new();
    c.accels = g_ptr_array_new();
    GArray **lists[] = { &c.serials, &c.chardevs, &c.devices, &c.globals, &c.mons, &c.monitors,
                         &c.qmps, &c.drives, &c.objects, &c.unsupported };
    for (size_t i = 0; i < G_N_ELEMENTS(lists); i++) {
        *lists[i] = g_array_new(FALSE, TRUE, sizeof(OptArg));
    }
    parse_args(argc, argv, &c);
    handle_help_requests(&c);

    const char *type = kv_get(c.machine_opts, "type");
    const MachineClass *mc = type ? machine_class_find(type) : machine_class_default();
    if (!mc) {
        error_report("unsupported machine type");
        fprintf(stderr, "Use -machine help to list supported machines\n");
        exit(1);
    }
    /* -display / -vnc / -nographic (ui/display.c) and -vga (hw/display) */
    display_configure(c.display, c.vnc, c.nographic);
    if (c.vga) {
        vga_interface_check(c.vga);
    }
    vga_interface_type = c.vga ? c.vga : c.nodefaults ? "none" : NULL;
    refuse_unsupported(&c);
    create_objects(&c);
    open_drives(&c, mc);

    Machine *m = g_new0(Machine, 1);
    m->cls = mc;
    current_machine = m;
    configure_machine(&c, m);

    if (c.daemonize) {
        daemonize_start();
    }
    if (c.pidfile) {
        write_pidfile(c.pidfile);
    }

    main_loop_init();
    bql_lock();
    memory_init();
    runstate_init_signals();
    log_init();
    create_chardevs(&c);
    Chardev *serial_hds[4] = { NULL };
    create_serials_and_monitors(&c, mc, serial_hds);
    machine_set_serial_hds(m, serial_hds);

    choose_accel(&c, m);
    Error *err = NULL;
    if (!mc->init(m, &err)) {
        error_report_err(err);
        exit(1);
    }
    if (!drive_create_virtio_devices(&err)) {
        error_report_err(err);
        exit(1);
    }
    create_devices(&c);
    if (!drive_check_orphans(&err)) {
        error_report_err(err);
        exit(1);
    }
    loc_clear();
    machine_done(m);
    display_start();

    qemu_system_reset(SHUTDOWN_CAUSE_NONE);
    if (n_cpus) {
        cpus_start(m);
    }
    daemonize_finish();
    if (!c.freeze) {
        vm_start();
    }

    int status = 0;
    while (!main_loop_should_exit(&status)) {
        main_loop_wait(true);
    }
    pause_all_vcpus();
    qemu_run_exit_notifiers();
    chr_close_all();
    /* vCPU threads are stopped; leave without unwinding them */
    fflush(stdout);
    fflush(stderr);
    _exit(status);
}
