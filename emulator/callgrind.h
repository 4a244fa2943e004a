/**
 * @file callgrind.h
 * @brief Module-internal: write a profile's dynamic section in the callgrind format.
 *
 * The file opens in callgrind_annotate and KCachegrind. What it holds:
 *
 *  - header: "# callgrind format", version 1, creator, cmd (the run's argv),
 *    desc lines (cache geometry, sampling), positions: line, and events:
 *    Ir, plus, when the profile has per-block cache figures
 *    (pv_dynamic.block_cache), Dr Dw D1mr D1mw [D2mr D2mw] DLmr DLmw (the
 *    last simulated level is DL, as in cachegrind; a middle level is D2).
 *  - per object (ob=), source file (fl=, fi= when a block's line is in
 *    another file, e.g. inlined code), function (fn=), one cost line per
 *    source line: each executed block adds count * instructions to Ir at
 *    the line of its first instruction (the only line a profile keeps per
 *    block), and its cache figures to the other events. Names are
 *    compressed "(id) name" on first use and "(id)" after.
 *  - blocks of the target object are named through the profile's static
 *    part (function, file, line). Blocks of other objects (the C library...)
 *    are named by the nearest function symbol of that object's ELF symbol
 *    table (.symtab, else .dynsym, read with libelf), else "0xADDR", with
 *    file "???" and line 0.
 *  - with per-block branch figures (pve_callgrind_options.branches), the
 *    events Bc Bcm Bi Bim as cachegrind's --branch-sim=yes writes them:
 *    conditional branches executed and mispredicted, indirect jumps and
 *    calls executed and mispredicted (returns are in neither).
 *  - in sampled mode (sampled_fraction < 1) the cache events are
 *    extrapolated: the measured per-block figures of each level are scaled
 *    so that they add up to that level's whole-run estimate in
 *    pv_dynamic.caches (Dr and Dw to L1d's accesses, D1mr and D1mw to its
 *    misses, ...), rounded per line, and a desc line says so.
 *
 * Self costs only: a profile has no dynamic call edges (pv_function.callees
 * are static edges without counts), and splitting a callee's cost among its
 * callers by static edges would be a guess (gprof's assumption, wrong for
 * recursion), so no calls=/cfn= lines are written and inclusive cost equals
 * self cost in the viewers.
 */
#ifndef PREVISION_EMULATOR_CALLGRIND_H
#define PREVISION_EMULATOR_CALLGRIND_H

#include <stddef.h>

#include "prevision/analyzer.h"
#include "prevision/emulator.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of pve_callgrind_write(). */
typedef struct pve_callgrind_options {
    int version;          /**< PVE_CALLGRIND_OPTIONS_VERSION */
    const char *cmd;      /**< the "cmd:" line; NULL = the run's argv joined by spaces */
    int resolve_symbols;  /**< 1: name blocks of other objects from their ELF symbols; 0: "0xADDR" */
    /** NULL, or per row of the dynamic section's counts, the branch simulation's figures
     *  (pv_emu_block_branches()): adds the events Bc Bcm Bi Bim (conditional and indirect branches
     *  executed and mispredicted, cachegrind's names; mispredictions are estimates when sampled) */
    const pv_emu_block_branch *branches;
    uint32_t nbranches;   /**< entries in @ref branches: the dynamic section's ncounts */
} pve_callgrind_options;
#define PVE_CALLGRIND_OPTIONS_VERSION 1
#define PVE_CALLGRIND_OPTIONS_INIT {PVE_CALLGRIND_OPTIONS_VERSION, NULL, 1, NULL, 0}

/**
 * Format @p p's dynamic section as callgrind text.
 * @param p    a profile with a dynamic section (static part optional)
 * @param opts options or NULL for the defaults
 * @param out  receives a malloc()ed NUL-terminated text; caller frees with free()
 * @param len  receives its length (may be NULL)
 * @return PV_OK; PV_ERR_INVALID when @p p has no dynamic section or an
 *         index is out of range (message names it); PV_ERR_NOMEM.
 *         An object whose ELF file cannot be read is not an error: its
 *         blocks are named "0xADDR".
 */
int pve_callgrind_format(const pv_profile *p, const pve_callgrind_options *opts, char **out, size_t *len);

/**
 * pve_callgrind_format() written to @p path atomically (temporary file and
 * rename: a failure leaves no partial file). "-" writes to stdout.
 * @return as pve_callgrind_format(), or PV_ERR_IO with the path.
 */
int pve_callgrind_write(const pv_profile *p, const char *path, const pve_callgrind_options *opts);

#ifdef __cplusplus
}
#endif
#endif
