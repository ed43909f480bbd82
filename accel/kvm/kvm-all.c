/*
 * The "kvm" accelerator: /dev/kvm checks with QEMU's error texts, VM
 * creation, memory slots from a listener on as_memory, one vCPU per
 * thread (KVM_RUN loop, PIO/MMIO exits dispatched through as_rw), kicks
 * by SIGUSR1 plus kvm_run->immediate_exit, and GSI/MSI injection.
 * Spec: Linux Documentation/virt/kvm/api.rst (API version 12).
 * Locking: init, the listener and gsi_set/send_msi run with the BQL;
 * vcpu_* run on the vCPU's thread (vcpu_exec without the BQL); vcpu_kick
 * from any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include "accel/kvm/kvm-internal.h"
#include "hw/machine.h"
#include "system/kvm.h"
#include "system/main-loop.h"
#include "system/runstate.h"
#include "target/i386/kvm_i386.h"
#include "util/cutils.h"
#include "util/error.h"
#include "util/module.h"

#define KVM_DEVICE "/dev/kvm"
#define container_of(p, T, f) ((T *)((char *)(p) - offsetof(T, f)))
#define KVM_API_VERSION_REQUIRED 12

KVMState *kvm_state;
static AccelOps kvm_ops;

/* --- ioctl helpers: return -errno on failure --- */

int kvm_ioctl(KVMState *s, unsigned long req, void *arg)
{
    int r = ioctl(s->fd, req, arg);
    return r < 0 ? -errno : r;
}

int kvm_vm_ioctl(KVMState *s, unsigned long req, void *arg)
{
    int r = ioctl(s->vmfd, req, arg);
    return r < 0 ? -errno : r;
}

int kvm_vcpu_ioctl(CPUState *cpu, unsigned long req, void *arg)
{
    int r = ioctl(kvm_vcpu(cpu)->fd, req, arg);
    return r < 0 ? -errno : r;
}

int kvm_check_extension(KVMState *s, int cap)
{
    int r = ioctl(s->vmfd >= 0 ? s->vmfd : s->fd, KVM_CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
}

bool kvm_has_msr(KVMState *s, uint32_t index)
{
    for (int i = 0; i < s->n_msrs; i++) {
        if (s->msrs[i] == index) {
            return true;
        }
    }
    return false;
}

bool kvm_enabled(void)
{
    return kvm_state != NULL && current_accel == &kvm_ops;
}

bool kvm_irqchip_in_kernel(void)
{
    return kvm_state && kvm_state->irqchip;
}

/* --- why KVM is unusable --- */

static bool cpuinfo_has_flag(const char *flag)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/cpuinfo", &text, NULL, NULL)) {
        return false;
    }
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "flags", 5)) {
            continue;
        }
        g_auto(GStrv) words = g_strsplit_set(strchr(line, ':') ? strchr(line, ':') + 1 : line,
                                             " \t", -1);
        for (int i = 0; words[i]; i++) {
            if (!strcmp(words[i], flag)) {
                return true;
            }
        }
        return false;               /* the first CPU's flags are enough */
    }
    return false;
}

static const char *host_vendor_module(void)
{
    g_autofree char *text = NULL;
    if (g_file_get_contents("/proc/cpuinfo", &text, NULL, NULL) &&
        (strstr(text, "AuthenticAMD") || strstr(text, "HygonGenuine"))) {
        return "kvm_amd";
    }
    return "kvm_intel";
}

bool kvm_is_paravirtual(void)
{
    static int cached = -1;
    if (cached < 0) {
        cached = !cpuinfo_has_flag("vmx") && !cpuinfo_has_flag("svm");
    }
    return cached;
}

const char *kvm_unusable_for_linux_reason(void)
{
    if (!kvm_is_paravirtual()) {
        return NULL;
    }
    return "the host CPU has no VT-x/AMD-V (no vmx or svm flag in /proc/cpuinfo): "
           "/dev/kvm here is a paravirtual KVM that runs firmware, real-mode code and "
           "small protected/long-mode payloads, but cannot boot a stock Linux kernel";
}

