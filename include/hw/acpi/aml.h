/*
 * A small AML (ACPI Machine Language) encoder: just the terms kemu's DSDT
 * needs.  Encodings follow ACPI 6.4 §20 (AML grammar: §20.2.3 package
 * length, §20.2.2 name strings, §20.2.5 terms) and §6.4 (resource data
 * types: small and large resource descriptors).
 * Every constructor returns a new Aml; aml_append() moves a child into its
 * parent and frees it, so a tree is built bottom-up and serialised once.
 * Locking: none (pure functions; used while building tables).
 */
#ifndef HW_ACPI_AML_H
#define HW_ACPI_AML_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct Aml Aml;

/* Serialise (adds opcode + PkgLength where the term has one) and free. */
GByteArray *aml_finish(Aml *a);
/* Append child's encoding to parent's body, freeing child. */
void aml_append(Aml *parent, Aml *child);
void aml_free(Aml *a);

/* A bare byte sequence (the DSDT body, or raw AML supplied by a caller). */
Aml *aml_raw(const uint8_t *data, size_t len);
Aml *aml_block(void);                       /* empty raw container */

/* Data objects (§20.2.3). */
Aml *aml_int(uint64_t v);                   /* Zero/One/Byte/Word/DWord/QWord */
Aml *aml_string(const char *s);
Aml *aml_eisaid(const char *id);            /* "PNP0A03" -> compressed DWord */
Aml *aml_name(const char *path);            /* NameString reference */
Aml *aml_package(void);                     /* Package; element count kept */
Aml *aml_buffer(const uint8_t *data, size_t len);

/* Named objects and statements. */
Aml *aml_name_decl(const char *name, Aml *val);          /* Name (X, val) */
Aml *aml_scope(const char *path);
Aml *aml_device(const char *path);
Aml *aml_method(const char *name, int nargs, bool serialized);
Aml *aml_return(Aml *val);
Aml *aml_processor(const char *name, uint8_t proc_id, uint32_t pblk_addr,
                   uint8_t pblk_len);

/* Resource templates (§6.4): aml_resource_template() is a Buffer whose
 * serialisation appends the End Tag (§6.4.2.9). */
Aml *aml_resource_template(void);
Aml *aml_io(uint16_t min, uint16_t max, uint8_t align, uint8_t len);
Aml *aml_irq_no_flags(uint8_t irq);
Aml *aml_memory32_fixed(uint32_t base, uint32_t len, bool read_write);

typedef enum { AML_CONSUMER = 1, AML_PRODUCER = 0 } AmlConsumer;
typedef enum { AML_EDGE = 1, AML_LEVEL = 0 } AmlTrigger;
typedef enum { AML_ACTIVE_HIGH = 0, AML_ACTIVE_LOW = 1 } AmlPolarity;
typedef enum { AML_EXCLUSIVE = 0, AML_SHARED = 1 } AmlShare;
Aml *aml_interrupt(AmlConsumer con, AmlTrigger trig, AmlPolarity pol,
                   AmlShare share, const uint32_t *irqs, int n);

/* Address space descriptors, producer, MinFixed, MaxFixed, PosDecode. */
typedef enum {
    AML_NON_CACHEABLE = 0, AML_CACHEABLE = 1,
    AML_WRITE_COMBINING = 2, AML_PREFETCHABLE = 3,
} AmlCacheable;
Aml *aml_word_bus_number(uint16_t min, uint16_t max);
Aml *aml_word_io(uint16_t min, uint16_t max);           /* EntireRange */
Aml *aml_dword_io(uint32_t min, uint32_t max);          /* EntireRange */
Aml *aml_dword_memory(AmlCacheable c, uint32_t min, uint32_t max);
Aml *aml_qword_memory(AmlCacheable c, uint64_t min, uint64_t max);

/* Encoding helpers, exported for tests. */
/* PkgLength bytes for a body of body_len bytes; returns count (1..4). */
int aml_pkglen_encode(uint32_t body_len, uint8_t out[4]);
/* Decode a PkgLength at p: returns the encoded length value (which counts
 * its own bytes) and sets *nbytes; -1 when malformed. */
int64_t aml_pkglen_decode(const uint8_t *p, size_t avail, int *nbytes);
/* Append a NameString ("\\_SB.PCI0", "^FOO", "_HID"). */
void aml_append_namestring(GByteArray *out, const char *path);

/* Control flow, operators and fields (enough for PCI hotplug methods). */
typedef enum { AML_SYSTEM_MEMORY = 0, AML_SYSTEM_IO = 1 } AmlRegionSpace;
#define AML_FIELD_DWORD_ACC     0x03
#define AML_FIELD_WRITE_AS_ZEROS 0x40
Aml *aml_arg(int n);
Aml *aml_local(int n);
Aml *aml_store(Aml *val, Aml *target);
Aml *aml_and(Aml *a, Aml *b);                       /* And (a, b) without a target */
Aml *aml_lequal(Aml *a, Aml *b);
Aml *aml_notify(Aml *object, Aml *value);
Aml *aml_call(const char *method, Aml *const *args, int nargs);
Aml *aml_if(Aml *predicate);                        /* append the body to the result */
Aml *aml_operation_region(const char *name, AmlRegionSpace space, uint64_t offset,
                          uint32_t len);
Aml *aml_field(const char *region, uint8_t flags);  /* append aml_named_field()s */
Aml *aml_named_field(const char *name, unsigned bits);

#endif
