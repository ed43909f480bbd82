/*
 * ATAPI CD-ROM (ide-cd): IDENTIFY PACKET DEVICE, the PACKET protocol
 * (12-byte command, data phases limited by the host's byte count, PIO or
 * bus-master DMA) and the MMC commands Linux's sr driver and SeaBIOS send:
 * TEST UNIT READY, REQUEST SENSE, INQUIRY, READ CAPACITY, READ(10/12),
 * READ CD (user data), SEEK, MODE SENSE(10), GET CONFIGURATION, READ TOC
 * (formats 0/1/2), GET EVENT STATUS NOTIFICATION, READ DISC INFORMATION,
 * PREVENT ALLOW MEDIUM REMOVAL, START STOP UNIT, MECHANISM STATUS and
 * SET CD SPEED. Media are 2048-byte blocks; a medium change raises UNIT
 * ATTENTION once and a "new media" event; the tray moves emit
 * DEVICE_TRAY_MOVED like QEMU.
 * Specs: ATA/ATAPI-6 §9 (packet protocol), MMC-3, SPC-3 (sense data).
 * Locking: BQL.
 */
#include <string.h>
#include "hw/ide/ide-internal.h"
#include "monitor/monitor.h"
#include "util/cutils.h"
#include "util/json.h"

#define SENSE_NONE            0x00
#define SENSE_NOT_READY       0x02
#define SENSE_ILLEGAL_REQUEST 0x05
#define SENSE_UNIT_ATTENTION  0x06

#define ASC_INVALID_OPCODE    0x20
#define ASC_LBA_OUT_OF_RANGE  0x21
#define ASC_INVALID_FIELD     0x24
#define ASC_MEDIUM_CHANGED    0x28
#define ASC_SAVING_PARAMS     0x39
#define ASC_NO_MEDIUM         0x3a
#define ASC_REMOVAL_PREVENTED 0x53

#define CD_READ_BATCH         16          /* blocks read per PIO batch */
#define CD_MAX_BLOCKS         (80 * 60 * 75)   /* larger media are DVDs */

enum { NEED_MEDIUM = 1, ALLOW_UA = 2, DATA = 4 };

uint64_t atapi_blocks(IDEState *s)
{
    int64_t len = s->blk && blk_is_inserted(s->blk) ? blk_getlength(s->blk) : 0;
    return len > 0 ? (uint64_t)len / CD_SECTOR_SIZE : 0;
}

static bool medium_present(IDEState *s)
{
    return !s->tray_open && s->blk && blk_is_inserted(s->blk);
}

void atapi_identify(IDEState *s)
{
    uint16_t *p = s->identify;
    memset(p, 0, 512);
    /* ATAPI, CD-ROM, removable, 50 us DRQ, 12-byte packets */
    p[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5);
    for (int i = 0; i < 20; i++) {
        ((char *)(p + 10))[i ^ 1] = i < (int)strlen(s->serial) ? s->serial[i] : ' ';
    }
    p[20] = 3;
    p[21] = 512;
    p[22] = 4;
    for (int i = 0; i < 8; i++) {
        ((char *)(p + 23))[i ^ 1] = i < (int)strlen(s->version) ? s->version[i] : ' ';
    }
    for (int i = 0; i < 40; i++) {
        ((char *)(p + 27))[i ^ 1] = i < (int)strlen(s->model) ? s->model[i] : ' ';
    }
    p[48] = 1;
    p[49] = (1 << 9) | (1 << 8);             /* LBA, DMA */
    p[53] = 7;
    p[62] = 7;
    p[63] = 7;
    p[64] = 3;
    p[65] = 0xb4;
    p[66] = 0xb4;
    p[67] = 0x12c;
    p[68] = 0xb4;
    p[71] = 30;
    p[72] = 30;
    p[80] = 0x1e;                            /* ATA/ATAPI-1..4 */
    if (s->wwn) {
        p[84] = 1 << 8;
        p[87] = 1 << 8;
        p[108] = s->wwn >> 48;
        p[109] = s->wwn >> 32;
        p[110] = s->wwn >> 16;
        p[111] = s->wwn;
    }
    p[88] = 0x3f | (1 << 13);
}

