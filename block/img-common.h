/*
 * Helpers shared by the kemu-img command files (kemu-img.c, img-convert.c).
 * Locking: single-threaded tool.
 */
#ifndef BLOCK_IMG_COMMON_H
#define BLOCK_IMG_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include "block/block.h"

extern bool img_quiet;

/* printf unless -q was given. */
void img_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* bdrv_open with qemu-img's "Could not open 'x': ..." message on failure. */
BlockDriverState *img_open(const char *filename, const char *fmt, int flags, bool quiet_warn);
/* Parse a size argument with qemu-img's error messages; -1 on error. */
int img_parse_size(const char *str, int64_t *out);
/* Merge "-o key=value,..." into d; reports the parse error and returns -1. */
int img_add_opts(KVDict *d, const char *opts);
/* Set the "size" create option to a byte count. */
void img_set_size(KVDict *o, int64_t size);
/* --output: "json" sets *json, "human" clears it; -1 with qemu-img's error otherwise. */
int img_parse_output(const char *output, bool *json);
/* True if exactly one argument is left after the options; qemu-img's error otherwise. */
bool img_one_filename(int argc);
bool img_is_qcow2(BlockDriverState *bs);
/* Create an image like "qemu-img create" (o: create options incl. size). */
int img_create_image(const char *filename, const char *fmt, KVDict *o, bool unsafe, bool print);
void img_print_snapshot_table(BlockDriverState *bs);

/* A continuation line of an error (QEMU prints hints without the prefix). */
static inline void error_printf_hint(const char *msg)
{
    fprintf(stderr, "%s\n", msg);
}

int img_convert(int argc, char **argv);
int img_compare(int argc, char **argv);
int img_map(int argc, char **argv);

#endif
