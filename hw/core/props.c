/*
 * Property types for -device / -global / device_add, with QEMU's parsing
 * rules and error texts (integers, bools, sizes, strings, chardev links,
 * MAC addresses, PCI "slot.fn" addresses, OnOffAuto).
 * Locking: BQL.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "chardev/char.h"
#include "hw/qdev.h"
#include "util/cutils.h"

static const char *dev_type_name(DeviceState *dev)
{
    return dev ? dev->cls->name : "device";
}

static void bad_value(DeviceState *dev, const Property *prop, const char *str, Error **errp)
{
    error_setg(errp, "Property '%s.%s' doesn't take value '%s'", dev_type_name(dev), prop->name, str);
}

static bool parse_bool_prop(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp)
{
    (void)dev;
    if (!parse_bool(str, field)) {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", prop->name);
        return false;
    }
    return true;
}

static void print_bool(const void *field, GString *out)
{
    g_string_append(out, *(const bool *)field ? "true" : "false");
}

const PropType prop_bool = { "bool", parse_bool_prop, print_bool, NULL, "on/off" };

/* Integers: "expects integer" for junk, "expects <type>" when out of range. */
static bool parse_uint_range(const Property *prop, const char *str, uint64_t max, const char *tname,
                             uint64_t *out, Error **errp)
{
    int64_t sv;
    uint64_t v;
    if (str[0] == '-') {
        if (qemu_strtoi64(str, 0, &sv) < 0) {
            error_setg(errp, "Parameter '%s' expects integer", prop->name);
        } else {
            error_setg(errp, "Parameter '%s' expects %s", prop->name, tname);
        }
        return false;
    }
    int r = qemu_strtou64(str, 0, &v);
    if (r == -EINVAL) {
        error_setg(errp, "Parameter '%s' expects integer", prop->name);
        return false;
    }
    if (r < 0 || v > max) {
        error_setg(errp, "Parameter '%s' expects %s", prop->name, tname);
        return false;
    }
    *out = v;
    return true;
}

#define DEFINE_UINT_PROP(NAME, T, MAX, TNAME, FMT)                                         \
    static bool parse_##NAME(DeviceState *dev, const Property *prop, void *field,          \
                             const char *str, Error **errp)                                \
    {                                                                                      \
        (void)dev;                                                                         \
        uint64_t v;                                                                        \
        if (!parse_uint_range(prop, str, MAX, TNAME, &v, errp)) {                          \
            return false;                                                                  \
        }                                                                                  \
        *(T *)field = (T)v;                                                                \
        return true;                                                                       \
    }                                                                                      \
    static void print_##NAME(const void *field, GString *out)                              \
    {                                                                                      \
        g_string_append_printf(out, FMT, *(const T *)field);                              \
    }                                                                                      \
    const PropType prop_##NAME = { #NAME, parse_##NAME, print_##NAME, NULL, NULL };

DEFINE_UINT_PROP(uint8, uint8_t, UINT8_MAX, "uint8_t", "%u")
DEFINE_UINT_PROP(uint16, uint16_t, UINT16_MAX, "uint16_t", "%u")
DEFINE_UINT_PROP(uint32, uint32_t, UINT32_MAX, "uint32_t", "%u")
DEFINE_UINT_PROP(uint64, uint64_t, UINT64_MAX, "uint64_t", "%" G_GUINT64_FORMAT)

static bool parse_int32(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp)
{
    (void)dev;
    int64_t v;
    int r = qemu_strtoi64(str, 0, &v);
    if (r == -EINVAL) {
        error_setg(errp, "Parameter '%s' expects integer", prop->name);
        return false;
    }
    if (r < 0 || v < INT32_MIN || v > INT32_MAX) {
        error_setg(errp, "Parameter '%s' expects int32_t", prop->name);
        return false;
    }
    *(int32_t *)field = (int32_t)v;
    return true;
}

static void print_int32(const void *field, GString *out)
{
    g_string_append_printf(out, "%d", *(const int32_t *)field);
}

const PropType prop_int32 = { "int32", parse_int32, print_int32, NULL, NULL };

static bool parse_size_prop(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp)
{
    (void)dev;
    if (qemu_strtosz(str, field) < 0) {
        error_setg(errp, "Parameter '%s' expects a non-negative number below 2^64", prop->name);
        error_append_hint(errp, "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                          "and exabytes, respectively.\n");
        return false;
    }
    return true;
}

static void print_size(const void *field, GString *out)
{
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, *(const uint64_t *)field);
}

