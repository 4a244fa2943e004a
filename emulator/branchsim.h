/**
 * @file branchsim.h
 * @brief Module-internal: a branch-prediction simulator fed from the block hook.
 *
 * What it models (a "TAGE-lite", after Seznec and Michaud, "A case for
 * (partially) TAgged GEometric history length branch prediction", JILP 2006,
 * at a size close to a current core's first-level predictor):
 *
 *  - conditional branches: a bimodal base table (2^14 two-bit counters,
 *    indexed by the branch address) and four tagged tables of 2^10 entries
 *    each, indexed and tagged by the branch address hashed with the global
 *    history folded to 8, 20, 48 and 120 outcomes (geometric lengths). The
 *    longest matching table provides the prediction; a newly allocated,
 *    still weak entry defers to the next matching one while that has
 *    proved better (a 4-bit USE_ALT counter). On a misprediction one entry
 *    is allocated in a longer table whose entry is not useful; usefulness
 *    bits age every 2^18 branches;
 *  - indirect jumps and calls: a last-target buffer of 2^12 entries indexed
 *    by the branch address, in front of which sits a history-indexed target
 *    table (2^10 entries, tagged, indexed by the address hashed with the
 *    last 32 history bits): the pattern a switch or a virtual call follows
 *    is learnt the way ITTAGE learns it, with one component;
 *  - returns: a 32-entry return-address stack (calls push the address
 *    after the call; overflow wraps and loses the oldest entry, as in
 *    hardware).
 *
 * The global history holds conditional outcomes and two bits of the target
 * of every indirect jump or call (path information), as real predictors do.
 * Direct jumps and direct calls are always predicted (their target is in
 * the instruction) and are not counted.
 *
 * A 4 KiB filter in front of the tables answers branches that went the same
 * way 127 times in a row (longer than any history: what a loop-exit or
 * error-check branch does most of the time) without touching them.
 *
 * Cost: one pve_branch_next() call per executed block; about 170
 * instructions and five table reads for a conditional branch that reaches
 * the tagged tables. bench/costmodel/branchsim_speed.c on this project's
 * machines (Zen 5 VM, loaded): 9 ns per block end on a loop-shaped stream,
 * 20 ns per branch on random outcomes. Inside the emulator's block hook the
 * tables compete with Unicorn for the caches: on the samples, user time of
 * `prevision profile --cache=sampled` went from 0.53 to 1.46 s (qsort
 * 1000000: 44 M conditional branches, 20% mispredicted), 2.35 to 3.71 s
 * (bintrees 14: 117 M) and 0.43 to 0.85 s (hashmap 1000000). For long runs
 * the simulator can follow the cache sampler's windows instead: run it in
 * the warm-up and measured windows (pve_branch_set_counting(b, 1) only in
 * the measured ones; half a million instructions of warm-up retrain tables
 * of this size), count every conditional branch in the hook (one add), and
 * report sampled_fraction = branches simulated / branches executed.
 *
 * ## Feeding it from the emulator (integration)
 *
 * The emulator sees blocks, not branches: Unicorn calls the block hook
 * with the address of each translation block as it is about to run. A
 * translation block ends at the first control-flow instruction (or earlier,
 * at a page boundary or size limit), so the branch that left block P is
 * P's last instruction, and where it went is the address of the next block
 * N the hook sees. For a conditional branch the decoder knows the taken
 * target statically (pv_insn.target), so
 *
 *     taken = (N == target of P's last instruction)
 *
 * and for an indirect jump or call the actual target is N itself; a return
 * goes to N, which the return stack predicted or not.
 *
 * Integration in emulator/blocks.c is therefore:
 *  1. when a block is decoded for the first time (new_block), keep the
 *     last instruction's site: pve_branch_site_of(&last_insn, addr + size,
 *     &info->site) (runtime addresses, as decoded);
 *  2. in pve_hook_block, once the block is known to run (after the
 *     stop/limit checks that undo it):
 *         pve_branch_next(e->bsim, &e->bprev, addr);
 *         e->bprev = b->info[s->idx].site;       (a copy: info may move)
 *  3. on a thread switch, reset the previous site (e->bprev.kind =
 *     PVE_BR_NONE): the next block belongs to another thread;
 *  4. at the end of the run, pve_branch_get_stats() into pv_branch_stats
 *     (model name: pve_branch_model(), sampled_fraction 1 when every
 *     block went through it).
 * bench/costmodel/branchsim-integration.patch is this integration on top
 * of the emulator's block hook as of main at 1bf786f, as
 * used for the accuracy figures of docs/benchmarks.md.
 *
 * A block whose last instruction is not a branch (a translation block cut
 * at a page boundary, a syscall, a rep string instruction) has kind
 * PVE_BR_NONE and pve_branch_next() only records nothing.
 *
 * Not thread-safe: one simulator per emulated machine, driven from the
 * thread that runs the emulator.
 */
