/*
 * IDE bus-master DMA (SFF-8038i, as in the PIIX3): per channel a command
 * register (start/stop, direction), a status register (active, error,
 * interrupt, drive DMA capable bits) and the address of a table of
 * Physical Region Descriptors (32-bit address, 16-bit byte count with
 * 0 = 64 KiB, bit 31 = end of table). A DMA command moves data in rounds:
 * the PRD regions of a round are mapped straight into guest RAM (as_map)
 * and handed to the block layer as one vector; a round that touches
 * anything else (MMIO, unassigned space) goes through a bounce buffer and
 * pci_dma_rw, as QEMU's does. Guest mistakes are bounded: a table is read
 * for at most 4 KiB (512 descriptors, as QEMU), descriptors in unassigned
 * space read as all ones, and a table that ends before the transfer ends
 * the command without an interrupt.
 * Locking: BQL.
 */
#include <string.h>
#include "hw/ide/ide-internal.h"
#include "util/cutils.h"

#define PRD_TABLE_MAX   4096            /* bytes of descriptors read per command */
#define DMA_ROUND_MAX   (2 * 1024 * 1024)
#define DMA_ROUND_IOVS  512

static bool prd_fetch(IDEBus *bus, PRDCursor *c)
{
    if (c->last || c->count >= PRD_TABLE_MAX / 8) {
        return false;
    }
    if (!(pci_get_word(bus->pci->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return false;
    }
    uint8_t e[8];
    pci_dma_rw(bus->pci, c->next, e, 8, false);     /* unassigned: all ones */
    uint32_t count = lduw_le_p(e + 4) & 0xfffe;
    c->addr = ldl_le_p(e) & ~1u;
    c->left = count ? count : 0x10000;
    c->last = e[7] & 0x80;
    c->next += 8;
    c->count++;
    return true;
}

/* Map up to 'max' bytes of the regions at *c into qiov. Returns the bytes
 * mapped (less when the table ends), or -1 when a region is not RAM. */
static int64_t prd_map(IDEBus *bus, PRDCursor *c, QEMUIOVector *qiov, uint64_t max, bool to_mem)
{
    uint64_t total = 0;
    while (total < max && qiov->niov < DMA_ROUND_IOVS) {
        if (!c->left && !prd_fetch(bus, c)) {
            break;
        }
        uint64_t len = MIN((uint64_t)c->left, max - total);
        void *p = as_map(&as_memory, c->addr, &len, to_mem);
        if (!p || !len) {
            return -1;
        }
        qemu_iovec_add(qiov, p, len);
        c->addr += len;
        c->left -= len;
        total += len;
    }
    return total;
}

/* Like prd_map, for the bounce path: collect the regions, map nothing. */
static uint64_t prd_collect(IDEBus *bus, PRDCursor *c, GArray *segs, uint64_t max)
{
    uint64_t total = 0;
    while (total < max) {
        if (!c->left && !prd_fetch(bus, c)) {
            break;
        }
        DMASeg seg = { c->addr, (uint32_t)MIN((uint64_t)c->left, max - total) };
        g_array_append_val(segs, seg);
        c->addr += seg.len;
        c->left -= seg.len;
        total += seg.len;
    }
    return total;
}

/* Copy between the bounce buffer and the guest regions. */
static void bounce_copy(IDEBus *bus, IDERequest *r, bool to_mem)
{
    size_t off = 0;
    for (guint i = 0; i < r->bounce_segs->len; i++) {
        DMASeg *seg = &g_array_index(r->bounce_segs, DMASeg, i);
        pci_dma_rw(bus->pci, seg->addr, r->buf + off, seg->len, to_mem);
        off += seg->len;
    }
}

static void dma_end(IDEState *s)
{
    s->dma = DMA_NONE;
    s->dma_running = false;
    s->bus->bm.status &= ~BM_ST_ACTIVE;
}

static void dma_finish(IDEState *s)
{
    bool more = s->bus->bm.cur.left > 0;
    dma_end(s);
    if (more) {
        s->bus->bm.status |= BM_ST_ACTIVE;  /* the table describes more: stays active */
    }
    if (s->is_cd) {
        atapi_dma_done(s, true);
    } else {
        s->status = ST_READY;
        ide_set_irq(s->bus);
    }
}

/* The PRD table ended before the transfer: stop, no interrupt (QEMU). */
static void dma_short(IDEState *s)
{
    dma_end(s);
    s->status = ST_READY;
}

static void dma_error(IDEState *s)
{
    dma_end(s);
    s->bus->bm.status |= BM_ST_ERROR;
    if (s->is_cd) {
        atapi_io_error(s);
    } else {
        ide_abort(s);
        ide_set_irq(s->bus);
    }
}

static void dma_run(IDEState *s);

static void dma_round_done(IDEState *s, IDERequest *r, int ret)
{
    s->dma_running = false;
    if (!ide_handle_error(s, r, ret, r->type == REQ_READ)) {
        if (s->retry != r) {
            ide_req_free(r);
            dma_error(s);
        }
        return;
    }
    unsigned secsize = s->dma == DMA_CD_READ ? CD_SECTOR_SIZE : IDE_SECTOR_SIZE;
    uint32_t n = r->bytes / secsize;
    if (r->bounce_segs && r->type == REQ_READ) {
        bounce_copy(s->bus, r, true);
    }
    ide_req_free(r);
    s->cur_sector += n;
    s->remaining -= MIN(n, s->remaining);
    if (!(s->bus->bm.cmd & BM_CMD_START)) {
        dma_end(s);                     /* the host stopped the engine */
        s->status = ST_READY;
        return;
    }
    dma_run(s);
}

/* Copy a reply (ATAPI) into the PRD regions. */
static void dma_reply(IDEState *s)
{
    IDEBus *bus = s->bus;
    PRDCursor *c = &bus->bm.cur;
    uint32_t done = 0;
    while (done < s->cd_len) {
        if (!c->left && !prd_fetch(bus, c)) {
            break;
        }
        uint32_t n = MIN(c->left, s->cd_len - done);
        pci_dma_rw(bus->pci, c->addr, s->cd_buf + done, n, true);
        c->addr += n;
        c->left -= n;
        done += n;
    }
    g_free(s->cd_buf);
    s->cd_buf = NULL;
    s->cd_len = s->cd_pos = 0;
    if (done == 0) {
        dma_short(s);
        return;
    }
    dma_finish(s);
}

/* DATA SET MANAGEMENT (TRIM): one discard per 8-byte range entry
 * (48-bit LBA, 16-bit count; count 0 = unused entry). */
static void trim_next(IDEState *s);

static void trim_done(IDEState *s, IDERequest *r, int ret)
{
    ide_req_free(r);
    if (ret < 0) {
        g_free(s->cd_buf);
        s->cd_buf = NULL;
        dma_error(s);
        return;
    }
    trim_next(s);
}

static void trim_next(IDEState *s)
{
    while (s->cd_pos + 8 <= s->cd_len) {
        uint64_t e = ldq_le_p(s->cd_buf + s->cd_pos);
        uint64_t lba = e & 0xffffffffffffull;
        uint32_t n = e >> 48;
        s->cd_pos += 8;
        if (!n) {
            continue;
        }
        if (lba > s->nb_sectors || n > s->nb_sectors - lba) {
            g_free(s->cd_buf);
            s->cd_buf = NULL;
            dma_error(s);
            return;
        }
        IDERequest *r = ide_req_new(s, REQ_DISCARD, lba * IDE_SECTOR_SIZE, trim_done);
        r->bytes = (size_t)n * IDE_SECTOR_SIZE;
        r->is_dma = true;
        ide_req_submit(s, r);
        return;
    }
    g_free(s->cd_buf);
    s->cd_buf = NULL;
    s->cd_len = s->cd_pos = 0;
    dma_finish(s);
}

static void trim_start(IDEState *s)
{
    IDEBus *bus = s->bus;
    uint64_t bytes = (uint64_t)s->remaining * IDE_SECTOR_SIZE;
    if (bytes > 64 * IDE_SECTOR_SIZE) {         /* far more ranges than any guest sends */
        dma_error(s);
        return;
    }
    GArray *segs = g_array_new(FALSE, FALSE, sizeof(DMASeg));
    PRDCursor c = bus->bm.cur;
    if (prd_collect(bus, &c, segs, bytes) < bytes) {
        g_array_free(segs, TRUE);
        dma_short(s);
        return;
    }
    bus->bm.cur = c;
    g_free(s->cd_buf);
    s->cd_buf = g_malloc(bytes);
    s->cd_len = bytes;
    s->cd_pos = 0;
    size_t off = 0;
    for (guint i = 0; i < segs->len; i++) {
        DMASeg *seg = &g_array_index(segs, DMASeg, i);
        pci_dma_rw(bus->pci, seg->addr, s->cd_buf + off, seg->len, false);
        off += seg->len;
    }
    g_array_free(segs, TRUE);
    s->remaining = 0;
    trim_next(s);
}

static void dma_run(IDEState *s)
{
    IDEBus *bus = s->bus;
    if (s->dma == DMA_CD_REPLY) {
        dma_reply(s);
        return;
    }
    if (s->dma == DMA_ATA_TRIM) {
        trim_start(s);
        return;
    }
    if (!s->remaining) {
        dma_finish(s);
        return;
    }
    bool to_mem = s->dma != DMA_ATA_WRITE;
    unsigned secsize = s->dma == DMA_CD_READ ? CD_SECTOR_SIZE : IDE_SECTOR_SIZE;
    uint64_t max = MIN((uint64_t)s->remaining * secsize, DMA_ROUND_MAX);
    IDERequest *r = ide_req_new(s, to_mem ? REQ_READ : REQ_WRITE, s->cur_sector * secsize,
                                dma_round_done);
    r->is_dma = true;
    PRDCursor c = bus->bm.cur;
    s->dma_round_start = c;
    int64_t n = prd_map(bus, &c, &r->qiov, max, to_mem);
    if (n >= 0 && n % secsize) {
        /* a partial sector at the end: map again up to the last whole one */
        n -= n % secsize;
        qemu_iovec_reset(&r->qiov);
        c = s->dma_round_start;
        if (n) {
            n = prd_map(bus, &c, &r->qiov, n, to_mem);
        }
    }
    if (n < 0) {
        /* not all RAM: collect the regions and use a bounce buffer */
        qemu_iovec_reset(&r->qiov);
        c = s->dma_round_start;
        r->bounce_segs = g_array_new(FALSE, FALSE, sizeof(DMASeg));
        n = prd_collect(bus, &c, r->bounce_segs, max);
        if (n % secsize) {
            n -= n % secsize;
            g_array_set_size(r->bounce_segs, 0);
            c = s->dma_round_start;
            if (n) {
                prd_collect(bus, &c, r->bounce_segs, n);
            }
        }
        if (n) {
            r->buf = g_malloc(n);
            qemu_iovec_add(&r->qiov, r->buf, n);
            if (!to_mem) {
                bounce_copy(bus, r, false);
            }
        }
    }
    if (n == 0) {
        ide_req_free(r);
        dma_short(s);
        return;
    }
    bus->bm.cur = c;
    r->bytes = n;
    s->dma_running = true;
    ide_req_submit(s, r);
}

void ide_dma_start(IDEState *s, IDEDMAKind kind)
{
    s->dma = kind;
    s->dma_running = false;
    s->status = ST_READY | ST_DRQ;
    if (s->bus->bm.cmd & BM_CMD_START) {
        dma_run(s);
    }
}

void bmdma_cmd_write(IDEBus *bus, uint8_t val)
{
    BMDMAState *bm = &bus->bm;
    if (!(val & BM_CMD_START)) {
        bm->status &= ~BM_ST_ACTIVE;
        bm->cmd = val & (BM_CMD_START | BM_CMD_READ);
        return;
    }
    if (bm->cmd & BM_CMD_START) {
        return;                         /* already running: nothing changes */
    }
    bm->cmd = val & (BM_CMD_START | BM_CMD_READ);
    bm->status |= BM_ST_ACTIVE;
    memset(&bm->cur, 0, sizeof(bm->cur));
    bm->cur.next = bm->prd_table;
    for (int u = 0; u < 2; u++) {
        IDEState *s = &bus->ifs[u];
        if (s->dev && s->dma != DMA_NONE && !s->dma_running) {
            dma_run(s);
            break;
        }
    }
}

void bmdma_cancel(IDEBus *bus)
{
    bus->bm.cmd = 0;
    bus->bm.status &= ~BM_ST_ACTIVE;
}