/* kemu's own explanation after QEMU's message, as an Error hint. */
static void append_open_hint(Error **errp, int err)
{
    switch (err) {
    case ENOENT:
        if (access("/sys/module/kvm", F_OK) == 0) {
            error_append_hint(errp, "The kvm module is loaded but " KVM_DEVICE " is missing: "
                              "is devtmpfs mounted on /dev (or run 'mknod " KVM_DEVICE
                              " c 10 232' as root)?\n");
        } else if (!cpuinfo_has_flag("vmx") && !cpuinfo_has_flag("svm")) {
            error_append_hint(errp, "The kvm kernel module is not loaded, and the host CPU "
                              "shows no VT-x/AMD-V (no vmx or svm flag in /proc/cpuinfo): "
                              "enable virtualization in the firmware setup, or nested "
                              "virtualization on the host hypervisor, then run "
                              "'modprobe %s' as root.\n", host_vendor_module());
        } else {
            error_append_hint(errp, "The kvm kernel module is not loaded: run 'modprobe %s' "
                              "as root.\n", host_vendor_module());
        }
        break;
    case EACCES:
    case EPERM: {
        struct stat st;
        const char *group = "kvm";
        if (stat(KVM_DEVICE, &st) == 0) {
            struct group *g = getgrgid(st.st_gid);
            if (g && g->gr_name) {
                group = g->gr_name;
            }
        }
        g_autofree char *user = g_strdup(g_get_user_name());
        error_append_hint(errp, "No permission to open " KVM_DEVICE ": add user '%s' to "
                          "group '%s' ('usermod -aG %s %s' as root, then log in again), "
                          "or run as root.\n", user, group, group, user);
        break;
    }
    case ENODEV:
    case ENXIO:
        error_append_hint(errp, KVM_DEVICE " exists but no KVM driver is bound to it: "
                          "run 'modprobe %s' as root (and check that virtualization "
                          "is enabled in the firmware setup).\n", host_vendor_module());
        break;
    default:
        break;
    }
}

