/*
 * IDE channel core: the task-file registers (command block 0x1f0-0x1f7,
 * control block 0x3f6), device selection, soft reset, the interrupt line,
 * PIO data phases and the ATA command set of ide-hd (IDENTIFY, READ/WRITE
 * SECTORS/MULTIPLE/DMA in 28- and 48-bit forms, FLUSH CACHE, SET FEATURES,
 * power management, ...). ATAPI packets are in atapi.c, bus-master DMA in
 * dma.c. Block I/O is asynchronous (blk_aio_*): the unit shows BSY until
 * the completion runs in the main loop; failed requests follow the drive's
 * rerror/werror policy (report, ignore, or stop the VM and retry on resume).
 * Spec: ATA/ATAPI-6 (T13/1410D), register behaviour as QEMU 7.2 shows it.
 * Locking: BQL for every entry point.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "hw/ide/ide-internal.h"
#include "system/runstate.h"
#include "util/cutils.h"

/* ---- interrupts ---- */

static void ide_update_irq(IDEBus *bus)
{
    irq_set(&bus->irq, bus->irq_pending && !(bus->devctl & CTL_NIEN));
}

void ide_set_irq(IDEBus *bus)
{
    if (!(bus->devctl & CTL_NIEN)) {
        bus->bm.status |= BM_ST_INT;
    }
    bus->irq_pending = true;
    ide_update_irq(bus);
}

static void ide_clear_irq(IDEBus *bus)
{
    bus->irq_pending = false;
    ide_update_irq(bus);
}

/* ---- block requests ---- */

void ide_req_free(IDERequest *r)
{
    if (!r) {
        return;
    }
    qemu_iovec_destroy(&r->qiov);
    g_free(r->buf);
    if (r->bounce_segs) {
        g_array_free(r->bounce_segs, TRUE);
    }
    g_free(r);
}

IDERequest *ide_req_new(IDEState *s, int type, int64_t offset,
                        void (*done)(IDEState *s, IDERequest *r, int ret))
{
    IDERequest *r = g_new0(IDERequest, 1);
    r->s = s;
    r->type = type;
    r->offset = offset;
    r->done = done;
    qemu_iovec_init(&r->qiov, 4);
    return r;
}

static void ide_req_cb(void *opaque, int ret)
{
    IDERequest *r = opaque;
    IDEState *s = r->s;
    if (r->gen != s->gen || s->req != r) {
        if (r->stale_dma_read && --s->stale_dma_reads == 0 && s->reset_waiting) {
            s->reset_waiting = false;
            s->status = s->status_after_reset;
        }
        ide_req_free(r);             /* cancelled by a reset */
        return;
    }
    s->req = NULL;
    r->done(s, r, ret);
}

void ide_req_submit(IDEState *s, IDERequest *r)
{
    r->gen = s->gen;
    s->req = r;
    if (!r->is_dma) {
        s->status |= ST_BSY;             /* DMA shows DRQ, not BSY (as QEMU) */
    }
    switch (r->type) {
    case REQ_READ:
        blk_aio_preadv(s->blk, r->offset, &r->qiov, ide_req_cb, r);
        break;
    case REQ_WRITE:
        blk_aio_pwritev(s->blk, r->offset, &r->qiov, ide_req_cb, r);
        break;
    case REQ_DISCARD:
        blk_aio_pdiscard(s->blk, r->offset, r->bytes, ide_req_cb, r);
        break;
    default:
        blk_aio_flush(s->blk, ide_req_cb, r);
        break;
    }
}

/* Apply the error policy to a finished request. True: carry on as if it
 * succeeded (no error, or IGNORE). False: the caller reports the error,
 * unless the request was kept for a retry (s->retry == r, VM stopping). */
bool ide_handle_error(IDEState *s, IDERequest *r, int ret, bool is_read)
{
    if (ret >= 0) {
        return true;
    }
    BlockErrorAction action = blk_get_error_action(s->blk, is_read, -ret);
    if (action == BLOCK_ERROR_ACTION_STOP) {
        s->retry = r;
    }
    blk_error_action(s->blk, action, is_read, -ret);
    return action == BLOCK_ERROR_ACTION_IGNORE;
}

/* The VM runs again after a werror/rerror=stop: resubmit kept requests. */
void ide_vm_state_change(void *opaque, bool running)
{
    IDEBus *buses = opaque;
    if (!running) {
        return;
    }
    for (int b = 0; b < 2; b++) {
        for (int u = 0; u < 2; u++) {
            IDEState *s = &buses[b].ifs[u];
            IDERequest *r = s->retry;
            if (r) {
                s->retry = NULL;
                ide_req_submit(s, r);
            }
        }
    }
}

