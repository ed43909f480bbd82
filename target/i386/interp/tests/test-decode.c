/*
 * Decoder unit test: lengths (and #UD-ness) of a table of encodings in
 * 16-, 32- and 64-bit code, prefixes, ModRM/SIB/displacement forms,
 * immediates, and operand/address-size selection.
 * Spec: Intel SDM vol. 2 chapter 2 (instruction format), appendix A.
 * Locking: single-threaded test.
 */
#include "test-common.h"

typedef struct DCase {
    int mode;              /* 2, 4, 8 */
    const char *hex;
    int len;               /* expected length; negative: #UD with that length */
    int opsize, addrsize;  /* 0: don't check */
} DCase;

static const DCase dcases[] = {
    { 8, "90", 1, 0, 0 },
    { 8, "48 89 d8", 3, 8, 8 },                 /* mov rax, rbx */
    { 8, "89 d8", 2, 4, 8 },
    { 8, "66 89 d8", 3, 2, 8 },
    { 8, "67 8b 03", 3, 4, 4 },                 /* mov eax,[ebx] */
    { 8, "8b 04 24", 3, 4, 8 },                 /* sib */
    { 8, "8b 44 24 08", 4, 0, 0 },
    { 8, "8b 84 24 00 01 00 00", 7, 0, 0 },
    { 8, "8b 05 00 00 00 00", 6, 0, 0 },        /* rip-relative */
    { 8, "8b 04 25 00 10 00 00", 7, 0, 0 },     /* sib no base */
    { 8, "48 b8 11 22 33 44 55 66 77 88", 10, 8, 0 },  /* mov rax, imm64 */
    { 8, "b8 11 22 33 44", 5, 4, 0 },
    { 8, "66 b8 11 22", 4, 2, 0 },
    { 8, "48 c7 c0 11 22 33 44", 7, 8, 0 },
    { 8, "81 c3 00 01 00 00", 6, 0, 0 },
    { 8, "66 81 c3 00 01", 5, 2, 0 },
    { 8, "83 c3 01", 3, 0, 0 },
    { 8, "48 a1 11 22 33 44 55 66 77 88", 10, 8, 8 },  /* moffs64 */
    { 8, "67 a1 11 22 33 44", 6, 4, 4 },
    { 8, "50", 1, 8, 0 },                       /* push rax: 64-bit default */
    { 8, "66 50", 2, 2, 0 },
    { 8, "41 57", 2, 8, 0 },
    { 8, "e8 00 00 00 00", 5, 8, 0 },
    { 8, "66 e8 00 00 00 00", 6, 8, 0 },        /* F64: still rel32 */
    { 8, "eb fe", 2, 0, 0 },
    { 8, "0f 84 00 00 00 00", 6, 0, 0 },
    { 8, "c2 08 00", 3, 0, 0 },
    { 8, "c8 10 00 01", 4, 0, 0 },              /* enter */
    { 8, "f3 48 ab", 3, 8, 0 },                 /* rep stosq */
    { 8, "f0 48 0f b1 0b", 5, 8, 0 },           /* lock cmpxchg [rbx], rcx */
    { 8, "f0 01 c3", -3, 0, 0 },                /* lock on register form: #UD */
    { 8, "f0 90", -2, 0, 0 },
    { 8, "0f 0b", -2, 0, 0 },                   /* ud2 */
    { 8, "06", -1, 0, 0 },                      /* push es invalid in 64-bit */
    { 8, "ea 00 00 00 00 08 00", -1, 0, 0 },
    { 8, "48 63 c3", 3, 8, 0 },                 /* movsxd */
    { 8, "0f 01 f8", 3, 0, 0 },                 /* swapgs */
    { 8, "0f 01 f9", 3, 0, 0 },                 /* rdtscp */
    { 8, "0f 1f 44 00 00", 5, 0, 0 },           /* nopl */
    { 8, "66 0f 1f 84 00 00 00 00 00", 9, 0, 0 },
    { 8, "0f 05", 2, 0, 0 },
    { 8, "48 0f 07", 3, 8, 0 },                 /* sysretq */
    { 8, "0f 22 d8", 3, 8, 0 },                 /* mov cr3, rax */
    { 8, "44 0f 20 c0", 4, 8, 0 },              /* mov rax, cr8 */
    { 8, "0f 00 d8", 3, 0, 0 },                 /* ltr ax */
    { 8, "0f ba e0 05", 4, 0, 0 },              /* bt eax, 5 */
    { 8, "f3 0f b8 c3", 4, 0, 0 },              /* popcnt */
    { 8, "d9 e8", 2, 0, 0 },                    /* fld1 */
    { 8, "dd 04 24", 3, 0, 0 },                 /* fld qword [rsp] */
    { 8, "0f ae 04 24", 4, 0, 0 },              /* fxsave [rsp] */
    { 8, "48 0f c7 0e", 4, 8, 0 },              /* cmpxchg16b */
    { 8, "26 8b 03", 3, 0, 0 },                 /* ignored es: prefix */
    { 8, "64 48 8b 04 25 28 00 00 00", 9, 8, 0 }, /* mov rax, fs:[0x28] */
    { 8, "40 40 90", 3, 0, 0 },                 /* two REX */
    { 8, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 15, 0, 0 },
    { 4, "8b 03", 2, 4, 4 },
    { 4, "66 8b 03", 3, 2, 4 },
    { 4, "67 8b 07", 3, 4, 2 },                 /* [bx] */
    { 4, "40", 1, 4, 0 },                       /* inc eax */
    { 4, "ea 00 00 00 00 08 00", 7, 4, 0 },     /* jmp far ptr16:32 */
    { 4, "66 ea 00 00 08 00", 6, 2, 0 },
    { 4, "9a 00 00 00 00 08 00", 7, 4, 0 },
    { 4, "e9 00 00 00 00", 5, 4, 0 },
    { 4, "66 e9 00 00", 4, 2, 0 },
    { 4, "8b 04 85 00 10 00 00", 7, 0, 0 },
    { 4, "8b 05 00 10 00 00", 6, 0, 0 },        /* disp32, not rip-relative */
    { 4, "62 03", 2, 0, 0 },                    /* bound */
    { 4, "c4 03", 2, 0, 0 },                    /* les */
    { 4, "0f 01 15 00 10 00 00", 7, 0, 0 },     /* lgdt */
    { 4, "a1 00 10 00 00", 5, 4, 4 },
    { 4, "67 a1 00 10", 4, 4, 2 },
    { 4, "d4 0a", 2, 0, 0 },
    { 2, "8b 07", 2, 2, 2 },
    { 2, "8b 46 02", 3, 2, 2 },                 /* [bp+2] */
    { 2, "8b 86 00 01", 4, 2, 2 },
    { 2, "8b 06 00 10", 4, 2, 2 },              /* [disp16] */
    { 2, "66 8b 07", 3, 4, 2 },
    { 2, "67 8b 04 24", 4, 2, 4 },              /* sib with 67 */
    { 2, "b8 34 12", 3, 2, 0 },
    { 2, "66 b8 78 56 34 12", 6, 4, 0 },
    { 2, "ea 00 7c 00 00", 5, 2, 0 },
    { 2, "66 ea 00 00 00 00 08 00", 8, 4, 0 },
    { 2, "cd 10", 2, 0, 0 },
    { 2, "e8 00 00", 3, 2, 0 },
    { 2, "0f 20 c0", 3, 4, 0 },                 /* mov eax, cr0 */
    { 2, "f3 a4", 2, 0, 0 },
};

