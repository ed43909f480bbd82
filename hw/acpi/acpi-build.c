/*
 * ACPI table builder for the PC: FACS, DSDT, FADT rev 1, MADT, HPET, WAET
 * and RSDT in one blob plus an RSDP rev 0 (ACPI 6.4 §5.2.5-§5.2.12; HPET
 * spec 1.0a §3.2.4; Microsoft WAET spec), byte-compatible with QEMU 7.2's
 * -machine pc tables, and the BIOS linker/loader script that tells
 * SeaBIOS where to put them (format: SeaBIOS src/fw/romfile_loader.h).
 * Locking: none (pure builders; callers hold the BQL).
 */
#include <string.h>
#include "hw/acpi/acpi.h"
#include "util/cutils.h"

#define HDR_LEN 36

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum += p[i];
    }
    return sum;
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

static void set_le(GByteArray *b, uint32_t off, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        b->data[off + i] = (uint8_t)(v >> (8 * i));
    }
}

/* Start a table: the 36-byte header with QEMU's OEM fields. */
static uint32_t table_begin(GByteArray *b, const char *sig, uint8_t rev)
{
    uint32_t start = b->len;
    g_byte_array_append(b, (const uint8_t *)sig, 4);
    put_le(b, 0, 4);                                    /* length, later */
    put8(b, rev);
    put8(b, 0);                                         /* checksum, later */
    g_byte_array_append(b, (const uint8_t *)ACPI_OEM_ID, 6);
    g_byte_array_append(b, (const uint8_t *)ACPI_OEM_TABLE_ID, 8);
    put_le(b, 1, 4);                                    /* OEM revision */
    g_byte_array_append(b, (const uint8_t *)"BXPC", 4); /* creator ID */
    put_le(b, 1, 4);                                    /* creator revision */
    return start;
}

/* ---- BIOS linker/loader commands (128 bytes each, little endian) ---- */

static uint8_t *loader_entry(GByteArray *l, uint32_t cmd)
{
    uint8_t e[ACPI_LOADER_ENTRY_SIZE] = { 0 };
    e[0] = (uint8_t)cmd;
    g_byte_array_append(l, e, sizeof(e));
    return l->data + l->len - ACPI_LOADER_ENTRY_SIZE;
}

static void loader_name(uint8_t *dst, const char *name)
{
    g_assert(strlen(name) < ACPI_LOADER_FILESZ);
    memcpy(dst, name, strlen(name));
}

static void loader_alloc(GByteArray *l, const char *file, uint32_t align, uint8_t zone)
{
    uint8_t *e = loader_entry(l, ACPI_LOADER_ALLOCATE);
    loader_name(e + 4, file);
    stl_le_p(e + 4 + ACPI_LOADER_FILESZ, align);
    e[4 + ACPI_LOADER_FILESZ + 4] = zone;
}

static void loader_pointer(GByteArray *l, const char *dest, const char *src,
                           uint32_t offset, uint8_t size)
{
    uint8_t *e = loader_entry(l, ACPI_LOADER_ADD_POINTER);
    loader_name(e + 4, dest);
    loader_name(e + 4 + ACPI_LOADER_FILESZ, src);
    stl_le_p(e + 4 + 2 * ACPI_LOADER_FILESZ, offset);
    e[4 + 2 * ACPI_LOADER_FILESZ + 4] = size;
}

static void loader_checksum(GByteArray *l, const char *file, uint32_t start,
                            uint32_t len, uint32_t cksum_off)
{
    uint8_t *e = loader_entry(l, ACPI_LOADER_ADD_CHECKSUM);
    loader_name(e + 4, file);
    stl_le_p(e + 4 + ACPI_LOADER_FILESZ, cksum_off);
    stl_le_p(e + 4 + ACPI_LOADER_FILESZ + 4, start);
    stl_le_p(e + 4 + ACPI_LOADER_FILESZ + 8, len);
}

/* Finish a table: length, checksum in the blob (valid as if the blob sat
 * at 0) and the loader's checksum command (run after pointer patches). */
static void table_end(GByteArray *b, uint32_t start, GByteArray *l)
{
    uint32_t len = b->len - start;
    set_le(b, start + 4, len, 4);
    b->data[start + 9] = 0;
    b->data[start + 9] = (uint8_t)-acpi_checksum(b->data + start, len);
    loader_checksum(l, ACPI_FILE_TABLES, start, len, start + 9);
}

/* Pointer at 'at' (already holding a blob offset) to patch with the
 * tables blob's final address. */
