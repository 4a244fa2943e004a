/* Tests for emulator/sampling.c: the SMARTS-style schedule, window
 * recording through the cache simulator, and the extrapolation math on
 * synthetic windows computed by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/sampling.h"
#include "prevision/error.h"

static pve_cache *small_cache(void)
{
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    pve_cache *c = NULL;
    cfg.nlevels = 2;
    cfg.levels[0] = (pve_cache_level_config){"L1d", 1024, 64, 2};
    cfg.levels[1] = (pve_cache_level_config){"L2", 8192, 64, 4};
    assert_int_equal(pve_cache_new(&c, &cfg), PV_OK);
    return c;
}

static pve_sampler *make(pve_cache *c, uint64_t P, uint64_t W, uint64_t U, uint64_t off)
{
    pve_sampler_options o = PVE_SAMPLER_OPTIONS_INIT;
    pve_sampler *s = NULL;
    o.period = P;
    o.warmup = W;
    o.measure = U;
    o.offset = off;
    assert_int_equal(pve_sampler_new(&s, &o, c), PV_OK);
    return s;
}

static pve_sample_phase expected_phase(uint64_t now, uint64_t P, uint64_t W, uint64_t U, uint64_t off)
{
    if (now < off)
        return PVE_SAMPLE_OFF;
    uint64_t pos = (now - off) % P;
    return pos < W ? PVE_SAMPLE_WARMUP : pos < W + U ? PVE_SAMPLE_MEASURE : PVE_SAMPLE_OFF;
}

static void schedule_unit_steps(void **state)
{
    (void)state;
    pve_cache *c = small_cache();
    pve_sampler *s = make(c, 100, 10, 20, 5);
    uint64_t switches = 0;
    pve_sample_phase prev = PVE_SAMPLE_OFF;
    for (uint64_t now = 0; now < 405; now++) {
        pve_sample_phase p = pve_sampler_step(s, now);
        assert_int_equal(p, expected_phase(now, 100, 10, 20, 5));
        assert_int_equal(pve_sampler_phase(s), p);
        assert_int_equal(pve_cache_counting(c), p == PVE_SAMPLE_MEASURE);
        if (pve_sample_hooks_on(p) != pve_sample_hooks_on(prev))
            switches++;
        prev = p;
    }
    /* Hand-computed: warm-ups at 5, 105, 205, 305; measures [15,35), [115,135)... */
    size_t n;
    const pve_window *w = pve_sampler_windows(s, &n);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(w[i].start, 15 + 100 * i);
        assert_int_equal(w[i].units, 20);
    }
    assert_int_equal(switches, 8); /* on at 5, off at 35, ... four times */
    assert_int_equal(pve_sampler_switches(s), switches);
    pve_estimate e;
    assert_int_equal(pve_sampler_finish(s, 405, 0, &e), PV_OK);
    assert_int_equal(e.nwindows, 4);
    assert_int_equal(e.measured_units, 80);
    assert_int_equal(e.total_units, 405);
    assert_int_equal(pve_cache_counting(c), 0);
    pve_sampler_free(s);
    pve_cache_free(c);
}

/* Block-sized steps: transitions happen at the first step at or after each
 * boundary, and windows have the lengths the steps give them. */
/* Jitter: from the second period on, each window starts at its own place in its period, the same in every
 * run, and has the same lengths. */
static void schedule_jitter(void **state)
{
    (void)state;
    uint64_t starts[2][10];
    for (int run = 0; run < 2; run++) {
        pve_cache *c = small_cache();
        pve_sampler_options o = PVE_SAMPLER_OPTIONS_INIT;
        o.period = 1000, o.warmup = 100, o.measure = 50, o.jitter = 1;
        pve_sampler *s = NULL;
        assert_int_equal(pve_sampler_new(&s, &o, c), PV_OK);
        uint64_t on = 0;
        for (uint64_t t = 0; t < 10000; t++)
            on += pve_sample_hooks_on(pve_sampler_step(s, t));
        assert_int_equal(on, 10 * 150);
        size_t n;
        const pve_window *w = pve_sampler_windows(s, &n);
        assert_int_equal(n, 10);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(w[i].units, 50);
            assert_true(w[i].start >= 1000 * i + 100 && w[i].start + 50 <= 1000 * (i + 1));
            starts[run][i] = w[i].start;
        }
        assert_int_equal(starts[run][0], 100); /* the first period's window opens the run */
        pve_sampler_free(s);
        pve_cache_free(c);
    }
    int moved = 0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(starts[0][i], starts[1][i]);
        moved += starts[0][i] % 1000 != 100;
    }
    assert_true(moved >= 5);
}

