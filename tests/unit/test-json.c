/*
 * Unit tests for util/json.c: parser accept/reject sets and error texts
 * (checked against QEMU 7.2 over QMP), streaming and recovery, limits,
 * emitter output (compact, pretty, QDict order, ASCII escapes, doubles).
 * Locking: single-threaded test program.
 */
#include <string.h>
#include <glib.h>
#include "util/json.h"

typedef struct Collected {
    GPtrArray *out;            /* char *: emitted value or "ERR:<desc>" */
} Collected;

static void collect(void *opaque, JsonValue *v, Error *err)
{
    Collected *c = opaque;
    if (err) {
        g_ptr_array_add(c->out, g_strdup_printf("ERR:%s", error_get_pretty(err)));
        error_free(err);
    } else {
        g_ptr_array_add(c->out, json_to_string(v, JSON_EMIT_QDICT_ORDER));
        json_free(v);
    }
}

static GPtrArray *stream(const char *in, size_t len)
{
    Collected c = { g_ptr_array_new_with_free_func(g_free) };
    JsonStreamer *s = json_streamer_new(collect, &c);
    json_streamer_feed(s, in, len);
    json_streamer_free(s);
    return c.out;
}

static char *roundtrip(const char *in)
{
    Error *err = NULL;
    JsonValue *v = json_parse_str(in, &err);
    if (!v) {
        char *r = g_strdup_printf("ERR:%s", error_get_pretty(err));
        error_free(err);
        return r;
    }
    char *r = json_to_string(v, JSON_EMIT_QDICT_ORDER);
    json_free(v);
    return r;
}

static void check_rt(const char *in, const char *want)
{
    g_autofree char *got = roundtrip(in);
    g_assert_cmpstr(got, ==, want);
}

static void test_scalars(void)
{
    check_rt("null", "null");
    check_rt(" true ", "true");
    check_rt("false", "false");
    check_rt("42", "42");
    check_rt("-0", "0");
    check_rt("-0.0", "-0");
    check_rt("9223372036854775807", "9223372036854775807");
    check_rt("-9223372036854775808", "-9223372036854775808");
    check_rt("9223372036854775808", "9223372036854775808");
    check_rt("18446744073709551615", "18446744073709551615");
    check_rt("18446744073709551616", "1.8446744073709552e+19");
    check_rt("-9223372036854775809", "-9.2233720368547758e+18");
    check_rt("0.1", "0.10000000000000001");
    check_rt("1e10", "10000000000");
    check_rt("100.0", "100");
    check_rt("1E+2", "100");
    check_rt("1e400", "inf");
    check_rt("3.0e-5", "3.0000000000000001e-05");
}

