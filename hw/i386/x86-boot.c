/*
 * -kernel/-initrd/-append loaded by kemu itself, with no firmware and no
 * option ROM: the Linux x86 boot protocol (bzImage, 32-bit entry with a
 * zero page) and Multiboot v1 (ELF32 and the a.out kludge, modules,
 * memory map). Sets the boot CPU's registers for the kernel's entry.
 * Spec: Linux Documentation/arch/x86/boot.rst; Multiboot Specification 0.6.96.
 * Locking: called from machine_done with the BQL held, before vCPUs run.
 */
#include <errno.h>
#include <string.h>
#include <glib.h>
#include "hw/i386/pc.h"
#include "hw/machine.h"
#include "system/cpus.h"
#include "util/cutils.h"

#define BOOT_GDT_ADDR      0x500
#define BOOT_PARAMS_ADDR   0x7000
#define CMDLINE_ADDR       0x20000
#define MB_INFO_ADDR       0x9000      /* multiboot info + mmap + strings, below 0x10000 */
#define MULTIBOOT_MAGIC    0x1badb002
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002

static bool ram_write(Machine *m, uint64_t gpa, const void *buf, uint64_t len, Error **errp)
{
    if (gpa + len < gpa || gpa + len > m->below_4g_mem_size) {
        error_setg(errp, "kernel does not fit in guest RAM (0x%" G_GINT64_MODIFIER "x bytes at 0x%"
                   G_GINT64_MODIFIER "x)", len, gpa);
        return false;
    }
    memcpy(m->ram->host + gpa, buf, len);
    return true;
}

/* Flat 32-bit protected mode as both boot protocols want it: GDT with
 * code at 0x10 and data at 0x18, paging off, interrupts off. */
static void set_flat32_state(Machine *m, uint32_t entry)
{
    static const uint64_t gdt[4] = {
        0, 0,
        0x00cf9b000000ffffull,    /* 0x10: code, base 0, 4 GiB, 32-bit */
        0x00cf93000000ffffull,    /* 0x18: data */
    };
    memcpy(m->ram->host + BOOT_GDT_ADDR, gdt, sizeof(gdt));
    CPUX86State *env = &cpus[0]->env;
    env->gdt.base = BOOT_GDT_ADDR;
    env->gdt.limit = sizeof(gdt) - 1;
    for (int i = 0; i < 6; i++) {
        SegmentCache *s = &env->segs[i];
        s->base = 0;
        s->limit = 0xffffffff;
        s->selector = i == R_CS ? 0x10 : 0x18;
        s->flags = DESC_P_MASK | DESC_S_MASK | DESC_G_MASK | DESC_B_MASK | DESC_A_MASK |
                   (i == R_CS ? DESC_CS_MASK | (2u << DESC_TYPE_SHIFT) : (2u << DESC_TYPE_SHIFT));
    }
    env->cr[0] = CR0_PE | CR0_ET;
    env->eflags = 0x2;
    env->rip = entry;
    cpu_mark_state_dirty(cpus[0]);
}

/* QEMU prints loader errors with a literal "qemu: " prefix; so do we. */
static void *read_file(const char *path, size_t *len, const char *what, Error **errp)
{
    gchar *data = NULL;
    if (!g_file_get_contents(path, &data, len, NULL)) {
        error_setg(errp, "qemu: could not open %s file '%s': %s", what, path, g_strerror(errno));
        return NULL;
    }
    return data;
}

/* ---------------- Multiboot v1 ---------------- */

typedef struct MBHeader {
    uint32_t magic, flags, checksum;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} MBHeader;

static const uint8_t *find_multiboot_header(const uint8_t *k, size_t len)
{
    for (size_t off = 0; off + 12 <= MIN(len, (size_t)8192); off += 4) {
        if (ldl_le_p(k + off) == MULTIBOOT_MAGIC &&
            (uint32_t)(ldl_le_p(k + off) + ldl_le_p(k + off + 4) + ldl_le_p(k + off + 8)) == 0) {
            return k + off;
        }
    }
    return NULL;
}

