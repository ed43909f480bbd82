/*
 * Minimal JSON tree printer for kemu-img --output=json. Objects are printed
 * in QEMU 7.2's QDict iteration order (tdb hash of the key modulo 512, later
 * insertions first within a bucket) with its pretty-printing layout, so the
 * output is byte-identical to qemu-img's. Kept in one place so it can be
 * swapped for util/json.h later.
 * Locking: none.
 */
#ifndef BLOCK_IMG_JSON_H
#define BLOCK_IMG_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct IJson IJson;

IJson *ij_object(void);
IJson *ij_array(void);
/* Add to an object (key) or an array (key NULL). Returns the value added. */
IJson *ij_add(IJson *parent, const char *key, IJson *val);
void ij_add_int(IJson *o, const char *key, int64_t v);
void ij_add_str(IJson *o, const char *key, const char *v);
void ij_add_bool(IJson *o, const char *key, bool v);
/* Pretty-print like qobject_to_json_pretty; appends to out. */
void ij_print(IJson *v, GString *out);
void ij_free(IJson *v);
/* Bucket used by QEMU's QDict for a key (exposed for the unit tests). */
unsigned ij_qdict_bucket(const char *key);

#endif