static void schedule_block_steps(void **state)
{
    (void)state;
    pve_cache *c = small_cache();
    pve_sampler *s = make(c, 100, 10, 20, 0);
    pve_sample_phase seen[64];
    size_t k = 0;
    for (uint64_t now = 0; now <= 301; now += 7)
        seen[k++] = pve_sampler_step(s, now);
    /* steps 0,7 warm; 14,21,28 measure (boundary 10 -> 14, 30 -> 35); 35..98 off;
     * 105 warm (boundary 100); 112..126 measure; 133 off... */
    assert_int_equal(seen[0], PVE_SAMPLE_WARMUP);
    assert_int_equal(seen[1], PVE_SAMPLE_WARMUP);
    assert_int_equal(seen[2], PVE_SAMPLE_MEASURE);
    assert_int_equal(seen[4], PVE_SAMPLE_MEASURE);
    assert_int_equal(seen[5], PVE_SAMPLE_OFF);
    assert_int_equal(seen[15], PVE_SAMPLE_WARMUP); /* 105 */
    assert_int_equal(seen[16], PVE_SAMPLE_MEASURE); /* 112 */
    size_t n;
    const pve_window *w = pve_sampler_windows(s, &n);
    assert_int_equal(n, 3);
    assert_int_equal(w[0].start, 14);
    assert_int_equal(w[0].units, 21); /* 14 -> 35 */
    assert_int_equal(w[1].start, 112);
    assert_int_equal(w[1].units, 21); /* 112 -> 133 */
    /* A big jump lands in the phase of its count; the jumped-over measure is not recorded. */
    assert_int_equal(pve_sampler_step(s, 1015), PVE_SAMPLE_MEASURE);
    assert_int_equal(pve_sampler_step(s, 1020), PVE_SAMPLE_MEASURE);
    assert_int_equal(pve_sampler_step(s, 1095), PVE_SAMPLE_OFF);
    w = pve_sampler_windows(s, &n);
    assert_int_equal(n, 4);
    assert_int_equal(w[3].start, 1015);
    assert_int_equal(w[3].units, 80);
    pve_sampler_free(s);
    pve_cache_free(c);
}

static void schedule_edges(void **state)
{
    (void)state;
    pve_cache *c = small_cache();
    /* No warm-up: OFF straight to MEASURE. */
    pve_sampler *s = make(c, 50, 0, 10, 0);
    assert_int_equal(pve_sampler_step(s, 0), PVE_SAMPLE_MEASURE);
    assert_int_equal(pve_sampler_step(s, 10), PVE_SAMPLE_OFF);
    assert_int_equal(pve_sampler_step(s, 50), PVE_SAMPLE_MEASURE);
    pve_sampler_free(s);
    /* Warm-up + measure = period: hooks never go off; measure windows end at each warm-up. */
    s = make(c, 30, 10, 20, 0);
    for (uint64_t now = 0; now < 85; now++)
        assert_true(pve_sample_hooks_on(pve_sampler_step(s, now)));
    assert_int_equal(pve_sampler_switches(s), 1);
    size_t n;
    pve_sampler_windows(s, &n);
    assert_int_equal(n, 2); /* [10,30) and [40,60); [70,..) is open */
    /* A measure window still open at the end counts with its real length. */
    pve_estimate e;
    assert_int_equal(pve_sampler_finish(s, 85, 0, &e), PV_OK);
    const pve_window *w = pve_sampler_windows(s, &n);
    assert_int_equal(n, 3);
    assert_int_equal(w[2].start, 70);
    assert_int_equal(w[2].units, 15);
    assert_int_equal(e.measured_units, 55);
    pve_sampler_free(s);
    /* Measure window back to back over a jump into the next period's measure. */
    s = make(c, 30, 0, 30, 0);
    assert_int_equal(pve_sampler_step(s, 0), PVE_SAMPLE_MEASURE);
    assert_int_equal(pve_sampler_step(s, 45), PVE_SAMPLE_MEASURE);
    pve_sampler_windows(s, &n);
    assert_int_equal(n, 1);
    pve_sampler_free(s);
    pve_cache_free(c);
}

