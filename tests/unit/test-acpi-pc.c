/*
 * Unit tests for the ACPI machine glue (hw/acpi/acpi-pc.c): Machine fields
 * and isa-serial devices become the table contents, fw_cfg receives QEMU's
 * three files, -machine acpi=off adds nothing, and the direct-boot install
 * lands at the requested address. qdev and fw_cfg are faked below.
 * Locking: single-threaded test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* memmem */
#endif
#include <string.h>
#include <glib.h>
#include "hw/acpi/acpi.h"
#include "hw/fw_cfg.h"
#include "hw/machine.h"
#include "hw/qdev.h"
#include "util/cutils.h"

/* ---- fakes ---- */

static const DeviceClass serial_cls = { .name = "isa-serial" };
static const DeviceClass other_cls = { .name = "e1000" };
static DeviceState devs[4];
static int n_devs;
static const char *serial_props[4][3];   /* index, iobase, irq per device */

void dev_foreach(void (*fn)(DeviceState *dev, void *opaque), void *opaque)
{
    for (int i = 0; i < n_devs; i++) {
        fn(&devs[i], opaque);
    }
}

char *dev_get_prop_string(DeviceState *dev, const char *name)
{
    int i = (int)(dev - devs);
    int k = !strcmp(name, "index") ? 0 : !strcmp(name, "iobase") ? 1 :
            !strcmp(name, "irq") ? 2 : -1;
    return k >= 0 && serial_props[i][k] ? g_strdup(serial_props[i][k]) : NULL;
}

typedef struct { char *name; void *data; size_t len; } FakeFile;
static FakeFile files[8];
static int n_files;

void fw_cfg_add_file(FWCfgState *s, const char *name, void *data, size_t len)
{
    (void)s;
    g_assert_cmpint(n_files, <, 8);
    files[n_files++] = (FakeFile){ g_strdup(name), data, len };
}

static FakeFile *file(const char *name)
{
    for (int i = 0; i < n_files; i++) {
        if (!strcmp(files[i].name, name)) {
            return &files[i];
        }
    }
    return NULL;
}

static void reset_fakes(void)
{
    for (int i = 0; i < n_files; i++) {
        g_free(files[i].name);
        g_free(files[i].data);
    }
    n_files = 0;
    n_devs = 0;
    memset(serial_props, 0, sizeof(serial_props));
}

static void add_dev(const DeviceClass *cls, const char *index, const char *iobase,
                    const char *irq)
{
    devs[n_devs].cls = cls;
    serial_props[n_devs][0] = index;
    serial_props[n_devs][1] = iobase;
    serial_props[n_devs][2] = irq;
    n_devs++;
}

static void pc_machine(Machine *m)
{
    memset(m, 0, sizeof(*m));
    m->ram_size = 128 * MiB;
    m->below_4g_mem_size = 128 * MiB;
    m->smp_cpus = 2;
    m->smp_max_cpus = 2;
    m->smp_threads = m->smp_cores = m->smp_dies = 1;
    m->smp_sockets = 2;
    m->hpet = true;
    m->acpi = true;
}

/* ---- tests ---- */

static void test_config_from_machine(void)
{
    Machine m;
    AcpiConfig cfg;
    pc_machine(&m);
    m.smp_max_cpus = 4;
    m.smp_cores = 2;
    m.smp_sockets = 2;
    m.hpet = false;
    reset_fakes();
    add_dev(&serial_cls, "0", "1016", "4");
    add_dev(&other_cls, NULL, NULL, NULL);
    add_dev(&serial_cls, "1", "0x2f8", "3");
    add_dev(&serial_cls, "2", "4294967295", "4294967295");    /* unset: defaults */
    acpi_config_from_machine(&m, &cfg);
    g_assert_cmpint(cfg.cpus, ==, 2);
    g_assert_cmpint(cfg.max_cpus, ==, 4);
    g_assert_cmpuint(cfg.apic_id[3], ==, 3);
    g_assert_false(cfg.hpet);
    g_assert_cmpint(cfg.n_serial, ==, 3);
    g_assert_cmpuint(cfg.serial[2].iobase, ==, 0x3e8);
    g_assert_cmpuint(cfg.serial[2].irq, ==, 4);
    g_assert_cmpuint(cfg.serial[0].iobase, ==, 0x3f8);
    g_assert_cmpuint(cfg.serial[0].irq, ==, 4);
    g_assert_cmpint(cfg.serial[1].index, ==, 1);
    g_assert_cmpuint(cfg.serial[1].iobase, ==, 0x2f8);
    g_assert_cmpuint(cfg.serial[1].irq, ==, 3);
    reset_fakes();
}

