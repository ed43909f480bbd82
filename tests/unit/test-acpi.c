/*
 * Unit tests for the AML encoder and the PC ACPI tables: package lengths,
 * name strings, a structural walk of the DSDT, table checksums/lengths,
 * the BIOS linker/loader script run the way SeaBIOS runs it, byte
 * equality with tables dumped from QEMU 7.2 (-machine pc, 128 MiB), the
 * direct-boot layout, and an iasl disassembly when acpica-tools is there.
 * Locking: none (single-threaded test).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* memmem */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "hw/acpi/acpi.h"
#include "hw/acpi/aml.h"
#include "util/cutils.h"

/* Reference bytes read from QEMU 7.2 guest memory after SeaBIOS installed
 * the tables (-machine pc -m 128 [-smp 4] -nodefaults). */
static const char qemu_madt_1cpu[] =
    "4150494378000000018a424f4348532042585043202020200100000042585043010000000000e0fe"
    "010000000008000001000000010c00000000c0fe00000000020a0000020000000000020a00050500"
    "00000d00020a0009090000000d00020a000a0a0000000d00020a000b0b0000000d000406ff000001";
static const char qemu_madt_4cpu[] =
    "4150494390000000014b424f4348532042585043202020200100000042585043010000000000e0fe"
    "0100000000080000010000000008010101000000000802020100000000080303010000"
    "00010c00000000c0fe00000000020a0000020000000000020a0005050000000d00020a0009090000"
    "000d00020a000a0a0000000d00020a000b0b0000000d000406ff000001";
static const char qemu_hpet[] =
    "485045543800000001b4424f43485320425850432020202001000000425850430100000001a28680"
    "000000000000d0fe0000000000000000";
static const char qemu_waet[] =
    "57414554280000000139424f434853204258504320202020010000004258504301000000"
    "02000000";
/* FADT with FIRMWARE_CTRL/DSDT (bytes 36..43) and checksum (byte 9) zeroed. */
static const char qemu_fadt[] =
    "46414350740000000100424f43485320425850432020202001000000425850430100000000000000"
    "0000000001000900b2000000f1f00000000600000000000004060000000000000000000008060000"
    "e0af0000000000000402000404000000ff0fff0f000000000000000032000000a5800000";
/* Name (_CRS) buffer of \_SB.PCI0 with 128 MiB of RAM. */
static const char qemu_pci0_crs[] =
    "11400a0a9c880d00020c0000000000ff00000000014701f80cf80c0108880d00010c0300000000f70c"
    "0000f80c880d00010c030000000dffff000000f3871700000c030000000000000a00ffff0b00000000"
    "0000000200871700000c010000000000000008ffffbffe000000000000c0f68a2b00000c0300000000"
    "000000000000000001000000ffffff7f01000000000000000000000000000080000000007900";

static GByteArray *unhex(const char *s)
{
    GByteArray *b = g_byte_array_new();
    for (size_t i = 0; s[i] && s[i + 1]; i += 2) {
        char t[3] = { s[i], s[i + 1], 0 };
        uint8_t v = (uint8_t)strtoul(t, NULL, 16);
        g_byte_array_append(b, &v, 1);
    }
    return b;
}

static void pc_config(AcpiConfig *cfg, int cpus, bool hpet, int serial)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->cpus = cfg->max_cpus = cpus;
    for (int i = 0; i < cpus; i++) {
        cfg->apic_id[i] = i;
    }
    cfg->hpet = hpet;
    cfg->below_4g_mem_size = 128 * MiB;
    cfg->n_serial = serial;
    cfg->serial[0].index = 0;
    cfg->serial[0].iobase = 0x3f8;
    cfg->serial[0].irq = 4;
}

/* ---- encoder ---- */

