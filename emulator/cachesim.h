/**
 * @file cachesim.h
 * @brief Module-internal: a multi-level set-associative LRU data-cache simulator.
 *
 * The model is cachegrind's: the levels are looked up in turn (an access goes
 * to L1; on a miss to L2; on a miss there to L3), every level is
 * write-allocate, and replacement is true LRU inside each set, kept by
 * move-to-front of the set's tags. A level does not know what the others
 * hold (no inclusion or exclusion is enforced); that is "inclusive by
 * lookup", like cachegrind and DineroIV's default.
 *
 * Write policy: write-allocate at every level (a write miss fills the line,
 * exactly as a read miss). A write marks the line dirty at each level it
 * looked up; evicting a dirty line counts one write-back at that level.
 * Write-backs are statistics only: they are not replayed as accesses into
 * the next level, so the lookup sequence (and therefore every hit and miss)
 * is the same as cachegrind's.
 *
 * An access that straddles lines (an unaligned 8-byte load across a 64-byte
 * boundary, a 16-byte SSE store...) looks up every line it touches, each
 * line going down the hierarchy on its own. It counts as one access at a
 * level when at least one of its lines reached that level, and as one miss
 * there when at least one of them missed. (cachegrind differs only in that,
 * once either line missed L1, it sends both lines to the last level.)
 *
 * Speed: the hot path is pve_cache_access(): shifts and masks for
 * power-of-two set counts (a modulo only for the others, such as a 96 MiB
 * 16-way L3), a fixed array of tags per set in MRU order, no allocation,
 * and an L1 most-recently-used test first. Counters are written through a
 * pointer that points at a sink while counting is off, so warm-up costs no
 * extra branch.
 *
 * Not thread-safe: one simulator per emulated machine, driven from the
 * thread that runs the emulator.
 */
#ifndef PREVISION_EMULATOR_CACHESIM_H
#define PREVISION_EMULATOR_CACHESIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most cache levels one simulator holds. */
#define PVE_CACHE_MAXLEVELS 4

/** Geometry of one level. */
typedef struct pve_cache_level_config {
    char name[8];     /**< "L1d", "L2", "L3" (NUL-terminated, informational) */
    uint64_t size;    /**< total bytes; must be a multiple of line * assoc */
    uint32_t line;    /**< line size in bytes, a power of two (8 .. 4096) */
    uint32_t assoc;   /**< ways; 0 = fully associative (size / line ways) */
} pve_cache_level_config;

/** Geometry of the hierarchy, L1 first. */
typedef struct pve_cache_config {
    int version;                                      /**< PVE_CACHE_CONFIG_VERSION */
    uint32_t nlevels;                                 /**< 1 .. PVE_CACHE_MAXLEVELS */
    pve_cache_level_config levels[PVE_CACHE_MAXLEVELS];
    /** 1: remember every last-level line the simulator has seen, and count
     *  a miss to a line never seen before as cold (cold_misses). For
     *  sampled simulation, where such a line may have been touched while
     *  the simulator was not looking; costs a hash probe per last-level
     *  miss and 8 bytes (or so) per distinct line. */
    int track_cold;
    /** With track_cold, NULL or a test of whether a cold line is touched for the first time in the
     *  run (its page was never touched before: the emulator asks the host's page residency), called
     *  on cold misses only: such a miss is compulsory, whatever the history the simulator missed,
     *  and counts in first_misses too. */
    int (*first_touch)(void *ctx, uint64_t addr);
    void *first_touch_ctx;
} pve_cache_config;
#define PVE_CACHE_CONFIG_VERSION 1
/** An empty configuration; fill levels[] or call pve_cache_config_default(). */
#define PVE_CACHE_CONFIG_INIT {PVE_CACHE_CONFIG_VERSION, 0, {{{0}, 0, 0, 0}}, 0, NULL, NULL}

/**
 * The level used when the topology does not describe one: @p level is 1
 * (L1d: 48 KiB, 12-way, 64 B lines), 2 (L2: 1 MiB, 16-way) or 3 (L3:
 * 32 MiB, 16-way), which is one core's view of a current x86-64 server
 * (Zen 4/5, Sapphire Rapids class). Other levels give a zeroed config.
 */
void pve_cache_default_level(uint32_t level, pve_cache_level_config *out);

/** Fill @p cfg with the three default levels (version set, nlevels = 3). */
void pve_cache_config_default(pve_cache_config *cfg);

/**
 * Check a configuration: version, 1..PVE_CACHE_MAXLEVELS levels, each with a
 * power-of-two line of 8..4096 bytes, a size that is a non-zero multiple of
 * line * assoc, and at most 1024 ways.
 * @return PV_OK or PV_ERR_INVALID with a message naming the level and field.
 */
int pve_cache_config_check(const pve_cache_config *cfg);

/** Counters of one level. */
typedef struct pve_cache_level_stats {
    uint64_t reads;        /**< read accesses that reached this level */
    uint64_t writes;       /**< write accesses that reached this level */
    uint64_t read_misses;  /**< of those, misses */
    uint64_t write_misses;
    uint64_t writebacks;   /**< dirty lines evicted from this level */
    uint64_t cold_misses;  /**< of the misses, those to a line never seen before (track_cold only;
                                such an access misses every level, so all levels count it) */
    uint64_t first_misses; /**< of the cold misses, first touches in the run (first_touch said so) */
} pve_cache_level_stats;