/* ---- PIO data phase ---- */

void ide_transfer_start(IDEState *s, uint8_t *buf, bool owned, uint32_t len, bool out,
                        void (*end)(IDEState *s))
{
    if (s->pio_owned && s->pio_buf != buf) {
        g_free(s->pio_buf);
    }
    s->pio_buf = buf;
    s->pio_owned = owned;
    s->pio_pos = 0;
    s->pio_end = len;
    s->pio_out = out;
    s->end_xfer = end;
    if (!(s->status & ST_ERR)) {
        s->status |= ST_DRQ;
    }
}

void ide_transfer_stop(IDEState *s)
{
    if (s->pio_owned) {
        g_free(s->pio_buf);
    }
    s->pio_buf = NULL;
    s->pio_owned = false;
    s->pio_pos = s->pio_end = 0;
    s->end_xfer = NULL;
    s->status &= ~ST_DRQ;
}

void ide_abort(IDEState *s)
{
    ide_transfer_stop(s);
    s->status = ST_DRDY | ST_ERR;
    s->error = ERR_ABRT;
}

static void ide_data_done(IDEState *s)
{
    void (*end)(IDEState *s) = s->end_xfer;
    s->status &= ~ST_DRQ;
    s->end_xfer = NULL;
    if (end) {
        end(s);
    } else {
        ide_transfer_stop(s);
    }
}

static uint32_t ide_data_read(IDEBus *bus, unsigned size)
{
    IDEState *s = &bus->ifs[bus->cur];
    if (!s->dev || !(s->status & ST_DRQ) || !s->pio_out || !s->pio_buf ||
        s->pio_pos + size > s->pio_end) {
        return 0;
    }
    uint32_t v = size == 4 ? ldl_le_p(s->pio_buf + s->pio_pos) : lduw_le_p(s->pio_buf + s->pio_pos);
    s->pio_pos += size;
    if (s->pio_pos >= s->pio_end) {
        ide_data_done(s);
    }
    return v;
}

static void ide_data_write(IDEBus *bus, uint32_t val, unsigned size)
{
    IDEState *s = &bus->ifs[bus->cur];
    if (!s->dev || !(s->status & ST_DRQ) || s->pio_out || !s->pio_buf ||
        s->pio_pos + size > s->pio_end) {
        return;
    }
    if (size == 4) {
        stl_le_p(s->pio_buf + s->pio_pos, val);
    } else {
        stw_le_p(s->pio_buf + s->pio_pos, val);
    }
    s->pio_pos += size;
    if (s->pio_pos >= s->pio_end) {
        ide_data_done(s);
    }
}

/* ---- addressing ---- */

static int64_t ide_get_sector(IDEState *s)
{
    if (s->select & 0x40) {
        if (!s->lba48) {
            return ((int64_t)(s->select & 0x0f) << 24) | (s->hcyl << 16) | (s->lcyl << 8) | s->sector;
        }
        return ((int64_t)s->hob_hcyl << 40) | ((int64_t)s->hob_lcyl << 32) |
               ((int64_t)s->hob_sector << 24) | ((int64_t)s->hcyl << 16) |
               ((int64_t)s->lcyl << 8) | s->sector;
    }
    if (!s->heads || !s->secs || !s->sector) {
        return -1;
    }
    return (int64_t)((s->hcyl << 8) | s->lcyl) * s->heads * s->secs +
           (int64_t)(s->select & 0x0f) * s->secs + (s->sector - 1);
}

static void ide_set_sector(IDEState *s, int64_t n)
{
    if (s->select & 0x40) {
        if (!s->lba48) {
            s->select = (s->select & 0xf0) | ((n >> 24) & 0x0f);
        } else {
            s->hob_sector = n >> 24;
            s->hob_lcyl = n >> 32;
            s->hob_hcyl = n >> 40;
        }
        s->sector = n;
        s->lcyl = n >> 8;
        s->hcyl = n >> 16;
    } else if (s->heads && s->secs) {
        uint64_t cyl = n / (s->heads * s->secs);
        uint64_t r = n % (s->heads * s->secs);
        s->hcyl = cyl >> 8;
        s->lcyl = cyl;
        s->select = (s->select & 0xf0) | ((r / s->secs) & 0x0f);
        s->sector = r % s->secs + 1;
    }
}

