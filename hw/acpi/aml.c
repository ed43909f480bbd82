/*
 * AML encoder (see include/hw/acpi/aml.h): package lengths and name strings
 * per ACPI 6.4 §20.2, data and named-object terms per §20.2.5, resource
 * descriptors per §6.4.2 (small) and §6.4.3 (large).
 * An Aml is a body plus how to wrap it (opcode, PkgLength, extras); the
 * wrapping happens when it is appended to its parent or finished.
 * Locking: none (pure functions).
 */
#include <stdlib.h>
#include <string.h>
#include "hw/acpi/aml.h"

#define AML_EXT_OP          0x5b
#define AML_NAME_OP         0x08
#define AML_SCOPE_OP        0x10
#define AML_BUFFER_OP       0x11
#define AML_PACKAGE_OP      0x12
#define AML_METHOD_OP       0x14
#define AML_RETURN_OP       0xa4
#define AML_STRING_PREFIX   0x0d
#define AML_DEVICE_EXTOP    0x82
#define AML_PROCESSOR_EXTOP 0x83

typedef enum {
    AML_K_RAW,          /* body is the whole encoding */
    AML_K_PKG,          /* [ext] op PkgLength body */
    AML_K_PACKAGE,      /* op PkgLength NumElements body */
    AML_K_BUFFER,       /* op PkgLength BufferSize body */
    AML_K_RESTEMPLATE,  /* like BUFFER, body + End Tag */
} AmlKind;

struct Aml {
    AmlKind kind;
    uint8_t ext;        /* 0 or AML_EXT_OP */
    uint8_t op;
    GByteArray *head;   /* bytes after the PkgLength and before children */
    GByteArray *body;
    unsigned count;     /* package elements */
};

static Aml *aml_new(AmlKind kind, uint8_t ext, uint8_t op)
{
    Aml *a = g_new0(Aml, 1);
    a->kind = kind;
    a->ext = ext;
    a->op = op;
    a->head = g_byte_array_new();
    a->body = g_byte_array_new();
    return a;
}

void aml_free(Aml *a)
{
    if (a) {
        g_byte_array_unref(a->head);
        g_byte_array_unref(a->body);
        g_free(a);
    }
}

static void put8(GByteArray *b, uint8_t v)
{
    g_byte_array_append(b, &v, 1);
}

static void put_le(GByteArray *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        put8(b, (uint8_t)(v >> (8 * i)));
    }
}

int aml_pkglen_encode(uint32_t body_len, uint8_t out[4])
{
    /* The encoded length counts the PkgLength bytes themselves. */
    if (body_len + 1 <= 0x3f) {
        out[0] = (uint8_t)(body_len + 1);
        return 1;
    }
    for (int n = 2; n <= 4; n++) {
        uint32_t total = body_len + n;
        if (total < (1u << (4 + 8 * (n - 1)))) {
            out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
            for (int i = 1; i < n; i++) {
                out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
            }
            return n;
        }
    }
    g_assert_not_reached();
}

int64_t aml_pkglen_decode(const uint8_t *p, size_t avail, int *nbytes)
{
    if (avail < 1) {
        return -1;
    }
    int n = (p[0] >> 6) + 1;
    if ((size_t)n > avail) {
        return -1;
    }
    *nbytes = n;
    if (n == 1) {
        return p[0] & 0x3f;
    }
    if (p[0] & 0x30) {
        return -1;  /* bits 5:4 must be zero in multi-byte encodings */
    }
    int64_t v = p[0] & 0xf;
    for (int i = 1; i < n; i++) {
        v |= (int64_t)p[i] << (4 + 8 * (i - 1));
    }
    return v;
}

static void put_nameseg(GByteArray *b, const char *seg, size_t len)
{
    g_assert(len >= 1 && len <= 4);
    for (size_t i = 0; i < 4; i++) {
        put8(b, i < len ? (uint8_t)seg[i] : '_');
    }
}

void aml_append_namestring(GByteArray *out, const char *path)
{
    const char *p = path;
    if (*p == '\\') {
        put8(out, '\\');
        p++;
    }
    while (*p == '^') {
        put8(out, '^');
        p++;
    }
    int nseg = 0;
    if (*p) {
        nseg = 1;
        for (const char *q = p; *q; q++) {
            nseg += *q == '.';
        }
    }
    if (nseg == 0) {
        put8(out, 0x00);            /* NullName */
    } else if (nseg == 2) {
        put8(out, 0x2e);            /* DualNamePrefix */
    } else if (nseg > 2) {
        put8(out, 0x2f);            /* MultiNamePrefix */
        put8(out, (uint8_t)nseg);
    }
    while (nseg > 0 && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        put_nameseg(out, p, len);
        p += len + (dot ? 1 : 0);
    }
}