/* ---- events ---- */

static void tray_moved_event(IDEState *s)
{
    JsonObject *data = json_object_new();
    DeviceState *d = &s->dev->qdev;
    json_object_set_str(data, "device", blk_name(s->blk));
    json_object_set_bool(data, "tray-open", s->tray_open);
    json_object_set_str(data, "id", d->id ? d->id : d->canonical_path ? d->canonical_path : "");
    qmp_event_send("DEVICE_TRAY_MOVED", data);
}

void atapi_medium_changed(IDEState *s, bool load)
{
    bool was_open = s->tray_open;
    s->tray_open = !load;
    if (load) {
        s->ua_pending = true;
        s->ev_new_media = true;
    }
    s->ev_eject_request = false;
    ide_set_irq(s->bus);
    if (was_open != s->tray_open) {
        tray_moved_event(s);
    }
}

/* ---- completion ---- */

void atapi_cmd_ok(IDEState *s)
{
    s->error = 0;
    s->status = ST_READY;
    s->nsector = (s->nsector & ~7) | IR_IO | IR_COD;
    ide_set_irq(s->bus);
}

static void atapi_cmd_error(IDEState *s, uint8_t key, uint8_t asc)
{
    ide_transfer_stop(s);
    g_free(s->cd_buf);
    s->cd_buf = NULL;
    s->cd_len = s->cd_pos = 0;
    s->remaining = 0;
    s->error = key << 4;
    s->status = ST_DRDY | ST_ERR;
    s->nsector = (s->nsector & ~7) | IR_IO | IR_COD;
    s->sense_key = key;
    s->asc = asc;
    ide_set_irq(s->bus);
}

void atapi_io_error(IDEState *s)
{
    if (!medium_present(s)) {
        atapi_cmd_error(s, SENSE_NOT_READY, ASC_NO_MEDIUM);
    } else {
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
    }
}

void atapi_dma_done(IDEState *s, bool ok)
{
    if (ok) {
        atapi_cmd_ok(s);
    } else {
        atapi_io_error(s);
    }
}

/* ---- data phases ---- */

static void atapi_read_batch(IDEState *s);
static void atapi_pio_next(IDEState *s);

static void atapi_pio_chunk_end(IDEState *s)
{
    atapi_pio_next(s);
}

/* Send the next chunk of cd_buf: at most the host's byte count. */
static void atapi_pio_next(IDEState *s)
{
    if (s->cd_pos >= s->cd_len) {
        g_free(s->cd_buf);
        s->cd_buf = NULL;
        s->cd_len = s->cd_pos = 0;
        if (s->remaining) {
            atapi_read_batch(s);
            return;
        }
        ide_transfer_stop(s);
        atapi_cmd_ok(s);
        return;
    }
    uint32_t limit = s->byte_limit;
    if (limit == 0xffff) {
        limit--;
    }
    limit &= ~1u;
    if (!limit) {
        limit = 0xfffe;
    }
    uint32_t n = MIN(limit, s->cd_len - s->cd_pos);
    s->lcyl = n;
    s->hcyl = n >> 8;
    s->nsector = (s->nsector & ~7) | IR_IO;
    s->status = ST_READY;
    /* an odd last chunk is read as whole words: cd_buf has a spare byte */
    ide_transfer_start(s, s->cd_buf + s->cd_pos, false, (n + 1) & ~1u, true, atapi_pio_chunk_end);
    s->cd_pos += n;
    ide_set_irq(s->bus);
}

/* Reply with 'len' bytes of buf (taken), cut to the allocation length. */
static void atapi_reply(IDEState *s, uint8_t *buf, uint32_t len, uint32_t alloc)
{
    len = MIN(len, alloc);
    if (!len) {
        g_free(buf);
        atapi_cmd_ok(s);
        return;
    }
    g_free(s->cd_buf);
    s->cd_buf = buf;
    s->cd_len = len;
    s->cd_pos = 0;
    s->remaining = 0;
    if (s->atapi_dma) {
        ide_dma_start(s, DMA_CD_REPLY);
    } else {
        atapi_pio_next(s);
    }
}