static uint32_t ide_get_count(IDEState *s)
{
    if (!s->lba48) {
        return s->nsector ? s->nsector : 256;
    }
    uint32_t n = (s->hob_nsector << 8) | s->nsector;
    return n ? n : 65536;
}

static bool ide_range_ok(IDEState *s, int64_t sector, uint32_t count)
{
    return sector >= 0 && (uint64_t)sector <= s->nb_sectors &&
           count <= s->nb_sectors - (uint64_t)sector;
}

/* ---- IDENTIFY DEVICE ---- */

/* ATA strings: two characters per word, first one in the high byte. */
static void put_ata_string(uint16_t *w, const char *str, int len)
{
    char *p = (char *)w;
    for (int i = 0; i < len; i++) {
        char c = *str ? *str++ : ' ';
        p[i ^ 1] = c;
    }
}

static void ide_identify_ata(IDEState *s)
{
    uint16_t *p = s->identify;
    IDEDevice *d = s->dev;
    memset(p, 0, 512);
    uint64_t lba28 = MIN(s->nb_sectors, 0x0fffffffull);
    uint32_t chs = s->cyls * s->heads * s->secs;
    p[0] = 0x0040;                              /* fixed device */
    p[1] = s->cyls;
    p[3] = s->heads;
    p[4] = 512 * s->secs;
    p[5] = 512;
    p[6] = s->secs;
    put_ata_string(p + 10, s->serial, 20);
    p[20] = 3;
    p[21] = 512;
    p[22] = 4;
    put_ata_string(p + 23, s->version, 8);
    put_ata_string(p + 27, s->model, 40);
    p[47] = 0x8000 | IDE_MAX_MULT;
    p[48] = 1;
    p[49] = (1 << 11) | (1 << 9) | (1 << 8);    /* IORDY, LBA, DMA */
    p[51] = 0x200;
    p[52] = 0x200;
    p[53] = 7;                                  /* words 54-58, 64-70, 88 valid */
    p[54] = s->cyls;
    p[55] = s->heads;
    p[56] = s->secs;
    p[57] = chs;
    p[58] = chs >> 16;
    if (s->mult_sectors) {
        p[59] = 0x100 | s->mult_sectors;
    }
    p[60] = lba28;
    p[61] = lba28 >> 16;
    p[62] = 0x07;                               /* single word DMA 0-2 */
    p[63] = 0x07;                               /* multiword DMA 0-2 */
    p[64] = 0x03;                               /* PIO 3-4 */
    p[65] = p[66] = p[67] = p[68] = 120;
    if (s->discard) {
        p[69] = 1 << 14;                        /* deterministic read after TRIM */
    }
    p[80] = 0xf0;                               /* ATA-4 .. ATA-7 */
    p[81] = 0x16;
    p[82] = (1 << 14) | (1 << 5) | 1;           /* NOP, write cache, SMART */
    p[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10);   /* FLUSH EXT, FLUSH, LBA48 */
    p[84] = (1 << 14) | (s->wwn ? 1 << 8 : 0);
    p[85] = (1 << 14) | 1 | (blk_enable_write_cache(s->blk) ? 1 << 5 : 0);
    p[86] = (1 << 13) | (1 << 12) | (1 << 10);
    p[87] = (1 << 14) | (s->wwn ? 1 << 8 : 0);
    p[88] = 0x3f | (1 << 13);                   /* UDMA 0-5, UDMA 5 selected */
    p[93] = 1 | (1 << 14) | 0x2000;
    p[100] = s->nb_sectors;
    p[101] = s->nb_sectors >> 16;
    p[102] = s->nb_sectors >> 32;
    p[103] = s->nb_sectors >> 48;
    if (d) {
        unsigned exp = 0;
        uint64_t lbs = d->logical_block_size ? d->logical_block_size : 512;
        uint64_t pbs = d->physical_block_size ? d->physical_block_size : 512;
        while ((lbs << (exp + 1)) <= pbs) {
            exp++;
        }
        p[106] = 0x6000 | exp;                  /* physical sector = 2^exp logical */
    }
    if (s->wwn) {
        p[108] = s->wwn >> 48;
        p[109] = s->wwn >> 32;
        p[110] = s->wwn >> 16;
        p[111] = s->wwn;
    }
    if (s->discard) {
        p[169] = 1;                             /* DATA SET MANAGEMENT (TRIM) */
    }
}

void ide_identify_update_wce(IDEState *s)
{
    if (s->blk && !s->is_cd) {
        s->identify[85] = (1 << 14) | 1 | (blk_enable_write_cache(s->blk) ? 1 << 5 : 0);
    }
}

