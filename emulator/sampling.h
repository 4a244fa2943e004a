/**
 * @file sampling.h
 * @brief Module-internal: SMARTS-style sampled cache simulation and its extrapolation.
 *
 * Simulating every data access needs Unicorn memory hooks, which put every
 * load and store of the translated code on a slow path; switching hooks on
 * or off needs a flush of the translation cache. Sampling keeps the hooks
 * off most of the time and turns them on for short periodic windows:
 *
 *     offset          offset+P                        offset+2P
 *     |W warm|U meas|.......off.......|W warm|U meas|.......off.......|...
 *
 * Every P units (instructions, by default: the caller chooses the unit and
 * passes a monotonic count) a window opens: W units of warm-up, where the
 * cache contents are updated but nothing is counted (functional warming of
 * the state that went stale while the hooks were off), then U measured
 * units where the cache counts. The cache keeps its (stale) contents across
 * the off stretch, so it is never empty after the first window; the warm-up
 * refreshes what changed. Counts of the measured windows are extrapolated
 * to the whole run with ratio estimators, and their spread over windows
 * gives a confidence interval (see pve_sample_estimate()).
 *
 * The defaults (PVE_SAMPLER_OPTIONS_INIT) and the measurements behind them
 * are in docs/cache-simulation.md.
 */
#ifndef PREVISION_EMULATOR_SAMPLING_H
#define PREVISION_EMULATOR_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include "cachesim.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What the emulator should do now. */
typedef enum pve_sample_phase {
    PVE_SAMPLE_OFF = 0,     /**< memory hooks off: plain counting */
    PVE_SAMPLE_WARMUP = 1,  /**< hooks on, cache updated, nothing counted */
    PVE_SAMPLE_MEASURE = 2, /**< hooks on, cache counting */
} pve_sample_phase;

/** The schedule. All lengths in the caller's unit (instructions by default). */
typedef struct pve_sampler_options {
    int version;      /**< PVE_SAMPLER_OPTIONS_VERSION */
    uint64_t period;  /**< P: a window starts every P units; > 0 */
    uint64_t warmup;  /**< W: warm-up units at the start of each window */
    uint64_t measure; /**< U: measured units after the warm-up; > 0, W + U <= P */
    uint64_t offset;  /**< the first window's warm-up starts at this count */
    int jitter;       /**< 1: from the second period on, each window starts at a pseudo-random place
                           in its period (deterministic), not at the period's start */
} pve_sampler_options;
#define PVE_SAMPLER_OPTIONS_VERSION 1
/** Default schedule, in instructions: see docs/cache-simulation.md for why. */
#define PVE_SAMPLER_DEFAULT_PERIOD 10000000u
#define PVE_SAMPLER_DEFAULT_WARMUP 500000u
#define PVE_SAMPLER_DEFAULT_MEASURE 200000u
#define PVE_SAMPLER_OPTIONS_INIT                                                                       \
    {PVE_SAMPLER_OPTIONS_VERSION, PVE_SAMPLER_DEFAULT_PERIOD, PVE_SAMPLER_DEFAULT_WARMUP,              \
     PVE_SAMPLER_DEFAULT_MEASURE, 0, 0}

/** Counts of one measured window (differences of the cache's counters). */
typedef struct pve_window {
    uint64_t start;                          /**< count when measuring began */
    uint64_t units;                          /**< length measured */
    uint64_t accesses[PVE_CACHE_MAXLEVELS];  /**< accesses per level (reads + writes) */
    uint64_t misses[PVE_CACHE_MAXLEVELS];    /**< misses per level */
    uint64_t cold[PVE_CACHE_MAXLEVELS];      /**< of the misses, cold ones (lines never seen before) */
    uint64_t first[PVE_CACHE_MAXLEVELS];     /**< of the cold misses, first touches in the run */
} pve_window;

/** Whole-run estimate for one level. Confidence half-widths are < 0 when unknown (fewer than 2 windows). */
typedef struct pve_level_estimate {
    double accesses;        /**< estimated accesses over the whole run (below L1: the level above's misses) */
    double accesses_ci95;   /**< half-width of its 95% confidence interval */
    double misses;          /**< estimated misses over the whole run (cold misses weighed, see pve_sample_estimate) */
    double misses_ci95;
    double miss_rate;       /**< misses / accesses at this level */
    double miss_rate_ci95;
    double cold_miss_prob;  /**< q: the probability given to a re-reference seen cold of being a miss here */
    double misses_if_cold_missed; /**< estimate with q = 1: every re-reference seen cold a miss (an upper bound) */
    double misses_if_cold_hit;    /**< estimate with q = 0: they all hit (a lower bound) */
} pve_level_estimate;

/** Whole-run estimate. */
typedef struct pve_estimate {
    uint32_t nlevels;
    uint64_t nwindows;       /**< measured windows used */
    uint64_t total_units;    /**< length of the whole run */
    uint64_t measured_units; /**< sum of the windows' lengths */
    double fraction;         /**< measured_units / total_units, at most 1 */
    pve_level_estimate level[PVE_CACHE_MAXLEVELS];
} pve_estimate;