const PropType prop_size = { "size", parse_size_prop, print_size, NULL, NULL };

static bool parse_str(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp)
{
    (void)dev; (void)prop; (void)errp;
    g_free(*(char **)field);
    *(char **)field = g_strdup(str);
    return true;
}

static void print_str(const void *field, GString *out)
{
    const char *s = *(char *const *)field;
    g_string_append_printf(out, "\"%s\"", s ? s : "");
}

static void release_str(void *field)
{
    g_free(*(char **)field);
    *(char **)field = NULL;
}

const PropType prop_str = { "str", parse_str, print_str, release_str, NULL };

/* chardev=ID: resolved at parse time, like QEMU's link to the backend. */
static bool parse_chr(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp)
{
    Chardev *chr = chr_find(str);
    if (!chr) {
        error_setg(errp, "Property '%s.%s' can't find value '%s'", dev_type_name(dev), prop->name, str);
        return false;
    }
    *(Chardev **)field = chr;
    return true;
}

static void print_chr(const void *field, GString *out)
{
    const Chardev *chr = *(Chardev *const *)field;
    g_string_append_printf(out, "\"%s\"", chr ? chr->id : "");
}

const PropType prop_chr = { "str", parse_chr, print_chr, NULL, "ID of a chardev to use as a backend" };

static bool parse_macaddr(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp)
{
    MACAddr *m = field;
    unsigned v[6];
    char tail;
    if (strlen(str) != 17 ||
        sscanf(str, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6) {
        bad_value(dev, prop, str, errp);
        return false;
    }
    for (int i = 0; i < 6; i++) {
        m->a[i] = v[i];
    }
    return true;
}

static void print_macaddr(const void *field, GString *out)
{
    const MACAddr *m = field;
    g_string_append_printf(out, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", m->a[0], m->a[1], m->a[2],
                           m->a[3], m->a[4], m->a[5]);
}

const PropType prop_macaddr = { "str", parse_macaddr, print_macaddr, NULL,
                                "Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56" };

/* PCI address "slot[.fn]" in hex, or a plain integer devfn (-1 = auto). */
static bool parse_pci_devfn(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp)
{
    int32_t *out = field;
    if (!strcmp(str, "-1")) {
        *out = -1;
        return true;
    }
    char *end;
    unsigned long slot = strtoul(str, &end, 16), fn = 0;
    if (end == str || slot > 0x1f) {
        bad_value(dev, prop, str, errp);
        return false;
    }
    if (*end == '.') {
        const char *f = end + 1;
        fn = strtoul(f, &end, 16);
        if (end == f || fn > 7) {
            bad_value(dev, prop, str, errp);
            return false;
        }
    }
    if (*end) {
        bad_value(dev, prop, str, errp);
        return false;
    }
    *out = (int32_t)((slot << 3) | fn);
    return true;
}

static void print_pci_devfn(const void *field, GString *out)
{
    int32_t v = *(const int32_t *)field;
    if (v < 0) {
        g_string_append(out, "-1");
    } else {
        g_string_append_printf(out, "\"%02x.%x\"", v >> 3, v & 7);
    }
}

const PropType prop_pci_devfn = { "int32", parse_pci_devfn, print_pci_devfn, NULL,
                                  "Slot and optional function number, example: 06.0 or 06" };

static bool parse_on_off_auto(DeviceState *dev, const Property *prop, void *field, const char *str, Error **errp)
{
    (void)dev;
    OnOffAuto *o = field;
    if (!strcmp(str, "on")) {
        *o = ON_OFF_AUTO_ON;
    } else if (!strcmp(str, "off")) {
        *o = ON_OFF_AUTO_OFF;
    } else if (!strcmp(str, "auto")) {
        *o = ON_OFF_AUTO_AUTO;
    } else {
        error_setg(errp, "Parameter '%s' does not accept value '%s'", prop->name, str);
        return false;
    }
    return true;
}

static void print_on_off_auto(const void *field, GString *out)
{
    static const char *const n[] = { "auto", "on", "off" };
    g_string_append_printf(out, "\"%s\"", n[*(const OnOffAuto *)field]);
}

const PropType prop_on_off_auto = { "OnOffAuto", parse_on_off_auto, print_on_off_auto, NULL, "on/off/auto" };