static void ide_send_identify(IDEState *s)
{
    uint8_t *buf = g_malloc(512);
    for (int i = 0; i < 256; i++) {
        stw_le_p(buf + 2 * i, s->identify[i]);
    }
    s->status = ST_READY;
    ide_transfer_start(s, buf, true, 512, true, NULL);
    ide_set_irq(s->bus);
}

/* ---- signature and reset ---- */

static void ide_set_signature(IDEState *s)
{
    s->select &= 0xf0;
    s->nsector = 1;
    s->sector = 1;
    if (s->is_cd) {
        s->lcyl = 0x14;
        s->hcyl = 0xeb;
    } else if (s->dev) {
        s->lcyl = s->hcyl = 0;
    } else {
        s->lcyl = s->hcyl = 0xff;
    }
}

/* Cancel whatever the unit was doing (a request still in flight frees
 * itself when it completes). */
static void ide_unit_cancel(IDEState *s)
{
    if (s->req && s->req->is_dma && s->req->type == REQ_READ && !s->req->stale_dma_read) {
        s->req->stale_dma_read = true;
        s->stale_dma_reads++;
    }
    s->gen++;
    s->req = NULL;
    ide_req_free(s->retry);
    s->retry = NULL;
    ide_transfer_stop(s);
    g_free(s->cd_buf);
    s->cd_buf = NULL;
    s->cd_len = s->cd_pos = 0;
    s->dma = DMA_NONE;
    s->dma_running = false;
    s->remaining = 0;
}

static void ide_unit_soft_reset(IDEState *s)
{
    ide_unit_cancel(s);
    s->mult_sectors = IDE_MAX_MULT;
    s->lba48 = false;
    s->feature = s->hob_feature = s->hob_nsector = s->hob_sector = 0;
    s->hob_lcyl = s->hob_hcyl = 0;
    s->select = 0xa0;
    s->error = 0x01;
    s->status = !s->dev ? 0 : s->is_cd ? 0x00 : ST_READY;
    ide_set_signature(s);
    if (s->stale_dma_reads) {
        s->status_after_reset = s->status;
        s->reset_waiting = true;
        s->status = ST_BSY;
    }
}

void ide_bus_reset(IDEBus *bus)
{
    for (int u = 0; u < 2; u++) {
        IDEState *s = &bus->ifs[u];
        ide_unit_soft_reset(s);
        s->sense_key = s->asc = 0;
        s->tray_locked = false;
        s->ev_eject_request = false;
        /* IDENTIFY data (transfer modes set by SET FEATURES) survive a
         * reset, as in QEMU */
    }
    bus->cur = 0;
    bus->devctl = 0;
    bus->bm.cmd = 0;
    bus->bm.status &= BM_ST_DMA0_CAP | BM_ST_DMA1_CAP;
    bus->bm.prd_table = 0;
    ide_clear_irq(bus);
}

/* ---- ATA commands ---- */

static void ide_cmd_done(IDEState *s)
{
    s->status = ST_READY;
    ide_set_irq(s->bus);
}

static void ide_rw_failed(IDEState *s)
{
    ide_abort(s);
    ide_set_irq(s->bus);
}

/* PIO read: read one block (1 or mult_sectors sectors), then DRQ + IRQ. */
static void pio_read_next(IDEState *s);

static void pio_read_block_end(IDEState *s)
{
    if (s->remaining) {
        pio_read_next(s);
    } else {
        ide_transfer_stop(s);
        s->status = ST_READY;
    }
}

static void pio_read_done(IDEState *s, IDERequest *r, int ret)
{
    if (!ide_handle_error(s, r, ret, true)) {
        if (s->retry != r) {
            ide_req_free(r);
            ide_rw_failed(s);
        }
        return;
    }
    uint8_t *buf = r->buf;
    uint32_t bytes = r->bytes;
    r->buf = NULL;
    ide_req_free(r);
    s->cur_sector += s->block_count;
    s->remaining -= s->block_count;
    ide_set_sector(s, s->cur_sector);
    s->status = ST_READY;
    ide_transfer_start(s, buf, true, bytes, true, pio_read_block_end);
    ide_set_irq(s->bus);
}

static void pio_read_next(IDEState *s)
{
    uint32_t n = MIN(s->remaining, s->block_count ? s->block_count : 1);
    s->block_count = n;
    IDERequest *r = ide_req_new(s, REQ_READ, s->cur_sector * IDE_SECTOR_SIZE, pio_read_done);
    r->bytes = n * IDE_SECTOR_SIZE;
    r->buf = g_malloc(r->bytes);
    qemu_iovec_add(&r->qiov, r->buf, r->bytes);
    s->status = ST_READY | ST_BSY;
    ide_req_submit(s, r);
}