static void test_pkglen(void)
{
    static const uint32_t lens[] = { 0, 1, 61, 62, 63, 64, 200, 4093, 4094, 4095,
                                     0xffffd, 0xffffe, 0x100000, 0xfffff00 };
    for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
        uint8_t buf[4];
        int n = aml_pkglen_encode(lens[i], buf), m;
        int64_t v = aml_pkglen_decode(buf, n, &m);
        g_assert_cmpint(m, ==, n);
        g_assert_cmpint(v, ==, (int64_t)lens[i] + n);
        /* the shortest encoding is used */
        g_assert_cmpint(n, ==, lens[i] + 1 <= 63 ? 1 : lens[i] + 2 <= 0xfff ? 2 :
                                lens[i] + 3 <= 0xfffff ? 3 : 4);
    }
}

static void test_namestring(void)
{
    GByteArray *b = g_byte_array_new();
    aml_append_namestring(b, "_HID");
    g_assert_cmpmem(b->data, b->len, "_HID", 4);
    g_byte_array_set_size(b, 0);
    aml_append_namestring(b, "KBD");
    g_assert_cmpmem(b->data, b->len, "KBD_", 4);
    g_byte_array_set_size(b, 0);
    aml_append_namestring(b, "\\_SB.PCI0");
    g_assert_cmpmem(b->data, b->len, "\\\x2e_SB_PCI0", 10);
    g_byte_array_set_size(b, 0);
    aml_append_namestring(b, "\\_SB.PCI0.S08");
    g_assert_cmpmem(b->data, b->len, "\\\x2f\x03_SB_PCI0S08_", 15);
    g_byte_array_set_size(b, 0);
    aml_append_namestring(b, "\\");
    g_assert_cmpmem(b->data, b->len, "\\\x00", 2);
    g_byte_array_unref(b);
}