/**
 * The sampler. Fields are read by the inline pve_sampler_step(); treat
 * them as private.
 */
typedef struct pve_sampler {
    uint64_t next;           /**< the count at which the phase may change next */
    pve_sample_phase phase;  /**< current phase */
    pve_sampler_options o;
    pve_cache *cache;        /**< not owned */
    uint64_t win_period;     /**< period index of the open measured window */
    uint64_t win_start;
    pve_cache_level_stats at_start[PVE_CACHE_MAXLEVELS];
    pve_window *w;           /**< closed windows */
    size_t nw, capw;
    uint64_t switches;       /**< transitions between OFF and hooks-on phases */
    uint64_t win_period_seen; /**< period index of the last window announced to the cache */
    int failed;              /**< a window could not be recorded (out of memory) */
} pve_sampler;

/**
 * Create a sampler driving @p cache (not owned; it must outlive the
 * sampler). Starts in PVE_SAMPLE_OFF at count 0 with the cache's counting
 * off; call pve_sampler_step(s, 0) before the first instruction.
 * @return PV_OK; PV_ERR_INVALID for a bad schedule (message names the
 *         field); PV_ERR_NOMEM.
 */
int pve_sampler_new(pve_sampler **out, const pve_sampler_options *opts, pve_cache *cache);

/** Free a sampler (not its cache). NULL is allowed. */
void pve_sampler_free(pve_sampler *s);

/** Slow path of pve_sampler_step(); do not call directly. */
pve_sample_phase pve_sampler_advance_(pve_sampler *s, uint64_t now);

/**
 * Tell the sampler that @p now units have run (monotonic; call it from the
 * block hook with the instruction count before the block). Sets the
 * cache's counting on in MEASURE and off otherwise, and records each
 * measured window as it closes. If @p now jumped over several boundaries,
 * the phase is the one at @p now (a window whose measure part was jumped
 * over entirely is not recorded).
 * @return the phase for the code about to run. When it differs from the
 *         previous return between OFF and WARMUP/MEASURE, the memory hooks
 *         must be added or removed (with a translation-cache flush).
 */
static inline pve_sample_phase pve_sampler_step(pve_sampler *s, uint64_t now)
{
    if (__builtin_expect(now < s->next, 1))
        return s->phase;
    return pve_sampler_advance_(s, now);
}

/** @return the phase the last pve_sampler_step() returned (PVE_SAMPLE_OFF before the first). */
static inline pve_sample_phase pve_sampler_phase(const pve_sampler *s)
{
    return s->phase;
}

/** @return 1 when @p p needs the memory hooks (WARMUP or MEASURE). */
static inline int pve_sample_hooks_on(pve_sample_phase p)
{
    return p != PVE_SAMPLE_OFF;
}

/**
 * End of the run at count @p now: close an open measured window (a partial
 * window counts with its real length), turn counting off, and estimate the
 * whole run into @p out with pve_sample_estimate() (the cache's geometry,
 * @p footprint_bytes: the bytes of distinct data pages the run touched, 0
 * when unknown).
 * @return PV_OK; PV_ERR_NOMEM when a window could not be recorded during
 *         the run, or the cache could not remember the lines it saw (the
 *         estimate then uses what was recorded).
 */
int pve_sampler_finish(pve_sampler *s, uint64_t now, uint64_t footprint_bytes, pve_estimate *out);

/** @return the windows closed so far; @p n receives their number. */
const pve_window *pve_sampler_windows(const pve_sampler *s, size_t *n);

/** @return how many times the hooks had to be switched on or off. */
uint64_t pve_sampler_switches(const pve_sampler *s);

/** A unit of attribution (a block) for the per-block extrapolation of pve_sample_estimate_aux(). */
typedef struct pve_block_sample {
    uint64_t count;             /**< executions over the whole run (exact: the block counts) */
    const pve_cache_counts *cc; /**< its figures while counting; cc->execs executions were measured */
} pve_block_sample;

/** What the run knows besides the windows (pve_sample_estimate_aux()). Zero: nothing. */
typedef struct pve_sample_aux {
    uint64_t footprint_bytes;  /**< bytes of distinct data pages the run touched (the emulator: mincore) */
    uint64_t lines_seen;       /**< distinct last-level lines the simulator saw (pve_cache_seen) */
    uint64_t pages_seen;       /**< distinct pages of those lines */
    uint64_t pending;          /**< measured cold misses that were not first touches (pve_cache_recurred) */
    uint64_t recurred;         /**< of those, lines seen again in a later window */
    const pve_block_sample *blocks; /**< NULL, or per-block figures for the per-block extrapolation */
    size_t nblocks;
    uint64_t block_units;      /**< instructions of the run executed by blocks with measured executions
                                    (sum of count * instructions); 0 with no blocks */
} pve_sample_aux;