static void table_pointer(GByteArray *l, uint32_t at, uint8_t size)
{
    loader_pointer(l, ACPI_FILE_TABLES, ACPI_FILE_TABLES, at, size);
}

/* ---- the tables ---- */

static uint32_t build_facs(GByteArray *b)
{
    uint32_t start = b->len;
    g_byte_array_append(b, (const uint8_t *)"FACS", 4);
    put_le(b, 64, 4);
    for (int i = 8; i < 64; i++) {
        put8(b, 0);             /* no wake vector, no global lock owner */
    }
    return start;
}

static uint32_t build_dsdt(GByteArray *b, GByteArray *l, const AcpiConfig *cfg)
{
    uint32_t start = table_begin(b, "DSDT", 1);
    GByteArray *body = acpi_build_dsdt_body(cfg);
    g_byte_array_append(b, body->data, body->len);
    g_byte_array_unref(body);
    table_end(b, start, l);
    return start;
}

/* FADT revision 1 (ACPI 1.0 layout, 116 bytes), field values as QEMU's. */
static uint32_t build_fadt(GByteArray *b, GByteArray *l, uint32_t facs, uint32_t dsdt)
{
    uint32_t start = table_begin(b, "FACP", 1);
    put_le(b, facs, 4);                         /* FIRMWARE_CTRL */
    put_le(b, dsdt, 4);                         /* DSDT */
    put8(b, 1);                                 /* INT_MODEL (ACPI 1.0) */
    put8(b, 0);                                 /* Preferred_PM_Profile */
    put_le(b, ACPI_SCI_IRQ, 2);                 /* SCI_INT */
    put_le(b, ACPI_SMI_CMD_PORT, 4);            /* SMI_CMD */
    put8(b, ACPI_ENABLE_CMD);
    put8(b, ACPI_DISABLE_CMD);
    put8(b, 0);                                 /* S4BIOS_REQ */
    put8(b, 0);                                 /* PSTATE_CNT */
    put_le(b, ACPI_PM_BASE + ACPI_PM1_EVT_OFS, 4);  /* PM1a_EVT_BLK */
    put_le(b, 0, 4);                            /* PM1b_EVT_BLK */
    put_le(b, ACPI_PM_BASE + ACPI_PM1_CNT_OFS, 4);  /* PM1a_CNT_BLK */
    put_le(b, 0, 4);                            /* PM1b_CNT_BLK */
    put_le(b, 0, 4);                            /* PM2_CNT_BLK */
    put_le(b, ACPI_PM_BASE + ACPI_PM_TMR_OFS, 4);   /* PM_TMR_BLK */
    put_le(b, ACPI_GPE0_BASE, 4);               /* GPE0_BLK */
    put_le(b, 0, 4);                            /* GPE1_BLK */
    put8(b, 4);                                 /* PM1_EVT_LEN */
    put8(b, 2);                                 /* PM1_CNT_LEN */
    put8(b, 0);                                 /* PM2_CNT_LEN */
    put8(b, 4);                                 /* PM_TMR_LEN */
    put8(b, ACPI_GPE0_LEN);                     /* GPE0_BLK_LEN */
    put8(b, 0);                                 /* GPE1_BLK_LEN */
    put8(b, 0);                                 /* GPE1_BASE */
    put8(b, 0);                                 /* CST_CNT */
    put_le(b, 0x0fff, 2);                       /* P_LVL2_LAT: C2 unsupported */
    put_le(b, 0x0fff, 2);                       /* P_LVL3_LAT: C3 unsupported */
    put_le(b, 0, 2);                            /* FLUSH_SIZE */
    put_le(b, 0, 2);                            /* FLUSH_STRIDE */
    put8(b, 0);                                 /* DUTY_OFFSET */
    put8(b, 0);                                 /* DUTY_WIDTH */
    put8(b, 0);                                 /* DAY_ALRM */
    put8(b, 0);                                 /* MON_ALRM */
    put8(b, 0x32);                              /* CENTURY (CMOS index) */
    put_le(b, 0, 2);                            /* IAPC_BOOT_ARCH (reserved in rev 1) */
    put8(b, 0);                                 /* reserved */
    /* Flags: WBINVD | PROC_C1 | SLP_BUTTON | RTC_S4 | USE_PLATFORM_CLOCK.
     * PWR_BUTTON clear: the power button is the fixed-feature one. */
    put_le(b, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 7) | (1u << 15), 4);
    table_pointer(l, start + 36, 4);
    table_pointer(l, start + 40, 4);
    table_end(b, start, l);
    return start;
}

