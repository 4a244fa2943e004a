/* Tests for emulator/cachesim.c: hand-computed traces and a cross-check
 * against a deliberately naive reference simulator on random traces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/cachesim.h"
#include "prevision/error.h"

static void level_set(pve_cache_config *cfg, uint32_t i, const char *name, uint64_t size, uint32_t line,
                      uint32_t assoc)
{
    pve_cache_level_config *l = &cfg->levels[i];
    memset(l, 0, sizeof *l);
    strncpy(l->name, name, sizeof l->name - 1);
    l->size = size;
    l->line = line;
    l->assoc = assoc;
    if (cfg->nlevels < i + 1)
        cfg->nlevels = i + 1;
}

static pve_cache *make(const pve_cache_config *cfg)
{
    pve_cache *c = NULL;
    assert_int_equal(pve_cache_new(&c, cfg), PV_OK);
    assert_non_null(c);
    return c;
}

static pve_cache_level_stats stats_of(const pve_cache *c, uint32_t level)
{
    pve_cache_level_stats st[PVE_CACHE_MAXLEVELS];
    pve_cache_get_stats(c, st);
    return st[level];
}

static uint64_t misses(const pve_cache *c, uint32_t level)
{
    pve_cache_level_stats s = stats_of(c, level);
    return s.read_misses + s.write_misses;
}

static uint64_t accesses(const pve_cache *c, uint32_t level)
{
    pve_cache_level_stats s = stats_of(c, level);
    return s.reads + s.writes;
}

/* ---------------------------------------------------------------- */

static void direct_mapped_conflicts(void **state)
{
    (void)state;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    level_set(&cfg, 0, "L1d", 256, 64, 1); /* 4 sets of one line */
    pve_cache *c = make(&cfg);
    /* 0 and 256 map to set 0 and evict each other every time. */
    for (int i = 0; i < 6; i++)
        assert_int_equal(pve_cache_access(c, (i & 1) ? 256 : 0, 4, 0), 1);
    assert_int_equal(misses(c, 0), 6);
    /* 64, 128, 192 go to sets 1..3: cold misses, then hits; set 0 still holds 256. */
    assert_int_equal(pve_cache_access(c, 64, 4, 0), 1);
    assert_int_equal(pve_cache_access(c, 128, 4, 0), 1);
    assert_int_equal(pve_cache_access(c, 192, 4, 0), 1);
    assert_int_equal(pve_cache_access(c, 256 + 8, 4, 0), 0);
    assert_int_equal(pve_cache_access(c, 64 + 60, 4, 0), 0);
    assert_int_equal(pve_cache_access(c, 128, 8, 1), 0);
    assert_int_equal(accesses(c, 0), 12);
    assert_int_equal(misses(c, 0), 9);
    assert_int_equal(stats_of(c, 0).writes, 1);
    /* Evicting the line written at 128 is one write-back; 192 was only read. */
    assert_int_equal(pve_cache_access(c, 128 + 1024, 4, 0), 1);
    assert_int_equal(pve_cache_access(c, 192 + 1024, 4, 0), 1);
    assert_int_equal(stats_of(c, 0).writebacks, 1);
    pve_cache_free(c);
}

static void lru_order_four_way(void **state)
{
    (void)state;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    level_set(&cfg, 0, "L1d", 256, 64, 4); /* one set of four ways */
    pve_cache *c = make(&cfg);
    enum { A = 0, B = 64, C = 128, D = 192, E = 256 };
    /* Hand-computed MRU order after each access, most recent first. */
    struct { uint64_t addr; unsigned miss; } trace[] = {
        {A, 1}, {B, 1}, {C, 1}, {D, 1}, /* D C B A */
        {A, 0},                         /* A D C B */
        {E, 1},                         /* E A D C, B evicted */
        {B, 1},                         /* B E A D, C evicted */
        {D, 0},                         /* D B E A */
        {C, 1},                         /* C D B E, A evicted */
        {A, 1},                         /* A C D B, E evicted */
        {B, 0},                         /* B A C D */
        {E, 1},                         /* E B A C, D evicted */
        {C, 0}, {A, 0}, {B, 0}, {E, 0}, /* E B A C */
        {D, 1},                         /* D E B A, C evicted */
        {C, 1},
    };
    uint64_t nmiss = 0;
    for (size_t i = 0; i < sizeof trace / sizeof *trace; i++) {
        assert_int_equal(pve_cache_access(c, trace[i].addr + (i % 7) * 8, 1 + (uint32_t)(i % 8), 0), trace[i].miss);
        nmiss += trace[i].miss;
    }
    assert_int_equal(accesses(c, 0), sizeof trace / sizeof *trace);
    assert_int_equal(misses(c, 0), nmiss);
    assert_int_equal(nmiss, 11);
    pve_cache_free(c);
}