static int kvm_open(void)
{
    int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static bool kvm_available(Error **errp)
{
    int fd = kvm_open();
    if (fd < 0) {
        error_setg(errp, "Could not access KVM kernel module: %s", strerror(-fd));
        append_open_hint(errp, -fd);
        return false;
    }
    int v = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    if (v < KVM_API_VERSION_REQUIRED) {
        error_setg(errp, "kvm version too old");
        return false;
    }
    if (v > KVM_API_VERSION_REQUIRED) {
        error_setg(errp, "kvm version not supported");
        return false;
    }
    return true;
}

/* --- memory slots --- */

static KVMSlot *slot_alloc(KVMState *s)
{
    for (int i = 0; i < s->n_slots; i++) {
        if (!s->slots[i].used) {
            return &s->slots[i];
        }
    }
    if (s->n_slots >= s->max_slots) {
        return NULL;
    }
    s->slots = g_renew(KVMSlot, s->slots, s->n_slots + 1);
    memset(&s->slots[s->n_slots], 0, sizeof(KVMSlot));
    return &s->slots[s->n_slots++];
}

static int slot_set(KVMState *s, KVMSlot *sl, bool remove)
{
    struct kvm_userspace_memory_region mem = {
        .slot = (uint32_t)(sl - s->slots),
        .flags = sl->flags,
        .guest_phys_addr = sl->gpa,
        .memory_size = remove ? 0 : sl->size,
        .userspace_addr = (uintptr_t)sl->host,
    };
    return kvm_vm_ioctl(s, KVM_SET_USER_MEMORY_REGION, &mem);
}

/* The page-aligned part of a RAM/ROM range, or false if none. Sub-page
 * edges stay unmapped and reach as_rw as MMIO exits. */
static bool range_for_slot(const FlatRange *fr, uint64_t *gpa, uint64_t *size,
                           uint64_t *mr_off)
{
    MemoryRegion *mr = fr->mr;
    uint64_t page = (uint64_t)getpagesize();

    if (!mr || (mr->kind != MR_RAM && mr->kind != MR_ROM) || !mr->host) {
        return false;
    }
    uint64_t start = ROUND_UP(fr->start, page);
    uint64_t end = fr->end & ~(page - 1);
    uint64_t off = fr->mr_off + (start - fr->start);
    if (end <= start || ((uintptr_t)(mr->host + off) & (page - 1))) {
        return false;
    }
    *gpa = start;
    *size = end - start;
    *mr_off = off;
    return true;
}

static void kvm_region_add(MemoryListener *l, const FlatRange *fr)
{
    KVMState *s = container_of(l, KVMState, listener);
    uint64_t gpa, size, off;
    bool ro;

    if (!range_for_slot(fr, &gpa, &size, &off)) {
        return;
    }
    ro = fr->readonly || fr->mr->readonly || fr->mr->kind == MR_ROM;
    if (ro && !s->readonly_mem) {
        /* Without KVM_MEM_READONLY (Linux < 3.7) the guest must still be
         * able to execute ROM, so it is mapped writable, as QEMU does. */
        ro = false;
    }
    KVMSlot *sl = slot_alloc(s);
    if (!sl) {
        error_report("kvm: no free memory slot for 0x%" G_GINT64_MODIFIER "x+0x%"
                     G_GINT64_MODIFIER "x", (guint64)gpa, (guint64)size);
        abort();
    }
    sl->used = true;
    sl->gpa = gpa;
    sl->size = size;
    sl->host = fr->mr->host + off;
    sl->mr = fr->mr;
    sl->mr_off = off;
    sl->flags = (ro ? KVM_MEM_READONLY : 0) |
                (fr->mr->log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0);
    int r = slot_set(s, sl, false);
    if (r < 0) {
        error_report("kvm_set_user_memory_region: KVM_SET_USER_MEMORY_REGION failed, "
                     "slot=%d, start=0x%" G_GINT64_MODIFIER "x, size=0x%"
                     G_GINT64_MODIFIER "x, flags=0x%x: %s", (int)(sl - s->slots),
                     (guint64)gpa, (guint64)size, sl->flags, strerror(-r));
        abort();
    }
}

static void kvm_region_del(MemoryListener *l, const FlatRange *fr)
{
    KVMState *s = container_of(l, KVMState, listener);
    uint64_t gpa, size, off;

    if (!range_for_slot(fr, &gpa, &size, &off)) {
        return;
    }
    for (int i = 0; i < s->n_slots; i++) {
        KVMSlot *sl = &s->slots[i];
        if (sl->used && sl->gpa == gpa && sl->size == size) {
            int r = slot_set(s, sl, true);
            if (r < 0) {
                error_report("kvm: removing memory slot %d failed: %s", i, strerror(-r));
            }
            sl->used = false;
            return;
        }
    }
}

/* Follow mr->log_dirty (mr_set_log_dirty doesn't re-flatten): turn
 * KVM_MEM_LOG_DIRTY_PAGES on or off for a slot. Returns true when logging
 * was just switched on, so the caller treats the whole slot as dirty. */
static bool slot_update_log_flag(KVMState *s, KVMSlot *sl)
{
    uint32_t want = sl->mr->log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0;
    if ((sl->flags & KVM_MEM_LOG_DIRTY_PAGES) == want) {
        return false;
    }
    sl->flags = (sl->flags & ~KVM_MEM_LOG_DIRTY_PAGES) | want;
    int r = slot_set(s, sl, false);
    if (r < 0) {
        error_report("kvm: changing dirty logging of slot %d failed: %s",
                     (int)(sl - s->slots), strerror(-r));
    }
    return want != 0;
}

void kvm_log_sync(MemoryRegion *mr)
{
    KVMState *s = kvm_state;
    uint64_t page = (uint64_t)getpagesize();

    if (!s || !kvm_enabled()) {
        return;
    }
    for (int i = 0; i < s->n_slots; i++) {
        KVMSlot *sl = &s->slots[i];
        if (!sl->used || sl->mr != mr) {
            continue;
        }
        if (slot_update_log_flag(s, sl)) {
            mr_set_dirty(mr, sl->mr_off, sl->size);   /* writes before logging began */
            continue;
        }
        if (!(sl->flags & KVM_MEM_LOG_DIRTY_PAGES)) {
            continue;
        }
        uint64_t pages = sl->size / page;
        g_autofree uint64_t *bitmap = g_malloc0(((pages + 63) / 64) * 8);
        struct kvm_dirty_log log = { .slot = (uint32_t)i, .dirty_bitmap = bitmap };
        if (kvm_vm_ioctl(s, KVM_GET_DIRTY_LOG, &log) < 0) {
            continue;
        }
        for (uint64_t p = 0; p < pages; p++) {
            if (bitmap[p / 64] & (1ull << (p % 64))) {
                mr_set_dirty(mr, sl->mr_off + p * page, page);
            }
        }
    }
}

/* --- VM --- */

static void sig_ipi_handler(int sig)
{
    (void)sig;                  /* only there to make KVM_RUN return EINTR */
}

static bool kvm_query_caps(KVMState *s, Error **errp)
{
    static const struct { int cap; const char *name; } required[] = {
        { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
        { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
        { KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
        { KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(required); i++) {
        if (!kvm_check_extension(s, required[i].cap)) {
            error_set(errp, ERROR_CLASS_KVM_MISSING_CAP,
                      "kvm does not support %s", required[i].name);
            return false;
        }
    }
    s->immediate_exit = kvm_check_extension(s, KVM_CAP_IMMEDIATE_EXIT);
    s->readonly_mem = kvm_check_extension(s, KVM_CAP_READONLY_MEM);
    s->signal_msi = kvm_check_extension(s, KVM_CAP_SIGNAL_MSI);
    s->irq_routing = kvm_check_extension(s, KVM_CAP_IRQ_ROUTING);
    s->xsave = kvm_check_extension(s, KVM_CAP_XSAVE);
    s->xcrs = kvm_check_extension(s, KVM_CAP_XCRS);
    s->vcpu_events = kvm_check_extension(s, KVM_CAP_VCPU_EVENTS);
    s->debugregs = kvm_check_extension(s, KVM_CAP_DEBUGREGS);
    s->mp_state = true;
    int xs2 = kvm_check_extension(s, KVM_CAP_XSAVE2);
    s->xsave2 = xs2 > 0;
    s->xsave_size = MAX(xs2, (int)sizeof(struct kvm_xsave));
    s->nr_vcpus = kvm_check_extension(s, KVM_CAP_NR_VCPUS);
    s->max_vcpus = kvm_check_extension(s, KVM_CAP_MAX_VCPUS);
    if (!s->nr_vcpus) {
        s->nr_vcpus = 4;            /* api.rst: assume 4 when the cap is absent */
    }
    if (!s->max_vcpus) {
        s->max_vcpus = s->nr_vcpus;
    }
    s->max_slots = kvm_check_extension(s, KVM_CAP_NR_MEMSLOTS);
    if (s->max_slots <= 0) {
        s->max_slots = 32;
    }
    return true;
}

static bool kvm_get_host_tables(KVMState *s, Error **errp)
{
    int r;

    for (int n = 64;; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        r = kvm_ioctl(s, KVM_GET_SUPPORTED_CPUID, c);
        if (r == -E2BIG && n < 4096) {
            g_free(c);
            continue;
        }
        if (r < 0) {
            g_free(c);
            error_setg_errno(errp, -r, "KVM_GET_SUPPORTED_CPUID failed");
            return false;
        }
        s->supported_cpuid = c;
        break;
    }
    struct kvm_msr_list probe = { .nmsrs = 0 };
    r = kvm_ioctl(s, KVM_GET_MSR_INDEX_LIST, &probe);
    if (r < 0 && r != -E2BIG) {
        error_setg_errno(errp, -r, "KVM_GET_MSR_INDEX_LIST failed");
        return false;
    }
    struct kvm_msr_list *ml = g_malloc0(sizeof(*ml) + probe.nmsrs * sizeof(uint32_t));
    ml->nmsrs = probe.nmsrs;
    r = kvm_ioctl(s, KVM_GET_MSR_INDEX_LIST, ml);
    if (r < 0) {
        g_free(ml);
        error_setg_errno(errp, -r, "KVM_GET_MSR_INDEX_LIST failed");
        return false;
    }
    s->n_msrs = ml->nmsrs;
    s->msrs = g_memdup2(ml->indices, ml->nmsrs * sizeof(uint32_t));
    g_free(ml);
    return true;
}

static void kvm_cleanup(KVMState *s)
{
    if (s->vmfd >= 0) {
        close(s->vmfd);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    g_free(s->supported_cpuid);
    g_free(s->msrs);
    g_free(s->slots);
    g_free(s);
}

/* QEMU's vCPU count checks: a warning above KVM_CAP_NR_VCPUS, exit above
 * KVM_CAP_MAX_VCPUS. */
static void check_vcpu_limit(KVMState *s, const char *what, int n)
{
    if (n <= s->nr_vcpus) {
        return;
    }
    warn_report("Number of %s cpus requested (%d) exceeds the recommended cpus "
                "supported by KVM (%d)", what, n, s->nr_vcpus);
    if (n > s->max_vcpus) {
        fprintf(stderr, "Number of %s cpus requested (%d) exceeds the maximum cpus "
                "supported by KVM (%d)\n", what, n, s->max_vcpus);
        exit(1);
    }
}

static void kvm_reset_notify(Notifier *n, void *data)
{
    (void)data;
    kvm_arch_reset_vm(container_of(n, KVMState, reset_notifier));
}

/*
 * AccelOps.init: /dev/kvm, KVM_CREATE_VM, capabilities, TSS/identity map,
 * in-kernel irqchip and PIT, memslot listener. When /dev/kvm can't be
 * opened it prints QEMU's bare "Could not access KVM kernel module: %m"
 * line itself and sets errp to the strerror text with kemu's hint; the
 * caller prints "failed to initialize kvm: <msg>" (error_prepend +
 * error_report_err), exactly QEMU 7.2's two lines, then the hint.
 */
static bool kvm_init(Machine *m, Error **errp)
{
    KVMState *s = g_new0(KVMState, 1);
    int r;

    s->vmfd = -1;
    s->machine = m;
    s->fd = kvm_open();
    if (s->fd < 0) {
        r = s->fd;
        /* QEMU prints this line bare, then "failed to initialize kvm: ..." */
        fprintf(stderr, "Could not access KVM kernel module: %s\n", strerror(-r));
        s->fd = -1;
        goto fail;
    }
    r = ioctl(s->fd, KVM_GET_API_VERSION, 0);
    if (r < KVM_API_VERSION_REQUIRED) {
        fprintf(stderr, "kvm version too old\n");
        r = -EINVAL;
        goto fail;
    }
    if (r > KVM_API_VERSION_REQUIRED) {
        fprintf(stderr, "kvm version not supported\n");
        r = -EINVAL;
        goto fail;
    }
    do {
        s->vmfd = ioctl(s->fd, KVM_CREATE_VM, 0);
    } while (s->vmfd < 0 && errno == EINTR);
    if (s->vmfd < 0) {
        r = -errno;
        fprintf(stderr, "ioctl(KVM_CREATE_VM) failed: %d %s\n", -r, strerror(-r));
        s->vmfd = -1;
        goto fail;
    }
    if (!kvm_query_caps(s, errp)) {
        kvm_cleanup(s);
        return false;
    }
    if (m) {
        check_vcpu_limit(s, "SMP", m->smp_cpus);
        check_vcpu_limit(s, "hotpluggable", m->smp_max_cpus ? m->smp_max_cpus : m->smp_cpus);
    }
    s->run_size = ioctl(s->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (s->run_size < (int)sizeof(struct kvm_run)) {
        error_setg(errp, "KVM_GET_VCPU_MMAP_SIZE failed");
        kvm_cleanup(s);
        return false;
    }
    if (!kvm_get_host_tables(s, errp) || !kvm_arch_init_vm(s, m, errp)) {
        kvm_cleanup(s);
        return false;
    }
    if (m) {
        kvm_arch_adjust_cpu_model(s, &m->cpu);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sig_ipi_handler;    /* no SA_RESTART: KVM_RUN must see EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIG_IPI, &sa, NULL);

    kvm_state = s;
    kvm_ops.irqchip_in_kernel = s->irqchip;
    if (!s->irqchip) {
        kvm_ops.gsi_set = NULL;         /* devices go to the userspace PIC/IOAPIC */
        kvm_ops.send_msi = NULL;
    }
    kvm_arch_reset_vm(s);
    s->reset_notifier.fn = kvm_reset_notify;
    qemu_register_reset_notifier(&s->reset_notifier);
    s->listener.region_add = kvm_region_add;
    s->listener.region_del = kvm_region_del;
    memory_listener_register(&as_memory, &s->listener);
    return true;

fail:
    /* The caller prints QEMU's "failed to initialize kvm: <this>", then the hint. */
    error_setg(errp, "%s", strerror(-r));
    append_open_hint(errp, -r);
    kvm_cleanup(s);
    return false;
}

/* --- vCPUs --- */

static void kvm_put_state(CPUState *cpu)
{
    KVMVcpu *v = kvm_vcpu(cpu);
    bool reset = atomic_exchange(&v->reset_pending, false);
    int r = kvm_arch_put_registers(cpu, reset);
    if (r < 0) {
        error_report("Failed to put registers after init: %s", strerror(-r));
        abort();
    }
}

static bool kvm_vcpu_init(CPUState *cpu, Error **errp)
{
    KVMState *s = kvm_state;
    KVMVcpu *v = g_new0(KVMVcpu, 1);

    v->cpu = cpu;
    v->fd = ioctl(s->vmfd, KVM_CREATE_VCPU, (unsigned long)cpu->env.apic_id);
    if (v->fd < 0) {
        error_setg_errno(errp, errno, "kvm_init_vcpu: kvm_get_vcpu failed (%lu)",
                         (unsigned long)cpu->env.apic_id);
        g_free(v);
        return false;
    }
    v->run = mmap(NULL, s->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        error_setg_errno(errp, errno, "kvm_init_vcpu: mmap'ing vcpu state failed (%lu)",
                         (unsigned long)cpu->env.apic_id);
        close(v->fd);
        g_free(v);
        return false;
    }
    cpu->accel = v;
    if (!kvm_arch_init_vcpu(s, cpu, errp)) {
        return false;
    }
    /* env holds the power-on state (cpu_create reset it): give it to KVM
     * now, LAPIC and MP state included, before any vCPU runs. */
    kvm_put_state(cpu);
    cpu->state_dirty = false;

    /* SIG_IPI must reach this thread; without immediate_exit it stays
     * blocked outside KVM_RUN and KVM unblocks it during the run. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIG_IPI);
    if (s->immediate_exit) {
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    } else {
        sigset_t cur;
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        pthread_sigmask(SIG_BLOCK, NULL, &cur);
        sigdelset(&cur, SIG_IPI);
        g_autofree struct kvm_signal_mask *km = g_malloc0(sizeof(*km) + 8);
        km->len = 8;                      /* the kernel's sigset_t */
        memcpy(km->sigset, &cur, 8);
        int r = kvm_vcpu_ioctl(cpu, KVM_SET_SIGNAL_MASK, km);
        if (r < 0) {
            error_setg_errno(errp, -r, "kvm: KVM_SET_SIGNAL_MASK failed");
            return false;
        }
    }
    return true;
}

static void kvm_sync_state(CPUState *cpu)
{
    int r = kvm_arch_get_registers(cpu);
    if (r < 0) {
        error_report("Failed to get registers: %s", strerror(-r));
        vm_stop(RUN_STATE_INTERNAL_ERROR);
    }
}

/*
 * After env was reset (system reset or INIT). On the vCPU's own thread the
 * reset state goes to KVM at once, so an AP is back in UNINITIALIZED
 * before the BSP can run again and send it INIT/SIPI; elsewhere it is
 * pushed before the next KVM_RUN.
 */
static void kvm_cpu_reset(CPUState *cpu)
{
    KVMVcpu *v = kvm_vcpu(cpu);
    if (!v) {
        return;
    }
    atomic_store(&v->reset_pending, true);
    if (pthread_equal(pthread_self(), cpu->thread)) {
        kvm_put_state(cpu);
        cpu->state_dirty = false;
    }
}

static void kvm_vcpu_kick(CPUState *cpu)
{
    KVMVcpu *v = kvm_vcpu(cpu);
    if (!v) {
        return;
    }
    if (kvm_state->immediate_exit) {
        __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    }
    pthread_kill(cpu->thread, SIG_IPI);
}

/* Without immediate_exit: consume a SIG_IPI left pending while blocked. */
static void drain_sig_ipi(void)
{
    sigset_t set, pending;
    struct timespec ts = { 0, 0 };

    sigemptyset(&set);
    sigaddset(&set, SIG_IPI);
    while (sigpending(&pending) == 0 && sigismember(&pending, SIG_IPI)) {
        if (sigtimedwait(&set, NULL, &ts) < 0) {
            break;
        }
    }
}

static void handle_io(struct kvm_run *run)
{
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

    for (uint32_t i = 0; i < run->io.count; i++) {
        as_rw(&as_io, run->io.port, data, run->io.size, is_write);
        data += run->io.size;
    }
}

static int handle_internal_error(CPUState *cpu, struct kvm_run *run)
{
    fprintf(stderr, "KVM internal error. Suberror: %d\n", run->internal.suberror);
    for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++) {
        fprintf(stderr, "extra data[%u]: 0x%016" G_GINT64_MODIFIER "x\n", i,
                (guint64)run->internal.data[i]);
    }
    if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
        fprintf(stderr, "emulation failure\n");
        if (!kvm_arch_stop_on_emulation_error(cpu)) {
            kvm_arch_dump_state(cpu);
            return EXCP_INTERRUPT;
        }
    }
    return -1;
}

static int handle_system_event(struct kvm_run *run)
{
    switch (run->system_event.type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
        return EXCP_SHUTDOWN;
    case KVM_SYSTEM_EVENT_RESET:
        return EXCP_RESET;
    case KVM_SYSTEM_EVENT_CRASH:
        bql_lock();
        vm_stop(RUN_STATE_GUEST_PANICKED);
        bql_unlock();
        return EXCP_INTERRUPT;
    default:
        return 0;
    }
}

/*
 * Handle one exit. Returns 0 to re-enter KVM_RUN, an EXCP_* value to leave
 * vcpu_exec, or -1 for a fatal error (dump registers, stop the VM).
 */
static int handle_exit(CPUState *cpu, struct kvm_run *run)
{
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        handle_io(run);
        return 0;
    case KVM_EXIT_MMIO:
        as_rw(&as_memory, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
              run->mmio.is_write);
        return 0;
    case KVM_EXIT_HLT: {                  /* only without the in-kernel LAPIC */
        unsigned ir = atomic_load(&cpu->interrupt_request);
        cpu->env.eflags = (cpu->env.eflags & ~(uint64_t)IF_MASK) |
                          (run->if_flag ? IF_MASK : 0);
        if (((ir & CPU_INTERRUPT_HARD) && run->if_flag) || (ir & CPU_INTERRUPT_NMI)) {
            return 0;                     /* an interrupt is already waiting */
        }
        cpu->env.halted = true;
        return EXCP_HLT;
    }
    case KVM_EXIT_SHUTDOWN:
        return EXCP_RESET;            /* triple fault */
    case KVM_EXIT_INTR:
        return EXCP_INTERRUPT;
    case KVM_EXIT_SYSTEM_EVENT:
        return handle_system_event(run);
    case KVM_EXIT_INTERNAL_ERROR:
        return handle_internal_error(cpu, run);
    case KVM_EXIT_UNKNOWN:
        fprintf(stderr, "KVM: unknown exit, hardware reason %" G_GINT64_MODIFIER "x\n",
                (guint64)run->hw.hardware_exit_reason);
        return -1;
    default:
        return kvm_arch_handle_exit(cpu, run);
    }
}

/*
 * kernel-irqchip=off: INIT and SIPI come from the userspace LAPIC as
 * CPU_INTERRUPT_INIT/SIPI (vector in env.sipi_vector), and a halted CPU
 * stays out of KVM_RUN until it has an interrupt to take. Returns false
 * while the CPU must stay halted.
 */
static bool userspace_irqchip_events(CPUState *cpu)
{
    CPUX86State *env = &cpu->env;
    unsigned ir = atomic_load(&cpu->interrupt_request);

    if (ir & CPU_INTERRUPT_INIT) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_INIT);
        bql_lock();
        x86_cpu_reset_state(cpu);         /* APs wait for SIPI (halted) */
        bql_unlock();
        env->halted = cpu->halted;
    }
    if ((ir & CPU_INTERRUPT_SIPI) && cpu->halted) {
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_SIPI);
        env->segs[R_CS].selector = env->sipi_vector << 8;
        env->segs[R_CS].base = (uint64_t)env->sipi_vector << 12;
        env->rip = 0;
        cpu->halted = env->halted = false;
        cpu->state_dirty = true;
    }
    if (cpu->halted || env->halted) {
        ir = atomic_load(&cpu->interrupt_request);
        if (((ir & CPU_INTERRUPT_HARD) && (env->eflags & IF_MASK)) ||
            (ir & CPU_INTERRUPT_NMI)) {
            cpu->halted = env->halted = false;
        } else {
            return false;
        }
    }
    return true;
}