static bool load_elf32(Machine *m, const uint8_t *k, size_t len, uint32_t *entry,
                       uint64_t *end, Error **errp)
{
    if (len < 52 || k[4] != 1 /* ELFCLASS32 */) {
        if (len >= 5 && k[4] == 2) {
            error_setg(errp, "Cannot load x86-64 image, give a 32bit one.");
        } else {
            error_setg(errp, "invalid ELF image");
        }
        return false;
    }
    uint32_t phoff = ldl_le_p(k + 28);
    uint16_t phentsize = lduw_le_p(k + 42), phnum = lduw_le_p(k + 44);
    *entry = ldl_le_p(k + 24);
    *end = 0;
    if (phentsize < 32 || (uint64_t)phoff + (uint64_t)phnum * phentsize > len) {
        error_setg(errp, "invalid ELF program headers");
        return false;
    }
    for (int i = 0; i < phnum; i++) {
        const uint8_t *ph = k + phoff + i * phentsize;
        if (ldl_le_p(ph) != 1 /* PT_LOAD */) {
            continue;
        }
        uint32_t off = ldl_le_p(ph + 4), paddr = ldl_le_p(ph + 12);
        uint32_t filesz = ldl_le_p(ph + 16), memsz = ldl_le_p(ph + 20);
        if ((uint64_t)off + filesz > len || filesz > memsz) {
            error_setg(errp, "invalid ELF segment");
            return false;
        }
        if (!ram_write(m, paddr, k + off, filesz, errp)) {
            return false;
        }
        if (paddr + (uint64_t)memsz > m->below_4g_mem_size) {
            error_setg(errp, "kernel does not fit in guest RAM");
            return false;
        }
        memset(m->ram->host + paddr + filesz, 0, memsz - filesz);
        *end = MAX(*end, (uint64_t)paddr + memsz);
    }
    return true;
}

