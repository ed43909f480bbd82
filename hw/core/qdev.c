/*
 * Device model core: the class registry, device creation with property
 * defaults and -global, buses and plugging, -device parsing, object paths
 * (/machine/peripheral/<id>, /machine/peripheral-anon/device[N],
 * /machine/unattached/device[N]) and the reset walk.
 * Locking: BQL.
 */
#include <stdio.h>
#include <string.h>
#include "hw/qdev.h"
#include "util/cutils.h"

static GPtrArray *classes;      /* const DeviceClass* */
static GPtrArray *devices;      /* DeviceState*, creation order */
static GPtrArray *buses;        /* Bus* */
static GPtrArray *globals;      /* KVDict* {driver, property, value} */
static int anon_count, unattached_count;

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

void device_class_foreach(void (*fn)(const DeviceClass *cls, void *opaque), void *opaque)
{
    for (guint i = 0; classes && i < classes->len; i++) {
        fn(g_ptr_array_index(classes, i), opaque);
    }
}

bool device_class_is_a(const DeviceClass *cls, const DeviceClass *ancestor)
{
    for (; cls; cls = cls->parent) {
        if (cls == ancestor) {
            return true;
        }
    }
    return false;
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

static const char *class_type_name(const DeviceClass *cls)
{
    return cls->name;
}

bool dev_set_prop(DeviceState *dev, const char *name, const char *val, Error **errp)
{
    const Property *p = dev_find_prop(dev->cls, name);
    if (!p) {
        error_setg(errp, "Property '%s.%s' not found", class_type_name(dev->cls), name);
        return false;
    }
    void *field = (char *)dev + p->offset;
    if (p->type->release) {
        p->type->release(field);
    }
    return p->type->parse(dev, p, field, val, errp);
}

char *dev_get_prop_string(DeviceState *dev, const char *name)
{
    const Property *p = dev_find_prop(dev->cls, name);
    if (!p || !p->type->print) {
        return NULL;
    }
    GString *s = g_string_new(NULL);
    p->type->print((char *)dev + p->offset, s);
    return g_string_free(s, FALSE);
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

static bool apply_globals(DeviceState *dev, Error **errp)
{
    for (guint i = 0; globals && i < globals->len; i++) {
        KVDict *g = g_ptr_array_index(globals, i);
        for (const DeviceClass *c = dev->cls; c; c = c->parent) {
            if (!strcmp(kv_peek(g, "driver"), c->name)) {
                if (!dev_set_prop(dev, kv_peek(g, "property"), kv_peek(g, "value"), errp)) {
                    return false;
                }
                break;
            }
        }
    }
    return true;
}

static void release_class_props(DeviceState *dev, const DeviceClass *cls)
{
    for (; cls; cls = cls->parent) {
        for (const Property *p = cls->props; p && p->name; p++) {
            if (p->type->release) {
                p->type->release((char *)dev + p->offset);
            }
        }
    }
}

void dev_free(DeviceState *dev)
{
    if (!dev) {
        return;
    }
    g_assert(!dev->realized);
    release_class_props(dev, dev->cls);
    g_ptr_array_free(dev->child_buses, TRUE);
    g_free(dev->canonical_path);
    g_free(dev->id);
    g_free(dev);
}

DeviceState *dev_new(const char *driver, Error **errp)
{
    const DeviceClass *cls = device_class_find(driver);
    if (!cls) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    g_assert(cls->instance_size >= sizeof(DeviceState));
    DeviceState *dev = g_malloc0(cls->instance_size);
    dev->cls = cls;
    dev->child_buses = g_ptr_array_new();
    if (!apply_defaults(dev, cls, errp) || !apply_globals(dev, errp)) {
        dev_free(dev);
        return NULL;
    }
    return dev;
}

Bus *bus_new(const char *type, const char *name, DeviceState *parent)
{
    Bus *b = g_new0(Bus, 1);
    b->type = type;
    b->name = g_strdup(name);
    b->parent = parent;
    b->children = g_ptr_array_new();
    if (parent) {
        g_ptr_array_add(parent->child_buses, b);
    }
    if (!buses) {
        buses = g_ptr_array_new();
    }
    g_ptr_array_add(buses, b);
    return b;
}

Bus *bus_find(const char *name)
{
    for (guint i = 0; buses && i < buses->len; i++) {
        Bus *b = g_ptr_array_index(buses, i);
        if (!strcmp(b->name, name)) {
            return b;
        }
    }
    return NULL;
}

Bus *bus_find_default(const char *type)
{
    for (guint i = 0; buses && i < buses->len; i++) {
        Bus *b = g_ptr_array_index(buses, i);
        if (!strcmp(b->type, type) && (!b->max_dev || (int)b->children->len < b->max_dev)) {
            return b;
        }
    }
    return NULL;
}

bool dev_realize(DeviceState *dev, Bus *bus, Error **errp)
{
    const DeviceClass *cls = dev->cls;
    if (cls->bus_type) {
        if (!bus) {
            bus = bus_find_default(cls->bus_type);
        }
        if (!bus) {
            error_setg(errp, "No '%s' bus found for device '%s'", cls->bus_type, cls->name);
            return false;
        }
        if (strcmp(bus->type, cls->bus_type)) {
            error_setg(errp, "Device '%s' can't go on %s bus", cls->name, bus->type);
            return false;
        }
        if (bus->max_dev && (int)bus->children->len >= bus->max_dev) {
            error_setg(errp, "Bus '%s' is full", bus->name);
            return false;
        }
        dev->parent_bus = bus;
        if (bus->plug && !bus->plug(bus, dev, errp)) {
            dev->parent_bus = NULL;
            return false;
        }
    }
    if (cls->realize) {
        /* walk to the first class in the chain with realize: the leaf's
         * realize calls its parent's part itself when it needs to */
        if (!cls->realize(dev, errp)) {
            dev->parent_bus = NULL;
            return false;
        }
    }
    if (dev->parent_bus) {
        g_ptr_array_add(dev->parent_bus->children, dev);
    }
    dev->realized = true;
    if (!dev->canonical_path) {
        dev->canonical_path = dev->id ? g_strdup_printf("/machine/peripheral/%s", dev->id)
                                      : g_strdup_printf("/machine/unattached/device[%d]", unattached_count++);
    }
    if (!devices) {
        devices = g_ptr_array_new();
    }
    g_ptr_array_add(devices, dev);
    return true;
}

void dev_unrealize(DeviceState *dev)
{
    if (dev->cls->unrealize) {
        dev->cls->unrealize(dev);
    }
    if (dev->parent_bus) {
        g_ptr_array_remove(dev->parent_bus->children, dev);
    }
    g_ptr_array_remove(devices, dev);
    dev->realized = false;
}

void (*qdev_deleted_hook)(const char *id, const char *path, const char *type);

void qdev_unplug_complete(DeviceState *dev)
{
    char *id = g_strdup(dev->id);
    char *path = g_strdup(dev->canonical_path);
    const char *type = dev->cls->name;
    dev_unrealize(dev);
    dev_free(dev);
    if (qdev_deleted_hook) {
        qdev_deleted_hook(id, path, type);
    }
    g_free(id);
    g_free(path);
}

DeviceState *dev_find_by_id(const char *id)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *d = g_ptr_array_index(devices, i);
        if (d->id && !strcmp(d->id, id)) {
            return d;
        }
    }
    return NULL;
}