/* PIO write: DRQ for a block, write it when the host filled it. */
static void pio_write_block_end(IDEState *s);

static void pio_write_start_block(IDEState *s)
{
    s->block_count = MIN(s->remaining, s->block_count);
    uint32_t bytes = s->block_count * IDE_SECTOR_SIZE;
    s->status = ST_READY;
    ide_transfer_start(s, g_malloc0(bytes), true, bytes, false, pio_write_block_end);
}

static void pio_write_done(IDEState *s, IDERequest *r, int ret)
{
    if (!ide_handle_error(s, r, ret, false)) {
        if (s->retry != r) {
            ide_req_free(r);
            ide_rw_failed(s);
        }
        return;
    }
    ide_req_free(r);
    s->cur_sector += s->block_count;
    s->remaining -= s->block_count;
    ide_set_sector(s, s->cur_sector);
    if (s->remaining) {
        pio_write_start_block(s);
    } else {
        s->status = ST_READY;
    }
    ide_set_irq(s->bus);
}

static void pio_write_block_end(IDEState *s)
{
    IDERequest *r = ide_req_new(s, REQ_WRITE, s->cur_sector * IDE_SECTOR_SIZE, pio_write_done);
    r->bytes = s->pio_end;
    r->buf = s->pio_buf;                 /* the request takes the buffer */
    s->pio_buf = NULL;
    s->pio_owned = false;
    ide_transfer_stop(s);
    qemu_iovec_add(&r->qiov, r->buf, r->bytes);
    s->status = ST_READY | ST_BSY;
    ide_req_submit(s, r);
}

static void cmd_rw(IDEState *s, bool write, bool dma, unsigned mult)
{
    if (s->is_cd) {
        if (!write && !dma) {
            ide_set_signature(s);        /* ATA-4 8.27.5.2 */
        }
        ide_rw_failed(s);
        return;
    }
    int64_t sector = ide_get_sector(s);
    uint32_t count = ide_get_count(s);
    if (!ide_range_ok(s, sector, count)) {
        ide_rw_failed(s);
        return;
    }
    s->cur_sector = sector;
    s->remaining = count;
    if (dma) {
        ide_dma_start(s, write ? DMA_ATA_WRITE : DMA_ATA_READ);
        return;
    }
    s->block_count = mult;
    if (write) {
        pio_write_start_block(s);
    } else {
        pio_read_next(s);
    }
}

static void cmd_multiple(IDEState *s, bool write)
{
    if (!s->mult_sectors) {
        ide_rw_failed(s);
        return;
    }
    cmd_rw(s, write, false, s->mult_sectors);
}

static void verify_done(IDEState *s, IDERequest *r, int ret)
{
    bool ok = ide_handle_error(s, r, ret, true);
    if (!ok && s->retry == r) {
        return;
    }
    ide_req_free(r);
    if (ok) {
        ide_set_sector(s, s->cur_sector + s->remaining - 1);
        ide_cmd_done(s);
    } else {
        ide_rw_failed(s);
    }
}

static void cmd_verify(IDEState *s)
{
    int64_t sector = ide_get_sector(s);
    uint32_t count = ide_get_count(s);
    if (s->is_cd || !ide_range_ok(s, sector, count)) {
        ide_rw_failed(s);
        return;
    }
    s->cur_sector = sector;
    s->remaining = count;
    /* read the range back, as a drive would, so media errors show */
    IDERequest *r = ide_req_new(s, REQ_READ, sector * IDE_SECTOR_SIZE, verify_done);
    r->bytes = (size_t)count * IDE_SECTOR_SIZE;
    r->buf = g_malloc(r->bytes);
    qemu_iovec_add(&r->qiov, r->buf, r->bytes);
    s->status = ST_READY | ST_BSY;
    ide_req_submit(s, r);
}

static void flush_done(IDEState *s, IDERequest *r, int ret)
{
    bool ok = ide_handle_error(s, r, ret, false);
    if (!ok && s->retry == r) {
        return;
    }
    ide_req_free(r);
    if (ok) {
        ide_cmd_done(s);
    } else {
        ide_rw_failed(s);
    }
}

static void cmd_flush(IDEState *s)
{
    if (!s->blk || !blk_is_inserted(s->blk)) {
        ide_cmd_done(s);
        return;
    }
    s->status = ST_READY | ST_BSY;
    ide_req_submit(s, ide_req_new(s, REQ_FLUSH, 0, flush_done));
}