/* Small three-level hierarchy: L1 1 KiB 2-way (16 lines), L2 4 KiB 4-way
 * (64 lines), L3 16 KiB 8-way (256 lines). Ten sequential 8-byte passes
 * over a working set: a set that fits a level misses there only the first
 * time; a cyclic set larger than a level misses there on every line of
 * every pass (LRU). */
static void working_set_levels(void **state)
{
    (void)state;
    struct { uint64_t bytes; uint64_t m1, m2, m3; unsigned depth_last; } cases[] = {
        {512, 8, 8, 8, 0},                        /* fits L1 */
        {2048, 32 * 10, 32, 32, 1},               /* spills to L2 */
        {8192, 128 * 10, 128 * 10, 128, 2},       /* spills to L3 */
        {32768, 512 * 10, 512 * 10, 512 * 10, 3}, /* spills past L3 */
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
        level_set(&cfg, 0, "L1d", 1024, 64, 2);
        level_set(&cfg, 1, "L2", 4096, 64, 4);
        level_set(&cfg, 2, "L3", 16384, 64, 8);
        pve_cache *c = make(&cfg);
        unsigned depth = 0;
        for (int pass = 0; pass < 10; pass++)
            for (uint64_t a = 0; a < cases[t].bytes; a += 8) {
                unsigned d = pve_cache_access(c, 0x100000 + a, 8, pass & 1);
                if (a % 64 == 0)
                    depth = d;
                else
                    assert_int_equal(d, 0); /* rest of the line: L1 hit */
            }
        assert_int_equal(accesses(c, 0), cases[t].bytes / 8 * 10);
        assert_int_equal(misses(c, 0), cases[t].m1);
        assert_int_equal(accesses(c, 1), cases[t].m1);
        assert_int_equal(misses(c, 1), cases[t].m2);
        assert_int_equal(accesses(c, 2), cases[t].m2);
        assert_int_equal(misses(c, 2), cases[t].m3);
        assert_int_equal(depth, cases[t].depth_last);
        pve_cache_free(c);
    }
}

static void straddling_accesses(void **state)
{
    (void)state;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    level_set(&cfg, 0, "L1d", 1024, 64, 2);
    level_set(&cfg, 1, "L2", 4096, 64, 4);
    pve_cache *c = make(&cfg);
    /* Bytes 60..67: lines 0 and 1, both cold: one access, one miss at each level. */
    assert_int_equal(pve_cache_access(c, 60, 8, 0), 2);
    assert_int_equal(accesses(c, 0), 1);
    assert_int_equal(misses(c, 0), 1);
    assert_int_equal(misses(c, 1), 1);
    /* Both lines are now in: */
    assert_int_equal(pve_cache_access(c, 0, 4, 0), 0);
    assert_int_equal(pve_cache_access(c, 64, 4, 0), 0);
    /* 120..135: line 1 hits, line 2 misses: still one access and one miss. */
    assert_int_equal(pve_cache_access(c, 120, 16, 1), 2);
    assert_int_equal(accesses(c, 0), 4);
    assert_int_equal(misses(c, 0), 2);
    assert_int_equal(stats_of(c, 0).write_misses, 1);
    assert_int_equal(pve_cache_access(c, 128, 8, 0), 0);
    /* A straddle where one line is in L2 only: lines 3, 11 and 19 share L1
     * set 3 (2 ways), so 19 evicts 3 from L1; L2 keeps it. Then touch 3 and 4. */
    assert_int_equal(pve_cache_access(c, 3 * 64, 4, 0), 2);
    assert_int_equal(pve_cache_access(c, 11 * 64, 4, 0), 2);
    assert_int_equal(pve_cache_access(c, 19 * 64, 4, 0), 2); /* set 3: 3, 11 -> 19 evicts 3 */
    uint64_t m1 = misses(c, 0), a2 = accesses(c, 1), m2 = misses(c, 1);
    assert_int_equal(pve_cache_access(c, 4 * 64 - 2, 4, 0), 2); /* line 3: L2 hit; line 4: cold */
    assert_int_equal(misses(c, 0), m1 + 1);
    assert_int_equal(accesses(c, 1), a2 + 1);
    assert_int_equal(misses(c, 1), m2 + 1);
    /* A large access (512 bytes, fxsave-like) covers 8 lines: one access. */
    uint64_t a1 = accesses(c, 0);
    pve_cache_access(c, 0x10000, 512, 1);
    assert_int_equal(accesses(c, 0), a1 + 1);
    for (uint64_t a = 0x10000; a < 0x10000 + 512; a += 64)
        assert_int_equal(pve_cache_access(c, a, 8, 0), 0);
    /* The very top of the address space does not wrap. */
    pve_cache_access(c, UINT64_MAX - 3, 8, 0);
    pve_cache_free(c);
}