static int kvm_vcpu_exec(CPUState *cpu)
{
    KVMState *s = kvm_state;
    KVMVcpu *v = kvm_vcpu(cpu);
    struct kvm_run *run = v->run;
    int ret = 0;

    if (!s->irqchip && !userspace_irqchip_events(cpu)) {
        return EXCP_HLT;
    }
    if (cpu->state_dirty || atomic_load(&v->reset_pending)) {
        kvm_put_state(cpu);
        cpu->state_dirty = false;
    }
    while (ret == 0) {
        kvm_arch_pre_run(cpu, run);
        if (atomic_load(&cpu->exit_request)) {
            /* Still enter: KVM first finishes a pending PIO/MMIO, then sees
             * immediate_exit or the pending unmasked signal (api.rst). */
            if (s->immediate_exit) {
                __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
            } else {
                pthread_kill(pthread_self(), SIG_IPI);
            }
        }
        int r = ioctl(v->fd, KVM_RUN, 0);
        int err = errno;
        kvm_arch_post_run(cpu, run);
        if (r < 0) {
            if (err == EINTR || err == EAGAIN) {
                if (s->immediate_exit) {
                    __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                } else {
                    drain_sig_ipi();
                }
                ret = EXCP_INTERRUPT;
                break;
            }
            fprintf(stderr, "error: kvm run failed %s\n", strerror(err));
            ret = -1;
            break;
        }
        ret = handle_exit(cpu, run);
    }
    if (ret < 0) {
        kvm_arch_dump_state(cpu);
        bql_lock();
        vm_stop(RUN_STATE_INTERNAL_ERROR);
        bql_unlock();
        ret = EXCP_INTERRUPT;
    }
    atomic_store(&cpu->exit_request, 0);
    return ret;
}

