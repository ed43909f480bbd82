/*
 * Device test harness: stand-ins for the core APIs that device models call
 * (memory.h, timer.h, isa.h, machine.h IRQs, char.h, qdev.h, runstate.h,
 * cpus.h), with a test-controlled CLOCK_VIRTUAL. Linked only into the
 * test-dev-* programs, never into kemu itself.
 * Locking: single-threaded; no BQL needed.
 */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include "tests/unit/devtest.h"
#include "hw/isa.h"
#include "hw/machine.h"
#include "system/runstate.h"

/* ---------------- errors ---------------- */

Error *error_fatal;
Error *error_abort;

static void error_vset(Error **errp, const char *fmt, va_list ap)
{
    char *msg = g_strdup_vprintf(fmt, ap);
    if (errp == &error_fatal || errp == &error_abort || !errp) {
        if (errp) {
            fprintf(stderr, "devtest: fatal error: %s\n", msg);
            abort();
        }
        g_free(msg);
        return;
    }
    Error *e = g_new0(Error, 1);
    e->msg = msg;
    *errp = e;
}

void error_setg(Error **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(errp, fmt, ap);
    va_end(ap);
}

void error_append_hint(Error **errp, const char *fmt, ...)
{
    (void)errp;
    (void)fmt;
}

void error_free(Error *err)
{
    if (err) {
        g_free(err->msg);
        g_free(err->hint);
        g_free(err);
    }
}

const char *error_get_pretty(const Error *err)
{
    return err->msg;
}

void error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---------------- clock and timers ---------------- */

struct Timer {
    ClockType clock;
    TimerCb *cb;
    void *opaque;
    int64_t expire;
    bool pending;
};

static int64_t virt_now;
static GPtrArray *timers;

int64_t clock_get_ns(ClockType c)
{
    if (c == CLOCK_HOST_NS) {
        return g_get_real_time() * 1000;
    }
    return virt_now;
}

Timer *timer_new(ClockType c, TimerCb *cb, void *opaque)
{
    Timer *t = g_new0(Timer, 1);
    t->clock = c;
    t->cb = cb;
    t->opaque = opaque;
    if (!timers) {
        timers = g_ptr_array_new();
    }
    g_ptr_array_add(timers, t);
    return t;
}

void timer_free(Timer *t)
{
    if (t) {
        g_ptr_array_remove(timers, t);
        g_free(t);
    }
}

void timer_mod(Timer *t, int64_t expire_ns)
{
    t->expire = expire_ns;
    t->pending = true;
}

void timer_del(Timer *t)
{
    t->pending = false;
}

bool timer_pending(Timer *t)
{
    return t->pending;
}

int64_t timer_expire_time(Timer *t)
{
    return t->pending ? t->expire : -1;
}

/* Fire the earliest timer due at or before 'limit'; false if none. */
static bool fire_one(int64_t limit)
{
    Timer *best = NULL;
    for (guint i = 0; timers && i < timers->len; i++) {
        Timer *t = g_ptr_array_index(timers, i);
        if (t->pending && t->expire <= limit && (!best || t->expire < best->expire)) {
            best = t;
        }
    }
    if (!best) {
        return false;
    }
    if (best->expire > virt_now) {
        virt_now = best->expire;
    }
    best->pending = false;
    best->cb(best->opaque);
    return true;
}

void devtest_clock_set(int64_t ns)
{
    virt_now = ns;
}

void devtest_clock_step(int64_t ns)
{
    int64_t target = virt_now + ns;
    int guard = 0;
    while (fire_one(target)) {
        g_assert(++guard < 10000000);
    }
    virt_now = target;
}

int64_t devtest_clock_now(void)
{
    return virt_now;
}

/* ---------------- memory ---------------- */

static MemoryRegion root_mem, root_io;
MemoryRegion *system_memory = &root_mem;
MemoryRegion *system_io = &root_io;

typedef struct Mapping {
    MemoryRegion *parent;
    uint64_t addr;
    MemoryRegion *mr;
} Mapping;
static GArray *mappings;

