/*
 * IDE bus-master DMA (SFF-8038i, as in the PIIX3): per channel a command
 * register (start/stop, direction), a status register (active, error,
 * interrupt, drive DMA capable bits) and the address of a table of
 * Physical Region Descriptors (32-bit address, 16-bit byte count with
 * 0 = 64 KiB, bit 31 = end of table). A DMA command moves data in rounds:
 * the PRD regions of a round are mapped straight into guest RAM (as_map)
 * and handed to the block layer as one vector. Guest mistakes are bounded:
 * a table is read for at most 4 KiB (512 descriptors, as QEMU), a region
 * that is not RAM fails the command with the error bit, and a table that
 * ends before the transfer does ends the command without an interrupt.
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
    uint8_t e[8];
    if (pci_dma_rw(bus->pci, c->next, e, 8, false) < 0) {
        return false;                   /* bus mastering off, or not memory */
    }
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

static void dma_end(IDEState *s)
{
    s->dma = DMA_NONE;
    s->dma_running = false;
    s->bus->bm.status &= ~BM_ST_ACTIVE;
}

static void dma_finish(IDEState *s)
{
    dma_end(s);
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

static void dma_run(IDEState *s)
{
    IDEBus *bus = s->bus;
    if (s->dma == DMA_CD_REPLY) {
        dma_reply(s);
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
        ide_req_free(r);
        dma_error(s);
        return;
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