DeviceState *dev_find_by_path(const char *path)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *d = g_ptr_array_index(devices, i);
        if (d->canonical_path && !strcmp(d->canonical_path, path)) {
            return d;
        }
    }
    return NULL;
}

void dev_foreach(void (*fn)(DeviceState *dev, void *opaque), void *opaque)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        fn(g_ptr_array_index(devices, i), opaque);
    }
}


DeviceState *dev_create_from_opts(KVDict *opts, Error **errp)
{
    const char *driver = kv_get(opts, "driver");
    if (!driver) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    const DeviceClass *cls = device_class_find(driver);
    if (!cls) {
        error_setg(errp, "'%s' is not a valid device model name", driver);
        return NULL;
    }
    if (!cls->user_creatable) {
        error_setg(errp, "Parameter 'driver' expects a pluggable device type");
        return NULL;
    }
    const char *id = kv_get(opts, "id");
    if (id && !id_wellformed(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        error_append_hint(errp, "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n");
        return NULL;
    }
    if (id && dev_find_by_id(id)) {
        error_setg(errp, "Duplicate device ID '%s'", id);
        return NULL;
    }
    Bus *bus = NULL;
    const char *busname = kv_get(opts, "bus");
    if (busname) {
        bus = bus_find(busname);
        if (!bus) {
            error_setg(errp, "Bus '%s' not found", busname);
            return NULL;
        }
    }
    DeviceState *dev = dev_new(driver, errp);
    if (!dev) {
        return NULL;
    }
    for (int i = 0; i < opts->n; i++) {
        KVPair *p = &opts->p[i];
        if (p->used) {
            continue;
        }
        p->used = true;
        if (!dev_set_prop(dev, p->key, p->value, errp)) {
            dev_free(dev);
            return NULL;
        }
    }
    dev->id = g_strdup(id);
    if (!id) {
        dev->canonical_path = g_strdup_printf("/machine/peripheral-anon/device[%d]", anon_count++);
    }
    if (!dev_realize(dev, bus, errp)) {
        dev_free(dev);
        return NULL;
    }
    return dev;
}

bool qdev_global_add(const char *str, Error **errp)
{
    /* driver.property=value, or driver=D,property=P,value=V */
    KVDict *g = kv_new();
    const char *eq = strchr(str, '=');
    const char *dot = strchr(str, '.');
    if (strstr(str, "driver=")) {
        KVDict *d = kv_parse(str, NULL, errp);
        if (!d) {
            kv_free(g);
            return false;
        }
        kv_free(g);
        g = d;
    } else if (dot && eq && dot < eq) {
        g_autofree char *drv = g_strndup(str, dot - str);
        g_autofree char *prop = g_strndup(dot + 1, eq - dot - 1);
        kv_set(g, "driver", drv);
        kv_set(g, "property", prop);
        kv_set(g, "value", eq + 1);
    }
    if (!kv_peek(g, "driver") || !kv_peek(g, "property") || !kv_peek(g, "value")) {
        error_setg(errp, "Invalid format");
        kv_free(g);
        return false;
    }
    if (!globals) {
        globals = g_ptr_array_new();
    }
    g_ptr_array_add(globals, g);
    return true;
}

void qdev_reset_all(void)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *d = g_ptr_array_index(devices, i);
        for (const DeviceClass *c = d->cls; c; c = c->parent) {
            if (c->reset) {
                c->reset(d);
                break;
            }
        }
    }
}