void mr_init_io(MemoryRegion *mr, const char *name, const MemoryRegionOps *ops,
                void *opaque, uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->kind = MR_IO;
    mr->name = g_strdup(name);
    mr->ops = ops;
    mr->opaque = opaque;
    mr->size = size;
    mr->enabled = true;
}

void mr_add_subregion(MemoryRegion *parent, uint64_t addr, MemoryRegion *sub, int prio)
{
    Mapping m = { parent, addr, sub };
    (void)prio;
    if (!mappings) {
        mappings = g_array_new(false, false, sizeof(Mapping));
    }
    sub->addr = addr;
    sub->parent = parent;
    g_array_append_val(mappings, m);
}

void mr_del_subregion(MemoryRegion *parent, MemoryRegion *sub)
{
    for (guint i = 0; mappings && i < mappings->len; i++) {
        Mapping *m = &g_array_index(mappings, Mapping, i);
        if (m->parent == parent && m->mr == sub) {
            g_array_remove_index(mappings, i);
            return;
        }
    }
}

void mr_set_enabled(MemoryRegion *mr, bool on)
{
    mr->enabled = on;
}

void mr_set_address(MemoryRegion *mr, uint64_t addr)
{
    for (guint i = 0; mappings && i < mappings->len; i++) {
        Mapping *m = &g_array_index(mappings, Mapping, i);
        if (m->mr == mr) {
            m->addr = addr;
        }
    }
    mr->addr = addr;
}

void isa_register_ioport(IsaDevice *dev, MemoryRegion *mr, uint16_t port)
{
    (void)dev;
    mr_add_subregion(system_io, port, mr, 0);
}

static Mapping *lookup(MemoryRegion *root, uint64_t addr)
{
    for (guint i = 0; mappings && i < mappings->len; i++) {
        Mapping *m = &g_array_index(mappings, Mapping, i);
        if (m->parent == root && m->mr->enabled && addr >= m->addr &&
            addr - m->addr < m->mr->size) {
            return m;
        }
    }
    return NULL;
}

static uint64_t dispatch_read(MemoryRegion *root, uint64_t addr, unsigned size)
{
    Mapping *m = lookup(root, addr);
    if (!m || !m->mr->ops->read) {
        return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
    }
    return m->mr->ops->read(m->mr->opaque, addr - m->addr, size);
}

static void dispatch_write(MemoryRegion *root, uint64_t addr, uint64_t val, unsigned size)
{
    Mapping *m = lookup(root, addr);
    if (m && m->mr->ops->write) {
        m->mr->ops->write(m->mr->opaque, addr - m->addr, val, size);
    }
}

uint64_t devtest_io_read(uint16_t port, unsigned size)
{
    return dispatch_read(system_io, port, size);
}

void devtest_io_write(uint16_t port, uint64_t val, unsigned size)
{
    dispatch_write(system_io, port, val, size);
}

uint64_t devtest_inb(uint16_t port)
{
    return devtest_io_read(port, 1);
}

void devtest_outb(uint16_t port, uint8_t val)
{
    devtest_io_write(port, val, 1);
}

uint64_t devtest_mmio_read(uint64_t addr, unsigned size)
{
    return dispatch_read(system_memory, addr, size);
}

void devtest_mmio_write(uint64_t addr, uint64_t val, unsigned size)
{
    dispatch_write(system_memory, addr, val, size);
}

/* ---------------- ISA IRQs ---------------- */

int devtest_irq_level[24];
int devtest_irq_raised[24];

static void devtest_irq_handler(void *opaque, int n, int level)
{
    (void)opaque;
    if (getenv("DEVTEST_IRQ_TRACE")) {
        fprintf(stderr, "irq %d <- %d at %lld\n", n, level, (long long)virt_now);
    }
    if (level && !devtest_irq_level[n]) {
        devtest_irq_raised[n]++;
    }
    devtest_irq_level[n] = level;
}

IrqLine isa_get_irq(int n)
{
    IrqLine l = { devtest_irq_handler, NULL, n };
    return l;
}

void devtest_irq_clear_counts(void)
{
    memset(devtest_irq_raised, 0, sizeof(devtest_irq_raised));
}