/* --- interrupts --- */

static void kvm_gsi_set(Machine *m, int gsi, int level)
{
    (void)m;
    struct kvm_irq_level irq = { .irq = (uint32_t)gsi, .level = (uint32_t)level };
    int r = kvm_vm_ioctl(kvm_state, KVM_IRQ_LINE, &irq);
    if (r < 0) {
        error_report("kvm: KVM_IRQ_LINE gsi %d failed: %s", gsi, strerror(-r));
    }
}

static void kvm_send_msi(Machine *m, uint64_t addr, uint32_t data)
{
    (void)m;
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr,
        .address_hi = (uint32_t)(addr >> 32),
        .data = data,
    };
    int r = kvm_vm_ioctl(kvm_state, KVM_SIGNAL_MSI, &msi);
    if (r < 0) {
        error_report("kvm: KVM_SIGNAL_MSI failed: %s", strerror(-r));
    }
}

static AccelOps kvm_ops = {
    .name = "kvm",
    .one_thread_per_vcpu = true,
    .available = kvm_available,
    .init = kvm_init,
    .vcpu_init = kvm_vcpu_init,
    .vcpu_exec = kvm_vcpu_exec,
    .vcpu_kick = kvm_vcpu_kick,
    .sync_state = kvm_sync_state,
    .put_state = kvm_put_state,
    .cpu_reset = kvm_cpu_reset,
    .gsi_set = kvm_gsi_set,
    .send_msi = kvm_send_msi,
    .irqchip_in_kernel = true,
};

MODULE_INIT(kvm_register)
{
    accel_register(&kvm_ops);
}