/* Full encoding of a into out. */
static void aml_encode(Aml *a, GByteArray *out)
{
    if (a->kind == AML_K_RAW) {
        g_byte_array_append(out, a->body->data, a->body->len);
        return;
    }
    GByteArray *inner = g_byte_array_new();
    if (a->kind == AML_K_PACKAGE) {
        g_assert(a->count <= 255);
        put8(inner, (uint8_t)a->count);
    } else if (a->kind == AML_K_BUFFER || a->kind == AML_K_RESTEMPLATE) {
        Aml *size = aml_int(a->body->len + (a->kind == AML_K_RESTEMPLATE ? 2 : 0));
        aml_encode(size, inner);
        aml_free(size);
    }
    g_byte_array_append(inner, a->head->data, a->head->len);
    g_byte_array_append(inner, a->body->data, a->body->len);
    if (a->kind == AML_K_RESTEMPLATE) {
        put8(inner, 0x79);          /* End Tag; checksum 0 = ignored */
        put8(inner, 0x00);
    }
    uint8_t pl[4];
    int n = aml_pkglen_encode(inner->len, pl);
    if (a->ext) {
        put8(out, a->ext);
    }
    put8(out, a->op);
    g_byte_array_append(out, pl, n);
    g_byte_array_append(out, inner->data, inner->len);
    g_byte_array_unref(inner);
}

GByteArray *aml_finish(Aml *a)
{
    GByteArray *out = g_byte_array_new();
    aml_encode(a, out);
    aml_free(a);
    return out;
}

void aml_append(Aml *parent, Aml *child)
{
    aml_encode(child, parent->body);
    parent->count++;
    aml_free(child);
}

Aml *aml_raw(const uint8_t *data, size_t len)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    g_byte_array_append(a->body, data, len);
    return a;
}

Aml *aml_block(void)
{
    return aml_new(AML_K_RAW, 0, 0);
}

Aml *aml_int(uint64_t v)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    if (v == 0) {
        put8(a->body, 0x00);        /* ZeroOp */
    } else if (v == 1) {
        put8(a->body, 0x01);        /* OneOp */
    } else if (v <= 0xff) {
        put8(a->body, 0x0a);        /* BytePrefix */
        put_le(a->body, v, 1);
    } else if (v <= 0xffff) {
        put8(a->body, 0x0b);        /* WordPrefix */
        put_le(a->body, v, 2);
    } else if (v <= 0xffffffffu) {
        put8(a->body, 0x0c);        /* DWordPrefix */
        put_le(a->body, v, 4);
    } else {
        put8(a->body, 0x0e);        /* QWordPrefix (needs DSDT rev >= 2) */
        put_le(a->body, v, 8);
    }
    return a;
}

Aml *aml_string(const char *s)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    put8(a->body, AML_STRING_PREFIX);
    g_byte_array_append(a->body, (const uint8_t *)s, strlen(s) + 1);
    return a;
}

Aml *aml_eisaid(const char *id)
{
    /* Three letters in 5 bits each ('A' = 1), then four hex digits; the
     * 32-bit result is stored byte-swapped (§6.1.5 _HID, EISAID macro). */
    g_assert(strlen(id) == 7);
    uint32_t v = ((uint32_t)(id[0] - 0x40) << 26) |
                 ((uint32_t)(id[1] - 0x40) << 21) |
                 ((uint32_t)(id[2] - 0x40) << 16) |
                 (uint32_t)strtoul(id + 3, NULL, 16);
    return aml_int(__builtin_bswap32(v));
}

Aml *aml_name(const char *path)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    aml_append_namestring(a->body, path);
    return a;
}

Aml *aml_package(void)
{
    return aml_new(AML_K_PACKAGE, 0, AML_PACKAGE_OP);
}

Aml *aml_buffer(const uint8_t *data, size_t len)
{
    Aml *a = aml_new(AML_K_BUFFER, 0, AML_BUFFER_OP);
    g_byte_array_append(a->body, data, len);
    return a;
}

Aml *aml_name_decl(const char *name, Aml *val)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    put8(a->body, AML_NAME_OP);
    aml_append_namestring(a->body, name);
    aml_encode(val, a->body);
    aml_free(val);
    return a;
}