static void cmd_set_features(IDEState *s)
{
    uint16_t *p = s->identify;
    switch (s->feature) {
    case 0x02:                                  /* write cache on */
    case 0x82:                                  /* write cache off */
        if (!s->blk || s->is_cd) {
            break;
        }
        blk_set_enable_write_cache(s->blk, s->feature == 0x02);
        ide_identify_update_wce(s);
        ide_cmd_done(s);
        return;
    case 0x03: {                                /* transfer mode */
        unsigned mode = s->nsector & 7;
        switch (s->nsector >> 3) {
        case 0x00: case 0x01:                   /* PIO */
            p[62] = 0x07; p[63] = 0x07; p[88] = 0x3f;
            break;
        case 0x02:                              /* single word DMA */
            p[62] = 0x07 | (1 << (mode + 8)); p[63] = 0x07; p[88] = 0x3f;
            break;
        case 0x04:                              /* multiword DMA */
            p[62] = 0x07; p[63] = 0x07 | (1 << (mode + 8)); p[88] = 0x3f;
            break;
        case 0x08:                              /* Ultra DMA */
            p[62] = 0x07; p[63] = 0x07; p[88] = 0x3f | (1 << (mode + 8));
            break;
        default:
            ide_rw_failed(s);
            return;
        }
        ide_cmd_done(s);
        return;
    }
    case 0x42: case 0xc2: case 0x05: case 0x85: case 0x31: case 0x66: case 0xcc:
    case 0x55: case 0xaa: case 0x69: case 0x67: case 0x96: case 0x9a:
        ide_cmd_done(s);                        /* accepted, nothing to do */
        return;
    }
    ide_rw_failed(s);
}