static uint32_t build_madt(GByteArray *b, GByteArray *l, const AcpiConfig *cfg)
{
    uint32_t start = table_begin(b, "APIC", 1);
    put_le(b, 0xfee00000, 4);                   /* local APIC address */
    put_le(b, 1, 4);                            /* PCAT_COMPAT: 8259s present */
    for (int i = 0; i < cfg->max_cpus; i++) {
        put8(b, 0);                             /* Processor Local APIC */
        put8(b, 8);
        put8(b, (uint8_t)i);                    /* ACPI processor UID */
        put8(b, (uint8_t)cfg->apic_id[i]);
        put_le(b, i < cfg->cpus ? 1 : 0, 4);    /* Enabled */
    }
    put8(b, 1);                                 /* I/O APIC */
    put8(b, 12);
    put8(b, 0);                                 /* I/O APIC ID (QEMU: 0) */
    put8(b, 0);
    put_le(b, 0xfec00000, 4);
    put_le(b, 0, 4);                            /* GSI base */
    /* Interrupt source overrides: PIT IRQ0 on GSI2; PCI-routed ISA IRQs
     * 5, 9, 10, 11 level-triggered active-high (flags 0xd). */
    static const uint8_t iso_irq[] = { 0, 5, 9, 10, 11 };
    for (size_t i = 0; i < sizeof(iso_irq); i++) {
        put8(b, 2);
        put8(b, 10);
        put8(b, 0);                             /* bus: ISA */
        put8(b, iso_irq[i]);
        put_le(b, iso_irq[i] == 0 ? 2 : iso_irq[i], 4);
        put_le(b, iso_irq[i] == 0 ? 0 : 0x000d, 2);
    }
    put8(b, 4);                                 /* Local APIC NMI */
    put8(b, 6);
    put8(b, 0xff);                              /* all processors */
    put_le(b, 0, 2);                            /* flags: bus default */
    put8(b, 1);                                 /* LINT1 */
    table_end(b, start, l);
    return start;
}

static uint32_t build_hpet(GByteArray *b, GByteArray *l)
{
    uint32_t start = table_begin(b, "HPET", 1);
    /* Event Timer Block ID: the capabilities register's upper half as
     * QEMU's hpet reports it: vendor 8086, legacy-replacement capable,
     * 64-bit counter, 3 comparators, revision 1. */
    put_le(b, 0x8086a201, 4);
    put8(b, 0);                                 /* GAS: system memory */
    put8(b, 0);
    put8(b, 0);
    put8(b, 0);
    put_le(b, 0xfed00000, 8);
    put8(b, 0);                                 /* HPET number */
    put_le(b, 0, 2);                            /* minimum clock tick */
    put8(b, 0);                                 /* page protection */
    table_end(b, start, l);
    return start;
}

static uint32_t build_waet(GByteArray *b, GByteArray *l)
{
    uint32_t start = table_begin(b, "WAET", 1);
    put_le(b, 1u << 1, 4);                      /* ACPI PM timer is good */
    table_end(b, start, l);
    return start;
}

static uint32_t build_rsdt(GByteArray *b, GByteArray *l, const uint32_t *ptrs, int n)
{
    uint32_t start = table_begin(b, "RSDT", 1);
    for (int i = 0; i < n; i++) {
        put_le(b, ptrs[i], 4);
        table_pointer(l, start + HDR_LEN + 4 * i, 4);
    }
    table_end(b, start, l);
    return start;
}

void acpi_build(const AcpiConfig *cfg, AcpiBuildTables *t)
{
    GByteArray *b = g_byte_array_new();
    GByteArray *l = g_byte_array_new();
    uint32_t ptrs[8];
    int n = 0;

    loader_alloc(l, ACPI_FILE_TABLES, 64, ACPI_LOADER_ZONE_HIGH);
    uint32_t facs = build_facs(b);
    uint32_t dsdt = build_dsdt(b, l, cfg);
    ptrs[n++] = build_fadt(b, l, facs, dsdt);
    ptrs[n++] = build_madt(b, l, cfg);
    if (cfg->hpet) {
        ptrs[n++] = build_hpet(b, l);
    }
    ptrs[n++] = build_waet(b, l);
    uint32_t rsdt = build_rsdt(b, l, ptrs, n);
    t->tables_used = b->len;
    g_byte_array_set_size(b, (b->len + ACPI_TABLES_BLOB_ALIGN - 1) &
                             ~(uint32_t)(ACPI_TABLES_BLOB_ALIGN - 1));
    memset(b->data + t->tables_used, 0, b->len - t->tables_used);

    /* RSDP revision 0 (ACPI 1.0, 20 bytes) in the F segment. */
    GByteArray *r = g_byte_array_new();
    g_byte_array_append(r, (const uint8_t *)"RSD PTR ", 8);
    put8(r, 0);
    g_byte_array_append(r, (const uint8_t *)ACPI_OEM_ID, 6);
    put8(r, 0);                                 /* revision 0 */
    put_le(r, rsdt, 4);
    r->data[8] = (uint8_t)-acpi_checksum(r->data, 20);
    loader_alloc(l, ACPI_FILE_RSDP, 16, ACPI_LOADER_ZONE_FSEG);
    loader_pointer(l, ACPI_FILE_RSDP, ACPI_FILE_TABLES, 16, 4);
    loader_checksum(l, ACPI_FILE_RSDP, 0, 20, 8);

    t->tables = b;
    t->rsdp = r;
    t->loader = l;
}