void machine_register_reset(void (*fn)(void *opaque), void *opaque)
{
    (void)fn;
    (void)opaque;
}

/* ---------------- chardev ---------------- */

static GPtrArray *chardevs;

DevtestChr *devtest_chr_new(const char *id)
{
    DevtestChr *c = g_new0(DevtestChr, 1);
    c->chr.id = g_strdup(id);
    c->chr.opened = true;
    c->out = g_string_new(NULL);
    c->space = -1;
    if (!chardevs) {
        chardevs = g_ptr_array_new();
    }
    g_ptr_array_add(chardevs, c);
    return c;
}

Chardev *chr_find(const char *id)
{
    for (guint i = 0; chardevs && i < chardevs->len; i++) {
        DevtestChr *c = g_ptr_array_index(chardevs, i);
        if (!strcmp(c->chr.id, id)) {
            return &c->chr;
        }
    }
    return NULL;
}

bool chr_fe_init(CharFrontend *fe, Chardev *chr, Error **errp)
{
    if (chr->fe) {
        error_setg(errp, "Device '%s' is in use", chr->id);
        return false;
    }
    memset(fe, 0, sizeof(*fe));
    fe->chr = chr;
    chr->fe = fe;
    return true;
}

void chr_fe_set_handlers(CharFrontend *fe, int (*can_read)(void *),
                         void (*read)(void *, const uint8_t *, int),
                         void (*event)(void *, int), void *opaque)
{
    fe->can_read = can_read;
    fe->read = read;
    fe->event = event;
    fe->opaque = opaque;
}

void chr_fe_deinit(CharFrontend *fe)
{
    if (fe->chr) {
        fe->chr->fe = NULL;
        fe->chr = NULL;
    }
}

int chr_fe_write(CharFrontend *fe, const uint8_t *buf, int len)
{
    if (!fe->chr) {
        return len;
    }
    DevtestChr *c = (DevtestChr *)fe->chr;
    int n = len;
    if (c->space >= 0 && n > c->space) {
        n = c->space;
    }
    if (c->space >= 0) {
        c->space -= n;
    }
    g_string_append_len(c->out, (const char *)buf, n);
    return n;
}

int chr_fe_write_all(CharFrontend *fe, const uint8_t *buf, int len)
{
    if (!fe->chr) {
        return len;
    }
    DevtestChr *c = (DevtestChr *)fe->chr;
    g_string_append_len(c->out, (const char *)buf, len);
    return len;
}

void chr_fe_accept_input(CharFrontend *fe)
{
    (void)fe;
}

bool chr_fe_backend_connected(CharFrontend *fe)
{
    return fe->chr != NULL;
}

int devtest_chr_input(DevtestChr *c, const uint8_t *buf, int len)
{
    CharFrontend *fe = c->chr.fe;
    int done = 0;
    while (fe && done < len) {
        int n = fe->can_read ? fe->can_read(fe->opaque) : len - done;
        if (n <= 0) {
            break;
        }
        if (n > len - done) {
            n = len - done;
        }
        fe->read(fe->opaque, buf + done, n);
        done += n;
    }
    return done;
}

/* ---------------- qdev ---------------- */

static bool parse_uint(const char *s, uint64_t max, uint64_t *out, Error **errp)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (!*s || *end || errno || v > max) {
        error_setg(errp, "bad number '%s'", s);
        return false;
    }
    *out = v;
    return true;
}

#define UINT_PROP(T, ctype, max)                                              \
    static bool parse_##T(DeviceState *d, const Property *p, void *f,       \
                          const char *s, Error **e)                           \
    {                                                                         \
        uint64_t v;                                                           \
        (void)d;                                                              \
        (void)p;                                                              \
        if (!parse_uint(s, max, &v, e)) {                                     \
            return false;                                                     \
        }                                                                     \
        *(ctype *)f = v;                                                      \
        return true;                                                          \
    }                                                                         \
    const PropType prop_##T = { .name = #T, .parse = parse_##T };