static void non_power_of_two(void **state)
{
    (void)state;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    level_set(&cfg, 0, "L1d", 192, 64, 1); /* 3 sets, direct mapped */
    pve_cache *c = make(&cfg);
    /* Lines 0, 1, 2 fill the three sets; line 3 maps to set 0 (3 mod 3), not set 3. */
    for (int i = 0; i < 2; i++)
        for (uint64_t l = 0; l < 3; l++)
            assert_int_equal(pve_cache_access(c, l * 64, 8, 0), i == 0);
    assert_int_equal(pve_cache_access(c, 3 * 64, 8, 0), 1);
    assert_int_equal(pve_cache_access(c, 1 * 64, 8, 0), 0);
    assert_int_equal(pve_cache_access(c, 2 * 64, 8, 0), 0);
    assert_int_equal(pve_cache_access(c, 0, 8, 0), 1);
    assert_int_equal(pve_cache_access(c, 4 * 64, 8, 0), 1); /* set 1 */
    assert_int_equal(pve_cache_access(c, 1 * 64, 8, 0), 1);
    pve_cache_free(c);

    /* 12-way, 3 sets: 36 distinct lines fit exactly, 39 in a cycle thrash. */
    pve_cache_config cfg2 = PVE_CACHE_CONFIG_INIT;
    level_set(&cfg2, 0, "L1d", 64 * 12 * 3, 64, 12);
    c = make(&cfg2);
    for (int pass = 0; pass < 3; pass++)
        for (uint64_t l = 0; l < 36; l++)
            pve_cache_access(c, l * 64, 8, 0);
    assert_int_equal(misses(c, 0), 36);
    pve_cache_reset_stats(c);
    pve_cache_invalidate(c);
    for (int pass = 0; pass < 3; pass++)
        for (uint64_t l = 0; l < 39; l++)
            pve_cache_access(c, l * 64, 8, 0);
    assert_int_equal(misses(c, 0), 39 * 3);
    pve_cache_free(c);

    /* The real non-power-of-two geometries of current parts build and work:
     * 48 KiB 12-way, 1.25 MiB 10-way, 96 MiB 16-way (98304 sets). */
    pve_cache_config cfg3 = PVE_CACHE_CONFIG_INIT;
    level_set(&cfg3, 0, "L1d", 48 << 10, 64, 12);
    level_set(&cfg3, 1, "L2", 1280 << 10, 64, 10);
    level_set(&cfg3, 2, "L3", 96ull << 20, 64, 16);
    c = make(&cfg3);
    /* 64 MiB streamed twice fits the 96 MiB L3: the second pass hits there. */
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t a = 0; a < (64ull << 20); a += 64)
            pve_cache_access(c, a, 8, 0);
    assert_int_equal(misses(c, 2), (64ull << 20) / 64);
    assert_int_equal(misses(c, 0), 2 * (64ull << 20) / 64);
    pve_cache_free(c);
}