void acpi_build_tables_free(AcpiBuildTables *t)
{
    if (t->tables) {
        g_byte_array_unref(t->tables);
    }
    if (t->rsdp) {
        g_byte_array_unref(t->rsdp);
    }
    if (t->loader) {
        g_byte_array_unref(t->loader);
    }
    memset(t, 0, sizeof(*t));
}

/*
 * Direct install: run our own loader script the way SeaBIOS would, with
 * the RSDP file at gpa and the tables file at gpa + 64 (FACS needs 64-byte
 * alignment). Only the commands acpi_build() emits are understood.
 */
size_t acpi_build_direct(const AcpiConfig *cfg, uint8_t *dst, uint64_t gpa)
{
    AcpiBuildTables t;
    acpi_build(cfg, &t);
    const uint32_t tables_off = 64;
    size_t total = tables_off + t.tables_used;
    g_assert((gpa & 63) == 0 && total <= ACPI_DIRECT_MAX_SIZE);

    memset(dst, 0, total);
    memcpy(dst, t.rsdp->data, t.rsdp->len);
    memcpy(dst + tables_off, t.tables->data, t.tables_used);

    for (uint32_t o = 0; o < t.loader->len; o += ACPI_LOADER_ENTRY_SIZE) {
        const uint8_t *e = t.loader->data + o;
        uint32_t cmd = ldl_le_p(e);
        const char *file = (const char *)e + 4;
        uint8_t *base = strcmp(file, ACPI_FILE_RSDP) == 0 ? dst : dst + tables_off;
        if (cmd == ACPI_LOADER_ADD_POINTER) {
            uint32_t off = ldl_le_p(e + 4 + 2 * ACPI_LOADER_FILESZ);
            const char *src = (const char *)e + 4 + ACPI_LOADER_FILESZ;
            uint64_t src_addr = gpa + (strcmp(src, ACPI_FILE_RSDP) == 0 ? 0 : tables_off);
            stl_le_p(base + off, (uint32_t)(ldl_le_p(base + off) + src_addr));
        } else if (cmd == ACPI_LOADER_ADD_CHECKSUM) {
            uint32_t off = ldl_le_p(e + 4 + ACPI_LOADER_FILESZ);
            uint32_t start = ldl_le_p(e + 4 + ACPI_LOADER_FILESZ + 4);
            uint32_t len = ldl_le_p(e + 4 + ACPI_LOADER_FILESZ + 8);
            base[off] -= acpi_checksum(base + start, len);
        }
    }
    acpi_build_tables_free(&t);
    return total;
}

uint32_t acpi_apic_id_for_index(int idx, int threads, int cores, int dies)
{
    /* QEMU's x86 topology: each level's ID field is as wide as needed for
     * its count, so APIC IDs are sparse when counts aren't powers of 2. */
    threads = threads > 0 ? threads : 1;
    cores = cores > 0 ? cores : 1;
    dies = dies > 0 ? dies : 1;
    int tbits = threads > 1 ? 32 - __builtin_clz(threads - 1) : 0;
    int cbits = cores > 1 ? 32 - __builtin_clz(cores - 1) : 0;
    int dbits = dies > 1 ? 32 - __builtin_clz(dies - 1) : 0;
    uint32_t smt = idx % threads;
    uint32_t core = (idx / threads) % cores;
    uint32_t die = (idx / (threads * cores)) % dies;
    uint32_t pkg = idx / (threads * cores * dies);
    return (pkg << (tbits + cbits + dbits)) | (die << (tbits + cbits)) |
           (core << tbits) | smt;
}