Aml *aml_scope(const char *path)
{
    Aml *a = aml_new(AML_K_PKG, 0, AML_SCOPE_OP);
    aml_append_namestring(a->head, path);
    return a;
}

Aml *aml_device(const char *path)
{
    Aml *a = aml_new(AML_K_PKG, AML_EXT_OP, AML_DEVICE_EXTOP);
    aml_append_namestring(a->head, path);
    return a;
}

Aml *aml_method(const char *name, int nargs, bool serialized)
{
    g_assert(nargs >= 0 && nargs <= 7);
    Aml *a = aml_new(AML_K_PKG, 0, AML_METHOD_OP);
    aml_append_namestring(a->head, name);
    put8(a->head, (uint8_t)(nargs | (serialized ? 0x08 : 0)));  /* MethodFlags */
    return a;
}

Aml *aml_return(Aml *val)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    put8(a->body, AML_RETURN_OP);
    aml_encode(val, a->body);
    aml_free(val);
    return a;
}

Aml *aml_processor(const char *name, uint8_t proc_id, uint32_t pblk_addr,
                   uint8_t pblk_len)
{
    Aml *a = aml_new(AML_K_PKG, AML_EXT_OP, AML_PROCESSOR_EXTOP);
    aml_append_namestring(a->head, name);
    put8(a->head, proc_id);
    put_le(a->head, pblk_addr, 4);
    put8(a->head, pblk_len);
    return a;
}

Aml *aml_resource_template(void)
{
    return aml_new(AML_K_RESTEMPLATE, 0, AML_BUFFER_OP);
}

/* Small I/O port descriptor, 16-bit decode (§6.4.2.5). */
Aml *aml_io(uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    put8(a->body, 0x47);
    put8(a->body, 0x01);
    put_le(a->body, min, 2);
    put_le(a->body, max, 2);
    put8(a->body, align);
    put8(a->body, len);
    return a;
}

/* Small IRQ descriptor without the flags byte (§6.4.2.1). */
Aml *aml_irq_no_flags(uint8_t irq)
{
    g_assert(irq < 16);
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    put8(a->body, 0x22);
    put_le(a->body, 1u << irq, 2);
    return a;
}

/* Large 32-bit fixed memory range descriptor (§6.4.3.4). */
Aml *aml_memory32_fixed(uint32_t base, uint32_t len, bool read_write)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    put8(a->body, 0x86);
    put_le(a->body, 9, 2);
    put8(a->body, read_write ? 1 : 0);
    put_le(a->body, base, 4);
    put_le(a->body, len, 4);
    return a;
}

/* Large extended interrupt descriptor (§6.4.3.6). */
Aml *aml_interrupt(AmlConsumer con, AmlTrigger trig, AmlPolarity pol,
                   AmlShare share, const uint32_t *irqs, int n)
{
    g_assert(n >= 1 && n <= 255);
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    put8(a->body, 0x89);
    put_le(a->body, 2 + 4 * n, 2);
    put8(a->body, (uint8_t)(con | (trig << 1) | (pol << 2) | (share << 3)));
    put8(a->body, (uint8_t)n);
    for (int i = 0; i < n; i++) {
        put_le(a->body, irqs[i], 4);
    }
    return a;
}

/*
 * Address space descriptors (§6.4.3.5): resource type, general flags
 * (producer, PosDecode, MinFixed | MaxFixed = 0x0c), type-specific flags,
 * then granularity, min, max, translation offset and length, each of
 * 'width' bytes.
 */
static Aml *aml_addr_space(uint8_t tag, int width, uint8_t rtype, uint8_t tflags,
                           uint64_t min, uint64_t max)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    put8(a->body, tag);
    put_le(a->body, 3 + 5 * width, 2);
    put8(a->body, rtype);
    put8(a->body, 0x0c);
    put8(a->body, tflags);
    put_le(a->body, 0, width);              /* granularity */
    put_le(a->body, min, width);
    put_le(a->body, max, width);
    put_le(a->body, 0, width);              /* translation offset */
    put_le(a->body, max - min + 1, width);  /* length */
    return a;
}

Aml *aml_word_bus_number(uint16_t min, uint16_t max)
{
    return aml_addr_space(0x88, 2, 2, 0x00, min, max);
}

Aml *aml_word_io(uint16_t min, uint16_t max)
{
    /* I/O flags: EntireRange (3), TypeStatic, DenseTranslation. */
    return aml_addr_space(0x88, 2, 1, 0x03, min, max);
}

