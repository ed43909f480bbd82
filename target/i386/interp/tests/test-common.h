/*
 * Shared harness of the interpreter unit tests: a flat test machine (RAM
 * behind as_map/as_rw stubs, a port log), stubs for the glue hooks, and
 * helpers that put the CPU in real, protected or long mode directly.
 * Spec: architecture.md §3.3 (tests must run without the rest of kemu).
 * Locking: single-threaded tests.
 */
#ifndef INTERP_TEST_COMMON_H
#define INTERP_TEST_COMMON_H

#include <glib.h>
#include "target/i386/interp/interp.h"
#include "target/i386/interp/interp-api.h"

#define TRAM_SIZE (32u << 20)
extern uint8_t *tram;             /* guest RAM at physical 0 */
extern GString *port_log;          /* bytes written to port 0xe9 */
extern uint32_t test_port_in_value;
extern int test_pending_vector;    /* returned once by the APIC stub */

/* Fixed layout of the long-mode test machine */
#define T_GDT    0x500
#define T_IDT    0x3000
#define T_HANDLERS 0x4000          /* vector v: HLT at T_HANDLERS + 16 * v */
#define T_PML4   0x10000
#define T_CODE   0x100000
#define T_DATA   0x200000
#define T_STACK  0x90000
#define T_TSS    0x800

#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define SEL_CODE32 0x18
#define SEL_UCODE32 0x23
#define SEL_UDATA  0x2b
#define SEL_UCODE64 0x33
#define SEL_TSS    0x40
#define SEL_CODE16 0x50

typedef struct TestCPU {
    CPUState *cpu;
    CPUX86State *env;
    Interp *it;
} TestCPU;

void test_machine_init(void);
/* "0f 1f 44" → bytes; returns the count. */
int test_parse_hex(const char *hex, uint8_t *out);
TestCPU *tcpu_new(void);
void tcpu_free(TestCPU *t);
/* Put the CPU in the given mode directly (tables built in RAM). */
void tcpu_real_mode(TestCPU *t);
void tcpu_long_mode(TestCPU *t);
void tcpu_prot_mode(TestCPU *t, bool paging);
/* Copy code to guest physical address and point RIP at it (CS base 0). */
void tcpu_load_code(TestCPU *t, uint64_t addr, const void *code, size_t len);
/* Run until HLT (or budget); returns the exit code. */
int tcpu_run(TestCPU *t, uint64_t budget);
/* Vector whose handler halted, or -1 (RIP not in the handler area). */
int tcpu_halted_vector(TestCPU *t);
uint64_t tcpu_pop64(TestCPU *t, int idx);

#endif