bool x86_load_multiboot(Machine *m, const uint8_t *k, size_t len, Error **errp)
{
    const uint8_t *h = find_multiboot_header(k, len);
    MBHeader hdr;
    memcpy(&hdr, h, MIN(sizeof(hdr), (size_t)(k + len - h)));
    uint32_t entry;
    uint64_t end;
    if (hdr.flags & (1u << 16)) {
        /* a.out kludge: addresses from the header */
        uint64_t file_off = (h - k) - (hdr.header_addr - hdr.load_addr);
        uint64_t load_end = hdr.load_end_addr ? hdr.load_end_addr : hdr.load_addr + (len - file_off);
        if (hdr.header_addr < hdr.load_addr || file_off > len || load_end < hdr.load_addr ||
            file_off + (load_end - hdr.load_addr) > len) {
            error_setg(errp, "invalid multiboot a.out header");
            return false;
        }
        if (!ram_write(m, hdr.load_addr, k + file_off, load_end - hdr.load_addr, errp)) {
            return false;
        }
        end = MAX(load_end, (uint64_t)hdr.bss_end_addr);
        if (hdr.bss_end_addr > load_end) {
            if (hdr.bss_end_addr > m->below_4g_mem_size) {
                error_setg(errp, "kernel does not fit in guest RAM");
                return false;
            }
            memset(m->ram->host + load_end, 0, hdr.bss_end_addr - load_end);
        }
        entry = hdr.entry_addr;
    } else {
        if (len < 4 || memcmp(k, "\177ELF", 4)) {
            error_setg(errp, "invalid multiboot image: no ELF header and no a.out kludge");
            return false;
        }
        if (!load_elf32(m, k, len, &entry, &end, errp)) {
            return false;
        }
    }

    /* modules from -initrd "file args,file2 args2", page aligned after the kernel */
    uint64_t mod_addr = ROUND_UP(end, 4096);
    GArray *mods = g_array_new(FALSE, TRUE, sizeof(uint32_t) * 4);
    GString *strings = g_string_new(NULL);
    GArray *str_offsets = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    /* string 0: the kernel command line, "<kernel> <append>" as QEMU builds it */
    g_autofree char *cmd = g_strdup_printf("%s %s", m->kernel_filename, m->kernel_cmdline);
    uint32_t o = 0;
    g_array_append_val(str_offsets, o);
    g_string_append_len(strings, cmd, strlen(cmd) + 1);
    if (m->initrd_filename) {
        g_auto(GStrv) list = g_strsplit(m->initrd_filename, ",", -1);
        for (int i = 0; list[i]; i++) {
            g_autofree char *file = g_strndup(list[i], strcspn(list[i], " "));
            size_t mlen;
            g_autofree uint8_t *mdata = read_file(file, &mlen, "multiboot module", errp);
            if (!mdata || !ram_write(m, mod_addr, mdata, mlen, errp)) {
                g_array_free(mods, TRUE);
                g_string_free(strings, TRUE);
                g_array_free(str_offsets, TRUE);
                return false;
            }
            uint32_t mod[4] = { (uint32_t)mod_addr, (uint32_t)(mod_addr + mlen), (uint32_t)strings->len, 0 };
            g_string_append_len(strings, list[i], strlen(list[i]) + 1);
            g_array_append_val(mods, mod);
            mod_addr = ROUND_UP(mod_addr + mlen, 4096);
        }
    }
    uint32_t loader_name_off = strings->len;
    g_string_append_len(strings, "qemu", 5);

    /* layout at MB_INFO_ADDR: info (88 bytes), mmap, modules, strings */
    uint8_t *mem = m->ram->host;
    uint64_t info = MB_INFO_ADDR;
    uint64_t mmap_addr = info + 0x80;
    GArray *e820 = pc_e820_table(m);
    uint32_t mmap_len = 0;
    for (guint i = 0; i < e820->len; i++) {
        E820Entry *e = &g_array_index(e820, E820Entry, i);
        uint8_t *p = mem + mmap_addr + mmap_len;
        stl_le_p(p, 20);
        stq_le_p(p + 4, e->addr);
        stq_le_p(p + 12, e->len);
        stl_le_p(p + 20, e->type);
        mmap_len += 24;
    }
    uint64_t mods_addr = mmap_addr + mmap_len;
    uint64_t strings_addr = mods_addr + mods->len * 16;
    if (strings_addr + strings->len > 0x10000) {
        error_setg(errp, "multiboot command lines are too long");
        return false;
    }
    memcpy(mem + strings_addr, strings->str, strings->len);
    for (guint i = 0; i < mods->len; i++) {
        uint32_t *mod = &g_array_index(mods, uint32_t, i * 4);
        mod[2] += strings_addr;
        memcpy(mem + mods_addr + i * 16, mod, 16);
    }
    uint8_t *mbi = mem + info;
    memset(mbi, 0, 0x58);
    uint32_t flags = 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x200;
    stl_le_p(mbi + 0, flags);
    stl_le_p(mbi + 4, 640);
    stl_le_p(mbi + 8, (uint32_t)((m->below_4g_mem_size - 1 * MiB) / KiB));
    stl_le_p(mbi + 12, 0x8000ffff);                 /* boot device: first hard disk */
    stl_le_p(mbi + 16, strings_addr);               /* cmdline */
    stl_le_p(mbi + 20, mods->len);
    stl_le_p(mbi + 24, mods_addr);
    stl_le_p(mbi + 44, mmap_len);
    stl_le_p(mbi + 48, mmap_addr);
    stl_le_p(mbi + 64, strings_addr + loader_name_off);
    g_array_free(mods, TRUE);
    g_string_free(strings, TRUE);
    g_array_free(str_offsets, TRUE);

    set_flat32_state(m, entry);
    CPUX86State *env = &cpus[0]->env;
    env->regs[R_EAX] = MULTIBOOT_BOOTLOADER_MAGIC;
    env->regs[R_EBX] = info;
    return true;
}

/* ---------------- Linux boot protocol ---------------- */