static void test_fw_cfg_files(void)
{
    Machine m;
    pc_machine(&m);
    reset_fakes();
    add_dev(&serial_cls, "0", NULL, NULL);          /* defaults by index */
    acpi_setup_fw_cfg(&m, (FWCfgState *)&m);
    g_assert_cmpint(n_files, ==, 3);
    FakeFile *t = file(ACPI_FILE_TABLES), *r = file(ACPI_FILE_RSDP), *l = file(ACPI_FILE_LOADER);
    g_assert_nonnull(t);
    g_assert_nonnull(r);
    g_assert_nonnull(l);
    g_assert_cmpuint(t->len, ==, ACPI_TABLES_BLOB_ALIGN);
    g_assert_cmpuint(r->len, ==, 20);
    g_assert_cmpuint(l->len % ACPI_LOADER_ENTRY_SIZE, ==, 0);
    g_assert_cmpmem(r->data, 8, "RSD PTR ", 8);
    /* COM1 with the default resources, and the HPET device. */
    g_assert_nonnull(memmem(t->data, t->len, "COM1", 4));
    g_assert_nonnull(memmem(t->data, t->len, "\x47\x01\xf8\x03\xf8\x03\x00\x08\x22\x10\x00", 11));
    g_assert_nonnull(memmem(t->data, t->len, "HPET", 4));
    reset_fakes();

    m.acpi = false;
    acpi_setup_fw_cfg(&m, (FWCfgState *)&m);
    g_assert_cmpint(n_files, ==, 0);
}

static void test_install_direct(void)
{
    Machine m;
    pc_machine(&m);
    reset_fakes();
    uint8_t *ram = g_malloc0(1 * MiB);
    const uint64_t gpa = 0x80000;
    g_assert_cmpuint(acpi_install_direct(&m, ram, gpa), ==, gpa);
    g_assert_cmpmem(ram + gpa, 8, "RSD PTR ", 8);
    g_assert_cmpuint(acpi_checksum(ram + gpa, 20), ==, 0);
    uint32_t rsdt = ldl_le_p(ram + gpa + 16);
    g_assert_cmpuint(rsdt, >, gpa);
    g_assert_cmpuint(rsdt, <, gpa + ACPI_DIRECT_MAX_SIZE);
    g_assert_cmpmem(ram + rsdt, 4, "RSDT", 4);
    g_assert_cmpuint(acpi_checksum(ram + rsdt, ldl_le_p(ram + rsdt + 4)), ==, 0);
    /* nothing written outside the reserved window */
    for (uint64_t i = 0; i < gpa; i++) {
        g_assert_cmpuint(ram[i], ==, 0);
    }
    for (uint64_t i = gpa + ACPI_DIRECT_MAX_SIZE; i < 1 * MiB; i++) {
        g_assert_cmpuint(ram[i], ==, 0);
    }
    m.acpi = false;
    g_assert_cmpuint(acpi_install_direct(&m, ram, gpa), ==, 0);
    g_free(ram);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi/pc/config-from-machine", test_config_from_machine);
    g_test_add_func("/acpi/pc/fw-cfg-files", test_fw_cfg_files);
    g_test_add_func("/acpi/pc/install-direct", test_install_direct);
    return g_test_run();
}