UINT_PROP(uint8, uint8_t, 0xff)
UINT_PROP(uint16, uint16_t, 0xffff)
UINT_PROP(uint32, uint32_t, 0xffffffffu)
UINT_PROP(uint64, uint64_t, UINT64_MAX)
UINT_PROP(size, uint64_t, UINT64_MAX)

static bool parse_int32(DeviceState *d, const Property *p, void *f, const char *s, Error **e)
{
    (void)p;
    (void)d;
    char *end;
    long v = strtol(s, &end, 0);
    if (!*s || *end) {
        error_setg(e, "bad int32 '%s'", s);
        return false;
    }
    *(int32_t *)f = v;
    return true;
}
const PropType prop_int32 = { .name = "int32", .parse = parse_int32 };

static bool parse_boolp(DeviceState *d, const Property *p, void *f, const char *s, Error **e)
{
    (void)p;
    (void)d;
    if (!strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "yes")) {
        *(bool *)f = true;
    } else if (!strcmp(s, "off") || !strcmp(s, "false") || !strcmp(s, "no")) {
        *(bool *)f = false;
    } else {
        error_setg(e, "bad bool '%s'", s);
        return false;
    }
    return true;
}
const PropType prop_bool = { .name = "bool", .parse = parse_boolp };

static bool parse_str(DeviceState *d, const Property *p, void *f, const char *s, Error **e)
{
    (void)p;
    (void)d;
    (void)e;
    g_free(*(char **)f);
    *(char **)f = g_strdup(s);
    return true;
}
const PropType prop_str = { .name = "str", .parse = parse_str };

static bool parse_chr(DeviceState *d, const Property *p, void *f, const char *s, Error **e)
{
    (void)p;
    Chardev *c = chr_find(s);
    if (!c) {
        error_setg(e, "Property '%s.chardev' can't find value '%s'", d->cls->name, s);
        return false;
    }
    *(Chardev **)f = c;
    return true;
}
const PropType prop_chr = { .name = "chr", .parse = parse_chr };

const DeviceClass isa_device_class = { .name = "isa-device", .bus_type = "ISA" };

static GPtrArray *classes;
static GPtrArray *devices;

void device_class_register(const DeviceClass *cls)
{
    if (!classes) {
        classes = g_ptr_array_new();
    }
    g_ptr_array_add(classes, (gpointer)cls);
}

