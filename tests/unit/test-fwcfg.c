/*
 * Unit tests: the fw_cfg device (hw/core/fw_cfg.c) through its I/O ports
 * and DMA interface, as firmware drives it (QEMU docs/specs/fw_cfg.rst).
 */
#include <string.h>
#include <glib.h>
#include "hw/fw_cfg.h"
#include "system/main-loop.h"
#include "system/memory.h"
#include "util/cutils.h"

static MemoryRegion ram;
static FWCfgState *fw;

static void setup(void)
{
    if (fw) {
        return;
    }
    memory_init();
    bql_lock();
    mr_init_ram(&ram, "ram", 0x100000, NULL);
    mr_add_subregion(system_memory, 0, &ram, 0);
    fw = fw_cfg_init_io(0x510, 0x514);
    fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, 0x8000000);
    fw_cfg_add_file(fw, "etc/zeta", g_strdup("zzz"), 3);
    fw_cfg_add_file(fw, "bootorder", g_strdup(""), 0);
    fw_cfg_add_file(fw, "etc/alpha", g_strdup("hello"), 5);
}

static void select_key(uint16_t key)
{
    as_st(&as_io, 0x510, key, 2);
}

static void read_data(void *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        ((uint8_t *)buf)[i] = as_ld(&as_io, 0x511, 1);
    }
}

static void test_signature_and_id(void)
{
    setup();
    char sig[5] = { 0 };
    select_key(FW_CFG_SIGNATURE);
    read_data(sig, 4);
    g_assert_cmpstr(sig, ==, "QEMU");
    uint32_t id;
    select_key(FW_CFG_ID);
    read_data(&id, 4);
    g_assert_cmpuint(id, ==, 3);      /* traditional + DMA */
    uint64_t ram_size;
    select_key(FW_CFG_RAM_SIZE);
    read_data(&ram_size, 8);
    g_assert_cmpuint(ram_size, ==, 0x8000000);
    /* past the end and unknown keys read zero */
    uint8_t b;
    read_data(&b, 1);
    g_assert_cmpuint(b, ==, 0);
    select_key(0x1234);
    read_data(&b, 1);
    g_assert_cmpuint(b, ==, 0);
}

static void test_file_dir_sorted(void)
{
    setup();
    uint8_t dir[4 + 3 * 64];
    select_key(FW_CFG_FILE_DIR);
    read_data(dir, sizeof(dir));
    g_assert_cmpuint(ldl_be_p(dir), ==, 3);
    g_assert_cmpstr((char *)dir + 4 + 8, ==, "bootorder");
    g_assert_cmpstr((char *)dir + 4 + 64 + 8, ==, "etc/alpha");
    g_assert_cmpstr((char *)dir + 4 + 128 + 8, ==, "etc/zeta");
    g_assert_cmpuint(ldl_be_p(dir + 4 + 64), ==, 5);
    uint16_t sel = lduw_be_p(dir + 4 + 64 + 4);
    char buf[6] = { 0 };
    select_key(sel);
    read_data(buf, 5);
    g_assert_cmpstr(buf, ==, "hello");
}

static void test_dma(void)
{
    setup();
    /* descriptor at 0x1000: select etc/alpha's key and read 8 bytes to 0x2000 */
    uint8_t dir[4 + 3 * 64];
    select_key(FW_CFG_FILE_DIR);
    read_data(dir, sizeof(dir));
    uint16_t sel = lduw_be_p(dir + 4 + 64 + 4);
    uint8_t desc[16];
    stl_be_p(desc, ((uint32_t)sel << 16) | 0x08 | 0x02);
    stl_be_p(desc + 4, 8);
    stq_be_p(desc + 8, 0x2000);
    memset(ram.host + 0x2000, 0xaa, 16);
    memcpy(ram.host + 0x1000, desc, 16);
    as_st(&as_io, 0x514, __builtin_bswap32(0), 4);
    as_st(&as_io, 0x518, __builtin_bswap32(0x1000), 4);
    g_assert_cmpuint(ldl_be_p(ram.host + 0x1000), ==, 0);           /* completed, no error */
    g_assert_cmpmem(ram.host + 0x2000, 5, "hello", 5);
    g_assert_cmpuint(ram.host[0x2005], ==, 0);                       /* past the end: zeros */
    g_assert_cmpuint(ram.host[0x2008], ==, 0xaa);                    /* not beyond the length */
    /* the DMA register reads back the "QEMU CFG" signature */
    uint64_t sig = ((uint64_t)as_ld(&as_io, 0x514, 4) << 32) | as_ld(&as_io, 0x518, 4);
    g_assert_cmphex(sig, ==, 0x51454d5520434647ull);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fw_cfg/signature-id", test_signature_and_id);
    g_test_add_func("/fw_cfg/file-dir", test_file_dir_sorted);
    g_test_add_func("/fw_cfg/dma", test_dma);
    return g_test_run();
}