static void counting_switch(void **state)
{
    (void)state;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    level_set(&cfg, 0, "L1d", 1024, 64, 2);
    level_set(&cfg, 1, "L2", 4096, 64, 4);
    pve_cache *c = make(&cfg);
    pve_cache_counts blk = {0};
    assert_int_equal(pve_cache_counting(c), 1);
    pve_cache_set_counting(c, 0);
    assert_int_equal(pve_cache_counting(c), 0);
    /* Warm-up: the contents change, no counter does. */
    assert_int_equal(pve_cache_access_count(c, 0x40, 8, 1, &blk), 2);
    assert_int_equal(accesses(c, 0), 0);
    assert_int_equal(blk.dw, 0);
    pve_cache_set_counting(c, 1);
    assert_int_equal(pve_cache_access_count(c, 0x40, 8, 0, &blk), 0);
    assert_int_equal(pve_cache_access_count(c, 0x1040, 8, 0, &blk), 2);
    assert_int_equal(pve_cache_access_count(c, 0x2040, 8, 1, &blk), 2); /* set 1: 0x40 evicted, dirty */
    assert_int_equal(accesses(c, 0), 3);
    assert_int_equal(stats_of(c, 0).writebacks, 1);
    assert_int_equal(blk.dr, 2);
    assert_int_equal(blk.dw, 1);
    assert_int_equal(blk.mr[0], 1);
    assert_int_equal(blk.mr[1], 1);
    assert_int_equal(blk.mw[0], 1);
    assert_int_equal(blk.mw[1], 1);
    pve_cache_reset_stats(c);
    assert_int_equal(accesses(c, 0), 0);
    assert_int_equal(pve_cache_nlevels(c), 2);
    assert_string_equal(pve_cache_level(c, 1)->name, "L2");
    assert_null(pve_cache_level(c, 2));
    pve_cache_free(c);
}

/* Misses to lines never seen before are cold; a line seen, evicted and
 * missed again is not. */
static void cold_misses(void **state)
{
    (void)state;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    level_set(&cfg, 0, "L1d", 1024, 64, 2);
    level_set(&cfg, 1, "L2", 4096, 128, 4); /* larger lines: seen at L2 granularity */
    cfg.track_cold = 1;
    pve_cache *c = make(&cfg);
    pve_cache_access(c, 0x10000, 8, 0);
    assert_int_equal(stats_of(c, 0).cold_misses, 1);
    assert_int_equal(stats_of(c, 1).cold_misses, 1);
    /* Same 128-byte L2 line, other L1 line: an L1 miss that hits L2, not cold. */
    assert_int_equal(pve_cache_access(c, 0x10040, 8, 0), 1);
    assert_int_equal(stats_of(c, 0).cold_misses, 1);
    /* Thrash both levels with 64 other lines, then come back: a miss, not cold. */
    for (uint64_t a = 0; a < 64; a++)
        pve_cache_access(c, 0x100000 + a * 128, 8, 1);
    assert_int_equal(stats_of(c, 1).cold_misses, 65);
    assert_int_equal(pve_cache_access(c, 0x10000, 8, 0), 2);
    assert_int_equal(stats_of(c, 1).cold_misses, 65);
    assert_int_equal(misses(c, 1), 66);
    /* A straddle over a seen and an unseen line is one cold miss. */
    assert_int_equal(pve_cache_access(c, 0x10080 - 4, 8, 0), 2);
    assert_int_equal(stats_of(c, 0).cold_misses, 66);
    /* Counting off: lines are still remembered, nothing counted. */
    pve_cache_set_counting(c, 0);
    pve_cache_access(c, 0x900000, 8, 0);
    pve_cache_set_counting(c, 1);
    for (uint64_t a = 0; a < 64; a++)
        pve_cache_access(c, 0x100000 + a * 128, 8, 1);
    assert_int_equal(pve_cache_access(c, 0x900000, 8, 0), 2);
    assert_int_equal(stats_of(c, 1).cold_misses, 66);
    /* Many lines: the table grows and still knows every one. */
    for (uint64_t a = 0; a < 200000; a++)
        pve_cache_access(c, 0x40000000 + a * 128, 8, 0);
    assert_int_equal(stats_of(c, 1).cold_misses, 66 + 200000);
    for (uint64_t a = 0; a < 200000; a++)
        pve_cache_access(c, 0x40000000 + a * 128, 8, 0);
    assert_int_equal(stats_of(c, 1).cold_misses, 66 + 200000);
    assert_int_equal(pve_cache_cold_failed(c), 0);
    pve_cache_free(c);
    /* Without track_cold nothing is cold. */
    cfg.track_cold = 0;
    c = make(&cfg);
    pve_cache_access(c, 0x10000, 8, 0);
    assert_int_equal(stats_of(c, 1).cold_misses, 0);
    pve_cache_free(c);
}

