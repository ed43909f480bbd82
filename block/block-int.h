/*
 * Block layer internals shared by block-backend.c and linux-aio.c: the
 * asynchronous request descriptor.
 * Locking: a BlockReq belongs to the main thread except while a worker
 * thread executes it.
 */
#ifndef BLOCK_BLOCK_INT_H
#define BLOCK_BLOCK_INT_H

#include "block/block.h"

typedef enum { BLK_REQ_READ, BLK_REQ_WRITE, BLK_REQ_FLUSH, BLK_REQ_DISCARD,
               BLK_REQ_ZEROES } BlockReqType;

struct BlockReq {
    BlockBackend *blk;
    BlockReqType type;
    int64_t offset;
    int64_t bytes;
    QEMUIOVector *qiov;
    BlockCompletionFunc *cb;
    void *opaque;
    int ret;
    int64_t start_ns;       /* submit time (accounting) */
    void *aio_priv;         /* linux-aio.c: struct iocb */
};

/* Completion of a request (main loop, BQL held). */
void blk_req_complete(BlockReq *req, int ret);

#endif