static void bad_options(void **state)
{
    (void)state;
    pve_cache *c = small_cache();
    pve_sampler_options o = PVE_SAMPLER_OPTIONS_INIT;
    pve_sampler *s = (pve_sampler *)(uintptr_t)1;
    assert_int_equal(pve_sampler_new(&s, &o, NULL), PV_ERR_INVALID);
    assert_null(s);
    o.warmup = o.period;
    assert_int_equal(pve_sampler_new(&s, &o, c), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "exceed the period"));
    o = (pve_sampler_options)PVE_SAMPLER_OPTIONS_INIT;
    o.measure = 0;
    assert_int_equal(pve_sampler_new(&s, &o, c), PV_ERR_INVALID);
    o = (pve_sampler_options)PVE_SAMPLER_OPTIONS_INIT;
    o.period = 0;
    assert_int_equal(pve_sampler_new(&s, &o, c), PV_ERR_INVALID);
    o = (pve_sampler_options)PVE_SAMPLER_OPTIONS_INIT;
    o.version = 7;
    assert_int_equal(pve_sampler_new(&s, &o, c), PV_ERR_INVALID);
    assert_int_equal(pve_sampler_new(&s, NULL, c), PV_ERR_INVALID);
    /* The defaults are valid. */
    o = (pve_sampler_options)PVE_SAMPLER_OPTIONS_INIT;
    assert_int_equal(pve_sampler_new(&s, &o, c), PV_OK);
    pve_sampler_free(s);
    pve_sampler_free(NULL);
    pve_cache_free(c);
}

/* Windows record the cache's counts in MEASURE only. */
static void windows_count_measured_accesses(void **state)
{
    (void)state;
    pve_cache *c = small_cache();
    pve_sampler *s = make(c, 100, 10, 20, 0);
    /* One access per unit; every access misses L1 and L2 (a fresh line each time). */
    uint64_t addr = 0x100000;
    for (uint64_t now = 0; now < 300; now++) {
        pve_sampler_step(s, now);
        pve_cache_access(c, addr, 8, 0);
        addr += 4096;
    }
    pve_estimate e;
    assert_int_equal(pve_sampler_finish(s, 300, 0, &e), PV_OK);
    size_t n;
    const pve_window *w = pve_sampler_windows(s, &n);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(w[i].accesses[0], 20);
        assert_int_equal(w[i].misses[0], 20);
        assert_int_equal(w[i].accesses[1], 20);
        assert_int_equal(w[i].misses[1], 20);
    }
    pve_cache_level_stats st[PVE_CACHE_MAXLEVELS];
    pve_cache_get_stats(c, st);
    assert_int_equal(st[0].reads, 60);
    /* 300 accesses in all, one miss each: the estimate is exact here. */
    assert_true(fabs(e.level[0].accesses - 300) < 1e-9);
    assert_true(fabs(e.level[1].misses - 300) < 1e-9);
    assert_true(fabs(e.level[0].miss_rate - 1) < 1e-12);
    assert_true(fabs(e.level[0].misses_ci95) < 1e-9);
    assert_true(fabs(e.fraction - 0.2) < 1e-12);
    pve_sampler_free(s);
    pve_cache_free(c);
}

#define NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9 * (1 + fabs((double)(b))))

static pve_cache_config two_levels(void)
{
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    cfg.nlevels = 2;
    cfg.levels[0] = (pve_cache_level_config){"L1d", 48 << 10, 64, 12};
    cfg.levels[1] = (pve_cache_level_config){"L2", 1 << 20, 64, 16};
    return cfg;
}