Aml *aml_dword_io(uint32_t min, uint32_t max)
{
    return aml_addr_space(0x87, 4, 1, 0x03, min, max);
}

Aml *aml_dword_memory(AmlCacheable c, uint32_t min, uint32_t max)
{
    /* Memory flags: ReadWrite (bit 0), cacheability in bits 2:1,
     * AddressRangeMemory, TypeStatic. */
    return aml_addr_space(0x87, 4, 0, (uint8_t)(0x01 | (c << 1)), min, max);
}

Aml *aml_qword_memory(AmlCacheable c, uint64_t min, uint64_t max)
{
    return aml_addr_space(0x8a, 8, 0, (uint8_t)(0x01 | (c << 1)), min, max);
}

/* ---- control flow, operators and fields (ACPI 6.4 §20.2.5, §19.6) ---- */

/* A RAW term: opcode bytes followed by already encoded operands. */
static Aml *aml_op(const uint8_t *ops, int nops, Aml *const *args, int nargs)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    g_byte_array_append(a->body, ops, nops);
    for (int i = 0; i < nargs; i++) {
        aml_encode(args[i], a->body);
        aml_free(args[i]);
    }
    return a;
}

Aml *aml_arg(int n)
{
    g_assert(n >= 0 && n <= 6);
    uint8_t op = (uint8_t)(0x68 + n);              /* Arg0Op..Arg6Op */
    return aml_op(&op, 1, NULL, 0);
}

Aml *aml_local(int n)
{
    g_assert(n >= 0 && n <= 7);
    uint8_t op = (uint8_t)(0x60 + n);              /* Local0Op..Local7Op */
    return aml_op(&op, 1, NULL, 0);
}

Aml *aml_store(Aml *val, Aml *target)
{
    static const uint8_t op = 0x70;                /* StoreOp TermArg SuperName */
    Aml *args[] = { val, target };
    return aml_op(&op, 1, args, 2);
}

Aml *aml_and(Aml *a, Aml *b)
{
    static const uint8_t op = 0x7b;                /* AndOp Operand Operand Target */
    Aml *args[] = { a, b };
    Aml *r = aml_op(&op, 1, args, 2);
    put8(r->body, 0x00);                           /* NullName: no target */
    return r;
}

Aml *aml_lequal(Aml *a, Aml *b)
{
    static const uint8_t op = 0x93;                /* LEqualOp */
    Aml *args[] = { a, b };
    return aml_op(&op, 1, args, 2);
}

Aml *aml_notify(Aml *object, Aml *value)
{
    static const uint8_t op = 0x86;                /* NotifyOp SuperName TermArg */
    Aml *args[] = { object, value };
    return aml_op(&op, 1, args, 2);
}

Aml *aml_call(const char *method, Aml *const *args, int nargs)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    aml_append_namestring(a->body, method);        /* MethodInvocation */
    for (int i = 0; i < nargs; i++) {
        aml_encode(args[i], a->body);
        aml_free(args[i]);
    }
    return a;
}

Aml *aml_if(Aml *predicate)
{
    Aml *a = aml_new(AML_K_PKG, 0, 0xa0);          /* IfOp PkgLength Predicate TermList */
    aml_encode(predicate, a->head);
    aml_free(predicate);
    return a;
}

Aml *aml_operation_region(const char *name, AmlRegionSpace space, uint64_t offset,
                          uint32_t len)
{
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    put8(a->body, AML_EXT_OP);
    put8(a->body, 0x80);                           /* OpRegionOp */
    aml_append_namestring(a->body, name);
    put8(a->body, (uint8_t)space);
    Aml *off = aml_int(offset), *l = aml_int(len);
    aml_encode(off, a->body);
    aml_encode(l, a->body);
    aml_free(off);
    aml_free(l);
    return a;
}

Aml *aml_field(const char *region, uint8_t flags)
{
    Aml *a = aml_new(AML_K_PKG, AML_EXT_OP, 0x81); /* FieldOp PkgLength Name Flags List */
    aml_append_namestring(a->head, region);
    put8(a->head, flags);
    return a;
}

Aml *aml_named_field(const char *name, unsigned bits)
{
    g_assert(strlen(name) == 4 && bits > 0 && bits < 0x40);
    Aml *a = aml_new(AML_K_RAW, 0, 0);
    g_byte_array_append(a->body, (const uint8_t *)name, 4);
    put8(a->body, (uint8_t)bits);                  /* one-byte PkgLength: the width */
    return a;
}