const DeviceClass *device_class_find(const char *name)
{
    for (guint i = 0; classes && i < classes->len; i++) {
        const DeviceClass *c = g_ptr_array_index(classes, i);
        if (!strcmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

const Property *dev_find_prop(const DeviceClass *cls, const char *name)
{
    for (; cls; cls = cls->parent) {
        for (const Property *p = cls->props; p && p->name; p++) {
            if (!strcmp(p->name, name)) {
                return p;
            }
        }
    }
    return NULL;
}

bool dev_set_prop(DeviceState *dev, const char *name, const char *val, Error **errp)
{
    const Property *p = dev_find_prop(dev->cls, name);
    if (!p) {
        error_setg(errp, "Property '%s.%s' not found", dev->cls->name, name);
        return false;
    }
    return p->type->parse(dev, p, (char *)dev + p->offset, val, errp);
}

static bool apply_defaults(DeviceState *dev, const DeviceClass *cls, Error **errp)
{
    if (cls->parent && !apply_defaults(dev, cls->parent, errp)) {
        return false;
    }
    for (const Property *p = cls->props; p && p->name; p++) {
        if (p->defval && !p->type->parse(dev, p, (char *)dev + p->offset, p->defval, errp)) {
            return false;
        }
    }
    return true;
}

DeviceState *dev_new(const char *driver, Error **errp)
{
    const DeviceClass *cls = device_class_find(driver);
    if (!cls) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    DeviceState *dev = g_malloc0(cls->instance_size);
    dev->cls = cls;
    if (!apply_defaults(dev, cls, errp)) {
        g_free(dev);
        return NULL;
    }
    return dev;
}

bool dev_realize(DeviceState *dev, Bus *bus, Error **errp)
{
    (void)bus;
    if (dev->cls->realize && !dev->cls->realize(dev, errp)) {
        return false;
    }
    dev->realized = true;
    if (!devices) {
        devices = g_ptr_array_new();
    }
    g_ptr_array_add(devices, dev);
    if (dev->cls->reset) {
        dev->cls->reset(dev);
    }
    return true;
}

void qdev_reset_all(void)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *d = g_ptr_array_index(devices, i);
        if (d->cls->reset) {
            d->cls->reset(d);
        }
    }
}

DeviceState *devtest_create(const char *spec)
{
    gchar **parts = g_strsplit(spec, ",", -1);
    Error *err = NULL;
    DeviceState *dev = dev_new(parts[0], &err);
    for (int i = 1; dev && parts[i]; i++) {
        gchar **kv = g_strsplit(parts[i], "=", 2);
        if (!dev_set_prop(dev, kv[0], kv[1] ? kv[1] : "on", &err)) {
            dev = NULL;
        }
        g_strfreev(kv);
    }
    if (dev && !dev_realize(dev, NULL, &err)) {
        dev = NULL;
    }
    if (!dev) {
        fprintf(stderr, "devtest_create(%s): %s\n", spec, err ? err->msg : "?");
        g_assert_not_reached();
    }
    g_strfreev(parts);
    return dev;
}

/* ---------------- BQL (single-threaded: a flag) ---------------- */

static bool bql_held;

void bql_lock(void)
{
    g_assert(!bql_held);
    bql_held = true;
}

void bql_unlock(void)
{
    g_assert(bql_held);
    bql_held = false;
}

bool bql_locked(void)
{
    return bql_held;
}

/* ---------------- run state ---------------- */

int devtest_exit_status = -1;
int devtest_reset_requests;
int devtest_shutdown_requests;

void qemu_system_exit_request(int status)
{
    devtest_exit_status = status;
}

void qemu_system_reset_request(ShutdownCause cause)
{
    (void)cause;
    devtest_reset_requests++;
}

void qemu_system_shutdown_request(ShutdownCause cause)
{
    (void)cause;
    devtest_shutdown_requests++;
}

/* ---------------- vCPUs ---------------- */

CPUState **cpus;
int n_cpus;
__thread CPUState *current_cpu;
const AccelOps *current_accel;
Machine *current_machine;

void devtest_make_cpus(int n)
{
    cpus = g_new0(CPUState *, n);
    for (int i = 0; i < n; i++) {
        cpus[i] = g_new0(CPUState, 1);
        cpus[i]->index = i;
        cpus[i]->env.apic_id = i;
    }
    n_cpus = n;
    current_cpu = cpus[0];
}

void cpu_interrupt(CPUState *cpu, unsigned mask)
{
    atomic_fetch_or(&cpu->interrupt_request, mask);
}

void cpu_reset_interrupt(CPUState *cpu, unsigned mask)
{
    atomic_fetch_and(&cpu->interrupt_request, ~mask);
}

void cpu_kick(CPUState *cpu)
{
    (void)cpu;
}

void qemu_cpu_wake(CPUState *cpu)
{
    cpu->halted = false;
}

/* MSIs from devices when the test links no LAPIC (weak: apic.c wins). */
uint64_t devtest_msi_addr;
uint32_t devtest_msi_data;
int devtest_msi_count;

__attribute__((weak)) void apic_deliver_msi(uint64_t addr, uint32_t data)
{
    devtest_msi_addr = addr;
    devtest_msi_data = data;
    devtest_msi_count++;
}

void devtest_reset(void)
{
    if (mappings) {
        g_array_set_size(mappings, 0);
    }
    if (timers) {
        for (guint i = 0; i < timers->len; i++) {
            ((Timer *)g_ptr_array_index(timers, i))->pending = false;
        }
    }
    if (devices) {
        g_ptr_array_set_size(devices, 0);
    }
    if (chardevs) {
        g_ptr_array_set_size(chardevs, 0);
    }
    memset(devtest_irq_level, 0, sizeof(devtest_irq_level));
    devtest_irq_clear_counts();
    devtest_exit_status = -1;
    devtest_reset_requests = 0;
    devtest_shutdown_requests = 0;
    virt_now = 0;
}