static void ata_command(IDEState *s, uint8_t cmd)
{
    IDEBus *bus = s->bus;
    s->lba48 = false;
    s->error = 0;
    switch (cmd) {
    case 0xec:                                  /* IDENTIFY DEVICE */
        if (s->is_cd) {
            ide_set_signature(s);
            ide_rw_failed(s);
        } else {
            ide_send_identify(s);
        }
        return;
    case 0xa1:                                  /* IDENTIFY PACKET DEVICE */
        if (!s->is_cd) {
            ide_rw_failed(s);
            return;
        }
        ide_send_identify(s);
        return;
    case 0xa0:                                  /* PACKET */
        if (!s->is_cd) {
            ide_rw_failed(s);
            return;
        }
        atapi_start_packet(s);
        return;
    case 0x08:                                  /* DEVICE RESET */
        if (!s->is_cd) {
            ide_rw_failed(s);
            return;
        }
        ide_unit_soft_reset(s);
        s->status = 0;
        return;                                 /* no interrupt */
    case 0x90:                                  /* EXECUTE DEVICE DIAGNOSTIC */
        ide_set_signature(s);
        s->status = s->is_cd ? 0 : ST_READY;
        s->error = 0x01;
        ide_set_irq(bus);
        return;
    }
    if (s->is_cd) {
        switch (cmd) {
        case 0xef:                              /* SET FEATURES */
            cmd_set_features(s);
            return;
        case 0xe5: case 0x98:                   /* CHECK POWER MODE */
            s->nsector = 0xff;
            ide_cmd_done(s);
            return;
        case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0x94: case 0x95: case 0x96: case 0x97:
            ide_cmd_done(s);
            return;
        case 0x20: case 0x21:
            cmd_rw(s, false, false, 1);         /* aborts with the signature */
            return;
        }
        ide_rw_failed(s);
        return;
    }

    switch (cmd) {
    case 0x20: case 0x21:                       /* READ SECTORS */
        cmd_rw(s, false, false, 1);
        return;
    case 0x24:                                  /* READ SECTORS EXT */
        s->lba48 = true;
        cmd_rw(s, false, false, 1);
        return;
    case 0x30: case 0x31:                       /* WRITE SECTORS */
        cmd_rw(s, true, false, 1);
        return;
    case 0x34:                                  /* WRITE SECTORS EXT */
        s->lba48 = true;
        cmd_rw(s, true, false, 1);
        return;
    case 0xc4:                                  /* READ MULTIPLE */
        cmd_multiple(s, false);
        return;
    case 0x29:                                  /* READ MULTIPLE EXT */
        s->lba48 = true;
        cmd_multiple(s, false);
        return;
    case 0xc5:                                  /* WRITE MULTIPLE */
        cmd_multiple(s, true);
        return;
    case 0x39:                                  /* WRITE MULTIPLE EXT */
        s->lba48 = true;
        cmd_multiple(s, true);
        return;
    case 0xc8: case 0xc9:                       /* READ DMA */
        cmd_rw(s, false, true, 0);
        return;
    case 0x25:                                  /* READ DMA EXT */
        s->lba48 = true;
        cmd_rw(s, false, true, 0);
        return;
    case 0xca: case 0xcb:                       /* WRITE DMA */
        cmd_rw(s, true, true, 0);
        return;
    case 0x35:                                  /* WRITE DMA EXT */
        s->lba48 = true;
        cmd_rw(s, true, true, 0);
        return;
    case 0x06:                                  /* DATA SET MANAGEMENT */
        s->lba48 = true;
        if (!s->discard || s->feature != 0x01) {   /* only TRIM */
            ide_rw_failed(s);
            return;
        }
        s->remaining = ide_get_count(s);
        ide_dma_start(s, DMA_ATA_TRIM);
        return;
    case 0x40: case 0x41:                       /* READ VERIFY SECTORS */
        cmd_verify(s);
        return;
    case 0x42:                                  /* READ VERIFY SECTORS EXT */
        s->lba48 = true;
        cmd_verify(s);
        return;
    case 0xc6:                                  /* SET MULTIPLE MODE */
        if (s->nsector > IDE_MAX_MULT || (s->nsector & (s->nsector - 1))) {
            ide_rw_failed(s);
            return;
        }
        s->mult_sectors = s->nsector;           /* word 59 keeps its first value, as QEMU */
        ide_cmd_done(s);
        return;
    case 0xe7:                                  /* FLUSH CACHE */
    case 0xea:                                  /* FLUSH CACHE EXT */
        cmd_flush(s);
        return;
    case 0xef:
        cmd_set_features(s);
        return;
    case 0x91:                                  /* INITIALIZE DEVICE PARAMETERS */
        if (!s->nsector) {
            ide_rw_failed(s);
            return;
        }
        s->heads = (s->select & 0x0f) + 1;
        s->secs = s->nsector;
        ide_cmd_done(s);
        return;
    case 0x10 ... 0x1f:                         /* RECALIBRATE */
    case 0x70:                                  /* SEEK */
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: /* STANDBY/IDLE (IMMEDIATE) */
    case 0x94: case 0x95: case 0x96: case 0x97:
    case 0xe6: case 0x99:                       /* SLEEP */
        ide_cmd_done(s);
        return;
    case 0xe5: case 0x98:                       /* CHECK POWER MODE */
        s->nsector = 0xff;                      /* active or idle */
        ide_cmd_done(s);
        return;
    case 0xf8:                                  /* READ NATIVE MAX ADDRESS */
    case 0x27:                                  /* ... EXT */
        s->lba48 = cmd == 0x27;
        if (!(s->select & 0x40)) {
            ide_rw_failed(s);
            return;
        }
        ide_set_sector(s, s->nb_sectors - 1);
        ide_cmd_done(s);
        return;
    }
    ide_rw_failed(s);                           /* NOP and everything unknown */
}

static void ide_exec_cmd(IDEBus *bus, uint8_t cmd)
{
    IDEState *s = &bus->ifs[bus->cur];
    if (!s->dev) {
        return;                                 /* nobody answers */
    }
    /* While busy or transferring only DEVICE RESET (ATAPI) is accepted. */
    if (s->status & (ST_BSY | ST_DRQ)) {
        if (cmd != 0x08 || !s->is_cd) {
            return;
        }
    }
    ide_clear_irq(bus);
    ata_command(s, cmd);
}

/* ---- register file ---- */

static uint8_t ide_reg_read(IDEBus *bus, unsigned reg)
{
    IDEState *s = &bus->ifs[bus->cur];
    bool hob = bus->devctl & CTL_HOB;
    bool none = !bus->ifs[0].dev && !bus->ifs[1].dev;
    if (reg != 6 && (none || !s->dev)) {
        if (reg == 7) {
            ide_clear_irq(bus);
        }
        return 0;
    }
    switch (reg) {
    case 1: return hob ? s->hob_feature : s->error;
    case 2: return hob ? s->hob_nsector : s->nsector;
    case 3: return hob ? s->hob_sector : s->sector;
    case 4: return hob ? s->hob_lcyl : s->lcyl;
    case 5: return hob ? s->hob_hcyl : s->hcyl;
    case 6: return none ? 0 : s->select;
    case 7:
        ide_clear_irq(bus);
        return s->status;
    }
    return 0xff;
}