static void atapi_read_done(IDEState *s, IDERequest *r, int ret)
{
    if (!ide_handle_error(s, r, ret, true)) {
        if (s->retry != r) {
            ide_req_free(r);
            atapi_io_error(s);
        }
        return;
    }
    uint32_t n = r->bytes / CD_SECTOR_SIZE;
    g_free(s->cd_buf);
    s->cd_buf = r->buf;
    r->buf = NULL;
    ide_req_free(r);
    s->cd_len = n * CD_SECTOR_SIZE;
    s->cd_pos = 0;
    s->cur_sector += n;
    s->remaining -= n;
    atapi_pio_next(s);
}

static void atapi_read_batch(IDEState *s)
{
    uint32_t n = MIN(s->remaining, CD_READ_BATCH);
    IDERequest *r = ide_req_new(s, REQ_READ, s->cur_sector * CD_SECTOR_SIZE, atapi_read_done);
    r->bytes = n * CD_SECTOR_SIZE;
    r->buf = g_malloc(r->bytes + 2);
    qemu_iovec_add(&r->qiov, r->buf, r->bytes);
    s->status = ST_DRDY | ST_BSY;
    ide_req_submit(s, r);
}

static void atapi_read(IDEState *s, uint64_t lba, uint32_t count)
{
    uint64_t blocks = atapi_blocks(s);
    if (lba > blocks || count > blocks - lba) {
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    if (!count) {
        atapi_cmd_ok(s);
        return;
    }
    s->cur_sector = lba;
    s->remaining = count;
    if (s->atapi_dma) {
        ide_dma_start(s, DMA_CD_READ);
    } else {
        atapi_read_batch(s);
    }
}

/* ---- commands ---- */

static void lba_to_msf(uint8_t *q, uint64_t lba)
{
    lba += 150;
    q[0] = (lba / 75) / 60;
    q[1] = (lba / 75) % 60;
    q[2] = lba % 75;
}

static void put_addr(uint8_t *q, uint64_t lba, bool msf)
{
    if (msf) {
        q[0] = 0;
        lba_to_msf(q + 1, lba);
    } else {
        stl_be_p(q, lba);
    }
}

static void cmd_test_unit_ready(IDEState *s, const uint8_t *p)
{
    atapi_cmd_ok(s);
}

static void cmd_request_sense(IDEState *s, const uint8_t *p)
{
    uint8_t *buf = g_malloc0(20);
    buf[0] = 0xf0;                           /* valid, current errors */
    buf[2] = s->sense_key;
    buf[7] = 10;
    buf[12] = s->asc;
    s->sense_key = SENSE_NONE;
    s->asc = 0;
    atapi_reply(s, buf, 18, p[4]);
}

static void pad_copy(uint8_t *dst, const char *src, int len)
{
    for (int i = 0; i < len; i++) {
        dst[i] = *src ? *src++ : ' ';
    }
}

static void cmd_inquiry(IDEState *s, const uint8_t *p)
{
    if (p[1] & 1) {                          /* vital product data: none */
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    uint8_t *buf = g_malloc0(38);
    buf[0] = 0x05;                           /* CD/DVD device */
    buf[1] = 0x80;                           /* removable */
    buf[2] = 0x00;
    buf[3] = 0x21;                           /* ATAPI, response format 1 */
    buf[4] = 31;
    pad_copy(buf + 8, "QEMU", 8);
    pad_copy(buf + 16, s->model, 16);
    pad_copy(buf + 32, s->version, 4);
    atapi_reply(s, buf, 36, p[4]);
}

static void cmd_read_capacity(IDEState *s, const uint8_t *p)
{
    uint8_t *buf = g_malloc0(10);
    stl_be_p(buf, atapi_blocks(s) - 1);
    stl_be_p(buf + 4, CD_SECTOR_SIZE);
    atapi_reply(s, buf, 8, 8);
}

static void cmd_read10(IDEState *s, const uint8_t *p)
{
    atapi_read(s, ldl_be_p(p + 2), lduw_be_p(p + 7));
}

static void cmd_read12(IDEState *s, const uint8_t *p)
{
    atapi_read(s, ldl_be_p(p + 2), ldl_be_p(p + 6));
}

static void cmd_read_cd(IDEState *s, const uint8_t *p)
{
    uint32_t count = (p[6] << 16) | (p[7] << 8) | p[8];
    if (!count || !(p[9] & 0xf8)) {
        atapi_cmd_ok(s);                     /* nothing to transfer */
        return;
    }
    if ((p[9] & 0xf8) != 0x10) {             /* only the user data of mode 1 */
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    atapi_read(s, ldl_be_p(p + 2), count);
}

static void cmd_seek(IDEState *s, const uint8_t *p)
{
    if (ldl_be_p(p + 2) >= atapi_blocks(s)) {
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    atapi_cmd_ok(s);
}

static void cmd_mode_sense(IDEState *s, const uint8_t *p)
{
    unsigned control = p[2] >> 6, page = p[2] & 0x3f;
    uint32_t alloc = lduw_be_p(p + 7);
    if (control == 3) {
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_SAVING_PARAMS);
        return;
    }
    if (control != 0 || (page != 0x01 && page != 0x2a)) {
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    uint8_t *buf = g_malloc0(40);
    uint32_t len;
    buf[2] = 0x70;                           /* medium type: no disc / door closed */
    if (page == 0x01) {                      /* read/write error recovery */
        len = 16;
        buf[8] = 0x01;
        buf[9] = 0x06;
        buf[11] = 0x05;                      /* read retry count */
    } else {                                 /* CD capabilities and mechanism status */
        len = 28;
        buf[8] = 0x2a;
        buf[9] = 0x12;
        buf[10] = 0x3b;                      /* reads CD-R, CD-RW, DVD-ROM, DVD-R, DVD-RAM */
        buf[12] = 0x71;                      /* audio play, multisession, mode 2 forms */
        buf[13] = 3 << 5;
        buf[14] = 0x01 | 0x08 | 0x20 | (s->tray_locked ? 0x02 : 0);  /* lock, eject, tray */
        stw_be_p(buf + 16, 704);             /* max read speed (kB/s) */
        buf[19] = 2;                         /* volume levels */
        stw_be_p(buf + 20, 512);             /* buffer size (KiB) */
        stw_be_p(buf + 22, 704);             /* current read speed */
    }
    stw_be_p(buf, len - 2);
    atapi_reply(s, buf, len, alloc);
}

static uint32_t add_feature(uint8_t *q, uint16_t code, uint8_t flags, const uint8_t *data, uint8_t n)
{
    stw_be_p(q, code);
    q[2] = flags;
    q[3] = n;
    memcpy(q + 4, data, n);
    return 4 + n;
}

static void cmd_get_configuration(IDEState *s, const uint8_t *p)
{
    unsigned rt = p[1] & 3;
    uint16_t start = lduw_be_p(p + 2);
    uint32_t alloc = lduw_be_p(p + 7);
    if (rt == 3) {
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    uint16_t profile = 0;
    if (medium_present(s)) {
        profile = atapi_blocks(s) > CD_MAX_BLOCKS ? 0x0010 : 0x0008;
    }
    uint8_t *buf = g_malloc0(64);
    uint32_t len = 8;
    uint8_t profiles[8] = { 0x00, 0x10, profile == 0x0010, 0, 0x00, 0x08, profile == 0x0008, 0 };
    uint8_t core[8] = { 0, 0, 0, 2, 0, 0, 0, 0 };     /* physical interface: ATAPI */
    uint8_t removable[4] = { 0x29, 0, 0, 0 };         /* tray, eject, lock */
    struct { uint16_t code; uint8_t flags; const uint8_t *d; uint8_t n; } feats[] = {
        { 0x0000, 0x03, profiles, 8 },
        { 0x0001, 0x0b, core, 8 },
        { 0x0003, 0x03, removable, 4 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(feats); i++) {
        if (feats[i].code < start || (rt == 2 && feats[i].code != start)) {
            continue;
        }
        len += add_feature(buf + len, feats[i].code, feats[i].flags, feats[i].d, feats[i].n);
    }
    stl_be_p(buf, len - 4);
    stw_be_p(buf + 6, profile);
    atapi_reply(s, buf, len, alloc);
}

static void cmd_read_toc(IDEState *s, const uint8_t *p)
{
    bool msf = p[1] & 2;
    unsigned format = p[2] & 0x0f ? p[2] & 0x0f : p[9] >> 6;
    unsigned start = p[6];
    uint32_t alloc = lduw_be_p(p + 7);
    uint64_t blocks = atapi_blocks(s);
    uint8_t *buf = g_malloc0(64);
    uint8_t *q = buf + 2;
    switch (format) {
    case 0:                                  /* TOC */
        if (start > 1 && start != 0xaa) {
            g_free(buf);
            atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
            return;
        }
        *q++ = 1;
        *q++ = 1;
        if (start <= 1) {
            q[1] = 0x14;                     /* ADR 1, data track */
            q[2] = 1;
            put_addr(q + 4, 0, msf);
            q += 8;
        }
        q[1] = 0x16;
        q[2] = 0xaa;                         /* lead-out */
        put_addr(q + 4, blocks, msf);
        q += 8;
        break;
    case 1:                                  /* multi-session info */
        *q++ = 1;
        *q++ = 1;
        q[1] = 0x14;
        q[2] = 1;
        put_addr(q + 4, 0, msf);
        q += 8;
        break;
    case 2: {                                /* raw TOC */
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };
        *q++ = 1;
        *q++ = 1;
        for (int i = 0; i < 4; i++) {
            q[0] = 1;                        /* session */
            q[1] = 0x14;
            q[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1) {
                q[8] = 1;                    /* first / last track */
            } else {
                put_addr(q + 7, points[i] == 0xa2 ? blocks : 0, msf);
            }
            q += 11;
        }
        break;
    }
    default:
        g_free(buf);
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    uint32_t len = q - buf;
    stw_be_p(buf, len - 2);
    atapi_reply(s, buf, len, alloc);
}

static void cmd_get_event_status(IDEState *s, const uint8_t *p)
{
    if (!(p[1] & 1)) {                       /* only polled operation */
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    uint32_t alloc = lduw_be_p(p + 7);
    uint8_t *buf = g_malloc0(10);
    uint32_t len = 4;
    buf[3] = 1 << 4;                         /* supported: media class */
    if (p[4] & (1 << 4)) {
        uint8_t status = s->tray_open ? 0x01 : medium_present(s) ? 0x02 : 0;
        uint8_t code = 0;
        if (!s->tray_open) {
            if (s->ev_new_media) {
                code = 2;
                s->ev_new_media = false;
            } else if (s->ev_eject_request) {
                code = 1;
                s->ev_eject_request = false;
            }
        }
        buf[2] = 4;                          /* media class */
        buf[4] = code;
        buf[5] = status;
        len += 4;
    } else {
        buf[2] = 0x80;                       /* no event available */
    }
    stw_be_p(buf, len - 4);
    atapi_reply(s, buf, len, alloc);
}

static void cmd_read_disc_info(IDEState *s, const uint8_t *p)
{
    if (p[1] & 7) {
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        return;
    }
    uint8_t *buf = g_malloc0(36);
    stw_be_p(buf, 32);
    buf[2] = 0x0e;                           /* complete session, finalized disc */
    buf[3] = 1;                              /* first track */
    buf[4] = 1;                              /* sessions */
    buf[5] = 1;                              /* first track of last session */
    buf[6] = 1;                              /* last track of last session */
    buf[7] = 0x20;                           /* unrestricted use */
    atapi_reply(s, buf, 34, lduw_be_p(p + 7));
}

static void cmd_prevent_allow(IDEState *s, const uint8_t *p)
{
    s->tray_locked = p[4] & 1;
    atapi_cmd_ok(s);
}

static void cmd_start_stop(IDEState *s, const uint8_t *p)
{
    bool start = p[4] & 1, loej = p[4] & 2;
    if ((p[4] & 0xf0) || !loej) {            /* power conditions: nothing moves */
        atapi_cmd_ok(s);
        return;
    }
    if (!start && !s->tray_open && s->tray_locked) {
        atapi_cmd_error(s, blk_is_inserted(s->blk) ? SENSE_NOT_READY : SENSE_ILLEGAL_REQUEST,
                        ASC_REMOVAL_PREVENTED);
        return;
    }
    if (s->tray_open != !start) {
        s->tray_open = !start;
        tray_moved_event(s);
    }
    atapi_cmd_ok(s);
}

static void cmd_mechanism_status(IDEState *s, const uint8_t *p)
{
    atapi_reply(s, g_malloc0(10), 8, lduw_be_p(p + 8));
}

static void cmd_nothing(IDEState *s, const uint8_t *p)
{
    atapi_cmd_ok(s);
}

typedef struct ATAPICmd {
    void (*fn)(IDEState *s, const uint8_t *p);
    unsigned flags;
} ATAPICmd;

static const ATAPICmd atapi_cmds[256] = {
    [0x00] = { cmd_test_unit_ready, NEED_MEDIUM },
    [0x03] = { cmd_request_sense, ALLOW_UA | DATA },
    [0x12] = { cmd_inquiry, ALLOW_UA | DATA },
    [0x1b] = { cmd_start_stop, 0 },
    [0x1e] = { cmd_prevent_allow, 0 },
    [0x25] = { cmd_read_capacity, NEED_MEDIUM | DATA },
    [0x28] = { cmd_read10, NEED_MEDIUM | DATA },
    [0x2b] = { cmd_seek, NEED_MEDIUM },
    [0x43] = { cmd_read_toc, NEED_MEDIUM | DATA },
    [0x46] = { cmd_get_configuration, ALLOW_UA | DATA },
    [0x4a] = { cmd_get_event_status, ALLOW_UA | DATA },
    [0x51] = { cmd_read_disc_info, NEED_MEDIUM | DATA },
    [0x5a] = { cmd_mode_sense, DATA },
    [0xa8] = { cmd_read12, NEED_MEDIUM | DATA },
    [0xbb] = { cmd_nothing, 0 },               /* SET CD SPEED */
    [0xbd] = { cmd_mechanism_status, DATA },
    [0xbe] = { cmd_read_cd, NEED_MEDIUM | DATA },
};

static void atapi_packet_received(IDEState *s)
{
    const uint8_t *p = s->packet;
    const ATAPICmd *c = &atapi_cmds[p[0]];
    ide_transfer_stop(s);
    if (!c->fn) {
        atapi_cmd_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
        return;
    }
    if (s->ua_pending && !(c->flags & ALLOW_UA)) {
        s->ua_pending = false;
        atapi_cmd_error(s, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED);
        return;
    }
    if ((c->flags & NEED_MEDIUM) && !medium_present(s)) {
        atapi_cmd_error(s, SENSE_NOT_READY, ASC_NO_MEDIUM);
        return;
    }
    if ((c->flags & DATA) && !s->atapi_dma && !s->byte_limit) {
        /* a PIO data command with a zero byte count: aborted at the ATA
         * level, without an interrupt (ATA8-ACS 7.17.6.49, as QEMU) */
        ide_abort(s);
        return;
    }
    c->fn(s, p);
}

void atapi_start_packet(IDEState *s)
{
    s->atapi_dma = s->feature & 1;
    s->byte_limit = s->lcyl | (s->hcyl << 8);
    s->nsector = (s->nsector & ~7) | IR_COD;
    s->status = ST_READY;
    memset(s->packet, 0, sizeof(s->packet));
    ide_transfer_start(s, s->packet, false, sizeof(s->packet), false, atapi_packet_received);
}