static void extrapolation_math(void **state)
{
    (void)state;
    pve_cache_config cfg = two_levels();
    /* Four windows of 100 units, misses 10 12 8 10, accesses 50 each, run of 10000 units.
     * r = 40/400 = 0.1, estimate 1000; s^2 = (0+4+4+0)/3 = 8/3; f = 0.04;
     * SE = (10000/100) sqrt(0.96 * (8/3) / 4) = 100 * 0.8 = 80; CI = t(3) * 80 = 3.182 * 80.
     * Miss rate R = 40/200 = 0.2; residuals 0 2 -2 0: SE(R) = sqrt(0.96 * 8 / 12) / 50 = 0.016. */
    pve_window w[4];
    memset(w, 0, sizeof w);
    uint64_t m[4] = {10, 12, 8, 10};
    for (int i = 0; i < 4; i++) {
        w[i].units = 100;
        w[i].misses[0] = m[i];
        w[i].accesses[0] = 50;
        w[i].misses[1] = 1;
        w[i].accesses[1] = m[i];
    }
    pve_estimate e;
    assert_int_equal(pve_sample_estimate(w, 4, &cfg, 10000, 0, &e), PV_OK);
    assert_int_equal(e.nwindows, 4);
    assert_int_equal(e.measured_units, 400);
    NEAR(e.fraction, 0.04);
    NEAR(e.level[0].misses, 1000);
    NEAR(e.level[0].misses_ci95, 3.182 * 80);
    NEAR(e.level[0].accesses, 5000);
    NEAR(e.level[0].accesses_ci95, 0);
    NEAR(e.level[0].miss_rate, 0.2);
    NEAR(e.level[0].miss_rate_ci95, 3.182 * 0.016);
    /* Level 2: misses 1 per window (4 -> 100 estimated), rate 4/40 = 0.1;
     * residuals 1 - 0.1 m_i = 0, -0.2, 0.2, 0: SE(R) = sqrt(0.96 * 0.08 / 12) / 10 = 0.008. */
    NEAR(e.level[1].misses, 100);
    NEAR(e.level[1].misses_ci95, 0);
    NEAR(e.level[1].miss_rate, 0.1);
    NEAR(e.level[1].miss_rate_ci95, 3.182 * 0.008);

    /* Unequal lengths: the ratio estimator weighs by length. 100 units with
     * 10 misses and 50 units with 5: rate 0.1, no spread. */
    pve_window v[2];
    memset(v, 0, sizeof v);
    v[0].units = 100, v[0].misses[0] = 10, v[0].accesses[0] = 20;
    v[1].units = 50, v[1].misses[0] = 5, v[1].accesses[0] = 10;
    assert_int_equal(pve_sample_estimate(v, 2, &cfg, 3000, 0, &e), PV_OK);
    NEAR(e.level[0].misses, 300);
    NEAR(e.level[0].misses_ci95, 0);
    NEAR(e.level[0].miss_rate, 0.5);

    /* One window: estimate, no interval. */
    assert_int_equal(pve_sample_estimate(v, 1, &cfg, 1000, 0, &e), PV_OK);
    NEAR(e.level[0].misses, 100);
    assert_true(e.level[0].misses_ci95 < 0);
    assert_true(e.level[0].miss_rate_ci95 < 0);
    /* Everything measured: exact, even with one window. */
    assert_int_equal(pve_sample_estimate(v, 1, &cfg, 100, 0, &e), PV_OK);
    NEAR(e.level[0].misses, 10);
    NEAR(e.level[0].misses_ci95, 0);
    NEAR(e.level[0].miss_rate_ci95, 0);
    /* No windows. */
    assert_int_equal(pve_sample_estimate(NULL, 0, &cfg, 1000, 0, &e), PV_OK);
    NEAR(e.level[1].misses, 0);
    assert_true(e.level[1].misses_ci95 < 0);
    /* Windows longer than the run, or bad levels. */
    assert_int_equal(pve_sample_estimate(v, 2, &cfg, 100, 0, &e), PV_ERR_INVALID);
    cfg.nlevels = 0;
    assert_int_equal(pve_sample_estimate(v, 2, &cfg, 1000, 0, &e), PV_ERR_INVALID);
    cfg.nlevels = PVE_CACHE_MAXLEVELS + 1;
    assert_int_equal(pve_sample_estimate(v, 2, &cfg, 1000, 0, &e), PV_ERR_INVALID);
}

/* The cold-miss model (pve_sample_estimate_aux). Four windows of 100 units
 * in a run of 10000 (f = 0.04), each with 100000 L1 accesses and 50 misses,
 * 50 L2 accesses and 10 misses, 8 of them cold (never seen lines, which
 * miss everywhere). L1 holds 768 lines, L2 16384. Warm misses: L1 42 per
 * window -> 42 * 4 / 0.04 = 4200, L2 2 -> 200; pending (cold, not first
 * touches) 32, extrapolated by (1 - f) / f = 24 -> 768. */