static void ide_reg_write(IDEBus *bus, unsigned reg, uint8_t val)
{
    if (reg != 7) {
        bus->devctl &= ~CTL_HOB;
    }
    for (int u = 0; u < 2; u++) {
        IDEState *s = &bus->ifs[u];
        switch (reg) {
        case 1: s->hob_feature = s->feature; s->feature = val; break;
        case 2: s->hob_nsector = s->nsector; s->nsector = val; break;
        case 3: s->hob_sector = s->sector; s->sector = val; break;
        case 4: s->hob_lcyl = s->lcyl; s->lcyl = val; break;
        case 5: s->hob_hcyl = s->hcyl; s->hcyl = val; break;
        case 6: s->select = (val & ~0x10) | 0xa0 | (u ? 0x10 : 0); break;
        }
    }
    if (reg == 6) {
        bus->cur = (val >> 4) & 1;
    } else if (reg == 7) {
        ide_exec_cmd(bus, val);
    }
}

uint64_t ide_cmd_read(void *opaque, uint64_t off, unsigned size)
{
    IDEBus *bus = opaque;
    if (off == 0 && size >= 2) {
        return ide_data_read(bus, size);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++) {
        v |= (uint64_t)(off + i == 0 ? 0xff : ide_reg_read(bus, off + i)) << (8 * i);
    }
    return v;
}

void ide_cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IDEBus *bus = opaque;
    if (off == 0 && size >= 2) {
        ide_data_write(bus, val, size);
        return;
    }
    for (unsigned i = 0; i < size && off + i < 8; i++) {
        if (off + i) {
            ide_reg_write(bus, off + i, val >> (8 * i));
        }
    }
}

/* Alternate status: the status without clearing the interrupt. */
uint64_t ide_ctl_read(void *opaque, uint64_t off, unsigned size)
{
    IDEBus *bus = opaque;
    IDEState *s = &bus->ifs[bus->cur];
    if ((!bus->ifs[0].dev && !bus->ifs[1].dev) || !s->dev) {
        return 0;
    }
    return s->status;
}

void ide_ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IDEBus *bus = opaque;
    uint8_t old = bus->devctl;
    if (!(old & CTL_SRST) && (val & CTL_SRST)) {
        for (int u = 0; u < 2; u++) {          /* reset asserted: both units busy */
            IDEState *s = &bus->ifs[u];
            ide_unit_cancel(s);
            s->reset_waiting = false;
            if (s->dev) {
                s->status = ST_BSY | ST_DSC;
                s->error = 0x01;
            }
        }
    } else if ((old & CTL_SRST) && !(val & CTL_SRST)) {
        for (int u = 0; u < 2; u++) {
            ide_unit_soft_reset(&bus->ifs[u]);
        }
        bus->cur = 0;
    }
    bus->devctl = val;
    ide_update_irq(bus);
}

/* ---- units ---- */

void ide_unit_attach(IDEState *s, IDEDevice *dev, bool is_cd)
{
    s->dev = dev;
    s->blk = dev->blk;
    s->is_cd = is_cd;
    dev->s = s;
    if (!is_cd) {
        int64_t len = blk_getlength(s->blk);
        s->nb_sectors = len > 0 ? (uint64_t)len / IDE_SECTOR_SIZE : 0;
        if (dev->cyls) {
            s->cyls = dev->cyls;
            s->heads = dev->heads;
            s->secs = dev->secs;
        } else {
            uint64_t c = s->nb_sectors / (16 * 63);
            s->cyls = c > 16383 ? 16383 : c < 2 ? 2 : c;
            s->heads = 16;
            s->secs = 63;
        }
        s->mult_sectors = IDE_MAX_MULT;
        ide_identify_ata(s);
    } else {
        s->tray_open = false;
        s->cyls = s->heads = s->secs = 0;
        atapi_identify(s);
    }
    s->bus->bm.status |= s->unit ? BM_ST_DMA1_CAP : BM_ST_DMA0_CAP;
    ide_unit_soft_reset(s);
}

void ide_bus_init(IDEBus *bus, PCIDevice *pci, int channel)
{
    bus->pci = pci;
    for (int u = 0; u < 2; u++) {
        IDEState *s = &bus->ifs[u];
        s->bus = bus;
        s->unit = u;
        /* QEMU numbers every unit of the controller: QM00001 .. QM00004 */
        snprintf(s->serial, sizeof(s->serial), "QM%05d", channel * 2 + u + 1);
        strcpy(s->version, "2.5+");
    }
}