#ifndef PREVISION_EMULATOR_BRANCHSIM_H
#define PREVISION_EMULATOR_BRANCHSIM_H

#include <stdint.h>

#include "prevision/analyzer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a block ends, as far as prediction is concerned (pve_branch_site.kind). */
typedef enum pve_branch_kind {
    PVE_BR_NONE = 0, /**< no branch (or a direct jump: always predicted) */
    PVE_BR_COND,     /**< conditional branch: taken target in pve_branch_site.target */
    PVE_BR_IJUMP,    /**< indirect jump */
    PVE_BR_ICALL,    /**< indirect call: return address in pve_branch_site.ret */
    PVE_BR_CALL,     /**< direct call: only pushes pve_branch_site.ret on the return stack */
    PVE_BR_RET,      /**< return */
} pve_branch_kind;

/** The branch a block ends with: computed once per translated block. */
typedef struct pve_branch_site {
    uint64_t pc;     /**< address of the branch instruction */
    uint64_t target; /**< PVE_BR_COND: the taken target */
    uint64_t ret;    /**< PVE_BR_CALL / PVE_BR_ICALL: address after the call */
    uint32_t kind;   /**< pve_branch_kind */
} pve_branch_site;

/** Counters (what pv_branch_stats needs, plus returns). */
typedef struct pve_branch_stats {
    uint64_t cond;          /**< conditional branches seen */
    uint64_t cond_miss;     /**< of those, direction mispredicted */
    uint64_t indirect;      /**< indirect jumps and calls */
    uint64_t indirect_miss; /**< of those, target mispredicted */
    uint64_t ret;           /**< returns */
    uint64_t ret_miss;      /**< of those, mispredicted by the return stack */
} pve_branch_stats;

/** A simulator (opaque). */
typedef struct pve_branch pve_branch;

/**
 * Create a simulator with an empty history, every counter weakly
 * not-taken, and counting on.
 * @param out receives the simulator; free with pve_branch_free()
 * @return PV_OK or PV_ERR_NOMEM.
 */
int pve_branch_new(pve_branch **out);

/** Free a simulator. NULL is allowed. */
void pve_branch_free(pve_branch *b);

/** @return the name of the model, for pv_branch_stats.model ("tage-lite-4x1k+ittage-1k+ras32"). */
const char *pve_branch_model(void);

/**
 * The prediction site of a block from its last decoded instruction.
 * @param last      the block's last instruction (pv_decode_insn)
 * @param block_end address just after the block (where a call returns)
 * @param out       filled; kind PVE_BR_NONE when @p last is not a predicted branch
 */
void pve_branch_site_of(const pv_insn *last, uint64_t block_end, pve_branch_site *out);

/**
 * The block ending with @p prev went to @p next: predict and train.
 * Derives the outcome as described above (conditional: taken when @p next
 * is the taken target; indirect: the target is @p next; return: @p next).
 * Does nothing for PVE_BR_NONE.
 * @return 1 when the branch was mispredicted, 0 otherwise.
 */
int pve_branch_next(pve_branch *b, const pve_branch_site *prev, uint64_t next);

/** Predict and train one conditional branch at @p pc. @return 1 on a misprediction. */
int pve_branch_cond(pve_branch *b, uint64_t pc, int taken);

/** Predict and train one indirect jump (@p is_call 0) or call at @p pc that went to @p target. @return 1 on a misprediction. */
int pve_branch_indirect(pve_branch *b, uint64_t pc, uint64_t target, int is_call);

/** A call: push @p ret on the return stack. */
void pve_branch_call(pve_branch *b, uint64_t ret);

/** A return to @p target: pop the return stack. @return 1 when it predicted another address. */
int pve_branch_ret(pve_branch *b, uint64_t target);

/**
 * Counting on or off (the predictor still learns while off: functional
 * warm-up, as pve_cache_set_counting).
 */
void pve_branch_set_counting(pve_branch *b, int on);

/** Copy the counters. */
void pve_branch_get_stats(const pve_branch *b, pve_branch_stats *out);

/** Zero the counters (the predictor state stays). */
void pve_branch_reset_stats(pve_branch *b);

#ifdef __cplusplus
}
#endif
#endif
