/*
 * A deterministic user-space workload for the software CPU: integer,
 * floating-point and string work through glibc, printing results that
 * must be identical when run natively and inside a kemu guest
 * (tests/functional/test_linux_boot.py). "workload bench N" repeats the
 * work N times and prints the elapsed time (tests/bench/cpu.py).
 * Built static (gcc -O2 -static) by the test setup.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t crc32_table[256];

static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        crc32_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    while (n--) {
        c = crc32_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    }
    return ~c;
}

static uint64_t integer_work(void)
{
    /* sieve, 64-bit multiply/divide, a xorshift hash */
    enum { N = 200000 };
    static uint8_t composite[N];
    memset(composite, 0, sizeof(composite));
    unsigned primes = 0;
    uint64_t sum = 0;
    for (unsigned i = 2; i < N; i++) {
        if (!composite[i]) {
            primes++;
            sum += (uint64_t)i * i;
            for (unsigned j = i * 2; j < N; j += i) {
                composite[j] = 1;
            }
        }
    }
    uint64_t x = 0x9e3779b97f4a7c15ull, acc = 0;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc += x / (uint64_t)(i + 3) + (uint64_t)((__int128)x * 0x123456789abcdefull >> 64);
        acc ^= (uint64_t)((int64_t)x % 1000003);
    }
    printf("int primes=%u sumsq=%llu hash=%016llx\n", primes, (unsigned long long)sum,
           (unsigned long long)acc);
    return acc;
}

static double float_work(void)
{
    enum { M = 48 };
    static double a[M][M], b[M][M], c[M][M];
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < M; j++) {
            a[i][j] = sin(i * 0.37 + j * 0.11);
            b[i][j] = cos(i * 0.05 - j * 0.29) / (1.0 + i + j);
        }
    }
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < M; j++) {
            double s = 0;
            for (int k = 0; k < M; k++) {
                s += a[i][k] * b[k][j];
            }
            c[i][j] = s;
        }
    }
    double trace = 0, acc = 0;
    for (int i = 0; i < M; i++) {
        trace += c[i][i];
    }
    for (int i = 1; i < 20000; i++) {
        acc += sqrt((double)i) / (1.0 + log((double)i)) - exp(-i * 1e-4) * atan2(i, 7.0);
    }
    float f = 1.0f;
    for (int i = 0; i < 1000; i++) {
        f = f * 1.0001f + 0.5f / (float)(i + 1);
    }
    long double ld = 1.0L;
    for (int i = 1; i < 30; i++) {
        ld = ld * i / (i + 0.5L);
    }
    printf("float trace=%.17g acc=%.17g f=%.9g ld=%.21Lg pow=%.17g\n", trace, acc, f, ld, pow(2.5, 13.25));
    return trace + acc;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static uint32_t string_work(void)
{
    enum { K = 3000 };
    static char buf[K][32];
    static char *ptrs[K];
    for (int i = 0; i < K; i++) {
        snprintf(buf[i], sizeof(buf[i]), "item-%07d-%x", (i * 7919) % 10007, i * 31);
        ptrs[i] = buf[i];
    }
    qsort(ptrs, K, sizeof(ptrs[0]), cmp_str);
    char big[K * 24];
    size_t off = 0;
    for (int i = 0; i < K; i++) {
        size_t l = strlen(ptrs[i]);
        memcpy(big + off, ptrs[i], l);
        off += l;
        big[off++] = ',';
    }
    big[off] = 0;
    const char *hit = strstr(big, "item-0005000");
    double d = strtod("3.14159265358979323846e2", NULL);
    long n = strtol("-123456789", NULL, 10);
    char out[64];
    snprintf(out, sizeof(out), "%.6e|%ld|%s", d, n, ptrs[K / 2]);
    uint32_t c = crc32((const uint8_t *)big, off);
    printf("string first=%s last=%s hit=%ld crc=%08x fmt=%s\n", ptrs[0], ptrs[K - 1],
           hit ? (long)(hit - big) : -1L, c, out);
    return c;
}

int main(int argc, char **argv)
{
    crc32_init();
    if (argc == 3 && !strcmp(argv[1], "bench")) {
        int n = atoi(argv[2]);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        FILE *devnull = freopen("/dev/null", "w", stdout);
        for (int i = 0; i < n; i++) {
            integer_work();
            float_work();
            string_work();
        }
        fflush(devnull);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fprintf(stderr, "WORKLOAD-BENCH %.3f s\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
        return 0;
    }
    printf("WORKLOAD-BEGIN\n");
    integer_work();
    float_work();
    string_work();
    printf("WORKLOAD-END\n");
    return 0;
}
