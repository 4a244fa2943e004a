/* Declarations shared by the binary analyzer files in analyzer/ (not the source_ files).
 * Not installed; Capstone types stay inside the module. */
#ifndef PV_ANALYZER_INTERNAL_H
#define PV_ANALYZER_INTERNAL_H

#include <capstone/capstone.h>
#include <stdint.h>

#include "prevision/analyzer.h"

struct pv_decoder {
    csh cs;
    cs_insn *insn; /* one reusable Capstone instruction with detail */
    int text;
};

/* Decode without recording an error detail (bulk paths: undecodable bytes are
 * counted, not reported). Returns 1 when decoded, 0 when not. The Capstone
 * instruction stays in d->insn until the next call. */
int pva_decode(pv_decoder *d, const uint8_t *code, size_t len, uint64_t addr, pv_insn *out);

/* Loop-carried dependency chain of a loop body: decode the given instruction
 * ranges (in order, one pass = one iteration) and return the per-iteration
 * recurrence in cycles on @u. */
typedef struct pva_range {
    const uint8_t *code;
    uint64_t addr;
    uint32_t size;
} pva_range;
float pva_loop_recurrence(pv_decoder *d, const pv_uarch *u, const pva_range *r, uint32_t nr);

#endif