static void test_ints_eisaid(void)
{
    static const struct { uint64_t v; const char *hex; } t[] = {
        { 0, "00" }, { 1, "01" }, { 2, "0a02" }, { 0xff, "0aff" }, { 0x100, "0b0001" },
        { 0x10000, "0c00000100" }, { 0x100000000ull, "0e0000000001000000" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
        GByteArray *b = aml_finish(aml_int(t[i].v)), *e = unhex(t[i].hex);
        g_assert_cmpmem(b->data, b->len, e->data, e->len);
        g_byte_array_unref(b);
        g_byte_array_unref(e);
    }
    GByteArray *b = aml_finish(aml_eisaid("PNP0A03"));
    g_assert_cmpmem(b->data, b->len, "\x0c\x41\xd0\x0a\x03", 5);
    g_byte_array_unref(b);
}

/* ---- a structural AML walker for the terms the encoder emits ---- */

static bool walk_terms(const uint8_t *p, size_t len, int depth);

static size_t name_len(const uint8_t *p, size_t avail)
{
    size_t i = 0;
    while (i < avail && (p[i] == '\\' || p[i] == '^')) {
        i++;
    }
    if (i >= avail) {
        return 0;
    }
    if (p[i] == 0x00) {
        return i + 1;
    }
    if (p[i] == 0x2e) {
        return i + 1 + 8 <= avail ? i + 9 : 0;
    }
    if (p[i] == 0x2f) {
        return i + 2 <= avail && i + 2 + 4u * p[i + 1] <= avail ? i + 2 + 4u * p[i + 1] : 0;
    }
    bool lead = (p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_';
    return lead && i + 4 <= avail ? i + 4 : 0;
}

/* Length of one data object / name reference at p, 0 on error. */
static size_t data_len(const uint8_t *p, size_t avail, int depth)
{
    int nb;
    int64_t pl;
    switch (p[0]) {
    case 0x00: case 0x01: case 0xff:
        return 1;
    case 0x0a: return avail >= 2 ? 2 : 0;
    case 0x0b: return avail >= 3 ? 3 : 0;
    case 0x0c: return avail >= 5 ? 5 : 0;
    case 0x0e: return avail >= 9 ? 9 : 0;
    case 0x0d: {
        const uint8_t *z = memchr(p, 0, avail);
        return z && z != p ? (size_t)(z - p) + 1 : 0;
    }
    case 0x11:  /* Buffer: PkgLength BufferSize bytes */
    case 0x12:  /* Package: PkgLength NumElements elements */
        pl = aml_pkglen_decode(p + 1, avail - 1, &nb);
        if (pl < nb || (size_t)pl + 1 > avail) {
            return 0;
        }
        if (p[0] == 0x12) {
            const uint8_t *q = p + 1 + nb + 1, *end = p + 1 + pl;
            unsigned count = 0;
            while (q < end) {
                size_t l = data_len(q, end - q, depth + 1);
                if (!l) {
                    return 0;
                }
                q += l;
                count++;
            }
            if (count != p[1 + nb]) {
                return 0;
            }
        } else {
            size_t sl = data_len(p + 1 + nb, pl - nb, depth + 1);
            uint64_t size = 0;
            if (!sl) {
                return 0;
            }
            for (size_t i = 1; i < sl; i++) {
                size |= (uint64_t)p[1 + nb + i] << (8 * (i - 1));
            }
            if (sl == 1) {
                size = p[1 + nb];
            }
            if (size != (uint64_t)pl - nb - sl) {
                return 0;
            }
        }
        return (size_t)pl + 1;
    default:
        return name_len(p, avail);
    }
}

static bool walk_terms(const uint8_t *p, size_t len, int depth)
{
    size_t i = 0;
    g_assert_cmpint(depth, <, 32);
    while (i < len) {
        const uint8_t *t = p + i;
        size_t avail = len - i, used = 0, nl;
        int nb;
        int64_t pl;
        if (t[0] == 0x08) {                         /* Name */
            nl = name_len(t + 1, avail - 1);
            size_t dl = nl ? data_len(t + 1 + nl, avail - 1 - nl, depth) : 0;
            used = dl ? 1 + nl + dl : 0;
        } else if (t[0] == 0x10 || t[0] == 0x14) {  /* Scope, Method */
            pl = aml_pkglen_decode(t + 1, avail - 1, &nb);
            if (pl >= nb && (size_t)pl + 1 <= avail) {
                nl = name_len(t + 1 + nb, pl - nb);
                size_t extra = t[0] == 0x14 ? 1 : 0;
                if (nl && walk_terms(t + 1 + nb + nl + extra, pl - nb - nl - extra, depth + 1)) {
                    used = pl + 1;
                }
            }
        } else if (t[0] == 0x5b && avail > 2 && (t[1] == 0x82 || t[1] == 0x83)) {
            pl = aml_pkglen_decode(t + 2, avail - 2, &nb);  /* Device, Processor */
            if (pl >= nb && (size_t)pl + 2 <= avail) {
                nl = name_len(t + 2 + nb, pl - nb);
                size_t extra = t[1] == 0x83 ? 6 : 0;
                if (nl && walk_terms(t + 2 + nb + nl + extra, pl - nb - nl - extra, depth + 1)) {
                    used = pl + 2;
                }
            }
        } else if (t[0] == 0xa4) {                  /* Return */
            size_t dl = data_len(t + 1, avail - 1, depth);
            used = dl ? 1 + dl : 0;
        }
        if (!used) {
            g_test_message("bad AML term 0x%02x at depth %d", t[0], depth);
            return false;
        }
        i += used;
    }
    return i == len;
}

static void test_dsdt_wellformed(void)
{
    for (int cpus = 1; cpus <= 64; cpus *= 4) {
        AcpiConfig cfg;
        pc_config(&cfg, cpus, cpus != 4, cpus == 1 ? 1 : 0);
        GByteArray *body = acpi_build_dsdt_body(&cfg);
        g_assert_true(walk_terms(body->data, body->len, 0));
        /* The walker does notice a broken length: grow \_SB's PkgLength. */
        g_assert_cmpuint(body->data[0], ==, 0x10);
        body->data[1]++;
        g_assert_false(walk_terms(body->data, body->len, 0));
        g_byte_array_unref(body);
    }
}

static void test_pci0_crs_as_qemu(void)
{
    AcpiConfig cfg;
    pc_config(&cfg, 1, true, 1);
    GByteArray *body = acpi_build_dsdt_body(&cfg);
    GByteArray *ref = unhex(qemu_pci0_crs);
    bool found = false;
    for (size_t i = 0; i + 4 + ref->len <= body->len && !found; i++) {
        found = memcmp(body->data + i, "_CRS", 4) == 0 &&
                memcmp(body->data + i + 4, ref->data, ref->len) == 0;
    }
    g_assert_true(found);
    g_byte_array_unref(ref);
    g_byte_array_unref(body);

    /* 4 GiB guest: 3 GiB below 4G, 64-bit window from 5 GiB (QEMU: same). */
    cfg.below_4g_mem_size = 3 * GiB;
    cfg.above_4g_mem_size = 1 * GiB;
    body = acpi_build_dsdt_body(&cfg);
    static const uint8_t w32[] = { 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xbf, 0xfe };
    static const uint8_t w64[] = { 0, 0, 0, 0x40, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xbf, 1, 0, 0, 0 };
    g_assert_nonnull(memmem(body->data, body->len, w32, sizeof(w32)));
    g_assert_nonnull(memmem(body->data, body->len, w64, sizeof(w64)));
    g_byte_array_unref(body);
}

/* ---- linker/loader, executed like SeaBIOS's romfile_loader ---- */

typedef struct LoadedFile {
    const char *name;
    GByteArray *data;
    uint64_t addr;
    bool allocated;
} LoadedFile;

static LoadedFile *find_file(LoadedFile *f, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        if (strncmp(f[i].name, name, ACPI_LOADER_FILESZ) == 0) {
            return &f[i];
        }
    }
    return NULL;
}

/* Returns the guest RSDP address; files get fake guest addresses. */
static uint64_t run_loader(AcpiBuildTables *t, LoadedFile files[2])
{
    files[0] = (LoadedFile){ ACPI_FILE_TABLES, t->tables, 0, false };
    files[1] = (LoadedFile){ ACPI_FILE_RSDP, t->rsdp, 0, false };
    g_assert_cmpuint(t->loader->len % ACPI_LOADER_ENTRY_SIZE, ==, 0);
    for (guint o = 0; o < t->loader->len; o += ACPI_LOADER_ENTRY_SIZE) {
        const uint8_t *e = t->loader->data + o;
        const char *a = (const char *)e + 4;
        g_assert_nonnull(memchr(a, 0, ACPI_LOADER_FILESZ));
        LoadedFile *f = find_file(files, 2, a);
        g_assert_nonnull(f);
        switch (ldl_le_p(e)) {
        case ACPI_LOADER_ALLOCATE: {
            uint32_t align = ldl_le_p(e + 4 + ACPI_LOADER_FILESZ);
            uint8_t zone = e[4 + ACPI_LOADER_FILESZ + 4];
            g_assert_false(f->allocated);
            g_assert_true(align && !(align & (align - 1)));
            g_assert_true(zone == ACPI_LOADER_ZONE_HIGH || zone == ACPI_LOADER_ZONE_FSEG);
            f->addr = zone == ACPI_LOADER_ZONE_FSEG ? 0xf59d0 : 0x7fe0000;
            g_assert_cmpuint(f->addr % align, ==, 0);
            if (zone == ACPI_LOADER_ZONE_FSEG) {
                g_assert_cmpuint(f->data->len, <=, 0x10000);
            }
            f->allocated = true;
            break;
        }
        case ACPI_LOADER_ADD_POINTER: {
            const char *src = (const char *)e + 4 + ACPI_LOADER_FILESZ;
            LoadedFile *s = find_file(files, 2, src);
            uint32_t off = ldl_le_p(e + 4 + 2 * ACPI_LOADER_FILESZ);
            uint8_t size = e[4 + 2 * ACPI_LOADER_FILESZ + 4];
            g_assert_nonnull(s);
            g_assert_true(f->allocated && s->allocated);
            g_assert_true(size == 1 || size == 2 || size == 4 || size == 8);
            g_assert_cmpuint(off + size, <=, f->data->len);
            g_assert_cmpuint(size, ==, 4);
            uint32_t v = ldl_le_p(f->data->data + off);
            g_assert_cmpuint(v, <, s->data->len);       /* an offset into src */
            stl_le_p(f->data->data + off, (uint32_t)(v + s->addr));
            break;
        }
        case ACPI_LOADER_ADD_CHECKSUM: {
            uint32_t off = ldl_le_p(e + 4 + ACPI_LOADER_FILESZ);
            uint32_t start = ldl_le_p(e + 4 + ACPI_LOADER_FILESZ + 4);
            uint32_t len = ldl_le_p(e + 4 + ACPI_LOADER_FILESZ + 8);
            g_assert_true(f->allocated);
            g_assert_cmpuint(start + len, <=, f->data->len);
            g_assert_cmpuint(off, <, f->data->len);
            f->data->data[off] -= acpi_checksum(f->data->data + start, len);
            break;
        }
        default:
            g_assert_not_reached();
        }
        for (int i = 4 + 2 * ACPI_LOADER_FILESZ + 5; i < ACPI_LOADER_ENTRY_SIZE; i++) {
            g_assert_cmpuint(e[i], ==, 0);
        }
    }
    g_assert_true(files[0].allocated && files[1].allocated);
    return files[1].addr;
}

static const uint8_t *guest_ptr(LoadedFile *files, uint64_t addr, uint32_t len)
{
    for (int i = 0; i < 2; i++) {
        if (addr >= files[i].addr && addr + len <= files[i].addr + files[i].data->len) {
            return files[i].data->data + (addr - files[i].addr);
        }
    }
    g_assert_not_reached();
}

static const uint8_t *check_table(LoadedFile *files, uint64_t addr, const char *sig)
{
    const uint8_t *t = guest_ptr(files, addr, 36);
    g_assert_cmpmem(t, 4, sig, 4);
    uint32_t len = ldl_le_p(t + 4);
    t = guest_ptr(files, addr, len);
    g_assert_cmpuint(acpi_checksum(t, len), ==, 0);
    g_assert_cmpmem(t + 10, 6, ACPI_OEM_ID, 6);
    g_assert_cmpmem(t + 16, 8, ACPI_OEM_TABLE_ID, 8);
    g_assert_cmpmem(t + 28, 4, "BXPC", 4);
    return t;
}

static void check_config_tables(int cpus, bool hpet)
{
    AcpiConfig cfg;
    AcpiBuildTables t;
    LoadedFile files[2];
    pc_config(&cfg, cpus, hpet, 1);
    acpi_build(&cfg, &t);
    g_assert_cmpuint(t.tables->len % ACPI_TABLES_BLOB_ALIGN, ==, 0);
    g_assert_cmpuint(t.rsdp->len, ==, 20);

    uint64_t rsdp_addr = run_loader(&t, files);
    const uint8_t *rsdp = guest_ptr(files, rsdp_addr, 20);
    g_assert_cmpmem(rsdp, 8, "RSD PTR ", 8);
    g_assert_cmpuint(acpi_checksum(rsdp, 20), ==, 0);
    g_assert_cmpuint(rsdp[15], ==, 0);                  /* revision 0 */
    const uint8_t *rsdt = check_table(files, ldl_le_p(rsdp + 16), "RSDT");
    uint32_t n = (ldl_le_p(rsdt + 4) - 36) / 4;
    const char *want[] = { "FACP", "APIC", hpet ? "HPET" : "WAET", "WAET" };
    g_assert_cmpuint(n, ==, hpet ? 4 : 3);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *tb = check_table(files, ldl_le_p(rsdt + 36 + 4 * i), want[i]);
        g_assert_cmpuint(tb[8], ==, 1);                 /* revision */
        if (i == 0) {
            g_assert_cmpuint(ldl_le_p(tb + 4), ==, 116);
            uint32_t facs = ldl_le_p(tb + 36);
            g_assert_cmpuint(facs % 64, ==, 0);
            g_assert_cmpmem(guest_ptr(files, facs, 64), 4, "FACS", 4);
            g_assert_cmpuint(ldl_le_p(guest_ptr(files, facs, 64) + 4), ==, 64);
            check_table(files, ldl_le_p(tb + 40), "DSDT");
        }
        if (i == 1) {
            g_assert_cmpuint(ldl_le_p(tb + 4), ==, 44 + 8 * cpus + 12 + 5 * 10 + 6);
        }
    }
    acpi_build_tables_free(&t);
}