static int below_1m(void *ctx, uint64_t addr)
{
    (*(int *)ctx)++;
    return addr < 0x100000;
}

/* First touches (the first_touch callback) and recurrence of cold lines across windows; the lines and
 * pages seen. */
static void first_touch_and_recurrence(void **state)
{
    (void)state;
    int calls = 0;
    uint64_t pend, lines, pages;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    level_set(&cfg, 0, "L1d", 1024, 64, 2);
    level_set(&cfg, 1, "L2", 4096, 64, 4);
    cfg.track_cold = 1;
    cfg.first_touch = below_1m;
    cfg.first_touch_ctx = &calls;
    pve_cache *c = make(&cfg);
    pve_cache_counts b = {0};
    /* a first touch: cold and first, not pending */
    pve_cache_access_count(c, 0x1000, 8, 0, &b);
    assert_int_equal(stats_of(c, 1).cold_misses, 1);
    assert_int_equal(stats_of(c, 1).first_misses, 1);
    assert_int_equal(b.cold, 1);
    assert_int_equal(b.first, 1);
    assert_int_equal(pve_cache_recurred(c, &pend), 0);
    assert_int_equal(pend, 0);
    /* a re-reference seen cold: pending; the callback runs only for cold lines */
    pve_cache_access_count(c, 0x200000, 8, 0, &b);
    pve_cache_access_count(c, 0x200000, 8, 0, &b);
    assert_int_equal(calls, 2);
    assert_int_equal(stats_of(c, 1).first_misses, 1);
    assert_int_equal(b.cold, 2);
    assert_int_equal(pve_cache_recurred(c, &pend), 0);
    assert_int_equal(pend, 1);
    /* seen again in the same window: not a recurrence; in a later one (an L1 hit): once */
    pve_cache_access(c, 0x200000, 8, 1);
    assert_int_equal(pve_cache_recurred(c, NULL), 0);
    pve_cache_next_window(c);
    assert_int_equal(pve_cache_access(c, 0x200000, 8, 0), 0);
    assert_int_equal(pve_cache_recurred(c, NULL), 1);
    pve_cache_access(c, 0x200000, 8, 0);
    assert_int_equal(pve_cache_recurred(c, NULL), 1);
    /* a pending line evicted from every level, back in a later window: recurs through the lines seen */
    pve_cache_access(c, 0x300000, 8, 0);
    assert_int_equal(pve_cache_recurred(c, &pend), 1);
    assert_int_equal(pend, 2);
    for (uint64_t a = 0; a < 128; a++)
        pve_cache_access(c, 0x400000 + a * 64, 8, 0);
    pve_cache_next_window(c);
    assert_int_equal(pve_cache_access(c, 0x300000, 8, 0), 2);
    assert_int_equal(pve_cache_recurred(c, NULL), 2);
    /* warm-up (counting off): cold lines are not pending */
    pve_cache_set_counting(c, 0);
    pve_cache_access(c, 0x500000, 8, 0);
    pve_cache_set_counting(c, 1);
    pve_cache_recurred(c, &pend);
    assert_int_equal(pend, 2 + 128);
    /* lines and pages seen: 0x1000, 0x200000, 0x300000, 0x500000, and 128 lines over 2 pages */
    pve_cache_seen(c, &lines, &pages);
    assert_int_equal(lines, 4 + 128);
    assert_int_equal(pages, 4 + 2);
    pve_cache_free(c);
}