bool x86_load_linux(Machine *m, const uint8_t *k, size_t len, uint64_t acpi_rsdp, Error **errp)
{
    if (len < 0x264 || lduw_le_p(k + 0x1fe) != 0xaa55 || memcmp(k + 0x202, "HdrS", 4)) {
        error_setg(errp, "qemu: invalid kernel header");
        return false;
    }
    uint16_t proto = lduw_le_p(k + 0x206);
    if (proto < 0x0206 || !(k[0x211] & 0x01)) {
        error_setg(errp, "%s: Linux boot protocol %x.%02x without a loadable bzImage is not supported",
                   m->kernel_filename, proto >> 8, proto & 0xff);
        return false;
    }
    unsigned setup_sects = k[0x1f1] ? k[0x1f1] : 4;
    size_t setup_size = (setup_sects + 1) * 512;
    if (setup_size >= len) {
        error_setg(errp, "%s: truncated kernel image", m->kernel_filename);
        return false;
    }
    uint32_t load_addr = 0x100000;
    uint32_t init_size = proto >= 0x020a ? ldl_le_p(k + 0x260) : 0;
    if ((uint64_t)load_addr + MAX((uint64_t)init_size, len - setup_size) > m->below_4g_mem_size) {
        error_setg(errp, "not enough guest RAM for the kernel (needs %u MiB)",
                   (unsigned)((load_addr + MAX((uint64_t)init_size, len - setup_size)) / MiB + 1));
        return false;
    }
    if (!ram_write(m, load_addr, k + setup_size, len - setup_size, errp)) {
        return false;
    }

    /* zero page: a copy of the setup header, then our fields */
    uint8_t *bp = m->ram->host + BOOT_PARAMS_ADDR;
    memset(bp, 0, 4096);
    size_t hdr_end = 0x202 + k[0x201];
    memcpy(bp + 0x1f1, k + 0x1f1, MIN(hdr_end, (size_t)0x290) - 0x1f1);
    bp[0x210] = 0xff;                                   /* type_of_loader: undefined */
    bp[0x211] |= 0x80;                                  /* CAN_USE_HEAP */
    stw_le_p(bp + 0x224, 0xfe00);                       /* heap_end_ptr */

    const char *cmdline = m->kernel_cmdline ? m->kernel_cmdline : "";
    uint32_t cmdline_max = proto >= 0x0206 ? ldl_le_p(k + 0x238) : 255;
    if (strlen(cmdline) > cmdline_max || strlen(cmdline) >= 0x10000) {
        error_setg(errp, "kernel command line is too long (max %u)", cmdline_max);
        return false;
    }
    memcpy(m->ram->host + CMDLINE_ADDR, cmdline, strlen(cmdline) + 1);
    stl_le_p(bp + 0x228, CMDLINE_ADDR);

    if (m->initrd_filename) {
        size_t ilen;
        g_autofree uint8_t *initrd = read_file(m->initrd_filename, &ilen, "initrd", errp);
        if (!initrd) {
            return false;
        }
        uint64_t max = ldl_le_p(k + 0x22c);             /* initrd_addr_max */
        if (proto >= 0x020c && (lduw_le_p(k + 0x236) & 0x40)) {
            max = 0xffffffffull;                         /* XLF_CAN_BE_LOADED_ABOVE_4G, still keep below 4G */
        }
        max = MIN(max, pc_initrd_limit(m) - 1);
        if (ilen > max) {
            error_setg(errp, "initrd is too large (%zu bytes, room for %" G_GUINT64_FORMAT ")", ilen, max);
            return false;
        }
        uint64_t at = (max + 1 - ilen) & ~4095ull;
        if (at < load_addr + MAX((uint64_t)init_size, len - setup_size)) {
            error_setg(errp, "not enough guest RAM for the kernel and the initrd");
            return false;
        }
        memcpy(m->ram->host + at, initrd, ilen);
        stl_le_p(bp + 0x218, at);
        stl_le_p(bp + 0x21c, ilen);
    }

    GArray *e820 = pc_e820_table(m);
    unsigned n = MIN(e820->len, 128u);
    bp[0x1e8] = n;
    for (unsigned i = 0; i < n; i++) {
        E820Entry *e = &g_array_index(e820, E820Entry, i);
        uint8_t *p = bp + 0x2d0 + i * 20;
        stq_le_p(p, e->addr);
        stq_le_p(p + 8, e->len);
        stl_le_p(p + 16, e->type);
    }
    if (acpi_rsdp) {
        stq_le_p(bp + 0x70, acpi_rsdp);                 /* acpi_rsdp_addr (2.14+) */
    }
    set_flat32_state(m, load_addr);
    CPUX86State *env = &cpus[0]->env;
    env->regs[R_ESI] = BOOT_PARAMS_ADDR;
    return true;
}

bool x86_load_kernel(Machine *m, uint64_t acpi_rsdp, Error **errp)
{
    size_t len;
    g_autofree uint8_t *k = read_file(m->kernel_filename, &len, "kernel", errp);
    if (!k) {
        return false;
    }
    if (len >= 0x206 && lduw_le_p(k + 0x1fe) == 0xaa55 && !memcmp(k + 0x202, "HdrS", 4)) {
        return x86_load_linux(m, k, len, acpi_rsdp, errp);
    }
    if (find_multiboot_header(k, len)) {
        return x86_load_multiboot(m, k, len, errp);
    }
    error_setg(errp, "qemu: invalid kernel header");
    return false;
}