static void test_tables_1cpu(void)
{
    check_config_tables(1, true);
}

static void test_tables_4cpu_nohpet(void)
{
    check_config_tables(4, false);
}

/* The loader-free layout: every table matches QEMU's byte for byte except
 * the FADT's two pointers. */
static void test_tables_as_qemu(void)
{
    static uint8_t mem[ACPI_DIRECT_MAX_SIZE];
    for (int cpus = 1; cpus <= 4; cpus += 3) {
        AcpiConfig cfg;
        pc_config(&cfg, cpus, true, 1);
        const uint64_t gpa = 0x9000;
        size_t used = acpi_build_direct(&cfg, mem, gpa);
        g_assert_cmpuint(used, <=, sizeof(mem));
        g_assert_cmpmem(mem, 8, "RSD PTR ", 8);
        g_assert_cmpuint(acpi_checksum(mem, 20), ==, 0);
        uint32_t rsdt = ldl_le_p(mem + 16) - gpa;
        g_assert_cmpuint(acpi_checksum(mem + rsdt, ldl_le_p(mem + rsdt + 4)), ==, 0);
        for (uint32_t i = 36; i < ldl_le_p(mem + rsdt + 4); i += 4) {
            uint32_t off = ldl_le_p(mem + rsdt + i) - gpa;
            uint8_t *tb = mem + off;
            uint32_t len = ldl_le_p(tb + 4);
            g_assert_cmpuint(off + len, <=, used);
            g_assert_cmpuint(acpi_checksum(tb, len), ==, 0);
            const char *ref = NULL;
            if (!memcmp(tb, "APIC", 4)) {
                ref = cpus == 1 ? qemu_madt_1cpu : qemu_madt_4cpu;
            } else if (!memcmp(tb, "HPET", 4)) {
                ref = qemu_hpet;
            } else if (!memcmp(tb, "WAET", 4)) {
                ref = qemu_waet;
            } else if (!memcmp(tb, "FACP", 4)) {
                uint8_t copy[116];
                uint32_t facs = ldl_le_p(tb + 36) - gpa, dsdt = ldl_le_p(tb + 40) - gpa;
                g_assert_cmpmem(mem + facs, 4, "FACS", 4);
                g_assert_cmpuint((gpa + facs) % 64, ==, 0);
                g_assert_cmpuint(acpi_checksum(mem + dsdt, ldl_le_p(mem + dsdt + 4)), ==, 0);
                memcpy(copy, tb, sizeof(copy));
                memset(copy + 36, 0, 8);
                copy[9] = 0;
                GByteArray *r = unhex(qemu_fadt);
                g_assert_cmpmem(copy, sizeof(copy), r->data, r->len);
                g_byte_array_unref(r);
            }
            if (ref) {
                GByteArray *r = unhex(ref);
                g_assert_cmpmem(tb, len, r->data, r->len);
                g_byte_array_unref(r);
            }
        }
    }
}