/**
 * Misses charged to one block (or any other unit of attribution):
 * dr/dw count the reads and writes, mr[k]/mw[k] the read and write misses
 * at level k (0 = L1). An access that missed L1 and L2 and hit L3 adds one
 * to mr[0] and mr[1].
 */
typedef struct pve_cache_counts {
    uint64_t dr, dw;
    uint64_t mr[PVE_CACHE_MAXLEVELS];
    uint64_t mw[PVE_CACHE_MAXLEVELS];
    uint64_t cold;   /**< of the accesses, misses to lines never seen before (track_cold only) */
    uint64_t first;  /**< of those, first touches in the run (first_touch) */
    uint64_t execs;  /**< executions of the unit while counting (kept by the caller: the emulator's block hook) */
} pve_cache_counts;

/** A simulator (opaque). */
typedef struct pve_cache pve_cache;

/**
 * Create a simulator with every line invalid and counting on.
 * @param out receives the simulator; free with pve_cache_free()
 * @param cfg geometry (copied)
 * @return PV_OK; PV_ERR_INVALID as pve_cache_config_check(); PV_ERR_NOMEM.
 */
int pve_cache_new(pve_cache **out, const pve_cache_config *cfg);

/** Free a simulator. NULL is allowed. */
void pve_cache_free(pve_cache *c);

/** @return the number of levels. */
uint32_t pve_cache_nlevels(const pve_cache *c);

/** @return the geometry of level @p i (0 = L1), as given to pve_cache_new(). */
const pve_cache_level_config *pve_cache_level(const pve_cache *c, uint32_t i);

/**
 * Simulate one data access of @p size bytes at guest address @p addr.
 * @p size 0 is treated as 1. Updates the LRU state always, and the counters
 * only while counting is on.
 * @return the number of levels that missed, from the top: 0 = L1 hit,
 *         1 = L1 miss and L2 hit, ..., nlevels = missed every level
 *         (for a straddling access, the deepest of its lines).
 */
unsigned pve_cache_access(pve_cache *c, uint64_t addr, uint32_t size, int is_write);

/**
 * Turn counting on or off. Off: accesses still update the cache contents
 * (functional warm-up) but no counter changes, and pve_cache_counting()
 * says so to callers that attribute misses to blocks.
 */
void pve_cache_set_counting(pve_cache *c, int on);

/** @return 1 while counting is on. */
int pve_cache_counting(const pve_cache *c);

/**
 * Charge an access that pve_cache_access() answered @p depth for to @p b.
 * The caller does this only while pve_cache_counting() is 1.
 */
static inline void pve_cache_count(pve_cache_counts *b, unsigned depth, int is_write)
{
    uint64_t *m = is_write ? b->mw : b->mr;
    if (is_write)
        b->dw++;
    else
        b->dr++;
    for (unsigned k = 0; k < depth && k < PVE_CACHE_MAXLEVELS; k++)
        m[k]++;
}

/**
 * pve_cache_access() plus pve_cache_count() into @p b when counting is on
 * (@p b may be NULL), and b->cold when the access was cold. The one call a
 * memory hook needs.
 * @return as pve_cache_access().
 */
unsigned pve_cache_access_count(pve_cache *c, uint64_t addr, uint32_t size, int is_write,
                                pve_cache_counts *b);

/** @return 1 when the last pve_cache_access() missed on a line never seen before (track_cold only). */
int pve_cache_last_cold(const pve_cache *c);

/** Copy the counters of every level into @p out[0 .. nlevels). */
void pve_cache_get_stats(const pve_cache *c, pve_cache_level_stats *out);

/** Zero the counters (the contents stay). */
void pve_cache_reset_stats(pve_cache *c);

/** Invalidate every line (the counters and the lines seen for track_cold stay). */
void pve_cache_invalidate(pve_cache *c);

/**
 * @return 1 when track_cold could not grow its table of seen lines (out of
 * memory): from then on, misses to unknown lines are not classified cold.
 */
int pve_cache_cold_failed(const pve_cache *c);

/**
 * What track_cold remembered: the distinct last-level lines the simulator
 * has seen, and the distinct 4 KiB pages they lie in (their density tells
 * how many lines of a touched page a program uses).
 * @param lines receives the number of lines (0 without track_cold)
 * @param pages receives the number of pages (0 when unknown: out of memory)
 */
void pve_cache_seen(const pve_cache *c, uint64_t *lines, uint64_t *pages);

/** A new window of observation begins (sampled simulation: the memory hooks went on again). */
void pve_cache_next_window(pve_cache *c);

/**
 * Recurrence of cold lines (track_cold): a cold miss counted while counting
 * was on, and not a first touch, leaves its line pending; the line recurs
 * when it is accessed again in a later window (pve_cache_next_window()).
 * A recurring line belongs to a working set that outlives a window, so its
 * first sighting was most likely a hit in a cache that holds that working
 * set; a line that never recurs was streamed through.
 * @param pending receives the number of pending first sightings (may be NULL)
 * @return how many of them recurred.
 */
uint64_t pve_cache_recurred(const pve_cache *c, uint64_t *pending);

#ifdef __cplusplus
}
#endif
#endif
