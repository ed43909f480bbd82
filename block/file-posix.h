/*
 * Private state of the "file"/"host_device" protocol, shared with the
 * libaio submit path (linux-aio.c).
 * Locking: fields are set at open and read-only afterwards.
 */
#ifndef BLOCK_FILE_POSIX_H
#define BLOCK_FILE_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include "block/block.h"

typedef struct FilePosixState {
    int fd;
    bool is_blockdev;
    bool direct;            /* O_DIRECT */
    bool no_flush;          /* cache.no-flush */
    bool use_aio;           /* aio=native */
    size_t align;           /* O_DIRECT alignment (1 without O_DIRECT) */
} FilePosixState;

int file_posix_fd(BlockDriverState *bs);
/* libaio submission (linux-aio.c); false: use the worker pool instead. */
bool file_aio_submit(BlockDriverState *bs, BlockReq *req);

#endif