/**
 * Extrapolate measured windows to a run of @p total_units
 * (pve_sample_estimate_aux() without per-block figures or recurrence).
 */
int pve_sample_estimate(const pve_window *w, size_t n, const pve_cache_config *cfg, uint64_t total_units,
                        uint64_t footprint_bytes, pve_estimate *out);

/**
 * Extrapolate measured windows to a run of @p total_units (f = measured / total).
 *
 * The misses of a level of C lines are three parts (docs/cache-simulation.md
 * has the measurements behind this model):
 *
 *  - Warm misses, to lines the simulator had seen before: a ratio estimator.
 *    With per-block figures, post-stratified by block: block b contributes
 *    count_b * (misses_b - cold_b) / measured_executions_b, which the exact
 *    block counts weigh by what the whole run executed, not by what the
 *    windows happened to see (programs change phase); the instructions of
 *    blocks never measured get the windows' overall rate. Without blocks:
 *    T * sum(warm_i) / sum(u_i).
 *  - Compulsory misses: every line the run touched misses once. The
 *    footprint F (lines) lies between the lines seen and the pages touched
 *    times lines per page (pages: the larger of @p footprint_bytes and the
 *    pages of the lines seen): F = seen + (1 - f) * (pages * lines - seen),
 *    exact when everything was measured. Measured cold misses that were a
 *    first touch (pve_window.first) are among them and are not extrapolated.
 *  - Re-references the simulator saw cold (the line was touched before, while
 *    it was not looking): pending = cold - first per window, extrapolated by
 *    (1 - f) / f (the unobserved share of the run per observed unit: none
 *    when everything was measured) and weighed by the probability that they
 *    missed. A fraction rho of
 *    pending lines recurred in a later window (aux->recurred / aux->pending):
 *    they belong to a working set of WS = seen * rho lines, and miss with
 *    probability max(0, 1 - C / WS) (independent references over the
 *    working set); the others were streamed through, touched long before,
 *    and miss when F > C, hit when the footprint fits (with an unknown
 *    footprint, no pages, they miss).
 *
 * Accesses of the first level are extrapolated like warm misses (per block
 * when given); a lower level's accesses are the level above's misses. The
 * 95% half-widths come from the windows' spread of the per-window quantity
 * warm_i + q * pending_i (q the weight above) around the ratio estimate:
 *   SE(Y) = (T / mean(u)) * sqrt((1 - f) * s^2 / n), s^2 the variance of
 *   the residuals y_i - r u_i, half-width t(n-1, 0.975) * SE,
 * and for the miss rate SE(R) = sqrt((1 - f) sum((y_i - R a_i)^2) /
 * (n (n - 1))) / mean(a); -1 when unknown (fewer than two windows).
 *
 * @param w     windows (may be NULL when @p n is 0)
 * @param cfg   the simulated geometry (levels, sizes, lines)
 * @param aux   what else the run knows (NULL: nothing)
 * @param out   filled; with no windows everything is 0 and the CIs -1
 * @return PV_OK or PV_ERR_INVALID (bad configuration, or windows longer in
 *         all than @p total_units).
 */
int pve_sample_estimate_aux(const pve_window *w, size_t n, const pve_cache_config *cfg, uint64_t total_units,
                            const pve_sample_aux *aux, pve_estimate *out);

/**
 * pve_sampler_finish() with per-block figures and the cache's own record of
 * lines seen and recurrences (aux->lines_seen, pages_seen, pending and
 * recurred are filled from the sampler's cache; the caller gives the
 * footprint and the blocks).
 */
int pve_sampler_finish_aux(pve_sampler *s, uint64_t now, const pve_sample_aux *aux, pve_estimate *out);

/**
 * The profile's per-level cache statistics (pv_dynamic.caches).
 * @param c    the simulator (its geometry, and its counters when @p est is NULL)
 * @param est  NULL for a full simulation: counters copied, sampled_fraction 1,
 *             misses_ci95 0; or a sampled run's estimate: whole-run accesses
 *             and misses (rounded), the sampled fraction and the interval
 *             (-1 when unknown)
 * @param out  receives a calloc()ed array of pve_cache_nlevels(c) entries
 *             with strdup()ed names: assign it to pv_dynamic.caches (the
 *             profile then owns it) or free it yourself
 * @param n    receives the number of entries
 * @return PV_OK or PV_ERR_NOMEM.
 */
int pve_cache_stats_to_profile(const pve_cache *c, const pve_estimate *est, pv_cache_stats **out, uint32_t *n);

/** Copy a block's counts into the profile's per-block figures (pv_dynamic.block_cache[i]). */
void pve_cache_counts_to_profile(const pve_cache_counts *in, pv_block_cache *out);

/** @return the 0.975 quantile of Student's t with @p df degrees of freedom (df >= 1). */
double pve_t975(uint64_t df);

#ifdef __cplusplus
}
#endif
#endif
