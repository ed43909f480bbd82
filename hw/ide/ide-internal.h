/*
 * Shared state of the IDE emulation: one IDEBus per channel (two units,
 * the task-file registers, the interrupt line and the bus-master DMA
 * channel), one IDEState per unit (ATA disk or ATAPI CD-ROM), and the
 * ide-hd/ide-cd qdev devices that fill a unit.
 * Specs: ATA/ATAPI-6 (T13/1410D) for the register protocol and commands,
 * MMC-3 / SPC-3 for ATAPI packets, Intel 82371SB (PIIX3) datasheet and the
 * SFF-8038i bus-master interface for DMA.
 * Locking: everything runs with the BQL held (port accesses from vCPU
 * threads, block completions in the main loop).
 */
#ifndef HW_IDE_INTERNAL_H
#define HW_IDE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "block/block.h"
#include "hw/irq.h"
#include "hw/pci.h"
#include "hw/qdev.h"

/* Status register */
#define ST_ERR   0x01
#define ST_DRQ   0x08
#define ST_DSC   0x10          /* seek complete */
#define ST_DF    0x20
#define ST_DRDY  0x40
#define ST_BSY   0x80
#define ST_READY (ST_DRDY | ST_DSC)

/* Error register */
#define ERR_ABRT 0x04
#define ERR_MC   0x20          /* ATAPI: media changed (in the sense nibble) */

/* Device control register */
#define CTL_NIEN 0x02
#define CTL_SRST 0x04
#define CTL_HOB  0x80

/* ATAPI interrupt reason (sector count register) */
#define IR_COD   0x01
#define IR_IO    0x02

#define IDE_SECTOR_SIZE  512
#define CD_SECTOR_SIZE   2048
#define IDE_MAX_MULT     16

/* Bus-master DMA registers (per channel, SFF-8038i) */
#define BM_CMD_START     0x01
#define BM_CMD_READ      0x08  /* 1: device to memory */
#define BM_ST_ACTIVE     0x01
#define BM_ST_ERROR      0x02
#define BM_ST_INT        0x04
#define BM_ST_DMA0_CAP   0x20
#define BM_ST_DMA1_CAP   0x40

typedef struct IDEBus IDEBus;
typedef struct IDEState IDEState;
typedef struct IDEDevice IDEDevice;
typedef struct IDERequest IDERequest;

typedef enum {
    DMA_NONE,
    DMA_ATA_READ,              /* disk -> memory, 512-byte sectors */
    DMA_ATA_WRITE,             /* memory -> disk */
    DMA_CD_READ,               /* ATAPI READ(10/12), 2048-byte sectors */
    DMA_CD_REPLY,              /* ATAPI reply buffer -> memory */
    DMA_ATA_TRIM,              /* DATA SET MANAGEMENT ranges: memory -> discards */
} IDEDMAKind;

/* One block request in flight. The request owns its buffer; a request
 * whose generation no longer matches its unit was cancelled (reset) and
 * only frees itself when it completes. */
struct IDERequest {
    IDEState *s;
    unsigned gen;
    int type;                  /* REQ_READ, REQ_WRITE, REQ_FLUSH, REQ_DISCARD */
    bool is_dma;
    bool stale_dma_read;       /* counted in s->stale_dma_reads */
    int64_t offset;            /* bytes */
    QEMUIOVector qiov;
    uint8_t *buf;              /* PIO bounce buffer (g_free) or NULL */
    size_t bytes;
    GArray *bounce_segs;       /* DMA through buf: guest regions (DMASeg) */
    void (*done)(IDEState *s, IDERequest *r, int ret);
};

/* A guest memory region of a DMA round that goes through a bounce buffer. */
typedef struct DMASeg {
    uint32_t addr, len;
} DMASeg;
enum { REQ_READ, REQ_WRITE, REQ_FLUSH, REQ_DISCARD };

/* Position in a PRD table (Physical Region Descriptors). */
typedef struct PRDCursor {
    uint32_t next;             /* guest address of the next descriptor */
    uint32_t addr;             /* current region: address and bytes left */
    uint32_t left;
    bool last;                 /* the current region is the final one */
    unsigned count;            /* descriptors read so far */
} PRDCursor;

typedef struct BMDMAState {
    uint8_t cmd;
    uint8_t status;
    uint32_t prd_table;
    PRDCursor cur;
} BMDMAState;

struct IDEState {
    IDEBus *bus;
    int unit;
    IDEDevice *dev;            /* NULL: no device in this slot */
    BlockBackend *blk;
    bool is_cd;
    unsigned gen;              /* bumped on reset: stale completions drop */

    /* task file */
    uint8_t feature, error, nsector, sector, lcyl, hcyl, select, status;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    bool lba48;                /* current command uses 48-bit registers */