static void test_apic_ids(void)
{
    g_assert_cmpuint(acpi_apic_id_for_index(3, 1, 1, 1), ==, 3);
    g_assert_cmpuint(acpi_apic_id_for_index(3, 1, 3, 1), ==, 4);   /* socket 1 core 0 */
    g_assert_cmpuint(acpi_apic_id_for_index(5, 2, 3, 1), ==, 5);   /* s0 core 2 thread 1 */
    g_assert_cmpuint(acpi_apic_id_for_index(6, 2, 3, 1), ==, 8);   /* socket 1 */
}

/* ---- iasl ---- */

static char *run_iasl(const char *dir, const char *name, const GByteArray *blob)
{
    char *path = g_build_filename(dir, name, NULL);
    char *out = NULL, *err = NULL, *dsl = NULL;
    int status = 0;
    g_assert_true(g_file_set_contents(path, (const char *)blob->data, blob->len, NULL));
    char *argv[] = { (char *)"iasl", (char *)"-d", path, NULL };
    g_assert_true(g_spawn_sync(dir, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_null(strstr(out, "Error"));
    g_assert_null(strstr(err, "Error"));
    g_assert_null(strstr(out, "ncorrect checksum"));
    char *dslpath = g_strdup_printf("%.*s.dsl", (int)(strlen(path) - 4), path);
    g_assert_true(g_file_get_contents(dslpath, &dsl, NULL, NULL));
    g_assert_null(strstr(dsl, "Unknown"));
    g_assert_null(strstr(dsl, "ncorrect checksum"));
    g_assert_null(strstr(dsl, "**** Invalid"));
    g_unlink(dslpath);
    g_unlink(path);
    g_free(dslpath);
    g_free(path);
    g_free(out);
    g_free(err);
    return dsl;
}

static void test_iasl(void)
{
    char *iasl = g_find_program_in_path("iasl");
    if (!iasl) {
        g_test_skip("iasl not installed (apt-get install acpica-tools)");
        return;
    }
    g_free(iasl);
    static uint8_t mem[ACPI_DIRECT_MAX_SIZE];
    AcpiConfig cfg;
    pc_config(&cfg, 2, true, 1);
    acpi_build_direct(&cfg, mem, 0);
    char *dir = g_dir_make_tmp("test-acpi-XXXXXX", NULL);
    g_assert_nonnull(dir);
    uint32_t rsdt = ldl_le_p(mem + 16);
    for (uint32_t i = 36; i < ldl_le_p(mem + rsdt + 4); i += 4) {
        uint8_t *tb = mem + ldl_le_p(mem + rsdt + i);
        char name[16];
        snprintf(name, sizeof(name), "%.4s.aml", (const char *)tb);
        GByteArray *blob = g_byte_array_new();
        g_byte_array_append(blob, tb, ldl_le_p(tb + 4));
        g_free(run_iasl(dir, name, blob));
        if (!memcmp(tb, "FACP", 4)) {
            uint8_t *d = mem + ldl_le_p(tb + 40);
            g_byte_array_set_size(blob, 0);
            g_byte_array_append(blob, d, ldl_le_p(d + 4));
            char *dsl = run_iasl(dir, "dsdt.aml", blob);
            g_assert_nonnull(strstr(dsl, "Name (\\_S5, Package (0x04)"));
            g_assert_nonnull(strstr(dsl, "Device (PCI0)"));
            g_assert_nonnull(strstr(dsl, "EisaId (\"PNP0A03\")"));
            g_assert_nonnull(strstr(dsl, "Name (_PRT, Package (0x80)"));
            g_assert_nonnull(strstr(dsl, "Device (COM1)"));
            g_assert_nonnull(strstr(dsl, "EisaId (\"PNP0103\")"));
            g_assert_nonnull(strstr(dsl, "Processor (C001, 0x01"));
            g_free(dsl);
        }
        g_byte_array_unref(blob);
    }
    g_rmdir(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi/aml/pkglen", test_pkglen);
    g_test_add_func("/acpi/aml/namestring", test_namestring);
    g_test_add_func("/acpi/aml/ints-eisaid", test_ints_eisaid);
    g_test_add_func("/acpi/dsdt/wellformed", test_dsdt_wellformed);
    g_test_add_func("/acpi/dsdt/pci0-crs-as-qemu", test_pci0_crs_as_qemu);
    g_test_add_func("/acpi/tables/loader-1cpu", test_tables_1cpu);
    g_test_add_func("/acpi/tables/loader-4cpu-nohpet", test_tables_4cpu_nohpet);
    g_test_add_func("/acpi/tables/as-qemu-direct", test_tables_as_qemu);
    g_test_add_func("/acpi/madt/apic-ids", test_apic_ids);
    g_test_add_func("/acpi/iasl", test_iasl);
    return g_test_run();
}