static gint cmp_prop(gconstpointer a, gconstpointer b)
{
    const Property *x = *(const Property *const *)a, *y = *(const Property *const *)b;
    return strcmp(x->name, y->name);
}

/* QEMU's "-device foo,help" layout: sorted, "  name=<type>" padded to 22. */
static void print_props(const DeviceClass *cls, GString *out)
{
    g_autoptr(GPtrArray) props = g_ptr_array_new();
    for (; cls; cls = cls->parent) {
        for (const Property *p = cls->props; p && p->name; p++) {
            g_ptr_array_add(props, (gpointer)p);
        }
    }
    g_ptr_array_sort(props, cmp_prop);
    for (guint i = 0; i < props->len; i++) {
        const Property *p = g_ptr_array_index(props, i);
        g_autofree char *head = g_strdup_printf("%s=<%s>", p->name, p->type->name);
        g_autofree char *def = NULL;
        if (p->defval && p->type->print) {
            uint64_t tmp[8] = { 0 };
            if (p->type->parse(NULL, p, tmp, p->defval, NULL)) {
                GString *d = g_string_new(NULL);
                p->type->print(tmp, d);
                def = g_string_free(d, FALSE);
                if (p->type->release) {
                    p->type->release(tmp);
                }
            }
        }
        const char *desc = p->desc ? p->desc : p->type->desc;
        if (!desc && !def) {
            g_string_append_printf(out, "  %s\n", head);
            continue;
        }
        g_string_append_printf(out, "  %-22s - %s", head, desc ? desc : "");
        if (def) {
            g_string_append_printf(out, " (default: %s)", def);
        }
        g_string_append_c(out, '\n');
    }
}

static void list_one(const DeviceClass *cls, void *opaque)
{
    GPtrArray *arr = opaque;
    if (cls->user_creatable) {
        g_ptr_array_add(arr, (gpointer)cls);
    }
}

static gint cmp_class(gconstpointer a, gconstpointer b)
{
    const DeviceClass *x = *(const DeviceClass *const *)a, *y = *(const DeviceClass *const *)b;
    return strcmp(x->name, y->name);
}

void dev_print_help(const char *driver)
{
    GString *out = g_string_new(NULL);
    if (driver) {
        const DeviceClass *cls = device_class_find(driver);
        if (!cls) {
            error_report("'%s' is not a valid device model name", driver);
            g_string_free(out, TRUE);
            return;
        }
        g_string_append_printf(out, "%s options:\n", cls->name);
        print_props(cls, out);
    } else {
        static const char *const cats[] = {
            "USB devices", "Storage devices", "Network devices", "Input devices",
            "Display devices", "Sound devices", "Misc devices", "CPU devices",
            "Watchdog devices", "Uncategorized devices",
        };
        g_autoptr(GPtrArray) arr = g_ptr_array_new();
        device_class_foreach(list_one, arr);
        g_ptr_array_sort(arr, cmp_class);
        bool first = true;
        for (size_t c = 0; c < G_N_ELEMENTS(cats); c++) {
            bool header = false;
            for (guint i = 0; i < arr->len; i++) {
                const DeviceClass *cls = g_ptr_array_index(arr, i);
                const char *cat = cls->category ? cls->category : "Uncategorized devices";
                if (strcmp(cat, cats[c])) {
                    continue;
                }
                if (!header) {
                    g_string_append_printf(out, "%s%s:\n", first ? "" : "\n", cats[c]);
                    header = true;
                    first = false;
                }
                g_string_append_printf(out, "name \"%s\"", cls->name);
                if (cls->bus_type) {
                    g_string_append_printf(out, ", bus %s", cls->bus_type);
                }
                if (cls->desc) {
                    g_string_append_printf(out, ", desc \"%s\"", cls->desc);
                }
                g_string_append_c(out, '\n');
            }
        }
    }
    fputs(out->str, stdout);
    g_string_free(out, TRUE);
}
