/*
 * Size and number parsing with QEMU's rules, plus small string/fd helpers.
 * Locking: none.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include "util/cutils.h"

static int suffix_mul(char c, uint64_t *mul)
{
    switch (toupper((unsigned char)c)) {
    case 'B': *mul = 1; return 0;
    case 'K': *mul = KiB; return 0;
    case 'M': *mul = MiB; return 0;
    case 'G': *mul = GiB; return 0;
    case 'T': *mul = TiB; return 0;
    case 'P': *mul = TiB * 1024; return 0;
    case 'E': *mul = TiB * 1024 * 1024; return 0;
    default: return -EINVAL;
    }
}

int parse_size_suffix(const char *str, uint64_t default_unit, uint64_t *out)
{
    if (!str || !*str || *str == '-' || isspace((unsigned char)*str)) {
        return -EINVAL;
    }
    errno = 0;
    char *end;
    uint64_t mul = default_unit;
    /* hex is accepted only as a whole number of bytes (QEMU's rule) */
    if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
        uint64_t v = strtoull(str, &end, 16);
        if (errno || end == str + 2) {
            return errno ? -ERANGE : -EINVAL;
        }
        if (*end) {
            if (suffix_mul(*end, &mul) < 0 || end[1]) {
                return -EINVAL;
            }
        }
        if (mul && v > UINT64_MAX / mul) {
            return -ERANGE;
        }
        *out = v * mul;
        return 0;
    }
    double d = strtod(str, &end);
    if (end == str || errno) {
        return -EINVAL;
    }
    if (*end) {
        if (suffix_mul(*end, &mul) < 0 || end[1]) {
            return -EINVAL;
        }
    }
    double r = d * (double)mul;
    if (r >= 18446744073709551616.0 || r < 0) {
        return -ERANGE;
    }
    /* fractions only make sense with a unit bigger than a byte */
    if (r != floor(r)) {
        return -EINVAL;
    }
    *out = (uint64_t)r;
    return 0;
}

int qemu_strtosz(const char *str, uint64_t *out)
{
    return parse_size_suffix(str, 1, out);
}

int qemu_strtou64(const char *str, int base, uint64_t *out)
{
    if (!str || !*str || *str == '-' || isspace((unsigned char)*str)) {
        return -EINVAL;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(str, &end, base);
    if (errno) {
        return -ERANGE;
    }
    if (*end) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int qemu_strtoi64(const char *str, int base, int64_t *out)
{
    if (!str || !*str || isspace((unsigned char)*str)) {
        return -EINVAL;
    }
    errno = 0;
    char *end;
    long long v = strtoll(str, &end, base);
    if (errno) {
        return -ERANGE;
    }
    if (*end) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

bool parse_bool(const char *str, bool *out)
{
    if (!strcmp(str, "on") || !strcmp(str, "yes") || !strcmp(str, "true") || !strcmp(str, "y")) {
        *out = true;
        return true;
    }
    if (!strcmp(str, "off") || !strcmp(str, "no") || !strcmp(str, "false") || !strcmp(str, "n")) {
        *out = false;
        return true;
    }
    return false;
}

bool strstart(const char *str, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(str, prefix, n)) {
        return false;
    }
    if (rest) {
        *rest = str + n;
    }
    return true;
}

bool id_wellformed(const char *id)
{
    if (!g_ascii_isalpha(id[0])) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

bool write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t r = write(fd, p, len);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        p += r;
        len -= r;
    }
    return true;
}

char *size_to_str(uint64_t val)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int i = 0;
    double v = val;
    while (v >= 1024 && i < 6) {
        v /= 1024;
        i++;
    }
    if (i == 0) {
        return g_strdup_printf("%" G_GUINT64_FORMAT " B", val);
    }
    return g_strdup_printf("%0.3g %s", v, units[i]);
}
