/*
 * Unit tests: QemuOpts-style option parsing (util/kvopts.c) and QEMU's
 * size/number rules (util/cutils.c).
 */
#include <glib.h>
#include "util/cutils.h"
#include "util/kvopts.h"

static void test_implied_key(void)
{
    Error *err = NULL;
    KVDict *d = kv_parse("virtio-net-pci,netdev=n0,id=nic1", "driver", &err);
    g_assert_null(err);
    g_assert_cmpstr(kv_peek(d, "driver"), ==, "virtio-net-pci");
    g_assert_cmpstr(kv_peek(d, "netdev"), ==, "n0");
    g_assert_cmpstr(kv_peek(d, "id"), ==, "nic1");
    g_assert_cmpint(d->n, ==, 3);
    kv_free(d);
}

static void test_escaped_comma_and_last_wins(void)
{
    KVDict *d = kv_parse("file,path=/tmp/a,,b,path=/tmp/c,,d", "backend", NULL);
    g_assert_cmpstr(kv_peek(d, "backend"), ==, "file");
    g_assert_cmpstr(kv_peek(d, "path"), ==, "/tmp/c,d");
    g_assert_cmpint(d->n, ==, 2);
    char *s = kv_to_string(d);
    g_assert_cmpstr(s, ==, "backend=file,path=/tmp/c,,d");
    g_free(s);
    kv_free(d);
}

static void test_short_booleans(void)
{
    KVDict *d = kv_parse("socket,id=a,server,nowait", "backend", NULL);
    g_assert_cmpstr(kv_peek(d, "server"), ==, "on");
    g_assert_cmpstr(kv_peek(d, "wait"), ==, "off");
    kv_free(d);
}

static void test_unused_keys(void)
{
    Error *err = NULL;
    KVDict *d = kv_parse("a=1,b=2", NULL, NULL);
    kv_get(d, "a");
    g_assert_false(kv_check_all_used(d, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Invalid parameter 'b'");
    error_free(err);
    err = NULL;
    kv_get(d, "b");
    g_assert_true(kv_check_all_used(d, &err));
    kv_free(d);
}

static void test_typed_getters(void)
{
    Error *err = NULL;
    KVDict *d = kv_parse("on=yes,off=off,bad=maybe,sz=2G,n=0x10", NULL, NULL);
    bool b;
    uint64_t v;
    g_assert_true(kv_get_bool(d, "on", false, &b, &err) && b);
    g_assert_true(kv_get_bool(d, "off", true, &b, &err) && !b);
    g_assert_true(kv_get_bool(d, "absent", true, &b, &err) && b);
    g_assert_false(kv_get_bool(d, "bad", false, &b, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Parameter 'bad' expects 'on' or 'off'");
    error_free(err);
    err = NULL;
    g_assert_true(kv_get_size(d, "sz", 0, &v, &err));
    g_assert_cmpuint(v, ==, 2 * GiB);
    g_assert_true(kv_get_uint(d, "n", 0, &v, &err));
    g_assert_cmpuint(v, ==, 16);
    kv_free(d);
}

static void test_sub_dict(void)
{
    KVDict *d = kv_parse("driver=qcow2,file.driver=file,file.filename=/x.img", NULL, NULL);
    KVDict *s = kv_sub(d, "file");
    g_assert_cmpint(s->n, ==, 2);
    g_assert_cmpstr(kv_peek(s, "filename"), ==, "/x.img");
    kv_get(d, "driver");
    g_assert_true(kv_check_all_used(d, NULL));
    kv_free(s);
    kv_free(d);
}

static void test_sizes(void)
{
    uint64_t v;
    g_assert_cmpint(qemu_strtosz("512", &v), ==, 0);
    g_assert_cmpuint(v, ==, 512);
    g_assert_cmpint(parse_size_suffix("512", MiB, &v), ==, 0);
    g_assert_cmpuint(v, ==, 512 * MiB);
    g_assert_cmpint(qemu_strtosz("1.5G", &v), ==, 0);
    g_assert_cmpuint(v, ==, 3 * GiB / 2);
    g_assert_cmpint(qemu_strtosz("4k", &v), ==, 0);
    g_assert_cmpuint(v, ==, 4096);
    g_assert_cmpint(qemu_strtosz("0x1000", &v), ==, 0);
    g_assert_cmpuint(v, ==, 4096);
    g_assert_cmpint(qemu_strtosz("1x", &v), <, 0);
    g_assert_cmpint(qemu_strtosz("-1", &v), <, 0);
    g_assert_cmpint(qemu_strtosz("", &v), <, 0);
    g_assert_cmpint(qemu_strtosz("17E", &v), <, 0);
    g_assert_cmpint(qemu_strtosz("1.5", &v), <, 0);     /* no fractional bytes */
}

static void test_bools(void)
{
    bool b;
    g_assert_true(parse_bool("on", &b) && b);
    g_assert_true(parse_bool("false", &b) && !b);
    g_assert_false(parse_bool("1", &b));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvopts/implied-key", test_implied_key);
    g_test_add_func("/kvopts/escaped-comma", test_escaped_comma_and_last_wins);
    g_test_add_func("/kvopts/short-booleans", test_short_booleans);
    g_test_add_func("/kvopts/unused-keys", test_unused_keys);
    g_test_add_func("/kvopts/typed-getters", test_typed_getters);
    g_test_add_func("/kvopts/sub-dict", test_sub_dict);
    g_test_add_func("/cutils/sizes", test_sizes);
    g_test_add_func("/cutils/bools", test_bools);
    return g_test_run();
}