    /* identity and geometry */
    uint16_t identify[256];
    char serial[21], model[41], version[9];
    uint64_t wwn;
    uint64_t nb_sectors;       /* 512-byte sectors */
    uint32_t cyls, heads, secs;
    unsigned mult_sectors;
    bool discard;              /* TRIM advertised */

    /* PIO data phase */
    uint8_t *pio_buf;
    bool pio_owned;            /* pio_buf is ours to free */
    bool pio_out;              /* data flows device -> host (reads) */
    uint32_t pio_pos, pio_end;
    void (*end_xfer)(IDEState *s);

    /* current read/write command */
    int64_t cur_sector;        /* ATA: 512-byte sector, ATAPI: 2048-byte block */
    uint32_t remaining;        /* sectors/blocks still to transfer */
    uint32_t block_count;      /* sectors in the current PIO block */
    IDEDMAKind dma;            /* DMA command waiting for/using the engine */
    bool dma_running;
    PRDCursor dma_round_start; /* PRD position at the start of this round */
    IDERequest *req;           /* request in flight (NULL: none) */
    IDERequest *retry;         /* failed request kept for werror=stop */
    /* DMA reads cancelled by a reset still write into guest RAM until they
     * complete: the unit stays BSY after the reset until then (QEMU drains
     * them, blocking the vCPU). */
    int stale_dma_reads;
    bool reset_waiting;
    uint8_t status_after_reset;

    /* ATAPI */
    uint8_t packet[12];
    uint8_t sense_key, asc;
    bool tray_open, tray_locked;
    bool ua_pending;           /* report UNIT ATTENTION on the next command */
    bool ev_new_media, ev_eject_request;
    uint8_t *cd_buf;           /* reply / sector data being sent (TRIM: the ranges) */
    uint32_t cd_len, cd_pos;
    bool atapi_dma;            /* packet asked for DMA (feature bit 0) */
    uint32_t byte_limit;       /* host's byte count for PIO data phases */
};

struct IDEBus {
    Bus *qbus;
    IDEState ifs[2];
    int index;                 /* channel of the controller: 0 primary, 1 secondary */
    int cur;                   /* selected unit */
    uint8_t devctl;
    bool irq_pending;
    IrqLine irq;
    BMDMAState bm;
    PCIDevice *pci;            /* for DMA (bus master enable) */
    MemoryRegion cmd_io, ctl_io;
};

/* qdev device filling a unit: ide-hd and ide-cd. */
struct IDEDevice {
    DeviceState qdev;
    BlockBackend *blk;         /* drive= */
    uint32_t unit;
    char *serial, *model, *ver;
    uint64_t wwn;
    int32_t bootindex;
    uint64_t logical_block_size, physical_block_size, min_io_size, opt_io_size;
    uint64_t discard_granularity;
    OnOffAuto write_cache, account_invalid, account_failed, backend_defaults;
    int rerror, werror;        /* BlockdevOnError */
    bool share_rw;
    uint32_t cyls, heads, secs, lcyls, lheads, lsecs;
    int chs_trans;
    uint16_t rotation_rate;
    IDEState *s;
};

/* core.c */
void ide_bus_init(IDEBus *bus, PCIDevice *pci, int channel);
void ide_bus_reset(IDEBus *bus);
uint64_t ide_cmd_read(void *opaque, uint64_t off, unsigned size);
void ide_cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size);
uint64_t ide_ctl_read(void *opaque, uint64_t off, unsigned size);
void ide_ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size);
void ide_set_irq(IDEBus *bus);
void ide_unit_attach(IDEState *s, IDEDevice *dev, bool is_cd);
void ide_identify_update_wce(IDEState *s);
void ide_transfer_start(IDEState *s, uint8_t *buf, bool owned, uint32_t len, bool out,
                        void (*end)(IDEState *s));
void ide_transfer_stop(IDEState *s);
void ide_abort(IDEState *s);
IDERequest *ide_req_new(IDEState *s, int type, int64_t offset,
                        void (*done)(IDEState *s, IDERequest *r, int ret));
void ide_req_submit(IDEState *s, IDERequest *r);
bool ide_handle_error(IDEState *s, IDERequest *r, int ret, bool is_read);
void ide_req_free(IDERequest *r);
void ide_vm_state_change(void *opaque, bool running);

/* dma.c */
void ide_dma_start(IDEState *s, IDEDMAKind kind);
void bmdma_cmd_write(IDEBus *bus, uint8_t val);
void bmdma_cancel(IDEBus *bus);

/* atapi.c */
void atapi_identify(IDEState *s);
void atapi_start_packet(IDEState *s);
void atapi_medium_changed(IDEState *s, bool load);
void atapi_dma_done(IDEState *s, bool ok);
uint64_t atapi_blocks(IDEState *s);
void atapi_cmd_ok(IDEState *s);
void atapi_io_error(IDEState *s);

#endif
