/*
 * Unit tests (glib gtest) for qcow2 metadata code: refcount packing for
 * all widths (1..64 bits, sub-byte LSB first, multi-byte big-endian), L2
 * entry decoding (standard, compressed, zero, extended subclusters), header
 * validation with QEMU's error messages, and the QDict key order used by
 * kemu-img's JSON output.
 * Locking: single-threaded.
 */
#include <string.h>
#include <glib.h>
#include "qcow2.h"
#include "img-json.h"
#include "util/cutils.h"

static void test_refcount_roundtrip(void)
{
    for (int order = 0; order <= 6; order++) {
        int bits = 1 << order;
        uint64_t max = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
        uint8_t block[512];
        uint64_t shadow[512 * 8];
        uint64_t n = 512 * 8 / bits;
        memset(block, 0, sizeof(block));
        memset(shadow, 0, sizeof(shadow));
        GRand *r = g_rand_new_with_seed(order);
        for (int k = 0; k < 5000; k++) {
            uint64_t i = g_rand_int_range(r, 0, n);
            uint64_t v = ((uint64_t)g_rand_int(r) << 32 | g_rand_int(r)) & max;
            qcow2_refcount_set(block, i, v, order);
            shadow[i] = v;
        }
        for (uint64_t i = 0; i < n; i++) {
            g_assert_cmpuint(qcow2_refcount_get(block, i, order), ==, shadow[i]);
        }
        g_rand_free(r);
    }
}

static void test_refcount_layout(void)
{
    uint8_t b[16] = { 0 };
    qcow2_refcount_set(b, 0, 1, 0);          /* 1-bit: LSB first */
    qcow2_refcount_set(b, 9, 1, 0);
    g_assert_cmphex(b[0], ==, 0x01);
    g_assert_cmphex(b[1], ==, 0x02);
    memset(b, 0, sizeof(b));
    qcow2_refcount_set(b, 1, 3, 1);          /* 2-bit entries */
    g_assert_cmphex(b[0], ==, 0x0c);
    memset(b, 0, sizeof(b));
    qcow2_refcount_set(b, 1, 0xa, 2);        /* 4-bit: high nibble for odd index */
    g_assert_cmphex(b[0], ==, 0xa0);
    memset(b, 0, sizeof(b));
    qcow2_refcount_set(b, 1, 0x1234, 4);     /* 16-bit big-endian */
    g_assert_cmphex(b[2], ==, 0x12);
    g_assert_cmphex(b[3], ==, 0x34);
    qcow2_refcount_set(b, 1, 0x0102030405060708ull, 6);
    g_assert_cmphex(b[8], ==, 0x01);
    g_assert_cmphex(b[15], ==, 0x08);
}

static void init_state(BDRVQcow2State *s, int cluster_bits, bool ext)
{
    memset(s, 0, sizeof(*s));
    s->cluster_bits = cluster_bits;
    s->cluster_size = 1ull << cluster_bits;
    s->extended_l2 = ext;
    s->l2_entry_size = ext ? 16 : 8;
    s->subclusters = ext ? 32 : 1;
    s->csize_shift = 62 - (cluster_bits - 8);
    s->csize_mask = (1ull << (cluster_bits - 8)) - 1;
    s->cluster_offset_mask = (1ull << s->csize_shift) - 1;
}

static void test_l2_decoding(void)
{
    BDRVQcow2State s;
    init_state(&s, 16, false);
    g_assert_cmpint(qcow2_get_cluster_type(&s, 0), ==, QCOW2_CLUSTER_UNALLOCATED);
    g_assert_cmpint(qcow2_get_cluster_type(&s, QCOW_OFLAG_ZERO), ==, QCOW2_CLUSTER_ZERO_PLAIN);
    g_assert_cmpint(qcow2_get_cluster_type(&s, 0x50000 | QCOW_OFLAG_ZERO), ==,
                    QCOW2_CLUSTER_ZERO_ALLOC);
    g_assert_cmpint(qcow2_get_cluster_type(&s, 0x50000 | QCOW_OFLAG_COPIED), ==,
                    QCOW2_CLUSTER_NORMAL);
    uint64_t c = QCOW_OFLAG_COMPRESSED | (3ull << s.csize_shift) | 0x12345;
    g_assert_cmpint(qcow2_get_cluster_type(&s, c), ==, QCOW2_CLUSTER_COMPRESSED);
    g_assert_cmphex(c & s.cluster_offset_mask, ==, 0x12345);
    g_assert_cmpuint(((c >> s.csize_shift) & s.csize_mask) + 1, ==, 4);
    g_assert_cmpint(s.csize_shift, ==, 54);

    /* extended L2: per-subcluster state from the bitmap */
    init_state(&s, 16, true);
    uint64_t bm = (1ull << 0) | (1ull << (32 + 1));
    g_assert_cmpint(qcow2_subcluster_type(&s, 0x50000, bm, 0), ==, QCOW2_SC_NORMAL);
    g_assert_cmpint(qcow2_subcluster_type(&s, 0x50000, bm, 1), ==, QCOW2_SC_ZERO);
    g_assert_cmpint(qcow2_subcluster_type(&s, 0x50000, bm, 2), ==, QCOW2_SC_UNALLOCATED);
    g_assert_cmpint(qcow2_subcluster_type(&s, 0, 1, 0), ==, QCOW2_SC_INVALID);
    g_assert_cmpint(qcow2_subcluster_type(&s, 0, 1ull << 32, 0), ==, QCOW2_SC_ZERO);
    g_assert_cmpint(qcow2_subcluster_type(&s, 0x50000, 1 | (1ull << 32), 0), ==,
                    QCOW2_SC_INVALID);
    g_assert_cmpint(qcow2_subcluster_type(&s, c, 0, 5), ==, QCOW2_SC_COMPRESSED);
    g_assert_cmpint(qcow2_subcluster_type(&s, c, 1, 5), ==, QCOW2_SC_INVALID);
}