static void test_strings(void)
{
    check_rt("\"\\u0000\"", "\"\\u0000\"");
    check_rt("\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"");
    check_rt("\"\xc3\xa9\"", "\"\\u00E9\"");
    check_rt("\"\xc0\x80\"", "\"\\u0000\"");
    check_rt("\"\x7f\xc2\x80\"", "\"\\u007F\\u0080\"");
    check_rt("\"\xf0\x9f\x98\x80\"", "\"\\uD83D\\uDE00\"");
    check_rt("\"\\b\\f\\n\\r\\t\\\"\\\\\\/\"", "\"\\b\\f\\n\\r\\t\\\"\\\\/\"");
    check_rt("'it\\'s \"q\"'", "\"it's \\\"q\\\"\"");
    check_rt("\"\\ud800\"", "ERR:JSON parse error, \\ud800 is not a valid Unicode character");
    check_rt("\"\\udc00\"", "ERR:JSON parse error, \\udc00 is not a valid Unicode character");
    check_rt("\"\\uffff\"", "ERR:JSON parse error, \\uffff is not a valid Unicode character");
    check_rt("\"\\u12g4\"", "ERR:JSON parse error, \\u12g4 is not a valid Unicode character");
    check_rt("\"\\u12\"", "ERR:JSON parse error, \\u12\" is not a valid Unicode character");
    check_rt("\"\\x\"", "ERR:JSON parse error, invalid escape sequence in string");
    check_rt("\"\xed\xa0\x80\"", "ERR:JSON parse error, invalid UTF-8 sequence in string");
    check_rt("\"\xf4\x90\x80\x80\"", "ERR:JSON parse error, invalid UTF-8 sequence in string");
}

static void test_structures(void)
{
    check_rt("{\"b\":1, \"a\":2, \"c\":3}", "{\"a\": 2, \"b\": 1, \"c\": 3}");
    check_rt("[1, [2, {}], []]", "[1, [2, {}], []]");
    check_rt("{\"a\":1, \"a\":2}", "ERR:JSON parse error, duplicate key");
    check_rt("{1:1}", "ERR:JSON parse error, key is not a string in object");
    check_rt("{\"a\" 1}", "ERR:JSON parse error, missing : in object pair");
    check_rt("{\"a\":1 \"b\":2}", "ERR:JSON parse error, expected separator in dict");
    check_rt("[1 2]", "ERR:JSON parse error, expected separator in list");
    check_rt("[1,]", "ERR:JSON parse error, expecting value");
    check_rt("{\"a\":1,}", "ERR:JSON parse error, expecting value");
    check_rt("[tru]", "ERR:JSON parse error, invalid keyword 'tru'");
}

static void test_qdict_order(void)
{
    JsonObject *o = json_object_new();
    json_object_set_int(o, "major", 7);
    json_object_set_int(o, "minor", 2);
    json_object_set_int(o, "micro", 0);
    g_autofree char *s = json_to_string(o, JSON_EMIT_QDICT_ORDER);
    g_assert_cmpstr(s, ==, "{\"micro\": 0, \"minor\": 2, \"major\": 7}");
    g_autofree char *s2 = json_to_string(o, 0);
    g_assert_cmpstr(s2, ==, "{\"major\": 7, \"minor\": 2, \"micro\": 0}");
    json_free(o);

    o = json_object_new();
    json_object_set_bool(o, "running", false);
    json_object_set_bool(o, "singlestep", false);
    json_object_set_str(o, "status", "prelaunch");
    g_autofree char *s3 = json_to_string(o, JSON_EMIT_QDICT_ORDER);
    g_assert_cmpstr(s3, ==, "{\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}");
    json_free(o);
}

static void test_pretty(void)
{
    Error *err = NULL;
    JsonValue *v = json_parse_str("{\"return\": {}, \"l\": [\"oob\"], \"e\": []}", &err);
    g_assert_nonnull(v);
    g_autofree char *s = json_to_string(v, JSON_EMIT_PRETTY);
    g_assert_cmpstr(s, ==, "{\n    \"return\": {\n    },\n    \"l\": [\n        \"oob\"\n    ],\n"
                    "    \"e\": [\n    ]\n}");
    json_free(v);
}

static void check_stream(const char *in, size_t len, const char *const *want)
{
    g_autoptr(GPtrArray) got = stream(in, len);
    unsigned n = g_strv_length((char **)want);
    for (unsigned i = 0; i < got->len && i < n; i++) {
        g_assert_cmpstr(got->pdata[i], ==, want[i]);
    }
    g_assert_cmpuint(got->len, ==, n);
}

#define S(x) x, sizeof(x) - 1

static void test_stream(void)
{
    static const char *const two[] = { "{\"a\": 1}", "{\"b\": 2}", NULL };
    check_stream(S("{\"a\":1}{\"b\":2}"), two);

    static const char *const partial[] = { NULL };
    check_stream(S("{\"execute\": \"x\""), partial);

    static const char *const scalar[] = { "42", NULL };
    check_stream(S("42 43"), scalar);     /* 43 waits for a delimiter */

    static const char *const stray[] = {
        "ERR:JSON parse error, stray '-s'", "ERR:JSON parse error, expecting value", NULL };
    check_stream(S("{\"execute\": query-status}"), stray);

    static const char *const garbage[] = {
        "ERR:JSON parse error, stray ''", "ERR:JSON parse error, stray '\x01'",
        "{\"execute\": \"q\"}", NULL };
    check_stream(S("\x00\x01garbage{\"execute\":\"q\"}"), garbage);

    static const char *const at[] = { "ERR:JSON parse error, stray '@'", "{}", NULL };
    check_stream(S("@@@{}"), at);

    static const char *const ctl[] = {
        "ERR:JSON parse error, stray '\"a\t'", "ERR:JSON parse error, expecting value", NULL };
    check_stream(S("{\"id\": \"a\tb\"}"), ctl);

    static const char *const zero[] = { "ERR:JSON parse error, expected separator in dict", NULL };
    check_stream(S("{\"id\": 0e5}"), zero);

    static const char *const frac[] = { "ERR:JSON parse error, stray '1.}'", NULL };
    check_stream(S("{\"id\": 1.}"), frac);

    static const char *const rb[] = { "ERR:JSON parse error, expecting value", NULL };
    check_stream(S("]"), rb);

    static const char *const bad[] = {
        "ERR:JSON parse error, stray '\"\xff'", "ERR:JSON parse error, expecting value", NULL };
    check_stream(S("{\"id\": \"\xff\"}"), bad);
}

static void test_split_feed(void)
{
    static const char in[] =
        "{'execute': 'x', \"arguments\": {\"a\": [1, 2.5, -3e2, true, null, \"\\u00e9\\n\"]}}"
        "@@{\"b\": 18446744073709551615} 42 ";
    g_autoptr(GPtrArray) whole = stream(in, sizeof(in) - 1);
    Collected c = { g_ptr_array_new_with_free_func(g_free) };
    JsonStreamer *s = json_streamer_new(collect, &c);
    for (size_t i = 0; i < sizeof(in) - 1; i++) {
        json_streamer_feed(s, in + i, 1);
    }
    json_streamer_free(s);
    g_assert_cmpuint(c.out->len, ==, whole->len);
    for (unsigned i = 0; i < whole->len; i++) {
        g_assert_cmpstr(c.out->pdata[i], ==, whole->pdata[i]);
    }
    g_assert_cmpuint(whole->len, ==, 4);
    g_ptr_array_free(c.out, TRUE);
}

static void test_nesting_limit(void)
{
    GString *in = g_string_new(NULL);
    for (int i = 0; i < 1024; i++) {
        g_string_append_c(in, '[');
    }
    for (int i = 0; i < 1024; i++) {
        g_string_append_c(in, ']');
    }
    g_autoptr(GPtrArray) ok = stream(in->str, in->len);
    g_assert_cmpuint(ok->len, ==, 1);
    g_string_printf(in, "[");
    for (int i = 0; i < 1100; i++) {
        g_string_append_c(in, '[');
    }
    g_autoptr(GPtrArray) deep = stream(in->str, in->len);
    g_assert_cmpuint(deep->len, >=, 1);
    g_assert_cmpstr(deep->pdata[0], ==, "ERR:JSON nesting depth limit exceeded");
    g_string_free(in, TRUE);
}

static void test_size_limit(void)
{
    size_t n = JSON_MAX_TOKEN_SIZE + 16;
    char *big = g_malloc(n);
    memset(big, 'a', n);
    big[0] = '"';
    g_autoptr(GPtrArray) r = stream(big, n);
    g_assert_cmpuint(r->len, >=, 1);
    g_assert_cmpstr(r->pdata[0], ==, "ERR:JSON token size limit exceeded");
    g_free(big);
}

static void test_random_garbage(void)
{
    GRand *rnd = g_rand_new_with_seed(1234);
    for (int round = 0; round < 2000; round++) {
        char buf[256];
        int len = g_rand_int_range(rnd, 1, sizeof(buf));
        static const char alpha[] = "{}[]:,\"'\\0123456789-+.eEtrufalsn \t\r\n\x01\xff\xc3\xa9u";
        for (int i = 0; i < len; i++) {
            buf[i] = alpha[g_rand_int_range(rnd, 0, sizeof(alpha) - 1)];
        }
        g_autoptr(GPtrArray) r = stream(buf, len);
        (void)r;
        Error *err = NULL;
        JsonValue *v = json_parse(buf, len, &err);
        if (v) {
            /* what we print must parse back to the same value */
            g_autofree char *s = json_to_string(v, 0);
            JsonValue *w = json_parse_str(s, &error_abort);
            g_assert_true(json_equal(v, w) || strstr(s, "nan") || strstr(s, "inf"));
            json_free(w);
            json_free(v);
        } else {
            error_free(err);
        }
    }
    g_rand_free(rnd);
}

static void test_kv(void)
{
    Error *err = NULL;
    KVDict *d = kv_parse_json_object_string(
        "{\"driver\": \"e1000\", \"id\": \"n\", \"x\": {\"y\": 5, \"z\": true}, \"l\": [\"a\"]}", &err);
    g_assert_nonnull(d);
    g_assert_cmpstr(kv_peek(d, "driver"), ==, "e1000");
    g_assert_cmpstr(kv_peek(d, "x.y"), ==, "5");
    g_assert_cmpstr(kv_peek(d, "x.z"), ==, "on");
    g_assert_cmpstr(kv_peek(d, "l.0"), ==, "a");
    kv_free(d);
    g_assert_null(kv_parse_json_object_string("[1]", &err));
    g_assert_nonnull(err);
    error_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json/scalars", test_scalars);
    g_test_add_func("/json/strings", test_strings);
    g_test_add_func("/json/structures", test_structures);
    g_test_add_func("/json/qdict-order", test_qdict_order);
    g_test_add_func("/json/pretty", test_pretty);
    g_test_add_func("/json/stream", test_stream);
    g_test_add_func("/json/split-feed", test_split_feed);
    g_test_add_func("/json/nesting-limit", test_nesting_limit);
    g_test_add_func("/json/size-limit", test_size_limit);
    g_test_add_func("/json/random-garbage", test_random_garbage);
    g_test_add_func("/json/kv", test_kv);
    return g_test_run();
}