static void test_lengths(void)
{
    for (unsigned k = 0; k < G_N_ELEMENTS(dcases); k++) {
        const DCase *c = &dcases[k];
        uint8_t buf[32];
        memset(buf, 0, sizeof(buf));
        int n = test_parse_hex(c->hex, buf);
        Insn in;
        int r = decode_buffer(buf, n, c->mode, &in);
        int want = c->len > 0 ? c->len : -2 - (-c->len);
        if (r != want) {
            g_printerr("decode [%s] mode %d: got %d want %d\n", c->hex, c->mode, r, want);
        }
        g_assert_cmpint(r, ==, want);
        if (c->opsize) {
            g_assert_cmpint(in.opsize, ==, c->opsize);
        }
        if (c->addrsize) {
            g_assert_cmpint(in.addrsize, ==, c->addrsize);
        }
    }
}

static void test_truncated(void)
{
    /* every proper prefix of an encoding must report "need more bytes" */
    static const char *enc[] = { "48 b8 11 22 33 44 55 66 77 88", "8b 84 24 00 01 00 00",
                                 "66 0f 1f 84 00 00 00 00 00", "f0 48 0f b1 0b" };
    for (unsigned k = 0; k < G_N_ELEMENTS(enc); k++) {
        uint8_t buf[32];
        int n = test_parse_hex(enc[k], buf);
        Insn in;
        for (int avail = 0; avail < n; avail++) {
            g_assert_cmpint(decode_buffer(buf, avail, 8, &in), ==, -1);
        }
        g_assert_cmpint(decode_buffer(buf, n, 8, &in), ==, n);
    }
    /* 16 bytes of prefixes: longer than 15 is invalid */
    uint8_t pf[20];
    memset(pf, 0x66, 16);
    pf[16] = 0x90;
    Insn in;
    g_assert_cmpint(decode_buffer(pf, 17, 8, &in), ==, -1);
}

static void test_modrm_fields(void)
{
    Insn in;
    uint8_t b1[] = { 0x4c, 0x8b, 0x44, 0x8d, 0x10 };   /* mov r8, [rbp+rcx*4+16] */
    g_assert_cmpint(decode_buffer(b1, sizeof(b1), 8, &in), ==, 5);
    g_assert_cmpint(in.reg, ==, 8);
    g_assert_cmpint(in.base, ==, R_EBP);
    g_assert_cmpint(in.index, ==, R_ECX);
    g_assert_cmpint(in.scale, ==, 2);
    g_assert_cmpint(in.disp, ==, 16);
    g_assert_cmpint(in.seg, ==, R_SS);
    uint8_t b2[] = { 0x8b, 0x46, 0xfe };               /* 16-bit mov ax, [bp-2] */
    g_assert_cmpint(decode_buffer(b2, sizeof(b2), 2, &in), ==, 3);
    g_assert_cmpint(in.seg, ==, R_SS);
    g_assert_cmpint(in.disp, ==, -2);
    uint8_t b3[] = { 0x26, 0x8b, 0x46, 0xfe };         /* es: override */
    g_assert_cmpint(decode_buffer(b3, sizeof(b3), 2, &in), ==, 4);
    g_assert_cmpint(in.seg, ==, R_ES);
    uint8_t b4[] = { 0x8b, 0x05, 0x10, 0, 0, 0 };
    g_assert_cmpint(decode_buffer(b4, sizeof(b4), 8, &in), ==, 6);
    g_assert_true(in.flags & IF_RIPREL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/interp/decode/lengths", test_lengths);
    g_test_add_func("/interp/decode/truncated", test_truncated);
    g_test_add_func("/interp/decode/modrm", test_modrm_fields);
    return g_test_run();
}
