/*
 * Device model: static device classes with properties, buses, -device and
 * -global, the reset tree and QOM-like object paths for QMP.
 * Locking: BQL.
 */
#ifndef HW_QDEV_H
#define HW_QDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include "util/error.h"
#include "util/kvopts.h"

typedef struct DeviceState DeviceState;
typedef struct Bus Bus;
typedef struct DeviceClass DeviceClass;
typedef struct Property Property;

typedef struct PropType {
    const char *name;          /* QEMU's type name: "bool", "uint32", "str", "size", "chr", "drive", "netdev", "macaddr", "pci-devfn", "OnOffAuto" */
    /* dev may be NULL (help output parses defaults into scratch space) */
    bool (*parse)(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp);
    void (*print)(const void *field, GString *out);
    void (*release)(void *field);
    const char *desc;          /* help text when the Property has none ("on/off") */
} PropType;

struct Property {
    const char *name;
    const PropType *type;
    size_t offset;
    const char *defval;        /* parsed like user input; NULL = zero */
    const char *desc;
};

extern const PropType prop_bool, prop_uint8, prop_uint16, prop_uint32, prop_uint64,
    prop_int32, prop_size, prop_str, prop_chr, prop_drive, prop_macaddr, prop_pci_devfn, prop_on_off_auto;

#define DEFINE_PROP(n, S, f, T, d) { .name = (n), .type = &prop_##T, .offset = offsetof(S, f), .defval = (d) }
#define DEFINE_PROP_END { .name = NULL }

typedef enum { ON_OFF_AUTO_AUTO, ON_OFF_AUTO_ON, ON_OFF_AUTO_OFF } OnOffAuto;
typedef struct MACAddr { uint8_t a[6]; } MACAddr;

struct DeviceClass {
    const char *name;                  /* exact QEMU -device name */
    const char *bus_type;              /* "PCI", "ISA", "IDE", NULL = system */
    const char *desc;
    const char *category;              /* -device help grouping: "Storage devices", ... */
    const DeviceClass *parent;         /* inherits props (e.g. PCI "addr") */
    size_t instance_size;              /* DeviceState embedded first */
    const Property *props;             /* terminated by DEFINE_PROP_END */
    bool user_creatable;
    bool no_hotplug;                   /* -device only: device_add refuses it (QEMU's !hotpluggable) */
    bool (*realize)(DeviceState *dev, Error **errp);
    void (*reset)(DeviceState *dev);
    void (*unrealize)(DeviceState *dev);
};

struct DeviceState {
    const DeviceClass *cls;
    char *id;                          /* -device id=, may be NULL */
    char *canonical_path;              /* /machine/peripheral/<id>, /machine/peripheral-anon/device[N], /machine/unattached/device[N] */
    Bus *parent_bus;
    GPtrArray *child_buses;
    bool realized;
    bool unplug_pending;               /* device_del asked the guest; not gone yet */
};

struct Bus {
    const char *type;                  /* "PCI", "ISA", "IDE" */
    char *name;                        /* "pci.0", "isa.0", "ide.1" */
    DeviceState *parent;
    GPtrArray *children;               /* DeviceState* */
    int max_dev;                       /* 0 = unlimited */
    bool (*plug)(Bus *bus, DeviceState *dev, Error **errp);
    bool hotpluggable;                 /* device_add/device_del after start-up (false: QEMU's "Bus 'x' does not support hotplugging") */
    /* Hotplug controller hooks (NULL: plug/unplug happen at once). */
    void (*hotplug)(Bus *bus, DeviceState *dev);             /* after a device_add realize */
    bool (*unplug_request)(Bus *bus, DeviceState *dev, Error **errp);  /* device_del: ask the guest */
    void *hotplug_opaque;
};

void device_class_register(const DeviceClass *cls);
const DeviceClass *device_class_find(const char *name);
void device_class_foreach(void (*fn)(const DeviceClass *cls, void *opaque), void *opaque);
bool device_class_is_a(const DeviceClass *cls, const DeviceClass *ancestor);

DeviceState *dev_new(const char *driver, Error **errp);   /* alloc + defaults + -global */
bool dev_set_prop(DeviceState *dev, const char *name, const char *val, Error **errp);
const Property *dev_find_prop(const DeviceClass *cls, const char *name);
/* Property value as text (qom-get, info qtree). Caller frees. */
char *dev_get_prop_string(DeviceState *dev, const char *name);
bool dev_realize(DeviceState *dev, Bus *bus, Error **errp);  /* bus NULL: default bus for cls->bus_type */
void dev_unrealize(DeviceState *dev);
/* Release the properties (drive, strings) and free an unrealized device. */
void dev_free(DeviceState *dev);
/* The guest (or the bus) finished an unplug: DEVICE_DELETED, unrealize, free. */
void qdev_unplug_complete(DeviceState *dev);
/* Set by the monitor: announce a deleted device (DEVICE_DELETED). */
extern void (*qdev_deleted_hook)(const char *id, const char *path, const char *type);
/* -device driver,k=v,... / QMP device_add. */
DeviceState *dev_create_from_opts(KVDict *opts, Error **errp);
DeviceState *dev_find_by_id(const char *id);
DeviceState *dev_find_by_path(const char *path);
void dev_foreach(void (*fn)(DeviceState *dev, void *opaque), void *opaque);
/* -device help / -device foo,help */
void dev_print_help(const char *driver);

Bus *bus_new(const char *type, const char *name, DeviceState *parent);
Bus *bus_find(const char *name);
Bus *bus_find_default(const char *type);

/* -global driver.prop=value */
bool qdev_global_add(const char *str, Error **errp);
void qdev_reset_all(void);

#endif