static void cold_misses_weighed(void **state)
{
    (void)state;
    pve_cache_config cfg = two_levels();
    pve_window w[4];
    pve_estimate e;
    pve_sample_aux aux = {0};
    memset(w, 0, sizeof w);
    for (int i = 0; i < 4; i++) {
        w[i].units = 100;
        w[i].accesses[0] = 100000, w[i].misses[0] = 50, w[i].cold[0] = 8;
        w[i].accesses[1] = 50, w[i].misses[1] = 10, w[i].cold[1] = 8;
    }
    /* Unknown footprint: the lines seen are the 32 cold ones (F = 32), and pending lines miss (q = 1). */
    assert_int_equal(pve_sample_estimate(w, 4, &cfg, 10000, 0, &e), PV_OK);
    NEAR(e.level[1].cold_miss_prob, 1);
    NEAR(e.level[0].misses, 4200 + 32 + 768);
    NEAR(e.level[1].misses, 200 + 32 + 768);
    NEAR(e.level[1].misses_if_cold_missed, 200 + 32 + 768);
    NEAR(e.level[1].misses_if_cold_hit, 200 + 32);
    NEAR(e.level[0].accesses, 10000000);
    NEAR(e.level[1].accesses, e.level[0].misses);
    NEAR(e.level[1].miss_rate, 1000.0 / 5000);
    /* A 512 KiB footprint (128 pages, 8192 lines): F = 32 + 0.96 * (8192 - 32). It fits L2: the streamed
     * lines hit there (q = 0), not in L1 (q = 1). */
    double F = 32 + 0.96 * (8192 - 32);
    assert_int_equal(pve_sample_estimate(w, 4, &cfg, 10000, 512 << 10, &e), PV_OK);
    NEAR(e.level[1].cold_miss_prob, 0);
    NEAR(e.level[1].misses, 200 + F);
    NEAR(e.level[1].misses_if_cold_missed, 200 + F + 768);
    NEAR(e.level[1].misses_if_cold_hit, 200 + F);
    NEAR(e.level[0].cold_miss_prob, 1);
    NEAR(e.level[0].misses, 4200 + F + 768);
    NEAR(e.level[1].miss_rate, (200 + F) / (4200 + F + 768));
    /* 64 MiB (2^20 lines) fits neither. */
    F = 32 + 0.96 * (1048576 - 32);
    assert_int_equal(pve_sample_estimate(w, 4, &cfg, 10000, 64u << 20, &e), PV_OK);
    NEAR(e.level[1].cold_miss_prob, 1);
    NEAR(e.level[1].misses, 200 + F + 768);
    /* Half of the pending lines recurred in a later window: a working set of 4096 * 0.5 = 2048 lines
     * (4096 lines seen), which fits L2 (those hit: q = 0.5 * 1 + 0.5 * 0) but not L1 (q = 0.5 + 0.5 *
     * (1 - 768 / 2048)). */
    aux.footprint_bytes = 64u << 20;
    aux.lines_seen = 4096;
    aux.pending = 32;
    aux.recurred = 16;
    F = 4096 + 0.96 * (1048576 - 4096);
    assert_int_equal(pve_sample_estimate_aux(w, 4, &cfg, 10000, &aux, &e), PV_OK);
    NEAR(e.level[1].cold_miss_prob, 0.5);
    NEAR(e.level[1].misses, 200 + F + 0.5 * 768);
    NEAR(e.level[0].cold_miss_prob, 0.5 + 0.5 * (1 - 768.0 / 2048));
    /* Cold misses that were first touches are compulsory: in F, not extrapolated. */
    for (int i = 0; i < 4; i++)
        w[i].first[0] = w[i].first[1] = 8;
    assert_int_equal(pve_sample_estimate_aux(w, 4, &cfg, 10000, &aux, &e), PV_OK);
    NEAR(e.level[1].misses, 200 + F);
    NEAR(e.level[0].misses, 4200 + F);
    /* Everything measured: exact (every cold line was a first touch; F is the lines seen). */
    for (int i = 0; i < 4; i++)
        w[i].first[0] = w[i].first[1] = 0;
    assert_int_equal(pve_sample_estimate(w, 4, &cfg, 400, 512 << 10, &e), PV_OK);
    NEAR(e.level[1].misses, 40);
    NEAR(e.level[0].misses, 200);
}

/* Per-block extrapolation: each measured block is weighed by its whole-run executions. Two blocks: A
 * measured 10 times with 20 accesses and 4 L1 misses (ran 1000 times), B measured 10 times with 10 accesses
 * and 1 miss (ran 9000 times); they cover the run (block_units = T). */