/* A valid QEMU 7.2 default header for a 1 GiB image. */
static void make_header(uint8_t *h)
{
    memset(h, 0, 112);
    stl_be_p(h, QCOW_MAGIC);
    stl_be_p(h + 4, 3);
    stl_be_p(h + 20, 16);
    stq_be_p(h + 24, 1ull << 30);
    stl_be_p(h + 36, 2);
    stq_be_p(h + 40, 0x30000);
    stq_be_p(h + 48, 0x10000);
    stl_be_p(h + 56, 1);
    stl_be_p(h + 96, 4);
    stl_be_p(h + 100, 112);
}

typedef struct HeaderCase {
    int off;
    int width;
    uint64_t val;
    const char *msg;
} HeaderCase;

static void test_header_validation(void)
{
    static const HeaderCase cases[] = {
        { 0, 4, 0x12345678, "Image is not in qcow2 format" },
        { 4, 4, 4, "Unsupported qcow2 version 4" },
        { 20, 4, 8, "Unsupported cluster size: 2^8" },
        { 20, 4, 22, "Unsupported cluster size: 2^22" },
        { 100, 4, 96, "qcow2 header too short" },
        { 100, 4, 70000, "qcow2 header exceeds cluster size" },
        { 8, 8, 0x20000, "Invalid backing file offset" },
        { 72, 8, 1ull << 20, "Unsupported qcow2 feature(s): Unknown incompatible feature: 100000" },
        { 72, 8, 1ull << 3, "qcow2: Compression type incompatible feature bit must not be set" },
        { 96, 4, 7, "Reference count entry width too large; may not exceed 64 bits" },
        { 96, 4, 0xffffffff, "Reference count entry width too large; may not exceed 64 bits" },
        { 32, 4, 3, "Unsupported encryption method 3" },
        { 36, 4, 0x10000000, "Active L1 table too large" },
        { 36, 4, 0, "L1 table is too small" },
        { 40, 8, 0x30001, "Active L1 table offset invalid" },
        { 48, 8, 0x10100, "Reference count table offset invalid" },
        { 56, 4, 0x1000000, "Reference count table too large" },
        { 56, 4, 0, "Image does not contain a reference count table" },
        { 60, 4, 100000, "Snapshot table too large" },
        { 64, 8, 0x10001, "Snapshot table offset invalid" },
        { 24, 8, 1ull << 62, "Image is too big" },
        { 104, 1, 2, "qcow2: unknown compression type: 2" },
    };
    uint8_t h[112];
    BDRVQcow2State s;
    Error *err = NULL;
    make_header(h);
    memset(&s, 0, sizeof(s));
    g_assert_cmpint(qcow2_parse_header(&s, h, sizeof(h), 1 << 20, &err), ==, 0);
    g_assert_null(err);
    g_assert_cmpint(s.l2_size, ==, 8192);
    g_assert_cmpint(s.refcount_table_size, ==, 8192);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        make_header(h);
        switch (cases[i].width) {
        case 1: h[cases[i].off] = cases[i].val; break;
        case 4: stl_be_p(h + cases[i].off, cases[i].val); break;
        default: stq_be_p(h + cases[i].off, cases[i].val); break;
        }
        memset(&s, 0, sizeof(s));
        err = NULL;
        g_assert_cmpint(qcow2_parse_header(&s, h, sizeof(h), 1 << 20, &err), <, 0);
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), ==, cases[i].msg);
        error_free(err);
    }
}

static void test_json_order(void)
{
    /* Order observed in qemu-img 7.2 check --output=json */
    const char *keys[] = { "image-end-offset", "total-clusters", "corruptions",
                           "check-errors", "leaks", "allocated-clusters", "filename",
                           "format" };
    for (size_t i = 1; i < G_N_ELEMENTS(keys); i++) {
        g_assert_cmpuint(ij_qdict_bucket(keys[i - 1]), <, ij_qdict_bucket(keys[i]));
    }
    IJson *o = ij_object();
    ij_add_str(o, "format", "qcow2");
    ij_add_int(o, "check-errors", 0);
    ij_add_bool(o, "b", true);
    GString *out = g_string_new(NULL);
    ij_print(o, out);
    g_assert_cmpstr(out->str, ==,
                    "{\n    \"check-errors\": 0,\n    \"format\": \"qcow2\",\n    \"b\": true\n}");
    g_string_free(out, TRUE);
    ij_free(o);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qcow2/refcount/roundtrip", test_refcount_roundtrip);
    g_test_add_func("/qcow2/refcount/layout", test_refcount_layout);
    g_test_add_func("/qcow2/l2/decoding", test_l2_decoding);
    g_test_add_func("/qcow2/header/validation", test_header_validation);
    g_test_add_func("/qcow2/json/order", test_json_order);
    return g_test_run();
}
