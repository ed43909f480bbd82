/*
 * String and number helpers: QEMU's size and integer parsing rules
 * (K/M/G/T/P/E suffixes, "-m 512" meaning MiB where the caller says so).
 * Locking: none (pure functions).
 */
#ifndef UTIL_CUTILS_H
#define UTIL_CUTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ROUND_UP(n, d) (((n) + (d) - 1) & -(__typeof__(n))(d))
#define QEMU_ALIGN_DOWN(n, m) ((n) / (m) * (m))
#define MIN_NON_ZERO(a, b) ((a) == 0 ? (b) : ((b) == 0 ? (a) : ((a) < (b) ? (a) : (b))))

/* Parse a size; a bare number is multiplied by default_suffix (1 = bytes). */
int parse_size_suffix(const char *str, uint64_t default_unit, uint64_t *out);
/* QEMU's qemu_strtosz: bytes by default. Returns 0 or -EINVAL/-ERANGE. */
int qemu_strtosz(const char *str, uint64_t *out);
/* Whole-string unsigned integer (decimal, 0x hex, 0 octal). */
int qemu_strtou64(const char *str, int base, uint64_t *out);
int qemu_strtoi64(const char *str, int base, int64_t *out);
/* "on/off/yes/no/true/false" → bool; false on anything else. */
bool parse_bool(const char *str, bool *out);
/* If str starts with prefix, set *rest to after it and return true. */
bool strstart(const char *str, const char *prefix, const char **rest);
/* QEMU's rule for ids and node names: a letter, then letters, digits,
 * '-', '.', '_'. */
bool id_wellformed(const char *id);
/* Write all of buf to fd, retrying on EINTR/short writes. */
bool write_full(int fd, const void *buf, size_t len);
/* Human-readable size like QEMU's size_to_str ("512 MiB"). Caller frees. */
char *size_to_str(uint64_t val);

static inline uint16_t lduw_le_p(const void *p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
static inline uint32_t ldl_le_p(const void *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
static inline uint64_t ldq_le_p(const void *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
static inline void stw_le_p(void *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }
static inline void stl_le_p(void *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void stq_le_p(void *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }
static inline uint16_t lduw_be_p(const void *p) { return __builtin_bswap16(lduw_le_p(p)); }
static inline uint32_t ldl_be_p(const void *p) { return __builtin_bswap32(ldl_le_p(p)); }
static inline uint64_t ldq_be_p(const void *p) { return __builtin_bswap64(ldq_le_p(p)); }
static inline void stw_be_p(void *p, uint16_t v) { stw_le_p(p, __builtin_bswap16(v)); }
static inline void stl_be_p(void *p, uint32_t v) { stl_le_p(p, __builtin_bswap32(v)); }
static inline void stq_be_p(void *p, uint64_t v) { stq_le_p(p, __builtin_bswap64(v)); }

#endif