static void bad_configs(void **state)
{
    (void)state;
    pve_cache *c = (pve_cache *)(uintptr_t)1;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    assert_int_equal(pve_cache_new(&c, &cfg), PV_ERR_INVALID); /* no levels */
    assert_null(c);
    assert_non_null(strstr(pv_error_last(), "levels"));
    level_set(&cfg, 0, "L1d", 1024, 48, 2);
    assert_int_equal(pve_cache_new(&c, &cfg), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "line size 48"));
    level_set(&cfg, 0, "L1d", 1000, 64, 2);
    assert_int_equal(pve_cache_new(&c, &cfg), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "L1d"));
    level_set(&cfg, 0, "L1d", 64 * 3 * 4, 64, 8);
    assert_int_equal(pve_cache_new(&c, &cfg), PV_ERR_INVALID);
    level_set(&cfg, 0, "L1d", 1 << 20, 64, 0); /* fully associative, 16384 ways */
    assert_int_equal(pve_cache_new(&c, &cfg), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "ways"));
    cfg.nlevels = PVE_CACHE_MAXLEVELS + 1;
    assert_int_equal(pve_cache_new(&c, &cfg), PV_ERR_INVALID);
    pve_cache_config_default(&cfg);
    cfg.version = 99;
    assert_int_equal(pve_cache_new(&c, &cfg), PV_ERR_INVALID);
    assert_int_equal(pve_cache_config_check(NULL), PV_ERR_INVALID);
    pve_cache_config_default(&cfg);
    assert_int_equal(pve_cache_config_check(&cfg), PV_OK);
    assert_int_equal(cfg.nlevels, 3);
    assert_string_equal(cfg.levels[0].name, "L1d");
    assert_int_equal(cfg.levels[2].size, 32u << 20);
    pve_cache_level_config l;
    pve_cache_default_level(4, &l);
    assert_int_equal(l.size, 0);
    /* Fully associative within the limit works: 16 lines, LRU over all. */
    pve_cache_config fa = PVE_CACHE_CONFIG_INIT;
    level_set(&fa, 0, "FA", 1024, 64, 0);
    c = make(&fa);
    assert_int_equal(pve_cache_level(c, 0)->assoc, 16);
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t l2 = 0; l2 < 16; l2++)
            pve_cache_access(c, l2 * 4096, 8, 0);
    assert_int_equal(misses(c, 0), 16);
    pve_cache_free(c);
    pve_cache_free(NULL);
}

/* ---------------------------------------------------------------- */
/* Reference: ways with last-use timestamps, linear search, victim = an
 * invalid way or the oldest. Different bookkeeping from the simulator's
 * move-to-front, same model. */

typedef struct ref_way {
    int valid, dirty;
    uint64_t block;
    uint64_t stamp;
} ref_way;

typedef struct ref_level {
    uint64_t nsets;
    uint32_t assoc, line;
    ref_way *ways;
    pve_cache_level_stats st;
} ref_level;

typedef struct ref_cache {
    uint32_t n;
    ref_level l[PVE_CACHE_MAXLEVELS];
    uint64_t clock;
    int counting;
} ref_cache;

static void ref_init(ref_cache *r, const pve_cache_config *cfg)
{
    memset(r, 0, sizeof *r);
    r->n = cfg->nlevels;
    r->counting = 1;
    for (uint32_t i = 0; i < r->n; i++) {
        const pve_cache_level_config *lc = &cfg->levels[i];
        r->l[i].line = lc->line;
        r->l[i].assoc = lc->assoc ? lc->assoc : (uint32_t)(lc->size / lc->line);
        r->l[i].nsets = lc->size / lc->line / r->l[i].assoc;
        r->l[i].ways = calloc(r->l[i].nsets * r->l[i].assoc, sizeof(ref_way));
        assert_non_null(r->l[i].ways);
    }
}

static void ref_free(ref_cache *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        free(r->l[i].ways);
}

static int ref_lookup(ref_cache *r, ref_level *l, uint64_t addr, int w)
{
    uint64_t block = addr / l->line;
    ref_way *s = l->ways + (block % l->nsets) * l->assoc;
    ref_way *victim = NULL;
    r->clock++;
    for (uint32_t i = 0; i < l->assoc; i++)
        if (s[i].valid && s[i].block == block) {
            s[i].stamp = r->clock;
            s[i].dirty |= w;
            return 0;
        }
    for (uint32_t i = 0; i < l->assoc; i++) {
        if (!s[i].valid) {
            victim = &s[i];
            break;
        }
        if (!victim || s[i].stamp < victim->stamp)
            victim = &s[i];
    }
    if (victim->valid && victim->dirty && r->counting)
        l->st.writebacks++;
    victim->valid = 1;
    victim->dirty = w;
    victim->block = block;
    victim->stamp = r->clock;
    return 1;
}