static void per_block_extrapolation(void **state)
{
    (void)state;
    pve_cache_config cfg = two_levels();
    pve_window w[2];
    pve_estimate e;
    memset(w, 0, sizeof w);
    for (int i = 0; i < 2; i++) {
        w[i].units = 100;
        w[i].accesses[0] = 15, w[i].misses[0] = 2;
        w[i].accesses[1] = 2, w[i].misses[1] = 1;
    }
    pve_cache_counts a = {.dr = 20, .mr = {4, 2}, .execs = 10}, b = {.dr = 10, .mr = {1, 0}, .execs = 10};
    pve_block_sample bs[2] = {{1000, &a}, {9000, &b}};
    pve_sample_aux aux = {0};
    aux.footprint_bytes = 4096;
    aux.blocks = bs;
    aux.nblocks = 2;
    aux.block_units = 100000;
    assert_int_equal(pve_sample_estimate_aux(w, 2, &cfg, 100000, &aux, &e), PV_OK);
    NEAR(e.level[0].accesses, 1000 * 2 + 9000 * 1);
    /* plus F: one page, no line seen, f = 0.002: 0.998 * 64 */
    NEAR(e.level[0].misses, 1000 * 0.4 + 9000 * 0.1 + 0.998 * 64);
    NEAR(e.level[1].misses, 1000 * 0.2 + 0.998 * 64);
}

static void profile_figures(void **state)
{
    (void)state;
    pve_cache *c = small_cache();
    pv_cache_stats *v = NULL;
    uint32_t n = 0;
    pve_cache_access(c, 0x1000, 8, 0);
    pve_cache_access(c, 0x1000, 8, 1);
    assert_int_equal(pve_cache_stats_to_profile(c, NULL, &v, &n), PV_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "L1d");
    assert_int_equal(v[0].size, 1024);
    assert_int_equal(v[0].accesses, 2);
    assert_int_equal(v[0].misses, 1);
    assert_int_equal(v[1].accesses, 1);
    assert_true(v[1].sampled_fraction == 1 && v[1].misses_ci95 == 0);
    for (uint32_t k = 0; k < n; k++)
        free(v[k].name);
    free(v);
    pve_estimate e = {0};
    e.nlevels = 2;
    e.fraction = 0.25;
    e.level[0] = (pve_level_estimate){.accesses = 1000.4, .misses = 99.6, .misses_ci95 = 7};
    e.level[1] = (pve_level_estimate){.accesses = 99.6, .misses = 10, .misses_ci95 = -1};
    assert_int_equal(pve_cache_stats_to_profile(c, &e, &v, &n), PV_OK);
    assert_int_equal(v[0].accesses, 1000);
    assert_int_equal(v[0].misses, 100);
    assert_true(v[0].misses_ci95 == 7 && v[0].sampled_fraction == 0.25);
    assert_true(v[1].misses_ci95 < 0);
    for (uint32_t k = 0; k < n; k++)
        free(v[k].name);
    free(v);
    pve_cache_counts cc = {.dr = 3, .dw = 4, .mr = {1, 2, 3, 4}, .mw = {5, 6, 7, 8}};
    pv_block_cache bc;
    pve_cache_counts_to_profile(&cc, &bc);
    assert_int_equal(bc.dw, 4);
    assert_int_equal(bc.mr[3], 4);
    assert_int_equal(bc.mw[0], 5);
    pve_cache_free(c);
}

static void t_quantiles(void **state)
{
    (void)state;
    NEAR(pve_t975(1), 12.706);
    NEAR(pve_t975(10), 2.228);
    NEAR(pve_t975(30), 2.042);
    assert_true(fabs(pve_t975(40) - 2.021) < 0.003);
    assert_true(fabs(pve_t975(120) - 1.980) < 0.003);
    assert_true(fabs(pve_t975(1000000) - 1.960) < 0.001);
    assert_true(isinf(pve_t975(0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule_unit_steps),
        cmocka_unit_test(schedule_block_steps),
        cmocka_unit_test(schedule_edges),
        cmocka_unit_test(bad_options),
        cmocka_unit_test(windows_count_measured_accesses),
        cmocka_unit_test(extrapolation_math),
        cmocka_unit_test(schedule_jitter),
        cmocka_unit_test(cold_misses_weighed),
        cmocka_unit_test(per_block_extrapolation),
        cmocka_unit_test(profile_figures),
        cmocka_unit_test(t_quantiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