static unsigned ref_access(ref_cache *r, uint64_t addr, uint32_t size, int w)
{
    uint64_t line0 = r->l[0].line;
    uint64_t end = addr + (size ? size - 1 : 0);
    if (end < addr)
        end = UINT64_MAX;
    unsigned deepest = 0;
    for (uint64_t b = addr / line0; b <= end / line0; b++) {
        unsigned k = 0;
        while (k < r->n && ref_lookup(r, &r->l[k], b * line0, w))
            k++;
        if (k > deepest)
            deepest = k;
        if (b == UINT64_MAX / line0)
            break;
    }
    if (r->counting)
        for (unsigned k = 0; k < r->n && k <= deepest; k++) {
            if (w)
                r->l[k].st.writes++;
            else
                r->l[k].st.reads++;
            if (k < deepest) {
                if (w)
                    r->l[k].st.write_misses++;
                else
                    r->l[k].st.read_misses++;
            }
        }
    return deepest;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void cross_check(const pve_cache_config *cfg, uint64_t span, size_t n)
{
    pve_cache *c = make(cfg);
    ref_cache r;
    ref_init(&r, cfg);
    uint64_t stride_ptr = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = rnd();
        uint64_t addr;
        switch (x % 4) {
        case 0: addr = rnd() % 4096; break;                      /* hot */
        case 1: addr = rnd() % span; break;                      /* wide */
        case 2: addr = (stride_ptr += 72) % (span * 2); break;   /* strided, unaligned */
        default: addr = 0x7ff000000000ull + rnd() % 65536; break; /* stack-like */
        }
        uint32_t size = (x >> 8) % 16 == 0 ? 64 + (uint32_t)(rnd() % 200) : 1u << ((x >> 12) % 5);
        int w = (x >> 16) % 3 == 0;
        if ((x >> 20) % 5000 == 0) {
            int on = (int)((x >> 40) & 1);
            pve_cache_set_counting(c, on);
            r.counting = on;
        }
        unsigned d = pve_cache_access(c, addr, size, w);
        unsigned e = ref_access(&r, addr, size, w);
        if (d != e)
            fail_msg("access %zu (addr 0x%llx size %u write %d): simulator depth %u, reference %u", i,
                     (unsigned long long)addr, size, w, d, e);
    }
    pve_cache_level_stats st[PVE_CACHE_MAXLEVELS];
    pve_cache_get_stats(c, st);
    for (uint32_t k = 0; k < cfg->nlevels; k++) {
        assert_int_equal(st[k].reads, r.l[k].st.reads);
        assert_int_equal(st[k].writes, r.l[k].st.writes);
        assert_int_equal(st[k].read_misses, r.l[k].st.read_misses);
        assert_int_equal(st[k].write_misses, r.l[k].st.write_misses);
        assert_int_equal(st[k].writebacks, r.l[k].st.writebacks);
        assert_true(st[k].read_misses > 0);
    }
    ref_free(&r);
    pve_cache_free(c);
}

static void random_traces_match_reference(void **state)
{
    (void)state;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    /* power-of-two sets */
    level_set(&cfg, 0, "L1d", 4096, 64, 4);
    level_set(&cfg, 1, "L2", 32768, 64, 8);
    level_set(&cfg, 2, "L3", 262144, 64, 16);
    cross_check(&cfg, 1 << 20, 300000);
    /* non-power-of-two sets and ways, and different line sizes per level */
    pve_cache_config odd = PVE_CACHE_CONFIG_INIT;
    level_set(&odd, 0, "L1d", 64 * 12 * 5, 64, 12);
    level_set(&odd, 1, "L2", 128 * 10 * 20, 128, 10);
    level_set(&odd, 2, "L3", 128 * 16 * 48, 128, 16);
    cross_check(&odd, 1 << 20, 300000);
    /* direct-mapped over fully associative, four levels, 32-byte L1 lines */
    pve_cache_config mix = PVE_CACHE_CONFIG_INIT;
    level_set(&mix, 0, "L0", 1024, 32, 1);
    level_set(&mix, 1, "L1d", 2048, 64, 0);
    level_set(&mix, 2, "L2", 64 * 3 * 7 * 8, 64, 7);
    level_set(&mix, 3, "L3", 1 << 16, 64, 2);
    cross_check(&mix, 1 << 19, 200000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(direct_mapped_conflicts),
        cmocka_unit_test(lru_order_four_way),
        cmocka_unit_test(working_set_levels),
        cmocka_unit_test(straddling_accesses),
        cmocka_unit_test(non_power_of_two),
        cmocka_unit_test(counting_switch),
        cmocka_unit_test(cold_misses),
        cmocka_unit_test(first_touch_and_recurrence),
        cmocka_unit_test(bad_configs),
        cmocka_unit_test(random_traces_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
